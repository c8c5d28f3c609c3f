//! Operations endpoints, error format, request ids, CORS and the mail outbox.

use std::time::Duration;

use qifu::error::{AppError, ProblemType};
use qifu::store::outbox::{self, NewMail};
use serde_json::json;

use diesel::connection::SimpleConnection;

use super::helpers::{TestApp, poll, postgres_admin};
use super::smtp::Mode;

fn mail(to: &str, subject: &str) -> NewMail {
    NewMail {
        to: to.into(),
        subject: subject.into(),
        text: "hello 你好".into(),
        html: "<p>hello 你好</p>".into(),
        secret: false,
    }
}

async fn enqueue(app: &TestApp, m: NewMail) {
    let now = app.now();
    app.state
        .db
        .write(move |conn| Ok(outbox::enqueue(conn, &m, now).map(|_| ())?))
        .await
        .unwrap();
}

#[actix_web::test]
async fn health_ready_metrics_docs_and_openapi_answer() {
    let app = TestApp::spawn().await;
    let get = |p: &str| app.client.get(format!("{}{p}", app.address));
    assert_eq!(app.send(get("/healthz")).await.status, 200);
    let ready = app.send(get("/readyz")).await.expect(200);
    assert_eq!(ready.body["status"], "ok");
    let doc = app.send(get("/api/v1/openapi.json")).await.expect(200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc.body["paths"]["/healthz"]["get"].is_object());
    let docs = app.send(get("/docs/")).await.expect(200);
    assert!(
        docs.body.as_str().unwrap().contains("swagger"),
        "Swagger UI served from the binary"
    );
    let metrics = app.send(get("/metrics")).await.expect(200);
    let text = metrics.body.as_str().unwrap();
    assert!(
        text.contains(
            "qifu_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("qifu_http_request_duration_seconds_bucket"));
    assert!(text.contains("qifu_outbox_messages{status=\"pending\"}"));
    assert!(text.contains("qifu_db_pool_connections{state=\"in_use\"}"));
}

#[actix_web::test]
async fn unknown_routes_and_methods_answer_problem_json() {
    let app = TestApp::spawn().await;
    app.get("/no-such-thing", None)
        .await
        .problem(404, "not_found");
    let r = app
        .send(app.client.delete(format!("{}/healthz", app.address)))
        .await;
    assert_eq!(r.status, 405);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/problem+json")
    );
    assert_eq!(r.header("allow").as_deref(), Some("GET, HEAD"));
    // The console's pages list theirs too.
    for (path, allow) in [("/login", "GET, HEAD, POST"), ("/logout", "POST")] {
        let r = app
            .send(app.client.put(format!("{}{path}", app.address)))
            .await
            .problem(405, "method_not_allowed");
        assert_eq!(r.header("allow").as_deref(), Some(allow), "{path}");
    }
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// A request path for a documented path pattern (its parameters filled in).
fn concrete(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "x0"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[actix_web::test]
async fn every_documented_operation_is_routed_and_other_methods_answer_405_with_allow() {
    let app = TestApp::spawn().await;
    let doc = app.get("/openapi.json", None).await.expect(200).body;
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() > 40, "{paths:?}");
    let mut answered = Vec::new();
    for (path, item) in paths {
        let url = format!("{}{}", app.address, concrete(path));
        let (routed, other): (Vec<&str>, Vec<&str>) =
            METHODS.iter().partition(|m| item.get(**m).is_some());
        for method in &routed {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app.send(app.client.request(method.clone(), &url)).await;
            let no_route = r.status == 404
                && r.body["detail"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("no route"));
            assert!(r.status != 405 && !no_route, "{method} {path}: {}", r.body);
            answered.push((method, path, r.status));
        }
        let mut allow: Vec<String> = routed.iter().map(|m| m.to_uppercase()).collect();
        if routed.contains(&"get") {
            allow.insert(1, "HEAD".to_owned());
        }
        for method in other {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app
                .send(app.client.request(method.clone(), &url))
                .await
                .problem(405, "method_not_allowed");
            assert_eq!(r.body["type"], "/problems/method-not-allowed");
            assert_eq!(r.header("allow"), Some(allow.join(", ")), "{method} {path}");
        }
    }
    // Each documented operation was answered by the router's resource of that very pattern
    // (the metrics label requests with the pattern they matched).
    let metrics = app
        .send(app.client.get(format!("{}/metrics", app.address)))
        .await
        .expect(200);
    let metrics = metrics.body.as_str().unwrap();
    for (method, path, status) in answered {
        let line = format!(
            "qifu_http_requests_total{{method=\"{method}\",route=\"{path}\",status=\"{status}\"}}"
        );
        assert!(metrics.contains(&line), "{line} not in {metrics}");
    }
}

/// Every route macro in `src/http`, as (method, path): the router's own listing, read from
/// the source rather than from the document.
fn route_macros() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http");
    let mut routes = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let mut documented = false;
        for line in source.lines() {
            documented |= line.starts_with("#[utoipa::path(");
            let Some((method, rest)) = line.strip_prefix("#[").and_then(|l| l.split_once("(\""))
            else {
                continue;
            };
            if METHODS.contains(&method) {
                let path = rest.split('"').next().unwrap();
                assert!(documented, "#[{method}(\"{path}\")] has no #[utoipa::path]");
                documented = false;
                routes.push((method.to_owned(), path.to_owned()));
            }
        }
    }
    routes
}

