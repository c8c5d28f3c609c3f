//! Problem types: each distinct failure answers its own `type`, and each type has a page.

use serde_json::json;

use crate::helpers::*;

/// Asserts a problem+json answer of this status and `type` slug.
#[track_caller]
fn is(r: Resp, status: u16, slug: &str) -> Resp {
    assert_eq!(r.status, status, "body: {}", r.body);
    assert_eq!(
        r.body["type"],
        format!("/problems/{slug}"),
        "body: {}",
        r.body
    );
    assert_eq!(r.body["status"], status);
    r
}

#[actix_web::test]
async fn conflicts_name_what_conflicted() {
    let app = TestApp::spawn().await;
    let admin = app.with_admin("admin@qifu.test").await;
    app.with_enterprise(0, "wang@ent.test").await;
    let again = json!({
        "enterprise": {"name": "E", "credit_code": CREDIT_CODES[1]},
        "user": {"name": "U", "email": "WANG@ent.test", "password": PASSWORD}
    });
    let r = is(
        app.post("/auth/register", None, again).await,
        409,
        "email-taken",
    );
    assert_eq!(r.body["code"], "conflict");
    let same_code = json!({
        "enterprise": {"name": "E", "credit_code": CREDIT_CODES[0]},
        "user": {"name": "U", "email": "li@ent.test", "password": PASSWORD}
    });
    is(
        app.post("/auth/register", None, same_code).await,
        409,
        "credit-code-taken",
    );
    app.with_department(&admin, "商务局").await;
    is(
        app.post("/departments", admin.t(), json!({"name": "商务局"}))
            .await,
        409,
        "department-name-taken",
    );
    is(
        app.patch(
            &format!("/users/{}", admin.id()),
            admin.t(),
            json!({"active": false}),
        )
        .await,
        409,
        "self-deactivation",
    );
}

