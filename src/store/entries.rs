//! The entries aggregate: the stored timeline and team extensions, entries with their draft text,
//! attachments, frozen versions, and status events.
//!
//! Functions take any executor: the pool for a read, or `&mut *tx` inside a write transaction.
//! Changes to one entry first take [`lock_entry`] in a write transaction (`FOR UPDATE` on
//! PostgreSQL; SQLite's `BEGIN IMMEDIATE` already holds the write lock).

use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use super::{Backend, StoreError, StoreResult};
use crate::domain::attachment::FileKind;
use crate::domain::entry::EntryStatus;
use crate::domain::submission::{EntryText, Maturity};
use crate::domain::timeline::Timeline;
use crate::i18n::Lang;

// --- Timeline -------------------------------------------------------------------------------

/// The timeline organizers stored, if any.
pub async fn stored_timeline<'c, E: Executor<'c, Database = Any>>(
    e: E,
) -> StoreResult<Option<Timeline>> {
    let row = sqlx::query(
        "SELECT registration_opens_at, registration_closes_at, submission_opens_at, \
         submission_deadline_at, grace_ms FROM timeline WHERE id = 1",
    )
    .fetch_optional(e)
    .await?;
    row.map(|r| {
        Timeline::new(
            r.try_get(0)?,
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get(4)?,
        )
        .map_err(|e| StoreError::Corrupt(format!("timeline: {e}")))
    })
    .transpose()
}

