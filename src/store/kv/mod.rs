//! The ordered key-value trees the store is written on, one interface over two engines: sled
//! (embedded, one process) and PostgreSQL (one table, shared by many nodes). Everything the
//! store knows about stories, indexes and queues is written once, above this layer.

mod sled_engine;

use super::StoreError;
pub(super) use sled_engine::SledKv;
use std::ops::Bound;

/// Every tree the store keeps: one registry, so both engines name them alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Tree {
    Stories,
    ByTime,
    Sources,
    Articles,
    ArticleQueue,
    EmbedQueue,
    LlmQueue,
    LlmAttempts,
    Meta,
    IndexEntries,
    IndexMeta,
    IndexDirty,
    Push,
    WebhookOutbox,
    WebhookSent,
}

impl Tree {
    pub(crate) const ALL: [Tree; 15] = [
        Tree::Stories,
        Tree::ByTime,
        Tree::Sources,
        Tree::Articles,
        Tree::ArticleQueue,
        Tree::EmbedQueue,
        Tree::LlmQueue,
        Tree::LlmAttempts,
        Tree::Meta,
        Tree::IndexEntries,
        Tree::IndexMeta,
        Tree::IndexDirty,
        Tree::Push,
        Tree::WebhookOutbox,
        Tree::WebhookSent,
    ];

    /// The name on disk (a sled tree) and in the database (`kv.tree`): never changes.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Tree::Stories => "stories",
            Tree::ByTime => "by_time",
            Tree::Sources => "sources",
            Tree::Articles => "articles",
            Tree::ArticleQueue => "article_queue",
            Tree::EmbedQueue => "embed_queue",
            Tree::LlmQueue => "llm_queue",
            Tree::LlmAttempts => "llm_attempts",
            Tree::Meta => "meta",
            Tree::IndexEntries => "index_entries",
            Tree::IndexMeta => "index_meta",
            Tree::IndexDirty => "index_dirty",
            Tree::Push => "push",
            Tree::WebhookOutbox => "webhook_outbox",
            Tree::WebhookSent => "webhook_sent",
        }
    }

    pub(crate) fn position(self) -> usize {
        self as usize
    }

    /// The tree's number in PostgreSQL's `feedsift_kv.tree`: fixed once given, never reused.
    pub(crate) fn id(self) -> i16 {
        match self {
            Tree::Stories => 1,
            Tree::ByTime => 2,
            Tree::Sources => 3,
            Tree::Articles => 4,
            Tree::ArticleQueue => 5,
            Tree::EmbedQueue => 6,
            Tree::LlmQueue => 7,
            Tree::LlmAttempts => 8,
            Tree::Meta => 9,
            Tree::IndexEntries => 10,
            Tree::IndexMeta => 11,
            Tree::IndexDirty => 12,
            Tree::Push => 13,
            Tree::WebhookOutbox => 14,
            Tree::WebhookSent => 15,
        }
    }
}

/// Keys from `from` to `to`, in byte order.
#[derive(Debug, Clone)]
pub(crate) struct KeyRange {
    pub from: Bound<Vec<u8>>,
    pub to: Bound<Vec<u8>>,
}

impl KeyRange {
    pub(crate) fn all() -> KeyRange {
        KeyRange {
            from: Bound::Unbounded,
            to: Bound::Unbounded,
        }
    }

    /// Keys at or after `from`.
    pub(crate) fn from(from: &[u8]) -> KeyRange {
        KeyRange {
            from: Bound::Included(from.to_vec()),
            to: Bound::Unbounded,
        }
    }

    /// Keys before `to`.
    pub(crate) fn below(to: &[u8]) -> KeyRange {
        KeyRange {
            from: Bound::Unbounded,
            to: Bound::Excluded(to.to_vec()),
        }
    }

    /// Keys that start with `prefix`.
    pub(crate) fn prefix(prefix: &[u8]) -> KeyRange {
        KeyRange {
            from: Bound::Included(prefix.to_vec()),
            to: match successor(prefix) {
                Some(next) => Bound::Excluded(next),
                None => Bound::Unbounded,
            },
        }
    }

    #[cfg(test)]
    pub(crate) fn contains(&self, key: &[u8]) -> bool {
        let above = match &self.from {
            Bound::Included(f) => key >= f.as_slice(),
            Bound::Excluded(f) => key > f.as_slice(),
            Bound::Unbounded => true,
        };
        let below = match &self.to {
            Bound::Included(t) => key <= t.as_slice(),
            Bound::Excluded(t) => key < t.as_slice(),
            Bound::Unbounded => true,
        };
        above && below
    }
}

/// The least key greater than every key that starts with `prefix` (none for all 0xff).
fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut next = prefix.to_vec();
    while let Some(last) = next.pop() {
        if last < 0xff {
            next.push(last + 1);
            return Some(next);
        }
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Forward,
    Backward,
}

