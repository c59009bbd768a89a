//! `/teams` and `/team-invitations` endpoints: create a team, see it, invite by email, accept
//! (logged in, or creating an account), leave, remove, hand over leadership; and the lists a
//! team form needs (`/team-kinds`, `/provinces`).

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::ApiTags;
use super::accounts::{Account, LangCode, TokenRequest};
use super::auth::{SessionAuth, client_ip};
use super::error::ApiError;
use crate::domain::team::{PROVINCES, TeamKind};
use crate::domain::time::Millis;
use crate::i18n::Lang;
use crate::service::teams::{self, InvitationView, NewTeam, TeamView};
use crate::service::{Ctx, ServiceError};

/// What kind of participant a team is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum TeamKindCode {
    Individual,
    Student,
    Startup,
    Enterprise,
    ResearchInstitute,
    PublicAgency,
    Community,
}

impl From<TeamKind> for TeamKindCode {
    fn from(k: TeamKind) -> Self {
        match k {
            TeamKind::Individual => TeamKindCode::Individual,
            TeamKind::Student => TeamKindCode::Student,
            TeamKind::Startup => TeamKindCode::Startup,
            TeamKind::Enterprise => TeamKindCode::Enterprise,
            TeamKind::ResearchInstitute => TeamKindCode::ResearchInstitute,
            TeamKind::PublicAgency => TeamKindCode::PublicAgency,
            TeamKind::Community => TeamKindCode::Community,
        }
    }
}

#[derive(Debug, Object)]
pub struct CreateTeamRequest {
    /// 2–80 characters; unique without regard to case or accents.
    pub name: String,
    /// One of the codes from `GET /team-kinds`.
    pub kind: String,
    /// A province or centrally-run city (see `GET /provinces`): its name, with or without
    /// accents and "Tỉnh"/"Thành phố", or its two-digit code.
    pub province: String,
    /// Up to 200 characters.
    pub organization: String,
}

/// A team member. `email` is shown only to the leader and to organizers.
#[derive(Debug, Object)]
pub struct Member {
    pub user_id: String,
    pub full_name: String,
    #[oai(skip_serializing_if_is_none)]
    pub email: Option<String>,
    pub leader: bool,
    /// RFC 3339 UTC.
    pub joined_at: String,
}

/// A pending invitation.
#[derive(Debug, Object)]
pub struct Invitation {
    /// Use it to revoke the invitation.
    pub id: String,
    pub email: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub expires_at: String,
}

impl From<InvitationView> for Invitation {
    fn from(i: InvitationView) -> Self {
        Invitation {
            id: i.id,
            email: i.email,
            created_at: Millis(i.created_at).rfc3339_utc(),
            expires_at: Millis(i.expires_at).rfc3339_utc(),
        }
    }
}

/// A team as the caller may see it.
#[derive(Debug, Object)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub kind: TeamKindCode,
    /// The kind's name in the caller's language.
    pub kind_name: String,
    /// The province or city's Vietnamese name.
    pub province: String,
    pub organization: String,
    pub leader_id: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// In the order they joined.
    pub members: Vec<Member>,
    /// Pending invitations: only for the leader and organizers.
    #[oai(skip_serializing_if_is_none)]
    pub invitations: Option<Vec<Invitation>>,
    /// How many invitations are pending; each holds a seat until accepted, revoked or expired.
    pub pending_invitations: u32,
    /// Whether members' email addresses and invitations are shown to the caller.
    pub emails_visible: bool,
    /// Smallest team that may take part, counting the leader.
    pub min_size: u32,
    /// Largest team allowed, counting the leader and pending invitations.
    pub max_size: u32,
    /// The team has at least `min_size` members.
    pub complete: bool,
}

impl Team {
    fn new(v: TeamView, lang: Lang) -> Team {
        let emails_visible = v.emails_visible;
        Team {
            kind: v.kind.into(),
            kind_name: lang.pick(v.kind.name_vi(), v.kind.name_en()).to_owned(),
            members: v
                .members
                .into_iter()
                .map(|m| Member {
                    user_id: m.user_id,
                    full_name: m.full_name,
                    email: m.email,
                    leader: m.is_leader,
                    joined_at: Millis(m.joined_at).rfc3339_utc(),
                })
                .collect(),
            invitations: emails_visible
                .then(|| v.invitations.into_iter().map(Invitation::from).collect()),
            pending_invitations: u32::try_from(v.pending_invitations).unwrap_or(u32::MAX),
            emails_visible,
            min_size: v.min_size,
            max_size: v.max_size,
            complete: v.complete,
            created_at: Millis(v.created_at).rfc3339_utc(),
            id: v.id,
            name: v.name,
            province: v.province,
            organization: v.organization,
            leader_id: v.leader_id,
        }
    }
}

#[derive(Debug, Object)]
pub struct InviteRequest {
    pub email: String,
}