pub async fn save_timeline<'c, E: Executor<'c, Database = Any>>(
    e: E,
    t: &Timeline,
    now: i64,
    by: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO timeline (id, registration_opens_at, registration_closes_at, submission_opens_at, \
         submission_deadline_at, grace_ms, updated_at, updated_by) VALUES (1, $1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (id) DO UPDATE SET registration_opens_at = $1, registration_closes_at = $2, \
         submission_opens_at = $3, submission_deadline_at = $4, grace_ms = $5, updated_at = $6, updated_by = $7",
    )
    .bind(t.registration_opens())
    .bind(t.registration_closes())
    .bind(t.submission_opens())
    .bind(t.submission_deadline())
    .bind(t.grace_ms())
    .bind(now)
    .bind(by)
    .execute(e)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionRecord {
    pub team_id: String,
    pub team_name: String,
    pub deadline_at: i64,
    pub reason: String,
    pub granted_by: String,
    pub granted_at: i64,
}

fn extension_from_row(r: &AnyRow) -> StoreResult<ExtensionRecord> {
    Ok(ExtensionRecord {
        team_id: r.try_get(0)?,
        team_name: r.try_get(1)?,
        deadline_at: r.try_get(2)?,
        reason: r.try_get(3)?,
        granted_by: r.try_get(4)?,
        granted_at: r.try_get(5)?,
    })
}

const EXTENSION_COLUMNS: &str =
    "x.team_id, t.name, x.deadline_at, x.reason, x.granted_by, x.granted_at";

pub async fn extension_for<'c, E: Executor<'c, Database = Any>>(
    e: E,
    team_id: &str,
) -> StoreResult<Option<ExtensionRecord>> {
    let sql = format!(
        "SELECT {EXTENSION_COLUMNS} FROM team_extensions x JOIN teams t ON t.id = x.team_id WHERE x.team_id = $1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(team_id)
        .fetch_optional(e)
        .await?;
    row.as_ref().map(extension_from_row).transpose()
}

pub async fn list_extensions<'c, E: Executor<'c, Database = Any>>(
    e: E,
) -> StoreResult<Vec<ExtensionRecord>> {
    let sql = format!(
        "SELECT {EXTENSION_COLUMNS} FROM team_extensions x JOIN teams t ON t.id = x.team_id ORDER BY x.deadline_at, t.name"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(e).await?;
    rows.iter().map(extension_from_row).collect()
}

pub async fn save_extension<'c, E: Executor<'c, Database = Any>>(
    e: E,
    team_id: &str,
    deadline_at: i64,
    reason: &str,
    by: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO team_extensions (team_id, deadline_at, reason, granted_by, granted_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (team_id) DO UPDATE SET deadline_at = $2, \
         reason = $3, granted_by = $4, granted_at = $5",
    )
    .bind(team_id)
    .bind(deadline_at)
    .bind(reason)
    .bind(by)
    .bind(now)
    .execute(e)
    .await?;
    Ok(())
}

pub async fn delete_extension<'c, E: Executor<'c, Database = Any>>(
    e: E,
    team_id: &str,
) -> StoreResult<bool> {
    let r = sqlx::query("DELETE FROM team_extensions WHERE team_id = $1")
        .bind(team_id)
        .execute(e)
        .await?;
    Ok(r.rows_affected() > 0)
}

// --- Entries --------------------------------------------------------------------------------

/// An entry as stored, with its team's name and its problem's field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRecord {
    pub id: String,
    pub team_id: String,
    pub team_name: String,
    pub problem_code: String,
    pub problem_field: String,
    pub status: EntryStatus,
    pub text: EntryText,
    /// The last submitted version; 0 when never submitted.
    pub version: i64,
    pub late: bool,
    pub changed_since_submit: bool,
    pub prize: Option<String>,
    pub status_reason: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub submitted_at: Option<i64>,
    /// The last submitted version's canonical content (JSON) and attachment ids (JSON array).
    pub submitted_content: Option<String>,
    pub submitted_attachment_ids: Option<String>,
}

const ENTRY_COLUMNS: &str = "e.id, e.team_id, t.name, e.problem_code, p.field, e.status, e.title, \
     e.summary, e.description, e.maturity, e.deployed_where, e.technologies, e.experience, \
     e.demo_url, e.video_url, e.version, e.late, e.changed_since_submit, e.prize, e.status_reason, \
     e.created_by, e.created_at, e.updated_at, e.submitted_at, v.content, v.attachment_ids";

const ENTRY_FROM: &str = "entries e JOIN teams t ON t.id = e.team_id \
     JOIN problems p ON p.code = e.problem_code \
     LEFT JOIN entry_versions v ON v.entry_id = e.id AND v.version = e.version";

fn entry_from_row(r: &AnyRow) -> StoreResult<EntryRecord> {
    let status: String = r.try_get(5)?;
    let maturity: Option<String> = r.try_get(9)?;
    let late: i64 = r.try_get(16)?;
    let changed: i64 = r.try_get(17)?;
    Ok(EntryRecord {
        id: r.try_get(0)?,
        team_id: r.try_get(1)?,
        team_name: r.try_get(2)?,
        problem_code: r.try_get(3)?,
        problem_field: r.try_get(4)?,
        status: EntryStatus::from_code(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("entry status {status}")))?,
        text: EntryText {
            title: r.try_get(6)?,
            summary: r.try_get(7)?,
            description: r.try_get(8)?,
            maturity: maturity.as_deref().and_then(Maturity::from_code),
            deployed_where: r.try_get(10)?,
            technologies: r.try_get(11)?,
            experience: r.try_get(12)?,
            demo_url: r.try_get(13)?,
            video_url: r.try_get(14)?,
        },
        version: r.try_get(15)?,
        late: late != 0,
        changed_since_submit: changed != 0,
        prize: r.try_get(18)?,
        status_reason: r.try_get(19)?,
        created_by: r.try_get(20)?,
        created_at: r.try_get(21)?,
        updated_at: r.try_get(22)?,
        submitted_at: r.try_get(23)?,
        submitted_content: r.try_get(24)?,
        submitted_attachment_ids: r.try_get(25)?,
    })
}

/// A new draft. Fails with a unique violation when the team already entered the problem.
#[allow(clippy::too_many_arguments)]
pub async fn insert_entry<'c, E: Executor<'c, Database = Any>>(
    e: E,
    id: &str,
    team_id: &str,
    problem_code: &str,
    text: &EntryText,
    by: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO entries (id, team_id, problem_code, status, title, summary, description, maturity, \
         deployed_where, technologies, experience, demo_url, video_url, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
    )
    .bind(id)
    .bind(team_id)
    .bind(problem_code)
    .bind(&text.title)
    .bind(&text.summary)
    .bind(&text.description)
    .bind(text.maturity.map(Maturity::code))
    .bind(&text.deployed_where)
    .bind(&text.technologies)
    .bind(&text.experience)
    .bind(&text.demo_url)
    .bind(&text.video_url)
    .bind(by)
    .bind(now)
    .execute(e)
    .await?;
    Ok(())
}

pub async fn entry_by_id<'c, E: Executor<'c, Database = Any>>(
    e: E,
    id: &str,
) -> StoreResult<Option<EntryRecord>> {
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE e.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(e)
        .await?;
    row.as_ref().map(entry_from_row).transpose()
}

/// Reads the entry and, on PostgreSQL, locks its row until the transaction ends.
pub async fn lock_entry<'c, E: Executor<'c, Database = Any>>(
    e: E,
    backend: Backend,
    id: &str,
) -> StoreResult<Option<EntryRecord>> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE OF e",
        Backend::Sqlite => "",
    };
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE e.id = $1{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(e)
        .await?;
    row.as_ref().map(entry_from_row).transpose()
}

