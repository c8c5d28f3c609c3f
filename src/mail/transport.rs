//! Where mail goes: SMTP (STARTTLS/TLS via rustls, pooled), `.eml` files, or the log.

use std::time::Duration;

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::{MailSettings, MailTransportKind};
use crate::store::outbox::OutboxRow;

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
    Log,
}

/// A failed delivery; `permanent` (an SMTP 5xx, an unusable address) means retrying cannot help.
#[derive(Debug)]
pub struct SendError {
    pub permanent: bool,
    pub message: String,
}

impl Transport {
    pub fn from_settings(settings: &MailSettings) -> anyhow::Result<Transport> {
        Ok(match settings.transport {
            MailTransportKind::Smtp => {
                // smtp://host:port (plain or ?tls=required for STARTTLS), smtps://host (TLS).
                let transport: AsyncSmtpTransport<Tokio1Executor> =
                    AsyncSmtpTransport::<Tokio1Executor>::from_url(
                        settings.smtp_url.expose_secret(),
                    )
                    .context("mail.smtp_url")?
                    .timeout(Some(Duration::from_secs(20)))
                    .build();
                Transport::Smtp(transport)
            }
            MailTransportKind::File => {
                crate::files::private_dir(&settings.file_dir)
                    .with_context(|| format!("creating {}", settings.file_dir.display()))?;
                Transport::File(AsyncFileTransport::new(&settings.file_dir))
            }
            MailTransportKind::Log => Transport::Log,
        })
    }

    pub async fn send(&self, from: &Mailbox, row: &OutboxRow) -> Result<(), SendError> {
        let message = build(from, row)?;
        match self {
            Transport::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| SendError {
                permanent: e.is_permanent(),
                message: e.to_string(),
            }),
            Transport::File(file) => file.send(message).await.map(|_| ()).map_err(|e| SendError {
                permanent: false,
                message: e.to_string(),
            }),
            Transport::Log => {
                tracing::info!(to = %row.recipient, subject = %row.subject, "mail (log transport)");
                Ok(())
            }
        }
    }
}

fn build(from: &Mailbox, row: &OutboxRow) -> Result<Message, SendError> {
    let permanent = |message: String| SendError {
        permanent: true,
        message,
    };
    let to: Mailbox = row
        .recipient
        .parse()
        .map_err(|e| permanent(format!("bad recipient {}: {e}", row.recipient)))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(row.subject.clone())
        .message_id(Some(format!("<{}@qifu>", row.id)))
        .multipart(MultiPart::alternative_plain_html(
            row.text_body.clone(),
            row.html_body.clone(),
        ))
        .map_err(|e| permanent(format!("building message: {e}")))
}
