//! Validation of `[topic.about]` (the semantic rule) and of `[defaults] model_dir`. The
//! phrases get their embeddings later, when the config is made live (`topics::semantic`).

use super::Checker;
use crate::config::raw::{RawAbout, RawNumber};
use crate::select::about::{AboutPhrase, AboutRule, DEFAULT_THRESHOLD};
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The rule before its default weight is known (it is the topic's `min_relevance`).
pub(super) struct ValidAbout {
    phrases: Vec<AboutPhrase>,
    threshold: f32,
    weight: Option<f64>,
}

impl ValidAbout {
    pub(super) fn into_rule(self, min_relevance: f64) -> AboutRule {
        AboutRule {
            phrases: self.phrases,
            threshold: self.threshold,
            weight: self.weight.unwrap_or(min_relevance),
        }
    }
}

pub(super) fn validate_about(c: &mut Checker, a: &Spanned<RawAbout>, key: &str) -> ValidAbout {
    let raw = a.get_ref();
    let mut phrases = Vec::new();
    for (list, name) in [(&raw.phrases, "phrases"), (&raw.examples, "examples")] {
        for p in list.iter().flat_map(|l| l.get_ref()) {
            let text = p.get_ref().trim();
            if text.is_empty() {
                c.error(p.span(), format!("{key}.{name}"), "must not be empty");
                continue;
            }
            let is_url =
                name == "examples" && (text.starts_with("http://") || text.starts_with("https://"));
            phrases.push(AboutPhrase {
                text: text.to_string(),
                is_url,
                vector: None,
            });
        }
    }
    if phrases.is_empty() {
        c.error(
            a.span(),
            key,
            "needs at least one of `phrases` or `examples`",
        );
    }
    let threshold = match &raw.threshold {
        None => DEFAULT_THRESHOLD,
        Some(v) => {
            let n = v.get_ref().as_f64();
            if (-1.0..=1.0).contains(&n) {
                n as f32
            } else {
                c.error(
                    v.span(),
                    format!("{key}.threshold"),
                    format!("{n} must be a cosine similarity between -1 and 1"),
                );
                DEFAULT_THRESHOLD
            }
        }
    };
    let weight = raw.weight.as_ref().and_then(|v| weight(c, v, key));
    ValidAbout {
        phrases,
        threshold,
        weight,
    }
}

fn weight(c: &mut Checker, v: &Spanned<RawNumber>, key: &str) -> Option<f64> {
    let n = v.get_ref().as_f64();
    if n.is_finite() && n >= 0.0 {
        Some(n)
    } else {
        c.error(
            v.span(),
            format!("{key}.weight"),
            format!("{n} must be a number of at least 0"),
        );
        None
    }
}

/// `model_dir`, relative to the config file's directory; `None` when unset.
pub(super) fn model_dir(
    c: &mut Checker,
    v: &Option<Spanned<String>>,
    config_dir: &Path,
) -> Option<PathBuf> {
    let v = v.as_ref()?;
    if v.get_ref().trim().is_empty() {
        c.error(v.span(), "defaults.model_dir", "must not be empty");
        return None;
    }
    Some(config_dir.join(v.get_ref()))
}
