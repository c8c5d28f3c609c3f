//! Outgoing mail: templates compiled into the binary, composed into outbox rows by the
//! services, delivered by the dispatcher.

pub mod dispatcher;
pub mod transport;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::store::outbox::NewMail;

const TEMPLATES: &[(&str, &str)] = &[
    (
        "layout.html",
        include_str!("../../templates/mail/layout.html"),
    ),
    (
        "password_reset.zh-CN",
        include_str!("../../templates/mail/password_reset.zh-CN.j2"),
    ),
    (
        "password_reset.en",
        include_str!("../../templates/mail/password_reset.en.j2"),
    ),
    (
        "ticket_event.zh-CN",
        include_str!("../../templates/mail/ticket_event.zh-CN.j2"),
    ),
    (
        "ticket_event.en",
        include_str!("../../templates/mail/ticket_event.en.j2"),
    ),
    (
        "verify_email.zh-CN",
        include_str!("../../templates/mail/verify_email.zh-CN.j2"),
    ),
    (
        "verify_email.en",
        include_str!("../../templates/mail/verify_email.en.j2"),
    ),
    (
        "invitation.zh-CN",
        include_str!("../../templates/mail/invitation.zh-CN.j2"),
    ),
    (
        "invitation.en",
        include_str!("../../templates/mail/invitation.en.j2"),
    ),
    (
        "enterprise_status.zh-CN",
        include_str!("../../templates/mail/enterprise_status.zh-CN.j2"),
    ),
    (
        "enterprise_status.en",
        include_str!("../../templates/mail/enterprise_status.en.j2"),
    ),
    (
        "test.zh-CN",
        include_str!("../../templates/mail/test.zh-CN.j2"),
    ),
    ("test.en", include_str!("../../templates/mail/test.en.j2")),
];

pub const LOCALES: [&str; 2] = ["zh-CN", "en"];

/// The compiled mail templates. Each template defines the blocks `subject`, `text`, `html`.
pub struct Templates {
    env: Environment<'static>,
    default_locale: String,
}

