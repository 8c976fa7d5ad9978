//! `feedsift fetch --once`: every source polled once, concurrently within per-host limits,
//! with a progress line on a terminal and one plain line per source otherwise; then the due
//! article summaries.

use super::progress::Progress;
use crate::config::Config;
use crate::ingest::articles::ArticleWorker;
use crate::ingest::hosts::HostLimits;
use crate::ingest::{Ingester, PollReport};
use crate::store::postgres::leases::Leases;
use crate::store::Store;
use crate::topics::semantic;
use std::io::IsTerminal;
use std::sync::Arc;
use tokio::task::JoinSet;

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

/// The command: polls, prints, summarizes articles, flushes.
pub(super) fn run(mut config: Config) -> anyhow::Result<()> {
    let store = Store::open_for(&config)?;
    // Beside running nodes on a shared database: only the sources no node holds, leased
    // for the run, so nothing is polled twice.
    let mut claimed = Vec::new();
    let mut renewal = None;
    if let Some(leases) = store.leases() {
        let ids: Vec<String> = config.sources.iter().map(|s| s.id.clone()).collect();
        let (mine, elsewhere) = leases.claim_free_sources(&ids, leases.lease())?;
        for (id, holder) in &elsewhere {
            println!("{id:<24} skipped: polled by node {holder}");
        }
        config.sources.retain(|s| mine.contains(&s.id));
        renewal = Some(LeaseRenewal::start(leases.clone(), mine.clone()));
        claimed = mine;
    }
    let config = Arc::new(config);
    let hosts = HostLimits::for_store(&store);
    let ingester = Ingester::new(&config, store.clone(), hosts.clone())?;
    let articles = ArticleWorker::new(&config, store.clone(), hosts)?;
    let rt = super::runtime()?;
    rt.block_on(async {
        let mut progress = Progress {
            total: config.sources.len(),
            ..Progress::default()
        };
        // The bar is drawn on a terminal only: logs and pipes get plain lines.
        let draw = std::io::stderr().is_terminal();
        fetch_once(&config, &ingester, |event| {
            match event {
                FetchEvent::Started(id) => progress.started(id),
                FetchEvent::Finished(report) => {
                    progress.finished(&report.source_id);
                    if draw {
                        eprint!("\r\x1b[2K");
                    }
                    println!("{report}");
                }
            }
            if draw {
                eprint!("\r\x1b[2K{}", progress.line(terminal_width()));
            }
        })
        .await;
        if draw {
            eprint!("\r\x1b[2K");
        }
        let report = articles.run_once(Arc::clone(&config), usize::MAX).await;
        if report.summarized + report.failed > 0 {
            println!(
                "{:<24} {} summarized, {} failed (retried later)",
                "articles", report.summarized, report.failed
            );
        }
    });
    // Embeddings last, so that they read the article excerpts just stored.
    if config.uses_about() {
        match semantic::load_model(&config) {
            Ok(embedder) => {
                let started = std::time::Instant::now();
                store.backfill_embeddings()?;
                let n = semantic::drain_embeddings(&store, &embedder, usize::MAX)?;
                if n > 0 {
                    println!(
                        "{:<24} {n} computed in {:.1}s",
                        "embeddings",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            Err(e) => eprintln!("warning: {}", semantic::fallback_warning(&config, &e)),
        }
    }
    store.flush()?;
    drop(renewal);
    if let Some(leases) = store.leases() {
        leases.release_sources(claimed)?;
    }
    Ok(())
}

/// Renews a one-off run's source leases every third of a lease until dropped: a run that is
/// killed holds them one lease at most.
struct LeaseRenewal {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LeaseRenewal {
    fn start(leases: Leases, sources: Vec<String>) -> LeaseRenewal {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let every = leases.lease() / 3;
        let thread = std::thread::spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every)
            {
                if let Err(e) = leases.claim_free_sources(&sources, leases.lease()) {
                    tracing::warn!(error = %e, "source leases of this run not renewed");
                }
            }
        });
        LeaseRenewal {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for LeaseRenewal {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Columns of the terminal (from $COLUMNS, else 80).
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(80)
}
