//! The admin pages over plain HTTP: who may open them, CSRF, and forms that refuse bad input
//! without changing anything. The journeys in a real browser are in `browser_admin.rs`.

use super::console::{Visitor, world};
use super::helpers::spawn_app;

const PAGES: [&str; 7] = [
    "/admin",
    "/admin/departments",
    "/admin/categories",
    "/admin/users",
    "/admin/enterprises",
    "/admin/calendar",
    "/admin/outbox",
];

#[tokio::test]
async fn only_admins_open_the_admin_pages() {
    let app = spawn_app().await;
    let w = world(&app).await;
    app.with_enterprise(0, "ent@qifu.test").await;

    let mut nobody = Visitor::new(&app);
    for page in PAGES {
        let r = nobody.get(page).await;
        assert_eq!(r.status, 303, "{page}");
        assert!(r.header("location").starts_with("/login?next="), "{page}");
    }
    for email in ["official@qifu.test", "ent@qifu.test"] {
        let mut v = Visitor::new(&app);
        v.sign_in(email).await;
        for page in PAGES {
            let r = v.get(page).await;
            assert_eq!(r.status, 403, "{email} {page}");
            assert!(r.body.contains("您没有权限查看这个页面"), "{page}");
        }
        // Nor act: a department the official tried to create does not exist.
        let csrf = v.get("/account").await.field("csrf");
        let r = v
            .post(
                "/admin/departments",
                &[("csrf", &csrf), ("department.name", "偷建的部门")],
            )
            .await;
        assert_eq!(r.status, 403);
        assert!(!v.get("/").await.body.contains("href=\"/admin\""));
    }
    let listed = app
        .get_q("/departments", w.admin.t(), &[("q", "偷建")])
        .await
        .expect(200);
    assert!(listed.items().is_empty());

    let mut admin = Visitor::new(&app);
    admin.sign_in("admin@qifu.test").await;
    for page in PAGES {
        let r = admin.get(page).await;
        assert_eq!(r.status, 200, "{page}: {}", r.body);
    }
    assert!(admin.get("/").await.body.contains("href=\"/admin\""));

    // Without the form's token: refused, nothing changed.
    let r = admin
        .post(
            "/admin/departments",
            &[("csrf", "forged"), ("department.name", "伪造的部门")],
        )
        .await;
    assert_eq!(r.status, 403);
    let listed = app
        .get_q("/departments", w.admin.t(), &[("q", "伪造")])
        .await
        .expect(200);
    assert!(listed.items().is_empty());
}

