//! Local sentence embeddings with all-MiniLM-L6-v2, in-process and pure Rust: text to a
//! 384-dim unit vector (WordPiece tokens, BERT forward pass, mean pooling), for similarity.

/// BERT's cleaning, accent stripping, lowercasing and word splitting.
mod basic_tokenizer;
/// The forward pass.
mod bert;
/// config.json: the model's dimensions.
mod config;
mod error;
/// The matrix product (matrixmultiply's sgemm, one thread).
mod matmul;
/// Where the files live, their expected hash, status, download.
pub mod model_files;
/// Word pieces from tokenizer.json's vocabulary.
mod tokenizer;
/// `Embedding`, cosine, the 8-bit `QuantizedEmbedding` for storage.
mod vector;
/// model.safetensors, memory-mapped.
mod weights;

#[cfg(test)]
mod embedder_tests;

pub use error::ModelError;
pub use tokenizer::{TokenId, Tokenizer};
pub use vector::{cosine, Embedding, QuantizedEmbedding, EMBEDDING_DIM};

use bert::Bert;
use config::BertConfig;
use std::path::Path;

/// Tokens per text, [CLS] and [SEP] included, unless `with_max_tokens` says otherwise:
/// enough for a title and the start of a summary.
pub const DEFAULT_MAX_TOKENS: usize = 128;

/// Stacked tokens per forward pass in `embed_batch`: large enough that the dense layers
/// are big matrix products, small enough to bound the scratch memory (~25 MB).
const BATCH_TOKENS: usize = 2048;

/// A loaded model: the tokenizer and the forward pass over the memory-mapped weights.
/// Read-only after `load`, so one `Embedder` can serve many threads.
pub struct Embedder {
    tokenizer: Tokenizer,
    bert: Bert,
    max_tokens: usize,
}

impl Embedder {
    /// Loads config.json, tokenizer.json and model.safetensors from `dir`, checking that the
    /// three agree and that every tensor is present with its shape. The weights' sha256 is
    /// not checked here (it reads all 90 MB): see `model_files::verify`.
    pub fn load(dir: &Path) -> Result<Embedder, ModelError> {
        // Cheapest first, so that a damaged directory fails fast: the config, then the
        // weights' header (mapped, not read), then the 30k-entry vocabulary.
        let config = BertConfig::from_file(&dir.join(model_files::CONFIG_FILE))?;
        let bert = Bert::load(config, &dir.join(model_files::WEIGHTS_FILE))?;
        let tokenizer_path = dir.join(model_files::TOKENIZER_FILE);
        let tokenizer = Tokenizer::from_file(&tokenizer_path)?;
        let vocab_size = bert.config().vocab_size;
        if tokenizer.max_id() as usize >= vocab_size {
            return Err(ModelError::invalid(
                &tokenizer_path,
                format!(
                    "token id {} is past the model's vocab_size {vocab_size} (tokenizer and model differ)",
                    tokenizer.max_id()
                ),
            ));
        }
        Ok(Embedder {
            tokenizer,
            bert,
            max_tokens: DEFAULT_MAX_TOKENS,
        })
    }

    /// Changes the token limit per text, within 2 ([CLS] and [SEP]) and the model's 512
    /// positions. Longer limits cost quadratically more in attention.
    pub fn with_max_tokens(mut self, max_tokens: usize) -> Embedder {
        self.max_tokens = max_tokens.clamp(2, self.bert.config().max_positions);
        self
    }

    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The model input for `text`: [CLS], word pieces, [SEP], at most `max_tokens`.
    pub fn token_ids(&self, text: &str) -> Vec<TokenId> {
        self.tokenizer.encode(text, self.max_tokens)
    }

    pub fn embed(&self, text: &str) -> Embedding {
        let ids = self.token_ids(text);
        self.bert.embed(&[&ids]).remove(0)
    }

    /// One embedding per text, in order; equal to `embed` on each (up to float rounding),
    /// faster for many short texts because their tokens share each matrix product.
    pub fn embed_batch(&self, texts: &[&str]) -> Vec<Embedding> {
        let encoded: Vec<Vec<TokenId>> = texts.iter().map(|t| self.token_ids(t)).collect();
        let mut out = Vec::with_capacity(texts.len());
        let mut batch: Vec<&[TokenId]> = Vec::new();
        let mut batch_tokens = 0;
        for ids in &encoded {
            if !batch.is_empty() && batch_tokens + ids.len() > BATCH_TOKENS {
                out.extend(self.bert.embed(&batch));
                batch.clear();
                batch_tokens = 0;
            }
            batch.push(ids);
            batch_tokens += ids.len();
        }
        if !batch.is_empty() {
            out.extend(self.bert.embed(&batch));
        }
        out
    }
}
