//! feedsift's integration tests: one binary, one module per area. Everything reaches only
//! loopback: upstreams are local servers (`support::upstream`, `support::bad_upstream`) and
//! the daemon is the real binary on a free port (`support::workspace`).
//!
//! To add a test, find its area below; build its feeds.toml with `support::config` and state
//! only what the test is about.

mod support;

/// Article summaries fetched from the linked pages.
mod articles;
/// Bounds a hostile internet cannot break: memory, connections, reloads, a full disk, output.
mod bounds;
/// `feedsift check`: config errors with file:line:col, suggestions, warnings.
mod cli_check;
/// `explain`, `import-opml`, `export`, `status`, and `fetch`'s progress output.
mod cli_operator;
/// Every unknown key and type error in one pass; values that would fail at run time refused.
mod config_errors;
/// The real-world feed corpus through the feed parser (skipped when absent).
mod corpus_feeds;
/// The real-world site captures through the site adapters, and the site fixtures.
mod corpus_sites;
/// SIGKILL during ingest loses nothing acknowledged.
mod crash_safety;
/// Generic feeds (RSS, Atom, JSON Feed) end to end: curation, ids, conditional GET.
mod feeds;
/// Misbehaving upstreams, through the library's ingester and store.
mod fetch_failures;
/// Hostile feed content is inert in every output.
mod hostile;
/// Topic indexes match a window scan and follow rule changes.
mod indexes;
/// Summaries from a language model behind an OpenAI-compatible API: request shape, cache,
/// budget, failures, hostile answers, the API key kept secret.
mod llm;
/// Three nodes on one PostgreSQL database: leases, takeover after SIGKILL, equal bytes.
mod multi_node;
/// The throwaway PostgreSQL cluster the store tests get their databases from.
mod postgres_cluster;
/// WebSub pings to a local hub: the feeds name it, visible changes reach it, retries.
mod push;
/// Config reload under a running daemon, SIGHUP included.
mod reload;
/// `[topic.about]`: story embeddings, similarity in the feed and in explain, the fallback.
mod semantic;
/// Serving by the HTTP book: compression, caching, query narrowing, pages, metrics.
mod serving;
/// One article on four community sites is one item; repolls update points.
mod sites;
/// Links from source content reach only public addresses (SSRF), redirects included.
mod ssrf;
/// The store over TLS to PostgreSQL: sslmode, certificates checked, clear refusals.
mod store_tls;
