//! Entries: a team enters a problem, writes a draft, uploads attachments, submits (each submit
//! freezes a version and sends a receipt to every member), withdraws; organizers list, export
//! and move statuses, one at a time or in bulk.
//!
//! Rules:
//! - One entry per team per problem, at most `entries.max_problems_per_team` entries per team
//!   (counted under the team's lock). Only team members (participants) touch an entry; they see
//!   only their own team's entries, organizers see all, and anyone else is told it does not
//!   exist (judges are refused outright).
//! - Drafts (text and files) may be written from the opening of registration until the team's
//!   deadline (or extension); see `domain::timeline`. The server's clock decides, read when the
//!   request reached the server (`Actor::received_at`), so a request that arrived in time is
//!   not refused because it then queued for the database.
//! - Submitting needs submissions to be open. Up to the team's deadline it is on time; in the
//!   grace period a submit of what is saved is accepted and flagged late. Each submit freezes a new version (canonical
//!   content, SHA-256, server time, who) and mails a receipt to every member, in one
//!   transaction. A submit with an `Idempotency-Key` already used on the entry returns the
//!   first receipt and creates nothing.
//! - Withdrawing is the team's, strictly before its deadline; a withdrawn entry may be submitted
//!   again before the deadline.
//! - Organizers see the last submitted version of an entry (its text and files), never the
//!   team's unsubmitted draft; the list and the CSV show the same.
//! - Attachments stream to storage (`files`) before any lock is taken; the row is then written
//!   under the entry's lock, re-checking the entry's total. A refused or failed upload leaves no
//!   file and no row.
//! - Organizers move statuses by the table in `domain::entry`. Every change is audited, kept as
//!   an event, and mailed to every member in their own language. A bulk change is one
//!   transaction: a refused change names its entry and nothing is changed.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::json;

use super::timeline::{self, TeamClock};
use super::{Actor, Ctx, ServiceError, ServiceResult, audit, now_ms};
use crate::domain::account::{Invalid, Problem, Role};
use crate::domain::attachment::{FileKind, clean_file_name};
use crate::domain::authz::Action;
use crate::domain::entry::{EntryStatus, Mover, TransitionError, team_may_edit, transition};
use crate::domain::submission::{
    AttachmentRef, Canonical, EntryInput, EntryText, MAX_REASON, check_prize,
};
use crate::domain::text;
use crate::domain::time::Millis;
use crate::domain::timeline::SubmitWindow;
use crate::files::{ByteStream, PutError};
use crate::mail::templates::MailKind;
use crate::store::entries::{
    self as db, AttachmentRecord, EntryFilter, EntryRecord, EventRecord, VersionRecord,
};
use crate::store::teams as tdb;
use crate::store::{Tx, new_id};

fn conflict(code: &'static str, field: Option<&'static str>) -> ServiceError {
    ServiceError::Conflict { code, field }
}

/// How the caller relates to an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A member of the entry's team.
    Team,
    /// An organizer.
    Organizer,
}

/// An entry with everything its page shows.
#[derive(Debug, Clone)]
pub struct EntryView {
    pub entry: EntryRecord,
    pub attachments: Vec<AttachmentRecord>,
    pub versions: Vec<VersionRecord>,
    pub events: Vec<EventRecord>,
    pub access: Access,
    pub clock: TeamClock,
    /// The team may edit the text and the files now.
    pub may_edit: bool,
    /// The team may submit now (the entry is complete or not; that is checked on submit).
    pub may_submit: bool,
    pub may_withdraw: bool,
    /// A draft never submitted may be deleted.
    pub may_delete: bool,
}

impl EntryView {
    pub fn window(&self) -> SubmitWindow {
        self.clock.window()
    }
}

/// What a submit proves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub entry_id: String,
    pub team_id: String,
    pub team_name: String,
    pub problem_code: String,
    pub title: String,
    pub version: i64,
    pub submitted_at: i64,
    pub submitted_by: String,
    pub late: bool,
    pub content_sha256: String,
    pub attachments: Vec<AttachmentRef>,
    /// True when this answers a retried request (same Idempotency-Key): nothing new was made.
    pub replayed: bool,
}

// --- Access -----------------------------------------------------------------------------------

/// Participants act through `Action::Entries`, organizers through `Action::ManageEntries`;
/// anyone else is refused.
fn require_entries(actor: &Actor) -> ServiceResult<()> {
    match actor.role() {
        Role::Organizer => actor.require(Action::ManageEntries),
        _ => actor.require(Action::Entries),
    }
}

/// The caller's access to `entry`, or `NotFound` (a participant of another team must not learn
/// that it exists).
async fn access_to<'c, E>(e: E, actor: &Actor, entry: &EntryRecord) -> ServiceResult<Access>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    require_entries(actor)?;
    if actor.role() == Role::Organizer {
        return Ok(Access::Organizer);
    }
    if db::is_member(e, &entry.team_id, &actor.user.id).await? {
        Ok(Access::Team)
    } else {
        Err(ServiceError::NotFound("entry"))
    }
}

