//! Working days (issue 14): the calendar, working-day deadlines, waiting for the enterprise,
//! extensions, warnings and escalation.

use std::ops::Deref;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use super::helpers::{Id, Session, TestApp, extensions_path, ticket_path};

/// An admin, a department with one official, a 5-working-day category and an hour one, and
/// an enterprise; the clock at `at` (UTC) before anyone signs in.
struct Desk {
    app: TestApp,
    admin: Session,
    official: Session,
    ent: Session,
    working: String,
    hours: String,
}

impl Deref for Desk {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}

fn set_clock(app: &TestApp, at: &str) {
    let target = DateTime::parse_from_rfc3339(at)
        .expect("RFC 3339")
        .with_timezone(&Utc)
        .naive_utc();
    app.clock.advance(target - app.now());
}

async fn desk_at(at: &str) -> Desk {
    // Tokens are checked against the real time, and these tests move the app's clock months
    // away from it: access tokens that outlive the moves.
    let app =
        TestApp::spawn_with(json!({"auth": {"access_token_minutes": 2 * 365 * 24 * 60}})).await;
    set_clock(&app, at);
    let admin = app.with_admin("admin@qifu.test").await;
    let department = app.with_department(&admin, "市场监管局").await;
    let working = app
        .post(
            "/categories",
            admin.t(),
            json!({"name": "食品经营许可", "department_id": department, "sla_hours": 24,
                   "sla_working_days": 5}),
        )
        .await
        .expect(201)
        .body
        .id()
        .to_owned();
    let hours = app.with_category(&admin, "咨询", &department, 48).await;
    let official = app
        .with_official(&admin, "off@qifu.test", &department)
        .await;
    let ent = app.with_enterprise(0, "wang@ent.test").await;
    Desk {
        app,
        admin,
        official,
        ent,
        working,
        hours,
    }
}

impl Desk {
    fn later(&self, at: &str) {
        set_clock(&self.app, at);
    }

    async fn ticket(&self, id: &str) -> Value {
        self.get(&ticket_path(id), self.admin.t())
            .await
            .expect(200)
            .body
    }

    /// Files in the working-day category and accepts it: in progress.
    async fn working_ticket(&self) -> Value {
        let t = self
            .file_ticket(&self.ent, "食品经营许可证", &self.working)
            .await;
        self.act(&self.official, &t, "accept", json!({}))
            .await
            .expect(200)
            .body
    }

    async fn put_calendar(&self, who: &Session, year: &str, body: Value) -> super::helpers::Resp {
        self.call(
            Method::PUT,
            &format!("/calendar/{year}"),
            who.t(),
            &[],
            Some(&body),
        )
        .await
    }
}

fn at(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().expect("a timestamp"))
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

