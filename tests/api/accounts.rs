//! Enterprise accounts: the district's review, verified emails, colleagues under owners.

use diesel::Connection;
use diesel::connection::SimpleConnection;
use serde_json::{Value, json};

use super::helpers::{
    CREDIT_CODES, Desk, Id, PASSWORD, Session, TestApp, fresh_database, poll, reset_token,
    ticket_path,
};
use super::smtp::SmtpSink;

const VERIFY_SUBJECT: &str = "验证您的邮箱";
const INVITE_SUBJECT: &str = "邀请您加入";

struct World {
    admin: Session,
    desk: Desk,
}

async fn world(app: &TestApp) -> World {
    let admin = app.with_admin("admin@qifu.test").await;
    let desk = app
        .with_desk(&admin, "商务局", "许可证办理", 24, &["off@qifu.test"])
        .await;
    World { admin, desk }
}

fn enterprise_of(s: &Session) -> String {
    s.user["enterprise_id"].as_str().unwrap().to_owned()
}

/// The tokens of the mails to `to` whose subject contains `subject`, once `n` arrived.
async fn tokens(app: &TestApp, to: &str, subject: &str, n: usize) -> Vec<String> {
    poll(|| async {
        let mails: Vec<_> = app
            .smtp
            .to(to)
            .into_iter()
            .filter(|m| m.subject.contains(subject))
            .collect();
        if mails.len() >= n {
            Ok(mails.iter().map(|m| reset_token(&m.text)).collect())
        } else {
            Err(format!(
                "{} of {n} \"{subject}\" mails to {to}",
                mails.len()
            ))
        }
    })
    .await
}

/// Outbox rows to `to` with `subject` in their subject (written with the change, so no wait).
async fn queued(app: &TestApp, to: &str, subject: &str) -> usize {
    app.outbox_rows()
        .await
        .iter()
        .filter(|m| m.recipient == to && m.subject.contains(subject))
        .count()
}

async fn invite(app: &TestApp, owner: &Session, email: &str) -> Value {
    app.post(
        "/enterprise/invitations",
        owner.t(),
        json!({"email": email, "name": "小李"}),
    )
    .await
    .expect(201)
    .body
}

/// Invites `email` into the owner's enterprise, accepts, and signs the colleague in.
async fn colleague(app: &TestApp, owner: &Session, email: &str, nth_mail: usize) -> Session {
    invite(app, owner, email).await;
    let token = tokens(app, email, INVITE_SUBJECT, nth_mail)
        .await
        .pop()
        .unwrap();
    app.post(
        "/auth/invitations/accept",
        None,
        json!({"token": token, "name": "李工", "password": PASSWORD}),
    )
    .await
    .expect(201);
    app.login_as(email).await
}

async fn review(
    app: &TestApp,
    admin: &Session,
    enterprise: &str,
    body: Value,
) -> super::helpers::Resp {
    app.patch(&format!("/enterprises/{enterprise}"), admin.t(), body)
        .await
}

fn filing(category: &str) -> Value {
    json!({"title": "营业执照变更", "description": "地址变更", "category_id": category})
}

