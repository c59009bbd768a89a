//! Accounts: users, sessions, one-time tokens, the audit log and rate-limit counters.
//!
//! Functions take any executor, so callers pass the pool for a read or `&mut *tx` to take part
//! in their transaction (a change, its audit record and its email commit together).

use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use super::{StoreError, StoreResult};
use crate::domain::account::Role;
use crate::i18n::Lang;

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserRecord {
    pub id: String,
    pub email: String,
    pub full_name: String,
    pub organization: String,
    pub phone: Option<String>,
    pub lang: Lang,
    pub role: Role,
    #[serde(skip)]
    pub password_hash: String,
    pub email_verified_at: Option<i64>,
    pub disabled_at: Option<i64>,
    pub created_at: i64,
}

const USER_COLUMNS: &str = "u.id, u.email, u.full_name, u.organization, u.phone, u.lang, u.role, \
     u.password_hash, u.email_verified_at, u.disabled_at, u.created_at";

fn user_from_row(row: &AnyRow) -> StoreResult<UserRecord> {
    let lang: String = row.try_get(5)?;
    let role: String = row.try_get(6)?;
    Ok(UserRecord {
        id: row.try_get(0)?,
        email: row.try_get(1)?,
        full_name: row.try_get(2)?,
        organization: row.try_get(3)?,
        phone: row.try_get(4)?,
        lang: Lang::parse(&lang).unwrap_or_default(),
        role: Role::from_code(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        password_hash: row.try_get(7)?,
        email_verified_at: row.try_get(8)?,
        disabled_at: row.try_get(9)?,
        created_at: row.try_get(10)?,
    })
}

pub struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub full_name: &'a str,
    pub organization: &'a str,
    pub phone: Option<&'a str>,
    pub lang: Lang,
    pub role: Role,
    pub password_hash: &'a str,
    pub verified_at: Option<i64>,
    pub now: i64,
}

pub async fn insert_user<'c, E: Executor<'c, Database = Any>>(
    e: E,
    u: &NewUser<'_>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO users (id, email, full_name, organization, phone, lang, role, password_hash, \
         email_verified_at, disabled_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $10)",
    )
    .bind(u.id)
    .bind(u.email)
    .bind(u.full_name)
    .bind(u.organization)
    .bind(u.phone)
    .bind(u.lang.code())
    .bind(u.role.code())
    .bind(u.password_hash)
    .bind(u.verified_at)
    .bind(u.now)
    .execute(e)
    .await
    .map_err(|err| match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::EmailTaken,
        _ => StoreError::Db(err),
    })?;
    Ok(())
}

pub async fn user_by_email<'c, E: Executor<'c, Database = Any>>(
    e: E,
    email: &str,
) -> StoreResult<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.email = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(email)
        .fetch_optional(e)
        .await?;
    row.as_ref().map(user_from_row).transpose()
}

pub async fn user_by_id<'c, E: Executor<'c, Database = Any>>(
    e: E,
    id: &str,
) -> StoreResult<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(e)
        .await?;
    row.as_ref().map(user_from_row).transpose()
}

