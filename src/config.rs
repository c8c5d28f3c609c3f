//! Typed settings: `config/default.toml` → the file in `QIFU_CONFIG` → `QIFU__SECTION__KEY`.
//! Loaded once in `main` and passed down as values.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub auth: AuthSettings,
    pub mail: MailSettings,
    pub tickets: TicketSettings,
    pub jobs: JobSettings,
    pub stats: StatsSettings,
    pub calendar: CalendarSettings,
    pub console: ConsoleSettings,
    pub limits: LimitSettings,
    pub attachments: AttachmentSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub bind: String,
    pub environment: Environment,
    pub body_limit_bytes: usize,
    pub cors_allowed_origins: Vec<String>,
    pub workers: usize,
    pub shutdown_grace_seconds: u64,
    pub public_url: String,
    /// Take the client address from X-Forwarded-For (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub pool_size: u32,
    pub connect_timeout_seconds: u64,
    pub sqlite_busy_timeout_ms: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    pub jwt_secret: Option<SecretString>,
    pub jwt_secret_file: PathBuf,
    pub issuer: String,
    pub audience: String,
    pub access_token_minutes: i64,
    pub refresh_token_days: i64,
    pub password_reset_minutes: i64,
    pub login_max_failures: i32,
    pub login_window_minutes: i64,
    pub login_lockout_seconds: i64,
    /// Failures per account from all addresses together before it locks: higher than the
    /// per-address count, so a stranger needs many guesses to lock someone out.
    pub login_account_max_failures: i32,
    /// New enterprises start `pending` until an admin approves them (turn on in production).
    pub enterprise_review: bool,
    /// Unverified users may not file.
    pub require_email_verification: bool,
    pub email_verification_hours: i64,
    pub invitation_days: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransportKind {
    Smtp,
    File,
    Log,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MailSettings {
    pub transport: MailTransportKind,
    pub file_dir: PathBuf,
    pub smtp_url: SecretString,
    pub from: String,
    pub retry_initial_seconds: i64,
    pub max_attempts: i32,
    pub batch_size: i64,
    pub poll_interval_ms: u64,
    pub lease_seconds: i64,
    pub default_locale: String,
    /// Sent mail is deleted this many days after sending.
    pub retention_days: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TicketSettings {
    pub auto_close_days: u32,
    pub idempotency_hours: i64,
    /// The share of the time from filing to `due_at` after which the assignee is warned.
    pub warn_at_fraction: f64,
    /// Hours after `due_at` at which an open ticket is escalated to the admins.
    pub escalate_after_hours: i64,
}

/// Working-day deadlines end at this local time (in `stats.time_zone`), `HH:MM`.
#[derive(Debug, Clone, Deserialize)]
pub struct CalendarSettings {
    pub workday_end: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct JobSettings {
    pub interval_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StatsSettings {
    pub time_zone: String,
}

/// The web console: session lifetimes and what the page header and footer say about the
/// service's operator (the marks a government site shows are the district's to fill in).
#[derive(Debug, Clone, Deserialize)]
pub struct ConsoleSettings {
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    pub office: String,
    pub office_en: String,
    pub organiser: String,
    pub organiser_en: String,
    pub hotline: String,
    pub icp_record: String,
    pub police_record: String,
    pub site_code: String,
}

/// Quotas against floods (0 turns one off: load tests do).
#[derive(Debug, Clone, Deserialize)]
pub struct LimitSettings {
    /// Registrations per client address per hour.
    pub register_per_hour: i32,
    /// Filings per user per minute.
    pub file_per_minute: i32,
    /// Password-reset, verification and invitation mails per email address per hour.
    pub mail_per_address_per_hour: i32,
}

/// Attachments: where their bytes are kept and how many and how large they may be.
#[derive(Debug, Clone, Deserialize)]
pub struct AttachmentSettings {
    /// `file://<directory>` or `s3://<bucket>/<prefix>`.
    pub store: String,
    pub max_bytes: u64,
    pub max_per_ticket: i64,
    /// Stored objects no row references are removed once they are this old (an upload in
    /// flight has written its object but not yet committed its row).
    pub orphan_grace_minutes: i64,
    pub s3_endpoint: Option<String>,
    pub s3_region: String,
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<SecretString>,
}

const DEFAULTS: &str = include_str!("../config/default.toml");

impl Settings {
    /// Layers the compiled-in defaults, `config/default.toml` in the working directory (so an
    /// operator can edit it), the file named in `QIFU_CONFIG`, then `QIFU__…` variables.
    pub fn load() -> anyhow::Result<Settings> {
        let mut figment = Figment::from(Toml::string(DEFAULTS));
        if Path::new("config/default.toml").exists() {
            figment = figment.merge(Toml::file("config/default.toml"));
        }
        if let Ok(path) = std::env::var("QIFU_CONFIG") {
            if !Path::new(&path).exists() {
                bail!("QIFU_CONFIG names {path}, which does not exist");
            }
            figment = figment.merge(Toml::file(path));
        }
        Self::extract(figment.merge(Env::prefixed("QIFU__").split("__")))
    }

    /// Defaults plus explicit overrides (tests build their settings this way).
    pub fn with_overrides<T: Serialize>(overrides: T) -> anyhow::Result<Settings> {
        Self::extract(Figment::from(Toml::string(DEFAULTS)).merge(Serialized::defaults(overrides)))
    }

    fn extract(figment: Figment) -> anyhow::Result<Settings> {
        let settings: Settings = figment.extract().context("invalid configuration")?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.database.pool_size == 0 {
            bail!("database.pool_size must be at least 1");
        }
        if self.mail.max_attempts < 1 || self.mail.retry_initial_seconds < 1 {
            bail!("mail.max_attempts and mail.retry_initial_seconds must be at least 1");
        }
        if self.console.session_idle_minutes < 1 || self.console.session_absolute_hours < 1 {
            bail!("console.session_idle_minutes and session_absolute_hours must be at least 1");
        }
        let l = &self.limits;
        if l.register_per_hour < 0 || l.file_per_minute < 0 || l.mail_per_address_per_hour < 0 {
            bail!("limits.* must be 0 (off) or more");
        }
        if self.attachments.max_bytes == 0 || self.attachments.max_per_ticket < 1 {
            bail!("attachments.max_bytes and attachments.max_per_ticket must be at least 1");
        }
        if self.attachments.orphan_grace_minutes < 1 {
            bail!("attachments.orphan_grace_minutes must be at least 1");
        }
        if self.jobs.interval_seconds == 0 {
            bail!("jobs.interval_seconds must be at least 1");
        }
        self.stats
            .time_zone
            .parse::<chrono_tz::Tz>()
            .map_err(|e| anyhow::anyhow!("stats.time_zone: {e}"))?;
        chrono::NaiveTime::parse_from_str(&self.calendar.workday_end, "%H:%M")
            .map_err(|e| anyhow::anyhow!("calendar.workday_end must be HH:MM: {e}"))?;
        if !(self.tickets.warn_at_fraction > 0.0 && self.tickets.warn_at_fraction < 1.0) {
            bail!("tickets.warn_at_fraction must lie between 0 and 1");
        }
        if self.tickets.escalate_after_hours < 0 {
            bail!("tickets.escalate_after_hours must not be negative");
        }
        if self.environment() == Environment::Production {
            if self.auth.jwt_secret.is_none() {
                bail!("server.environment = production requires auth.jwt_secret");
            }
            if self.mail.transport != MailTransportKind::Smtp {
                bail!("server.environment = production requires mail.transport = smtp");
            }
        }
        if let Some(secret) = &self.auth.jwt_secret
            && secret.expose_secret().len() < 32
        {
            bail!("auth.jwt_secret must be at least 32 characters");
        }
        Ok(())
    }

    pub fn environment(&self) -> Environment {
        self.server.environment
    }

    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.stats
            .time_zone
            .parse()
            .unwrap_or(chrono_tz::Asia::Shanghai)
    }

    pub fn workday_end(&self) -> chrono::NaiveTime {
        chrono::NaiveTime::parse_from_str(&self.calendar.workday_end, "%H:%M")
            .unwrap_or(chrono::NaiveTime::MIN)
    }

    /// The configured JWT secret, or one generated once and kept in `auth.jwt_secret_file`.
    pub fn resolve_jwt_secret(&self) -> anyhow::Result<SecretString> {
        if let Some(secret) = &self.auth.jwt_secret {
            return Ok(secret.clone());
        }
        let path = &self.auth.jwt_secret_file;
        if let Ok(existing) = std::fs::read_to_string(path) {
            let existing = existing.trim().to_owned();
            if existing.len() >= 32 {
                return Ok(SecretString::from(existing));
            }
        }
        tracing::warn!(
            path = %path.display(),
            "no auth.jwt_secret configured: generated one and stored it in this file; \
             set QIFU__AUTH__JWT_SECRET when running more than one instance"
        );
        let secret = crate::auth::random_token();
        if let Some(parent) = path.parent() {
            crate::files::private_dir(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        crate::files::write_private(path, &secret)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(SecretString::from(secret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_serve_a_newcomer() {
        let s = Settings::with_overrides(serde_json::json!({})).unwrap();
        assert_eq!(s.server.bind, "127.0.0.1:8080");
        assert_eq!(s.database.url.expose_secret(), "sqlite://data/qifu.db");
        assert_eq!(s.mail.transport, MailTransportKind::File);
        assert_eq!(s.tickets.auto_close_days, 7);
        assert_eq!(s.jobs.interval_seconds, 60);
        assert_eq!(s.server.body_limit_bytes, 1024 * 1024);
        assert_eq!(s.attachments.store, "file://data/attachments");
        assert_eq!(s.attachments.max_bytes, 20 * 1024 * 1024);
        assert_eq!(s.attachments.max_per_ticket, 30);
    }

    #[test]
    fn production_requires_secret_and_smtp() {
        let err =
            Settings::with_overrides(serde_json::json!({"server": {"environment": "production"}}))
                .unwrap_err();
        assert!(err.to_string().contains("jwt_secret"), "{err}");
        let err = Settings::with_overrides(serde_json::json!({
            "server": {"environment": "production"},
            "auth": {"jwt_secret": "x".repeat(40)}
        }))
        .unwrap_err();
        assert!(err.to_string().contains("smtp"), "{err}");
        Settings::with_overrides(serde_json::json!({
            "server": {"environment": "production"},
            "auth": {"jwt_secret": "x".repeat(40)},
            "mail": {"transport": "smtp"}
        }))
        .unwrap();
    }

    #[test]
    fn short_secret_and_bad_time_zone_are_refused() {
        assert!(
            Settings::with_overrides(serde_json::json!({"auth": {"jwt_secret": "short"}})).is_err()
        );
        assert!(
            Settings::with_overrides(serde_json::json!({"stats": {"time_zone": "Mars/Base"}}))
                .is_err()
        );
        for bad in [
            serde_json::json!({"calendar": {"workday_end": "6pm"}}),
            serde_json::json!({"tickets": {"warn_at_fraction": 1.0}}),
            serde_json::json!({"tickets": {"warn_at_fraction": 0.0}}),
            serde_json::json!({"tickets": {"escalate_after_hours": -1}}),
        ] {
            assert!(Settings::with_overrides(&bad).is_err(), "{bad}");
        }
        let s = Settings::with_overrides(serde_json::json!({})).unwrap();
        assert_eq!(s.workday_end().to_string(), "18:00:00");
        assert_eq!(s.tickets.warn_at_fraction, 0.8);
        assert_eq!(s.tickets.escalate_after_hours, 24);
    }

    #[test]
    fn generated_secret_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sub/jwt_secret");
        let s = Settings::with_overrides(serde_json::json!({"auth": {"jwt_secret_file": file}}))
            .unwrap();
        let first = s.resolve_jwt_secret().unwrap();
        let second = s.resolve_jwt_secret().unwrap();
        assert_eq!(first.expose_secret(), second.expose_secret());
        assert!(first.expose_secret().len() >= 32);
    }
}
