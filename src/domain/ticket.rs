//! Ticket lifecycle: the vocabulary and the state machine deciding which
//! actor may move a ticket from one status to another.

use thiserror::Error;

pub use super::UnknownVariant;
use super::role::Role;

named_enum! {
    pub enum TicketStatus {
        Submitted => "submitted",
        Assigned => "assigned",
        InProgress => "in_progress",
        Resolved => "resolved",
        Closed => "closed",
        Cancelled => "cancelled",
        /// The assignee asked the enterprise for more information; the SLA clock stands still.
        AwaitingEnterprise => "awaiting_enterprise",
    }
}

impl TicketStatus {
    /// Open tickets still wait for work and therefore run against their SLA. The one list:
    /// queries and the partial indexes on open tickets are written from it.
    pub const OPEN: [TicketStatus; 4] = [
        Self::Submitted,
        Self::Assigned,
        Self::InProgress,
        Self::AwaitingEnterprise,
    ];

    /// Open tickets someone is assigned to: an official's workload when routing.
    pub const ASSIGNED_OPEN: [TicketStatus; 3] =
        [Self::Assigned, Self::InProgress, Self::AwaitingEnterprise];

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }

    /// Open and not waiting for the enterprise: the SLA clock is running, so the ticket can
    /// become overdue.
    pub fn clock_runs(self) -> bool {
        self.is_open() && self != Self::AwaitingEnterprise
    }

    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Closed | Self::Cancelled)
    }
}

named_enum! {
    pub enum Action {
        Assign => "assign",
        Accept => "accept",
        /// The assignee hands the ticket back for re-assignment.
        Return => "return",
        Resolve => "resolve",
        Confirm => "confirm",
        Reopen => "reopen",
        Cancel => "cancel",
        Close => "close",
        /// The assignee asks the enterprise for what is missing.
        RequestInfo => "request_info",
        /// The enterprise answers, and the clock runs again.
        ProvideInfo => "provide_info",
    }
}

named_enum! {
    #[derive(Default)]
    pub enum Priority {
        Low => "low",
        #[default]
        Normal => "normal",
        High => "high",
        Urgent => "urgent",
    }
}

named_enum! {
    pub enum EventKind {
        Created => "created",
        Assigned => "assigned",
        Accepted => "accepted",
        Returned => "returned",
        Resolved => "resolved",
        Confirmed => "confirmed",
        Reopened => "reopened",
        Cancelled => "cancelled",
        Closed => "closed",
        AutoClosed => "auto_closed",
        Overdue => "overdue",
        Comment => "comment",
        AttachmentAdded => "attachment_added",
        AttachmentRemoved => "attachment_removed",
        InfoRequested => "info_requested",
        InfoProvided => "info_provided",
        ExtensionRequested => "extension_requested",
        ExtensionApproved => "extension_approved",
        ExtensionRejected => "extension_rejected",
        DueSoon => "due_soon",
        Escalated => "escalated",
    }
}

named_enum! {
    /// An extension request (延期申请) and the admin's decision on it.
    pub enum ExtensionStatus {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
    }
}

/// The working days one extension may add.
pub const EXTENSION_DAYS: std::ops::RangeInclusive<i64> = 1..=30;

named_enum! {
    pub enum CommentKind {
        Message => "message",
        InternalNote => "internal_note",
        PhoneCall => "phone_call",
        SiteVisit => "site_visit",
    }
}

impl EventKind {
    /// Dispatch notes (why a ticket was assigned or sent back) are between staff: the
    /// enterprise sees the status change, not the note.
    pub const fn note_is_internal(self) -> bool {
        matches!(self, Self::Assigned | Self::Returned)
    }
}

impl CommentKind {
    /// Internal kinds are staff records and are hidden from the enterprise.
    pub const fn is_internal(self) -> bool {
        !matches!(self, Self::Message)
    }

    pub const fn allowed_for(self, role: Role) -> bool {
        match role {
            Role::Enterprise => !self.is_internal(),
            Role::Official | Role::Admin => true,
        }
    }
}

