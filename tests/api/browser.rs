//! The enterprise portal in a real browser: headless Chromium over WebDriver, one browser
//! session for the whole file. Without /usr/bin/chromedriver the test prints a notice and
//! passes, unless QIFU_REQUIRE_BROWSER=1 (CI), where it fails.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use super::console::world;
use super::helpers::{CREDIT_CODES, PASSWORD, TestApp, spawn_app};

const AXE: &str = include_str!("../vendor/axe.min.js");

pub(crate) struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn driver_path() -> Option<String> {
    let path = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    std::path::Path::new(&path).exists().then_some(path)
}

pub(crate) async fn browser() -> Option<(Driver, Client)> {
    let Some(path) = driver_path() else {
        assert!(
            std::env::var("QIFU_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "QIFU_REQUIRE_BROWSER=1 but no chromedriver at /usr/bin/chromedriver (or $CHROMEDRIVER)"
        );
        eprintln!("NOTICE: no chromedriver found; the browser tests are skipped");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver(child);
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                        "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=zh-CN"],
               "prefs": {"intl.accept_languages": "zh-CN,zh"}}),
    );
    // chromedriver needs a moment to listen; it is ready when it accepts a session.
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return Some((driver, client)),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("chromedriver did not accept a session");
}

pub(crate) struct Tab<'a> {
    pub app: &'a TestApp,
    pub c: &'a Client,
    pub pages_checked: usize,
}

impl<'a> Tab<'a> {
    pub fn new(app: &'a TestApp, c: &'a Client) -> Tab<'a> {
        Tab {
            app,
            c,
            pages_checked: 0,
        }
    }

    /// Signs in through the login form.
    pub async fn sign_in(&mut self, email: &str) {
        self.go("/login").await;
        self.fill("#f-email", email).await;
        self.fill("#f-password", PASSWORD).await;
        self.click("form.form button[type=submit]").await;
    }

    pub async fn go(&mut self, path: &str) {
        self.c
            .goto(&format!("{}{path}", self.app.address))
            .await
            .unwrap();
        self.check().await;
    }

    /// With QIFU_SCREENSHOTS=DIR (scripts/screenshots.sh), the page at 1280 and 375 px.
    pub async fn shoot(&self, name: &str) {
        let Ok(dir) = std::env::var("QIFU_SCREENSHOTS") else {
            return;
        };
        for (width, height) in [(1280, 900), (375, 800)] {
            self.c.set_window_size(width, height).await.unwrap();
            let png = self.c.screenshot().await.unwrap();
            std::fs::write(format!("{dir}/{name}-{width}.png"), png).unwrap();
        }
        self.c.set_window_size(1280, 900).await.unwrap();
    }

    pub async fn path(&self) -> String {
        self.c.current_url().await.unwrap().path().to_owned()
    }

    pub async fn js(&self, script: &str) -> Value {
        self.c.execute(script, vec![]).await.unwrap()
    }

    pub async fn text(&self, css: &str) -> String {
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|_| panic!("no {css}"))
            .text()
            .await
            .unwrap()
    }

    /// A refused form's summary of what to fix.
    pub async fn error_summary(&self) -> String {
        self.text(".error-summary").await
    }

    /// Ends a browser test: at least `pages` pages passed [`Tab::check`] on the way; the
    /// browser session closes.
    pub async fn close(self, pages: usize) {
        assert!(
            self.pages_checked >= pages,
            "only {} pages checked",
            self.pages_checked
        );
        self.c.clone().close().await.unwrap();
    }

    /// Chooses the option of value `value` in the select `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap()
            .select_by_value(value)
            .await
            .unwrap();
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let e = self.c.find(Locator::Css(css)).await.unwrap();
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    pub async fn click(&mut self, css: &str) {
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|_| panic!("no {css}"))
            .click()
            .await
            .unwrap();
        self.check().await;
    }

    /// axe-core on the page as it stands: no serious or critical violations; and at 375 px
    /// the page never scrolls sideways.
    pub async fn check(&mut self) {
        let url = self.c.current_url().await.unwrap();
        self.js(AXE).await;
        let violations = self
            .c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {resultTypes: ['violations']}).then(r => done(
                   r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))));",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(violations, json!([]), "axe on {url}");
        self.c.set_window_size(375, 800).await.unwrap();
        let overflow = self
            .js("return document.documentElement.scrollWidth - window.innerWidth;")
            .await;
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "{url} scrolls sideways at 375 px by {overflow}"
        );
        self.c.set_window_size(1280, 900).await.unwrap();
        self.pages_checked += 1;
    }
}

