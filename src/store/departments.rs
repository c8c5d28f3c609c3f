//! Departments and the categories routed to them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::db::DbConn;
use super::schema::{categories, departments};
use super::{StoreError, StoreResult};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = departments)]
pub struct DepartmentRow {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = categories)]
pub struct CategoryRow {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub department_id: String,
    pub sla_hours: i32,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub sla_working_days: Option<i32>,
}

pub fn insert_department(
    conn: &mut DbConn,
    name: &str,
    description: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<DepartmentRow> {
    let id = super::new_id();
    diesel::insert_into(departments::table)
        .values((
            departments::id.eq(&id),
            departments::name.eq(name),
            departments::description.eq(description),
            departments::active.eq(true),
            departments::created_at.eq(now),
            departments::updated_at.eq(now),
        ))
        .execute(conn)?;
    find_department(conn, &id)?
        .ok_or_else(|| StoreError::Corrupt("inserted department vanished".into()))
}

pub fn find_department(conn: &mut DbConn, id: &str) -> StoreResult<Option<DepartmentRow>> {
    Ok(departments::table
        .find(id)
        .select(DepartmentRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn department_name_taken(
    conn: &mut DbConn,
    name: &str,
    except: Option<&str>,
) -> StoreResult<bool> {
    let mut query = departments::table
        .filter(departments::name.eq(name))
        .into_boxed();
    if let Some(except) = except {
        query = query.filter(departments::id.ne(except.to_owned()));
    }
    Ok(query.count().get_result::<i64>(conn)? > 0)
}

/// `q` matches any part of the name, case-insensitively.
pub fn list_departments(
    conn: &mut DbConn,
    q: Option<&str>,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> StoreResult<Vec<DepartmentRow>> {
    let mut query = departments::table
        .select(DepartmentRow::as_select())
        .into_boxed();
    if let Some(q) = q {
        let pattern = super::like_pattern(&q.to_lowercase());
        query = query.filter(super::lower(departments::name).like(pattern).escape('\\'));
    }
    let query = keyset!(
        query,
        departments::created_at,
        departments::id,
        false,
        after
    );
    Ok(query.limit(limit).load(conn)?)
}

#[derive(Default, AsChangeset)]
#[diesel(table_name = departments)]
pub struct DepartmentChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub active: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn update_department(
    conn: &mut DbConn,
    id: &str,
    changes: &DepartmentChanges,
) -> StoreResult<usize> {
    Ok(diesel::update(departments::table.find(id))
        .set(changes)
        .execute(conn)?)
}

pub struct NewCategory<'a> {
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub department_id: &'a str,
    pub sla_hours: i32,
    pub sla_working_days: Option<i32>,
}

pub fn insert_category(
    conn: &mut DbConn,
    new: &NewCategory,
    now: NaiveDateTime,
) -> StoreResult<CategoryRow> {
    let id = super::new_id();
    diesel::insert_into(categories::table)
        .values((
            categories::id.eq(&id),
            categories::name.eq(new.name),
            categories::description.eq(new.description),
            categories::department_id.eq(new.department_id),
            categories::sla_hours.eq(new.sla_hours),
            categories::sla_working_days.eq(new.sla_working_days),
            categories::active.eq(true),
            categories::created_at.eq(now),
            categories::updated_at.eq(now),
        ))
        .execute(conn)?;
    find_category(conn, &id)?
        .ok_or_else(|| StoreError::Corrupt("inserted category vanished".into()))
}

pub fn find_category(conn: &mut DbConn, id: &str) -> StoreResult<Option<CategoryRow>> {
    Ok(categories::table
        .find(id)
        .select(CategoryRow::as_select())
        .first(conn)
        .optional()?)
}

/// `q` matches any part of the name, case-insensitively.
pub fn list_categories(
    conn: &mut DbConn,
    include_inactive: bool,
    q: Option<&str>,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> StoreResult<Vec<CategoryRow>> {
    let mut query = categories::table
        .select(CategoryRow::as_select())
        .into_boxed();
    if !include_inactive {
        query = query.filter(categories::active.eq(true));
    }
    if let Some(q) = q {
        let pattern = super::like_pattern(&q.to_lowercase());
        query = query.filter(super::lower(categories::name).like(pattern).escape('\\'));
    }
    let query = keyset!(query, categories::created_at, categories::id, false, after);
    Ok(query.limit(limit).load(conn)?)
}

#[derive(Default, AsChangeset)]
#[diesel(table_name = categories)]
pub struct CategoryChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub department_id: Option<String>,
    pub sla_hours: Option<i32>,
    pub sla_working_days: Option<Option<i32>>,
    pub active: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn update_category(
    conn: &mut DbConn,
    id: &str,
    changes: &CategoryChanges,
) -> StoreResult<usize> {
    Ok(diesel::update(categories::table.find(id))
        .set(changes)
        .execute(conn)?)
}