#[test]
fn every_route_is_documented_once_and_nothing_is_routed_past_the_document() {
    let doc = serde_json::to_value(qifu::http::openapi::document()).unwrap();
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| (m.to_string(), path.clone()))
        })
        .collect();
    let routes = route_macros();
    assert!(routes.len() > 50, "{routes:?}");
    for (method, path) in routes {
        let full = [path.clone(), format!("/api/v1{path}")];
        let found = documented
            .iter()
            .position(|(m, p)| *m == method && full.contains(p))
            .unwrap_or_else(|| {
                panic!("#[{method}(\"{path}\")] is not in the document: not registered?")
            });
        documented.remove(found);
    }
    assert!(
        documented.is_empty(),
        "documented, not routed: {documented:?}"
    );
    // Routes built by hand would bypass the document; src/http builds none (405s are answered
    // where the router gives up).
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http");
    let mut hand_built = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for by_hand in [".route(", "web::scope(", "Resource::new(", "web::resource("] {
            hand_built += source.matches(by_hand).count();
        }
    }
    assert_eq!(hand_built, 0, "a route in src/http is built by hand");
}

#[actix_web::test]
async fn request_ids_are_echoed_when_sane_and_generated_otherwise() {
    let app = TestApp::spawn().await;
    let url = format!("{}/healthz", app.address);
    let r = app
        .send(app.client.get(&url).header("x-request-id", "client-id-42"))
        .await;
    assert_eq!(r.header("x-request-id").as_deref(), Some("client-id-42"));
    let r = app
        .send(
            app.client
                .get(&url)
                .header("x-request-id", "evil id\twith spaces"),
        )
        .await;
    let generated = r.header("x-request-id").unwrap();
    assert_ne!(generated, "evil id\twith spaces");
    assert_eq!(generated.len(), 36);
    let r = app.send(app.client.get(&url)).await;
    assert!(r.header("x-request-id").is_some());
}

#[actix_web::test]
async fn cors_preflight_allows_configured_origins_only() {
    let app = TestApp::spawn_with(
        json!({"server": {"cors_allowed_origins": ["https://portal.example.gov.cn"]}}),
    )
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, format!("{}/categories", app.api))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type, idempotency-key, if-match",
            )
    };
    let ok = app.send(preflight("https://portal.example.gov.cn")).await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.header("access-control-allow-origin").as_deref(),
        Some("https://portal.example.gov.cn")
    );
    let headers = ok
        .header("access-control-allow-headers")
        .unwrap()
        .to_lowercase();
    for h in [
        "authorization",
        "content-type",
        "idempotency-key",
        "if-match",
    ] {
        assert!(headers.contains(h), "{headers}");
    }
    let denied = app.send(preflight("https://evil.example.com")).await;
    assert!(denied.header("access-control-allow-origin").is_none());
}

#[actix_web::test]
async fn committed_mail_arrives_and_rolled_back_mail_never_does() {
    let app = TestApp::spawn().await;
    enqueue(&app, mail("kept@example.com", "kept")).await;
    let m = mail("lost@example.com", "rolled back");
    let now = app.now();
    let result: Result<(), AppError> = app
        .state
        .db
        .write(move |conn| {
            outbox::enqueue(conn, &m, now)?;
            Err(AppError::new(ProblemType::VersionMismatch, "abort"))
        })
        .await;
    assert!(result.is_err());
    let got = app.smtp.wait_for(1, 10).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, vec!["kept@example.com"]);
    assert_eq!(got[0].subject, "kept");
    assert!(got[0].text.contains("你好"));
    assert!(got[0].html.contains("<p>hello 你好</p>"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.smtp.messages().len(),
        1,
        "the rolled-back message was never queued"
    );
    let rows = app.outbox_rows().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status.as_str(), "sent");
    assert!(rows[0].sent_at.is_some());
}