/// How the acting user stands towards one particular ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ActorRelation {
    pub role: Role,
    pub is_assignee: bool,
    /// The actor is a user of the enterprise that filed the ticket.
    pub is_filing_enterprise: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Error)]
pub enum Refusal {
    #[error("cannot {action} a ticket whose status is {status}")]
    NotAllowedFromStatus {
        action: Action,
        status: TicketStatus,
    },
    #[error("not permitted to {action} this ticket")]
    NotPermitted { action: Action },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Transition {
    pub from: TicketStatus,
    pub to: TicketStatus,
    pub event: EventKind,
}

/// Permission is checked before status so that an actor who may never take
/// an action learns nothing about the ticket's current status.
pub fn decide(
    status: TicketStatus,
    action: Action,
    actor: ActorRelation,
) -> Result<Transition, Refusal> {
    if !permitted(action, actor) {
        return Err(Refusal::NotPermitted { action });
    }
    if !allowed_from(action).contains(&status) {
        return Err(Refusal::NotAllowedFromStatus { action, status });
    }
    let (to, event) = outcome(action);
    Ok(Transition {
        from: status,
        to,
        event,
    })
}

/// The statuses from which `action` may be taken.
pub fn allowed_from(action: Action) -> &'static [TicketStatus] {
    use TicketStatus::{Assigned, AwaitingEnterprise, InProgress, Resolved, Submitted};
    match action {
        Action::Assign => &[Submitted, Assigned, InProgress],
        Action::Cancel => &[Submitted, Assigned, InProgress, AwaitingEnterprise],
        Action::RequestInfo => &[InProgress],
        Action::ProvideInfo => &[AwaitingEnterprise],
        Action::Accept => &[Assigned],
        Action::Return => &[Assigned, InProgress],
        Action::Resolve => &[InProgress],
        Action::Confirm | Action::Reopen | Action::Close => &[Resolved],
    }
}

/// The closing done by the scheduler when the enterprise neither confirms nor
/// reopens a resolved ticket in time; no user is involved, so no permission.
pub fn system_auto_close(status: TicketStatus) -> Result<Transition, Refusal> {
    match status {
        TicketStatus::Resolved => Ok(Transition {
            from: status,
            to: TicketStatus::Closed,
            event: EventKind::AutoClosed,
        }),
        _ => Err(Refusal::NotAllowedFromStatus {
            action: Action::Close,
            status,
        }),
    }
}

fn permitted(action: Action, actor: ActorRelation) -> bool {
    match action {
        Action::Assign | Action::Close => actor.role == Role::Admin,
        Action::Accept | Action::Return | Action::Resolve | Action::RequestInfo => {
            actor.is_assignee
        }
        Action::Confirm | Action::Reopen | Action::Cancel | Action::ProvideInfo => {
            actor.role == Role::Enterprise && actor.is_filing_enterprise
        }
    }
}