/// Locks the entry for a change by its team; `NotFound` for anyone else.
async fn lock_for_team(
    ctx: &Ctx,
    tx: &mut Tx,
    actor: &Actor,
    id: &str,
) -> ServiceResult<EntryRecord> {
    actor.require(Action::Entries)?;
    let entry = db::lock_entry(&mut **tx, ctx.store.backend(), id)
        .await?
        .ok_or(ServiceError::NotFound("entry"))?;
    if !db::is_member(&mut **tx, &entry.team_id, &actor.user.id).await? {
        return Err(ServiceError::NotFound("entry"));
    }
    Ok(entry)
}

/// The team's clock as of when the actor's request reached the server: a request that arrived
/// in time is judged in time, however long it then waited for the database.
async fn clock_for(
    ctx: &Ctx,
    conn: &mut sqlx::AnyConnection,
    team_id: &str,
    actor: &Actor,
) -> ServiceResult<TeamClock> {
    let mut clock = timeline::team_clock(ctx, conn, team_id).await?;
    clock.now = clock.now.min(actor.received_at);
    Ok(clock)
}

/// Why drafts cannot be written now: past the deadline, or before the contest opens.
fn drafts_closed(clock: &TeamClock) -> ServiceError {
    if clock.now > clock.deadline() {
        conflict("deadline_passed", None)
    } else {
        conflict("drafts_closed", None)
    }
}

/// The draft may change now, or why not.
fn check_editable(entry: &EntryRecord, clock: &TeamClock) -> ServiceResult<()> {
    if !clock.drafts_open() {
        return Err(drafts_closed(clock));
    }
    if !team_may_edit(entry.status, true) {
        return Err(conflict("not_editable", None));
    }
    Ok(())
}

/// What organizers see of an entry: its last submitted version (text and files), not the
/// team's draft; a never-submitted draft as it is.
fn as_submitted(mut entry: EntryRecord) -> EntryRecord {
    if let Some(text) = entry.submitted_content.as_deref().and_then(submitted_text) {
        entry.text = text;
    }
    entry
}

/// The text of a stored canonical version.
fn submitted_text(content: &str) -> Option<EntryText> {
    let c: Canonical = serde_json::from_str(content).ok()?;
    Some(EntryText {
        title: c.title,
        summary: c.summary,
        description: c.description,
        maturity: crate::domain::submission::Maturity::from_code(&c.maturity),
        deployed_where: c.deployed_where,
        technologies: c.technologies,
        experience: c.experience,
        demo_url: c.demo_url,
        video_url: c.video_url,
    })
}

async fn view(ctx: &Ctx, entry: EntryRecord, access: Access) -> ServiceResult<EntryView> {
    let pool = ctx.store.pool();
    if access == Access::Organizer && entry.submitted_content.is_some() {
        return organizer_view(ctx, entry).await;
    }
    let clock = timeline::team_clock(ctx, &mut *pool.acquire().await?, &entry.team_id).await?;
    let attachments = db::current_attachments(pool, &entry.id).await?;
    let versions = db::versions(pool, &entry.id).await?;
    let events = db::events(pool, &entry.id).await?;
    let team = access == Access::Team;
    let window = clock.window();
    let may_edit = team && check_editable(&entry, &clock).is_ok();
    let may_submit = team
        && window.accepts_submits()
        && matches!(
            entry.status,
            EntryStatus::Draft | EntryStatus::Submitted | EntryStatus::Withdrawn
        );
    let may_withdraw = team
        && transition(
            entry.status,
            EntryStatus::Withdrawn,
            Mover::Team,
            window == SubmitWindow::Open,
            None,
        )
        .is_ok();
    let may_delete = team && entry.version == 0 && may_edit;
    Ok(EntryView {
        entry,
        attachments,
        versions,
        events,
        access,
        clock,
        may_edit,
        may_submit,
        may_withdraw,
        may_delete,
    })
}

/// An organizer's view of a submitted entry: the last submitted version and its files.
async fn organizer_view(ctx: &Ctx, entry: EntryRecord) -> ServiceResult<EntryView> {
    let pool = ctx.store.pool();
    let ids: Vec<String> = entry
        .submitted_attachment_ids
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    let mut attachments = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(a) = db::attachment_by_id(pool, &entry.id, id).await? {
            attachments.push(a);
        }
    }
    let clock = timeline::team_clock(ctx, &mut *pool.acquire().await?, &entry.team_id).await?;
    let versions = db::versions(pool, &entry.id).await?;
    let events = db::events(pool, &entry.id).await?;
    Ok(EntryView {
        entry: as_submitted(entry),
        attachments,
        versions,
        events,
        access: Access::Organizer,
        clock,
        may_edit: false,
        may_submit: false,
        may_withdraw: false,
        may_delete: false,
    })
}

// --- Team side --------------------------------------------------------------------------------

/// The caller's team id, or `no_team`.
async fn own_team_id(ctx: &Ctx, actor: &Actor) -> ServiceResult<String> {
    tdb::team_id_of_user(ctx.store.pool(), &actor.user.id)
        .await?
        .ok_or_else(|| conflict("no_team", None))
}

