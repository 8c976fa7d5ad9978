//! What divides the work between nodes: a lease per source (claimed with `FOR UPDATE SKIP
//! LOCKED`, renewed while the node lives, free again once it expires), leases on queued
//! stories, and per-host fetch slots; all in the database, so they hold across nodes.

use super::pool::{Param, Pool};
use crate::store::StoreError;
use std::time::Duration;

/// A source another node holds: its id and the node.
pub(crate) type HeldElsewhere = (String, String);

/// Rows for sources the database has not seen yet (free until claimed).
const ADD_SOURCES: &str = "INSERT INTO feedsift_source_leases (source_id)
     SELECT unnest($1::text[]) ON CONFLICT DO NOTHING";

/// Nodes seen within one lease (`$1`, in milliseconds).
const LIVE_NODES: &str = "SELECT count(*) FROM feedsift_nodes
     WHERE seen > now() - $1 * interval '1 millisecond'";

/// The end of an insert into `feedsift_work_leases`: a row another node holds unexpired is
/// left alone, and only the rows this node now holds are returned.
const TAKE_WORK_LEASE: &str = "ON CONFLICT (queue, story) DO UPDATE
       SET holder = EXCLUDED.holder, expires = EXCLUDED.expires
       WHERE feedsift_work_leases.expires < now()
          OR feedsift_work_leases.holder = EXCLUDED.holder
     RETURNING story";

/// The `queue` of role leases in `feedsift_work_leases` (the store's queues are 5 to 7).
const ROLE_QUEUE: i16 = 0;

#[derive(Clone)]
pub(crate) struct Leases {
    pool: Pool,
    node: String,
    lease: Duration,
}

/// What a node knows of the database, for `/healthz`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DatabaseHealth {
    pub node_id: String,
    /// The database without its password.
    pub database: String,
    pub reachable: bool,
    pub error: Option<String>,
    pub schema_version: Option<i64>,
    /// Nodes seen within one lease period, this one included.
    pub live_nodes: Option<i64>,
    /// Sources this node holds the lease of, by id.
    pub source_leases: Vec<String>,
    /// Queued stories this node holds the lease of.
    pub work_leases: Option<i64>,
}

impl Leases {
    pub(crate) fn new(pool: Pool, node: String, lease: Duration) -> Leases {
        Leases { pool, node, lease }
    }

    pub(crate) fn lease(&self) -> Duration {
        self.lease
    }

    fn lease_ms(&self) -> f64 {
        self.lease.as_millis() as f64
    }

    /// One round of keeping this node's share of `sources`: records that the node lives,
    /// renews its leases, gives up sources no longer configured, and claims free or expired
    /// ones up to its fair share (sources over live nodes). Returns the sources it holds now
    /// and the share: a node over its share gives the rest up with `release_sources`.
    pub(crate) fn keep_sources(
        &self,
        sources: &[String],
    ) -> Result<(Vec<String>, usize), StoreError> {
        let node = self.node.clone();
        let lease = self.lease_ms();
        let sources = sources.to_vec();
        self.pool.run(move |c| {
            c.in_transaction(|c| {
                c.execute(
                    "INSERT INTO feedsift_nodes (node_id) VALUES ($1)
                     ON CONFLICT (node_id) DO UPDATE SET seen = now()",
                    &[&node],
                )?;
                c.execute(ADD_SOURCES, &[&sources])?;
                c.execute(
                    "UPDATE feedsift_source_leases SET holder = NULL, expires = '-infinity'
                     WHERE holder = $1 AND NOT (source_id = ANY($2))",
                    &[&node, &sources],
                )?;
                let mut held = strings(c.query(
                    "UPDATE feedsift_source_leases
                     SET expires = now() + $2 * interval '1 millisecond'
                     WHERE holder = $1 AND expires > now() RETURNING source_id",
                    &[&node, &lease],
                )?);
                let live: i64 = c.query_one(LIVE_NODES, &[&lease])?.get(0);
                let share = sources.len().div_ceil(live.max(1) as usize);
                if held.len() < share {
                    let want = (share - held.len()) as i64;
                    let free = strings(c.query(
                        "SELECT source_id FROM feedsift_source_leases
                         WHERE source_id = ANY($1) AND expires < now()
                         ORDER BY source_id LIMIT $2 FOR UPDATE SKIP LOCKED",
                        &[&sources, &want],
                    )?);
                    c.execute(
                        "UPDATE feedsift_source_leases
                         SET holder = $1, expires = now() + $3 * interval '1 millisecond'
                         WHERE source_id = ANY($2)",
                        &[&node, &free, &lease],
                    )?;
                    held.extend(free);
                }
                held.sort();
                Ok((held, share))
            })
        })
    }