#[actix_web::test]
async fn field_failures_with_a_type_of_their_own() {
    let app = TestApp::spawn().await;
    let weak = json!({
        "enterprise": {"name": "E", "credit_code": CREDIT_CODES[0]},
        "user": {"name": "U", "email": "a@ent.test", "password": "short"}
    });
    let r = is(
        app.post("/auth/register", None, weak).await,
        422,
        "weak-password",
    );
    assert_eq!(r.body["code"], "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "user.password");
    let bad_code = json!({
        "enterprise": {"name": "E", "credit_code": "91440300708461136X"},
        "user": {"name": "U", "email": "a@ent.test", "password": PASSWORD}
    });
    is(
        app.post("/auth/register", None, bad_code).await,
        422,
        "invalid-credit-code",
    );
    // Two different failures at once are plain validation, every field listed.
    let both = json!({
        "enterprise": {"name": "E", "credit_code": "91440300708461136X"},
        "user": {"name": "U", "email": "a@ent.test", "password": "short"}
    });
    let r = is(
        app.post("/auth/register", None, both).await,
        422,
        "validation",
    );
    assert_eq!(r.body["errors"].as_array().unwrap().len(), 2);
    is(
        app.post(
            "/auth/password-reset/confirm",
            None,
            json!({"token": "nope", "new_password": PASSWORD}),
        )
        .await,
        422,
        "token-invalid",
    );
    is(
        app.post(
            "/auth/login",
            None,
            json!({"email": "nobody@ent.test", "password": PASSWORD}),
        )
        .await,
        401,
        "wrong-credentials",
    );
    is(
        app.post("/auth/refresh", None, json!({"refresh_token": "nope"}))
            .await,
        401,
        "refresh-token-invalid",
    );
    is(app.get("/me", None).await, 401, "unauthorized");
}

#[actix_web::test]
async fn ticket_refusals_tell_status_from_person() {
    let app = TestApp::spawn().await;
    let admin = app.with_admin("admin@qifu.test").await;
    let dept = app.with_department(&admin, "商务局").await;
    let cat = app.with_category(&admin, "许可证办理", &dept, 48).await;
    let official = app.with_official(&admin, "off@qifu.test", &dept).await;
    let ent = app.with_enterprise(0, "wang@ent.test").await;
    let t = app.file_ticket(&ent, "营业执照", &cat).await;
    is(
        app.act(&ent, &t, "accept", json!({})).await,
        403,
        "wrong-actor",
    );
    is(
        app.act(&official, &t, "resolve", json!({"resolution": "done"}))
            .await,
        409,
        "invalid-transition",
    );
    let stale = app
        .send(
            app.client
                .post(format!("{}{}", app.api, action_path(&t, "accept")))
                .bearer_auth(&official.token)
                .header("if-match", "\"99\"")
                .json(&json!({})),
        )
        .await;
    is(stale, 412, "precondition-failed");
    let note = json!({"body": "内部", "kind": "internal_note"});
    is(
        app.comment(&ent, &t, note).await,
        403,
        "staff-only-comment-kind",
    );
    is(
        app.get("/tickets/no-such-ticket", ent.t()).await,
        404,
        "not-found",
    );
}

#[actix_web::test]
async fn transport_failures_have_types_and_classes() {
    let app = TestApp::spawn().await;
    let r = is(
        app.send(app.client.delete(format!("{}/healthz", app.address)))
            .await,
        405,
        "method-not-allowed",
    );
    assert_eq!(r.body["code"], "method_not_allowed");
    let r = is(
        app.send(
            app.client
                .post(format!("{}/auth/login", app.api))
                .header("content-type", "text/plain")
                .body("{}"),
        )
        .await,
        415,
        "unsupported-media-type",
    );
    assert_eq!(r.body["code"], "unsupported_media_type");
    is(
        app.send(
            app.client
                .post(format!("{}/auth/login", app.api))
                .header("content-type", "application/json")
                .body("{"),
        )
        .await,
        400,
        "malformed-request",
    );
}

#[actix_web::test]
async fn every_problem_type_has_a_page_in_chinese_and_english() {
    let app = TestApp::spawn().await;
    let doc = app.get("/openapi.json", None).await.expect(200);
    let catalogue = doc.body["x-problem-types"].as_object().unwrap();
    assert!(catalogue.len() > 30, "{catalogue:?}");
    for (uri, entry) in catalogue {
        let page = |language: &'static str| {
            app.send(
                app.client
                    .get(format!("{}{uri}", app.address))
                    .header("accept-language", language),
            )
        };
        let en = page("en-GB,en;q=0.9").await.expect(200);
        assert!(en.header("content-type").unwrap().starts_with("text/html"));
        let html = en.body.as_str().unwrap();
        assert!(html.contains("What to do"), "{uri}");
        assert!(
            html.contains(&format!("status: {}", entry["status"])),
            "{uri}"
        );
        let zh = page("zh-CN,zh;q=0.9,en;q=0.5").await.expect(200);
        assert!(zh.body.as_str().unwrap().contains("怎么办"), "{uri}");
    }
    // Without a preference the configured default locale (zh-CN) speaks.
    let plain = app
        .send(
            app.client
                .get(format!("{}/problems/email-taken", app.address)),
        )
        .await
        .expect(200);
    assert!(plain.body.as_str().unwrap().contains("该邮箱已被注册"));
    is(
        app.send(
            app.client
                .get(format!("{}/problems/no-such-problem", app.address)),
        )
        .await,
        404,
        "not-found",
    );
}

#[actix_web::test]
async fn the_document_lists_each_operations_problem_types() {
    let app = TestApp::spawn().await;
    let doc = app.get("/openapi.json", None).await.expect(200);
    let register = &doc.body["paths"]["/api/v1/auth/register"]["post"]["responses"];
    let conflicts = register["409"]["x-problem-types"].as_array().unwrap();
    for slug in ["email-taken", "credit-code-taken"] {
        assert!(
            conflicts.contains(&json!(format!("/problems/{slug}"))),
            "{conflicts:?}"
        );
    }
    let act = &doc.body["paths"]["/api/v1/tickets/{id}/actions/{action}"]["post"]["responses"];
    assert!(
        act["409"]["description"]
            .as_str()
            .unwrap()
            .contains("`/problems/invalid-transition`")
    );
    assert!(
        act["415"]["x-problem-types"]
            .as_array()
            .unwrap()
            .contains(&json!("/problems/unsupported-media-type"))
    );
    // Every type an operation lists is documented in the catalogue, at its status.
    let catalogue = &doc.body["x-problem-types"];
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().into_iter().flatten() {
                for uri in response["x-problem-types"].as_array().into_iter().flatten() {
                    let entry = &catalogue[uri.as_str().unwrap()];
                    assert_eq!(
                        entry["status"].to_string(),
                        *status,
                        "{method} {path}: {uri}"
                    );
                }
            }
        }
    }
}
