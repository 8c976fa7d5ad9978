//! `serve`: the daemon owns the running state (the config as a `watch` of `Arc<Config>`, the
//! store, per-host limits, metrics) and hands each chore what it needs; it polls, keeps the
//! topic indexes, summarizes articles, asks the language model for summaries, prunes, reloads
//! and serves HTTP until SIGINT/SIGTERM,
//! then lets work in flight finish, flushes and exits.

mod embeddings;
mod index_upkeep;
mod llm_summaries;
mod periodic;
mod pollers;
mod push_client;
mod reload;
mod retention;
mod source_leases;
mod summaries;
mod webhooks;
mod websub;

use crate::config::Config;
use crate::ingest::hosts::HostLimits;
use crate::metrics::Metrics;
use crate::server;
use crate::store::{Store, StoreError};
use pollers::Pollers;
use reload::{ConfigWatcher, Hangups};
use source_leases::SourceLeases;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How long shutdown waits for polls in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What every chore of a running daemon may read: the config now (a reload sends a new one),
/// the store, the per-host slots every fetch shares, and the stop signal.
#[derive(Clone)]
pub(crate) struct Running {
    pub(crate) config: watch::Receiver<Arc<Config>>,
    pub(crate) store: Store,
    pub(crate) hosts: HostLimits,
    pub(crate) stop: watch::Receiver<bool>,
    /// The embedding model, when some topic has `[topic.about]` and it could be loaded.
    pub(crate) model: embeddings::Model,
}

impl Running {
    pub(crate) fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config.borrow())
    }
}

/// Runs the daemon until SIGINT or SIGTERM; reloads the config on SIGHUP or when the file
/// changes.
pub async fn serve(mut config: Config) -> anyhow::Result<()> {
    let store = Store::open_for(&config)?;
    let model = embeddings::Model::default();
    model.make_live(&mut config, &store).await;
    index_upkeep::register(&store, &config).await?;
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.server.listen))?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let (config_tx, config_rx) = watch::channel(Arc::new(config));
    let running = Running {
        config: config_rx,
        store: store.clone(),
        hosts: HostLimits::for_store(&store),
        stop: stop_rx,
        model: model.clone(),
    };
    let metrics = Arc::new(Metrics::default());
    let leases = SourceLeases::default();
    let mut pollers = Pollers::default();
    pollers.sync(&running, &leases, &metrics)?;
    let mut chores = JoinSet::new();
    chores.spawn(periodic::repeat(
        running.stop.clone(),
        Duration::ZERO,
        source_leases::LeaseKeeper {
            running: running.clone(),
            leases: leases.clone(),
        },
    ));
    chores.spawn(summaries::run(running.clone()));
    chores.spawn(retention::run(running.clone()));
    chores.spawn(index_upkeep::run(running.clone()));
    chores.spawn(embeddings::run(running.clone(), Arc::clone(&metrics)));
    chores.spawn(websub::run(running.clone(), Arc::clone(&metrics)));
    chores.spawn(webhooks::run(running.clone(), Arc::clone(&metrics)));
    chores.spawn(llm_summaries::run(running.clone(), Arc::clone(&metrics)));
    let config = running.config();
    tracing::info!(listen = %config.server.listen, base_url = %config.server.base_url, sources = config.sources.len(), topics = config.topics.len(), "serving");
    let mut server_stop = running.stop.clone();
    let server = tokio::spawn(server::run(
        listener,
        server::Shared {
            config: running.config.clone(),
            store: store.clone(),
            metrics: Arc::clone(&metrics),
        },
        async move {
            let _ = server_stop.wait_for(|stop| *stop).await;
        },
    ));
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
        let Some(mut new) = reload::load(&running.config()) else {
            continue;
        };
        model.make_live(&mut new, &store).await;
        let new = Arc::new(new);
        // Indexes first: the server's new state reads them as soon as it sees the config.
        if let Err(e) = index_upkeep::register(&store, &new).await {
            tracing::warn!(error = %e, "topic indexes not updated; feeds read whole windows");
        }
        config_tx.send_replace(Arc::clone(&new));
        if let Err(e) = pollers.sync(&running, &leases, &metrics) {
            tracing::error!(error = %e, "pollers not restarted for the new config");
        }
        tracing::info!(
            sources = new.sources.len(),
            topics = new.topics.len(),
            "config reloaded"
        );
    }
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        pollers.drain().await;
        while chores.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("work still running after {SHUTDOWN_GRACE:?}; stopping it");
        chores.abort_all();
    }
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, server).await;
    source_leases::release(&running).await;
    store.flush()?;
    Ok(())
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

/// Runs `work` on the store off the async threads; a panic or a store error is the error.
pub(super) async fn on_store<T: Send + 'static>(
    store: &Store,
    work: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, String> {
    let store = store.clone();
    match tokio::task::spawn_blocking(move || work(&store)).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Whether this node is the one to do `role` now: always on a store of its own; on a shared
/// database while it holds the role's lease (see `Store::holds_role`).
pub(super) async fn leads(store: &Store, role: &'static str) -> bool {
    on_store(store, move |store| Ok(store.holds_role(role))).await == Ok(true)
}
