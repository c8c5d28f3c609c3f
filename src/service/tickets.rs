//! The closed loop: filing and routing, actions, comments, the timeline, queues.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Actor, Principal, actor_from, load_actor};
use super::calendar::Deadlines;
use super::notify::{self, Notice};
use super::page::{self, Page};
use super::validate::Checks;
use super::views::ts;
use super::{AppState, idempotency, quota};
use crate::domain::ids::{
    CategoryId, CommentId, DepartmentId, EnterpriseId, EventId, TicketId, UserId,
};
use crate::domain::role::Role;
use crate::domain::sla::{self, Sla};
use crate::domain::throttle::Quota;
use crate::domain::ticket::{
    self, Action, ActorRelation, CommentKind, EventKind, Priority, Refusal, TicketStatus,
};
use crate::error::{AppError, AppResult, ProblemType};
use crate::store::db::DbConn;
use crate::store::departments;
use crate::store::tickets::{
    self as store, NewEvent, NewTicket, Scope, TicketChanges, TicketFilter, TicketRow,
};
use crate::store::users;

/// The orders a ticket list comes in.
pub use crate::store::tickets::SortKey;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TicketView {
    pub id: TicketId,
    /// Short and readable over the phone, e.g. `QF261125-0042`.
    pub reference: String,
    pub title: String,
    pub description: String,
    pub category_id: CategoryId,
    pub department_id: Option<DepartmentId>,
    pub assignee_id: Option<UserId>,
    pub enterprise_id: EnterpriseId,
    pub created_by: UserId,
    pub priority: Priority,
    pub status: TicketStatus,
    pub due_at: DateTime<Utc>,
    /// Open and past `due_at`.
    pub overdue: bool,
    /// Open with the clock running, past the warning time and not yet due.
    #[serde(default)]
    pub due_soon: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub resolution: Option<String>,
    #[schema(minimum = 1, maximum = 5)]
    pub rating: Option<i32>,
    pub feedback: Option<String>,
    /// Closed by the system after sitting resolved for `tickets.auto_close_days`.
    pub auto_closed: bool,
    pub reopen_count: i32,
    /// Increments on every change; send it back in `If-Match`.
    pub version: i32,
    /// Since when the ticket waits for the enterprise (`awaiting_enterprise`): the deadline
    /// stands still meanwhile and moves later when the enterprise answers.
    pub awaiting_since: Option<DateTime<Utc>>,
}

pub fn view(row: TicketRow, now: NaiveDateTime) -> TicketView {
    let status = row.status;
    TicketView {
        overdue: sla::is_overdue(status, row.due_at, now),
        due_soon: status.clock_runs() && row.warn_at.is_some_and(|w| w <= now) && row.due_at > now,
        priority: row.priority,
        status,
        id: row.id,
        reference: row.reference,
        title: row.title,
        description: row.description,
        category_id: row.category_id,
        department_id: row.department_id,
        assignee_id: row.assignee_id,
        enterprise_id: row.enterprise_id,
        created_by: row.created_by,
        due_at: ts(row.due_at),
        created_at: ts(row.created_at),
        updated_at: ts(row.updated_at),
        accepted_at: row.accepted_at.map(ts),
        resolved_at: row.resolved_at.map(ts),
        closed_at: row.closed_at.map(ts),
        cancelled_at: row.cancelled_at.map(ts),
        resolution: row.resolution,
        rating: row.rating,
        feedback: row.feedback,
        auto_closed: row.auto_closed,
        reopen_count: row.reopen_count,
        version: row.version,
        awaiting_since: row.awaiting_since.map(ts),
    }
}

pub(crate) fn can_see(actor: &Actor, t: &TicketRow) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::Enterprise => actor.enterprise_id.as_deref() == Some(t.enterprise_id.as_str()),
        Role::Official => {
            t.assignee_id.as_ref() == Some(&actor.id)
                || (actor.department_id.is_some() && actor.department_id == t.department_id)
        }
    }
}

/// The ticket if the actor may see it; out of scope looks exactly like absent.
pub(crate) fn ticket_in_scope(
    conn: &mut DbConn,
    actor: &Actor,
    id: &TicketId,
) -> AppResult<TicketRow> {
    store::find(conn, id)?
        .filter(|t| can_see(actor, t))
        .ok_or_else(|| AppError::not_found("ticket"))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreateTicket {
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(min_length = 1, max_length = 10000)]
    pub description: String,
    pub category_id: String,
    /// Default `normal`; `urgent` halves the deadline.
    pub priority: Option<Priority>,
}

