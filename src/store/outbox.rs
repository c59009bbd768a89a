//! The outbox aggregate: mail written in the caller's transaction, claimed by dispatchers under a
//! lease, marked sent or rescheduled, and listed for organizers and for each person.
//!
//! A row's life: `queued` → (claim) `sending` → `sent`, or back to `queued` with a later
//! `next_attempt_at` after a failure, or `failed` after the last attempt. A `sending` row whose
//! lease has expired (its dispatcher died) is claimed again like a due `queued` row. Every change
//! made by a dispatcher is guarded by `lease_owner`, so a dispatcher that lost its lease cannot
//! overwrite the work of the one that took the message over.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, Store, StoreError, StoreResult, Tx, new_id};
use crate::i18n::Lang;
use crate::service::now_ms;

/// Longest `last_error` kept, in characters.
const MAX_ERROR_CHARS: usize = 2000;

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxStatus {
    Queued,
    Sending,
    Sent,
    Failed,
}

impl OutboxStatus {
    pub const ALL: [OutboxStatus; 4] = [
        OutboxStatus::Queued,
        OutboxStatus::Sending,
        OutboxStatus::Sent,
        OutboxStatus::Failed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            OutboxStatus::Queued => "queued",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<OutboxStatus> {
        OutboxStatus::ALL.into_iter().find(|st| st.code() == s)
    }
}

/// A rendered message to enqueue. Build it with `crate::mail::templates::new_mail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    pub to_email: String,
    /// The recipient's account, when there is one: the message joins their notification history.
    pub to_user_id: Option<String>,
    pub lang: Lang,
    /// The template's code, e.g. `verify_email`.
    pub kind: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A message as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: String,
    /// The unique left part of the `Message-ID` header: `<message_id@sender domain>`.
    pub message_id: String,
    pub to_email: String,
    pub to_user_id: Option<String>,
    pub lang: Lang,
    pub kind: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub status: OutboxStatus,
    /// Attempts started so far (a claim counts as one).
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub sent_at: Option<i64>,
}

/// What the organizers' outbox list shows. `limit` is clamped to 1..=500.
#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    pub status: Option<OutboxStatus>,
    /// Part of the recipient's address, any case.
    pub recipient: Option<String>,
    pub kind: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// How many messages are in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub queued: i64,
    pub sending: i64,
    pub sent: i64,
    pub failed: i64,
}

impl OutboxCounts {
    pub fn get(&self, status: OutboxStatus) -> i64 {
        match status {
            OutboxStatus::Queued => self.queued,
            OutboxStatus::Sending => self.sending,
            OutboxStatus::Sent => self.sent,
            OutboxStatus::Failed => self.failed,
        }
    }

    pub fn total(&self) -> i64 {
        self.queued + self.sending + self.sent + self.failed
    }
}

/// The selected columns, in `row_to_outbox` order (a macro so queries stay `&'static str`).
macro_rules! columns {
    () => {
        "id, message_id, recipient_email, recipient_user_id, lang, kind, subject, text_body, \
         html_body, status, attempts, next_attempt_at, lease_owner, lease_until, last_error, \
         created_at, updated_at, sent_at"
    };
}

fn row_to_outbox(row: &AnyRow) -> StoreResult<OutboxRow> {
    let lang: String = row.try_get(4)?;
    let status: String = row.try_get(9)?;
    Ok(OutboxRow {
        id: row.try_get(0)?,
        message_id: row.try_get(1)?,
        to_email: row.try_get(2)?,
        to_user_id: row.try_get(3)?,
        lang: Lang::parse(&lang)
            .ok_or_else(|| StoreError::Corrupt(format!("outbox language {lang:?}")))?,
        kind: row.try_get(5)?,
        subject: row.try_get(6)?,
        text: row.try_get(7)?,
        html: row.try_get(8)?,
        status: OutboxStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("outbox status {status:?}")))?,
        attempts: row.try_get(10)?,
        next_attempt_at: row.try_get(11)?,
        lease_owner: row.try_get(12)?,
        lease_until: row.try_get(13)?,
        last_error: row.try_get(14)?,
        created_at: row.try_get(15)?,
        updated_at: row.try_get(16)?,
        sent_at: row.try_get(17)?,
    })
}

/// Cuts an error message to `MAX_ERROR_CHARS` characters.
fn clip_error(error: &str) -> String {
    match error.char_indices().nth(MAX_ERROR_CHARS) {
        Some((at, _)) => format!("{}…", &error[..at]),
        None => error.to_owned(),
    }
}

