//! The embedding chore: loads the model once (when some topic has `[topic.about]`), gives the
//! running config's phrases their embeddings, and computes the embeddings of queued stories
//! in batches on a blocking thread, never on the async threads or the ingest path.

use super::periodic::{repeat, Chore};
use super::Running;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::semantic::Embedder;
use crate::store::{Queue, Store};
use crate::topics::semantic;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the queue is looked at when it was empty, and stories per round.
const EVERY: Duration = Duration::from_secs(2);
const PER_ROUND: usize = 128;

/// The model shared by the chore and config reloads: loaded at most once per process (a
/// failed load is retried on reload, and warned about once).
#[derive(Clone, Default)]
pub(crate) struct Model {
    state: Arc<Mutex<ModelState>>,
}

#[derive(Default)]
struct ModelState {
    embedder: Option<Arc<Embedder>>,
    warned: bool,
}

impl Model {
    pub(crate) fn embedder(&self) -> Option<Arc<Embedder>> {
        self.lock().embedder.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ModelState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Loads the model if `config` needs it and it is not loaded, then attaches the phrase
    /// embeddings (or records why topics fall back to keywords), and queues the stored
    /// stories that have no current embedding (`Store::backfill_embeddings`).
    pub(crate) async fn make_live(&self, config: &mut Config, store: &Store) {
        if !config.uses_about() {
            semantic::attach(config, None, None, Some(store));
            return;
        }
        let mut problem = None;
        if self.embedder().is_none() {
            let probe = config.clone();
            let loaded = tokio::task::spawn_blocking(move || semantic::load_model(&probe))
                .await
                .unwrap_or_else(|e| Err(e.to_string()));
            let mut state = self.lock();
            match loaded {
                Ok(e) => state.embedder = Some(Arc::new(e)),
                Err(e) => {
                    if !state.warned {
                        tracing::warn!("{}", semantic::fallback_warning(config, &e));
                        state.warned = true;
                    }
                    problem = Some(e);
                }
            }
        }
        let embedder = self.embedder();
        let mut live = config.clone();
        let store2 = store.clone();
        let attached = tokio::task::spawn_blocking(move || {
            let warnings = semantic::attach(
                &mut live,
                embedder.as_deref(),
                problem.as_deref(),
                Some(&store2),
            );
            (live, warnings)
        })
        .await;
        match attached {
            Ok((live, warnings)) => {
                *config = live;
                for w in warnings {
                    tracing::warn!("{w}");
                }
            }
            Err(e) => tracing::error!(error = %e, "phrase embeddings not computed"),
        }
        // Reads every story once when the queue was off since the last look: off the async
        // threads, and a no-op otherwise.
        let store = store.clone();
        match tokio::task::spawn_blocking(move || store.backfill_embeddings()).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(stories = n, "stories queued for embedding"),
            Ok(Err(e)) => tracing::warn!(error = %e, "stories without embeddings not queued"),
            Err(e) => tracing::warn!(error = %e, "embedding backfill failed"),
        }
    }
}

pub(super) async fn run(running: Running, metrics: Arc<Metrics>) {
    let stop = running.stop.clone();
    repeat(stop, Duration::ZERO, Embeddings { running, metrics }).await;
}

struct Embeddings {
    running: Running,
    metrics: Arc<Metrics>,
}

impl Chore for Embeddings {
    async fn round(&mut self) -> Duration {
        let Some(embedder) = self.running.model.embedder() else {
            return EVERY * 15;
        };
        let store = self.running.store.clone();
        if store.queue_is_empty(Queue::Embeddings) {
            return EVERY;
        }
        let started = Instant::now();
        let done = tokio::task::spawn_blocking(move || {
            semantic::drain_embeddings(&store, &embedder, PER_ROUND)
        })
        .await;
        match done {
            Ok(Ok(n)) => {
                self.metrics.embeddings_computed(n);
                if n > 0 {
                    let secs = started.elapsed().as_secs_f64();
                    tracing::info!(
                        computed = n,
                        per_second = format!("{:.1}", n as f64 / secs.max(1e-9)),
                        "embeddings computed"
                    );
                }
                if n == PER_ROUND {
                    Duration::ZERO
                } else {
                    EVERY
                }
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "embeddings not stored");
                EVERY * 15
            }
            Err(e) => {
                tracing::error!(error = %e, "embedding task failed");
                EVERY * 15
            }
        }
    }
}
