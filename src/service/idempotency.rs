//! Idempotency keys for POSTs: the first answer to a key is stored with a hash of the request,
//! in the same transaction as the change it answers, and replayed for the same body while the
//! key lives; another body under a live key is refused. Any use case can take part: check the
//! key, try [`Key::replay`] first thing in its transaction, and [`Key::remember`] its answer last.

use chrono::{Duration, NaiveDateTime};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::validate::Checks;
use crate::domain::ids::UserId;
use crate::error::{AppError, AppResult, ProblemType};
use crate::store::db::DbConn;
use crate::store::tickets::{self as store, IdempotencyRow};

/// What the first request under a key came to; the http layer gives it its status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Something new was made (a filed ticket).
    Created,
}

impl Outcome {
    /// As `idempotency_keys.response_status` holds it: the code of the answer, which is what
    /// rows written before this type existed hold too.
    fn stored(self) -> i32 {
        match self {
            Outcome::Created => 201,
        }
    }

    fn from_stored(code: i32) -> Option<Outcome> {
        [Outcome::Created].into_iter().find(|o| o.stored() == code)
    }
}

/// An answer stored under a key: the outcome and body the first request got.
pub struct Stored {
    pub outcome: Outcome,
    pub body: String,
}

/// A client's key with the fingerprint of the request it came with.
#[derive(Clone)]
pub struct Key {
    key: String,
    request_hash: String,
    /// Keys older than this have expired.
    since: NaiveDateTime,
}

impl Key {
    /// The key, if the client sent one, for `request` at `now`; a key outside 1..=200
    /// characters is a field error in `checks`.
    pub fn of(
        key: Option<String>,
        request: &impl Serialize,
        checks: &mut Checks,
        now: NaiveDateTime,
        keep: Duration,
    ) -> Option<Key> {
        let key = key?;
        if key.is_empty() || key.len() > 200 {
            checks.fail("Idempotency-Key", "must be 1 to 200 characters");
        }
        let request_hash = hex::encode(Sha256::digest(
            serde_json::to_vec(request).unwrap_or_default(),
        ));
        Some(Key {
            key,
            request_hash,
            since: now - keep,
        })
    }

    /// The stored answer to this key, if the same request was answered before; 422 if the key
    /// answered another request.
    pub fn replay(&self, conn: &mut DbConn, user_id: &UserId) -> AppResult<Option<Stored>> {
        match store::find_idempotency(conn, user_id, &self.key, self.since)? {
            Some(row) if row.request_hash == self.request_hash => Ok(Some(Stored {
                outcome: Outcome::from_stored(row.response_status).ok_or_else(|| {
                    anyhow::anyhow!("stored idempotent outcome {} unknown", row.response_status)
                })?,
                body: row.response_body,
            })),
            Some(_) => Err(AppError::invalid(
                ProblemType::IdempotencyKeyReused,
                "Idempotency-Key",
                "was already used with a different request body",
            )),
            None => Ok(None),
        }
    }

    /// Like [`Key::replay`] after the transaction lost a race with a concurrent request under
    /// the same key: that request's answer, or 409 while it has not committed.
    pub fn replay_after_race(&self, conn: &mut DbConn, user_id: &UserId) -> AppResult<Stored> {
        self.replay(conn, user_id)?.ok_or_else(|| {
            AppError::new(
                ProblemType::IdempotencyKeyInProgress,
                "a request with this Idempotency-Key is in progress",
            )
        })
    }

    /// Stores `answer` under the key. A concurrent request with the same key that committed
    /// first makes this fail as a duplicate, which the caller answers with
    /// [`Key::replay_after_race`].
    pub fn remember(
        self,
        conn: &mut DbConn,
        user_id: &UserId,
        outcome: Outcome,
        answer: &impl Serialize,
        now: NaiveDateTime,
    ) -> AppResult<()> {
        Ok(store::insert_idempotency(
            conn,
            &IdempotencyRow {
                user_id: user_id.clone(),
                key: self.key,
                request_hash: self.request_hash,
                response_status: outcome.stored(),
                response_body: serde_json::to_string(answer).map_err(anyhow::Error::from)?,
                created_at: now,
            },
            self.since,
        )?)
    }
}