/// One change in a `Batch`.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Put(Tree, Vec<u8>, Vec<u8>),
    Delete(Tree, Vec<u8>),
    /// Written only where the key is absent (the first dirty mark wins).
    PutIfAbsent(Tree, Vec<u8>, Vec<u8>),
}

impl Op {
    pub(crate) fn tree(&self) -> Tree {
        match self {
            Op::Put(t, ..) | Op::Delete(t, _) | Op::PutIfAbsent(t, ..) => *t,
        }
    }
}

/// Changes to several trees that land together or not at all.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub(crate) ops: Vec<Op>,
    /// Readers elsewhere must hear of it (stories changed).
    pub(crate) changes_stories: bool,
}

impl Batch {
    pub(crate) fn put(&mut self, tree: Tree, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push(Op::Put(tree, key.into(), value.into()));
    }

    pub(crate) fn delete(&mut self, tree: Tree, key: impl Into<Vec<u8>>) {
        self.ops.push(Op::Delete(tree, key.into()));
    }

    pub(crate) fn put_if_absent(
        &mut self,
        tree: Tree,
        key: impl Into<Vec<u8>>,
        value: impl Into<Vec<u8>>,
    ) {
        self.ops
            .push(Op::PutIfAbsent(tree, key.into(), value.into()));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// A key and its value.
pub(crate) type Entry = (Vec<u8>, Vec<u8>);

/// What an engine under a store does: reads and writes of one key, lazy scans in both
/// directions, and an atomic `Batch`. sled's and PostgreSQL's implement it; the store holds
/// one as a `Kv`.
pub(crate) trait Engine: Send + Sync {
    /// Whether other processes write the same store (their changes arrive unannounced).
    fn is_shared(&self) -> bool {
        false
    }

    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Values of `keys`, in their order (one round trip where the engine has them).
    fn get_many(&self, tree: Tree, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        keys.iter().map(|k| self.get(tree, k)).collect()
    }

    fn contains(&self, tree: Tree, key: &[u8]) -> Result<bool, StoreError>;

    /// Writes one key (durable after `flush`).
    fn put(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), StoreError>;

    fn delete(&self, tree: Tree, key: &[u8]) -> Result<(), StoreError>;

    /// Entries of `range` in `direction`, read lazily (in pages where the engine is remote).
    fn scan(
        &self,
        tree: Tree,
        range: KeyRange,
        direction: Direction,
    ) -> Box<dyn Iterator<Item = Result<Entry, StoreError>> + Send>;

    /// Keys of `range` in `direction` (values left unread).
    fn scan_keys(
        &self,
        tree: Tree,
        range: KeyRange,
        direction: Direction,
    ) -> Box<dyn Iterator<Item = Result<Vec<u8>, StoreError>> + Send>;

    /// Every key that starts with one of `prefixes`, in no set order, once per prefix it
    /// starts with (one round trip where the engine is remote).
    fn keys_with_prefixes(
        &self,
        tree: Tree,
        prefixes: &[&[u8]],
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut keys = Vec::new();
        for prefix in prefixes {
            for key in self.scan_keys(tree, KeyRange::prefix(prefix), Direction::Forward) {
                keys.push(key?);
            }
        }
        Ok(keys)
    }

    /// The first entry of `range` in `direction` (one row read, not a page).
    fn first(
        &self,
        tree: Tree,
        range: KeyRange,
        direction: Direction,
    ) -> Result<Option<Entry>, StoreError> {
        self.scan(tree, range, direction).next().transpose()
    }

    /// Number of keys (walks the tree: for reports, not loops).
    fn len(&self, tree: Tree) -> Result<usize, StoreError>;

    fn is_empty(&self, tree: Tree) -> Result<bool, StoreError>;

    fn clear(&self, tree: Tree) -> Result<(), StoreError>;

    /// `commit` of a batch with changes.
    fn apply(&self, batch: Batch) -> Result<(), StoreError>;

    /// Applies every change of `batch` or none (durable after `flush`).
    fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.apply(batch)
    }

    /// Makes what was written durable (an engine whose commits are durable when they return
    /// has nothing to do).
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The engine under a store, shared by its handles.
pub(crate) type Kv = std::sync::Arc<dyn Engine>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_range_holds_exactly_the_keys_that_start_with_it() {
        let range = KeyRange::prefix(&[1, 0xff]);
        assert!(range.contains(&[1, 0xff]));
        assert!(range.contains(&[1, 0xff, 0xff, 3]));
        assert!(!range.contains(&[2]));
        assert!(!range.contains(&[1, 0xfe, 0xff]));
        assert!(KeyRange::prefix(&[0xff, 0xff]).contains(&[0xff, 0xff, 0xff]));
        assert!(!KeyRange::prefix(&[0xff]).contains(&[0xfe]));
    }
}
