//! The store's error: what a query, the pool or a stored value reports. It knows nothing of
//! HTTP; the services map it to `AppError` in one place (`impl From<StoreError> for AppError`
//! in `error.rs`), where a missing row becomes `not-found`, a unique violation `duplicate` and
//! everything else an internal error that is logged.

use diesel::result::{DatabaseErrorKind, Error};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Query(#[from] Error),
    #[error("database pool")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("connecting to the database")]
    Connect(#[from] diesel::r2d2::Error),
    /// A stored value no type can hold, or a row that vanished under the transaction that
    /// wrote it: never guessed around, always an error.
    #[error("{0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// Whether the connection itself is gone (the database restarted or dropped it), so the
    /// unit may start over on a fresh one.
    pub fn connection_lost(&self) -> bool {
        matches!(
            self,
            StoreError::Query(Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _
            ))
        )
    }
}
