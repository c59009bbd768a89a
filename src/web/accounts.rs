//! Account pages: register, verify the email address, log in and out, forgotten password,
//! profile (with password and email changes and one's notifications), confirm a new address.
//!
//! Every form post goes through `Posted` (CSRF check) and, on success, redirects (303) or shows
//! a result page; on error the form comes back with the person's input (never a password) and a
//! message under each field at fault.

use askama::Template;
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::forms::FormErrors;
use super::pages::{Chrome, ContestNames};
use super::session::{NoFields, Posted, end_session, remember_lang, safe_next, start_session};
use super::view::{Page, PageError, render, see_other, service_status};
use crate::api::auth::client_ip;
use crate::domain::account::Role;
use crate::domain::time::Millis;
use crate::i18n::Lang;
use crate::service::accounts::{
    self, PURPOSE_EMAIL_CHANGE, PURPOSE_RESET, PURPOSE_VERIFY, ProfileUpdate, Registration,
};
use crate::service::{Actor, Ctx, ServiceError};
use crate::store::outbox::OutboxStatus;

type PageResult = Result<Response, PageError>;

/// Where someone lands after logging in without a `next`.
pub fn home_for(role: Role) -> &'static str {
    match role {
        Role::Participant => "/team",
        Role::Organizer => "/organizer/users",
        Role::Judge => "/account",
    }
}

// --- A result page ----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "notice.html")]
pub struct NoticePage {
    pub chrome: Chrome,
    pub heading: String,
    pub message: String,
    /// A second paragraph; empty for none.
    pub detail: String,
    /// A link to go on with: (href, label); empty href for none.
    pub link: (String, String),
}

pub fn notice(
    status: StatusCode,
    chrome: Chrome,
    heading: &str,
    message: &str,
    detail: &str,
    link: (&str, &str),
) -> Response {
    render(
        status,
        &NoticePage {
            chrome,
            heading: heading.to_owned(),
            message: message.to_owned(),
            detail: detail.to_owned(),
            link: (link.0.to_owned(), link.1.to_owned()),
        },
    )
}

// --- Register ---------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RegisterForm {
    email: String,
    full_name: String,
    password: String,
    organization: String,
    phone: String,
    lang: String,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    chrome: Chrome,
    form: RegisterForm,
    errors: FormErrors,
}

#[handler]
pub async fn register_form(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    if let Some(actor) = &page.actor {
        return Ok(see_other(home_for(actor.role())));
    }
    let form = RegisterForm {
        lang: page.lang.code().to_owned(),
        ..RegisterForm::default()
    };
    Ok(render(
        StatusCode::OK,
        &RegisterPage {
            chrome: page.chrome,
            form,
            errors: FormErrors::none(),
        },
    ))
}

#[handler]
pub async fn register(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(mut form): Posted<RegisterForm>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let lang = page.lang;
    let registration = Registration {
        email: form.email.clone(),
        full_name: form.full_name.clone(),
        password: std::mem::take(&mut form.password),
        organization: form.organization.clone(),
        phone: form.phone.clone(),
        lang: Lang::parse(&form.lang),
    };
    match accounts::register(&ctx, registration, client_ip(req).as_deref()).await {
        Ok(()) => {
            let message = format!(
                "{} {}",
                lang.pick(
                    "Chúng tôi đã gửi một thư xác nhận tới",
                    "We have sent a confirmation message to"
                ),
                form.email.trim()
            );
            Ok(notice(
                StatusCode::OK,
                page.chrome,
                lang.pick("Hãy kiểm tra hộp thư", "Check your email"),
                &message,
                lang.pick(
                    "Mở thư và bấm vào liên kết để xác nhận địa chỉ email. Nếu không thấy thư, hãy xem thư mục Spam hoặc Quảng cáo. Liên kết có hiệu lực trong 48 giờ.",
                    "Open it and follow the link to confirm your address. If you cannot find it, look in the Spam folder. The link is valid for 48 hours.",
                ),
                ("/login", lang.pick("Đến trang đăng nhập", "Go to the login page")),
            ))
        }
        Err(e) => Ok(render(
            service_status(&e),
            &RegisterPage {
                chrome: page.chrome,
                errors: FormErrors::from_service(&e, lang, &[]),
                form,
            },
        )),
    }
}

