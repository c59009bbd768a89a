//! Organizer pages: judge invitations, users (disable, re-enable), the outbox (retry failed
//! mail) and the audit log. Anonymous visitors are sent to the login page; other accounts get a
//! 403 page (`Page::organizer`).

use crate::domain::authz::Action;
use askama::Template;
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::accounts::mail_status;
use super::forms::FormErrors;
use super::pages::{Chrome, ContestNames, urlencode};
use super::session::{Posted, safe_next};
use super::view::{Page, PageError, render, see_other, service_status};
use crate::domain::account::Role;
use crate::domain::time::Millis;
use crate::i18n::Lang;
use crate::service::admin::{self, AuditQuery, OutboxQuery, Paging};
use crate::service::{Actor, Ctx, ServiceError};
use crate::store::admin::InvitationStatus;
use crate::store::outbox::OutboxStatus;

type PageResult = Result<Response, PageError>;

const PER_PAGE: u32 = 25;

/// An option of a filter select.
pub struct Choice {
    pub code: String,
    pub name: String,
    pub selected: bool,
}

/// Page links: the filter query (ending in `&` when not empty) and the numbers.
pub struct Pager {
    pub base: String,
    pub query: String,
    pub page: u32,
    pub pages: u32,
    pub total: i64,
}

impl Pager {
    fn new(base: &str, filters: &[(&str, &str)], page: u32, total: i64) -> Pager {
        let mut query = String::new();
        for (k, v) in filters {
            if !v.is_empty() {
                query.push_str(&format!("{k}={}&", urlencode(v)));
            }
        }
        let pages = u32::try_from(total.max(0))
            .unwrap_or(u32::MAX)
            .div_ceil(PER_PAGE);
        Pager {
            base: base.to_owned(),
            query,
            page,
            pages,
            total,
        }
    }

    /// Where a form on this page sends the person back to (this page with its filters).
    fn here(&self) -> String {
        format!("{}?{}page={}", self.base, self.query, self.page)
    }
}

fn page_number(s: &str) -> u32 {
    s.trim().parse::<u32>().ok().filter(|p| *p > 0).unwrap_or(1)
}

fn paging(page: u32) -> Paging {
    Paging {
        page,
        per_page: PER_PAGE,
    }
}

fn when(ms: i64) -> String {
    Millis(ms).display_ict()
}

/// An organizer page's `back` field, if it points at an organizer page; else `fallback`.
fn back_to(back: &str, fallback: &str, flash: &str) -> String {
    let base = safe_next(back)
        .filter(|b| b.starts_with("/organizer/"))
        .unwrap_or(fallback);
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}m={flash}")
}

fn organizer_flash(code: &str, lang: Lang) -> &'static str {
    match code {
        "invited" => lang.pick("Đã gửi lời mời làm giám khảo.", "The judge invitation is sent."),
        "disabled" => lang.pick(
            "Đã khoá tài khoản; các phiên đăng nhập của tài khoản đã kết thúc và người dùng được báo qua email.",
            "The account is disabled; its sessions have ended and its owner is told by email.",
        ),
        "enabled" => lang.pick("Đã mở khoá tài khoản.", "The account is enabled again."),
        "retried" => lang.pick(
            "Thư đã được đưa lại vào hàng đợi gửi.",
            "The message is queued again.",
        ),
        _ => "",
    }
}

/// A refusal of a list's filters shows on the page; anything else is an error page.
fn filter_errors(e: ServiceError, lang: Lang) -> Result<FormErrors, PageError> {
    match e {
        ServiceError::Invalid(_) | ServiceError::Conflict { .. } => {
            Ok(FormErrors::from_service(&e, lang, &[]))
        }
        other => Err(other.into()),
    }
}

// --- Judges -----------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct JudgesQuery {
    status: String,
    page: String,
    m: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct JudgeInviteForm {
    email: String,
    lang: String,
}

pub struct JudgeRow {
    pub email: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub inviter: String,
    pub created: String,
    pub expires: String,
    pub accepted_by: String,
}

#[derive(Template)]
#[template(path = "organizer_judges.html")]
struct JudgesPage {
    chrome: Chrome,
    flash: String,
    form: JudgeInviteForm,
    errors: FormErrors,
    statuses: Vec<Choice>,
    rows: Vec<JudgeRow>,
    pager: Pager,
}

fn invitation_status(s: InvitationStatus, lang: Lang) -> (&'static str, &'static str) {
    match s {
        InvitationStatus::Pending => (lang.pick("Đang chờ", "Pending"), "queued"),
        InvitationStatus::Accepted => (lang.pick("Đã nhận", "Accepted"), "ok"),
        InvitationStatus::Expired => (lang.pick("Hết hạn", "Expired"), "bad"),
        InvitationStatus::Replaced => (lang.pick("Đã thay bằng lời mời mới", "Replaced"), ""),
    }
}

