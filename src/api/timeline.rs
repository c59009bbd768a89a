//! `/timeline` and team extensions: the contest's dates (public), changed by organizers, and a
//! later deadline for one team.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::auth::SessionAuth;
use super::error::ApiError;
use crate::domain::account::{Invalid, Problem};
use crate::domain::time::Millis;
use crate::i18n::Lang;
use crate::service::timeline::{self, TimelineInput, TimelineView};
use crate::service::{Ctx, ServiceError};
use crate::store::entries::ExtensionRecord;

/// The contest's timeline. Times are RFC 3339 in UTC; pages show them in Asia/Ho_Chi_Minh.
#[derive(Debug, Object)]
pub struct TimelineBody {
    pub registration_opens: String,
    pub registration_closes: String,
    pub submission_opens: String,
    /// Submits up to this instant are on time.
    pub submission_deadline: String,
    /// Minutes after the deadline during which submits are accepted and flagged late.
    pub grace_minutes: i64,
    /// The server's clock, which decides.
    pub server_time: String,
    /// Organizers saved this timeline (otherwise it comes from the configuration).
    pub saved: bool,
    /// `not_open`, `open`, `grace` or `closed`, for a team without an extension.
    pub submissions: String,
    /// Whether new teams may be created now.
    pub registration_open: bool,
}

impl From<TimelineView> for TimelineBody {
    fn from(v: TimelineView) -> Self {
        let t = v.timeline;
        let window = t.window(v.now, None);
        TimelineBody {
            registration_opens: Millis(t.registration_opens()).rfc3339_utc(),
            registration_closes: Millis(t.registration_closes()).rfc3339_utc(),
            submission_opens: Millis(t.submission_opens()).rfc3339_utc(),
            submission_deadline: Millis(t.submission_deadline()).rfc3339_utc(),
            grace_minutes: t.grace_ms() / 60_000,
            server_time: Millis(v.now).rfc3339_utc(),
            saved: v.saved,
            submissions: serde_json::to_value(window)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            registration_open: t.registration_open(v.now),
        }
    }
}

/// A new timeline: RFC 3339 times with an offset (`2027-03-31T17:00:00+07:00`).
#[derive(Debug, Object)]
pub struct SetTimelineRequest {
    pub registration_opens: String,
    pub registration_closes: String,
    pub submission_opens: String,
    pub submission_deadline: String,
    /// 0–1440.
    #[oai(default)]
    pub grace_minutes: i64,
}

#[derive(Debug, Object)]
pub struct ExtensionRequest {
    /// The team's new deadline, RFC 3339; after the contest's deadline.
    pub deadline: String,
    /// Why (kept in the audit log).
    pub reason: String,
}

#[derive(Debug, Object)]
pub struct Extension {
    pub team_id: String,
    pub team_name: String,
    /// RFC 3339 UTC.
    pub deadline: String,
    pub reason: String,
    pub granted_by: String,
    /// RFC 3339 UTC.
    pub granted_at: String,
}

impl From<ExtensionRecord> for Extension {
    fn from(x: ExtensionRecord) -> Self {
        Extension {
            team_id: x.team_id,
            team_name: x.team_name,
            deadline: Millis(x.deadline_at).rfc3339_utc(),
            reason: x.reason,
            granted_by: x.granted_by,
            granted_at: Millis(x.granted_at).rfc3339_utc(),
        }
    }
}

#[derive(ApiResponse)]
pub enum Revoked {
    /// The team is back on the contest's deadline.
    #[oai(status = 204)]
    Done,
}

type R<T> = Result<T, ApiError>;

fn fail(lang: Lang) -> impl Fn(ServiceError) -> ApiError {
    move |e| ApiError::from_service(e, lang)
}

/// Parses an RFC 3339 field, naming it when it is malformed.
pub fn instant(field: &'static str, s: &str) -> Result<i64, ServiceError> {
    Millis::parse_rfc3339(s).map(|m| m.0).ok_or_else(|| {
        Invalid {
            field,
            problem: Problem::BadTime,
        }
        .into()
    })
}

pub struct TimelineApi;

#[OpenApi(tag = "ApiTags::Entries")]
impl TimelineApi {
    /// The timeline
    ///
    /// Registration, submission opening, the deadline, the grace period, and the server's time.
    #[oai(path = "/timeline", method = "get", operation_id = "getTimeline")]
    async fn get(&self, req: &Request, ctx: Data<&Ctx>) -> R<Json<TimelineBody>> {
        let lang = Lang::detect(req);
        let v = timeline::current(&ctx).await.map_err(fail(lang))?;
        Ok(Json(v.into()))
    }

    /// Change the timeline
    ///
    /// Organizers only. Once saved, it wins over the configuration's `[timeline]`.
    #[oai(path = "/timeline", method = "put", operation_id = "setTimeline")]
    async fn set(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        body: Json<SetTimelineRequest>,
    ) -> R<Json<TimelineBody>> {
        let lang = Lang::detect(req);
        auth.0
            .require(crate::domain::authz::Action::ManageEntries)
            .map_err(fail(lang))?;
        let b = body.0;
        let mut errors = Vec::new();
        let mut get = |field, s: &str| match instant(field, s) {
            Ok(v) => v,
            Err(ServiceError::Invalid(list)) => {
                errors.extend(list);
                0
            }
            Err(_) => 0,
        };
        let input = TimelineInput {
            registration_opens: get("registration_opens", &b.registration_opens),
            registration_closes: get("registration_closes", &b.registration_closes),
            submission_opens: get("submission_opens", &b.submission_opens),
            submission_deadline: get("submission_deadline", &b.submission_deadline),
            grace_minutes: b.grace_minutes,
        };
        if !errors.is_empty() {
            return Err(ApiError::from_service(ServiceError::Invalid(errors), lang));
        }
        let v = timeline::set(&ctx, &auth.0, input)
            .await
            .map_err(fail(lang))?;
        Ok(Json(v.into()))
    }

    /// Extensions
    ///
    /// Every team with a later deadline (organizers).
    #[oai(path = "/extensions", method = "get", operation_id = "listExtensions")]
    async fn list(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
    ) -> R<Json<Vec<Extension>>> {
        let lang = Lang::detect(req);
        let list = timeline::extensions(&ctx, &auth.0)
            .await
            .map_err(fail(lang))?;
        Ok(Json(list.into_iter().map(Extension::from).collect()))
    }

    /// Give a team an extension
    ///
    /// A later deadline for one team (organizers); replaces an earlier extension. The grace
    /// period applies after it.
    #[oai(
        path = "/teams/:id/extension",
        method = "put",
        operation_id = "grantExtension"
    )]
    async fn grant(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        id: Path<String>,
        body: Json<ExtensionRequest>,
    ) -> R<Json<Extension>> {
        let lang = Lang::detect(req);
        auth.0
            .require(crate::domain::authz::Action::ManageEntries)
            .map_err(fail(lang))?;
        let deadline = instant("deadline", &body.0.deadline).map_err(fail(lang))?;
        let x = timeline::grant_extension(&ctx, &auth.0, &id, deadline, &body.0.reason)
            .await
            .map_err(fail(lang))?;
        Ok(Json(x.into()))
    }

    /// Take an extension back
    #[oai(
        path = "/teams/:id/extension",
        method = "delete",
        operation_id = "revokeExtension"
    )]
    async fn revoke(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        id: Path<String>,
    ) -> R<Revoked> {
        let lang = Lang::detect(req);
        timeline::revoke_extension(&ctx, &auth.0, &id)
            .await
            .map_err(fail(lang))?;
        Ok(Revoked::Done)
    }
}
