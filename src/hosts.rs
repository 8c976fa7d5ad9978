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
