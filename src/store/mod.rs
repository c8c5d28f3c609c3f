//! Diesel queries, one module per aggregate. Every function takes the caller's connection so
//! a use case composes them inside one transaction; none opens a transaction itself. Every
//! function returns [`StoreResult`]: the store knows nothing of HTTP or of `AppError`.

/// Keyset pagination on a boxed query: rows after the cursor `(value, id)` in `(col, id)`
/// order, ascending or descending, ids breaking ties.
macro_rules! keyset {
    ($query:expr, $col:expr, $id:expr, $descending:expr, $after:expr) => {{
        let mut q = $query;
        if let Some((value, id)) = $after {
            q = if $descending {
                q.filter($col.lt(value).or($col.eq(value).and($id.lt(id))))
            } else {
                q.filter($col.gt(value).or($col.eq(value).and($id.gt(id))))
            };
        }
        if $descending {
            q.order(($col.desc(), $id.desc()))
        } else {
            q.order(($col.asc(), $id.asc()))
        }
    }};
}

pub mod accounts;
pub mod attachments;
pub mod calendar;
pub mod db;
pub mod departments;
pub mod enterprises;
pub mod error;
pub mod extensions;
pub mod outbox;
pub mod schema;
pub mod sessions;
pub mod tickets;
pub mod users;

pub use db::{Backend, DbConn};
pub use error::{StoreError, StoreResult};

/// Time-ordered ids (UUIDv7): they sort by creation, which keeps keyset pages and indexes tidy.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

#[diesel::declare_sql_function]
extern "SQL" {
    /// Lower-cases on both backends (SQLite: ASCII only, which is what Latin search needs).
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// `%needle%` with LIKE's wildcards escaped (use with `.escape('\\')`).
pub fn like_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}
