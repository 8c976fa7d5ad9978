//! The PostgreSQL engine: every tree in one table, `feedsift_kv (tree, key, value)`, keys in
//! byte order; a batch is one transaction of at most three statements per tree (its final
//! puts, deletes and put-if-absents), and announces story changes to the other nodes.

use super::pool::{Connection, Pool};
use super::CHANGES_CHANNEL;
use crate::store::kv::{Batch, Direction, Engine, Entry, KeyRange, Op, Tree};
use crate::store::StoreError;
use std::collections::{btree_map, BTreeMap};
use std::ops::Bound;

/// Entries read per page of a scan.
const PAGE: i64 = 512;

#[derive(Clone)]
pub(crate) struct PgKv {
    pool: Pool,
    /// Sent with every change notice, so a node ignores its own.
    node: String,
}

/// What a batch leaves of one key.
enum Effect {
    Put(Vec<u8>),
    Delete,
    PutIfAbsent(Vec<u8>),
}

impl PgKv {
    pub(crate) fn new(pool: Pool, node: String) -> PgKv {
        PgKv { pool, node }
    }

    fn pages(&self, tree: Tree, range: KeyRange, direction: Direction, values: bool) -> Pages {
        Pages {
            kv: self.clone(),
            tree,
            range,
            direction,
            values,
            page: Vec::new().into_iter(),
            done: false,
        }
    }

    /// Up to `limit` entries of `range` in `direction` (with empty values unless `values`).
    fn page(
        &self,
        tree: Tree,
        range: &KeyRange,
        direction: Direction,
        values: bool,
        limit: i64,
    ) -> Result<Vec<Entry>, StoreError> {
        let (from, to) = (bound_sql(&range.from, ">"), bound_sql(&range.to, "<"));
        let order = match direction {
            Direction::Forward => "ASC",
            Direction::Backward => "DESC",
        };
        let value = if values { "value" } else { "''::bytea" };
        let sql = format!(
            "SELECT key, {value} FROM feedsift_kv WHERE tree = $1 AND {} AND {} ORDER BY key {order} LIMIT {limit}",
            from.replace('?', "$2"),
            to.replace('?', "$3"),
        );
        let from_key = bound_key(&range.from);
        let to_key = bound_key(&range.to);
        self.pool.run(move |c| {
            let rows = c.query(&sql, &[&tree.id(), &from_key, &to_key])?;
            Ok(rows
                .into_iter()
                .map(|r| (r.get::<_, Vec<u8>>(0), r.get::<_, Vec<u8>>(1)))
                .collect())
        })
    }
}

