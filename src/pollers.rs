//! The per-source polling tasks of `serve`: one task per source, each polling on its own
//! schedule (kept across restarts), restarted when the source's settings change on reload and
//! stopped when the source goes away.

use crate::config::{Config, SourceConfig};
use crate::daemon::ingester;
use crate::fetch::SourceState;
use crate::hosts::HostLimits;
use crate::ingest::Ingester;
use crate::metrics::Metrics;
use crate::store::Store;
use chrono::Utc;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// One polling task per source, restarted when its settings change, stopped when the source
/// goes away.
#[derive(Default)]
pub struct Pollers {
    running: HashMap<String, (PollerKey, tokio::task::JoinHandle<()>)>,
}

/// Everything a poller was started with: a change of any of it restarts the poller.
#[derive(Debug, Clone, PartialEq)]
struct PollerKey {
    source: SourceConfig,
    user_agent: String,
    timeout: Duration,
    max_body: u64,
    summary_words: usize,
    /// Whether a full-content topic reads the source (its HTML is then kept).
    keep_html: bool,
}

impl Pollers {
    pub fn sync(
        &mut self,
        config: &Config,
        store: &Store,
        limits: &HostLimits,
        metrics: &Arc<Metrics>,
        stop: &watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        let mut ingester = ingester(config, store.clone())?;
        // One set of per-host slots for every poller and the article worker.
        ingester.hosts = limits.clone();
        let full = Arc::clone(&ingester.full_content_sources);
        let wanted: HashMap<String, PollerKey> = config
            .sources
            .iter()
            .map(|s| {
                let key = PollerKey {
                    source: s.clone(),
                    user_agent: config.defaults.user_agent.clone(),
                    timeout: config.defaults.timeout,
                    max_body: config.defaults.max_body,
                    summary_words: config.defaults.summary_words,
                    keep_html: full.contains(&s.id),
                };
                (s.id.clone(), key)
            })
            .collect();
        self.running.retain(|id, (key, task)| {
            let keep = wanted.get(id) == Some(key);
            if !keep {
                tracing::info!(source = %id, "stopping poller");
                task.abort();
            }
            keep
        });
        for (id, key) in wanted {
            if self.running.contains_key(&id) {
                continue;
            }
            let task = tokio::spawn(poll_forever(
                ingester.clone(),
                key.source.clone(),
                Arc::clone(metrics),
                stop.clone(),
            ));
            self.running.insert(id, (key, task));
        }
        Ok(())
    }

    pub async fn drain(&mut self) {
        for (_, (_, task)) in self.running.drain() {
            let _ = task.await;
        }
    }
}

async fn poll_forever(
    ingester: Ingester,
    source: SourceConfig,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    // A restart honours the schedule (and any backoff) recorded before it.
    let state: SourceState = ingester
        .store
        .source_state(&source.id)
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut delay = state
        .next_poll
        .and_then(|at| (at - Utc::now()).to_std().ok())
        .unwrap_or(Duration::ZERO);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if *stop.borrow() {
            return;
        }
        let report = ingester.poll(&source).await;
        metrics.record_fetch(&source.id, report.outcome.label());
        delay = report.next_in;
    }
}
