//! The article-summary chore: now and then, link posts without text in summary topics get
//! their article page fetched and summarized (`ingest::articles` does the work).

use super::periodic::{repeat, Chore};
use super::Running;
use crate::config::Config;
use crate::ingest::articles::ArticleWorker;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often due article summaries are looked for, and how many one round fetches.
const EVERY: Duration = Duration::from_secs(30);
const PER_ROUND: usize = 20;
/// Without store changes, due retries are looked for this often.
const RETRY_SCAN: Duration = Duration::from_secs(600);

pub(super) async fn run(running: Running) {
    let stop = running.stop.clone();
    let chore = Summaries {
        running,
        last_seen: None,
        more_due: false,
        worker: None,
    };
    repeat(stop, Duration::ZERO, chore).await;
}

struct Summaries {
    running: Running,
    /// Store generation and time of the last look for due articles.
    last_seen: Option<(u64, Instant)>,
    /// The last round fetched as many as it may: more are probably due.
    more_due: bool,
    /// The worker (and its HTTP client) lives as long as the config it was built from.
    worker: Option<(Arc<Config>, ArticleWorker)>,
}

impl Chore for Summaries {
    async fn round(&mut self) -> Duration {
        // Looking for due articles reads every summary topic's window: do it when the store
        // changed (new stories), when the last round left work, or now and then for retries.
        let generation = self.running.store.generation();
        let stale = self
            .last_seen
            .is_none_or(|(g, at)| g != generation || at.elapsed() >= RETRY_SCAN);
        if !stale && !self.more_due {
            return EVERY;
        }
        self.last_seen = Some((generation, Instant::now()));
        let config = self.running.config();
        if self
            .worker
            .as_ref()
            .is_none_or(|(built_for, _)| !Arc::ptr_eq(built_for, &config))
        {
            let built = ArticleWorker::new(
                &config,
                self.running.store.clone(),
                self.running.hosts.clone(),
            );
            self.worker = match built {
                Ok(w) => Some((Arc::clone(&config), w)),
                Err(e) => {
                    tracing::warn!(error = %e, "article summaries unavailable");
                    None
                }
            };
        }
        if let Some((_, w)) = &self.worker {
            let report = w.run_once(Arc::clone(&config), PER_ROUND).await;
            self.more_due = report.summarized + report.failed == PER_ROUND;
            if report.summarized + report.failed > 0 {
                tracing::info!(
                    summarized = report.summarized,
                    failed = report.failed,
                    "article summaries"
                );
            }
        }
        EVERY
    }
}
