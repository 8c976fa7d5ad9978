//! feedsift pulls developer-community feeds, stores each story once, and re-publishes one
//! curated feed per topic.
//!
//! # Layout
//! The pipeline, lowest layer first. A module uses only modules listed before it
//! (`layering` checks this on every test run).
//! - `model`: `Sighting` (a story on one site) and `Story` (the merged record)
//! - `metrics`: counters and the latency histogram behind `/metrics`
//! - `normalize`: canonical URLs, story ids, text from markup, titles, summaries
//! - `semantic`: the sentence-embedding model (all-MiniLM-L6-v2) run in-process: tokenizer,
//!   mapped weights, forward pass, vectors and their quantized form; model files and hashes
//! - `select`: topic rules (keywords, exclusions, thresholds), ranking, explanations; pure
//! - `sources`: the site registry and one adapter per source kind, bytes to sightings
//! - `config`: feeds.toml schema, validation with file:line:col errors, compiled topics
//! - `fetch`: the HTTP client (conditional GET, timeouts, caps, redirects)
//! - `llm`: the optional language model for summaries: the chat-completions call, prompt and
//!   cache key, answer hygiene, budget and backoff
//! - `store`: sled trees, merge of sightings into stories, typed fetch and article records,
//!   the by-time index and the machinery of secondary indexes
//! - `render`: RSS, Atom, JSON Feed, HTML and OPML output, pure functions of stories
//! - `topics`: the read path of a topic: its index keys, its items for a view, rendered
//!   views, which summary a story shows, and the health report
//! - `ingest`: one poll of one source (fetch, parse, normalize, store), article summaries,
//!   summaries from the language model, poll schedules and per-host limits
//! - `push`: telling others when what a topic's readers see changes (a digest of its items):
//!   WebSub publish pings and signed webhook deliveries, retried with backoff
//! - `server`: HTTP only: routes, the hot path for cached feeds, conditional GET, encodings,
//!   the error type that becomes a response
//! - `daemon`: `serve`: owns the running config, store and host limits, and runs the chores
//!   (pollers, index upkeep, articles, embeddings, LLM summaries, pruning, reload) and the
//!   server
//! - `cli`: what each command does and prints (`main.rs` only parses and dispatches)

pub mod cli;
pub mod config;
pub mod daemon;
pub mod fetch;
pub mod ingest;
pub(crate) mod llm;
pub(crate) mod metrics;
pub mod model;
pub mod normalize;
pub(crate) mod push;
pub mod render;
pub mod select;
pub mod semantic;
pub(crate) mod server;
pub mod sources;
pub mod store;
pub mod topics;

#[cfg(test)]
mod layering;
