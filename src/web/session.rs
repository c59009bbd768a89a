//! Who is on the page, and protection for every form post.
//!
//! **Session.** `dx_session` holds the token from `accounts::login` (HttpOnly, SameSite=Lax,
//! Secure when the public base URL is https). `current_actor` resolves it with
//! `accounts::authenticate`, the same check the API does for bearer tokens.
//!
//! **CSRF.** Double submit: a form page sets a random `dx_csrf` cookie (HttpOnly,
//! SameSite=Strict) and puts the same value in the form's hidden `csrf` field. Every POST handler
//! takes its form through [`Posted`], which refuses the request (a 403 page) unless the field and
//! the cookie are both present and equal. A cross-site page can make a browser post a form but can
//! neither read nor set the cookie, so it cannot know the value to put in the field.

use std::time::Duration;

use poem::web::cookie::{Cookie, SameSite};
use poem::web::{Form, RequestBody};
use poem::{Body, FromRequest, Request};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::view::PageError;
use crate::i18n::{self, Lang};
use crate::service::{Actor, Ctx, ServiceError, accounts, new_token};

pub const SESSION_COOKIE: &str = "dx_session";
pub const CSRF_COOKIE: &str = "dx_csrf";
/// The hidden form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
/// Largest form body read, in bytes.
const MAX_FORM_BYTES: usize = 64 * 1024;

fn secure(ctx: &Ctx) -> bool {
    ctx.config
        .server
        .public_base_url
        .to_ascii_lowercase()
        .starts_with("https://")
}

fn cookie(ctx: &Ctx, name: &str, value: &str, same_site: SameSite) -> Cookie {
    let mut c = Cookie::new_with_str(name, value);
    c.set_path("/");
    c.set_http_only(true);
    c.set_same_site(same_site);
    c.set_secure(secure(ctx));
    c
}

fn removal(ctx: &Ctx, name: &str, same_site: SameSite) -> Cookie {
    let mut c = cookie(ctx, name, "", same_site);
    c.make_removal();
    c
}

/// Starts a page session after a login: the session cookie, a fresh CSRF token (so a token
/// planted before the login is worthless after it), and the account's language.
pub fn start_session(req: &Request, ctx: &Ctx, token: &str, lang: Lang) {
    let mut c = cookie(ctx, SESSION_COOKIE, token, SameSite::Lax);
    c.set_max_age(Duration::from_secs(
        u64::from(ctx.config.accounts.session_days) * 24 * 3600,
    ));
    req.cookie().add(c);
    new_csrf(req, ctx);
    remember_lang(req, lang);
}

/// Ends the page session on this browser (the server side is `accounts::logout`).
pub fn end_session(req: &Request, ctx: &Ctx) {
    req.cookie()
        .add(removal(ctx, SESSION_COOKIE, SameSite::Lax));
    new_csrf(req, ctx);
}

/// Remembers a language the way the language switch does.
pub fn remember_lang(req: &Request, lang: Lang) {
    let mut c = Cookie::new_with_str(i18n::COOKIE, lang.code());
    c.set_path("/");
    c.set_max_age(Duration::from_secs(365 * 24 * 3600));
    c.set_same_site(SameSite::Lax);
    c.set_http_only(true);
    req.cookie().add(c);
}

/// The account logged in on this browser, if any. A cookie whose session has ended is removed.
pub async fn current_actor(req: &Request, ctx: &Ctx) -> Result<Option<Actor>, ServiceError> {
    let Some(token) = req
        .cookie()
        .get(SESSION_COOKIE)
        .map(|c| c.value_str().to_owned())
        .filter(|t| !t.is_empty())
    else {
        return Ok(None);
    };
    let mut actor = accounts::authenticate(ctx, &token, crate::api::auth::client_ip(req)).await?;
    if let Some(a) = actor.as_mut() {
        a.received_at = crate::service::ReceivedAt::of(req.extensions());
    }
    if actor.is_none() {
        req.cookie()
            .add(removal(ctx, SESSION_COOKIE, SameSite::Lax));
    }
    Ok(actor)
}

