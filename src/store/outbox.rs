//! The outbox: mail written in the transaction of the change that causes it, drained by
//! `mail::dispatcher`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use super::StoreResult;
use super::db::DbConn;
use super::schema::outbox;
use crate::domain::ids::OutboxId;
use crate::domain::outbox::OutboxStatus;

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: OutboxId,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// A composed message, ready to be queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Carries a single-use link: the body is cleared once sent.
    pub secret: bool,
}

impl NewMail {
    pub fn carrying_secret(self) -> NewMail {
        NewMail {
            secret: true,
            ..self
        }
    }
}

/// What a sent secret mail's stored body becomes.
pub const CLEARED: &str = "(cleared after sending: it carried a single-use link)";

pub fn enqueue(conn: &mut DbConn, mail: &NewMail, now: NaiveDateTime) -> StoreResult<OutboxId> {
    let id = OutboxId::generate();
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(&id),
            outbox::recipient.eq(&mail.to),
            outbox::subject.eq(&mail.subject),
            outbox::text_body.eq(&mail.text),
            outbox::html_body.eq(&mail.html),
            outbox::secret.eq(mail.secret),
            outbox::status.eq(OutboxStatus::Pending),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
            outbox::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Leases up to `limit` messages due at `due` to the caller until `lease_until`. Another
/// instance skips leased rows (and on PostgreSQL rows another claim is locking right now), so
/// a message is handed to one sender at a time; a lease expired at `lease_now` means the sender
/// died and the message is due again. Leases run on wall-clock time, not the app clock, so
/// instances agree on them.
pub fn claim_due(
    conn: &mut DbConn,
    due: NaiveDateTime,
    lease_now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> StoreResult<Vec<OutboxRow>> {
    let lock = match conn {
        DbConn::Postgres(_) => "FOR UPDATE SKIP LOCKED",
        DbConn::Sqlite(_) => "",
    };
    let [first, second] = OutboxStatus::DUE;
    let sql = format!(
        "UPDATE outbox SET locked_until = $1 \
         WHERE id IN (SELECT id FROM outbox \
             WHERE status IN ('{first}', '{second}') AND next_attempt_at <= $2 \
               AND (locked_until IS NULL OR locked_until < $3) \
             ORDER BY next_attempt_at LIMIT $4 {lock}) \
         AND (locked_until IS NULL OR locked_until < $3) \
         RETURNING id, recipient, subject, text_body, html_body, status, attempts, last_error, \
                   next_attempt_at, locked_until, created_at, sent_at"
    );
    Ok(diesel::sql_query(sql)
        .bind::<Timestamp, _>(lease_until)
        .bind::<Timestamp, _>(due)
        .bind::<Timestamp, _>(lease_now)
        .bind::<BigInt, _>(limit)
        .load(conn)?)
}

pub fn mark_sent(conn: &mut DbConn, id: &OutboxId, now: NaiveDateTime) -> StoreResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(OutboxStatus::Sent),
            outbox::sent_at.eq(now),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    diesel::update(outbox::table.find(id).filter(outbox::secret))
        .set((outbox::text_body.eq(CLEARED), outbox::html_body.eq(CLEARED)))
        .execute(conn)?;
    Ok(())
}

/// Deletes mail sent before `cutoff`; returns how many.
pub fn purge_sent(conn: &mut DbConn, cutoff: NaiveDateTime) -> StoreResult<usize> {
    Ok(diesel::delete(
        outbox::table.filter(
            outbox::status
                .eq(OutboxStatus::Sent)
                .and(outbox::sent_at.lt(cutoff)),
        ),
    )
    .execute(conn)?)
}

/// Records a failed attempt: back off and retry, or give up (`dead`).
pub fn mark_failed(
    conn: &mut DbConn,
    id: &OutboxId,
    error: &str,
    dead: bool,
    next_attempt_at: NaiveDateTime,
) -> StoreResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(if dead {
                OutboxStatus::Dead
            } else {
                OutboxStatus::Failed
            }),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(error.chars().take(1000).collect::<String>()),
            outbox::next_attempt_at.eq(next_attempt_at),
            outbox::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn list(
    conn: &mut DbConn,
    status: Option<OutboxStatus>,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> StoreResult<Vec<OutboxRow>> {
    let mut query = outbox::table.select(OutboxRow::as_select()).into_boxed();
    if let Some(status) = status {
        query = query.filter(outbox::status.eq(status));
    }
    let query = keyset!(query, outbox::created_at, outbox::id, true, after);
    Ok(query.limit(limit).load(conn)?)
}

pub fn find(conn: &mut DbConn, id: &OutboxId) -> StoreResult<Option<OutboxRow>> {
    Ok(outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .first(conn)
        .optional()?)
}

/// A dead message goes back to the queue with a fresh attempt budget.
pub fn revive(conn: &mut DbConn, id: &OutboxId, now: NaiveDateTime) -> StoreResult<bool> {
    let changed = diesel::update(
        outbox::table
            .find(id)
            .filter(outbox::status.eq(OutboxStatus::Dead)),
    )
    .set((
        outbox::status.eq(OutboxStatus::Pending),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(now),
        outbox::locked_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

pub fn count_by_status(conn: &mut DbConn) -> StoreResult<Vec<(OutboxStatus, i64)>> {
    Ok(outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?)
}
