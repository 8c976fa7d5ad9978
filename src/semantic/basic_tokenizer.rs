//! BERT's "basic tokenizer" for the uncased model: clean the text, space out CJK ideographs,
//! strip accents, lowercase, then split into words at whitespace and around punctuation.
//! It follows the `BertNormalizer` + `BertPreTokenizer` stages that tokenizer.json names.

use unicode_general_category::{get_general_category, GeneralCategory};
use unicode_normalization::UnicodeNormalization;

/// The text as the WordPiece stage sees it: control and format characters dropped, every
/// whitespace character a plain space, each CJK ideograph a word of its own, accents
/// stripped (NFD, then nonspacing marks dropped) and lowercased.
pub(crate) fn normalize(text: &str) -> String {
    let mut cleaned = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\0' || c == '\u{FFFD}' || is_control(c) {
            continue;
        }
        if is_whitespace(c) {
            cleaned.push(' ');
        } else if is_cjk_ideograph(c) {
            cleaned.push(' ');
            cleaned.push(c);
            cleaned.push(' ');
        } else {
            cleaned.push(c);
        }
    }
    let mut out = String::with_capacity(cleaned.len());
    for c in cleaned.nfd() {
        if get_general_category(c) != GeneralCategory::NonspacingMark {
            // Per character, as the reference does (so a final 'Σ' becomes 'σ', not 'ς').
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Splits normalized text into words: runs of non-space, non-punctuation characters, and
/// every punctuation character alone ("c++" is three words: "c", "+", "+").
pub(crate) fn split_words(normalized: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut word_start: Option<usize> = None;
    for (at, c) in normalized.char_indices() {
        let space = c.is_whitespace();
        if space || is_punctuation(c) {
            if let Some(start) = word_start.take() {
                words.push(&normalized[start..at]);
            }
            if !space {
                words.push(&normalized[at..at + c.len_utf8()]);
            }
        } else if word_start.is_none() {
            word_start = Some(at);
        }
    }
    if let Some(start) = word_start {
        words.push(&normalized[start..]);
    }
    words
}

/// Tab, newline and carriage return are whitespace to BERT, not control characters.
fn is_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

/// Control (Cc), format (Cf) and private-use (Co) characters, except tab, newline and
/// carriage return. Unassigned code points (Cn) are kept, as the reference implementation
/// keeps them (they end up in an [UNK] word).
fn is_control(c: char) -> bool {
    if matches!(c, '\t' | '\n' | '\r') {
        return false;
    }
    matches!(
        get_general_category(c),
        GeneralCategory::Control | GeneralCategory::Format | GeneralCategory::PrivateUse
    )
}

/// BERT's punctuation: all ASCII non-alphanumeric printable characters (so `$`, `+`, `^`
/// count, though Unicode calls them symbols) and every Unicode punctuation category.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(
            get_general_category(c),
            GeneralCategory::ConnectorPunctuation
                | GeneralCategory::DashPunctuation
                | GeneralCategory::OpenPunctuation
                | GeneralCategory::ClosePunctuation
                | GeneralCategory::InitialPunctuation
                | GeneralCategory::FinalPunctuation
                | GeneralCategory::OtherPunctuation
        )
}

/// The CJK Unified Ideographs blocks BERT spaces out. Hiragana, katakana and hangul are not
/// in them: those stay words of several characters.
fn is_cjk_ideograph(c: char) -> bool {
    matches!(
        u32::from(c),
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0x20000..=0x2A6DF
            | 0x2A700..=0x2B73F
            | 0x2B740..=0x2B81F
            | 0x2B820..=0x2CEAF
            | 0xF900..=0xFAFF
            | 0x2F800..=0x2FA1F
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        split_words(&normalize(text))
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn lowercases_strips_accents_and_splits_punctuation() {
        assert_eq!(words("Héllo, Wörld!"), ["hello", ",", "world", "!"]);
        assert_eq!(words("C++ & Rust"), ["c", "+", "+", "&", "rust"]);
        assert_eq!(words("Ünïcödé—dash"), ["unicode", "—", "dash"]);
    }

    #[test]
    fn drops_control_and_format_characters_and_unifies_whitespace() {
        assert_eq!(words("zero\u{200B}width\u{00AD}x"), ["zerowidthx"]);
        assert_eq!(words("a\tb\nc\r\nd\u{3000}e"), ["a", "b", "c", "d", "e"]);
        assert_eq!(words("bell\u{7}\u{0}here"), ["bellhere"]);
    }

    #[test]
    fn cjk_ideographs_are_words_of_their_own_but_kana_is_not() {
        assert_eq!(words("我爱Rust"), ["我", "爱", "rust"]);
        assert_eq!(words("カタカナ"), ["カタカナ"]);
    }

    #[test]
    fn empty_and_blank_text_has_no_words() {
        assert!(words("").is_empty());
        assert!(words(" \t\n ").is_empty());
    }
}