async fn judges_page(
    ctx: &Ctx,
    page: Page,
    actor: &Actor,
    q: JudgesQuery,
    status: StatusCode,
    form: Option<(JudgeInviteForm, FormErrors)>,
) -> PageResult {
    let lang = page.lang;
    let filter = InvitationStatus::parse(&q.status);
    let n = page_number(&q.page);
    let list = admin::list_judge_invitations(ctx, actor, filter, paging(n)).await?;
    let rows = list
        .items
        .into_iter()
        .map(|r| {
            let (status, status_class) = invitation_status(r.status, lang);
            JudgeRow {
                email: r.email,
                status,
                status_class,
                inviter: r.inviter_name,
                created: when(r.created_at),
                expires: when(r.expires_at),
                accepted_by: r.accepted_by_name.unwrap_or_default(),
            }
        })
        .collect();
    let statuses = InvitationStatus::ALL
        .into_iter()
        .map(|s| Choice {
            code: s.code().to_owned(),
            name: invitation_status(s, lang).0.to_owned(),
            selected: Some(s) == filter,
        })
        .collect();
    let (form, errors) = form.unwrap_or_else(|| {
        (
            JudgeInviteForm {
                email: String::new(),
                lang: lang.code().to_owned(),
            },
            FormErrors::none(),
        )
    });
    Ok(render(
        status,
        &JudgesPage {
            flash: organizer_flash(&q.m, lang).to_owned(),
            form,
            errors,
            statuses,
            rows,
            pager: Pager::new(
                "/organizer/judges",
                &[("status", filter.map_or("", InvitationStatus::code))],
                n,
                list.total,
            ),
            chrome: page.chrome,
        },
    ))
}

#[handler]
pub async fn judges(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Query(q): Query<JudgesQuery>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page.allowed_to(Action::InviteJudges)?.clone();
    judges_page(&ctx, page, &actor, q, StatusCode::OK, None).await
}

#[handler]
pub async fn invite_judge(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<JudgeInviteForm>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page
        .allowed_back_to("/organizer/judges", Action::InviteJudges)?
        .clone();
    match admin::invite_judge(&ctx, &actor, &form.email, Lang::parse(&form.lang)).await {
        Ok(_) => Ok(see_other("/organizer/judges?m=invited")),
        Err(e) => {
            let errors = FormErrors::from_service(&e, page.lang, &[]);
            let status = service_status(&e);
            judges_page(
                &ctx,
                page,
                &actor,
                JudgesQuery::default(),
                status,
                Some((form, errors)),
            )
            .await
        }
    }
}

// --- Users ------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UsersQuery {
    q: String,
    role: String,
    page: String,
    m: String,
}

pub struct UserRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub organization: String,
    pub role: &'static str,
    pub verified: bool,
    pub disabled: bool,
    pub created: String,
    pub is_me: bool,
}

#[derive(Template)]
#[template(path = "organizer_users.html")]
struct UsersPage {
    chrome: Chrome,
    flash: String,
    errors: FormErrors,
    q: String,
    roles: Vec<Choice>,
    rows: Vec<UserRow>,
    pager: Pager,
    back: String,
}

fn role_name(role: Role, lang: Lang) -> &'static str {
    lang.pick(role.name_vi(), role.name_en())
}

async fn users_page(
    ctx: &Ctx,
    page: Page,
    actor: &Actor,
    q: UsersQuery,
    status: StatusCode,
    errors: FormErrors,
) -> PageResult {
    let lang = page.lang;
    let role = Role::from_code(q.role.trim());
    let n = page_number(&q.page);
    let text = q.q.trim().to_owned();
    let list = admin::list_users(ctx, actor, role, Some(text.as_str()), paging(n)).await?;
    let total = list.total;
    let rows = list
        .items
        .into_iter()
        .map(|u| UserRow {
            is_me: u.id == actor.user.id,
            role: role_name(u.role, lang),
            verified: u.email_verified_at.is_some(),
            disabled: u.disabled_at.is_some(),
            created: when(u.created_at),
            id: u.id,
            name: u.full_name,
            email: u.email,
            organization: u.organization,
        })
        .collect();
    let roles = [Role::Participant, Role::Judge, Role::Organizer]
        .into_iter()
        .map(|r| Choice {
            code: r.code().to_owned(),
            name: role_name(r, lang).to_owned(),
            selected: Some(r) == role,
        })
        .collect();
    let pager = Pager::new(
        "/organizer/users",
        &[("q", &text), ("role", role.map_or("", Role::code))],
        n,
        total,
    );
    Ok(render(
        status,
        &UsersPage {
            flash: organizer_flash(&q.m, lang).to_owned(),
            errors,
            q: text,
            roles,
            rows,
            back: pager.here(),
            pager,
            chrome: page.chrome,
        },
    ))
}

