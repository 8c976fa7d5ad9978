//! Normalization: canonical URLs and story ids, text out of markup, titles and summaries.
//! Pure functions; no knowledge of sites or formats.

pub mod article_text;
pub mod boilerplate;
pub mod candidate;
pub mod canonical_url;
pub mod extractive;
pub mod sanitize;
pub mod summary;
pub mod text;
pub mod tracking;

pub use candidate::Candidate;
pub use canonical_url::{canonical_url, clean_url, parse_http_url, UrlError};
pub use summary::{summarize, DEFAULT_SUMMARY_WORDS};
pub use text::{clean_title, collapse_whitespace, html_to_text, tokenize};
