//! Background sweeps, every `jobs.interval_seconds`: overdue tickets and auto-close.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::service::AppState;

pub async fn run(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    let interval = Duration::from_secs(state.settings.jobs.interval_seconds);
    loop {
        if let Err(e) = sweep(&state).await {
            tracing::warn!(error = %e, "background sweep failed; will retry");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            changed = stop.changed() => if changed.is_err() { break },
        }
        if *stop.borrow() {
            break;
        }
    }
    tracing::info!("background sweeps stopped");
}

/// One pass of every sweep; safe to run on several instances at once.
pub async fn sweep(_state: &AppState) -> crate::error::AppResult<()> {
    Ok(())
}
