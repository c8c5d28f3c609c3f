//! Connections, pool, migrations and the one transaction helper every use case goes through.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use diesel::connection::{Connection, SimpleConnection};
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use secrecy::ExposeSecret;

use crate::config::DatabaseSettings;
use crate::error::AppError;

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

/// The pool plus what the services need to know about it.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    /// Opens a fresh connection in place of one the database dropped.
    manager: Manager,
    backend: Backend,
    /// SQLite has one writer at a time; writers of this process queue here in order instead
    /// of polling the file lock in SQLite's busy handler, whose sleeps made tail latency
    /// seconds long under contention. (Other processes still wait in `busy_timeout`.)
    sqlite_writer: Arc<tokio::sync::Mutex<()>>,
}

pub type Conn = PooledConnection<Manager>;

impl Db {
    pub fn connect(settings: &DatabaseSettings) -> anyhow::Result<Db> {
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
        // connection the database dropped shows itself by failing, and `read`, `run` and
        // `write` replace it then (see `renew`).
        let pool = Pool::builder()
            .max_size(settings.pool_size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(settings.connect_timeout_seconds))
            .test_on_check_out(false)
            .build(manager.clone())
            .context("connecting to the database")?;
        Ok(Db {
            pool,
            manager,
            backend,
            sqlite_writer: Arc::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    pub fn get(&self) -> Result<Conn, AppError> {
        self.pool
            .get()
            .map_err(|e| AppError::Internal(anyhow::anyhow!(e).context("database pool")))
    }

    /// Runs `f` with a pooled connection on the blocking pool, inside the caller's span.
    async fn with_conn<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&Db, &mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        let span = tracing::Span::current();
        actix_web::web::block(move || {
            let _entered = span.enter();
            let mut conn = db.get()?;
            f(&db, &mut conn)
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?
    }

    /// Replaces a connection the database dropped with a fresh one, in the pool's slot.
    fn renew(&self, conn: &mut DbConn) -> Result<(), AppError> {
        *conn = self
            .manager
            .connect()
            .map_err(|e| AppError::Internal(anyhow::anyhow!(e).context("reconnecting")))?;
        Ok(())
    }

    /// Runs the reads in `f` in one round trip per query: the connection is not pinged first.
    /// If it turns out to be dead, `f` runs once more on a fresh one, which is safe because
    /// it only reads.
    pub async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: Fn(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.with_conn(move |db, conn| match f(conn) {
            Err(e) if lost(&e) => {
                db.renew(conn)?;
                f(conn)
            }
            other => other,
        })
        .await
    }

    /// Runs `f`, which cannot be repeated, with a pooled connection checked first: on
    /// PostgreSQL a `SELECT 1`, and a fresh connection if that fails. Reads go through
    /// [`Db::read`] and changes through [`Db::write`], which need no extra round trip.
    pub async fn run<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.with_conn(move |db, conn| {
            if let DbConn::Postgres(_) = conn
                && conn.batch_execute("SELECT 1").is_err()
            {
                db.renew(conn)?;
            }
            f(conn)
        })
        .await
    }

    /// Whether the database answers within `timeout` (readiness probes must not hang for the
    /// pool's full connection timeout).
    pub async fn ping(&self, timeout: Duration) -> Result<(), AppError> {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool
                .get_timeout(timeout)
                .map_err(|e| AppError::Internal(anyhow::anyhow!(e).context("database pool")))?;
            conn.batch_execute("SELECT 1").map_err(AppError::from)
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?
    }

    /// Runs `f` in one write transaction: everything it does commits together or not at all.
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let _turn = match self.backend {
            Backend::Sqlite => Some(self.sqlite_writer.lock().await),
            Backend::Postgres => None,
        };
        self.with_conn(move |db, conn| db.transaction(conn, f))
            .await
    }

    /// Like [`Db::write`], with `reserve` run first on the same connection. On PostgreSQL
    /// `reserve` commits on its own (asynchronously: the main transaction's commit flushes the
    /// log past it), so a hot row it takes, such as the day's reference counter, is locked for
    /// one statement instead of the whole of `f`; when `f` fails, what `reserve` took stays
    /// taken (a gap in the numbers). SQLite runs one writer at a time, so there it is simply the
    /// first step of the transaction: a separate commit would cost an fsync and gain nothing.
    pub async fn write_reserving<R, T, P, F>(&self, reserve: P, f: F) -> Result<T, AppError>
    where
        P: FnOnce(&mut DbConn) -> Result<R, AppError> + Send + 'static,
        F: FnOnce(&mut DbConn, R) -> Result<T, AppError> + Send + 'static,
        R: Send + 'static,
        T: Send + 'static,
    {
        let _turn = match self.backend {
            Backend::Sqlite => Some(self.sqlite_writer.lock().await),
            Backend::Postgres => None,
        };
        self.with_conn(move |db, conn| match conn {
            DbConn::Postgres(_) => {
                let reserved = db.transaction(conn, |conn| {
                    conn.batch_execute("SET LOCAL synchronous_commit = off")?;
                    reserve(conn)
                })?;
                transaction(conn, |conn| f(conn, reserved))
            }
            DbConn::Sqlite(_) => db.transaction(conn, |conn| {
                let reserved = reserve(conn)?;
                f(conn, reserved)
            }),
        })
        .await
    }

    /// [`transaction`], on PostgreSQL with a connection the database dropped replaced when
    /// `BEGIN` finds it dead: nothing has happened yet then, so starting over is safe.
    fn transaction<T, F>(&self, conn: &mut DbConn, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError>,
    {
        if let DbConn::Sqlite(_) = conn {
            return transaction(conn, f);
        }
        use diesel::connection::TransactionManager;
        type Tm = <DbConn as Connection>::TransactionManager;
        if let Err(e) = Tm::begin_transaction(conn) {
            let e = AppError::from(e);
            if !lost(&e) {
                return Err(e);
            }
            self.renew(conn)?;
            Tm::begin_transaction(conn)?;
        }
        match f(conn) {
            Ok(value) => {
                Tm::commit_transaction(conn)?;
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

/// Whether `e` says the connection itself is gone (the database restarted or dropped it).
fn lost(e: &AppError) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    let AppError::Internal(e) = e else {
        return false;
    };
    e.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<Error>(),
            Some(Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _
            ))
        )
    })
}

/// One write transaction. On SQLite it begins IMMEDIATE: taking the write lock up front means
/// a transaction that reads then writes waits in busy_timeout instead of failing with
/// SQLITE_BUSY when another writer committed in between. Store functions never open their own.
pub fn transaction<T, F>(conn: &mut DbConn, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<T, AppError>,
{
    match conn {
        DbConn::Postgres(_) => conn.transaction(f),
        DbConn::Sqlite(_) => {
            conn.batch_execute("BEGIN IMMEDIATE")?;
            let outcome = catch_unwind(AssertUnwindSafe(|| f(conn)));
            match outcome {
                Ok(Ok(value)) => match conn.batch_execute("COMMIT") {
                    Ok(()) => Ok(value),
                    Err(e) => {
                        let _ = conn.batch_execute("ROLLBACK");
                        Err(e.into())
                    }
                },
                Ok(Err(e)) => {
                    conn.batch_execute("ROLLBACK")?;
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
