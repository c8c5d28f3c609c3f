//! One ticket played through its life up to now. Every status change goes through
//! `domain::ticket::decide` (or `system_auto_close`), the rules the service applies, so a
//! seeded history holds only transitions the app itself could have made.

use chrono::{Duration, NaiveDateTime};
use rand::Rng;
use rand::rngs::StdRng;

use super::names::{ASKS, id, ordered_id};
use super::rows::{COMMENTS, EVENTS, Rows, TICKETS};
use super::{Category, Enterprise};
use crate::config::TicketSettings;
use crate::domain::role::Role;
use crate::domain::sla;
use crate::domain::ticket::{
    Action, ActorRelation, CommentKind, EventKind, Priority, TicketStatus, Transition, decide,
    system_auto_close,
};
use crate::error::{AppError, AppResult};
use crate::stats::sql::Bind;
use crate::store::tickets::search_text;

/// What every ticket of a seeding run shares.
pub struct World<'a> {
    pub categories: &'a [Category],
    pub officials: &'a [Vec<String>],
    pub enterprises: &'a [Enterprise],
    pub start: NaiveDateTime,
    pub now: NaiveDateTime,
    pub prefix: &'static str,
    pub rules: &'a TicketSettings,
}

/// The rows of one batch of tickets.
pub struct Batch {
    pub tickets: Rows,
    pub events: Rows,
    pub comments: Rows,
}

impl Batch {
    pub fn new() -> Batch {
        Batch {
            tickets: Rows::new("tickets", TICKETS),
            events: Rows::new("ticket_events", EVENTS),
            comments: Rows::new("comments", COMMENTS),
        }
    }
}

/// Who moves the ticket.
#[derive(Clone, Copy)]
enum By {
    /// Filing routes the ticket as an admin's `assign` would, with no one acting.
    Routing,
    Assignee,
    Filer,
}

struct Step {
    kind: EventKind,
    actor: Option<String>,
    from: Option<TicketStatus>,
    to: TicketStatus,
    at: NaiveDateTime,
}

/// A ticket's state as its transitions leave it, with the timeline that got it there.
struct Life {
    status: TicketStatus,
    filer: String,
    assignee: Option<String>,
    steps: Vec<Step>,
    updated: NaiveDateTime,
    accepted: Option<NaiveDateTime>,
    resolved: Option<NaiveDateTime>,
    closed: Option<NaiveDateTime>,
    cancelled: Option<NaiveDateTime>,
    rating: Option<i64>,
    auto_closed: bool,
    reopen_count: i64,
}

impl Life {
    fn filed(filer: &str, at: NaiveDateTime) -> Life {
        Life {
            status: TicketStatus::Submitted,
            filer: filer.to_owned(),
            assignee: None,
            steps: vec![Step {
                kind: EventKind::Created,
                actor: Some(filer.to_owned()),
                from: None,
                to: TicketStatus::Submitted,
                at,
            }],
            updated: at,
            accepted: None,
            resolved: None,
            closed: None,
            cancelled: None,
            rating: None,
            auto_closed: false,
            reopen_count: 0,
        }
    }

    fn take(&mut self, action: Action, by: By, at: NaiveDateTime) -> AppResult<()> {
        let relation = |role, is_assignee, is_filing_enterprise| ActorRelation {
            role,
            is_assignee,
            is_filing_enterprise,
        };
        let (relation, actor) = match by {
            By::Routing => (relation(Role::Admin, false, false), None),
            By::Assignee => (relation(Role::Official, true, false), self.assignee.clone()),
            By::Filer => (
                relation(Role::Enterprise, false, true),
                Some(self.filer.clone()),
            ),
        };
        let transition = decide(self.status, action, relation).map_err(|refusal| {
            AppError::Internal(anyhow::anyhow!(
                "the seeder tried a refused step: {refusal}"
            ))
        })?;
        self.apply(transition, actor, at);
        Ok(())
    }

    fn auto_close(&mut self, at: NaiveDateTime) -> AppResult<()> {
        let transition = system_auto_close(self.status).map_err(|refusal| {
            AppError::Internal(anyhow::anyhow!(
                "the seeder tried a refused step: {refusal}"
            ))
        })?;
        self.apply(transition, None, at);
        Ok(())
    }

