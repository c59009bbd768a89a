//! Accounts: register, verify email, log in and out, reset and change password, change email,
//! profile. Every change is audited and its email is queued in the same transaction.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use serde_json::json;

use super::{
    Actor, Ctx, ServiceError, ServiceResult, audit, hash_token, new_token, now_ms, rate_limit,
};
use crate::domain::account::{self, Email, Invalid, Role};
use crate::i18n::Lang;
use crate::mail::templates::MailKind;
use crate::store::accounts::{self as db, NewToken, NewUser, UserChange, UserRecord};
use crate::store::new_id;

pub const PURPOSE_VERIFY: &str = "verify_email";
pub const PURPOSE_RESET: &str = "reset_password";
pub const PURPOSE_EMAIL_CHANGE: &str = "change_email";

const HOUR_MS: i64 = 3_600_000;

/// What a person fills in to register.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub email: String,
    pub full_name: String,
    pub password: String,
    pub organization: String,
    pub phone: String,
    pub lang: Option<Lang>,
}

/// Validated registration fields.
pub struct ValidRegistration {
    pub email: Email,
    pub full_name: String,
    pub organization: String,
    pub phone: Option<String>,
}

/// Checks every field and reports all problems at once.
pub fn validate_registration(r: &Registration) -> Result<ValidRegistration, Vec<Invalid>> {
    let mut errors = Vec::new();
    let email = Email::parse("email", &r.email)
        .map_err(|e| errors.push(e))
        .ok();
    let full_name = account::required_text("full_name", &r.full_name, account::MAX_NAME_CHARS)
        .map_err(|e| errors.push(e))
        .ok();
    let organization = account::required_text(
        "organization",
        &r.organization,
        account::MAX_ORGANIZATION_CHARS,
    )
    .map_err(|e| errors.push(e))
    .ok();
    let phone = account::phone("phone", &r.phone)
        .map_err(|e| errors.push(e))
        .ok();
    let _ = account::check_password("password", &r.password, &[&r.email, &r.full_name])
        .map_err(|e| errors.push(e));
    match (email, full_name, organization, phone) {
        (Some(email), Some(full_name), Some(organization), Some(phone)) if errors.is_empty() => {
            Ok(ValidRegistration {
                email,
                full_name,
                organization,
                phone,
            })
        }
        _ => Err(errors),
    }
}

/// Hashes with argon2id off the async runtime.
pub async fn hash_password(password: &str) -> ServiceResult<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| ServiceError::Internal(format!("hashing: {e}")))
    })
    .await
    .map_err(|e| ServiceError::Internal(e.to_string()))?
}

/// Verifies off the async runtime. A missing hash is checked against a dummy so that unknown
/// emails take as long as known ones.
pub async fn verify_password(password: &str, hash: Option<&str>) -> ServiceResult<bool> {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let known = hash.is_some();
    let hash = match hash {
        Some(h) => h.to_owned(),
        None => match DUMMY.get() {
            Some(d) => d.clone(),
            None => {
                let d = hash_password("dummy password for timing").await?;
                DUMMY.get_or_init(|| d).clone()
            }
        },
    };
    let password = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(ok && known)
}

fn user_state(u: &UserRecord) -> serde_json::Value {
    json!({
        "email": u.email, "full_name": u.full_name, "organization": u.organization, "phone": u.phone,
        "lang": u.lang.code(), "role": u.role.code(), "verified": u.email_verified_at.is_some(),
        "disabled": u.disabled_at.is_some(),
    })
}

