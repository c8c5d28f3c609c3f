//! Statistics against a history built by hand through the API, every figure worked out below.
//!
//! The clock is set to T0 = 2027-03-01T00:00:00Z, a Monday, 08:00 in Asia/Shanghai. Nine
//! tickets (C1: 24 h SLA in D1 "税务服务" with official O1; C2: 48 h in D2 with O2; C3: 720 h in
//! D3, which has no official):
//!
//! | t  | cat | by | created | accepted | resolved (last) | due    | end state                       |
//! |----|-----|----|---------|----------|-----------------|--------|---------------------------------|
//! | t1 | C1  | E1 | T0      | +1h      | +2h             | +24h   | closed, rated 5 at +5h          |
//! | t2 | C1  | E1 | T0      | +1h      | +4h, reopened +5h, +10h | +24h | closed, rated 2 at +11h; site visit |
//! | t3 | C2  | E2 | T0      | +1h      | +4h             | +48h   | auto-closed at +8d (unrated)    |
//! | t4 | C2  | E1 | T0      | +2h      | +8d (192h)      | +48h, extended 5 working days to +9d | resolved (on time); site visit |
//! | t5 | C1  | E2 | T0      | –        | –               | +24h   | cancelled at +4h                |
//! | t6 | C1  | E1 | T0      | –        | –               | +24h   | assigned, overdue               |
//! | t7 | C1 urgent | E1 | T0 | +1h      | +20h            | +12h   | closed by admin at +21h (late)  |
//! | t8 | C2  | E2 | +8d     | +8d+1h   | –               | +10d   | awaiting the enterprise         |
//! | t9 | C3  | E1 | T0      | –        | –               | +30d   | submitted (no official)         |
//!
//! "Now" at the end is T0 + 8d + 1h.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::helpers::{Desk, Id, Session, TestApp};

struct Fixture {
    app: TestApp,
    admin: Session,
    o1: Session,
    d1: String,
    d2: String,
    d3: String,
    c3: String,
}

/// An urgent filing; the others are normal.
async fn file_urgent(app: &TestApp, who: &Session, category: &str) -> Value {
    let body = json!({"title": "需要帮助", "description": "details", "category_id": category,
                      "priority": "urgent"});
    app.file_ticket_with(who, body).await
}

async fn site_visit(app: &TestApp, who: &Session, ticket: &Value) {
    let body = json!({"body": "visited the site", "kind": "site_visit"});
    app.comment(who, ticket, body).await.expect(201);
}

