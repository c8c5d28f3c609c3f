//! Background sweeps, every `jobs.interval_seconds`: deadline warnings, overdue tickets,
//! escalation, auto-close, expired idempotency keys, sent mail past its retention, and stored
//! attachment files that no row references.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::watch;

use chrono::{Duration, NaiveDateTime};

use crate::domain::ticket::{self, EventKind};
use crate::error::AppResult;
use crate::service::AppState;
use crate::service::notify::{self, Notice, Notifier};
use crate::service::views::ts;
use crate::store::db::DbConn;
use crate::store::outbox;
use crate::store::tickets::{self, DeadlineNotice, NewEvent, TicketChanges, TicketRow};

pub async fn run(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    let interval = std::time::Duration::from_secs(state.settings.jobs.interval_seconds);
    loop {
        if let Err(e) = sweep(&state).await {
            tracing::warn!(error = %e, "background sweep failed; will retry");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            changed = stop.changed() => if changed.is_err() { break },
        }
        if *stop.borrow() {
            break;
        }
    }
    tracing::info!("background sweeps stopped");
}

/// One pass of every sweep; safe to run on several instances at once: each ticket's change is
/// a conditional update, so when two instances race for it exactly one wins and records it.
pub async fn sweep(state: &AppState) -> AppResult<SweepReport> {
    let escalation = DeadlineNotice::Escalation {
        after: Duration::hours(state.settings.tickets.escalate_after_hours),
    };
    let mut report = SweepReport {
        due_soon: drain(|| notice_batch(state, DeadlineNotice::DueSoon)).await?,
        overdue: drain(|| overdue_batch(state)).await?,
        escalated: drain(|| notice_batch(state, escalation)).await?,
        auto_closed: drain(|| auto_close_batch(state)).await?,
        ..SweepReport::default()
    };
    let cutoff = state.clock.now() - Duration::hours(state.settings.tickets.idempotency_hours);
    report.expired_keys = state
        .db
        .write(move |conn| Ok(tickets::purge_idempotency(conn, cutoff)?))
        .await?;
    let sent_before = state.clock.now() - Duration::days(state.settings.mail.retention_days);
    report.purged_mail = state
        .db
        .write(move |conn| Ok(outbox::purge_sent(conn, sent_before)?))
        .await?;
    report.orphans_removed = crate::service::attachments::sweep_orphans(state).await?;
    if report.overdue
        + report.auto_closed
        + report.due_soon
        + report.escalated
        + report.orphans_removed
        > 0
    {
        tracing::info!(
            due_soon = report.due_soon,
            escalated = report.escalated,
            overdue = report.overdue,
            auto_closed = report.auto_closed,
            orphans_removed = report.orphans_removed,
            "sweep"
        );
    }
    Ok(report)
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    pub due_soon: usize,
    pub escalated: usize,
    pub overdue: usize,
    pub auto_closed: usize,
    pub expired_keys: usize,
    pub purged_mail: usize,
    /// Stored attachment files no row references (after the grace period).
    pub orphans_removed: usize,
}

const BATCH: usize = 100;

/// Runs a sweep's batches until one comes back short, so nothing it could take is left.
async fn drain<F, Fut>(mut batch: F) -> AppResult<usize>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = AppResult<usize>>,
{
    let mut total = 0;
    loop {
        let n = batch().await?;
        total += n;
        if n < BATCH {
            return Ok(total);
        }
    }
}

/// Warns the assignee once `tickets.warn_at_fraction` of the time to `due_at` has passed, or
/// escalates to the admins `tickets.escalate_after_hours` after `due_at`.
async fn notice_batch(state: &AppState, notice: DeadlineNotice) -> AppResult<usize> {
    let now = state.clock.now();
    let kind = match notice {
        DeadlineNotice::DueSoon => EventKind::DueSoon,
        DeadlineNotice::Escalation { .. } => EventKind::Escalated,
    };
    let notifier = state.notifier.clone();
    state
        .db
        .write(move |conn| {
            let mut marked = 0;
            for t in tickets::notice_candidates(conn, notice, now, BATCH as i64)? {
                if tickets::claim_notice(conn, notice, &t.id, t.due_at)? {
                    record_deadline(conn, &notifier, &t, kind, now)?;
                    marked += 1;
                }
            }
            Ok(marked)
        })
        .await
}

/// Records one `overdue` event per ticket that passed its deadline while open, and mails the
/// assignee and the admins (督办).
async fn overdue_batch(state: &AppState) -> AppResult<usize> {
    let now = state.clock.now();
    let notifier = state.notifier.clone();
    state
        .db
        .write(move |conn| {
            let mut marked = 0;
            for t in tickets::newly_overdue(conn, now, BATCH as i64)? {
                if tickets::mark_overdue(conn, &t.id, now)? {
                    record_deadline(conn, &notifier, &t, EventKind::Overdue, now)?;
                    marked += 1;
                }
            }
            Ok(marked)
        })
        .await
}

/// A deadline sweep's mark on the timeline, noting the deadline it was for, and its mail.
/// Overdue (督办) is the enterprise's to see, with the status it found the ticket in; the
/// warning and the escalation are the staff's own business.
fn record_deadline(
    conn: &mut DbConn,
    notifier: &Notifier,
    t: &TicketRow,
    kind: EventKind,
    now: NaiveDateTime,
) -> AppResult<()> {
    let overdue = kind == EventKind::Overdue;
    let note = format!("deadline {}", ts(t.due_at).to_rfc3339());
    tickets::insert_event(
        conn,
        &NewEvent {
            ticket_id: &t.id,
            kind,
            actor_id: None,
            from_status: overdue.then_some(t.status),
            to_status: overdue.then_some(t.status),
            note: Some(&note),
            internal: !overdue,
        },
        now,
    )?;
    notify::send(conn, notifier, &Notice::new(kind, t, None, None), now)
}

/// Closes tickets left `resolved` for `tickets.auto_close_days`, unrated.
async fn auto_close_batch(state: &AppState) -> AppResult<usize> {
    let now = state.clock.now();
    let cutoff = now - Duration::days(i64::from(state.settings.tickets.auto_close_days));
    let notifier = state.notifier.clone();
    state
        .db
        .write(move |conn| {
            let mut closed = 0;
            for t in tickets::resolved_before(conn, cutoff, BATCH as i64)? {
                let Ok(transition) = ticket::system_auto_close(t.status) else {
                    continue;
                };
                let changes = TicketChanges {
                    status: Some(transition.to),
                    closed_at: Some(Some(now)),
                    auto_closed: Some(true),
                    updated_at: Some(now),
                    ..TicketChanges::default()
                };
                let Some(updated) = tickets::update_if_version(conn, &t.id, t.version, &changes)?
                else {
                    continue;
                };
                closed += 1;
                tickets::insert_event(
                    conn,
                    &NewEvent {
                        ticket_id: &t.id,
                        kind: transition.event,
                        actor_id: None,
                        from_status: Some(transition.from),
                        to_status: Some(transition.to),
                        note: None,
                        internal: false,
                    },
                    now,
                )?;
                notify::send(
                    conn,
                    &notifier,
                    &Notice::new(EventKind::AutoClosed, &updated, None, None),
                    now,
                )?;
            }
            Ok(closed)
        })
        .await
}
