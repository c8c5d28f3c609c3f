//! Identity: registration, sessions, passwords, administration.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use qifu::domain::role::Role;
use reqwest::Method;
use serde_json::{Value, json};

use super::helpers::{
    CREDIT_CODES, Id, JWT_SECRET, NEW_PASSWORD, PASSWORD, Resp, Session, TestApp, jwt_keys, poll,
    reset_token,
};
use super::smtp::Mode;

const RESET_SUBJECT_ZH: &str = "重置密码";
const RESET_SUBJECT_EN: &str = "reset your password";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The GB 32100-2015 alphabet: a character's value is its index.
const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [usize; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Appends the check character to 17 characters (an independent implementation of the rule).
fn with_check(first17: &str) -> String {
    assert_eq!(first17.len(), 17);
    let sum: usize = first17
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| ALPHABET.find(c).expect("alphabet character") * w)
        .sum();
    let check = (31 - sum % 31) % 31;
    format!("{first17}{}", ALPHABET.as_bytes()[check] as char)
}

/// More valid credit codes than the four fixtures: `91440300MA` + seven digits + check.
fn credit_code(n: u32) -> String {
    with_check(&format!("91440300MA{n:07}"))
}

fn register_body(name: &str, code: &str, email: &str, password: &str) -> Value {
    json!({
        "enterprise": {"name": name, "credit_code": code, "address": "深圳市南山区科技园",
                       "industry": "软件", "contact_phone": "0755-12345678"},
        "user": {"name": "张伟", "email": email, "password": password}
    })
}

async fn register(app: &TestApp, code: &str, email: &str) -> Resp {
    app.post(
        "/auth/register",
        None,
        register_body("测试企业有限公司", code, email, PASSWORD),
    )
    .await
}

async fn login_from(app: &TestApp, ip: &str, email: &str, password: &str) -> Resp {
    app.send(
        app.client
            .post(format!("{}/auth/login", app.api))
            .header("x-forwarded-for", ip)
            .json(&json!({"email": email, "password": password})),
    )
    .await
}

/// The `field`s of a validation problem.
fn fields(r: &Resp) -> Vec<String> {
    r.body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[track_caller]
fn assert_invalid(r: Resp, field: &str) -> Resp {
    let r = r.problem(422, "validation_failed");
    assert!(
        fields(&r).iter().any(|f| f == field),
        "expected an error on {field}: {}",
        r.body
    );
    r
}

/// No key anywhere in the JSON may look like a password or its hash.
#[track_caller]
fn assert_no_secrets(v: &Value) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let k = k.to_lowercase();
                assert!(
                    !k.contains("password") && !k.contains("hash"),
                    "secret-looking field {k} in {map:?}"
                );
                assert_no_secrets(v);
            }
        }
        Value::Array(items) => items.iter().for_each(assert_no_secrets),
        Value::String(s) => assert!(!s.starts_with("$argon2"), "a hash leaked: {s}"),
        _ => {}
    }
}

fn ids_of(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| i.id().to_owned()).collect()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn request_reset(app: &TestApp, email: &str) {
    app.post("/auth/password-reset", None, json!({"email": email}))
        .await
        .expect(202);
}

/// Waits until `n` reset mails reached `address` and returns their tokens, oldest first.
async fn reset_tokens(app: &TestApp, address: &str, n: usize) -> Vec<String> {
    poll(|| async {
        let mails: Vec<_> = app
            .smtp
            .to(address)
            .into_iter()
            .filter(|m| {
                m.subject.contains(RESET_SUBJECT_ZH) || m.subject.contains(RESET_SUBJECT_EN)
            })
            .collect();
        if mails.len() >= n {
            Ok(mails.iter().map(|m| reset_token(&m.text)).collect())
        } else {
            Err(format!(
                "only {} of {n} reset mails reached {address}",
                mails.len()
            ))
        }
    })
    .await
}

fn now_ts() -> i64 {
    chrono::Utc::now().timestamp()
}

fn b64_json(segment: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).expect("base64url")).expect("json")
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

/// Admin, a department, an official in it and a registered enterprise user.
struct World {
    admin: Session,
    dept: String,
    official: Session,
    enterprise: Session,
}

async fn world(app: &TestApp) -> World {
    let admin = app.with_admin("admin@example.com").await;
    let dept = app.with_department(&admin, "行政审批局").await;
    let official = app
        .with_official(&admin, "official@example.com", &dept)
        .await;
    let enterprise = app.with_enterprise(0, "boss@example.com").await;
    World {
        admin,
        dept,
        official,
        enterprise,
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Registration
// ---------------------------------------------------------------------------------------------

#[test]
fn the_test_credit_code_generator_agrees_with_the_fixture_codes() {
    for code in CREDIT_CODES {
        assert_eq!(with_check(&code[..17]), code);
    }
    assert_ne!(credit_code(1), credit_code(2));
}

#[actix_web::test]
async fn registration_creates_the_enterprise_and_its_first_user() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/auth/register",
            None,
            register_body(
                "深圳市腾讯计算机系统有限公司",
                CREDIT_CODES[0],
                "  Zhang.Wei@Example.COM ",
                PASSWORD,
            ),
        )
        .await
        .expect(201);
    assert_no_secrets(&r.body);
    let e = &r.body["enterprise"];
    let u = &r.body["user"];
    assert!(e["id"].is_string());
    assert_eq!(e["name"], "深圳市腾讯计算机系统有限公司");
    assert_eq!(e["credit_code"], CREDIT_CODES[0]);
    assert_eq!(e["address"], "深圳市南山区科技园");
    assert_eq!(e["industry"], "软件");
    assert_eq!(e["contact_phone"], "0755-12345678");
    assert_eq!(e["status"], "active");
    assert!(
        chrono::DateTime::parse_from_rfc3339(e["created_at"].as_str().unwrap()).is_ok(),
        "{e}"
    );
    assert!(u["id"].is_string());
    assert_ne!(u["id"], e["id"]);
    assert_eq!(
        u["email"], "zhang.wei@example.com",
        "email stored lower-cased"
    );
    assert_eq!(u["name"], "张伟");
    assert_eq!(u["role"], "enterprise");
    assert_eq!(u["enterprise_id"], e["id"]);
    assert!(u["department_id"].is_null());
    assert_eq!(u["active"], true);
    let created = u["created_at"].as_str().unwrap();
    assert!(
        created.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(created).is_ok(),
        "RFC 3339 UTC: {created}"
    );
    // The new user can sign in, with any case of the address.
    let s = app.login("ZHANG.WEI@example.com", PASSWORD).await;
    assert_eq!(s.user["id"], u["id"]);
}

#[actix_web::test]
async fn every_valid_credit_code_is_accepted_in_either_case() {
    let app = TestApp::spawn().await;
    for (i, code) in CREDIT_CODES.iter().enumerate() {
        let sent = if i % 2 == 0 {
            code.to_string()
        } else {
            code.to_lowercase()
        };
        let r = register(&app, &sent, &format!("u{i}@example.com"))
            .await
            .expect(201);
        assert_eq!(
            r.body["enterprise"]["credit_code"], *code,
            "stored upper-case"
        );
    }
    // The lower-case spelling of a taken code is the same code.
    register(&app, &CREDIT_CODES[0].to_lowercase(), "again@example.com")
        .await
        .problem(409, "conflict");
}

#[actix_web::test]
async fn invalid_credit_codes_are_refused_with_the_rule_that_failed() {
    let app = TestApp::spawn().await;
    let code = CREDIT_CODES[1];
    // Any single changed character breaks the check (31 is prime and no weight is 0 mod 31).
    for position in 0..18 {
        let mut chars: Vec<char> = code.chars().collect();
        let idx = ALPHABET.find(chars[position]).unwrap();
        chars[position] = ALPHABET.as_bytes()[(idx + 1) % 31] as char;
        let changed: String = chars.into_iter().collect();
        let r = register(&app, &changed, "x@example.com").await;
        let r = assert_invalid(r, "enterprise.credit_code");
        assert!(
            r.body["detail"].as_str().unwrap().contains("check"),
            "position {position}: {}",
            r.body
        );
    }
    let cases = [
        // A forbidden letter (I, O, Z, S, V are not used).
        ("91440300708461136I", "invalid character"),
        ("9144O300708461136T", "invalid character"),
        ("91440300708461136Ｔ", "invalid character"),
        ("91440300708461136", "18 characters"),
        ("91440300708461136TT", "18 characters"),
        ("", "18 characters"),
        ("9144030070846113-T", "invalid character"),
    ];
    for (bad, why) in cases {
        let r = register(&app, bad, "x@example.com").await;
        let r = assert_invalid(r, "enterprise.credit_code");
        let message = r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["field"] == "enterprise.credit_code")
            .unwrap()["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains(why), "{bad}: {message}");
    }
    // Nothing was created by any of that.
    register(&app, code, "x@example.com").await.expect(201);
}

