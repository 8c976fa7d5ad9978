//! The story store: trees for stories, the by-time index, the topic indexes, per-source
//! fetch state and the schema version, behind one `Store` interface over two engines (`kv`:
//! sled or PostgreSQL). One fetch's writes land atomically and are durable before the fetch
//! is reported done.

#[cfg(test)]
mod embedding_tests;
mod index;
pub(crate) mod keys;
mod kv;
mod ledger;
#[cfg(test)]
mod llm_tests;
pub mod merge;
mod outbox;
pub(crate) mod postgres;
mod push;
mod queue;
mod records;
mod schema;
#[cfg(test)]
pub(crate) mod test_backends;
#[cfg(test)]
mod tests;
mod write_lock;

pub use index::StoryIndex;
use kv::{Batch, Direction, KeyRange, Kv, SledKv, Tree};
use ledger::Ledger;
pub(crate) use outbox::Delivery;
pub use queue::Queue;
use queue::WorkQueue;
pub use records::{ArticleState, SourceState};
use write_lock::{WriteGuard, WriteLock};

use crate::llm::state::LlmAttempt;
use crate::llm::LlmState;
use crate::model::{Article, LlmSummary, Story, StoryId};
use crate::normalize::Candidate;
use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

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
    #[error("store {place}: written by a newer feedsift (schema {found}, this build reads {SCHEMA_VERSION}); upgrade feedsift or use another store")]
    NewerSchema { place: String, found: u64 },
    #[error("store: {0}")]
    Sled(sled::Error),
    #[error("store: corrupt record {key}: {message}")]
    Corrupt { key: String, message: String },
    #[error("store {place}: {detail}")]
    Database { place: String, detail: String },
    #[error("store {place}: migrated by a newer feedsift (database schema {found}, this build knows {known}); upgrade feedsift or use another database")]
    NewerDatabase {
        place: String,
        found: u64,
        known: u64,
    },
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
    kv: Kv,
    /// Stories waiting for their article (see `queue::Queue`).
    article_queue: WorkQueue,
    /// Stories waiting for their embedding.
    embed_queue: WorkQueue,
    /// Stories that may want a summary from the language model.
    llm_queue: WorkQueue,
    indexes: Arc<RwLock<Arc<index::Registry>>>,
    /// Some index exists or is registered, so writes mark what they change.
    indexed: Arc<AtomicBool>,
    /// Number of stories, kept in `meta` (walking the by-time tree would take long).
    count: Arc<AtomicU64>,
    /// Read-merge-write of stories is serialized so two sources seeing the same story at
    /// the same moment never lose each other's sighting.
    write_lock: Arc<WriteLock>,
    /// Bumped after every change of stories: lets readers cache what they derive.
    generation: Arc<AtomicU64>,
    /// The least story count a sled store holds, kept outside sled's files.
    ledger: Option<Arc<Ledger>>,
    /// Per source, why its last fetch state could not be written (a full disk, say): held
    /// here since the store could not take it, until a write of the source's state succeeds.
    state_write_errors: Arc<Mutex<HashMap<String, String>>>,
    /// On a database several nodes share: what divides the work between them.
    leases: Option<Leases>,
}

