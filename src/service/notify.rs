//! Who hears about what. Mail is composed here and queued in the caller's transaction.

use std::sync::Arc;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::auth::Actor;
use super::views::ts;
use crate::domain::role::Role;
use crate::domain::ticket::EventKind;
use crate::error::AppResult;
use crate::mail::Templates;
use crate::store::db::DbConn;
use crate::store::tickets::TicketRow;
use crate::store::{departments, outbox, users};

/// What composing ticket mail needs; cheap to clone into a blocking closure.
#[derive(Clone)]
pub struct Notifier {
    pub templates: Arc<Templates>,
    pub public_url: String,
    pub tz: chrono_tz::Tz,
    pub auto_close_days: u32,
}

pub struct Notice<'a> {
    pub event: EventKind,
    pub ticket: &'a TicketRow,
    /// Nobody is mailed about their own action.
    pub actor_id: Option<&'a str>,
    pub note: Option<&'a str>,
}

impl<'a> Notice<'a> {
    pub fn new(
        event: EventKind,
        ticket: &'a TicketRow,
        actor_id: Option<&'a str>,
        note: Option<&'a str>,
    ) -> Notice<'a> {
        Notice {
            event,
            ticket,
            actor_id,
            note,
        }
    }
}

#[derive(Serialize)]
struct Context<'a> {
    recipient_name: &'a str,
    role: &'a str,
    event: &'a str,
    status: &'a str,
    reference: &'a str,
    title: &'a str,
    due_at: String,
    note: Option<&'a str>,
    link: String,
    assignee_name: Option<String>,
    department_name: Option<String>,
    auto_close_days: u32,
}

struct Recipient {
    id: String,
    email: String,
    name: String,
    locale: String,
    role: Role,
}

fn recipient(conn: &mut DbConn, id: &str) -> AppResult<Option<Recipient>> {
    let Some(u) = users::find(conn, id)?.filter(|u| u.active) else {
        return Ok(None);
    };
    Ok(Some(Recipient {
        role: u.role,
        id: u.id,
        email: u.email,
        name: u.name,
        locale: u.locale,
    }))
}

/// The enterprise's side of a ticket: whoever filed it and the enterprise's active owners
/// (colleagues share its tickets; the owners answer for them).
fn enterprise_side(conn: &mut DbConn, t: &TicketRow) -> AppResult<Vec<Recipient>> {
    let mut out: Vec<Recipient> = recipient(conn, &t.created_by)?.into_iter().collect();
    for u in users::active_owners(conn, &t.enterprise_id)? {
        out.push(Recipient {
            id: u.id,
            email: u.email,
            name: u.name,
            locale: u.locale,
            role: Role::Enterprise,
        });
    }
    Ok(out)
}

fn admins(conn: &mut DbConn) -> AppResult<Vec<Recipient>> {
    Ok(users::emails_of_active_admins(conn)?
        .into_iter()
        .map(|(id, email, name, locale)| Recipient {
            id,
            email,
            name,
            locale,
            role: Role::Admin,
        })
        .collect())
}

/// Who an event concerns: the filer (and the enterprise's owners) hear of every change to
/// their ticket; the assignee of
/// being assigned, reopenings, overdue and the end of their work; admins of overdue tickets.
fn audience(event: EventKind) -> (bool, bool, bool) {
    use EventKind::*;
    let filer = !matches!(
        event,
        Overdue | Comment | ExtensionRequested | ExtensionRejected | DueSoon | Escalated
    );
    let assignee = matches!(
        event,
        Assigned
            | Reopened
            | Overdue
            | Confirmed
            | Cancelled
            | Closed
            | AutoClosed
            | InfoProvided
            | ExtensionApproved
            | ExtensionRejected
            | DueSoon
    );
    let admins = matches!(event, Overdue | ExtensionRequested | Escalated);
    (filer, assignee, admins)
}

/// One event's mail about one ticket, with the names it shows read once for all recipients.
struct Mailing<'a> {
    event: &'a str,
    ticket: &'a TicketRow,
    assignee: Option<String>,
    department: Option<String>,
}

impl<'a> Mailing<'a> {
    fn of(conn: &mut DbConn, event: &'a str, ticket: &'a TicketRow) -> AppResult<Mailing<'a>> {
        let assignee = match &ticket.assignee_id {
            Some(id) => users::find(conn, id)?.map(|u| u.name),
            None => None,
        };
        let department = match &ticket.department_id {
            Some(id) => departments::find_department(conn, id)?.map(|d| d.name),
            None => None,
        };
        Ok(Mailing {
            event,
            ticket,
            assignee,
            department,
        })
    }
}

impl Notifier {
    fn queue(
        &self,
        conn: &mut DbConn,
        to: &Recipient,
        m: &Mailing,
        note: Option<&str>,
        now: NaiveDateTime,
    ) -> AppResult<()> {
        let (event, ticket) = (m.event, m.ticket);
        let context = Context {
            recipient_name: &to.name,
            role: to.role.as_str(),
            event,
            status: ticket.status.as_str(),
            reference: &ticket.reference,
            title: &ticket.title,
            due_at: ts(ticket.due_at)
                .with_timezone(&self.tz)
                .format("%Y-%m-%d %H:%M (%Z)")
                .to_string(),
            note,
            link: format!(
                "{}/tickets/{}",
                self.public_url.trim_end_matches('/'),
                ticket.id
            ),
            assignee_name: m.assignee.clone(),
            department_name: m.department.clone(),
            auto_close_days: self.auto_close_days,
        };
        let mail = self
            .templates
            .compose("ticket_event", &to.locale, &to.email, &context)?;
        outbox::enqueue(conn, &mail, now)?;
        Ok(())
    }
}

