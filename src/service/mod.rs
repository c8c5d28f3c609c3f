//! Use cases: authorization, validation, and one transaction per change (`Db::write`),
//! composing `store` functions. Handlers call these and nothing below them.

pub mod accounts;
pub mod admin;
pub mod attachments;
pub mod auth;
pub mod calendar;
pub mod console;
pub mod extensions;
pub mod idempotency;
pub mod notify;
pub mod ops;
pub mod page;
pub mod queue;
pub mod quota;
pub mod stats;
pub mod tickets;
pub mod unit;
pub mod validate;
pub mod views;

use std::sync::Arc;

use secrecy::SecretString;

use crate::auth::JwtKeys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::mail::Templates;
use crate::metrics::Metrics;
pub use unit::Db;

/// Everything a use case may depend on, built once at start and shared by the workers.
pub struct AppState {
    pub db: Db,
    pub settings: Settings,
    pub clock: Arc<dyn Clock>,
    pub jwt: JwtKeys,
    pub templates: Arc<Templates>,
    pub notifier: notify::Notifier,
    pub metrics: Metrics,
    /// Where argon2 runs (19 MiB each): a few dedicated threads.
    pub hashing: crate::auth::HashPool,
    /// Verified against when an email is unknown, so that answer takes as long as a wrong password.
    pub dummy_hash: String,
    /// Where attachment bytes are kept.
    pub blobs: crate::blobs::BlobStore,
}

impl AppState {
    pub fn new(
        db: Db,
        settings: Settings,
        clock: Arc<dyn Clock>,
        jwt_secret: &SecretString,
    ) -> anyhow::Result<AppState> {
        let jwt = JwtKeys::new(jwt_secret, &settings.auth.issuer, &settings.auth.audience);
        let blobs = crate::blobs::BlobStore::from_settings(&settings.attachments)?;
        let templates = Arc::new(Templates::new(&settings.mail.default_locale)?);
        let notifier = notify::Notifier {
            templates: templates.clone(),
            public_url: settings.server.public_url.clone(),
            tz: settings.time_zone(),
            auto_close_days: settings.tickets.auto_close_days,
        };
        // Leave a core to everything else during a login storm.
        let threads =
            std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1));
        Ok(AppState {
            db,
            settings,
            clock,
            jwt,
            templates,
            notifier,
            metrics: Metrics::default(),
            hashing: crate::auth::HashPool::new(threads),
            dummy_hash: crate::auth::hash_password(&crate::auth::random_token())?,
            blobs,
        })
    }
}
