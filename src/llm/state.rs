//! Where the model stands, kept in the store so a restart keeps it: the calls of this clock
//! hour against `max_per_hour`, the backoff after failures (Retry-After honoured), counts for
//! `/healthz`; and each story's attempts when its answers were refused. Pure.

use super::LlmError;
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};

/// Backoff after a failed call: 30 s doubling, at most an hour (a Retry-After at most a day).
const FIRST_BACKOFF_SECS: i64 = 30;
const MAX_BACKOFF_SECS: i64 = 3600;
const MAX_RETRY_AFTER_SECS: i64 = 86_400;
/// Refused answers for one text before its extractive summary stays for good.
pub const MAX_REFUSALS: u32 = 4;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlmState {
    /// The clock hour `used` counts calls in.
    pub hour: Option<DateTime<Utc>>,
    pub used: u32,
    pub calls: u64,
    pub failures: u64,
    /// Answers that arrived but were not fit to show.
    pub refused: u64,
    pub consecutive_failures: u32,
    pub backoff_until: Option<DateTime<Utc>>,
    /// When the last failed call ended.
    #[serde(default)]
    pub last_failure: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_latency_ms: Option<u64>,
}

/// Why no call may be made now, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wait {
    /// The last calls failed: backing off.
    Backoff { until: DateTime<Utc>, error: String },
    /// `max_per_hour` calls were made this clock hour.
    Budget { until: DateTime<Utc> },
}

impl Wait {
    pub fn until(&self) -> DateTime<Utc> {
        match self {
            Wait::Backoff { until, .. } | Wait::Budget { until } => *until,
        }
    }
}

impl std::fmt::Display for Wait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Wait::Backoff { until, error } => write!(
                f,
                "backing off until {} after: {error}",
                until.format("%H:%M:%S UTC")
            ),
            Wait::Budget { until } => {
                write!(f, "budget exhausted until {}", until.format("%H:%M UTC"))
            }
        }
    }
}

fn hour_of(now: DateTime<Utc>) -> DateTime<Utc> {
    now.duration_trunc(Duration::hours(1)).unwrap_or(now)
}

impl LlmState {
    /// Calls still allowed this clock hour.
    pub fn budget_left(&self, now: DateTime<Utc>, max_per_hour: u32) -> u32 {
        if self.hour == Some(hour_of(now)) {
            max_per_hour.saturating_sub(self.used)
        } else {
            max_per_hour
        }
    }

    /// Why no call may be made at `now`, if so.
    pub fn wait(&self, now: DateTime<Utc>, max_per_hour: u32) -> Option<Wait> {
        if let Some(until) = self.backoff_until.filter(|u| *u > now) {
            let error = self.last_error.clone().unwrap_or_default();
            return Some(Wait::Backoff { until, error });
        }
        (self.budget_left(now, max_per_hour) == 0).then(|| Wait::Budget {
            until: hour_of(now) + Duration::hours(1),
        })
    }

    /// Takes one call from the budget, unless something says to wait.
    pub fn take(&mut self, now: DateTime<Utc>, max_per_hour: u32) -> Result<(), Wait> {
        if let Some(wait) = self.wait(now, max_per_hour) {
            return Err(wait);
        }
        let hour = hour_of(now);
        if self.hour != Some(hour) {
            self.hour = Some(hour);
            self.used = 0;
        }
        self.used += 1;
        self.calls += 1;
        Ok(())
    }

    /// A call that started at `started` answered at `now` (whether or not the answer is
    /// used). It ends the backoff unless a call failed while it was under way: that failure
    /// is newer news about the endpoint.
    pub fn answered(&mut self, started: DateTime<Utc>, now: DateTime<Utc>, latency_ms: u64) {
        if self.last_failure.is_none_or(|failed| failed < started) {
            self.consecutive_failures = 0;
            self.backoff_until = None;
        }
        self.last_success = Some(now);
        self.last_latency_ms = Some(latency_ms);
    }

