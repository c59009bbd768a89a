//! `/users` endpoints: organizers list accounts and disable or re-enable them.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::ApiTags;
use super::accounts::{Account, RoleCode};
use super::auth::SessionAuth;
use super::error::ApiError;
use crate::domain::account::Role;
use crate::i18n::Lang;
use crate::service::admin::{self, Paging};
use crate::service::{Ctx, ServiceError};

/// One page of accounts.
#[derive(Debug, Object)]
pub struct UserPage {
    pub items: Vec<Account>,
    /// Number of accounts matching the filters, over all pages.
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

fn role(r: RoleCode) -> Role {
    match r {
        RoleCode::Participant => Role::Participant,
        RoleCode::Judge => Role::Judge,
        RoleCode::Organizer => Role::Organizer,
    }
}

type R<T> = Result<T, ApiError>;

fn fail(lang: Lang) -> impl Fn(ServiceError) -> ApiError {
    move |e| ApiError::from_service(e, lang)
}

pub struct UsersApi;

#[OpenApi(tag = "ApiTags::Organizers")]
impl UsersApi {
    /// List accounts
    ///
    /// Newest first, filtered by role and by text in the email, name or organization
    /// (organizers).
    #[oai(path = "/users", method = "get", operation_id = "listUsers")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        /// Only accounts with this role.
        role: Query<Option<RoleCode>>,
        /// Text in the email, name or organization (any case).
        q: Query<Option<String>>,
        /// Page number, from 1 (default 1).
        page: Query<Option<u32>>,
        /// Accounts per page, 1 to 100 (default 20).
        per_page: Query<Option<u32>>,
    ) -> R<Json<UserPage>> {
        let lang = Lang::detect(req);
        let paging = Paging::new(page.0, per_page.0).map_err(fail(lang))?;
        let p = admin::list_users(
            &ctx,
            &auth.0,
            role.0.map(self::role),
            q.0.as_deref(),
            paging,
        )
        .await
        .map_err(fail(lang))?;
        Ok(Json(UserPage {
            items: p.items.iter().map(Account::from).collect(),
            total: p.total,
            page: p.page,
            per_page: p.per_page,
        }))
    }

    /// Disable an account
    ///
    /// Its sessions end at once, it cannot log in, and it is told by email (organizers; not
    /// one's own account).
    #[oai(
        path = "/users/:id/disable",
        method = "post",
        operation_id = "disableUser"
    )]
    async fn disable(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        /// The account's id.
        id: Path<String>,
    ) -> R<Json<Account>> {
        let lang = Lang::detect(req);
        let user = admin::disable_user(&ctx, &auth.0, &id.0)
            .await
            .map_err(fail(lang))?;
        Ok(Json(Account::from(&user)))
    }

    /// Re-enable an account
    ///
    /// The account can log in again (organizers).
    #[oai(
        path = "/users/:id/enable",
        method = "post",
        operation_id = "enableUser"
    )]
    async fn enable(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        /// The account's id.
        id: Path<String>,
    ) -> R<Json<Account>> {
        let lang = Lang::detect(req);
        let user = admin::enable_user(&ctx, &auth.0, &id.0)
            .await
            .map_err(fail(lang))?;
        Ok(Json(Account::from(&user)))
    }
}
