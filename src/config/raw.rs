//! The feeds.toml schema as written: serde structs that reject unknown keys and keep the
//! span of every value, so validation can point at file:line:col.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub defaults: RawDefaults,
    #[serde(default, rename = "source")]
    pub sources: Vec<Spanned<RawSource>>,
    #[serde(default, rename = "topic")]
    pub topics: Vec<Spanned<RawTopic>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    pub listen: Option<Spanned<String>>,
    pub base_url: Option<Spanned<String>>,
    pub data_dir: Option<Spanned<String>>,
    pub header_timeout: Option<Spanned<String>>,
    pub max_connections: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDefaults {
    pub poll: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub max_body: Option<Spanned<RawSize>>,
    pub user_agent: Option<Spanned<String>>,
    pub summary_words: Option<Spanned<i64>>,
}

/// A size is written as "15MiB" or as a plain number of bytes.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawSize {
    Bytes(i64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    pub id: Spanned<String>,
    pub kind: Spanned<String>,
    pub url: Option<Spanned<String>>,
    pub poll: Option<Spanned<String>>,
    /// Display name override (feeds default to their id).
    pub name: Option<Spanned<String>>,
    // Site-specific keys; validation rejects them on kinds they do not apply to.
    pub subreddit: Option<Spanned<String>>,
    pub listing: Option<Spanned<String>>,
    pub period: Option<Spanned<String>>,
    pub include_nsfw: Option<Spanned<bool>>,
    pub tag: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTopic {
    pub slug: Spanned<String>,
    pub title: Spanned<String>,
    pub description: Option<Spanned<String>>,
    pub sources: Option<Spanned<Vec<Spanned<String>>>>,
    pub window: Option<Spanned<String>>,
    pub limit: Option<Spanned<i64>>,
    pub sort: Option<Spanned<String>>,
    pub min_relevance: Option<Spanned<RawNumber>>,
    #[serde(default)]
    pub keywords: BTreeMap<String, Spanned<RawNumber>>,
    #[serde(default)]
    pub exclude: RawExclude,
    pub min_points: Option<Spanned<RawMinPoints>>,
    pub min_comments: Option<Spanned<i64>>,
    pub summaries: Option<Spanned<String>>,
    pub content: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExclude {
    #[serde(default)]
    pub terms: Vec<Spanned<String>>,
}

/// Weights and thresholds may be integers or decimals.
#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(untagged)]
pub(super) enum RawNumber {
    Int(i64),
    Float(f64),
}

impl RawNumber {
    pub(super) fn as_f64(self) -> f64 {
        match self {
            RawNumber::Int(i) => i as f64,
            RawNumber::Float(f) => f,
        }
    }
}

/// `min_points = 50` (every site) or `[topic.min_points] hackernews = 100`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawMinPoints {
    All(i64),
    PerSite(BTreeMap<String, i64>),
}
