//! The contest timeline and per-team extensions.
//!
//! The config's `[timeline]` applies until an organizer saves one; the saved one then wins (so
//! every server instance agrees). Every change is audited. The server's clock decides.

use serde_json::json;

use super::{Actor, Ctx, ServiceError, ServiceResult, audit, now_ms};
use crate::domain::account::{Invalid, Problem};
use crate::domain::authz::Action;
use crate::domain::text;
use crate::domain::timeline::{SubmitWindow, Timeline};
use crate::store::entries::{self as db, ExtensionRecord};
use crate::store::teams as tdb;

/// The timeline in force, with where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineView {
    pub timeline: Timeline,
    /// Organizers saved it (otherwise it is the config's).
    pub saved: bool,
    /// The server's clock when it was read.
    pub now: i64,
}

/// The timeline in force.
pub async fn current(ctx: &Ctx) -> ServiceResult<TimelineView> {
    let mut conn = ctx.store.pool().acquire().await?;
    current_in(ctx, &mut conn).await
}

/// The timeline in force, read on `conn` (inside a transaction, pass the transaction: taking a
/// second pooled connection while holding SQLite's write lock can starve the pool).
pub async fn current_in(ctx: &Ctx, conn: &mut sqlx::AnyConnection) -> ServiceResult<TimelineView> {
    let now = now_ms();
    if let Some(t) = db::stored_timeline(&mut *conn).await? {
        return Ok(TimelineView {
            timeline: t,
            saved: true,
            now,
        });
    }
    let timeline = ctx
        .config
        .timeline
        .timeline()
        .map_err(|e| ServiceError::Internal(format!("configured timeline: {e}")))?;
    Ok(TimelineView {
        timeline,
        saved: false,
        now,
    })
}

/// What an organizer sends: instants in milliseconds UTC.
#[derive(Debug, Clone, Copy)]
pub struct TimelineInput {
    pub registration_opens: i64,
    pub registration_closes: i64,
    pub submission_opens: i64,
    pub submission_deadline: i64,
    pub grace_minutes: i64,
}

/// An organizer replaces the timeline.
pub async fn set(ctx: &Ctx, actor: &Actor, input: TimelineInput) -> ServiceResult<TimelineView> {
    actor.require(Action::ManageEntries)?;
    let t = Timeline::new(
        input.registration_opens,
        input.registration_closes,
        input.submission_opens,
        input.submission_deadline,
        input.grace_minutes.saturating_mul(60_000),
    )?;
    let before = current(ctx).await?;
    let now = now_ms();
    let mut tx = ctx.store.begin_write().await?;
    db::save_timeline(&mut *tx, &t, now, &actor.user.id).await?;
    audit(
        &mut tx,
        Some(&actor.user.id),
        actor.ip.as_deref(),
        "timeline.set",
        "timeline",
        "1",
        Some(json!(before.timeline)),
        Some(json!(t)),
    )
    .await?;
    tx.commit().await?;
    Ok(TimelineView {
        timeline: t,
        saved: true,
        now,
    })
}

/// A team's deadline and where it stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeamClock {
    pub timeline: Timeline,
    pub extension: Option<i64>,
    pub now: i64,
}

impl TeamClock {
    pub fn window(&self) -> SubmitWindow {
        self.timeline.window(self.now, self.extension)
    }
    pub fn deadline(&self) -> i64 {
        self.timeline.deadline_for(self.extension)
    }
    pub fn closes_at(&self) -> i64 {
        self.timeline.closes_for(self.extension)
    }
    pub fn drafts_open(&self) -> bool {
        self.timeline.drafts_open(self.now, self.extension)
    }
}

/// The clock for one team, read on `conn` (a pooled connection, or the transaction's).
pub async fn team_clock(
    ctx: &Ctx,
    conn: &mut sqlx::AnyConnection,
    team_id: &str,
) -> ServiceResult<TeamClock> {
    let extension = db::extension_for(&mut *conn, team_id)
        .await?
        .map(|x| x.deadline_at);
    let view = current_in(ctx, conn).await?;
    Ok(TeamClock {
        timeline: view.timeline,
        extension,
        // Read after the database, so the decision uses the latest instant.
        now: now_ms(),
    })
}

/// An organizer gives one team a later deadline (replacing an earlier extension).
pub async fn grant_extension(
    ctx: &Ctx,
    actor: &Actor,
    team_id: &str,
    deadline_at: i64,
    reason: &str,
) -> ServiceResult<ExtensionRecord> {
    actor.require(Action::ManageEntries)?;
    let reason = text::clean(reason);
    if reason.is_empty() {
        return Err(Invalid {
            field: "reason",
            problem: Problem::Required,
        }
        .into());
    }
    if reason.chars().count() > 500 {
        return Err(Invalid {
            field: "reason",
            problem: Problem::TooLong(500),
        }
        .into());
    }
    let t = current(ctx).await?.timeline;
    if deadline_at <= t.submission_deadline() {
        return Err(Invalid {
            field: "deadline",
            problem: Problem::After("submission_deadline"),
        }
        .into());
    }
    let now = now_ms();
    let mut tx = ctx.store.begin_write().await?;
    let team = tdb::team_by_id(&mut *tx, team_id)
        .await?
        .ok_or(ServiceError::NotFound("team"))?;
    let before = db::extension_for(&mut *tx, &team.id).await?;
    db::save_extension(
        &mut *tx,
        &team.id,
        deadline_at,
        &reason,
        &actor.user.id,
        now,
    )
    .await?;
    audit(
        &mut tx,
        Some(&actor.user.id),
        actor.ip.as_deref(),
        "team.extension.grant",
        "team",
        &team.id,
        before.map(|b| json!({ "deadline_at": b.deadline_at, "reason": b.reason })),
        Some(json!({ "deadline_at": deadline_at, "reason": reason })),
    )
    .await?;
    let record = db::extension_for(&mut *tx, &team.id)
        .await?
        .ok_or(ServiceError::NotFound("extension"))?;
    tx.commit().await?;
    Ok(record)
}

/// An organizer takes an extension back.
pub async fn revoke_extension(ctx: &Ctx, actor: &Actor, team_id: &str) -> ServiceResult<()> {
    actor.require(Action::ManageEntries)?;
    let mut tx = ctx.store.begin_write().await?;
    let before = db::extension_for(&mut *tx, team_id)
        .await?
        .ok_or(ServiceError::NotFound("extension"))?;
    db::delete_extension(&mut *tx, team_id).await?;
    audit(
        &mut tx,
        Some(&actor.user.id),
        actor.ip.as_deref(),
        "team.extension.revoke",
        "team",
        team_id,
        Some(json!({ "deadline_at": before.deadline_at, "reason": before.reason })),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn extensions(ctx: &Ctx, actor: &Actor) -> ServiceResult<Vec<ExtensionRecord>> {
    actor.require(Action::ManageEntries)?;
    Ok(db::list_extensions(ctx.store.pool()).await?)
}
