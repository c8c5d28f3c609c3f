//! The command line: `qifu [serve]`, `qifu migrate`, `qifu create-admin`, `qifu seed`,
//! `qifu stats rebuild`.

use std::sync::Arc;

use anyhow::bail;
use clap::{Parser, Subcommand};

use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::domain::role::Role;
use crate::error::{AppError, ProblemType};
use crate::seed::{self, Plan};
use crate::service::AppState;
use crate::service::Db;
use crate::service::auth::create_staff;
use crate::startup::Application;

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
    /// Create the first administrator; the password comes from QIFU_ADMIN_PASSWORD.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
    /// Fill the configured database with a realistic, reproducible history
    /// (or, with --demo, a small friendly one). Every seeded account has one password.
    Seed {
        /// How many tickets, spread over the last year.
        #[arg(long, default_value_t = 10_000)]
        tickets: u64,
        /// How many enterprises file them (default: one per 100 tickets, 20 to 20,000).
        #[arg(long)]
        enterprises: Option<u64>,
        /// The same seed gives the same history.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// A small data set to explore: 3 departments, 4 enterprises, 30 tickets.
        #[arg(long, conflicts_with_all = ["tickets", "enterprises", "seed"])]
        demo: bool,
    },
    /// Statistics maintenance.
    Stats {
        #[command(subcommand)]
        command: StatsCommand,
    },
}

#[derive(Subcommand)]
pub enum StatsCommand {
    /// Recompute the statistics rollups from the tickets, in one transaction, with local days
    /// in the configured stats.time_zone (run it after changing the zone).
    Rebuild,
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
            migrated(&settings).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Seed {
            tickets,
            enterprises,
            seed,
            demo,
        } => {
            let plan = if demo {
                Plan::demo(settings.tickets.clone())
            } else {
                Plan::bulk(tickets, enterprises, seed, settings.tickets.clone())
            };
            seed_history(&settings, plan, demo).await
        }
        Command::Stats {
            command: StatsCommand::Rebuild,
        } => rebuild_rollups(&settings).await,
        Command::CreateAdmin { email, name } => create_admin(settings, &email, &name).await,
    }
}

/// The configured database, with its migrations applied.
async fn migrated(settings: &Settings) -> anyhow::Result<Db> {
    let db = Db::connect(&settings.database)?;
    let migrate = db.clone();
    tokio::task::spawn_blocking(move || migrate.migrate()).await??;
    Ok(db)
}

async fn seed_history(settings: &Settings, plan: Plan, demo: bool) -> anyhow::Result<()> {
    let db = migrated(settings).await?;
    let now = SystemClock.now();
    let started = std::time::Instant::now();
    let report = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut conn = db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
        let bar = seed::progress_bar(!demo);
        seed::run(&mut conn, &plan, now, &bar).map_err(|e| anyhow::anyhow!("{e:?}"))
    })
    .await??;
    println!(
        "seeded {} tickets in {:.1} s",
        report.tickets,
        started.elapsed().as_secs_f64()
    );
    let shown = if demo { report.logins.len() } else { 3 };
    for (role, email, name) in report.logins.iter().take(shown) {
        println!("  {role:<10} {email:<40} {name}");
    }
    if !demo {
        println!(
            "  … and {} more: official<department>-<n>@…, enterprise<n>@…",
            report.logins.len().saturating_sub(shown)
        );
    }
    println!("password for every seeded account: {}", seed::PASSWORD);
    Ok(())
}

async fn rebuild_rollups(settings: &Settings) -> anyhow::Result<()> {
    let tz = settings.time_zone();
    let db = migrated(settings).await?;
    let started = std::time::Instant::now();
    let tickets = crate::service::stats::rebuild_rollups(&db, tz)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    println!(
        "rebuilt the statistics rollups from {tickets} tickets ({}) in {:.1} s",
        tz.name(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn create_admin(settings: Settings, email: &str, name: &str) -> anyhow::Result<()> {
    let password = std::env::var("QIFU_ADMIN_PASSWORD")
        .map_err(|_| anyhow::anyhow!("set QIFU_ADMIN_PASSWORD to the new admin's password"))?;
    let state = offline_state(settings).await?;
    match create_staff(&state, email, name, Role::Admin, None, password).await {
        Ok(user) => {
            println!("created admin {} ({})", user.email, user.id);
            Ok(())
        }
        Err(e) if e.kind() == ProblemType::EmailTaken => {
            bail!("a user with email {email} already exists; nothing changed")
        }
        Err(AppError::Invalid { errors, .. }) => {
            let reasons: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            bail!("refused: {}", reasons.join("; "))
        }
        Err(e) => Err(anyhow::anyhow!("{e:?}")),
    }
}

/// The app state without a server, for commands that run use cases.
async fn offline_state(settings: Settings) -> anyhow::Result<AppState> {
    let db = migrated(&settings).await?;
    let secret = settings.resolve_jwt_secret()?;
    AppState::new(db, settings, Arc::new(SystemClock), &secret)
}
