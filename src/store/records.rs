//! The records the store keeps beside stories: each source's fetch state (validators for
//! conditional GET, and the history that `status` and `/healthz` show) and each story's
//! article-fetch state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceState {
    /// Validators sent back exactly as the server gave them.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    /// HTTP status of the last response (None when no response arrived).
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    pub next_poll: Option<DateTime<Utc>>,
    /// Set when the source answered with a permanent redirect: the new address.
    pub moved_to: Option<String>,
}

/// Where fetching a story's article page stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArticleState {
    pub attempts: u32,
    pub last_attempt: Option<DateTime<Utc>>,
    pub next_try: Option<DateTime<Utc>>,
    /// Summarized, or given up on after too many attempts.
    pub done: bool,
    pub last_error: Option<String>,
}
