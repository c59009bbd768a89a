//! Server-rendered pages (askama templates in `templates/`). Vietnamese by default; English via
//! `?lang=en`, `Accept-Language`, or the language switch, which a cookie remembers.

pub mod pages;

use poem::http::{StatusCode, header};
use poem::web::cookie::{Cookie, SameSite};
use poem::{Endpoint, IntoResponse, Request, Response, Route, get, handler};

use crate::i18n::{self, Lang};

const CSS: &str = include_str!("../../static/app.css");

#[handler]
fn stylesheet() -> Response {
    Response::builder()
        .content_type("text/css; charset=utf-8")
        .header(header::CACHE_CONTROL, "public, max-age=3600")
        .body(CSS)
}

pub fn routes() -> Route {
    Route::new()
        .at("/", get(pages::home))
        .at("/problems/:code", get(pages::problem))
        .at("/static/app.css", get(stylesheet))
}

/// Remembers a language chosen with `?lang=` in a cookie for a year.
pub async fn remember_language<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    if let Some(lang) = Lang::explicit(&req) {
        let mut cookie = Cookie::new_with_str(i18n::COOKIE, lang.code());
        cookie.set_path("/");
        cookie.set_max_age(std::time::Duration::from_secs(365 * 24 * 3600));
        cookie.set_same_site(SameSite::Lax);
        cookie.set_http_only(true);
        req.cookie().add(cookie);
    }
    next.call(req).await.map(IntoResponse::into_response)
}

/// An HTML error page for any error that reached the edge of the pages.
pub fn error_page(
    err: poem::Error,
    req_path: &str,
    lang: Lang,
    names: &pages::ContestNames,
) -> Response {
    let status = err.status();
    let (heading, message) = if status == StatusCode::NOT_FOUND {
        (
            lang.pick("Không tìm thấy trang", "Page not found"),
            lang.pick(
                "Địa chỉ này không tồn tại hoặc đã bị gỡ.",
                "This address does not exist or was removed.",
            ),
        )
    } else if status.is_client_error() {
        (
            lang.pick("Yêu cầu không hợp lệ", "Bad request"),
            lang.pick(
                "Yêu cầu không được chấp nhận. Vui lòng kiểm tra lại.",
                "The request was not accepted. Please check it.",
            ),
        )
    } else {
        tracing::error!(error = %err, "page failed");
        (
            lang.pick("Lỗi máy chủ", "Server error"),
            lang.pick(
                "Máy chủ gặp lỗi. Vui lòng thử lại sau.",
                "The server failed. Please try again later.",
            ),
        )
    };
    pages::render_error(status, heading, message, req_path, lang, names)
}