/// Registers a participant and emails a verification link. The reply is the same whether or not
/// the email was registered already (an existing unverified account gets a fresh link).
pub async fn register(ctx: &Ctx, r: Registration, ip: Option<&str>) -> ServiceResult<()> {
    if let Some(ip) = ip {
        rate_limit(
            ctx,
            &format!("register:ip:{ip}"),
            ctx.config.rate_limits.register_per_ip,
        )
        .await?;
    }
    let v = validate_registration(&r).map_err(ServiceError::Invalid)?;
    let lang = r.lang.unwrap_or_default();
    let password_hash = hash_password(&r.password).await?;
    let now = now_ms();
    let mut tx = ctx.store.begin_write().await?;
    let existing = db::user_by_email(&mut *tx, v.email.as_str()).await?;
    let (user_id, name, lang) = match existing {
        Some(u) if u.email_verified_at.is_some() => {
            tracing::info!("registration for an address that already has a verified account");
            tx.commit().await?;
            return Ok(());
        }
        Some(u) => (u.id, u.full_name, u.lang),
        None => {
            let id = new_id();
            let inserted = db::insert_user(
                &mut *tx,
                &NewUser {
                    id: &id,
                    email: v.email.as_str(),
                    full_name: &v.full_name,
                    organization: &v.organization,
                    phone: v.phone.as_deref(),
                    lang,
                    role: Role::Participant,
                    password_hash: &password_hash,
                    verified_at: None,
                    now,
                },
            )
            .await;
            // A concurrent registration of the same address won: answer as for any existing one.
            if let Err(crate::store::StoreError::EmailTaken) = inserted {
                return Ok(());
            }
            inserted?;
            let after =
                json!({"email": v.email.as_str(), "full_name": v.full_name, "role": "participant"});
            audit(
                &mut tx,
                Some(&id),
                ip,
                "account.register",
                "user",
                &id,
                None,
                Some(after),
            )
            .await?;
            (id, v.full_name.clone(), lang)
        }
    };
    db::retire_tokens(&mut *tx, &user_id, PURPOSE_VERIFY, now).await?;
    let (token, token_hash) = new_token();
    db::insert_token(
        &mut *tx,
        &NewToken {
            token_hash: &token_hash,
            purpose: PURPOSE_VERIFY,
            user_id: Some(&user_id),
            email: Some(v.email.as_str()),
            data: None,
            now,
            expires_at: now + i64::from(ctx.config.accounts.verify_link_hours) * HOUR_MS,
        },
    )
    .await?;
    let kind = MailKind::VerifyEmail {
        name,
        url: ctx.link(&format!("/verify?token={token}")),
    };
    ctx.queue_mail(&mut tx, v.email.as_str(), Some(&user_id), lang, &kind)
        .await?;
    tx.commit().await?;
    ctx.mail_committed();
    Ok(())
}

/// Is this link still usable? (For the page that shows the confirm button.)
pub async fn token_is_usable(ctx: &Ctx, token: &str, purpose: &str) -> ServiceResult<bool> {
    let t = db::find_token(ctx.store.pool(), &hash_token(token), purpose).await?;
    Ok(t.is_some_and(|t| t.used_at.is_none() && t.expires_at > now_ms()))
}

/// Takes a one-time token inside `tx`: unknown, expired and used tokens are all refused alike.
async fn take_token(
    tx: &mut crate::store::Tx,
    token: &str,
    purpose: &str,
) -> ServiceResult<db::TokenRecord> {
    let hash = hash_token(token);
    let now = now_ms();
    let t = db::find_token(&mut **tx, &hash, purpose)
        .await?
        .ok_or(ServiceError::TokenInvalid)?;
    if t.used_at.is_some() || t.expires_at <= now || !db::use_token(&mut **tx, &hash, now).await? {
        return Err(ServiceError::TokenInvalid);
    }
    Ok(t)
}

