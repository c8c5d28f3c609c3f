//! Raw SQL with a variable number of bound values, for the statements diesel's query builder
//! cannot express on the multi-backend connection (percentiles, multi-row inserts).

use std::fmt::Write;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};

use super::Filter;
use crate::error::AppResult;
use crate::store::DbConn;

pub type Backend = <DbConn as diesel::Connection>::Backend;

pub enum Bind {
    Text(String),
    OptText(Option<String>),
    Ts(NaiveDateTime),
    OptTs(Option<NaiveDateTime>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
}

/// SQL text with its parameters, each use of a value bound once, in order of appearance:
/// `$n` on PostgreSQL, `?` on SQLite (which looks each named `$n` up linearly, quadratic in a
/// multi-row insert's thousands of values).
pub struct Sql {
    pub text: String,
    binds: Vec<Bind>,
    numbered: bool,
}

impl Sql {
    pub fn new(conn: &DbConn) -> Sql {
        Sql {
            text: String::new(),
            binds: Vec::new(),
            numbered: matches!(conn, DbConn::Postgres(_)),
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    pub fn bind(&mut self, value: Bind) -> &mut Sql {
        self.binds.push(value);
        if self.numbered {
            let _ = write!(self.text, "${}", self.binds.len());
        } else {
            self.text.push('?');
        }
        self
    }

    /// `WHERE`/`AND` conditions of the filter, on tickets aliased `t`.
    pub fn filter(&mut self, f: &Filter, joiner: &'static str) -> &mut Sql {
        self.filter_columns(f, joiner, "t.created_at", "t.")
    }

    /// The filter's conditions on `created` for the bounds and on `department_id` and
    /// `category_id` of the table `prefix` names.
    pub fn filter_columns(
        &mut self,
        f: &Filter,
        mut joiner: &'static str,
        created: &str,
        prefix: &str,
    ) -> &mut Sql {
        let mut cond = |sql: &mut Sql, column: &str, op: &str, value: Bind| {
            sql.push(joiner).push(column).push(op).bind(value);
            joiner = " AND ";
        };
        if let Some(v) = f.from {
            cond(self, created, " >= ", Bind::Ts(v));
        }
        if let Some(v) = f.to {
            cond(self, created, " < ", Bind::Ts(v));
        }
        if let Some(v) = &f.department_id {
            cond(
                self,
                &format!("{prefix}department_id"),
                " = ",
                Bind::Text(v.clone()),
            );
        }
        if let Some(v) = &f.category_id {
            cond(
                self,
                &format!("{prefix}category_id"),
                " = ",
                Bind::Text(v.clone()),
            );
        }
        self
    }

    pub fn load<R>(self, conn: &mut DbConn) -> AppResult<Vec<R>>
    where
        R: QueryableByName<Backend> + 'static,
    {
        Ok(self.boxed().load(conn)?)
    }

    pub fn execute(self, conn: &mut DbConn) -> AppResult<usize> {
        Ok(self.boxed().execute(conn)?)
    }

    fn boxed(self) -> BoxedSqlQuery<'static, Backend, SqlQuery> {
        let mut query = diesel::sql_query(self.text).into_boxed::<Backend>();
        for value in self.binds {
            query = match value {
                Bind::Text(v) => query.bind::<Text, _>(v),
                Bind::Ts(v) => query.bind::<Timestamp, _>(v),
                Bind::Int(v) => query.bind::<BigInt, _>(v),
                Bind::OptText(v) => query.bind::<Nullable<Text>, _>(v),
                Bind::OptTs(v) => query.bind::<Nullable<Timestamp>, _>(v),
                Bind::OptInt(v) => query.bind::<Nullable<BigInt>, _>(v),
                Bind::Bool(v) => query.bind::<Bool, _>(v),
            };
        }
        query
    }
}
