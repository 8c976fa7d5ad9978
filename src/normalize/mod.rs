//! Normalization: canonical URLs and story ids, text out of markup, titles and summaries.
//! Pure functions; no knowledge of sites or formats.

pub(crate) mod article_text;
pub(crate) mod boilerplate;
pub(crate) mod bounds;
pub(crate) mod candidate;
pub(crate) mod canonical_url;
pub(crate) mod clean;
pub(crate) mod extractive;
pub(crate) mod sanitize;
pub(crate) mod summary;
pub(crate) mod text;
pub(crate) mod tracking;

pub use candidate::Candidate;
pub use canonical_url::{canonical_url, clean_url, parse_http_url, UrlError};
pub use summary::{summarize, DEFAULT_SUMMARY_WORDS};
pub use text::{clean_title, collapse_whitespace, html_to_text, tokenize};
