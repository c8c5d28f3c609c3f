//! Tickets, their timeline, comments, idempotency keys and references.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::StoreResult;
use super::db::DbConn;
use super::schema::{comments, idempotency_keys, ticket_events, tickets};
use crate::domain::ids::{
    CategoryId, CommentId, DepartmentId, EnterpriseId, EventId, TicketId, UserId,
};
use crate::domain::role::Role;
use crate::domain::routing::{self, Candidate};
use crate::domain::ticket::{CommentKind, EventKind, Priority, TicketStatus};

/// Open, but the SLA clock stands still: never overdue, warned or escalated.
pub const AWAITING: TicketStatus = TicketStatus::AwaitingEnterprise;

/// `status IN ('a', 'b')` with the names spelled literally, not bound: a planner uses a
/// partial index only for a query whose `WHERE` implies the index's, which a bound parameter
/// never does. The partial indexes on open and resolved tickets are spelled the same way (a
/// test below holds the migrations to it).
pub fn status_in_sql(statuses: &[TicketStatus]) -> String {
    match statuses {
        [one] => format!("status = '{one}'"),
        many => {
            let names: Vec<String> = many.iter().map(|s| format!("'{s}'")).collect();
            format!("status IN ({})", names.join(", "))
        }
    }
}

fn open_sql() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql::<diesel::sql_types::Bool>(&status_in_sql(&TicketStatus::OPEN))
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tickets)]
pub struct TicketRow {
    pub id: TicketId,
    pub reference: String,
    pub title: String,
    pub description: String,
    pub search_text: String,
    pub category_id: CategoryId,
    pub department_id: Option<DepartmentId>,
    pub assignee_id: Option<UserId>,
    pub enterprise_id: EnterpriseId,
    pub created_by: UserId,
    pub priority: Priority,
    pub status: TicketStatus,
    pub due_at: NaiveDateTime,
    pub overdue_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub resolved_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub cancelled_at: Option<NaiveDateTime>,
    pub resolution: Option<String>,
    pub rating: Option<i32>,
    pub feedback: Option<String>,
    pub auto_closed: bool,
    pub reopen_count: i32,
    pub version: i32,
    pub awaiting_since: Option<NaiveDateTime>,
    pub warn_at: Option<NaiveDateTime>,
    pub warned_for: Option<NaiveDateTime>,
    pub escalated_for: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = tickets)]