    /// A call failed: every call waits out the backoff it sets.
    pub fn failed(&mut self, now: DateTime<Utc>, latency_ms: u64, error: &LlmError) {
        self.failures += 1;
        self.consecutive_failures += 1;
        self.last_failure = Some(now);
        self.last_latency_ms = Some(latency_ms);
        self.last_error = Some(error.to_string());
        let doubled = FIRST_BACKOFF_SECS
            .saturating_mul(1 << self.consecutive_failures.saturating_sub(1).min(20))
            .min(MAX_BACKOFF_SECS);
        let secs = match error {
            LlmError::RateLimited {
                retry_after: Some(after),
            } => (after.as_secs() as i64).clamp(1, MAX_RETRY_AFTER_SECS),
            _ => doubled,
        };
        self.backoff_until = Some(now + Duration::seconds(secs));
    }
}

/// One story's refused answers for one input (a new input starts again).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlmAttempt {
    pub input_hash: u64,
    pub refusals: u32,
    pub next_try: Option<DateTime<Utc>>,
    pub last_refusal: Option<String>,
}

impl LlmAttempt {
    /// Records a refusal at `now`: the next try waits 10 min, doubling, at most a day.
    pub fn refused(&mut self, now: DateTime<Utc>, why: String) {
        self.refusals += 1;
        let minutes = 10i64
            .saturating_mul(1 << self.refusals.saturating_sub(1).min(10))
            .min(24 * 60);
        self.next_try = Some(now + Duration::minutes(minutes));
        self.last_refusal = Some(why);
    }

    /// The extractive summary stays for good (for this input).
    pub fn gave_up(&self) -> bool {
        self.refusals >= MAX_REFUSALS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, h, m, 0).unwrap()
    }

    #[test]
    fn the_budget_counts_calls_per_clock_hour() {
        let mut s = LlmState::default();
        assert_eq!(s.take(at(13, 10), 2), Ok(()));
        assert_eq!(s.take(at(13, 20), 2), Ok(()));
        let until = at(14, 0);
        assert_eq!(s.take(at(13, 30), 2), Err(Wait::Budget { until }));
        assert_eq!(
            s.wait(at(13, 30), 2).unwrap().to_string(),
            "budget exhausted until 14:00 UTC"
        );
        assert_eq!(s.budget_left(at(14, 1), 2), 2);
        assert_eq!(s.take(at(14, 1), 2), Ok(()));
        assert_eq!((s.calls, s.used), (3, 1));
    }

    #[test]
    fn failures_back_off_and_retry_after_is_honoured() {
        let mut s = LlmState::default();
        s.failed(at(13, 0), 5, &LlmError::Status(500));
        assert_eq!(s.backoff_until, Some(at(13, 0) + Duration::seconds(30)));
        s.failed(at(13, 0), 5, &LlmError::Timeout);
        assert_eq!(s.backoff_until, Some(at(13, 0) + Duration::seconds(60)));
        assert!(matches!(s.take(at(13, 0), 10), Err(Wait::Backoff { .. })));
        let limited = LlmError::RateLimited {
            retry_after: Some(std::time::Duration::from_secs(600)),
        };
        s.failed(at(13, 0), 5, &limited);
        assert_eq!(s.backoff_until, Some(at(13, 10)));
        // A call under way when the last one failed does not end the backoff...
        s.answered(at(12, 59), at(13, 1), 40);
        assert_eq!(s.backoff_until, Some(at(13, 10)));
        // ... one started after it does.
        s.answered(at(13, 11), at(13, 11), 40);
        assert_eq!((s.consecutive_failures, s.backoff_until), (0, None));
        assert_eq!(s.take(at(13, 11), 10), Ok(()));
    }

    #[test]
    fn refusals_back_off_then_give_up() {
        let mut a = LlmAttempt::default();
        a.refused(at(13, 0), "empty answer".into());
        assert_eq!(a.next_try, Some(at(13, 10)));
        a.refused(at(13, 0), "empty answer".into());
        assert_eq!(a.next_try, Some(at(13, 20)));
        assert!(!a.gave_up());
        a.refused(at(13, 0), "x".into());
        a.refused(at(13, 0), "x".into());
        assert!(a.gave_up());
    }
}
