//! Rows of one table collected in memory and written as multi-row INSERTs.

use crate::error::AppResult;
use crate::stats::sql::{Bind, Sql};
use crate::store::DbConn;

pub struct Rows {
    table: &'static str,
    columns: &'static [&'static str],
    rows: Vec<Vec<Bind>>,
}

impl Rows {
    pub fn new(table: &'static str, columns: &'static [&'static str]) -> Rows {
        Rows {
            table,
            columns,
            rows: Vec::new(),
        }
    }

    pub fn add(&mut self, row: Vec<Bind>) {
        debug_assert_eq!(row.len(), self.columns.len(), "a row for {}", self.table);
        self.rows.push(row);
    }

    /// As many rows per statement as the bind limits allow: SQLite takes 32,766 bound values
    /// per statement, PostgreSQL 65,535.
    pub fn flush(&mut self, conn: &mut DbConn) -> AppResult<()> {
        let per_statement = 30_000 / self.columns.len();
        let mut rows = std::mem::take(&mut self.rows).into_iter().peekable();
        while rows.peek().is_some() {
            let mut sql = Sql::new(conn);
            sql.push(&format!(
                "INSERT INTO {} ({}) VALUES ",
                self.table,
                self.columns.join(", ")
            ));
            for (i, row) in rows.by_ref().take(per_statement).enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" });
                for (j, value) in row.into_iter().enumerate() {
                    if j > 0 {
                        sql.push(", ");
                    }
                    sql.bind(value);
                }
                sql.push(")");
            }
            sql.execute(conn)?;
        }
        Ok(())
    }
}

pub const USERS: &[&str] = &[
    "id",
    "email",
    "name",
    "role",
    "enterprise_id",
    "department_id",
    "password_hash",
    "active",
    "locale",
    "created_at",
    "updated_at",
    "email_verified",
    "enterprise_role",
];
pub const DEPARTMENTS: &[&str] = &[
    "id",
    "name",
    "description",
    "active",
    "created_at",
    "updated_at",
];
pub const CATEGORIES: &[&str] = &[
    "id",
    "name",
    "description",
    "department_id",
    "sla_hours",
    "active",
    "created_at",
    "updated_at",
];
pub const ENTERPRISES: &[&str] = &[
    "id",
    "name",
    "credit_code",
    "address",
    "industry",
    "contact_phone",
    "status",
    "created_at",
    "updated_at",
];
pub const TICKETS: &[&str] = &[
    "id",
    "reference",
    "title",
    "description",
    "search_text",
    "category_id",
    "department_id",
    "assignee_id",
    "enterprise_id",
    "created_by",
    "priority",
    "status",
    "due_at",
    "overdue_at",
    "warn_at",
    "warned_for",
    "escalated_for",
    "created_at",
    "updated_at",
    "accepted_at",
    "resolved_at",
    "closed_at",
    "cancelled_at",
    "resolution",
    "rating",
    "feedback",
    "auto_closed",
    "reopen_count",
    "version",
];
pub const EVENTS: &[&str] = &[
    "id",
    "ticket_id",
    "kind",
    "actor_id",
    "from_status",
    "to_status",
    "note",
    "internal",
    "created_at",
];
pub const COMMENTS: &[&str] = &["id", "ticket_id", "author_id", "kind", "body", "created_at"];