    /// For a one-off poll of `sources` beside running nodes: leases every one no live node
    /// holds (or renews them), for `hold`. Returns those, and the others with the node that
    /// holds each.
    pub(crate) fn claim_free_sources(
        &self,
        sources: &[String],
        hold: Duration,
    ) -> Result<(Vec<String>, Vec<HeldElsewhere>), StoreError> {
        let node = self.node.clone();
        let hold = hold.as_millis() as f64;
        let sources = sources.to_vec();
        self.pool.run(move |c| {
            c.in_transaction(|c| {
                c.execute(ADD_SOURCES, &[&sources])?;
                let claimed = strings(c.query(
                    "UPDATE feedsift_source_leases
                     SET holder = $2, expires = now() + $3 * interval '1 millisecond'
                     WHERE source_id IN (
                       SELECT source_id FROM feedsift_source_leases
                       WHERE source_id = ANY($1) AND (expires < now() OR holder = $2)
                       FOR UPDATE SKIP LOCKED)
                     RETURNING source_id",
                    &[&sources, &node, &hold],
                )?);
                let elsewhere = c
                    .query(
                        "SELECT source_id, coalesce(holder, 'another node')
                         FROM feedsift_source_leases
                         WHERE source_id = ANY($1) AND NOT (source_id = ANY($2))
                         ORDER BY source_id",
                        &[&sources, &claimed],
                    )?
                    .iter()
                    .map(|r| (r.get(0), r.get(1)))
                    .collect();
                Ok((claimed, elsewhere))
            })
        })
    }

    /// Gives up this node's leases of `sources` (the caller stopped acting on them first).
    pub(crate) fn release_sources(&self, sources: Vec<String>) -> Result<(), StoreError> {
        if sources.is_empty() {
            return Ok(());
        }
        let node = self.node.clone();
        self.pool.run(move |c| {
            c.execute(
                "UPDATE feedsift_source_leases SET holder = NULL, expires = '-infinity'
                 WHERE holder = $1 AND source_id = ANY($2)",
                &[&node, &sources],
            )?;
            Ok(())
        })
    }

    /// Gives up every lease of this node (a clean stop: the others take over at once).
    pub(crate) fn release_all(&self) -> Result<(), StoreError> {
        let node = self.node.clone();
        self.pool.run(move |c| {
            c.in_transaction(|c| {
                for sql in [
                    "UPDATE feedsift_source_leases SET holder = NULL, expires = '-infinity'
                     WHERE holder = $1",
                    "DELETE FROM feedsift_work_leases WHERE holder = $1",
                    "UPDATE feedsift_host_slots SET holder = NULL, expires = '-infinity'
                     WHERE holder = $1",
                    "DELETE FROM feedsift_nodes WHERE node_id = $1",
                ] {
                    c.execute(sql, &[&node])?;
                }
                Ok(())
            })
        })
    }