pub async fn entries_of_team<'c, E: Executor<'c, Database = Any>>(
    e: E,
    team_id: &str,
) -> StoreResult<Vec<EntryRecord>> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE e.team_id = $1 ORDER BY e.problem_code"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(team_id)
        .fetch_all(e)
        .await?;
    rows.iter().map(entry_from_row).collect()
}

pub async fn update_text<'c, E: Executor<'c, Database = Any>>(
    e: E,
    id: &str,
    text: &EntryText,
    changed_since_submit: bool,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE entries SET title = $2, summary = $3, description = $4, maturity = $5, deployed_where = $6, \
         technologies = $7, experience = $8, demo_url = $9, video_url = $10, changed_since_submit = $11, \
         updated_at = $12 WHERE id = $1",
    )
    .bind(id)
    .bind(&text.title)
    .bind(&text.summary)
    .bind(&text.description)
    .bind(text.maturity.map(Maturity::code))
    .bind(&text.deployed_where)
    .bind(&text.technologies)
    .bind(&text.experience)
    .bind(&text.demo_url)
    .bind(&text.video_url)
    .bind(i64::from(changed_since_submit))
    .bind(now)
    .execute(e)
    .await?;
    Ok(())
}

/// Marks the draft as changed since the last submit (after an upload or a removal).
pub async fn touch<'c, E: Executor<'c, Database = Any>>(
    e: E,
    id: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query("UPDATE entries SET changed_since_submit = CASE WHEN version > 0 THEN 1 ELSE 0 END, updated_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(e)
        .await?;
    Ok(())
}

/// Records a submit: the new version, its lateness, and the submitted status.
pub async fn mark_submitted<'c, E: Executor<'c, Database = Any>>(
    e: E,
    id: &str,
    version: i64,
    late: bool,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE entries SET status = 'submitted', version = $2, late = $3, changed_since_submit = 0, \
         submitted_at = $4, updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(version)
    .bind(i64::from(late))
    .bind(now)
    .execute(e)
    .await?;
    Ok(())
}

pub async fn set_status<'c, E: Executor<'c, Database = Any>>(
    e: E,
    id: &str,
    status: EntryStatus,
    reason: Option<&str>,
    prize: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE entries SET status = $2, status_reason = $3, prize = $4, updated_at = $5 WHERE id = $1",
    )
    .bind(id)
    .bind(status.code())
    .bind(reason)
    .bind(prize)
    .bind(now)
    .execute(e)
    .await?;
    Ok(())
}

/// Deletes a draft that was never submitted, with its attachment rows; returns their storage keys.
pub async fn delete_draft(tx: &mut super::Tx, id: &str) -> StoreResult<Vec<String>> {
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT storage_key FROM attachments WHERE entry_id = $1")
            .bind(id)
            .fetch_all(&mut **tx)
            .await?;
    for sql in [
        "DELETE FROM attachments WHERE entry_id = $1",
        "DELETE FROM entry_events WHERE entry_id = $1",
        "DELETE FROM entries WHERE id = $1 AND version = 0",
    ] {
        sqlx::query(sql).bind(id).execute(&mut **tx).await?;
    }
    Ok(keys)
}

/// The organizers' filter.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    pub problem: Option<String>,
    pub field: Option<String>,
    pub status: Option<EntryStatus>,
    pub late: Option<bool>,
    /// Leave drafts out (the default list shows what teams have submitted at least once).
    pub submitted_only: bool,
}

const FILTER_SQL: &str = "($1 IS NULL OR e.problem_code = $1) AND ($2 IS NULL OR p.field = $2) \
     AND ($3 IS NULL OR e.status = $3) AND ($4 < 0 OR e.late = $4) AND ($5 = 0 OR e.version > 0)";

