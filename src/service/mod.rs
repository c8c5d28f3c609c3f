//! Use cases: authorization, validation, and one transaction per change (`Db::write`),
//! composing `store` functions. Handlers call these and nothing below them.

pub mod ops;

use std::sync::Arc;

use secrecy::SecretString;

use crate::auth::JwtKeys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::mail::Templates;
use crate::metrics::Metrics;
use crate::store::Db;

/// Everything a use case may depend on, built once at start and shared by the workers.
pub struct AppState {
    pub db: Db,
    pub settings: Settings,
    pub clock: Arc<dyn Clock>,
    pub jwt: JwtKeys,
    pub templates: Templates,
    pub metrics: Metrics,
}

impl AppState {
    pub fn new(
        db: Db,
        settings: Settings,
        clock: Arc<dyn Clock>,
        jwt_secret: &SecretString,
    ) -> anyhow::Result<AppState> {
        let jwt = JwtKeys::new(jwt_secret, &settings.auth.issuer, &settings.auth.audience);
        let templates = Templates::new(&settings.mail.default_locale)?;
        Ok(AppState {
            db,
            settings,
            clock,
            jwt,
            templates,
            metrics: Metrics::default(),
        })
    }
}
