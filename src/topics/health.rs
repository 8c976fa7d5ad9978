//! The health report behind `/healthz` and `feedsift status`: each source's fetch state
//! ("degraded" when a stored state cannot be read) and whether each topic is served from its
//! index. One type, serialized by the server and read back by the CLI.

use super::index::TopicIndex;
use crate::config::Config;
use crate::store::{SourceState, Store, StoryIndex};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

// Fields are in alphabetical order: the JSON has always listed keys that way.

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Health {
    /// Stories written but not yet filed in the topic indexes.
    pub index_backlog: usize,
    /// The embedding model and the topics with `[topic.about]` judged on keywords alone;
    /// absent when no topic has `[topic.about]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semantic: Option<SemanticHealth>,
    pub sources: Vec<SourceHealth>,
    pub sources_failing: usize,
    /// `ok`, or `degraded` when some source state cannot be read.
    pub status: String,
    pub stories: usize,
    pub topics: Vec<TopicHealth>,
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
    /// Why the stored state could not be read (the rest is then the never-polled default).
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
    let unreadable = sources.iter().filter(|s| s.state_error.is_some()).count();
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
        backlog: store.embedding_backlog(),
        model: match &config.model_problem {
            None => "ok".to_string(),
            Some(problem) => format!("missing: {problem}"),
        },
        topics_falling_back: config.topics_falling_back(),
    });
    Health {
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
    }
}
