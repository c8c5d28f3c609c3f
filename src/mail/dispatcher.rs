//! Drains the outbox: claim due messages under a lease, send, mark sent or schedule a retry
//! with exponential backoff, and give up (`dead`) after `mail.max_attempts` or a permanent
//! rejection. A crash between sending and marking resends that message once after the lease
//! expires: mail may rarely arrive twice, never not at all.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use lettre::message::Mailbox;
use tokio::sync::watch;

use super::transport::Transport;
use crate::clock::Clock;
use crate::config::MailSettings;
use crate::error::AppResult;
use crate::service::Db;
use crate::store::outbox;

pub struct Dispatcher {
    db: Db,
    clock: Arc<dyn Clock>,
    transport: Transport,
    from: Mailbox,
    settings: MailSettings,
}

impl Dispatcher {
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        settings: &MailSettings,
    ) -> anyhow::Result<Dispatcher> {
        Ok(Dispatcher {
            db,
            clock,
            transport: Transport::from_settings(settings)?,
            from: settings
                .from
                .parse()
                .map_err(|e| anyhow::anyhow!("mail.from: {e}"))?,
            settings: settings.clone(),
        })
    }

    /// Runs until `shutdown` turns true; a message being sent is finished first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let idle = Duration::from_millis(self.settings.poll_interval_ms);
        loop {
            if *shutdown.borrow() {
                break;
            }
            let handled = match self.dispatch_batch(&shutdown).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox dispatch failed; will retry");
                    0
                }
            };
            if handled == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(idle) => {}
                    changed = shutdown.changed() => if changed.is_err() { break },
                }
            }
        }
        tracing::info!("mail dispatcher stopped");
    }

    /// Claims and handles one batch; returns how many messages it handled.
    pub async fn dispatch_batch(&self, shutdown: &watch::Receiver<bool>) -> AppResult<usize> {
        let due = self.clock.now();
        let lease_now = crate::store::db::now_micros(chrono::Utc::now());
        let lease_until = lease_now + chrono::Duration::seconds(self.settings.lease_seconds);
        let limit = self.settings.batch_size;
        let mut batch = self
            .db
            .write(move |conn| Ok(outbox::claim_due(conn, due, lease_now, lease_until, limit)?))
            .await?;
        // RETURNING gives no order; people should get a ticket's mail in the order it happened.
        batch.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        let count = batch.len();
        for row in batch {
            if *shutdown.borrow() {
                // Unsent claims fall back to the queue when their lease runs out.
                break;
            }
            let result = self.transport.send(&self.from, &row).await;
            let now = self.clock.now();
            let id = row.id.clone();
            match result {
                Ok(()) => {
                    tracing::info!(mail_id = %id, to = %row.recipient, "mail sent");
                    self.db
                        .write(move |conn| Ok(outbox::mark_sent(conn, &id, now)?))
                        .await?;
                }
                Err(e) => {
                    let attempts = row.attempts + 1;
                    let dead = e.permanent || attempts >= self.settings.max_attempts;
                    let next = retry_at(now, self.settings.retry_initial_seconds, attempts);
                    tracing::warn!(mail_id = %id, attempts, dead, error = %e.message, "mail not sent");
                    self.db
                        .write(move |conn| {
                            Ok(outbox::mark_failed(conn, &id, &e.message, dead, next)?)
                        })
                        .await?;
                }
            }
        }
        Ok(count)
    }
}

/// Exponential backoff: the first retry after `initial` seconds, doubling each time, capped
/// at a day so a long outage still retries daily.
pub fn retry_at(now: NaiveDateTime, initial_seconds: i64, attempts: i32) -> NaiveDateTime {
    let exponent = (attempts - 1).clamp(0, 20) as u32;
    let delay = initial_seconds
        .saturating_mul(2_i64.saturating_pow(exponent))
        .min(86_400);
    now + chrono::Duration::seconds(delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let t0 = chrono::DateTime::from_timestamp(0, 0).unwrap().naive_utc();
        let delay = |attempts| (retry_at(t0, 30, attempts) - t0).num_seconds();
        assert_eq!(delay(1), 30);
        assert_eq!(delay(2), 60);
        assert_eq!(delay(3), 120);
        assert_eq!(delay(30), 86_400);
    }
}