/// The caller's team's entries, and its clock.
pub async fn my_entries(
    ctx: &Ctx,
    actor: &Actor,
) -> ServiceResult<Option<(Vec<EntryRecord>, TeamClock)>> {
    actor.require(Action::Entries)?;
    let Some(team_id) = tdb::team_id_of_user(ctx.store.pool(), &actor.user.id).await? else {
        return Ok(None);
    };
    let entries = db::entries_of_team(ctx.store.pool(), &team_id).await?;
    let clock =
        timeline::team_clock(ctx, &mut *ctx.store.pool().acquire().await?, &team_id).await?;
    Ok(Some((entries, clock)))
}

/// The team enters a problem with a first draft.
pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    problem_code: &str,
    input: &EntryInput,
) -> ServiceResult<EntryView> {
    actor.require(Action::Entries)?;
    let code = text::clean(problem_code).to_uppercase();
    let problem_exists =
        !code.is_empty() && crate::store::problems::problem_exists(ctx.store.pool(), &code).await?;
    let mut errors = Vec::new();
    if !problem_exists {
        errors.push(Invalid {
            field: "problem_code",
            problem: if code.is_empty() {
                Problem::Required
            } else {
                Problem::UnknownProblem
            },
        });
    }
    let text = match EntryText::parse(input) {
        Ok(t) => Some(t),
        Err(list) => {
            errors.extend(list);
            None
        }
    };
    let Some(text) = text.filter(|_| errors.is_empty()) else {
        return Err(ServiceError::Invalid(errors));
    };
    let team_id = own_team_id(ctx, actor).await?;
    let now = now_ms();
    let id = new_id();
    let mut tx = ctx.store.begin_write().await?;
    tdb::lock_team(&mut *tx, ctx.store.backend(), &team_id)
        .await?
        .ok_or_else(|| conflict("no_team", None))?;
    let clock = clock_for(ctx, &mut tx, &team_id, actor).await?;
    if !clock.drafts_open() {
        return Err(drafts_closed(&clock));
    }
    let entries = db::entries_of_team(&mut *tx, &team_id).await?;
    if entries.iter().any(|e| e.problem_code == code) {
        return Err(conflict("entry_exists", Some("problem_code")));
    }
    let max = i64::from(ctx.config.entries.max_problems_per_team);
    if entries.len() as i64 >= max {
        return Err(conflict("too_many_entries", Some("problem_code")));
    }
    db::insert_entry(&mut *tx, &id, &team_id, &code, &text, &actor.user.id, now).await?;
    audit(
        &mut tx,
        Some(&actor.user.id),
        actor.ip.as_deref(),
        "entry.create",
        "entry",
        &id,
        None,
        Some(json!({ "team_id": team_id, "problem_code": code, "title": text.title })),
    )
    .await?;
    tx.commit().await?;
    let entry = db::entry_by_id(ctx.store.pool(), &id)
        .await?
        .ok_or(ServiceError::NotFound("entry"))?;
    view(ctx, entry, Access::Team).await
}

/// The team saves its draft text.
pub async fn save(
    ctx: &Ctx,
    actor: &Actor,
    entry_id: &str,
    input: &EntryInput,
) -> ServiceResult<EntryView> {
    actor.require(Action::Entries)?;
    let text = EntryText::parse(input).map_err(ServiceError::Invalid)?;
    let now = now_ms();
    let mut tx = ctx.store.begin_write().await?;
    let entry = lock_for_team(ctx, &mut tx, actor, entry_id).await?;
    let clock = clock_for(ctx, &mut tx, &entry.team_id, actor).await?;
    check_editable(&entry, &clock)?;
    if text != entry.text {
        db::update_text(&mut *tx, &entry.id, &text, entry.version > 0, now).await?;
    }
    tx.commit().await?;
    let entry = db::entry_by_id(ctx.store.pool(), entry_id)
        .await?
        .ok_or(ServiceError::NotFound("entry"))?;
    view(ctx, entry, Access::Team).await
}

/// The team deletes a draft it never submitted (freeing the problem slot).
pub async fn delete_draft(ctx: &Ctx, actor: &Actor, entry_id: &str) -> ServiceResult<()> {
    let mut tx = ctx.store.begin_write().await?;
    let entry = lock_for_team(ctx, &mut tx, actor, entry_id).await?;
    if entry.version > 0 {
        return Err(conflict("already_submitted", None));
    }
    let clock = clock_for(ctx, &mut tx, &entry.team_id, actor).await?;
    check_editable(&entry, &clock)?;
    let keys = db::delete_draft(&mut tx, &entry.id).await?;
    audit(
        &mut tx,
        Some(&actor.user.id),
        actor.ip.as_deref(),
        "entry.delete",
        "entry",
        &entry.id,
        Some(json!({ "team_id": entry.team_id, "problem_code": entry.problem_code })),
        None,
    )
    .await?;
    tx.commit().await?;
    for key in keys {
        if let Err(e) = ctx.files.delete(&key).await {
            tracing::warn!(error = %e, key, "could not delete the file of a deleted draft");
        }
    }
    Ok(())
}

