//! How long a push waits after failures: doubling from a few seconds, capped, so a receiver
//! back up is reached soon and one down for long is not hammered; and the record of one
//! receiver's attempts that `/healthz` shows.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// One receiver's attempts since the daemon started, and when it may be tried again.
#[derive(Debug, Default, Clone)]
pub(crate) struct Attempts {
    /// Failures in a row (0 after a success).
    pub failures: u32,
    pub next_try: Option<DateTime<Utc>>,
    pub last_delivery: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub delivered: u64,
    pub failed: u64,
}

impl Attempts {
    pub(crate) fn due(&self, now: DateTime<Utc>) -> bool {
        self.next_try.is_none_or(|t| t <= now)
    }

    pub(crate) fn succeeded(&mut self, now: DateTime<Utc>) {
        self.failures = 0;
        self.next_try = None;
        self.last_delivery = Some(now);
        self.delivered += 1;
    }

    /// A delivery dropped (refused for good, or given up on): shown, counted, but no wait,
    /// because the next delivery is another body.
    pub(crate) fn dropped(&mut self, error: String) {
        self.failed += 1;
        self.last_error = Some(error);
    }

    /// The next try comes no later than `deadline`.
    pub(crate) fn no_later_than(&mut self, deadline: DateTime<Utc>) {
        self.next_try = self.next_try.map(|t| t.min(deadline));
    }

    /// A failure: the next try waits `after_failures(first, cap)`.
    pub(crate) fn failed(
        &mut self,
        error: String,
        now: DateTime<Utc>,
        first: Duration,
        cap: Duration,
    ) {
        self.failures = self.failures.saturating_add(1);
        self.failed += 1;
        self.last_error = Some(error);
        let wait = after_failures(self.failures, first, cap);
        self.next_try = Some(now + chrono::Duration::from_std(wait).unwrap_or_default());
    }
}

/// The wait before attempt `failures + 1`, after `failures` failures in a row (at least 1).
pub(crate) fn after_failures(failures: u32, first: Duration, cap: Duration) -> Duration {
    let doublings = failures.saturating_sub(1).min(30);
    first.saturating_mul(1u32 << doublings).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_the_first_wait_up_to_the_cap() {
        let (first, cap) = (Duration::from_secs(5), Duration::from_secs(600));
        let waits: Vec<u64> = (1..=9)
            .map(|n| after_failures(n, first, cap).as_secs())
            .collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320, 600, 600]);
        assert_eq!(after_failures(0, first, cap), first);
        assert_eq!(after_failures(u32::MAX, first, cap), cap);
    }
}
