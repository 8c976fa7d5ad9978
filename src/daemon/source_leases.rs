//! Which sources this node polls: on a store of its own, every source; on a database several
//! nodes share, those whose lease it holds, kept by a chore that renews them a third of the
//! way through each lease and takes its share of free ones. A poller asks before each poll.

use super::periodic::Chore;
use super::{on_store, Running};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a poller may do now with its source.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Turn {
    /// Poll; `fresh` when the lease came to this node since the poller last polled (another
    /// node may have polled meanwhile: its recorded schedule counts).
    Poll { fresh: bool },
    /// Another node polls it, or nobody holds it yet: look again after this.
    Wait(Duration),
}

/// The leases this node holds, shared by the pollers and the chore that keeps them.
#[derive(Clone, Default)]
pub(super) struct SourceLeases {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// Per source held: until when the lease is safe to act on, and a count of the times
    /// it was taken (a poller that polled under another count must look at the schedule).
    held: HashMap<String, (Instant, u64)>,
    /// Sources being polled now: never given up mid-poll.
    busy: HashSet<String>,
    /// Per source, the take count its poller last polled under.
    polled_under: HashMap<String, u64>,
    takes: u64,
}

/// How often a poller whose source another node holds looks again.
const LOOK_AGAIN: Duration = Duration::from_secs(1);

impl SourceLeases {
    /// Called by the poller of `source` before it polls; `Poll` marks the source busy until
    /// `done`.
    pub(super) fn turn(&self, running: &Running, source: &str) -> Turn {
        if running.store.leases().is_none() {
            return Turn::Poll { fresh: false };
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match state.held.get(source).copied() {
            Some((until, take)) if until > Instant::now() => {
                let fresh = state.polled_under.get(source) != Some(&take);
                state.polled_under.insert(source.to_string(), take);
                state.busy.insert(source.to_string());
                Turn::Poll { fresh }
            }
            _ => Turn::Wait(LOOK_AGAIN),
        }
    }

    /// The poll `turn` allowed has ended.
    pub(super) fn done(&self, source: &str) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.busy.remove(source);
    }

    /// Whether this node may still act on `source` (its lease has not run out).
    pub(super) fn holds(&self, running: &Running, source: &str) -> bool {
        if running.store.leases().is_none() {
            return true;
        }
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state
            .held
            .get(source)
            .is_some_and(|(until, _)| *until > Instant::now())
    }
}

/// The chore that keeps this node's leases (a no-op on a store of its own).
pub(super) struct LeaseKeeper {
    pub(super) running: Running,
    pub(super) leases: SourceLeases,
}

impl LeaseKeeper {
    /// How long between rounds: a third of a lease.
    pub(super) fn period(running: &Running) -> Duration {
        running
            .store
            .leases()
            .map_or(Duration::from_secs(3600), |l| l.lease() / 3)
    }
}

impl Chore for LeaseKeeper {
    async fn round(&mut self) -> Duration {
        let period = LeaseKeeper::period(&self.running);
        let Some(lease) = self.running.store.leases().map(|l| l.lease()) else {
            return period;
        };
        let sources: Vec<String> = self
            .running
            .config()
            .sources
            .iter()
            .map(|s| s.id.clone())
            .collect();
        let asked = Instant::now();
        let kept = on_store(&self.running.store, move |store| match store.leases() {
            Some(leases) => leases.keep_sources(&sources).map(Some),
            None => Ok(None),
        })
        .await;
        let (held, share) = match kept {
            Ok(Some(kept)) => kept,
            Ok(None) => return period,
            Err(e) => {
                // Held leases run out on their own (`until`): no other node polls twice.
                tracing::warn!(error = %e, "source leases not renewed");
                return period;
            }
        };
        // Safe to act on until a margin before the database lets the lease go.
        let until = asked + lease - lease / 3;
        let spare = {
            let mut state = self.leases.state.lock().unwrap_or_else(|p| p.into_inner());
            let previous = std::mem::take(&mut state.held);
            for source in held {
                let take = match previous.get(&source) {
                    Some((_, take)) => *take,
                    None => {
                        state.takes += 1;
                        state.takes
                    }
                };
                state.held.insert(source, (until, take));
            }
            // Over the share (another node came up): the sources not being polled go, and
            // stop being polled here before the database frees them.
            let excess = state.held.len().saturating_sub(share);
            let mut spare: Vec<String> = state
                .held
                .keys()
                .filter(|s| !state.busy.contains(*s))
                .cloned()
                .collect();
            spare.sort();
            spare.truncate(excess);
            for source in &spare {
                state.held.remove(source);
            }
            spare
        };
        if !spare.is_empty() {
            let released = on_store(&self.running.store, move |store| match store.leases() {
                Some(leases) => leases.release_sources(spare),
                None => Ok(()),
            })
            .await;
            if let Err(e) = released {
                tracing::warn!(error = %e, "spare source leases not released; they expire");
            }
        }
        period
    }
}

/// Gives up this node's leases at a clean stop, so the other nodes take over at once.
pub(super) async fn release(running: &Running) {
    let released = on_store(&running.store, |store| match store.leases() {
        Some(leases) => leases.release_all(),
        None => Ok(()),
    })
    .await;
    if let Err(e) = released {
        tracing::warn!(error = %e, "leases not released: the other nodes wait for them to expire");
    }
}