    /// Of `stories` waiting in `queue`, the ones this node now holds the lease of (free,
    /// expired, or its own already).
    pub(crate) fn lease_work(
        &self,
        queue: i16,
        stories: Vec<Vec<u8>>,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        if stories.is_empty() {
            return Ok(stories);
        }
        let node = self.node.clone();
        let lease = self.lease_ms();
        self.pool.run(move |c| {
            let sql = format!(
                "INSERT INTO feedsift_work_leases (queue, story, holder, expires)
                 SELECT $1, s, $2, now() + $3 * interval '1 millisecond'
                 FROM unnest($4::bytea[]) AS s {TAKE_WORK_LEASE}"
            );
            let rows = c.query(&sql, &[&queue, &node, &lease, &stories])?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    /// Up to `max` stories waiting in `queue` (the id of the tree that keeps it) that no other
    /// node holds the lease of, leased to this node: nodes split a queue instead of taking
    /// turns at its head.
    pub(crate) fn claim_queued(&self, queue: i16, max: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        let node = self.node.clone();
        let lease = self.lease_ms();
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        self.pool.run(move |c| {
            let sql = format!(
                "WITH free AS (
                   SELECT k.key FROM feedsift_kv k
                   LEFT JOIN feedsift_work_leases l ON l.queue = $1 AND l.story = k.key
                   WHERE k.tree = $1
                     AND (l.story IS NULL OR l.expires < now() OR l.holder = $2)
                   ORDER BY k.key LIMIT $3)
                 INSERT INTO feedsift_work_leases (queue, story, holder, expires)
                 SELECT $1, key, $2, now() + $4 * interval '1 millisecond' FROM free
                 {TAKE_WORK_LEASE}"
            );
            let rows = c.query(&sql, &[&queue, &node, &max, &lease])?;
            let mut stories: Vec<Vec<u8>> = rows.iter().map(|r| r.get(0)).collect();
            stories.sort();
            Ok(stories)
        })
    }

    /// Whether this node holds (now renewed, or newly taken) the lease of `role`: work only
    /// one node may do at a time, such as sending webhooks. Role leases share the work
    /// leases' table under queue 0, which no queue uses.
    pub(crate) fn hold_role(&self, role: &str) -> Result<bool, StoreError> {
        let held = self.lease_work(ROLE_QUEUE, vec![role.as_bytes().to_vec()])?;
        Ok(!held.is_empty())
    }

    /// The work on `stories` is done: their leases go.
    pub(crate) fn release_work(&self, queue: i16, stories: Vec<Vec<u8>>) -> Result<(), StoreError> {
        if stories.is_empty() {
            return Ok(());
        }
        let node = self.node.clone();
        self.pool.run(move |c| {
            c.execute(
                "DELETE FROM feedsift_work_leases
                 WHERE queue = $1 AND holder = $2 AND story = ANY($3)",
                &[&queue, &node, &stories],
            )?;
            Ok(())
        })
    }

    /// One of `slots` fetch slots of `host`, held for at most `hold` (a node killed mid-fetch
    /// frees its slot then); none when every slot is taken.
    pub(crate) fn take_host_slot(
        &self,
        host: &str,
        slots: i16,
        hold: Duration,
    ) -> Result<Option<i16>, StoreError> {
        let node = self.node.clone();
        let host = host.to_ascii_lowercase();
        let hold = hold.as_millis() as f64;
        self.pool.run(move |c| {
            let take = "UPDATE feedsift_host_slots
                 SET holder = $3, expires = now() + $4 * interval '1 millisecond'
                 WHERE (host, slot) = (
                   SELECT host, slot FROM feedsift_host_slots
                   WHERE host = $1 AND slot < $2 AND expires < now()
                   ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED)
                 RETURNING slot";
            let params: [Param; 4] = [&host, &slots, &node, &hold];
            if let Some(row) = c.query_opt(take, &params)? {
                return Ok(Some(row.get(0)));
            }
            // None free: taken, or the host's slots were never made (its first fetch).
            let made = c.execute(
                "INSERT INTO feedsift_host_slots (host, slot)
                 SELECT $1, s::smallint FROM generate_series(0, $2 - 1) AS s
                 ON CONFLICT DO NOTHING",
                &[&host, &(slots as i32)],
            )?;
            if made == 0 {
                return Ok(None);
            }
            Ok(c.query_opt(take, &params)?.map(|r| r.get(0)))
        })
    }

    /// Frees a slot taken with `take_host_slot` (without waiting for the database).
    pub(crate) fn free_host_slot(&self, host: &str, slot: i16) {
        let node = self.node.clone();
        let host = host.to_ascii_lowercase();
        self.pool.spawn(move |c| {
            c.execute(
                "UPDATE feedsift_host_slots SET holder = NULL, expires = '-infinity'
                 WHERE host = $1 AND slot = $2 AND holder = $3",
                &[&host, &slot, &node],
            )?;
            Ok(())
        });
    }

    /// What `/healthz` shows of the database; never fails (an unreachable database is the
    /// answer then).
    pub(crate) fn health(&self) -> DatabaseHealth {
        let node = self.node.clone();
        let lease = self.lease_ms();
        let mut health = DatabaseHealth {
            node_id: self.node.clone(),
            database: self.pool.place().to_string(),
            reachable: false,
            error: None,
            schema_version: None,
            live_nodes: None,
            source_leases: Vec::new(),
            work_leases: None,
        };
        let read = self.pool.run(move |c| {
            let version: i32 = c
                .query_one("SELECT coalesce(max(version), 0) FROM feedsift_migrations", &[])?
                .get(0);
            let live: i64 = c.query_one(LIVE_NODES, &[&lease])?.get(0);
            let sources = strings(c.query(
                "SELECT source_id FROM feedsift_source_leases
                 WHERE holder = $1 AND expires > now() ORDER BY source_id",
                &[&node],
            )?);
            let work: i64 = c
                .query_one(
                    "SELECT count(*) FROM feedsift_work_leases WHERE holder = $1 AND expires > now()",
                    &[&node],
                )?
                .get(0);
            Ok((version, live, sources, work))
        });
        match read {
            Ok((version, live, sources, work)) => {
                health.reachable = true;
                health.schema_version = Some(version.into());
                health.live_nodes = Some(live);
                health.source_leases = sources;
                health.work_leases = Some(work);
            }
            Err(e) => health.error = Some(e.to_string()),
        }
        health
    }
}

/// The first column of every row, as text.
fn strings(rows: Vec<postgres::Row>) -> Vec<String> {
    rows.iter().map(|r| r.get(0)).collect()
}
