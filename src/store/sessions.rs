//! Sessions, refresh tokens, password-reset tokens and login throttling. Tokens are stored
//! only as SHA-256 hashes.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Timestamp};

use super::StoreResult;
use super::db::DbConn;
use super::schema::{login_throttle, password_resets, refresh_tokens, sessions, users};
use crate::domain::session::TokenKind;
use crate::domain::throttle::Counter;

/// Starts a session (a sign-in); its id is the family id of its refresh tokens and the `sid`
/// of its access tokens.
pub fn open_session(conn: &mut DbConn, user_id: &str, now: NaiveDateTime) -> StoreResult<String> {
    let id = super::new_id();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(&id),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub id: String,
    pub user_id: String,
    pub family_id: String,
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub kind: TokenKind,
    pub last_seen_at: Option<NaiveDateTime>,
}

pub fn insert_refresh(
    conn: &mut DbConn,
    user_id: &str,
    family_id: &str,
    token_hash: &str,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> StoreResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(super::new_id()),
            refresh_tokens::user_id.eq(user_id),
            refresh_tokens::family_id.eq(family_id),
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::expires_at.eq(expires_at),
            refresh_tokens::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find_refresh(conn: &mut DbConn, token_hash: &str) -> StoreResult<Option<RefreshTokenRow>> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .optional()?)
}

/// Takes the session's row lock (PostgreSQL; SQLite's write transactions are serial anyway).
/// Everything that changes a family's tokens takes it first, so concurrent refreshes and
/// revocations queue on one row in one order. Without it a refresh that lost the race held the
/// token's row lock (PostgreSQL keeps the lock a failed conditional update took) while waiting
/// for the session's, and a revocation held them the other way round: a deadlock, answered 500.
pub fn lock_session(conn: &mut DbConn, id: &str) -> StoreResult<()> {
    if let DbConn::Postgres(_) = conn {
        diesel::sql_query("SELECT id FROM sessions WHERE id = $1 FOR UPDATE")
            .bind::<Text, _>(id)
            .execute(conn)?;
    }
    Ok(())
}

