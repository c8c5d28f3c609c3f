//! Extensions (延期): the assignee asks for more working days, an admin decides.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::auth::{Actor, Principal, load_actor};
use super::calendar::Deadlines;
use super::notify::{self, Notice};
use super::page::{self, Page};
use super::tickets::{TimelineQuery, check_if_match, ticket_in_scope};
use super::validate::Checks;
use super::views::ts;
use crate::domain::ids::{ExtensionId, TicketId, UserId};
use crate::domain::role::Role;
use crate::domain::ticket::{EXTENSION_DAYS, EventKind, ExtensionStatus, TicketStatus};
use crate::error::{AppError, AppResult, ProblemType};
use crate::store::db::DbConn;
use crate::store::extensions::{self as store, ExtensionRow, NewExtension};
use crate::store::tickets::{self, NewEvent, TicketChanges, TicketRow};

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewExtensionRequest {
    /// Working days to add to `due_at`.
    #[schema(minimum = 1, maximum = 30)]
    pub working_days: i64,
    /// Why the work needs longer.
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Decision {
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExtensionView {
    pub id: ExtensionId,
    pub ticket_id: TicketId,
    pub working_days: i32,
    pub reason: String,
    pub status: ExtensionStatus,
    pub requested_by: UserId,
    pub decided_by: Option<UserId>,
    pub decision_note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

fn view(r: ExtensionRow) -> ExtensionView {
    ExtensionView {
        id: r.id,
        ticket_id: r.ticket_id,
        working_days: r.working_days,
        reason: r.reason,
        status: r.status,
        requested_by: r.requested_by,
        decided_by: r.decided_by,
        decision_note: r.decision_note,
        created_at: ts(r.created_at),
        decided_at: r.decided_at.map(ts),
    }
}

fn open_status(t: &TicketRow) -> AppResult<TicketStatus> {
    let status = t.status;
    if status.is_open() {
        Ok(status)
    } else {
        Err(AppError::new(
            ProblemType::InvalidTransition,
            format!("the ticket is {status}; only open tickets are extended"),
        ))
    }
}

/// Extension events of staff concern (a request, a refusal) stay off the enterprise's
/// timeline; an approval moves the deadline the enterprise sees.
fn event(
    conn: &mut DbConn,
    t: &TicketRow,
    kind: EventKind,
    actor: &Actor,
    note: &str,
    now: NaiveDateTime,
) -> AppResult<()> {
    Ok(tickets::insert_event(
        conn,
        &NewEvent {
            ticket_id: &t.id,
            kind,
            actor_id: Some(&actor.id),
            from_status: None,
            to_status: None,
            note: Some(note),
            internal: kind != EventKind::ExtensionApproved,
        },
        now,
    )?)
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, ticket_id = %ticket_id))]
pub async fn request(
    state: &AppState,
    principal: Principal,
    ticket_id: TicketId,
    req: NewExtensionRequest,
    if_match: Option<String>,
) -> AppResult<ExtensionView> {
    let now = state.clock.now();
    let notifier = state.notifier.clone();
    let mut checks = Checks::new();
    if !EXTENSION_DAYS.contains(&req.working_days) {
        checks.fail("working_days", "must be 1 to 30 working days");
    }
    let reason = checks.text("reason", &req.reason, 1, 2000);
    checks.done()?;
    let days = req.working_days as i32;
    state
        .db
        .write(move |conn| {
            let actor = load_actor(conn, &principal)?;
            let t = ticket_in_scope(conn, &actor, &ticket_id)?;
            check_if_match(if_match.as_deref(), t.version)?;
            if t.assignee_id.as_deref() != Some(actor.id.as_str()) {
                return Err(AppError::new(
                    ProblemType::WrongActor,
                    "only the ticket's assignee asks for an extension",
                ));
            }
            open_status(&t)?;
            let pending = || {
                AppError::new(
                    ProblemType::ExtensionPending,
                    "an extension request of this ticket waits for a decision",
                )
            };
            if store::has_pending(conn, &t.id)? {
                return Err(pending());
            }
            // The partial unique index settles a race between two requests.
            let row = store::insert(
                conn,
                &NewExtension {
                    ticket_id: &t.id,
                    working_days: days,
                    reason: &reason,
                    requested_by: &actor.id,
                },
                now,
            )
            .map_err(|e| match AppError::from(e) {
                e if e.kind() == ProblemType::Duplicate => pending(),
                e => e,
            })?;
            event(
                conn,
                &t,
                EventKind::ExtensionRequested,
                &actor,
                &format!("+{days} working days: {reason}"),
                now,
            )?;
            notify::send(
                conn,
                &notifier,
                &Notice::new(
                    EventKind::ExtensionRequested,
                    &t,
                    Some(&actor.id),
                    Some(&reason),
                ),
                now,
            )?;
            Ok(view(row))
        })
        .await
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, ticket_id = %ticket_id))]
pub async fn list(
    state: &AppState,
    principal: Principal,
    ticket_id: TicketId,
    q: TimelineQuery,
) -> AppResult<Page<ExtensionView>> {
    let limit = page::limit(q.limit)?;
    let after = page::decode::<(NaiveDateTime, String)>(q.cursor.as_deref())?;
    state
        .db
        .read(move |conn| {
            let actor = load_actor(conn, &principal)?;
            let t = ticket_in_scope(conn, &actor, &ticket_id)?;
            let only = (actor.role == Role::Enterprise).then_some(ExtensionStatus::Approved);
            let rows = store::list(conn, &t.id, only, after.clone(), limit + 1)?;
            Ok(page::paginate(
                rows,
                limit,
                |r| (r.created_at, r.id.to_string()),
                view,
            ))
        })
        .await
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, ticket_id = %ticket_id, extension_id = %extension_id))]
pub async fn decide(
    state: &AppState,
    principal: Principal,
    ticket_id: TicketId,
    extension_id: ExtensionId,
    approve: bool,
    req: Decision,
    if_match: Option<String>,
) -> AppResult<ExtensionView> {
    let now = state.clock.now();
    let notifier = state.notifier.clone();
    let deadlines = Deadlines::of(&state.settings);
    let mut checks = Checks::new();
    let note = checks.optional_text("note", req.note.as_deref(), 2000);
    checks.done()?;
    state
        .db
        .write(move |conn| {
            let actor = load_actor(conn, &principal)?;
            actor.require(&[Role::Admin])?;
            let t = ticket_in_scope(conn, &actor, &ticket_id)?;
            check_if_match(if_match.as_deref(), t.version)?;
            let ext = store::find(conn, &t.id, &extension_id)?
                .ok_or_else(|| AppError::not_found("extension"))?;
            let decided = || {
                AppError::new(
                    ProblemType::ExtensionDecided,
                    "this extension request was decided already",
                )
            };
            if ext.status != ExtensionStatus::Pending {
                return Err(decided());
            }
            let status = if approve {
                open_status(&t)?;
                ExtensionStatus::Approved
            } else {
                ExtensionStatus::Rejected
            };
            if !store::decide(conn, &ext.id, status, &actor.id, note.as_deref(), now)? {
                return Err(decided());
            }
            let kind = if approve {
                let days = ext.working_days.unsigned_abs();
                let due_at = deadlines.extended(conn, t.due_at, days)?;
                let changes = TicketChanges {
                    due_at: Some(due_at),
                    warn_at: Some(Some(deadlines.warn_at(t.created_at, due_at))),
                    overdue_at: (due_at > now).then_some(None),
                    updated_at: Some(now),
                    ..TicketChanges::default()
                };
                if tickets::update_if_version(conn, &t.id, t.version, &changes)?.is_none() {
                    return Err(AppError::new(
                        ProblemType::VersionMismatch,
                        "the ticket was changed meanwhile; try again",
                    ));
                }
                EventKind::ExtensionApproved
            } else {
                EventKind::ExtensionRejected
            };
            let updated =
                tickets::find(conn, &t.id)?.ok_or_else(|| anyhow::anyhow!("ticket vanished"))?;
            let text = match &note {
                Some(n) => format!("+{} working days: {n}", ext.working_days),
                None => format!("+{} working days", ext.working_days),
            };
            event(conn, &updated, kind, &actor, &text, now)?;
            notify::send(
                conn,
                &notifier,
                &Notice::new(kind, &updated, Some(&actor.id), note.as_deref()),
                now,
            )?;
            let row = store::find(conn, &t.id, &ext.id)?
                .ok_or_else(|| anyhow::anyhow!("extension vanished"))?;
            Ok(view(row))
        })
        .await
}
