//! Teams: create, invite, accept, leave, remove, hand over leadership.
//!
//! Rules (see also `crate::domain::team`):
//! - Only participants act on teams (`Action::Teams`), and only with a verified address:
//!   an unverified account is refused with `NotVerified`. Accepting an invitation sent to one's
//!   own address verifies it, since the emailed link proves the address exactly as the
//!   verification link does.
//! - New teams are created only while registration is open (`[timeline]`, or the organizers'
//!   saved timeline); joining an existing team by invitation is not limited by it.
//! - A person belongs to at most one team (`team_members.user_id` is unique).
//! - The creator is the leader. The leader invites by email; an invitation is a one-time token
//!   (purpose `team_invite`, team id in `data`, address in `email`) valid for
//!   `accounts.invitation_days`. Inviting the same address again replaces its earlier invitation.
//! - Size: pending invitations count toward `teams.max_size` when inviting (an invitation holds
//!   a seat), and the members are counted again, under the team's lock, when someone accepts.
//!   `teams.min_size` does not block leaving or removing; a smaller team is shown as not
//!   complete.
//! - Members may leave. The leader removes members and hands over leadership; the leader cannot
//!   leave while others remain (`leader_must_hand_over`), and a leader who is the last member
//!   leaving dissolves the team (its pending invitations are retired).
//! - Members see each other's names; only the leader and organizers see email addresses and
//!   pending invitations. Anyone else is told the team does not exist.
//! - Every change runs in one write transaction that first locks the team's row, and is audited
//!   in it with the state before and after.

use serde_json::json;

use super::accounts::{Registration, hash_password, validate_registration};
use super::{Actor, Ctx, ServiceError, ServiceResult, audit, hash_token, new_token, now_ms};
use crate::domain::account::{Email, Role};
use crate::domain::authz::Action;
use crate::domain::team::{SizeRule, TeamKind, validate_team};
use crate::i18n::Lang;
use crate::mail::templates::MailKind;
use crate::store::accounts::{self as adb, NewToken, NewUser, TokenRecord, UserChange, UserRecord};
use crate::store::teams::{
    self as db, INVITE_PURPOSE, InvitationRecord, MemberRecord, TeamRecord, UniqueColumn,
};
use crate::store::{Tx, new_id};

pub const PURPOSE_INVITE: &str = INVITE_PURPOSE;

/// Invitations one person may send per rate-limit window.
pub const INVITES_PER_WINDOW: u32 = 30;

const DAY_MS: i64 = 24 * 3_600_000;

/// What a person fills in to create a team.
#[derive(Debug, Clone, Default)]
pub struct NewTeam {
    pub name: String,
    /// A `TeamKind` code.
    pub kind: String,
    /// A province or centrally-run city, by name (any case or accents) or two-digit code.
    pub province: String,
    pub organization: String,
}

