//! feedsift pulls developer-community feeds, stores each story once, and re-publishes one
//! curated feed per topic.
//!
//! # Layout
//! - `articles`: article-page summaries for link posts without text (fetch once, retry with backoff)
//! - `commands`: what each CLI command does and prints (main.rs only parses and dispatches)
//! - `config`: feeds.toml schema, validation with file:line:col errors, compiled topics
//! - `daemon`: `serve` (scheduled polling, pruning, HTTP, clean shutdown) and `fetch_once`
//! - `export`: static export of every topic's feeds and pages, unchanged files untouched
//! - `fetch`: the HTTP client (conditional GET, timeouts, caps) and per-source fetch state
//! - `hosts`: per-host concurrency limit for fetches
//! - `indexing`: the daemon's topic indexes: registered per config, built, caught up
//! - `ingest`: one poll of one source, fetch to store, with its state recorded
//! - `metrics`: counters and the latency histogram behind `/metrics`
//! - `model`: `Sighting` (a story on one site) and `Story` (the merged record)
//! - `normalize`: canonical URLs, story ids, text from markup, titles, summaries
//! - `pollers`: one polling task per source, synced with the config on reload
//! - `progress`: the progress line of `fetch --once` on a terminal
//! - `reload`: config reload on SIGHUP or file change, keeping the old config when the new is bad
//! - `remote`: asking a running daemon over HTTP when it holds the store
//! - `opml_import`: a reader's OPML subscriptions as new `kind = "feed"` sources
//! - `render`: RSS, Atom, JSON Feed and HTML output, pure functions of stories
//! - `scheduler`: when each source is due (interval, jitter, backoff, Retry-After)
//! - `select`: topic rules (keywords, exclusions, thresholds), ranking, limits
//! - `server`: HTTP routes, cache of rendered bytes, conditional GET
//! - `sources`: one adapter per source kind, bytes to sightings
//! - `store`: sled trees, merge of sightings into stories, by-time and topic indexes, fetch state
//! - `topic_feed`: a topic's items read from the store (through its index when complete)
//! - `topic_index`: what a topic's index admits and how its keys sort

pub mod articles;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod export;
pub mod fetch;
pub mod hosts;
pub mod indexing;
pub mod ingest;
pub mod metrics;
pub mod model;
pub mod normalize;
pub mod opml_import;
pub mod pollers;
pub mod progress;
pub mod reload;
pub mod remote;
pub mod render;
pub mod scheduler;
pub mod select;
pub mod semantic;
pub mod server;
pub mod sources;
pub mod store;
pub mod topic_feed;
pub mod topic_index;
