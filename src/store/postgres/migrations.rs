//! The database schema, versioned: each migration runs once, in order, in a transaction of
//! its own, under an advisory lock so nodes starting together never race. A database that a
//! newer feedsift migrated is refused.

use super::lock_keys;
use super::pool::Connection;
use crate::store::StoreError;

/// Every migration ever shipped, oldest first: never edited once released, only appended.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the trees of the store, and what the nodes share to divide the work.
    "CREATE TABLE feedsift_kv (
        tree smallint NOT NULL,
        key bytea NOT NULL,
        value bytea NOT NULL,
        PRIMARY KEY (tree, key)
    );
    CREATE TABLE feedsift_nodes (
        node_id text PRIMARY KEY,
        started timestamptz NOT NULL DEFAULT now(),
        seen timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE feedsift_source_leases (
        source_id text PRIMARY KEY,
        holder text,
        expires timestamptz NOT NULL DEFAULT '-infinity'
    );
    CREATE TABLE feedsift_work_leases (
        queue smallint NOT NULL,
        story bytea NOT NULL,
        holder text NOT NULL,
        expires timestamptz NOT NULL,
        PRIMARY KEY (queue, story)
    );
    CREATE TABLE feedsift_host_slots (
        host text NOT NULL,
        slot smallint NOT NULL,
        holder text,
        expires timestamptz NOT NULL DEFAULT '-infinity',
        PRIMARY KEY (host, slot)
    );",
];

/// Applies what is missing of `MIGRATIONS`; refuses a database migrated further.
pub(super) fn migrate(c: &mut Connection) -> Result<(), StoreError> {
    c.execute("SELECT pg_advisory_lock($1)", &[&lock_keys::MIGRATE])?;
    let result = apply_missing(c);
    let unlocked = c.execute("SELECT pg_advisory_unlock($1)", &[&lock_keys::MIGRATE]);
    result.and(unlocked.map(|_| ()))
}

fn apply_missing(c: &mut Connection) -> Result<(), StoreError> {
    c.batch(
        "CREATE TABLE IF NOT EXISTS feedsift_migrations (
            version integer PRIMARY KEY,
            applied timestamptz NOT NULL DEFAULT now()
        )",
    )?;
    let found: i32 = c
        .query_one(
            "SELECT coalesce(max(version), 0) FROM feedsift_migrations",
            &[],
        )?
        .get(0);
    let known = MIGRATIONS.len() as i32;
    if found > known {
        return Err(StoreError::NewerDatabase {
            place: c.place().to_string(),
            found: found as u64,
            known: known as u64,
        });
    }
    for (n, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = n as i32 + 1;
        c.in_transaction(|c| {
            c.batch(sql)?;
            c.execute(
                "INSERT INTO feedsift_migrations (version) VALUES ($1)",
                &[&version],
            )
        })?;
        tracing::info!(database = %c.place(), version, "database migrated");
    }
    Ok(())
}
