//! The retention chore: stories older than the longest topic window (plus a margin) are
//! pruned every hour, in batches so polls write in between and shutdown never waits long.

use super::periodic::{repeat, Chore};
use super::Running;
use chrono::Utc;
use std::time::Duration;

/// Margin kept beyond the longest topic window before stories are pruned.
const RETENTION_MARGIN: Duration = Duration::from_secs(7 * 86_400);
const EVERY: Duration = Duration::from_secs(3600);
const BATCH: usize = 2000;

pub(super) async fn run(running: Running) {
    repeat(running.stop.clone(), Duration::ZERO, Retention(running)).await;
}

struct Retention(Running);

impl Chore for Retention {
    async fn round(&mut self) -> Duration {
        prune(&self.0).await
    }
}

async fn prune(running: &Running) -> Duration {
    let keep = running.config().longest_window() + RETENTION_MARGIN;
    let cutoff = Utc::now() - chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
    let mut removed = 0;
    while !*running.stop.borrow() {
        let store = running.store.clone();
        match tokio::task::spawn_blocking(move || store.prune_before(cutoff, BATCH)).await {
            Ok(Ok(n)) => {
                removed += n;
                if n < BATCH {
                    break;
                }
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "pruning failed");
                break;
            }
            Err(e) => {
                tracing::warn!(error = %e, "pruning task failed");
                break;
            }
        }
    }
    if removed > 0 {
        tracing::info!(removed, "pruned old stories");
    }
    EVERY
}
