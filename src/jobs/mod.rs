//! Background sweeps, every `jobs.interval_seconds`: deadline warnings, overdue tickets,
//! escalation, auto-close, expired idempotency keys, sent mail past its retention, and stored
//! attachment files that no row references.

use std::sync::Arc;

use tokio::sync::watch;

use chrono::Duration;

use crate::domain::ticket::{self, EventKind};
use crate::error::AppResult;
use crate::service::AppState;
use crate::service::notify::{self, Notice};
use crate::service::views::ts;
use crate::store::outbox;
use crate::store::tickets::{self, NewEvent, TicketChanges};

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
    let mut report = SweepReport::default();
    loop {
        let n = due_soon_batch(state).await?;
        report.due_soon += n;
        if n < BATCH {
            break;
        }
    }
    loop {
        let n = overdue_batch(state).await?;
        report.overdue += n;
        if n < BATCH {
            break;
        }
    }
    loop {
        let n = escalation_batch(state).await?;
        report.escalated += n;
        if n < BATCH {
            break;
        }
    }
    loop {
        let n = auto_close_batch(state).await?;
        report.auto_closed += n;
        if n < BATCH {
            break;
        }
    }
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

/// Which deadline sweep: both are once per deadline, claimed by a conditional update.
#[derive(Clone, Copy)]
enum Deadline {
    DueSoon,
    Escalated,
}

/// Warns the assignee once `tickets.warn_at_fraction` of the time to `due_at` has passed.
async fn due_soon_batch(state: &AppState) -> AppResult<usize> {
    deadline_batch(state, Deadline::DueSoon).await
}

/// Escalates to the admins `tickets.escalate_after_hours` after `due_at`.
async fn escalation_batch(state: &AppState) -> AppResult<usize> {
    deadline_batch(state, Deadline::Escalated).await
}

async fn deadline_batch(state: &AppState, which: Deadline) -> AppResult<usize> {
    let now = state.clock.now();
    let cutoff = now - Duration::hours(state.settings.tickets.escalate_after_hours);
    let notifier = state.notifier.clone();
    state
        .db
        .write(move |conn| {
            let (candidates, kind) = match which {
                Deadline::DueSoon => (
                    tickets::due_soon_candidates(conn, now, BATCH as i64)?,
                    EventKind::DueSoon,
                ),
                Deadline::Escalated => (
                    tickets::escalation_candidates(conn, cutoff, BATCH as i64)?,
                    EventKind::Escalated,
                ),
            };
            let mut marked = 0;
            for t in candidates {
                let claimed = match which {
                    Deadline::DueSoon => tickets::claim_due_soon(conn, &t.id, t.due_at)?,
                    Deadline::Escalated => tickets::claim_escalation(conn, &t.id, t.due_at)?,
                };
                if !claimed {
                    continue;
                }
                marked += 1;
                let note = format!("deadline {}", ts(t.due_at).to_rfc3339());
                tickets::insert_event(
                    conn,
                    &NewEvent {
                        ticket_id: &t.id,
                        kind,
                        actor_id: None,
                        from_status: None,
                        to_status: None,
                        note: Some(&note),
                        internal: true,
                    },
                    now,
                )?;
                notify::send(conn, &notifier, &Notice::new(kind, &t, None, None), now)?;
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
                if !tickets::mark_overdue(conn, &t.id, now)? {
                    continue;
                }
                marked += 1;
                let note = format!("deadline {}", ts(t.due_at).to_rfc3339());
                tickets::insert_event(
                    conn,
                    &NewEvent {
                        ticket_id: &t.id,
                        kind: EventKind::Overdue,
                        actor_id: None,
                        from_status: Some(t.status),
                        to_status: Some(t.status),
                        note: Some(&note),
                        internal: false,
                    },
                    now,
                )?;
                notify::send(
                    conn,
                    &notifier,
                    &Notice::new(EventKind::Overdue, &t, None, None),
                    now,
                )?;
            }
            Ok(marked)
        })
        .await
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
                if !tickets::update_if_version(conn, &t.id, t.version, &changes)? {
                    continue;
                }
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
                let updated = tickets::find(conn, &t.id)?
                    .ok_or_else(|| anyhow::anyhow!("ticket vanished"))?;
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
