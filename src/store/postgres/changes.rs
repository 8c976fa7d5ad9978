//! Change notices between nodes: every commit that changes stories sends a NOTIFY; each node
//! LISTENs on a connection of its own and moves its store's generation when another node's
//! notice arrives, so what it rendered is made again.

use super::dial::{Dialer, Opener};
use super::CHANGES_CHANNEL;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// How often the listener looks whether its store is gone.
const POLL: Duration = Duration::from_millis(250);
/// Another node's notices closer together than this move the generation once.
const COALESCE: Duration = Duration::from_millis(50);

/// Starts the listener of `node` for the store whose generation is `generation`; it ends
/// when the store does.
pub(crate) fn listen(dialer: Dialer, node: String, generation: &Arc<AtomicU64>) {
    let generation = Arc::downgrade(generation);
    let started = std::thread::Builder::new()
        .name("feedsift-pg-listen".into())
        .spawn(move || run(dialer, node, generation));
    if let Err(e) = started {
        tracing::error!(error = %e, "cannot start the change listener: other nodes' writes are seen only on this node's own");
    }
}

fn run(dialer: Dialer, node: String, generation: Weak<AtomicU64>) {
    let mut opener = Opener::new(dialer);
    let mut failures = 0u32;
    while generation.strong_count() > 0 {
        match listen_once(&mut opener, &node, &generation) {
            Ok(()) => return,
            Err(e) => {
                failures += 1;
                if failures == 1 {
                    tracing::warn!(error = %e, "change listener lost its connection; reconnecting");
                }
                // Whatever changed meanwhile went unheard: readers must look again.
                if let Some(g) = generation.upgrade() {
                    g.fetch_add(1, Ordering::AcqRel);
                }
                std::thread::sleep(Duration::from_secs(1).min(POLL * failures));
            }
        }
    }
}

/// Listens until the store is gone (`Ok`) or the connection fails.
fn listen_once(
    opener: &mut Opener,
    node: &str,
    generation: &Weak<AtomicU64>,
) -> Result<(), String> {
    use postgres::fallible_iterator::FallibleIterator;
    let mut client = opener.open().map_err(|e| e.to_string())?;
    client
        .batch_execute(&format!("LISTEN {CHANGES_CHANNEL}"))
        .map_err(|e| e.to_string())?;
    // Heard from now on; what came before the LISTEN may have been missed.
    match generation.upgrade() {
        Some(g) => g.fetch_add(1, Ordering::AcqRel),
        None => return Ok(()),
    };
    // The first notice after a quiet spell moves the generation at once; while notices keep
    // coming, at most once per `COALESCE`: every move empties this node's render cache.
    let mut last_move: Option<Instant> = None;
    let mut pending = false;
    loop {
        let wait = match (pending, last_move) {
            (true, Some(at)) => COALESCE.saturating_sub(at.elapsed()),
            _ => POLL,
        };
        let notice = client
            .notifications()
            .timeout_iter(wait)
            .next()
            .map_err(|e| e.to_string())?;
        if notice.is_some_and(|n| n.payload() != node) {
            pending = true;
        }
        let Some(g) = generation.upgrade() else {
            return Ok(());
        };
        if pending && last_move.is_none_or(|at| at.elapsed() >= COALESCE) {
            g.fetch_add(1, Ordering::AcqRel);
            last_move = Some(Instant::now());
            pending = false;
        }
        if client.is_closed() {
            return Err("connection closed".into());
        }
    }
}
