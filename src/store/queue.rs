//! Work that waits on a story after ingest (fetching its article, computing its embedding,
//! asking the language model for its summary):
//! a set of story ids, marked inside the write transactions that make the work due while
//! some topic wants it, and drained by the chore that does it.

use super::Tree;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The queues the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// Stories whose article may be worth fetching: new, or their points moved (a story at
    /// 40 points may pass a threshold an hour later).
    Articles,
    /// Stories whose embedding text is new or changed.
    Embeddings,
    /// Stories that may want a summary from the language model: new, their points moved
    /// (`min_points_for_llm`), or their text changed.
    LlmSummaries,
}

impl Queue {
    pub(super) fn tree(self) -> Tree {
        match self {
            Queue::Articles => Tree::ArticleQueue,
            Queue::Embeddings => Tree::EmbedQueue,
            Queue::LlmSummaries => Tree::LlmQueue,
        }
    }
}

/// Whether writes mark stories for a queue: only while some topic wants the work.
#[derive(Clone, Default)]
pub(super) struct WorkQueue {
    on: Arc<AtomicBool>,
}

impl WorkQueue {
    pub(super) fn is_on(&self) -> bool {
        self.on.load(Ordering::Acquire)
    }

    pub(super) fn set_on(&self, on: bool) {
        self.on.store(on, Ordering::Release);
    }
}