#[derive(Debug, Object)]
pub struct AcceptNewRequest {
    /// The token from the emailed link.
    pub token: String,
    pub full_name: String,
    /// At least 10 characters, not a common password.
    pub password: String,
    pub organization: String,
    /// Optional.
    #[oai(default)]
    pub phone: String,
    /// Language of emails and pages; the request's language by default.
    pub lang: Option<LangCode>,
}

/// The new account, logged in, and the team it joined.
#[derive(Debug, Object)]
pub struct JoinedSession {
    /// Send as `Authorization: Bearer <token>`. Shown once.
    pub token: String,
    pub account: Account,
    pub team: Team,
}

#[derive(Debug, Object)]
pub struct HandOverRequest {
    /// The member who becomes the leader.
    pub user_id: String,
}

#[derive(Debug, Object)]
pub struct KindItem {
    pub code: TeamKindCode,
    pub name_vi: String,
    pub name_en: String,
}

#[derive(Debug, Object)]
pub struct ProvinceItem {
    /// Two-digit administrative code.
    pub code: String,
    /// As stored and shown: "Hà Nội", "Nghệ An".
    pub name: String,
    pub name_en: String,
    /// A centrally-run city rather than a province.
    pub city: bool,
}

#[derive(ApiResponse)]
pub enum CreatedTeam {
    /// Created.
    #[oai(status = 201)]
    Created(Json<Team>),
}

#[derive(ApiResponse)]
pub enum CreatedInvitation {
    /// The invitation is sent.
    #[oai(status = 201)]
    Created(Json<Invitation>),
}

#[derive(ApiResponse)]
pub enum CreatedSession {
    /// The account is created, logged in and in the team.
    #[oai(status = 201)]
    Created(Json<JoinedSession>),
}

#[derive(ApiResponse)]
#[allow(clippy::large_enum_variant)] // built once per request
pub enum MemberRemoved {
    /// The leader removed the member; the team as it is now.
    #[oai(status = 200)]
    Team(Json<Team>),
    /// The caller left the team (a leader who was the last member dissolved it).
    #[oai(status = 204)]
    Left,
}

#[derive(ApiResponse)]
pub enum Revoked {
    /// The invitation's link no longer works.
    #[oai(status = 204)]
    Done,
}

pub struct TeamsApi;

type R<T> = Result<T, ApiError>;

fn fail(lang: Lang) -> impl Fn(ServiceError) -> ApiError {
    move |e| ApiError::from_service(e, lang)
}

#[OpenApi(tag = "ApiTags::Teams")]
impl TeamsApi {
    /// Create a team
    ///
    /// The caller (a participant with a verified email address, not in a team) becomes its
    /// leader and first member.
    #[oai(path = "/teams", method = "post", operation_id = "createTeam")]
    async fn create(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        body: Json<CreateTeamRequest>,
    ) -> R<CreatedTeam> {
        let lang = Lang::detect(req);
        let b = body.0;
        let new = NewTeam {
            name: b.name,
            kind: b.kind,
            province: b.province,
            organization: b.organization,
        };
        let v = teams::create_team(&ctx, &auth.0, new)
            .await
            .map_err(fail(lang))?;
        Ok(CreatedTeam::Created(Json(Team::new(v, lang))))
    }

    /// My team
    ///
    /// The caller's team; 404 when they are not in one.
    #[oai(path = "/teams/mine", method = "get", operation_id = "myTeam")]
    async fn mine(&self, req: &Request, ctx: Data<&Ctx>, auth: SessionAuth) -> R<Json<Team>> {
        let lang = Lang::detect(req);
        let v = teams::my_team(&ctx, &auth.0)
            .await
            .map_err(fail(lang))?
            .ok_or_else(|| ApiError::from_service(ServiceError::NotFound("team"), lang))?;
        Ok(Json(Team::new(v, lang)))
    }

    /// A team
    ///
    /// For its members and for organizers; 404 for anyone else. Email addresses and pending
    /// invitations are shown to the leader and organizers only.
    #[oai(path = "/teams/:id", method = "get", operation_id = "getTeam")]
    async fn get(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        id: Path<String>,
    ) -> R<Json<Team>> {
        let lang = Lang::detect(req);
        let v = teams::team(&ctx, &auth.0, &id).await.map_err(fail(lang))?;
        Ok(Json(Team::new(v, lang)))
    }