fn bind_filter<'q>(
    q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    f: &'q EntryFilter,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    q.bind(f.problem.as_deref())
        .bind(f.field.as_deref())
        .bind(f.status.map(EntryStatus::code))
        .bind(f.late.map_or(-1i64, i64::from))
        .bind(i64::from(f.submitted_only))
}

/// One page of entries matching `f`, by problem then team name, and the total.
pub async fn list_entries<'c, E>(
    e: E,
    f: &EntryFilter,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<EntryRecord>, i64)>
where
    E: Executor<'c, Database = Any> + Copy,
{
    let count_sql = format!("SELECT COUNT(*) FROM {ENTRY_FROM} WHERE {FILTER_SQL}");
    let total: i64 = bind_filter(sqlx::query(sqlx::AssertSqlSafe(count_sql)), f)
        .fetch_one(e)
        .await?
        .try_get(0)?;
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE {FILTER_SQL} \
         ORDER BY e.problem_code, t.name, e.id LIMIT $6 OFFSET $7"
    );
    let rows = bind_filter(sqlx::query(sqlx::AssertSqlSafe(sql)), f)
        .bind(limit)
        .bind(offset)
        .fetch_all(e)
        .await?;
    let entries = rows
        .iter()
        .map(entry_from_row)
        .collect::<StoreResult<_>>()?;
    Ok((entries, total))
}

/// Entries per problem matching `f` (problem and field filters apply; so do status and late).
pub async fn counts_per_problem<'c, E: Executor<'c, Database = Any>>(
    e: E,
    f: &EntryFilter,
) -> StoreResult<Vec<(String, i64)>> {
    let sql = format!(
        "SELECT e.problem_code, COUNT(*) FROM {ENTRY_FROM} WHERE {FILTER_SQL} \
         GROUP BY e.problem_code ORDER BY e.problem_code"
    );
    let rows = bind_filter(sqlx::query(sqlx::AssertSqlSafe(sql)), f)
        .fetch_all(e)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Every entry matching `f`, for the CSV export, in list order.
pub async fn all_entries<'c, E: Executor<'c, Database = Any>>(
    e: E,
    f: &EntryFilter,
) -> StoreResult<Vec<EntryRecord>> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE {FILTER_SQL} ORDER BY e.problem_code, t.name, e.id"
    );
    let rows = bind_filter(sqlx::query(sqlx::AssertSqlSafe(sql)), f)
        .fetch_all(e)
        .await?;
    rows.iter().map(entry_from_row).collect()
}

// --- Recipients -------------------------------------------------------------------------------

/// A team member who receives the entry's mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub user_id: String,
    pub email: String,
    pub full_name: String,
    pub lang: Lang,
}

pub async fn team_recipients<'c, E: Executor<'c, Database = Any>>(
    e: E,
    team_id: &str,
) -> StoreResult<Vec<Recipient>> {
    let rows = sqlx::query(
        "SELECT u.id, u.email, u.full_name, u.lang FROM team_members m JOIN users u ON u.id = m.user_id \
         WHERE m.team_id = $1 AND u.disabled_at IS NULL ORDER BY m.joined_at, u.id",
    )
    .bind(team_id)
    .fetch_all(e)
    .await?;
    rows.iter()
        .map(|r| {
            let lang: String = r.try_get(3)?;
            Ok(Recipient {
                user_id: r.try_get(0)?,
                email: r.try_get(1)?,
                full_name: r.try_get(2)?,
                lang: Lang::parse(&lang).unwrap_or_default(),
            })
        })
        .collect()
}

/// Is the user a member of the team?
pub async fn is_member<'c, E: Executor<'c, Database = Any>>(
    e: E,
    team_id: &str,
    user_id: &str,
) -> StoreResult<bool> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM team_members WHERE team_id = $1 AND user_id = $2")
            .bind(team_id)
            .bind(user_id)
            .fetch_one(e)
            .await?;
    Ok(n > 0)
}

// --- Attachments ------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRecord {
    pub id: String,
    pub entry_id: String,
    pub file_name: String,
    pub kind: FileKind,
    pub size: i64,
    pub sha256: String,
    pub storage_key: String,
    pub uploaded_by: String,
    pub uploaded_at: i64,
    pub frozen: bool,
    pub removed_at: Option<i64>,
}

const ATTACHMENT_COLUMNS: &str = "id, entry_id, file_name, kind, size, sha256, storage_key, \
     uploaded_by, uploaded_at, frozen, removed_at";