#[tokio::test]
async fn bad_input_shows_field_errors_and_changes_nothing() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let mut admin = Visitor::new(&app);
    admin.sign_in("admin@qifu.test").await;

    // A taken department name.
    let r = admin
        .submit(
            "/admin/departments",
            "/admin/departments",
            &[("department.name", "市场监管局")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("<title>错误："));
    assert!(r.body.contains("href=\"#f-department-name\""));
    assert!(r.body.contains("已有同名的部门"));

    // A category: no department, hours that are not a number; what was typed stays.
    let before = app
        .all_pages("/categories", w.admin.t(), &[], 100)
        .await
        .len();
    let r = admin
        .submit(
            "/admin/categories/new",
            "/admin/categories",
            &[
                ("category.name", "排污许可"),
                ("category.department_id", ""),
                ("category.sla_kind", "hours"),
                ("category.sla_hours", "三天"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("请输入 1 到 8760 之间的小时数"),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"排污许可\""));
    let r = admin
        .submit(
            "/admin/categories/new",
            "/admin/categories",
            &[
                ("category.name", "排污许可"),
                ("category.department_id", "no-such-department"),
                ("category.sla_kind", "working_days"),
                ("category.sla_working_days", "20"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("请选择一个在用的承办部门"), "{}", r.body);
    let after = app.all_pages("/categories", w.admin.t(), &[], 100).await;
    assert_eq!(after.len(), before);

    // An edit switches the category to working days.
    let r = admin
        .submit(
            &format!("/admin/categories/{}", w.category),
            &format!("/admin/categories/{}", w.category),
            &[
                ("category.name", "营业执照"),
                (
                    "category.department_id",
                    after[0]["department_id"].as_str().unwrap(),
                ),
                ("category.sla_kind", "working_days"),
                ("category.sla_working_days", "5"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let c = app.all_pages("/categories", w.admin.t(), &[], 100).await;
    assert_eq!(c[0]["sla_working_days"], 5);

    // A calendar day outside the year, and a kind that is neither.
    let before = app
        .get_q("/calendar", w.admin.t(), &[("year", "2026")])
        .await
        .expect(200)
        .body;
    let r = admin
        .submit(
            "/admin/calendar?year=2026",
            "/admin/calendar/2026/days",
            &[("day.date", "2027-01-01"), ("day.kind", "vacation")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("href=\"#f-day-date\""));
    assert!(r.body.contains("href=\"#f-day-kind\""));
    assert!(r.body.contains("value=\"2027-01-01\""));
    let now = app
        .get_q("/calendar", w.admin.t(), &[("year", "2026")])
        .await
        .expect(200)
        .body;
    assert_eq!(now, before);

    // Staff without a department, or with a weak password.
    let r = admin
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[
                ("staff.name", "李四"),
                ("staff.email", "li@qifu.test"),
                ("staff.role", "official"),
                ("staff.department_id", ""),
                ("staff.password", "short"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("href=\"#f-staff-department_id\""));
    assert!(r.body.contains("href=\"#f-staff-password\""));
    assert!(
        !r.body.contains("value=\"short\""),
        "passwords are not echoed"
    );
    let users = app
        .get_q("/users", w.admin.t(), &[("q", "li@qifu")])
        .await
        .expect(200);
    assert!(users.items().is_empty());

    // A suspension's reason too long: the enterprise stays active.
    let ent = app.with_enterprise(1, "e1@qifu.test").await;
    let id = app.get("/me", ent.t()).await.expect(200).body["enterprise"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/admin/enterprises/{id}/suspend");
    let r = admin
        .submit(&path, &path, &[("reason", &"长".repeat(1001))])
        .await;
    assert_eq!(r.status, 422);
    let e = app
        .get(&format!("/enterprises/{id}"), w.admin.t())
        .await
        .expect(200);
    assert_eq!(e.body["status"], "active");
}

#[tokio::test]
async fn lists_page_and_search_and_deactivation_waits_for_confirmation() {
    let app = spawn_app().await;
    let w = world(&app).await;
    for i in 0..24 {
        app.with_department(&w.admin, &format!("部门{i:02}")).await;
    }
    let mut admin = Visitor::new(&app);
    admin.sign_in("admin@qifu.test").await;

    // 25 departments: 20, then 5; an edited cursor starts again.
    let first = admin.get("/admin/departments").await;
    assert_eq!(first.body.matches("/deactivate\"").count(), 20);
    let next = first
        .body
        .split("rel=\"next\"")
        .next()
        .unwrap()
        .rsplit("href=\"")
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    assert!(next.starts_with("/admin/departments?cursor="), "{next}");
    let second = admin.get(&next).await;
    assert_eq!(second.body.matches("/deactivate\"").count(), 5);
    assert!(!second.body.contains("rel=\"next\""));
    assert!(second.body.contains("回到第一页"));
    let garbage = admin.get("/admin/departments?cursor=not-a-cursor").await;
    assert_eq!(garbage.status, 200);
    assert_eq!(garbage.body.matches("/deactivate\"").count(), 20);

    let found = admin.get("/admin/departments?q=%E9%83%A8%E9%97%A807").await;
    assert_eq!(found.body.matches("/deactivate\"").count(), 1);
    assert!(found.body.contains("部门07"));
    let none = admin.get("/admin/departments?q=nothing-like-it").await;
    assert!(none.body.contains("没有符合条件的记录"));

    // Deactivating a department: the GET is only the question.
    let id = app
        .get_q("/departments", w.admin.t(), &[("q", "部门07")])
        .await
        .expect(200)
        .items()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let confirm = admin
        .get(&format!("/admin/departments/{id}/deactivate"))
        .await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("停用部门：部门07"));
    assert_eq!(department_active(&app, w.admin.t()).await, true);
    let csrf = confirm.field("csrf");
    let done = admin
        .post(
            &format!("/admin/departments/{id}/deactivate"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(department_active(&app, w.admin.t()).await, false);
    let again = admin
        .post(
            &format!("/admin/departments/{id}/activate"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(again.status, 303);
    assert_eq!(department_active(&app, w.admin.t()).await, true);

    // Users by role and by name.
    let officials = admin.get("/admin/users?role=official").await;
    assert!(officials.body.contains("official@qifu.test"));
    assert!(!officials.body.contains("admin@qifu.test"));
    let by_name = admin.get("/admin/users?q=OFFICIAL").await;
    assert!(by_name.body.contains("official@qifu.test"));
    // An admin cannot deactivate themselves: no button on their own page.
    let me = app.get("/me", w.admin.t()).await.expect(200).body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let own = admin.get(&format!("/admin/users/{me}")).await;
    assert!(!own.body.contains("/deactivate"));
}

async fn department_active(
    app: &super::helpers::TestApp,
    token: Option<&str>,
) -> serde_json::Value {
    app.get_q("/departments", token, &[("q", "部门07")])
        .await
        .expect(200)
        .items()[0]["active"]
        .clone()
}
