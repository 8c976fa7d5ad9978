//! The store on PostgreSQL, for several nodes over one database: connections (`pool`), the
//! versioned schema (`migrations`), the key-value engine (`kv`), change notices between nodes
//! (`changes`), and the leases that give each source and each piece of work one node
//! (`leases`).

mod changes;
mod dial;
mod kv;
pub(crate) mod leases;
mod migrations;
mod pool;

pub(crate) use dial::Dialer;
pub(crate) use kv::PgKv;
pub(crate) use pool::Pool;

use super::StoreError;
use std::time::Duration;

/// Where nodes tell each other that stories changed (the payload is the writer's node id).
pub(crate) const CHANGES_CHANNEL: &str = "feedsift_changes";

/// How a node reaches the database and who it is there.
#[derive(Debug, Clone, PartialEq)]
pub struct PgOptions {
    /// `postgres://user:password@host:port/database`.
    pub url: String,
    /// This node's name in leases and `/healthz` (unique per running node).
    pub node_id: String,
    /// Connections this node opens.
    pub connections: usize,
    /// How long a lease lasts unless renewed: a dead node's sources and work move to the
    /// others within it.
    pub lease: Duration,
}

/// `url` without its password, for messages and logs.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            // libpq also takes the password as a parameter.
            let pairs: Vec<(String, String)> = parsed
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k == "password" { "***".into() } else { v };
                    (k.into_owned(), v.into_owned())
                })
                .collect();
            if pairs.iter().any(|(k, _)| k == "password") {
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
            }
            parsed.to_string()
        }
        Err(_) => "(unparsable PostgreSQL URL)".to_string(),
    }
}

/// The default node id: this host's name and process id.
pub fn default_node_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let host = if host.is_empty() { "node".into() } else { host };
    format!("{host}-{}", std::process::id())
}

/// Connects, brings the schema up to date under an advisory lock, and starts listening for
/// other nodes' changes.
pub(crate) fn connect(options: &PgOptions) -> Result<(Pool, Dialer), StoreError> {
    let place = redacted(&options.url);
    let dialer = Dialer::new(&options.url).map_err(|detail| StoreError::Database {
        place: place.clone(),
        detail,
    })?;
    let pool = Pool::new(&dialer, &place, options.connections)?;
    pool.run(migrations::migrate)?;
    Ok((pool, dialer))
}

pub(crate) use changes::listen;

/// Advisory lock keys (one number space per database).
pub(crate) mod lock_keys {
    /// Held while migrations run.
    pub(crate) const MIGRATE: i64 = 0x6665_6564_0001;
    /// Held by the one node whose write reads, merges and commits now.
    pub(crate) const WRITE: i64 = 0x6665_6564_0002;
}
