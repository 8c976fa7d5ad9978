//! `[store]`: sled under `data_dir` by default; `url = "postgres://..."` puts the store in a
//! PostgreSQL database several nodes share, each with its `node_id`, connections and lease.

use super::Checker;
use crate::config::raw::RawStore;
use crate::config::{StoreConfig, MAX_DURATION};
use std::time::Duration;

/// Connections a node opens by default, and how long a lease lasts.
pub(crate) const DEFAULT_CONNECTIONS: i64 = 8;
pub(crate) const DEFAULT_LEASE: Duration = Duration::from_secs(30);

pub(super) fn validate_store(c: &mut Checker, raw: &RawStore) -> StoreConfig {
    let url = raw.url.as_ref().and_then(|v| {
        let text = v.get_ref().trim();
        match url::Url::parse(text) {
            Ok(u) if matches!(u.scheme(), "postgres" | "postgresql") => {
                match crate::config::store_tls::client_config(text) {
                    Ok(_) => Some(text.to_string()),
                    Err(problem) => {
                        c.error(v.span(), "store.url", problem);
                        None
                    }
                }
            }
            _ => {
                c.error(
                    v.span(),
                    "store.url",
                    "expected a PostgreSQL URL such as \"postgres://feedsift@db.internal:5432/feedsift\"".to_string(),
                );
                None
            }
        }
    });
    let node_id = raw.node_id.as_ref().and_then(|v| {
        let id = v.get_ref();
        let ok = !id.is_empty()
            && id.len() <= 64
            && id
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.'));
        if !ok {
            c.error(
                v.span(),
                "store.node_id",
                format!("{id:?} must be 1 to 64 characters of a-z, A-Z, 0-9, '-', '_' and '.'"),
            );
        }
        ok.then(|| id.clone())
    });
    let connections = c.count(
        &raw.connections,
        "store.connections",
        1..65,
        DEFAULT_CONNECTIONS,
    ) as usize;
    // Renewed a third of the way through: under two seconds, a busy database could miss one.
    let lease = c.duration_within(
        &raw.lease,
        "store.lease",
        DEFAULT_LEASE,
        Duration::from_secs(2),
        MAX_DURATION.min(Duration::from_secs(3600)),
    );
    StoreConfig {
        url,
        node_id,
        connections,
        lease,
    }
}
