//! What every page handler starts from (`Page`: language, layout data, who is logged in) and the
//! ways a page refuses (`PageError`, turned into a page by `web::error_page`).

use crate::domain::authz::Action;
use askama::Template;
use poem::http::StatusCode;
use poem::web::Redirect;
use poem::{IntoResponse, Request, Response};

use super::pages::{Chrome, ChromeUser, ContestNames};
use super::session::{csrf_token, current_actor};
use crate::domain::account::Role;
use crate::i18n::Lang;
use crate::service::{Actor, Ctx, ServiceError};

/// Why a page was not shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The page needs a login; `next` is where to come back to.
    #[error("login required")]
    Login { next: String },
    /// Logged in, but not allowed here.
    #[error("forbidden")]
    Forbidden,
    /// A form post without the right CSRF token.
    #[error("CSRF token missing or wrong")]
    Csrf,
    /// A form body that could not be read.
    #[error("malformed form")]
    BadForm,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl PageError {
    /// Heading and message of the error page, in `lang`.
    pub fn texts(&self, lang: Lang) -> (String, String) {
        let (h, m) = match self {
            PageError::Login { .. } => (
                lang.pick("Cần đăng nhập", "Login required"),
                lang.pick("Vui lòng đăng nhập.", "Please log in."),
            ),
            PageError::Forbidden => (
                lang.pick("Không có quyền truy cập", "Not allowed"),
                lang.pick(
                    "Tài khoản của bạn không có quyền xem trang này.",
                    "Your account is not allowed to see this page.",
                ),
            ),
            PageError::Csrf => (
                lang.pick("Biểu mẫu đã hết hạn", "The form has expired"),
                lang.pick(
                    "Biểu mẫu này không còn hợp lệ (có thể do trang đã mở quá lâu hoặc được gửi từ trang khác). Vui lòng quay lại, tải lại trang rồi thử lại.",
                    "This form is no longer valid (the page may have been open too long, or it was sent from another site). Please go back, reload the page and try again.",
                ),
            ),
            PageError::BadForm => (
                lang.pick("Yêu cầu không hợp lệ", "Bad request"),
                lang.pick(
                    "Không đọc được biểu mẫu. Vui lòng tải lại trang và thử lại.",
                    "The form could not be read. Please reload the page and try again.",
                ),
            ),
            PageError::Service(e) => {
                return (
                    lang.pick("Không thực hiện được", "Could not do this").to_owned(),
                    e.message(lang),
                );
            }
        };
        (h.to_owned(), m.to_owned())
    }
}

impl poem::error::ResponseError for PageError {
    fn status(&self) -> StatusCode {
        match self {
            PageError::Login { .. } => StatusCode::SEE_OTHER,
            PageError::Forbidden | PageError::Csrf => StatusCode::FORBIDDEN,
            PageError::BadForm => StatusCode::BAD_REQUEST,
            PageError::Service(e) => service_status(e),
        }
    }

    fn as_response(&self) -> Response {
        match self {
            PageError::Login { next } => login_redirect(next),
            _ => self.status().into_response(),
        }
    }
}

/// The HTTP status that goes with a refusal from a use case.
pub fn service_status(e: &ServiceError) -> StatusCode {
    match e {
        ServiceError::Invalid(_)
        | ServiceError::Conflict { .. }
        | ServiceError::BadCredentials
        | ServiceError::TokenInvalid
        | ServiceError::NotVerified
        | ServiceError::Transition { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::InEntry { cause, .. } => service_status(cause),
        ServiceError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        ServiceError::Unauthenticated | ServiceError::Disabled | ServiceError::Forbidden => {
            StatusCode::FORBIDDEN
        }
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        ServiceError::Store(_) | ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `303 See Other` to `/login?next=…`.
pub fn login_redirect(next: &str) -> Response {
    see_other(&format!("/login?next={}", super::pages::urlencode(next)))
}

/// `303 See Other`: where a form post goes after it succeeded.
pub fn see_other(location: &str) -> Response {
    Redirect::see_other(location).into_response()
}

/// Renders a template, or a bare 500 when the template fails.
pub fn render(status: StatusCode, t: &impl Template) -> Response {
    super::pages::render(status, t)
}

/// The request's path and query, to come back to after a login.
fn here(req: &Request) -> String {
    req.uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_owned(), |pq| pq.as_str().to_owned())
}

/// What a page handler starts from.
pub struct Page {
    pub lang: Lang,
    pub actor: Option<Actor>,
    pub chrome: Chrome,
    here: String,
}

impl Page {
    /// For pages with forms: the CSRF cookie is set when missing.
    pub async fn load(req: &Request, ctx: &Ctx, names: &ContestNames) -> Result<Page, PageError> {
        Page::build(req, ctx, names, true).await
    }

    /// For read-only pages: a CSRF token is made only for the logout button of a logged-in
    /// person, so anonymous visitors get no cookie.
    pub async fn load_public(
        req: &Request,
        ctx: &Ctx,
        names: &ContestNames,
    ) -> Result<Page, PageError> {
        Page::build(req, ctx, names, false).await
    }

    async fn build(
        req: &Request,
        ctx: &Ctx,
        names: &ContestNames,
        forms: bool,
    ) -> Result<Page, PageError> {
        let lang = Lang::detect(req);
        let actor = current_actor(req, ctx).await?;
        let mut chrome = Chrome::new(req, lang, names);
        if forms || actor.is_some() {
            chrome.csrf = csrf_token(req, ctx);
        }
        chrome.user = actor.as_ref().map(|a| ChromeUser {
            name: a.user.full_name.clone(),
            participant: a.role() == Role::Participant,
            organizer: a.role() == Role::Organizer,
        });
        Ok(Page {
            lang,
            actor,
            chrome,
            here: here(req),
        })
    }

    /// The logged-in account, or a redirect to the login page that comes back here.
    pub fn actor(&self) -> Result<&Actor, PageError> {
        self.actor.as_ref().ok_or_else(|| PageError::Login {
            next: self.here.clone(),
        })
    }

    /// The logged-in account for a form post; without one, the login page comes back to `page`
    /// (the form's page, since a POST address cannot be opened again).
    pub fn actor_back_to(&self, page: &str) -> Result<&Actor, PageError> {
        self.actor.as_ref().ok_or_else(|| PageError::Login {
            next: page.to_owned(),
        })
    }

    /// The logged-in account if the authorization table lets its role do `action`; others get a
    /// 403 page, anonymous visitors the login page.
    pub fn allowed_to(&self, action: Action) -> Result<&Actor, PageError> {
        let actor = self.actor()?;
        actor.require(action).map_err(|_| PageError::Forbidden)?;
        Ok(actor)
    }

    /// As [`Page::allowed_to`], for a form post whose login should come back to `page`.
    pub fn allowed_back_to(&self, page: &str, action: Action) -> Result<&Actor, PageError> {
        let actor = self.actor_back_to(page)?;
        actor.require(action).map_err(|_| PageError::Forbidden)?;
        Ok(actor)
    }

    /// Where a login from this page should come back to.
    pub fn here(&self) -> &str {
        &self.here
    }
}
