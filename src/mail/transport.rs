//! How a stored message leaves: through an SMTP server, or as one `.eml` file per message in
//! `mail.file_dir`. Either way it is the same MIME message: multipart/alternative with the plain
//! text and the HTML, a UTF-8 subject, its stored Message-ID and its creation time as Date.

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::io::AsyncWriteExt;

use super::MailError;
use crate::config::{MailConfig, MailTransport, SmtpSecurity};
use crate::store::new_id;
use crate::store::outbox::OutboxRow;

/// Why a message did not leave. `permanent` when trying again cannot help (the server refused
/// the message or the recipient with a 5xx reply, or the address is malformed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub permanent: bool,
    pub message: String,
}

impl SendError {
    fn permanent(message: String) -> SendError {
        SendError {
            permanent: true,
            message,
        }
    }

    fn transient(message: String) -> SendError {
        SendError {
            permanent: false,
            message,
        }
    }
}

enum Channel {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(PathBuf),
}

/// The configured way out, with the sender address.
pub struct Transport {
    from: Mailbox,
    channel: Channel,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let channel = match &self.channel {
            Channel::Smtp(_) => "smtp".to_owned(),
            Channel::File(dir) => format!("file {}", dir.display()),
        };
        f.debug_struct("Transport")
            .field("from", &self.from.to_string())
            .field("channel", &channel)
            .finish()
    }
}

impl Transport {
    /// Builds the transport `[mail]` asks for. Nothing is contacted yet.
    pub fn from_config(config: &MailConfig) -> Result<Transport, MailError> {
        let from: Mailbox = config.from.parse().map_err(|e| MailError::Config {
            key: "mail.from",
            message: format!("not a valid sender address: {e}"),
        })?;
        let channel = match config.transport {
            MailTransport::File => Channel::File(config.file_dir.clone()),
            MailTransport::Smtp => Channel::Smtp(smtp_transport(config)?),
        };
        Ok(Transport { from, channel })
    }

    /// The `Message-ID` header value of a stored message: `<message_id@sender domain>`.
    pub fn message_id(&self, row: &OutboxRow) -> String {
        format!("<{}@{}>", row.message_id, self.from.email.domain())
    }

    /// The MIME message for a stored message.
    pub fn message(&self, row: &OutboxRow) -> Result<Message, SendError> {
        let to: Mailbox = row.to_email.parse().map_err(|e| {
            SendError::permanent(format!("invalid recipient address {:?}: {e}", row.to_email))
        })?;
        let created =
            UNIX_EPOCH + Duration::from_millis(u64::try_from(row.created_at).unwrap_or(0));
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(row.subject.as_str())
            .message_id(Some(self.message_id(row)))
            .date(created)
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_owned(),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Content-Language"),
                row.lang.code().to_owned(),
            ))
            .multipart(MultiPart::alternative_plain_html(
                row.text.clone(),
                row.html.clone(),
            ))
            .map_err(|e| SendError::permanent(format!("cannot build the message: {e}")))
    }

    /// Sends one stored message.
    pub async fn send(&self, row: &OutboxRow) -> Result<(), SendError> {
        let message = self.message(row)?;
        match &self.channel {
            Channel::Smtp(smtp) => match smtp.send(message).await {
                Ok(_) => Ok(()),
                Err(e) => {
                    let text = error_chain(&e);
                    Err(if e.is_permanent() {
                        SendError::permanent(text)
                    } else {
                        SendError::transient(text)
                    })
                }
            },
            Channel::File(dir) => {
                write_eml(dir, &row.id, &message.formatted())
                    .await
                    .map_err(|e| {
                        SendError::transient(format!("cannot write to {}: {e}", dir.display()))
                    })
            }
        }
    }
}

/// The SMTP client `[mail.smtp]` describes; it keeps a small pool of connections.
fn smtp_transport(config: &MailConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    let smtp = &config.smtp;
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str())
        .port(smtp.port)
        .timeout(Some(Duration::from_secs(smtp.timeout_secs.max(1))));
    let tls = || {
        TlsParameters::new(smtp.host.clone()).map_err(|e| MailError::Config {
            key: "mail.smtp.host",
            message: format!("cannot set up TLS for this host: {e}"),
        })
    };
    builder = match smtp.security {
        SmtpSecurity::None => builder.tls(Tls::None),
        SmtpSecurity::Starttls => builder.tls(Tls::Required(tls()?)),
        SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls()?)),
    };
    if !smtp.username.is_empty() {
        builder = builder.credentials(Credentials::new(
            smtp.username.clone(),
            smtp.password.clone(),
        ));
    }
    Ok(builder.build())
}

/// An error and its causes on one line.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut next = err.source();
    while let Some(cause) = next {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        next = cause.source();
    }
    text
}

/// Writes `<dir>/<name>.eml` atomically: a temporary file, flushed to disk, then renamed, so a
/// reader never sees half a message. A message written twice (after a lost lease) keeps one file.
async fn write_eml(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let tmp = dir.join(format!(".{name}.{}.tmp", new_id()));
    let path = dir.join(format!("{name}.eml"));
    let written = async {
        let mut file = tokio::fs::File::create(&tmp).await?;
        file.write_all(bytes).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&tmp, &path).await
    }
    .await;
    if written.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
        return written;
    }
    // Best effort: make the rename itself durable.
    if let Ok(folder) = tokio::fs::File::open(dir).await {
        let _ = folder.sync_all().await;
    }
    Ok(())
}
