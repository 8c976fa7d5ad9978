//! config.json: the BERT dimensions the forward pass is built from, refused when the model
//! needs something this engine does not implement.

use super::error::ModelError;
use super::vector::EMBEDDING_DIM;
use std::path::Path;

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct BertConfig {
    pub vocab_size: usize,
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub intermediate: usize,
    pub max_positions: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f32,
}

impl BertConfig {
    pub(super) fn from_file(path: &Path) -> Result<BertConfig, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
        BertConfig::from_json(&text).map_err(|problem| ModelError::invalid(path, problem))
    }

    fn from_json(text: &str) -> Result<BertConfig, String> {
        let root: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let size = |key: &str| {
            root[key]
                .as_u64()
                .filter(|&n| n > 0)
                .map(|n| n as usize)
                .ok_or_else(|| format!("{key} is missing or not a positive integer"))
        };
        let config = BertConfig {
            vocab_size: size("vocab_size")?,
            hidden: size("hidden_size")?,
            layers: size("num_hidden_layers")?,
            heads: size("num_attention_heads")?,
            intermediate: size("intermediate_size")?,
            max_positions: size("max_position_embeddings")?,
            type_vocab_size: size("type_vocab_size")?,
            layer_norm_eps: root["layer_norm_eps"].as_f64().unwrap_or(1e-12) as f32,
        };
        let text_field = |key: &str, default: &str| {
            root[key]
                .as_str()
                .map_or(default.to_string(), str::to_string)
        };
        if root["model_type"].as_str() != Some("bert") {
            return Err(format!(
                "model_type is {}, expected \"bert\"",
                root["model_type"]
            ));
        }
        let activation = text_field("hidden_act", "gelu");
        if activation != "gelu" {
            return Err(format!(
                "hidden_act {activation:?} is not supported (only gelu)"
            ));
        }
        let positions = text_field("position_embedding_type", "absolute");
        if positions != "absolute" {
            return Err(format!(
                "position_embedding_type {positions:?} is not supported (only absolute)"
            ));
        }
        if config.hidden != EMBEDDING_DIM {
            return Err(format!(
                "hidden_size {} is not supported: this engine produces {EMBEDDING_DIM}-dim vectors",
                config.hidden
            ));
        }
        if !config.hidden.is_multiple_of(config.heads) {
            return Err(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                config.hidden, config.heads
            ));
        }
        Ok(config)
    }

    pub(super) fn head_dim(&self) -> usize {
        self.hidden / self.heads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINILM: &str = r#"{"model_type": "bert", "hidden_act": "gelu", "hidden_size": 384,
        "intermediate_size": 1536, "layer_norm_eps": 1e-12, "max_position_embeddings": 512,
        "num_attention_heads": 12, "num_hidden_layers": 6, "type_vocab_size": 2,
        "vocab_size": 30522, "position_embedding_type": "absolute"}"#;

    #[test]
    fn reads_the_minilm_dimensions() {
        let config = BertConfig::from_json(MINILM).expect("valid config");
        assert_eq!(
            (config.layers, config.heads, config.head_dim()),
            (6, 12, 32)
        );
        assert_eq!((config.intermediate, config.vocab_size), (1536, 30522));
    }

    #[test]
    fn refuses_what_the_forward_pass_does_not_implement() {
        let relu = MINILM.replace("\"gelu\"", "\"relu\"");
        assert!(BertConfig::from_json(&relu)
            .err()
            .is_some_and(|e| e.contains("relu")));
        let wide = MINILM.replace("384", "768");
        assert!(BertConfig::from_json(&wide).is_err());
        let no_layers = MINILM.replace("\"num_hidden_layers\": 6,", "");
        assert!(BertConfig::from_json(&no_layers)
            .err()
            .is_some_and(|e| e.contains("num_hidden_layers")));
    }
}
