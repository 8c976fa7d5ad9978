//! Running feedsift: `fetch_once` polls every source once; `serve` polls each source on its
//! schedule, prunes old stories, and serves HTTP until SIGINT/SIGTERM, then flushes and exits.

use crate::articles::ArticleWorker;
use crate::config::Config;
use crate::fetch::{FetchSettings, Fetcher};
use crate::hosts::HostLimits;
use crate::indexing;
use crate::ingest::{Ingester, PollReport};
use crate::metrics::Metrics;
use crate::pollers::Pollers;
use crate::reload::{self, ConfigWatcher, Hangups};
use crate::server::{self, AppState, Live};
use crate::store::Store;
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Margin kept beyond the longest topic window before stories are pruned.
const RETENTION_MARGIN: Duration = Duration::from_secs(7 * 86_400);
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
const PRUNE_BATCH: usize = 2000;
/// How often due article summaries are looked for, and how many one round fetches.
const ARTICLES_EVERY: Duration = Duration::from_secs(30);
const ARTICLES_PER_ROUND: usize = 20;
/// Without store changes, due retries are looked for this often.
const ARTICLES_RETRY_SCAN: Duration = Duration::from_secs(600);
/// How long shutdown waits for polls in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

pub fn ingester(config: &Config, store: Store) -> anyhow::Result<Ingester> {
    let full_content_sources = config
        .sources
        .iter()
        .filter(|s| {
            config
                .topics
                .iter()
                .any(|t| t.full_content && t.sources.as_ref().is_none_or(|ids| ids.contains(&s.id)))
        })
        .map(|s| s.id.clone())
        .collect();
    Ok(Ingester {
        store,
        fetcher: fetcher(config)?,
        summary_words: config.defaults.summary_words,
        hosts: HostLimits::default(),
        full_content_sources: Arc::new(full_content_sources),
    })
}

pub fn article_worker(config: &Config, store: Store) -> anyhow::Result<ArticleWorker> {
    Ok(ArticleWorker {
        store,
        fetcher: fetcher(config)?,
        summary_words: config.defaults.summary_words,
    })
}

fn fetcher(config: &Config) -> anyhow::Result<Fetcher> {
    Ok(Fetcher::new(FetchSettings {
        user_agent: config.defaults.user_agent.clone(),
        timeout: config.defaults.timeout,
        max_body: config.defaults.max_body,
    })?)
}

