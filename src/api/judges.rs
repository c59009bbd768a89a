//! `/judge-invitations` endpoints: organizers invite judges by email; the invited person accepts
//! with their account (any role, logged in) or by creating one (anonymous, with the link's token).

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::ApiTags;
use super::accounts::{Account, LangCode, TokenRequest};
use super::auth::{SessionAuth, client_ip};
use super::error::ApiError;
use crate::domain::time::Millis;
use crate::i18n::Lang;
use crate::service::admin::{self, Paging};
use crate::service::{Ctx, ServiceError};
use crate::store::admin::{InvitationStatus, JudgeInvitationRow};

/// Where an invitation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum JudgeInvitationStatus {
    /// The link works.
    Pending,
    /// Someone accepted it.
    Accepted,
    /// It was not used in time.
    Expired,
    /// A newer invitation to the same address replaced it.
    Replaced,
}

impl From<InvitationStatus> for JudgeInvitationStatus {
    fn from(s: InvitationStatus) -> Self {
        match s {
            InvitationStatus::Pending => JudgeInvitationStatus::Pending,
            InvitationStatus::Accepted => JudgeInvitationStatus::Accepted,
            InvitationStatus::Expired => JudgeInvitationStatus::Expired,
            InvitationStatus::Replaced => JudgeInvitationStatus::Replaced,
        }
    }
}

impl From<JudgeInvitationStatus> for InvitationStatus {
    fn from(s: JudgeInvitationStatus) -> Self {
        match s {
            JudgeInvitationStatus::Pending => InvitationStatus::Pending,
            JudgeInvitationStatus::Accepted => InvitationStatus::Accepted,
            JudgeInvitationStatus::Expired => InvitationStatus::Expired,
            JudgeInvitationStatus::Replaced => InvitationStatus::Replaced,
        }
    }
}

/// A judge invitation.
#[derive(Debug, Object)]
pub struct JudgeInvitation {
    pub id: String,
    /// The invited address.
    pub email: String,
    pub status: JudgeInvitationStatus,
    pub inviter_id: String,
    pub inviter_name: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub expires_at: String,
    /// When it was accepted or replaced, RFC 3339 UTC.
    #[oai(skip_serializing_if_is_none)]
    pub used_at: Option<String>,
    /// The account that accepted it.
    #[oai(skip_serializing_if_is_none)]
    pub accepted_by: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub accepted_by_name: Option<String>,
}

impl From<JudgeInvitationRow> for JudgeInvitation {
    fn from(r: JudgeInvitationRow) -> Self {
        JudgeInvitation {
            id: r.id,
            email: r.email,
            status: r.status.into(),
            inviter_id: r.inviter_id,
            inviter_name: r.inviter_name,
            created_at: Millis(r.created_at).rfc3339_utc(),
            expires_at: Millis(r.expires_at).rfc3339_utc(),
            used_at: r.used_at.map(|t| Millis(t).rfc3339_utc()),
            accepted_by: r.accepted_by,
            accepted_by_name: r.accepted_by_name,
        }
    }
}

/// One page of judge invitations.
#[derive(Debug, Object)]
pub struct JudgeInvitationPage {
    pub items: Vec<JudgeInvitation>,
    /// Number of invitations matching the filter, over all pages.
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Object)]
pub struct InviteJudgeRequest {
    pub email: String,
    /// Language of the invitation email; by default the account's, else Vietnamese.
    pub lang: Option<LangCode>,
}

#[derive(Debug, Object)]
pub struct JudgeAcceptNewRequest {
    /// The token from the emailed link.
    pub token: String,
    pub full_name: String,
    /// At least 10 characters, not a common password.
    pub password: String,
    pub organization: String,
    /// Optional.
    #[oai(default)]
    pub phone: String,
    /// Language of emails and pages; Vietnamese by default.
    pub lang: Option<LangCode>,
}

/// What an invitation link is, for the page that accepts it.
#[derive(Debug, Object)]
pub struct JudgeInvitationInfo {
    /// The link can still be accepted.
    pub valid: bool,
    /// The invited address (absent when the token is unknown).
    #[oai(skip_serializing_if_is_none)]
    pub email: Option<String>,
    /// The address has an account: log in and accept; otherwise create one with accept-new.
    pub account_exists: bool,
    #[oai(skip_serializing_if_is_none)]
    pub inviter_name: Option<String>,
    /// RFC 3339 UTC.
    #[oai(skip_serializing_if_is_none)]
    pub expires_at: Option<String>,
}

#[derive(ApiResponse)]
pub enum JudgeInvitationCreated {
    /// The invitation was emailed.
    #[oai(status = 201)]
    Created(Json<JudgeInvitation>),
}

