//! Query strings parsed into the typed filters the use cases take. `GET /tickets` is read from
//! the raw pairs, since `status` may repeat; the console builds the same pairs from its forms
//! and parses them here too, so both answer a bad value with the same field error.

use chrono::NaiveDateTime;

use crate::domain::ticket::TicketStatus;
use crate::error::AppResult;
use crate::service::page;
use crate::service::tickets::{ListFilter, SortKey, TicketQuery};
use crate::service::validate::Checks;
use crate::service::validate::parse_bound;

/// The pairs of `GET /tickets`, every wrong value a field error of one 422.
pub fn ticket_list(pairs: Vec<(String, String)>, tz: chrono_tz::Tz) -> AppResult<ListFilter> {
    let mut checks = Checks::new();
    let (q, statuses) = ticket_query(pairs, &mut checks);
    let (sort, descending) = match q.sort.as_deref().unwrap_or("-created_at") {
        "created_at" => (SortKey::CreatedAt, false),
        "-created_at" => (SortKey::CreatedAt, true),
        "due_at" => (SortKey::DueAt, false),
        "-due_at" => (SortKey::DueAt, true),
        "updated_at" => (SortKey::UpdatedAt, false),
        "-updated_at" => (SortKey::UpdatedAt, true),
        _ => {
            checks.fail(
                "sort",
                "must be created_at, -created_at, due_at, -due_at, updated_at or -updated_at",
            );
            (SortKey::CreatedAt, true)
        }
    };
    let mut bound = |field: &str, value: Option<&str>, end_of_day: bool| {
        value.and_then(|v| {
            parse_bound(field, v, tz, end_of_day)
                .map_err(|e| checks.fail(field, e.to_string()))
                .ok()
        })
    };
    let created_from = bound("created_from", q.created_from.as_deref(), false);
    let created_to = bound("created_to", q.created_to.as_deref(), true);
    let limit = page::limit(q.limit)
        .map_err(|e| checks.fail("limit", e.to_string()))
        .unwrap_or(20);
    let after = page::decode::<(NaiveDateTime, String)>(q.cursor.as_deref())
        .map_err(|_| checks.fail("cursor", "is not a cursor this API issued"))
        .ok()
        .flatten();
    checks.done()?;
    Ok(ListFilter {
        statuses,
        category_id: q.category_id.map(Into::into),
        department_id: q.department_id.map(Into::into),
        assignee_id: q.assignee_id,
        enterprise_id: q.enterprise_id.map(Into::into),
        priority: q.priority,
        overdue: q.overdue,
        due_soon: q.due_soon == Some(true),
        q: q.q
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty()),
        created_from,
        created_to,
        sort,
        descending,
        limit,
        after,
    })
}

/// The pairs by name, with the statuses of every `status` (repeated, or comma lists).
fn ticket_query(
    pairs: Vec<(String, String)>,
    checks: &mut Checks,
) -> (TicketQuery, Vec<TicketStatus>) {
    let mut q = TicketQuery::default();
    let mut statuses = Vec::new();
    let flag = |checks: &mut Checks, field: &str, value: &str| match value {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => {
            checks.fail(field, "must be true or false");
            None
        }
    };
    for (key, value) in pairs {
        match key.as_str() {
            "status" => {
                for s in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    match s.parse::<TicketStatus>() {
                        Ok(s) => statuses.push(s),
                        Err(_) => checks.fail("status", format!("unknown status {s}")),
                    }
                }
            }
            "limit" => match value.parse() {
                Ok(n) => q.limit = Some(n),
                Err(_) => checks.fail("limit", "must be a number"),
            },
            "cursor" => q.cursor = Some(value),
            "category_id" => q.category_id = Some(value),
            "department_id" => q.department_id = Some(value),
            "assignee_id" => q.assignee_id = Some(value),
            "enterprise_id" => q.enterprise_id = Some(value),
            "priority" => match value.parse() {
                Ok(p) => q.priority = Some(p),
                Err(_) => checks.fail("priority", "must be low, normal, high or urgent"),
            },
            "overdue" => {
                if let Some(v) = flag(checks, "overdue", &value) {
                    q.overdue = Some(v);
                }
            }
            "due_soon" => {
                if let Some(v) = flag(checks, "due_soon", &value) {
                    q.due_soon = Some(v);
                }
            }
            "q" => q.q = Some(value),
            "created_from" => q.created_from = Some(value),
            "created_to" => q.created_to = Some(value),
            "sort" => q.sort = Some(value),
            _ => {}
        }
    }
    (q, statuses)
}
