//! Every item of the feedsift library that the integration tests use, and the only place
//! that names their paths: when the library's modules move, this file is the whole fix-up.
//! Most tests never touch the library; they run the binary (`workspace`).
//!
//! Used by `corpus_feeds` and `corpus_sites` (the source adapters on real captures) and by
//! `fetch_failures` (the ingester against a scripted upstream, and the store it writes).

// Config: parsing a feeds.toml, and the parsed sources.
pub use feedsift::config::{Config, DEFAULT_MAX_ENTRIES};
pub use feedsift::sources::{SourceConfig, SourceKind};

// Fetching and ingest: the poll of one source and what it reports and records.
pub use feedsift::cli::fetch_once::{fetch_once, FetchEvent};
pub use feedsift::fetch::charset::to_utf8;
pub use feedsift::ingest::hosts::HostLimits;
pub use feedsift::ingest::{Ingester, PollOutcome, PollReport};
pub use feedsift::store::{PgOptions, SourceState};

// Parsing a fetched body: the generic feed parser and the four site adapters.
pub use feedsift::sources::devto::parse as parse_devto;
pub use feedsift::sources::hackernews::parse as parse_hackernews;
pub use feedsift::sources::lobsters::parse as parse_lobsters;
pub use feedsift::sources::parse as parse_source;
pub use feedsift::sources::reddit::parse as parse_reddit;
pub use feedsift::sources::{Parsed, SourceContext, SourceError};

// Normalizing sightings into stories, and the store.
pub use feedsift::model::{Sighting, Story};
pub use feedsift::normalize::{canonical_url, Candidate};
pub use feedsift::store::Store;