/// A team as one person may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamView {
    pub id: String,
    pub name: String,
    pub kind: TeamKind,
    pub province: String,
    pub organization: String,
    pub leader_id: String,
    pub created_at: i64,
    pub members: Vec<MemberView>,
    /// Pending invitations; empty unless `emails_visible`.
    pub invitations: Vec<InvitationView>,
    /// How many invitations are pending (each holds a seat).
    pub pending_invitations: usize,
    /// The viewer is the leader or an organizer: members' addresses and the invitations show.
    pub emails_visible: bool,
    pub viewer_is_member: bool,
    pub viewer_is_leader: bool,
    pub min_size: u32,
    pub max_size: u32,
    /// The team has at least `min_size` members.
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    pub user_id: String,
    pub full_name: String,
    /// Only for the leader and organizers.
    pub email: Option<String>,
    pub is_leader: bool,
    pub joined_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationView {
    /// Names the invitation for revoking it.
    pub id: String,
    pub email: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl From<InvitationRecord> for InvitationView {
    fn from(r: InvitationRecord) -> Self {
        InvitationView {
            id: r.id,
            email: r.email,
            created_at: r.created_at,
            expires_at: r.expires_at,
        }
    }
}

/// What `accept_invitation_new_account` gives back: the new account, its first session, and
/// the team it joined.
#[derive(Debug, Clone)]
pub struct JoinedWithNewAccount {
    /// Session token, shown once (`Authorization: Bearer` or the session cookie).
    pub session_token: String,
    pub user: UserRecord,
    pub team: TeamView,
}

fn size_rule(ctx: &Ctx) -> SizeRule {
    SizeRule {
        min: ctx.config.teams.min_size,
        max: ctx.config.teams.max_size,
    }
}

fn conflict(code: &'static str, field: Option<&'static str>) -> ServiceError {
    ServiceError::Conflict { code, field }
}

fn require_participant(actor: &Actor) -> ServiceResult<()> {
    actor.require(Action::Teams)
}

fn require_verified(actor: &Actor) -> ServiceResult<()> {
    if actor.user.email_verified_at.is_none() {
        return Err(ServiceError::NotVerified);
    }
    Ok(())
}

/// Turns a violated UNIQUE constraint (a concurrent change won the race) into its rule.
fn unique_to_conflict(e: ServiceError, email_field: Option<&'static str>) -> ServiceError {
    let ServiceError::Store(store) = &e else {
        return e;
    };
    match db::unique_violation(store) {
        Some(UniqueColumn::TeamName) => conflict("team_name_taken", Some("name")),
        Some(UniqueColumn::Member) => conflict("already_in_team", None),
        Some(UniqueColumn::Other) if email_field.is_some() => conflict("email_taken", email_field),
        _ => e,
    }
}

fn team_state(team: &TeamRecord, members: &[MemberRecord]) -> serde_json::Value {
    json!({
        "name": team.name,
        "kind": team.kind,
        "province": team.province,
        "organization": team.organization,
        "leader_id": team.leader_id,
        "members": members.iter().map(|m| m.user_id.as_str()).collect::<Vec<_>>(),
    })
}

fn invitations_state(pending: &[InvitationRecord]) -> serde_json::Value {
    json!({ "pending_invitations": pending.iter().map(|i| i.email.as_str()).collect::<Vec<_>>() })
}

/// The team as `viewer` may see it; `NotFound` when they may not see it at all.
async fn view(ctx: &Ctx, team: TeamRecord, viewer: &Actor) -> ServiceResult<TeamView> {
    let pool = ctx.store.pool();
    let members = db::members(pool, &team.id).await?;
    let viewer_is_member = members.iter().any(|m| m.user_id == viewer.user.id);
    let organizer = viewer.role() == Role::Organizer;
    if !viewer_is_member && !organizer {
        return Err(ServiceError::NotFound("team"));
    }
    let viewer_is_leader = team.leader_id == viewer.user.id;
    let emails_visible = viewer_is_leader || organizer;
    let pending = db::pending_invitations(pool, &team.id, now_ms()).await?;
    let pending_invitations = pending.len();
    let rule = size_rule(ctx);
    let kind = TeamKind::from_code(&team.kind)
        .ok_or_else(|| ServiceError::Internal(format!("team kind {}", team.kind)))?;
    let complete = rule.is_complete(members.len() as u64);
    Ok(TeamView {
        members: members
            .into_iter()
            .map(|m| MemberView {
                is_leader: m.user_id == team.leader_id,
                email: emails_visible.then_some(m.email),
                user_id: m.user_id,
                full_name: m.full_name,
                joined_at: m.joined_at,
            })
            .collect(),
        invitations: if emails_visible {
            pending.into_iter().map(InvitationView::from).collect()
        } else {
            Vec::new()
        },
        pending_invitations,
        emails_visible,
        viewer_is_member,
        viewer_is_leader,
        min_size: rule.min,
        max_size: rule.max,
        complete,
        id: team.id,
        name: team.name,
        kind,
        province: team.province,
        organization: team.organization,
        leader_id: team.leader_id,
        created_at: team.created_at,
    })
}

/// Locks the team for a change by one of its members; strangers are told it does not exist.
async fn lock_own_team(
    ctx: &Ctx,
    tx: &mut Tx,
    actor: &Actor,
    team_id: &str,
) -> ServiceResult<TeamRecord> {
    let team = db::lock_team(&mut **tx, ctx.store.backend(), team_id)
        .await?
        .ok_or(ServiceError::NotFound("team"))?;
    let own = db::team_id_of_user(&mut **tx, &actor.user.id).await?;
    if own.as_deref() != Some(team.id.as_str()) {
        return Err(ServiceError::NotFound("team"));
    }
    Ok(team)
}

/// Creates a team led by `actor`, who becomes its first member.
pub async fn create_team(ctx: &Ctx, actor: &Actor, new: NewTeam) -> ServiceResult<TeamView> {
    require_participant(actor)?;
    require_verified(actor)?;
    let fields = validate_team(&new.name, &new.kind, &new.province, &new.organization)
        .map_err(ServiceError::Invalid)?;
    let clock = super::timeline::current(ctx).await?;
    if !clock.timeline.registration_open(clock.now) {
        return Err(conflict("registration_closed", None));
    }
    let team = create_team_tx(ctx, actor, fields)
        .await
        .map_err(|e| unique_to_conflict(e, None))?;
    view(ctx, team, actor).await
}

async fn create_team_tx(
    ctx: &Ctx,
    actor: &Actor,
    fields: crate::domain::team::TeamFields,
) -> ServiceResult<TeamRecord> {
    let now = now_ms();
    let mut tx = ctx.store.begin_write().await?;
    if db::team_id_of_user(&mut *tx, &actor.user.id)
        .await?
        .is_some()
    {
        return Err(conflict("already_in_team", None));
    }
    if db::name_key_taken(&mut *tx, &fields.name_key).await? {
        return Err(conflict("team_name_taken", Some("name")));
    }
    let team = TeamRecord {
        id: new_id(),
        name: fields.name,
        name_key: fields.name_key,
        kind: fields.kind.code().to_owned(),
        province: fields.province.to_owned(),
        organization: fields.organization,
        leader_id: actor.user.id.clone(),
        created_at: now,
        updated_at: now,
    };
    db::insert_team(&mut *tx, &team).await?;
    db::insert_member(&mut *tx, &team.id, &actor.user.id, now).await?;
    let members = db::members(&mut *tx, &team.id).await?;
    audit(
        &mut tx,
        Some(&actor.user.id),
        actor.ip.as_deref(),
        "team.create",
        "team",
        &team.id,
        None,
        Some(team_state(&team, &members)),
    )
    .await?;
    tx.commit().await?;
    Ok(team)
}

/// The actor's team, if they are in one.
pub async fn my_team(ctx: &Ctx, actor: &Actor) -> ServiceResult<Option<TeamView>> {
    let pool = ctx.store.pool();
    let Some(team_id) = db::team_id_of_user(pool, &actor.user.id).await? else {
        return Ok(None);
    };
    let Some(team) = db::team_by_id(pool, &team_id).await? else {
        return Ok(None);
    };
    match view(ctx, team, actor).await {
        Ok(v) => Ok(Some(v)),
        // They left between the two reads.
        Err(ServiceError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A team for its members and for organizers; `NotFound` for anyone else.
pub async fn team(ctx: &Ctx, actor: &Actor, team_id: &str) -> ServiceResult<TeamView> {
    let team = db::team_by_id(ctx.store.pool(), team_id)
        .await?
        .ok_or(ServiceError::NotFound("team"))?;
    view(ctx, team, actor).await
}

/// The leader invites someone by email; the invitation is mailed with a one-time link.
pub async fn invite(
    ctx: &Ctx,
    actor: &Actor,
    team_id: &str,
    email: &str,
) -> ServiceResult<InvitationView> {
    require_participant(actor)?;
    require_verified(actor)?;
    let email = Email::parse("email", email)?;
    super::rate_limit(
        ctx,
        &format!("team_invite:user:{}", actor.user.id),
        INVITES_PER_WINDOW,
    )
    .await?;
    let now = now_ms();
    let mut tx = ctx.store.begin_write().await?;
    let team = lock_own_team(ctx, &mut tx, actor, team_id).await?;
    if team.leader_id != actor.user.id {
        return Err(conflict("not_leader", None));
    }
    let members = db::members(&mut *tx, &team.id).await?;
    if members.iter().any(|m| m.email == email.as_str()) {
        return Err(conflict("already_in_team", Some("email")));
    }
    let pending = db::pending_invitations(&mut *tx, &team.id, now).await?;
    let others = pending.iter().filter(|i| i.email != email.as_str()).count();
    if !size_rule(ctx).can_invite(members.len() as u64, others as u64) {
        return Err(conflict("team_full", Some("email")));
    }
    db::retire_invitations(&mut *tx, &team.id, Some(email.as_str()), now).await?;
    let (token, token_hash) = new_token();
    let expires_at = now + i64::from(ctx.config.accounts.invitation_days) * DAY_MS;
    adb::insert_token(
        &mut *tx,
        &NewToken {
            token_hash: &token_hash,
            purpose: PURPOSE_INVITE,
            user_id: Some(&actor.user.id),
            email: Some(email.as_str()),
            data: Some(&team.id),
            now,
            expires_at,
        },
    )
    .await?;
    let recipient = adb::user_by_email(&mut *tx, email.as_str()).await?;
    let lang = recipient.as_ref().map_or(actor.user.lang, |u| u.lang);
    let kind = MailKind::TeamInvitation {
        team: team.name.clone(),
        inviter: actor.user.full_name.clone(),
        url: ctx.link(&format!("/team-invitations/accept?token={token}")),
    };
    ctx.queue_mail(
        &mut tx,
        email.as_str(),
        recipient.as_ref().map(|u| u.id.as_str()),
        lang,
        &kind,
    )
    .await?;
    let after = db::pending_invitations(&mut *tx, &team.id, now).await?;
    audit(
        &mut tx,
        Some(&actor.user.id),
        actor.ip.as_deref(),
        "team.invite",
        "team",
        &team.id,
        Some(invitations_state(&pending)),
        Some(invitations_state(&after)),
    )
    .await?;
    tx.commit().await?;
    ctx.mail_committed();
    Ok(InvitationView {
        id: token_hash,
        email: email.to_string(),
        created_at: now,
        expires_at,
    })
}

/// The team's pending invitations, for its leader and organizers.
pub async fn invitations(
    ctx: &Ctx,
    actor: &Actor,
    team_id: &str,
) -> ServiceResult<Vec<InvitationView>> {
    let v = team(ctx, actor, team_id).await?;
    if !v.emails_visible {
        return Err(conflict("not_leader", None));
    }
    Ok(v.invitations)
}

/// The leader withdraws a pending invitation; its link stops working and its seat is free.
pub async fn revoke_invitation(
    ctx: &Ctx,
    actor: &Actor,
    team_id: &str,
    invitation_id: &str,
) -> ServiceResult<()> {
    require_participant(actor)?;
    let now = now_ms();
    let mut tx = ctx.store.begin_write().await?;
    let team = lock_own_team(ctx, &mut tx, actor, team_id).await?;
    if team.leader_id != actor.user.id {
        return Err(conflict("not_leader", None));
    }
    let before = db::pending_invitations(&mut *tx, &team.id, now).await?;
    if !db::retire_invitation(&mut *tx, &team.id, invitation_id, now).await? {
        return Err(ServiceError::NotFound("invitation"));
    }
    let after = db::pending_invitations(&mut *tx, &team.id, now).await?;
    audit(
        &mut tx,
        Some(&actor.user.id),
        actor.ip.as_deref(),
        "team.revoke_invitation",
        "team",
        &team.id,
        Some(invitations_state(&before)),
        Some(invitations_state(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A usable invitation token, read without using it.
fn usable(t: Option<TokenRecord>, now: i64) -> Option<(String, String)> {
    let t = t.filter(|t| t.used_at.is_none() && t.expires_at > now)?;
    Some((t.data?, t.email?))
}

/// Reads the invitation behind `token` inside `tx` and locks its team (the team first, then the
/// token, in the same order as every other change to a team). Unknown, expired and used tokens
/// are all refused alike. Returns the team, the invited address and the token's hash.
async fn lock_invited_team(
    ctx: &Ctx,
    tx: &mut Tx,
    token: &str,
) -> ServiceResult<(TeamRecord, String, String)> {
    let hash = hash_token(token);
    let t = adb::find_token(&mut **tx, &hash, PURPOSE_INVITE).await?;
    let (team_id, email) = usable(t, now_ms()).ok_or(ServiceError::TokenInvalid)?;
    // A dissolved team retired its invitations; should one slip through, it is as dead.
    let team = db::lock_team(&mut **tx, ctx.store.backend(), &team_id)
        .await?
        .ok_or(ServiceError::TokenInvalid)?;
    Ok((team, email, hash))
}

/// Uses the invitation up; refused when a concurrent change used or retired it meanwhile.
async fn use_invitation(tx: &mut Tx, hash: &str, now: i64) -> ServiceResult<()> {
    if !adb::use_token(&mut **tx, hash, now).await? {
        return Err(ServiceError::TokenInvalid);
    }
    Ok(())
}

/// Adds `user_id` to the locked `team` if there is a seat, and audits it.
async fn join_locked(
    ctx: &Ctx,
    tx: &mut Tx,
    team: &TeamRecord,
    user_id: &str,
    ip: Option<&str>,
    now: i64,
) -> ServiceResult<()> {
    if db::team_id_of_user(&mut **tx, user_id).await?.is_some() {
        return Err(conflict("already_in_team", None));
    }
    let before = db::members(&mut **tx, &team.id).await?;
    if !size_rule(ctx).can_join(before.len() as u64) {
        return Err(conflict("team_full", None));
    }
    db::insert_member(&mut **tx, &team.id, user_id, now).await?;
    let after = db::members(&mut **tx, &team.id).await?;
    audit(
        tx,
        Some(user_id),
        ip,
        "team.join",
        "team",
        &team.id,
        Some(team_state(team, &before)),
        Some(team_state(team, &after)),
    )
    .await
}

/// A logged-in person accepts an invitation sent to their own address and joins the team.
/// An unverified address becomes verified: the link proves it.
pub async fn accept_invitation(ctx: &Ctx, actor: &Actor, token: &str) -> ServiceResult<TeamView> {
    require_participant(actor)?;
    let team = accept_tx(ctx, actor, token)
        .await
        .map_err(|e| unique_to_conflict(e, None))?;
    view(ctx, team, actor).await
}

async fn accept_tx(ctx: &Ctx, actor: &Actor, token: &str) -> ServiceResult<TeamRecord> {
    let now = now_ms();
    let mut tx = ctx.store.begin_write().await?;
    let (team, email, hash) = lock_invited_team(ctx, &mut tx, token).await?;
    if email != actor.user.email {
        return Err(conflict("invitation_email_mismatch", Some("token")));
    }
    use_invitation(&mut tx, &hash, now).await?;
    let ip = actor.ip.as_deref();
    join_locked(ctx, &mut tx, &team, &actor.user.id, ip, now).await?;
    if actor.user.email_verified_at.is_none() {
        adb::update_user(&mut *tx, &actor.user.id, UserChange::Verified, now).await?;
        audit(
            &mut tx,
            Some(&actor.user.id),
            ip,
            "account.verify_email",
            "user",
            &actor.user.id,
            Some(json!({"email": actor.user.email, "verified": false})),
            Some(json!({"email": actor.user.email, "verified": true, "via": "team_invitation"})),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(team)
}

/// Someone without an account accepts an invitation: a participant account is created for the
/// invited address (verified, since the link proves it), joins the team and is logged in.
/// Refused with `email_taken` when the address already has an account (they log in and accept).
#[allow(clippy::too_many_arguments)]
pub async fn accept_invitation_new_account(
    ctx: &Ctx,
    token: &str,
    full_name: &str,
    password: &str,
    organization: &str,
    phone: &str,
    lang: Lang,
    ip: Option<&str>,
) -> ServiceResult<JoinedWithNewAccount> {
    if let Some(ip) = ip {
        super::rate_limit(
            ctx,
            &format!("register:ip:{ip}"),
            ctx.config.rate_limits.register_per_ip,
        )
        .await?;
    }
    // Read the invitation first for its address; it is taken for real in the transaction.
    let pool = ctx.store.pool();
    let t = adb::find_token(pool, &hash_token(token), PURPOSE_INVITE).await?;
    let (_, email) = usable(t, now_ms()).ok_or(ServiceError::TokenInvalid)?;
    if adb::user_by_email(pool, &email).await?.is_some() {
        return Err(conflict("email_taken", Some("email")));
    }
    let v = validate_registration(&Registration {
        email,
        full_name: full_name.to_owned(),
        password: password.to_owned(),
        organization: organization.to_owned(),
        phone: phone.to_owned(),
        lang: Some(lang),
    })
    .map_err(ServiceError::Invalid)?;
    let password_hash = hash_password(password).await?;
    let (session_token, session_hash) = new_token();
    let (user, team) = accept_new_tx(ctx, token, &v, &password_hash, &session_hash, lang, ip)
        .await
        .map_err(|e| unique_to_conflict(e, Some("email")))?;
    let actor = Actor {
        user: user.clone(),
        session: session_hash,
        ip: ip.map(str::to_owned),
        received_at: now_ms(),
    };
    let team = view(ctx, team, &actor).await?;
    Ok(JoinedWithNewAccount {
        session_token,
        user,
        team,
    })
}

async fn accept_new_tx(
    ctx: &Ctx,
    token: &str,
    v: &super::accounts::ValidRegistration,
    password_hash: &str,
    session_hash: &str,
    lang: Lang,
    ip: Option<&str>,
) -> ServiceResult<(UserRecord, TeamRecord)> {
    let now = now_ms();
    let mut tx = ctx.store.begin_write().await?;
    let (team, email, hash) = lock_invited_team(ctx, &mut tx, token).await?;
    if email != v.email.as_str() {
        return Err(ServiceError::TokenInvalid);
    }
    if adb::user_by_email(&mut *tx, &email).await?.is_some() {
        return Err(conflict("email_taken", Some("email")));
    }
    use_invitation(&mut tx, &hash, now).await?;
    let id = new_id();
    adb::insert_user(
        &mut *tx,
        &NewUser {
            id: &id,
            email: &email,
            full_name: &v.full_name,
            organization: &v.organization,
            phone: v.phone.as_deref(),
            lang,
            role: Role::Participant,
            password_hash,
            verified_at: Some(now),
            now,
        },
    )
    .await?;
    audit(
        &mut tx,
        Some(&id),
        ip,
        "account.register",
        "user",
        &id,
        None,
        Some(json!({
            "email": email, "full_name": v.full_name, "role": "participant",
            "verified": true, "via": "team_invitation",
        })),
    )
    .await?;
    join_locked(ctx, &mut tx, &team, &id, ip, now).await?;
    let expires = now + i64::from(ctx.config.accounts.session_days) * DAY_MS;
    adb::insert_session(&mut *tx, session_hash, &id, now, expires, ip).await?;
    let user = adb::user_by_id(&mut *tx, &id)
        .await?
        .ok_or_else(|| ServiceError::Internal("new user vanished".into()))?;
    tx.commit().await?;
    Ok((user, team))
}

/// For the accept page: the team's name, the invited address, and whether that address has an
/// account (log in and accept, or create one). `None` when the link is unusable.
pub async fn invitation_info(
    ctx: &Ctx,
    token: &str,
) -> ServiceResult<Option<(String, String, bool)>> {
    let pool = ctx.store.pool();
    let t = adb::find_token(pool, &hash_token(token), PURPOSE_INVITE).await?;
    let Some((team_id, email)) = usable(t, now_ms()) else {
        return Ok(None);
    };
    let Some(team) = db::team_by_id(pool, &team_id).await? else {
        return Ok(None);
    };
    let has_account = adb::user_by_email(pool, &email).await?.is_some();
    Ok(Some((team.name, email, has_account)))
}

/// Takes `user_id` out of the team: leaving when it is the actor, else the leader removing a
/// member. Returns the team as the actor now sees it, or `None` when the actor left (a leader
/// who was the last member dissolves the team).
pub async fn leave_or_remove(
    ctx: &Ctx,
    actor: &Actor,
    team_id: &str,
    user_id: &str,
) -> ServiceResult<Option<TeamView>> {
    require_participant(actor)?;
    let now = now_ms();
    let mut tx = ctx.store.begin_write().await?;
    let team = lock_own_team(ctx, &mut tx, actor, team_id).await?;
    let members = db::members(&mut *tx, &team.id).await?;
    let leaving = user_id == actor.user.id;
    let is_leader = team.leader_id == actor.user.id;
    let ip = actor.ip.as_deref();
    if leaving && is_leader {
        if members.len() > 1 {
            return Err(conflict("leader_must_hand_over", None));
        }
        db::delete_member(&mut *tx, &team.id, user_id).await?;
        db::retire_invitations(&mut *tx, &team.id, None, now).await?;
        db::delete_team(&mut *tx, &team.id).await?;
        let before = team_state(&team, &members);
        audit(
            &mut tx,
            Some(&actor.user.id),
            ip,
            "team.dissolve",
            "team",
            &team.id,
            Some(before),
            None,
        )
        .await?;
        tx.commit().await?;
        return Ok(None);
    }
    if !leaving && !is_leader {
        return Err(conflict("not_leader", None));
    }
    if !db::delete_member(&mut *tx, &team.id, user_id).await? {
        return Err(conflict("not_member", Some("user_id")));
    }
    let after = db::members(&mut *tx, &team.id).await?;
    audit(
        &mut tx,
        Some(&actor.user.id),
        ip,
        if leaving {
            "team.leave"
        } else {
            "team.remove_member"
        },
        "team",
        &team.id,
        Some(team_state(&team, &members)),
        Some(team_state(&team, &after)),
    )
    .await?;
    tx.commit().await?;
    if leaving {
        return Ok(None);
    }
    view(ctx, team, actor).await.map(Some)
}

/// The leader makes another member the leader.
pub async fn hand_over(
    ctx: &Ctx,
    actor: &Actor,
    team_id: &str,
    new_leader_id: &str,
) -> ServiceResult<TeamView> {
    require_participant(actor)?;
    let now = now_ms();
    let mut tx = ctx.store.begin_write().await?;
    let team = lock_own_team(ctx, &mut tx, actor, team_id).await?;
    if team.leader_id != actor.user.id {
        return Err(conflict("not_leader", None));
    }
    let members = db::members(&mut *tx, &team.id).await?;
    if !members.iter().any(|m| m.user_id == new_leader_id) {
        return Err(conflict("not_member", Some("user_id")));
    }
    if new_leader_id == team.leader_id {
        tx.commit().await?;
        return view(ctx, team, actor).await;
    }
    db::set_leader(&mut *tx, &team.id, new_leader_id, now).await?;
    let after = TeamRecord {
        leader_id: new_leader_id.to_owned(),
        updated_at: now,
        ..team.clone()
    };
    audit(
        &mut tx,
        Some(&actor.user.id),
        actor.ip.as_deref(),
        "team.hand_over",
        "team",
        &team.id,
        Some(team_state(&team, &members)),
        Some(team_state(&after, &members)),
    )
    .await?;
    tx.commit().await?;
    view(ctx, after, actor).await
}
