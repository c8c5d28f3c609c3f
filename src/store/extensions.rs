//! Extension requests (延期) on tickets.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::db::DbConn;
use super::schema::ticket_extensions;
use super::{StoreError, StoreResult};
use crate::domain::ids::{ExtensionId, TicketId, UserId};
use crate::domain::ticket::ExtensionStatus;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ticket_extensions)]
pub struct ExtensionRow {
    pub id: ExtensionId,
    pub ticket_id: TicketId,
    pub working_days: i32,
    pub reason: String,
    pub status: ExtensionStatus,
    pub requested_by: UserId,
    pub decided_by: Option<UserId>,
    pub decision_note: Option<String>,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
}

pub struct NewExtension<'a> {
    pub ticket_id: &'a TicketId,
    pub working_days: i32,
    pub reason: &'a str,
    pub requested_by: &'a UserId,
}

pub fn insert(
    conn: &mut DbConn,
    new: &NewExtension,
    now: NaiveDateTime,
) -> StoreResult<ExtensionRow> {
    let id = ExtensionId::generate();
    diesel::insert_into(ticket_extensions::table)
        .values((
            ticket_extensions::id.eq(&id),
            ticket_extensions::ticket_id.eq(new.ticket_id),
            ticket_extensions::working_days.eq(new.working_days),
            ticket_extensions::reason.eq(new.reason),
            ticket_extensions::status.eq(ExtensionStatus::Pending),
            ticket_extensions::requested_by.eq(new.requested_by),
            ticket_extensions::created_at.eq(now),
        ))
        .execute(conn)?;
    find(conn, new.ticket_id, &id)?
        .ok_or_else(|| StoreError::Corrupt("inserted extension vanished".into()))
}

pub fn find(
    conn: &mut DbConn,
    ticket_id: &TicketId,
    id: &ExtensionId,
) -> StoreResult<Option<ExtensionRow>> {
    Ok(ticket_extensions::table
        .find(id)
        .filter(ticket_extensions::ticket_id.eq(ticket_id))
        .select(ExtensionRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn has_pending(conn: &mut DbConn, ticket_id: &TicketId) -> StoreResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        ticket_extensions::table
            .filter(ticket_extensions::ticket_id.eq(ticket_id))
            .filter(ticket_extensions::status.eq(ExtensionStatus::Pending)),
    ))
    .get_result(conn)?)
}

/// Oldest first; `only_status` narrows (enterprises see approved ones only).
pub fn list(
    conn: &mut DbConn,
    ticket_id: &TicketId,
    only_status: Option<ExtensionStatus>,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> StoreResult<Vec<ExtensionRow>> {
    let mut query = ticket_extensions::table
        .filter(ticket_extensions::ticket_id.eq(ticket_id))
        .select(ExtensionRow::as_select())
        .into_boxed();
    if let Some(s) = only_status {
        query = query.filter(ticket_extensions::status.eq(s));
    }
    let query = keyset!(
        query,
        ticket_extensions::created_at,
        ticket_extensions::id,
        false,
        after
    );
    Ok(query.limit(limit).load(conn)?)
}

/// Decides a pending request; false when it was decided already (by a concurrent admin).
pub fn decide(
    conn: &mut DbConn,
    id: &ExtensionId,
    status: ExtensionStatus,
    decided_by: &UserId,
    note: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<bool> {
    let changed = diesel::update(
        ticket_extensions::table
            .find(id)
            .filter(ticket_extensions::status.eq(ExtensionStatus::Pending)),
    )
    .set((
        ticket_extensions::status.eq(status),
        ticket_extensions::decided_by.eq(decided_by),
        ticket_extensions::decision_note.eq(note),
        ticket_extensions::decided_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}
