//! The team page: create a team, or see one's team (members, invitations) and act on it as a
//! member or as its leader.

use crate::domain::authz::Action;
use askama::Template;
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::forms::FormErrors;
use super::pages::{Chrome, ContestNames};
use super::session::Posted;
use super::view::{Page, PageError, render, see_other, service_status};
use crate::domain::team::{PROVINCES, Province, TeamKind};
use crate::domain::time::Millis;
use crate::i18n::Lang;
use crate::service::teams::{self, NewTeam, TeamView};
use crate::service::{Actor, Ctx, ServiceError};

type PageResult = Result<Response, PageError>;

/// An option of a select.
pub struct Choice {
    pub code: String,
    pub name: String,
    pub selected: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CreateForm {
    name: String,
    kind: String,
    province: String,
    organization: String,
}

pub struct MemberRow {
    pub user_id: String,
    pub name: String,
    /// Empty unless the viewer may see addresses.
    pub email: String,
    pub is_leader: bool,
    pub is_me: bool,
    pub joined: String,
}

pub struct InvitationRow {
    pub id: String,
    pub email: String,
    pub expires: String,
}

pub struct TeamBox {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub province: String,
    pub organization: String,
    pub members: Vec<MemberRow>,
    pub invitations: Vec<InvitationRow>,
    pub pending: usize,
    pub is_leader: bool,
    pub min_size: u32,
    pub max_size: u32,
    pub complete: bool,
    /// The leader may invite one more person (members and pending invitations below the limit).
    pub can_invite: bool,
    /// The viewer may leave now (a leader only as the last member, which dissolves the team).
    pub can_leave: bool,
}

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    chrome: Chrome,
    flash: String,
    /// For refused actions on the team (remove, leave, hand over).
    errors: FormErrors,
    verified: bool,
    team: Option<TeamBox>,
    create: CreateForm,
    create_errors: FormErrors,
    kinds: Vec<Choice>,
    provinces: Vec<Choice>,
    invite_email: String,
    invite_errors: FormErrors,
}

pub fn province_name(stored: &str, lang: Lang) -> String {
    match (Province::find(stored), lang) {
        (Some(p), Lang::Vi) => p.full_name_vi(),
        (Some(p), Lang::En) => p.full_name_en(),
        (None, _) => stored.to_owned(),
    }
}

fn kind_choices(selected: &str, lang: Lang) -> Vec<Choice> {
    TeamKind::ALL
        .into_iter()
        .map(|k| Choice {
            code: k.code().to_owned(),
            name: lang.pick(k.name_vi(), k.name_en()).to_owned(),
            selected: k.code() == selected,
        })
        .collect()
}

fn province_choices(selected: &str, lang: Lang) -> Vec<Choice> {
    let selected = Province::find(selected).map(|p| p.code);
    let mut list: Vec<Choice> = PROVINCES
        .iter()
        .map(|p| Choice {
            code: p.code.to_owned(),
            name: lang.pick(p.name, p.name_en).to_owned(),
            selected: Some(p.code) == selected,
        })
        .collect();
    // Alphabetical by the bare name, folded, so "Đà Nẵng" sorts among the D's and not last.
    list.sort_by_cached_key(|c| crate::domain::text::fold(&c.name));
    list
}

fn team_box(t: TeamView, me: &str, lang: Lang) -> TeamBox {
    let members = t.members.len();
    let is_leader = t.viewer_is_leader;
    TeamBox {
        can_invite: is_leader && members + t.pending_invitations < t.max_size as usize,
        can_leave: !is_leader || members == 1,
        members: t
            .members
            .into_iter()
            .map(|m| MemberRow {
                is_me: m.user_id == me,
                user_id: m.user_id,
                name: m.full_name,
                email: m.email.unwrap_or_default(),
                is_leader: m.is_leader,
                joined: Millis(m.joined_at).display_ict(),
            })
            .collect(),
        invitations: t
            .invitations
            .into_iter()
            .map(|i| InvitationRow {
                id: i.id,
                email: i.email,
                expires: Millis(i.expires_at).display_ict(),
            })
            .collect(),
        pending: t.pending_invitations,
        kind: lang.pick(t.kind.name_vi(), t.kind.name_en()).to_owned(),
        province: province_name(&t.province, lang),
        id: t.id,
        name: t.name,
        organization: t.organization,
        is_leader,
        min_size: t.min_size,
        max_size: t.max_size,
        complete: t.complete,
    }
}

fn team_flash(code: &str, lang: Lang) -> &'static str {
    match code {
        "created" => lang.pick(
            "Đã lập đội. Bạn là trưởng nhóm; hãy mời thành viên bằng địa chỉ email.",
            "Your team is created. You are its leader; invite members by email.",
        ),
        "invited" => lang.pick(
            "Đã gửi lời mời. Lời mời giữ một chỗ trong đội cho tới khi được nhận, bị thu hồi hoặc hết hạn.",
            "The invitation is sent. It holds a seat in the team until it is accepted, withdrawn or expires.",
        ),
        "revoked" => lang.pick("Đã thu hồi lời mời.", "The invitation is withdrawn."),
        "removed" => lang.pick(
            "Đã mời thành viên ra khỏi đội.",
            "The member is removed from the team.",
        ),
        "handed-over" => lang.pick(
            "Đã chuyển quyền trưởng nhóm.",
            "Leadership is handed over.",
        ),
        "left" => lang.pick("Bạn đã rời đội.", "You have left the team."),
        "joined" => lang.pick("Bạn đã tham gia đội.", "You have joined the team."),
        _ => "",
    }
}

/// Which form of the page comes back with errors.
enum TeamForm {
    None,
    Create(CreateForm, FormErrors),
    Invite(String, FormErrors),
    Action(FormErrors),
}

