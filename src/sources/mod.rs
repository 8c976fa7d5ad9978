//! Source adapters: one file per kind, each a pure `bytes -> Vec<Sighting>` over that
//! site's wire format. Only adapters see wire types; nothing here touches the network.

pub mod devto;
mod entry_window;
pub mod feed;
pub mod hackernews;
pub mod lobsters;
pub mod reddit;
pub(crate) mod registry;
mod site_json;
mod xml_repair;

use crate::model::Sighting;
use chrono::{DateTime, Utc};
pub use registry::{SourceConfig, SourceKind};

/// What an adapter knows about the fetch it parses.
#[derive(Debug, Clone)]
pub struct SourceContext<'a> {
    pub source: &'a SourceConfig,
    /// The URL the bytes came from (after redirects): the base for relative links.
    pub url: &'a url::Url,
    pub fetched_at: DateTime<Utc>,
    /// At most this many entries of the response are kept (the newest). The XML feed adapter
    /// does not even parse the others: a feed of 74k items costs the memory of this many.
    pub max_entries: usize,
}

/// Sightings out of one response, plus entries that could not be used and why.
#[derive(Debug, Default)]
pub struct Parsed {
    pub sightings: Vec<Sighting>,
    pub skipped: Vec<String>,
    /// Entries not even read: the oldest of a response with more than `max_entries`. A poll
    /// reports them among the skipped.
    pub unread: usize,
    /// How long the source says its content stays fresh (RSS `ttl`), a poll hint.
    pub ttl: Option<std::time::Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("not a feed: {0}")]
    NotAFeed(String),
    #[error("invalid {format}: {message}")]
    Invalid {
        format: &'static str,
        message: String,
    },
}

/// Parses a response body according to the source's kind.
pub fn parse(ctx: &SourceContext, body: &[u8]) -> Result<Parsed, SourceError> {
    (ctx.source.kind.site().parse)(ctx, body)
}