impl Templates {
    pub fn new(default_locale: &str) -> anyhow::Result<Templates> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Everything is escaped as HTML unless a block opts out (the text and subject blocks).
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        let default_locale = if LOCALES.contains(&default_locale) {
            default_locale
        } else {
            "zh-CN"
        };
        Ok(Templates {
            env,
            default_locale: default_locale.to_owned(),
        })
    }

    pub fn locale<'a>(&'a self, wanted: &'a str) -> &'a str {
        if LOCALES.contains(&wanted) {
            wanted
        } else {
            &self.default_locale
        }
    }

    pub fn compose<C: Serialize>(
        &self,
        kind: &str,
        locale: &str,
        to: &str,
        context: &C,
    ) -> anyhow::Result<NewMail> {
        let name = format!("{kind}.{}", self.locale(locale));
        let template = self.env.get_template(&name)?;
        let mut captured = template.render_captured(context)?;
        let (subject, text, html) = captured.with_state_mut(|state| {
            Ok::<_, minijinja::Error>((
                state.render_block("subject")?,
                state.render_block("text")?,
                state.render_block("html")?,
            ))
        })?;
        let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
        Ok(NewMail {
            to: to.to_owned(),
            subject: subject.clone(),
            text: text.trim().to_owned() + "\n",
            html: self
                .env
                .get_template("layout.html")?
                .render(minijinja::context! {
                    lang => self.locale(locale),
                    subject => &subject,
                    content => minijinja::Value::from_safe_string(html),
                })?,
            secret: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders_in_both_locales() {
        let t = Templates::new("zh-CN").unwrap();
        for locale in LOCALES {
            let m = t
                .compose(
                    "test",
                    locale,
                    "a@b.c",
                    &serde_json::json!({"message": "<b>hi</b>"}),
                )
                .unwrap();
            assert!(
                m.text.contains("<b>hi</b>"),
                "text is not escaped: {}",
                m.text
            );
            assert!(
                m.html.contains("&lt;b&gt;hi") && !m.html.contains("<b>hi"),
                "html is escaped: {}",
                m.html
            );
        }
    }

    #[test]
    fn unknown_locale_falls_back_and_missing_values_fail() {
        let t = Templates::new("en").unwrap();
        assert_eq!(t.locale("fr"), "en");
        assert!(
            t.compose("test", "en", "a@b.c", &serde_json::json!({}))
                .is_err()
        );
    }
}

#[cfg(test)]
mod ticket_templates {
    use super::*;

    #[test]
    fn ticket_mail_says_what_happened_what_next_and_the_deadline() {
        let t = Templates::new("zh-CN").unwrap();
        let events = [
            "created",
            "assigned",
            "accepted",
            "returned",
            "resolved",
            "confirmed",
            "reopened",
            "cancelled",
            "closed",
            "auto_closed",
            "overdue",
            "comment",
            "attachment_added",
            "unrouted",
            "info_requested",
            "info_provided",
            "extension_requested",
            "extension_approved",
            "extension_rejected",
            "due_soon",
            "escalated",
        ];
        for locale in LOCALES {
            for role in ["enterprise", "official", "admin"] {
                for (event, status) in events
                    .iter()
                    .flat_map(|e| [(e, "resolved"), (e, "awaiting_enterprise")])
                {
                    let ctx = serde_json::json!({
                        "recipient_name": "王", "role": role, "event": event, "status": status,
                        "reference": "QF261125-0001", "title": "许可证", "due_at": "2026-11-27 16:00 (CST)",
                        "note": null, "link": "http://x/tickets/1", "assignee_name": "李", "department_name": "商务局",
                        "auto_close_days": 7,
                    });
                    let m = t.compose("ticket_event", locale, "a@b.c", &ctx).unwrap();
                    assert!(m.subject.contains("QF261125-0001"), "{}", m.subject);
                    assert!(m.text.contains("2026-11-27 16:00"), "{}", m.text);
                    assert!(m.html.contains("QF261125-0001"));
                }
            }
        }
        let ctx = serde_json::json!({
            "recipient_name": "Wang", "role": "enterprise", "event": "resolved", "status": "resolved",
            "reference": "QF261125-0001", "title": "Permit", "due_at": "2026-11-27", "note": "Issued",
            "link": "http://x", "assignee_name": null, "department_name": null, "auto_close_days": 7,
        });
        let m = t.compose("ticket_event", "en", "a@b.c", &ctx).unwrap();
        assert_eq!(m.subject, "[QF261125-0001] resolved: Permit");
        assert!(m.text.contains("after 7 days"), "{}", m.text);
        assert!(m.text.contains("Note: Issued"));
        for (locale, label) in [("en", "Files: "), ("zh-CN", "附件：")] {
            let ctx = serde_json::json!({
                "recipient_name": "王", "role": "official", "event": "attachment_added",
                "status": "in_progress", "reference": "QF261125-0001", "title": "许可证",
                "due_at": "2026-11-27", "note": "营业执照.pdf\n现场.jpg", "link": "http://x",
                "assignee_name": null, "department_name": null, "auto_close_days": 7,
            });
            let m = t.compose("ticket_event", locale, "a@b.c", &ctx).unwrap();
            assert!(
                m.text.contains(&format!("{label}营业执照.pdf")),
                "{}",
                m.text
            );
            assert!(m.html.contains("现场.jpg"), "{}", m.html);
        }
    }
}

#[cfg(test)]
mod account_templates {
    use super::*;

    #[test]
    fn account_mail_carries_its_link_and_token() {
        let t = Templates::new("zh-CN").unwrap();
        for locale in LOCALES {
            let m = t
                .compose(
                    "verify_email",
                    locale,
                    "a@b.c",
                    &serde_json::json!({"name": "王", "token": "TOKEN", "valid_hours": 72,
                                        "link": "http://x/verify-email?token=TOKEN"}),
                )
                .unwrap();
            assert!(
                m.text.contains("\nTOKEN\n") && m.text.contains("72"),
                "{}",
                m.text
            );
            assert!(m.html.contains("verify-email?token=TOKEN"), "{}", m.html);
            for name in [serde_json::json!("李"), serde_json::Value::Null] {
                let m = t
                    .compose(
                        "invitation",
                        locale,
                        "a@b.c",
                        &serde_json::json!({"name": name, "inviter": "王", "enterprise": "<某>公司",
                                            "token": "TOKEN", "valid_days": 7,
                                            "link": "http://x/invitations/accept?token=TOKEN"}),
                    )
                    .unwrap();
                assert!(m.subject.contains("<某>公司"), "{}", m.subject);
                assert!(m.html.contains("&lt;某&gt;公司"), "{}", m.html);
                assert!(
                    m.text.contains("\nTOKEN\n") && m.text.contains('7'),
                    "{}",
                    m.text
                );
            }
            for kind in ["approved", "rejected", "suspended", "reactivated"] {
                let m = t
                    .compose(
                        "enterprise_status",
                        locale,
                        "a@b.c",
                        &serde_json::json!({"name": "王", "enterprise": "某公司", "kind": kind,
                                            "reason": "执照模糊"}),
                    )
                    .unwrap();
                assert!(m.subject.contains("某公司"), "{}", m.subject);
                assert!(m.text.contains("执照模糊"), "{}", m.text);
                let m = t
                    .compose(
                        "enterprise_status",
                        locale,
                        "a@b.c",
                        &serde_json::json!({"name": "王", "enterprise": "某公司", "kind": kind,
                                            "reason": null}),
                    )
                    .unwrap();
                assert!(!m.text.contains("执照模糊"));
            }
        }
    }
}