/// The test clock runs on from where it was set (by the seconds the test takes), so instants
/// that follow it are compared to the minute.
#[track_caller]
fn assert_about(actual: &Value, expected: &str) {
    let diff = at(actual) - at(&json!(expected));
    assert!(
        diff.num_seconds().abs() < 60,
        "{actual} is not about {expected}"
    );
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|f| f["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_2026_arrangement_ships_and_anyone_signed_in_reads_it() {
    let d = desk_at("2026-12-01T02:00:00Z").await;
    let year = d
        .get_q("/calendar", d.ent.t(), &[("year", "2026")])
        .await
        .expect(200)
        .body;
    assert_eq!(year["year"], 2026);
    let days = year["days"].as_array().unwrap();
    // 3 + 9 + 3 + 5 + 3 + 3 + 7 holidays and 6 make-up days.
    assert_eq!(days.len(), 33 + 6);
    let kind = |date: &str| {
        days.iter()
            .find(|x| x["date"] == date)
            .map(|x| x["kind"].as_str().unwrap().to_owned())
    };
    assert_eq!(kind("2026-10-01").as_deref(), Some("holiday"));
    assert_eq!(kind("2026-10-10").as_deref(), Some("workday"));
    assert_eq!(kind("2026-02-14").as_deref(), Some("workday"));
    assert_eq!(kind("2026-10-11"), None);
    let dates: Vec<&str> = days.iter().map(|x| x["date"].as_str().unwrap()).collect();
    let mut sorted = dates.clone();
    sorted.sort_unstable();
    assert_eq!(dates, sorted, "in date order");
    // The current year by default; nothing stored for 2027 yet.
    let current = d.get("/calendar", d.official.t()).await.expect(200).body;
    assert_eq!(current["year"], 2026);
    let empty = d
        .get_q("/calendar", d.official.t(), &[("year", "2027")])
        .await
        .expect(200)
        .body;
    assert_eq!(empty["days"], json!([]));
    d.get("/calendar", None).await.problem(401, "unauthorized");
    d.get_q("/calendar", d.ent.t(), &[("year", "1800")])
        .await
        .problem(422, "validation_failed");
}

#[tokio::test]
async fn admins_replace_a_year_and_bad_years_change_nothing() {
    let d = desk_at("2026-12-01T02:00:00Z").await;
    let good = json!({"days": [
        {"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
        {"date": "2027-02-20", "kind": "workday", "name": "春节调休上班"},
    ]});
    d.put_calendar(&d.official, "2027", good.clone())
        .await
        .problem(403, "forbidden");
    let stored = d
        .put_calendar(&d.admin, "2027", good)
        .await
        .expect(200)
        .body;
    assert_eq!(stored["year"], 2027);
    assert_eq!(stored["days"].as_array().unwrap().len(), 2);

    let bad_inputs = [
        (
            json!({"days": [{"date": "2026-12-31", "kind": "holiday", "name": "x"}]}),
            vec!["days[0].date"],
        ),
        (
            json!({"days": [
                {"date": "2027-05-01", "kind": "holiday", "name": "劳动节"},
                {"date": "2027-05-01", "kind": "workday", "name": "劳动节"}]}),
            vec!["days[1].date"],
        ),
        (
            json!({"days": [{"date": "2027-05-02", "kind": "vacation", "name": "x"}]}),
            vec!["days[0].kind"],
        ),
        (
            json!({"days": [{"date": "2027-02-30", "kind": "holiday", "name": "x"}]}),
            vec!["days[0].date"],
        ),
    ];
    for (body, expected) in bad_inputs {
        let r = d
            .put_calendar(&d.admin, "2027", body.clone())
            .await
            .problem(422, "validation_failed");
        assert_eq!(r.body["type"], "/problems/validation", "{body}");
        assert_eq!(fields(&r.body), expected, "{body}");
    }
    let after = d
        .get_q("/calendar", d.admin.t(), &[("year", "2027")])
        .await
        .expect(200)
        .body;
    assert_eq!(after["days"], stored["days"], "nothing changed");
    d.put_calendar(&d.admin, "1999", json!({"days": []}))
        .await
        .problem(422, "validation_failed");
    // An empty list clears the year: plain Monday to Friday.
    let cleared = d
        .put_calendar(&d.admin, "2027", json!({"days": []}))
        .await
        .expect(200)
        .body;
    assert_eq!(cleared["days"], json!([]));
}

#[tokio::test]
async fn working_day_slas_are_1_to_60_or_null() {
    let d = desk_at("2026-12-01T02:00:00Z").await;
    let department = d.with_department(&d.admin, "税务局").await;
    for bad in [0, 61, -3] {
        let r = d
            .post(
                "/categories",
                d.admin.t(),
                json!({"name": "退税", "department_id": department, "sla_hours": 24,
                       "sla_working_days": bad}),
            )
            .await
            .problem(422, "validation_failed");
        assert_eq!(fields(&r.body), ["sla_working_days"]);
        let r = d
            .patch(
                &format!("/categories/{}", d.working),
                d.admin.t(),
                json!({"sla_working_days": bad}),
            )
            .await
            .problem(422, "validation_failed");
        assert_eq!(fields(&r.body), ["sla_working_days"]);
    }
    let listed = d.get("/categories", None).await.expect(200);
    let working = listed
        .items()
        .iter()
        .find(|c| c["id"] == d.working.as_str())
        .unwrap();
    assert_eq!(working["sla_working_days"], 5, "unchanged by the refusals");
    let patched = d
        .patch(
            &format!("/categories/{}", d.working),
            d.admin.t(),
            json!({"sla_working_days": null}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(patched["sla_working_days"], Value::Null);
    let patched = d
        .patch(
            &format!("/categories/{}", d.working),
            d.admin.t(),
            json!({"sla_working_days": 60}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(patched["sla_working_days"], 60);
}

/// calendar-2026.md's worked examples, through filing.
#[tokio::test]
async fn due_at_is_the_end_of_the_nth_working_day() {
    for (filed, due) in [
        ("2026-09-23T02:00:00Z", "2026-10-08T10:00:00Z"),
        ("2026-02-13T08:00:00Z", "2026-02-27T10:00:00Z"),
        ("2026-05-02T01:00:00Z", "2026-05-11T10:00:00Z"),
    ] {
        let d = desk_at(filed).await;
        let t = d.file_ticket(&d.ent, "食品经营许可证", &d.working).await;
        assert_eq!(t["due_at"], due, "filed {filed}");
        // Urgency does not halve a working-day deadline.
        let urgent = d
            .file_ticket_with(
                &d.ent,
                json!({"title": "急", "description": "急件", "category_id": d.working,
                       "priority": "urgent"}),
            )
            .await;
        assert_eq!(urgent["due_at"], due);
        // Hour SLAs stay calendar hours.
        let h = d.file_ticket(&d.ent, "咨询", &d.hours).await;
        let created = DateTime::parse_from_rfc3339(h["created_at"].as_str().unwrap()).unwrap();
        let due_h = DateTime::parse_from_rfc3339(h["due_at"].as_str().unwrap()).unwrap();
        assert_eq!(due_h - created, chrono::Duration::hours(48));
    }
}

/// An edited calendar applies to the next filing.
#[tokio::test]
async fn a_replaced_year_moves_later_deadlines() {
    let d = desk_at("2026-12-01T02:00:00Z").await;
    // 2027-01-04 (Mon) .. 01-08 (Fri) are the 5 working days after Sunday 2027-01-03.
    d.later("2027-01-03T02:00:00Z");
    let before = d.file_ticket(&d.ent, "A", &d.working).await;
    assert_eq!(before["due_at"], "2027-01-08T10:00:00Z");
    d.put_calendar(
        &d.admin,
        "2027",
        json!({"days": [{"date": "2027-01-05", "kind": "holiday", "name": "测试"}]}),
    )
    .await
    .expect(200);
    let after = d.file_ticket(&d.ent, "B", &d.working).await;
    assert_eq!(after["due_at"], "2027-01-11T10:00:00Z");
}

#[tokio::test]
async fn waiting_for_the_enterprise_stops_the_clock_and_mails_both_ways() {
    // Tuesday 2026-09-29 10:00 CST.
    let d = desk_at("2026-09-29T02:00:00Z").await;
    let t = d.working_ticket().await;
    // 09-30, 10-08, 10-09, 10-10 (make-up Saturday), 10-12.
    assert_eq!(t["due_at"], "2026-10-12T10:00:00Z");

    // Only the assignee asks, only from in_progress, with a note.
    d.act(&d.ent, &t, "request_info", json!({"note": "?"}))
        .await
        .problem(403, "forbidden");
    let r = d
        .act(&d.official, &t, "request_info", json!({}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(fields(&r.body), ["note"]);
    d.act(&d.ent, &t, "provide_info", json!({"note": "not asked"}))
        .await
        .problem(409, "conflict");
    let waiting = d
        .act(
            &d.official,
            &t,
            "request_info",
            json!({"note": "请补充营业执照副本"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(waiting["status"], "awaiting_enterprise");
    assert_about(&waiting["awaiting_since"], "2026-09-29T02:00:00Z");
    d.wait_mail(d.ent.email(), "the request for information", |m| {
        m.text.contains("请补充营业执照副本")
    })
    .await;

    // Waiting across the deadline: never overdue, no overdue event.
    d.later("2026-10-20T02:00:00Z");
    d.run_jobs().await;
    let still = d.ticket(t.id()).await;
    assert_eq!(still["overdue"], false);
    let overdue = d
        .get_q("/tickets", d.admin.t(), &[("overdue", "true")])
        .await
        .expect(200);
    assert!(overdue.items().is_empty(), "{}", overdue.body);
    let kinds: Vec<Value> = d
        .timeline(&d.admin, &t)
        .await
        .into_iter()
        .map(|e| e["kind"].clone())
        .collect();
    assert!(!kinds.contains(&json!("overdue")), "{kinds:?}");

    // provide_info needs a note; then the clock runs again, later by the working time that
    // stood still: 09-29 10:00 .. 10-20 10:00 holds 11 days' worth (14 h of 09-29, 09-30,
    // 10-08, 10-09, 10-10, 10-12..16, 10-19, and 10 h of 10-20).
    let r = d
        .act(&d.ent, &t, "provide_info", json!({}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(fields(&r.body), ["note"]);
    let back = d
        .act(&d.ent, &t, "provide_info", json!({"note": "已上传副本"}))
        .await
        .expect(200)
        .body;
    assert_eq!(back["status"], "in_progress");
    assert_eq!(back["awaiting_since"], Value::Null);
    // 11 working days after 10-12 18:00: 10-13..16 (4), 10-19..23 (5), 10-26, 10-27.
    assert_about(&back["due_at"], "2026-10-27T10:00:00Z");
    d.wait_mail(d.official.email(), "the answer", |m| {
        m.text.contains("已上传副本")
    })
    .await;
    let events = d.timeline(&d.ent, &t).await;
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"info_requested") && kinds.contains(&"info_provided"));
}

#[tokio::test]
async fn an_hour_sla_moves_by_the_calendar_time_and_a_message_answers() {
    let d = desk_at("2026-12-01T02:00:00Z").await;
    let t = d.file_ticket(&d.ent, "咨询", &d.hours).await;
    d.act(&d.official, &t, "accept", json!({}))
        .await
        .expect(200);
    let due = at(&t["due_at"]);
    d.act(&d.official, &t, "request_info", json!({"note": "哪个区？"}))
        .await
        .expect(200);
    d.later("2026-12-01T05:00:00Z");
    // A message from the enterprise answers the request.
    d.comment(&d.ent, &t, json!({"body": "浦东新区"}))
        .await
        .expect(201);
    let back = d.ticket(t.id()).await;
    assert_eq!(back["status"], "in_progress");
    let moved = (at(&back["due_at"]) - due - chrono::Duration::hours(3)).num_seconds();
    assert!(moved.abs() < 60, "moved by 3 h and {moved} s");
    d.wait_mail(d.official.email(), "the answer by message", |m| {
        m.text.contains("浦东新区")
    })
    .await;
    // A message while in progress is only a message.
    d.comment(&d.ent, &t, json!({"body": "谢谢"}))
        .await
        .expect(201);
    assert_eq!(d.ticket(t.id()).await["status"], "in_progress");
    // Cancelling while waiting is allowed.
    d.act(&d.official, &t, "request_info", json!({"note": "再补充"}))
        .await
        .expect(200);
    let cancelled = d
        .act(&d.ent, &t, "cancel", json!({}))
        .await
        .expect(200)
        .body;
    assert_eq!(cancelled["status"], "cancelled");
}

fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn count(events: &[Value], kind: &str) -> usize {
    events.iter().filter(|e| e["kind"] == kind).count()
}

#[tokio::test]
async fn extensions_need_the_assignee_and_an_admin() {
    // Tuesday 2026-12-01 10:00 CST: five working days end on 12-08 at 18:00.
    let d = desk_at("2026-12-01T02:00:00Z").await;
    let t = d.working_ticket().await;
    assert_eq!(t["due_at"], "2026-12-08T10:00:00Z");
    let path = extensions_path(&t);
    let ask = json!({"working_days": 3, "reason": "需现场核查"});

    d.post(&path, d.ent.t(), ask.clone())
        .await
        .problem(403, "forbidden");
    let r = d
        .post(&path, d.admin.t(), ask.clone())
        .await
        .problem(403, "forbidden");
    assert_eq!(r.body["type"], "/problems/wrong-actor");
    for bad in [0, 31] {
        let r = d
            .post(
                &path,
                d.official.t(),
                json!({"working_days": bad, "reason": "x"}),
            )
            .await
            .problem(422, "validation_failed");
        assert_eq!(fields(&r.body), ["working_days"], "{bad}");
    }
    let r = d
        .post(
            &path,
            d.official.t(),
            json!({"working_days": 2, "reason": " "}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(fields(&r.body), ["reason"]);

    let ext = d
        .post(&path, d.official.t(), ask.clone())
        .await
        .expect(201)
        .body;
    assert_eq!(ext["status"], "pending");
    assert_eq!(ext["working_days"], 3);
    assert_eq!(ext["requested_by"], d.official.id());
    assert_eq!(ext["decided_by"], Value::Null);
    let r = d
        .post(&path, d.official.t(), ask.clone())
        .await
        .problem(409, "conflict");
    assert_eq!(r.body["type"], "/problems/extension-pending");
    d.wait_mail("admin@qifu.test", "the request to the admins", |m| {
        m.text.contains("需现场核查")
    })
    .await;

    // Enterprises see approved extensions only; staff see them all.
    let mine = d.get(&path, d.ent.t()).await.expect(200);
    assert!(mine.items().is_empty());
    assert_eq!(
        d.get(&path, d.official.t()).await.expect(200).items().len(),
        1
    );

    let approve = format!("{path}/{}/actions/approve", ext.id());
    d.post(&approve, d.official.t(), json!({}))
        .await
        .problem(403, "forbidden");
    d.post(
        &format!("{path}/{}/actions/maybe", ext.id()),
        d.admin.t(),
        json!({}),
    )
    .await
    .problem(404, "not_found");
    let approved = d
        .post(&approve, d.admin.t(), json!({"note": "同意"}))
        .await
        .expect(200)
        .body;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["decided_by"], d.admin.id());
    assert_eq!(approved["decision_note"], "同意");
    // Three working days after 12-08: 12-09, 12-10, 12-11, at the same hour.
    let moved = d.ticket(t.id()).await;
    assert_eq!(moved["due_at"], "2026-12-11T10:00:00Z");
    let r = d
        .post(&approve, d.admin.t(), json!({}))
        .await
        .problem(409, "conflict");
    assert_eq!(r.body["type"], "/problems/extension-decided");
    d.wait_mail(d.ent.email(), "the new deadline", |m| {
        m.text.contains("2026-12-11 18:00")
    })
    .await;
    d.wait_mail(d.official.email(), "the approval", |m| {
        m.text.contains("同意")
    })
    .await;
    assert_eq!(d.get(&path, d.ent.t()).await.expect(200).items().len(), 1);

    // A rejection changes nothing but the request, and the enterprise never hears of it.
    let second = d
        .post(
            &path,
            d.official.t(),
            json!({"working_days": 30, "reason": "再延"}),
        )
        .await
        .expect(201)
        .body;
    let rejected = d
        .post(
            &format!("{path}/{}/actions/reject", second.id()),
            d.admin.t(),
            json!({"note": "不予延期"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(d.ticket(t.id()).await["due_at"], "2026-12-11T10:00:00Z");
    d.wait_mail(d.official.email(), "the rejection", |m| {
        m.text.contains("不予延期")
    })
    .await;
    assert_eq!(d.get(&path, d.ent.t()).await.expect(200).items().len(), 1);

    let staff = kinds(&d.timeline(&d.admin, &t).await);
    for kind in [
        "extension_requested",
        "extension_approved",
        "extension_rejected",
    ] {
        assert!(staff.contains(&kind.to_owned()), "{kind} in {staff:?}");
    }
    let public = kinds(&d.timeline(&d.ent, &t).await);
    assert!(public.contains(&"extension_approved".to_owned()));
    assert!(
        !public.contains(&"extension_requested".to_owned()),
        "{public:?}"
    );
    assert!(!public.contains(&"extension_rejected".to_owned()));

    // Closed tickets are not extended.
    d.act(&d.official, &t, "resolve", json!({"resolution": "办结"}))
        .await
        .expect(200);
    d.post(&path, d.official.t(), ask)
        .await
        .problem(409, "conflict");
}

/// Three instances sweep one database at the same moments: each warning, overdue and
/// escalation is recorded once per deadline, and a new deadline is warned about again.
#[tokio::test]
async fn each_warning_happens_once_per_deadline_on_three_instances() {
    let d = desk_at("2026-12-01T02:00:00Z").await;
    let b = d.app.sibling().await;
    let c = d.app.sibling().await;
    let move_all = |at: &str| {
        for app in [&d.app, &b, &c] {
            set_clock(app, at);
        }
    };
    move_all("2026-12-01T02:00:00Z");
    let sweep_all = || async {
        tokio::join!(d.app.run_jobs(), b.run_jobs(), c.run_jobs());
    };
    let t = d.working_ticket().await;
    assert_eq!(t["due_at"], "2026-12-08T10:00:00Z");

    // 80 % of the 176 hours to the deadline end at 12-06 22:48 UTC.
    move_all("2026-12-06T22:00:00Z");
    sweep_all().await;
    assert_eq!(count(&d.timeline(&d.admin, &t).await, "due_soon"), 0);
    move_all("2026-12-06T23:00:00Z");
    sweep_all().await;
    sweep_all().await;
    let events = d.timeline(&d.admin, &t).await;
    assert_eq!(count(&events, "due_soon"), 1, "{:?}", kinds(&events));
    d.wait_mail(d.official.email(), "the warning", |m| {
        m.text.contains("即将到达办理期限")
    })
    .await;
    // Warnings are staff business.
    assert_eq!(count(&d.timeline(&d.ent, &t).await, "due_soon"), 0);

    // Overdue at the deadline, escalated 24 hours after it.
    move_all("2026-12-08T11:00:00Z");
    sweep_all().await;
    let events = d.timeline(&d.admin, &t).await;
    assert_eq!(count(&events, "overdue"), 1);
    assert_eq!(count(&events, "escalated"), 0);
    move_all("2026-12-09T11:00:00Z");
    sweep_all().await;
    sweep_all().await;
    let events = d.timeline(&d.admin, &t).await;
    assert_eq!(count(&events, "overdue"), 1);
    assert_eq!(count(&events, "escalated"), 1, "{:?}", kinds(&events));
    d.wait_mail("admin@qifu.test", "the escalation", |m| {
        m.text.contains("升级督办")
    })
    .await;

    // An approved extension is a new deadline: warned about (and later overdue) once more.
    let ext = d.request_extension(&d.official, &t, 3, "等待检测").await;
    d.decide_extension(&d.admin, &t, &ext, "approve")
        .await
        .expect(200);
    let t2 = d.ticket(t.id()).await;
    assert_eq!(t2["due_at"], "2026-12-11T10:00:00Z");
    assert_eq!(t2["overdue"], false);
    sweep_all().await;
    let events = d.timeline(&d.admin, &t).await;
    assert_eq!(count(&events, "due_soon"), 2, "{:?}", kinds(&events));
    move_all("2026-12-12T12:00:00Z");
    sweep_all().await;
    let events = d.timeline(&d.admin, &t).await;
    assert_eq!(count(&events, "overdue"), 2);
    assert_eq!(count(&events, "escalated"), 2);
}

/// The enterprise's ticket page: the working-day wording, the paused deadline with a form to
/// answer, and approved extensions.
#[tokio::test]
async fn the_console_shows_the_wait_and_the_extensions() {
    use super::console::Visitor;

    let d = desk_at("2026-12-01T02:00:00Z").await;
    let t = d.working_ticket().await;
    d.act(
        &d.official,
        &t,
        "request_info",
        json!({"note": "请上传租赁合同"}),
    )
    .await
    .expect(200);
    let mut v = Visitor::new(&d.app);
    v.sign_in("wang@ent.test").await;
    let path = format!("/tickets/{}", t.id());
    let page = v.get(&path).await;
    assert_eq!(page.status, 200);
    for text in [
        "受理之日起 5 个工作日",
        "承办部门需要您补充信息",
        "请上传租赁合同",
        "已暂停计时",
        "待您补充材料",
    ] {
        assert!(page.body.contains(text), "{text} missing");
    }
    let action = format!("{path}/actions/provide_info");
    let version = page.field("version");
    let empty = v
        .submit(&path, &action, &[("version", &version), ("note", " ")])
        .await;
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("请填写部门要求补充的信息"));
    let sent = v
        .submit(
            &path,
            &action,
            &[("version", &version), ("note", "合同已上传")],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert_eq!(d.ticket(t.id()).await["status"], "in_progress");
    let page = v.get(&path).await;
    assert!(!page.body.contains("承办部门需要您补充信息"));

    let ext = d.request_extension(&d.official, &t, 3, "需会商").await;
    assert!(
        !v.get(&path).await.body.contains("延期 3 个工作日"),
        "pending is not shown"
    );
    d.decide_extension(&d.admin, &t, &ext, "approve")
        .await
        .expect(200);
    let page = v.get(&path).await;
    assert!(page.body.contains("延期 3 个工作日"), "{}", page.body);
    assert!(page.body.contains("办理期限已延期"));
}