/// Sets one of the user's mutable columns. `column` is one of a fixed list, never user input.
pub async fn update_user<'c, E: Executor<'c, Database = Any>>(
    e: E,
    id: &str,
    change: UserChange<'_>,
    now: i64,
) -> StoreResult<()> {
    let q = match change {
        UserChange::Verified => sqlx::query("UPDATE users SET email_verified_at = $1, updated_at = $1 WHERE id = $2").bind(now),
        UserChange::PasswordHash(h) => sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3").bind(h).bind(now),
        UserChange::Email(email) => sqlx::query(
            "UPDATE users SET email = $1, email_verified_at = $2, updated_at = $2 WHERE id = $3",
        )
        .bind(email)
        .bind(now),
        UserChange::Disabled(true) => sqlx::query("UPDATE users SET disabled_at = $1, updated_at = $1 WHERE id = $2").bind(now),
        UserChange::Disabled(false) => sqlx::query("UPDATE users SET disabled_at = NULL, updated_at = $1 WHERE id = $2").bind(now),
        UserChange::Role(role) => sqlx::query("UPDATE users SET role = $1, updated_at = $2 WHERE id = $3").bind(role.code()).bind(now),
        UserChange::Profile { full_name, organization, phone, lang } => sqlx::query(
            "UPDATE users SET full_name = $1, organization = $2, phone = $3, lang = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(full_name)
        .bind(organization)
        .bind(phone)
        .bind(lang.code())
        .bind(now),
    };
    q.bind(id).execute(e).await?;
    Ok(())
}

pub enum UserChange<'a> {
    Verified,
    PasswordHash(&'a str),
    /// A new, verified address.
    Email(&'a str),
    Disabled(bool),
    Role(Role),
    Profile {
        full_name: &'a str,
        organization: &'a str,
        phone: Option<&'a str>,
        lang: Lang,
    },
}

/// Users for the organizers' list, newest first, with a filter on role and on text in the
/// email, name or organization.
pub async fn list_users<'c, E: Executor<'c, Database = Any> + Copy>(
    e: E,
    role: Option<Role>,
    q: Option<&str>,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<UserRecord>, i64)> {
    let pattern = q.map(|q| {
        format!(
            "%{}%",
            q.to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    let filter = "($1 IS NULL OR u.role = $1) AND ($2 IS NULL OR LOWER(u.email) LIKE $2 ESCAPE '\\' \
                  OR LOWER(u.full_name) LIKE $2 ESCAPE '\\' OR LOWER(u.organization) LIKE $2 ESCAPE '\\')";
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM users u WHERE {filter}"
    )))
    .bind(role.map(Role::code))
    .bind(pattern.as_deref())
    .fetch_one(e)
    .await?;
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE {filter} ORDER BY u.created_at DESC, u.id LIMIT $3 OFFSET $4"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(role.map(Role::code))
        .bind(pattern.as_deref())
        .bind(limit)
        .bind(offset)
        .fetch_all(e)
        .await?;
    let users = rows
        .iter()
        .map(user_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok((users, total))
}

// --- Sessions ---------------------------------------------------------------------------------

pub async fn insert_session<'c, E: Executor<'c, Database = Any>>(
    e: E,
    token_hash: &str,
    user_id: &str,
    now: i64,
    expires_at: i64,
    ip: Option<&str>,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at, ip) VALUES ($1, $2, $3, $4, $5)")
        .bind(token_hash)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .bind(ip)
        .execute(e)
        .await?;
    Ok(())
}

/// The user of a live session on an enabled account.
pub async fn session_user<'c, E: Executor<'c, Database = Any>>(
    e: E,
    token_hash: &str,
    now: i64,
) -> StoreResult<Option<UserRecord>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(e)
        .await?;
    row.as_ref().map(user_from_row).transpose()
}

pub async fn delete_session<'c, E: Executor<'c, Database = Any>>(
    e: E,
    token_hash: &str,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(e)
        .await?;
    Ok(())
}

/// Ends every session of a user, except `keep` (the one making the change) when given.
pub async fn delete_user_sessions<'c, E: Executor<'c, Database = Any>>(
    e: E,
    user_id: &str,
    keep: Option<&str>,
) -> StoreResult<u64> {
    let r =
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR token_hash <> $2)")
            .bind(user_id)
            .bind(keep)
            .execute(e)
            .await?;
    Ok(r.rows_affected())
}

// --- One-time tokens --------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub purpose: String,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub data: Option<String>,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub struct NewToken<'a> {
    pub token_hash: &'a str,
    pub purpose: &'a str,
    pub user_id: Option<&'a str>,
    pub email: Option<&'a str>,
    pub data: Option<&'a str>,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert_token<'c, E: Executor<'c, Database = Any>>(
    e: E,
    t: &NewToken<'_>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO tokens (token_hash, purpose, user_id, email, data, created_at, expires_at, used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
    )
    .bind(t.token_hash)
    .bind(t.purpose)
    .bind(t.user_id)
    .bind(t.email)
    .bind(t.data)
    .bind(t.now)
    .bind(t.expires_at)
    .execute(e)
    .await?;
    Ok(())
}