#[handler]
pub async fn users(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Query(q): Query<UsersQuery>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page.allowed_to(Action::ManageUsers)?.clone();
    users_page(&ctx, page, &actor, q, StatusCode::OK, FormErrors::none()).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UserActionForm {
    user_id: String,
    back: String,
}

async fn user_action(
    req: &Request,
    ctx: &Ctx,
    names: &ContestNames,
    form: UserActionForm,
    disable: bool,
) -> PageResult {
    let page = Page::load(req, ctx, names).await?;
    let actor = page
        .allowed_back_to("/organizer/users", Action::ManageUsers)?
        .clone();
    let done = if disable {
        admin::disable_user(ctx, &actor, &form.user_id).await
    } else {
        admin::enable_user(ctx, &actor, &form.user_id).await
    };
    match done {
        Ok(_) => Ok(see_other(&back_to(
            &form.back,
            "/organizer/users",
            if disable { "disabled" } else { "enabled" },
        ))),
        Err(e) => {
            let errors = FormErrors::form(e.message(page.lang));
            let status = service_status(&e);
            users_page(ctx, page, &actor, UsersQuery::default(), status, errors).await
        }
    }
}

#[handler]
pub async fn disable_user(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<UserActionForm>,
) -> PageResult {
    user_action(req, &ctx, &names, form, true).await
}

#[handler]
pub async fn enable_user(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<UserActionForm>,
) -> PageResult {
    user_action(req, &ctx, &names, form, false).await
}

// --- Outbox -----------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OutboxParams {
    status: String,
    recipient: String,
    kind: String,
    page: String,
    m: String,
}

pub struct StatusCount {
    pub code: &'static str,
    pub name: &'static str,
    pub count: i64,
    pub selected: bool,
}

pub struct MailRow {
    pub id: String,
    pub subject: String,
    pub to: String,
    pub kind: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub failed: bool,
    pub attempts: i64,
    pub created: String,
    pub sent: String,
    pub last_error: String,
}

#[derive(Template)]
#[template(path = "organizer_outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    flash: String,
    errors: FormErrors,
    counts: Vec<StatusCount>,
    /// A status is picked.
    filtered: bool,
    total: i64,
    recipient: String,
    kinds: Vec<Choice>,
    rows: Vec<MailRow>,
    pager: Pager,
    back: String,
}

const MAIL_KINDS: [(&str, &str, &str); 6] = [
    ("verify_email", "Xác nhận email", "Email verification"),
    ("password_reset", "Đặt lại mật khẩu", "Password reset"),
    ("email_change", "Đổi email", "Email change"),
    ("team_invitation", "Mời vào đội", "Team invitation"),
    ("judge_invitation", "Mời làm giám khảo", "Judge invitation"),
    ("account_disabled", "Khoá tài khoản", "Account disabled"),
];

async fn outbox_page(
    ctx: &Ctx,
    page: Page,
    actor: &Actor,
    p: OutboxParams,
    status: StatusCode,
    errors: FormErrors,
) -> PageResult {
    let lang = page.lang;
    let filter = OutboxStatus::parse(p.status.trim());
    let kind = MAIL_KINDS
        .iter()
        .find(|(code, _, _)| *code == p.kind.trim())
        .map(|(code, _, _)| *code);
    let recipient = p.recipient.trim().to_owned();
    let n = page_number(&p.page);
    let view = admin::list_outbox(
        ctx,
        actor,
        OutboxQuery {
            status: filter,
            recipient: Some(recipient.clone()),
            kind: kind.map(str::to_owned),
        },
        paging(n),
    )
    .await?;
    let counts = OutboxStatus::ALL
        .into_iter()
        .map(|s| StatusCount {
            code: s.code(),
            name: mail_status(s, lang).0,
            count: view.counts.get(s),
            selected: Some(s) == filter,
        })
        .collect();
    let rows = view
        .page
        .items
        .into_iter()
        .map(|m| {
            let (status, status_class) = mail_status(m.status, lang);
            MailRow {
                failed: m.status == OutboxStatus::Failed,
                id: m.id,
                subject: m.subject,
                to: m.to_email,
                kind: MAIL_KINDS
                    .iter()
                    .find(|(code, _, _)| *code == m.kind)
                    .map_or(m.kind.clone(), |(_, vi, en)| lang.pick(vi, en).to_owned()),
                status,
                status_class,
                attempts: m.attempts,
                created: when(m.created_at),
                sent: m.sent_at.map(when).unwrap_or_default(),
                last_error: m.last_error.unwrap_or_default(),
            }
        })
        .collect();
    let kinds = MAIL_KINDS
        .iter()
        .map(|(code, vi, en)| Choice {
            code: (*code).to_owned(),
            name: lang.pick(vi, en).to_owned(),
            selected: Some(*code) == kind,
        })
        .collect();
    let pager = Pager::new(
        "/organizer/outbox",
        &[
            ("status", filter.map_or("", OutboxStatus::code)),
            ("recipient", &recipient),
            ("kind", kind.unwrap_or("")),
        ],
        n,
        view.page.total,
    );
    Ok(render(
        status,
        &OutboxPage {
            flash: organizer_flash(&p.m, lang).to_owned(),
            errors,
            counts,
            filtered: filter.is_some(),
            total: view.counts.total(),
            recipient,
            kinds,
            rows,
            back: pager.here(),
            pager,
            chrome: page.chrome,
        },
    ))
}

