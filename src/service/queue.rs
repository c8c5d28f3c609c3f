//! The officials' work queue (the console's `/queue`): views over `GET /tickets`, their
//! counts, the names a page shows, and who a ticket can be reassigned to.

use std::collections::HashMap;

use super::AppState;
use super::auth::{Actor, Principal, load_actor};
use super::page::Page;
use super::tickets::{self, ListFilter, TicketView, scope_of};
use crate::domain::ids::DepartmentId;
use crate::domain::role::Role;
use crate::domain::ticket::TicketStatus;
use crate::error::{AppError, AppResult};
use crate::store::tickets::{self as store, TicketFilter};
use crate::store::{enterprises, users};

/// One tab of the queue. Each narrows the caller's scope; filters narrow it further.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueView {
    /// Assigned to the caller.
    Mine,
    /// The caller's department (officials).
    Department,
    /// Everything (admins, who have no department).
    All,
    Overdue,
    DueSoon,
    Awaiting,
    /// Waiting for dispatch (admins).
    Unassigned,
}

impl QueueView {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Mine => "mine",
            Self::Department => "department",
            Self::All => "all",
            Self::Overdue => "overdue",
            Self::DueSoon => "due_soon",
            Self::Awaiting => "awaiting",
            Self::Unassigned => "unassigned",
        }
    }

    pub fn parse(s: &str) -> Option<QueueView> {
        Self::of(Role::Admin)
            .iter()
            .chain(Self::of(Role::Official))
            .copied()
            .find(|v| v.as_str() == s)
    }

    /// The tabs a role has, the first one its default.
    pub const fn of(role: Role) -> &'static [QueueView] {
        use QueueView::*;
        match role {
            Role::Admin => &[All, Overdue, DueSoon, Awaiting, Unassigned],
            Role::Official => &[Mine, Department, Overdue, DueSoon, Awaiting],
            Role::Enterprise => &[],
        }
    }

    /// The view fixes the status: the status filter does not apply.
    pub const fn fixes_status(self) -> bool {
        matches!(self, Self::Awaiting | Self::Unassigned)
    }

    fn narrow(self, actor: &Actor, f: &mut TicketFilter) -> AppResult<()> {
        if !Self::of(actor.role).contains(&self) {
            return Err(AppError::forbidden("this queue is not one of your role's"));
        }
        match self {
            Self::Mine => f.assignee_id = Some(actor.id.clone()),
            // An official without a department has only their own tickets in scope.
            Self::Department => {
                f.department_id = Some(
                    actor
                        .department_id
                        .clone()
                        .unwrap_or_else(|| DepartmentId::from("")),
                );
            }
            Self::All => {}
            Self::Overdue => f.overdue = Some(true),
            Self::DueSoon => f.due_soon = true,
            Self::Awaiting => f.statuses = vec![TicketStatus::AwaitingEnterprise],
            Self::Unassigned => f.statuses = vec![TicketStatus::Submitted],
        }
        Ok(())
    }
}

/// One page of a view, with the filters of `GET /tickets` applied as well.
#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn page(
    state: &AppState,
    principal: Principal,
    view: QueueView,
    filter: ListFilter,
) -> AppResult<Page<TicketView>> {
    tickets::list_narrowed(state, principal, filter, move |actor, f| {
        view.narrow(actor, f)
    })
    .await
}

/// Each of the caller's views with the number of open tickets in it (filters aside).
#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn counts(state: &AppState, principal: Principal) -> AppResult<Vec<(QueueView, i64)>> {
    let now = state.clock.now();
    state
        .db
        .run(move |conn| {
            let actor = load_actor(conn, &principal)?;
            actor.require(&[Role::Official, Role::Admin])?;
            QueueView::of(actor.role)
                .iter()
                .map(|&view| {
                    let mut f = TicketFilter::new(scope_of(&actor), now);
                    f.statuses = TicketStatus::OPEN.to_vec();
                    view.narrow(&actor, &mut f)?;
                    Ok((view, store::count(conn, &f)?))
                })
                .collect()
        })
        .await
}

/// Names of people and enterprises for a staff page, by id.
#[derive(Debug, Default)]
pub struct Names {
    pub users: HashMap<String, String>,
    pub enterprises: HashMap<String, String>,
}

impl Names {
    /// The ticket's enterprise's name (empty if it could not be read).
    pub fn enterprise_of(&self, t: &TicketView) -> String {
        self.enterprises
            .get(t.enterprise_id.as_str())
            .cloned()
            .unwrap_or_default()
    }

    /// The ticket's assignee's name, if it has one.
    pub fn assignee_of(&self, t: &TicketView) -> Option<String> {
        t.assignee_id
            .as_ref()
            .and_then(|a| self.users.get(a.as_str()).cloned())
    }
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn names(
    state: &AppState,
    principal: Principal,
    user_ids: Vec<String>,
    enterprise_ids: Vec<String>,
) -> AppResult<Names> {
    state
        .db
        .run(move |conn| {
            let actor = load_actor(conn, &principal)?;
            actor.require(&[Role::Official, Role::Admin])?;
            Ok(Names {
                users: users::names(conn, &user_ids)?.into_iter().collect(),
                enterprises: enterprises::names(conn, &enterprise_ids)?
                    .into_iter()
                    .collect(),
            })
        })
        .await
}

/// An official a ticket may be assigned to, with their open tickets.
#[derive(Debug, Clone)]
pub struct Assignable {
    pub id: String,
    pub name: String,
    pub open_tickets: i64,
}

/// The department's active officials and their load (admins, choosing whom to assign).
#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, department_id = %department_id))]
pub async fn assignable(
    state: &AppState,
    principal: Principal,
    department_id: String,
) -> AppResult<Vec<Assignable>> {
    state
        .db
        .run(move |conn| {
            let actor = load_actor(conn, &principal)?;
            actor.require(&[Role::Admin])?;
            Ok(users::officials_with_load(conn, &department_id)?
                .into_iter()
                .map(|(id, name, open_tickets)| Assignable {
                    id,
                    name,
                    open_tickets,
                })
                .collect())
        })
        .await
}
