//! What the integration tests share. Each area module imports from here only:
//!
//! - `config`: builders for feeds.toml (`config()`, `hn(url)`, `feed(id, url)`, `topic(slug)`, ...).
//! - `upstream`: a fixture-serving HTTP upstream on loopback, and the fixture names.
//! - `receiver`: a WebSub hub / webhook receiver on loopback that records what it gets.
//! - `bad_upstream`: a raw TCP upstream scripted byte by byte, for fetch failures.
//! - `workspace`: the real binary, run once (`Workspace::run`, `check`) or as a daemon.
//! - `llm_server`: an OpenAI-compatible chat completions endpoint on loopback, scripted.
//! - `postgres`: a fresh, empty PostgreSQL database per call (`database()`), and `psql`.
//! - `http`: a client to talk to the daemon; `xml`: reading what it serves.
//! - `lib_api`: every library item the tests use (the one place that names feedsift paths).

pub mod bad_upstream;
pub mod config;
pub mod http;
pub mod lib_api;
pub mod llm_server;
pub mod postgres;
pub mod receiver;
pub mod upstream;
pub mod workspace;
pub mod xml;

// The builders' whole vocabulary, whether or not a test uses each word today.
#[allow(unused_imports)]
pub use config::{config, devto, feed, hn, lobsters, reddit, source, topic, ConfigBuilder};
pub use http::{client, get, get_json, get_text, status_of, wait_for_status};
pub use llm_server::{Behavior, LlmServer};
#[allow(unused_imports)]
pub use receiver::{Received, Receiver};
#[allow(unused_imports)]
pub use upstream::{
    fixture, fixtures_dir, Upstream, HN_FRONT_PAGE, LOBSTERS_HOTTEST, SITE_FIXTURES,
};
pub use workspace::{check, feedsift, stdout_of, Daemon, Workspace, FEEDSIFT};
pub use xml::{all_elements, assert_well_formed, rss_titles};
