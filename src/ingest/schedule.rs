//! When each source is due: its interval with jitter after a success, capped exponential
//! backoff with jitter after failures, Retry-After honoured for that source only.

use std::time::Duration;

/// Longest wait after repeated failures (never a permanent stop).
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);
/// Longest Retry-After honoured.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
/// A source's own freshness hint (RSS `ttl`, Cache-Control max-age) lengthens its interval
/// up to this, never beyond, and never shortens it.
pub(crate) const MAX_HINTED_INTERVAL: Duration = Duration::from_secs(6 * 3600);
/// Jitter spreads polls by up to this fraction of the delay, either way.
const JITTER: f64 = 0.1;

/// Delay before the next poll. `failures` counts consecutive failures including this one
/// (0 after a success); `jitter_seed` is any varying number (e.g. clock nanos).
pub(crate) fn next_delay(
    interval: Duration,
    failures: u32,
    retry_after: Option<Duration>,
    jitter_seed: u64,
) -> Duration {
    let base = if failures == 0 {
        interval
    } else {
        // 1 min, 2 min, 4 min, ... doubling, never more than MAX_BACKOFF nor below a minute.
        let exp = 2u32.saturating_pow(failures.saturating_sub(1).min(20));
        Duration::from_secs(60).saturating_mul(exp).min(MAX_BACKOFF)
    };
    let delay = jittered(base, jitter_seed);
    match retry_after {
        Some(wait) => delay.max(wait.min(MAX_RETRY_AFTER)),
        None => delay,
    }
}

/// The configured interval, lengthened by the source's hint within bounds.
pub(crate) fn hinted_interval(configured: Duration, hint: Option<Duration>) -> Duration {
    match hint {
        Some(hint) => configured.max(hint.min(MAX_HINTED_INTERVAL)),
        None => configured,
    }
}

fn jittered(base: Duration, seed: u64) -> Duration {
    // splitmix64 turns any seed into a well-spread number in [0, 1).
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    let unit = (z >> 11) as f64 / (1u64 << 53) as f64;
    base.mul_f64(1.0 + JITTER * (2.0 * unit - 1.0))
}

/// A seed that differs between sources and between calls.
pub(crate) fn jitter_seed(source_id: &str) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    source_id
        .bytes()
        .fold(nanos, |h, b| h.rotate_left(5) ^ u64::from(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_waits_the_interval_within_jitter() {
        for seed in 0..200 {
            let d = next_delay(Duration::from_secs(600), 0, None, seed);
            assert!(
                d >= Duration::from_secs(540) && d <= Duration::from_secs(660),
                "{d:?}"
            );
        }
    }

    #[test]
    fn failures_back_off_exponentially_up_to_a_cap() {
        let d1 = next_delay(Duration::from_secs(600), 1, None, 7);
        let d3 = next_delay(Duration::from_secs(600), 3, None, 7);
        assert!(d1 < Duration::from_secs(70) && d3 > Duration::from_secs(200));
        let d50 = next_delay(Duration::from_secs(600), 50, None, 7);
        assert!(d50 <= MAX_BACKOFF.mul_f64(1.1) && d50 >= MAX_BACKOFF.mul_f64(0.9));
    }

    #[test]
    fn hints_only_lengthen_within_bounds() {
        let poll = Duration::from_secs(900);
        assert_eq!(hinted_interval(poll, None), poll);
        assert_eq!(hinted_interval(poll, Some(Duration::from_secs(60))), poll);
        assert_eq!(
            hinted_interval(poll, Some(Duration::from_secs(3600))),
            Duration::from_secs(3600)
        );
        assert_eq!(
            hinted_interval(poll, Some(Duration::from_secs(86_400 * 7))),
            MAX_HINTED_INTERVAL
        );
        let slow = Duration::from_secs(86_400);
        assert_eq!(hinted_interval(slow, Some(Duration::from_secs(3600))), slow);
    }

    #[test]
    fn retry_after_is_honoured_but_capped() {
        let d = next_delay(
            Duration::from_secs(600),
            1,
            Some(Duration::from_secs(7200)),
            1,
        );
        assert_eq!(d, Duration::from_secs(7200));
        let d = next_delay(
            Duration::from_secs(600),
            1,
            Some(Duration::from_secs(9_999_999)),
            1,
        );
        assert_eq!(d, MAX_RETRY_AFTER);
    }
}
