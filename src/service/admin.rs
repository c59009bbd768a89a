//! Organizer use cases: judge invitations, users (disable, re-enable), the outbox and audit views.
//!
//! Every function that an organizer calls checks the authorization table first
//! (`actor.require`), and every change is audited inside its own transaction with the actor, the
//! actor's IP address and the state before. Mail is queued in the same transaction.

use serde_json::json;

use super::accounts::{Registration, hash_password, validate_registration};
use super::{Actor, Ctx, ServiceError, ServiceResult, audit, hash_token, new_token, now_ms};
use crate::domain::account::{Email, Invalid, Problem, Role};
use crate::domain::authz::Action;
use crate::i18n::Lang;
use crate::mail::templates::MailKind;
use crate::store::Tx;
use crate::store::accounts::{
    self as accounts_db, AuditEntry, AuditFilter, NewToken, NewUser, TokenRecord, UserChange,
    UserRecord,
};
use crate::store::admin::{self as db, InvitationData, InvitationStatus, JudgeInvitationRow};
use crate::store::new_id;
use crate::store::outbox::{OutboxCounts, OutboxFilter, OutboxRow, OutboxStatus};

pub use crate::store::admin::PURPOSE_JUDGE_INVITE;

const DAY_MS: i64 = 24 * 3_600_000;

/// Items per page when the caller does not say, and the most allowed.
pub const DEFAULT_PER_PAGE: u32 = 20;
pub const MAX_PER_PAGE: u32 = 100;

/// Which page of a list: `page` from 1, `per_page` from 1 to `MAX_PER_PAGE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: u32,
    pub per_page: u32,
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

impl Paging {
    /// Checks both numbers; missing ones take their defaults.
    pub fn new(page: Option<u32>, per_page: Option<u32>) -> ServiceResult<Paging> {
        let mut errors = Vec::new();
        let page = page.unwrap_or(1);
        if page == 0 {
            errors.push(Invalid {
                field: "page",
                problem: Problem::NotAllowed("1, 2, 3…".into()),
            });
        }
        let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
        if per_page == 0 || per_page > MAX_PER_PAGE {
            errors.push(Invalid {
                field: "per_page",
                problem: Problem::NotAllowed(format!("1–{MAX_PER_PAGE}")),
            });
        }
        if errors.is_empty() {
            Ok(Paging { page, per_page })
        } else {
            Err(ServiceError::Invalid(errors))
        }
    }

    pub fn limit(self) -> i64 {
        i64::from(self.per_page)
    }

    pub fn offset(self) -> i64 {
        i64::from(self.page.saturating_sub(1)) * i64::from(self.per_page)
    }
}

/// One page of a list, and how many items match over all pages.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

impl<T> Page<T> {
    fn new(items: Vec<T>, total: i64, paging: Paging) -> Page<T> {
        Page {
            items,
            total,
            page: paging.page,
            per_page: paging.per_page,
        }
    }
}

/// The state of an account recorded in the audit log.
fn user_state(u: &UserRecord) -> serde_json::Value {
    json!({
        "email": u.email, "full_name": u.full_name, "organization": u.organization,
        "role": u.role.code(), "verified": u.email_verified_at.is_some(),
        "disabled": u.disabled_at.is_some(),
    })
}

// --- Judge invitations ------------------------------------------------------------------------