pub struct NewTicket {
    pub id: TicketId,
    pub reference: String,
    pub title: String,
    pub description: String,
    pub search_text: String,
    pub category_id: CategoryId,
    pub department_id: Option<DepartmentId>,
    pub assignee_id: Option<UserId>,
    pub enterprise_id: EnterpriseId,
    pub created_by: UserId,
    pub priority: Priority,
    pub status: TicketStatus,
    pub due_at: NaiveDateTime,
    pub warn_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What substring search (`q`) looks in: lower-cased once at write time so the query side
/// is one LIKE on one column, which PostgreSQL serves from a trigram index.
pub fn search_text(reference: &str, title: &str, description: &str) -> String {
    format!("{reference}\n{title}\n{description}").to_lowercase()
}

/// Inserts the ticket and returns it as stored, in the same round trip. `all_columns`, not
/// `as_returning()`, which the multi-backend connection cannot build; `TicketRow`'s fields are
/// in the table's column order.
pub fn insert(conn: &mut DbConn, new: &NewTicket) -> StoreResult<TicketRow> {
    Ok(diesel::insert_into(tickets::table)
        .values(new)
        .returning(tickets::all_columns)
        .get_result(conn)?)
}

pub fn find(conn: &mut DbConn, id: &TicketId) -> StoreResult<Option<TicketRow>> {
    Ok(tickets::table
        .find(id)
        .select(TicketRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every field an action may change. `None` leaves a column alone; `Some(None)` clears it.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = tickets)]
pub struct TicketChanges {
    pub status: Option<TicketStatus>,
    pub department_id: Option<Option<DepartmentId>>,
    pub assignee_id: Option<Option<UserId>>,
    pub accepted_at: Option<Option<NaiveDateTime>>,
    pub resolved_at: Option<Option<NaiveDateTime>>,
    pub closed_at: Option<Option<NaiveDateTime>>,
    pub cancelled_at: Option<Option<NaiveDateTime>>,
    pub resolution: Option<Option<String>>,
    pub rating: Option<Option<i32>>,
    pub feedback: Option<Option<String>>,
    pub auto_closed: Option<bool>,
    pub reopen_count: Option<i32>,
    pub updated_at: Option<NaiveDateTime>,
    pub due_at: Option<NaiveDateTime>,
    pub warn_at: Option<Option<NaiveDateTime>>,
    pub overdue_at: Option<Option<NaiveDateTime>>,
    pub awaiting_since: Option<Option<NaiveDateTime>>,
}

/// Applies `changes` only if the ticket is still at `version`, bumping it; false when
/// someone else changed the ticket first (optimistic concurrency).
/// Applies `changes` if the ticket is still at `version`, and returns it as it now stands;
/// `None` when someone else changed it first.
pub fn update_if_version(
    conn: &mut DbConn,
    id: &TicketId,
    version: i32,
    changes: &TicketChanges,
) -> StoreResult<Option<TicketRow>> {
    Ok(
        diesel::update(tickets::table.find(id).filter(tickets::version.eq(version)))
            .set((changes, tickets::version.eq(version + 1)))
            .returning(tickets::all_columns)
            .get_result(conn)
            .optional()?,
    )
}

/// The next reference counter for a day; one statement that both backends understand.
pub fn next_reference_number(conn: &mut DbConn, day: &str) -> StoreResult<i64> {
    #[derive(QueryableByName)]
    struct Last {
        #[diesel(sql_type = BigInt)]
        last: i64,
    }
    let row: Last = diesel::sql_query(
        "INSERT INTO reference_counters (day, last) VALUES ($1, 1) \
         ON CONFLICT (day) DO UPDATE SET last = reference_counters.last + 1 \
         RETURNING CAST(last AS BIGINT) AS last",
    )
    .bind::<Text, _>(day)
    .get_result(conn)?;
    Ok(row.last)
}

#[derive(Debug, Clone, Queryable)]
pub struct CandidateRow {
    pub id: UserId,
    pub open_tickets: i32,
    pub last_assigned_at: Option<NaiveDateTime>,
}

impl CandidateRow {
    fn candidate(self) -> Candidate<UserId> {
        Candidate {
            id: self.id,
            open_tickets: i64::from(self.open_tickets),
            last_assigned_at: self.last_assigned_at,
        }
    }
}

/// The department's active officials with their open workload (`users.open_tickets`, which
/// triggers keep in step with every ticket change), in the order ties go by.
fn routing_candidates(
    conn: &mut DbConn,
    department_id: &DepartmentId,
) -> StoreResult<Vec<Candidate<UserId>>> {
    use super::schema::users;
    let rows: Vec<CandidateRow> = users::table
        .filter(users::department_id.eq(department_id))
        .filter(users::role.eq(Role::Official))
        .filter(users::active)
        .select((users::id, users::open_tickets, users::last_assigned_at))
        .order((users::created_at, users::id))
        .load(conn)?;
    Ok(rows.into_iter().map(CandidateRow::candidate).collect())
}

/// The official `routing::choose` picks in the department, locked until commit on PostgreSQL
/// so that no concurrent routing can miss this assignment.
///
/// PostgreSQL first tries to lock one of the least-loaded officials that no concurrent
/// transaction holds (`SKIP LOCKED`), in the rule's tie order: a held official is being
/// assigned a ticket right now, so a free one with the same count is at least as good a
/// choice, and concurrent filings proceed side by side. Only when every least-loaded official
/// is held does it wait for all of the department's officials and choose on the counts as
/// committed. Either way the choice is one the rule allows once the concurrent filings have
/// committed, so ten at once into a department of two still split five and five. SQLite's
/// write transactions are serial: the counts read are final.
pub fn claim_official(
    conn: &mut DbConn,
    department_id: &DepartmentId,
) -> StoreResult<Option<UserId>> {
    if let DbConn::Postgres(_) = conn {
        let officials = "department_id = $1 AND role = 'official' AND active";
        #[derive(QueryableByName)]
        struct Claimed {
            #[diesel(sql_type = Text)]
            id: UserId,
        }
        // In a savepoint: a row whose count changed while this waited to lock it fails the
        // recheck and is not returned, but PostgreSQL keeps it locked; holding it while
        // waiting for all of them below would lock out of order and deadlock. Rolling back
        // to the savepoint releases it.
        let free = conn.transaction(|conn| {
            diesel::sql_query(format!(
                "SELECT id FROM users WHERE {officials} \
                   AND open_tickets = (SELECT MIN(open_tickets) FROM users WHERE {officials}) \
                 ORDER BY last_assigned_at NULLS FIRST, created_at, id \
                 LIMIT 1 FOR UPDATE SKIP LOCKED"
            ))
            .bind::<Text, _>(department_id.as_str())
            .get_result::<Claimed>(conn)
            .optional()?
            .ok_or(diesel::result::Error::RollbackTransaction)
        });
        match free {
            Ok(c) => return Ok(Some(c.id)),
            Err(diesel::result::Error::RollbackTransaction) => {}
            Err(e) => return Err(e.into()),
        }
        diesel::sql_query(format!(
            "SELECT id FROM users WHERE {officials} ORDER BY id FOR UPDATE"
        ))
        .bind::<Text, _>(department_id.as_str())
        .execute(conn)?;
    }
    Ok(routing::choose(&routing_candidates(conn, department_id)?))
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ticket_events)]
pub struct EventRow {
    pub id: EventId,
    pub ticket_id: TicketId,
    pub kind: EventKind,
    pub actor_id: Option<UserId>,
    pub from_status: Option<TicketStatus>,
    pub to_status: Option<TicketStatus>,
    pub note: Option<String>,
    pub internal: bool,
    pub created_at: NaiveDateTime,
}

pub struct NewEvent<'a> {
    pub ticket_id: &'a TicketId,
    pub kind: EventKind,
    pub actor_id: Option<&'a UserId>,
    pub from_status: Option<TicketStatus>,
    pub to_status: Option<TicketStatus>,
    pub note: Option<&'a str>,
    pub internal: bool,
}