/// The team uploads one file. `body` streams; the file is stored only if every check passes.
pub async fn upload(
    ctx: &Ctx,
    actor: &Actor,
    entry_id: &str,
    raw_name: &str,
    body: ByteStream<'_>,
) -> ServiceResult<AttachmentRecord> {
    actor.require(Action::Entries)?;
    let (name, kind) = clean_file_name("name", raw_name)?;
    let max_file = ctx.config.entries.max_file_bytes();
    let max_entry = ctx.config.entries.max_entry_bytes();
    // Check before reading the body, so a refused upload is refused early.
    let pool = ctx.store.pool();
    let entry = db::entry_by_id(pool, entry_id)
        .await?
        .ok_or(ServiceError::NotFound("entry"))?;
    if access_to(pool, actor, &entry).await? != Access::Team {
        return Err(ServiceError::NotFound("entry"));
    }
    let clock = clock_for(ctx, &mut *pool.acquire().await?, &entry.team_id, actor).await?;
    check_editable(&entry, &clock)?;
    let used = u64::try_from(db::current_bytes(pool, &entry.id).await?).unwrap_or(0);
    let room = max_entry.saturating_sub(used);
    if room == 0 {
        return Err(too_large_entry(ctx));
    }
    let limit = max_file.min(room);
    let stored = match ctx.files.put(body, kind, "file", limit).await {
        Ok(s) => s,
        Err(PutError::Refused(i)) => return Err(i.into()),
        Err(PutError::TooLarge { .. }) if limit == max_file => {
            return Err(Invalid {
                field: "file",
                problem: Problem::TooLargeMb(ctx.config.entries.max_file_mb),
            }
            .into());
        }
        Err(PutError::TooLarge { .. }) => return Err(too_large_entry(ctx)),
        Err(PutError::Body(e)) => {
            tracing::info!(error = %e, "upload interrupted");
            return Err(Invalid {
                field: "file",
                problem: Problem::Interrupted,
            }
            .into());
        }
        Err(PutError::Storage(e)) => return Err(ServiceError::Internal(format!("storage: {e}"))),
    };
    let result = record_upload(ctx, actor, entry_id, &name, kind, &stored, max_entry).await;
    if result.is_err()
        && let Err(e) = ctx.files.delete(&stored.key).await
    {
        tracing::warn!(error = %e, key = stored.key, "could not delete a refused upload");
    }
    result
}

fn too_large_entry(ctx: &Ctx) -> ServiceError {
    Invalid {
        field: "file",
        problem: Problem::EntryTooLargeMb(ctx.config.entries.max_entry_mb),
    }
    .into()
}

async fn record_upload(
    ctx: &Ctx,
    actor: &Actor,
    entry_id: &str,
    name: &str,
    kind: FileKind,
    stored: &crate::files::Stored,
    max_entry: u64,
) -> ServiceResult<AttachmentRecord> {
    if let (Some(part), Some(path)) = (kind.ooxml_part(), ctx.files.local_path(&stored.key)) {
        let ok = tokio::task::spawn_blocking(move || crate::files::zip_has_part(&path, part))
            .await
            .map_err(|e| ServiceError::Internal(format!("office check: {e}")))?;
        if !ok {
            return Err(Invalid {
                field: "file",
                problem: Problem::TypeMismatch("ZIP".into()),
            }
            .into());
        }
    }
    let now = now_ms();
    let mut tx = ctx.store.begin_write().await?;
    let entry = lock_for_team(ctx, &mut tx, actor, entry_id).await?;
    let clock = clock_for(ctx, &mut tx, &entry.team_id, actor).await?;
    check_editable(&entry, &clock)?;
    let used = u64::try_from(db::current_bytes(&mut *tx, &entry.id).await?).unwrap_or(0);
    if used.saturating_add(stored.size) > max_entry {
        return Err(too_large_entry(ctx));
    }
    let record = AttachmentRecord {
        id: new_id(),
        entry_id: entry.id.clone(),
        file_name: name.to_owned(),
        kind,
        size: i64::try_from(stored.size).unwrap_or(i64::MAX),
        sha256: stored.sha256.clone(),
        storage_key: stored.key.clone(),
        uploaded_by: actor.user.id.clone(),
        uploaded_at: now,
        frozen: false,
        removed_at: None,
    };
    db::insert_attachment(&mut *tx, &record).await?;
    db::touch(&mut *tx, &entry.id, now).await?;
    audit(
        &mut tx,
        Some(&actor.user.id),
        actor.ip.as_deref(),
        "entry.attachment.add",
        "entry",
        &entry.id,
        None,
        Some(json!({ "attachment_id": record.id, "name": record.file_name, "size": record.size, "sha256": record.sha256 })),
    )
    .await?;
    tx.commit().await?;
    Ok(record)
}

