//! feedsift pulls developer-community feeds, stores each story once, and re-publishes one
//! curated feed per topic.
//!
//! # Layout
//! - `config`: feeds.toml schema, validation with file:line:col errors, compiled topics
//! - `model`: `Sighting` (a story on one site) and `Story` (the merged record)
//! - `normalize`: canonical URLs, story ids, text from markup, titles, summaries
//! - `select`: topic rules (keywords, exclusions, thresholds), ranking, limits
//! - `sources`: one adapter per source kind, bytes to sightings

pub mod config;
pub mod model;
pub mod normalize;
pub mod select;
pub mod sources;
