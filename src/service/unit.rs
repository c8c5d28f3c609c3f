//! The unit runner: every use case's database work is one closure over a pooled connection,
//! run on the blocking pool inside the caller's span. The closures speak `AppError`; the store
//! functions they compose return `StoreError`, which `?` maps.

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;

use crate::config::DatabaseSettings;
use crate::error::{AppError, AppResult};
use crate::store::StoreError;
use crate::store::db::{Backend, Conn, Database, DbConn, transaction};

/// The pool plus what the services need to know about it.
#[derive(Clone)]
pub struct Db {
    database: Database,
    /// SQLite has one writer at a time; writers of this process queue here in order instead
    /// of polling the file lock in SQLite's busy handler, whose sleeps made tail latency
    /// seconds long under contention. (Other processes still wait in `busy_timeout`.)
    sqlite_writer: Arc<tokio::sync::Mutex<()>>,
}

impl Db {
    pub fn connect(settings: &DatabaseSettings) -> anyhow::Result<Db> {
        Ok(Db {
            database: Database::connect(settings)?,
            sqlite_writer: Arc::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.database.backend()
    }

    pub fn pool_state(&self) -> (u32, u32) {
        self.database.pool_state()
    }

    pub fn migrate(&self) -> anyhow::Result<()> {
        self.database.migrate()
    }

    pub fn get(&self) -> AppResult<Conn> {
        Ok(self.database.get()?)
    }

    /// Runs `f` with a pooled connection on the blocking pool, inside the caller's span.
    async fn with_conn<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&Database, &mut DbConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let database = self.database.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn = database.get()?;
            f(&database, &mut conn)
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?
    }

    /// Runs the reads in `f` in one round trip per query: the connection is not pinged first.
    /// If it turns out to be dead, `f` runs once more on a fresh one, which is safe because
    /// it only reads.
    pub async fn read<T, F>(&self, f: F) -> AppResult<T>
    where
        F: Fn(&mut DbConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.with_conn(move |database, conn| match f(conn) {
            Err(e) if lost(&e) => {
                database.renew(conn)?;
                f(conn)
            }
            other => other,
        })
        .await
    }

    /// Runs `f`, which cannot be repeated, with a pooled connection checked first: on
    /// PostgreSQL a `SELECT 1`, and a fresh connection if that fails. Reads go through
    /// [`Db::read`] and changes through [`Db::write`], which need no extra round trip.
    pub async fn run<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.with_conn(move |database, conn| {
            if let DbConn::Postgres(_) = conn
                && conn.batch_execute("SELECT 1").is_err()
            {
                database.renew(conn)?;
            }
            f(conn)
        })
        .await
    }

    /// Whether the database answers within `timeout` (readiness probes must not hang for the
    /// pool's full connection timeout).
    pub async fn ping(&self, timeout: Duration) -> AppResult<()> {
        let database = self.database.clone();
        tokio::task::spawn_blocking(move || -> AppResult<()> {
            let mut conn = database.get_timeout(timeout)?;
            conn.batch_execute("SELECT 1").map_err(StoreError::from)?;
            Ok(())
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?
    }

    /// Runs `f` in one write transaction: everything it does commits together or not at all.
    pub async fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let _turn = match self.backend() {
            Backend::Sqlite => Some(self.sqlite_writer.lock().await),
            Backend::Postgres => None,
        };
        self.with_conn(move |database, conn| database.transaction(conn, f))
            .await
    }

    /// Like [`Db::write`], with `reserve` run first on the same connection. On PostgreSQL
    /// `reserve` commits on its own (asynchronously: the main transaction's commit flushes the
    /// log past it), so a hot row it takes, such as the day's reference counter, is locked for
    /// one statement instead of the whole of `f`; when `f` fails, what `reserve` took stays
    /// taken (a gap in the numbers). SQLite runs one writer at a time, so there it is simply the
    /// first step of the transaction: a separate commit would cost an fsync and gain nothing.
    pub async fn write_reserving<R, T, P, F>(&self, reserve: P, f: F) -> AppResult<T>
    where
        P: FnOnce(&mut DbConn) -> AppResult<R> + Send + 'static,
        F: FnOnce(&mut DbConn, R) -> AppResult<T> + Send + 'static,
        R: Send + 'static,
        T: Send + 'static,
    {
        let _turn = match self.backend() {
            Backend::Sqlite => Some(self.sqlite_writer.lock().await),
            Backend::Postgres => None,
        };
        self.with_conn(move |database, conn| match conn {
            DbConn::Postgres(_) => {
                let reserved = database.transaction(conn, |conn| {
                    conn.batch_execute("SET LOCAL synchronous_commit = off")
                        .map_err(StoreError::from)?;
                    reserve(conn)
                })?;
                transaction(conn, |conn| f(conn, reserved))
            }
            DbConn::Sqlite(_) => database.transaction(conn, |conn| {
                let reserved = reserve(conn)?;
                f(conn, reserved)
            }),
        })
        .await
    }
}

/// Whether `e` says the connection itself is gone (the database restarted or dropped it).
fn lost(e: &AppError) -> bool {
    let AppError::Internal(e) = e else {
        return false;
    };
    e.chain().any(|cause| {
        cause
            .downcast_ref::<StoreError>()
            .is_some_and(StoreError::connection_lost)
    })
}