/// The team takes a file off its draft. A file listed by a submitted version is kept for that
/// version; one never submitted is deleted.
pub async fn remove_attachment(
    ctx: &Ctx,
    actor: &Actor,
    entry_id: &str,
    attachment_id: &str,
) -> ServiceResult<()> {
    let now = now_ms();
    let mut tx = ctx.store.begin_write().await?;
    let entry = lock_for_team(ctx, &mut tx, actor, entry_id).await?;
    let clock = clock_for(ctx, &mut tx, &entry.team_id, actor).await?;
    check_editable(&entry, &clock)?;
    let a = db::attachment_by_id(&mut *tx, &entry.id, attachment_id)
        .await?
        .filter(|a| a.removed_at.is_none())
        .ok_or(ServiceError::NotFound("attachment"))?;
    let delete_file = db::remove_attachment(&mut *tx, &a, now).await?;
    db::touch(&mut *tx, &entry.id, now).await?;
    audit(
        &mut tx,
        Some(&actor.user.id),
        actor.ip.as_deref(),
        "entry.attachment.remove",
        "entry",
        &entry.id,
        Some(json!({ "attachment_id": a.id, "name": a.file_name })),
        None,
    )
    .await?;
    tx.commit().await?;
    if delete_file && let Err(e) = ctx.files.delete(&a.storage_key).await {
        tracing::warn!(error = %e, key = a.storage_key, "could not delete a removed file");
    }
    Ok(())
}

/// Checks an `Idempotency-Key`: 1–200 visible ASCII characters.
fn check_idempotency_key(key: Option<&str>) -> ServiceResult<Option<String>> {
    match key {
        None => Ok(None),
        Some(k) if !k.is_empty() && k.len() <= 200 && k.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(k.to_owned()))
        }
        Some(_) => Err(Invalid {
            field: "Idempotency-Key",
            problem: Problem::BadKey,
        }
        .into()),
    }
}

fn receipt_of(entry: &EntryRecord, v: &VersionRecord, replayed: bool) -> ServiceResult<Receipt> {
    let canonical: Canonical = serde_json::from_str(&v.content)
        .map_err(|e| ServiceError::Internal(format!("stored version: {e}")))?;
    Ok(Receipt {
        entry_id: entry.id.clone(),
        team_id: entry.team_id.clone(),
        team_name: entry.team_name.clone(),
        problem_code: canonical.problem_code,
        title: canonical.title,
        version: v.version,
        submitted_at: v.submitted_at,
        submitted_by: v.submitted_by.clone(),
        late: v.late,
        content_sha256: v.content_sha256.clone(),
        attachments: canonical.attachments,
        replayed,
    })
}

/// The team submits: a new frozen version, a receipt, and the receipt mailed to every member.
pub async fn submit(
    ctx: &Ctx,
    actor: &Actor,
    entry_id: &str,
    idempotency_key: Option<&str>,
) -> ServiceResult<Receipt> {
    submit_with(ctx, actor, entry_id, idempotency_key, None).await
}

/// Saves `text` (when given) and submits it, under one lock of the entry: what the receipt
/// covers is exactly what this caller sent, even if another member saves at the same moment.
pub async fn submit_with(
    ctx: &Ctx,
    actor: &Actor,
    entry_id: &str,
    idempotency_key: Option<&str>,
    text: Option<&EntryInput>,
) -> ServiceResult<Receipt> {
    let key = check_idempotency_key(idempotency_key)?;
    let text = text
        .map(EntryText::parse)
        .transpose()
        .map_err(ServiceError::Invalid)?;
    let mut tx = ctx.store.begin_write().await?;
    let mut entry = lock_for_team(ctx, &mut tx, actor, entry_id).await?;
    if let Some(k) = &key
        && let Some(v) = db::version_by_key(&mut *tx, &entry.id, k).await?
    {
        tx.rollback().await?;
        return receipt_of(&entry, &v, true);
    }
    let clock = clock_for(ctx, &mut tx, &entry.team_id, actor).await?;
    if let Some(text) = text
        && text != entry.text
    {
        check_editable(&entry, &clock)?;
        db::update_text(&mut *tx, &entry.id, &text, entry.version > 0, clock.now).await?;
        entry.text = text;
    }
    let now = clock.now;
    let window = clock.window();
    match window {
        SubmitWindow::NotOpen => return Err(conflict("submissions_not_open", None)),
        SubmitWindow::Closed => return Err(conflict("deadline_passed", None)),
        SubmitWindow::Open | SubmitWindow::Grace => {}
    }
    // A resubmit of a submitted entry is an edit; the other cases are transitions.
    if entry.status != EntryStatus::Submitted {
        // A first submit may come in the grace period (late); a withdrawn entry comes back
        // only before the deadline.
        let in_time = if entry.status == EntryStatus::Withdrawn {
            window == SubmitWindow::Open
        } else {
            window.accepts_submits()
        };
        transition(
            entry.status,
            EntryStatus::Submitted,
            Mover::Team,
            in_time,
            None,
        )
        .map_err(|e| transition_error(e, entry.status, EntryStatus::Submitted))?;
    }
    entry.text.check_complete().map_err(ServiceError::Invalid)?;
    let attachments = db::current_attachments(&mut *tx, &entry.id).await?;
    let canonical = Canonical::new(
        &entry.problem_code,
        &entry.text,
        attachments
            .iter()
            .map(|a| AttachmentRef {
                name: a.file_name.clone(),
                size: a.size,
                sha256: a.sha256.clone(),
            })
            .collect(),
    );
    let late = window.is_late();
    let version = VersionRecord {
        entry_id: entry.id.clone(),
        version: entry.version + 1,
        content: canonical.to_json(),
        content_sha256: canonical.sha256(),
        attachment_ids: serde_json::to_string(
            &attachments
                .iter()
                .map(|a| a.id.as_str())
                .collect::<Vec<_>>(),
        )
        .unwrap_or_else(|_| "[]".to_owned()),
        submitted_at: now,
        submitted_by: actor.user.id.clone(),
        late,
        idempotency_key: key,
    };
    db::insert_version(&mut *tx, &version).await?;
    db::freeze_attachments(&mut *tx, &entry.id).await?;
    db::mark_submitted(&mut *tx, &entry.id, version.version, late, now).await?;
    if entry.status != EntryStatus::Submitted {
        db::insert_event(
            &mut *tx,
            &EventRecord {
                id: new_id(),
                entry_id: entry.id.clone(),
                at: now,
                actor_id: actor.user.id.clone(),
                from_status: entry.status,
                to_status: EntryStatus::Submitted,
                reason: None,
                prize: None,
            },
        )
        .await?;
    }
    audit(
        &mut tx,
        Some(&actor.user.id),
        actor.ip.as_deref(),
        "entry.submit",
        "entry",
        &entry.id,
        Some(json!({ "status": entry.status.code(), "version": entry.version })),
        Some(json!({ "status": "submitted", "version": version.version, "late": late, "content_sha256": version.content_sha256 })),
    )
    .await?;
    let receipt = receipt_of(&entry, &version, false)?;
    for r in db::team_recipients(&mut *tx, &entry.team_id).await? {
        let kind = MailKind::EntryReceipt {
            name: r.full_name.clone(),
            team: entry.team_name.clone(),
            problem_code: entry.problem_code.clone(),
            title: receipt.title.clone(),
            entry_id: entry.id.clone(),
            version: version.version,
            submitted_at_ict: Millis(now).display_ict(),
            submitted_at_utc: Millis(now).rfc3339_utc(),
            content_sha256: version.content_sha256.clone(),
            late,
            url: ctx.link(&format!(
                "/entries/{}/receipts/{}",
                entry.id, version.version
            )),
        };
        ctx.queue_mail(&mut tx, &r.email, Some(&r.user_id), r.lang, &kind)
            .await?;
    }
    tx.commit().await?;
    ctx.mail_committed();
    Ok(receipt)
}

