//! Per-source health as JSON (for `/healthz` and `feedsift status`).

use crate::config::Config;
use crate::fetch::SourceState;
use crate::store::Store;
use serde_json::{json, Value};

pub fn report(config: &Config, store: &Store) -> Value {
    let sources: Vec<Value> = config
        .sources
        .iter()
        .map(|s| {
            let state: SourceState = store.source_state(&s.id).ok().flatten().unwrap_or_default();
            json!({
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
    json!({
        "status": "ok",
        "stories": store.story_count(),
        "sources_failing": failing,
        "sources": sources,
    })
}
