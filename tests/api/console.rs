//! The web console over plain HTTP: headers, assets, sessions, CSRF, forms. The same journeys
//! in a real browser are in `browser.rs`.

use std::collections::HashMap;

use serde_json::json;

use super::helpers::{CREDIT_CODES, Id, PASSWORD, TestApp, spawn_app};

/// A cookie jar and the last page, enough to drive forms without a browser.
pub struct Visitor<'a> {
    app: &'a TestApp,
    pub cookies: HashMap<String, String>,
}

pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// The value of the first hidden input of that name.
    pub fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker).expect("field on the page") + marker.len();
        self.body[start..].split('"').next().unwrap().to_owned()
    }
}

impl<'a> Visitor<'a> {
    pub fn new(app: &'a TestApp) -> Visitor<'a> {
        Visitor {
            app,
            cookies: HashMap::new(),
        }
    }

    fn keep(&mut self, res: &reqwest::Response) {
        for value in res.headers().get_all("set-cookie") {
            let raw = value.to_str().unwrap();
            let pair = raw.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if raw.contains("Max-Age=0") || value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, req: reqwest::RequestBuilder) -> Page {
        let res = req
            .header("cookie", self.cookie_header())
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        self.keep(&res);
        Page {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: res.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.app.client.get(format!("{}{path}", self.app.address));
        self.finish(req).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self
            .app
            .client
            .post(format!("{}{path}", self.app.address))
            .form(form);
        self.finish(req).await
    }

    /// Posts a `multipart/form-data` body (see `helpers::multipart`).
    pub async fn post_multipart(&mut self, path: &str, parts: &[super::helpers::Part<'_>]) -> Page {
        let (content_type, body) = super::helpers::multipart(parts);
        let req = self
            .app
            .client
            .post(format!("{}{path}", self.app.address))
            .header("content-type", content_type)
            .body(body);
        self.finish(req).await
    }

    /// GETs the form page, then posts it with its CSRF token.
    pub async fn submit(&mut self, page: &str, action: &str, form: &[(&str, &str)]) -> Page {
        let csrf = self.get(page).await.field("csrf");
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(form);
        self.post(action, &all).await
    }

    pub async fn sign_in(&mut self, email: &str) {
        let page = self
            .submit(
                "/login",
                "/login",
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(page.status, 303, "{}", page.body);
        assert!(self.cookies.contains_key("qifu_session"));
    }
}

/// An admin, a department with an official, a category, and a registered enterprise user.
pub struct World {
    pub admin: super::helpers::Session,
    pub official: super::helpers::Session,
    pub category: String,
}

pub async fn world(app: &TestApp) -> World {
    let admin = app.admin("admin@qifu.test").await;
    let department = app.department(&admin, "市场监管局").await;
    let category = app.category(&admin, "营业执照", &department, 72).await;
    let official = app
        .official(&admin, "official@qifu.test", &department)
        .await;
    World {
        admin,
        official,
        category,
    }
}

#[tokio::test]
async fn pages_carry_security_headers_and_assets_are_cached_for_a_year() {
    let app = spawn_app().await;
    let mut v = Visitor::new(&app);
    let home = v.get("/").await;
    assert_eq!(home.status, 200);
    assert!(
        home.header("content-security-policy")
            .contains("script-src 'self'")
    );
    assert!(
        home.header("content-security-policy")
            .contains("frame-ancestors 'none'")
    );
    assert!(
        !home
            .header("content-security-policy")
            .contains("unsafe-inline")
    );
    assert_eq!(home.header("x-frame-options"), "DENY");
    assert_eq!(home.header("referrer-policy"), "same-origin");
    assert_eq!(home.header("x-content-type-options"), "nosniff");
    assert!(home.body.contains("<html lang=\"zh-CN\">"));
    assert!(!home.body.contains("<script>"), "no inline scripts");

    let css = home.body.split("href=\"/assets/app.").nth(1).unwrap();
    let css = format!("/assets/app.{}", css.split('"').next().unwrap());
    let res = app
        .client
        .get(format!("{}{css}", app.address))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let h = |n: &str| res.headers().get(n).unwrap().to_str().unwrap().to_owned();
    assert_eq!(h("cache-control"), "public, max-age=31536000, immutable");
    assert_eq!(h("content-encoding"), "gzip");
    assert!(h("content-type").starts_with("text/css"));
    let etag = h("etag");
    let again = app
        .client
        .get(format!("{}{css}", app.address))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // A page of the previous release names an older hash: today's file, revalidated.
    let old = app
        .client
        .get(format!("{}/assets/app.000000000000.css", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 200);
    assert_eq!(old.headers()["cache-control"], "no-cache");
    let missing = app
        .client
        .get(format!("{}/assets/nothing.000000000000.css", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn languages_follow_the_browser_until_the_user_chooses() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/login", app.address))
        .header("accept-language", "en-GB,en;q=0.9,zh;q=0.5")
        .send()
        .await
        .unwrap();
    let body = res.text().await.unwrap();
    assert!(body.contains("<html lang=\"en\">"));
    assert!(body.contains("Sign in"));

    let mut v = Visitor::new(&app);
    let page = v
        .submit(
            "/login",
            "/language",
            &[("lang", "en"), ("next", "/register")],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(page.header("location"), "/register");
    assert!(v.get("/register").await.body.contains("<html lang=\"en\">"));

    // Signed in, the choice is kept on the user (and so in their mail).
    app.enterprise(0, "lang@qifu.test").await;
    let mut v = Visitor::new(&app);
    v.sign_in("lang@qifu.test").await;
    assert!(
        v.get("/tickets")
            .await
            .body
            .contains("<html lang=\"zh-CN\">")
    );
    let page = v
        .submit(
            "/tickets",
            "/language",
            &[("lang", "en"), ("next", "/tickets")],
        )
        .await;
    assert_eq!(page.status, 303);
    v.cookies.remove("qifu_lang");
    assert!(v.get("/tickets").await.body.contains("<html lang=\"en\">"));
    let me = app.login("lang@qifu.test", PASSWORD).await;
    let me = app.get("/me", me.t()).await.expect(200);
    assert_eq!(me.body["locale"], "en");
}

#[tokio::test]
async fn unknown_paths_answer_browsers_with_a_page_and_programs_with_a_problem() {
    let app = spawn_app().await;
    let mut v = Visitor::new(&app);
    let page = v.get("/no/such/page").await;
    assert_eq!(page.status, 404);
    assert!(page.header("content-type").starts_with("text/html"));
    assert!(
        page.body.contains(&page.header("x-request-id")),
        "the request id is shown"
    );
    let api = app.get("/no/such/thing", None).await;
    api.problem(404, "not_found");
}

#[tokio::test]
async fn signed_out_pages_send_visitors_to_sign_in_and_back() {
    let app = spawn_app().await;
    let mut v = Visitor::new(&app);
    let page = v.get("/tickets/new").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.header("location"), "/login?next=%2Ftickets%2Fnew");
    app.enterprise(0, "back@qifu.test").await;
    let csrf = v.get("/login?next=%2Ftickets%2Fnew").await.field("csrf");
    let page = v
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("email", "back@qifu.test"),
                ("password", PASSWORD),
                ("next", "/tickets/new"),
            ],
        )
        .await;
    assert_eq!(page.header("location"), "/tickets/new");
    let mut v = Visitor::new(&app);
    let page = v
        .submit(
            "/login",
            "/login",
            &[
                ("email", "back@qifu.test"),
                ("password", PASSWORD),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(page.header("location"), "/", "no open redirect");
}

#[tokio::test]
async fn registration_errors_sit_beside_their_fields_and_the_form_keeps_its_values() {
    let app = spawn_app().await;
    let mut v = Visitor::new(&app);
    let page = v
        .submit(
            "/register",
            "/register",
            &[
                ("enterprise.name", "杭州测试有限公司"),
                ("enterprise.credit_code", "91330100716105852X"),
                ("user.name", "张三"),
                ("user.email", "zhang@qifu.test"),
                ("user.password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("<title>错误："));
    assert!(page.body.contains("href=\"#f-enterprise-credit_code\""));
    assert!(page.body.contains("id=\"f-enterprise-credit_code-error\""));
    assert!(page.body.contains("value=\"杭州测试有限公司\""));
    assert!(page.body.contains("value=\"zhang@qifu.test\""));
    assert!(!page.body.contains(PASSWORD), "passwords are never echoed");

    // Lower case and full-width digits are accepted and normalised by the server too.
    let code = CREDIT_CODES[2].to_lowercase().replacen('9', "９", 1);
    let page = v
        .submit(
            "/register",
            "/register",
            &[
                ("enterprise.name", "杭州测试有限公司"),
                ("enterprise.credit_code", &code),
                ("user.name", "张三"),
                ("user.email", "zhang@qifu.test"),
                ("user.password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.header("location"), "/login?email=zhang%40qifu.test");
    let again = v
        .submit(
            "/register",
            "/register",
            &[
                ("enterprise.name", "另一家公司"),
                ("enterprise.credit_code", CREDIT_CODES[2]),
                ("user.name", "李四"),
                ("user.email", "li@qifu.test"),
                ("user.password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(again.status, 422);
    assert!(again.body.contains("id=\"f-enterprise-credit_code-error\""));
}

#[tokio::test]
async fn a_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let filer = app.enterprise(0, "csrf@qifu.test").await;
    let mut v = Visitor::new(&app);
    v.sign_in("csrf@qifu.test").await;
    let form = v.get("/tickets/new").await;
    let key = form.field("idempotency_key");
    let fields = [
        ("idempotency_key", key.as_str()),
        ("category_id", w.category.as_str()),
        ("priority", "normal"),
        ("title", "营业执照变更"),
        ("description", "需要变更经营范围"),
    ];
    let refused = v.post("/tickets/new", &fields).await;
    assert_eq!(refused.status, 403);
    assert!(refused.header("content-type").starts_with("text/html"));
    let list = app.get("/tickets", filer.t()).await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 0);

    let filed = v.submit("/tickets/new", "/tickets/new", &fields).await;
    assert_eq!(filed.status, 303, "{}", filed.body);
    let ticket_path = filed.header("location");
    assert!(ticket_path.starts_with("/tickets/"));

    // A token from another visitor, or another site's form with the right token: refused.
    let mut stranger = Visitor::new(&app);
    let foreign = stranger.get("/login").await.field("csrf");
    let cancel = format!("{ticket_path}/actions/cancel");
    let page = v
        .post(&cancel, &[("csrf", &foreign), ("version", "1")])
        .await;
    assert_eq!(page.status, 403);
    let csrf = v.get(&ticket_path).await.field("csrf");
    let res = app
        .client
        .post(format!("{}{cancel}", app.address))
        .header("cookie", v.cookie_header())
        .header("origin", "https://evil.example")
        .form(&[("csrf", csrf.as_str()), ("version", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let id = ticket_path.trim_start_matches("/tickets/");
    let t = app
        .get(&format!("/tickets/{id}"), filer.t())
        .await
        .expect(200);
    assert_ne!(t.body["status"], "cancelled");
}

#[tokio::test]
async fn one_form_render_files_once_however_often_it_is_sent() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let filer = app.enterprise(0, "twice@qifu.test").await;
    let mut v = Visitor::new(&app);
    v.sign_in("twice@qifu.test").await;
    let form = v.get("/tickets/new").await;
    let (csrf, key) = (form.field("csrf"), form.field("idempotency_key"));
    let fields = [
        ("csrf", csrf.as_str()),
        ("idempotency_key", key.as_str()),
        ("category_id", w.category.as_str()),
        ("priority", "high"),
        ("title", "水电接入"),
        ("description", "新厂房需要接入用电"),
    ];
    let first = v.post("/tickets/new", &fields).await;
    let second = v.post("/tickets/new", &fields).await;
    assert_eq!(first.status, 303);
    assert_eq!(second.status, 303);
    assert_eq!(first.header("location"), second.header("location"));
    let list = app.get("/tickets", filer.t()).await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["items"][0]["priority"], "high");

    // A blank form: errors on top and beside the fields, the same key kept for the retry.
    let blank = v
        .post(
            "/tickets/new",
            &[
                ("csrf", csrf.as_str()),
                ("idempotency_key", "k2"),
                ("title", ""),
            ],
        )
        .await;
    assert_eq!(blank.status, 422);
    assert!(blank.body.contains("href=\"#f-title\""));
    assert!(blank.body.contains("href=\"#f-category_id\""));
    assert_eq!(blank.field("idempotency_key"), "k2");
}

#[tokio::test]
async fn a_stale_form_says_so_and_shows_the_ticket_as_it_is_now() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let filer = app.enterprise(0, "stale@qifu.test").await;
    let t = app
        .post(
            "/tickets",
            filer.t(),
            json!({"title": "用地咨询", "description": "厂房用地性质", "category_id": w.category}),
        )
        .await
        .expect(201);
    let id = t.body["id"].as_str().unwrap().to_owned();
    let mut v = Visitor::new(&app);
    v.sign_in("stale@qifu.test").await;
    let page = v.get(&format!("/tickets/{id}")).await;
    let (csrf, version) = (page.field("csrf"), t.body["version"].to_string());
    assert!(page.body.contains("/actions/cancel") || page.body.contains("/cancel\""));
    app.act(&w.official, &id, "accept", json!({}))
        .await
        .expect(200);
    let stale = v
        .post(
            &format!("/tickets/{id}/actions/cancel"),
            &[("csrf", &csrf), ("version", &version), ("note", "不需要了")],
        )
        .await;
    assert_eq!(stale.status, 409);
    assert!(stale.body.contains("data-error-summary"));
    assert!(stale.body.contains("办理中"), "the current status is shown");
    let now = app
        .get(&format!("/tickets/{id}"), filer.t())
        .await
        .expect(200);
    assert_eq!(now.body["status"], "in_progress");
}

#[tokio::test]
async fn signing_out_or_changing_the_password_kills_the_cookie() {
    let app = spawn_app().await;
    app.enterprise(0, "out@qifu.test").await;
    let mut v = Visitor::new(&app);
    v.sign_in("out@qifu.test").await;
    let cookie = v.cookies["qifu_session"].clone();
    assert_eq!(v.get("/tickets").await.status, 200);

    // The console cookie is no refresh token.
    app.post("/auth/refresh", None, json!({"refresh_token": cookie}))
        .await
        .problem(401, "unauthorized");

    let out = v.submit("/tickets", "/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert!(!v.cookies.contains_key("qifu_session"));
    v.cookies.insert("qifu_session".into(), cookie);
    let page = v.get("/tickets").await;
    assert_eq!(page.status, 303, "a signed-out cookie no longer works");

    v.cookies.clear();
    v.sign_in("out@qifu.test").await;
    let cookie = v.cookies["qifu_session"].clone();
    let api = app.login("out@qifu.test", PASSWORD).await;
    app.post(
        "/me/password",
        api.t(),
        json!({"current_password": PASSWORD, "new_password": "Another-Passw0rd-2026"}),
    )
    .await
    .expect(204);
    v.cookies.insert("qifu_session".into(), cookie);
    assert_eq!(
        v.get("/tickets").await.status,
        303,
        "a password change ends console sessions"
    );
}

#[tokio::test]
async fn a_deactivated_user_is_signed_out_of_the_console() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let official_id = w.official.id().to_owned();
    let mut v = Visitor::new(&app);
    v.sign_in("official@qifu.test").await;
    let home = v.get("/").await;
    assert_eq!(home.status, 200, "staff get a page of their own");
    app.patch(
        &format!("/users/{official_id}"),
        w.admin.t(),
        json!({"active": false}),
    )
    .await
    .expect(200);
    assert_eq!(v.get("/account").await.status, 303);
}

#[tokio::test]
async fn repeated_wrong_passwords_get_the_lockout_message() {
    let app = spawn_app().await;
    app.enterprise(0, "lock@qifu.test").await;
    let mut v = Visitor::new(&app);
    let max = app.state.settings.auth.login_max_failures;
    for _ in 0..max {
        let page = v
            .submit(
                "/login",
                "/login",
                &[
                    ("email", "lock@qifu.test"),
                    ("password", "wrong-password-1"),
                ],
            )
            .await;
        assert_eq!(page.status, 422);
    }
    let page = v
        .submit(
            "/login",
            "/login",
            &[("email", "lock@qifu.test"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, 429);
    assert!(page.body.contains("登录失败次数过多"));
}