async fn fixture() -> Fixture {
    let app = TestApp::spawn().await;
    let admin = app.with_admin("admin@example.com").await;
    let Desk {
        department: d1,
        category: c1,
        officials: mut o1,
    } = app
        .with_desk(&admin, "税务服务", "Tax", 24, &["o1@example.com"])
        .await;
    let Desk {
        department: d2,
        category: c2,
        officials: mut o2,
    } = app
        .with_desk(&admin, "Permits", "Permit", 48, &["o2@example.com"])
        .await;
    let (o1, o2) = (o1.remove(0), o2.remove(0));
    let desk3 = app.with_desk(&admin, "Archive", "Records", 720, &[]).await;
    let (d3, c3) = (desk3.department, desk3.category);
    let e1 = app.with_enterprise(0, "e1@example.com").await;
    let e2 = app.with_enterprise(1, "e2@example.com").await;

    let t0: DateTime<Utc> = "2027-03-01T00:00:00Z".parse().unwrap();
    app.clock.advance(t0 - Utc::now());
    let t1 = app.file_ticket(&e1, "需要帮助", &c1).await;
    let t2 = app.file_ticket(&e1, "需要帮助", &c1).await;
    let t3 = app.file_ticket(&e2, "需要帮助", &c2).await;
    let t4 = app.file_ticket(&e1, "需要帮助", &c2).await;
    let t5 = app.file_ticket(&e2, "需要帮助", &c1).await;
    let _t6 = app.file_ticket(&e1, "需要帮助", &c1).await;
    let t7 = file_urgent(&app, &e1, &c1).await;
    let _t9 = app.file_ticket(&e1, "需要帮助", &c3).await;

    app.advance_hours(1); // T0+1h
    for t in [&t1, &t2, &t7] {
        app.act(&o1, t, "accept", json!({})).await.expect(200);
    }
    app.act(&o2, &t3, "accept", json!({})).await.expect(200);
    app.advance_hours(1); // T0+2h
    app.act(&o1, &t1, "resolve", json!({"resolution": "done"}))
        .await
        .expect(200);
    app.act(&o2, &t4, "accept", json!({})).await.expect(200);
    // 延期: Wed Mar 3 08:00 local plus five working days is Wed Mar 10 08:00.
    let ext = app.request_extension(&o2, &t4, 5, "lab test").await;
    app.decide_extension(&admin, &t4, &ext, "approve")
        .await
        .expect(200);
    app.advance_hours(2); // T0+4h
    app.act(&o1, &t2, "resolve", json!({"resolution": "done"}))
        .await
        .expect(200);
    app.act(&o2, &t3, "resolve", json!({"resolution": "done"}))
        .await
        .expect(200);
    app.act(&e2, &t5, "cancel", json!({})).await.expect(200);
    app.advance_hours(1); // T0+5h
    app.act(&e1, &t1, "confirm", json!({"rating": 5}))
        .await
        .expect(200);
    app.act(&e1, &t2, "reopen", json!({"note": "still broken"}))
        .await
        .expect(200);
    app.advance_hours(1); // T0+6h
    site_visit(&app, &o1, &t2).await;
    site_visit(&app, &o2, &t4).await;
    app.advance_hours(4); // T0+10h
    app.act(&o1, &t2, "resolve", json!({"resolution": "fixed"}))
        .await
        .expect(200);
    app.advance_hours(1); // T0+11h
    app.act(&e1, &t2, "confirm", json!({"rating": 2}))
        .await
        .expect(200);
    app.advance_hours(9); // T0+20h
    app.act(&o1, &t7, "resolve", json!({"resolution": "done"}))
        .await
        .expect(200);
    app.advance_hours(1); // T0+21h
    app.act(&admin, &t7, "close", json!({"note": "closing"}))
        .await
        .expect(200);
    app.advance_hours(8 * 24 - 21); // T0+8d: t3 has waited 7 days resolved
    app.run_jobs().await;
    app.act(&o2, &t4, "resolve", json!({"resolution": "late"}))
        .await
        .expect(200);
    let t8 = app.file_ticket(&e2, "需要帮助", &c2).await;
    app.advance_hours(1); // T0+8d+1h
    app.act(&o2, &t8, "accept", json!({})).await.expect(200);
    app.act(&o2, &t8, "request_info", json!({"note": "which licence?"}))
        .await
        .expect(200);

    Fixture {
        app,
        admin,
        o1,
        d1,
        d2,
        d3,
        c3,
    }
}

fn distribution(counts: [i64; 5]) -> Value {
    json!({"1": counts[0], "2": counts[1], "3": counts[2], "4": counts[3], "5": counts[4]})
}

fn empty_metrics() -> Value {
    json!({
        "total": 0,
        "by_status": {"submitted": 0, "assigned": 0, "in_progress": 0, "resolved": 0,
                      "closed": 0, "cancelled": 0, "awaiting_enterprise": 0},
        "resolved": 0, "closed": 0, "cancelled": 0,
        "resolution_rate": null, "on_time_rate": null,
        "avg_first_response_hours": null, "avg_resolution_hours": null,
        "median_resolution_hours": null, "p90_resolution_hours": null,
        "rated": 0, "satisfaction_avg": null, "satisfaction_distribution": distribution([0; 5]),
        "reopen_rate": null, "overdue_open": 0, "site_visits": 0,
        "extended": 0, "extension_rate": null,
        "response_rate": null, "satisfaction_rate": null
    })
}

