//! `qifu seed` writes histories the app itself could have made: every timeline follows the
//! transition rules, rows agree with their timelines, and the statistics and workloads read
//! them as they read live tickets.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use qifu::seed::{self, Plan};

use super::helpers::TestApp;

#[derive(QueryableByName, Debug)]
struct Step {
    #[diesel(sql_type = Text)]
    ticket: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    version: i64,
    #[diesel(sql_type = Nullable<Text>)]
    from_status: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    to_status: Option<String>,
}

#[derive(QueryableByName, Debug)]
struct Load {
    #[diesel(sql_type = BigInt)]
    stored: i64,
    #[diesel(sql_type = BigInt)]
    counted: i64,
}

const TICKETS: u64 = 600;

#[actix_web::test]
async fn seeded_histories_follow_the_rules_and_read_like_live_ones() {
    let app = TestApp::spawn().await;
    let rules = app.state.settings.tickets.clone();
    let now = chrono::Utc::now().naive_utc();
    let report = app
        .state
        .db
        .run(move |conn| {
            seed::run(
                conn,
                &Plan::demo(rules.clone()),
                now,
                &seed::progress_bar(false),
            )?;
            seed::run(
                conn,
                &Plan::bulk(TICKETS, Some(40), 11, rules),
                now,
                &seed::progress_bar(false),
            )
        })
        .await
        .expect("seeding");
    assert_eq!(report.tickets, TICKETS);

    let (steps, loads) = app
        .state
        .db
        .run(|conn| {
            let steps: Vec<Step> = diesel::sql_query(
                "SELECT t.id AS ticket, t.status AS status, CAST(t.version AS BIGINT) AS version, \
                        e.from_status AS from_status, e.to_status AS to_status \
                 FROM tickets t JOIN ticket_events e ON e.ticket_id = t.id \
                 WHERE e.to_status IS NOT NULL ORDER BY t.id, e.created_at, e.id",
            )
            .load(conn)?;
            let loads: Vec<Load> = diesel::sql_query(
                "SELECT CAST(u.open_tickets AS BIGINT) AS stored, \
                   (SELECT COUNT(*) FROM tickets t WHERE t.assignee_id = u.id \
                      AND t.status IN ('assigned', 'in_progress', 'awaiting_enterprise')) AS counted \
                 FROM users u WHERE u.role = 'official'",
            )
            .load(conn)?;
            Ok((steps, loads))
        })
        .await
        .unwrap();

    let mut timelines: Vec<Vec<&Step>> = Vec::new();
    for step in &steps {
        match timelines.last_mut() {
            Some(t) if t[0].ticket == step.ticket => t.push(step),
            _ => timelines.push(vec![step]),
        }
    }
    assert_eq!(
        timelines.len() as u64,
        TICKETS + 30,
        "every ticket has a timeline"
    );
    let mut statuses = std::collections::BTreeSet::new();
    for timeline in &timelines {
        assert_eq!(timeline[0].from_status, None, "{timeline:?}");
        assert_eq!(timeline[0].to_status.as_deref(), Some("submitted"));
        for pair in timeline.windows(2) {
            assert_eq!(pair[1].from_status, pair[0].to_status, "{timeline:?}");
        }
        let last = timeline.last().unwrap();
        assert_eq!(
            last.to_status.as_deref(),
            Some(last.status.as_str()),
            "{timeline:?}"
        );
        assert_eq!(
            last.version,
            timeline.len() as i64,
            "one version per change"
        );
        statuses.insert(last.status.clone());
    }
    for status in ["resolved", "assigned", "in_progress", "closed", "cancelled"] {
        assert!(statuses.contains(status), "{status} among {statuses:?}");
    }
    assert!(loads.iter().any(|l| l.counted > 0));
    for load in &loads {
        assert_eq!(
            load.stored, load.counted,
            "open_tickets as the triggers keep it"
        );
    }

    let admin = app.login("admin@seed.qifu.example", seed::PASSWORD).await;
    let summary = app.get("/stats/summary", admin.t()).await.expect(200);
    assert_eq!(
        summary.body["total"],
        TICKETS + 30,
        "the demo's and the bulk seed's"
    );
    assert!(summary.body["rated"].as_u64().unwrap() > 0);
    assert!(summary.body["site_visits"].as_u64().unwrap() > 0);
}