impl Engine for PgKv {
    fn is_shared(&self) -> bool {
        true
    }

    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_vec();
        self.pool.run(move |c| {
            let sql = "SELECT value FROM feedsift_kv WHERE tree = $1 AND key = $2";
            Ok(c.query_opt(sql, &[&tree.id(), &key])?.map(|r| r.get(0)))
        })
    }

    fn get_many(&self, tree: Tree, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
        let found = self.pool.run(move |c| {
            let sql = "SELECT key, value FROM feedsift_kv WHERE tree = $1 AND key = ANY($2)";
            let rows = c.query(sql, &[&tree.id(), &wanted])?;
            Ok(rows
                .into_iter()
                .map(|r| (r.get::<_, Vec<u8>>(0), r.get::<_, Vec<u8>>(1)))
                .collect::<BTreeMap<_, _>>())
        })?;
        Ok(keys.iter().map(|k| found.get(*k).cloned()).collect())
    }

    fn contains(&self, tree: Tree, key: &[u8]) -> Result<bool, StoreError> {
        let key = key.to_vec();
        self.pool.run(move |c| {
            let sql = "SELECT EXISTS (SELECT 1 FROM feedsift_kv WHERE tree = $1 AND key = $2)";
            Ok(c.query_one(sql, &[&tree.id(), &key])?.get(0))
        })
    }

    fn put(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        batch.put(tree, key, value);
        self.commit(batch)
    }

    fn delete(&self, tree: Tree, key: &[u8]) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        batch.delete(tree, key);
        self.commit(batch)
    }

    fn is_empty(&self, tree: Tree) -> Result<bool, StoreError> {
        self.pool.run(move |c| {
            let sql = "SELECT NOT EXISTS (SELECT 1 FROM feedsift_kv WHERE tree = $1)";
            Ok(c.query_one(sql, &[&tree.id()])?.get(0))
        })
    }

    fn len(&self, tree: Tree) -> Result<usize, StoreError> {
        self.pool.run(move |c| {
            let sql = "SELECT count(*) FROM feedsift_kv WHERE tree = $1";
            let count: i64 = c.query_one(sql, &[&tree.id()])?.get(0);
            Ok(usize::try_from(count).unwrap_or_default())
        })
    }

    fn clear(&self, tree: Tree) -> Result<(), StoreError> {
        self.pool.run(move |c| {
            c.execute("DELETE FROM feedsift_kv WHERE tree = $1", &[&tree.id()])?;
            Ok(())
        })
    }

    /// Entries of `range`, a page at a time.
    fn scan(
        &self,
        tree: Tree,
        range: KeyRange,
        direction: Direction,
    ) -> Box<dyn Iterator<Item = Result<Entry, StoreError>> + Send> {
        Box::new(self.pages(tree, range, direction, true))
    }

    /// Keys of `range`, a page at a time; the values are never read from the database.
    fn scan_keys(
        &self,
        tree: Tree,
        range: KeyRange,
        direction: Direction,
    ) -> Box<dyn Iterator<Item = Result<Vec<u8>, StoreError>> + Send> {
        Box::new(
            self.pages(tree, range, direction, false)
                .map(|e| e.map(|(k, _)| k)),
        )
    }

    fn keys_with_prefixes(
        &self,
        tree: Tree,
        prefixes: &[&[u8]],
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        // Each prefix as the range [prefix, its successor), both ends index conditions; an
        // all-0xff prefix has no successor and is scanned on its own.
        let (mut lows, mut highs, mut open_ended) = (Vec::new(), Vec::new(), Vec::new());
        for prefix in prefixes {
            match KeyRange::prefix(prefix).to {
                Bound::Excluded(high) => {
                    lows.push(prefix.to_vec());
                    highs.push(high);
                }
                _ => open_ended.push(*prefix),
            }
        }
        let mut keys = Vec::new();
        if !lows.is_empty() {
            keys = self.pool.run(move |c| {
                let sql = "SELECT k.key FROM unnest($2::bytea[], $3::bytea[]) AS r(low, high) \
                           JOIN feedsift_kv k \
                           ON k.tree = $1 AND k.key >= r.low AND k.key < r.high";
                let rows = c.query(sql, &[&tree.id(), &lows, &highs])?;
                Ok(rows.into_iter().map(|r| r.get::<_, Vec<u8>>(0)).collect())
            })?;
        }
        for prefix in open_ended {
            for key in self.scan_keys(tree, KeyRange::prefix(prefix), Direction::Forward) {
                keys.push(key?);
            }
        }
        Ok(keys)
    }

    fn first(
        &self,
        tree: Tree,
        range: KeyRange,
        direction: Direction,
    ) -> Result<Option<Entry>, StoreError> {
        Ok(self.page(tree, &range, direction, true, 1)?.pop())
    }

    /// Applies `batch` in one transaction; announces story changes at commit.
    fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        let mut effects: BTreeMap<(Tree, Vec<u8>), Effect> = BTreeMap::new();
        for op in batch.ops {
            match op {
                Op::Put(tree, key, value) => {
                    effects.insert((tree, key), Effect::Put(value));
                }
                Op::Delete(tree, key) => {
                    effects.insert((tree, key), Effect::Delete);
                }
                Op::PutIfAbsent(tree, key, value) => match effects.entry((tree, key)) {
                    btree_map::Entry::Vacant(v) => {
                        v.insert(Effect::PutIfAbsent(value));
                    }
                    btree_map::Entry::Occupied(mut o) => {
                        if matches!(o.get(), Effect::Delete) {
                            o.insert(Effect::Put(value));
                        }
                    }
                },
            }
        }
        let mut per_tree: BTreeMap<Tree, TreeChanges> = BTreeMap::new();
        for ((tree, key), effect) in effects {
            let changes = per_tree.entry(tree).or_default();
            match effect {
                Effect::Put(value) => {
                    changes.put.0.push(key);
                    changes.put.1.push(value);
                }
                Effect::Delete => changes.deleted.push(key),
                Effect::PutIfAbsent(value) => {
                    changes.put_if_absent.0.push(key);
                    changes.put_if_absent.1.push(value);
                }
            }
        }
        let announce = batch.changes_stories.then(|| self.node.clone());
        self.pool.run(move |c| {
            let statements = per_tree
                .values()
                .map(TreeChanges::statements)
                .sum::<usize>()
                + usize::from(announce.is_some());
            let apply = |c: &mut Connection| {
                for (tree, changes) in &per_tree {
                    let id = tree.id();
                    let TreeChanges {
                        put: (put_keys, put_values),
                        deleted,
                        put_if_absent: (absent_keys, absent_values),
                    } = changes;
                    if !deleted.is_empty() {
                        c.execute(DELETE, &[&id, deleted])?;
                    }
                    if !put_keys.is_empty() {
                        c.execute(UPSERT, &[&id, put_keys, put_values])?;
                    }
                    if !absent_keys.is_empty() {
                        c.execute(INSERT_ABSENT, &[&id, absent_keys, absent_values])?;
                    }
                }
                if let Some(node) = &announce {
                    c.execute("SELECT pg_notify($1, $2)", &[&CHANGES_CHANNEL, node])?;
                }
                Ok(())
            };
            // One statement is atomic by itself: no BEGIN and COMMIT round trips for it (a
            // source's fetch state, an article's state, a queue entry).
            if statements <= 1 {
                apply(c)
            } else {
                c.in_transaction(apply)
            }
        })
    }

    // Every commit is durable when it returns: `flush` has nothing to do.
}

