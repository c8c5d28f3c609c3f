//! The closed loop: filing, routing, actions, comments, timeline, queues, sweeps and mail.

use std::collections::HashSet;
use std::ops::Deref;

use chrono::Duration;
use reqwest::Method;
use serde_json::{Value, json};

use super::helpers::{
    CREDIT_CODES, Id, PASSWORD, Session, TestApp, action_path, comments_path, events_path,
    ticket_path,
};

/// An admin, one department with two officials, a second department with one, and two
/// enterprises.
struct World {
    app: TestApp,
    admin: Session,
    dept: String,
    other_dept: String,
    cat: String,
    other_cat: String,
    off1: Session,
    off2: Session,
    off3: Session,
    ent1: Session,
    ent2: Session,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let admin = app.with_admin("admin@qifu.test").await;
    let desk = ["off1@qifu.test", "off2@qifu.test"];
    let mut one = app
        .with_desk(&admin, "商务局", "许可证办理", 48, &desk)
        .await;
    let mut other = app
        .with_desk(
            &admin,
            "规划和自然资源局",
            "用地咨询",
            72,
            &["off3@qifu.test"],
        )
        .await;
    let ent1 = app.with_enterprise(0, "wang@ent1.test").await;
    let ent2 = app.with_enterprise(1, "li@ent2.test").await;
    World {
        admin,
        off3: other.officials.remove(0),
        off2: one.officials.remove(1),
        off1: one.officials.remove(0),
        dept: one.department,
        other_dept: other.department,
        cat: one.category,
        other_cat: other.category,
        ent1,
        ent2,
        app,
    }
}

/// The world's requests and helpers are its app's.
impl Deref for World {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}

impl World {
    fn assignee<'a>(&'a self, ticket: &Value) -> &'a Session {
        let id = ticket["assignee_id"].as_str().expect("assigned");
        [&self.off1, &self.off2, &self.off3]
            .into_iter()
            .find(|o| o.id() == id)
            .expect("a known official")
    }
}