// --- Links with a one-time token: verify email, confirm a new email -------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenQuery {
    token: String,
}

#[derive(Template)]
#[template(path = "token_confirm.html")]
struct TokenPage {
    chrome: Chrome,
    heading: String,
    intro: String,
    usable: bool,
    action: &'static str,
    token: String,
    button: String,
    errors: FormErrors,
}

fn invalid_link_message(lang: Lang) -> String {
    ServiceError::TokenInvalid.message(lang)
}

async fn token_page(
    req: &Request,
    ctx: &Ctx,
    names: &ContestNames,
    token: String,
    purpose: &str,
) -> PageResult {
    let page = Page::load(req, ctx, names).await?;
    let lang = page.lang;
    let usable = !token.is_empty() && accounts::token_is_usable(ctx, &token, purpose).await?;
    let (heading, intro, action, button) = if purpose == PURPOSE_VERIFY {
        (
            lang.pick("Xác nhận địa chỉ email", "Confirm your email address"),
            lang.pick(
                "Bấm nút bên dưới để hoàn tất việc xác nhận địa chỉ email của tài khoản.",
                "Press the button below to finish confirming your account's email address.",
            ),
            "/verify",
            lang.pick("Xác nhận email", "Confirm email"),
        )
    } else {
        (
            lang.pick(
                "Xác nhận địa chỉ email mới",
                "Confirm your new email address",
            ),
            lang.pick(
                "Bấm nút bên dưới để dùng địa chỉ này cho tài khoản của bạn từ nay.",
                "Press the button below to use this address for your account from now on.",
            ),
            "/confirm-email",
            lang.pick("Xác nhận địa chỉ mới", "Confirm new address"),
        )
    };
    let errors = if usable {
        FormErrors::none()
    } else {
        FormErrors::form(invalid_link_message(lang))
    };
    Ok(render(
        if usable {
            StatusCode::OK
        } else {
            StatusCode::GONE
        },
        &TokenPage {
            chrome: page.chrome,
            heading: heading.to_owned(),
            intro: intro.to_owned(),
            usable,
            action,
            token,
            button: button.to_owned(),
            errors,
        },
    ))
}

/// The link in the verification email opens this page; only its button (a POST) verifies, so
/// mail scanners that follow links do not.
#[handler]
pub async fn verify_page(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Query(q): Query<TokenQuery>,
) -> PageResult {
    token_page(req, &ctx, &names, q.token, PURPOSE_VERIFY).await
}

#[handler]
pub async fn verify(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<TokenQuery>,
) -> PageResult {
    match accounts::verify_email(&ctx, &form.token, client_ip(req).as_deref()).await {
        Ok(_) => {
            let page = Page::load(req, &ctx, &names).await?;
            Ok(see_other(if page.actor.is_some() {
                "/account?m=verified"
            } else {
                "/login?m=verified"
            }))
        }
        Err(ServiceError::TokenInvalid) => {
            token_page(req, &ctx, &names, String::new(), PURPOSE_VERIFY).await
        }
        Err(e) => Err(e.into()),
    }
}

#[handler]
pub async fn confirm_email_page(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Query(q): Query<TokenQuery>,
) -> PageResult {
    token_page(req, &ctx, &names, q.token, PURPOSE_EMAIL_CHANGE).await
}

#[handler]
pub async fn confirm_email(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<TokenQuery>,
) -> PageResult {
    match accounts::confirm_email_change(&ctx, &form.token, client_ip(req).as_deref()).await {
        Ok(_) => {
            let page = Page::load(req, &ctx, &names).await?;
            Ok(see_other(if page.actor.is_some() {
                "/account?m=email-changed"
            } else {
                "/login?m=email-changed"
            }))
        }
        Err(ServiceError::TokenInvalid) => {
            token_page(req, &ctx, &names, String::new(), PURPOSE_EMAIL_CHANGE).await
        }
        Err(e) => {
            let page = Page::load(req, &ctx, &names).await?;
            let lang = page.lang;
            Ok(notice(
                service_status(&e),
                page.chrome,
                lang.pick(
                    "Không đổi được địa chỉ email",
                    "The address was not changed",
                ),
                &e.message(lang),
                "",
                (
                    "/account",
                    lang.pick("Về trang tài khoản", "Back to my account"),
                ),
            ))
        }
    }
}