fn outcome(action: Action) -> (TicketStatus, EventKind) {
    match action {
        Action::Assign => (TicketStatus::Assigned, EventKind::Assigned),
        Action::Accept => (TicketStatus::InProgress, EventKind::Accepted),
        Action::Return => (TicketStatus::Submitted, EventKind::Returned),
        Action::Resolve => (TicketStatus::Resolved, EventKind::Resolved),
        Action::Confirm => (TicketStatus::Closed, EventKind::Confirmed),
        Action::Reopen => (TicketStatus::InProgress, EventKind::Reopened),
        Action::Cancel => (TicketStatus::Cancelled, EventKind::Cancelled),
        Action::Close => (TicketStatus::Closed, EventKind::Closed),
        Action::RequestInfo => (TicketStatus::AwaitingEnterprise, EventKind::InfoRequested),
        Action::ProvideInfo => (TicketStatus::InProgress, EventKind::InfoProvided),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::assert_names;
    use proptest::prelude::*;

    use Action as A;
    use EventKind as E;
    use Role::{Admin, Enterprise, Official};
    use TicketStatus as S;

    /// Every edge of the lifecycle diagram, written out independently of
    /// `allowed_from` and `outcome`.
    const EDGES: &[(Action, TicketStatus, TicketStatus, EventKind)] = &[
        (A::Assign, S::Submitted, S::Assigned, E::Assigned),
        (A::Assign, S::Assigned, S::Assigned, E::Assigned),
        (A::Assign, S::InProgress, S::Assigned, E::Assigned),
        (A::Accept, S::Assigned, S::InProgress, E::Accepted),
        (A::Return, S::Assigned, S::Submitted, E::Returned),
        (A::Return, S::InProgress, S::Submitted, E::Returned),
        (A::Resolve, S::InProgress, S::Resolved, E::Resolved),
        (A::Confirm, S::Resolved, S::Closed, E::Confirmed),
        (A::Reopen, S::Resolved, S::InProgress, E::Reopened),
        (A::Cancel, S::Submitted, S::Cancelled, E::Cancelled),
        (A::Cancel, S::Assigned, S::Cancelled, E::Cancelled),
        (A::Cancel, S::InProgress, S::Cancelled, E::Cancelled),
        (A::Close, S::Resolved, S::Closed, E::Closed),
        (
            A::RequestInfo,
            S::InProgress,
            S::AwaitingEnterprise,
            E::InfoRequested,
        ),
        (
            A::ProvideInfo,
            S::AwaitingEnterprise,
            S::InProgress,
            E::InfoProvided,
        ),
        (A::Cancel, S::AwaitingEnterprise, S::Cancelled, E::Cancelled),
    ];

    /// Every (action, role, is_assignee, is_filing_enterprise) allowed to act.
    const PERMITTED: &[(Action, Role, bool, bool)] = &[
        (A::Assign, Admin, false, false),
        (A::Assign, Admin, false, true),
        (A::Assign, Admin, true, false),
        (A::Assign, Admin, true, true),
        (A::Close, Admin, false, false),
        (A::Close, Admin, false, true),
        (A::Close, Admin, true, false),
        (A::Close, Admin, true, true),
        (A::Accept, Enterprise, true, false),
        (A::Accept, Enterprise, true, true),
        (A::Accept, Official, true, false),
        (A::Accept, Official, true, true),
        (A::Accept, Admin, true, false),
        (A::Accept, Admin, true, true),
        (A::Return, Enterprise, true, false),
        (A::Return, Enterprise, true, true),
        (A::Return, Official, true, false),
        (A::Return, Official, true, true),
        (A::Return, Admin, true, false),
        (A::Return, Admin, true, true),
        (A::Resolve, Enterprise, true, false),
        (A::Resolve, Enterprise, true, true),
        (A::Resolve, Official, true, false),
        (A::Resolve, Official, true, true),
        (A::Resolve, Admin, true, false),
        (A::Resolve, Admin, true, true),
        (A::Confirm, Enterprise, false, true),
        (A::Confirm, Enterprise, true, true),
        (A::Reopen, Enterprise, false, true),
        (A::Reopen, Enterprise, true, true),
        (A::Cancel, Enterprise, false, true),
        (A::Cancel, Enterprise, true, true),
        (A::RequestInfo, Enterprise, true, false),
        (A::RequestInfo, Enterprise, true, true),
        (A::RequestInfo, Official, true, false),
        (A::RequestInfo, Official, true, true),
        (A::RequestInfo, Admin, true, false),
        (A::RequestInfo, Admin, true, true),
        (A::ProvideInfo, Enterprise, false, true),
        (A::ProvideInfo, Enterprise, true, true),
    ];

    fn actors() -> impl Iterator<Item = ActorRelation> {
        Role::ALL.into_iter().flat_map(|role| {
            [(false, false), (false, true), (true, false), (true, true)].map(
                |(is_assignee, is_filing_enterprise)| ActorRelation {
                    role,
                    is_assignee,
                    is_filing_enterprise,
                },
            )
        })
    }

    #[test]
    fn decide_matches_table_for_every_combination() {
        let mut checked = 0;
        for status in S::ALL {
            for action in A::ALL {
                for actor in actors() {
                    let permitted = PERMITTED.contains(&(
                        action,
                        actor.role,
                        actor.is_assignee,
                        actor.is_filing_enterprise,
                    ));
                    let edge = EDGES
                        .iter()
                        .find(|(a, from, _, _)| *a == action && *from == status);
                    let expected = match (permitted, edge) {
                        (false, _) => Err(Refusal::NotPermitted { action }),
                        (true, None) => Err(Refusal::NotAllowedFromStatus { action, status }),
                        (true, Some(&(_, from, to, event))) => Ok(Transition { from, to, event }),
                    };
                    assert_eq!(
                        decide(status, action, actor),
                        expected,
                        "{status} {action} {actor:?}"
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 7 * 10 * 12);
    }

    #[test]
    fn allowed_from_matches_edges() {
        for action in A::ALL {
            for status in S::ALL {
                let in_table = EDGES
                    .iter()
                    .any(|(a, from, _, _)| *a == action && *from == status);
                assert_eq!(allowed_from(action).contains(&status), in_table);
            }
        }
    }

    #[test]
    fn terminal_statuses_accept_nothing() {
        for status in [S::Closed, S::Cancelled] {
            assert!(status.is_terminal());
            for action in A::ALL {
                for actor in actors() {
                    assert!(decide(status, action, actor).is_err());
                }
            }
            assert!(system_auto_close(status).is_err());
        }
    }

    #[test]
    fn permission_is_checked_before_status() {
        let official = ActorRelation {
            role: Official,
            is_assignee: false,
            is_filing_enterprise: false,
        };
        assert_eq!(
            decide(S::Closed, A::Assign, official),
            Err(Refusal::NotPermitted { action: A::Assign })
        );
    }

    #[test]
    fn auto_close_only_from_resolved() {
        for status in S::ALL {
            let expected = if status == S::Resolved {
                Ok(Transition {
                    from: S::Resolved,
                    to: S::Closed,
                    event: E::AutoClosed,
                })
            } else {
                Err(Refusal::NotAllowedFromStatus {
                    action: A::Close,
                    status,
                })
            };
            assert_eq!(system_auto_close(status), expected);
        }
    }

    #[test]
    fn status_predicates() {
        let open: Vec<_> = S::ALL.into_iter().filter(|s| s.is_open()).collect();
        assert_eq!(
            open,
            [
                S::Submitted,
                S::Assigned,
                S::InProgress,
                S::AwaitingEnterprise
            ]
        );
        let running: Vec<_> = S::ALL.into_iter().filter(|s| s.clock_runs()).collect();
        assert_eq!(running, [S::Submitted, S::Assigned, S::InProgress]);
        assert!(S::ASSIGNED_OPEN.iter().all(|s| s.is_open()));
        assert!(!S::ASSIGNED_OPEN.contains(&S::Submitted));
        let terminal: Vec<_> = S::ALL.into_iter().filter(|s| s.is_terminal()).collect();
        assert_eq!(terminal, [S::Closed, S::Cancelled]);
        assert!(!S::Resolved.is_open() && !S::Resolved.is_terminal());
    }

    #[test]
    fn only_dispatch_notes_are_internal() {
        assert!(EventKind::Assigned.note_is_internal());
        assert!(EventKind::Returned.note_is_internal());
        for kind in [
            EventKind::Resolved,
            EventKind::Reopened,
            EventKind::Cancelled,
        ] {
            assert!(!kind.note_is_internal());
        }
    }

    #[test]
    fn comment_kinds() {
        use CommentKind as C;
        assert!(!C::Message.is_internal());
        for kind in [C::InternalNote, C::PhoneCall, C::SiteVisit] {
            assert!(kind.is_internal());
            assert!(!kind.allowed_for(Enterprise));
        }
        for kind in C::ALL {
            assert!(kind.allowed_for(Official));
            assert!(kind.allowed_for(Admin));
        }
        assert!(C::Message.allowed_for(Enterprise));
    }

    #[test]
    fn priority_defaults_to_normal() {
        assert_eq!(Priority::default(), Priority::Normal);
    }

    #[test]
    fn names_round_trip() {
        assert_names(
            &S::ALL,
            &[
                "submitted",
                "assigned",
                "in_progress",
                "resolved",
                "closed",
                "cancelled",
                "awaiting_enterprise",
            ],
        );
        assert_names(
            &A::ALL,
            &[
                "assign",
                "accept",
                "return",
                "resolve",
                "confirm",
                "reopen",
                "cancel",
                "close",
                "request_info",
                "provide_info",
            ],
        );
        assert_names(&Priority::ALL, &["low", "normal", "high", "urgent"]);
        assert_names(
            &E::ALL,
            &[
                "created",
                "assigned",
                "accepted",
                "returned",
                "resolved",
                "confirmed",
                "reopened",
                "cancelled",
                "closed",
                "auto_closed",
                "overdue",
                "comment",
                "attachment_added",
                "attachment_removed",
                "info_requested",
                "info_provided",
                "extension_requested",
                "extension_approved",
                "extension_rejected",
                "due_soon",
                "escalated",
            ],
        );
        assert_names(&ExtensionStatus::ALL, &["pending", "approved", "rejected"]);
        assert_names(
            &CommentKind::ALL,
            &["message", "internal_note", "phone_call", "site_visit"],
        );
        // Parsing is exact, like the database column it reads.
        assert!("InProgress".parse::<S>().is_err());
        assert!(" assigned".parse::<S>().is_err());
    }

    #[test]
    fn refusal_messages() {
        assert_eq!(
            Refusal::NotAllowedFromStatus {
                action: A::Accept,
                status: S::InProgress
            }
            .to_string(),
            "cannot accept a ticket whose status is in_progress"
        );
        assert_eq!(
            Refusal::NotPermitted { action: A::Close }.to_string(),
            "not permitted to close this ticket"
        );
    }

    fn actor_strategy() -> impl Strategy<Value = ActorRelation> {
        (
            prop::sample::select(Role::ALL.to_vec()),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(role, is_assignee, is_filing_enterprise)| ActorRelation {
                role,
                is_assignee,
                is_filing_enterprise,
            })
    }

    proptest! {
        #[test]
        fn random_walks_stay_on_the_diagram(
            steps in prop::collection::vec(
                (prop::sample::select(A::ALL.to_vec()), actor_strategy()),
                0..64,
            )
        ) {
            let mut status = S::Submitted;
            for (action, actor) in steps {
                let result = decide(status, action, actor);
                if status.is_terminal() {
                    prop_assert!(result.is_err());
                }
                if let Ok(transition) = result {
                    prop_assert_eq!(transition.from, status);
                    prop_assert!(
                        EDGES
                            .iter()
                            .any(|&(_, from, to, _)| from == transition.from && to == transition.to),
                        "edge {:?} -> {:?} is not in the diagram",
                        transition.from,
                        transition.to
                    );
                    status = transition.to;
                }
            }
        }

        /// However often the enterprise is asked, each answer brings the ticket back to work,
        /// and nothing but answering or cancelling leaves the waiting state.
        #[test]
        fn waiting_is_left_only_by_answering_or_cancelling(
            action in prop::sample::select(A::ALL.to_vec()),
            actor in actor_strategy(),
        ) {
            if let Ok(t) = decide(S::AwaitingEnterprise, action, actor) {
                prop_assert!(matches!(
                    (action, t.to),
                    (A::ProvideInfo, S::InProgress) | (A::Cancel, S::Cancelled)
                ));
            }
        }
    }
}
