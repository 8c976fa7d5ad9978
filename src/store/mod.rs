//! The story store: sled trees for stories, the by-time index, per-source fetch state and
//! the schema version, behind a small `Store` interface. One fetch's writes land atomically
//! and are flushed before the fetch is reported done.

pub(crate) mod keys;
pub mod merge;
mod schema;
#[cfg(test)]
mod tests;

pub use merge::{Candidate, Change};

use crate::model::{Story, StoryId};
use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub use schema::SCHEMA_VERSION;
/// sled's page cache: explicit so memory use is known, not sled's default.
const CACHE_CAPACITY: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "store {dir}: cannot open: {source} (is another feedsift process using this data_dir?)"
    )]
    Open { dir: PathBuf, source: sled::Error },
    #[error("store {dir}: written by a newer feedsift (schema {found}, this build reads {SCHEMA_VERSION}); upgrade feedsift or use another data_dir")]
    NewerSchema { dir: PathBuf, found: u64 },
    #[error("store: {0}")]
    Sled(#[from] sled::Error),
    #[error("store: corrupt record {key}: {message}")]
    Corrupt { key: String, message: String },
}

/// Counts of what one batch did to the store.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ApplyReport {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
}

#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    stories: sled::Tree,
    by_time: sled::Tree,
    sources: sled::Tree,
    /// Per-story article fetch state (for article summaries).
    articles: sled::Tree,
    /// Read-merge-write of stories is serialized so two sources seeing the same story at
    /// the same moment never lose each other's sighting.
    write_lock: Arc<Mutex<()>>,
    /// Bumped after every change of stories: lets readers cache what they derive.
    generation: Arc<AtomicU64>,
}