#[actix_web::test]
async fn duplicate_credit_codes_and_emails_conflict() {
    let app = TestApp::spawn().await;
    register(&app, CREDIT_CODES[0], "Boss@Example.com")
        .await
        .expect(201);
    register(&app, CREDIT_CODES[0], "other@example.com")
        .await
        .problem(409, "conflict");
    register(&app, CREDIT_CODES[1], "boss@EXAMPLE.com")
        .await
        .problem(409, "conflict");
    // The failed attempts left the second code free.
    register(&app, CREDIT_CODES[1], "other@example.com")
        .await
        .expect(201);
}

#[actix_web::test]
async fn concurrent_registrations_of_one_code_make_one_enterprise_and_no_500() {
    let app = TestApp::spawn().await;
    let results = futures_util::future::join_all((0..5).map(|i| {
        let app = &app;
        async move { register(app, CREDIT_CODES[2], &format!("racer{i}@example.com")).await }
    }))
    .await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
}

#[actix_web::test]
async fn weak_passwords_are_refused_with_the_reason() {
    let app = TestApp::spawn().await;
    let email = "li.ming@example.com";
    let cases = [
        ("Short-1", "at least 10"),
        ("abcdefghijklmn", "mix"),
        ("12345678901234", "mix"),
        ("Li.Ming@Example.com", "e-mail"),
        ("password123", "common"),
        ("PassWord123", "common"),
        ("Woaini1314", "common"),
    ];
    for (password, why) in cases {
        let r = app
            .post(
                "/auth/register",
                None,
                register_body("企业", CREDIT_CODES[3], email, password),
            )
            .await;
        let r = assert_invalid(r, "user.password");
        assert!(
            r.body["detail"].as_str().unwrap().contains(why),
            "{password}: {}",
            r.body
        );
    }
    app.post(
        "/auth/register",
        None,
        register_body("企业", CREDIT_CODES[3], email, PASSWORD),
    )
    .await
    .expect(201);
}

#[actix_web::test]
async fn all_field_errors_are_reported_at_once() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/auth/register",
            None,
            json!({"enterprise": {"name": "  ", "credit_code": "123"},
                   "user": {"name": "", "email": "not-an-email", "password": "short"}}),
        )
        .await
        .problem(422, "validation_failed");
    let f = fields(&r);
    for field in [
        "enterprise.name",
        "enterprise.credit_code",
        "user.name",
        "user.email",
        "user.password",
    ] {
        assert!(f.iter().any(|x| x == field), "{field} missing: {}", r.body);
    }
}

#[actix_web::test]
async fn malformed_registration_requests_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let url = format!("{}/auth/register", app.api);
    // A missing field is a well-formed request with an invalid value: 422 naming it.
    let r = app
        .post(
            "/auth/register",
            None,
            json!({"enterprise": {"name": "企业"},
                   "user": {"name": "张伟", "email": "a@example.com", "password": PASSWORD}}),
        )
        .await
        .problem(422, "validation_failed");
    assert!(
        fields(&r).iter().any(|f| f.ends_with("credit_code")),
        "{}",
        r.body
    );
    app.post("/auth/register", None, json!({}))
        .await
        .problem(422, "validation_failed");
    // Malformed JSON.
    app.send(
        app.client
            .post(&url)
            .header("content-type", "application/json")
            .body("{\"enterprise\": {"),
    )
    .await
    .problem(400, "bad_request");
    // A value of the wrong type.
    app.post(
        "/auth/register",
        None,
        json!({"enterprise": {"name": "企业", "credit_code": 914403001922038216_u64},
               "user": {"name": "张伟", "email": "a@example.com", "password": PASSWORD}}),
    )
    .await
    .problem(400, "bad_request");
    // Not JSON at all, by Content-Type.
    let valid = register_body("企业", CREDIT_CODES[1], "a@example.com", PASSWORD).to_string();
    app.send(
        app.client
            .post(&url)
            .header("content-type", "text/plain")
            .body(valid.clone()),
    )
    .await
    .problem(415, "unsupported_media_type");
    app.send(app.client.post(&url).body(valid.clone()))
        .await
        .problem(415, "unsupported_media_type");
    // Over the 1 MiB body limit.
    let huge = register_body(
        &"企".repeat(400_000),
        CREDIT_CODES[1],
        "a@example.com",
        PASSWORD,
    );
    app.post("/auth/register", None, huge)
        .await
        .problem(413, "payload_too_large");
    // None of it registered anything: the same code and email are still free.
    app.send(
        app.client
            .post(&url)
            .header("content-type", "application/json")
            .body(valid),
    )
    .await
    .expect(201);
}

// ---------------------------------------------------------------------------------------------
// 2. Login, /me, deactivated and suspended accounts
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn login_returns_a_bearer_pair_and_me_describes_the_caller() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let r = app
        .try_login(" BOSS@example.com ", PASSWORD)
        .await
        .expect(200);
    assert_no_secrets(&r.body["user"]);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 900);
    assert_eq!(r.body["user"]["email"], "boss@example.com");
    assert_eq!(r.body["user"]["role"], "enterprise");
    let refresh_token = r.body["refresh_token"].as_str().unwrap();
    assert!(refresh_token.len() >= 43, "≥ 256 bits: {refresh_token}");
    let access = r.body["access_token"].as_str().unwrap();
    let parts: Vec<&str> = access.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header = b64_json(parts[0]);
    assert_eq!(header["alg"], "HS256");
    let claims = b64_json(parts[1]);
    assert_eq!(claims["sub"], r.body["user"]["id"]);
    assert_eq!(claims["role"], "enterprise");
    assert_eq!(claims["iss"], "qifu");
    assert_eq!(claims["aud"], "qifu-api");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    assert!(claims["jti"].is_string());

    let me = app.get("/me", Some(access)).await.expect(200);
    assert_no_secrets(&me.body);
    assert_eq!(me.body["id"], r.body["user"]["id"]);
    assert_eq!(me.body["email"], "boss@example.com");
    assert_eq!(me.body["role"], "enterprise");
    assert_eq!(me.body["enterprise"]["credit_code"], CREDIT_CODES[0]);
    assert_eq!(
        me.body["enterprise"]["id"],
        w.enterprise.user["enterprise_id"]
    );
    assert!(me.body["department"].is_null());

    let me = app.get("/me", w.official.t()).await.expect(200);
    assert_eq!(me.body["role"], "official");
    assert_eq!(me.body["department"]["id"], w.dept);
    assert_eq!(me.body["department"]["name"], "行政审批局");
    assert!(me.body["enterprise"].is_null());

    let me = app.get("/me", w.admin.t()).await.expect(200);
    assert_eq!(me.body["role"], "admin");
    assert!(me.body["enterprise"].is_null() && me.body["department"].is_null());
}

#[actix_web::test]
async fn wrong_password_and_unknown_email_get_the_same_401() {
    let app = TestApp::spawn().await;
    app.with_enterprise(0, "boss@example.com").await;
    let wrong = app
        .try_login("boss@example.com", "Not-The-Passw0rd")
        .await
        .problem(401, "unauthorized");
    let unknown = app
        .try_login("nobody@example.com", PASSWORD)
        .await
        .problem(401, "unauthorized");
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(
        wrong.header("www-authenticate"),
        unknown.header("www-authenticate")
    );
    // Missing fields and bad JSON.
    app.post("/auth/login", None, json!({"email": "boss@example.com"}))
        .await
        .problem(422, "validation_failed");
    app.post("/auth/login", None, json!({"email": 1, "password": 2}))
        .await
        .problem(400, "bad_request");
}

#[actix_web::test]
async fn a_deactivated_official_is_locked_out_at_once() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let path = format!("/users/{}", w.official.id());
    let r = app
        .patch(&path, w.admin.t(), json!({"active": false}))
        .await
        .expect(200);
    assert_eq!(r.body["active"], false);

    app.try_login("official@example.com", PASSWORD)
        .await
        .problem(403, "forbidden");
    // The wrong password still says only "wrong credentials".
    app.try_login("official@example.com", "Wrong-Passw0rd-1")
        .await
        .problem(401, "unauthorized");
    // The access token is still within its 15 minutes but no longer works.
    app.get("/me", w.official.t())
        .await
        .problem(401, "unauthorized");
    app.get("/departments", w.official.t())
        .await
        .problem(401, "unauthorized");
    app.post(
        "/me/password",
        w.official.t(),
        json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    )
    .await
    .problem(401, "unauthorized");
    app.refresh(&w.official.refresh)
        .await
        .problem(401, "unauthorized");

    app.patch(&path, w.admin.t(), json!({"active": true}))
        .await
        .expect(200);
    let s = app.login("official@example.com", PASSWORD).await;
    app.get("/me", s.t()).await.expect(200);
    // Deactivation revoked the old refresh token for good.
    app.refresh(&w.official.refresh)
        .await
        .problem(401, "unauthorized");
}

