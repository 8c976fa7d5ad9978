//! The health report behind `/healthz` and `feedsift status`: each source's fetch state
//! ("degraded" when a stored state cannot be read, or the last one could not be written) and whether each topic is served from its
//! index, and where the language model stands. One type, serialized by the server and read
//! back by the CLI.

use super::index::TopicIndex;
use crate::config::{Config, LlmConfig};
use crate::llm::LlmState;
use crate::metrics::{HubHealth, Metrics, WebhookHealth};
use crate::store::{Queue, SourceState, Store, StoryIndex};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

// Fields are in alphabetical order: the JSON has always listed keys that way.

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Health {
    /// On a PostgreSQL store: this node's id, the leases it holds and the database's state;
    /// absent on sled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<crate::store::DatabaseHealth>,
    /// Each `[push]` hub: pings delivered and failed, the last error, the backlog.
    #[serde(default)]
    pub hubs: Vec<HubHealth>,
    /// Stories written but not yet filed in the topic indexes.
    pub index_backlog: usize,
    /// The language model behind `summaries = "llm"`; absent without `[llm]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm: Option<LlmHealth>,
    /// The embedding model and the topics with `[topic.about]` judged on keywords alone;
    /// absent when no topic has `[topic.about]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semantic: Option<SemanticHealth>,
    pub sources: Vec<SourceHealth>,
    pub sources_failing: usize,
    /// `ok`, or `degraded` when some source state cannot be read or could not be written.
    pub status: String,
    pub stories: usize,
    pub topics: Vec<TopicHealth>,
    /// Each `[[webhook]]`: its backlog, deliveries, the last error.
    #[serde(default)]
    pub webhooks: Vec<WebhookHealth>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SourceHealth {
    pub consecutive_failures: u32,
    pub etag: Option<String>,
    pub id: String,
    pub kind: String,
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_modified: Option<String>,
    pub last_status: Option<u16>,
    pub last_success: Option<DateTime<Utc>>,
    pub moved_to: Option<String>,
    pub next_poll: Option<DateTime<Utc>>,
    /// Why the stored state could not be read (the rest is then the never-polled default),
    /// or why the last one could not be written (the rest is then an older state).
    pub state_error: Option<String>,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SemanticHealth {
    /// Stories waiting for their embedding.
    pub backlog: usize,
    /// `ok`, or `missing: ...` (why the model could not be loaded).
    pub model: String,
    pub topics_falling_back: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct LlmHealth {
    /// Stories queued for the model (some wait for their article, a retry or the budget).
    pub backlog: usize,
    /// Calls left this clock hour.
    pub budget_left: u32,
    pub calls: u64,
    pub failures: u64,
    pub last_error: Option<String>,
    pub last_latency_ms: Option<u64>,
    pub last_success: Option<DateTime<Utc>>,
    pub max_per_hour: u32,
    pub model: String,
    /// Answers that arrived but were not fit to show (the extractive summary stayed).
    pub refused: u64,
    /// `ok`, `idle: ...`, `key missing: ...`, `backing off until ...` or
    /// `budget exhausted until ...`.
    pub state: String,
    /// Why the state could not be read, if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TopicHealth {
    /// The topic's feeds come from its index (false while it is being built, or when no
    /// daemon maintains it).
    pub indexed: bool,
    pub slug: String,
}

impl Health {
    pub(crate) fn is_ok(&self) -> bool {
        self.status == "ok"
    }
}

pub(crate) fn report(config: &Config, store: &Store) -> Health {
    let sources: Vec<SourceHealth> = config
        .sources
        .iter()
        .map(|s| {
            // A record that cannot be read is reported, not shown as a never-polled source.
            let (state, state_error) = match store.source_state(&s.id) {
                Ok(state) => (state.unwrap_or_default(), None),
                Err(e) => (SourceState::default(), Some(e.to_string())),
            };
            // A poll whose state the store could not take (a full disk) is no less a failure.
            let state_error = state_error.or_else(|| {
                store
                    .state_write_error(&s.id)
                    .map(|e| format!("the last fetch state could not be written: {e}"))
            });
            SourceHealth {
                consecutive_failures: state.consecutive_failures,
                etag: state.etag,
                id: s.id.clone(),
                kind: s.kind.name().to_string(),
                last_attempt: state.last_attempt,
                last_error: state.last_error,
                last_modified: state.last_modified,
                last_status: state.last_status,
                last_success: state.last_success,
                moved_to: state.moved_to,
                next_poll: state.next_poll,
                state_error,
                url: s.url.to_string(),
            }
        })
        .collect();
    let database = store.database_health();
    let unreachable = database.as_ref().is_some_and(|d| !d.reachable);
    let unreadable =
        sources.iter().filter(|s| s.state_error.is_some()).count() + usize::from(unreachable);
    let topics = config
        .topics
        .iter()
        .map(|t| {
            let index = TopicIndex::new(t);
            TopicHealth {
                indexed: store.index_ready(index.prefix(), index.fingerprint()),
                slug: t.slug.clone(),
            }
        })
        .collect();
    let semantic = config.uses_about().then(|| SemanticHealth {
        backlog: store.queue_len(Queue::Embeddings),
        model: match &config.model_problem {
            None => "ok".to_string(),
            Some(problem) => format!("missing: {problem}"),
        },
        topics_falling_back: config.topics_falling_back(),
    });
    Health {
        database,
        hubs: config
            .push
            .hubs
            .iter()
            .map(|h| HubHealth::idle(h.as_str()))
            .collect(),
        llm: config
            .llm
            .as_ref()
            .map(|llm| llm_report(config, llm, store)),
        semantic,
        index_backlog: store.index_backlog(),
        sources_failing: sources
            .iter()
            .filter(|s| s.consecutive_failures > 0)
            .count(),
        sources,
        status: if unreadable == 0 { "ok" } else { "degraded" }.to_string(),
        stories: store.story_count(),
        topics,
        webhooks: config
            .webhooks
            .iter()
            .map(|w| {
                let id = w.key();
                WebhookHealth {
                    backlog: store.outbox_len(&id),
                    delivered: 0,
                    dropped: 0,
                    failed: 0,
                    id,
                    last_delivery: None,
                    last_error: None,
                    next_retry: None,
                    secret_env: w.secret_env.clone(),
                    topics: w.topics.clone(),
                    url: w.shown_url(),
                }
            })
            .collect(),
    }
}

/// The report with what the running daemon's push chores recorded of each hub and webhook
/// (one they have not reached yet stays idle; backlogs are the store's).
pub(crate) fn with_push(mut health: Health, metrics: &Metrics) -> Health {
    let recorded = metrics.hubs();
    for hub in &mut health.hubs {
        if let Some(r) = recorded.iter().find(|r| r.url == hub.url) {
            *hub = r.clone();
        }
    }
    let recorded = metrics.webhooks();
    for hook in &mut health.webhooks {
        if let Some(r) = recorded.iter().find(|r| r.id == hook.id) {
            *hook = WebhookHealth {
                backlog: hook.backlog,
                ..r.clone()
            };
        }
    }
    health
}

fn llm_report(config: &Config, llm: &LlmConfig, store: &Store) -> LlmHealth {
    let now = Utc::now();
    let (state, state_error) = match store.llm_state() {
        Ok(s) => (s, None),
        Err(e) => (LlmState::default(), Some(e.to_string())),
    };
    let shown = if !config.uses_llm() {
        "idle: no topic has summaries = \"llm\"".to_string()
    } else if let Err(problem) = llm.api_key() {
        format!("key missing: {problem}")
    } else if let Some(wait) = state.wait(now, llm.max_per_hour) {
        wait.to_string()
    } else {
        "ok".to_string()
    };
    LlmHealth {
        backlog: store.queue_len(Queue::LlmSummaries),
        budget_left: state.budget_left(now, llm.max_per_hour),
        calls: state.calls,
        failures: state.failures,
        last_error: state.last_error,
        last_latency_ms: state.last_latency_ms,
        last_success: state.last_success,
        max_per_hour: llm.max_per_hour,
        model: llm.model.clone(),
        refused: state.refused,
        state: shown,
        state_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_the_store_could_not_write_degrades_the_report() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "[server]\ndata_dir = {:?}\n\n[[source]]\nid = \"a\"\nkind = \"feed\"\nurl = \"https://example.com/a.rss\"\n\n[[source]]\nid = \"b\"\nkind = \"feed\"\nurl = \"https://example.com/b.rss\"\n",
            dir.path().display().to_string()
        );
        let config = Config::parse(&dir.path().join("feeds.toml"), &text).unwrap();
        let store = Store::open(dir.path()).unwrap();
        let healthy = report(&config, &store);
        assert!(healthy.is_ok(), "{healthy:?}");
        let full = std::io::Error::new(std::io::ErrorKind::StorageFull, "No space left on device");
        let failed: Result<(), crate::store::StoreError> = Err(sled::Error::Io(full).into());
        store.note_state_write("a", &failed);
        let health = report(&config, &store);
        assert_eq!(health.status, "degraded");
        let a = &health.sources[0];
        let error = a.state_error.as_deref().unwrap();
        assert!(
            error.starts_with("the last fetch state could not be written: ")
                && error.contains("the disk is full"),
            "{error}"
        );
        assert_eq!(health.sources[1].state_error, None);
        store
            .put_source_state("a", &SourceState::default())
            .unwrap();
        assert!(report(&config, &store).is_ok());
    }
}