/// Queues the mail named `event` about `notice` to each recipient once, skipping the actor.
fn deliver(
    conn: &mut DbConn,
    n: &Notifier,
    recipients: Vec<Recipient>,
    event: &str,
    notice: &Notice,
    now: NaiveDateTime,
) -> AppResult<()> {
    let mut seen: Vec<String> = notice.actor_id.map(str::to_owned).into_iter().collect();
    let mut to = Vec::with_capacity(recipients.len());
    for r in recipients {
        if !seen.contains(&r.id) {
            seen.push(r.id.clone());
            to.push(r);
        }
    }
    if to.is_empty() {
        return Ok(());
    }
    let mailing = Mailing::of(conn, event, notice.ticket)?;
    for r in &to {
        let staff = matches!(r.role, Role::Official | Role::Admin);
        let note = notice
            .note
            .filter(|_| staff || !notice.event.note_is_internal());
        n.queue(conn, r, &mailing, note, now)?;
    }
    Ok(())
}

/// Mails everyone an event on a ticket concerns, except whoever caused it.
pub fn send(conn: &mut DbConn, n: &Notifier, notice: &Notice, now: NaiveDateTime) -> AppResult<()> {
    let (to_filer, to_assignee, to_admins) = audience(notice.event);
    let t = notice.ticket;
    let mut recipients = Vec::new();
    if to_filer {
        recipients.extend(enterprise_side(conn, t)?);
    }
    if to_assignee
        && let Some(id) = &t.assignee_id
        && let Some(r) = recipient(conn, id)?
    {
        recipients.push(r);
    }
    if to_admins {
        recipients.extend(admins(conn)?);
    }
    deliver(conn, n, recipients, notice.event.as_str(), notice, now)
}

/// A ticket waits for dispatch: every admin hears of it.
pub fn unrouted(
    conn: &mut DbConn,
    n: &Notifier,
    t: &TicketRow,
    now: NaiveDateTime,
) -> AppResult<()> {
    let recipients = admins(conn)?;
    deliver(
        conn,
        n,
        recipients,
        "unrouted",
        &Notice::new(EventKind::Created, t, None, None),
        now,
    )
}

/// Whom a public message concerns: the enterprise's words go to the assignee, staff words to
/// the filer and the enterprise's owners.
fn message_recipients(
    conn: &mut DbConn,
    t: &TicketRow,
    author: &Actor,
) -> AppResult<Vec<Recipient>> {
    if author.role == Role::Enterprise {
        Ok(match &t.assignee_id {
            Some(id) => recipient(conn, id)?.into_iter().collect(),
            None => Vec::new(),
        })
    } else {
        enterprise_side(conn, t)
    }
}

/// A public message.
pub fn comment(
    conn: &mut DbConn,
    n: &Notifier,
    t: &TicketRow,
    author: &Actor,
    body: &str,
    now: NaiveDateTime,
) -> AppResult<()> {
    let recipients = message_recipients(conn, t, author)?;
    let notice = Notice::new(EventKind::Comment, t, Some(&author.id), Some(body));
    deliver(conn, n, recipients, "comment", &notice, now)
}

/// Files added where the enterprise sees them: mailed like a message, listing their names
/// (the files themselves are not mailed).
pub fn attachments(
    conn: &mut DbConn,
    n: &Notifier,
    t: &TicketRow,
    author: &Actor,
    names: &str,
    now: NaiveDateTime,
) -> AppResult<()> {
    let recipients = message_recipients(conn, t, author)?;
    let notice = Notice::new(EventKind::AttachmentAdded, t, Some(&author.id), Some(names));
    deliver(
        conn,
        n,
        recipients,
        EventKind::AttachmentAdded.as_str(),
        &notice,
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences_follow_the_contract() {
        assert_eq!(audience(EventKind::Assigned), (true, true, false));
        assert_eq!(audience(EventKind::Reopened), (true, true, false));
        assert_eq!(audience(EventKind::Overdue), (false, true, true));
        assert_eq!(audience(EventKind::Resolved), (true, false, false));
        assert_eq!(audience(EventKind::Accepted), (true, false, false));
        assert_eq!(audience(EventKind::InfoRequested), (true, false, false));
        assert_eq!(audience(EventKind::InfoProvided), (true, true, false));
        assert_eq!(
            audience(EventKind::ExtensionRequested),
            (false, false, true)
        );
        assert_eq!(audience(EventKind::ExtensionApproved), (true, true, false));
        assert_eq!(audience(EventKind::ExtensionRejected), (false, true, false));
        assert_eq!(audience(EventKind::DueSoon), (false, true, false));
        assert_eq!(audience(EventKind::Escalated), (false, false, true));
    }
}