/// Marks a live token used; false when it was already used or revoked (a concurrent refresh
/// with the same token loses here and counts as reuse).
pub fn use_refresh(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> StoreResult<bool> {
    let changed = diesel::update(
        refresh_tokens::table
            .find(id)
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Ends a session: its refresh tokens and, through the actor check, its access tokens.
pub fn revoke_family(conn: &mut DbConn, family_id: &str, now: NaiveDateTime) -> StoreResult<()> {
    lock_session(conn, family_id)?;
    diesel::update(
        sessions::table
            .find(family_id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Ends every session of the user.
pub fn revoke_user(conn: &mut DbConn, user_id: &str, now: NaiveDateTime) -> StoreResult<()> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Ends every session of the enterprise's users (suspension).
pub fn revoke_enterprise(
    conn: &mut DbConn,
    enterprise_id: &str,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let members = || {
        users::table
            .filter(users::enterprise_id.eq(enterprise_id))
            .select(users::id)
    };
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq_any(members()))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq_any(members()))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = password_resets)]
pub struct PasswordResetRow {
    pub id: String,
    pub user_id: String,
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

pub fn insert_reset(
    conn: &mut DbConn,
    user_id: &str,
    token_hash: &str,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> StoreResult<()> {
    diesel::insert_into(password_resets::table)
        .values((
            password_resets::id.eq(super::new_id()),
            password_resets::user_id.eq(user_id),
            password_resets::token_hash.eq(token_hash),
            password_resets::expires_at.eq(expires_at),
            password_resets::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The user a live reset token belongs to, without spending it: None when unknown, used or
/// expired.
pub fn live_reset_user(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> StoreResult<Option<String>> {
    Ok(password_resets::table
        .filter(
            password_resets::token_hash
                .eq(token_hash)
                .and(password_resets::used_at.is_null())
                .and(password_resets::expires_at.gt(now)),
        )
        .select(password_resets::user_id)
        .first(conn)
        .optional()?)
}

/// Spends a live reset token: returns its user, or None when unknown, used or expired.
pub fn use_reset(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> StoreResult<Option<String>> {
    let row: Option<PasswordResetRow> = password_resets::table
        .filter(password_resets::token_hash.eq(token_hash))
        .select(PasswordResetRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    if row.expires_at < now {
        return Ok(None);
    }
    let changed = diesel::update(
        password_resets::table
            .find(&row.id)
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(now))
    .execute(conn)?;
    Ok((changed == 1).then_some(row.user_id))
}

/// Other outstanding reset tokens of the user die when one is used or the password changes.
pub fn expire_resets(conn: &mut DbConn, user_id: &str, now: NaiveDateTime) -> StoreResult<()> {
    diesel::update(
        password_resets::table
            .filter(password_resets::user_id.eq(user_id))
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(now))
    .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = login_throttle)]
pub struct ThrottleRow {
    pub key: String,
    pub failures: i32,
    pub window_start: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub lockouts: i32,
}

impl ThrottleRow {
    pub fn counter(&self) -> Counter {
        Counter {
            failures: self.failures,
            window_start: self.window_start,
            locked_until: self.locked_until,
            lockouts: self.lockouts,
        }
    }

    pub fn with(self, c: Counter) -> ThrottleRow {
        ThrottleRow {
            key: self.key,
            failures: c.failures,
            window_start: c.window_start,
            locked_until: c.locked_until,
            lockouts: c.lockouts,
        }
    }
}

/// Reads a throttle row for update, creating it first; the same SQL serves both backends
/// (`ON CONFLICT DO NOTHING`), and on PostgreSQL the row lock makes concurrent failures
/// count one after the other, across instances.
pub fn lock_throttle(conn: &mut DbConn, key: &str, now: NaiveDateTime) -> StoreResult<ThrottleRow> {
    diesel::sql_query(
        "INSERT INTO login_throttle (key, failures, window_start, lockouts) VALUES ($1, 0, $2, 0) \
         ON CONFLICT (key) DO NOTHING",
    )
    .bind::<Text, _>(key)
    .bind::<Timestamp, _>(now)
    .execute(conn)?;
    let lock = match conn {
        DbConn::Postgres(_) => " FOR UPDATE",
        DbConn::Sqlite(_) => "",
    };
    Ok(diesel::sql_query(format!(
        "SELECT key, failures, window_start, locked_until, lockouts FROM login_throttle WHERE key = $1{lock}"
    ))
    .bind::<Text, _>(key)
    .get_result(conn)?)
}

pub fn save_throttle(conn: &mut DbConn, row: &ThrottleRow) -> StoreResult<()> {
    diesel::sql_query(
        "UPDATE login_throttle SET failures = $1, window_start = $2, locked_until = $3, lockouts = $4 \
         WHERE key = $5",
    )
    .bind::<Integer, _>(row.failures)
    .bind::<Timestamp, _>(row.window_start)
    .bind::<Nullable<Timestamp>, _>(row.locked_until)
    .bind::<Integer, _>(row.lockouts)
    .bind::<Text, _>(&row.key)
    .execute(conn)?;
    Ok(())
}

pub fn clear_throttle(conn: &mut DbConn, key: &str) -> StoreResult<()> {
    diesel::delete(login_throttle::table.filter(login_throttle::key.eq(key))).execute(conn)?;
    Ok(())
}

/// A console sign-in: a session (so access checks and revocations treat it like any other)
/// with one refresh-token row of kind `web`, never rotated, dying at `expires_at` (the
/// absolute lifetime) or after the idle lifetime without a request. Returns the session id.
pub fn insert_web(
    conn: &mut DbConn,
    user_id: &str,
    token_hash: &str,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> StoreResult<String> {
    let session = open_session(conn, user_id, now)?;
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(super::new_id()),
            refresh_tokens::user_id.eq(user_id),
            refresh_tokens::family_id.eq(&session),
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::expires_at.eq(expires_at),
            refresh_tokens::created_at.eq(now),
            refresh_tokens::kind.eq(TokenKind::Web),
            refresh_tokens::last_seen_at.eq(now),
        ))
        .execute(conn)?;
    Ok(session)
}

/// A live console session by its cookie's hash, with its user's role, name and language.
pub fn find_web(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
    idle_since: NaiveDateTime,
) -> StoreResult<Option<(RefreshTokenRow, String, String, String)>> {
    use super::schema::users;
    Ok(refresh_tokens::table
        .inner_join(users::table.on(users::id.eq(refresh_tokens::user_id)))
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .filter(refresh_tokens::kind.eq(TokenKind::Web))
        .filter(refresh_tokens::revoked_at.is_null())
        .filter(refresh_tokens::expires_at.gt(now))
        .filter(refresh_tokens::last_seen_at.gt(idle_since))
        .select((
            RefreshTokenRow::as_select(),
            users::role,
            users::name,
            users::locale,
        ))
        .first(conn)
        .optional()?)
}

pub fn touch_web(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> StoreResult<()> {
    diesel::update(refresh_tokens::table.find(id))
        .set(refresh_tokens::last_seen_at.eq(now))
        .execute(conn)?;
    Ok(())
}