#[actix_web::test]
async fn a_suspended_enterprise_cannot_sign_in_refresh_or_act_until_reactivated() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let eid = w.enterprise.user["enterprise_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/enterprises/{eid}");
    let r = app
        .patch(&path, w.admin.t(), json!({"status": "suspended"}))
        .await
        .expect(200);
    assert_eq!(r.body["status"], "suspended");
    assert_eq!(r.body["id"], eid.as_str());

    app.try_login("boss@example.com", PASSWORD)
        .await
        .problem(403, "forbidden");
    app.get("/me", w.enterprise.t())
        .await
        .problem(401, "unauthorized");
    app.post(
        "/me/password",
        w.enterprise.t(),
        json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    )
    .await
    .problem(401, "unauthorized");
    app.refresh(&w.enterprise.refresh)
        .await
        .problem(401, "unauthorized");
    // Staff still see it, suspended.
    let detail = app.get(&path, w.official.t()).await.expect(200);
    assert_eq!(detail.body["status"], "suspended");

    app.patch(&path, w.admin.t(), json!({"status": "active"}))
        .await
        .expect(200);
    let s = app.login("boss@example.com", PASSWORD).await;
    let me = app.get("/me", s.t()).await.expect(200);
    assert_eq!(me.body["enterprise"]["status"], "active");
    app.refresh(&s.refresh).await.expect(200);

    // Unknown status, unknown enterprise.
    app.patch(&path, w.admin.t(), json!({"status": "deleted"}))
        .await
        .problem(400, "bad_request");
    app.patch(&path, w.admin.t(), json!({}))
        .await
        .problem(422, "validation_failed");
    app.patch(
        "/enterprises/no-such-id",
        w.admin.t(),
        json!({"status": "suspended"}),
    )
    .await
    .problem(404, "not_found");
}

// ---------------------------------------------------------------------------------------------
// 3. Token attacks
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn forged_tampered_expired_and_misdirected_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let user_id = w.enterprise.id();
    let token = w.enterprise.token.clone();
    let parts: Vec<&str> = token.split('.').collect();
    let sid = b64_json(parts[1])["sid"].as_str().unwrap().to_owned();

    // Control: a token we sign ourselves the way the app does is accepted, so every refusal
    // below is for the reason named.
    let good = jwt_keys("qifu-api")
        .issue(user_id, &sid, Role::Enterprise, now_ts(), 600)
        .unwrap();
    app.get("/me", Some(&good)).await.expect(200);

    let r = app.get("/me", None).await.problem(401, "unauthorized");
    assert_eq!(r.header("www-authenticate").as_deref(), Some("Bearer"));

    let mut claims = b64_json(parts[1]);
    claims["role"] = json!("admin");
    let tampered = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);

    let none_header = b64(&json!({"alg": "none", "typ": "JWT"}));
    let mut admin_claims = b64_json(parts[1]);
    admin_claims["role"] = json!("admin");

    let other_secret = qifu::auth::JwtKeys::new(
        &secrecy::SecretString::from("another-secret-0123456789-0123456789-0123"),
        "qifu",
        "qifu-api",
    );
    let other_issuer = qifu::auth::JwtKeys::new(
        &secrecy::SecretString::from(JWT_SECRET),
        "someone-else",
        "qifu-api",
    );
    let real_claims: qifu::auth::Claims = serde_json::from_value(b64_json(parts[1])).unwrap();
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &real_claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();

    let attacks: Vec<(&str, String)> = vec![
        ("garbage", "garbage".to_owned()),
        ("two segments", format!("{}.{}", parts[0], parts[1])),
        (
            "alg none, no signature",
            format!("{none_header}.{}.", parts[1]),
        ),
        (
            "alg none, admin role",
            format!("{none_header}.{}.", b64(&admin_claims)),
        ),
        (
            "alg none, original signature",
            format!("{none_header}.{}.{}", parts[1], parts[2]),
        ),
        ("payload says admin, signature kept", tampered.clone()),
        ("signature stripped", format!("{}.{}.", parts[0], parts[1])),
        (
            "expired an hour ago",
            jwt_keys("qifu-api")
                .issue(user_id, &sid, Role::Enterprise, now_ts() - 3600, 60)
                .unwrap(),
        ),
        (
            "wrong audience",
            jwt_keys("some-other-api")
                .issue(user_id, &sid, Role::Enterprise, now_ts(), 600)
                .unwrap(),
        ),
        (
            "wrong issuer",
            other_issuer
                .issue(user_id, &sid, Role::Enterprise, now_ts(), 600)
                .unwrap(),
        ),
        (
            "other secret",
            other_secret
                .issue(user_id, &sid, Role::Enterprise, now_ts(), 600)
                .unwrap(),
        ),
        ("HS512 with the right secret", hs512),
        (
            "validly signed but the role is not the user's",
            jwt_keys("qifu-api")
                .issue(user_id, &sid, Role::Admin, now_ts(), 600)
                .unwrap(),
        ),
        (
            "validly signed for a user that does not exist",
            jwt_keys("qifu-api")
                .issue("no-such-user", &sid, Role::Admin, now_ts(), 600)
                .unwrap(),
        ),
    ];
    for (i, (what, bad)) in attacks.iter().enumerate() {
        let r = app.get("/me", Some(bad)).await;
        assert_eq!(r.status, 401, "{what}: {}", r.body);
        assert_eq!(r.body["code"], "unauthorized", "{what}");
        // Not even an admin-only read.
        let r = app.get("/users", Some(bad)).await;
        assert_eq!(r.status, 401, "{what} on /users: {}", r.body);
        // The public list refuses a token that fails verification (the last two verify:
        // they are refused where the account is looked up).
        if i < attacks.len() - 2 {
            let r = app.get("/categories", Some(bad)).await;
            assert_eq!(r.status, 401, "{what} on /categories: {}", r.body);
        }
    }
    // Other schemes are not bearer tokens.
    for value in [format!("Basic {token}"), token.clone(), "Bearer".to_owned()] {
        let r = app
            .send(
                app.client
                    .get(format!("{}/me", app.api))
                    .header("authorization", value.clone()),
            )
            .await;
        assert_eq!(r.status, 401, "{value}: {}", r.body);
    }
    // The real token still works.
    app.get("/me", w.enterprise.t()).await.expect(200);
}

// ---------------------------------------------------------------------------------------------
// 4. Refresh tokens
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = TestApp::spawn().await;
    app.with_enterprise(0, "boss@example.com").await;
    let first = app.login("boss@example.com", PASSWORD).await;
    let other = app.login("boss@example.com", PASSWORD).await;

    let r = app.refresh(&first.refresh).await.expect(200);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 900);
    assert_eq!(r.body["user"]["id"], first.user["id"]);
    let second_refresh = r.body["refresh_token"].as_str().unwrap().to_owned();
    let second_access = r.body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first.refresh);
    assert_ne!(second_access, first.token);
    app.get("/me", Some(&second_access)).await.expect(200);

    // The used token is dead, and presenting it kills its successor too.
    app.refresh(&first.refresh)
        .await
        .problem(401, "unauthorized");
    app.refresh(&second_refresh)
        .await
        .problem(401, "unauthorized");
    // Another session (another family) of the same user is untouched.
    app.refresh(&other.refresh).await.expect(200);

    app.refresh("not-a-token")
        .await
        .problem(401, "unauthorized");
    app.post("/auth/refresh", None, json!({}))
        .await
        .problem(422, "validation_failed");
}