#[actix_web::test]
async fn mail_held_while_smtp_is_down_arrives_when_it_is_back() {
    let app = TestApp::spawn_with(json!({"mail": {"max_attempts": 10}})).await;
    app.smtp.down();
    enqueue(&app, mail("patient@example.com", "held")).await;
    // Wait until at least one attempt failed and a retry is scheduled.
    let row = poll(|| async {
        let rows = app.outbox_rows().await;
        match rows[0].attempts {
            0 => Err("no failed attempt recorded".to_owned()),
            _ => Ok(rows[0].clone()),
        }
    })
    .await;
    assert_eq!(row.status.as_str(), "failed");
    assert!(row.last_error.is_some());
    app.smtp.up().await;
    app.clock.advance(chrono::Duration::minutes(10));
    let got = app.smtp.wait_for(1, 15).await;
    assert_eq!(got.len(), 1, "held mail arrives once the server is back");
    // The row is marked after the SMTP server answered, so it may lag the arrival.
    wait_status(&app, "sent").await;
}

#[actix_web::test]
async fn permanent_rejections_go_dead_and_temporary_ones_give_up_after_max_attempts() {
    let app = TestApp::spawn().await;
    app.smtp.set_mode(Mode::RejectPermanent);
    enqueue(&app, mail("nobody@example.com", "permanent")).await;
    let row = wait_status(&app, "dead").await;
    assert_eq!(row.attempts, 1, "a 5xx is not retried");

    let app = TestApp::spawn_with(json!({"mail": {"max_attempts": 2}})).await;
    app.smtp.set_mode(Mode::RejectTemporary);
    enqueue(&app, mail("later@example.com", "temporary")).await;
    let row = wait_status(&app, "failed").await;
    assert_eq!(row.attempts, 1);
    app.clock.advance(chrono::Duration::minutes(10));
    let row = wait_status(&app, "dead").await;
    assert_eq!(row.attempts, 2);
    assert!(row.last_error.unwrap().contains("451"));
}

async fn wait_status(app: &TestApp, status: &str) -> outbox::OutboxRow {
    poll(|| async {
        let rows = app.outbox_rows().await;
        if rows[0].status.as_str() == status {
            Ok(rows[0].clone())
        } else {
            Err(format!("never reached {status}: {:?}", rows[0]))
        }
    })
    .await
}

#[actix_web::test]
async fn two_dispatch_claims_never_take_the_same_message() {
    let app = TestApp::spawn().await;
    app.smtp.down();
    for i in 0..20 {
        enqueue(&app, mail(&format!("m{i}@example.com"), "claim")).await;
    }
    // Due far ahead so every retry counts as due; leases on real time like the dispatcher's.
    let due = app.now() + chrono::Duration::hours(1);
    let now = app.now();
    let lease = now + chrono::Duration::minutes(5);
    let db = app.state.db.clone();
    let claims = futures_util::future::join_all((0..4).map(|_| {
        let db = db.clone();
        async move {
            db.write(move |conn| Ok(outbox::claim_due(conn, due, now, lease, 10)?))
                .await
                .unwrap()
        }
    }))
    .await;
    let mut ids: Vec<qifu::domain::ids::OutboxId> =
        claims.into_iter().flatten().map(|r| r.id).collect();
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "a message was claimed twice");
}

#[actix_web::test]
async fn readiness_fails_when_the_database_is_gone() {
    let Some(mut conn) = postgres_admin("dropping the database under a running app") else {
        return;
    };
    let app = TestApp::spawn().await;
    let ready = |app: &TestApp| app.client.get(format!("{}/readyz", app.address));
    assert_eq!(app.send(ready(&app)).await.status, 200);
    let name = app.database_name();
    conn.batch_execute(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .unwrap();
    let started = std::time::Instant::now();
    let r = app.send(ready(&app)).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the probe answers promptly"
    );
    assert_eq!(
        app.send(app.client.get(format!("{}/healthz", app.address)))
            .await
            .status,
        200
    );
    // Put it back so the harness can drop it as usual.
    conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .unwrap();
}

#[actix_web::test]
async fn the_pool_recovers_when_the_database_drops_its_connections() {
    let Some(mut conn) = postgres_admin("terminating server connections") else {
        return;
    };
    let app = TestApp::spawn().await;
    let admin = app.with_admin("admin@qifu.test").await;
    let name = app.database_name();
    conn.batch_execute(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    ))
    .unwrap();
    // Every pooled connection is dead now; requests must get fresh ones, not errors: reads
    // that are not pinged first, checked single units, and write transactions alike.
    for i in 0..10 {
        app.get("/tickets", admin.t()).await.expect(200);
        app.get("/departments", admin.t()).await.expect(200);
        app.post(
            "/departments",
            admin.t(),
            json!({"name": format!("Recovered {i}")}),
        )
        .await
        .expect(201);
    }
}
