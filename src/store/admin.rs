//! Organizer tools: queries the organizer pages and API need beyond the other aggregates —
//! judge invitations (rows of `tokens` with purpose `judge_invite`), the outbox inside a write
//! transaction, and names for the audit log.
//!
//! Like `store::accounts`, functions take any executor: the pool for a read, `&mut *tx` to take
//! part in a transaction.

use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use super::outbox::OutboxStatus;
use super::{StoreError, StoreResult};

/// The token purpose of judge invitations.
pub const PURPOSE_JUDGE_INVITE: &str = "judge_invite";

/// Where a judge invitation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InvitationStatus {
    /// Not used, not expired: the link works.
    Pending,
    /// Someone accepted it; `accepted_by` names the account.
    Accepted,
    /// Not used before its expiry.
    Expired,
    /// A newer invitation to the same address replaced it.
    Replaced,
}

impl InvitationStatus {
    pub const ALL: [InvitationStatus; 4] = [
        InvitationStatus::Pending,
        InvitationStatus::Accepted,
        InvitationStatus::Expired,
        InvitationStatus::Replaced,
    ];

    pub fn code(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Expired => "expired",
            InvitationStatus::Replaced => "replaced",
        }
    }

    pub fn parse(s: &str) -> Option<InvitationStatus> {
        InvitationStatus::ALL.into_iter().find(|st| st.code() == s)
    }

    /// The SQL condition on `tokens t` for this status; `$1` is the current time.
    fn condition(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "t.used_at IS NULL AND t.expires_at > $1",
            InvitationStatus::Accepted => "t.used_at IS NOT NULL AND t.user_id IS NOT NULL",
            InvitationStatus::Expired => "t.used_at IS NULL AND t.expires_at <= $1",
            InvitationStatus::Replaced => "t.used_at IS NOT NULL AND t.user_id IS NULL",
        }
    }

    fn of(used_at: Option<i64>, accepted: bool, expires_at: i64, now: i64) -> InvitationStatus {
        match (used_at, accepted) {
            (Some(_), true) => InvitationStatus::Accepted,
            (Some(_), false) => InvitationStatus::Replaced,
            (None, _) if expires_at <= now => InvitationStatus::Expired,
            (None, _) => InvitationStatus::Pending,
        }
    }
}

/// What an invitation token's `data` column holds (JSON).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct InvitationData {
    /// The invitation's public id (the token hash is never shown).
    pub id: String,
    pub inviter_id: String,
    pub inviter_name: String,
}

/// A judge invitation as the organizers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgeInvitationRow {
    pub id: String,
    pub email: String,
    pub inviter_id: String,
    pub inviter_name: String,
    pub status: InvitationStatus,
    pub created_at: i64,
    pub expires_at: i64,
    /// When it was accepted or replaced.
    pub used_at: Option<i64>,
    /// The account that accepted it, with its name.
    pub accepted_by: Option<String>,
    pub accepted_by_name: Option<String>,
}

fn invitation_from_row(row: &AnyRow, now: i64) -> StoreResult<JudgeInvitationRow> {
    let data: Option<String> = row.try_get(1)?;
    let data: InvitationData = match data {
        Some(d) => serde_json::from_str(&d)
            .map_err(|e| StoreError::Corrupt(format!("judge invitation data: {e}")))?,
        None => InvitationData::default(),
    };
    let expires_at: i64 = row.try_get(3)?;
    let used_at: Option<i64> = row.try_get(4)?;
    let accepted_by: Option<String> = row.try_get(5)?;
    Ok(JudgeInvitationRow {
        id: data.id,
        email: row.try_get(0)?,
        inviter_id: data.inviter_id,
        inviter_name: data.inviter_name,
        status: InvitationStatus::of(used_at, accepted_by.is_some(), expires_at, now),
        created_at: row.try_get(2)?,
        expires_at,
        used_at,
        accepted_by,
        accepted_by_name: row.try_get(6)?,
    })
}

/// Judge invitations, newest first, optionally of one status, and how many match.
pub async fn list_judge_invitations<'c, E: Executor<'c, Database = Any> + Copy>(
    e: E,
    status: Option<InvitationStatus>,
    now: i64,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<JudgeInvitationRow>, i64)> {
    let condition = status.map_or("1 = 1", InvitationStatus::condition);
    // `$1` (now) appears in every statement so the bind list is the same whatever the filter.
    let filter = format!("t.purpose = '{PURPOSE_JUDGE_INVITE}' AND $1 = $1 AND ({condition})");
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM tokens t WHERE {filter}"
    )))
    .bind(now)
    .fetch_one(e)
    .await?;
    let sql = format!(
        "SELECT t.email, t.data, t.created_at, t.expires_at, t.used_at, t.user_id, u.full_name \
         FROM tokens t LEFT JOIN users u ON u.id = t.user_id WHERE {filter} \
         ORDER BY t.created_at DESC, t.token_hash LIMIT $2 OFFSET $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .bind(limit.clamp(1, 500))
        .bind(offset.max(0))
        .fetch_all(e)
        .await?;
    let items = rows
        .iter()
        .map(|r| invitation_from_row(r, now))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok((items, total))
}

