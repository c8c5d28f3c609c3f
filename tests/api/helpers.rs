//! The one test harness: the real app on port 0, a fresh database per test (a temp SQLite file,
//! or a fresh PostgreSQL database when QIFU_TEST_DATABASE_URL is set, dropped afterwards), a
//! real SMTP listener, and a clock the test moves.
//!
//! A test builds the people and places it needs through the API, then speaks HTTP:
//!
//! ```ignore
//! use serde_json::json;
//! use super::helpers::{Id, TestApp, comments_path};
//!
//! #[actix_web::test]
//! async fn an_official_answers_a_ticket() {
//!     let app = TestApp::spawn().await;
//!     let admin = app.with_admin("admin@qifu.test").await;
//!     // A department with a 24 h category and one official in it.
//!     let desk = app.with_desk(&admin, "商务局", "许可证办理", 24, &["off@qifu.test"]).await;
//!     let official = &desk.officials[0];
//!     let ent = app.with_enterprise(0, "wang@ent.test").await;
//!
//!     let ticket = app.file_ticket(&ent, "Permit stuck", &desk.category).await;
//!     app.act(official, &ticket, "accept", json!({})).await.expect(200);
//!     app.comment(official, &ticket, json!({"body": "On it."})).await.expect(201);
//!     let page = app.get(&comments_path(&ticket), ent.t()).await.expect(200);
//!     assert_eq!(page.body["items"][0]["body"], "On it.");
//!     app.wait_mail(ent.email(), "acceptance", |m| m.subject.contains("已受理")).await;
//! }
//! ```
//!
//! Requests take the caller's token as `session.t()` (or `None`); answers are a [`Resp`]
//! checked with `.expect(status)` or `.problem(status, code)`. Anything that has to wait for a
//! background task goes through [`poll`], never a fixed sleep.

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use qifu::clock::ShiftedClock;
use qifu::config::Settings;
use qifu::service::AppState;
use qifu::startup::Application;
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use tokio::sync::watch;

use super::smtp::{Received, SmtpSink};

pub const PASSWORD: &str = "Test-Passw0rd-2026";

/// A strong password a test changes to.
pub const NEW_PASSWORD: &str = "Brand-New-Secret-77";

/// The app's signing secret in every test, so a test can sign tokens the way the app does.
pub const JWT_SECRET: &str = "test-secret-0123456789-0123456789-0123456789";

/// Valid unified social credit codes for fixtures (GB 32100-2015 check characters).
pub const CREDIT_CODES: [&str; 4] = [
    "91440300708461136T",
    "914403001922038216",
    "91330100716105852F",
    "91110000802100433B",
];

/// How long [`poll`] waits for something a background task does.
const PATIENCE: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------

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

    /// The `items` of a list page.
    #[track_caller]
    pub fn items(&self) -> &Vec<Value> {
        self.body["items"].as_array().expect("a list page")
    }
}

// ---------------------------------------------------------------------------------------------
// Who is asking
// ---------------------------------------------------------------------------------------------

/// A signed-in user: the token pair and the user record `/auth/login` answered.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub refresh: String,
    pub user: Value,
}

impl Session {
    pub fn t(&self) -> Option<&str> {
        Some(&self.token)
    }

    pub fn email(&self) -> &str {
        self.user["email"].as_str().expect("a user email")
    }
}

/// Anything with an `id`: a JSON record, a session's user, or the id itself.
pub trait Id {
    fn id(&self) -> &str;
}

impl Id for Value {
    fn id(&self) -> &str {
        self["id"].as_str().expect("a record with an id")
    }
}

impl Id for Session {
    fn id(&self) -> &str {
        self.user.id()
    }
}

impl Id for str {
    fn id(&self) -> &str {
        self
    }
}

impl<T: Id + ?Sized> Id for &T {
    fn id(&self) -> &str {
        (**self).id()
    }
}

impl Id for String {
    fn id(&self) -> &str {
        self
    }
}

pub fn ticket_path(ticket: &(impl Id + ?Sized)) -> String {
    format!("/tickets/{}", ticket.id())
}

pub fn action_path(ticket: &(impl Id + ?Sized), action: &str) -> String {
    format!("/tickets/{}/actions/{action}", ticket.id())
}

pub fn comments_path(ticket: &(impl Id + ?Sized)) -> String {
    format!("/tickets/{}/comments", ticket.id())
}

/// A ticket's timeline, all of it on one page.
pub fn events_path(ticket: &(impl Id + ?Sized)) -> String {
    format!("/tickets/{}/events?limit=100", ticket.id())
}

