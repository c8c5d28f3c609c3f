//! The officials' work queue over plain HTTP: each role's views and their counts, filters,
//! keyset pages, and the API's `due_soon` filter the due-soon view stands on.

use serde_json::json;

use super::console::{Page, Visitor};
use super::helpers::spawn_app;

/// The tabs' counts, in order.
fn counts(page: &Page) -> Vec<i64> {
    page.body
        .split("<span class=\"count\">")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().trim().parse().unwrap())
        .collect()
}

/// The ticket titles listed, in order.
fn titles(page: &Page) -> Vec<String> {
    let Some(table) = page.body.split("<tbody>").nth(1) else {
        return Vec::new();
    };
    table
        .split("</tbody>")
        .next()
        .unwrap()
        .split("<a href=\"/tickets/")
        .skip(1)
        .map(|s| {
            s.split('>')
                .nth(1)
                .unwrap()
                .split('<')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn next_link(page: &Page) -> Option<String> {
    let start = page.body.find("rel=\"next\"")?;
    let before = &page.body[..start];
    let href = before.rsplit("href=\"").next()?.split('"').next()?;
    Some(href.replace("&#38;", "&").replace("&amp;", "&"))
}

#[tokio::test]
async fn each_role_has_its_views_with_counts_filters_and_pages() {
    let app = spawn_app().await;
    let admin = app.admin("admin@qifu.test").await;
    let market = app.department(&admin, "市场监管局").await;
    let tax = app.department(&admin, "税务局").await;
    let licence = app.category(&admin, "营业执照", &market, 72).await;
    let invoice = app.category(&admin, "发票", &tax, 72).await;
    let li = app.official(&admin, "li@qifu.test", &market).await;
    let zhao = app.official(&admin, "zhao@qifu.test", &tax).await;
    let ent = app.enterprise(0, "e0@qifu.test").await;
    let other = app.enterprise(1, "e1@qifu.test").await;
    let mut ids = Vec::new();
    for i in 0..23 {
        let priority = if i == 5 { "urgent" } else { "normal" };
        let body = json!({"title": format!("执照变更 {i:02}"), "description": "经营范围",
                          "category_id": licence, "priority": priority});
        ids.push(
            app.file_ticket_with(&ent, body).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut theirs = Vec::new();
    for i in 0..2 {
        let t = app
            .file_ticket(&other, &format!("发票申领 {i}"), &invoice)
            .await;
        theirs.push(t["id"].as_str().unwrap().to_owned());
    }

    // Officials: mine, my department, overdue, due soon, awaiting the enterprise.
    let mut v = Visitor::new(&app);
    v.sign_in("li@qifu.test").await;
    let page = v.get("/queue").await;
    assert_eq!(page.status, 200);
    assert_eq!(counts(&page), [23, 23, 0, 0, 0]);
    let first = titles(&page);
    assert_eq!(first.len(), 20);
    assert_eq!(first[0], "执照变更 22", "newest first");
    let next = next_link(&page).expect("a second page");
    let rest = titles(&v.get(&next).await);
    assert_eq!(rest, ["执照变更 02", "执照变更 01", "执照变更 00"]);
    let by_deadline = titles(&v.get("/queue?view=department&sort=due").await);
    assert_eq!(by_deadline[0], "执照变更 05", "the urgent one is due first");
    assert_eq!(
        titles(&v.get("/queue?priority=urgent").await),
        ["执照变更 05"]
    );
    assert_eq!(titles(&v.get("/queue?q=执照变更+1").await).len(), 10);
    let none = v.get("/queue?created_to=2000-01-01").await;
    assert!(titles(&none).is_empty());
    assert!(none.body.contains("没有符合条件的诉求"));
    let bad = v.get("/queue?created_from=yesterday").await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("请输入开始日期"));
    // The enterprise filter names one enterprise; another department's are out of scope.
    assert_eq!(
        titles(
            &v.get("/queue?view=department&enterprise=Enterprise+0")
                .await
        )
        .len(),
        20
    );
    assert!(titles(&v.get("/queue?enterprise=Enterprise+1").await).is_empty());
    let many = v.get("/queue?enterprise=Enterprise").await;
    assert_eq!(many.status, 422);
    assert!(many.body.contains("匹配的企业不止一家"));
    // A view of another role falls back to the role's first.
    assert_eq!(counts(&v.get("/queue?view=unassigned").await).len(), 5);

    app.act(&li, &ids[3], "accept", json!({})).await.expect(200);
    app.act(&li, &ids[3], "request_info", json!({"note": "请补充章程"}))
        .await
        .expect(200);
    let page = v.get("/queue?view=awaiting").await;
    assert_eq!(counts(&page), [23, 23, 0, 0, 1]);
    assert_eq!(titles(&page), ["执照变更 03"]);
    // Staff read the status as waiting on the enterprise, not as addressed to them.
    assert!(page.body.contains(">待企业补充材料<"));
    assert!(!page.body.contains(">待您补充材料<"));

    let mut z = Visitor::new(&app);
    z.sign_in("zhao@qifu.test").await;
    let page = z.get("/queue?view=department").await;
    assert_eq!(counts(&page), [2, 2, 0, 0, 0]);
    assert_eq!(titles(&page), ["发票申领 1", "发票申领 0"]);
    app.act(&zhao, &theirs[0], "return", json!({"note": "不属于本部门"}))
        .await
        .expect(200);

    // Admins: all open, overdue, due soon, awaiting, unassigned.
    let mut a = Visitor::new(&app);
    a.sign_in("admin@qifu.test").await;
    let page = a.get("/queue").await;
    assert_eq!(counts(&page), [25, 0, 0, 1, 1]);
    assert_eq!(
        titles(&a.get("/queue?view=unassigned").await),
        ["发票申领 0"]
    );

    // 60 of 72 hours on: past the warning time (80%); the urgent one (36 hours) is overdue,
    // the one waiting for the enterprise neither.
    app.advance_hours(60);
    let li = app.login_as("li@qifu.test").await;
    let api = app
        .get_q(
            "/tickets",
            li.t(),
            &[("due_soon", "true"), ("limit", "100")],
        )
        .await
        .expect(200);
    assert_eq!(api.items().len(), 21);
    let mut v = Visitor::new(&app);
    v.sign_in("li@qifu.test").await;
    let page = v.get("/queue?view=overdue").await;
    assert_eq!(counts(&page), [23, 23, 1, 21, 1]);
    assert_eq!(titles(&page), ["执照变更 05"]);
    assert!(page.body.contains("row-overdue"));
    let soon = v.get("/queue?view=due_soon").await;
    assert_eq!(titles(&soon).len(), 20);
    assert!(!titles(&soon).contains(&"执照变更 03".to_owned()));
    assert!(soon.body.contains("即将到期"));

    // Not for enterprises.
    let mut e = Visitor::new(&app);
    e.sign_in("e0@qifu.test").await;
    assert_eq!(e.get("/queue").await.status, 403);
}
