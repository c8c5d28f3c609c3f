//! Registered enterprises.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::db::DbConn;
use super::schema::enterprises;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = enterprises)]
pub struct EnterpriseRow {
    pub id: String,
    pub name: String,
    pub credit_code: String,
    pub address: Option<String>,
    pub industry: Option<String>,
    pub contact_phone: Option<String>,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub struct NewEnterprise<'a> {
    pub name: &'a str,
    pub credit_code: &'a str,
    pub address: Option<&'a str>,
    pub industry: Option<&'a str>,
    pub contact_phone: Option<&'a str>,
}

pub fn insert(
    conn: &mut DbConn,
    new: &NewEnterprise,
    now: NaiveDateTime,
) -> AppResult<EnterpriseRow> {
    let id = super::new_id();
    diesel::insert_into(enterprises::table)
        .values((
            enterprises::id.eq(&id),
            enterprises::name.eq(new.name),
            enterprises::credit_code.eq(new.credit_code),
            enterprises::address.eq(new.address),
            enterprises::industry.eq(new.industry),
            enterprises::contact_phone.eq(new.contact_phone),
            enterprises::status.eq("active"),
            enterprises::created_at.eq(now),
            enterprises::updated_at.eq(now),
        ))
        .execute(conn)?;
    find(conn, &id)?.ok_or_else(|| anyhow::anyhow!("inserted enterprise vanished").into())
}

pub fn find(conn: &mut DbConn, id: &str) -> AppResult<Option<EnterpriseRow>> {
    Ok(enterprises::table
        .find(id)
        .select(EnterpriseRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn credit_code_taken(conn: &mut DbConn, credit_code: &str) -> AppResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        enterprises::table.filter(enterprises::credit_code.eq(credit_code)),
    ))
    .get_result(conn)?)
}

/// `q` matches the name (case-insensitively, any part) or the credit code (any part).
pub fn list(
    conn: &mut DbConn,
    q: Option<&str>,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> AppResult<Vec<EnterpriseRow>> {
    let mut query = enterprises::table
        .select(EnterpriseRow::as_select())
        .into_boxed();
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

pub fn set_status(
    conn: &mut DbConn,
    id: &str,
    status: &str,
    now: NaiveDateTime,
) -> AppResult<usize> {
    Ok(diesel::update(enterprises::table.find(id))
        .set((
            enterprises::status.eq(status),
            enterprises::updated_at.eq(now),
        ))
        .execute(conn)?)
}
