//! Email-verification and invitation tokens, stored only as SHA-256 hashes, each kind in its
//! own table (so a token of one kind is unknown to the other's lookup).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::StoreResult;
use super::db::DbConn;
use super::schema::{email_verifications, invitations};

pub fn insert_verification(
    conn: &mut DbConn,
    user_id: &str,
    token_hash: &str,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> StoreResult<()> {
    diesel::insert_into(email_verifications::table)
        .values((
            email_verifications::id.eq(super::new_id()),
            email_verifications::user_id.eq(user_id),
            email_verifications::token_hash.eq(token_hash),
            email_verifications::expires_at.eq(expires_at),
            email_verifications::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Spends a live verification token and every other one of its user: returns the user, or
/// None when unknown, used or expired.
pub fn use_verification(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> StoreResult<Option<String>> {
    let row: Option<(String, String)> = email_verifications::table
        .filter(email_verifications::token_hash.eq(token_hash))
        .filter(email_verifications::used_at.is_null())
        .filter(email_verifications::expires_at.gt(now))
        .select((email_verifications::id, email_verifications::user_id))
        .first(conn)
        .optional()?;
    let Some((id, user_id)) = row else {
        return Ok(None);
    };
    let changed = diesel::update(
        email_verifications::table
            .find(&id)
            .filter(email_verifications::used_at.is_null()),
    )
    .set(email_verifications::used_at.eq(now))
    .execute(conn)?;
    if changed != 1 {
        return Ok(None);
    }
    diesel::update(
        email_verifications::table
            .filter(email_verifications::user_id.eq(&user_id))
            .filter(email_verifications::used_at.is_null()),
    )
    .set(email_verifications::used_at.eq(now))
    .execute(conn)?;
    Ok(Some(user_id))
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
pub struct InvitationRow {
    pub id: String,
    pub enterprise_id: String,
    pub email: String,
    pub name: Option<String>,
    pub token_hash: String,
    pub invited_by: String,
    pub expires_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

pub struct NewInvitation<'a> {
    pub enterprise_id: &'a str,
    pub email: &'a str,
    pub name: Option<&'a str>,
    pub token_hash: &'a str,
    pub invited_by: &'a str,
    pub expires_at: NaiveDateTime,
}

/// Any pending invitation to the same email (from any enterprise) dies: the newest one is
/// the only one that works.
pub fn insert_invitation(
    conn: &mut DbConn,
    new: &NewInvitation,
    now: NaiveDateTime,
) -> StoreResult<InvitationRow> {
    diesel::update(
        invitations::table
            .filter(invitations::email.eq(new.email))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null()),
    )
    .set(invitations::revoked_at.eq(now))
    .execute(conn)?;
    let id = super::new_id();
    diesel::insert_into(invitations::table)
        .values((
            invitations::id.eq(&id),
            invitations::enterprise_id.eq(new.enterprise_id),
            invitations::email.eq(new.email),
            invitations::name.eq(new.name),
            invitations::token_hash.eq(new.token_hash),
            invitations::invited_by.eq(new.invited_by),
            invitations::expires_at.eq(new.expires_at),
            invitations::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(invitations::table
        .find(&id)
        .select(InvitationRow::as_select())
        .first(conn)?)
}

/// The enterprise's invitations still waiting to be accepted, oldest first.
pub fn pending_invitations(
    conn: &mut DbConn,
    enterprise_id: &str,
    now: NaiveDateTime,
) -> StoreResult<Vec<InvitationRow>> {
    Ok(invitations::table
        .filter(invitations::enterprise_id.eq(enterprise_id))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .filter(invitations::expires_at.gt(now))
        .select(InvitationRow::as_select())
        .order((invitations::created_at.asc(), invitations::id.asc()))
        .limit(500)
        .load(conn)?)
}

/// Revokes a pending invitation of the enterprise; false when it has none with this id.
pub fn revoke_invitation(
    conn: &mut DbConn,
    enterprise_id: &str,
    id: &str,
    now: NaiveDateTime,
) -> StoreResult<bool> {
    let changed = diesel::update(
        invitations::table
            .find(id)
            .filter(invitations::enterprise_id.eq(enterprise_id))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null()),
    )
    .set(invitations::revoked_at.eq(now))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Spends a live invitation token; the invitation, or None when unknown, used, revoked or
/// expired. The conditional update makes a second, concurrent acceptance fail.
pub fn accept_invitation(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> StoreResult<Option<InvitationRow>> {
    let row: Option<InvitationRow> = invitations::table
        .filter(invitations::token_hash.eq(token_hash))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .filter(invitations::expires_at.gt(now))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let changed = diesel::update(
        invitations::table
            .find(&row.id)
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null()),
    )
    .set(invitations::accepted_at.eq(now))
    .execute(conn)?;
    Ok((changed == 1).then_some(row))
}

/// A live invitation by its token, without spending it (the console's acceptance form).
pub fn find_live_invitation(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> StoreResult<Option<InvitationRow>> {
    Ok(invitations::table
        .filter(invitations::token_hash.eq(token_hash))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .filter(invitations::expires_at.gt(now))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()?)
}