fn transition_error(e: TransitionError, from: EntryStatus, to: EntryStatus) -> ServiceError {
    match e {
        TransitionError::NotAllowed { .. } => ServiceError::Transition { from, to },
        TransitionError::WrongMover(_) => ServiceError::Forbidden,
        TransitionError::DeadlinePassed => conflict("deadline_passed", None),
        TransitionError::ReasonRequired => Invalid {
            field: "reason",
            problem: Problem::Required,
        }
        .into(),
    }
}

/// The team withdraws its submitted entry, before its deadline.
pub async fn withdraw(ctx: &Ctx, actor: &Actor, entry_id: &str) -> ServiceResult<EntryView> {
    let mut tx = ctx.store.begin_write().await?;
    let entry = lock_for_team(ctx, &mut tx, actor, entry_id).await?;
    let clock = clock_for(ctx, &mut tx, &entry.team_id, actor).await?;
    let before_deadline = clock.window() == SubmitWindow::Open;
    transition(
        entry.status,
        EntryStatus::Withdrawn,
        Mover::Team,
        before_deadline,
        None,
    )
    .map_err(|e| match e {
        TransitionError::DeadlinePassed => conflict("withdraw_after_deadline", None),
        e => transition_error(e, entry.status, EntryStatus::Withdrawn),
    })?;
    apply_status(
        ctx,
        &mut tx,
        actor,
        &entry,
        EntryStatus::Withdrawn,
        None,
        None,
        clock.now,
    )
    .await?;
    tx.commit().await?;
    ctx.mail_committed();
    let entry = db::entry_by_id(ctx.store.pool(), entry_id)
        .await?
        .ok_or(ServiceError::NotFound("entry"))?;
    view(ctx, entry, Access::Team).await
}

/// Writes a status change, its event and audit record, and the mail to every member.
#[allow(clippy::too_many_arguments)]
async fn apply_status(
    ctx: &Ctx,
    tx: &mut Tx,
    actor: &Actor,
    entry: &EntryRecord,
    to: EntryStatus,
    reason: Option<&str>,
    prize: Option<&str>,
    now: i64,
) -> ServiceResult<()> {
    db::set_status(&mut **tx, &entry.id, to, reason, prize, now).await?;
    db::insert_event(
        &mut **tx,
        &EventRecord {
            id: new_id(),
            entry_id: entry.id.clone(),
            at: now,
            actor_id: actor.user.id.clone(),
            from_status: entry.status,
            to_status: to,
            reason: reason.map(str::to_owned),
            prize: prize.map(str::to_owned),
        },
    )
    .await?;
    audit(
        tx,
        Some(&actor.user.id),
        actor.ip.as_deref(),
        "entry.status",
        "entry",
        &entry.id,
        Some(json!({ "status": entry.status.code() })),
        Some(json!({ "status": to.code(), "reason": reason, "prize": prize })),
    )
    .await?;
    for r in db::team_recipients(&mut **tx, &entry.team_id).await? {
        let kind = MailKind::EntryStatusChanged {
            name: r.full_name.clone(),
            team: entry.team_name.clone(),
            problem_code: entry.problem_code.clone(),
            title: entry.text.title.clone(),
            status: to,
            reason: reason.map(str::to_owned),
            prize: prize.map(str::to_owned),
            url: ctx.link(&format!("/entries/{}", entry.id)),
        };
        ctx.queue_mail(tx, &r.email, Some(&r.user_id), r.lang, &kind)
            .await?;
    }
    Ok(())
}

