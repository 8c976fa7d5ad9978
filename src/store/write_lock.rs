//! The store's one writer at a time: read-merge-write of stories holds it, so two sources
//! seeing the same story at once never lose each other's sighting. On a database several
//! nodes share, the lock is also a PostgreSQL advisory lock, held by a connection of its own.

use super::postgres::{lock_keys, Pool};
use super::StoreError;
use std::sync::{Mutex, MutexGuard, TryLockError};

pub(super) struct WriteLock {
    local: Mutex<()>,
    /// The connection that holds the advisory lock for this node.
    shared: Option<Pool>,
}

/// Held while a write reads, merges and commits.
pub(super) struct WriteGuard<'a> {
    _local: MutexGuard<'a, ()>,
    shared: Option<&'a Pool>,
}

impl WriteLock {
    /// A lock for one process (sled: the store's files are this process's alone).
    pub(super) fn local() -> WriteLock {
        WriteLock {
            local: Mutex::new(()),
            shared: None,
        }
    }

    /// A lock for every node of a database; `pool` has one connection, used for nothing else.
    pub(super) fn shared(pool: Pool) -> WriteLock {
        WriteLock {
            local: Mutex::new(()),
            shared: Some(pool),
        }
    }

    pub(super) fn lock(&self) -> Result<WriteGuard<'_>, StoreError> {
        let local = self.local.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(pool) = &self.shared {
            advisory(pool, "SELECT pg_advisory_lock($1)")?;
        }
        Ok(WriteGuard {
            _local: local,
            shared: self.shared.as_ref(),
        })
    }

    /// The lock when nobody holds it, without waiting.
    pub(super) fn try_lock(&self) -> Result<Option<WriteGuard<'_>>, StoreError> {
        let local = match self.local.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => return Ok(None),
        };
        if let Some(pool) = &self.shared {
            let taken = pool.run(|c| {
                let sql = "SELECT pg_try_advisory_lock($1)";
                Ok(c.query_one(sql, &[&lock_keys::WRITE])?.get::<_, bool>(0))
            })?;
            if !taken {
                return Ok(None);
            }
        }
        Ok(Some(WriteGuard {
            _local: local,
            shared: self.shared.as_ref(),
        }))
    }
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        if let Some(pool) = self.shared {
            // A failure leaves the lock to the server: it goes with the connection.
            if let Err(e) = advisory(pool, "SELECT pg_advisory_unlock($1)") {
                tracing::warn!(error = %e, "write lock not released");
            }
        }
    }
}

/// Runs one advisory-lock call (taking or releasing the lock) on the lock's connection.
fn advisory(pool: &Pool, sql: &'static str) -> Result<(), StoreError> {
    pool.run(move |c| c.execute(sql, &[&lock_keys::WRITE]).map(|_| ()))
}