/// Invites `email` to judge: a one-time link valid `accounts.invitation_days`, emailed in `lang`
/// (else the account's language, else Vietnamese). A new invitation replaces the address's
/// pending ones. Organizers and judges cannot be invited.
pub async fn invite_judge(
    ctx: &Ctx,
    actor: &Actor,
    email: &str,
    lang: Option<Lang>,
) -> ServiceResult<JudgeInvitationRow> {
    actor.require(Action::InviteJudges)?;
    let email = Email::parse("email", email)?;
    let now = now_ms();
    let expires_at = now + i64::from(ctx.config.accounts.invitation_days) * DAY_MS;
    let mut tx = ctx.store.begin_write().await?;
    let account = accounts_db::user_by_email(&mut *tx, email.as_str()).await?;
    match account.as_ref().map(|u| u.role) {
        Some(Role::Organizer) => {
            return Err(ServiceError::Conflict {
                code: "already_organizer",
                field: Some("email"),
            });
        }
        Some(Role::Judge) => {
            return Err(ServiceError::Conflict {
                code: "already_judge",
                field: Some("email"),
            });
        }
        Some(Role::Participant) | None => {}
    }
    let replaced = db::replace_judge_invitations(&mut *tx, email.as_str(), now).await?;
    let data = InvitationData {
        id: new_id(),
        inviter_id: actor.user.id.clone(),
        inviter_name: actor.user.full_name.clone(),
    };
    let data_json =
        serde_json::to_string(&data).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let (token, token_hash) = new_token();
    accounts_db::insert_token(
        &mut *tx,
        &NewToken {
            token_hash: &token_hash,
            purpose: PURPOSE_JUDGE_INVITE,
            user_id: None,
            email: Some(email.as_str()),
            data: Some(&data_json),
            now,
            expires_at,
        },
    )
    .await?;
    let lang = lang
        .or(account.as_ref().map(|u| u.lang))
        .unwrap_or_default();
    let kind = MailKind::JudgeInvitation {
        inviter: actor.user.full_name.clone(),
        url: ctx.link(&format!("/judge-invitations/accept?token={token}")),
    };
    ctx.queue_mail(
        &mut tx,
        email.as_str(),
        account.as_ref().map(|u| u.id.as_str()),
        lang,
        &kind,
    )
    .await?;
    audit(
        &mut tx,
        Some(&actor.user.id),
        actor.ip.as_deref(),
        "judge.invite",
        "judge_invitation",
        &data.id,
        Some(json!({
            "account": account.as_ref().map(user_state),
            "pending_invitations_replaced": replaced,
        })),
        Some(json!({"email": email.as_str(), "expires_at": expires_at, "lang": lang.code()})),
    )
    .await?;
    tx.commit().await?;
    ctx.mail_committed();
    Ok(JudgeInvitationRow {
        id: data.id,
        email: email.as_str().to_owned(),
        inviter_id: data.inviter_id,
        inviter_name: data.inviter_name,
        status: InvitationStatus::Pending,
        created_at: now,
        expires_at,
        used_at: None,
        accepted_by: None,
        accepted_by_name: None,
    })
}

/// Judge invitations, newest first: all of them, or those of one status.
pub async fn list_judge_invitations(
    ctx: &Ctx,
    actor: &Actor,
    status: Option<InvitationStatus>,
    paging: Paging,
) -> ServiceResult<Page<JudgeInvitationRow>> {
    actor.require(Action::InviteJudges)?;
    let (items, total) = db::list_judge_invitations(
        ctx.store.pool(),
        status,
        now_ms(),
        paging.limit(),
        paging.offset(),
    )
    .await?;
    Ok(Page::new(items, total, paging))
}

/// What the accept page shows about an invitation link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationInfo {
    /// The link can still be accepted.
    pub valid: bool,
    /// The invited address (absent when the token is unknown).
    pub email: Option<String>,
    /// An account with the invited address exists: log in to accept; else create one.
    pub account_exists: bool,
    pub inviter_name: Option<String>,
    pub expires_at: Option<i64>,
}

/// Looks at an invitation link without using it.
pub async fn invitation_info(ctx: &Ctx, token: &str) -> ServiceResult<InvitationInfo> {
    let pool = ctx.store.pool();
    let Some(t) = accounts_db::find_token(pool, &hash_token(token), PURPOSE_JUDGE_INVITE).await?
    else {
        return Ok(InvitationInfo {
            valid: false,
            email: None,
            account_exists: false,
            inviter_name: None,
            expires_at: None,
        });
    };
    let account_exists = match t.email.as_deref() {
        Some(email) => accounts_db::user_by_email(pool, email).await?.is_some(),
        None => false,
    };
    let data = invitation_data(&t);
    Ok(InvitationInfo {
        valid: usable(&t, now_ms()),
        email: t.email,
        account_exists,
        inviter_name: data.map(|d| d.inviter_name),
        expires_at: Some(t.expires_at),
    })
}

fn usable(t: &TokenRecord, now: i64) -> bool {
    t.used_at.is_none() && t.expires_at > now && t.email.is_some()
}

fn invitation_data(t: &TokenRecord) -> Option<InvitationData> {
    t.data
        .as_deref()
        .and_then(|d| serde_json::from_str::<InvitationData>(d).ok())
}

/// A usable invitation by token, read inside `tx`; unknown, used and expired ones are refused
/// alike. Returns the hash, the invited address and the token.
async fn usable_invitation(
    tx: &mut Tx,
    token: &str,
) -> ServiceResult<(String, String, TokenRecord)> {
    let hash = hash_token(token);
    let t = accounts_db::find_token(&mut **tx, &hash, PURPOSE_JUDGE_INVITE)
        .await?
        .filter(|t| usable(t, now_ms()))
        .ok_or(ServiceError::TokenInvalid)?;
    let email = t.email.clone().ok_or(ServiceError::TokenInvalid)?;
    Ok((hash, email, t))
}

