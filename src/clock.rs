//! Time as a dependency: services and sweeps ask the clock, so tests can move it forward
//! instead of sleeping.

use std::sync::Mutex;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

pub trait Clock: Send + Sync {
    fn now_utc(&self) -> DateTime<Utc>;

    /// Naive UTC truncated to microseconds: what the database stores.
    fn now(&self) -> NaiveDateTime {
        crate::store::db::now_micros(self.now_utc())
    }
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_utc(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Real time plus an offset that tests advance.
#[derive(Default)]
pub struct ShiftedClock {
    offset: Mutex<Duration>,
}

impl ShiftedClock {
    pub fn advance(&self, by: Duration) {
        if let Ok(mut offset) = self.offset.lock() {
            *offset += by;
        }
    }
}

impl Clock for ShiftedClock {
    fn now_utc(&self) -> DateTime<Utc> {
        Utc::now() + self.offset.lock().map(|o| *o).unwrap_or_default()
    }
}
