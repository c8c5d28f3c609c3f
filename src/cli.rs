//! The command line: `qifu [serve]`, `qifu migrate`, `qifu create-admin`, `qifu seed`.

use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::clock::SystemClock;
use crate::config::Settings;
use crate::startup::Application;
use crate::store::Db;

#[derive(Parser)]
#[command(
    name = "qifu",
    version,
    about = "Qifu 企服: enterprise service ticketing backend"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP server with the mail dispatcher and background sweeps (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load()?;
    crate::telemetry::init(&settings.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(settings, Arc::new(SystemClock)).await?;
            tracing::info!(port = app.port(), "qifu listening");
            app.run_until_stopped().await
        }
        Command::Migrate => {
            let db = Db::connect(&settings.database)?;
            tokio::task::spawn_blocking(move || db.migrate()).await??;
            tracing::info!("migrations applied");
            Ok(())
        }
    }
}