/// Accepts an invitation as the logged-in account it was sent to: a participant becomes a judge
/// (unless they are in a team), a judge stays one, an organizer keeps their role.
pub async fn accept_judge_invitation(
    ctx: &Ctx,
    actor: &Actor,
    token: &str,
) -> ServiceResult<UserRecord> {
    actor.require(Action::OwnAccount)?;
    let mut tx = ctx.store.begin_write().await?;
    let (hash, email, t) = usable_invitation(&mut tx, token).await?;
    let user = accounts_db::user_by_id(&mut *tx, &actor.user.id)
        .await?
        .ok_or(ServiceError::Unauthenticated)?;
    if user.email != email {
        return Err(ServiceError::Conflict {
            code: "invitation_email_mismatch",
            field: Some("token"),
        });
    }
    let new_role = match user.role {
        Role::Organizer => Role::Organizer,
        Role::Judge => Role::Judge,
        Role::Participant => {
            if db::user_in_team(&mut *tx, &user.id).await? {
                return Err(ServiceError::Conflict {
                    code: "already_in_team",
                    field: None,
                });
            }
            Role::Judge
        }
    };
    let now = now_ms();
    if !db::claim_judge_invitation(&mut *tx, &hash, now).await? {
        return Err(ServiceError::TokenInvalid);
    }
    db::record_invitation_acceptor(&mut *tx, &hash, &user.id).await?;
    if new_role != user.role {
        accounts_db::update_user(&mut *tx, &user.id, UserChange::Role(new_role), now).await?;
    }
    let invitation_id = invitation_data(&t).map(|d| d.id).unwrap_or_default();
    audit(
        &mut tx,
        Some(&user.id),
        actor.ip.as_deref(),
        "judge.accept_invitation",
        "user",
        &user.id,
        Some(user_state(&user)),
        Some(json!({"role": new_role.code(), "invitation_id": invitation_id})),
    )
    .await?;
    tx.commit().await?;
    Ok(UserRecord {
        role: new_role,
        ..user
    })
}

/// Accepts an invitation by creating the invited address's account: a verified judge. Refused
/// with `email_taken` when the address has an account (log in and accept instead).
#[allow(clippy::too_many_arguments)]
pub async fn accept_judge_invitation_new_account(
    ctx: &Ctx,
    token: &str,
    full_name: &str,
    password: &str,
    organization: &str,
    phone: &str,
    lang: Option<Lang>,
    ip: Option<&str>,
) -> ServiceResult<UserRecord> {
    // A cheap look first, so bogus tokens cost no password hashing.
    let t = accounts_db::find_token(ctx.store.pool(), &hash_token(token), PURPOSE_JUDGE_INVITE)
        .await?
        .filter(|t| usable(t, now_ms()))
        .ok_or(ServiceError::TokenInvalid)?;
    let registration = Registration {
        email: t.email.clone().unwrap_or_default(),
        full_name: full_name.to_owned(),
        password: password.to_owned(),
        organization: organization.to_owned(),
        phone: phone.to_owned(),
        lang,
    };
    let v = validate_registration(&registration).map_err(ServiceError::Invalid)?;
    let lang = lang.unwrap_or_default();
    let password_hash = hash_password(password).await?;

    let mut tx = ctx.store.begin_write().await?;
    let (hash, email, t) = usable_invitation(&mut tx, token).await?;
    if email != v.email.as_str() {
        return Err(ServiceError::TokenInvalid);
    }
    if accounts_db::user_by_email(&mut *tx, &email)
        .await?
        .is_some()
    {
        return Err(ServiceError::Conflict {
            code: "email_taken",
            field: Some("email"),
        });
    }
    let now = now_ms();
    // Claimed first: of two concurrent accepts, the second waits here and is refused.
    if !db::claim_judge_invitation(&mut *tx, &hash, now).await? {
        return Err(ServiceError::TokenInvalid);
    }
    let id = new_id();
    accounts_db::insert_user(
        &mut *tx,
        &NewUser {
            id: &id,
            email: &email,
            full_name: &v.full_name,
            organization: &v.organization,
            phone: v.phone.as_deref(),
            lang,
            role: Role::Judge,
            password_hash: &password_hash,
            verified_at: Some(now),
            now,
        },
    )
    .await?;
    db::record_invitation_acceptor(&mut *tx, &hash, &id).await?;
    let invitation_id = invitation_data(&t).map(|d| d.id).unwrap_or_default();
    audit(
        &mut tx,
        Some(&id),
        ip,
        "judge.accept_invitation_new_account",
        "user",
        &id,
        None,
        Some(json!({
            "email": email, "full_name": v.full_name, "role": "judge",
            "invitation_id": invitation_id,
        })),
    )
    .await?;
    let user = accounts_db::user_by_id(&mut *tx, &id)
        .await?
        .ok_or(ServiceError::Internal("the new account vanished".into()))?;
    tx.commit().await?;
    Ok(user)
}