/// The outcome of filing: a new ticket, or the stored answer to an earlier identical request.
pub enum Filed {
    New(Box<TicketView>),
    Replay {
        outcome: idempotency::Outcome,
        body: String,
    },
}

impl From<idempotency::Stored> for Filed {
    fn from(s: idempotency::Stored) -> Filed {
        Filed::Replay {
            outcome: s.outcome,
            body: s.body,
        }
    }
}

struct Routed {
    assignee: Option<UserId>,
}

/// Picks the least-loaded active official of the department and stamps the choice.
fn route(conn: &mut DbConn, department_id: &DepartmentId, now: NaiveDateTime) -> AppResult<Routed> {
    let assignee = store::claim_official(conn, department_id)?;
    if let Some(id) = &assignee {
        users::set_last_assigned(conn, id, now)?;
    }
    Ok(Routed { assignee })
}

/// The local day a reference is numbered in, as `yymmdd`.
fn reference_day(tz: chrono_tz::Tz, now: NaiveDateTime) -> String {
    ts(now)
        .with_timezone(&tz)
        .date_naive()
        .format("%y%m%d")
        .to_string()
}

/// What a filing takes from the settings, moved into its blocking unit.
struct FilingRules {
    now: NaiveDateTime,
    notifier: notify::Notifier,
    filings: Quota,
    deadlines: Deadlines,
    require_verification: bool,
}

/// Files a ticket. The day's reference number is reserved first (on PostgreSQL in its own
/// short commit, so concurrent filings do not queue on the day's counter; a failed filing
/// leaves a gap), then one transaction checks, routes, inserts, records and mails.
#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn create(
    state: &AppState,
    principal: Principal,
    req: CreateTicket,
    idempotency_key: Option<String>,
) -> AppResult<Filed> {
    let now = state.clock.now();
    let keep = Duration::hours(state.settings.tickets.idempotency_hours);
    let mut checks = Checks::new();
    let key = idempotency::Key::of(idempotency_key, &req, &mut checks, now, keep);
    let rules = FilingRules {
        now,
        notifier: state.notifier.clone(),
        filings: quota::filings_per_user(&state.settings.limits),
        deadlines: Deadlines::of(&state.settings),
        require_verification: state.settings.auth.require_email_verification,
    };
    let day = reference_day(rules.notifier.tz, now);
    let attempt = {
        let (principal, key) = (principal.clone(), key.clone());
        state
            .db
            .write_reserving(
                move |conn| Ok(store::next_reference_number(conn, &day)?),
                move |conn, n| file(conn, &rules, &principal, req, checks, key, n),
            )
            .await
    };
    match (attempt, key) {
        // A concurrent request with the same key committed first: answer as it did.
        (Err(e), Some(key)) if e.kind() == ProblemType::Duplicate => {
            state
                .db
                .read(move |conn| {
                    let actor = load_actor(conn, &principal)?;
                    key.replay_after_race(conn, &actor.id).map(Filed::from)
                })
                .await
        }
        (other, _) => other,
    }
}

/// The filing transaction; `number` is the reserved reference number of the day.
fn file(
    conn: &mut DbConn,
    rules: &FilingRules,
    principal: &Principal,
    req: CreateTicket,
    mut checks: Checks,
    key: Option<idempotency::Key>,
    number: i64,
) -> AppResult<Filed> {
    let now = rules.now;
    let actor = load_actor(conn, principal)?;
    actor.require(&[Role::Enterprise])?;
    super::accounts::may_file(&actor, rules.require_verification)?;
    let priority = req.priority.unwrap_or_default();
    let title = checks.text("title", &req.title, 1, 200);
    let description = checks.prose("description", &req.description, 1, 10_000);
    checks.done()?;
    if let Some(key) = &key
        && let Some(stored) = key.replay(conn, &actor.id)?
    {
        return Ok(stored.into());
    }
    quota::enforce(
        conn,
        &format!("file:{}", actor.id),
        &rules.filings,
        now,
        "filings",
    )?;
    let enterprise_id = actor
        .enterprise_id
        .clone()
        .ok_or_else(|| anyhow::anyhow!("enterprise user without enterprise"))?;
    let category = departments::find_category(conn, &req.category_id)?
        .filter(|c| c.active)
        .ok_or_else(|| AppError::validation("category_id", "no active category has this id"))?;
    let department_id = DepartmentId::from(category.department_id.as_str());
    let routed = route(conn, &department_id, now)?;
    let sla = Sla::of_category(category.sla_hours, category.sla_working_days);
    let due_at = rules.deadlines.due_at(conn, sla, now, priority)?;
    let reference = format!("QF{}-{number:04}", reference_day(rules.notifier.tz, now));
    let status = if routed.assignee.is_some() {
        TicketStatus::Assigned
    } else {
        TicketStatus::Submitted
    };
    let ticket = store::insert(
        conn,
        &NewTicket {
            search_text: store::search_text(&reference, &title, &description),
            id: TicketId::generate(),
            reference,
            title,
            description,
            category_id: category.id.into(),
            department_id: Some(department_id),
            assignee_id: routed.assignee.clone(),
            enterprise_id,
            created_by: actor.id.clone(),
            priority,
            status,
            due_at,
            warn_at: Some(rules.deadlines.warn_at(now, due_at)),
            created_at: now,
            updated_at: now,
        },
    )?;
    announce_filing(conn, &rules.notifier, &actor, &ticket, now)?;
    let view = view(ticket, now);
    if let Some(key) = key {
        key.remember(conn, &actor.id, idempotency::Outcome::Created, &view, now)?;
    }
    Ok(Filed::New(Box::new(view)))
}