#[actix_web::test]
async fn concurrent_refreshes_of_one_token_succeed_at_most_once() {
    let app = TestApp::spawn().await;
    let s = app.with_enterprise(0, "boss@example.com").await;
    let results = futures_util::future::join_all((0..5).map(|_| app.refresh(&s.refresh))).await;
    let ok: Vec<&Resp> = results.iter().filter(|r| r.status == 200).collect();
    assert!(
        ok.len() <= 1,
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(
        results.iter().all(|r| r.status == 200 || r.status == 401),
        "{:?}",
        results
            .iter()
            .map(|r| (r.status, r.body.to_string()))
            .collect::<Vec<_>>()
    );
    // The replays revoked the family, including the winner's new token.
    for r in ok {
        app.refresh(r.body["refresh_token"].as_str().unwrap())
            .await
            .problem(401, "unauthorized");
    }
}

#[actix_web::test]
async fn logout_ends_the_session_and_always_answers_204() {
    let app = TestApp::spawn().await;
    let s = app.with_enterprise(0, "boss@example.com").await;
    let r = app
        .post("/auth/logout", None, json!({"refresh_token": s.refresh}))
        .await
        .expect(204);
    assert!(r.body.as_str().unwrap_or_default().is_empty());
    app.refresh(&s.refresh).await.problem(401, "unauthorized");
    app.post("/auth/logout", None, json!({"refresh_token": s.refresh}))
        .await
        .expect(204);
    app.post(
        "/auth/logout",
        None,
        json!({"refresh_token": "never-issued-token"}),
    )
    .await
    .expect(204);
    app.post("/auth/logout", None, json!({}))
        .await
        .problem(422, "validation_failed");
    // Logging out a rotated session kills the rotated token too.
    let s = app.login("boss@example.com", PASSWORD).await;
    let rotated = app.refresh(&s.refresh).await.expect(200);
    let newest = rotated.body["refresh_token"].as_str().unwrap();
    app.post("/auth/logout", None, json!({"refresh_token": newest}))
        .await
        .expect(204);
    app.refresh(newest).await.problem(401, "unauthorized");
}

#[actix_web::test]
async fn refresh_tokens_expire_after_thirty_days() {
    let app = TestApp::spawn().await;
    let s = app.with_enterprise(0, "boss@example.com").await;
    let kept = app.login("boss@example.com", PASSWORD).await;
    app.clock.advance(chrono::Duration::days(29));
    app.refresh(&kept.refresh).await.expect(200);
    app.clock.advance(chrono::Duration::days(2));
    app.refresh(&s.refresh).await.problem(401, "unauthorized");
}

// ---------------------------------------------------------------------------------------------
// 5. Throttling
// ---------------------------------------------------------------------------------------------

fn retry_after(r: &Resp) -> i64 {
    r.header("retry-after")
        .expect("Retry-After header")
        .parse()
        .expect("Retry-After in seconds")
}

#[actix_web::test]
async fn repeated_failures_lock_the_account_with_growing_lockouts() {
    let app = TestApp::spawn().await;
    app.with_enterprise(0, "boss@example.com").await;
    app.with_enterprise(1, "neighbour@example.com").await;
    let email = "boss@example.com";
    for _ in 0..5 {
        app.try_login(email, "Wrong-Passw0rd-1")
            .await
            .problem(401, "unauthorized");
    }
    let locked = app
        .try_login(email, "Wrong-Passw0rd-1")
        .await
        .problem(429, "rate_limited");
    let first = retry_after(&locked);
    assert!(first > 0 && first <= 15 * 60 + 1, "{first}");
    // Even the right password waits, in any spelling of the address.
    let r = app
        .try_login("BOSS@example.com", PASSWORD)
        .await
        .problem(429, "rate_limited");
    assert!(retry_after(&r) > 0);
    // Another account from the same address is not affected.
    app.login("neighbour@example.com", PASSWORD).await;

    app.clock.advance(chrono::Duration::seconds(first + 1));
    app.login(email, PASSWORD).await;
    // The success reset the counter: four more failures do not lock.
    for _ in 0..4 {
        app.try_login(email, "Wrong-Passw0rd-1")
            .await
            .problem(401, "unauthorized");
    }
    app.login(email, PASSWORD).await;

    // Lock again, wait it out, fail five more times: the second lockout is longer.
    for _ in 0..5 {
        app.try_login(email, "Wrong-Passw0rd-1")
            .await
            .problem(401, "unauthorized");
    }
    let one = retry_after(
        &app.try_login(email, PASSWORD)
            .await
            .problem(429, "rate_limited"),
    );
    app.clock.advance(chrono::Duration::seconds(one + 1));
    for _ in 0..5 {
        app.try_login(email, "Wrong-Passw0rd-1")
            .await
            .problem(401, "unauthorized");
    }
    let two = retry_after(
        &app.try_login(email, PASSWORD)
            .await
            .problem(429, "rate_limited"),
    );
    assert!(two > one, "lockouts grow: {one} then {two}");
    // Capped: a real user is never locked out for long.
    assert!(two <= 15 * 60 + 1, "{two}");
}

#[actix_web::test]
async fn unknown_emails_are_throttled_like_known_ones() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        app.try_login("ghost@example.com", "Wrong-Passw0rd-1")
            .await
            .problem(401, "unauthorized");
    }
    let r = app
        .try_login("ghost@example.com", "Wrong-Passw0rd-1")
        .await
        .problem(429, "rate_limited");
    assert!(retry_after(&r) > 0);
}

#[actix_web::test]
async fn an_attacker_elsewhere_cannot_lock_the_owner_out() {
    let app = TestApp::spawn_with(json!({"server": {"trust_forwarded_for": true}})).await;
    app.with_enterprise(0, "boss@example.com").await;
    let attacker = "203.0.113.9";
    let owner = "198.51.100.7";
    for _ in 0..5 {
        login_from(&app, attacker, "boss@example.com", "Wrong-Passw0rd-1")
            .await
            .problem(401, "unauthorized");
    }
    login_from(&app, attacker, "boss@example.com", PASSWORD)
        .await
        .problem(429, "rate_limited");
    login_from(&app, owner, "boss@example.com", PASSWORD)
        .await
        .expect(200);
}

#[actix_web::test]
async fn one_address_failing_across_many_accounts_is_throttled_as_a_whole() {
    // One failure locks an account from an address; ten (10 × the per-account limit) lock the
    // address itself.
    let app = TestApp::spawn_with(json!({"server": {"trust_forwarded_for": true},
                                    "auth": {"login_max_failures": 1}}))
    .await;
    let sprayer = "203.0.113.50";
    for i in 0..10 {
        login_from(
            &app,
            sprayer,
            &format!("victim{i}@example.com"),
            "Wrong-Passw0rd-1",
        )
        .await
        .problem(401, "unauthorized");
    }
    let r = login_from(&app, sprayer, "fresh@example.com", "Wrong-Passw0rd-1")
        .await
        .problem(429, "rate_limited");
    assert!(retry_after(&r) > 0);
    login_from(
        &app,
        "198.51.100.1",
        "fresh@example.com",
        "Wrong-Passw0rd-1",
    )
    .await
    .problem(401, "unauthorized");
}