/// Keys that sign like the test app, for `audience`.
pub fn extensions_path(ticket: &(impl Id + ?Sized)) -> String {
    format!("/tickets/{}/extensions", ticket.id())
}

pub fn attachments_path(ticket: &(impl Id + ?Sized)) -> String {
    format!("/tickets/{}/attachments", ticket.id())
}

/// One part of a `multipart/form-data` body: a file (`filename` set) or a text field.
pub struct Part<'a> {
    pub name: &'a str,
    pub filename: Option<&'a str>,
    /// What the client claims; the server judges by the bytes.
    pub content_type: Option<&'a str>,
    pub bytes: &'a [u8],
}

impl<'a> Part<'a> {
    pub fn file(filename: &'a str, bytes: &'a [u8]) -> Part<'a> {
        Part {
            name: "file",
            filename: Some(filename),
            content_type: Some("application/octet-stream"),
            bytes,
        }
    }

    pub fn field(name: &'a str, value: &'a str) -> Part<'a> {
        Part {
            name,
            filename: None,
            content_type: None,
            bytes: value.as_bytes(),
        }
    }
}

pub const BOUNDARY: &str = "qifu-test-boundary-7d3c";

/// A `multipart/form-data` body written out by hand, so tests control every byte of it
/// (raw UTF-8 file names, as browsers send them); its Content-Type and the bytes.
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", p.name);
        if let Some(f) = p.filename {
            disposition.push_str(&format!("; filename=\"{f}\""));
        }
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        if let Some(ct) = p.content_type {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(p.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

pub fn jwt_keys(audience: &str) -> qifu::auth::JwtKeys {
    qifu::auth::JwtKeys::new(&secrecy::SecretString::from(JWT_SECRET), "qifu", audience)
}

/// The password-reset token in a mail's text: on its own line, 43 URL-safe base64 characters.
pub fn reset_token(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| {
            l.len() == 43
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .unwrap_or_else(|| panic!("no token in mail text:\n{text}"))
        .to_owned()
}

/// A department with one category and its officials: the smallest place a ticket can go.
pub struct Desk {
    pub department: String,
    pub category: String,
    pub officials: Vec<Session>,
}

// ---------------------------------------------------------------------------------------------
// Waiting for background work
// ---------------------------------------------------------------------------------------------

/// Calls `probe` every 50 ms until it answers `Ok`; after [`PATIENCE`] fails with the last `Err`,
/// which says what was awaited and what was seen instead.
pub async fn poll<T, F, Fut>(probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    poll_within(PATIENCE, probe).await
}

/// [`poll`] for work that takes longer than usual, such as a restarted server's backlog.
pub async fn poll_within<T, F, Fut>(patience: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match probe().await {
            Ok(found) => return found,
            Err(seen) => assert!(tokio::time::Instant::now() < deadline, "{seen}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// The API, wherever it runs
// ---------------------------------------------------------------------------------------------

/// An HTTP client for one running instance: the in-process app or a `qifu serve` child.
#[derive(Clone)]
pub struct Api {
    pub client: reqwest::Client,
    /// `http://127.0.0.1:<port>`
    pub address: String,
    /// `<address>/api/v1`
    pub api: String,
}

impl Api {
    pub fn new(address: String, client: reqwest::Client) -> Api {
        Api {
            client,
            api: format!("{address}/api/v1"),
            address,
        }
    }

    pub async fn send(&self, req: RequestBuilder) -> Resp {
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

    /// A request to `path` under the API root, with the bearer token if any, not yet sent.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let req = self.client.request(method, format!("{}{path}", self.api));
        match token {
            Some(token) => req.bearer_auth(token),
            None => req,
        }
    }

    /// Any method, with query parameters URL-encoded properly and an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Resp {
        let mut req = self.request(method, path, token).query(query);
        if let Some(b) = body {
            req = req.json(b);
        }
        self.send(req).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(self.request(Method::GET, path, token)).await
    }

    pub async fn get_q(&self, path: &str, token: Option<&str>, query: &[(&str, &str)]) -> Resp {
        self.call(Method::GET, path, token, query, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.send(self.request(Method::POST, path, token).json(&body))
            .await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.send(self.request(Method::PATCH, path, token).json(&body))
            .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(self.request(Method::DELETE, path, token)).await
    }

    /// Every item of a list, page by page with `limit`, checking that no page is larger than
    /// the limit, that only the last page is short, and that the last page has no cursor.
    pub async fn all_pages(
        &self,
        path: &str,
        token: Option<&str>,
        query: &[(&str, &str)],
        limit: usize,
    ) -> Vec<Value> {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let limit_s = limit.to_string();
        for _ in 0..1000 {
            let mut q: Vec<(&str, &str)> = query.to_vec();
            q.push(("limit", &limit_s));
            if let Some(c) = &cursor {
                q.push(("cursor", c.as_str()));
            }
            let page = self.get_q(path, token, &q).await.expect(200);
            let items = page.items();
            assert!(
                items.len() <= limit,
                "page larger than limit: {}",
                page.body
            );
            seen.extend(items.iter().cloned());
            match page.body["next_cursor"].as_str() {
                Some(c) => {
                    assert_eq!(items.len(), limit, "a non-final page is full");
                    cursor = Some(c.to_owned());
                }
                None => {
                    assert!(page.body["next_cursor"].is_null(), "{}", page.body);
                    return seen;
                }
            }
        }
        panic!("pagination did not end");
    }

    // --- signing in ---------------------------------------------------------------------------

    pub async fn try_login(&self, email: &str, password: &str) -> Resp {
        self.post(
            "/auth/login",
            None,
            json!({"email": email, "password": password}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Session {
        let r = self.try_login(email, password).await.expect(200);
        Session {
            token: r.body["access_token"].as_str().unwrap().to_owned(),
            refresh: r.body["refresh_token"].as_str().unwrap().to_owned(),
            user: r.body["user"].clone(),
        }
    }

    /// Signs in a fixture user, who all have [`PASSWORD`].
    pub async fn login_as(&self, email: &str) -> Session {
        self.login(email, PASSWORD).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Resp {
        self.post(
            "/auth/refresh",
            None,
            json!({"refresh_token": refresh_token}),
        )
        .await
    }

    // --- the people and places a test needs ---------------------------------------------------

    /// Creates a department; its id.
    pub async fn with_department(&self, admin: &Session, name: &str) -> String {
        let r = self
            .post("/departments", admin.t(), json!({"name": name}))
            .await
            .expect(201);
        r.body.id().to_owned()
    }

    /// Creates a category routed to `department_id`; its id.
    pub async fn with_category(
        &self,
        admin: &Session,
        name: &str,
        department_id: &str,
        sla_hours: i64,
    ) -> String {
        let body = json!({"name": name, "department_id": department_id, "sla_hours": sla_hours});
        let r = self.post("/categories", admin.t(), body).await.expect(201);
        r.body.id().to_owned()
    }

    /// Creates an official in `department_id` and signs them in.
    pub async fn with_official(
        &self,
        admin: &Session,
        email: &str,
        department_id: &str,
    ) -> Session {
        let body = json!({"email": email, "name": format!("Official {email}"), "role": "official",
                          "department_id": department_id, "password": PASSWORD});
        self.post("/users", admin.t(), body).await.expect(201);
        self.login_as(email).await
    }

    /// Registers an enterprise with the `n`th fixture credit code and signs its user in.
    pub async fn with_enterprise(&self, n: usize, email: &str) -> Session {
        let body = json!({
            "enterprise": {"name": format!("Enterprise {n}"), "credit_code": CREDIT_CODES[n]},
            "user": {"name": format!("User {email}"), "email": email, "password": PASSWORD}
        });
        self.post("/auth/register", None, body).await.expect(201);
        self.login_as(email).await
    }

    /// A department with one category of `sla_hours` and an official for each email.
    pub async fn with_desk(
        &self,
        admin: &Session,
        department: &str,
        category: &str,
        sla_hours: i64,
        officials: &[&str],
    ) -> Desk {
        let department = self.with_department(admin, department).await;
        let category = self
            .with_category(admin, category, &department, sla_hours)
            .await;
        let mut sessions = Vec::new();
        for email in officials {
            sessions.push(self.with_official(admin, email, &department).await);
        }
        Desk {
            department,
            category,
            officials: sessions,
        }
    }

    // --- tickets ------------------------------------------------------------------------------

    /// Files a ticket with exactly this body; the created ticket.
    pub async fn file_ticket_with(&self, who: &Session, body: Value) -> Value {
        self.post("/tickets", who.t(), body).await.expect(201).body
    }

    /// Files a normal-priority ticket titled `title` in `category`; the created ticket.
    pub async fn file_ticket(&self, who: &Session, title: &str, category: &str) -> Value {
        let body = json!({"title": title, "description": format!("{title} — details"),
                          "category_id": category});
        self.file_ticket_with(who, body).await
    }

    /// Posts `action` (accept, resolve, …) on a ticket; the answer is for the test to check.
    pub async fn act(
        &self,
        who: &Session,
        ticket: &(impl Id + ?Sized),
        action: &str,
        body: Value,
    ) -> Resp {
        self.post(&action_path(ticket, action), who.t(), body).await
    }

    /// Posts a comment (`{"body": …, "kind": …}`); the answer is for the test to check.
    pub async fn comment(&self, who: &Session, ticket: &(impl Id + ?Sized), body: Value) -> Resp {
        self.post(&comments_path(ticket), who.t(), body).await
    }

    /// Posts a multipart upload of `parts` to the ticket's attachments.
    pub async fn upload(
        &self,
        who: &Session,
        ticket: &(impl Id + ?Sized),
        parts: &[Part<'_>],
    ) -> Resp {
        let (content_type, body) = multipart(parts);
        let req = self
            .request(Method::POST, &attachments_path(ticket), who.t())
            .header("content-type", content_type)
            .body(body);
        self.send(req).await
    }

    /// The assignee `who` asks for `working_days` more on `ticket`; the pending extension.
    pub async fn request_extension(
        &self,
        who: &Session,
        ticket: &(impl Id + ?Sized),
        working_days: i64,
        reason: &str,
    ) -> Value {
        let body = json!({"working_days": working_days, "reason": reason});
        let r = self.post(&extensions_path(ticket), who.t(), body).await;
        r.expect(201).body
    }

    /// Posts `decision` (approve, reject) on one of a ticket's extensions; the answer is for
    /// the test to check.
    pub async fn decide_extension(
        &self,
        who: &Session,
        ticket: &(impl Id + ?Sized),
        extension: &(impl Id + ?Sized),
        decision: &str,
    ) -> Resp {
        let path = format!(
            "{}/{}/actions/{decision}",
            extensions_path(ticket),
            extension.id()
        );
        self.post(&path, who.t(), json!({})).await
    }

    /// A ticket's timeline as `who` may see it.
    pub async fn timeline(&self, who: &Session, ticket: &(impl Id + ?Sized)) -> Vec<Value> {
        let page = self.get(&events_path(ticket), who.t()).await.expect(200);
        page.items().clone()
    }

    /// Waits until the admin outbox lists a message to `to` with `status`; that message.
    pub async fn wait_outbox(&self, admin: &Session, to: &str, status: &str) -> Value {
        poll(|| async {
            let page = self
                .get_q("/admin/outbox", admin.t(), &[("limit", "100")])
                .await
                .expect(200);
            page.items()
                .iter()
                .find(|m| m["to"] == to && m["status"] == status)
                .cloned()
                .ok_or_else(|| format!("no {status} message to {to}: {}", page.body))
        })
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// The app under test
// ---------------------------------------------------------------------------------------------

pub struct TestApp {
    pub http: Api,
    pub database_url: String,
    pub state: web::Data<AppState>,
    pub clock: Arc<ShiftedClock>,
    pub smtp: SmtpSink,
    /// The attachment store's directory (`attachments.store = file://…`), this test's own.
    pub blobs: tempfile::TempDir,
    _stop: watch::Sender<bool>,
    _database: TestDatabase,
}

/// The API calls and fixture builders are the same for the in-process app and a child server.
impl Deref for TestApp {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.http
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

/// A connection to the PostgreSQL server the tests run on, for doing things to a test's
/// database behind the app's back; `None` on SQLite, where the test is skipped because `needs`.
pub fn postgres_admin(needs: &str) -> Option<PgConnection> {
    if !on_postgres() {
        eprintln!("skipped: {needs} needs PostgreSQL");
    }
    on_postgres().then(|| {
        let url = std::env::var("QIFU_TEST_DATABASE_URL").expect("checked by on_postgres");
        PgConnection::establish(&url).expect("QIFU_TEST_DATABASE_URL must connect")
    })
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
    pub async fn spawn() -> TestApp {
        Self::spawn_with(json!({})).await
    }

    /// Starts the app with extra settings merged over the test defaults.
    pub async fn spawn_with(overrides: Value) -> TestApp {
        let (url, database) = fresh_database();
        let smtp = SmtpSink::start().await;
        Self::spawn_on(url, database, smtp, overrides).await
    }

    /// Another instance on this one's database, mailing to this one's SMTP listener.
    pub async fn sibling(&self) -> TestApp {
        let smtp = SmtpSink::start().await;
        let overrides =
            json!({"mail": {"smtp_url": format!("smtp://127.0.0.1:{}", self.smtp.port)}});
        Self::spawn_on(
            self.database_url.clone(),
            TestDatabase::Shared,
            smtp,
            overrides,
        )
        .await
    }

    /// The app on a database the test prepared (one made with [`fresh_database`]).
    pub async fn spawn_on(
        url: String,
        database: TestDatabase,
        smtp: SmtpSink,
        overrides: Value,
    ) -> TestApp {
        let blobs = tempfile::tempdir().unwrap();
        if std::env::var("TEST_LOG").is_ok() {
            qifu::telemetry::init(&qifu::config::LogSettings {
                format: qifu::config::LogFormat::Pretty,
                level: "info".into(),
            });
        }
        let mut settings = json!({
            "server": {"bind": "127.0.0.1:0", "workers": 2, "shutdown_grace_seconds": 2},
            "database": {"url": url.clone(), "pool_size": 8},
            "auth": {"jwt_secret": JWT_SECRET},
            "mail": {"transport": "smtp", "smtp_url": format!("smtp://127.0.0.1:{}", smtp.port),
                     "poll_interval_ms": 50, "retry_initial_seconds": 1, "max_attempts": 3},
            "jobs": {"interval_seconds": 3600},
            "attachments": {"store": format!("file://{}", blobs.path().display())},
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
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestApp {
            http: Api::new(format!("http://127.0.0.1:{port}"), client),
            database_url: url,
            state,
            clock,
            smtp,
            blobs,
            _stop: stop,
            _database: database,
        }
    }

    /// The name of this app's database (its URL's last segment).
    pub fn database_name(&self) -> String {
        let (_, name) = self.database_url.rsplit_once('/').expect("a database URL");
        name.to_owned()
    }

    /// An admin made the way an operator makes the first one (the create-admin use case).
    pub async fn with_admin(&self, email: &str) -> Session {
        qifu::service::auth::create_staff(
            &self.state,
            email,
            "Admin",
            qifu::domain::role::Role::Admin,
            None,
            PASSWORD.to_owned(),
        )
        .await
        .expect("admin created");
        self.login_as(email).await
    }

    pub fn now(&self) -> chrono::NaiveDateTime {
        use qifu::clock::Clock;
        self.clock.now()
    }

    /// The outbox as the store has it, newest first.
    pub async fn outbox_rows(&self) -> Vec<qifu::store::outbox::OutboxRow> {
        self.state
            .db
            .run(|conn| Ok(qifu::store::outbox::list(conn, None, None, 100)?))
            .await
            .unwrap()
    }

    pub fn advance_hours(&self, hours: i64) {
        self.clock.advance(chrono::Duration::hours(hours));
    }

    pub async fn run_jobs(&self) {
        qifu::jobs::sweep(&self.state).await.expect("sweep");
    }

    /// Waits until a message to `to` matching `wanted` arrived; that message. `what` names
    /// the awaited mail in the failure.
    pub async fn wait_mail(
        &self,
        to: &str,
        what: &str,
        wanted: impl Fn(&Received) -> bool,
    ) -> Received {
        poll(|| async {
            let mail = self.smtp.to(to);
            mail.iter()
                .find(|m| wanted(m))
                .cloned()
                .ok_or_else(|| format!("{what}: no such mail to {to} among {mail:?}"))
        })
        .await
    }
}

/// The names the tests used before the harness, kept for test files written against them.
#[allow(dead_code, reason = "used only by test files not yet ported")]
impl TestApp {
    pub async fn admin(&self, email: &str) -> Session {
        self.with_admin(email).await
    }

    pub async fn department(&self, admin: &Session, name: &str) -> String {
        self.with_department(admin, name).await
    }

    pub async fn category(&self, admin: &Session, name: &str, dept: &str, sla: i64) -> String {
        self.with_category(admin, name, dept, sla).await
    }

    pub async fn official(&self, admin: &Session, email: &str, dept: &str) -> Session {
        self.with_official(admin, email, dept).await
    }

    pub async fn enterprise(&self, n: usize, email: &str) -> Session {
        self.with_enterprise(n, email).await
    }
}

#[allow(dead_code, reason = "used only by test files not yet ported")]
pub async fn spawn_app() -> TestApp {
    TestApp::spawn().await
}

#[allow(dead_code, reason = "used only by test files not yet ported")]
pub async fn spawn_app_with(overrides: Value) -> TestApp {
    TestApp::spawn_with(overrides).await
}
