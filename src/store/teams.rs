//! The teams aggregate: teams, their members, and their invitations (rows of `tokens` with
//! purpose `team_invite`, the team id in `data` and the invited address in `email`).
//!
//! Functions take any executor, so callers pass the pool for a read or `&mut *tx` to take part
//! in their transaction. Changes to a team's membership first take [`lock_team`] inside a write
//! transaction, so counting the members and adding one cannot interleave with another change.

use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use super::{Backend, StoreResult};

/// The purpose of invitation tokens.
pub const INVITE_PURPOSE: &str = "team_invite";

/// A team as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TeamRecord {
    pub id: String,
    pub name: String,
    pub name_key: String,
    /// A `TeamKind` code.
    pub kind: String,
    /// A province's Vietnamese name.
    pub province: String,
    pub organization: String,
    pub leader_id: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const TEAM_COLUMNS: &str = "t.id, t.name, t.name_key, t.kind, t.province, t.organization, t.leader_id, t.created_at, t.updated_at";

fn team_from_row(row: &AnyRow) -> StoreResult<TeamRecord> {
    Ok(TeamRecord {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        name_key: row.try_get(2)?,
        kind: row.try_get(3)?,
        province: row.try_get(4)?,
        organization: row.try_get(5)?,
        leader_id: row.try_get(6)?,
        created_at: row.try_get(7)?,
        updated_at: row.try_get(8)?,
    })
}

pub async fn insert_team<'c, E: Executor<'c, Database = Any>>(
    e: E,
    t: &TeamRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO teams (id, name, name_key, kind, province, organization, leader_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&t.id)
    .bind(&t.name)
    .bind(&t.name_key)
    .bind(&t.kind)
    .bind(&t.province)
    .bind(&t.organization)
    .bind(&t.leader_id)
    .bind(t.created_at)
    .bind(t.updated_at)
    .execute(e)
    .await?;
    Ok(())
}

pub async fn team_by_id<'c, E: Executor<'c, Database = Any>>(
    e: E,
    id: &str,
) -> StoreResult<Option<TeamRecord>> {
    let sql = format!("SELECT {TEAM_COLUMNS} FROM teams t WHERE t.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(e)
        .await?;
    row.as_ref().map(team_from_row).transpose()
}

/// Reads the team and locks its row until the transaction ends (`FOR UPDATE` on PostgreSQL; on
/// SQLite the write transaction already holds the database's write lock).
pub async fn lock_team<'c, E: Executor<'c, Database = Any>>(
    e: E,
    backend: Backend,
    id: &str,
) -> StoreResult<Option<TeamRecord>> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let sql = format!("SELECT {TEAM_COLUMNS} FROM teams t WHERE t.id = $1{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(e)
        .await?;
    row.as_ref().map(team_from_row).transpose()
}

/// Is this name key used by a team already?
pub async fn name_key_taken<'c, E: Executor<'c, Database = Any>>(
    e: E,
    name_key: &str,
) -> StoreResult<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM teams WHERE name_key = $1")
        .bind(name_key)
        .fetch_one(e)
        .await?;
    Ok(n > 0)
}

/// The team a person belongs to, if any.
pub async fn team_id_of_user<'c, E: Executor<'c, Database = Any>>(
    e: E,
    user_id: &str,
) -> StoreResult<Option<String>> {
    let id: Option<String> =
        sqlx::query_scalar("SELECT team_id FROM team_members WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(e)
            .await?;
    Ok(id)
}

pub async fn set_leader<'c, E: Executor<'c, Database = Any>>(
    e: E,
    team_id: &str,
    leader_id: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query("UPDATE teams SET leader_id = $1, updated_at = $2 WHERE id = $3")
        .bind(leader_id)
        .bind(now)
        .bind(team_id)
        .execute(e)
        .await?;
    Ok(())
}

/// Deletes a team that has no members left.
pub async fn delete_team<'c, E: Executor<'c, Database = Any>>(
    e: E,
    team_id: &str,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM teams WHERE id = $1")
        .bind(team_id)
        .execute(e)
        .await?;
    Ok(())
}

// --- Members ----------------------------------------------------------------------------------

/// A member with what the team page shows about them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MemberRecord {
    pub user_id: String,
    pub full_name: String,
    pub email: String,
    pub joined_at: i64,
}