#[actix_web::test]
async fn parallel_guesses_do_not_get_past_the_limit() {
    let app = TestApp::spawn().await;
    app.with_enterprise(0, "boss@example.com").await;
    let results = futures_util::future::join_all((0..20).map(|i| {
        let app = &app;
        async move {
            app.try_login("boss@example.com", &format!("Wrong-Passw0rd-{i}"))
                .await
        }
    }))
    .await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    let verified = statuses.iter().filter(|s| **s == 401).count();
    assert!(
        verified <= 5,
        "{verified} guesses were checked against the password, not at most 5: {statuses:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Password reset
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn password_reset_mails_a_single_use_token_that_sets_the_password() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let email = "boss@example.com";
    let other_session = app.login(email, PASSWORD).await;

    app.post(
        "/auth/password-reset",
        None,
        json!({"email": "nobody@example.com"}),
    )
    .await
    .expect(202);
    request_reset(&app, "  BOSS@Example.com").await;
    let mail = app
        .wait_mail(email, "reset mail arrives (zh-CN by default)", |m| {
            m.subject.contains(RESET_SUBJECT_ZH)
        })
        .await;
    assert!(mail.text.contains("30"), "validity stated: {}", mail.text);
    let token = reset_token(&mail.text);
    assert!(mail.html.contains(&token));
    // Only the known address got mail.
    let outbox = app
        .get_q("/admin/outbox", w.admin.t(), &[])
        .await
        .expect(200);
    // (Registration mailed it a verification link too.)
    let recipients: Vec<&str> = outbox
        .items()
        .iter()
        .map(|m| m["to"].as_str().unwrap())
        .collect();
    assert!(
        !recipients.is_empty() && recipients.iter().all(|r| *r == email),
        "{recipients:?}"
    );

    app.post(
        "/auth/password-reset/confirm",
        None,
        json!({"token": token, "new_password": NEW_PASSWORD}),
    )
    .await
    .expect(204);
    app.try_login(email, PASSWORD)
        .await
        .problem(401, "unauthorized");
    app.login(email, NEW_PASSWORD).await;
    for old in [&w.enterprise.refresh, &other_session.refresh] {
        app.refresh(old).await.problem(401, "unauthorized");
    }
    // Once only.
    let again = app
        .post(
            "/auth/password-reset/confirm",
            None,
            json!({"token": token, "new_password": "Yet-Another-Pass-9"}),
        )
        .await;
    assert_invalid(again, "token");
    app.login(email, NEW_PASSWORD).await;
    // Garbage token, missing field.
    assert_invalid(
        app.post(
            "/auth/password-reset/confirm",
            None,
            json!({"token": "x".repeat(43), "new_password": "Yet-Another-Pass-9"}),
        )
        .await,
        "token",
    );
    app.post("/auth/password-reset/confirm", None, json!({"token": "x"}))
        .await
        .problem(422, "validation_failed");
    app.post("/auth/password-reset", None, json!({}))
        .await
        .problem(422, "validation_failed");
}

#[actix_web::test]
async fn reset_tokens_expire_after_thirty_minutes() {
    let app = TestApp::spawn().await;
    app.with_enterprise(0, "boss@example.com").await;
    request_reset(&app, "boss@example.com").await;
    let token = reset_tokens(&app, "boss@example.com", 1).await.remove(0);
    app.clock.advance(chrono::Duration::minutes(31));
    assert_invalid(
        app.post(
            "/auth/password-reset/confirm",
            None,
            json!({"token": token, "new_password": NEW_PASSWORD}),
        )
        .await,
        "token",
    );
    app.login("boss@example.com", PASSWORD).await;
}

#[actix_web::test]
async fn a_weak_new_password_is_refused_and_leaves_the_token_usable() {
    let app = TestApp::spawn().await;
    app.with_enterprise(0, "boss@example.com").await;
    request_reset(&app, "boss@example.com").await;
    request_reset(&app, "boss@example.com").await;
    let tokens = reset_tokens(&app, "boss@example.com", 2).await;
    assert_ne!(tokens[0], tokens[1]);
    for weak in ["short", "password123", "boss@example.com", "onlylowercase"] {
        assert_invalid(
            app.post(
                "/auth/password-reset/confirm",
                None,
                json!({"token": tokens[1], "new_password": weak}),
            )
            .await,
            "new_password",
        );
    }
    app.post(
        "/auth/password-reset/confirm",
        None,
        json!({"token": tokens[1], "new_password": NEW_PASSWORD}),
    )
    .await
    .expect(204);
    // Setting the password retired the other outstanding token too.
    assert_invalid(
        app.post(
            "/auth/password-reset/confirm",
            None,
            json!({"token": tokens[0], "new_password": "Yet-Another-Pass-9"}),
        )
        .await,
        "token",
    );
    app.login("boss@example.com", NEW_PASSWORD).await;
}

#[actix_web::test]
async fn reset_mail_follows_the_users_locale_and_skips_deactivated_users() {
    let app = TestApp::spawn().await;
    let mut body = register_body("Acme Ltd", CREDIT_CODES[1], "en@example.com", PASSWORD);
    body["user"]["locale"] = json!("en");
    let r = app.post("/auth/register", None, body).await.expect(201);
    assert_eq!(r.body["user"]["locale"], "en");
    let mut bad = register_body("Acme Ltd", CREDIT_CODES[2], "fr@example.com", PASSWORD);
    bad["user"]["locale"] = json!("fr");
    assert_invalid(app.post("/auth/register", None, bad).await, "user.locale");

    request_reset(&app, "en@example.com").await;
    let mail = app
        .wait_mail("en@example.com", "English reset mail", |m| {
            m.subject.contains(RESET_SUBJECT_EN)
        })
        .await;
    assert!(mail.text.contains("30 minutes"), "{}", mail.text);

    let admin = app.with_admin("admin@example.com").await;
    let dept = app.with_department(&admin, "Dept").await;
    let official = app.with_official(&admin, "gone@example.com", &dept).await;
    app.patch(
        &format!("/users/{}", official.id()),
        admin.t(),
        json!({"active": false}),
    )
    .await
    .expect(200);
    request_reset(&app, "gone@example.com").await;
    request_reset(&app, "en@example.com").await;
    reset_tokens(&app, "en@example.com", 2).await;
    assert!(
        app.smtp.to("gone@example.com").is_empty(),
        "no reset mail for a deactivated account"
    );
}

// ---------------------------------------------------------------------------------------------
// 7. Changing one's password
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    let app = TestApp::spawn().await;
    let s = app.with_enterprise(0, "boss@example.com").await;
    let other = app.login("boss@example.com", PASSWORD).await;
    request_reset(&app, "boss@example.com").await;
    let reset = reset_tokens(&app, "boss@example.com", 1).await.remove(0);

    assert_invalid(
        app.post(
            "/me/password",
            s.t(),
            json!({"current_password": "Wrong-Passw0rd-1", "new_password": NEW_PASSWORD}),
        )
        .await,
        "current_password",
    );
    for weak in ["short", "password123", "Boss@Example.com"] {
        assert_invalid(
            app.post(
                "/me/password",
                s.t(),
                json!({"current_password": PASSWORD, "new_password": weak}),
            )
            .await,
            "new_password",
        );
    }
    app.post("/me/password", s.t(), json!({"current_password": PASSWORD}))
        .await
        .problem(422, "validation_failed");
    app.post(
        "/me/password",
        None,
        json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    )
    .await
    .problem(401, "unauthorized");

    app.post(
        "/me/password",
        s.t(),
        json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    )
    .await
    .expect(204);
    for old in [&s.refresh, &other.refresh] {
        app.refresh(old).await.problem(401, "unauthorized");
    }
    app.try_login("boss@example.com", PASSWORD)
        .await
        .problem(401, "unauthorized");
    app.login("boss@example.com", NEW_PASSWORD).await;
    // An outstanding reset token from before the change no longer works.
    assert_invalid(
        app.post(
            "/auth/password-reset/confirm",
            None,
            json!({"token": reset, "new_password": "Yet-Another-Pass-9"}),
        )
        .await,
        "token",
    );
}

// ---------------------------------------------------------------------------------------------
// 8. Administration
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn departments_are_created_renamed_and_deactivated_by_admins() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let r = app
        .post(
            "/departments",
            w.admin.t(),
            json!({"name": "  市场监督管理局 ", "description": "市场准入"}),
        )
        .await
        .expect(201);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["name"], "市场监督管理局", "trimmed");
    assert_eq!(r.body["description"], "市场准入");
    assert_eq!(r.body["active"], true);

    app.post(
        "/departments",
        w.admin.t(),
        json!({"name": "市场监督管理局"}),
    )
    .await
    .problem(409, "conflict");
    assert_invalid(
        app.post("/departments", w.admin.t(), json!({"name": "   "}))
            .await,
        "name",
    );
    assert_invalid(
        app.post(
            "/departments",
            w.admin.t(),
            json!({"name": "x".repeat(101)}),
        )
        .await,
        "name",
    );
    app.post("/departments", w.admin.t(), json!({}))
        .await
        .problem(422, "validation_failed");

    let path = format!("/departments/{id}");
    let r = app
        .patch(&path, w.admin.t(), json!({"name": "市场监管局"}))
        .await
        .expect(200);
    assert_eq!(r.body["name"], "市场监管局");
    assert_eq!(r.body["description"], "市场准入", "untouched");
    let r = app
        .patch(&path, w.admin.t(), json!({"description": null}))
        .await
        .expect(200);
    assert!(r.body["description"].is_null(), "null clears");
    // Renaming onto another department's name conflicts; keeping one's own name does not.
    app.patch(&path, w.admin.t(), json!({"name": "行政审批局"}))
        .await
        .problem(409, "conflict");
    app.patch(&path, w.admin.t(), json!({"name": "市场监管局"}))
        .await
        .expect(200);
    assert_invalid(
        app.patch(&path, w.admin.t(), json!({"name": ""})).await,
        "name",
    );
    let r = app
        .patch(&path, w.admin.t(), json!({"active": false}))
        .await
        .expect(200);
    assert_eq!(r.body["active"], false);
    app.patch("/departments/no-such-id", w.admin.t(), json!({"name": "X"}))
        .await
        .problem(404, "not_found");
    app.patch(&path, w.official.t(), json!({"name": "X"}))
        .await
        .problem(403, "forbidden");

    let list = app.get("/departments", w.official.t()).await.expect(200);
    let names: Vec<&str> = list
        .items()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["行政审批局", "市场监管局"]);
    assert!(list.body["next_cursor"].is_null());
    app.get("/departments", w.enterprise.t())
        .await
        .problem(403, "forbidden");
    app.get("/departments", None)
        .await
        .problem(401, "unauthorized");

    // A deactivated department takes no new categories or officials.
    assert_invalid(
        app.post(
            "/categories",
            w.admin.t(),
            json!({"name": "食品", "department_id": id, "sla_hours": 24}),
        )
        .await,
        "department_id",
    );
    assert_invalid(
        app.post(
            "/users",
            w.admin.t(),
            json!({"email": "new@example.com", "name": "New", "role": "official",
                   "department_id": id, "password": PASSWORD}),
        )
        .await,
        "department_id",
    );
}

