//! The harness: the real app on port 0, a fresh database per test (a temp SQLite file, or a
//! fresh PostgreSQL database when QIFU_TEST_DATABASE_URL is set, dropped afterwards), a real
//! SMTP listener, and a clock the test moves.

use std::sync::Arc;

use actix_web::web;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use qifu::clock::ShiftedClock;
use qifu::config::Settings;
use qifu::service::AppState;
use qifu::startup::Application;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio::sync::watch;

use super::smtp::SmtpSink;

pub const PASSWORD: &str = "Test-Passw0rd-2026";

pub struct TestApp {
    pub database_url: String,
    pub address: String,
    pub api: String,
    pub state: web::Data<AppState>,
    pub clock: Arc<ShiftedClock>,
    pub smtp: SmtpSink,
    pub client: reqwest::Client,
    _stop: watch::Sender<bool>,
    _database: TestDatabase,
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: HeaderMap,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Resp {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }

    /// Asserts a problem+json answer with this status and code.
    #[track_caller]
    pub fn problem(self, status: u16, code: &str) -> Resp {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        assert_eq!(
            self.body["code"], code,
            "unexpected code; body: {}",
            self.body
        );
        assert_eq!(self.body["status"], status);
        assert!(
            self.header("content-type")
                .unwrap_or_default()
                .starts_with("application/problem+json"),
            "not problem+json: {:?}",
            self.headers
        );
        self
    }
}

pub enum TestDatabase {
    // Held so the directory outlives the app.
    Sqlite(#[expect(dead_code)] tempfile::TempDir),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// Another instance's database: that instance drops it.
    Shared,
}

pub fn on_postgres() -> bool {
    std::env::var("QIFU_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { admin_url, name } = self
            && let Ok(mut conn) = PgConnection::establish(admin_url)
        {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
        }
    }
}

pub fn fresh_database() -> (String, TestDatabase) {
    match std::env::var("QIFU_TEST_DATABASE_URL") {
        Ok(admin_url) if admin_url.starts_with("postgres") => {
            let name = format!("qifu_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn =
                PgConnection::establish(&admin_url).expect("QIFU_TEST_DATABASE_URL must connect");
            conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
                .unwrap();
            let (base, _) = admin_url
                .rsplit_once('/')
                .expect("database URL with a database name");
            let url = format!("{base}/{name}");
            (url, TestDatabase::Postgres { admin_url, name })
        }
        _ => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("test.db").display());
            (url, TestDatabase::Sqlite(dir))
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(json!({})).await
}

/// Starts the app with extra settings merged over the test defaults.
pub async fn spawn_app_with(overrides: Value) -> TestApp {
    let (url, database) = fresh_database();
    let smtp = SmtpSink::start().await;
    spawn_on(url, database, smtp, overrides).await
}

/// Another instance on the same database, mailing to the same SMTP listener's port.
pub async fn spawn_sibling(first: &TestApp) -> TestApp {
    let smtp = SmtpSink::start().await;
    let overrides = json!({"mail": {"smtp_url": format!("smtp://127.0.0.1:{}", first.smtp.port)}});
    spawn_on(
        first.database_url.clone(),
        TestDatabase::Shared,
        smtp,
        overrides,
    )
    .await
}

async fn spawn_on(
    url: String,
    database: TestDatabase,
    smtp: SmtpSink,
    overrides: Value,
) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        qifu::telemetry::init(&qifu::config::LogSettings {
            format: qifu::config::LogFormat::Pretty,
            level: "info".into(),
        });
    }
    let mut settings = json!({
        "server": {"bind": "127.0.0.1:0", "workers": 2, "shutdown_grace_seconds": 2},
        "database": {"url": url.clone(), "pool_size": 8},
        "auth": {"jwt_secret": "test-secret-0123456789-0123456789-0123456789"},
        "mail": {"transport": "smtp", "smtp_url": format!("smtp://127.0.0.1:{}", smtp.port),
                 "poll_interval_ms": 50, "retry_initial_seconds": 1, "max_attempts": 3},
        "jobs": {"interval_seconds": 3600},
    });
    merge(&mut settings, overrides);
    let settings = Settings::with_overrides(settings).expect("test settings");
    let clock = Arc::new(ShiftedClock::default());
    let app = Application::build(settings, clock.clone())
        .await
        .expect("app builds");
    let port = app.port();
    let state = app.state();
    let (stop, stop_rx) = watch::channel(false);
    app.spawn_background(stop_rx).expect("background tasks");
    tokio::spawn(app.into_server());
    let address = format!("http://127.0.0.1:{port}");
    TestApp {
        database_url: url,
        api: format!("{address}/api/v1"),
        address,
        state,
        clock,
        smtp,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        _stop: stop,
        _database: database,
    }
}

fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k).or_insert(Value::Null), v);
            }
        }
        (b, o) => *b = o,
    }
}

impl TestApp {
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.unwrap_or_default();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Resp {
            status,
            body,
            headers,
        }
    }

    fn with_token(req: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(Self::with_token(
            self.client.get(format!("{}{path}", self.api)),
            token,
        ))
        .await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.send(
            Self::with_token(self.client.post(format!("{}{path}", self.api)), token).json(&body),
        )
        .await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.send(
            Self::with_token(self.client.patch(format!("{}{path}", self.api)), token).json(&body),
        )
        .await
    }

    pub async fn run_jobs(&self) {
        qifu::jobs::sweep(&self.state).await.expect("sweep");
    }
}

/// Valid unified social credit codes for fixtures (GB 32100-2015 check characters).
pub const CREDIT_CODES: [&str; 4] = [
    "91440300708461136T",
    "914403001922038216",
    "91330100716105852F",
    "91110000802100433B",
];

pub struct Session {
    pub token: String,
    pub refresh: String,
    pub user: Value,
}

impl Session {
    pub fn id(&self) -> String {
        self.user["id"].as_str().unwrap().to_owned()
    }

    pub fn t(&self) -> Option<&str> {
        Some(&self.token)
    }
}

impl TestApp {
    pub async fn login(&self, email: &str, password: &str) -> Session {
        let r = self
            .post(
                "/auth/login",
                None,
                json!({"email": email, "password": password}),
            )
            .await
            .expect(200);
        Session {
            token: r.body["access_token"].as_str().unwrap().to_owned(),
            refresh: r.body["refresh_token"].as_str().unwrap().to_owned(),
            user: r.body["user"].clone(),
        }
    }

    /// An admin made the way an operator makes the first one (the create-admin use case).
    pub async fn admin(&self, email: &str) -> Session {
        qifu::service::auth::create_staff(
            &self.state,
            email,
            "Admin",
            qifu::domain::ticket::Role::Admin,
            None,
            PASSWORD.to_owned(),
        )
        .await
        .expect("admin created");
        self.login(email, PASSWORD).await
    }

    pub async fn department(&self, admin: &Session, name: &str) -> String {
        let r = self
            .post("/departments", admin.t(), json!({"name": name}))
            .await
            .expect(201);
        r.body["id"].as_str().unwrap().to_owned()
    }

    pub async fn category(
        &self,
        admin: &Session,
        name: &str,
        department_id: &str,
        sla_hours: i64,
    ) -> String {
        let body = json!({"name": name, "department_id": department_id, "sla_hours": sla_hours});
        let r = self.post("/categories", admin.t(), body).await.expect(201);
        r.body["id"].as_str().unwrap().to_owned()
    }

    pub async fn official(&self, admin: &Session, email: &str, department_id: &str) -> Session {
        let body = json!({"email": email, "name": format!("Official {email}"), "role": "official",
                          "department_id": department_id, "password": PASSWORD});
        self.post("/users", admin.t(), body).await.expect(201);
        self.login(email, PASSWORD).await
    }

    /// Registers an enterprise with the `n`th fixture credit code and signs its user in.
    pub async fn enterprise(&self, n: usize, email: &str) -> Session {
        let body = json!({
            "enterprise": {"name": format!("Enterprise {n}"), "credit_code": CREDIT_CODES[n]},
            "user": {"name": format!("User {email}"), "email": email, "password": PASSWORD}
        });
        self.post("/auth/register", None, body).await.expect(201);
        self.login(email, PASSWORD).await
    }
}
