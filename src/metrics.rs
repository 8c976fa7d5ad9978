//! Counters for `/metrics` (Prometheus text format): fetches by source and outcome, requests
//! by route and status with a latency histogram, render cache hits and misses, each WebSub
//! hub's deliveries and backlog (`HubHealth`, which `/healthz` shows too), and calls to the
//! language model.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Routes counted, in the order of the request table.
pub(crate) const ROUTES: [&str; 8] = [
    "/",
    "/opml",
    "/healthz",
    "/metrics",
    "/t/{name}",
    "/t/{slug}/embed",
    "/api/explain/{slug}",
    "other",
];
/// Statuses counted on their own; anything else is counted as "other".
const STATUSES: [u16; 7] = [200, 304, 400, 404, 431, 500, 503];

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// One WebSub hub as the push chore last left it. Fields in alphabetical order, as every
/// `/healthz` record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct HubHealth {
    /// Pings the hub answered with 2xx since the daemon started.
    pub delivered: u64,
    /// Pings that failed (no answer, or not 2xx) since the daemon started.
    pub failed: u64,
    pub last_delivery: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// When the pending pings are tried again after a failure.
    pub next_retry: Option<DateTime<Utc>>,
    /// Feed URLs waiting to be pinged.
    pub pending: usize,
    pub url: String,
}

impl HubHealth {
    /// A hub nothing was sent to yet.
    pub(crate) fn idle(url: &str) -> HubHealth {
        HubHealth {
            delivered: 0,
            failed: 0,
            last_delivery: None,
            last_error: None,
            next_retry: None,
            pending: 0,
            url: url.to_string(),
        }
    }
}

/// One `[[webhook]]`: the backlog (from the store) and what the webhook chore last saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct WebhookHealth {
    /// Deliveries waiting in the outbox.
    pub backlog: usize,
    /// Deliveries acknowledged (2xx) since the daemon started.
    pub delivered: u64,
    /// Deliveries given up on (refused, or failing past `retry_for`), since the daemon started.
    pub dropped: u64,
    /// Failed attempts since the daemon started.
    pub failed: u64,
    /// The webhook's name in the store and in delivery ids (a hash of its URL).
    pub id: String,
    pub last_delivery: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub next_retry: Option<DateTime<Utc>>,
    /// The environment variable its key is read from (never the key).
    pub secret_env: Option<String>,
    /// The topics it hears of; absent: all.
    pub topics: Option<Vec<String>>,
    /// Its URL without user, password, query or fragment.
    pub url: String,
}

#[derive(Default)]
pub(crate) struct Metrics {
    /// Each hub's state, replaced by the push chore after every round.
    hubs: Mutex<Vec<HubHealth>>,
    /// Each webhook's state, replaced by the webhook chore after every round.
    webhooks: Mutex<Vec<WebhookHealth>>,
    fetches: Mutex<BTreeMap<(String, &'static str), u64>>,
    /// Requests by route and status: plain atomics, so the hot path takes no lock.
    requests: [[AtomicU64; STATUSES.len() + 1]; ROUTES.len()],
    /// Requests whose latency is within each bound and not the one before (the exposition
    /// adds them up).
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    /// Story embeddings computed by the embedding chore.
    embeddings_computed: AtomicU64,
    /// Calls to the language model by outcome (`LLM_OUTCOMES`), and their time.
    llm_calls: [AtomicU64; LLM_OUTCOMES.len()],
    llm_latency_count: AtomicU64,
    llm_latency_sum_micros: AtomicU64,
    /// Calls left this hour, as the worker last saw it (u64::MAX: never set).
    llm_budget_left: AtomicU64,
}

/// Outcomes of a language model call: a summary made, an answer refused, a failed call.
const LLM_OUTCOMES: [&str; 3] = ["made", "refused", "failed"];

impl Metrics {
    /// `outcome` is one of `stored`, `not_modified`, `failed`.
    pub(crate) fn record_fetch(&self, source: &str, outcome: &'static str) {
        let mut fetches = self.fetches.lock().unwrap_or_else(|p| p.into_inner());
        *fetches.entry((source.to_string(), outcome)).or_default() += 1;
    }