/// The timeline and mail of a new ticket: created, then assigned when routing found someone;
/// an unrouted ticket is announced to the admins instead.
fn announce_filing(
    conn: &mut DbConn,
    notifier: &notify::Notifier,
    filer: &Actor,
    ticket: &TicketRow,
    now: NaiveDateTime,
) -> AppResult<()> {
    let id = &ticket.id;
    store::insert_event(
        conn,
        &status_event(
            id,
            EventKind::Created,
            None,
            TicketStatus::Submitted,
            Some(&filer.id),
        ),
        now,
    )?;
    if ticket.assignee_id.is_some() {
        store::insert_event(
            conn,
            &status_event(
                id,
                EventKind::Assigned,
                Some(TicketStatus::Submitted),
                TicketStatus::Assigned,
                None,
            ),
            now,
        )?;
        notify::send(
            conn,
            notifier,
            &Notice::new(EventKind::Assigned, ticket, None, None),
            now,
        )
    } else {
        notify::send(
            conn,
            notifier,
            &Notice::new(EventKind::Created, ticket, Some(&filer.id), None),
            now,
        )?;
        notify::unrouted(conn, notifier, ticket, now)
    }
}

fn status_event<'a>(
    ticket_id: &'a TicketId,
    kind: EventKind,
    from: Option<TicketStatus>,
    to: TicketStatus,
    actor_id: Option<&'a UserId>,
) -> NewEvent<'a> {
    NewEvent {
        ticket_id,
        kind,
        actor_id,
        from_status: from,
        to_status: Some(to),
        note: None,
        internal: false,
    }
}

/// Names and roles of the people on a ticket's timeline and messages, for a caller who may read
/// it, so a page can say "you", "a colleague" or "the department" without more lookups (and
/// without naming people the caller could not otherwise learn of).
#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, ticket_id = %id))]
pub async fn participants(
    state: &AppState,
    principal: Principal,
    id: TicketId,
) -> AppResult<std::collections::HashMap<String, (String, Role)>> {
    state
        .db
        .read(move |conn| {
            let actor = load_actor(conn, &principal)?;
            ticket_in_scope(conn, &actor, &id)?;
            Ok(store::participants(conn, &id)?
                .into_iter()
                .map(|(id, name, role)| (String::from(id), (name, role)))
                .collect())
        })
        .await
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, ticket_id = %id))]
pub async fn get(state: &AppState, principal: Principal, id: TicketId) -> AppResult<TicketView> {
    let now = state.clock.now();
    state
        .db
        .read(move |conn| {
            let (row, ticket) = match users::find_actor_with_ticket(
                conn,
                &principal.user_id,
                &principal.session_id,
                Some(&id),
            )? {
                Some((row, ticket)) => (Some(row), ticket),
                None => (None, None),
            };
            let actor = actor_from(row, &principal)?;
            let ticket = ticket
                .filter(|t| can_see(&actor, t))
                .ok_or_else(|| AppError::not_found("ticket"))?;
            Ok(view(ticket, now))
        })
        .await
}

