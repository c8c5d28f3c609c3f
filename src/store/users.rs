//! Users of every role.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::db::DbConn;
use super::schema::{enterprises, sessions, tickets, users};
use super::tickets::TicketRow;
use super::{StoreError, StoreResult};
use crate::domain::enterprise::{EnterpriseRole, EnterpriseStatus};
use crate::domain::role::Role;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub enterprise_id: Option<String>,
    pub department_id: Option<String>,
    pub password_hash: String,
    pub active: bool,
    pub locale: String,
    pub last_assigned_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub email_verified: bool,
    /// Enterprise users only.
    pub enterprise_role: Option<EnterpriseRole>,
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub enterprise_id: Option<&'a str>,
    pub department_id: Option<&'a str>,
    pub password_hash: &'a str,
    pub locale: &'a str,
    pub email_verified: bool,
    pub enterprise_role: Option<EnterpriseRole>,
}

pub fn insert(conn: &mut DbConn, new: &NewUser, now: NaiveDateTime) -> StoreResult<UserRow> {
    let id = super::new_id();
    diesel::insert_into(users::table)
        .values((
            users::id.eq(&id),
            users::email.eq(new.email),
            users::name.eq(new.name),
            users::role.eq(new.role),
            users::enterprise_id.eq(new.enterprise_id),
            users::department_id.eq(new.department_id),
            users::password_hash.eq(new.password_hash),
            users::active.eq(true),
            users::locale.eq(new.locale),
            users::email_verified.eq(new.email_verified),
            users::enterprise_role.eq(new.enterprise_role),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    find(conn, &id)?.ok_or_else(|| StoreError::Corrupt("inserted user vanished".into()))
}

pub fn find(conn: &mut DbConn, id: &str) -> StoreResult<Option<UserRow>> {
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> StoreResult<Option<UserRow>> {
    Ok(users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// The user with the status of their enterprise (`None` for staff).
pub fn find_with_enterprise_status(
    conn: &mut DbConn,
    id: &str,
) -> StoreResult<Option<(UserRow, Option<EnterpriseStatus>)>> {
    Ok(users::table
        .left_join(enterprises::table.on(users::enterprise_id.eq(enterprises::id.nullable())))
        .filter(users::id.eq(id))
        .select((UserRow::as_select(), enterprises::status.nullable()))
        .first(conn)
        .optional()?)
}

/// What the actor check needs, in one query: the user, their enterprise's status, when their
/// credentials last changed, and whether the token's session is theirs and still open.
pub struct ActorRow {
    pub user: UserRow,
    pub enterprise_status: Option<EnterpriseStatus>,
    pub credentials_changed_at: Option<NaiveDateTime>,
    pub session_open: bool,
}

pub fn find_actor(conn: &mut DbConn, id: &str, session_id: &str) -> StoreResult<Option<ActorRow>> {
    Ok(find_actor_with_ticket(conn, id, session_id, None)?.map(|(actor, _)| actor))
}

/// [`find_actor`] and, in the same query, the ticket `ticket_id` if there is one: a read of
/// one ticket is one round trip, actor check included.
pub fn find_actor_with_ticket(
    conn: &mut DbConn,
    id: &str,
    session_id: &str,
    ticket_id: Option<&str>,
) -> StoreResult<Option<(ActorRow, Option<TicketRow>)>> {
    type Joined = (
        UserRow,
        Option<EnterpriseStatus>,
        Option<NaiveDateTime>,
        Option<String>,
        Option<NaiveDateTime>,
        Option<TicketRow>,
    );
    // Owned binds: with the fourth table diesel's query type must be 'static here.
    let (id, session_id, ticket_id) = (
        id.to_owned(),
        session_id.to_owned(),
        ticket_id.map(str::to_owned),
    );
    let row: Option<Joined> = users::table
        .left_join(enterprises::table.on(users::enterprise_id.eq(enterprises::id.nullable())))
        .left_join(
            sessions::table.on(sessions::user_id
                .eq(users::id)
                .and(sessions::id.eq(session_id))),
        )
        .left_join(tickets::table.on(tickets::id.nullable().eq(ticket_id)))
        .filter(users::id.eq(id))
        .select((
            UserRow::as_select(),
            enterprises::status.nullable(),
            users::credentials_changed_at,
            sessions::id.nullable(),
            sessions::revoked_at.nullable(),
            Option::<TicketRow>::as_select(),
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(
        |(user, enterprise_status, credentials_changed_at, session, revoked, ticket)| {
            let actor = ActorRow {
                user,
                enterprise_status,
                credentials_changed_at,
                session_open: session.is_some() && revoked.is_none(),
            };
            (actor, ticket)
        },
    ))
}

/// `q` matches any part of the name (case-insensitively) or of the email.
pub fn list(
    conn: &mut DbConn,
    role: Option<Role>,
    department_id: Option<&str>,
    q: Option<&str>,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> StoreResult<Vec<UserRow>> {
    let mut query = users::table.select(UserRow::as_select()).into_boxed();
    if let Some(q) = q {
        let pattern = super::like_pattern(&q.to_lowercase());
        query = query.filter(
            super::lower(users::name)
                .like(pattern.clone())
                .escape('\\')
                .or(users::email.like(pattern).escape('\\')),
        );
    }
    if let Some(role) = role {
        query = query.filter(users::role.eq(role));
    }
    if let Some(department_id) = department_id {
        query = query.filter(users::department_id.eq(department_id.to_owned()));
    }
    let query = keyset!(query, users::created_at, users::id, false, after);
    Ok(query.limit(limit).load(conn)?)
}

#[derive(Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub name: Option<String>,
    pub department_id: Option<Option<String>>,
    pub active: Option<bool>,
    pub enterprise_role: Option<EnterpriseRole>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn update(conn: &mut DbConn, id: &str, changes: &UserChanges) -> StoreResult<usize> {
    Ok(diesel::update(users::table.find(id))
        .set(changes)
        .execute(conn)?)
}

/// Also marks the credential change, which kills every access token issued before it.
pub fn set_password(
    conn: &mut DbConn,
    id: &str,
    hash: &str,
    now: NaiveDateTime,
) -> StoreResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::credentials_changed_at.eq(now),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn emails_of_active_admins(
    conn: &mut DbConn,
) -> StoreResult<Vec<(String, String, String, String)>> {
    Ok(users::table
        .filter(users::role.eq(Role::Admin).and(users::active.eq(true)))
        .select((users::id, users::email, users::name, users::locale))
        .order(users::created_at.asc())
        .load(conn)?)
}

pub fn set_last_assigned(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> StoreResult<()> {
    diesel::update(users::table.find(id))
        .set(users::last_assigned_at.eq(now))
        .execute(conn)?;
    Ok(())
}

pub fn set_profile(
    conn: &mut DbConn,
    id: &str,
    name: &str,
    locale: &str,
    now: NaiveDateTime,
) -> StoreResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::name.eq(name),
            users::locale.eq(locale),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_email_verified(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> StoreResult<()> {
    diesel::update(users::table.find(id))
        .set((users::email_verified.eq(true), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// An enterprise's users, oldest first.
pub fn of_enterprise(conn: &mut DbConn, enterprise_id: &str) -> StoreResult<Vec<UserRow>> {
    Ok(users::table
        .filter(users::enterprise_id.eq(enterprise_id))
        .select(UserRow::as_select())
        .order((users::created_at.asc(), users::id.asc()))
        .load(conn)?)
}

/// Locks the enterprise's user rows (PostgreSQL) so two owners changing roles at once take
/// turns and cannot both step down, leaving no owner; SQLite's write transaction already
/// serializes them.
pub fn lock_enterprise_users(conn: &mut DbConn, enterprise_id: &str) -> StoreResult<()> {
    if let DbConn::Postgres(_) = conn {
        diesel::sql_query("SELECT id FROM users WHERE enterprise_id = $1 ORDER BY id FOR UPDATE")
            .bind::<diesel::sql_types::Text, _>(enterprise_id)
            .execute(conn)?;
    }
    Ok(())
}

/// The active owners of an enterprise, who hear of its tickets besides the filer.
pub fn active_owners(conn: &mut DbConn, enterprise_id: &str) -> StoreResult<Vec<UserRow>> {
    Ok(users::table
        .filter(users::enterprise_id.eq(enterprise_id))
        .filter(users::enterprise_role.eq(EnterpriseRole::Owner))
        .filter(users::active.eq(true))
        .select(UserRow::as_select())
        .order((users::created_at.asc(), users::id.asc()))
        .load(conn)?)
}

/// Names of the users among `ids` (for a page listing them).
pub fn names(conn: &mut DbConn, ids: &[String]) -> StoreResult<Vec<(String, String)>> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::name))
        .load(conn)?)
}

/// A department's active officials, each with the open tickets assigned to them (the load
/// routing counts, kept in `users.open_tickets`).
pub fn officials_with_load(
    conn: &mut DbConn,
    department_id: &str,
) -> StoreResult<Vec<(String, String, i64)>> {
    let rows: Vec<(String, String, i32)> = users::table
        .filter(users::department_id.eq(department_id))
        .filter(users::role.eq(Role::Official))
        .filter(users::active.eq(true))
        .order((users::created_at, users::id))
        .select((users::id, users::name, users::open_tickets))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, n)| (id, name, i64::from(n)))
        .collect())
}