pub fn insert_event(conn: &mut DbConn, e: &NewEvent, now: NaiveDateTime) -> StoreResult<()> {
    diesel::insert_into(ticket_events::table)
        .values((
            ticket_events::id.eq(EventId::generate()),
            ticket_events::ticket_id.eq(e.ticket_id),
            ticket_events::kind.eq(e.kind),
            ticket_events::actor_id.eq(e.actor_id),
            ticket_events::from_status.eq(e.from_status),
            ticket_events::to_status.eq(e.to_status),
            ticket_events::note.eq(e.note),
            ticket_events::internal.eq(e.internal),
            ticket_events::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Oldest first; ids are time-ordered, so they break ties within one timestamp.
pub fn list_events(
    conn: &mut DbConn,
    ticket_id: &TicketId,
    include_internal: bool,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> StoreResult<Vec<EventRow>> {
    let mut query = ticket_events::table
        .filter(ticket_events::ticket_id.eq(ticket_id.clone()))
        .select(EventRow::as_select())
        .into_boxed();
    if !include_internal {
        query = query.filter(ticket_events::internal.eq(false));
    }
    let query = keyset!(
        query,
        ticket_events::created_at,
        ticket_events::id,
        false,
        after
    );
    Ok(query.limit(limit).load(conn)?)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = comments)]
pub struct CommentRow {
    pub id: CommentId,
    pub ticket_id: TicketId,
    pub author_id: UserId,
    pub kind: CommentKind,
    pub body: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_comment(
    conn: &mut DbConn,
    ticket_id: &TicketId,
    author_id: &UserId,
    kind: CommentKind,
    body: &str,
    now: NaiveDateTime,
) -> StoreResult<CommentRow> {
    let row = CommentRow {
        id: CommentId::generate(),
        ticket_id: ticket_id.clone(),
        author_id: author_id.clone(),
        kind,
        body: body.to_owned(),
        created_at: now,
    };
    diesel::insert_into(comments::table)
        .values((
            comments::id.eq(&row.id),
            comments::ticket_id.eq(&row.ticket_id),
            comments::author_id.eq(&row.author_id),
            comments::kind.eq(row.kind),
            comments::body.eq(&row.body),
            comments::created_at.eq(row.created_at),
        ))
        .execute(conn)?;
    Ok(row)
}

pub fn list_comments(
    conn: &mut DbConn,
    ticket_id: &TicketId,
    only_kind: Option<CommentKind>,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> StoreResult<Vec<CommentRow>> {
    let mut query = comments::table
        .filter(comments::ticket_id.eq(ticket_id.clone()))
        .select(CommentRow::as_select())
        .into_boxed();
    if let Some(kind) = only_kind {
        query = query.filter(comments::kind.eq(kind));
    }
    let query = keyset!(query, comments::created_at, comments::id, false, after);
    Ok(query.limit(limit).load(conn)?)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub user_id: UserId,
    pub key: String,
    pub request_hash: String,
    pub response_status: i32,
    pub response_body: String,
    pub created_at: NaiveDateTime,
}

pub fn find_idempotency(
    conn: &mut DbConn,
    user_id: &UserId,
    key: &str,
    since: NaiveDateTime,
) -> StoreResult<Option<IdempotencyRow>> {
    Ok(idempotency_keys::table
        .filter(idempotency_keys::user_id.eq(user_id))
        .filter(idempotency_keys::key.eq(key))
        .filter(idempotency_keys::created_at.gt(since))
        .select(IdempotencyRow::as_select())
        .first(conn)
        .optional()?)
}

/// Stores a key with its answer. A live key with the same name makes the insert fail with a
/// unique violation (a concurrent duplicate); an expired one is cleared first.
pub fn insert_idempotency(
    conn: &mut DbConn,
    row: &IdempotencyRow,
    expired_before: NaiveDateTime,
) -> StoreResult<()> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::user_id.eq(&row.user_id))
            .filter(idempotency_keys::key.eq(&row.key))
            .filter(idempotency_keys::created_at.le(expired_before)),
    )
    .execute(conn)?;
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(&row.user_id),
            idempotency_keys::key.eq(&row.key),
            idempotency_keys::request_hash.eq(&row.request_hash),
            idempotency_keys::response_status.eq(row.response_status),
            idempotency_keys::response_body.eq(&row.response_body),
            idempotency_keys::created_at.eq(row.created_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn purge_idempotency(conn: &mut DbConn, before: NaiveDateTime) -> StoreResult<usize> {
    Ok(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(before)))
            .execute(conn)?,
    )
}

/// Open tickets past their deadline with no overdue event yet.
pub fn newly_overdue(
    conn: &mut DbConn,
    now: NaiveDateTime,
    limit: i64,
) -> StoreResult<Vec<TicketRow>> {
    Ok(tickets::table
        .filter(open_sql())
        .filter(tickets::status.ne(AWAITING))
        .filter(tickets::due_at.lt(now))
        .filter(tickets::overdue_at.is_null())
        .order(tickets::due_at.asc())
        .limit(limit)
        .select(TicketRow::as_select())
        .load(conn)?)
}

/// Claims the overdue mark; only one caller (of any instance) gets true per ticket.
pub fn mark_overdue(conn: &mut DbConn, id: &TicketId, now: NaiveDateTime) -> StoreResult<bool> {
    let changed = diesel::update(
        tickets::table
            .find(id)
            .filter(tickets::overdue_at.is_null()),
    )
    .set(tickets::overdue_at.eq(now))
    .execute(conn)?;
    Ok(changed == 1)
}

/// A notice sent once per deadline; a column remembers the deadline it was last sent for, so
/// moving the deadline (an extension, a reopen) makes the ticket due it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineNotice {
    /// To the assignee, from `warn_at` until `due_at`; remembered in `warned_for`.
    DueSoon,
    /// To the admins, once `due_at` is `after` in the past; remembered in `escalated_for`.
    Escalation { after: chrono::Duration },
}

/// Not sent yet for the ticket's current deadline, by the column that remembers it.
macro_rules! unsent {
    ($sent_for:expr) => {
        $sent_for
            .is_null()
            .or($sent_for.ne(tickets::due_at.nullable()))
    };
}

/// Open tickets whose clock runs and that are due `notice` at `now` and have not had it for
/// their current deadline, the longest waiting first.
pub fn notice_candidates(
    conn: &mut DbConn,
    notice: DeadlineNotice,
    now: NaiveDateTime,
    limit: i64,
) -> StoreResult<Vec<TicketRow>> {
    let running = tickets::table
        .filter(open_sql())
        .filter(tickets::status.ne(AWAITING))
        .select(TicketRow::as_select())
        .into_boxed();
    let due = match notice {
        DeadlineNotice::DueSoon => running
            .filter(tickets::warn_at.le(now))
            .filter(tickets::due_at.gt(now))
            .filter(unsent!(tickets::warned_for))
            .order(tickets::warn_at.asc()),
        DeadlineNotice::Escalation { after } => running
            .filter(tickets::due_at.le(now - after))
            .filter(unsent!(tickets::escalated_for))
            .order(tickets::due_at.asc()),
    };
    Ok(due.limit(limit).load(conn)?)
}

/// Claims `notice` for the ticket's current deadline; one caller of any instance wins (on
/// PostgreSQL a racing UPDATE waits for the winner's commit, then re-reads the row and no
/// longer matches).
pub fn claim_notice(
    conn: &mut DbConn,
    notice: DeadlineNotice,
    id: &TicketId,
    due_at: NaiveDateTime,
) -> StoreResult<bool> {
    let current = tickets::table
        .find(id)
        .filter(tickets::due_at.eq(due_at))
        .filter(tickets::status.ne(AWAITING));
    let changed = match notice {
        DeadlineNotice::DueSoon => diesel::update(current.filter(unsent!(tickets::warned_for)))
            .set(tickets::warned_for.eq(due_at))
            .execute(conn)?,
        DeadlineNotice::Escalation { .. } => {
            diesel::update(current.filter(unsent!(tickets::escalated_for)))
                .set(tickets::escalated_for.eq(due_at))
                .execute(conn)?
        }
    };
    Ok(changed == 1)
}

pub fn resolved_before(
    conn: &mut DbConn,
    cutoff: NaiveDateTime,
    limit: i64,
) -> StoreResult<Vec<TicketRow>> {
    Ok(tickets::table
        .filter(tickets::status.eq(TicketStatus::Resolved))
        .filter(tickets::resolved_at.le(cutoff))
        .order(tickets::resolved_at.asc())
        .limit(limit)
        .select(TicketRow::as_select())
        .load(conn)?)
}

/// Whose tickets a caller may see.
#[derive(Debug, Clone)]
pub enum Scope {
    All,
    Enterprise(EnterpriseId),
    /// The department's tickets plus any assigned to the official.
    Official {
        department_id: Option<DepartmentId>,
        user_id: UserId,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    CreatedAt,
    DueAt,
    UpdatedAt,
}

#[derive(Debug, Clone)]
pub struct TicketFilter {
    pub scope: Scope,
    pub statuses: Vec<TicketStatus>,
    pub category_id: Option<CategoryId>,
    pub department_id: Option<DepartmentId>,
    pub assignee_id: Option<UserId>,
    pub enterprise_id: Option<EnterpriseId>,
    pub priority: Option<Priority>,
    /// Some(true): open and past due at `now`; Some(false): the others.
    pub overdue: Option<bool>,
    /// Open, the clock running, past the warning time and not yet due at `now`.
    pub due_soon: bool,
    /// Lower-cased substring of reference, title or description.
    pub q: Option<String>,
    pub created_from: Option<NaiveDateTime>,
    pub created_to: Option<NaiveDateTime>,
    pub now: NaiveDateTime,
}

impl TicketFilter {
    /// Everything in the scope, no filter yet.
    pub fn new(scope: Scope, now: NaiveDateTime) -> TicketFilter {
        TicketFilter {
            scope,
            statuses: Vec::new(),
            category_id: None,
            department_id: None,
            assignee_id: None,
            enterprise_id: None,
            priority: None,
            overdue: None,
            due_soon: false,
            q: None,
            created_from: None,
            created_to: None,
            now,
        }
    }

    /// Only open tickets can match: the partial indexes on open tickets apply.
    fn only_open(&self) -> bool {
        self.overdue == Some(true)
            || self.due_soon
            || (!self.statuses.is_empty()
                && self.statuses.iter().all(|s| TicketStatus::OPEN.contains(s)))
    }
}

type Db = <DbConn as Connection>::Backend;

/// The tickets a filter matches, unordered.
fn filtered(conn: &mut DbConn, f: &TicketFilter) -> StoreResult<tickets::BoxedQuery<'static, Db>> {
    let mut query = tickets::table.into_boxed();
    query = match &f.scope {
        Scope::All => query,
        Scope::Enterprise(id) => query.filter(tickets::enterprise_id.eq(id.clone())),
        // SQLite answers an OR of two indexed columns by collecting every matching row from
        // both indexes and sorting them (0.7 s for a department's share of a million
        // tickets). The unary `+` keeps those columns out of index selection, so it walks
        // `tickets_created` in page order and stops after a page, as PostgreSQL does. Not when
        // only open tickets can match: there the OR over the small partial indexes of open
        // tickets wins.
        Scope::Official {
            department_id: Some(d),
            user_id,
        } if matches!(conn, DbConn::Sqlite(_)) && !f.only_open() => query.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("(+department_id = ")
                .bind::<Text, _>(d.clone())
                .sql(" OR +assignee_id = ")
                .bind::<Text, _>(user_id.clone())
                .sql(")"),
        ),
        Scope::Official {
            department_id: Some(d),
            user_id,
        } => query.filter(
            tickets::department_id
                .eq(d.clone())
                .or(tickets::assignee_id.eq(user_id.clone())),
        ),
        Scope::Official {
            department_id: None,
            user_id,
        } => query.filter(tickets::assignee_id.eq(user_id.clone())),
    };
    if f.only_open() && matches!(conn, DbConn::Sqlite(_)) && !f.statuses.is_empty() {
        // Said again literally, so the partial indexes on open tickets apply; and `+status`
        // keeps SQLite from taking the department's whole creation index for a rare status
        // (awaiting: 69 ms at 100,000 tickets, 1 ms through the open tickets' index).
        let only = format!("+{}", status_in_sql(&f.statuses));
        query = query
            .filter(open_sql())
            .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&only));
    } else if !f.statuses.is_empty() {
        if f.only_open() {
            // Said again literally, so the partial indexes on open tickets apply.
            query = query.filter(open_sql());
        }
        query = query.filter(tickets::status.eq_any(f.statuses.clone()));
    }
    if let Some(v) = &f.category_id {
        query = query.filter(tickets::category_id.eq(v.clone()));
    }
    if let Some(v) = &f.department_id {
        query = query.filter(tickets::department_id.eq(v.clone()));
    }
    if let Some(v) = &f.assignee_id {
        query = query.filter(tickets::assignee_id.eq(v.clone()));
    }
    if let Some(v) = &f.enterprise_id {
        query = query.filter(tickets::enterprise_id.eq(v.clone()));
    }
    if let Some(v) = &f.priority {
        query = query.filter(tickets::priority.eq(*v));
    }
    match f.overdue {
        // The open statuses are spelled out, not bound: a planner can only use the partial
        // indexes on open tickets when it sees the same literal list as their WHERE clause.
        Some(true) => {
            query = query
                .filter(open_sql())
                .filter(tickets::status.ne(AWAITING))
                .filter(tickets::due_at.lt(f.now));
        }
        Some(false) => {
            query = query.filter(
                tickets::status
                    .ne_all(TicketStatus::OPEN)
                    .or(tickets::status.eq(AWAITING))
                    .or(tickets::due_at.ge(f.now)),
            );
        }
        None => {}
    }
    if f.due_soon {
        query = query
            .filter(open_sql())
            .filter(tickets::status.ne(AWAITING))
            .filter(tickets::warn_at.le(f.now))
            .filter(tickets::due_at.gt(f.now));
    }
    if let Some(q) = &f.q {
        let pattern = super::like_pattern(q);
        let trigrams = q.chars().count() >= 3;
        query = if trigrams
            && matches!(conn, DbConn::Sqlite(_))
            && !q.contains(['%', '_', '\\'])
            && fts_matches_are_few(conn, &pattern)?
        {
            // SQLite's FTS5 trigram table answers LIKE from its index (not with an ESCAPE
            // clause, hence only for terms without wildcard characters to escape). Worth it
            // for rare terms only: a common term's matches would all be sorted for one page,
            // while walking the sort order finds a page of them at once.
            query.filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "tickets.id IN (SELECT ticket_id FROM tickets_search WHERE search_text LIKE ",
                )
                .bind::<Text, _>(pattern)
                .sql(")"),
            )
        } else if trigrams {
            query.filter(tickets::search_text.like(pattern).escape('\\'))
        } else {
            // Under three characters there is no trigram to look up, yet PostgreSQL would still
            // pick the trigram index and recheck every row (seconds at a million tickets). An
            // expression no index matches makes it walk the sort order and stop at a page.
            query.filter(tickets::search_text.concat("").like(pattern).escape('\\'))
        };
    }
    if let Some(v) = f.created_from {
        query = query.filter(tickets::created_at.ge(v));
    }
    if let Some(v) = f.created_to {
        query = query.filter(tickets::created_at.lt(v));
    }
    Ok(query)
}