/// One body for every action; each action reads the fields it needs.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ActionRequest {
    /// assign: the department to route to.
    pub department_id: Option<String>,
    /// assign: a specific official (default: the least loaded one).
    pub assignee_id: Option<String>,
    /// Required for return, reopen, close, request_info (what is needed) and provide_info;
    /// optional for assign and cancel.
    #[schema(max_length = 5000)]
    pub note: Option<String>,
    /// Required for resolve.
    #[schema(max_length = 10000)]
    pub resolution: Option<String>,
    /// Required for confirm: 1 to 5.
    #[schema(minimum = 1, maximum = 5)]
    pub rating: Option<i64>,
    /// confirm: optional words to go with the rating.
    #[schema(max_length = 5000)]
    pub feedback: Option<String>,
}

struct Checked {
    note: Option<String>,
    resolution: Option<String>,
    rating: Option<i32>,
    feedback: Option<String>,
}

fn check_body(action: Action, req: &ActionRequest) -> AppResult<Checked> {
    let mut checks = Checks::new();
    let note_required = matches!(
        action,
        Action::Return | Action::Reopen | Action::Close | Action::RequestInfo | Action::ProvideInfo
    );
    let note = match (&req.note, note_required) {
        (Some(n), true) => Some(checks.prose("note", n, 1, 5000)),
        (None, true) => {
            checks.fail("note", "is required for this action");
            None
        }
        (n, false) => checks.optional_prose("note", n.as_deref(), 5000),
    };
    let resolution = match (action, &req.resolution) {
        (Action::Resolve, Some(r)) => Some(checks.prose("resolution", r, 1, 10_000)),
        (Action::Resolve, None) => {
            checks.fail("resolution", "is required to resolve");
            None
        }
        _ => None,
    };
    let (rating, feedback) = if action == Action::Confirm {
        let rating = match req.rating {
            Some(r) if (1..=5).contains(&r) => Some(r as i32),
            Some(_) => {
                checks.fail("rating", "must be 1 to 5");
                None
            }
            None => {
                checks.fail("rating", "is required to confirm");
                None
            }
        };
        (
            rating,
            checks.optional_prose("feedback", req.feedback.as_deref(), 5000),
        )
    } else {
        (None, None)
    };
    if action == Action::Assign
        && req
            .department_id
            .as_deref()
            .is_none_or(|d| d.trim().is_empty())
    {
        checks.fail("department_id", "is required to assign");
    }
    checks.done()?;
    Ok(Checked {
        note,
        resolution,
        rating,
        feedback,
    })
}

/// `If-Match: "3"` (quotes tolerated; `*` matches any version). Comparison is strong (RFC
/// 9110 13.1.1): a weak validator such as `W/"3"` never matches.
pub(crate) fn check_if_match(if_match: Option<&str>, version: i32) -> AppResult<()> {
    let Some(raw) = if_match else { return Ok(()) };
    let matches = raw.split(',').map(str::trim).any(|tag| {
        tag == "*"
            || !tag.starts_with("W/")
                && tag
                    .trim_matches('"')
                    .parse::<i32>()
                    .is_ok_and(|v| v == version)
    });
    if matches {
        Ok(())
    } else {
        Err(AppError::new(
            ProblemType::PreconditionFailed,
            format!("the ticket is at version {version}; reload it and try again"),
        ))
    }
}

/// The changes that end a wait for the enterprise: the clock runs again, `due_at` moved later
/// by the time it stood still, and a deadline now in the future may be overdue again later.
fn resume_changes(
    conn: &mut DbConn,
    deadlines: &Deadlines,
    t: &TicketRow,
    now: NaiveDateTime,
) -> AppResult<TicketChanges> {
    let category = departments::find_category(conn, &t.category_id)?
        .ok_or_else(|| anyhow::anyhow!("ticket without category"))?;
    let sla = Sla::of_category(category.sla_hours, category.sla_working_days);
    let paused_at = t.awaiting_since.unwrap_or(now);
    let due_at = deadlines.resumed(conn, sla, t.due_at, paused_at, now)?;
    Ok(TicketChanges {
        due_at: Some(due_at),
        warn_at: Some(Some(deadlines.warn_at(t.created_at, due_at))),
        awaiting_since: Some(None),
        overdue_at: (due_at > now).then_some(None),
        ..TicketChanges::default()
    })
}

fn relation_to(actor: &Actor, t: &TicketRow) -> ActorRelation {
    ActorRelation {
        role: actor.role,
        is_assignee: t.assignee_id.as_deref() == Some(actor.id.as_str()),
        is_filing_enterprise: actor.role == Role::Enterprise
            && actor.enterprise_id.as_deref() == Some(t.enterprise_id.as_str()),
    }
}

