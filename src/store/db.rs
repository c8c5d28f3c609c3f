//! Connections, pool, migrations and the one transaction helper every use case goes through.
//! Errors are [`StoreError`]; nothing here knows of HTTP or of the blocking pool.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::time::Duration;

use anyhow::{Context, bail};
use diesel::connection::{Connection, SimpleConnection};
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use secrecy::ExposeSecret;

use super::error::{StoreError, StoreResult};
use crate::config::DatabaseSettings;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// Chosen from the URL scheme: SQLite would accept any string as a file name.
    pub fn from_url(url: &str) -> anyhow::Result<(Backend, String)> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok((Backend::Postgres, url.to_owned()))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            Ok((Backend::Sqlite, path.to_owned()))
        } else if url == ":memory:" || url.starts_with("file:") {
            bail!("use sqlite://PATH for SQLite (got {url})")
        } else {
            bail!("unsupported database URL scheme (expected postgres:// or sqlite://)")
        }
    }
}

#[derive(Clone)]
pub struct Manager {
    backend: Backend,
    target: String,
    busy_timeout_ms: u32,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match self.backend {
            Backend::Postgres => PgConnection::establish(&self.target)
                .map(DbConn::Postgres)
                .map_err(r2d2::Error::ConnectionError),
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.target)
                    .map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the writer; busy_timeout makes writers wait for
                // each other instead of failing with "database is locked".
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                    self.busy_timeout_ms
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        use diesel::connection::TransactionManager;
        <DbConn as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

/// The pool, and how to replace a connection in it. Units of work run through
/// `service::unit::Db`, which puts them on the blocking pool.
#[derive(Clone)]
pub struct Database {
    pool: Pool<Manager>,
    /// Opens a fresh connection in place of one the database dropped.
    manager: Manager,
    backend: Backend,
}

pub type Conn = PooledConnection<Manager>;

impl Database {
    pub fn connect(settings: &DatabaseSettings) -> anyhow::Result<Database> {
        let (backend, target) = Backend::from_url(settings.url.expose_secret())?;
        if backend == Backend::Sqlite
            && let Some(parent) = std::path::Path::new(&target).parent()
            && !parent.as_os_str().is_empty()
        {
            crate::files::private_dir(parent)
                .with_context(|| format!("creating database directory {}", parent.display()))?;
        }
        if backend == Backend::Sqlite {
            crate::files::private_file(std::path::Path::new(&target))
                .with_context(|| format!("creating database file {target}"))?;
        }
        let manager = Manager {
            backend,
            target,
            busy_timeout_ms: settings.sqlite_busy_timeout_ms,
        };
        // Checkouts are not validated with a `SELECT 1` (a round trip in every read): a
        // connection the database dropped shows itself by failing, and the unit runner
        // replaces it then (see `renew`).
        let pool = Pool::builder()
            .max_size(settings.pool_size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(settings.connect_timeout_seconds))
            .test_on_check_out(false)
            .build(manager.clone())
            .context("connecting to the database")?;
        Ok(Database {
            pool,
            manager,
            backend,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    pub fn get(&self) -> StoreResult<Conn> {
        Ok(self.pool.get()?)
    }

    /// A pooled connection within `timeout` (readiness probes must not hang for the pool's
    /// full connection timeout).
    pub fn get_timeout(&self, timeout: Duration) -> StoreResult<Conn> {
        Ok(self.pool.get_timeout(timeout)?)
    }

    /// Replaces a connection the database dropped with a fresh one, in the pool's slot.
    pub fn renew(&self, conn: &mut DbConn) -> StoreResult<()> {
        *conn = self.manager.connect()?;
        Ok(())
    }

    /// [`transaction`], on PostgreSQL with a connection the database dropped replaced when
    /// `BEGIN` finds it dead: nothing has happened yet then, so starting over is safe.
    pub fn transaction<T, E, F>(&self, conn: &mut DbConn, f: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: FnOnce(&mut DbConn) -> Result<T, E>,
    {
        if let DbConn::Sqlite(_) = conn {
            return transaction(conn, f);
        }
        use diesel::connection::TransactionManager;
        type Tm = <DbConn as Connection>::TransactionManager;
        if let Err(e) = Tm::begin_transaction(conn) {
            let e = StoreError::from(e);
            if !e.connection_lost() {
                return Err(e.into());
            }
            self.renew(conn)?;
            Tm::begin_transaction(conn).map_err(StoreError::from)?;
        }
        match f(conn) {
            Ok(value) => {
                Tm::commit_transaction(conn).map_err(StoreError::from)?;
                Ok(value)
            }
            Err(e) => {
                // A failed rollback leaves the connection marked broken; the pool drops it.
                let _ = Tm::rollback_transaction(conn);
                Err(e)
            }
        }
    }

    pub fn migrate(&self) -> anyhow::Result<()> {
        let mut conn = self.pool.get().context("connecting to the database")?;
        migrate(&mut conn)
    }
}

/// What a unit's closure failed with, told apart from what diesel's transaction failed with.
enum Failure<E> {
    Store(diesel::result::Error),
    Unit(E),
}

impl<E> From<diesel::result::Error> for Failure<E> {
    fn from(e: diesel::result::Error) -> Self {
        Failure::Store(e)
    }
}

/// One write transaction. On SQLite it begins IMMEDIATE: taking the write lock up front means
/// a transaction that reads then writes waits in busy_timeout instead of failing with
/// SQLITE_BUSY when another writer committed in between. Store functions never open their own.
pub fn transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    E: From<StoreError>,
    F: FnOnce(&mut DbConn) -> Result<T, E>,
{
    match conn {
        DbConn::Postgres(_) => conn
            .transaction(|conn| f(conn).map_err(Failure::Unit))
            .map_err(|failure| match failure {
                Failure::Store(e) => StoreError::from(e).into(),
                Failure::Unit(e) => e,
            }),
        DbConn::Sqlite(_) => {
            conn.batch_execute("BEGIN IMMEDIATE")
                .map_err(StoreError::from)?;
            let outcome = catch_unwind(AssertUnwindSafe(|| f(conn)));
            match outcome {
                Ok(Ok(value)) => match conn.batch_execute("COMMIT") {
                    Ok(()) => Ok(value),
                    Err(e) => {
                        let _ = conn.batch_execute("ROLLBACK");
                        Err(StoreError::from(e).into())
                    }
                },
                Ok(Err(e)) => {
                    conn.batch_execute("ROLLBACK").map_err(StoreError::from)?;
                    Err(e)
                }
                Err(panic) => {
                    let _ = conn.batch_execute("ROLLBACK");
                    resume_unwind(panic)
                }
            }
        }
    }
}

pub fn migrate(conn: &mut DbConn) -> anyhow::Result<()> {
    match conn {
        DbConn::Sqlite(c) => {
            c.run_pending_migrations(SQLITE_MIGRATIONS)
                .map_err(|e| anyhow::anyhow!("SQLite migrations failed: {e}"))?;
        }
        DbConn::Postgres(c) => {
            // Several instances may start at once: one migrates, the others wait for it.
            c.batch_execute("SELECT pg_advisory_lock(7142001)")?;
            let result = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ());
            c.batch_execute("SELECT pg_advisory_unlock(7142001)")?;
            result.map_err(|e| anyhow::anyhow!("PostgreSQL migrations failed: {e}"))?;
        }
    }
    Ok(())
}

/// Timestamps are stored as naive UTC truncated to microseconds, PostgreSQL's precision, so
/// both backends read back exactly what was written.
pub fn now_micros(t: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
    use chrono::{SubsecRound, Timelike};
    let t = t.naive_utc();
    t.with_nanosecond(t.nanosecond() / 1000 * 1000)
        .unwrap_or_else(|| t.trunc_subsecs(0))
}
