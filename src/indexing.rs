//! The serving daemon's topic indexes: registered for the running config (and again on
//! reload), built in the background, and caught up soon after each store change so renders
//! rarely have to.

use crate::config::Config;
use crate::server::Live;
use crate::store::Store;
use crate::topic_index;
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the loop looks for store changes and indexes to build.
const TICK: Duration = Duration::from_millis(500);

/// Makes the config's topics the indexed ones (dropping indexes of removed or changed
/// topics, which can take a while on a large store: off the async threads).
pub async fn register(store: &Store, config: &Config) -> anyhow::Result<()> {
    let store = store.clone();
    let indexes = topic_index::for_topics(&config.topics);
    tokio::task::spawn_blocking(move || store.register_indexes(indexes)).await??;
    Ok(())
}

/// Builds missing indexes and files changed stories until `stop`.
pub async fn maintain_forever(live: Arc<Live>, mut stop: watch::Receiver<bool>) {
    let mut filed_generation = None;
    loop {
        let store = live.get().store.clone();
        let generation = store.generation();
        if filed_generation != Some(generation) || !store.indexes_complete() {
            let stop_flag = stop.clone();
            let work = tokio::task::spawn_blocking(move || {
                let built = store.build_indexes(Utc::now(), &|| *stop_flag.borrow())?;
                store.catch_up_indexes()?;
                Ok::<_, crate::store::StoreError>(built)
            });
            match work.await {
                Ok(Ok(built)) => {
                    filed_generation = Some(generation);
                    if built > 0 {
                        tracing::info!(built, "topic indexes built");
                    }
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "topic index upkeep failed"),
                Err(e) => tracing::warn!(error = %e, "topic index task failed"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