fn refusal(r: Refusal) -> AppError {
    match r {
        Refusal::NotAllowedFromStatus { .. } => {
            AppError::new(ProblemType::InvalidTransition, r.to_string())
        }
        Refusal::NotPermitted { .. } => AppError::new(ProblemType::WrongActor, r.to_string()),
    }
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, ticket_id = %id, action = %action.as_str()))]
pub async fn act(
    state: &AppState,
    principal: Principal,
    id: TicketId,
    action: Action,
    req: ActionRequest,
    if_match: Option<String>,
) -> AppResult<TicketView> {
    let now = state.clock.now();
    let notifier = state.notifier.clone();
    let deadlines = Deadlines::of(&state.settings);
    state
        .db
        .write(move |conn| {
            let actor = load_actor(conn, &principal)?;
            let t = ticket_in_scope(conn, &actor, &id)?;
            check_if_match(if_match.as_deref(), t.version)?;
            let status = t.status;
            let relation = relation_to(&actor, &t);
            let transition = ticket::decide(status, action, relation).map_err(refusal)?;
            let body = check_body(action, &req)?;
            let mut changes = if action == Action::ProvideInfo {
                resume_changes(conn, &deadlines, &t, now)?
            } else {
                TicketChanges::default()
            };
            changes.status = Some(transition.to);
            changes.updated_at = Some(now);
            let note = change_for(conn, action, &t, &req, &body, &mut changes, now)?;
            let updated = store::update_if_version(conn, &t.id, t.version, &changes)?
                .ok_or_else(changed_meanwhile)?;
            store::insert_event(
                conn,
                &NewEvent {
                    ticket_id: &t.id,
                    kind: transition.event,
                    actor_id: Some(&actor.id),
                    from_status: Some(transition.from),
                    to_status: Some(transition.to),
                    note: note.as_deref(),
                    internal: false,
                },
                now,
            )?;
            notify::send(
                conn,
                &notifier,
                &Notice::new(transition.event, &updated, Some(&actor.id), note.as_deref()),
                now,
            )?;
            if action == Action::Return {
                notify::unrouted(conn, &notifier, &updated, now)?;
            }
            Ok(view(updated, now))
        })
        .await
}

/// Another change won the race for this version of the ticket.
fn changed_meanwhile() -> AppError {
    AppError::new(
        ProblemType::VersionMismatch,
        "the ticket was changed by someone else; reload it",
    )
}

/// The columns `action` changes beyond the status, and the note its event carries.
fn change_for(
    conn: &mut DbConn,
    action: Action,
    t: &TicketRow,
    req: &ActionRequest,
    body: &Checked,
    changes: &mut TicketChanges,
    now: NaiveDateTime,
) -> AppResult<Option<String>> {
    let mut note = body.note.clone();
    match action {
        Action::Assign => {
            let (department_id, assignee) = assignment(conn, req, now)?;
            changes.department_id = Some(Some(department_id));
            changes.assignee_id = Some(Some(assignee));
        }
        Action::Accept => {
            if t.accepted_at.is_none() {
                changes.accepted_at = Some(Some(now));
            }
        }
        Action::Return => changes.assignee_id = Some(None),
        Action::Resolve => {
            changes.resolved_at = Some(Some(now));
            changes.resolution = Some(body.resolution.clone());
            note = body.resolution.clone();
        }
        Action::Confirm => {
            changes.closed_at = Some(Some(now));
            changes.rating = Some(body.rating);
            changes.feedback = Some(body.feedback.clone());
            note = body.feedback.clone();
        }
        Action::Reopen => {
            changes.reopen_count = Some(t.reopen_count + 1);
            changes.resolved_at = Some(None);
            changes.resolution = Some(None);
        }
        Action::Cancel => {
            changes.cancelled_at = Some(Some(now));
            changes.awaiting_since = Some(None);
        }
        Action::Close => changes.closed_at = Some(Some(now)),
        Action::RequestInfo => changes.awaiting_since = Some(Some(now)),
        // The clock's changes were made before the status changed.
        Action::ProvideInfo => {}
    }
    Ok(note)
}

