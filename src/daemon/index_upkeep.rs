//! Topic-index upkeep: the config's topics are registered as the indexed ones (at start and on
//! every reload); a chore builds missing indexes in the background and files changed stories
//! soon after each store change, so renders rarely have to.

use super::periodic::{repeat, Chore};
use super::Running;
use crate::config::Config;
use crate::store::{Store, StoreError};
use crate::topics::index;
use chrono::Utc;
use std::time::Duration;

/// How often the chore looks for store changes and indexes to build.
const TICK: Duration = Duration::from_millis(500);

/// Makes the config's topics the indexed ones (dropping indexes of removed or changed
/// topics, which can take a while on a large store: off the async threads), and files what
/// writers marked since the indexes were last caught up (a `fetch --once`, or a crash), so
/// the first feeds served are whole.
pub(super) async fn register(store: &Store, config: &Config) -> anyhow::Result<()> {
    let store = store.clone();
    let indexes = index::for_topics(&config.topics);
    tokio::task::spawn_blocking(move || {
        store.register_indexes(indexes)?;
        store.catch_up_indexes()
    })
    .await??;
    Ok(())
}

/// Builds missing indexes and files changed stories until the daemon stops.
pub(super) async fn run(running: Running) {
    let stop = running.stop.clone();
    let chore = Upkeep {
        running,
        filed_generation: None,
    };
    repeat(stop, Duration::ZERO, chore).await;
}

struct Upkeep {
    running: Running,
    /// The store generation the indexes were last caught up with.
    filed_generation: Option<u64>,
}

impl Chore for Upkeep {
    async fn round(&mut self) -> Duration {
        let store = self.running.store.clone();
        let generation = store.generation();
        if self.filed_generation == Some(generation) && store.indexes_complete() {
            return TICK;
        }
        let stop = self.running.stop.clone();
        let work = tokio::task::spawn_blocking(move || {
            let built = store.build_indexes(Utc::now(), &|| *stop.borrow())?;
            store.catch_up_indexes()?;
            Ok::<_, StoreError>(built)
        });
        match work.await {
            Ok(Ok(built)) => {
                self.filed_generation = Some(generation);
                if built > 0 {
                    tracing::info!(built, "topic indexes built");
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "topic index upkeep failed"),
            Err(e) => tracing::warn!(error = %e, "topic index task failed"),
        }
        TICK
    }
}
