//! Per-host concurrency limit: many sources on one host are never fetched all at once, by
//! this process, nor (on a database several nodes share) by all nodes together.

use crate::store::postgres::leases::Leases;
use crate::store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Fetches in flight to one host at most.
pub const PER_HOST: usize = 2;

/// How often a fetch waiting for another node's slot on its host asks again.
const SHARED_RETRY: Duration = Duration::from_millis(50);

#[derive(Clone, Default)]
pub struct HostLimits {
    hosts: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    /// The leases of the database whose slots every node shares (none: this process only).
    shared: Option<Leases>,
}

/// A slot on a host: the fetch it allows may run while this lives.
pub struct HostSlot {
    _local: OwnedSemaphorePermit,
    shared: Option<(Leases, String, i16)>,
}

impl Drop for HostSlot {
    fn drop(&mut self) {
        if let Some((leases, host, slot)) = self.shared.take() {
            leases.free_host_slot(&host, slot);
        }
    }
}

impl HostLimits {
    /// The limits fetches against `store` keep: shared with every node of its database.
    pub fn for_store(store: &Store) -> HostLimits {
        HostLimits {
            hosts: Arc::default(),
            shared: store.leases().cloned(),
        }
    }

    /// Waits for a slot on `host`; the slot is released when it drops.
    pub async fn acquire(&self, host: &str) -> Option<HostSlot> {
        let host = host.to_ascii_lowercase();
        let semaphore = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(
                hosts
                    .entry(host.clone())
                    .or_insert_with(|| Arc::new(Semaphore::new(PER_HOST))),
            )
        };
        let local = semaphore.acquire_owned().await.ok()?;
        let Some(leases) = &self.shared else {
            return Some(HostSlot {
                _local: local,
                shared: None,
            });
        };
        loop {
            let (asked, name) = (leases.clone(), host.clone());
            // Held two leases at most: a node killed mid-fetch frees its slot then.
            let taken = tokio::task::spawn_blocking(move || {
                asked.take_host_slot(&name, PER_HOST as i16, asked.lease() * 2)
            })
            .await;
            match taken {
                Ok(Ok(Some(slot))) => {
                    return Some(HostSlot {
                        _local: local,
                        shared: Some((leases.clone(), host, slot)),
                    })
                }
                Ok(Ok(None)) => tokio::time::sleep(SHARED_RETRY).await,
                Ok(Err(e)) => {
                    // The database is unreachable: this node's own limit still holds, and the
                    // fetch goes on rather than stalling every source of the host.
                    tracing::warn!(host = %host, error = %e, "shared host slot unavailable");
                    return Some(HostSlot {
                        _local: local,
                        shared: None,
                    });
                }
                Err(_) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn a_third_fetch_to_one_host_waits_for_a_slot() {
        let limits = HostLimits::default();
        let a = limits.acquire("example.com").await;
        let _b = limits.acquire("EXAMPLE.com").await;
        // Another host is not held up.
        assert!(
            tokio::time::timeout(Duration::from_secs(1), limits.acquire("other.org"))
                .await
                .is_ok()
        );
        let third = limits.clone();
        let waiter = tokio::spawn(async move { third.acquire("example.com").await.is_some() });
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(
            !waiter.is_finished(),
            "a third concurrent fetch to one host must wait"
        );
        drop(a);
        assert!(waiter.await.unwrap());
    }
}