// --- Log in and out ---------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginQuery {
    next: String,
    m: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    next: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    flash: String,
    email: String,
    next: String,
    errors: FormErrors,
}

fn login_flash(code: &str, lang: Lang) -> &'static str {
    match code {
        "verified" => lang.pick(
            "Địa chỉ email đã được xác nhận. Mời bạn đăng nhập.",
            "Your email address is confirmed. Please log in.",
        ),
        "password-reset" => lang.pick(
            "Mật khẩu mới đã được lưu. Mời bạn đăng nhập.",
            "Your new password is saved. Please log in.",
        ),
        "email-changed" => lang.pick(
            "Địa chỉ email mới đã được xác nhận. Hãy đăng nhập bằng địa chỉ mới.",
            "Your new email address is confirmed. Log in with it.",
        ),
        "logged-out" => lang.pick("Bạn đã đăng xuất.", "You have logged out."),
        _ => "",
    }
}

#[handler]
pub async fn login_form(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Query(q): Query<LoginQuery>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let next = safe_next(&q.next).unwrap_or("").to_owned();
    if let Some(actor) = &page.actor {
        let to = if next.is_empty() {
            home_for(actor.role())
        } else {
            &next
        };
        return Ok(see_other(to));
    }
    let flash = login_flash(&q.m, page.lang).to_owned();
    Ok(render(
        StatusCode::OK,
        &LoginPage {
            chrome: page.chrome,
            flash,
            email: String::new(),
            next,
            errors: FormErrors::none(),
        },
    ))
}

#[handler]
pub async fn login(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<LoginForm>,
) -> PageResult {
    let next = safe_next(&form.next).unwrap_or("").to_owned();
    match accounts::login(&ctx, &form.email, &form.password, client_ip(req).as_deref()).await {
        Ok((token, user)) => {
            start_session(req, &ctx, &token, user.lang);
            let to = if next.is_empty() {
                home_for(user.role)
            } else {
                &next
            };
            Ok(see_other(to))
        }
        Err(e) => {
            let page = Page::load(req, &ctx, &names).await?;
            Ok(render(
                service_status(&e),
                &LoginPage {
                    errors: FormErrors::from_service(&e, page.lang, &[]),
                    chrome: page.chrome,
                    flash: String::new(),
                    email: form.email,
                    next,
                },
            ))
        }
    }
}

#[handler]
pub async fn logout(req: &Request, ctx: Data<&Ctx>, Posted(_): Posted<NoFields>) -> PageResult {
    if let Some(actor) = super::session::current_actor(req, &ctx).await? {
        accounts::logout(&ctx, &actor).await?;
    }
    end_session(req, &ctx);
    Ok(see_other("/login?m=logged-out"))
}

// --- Forgotten password -----------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ForgotForm {
    email: String,
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    chrome: Chrome,
    email: String,
    errors: FormErrors,
}

#[handler]
pub async fn forgot_form(req: &Request, ctx: Data<&Ctx>, names: Data<&ContestNames>) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    Ok(render(
        StatusCode::OK,
        &ForgotPage {
            chrome: page.chrome,
            email: String::new(),
            errors: FormErrors::none(),
        },
    ))
}