/// Where `assign` sends the ticket: an active department, and the named official if they are
/// an active official of it, else the one routing chooses.
fn assignment(
    conn: &mut DbConn,
    req: &ActionRequest,
    now: NaiveDateTime,
) -> AppResult<(DepartmentId, UserId)> {
    let department_id = req.department_id.clone().unwrap_or_default();
    match departments::find_department(conn, &department_id)? {
        Some(d) if d.active => {}
        _ => {
            return Err(AppError::validation(
                "department_id",
                "no active department has this id",
            ));
        }
    }
    let assignee = match &req.assignee_id {
        Some(a) => {
            match users::find(conn, a)? {
                Some(u)
                    if u.active
                        && u.role == Role::Official
                        && u.department_id.as_deref() == Some(&department_id) => {}
                _ => {
                    return Err(AppError::validation(
                        "assignee_id",
                        "must be an active official of the department",
                    ));
                }
            }
            users::set_last_assigned(conn, a, now)?;
            UserId::from(a.as_str())
        }
        None => route(conn, &DepartmentId::from(department_id.as_str()), now)?
            .assignee
            .ok_or_else(|| {
                AppError::validation(
                    "department_id",
                    "the department has no active official; name an assignee",
                )
            })?,
    };
    Ok((department_id.into(), assignee))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: EventId,
    pub kind: EventKind,
    pub actor_id: Option<UserId>,
    pub from_status: Option<TicketStatus>,
    pub to_status: Option<TicketStatus>,
    pub note: Option<String>,
    /// Staff-only entries (internal notes, work records); never shown to enterprises.
    pub internal: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, ticket_id = %id))]
pub async fn events(
    state: &AppState,
    principal: Principal,
    id: TicketId,
    q: TimelineQuery,
) -> AppResult<Page<EventView>> {
    let limit = page::limit(q.limit)?;
    let after = page::decode::<(NaiveDateTime, String)>(q.cursor.as_deref())?;
    state
        .db
        .read(move |conn| {
            let actor = load_actor(conn, &principal)?;
            let t = ticket_in_scope(conn, &actor, &id)?;
            let rows = store::list_events(conn, &t.id, actor.is_staff(), after.clone(), limit + 1)?;
            Ok(page::paginate(
                rows,
                limit,
                |e| (e.created_at, e.id.to_string()),
                |e| EventView {
                    note: e
                        .note
                        .filter(|_| actor.is_staff() || !e.kind.note_is_internal()),
                    id: e.id,
                    kind: e.kind,
                    actor_id: e.actor_id,
                    from_status: e.from_status,
                    to_status: e.to_status,
                    internal: e.internal,
                    created_at: ts(e.created_at),
                },
            ))
        })
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewComment {
    #[schema(min_length = 1, max_length = 10000)]
    pub body: String,
    /// `message` (default; the enterprise sees it) or, for staff, `internal_note`,
    /// `phone_call`, `site_visit`.
    pub kind: Option<CommentKind>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentView {
    pub id: CommentId,
    pub ticket_id: TicketId,
    pub author_id: UserId,
    pub kind: CommentKind,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

fn comment_view(c: store::CommentRow) -> CommentView {
    CommentView {
        kind: c.kind,
        id: c.id,
        ticket_id: c.ticket_id,
        author_id: c.author_id,
        body: c.body,
        created_at: ts(c.created_at),
    }
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, ticket_id = %id))]
pub async fn comment(
    state: &AppState,
    principal: Principal,
    id: TicketId,
    req: NewComment,
) -> AppResult<CommentView> {
    let kind = req.kind.unwrap_or(CommentKind::Message);
    let now = state.clock.now();
    let notifier = state.notifier.clone();
    let deadlines = Deadlines::of(&state.settings);
    state
        .db
        .write(move |conn| {
            let actor = load_actor(conn, &principal)?;
            let t = ticket_in_scope(conn, &actor, &id)?;
            if !kind.allowed_for(actor.role) {
                return Err(AppError::new(
                    ProblemType::StaffOnlyCommentKind,
                    "enterprise users may only post messages",
                ));
            }
            if actor.role == Role::Enterprise && t.status.is_terminal() {
                return Err(AppError::new(
                    ProblemType::TicketClosed,
                    "the ticket is closed or cancelled; file a new one",
                ));
            }
            let mut checks = Checks::new();
            let body = checks.prose("body", &req.body, 1, 10_000);
            checks.done()?;
            let row = store::insert_comment(conn, &t.id, &actor.id, kind, &body, now)?;
            store::insert_event(
                conn,
                &NewEvent {
                    ticket_id: &t.id,
                    kind: EventKind::Comment,
                    actor_id: Some(&actor.id),
                    from_status: None,
                    to_status: None,
                    note: Some(&format!(
                        "{}: {}",
                        kind.as_str(),
                        body.chars().take(500).collect::<String>()
                    )),
                    internal: kind.is_internal(),
                },
                now,
            )?;
            // The enterprise's message answers a request for information: the ticket goes
            // back to work, and the assignee hears of it once (as the answer).
            let answers = kind == CommentKind::Message
                && t.status == TicketStatus::AwaitingEnterprise
                && ticket::decide(
                    TicketStatus::AwaitingEnterprise,
                    Action::ProvideInfo,
                    relation_to(&actor, &t),
                )
                .is_ok();
            if answers {
                resume_with_answer(conn, &notifier, &deadlines, &actor, &t, &body, now)?;
            } else if !kind.is_internal() {
                notify::comment(conn, &notifier, &t, &actor, &body, now)?;
            }
            Ok(comment_view(row))
        })
        .await
}

/// The enterprise's message answered the request for information: the ticket goes back to
/// work (its clock resumes), the timeline says so, and the assignee hears of it once.
fn resume_with_answer(
    conn: &mut DbConn,
    notifier: &notify::Notifier,
    deadlines: &Deadlines,
    actor: &Actor,
    t: &TicketRow,
    body: &str,
    now: NaiveDateTime,
) -> AppResult<()> {
    let mut changes = resume_changes(conn, deadlines, t, now)?;
    changes.status = Some(TicketStatus::InProgress);
    changes.updated_at = Some(now);
    let updated = store::update_if_version(conn, &t.id, t.version, &changes)?
        .ok_or_else(changed_meanwhile)?;
    store::insert_event(
        conn,
        &NewEvent {
            ticket_id: &t.id,
            kind: EventKind::InfoProvided,
            actor_id: Some(&actor.id),
            from_status: Some(TicketStatus::AwaitingEnterprise),
            to_status: Some(TicketStatus::InProgress),
            note: Some(body),
            internal: false,
        },
        now,
    )?;
    notify::send(
        conn,
        notifier,
        &Notice::new(
            EventKind::InfoProvided,
            &updated,
            Some(&actor.id),
            Some(body),
        ),
        now,
    )
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, ticket_id = %id))]
pub async fn comments(
    state: &AppState,
    principal: Principal,
    id: TicketId,
    q: TimelineQuery,
) -> AppResult<Page<CommentView>> {
    let limit = page::limit(q.limit)?;
    let after = page::decode::<(NaiveDateTime, String)>(q.cursor.as_deref())?;
    state
        .db
        .read(move |conn| {
            let actor = load_actor(conn, &principal)?;
            let t = ticket_in_scope(conn, &actor, &id)?;
            let only = (!actor.is_staff()).then_some(CommentKind::Message);
            let rows = store::list_comments(conn, &t.id, only, after.clone(), limit + 1)?;
            Ok(page::paginate(
                rows,
                limit,
                |c| (c.created_at, c.id.to_string()),
                comment_view,
            ))
        })
        .await
}