#[tokio::test]
async fn figures_match_a_hand_built_history() {
    let f = fixture().await;
    let (app, admin) = (&f.app, &f.admin);

    // Resolution hours of t1, t2, t3, t4, t7: 2, 10, 4, 192, 20 → sorted 2, 4, 10, 20, 192.
    // Median: rank 0.5·4 = 2 → 10. p90: rank 3.6 → 20 + 0.6·(192 − 20) = 123.2.
    let summary = app.get("/stats/summary", admin.t()).await.expect(200);
    assert_eq!(
        summary.body,
        json!({
            "total": 9,
            "by_status": {"submitted": 1, "assigned": 1, "in_progress": 0, "resolved": 1,
                          "closed": 4, "cancelled": 1, "awaiting_enterprise": 1},
            "resolved": 1, "closed": 4, "cancelled": 1,
            "resolution_rate": 0.625,          // (1 + 4) / (9 − 1)
            "on_time_rate": 0.8,               // t1, t2, t3, t4 (extended) of the five
            "avg_first_response_hours": 1.17,  // (1+1+1+2+1+1) / 6
            "avg_resolution_hours": 45.6,      // 228 / 5
            "median_resolution_hours": 10.0,
            "p90_resolution_hours": 123.2,
            "rated": 2,                        // t3 auto-closed and t7 admin-closed: unrated
            "satisfaction_avg": 3.5,
            "satisfaction_distribution": distribution([0, 1, 0, 0, 1]),
            "reopen_rate": 0.2,                // t2 of t1, t2, t3, t4, t7
            "overdue_open": 1,                 // t6
            "site_visits": 2,
            "extended": 1,                     // t4
            "extension_rate": 0.1111,
            "response_rate": 0.75,             // t1, t2, t3, t4, t7, t8 of 9 − 1
            "satisfaction_rate": 0.5           // t1's 5 of t1's 5 and t2's 2
        })
    );

    // Filters: a department, a category, a date range (inclusive local days), an empty set.
    let d2 = app
        .get(&format!("/stats/summary?department_id={}", f.d2), admin.t())
        .await
        .expect(200);
    assert_eq!(d2.body["total"], 3);
    let c3 = app
        .get(&format!("/stats/summary?category_id={}", f.c3), admin.t())
        .await
        .expect(200);
    assert_eq!(c3.body["by_status"]["submitted"], 1);
    assert_eq!(c3.body["total"], 1);
    let first_day = app
        .get("/stats/summary?from=2027-03-01&to=2027-03-01", admin.t())
        .await
        .expect(200);
    assert_eq!(first_day.body["total"], 8);
    let last_day = app
        .get("/stats/summary?from=2027-03-09", admin.t())
        .await
        .expect(200);
    assert_eq!(last_day.body["total"], 1);
    assert_eq!(last_day.body["avg_first_response_hours"], 1.0);
    assert_eq!(last_day.body["resolution_rate"], 0.0);
    assert_eq!(last_day.body["on_time_rate"], Value::Null);
    let nothing = app
        .get("/stats/summary?from=2030-01-01", admin.t())
        .await
        .expect(200);
    assert_eq!(nothing.body, empty_metrics());

    // By department: D1 = t1, t2, t5, t6, t7; D2 = t3, t4, t8; D3 = t9. Largest first.
    let by_department = app
        .get("/stats/breakdown?by=department", admin.t())
        .await
        .expect(200);
    let items = by_department.items();
    assert_eq!(items.len(), 3);
    assert_eq!(
        items[0],
        json!({
            "key": f.d1, "label": "税务服务",
            "total": 5,
            "by_status": {"submitted": 0, "assigned": 1, "in_progress": 0, "resolved": 0,
                          "closed": 3, "cancelled": 1, "awaiting_enterprise": 0},
            "resolved": 0, "closed": 3, "cancelled": 1,
            "resolution_rate": 0.75,           // 3 / (5 − 1)
            "on_time_rate": 0.6667,            // t1, t2 of t1, t2, t7
            "avg_first_response_hours": 1.0,
            "avg_resolution_hours": 10.67,     // (2 + 10 + 20) / 3
            "median_resolution_hours": 10.0,
            "p90_resolution_hours": 18.0,      // rank 1.8 → 10 + 0.8·10
            "rated": 2,
            "satisfaction_avg": 3.5,
            "satisfaction_distribution": distribution([0, 1, 0, 0, 1]),
            "reopen_rate": 0.3333,
            "overdue_open": 1,
            "site_visits": 1,
            "extended": 0,
            "extension_rate": 0.0,
            "response_rate": 0.75,             // t1, t2, t7 of 5 − 1
            "satisfaction_rate": 0.5
        })
    );
    assert_eq!(
        items[1],
        json!({
            "key": f.d2, "label": "Permits",
            "total": 3,
            "by_status": {"submitted": 0, "assigned": 0, "in_progress": 0, "resolved": 1,
                          "closed": 1, "cancelled": 0, "awaiting_enterprise": 1},
            "resolved": 1, "closed": 1, "cancelled": 0,
            "resolution_rate": 0.6667,
            "on_time_rate": 1.0,               // t3, and t4 by its extended deadline
            "avg_first_response_hours": 1.33,  // (1 + 2 + 1) / 3
            "avg_resolution_hours": 98.0,      // (4 + 192) / 2
            "median_resolution_hours": 98.0,
            "p90_resolution_hours": 173.2,     // 4 + 0.9·188
            "rated": 0,
            "satisfaction_avg": null,
            "satisfaction_distribution": distribution([0; 5]),
            "reopen_rate": 0.0,
            "overdue_open": 0,
            "site_visits": 1,
            "extended": 1,
            "extension_rate": 0.3333,
            "response_rate": 1.0,
            "satisfaction_rate": null
        })
    );
    let mut d3 = empty_metrics();
    d3["key"] = json!(f.d3);
    d3["label"] = json!("Archive");
    d3["total"] = json!(1);
    d3["by_status"]["submitted"] = json!(1);
    d3["resolution_rate"] = json!(0.0);
    d3["extension_rate"] = json!(0.0);
    d3["response_rate"] = json!(0.0);
    assert_eq!(items[2], d3);

    // By official: t9 has none, and is grouped as unassigned.
    let by_official = app
        .get("/stats/breakdown?by=official", admin.t())
        .await
        .expect(200);
    let shape: Vec<(Value, Value, Value)> = by_official
        .items()
        .iter()
        .map(|i| (i["key"].clone(), i["label"].clone(), i["total"].clone()))
        .collect();
    assert_eq!(
        shape,
        vec![
            (json!(f.o1.id()), json!("Official o1@example.com"), json!(5)),
            (
                by_official.body["items"][1]["key"].clone(),
                json!("Official o2@example.com"),
                json!(3)
            ),
            (Value::Null, json!("unassigned"), json!(1)),
        ]
    );
    let by_enterprise = app
        .get("/stats/breakdown?by=enterprise", admin.t())
        .await
        .expect(200);
    assert_eq!(by_enterprise.body["items"][0]["label"], "Enterprise 0");
    assert_eq!(by_enterprise.body["items"][0]["total"], 6);
    let by_category = app
        .get("/stats/breakdown?by=category", admin.t())
        .await
        .expect(200);
    assert_eq!(by_category.body["items"][0]["label"], "Tax");

    // Trend per local day, Mar 1 (first ticket) to Mar 9 (now), empty days included.
    // Resolved by the last resolved_at: t1 10:00, t3 12:00, t2 18:00 on Mar 1, t7 04:00 on
    // Mar 2, t4 08:00 on Mar 9. Closed: t1, t2 on Mar 1, t7 on Mar 2, t3 (auto) on Mar 9.
    let day = app.get("/stats/trend", admin.t()).await.expect(200);
    let mut expected = vec![
        json!({"period_start": "2027-03-01", "created": 8, "resolved": 3, "closed": 2}),
        json!({"period_start": "2027-03-02", "created": 0, "resolved": 1, "closed": 1}),
    ];
    for d in 3..=8 {
        expected.push(
            json!({"period_start": format!("2027-03-0{d}"), "created": 0,
                             "resolved": 0, "closed": 0}),
        );
    }
    expected.push(json!({"period_start": "2027-03-09", "created": 1, "resolved": 1, "closed": 1}));
    assert_eq!(day.body, json!({"items": expected}));
    let week = app
        .get("/stats/trend?interval=week", admin.t())
        .await
        .expect(200);
    assert_eq!(
        week.body,
        json!({"items": [
            {"period_start": "2027-03-01", "created": 8, "resolved": 4, "closed": 3},
            {"period_start": "2027-03-08", "created": 1, "resolved": 1, "closed": 1}
        ]})
    );
    let month = app
        .get("/stats/trend?interval=month", admin.t())
        .await
        .expect(200);
    assert_eq!(
        month.body,
        json!({"items": [{"period_start": "2027-03-01", "created": 9, "resolved": 5, "closed": 4}]})
    );
    // An explicit range: its days, even before the first ticket; events after `to` fall
    // outside the series.
    let range = app
        .get("/stats/trend?from=2027-02-27&to=2027-03-02", admin.t())
        .await
        .expect(200);
    assert_eq!(
        range.body,
        json!({"items": [
            {"period_start": "2027-02-27", "created": 0, "resolved": 0, "closed": 0},
            {"period_start": "2027-02-28", "created": 0, "resolved": 0, "closed": 0},
            {"period_start": "2027-03-01", "created": 8, "resolved": 3, "closed": 2},
            {"period_start": "2027-03-02", "created": 0, "resolved": 1, "closed": 1}
        ]})
    );
    let none = app
        .get("/stats/trend?department_id=nothing-here", admin.t())
        .await
        .expect(200);
    assert_eq!(none.body, json!({"items": []}));

    // CSV: BOM, header, the same values; an empty cell for null.
    let csv = app
        .get(
            "/stats/summary?format=csv&from=2027-03-01&to=2027-03-31",
            admin.t(),
        )
        .await
        .expect(200);
    assert_eq!(
        csv.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(
        csv.header("content-disposition").as_deref(),
        Some("attachment; filename=\"qifu-stats-summary-2027-03-01-2027-03-31.csv\"")
    );
    let text = csv.body.as_str().unwrap();
    let text = text
        .strip_prefix('\u{feff}')
        .expect("a UTF-8 byte-order mark");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        vec![
            "total,status_submitted,status_assigned,status_in_progress,status_resolved,\
             status_closed,status_cancelled,resolved,closed,cancelled,resolution_rate,\
             on_time_rate,avg_first_response_hours,avg_resolution_hours,\
             median_resolution_hours,p90_resolution_hours,rated,satisfaction_avg,\
             satisfaction_1,satisfaction_2,satisfaction_3,satisfaction_4,satisfaction_5,\
             reopen_rate,overdue_open,site_visits,status_awaiting_enterprise,extended,\
             extension_rate,response_rate,satisfaction_rate",
            "9,1,1,0,1,4,1,1,4,1,0.625,0.8,1.17,45.6,10,123.2,2,3.5,0,1,0,0,1,0.2,1,2,1,1,0.1111,\
             0.75,0.5",
        ]
    );
    let csv = app
        .get("/stats/breakdown?by=department&format=csv", admin.t())
        .await
        .expect(200);
    assert_eq!(
        csv.header("content-disposition").as_deref(),
        Some("attachment; filename=\"qifu-stats-breakdown-department-all-now.csv\"")
    );
    let text = csv.body.as_str().unwrap().trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].starts_with("key,label,total,"));
    assert_eq!(
        lines[3],
        format!(
            "{},Archive,1,1,0,0,0,0,0,0,0,0,0,,,,,,0,,0,0,0,0,0,,0,0,0,0,0,0,",
            f.d3
        )
    );
    assert!(lines[1].starts_with(&format!("{},税务服务,5,", f.d1)));
    let csv = app
        .get("/stats/trend?interval=month&format=csv", admin.t())
        .await
        .expect(200);
    let text = csv.body.as_str().unwrap().trim_start_matches('\u{feff}');
    assert_eq!(
        text,
        "period_start,created,resolved,closed\n2027-03-01,9,5,4\n"
    );
}