/// A token by hash and purpose, used or not, expired or not (the caller decides and explains).
pub async fn find_token<'c, E: Executor<'c, Database = Any>>(
    e: E,
    token_hash: &str,
    purpose: &str,
) -> StoreResult<Option<TokenRecord>> {
    let row = sqlx::query("SELECT purpose, user_id, email, data, expires_at, used_at FROM tokens WHERE token_hash = $1 AND purpose = $2")
        .bind(token_hash)
        .bind(purpose)
        .fetch_optional(e)
        .await?;
    row.map(|r| {
        Ok(TokenRecord {
            purpose: r.try_get(0)?,
            user_id: r.try_get(1)?,
            email: r.try_get(2)?,
            data: r.try_get(3)?,
            expires_at: r.try_get(4)?,
            used_at: r.try_get(5)?,
        })
    })
    .transpose()
}

/// Marks a token used; false when it was already used (a concurrent use lost the race).
pub async fn use_token<'c, E: Executor<'c, Database = Any>>(
    e: E,
    token_hash: &str,
    now: i64,
) -> StoreResult<bool> {
    let r = sqlx::query("UPDATE tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL")
        .bind(now)
        .bind(token_hash)
        .execute(e)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Retires a user's unused tokens of one purpose (a new reset link replaces the old one).
pub async fn retire_tokens<'c, E: Executor<'c, Database = Any>>(
    e: E,
    user_id: &str,
    purpose: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE tokens SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .bind(purpose)
    .execute(e)
    .await?;
    Ok(())
}

// --- Audit log --------------------------------------------------------------------------------

/// One change: who, when, from where, what, and the state before (and after).
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditEntry {
    pub id: String,
    pub at: i64,
    pub actor_id: Option<String>,
    pub ip: Option<String>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

pub async fn record_audit<'c, E: Executor<'c, Database = Any>>(
    e: E,
    a: &AuditEntry,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor_id, ip, action, subject_type, subject_id, before_state, after_state) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&a.id)
    .bind(a.at)
    .bind(a.actor_id.as_deref())
    .bind(a.ip.as_deref())
    .bind(&a.action)
    .bind(&a.subject_type)
    .bind(&a.subject_id)
    .bind(a.before.as_deref())
    .bind(a.after.as_deref())
    .execute(e)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub subject_id: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// Newest first.
pub async fn list_audit<'c, E: Executor<'c, Database = Any> + Copy>(
    e: E,
    f: &AuditFilter,
) -> StoreResult<(Vec<AuditEntry>, i64)> {
    let filter = "($1 IS NULL OR actor_id = $1) AND ($2 IS NULL OR action = $2) AND ($3 IS NULL OR subject_id = $3)";
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM audit_log WHERE {filter}"
    )))
    .bind(f.actor_id.as_deref())
    .bind(f.action.as_deref())
    .bind(f.subject_id.as_deref())
    .fetch_one(e)
    .await?;
    let sql = format!(
        "SELECT id, at, actor_id, ip, action, subject_type, subject_id, before_state, after_state FROM audit_log \
         WHERE {filter} ORDER BY at DESC, id DESC LIMIT $4 OFFSET $5"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(f.actor_id.as_deref())
        .bind(f.action.as_deref())
        .bind(f.subject_id.as_deref())
        .bind(f.limit.clamp(1, 500))
        .bind(f.offset.max(0))
        .fetch_all(e)
        .await?;
    let entries = rows
        .iter()
        .map(|r| {
            Ok(AuditEntry {
                id: r.try_get(0)?,
                at: r.try_get(1)?,
                actor_id: r.try_get(2)?,
                ip: r.try_get(3)?,
                action: r.try_get(4)?,
                subject_type: r.try_get(5)?,
                subject_id: r.try_get(6)?,
                before: r.try_get(7)?,
                after: r.try_get(8)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok((entries, total))
}

// --- Rate limits ------------------------------------------------------------------------------

/// Counts one hit in `bucket`'s current fixed window and returns the hits so far in it.
pub async fn hit_rate_limit<'c, E: Executor<'c, Database = Any>>(
    e: E,
    bucket: &str,
    window_start: i64,
) -> StoreResult<i64> {
    let hits: i64 = sqlx::query_scalar(
        "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (bucket) DO UPDATE SET \
         hits = CASE WHEN rate_limits.window_start = excluded.window_start THEN rate_limits.hits + 1 ELSE 1 END, \
         window_start = excluded.window_start \
         RETURNING hits",
    )
    .bind(bucket)
    .bind(window_start)
    .fetch_one(e)
    .await?;
    Ok(hits)
}