#[handler]
pub async fn outbox(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Query(p): Query<OutboxParams>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page.allowed_to(Action::ManageMail)?.clone();
    outbox_page(&ctx, page, &actor, p, StatusCode::OK, FormErrors::none()).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RetryForm {
    id: String,
    back: String,
}

#[handler]
pub async fn retry_mail(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<RetryForm>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page
        .allowed_back_to("/organizer/outbox", Action::ManageMail)?
        .clone();
    match admin::retry_mail(&ctx, &actor, &form.id).await {
        Ok(()) => Ok(see_other(&back_to(
            &form.back,
            "/organizer/outbox",
            "retried",
        ))),
        Err(e) => {
            let errors = FormErrors::form(e.message(page.lang));
            let status = service_status(&e);
            outbox_page(&ctx, page, &actor, OutboxParams::default(), status, errors).await
        }
    }
}

// --- Audit log --------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AuditParams {
    actor: String,
    action: String,
    subject: String,
    page: String,
}

pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub ip: String,
    pub before: String,
    pub after: String,
}

#[derive(Template)]
#[template(path = "organizer_audit.html")]
struct AuditPage {
    chrome: Chrome,
    errors: FormErrors,
    actor: String,
    action: String,
    subject: String,
    rows: Vec<AuditRow>,
    pager: Pager,
}

#[handler]
pub async fn audit(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Query(p): Query<AuditParams>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page.allowed_to(Action::ReadAudit)?.clone();
    let lang = page.lang;
    let n = page_number(&p.page);
    let (actor_f, action_f, subject_f) = (
        p.actor.trim().to_owned(),
        p.action.trim().to_owned(),
        p.subject.trim().to_owned(),
    );
    let query = AuditQuery {
        actor: Some(actor_f.clone()),
        action: Some(action_f.clone()),
        subject: Some(subject_f.clone()),
    };
    let (items, total, errors, status) =
        match admin::list_audit(&ctx, &actor, query, paging(n)).await {
            Ok(list) => (list.items, list.total, FormErrors::none(), StatusCode::OK),
            Err(e) => {
                let status = service_status(&e);
                (Vec::new(), 0, filter_errors(e, lang)?, status)
            }
        };
    let system = lang.pick("Hệ thống", "System");
    let rows = items
        .into_iter()
        .map(|i| AuditRow {
            at: when(i.entry.at),
            actor: match (i.actor_name, i.actor_email) {
                (Some(name), Some(email)) => format!("{name} <{email}>"),
                _ => i.entry.actor_id.unwrap_or_else(|| system.to_owned()),
            },
            action: i.entry.action,
            subject: format!("{} {}", i.entry.subject_type, i.entry.subject_id),
            ip: i.entry.ip.unwrap_or_default(),
            before: i.entry.before.unwrap_or_default(),
            after: i.entry.after.unwrap_or_default(),
        })
        .collect();
    let pager = Pager::new(
        "/organizer/audit",
        &[
            ("actor", &actor_f),
            ("action", &action_f),
            ("subject", &subject_f),
        ],
        n,
        total,
    );
    Ok(render(
        status,
        &AuditPage {
            chrome: page.chrome,
            errors,
            actor: actor_f,
            action: action_f,
            subject: subject_f,
            rows,
            pager,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_links_stay_on_organizer_pages() {
        assert_eq!(
            back_to(
                "/organizer/users?q=an&page=2",
                "/organizer/users",
                "disabled"
            ),
            "/organizer/users?q=an&page=2&m=disabled"
        );
        assert_eq!(
            back_to("//evil.example/organizer/", "/organizer/users", "enabled"),
            "/organizer/users?m=enabled"
        );
        assert_eq!(
            back_to("/account", "/organizer/outbox", "retried"),
            "/organizer/outbox?m=retried"
        );
    }

    #[test]
    fn pager_counts_pages() {
        let p = Pager::new("/organizer/users", &[("q", "Hà"), ("role", "")], 2, 51);
        assert_eq!(p.pages, 3);
        assert_eq!(p.query, "q=H%C3%A0&");
        assert_eq!(p.here(), "/organizer/users?q=H%C3%A0&page=2");
    }
}
