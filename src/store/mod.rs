//! Diesel queries, one module per aggregate. Every function takes the caller's connection so
//! a use case composes them inside one transaction; none opens a transaction itself.

pub mod db;
pub mod outbox;
pub mod schema;

pub use db::{Backend, Db, DbConn};

/// Time-ordered ids (UUIDv7): they sort by creation, which keeps keyset pages and indexes tidy.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}