#[actix_web::test]
async fn categories_validate_their_department_and_deadline_and_list_publicly() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let r = app
        .post(
            "/categories",
            w.admin.t(),
            json!({"name": "营业执照", "description": "办理与变更", "department_id": w.dept,
                   "sla_hours": 48}),
        )
        .await
        .expect(201);
    let licence = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["department_id"], w.dept.as_str());
    assert_eq!(r.body["sla_hours"], 48);
    assert_eq!(r.body["active"], true);
    let tax = app.with_category(&w.admin, "税务", &w.dept, 1).await;

    for hours in [0, -1, 8761] {
        assert_invalid(
            app.post(
                "/categories",
                w.admin.t(),
                json!({"name": "X", "department_id": w.dept, "sla_hours": hours}),
            )
            .await,
            "sla_hours",
        );
    }
    assert_invalid(
        app.post(
            "/categories",
            w.admin.t(),
            json!({"name": "X", "department_id": "no-such-department", "sla_hours": 8}),
        )
        .await,
        "department_id",
    );
    assert_invalid(
        app.post(
            "/categories",
            w.admin.t(),
            json!({"name": "", "department_id": w.dept, "sla_hours": 8}),
        )
        .await,
        "name",
    );
    app.post(
        "/categories",
        w.admin.t(),
        json!({"name": "X", "department_id": w.dept, "sla_hours": "eight"}),
    )
    .await
    .problem(400, "bad_request");
    app.post(
        "/categories",
        w.official.t(),
        json!({"name": "X", "department_id": w.dept, "sla_hours": 8}),
    )
    .await
    .problem(403, "forbidden");

    // Anyone can list the active ones.
    let listed = |body: &Value| -> Vec<String> { ids(body) };
    let anon = app.get("/categories", None).await.expect(200);
    assert_eq!(listed(&anon.body), vec![licence.clone(), tax.clone()]);

    let path = format!("/categories/{tax}");
    let r = app
        .patch(
            &path,
            w.admin.t(),
            json!({"sla_hours": 72, "name": "税务登记"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["sla_hours"], 72);
    assert_eq!(r.body["name"], "税务登记");
    assert_invalid(
        app.patch(&path, w.admin.t(), json!({"sla_hours": 0})).await,
        "sla_hours",
    );
    assert_invalid(
        app.patch(&path, w.admin.t(), json!({"department_id": "nope"}))
            .await,
        "department_id",
    );
    app.patch("/categories/nope", w.admin.t(), json!({"sla_hours": 5}))
        .await
        .problem(404, "not_found");
    app.patch(&path, w.admin.t(), json!({"active": false}))
        .await
        .expect(200);
    for token in [None, w.enterprise.t(), w.official.t(), w.admin.t()] {
        let r = app.get("/categories", token).await.expect(200);
        assert_eq!(listed(&r.body), vec![licence.clone()], "inactive hidden");
    }
    // Admins may ask for the inactive ones too; nobody else can.
    let all = app
        .get_q("/categories", w.admin.t(), &[("include_inactive", "true")])
        .await
        .expect(200);
    assert_eq!(listed(&all.body), vec![licence.clone(), tax.clone()]);
    for token in [None, w.enterprise.t()] {
        let r = app
            .get_q("/categories", token, &[("include_inactive", "true")])
            .await
            .expect(200);
        assert_eq!(listed(&r.body), vec![licence.clone()]);
    }
    // Moving a category to another department.
    let other = app.with_department(&w.admin, "税务局").await;
    let r = app
        .patch(
            &format!("/categories/{licence}"),
            w.admin.t(),
            json!({"department_id": other}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["department_id"], other.as_str());
}

#[actix_web::test]
async fn staff_users_are_created_listed_moved_and_deactivated() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let dept2 = app.with_department(&w.admin, "生态环境局").await;

    let r = app
        .post(
            "/users",
            w.admin.t(),
            json!({"email": "Wang.Fang@Example.com", "name": "王芳", "role": "official",
                   "department_id": dept2, "password": PASSWORD}),
        )
        .await
        .expect(201);
    assert_no_secrets(&r.body);
    let wang = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["email"], "wang.fang@example.com");
    assert_eq!(r.body["role"], "official");
    assert_eq!(r.body["department_id"], dept2.as_str());
    assert!(r.body["enterprise_id"].is_null());
    assert_eq!(r.body["active"], true);

    let r = app
        .post(
            "/users",
            w.admin.t(),
            json!({"email": "root2@example.com", "name": "Second Admin", "role": "admin",
                   "password": PASSWORD}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["role"], "admin");
    app.login("root2@example.com", PASSWORD).await;

    let staff = |email: &str, role: &str, dept: Option<&str>, password: &str| {
        json!({"email": email, "name": "X", "role": role, "department_id": dept,
               "password": password})
    };
    assert_invalid(
        app.post(
            "/users",
            w.admin.t(),
            staff("nodept@example.com", "official", None, PASSWORD),
        )
        .await,
        "department_id",
    );
    assert_invalid(
        app.post(
            "/users",
            w.admin.t(),
            staff("ent@example.com", "enterprise", Some(&w.dept), PASSWORD),
        )
        .await,
        "role",
    );
    app.post(
        "/users",
        w.admin.t(),
        staff("super@example.com", "superuser", Some(&w.dept), PASSWORD),
    )
    .await
    .problem(400, "bad_request");
    assert_invalid(
        app.post(
            "/users",
            w.admin.t(),
            staff("weak@example.com", "official", Some(&w.dept), "password123"),
        )
        .await,
        "password",
    );
    assert_invalid(
        app.post(
            "/users",
            w.admin.t(),
            staff("not-an-email", "official", Some(&w.dept), PASSWORD),
        )
        .await,
        "email",
    );
    app.post(
        "/users",
        w.admin.t(),
        staff("OFFICIAL@example.com", "official", Some(&w.dept), PASSWORD),
    )
    .await
    .problem(409, "conflict");
    // An enterprise user's address is taken for staff too.
    app.post(
        "/users",
        w.admin.t(),
        staff("boss@example.com", "official", Some(&w.dept), PASSWORD),
    )
    .await
    .problem(409, "conflict");

    // Listing with filters.
    let officials_in = |dept: &str| {
        let dept = dept.to_owned();
        let app = &app;
        let token = w.admin.token.clone();
        async move {
            let r = app
                .get_q(
                    "/users",
                    Some(&token),
                    &[("role", "official"), ("department_id", &dept)],
                )
                .await
                .expect(200);
            ids(&r.body)
        }
    };
    assert_eq!(officials_in(&w.dept).await, vec![w.official.id()]);
    assert_eq!(officials_in(&dept2).await, vec![wang.clone()]);
    let admins = app
        .get_q("/users", w.admin.t(), &[("role", "admin")])
        .await
        .expect(200);
    assert_eq!(ids(&admins.body).len(), 2);
    let everyone = app.get("/users", w.admin.t()).await.expect(200);
    assert_no_secrets(&everyone.body);
    assert_eq!(ids(&everyone.body).len(), 5);
    app.get_q("/users", w.admin.t(), &[("role", "wizard")])
        .await
        .problem(400, "bad_request");

    let one = app
        .get(&format!("/users/{wang}"), w.admin.t())
        .await
        .expect(200);
    assert_eq!(one.body["email"], "wang.fang@example.com");
    app.get("/users/no-such-user", w.admin.t())
        .await
        .problem(404, "not_found");

    // Moving the official to another department.
    let path = format!("/users/{}", w.official.id());
    let r = app
        .patch(
            &path,
            w.admin.t(),
            json!({"department_id": dept2, "name": "李明"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["department_id"], dept2.as_str());
    assert_eq!(r.body["name"], "李明");
    assert_eq!(officials_in(&dept2).await.len(), 2);
    assert!(officials_in(&w.dept).await.is_empty());
    let me = app.get("/me", w.official.t()).await.expect(200);
    assert_eq!(me.body["department"]["id"], dept2.as_str());
    assert_invalid(
        app.patch(&path, w.admin.t(), json!({"department_id": null}))
            .await,
        "department_id",
    );
    assert_invalid(
        app.patch(&path, w.admin.t(), json!({"department_id": "nope"}))
            .await,
        "department_id",
    );
    assert_invalid(
        app.patch(
            &format!("/users/{}", w.enterprise.id()),
            w.admin.t(),
            json!({"department_id": w.dept}),
        )
        .await,
        "department_id",
    );
    assert_invalid(
        app.patch(&path, w.admin.t(), json!({"name": " "})).await,
        "name",
    );
    app.patch("/users/no-such-user", w.admin.t(), json!({"name": "X"}))
        .await
        .problem(404, "not_found");
    app.patch(
        &format!("/users/{}", w.admin.id()),
        w.admin.t(),
        json!({"active": false}),
    )
    .await
    .problem(409, "conflict");

    // Deactivating revokes the user's sessions.
    let second = app.login("official@example.com", PASSWORD).await;
    let r = app
        .patch(&path, w.admin.t(), json!({"active": false}))
        .await
        .expect(200);
    assert_eq!(r.body["active"], false);
    for token in [&w.official.refresh, &second.refresh] {
        app.refresh(token).await.problem(401, "unauthorized");
    }
    let listed = app
        .get(&format!("/users/{}", w.official.id()), w.admin.t())
        .await
        .expect(200);
    assert_eq!(listed.body["active"], false);
}

#[actix_web::test]
async fn enterprises_are_searched_by_name_or_credit_code() {
    let app = TestApp::spawn().await;
    let admin = app.with_admin("admin@example.com").await;
    let dept = app.with_department(&admin, "Dept").await;
    let official = app
        .with_official(&admin, "official@example.com", &dept)
        .await;
    let names = [
        "深圳市腾讯计算机系统有限公司",
        "Alibaba (China) Co., Ltd.",
        "华为技术有限公司",
        "100% Pure_Water Ltd",
    ];
    let mut eids = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let r = app
            .post(
                "/auth/register",
                None,
                register_body(
                    name,
                    CREDIT_CODES[i],
                    &format!("e{i}@example.com"),
                    PASSWORD,
                ),
            )
            .await
            .expect(201);
        eids.push(r.body["enterprise"]["id"].as_str().unwrap().to_owned());
    }
    let search = |q: &'static str| {
        let app = &app;
        let token = official.token.clone();
        async move {
            ids(&app
                .get_q("/enterprises", Some(&token), &[("q", q)])
                .await
                .expect(200)
                .body)
        }
    };
    assert_eq!(search("腾讯").await, vec![eids[0].clone()]);
    assert_eq!(
        search("有限公司").await,
        vec![eids[0].clone(), eids[2].clone()]
    );
    assert_eq!(search("ALIBABA").await, vec![eids[1].clone()]);
    assert_eq!(search("china) co").await, vec![eids[1].clone()]);
    // Part of a credit code, in either case.
    assert_eq!(search("708461136").await, vec![eids[0].clone()]);
    assert_eq!(search("802100433b").await, vec![eids[3].clone()]);
    assert_eq!(search(" 91 ").await.len(), 4, "trimmed, matches every code");
    // LIKE wildcards are literal.
    assert_eq!(search("100%").await, vec![eids[3].clone()]);
    assert_eq!(search("%").await, vec![eids[3].clone()]);
    assert_eq!(search("_").await, vec![eids[3].clone()]);
    assert!(search("没有这家公司").await.is_empty());
    assert_eq!(search("").await.len(), 4, "empty q lists all");

    let r = app
        .get(&format!("/enterprises/{}", eids[0]), official.t())
        .await
        .expect(200);
    assert_eq!(r.body["name"], names[0]);
    assert_eq!(r.body["credit_code"], CREDIT_CODES[0]);
    assert_eq!(r.body["status"], "active");
    app.get("/enterprises/no-such-enterprise", admin.t())
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn lists_page_by_cursor_without_gaps_or_duplicates() {
    let app = TestApp::spawn().await;
    let admin = app.with_admin("admin@example.com").await;
    let dept = app.with_department(&admin, "Dept").await;
    let mut expected_users = vec![admin.id().to_owned()];
    for i in 0..6 {
        let r = app
            .post(
                "/users",
                admin.t(),
                json!({"email": format!("o{i}@example.com"), "name": "O", "role": "official",
                       "department_id": dept, "password": PASSWORD}),
            )
            .await
            .expect(201);
        expected_users.push(r.body["id"].as_str().unwrap().to_owned());
    }
    let mut expected_enterprises = Vec::new();
    for i in 0..5 {
        let r = register(&app, &credit_code(i), &format!("e{i}@example.com"))
            .await
            .expect(201);
        expected_enterprises.push(r.body["enterprise"]["id"].as_str().unwrap().to_owned());
    }
    let mut all_users = expected_users.clone();
    all_users.extend(
        app.get("/users?role=enterprise&limit=100", admin.t())
            .await
            .expect(200)
            .body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_owned()),
    );

    for limit in [1, 2, 3, 5] {
        let users = ids_of(&app.all_pages("/users", admin.t(), &[], limit).await);
        assert_eq!(users, all_users, "users with limit {limit}");
    }
    let officials = ids_of(
        &app.all_pages("/users", admin.t(), &[("role", "official")], 2)
            .await,
    );
    assert_eq!(officials, expected_users[1..].to_vec());
    let enterprises = ids_of(&app.all_pages("/enterprises", admin.t(), &[], 2).await);
    assert_eq!(enterprises, expected_enterprises);
    let found = ids_of(
        &app.all_pages("/enterprises", admin.t(), &[("q", "91440300ma")], 2)
            .await,
    );
    assert_eq!(found, expected_enterprises);

    // Default limit 20 holds everything here; the page says it is the last.
    let r = app.get("/users", admin.t()).await.expect(200);
    assert_eq!(ids(&r.body).len(), all_users.len());
    assert!(r.body["next_cursor"].is_null());

    for path in [
        "/users",
        "/enterprises",
        "/departments",
        "/categories",
        "/admin/outbox",
    ] {
        for limit in ["0", "101", "-1"] {
            assert_invalid(
                app.get_q(path, admin.t(), &[("limit", limit)]).await,
                "limit",
            );
        }
        app.get_q(path, admin.t(), &[("limit", "100")])
            .await
            .expect(200);
        let garbage = URL_SAFE_NO_PAD.encode(b"{\"not\":\"a cursor\"}");
        for cursor in ["!!!", "bm90IGpzb24", garbage.as_str()] {
            assert_invalid(
                app.get_q(path, admin.t(), &[("cursor", cursor)]).await,
                "cursor",
            );
        }
        app.get_q(path, admin.t(), &[("limit", "ten")])
            .await
            .problem(400, "bad_request");
    }
}

// ---------------------------------------------------------------------------------------------
// 9. The outbox
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn the_outbox_shows_mail_and_dead_messages_can_be_retried() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    // Registration mailed the enterprise a verification link; staff get none.
    let verification = app.wait_outbox(&w.admin, "boss@example.com", "sent").await;
    request_reset(&app, "official@example.com").await;
    let sent = app
        .wait_outbox(&w.admin, "official@example.com", "sent")
        .await;
    assert!(sent["subject"].as_str().unwrap().contains(RESET_SUBJECT_ZH));
    assert_eq!(sent["attempts"], 1);
    assert!(sent["last_error"].is_null());
    assert!(sent["sent_at"].is_string());
    assert!(sent["created_at"].is_string());
    assert_no_secrets(&sent);
    let only_sent = app
        .get_q("/admin/outbox", w.admin.t(), &[("status", "sent")])
        .await
        .expect(200);
    assert_eq!(
        ids(&only_sent.body),
        vec![
            sent["id"].as_str().unwrap().to_owned(),
            verification["id"].as_str().unwrap().to_owned()
        ]
    );
    assert!(
        ids(&app
            .get_q("/admin/outbox", w.admin.t(), &[("status", "dead")])
            .await
            .expect(200)
            .body)
        .is_empty()
    );
    assert_invalid(
        app.get_q("/admin/outbox", w.admin.t(), &[("status", "bogus")])
            .await,
        "status",
    );

    // A permanent refusal makes the message dead at once.
    app.smtp.set_mode(Mode::RejectPermanent);
    request_reset(&app, "official@example.com").await;
    let dead = app
        .wait_outbox(&w.admin, "official@example.com", "dead")
        .await;
    let dead_id = dead["id"].as_str().unwrap().to_owned();
    assert!(
        dead["last_error"].as_str().unwrap().contains("550"),
        "{dead}"
    );
    let listed = app
        .get_q("/admin/outbox", w.admin.t(), &[("status", "dead")])
        .await
        .expect(200);
    assert_eq!(ids(&listed.body), vec![dead_id.clone()]);

    // Accept again before reviving, so the dispatcher cannot kill it a second time.
    app.smtp.set_mode(Mode::Accept);
    let r = app
        .post(
            &format!("/admin/outbox/{dead_id}/retry"),
            w.admin.t(),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["id"], dead_id.as_str());
    assert_eq!(r.body["status"], "pending");
    let mail = app
        .wait_mail("official@example.com", "the revived mail arrives", |m| {
            m.subject.contains(RESET_SUBJECT_ZH)
        })
        .await;
    let token = reset_token(&mail.text);
    app.post(
        "/auth/password-reset/confirm",
        None,
        json!({"token": token, "new_password": NEW_PASSWORD}),
    )
    .await
    .expect(204);
    app.wait_outbox(&w.admin, "official@example.com", "sent")
        .await;

    app.post(
        &format!("/admin/outbox/{dead_id}/retry"),
        w.admin.t(),
        json!({}),
    )
    .await
    .problem(409, "conflict");
    app.post(
        &format!("/admin/outbox/{}/retry", sent["id"].as_str().unwrap()),
        w.admin.t(),
        json!({}),
    )
    .await
    .problem(409, "conflict");
    app.post(
        "/admin/outbox/no-such-message/retry",
        w.admin.t(),
        json!({}),
    )
    .await
    .problem(404, "not_found");
    // The reset ended the official's sessions: sign in again with the new password.
    let official = app.login("official@example.com", NEW_PASSWORD).await;
    app.get("/admin/outbox", official.t())
        .await
        .problem(403, "forbidden");
}