#[handler]
pub async fn forgot(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<ForgotForm>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let lang = page.lang;
    match accounts::request_password_reset(&ctx, &form.email, client_ip(req).as_deref()).await {
        Ok(()) => Ok(notice(
            StatusCode::OK,
            page.chrome,
            lang.pick("Hãy kiểm tra hộp thư", "Check your email"),
            lang.pick(
                "Nếu địa chỉ này có tài khoản, chúng tôi đã gửi tới đó một liên kết để đặt lại mật khẩu.",
                "If this address has an account, we have sent a link to reset the password to it.",
            ),
            lang.pick(
                "Liên kết có hiệu lực trong thời gian ngắn và chỉ dùng được một lần. Nếu không thấy thư, hãy xem thư mục Spam.",
                "The link is valid for a short time and works once. If you cannot find the message, look in the Spam folder.",
            ),
            ("/login", lang.pick("Về trang đăng nhập", "Back to the login page")),
        )),
        Err(e) => Ok(render(
            service_status(&e),
            &ForgotPage {
                errors: FormErrors::from_service(&e, lang, &[]),
                chrome: page.chrome,
                email: form.email,
            },
        )),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResetForm {
    token: String,
    password: String,
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage {
    chrome: Chrome,
    usable: bool,
    token: String,
    errors: FormErrors,
}

#[handler]
pub async fn reset_form(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Query(q): Query<TokenQuery>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let usable =
        !q.token.is_empty() && accounts::token_is_usable(&ctx, &q.token, PURPOSE_RESET).await?;
    let errors = if usable {
        FormErrors::none()
    } else {
        FormErrors::form(invalid_link_message(page.lang))
    };
    Ok(render(
        if usable {
            StatusCode::OK
        } else {
            StatusCode::GONE
        },
        &ResetPage {
            chrome: page.chrome,
            usable,
            token: q.token,
            errors,
        },
    ))
}

#[handler]
pub async fn reset(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<ResetForm>,
) -> PageResult {
    match accounts::reset_password(&ctx, &form.token, &form.password, client_ip(req).as_deref())
        .await
    {
        Ok(()) => {
            // Every session of the account ended, this browser's too.
            end_session(req, &ctx);
            Ok(see_other("/login?m=password-reset"))
        }
        Err(e) => {
            let page = Page::load(req, &ctx, &names).await?;
            let usable = !matches!(e, ServiceError::TokenInvalid | ServiceError::Disabled);
            Ok(render(
                service_status(&e),
                &ResetPage {
                    errors: FormErrors::from_service(&e, page.lang, &[]),
                    chrome: page.chrome,
                    usable,
                    token: if usable { form.token } else { String::new() },
                },
            ))
        }
    }
}

// --- My account -------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AccountQuery {
    m: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ProfileForm {
    full_name: String,
    organization: String,
    phone: String,
    lang: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EmailForm {
    new_email: String,
    password: String,
}

pub struct NotificationRow {
    pub subject: String,
    pub to: String,
    pub when: String,
    pub status: &'static str,
    pub status_class: &'static str,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    flash: String,
    email: String,
    verified: bool,
    role_name: &'static str,
    profile: ProfileForm,
    profile_errors: FormErrors,
    password_errors: FormErrors,
    new_email: String,
    email_errors: FormErrors,
    notifications: Vec<NotificationRow>,
}

fn account_flash(code: &str, lang: Lang) -> &'static str {
    match code {
        "verified" => lang.pick(
            "Địa chỉ email đã được xác nhận.",
            "Your email address is confirmed.",
        ),
        "profile-saved" => lang.pick("Đã lưu thông tin cá nhân.", "Your profile is saved."),
        "password-changed" => lang.pick(
            "Đã đổi mật khẩu. Các phiên đăng nhập khác của bạn đã kết thúc.",
            "Your password is changed. Your other sessions have ended.",
        ),
        "email-sent" => lang.pick(
            "Chúng tôi đã gửi một liên kết xác nhận tới địa chỉ mới. Địa chỉ email chỉ được đổi sau khi bạn mở thư đó và bấm xác nhận.",
            "We have sent a confirmation link to the new address. Your email changes only after you open that message and confirm.",
        ),
        "email-changed" => lang.pick(
            "Địa chỉ email mới đã được xác nhận.",
            "Your new email address is confirmed.",
        ),
        "judge" => lang.pick(
            "Bạn đã nhận lời làm giám khảo. Ban tổ chức sẽ phân công bài cho bạn chấm.",
            "You have accepted to judge. The organizers will assign entries to you.",
        ),
        _ => "",
    }
}

fn role_name(role: Role, lang: Lang) -> &'static str {
    lang.pick(role.name_vi(), role.name_en())
}

pub fn mail_status(status: OutboxStatus, lang: Lang) -> (&'static str, &'static str) {
    match status {
        OutboxStatus::Queued => (lang.pick("Đang chờ gửi", "Queued"), "queued"),
        OutboxStatus::Sending => (lang.pick("Đang gửi", "Sending"), "queued"),
        OutboxStatus::Sent => (lang.pick("Đã gửi", "Sent"), "ok"),
        OutboxStatus::Failed => (lang.pick("Gửi lỗi", "Failed"), "bad"),
    }
}

/// Which of the account page's forms is coming back with errors.
enum AccountForm {
    None,
    Profile(ProfileForm, FormErrors),
    Password(FormErrors),
    Email(String, FormErrors),
}

async fn account_page(
    ctx: &Ctx,
    page: Page,
    actor: &Actor,
    status: StatusCode,
    flash: &str,
    form: AccountForm,
) -> PageResult {
    let lang = page.lang;
    let u = &actor.user;
    let notifications = ctx
        .store
        .notifications_for_user(&u.id, 50)
        .await
        .map_err(ServiceError::from)?
        .into_iter()
        .map(|n| {
            let (status, status_class) = mail_status(n.status, lang);
            NotificationRow {
                subject: n.subject,
                to: n.to_email,
                when: Millis(n.created_at).display_ict(),
                status,
                status_class,
            }
        })
        .collect();
    let mut profile = ProfileForm {
        full_name: u.full_name.clone(),
        organization: u.organization.clone(),
        phone: u.phone.clone().unwrap_or_default(),
        lang: u.lang.code().to_owned(),
    };
    let (mut profile_errors, mut password_errors, mut new_email, mut email_errors) = (
        FormErrors::none(),
        FormErrors::none(),
        String::new(),
        FormErrors::none(),
    );
    match form {
        AccountForm::None => {}
        AccountForm::Profile(f, e) => {
            profile = f;
            profile_errors = e;
        }
        AccountForm::Password(e) => password_errors = e,
        AccountForm::Email(email, e) => {
            new_email = email;
            email_errors = e;
        }
    }
    Ok(render(
        status,
        &AccountPage {
            flash: flash.to_owned(),
            email: u.email.clone(),
            verified: u.email_verified_at.is_some(),
            role_name: role_name(u.role, lang),
            profile,
            profile_errors,
            password_errors,
            new_email,
            email_errors,
            notifications,
            chrome: page.chrome,
        },
    ))
}

#[handler]
pub async fn account(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Query(q): Query<AccountQuery>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page.actor()?.clone();
    let flash = account_flash(&q.m, page.lang);
    account_page(&ctx, page, &actor, StatusCode::OK, flash, AccountForm::None).await
}

#[handler]
pub async fn update_profile(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<ProfileForm>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page.actor_back_to("/account")?.clone();
    let lang = Lang::parse(&form.lang).unwrap_or(actor.user.lang);
    let update = ProfileUpdate {
        full_name: form.full_name.clone(),
        organization: form.organization.clone(),
        phone: form.phone.clone(),
        lang,
    };
    match accounts::update_profile(&ctx, &actor, update).await {
        Ok(_) => {
            remember_lang(req, lang);
            Ok(see_other("/account?m=profile-saved"))
        }
        Err(e) => {
            let errors = FormErrors::from_service(&e, page.lang, &[]);
            let status = service_status(&e);
            account_page(
                &ctx,
                page,
                &actor,
                status,
                "",
                AccountForm::Profile(form, errors),
            )
            .await
        }
    }
}

#[handler]
pub async fn change_password(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<PasswordForm>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page.actor_back_to("/account")?.clone();
    match accounts::change_password(&ctx, &actor, &form.current_password, &form.new_password).await
    {
        Ok(()) => Ok(see_other("/account?m=password-changed")),
        Err(e) => {
            let errors = FormErrors::from_service(&e, page.lang, &[]);
            let status = service_status(&e);
            account_page(
                &ctx,
                page,
                &actor,
                status,
                "",
                AccountForm::Password(errors),
            )
            .await
        }
    }
}

#[handler]
pub async fn change_email(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<EmailForm>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page.actor_back_to("/account")?.clone();
    match accounts::request_email_change(&ctx, &actor, &form.new_email, &form.password).await {
        Ok(()) => Ok(see_other("/account?m=email-sent")),
        Err(e) => {
            let errors = FormErrors::from_service(&e, page.lang, &[]);
            let status = service_status(&e);
            account_page(
                &ctx,
                page,
                &actor,
                status,
                "",
                AccountForm::Email(form.new_email, errors),
            )
            .await
        }
    }
}