// --- Users ------------------------------------------------------------------------------------

/// Accounts, newest first, filtered by role and by text in the email, name or organization.
pub async fn list_users(
    ctx: &Ctx,
    actor: &Actor,
    role: Option<Role>,
    q: Option<&str>,
    paging: Paging,
) -> ServiceResult<Page<UserRecord>> {
    actor.require(Action::ManageUsers)?;
    let q = q.map(str::trim).filter(|q| !q.is_empty());
    let (items, total) =
        accounts_db::list_users(ctx.store.pool(), role, q, paging.limit(), paging.offset()).await?;
    Ok(Page::new(items, total, paging))
}

/// Disables an account: its sessions end at once, it cannot log in, and it is told by email.
/// Disabling a disabled account changes nothing. Organizers cannot disable themselves.
pub async fn disable_user(ctx: &Ctx, actor: &Actor, user_id: &str) -> ServiceResult<UserRecord> {
    actor.require(Action::ManageUsers)?;
    if user_id == actor.user.id {
        return Err(ServiceError::Conflict {
            code: "cannot_disable_self",
            field: None,
        });
    }
    let mut tx = ctx.store.begin_write().await?;
    let user = accounts_db::user_by_id(&mut *tx, user_id)
        .await?
        .ok_or(ServiceError::NotFound("user"))?;
    if user.disabled_at.is_some() {
        return Ok(user);
    }
    let now = now_ms();
    accounts_db::update_user(&mut *tx, &user.id, UserChange::Disabled(true), now).await?;
    let sessions_ended = accounts_db::delete_user_sessions(&mut *tx, &user.id, None).await?;
    let kind = MailKind::AccountDisabled {
        name: user.full_name.clone(),
    };
    ctx.queue_mail(&mut tx, &user.email, Some(&user.id), user.lang, &kind)
        .await?;
    audit(
        &mut tx,
        Some(&actor.user.id),
        actor.ip.as_deref(),
        "user.disable",
        "user",
        &user.id,
        Some(user_state(&user)),
        Some(json!({"disabled": true, "sessions_ended": sessions_ended})),
    )
    .await?;
    tx.commit().await?;
    ctx.mail_committed();
    Ok(UserRecord {
        disabled_at: Some(now),
        ..user
    })
}

/// Re-enables a disabled account (it logs in again with its password). Enabling an enabled
/// account changes nothing.
pub async fn enable_user(ctx: &Ctx, actor: &Actor, user_id: &str) -> ServiceResult<UserRecord> {
    actor.require(Action::ManageUsers)?;
    let mut tx = ctx.store.begin_write().await?;
    let user = accounts_db::user_by_id(&mut *tx, user_id)
        .await?
        .ok_or(ServiceError::NotFound("user"))?;
    if user.disabled_at.is_none() {
        return Ok(user);
    }
    accounts_db::update_user(&mut *tx, &user.id, UserChange::Disabled(false), now_ms()).await?;
    audit(
        &mut tx,
        Some(&actor.user.id),
        actor.ip.as_deref(),
        "user.enable",
        "user",
        &user.id,
        Some(user_state(&user)),
        Some(json!({"disabled": false})),
    )
    .await?;
    tx.commit().await?;
    Ok(UserRecord {
        disabled_at: None,
        ..user
    })
}

// --- Outbox -----------------------------------------------------------------------------------

/// What the organizers' outbox view filters on.
#[derive(Debug, Clone, Default)]
pub struct OutboxQuery {
    pub status: Option<OutboxStatus>,
    /// Part of the recipient's address, any case.
    pub recipient: Option<String>,
    /// A message kind, e.g. `judge_invitation`.
    pub kind: Option<String>,
}

/// A page of the outbox and how many messages are in each status (over the whole outbox).
#[derive(Debug, Clone)]
pub struct OutboxView {
    pub page: Page<OutboxRow>,
    pub counts: OutboxCounts,
}

