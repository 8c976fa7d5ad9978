//! The language model chore: now and then, queued stories of `summaries = "llm"` topics get
//! their summary from the model (`ingest::llm_summaries` does the work). Its own loop, so no
//! poll or request ever waits on the model.

use super::periodic::{repeat, Chore};
use super::{leads, Running};
use crate::config::Config;
use crate::ingest::llm_summaries::LlmWorker;
use crate::metrics::Metrics;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the queue is looked at; sooner while a round left work it could do.
const EVERY: Duration = Duration::from_secs(2);
const IDLE: Duration = Duration::from_secs(30);

pub(super) async fn run(running: Running, metrics: Arc<Metrics>) {
    let stop = running.stop.clone();
    let chore = LlmSummaries {
        running,
        metrics,
        worker: None,
        quiet_since: None,
    };
    repeat(stop, Duration::ZERO, chore).await;
}

/// Queues the stories of the LLM topics' windows stored while no topic used the model (a
/// no-op when the queue has been on since), off the async threads.
async fn backfill(store: &crate::store::Store, config: &Config) {
    let now = chrono::Utc::now();
    let Some(since) = config
        .topics
        .iter()
        .filter(|t| t.summaries.uses_llm())
        .map(|t| t.window_start(now))
        .min()
    else {
        return;
    };
    let store = store.clone();
    match tokio::task::spawn_blocking(move || store.backfill_llm_summaries(since)).await {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => tracing::info!(stories = n, "stories queued for llm summaries"),
        Ok(Err(e)) => tracing::warn!(error = %e, "stories not queued for llm summaries"),
        Err(e) => tracing::warn!(error = %e, "llm backfill failed"),
    }
}

struct LlmSummaries {
    running: Running,
    metrics: Arc<Metrics>,
    /// The worker (and its HTTP client) lives as long as the config it was built from.
    worker: Option<(Arc<Config>, Option<LlmWorker>)>,
    /// Store generation and time of a round that found nothing to ask: the queue is read
    /// again when the store changes, or after `IDLE` (retries come due).
    quiet_since: Option<(u64, Instant)>,
}

impl Chore for LlmSummaries {
    async fn round(&mut self) -> Duration {
        let config = self.running.config();
        if self
            .worker
            .as_ref()
            .is_none_or(|(built_for, _)| !Arc::ptr_eq(built_for, &config))
        {
            let worker = LlmWorker::new(&config, self.running.store.clone());
            if worker.is_some() {
                backfill(&self.running.store, &config).await;
            }
            self.worker = Some((Arc::clone(&config), worker));
        }
        let Some((_, Some(worker))) = &self.worker else {
            return IDLE;
        };
        let store = &self.running.store;
        if store.queue_is_empty(crate::store::Queue::LlmSummaries) {
            return EVERY;
        }
        // On a shared database one node asks the model, so the hourly budget (kept in the
        // database) is one budget, not one per node.
        if !leads(store, "llm").await {
            return EVERY;
        }
        let generation = store.generation();
        if self
            .quiet_since
            .is_some_and(|(g, at)| g == generation && at.elapsed() < IDLE)
        {
            return EVERY;
        }
        let report = worker.run_once(config, &self.metrics).await;
        let asked = report.made + report.refused + report.failed;
        self.quiet_since = (asked == 0 || report.failed > 0).then(|| (generation, Instant::now()));
        if report.made + report.refused + report.failed > 0 {
            tracing::info!(
                made = report.made,
                refused = report.refused,
                failed = report.failed,
                "llm summaries"
            );
        }
        match report.waiting_until {
            // Backoff or an exhausted budget: sleep until it is over (a reload wakes nothing,
            // but rounds are at most `IDLE` apart).
            Some(until) => (until - chrono::Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .clamp(EVERY, IDLE),
            None if report.more_due => Duration::ZERO,
            None => EVERY,
        }
    }
}