pub(crate) async fn api_ticket(
    app: &TestApp,
    token: Option<&str>,
    category: &str,
    title: &str,
) -> String {
    let r = app
        .post(
            "/tickets",
            token,
            json!({"title": title, "description": "详细情况", "category_id": category}),
        )
        .await
        .expect(201);
    r.body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_enterprise_portal_in_a_browser() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let app = spawn_app().await;
    let w = world(&app).await;
    let mut tab = Tab::new(&app, &c);

    tab.go("/").await;
    assert_eq!(
        tab.js("return document.documentElement.lang").await,
        "zh-CN"
    );
    tab.shoot("home").await;
    tab.go("/no-such-page").await;

    // Register: the credit code is checked as it is typed, and again by the server.
    tab.go("/register").await;
    tab.shoot("register").await;
    tab.fill("#f-enterprise-name", "杭州某某科技有限公司").await;
    tab.fill("#f-enterprise-credit_code", "91330100716105852X")
        .await;
    assert_eq!(
        tab.text("[data-credit-code-hint]").await,
        "请输入 18 位统一社会信用代码，并检查是否输错"
    );
    tab.fill("#f-enterprise-credit_code", &CREDIT_CODES[2].to_lowercase())
        .await;
    assert_eq!(tab.text("[data-credit-code-hint]").await, "代码校验通过");
    tab.fill("#f-user-name", "王五").await;
    tab.fill("#f-user-email", "wang@qifu.test").await;
    tab.click("button[type=submit].button").await;
    // No password: the error summary is focused and the typed values are kept.
    assert!(
        tab.js("return document.title")
            .await
            .as_str()
            .unwrap()
            .starts_with("错误：")
    );
    assert_eq!(
        tab.js("return document.activeElement.hasAttribute('data-error-summary')")
            .await,
        true
    );
    assert_eq!(
        tab.js("return document.getElementById('f-user-email').value")
            .await,
        "wang@qifu.test"
    );
    tab.fill("#f-user-password", PASSWORD).await;
    tab.click("button[type=submit].button").await;
    assert_eq!(tab.path().await, "/login");
    assert!(tab.text(".banner").await.contains("注册成功"));

    // Sign in; a wrong password first.
    tab.fill("#f-email", "wang@qifu.test").await;
    tab.fill("#f-password", "not-the-password").await;
    tab.click("form.form button[type=submit]").await;
    assert!(tab.error_summary().await.contains("电子邮箱或密码不正确"));
    tab.fill("#f-email", "wang@qifu.test").await;
    tab.fill("#f-password", PASSWORD).await;
    tab.click("form.form button[type=submit]").await;
    assert_eq!(tab.path().await, "/tickets");
    assert!(tab.text("main").await.contains("还没有诉求"));
    tab.shoot("tickets-empty").await;

    // File a ticket whose title is markup: it shows as text.
    tab.go("/tickets/new").await;
    tab.shoot("ticket-new").await;
    let title = "<script>window.pwned=1</script>营业执照经营范围变更";
    tab.select("#f-category_id", &w.category).await;
    tab.fill("#f-title", title).await;
    tab.fill("#f-description", &"经营范围需要增加技术服务。".repeat(40))
        .await;
    tab.click("form.form button[type=submit]").await;
    assert!(tab.path().await.starts_with("/tickets/"));
    let ticket_path = tab.path().await;
    let id = ticket_path.trim_start_matches("/tickets/").to_owned();
    assert_eq!(tab.text("h1").await, title);
    assert_eq!(tab.js("return window.pwned === undefined").await, true);
    assert!(tab.text(".banner").await.contains("诉求已提交"));

    tab.go("/tickets").await;
    assert!(tab.text(".cards").await.contains(title));
    tab.shoot("tickets").await;
    tab.go("/tickets?status=closed").await;
    assert!(tab.text("main").await.contains("没有符合条件的诉求"));

    // Reply.
    tab.go(&ticket_path).await;
    tab.fill("#f-body", "补充：营业执照副本已准备好。").await;
    tab.click("form[action$='/comments'] button").await;
    assert!(
        tab.text(".message-list")
            .await
            .contains("营业执照副本已准备好")
    );

    // A reply without its CSRF token: the refusal page, and no message added.
    tab.fill("#f-body", "这条不应该出现").await;
    tab.js(
        "document.querySelector(\"form[action$='/comments'] input[name=csrf]\").value = 'forged';",
    )
    .await;
    tab.click("form[action$='/comments'] button").await;
    assert!(tab.text("h1").await.contains("页面已过期"));
    let comments = app
        .get(&format!("/tickets/{id}/comments"), w.official.t())
        .await
        .expect(200);
    assert_eq!(comments.body["items"].as_array().unwrap().len(), 1);

    // The official resolves through the API; the enterprise confirms with a rating.
    app.act(&w.official, &id, "accept", json!({}))
        .await
        .expect(200);
    let resolution = json!({"resolution": "已办理变更登记。"});
    app.act(&w.official, &id, "resolve", resolution)
        .await
        .expect(200);
    tab.go(&ticket_path).await;
    assert!(tab.text(".summary").await.contains("待您确认"));
    tab.shoot("ticket").await;
    tab.click("#f-rating-5").await;
    tab.fill("#f-feedback", "办理很快，谢谢。").await;
    tab.click("form[action$='/actions/confirm'] button").await;
    assert!(tab.text(".summary").await.contains("已办结"));
    assert!(tab.text(".summary").await.contains("5 非常满意"));

    // Reopen another one with a reason.
    let session = app.login("wang@qifu.test", PASSWORD).await;
    let second = api_ticket(&app, session.t(), &w.category, "用电接入").await;
    app.act(&w.official, &second, "accept", json!({}))
        .await
        .expect(200);
    let resolution = json!({"resolution": "已联系供电公司。"});
    app.act(&w.official, &second, "resolve", resolution)
        .await
        .expect(200);
    tab.go(&format!("/tickets/{second}")).await;
    tab.click("form[action$='/actions/reopen'] button").await;
    assert!(tab.error_summary().await.contains("请说明还有什么问题"));
    tab.fill("#f-note", "供电公司还没有联系我们。").await;
    tab.click("form[action$='/actions/reopen'] button").await;
    assert!(tab.text(".summary").await.contains("办理中"));

    // Cancel a third through its confirmation page.
    let third = api_ticket(&app, session.t(), &w.category, "不再需要的诉求").await;
    tab.go(&format!("/tickets/{third}")).await;
    tab.click("a[href$='/cancel']").await;
    assert!(tab.text("h1").await.contains("撤销诉求"));
    tab.click("form[action$='/actions/cancel'] button").await;
    assert!(tab.text(".summary").await.contains("已撤销"));

    // English by the user's choice.
    tab.click(".lang-switch button").await;
    assert_eq!(tab.js("return document.documentElement.lang").await, "en");
    assert!(tab.text(".summary").await.contains("Cancelled"));
    tab.go("/account").await;
    tab.shoot("account-en").await;

    // Sign out; the old cookie no longer opens anything.
    let cookie = c.get_named_cookie("qifu_session").await.unwrap();
    tab.click(".site-nav form[action='/logout'] button").await;
    assert_eq!(tab.path().await, "/login");
    c.add_cookie(cookie).await.unwrap();
    tab.go("/tickets").await;
    assert_eq!(tab.path().await, "/login");
    tab.go("/password-reset").await;
    tab.go("/password-reset/confirm?token=abc").await;

    tab.close(20).await;
}
