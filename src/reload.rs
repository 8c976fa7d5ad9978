//! Reloading the config under a running daemon: a SIGHUP or a change of the file on disk
//! triggers it; the file is validated as a whole, and only a valid one replaces the running
//! config (the old one keeps running otherwise, with the errors logged).

use crate::config::{Config, ConfigErrors};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// How often the file's modification time and size are checked.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// Notices changes of the config file (by modification time and size).
pub struct ConfigWatcher {
    path: PathBuf,
    seen: Option<(SystemTime, u64)>,
}

impl ConfigWatcher {
    pub fn new(path: PathBuf) -> ConfigWatcher {
        let seen = stamp(&path);
        ConfigWatcher { path, seen }
    }

    /// Completes when the file changed since the last call (or since `new`).
    pub async fn changed(&mut self) {
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
pub struct Hangups {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangups {
    pub fn new() -> Hangups {
        Hangups {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok(),
        }
    }

    /// Completes on the next SIGHUP (never where there is none).
    pub async fn recv(&mut self) {
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

/// Loads the new config; settings that only a restart can change are reported and kept.
pub fn load(running: &Config) -> Result<Config, ConfigErrors> {
    let mut new = Config::load(&running.path)?;
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
    Ok(new)
}