/// One page of tickets in `sort` order after the cursor `(sort value, id)`.
pub fn list(
    conn: &mut DbConn,
    f: &TicketFilter,
    sort: SortKey,
    descending: bool,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> StoreResult<Vec<TicketRow>> {
    let query = filtered(conn, f)?.select(TicketRow::as_select());
    let query = match sort {
        SortKey::CreatedAt => keyset!(query, tickets::created_at, tickets::id, descending, after),
        SortKey::DueAt => keyset!(query, tickets::due_at, tickets::id, descending, after),
        SortKey::UpdatedAt => keyset!(query, tickets::updated_at, tickets::id, descending, after),
    };
    Ok(query.limit(limit).load(conn)?)
}

/// How many tickets the filter matches.
pub fn count(conn: &mut DbConn, f: &TicketFilter) -> StoreResult<i64> {
    Ok(filtered(conn, f)?.count().get_result(conn)?)
}

/// Whether a search term is rare enough (under `FTS_FEW` matching tickets) for SQLite to
/// collect and sort its matches from the trigram index rather than walk the sort order.
fn fts_matches_are_few(conn: &mut DbConn, pattern: &str) -> StoreResult<bool> {
    const FTS_FEW: i64 = 5_000;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let found: Count = diesel::sql_query(format!(
        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM tickets_search WHERE search_text LIKE $1 LIMIT {FTS_FEW})"
    ))
    .bind::<Text, _>(pattern)
    .get_result(conn)?;
    Ok(found.n < FTS_FEW)
}

