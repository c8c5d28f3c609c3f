//! Login throttling rules: a counter per key within a window, lockouts that grow.

use chrono::{Duration, NaiveDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub max_failures: i32,
    pub window: Duration,
    pub base_lockout: Duration,
    /// Lockouts double up to this cap, so a locked-out real user waits minutes, not days.
    pub max_lockout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    pub failures: i32,
    pub window_start: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub lockouts: i32,
}

/// Seconds left on a lockout, if one is running.
pub fn locked_for(counter: &Counter, now: NaiveDateTime) -> Option<i64> {
    counter
        .locked_until
        .filter(|until| *until > now)
        .map(|until| (until - now).num_milliseconds().div_euclid(1000) + 1)
}

/// Counts one failure; on reaching the limit, starts a lockout twice as long as the last.
pub fn record_failure(counter: Counter, now: NaiveDateTime, policy: &Policy) -> Counter {
    let mut next = counter;
    if now - counter.window_start > policy.window {
        next.failures = 0;
        next.window_start = now;
        // A quiet window forgives earlier lockouts too.
        if counter
            .locked_until
            .is_none_or(|until| now - until > policy.window)
        {
            next.lockouts = 0;
        }
    }
    next.failures += 1;
    if next.failures >= policy.max_failures {
        let factor = 2_i32.saturating_pow(next.lockouts.clamp(0, 16) as u32);
        let lockout = (policy.base_lockout * factor).min(policy.max_lockout);
        next.locked_until = Some(now + lockout);
        next.lockouts += 1;
        next.failures = 0;
        next.window_start = now;
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(seconds: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + seconds, 0)
            .unwrap()
            .naive_utc()
    }

    fn policy() -> Policy {
        Policy {
            max_failures: 5,
            window: Duration::minutes(15),
            base_lockout: Duration::seconds(60),
            max_lockout: Duration::minutes(15),
        }
    }

    fn fresh() -> Counter {
        Counter {
            failures: 0,
            window_start: t(0),
            locked_until: None,
            lockouts: 0,
        }
    }

    #[test]
    fn five_failures_lock_and_lockouts_grow_to_a_cap() {
        let mut c = fresh();
        for i in 0..4 {
            c = record_failure(c, t(i), &policy());
            assert_eq!(locked_for(&c, t(i)), None);
        }
        c = record_failure(c, t(4), &policy());
        assert_eq!(locked_for(&c, t(4)), Some(61));
        assert_eq!(locked_for(&c, t(64)), None);
        for i in 0..5 {
            c = record_failure(c, t(70 + i), &policy());
        }
        assert_eq!(
            locked_for(&c, t(74)),
            Some(121),
            "second lockout is twice as long"
        );
        let mut now = 200;
        for _ in 0..10 {
            for _ in 0..5 {
                c = record_failure(c, t(now), &policy());
            }
            assert!(locked_for(&c, t(now)).unwrap() <= 15 * 60 + 1);
            now += 1000;
        }
    }

    #[test]
    fn failures_outside_the_window_start_over() {
        let mut c = fresh();
        for i in 0..4 {
            c = record_failure(c, t(i), &policy());
        }
        c = record_failure(c, t(16 * 60), &policy());
        assert_eq!(c.failures, 1);
        assert_eq!(locked_for(&c, t(16 * 60)), None);
    }
}