/// One entry, for its team or an organizer.
pub async fn entry(ctx: &Ctx, actor: &Actor, entry_id: &str) -> ServiceResult<EntryView> {
    require_entries(actor)?;
    let pool = ctx.store.pool();
    let entry = db::entry_by_id(pool, entry_id)
        .await?
        .ok_or(ServiceError::NotFound("entry"))?;
    let access = access_to(pool, actor, &entry).await?;
    view(ctx, entry, access).await
}

/// The receipt of one version, for the team or an organizer.
pub async fn receipt(
    ctx: &Ctx,
    actor: &Actor,
    entry_id: &str,
    version: i64,
) -> ServiceResult<Receipt> {
    require_entries(actor)?;
    let pool = ctx.store.pool();
    let entry = db::entry_by_id(pool, entry_id)
        .await?
        .ok_or(ServiceError::NotFound("entry"))?;
    access_to(pool, actor, &entry).await?;
    let v = db::version(pool, entry_id, version)
        .await?
        .ok_or(ServiceError::NotFound("version"))?;
    receipt_of(&entry, &v, false)
}

/// Opens an attachment (current, or listed by a version) for download by the team or an
/// organizer.
pub async fn open_attachment(
    ctx: &Ctx,
    actor: &Actor,
    entry_id: &str,
    attachment_id: &str,
) -> ServiceResult<(AttachmentRecord, tokio::fs::File)> {
    require_entries(actor)?;
    let pool = ctx.store.pool();
    let entry = db::entry_by_id(pool, entry_id)
        .await?
        .ok_or(ServiceError::NotFound("entry"))?;
    access_to(pool, actor, &entry).await?;
    let a = db::attachment_by_id(pool, entry_id, attachment_id)
        .await?
        .ok_or(ServiceError::NotFound("attachment"))?;
    let file = ctx
        .files
        .open(&a.storage_key)
        .await
        .map_err(|e| match e.kind() {
            // Removed between the read and the open.
            std::io::ErrorKind::NotFound => ServiceError::NotFound("attachment"),
            _ => ServiceError::Internal(format!("open {}: {e}", a.storage_key)),
        })?;
    Ok((a, file))
}

// --- Organizer side ---------------------------------------------------------------------------

/// A page of entries for organizers, with the total and the count per problem.
pub struct EntryList {
    pub entries: Vec<EntryRecord>,
    pub total: i64,
    pub per_problem: Vec<(String, i64)>,
}

pub const MAX_PER_PAGE: u32 = 200;

pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    filter: &EntryFilter,
    page: u32,
    per_page: u32,
) -> ServiceResult<EntryList> {
    actor.require(Action::ManageEntries)?;
    if page == 0 {
        return Err(Invalid {
            field: "page",
            problem: Problem::Range(1, i64::from(u32::MAX)),
        }
        .into());
    }
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(Invalid {
            field: "per_page",
            problem: Problem::Range(1, i64::from(MAX_PER_PAGE)),
        }
        .into());
    }
    let pool = ctx.store.pool();
    let offset = i64::from(page - 1) * i64::from(per_page);
    let (entries, total) = db::list_entries(pool, filter, i64::from(per_page), offset).await?;
    let entries = entries.into_iter().map(as_submitted).collect();
    let per_problem = db::counts_per_problem(pool, filter).await?;
    Ok(EntryList {
        entries,
        total,
        per_problem,
    })
}