fn well_formed(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The CSRF token for the forms of the page being rendered: the browser's current one, or a new
/// one set in the `dx_csrf` cookie.
pub fn csrf_token(req: &Request, ctx: &Ctx) -> String {
    match req.cookie().get(CSRF_COOKIE) {
        Some(c) if well_formed(c.value_str()) => c.value_str().to_owned(),
        _ => new_csrf(req, ctx),
    }
}

fn new_csrf(req: &Request, ctx: &Ctx) -> String {
    let (token, _) = new_token();
    req.cookie()
        .add(cookie(ctx, CSRF_COOKIE, &token, SameSite::Strict));
    token
}

/// Compares without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a posted token matches the browser's CSRF cookie.
pub fn csrf_matches(req: &Request, sent: &str) -> bool {
    let Some(cookie) = req.cookie().get(CSRF_COOKIE) else {
        return false;
    };
    let expected = cookie.value_str();
    well_formed(expected) && same(sent.as_bytes(), expected.as_bytes())
}

/// The request header that carries the CSRF token for requests a page's script sends (the
/// attachment upload), where there is no form field to carry it.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// Whether a script's request carries the browser's CSRF token in [`CSRF_HEADER`]. The same
/// double-submit check as a form's field: a cross-site page can neither read the cookie nor, without
/// a CORS preflight we never grant, set a custom header.
pub fn csrf_header_matches(req: &Request) -> bool {
    req.header(CSRF_HEADER)
        .is_some_and(|sent| !sent.is_empty() && csrf_matches(req, sent))
}

#[derive(Deserialize, Default)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// A form posted from one of our pages: the CSRF token is checked before the form is read.
/// Every POST handler of the pages takes its input through this extractor.
pub struct Posted<T>(pub T);

/// A form with nothing but the CSRF token (e.g. the logout button).
#[derive(Deserialize, Default)]
pub struct NoFields {}

fn form_body(bytes: &bytes::Bytes) -> RequestBody {
    RequestBody::new(Body::from(bytes.clone()))
}

impl<'a, T: DeserializeOwned + Send> FromRequest<'a> for Posted<T> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = body
            .take()?
            .into_bytes_limit(MAX_FORM_BYTES)
            .await
            .map_err(|_| PageError::BadForm)?;
        let sent = Form::<CsrfOnly>::from_request(req, &mut form_body(&bytes))
            .await
            .map(|Form(f)| f.csrf)
            .unwrap_or_default();
        if sent.is_empty() || !csrf_matches(req, &sent) {
            tracing::warn!(path = %req.uri().path(), "form refused: CSRF token missing or wrong");
            return Err(PageError::Csrf.into());
        }
        let Form(form) = Form::<T>::from_request(req, &mut form_body(&bytes))
            .await
            .map_err(|_| PageError::BadForm)?;
        Ok(Posted(form))
    }
}

/// `next` when it is a path on this site (`/…`, not `//…` or `/\…`); anything else could send
/// people to another site after they log in.
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 512
        && next
            .chars()
            .all(|c| !c.is_control() && !c.is_whitespace() && c != '\\');
    ok.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next("/team"), Some("/team"));
        assert_eq!(
            safe_next("/team-invitations/accept?token=abc"),
            Some("/team-invitations/accept?token=abc")
        );
        for bad in [
            "",
            "team",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example/",
            "/ok\\..\\x",
            "/a b",
            "/a\nb",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn comparison_is_exact() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
        assert!(!same(b"", b"a"));
    }

    #[test]
    fn tokens_have_one_shape() {
        let (t, _) = new_token();
        assert!(well_formed(&t), "{t}");
        assert!(!well_formed("short"));
        assert!(!well_formed(&format!("{}=", &t[..42])));
    }
}