/// Confirms an email address from the link (a POST, so link scanners do not verify accounts).
pub async fn verify_email(ctx: &Ctx, token: &str, ip: Option<&str>) -> ServiceResult<UserRecord> {
    let mut tx = ctx.store.begin_write().await?;
    let t = take_token(&mut tx, token, PURPOSE_VERIFY).await?;
    let user_id = t.user_id.ok_or(ServiceError::TokenInvalid)?;
    let user = db::user_by_id(&mut *tx, &user_id)
        .await?
        .ok_or(ServiceError::TokenInvalid)?;
    if t.email.as_deref() != Some(user.email.as_str()) {
        return Err(ServiceError::TokenInvalid);
    }
    let now = now_ms();
    if user.email_verified_at.is_none() {
        db::update_user(&mut *tx, &user_id, UserChange::Verified, now).await?;
        audit(
            &mut tx,
            Some(&user_id),
            ip,
            "account.verify_email",
            "user",
            &user_id,
            Some(user_state(&user)),
            None,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(UserRecord {
        email_verified_at: Some(user.email_verified_at.unwrap_or(now)),
        ..user
    })
}

/// A new session for valid credentials. Returns the session token (shown once) and the user.
pub async fn login(
    ctx: &Ctx,
    email: &str,
    password: &str,
    ip: Option<&str>,
) -> ServiceResult<(String, UserRecord)> {
    let limits = &ctx.config.rate_limits;
    if let Some(ip) = ip {
        rate_limit(ctx, &format!("login:ip:{ip}"), limits.login_per_ip).await?;
    }
    let email = Email::parse("email", email).map_err(|_| ServiceError::BadCredentials)?;
    rate_limit(
        ctx,
        &format!("login:account:{email}"),
        limits.login_per_account,
    )
    .await?;
    let user = db::user_by_email(ctx.store.pool(), email.as_str()).await?;
    let ok = verify_password(password, user.as_ref().map(|u| u.password_hash.as_str())).await?;
    let user = match user {
        Some(u) if ok => u,
        _ => return Err(ServiceError::BadCredentials),
    };
    if user.disabled_at.is_some() {
        return Err(ServiceError::Disabled);
    }
    let (token, hash) = new_token();
    let now = now_ms();
    let expires = now + i64::from(ctx.config.accounts.session_days) * 24 * HOUR_MS;
    db::insert_session(ctx.store.pool(), &hash, &user.id, now, expires, ip).await?;
    Ok((token, user))
}

/// The actor behind a session token, if the session is live and the account enabled.
pub async fn authenticate(
    ctx: &Ctx,
    token: &str,
    ip: Option<String>,
) -> ServiceResult<Option<Actor>> {
    if token.is_empty() || token.len() > 100 {
        return Ok(None);
    }
    let hash = hash_token(token);
    let user = db::session_user(ctx.store.pool(), &hash, now_ms()).await?;
    Ok(user.map(|user| Actor {
        user,
        session: hash,
        ip,
        received_at: now_ms(),
    }))
}

pub async fn logout(ctx: &Ctx, actor: &Actor) -> ServiceResult<()> {
    db::delete_session(ctx.store.pool(), &actor.session).await?;
    Ok(())
}

/// Emails a reset link when the address belongs to an enabled account; replies the same either way.
pub async fn request_password_reset(ctx: &Ctx, email: &str, ip: Option<&str>) -> ServiceResult<()> {
    let limits = &ctx.config.rate_limits;
    if let Some(ip) = ip {
        rate_limit(ctx, &format!("reset:ip:{ip}"), limits.reset_per_ip).await?;
    }
    let email = Email::parse("email", email)?;
    rate_limit(
        ctx,
        &format!("reset:account:{email}"),
        limits.reset_per_account,
    )
    .await?;
    let mut tx = ctx.store.begin_write().await?;
    let Some(user) = db::user_by_email(&mut *tx, email.as_str())
        .await?
        .filter(|u| u.disabled_at.is_none())
    else {
        return Ok(());
    };
    let now = now_ms();
    db::retire_tokens(&mut *tx, &user.id, PURPOSE_RESET, now).await?;
    let (token, token_hash) = new_token();
    db::insert_token(
        &mut *tx,
        &NewToken {
            token_hash: &token_hash,
            purpose: PURPOSE_RESET,
            user_id: Some(&user.id),
            email: Some(&user.email),
            data: None,
            now,
            expires_at: now + i64::from(ctx.config.accounts.reset_link_minutes) * 60_000,
        },
    )
    .await?;
    let kind = MailKind::PasswordReset {
        name: user.full_name.clone(),
        url: ctx.link(&format!("/reset-password?token={token}")),
    };
    ctx.queue_mail(&mut tx, &user.email, Some(&user.id), user.lang, &kind)
        .await?;
    tx.commit().await?;
    ctx.mail_committed();
    Ok(())
}

/// Sets a new password from a reset link; every session of the account ends.
pub async fn reset_password(
    ctx: &Ctx,
    token: &str,
    new_password: &str,
    ip: Option<&str>,
) -> ServiceResult<()> {
    account::check_password("password", new_password, &[])?;
    let hash = hash_password(new_password).await?;
    let mut tx = ctx.store.begin_write().await?;
    let t = take_token(&mut tx, token, PURPOSE_RESET).await?;
    let user_id = t.user_id.ok_or(ServiceError::TokenInvalid)?;
    let user = db::user_by_id(&mut *tx, &user_id)
        .await?
        .ok_or(ServiceError::TokenInvalid)?;
    if user.disabled_at.is_some() {
        return Err(ServiceError::Disabled);
    }
    account::check_password("password", new_password, &[&user.email, &user.full_name])?;
    db::update_user(
        &mut *tx,
        &user_id,
        UserChange::PasswordHash(&hash),
        now_ms(),
    )
    .await?;
    db::delete_user_sessions(&mut *tx, &user_id, None).await?;
    audit(
        &mut tx,
        Some(&user_id),
        ip,
        "account.reset_password",
        "user",
        &user_id,
        None,
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Changes the password after checking the current one; other sessions end.
pub async fn change_password(
    ctx: &Ctx,
    actor: &Actor,
    current: &str,
    new_password: &str,
) -> ServiceResult<()> {
    actor.require(crate::domain::authz::Action::OwnAccount)?;
    if !verify_password(current, Some(&actor.user.password_hash)).await? {
        return Err(ServiceError::Conflict {
            code: "wrong_password",
            field: Some("current_password"),
        });
    }
    account::check_password(
        "new_password",
        new_password,
        &[&actor.user.email, &actor.user.full_name],
    )?;
    let hash = hash_password(new_password).await?;
    let mut tx = ctx.store.begin_write().await?;
    db::update_user(
        &mut *tx,
        &actor.user.id,
        UserChange::PasswordHash(&hash),
        now_ms(),
    )
    .await?;
    db::delete_user_sessions(&mut *tx, &actor.user.id, Some(&actor.session)).await?;
    audit(
        &mut tx,
        Some(&actor.user.id),
        actor.ip.as_deref(),
        "account.change_password",
        "user",
        &actor.user.id,
        None,
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sends a confirmation link to a new address; the change happens when it is confirmed. The
/// reply does not say whether the new address is registered.
pub async fn request_email_change(
    ctx: &Ctx,
    actor: &Actor,
    new_email: &str,
    password: &str,
) -> ServiceResult<()> {
    actor.require(crate::domain::authz::Action::OwnAccount)?;
    let new_email = Email::parse("new_email", new_email)?;
    if !verify_password(password, Some(&actor.user.password_hash)).await? {
        return Err(ServiceError::Conflict {
            code: "wrong_password",
            field: Some("password"),
        });
    }
    let now = now_ms();
    let mut tx = ctx.store.begin_write().await?;
    db::retire_tokens(&mut *tx, &actor.user.id, PURPOSE_EMAIL_CHANGE, now).await?;
    let (token, token_hash) = new_token();
    db::insert_token(
        &mut *tx,
        &NewToken {
            token_hash: &token_hash,
            purpose: PURPOSE_EMAIL_CHANGE,
            user_id: Some(&actor.user.id),
            email: Some(new_email.as_str()),
            data: None,
            now,
            expires_at: now + i64::from(ctx.config.accounts.verify_link_hours) * HOUR_MS,
        },
    )
    .await?;
    let lang = actor.user.lang;
    let kind = MailKind::EmailChange {
        name: actor.user.full_name.clone(),
        url: ctx.link(&format!("/confirm-email?token={token}")),
    };
    ctx.queue_mail(
        &mut tx,
        new_email.as_str(),
        Some(&actor.user.id),
        lang,
        &kind,
    )
    .await?;
    tx.commit().await?;
    ctx.mail_committed();
    Ok(())
}

/// Confirms a new address from its link.
pub async fn confirm_email_change(
    ctx: &Ctx,
    token: &str,
    ip: Option<&str>,
) -> ServiceResult<UserRecord> {
    let mut tx = ctx.store.begin_write().await?;
    let t = take_token(&mut tx, token, PURPOSE_EMAIL_CHANGE).await?;
    let (Some(user_id), Some(new_email)) = (t.user_id, t.email) else {
        return Err(ServiceError::TokenInvalid);
    };
    if db::user_by_email(&mut *tx, &new_email).await?.is_some() {
        return Err(ServiceError::Conflict {
            code: "email_taken",
            field: Some("new_email"),
        });
    }
    let user = db::user_by_id(&mut *tx, &user_id)
        .await?
        .ok_or(ServiceError::TokenInvalid)?;
    let now = now_ms();
    db::update_user(&mut *tx, &user_id, UserChange::Email(&new_email), now).await?;
    audit(
        &mut tx,
        Some(&user_id),
        ip,
        "account.change_email",
        "user",
        &user_id,
        Some(user_state(&user)),
        Some(json!({"email": new_email})),
    )
    .await?;
    tx.commit().await?;
    Ok(UserRecord {
        email: new_email,
        email_verified_at: Some(now),
        ..user
    })
}

/// What a person may change on their profile.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    pub full_name: String,
    pub organization: String,
    pub phone: String,
    pub lang: Lang,
}

pub async fn update_profile(
    ctx: &Ctx,
    actor: &Actor,
    p: ProfileUpdate,
) -> ServiceResult<UserRecord> {
    actor.require(crate::domain::authz::Action::OwnAccount)?;
    let mut errors = Vec::new();
    let full_name = account::required_text("full_name", &p.full_name, account::MAX_NAME_CHARS)
        .map_err(|e| errors.push(e))
        .ok();
    let organization = account::required_text(
        "organization",
        &p.organization,
        account::MAX_ORGANIZATION_CHARS,
    )
    .map_err(|e| errors.push(e))
    .ok();
    let phone = account::phone("phone", &p.phone)
        .map_err(|e| errors.push(e))
        .ok();
    let (Some(full_name), Some(organization), Some(phone)) = (full_name, organization, phone)
    else {
        return Err(ServiceError::Invalid(errors));
    };
    let mut tx = ctx.store.begin_write().await?;
    let change = UserChange::Profile {
        full_name: &full_name,
        organization: &organization,
        phone: phone.as_deref(),
        lang: p.lang,
    };
    db::update_user(&mut *tx, &actor.user.id, change, now_ms()).await?;
    let after = json!({"full_name": full_name, "organization": organization, "phone": phone, "lang": p.lang.code()});
    audit(
        &mut tx,
        Some(&actor.user.id),
        actor.ip.as_deref(),
        "account.update_profile",
        "user",
        &actor.user.id,
        Some(user_state(&actor.user)),
        Some(after),
    )
    .await?;
    tx.commit().await?;
    Ok(UserRecord {
        full_name,
        organization,
        phone,
        lang: p.lang,
        ..actor.user.clone()
    })
}

/// Creates the first organizer, or makes an existing account an organizer (the CLI's
/// `admin create`). The address counts as verified.
pub async fn bootstrap_organizer(
    ctx: &Ctx,
    email: &str,
    full_name: &str,
    password: &str,
) -> ServiceResult<(String, bool)> {
    let email = Email::parse("email", email)?;
    let full_name = account::required_text("full_name", full_name, account::MAX_NAME_CHARS)?;
    let mut tx = ctx.store.begin_write().await?;
    let now = now_ms();
    if let Some(user) = db::user_by_email(&mut *tx, email.as_str()).await? {
        db::update_user(&mut *tx, &user.id, UserChange::Role(Role::Organizer), now).await?;
        if user.email_verified_at.is_none() {
            db::update_user(&mut *tx, &user.id, UserChange::Verified, now).await?;
        }
        audit(
            &mut tx,
            None,
            None,
            "account.make_organizer",
            "user",
            &user.id,
            Some(user_state(&user)),
            Some(json!({"role": "organizer"})),
        )
        .await?;
        tx.commit().await?;
        return Ok((user.id, false));
    }
    account::check_password("password", password, &[email.as_str(), &full_name])?;
    let hash = hash_password(password).await?;
    let id = new_id();
    db::insert_user(
        &mut *tx,
        &NewUser {
            id: &id,
            email: email.as_str(),
            full_name: &full_name,
            organization: "Ban tổ chức",
            phone: None,
            lang: Lang::Vi,
            role: Role::Organizer,
            password_hash: &hash,
            verified_at: Some(now),
            now,
        },
    )
    .await?;
    audit(
        &mut tx,
        None,
        None,
        "account.create_organizer",
        "user",
        &id,
        None,
        Some(json!({"email": email.as_str(), "role": "organizer"})),
    )
    .await?;
    tx.commit().await?;
    Ok((id, true))
}
