//! Throttling rules: login failures counted per key within a window with lockouts that grow,
//! and fixed-window quotas (registrations per address, filings per user, mail per address).

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

/// At most `limit` events per `window`; a limit of 0 means no limit (load tests turn quotas off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: i32,
    pub window: Duration,
}

/// Spends one event of the quota. A spent quota answers the whole seconds until its window
/// ends (at least 1), and the counter is left as it was, so refusals do not prolong the wait.
pub fn take(counter: Counter, now: NaiveDateTime, quota: &Quota) -> Result<Counter, i64> {
    if quota.limit <= 0 {
        return Ok(counter);
    }
    let mut next = counter;
    if now - counter.window_start >= quota.window || now < counter.window_start {
        next.failures = 0;
        next.window_start = now;
    }
    if next.failures >= quota.limit {
        let left = next.window_start + quota.window - now;
        return Err((left.num_milliseconds() + 999).div_euclid(1000).max(1));
    }
    next.failures += 1;
    Ok(next)
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

    fn quota() -> Quota {
        Quota {
            limit: 3,
            window: Duration::hours(1),
        }
    }

    #[test]
    fn a_quota_allows_its_limit_per_window_then_says_how_long_to_wait() {
        let mut c = fresh();
        for i in 0..3 {
            c = take(c, t(i), &quota()).expect("within the quota");
        }
        assert_eq!(take(c, t(10), &quota()), Err(3600 - 10));
        assert_eq!(take(c, t(3599), &quota()), Err(1));
        let c = take(c, t(3600), &quota()).expect("a new window");
        assert_eq!((c.failures, c.window_start), (1, t(3600)));
    }

    #[test]
    fn a_refusal_does_not_move_the_window() {
        let mut c = fresh();
        for i in 0..3 {
            c = take(c, t(i), &quota()).unwrap();
        }
        for i in 0..100 {
            assert!(take(c, t(100 + i), &quota()).is_err());
        }
        assert!(take(c, t(3600), &quota()).is_ok());
    }

    #[test]
    fn a_zero_limit_never_refuses() {
        let off = Quota {
            limit: 0,
            window: Duration::minutes(1),
        };
        let mut c = fresh();
        for i in 0..1000 {
            c = take(c, t(i), &off).unwrap();
        }
        assert_eq!(c.failures, 0);
    }

    #[test]
    fn a_clock_moved_back_starts_a_fresh_window() {
        let mut c = fresh();
        c.window_start = t(5000);
        c.failures = 3;
        assert!(take(c, t(10), &quota()).is_ok());
    }
}
