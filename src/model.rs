//! The owned data model: a `Sighting` (one story seen on one site) and a `Story`
//! (the merged record, one per canonical article URL). Only source adapters build
//! sightings; only the store merges them into stories.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Stable id of a story: the first 16 bytes of SHA-256 over its canonical URL.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StoryId(pub [u8; 16]);

impl StoryId {
    pub fn from_canonical_url(canonical: &str) -> StoryId {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(canonical.as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        StoryId(bytes)
    }

    pub fn to_hex(self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A `urn:uuid:` form usable as RSS guid, Atom id and JSON Feed id: a UUID
    /// (version 8, "custom") whose bits come from the story id, so it never changes.
    pub fn to_urn(self) -> String {
        let mut b = self.0;
        b[6] = (b[6] & 0x0f) | 0x80;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "urn:uuid:{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

impl fmt::Debug for StoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoryId({})", self.to_hex())
    }
}

/// One story as one site presented it, straight out of a source adapter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sighting {
    /// Id of the configured source that reported it.
    pub source: String,
    /// Where it was seen: `feed:<source id>` for feeds, or a site key such as
    /// `hackernews` or `reddit:/r/programming`. One story keeps one sighting per site.
    pub site: String,
    /// Human name of the site, e.g. "Hacker News" or "/r/programming".
    pub site_name: String,
    /// The site's own id for the item, when it has one.
    pub item_id: Option<String>,
    /// The article URL as the site gave it (before canonicalization).
    pub url: String,
    pub title: String,
    /// Plain text describing the item (already stripped of markup).
    pub text: String,
    /// The item's body as the source gave it in HTML, if it did (sanitized later, never
    /// output as is).
    #[serde(default)]
    pub html: Option<String>,
    pub author: Option<String>,
    pub tags: Vec<String>,
    pub points: Option<i64>,
    pub comments: Option<i64>,
    pub discussion_url: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub fetched_at: DateTime<Utc>,
    /// The discussion page is the article itself (Ask HN, Reddit self posts).
    #[serde(default)]
    pub is_self_post: bool,
}

/// A sighting as kept inside a story: the latest figures from one site.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredSighting {
    pub site: String,
    pub site_name: String,
    pub item_id: Option<String>,
    pub points: Option<i64>,
    pub comments: Option<i64>,
    pub discussion_url: Option<String>,
    pub first_seen: DateTime<Utc>,
}

impl StoredSighting {
    /// The kind of site (`hackernews`, `reddit`, `lobsters`, `devto`, `feed`): the key
    /// per-site rules such as `min_points` use.
    pub fn kind(&self) -> &str {
        site_kind(&self.site)
    }
}

/// The kind part of a site key: `reddit:/r/rust` -> `reddit`.
pub fn site_kind(site: &str) -> &str {
    site.split(':').next().unwrap_or(site)
}

/// The merged record for one article.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Story {
    pub id: StoryId,
    pub canonical_url: String,
    /// The link readers follow: the first-seen article URL without tracking parameters.
    pub url: String,
    pub title: String,
    pub summary: String,
    /// The source's own body, sanitized with an allow-list (for topics with full content).
    #[serde(default)]
    pub content_html: Option<String>,
    pub author: Option<String>,
    /// Earliest publication time over all sightings (or first fetch when none had one).
    pub published: DateTime<Utc>,
    /// Last time anything about the story changed (title, summary, points, sightings).
    pub updated: DateTime<Utc>,
    /// Last time its text changed (title or summary) after it was first stored: what feed
    /// readers call an update of the entry. Points changing is not one.
    #[serde(default)]
    pub revised: Option<DateTime<Utc>>,
    pub tags: Vec<String>,
    /// Ids of the configured sources that reported the story (topics filter on these).
    pub sources: Vec<String>,
    pub sightings: Vec<StoredSighting>,
    /// What its article page said, once fetched (link posts of topics that read articles).
    #[serde(default)]
    pub article: Option<Article>,
    /// Its sentence embedding, for topics with `[topic.about]`: computed off the ingest path
    /// from `embedding_text`, kept with the hash of that text.
    #[serde(default)]
    pub embedding: Option<StoredEmbedding>,
    /// The language model's summary, for topics with `summaries = "llm"` (other topics keep
    /// showing `summary`).
    #[serde(default)]
    pub llm_summary: Option<LlmSummary>,
}

/// A summary written by the configured language model: shown instead of the extractive
/// `summary` in the topics that opted in. `input_hash` covers the text sent, the prompt and
/// the model, so the same input is never summarized twice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmSummary {
    pub text: String,
    pub model: String,
    pub input_hash: u64,
    pub made_at: DateTime<Utc>,
}

/// A story's sentence embedding as stored: the 8-bit quantized vector (384 bytes, see
/// `semantic::QuantizedEmbedding`) and the hash of the text it was computed from.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEmbedding {
    pub text_hash: u64,
    pub vector: Vec<u8>,
}