    /// The timestamps each event stamps, as the service's updates do.
    fn apply(&mut self, t: Transition, actor: Option<String>, at: NaiveDateTime) {
        match t.event {
            EventKind::Accepted => self.accepted = Some(at),
            EventKind::Resolved => self.resolved = Some(at),
            EventKind::Reopened => {
                self.resolved = None;
                self.reopen_count += 1;
            }
            EventKind::Confirmed | EventKind::Closed => self.closed = Some(at),
            EventKind::AutoClosed => {
                self.closed = Some(at);
                self.auto_closed = true;
            }
            EventKind::Cancelled => self.cancelled = Some(at),
            _ => {}
        }
        self.steps.push(Step {
            kind: t.event,
            actor,
            from: Some(t.from),
            to: t.to,
            at,
        });
        self.status = t.to;
        self.updated = at;
    }

    /// One version per change, as the app counts them: filing is version 1.
    fn version(&self) -> i64 {
        self.steps.len() as i64
    }
}

/// An exponentially distributed duration with this mean: most work is quick, some drags on.
fn exp_hours(rng: &mut StdRng, mean_hours: f64) -> Duration {
    let u: f64 = rng.random();
    Duration::seconds((-(1.0 - u).ln() * mean_hours * 3600.0) as i64 + 60)
}

/// What the enterprise filed.
struct Filing<'a> {
    id: String,
    category: &'a Category,
    enterprise: &'a Enterprise,
    created: NaiveDateTime,
    priority: Priority,
    due: NaiveDateTime,
}

fn draft<'a>(rng: &mut StdRng, w: &World<'a>) -> Filing<'a> {
    let category = &w.categories[rng.random_range(0..w.categories.len())];
    let enterprise = &w.enterprises[rng.random_range(0..w.enterprises.len())];
    let span = (w.now - w.start).num_seconds().max(1);
    let created = w.start + Duration::seconds(rng.random_range(0..span));
    let priority = match rng.random_range(0..100) {
        0..15 => Priority::Low,
        15..75 => Priority::Normal,
        75..95 => Priority::High,
        _ => Priority::Urgent,
    };
    Filing {
        id: id(rng),
        category,
        enterprise,
        created,
        priority,
        due: sla::due_at(created, category.sla_hours, priority),
    }
}

/// Adds the `n`th ticket of the run, its events and its comments to the batch.
pub fn ticket(rng: &mut StdRng, w: &World, n: u64, batch: &mut Batch) -> AppResult<()> {
    let filing = draft(rng, w);
    let life = play(rng, w, &filing, &mut batch.comments)?;
    for (seq, step) in life.steps.iter().enumerate() {
        batch.events.add(vec![
            Bind::Text(ordered_id(rng, step.at, seq)),
            Bind::Text(filing.id.clone()),
            Bind::Text(step.kind.as_str().to_owned()),
            Bind::OptText(step.actor.clone()),
            Bind::OptText(step.from.map(|s| s.as_str().to_owned())),
            Bind::OptText(Some(step.to.as_str().to_owned())),
            Bind::OptText(None),
            Bind::Bool(false),
            Bind::Ts(step.at),
        ]);
    }
    if rng.random_ratio(1, 5) {
        let asked_at = filing.created + Duration::minutes(rng.random_range(5..240));
        if asked_at <= w.now {
            let asker = filing.enterprise.user_id.clone();
            comment(
                rng,
                &mut batch.comments,
                &filing.id,
                asker,
                CommentKind::Message,
                asked_at,
            );
        }
    }
    batch.tickets.add(ticket_row(w, n, &filing, &life));
    Ok(())
}

