//! Quotas spent inside a use case's own transaction: a request that fails or rolls back spends
//! nothing, and on PostgreSQL the counter's row lock makes every instance count together.

use chrono::{Duration, NaiveDateTime};

use crate::config::LimitSettings;
use crate::domain::throttle::{self, Quota};
use crate::error::{AppError, AppResult};
use crate::store::db::DbConn;
use crate::store::sessions;

pub fn registrations_per_address(limits: &LimitSettings) -> Quota {
    Quota {
        limit: limits.register_per_hour,
        window: Duration::hours(1),
    }
}

pub fn filings_per_user(limits: &LimitSettings) -> Quota {
    Quota {
        limit: limits.file_per_minute,
        window: Duration::minutes(1),
    }
}

pub fn mail_per_address(limits: &LimitSettings) -> Quota {
    Quota {
        limit: limits.mail_per_address_per_hour,
        window: Duration::hours(1),
    }
}

/// Spends one event under `key`; `Err(seconds)` when the quota is spent.
pub fn spend(
    conn: &mut DbConn,
    key: &str,
    quota: &Quota,
    now: NaiveDateTime,
) -> AppResult<Result<(), i64>> {
    if quota.limit <= 0 {
        return Ok(Ok(()));
    }
    let row = sessions::lock_throttle(conn, key, now)?;
    match throttle::take(row.counter(), now, quota) {
        Ok(next) => {
            sessions::save_throttle(conn, &row.with(next))?;
            Ok(Ok(()))
        }
        Err(seconds) => Ok(Err(seconds)),
    }
}

/// Spends one event or refuses the request with 429 and `Retry-After`.
pub fn enforce(
    conn: &mut DbConn,
    key: &str,
    quota: &Quota,
    now: NaiveDateTime,
    what: &str,
) -> AppResult<()> {
    spend(conn, key, quota, now)?.map_err(|seconds| AppError::RateLimited {
        retry_after_seconds: seconds as u64,
        detail: format!("too many {what}; try again in {seconds} seconds"),
    })
}
