//! Secondary indexes of stories (one per topic) kept in step with the stories: writes mark
//! the stories they change as dirty, `catch_up_indexes` re-files them, `build_indexes` fills a
//! new or changed index from the by-time index. What an index admits and how its keys sort is
//! the index's business (`StoryIndex`); the store only moves bytes.

use super::kv::{Batch, Direction, KeyRange, Tree};
use super::write_lock::WriteGuard;
use super::{keys, Store, StoreError};
use crate::model::{RankKey, Story, StoryId};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Dirty stories read at a time while catching up (all under one lock hold, so an index shows
/// whole fetches), and stories scanned per lock hold while building (writers wait at most one
/// batch).
const CATCH_UP_BATCH: usize = 500;
const BUILD_BATCH: usize = 2000;

/// Index meta value: fingerprint, then one of these.
const BUILDING: u8 = 0;
const COMPLETE: u8 = 1;

/// A secondary index over stories.
pub trait StoryIndex: Send + Sync {
    /// Starts every key of this index, and no key of another.
    fn prefix(&self) -> [u8; 8];
    /// Changes whenever what the index admits or how its keys sort changes: a stored index
    /// with another fingerprint is dropped and built again.
    fn fingerprint(&self) -> [u8; 16];
    fn admits(&self, story: &Story) -> bool;
    /// The full key (prefix first) of a story ranked `rank`; depends on nothing else, so the
    /// entry of a story can be found again from its rank key alone.
    fn key(&self, rank: &RankKey) -> Vec<u8>;
    /// Stories published before this never need to be in the index built at `now`.
    fn oldest(&self, now: DateTime<Utc>) -> DateTime<Utc>;
}

/// The indexes this process maintains.
#[derive(Default)]
pub(super) struct Registry {
    /// Bumped on every registration: a build of an older set stops.
    epoch: u64,
    entries: Vec<Registered>,
}

struct Registered {
    index: Arc<dyn StoryIndex>,
    ready: AtomicBool,
}

impl Registry {
    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The value of a dirty mark: the rank key the story is filed under in the indexes (none for
/// a story not filed yet).
pub(super) fn dirty_value(filed: Option<&Story>) -> Vec<u8> {
    filed
        .map(|s| keys::encode_rank(&s.rank_key()).to_vec())
        .unwrap_or_default()
}

/// Marks a story changed in a write's batch; `filed` is the story as the indexes last saw it.
/// The first mark since the indexes last filed the story wins: it holds the rank key they
/// filed it under, which catch-up removes.
pub(super) fn mark(batch: &mut Batch, id: StoryId, filed: Option<&Story>) {
    mark_filed(batch, id, dirty_value(filed));
}

/// `mark` with the dirty value already made.
pub(super) fn mark_filed(batch: &mut Batch, id: StoryId, filed: Vec<u8>) {
    batch.put_if_absent(Tree::IndexDirty, id.0, filed);
}

impl Store {
    /// Makes `indexes` the ones this store keeps up to date. Stored indexes that are not
    /// among them, or whose fingerprint changed, are dropped; new ones are built by
    /// `build_indexes`.
    pub fn register_indexes(&self, indexes: Vec<Arc<dyn StoryIndex>>) -> Result<(), StoreError> {
        let _guard = self.lock_writes()?;
        let wanted: HashMap<[u8; 8], [u8; 16]> = indexes
            .iter()
            .map(|i| (i.prefix(), i.fingerprint()))
            .collect();
        let stored: Vec<(Vec<u8>, Vec<u8>)> = self
            .kv
            .scan(Tree::IndexMeta, KeyRange::all(), Direction::Forward)
            .collect::<Result<_, _>>()?;
        for (prefix, value) in stored {
            let keep = <[u8; 8]>::try_from(prefix.as_ref())
                .ok()
                .and_then(|p| wanted.get(&p))
                .is_some_and(|fp| value == meta_value(fp, COMPLETE));
            if !keep {
                self.drop_index(&prefix)?;
            }
        }
        let mut entries = Vec::new();
        for index in indexes {
            let (prefix, fingerprint) = (index.prefix(), index.fingerprint());
            // Whatever meta is left is complete with this fingerprint: the rest was dropped.
            let complete = self.kv.contains(Tree::IndexMeta, &prefix)?;
            if !complete {
                self.kv.put(
                    Tree::IndexMeta,
                    &prefix,
                    &meta_value(&fingerprint, BUILDING),
                )?;
            }
            entries.push(Registered {
                index,
                ready: AtomicBool::new(complete),
            });
        }
        if entries.is_empty() {
            // No index left to file anything in.
            self.kv.clear(Tree::IndexDirty)?;
        }
        let mut registry = self.indexes.write().unwrap_or_else(|p| p.into_inner());
        let epoch = registry.epoch + 1;
        *registry = Arc::new(Registry { epoch, entries });
        self.indexed.store(!registry.is_empty(), Ordering::Release);
        drop(registry);
        self.kv.flush()
    }

    /// Whether the index with this prefix and fingerprint is complete and maintained.
    pub fn index_ready(&self, prefix: [u8; 8], fingerprint: [u8; 16]) -> bool {
        self.registry().entries.iter().any(|r| {
            r.index.prefix() == prefix
                && r.index.fingerprint() == fingerprint
                && r.ready.load(Ordering::Acquire)
        })
    }

    /// Stories changed since the indexes last filed them (walks the marks: small unless a
    /// daemon has not run since many writes).
    pub fn index_backlog(&self) -> usize {
        self.kv.len(Tree::IndexDirty).unwrap_or_default()
    }

    /// Whether every registered index is complete.
    pub fn indexes_complete(&self) -> bool {
        self.registry()
            .entries
            .iter()
            .all(|r| r.ready.load(Ordering::Acquire))
    }

    /// Keys of one index in key order (check `index_ready` first, and catch up).
    pub fn index_keys(
        &self,
        prefix: [u8; 8],
    ) -> impl Iterator<Item = Result<Vec<u8>, StoreError>> + Send {
        self.kv.scan_keys(
            Tree::IndexEntries,
            KeyRange::prefix(&prefix),
            Direction::Forward,
        )
    }

    /// Builds every registered index that is not complete, scanning the stories each needs
    /// in batches. Stops early (leaving the index incomplete) when `stop` says so or the
    /// registered set changes. Returns how many indexes it completed.
    pub fn build_indexes(
        &self,
        now: DateTime<Utc>,
        stop: &dyn Fn() -> bool,
    ) -> Result<usize, StoreError> {
        let registry = self.registry();
        let mut built = 0;
        for r in registry.entries.iter() {
            if r.ready.load(Ordering::Acquire) {
                continue;
            }
            if !self.build_one(&registry, r, now, stop)? {
                break;
            }
            built += 1;
        }
        Ok(built)
    }

    fn build_one(
        &self,
        registry: &Registry,
        r: &Registered,
        now: DateTime<Utc>,
        stop: &dyn Fn() -> bool,
    ) -> Result<bool, StoreError> {
        let mut from = keys::time_prefix(r.index.oldest(now)).to_vec();
        loop {
            if stop() || self.registry().epoch != registry.epoch {
                return Ok(false);
            }
            let _guard = self.lock_writes()?;
            let batch: Vec<Vec<u8>> = self
                .kv
                .scan_keys(Tree::ByTime, KeyRange::from(&from), Direction::Forward)
                .take(BUILD_BATCH)
                .collect::<Result<_, _>>()?;
            let ids: Vec<StoryId> = batch
                .iter()
                .filter_map(|k| keys::id_of_by_time_key(k))
                .collect();
            let id_keys: Vec<&[u8]> = ids.iter().map(|id| id.0.as_slice()).collect();
            let dirty = self.kv.get_many(Tree::IndexDirty, &id_keys)?;
            let mut filed = Batch::default();
            for (story, dirty) in self.stories(&ids)?.into_iter().zip(dirty) {
                // A dirty story is filed by the next catch-up, from the rank key the other
                // indexes have it under; filing it here too could leave a stale entry.
                if dirty.is_some() {
                    continue;
                }
                if let Some(story) = story.filter(|s| r.index.admits(s)) {
                    filed.put(Tree::IndexEntries, r.index.key(&story.rank_key()), []);
                }
            }
            self.kv.commit(filed)?;
            match batch.last() {
                Some(last) if batch.len() == BUILD_BATCH => {
                    from = last.to_vec();
                    from.push(0);
                }
                _ => break,
            }
        }
        let _guard = self.lock_writes()?;
        if self.registry().epoch != registry.epoch {
            return Ok(false);
        }
        self.kv.put(
            Tree::IndexMeta,
            &r.index.prefix(),
            &meta_value(&r.index.fingerprint(), COMPLETE),
        )?;
        self.kv.flush()?;
        r.ready.store(true, Ordering::Release);
        Ok(true)
    }

    /// Re-files every dirty story in every registered index. Returns how many it re-filed.
    /// Cheap when nothing is dirty. Holds the write lock throughout, so an index always shows
    /// whole fetches: a reader that finds the lock taken serves the index as last filed.
    /// Bumps the generation when it filed anything (what readers derived is stale then).
    pub fn catch_up_indexes(&self) -> Result<usize, StoreError> {
        if self.kv.is_empty(Tree::IndexDirty)? {
            return Ok(0);
        }
        let guard = self.lock_writes()?;
        self.file_all_dirty(&guard)
    }

    /// `catch_up_indexes` if no writer holds the store now; otherwise nothing, at once. A
    /// render calls it first and never waits.
    pub fn try_catch_up_indexes(&self) -> Result<usize, StoreError> {
        if self.kv.is_empty(Tree::IndexDirty)? {
            return Ok(0);
        }
        match self.try_lock_writes()? {
            Some(guard) => self.file_all_dirty(&guard),
            None => Ok(0),
        }
    }

    fn file_all_dirty(&self, writes: &WriteGuard<'_>) -> Result<usize, StoreError> {
        let mut done = 0;
        loop {
            let filed = self.file_dirty_batch(writes)?;
            done += filed;
            if filed < CATCH_UP_BATCH {
                break;
            }
        }
        self.filed(done);
        Ok(done)
    }

    fn filed(&self, done: usize) {
        if done > 0 {
            self.changed();
        }
    }

    /// Re-files up to `CATCH_UP_BATCH` dirty stories; the caller holds the write lock.
    fn file_dirty_batch(&self, _writes: &WriteGuard<'_>) -> Result<usize, StoreError> {
        let registry = self.registry();
        if registry.is_empty() {
            return Ok(0);
        }
        let marks: Vec<(Vec<u8>, Vec<u8>)> = self
            .kv
            .scan(Tree::IndexDirty, KeyRange::all(), Direction::Forward)
            .take(CATCH_UP_BATCH)
            .collect::<Result<_, _>>()?;
        let ids: Vec<Option<StoryId>> = marks
            .iter()
            .map(|(id, _)| <[u8; 16]>::try_from(id.as_slice()).ok().map(StoryId))
            .collect();
        let known: Vec<StoryId> = ids.iter().flatten().copied().collect();
        let mut stories = self.stories(&known)?.into_iter();
        let mut removed = Vec::new();
        let mut filed = Vec::new();
        for ((_, value), id) in marks.iter().zip(&ids) {
            let Some(id) = id else {
                continue;
            };
            let was = keys::decode_rank(value, *id);
            let story = stories.next().flatten();
            for r in registry.entries.iter() {
                if let Some(was) = &was {
                    removed.push(r.index.key(was));
                }
                if let Some(story) = story.as_ref().filter(|s| r.index.admits(s)) {
                    filed.push(r.index.key(&story.rank_key()));
                }
            }
        }
        // Removals before insertions: a story filed under the same key stays filed. Index
        // and marks in one batch: a crash leaves both as they were.
        let mut batch = Batch::default();
        for key in removed {
            batch.delete(Tree::IndexEntries, key);
        }
        for key in filed {
            batch.put(Tree::IndexEntries, key, []);
        }
        for (id, _) in &marks {
            batch.delete(Tree::IndexDirty, id.as_slice());
        }
        // What every node's feeds show changed: the others must render again too. Each
        // heard of the write itself, but may have rendered it before it was filed here.
        batch.changes_stories = !marks.is_empty();
        self.kv.commit(batch)?;
        Ok(marks.len())
    }

    /// Whether writes must mark what they change: some index exists or is registered.
    pub(super) fn tracks_changes(&self) -> bool {
        self.indexed.load(Ordering::Acquire)
    }

    fn registry(&self) -> Arc<Registry> {
        Arc::clone(&self.indexes.read().unwrap_or_else(|p| p.into_inner()))
    }

    fn drop_index(&self, prefix: &[u8]) -> Result<(), StoreError> {
        // In bounded batches: one batch of a million removals holds them all in memory.
        loop {
            let doomed: Vec<Vec<u8>> = self
                .kv
                .scan_keys(
                    Tree::IndexEntries,
                    KeyRange::prefix(prefix),
                    Direction::Forward,
                )
                .take(BUILD_BATCH)
                .collect::<Result<_, _>>()?;
            let mut batch = Batch::default();
            let done = doomed.len() < BUILD_BATCH;
            for key in doomed {
                batch.delete(Tree::IndexEntries, key);
            }
            self.kv.commit(batch)?;
            if done {
                break;
            }
        }
        self.kv.delete(Tree::IndexMeta, prefix)
    }
}

fn meta_value(fingerprint: &[u8; 16], state: u8) -> Vec<u8> {
    let mut value = fingerprint.to_vec();
    value.push(state);
    value
}