fn attachment_from_row(r: &AnyRow) -> StoreResult<AttachmentRecord> {
    let kind: String = r.try_get(3)?;
    let frozen: i64 = r.try_get(9)?;
    Ok(AttachmentRecord {
        id: r.try_get(0)?,
        entry_id: r.try_get(1)?,
        file_name: r.try_get(2)?,
        kind: FileKind::from_code(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("attachment kind {kind}")))?,
        size: r.try_get(4)?,
        sha256: r.try_get(5)?,
        storage_key: r.try_get(6)?,
        uploaded_by: r.try_get(7)?,
        uploaded_at: r.try_get(8)?,
        frozen: frozen != 0,
        removed_at: r.try_get(10)?,
    })
}

pub async fn insert_attachment<'c, E: Executor<'c, Database = Any>>(
    e: E,
    a: &AttachmentRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO attachments (id, entry_id, file_name, kind, size, sha256, storage_key, uploaded_by, \
         uploaded_at, frozen, removed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, NULL)",
    )
    .bind(&a.id)
    .bind(&a.entry_id)
    .bind(&a.file_name)
    .bind(a.kind.code())
    .bind(a.size)
    .bind(&a.sha256)
    .bind(&a.storage_key)
    .bind(&a.uploaded_by)
    .bind(a.uploaded_at)
    .execute(e)
    .await?;
    Ok(())
}

/// The entry's current (not removed) attachments, in upload order.
pub async fn current_attachments<'c, E: Executor<'c, Database = Any>>(
    e: E,
    entry_id: &str,
) -> StoreResult<Vec<AttachmentRecord>> {
    let sql = format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE entry_id = $1 AND removed_at IS NULL \
         ORDER BY uploaded_at, id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(entry_id)
        .fetch_all(e)
        .await?;
    rows.iter().map(attachment_from_row).collect()
}

/// Any attachment of the entry, removed or not (a version may still list it).
pub async fn attachment_by_id<'c, E: Executor<'c, Database = Any>>(
    e: E,
    entry_id: &str,
    id: &str,
) -> StoreResult<Option<AttachmentRecord>> {
    let sql =
        format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE entry_id = $1 AND id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(entry_id)
        .bind(id)
        .fetch_optional(e)
        .await?;
    row.as_ref().map(attachment_from_row).transpose()
}

/// Bytes held by the entry's current attachments.
pub async fn current_bytes<'c, E: Executor<'c, Database = Any>>(
    e: E,
    entry_id: &str,
) -> StoreResult<i64> {
    let n: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(size) AS BIGINT) FROM attachments WHERE entry_id = $1 AND removed_at IS NULL",
    )
    .bind(entry_id)
    .fetch_one(e)
    .await?;
    Ok(n.unwrap_or(0))
}

/// Marks the entry's current attachments as listed by a version: they are kept for good.
pub async fn freeze_attachments<'c, E: Executor<'c, Database = Any>>(
    e: E,
    entry_id: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE attachments SET frozen = 1 WHERE entry_id = $1 AND removed_at IS NULL")
        .bind(entry_id)
        .execute(e)
        .await?;
    Ok(())
}

/// Takes an attachment off the draft: a frozen one is only marked removed (a version lists
/// it); one never submitted is deleted. Returns whether the file should be deleted.
pub async fn remove_attachment<'c, E>(e: E, a: &AttachmentRecord, now: i64) -> StoreResult<bool>
where
    E: Executor<'c, Database = Any>,
{
    if a.frozen {
        sqlx::query("UPDATE attachments SET removed_at = $2 WHERE id = $1")
            .bind(&a.id)
            .bind(now)
            .execute(e)
            .await?;
        Ok(false)
    } else {
        sqlx::query("DELETE FROM attachments WHERE id = $1")
            .bind(&a.id)
            .execute(e)
            .await?;
        Ok(true)
    }
}

// --- Versions ---------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRecord {
    pub entry_id: String,
    pub version: i64,
    /// The canonical JSON text.
    pub content: String,
    pub content_sha256: String,
    /// JSON array of attachment ids, in the content's order.
    pub attachment_ids: String,
    pub submitted_at: i64,
    pub submitted_by: String,
    pub late: bool,
    pub idempotency_key: Option<String>,
}

const VERSION_COLUMNS: &str = "entry_id, version, content, content_sha256, attachment_ids, \
     submitted_at, submitted_by, late, idempotency_key";

