//! WordPiece tokenizer read from tokenizer.json's vocabulary: words from `basic_tokenizer`,
//! split greedily into the longest vocabulary pieces, wrapped in [CLS] … [SEP].

use super::basic_tokenizer::{normalize, split_words};
use super::error::ModelError;
use std::collections::HashMap;
use std::path::Path;

/// Token ids as the model's embedding table indexes them.
pub type TokenId = u32;

/// The part of tokenizer.json this tokenizer reads (the rest, normalizer and pre-tokenizer
/// settings included, is what `basic_tokenizer` implements for BERT uncased).
#[derive(serde::Deserialize)]
struct TokenizerFile {
    model: WordPieceModel,
}

#[derive(serde::Deserialize)]
struct WordPieceModel {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    vocab: HashMap<String, TokenId>,
    unk_token: Option<String>,
    continuing_subword_prefix: Option<String>,
    max_input_chars_per_word: Option<usize>,
}

#[derive(Debug)]
pub struct Tokenizer {
    vocab: HashMap<String, TokenId>,
    unk: TokenId,
    cls: TokenId,
    sep: TokenId,
    continuation_prefix: String,
    /// Longer words are [UNK] without trying (the reference does the same, for speed).
    max_chars_per_word: usize,
}

impl Tokenizer {
    /// Reads the WordPiece vocabulary and its settings from a Hugging Face tokenizer.json.
    pub fn from_file(path: &Path) -> Result<Tokenizer, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
        Tokenizer::from_json(&text).map_err(|problem| ModelError::invalid(path, problem))
    }

    fn from_json(text: &str) -> Result<Tokenizer, String> {
        let file: TokenizerFile =
            serde_json::from_str(text).map_err(|e| format!("not a tokenizer file: {e}"))?;
        let model = file.model;
        if model.kind != "WordPiece" {
            return Err(format!(
                "model.type is {:?}, only WordPiece is supported",
                model.kind
            ));
        }
        let vocab = model.vocab;
        let id_of = |token: &str| {
            vocab
                .get(token)
                .copied()
                .ok_or_else(|| format!("the vocabulary has no {token} token"))
        };
        Ok(Tokenizer {
            unk: id_of(model.unk_token.as_deref().unwrap_or("[UNK]"))?,
            cls: id_of("[CLS]")?,
            sep: id_of("[SEP]")?,
            continuation_prefix: model
                .continuing_subword_prefix
                .unwrap_or_else(|| "##".to_string()),
            max_chars_per_word: model.max_input_chars_per_word.unwrap_or(100),
            vocab,
        })
    }

    /// Number of entries in the vocabulary (the embedding table must have as many rows).
    pub fn vocab_size(&self) -> usize {
        self.vocab.len()
    }

    /// The vocabulary entry of `id` (a linear scan: for tests and diagnostics).
    pub fn token_of(&self, id: TokenId) -> Option<&str> {
        self.vocab
            .iter()
            .find_map(|(token, &t)| (t == id).then_some(token.as_str()))
    }

    /// The largest id in the vocabulary (what the embedding table must cover).
    pub(crate) fn max_id(&self) -> TokenId {
        self.vocab.values().copied().max().unwrap_or(0)
    }

    /// The model's input for `text`: [CLS], the word pieces, [SEP], at most `max_tokens`
    /// ids in all (pieces past the limit are dropped; [SEP] always ends the sequence).
    pub fn encode(&self, text: &str, max_tokens: usize) -> Vec<TokenId> {
        let budget = max_tokens.saturating_sub(2);
        let mut ids = Vec::with_capacity(budget.min(64) + 2);
        ids.push(self.cls);
        let mut pieces = self.word_pieces(text);
        pieces.truncate(budget);
        ids.extend(pieces);
        ids.push(self.sep);
        ids
    }

    /// The word pieces of `text` without [CLS]/[SEP] and without truncation.
    pub fn word_pieces(&self, text: &str) -> Vec<TokenId> {
        let normalized = normalize(text);
        let mut ids = Vec::new();
        let mut candidate = String::new();
        for word in split_words(&normalized) {
            self.push_word(word, &mut ids, &mut candidate);
        }
        ids
    }

    /// Greedy longest-match-first: at each position take the longest vocabulary entry
    /// (prefixed "##" after the first piece); if some position matches nothing, the whole
    /// word is one [UNK]. `candidate` is a reused scratch buffer.
    fn push_word(&self, word: &str, ids: &mut Vec<TokenId>, candidate: &mut String) {
        let boundaries: Vec<usize> = word
            .char_indices()
            .map(|(at, _)| at)
            .chain(std::iter::once(word.len()))
            .collect();
        let char_count = boundaries.len() - 1;
        if char_count > self.max_chars_per_word {
            ids.push(self.unk);
            return;
        }
        let first_piece = ids.len();
        let mut start = 0;
        while start < char_count {
            let mut found = None;
            for end in (start + 1..=char_count).rev() {
                candidate.clear();
                if start > 0 {
                    candidate.push_str(&self.continuation_prefix);
                }
                candidate.push_str(&word[boundaries[start]..boundaries[end]]);
                if let Some(&id) = self.vocab.get(candidate.as_str()) {
                    found = Some((id, end));
                    break;
                }
            }
            match found {
                Some((id, end)) => {
                    ids.push(id);
                    start = end;
                }
                None => {
                    ids.truncate(first_piece);
                    ids.push(self.unk);
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny vocabulary in tokenizer.json's shape, enough to exercise the algorithm without
    /// the real model (the real vocabulary is checked in `embedder_tests`).
    fn tiny() -> Tokenizer {
        let json = r###"{"model": {"type": "WordPiece", "unk_token": "[UNK]",
            "continuing_subword_prefix": "##", "max_input_chars_per_word": 10,
            "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "un": 4, "##aff": 5,
                      "##able": 6, "aff": 7, "!": 8, "run": 9, "##ning": 10, "##n": 11}}}"###;
        Tokenizer::from_json(json).expect("tiny vocabulary")
    }

    #[test]
    fn longest_match_first_with_continuation_pieces() {
        let t = tiny();
        assert_eq!(t.word_pieces("unaffable"), [4, 5, 6]);
        assert_eq!(t.word_pieces("Running!"), [9, 10, 8]);
    }

    #[test]
    fn a_word_with_an_unmatched_part_or_too_long_is_one_unk() {
        let t = tiny();
        assert_eq!(t.word_pieces("unaffablex run"), [1, 9]);
        assert_eq!(t.word_pieces("xyz"), [1]);
        assert_eq!(t.word_pieces("runnnnnnnnn"), [1], "11 chars > 10");
    }

    #[test]
    fn encode_wraps_in_cls_sep_and_truncates_pieces_not_sep() {
        let t = tiny();
        assert_eq!(t.encode("unaffable", 128), [2, 4, 5, 6, 3]);
        assert_eq!(t.encode("unaffable", 4), [2, 4, 5, 3]);
        assert_eq!(t.encode("", 128), [2, 3]);
    }

    #[test]
    fn malformed_tokenizer_json_is_an_error_not_a_panic() {
        assert!(Tokenizer::from_json("{").is_err());
        assert!(Tokenizer::from_json(r#"{"model": {"type": "BPE"}}"#).is_err());
        let no_cls = r#"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}}"#;
        let err = Tokenizer::from_json(no_cls).err().unwrap_or_default();
        assert!(err.contains("[CLS]"), "{err}");
    }
}