    /// `route` is one of `ROUTES` (anything else counts as "other").
    pub(crate) fn record_request(&self, route: &str, status: u16, elapsed: Duration) {
        let r = ROUTES
            .iter()
            .position(|known| *known == route)
            .unwrap_or(ROUTES.len() - 1);
        let s = STATUSES
            .iter()
            .position(|known| *known == status)
            .unwrap_or(STATUSES.len());
        self.requests[r][s].fetch_add(1, Ordering::Relaxed);
        // One bucket per request (the first bound it is within); the exposition sums them
        // into Prometheus' cumulative buckets. Incrementing every bucket it is within cost a
        // dozen contended atomic adds on the hottest path.
        let secs = elapsed.as_secs_f64();
        if let Some(bucket) = BUCKETS.iter().position(|bound| secs <= *bound) {
            self.latency_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    pub(crate) fn cache_hit(&self) {
        self.cache_hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn embeddings_computed(&self, n: usize) {
        self.embeddings_computed
            .fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn set_hubs(&self, hubs: Vec<HubHealth>) {
        *self.hubs.lock().unwrap_or_else(|p| p.into_inner()) = hubs;
    }

    /// The hubs as the push chore last recorded them (none before its first round).
    pub(crate) fn hubs(&self) -> Vec<HubHealth> {
        self.hubs.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn set_webhooks(&self, webhooks: Vec<WebhookHealth>) {
        *self.webhooks.lock().unwrap_or_else(|p| p.into_inner()) = webhooks;
    }

    /// The webhooks as the webhook chore last recorded them.
    pub(crate) fn webhooks(&self) -> Vec<WebhookHealth> {
        self.webhooks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// `outcome` is one of `made`, `refused`, `failed`.
    pub(crate) fn llm_call(&self, outcome: &str, elapsed: Duration) {
        if let Some(i) = LLM_OUTCOMES.iter().position(|o| *o == outcome) {
            self.llm_calls[i].fetch_add(1, Ordering::Relaxed);
        }
        self.llm_latency_count.fetch_add(1, Ordering::Relaxed);
        self.llm_latency_sum_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    pub(crate) fn llm_budget_left(&self, left: u32) {
        // Stored plus one, so that the default zero means "not known yet".
        self.llm_budget_left
            .store(u64::from(left) + 1, Ordering::Relaxed);
    }

    pub(crate) fn cache_miss(&self) {
        self.cache_misses.fetch_add(1, Ordering::Relaxed);
    }

    /// The exposition text; `stories` is the number of stories stored right now.
    pub(crate) fn render(&self, stories: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP feedsift_fetches_total Polls of each source by outcome.\n# TYPE feedsift_fetches_total counter");
        for ((source, outcome), n) in self
            .fetches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "feedsift_fetches_total{{source=\"{}\",outcome=\"{outcome}\"}} {n}",
                label(source)
            );
        }
        let _ = writeln!(out, "# HELP feedsift_stories Stories in the store.\n# TYPE feedsift_stories gauge\nfeedsift_stories {stories}");
        let _ = writeln!(out, "# HELP feedsift_http_requests_total Requests served by route and status.\n# TYPE feedsift_http_requests_total counter");
        for (route, counts) in ROUTES.iter().zip(&self.requests) {
            for (i, count) in counts.iter().enumerate() {
                let n = count.load(Ordering::Relaxed);
                if n > 0 {
                    let status = STATUSES
                        .get(i)
                        .map_or_else(|| "other".to_string(), u16::to_string);
                    let _ = writeln!(
                        out,
                        "feedsift_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                    );
                }
            }
        }
        let _ = writeln!(out, "# HELP feedsift_render_cache_total Render cache lookups by result.\n# TYPE feedsift_render_cache_total counter");
        let _ = writeln!(
            out,
            "feedsift_render_cache_total{{result=\"hit\"}} {}",
            self.cache_hits.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "feedsift_render_cache_total{{result=\"miss\"}} {}",
            self.cache_misses.load(Ordering::Relaxed)
        );
        let _ = writeln!(out, "# HELP feedsift_embeddings_computed_total Story embeddings computed since start.\n# TYPE feedsift_embeddings_computed_total counter\nfeedsift_embeddings_computed_total {}", self.embeddings_computed.load(Ordering::Relaxed));
        self.render_hubs(&mut out);
        self.render_webhooks(&mut out);
        let _ = writeln!(out, "# HELP feedsift_llm_calls_total Calls to the language model by outcome.\n# TYPE feedsift_llm_calls_total counter");
        for (outcome, n) in LLM_OUTCOMES.iter().zip(&self.llm_calls) {
            let n = n.load(Ordering::Relaxed);
            let _ = writeln!(out, "feedsift_llm_calls_total{{outcome=\"{outcome}\"}} {n}");
        }
        let llm_sum = self.llm_latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let llm_count = self.llm_latency_count.load(Ordering::Relaxed);
        let _ = writeln!(out, "# HELP feedsift_llm_call_duration_seconds Time of the calls to the language model.\n# TYPE feedsift_llm_call_duration_seconds summary\nfeedsift_llm_call_duration_seconds_sum {llm_sum}\nfeedsift_llm_call_duration_seconds_count {llm_count}");
        if let Some(left) = self.llm_budget_left.load(Ordering::Relaxed).checked_sub(1) {
            let _ = writeln!(out, "# HELP feedsift_llm_budget_left Calls to the language model left this hour.\n# TYPE feedsift_llm_budget_left gauge\nfeedsift_llm_budget_left {left}");
        }
        let _ = writeln!(out, "# HELP feedsift_http_request_duration_seconds Time to answer a request.\n# TYPE feedsift_http_request_duration_seconds histogram");
        let mut within = 0;
        for (bucket, bound) in self.latency_buckets.iter().zip(BUCKETS) {
            within += bucket.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "feedsift_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {within}"
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "feedsift_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "feedsift_http_request_duration_seconds_sum {sum}\nfeedsift_http_request_duration_seconds_count {count}");
        out
    }
}

impl Metrics {
    fn render_webhooks(&self, out: &mut String) {
        let hooks = self.webhooks();
        let _ = writeln!(out, "# HELP feedsift_webhook_deliveries_total Webhook deliveries by webhook and outcome.\n# TYPE feedsift_webhook_deliveries_total counter");
        for w in &hooks {
            for (outcome, n) in [
                ("delivered", w.delivered),
                ("failed", w.failed),
                ("dropped", w.dropped),
            ] {
                let _ = writeln!(
                    out,
                    "feedsift_webhook_deliveries_total{{webhook=\"{}\",outcome=\"{outcome}\"}} {n}",
                    w.id
                );
            }
        }
        let _ = writeln!(out, "# HELP feedsift_webhook_backlog Deliveries waiting in the outbox, by webhook.\n# TYPE feedsift_webhook_backlog gauge");
        for w in &hooks {
            let _ = writeln!(
                out,
                "feedsift_webhook_backlog{{webhook=\"{}\"}} {}",
                w.id, w.backlog
            );
        }
    }

    fn render_hubs(&self, out: &mut String) {
        let hubs = self.hubs();
        let _ = writeln!(out, "# HELP feedsift_websub_pings_total WebSub publish pings by hub and outcome.\n# TYPE feedsift_websub_pings_total counter");
        for h in &hubs {
            let hub = label(&h.url);
            let _ = writeln!(out, "feedsift_websub_pings_total{{hub=\"{hub}\",outcome=\"delivered\"}} {}\nfeedsift_websub_pings_total{{hub=\"{hub}\",outcome=\"failed\"}} {}", h.delivered, h.failed);
        }
        let _ = writeln!(out, "# HELP feedsift_websub_pending Feed URLs waiting to be pinged, by hub.\n# TYPE feedsift_websub_pending gauge");
        for h in &hubs {
            let _ = writeln!(
                out,
                "feedsift_websub_pending{{hub=\"{}\"}} {}",
                label(&h.url),
                h.pending
            );
        }
        let _ = writeln!(out, "# HELP feedsift_websub_last_delivery_seconds Unix time of the last ping a hub took.\n# TYPE feedsift_websub_last_delivery_seconds gauge");
        for h in &hubs {
            if let Some(at) = h.last_delivery {
                let _ = writeln!(
                    out,
                    "feedsift_websub_last_delivery_seconds{{hub=\"{}\"}} {}",
                    label(&h.url),
                    at.timestamp()
                );
            }
        }
    }
}

fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_format() {
        let m = Metrics::default();
        m.record_fetch("hn", "stored");
        m.record_fetch("hn", "stored");
        m.record_request("/t/{name}", 200, Duration::from_micros(700));
        m.record_request("/t/{name}", 304, Duration::from_micros(300));
        m.record_request("/t/{name}", 200, Duration::from_secs(3));
        m.cache_miss();
        m.set_hubs(vec![HubHealth {
            delivered: 3,
            failed: 1,
            pending: 2,
            last_delivery: DateTime::from_timestamp(1_800_000_000, 0),
            ..HubHealth::idle("http://hub.example/")
        }]);
        let text = m.render(42);
        assert!(text.contains(
            "feedsift_websub_pings_total{hub=\"http://hub.example/\",outcome=\"delivered\"} 3\n"
        ));
        assert!(text.contains(
            "feedsift_websub_pings_total{hub=\"http://hub.example/\",outcome=\"failed\"} 1\n"
        ));
        assert!(text.contains("feedsift_websub_pending{hub=\"http://hub.example/\"} 2\n"));
        assert!(text.contains(
            "feedsift_websub_last_delivery_seconds{hub=\"http://hub.example/\"} 1800000000\n"
        ));
        m.llm_call("made", Duration::from_millis(1500));
        m.llm_call("failed", Duration::from_millis(500));
        let text = m.render(42);
        assert!(text.contains("feedsift_llm_calls_total{outcome=\"made\"} 1\n"));
        assert!(text.contains("feedsift_llm_call_duration_seconds_sum 2\n"));
        assert!(!text.contains("feedsift_llm_budget_left"));
        m.llm_budget_left(0);
        assert!(m.render(42).contains("feedsift_llm_budget_left 0\n"));
        assert!(text.contains("feedsift_fetches_total{source=\"hn\",outcome=\"stored\"} 2\n"));
        assert!(text.contains("feedsift_stories 42\n"));
        assert!(
            text.contains("feedsift_http_requests_total{route=\"/t/{name}\",status=\"200\"} 2\n")
        );
        assert!(text.contains("feedsift_http_request_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
        assert!(text.contains("feedsift_http_request_duration_seconds_bucket{le=\"0.001\"} 2\n"));
        assert!(text.contains("feedsift_http_request_duration_seconds_bucket{le=\"2.5\"} 2\n"));
        assert!(text.contains("feedsift_http_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("feedsift_http_request_duration_seconds_count 3\n"));
        assert!(text.contains("feedsift_render_cache_total{result=\"miss\"} 1\n"));
    }
}