impl Store {
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            dir: dir.to_path_buf(),
            source,
        };
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_CAPACITY)
            .open()
            .map_err(open_err)?;
        schema::migrate(&db, dir)?;
        Ok(Store {
            stories: db.open_tree("stories")?,
            by_time: db.open_tree("by_time")?,
            sources: db.open_tree("sources")?,
            articles: db.open_tree("articles")?,
            db,
            write_lock: Arc::new(Mutex::new(())),
            generation: Arc::new(AtomicU64::new(1)),
        })
    }

    /// Changes whenever stories change.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Merges one fetch's candidates and records the source's fetch state, atomically, then
    /// flushes to disk.
    pub fn apply<S: Serialize>(
        &self,
        candidates: &[Candidate],
        source_id: &str,
        state: &S,
    ) -> Result<ApplyReport, StoreError> {
        let state_bytes = encode(state)?;
        let _guard = self
            .write_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Story id -> (as stored before this batch, after merging the batch's sightings).
        let mut merged: BTreeMap<StoryId, (Option<Story>, Story)> = BTreeMap::new();
        for c in candidates {
            let (original, current) = match merged.remove(&c.id) {
                Some((original, story)) => (original, Some(story)),
                None => {
                    let original = self.story(c.id)?;
                    (original.clone(), original)
                }
            };
            let (story, _) = merge::merge(current, c);
            merged.insert(c.id, (original, story));
        }
        let mut report = ApplyReport::default();
        let mut writes = Vec::new();
        for (original, story) in merged.into_values() {
            let old_key = match original {
                None => {
                    report.new += 1;
                    None
                }
                Some(o) if o == story => {
                    report.unchanged += 1;
                    continue;
                }
                Some(o) => {
                    report.updated += 1;
                    Some(keys::by_time_key(o.published, o.id))
                }
            };
            let new_key = keys::by_time_key(story.published, story.id);
            // The index entry moves only when the publication time did.
            let moved = old_key.filter(|old| *old != new_key);
            let index = (old_key != Some(new_key)).then_some(new_key);
            writes.push((story.id, schema::encode_story(&story)?, moved, index));
        }
        (&self.stories, &self.by_time, &self.sources)
            .transaction(|(stories, by_time, sources)| {
                for (id, bytes, moved_from, index_at) in &writes {
                    stories.insert(&id.0, bytes.as_slice())?;
                    if let Some(old) = moved_from {
                        by_time.remove(old.as_slice())?;
                    }
                    if let Some(new) = index_at {
                        by_time.insert(new.as_slice(), &[])?;
                    }
                }
                sources.insert(source_id.as_bytes(), state_bytes.as_slice())?;
                Ok::<_, ConflictableTransactionError<()>>(())
            })
            .map_err(|e| transaction_error(e, source_id))?;
        self.db.flush()?;
        if report.new + report.updated > 0 {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        Ok(report)
    }

    /// Records a source's fetch state alone (a failed or unchanged fetch), flushed.
    pub fn put_source_state<S: Serialize>(
        &self,
        source_id: &str,
        state: &S,
    ) -> Result<(), StoreError> {
        self.sources.insert(source_id.as_bytes(), encode(state)?)?;
        self.db.flush()?;
        Ok(())
    }

    pub fn source_state<S: DeserializeOwned>(
        &self,
        source_id: &str,
    ) -> Result<Option<S>, StoreError> {
        self.sources
            .get(source_id.as_bytes())?
            .map(|bytes| decode(&bytes, source_id))
            .transpose()
    }

    pub fn story(&self, id: StoryId) -> Result<Option<Story>, StoreError> {
        self.stories
            .get(id.0)?
            .map(|bytes| schema::decode_story(&bytes, &id.0))
            .transpose()
    }

    /// Stories published at or after `since`, newest first; reads only the window, never the
    /// whole store.
    pub fn stories_since(&self, since: DateTime<Utc>) -> Result<Vec<Story>, StoreError> {
        let mut out = Vec::new();
        for entry in self.by_time.range(keys::time_prefix(since)..).rev() {
            let (key, _) = entry?;
            let Some(id) = keys::id_of_by_time_key(&key) else {
                continue;
            };
            if let Some(story) = self.story(id)? {
                out.push(story);
            }
        }
        Ok(out)
    }

    /// Sets the summary of a story that still has none (an article summary arriving late),
    /// records the article state with it, and flushes. Returns false when the story is gone
    /// or already has a summary.
    pub fn set_summary<S: Serialize>(
        &self,
        id: StoryId,
        summary: &str,
        article_state: &S,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let state_bytes = encode(article_state)?;
        let _guard = self
            .write_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let story_bytes = match self.story(id)? {
            Some(mut story) if story.summary.is_empty() && !summary.is_empty() => {
                story.summary = summary.to_string();
                story.revised = Some(at);
                story.updated = story.updated.max(at);
                Some(schema::encode_story(&story)?)
            }
            _ => None,
        };
        let changed = story_bytes.is_some();
        // The summary and the "done" state land together: a crash between them must not leave
        // an article marked done whose summary was never stored.
        (&self.stories, &self.articles)
            .transaction(|(stories, articles)| {
                if let Some(bytes) = &story_bytes {
                    stories.insert(&id.0, bytes.as_slice())?;
                }
                articles.insert(&id.0, state_bytes.as_slice())?;
                Ok::<_, ConflictableTransactionError<()>>(())
            })
            .map_err(|e| transaction_error(e, &id.to_hex()))?;
        self.db.flush()?;
        if changed {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        Ok(changed)
    }

    pub fn article_state<S: DeserializeOwned>(&self, id: StoryId) -> Result<Option<S>, StoreError> {
        self.articles
            .get(id.0)?
            .map(|bytes| decode(&bytes, &id.to_hex()))
            .transpose()
    }

    pub fn put_article_state<S: Serialize>(
        &self,
        id: StoryId,
        state: &S,
    ) -> Result<(), StoreError> {
        self.articles.insert(id.0, encode(state)?)?;
        self.db.flush()?;
        Ok(())
    }

    pub fn story_count(&self) -> usize {
        self.stories.len()
    }

    /// Removes stories published before `cutoff`; returns how many.
    /// At most `max` of them per call, so a large prune can be interleaved with other writes
    /// and stopped between calls.
    pub fn prune_before(&self, cutoff: DateTime<Utc>, max: usize) -> Result<usize, StoreError> {
        let _guard = self
            .write_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut removed = 0;
        for entry in self.by_time.range(..keys::time_prefix(cutoff)).take(max) {
            let (key, _) = entry?;
            if let Some(id) = keys::id_of_by_time_key(&key) {
                self.stories.remove(id.0)?;
                self.articles.remove(id.0)?;
            }
            self.by_time.remove(key)?;
            removed += 1;
        }
        if removed > 0 {
            self.db.flush()?;
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        Ok(removed)
    }

    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}

/// Our transactions never abort on purpose: an abort means the record was unusable.
fn transaction_error(e: TransactionError<()>, key: &str) -> StoreError {
    match e {
        TransactionError::Storage(e) => StoreError::Sled(e),
        TransactionError::Abort(()) => StoreError::Corrupt {
            key: key.into(),
            message: "transaction aborted".into(),
        },
    }
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Corrupt {
        key: "(new record)".into(),
        message: e.to_string(),
    })
}

fn decode<T: DeserializeOwned>(bytes: &[u8], key: &str) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        key: key.into(),
        message: e.to_string(),
    })
}