pub fn sort_value(row: &TicketRow, sort: SortKey) -> NaiveDateTime {
    match sort {
        SortKey::CreatedAt => row.created_at,
        SortKey::DueAt => row.due_at,
        SortKey::UpdatedAt => row.updated_at,
    }
}

/// Id, name and stored role of everyone who acted on the ticket or wrote on it.
pub fn participants(
    conn: &mut DbConn,
    ticket_id: &TicketId,
) -> StoreResult<Vec<(UserId, String, Role)>> {
    use super::schema::users;
    let actors = ticket_events::table
        .filter(ticket_events::ticket_id.eq(ticket_id))
        .select(ticket_events::actor_id);
    let authors = comments::table
        .filter(comments::ticket_id.eq(ticket_id))
        .select(comments::author_id);
    Ok(users::table
        .filter(
            users::id
                .nullable()
                .eq_any(actors)
                .or(users::id.eq_any(authors).nullable()),
        )
        .select((users::id, users::name, users::role))
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The queries spell the open statuses as the partial indexes do, on both backends: the
    /// latest definition of each index (migrations in order) is the one in force.
    #[test]
    fn partial_indexes_match_the_enum() {
        let open = format!("WHERE {};", status_in_sql(&TicketStatus::OPEN));
        let resolved = format!("WHERE {};", status_in_sql(&[TicketStatus::Resolved]));
        for migrations in [
            [
                include_str!("../../migrations/sqlite/2026-11-25-000001_init/up.sql"),
                include_str!("../../migrations/sqlite/2026-12-01-000600_working_days/up.sql"),
            ],
            [
                include_str!("../../migrations/postgres/2026-11-25-000001_init/up.sql"),
                include_str!("../../migrations/postgres/2026-12-01-000600_working_days/up.sql"),
            ],
        ] {
            let line = |name: &str| {
                migrations
                    .iter()
                    .flat_map(|m| m.lines())
                    .rfind(|l| l.starts_with(&format!("CREATE INDEX {name} ")))
                    .unwrap_or_default()
                    .to_owned()
            };
            assert!(line("tickets_open_due").ends_with(&open), "{open}");
            assert!(line("tickets_department_open_due").ends_with(&open));
            assert!(line("tickets_open_warn").ends_with(&open));
            assert!(line("tickets_resolved").ends_with(&resolved), "{resolved}");
        }
        // The workload triggers count the statuses routing counts, in every condition.
        let assigned_open = status_in_sql(&TicketStatus::ASSIGNED_OPEN);
        for triggers in [
            include_str!("../../migrations/sqlite/2026-12-01-001000_official_load/up.sql"),
            include_str!("../../migrations/postgres/2026-12-01-001000_official_load/up.sql"),
        ] {
            let lists = triggers.matches("status IN (").count();
            assert!(lists >= 3, "{lists}");
            assert_eq!(triggers.matches(assigned_open.as_str()).count(), lists);
        }
        assert_eq!(
            TicketStatus::OPEN.map(TicketStatus::as_str),
            [
                "submitted",
                "assigned",
                "in_progress",
                "awaiting_enterprise"
            ]
        );
    }
}