#[actix_web::test]
async fn the_full_loop_with_its_timeline_and_mail() {
    let w = world().await;
    let t = w.file_ticket(&w.ent1, "Permit stuck", &w.cat).await;
    for field in [
        "id",
        "reference",
        "title",
        "description",
        "category_id",
        "department_id",
        "assignee_id",
        "enterprise_id",
        "created_by",
        "priority",
        "status",
        "due_at",
        "overdue",
        "created_at",
        "updated_at",
        "accepted_at",
        "resolved_at",
        "closed_at",
        "resolution",
        "rating",
        "feedback",
        "reopen_count",
        "version",
    ] {
        assert!(t.get(field).is_some(), "missing {field}: {t}");
    }
    assert_eq!(t["status"], "assigned");
    assert_eq!(t["department_id"], w.dept.as_str());
    assert_eq!(t["priority"], "normal");
    assert_eq!(t["enterprise_id"], w.ent1.user["enterprise_id"]);
    assert_eq!(t["created_by"], w.ent1.id());
    assert_eq!(t["version"], 1);
    assert_eq!(t["overdue"], false);
    let reference = t["reference"].as_str().unwrap();
    assert!(
        reference.starts_with("QF") && reference.len() <= 16,
        "{reference}"
    );
    let created = chrono::DateTime::parse_from_rfc3339(t["created_at"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(t["due_at"].as_str().unwrap()).unwrap();
    assert_eq!(due - created, Duration::hours(48));

    let official = w.assignee(&t);
    let r = w.act(official, &t, "accept", json!({})).await.expect(200);
    assert_eq!(r.body["status"], "in_progress");
    assert!(r.body["accepted_at"].is_string());
    assert_eq!(r.header("etag").as_deref(), Some("\"2\""));
    let tid = t.id();
    for (who, comment) in [
        (
            official,
            json!({"body": "Called the applicant.", "kind": "phone_call"}),
        ),
        (
            official,
            json!({"body": "On site tomorrow.", "kind": "site_visit"}),
        ),
        (
            official,
            json!({"body": "内部：需要规划局意见", "kind": "internal_note"}),
        ),
        (official, json!({"body": "We are on it."})),
        (&w.ent1, json!({"body": "Thank you!"})),
    ] {
        w.comment(who, &tid, comment).await.expect(201);
    }

    let r = w
        .act(
            official,
            &t,
            "resolve",
            json!({"resolution": "Permit issued."}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["status"], "resolved");
    assert_eq!(r.body["resolution"], "Permit issued.");
    let r = w
        .act(
            &w.ent1,
            &t,
            "reopen",
            json!({"note": "Still missing the stamp"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["status"], "in_progress");
    assert_eq!(r.body["reopen_count"], 1);
    assert!(r.body["resolved_at"].is_null());
    w.act(
        official,
        &t,
        "resolve",
        json!({"resolution": "Stamp added."}),
    )
    .await
    .expect(200);
    let r = w
        .act(
            &w.ent1,
            &t,
            "confirm",
            json!({"rating": 5, "feedback": "很满意"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["status"], "closed");
    assert_eq!(r.body["rating"], 5);
    assert_eq!(r.body["feedback"], "很满意");
    assert!(r.body["closed_at"].is_string());
    assert_eq!(r.body["version"], 6);

    // Staff see every timeline entry; the enterprise sees none of the internal ones.
    let staff = w.timeline(official, &tid).await;
    let kinds: Vec<&str> = staff.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "created",
            "assigned",
            "accepted",
            "comment",
            "comment",
            "comment",
            "comment",
            "comment",
            "resolved",
            "reopened",
            "resolved",
            "confirmed"
        ]
    );
    let items = w.timeline(&w.ent1, &tid).await;
    assert_eq!(items.len(), 9, "{items:?}");
    assert!(items.iter().all(|e| e["internal"] == false));
    let reopened = items.iter().find(|e| e["kind"] == "reopened").unwrap();
    assert_eq!(reopened["from_status"], "resolved");
    assert_eq!(reopened["to_status"], "in_progress");
    assert_eq!(reopened["note"], "Still missing the stamp");
    assert_eq!(reopened["actor_id"], w.ent1.id());
    let comments = w.get(&comments_path(&tid), w.ent1.t()).await.expect(200);
    assert_eq!(comments.items().len(), 2, "messages only");
    let comments = w.get(&comments_path(&tid), official.t()).await.expect(200);
    assert_eq!(comments.items().len(), 5);

    // Mail: the filer heard of assignment, acceptance, each resolution and staff messages;
    // the official of the assignment, the reopening, the enterprise's message and the rating.
    let filer = "wang@ent1.test";
    let official_email = official.email().to_owned();
    for needle in ["已派单", "处理中", "已办结"] {
        w.wait_mail(filer, &format!("filer mail {needle}"), |m| {
            m.subject.contains(needle)
        })
        .await;
    }
    let resolved = w
        .wait_mail(filer, "resolution", |m| m.subject.contains("已办结"))
        .await;
    assert!(resolved.text.contains(reference));
    assert!(
        resolved.text.contains("办理期限"),
        "the deadline is in the mail"
    );
    assert!(
        resolved.text.contains("重新打开"),
        "the mail says what to do next"
    );
    w.wait_mail(&official_email, "已派单", |m| {
        m.subject.contains("已派单")
    })
    .await;
    assert!(
        w.smtp
            .wait_for(1, 5)
            .await
            .iter()
            .all(|m| !m.html.is_empty())
    );
    let official_mail = || w.smtp.to(&official_email);
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let subjects: Vec<String> = official_mail().into_iter().map(|m| m.subject).collect();
    assert!(
        subjects.iter().any(|s| s.contains("已关闭")),
        "rating reaches the official: {subjects:?}"
    );
    assert!(
        subjects.iter().filter(|s| s.contains("处理中")).count() >= 2,
        "reopen + enterprise message: {subjects:?}"
    );
    assert!(
        !subjects.iter().any(|s| s.contains("已办结")),
        "no mail about one's own action: {subjects:?}"
    );
    let filer_subjects: Vec<String> = w.smtp.to(filer).into_iter().map(|m| m.subject).collect();
    assert!(
        !filer_subjects.iter().any(|s| s.contains("已关闭")),
        "the filer confirmed it themself: {filer_subjects:?}"
    );
}

#[actix_web::test]
async fn routing_balances_load_and_falls_back_to_dispatch() {
    let w = world().await;
    let a = w.file_ticket(&w.ent1, "one", &w.cat).await;
    let b = w.file_ticket(&w.ent1, "two", &w.cat).await;
    assert_ne!(
        a["assignee_id"], b["assignee_id"],
        "the second goes to the less loaded official"
    );
    let c = w.file_ticket(&w.ent2, "three", &w.cat).await;
    let d = w.file_ticket(&w.ent2, "four", &w.cat).await;
    let mut counts = std::collections::HashMap::new();
    for t in [&a, &b, &c, &d] {
        *counts
            .entry(t["assignee_id"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    assert_eq!(counts.values().copied().collect::<Vec<_>>(), vec![2, 2]);

    // Concurrent filings still spread evenly.
    let futures = (0..8).map(|i| {
        w.file_ticket(
            if i % 2 == 0 { &w.ent1 } else { &w.ent2 },
            "burst",
            &w.other_cat,
        )
    });
    let burst = futures_util::future::join_all(futures).await;
    assert!(
        burst.iter().all(|t| t["assignee_id"] == w.off3.id()),
        "one official in that department"
    );

    // A department with nobody in it: the ticket waits for dispatch and admins hear of it.
    let empty = w.with_department(&w.admin, "Empty").await;
    let cat = w.with_category(&w.admin, "Nobody", &empty, 24).await;
    let t = w.file_ticket(&w.ent1, "orphan", &cat).await;
    assert_eq!(t["status"], "submitted");
    assert!(t["assignee_id"].is_null());
    w.wait_mail("admin@qifu.test", "待派单", |m| {
        m.subject.contains("待派单")
    })
    .await;
    // Admin dispatches to a department and the least-loaded official there.
    let r = w
        .act(
            &w.admin,
            &t,
            "assign",
            json!({"department_id": w.dept, "note": "routing fix"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["status"], "assigned");
    assert_eq!(r.body["department_id"], w.dept.as_str());
    // Or names one; an official of another department is refused.
    w.act(
        &w.admin,
        &t,
        "assign",
        json!({"department_id": w.dept, "assignee_id": w.off3.id()}),
    )
    .await
    .problem(422, "validation_failed");
    let r = w
        .act(
            &w.admin,
            &t,
            "assign",
            json!({"department_id": w.other_dept, "assignee_id": w.off3.id()}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["assignee_id"], w.off3.id());
    w.act(&w.admin, &t, "assign", json!({"department_id": empty}))
        .await
        .problem(422, "validation_failed");
    w.act(&w.admin, &t, "assign", json!({}))
        .await
        .problem(422, "validation_failed");
}

#[actix_web::test]
async fn concurrent_filings_split_evenly_between_officials() {
    let w = world().await;
    let futures =
        (0..10).map(|i| w.file_ticket(if i % 2 == 0 { &w.ent1 } else { &w.ent2 }, "rush", &w.cat));
    let tickets = futures_util::future::join_all(futures).await;
    let on_off1 = tickets
        .iter()
        .filter(|t| t["assignee_id"] == w.off1.id())
        .count();
    assert_eq!(on_off1, 5, "routing saw every concurrent assignment");
}

#[actix_web::test]
async fn return_and_redispatch_cancel_and_admin_close() {
    let w = world().await;
    let t = w.file_ticket(&w.ent1, "misrouted", &w.cat).await;
    let official = w.assignee(&t);
    w.act(official, &t, "return", json!({}))
        .await
        .problem(422, "validation_failed");
    let r = w
        .act(
            official,
            &t,
            "return",
            json!({"note": "belongs to planning"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["status"], "submitted");
    assert!(r.body["assignee_id"].is_null());
    w.wait_mail("admin@qifu.test", "待派单", |m| {
        m.subject.contains("待派单")
    })
    .await;
    let r = w
        .act(
            &w.admin,
            &t,
            "assign",
            json!({"department_id": w.other_dept}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["assignee_id"], w.off3.id());
    // The first official no longer sees it; the new one does.
    w.get(&ticket_path(&t), official.t())
        .await
        .problem(404, "not_found");
    w.get(&ticket_path(&t), w.off3.t()).await.expect(200);

    let c = w.file_ticket(&w.ent1, "never mind", &w.cat).await;
    let r = w
        .act(&w.ent1, &c, "cancel", json!({"note": "solved ourselves"}))
        .await
        .expect(200);
    assert_eq!(r.body["status"], "cancelled");
    w.act(&w.ent1, &c, "cancel", json!({}))
        .await
        .problem(409, "conflict");
    w.act(w.assignee(&c), &c, "accept", json!({}))
        .await
        .problem(409, "conflict");

    let x = w.file_ticket(&w.ent2, "close me", &w.cat).await;
    let off = w.assignee(&x);
    w.act(off, &x, "accept", json!({})).await.expect(200);
    w.act(&w.admin, &x, "close", json!({"note": "x"}))
        .await
        .problem(409, "conflict");
    w.act(off, &x, "resolve", json!({"resolution": "done"}))
        .await
        .expect(200);
    w.act(&w.admin, &x, "close", json!({}))
        .await
        .problem(422, "validation_failed");
    let r = w
        .act(
            &w.admin,
            &x,
            "close",
            json!({"note": "enterprise unreachable"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["status"], "closed");
    assert!(r.body["rating"].is_null());
}

#[actix_web::test]
async fn refusals_answer_409_403_404_412_and_422() {
    let w = world().await;
    let t = w.file_ticket(&w.ent1, "refusals", &w.cat).await;
    let official = w.assignee(&t);
    let other = if official.id() == w.off1.id() {
        &w.off2
    } else {
        &w.off1
    };
    // Wrong person (in scope): 403. Out of scope: 404.
    w.act(other, &t, "accept", json!({}))
        .await
        .problem(403, "forbidden");
    w.act(&w.ent1, &t, "accept", json!({}))
        .await
        .problem(403, "forbidden");
    w.act(&w.admin, &t, "accept", json!({}))
        .await
        .problem(403, "forbidden");
    w.act(&w.ent2, &t, "cancel", json!({}))
        .await
        .problem(404, "not_found");
    w.act(&w.off3, &t, "accept", json!({}))
        .await
        .problem(404, "not_found");
    w.act(official, &t, "confirm", json!({"rating": 5}))
        .await
        .problem(403, "forbidden");
    // Wrong status: 409.
    w.act(official, &t, "resolve", json!({"resolution": "x"}))
        .await
        .problem(409, "conflict");
    w.act(&w.ent1, &t, "confirm", json!({"rating": 5}))
        .await
        .problem(409, "conflict");
    // Unknown action or ticket: 404. Anonymous: 401.
    w.act(official, &t, "teleport", json!({}))
        .await
        .problem(404, "not_found");
    w.post("/tickets/nope/actions/accept", official.t(), json!({}))
        .await
        .problem(404, "not_found");
    w.act(
        &Session {
            token: "x".into(),
            refresh: String::new(),
            user: json!({}),
        },
        &t,
        "accept",
        json!({}),
    )
    .await
    .problem(401, "unauthorized");
    // Stale If-Match: 412, and nothing changed.
    let tid = t.id();
    let stale = w
        .send(
            w.request(Method::POST, &action_path(&tid, "accept"), official.t())
                .header("if-match", "\"7\"")
                .json(&json!({})),
        )
        .await;
    assert_eq!(stale.status, 412, "{}", stale.body);
    assert_eq!(stale.body["code"], "precondition_failed");
    let current = w.get(&ticket_path(&tid), official.t()).await.expect(200);
    assert_eq!(current.body["status"], "assigned");
    let etag = current.header("etag").unwrap();
    let ok = w
        .send(
            w.request(Method::POST, &action_path(&tid, "accept"), official.t())
                .header("if-match", etag)
                .json(&json!({})),
        )
        .await;
    assert_eq!(ok.status, 200);
    // Bad values: 422 with the field named.
    let r = w
        .act(official, &t, "resolve", json!({"resolution": "   "}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "resolution");
    w.act(official, &t, "resolve", json!({"resolution": "ok"}))
        .await
        .expect(200);
    let r = w
        .act(&w.ent1, &t, "confirm", json!({"rating": 6}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "rating");
    w.act(&w.ent1, &t, "confirm", json!({"rating": "five"}))
        .await
        .problem(400, "bad_request");
    // Filing: enterprise only, valid category, sane text.
    w.post(
        "/tickets",
        w.off1.t(),
        json!({"title": "t", "description": "d", "category_id": w.cat}),
    )
    .await
    .problem(403, "forbidden");
    let r = w
        .post(
            "/tickets",
            w.ent1.t(),
            json!({"title": "", "description": "d", "category_id": "nope"}),
        )
        .await
        .problem(422, "validation_failed");
    assert!(
        r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "title")
    );
    w.post(
        "/tickets",
        w.ent1.t(),
        json!({"title": "t", "description": "d", "category_id": "nope"}),
    )
    .await
    .problem(422, "validation_failed");
    w.post(
        "/tickets",
        w.ent1.t(),
        json!({"title": "t", "description": "d", "category_id": w.cat, "priority": "asap"}),
    )
    .await
    .problem(400, "bad_request");
    w.post(
        "/tickets",
        w.ent1.t(),
        json!({"title": "t", "category_id": w.cat}),
    )
    .await
    .problem(422, "validation_failed");
    // Enterprises may not write staff records.
    w.comment(&w.ent1, &tid, json!({"body": "x", "kind": "internal_note"}))
        .await
        .problem(403, "forbidden");
    w.comment(&w.ent2, &tid, json!({"body": "x"}))
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn urgent_tickets_get_half_the_time() {
    let w = world().await;
    let body =
        json!({"title": "urgent", "description": "d", "category_id": w.cat, "priority": "urgent"});
    let t = w.post("/tickets", w.ent1.t(), body).await.expect(201).body;
    let created = chrono::DateTime::parse_from_rfc3339(t["created_at"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(t["due_at"].as_str().unwrap()).unwrap();
    assert_eq!(due - created, Duration::hours(24));
    assert_eq!(t["priority"], "urgent");
}

#[actix_web::test]
async fn idempotency_keys_replay_and_refuse_a_different_body() {
    let w = world().await;
    let body = json!({"title": "once", "description": "only once", "category_id": w.cat});
    let post = |key: &str, body: &Value| {
        w.request(Method::POST, "/tickets", w.ent1.t())
            .header("idempotency-key", key)
            .json(body)
    };
    let first = w.send(post("k-1", &body)).await;
    assert_eq!(first.status, 201);
    let again = w.send(post("k-1", &body)).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body, first.body, "the first answer, replayed");
    let other = json!({"title": "twice?", "description": "only once", "category_id": w.cat});
    let r = w.send(post("k-1", &other)).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["code"], "validation_failed");
    // Another user may use the same key.
    let theirs = w
        .send(
            w.request(Method::POST, "/tickets", w.ent2.t())
                .header("idempotency-key", "k-1")
                .json(&body),
        )
        .await;
    assert_eq!(theirs.status, 201);
    assert_ne!(theirs.body["id"], first.body["id"]);
    // Concurrent duplicates still make one ticket.
    let racing = futures_util::future::join_all((0..4).map(|_| w.send(post("k-2", &body)))).await;
    let ids: HashSet<String> = racing
        .iter()
        .map(|r| r.body["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(racing.iter().all(|r| r.status == 201), "{racing:?}");
    assert_eq!(ids.len(), 1);
    let mine = w.get("/tickets?limit=100", w.ent1.t()).await.expect(200);
    assert_eq!(mine.items().len(), 2);
    // Kept 24 hours, then the key is free again.
    w.clock.advance(Duration::hours(25));
    w.run_jobs().await;
    let later = w.send(post("k-1", &other)).await;
    assert_eq!(later.status, 201);
}

#[actix_web::test]
async fn two_accepts_at_once_exactly_one_wins() {
    let w = world().await;
    for _ in 0..3 {
        let t = w.file_ticket(&w.ent1, "race", &w.cat).await;
        let official = w.assignee(&t);
        let results = futures_util::future::join_all(
            (0..4).map(|_| w.act(official, &t, "accept", json!({}))),
        )
        .await;
        let wins = results.iter().filter(|r| r.status == 200).count();
        assert_eq!(
            wins,
            1,
            "{:?}",
            results
                .iter()
                .map(|r| (r.status, r.body["detail"].clone()))
                .collect::<Vec<_>>()
        );
        assert!(results.iter().all(|r| r.status == 200 || r.status == 409));
        let now = w.get(&ticket_path(&t), official.t()).await.expect(200);
        assert_eq!(now.body["version"], 2);
    }
}

#[actix_web::test]
async fn scope_across_two_enterprises_and_two_departments() {
    let w = world().await;
    let a = w.file_ticket(&w.ent1, "ent1 dept1", &w.cat).await;
    let b = w.file_ticket(&w.ent2, "ent2 dept2", &w.other_cat).await;
    let visible = |s: &Session| {
        let app = &w.app;
        let token = s.token.clone();
        async move {
            let r = app
                .get("/tickets?limit=100", Some(&token))
                .await
                .expect(200);
            r.items()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_owned())
                .collect::<HashSet<_>>()
        }
    };
    let (ida, idb) = (a.id().to_owned(), b.id().to_owned());
    assert_eq!(visible(&w.ent1).await, HashSet::from([ida.clone()]));
    assert_eq!(visible(&w.ent2).await, HashSet::from([idb.clone()]));
    assert_eq!(visible(&w.off1).await, HashSet::from([ida.clone()]));
    assert_eq!(visible(&w.off2).await, HashSet::from([ida.clone()]));
    assert_eq!(visible(&w.off3).await, HashSet::from([idb.clone()]));
    assert_eq!(
        visible(&w.admin).await,
        HashSet::from([ida.clone(), idb.clone()])
    );
    for (who, ticket, ok) in [
        (&w.ent1, &ida, true),
        (&w.ent1, &idb, false),
        (&w.ent2, &ida, false),
        (&w.off1, &ida, true),
        (&w.off1, &idb, false),
        (&w.off3, &ida, false),
        (&w.admin, &idb, true),
    ] {
        for path in [
            ticket_path(ticket),
            events_path(ticket),
            comments_path(ticket),
        ] {
            let r = w.get(&path, who.t()).await;
            if ok {
                assert_eq!(r.status, 200, "{path}");
            } else {
                r.problem(404, "not_found");
            }
        }
    }
    // An enterprise cannot file for another by naming it: the enterprise comes from the session.
    let sneaky = json!({"title": "x", "description": "y", "category_id": w.cat, "enterprise_id": w.ent2.user["enterprise_id"]});
    let t = w.post("/tickets", w.ent1.t(), sneaky).await.expect(201);
    assert_eq!(t.body["enterprise_id"], w.ent1.user["enterprise_id"]);
}

#[actix_web::test]
async fn pages_have_no_duplicates_or_gaps_even_with_inserts_between_pages() {
    let w = world().await;
    let mut filed = Vec::new();
    for i in 0..11 {
        let t = w.file_ticket(&w.ent1, &format!("page {i}"), &w.cat).await;
        filed.push(t.id().to_owned());
    }
    for sort in ["-created_at", "created_at", "due_at", "updated_at"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &cursor {
                Some(c) => format!("/tickets?limit=4&sort={sort}&cursor={c}"),
                None => format!("/tickets?limit=4&sort={sort}"),
            };
            let r = w.get(&path, w.admin.t()).await.expect(200);
            pages += 1;
            seen.extend(
                r.items()
                    .iter()
                    .map(|t| t["id"].as_str().unwrap().to_owned()),
            );
            if pages == 1 && sort == "-created_at" {
                // A ticket filed meanwhile lands before the cursor, not in later pages.
                w.file_ticket(&w.ent2, "late", &w.cat).await;
            }
            match r.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert!(pages >= 3, "{sort}: {pages} pages");
        let unique: HashSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: duplicates");
        for f in &filed {
            assert!(seen.contains(f), "{sort}: gap");
        }
    }
    let newest_first = w.get("/tickets?limit=100", w.admin.t()).await.expect(200);
    let created: Vec<&str> = newest_first
        .items()
        .iter()
        .map(|t| t["created_at"].as_str().unwrap())
        .collect();
    let mut sorted = created.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(created, sorted);
    for bad in ["limit=0", "cursor=garbage", "sort=title"] {
        w.get(&format!("/tickets?{bad}"), w.admin.t())
            .await
            .problem(422, "validation_failed");
    }
}

#[actix_web::test]
async fn filters_and_search_including_chinese() {
    let w = world().await;
    let a = w
        .file_ticket(&w.ent1, "营商环境 permit DELAY", &w.cat)
        .await;
    let b = w
        .file_ticket(&w.ent2, "Land use question", &w.other_cat)
        .await;
    w.act(w.assignee(&a), &a, "accept", json!({}))
        .await
        .expect(200);
    let ids = |r: &super::helpers::Resp| {
        r.items()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect::<HashSet<_>>()
    };
    let w = &w;
    let get = |q: &str| {
        let path = format!("/tickets?{q}");
        async move { w.get(&path, w.admin.t()).await }
    };
    let only = |t: &Value| HashSet::from([t.id().to_owned()]);
    assert_eq!(
        ids(&get("q=%E8%90%A5%E5%95%86").await.expect(200)),
        only(&a),
        "Chinese substring"
    );
    assert_eq!(
        ids(&get("q=%E8%90%A5%E5%95%86%E7%8E%AF%E5%A2%83")
            .await
            .expect(200)),
        only(&a),
        "a Chinese term long enough for the trigram index"
    );
    assert_eq!(
        ids(&get("q=delay").await.expect(200)),
        only(&a),
        "case-insensitive Latin"
    );
    assert_eq!(ids(&get("q=LAND%20USE").await.expect(200)), only(&b));
    let reference = a["reference"].as_str().unwrap();
    assert_eq!(
        ids(&get(&format!("q={}", reference.to_lowercase()))
            .await
            .expect(200)),
        only(&a),
        "by reference"
    );
    assert_eq!(
        ids(&get("q=%25").await.expect(200)),
        HashSet::new(),
        "LIKE wildcards are literal"
    );
    assert_eq!(ids(&get("status=in_progress").await.expect(200)), only(&a));
    assert_eq!(
        ids(&get("status=assigned,in_progress").await.expect(200)).len(),
        2
    );
    assert_eq!(
        ids(&get("status=assigned&status=in_progress").await.expect(200)).len(),
        2
    );
    get("status=bogus").await.problem(422, "validation_failed");
    assert_eq!(
        ids(&get(&format!("category_id={}", w.other_cat))
            .await
            .expect(200)),
        only(&b)
    );
    assert_eq!(
        ids(&get(&format!("department_id={}", w.dept)).await.expect(200)),
        only(&a)
    );
    assert_eq!(
        ids(&get(&format!(
            "enterprise_id={}",
            w.ent2.user["enterprise_id"].as_str().unwrap()
        ))
        .await
        .expect(200)),
        only(&b)
    );
    assert_eq!(ids(&get("priority=normal").await.expect(200)).len(), 2);
    assert_eq!(ids(&get("priority=urgent").await.expect(200)).len(), 0);
    let mine = w
        .get("/tickets?assignee_id=me", w.assignee(&a).t())
        .await
        .expect(200);
    assert_eq!(ids(&mine), only(&a));
    assert_eq!(ids(&get("overdue=true").await.expect(200)).len(), 0);
    // Dates are days in the configured time zone (Asia/Shanghai by default).
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        ids(&get("created_from=2020-01-01").await.expect(200)).len(),
        2
    );
    assert_eq!(
        ids(&get("created_to=2020-01-01").await.expect(200)).len(),
        0
    );
    assert_eq!(
        ids(&get(&format!("created_from=2020-01-01&created_to={today}"))
            .await
            .expect(200))
        .len(),
        2
    );
    get("created_from=yesterday")
        .await
        .problem(422, "validation_failed");
    // Past the deadline (48 h for `a`, 72 h for `b`).
    w.clock.advance(Duration::hours(49));
    assert_eq!(ids(&get("overdue=true").await.expect(200)), only(&a));
    assert_eq!(ids(&get("overdue=false").await.expect(200)), only(&b));
    let t = w.get(&ticket_path(&a), w.admin.t()).await.expect(200);
    assert_eq!(t.body["overdue"], true);
}

#[actix_web::test]
async fn overdue_and_auto_close_sweeps_act_once() {
    let w = world().await;
    let late = w.file_ticket(&w.ent1, "late", &w.cat).await;
    let done = w.file_ticket(&w.ent1, "done", &w.cat).await;
    let official = w.assignee(&done);
    w.act(official, &done, "accept", json!({}))
        .await
        .expect(200);
    w.act(official, &done, "resolve", json!({"resolution": "fixed"}))
        .await
        .expect(200);

    w.clock.advance(Duration::hours(47));
    w.run_jobs().await;
    assert!(
        !w.timeline(&w.admin, &late)
            .await
            .iter()
            .any(|e| e["kind"] == "overdue")
    );

    w.clock.advance(Duration::hours(2));
    // Sweeps from several instances at once still record one event per ticket.
    futures_util::future::join_all((0..3).map(|_| w.run_jobs())).await;
    w.run_jobs().await;
    let overdue: Vec<Value> = w
        .timeline(&w.admin, &late)
        .await
        .into_iter()
        .filter(|e| e["kind"] == "overdue")
        .collect();
    assert_eq!(overdue.len(), 1);
    assert!(overdue[0]["actor_id"].is_null());
    assert!(
        !w.timeline(&w.admin, &done)
            .await
            .iter()
            .any(|e| e["kind"] == "overdue"),
        "resolved tickets are not overdue"
    );
    let assignee = w.assignee(&late).user["email"].as_str().unwrap().to_owned();
    w.wait_mail(&assignee, "已派单", |m| m.subject.contains("已派单"))
        .await;
    let overdue_mail = async |to: &str| {
        for _ in 0..100 {
            if w.smtp
                .to(to)
                .iter()
                .any(|m| m.text.contains("超过办理期限"))
            {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        false
    };
    assert!(overdue_mail(&assignee).await, "the assignee is told");
    assert!(
        overdue_mail("admin@qifu.test").await,
        "the admins are told (督办)"
    );

    // Auto-close after 7 days resolved (49 hours have passed); the system acts, once,
    // without a rating.
    w.clock.advance(Duration::days(4));
    w.run_jobs().await;
    assert_eq!(
        w.get(&ticket_path(&done), w.admin.t()).await.body["status"],
        "resolved"
    );
    w.clock.advance(Duration::days(3));
    futures_util::future::join_all((0..3).map(|_| w.run_jobs())).await;
    let closed = w.get(&ticket_path(&done), w.admin.t()).await.expect(200);
    assert_eq!(closed.body["status"], "closed");
    assert_eq!(closed.body["auto_closed"], true);
    assert!(closed.body["rating"].is_null());
    let auto: Vec<Value> = w
        .timeline(&w.admin, &done)
        .await
        .into_iter()
        .filter(|e| e["kind"] == "auto_closed")
        .collect();
    assert_eq!(auto.len(), 1);
    assert!(auto[0]["actor_id"].is_null());
    w.wait_mail("wang@ent1.test", "the filer is told", |m| {
        m.subject.contains("已关闭")
    })
    .await;
}

#[actix_web::test]
async fn mail_goes_to_the_people_each_event_concerns() {
    let w = world().await;
    let t = w.file_ticket(&w.ent1, "mail", &w.cat).await;
    let official = w.assignee(&t);
    let official_email = official.email().to_owned();
    let tid = t.id();
    w.comment(&w.ent1, &tid, json!({"body": "Any news?"}))
        .await
        .expect(201);
    // The assignment mail says what to do next.
    w.wait_mail(&official_email, "assignment mail", |m| {
        m.subject.contains("已派单") && m.text.contains("请在办理期限前受理")
    })
    .await;
    w.wait_mail(
        &official_email,
        "the enterprise's message reaches the assignee",
        |m| m.text.contains("Any news?"),
    )
    .await;
    w.comment(
        official,
        &tid,
        json!({"body": "Tomorrow.", "kind": "message"}),
    )
    .await
    .expect(201);
    w.comment(
        official,
        &tid,
        json!({"body": "SECRET NOTE", "kind": "internal_note"}),
    )
    .await
    .expect(201);
    w.wait_mail("wang@ent1.test", "staff messages reach the filer", |m| {
        m.text.contains("Tomorrow.")
    })
    .await;
    w.act(&w.ent1, &t, "cancel", json!({"note": "no longer needed"}))
        .await
        .expect(200);
    w.wait_mail(
        &official_email,
        "the assignee hears of the cancellation",
        |m| m.subject.contains("已撤销"),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        w.smtp
            .messages()
            .iter()
            .all(|m| !m.text.contains("SECRET NOTE")),
        "internal notes are never mailed"
    );
    assert!(
        w.smtp
            .to("wang@ent1.test")
            .iter()
            .all(|m| !m.subject.contains("已撤销")),
        "not about one's own action"
    );
    // English recipients get English mail.
    let en = json!({"enterprise": {"name": "EN Co", "credit_code": CREDIT_CODES[2]},
                    "user": {"name": "Smith", "email": "smith@en.test", "password": PASSWORD, "locale": "en"}});
    w.post("/auth/register", None, en).await.expect(201);
    let smith = w.login("smith@en.test", PASSWORD).await;
    w.file_ticket(&smith, "English please", &w.cat).await;
    let m = w
        .wait_mail("smith@en.test", "English subject", |m| {
            m.subject.contains("assigned")
        })
        .await;
    assert!(m.text.contains("Deadline:"), "{}", m.text);
}

/// Each official's stored workload, beside a count of their open assigned tickets.
async fn workloads(app: &TestApp) -> Vec<(String, i32, i64)> {
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Integer, Text};
    #[derive(QueryableByName)]
    struct Load {
        #[diesel(sql_type = Text)]
        id: String,
        #[diesel(sql_type = Integer)]
        stored: i32,
        #[diesel(sql_type = BigInt)]
        counted: i64,
    }
    app.state
        .db
        .run(|conn| {
            let rows: Vec<Load> = diesel::sql_query(
                "SELECT u.id AS id, u.open_tickets AS stored, \
                   (SELECT COUNT(*) FROM tickets t WHERE t.assignee_id = u.id \
                      AND t.status IN ('assigned', 'in_progress', 'awaiting_enterprise')) AS counted \
                 FROM users u WHERE u.role = 'official' ORDER BY u.id",
            )
            .load(conn)?;
            Ok(rows.into_iter().map(|l| (l.id, l.stored, l.counted)).collect())
        })
        .await
        .unwrap()
}

#[actix_web::test]
async fn officials_workloads_follow_every_change() {
    let w = world().await;
    let mut tickets = Vec::new();
    for i in 0..6 {
        tickets.push(
            w.file_ticket(if i % 2 == 0 { &w.ent1 } else { &w.ent2 }, "load", &w.cat)
                .await,
        );
    }
    let [a, b, c, d, e, f] = &tickets[..] else {
        unreachable!()
    };
    w.act(w.assignee(a), a, "accept", json!({}))
        .await
        .expect(200);
    w.act(w.assignee(a), a, "resolve", json!({"resolution": "issued"}))
        .await
        .expect(200);
    w.act(w.assignee(b), b, "return", json!({"note": "not ours"}))
        .await
        .expect(200);
    w.act(
        &w.admin,
        b,
        "assign",
        json!({"department_id": w.other_dept, "assignee_id": w.off3.id()}),
    )
    .await
    .expect(200);
    w.act(
        &w.admin,
        c,
        "assign",
        json!({"department_id": w.other_dept, "assignee_id": w.off3.id()}),
    )
    .await
    .expect(200);
    w.act(w.assignee(d), d, "accept", json!({}))
        .await
        .expect(200);
    w.act(
        w.assignee(d),
        d,
        "request_info",
        json!({"note": "which plot?"}),
    )
    .await
    .expect(200);
    w.act(&w.ent2, d, "provide_info", json!({"note": "plot 7"}))
        .await
        .expect(200);
    w.act(&w.ent1, e, "cancel", json!({})).await.expect(200);
    w.act(w.assignee(f), f, "accept", json!({}))
        .await
        .expect(200);
    w.act(w.assignee(f), f, "request_info", json!({"note": "map?"}))
        .await
        .expect(200);
    w.act(&w.ent1, a, "reopen", json!({"note": "still refused"}))
        .await
        .expect(200);
    let loads = workloads(&w).await;
    assert_eq!(loads.len(), 3);
    for (id, stored, counted) in &loads {
        assert_eq!(i64::from(*stored), *counted, "official {id}");
    }
    // Six filed, one cancelled: five open and assigned, two of them moved to off3.
    assert_eq!(loads.iter().map(|l| l.2).sum::<i64>(), 5);
    let off3 = loads.iter().find(|l| l.0 == w.off3.id()).unwrap();
    assert_eq!(off3.1, 2);
}
