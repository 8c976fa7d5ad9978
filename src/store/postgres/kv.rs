//! The PostgreSQL engine: every tree in one table, `feedsift_kv (tree, key, value)`, keys in
//! byte order; a batch is one transaction of at most three statements per tree (its final
//! puts, deletes and put-if-absents), and announces story changes to the other nodes.

use super::pool::{database_error, Connection, Pool};
use super::CHANGES_CHANNEL;
use crate::store::kv::{Batch, Direction, Entry, KeyRange, Op, Tree};
use crate::store::StoreError;
use std::collections::BTreeMap;
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

    pub(crate) fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_vec();
        self.pool.run(move |c| {
            let sql = "SELECT value FROM feedsift_kv WHERE tree = $1 AND key = $2";
            let statement = c.prepared(sql)?;
            let place = c.place().to_string();
            let row = c
                .client()?
                .query_opt(&statement, &[&tree.id(), &key])
                .map_err(|e| database_error(&place, &e))?;
            Ok(row.map(|r| r.get::<_, Vec<u8>>(0)))
        })
    }

    pub(crate) fn get_many(
        &self,
        tree: Tree,
        keys: &[&[u8]],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
        let found = self.pool.run(move |c| {
            let sql = "SELECT key, value FROM feedsift_kv WHERE tree = $1 AND key = ANY($2)";
            let statement = c.prepared(sql)?;
            let place = c.place().to_string();
            let rows = c
                .client()?
                .query(&statement, &[&tree.id(), &wanted])
                .map_err(|e| database_error(&place, &e))?;
            Ok(rows
                .into_iter()
                .map(|r| (r.get::<_, Vec<u8>>(0), r.get::<_, Vec<u8>>(1)))
                .collect::<BTreeMap<_, _>>())
        })?;
        Ok(keys.iter().map(|k| found.get(*k).cloned()).collect())
    }

    pub(crate) fn contains(&self, tree: Tree, key: &[u8]) -> Result<bool, StoreError> {
        let key = key.to_vec();
        self.pool.run(move |c| {
            let sql = "SELECT EXISTS (SELECT 1 FROM feedsift_kv WHERE tree = $1 AND key = $2)";
            query_bool(c, sql, &[&tree.id(), &key])
        })
    }

    pub(crate) fn put(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        batch.put(tree, key, value);
        self.commit(batch)
    }

    pub(crate) fn delete(&self, tree: Tree, key: &[u8]) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        batch.delete(tree, key);
        self.commit(batch)
    }

    pub(crate) fn is_empty(&self, tree: Tree) -> Result<bool, StoreError> {
        // The tree is written into the statement, not passed: from its sixth run on a
        // connection PostgreSQL plans a prepared statement generically, and for `tree = $1`
        // that plan scans the whole table (every tree's rows: 430 ms at 1M stories, on every
        // render through `try_catch_up_indexes`); for a known tree it uses the index.
        let sql = format!(
            "SELECT NOT EXISTS (SELECT 1 FROM feedsift_kv WHERE tree = {})",
            tree.id()
        );
        self.pool.run(move |c| query_bool(c, &sql, &[]))
    }

    pub(crate) fn len(&self, tree: Tree) -> Result<usize, StoreError> {
        self.pool.run(move |c| {
            let sql = "SELECT count(*) FROM feedsift_kv WHERE tree = $1";
            let statement = c.prepared(sql)?;
            let place = c.place().to_string();
            let row = c
                .client()?
                .query_one(&statement, &[&tree.id()])
                .map_err(|e| database_error(&place, &e))?;
            Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or_default())
        })
    }

    pub(crate) fn clear(&self, tree: Tree) -> Result<(), StoreError> {
        self.pool.run(move |c| {
            // The tree in the statement, as in `is_empty`: a generic plan would scan the table.
            let sql = format!("DELETE FROM feedsift_kv WHERE tree = {}", tree.id());
            let statement = c.prepared(&sql)?;
            let place = c.place().to_string();
            c.client()?
                .execute(&statement, &[])
                .map_err(|e| database_error(&place, &e))?;
            Ok(())
        })
    }

    /// Entries of `range`, a page at a time.
    pub(crate) fn scan(
        &self,
        tree: Tree,
        range: KeyRange,
        direction: Direction,
    ) -> Box<dyn Iterator<Item = Result<Entry, StoreError>> + Send> {
        Box::new(Pages {
            kv: self.clone(),
            tree,
            range,
            direction,
            page: Vec::new().into_iter(),
            done: false,
        })
    }

    pub(crate) fn scan_keys(
        &self,
        tree: Tree,
        range: KeyRange,
        direction: Direction,
    ) -> Box<dyn Iterator<Item = Result<Vec<u8>, StoreError>> + Send> {
        Box::new(self.scan(tree, range, direction).map(|e| e.map(|(k, _)| k)))
    }

    /// One page of `range` in `direction`.
    fn page(
        &self,
        tree: Tree,
        range: &KeyRange,
        direction: Direction,
    ) -> Result<Vec<Entry>, StoreError> {
        let (from, to) = (bound_sql(&range.from, ">"), bound_sql(&range.to, "<"));
        let order = match direction {
            Direction::Forward => "ASC",
            Direction::Backward => "DESC",
        };
        let sql = format!(
            "SELECT key, value FROM feedsift_kv WHERE tree = $1 AND {} AND {} ORDER BY key {order} LIMIT {PAGE}",
            from.replace('?', "$2"),
            to.replace('?', "$3"),
        );
        let from_key = bound_key(&range.from);
        let to_key = bound_key(&range.to);
        self.pool.run(move |c| {
            let statement = c.prepared(&sql)?;
            let place = c.place().to_string();
            let rows = c
                .client()?
                .query(&statement, &[&tree.id(), &from_key, &to_key])
                .map_err(|e| database_error(&place, &e))?;
            Ok(rows
                .into_iter()
                .map(|r| (r.get::<_, Vec<u8>>(0), r.get::<_, Vec<u8>>(1)))
                .collect())
        })
    }

    /// Applies `batch` in one transaction; announces story changes at commit.
    pub(crate) fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        let mut effects: BTreeMap<(Tree, Vec<u8>), Effect> = BTreeMap::new();
        for op in batch.ops {
            match op {
                Op::Put(tree, key, value) => {
                    effects.insert((tree, key), Effect::Put(value));
                }
                Op::Delete(tree, key) => {
                    effects.insert((tree, key), Effect::Delete);
                }
                Op::PutIfAbsent(tree, key, value) => {
                    let slot = effects.entry((tree, key));
                    match slot {
                        std::collections::btree_map::Entry::Vacant(v) => {
                            v.insert(Effect::PutIfAbsent(value));
                        }
                        std::collections::btree_map::Entry::Occupied(mut o) => {
                            if matches!(o.get(), Effect::Delete) {
                                o.insert(Effect::Put(value));
                            }
                        }
                    }
                }
            }
        }
        // Per tree: keys to put, keys to delete, keys to put where absent.
        type Statements = (
            Vec<Vec<u8>>,
            Vec<Vec<u8>>,
            Vec<Vec<u8>>,
            Vec<Vec<u8>>,
            Vec<Vec<u8>>,
        );
        let mut per_tree: BTreeMap<Tree, Statements> = BTreeMap::new();
        for ((tree, key), effect) in effects {
            let s = per_tree.entry(tree).or_default();
            match effect {
                Effect::Put(value) => {
                    s.0.push(key);
                    s.1.push(value);
                }
                Effect::Delete => s.2.push(key),
                Effect::PutIfAbsent(value) => {
                    s.3.push(key);
                    s.4.push(value);
                }
            }
        }
        let announce = batch.changes_stories.then(|| self.node.clone());
        self.pool.run(move |c| {
            let upsert = c.prepared(
                "INSERT INTO feedsift_kv (tree, key, value) SELECT $1, k, v FROM unnest($2::bytea[], $3::bytea[]) AS t(k, v) ON CONFLICT (tree, key) DO UPDATE SET value = EXCLUDED.value",
            )?;
            let delete = c.prepared("DELETE FROM feedsift_kv WHERE tree = $1 AND key = ANY($2)")?;
            let insert_absent = c.prepared(
                "INSERT INTO feedsift_kv (tree, key, value) SELECT $1, k, v FROM unnest($2::bytea[], $3::bytea[]) AS t(k, v) ON CONFLICT (tree, key) DO NOTHING",
            )?;
            let notify = c.prepared("SELECT pg_notify($1, $2)")?;
            let place = c.place().to_string();
            let fail = |e: postgres::Error| database_error(&place, &e);
            let mut tx = c.client()?.transaction().map_err(fail)?;
            for (tree, (put_keys, put_values, deleted, absent_keys, absent_values)) in &per_tree {
                let id = tree.id();
                if !deleted.is_empty() {
                    tx.execute(&delete, &[&id, deleted]).map_err(fail)?;
                }
                if !put_keys.is_empty() {
                    tx.execute(&upsert, &[&id, put_keys, put_values])
                        .map_err(fail)?;
                }
                if !absent_keys.is_empty() {
                    tx.execute(&insert_absent, &[&id, absent_keys, absent_values])
                        .map_err(fail)?;
                }
            }
            if let Some(node) = &announce {
                tx.execute(&notify, &[&CHANGES_CHANNEL, node]).map_err(fail)?;
            }
            tx.commit().map_err(fail)
        })
    }
}

fn query_bool(
    c: &mut Connection,
    sql: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<bool, StoreError> {
    let statement = c.prepared(sql)?;
    let place = c.place().to_string();
    let row = c
        .client()?
        .query_one(&statement, params)
        .map_err(|e| database_error(&place, &e))?;
    Ok(row.get::<_, bool>(0))
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
        let page = match self.kv.page(self.tree, &self.range, self.direction) {
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
