//! What the API returns: views of stored rows, never a password hash.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::enterprise::{EnterpriseEventKind, EnterpriseRole, EnterpriseStatus};
use crate::domain::ids::OutboxId;
use crate::domain::outbox::OutboxStatus;
use crate::domain::role::Role;
use crate::store::accounts::InvitationRow;
use crate::store::departments::{CategoryRow, DepartmentRow};
use crate::store::enterprises::{EnterpriseEventRow, EnterpriseRow};
use crate::store::outbox::OutboxRow;
use crate::store::users::UserRow;

pub fn ts(t: NaiveDateTime) -> DateTime<Utc> {
    Utc.from_utc_datetime(&t)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub enterprise_id: Option<String>,
    pub department_id: Option<String>,
    pub active: bool,
    pub locale: String,
    pub created_at: DateTime<Utc>,
    pub email_verified: bool,
    /// Enterprise users: `owner` or `member`; null for staff.
    pub enterprise_role: Option<EnterpriseRole>,
}

impl From<UserRow> for UserView {
    fn from(u: UserRow) -> UserView {
        UserView {
            role: u.role,
            id: u.id,
            email: u.email,
            name: u.name,
            enterprise_id: u.enterprise_id,
            department_id: u.department_id,
            active: u.active,
            locale: u.locale,
            created_at: ts(u.created_at),
            email_verified: u.email_verified,
            enterprise_role: u.enterprise_role,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnterpriseView {
    pub id: String,
    pub name: String,
    #[schema(example = "91330100716105852F")]
    pub credit_code: String,
    pub address: Option<String>,
    pub industry: Option<String>,
    pub contact_phone: Option<String>,
    pub status: EnterpriseStatus,
    /// The reason given with the last review decision (a rejection's, a suspension's).
    pub status_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<EnterpriseRow> for EnterpriseView {
    fn from(e: EnterpriseRow) -> EnterpriseView {
        EnterpriseView {
            id: e.id,
            name: e.name,
            credit_code: e.credit_code,
            address: e.address,
            industry: e.industry,
            contact_phone: e.contact_phone,
            status: e.status,
            status_reason: e.status_reason,
            created_at: ts(e.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<DepartmentRow> for DepartmentView {
    fn from(d: DepartmentRow) -> DepartmentView {
        DepartmentView {
            id: d.id,
            name: d.name,
            description: d.description,
            active: d.active,
            created_at: ts(d.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub department_id: String,
    pub sla_hours: i32,
    /// When set, the deadline is the end of this many working days after filing, and
    /// `sla_hours` does not apply.
    #[schema(minimum = 1, maximum = 60)]
    pub sla_working_days: Option<i32>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<CategoryRow> for CategoryView {
    fn from(c: CategoryRow) -> CategoryView {
        CategoryView {
            id: c.id,
            name: c.name,
            description: c.description,
            department_id: c.department_id,
            sla_hours: c.sla_hours,
            sla_working_days: c.sla_working_days,
            active: c.active,
            created_at: ts(c.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxView {
    pub id: OutboxId,
    pub to: String,
    pub subject: String,
    /// `failed` will be retried; `dead` was given up on.
    pub status: OutboxStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<OutboxRow> for OutboxView {
    fn from(o: OutboxRow) -> OutboxView {
        OutboxView {
            id: o.id,
            to: o.recipient,
            subject: o.subject,
            status: o.status,
            attempts: o.attempts,
            last_error: o.last_error,
            next_attempt_at: ts(o.next_attempt_at),
            created_at: ts(o.created_at),
            sent_at: o.sent_at.map(ts),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnterpriseEventView {
    pub id: String,
    pub kind: EnterpriseEventKind,
    pub actor_id: Option<String>,
    pub from_status: Option<EnterpriseStatus>,
    pub to_status: Option<EnterpriseStatus>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<EnterpriseEventRow> for EnterpriseEventView {
    fn from(e: EnterpriseEventRow) -> EnterpriseEventView {
        EnterpriseEventView {
            id: e.id,
            kind: e.kind,
            actor_id: e.actor_id,
            from_status: e.from_status,
            to_status: e.to_status,
            note: e.note,
            created_at: ts(e.created_at),
        }
    }
}

/// A pending invitation; never its token.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub invited_by: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl From<InvitationRow> for InvitationView {
    fn from(i: InvitationRow) -> InvitationView {
        InvitationView {
            id: i.id,
            email: i.email,
            name: i.name,
            invited_by: i.invited_by,
            expires_at: ts(i.expires_at),
            created_at: ts(i.created_at),
        }
    }
}
