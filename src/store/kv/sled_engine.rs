//! The sled engine: one sled tree per `Tree`, a batch as one sled transaction over the trees
//! it touches.

use super::{Batch, Direction, Engine, Entry, KeyRange, Op, Tree};
use crate::store::StoreError;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;
use std::sync::Arc;

#[derive(Clone)]
pub(crate) struct SledKv {
    db: sled::Db,
    trees: Arc<[sled::Tree]>,
}

impl SledKv {
    pub(crate) fn new(db: sled::Db) -> Result<SledKv, StoreError> {
        let trees = Tree::ALL
            .iter()
            .map(|t| db.open_tree(t.name()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SledKv {
            db,
            trees: trees.into(),
        })
    }

    fn tree(&self, tree: Tree) -> &sled::Tree {
        &self.trees[tree.position()]
    }

    fn iter(&self, tree: Tree, range: KeyRange) -> sled::Iter {
        self.tree(tree).range::<Vec<u8>, _>((range.from, range.to))
    }
}

impl Engine for SledKv {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree(tree).get(key)?.map(|v| v.to_vec()))
    }

    fn contains(&self, tree: Tree, key: &[u8]) -> Result<bool, StoreError> {
        Ok(self.tree(tree).contains_key(key)?)
    }

    fn put(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.tree(tree).insert(key, value)?;
        Ok(())
    }

    fn delete(&self, tree: Tree, key: &[u8]) -> Result<(), StoreError> {
        self.tree(tree).remove(key)?;
        Ok(())
    }

    fn scan(
        &self,
        tree: Tree,
        range: KeyRange,
        direction: Direction,
    ) -> Box<dyn Iterator<Item = Result<Entry, StoreError>> + Send> {
        let iter = self.iter(tree, range).map(|e| {
            e.map(|(k, v)| (k.to_vec(), v.to_vec()))
                .map_err(StoreError::from)
        });
        match direction {
            Direction::Forward => Box::new(iter),
            Direction::Backward => Box::new(iter.rev()),
        }
    }

    fn scan_keys(
        &self,
        tree: Tree,
        range: KeyRange,
        direction: Direction,
    ) -> Box<dyn Iterator<Item = Result<Vec<u8>, StoreError>> + Send> {
        let iter = self
            .iter(tree, range)
            .keys()
            .map(|k| k.map(|k| k.to_vec()).map_err(StoreError::from));
        match direction {
            Direction::Forward => Box::new(iter),
            Direction::Backward => Box::new(iter.rev()),
        }
    }

    fn len(&self, tree: Tree) -> Result<usize, StoreError> {
        Ok(self.tree(tree).len())
    }

    fn is_empty(&self, tree: Tree) -> Result<bool, StoreError> {
        Ok(self.tree(tree).is_empty())
    }

    fn clear(&self, tree: Tree) -> Result<(), StoreError> {
        self.tree(tree).clear()?;
        Ok(())
    }

    fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        let mut touched: Vec<Tree> = batch.ops.iter().map(Op::tree).collect();
        touched.sort();
        touched.dedup();
        let simple = !batch.ops.iter().any(|op| matches!(op, Op::PutIfAbsent(..)));
        if let ([only], true) = (touched.as_slice(), simple) {
            // One tree, plain writes: sled's batch is atomic and needs no transaction.
            let mut sled_batch = sled::Batch::default();
            for op in batch.ops {
                match op {
                    Op::Put(_, k, v) => sled_batch.insert(k, v),
                    Op::Delete(_, k) => sled_batch.remove(k),
                    Op::PutIfAbsent(..) => {}
                }
            }
            self.tree(*only).apply_batch(sled_batch)?;
            return Ok(());
        }
        let trees: Vec<&sled::Tree> = touched.iter().map(|t| self.tree(*t)).collect();
        let slot = |tree: Tree| touched.binary_search(&tree).unwrap_or_default();
        trees
            .as_slice()
            .transaction(|views| {
                for op in &batch.ops {
                    let view = &views[slot(op.tree())];
                    match op {
                        Op::Put(_, k, v) => {
                            view.insert(k.as_slice(), v.as_slice())?;
                        }
                        Op::Delete(_, k) => {
                            view.remove(k.as_slice())?;
                        }
                        Op::PutIfAbsent(_, k, v) => {
                            if view.get(k.as_slice())?.is_none() {
                                view.insert(k.as_slice(), v.as_slice())?;
                            }
                        }
                    }
                }
                Ok::<_, ConflictableTransactionError<()>>(())
            })
            .map_err(|e| match e {
                TransactionError::Storage(e) => StoreError::from(e),
                TransactionError::Abort(()) => StoreError::Corrupt {
                    key: "(batch)".into(),
                    message: "transaction aborted".into(),
                },
            })
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}