#[tokio::test]
async fn who_may_see_which_figures() {
    let app = TestApp::spawn().await;
    let admin = app.with_admin("admin@example.com").await;
    let one = app
        .with_desk(&admin, "One", "C1", 24, &["o1@example.com"])
        .await;
    let two = app.with_desk(&admin, "Two", "C2", 24, &[]).await;
    let (d1, d2, o1) = (&one.department, &two.department, &one.officials[0]);
    let (c1, c2) = (&one.category, &two.category);
    let e1 = app.with_enterprise(0, "e1@example.com").await;
    app.file_ticket(&e1, "需要帮助", c1).await;
    app.file_ticket(&e1, "需要帮助", c2).await;
    app.file_ticket(&e1, "需要帮助", c2).await;

    for path in [
        "/stats/summary",
        "/stats/breakdown?by=category",
        "/stats/trend",
    ] {
        app.get(path, None).await.problem(401, "unauthorized");
        app.get(path, e1.t()).await.problem(403, "forbidden");
        let own = app.get(path, o1.t()).await.expect(200);
        let all = app.get(path, admin.t()).await.expect(200);
        assert_ne!(own.body, all.body, "{path}");
        let sep = if path.contains('?') { '&' } else { '?' };
        app.get(&format!("{path}{sep}department_id={d2}"), o1.t())
            .await
            .problem(403, "forbidden");
        app.get(&format!("{path}{sep}department_id={d1}"), o1.t())
            .await
            .expect(200);
    }
    let own = app.get("/stats/summary", o1.t()).await.expect(200);
    assert_eq!(own.body["total"], 1);
    let all = app.get("/stats/summary", admin.t()).await.expect(200);
    assert_eq!(all.body["total"], 3);

    for (path, field) in [
        ("/stats/breakdown", "by"),
        ("/stats/breakdown?by=weather", "by"),
        ("/stats/trend?interval=year", "interval"),
        ("/stats/summary?format=xml", "format"),
        ("/stats/summary?from=yesterday", "from"),
        ("/stats/trend?to=2027-13-01", "to"),
        ("/stats/summary?from=2027-03-02&to=2027-03-01", "to"),
        ("/stats/trend?from=1990-01-01&to=2027-01-01", "interval"),
    ] {
        let r = app
            .get(path, admin.t())
            .await
            .problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], field, "{path}");
    }
}