/// The lifecycle script: routing, acceptance or an early cancellation, a resolution (sometimes
/// after a site visit), an occasional reopen, then confirmation with a rating or auto-close
/// after the configured days. Steps later than `now` have not happened yet.
fn play(rng: &mut StdRng, w: &World, f: &Filing, comments: &mut Rows) -> AppResult<Life> {
    let mut life = Life::filed(&f.enterprise.user_id, f.created);
    let team = &w.officials[f.category.department];
    // A few recent tickets wait for dispatch; older ones were all routed by now.
    let unrouted =
        team.is_empty() || (w.now - f.created < Duration::days(3) && rng.random_ratio(1, 20));
    if unrouted {
        return Ok(life);
    }
    let sla_hours = f64::from(f.category.sla_hours);
    let happened = |at: NaiveDateTime| at <= w.now;
    let roll: u32 = rng.random_range(0..100);
    life.assignee = Some(team[rng.random_range(0..team.len())].clone());
    life.take(Action::Assign, By::Routing, f.created)?;

    let cancel_at = f.created + exp_hours(rng, 8.0);
    let accept_at = f.created + exp_hours(rng, sla_hours * 0.1);
    if roll < 4 && cancel_at < accept_at && happened(cancel_at) {
        life.take(Action::Cancel, By::Filer, cancel_at)?;
        return Ok(life);
    }
    if !happened(accept_at) {
        return Ok(life);
    }
    life.take(Action::Accept, By::Assignee, accept_at)?;
    let resolve_at = accept_at + exp_hours(rng, sla_hours * 0.5);
    if rng.random_ratio(1, 10) {
        let visit_at = accept_at + (resolve_at - accept_at) / 2;
        if happened(visit_at) {
            let official = life.assignee.clone().unwrap_or_default();
            comment(
                rng,
                comments,
                &f.id,
                official,
                CommentKind::SiteVisit,
                visit_at,
            );
        }
    }
    if !happened(resolve_at) {
        return Ok(life);
    }
    life.take(Action::Resolve, By::Assignee, resolve_at)?;
    let auto_close_after = Duration::days(i64::from(w.rules.auto_close_days));
    let reopen_at = resolve_at + exp_hours(rng, 20.0);
    if roll >= 94 && reopen_at < resolve_at + auto_close_after && happened(reopen_at) {
        life.take(Action::Reopen, By::Filer, reopen_at)?;
        let resolve_again_at = reopen_at + exp_hours(rng, sla_hours * 0.3);
        if !happened(resolve_again_at) {
            return Ok(life);
        }
        life.take(Action::Resolve, By::Assignee, resolve_again_at)?;
    }
    let resolved_at = life.updated;
    let confirm_at = resolved_at + exp_hours(rng, 30.0);
    let auto_close_at = resolved_at + auto_close_after;
    if rng.random_ratio(3, 4) && confirm_at < auto_close_at && happened(confirm_at) {
        life.rating = Some(match rng.random_range(0..100) {
            0..5 => 1,
            5..12 => 2,
            12..25 => 3,
            25..55 => 4,
            _ => 5,
        });
        life.take(Action::Confirm, By::Filer, confirm_at)?;
    } else if happened(auto_close_at) {
        life.auto_close(auto_close_at)?;
    }
    Ok(life)
}

fn comment(
    rng: &mut StdRng,
    comments: &mut Rows,
    ticket_id: &str,
    author: String,
    kind: CommentKind,
    at: NaiveDateTime,
) {
    let body = match kind {
        CommentKind::SiteVisit => "已上门核查现场情况。",
        _ => "请问目前办理到哪一步了？",
    };
    comments.add(vec![
        Bind::Text(id(rng)),
        Bind::Text(ticket_id.to_owned()),
        Bind::Text(author),
        Bind::Text(kind.as_str().to_owned()),
        Bind::Text(body.to_owned()),
        Bind::Ts(at),
    ]);
}