async fn team_page(
    ctx: &Ctx,
    page: Page,
    actor: &Actor,
    status: StatusCode,
    flash: &str,
    form: TeamForm,
) -> PageResult {
    let lang = page.lang;
    let team = teams::my_team(ctx, actor)
        .await?
        .map(|t| team_box(t, &actor.user.id, lang));
    let mut create = CreateForm {
        organization: actor.user.organization.clone(),
        ..CreateForm::default()
    };
    let (mut create_errors, mut invite_email, mut invite_errors, mut errors) = (
        FormErrors::none(),
        String::new(),
        FormErrors::none(),
        FormErrors::none(),
    );
    match form {
        TeamForm::None => {}
        TeamForm::Create(f, e) => {
            create = f;
            create_errors = e;
        }
        TeamForm::Invite(email, e) => {
            invite_email = email;
            invite_errors = e;
        }
        TeamForm::Action(e) => errors = e,
    }
    Ok(render(
        status,
        &TeamPage {
            flash: flash.to_owned(),
            errors,
            verified: actor.user.email_verified_at.is_some(),
            team,
            kinds: kind_choices(&create.kind, lang),
            provinces: province_choices(&create.province, lang),
            create,
            create_errors,
            invite_email,
            invite_errors,
            chrome: page.chrome,
        },
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FlashQuery {
    m: String,
}

#[handler]
pub async fn team_home(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page.allowed_back_to(page.here(), Action::Teams)?.clone();
    let flash = team_flash(&q.m, page.lang);
    team_page(&ctx, page, &actor, StatusCode::OK, flash, TeamForm::None).await
}

#[handler]
pub async fn create_team(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<CreateForm>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page.allowed_back_to("/team", Action::Teams)?.clone();
    let new = NewTeam {
        name: form.name.clone(),
        kind: form.kind.clone(),
        province: form.province.clone(),
        organization: form.organization.clone(),
    };
    match teams::create_team(&ctx, &actor, new).await {
        Ok(_) => Ok(see_other("/team?m=created")),
        Err(e) => {
            let errors = FormErrors::from_service(&e, page.lang, &[]);
            team_page(
                &ctx,
                page,
                &actor,
                service_status(&e),
                "",
                TeamForm::Create(form, errors),
            )
            .await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct InviteForm {
    team_id: String,
    email: String,
}

#[handler]
pub async fn invite(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<InviteForm>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page.allowed_back_to("/team", Action::Teams)?.clone();
    match teams::invite(&ctx, &actor, &form.team_id, &form.email).await {
        Ok(_) => Ok(see_other("/team?m=invited")),
        Err(e) => {
            let errors = FormErrors::from_service(&e, page.lang, &[]);
            team_page(
                &ctx,
                page,
                &actor,
                service_status(&e),
                "",
                TeamForm::Invite(form.email, errors),
            )
            .await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MemberForm {
    team_id: String,
    user_id: String,
    invitation_id: String,
}

enum Act {
    Remove,
    Leave,
    HandOver,
    Revoke,
}

async fn act(
    req: &Request,
    ctx: &Ctx,
    names: &ContestNames,
    form: MemberForm,
    act: Act,
) -> PageResult {
    let page = Page::load(req, ctx, names).await?;
    let actor = page.allowed_back_to("/team", Action::Teams)?.clone();
    let done: Result<&str, ServiceError> = match act {
        Act::Remove => teams::leave_or_remove(ctx, &actor, &form.team_id, &form.user_id)
            .await
            .map(|_| "/team?m=removed"),
        Act::Leave => teams::leave_or_remove(ctx, &actor, &form.team_id, &actor.user.id)
            .await
            .map(|_| "/team?m=left"),
        Act::HandOver => teams::hand_over(ctx, &actor, &form.team_id, &form.user_id)
            .await
            .map(|_| "/team?m=handed-over"),
        Act::Revoke => teams::revoke_invitation(ctx, &actor, &form.team_id, &form.invitation_id)
            .await
            .map(|()| "/team?m=revoked"),
    };
    match done {
        Ok(to) => Ok(see_other(to)),
        Err(e) => {
            let errors = FormErrors::from_service(&e, page.lang, &[]);
            let errors = if errors.form.is_empty() {
                FormErrors::form(e.message(page.lang))
            } else {
                errors
            };
            team_page(
                ctx,
                page,
                &actor,
                service_status(&e),
                "",
                TeamForm::Action(errors),
            )
            .await
        }
    }
}

#[handler]
pub async fn remove(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<MemberForm>,
) -> PageResult {
    act(req, &ctx, &names, form, Act::Remove).await
}

#[handler]
pub async fn leave(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<MemberForm>,
) -> PageResult {
    act(req, &ctx, &names, form, Act::Leave).await
}

#[handler]
pub async fn hand_over(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<MemberForm>,
) -> PageResult {
    act(req, &ctx, &names, form, Act::HandOver).await
}

#[handler]
pub async fn revoke(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<MemberForm>,
) -> PageResult {
    act(req, &ctx, &names, form, Act::Revoke).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provinces_sort_as_people_read_them() {
        let list = province_choices("", Lang::Vi);
        assert_eq!(list.len(), 63);
        assert!(list.iter().all(|c| !c.selected));
        let pos = |name: &str| list.iter().position(|c| c.name == name);
        assert_eq!(pos("An Giang"), Some(0));
        assert!(pos("Đà Nẵng") < pos("Điện Biên") && pos("Đà Nẵng") > pos("Cần Thơ"));
        let chosen = province_choices("Đà Nẵng", Lang::En);
        assert_eq!(chosen.iter().filter(|c| c.selected).count(), 1);
    }
}
