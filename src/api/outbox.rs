//! `/outbox` endpoints: organizers watch outgoing mail and retry failed messages.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::ApiTags;
use super::accounts::LangCode;
use super::auth::SessionAuth;
use super::error::ApiError;
use crate::domain::time::Millis;
use crate::i18n::Lang;
use crate::service::admin::{self, OutboxQuery, Paging};
use crate::service::{Ctx, ServiceError};
use crate::store::outbox::{OutboxRow, OutboxStatus};

/// Where a message is: `queued` (waiting, maybe after a failed attempt), `sending` (claimed by a
/// dispatcher), `sent`, or `failed` (after its last attempt).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum MailStatusCode {
    Queued,
    Sending,
    Sent,
    Failed,
}

impl From<OutboxStatus> for MailStatusCode {
    fn from(s: OutboxStatus) -> Self {
        match s {
            OutboxStatus::Queued => MailStatusCode::Queued,
            OutboxStatus::Sending => MailStatusCode::Sending,
            OutboxStatus::Sent => MailStatusCode::Sent,
            OutboxStatus::Failed => MailStatusCode::Failed,
        }
    }
}

impl From<MailStatusCode> for OutboxStatus {
    fn from(s: MailStatusCode) -> Self {
        match s {
            MailStatusCode::Queued => OutboxStatus::Queued,
            MailStatusCode::Sending => OutboxStatus::Sending,
            MailStatusCode::Sent => OutboxStatus::Sent,
            MailStatusCode::Failed => OutboxStatus::Failed,
        }
    }
}

/// An outgoing message as organizers see it (without its body).
#[derive(Debug, Object)]
pub struct OutboxMessage {
    pub id: String,
    pub to_email: String,
    #[oai(skip_serializing_if_is_none)]
    pub to_user_id: Option<String>,
    pub lang: LangCode,
    /// The template, e.g. `verify_email`, `judge_invitation`, `account_disabled`.
    pub kind: String,
    pub subject: String,
    pub status: MailStatusCode,
    /// Attempts started so far.
    pub attempts: i64,
    /// The last attempt's error, if it failed.
    #[oai(skip_serializing_if_is_none)]
    pub last_error: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// When the next attempt is due, RFC 3339 UTC.
    pub next_attempt_at: String,
    #[oai(skip_serializing_if_is_none)]
    pub sent_at: Option<String>,
}

impl From<OutboxRow> for OutboxMessage {
    fn from(r: OutboxRow) -> Self {
        OutboxMessage {
            id: r.id,
            to_email: r.to_email,
            to_user_id: r.to_user_id,
            lang: r.lang.into(),
            kind: r.kind,
            subject: r.subject,
            status: r.status.into(),
            attempts: r.attempts,
            last_error: r.last_error,
            created_at: Millis(r.created_at).rfc3339_utc(),
            next_attempt_at: Millis(r.next_attempt_at).rfc3339_utc(),
            sent_at: r.sent_at.map(|t| Millis(t).rfc3339_utc()),
        }
    }
}

/// How many messages are in each status, over the whole outbox.
#[derive(Debug, Object)]
pub struct MailCounts {
    pub queued: i64,
    pub sending: i64,
    pub sent: i64,
    pub failed: i64,
    pub total: i64,
}

/// One page of the outbox.
#[derive(Debug, Object)]
pub struct OutboxPage {
    pub items: Vec<OutboxMessage>,
    /// Number of messages matching the filters, over all pages.
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
    pub counts: MailCounts,
}

#[derive(ApiResponse)]
pub enum MailRequeued {
    /// The message is queued again and will be sent shortly.
    #[oai(status = 202)]
    Accepted,
}

type R<T> = Result<T, ApiError>;

fn fail(lang: Lang) -> impl Fn(ServiceError) -> ApiError {
    move |e| ApiError::from_service(e, lang)
}

pub struct OutboxApi;

#[OpenApi(tag = "ApiTags::Organizers")]
impl OutboxApi {
    /// List outgoing mail
    ///
    /// Newest first, with counts per status (organizers).
    #[oai(path = "/outbox", method = "get", operation_id = "listOutbox")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        /// Only messages in this status.
        status: Query<Option<MailStatusCode>>,
        /// Part of the recipient's address (any case).
        q: Query<Option<String>>,
        /// Only messages of this kind, e.g. `judge_invitation`.
        kind: Query<Option<String>>,
        /// Page number, from 1 (default 1).
        page: Query<Option<u32>>,
        /// Messages per page, 1 to 100 (default 20).
        per_page: Query<Option<u32>>,
    ) -> R<Json<OutboxPage>> {
        let lang = Lang::detect(req);
        let paging = Paging::new(page.0, per_page.0).map_err(fail(lang))?;
        let query = OutboxQuery {
            status: status.0.map(Into::into),
            recipient: q.0,
            kind: kind.0,
        };
        let view = admin::list_outbox(&ctx, &auth.0, query, paging)
            .await
            .map_err(fail(lang))?;
        let c = view.counts;
        Ok(Json(OutboxPage {
            items: view.page.items.into_iter().map(Into::into).collect(),
            total: view.page.total,
            page: view.page.page,
            per_page: view.page.per_page,
            counts: MailCounts {
                queued: c.queued,
                sending: c.sending,
                sent: c.sent,
                failed: c.failed,
                total: c.total(),
            },
        }))
    }

    /// Retry a failed message
    ///
    /// Queues a failed message again with a fresh set of attempts (organizers). Refused with
    /// `not_failed` when the message has not failed.
    #[oai(
        path = "/outbox/:id/retry",
        method = "post",
        operation_id = "retryMail"
    )]
    async fn retry(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        /// The message's id.
        id: Path<String>,
    ) -> R<MailRequeued> {
        let lang = Lang::detect(req);
        admin::retry_mail(&ctx, &auth.0, &id.0)
            .await
            .map_err(fail(lang))?;
        Ok(MailRequeued::Accepted)
    }
}
