//! Collects every field error of a request, so a client fixes them all in one round.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::domain::text::{self, TextFault};
use crate::error::{AppError, AppResult, FieldError, ProblemType};

/// The failures so far, each with its problem type: when all share one specific type (only the
/// password is weak), the answer carries it; a mix is plain `validation`.
#[derive(Default)]
pub struct Checks(Vec<(ProblemType, FieldError)>);

impl Checks {
    pub fn new() -> Checks {
        Checks::default()
    }

    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.fail_as(ProblemType::Validation, field, message);
    }

    pub fn fail_as(&mut self, kind: ProblemType, field: &str, message: impl Into<String>) {
        self.0.push((kind, FieldError::new(field, message)));
    }

    /// Trimmed one-line text (a name, a title) of `min..=max` characters.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) -> String {
        self.sized(field, value, min, max, text::check_line)
    }

    /// Trimmed free text (a description, a message) of `min..=max` characters.
    pub fn prose(&mut self, field: &str, value: &str, min: usize, max: usize) -> String {
        self.sized(field, value, min, max, text::check_prose)
    }

    /// Optional one-line text: empty after trimming counts as absent.
    pub fn optional_text(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
    ) -> Option<String> {
        let value = value.map(str::trim).filter(|v| !v.is_empty())?;
        Some(self.sized(field, value, 1, max, text::check_line))
    }

    /// Optional free text: empty after trimming counts as absent.
    pub fn optional_prose(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
    ) -> Option<String> {
        let value = value.map(str::trim).filter(|v| !v.is_empty())?;
        Some(self.sized(field, value, 1, max, text::check_prose))
    }

    fn sized(
        &mut self,
        field: &str,
        value: &str,
        min: usize,
        max: usize,
        check: fn(&str) -> Result<(), TextFault>,
    ) -> String {
        let value = value.trim();
        let n = value.chars().count();
        if n < min {
            self.fail(
                field,
                if min == 1 {
                    "must not be empty".to_owned()
                } else {
                    format!("must be at least {min} characters")
                },
            );
        } else if n > max {
            self.fail(field, format!("must be at most {max} characters"));
        } else if let Err(fault) = check(value) {
            self.fail(field, fault.message());
        }
        value.to_owned()
    }

    pub fn email(&mut self, field: &str, value: &str) -> String {
        let email = normalize_email(value);
        if let Err(fault) = text::check_line(value.trim()) {
            self.fail(field, fault.message());
        } else if !email.is_ascii() {
            self.fail(
                field,
                "must be written in ASCII letters, like name@example.com (look-alike letters are refused)",
            );
        } else if !is_plausible_email(&email) {
            self.fail(field, "must be an email address like name@example.com");
        }
        email
    }

    pub fn done(self) -> AppResult<()> {
        let Some(&(first, _)) = self.0.first() else {
            return Ok(());
        };
        let kind = if self.0.iter().all(|(k, _)| *k == first) {
            first
        } else {
            ProblemType::Validation
        };
        Err(AppError::Invalid {
            kind,
            errors: self.0.into_iter().map(|(_, e)| e).collect(),
        })
    }
}

/// Emails are unique case-insensitively, so they are stored lower-cased.
pub use crate::domain::text::normalize_email;

pub fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !local.contains('@')
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>(),;:\"[]\\".contains(c))
}

/// Parses `from`/`to` bounds: a local date or an RFC 3339 timestamp, as naive UTC.
pub fn parse_bound(
    field: &str,
    value: &str,
    tz: chrono_tz::Tz,
    end_of_day: bool,
) -> AppResult<NaiveDateTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(crate::store::db::now_micros(t.with_timezone(&Utc)));
    }
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
        AppError::validation(
            field,
            "must be a date (2026-11-01) or an RFC 3339 timestamp",
        )
    })?;
    let date = if end_of_day {
        date.succ_opt().unwrap_or(date)
    } else {
        date
    };
    let local = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    Ok(local
        .and_local_timezone(tz)
        .earliest()
        .map_or(local, |t| t.with_timezone(&Utc).naive_utc()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(normalize_email("  Wang@Example.COM "), "wang@example.com");
        assert!(is_plausible_email("wang@example.com"));
        assert!(is_plausible_email("li.ming+qifu@gov.example.cn"));
        for bad in [
            "",
            "wang",
            "@example.com",
            "wang@",
            "wang@example",
            "wang@@example.com",
            "a b@example.com",
            "a@b..c",
        ] {
            assert!(!is_plausible_email(bad), "{bad}");
        }
    }

    #[test]
    fn collects_every_error() {
        let mut c = Checks::new();
        c.text("name", "  ", 1, 10);
        c.text("title", "abcdefghijkl", 1, 10);
        assert_eq!(c.optional_text("address", Some("   "), 5), None);
        match c.done() {
            Err(AppError::Invalid { kind, errors }) => {
                assert_eq!(kind, ProblemType::Validation);
                assert_eq!(errors.len(), 2);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_specific_type_only_when_every_failure_has_it() {
        let mut c = Checks::new();
        c.fail_as(ProblemType::WeakPassword, "password", "too short");
        assert_eq!(c.done().unwrap_err().kind(), ProblemType::WeakPassword);
        let mut c = Checks::new();
        c.fail_as(ProblemType::WeakPassword, "password", "too short");
        c.fail("name", "must not be empty");
        assert_eq!(c.done().unwrap_err().kind(), ProblemType::Validation);
        assert!(Checks::new().done().is_ok());
    }

    #[test]
    fn bounds_are_local_days() {
        let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
        let from = parse_bound("f", "2026-11-01", tz, false).unwrap();
        assert_eq!(from.to_string(), "2026-10-31 16:00:00");
        let to = parse_bound("t", "2026-11-01", tz, true).unwrap();
        assert_eq!(to.to_string(), "2026-11-01 16:00:00");
        let exact = parse_bound("t", "2026-11-01T08:00:00Z", tz, true).unwrap();
        assert_eq!(exact.to_string(), "2026-11-01 08:00:00");
        assert!(parse_bound("t", "yesterday", tz, false).is_err());
    }
}
