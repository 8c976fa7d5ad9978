//! A sighting made ready for the store: its canonical URL and story id, the clean link a
//! reader follows, and its summary.

use super::canonical_url::{canonical_url, clean_url, UrlError};
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
    pub sighting: Sighting,
}

impl Candidate {
    /// Normalizes one sighting; fails only when its URL is unusable.
    pub fn from_sighting(sighting: Sighting, summary_words: usize) -> Result<Candidate, UrlError> {
        let canonical = canonical_url(&sighting.url)?;
        let clean = clean_url(&sighting.url)?;
        let summary = summarize(&sighting.text, summary_words);
        Ok(Candidate {
            id: StoryId::from_canonical_url(&canonical),
            canonical_url: canonical,
            clean_url: clean,
            summary,
            sighting,
        })
    }
}
