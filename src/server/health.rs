//! Per-source health as JSON (for `/healthz` and `feedsift status`): "degraded" when a
//! source's stored state cannot be read; and whether each topic is served from its index.

use crate::config::Config;
use crate::fetch::SourceState;
use crate::store::{Store, StoryIndex};
use crate::topic_index::TopicIndex;
use serde_json::{json, Value};

pub fn report(config: &Config, store: &Store) -> Value {
    let mut unreadable = 0;
    let sources: Vec<Value> = config
        .sources
        .iter()
        .map(|s| {
            // A record that cannot be read is reported, not shown as a never-polled source.
            let (state, state_error) = match store.source_state::<SourceState>(&s.id) {
                Ok(state) => (state.unwrap_or_default(), None),
                Err(e) => {
                    unreadable += 1;
                    (SourceState::default(), Some(e.to_string()))
                }
            };
            json!({
                "state_error": state_error,
                "id": s.id,
                "kind": s.kind.name(),
                "url": s.url.as_str(),
                "last_attempt": state.last_attempt,
                "last_success": state.last_success,
                "last_status": state.last_status,
                "last_error": state.last_error,
                "consecutive_failures": state.consecutive_failures,
                "next_poll": state.next_poll,
                "etag": state.etag,
                "last_modified": state.last_modified,
                "moved_to": state.moved_to,
            })
        })
        .collect();
    let failing = config
        .sources
        .iter()
        .zip(&sources)
        .filter(|(_, v)| v["consecutive_failures"].as_u64().unwrap_or(0) > 0)
        .count();
    // Whether each topic's feeds come from its index (false while it is being built, or
    // when no daemon maintains it).
    let topics: Vec<Value> = config
        .topics
        .iter()
        .map(|t| {
            let index = TopicIndex::new(t);
            json!({
                "slug": t.slug,
                "indexed": store.index_ready(index.prefix(), index.fingerprint()),
            })
        })
        .collect();
    json!({
        "status": if unreadable == 0 { "ok" } else { "degraded" },
        "stories": store.story_count(),
        "topics": topics,
        "index_backlog": store.index_backlog(),
        "sources_failing": failing,
        "sources": sources,
    })
}
