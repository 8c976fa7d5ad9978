//! Per-host concurrency limit: many sources on one host are never fetched all at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Fetches in flight to one host at most.
pub const PER_HOST: usize = 2;

#[derive(Clone, Default)]
pub struct HostLimits {
    hosts: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
}

impl HostLimits {
    /// Waits for a slot on `host`; the slot is released when the permit drops.
    pub async fn acquire(&self, host: &str) -> Option<OwnedSemaphorePermit> {
        let semaphore = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(
                hosts
                    .entry(host.to_ascii_lowercase())
                    .or_insert_with(|| Arc::new(Semaphore::new(PER_HOST))),
            )
        };
        semaphore.acquire_owned().await.ok()
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