// ---------------------------------------------------------------------------------------------
// 10. Role × endpoint matrix
// ---------------------------------------------------------------------------------------------

const CALLERS: [&str; 4] = ["anonymous", "enterprise", "official", "admin"];

struct Row {
    method: Method,
    path: String,
    body: Option<Value>,
    /// Expected status for anonymous, enterprise, official, admin.
    expect: [u16; 4],
}

fn row(expect: [u16; 4], method: Method, path: impl Into<String>, body: Option<Value>) -> Row {
    Row {
        method,
        path: path.into(),
        body,
        expect,
    }
}

struct MatrixFixture {
    dept: String,
    other_dept: String,
    category: String,
    official_id: String,
    enterprise_id: String,
    dead_mail: String,
    /// One fresh refresh token per caller, so each may rotate one.
    refresh_tokens: Vec<String>,
}

/// Every route of src/http/auth.rs and src/http/admin.rs, with a body valid enough that only
/// the caller decides the outcome. `c` (the caller's index) keeps created names unique.
#[rustfmt::skip]
fn matrix(fx: &MatrixFixture, c: usize) -> Vec<Row> {
    const GET: Method = Method::GET;
    const POST: Method = Method::POST;
    const PATCH: Method = Method::PATCH;
    let (dept, other, cat) = (&fx.dept, &fx.other_dept, &fx.category);
    let (off, ent, dead) = (&fx.official_id, &fx.enterprise_id, &fx.dead_mail);
    let registration = register_body("矩阵企业", &credit_code(100 + c as u32),
                                     &format!("matrix{c}@example.com"), PASSWORD);
    let credentials = json!({"email": "spare@example.com", "password": PASSWORD});
    let new_category = json!({"name": format!("类别{c}"), "department_id": dept, "sla_hours": 24});
    let new_staff = json!({"email": format!("staff{c}@example.com"), "name": "S", "role": "official",
                           "department_id": dept, "password": PASSWORD});
    let change_password = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    let b = |v: Value| Some(v);
    vec![
        //    anon  ent  off  adm
        row([201, 201, 201, 201], POST,  "/auth/register",                 b(registration)),
        row([200, 200, 200, 200], POST,  "/auth/login",                    b(credentials)),
        row([200, 200, 200, 200], POST,  "/auth/refresh",                  b(json!({"refresh_token": fx.refresh_tokens[c]}))),
        row([204, 204, 204, 204], POST,  "/auth/logout",                   b(json!({"refresh_token": "unknown"}))),
        row([202, 202, 202, 202], POST,  "/auth/password-reset",           b(json!({"email": "spare@example.com"}))),
        // Anyone may try; an invalid token is a validation error whoever asks.
        row([422, 422, 422, 422], POST,  "/auth/password-reset/confirm",   b(json!({"token": "invalid", "new_password": NEW_PASSWORD}))),
        row([401, 200, 200, 200], GET,   "/me",                            None),
        row([401, 403, 403, 201], POST,  "/departments",                   b(json!({"name": format!("部门{c}")}))),
        row([401, 403, 200, 200], GET,   "/departments",                   None),
        row([401, 403, 403, 200], PATCH, format!("/departments/{other}"),  b(json!({"description": "d"}))),
        row([401, 403, 403, 201], POST,  "/categories",                    b(new_category)),
        row([200, 200, 200, 200], GET,   "/categories",                    None),
        row([401, 403, 403, 200], PATCH, format!("/categories/{cat}"),     b(json!({"sla_hours": 12}))),
        row([401, 403, 403, 201], POST,  "/users",                         b(new_staff)),
        row([401, 403, 403, 200], GET,   "/users",                         None),
        row([401, 403, 403, 200], GET,   format!("/users/{off}"),          None),
        row([401, 403, 403, 200], PATCH, format!("/users/{off}"),          b(json!({"name": "改名"}))),
        row([401, 403, 200, 200], GET,   "/enterprises",                   None),
        row([401, 403, 200, 200], GET,   format!("/enterprises/{ent}"),    None),
        row([401, 403, 403, 200], PATCH, format!("/enterprises/{ent}"),    b(json!({"status": "active"}))),
        row([401, 403, 403, 200], GET,   "/admin/outbox",                  None),
        row([401, 403, 403, 200], POST,  format!("/admin/outbox/{dead}/retry"), b(json!({}))),
        // Last: it ends the caller's other sessions.
        row([401, 204, 204, 204], POST,  "/me/password",                   b(change_password)),
    ]
}

