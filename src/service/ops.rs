//! Readiness and the gauges sampled at scrape time.

use super::AppState;
use crate::domain::outbox::OutboxStatus;
use crate::error::AppResult;
use crate::metrics::{StateLabel, StatusLabel};
use crate::store::outbox;

pub async fn ready(state: &AppState) -> AppResult<()> {
    state.db.ping(std::time::Duration::from_secs(2)).await
}

/// Refreshes the pool and outbox gauges, then renders every metric.
pub async fn render_metrics(state: &AppState) -> String {
    let (connections, idle) = state.db.pool_state();
    let m = &state.metrics;
    m.pool
        .get_or_create(&StateLabel {
            state: "in_use".into(),
        })
        .set(i64::from(connections - idle));
    m.pool
        .get_or_create(&StateLabel {
            state: "idle".into(),
        })
        .set(i64::from(idle));
    match state
        .db
        .run(|conn| Ok(outbox::count_by_status(conn)?))
        .await
    {
        Ok(counts) => {
            for status in OutboxStatus::ALL {
                let n = counts
                    .iter()
                    .find(|(s, _)| *s == status)
                    .map_or(0, |(_, n)| *n);
                m.outbox
                    .get_or_create(&StatusLabel {
                        status: status.as_str().into(),
                    })
                    .set(n);
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not count the outbox for /metrics"),
    }
    m.encode()
}
