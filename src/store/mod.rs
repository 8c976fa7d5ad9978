//! The story store: sled trees for stories, the by-time index, the topic indexes, per-source
//! fetch state and the schema version, behind a small `Store` interface. One fetch's writes
//! land atomically and are flushed before the fetch is reported done.

#[cfg(test)]
mod embedding_tests;
mod index;
pub(crate) mod keys;
mod ledger;
#[cfg(test)]
mod llm_tests;
pub mod merge;
mod outbox;
mod push;
mod queue;
mod records;
mod schema;
#[cfg(test)]
mod tests;

pub use index::StoryIndex;
use ledger::Ledger;
pub(crate) use outbox::Delivery;
pub use queue::Queue;
use queue::WorkQueue;
pub use records::{ArticleState, SourceState};

use crate::llm::state::LlmAttempt;
use crate::llm::LlmState;
use crate::model::{Article, LlmSummary, Story, StoryId};
use crate::normalize::Candidate;
use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

pub use schema::SCHEMA_VERSION;
/// sled's page cache: explicit so memory use is known, not sled's default.
const CACHE_CAPACITY: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "store {dir}: in use by another process (is another feedsift process using this data_dir?)"
    )]
    Locked { dir: PathBuf },
    #[error("store {dir}: cannot open: {source}")]
    Open { dir: PathBuf, source: sled::Error },
    #[error("store {dir}: the database is damaged ({detail}); restore {dir} from a backup, or move it aside to start with an empty store")]
    Damaged { dir: PathBuf, detail: String },
    #[error("store {path}: the disk is full ({source}); free space, nothing stored was lost")]
    DiskFull {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("store {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("store {dir}: written by a newer feedsift (schema {found}, this build reads {SCHEMA_VERSION}); upgrade feedsift or use another data_dir")]
    NewerSchema { dir: PathBuf, found: u64 },
    #[error("store: {0}")]
    Sled(sled::Error),
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
    /// Stories waiting for their article (see `queue::Queue`).
    article_queue: WorkQueue,
    /// Stories waiting for their embedding.
    embed_queue: WorkQueue,
    /// Stories that may want a summary from the language model.
    llm_queue: WorkQueue,
    /// Per story, the model's refused answers (`llm::state::LlmAttempt`).
    llm_attempts: sled::Tree,
    /// Schema version and story count.
    meta: sled::Tree,
    /// Entries of every secondary index, each under its own prefix.
    index_entries: sled::Tree,
    /// Per index prefix: fingerprint and whether it is complete.
    index_meta: sled::Tree,
    /// Stories changed since the indexes last filed them, with the rank key they were filed
    /// under.
    dirty: sled::Tree,
    /// What push told the outside world: per topic, the digest of the feed hubs last heard of.
    push: sled::Tree,
    /// Webhook deliveries not yet acknowledged, per webhook in the order made.
    outbox: sled::Tree,
    /// Per webhook and topic, the stories it was sent (or has queued): never sent twice.
    webhook_sent: sled::Tree,
    indexes: Arc<RwLock<Arc<index::Registry>>>,
    /// Some index exists or is registered, so writes mark what they change.
    indexed: Arc<AtomicBool>,
    /// Number of stories, kept in `meta` (sled's `len` walks the whole tree).
    count: Arc<AtomicU64>,
    /// Read-merge-write of stories is serialized so two sources seeing the same story at
    /// the same moment never lose each other's sighting.
    write_lock: Arc<Mutex<()>>,
    /// Bumped after every change of stories: lets readers cache what they derive.
    generation: Arc<AtomicU64>,
    /// The least story count the store holds, kept outside sled's files.
    ledger: Arc<Ledger>,
    /// Per source, why its last fetch state could not be written (a full disk, say): held
    /// here since the store could not take it, until a write of the source's state succeeds.
    state_write_errors: Arc<Mutex<HashMap<String, String>>>,
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> StoreError {
        match e {
            sled::Error::Io(io) if is_disk_full(&io) => StoreError::DiskFull {
                path: PathBuf::from("data_dir"),
                source: io,
            },
            e => StoreError::Sled(e),
        }
    }
}

impl StoreError {
    /// An I/O error on `path`, told apart: a full disk, or anything else.
    pub(crate) fn io(path: &Path, source: std::io::Error) -> StoreError {
        if is_disk_full(&source) {
            StoreError::DiskFull {
                path: path.to_path_buf(),
                source,
            }
        } else {
            StoreError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    }

    /// sled's error on opening `dir`, told apart: another process holds the lock, the files
    /// are damaged, the disk is full, or something else.
    fn opening(dir: &Path, source: sled::Error) -> StoreError {
        let dir = dir.to_path_buf();
        match source {
            sled::Error::Io(e) if is_lock_contention(&e) => StoreError::Locked { dir },
            sled::Error::Io(e) if is_disk_full(&e) => StoreError::DiskFull {
                path: dir,
                source: e,
            },
            sled::Error::Corruption { .. } | sled::Error::Unsupported(_) => StoreError::Damaged {
                detail: source.to_string(),
                dir,
            },
            source => StoreError::Open { dir, source },
        }
    }
}

/// sled wraps the OS's "would block" from `flock` in an error of its own words.
fn is_lock_contention(e: &std::io::Error) -> bool {
    let inner_would_block = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<std::io::Error>())
        .is_some_and(|inner| inner.kind() == std::io::ErrorKind::WouldBlock);
    e.kind() == std::io::ErrorKind::WouldBlock
        || inner_would_block
        || e.to_string().contains("could not acquire lock")
}

fn is_disk_full(e: &std::io::Error) -> bool {
    // ENOSPC and EDQUOT; by kind too, since sled hands out copies of the error that hit its
    // writer, and a copy keeps the kind but not the OS code.
    matches!(e.raw_os_error(), Some(28) | Some(122))
        || matches!(
            e.kind(),
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
        )
}

/// sled's unfinished snapshots: an empty one (left by a process stopped on a full disk)
/// makes the store unopenable, and none of them holds anything yet.
fn remove_unfinished_snapshots(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let empty = entry.metadata().is_ok_and(|m| m.is_file() && m.len() == 0);
        if name.starts_with("snap.") && name.ends_with(".generating") && empty {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

impl Store {
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        remove_unfinished_snapshots(dir);
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_CAPACITY)
            .open()
            .map_err(|e| StoreError::opening(dir, e))?;
        schema::migrate(&db, dir)?;
        let meta = db.open_tree("meta")?;
        let by_time = db.open_tree("by_time")?;
        let count = schema::story_count(&meta, &by_time)?;
        let ledger = Ledger::in_dir(dir);
        match ledger.read()? {
            Some(expected) if count < expected => {
                return Err(StoreError::Damaged {
                    dir: dir.to_path_buf(),
                    detail: format!(
                        "it holds {count} stories, but {} records that it held at least {expected}",
                        ledger.path().display()
                    ),
                })
            }
            Some(_) => {}
            None => ledger.record(count)?,
        }
        let index_meta = db.open_tree("index_meta")?;
        Ok(Store {
            ledger: Arc::new(ledger),
            stories: db.open_tree("stories")?,
            by_time,
            sources: db.open_tree("sources")?,
            articles: db.open_tree("articles")?,
            article_queue: WorkQueue::open(&db, Queue::Articles)?,
            embed_queue: WorkQueue::open(&db, Queue::Embeddings)?,
            llm_queue: WorkQueue::open(&db, Queue::LlmSummaries)?,
            llm_attempts: db.open_tree("llm_attempts")?,
            meta,
            index_entries: db.open_tree("index_entries")?,
            indexed: Arc::new(AtomicBool::new(!index_meta.is_empty())),
            index_meta,
            dirty: db.open_tree("index_dirty")?,
            push: db.open_tree("push")?,
            outbox: db.open_tree("webhook_outbox")?,
            webhook_sent: db.open_tree("webhook_sent")?,
            indexes: Arc::default(),
            count: Arc::new(AtomicU64::new(count)),
            db,
            write_lock: Arc::new(Mutex::new(())),
            generation: Arc::new(AtomicU64::new(1)),
            state_write_errors: Arc::default(),
        })
    }

    /// Opens the store at `dir` as a test reopening a store it just dropped: sled's flusher
    /// thread may hold the file lock a moment longer, so `Locked` is waited out (2 s).
    #[cfg(test)]
    pub(crate) fn reopen(dir: &Path) -> Result<Store, StoreError> {
        for _ in 0..100 {
            match Store::open(dir) {
                Err(StoreError::Locked { .. }) => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                other => return other,
            }
        }
        Store::open(dir)
    }

    /// Read-merge-write of stories is serialized (see `write_lock`).
    fn lock_writes(&self) -> MutexGuard<'_, ()> {
        self.write_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The write lock when nobody holds it, without waiting.
    fn try_lock_writes(&self) -> Option<MutexGuard<'_, ()>> {
        match self.write_lock.try_lock() {
            Ok(guard) => Some(guard),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// Changes whenever stories change.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Merges one fetch's candidates and records the source's fetch state, atomically, then
    /// flushes to disk. A failure is remembered for the source (`state_write_error`).
    pub fn apply(
        &self,
        candidates: &[Candidate],
        source_id: &str,
        state: &SourceState,
    ) -> Result<ApplyReport, StoreError> {
        let result = self.apply_batch(candidates, source_id, state);
        self.note_state_write(source_id, &result);
        result
    }

    fn apply_batch(
        &self,
        candidates: &[Candidate],
        source_id: &str,
        state: &SourceState,
    ) -> Result<ApplyReport, StoreError> {
        let state_bytes = encode(state)?;
        let _guard = self.lock_writes();
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
            let story = merge::merge(current, c);
            merged.insert(c.id, (original, story));
        }
        let mut report = ApplyReport::default();
        let mut writes = Vec::new();
        let tracks = self.tracks_changes();
        let queues = self.article_queue.is_on();
        let queues_embeddings = self.embed_queue.is_on();
        let queues_llm = self.llm_queue.is_on();
        for (original, story) in merged.into_values() {
            let old_key = match &original {
                None => {
                    report.new += 1;
                    None
                }
                Some(o) if *o == story => {
                    report.unchanged += 1;
                    continue;
                }
                Some(o) => {
                    report.updated += 1;
                    Some(keys::by_time_key(o.published, o.id))
                }
            };
            let new_key = keys::by_time_key(story.published, story.id);
            // The by-time entry moves only when the publication time did.
            let moved = old_key.filter(|old| *old != new_key);
            let by_time_at = (old_key != Some(new_key)).then_some(new_key);
            let dirty = tracks.then(|| index::dirty_value(original.as_ref()));
            let points_moved = original
                .as_ref()
                .is_none_or(|o| o.top_points() != story.top_points());
            let queue_article = queues && points_moved;
            // Two texts built per updated story: only when some queue wants to know.
            let text_changed = (queues_embeddings || queues_llm)
                && original
                    .as_ref()
                    .is_none_or(|o| o.embedding_text() != story.embedding_text());
            let queue_embedding = queues_embeddings && text_changed;
            writes.push(Write {
                queue_embedding,
                queue_llm: queues_llm && (text_changed || points_moved),
                id: story.id,
                bytes: schema::encode_story(&story)?,
                moved,
                by_time_at,
                dirty,
                queue_article,
            });
        }
        let count = self.count.load(Ordering::Acquire) + report.new as u64;
        (
            &self.stories,
            &self.by_time,
            &self.sources,
            &self.dirty,
            &self.meta,
            &self.article_queue.tree,
            &self.embed_queue.tree,
            &self.llm_queue.tree,
        )
            .transaction(
                |(stories, by_time, sources, dirty, meta, queue, embed_queue, llm_queue)| {
                    for w in &writes {
                        stories.insert(&w.id.0, w.bytes.as_slice())?;
                        if w.queue_llm {
                            llm_queue.insert(&w.id.0, &[])?;
                        }
                        if w.queue_article {
                            queue.insert(&w.id.0, &[])?;
                        }
                        if w.queue_embedding {
                            embed_queue.insert(&w.id.0, &[])?;
                        }
                        if let Some(old) = w.moved {
                            by_time.remove(old.as_slice())?;
                        }
                        if let Some(new) = w.by_time_at {
                            by_time.insert(new.as_slice(), &[])?;
                        }
                        if let Some(filed) = &w.dirty {
                            index::mark(dirty, w.id, filed)?;
                        }
                    }
                    sources.insert(source_id.as_bytes(), state_bytes.as_slice())?;
                    if !queues_embeddings && !writes.is_empty() {
                        // Stories written unqueued: a backfill must look again.
                        meta.remove(schema::EMBEDDINGS_QUEUED_KEY)?;
                    }
                    if !queues_llm && !writes.is_empty() {
                        meta.remove(schema::LLM_QUEUED_KEY)?;
                    }
                    if report.new > 0 {
                        meta.insert(schema::COUNT_KEY, &count.to_be_bytes())?;
                    }
                    Ok::<_, ConflictableTransactionError<()>>(())
                },
            )
            .map_err(|e| transaction_error(e, source_id))?;
        self.db.flush()?;
        self.count.store(count, Ordering::Release);
        if report.new > 0 {
            self.ledger.record(count)?;
        }
        if report.new + report.updated > 0 {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        Ok(report)
    }

    /// Records a source's fetch state alone (a failed or unchanged fetch), flushed. A failure
    /// is remembered for the source (`state_write_error`).
    pub fn put_source_state(&self, source_id: &str, state: &SourceState) -> Result<(), StoreError> {
        let result = encode(state).and_then(|bytes| {
            self.sources.insert(source_id.as_bytes(), bytes)?;
            self.db.flush()?;
            Ok(())
        });
        self.note_state_write(source_id, &result);
        result
    }

    /// Why the last fetch state of `source_id` could not be written, while no later write of
    /// it has succeeded: what the stored state (if any) does not tell.
    pub fn state_write_error(&self, source_id: &str) -> Option<String> {
        let errors = self
            .state_write_errors
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        errors.get(source_id).cloned()
    }

    /// Remembers how a write of `source_id`'s fetch state went (see `state_write_error`).
    pub(crate) fn note_state_write<T>(&self, source_id: &str, result: &Result<T, StoreError>) {
        let mut errors = self
            .state_write_errors
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(_) => {
                errors.remove(source_id);
            }
            Err(e) => {
                errors.insert(source_id.to_string(), e.to_string());
            }
        }
    }

    pub fn source_state(&self, source_id: &str) -> Result<Option<SourceState>, StoreError> {
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
        self.newest_since(since, usize::MAX)
    }

    /// The newest `max` stories published at or after `since`, newest first.
    pub fn newest_since(&self, since: DateTime<Utc>, max: usize) -> Result<Vec<Story>, StoreError> {
        let mut out = Vec::new();
        for entry in self.by_time.range(keys::time_prefix(since)..).rev() {
            if out.len() >= max {
                break;
            }
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

    /// Records what a story's article page gave: its excerpt (rules read it) and, when the
    /// story has no summary yet, the summary made from it; with the article state, in one
    /// transaction, flushed. Returns false when the story is gone or nothing changed.
    pub fn set_article(
        &self,
        id: StoryId,
        article: Option<Article>,
        summary: &str,
        article_state: &ArticleState,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let state_bytes = encode(article_state)?;
        let _guard = self.lock_writes();
        let (story_bytes, dirty_value) = match self.story(id)? {
            Some(mut story) => {
                // An article can bring a story into a topic or take it out (rules read it),
                // never move its rank.
                let filed = index::dirty_value(Some(&story));
                let mut changed = false;
                if story.summary.is_empty() && !summary.is_empty() {
                    story.summary = summary.to_string();
                    story.revised = Some(at);
                    changed = true;
                }
                if article.is_some() && story.article != article {
                    story.article = article;
                    changed = true;
                }
                if changed {
                    story.updated = story.updated.max(at);
                    (Some(schema::encode_story(&story)?), Some(filed))
                } else {
                    (None, None)
                }
            }
            None => (None, None),
        };
        let dirty_value = dirty_value.filter(|_| self.tracks_changes());
        let changed = story_bytes.is_some();
        // A new summary or excerpt changes the embedding text.
        let queue_embedding = changed && self.embed_queue.is_on();
        let missed_embedding = changed && !queue_embedding;
        // ... and the text the language model summarizes.
        let queue_llm = changed && self.llm_queue.is_on();
        // The article and the "done" state land together: a crash between them must not
        // leave an article marked done whose text was never stored.
        (
            &self.stories,
            &self.articles,
            &self.dirty,
            &self.embed_queue.tree,
            &self.meta,
            &self.llm_queue.tree,
        )
            .transaction(|(stories, articles, dirty, embed_queue, meta, llm_queue)| {
                if let Some(bytes) = &story_bytes {
                    stories.insert(&id.0, bytes.as_slice())?;
                }
                if queue_llm {
                    llm_queue.insert(&id.0, &[])?;
                }
                if queue_embedding {
                    embed_queue.insert(&id.0, &[])?;
                }
                if missed_embedding {
                    meta.remove(schema::EMBEDDINGS_QUEUED_KEY)?;
                }
                if changed && !queue_llm {
                    meta.remove(schema::LLM_QUEUED_KEY)?;
                }
                if let Some(filed) = &dirty_value {
                    index::mark(dirty, id, filed)?;
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

    fn queue(&self, queue: Queue) -> &WorkQueue {
        match queue {
            Queue::Articles => &self.article_queue,
            Queue::Embeddings => &self.embed_queue,
            Queue::LlmSummaries => &self.llm_queue,
        }
    }

    /// Whether writes mark stories for `queue`: on while some topic wants that work (reads
    /// articles, or has `[topic.about]`).
    pub fn set_queueing(&self, queue: Queue, on: bool) {
        self.queue(queue).set_on(on);
    }

    /// Up to `max` stories waiting in `queue`, in id order (the queue is a set).
    pub fn queued(&self, queue: Queue, max: usize) -> Result<Vec<StoryId>, StoreError> {
        self.queue(queue).peek(max)
    }

    /// Takes stories off `queue` (their work is done, or not wanted now).
    pub fn dequeue(&self, queue: Queue, ids: &[StoryId]) -> Result<(), StoreError> {
        self.queue(queue).remove(ids)
    }

    /// Whether nothing waits in `queue` (cheap, unlike counting).
    pub fn queue_is_empty(&self, queue: Queue) -> bool {
        self.queue(queue).tree.is_empty()
    }

    /// How many stories wait in `queue` (walks it: for reports, not loops).
    pub fn queue_len(&self, queue: Queue) -> usize {
        self.queue(queue).tree.len()
    }

    /// Turns the embedding queue on and, unless it has been on since the last time it was
    /// off, queues every stored story without an embedding of its current text (stories
    /// written while no topic had `[topic.about]`, or before embeddings existed). Reads the
    /// stories one by one, never the whole store at once. Returns how many were queued.
    pub fn backfill_embeddings(&self) -> Result<usize, StoreError> {
        self.backfill(
            Queue::Embeddings,
            schema::EMBEDDINGS_QUEUED_KEY,
            DateTime::<Utc>::MIN_UTC,
            |s| s.current_embedding().is_none(),
        )
    }

    /// Turns the LLM queue on and, unless it has been on since the last time it was off,
    /// queues the stories published since `since` that have no summary from the model
    /// (stored before a topic opted in). Returns how many were queued.
    pub(crate) fn backfill_llm_summaries(&self, since: DateTime<Utc>) -> Result<usize, StoreError> {
        self.backfill(Queue::LlmSummaries, schema::LLM_QUEUED_KEY, since, |s| {
            s.llm_summary.is_none()
        })
    }

    /// Turns `queue` on and queues the stories since `since` that `due` says need its work,
    /// unless `flag` says the queue has been on since it was last off; then sets `flag`.
    fn backfill(
        &self,
        queue: Queue,
        flag: &str,
        since: DateTime<Utc>,
        due: impl Fn(&Story) -> bool,
    ) -> Result<usize, StoreError> {
        let work = self.queue(queue);
        work.set_on(true);
        if self.meta.get(flag)?.is_some() {
            return Ok(0);
        }
        const BATCH: usize = 1000;
        let (mut batch, mut pending, mut queued) = (sled::Batch::default(), 0, 0);
        for key in self.by_time.range(keys::time_prefix(since)..).keys() {
            let Some(id) = keys::id_of_by_time_key(&key?) else {
                continue;
            };
            if self.story(id)?.is_some_and(|s| due(&s)) {
                batch.insert(&id.0, &[]);
                pending += 1;
                queued += 1;
            }
            if pending == BATCH {
                work.tree.apply_batch(std::mem::take(&mut batch))?;
                pending = 0;
            }
        }
        work.tree.apply_batch(batch)?;
        self.meta.insert(flag, &[1])?;
        Ok(queued)
    }

    /// Records a story's embedding computed from the text whose hash is `text_hash`, takes it
    /// off the embedding queue and marks it for the topic indexes (similarity can bring it
    /// into a topic), in one transaction. When the story is gone it only leaves the queue;
    /// when its text changed since (another embedding is due) nothing is written. Returns
    /// whether the embedding was stored.
    pub fn set_embedding(
        &self,
        id: StoryId,
        text_hash: u64,
        vector: Vec<u8>,
    ) -> Result<bool, StoreError> {
        let _guard = self.lock_writes();
        let Some(mut story) = self.story(id)? else {
            self.embed_queue.remove(&[id])?;
            return Ok(false);
        };
        if story.embedding_text_hash() != text_hash {
            return Ok(false);
        }
        let filed = index::dirty_value(Some(&story));
        let dirty_value = self.tracks_changes().then_some(filed);
        story.embedding = Some(crate::model::StoredEmbedding { text_hash, vector });
        let bytes = schema::encode_story(&story)?;
        (&self.stories, &self.dirty, &self.embed_queue.tree)
            .transaction(|(stories, dirty, embed_queue)| {
                stories.insert(&id.0, bytes.as_slice())?;
                if let Some(filed) = &dirty_value {
                    index::mark(dirty, id, filed)?;
                }
                embed_queue.remove(&id.0)?;
                Ok::<_, ConflictableTransactionError<()>>(())
            })
            .map_err(|e| transaction_error(e, &id.to_hex()))?;
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(true)
    }

    pub fn article_state(&self, id: StoryId) -> Result<Option<ArticleState>, StoreError> {
        self.articles
            .get(id.0)?
            .map(|bytes| decode(&bytes, &id.to_hex()))
            .transpose()
    }

    pub fn put_article_state(&self, id: StoryId, state: &ArticleState) -> Result<(), StoreError> {
        self.articles.insert(id.0, encode(state)?)?;
        self.db.flush()?;
        Ok(())
    }

    /// Whether `id` waits in `queue`.
    pub fn is_queued(&self, queue: Queue, id: StoryId) -> Result<bool, StoreError> {
        Ok(self.queue(queue).tree.contains_key(id.0)?)
    }

    /// Records the language model's summary of a story, takes it off the LLM queue and forgets
    /// its refused answers, in one transaction. Rules never read it, so no index changes; the
    /// generation moves, so rendered feeds refresh. False when the story is gone.
    /// `asked_about` is the story's `embedding_text_hash` when the model was asked: when a poll
    /// changed the text meanwhile, the story stays queued for a summary of its new text.
    pub(crate) fn set_llm_summary(
        &self,
        id: StoryId,
        summary: LlmSummary,
        asked_about: u64,
    ) -> Result<bool, StoreError> {
        let _guard = self.lock_writes();
        let Some(mut story) = self.story(id)? else {
            self.llm_queue.remove(&[id])?;
            return Ok(false);
        };
        let text_changed = story.embedding_text_hash() != asked_about;
        story.llm_summary = Some(summary);
        let bytes = schema::encode_story(&story)?;
        (&self.stories, &self.llm_queue.tree, &self.llm_attempts)
            .transaction(|(stories, llm_queue, llm_attempts)| {
                stories.insert(&id.0, bytes.as_slice())?;
                if !text_changed {
                    llm_queue.remove(&id.0)?;
                }
                llm_attempts.remove(&id.0)?;
                Ok::<_, ConflictableTransactionError<()>>(())
            })
            .map_err(|e| transaction_error(e, &id.to_hex()))?;
        self.db.flush()?;
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(true)
    }

    /// The model's refused answers for a story, if any.
    pub(crate) fn llm_attempt(&self, id: StoryId) -> Result<Option<LlmAttempt>, StoreError> {
        self.llm_attempts
            .get(id.0)?
            .map(|bytes| decode(&bytes, &id.to_hex()))
            .transpose()
    }

    pub(crate) fn put_llm_attempt(
        &self,
        id: StoryId,
        attempt: &LlmAttempt,
    ) -> Result<(), StoreError> {
        self.llm_attempts.insert(id.0, encode(attempt)?)?;
        Ok(())
    }

    /// Where the language model stands (budget, backoff, counts); the default before any call.
    pub(crate) fn llm_state(&self) -> Result<LlmState, StoreError> {
        self.meta
            .get(schema::LLM_STATE_KEY)?
            .map(|bytes| decode(&bytes, schema::LLM_STATE_KEY))
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// Records where the language model stands, flushed: the budget holds across restarts.
    pub(crate) fn put_llm_state(&self, state: &LlmState) -> Result<(), StoreError> {
        self.meta.insert(schema::LLM_STATE_KEY, encode(state)?)?;
        self.db.flush()?;
        Ok(())
    }

    pub fn story_count(&self) -> usize {
        self.count.load(Ordering::Acquire) as usize
    }

    /// Removes stories published before `cutoff`; returns how many.
    /// At most `max` of them per call, so a large prune can be interleaved with other writes
    /// and stopped between calls.
    pub fn prune_before(&self, cutoff: DateTime<Utc>, max: usize) -> Result<usize, StoreError> {
        let _guard = self.lock_writes();
        let mut doomed = Vec::new();
        for entry in self.by_time.range(..keys::time_prefix(cutoff)).take(max) {
            let (key, _) = entry?;
            let id = keys::id_of_by_time_key(&key);
            let filed = match (id, self.tracks_changes()) {
                (Some(id), true) => Some(index::dirty_value(self.story(id)?.as_ref())),
                _ => None,
            };
            doomed.push((key, id, filed));
        }
        if doomed.is_empty() {
            return Ok(0);
        }
        let removed_stories = doomed.iter().filter(|(_, id, _)| id.is_some()).count() as u64;
        let count = self
            .count
            .load(Ordering::Acquire)
            .saturating_sub(removed_stories);
        // Lowered before the stories go: the ledger never claims more than the store holds.
        self.ledger.record(count)?;
        (
            &self.stories,
            &self.articles,
            &self.by_time,
            &self.dirty,
            &self.meta,
            &self.article_queue.tree,
            &self.embed_queue.tree,
            &self.llm_queue.tree,
            &self.llm_attempts,
        )
            .transaction(
                |(
                    stories,
                    articles,
                    by_time,
                    dirty,
                    meta,
                    queue,
                    embed_queue,
                    llm_queue,
                    llm_attempts,
                )| {
                    for (key, id, filed) in &doomed {
                        if let Some(id) = id {
                            stories.remove(&id.0)?;
                            articles.remove(&id.0)?;
                            queue.remove(&id.0)?;
                            embed_queue.remove(&id.0)?;
                            llm_queue.remove(&id.0)?;
                            llm_attempts.remove(&id.0)?;
                            if let Some(filed) = filed {
                                index::mark(dirty, *id, filed)?;
                            }
                        }
                        by_time.remove(key)?;
                    }
                    meta.insert(schema::COUNT_KEY, &count.to_be_bytes())?;
                    Ok::<_, ConflictableTransactionError<()>>(())
                },
            )
            .map_err(|e| transaction_error(e, "(prune)"))?;
        self.db.flush()?;
        self.count.store(count, Ordering::Release);
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(doomed.len())
    }

    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}

/// One story's writes in `apply`.
struct Write {
    id: StoryId,
    bytes: Vec<u8>,
    /// By-time key to remove (the publication time moved).
    moved: Option<[u8; 24]>,
    /// By-time key to add.
    by_time_at: Option<[u8; 24]>,
    /// Dirty mark for the indexes (when any exists).
    dirty: Option<Vec<u8>>,
    /// Queue the story for the article worker.
    queue_article: bool,
    /// Queue the story for the embedding chore.
    queue_embedding: bool,
    /// Queue the story for the language model's summary.
    queue_llm: bool,
}

/// Our transactions never abort on purpose: an abort means the record was unusable.
fn transaction_error(e: TransactionError<()>, key: &str) -> StoreError {
    match e {
        TransactionError::Storage(e) => StoreError::from(e),
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
