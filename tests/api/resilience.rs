//! Proof under abuse: several instances on one PostgreSQL, many concurrent writers, SIGKILL in
//! the middle of a stream of filings, SIGTERM with requests in flight.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use reqwest::Method;

use super::helpers::{
    Api, Id, PASSWORD, Session, TestApp, TestDatabase, action_path, fresh_database, on_postgres,
    poll_within,
};
use super::smtp::SmtpSink;

/// An admin and one desk with two officials; the desk's category.
async fn setup_department(app: &TestApp) -> (Session, String) {
    let admin = app.with_admin("admin@qifu.test").await;
    let officials = ["off1@qifu.test", "off2@qifu.test"];
    let desk = app
        .with_desk(&admin, "Commerce", "Permits", 24, &officials)
        .await;
    (admin, desk.category)
}

#[actix_web::test]
async fn three_instances_on_one_postgres_act_once() {
    if !on_postgres() {
        eprintln!("skipped: set QIFU_TEST_DATABASE_URL to a PostgreSQL URL");
        return;
    }
    let a = TestApp::spawn().await;
    let b = a.sibling().await;
    let c = a.sibling().await;
    let instances = [&a, &b, &c];
    let (admin, cat) = setup_department(&a).await;
    let ent = a.with_enterprise(0, "wang@ent.test").await;

    // Sessions issued by one instance work on the others, refresh included.
    b.get("/me", ent.t()).await.expect(200);
    let renewed = c.refresh(&ent.refresh).await.expect(200);
    let token = renewed.body["access_token"].as_str().unwrap().to_owned();
    a.refresh(&ent.refresh).await.problem(401, "unauthorized");
    // That reuse ended the session on every instance, access token included.
    b.get("/me", Some(&token))
        .await
        .problem(401, "unauthorized");
    let token = c.login("wang@ent.test", PASSWORD).await.token;

    // Filings and actions spread over the three.
    let filings = (0..12).map(|i| {
        let app = instances[i % 3];
        let token = token.clone();
        let body = json!({"title": format!("t{i}"), "description": "d", "category_id": cat});
        async move {
            app.post("/tickets", Some(&token), body)
                .await
                .expect(201)
                .body
        }
    });
    let tickets = futures_util::future::join_all(filings).await;
    let mut load: HashMap<String, usize> = HashMap::new();
    for t in &tickets {
        *load
            .entry(t["assignee_id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(
        load.values().copied().collect::<HashSet<_>>(),
        HashSet::from([6]),
        "balanced across instances: {load:?}"
    );
    let off1 = a.login_as("off1@qifu.test").await;
    let off2 = b.login_as("off2@qifu.test").await;
    for (i, t) in tickets.iter().enumerate() {
        let who = if t["assignee_id"] == off1.id() {
            &off1
        } else {
            &off2
        };
        let app = instances[(i + 1) % 3];
        app.post(&action_path(t, "accept"), who.t(), json!({}))
            .await
            .expect(200);
    }

    // Every instance sweeps at once, twice: one overdue event per ticket.
    for app in instances {
        app.clock.advance(chrono::Duration::hours(25));
    }
    for _ in 0..2 {
        futures_util::future::join_all(instances.iter().map(|app| app.run_jobs())).await;
    }
    for t in &tickets {
        let events = c.timeline(&admin, t).await;
        let overdue = events.iter().filter(|e| e["kind"] == "overdue").count();
        assert_eq!(overdue, 1);
    }

    // Resolve a few, wait past auto-close, sweep everywhere: closed once each.
    for t in tickets.iter().take(3) {
        let who = if t["assignee_id"] == off1.id() {
            &off1
        } else {
            &off2
        };
        c.post(
            &action_path(t, "resolve"),
            who.t(),
            json!({"resolution": "ok"}),
        )
        .await
        .expect(200);
    }
    for app in instances {
        app.clock.advance(chrono::Duration::days(8));
    }
    futures_util::future::join_all(instances.iter().map(|app| app.run_jobs())).await;
    for t in tickets.iter().take(3) {
        let events = b.timeline(&admin, t).await;
        let closes = events.iter().filter(|e| e["kind"] == "auto_closed").count();
        assert_eq!(closes, 1);
    }

    // Throttling holds across instances: five failures spread over three, then 429 anywhere.
    for i in 0..5 {
        instances[i % 3]
            .try_login("off1@qifu.test", "wrong-password-1")
            .await
            .expect(401);
    }
    let locked = b
        .post(
            "/auth/login",
            None,
            json!({"email": "off1@qifu.test", "password": PASSWORD}),
        )
        .await;
    locked.problem(429, "rate_limited");

    // Every queued mail is delivered exactly once, by whichever instance leased it.
    let total = poll_within(Duration::from_secs(30), || async {
        let sent = a
            .get("/admin/outbox?status=sent&limit=100", admin.t())
            .await
            .expect(200);
        let pending = a
            .get("/admin/outbox?status=pending&limit=1", admin.t())
            .await
            .expect(200);
        let failed = a
            .get("/admin/outbox?status=failed&limit=1", admin.t())
            .await
            .expect(200);
        if pending.items().is_empty() && failed.items().is_empty() {
            Ok(
                a.all_pages("/admin/outbox", admin.t(), &[("status", "sent")], 100)
                    .await
                    .len(),
            )
        } else {
            Err(format!("outbox did not drain: {}", sent.body))
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(total > 30, "the scenario produced plenty of mail ({total})");
    assert_eq!(a.smtp.messages().len(), total, "each message arrived once");
}

/// 32 clients file tickets as fast as they can; SQLite writers must queue, never fail.
#[actix_web::test]
async fn thirty_two_concurrent_writers_get_no_server_errors() {
    let seconds: u64 = std::env::var("QIFU_CONTENTION_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    // A load test: the filing quota would refuse most of these on purpose.
    let app = Arc::new(TestApp::spawn_with(json!({"limits": {"file_per_minute": 0}})).await);
    let (_, cat) = setup_department(&app).await;
    let mut tokens = Vec::new();
    for n in 0..4 {
        tokens.push(
            app.with_enterprise(n, &format!("user{n}@ent.test"))
                .await
                .token,
        );
    }
    let stop_at = Instant::now() + Duration::from_secs(seconds);
    let clients = (0..32).map(|i| {
        let app = app.clone();
        let token = tokens[i % 4].clone();
        let cat = cat.clone();
        tokio::spawn(async move {
            let (mut ok, mut errors) = (0usize, Vec::new());
            while Instant::now() < stop_at {
                let body = json!({"title": format!("load {i}"), "description": "contention", "category_id": cat});
                let r = app.post("/tickets", Some(&token), body).await;
                if r.status == 201 {
                    ok += 1;
                } else {
                    errors.push((r.status, r.body));
                }
            }
            (ok, errors)
        })
    });
    let results = futures_util::future::join_all(clients).await;
    let mut filed = 0;
    for r in results {
        let (ok, errors) = r.unwrap();
        assert!(errors.is_empty(), "errors under contention: {errors:?}");
        filed += ok;
    }
    assert!(filed > 32, "{filed} filings in {seconds}s");
    eprintln!("32 writers filed {filed} tickets in {seconds}s without an error");
}

/// `qifu serve` as an operator runs it, on its own database and SMTP listener.
struct Server {
    child: Option<Child>,
    port: u16,
    env: Vec<(String, String)>,
    dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    fn env(database_url: &str, smtp_port: u16) -> Vec<(String, String)> {
        [
            ("QIFU__DATABASE__URL", database_url.to_owned()),
            (
                "QIFU__AUTH__JWT_SECRET",
                "binary-test-secret-0123456789-0123456789".to_owned(),
            ),
            ("QIFU__MAIL__TRANSPORT", "smtp".to_owned()),
            (
                "QIFU__MAIL__SMTP_URL",
                format!("smtp://127.0.0.1:{smtp_port}"),
            ),
            ("QIFU__MAIL__POLL_INTERVAL_MS", "50".to_owned()),
            ("QIFU__MAIL__RETRY_INITIAL_SECONDS", "1".to_owned()),
            ("QIFU__MAIL__LEASE_SECONDS", "2".to_owned()),
            ("QIFU__SERVER__SHUTDOWN_GRACE_SECONDS", "5".to_owned()),
            ("QIFU__LOG__LEVEL", "warn".to_owned()),
            ("QIFU__LIMITS__FILE_PER_MINUTE", "0".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    fn command(env: &[(String, String)], dir: &std::path::Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_qifu"));
        cmd.args(args)
            .current_dir(dir)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    }

    async fn start(database_url: &str, smtp_port: u16) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let env = Self::env(database_url, smtp_port);
        let status = Self::command(
            &env,
            dir.path(),
            &[
                "create-admin",
                "--email",
                "admin@qifu.test",
                "--name",
                "Admin",
            ],
        )
        .env("QIFU_ADMIN_PASSWORD", PASSWORD)
        .status()
        .unwrap();
        assert!(status.success());
        let mut server = Server {
            child: None,
            port: free_port(),
            env,
            dir,
        };
        server.restart().await;
        server
    }

    /// Starts `qifu serve` (again) on the same port.
    async fn restart(&mut self) {
        let child = Self::command(&self.env, self.dir.path(), &["serve"])
            .env("QIFU__SERVER__BIND", format!("127.0.0.1:{}", self.port))
            .spawn()
            .unwrap();
        self.child = Some(child);
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while client
            .get(format!("{}/readyz", self.base()))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .ok()
            != Some(200)
        {
            assert!(Instant::now() < deadline, "server did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A client for this server that gives up on a request the crash left hanging.
    fn api(&self) -> Api {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Api::new(self.base(), client)
    }

    fn signal(&self, signal: &str) {
        if let Some(child) = &self.child {
            Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .unwrap();
        }
    }

    fn child(&mut self) -> &mut Child {
        self.child.as_mut().expect("server started")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

/// `qifu serve` on a fresh database and SMTP listener, with a department, one official and an
/// enterprise made through its API. Fields drop in order: the server before its database.
struct Binary {
    server: Server,
    api: Api,
    admin: Session,
    /// The enterprise user's access token.
    ent: String,
    cat: String,
    smtp: SmtpSink,
    _database: TestDatabase,
}

async fn binary_fixture() -> Binary {
    let smtp = SmtpSink::start().await;
    let (url, database) = fresh_database();
    let server = Server::start(&url, smtp.port).await;
    let api = server.api();
    let admin = api.login_as("admin@qifu.test").await;
    let desk = api
        .with_desk(&admin, "D", "C", 24, &["off@qifu.test"])
        .await;
    let ent = api.with_enterprise(0, "w@ent.test").await;
    Binary {
        server,
        api,
        admin,
        ent: ent.token,
        cat: desk.category,
        smtp,
        _database: database,
    }
}

#[actix_web::test]
async fn sigkill_mid_stream_loses_no_accepted_ticket_and_no_mail() {
    let Binary {
        mut server,
        api,
        admin,
        ent,
        cat,
        smtp,
        _database,
    } = binary_fixture().await;
    let accepted = Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    let clients: Vec<_> = (0..32)
        .map(|i| {
            let (api, ent, cat, accepted) = (api.clone(), ent.clone(), cat.clone(), accepted.clone());
            tokio::spawn(async move {
                for n in 0.. {
                    let body = json!({"title": format!("crash {i}-{n}"), "description": "d", "category_id": cat});
                    let res = api.request(Method::POST, "/tickets", Some(ent.as_str())).json(&body).send().await;
                    let Ok(res) = res else { break };
                    if res.status().as_u16() != 201 {
                        break;
                    }
                    let Ok(t) = res.json::<Value>().await else { break };
                    accepted.lock().unwrap().push((t["id"].as_str().unwrap().to_owned(), t["reference"].as_str().unwrap().to_owned()));
                }
            })
        })
        .collect();
    // Kill once the stream is well under way, however slow the machine is today.
    poll_within(Duration::from_secs(60), || async {
        let n = accepted.lock().unwrap().len();
        if n > 10 {
            Ok(())
        } else {
            Err(format!("only {n} filings accepted so far"))
        }
    })
    .await;
    server.signal("-KILL");
    server.child().wait().unwrap();
    for c in clients {
        c.await.unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();
    assert!(
        accepted.len() > 10,
        "the stream was running ({} filed)",
        accepted.len()
    );

    server.restart().await;
    let listed: Vec<String> = api
        .all_pages("/tickets", admin.t(), &[], 100)
        .await
        .iter()
        .map(|t| t.id().to_owned())
        .collect();
    let listed_set: HashSet<_> = listed.iter().cloned().collect();
    assert_eq!(listed_set.len(), listed.len(), "no ticket duplicated");
    for (id, _) in &accepted {
        assert!(
            listed_set.contains(id),
            "ticket {id} got a 201 and must survive the crash"
        );
    }
    // Every accepted ticket's assignment mail reaches the official, however the crash fell.
    poll_within(Duration::from_secs(60), || async {
        let subjects: HashSet<String> = smtp
            .to("off@qifu.test")
            .into_iter()
            .map(|m| m.subject)
            .collect();
        let missing: Vec<_> = accepted
            .iter()
            .filter(|(_, r)| !subjects.iter().any(|s| s.contains(r.as_str())))
            .collect();
        match missing.first() {
            None => Ok(()),
            Some(example) => Err(format!(
                "{} assignment mails never arrived, e.g. {example:?}",
                missing.len()
            )),
        }
    })
    .await;
}

#[actix_web::test]
async fn sigterm_finishes_in_flight_requests_and_exits_within_the_grace_period() {
    let Binary {
        mut server,
        api,
        ent,
        cat,
        // Bound, not `..`: the listener and the database must outlive the server.
        smtp: _smtp,
        _database,
        ..
    } = binary_fixture().await;
    let clients: Vec<_> = (0..16)
        .map(|i| {
            let (api, ent, cat) = (api.clone(), ent.clone(), cat.clone());
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for n in 0..10_000 {
                    let body = json!({"title": format!("term {i}-{n}"), "description": "d", "category_id": cat});
                    match api.request(Method::POST, "/tickets", Some(ent.as_str())).json(&body).send().await {
                        Ok(r) => statuses.push(r.status().as_u16()),
                        Err(e) if e.is_connect() => break,
                        // A request racing the listener's close may be refused or reset before
                        // it was read; what must not happen is a 5xx.
                        Err(_) => break,
                    }
                }
                statuses
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let stopped_at = Instant::now();
    server.signal("-TERM");
    let status = loop {
        if let Some(status) = server.child().try_wait().unwrap() {
            break status;
        }
        assert!(
            stopped_at.elapsed() < Duration::from_secs(8),
            "did not exit within the grace period"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "clean exit: {status:?}");
    let mut answered = 0;
    for c in clients {
        let statuses = c.await.unwrap();
        assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
        answered += statuses.len();
    }
    assert!(answered > 16, "requests were in flight ({answered})");
}