impl fmt::Debug for StoredEmbedding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "StoredEmbedding({:016x}, {} bytes)",
            self.text_hash,
            self.vector.len()
        )
    }
}

/// What a story's article page said, kept compact: enough to judge what it is about.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Article {
    /// The first few hundred words of the page's main text (or its description).
    pub excerpt: String,
}

/// What unit tests build stories and sightings from.
#[cfg(test)]
impl Story {
    /// A story titled `title` (its id made from the title), published and updated `at`,
    /// with nothing else: tests set the fields they are about with `..Story::bare(..)`.
    pub(crate) fn bare(title: &str, at: DateTime<Utc>) -> Story {
        Story {
            id: StoryId::from_canonical_url(title),
            canonical_url: String::new(),
            url: String::new(),
            title: title.into(),
            summary: String::new(),
            content_html: None,
            author: None,
            published: at,
            updated: at,
            revised: None,
            tags: vec![],
            sources: vec![],
            sightings: vec![],
            article: None,
            embedding: None,
            llm_summary: None,
        }
    }
}

#[cfg(test)]
impl Sighting {
    /// An item of the feed source `s` linking to `url`, published and fetched `at`, with
    /// nothing else: tests set what they are about with `..Sighting::on_feed(..)`.
    pub(crate) fn on_feed(url: &str, title: &str, at: DateTime<Utc>) -> Sighting {
        Sighting {
            source: "s".into(),
            site: "feed:s".into(),
            site_name: "S".into(),
            item_id: None,
            url: url.into(),
            title: title.into(),
            text: String::new(),
            html: None,
            author: None,
            tags: vec![],
            points: None,
            comments: None,
            discussion_url: None,
            published: Some(at),
            fetched_at: at,
            is_self_post: false,
        }
    }
}

#[cfg(test)]
impl StoredSighting {
    /// A sighting on `site` (named as itself) with these figures, first seen `at`.
    pub(crate) fn scored(
        site: &str,
        points: Option<i64>,
        comments: Option<i64>,
        at: DateTime<Utc>,
    ) -> StoredSighting {
        StoredSighting {
            site: site.into(),
            site_name: site.into(),
            item_id: None,
            points,
            comments,
            discussion_url: None,
            first_seen: at,
        }
    }
}

impl Story {
    /// The text its embedding is computed from: title, tags, summary and article excerpt (the
    /// model reads its first 128 tokens). The tags come right after the title because they are
    /// the site's or the author's own word for what the story is about, and short.
    pub fn embedding_text(&self) -> String {
        let mut text = self.title.clone();
        let tags = self.tags.join(", ");
        for part in [
            tags.as_str(),
            self.summary.as_str(),
            self.article.as_ref().map_or("", |a| a.excerpt.as_str()),
        ] {
            if !part.is_empty() {
                text.push('\n');
                text.push_str(part);
            }
        }
        text
    }

    /// Hash of `embedding_text`: a stored embedding with another hash is stale.
    pub fn embedding_text_hash(&self) -> u64 {
        text_hash(&self.embedding_text())
    }

    /// The stored embedding when it was computed from the story's current text.
    pub fn current_embedding(&self) -> Option<&StoredEmbedding> {
        self.embedding
            .as_ref()
            .filter(|e| e.text_hash == self.embedding_text_hash())
    }

    /// The story as a topic with `summaries = "llm"` shows it: the model's summary, when
    /// there is one, replaces the extractive one in place, and the entry counts as revised
    /// when it arrived (Atom `updated`, JSON Feed `date_modified`).
    pub fn with_llm_summary(mut self) -> Story {
        if let Some(llm) = &self.llm_summary {
            self.summary = llm.text.clone();
            self.revised = Some(self.entry_updated().max(llm.made_at));
        }
        self
    }

    /// When the entry itself last changed in a way readers care about.
    pub fn entry_updated(&self) -> DateTime<Utc> {
        self.revised.unwrap_or(self.published)
    }

    /// Highest points over all sightings, 0 when no site scores it.
    pub fn top_points(&self) -> i64 {
        self.sightings
            .iter()
            .filter_map(|s| s.points)
            .max()
            .unwrap_or(0)
    }

    /// What every ranking orders by.
    pub fn rank_key(&self) -> RankKey {
        RankKey {
            points: self.top_points(),
            published: self.published,
            id: self.id,
        }
    }
}

/// The part of a story that rankings read: enough to order stories without loading them
/// (the topic indexes keep it in their keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RankKey {
    pub points: i64,
    pub published: DateTime<Utc>,
    pub id: StoryId,
}

/// The first 8 bytes of SHA-256 over `text`, as a number.
pub fn text_hash(text: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(bytes)
}