fn ticket_row(w: &World, n: u64, f: &Filing, life: &Life) -> Vec<Bind> {
    let reference = format!("{}{:07}", w.prefix, n + 1);
    let ask = ASKS[n as usize % ASKS.len()];
    let title = format!("{}：{ask}", f.category.name);
    let description = format!(
        "关于{}，{ask}，请尽快处理。联系人在工作日均可接听电话。",
        f.category.name
    );
    // The sweeps mark a deadline once, when it passes with the ticket still open; likewise the
    // warning and the escalation, so a seeded history does not fire them all on the first
    // sweep.
    let open_until = life.cancelled.or(life.resolved).unwrap_or(w.now);
    let passed = |at: NaiveDateTime| at < open_until && at < w.now;
    let overdue_at = passed(f.due).then_some(f.due);
    let warn_at = sla::warn_at(f.created, f.due, w.rules.warn_at_fraction);
    let warned_for = passed(warn_at).then_some(f.due);
    let escalated_for =
        passed(f.due + Duration::hours(w.rules.escalate_after_hours)).then_some(f.due);
    vec![
        Bind::Text(f.id.clone()),
        Bind::Text(reference.clone()),
        Bind::Text(title.clone()),
        Bind::Text(description.clone()),
        Bind::Text(search_text(&reference, &title, &description)),
        Bind::Text(f.category.id.clone()),
        Bind::OptText(Some(f.category.department_id.clone())),
        Bind::OptText(life.assignee.clone()),
        Bind::Text(f.enterprise.id.clone()),
        Bind::Text(f.enterprise.user_id.clone()),
        Bind::Text(f.priority.as_str().to_owned()),
        Bind::Text(life.status.as_str().to_owned()),
        Bind::Ts(f.due),
        Bind::OptTs(overdue_at),
        Bind::OptTs(Some(warn_at)),
        Bind::OptTs(warned_for),
        Bind::OptTs(escalated_for),
        Bind::Ts(f.created),
        Bind::Ts(life.updated),
        Bind::OptTs(life.accepted),
        Bind::OptTs(life.resolved),
        Bind::OptTs(life.closed),
        Bind::OptTs(life.cancelled),
        Bind::OptText(
            life.resolved
                .map(|_| "已按规定办结，并电话告知企业。".to_owned()),
        ),
        Bind::OptInt(life.rating),
        Bind::OptText(life.rating.map(|r| {
            if r >= 4 {
                "办理高效，感谢！"
            } else {
                "等待时间较长。"
            }
            .to_owned()
        })),
        Bind::Bool(life.auto_closed),
        Bind::Int(life.reopen_count),
        Bind::Int(life.version()),
    ]
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn durations_are_positive_and_seeded() {
        let mut one = StdRng::seed_from_u64(3);
        let mut two = StdRng::seed_from_u64(3);
        for _ in 0..100 {
            let d = exp_hours(&mut one, 5.0);
            assert!(d > Duration::zero());
            assert_eq!(d, exp_hours(&mut two, 5.0));
        }
    }

    fn at(hours: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_780_000_000, 0)
            .unwrap()
            .naive_utc()
            + Duration::hours(hours)
    }

    #[test]
    fn a_life_records_each_transition_and_its_stamps() {
        let mut life = Life::filed("filer", at(0));
        life.assignee = Some("official".into());
        life.take(Action::Assign, By::Routing, at(0)).unwrap();
        life.take(Action::Accept, By::Assignee, at(1)).unwrap();
        life.take(Action::Resolve, By::Assignee, at(2)).unwrap();
        life.take(Action::Reopen, By::Filer, at(3)).unwrap();
        assert_eq!(life.resolved, None);
        life.take(Action::Resolve, By::Assignee, at(4)).unwrap();
        life.auto_close(at(5)).unwrap();
        let kinds: Vec<_> = life.steps.iter().map(|s| s.kind).collect();
        use EventKind::*;
        assert_eq!(
            kinds,
            [
                Created, Assigned, Accepted, Resolved, Reopened, Resolved, AutoClosed
            ]
        );
        for pair in life.steps.windows(2) {
            assert_eq!(pair[1].from, Some(pair[0].to), "{:?}", pair[1].kind);
        }
        assert_eq!(life.status, TicketStatus::Closed);
        assert_eq!(
            (life.accepted, life.resolved, life.closed),
            (Some(at(1)), Some(at(4)), Some(at(5)))
        );
        assert!(life.auto_closed);
        assert_eq!(life.reopen_count, 1);
        assert_eq!(life.version(), 7);
        assert_eq!(life.steps[1].actor, None, "routing is done by no one");
        assert_eq!(life.steps[2].actor.as_deref(), Some("official"));
        assert_eq!(life.steps[4].actor.as_deref(), Some("filer"));
    }

    #[test]
    fn a_step_the_rules_refuse_is_an_error_not_a_guess() {
        let mut life = Life::filed("filer", at(0));
        assert!(life.take(Action::Resolve, By::Assignee, at(1)).is_err());
        assert!(life.take(Action::Confirm, By::Filer, at(1)).is_err());
        assert!(life.auto_close(at(1)).is_err());
        assert_eq!(life.status, TicketStatus::Submitted);
        assert_eq!(life.steps.len(), 1);
    }
}
