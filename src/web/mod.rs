//! Server-rendered pages (askama templates in `templates/`). Vietnamese by default; English via
//! `?lang=en`, `Accept-Language`, or the language switch, which a cookie remembers.

pub mod accounts;
pub mod entries;
pub mod forms;
pub mod invitations;
pub mod organizer;
pub mod organizer_entries;
pub mod organizer_timeline;
pub mod pages;
pub mod session;
pub mod teams;
pub mod view;

use poem::http::{StatusCode, header};
use poem::web::cookie::{Cookie, SameSite};
use poem::{Request, Response, Route, get, handler, post};

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
        .at(
            "/register",
            get(accounts::register_form).post(accounts::register),
        )
        .at("/verify", get(accounts::verify_page).post(accounts::verify))
        .at("/login", get(accounts::login_form).post(accounts::login))
        .at("/logout", post(accounts::logout))
        .at(
            "/forgot-password",
            get(accounts::forgot_form).post(accounts::forgot),
        )
        .at(
            "/reset-password",
            get(accounts::reset_form).post(accounts::reset),
        )
        .at("/account", get(accounts::account))
        .at("/account/profile", post(accounts::update_profile))
        .at("/account/password", post(accounts::change_password))
        .at("/account/email", post(accounts::change_email))
        .at(
            "/confirm-email",
            get(accounts::confirm_email_page).post(accounts::confirm_email),
        )
        .at("/team", get(teams::team_home).post(teams::create_team))
        .at("/team/invite", post(teams::invite))
        .at("/team/revoke", post(teams::revoke))
        .at("/team/remove", post(teams::remove))
        .at("/team/hand-over", post(teams::hand_over))
        .at("/team/leave", post(teams::leave))
        .at(
            "/team-invitations/accept",
            get(invitations::team_page).post(invitations::team_accept),
        )
        .at(
            "/team-invitations/accept/new-account",
            post(invitations::team_new_account),
        )
        .at(
            "/judge-invitations/accept",
            get(invitations::judge_page).post(invitations::judge_accept),
        )
        .at(
            "/judge-invitations/accept/new-account",
            post(invitations::judge_new_account),
        )
        .at(
            "/organizer/judges",
            get(organizer::judges).post(organizer::invite_judge),
        )
        .at("/organizer/users", get(organizer::users))
        .at("/organizer/users/disable", post(organizer::disable_user))
        .at("/organizer/users/enable", post(organizer::enable_user))
        .at("/organizer/outbox", get(organizer::outbox))
        .at("/organizer/outbox/retry", post(organizer::retry_mail))
        .at("/organizer/audit", get(organizer::audit))
        .at(
            "/entries",
            get(entries::my_entries).post(entries::create_entry),
        )
        .at("/entries/:id", get(entries::entry).post(entries::save))
        .at("/entries/:id/submit", post(entries::submit))
        .at("/entries/:id/withdraw", post(entries::withdraw))
        .at("/entries/:id/delete", post(entries::delete))
        .at("/entries/:id/attachments", post(entries::upload))
        .at("/entries/:id/attachments/:aid", get(entries::download))
        .at(
            "/entries/:id/attachments/:aid/remove",
            post(entries::remove_attachment),
        )
        .at("/entries/:id/receipts/:version", get(entries::receipt))
        .at("/organizer/entries", get(organizer_entries::entry_list))
        .at("/organizer/entries.csv", get(organizer_entries::export_csv))
        .at(
            "/organizer/entries/status",
            post(organizer_entries::bulk_status),
        )
        .at("/organizer/entries/:id", get(organizer_entries::detail))
        .at(
            "/organizer/entries/:id/status",
            post(organizer_entries::change_status),
        )
        .at(
            "/organizer/timeline",
            get(organizer_timeline::show).post(organizer_timeline::save),
        )
        .at(
            "/organizer/timeline/extensions",
            post(organizer_timeline::grant),
        )
        .at(
            "/organizer/timeline/extensions/revoke",
            post(organizer_timeline::revoke),
        )
}

/// Remembers a language chosen with `?lang=` in a cookie for a year.
pub fn remember_language(req: &Request) {
    if let Some(lang) = Lang::explicit(req) {
        let mut cookie = Cookie::new_with_str(i18n::COOKIE, lang.code());
        cookie.set_path("/");
        cookie.set_max_age(std::time::Duration::from_secs(365 * 24 * 3600));
        cookie.set_same_site(SameSite::Lax);
        cookie.set_http_only(true);
        req.cookie().add(cookie);
    }
}

/// An HTML error page for any error that reached the edge of the pages.
pub fn error_page(
    err: poem::Error,
    req_path: &str,
    lang: Lang,
    names: &pages::ContestNames,
) -> Response {
    if let Some(refusal) = err.downcast_ref::<view::PageError>() {
        if let view::PageError::Login { next } = refusal {
            return view::login_redirect(next);
        }
        if let view::PageError::Service(e) = refusal
            && matches!(
                e,
                crate::service::ServiceError::Store(_) | crate::service::ServiceError::Internal(_)
            )
        {
            tracing::error!(error = %e, "page failed");
        }
        let (heading, message) = refusal.texts(lang);
        return pages::render_error(err.status(), &heading, &message, req_path, lang, names);
    }
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
