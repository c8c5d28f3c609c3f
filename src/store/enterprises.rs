//! Registered enterprises.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::db::DbConn;
use super::schema::{enterprise_events, enterprises};
use super::{StoreError, StoreResult};
use crate::domain::enterprise::{EnterpriseEventKind, EnterpriseStatus};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = enterprises)]
pub struct EnterpriseRow {
    pub id: String,
    pub name: String,
    pub credit_code: String,
    pub address: Option<String>,
    pub industry: Option<String>,
    pub contact_phone: Option<String>,
    pub status: EnterpriseStatus,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Why the last review decision was taken (shown to the enterprise's users).
    pub status_reason: Option<String>,
}

pub struct NewEnterprise<'a> {
    pub name: &'a str,
    pub credit_code: &'a str,
    pub address: Option<&'a str>,
    pub industry: Option<&'a str>,
    pub contact_phone: Option<&'a str>,
    pub status: EnterpriseStatus,
}

pub fn insert(
    conn: &mut DbConn,
    new: &NewEnterprise,
    now: NaiveDateTime,
) -> StoreResult<EnterpriseRow> {
    let id = super::new_id();
    diesel::insert_into(enterprises::table)
        .values((
            enterprises::id.eq(&id),
            enterprises::name.eq(new.name),
            enterprises::credit_code.eq(new.credit_code),
            enterprises::address.eq(new.address),
            enterprises::industry.eq(new.industry),
            enterprises::contact_phone.eq(new.contact_phone),
            enterprises::status.eq(new.status),
            enterprises::created_at.eq(now),
            enterprises::updated_at.eq(now),
        ))
        .execute(conn)?;
    find(conn, &id)?.ok_or_else(|| StoreError::Corrupt("inserted enterprise vanished".into()))
}

pub fn find(conn: &mut DbConn, id: &str) -> StoreResult<Option<EnterpriseRow>> {
    Ok(enterprises::table
        .find(id)
        .select(EnterpriseRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn credit_code_taken(conn: &mut DbConn, credit_code: &str) -> StoreResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        enterprises::table.filter(enterprises::credit_code.eq(credit_code)),
    ))
    .get_result(conn)?)
}

/// `q` matches the name (case-insensitively, any part) or the credit code (any part).
pub fn list(
    conn: &mut DbConn,
    q: Option<&str>,
    status: Option<EnterpriseStatus>,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> StoreResult<Vec<EnterpriseRow>> {
    let mut query = enterprises::table
        .select(EnterpriseRow::as_select())
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(enterprises::status.eq(status));
    }
    if let Some(q) = q {
        let pattern = super::like_pattern(&q.to_lowercase());
        let code_pattern = super::like_pattern(&q.to_uppercase());
        query = query.filter(
            super::lower(enterprises::name)
                .like(pattern)
                .escape('\\')
                .or(enterprises::credit_code.like(code_pattern).escape('\\')),
        );
    }
    let query = keyset!(
        query,
        enterprises::created_at,
        enterprises::id,
        false,
        after
    );
    Ok(query.limit(limit).load(conn)?)
}

/// Moves the enterprise from `from` to `to`; 0 when it is no longer in `from` (a concurrent
/// decision won).
pub fn set_status(
    conn: &mut DbConn,
    id: &str,
    from: EnterpriseStatus,
    to: EnterpriseStatus,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<usize> {
    Ok(diesel::update(
        enterprises::table
            .find(id)
            .filter(enterprises::status.eq(from)),
    )
    .set((
        enterprises::status.eq(to),
        enterprises::status_reason.eq(reason),
        enterprises::updated_at.eq(now),
    ))
    .execute(conn)?)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = enterprise_events)]
pub struct EnterpriseEventRow {
    pub id: String,
    pub enterprise_id: String,
    pub kind: EnterpriseEventKind,
    pub actor_id: Option<String>,
    pub from_status: Option<EnterpriseStatus>,
    pub to_status: Option<EnterpriseStatus>,
    pub note: Option<String>,
    pub created_at: NaiveDateTime,
}

pub struct NewEnterpriseEvent<'a> {
    pub enterprise_id: &'a str,
    pub kind: EnterpriseEventKind,
    pub actor_id: Option<&'a str>,
    pub from_status: EnterpriseStatus,
    pub to_status: EnterpriseStatus,
    pub note: Option<&'a str>,
}

pub fn insert_event(
    conn: &mut DbConn,
    e: &NewEnterpriseEvent,
    now: NaiveDateTime,
) -> StoreResult<()> {
    diesel::insert_into(enterprise_events::table)
        .values((
            enterprise_events::id.eq(super::new_id()),
            enterprise_events::enterprise_id.eq(e.enterprise_id),
            enterprise_events::kind.eq(e.kind),
            enterprise_events::actor_id.eq(e.actor_id),
            enterprise_events::from_status.eq(e.from_status),
            enterprise_events::to_status.eq(e.to_status),
            enterprise_events::note.eq(e.note),
            enterprise_events::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The enterprise's history, oldest first.
pub fn events(
    conn: &mut DbConn,
    enterprise_id: &str,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> StoreResult<Vec<EnterpriseEventRow>> {
    let query = enterprise_events::table
        .filter(enterprise_events::enterprise_id.eq(enterprise_id.to_owned()))
        .select(EnterpriseEventRow::as_select())
        .into_boxed();
    let query = keyset!(
        query,
        enterprise_events::created_at,
        enterprise_events::id,
        false,
        after
    );
    Ok(query.limit(limit).load(conn)?)
}

/// Names of the enterprises among `ids` (for a page listing them).
pub fn names(conn: &mut DbConn, ids: &[String]) -> StoreResult<Vec<(String, String)>> {
    Ok(enterprises::table
        .filter(enterprises::id.eq_any(ids))
        .select((enterprises::id, enterprises::name))
        .load(conn)?)
}