pub async fn insert_member<'c, E: Executor<'c, Database = Any>>(
    e: E,
    team_id: &str,
    user_id: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO team_members (team_id, user_id, joined_at) VALUES ($1, $2, $3)")
        .bind(team_id)
        .bind(user_id)
        .bind(now)
        .execute(e)
        .await?;
    Ok(())
}

/// Removes a member; false when they were not in the team.
pub async fn delete_member<'c, E: Executor<'c, Database = Any>>(
    e: E,
    team_id: &str,
    user_id: &str,
) -> StoreResult<bool> {
    let r = sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2")
        .bind(team_id)
        .bind(user_id)
        .execute(e)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// The members in the order they joined.
pub async fn members<'c, E: Executor<'c, Database = Any>>(
    e: E,
    team_id: &str,
) -> StoreResult<Vec<MemberRecord>> {
    let rows = sqlx::query(
        "SELECT m.user_id, u.full_name, u.email, m.joined_at FROM team_members m \
         JOIN users u ON u.id = m.user_id WHERE m.team_id = $1 ORDER BY m.joined_at, m.user_id",
    )
    .bind(team_id)
    .fetch_all(e)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(MemberRecord {
                user_id: r.try_get(0)?,
                full_name: r.try_get(1)?,
                email: r.try_get(2)?,
                joined_at: r.try_get(3)?,
            })
        })
        .collect()
}

pub async fn count_members<'c, E: Executor<'c, Database = Any>>(
    e: E,
    team_id: &str,
) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM team_members WHERE team_id = $1")
        .bind(team_id)
        .fetch_one(e)
        .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

// --- Invitations ------------------------------------------------------------------------------

/// A pending invitation. Its id is the stored hash of its token (the token itself is only in
/// the email).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InvitationRecord {
    pub id: String,
    pub email: String,
    pub invited_by: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Unused, unexpired invitations of a team, oldest first.
pub async fn pending_invitations<'c, E: Executor<'c, Database = Any>>(
    e: E,
    team_id: &str,
    now: i64,
) -> StoreResult<Vec<InvitationRecord>> {
    let rows = sqlx::query(
        "SELECT token_hash, email, user_id, created_at, expires_at FROM tokens \
         WHERE purpose = $1 AND data = $2 AND used_at IS NULL AND expires_at > $3 \
         ORDER BY created_at, token_hash",
    )
    .bind(INVITE_PURPOSE)
    .bind(team_id)
    .bind(now)
    .fetch_all(e)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(InvitationRecord {
                id: r.try_get(0)?,
                email: r.try_get::<Option<String>, _>(1)?.unwrap_or_default(),
                invited_by: r.try_get(2)?,
                created_at: r.try_get(3)?,
                expires_at: r.try_get(4)?,
            })
        })
        .collect()
}

/// Retires a team's pending invitations: all of them, or those to one address. Returns how many.
pub async fn retire_invitations<'c, E: Executor<'c, Database = Any>>(
    e: E,
    team_id: &str,
    email: Option<&str>,
    now: i64,
) -> StoreResult<u64> {
    let r = sqlx::query(
        "UPDATE tokens SET used_at = $1 WHERE purpose = $2 AND data = $3 AND used_at IS NULL \
         AND ($4 IS NULL OR email = $4)",
    )
    .bind(now)
    .bind(INVITE_PURPOSE)
    .bind(team_id)
    .bind(email)
    .execute(e)
    .await?;
    Ok(r.rows_affected())
}

/// Retires one pending invitation of a team; false when there is no such pending invitation.
pub async fn retire_invitation<'c, E: Executor<'c, Database = Any>>(
    e: E,
    team_id: &str,
    invitation_id: &str,
    now: i64,
) -> StoreResult<bool> {
    let r = sqlx::query(
        "UPDATE tokens SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 AND data = $4 \
         AND used_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(invitation_id)
    .bind(INVITE_PURPOSE)
    .bind(team_id)
    .execute(e)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Is this error a violated UNIQUE constraint, and on which column (`None`: some other error)?
pub fn unique_violation(e: &super::StoreError) -> Option<UniqueColumn> {
    let super::StoreError::Db(sqlx::Error::Database(db)) = e else {
        return None;
    };
    if !db.is_unique_violation() {
        return None;
    }
    let text = format!("{} {}", db.message(), db.constraint().unwrap_or_default());
    Some(if text.contains("name_key") {
        UniqueColumn::TeamName
    } else if text.contains("team_members") {
        UniqueColumn::Member
    } else {
        UniqueColumn::Other
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueColumn {
    TeamName,
    Member,
    Other,
}
