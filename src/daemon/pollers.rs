//! The per-source polling tasks of `serve`: one task per source, each polling on its own
//! schedule (kept across restarts), restarted when the source's settings change on reload and
//! stopped when the source goes away.

use super::periodic::{repeat, Chore};
use super::source_leases::{SourceLeases, Turn};
use super::Running;
use crate::ingest::{Ingester, PollSettings};
use crate::metrics::Metrics;
use crate::sources::SourceConfig;
use chrono::Utc;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// One polling task per source, restarted when its settings change, stopped when the source
/// goes away.
#[derive(Default)]
pub(super) struct Pollers {
    running: HashMap<String, (PollerKey, tokio::task::JoinHandle<()>)>,
}

/// Everything a poller was started with: a change of any of it restarts the poller.
#[derive(Debug, Clone, PartialEq)]
struct PollerKey {
    source: SourceConfig,
    settings: PollSettings,
    /// Whether a full-content topic reads the source (its HTML is then kept).
    keep_html: bool,
}

impl Pollers {
    /// Makes the running pollers those of the config `running` holds now.
    pub(super) fn sync(
        &mut self,
        running: &Running,
        leases: &SourceLeases,
        metrics: &Arc<Metrics>,
    ) -> anyhow::Result<()> {
        let config = running.config();
        let ingester = Ingester::new(&config, running.store.clone(), running.hosts.clone())?;
        let full = config.full_content_sources();
        let wanted: HashMap<String, PollerKey> = config
            .sources
            .iter()
            .map(|s| {
                let key = PollerKey {
                    source: s.clone(),
                    settings: ingester.settings().clone(),
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
            let poller = Poller {
                ingester: ingester.clone(),
                source: key.source.clone(),
                metrics: Arc::clone(metrics),
                running: running.clone(),
                leases: leases.clone(),
            };
            let task = tokio::spawn(poller.run(running.stop.clone()));
            self.running.insert(id, (key, task));
        }
        Ok(())
    }

    pub(super) async fn drain(&mut self) {
        for (_, (_, task)) in self.running.drain() {
            let _ = task.await;
        }
    }
}

struct Poller {
    ingester: Ingester,
    source: SourceConfig,
    metrics: Arc<Metrics>,
    running: Running,
    leases: SourceLeases,
}

impl Poller {
    async fn run(self, stop: tokio::sync::watch::Receiver<bool>) {
        // A restart honours the schedule (and any backoff) recorded before it.
        let state = self
            .ingester
            .store()
            .source_state(&self.source.id)
            .ok()
            .flatten()
            .unwrap_or_default();
        let first = state
            .next_poll
            .and_then(|at| (at - Utc::now()).to_std().ok())
            .unwrap_or(Duration::ZERO);
        repeat(stop, first, self).await;
    }
}

impl Poller {
    /// When the recorded schedule wants the next poll (another node may have polled).
    fn recorded_wait(&self) -> Duration {
        self.ingester
            .store()
            .source_state(&self.source.id)
            .ok()
            .flatten()
            .and_then(|state| state.next_poll)
            .and_then(|at| (at - Utc::now()).to_std().ok())
            .unwrap_or(Duration::ZERO)
    }
}

impl Chore for Poller {
    async fn round(&mut self) -> Duration {
        let id = self.source.id.clone();
        match self.leases.turn(&self.running, &id) {
            Turn::Wait(again) => return again,
            Turn::Poll { fresh: true } => {
                let wait = self.recorded_wait();
                if !wait.is_zero() {
                    // Due later: then polled under this same lease (no longer fresh), or
                    // looked at anew if the lease moved meanwhile.
                    self.leases.done(&id);
                    return wait;
                }
            }
            Turn::Poll { fresh: false } => {}
        }
        let report = self.ingester.poll(&self.source).await;
        self.leases.done(&id);
        self.metrics
            .record_fetch(&self.source.id, report.outcome.label());
        if self.leases.holds(&self.running, &id) {
            report.next_in
        } else {
            Duration::ZERO
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::store::Store;
    use tokio::sync::watch;

    fn config(defaults: &str) -> Arc<Config> {
        let text = format!(
            "[defaults]\n{defaults}\n[[source]]\nid = \"a\"\nkind = \"feed\"\nurl = \"http://127.0.0.1:9/feed\"\npoll = \"1h\"\n\n[[topic]]\nslug = \"t\"\ntitle = \"T\"\n"
        );
        Arc::new(Config::parse(std::path::Path::new("feeds.toml"), &text).unwrap())
    }

    #[tokio::test]
    async fn a_change_of_any_poll_setting_restarts_the_poller_and_nothing_else_does() {
        let dir = tempfile::tempdir().unwrap();
        let (config_tx, config_rx) = watch::channel(config(""));
        let (_stop_tx, stop) = watch::channel(false);
        let running = Running {
            config: config_rx,
            store: Store::open(dir.path()).unwrap(),
            hosts: crate::ingest::hosts::HostLimits::default(),
            stop,
            model: Default::default(),
        };
        let metrics = Arc::new(Metrics::default());
        let mut pollers = Pollers::default();
        let task_of = |p: &Pollers| p.running["a"].1.id();
        let leases = SourceLeases::default();
        pollers.sync(&running, &leases, &metrics).unwrap();
        let mut task = task_of(&pollers);
        for (defaults, restarts) in [
            ("", false),
            ("summary_words = 40", true),
            ("summary_words = 40", false),
            ("summary_words = 40\nmax_entries = 10", true),
            ("summary_words = 40\nmax_entries = 10\nallow_private_networks = true", true),
            ("summary_words = 40\nmax_entries = 10\nallow_private_networks = true\nuser_agent = \"x\"", true),
        ] {
            config_tx.send_replace(config(defaults));
            pollers.sync(&running, &leases, &metrics).unwrap();
            assert_eq!(task_of(&pollers) != task, restarts, "{defaults:?}");
            task = task_of(&pollers);
        }
        pollers.running.values().for_each(|(_, t)| t.abort());
    }
}