/// What `fetch_once` reports as it goes.
pub enum FetchEvent<'a> {
    Started(&'a str),
    Finished(&'a PollReport),
}

/// Polls every source once, concurrently (within per-host limits), telling `on_event` when
/// each source starts and finishes. Returns the reports in completion order.
pub async fn fetch_once(
    config: &Config,
    ingester: &Ingester,
    mut on_event: impl FnMut(FetchEvent),
) -> Vec<PollReport> {
    let (started_tx, mut started_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let mut tasks = JoinSet::new();
    for source in config.sources.clone() {
        let ingester = ingester.clone();
        let started = started_tx.clone();
        tasks.spawn(async move {
            let _ = started.send(source.id.clone());
            ingester.poll(&source).await
        });
    }
    drop(started_tx);
    let mut reports = Vec::new();
    loop {
        tokio::select! {
            biased;
            Some(id) = started_rx.recv() => on_event(FetchEvent::Started(&id)),
            done = tasks.join_next() => match done {
                None => break,
                Some(Ok(report)) => {
                    on_event(FetchEvent::Finished(&report));
                    reports.push(report);
                }
                Some(Err(e)) => tracing::error!(error = %e, "poll task failed"),
            },
        }
    }
    reports
}

/// Runs the daemon until SIGINT or SIGTERM; reloads the config on SIGHUP or when the file
/// changes.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let store = Store::open(&config.server.data_dir)?;
    indexing::register(&store, &config).await?;
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.server.listen))?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let metrics = Arc::new(Metrics::default());
    let limits = HostLimits::default();
    let config = Arc::new(config);
    let live = Live::new(AppState::new(
        Arc::clone(&config),
        store.clone(),
        Arc::clone(&metrics),
    ));
    let mut pollers = Pollers::default();
    pollers.sync(&config, &store, &limits, &metrics, &stop_rx)?;
    let mut background = JoinSet::new();
    background.spawn(articles_forever(
        Arc::clone(&live),
        limits.clone(),
        stop_rx.clone(),
    ));
    background.spawn(prune_forever(Arc::clone(&live), stop_rx.clone()));
    background.spawn(indexing::maintain_forever(
        Arc::clone(&live),
        stop_rx.clone(),
    ));
    tracing::info!(listen = %config.server.listen, base_url = %config.server.base_url, sources = config.sources.len(), topics = config.topics.len(), "serving");
    let mut server_stop = stop_rx.clone();
    let server = tokio::spawn(server::run(listener, Arc::clone(&live), async move {
        let _ = server_stop.wait_for(|stop| *stop).await;
    }));
    let mut watcher = ConfigWatcher::new(config.path.clone());
    let mut hangups = Hangups::new();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = hangups.recv() => {}
            _ = watcher.changed() => {}
        }
        let running = live.get();
        match reload::load(&running.config) {
            Err(errors) => tracing::error!(
                "config reload failed, still running the previous config:\n{errors}"
            ),
            Ok(new) => {
                let new = Arc::new(new);
                pollers.sync(&new, &store, &limits, &metrics, &stop_rx)?;
                if let Err(e) = indexing::register(&store, &new).await {
                    tracing::warn!(error = %e, "topic indexes not updated; feeds read whole windows");
                }
                live.swap(AppState::new(
                    Arc::clone(&new),
                    store.clone(),
                    Arc::clone(&metrics),
                ));
                tracing::info!(
                    sources = new.sources.len(),
                    topics = new.topics.len(),
                    "config reloaded"
                );
            }
        }
    }
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        pollers.drain().await;
        while background.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("work still running after {SHUTDOWN_GRACE:?}; stopping it");
        background.abort_all();
    }
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, server).await;
    store.flush()?;
    Ok(())
}

async fn articles_forever(live: Arc<Live>, limits: HostLimits, mut stop: watch::Receiver<bool>) {
    // Looking for due articles reads every summary topic's window: do it when the store
    // changed (new stories), when the last round left work, or now and then for retries.
    let mut last_seen: Option<(u64, std::time::Instant)> = None;
    let mut more_due = false;
    let mut worker: Option<(Arc<Config>, ArticleWorker)> = None;
    loop {
        let state = live.get();
        let generation = state.store.generation();
        let stale =
            last_seen.is_none_or(|(g, at)| g != generation || at.elapsed() >= ARTICLES_RETRY_SCAN);
        if stale || more_due {
            last_seen = Some((generation, std::time::Instant::now()));
            // The worker (and its HTTP client) lives as long as the config it was built from.
            if worker
                .as_ref()
                .is_none_or(|(config, _)| !Arc::ptr_eq(config, &state.config))
            {
                worker = match article_worker(&state.config, state.store.clone()) {
                    Ok(w) => Some((Arc::clone(&state.config), w)),
                    Err(e) => {
                        tracing::warn!(error = %e, "article summaries unavailable");
                        None
                    }
                };
            }
            if let Some((_, w)) = &worker {
                let report = w.run_once(&state.config, &limits, ARTICLES_PER_ROUND).await;
                more_due = report.summarized + report.failed == ARTICLES_PER_ROUND;
                if report.summarized + report.failed > 0 {
                    tracing::info!(
                        summarized = report.summarized,
                        failed = report.failed,
                        "article summaries"
                    );
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(ARTICLES_EVERY) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

async fn prune_forever(live: Arc<Live>, mut stop: watch::Receiver<bool>) {
    loop {
        let state = live.get();
        let keep = state.config.longest_window() + RETENTION_MARGIN;
        let cutoff = Utc::now() - chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
        let mut removed = 0;
        // In batches: polls write in between, and shutdown never waits for a long prune.
        while !*stop.borrow() {
            let store = state.store.clone();
            match tokio::task::spawn_blocking(move || store.prune_before(cutoff, PRUNE_BATCH)).await
            {
                Ok(Ok(n)) => {
                    removed += n;
                    if n < PRUNE_BATCH {
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
        tokio::select! {
            _ = tokio::time::sleep(PRUNE_EVERY) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