const UPSERT: &str = "INSERT INTO feedsift_kv (tree, key, value) SELECT $1, k, v FROM unnest($2::bytea[], $3::bytea[]) AS t(k, v) ON CONFLICT (tree, key) DO UPDATE SET value = EXCLUDED.value";
const INSERT_ABSENT: &str = "INSERT INTO feedsift_kv (tree, key, value) SELECT $1, k, v FROM unnest($2::bytea[], $3::bytea[]) AS t(k, v) ON CONFLICT (tree, key) DO NOTHING";
const DELETE: &str = "DELETE FROM feedsift_kv WHERE tree = $1 AND key = ANY($2)";

/// What one batch does to one tree: keys and values to put, keys to delete, keys and values
/// to put where absent.
#[derive(Default)]
struct TreeChanges {
    put: (Vec<Vec<u8>>, Vec<Vec<u8>>),
    deleted: Vec<Vec<u8>>,
    put_if_absent: (Vec<Vec<u8>>, Vec<Vec<u8>>),
}

impl TreeChanges {
    /// How many statements apply these changes.
    fn statements(&self) -> usize {
        [&self.put.0, &self.deleted, &self.put_if_absent.0]
            .iter()
            .filter(|keys| !keys.is_empty())
            .count()
    }
}

/// The condition of one bound on `key` (`?` is its parameter); an open bound is always true.
fn bound_sql(bound: &Bound<Vec<u8>>, strict: &str) -> String {
    match bound {
        Bound::Included(_) => format!("key {strict}= ?"),
        Bound::Excluded(_) => format!("key {strict} ?"),
        // The parameter is still sent (NULL), so every shape takes the same parameters.
        Bound::Unbounded => "?::bytea IS NULL".to_string(),
    }
}

fn bound_key(bound: &Bound<Vec<u8>>) -> Option<Vec<u8>> {
    match bound {
        Bound::Included(k) | Bound::Excluded(k) => Some(k.clone()),
        Bound::Unbounded => None,
    }
}

/// A scan read a page at a time, each page starting after the last key of the one before.
struct Pages {
    kv: PgKv,
    tree: Tree,
    range: KeyRange,
    direction: Direction,
    values: bool,
    page: std::vec::IntoIter<Entry>,
    done: bool,
}

impl Iterator for Pages {
    type Item = Result<Entry, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(entry) = self.page.next() {
            return Some(Ok(entry));
        }
        if self.done {
            return None;
        }
        let page = match self
            .kv
            .page(self.tree, &self.range, self.direction, self.values, PAGE)
        {
            Ok(page) => page,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        self.done = (page.len() as i64) < PAGE;
        if let Some((last, _)) = page.last() {
            let after = Bound::Excluded(last.clone());
            match self.direction {
                Direction::Forward => self.range.from = after,
                Direction::Backward => self.range.to = after,
            }
        }
        self.page = page.into_iter();
        self.page.next().map(Ok)
    }
}