pub use postgres::leases::DatabaseHealth;
use postgres::leases::Leases;
pub use postgres::PgOptions;

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
    /// Opens (or creates) the sled store in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        remove_unfinished_snapshots(dir);
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_CAPACITY)
            .open()
            .map_err(|e| StoreError::opening(dir, e))?;
        let kv: Kv = std::sync::Arc::new(SledKv::new(db)?);
        schema::migrate(&kv, &dir.display().to_string())?;
        let count = schema::story_count(&kv)?;
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
        Store::on(kv, count, Some(ledger), WriteLock::local(), None)
    }

    /// Opens the store `config` names: `[store] url` (PostgreSQL), else sled in `data_dir`.
    pub fn open_for(config: &crate::config::Config) -> Result<Store, StoreError> {
        match &config.store.url {
            None => Store::open(&config.server.data_dir),
            Some(url) => Store::open_postgres(&PgOptions {
                url: url.clone(),
                node_id: config
                    .store
                    .node_id
                    .clone()
                    .unwrap_or_else(postgres::default_node_id),
                connections: config.store.connections,
                lease: config.store.lease,
            }),
        }
    }

    /// Opens (or creates) the store in the PostgreSQL database of `options`, as node
    /// `options.node_id`: migrates its schema, and hears other nodes' writes from then on.
    pub fn open_postgres(options: &PgOptions) -> Result<Store, StoreError> {
        let (pool, dialer) = postgres::connect(options)?;
        let node = options.node_id.clone();
        let kv: Kv = std::sync::Arc::new(postgres::PgKv::new(pool.clone(), node.clone()));
        let place = pool.place().to_string();
        schema::migrate(&kv, &place)?;
        let count = schema::story_count(&kv)?;
        let lock_pool = postgres::Pool::new(&dialer, &place, 1)?;
        let leases = Leases::new(pool, node.clone(), options.lease);
        let store = Store::on(kv, count, None, WriteLock::shared(lock_pool), Some(leases))?;
        postgres::listen(dialer, node, &store.generation);
        Ok(store)
    }

    /// The store over `kv`, whose schema is current and which holds `count` stories.
    fn on(
        kv: Kv,
        count: u64,
        ledger: Option<Ledger>,
        write_lock: WriteLock,
        leases: Option<Leases>,
    ) -> Result<Store, StoreError> {
        Ok(Store {
            indexed: Arc::new(AtomicBool::new(!kv.is_empty(Tree::IndexMeta)?)),
            article_queue: WorkQueue::default(),
            embed_queue: WorkQueue::default(),
            llm_queue: WorkQueue::default(),
            kv,
            ledger: ledger.map(Arc::new),
            indexes: Arc::default(),
            count: Arc::new(AtomicU64::new(count)),
            write_lock: Arc::new(write_lock),
            generation: Arc::new(AtomicU64::new(1)),
            state_write_errors: Arc::default(),
            leases,
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
    fn lock_writes(&self) -> Result<WriteGuard<'_>, StoreError> {
        self.write_lock.lock()
    }

    /// The write lock when nobody holds it, without waiting.
    fn try_lock_writes(&self) -> Result<Option<WriteGuard<'_>>, StoreError> {
        self.write_lock.try_lock()
    }

    /// Changes whenever stories change.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Stories changed: what readers derived from them is stale.
    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The number of stories as the store records it (another node may have changed it).
    fn recorded_count(&self) -> Result<u64, StoreError> {
        if self.kv.is_shared() {
            return schema::story_count(&self.kv);
        }
        Ok(self.count.load(Ordering::Acquire))
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
        let _guard = self.lock_writes()?;
        let mut ids: Vec<StoryId> = candidates.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut stored: HashMap<StoryId, Story> = self
            .stories(&ids)?
            .into_iter()
            .zip(&ids)
            .filter_map(|(story, id)| story.map(|s| (*id, s)))
            .collect();
        // Story id -> (as stored before this batch, after merging the batch's sightings).
        let mut merged: BTreeMap<StoryId, (Option<Story>, Story)> = BTreeMap::new();
        for c in candidates {
            let (original, current) = match merged.remove(&c.id) {
                Some((original, story)) => (original, Some(story)),
                None => {
                    let original = stored.remove(&c.id);
                    (original.clone(), original)
                }
            };
            let story = merge::merge(current, c);
            merged.insert(c.id, (original, story));
        }
        let mut report = ApplyReport::default();
        let mut batch = Batch::default();
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
            let id = story.id.0;
            let new_key = keys::by_time_key(story.published, story.id);
            let points_moved = original
                .as_ref()
                .is_none_or(|o| o.top_points() != story.top_points());
            // Two texts built per updated story: only when some queue wants to know.
            let text_changed = (queues_embeddings || queues_llm)
                && original
                    .as_ref()
                    .is_none_or(|o| o.embedding_text() != story.embedding_text());
            batch.put(Tree::Stories, id, schema::encode_story(&story)?);
            if queues_llm && (text_changed || points_moved) {
                batch.put(Tree::LlmQueue, id, []);
            }
            if queues && points_moved {
                batch.put(Tree::ArticleQueue, id, []);
            }
            if queues_embeddings && text_changed {
                batch.put(Tree::EmbedQueue, id, []);
            }
            // The by-time entry moves only when the publication time did.
            if old_key != Some(new_key) {
                if let Some(old) = old_key {
                    batch.delete(Tree::ByTime, old);
                }
                batch.put(Tree::ByTime, new_key, []);
            }
            if tracks {
                index::mark(&mut batch, story.id, original.as_ref());
            }
        }
        let written = report.new + report.updated > 0;
        batch.put(Tree::Sources, source_id, state_bytes);
        if !queues_embeddings && written {
            // Stories written unqueued: a backfill must look again.
            batch.delete(Tree::Meta, schema::EMBEDDINGS_QUEUED_KEY);
        }
        if !queues_llm && written {
            batch.delete(Tree::Meta, schema::LLM_QUEUED_KEY);
        }
        let count = self.recorded_count()? + report.new as u64;
        if report.new > 0 {
            batch.put(Tree::Meta, schema::COUNT_KEY, count.to_be_bytes());
        }
        batch.changes_stories = written;
        self.kv.commit(batch)?;
        self.kv.flush()?;
        self.count.store(count, Ordering::Release);
        if let (Some(ledger), true) = (&self.ledger, report.new > 0) {
            ledger.record(count)?;
        }
        if written {
            self.changed();
        }
        Ok(report)
    }

    /// Records a source's fetch state alone (a failed or unchanged fetch), flushed. A failure
    /// is remembered for the source (`state_write_error`).
    pub fn put_source_state(&self, source_id: &str, state: &SourceState) -> Result<(), StoreError> {
        let result = encode(state).and_then(|bytes| {
            self.kv.put(Tree::Sources, source_id.as_bytes(), &bytes)?;
            self.kv.flush()
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
        self.kv
            .get(Tree::Sources, source_id.as_bytes())?
            .map(|bytes| decode(&bytes, source_id))
            .transpose()
    }

    pub fn story(&self, id: StoryId) -> Result<Option<Story>, StoreError> {
        self.kv
            .get(Tree::Stories, &id.0)?
            .map(|bytes| schema::decode_story(&bytes, &id.0))
            .transpose()
    }

    /// The stories of `ids`, in their order (none where a story is gone).
    pub(crate) fn stories(&self, ids: &[StoryId]) -> Result<Vec<Option<Story>>, StoreError> {
        let keys: Vec<&[u8]> = ids.iter().map(|id| id.0.as_slice()).collect();
        self.kv
            .get_many(Tree::Stories, &keys)?
            .into_iter()
            .zip(ids)
            .map(|(bytes, id)| bytes.map(|b| schema::decode_story(&b, &id.0)).transpose())
            .collect()
    }

    /// Stories published at or after `since`, newest first; reads only the window, never the
    /// whole store.
    pub fn stories_since(&self, since: DateTime<Utc>) -> Result<Vec<Story>, StoreError> {
        self.newest_since(since, usize::MAX)
    }

    /// The newest `max` stories published at or after `since`, newest first.
    pub fn newest_since(&self, since: DateTime<Utc>, max: usize) -> Result<Vec<Story>, StoreError> {
        const PAGE: usize = 256;
        let mut out = Vec::new();
        let mut keys = self.kv.scan_keys(
            Tree::ByTime,
            KeyRange::from(&keys::time_prefix(since)),
            Direction::Backward,
        );
        while out.len() < max {
            let want = PAGE.min(max - out.len());
            let mut ids = Vec::with_capacity(want);
            for key in keys.by_ref().take(want) {
                ids.extend(keys::id_of_by_time_key(&key?));
            }
            if ids.is_empty() {
                break;
            }
            out.extend(self.stories(&ids)?.into_iter().flatten());
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
        let _guard = self.lock_writes()?;
        let mut batch = Batch::default();
        let mut changed = false;
        if let Some(mut story) = self.story(id)? {
            // An article can bring a story into a topic or take it out (rules read it),
            // never move its rank.
            let filed = index::dirty_value(Some(&story));
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
                batch.put(Tree::Stories, id.0, schema::encode_story(&story)?);
                if self.tracks_changes() {
                    index::mark_filed(&mut batch, id, filed);
                }
            }
        }
        if changed {
            // A new summary or excerpt changes the embedding text, and the text the language
            // model summarizes.
            if self.embed_queue.is_on() {
                batch.put(Tree::EmbedQueue, id.0, []);
            } else {
                batch.delete(Tree::Meta, schema::EMBEDDINGS_QUEUED_KEY);
            }
            if self.llm_queue.is_on() {
                batch.put(Tree::LlmQueue, id.0, []);
            } else {
                batch.delete(Tree::Meta, schema::LLM_QUEUED_KEY);
            }
        }
        // The article and the "done" state land together: a crash between them must not
        // leave an article marked done whose text was never stored.
        batch.put(Tree::Articles, id.0, state_bytes);
        batch.changes_stories = changed;
        self.kv.commit(batch)?;
        self.kv.flush()?;
        if changed {
            self.changed();
        }
        Ok(changed)
    }

    /// Whether writes mark stories for `queue`: on while some topic wants that work (reads
    /// articles, or has `[topic.about]`).
    pub fn set_queueing(&self, queue: Queue, on: bool) {
        self.queue(queue).set_on(on);
    }

    fn queue(&self, queue: Queue) -> &WorkQueue {
        match queue {
            Queue::Articles => &self.article_queue,
            Queue::Embeddings => &self.embed_queue,
            Queue::LlmSummaries => &self.llm_queue,
        }
    }

    /// Up to `max` stories waiting in `queue`, in id order (the queue is a set).
    pub fn queued(&self, queue: Queue, max: usize) -> Result<Vec<StoryId>, StoreError> {
        let mut out = Vec::new();
        for key in self
            .kv
            .scan_keys(queue.tree(), KeyRange::all(), Direction::Forward)
            .take(max)
        {
            if let Ok(id) = <[u8; 16]>::try_from(key?.as_slice()) {
                out.push(StoryId(id));
            }
        }
        Ok(out)
    }

    /// Takes stories off `queue` (their work is done, or not wanted now).
    pub fn dequeue(&self, queue: Queue, ids: &[StoryId]) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        for id in ids {
            batch.delete(queue.tree(), id.0);
        }
        self.kv.commit(batch)?;
        match &self.leases {
            Some(leases) => leases.release_work(queue.tree().id(), ids_bytes(ids)),
            None => Ok(()),
        }
    }

    /// Of `ids` (queued in `queue`), those this node may work on now: all of them on a store
    /// of its own; on a shared database, those no other node holds the lease of (the lease
    /// goes with `dequeue`, or expires).
    pub fn lease_work(&self, queue: Queue, ids: Vec<StoryId>) -> Result<Vec<StoryId>, StoreError> {
        let Some(leases) = &self.leases else {
            return Ok(ids);
        };
        let leased: std::collections::HashSet<Vec<u8>> = leases
            .lease_work(queue.tree().id(), ids_bytes(&ids))?
            .into_iter()
            .collect();
        Ok(ids
            .into_iter()
            .filter(|id| leased.contains(id.0.as_slice()))
            .collect())
    }

    /// Up to `max` stories waiting in `queue` for this node to work on, in id order: the
    /// queue's head on a store of its own; on a shared database, stories no other node holds
    /// the lease of, leased to this one (see `lease_work`).
    pub fn claim_queued(&self, queue: Queue, max: usize) -> Result<Vec<StoryId>, StoreError> {
        let Some(leases) = &self.leases else {
            return self.queued(queue, max);
        };
        Ok(leases
            .claim_queued(queue.tree().id(), max)?
            .into_iter()
            .filter_map(|key| <[u8; 16]>::try_from(key.as_slice()).ok().map(StoryId))
            .collect())
    }

    /// Whether this node is the one to do `role` now: always on a store of its own; on a
    /// shared database, while it holds the role's lease (taken when free, renewed by asking
    /// again within a lease). An unreachable database says no.
    pub fn holds_role(&self, role: &str) -> bool {
        let Some(leases) = &self.leases else {
            return true;
        };
        match leases.hold_role(role) {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(role, error = %e, "role lease not renewed");
                false
            }
        }
    }

    /// On a database several nodes share: this node's leases.
    pub(crate) fn leases(&self) -> Option<&Leases> {
        self.leases.as_ref()
    }

    /// What `/healthz` shows of the database (none for a sled store).
    pub fn database_health(&self) -> Option<DatabaseHealth> {
        self.leases.as_ref().map(Leases::health)
    }

    /// Whether nothing waits in `queue` (cheap, unlike counting).
    pub fn queue_is_empty(&self, queue: Queue) -> bool {
        self.kv.is_empty(queue.tree()).unwrap_or(true)
    }

    /// How many stories wait in `queue` (walks it: for reports, not loops).
    pub fn queue_len(&self, queue: Queue) -> usize {
        self.kv.len(queue.tree()).unwrap_or_default()
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
        self.queue(queue).set_on(true);
        if self.kv.contains(Tree::Meta, flag.as_bytes())? {
            return Ok(0);
        }
        const BATCH: usize = 1000;
        let mut queued = 0;
        let mut keys = self.kv.scan_keys(
            Tree::ByTime,
            KeyRange::from(&keys::time_prefix(since)),
            Direction::Forward,
        );
        loop {
            let mut ids = Vec::with_capacity(BATCH);
            for key in keys.by_ref().take(BATCH) {
                ids.extend(keys::id_of_by_time_key(&key?));
            }
            if ids.is_empty() {
                break;
            }
            let mut batch = Batch::default();
            for story in self.stories(&ids)?.into_iter().flatten() {
                if due(&story) {
                    batch.put(queue.tree(), story.id.0, []);
                    queued += 1;
                }
            }
            self.kv.commit(batch)?;
        }
        self.kv.put(Tree::Meta, flag.as_bytes(), &[1])?;
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
        let _guard = self.lock_writes()?;
        let Some(mut story) = self.story(id)? else {
            self.kv.delete(Tree::EmbedQueue, &id.0)?;
            return Ok(false);
        };
        if story.embedding_text_hash() != text_hash {
            return Ok(false);
        }
        let mut batch = Batch::default();
        if self.tracks_changes() {
            index::mark(&mut batch, id, Some(&story));
        }
        story.embedding = Some(crate::model::StoredEmbedding { text_hash, vector });
        batch.put(Tree::Stories, id.0, schema::encode_story(&story)?);
        batch.delete(Tree::EmbedQueue, id.0);
        batch.changes_stories = true;
        self.kv.commit(batch)?;
        self.changed();
        Ok(true)
    }

    pub fn article_state(&self, id: StoryId) -> Result<Option<ArticleState>, StoreError> {
        self.kv
            .get(Tree::Articles, &id.0)?
            .map(|bytes| decode(&bytes, &id.to_hex()))
            .transpose()
    }

    pub fn put_article_state(&self, id: StoryId, state: &ArticleState) -> Result<(), StoreError> {
        self.kv.put(Tree::Articles, &id.0, &encode(state)?)?;
        self.kv.flush()
    }

    /// Whether `id` waits in `queue`.
    pub fn is_queued(&self, queue: Queue, id: StoryId) -> Result<bool, StoreError> {
        self.kv.contains(queue.tree(), &id.0)
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
        let _guard = self.lock_writes()?;
        let Some(mut story) = self.story(id)? else {
            self.kv.delete(Tree::LlmQueue, &id.0)?;
            return Ok(false);
        };
        let text_changed = story.embedding_text_hash() != asked_about;
        story.llm_summary = Some(summary);
        let mut batch = Batch::default();
        batch.put(Tree::Stories, id.0, schema::encode_story(&story)?);
        if !text_changed {
            batch.delete(Tree::LlmQueue, id.0);
        }
        batch.delete(Tree::LlmAttempts, id.0);
        batch.changes_stories = true;
        self.kv.commit(batch)?;
        self.kv.flush()?;
        self.changed();
        Ok(true)
    }

    /// The model's refused answers for a story, if any.
    pub(crate) fn llm_attempt(&self, id: StoryId) -> Result<Option<LlmAttempt>, StoreError> {
        self.kv
            .get(Tree::LlmAttempts, &id.0)?
            .map(|bytes| decode(&bytes, &id.to_hex()))
            .transpose()
    }

    pub(crate) fn put_llm_attempt(
        &self,
        id: StoryId,
        attempt: &LlmAttempt,
    ) -> Result<(), StoreError> {
        self.kv.put(Tree::LlmAttempts, &id.0, &encode(attempt)?)
    }

    /// Where the language model stands (budget, backoff, counts); the default before any call.
    pub(crate) fn llm_state(&self) -> Result<LlmState, StoreError> {
        self.kv
            .get(Tree::Meta, schema::LLM_STATE_KEY.as_bytes())?
            .map(|bytes| decode(&bytes, schema::LLM_STATE_KEY))
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// Records where the language model stands, flushed: the budget holds across restarts.
    pub(crate) fn put_llm_state(&self, state: &LlmState) -> Result<(), StoreError> {
        self.kv.put(
            Tree::Meta,
            schema::LLM_STATE_KEY.as_bytes(),
            &encode(state)?,
        )?;
        self.kv.flush()
    }

    pub fn story_count(&self) -> usize {
        match self.recorded_count() {
            Ok(count) => {
                self.count.store(count, Ordering::Release);
                count as usize
            }
            Err(_) => self.count.load(Ordering::Acquire) as usize,
        }
    }

    /// Removes stories published before `cutoff`; returns how many.
    /// At most `max` of them per call, so a large prune can be interleaved with other writes
    /// and stopped between calls.
    pub fn prune_before(&self, cutoff: DateTime<Utc>, max: usize) -> Result<usize, StoreError> {
        let _guard = self.lock_writes()?;
        let doomed: Vec<Vec<u8>> = self
            .kv
            .scan_keys(
                Tree::ByTime,
                KeyRange::below(&keys::time_prefix(cutoff)),
                Direction::Forward,
            )
            .take(max)
            .collect::<Result<_, _>>()?;
        if doomed.is_empty() {
            return Ok(0);
        }
        let ids: Vec<StoryId> = doomed
            .iter()
            .filter_map(|k| keys::id_of_by_time_key(k))
            .collect();
        let stories = if self.tracks_changes() {
            self.stories(&ids)?
        } else {
            Vec::new()
        };
        let count = self.recorded_count()?.saturating_sub(ids.len() as u64);
        // Lowered before the stories go: the ledger never claims more than the store holds.
        if let Some(ledger) = &self.ledger {
            ledger.record(count)?;
        }
        let mut batch = Batch::default();
        for (n, id) in ids.iter().enumerate() {
            for tree in [
                Tree::Stories,
                Tree::Articles,
                Tree::ArticleQueue,
                Tree::EmbedQueue,
                Tree::LlmQueue,
                Tree::LlmAttempts,
            ] {
                batch.delete(tree, id.0);
            }
            if let Some(filed) = stories.get(n) {
                index::mark(&mut batch, *id, filed.as_ref());
            }
        }
        // What webhooks were sent of them: a pruned story is past every topic window, so no
        // feed shows it again.
        let prefixes: Vec<&[u8]> = ids.iter().map(|id| id.0.as_slice()).collect();
        for key in self.kv.keys_with_prefixes(Tree::WebhookSent, &prefixes)? {
            batch.delete(Tree::WebhookSent, key);
        }
        for key in &doomed {
            batch.delete(Tree::ByTime, key.as_slice());
        }
        batch.put(Tree::Meta, schema::COUNT_KEY, count.to_be_bytes());
        batch.changes_stories = true;
        self.kv.commit(batch)?;
        self.kv.flush()?;
        self.count.store(count, Ordering::Release);
        self.changed();
        Ok(doomed.len())
    }

    pub fn flush(&self) -> Result<(), StoreError> {
        self.kv.flush()
    }
}

fn ids_bytes(ids: &[StoryId]) -> Vec<Vec<u8>> {
    ids.iter().map(|id| id.0.to_vec()).collect()
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