/// `%`, `_` and `\` escaped for `LIKE ... ESCAPE '\'`.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Writes `mail` to the outbox inside the caller's transaction, so it is committed (and later
/// sent) exactly when the change that causes it is, and vanishes if that change rolls back.
/// Returns the outbox id. The message is due at once; nudge the dispatcher after the commit.
pub async fn enqueue_mail(tx: &mut Tx, mail: &NewMail) -> StoreResult<String> {
    let id = new_id();
    let message_id = uuid::Uuid::now_v7().simple().to_string();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO outbox (id, message_id, recipient_email, recipient_user_id, lang, kind, \
         subject, text_body, html_body, status, attempts, next_attempt_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', 0, $10, $10, $10)",
    )
    .bind(&id)
    .bind(&message_id)
    .bind(&mail.to_email)
    .bind(mail.to_user_id.as_deref())
    .bind(mail.lang.code())
    .bind(&mail.kind)
    .bind(&mail.subject)
    .bind(&mail.text)
    .bind(&mail.html)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

impl Store {
    /// Claims up to `limit` messages for `owner` until `now + lease_ms`: queued ones that are
    /// due, and sending ones whose lease has expired. Each claim counts as an attempt. Two
    /// dispatchers never claim the same message while its lease runs (PostgreSQL: row locks with
    /// `SKIP LOCKED`; SQLite: the write lock of `BEGIN IMMEDIATE`). Oldest due first.
    pub async fn claim_mail(
        &self,
        owner: &str,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<OutboxRow>> {
        const SQLITE: &str = concat!(
            "UPDATE outbox SET status = 'sending', lease_owner = $1, lease_until = $2, \
             attempts = attempts + 1, updated_at = $3 \
             WHERE id IN (SELECT id FROM outbox \
             WHERE (status = 'queued' AND next_attempt_at <= $3) \
             OR (status = 'sending' AND lease_until < $3) \
             ORDER BY next_attempt_at, id LIMIT $4) RETURNING ",
            columns!()
        );
        const POSTGRES: &str = concat!(
            "UPDATE outbox SET status = 'sending', lease_owner = $1, lease_until = $2, \
             attempts = attempts + 1, updated_at = $3 \
             WHERE id IN (SELECT id FROM outbox \
             WHERE (status = 'queued' AND next_attempt_at <= $3) \
             OR (status = 'sending' AND lease_until < $3) \
             ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING ",
            columns!()
        );
        let sql = match self.backend() {
            Backend::Sqlite => SQLITE,
            Backend::Postgres => POSTGRES,
        };
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(sql)
            .bind(owner)
            .bind(now.saturating_add(lease_ms))
            .bind(now)
            .bind(limit.max(0))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut claimed = rows
            .iter()
            .map(row_to_outbox)
            .collect::<StoreResult<Vec<_>>>()?;
        claimed.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
        Ok(claimed)
    }

    /// Extends every lease `owner` still holds (not expired at `now`) to `until`. Returns the ids
    /// still held; a message missing from them may belong to another dispatcher now.
    pub async fn renew_mail_leases(
        &self,
        owner: &str,
        now: i64,
        until: i64,
    ) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "UPDATE outbox SET lease_until = $1, updated_at = $2 \
             WHERE lease_owner = $3 AND status = 'sending' AND lease_until > $2 RETURNING id",
        )
        .bind(until)
        .bind(now)
        .bind(owner)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
            .collect()
    }

    /// Marks a message sent, if `owner` still holds it. `false` means the lease was lost.
    pub async fn mark_mail_sent(&self, id: &str, owner: &str, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'sent', sent_at = $1, updated_at = $1, lease_until = NULL, \
             last_error = NULL WHERE id = $2 AND lease_owner = $3 AND status = 'sending'",
        )
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// After a failed attempt: back to `queued`, due at `next_attempt_at`, with the error.
    /// `false` means `owner` no longer holds the message.
    pub async fn reschedule_mail(
        &self,
        id: &str,
        owner: &str,
        now: i64,
        next_attempt_at: i64,
        error: &str,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'queued', next_attempt_at = $1, last_error = $2, \
             lease_owner = NULL, lease_until = NULL, updated_at = $3 \
             WHERE id = $4 AND lease_owner = $5 AND status = 'sending'",
        )
        .bind(next_attempt_at)
        .bind(clip_error(error))
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// After the last attempt (or a permanent refusal): `failed`, keeping the error.
    /// `false` means `owner` no longer holds the message.
    pub async fn fail_mail(
        &self,
        id: &str,
        owner: &str,
        now: i64,
        error: &str,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'failed', last_error = $1, lease_until = NULL, \
             updated_at = $2 WHERE id = $3 AND lease_owner = $4 AND status = 'sending'",
        )
        .bind(clip_error(error))
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives a claimed message back untried (a dispatcher stopping): `queued`, due now, and its
    /// claim no longer counts as an attempt.
    pub async fn release_mail(&self, id: &str, owner: &str, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'queued', attempts = attempts - 1, next_attempt_at = $1, \
             lease_owner = NULL, lease_until = NULL, updated_at = $1 \
             WHERE id = $2 AND lease_owner = $3 AND status = 'sending'",
        )
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// One message by outbox id.
    pub async fn outbox_message(&self, id: &str) -> StoreResult<Option<OutboxRow>> {
        let row = sqlx::query(concat!("SELECT ", columns!(), " FROM outbox WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(row_to_outbox).transpose()
    }

    /// The organizers' view: messages matching `filter`, newest first, and how many match.
    pub async fn list_outbox(&self, filter: &OutboxFilter) -> StoreResult<(Vec<OutboxRow>, i64)> {
        let mut conditions: Vec<String> = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        if let Some(status) = filter.status {
            binds.push(status.code().to_owned());
            conditions.push(format!("status = ${}", binds.len()));
        }
        if let Some(recipient) = filter.recipient.as_deref().map(str::trim)
            && !recipient.is_empty()
        {
            binds.push(format!("%{}%", like_escape(&recipient.to_lowercase())));
            conditions.push(format!(
                "LOWER(recipient_email) LIKE ${} ESCAPE '\\'",
                binds.len()
            ));
        }
        if let Some(kind) = filter.kind.as_deref().filter(|k| !k.is_empty()) {
            binds.push(kind.to_owned());
            conditions.push(format!("kind = ${}", binds.len()));
        }
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };

        let count_sql = format!("SELECT COUNT(*) FROM outbox{where_clause}");
        let mut count = sqlx::query(sqlx::AssertSqlSafe(count_sql));
        for b in &binds {
            count = count.bind(b.as_str());
        }
        let total: i64 = count.fetch_one(self.pool()).await?.try_get(0)?;

        let n = binds.len();
        let list_sql = format!(
            "SELECT {} FROM outbox{where_clause} ORDER BY created_at DESC, id DESC \
             LIMIT ${} OFFSET ${}",
            columns!(),
            n + 1,
            n + 2
        );
        let mut list = sqlx::query(sqlx::AssertSqlSafe(list_sql));
        for b in &binds {
            list = list.bind(b.as_str());
        }
        let rows = list
            .bind(filter.limit.clamp(1, 500))
            .bind(filter.offset.max(0))
            .fetch_all(self.pool())
            .await?;
        let items = rows
            .iter()
            .map(row_to_outbox)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((items, total))
    }

    /// Puts a failed message back in the queue, due now, with a fresh set of attempts (its last
    /// error stays until the next attempt). `false` when there is no failed message `id`.
    pub async fn retry_failed(&self, id: &str) -> StoreResult<bool> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = $1, \
             lease_owner = NULL, lease_until = NULL, updated_at = $1 \
             WHERE id = $2 AND status = 'failed'",
        )
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A person's notification history: the messages addressed to their account, newest first.
    /// `limit` is clamped to 1..=500.
    pub async fn notifications_for_user(
        &self,
        user_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<OutboxRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM outbox WHERE recipient_user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(user_id)
        .bind(limit.clamp(1, 500))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(row_to_outbox).collect()
    }

    /// How many messages are in each status.
    pub async fn outbox_counts(&self) -> StoreResult<OutboxCounts> {
        let rows = sqlx::query("SELECT status, COUNT(*) FROM outbox GROUP BY status")
            .fetch_all(self.pool())
            .await?;
        let mut counts = OutboxCounts::default();
        for row in rows {
            let status: String = row.try_get(0)?;
            let n: i64 = row.try_get(1)?;
            match OutboxStatus::parse(&status) {
                Some(OutboxStatus::Queued) => counts.queued = n,
                Some(OutboxStatus::Sending) => counts.sending = n,
                Some(OutboxStatus::Sent) => counts.sent = n,
                Some(OutboxStatus::Failed) => counts.failed = n,
                None => return Err(StoreError::Corrupt(format!("outbox status {status:?}"))),
            }
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_round_trip() {
        for st in OutboxStatus::ALL {
            assert_eq!(OutboxStatus::parse(st.code()), Some(st));
        }
        assert_eq!(OutboxStatus::parse("SENT"), None);
    }

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(like_escape("a_b%c\\d"), "a\\_b\\%c\\\\d");
        assert_eq!(like_escape("an@example.vn"), "an@example.vn");
    }

    #[test]
    fn errors_are_clipped_on_a_character_boundary() {
        let long = "ệ".repeat(MAX_ERROR_CHARS + 10);
        let clipped = clip_error(&long);
        assert_eq!(clipped.chars().count(), MAX_ERROR_CHARS + 1);
        assert_eq!(clip_error("short"), "short");
    }
}