fn version_from_row(r: &AnyRow) -> StoreResult<VersionRecord> {
    let late: i64 = r.try_get(7)?;
    Ok(VersionRecord {
        entry_id: r.try_get(0)?,
        version: r.try_get(1)?,
        content: r.try_get(2)?,
        content_sha256: r.try_get(3)?,
        attachment_ids: r.try_get(4)?,
        submitted_at: r.try_get(5)?,
        submitted_by: r.try_get(6)?,
        late: late != 0,
        idempotency_key: r.try_get(8)?,
    })
}

pub async fn insert_version<'c, E: Executor<'c, Database = Any>>(
    e: E,
    v: &VersionRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO entry_versions (entry_id, version, content, content_sha256, attachment_ids, \
         submitted_at, submitted_by, late, idempotency_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&v.entry_id)
    .bind(v.version)
    .bind(&v.content)
    .bind(&v.content_sha256)
    .bind(&v.attachment_ids)
    .bind(v.submitted_at)
    .bind(&v.submitted_by)
    .bind(i64::from(v.late))
    .bind(v.idempotency_key.as_deref())
    .execute(e)
    .await?;
    Ok(())
}

pub async fn version_by_key<'c, E: Executor<'c, Database = Any>>(
    e: E,
    entry_id: &str,
    key: &str,
) -> StoreResult<Option<VersionRecord>> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM entry_versions WHERE entry_id = $1 AND idempotency_key = $2"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(entry_id)
        .bind(key)
        .fetch_optional(e)
        .await?;
    row.as_ref().map(version_from_row).transpose()
}

pub async fn version<'c, E: Executor<'c, Database = Any>>(
    e: E,
    entry_id: &str,
    version: i64,
) -> StoreResult<Option<VersionRecord>> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM entry_versions WHERE entry_id = $1 AND version = $2"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(entry_id)
        .bind(version)
        .fetch_optional(e)
        .await?;
    row.as_ref().map(version_from_row).transpose()
}

/// Every version of the entry, newest first.
pub async fn versions<'c, E: Executor<'c, Database = Any>>(
    e: E,
    entry_id: &str,
) -> StoreResult<Vec<VersionRecord>> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM entry_versions WHERE entry_id = $1 ORDER BY version DESC"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(entry_id)
        .fetch_all(e)
        .await?;
    rows.iter().map(version_from_row).collect()
}

// --- Events -----------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub id: String,
    pub entry_id: String,
    pub at: i64,
    pub actor_id: String,
    pub from_status: EntryStatus,
    pub to_status: EntryStatus,
    pub reason: Option<String>,
    pub prize: Option<String>,
}

pub async fn insert_event<'c, E: Executor<'c, Database = Any>>(
    e: E,
    ev: &EventRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO entry_events (id, entry_id, at, actor_id, from_status, to_status, reason, prize) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&ev.id)
    .bind(&ev.entry_id)
    .bind(ev.at)
    .bind(&ev.actor_id)
    .bind(ev.from_status.code())
    .bind(ev.to_status.code())
    .bind(ev.reason.as_deref())
    .bind(ev.prize.as_deref())
    .execute(e)
    .await?;
    Ok(())
}

/// The entry's status history, oldest first.
pub async fn events<'c, E: Executor<'c, Database = Any>>(
    e: E,
    entry_id: &str,
) -> StoreResult<Vec<EventRecord>> {
    let rows = sqlx::query(
        "SELECT id, entry_id, at, actor_id, from_status, to_status, reason, prize FROM entry_events \
         WHERE entry_id = $1 ORDER BY at, id",
    )
    .bind(entry_id)
    .fetch_all(e)
    .await?;
    rows.iter()
        .map(|r| {
            let from: String = r.try_get(4)?;
            let to: String = r.try_get(5)?;
            let status = |s: &str| {
                EntryStatus::from_code(s).ok_or_else(|| StoreError::Corrupt(format!("status {s}")))
            };
            Ok(EventRecord {
                id: r.try_get(0)?,
                entry_id: r.try_get(1)?,
                at: r.try_get(2)?,
                actor_id: r.try_get(3)?,
                from_status: status(&from)?,
                to_status: status(&to)?,
                reason: r.try_get(6)?,
                prize: r.try_get(7)?,
            })
        })
        .collect()
}