/// Every matching entry as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the
/// Vietnamese text correctly). Cells that a spreadsheet would run as a formula are prefixed
/// with an apostrophe.
pub async fn export_csv(ctx: &Ctx, actor: &Actor, filter: &EntryFilter) -> ServiceResult<String> {
    actor.require(Action::ManageEntries)?;
    let entries: Vec<EntryRecord> = db::all_entries(ctx.store.pool(), filter)
        .await?
        .into_iter()
        .map(as_submitted)
        .collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "entry_id",
        "problem_code",
        "field",
        "team_id",
        "team",
        "status",
        "version",
        "late",
        "submitted_at_utc",
        "submitted_at_ict",
        "title",
        "summary",
        "maturity",
        "deployed_where",
        "technologies",
        "experience",
        "demo_url",
        "video_url",
        "prize",
        "status_reason",
    ];
    let csv_err = |e: csv::Error| ServiceError::Internal(format!("csv: {e}"));
    w.write_record(header).map_err(csv_err)?;
    for e in &entries {
        let t = &e.text;
        let row = [
            e.id.clone(),
            e.problem_code.clone(),
            e.problem_field.clone(),
            e.team_id.clone(),
            e.team_name.clone(),
            e.status.code().to_owned(),
            e.version.to_string(),
            if e.late { "yes" } else { "no" }.to_owned(),
            e.submitted_at
                .map(|m| Millis(m).rfc3339_utc())
                .unwrap_or_default(),
            e.submitted_at
                .map(|m| Millis(m).display_ict())
                .unwrap_or_default(),
            t.title.clone(),
            t.summary.clone(),
            t.maturity.map(|m| m.code()).unwrap_or("").to_owned(),
            t.deployed_where.clone(),
            t.technologies.clone(),
            t.experience.clone(),
            t.demo_url.clone(),
            t.video_url.clone(),
            e.prize.clone().unwrap_or_default(),
            e.status_reason.clone().unwrap_or_default(),
        ];
        w.write_record(row.iter().map(|c| defuse_formula(c)))
            .map_err(csv_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ServiceError::Internal(format!("csv: {e}")))?;
    let mut out = String::with_capacity(bytes.len() + 3);
    out.push('\u{FEFF}');
    out.push_str(&String::from_utf8_lossy(&bytes));
    Ok(out)
}

fn defuse_formula(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        let mut s = String::with_capacity(cell.len() + 1);
        let _ = write!(s, "'{cell}");
        s
    } else {
        cell.to_owned()
    }
}

/// One organizer status change.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub entry_id: String,
    pub to: EntryStatus,
    pub reason: Option<String>,
    pub prize: Option<String>,
}

/// Applies one change inside `tx`.
async fn change_in(
    ctx: &Ctx,
    tx: &mut Tx,
    actor: &Actor,
    c: &StatusChange,
    now: i64,
) -> ServiceResult<()> {
    let entry = db::lock_entry(&mut **tx, ctx.store.backend(), &c.entry_id)
        .await?
        .ok_or(ServiceError::NotFound("entry"))?;
    let reason = c
        .reason
        .as_deref()
        .map(text::clean)
        .filter(|r| !r.is_empty());
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_REASON)
    {
        return Err(Invalid {
            field: "reason",
            problem: Problem::TooLong(MAX_REASON),
        }
        .into());
    }
    let prize = check_prize(c.to, c.prize.as_deref())?;
    transition(
        entry.status,
        c.to,
        Mover::Organizer,
        true,
        reason.as_deref(),
    )
    .map_err(|e| transition_error(e, entry.status, c.to))?;
    apply_status(
        ctx,
        tx,
        actor,
        &entry,
        c.to,
        reason.as_deref(),
        prize.as_deref(),
        now,
    )
    .await
}

/// An organizer moves one entry.
pub async fn change_status(
    ctx: &Ctx,
    actor: &Actor,
    change: &StatusChange,
) -> ServiceResult<EntryView> {
    actor.require(Action::ManageEntries)?;
    let mut tx = ctx.store.begin_write().await?;
    change_in(ctx, &mut tx, actor, change, now_ms()).await?;
    tx.commit().await?;
    ctx.mail_committed();
    let entry = db::entry_by_id(ctx.store.pool(), &change.entry_id)
        .await?
        .ok_or(ServiceError::NotFound("entry"))?;
    view(ctx, entry, Access::Organizer).await
}

/// Most changes in one bulk request.
pub const MAX_BULK: usize = 1000;

/// An organizer moves many entries in one transaction: all or nothing. A refusal names the
/// change and its entry.
pub async fn change_statuses(
    ctx: &Ctx,
    actor: &Actor,
    changes: &[StatusChange],
) -> ServiceResult<usize> {
    actor.require(Action::ManageEntries)?;
    if changes.is_empty() || changes.len() > MAX_BULK {
        return Err(Invalid {
            field: "changes",
            problem: Problem::Range(1, MAX_BULK as i64),
        }
        .into());
    }
    let mut seen = std::collections::HashSet::new();
    for (index, c) in changes.iter().enumerate() {
        if !seen.insert(c.entry_id.as_str()) {
            return Err(ServiceError::InEntry {
                index,
                entry_id: c.entry_id.clone(),
                cause: Box::new(
                    Invalid {
                        field: "entry_id",
                        problem: Problem::Duplicate,
                    }
                    .into(),
                ),
            });
        }
    }
    let now = now_ms();
    let mut tx = ctx.store.begin_write().await?;
    // Lock rows in one order (by entry id), whatever the request's order, so that two bulk
    // changes over the same entries cannot deadlock.
    let mut order: Vec<(usize, &StatusChange)> = changes.iter().enumerate().collect();
    order.sort_by(|a, b| a.1.entry_id.cmp(&b.1.entry_id));
    for (index, c) in order {
        if let Err(cause) = change_in(ctx, &mut tx, actor, c, now).await {
            return Err(match cause {
                e @ (ServiceError::Store(_) | ServiceError::Internal(_)) => e,
                cause => ServiceError::InEntry {
                    index,
                    entry_id: c.entry_id.clone(),
                    cause: Box::new(cause),
                },
            });
        }
    }
    tx.commit().await?;
    ctx.mail_committed();
    Ok(changes.len())
}
