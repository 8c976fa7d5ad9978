//! A sighting made ready for the store: its canonical URL and story id, the clean link a
//! reader follows, and its summary.

use super::bounds::{bound_sighting, cut_long_words};
use super::canonical_url::{canonical_url, clean_url, UrlError};
use super::sanitize::sanitize_html;
use super::summary::summarize;
use crate::model::{Sighting, StoryId};

/// A sighting with everything normalization derived from it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: StoryId,
    pub canonical_url: String,
    /// The reader-facing link (tracking parameters removed).
    pub clean_url: String,
    pub summary: String,
    /// The source's HTML body, sanitized (links resolved against the article URL).
    pub content_html: Option<String>,
    pub sighting: Sighting,
}

impl Candidate {
    /// Normalizes one sighting; fails only when its URL is unusable. The source's HTML is
    /// sanitized and kept only with `keep_html` (a full-content topic reads this source):
    /// sanitizing is the costliest step of ingest.
    pub fn from_sighting(
        mut sighting: Sighting,
        summary_words: usize,
        keep_html: bool,
    ) -> Result<Candidate, UrlError> {
        let canonical = canonical_url(&sighting.url)?;
        let clean = clean_url(&sighting.url)?;
        bound_sighting(&mut sighting);
        let summary = cut_long_words(&summarize(&sighting.text, summary_words));
        let base = super::parse_http_url(&sighting.url, None)?;
        let content_html = sighting
            .html
            .as_deref()
            .filter(|_| keep_html)
            .and_then(|h| sanitize_html(h, &base));
        Ok(Candidate {
            id: StoryId::from_canonical_url(&canonical),
            canonical_url: canonical,
            clean_url: clean,
            summary,
            content_html,
            sighting,
        })
    }
}