#[derive(ApiResponse)]
pub enum JudgeAccountCreated {
    /// The judge account was created; log in with it.
    #[oai(status = 201)]
    Created(Json<Account>),
}

type R<T> = Result<T, ApiError>;

fn fail(lang: Lang) -> impl Fn(ServiceError) -> ApiError {
    move |e| ApiError::from_service(e, lang)
}

pub struct JudgesApi;

#[OpenApi(tag = "ApiTags::Organizers")]
impl JudgesApi {
    /// Invite a judge
    ///
    /// Emails a one-time link to join the judging panel (organizers). A new invitation to the
    /// same address replaces its pending ones. Organizers and judges cannot be invited.
    #[oai(
        path = "/judge-invitations",
        method = "post",
        operation_id = "inviteJudge"
    )]
    async fn invite(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        body: Json<InviteJudgeRequest>,
    ) -> R<JudgeInvitationCreated> {
        let lang = Lang::detect(req);
        let row = admin::invite_judge(&ctx, &auth.0, &body.email, body.lang.map(Lang::from))
            .await
            .map_err(fail(lang))?;
        Ok(JudgeInvitationCreated::Created(Json(row.into())))
    }

    /// List judge invitations
    ///
    /// Newest first; all of them or those of one status (organizers).
    #[oai(
        path = "/judge-invitations",
        method = "get",
        operation_id = "listJudgeInvitations"
    )]
    async fn list(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        /// Only invitations in this status.
        status: Query<Option<JudgeInvitationStatus>>,
        /// Page number, from 1 (default 1).
        page: Query<Option<u32>>,
        /// Invitations per page, 1 to 100 (default 20).
        per_page: Query<Option<u32>>,
    ) -> R<Json<JudgeInvitationPage>> {
        let lang = Lang::detect(req);
        let paging = Paging::new(page.0, per_page.0).map_err(fail(lang))?;
        let p = admin::list_judge_invitations(&ctx, &auth.0, status.0.map(Into::into), paging)
            .await
            .map_err(fail(lang))?;
        Ok(Json(JudgeInvitationPage {
            items: p.items.into_iter().map(Into::into).collect(),
            total: p.total,
            page: p.page,
            per_page: p.per_page,
        }))
    }

    /// Look at an invitation
    ///
    /// Says whether the link can be accepted, the invited address and whether it has an
    /// account. Uses nothing; no login needed.
    #[oai(
        path = "/judge-invitations/info",
        method = "post",
        operation_id = "judgeInvitationInfo"
    )]
    async fn info(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        body: Json<TokenRequest>,
    ) -> R<Json<JudgeInvitationInfo>> {
        let lang = Lang::detect(req);
        let i = admin::invitation_info(&ctx, &body.token)
            .await
            .map_err(fail(lang))?;
        Ok(Json(JudgeInvitationInfo {
            valid: i.valid,
            email: i.email,
            account_exists: i.account_exists,
            inviter_name: i.inviter_name,
            expires_at: i.expires_at.map(|t| Millis(t).rfc3339_utc()),
        }))
    }

    /// Accept an invitation
    ///
    /// As the logged-in account the invitation was sent to: a participant becomes a judge.
    #[oai(
        path = "/judge-invitations/accept",
        method = "post",
        operation_id = "acceptJudgeInvitation"
    )]
    async fn accept(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        body: Json<TokenRequest>,
    ) -> R<Json<Account>> {
        let lang = Lang::detect(req);
        let user = admin::accept_judge_invitation(&ctx, &auth.0, &body.token)
            .await
            .map_err(fail(lang))?;
        Ok(Json(Account::from(&user)))
    }

    /// Accept an invitation with a new account
    ///
    /// Creates a verified judge account for the invited address (no login needed). Refused
    /// with `email_taken` when the address has an account: log in and accept instead.
    #[oai(
        path = "/judge-invitations/accept-new",
        method = "post",
        operation_id = "acceptJudgeInvitationNewAccount"
    )]
    async fn accept_new(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        body: Json<JudgeAcceptNewRequest>,
    ) -> R<JudgeAccountCreated> {
        let lang = body
            .lang
            .map(Lang::from)
            .unwrap_or_else(|| Lang::detect(req));
        let b = body.0;
        let user = admin::accept_judge_invitation_new_account(
            &ctx,
            &b.token,
            &b.full_name,
            &b.password,
            &b.organization,
            &b.phone,
            Some(lang),
            client_ip(req).as_deref(),
        )
        .await
        .map_err(fail(lang))?;
        Ok(JudgeAccountCreated::Created(Json(Account::from(&user))))
    }
}