/// Retires the unused judge invitations to `email` (a new one replaces them). Returns how many.
pub async fn replace_judge_invitations<'c, E: Executor<'c, Database = Any>>(
    e: E,
    email: &str,
    now: i64,
) -> StoreResult<u64> {
    let r = sqlx::query(
        "UPDATE tokens SET used_at = $1 WHERE purpose = $2 AND email = $3 AND used_at IS NULL",
    )
    .bind(now)
    .bind(PURPOSE_JUDGE_INVITE)
    .bind(email)
    .execute(e)
    .await?;
    Ok(r.rows_affected())
}

/// Marks an invitation used, first come first served: false when it was used already (a
/// concurrent accept won the race). Record who accepted it with `record_invitation_acceptor`
/// in the same transaction.
pub async fn claim_judge_invitation<'c, E: Executor<'c, Database = Any>>(
    e: E,
    token_hash: &str,
    now: i64,
) -> StoreResult<bool> {
    let r = sqlx::query(
        "UPDATE tokens SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL",
    )
    .bind(now)
    .bind(token_hash)
    .bind(PURPOSE_JUDGE_INVITE)
    .execute(e)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Records the account that accepted a claimed invitation.
pub async fn record_invitation_acceptor<'c, E: Executor<'c, Database = Any>>(
    e: E,
    token_hash: &str,
    user_id: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE tokens SET user_id = $1 WHERE token_hash = $2 AND purpose = $3")
        .bind(user_id)
        .bind(token_hash)
        .bind(PURPOSE_JUDGE_INVITE)
        .execute(e)
        .await?;
    Ok(())
}

/// Whether the person is a member of a team.
pub async fn user_in_team<'c, E: Executor<'c, Database = Any>>(
    e: E,
    user_id: &str,
) -> StoreResult<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM team_members WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(e)
        .await?;
    Ok(n > 0)
}

// --- Outbox inside a transaction --------------------------------------------------------------

/// The parts of an outbox message an organizer's retry looks at and records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxState {
    pub status: OutboxStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub to_email: String,
    pub kind: String,
}

pub async fn outbox_state<'c, E: Executor<'c, Database = Any>>(
    e: E,
    id: &str,
) -> StoreResult<Option<OutboxState>> {
    let row = sqlx::query(
        "SELECT status, attempts, last_error, recipient_email, kind FROM outbox WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(e)
    .await?;
    row.map(|r| {
        let status: String = r.try_get(0)?;
        Ok(OutboxState {
            status: OutboxStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("outbox status {status:?}")))?,
            attempts: r.try_get(1)?,
            last_error: r.try_get(2)?,
            to_email: r.try_get(3)?,
            kind: r.try_get(4)?,
        })
    })
    .transpose()
}

/// Puts a failed message back in the queue, due now, with a fresh set of attempts (as
/// `Store::retry_failed`, but inside the caller's transaction). False when it is not failed.
pub async fn requeue_failed_mail<'c, E: Executor<'c, Database = Any>>(
    e: E,
    id: &str,
    now: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = $1, \
         lease_owner = NULL, lease_until = NULL, updated_at = $1 \
         WHERE id = $2 AND status = 'failed'",
    )
    .bind(now)
    .bind(id)
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

// --- Names for the audit log ------------------------------------------------------------------

/// `(id, email, full_name)` of the given accounts (unknown ids are left out).
pub async fn user_names<'c, E: Executor<'c, Database = Any>>(
    e: E,
    ids: &[String],
) -> StoreResult<Vec<(String, String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = (1..=ids.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("SELECT id, email, full_name FROM users WHERE id IN ({placeholders})");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in ids {
        q = q.bind(id.as_str());
    }
    let rows = q.fetch_all(e).await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitation_status_codes_round_trip() {
        for st in InvitationStatus::ALL {
            assert_eq!(InvitationStatus::parse(st.code()), Some(st));
        }
        assert_eq!(InvitationStatus::parse("PENDING"), None);
    }

    #[test]
    fn invitation_status_from_columns() {
        assert_eq!(
            InvitationStatus::of(None, false, 10, 5),
            InvitationStatus::Pending
        );
        assert_eq!(
            InvitationStatus::of(None, false, 10, 10),
            InvitationStatus::Expired
        );
        assert_eq!(
            InvitationStatus::of(Some(3), true, 10, 20),
            InvitationStatus::Accepted
        );
        assert_eq!(
            InvitationStatus::of(Some(3), false, 10, 5),
            InvitationStatus::Replaced
        );
    }
}