#[actix_web::test]
async fn registration_makes_an_unverified_owner_of_an_active_enterprise_and_mails_a_link() {
    let app = TestApp::spawn().await;
    let boss = app.with_enterprise(0, "boss@ent.test").await;
    assert_eq!(boss.user["enterprise_role"], "owner");
    assert_eq!(boss.user["email_verified"], false);
    let me = app.get("/me", boss.t()).await.expect(200);
    assert_eq!(me.body["enterprise"]["status"], "active");
    assert_eq!(me.body["email_verified"], false);

    let token = tokens(&app, "boss@ent.test", VERIFY_SUBJECT, 1)
        .await
        .remove(0);
    let mail = app.smtp.to("boss@ent.test").remove(0);
    assert!(
        mail.text.contains(&format!("/verify-email?token={token}")),
        "{}",
        mail.text
    );
    app.post("/auth/verify-email", None, json!({"token": token}))
        .await
        .expect(204);
    let me = app.get("/me", boss.t()).await.expect(200);
    assert_eq!(me.body["email_verified"], true);
    let again = app
        .post("/auth/verify-email", None, json!({"token": token}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(again.body["type"], "/problems/token-invalid");
    app.post("/auth/verify-email", None, json!({"token": "nonsense"}))
        .await
        .problem(422, "validation_failed");

    // Verified: resending sends nothing.
    app.post("/auth/verify-email/resend", boss.t(), json!({}))
        .await
        .expect(202);
    assert_eq!(queued(&app, "boss@ent.test", VERIFY_SUBJECT).await, 1);
    app.post("/auth/verify-email/resend", None, json!({}))
        .await
        .problem(401, "unauthorized");
}

#[actix_web::test]
async fn verification_links_expire() {
    let app = TestApp::spawn().await;
    app.with_enterprise(0, "boss@ent.test").await;
    let token = tokens(&app, "boss@ent.test", VERIFY_SUBJECT, 1)
        .await
        .remove(0);
    app.advance_hours(73);
    let r = app
        .post("/auth/verify-email", None, json!({"token": token}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(r.body["type"], "/problems/token-invalid");
}

#[actix_web::test]
async fn unverified_users_cannot_file_when_verification_is_required_and_resend_is_throttled() {
    let app = TestApp::spawn_with(json!({"auth": {"require_email_verification": true}})).await;
    let w = world(&app).await;
    let boss = app.with_enterprise(0, "boss@ent.test").await;
    let r = app
        .post("/tickets", boss.t(), filing(&w.desk.category))
        .await
        .problem(403, "forbidden");
    assert_eq!(r.body["type"], "/problems/email-unverified");

    // Three resends fill the address's hour (`limits.mail_per_address_per_hour`, shared with
    // reset mail); a fourth still answers 202 but sends nothing.
    for _ in 0..4 {
        app.post("/auth/verify-email/resend", boss.t(), json!({}))
            .await
            .expect(202);
    }
    assert_eq!(queued(&app, "boss@ent.test", VERIFY_SUBJECT).await, 4);
    let all = tokens(&app, "boss@ent.test", VERIFY_SUBJECT, 4).await;
    app.post(
        "/auth/password-reset",
        None,
        json!({"email": "boss@ent.test"}),
    )
    .await
    .expect(202);
    assert_eq!(queued(&app, "boss@ent.test", "重置密码").await, 0);
    app.advance_hours(1);
    app.post("/auth/verify-email/resend", boss.t(), json!({}))
        .await
        .expect(202);
    assert_eq!(queued(&app, "boss@ent.test", VERIFY_SUBJECT).await, 5);

    // Any live link verifies; it spends the others.
    app.post("/auth/verify-email", None, json!({"token": all[1]}))
        .await
        .expect(204);
    app.post("/auth/verify-email", None, json!({"token": all[2]}))
        .await
        .problem(422, "validation_failed");
    app.file_ticket_with(&boss, filing(&w.desk.category)).await;
}

#[actix_web::test]
async fn a_pending_enterprise_reads_me_but_cannot_file_until_approved() {
    let app = TestApp::spawn_with(json!({"auth": {"enterprise_review": true}})).await;
    let w = world(&app).await;
    let boss = app.with_enterprise(0, "boss@ent.test").await;
    let me = app.get("/me", boss.t()).await.expect(200);
    assert_eq!(me.body["enterprise"]["status"], "pending");
    let r = app
        .post("/tickets", boss.t(), filing(&w.desk.category))
        .await
        .problem(403, "forbidden");
    assert_eq!(r.body["type"], "/problems/enterprise-pending");
    app.get("/tickets", boss.t()).await.expect(200);
    app.refresh(&boss.refresh).await.expect(200);

    let eid = enterprise_of(&boss);
    // Pending cannot be suspended; asking for the status it has is a no-op.
    let r = review(&app, &w.admin, &eid, json!({"status": "suspended"}))
        .await
        .problem(409, "conflict");
    assert_eq!(r.body["type"], "/problems/invalid-enterprise-transition");
    review(&app, &w.admin, &eid, json!({"status": "pending"}))
        .await
        .expect(200);
    // Only admins review.
    review(
        &app,
        &w.desk.officials[0],
        &eid,
        json!({"status": "active"}),
    )
    .await
    .problem(403, "forbidden");
    let r = review(&app, &w.admin, &eid, json!({"status": "active"}))
        .await
        .expect(200);
    assert_eq!(r.body["status"], "active");
    app.wait_mail("boss@ent.test", "approval", |m| {
        m.subject.contains("已通过审核")
    })
    .await;
    app.file_ticket_with(&boss, filing(&w.desk.category)).await;

    let events = app
        .get(&format!("/enterprises/{eid}/events"), w.admin.t())
        .await
        .expect(200);
    let e = &events.items()[0];
    assert_eq!(e["kind"], "approved");
    assert_eq!(e["from_status"], "pending");
    assert_eq!(e["to_status"], "active");
    assert_eq!(e["actor_id"], w.admin.id());
    app.get(
        &format!("/enterprises/{eid}/events"),
        w.desk.officials[0].t(),
    )
    .await
    .problem(403, "forbidden");
    app.get("/enterprises/nope/events", w.admin.t())
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn a_rejection_needs_a_reason_which_the_enterprise_sees() {
    let app = TestApp::spawn_with(json!({"auth": {"enterprise_review": true}})).await;
    let w = world(&app).await;
    let boss = app.with_enterprise(0, "boss@ent.test").await;
    let eid = enterprise_of(&boss);
    for body in [
        json!({"status": "rejected"}),
        json!({"status": "rejected", "reason": "  "}),
    ] {
        let r = review(&app, &w.admin, &eid, body)
            .await
            .problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "reason");
    }
    let reason = "营业执照照片无法辨认";
    review(
        &app,
        &w.admin,
        &eid,
        json!({"status": "rejected", "reason": reason}),
    )
    .await
    .expect(200);
    let me = app.get("/me", boss.t()).await.expect(200);
    assert_eq!(me.body["enterprise"]["status"], "rejected");
    assert_eq!(me.body["enterprise"]["status_reason"], reason);
    let r = app
        .post("/tickets", boss.t(), filing(&w.desk.category))
        .await
        .problem(403, "forbidden");
    assert_eq!(r.body["type"], "/problems/enterprise-rejected");
    let mail = app
        .wait_mail("boss@ent.test", "rejection", |m| {
            m.subject.contains("未通过审核")
        })
        .await;
    assert!(mail.text.contains(reason), "{}", mail.text);
    // A signed-out user sees it at sign-in too.
    let again = app.login_as("boss@ent.test").await;
    app.get("/me", again.t()).await.expect(200);

    // Rejected is final.
    for status in ["active", "suspended"] {
        review(&app, &w.admin, &eid, json!({"status": status}))
            .await
            .problem(409, "conflict");
    }
    let events = app
        .get(&format!("/enterprises/{eid}/events"), w.admin.t())
        .await
        .expect(200);
    assert_eq!(events.items().len(), 1);
    assert_eq!(events.items()[0]["note"], reason);
}

#[actix_web::test]
async fn suspension_and_reactivation_are_kept_and_mailed_to_every_user() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let boss = app.with_enterprise(0, "boss@ent.test").await;
    let li = colleague(&app, &boss, "li@ent.test", 1).await;
    let eid = enterprise_of(&boss);
    review(
        &app,
        &w.admin,
        &eid,
        json!({"status": "suspended", "reason": "逾期未年报"}),
    )
    .await
    .expect(200);
    for s in [&boss, &li] {
        app.get("/me", s.t()).await.problem(401, "unauthorized");
    }
    for to in ["boss@ent.test", "li@ent.test"] {
        let m = app
            .wait_mail(to, "suspension", |m| m.subject.contains("已被暂停"))
            .await;
        assert!(m.text.contains("逾期未年报"));
    }
    review(&app, &w.admin, &eid, json!({"status": "suspended"}))
        .await
        .expect(200);
    review(&app, &w.admin, &eid, json!({"status": "pending"}))
        .await
        .problem(409, "conflict");
    review(&app, &w.admin, &eid, json!({"status": "active"}))
        .await
        .expect(200);
    let kinds: Vec<Value> = app
        .get(&format!("/enterprises/{eid}/events"), w.admin.t())
        .await
        .expect(200)
        .items()
        .iter()
        .map(|e| e["kind"].clone())
        .collect();
    assert_eq!(kinds, [json!("suspended"), json!("reactivated")]);
    app.login_as("li@ent.test").await;
}

#[actix_web::test]
async fn an_invitation_works_once_and_makes_a_verified_member_who_shares_the_tickets() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let boss = app.with_enterprise(0, "boss@ent.test").await;
    let ticket = app.file_ticket(&boss, "许可证", &w.desk.category).await;

    let inv = invite(&app, &boss, "Li@Ent.test").await;
    assert_eq!(inv["email"], "li@ent.test");
    assert!(inv["expires_at"].is_string());
    let listed = app
        .get("/enterprise/invitations", boss.t())
        .await
        .expect(200);
    assert_eq!(listed.items().len(), 1);
    assert_eq!(listed.items()[0]["id"], inv["id"]);
    assert!(listed.items()[0].get("token_hash").is_none());

    let token = tokens(&app, "li@ent.test", INVITE_SUBJECT, 1)
        .await
        .remove(0);
    let weak = app
        .post(
            "/auth/invitations/accept",
            None,
            json!({"token": token, "name": "李工", "password": "short"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(weak.body["type"], "/problems/weak-password");
    let accepted = app
        .post(
            "/auth/invitations/accept",
            None,
            json!({"token": token, "name": "李工", "password": PASSWORD}),
        )
        .await
        .expect(201);
    let user = &accepted.body["user"];
    assert_eq!(user["enterprise_role"], "member");
    assert_eq!(user["email_verified"], true);
    assert_eq!(user["enterprise_id"], enterprise_of(&boss).as_str());
    let twice = app
        .post(
            "/auth/invitations/accept",
            None,
            json!({"token": token, "name": "冒名", "password": PASSWORD}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(twice.body["type"], "/problems/token-invalid");
    assert!(
        app.get("/enterprise/invitations", boss.t())
            .await
            .expect(200)
            .items()
            .is_empty()
    );

    let li = app.login_as("li@ent.test").await;
    // Members see and act on all of the enterprise's tickets.
    app.get(&ticket_path(&ticket), li.t()).await.expect(200);
    app.comment(&li, &ticket, json!({"body": "补充材料"}))
        .await
        .expect(201);
    let mine = app.file_ticket(&li, "发票", &w.desk.category).await;
    app.get(&ticket_path(&mine), boss.t()).await.expect(200);
    let members = app.get("/enterprise/members", li.t()).await.expect(200);
    let emails: Vec<&str> = members
        .items()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["boss@ent.test", "li@ent.test"]);

    // Members do not manage.
    for r in [
        app.post(
            "/enterprise/invitations",
            li.t(),
            json!({"email": "x@ent.test"}),
        )
        .await,
        app.get("/enterprise/invitations", li.t()).await,
        app.patch(
            &format!("/enterprise/members/{}", boss.id()),
            li.t(),
            json!({"active": false}),
        )
        .await,
    ] {
        let r = r.problem(403, "forbidden");
        assert_eq!(r.body["type"], "/problems/owner-only");
    }
    // Staff have no enterprise.
    app.get("/enterprise/members", w.admin.t())
        .await
        .problem(403, "forbidden");
}

#[actix_web::test]
async fn invitations_are_replaced_revocable_and_not_for_existing_users() {
    let app = TestApp::spawn().await;
    let boss = app.with_enterprise(0, "boss@ent.test").await;
    invite(&app, &boss, "li@ent.test").await;
    let second = invite(&app, &boss, "li@ent.test").await;
    let both = tokens(&app, "li@ent.test", INVITE_SUBJECT, 2).await;
    let listed = app
        .get("/enterprise/invitations", boss.t())
        .await
        .expect(200);
    assert_eq!(listed.items().len(), 1);
    assert_eq!(listed.items()[0]["id"], second["id"]);
    let accept = |token: String| {
        let app = &app;
        async move {
            app.post(
                "/auth/invitations/accept",
                None,
                json!({"token": token, "name": "李工", "password": PASSWORD}),
            )
            .await
        }
    };
    accept(both[0].clone())
        .await
        .problem(422, "validation_failed");

    app.delete(
        &format!("/enterprise/invitations/{}", second.id()),
        boss.t(),
    )
    .await
    .expect(204);
    accept(both[1].clone())
        .await
        .problem(422, "validation_failed");
    app.delete(
        &format!("/enterprise/invitations/{}", second.id()),
        boss.t(),
    )
    .await
    .problem(404, "not_found");

    for email in ["boss@ent.test", "BOSS@ent.test"] {
        let r = app
            .post("/enterprise/invitations", boss.t(), json!({"email": email}))
            .await
            .problem(409, "conflict");
        assert_eq!(r.body["type"], "/problems/email-taken");
    }
    app.post(
        "/enterprise/invitations",
        boss.t(),
        json!({"email": "nope"}),
    )
    .await
    .problem(422, "validation_failed");

    // Invitations expire after seven days.
    invite(&app, &boss, "wang@ent.test").await;
    let token = tokens(&app, "wang@ent.test", INVITE_SUBJECT, 1)
        .await
        .remove(0);
    app.advance_hours(7 * 24 + 1);
    accept(token).await.problem(422, "validation_failed");
}

#[actix_web::test]
async fn a_member_of_one_enterprise_cannot_see_or_manage_another() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let a = app.with_enterprise(0, "a@a.test").await;
    let b = app.with_enterprise(1, "b@b.test").await;
    let b_member = colleague(&app, &b, "b2@b.test", 1).await;
    let b_invite = invite(&app, &b, "b3@b.test").await;
    let b_ticket = app.file_ticket(&b, "B 的诉求", &w.desk.category).await;

    app.get(&ticket_path(&b_ticket), a.t())
        .await
        .problem(404, "not_found");
    for body in [
        json!({"active": false}),
        json!({"enterprise_role": "owner"}),
    ] {
        app.patch(
            &format!("/enterprise/members/{}", b_member.id()),
            a.t(),
            body,
        )
        .await
        .problem(404, "not_found");
    }
    app.delete(&format!("/enterprise/invitations/{}", b_invite.id()), a.t())
        .await
        .problem(404, "not_found");
    // A's invitation to B's colleague is refused; to anyone else it brings them into A.
    app.post(
        "/enterprise/invitations",
        a.t(),
        json!({"email": "b2@b.test"}),
    )
    .await
    .problem(409, "conflict");
    let a_members = app.get("/enterprise/members", a.t()).await.expect(200);
    assert_eq!(a_members.items().len(), 1);
    assert!(
        app.get("/enterprise/invitations", a.t())
            .await
            .expect(200)
            .items()
            .is_empty()
    );
    // B's colleague is untouched.
    app.get("/me", b_member.t()).await.expect(200);
}

#[actix_web::test]
async fn a_deactivated_member_is_out_at_once_and_the_last_owner_stays() {
    let app = TestApp::spawn().await;
    let boss = app.with_enterprise(0, "boss@ent.test").await;
    let li = colleague(&app, &boss, "li@ent.test", 1).await;
    let path = |s: &Session| format!("/enterprise/members/{}", s.id());

    let r = app
        .patch(&path(&li), boss.t(), json!({"active": false}))
        .await
        .expect(200);
    assert_eq!(r.body["active"], false);
    app.get("/me", li.t()).await.problem(401, "unauthorized");
    app.refresh(&li.refresh).await.problem(401, "unauthorized");
    app.try_login("li@ent.test", PASSWORD)
        .await
        .problem(403, "forbidden");
    app.patch(&path(&li), boss.t(), json!({"active": true}))
        .await
        .expect(200);
    let li = app.login_as("li@ent.test").await;

    // The only owner cannot step down or leave.
    for body in [
        json!({"enterprise_role": "member"}),
        json!({"active": false}),
    ] {
        let r = app
            .patch(&path(&boss), boss.t(), body)
            .await
            .problem(409, "conflict");
        assert_eq!(r.body["type"], "/problems/last-owner");
    }
    let r = app
        .patch(&path(&li), boss.t(), json!({"enterprise_role": "owner"}))
        .await
        .expect(200);
    assert_eq!(r.body["enterprise_role"], "owner");
    // With a second owner, the first may step down; then the new one is the last.
    app.patch(&path(&boss), boss.t(), json!({"enterprise_role": "member"}))
        .await
        .expect(200);
    let li = app.login_as(li.email()).await;
    app.patch(&path(&li), li.t(), json!({"active": false}))
        .await
        .problem(409, "conflict");
    // A demoted owner's token no longer manages.
    app.post(
        "/enterprise/invitations",
        boss.t(),
        json!({"email": "x@ent.test"}),
    )
    .await
    .problem(403, "forbidden");
    app.patch(&path(&li), li.t(), json!({"enterprise_role": "nobody"}))
        .await
        .problem(400, "bad_request");
}

#[actix_web::test]
async fn reset_verification_and_invitation_tokens_are_not_interchangeable() {
    let app = TestApp::spawn().await;
    let boss = app.with_enterprise(0, "boss@ent.test").await;
    let verify = tokens(&app, "boss@ent.test", VERIFY_SUBJECT, 1)
        .await
        .remove(0);
    app.post(
        "/auth/password-reset",
        None,
        json!({"email": "boss@ent.test"}),
    )
    .await
    .expect(202);
    let reset = tokens(&app, "boss@ent.test", "重置密码", 1).await.remove(0);
    invite(&app, &boss, "li@ent.test").await;
    let invitation = tokens(&app, "li@ent.test", INVITE_SUBJECT, 1)
        .await
        .remove(0);

    let as_reset = |t: &str| json!({"token": t, "new_password": "Another-Secret-2026"});
    let as_invite = |t: &str| json!({"token": t, "name": "李工", "password": PASSWORD});
    let as_verify = |t: &str| json!({"token": t});
    for (path, body) in [
        ("/auth/password-reset/confirm", as_reset(&verify)),
        ("/auth/password-reset/confirm", as_reset(&invitation)),
        ("/auth/verify-email", as_verify(&reset)),
        ("/auth/verify-email", as_verify(&invitation)),
        ("/auth/invitations/accept", as_invite(&reset)),
        ("/auth/invitations/accept", as_invite(&verify)),
    ] {
        let r = app
            .post(path, None, body)
            .await
            .problem(422, "validation_failed");
        assert_eq!(r.body["type"], "/problems/token-invalid", "{path}");
    }
    // Each still works where it belongs.
    app.post("/auth/verify-email", None, as_verify(&verify))
        .await
        .expect(204);
    app.post("/auth/password-reset/confirm", None, as_reset(&reset))
        .await
        .expect(204);
    app.post("/auth/invitations/accept", None, as_invite(&invitation))
        .await
        .expect(201);
}

#[actix_web::test]
async fn ticket_mail_goes_to_the_filer_and_the_owners() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let boss = app.with_enterprise(0, "boss@ent.test").await;
    let li = colleague(&app, &boss, "li@ent.test", 1).await;
    let wang = colleague(&app, &boss, "wang@ent.test", 1).await;
    let ticket = app.file_ticket(&li, "发票", &w.desk.category).await;
    let official = &w.desk.officials[0];
    app.act(official, &ticket, "accept", json!({}))
        .await
        .expect(200);
    let reference = ticket["reference"].as_str().unwrap();
    for to in ["li@ent.test", "boss@ent.test"] {
        app.wait_mail(to, "acceptance", |m| {
            m.subject.contains(reference) && m.subject.contains("处理中")
        })
        .await;
    }
    app.comment(official, &ticket, json!({"body": "请补充发票号"}))
        .await
        .expect(201);
    app.wait_mail("boss@ent.test", "the official's message", |m| {
        m.text.contains("请补充发票号")
    })
    .await;
    // A member who is neither filer nor owner hears nothing of it.
    assert!(
        app.outbox_rows()
            .await
            .iter()
            .all(|m| m.recipient != wang.email() || !m.subject.contains(reference))
    );
}

/// Today's data, written by the migrations before this feature, comes through as owners with
/// verified emails of active enterprises.
#[actix_web::test]
async fn existing_enterprise_users_become_verified_owners_of_active_enterprises() {
    let (url, database) = fresh_database();
    let postgres = url.starts_with("postgres");
    let dir = if postgres {
        "migrations/postgres"
    } else {
        "migrations/sqlite"
    };
    let mut earlier: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.as_str() < "2026-12-01-000800")
        .collect();
    earlier.sort();
    let hash = qifu::auth::hash_password(PASSWORD).unwrap();
    let legacy = format!(
        "INSERT INTO enterprises (id, name, credit_code, status, created_at, updated_at) \
         VALUES ('e1', '老企业', '{code}', 'active', '2026-11-01 08:00:00', '2026-11-01 08:00:00');
         INSERT INTO users (id, email, name, role, enterprise_id, password_hash, active, locale, \
         created_at, updated_at) VALUES ('u1', 'old@ent.test', '老王', 'enterprise', 'e1', '{hash}', \
         TRUE, 'zh-CN', '2026-11-01 08:00:00', '2026-11-01 08:00:00');",
        code = CREDIT_CODES[0]
    );
    let mut setup = String::from(
        "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, \
         run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);",
    );
    for name in &earlier {
        setup += &std::fs::read_to_string(format!("{dir}/{name}/up.sql")).unwrap();
        let version: String = name
            .split('_')
            .next()
            .unwrap()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        setup +=
            &format!(";\nINSERT INTO __diesel_schema_migrations (version) VALUES ('{version}');\n");
    }
    setup += &legacy;
    if postgres {
        diesel::PgConnection::establish(&url)
            .unwrap()
            .batch_execute(&setup)
            .unwrap();
    } else {
        let path = url.trim_start_matches("sqlite://");
        diesel::SqliteConnection::establish(path)
            .unwrap()
            .batch_execute(&setup)
            .unwrap();
    }

    let app = TestApp::spawn_on(url, database, SmtpSink::start().await, json!({})).await;
    let old = app.login_as("old@ent.test").await;
    assert_eq!(old.user["enterprise_role"], "owner");
    assert_eq!(old.user["email_verified"], true);
    let me = app.get("/me", old.t()).await.expect(200);
    assert_eq!(me.body["enterprise"]["status"], "active");
    assert!(me.body["enterprise"]["status_reason"].is_null());
    let w = world(&app).await;
    assert_eq!(w.admin.user["enterprise_role"], Value::Null);
    app.file_ticket(&old, "老企业的诉求", &w.desk.category)
        .await;
    // Its owner invites as any owner does.
    invite(&app, &old, "new@ent.test").await;
}

// ---------------------------------------------------------------------------------------------
// The console
// ---------------------------------------------------------------------------------------------

use super::console::Visitor;

#[actix_web::test]
async fn owners_manage_colleagues_on_the_enterprise_page() {
    let app = TestApp::spawn().await;
    let boss = app.with_enterprise(0, "boss@ent.test").await;
    let mut owner = Visitor::new(&app);
    owner.sign_in("boss@ent.test").await;
    let page = owner.get("/enterprise").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Enterprise 0") && page.body.contains(CREDIT_CODES[0]));
    assert!(
        page.body.contains("action=\"/verify-email/resend\""),
        "unverified banner"
    );
    let r = owner
        .submit(
            "/enterprise",
            "/enterprise/invitations",
            &[("email", "li@ent.test")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let bad = owner
        .submit(
            "/enterprise",
            "/enterprise/invitations",
            &[("email", "boss@ent.test")],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(owner.get("/enterprise").await.body.contains("li@ent.test"));

    // The invitee follows the link, names themselves and sets a password.
    let token = tokens(&app, "li@ent.test", INVITE_SUBJECT, 1)
        .await
        .remove(0);
    let mut invitee = Visitor::new(&app);
    let link = format!("/invitations/accept?token={token}");
    let form = invitee.get(&link).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("li@ent.test") && form.body.contains("Enterprise 0"));
    let done = invitee
        .submit(
            &link,
            "/invitations/accept",
            &[("token", &token), ("name", "李工"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.header("location"), "/login");
    let used = invitee.get(&link).await;
    assert!(
        !used.body.contains("li@ent.test"),
        "a used link names nobody"
    );
    invitee.sign_in("li@ent.test").await;
    let theirs = invitee.get("/enterprise").await;
    assert_eq!(theirs.status, 200);
    assert!(
        !theirs.body.contains("action=\"/enterprise/invitations\""),
        "members do not invite"
    );

    let li = app.login_as("li@ent.test").await;
    let member = |change: &'static str| {
        let path = format!("/enterprise/members/{}", li.id());
        (path, change)
    };
    let (path, change) = member("owner");
    let r = owner
        .submit("/enterprise", &path, &[("change", change)])
        .await;
    assert_eq!(r.status, 303);
    let members = app.get("/enterprise/members", boss.t()).await.expect(200);
    assert!(
        members
            .items()
            .iter()
            .all(|u| u["enterprise_role"] == "owner")
    );
    // Without the form's token nothing changes.
    let forged = owner.post(&path, &[("change", "deactivate")]).await;
    assert_eq!(forged.status, 403);
    app.get("/me", li.t()).await.expect(200);
    let (path, change) = member("deactivate");
    owner
        .submit("/enterprise", &path, &[("change", change)])
        .await;
    app.get("/me", li.t()).await.problem(401, "unauthorized");
    let out = invitee.get("/enterprise").await;
    assert_eq!(
        out.status, 303,
        "a deactivated colleague's console session ends"
    );

    // The last active owner stays one.
    let me = format!("/enterprise/members/{}", boss.id());
    let r = owner
        .submit("/enterprise", &me, &[("change", "member")])
        .await;
    assert_eq!(r.status, 303);
    let now = app.get("/me", boss.t()).await.expect(200);
    assert_eq!(now.body["enterprise_role"], "owner");
}

#[actix_web::test]
async fn the_verification_page_and_the_pending_banner() {
    let app = TestApp::spawn_with(json!({"auth": {"enterprise_review": true}})).await;
    let boss = app.with_enterprise(0, "boss@ent.test").await;
    let token = tokens(&app, "boss@ent.test", VERIFY_SUBJECT, 1)
        .await
        .remove(0);
    let mut v = Visitor::new(&app);
    v.sign_in("boss@ent.test").await;
    let page = v.get("/enterprise").await;
    assert!(page.body.contains("审核"), "pending banner: {}", page.body);

    let link = format!("/verify-email?token={token}");
    let form = v.get(&link).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains(&token));
    let wrong = v
        .submit(&link, "/verify-email", &[("token", "not-a-token")])
        .await;
    assert_eq!(wrong.status, 422);
    assert_eq!(
        app.get("/me", boss.t()).await.expect(200).body["email_verified"],
        false,
        "a GET of the link verifies nothing"
    );
    let ok = v.submit(&link, "/verify-email", &[("token", &token)]).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(
        app.get("/me", boss.t()).await.expect(200).body["email_verified"],
        true
    );
    assert!(
        !v.get("/enterprise")
            .await
            .body
            .contains("action=\"/verify-email/resend\"")
    );
}