/// The outbox, newest first.
pub async fn list_outbox(
    ctx: &Ctx,
    actor: &Actor,
    query: OutboxQuery,
    paging: Paging,
) -> ServiceResult<OutboxView> {
    actor.require(Action::ManageMail)?;
    let filter = OutboxFilter {
        status: query.status,
        recipient: query.recipient.filter(|r| !r.trim().is_empty()),
        kind: query.kind.filter(|k| !k.trim().is_empty()),
        limit: paging.limit(),
        offset: paging.offset(),
    };
    let (items, total) = ctx.store.list_outbox(&filter).await?;
    let counts = ctx.store.outbox_counts().await?;
    Ok(OutboxView {
        page: Page::new(items, total, paging),
        counts,
    })
}

/// Puts a failed message back in the queue with a fresh set of attempts and wakes the
/// dispatcher. Only failed messages can be retried (`not_failed` otherwise).
pub async fn retry_mail(ctx: &Ctx, actor: &Actor, id: &str) -> ServiceResult<()> {
    actor.require(Action::ManageMail)?;
    let mut tx = ctx.store.begin_write().await?;
    let state = db::outbox_state(&mut *tx, id)
        .await?
        .ok_or(ServiceError::NotFound("message"))?;
    if state.status != OutboxStatus::Failed
        || !db::requeue_failed_mail(&mut *tx, id, now_ms()).await?
    {
        return Err(ServiceError::Conflict {
            code: "not_failed",
            field: None,
        });
    }
    audit(
        &mut tx,
        Some(&actor.user.id),
        actor.ip.as_deref(),
        "mail.retry",
        "outbox",
        id,
        Some(json!({
            "status": state.status.code(), "attempts": state.attempts,
            "last_error": state.last_error, "to": state.to_email, "kind": state.kind,
        })),
        Some(json!({"status": "queued", "attempts": 0})),
    )
    .await?;
    tx.commit().await?;
    ctx.mail_committed();
    Ok(())
}

// --- Audit log --------------------------------------------------------------------------------

/// What the audit view filters on (each exact).
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// The actor's account id or email address.
    pub actor: Option<String>,
    /// An action, e.g. `user.disable`.
    pub action: Option<String>,
    /// The subject's id, e.g. a user id.
    pub subject: Option<String>,
}

/// One audit entry with the actor's address and name, when the actor was an account.
#[derive(Debug, Clone)]
pub struct AuditItem {
    pub entry: AuditEntry,
    pub actor_email: Option<String>,
    pub actor_name: Option<String>,
}

/// The audit log, newest first.
pub async fn list_audit(
    ctx: &Ctx,
    actor: &Actor,
    query: AuditQuery,
    paging: Paging,
) -> ServiceResult<Page<AuditItem>> {
    actor.require(Action::ReadAudit)?;
    let pool = ctx.store.pool();
    let clean = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let actor_id = match clean(query.actor) {
        Some(a) if a.contains('@') => {
            let email = Email::parse("actor", &a)?;
            match accounts_db::user_by_email(pool, email.as_str()).await? {
                Some(u) => Some(u.id),
                None => return Ok(Page::new(Vec::new(), 0, paging)),
            }
        }
        other => other,
    };
    let filter = AuditFilter {
        actor_id,
        action: clean(query.action),
        subject_id: clean(query.subject),
        limit: paging.limit(),
        offset: paging.offset(),
    };
    let (entries, total) = accounts_db::list_audit(pool, &filter).await?;
    let mut ids: Vec<String> = entries.iter().filter_map(|e| e.actor_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let names = db::user_names(pool, &ids).await?;
    let items = entries
        .into_iter()
        .map(|entry| {
            let who = entry
                .actor_id
                .as_deref()
                .and_then(|id| names.iter().find(|(i, _, _)| i == id));
            AuditItem {
                actor_email: who.map(|(_, e, _)| e.clone()),
                actor_name: who.map(|(_, _, n)| n.clone()),
                entry,
            }
        })
        .collect();
    Ok(Page::new(items, total, paging))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_defaults_and_limits() {
        let p = Paging::new(None, None).unwrap();
        assert_eq!((p.page, p.per_page, p.offset()), (1, DEFAULT_PER_PAGE, 0));
        let p = Paging::new(Some(3), Some(10)).unwrap();
        assert_eq!((p.limit(), p.offset()), (10, 20));
        assert!(Paging::new(Some(0), None).is_err());
        assert!(Paging::new(None, Some(0)).is_err());
        assert!(Paging::new(None, Some(MAX_PER_PAGE + 1)).is_err());
        match Paging::new(Some(0), Some(0)) {
            Err(ServiceError::Invalid(list)) => assert_eq!(list.len(), 2),
            other => panic!("{other:?}"),
        }
    }
}
