//! Reloading the config under a running daemon: a SIGHUP or a change of the file on disk
//! triggers it; the file is validated as a whole, and only a valid one replaces the running
//! config (the old one keeps running otherwise, with the errors logged).

use crate::config::Config;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// How often the file's modification time and size are checked.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// Notices changes of the config file (by modification time and size).
pub(super) struct ConfigWatcher {
    path: PathBuf,
    seen: Option<(SystemTime, u64)>,
}

impl ConfigWatcher {
    pub(super) fn new(path: PathBuf) -> ConfigWatcher {
        let seen = stamp(&path);
        ConfigWatcher { path, seen }
    }

    /// Completes when the file changed since the last call (or since `new`).
    pub(super) async fn changed(&mut self) {
        loop {
            tokio::time::sleep(WATCH_EVERY).await;
            let now = stamp(&self.path);
            if now.is_some() && now != self.seen {
                self.seen = now;
                return;
            }
        }
    }
}

fn stamp(path: &std::path::Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// SIGHUP deliveries, registered once so none is missed between two waits.
pub(super) struct Hangups {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangups {
    pub(super) fn new() -> Hangups {
        Hangups {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok(),
        }
    }

    /// Completes on the next SIGHUP (never where there is none).
    pub(super) async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            signal.recv().await;
            return;
        }
        std::future::pending::<()>().await
    }
}

impl Default for Hangups {
    fn default() -> Hangups {
        Hangups::new()
    }
}

/// Loads the new config, or logs why it cannot run and returns `None` (the running config
/// stays). Settings that only a restart can change are reported and kept.
pub(super) fn load(running: &Config) -> Option<Config> {
    let mut new = match Config::load(&running.path) {
        Ok(new) => new,
        Err(errors) => {
            tracing::error!("config reload failed, still running the previous config:\n{errors}");
            return None;
        }
    };
    // Everything the new config needs must be buildable before it replaces the running one.
    if let Err(e) = crate::ingest::fetcher(&new) {
        tracing::error!(error = %e, "config reload failed, still running the previous config");
        return None;
    }
    if new.server.listen != running.server.listen || new.server.data_dir != running.server.data_dir
    {
        tracing::warn!(
            "server.listen and server.data_dir take effect on restart; keeping {} and {}",
            running.server.listen,
            running.server.data_dir.display()
        );
        new.server.listen = running.server.listen;
        new.server.data_dir = running.server.data_dir.clone();
    }
    Some(new)
}
