//! The administrators' console in a real browser: review an enterprise, create a working-day
//! category, edit the calendar, send a dead mail again, deactivate an official; each result
//! read back through the JSON API, and axe-core on every page.

use serde_json::{Value, json};

use super::browser::{Tab, browser};
use super::console::world;
use super::helpers::{PASSWORD, TestApp, poll};
use super::smtp::Mode;

async fn calendar_2026(app: &TestApp, token: Option<&str>) -> Vec<Value> {
    let r = app
        .get_q("/calendar", token, &[("year", "2026")])
        .await
        .expect(200);
    r.body["days"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_admin_runs_the_platform_in_a_browser() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let app = TestApp::spawn_with(json!({"auth": {"enterprise_review": true}})).await;
    let w = world(&app).await;
    let ent = app.with_enterprise(2, "ent@qifu.test").await;
    let enterprise = app.get("/me", ent.t()).await.expect(200).body["enterprise"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = app.with_enterprise(3, "other@qifu.test").await;
    let other = app.get("/me", other.t()).await.expect(200).body["enterprise"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Whatever mail is queued so far goes out, so the only dead mail is the approval's.
    poll(|| async {
        let rows = app.outbox_rows().await;
        match rows.iter().find(|r| r.status.as_str() != "sent") {
            Some(r) => Err(format!("not sent yet: {r:?}")),
            None => Ok(()),
        }
    })
    .await;
    app.smtp.set_mode(Mode::RejectPermanent);

    let mut tab = Tab::new(&app, &c);
    tab.sign_in("admin@qifu.test").await;
    tab.click(".site-nav a[href='/admin']").await;
    assert_eq!(tab.text("h1").await, "管理");

    // The review queue comes first; approving needs no second step.
    tab.click("a[href='/admin/enterprises']").await;
    let queue = tab.text("#review-queue").await;
    assert!(queue.contains("Enterprise 2") && queue.contains("Enterprise 3"));
    tab.shoot("admin-enterprises").await;
    tab.go("/admin/enterprises?q=Enterprise%203").await;
    assert!(!tab.text("#all-enterprises").await.contains("Enterprise 2"));
    tab.go("/admin/enterprises").await;
    tab.click(&format!(
        "#review-queue a[href='/admin/enterprises/{enterprise}']"
    ))
    .await;
    tab.click("form[action$='/approve'] button").await;
    assert!(tab.text(".banner").await.contains("审核通过"));
    assert!(tab.text(".timeline").await.contains("审核通过"));
    let e = app
        .get(&format!("/enterprises/{enterprise}"), w.admin.t())
        .await
        .expect(200);
    assert_eq!(e.body["status"], "active");

    // Rejecting asks for the reason on its own page, and insists on it.
    tab.go(&format!("/admin/enterprises/{other}")).await;
    tab.click("a[href$='/reject']").await;
    tab.click("main form button.button-warning").await;
    assert!(tab.error_summary().await.contains("请填写不予通过的原因"));
    let e = app
        .get(&format!("/enterprises/{other}"), w.admin.t())
        .await
        .expect(200);
    assert_eq!(e.body["status"], "pending", "nothing changed");
    tab.fill("#f-reason", "营业执照照片不清晰，请重新上传。")
        .await;
    tab.click("main form button.button-warning").await;
    assert!(tab.text(".banner").await.contains("未予通过"));
    let e = app
        .get(&format!("/enterprises/{other}"), w.admin.t())
        .await
        .expect(200);
    assert_eq!(e.body["status"], "rejected");
    assert_eq!(e.body["status_reason"], "营业执照照片不清晰，请重新上传。");

    // Both decisions' mail was refused for good; once the server takes mail again, send the
    // approval's again.
    let dead = app.wait_outbox(&w.admin, "ent@qifu.test", "dead").await;
    let dead_id = dead["id"].as_str().unwrap().to_owned();
    app.smtp.set_mode(Mode::Accept);
    tab.go("/admin/outbox?status=dead").await;
    assert!(tab.text("#outbox").await.contains("ent@qifu.test"));
    tab.shoot("admin-outbox").await;
    tab.click(&format!(
        "#outbox form[action='/admin/outbox/{dead_id}/retry'] button"
    ))
    .await;
    assert!(tab.text(".banner").await.contains("重新排队"));
    poll(|| async {
        let page = app
            .get_q("/admin/outbox", w.admin.t(), &[("limit", "100")])
            .await
            .expect(200);
        match page
            .items()
            .iter()
            .any(|m| m["id"] == dead_id.as_str() && m["status"] == "sent")
        {
            true => Ok(()),
            false => Err(format!("not sent again: {}", page.body)),
        }
    })
    .await;

    // A department, then a category counting working days in it.
    tab.go("/admin/departments").await;
    tab.fill("#f-department-name", "卫生健康委").await;
    tab.click("form[method=post][action='/admin/departments'] button")
        .await;
    assert!(tab.text(".banner").await.contains("部门已新增"));
    let found = app
        .get_q("/departments", w.admin.t(), &[("q", "卫生")])
        .await
        .expect(200);
    assert_eq!(found.items().len(), 1);
    let department = found.items()[0]["id"].as_str().unwrap().to_owned();

    tab.go("/admin/categories/new").await;
    tab.fill("#f-category-name", "食品经营许可").await;
    tab.select("#f-category-department_id", &department).await;
    tab.click("#f-category-sla_kind-working_days").await;
    tab.fill("#f-category-sla_working_days", "十五").await;
    tab.click("main form button[type=submit]").await;
    assert!(
        tab.error_summary()
            .await
            .contains("请输入 1 到 60 之间的工作日数")
    );
    assert_eq!(
        tab.js("return document.getElementById('f-category-name').value")
            .await,
        "食品经营许可"
    );
    tab.js("document.querySelector('fieldset').scrollIntoView()")
        .await;
    tab.shoot("admin-category").await;
    tab.fill("#f-category-sla_working_days", "15").await;
    tab.click("main form button[type=submit]").await;
    assert_eq!(tab.path().await, "/admin/categories");
    assert!(tab.text(".table").await.contains("15 个工作日"));
    let categories = app.all_pages("/categories", w.admin.t(), &[], 100).await;
    let made = categories
        .iter()
        .find(|c| c["name"] == "食品经营许可")
        .expect("the category is listed");
    assert_eq!(made["sla_working_days"], 15);
    assert_eq!(made["department_id"], department.as_str());

    // The calendar: 2026 is there from the start; a bad day changes nothing.
    tab.go("/admin/calendar?year=2026").await;
    assert!(tab.text("#calendar-days").await.contains("国庆节"));
    tab.shoot("admin-calendar").await;
    let before = calendar_2026(&app, w.admin.t()).await;
    tab.fill("#f-day-date", "2026-10-01").await;
    tab.click("#f-day-kind-holiday").await;
    tab.click("form[action$='/days'] button").await;
    assert!(tab.error_summary().await.contains("不能与已有的日期重复"));
    assert_eq!(calendar_2026(&app, w.admin.t()).await, before);
    tab.fill("#f-day-date", "2026-12-31").await;
    tab.fill("#f-day-name", "区庆").await;
    tab.click("form[action$='/days'] button").await;
    assert!(tab.text(".banner").await.contains("已添加"));
    let after = calendar_2026(&app, w.admin.t()).await;
    assert_eq!(after.len(), before.len() + 1);
    assert!(after.contains(&json!({"date": "2026-12-31", "kind": "holiday", "name": "区庆"})));
    tab.click("a[href$='remove?date=2026-12-31']").await;
    assert!(tab.text("h1").await.contains("2026-12-31"));
    tab.click("main form button.button-warning").await;
    assert!(tab.text(".banner").await.contains("已删除"));
    assert_eq!(calendar_2026(&app, w.admin.t()).await, before);

    // Deactivate the official, through the confirmation page.
    let officials = app
        .get_q("/users", w.admin.t(), &[("role", "official")])
        .await
        .expect(200);
    let official = officials.items()[0]["id"].as_str().unwrap().to_owned();
    tab.go("/admin/users?role=official").await;
    tab.click(&format!("a[href='/admin/users/{official}']"))
        .await;
    tab.click("a[href$='/deactivate']").await;
    assert!(tab.text("h1").await.contains("停用账户"));
    let u = app
        .get(&format!("/users/{official}"), w.admin.t())
        .await
        .expect(200);
    assert_eq!(
        u.body["active"], true,
        "the confirmation page changes nothing"
    );
    tab.click("main form button.button-warning").await;
    assert!(tab.text(".banner").await.contains("账户已停用"));
    let u = app
        .get(&format!("/users/{official}"), w.admin.t())
        .await
        .expect(200);
    assert_eq!(u.body["active"], false);
    assert_ne!(
        app.try_login("official@qifu.test", PASSWORD).await.status,
        200
    );

    let made = made["id"].as_str().unwrap();
    for page in [
        "/admin/users/new".to_owned(),
        "/admin/outbox".to_owned(),
        "/admin/categories".to_owned(),
        "/admin/users".to_owned(),
        format!("/admin/departments/{department}"),
        format!("/admin/departments/{department}/deactivate"),
        format!("/admin/categories/{made}"),
        format!("/admin/categories/{made}/deactivate"),
        format!("/admin/enterprises/{enterprise}/suspend"),
    ] {
        tab.go(&page).await;
    }
    // In English too.
    tab.click(".lang-switch button").await;
    assert_eq!(tab.js("return document.documentElement.lang").await, "en");
    assert_eq!(tab.text("h1").await, "Suspend enterprise: Enterprise 2");
    tab.go("/admin/calendar?year=2026").await;
    assert!(tab.text("#calendar-days").await.contains("Thu 1 Oct"));
    tab.close(30).await;
}
