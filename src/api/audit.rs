//! `/audit` endpoint: organizers read the audit log.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::ApiTags;
use super::auth::SessionAuth;
use super::error::ApiError;
use crate::domain::time::Millis;
use crate::i18n::Lang;
use crate::service::admin::{self, AuditItem, AuditQuery, Paging};
use crate::service::{Ctx, ServiceError};

/// One recorded change.
#[derive(Debug, Object)]
pub struct AuditRecord {
    pub id: String,
    /// RFC 3339 UTC.
    pub at: String,
    /// The account that acted; absent for the command line and the system.
    #[oai(skip_serializing_if_is_none)]
    pub actor_id: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub actor_email: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub actor_name: Option<String>,
    /// The client's IP address.
    #[oai(skip_serializing_if_is_none)]
    pub ip: Option<String>,
    /// What was done, e.g. `user.disable`, `judge.invite`, `mail.retry`.
    pub action: String,
    /// What it was done to: `user`, `judge_invitation`, `outbox`, …
    pub subject_type: String,
    pub subject_id: String,
    /// The subject's state before the change.
    #[oai(skip_serializing_if_is_none)]
    pub before: Option<serde_json::Value>,
    /// What the change set.
    #[oai(skip_serializing_if_is_none)]
    pub after: Option<serde_json::Value>,
}

fn parse_state(s: Option<String>) -> Option<serde_json::Value> {
    s.map(|s| serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s)))
}

impl From<AuditItem> for AuditRecord {
    fn from(i: AuditItem) -> Self {
        let e = i.entry;
        AuditRecord {
            id: e.id,
            at: Millis(e.at).rfc3339_utc(),
            actor_id: e.actor_id,
            actor_email: i.actor_email,
            actor_name: i.actor_name,
            ip: e.ip,
            action: e.action,
            subject_type: e.subject_type,
            subject_id: e.subject_id,
            before: parse_state(e.before),
            after: parse_state(e.after),
        }
    }
}

/// One page of the audit log.
#[derive(Debug, Object)]
pub struct AuditPage {
    pub items: Vec<AuditRecord>,
    /// Number of entries matching the filters, over all pages.
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

type R<T> = Result<T, ApiError>;

fn fail(lang: Lang) -> impl Fn(ServiceError) -> ApiError {
    move |e| ApiError::from_service(e, lang)
}

pub struct AuditApi;

#[OpenApi(tag = "ApiTags::Organizers")]
impl AuditApi {
    /// Read the audit log
    ///
    /// Newest first (organizers). Each filter matches exactly.
    #[oai(path = "/audit", method = "get", operation_id = "listAudit")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        /// The acting account's id or email address.
        actor: Query<Option<String>>,
        /// An action, e.g. `user.disable`.
        action: Query<Option<String>>,
        /// The subject's id, e.g. an account id.
        subject: Query<Option<String>>,
        /// Page number, from 1 (default 1).
        page: Query<Option<u32>>,
        /// Entries per page, 1 to 100 (default 20).
        per_page: Query<Option<u32>>,
    ) -> R<Json<AuditPage>> {
        let lang = Lang::detect(req);
        let paging = Paging::new(page.0, per_page.0).map_err(fail(lang))?;
        let query = AuditQuery {
            actor: actor.0,
            action: action.0,
            subject: subject.0,
        };
        let p = admin::list_audit(&ctx, &auth.0, query, paging)
            .await
            .map_err(fail(lang))?;
        Ok(Json(AuditPage {
            items: p.items.into_iter().map(Into::into).collect(),
            total: p.total,
            page: p.page,
            per_page: p.per_page,
        }))
    }
}
