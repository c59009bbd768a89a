//! Accounts and sessions: register, verify email, log in and out, reset and change password,
//! change email, profile, and one's own notification history.

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::ApiTags;
use super::auth::{SessionAuth, client_ip};
use super::error::ApiError;
use crate::domain::time::Millis;
use crate::i18n::Lang;
use crate::service::accounts::{self, ProfileUpdate, Registration};
use crate::service::{Ctx, ServiceError};
use crate::store::accounts::UserRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum LangCode {
    Vi,
    En,
}

impl From<LangCode> for Lang {
    fn from(l: LangCode) -> Lang {
        match l {
            LangCode::Vi => Lang::Vi,
            LangCode::En => Lang::En,
        }
    }
}

impl From<Lang> for LangCode {
    fn from(l: Lang) -> LangCode {
        match l {
            Lang::Vi => LangCode::Vi,
            Lang::En => LangCode::En,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum RoleCode {
    Participant,
    Judge,
    Organizer,
}

impl From<crate::domain::account::Role> for RoleCode {
    fn from(r: crate::domain::account::Role) -> RoleCode {
        use crate::domain::account::Role;
        match r {
            Role::Participant => RoleCode::Participant,
            Role::Judge => RoleCode::Judge,
            Role::Organizer => RoleCode::Organizer,
        }
    }
}

/// An account as its owner (or an organizer) sees it.
#[derive(Debug, Object)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub full_name: String,
    pub organization: String,
    #[oai(skip_serializing_if_is_none)]
    pub phone: Option<String>,
    pub lang: LangCode,
    pub role: RoleCode,
    pub email_verified: bool,
    pub disabled: bool,
    /// RFC 3339 UTC.
    pub created_at: String,
}

impl From<&UserRecord> for Account {
    fn from(u: &UserRecord) -> Account {
        Account {
            id: u.id.clone(),
            email: u.email.clone(),
            full_name: u.full_name.clone(),
            organization: u.organization.clone(),
            phone: u.phone.clone(),
            lang: u.lang.into(),
            role: u.role.into(),
            email_verified: u.email_verified_at.is_some(),
            disabled: u.disabled_at.is_some(),
            created_at: Millis(u.created_at).rfc3339_utc(),
        }
    }
}

#[derive(Debug, Object)]
pub struct RegisterRequest {
    pub email: String,
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

/// The request was taken; what happens next is said in `message`.
#[derive(Debug, Object)]
pub struct Accepted {
    pub status: String,
    pub message: String,
}

#[derive(Debug, Object)]
pub struct TokenRequest {
    /// The token from the emailed link.
    pub token: String,
}

#[derive(Debug, Object)]
pub struct EmailRequest {
    pub email: String,
}

#[derive(Debug, Object)]
pub struct ResetConfirmRequest {
    pub token: String,
    pub new_password: String,
}

#[derive(Debug, Object)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Object)]
pub struct Session {
    /// Send as `Authorization: Bearer <token>`. Shown once.
    pub token: String,
    pub account: Account,
}

#[derive(Debug, Object)]
pub struct ProfileRequest {
    pub full_name: String,
    pub organization: String,
    #[oai(default)]
    pub phone: String,
    pub lang: LangCode,
}

#[derive(Debug, Object)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Object)]
pub struct ChangeEmailRequest {
    pub new_email: String,
    /// The current password.
    pub password: String,
}

/// A message sent to the person.
#[derive(Debug, Object)]
pub struct Notification {
    pub id: String,
    pub kind: String,
    pub subject: String,
    pub status: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    #[oai(skip_serializing_if_is_none)]
    pub sent_at: Option<String>,
}

#[derive(ApiResponse)]
pub enum AcceptedResponse {
    /// Accepted; see `message`.
    #[oai(status = 202)]
    Accepted(Json<Accepted>),
}

#[derive(ApiResponse)]
pub enum SessionResponse {
    /// Logged in.
    #[oai(status = 201)]
    Created(Json<Session>),
}

#[derive(ApiResponse)]
pub enum NoContent {
    /// Done.
    #[oai(status = 204)]
    Done,
}

fn accepted(lang: Lang, vi: &str, en: &str) -> AcceptedResponse {
    AcceptedResponse::Accepted(Json(Accepted {
        status: "accepted".into(),
        message: lang.pick(vi, en).to_owned(),
    }))
}

pub struct AccountsApi;

type R<T> = Result<T, ApiError>;

fn fail(lang: Lang) -> impl Fn(ServiceError) -> ApiError {
    move |e| ApiError::from_service(e, lang)
}

#[OpenApi(tag = "ApiTags::Accounts")]
impl AccountsApi {
    /// Register
    ///
    /// Creates a participant account and emails a verification link. The answer is the same
    /// whether or not the address is registered already.
    #[oai(path = "/accounts", method = "post", operation_id = "register")]
    async fn register(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        body: Json<RegisterRequest>,
    ) -> R<AcceptedResponse> {
        let lang = body
            .lang
            .map(Lang::from)
            .unwrap_or_else(|| Lang::detect(req));
        let b = body.0;
        let r = Registration {
            email: b.email,
            full_name: b.full_name,
            password: b.password,
            organization: b.organization,
            phone: b.phone,
            lang: Some(lang),
        };
        accounts::register(&ctx, r, client_ip(req).as_deref())
            .await
            .map_err(fail(lang))?;
        Ok(accepted(
            lang,
            "Nếu địa chỉ này chưa được xác nhận, chúng tôi đã gửi thư kèm liên kết xác nhận. Vui lòng kiểm tra hộp thư.",
            "If this address is not verified yet, we have sent a message with a confirmation link. Please check your inbox.",
        ))
    }

    /// Verify email
    ///
    /// Confirms the address with the token from the emailed link.
    #[oai(
        path = "/accounts/verify",
        method = "post",
        operation_id = "verifyEmail"
    )]
    async fn verify(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        body: Json<TokenRequest>,
    ) -> R<Json<Account>> {
        let lang = Lang::detect(req);
        let user = accounts::verify_email(&ctx, &body.token, client_ip(req).as_deref())
            .await
            .map_err(fail(lang))?;
        Ok(Json(Account::from(&user)))
    }

    /// Log in
    #[oai(path = "/sessions", method = "post", operation_id = "login")]
    async fn login(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        body: Json<LoginRequest>,
    ) -> R<SessionResponse> {
        let lang = Lang::detect(req);
        let (token, user) =
            accounts::login(&ctx, &body.email, &body.password, client_ip(req).as_deref())
                .await
                .map_err(fail(lang))?;
        Ok(SessionResponse::Created(Json(Session {
            token,
            account: Account::from(&user),
        })))
    }

    /// Log out
    ///
    /// Ends the session whose token is sent.
    #[oai(path = "/sessions/current", method = "delete", operation_id = "logout")]
    async fn logout(&self, req: &Request, ctx: Data<&Ctx>, auth: SessionAuth) -> R<NoContent> {
        accounts::logout(&ctx, &auth.0)
            .await
            .map_err(fail(Lang::detect(req)))?;
        Ok(NoContent::Done)
    }

    /// Request a password reset
    ///
    /// Emails a link to choose a new password. The answer is the same whether or not the
    /// address is registered.
    #[oai(
        path = "/password-resets",
        method = "post",
        operation_id = "requestPasswordReset"
    )]
    async fn request_reset(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        body: Json<EmailRequest>,
    ) -> R<AcceptedResponse> {
        let lang = Lang::detect(req);
        accounts::request_password_reset(&ctx, &body.email, client_ip(req).as_deref())
            .await
            .map_err(fail(lang))?;
        Ok(accepted(
            lang,
            "Nếu địa chỉ này có tài khoản, chúng tôi đã gửi liên kết đặt lại mật khẩu.",
            "If this address has an account, we have sent a link to reset the password.",
        ))
    }

    /// Reset the password
    ///
    /// Sets a new password with the token from the emailed link; every session ends.
    #[oai(
        path = "/password-resets/confirm",
        method = "post",
        operation_id = "resetPassword"
    )]
    async fn reset(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        body: Json<ResetConfirmRequest>,
    ) -> R<NoContent> {
        let lang = Lang::detect(req);
        accounts::reset_password(
            &ctx,
            &body.token,
            &body.new_password,
            client_ip(req).as_deref(),
        )
        .await
        .map_err(fail(lang))?;
        Ok(NoContent::Done)
    }

    /// My account
    #[oai(path = "/me", method = "get", operation_id = "getMe")]
    async fn me(&self, auth: SessionAuth) -> Json<Account> {
        Json(Account::from(&auth.0.user))
    }

    /// Update my profile
    #[oai(path = "/me", method = "put", operation_id = "updateMe")]
    async fn update_me(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        body: Json<ProfileRequest>,
    ) -> R<Json<Account>> {
        let lang = Lang::detect(req);
        let b = body.0;
        let p = ProfileUpdate {
            full_name: b.full_name,
            organization: b.organization,
            phone: b.phone,
            lang: b.lang.into(),
        };
        let user = accounts::update_profile(&ctx, &auth.0, p)
            .await
            .map_err(fail(lang))?;
        Ok(Json(Account::from(&user)))
    }

    /// Change my password
    ///
    /// Other sessions of the account end; this one stays.
    #[oai(
        path = "/me/password",
        method = "post",
        operation_id = "changePassword"
    )]
    async fn change_password(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        body: Json<ChangePasswordRequest>,
    ) -> R<NoContent> {
        let lang = Lang::detect(req);
        accounts::change_password(&ctx, &auth.0, &body.current_password, &body.new_password)
            .await
            .map_err(fail(lang))?;
        Ok(NoContent::Done)
    }

    /// Change my email
    ///
    /// Sends a confirmation link to the new address; the change happens when it is confirmed.
    #[oai(path = "/me/email", method = "post", operation_id = "changeEmail")]
    async fn change_email(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        body: Json<ChangeEmailRequest>,
    ) -> R<AcceptedResponse> {
        let lang = Lang::detect(req);
        accounts::request_email_change(&ctx, &auth.0, &body.new_email, &body.password)
            .await
            .map_err(fail(lang))?;
        Ok(accepted(
            lang,
            "Chúng tôi đã gửi liên kết xác nhận tới địa chỉ mới.",
            "We have sent a confirmation link to the new address.",
        ))
    }

    /// Confirm a new email
    #[oai(
        path = "/me/email/confirm",
        method = "post",
        operation_id = "confirmEmailChange"
    )]
    async fn confirm_email(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        body: Json<TokenRequest>,
    ) -> R<Json<Account>> {
        let lang = Lang::detect(req);
        let user = accounts::confirm_email_change(&ctx, &body.token, client_ip(req).as_deref())
            .await
            .map_err(fail(lang))?;
        Ok(Json(Account::from(&user)))
    }

    /// My notifications
    ///
    /// Emails sent (or queued) to me, newest first.
    #[oai(
        path = "/me/notifications",
        method = "get",
        operation_id = "myNotifications"
    )]
    async fn notifications(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
    ) -> R<Json<Vec<Notification>>> {
        let lang = Lang::detect(req);
        let rows = ctx
            .store
            .notifications_for_user(&auth.0.user.id, 100)
            .await
            .map_err(|e| ApiError::from_service(e.into(), lang))?;
        Ok(Json(
            rows.into_iter()
                .map(|r| Notification {
                    id: r.id,
                    kind: r.kind,
                    subject: r.subject,
                    status: r.status.code().to_owned(),
                    created_at: Millis(r.created_at).rfc3339_utc(),
                    sent_at: r.sent_at.map(|t| Millis(t).rfc3339_utc()),
                })
                .collect(),
        ))
    }
}