    /// Invite a member
    ///
    /// The leader invites someone by email; the message carries a one-time link valid for
    /// `accounts.invitation_days`. Inviting the same address again replaces the earlier
    /// invitation. Pending invitations count toward the team's largest size.
    #[oai(
        path = "/teams/:id/invitations",
        method = "post",
        operation_id = "inviteMember"
    )]
    async fn invite(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        id: Path<String>,
        body: Json<InviteRequest>,
    ) -> R<CreatedInvitation> {
        let lang = Lang::detect(req);
        let i = teams::invite(&ctx, &auth.0, &id, &body.email)
            .await
            .map_err(fail(lang))?;
        Ok(CreatedInvitation::Created(Json(i.into())))
    }

    /// Pending invitations
    ///
    /// For the leader and organizers.
    #[oai(
        path = "/teams/:id/invitations",
        method = "get",
        operation_id = "listInvitations"
    )]
    async fn invitations(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        id: Path<String>,
    ) -> R<Json<Vec<Invitation>>> {
        let lang = Lang::detect(req);
        let list = teams::invitations(&ctx, &auth.0, &id)
            .await
            .map_err(fail(lang))?;
        Ok(Json(list.into_iter().map(Invitation::from).collect()))
    }

    /// Revoke an invitation
    ///
    /// The leader withdraws a pending invitation: its link stops working and its seat is free.
    #[oai(
        path = "/teams/:id/invitations/:invitation_id",
        method = "delete",
        operation_id = "revokeInvitation"
    )]
    async fn revoke(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        id: Path<String>,
        invitation_id: Path<String>,
    ) -> R<Revoked> {
        let lang = Lang::detect(req);
        teams::revoke_invitation(&ctx, &auth.0, &id, &invitation_id)
            .await
            .map_err(fail(lang))?;
        Ok(Revoked::Done)
    }

    /// Accept an invitation
    ///
    /// The logged-in caller, whose address the invitation was sent to, joins the team.
    #[oai(
        path = "/team-invitations/accept",
        method = "post",
        operation_id = "acceptInvitation"
    )]
    async fn accept(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        body: Json<TokenRequest>,
    ) -> R<Json<Team>> {
        let lang = Lang::detect(req);
        let v = teams::accept_invitation(&ctx, &auth.0, &body.token)
            .await
            .map_err(fail(lang))?;
        Ok(Json(Team::new(v, lang)))
    }

    /// Accept an invitation with a new account
    ///
    /// For an invited address without an account: creates a participant account (its address
    /// counts as verified: the link proves it), joins the team and logs in. Refused with
    /// `email_taken` when the address has an account already: log in and accept instead.
    #[oai(
        path = "/team-invitations/accept-new",
        method = "post",
        operation_id = "acceptInvitationNewAccount"
    )]
    async fn accept_new(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        body: Json<AcceptNewRequest>,
    ) -> R<CreatedSession> {
        let lang = body
            .lang
            .map(Lang::from)
            .unwrap_or_else(|| Lang::detect(req));
        let b = body.0;
        let joined = teams::accept_invitation_new_account(
            &ctx,
            &b.token,
            &b.full_name,
            &b.password,
            &b.organization,
            &b.phone,
            lang,
            client_ip(req).as_deref(),
        )
        .await
        .map_err(fail(lang))?;
        Ok(CreatedSession::Created(Json(JoinedSession {
            token: joined.session_token,
            account: Account::from(&joined.user),
            team: Team::new(joined.team, lang),
        })))
    }

    /// Leave, or remove a member
    ///
    /// With the caller's own id: leave the team (the leader must hand over first, unless they
    /// are the last member: then the team is dissolved). With another member's id: the leader
    /// removes them.
    #[oai(
        path = "/teams/:id/members/:user_id",
        method = "delete",
        operation_id = "removeMember"
    )]
    async fn remove(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        id: Path<String>,
        user_id: Path<String>,
    ) -> R<MemberRemoved> {
        let lang = Lang::detect(req);
        let v = teams::leave_or_remove(&ctx, &auth.0, &id, &user_id)
            .await
            .map_err(fail(lang))?;
        Ok(match v {
            Some(v) => MemberRemoved::Team(Json(Team::new(v, lang))),
            None => MemberRemoved::Left,
        })
    }

    /// Hand over leadership
    ///
    /// The leader makes another member the leader.
    #[oai(path = "/teams/:id/leader", method = "post", operation_id = "handOver")]
    async fn hand_over(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        id: Path<String>,
        body: Json<HandOverRequest>,
    ) -> R<Json<Team>> {
        let lang = Lang::detect(req);
        let v = teams::hand_over(&ctx, &auth.0, &id, &body.user_id)
            .await
            .map_err(fail(lang))?;
        Ok(Json(Team::new(v, lang)))
    }

    /// Team kinds
    #[oai(path = "/team-kinds", method = "get", operation_id = "listTeamKinds")]
    async fn kinds(&self) -> Json<Vec<KindItem>> {
        Json(
            TeamKind::ALL
                .into_iter()
                .map(|k| KindItem {
                    code: k.into(),
                    name_vi: k.name_vi().to_owned(),
                    name_en: k.name_en().to_owned(),
                })
                .collect(),
        )
    }

    /// Provinces and cities
    ///
    /// Vietnam's 63 provinces and centrally-run cities, by administrative code.
    #[oai(path = "/provinces", method = "get", operation_id = "listProvinces")]
    async fn provinces(&self) -> Json<Vec<ProvinceItem>> {
        Json(
            PROVINCES
                .iter()
                .map(|p| ProvinceItem {
                    code: p.code.to_owned(),
                    name: p.name.to_owned(),
                    name_en: p.name_en.to_owned(),
                    city: p.city,
                })
                .collect(),
        )
    }
}
