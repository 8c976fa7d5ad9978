//! How long a push waits after failures: doubling from a few seconds, capped, so a receiver
//! back up is reached soon and one down for long is not hammered.

use std::time::Duration;

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
