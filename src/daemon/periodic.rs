//! The one loop every chore of the daemon runs in: wait, do a round, wait as long as the
//! round asks, until the daemon stops.

use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;

/// Work done in rounds; a round says how long to wait before the next.
pub(super) trait Chore: Send {
    fn round(&mut self) -> impl Future<Output = Duration> + Send;
}

/// Waits `first`, then runs rounds of `chore` again and again, each time waiting the delay
/// the round returns, until `stop` turns true (checked while waiting and before every round).
pub(super) async fn repeat(
    mut stop: watch::Receiver<bool>,
    first: Duration,
    mut chore: impl Chore,
) {
    let mut delay = first;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if *stop.borrow() {
            return;
        }
        delay = chore.round().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    #[tokio::test(start_paused = true)]
    async fn rounds_follow_the_delays_they_return_and_stop_ends_the_loop() {
        let (stop_tx, stop_rx) = watch::channel(false);
        struct Counter(Arc<AtomicU32>);
        impl Chore for Counter {
            async fn round(&mut self) -> Duration {
                self.0.fetch_add(1, Ordering::SeqCst);
                Duration::from_secs(60)
            }
        }
        let rounds = Arc::new(AtomicU32::new(0));
        let counter = Counter(Arc::clone(&rounds));
        let task = tokio::spawn(repeat(stop_rx, Duration::from_secs(10), counter));
        tokio::time::sleep(Duration::from_secs(9)).await;
        assert_eq!(
            rounds.load(Ordering::SeqCst),
            0,
            "the first round waits `first`"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(rounds.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_secs(120)).await;
        assert_eq!(
            rounds.load(Ordering::SeqCst),
            3,
            "then one round per returned delay"
        );
        stop_tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .expect("stop ends the loop while it waits")
            .unwrap();
        assert_eq!(rounds.load(Ordering::SeqCst), 3);
    }
}
