//! Work that waits on a story after ingest (fetching its article, computing its embedding,
//! asking the language model for its summary):
//! a set of story ids, marked inside the write transactions that make the work due while
//! some topic wants it, and drained by the chore that does it.

use super::StoreError;
use crate::model::StoryId;
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
    pub(super) fn tree_name(self) -> &'static str {
        match self {
            Queue::Articles => "article_queue",
            Queue::Embeddings => "embed_queue",
            Queue::LlmSummaries => "llm_queue",
        }
    }
}

#[derive(Clone)]
pub(super) struct WorkQueue {
    pub(super) tree: sled::Tree,
    /// Writes mark stories only while some topic wants the work.
    on: Arc<AtomicBool>,
}

impl WorkQueue {
    pub(super) fn open(db: &sled::Db, queue: Queue) -> Result<WorkQueue, StoreError> {
        Ok(WorkQueue {
            tree: db.open_tree(queue.tree_name())?,
            on: Arc::new(AtomicBool::new(false)),
        })
    }

    pub(super) fn is_on(&self) -> bool {
        self.on.load(Ordering::Acquire)
    }

    pub(super) fn set_on(&self, on: bool) {
        self.on.store(on, Ordering::Release);
    }

    /// Up to `max` queued stories, in id order (the queue is a set).
    pub(super) fn peek(&self, max: usize) -> Result<Vec<StoryId>, StoreError> {
        let mut out = Vec::new();
        for key in self.tree.iter().keys().take(max) {
            if let Ok(id) = <[u8; 16]>::try_from(key?.as_ref()) {
                out.push(StoryId(id));
            }
        }
        Ok(out)
    }

    pub(super) fn remove(&self, ids: &[StoryId]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for id in ids {
            batch.remove(&id.0);
        }
        self.tree.apply_batch(batch)?;
        Ok(())
    }
}