#[actix_web::test]
async fn role_endpoint_matrix() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let other_dept = app.with_department(&w.admin, "其他部门").await;
    let category = app.with_category(&w.admin, "营业执照", &w.dept, 24).await;
    app.with_official(&w.admin, "spare@example.com", &w.dept)
        .await;
    let mut refresh_tokens = Vec::new();
    for _ in CALLERS {
        refresh_tokens.push(app.login("spare@example.com", PASSWORD).await.refresh);
    }
    // A dead message for the admin to retry.
    app.smtp.set_mode(Mode::RejectPermanent);
    request_reset(&app, "official@example.com").await;
    let dead = app
        .wait_outbox(&w.admin, "official@example.com", "dead")
        .await;
    app.smtp.set_mode(Mode::Accept);

    let fx = MatrixFixture {
        dept: w.dept.clone(),
        other_dept,
        category,
        official_id: w.official.id().to_owned(),
        enterprise_id: w.enterprise.user["enterprise_id"]
            .as_str()
            .unwrap()
            .to_owned(),
        dead_mail: dead["id"].as_str().unwrap().to_owned(),
        refresh_tokens,
    };
    let tokens = [None, w.enterprise.t(), w.official.t(), w.admin.t()];
    let mut failures = Vec::new();
    let mut calls = 0;
    for (c, caller) in CALLERS.iter().enumerate() {
        for r in matrix(&fx, c) {
            let resp = app
                .call(r.method.clone(), &r.path, tokens[c], &[], r.body.as_ref())
                .await;
            calls += 1;
            let want = r.expect[c];
            if resp.status != want {
                failures.push(format!(
                    "{caller:>10} {} {}: expected {want}, got {} {}",
                    r.method, r.path, resp.status, resp.body
                ));
            } else if want >= 400 {
                let code = match want {
                    401 => "unauthorized",
                    403 => "forbidden",
                    _ => "validation_failed",
                };
                if resp.body["code"] != code {
                    failures.push(format!(
                        "{caller:>10} {} {}: code {} instead of {code}",
                        r.method, r.path, resp.body["code"]
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert_eq!(calls, 4 * 23);
}

type QueryPairs<'a> = &'a [(&'a str, &'a str)];

#[actix_web::test]
async fn forbidden_roles_get_403_whatever_the_body() {
    // The contract: a valid token whose role may not do it → 403. The role must decide before
    // the body is looked at; otherwise non-admins can probe the admin validation rules.
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let category = app.with_category(&w.admin, "营业执照", &w.dept, 24).await;
    let cases = [
        (Method::POST, "/departments".to_owned(), json!({"name": ""})),
        (
            Method::PATCH,
            format!("/departments/{}", w.dept),
            json!({"name": ""}),
        ),
        (
            Method::POST,
            "/categories".to_owned(),
            json!({"name": "", "department_id": "x", "sla_hours": 0}),
        ),
        (
            Method::PATCH,
            format!("/categories/{category}"),
            json!({"sla_hours": 0}),
        ),
        (
            Method::POST,
            "/users".to_owned(),
            json!({"email": "bad", "name": "", "role": "admin", "password": "x"}),
        ),
        (
            Method::PATCH,
            format!("/users/{}", w.official.id()),
            json!({"name": ""}),
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body) in &cases {
        for (who, token) in [
            ("enterprise", w.enterprise.t()),
            ("official", w.official.t()),
        ] {
            let r = app.call(method.clone(), path, token, &[], Some(body)).await;
            if r.status != 403 {
                failures.push(format!("{who} {method} {path}: {} {}", r.status, r.body));
            }
        }
    }
    let queries: [(&str, &str, QueryPairs); 4] = [
        ("official", "/admin/outbox", &[("status", "bogus")]),
        ("official", "/users", &[("limit", "0")]),
        ("enterprise", "/enterprises", &[("limit", "0")]),
        ("enterprise", "/departments", &[("cursor", "!!!")]),
    ];
    for (who, path, query) in queries {
        let token = if who == "official" {
            w.official.t()
        } else {
            w.enterprise.t()
        };
        let r = app.get_q(path, token, query).await;
        if r.status != 403 {
            failures.push(format!(
                "{who} GET {path}?{query:?}: {} {}",
                r.status, r.body
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// 11. qifu create-admin
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn create_admin_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("x.db").display());
    let run = |password: Option<&str>, email: &str| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_qifu"));
        cmd.env_clear()
            .current_dir(dir.path())
            .env("QIFU__DATABASE__URL", &db_url)
            .env(
                "QIFU__AUTH__JWT_SECRET",
                "cli-secret-0123456789-0123456789-012345",
            )
            .env("QIFU__MAIL__TRANSPORT", "log")
            .env("QIFU__LOG__LEVEL", "warn")
            .args(["create-admin", "--email", email, "--name", "首任管理员"]);
        if let Some(p) = password {
            cmd.env("QIFU_ADMIN_PASSWORD", p);
        }
        let out = cmd.output().expect("runs qifu");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };

    let (ok, text) = run(None, "root@example.com");
    assert!(!ok, "unset password must fail: {text}");
    assert!(text.contains("QIFU_ADMIN_PASSWORD"), "{text}");
    let (ok, text) = run(Some("password123"), "root@example.com");
    assert!(!ok, "weak password must fail: {text}");
    assert!(text.contains("common"), "says why: {text}");
    let (ok, text) = run(Some(PASSWORD), "not-an-email");
    assert!(!ok, "{text}");
    let (ok, text) = run(Some(PASSWORD), "Root@Example.com");
    assert!(ok, "good password must succeed: {text}");
    assert!(text.contains("root@example.com"), "{text}");
    let (ok, text) = run(Some(NEW_PASSWORD), "ROOT@example.com");
    assert!(!ok, "a second run must fail: {text}");
    assert!(text.contains("already exists"), "{text}");

    // The admin works against that database, with the first password unchanged.
    let app = TestApp::spawn_with(json!({"database": {"url": db_url}})).await;
    app.try_login("root@example.com", NEW_PASSWORD)
        .await
        .problem(401, "unauthorized");
    let admin = app.login("root@example.com", PASSWORD).await;
    assert_eq!(admin.user["role"], "admin");
    assert_eq!(admin.user["name"], "首任管理员");
    let users = app.get("/users", admin.t()).await.expect(200);
    assert_eq!(ids(&users.body).len(), 1);
}
