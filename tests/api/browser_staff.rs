//! The officials' workbench in a real browser: the queue, a ticket worked from acceptance to
//! resolution with a site visit and a request for information answered in the enterprise's
//! portal, a stale form refused, and an admin's reassignment. axe-core checks every page.

use fantoccini::Locator;
use serde_json::json;

use super::browser::{Tab, api_ticket, browser};
use super::helpers::{Id, action_path, comments_path, spawn_app, ticket_path};

async fn sign_out(tab: &mut Tab<'_>) {
    tab.click(".site-nav form[action='/logout'] button").await;
}

async fn value(tab: &Tab<'_>, id: &str) -> String {
    let v = tab
        .js(&format!("return document.getElementById('{id}').value;"))
        .await;
    v.as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn officials_work_tickets_in_a_browser() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let app = spawn_app().await;
    let admin = app.admin("admin@qifu.test").await;
    let dept = app.department(&admin, "市场监管局").await;
    let category = app.category(&admin, "食品经营许可", &dept, 72).await;
    let official = app.official(&admin, "li@qifu.test", &dept).await;
    let enterprise = app.enterprise(0, "ent@qifu.test").await;
    let first = api_ticket(&app, enterprise.t(), &category, "食品经营许可证延续").await;
    let mut tab = Tab::new(&app, &c);

    // The official lands on their queue; the ticket is theirs and counted in its tab.
    tab.sign_in("li@qifu.test").await;
    assert_eq!(tab.path().await, "/queue");
    assert_eq!(
        tab.text(".queue-tabs a[aria-current=page] .count").await,
        "1"
    );
    assert!(tab.text("table.queue").await.contains("食品经营许可证延续"));
    assert!(tab.text("table.queue").await.contains("Enterprise 0"));
    tab.go("/queue?view=overdue").await;
    assert!(tab.text("main").await.contains("该队列中没有诉求"));
    tab.go("/queue?view=mine").await;
    tab.click(&format!("table.queue a[href='/tickets/{first}']"))
        .await;
    tab.click("form[action$='/actions/accept'] button").await;
    assert!(tab.text(".banner").await.contains("已受理"));
    assert!(tab.text(".summary").await.contains("办理中"));

    // A site visit: the empty form names what is missing; then it is kept, for staff only.
    tab.click("#visit button").await;
    assert!(tab.error_summary().await.contains("请填写走访地点"));
    tab.js("document.getElementById('f-visit_date').value = '2026-12-01';")
        .await;
    tab.fill("#f-visit_place", "滨江区江南大道 100 号").await;
    tab.fill("#f-visit_people", "张经理（企业负责人）").await;
    tab.fill("#f-visit_body", "现场核查后厨布局，符合要求。")
        .await;
    tab.click("#visit button").await;
    let records = tab.text(".message-internal").await;
    assert!(records.contains("实地走访"), "{records}");
    assert!(
        records.contains("走访地点：滨江区江南大道 100 号"),
        "{records}"
    );
    assert!(
        records.contains("走访对象：张经理（企业负责人）"),
        "{records}"
    );
    let staff_view = app
        .get(&comments_path(&first), official.t())
        .await
        .expect(200);
    assert_eq!(staff_view.body["items"][0]["kind"], "site_visit");
    let enterprise_view = app
        .get(&comments_path(&first), enterprise.t())
        .await
        .expect(200);
    assert!(enterprise_view.body["items"].as_array().unwrap().is_empty());

    // Ask for information; the enterprise answers in its portal.
    tab.fill("#f-info_note", "请补充从业人员健康证明。").await;
    tab.click("form[action$='/actions/request_info'] button")
        .await;
    assert!(tab.text(".summary").await.contains("待企业补充材料"));
    sign_out(&mut tab).await;
    tab.sign_in("ent@qifu.test").await;
    tab.go(&format!("/tickets/{first}")).await;
    assert!(tab.text("main").await.contains("请补充从业人员健康证明"));
    assert!(!tab.text("main").await.contains("江南大道"));
    tab.fill("#f-info", "健康证明已准备好，明天送到窗口。")
        .await;
    tab.click("form[action$='/actions/provide_info'] button")
        .await;
    assert!(tab.text(".summary").await.contains("办理中"));
    sign_out(&mut tab).await;

    // The official sees the answer and resolves (an empty resolution is refused first).
    tab.sign_in("li@qifu.test").await;
    tab.go(&format!("/tickets/{first}")).await;
    assert!(tab.text("main").await.contains("健康证明已准备好"));
    tab.shoot("staff-ticket").await;
    tab.click("form[action$='/actions/resolve'] button").await;
    assert!(tab.error_summary().await.contains("请填写办理结果"));
    tab.fill("#f-resolution", "已核发延续后的许可证。").await;
    tab.click("form[action$='/actions/resolve'] button").await;
    assert!(tab.text(".banner").await.contains("已办结"));
    let t = app
        .get(&ticket_path(&first), official.t())
        .await
        .expect(200);
    assert_eq!(t.body["status"], "resolved");
    assert_eq!(t.body["resolution"], "已核发延续后的许可证。");

    // A stale form: the ticket moved on after the page was rendered; nothing is overwritten.
    let second = api_ticket(&app, enterprise.t(), &category, "户外广告设置审批").await;
    app.post(&action_path(&second, "accept"), official.t(), json!({}))
        .await
        .expect(200);
    tab.go(&format!("/tickets/{second}")).await;
    app.post(
        &action_path(&second, "request_info"),
        official.t(),
        json!({"note": "请补充设计图。"}),
    )
    .await
    .expect(200);
    app.post(
        &action_path(&second, "provide_info"),
        enterprise.t(),
        json!({"note": "设计图已补充。"}),
    )
    .await
    .expect(200);
    tab.fill("#f-resolution", "这次办结不应生效").await;
    tab.click("form[action$='/actions/resolve'] button").await;
    assert!(tab.error_summary().await.contains("有人修改了这条诉求"));
    assert_eq!(value(&tab, "f-resolution").await, "这次办结不应生效");
    let t = app
        .get(&ticket_path(&second), official.t())
        .await
        .expect(200);
    assert_eq!(t.body["status"], "in_progress");
    assert!(t.body["resolution"].is_null());
    sign_out(&mut tab).await;

    // An admin reassigns it to a colleague, chosen with their open-ticket counts.
    let colleague = app.official(&admin, "wang@qifu.test", &dept).await;
    tab.sign_in("admin@qifu.test").await;
    assert_eq!(tab.path().await, "/queue");
    assert!(tab.text(".queue-tabs").await.contains("待分派"));
    tab.go(&format!("/tickets/{second}")).await;
    let choices = tab.text("#reassign fieldset").await;
    assert!(choices.contains("Official li@qifu.test"), "{choices}");
    assert!(choices.contains("在办 1 件"), "{choices}");
    assert!(choices.contains("在办 0 件"), "{choices}");
    c.find(Locator::Css(&format!(
        "#reassign input[value='{}']",
        colleague.user.id()
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    tab.click("form[action$='/actions/assign'] button").await;
    assert!(tab.text(".banner").await.contains("诉求已分派"));
    assert!(
        tab.text(".summary")
            .await
            .contains("Official wang@qifu.test")
    );
    let t = app
        .get(&ticket_path(&second), colleague.t())
        .await
        .expect(200);
    assert_eq!(t.body["assignee_id"], colleague.user.id());
    // Closing the resolved one goes through a page that says what it means.
    tab.go(&format!("/tickets/{first}")).await;
    tab.click("a[href$='/close']").await;
    assert!(tab.text("h1").await.contains("关闭诉求"));
    tab.click("form[action$='/actions/close'] button").await;
    assert!(tab.error_summary().await.contains("请说明关闭原因"));
    tab.fill("#f-close_note", "企业电话确认已办结。").await;
    tab.click("form[action$='/actions/close'] button").await;
    assert!(tab.text(".summary").await.contains("已办结"));
    let t = app.get(&ticket_path(&first), admin.t()).await.expect(200);
    assert_eq!(t.body["status"], "closed");
    tab.go("/queue?view=all&status=any&sort=due").await;
    assert!(tab.text("table.queue").await.contains("户外广告设置审批"));

    // Overdue and due-soon rows stand out by a text tag, not only by colour (72-hour
    // deadlines, warned at 80%). Tokens and sessions expire meanwhile.
    api_ticket(&app, enterprise.t(), &category, "消防安全检查申请").await;
    app.advance_hours(15);
    let enterprise = app.login_as("ent@qifu.test").await;
    api_ticket(&app, enterprise.t(), &category, "招牌设置备案").await;
    app.advance_hours(60);
    let enterprise = app.login_as("ent@qifu.test").await;
    api_ticket(&app, enterprise.t(), &category, "新办营业执照咨询").await;
    tab.sign_in("admin@qifu.test").await;
    let overdue = tab.text("tr.row-overdue").await;
    assert!(overdue.contains("已超期"), "{overdue}");
    let soon = tab.text("tr.row-due-soon").await;
    assert!(
        soon.contains("招牌设置备案") && soon.contains("即将到期"),
        "{soon}"
    );
    tab.shoot("queue").await;
    tab.go("/queue?view=overdue").await;
    assert!(tab.text("table.queue").await.contains("消防安全检查申请"));
    assert!(!tab.text("table.queue").await.contains("新办营业执照咨询"));
    tab.go("/queue?view=due_soon").await;
    assert!(tab.text("table.queue").await.contains("招牌设置备案"));
    assert!(!tab.text("table.queue").await.contains("消防安全检查申请"));
    tab.go(&format!("/tickets/{second}")).await;
    tab.js("document.getElementById('actions').scrollIntoView();")
        .await;
    tab.shoot("staff-ticket-actions").await;

    tab.close(25).await;
}
