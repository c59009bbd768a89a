//! Outgoing mail: the outbox, templates and the dispatcher.
//!
//! A use case that causes a message renders it with `new_mail` and writes it with
//! `enqueue_mail` inside its own write transaction, then (after the commit) nudges the
//! dispatcher through its notifier:
//!
//! ```ignore
//! let mut tx = store.begin_write().await?;
//! // ... the change itself ...
//! let mail = mail::new_mail(&email, Some(&user_id), lang, &MailKind::VerifyEmail { name, url }, contest);
//! mail::enqueue_mail(&mut tx, &mail).await?;
//! tx.commit().await?;
//! notifier.notify_one();
//! ```
//!
//! The SQL lives in `crate::store::outbox`; the guarantees (and their limit) are described in
//! `dispatcher`.

pub mod dispatcher;
pub mod templates;
pub mod transport;

pub use crate::store::outbox::{
    NewMail, OutboxCounts, OutboxFilter, OutboxRow, OutboxStatus, enqueue_mail,
};
pub use dispatcher::{Dispatcher, DispatcherHandle, Round, backoff_secs};
pub use templates::{MailKind, Rendered, new_mail, render};
pub use transport::{SendError, Transport};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("configuration: key `{key}`: {message}")]
    Config { key: &'static str, message: String },
}