/// The queue filters of `GET /tickets`, documented here; the http layer parses the raw query
/// string into a [`ListFilter`] because `status` may repeat.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketQuery {
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// Repeatable, or a comma list: submitted, assigned, in_progress, awaiting_enterprise,
    /// resolved, closed, cancelled.
    pub status: Option<String>,
    pub category_id: Option<String>,
    pub department_id: Option<String>,
    /// An official's id, or `me`.
    pub assignee_id: Option<String>,
    pub enterprise_id: Option<String>,
    pub priority: Option<Priority>,
    pub overdue: Option<bool>,
    /// Open with the clock running, past the warning time (`tickets.warn_at_fraction` of the
    /// time allowed) and not yet due.
    pub due_soon: Option<bool>,
    /// Part of the reference, title or description (case-insensitive for Latin letters).
    pub q: Option<String>,
    /// A date (`2026-11-01`, local time zone) or an RFC 3339 timestamp; inclusive.
    pub created_from: Option<String>,
    /// A date (inclusive: the whole day) or an RFC 3339 timestamp (exclusive).
    pub created_to: Option<String>,
    /// created_at, -created_at (default), due_at, -due_at, updated_at, -updated_at
    pub sort: Option<String>,
}

/// `GET /tickets`' filters, sort and page, parsed and checked: the http layer reads them from
/// the query string (`http::filters::ticket_list`), where the console's forms go too.
#[derive(Debug, Clone)]
pub struct ListFilter {
    pub statuses: Vec<TicketStatus>,
    pub category_id: Option<CategoryId>,
    pub department_id: Option<DepartmentId>,
    /// An official's id, or `me`.
    pub assignee_id: Option<String>,
    pub enterprise_id: Option<EnterpriseId>,
    pub priority: Option<Priority>,
    pub overdue: Option<bool>,
    pub due_soon: bool,
    /// Trimmed and lower-cased, never empty.
    pub q: Option<String>,
    pub created_from: Option<NaiveDateTime>,
    pub created_to: Option<NaiveDateTime>,
    pub sort: SortKey,
    pub descending: bool,
    pub limit: i64,
    /// The keyset cursor: the last row's sort value and id.
    pub after: Option<(NaiveDateTime, String)>,
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn list(
    state: &AppState,
    principal: Principal,
    filter: ListFilter,
) -> AppResult<Page<TicketView>> {
    list_narrowed(state, principal, filter, |_, _| Ok(())).await
}

/// Whose tickets the actor may see.
pub(crate) fn scope_of(actor: &Actor) -> Scope {
    match actor.role {
        Role::Admin => Scope::All,
        Role::Enterprise => Scope::Enterprise(
            actor
                .enterprise_id
                .clone()
                .unwrap_or_else(|| EnterpriseId::from("")),
        ),
        Role::Official => Scope::Official {
            department_id: actor.department_id.clone(),
            user_id: actor.id.clone(),
        },
    }
}

/// `list`, with the filter narrowed further once the caller is known (the console's queue
/// views), in the same transaction.
pub(crate) async fn list_narrowed<F>(
    state: &AppState,
    principal: Principal,
    q: ListFilter,
    narrow: F,
) -> AppResult<Page<TicketView>>
where
    F: Fn(&Actor, &mut TicketFilter) -> AppResult<()> + Send + 'static,
{
    let now = state.clock.now();
    let (sort, descending, limit) = (q.sort, q.descending, q.limit);
    state
        .db
        .read(move |conn| {
            let actor = load_actor(conn, &principal)?;
            let assignee_id = q.assignee_id.as_ref().map(|a| {
                if a == "me" {
                    actor.id.clone()
                } else {
                    UserId::from(a.as_str())
                }
            });
            let mut filter = TicketFilter {
                statuses: q.statuses.clone(),
                category_id: q.category_id.clone(),
                department_id: q.department_id.clone(),
                assignee_id,
                enterprise_id: q.enterprise_id.clone(),
                priority: q.priority,
                overdue: q.overdue,
                due_soon: q.due_soon,
                q: q.q.clone(),
                created_from: q.created_from,
                created_to: q.created_to,
                ..TicketFilter::new(scope_of(&actor), now)
            };
            narrow(&actor, &mut filter)?;
            let rows = store::list(conn, &filter, sort, descending, q.after.clone(), limit + 1)?;
            Ok(page::paginate(
                rows,
                limit,
                |t| (store::sort_value(t, sort), t.id.to_string()),
                |t| view(t, now),
            ))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_forms() {
        assert!(check_if_match(None, 3).is_ok());
        assert!(check_if_match(Some("\"3\""), 3).is_ok());
        assert!(check_if_match(Some("W/\"3\""), 3).is_err());
        assert!(check_if_match(Some("*"), 3).is_ok());
        assert!(check_if_match(Some("\"1\", \"3\""), 3).is_ok());
        assert!(matches!(
            check_if_match(Some("\"2\""), 3),
            Err(AppError::Problem {
                kind: ProblemType::PreconditionFailed,
                ..
            })
        ));
        assert!(check_if_match(Some("garbage"), 3).is_err());
    }

    #[test]
    fn bodies_per_action() {
        let empty = ActionRequest::default();
        for action in [
            Action::Return,
            Action::Reopen,
            Action::Close,
            Action::Resolve,
            Action::Confirm,
            Action::Assign,
        ] {
            assert!(check_body(action, &empty).is_err(), "{action}");
        }
        for action in [Action::Accept, Action::Cancel] {
            assert!(check_body(action, &empty).is_ok(), "{action}");
        }
        let rating = |r| ActionRequest {
            rating: Some(r),
            ..Default::default()
        };
        assert!(check_body(Action::Confirm, &rating(0)).is_err());
        assert!(check_body(Action::Confirm, &rating(6)).is_err());
        assert_eq!(
            check_body(Action::Confirm, &rating(5)).unwrap().rating,
            Some(5)
        );
    }
}
