//! The pages behind invitation links, for a team and for judging. One page shape for both:
//! - the link is unusable → a clear message;
//! - logged in with the invited address → an accept button;
//! - logged in with another address → say so (log out first);
//! - not logged in and the address has an account → a link to log in and come back;
//! - else → a short form that creates the account and accepts in one step.

use askama::Template;
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::forms::FormErrors;
use super::pages::{Chrome, ContestNames, urlencode};
use super::session::{Posted, start_session};
use super::view::{Page, PageError, render, see_other, service_status};
use crate::api::auth::client_ip;
use crate::i18n::Lang;
use crate::service::{Ctx, ServiceError, accounts, admin, teams};

type PageResult = Result<Response, PageError>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Team,
    Judge,
}

impl Kind {
    fn base(self) -> &'static str {
        match self {
            Kind::Team => "/team-invitations/accept",
            Kind::Judge => "/judge-invitations/accept",
        }
    }
}

/// What the page offers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    Invalid,
    Accept,
    WrongAccount,
    LogIn,
    Register,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenQuery {
    token: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewAccountForm {
    token: String,
    full_name: String,
    password: String,
    organization: String,
    phone: String,
    lang: String,
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    chrome: Chrome,
    heading: String,
    /// What the invitation is, in a sentence.
    about: String,
    email: String,
    offer: Offer,
    token: String,
    accept_action: String,
    register_action: String,
    login_link: String,
    form: NewAccountForm,
    errors: FormErrors,
}

/// What the link says, read without using it: (about, invited email), or None when unusable.
async fn look(
    ctx: &Ctx,
    kind: Kind,
    token: &str,
    lang: Lang,
) -> Result<Option<(String, String, bool)>, ServiceError> {
    if token.is_empty() {
        return Ok(None);
    }
    match kind {
        Kind::Team => Ok(teams::invitation_info(ctx, token)
            .await?
            .map(|(team, email, exists)| {
                let about = format!(
                    "{} «{}».",
                    lang.pick(
                        "Bạn được mời tham gia đội thi",
                        "You are invited to join the team"
                    ),
                    team
                );
                (about, email, exists)
            })),
        Kind::Judge => {
            let info = admin::invitation_info(ctx, token).await?;
            let (true, Some(email)) = (info.valid, info.email) else {
                return Ok(None);
            };
            let about = match info.inviter_name {
                Some(name) => format!(
                    "{} {}.",
                    lang.pick(
                        "Bạn được mời làm giám khảo của cuộc thi. Người mời:",
                        "You are invited to judge the contest. Invited by"
                    ),
                    name
                ),
                None => lang
                    .pick(
                        "Bạn được mời làm giám khảo của cuộc thi.",
                        "You are invited to judge the contest.",
                    )
                    .to_owned(),
            };
            Ok(Some((about, email, info.account_exists)))
        }
    }
}

async fn show(
    req: &Request,
    ctx: &Ctx,
    names: &ContestNames,
    kind: Kind,
    token: String,
    status: StatusCode,
    form: Option<(NewAccountForm, FormErrors)>,
) -> PageResult {
    let page = Page::load(req, ctx, names).await?;
    let lang = page.lang;
    let heading = match kind {
        Kind::Team => lang.pick("Lời mời tham gia đội thi", "Invitation to join a team"),
        Kind::Judge => lang.pick("Lời mời làm giám khảo", "Invitation to judge"),
    }
    .to_owned();
    let looked = look(ctx, kind, &token, lang).await?;
    let (about, email, offer) = match looked {
        None => (String::new(), String::new(), Offer::Invalid),
        Some((about, email, exists)) => {
            let offer = match &page.actor {
                Some(a) if a.user.email == email => Offer::Accept,
                Some(_) => Offer::WrongAccount,
                None if exists => Offer::LogIn,
                None => Offer::Register,
            };
            (about, email, offer)
        }
    };
    let (form, mut errors) = form.unwrap_or_else(|| {
        (
            NewAccountForm {
                lang: lang.code().to_owned(),
                ..NewAccountForm::default()
            },
            FormErrors::none(),
        )
    });
    if offer == Offer::Invalid && errors.form.is_empty() {
        errors.form = ServiceError::TokenInvalid.message(lang);
    }
    let link = format!("{}?token={}", kind.base(), urlencode(&token));
    let status = if offer == Offer::Invalid && status == StatusCode::OK {
        StatusCode::GONE
    } else {
        status
    };
    Ok(render(
        status,
        &InvitationPage {
            chrome: page.chrome,
            heading,
            about,
            email,
            offer,
            accept_action: kind.base().to_owned(),
            register_action: format!("{}/new-account", kind.base()),
            login_link: format!("/login?next={}", urlencode(&link)),
            token: if offer == Offer::Invalid {
                String::new()
            } else {
                token
            },
            form: NewAccountForm {
                password: String::new(),
                ..form
            },
            errors,
        },
    ))
}

#[handler]
pub async fn team_page(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Query(q): Query<TokenQuery>,
) -> PageResult {
    show(req, &ctx, &names, Kind::Team, q.token, StatusCode::OK, None).await
}

#[handler]
pub async fn judge_page(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Query(q): Query<TokenQuery>,
) -> PageResult {
    show(
        req,
        &ctx,
        &names,
        Kind::Judge,
        q.token,
        StatusCode::OK,
        None,
    )
    .await
}

async fn accept(
    req: &Request,
    ctx: &Ctx,
    names: &ContestNames,
    kind: Kind,
    token: String,
) -> PageResult {
    let page = Page::load(req, ctx, names).await?;
    let back = format!("{}?token={}", kind.base(), urlencode(&token));
    let actor = page.actor_back_to(&back)?.clone();
    let done = match kind {
        Kind::Team => teams::accept_invitation(ctx, &actor, &token)
            .await
            .map(|_| "/team?m=joined"),
        Kind::Judge => admin::accept_judge_invitation(ctx, &actor, &token)
            .await
            .map(|_| "/account?m=judge"),
    };
    match done {
        Ok(to) => Ok(see_other(to)),
        Err(e) => {
            let errors = FormErrors::form(e.message(page.lang));
            let status = service_status(&e);
            show(
                req,
                ctx,
                names,
                kind,
                token,
                status,
                Some((NewAccountForm::default(), errors)),
            )
            .await
        }
    }
}

#[handler]
pub async fn team_accept(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<TokenQuery>,
) -> PageResult {
    accept(req, &ctx, &names, Kind::Team, form.token).await
}

#[handler]
pub async fn judge_accept(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<TokenQuery>,
) -> PageResult {
    accept(req, &ctx, &names, Kind::Judge, form.token).await
}

async fn new_account(
    req: &Request,
    ctx: &Ctx,
    names: &ContestNames,
    kind: Kind,
    mut form: NewAccountForm,
) -> PageResult {
    let lang = Lang::detect(req);
    let ip = client_ip(req);
    let ip = ip.as_deref();
    let chosen = Lang::parse(&form.lang).unwrap_or(lang);
    let password = std::mem::take(&mut form.password);
    let done: Result<(String, crate::store::accounts::UserRecord, &str), ServiceError> = match kind
    {
        Kind::Team => teams::accept_invitation_new_account(
            ctx,
            &form.token,
            &form.full_name,
            &password,
            &form.organization,
            &form.phone,
            chosen,
            ip,
        )
        .await
        .map(|j| (j.session_token, j.user, "/team?m=joined")),
        Kind::Judge => {
            match admin::accept_judge_invitation_new_account(
                ctx,
                &form.token,
                &form.full_name,
                &password,
                &form.organization,
                &form.phone,
                Some(chosen),
                ip,
            )
            .await
            {
                // The account exists now; log it in with the password just chosen.
                Ok(user) => accounts::login(ctx, &user.email, &password, ip)
                    .await
                    .map(|(token, user)| (token, user, "/account?m=judge")),
                Err(e) => Err(e),
            }
        }
    };
    match done {
        Ok((token, user, to)) => {
            start_session(req, ctx, &token, user.lang);
            Ok(see_other(to))
        }
        Err(e) => {
            let errors = FormErrors::from_service(&e, lang, &[]);
            let token = form.token.clone();
            show(
                req,
                ctx,
                names,
                kind,
                token,
                service_status(&e),
                Some((form, errors)),
            )
            .await
        }
    }
}

#[handler]
pub async fn team_new_account(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<NewAccountForm>,
) -> PageResult {
    new_account(req, &ctx, &names, Kind::Team, form).await
}

#[handler]
pub async fn judge_new_account(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<NewAccountForm>,
) -> PageResult {
    new_account(req, &ctx, &names, Kind::Judge, form).await
}
