//! `/entries`: a team's entries (drafts, attachments, submits with receipts, withdrawals) and the
//! organizers' list, export and status changes.

use futures_util::TryStreamExt;
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Binary, Json, PlainText};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::ApiTags;
use super::auth::SessionAuth;
use super::error::ApiError;
use super::types::FieldCode;
use crate::domain::account::{Invalid, Problem};
use crate::domain::attachment::content_disposition;
use crate::domain::entry::EntryStatus;
use crate::domain::submission::{EntryInput, Maturity};
use crate::domain::time::Millis;
use crate::i18n::Lang;
use crate::service::entries::{self, Access, EntryView, Receipt, StatusChange};
use crate::service::timeline::TeamClock;
use crate::service::{Ctx, ServiceError};
use crate::store::entries::{AttachmentRecord, EntryFilter, EntryRecord};

/// An entry's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum StatusCode {
    Draft,
    Submitted,
    Withdrawn,
    UnderReview,
    Shortlisted,
    NotAdvanced,
    Finalist,
    Awarded,
    NotAwarded,
    Disqualified,
}

impl From<EntryStatus> for StatusCode {
    fn from(s: EntryStatus) -> Self {
        match s {
            EntryStatus::Draft => StatusCode::Draft,
            EntryStatus::Submitted => StatusCode::Submitted,
            EntryStatus::Withdrawn => StatusCode::Withdrawn,
            EntryStatus::UnderReview => StatusCode::UnderReview,
            EntryStatus::Shortlisted => StatusCode::Shortlisted,
            EntryStatus::NotAdvanced => StatusCode::NotAdvanced,
            EntryStatus::Finalist => StatusCode::Finalist,
            EntryStatus::Awarded => StatusCode::Awarded,
            EntryStatus::NotAwarded => StatusCode::NotAwarded,
            EntryStatus::Disqualified => StatusCode::Disqualified,
        }
    }
}

impl From<StatusCode> for EntryStatus {
    fn from(s: StatusCode) -> Self {
        match s {
            StatusCode::Draft => EntryStatus::Draft,
            StatusCode::Submitted => EntryStatus::Submitted,
            StatusCode::Withdrawn => EntryStatus::Withdrawn,
            StatusCode::UnderReview => EntryStatus::UnderReview,
            StatusCode::Shortlisted => EntryStatus::Shortlisted,
            StatusCode::NotAdvanced => EntryStatus::NotAdvanced,
            StatusCode::Finalist => EntryStatus::Finalist,
            StatusCode::Awarded => EntryStatus::Awarded,
            StatusCode::NotAwarded => EntryStatus::NotAwarded,
            StatusCode::Disqualified => EntryStatus::Disqualified,
        }
    }
}

/// An entry's text, as a team writes it. Only `title` is needed for a draft; a submit also needs
/// `summary`, `description` and `maturity` (and `deployed_where` for a pilot or a deployed
/// solution).
#[derive(Debug, Object)]
pub struct EntryFields {
    /// Up to 200 characters.
    #[oai(default)]
    pub title: String,
    /// Up to 1,000 characters.
    #[oai(default)]
    pub summary: String,
    /// Markdown, up to 50,000 characters; rendered safely.
    #[oai(default)]
    pub description: String,
    /// `idea`, `prototype`, `pilot` or `deployed`; empty while undecided.
    #[oai(default)]
    pub maturity: String,
    /// Where it runs, for a pilot or a deployed solution. Up to 500 characters.
    #[oai(default)]
    pub deployed_where: String,
    /// Up to 500 characters.
    #[oai(default)]
    pub technologies: String,
    /// The team's relevant experience. Up to 5,000 characters.
    #[oai(default)]
    pub experience: String,
    /// An http(s) address.
    #[oai(default)]
    pub demo_url: String,
    /// An http(s) address.
    #[oai(default)]
    pub video_url: String,
}

impl From<EntryFields> for EntryInput {
    fn from(f: EntryFields) -> Self {
        EntryInput {
            title: f.title,
            summary: f.summary,
            description: f.description,
            maturity: f.maturity,
            deployed_where: f.deployed_where,
            technologies: f.technologies,
            experience: f.experience,
            demo_url: f.demo_url,
            video_url: f.video_url,
        }
    }
}

#[derive(Debug, Object)]
pub struct CreateEntryRequest {
    /// The problem's code, e.g. `BT-01`.
    #[oai(default)]
    pub problem_code: String,
    #[oai(flatten)]
    pub fields: EntryFields,
}

/// An attachment of an entry.
#[derive(Debug, Object)]
pub struct Attachment {
    pub id: String,
    /// The file name as shown (NFC).
    pub name: String,
    /// `pdf`, `docx`, `pptx`, `xlsx`, `zip`, `mp4`, `png` or `jpg`.
    pub kind: String,
    pub size: i64,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
    /// RFC 3339 UTC.
    pub uploaded_at: String,
    /// Where to download it (with the same credentials).
    pub download: String,
}

impl From<&AttachmentRecord> for Attachment {
    fn from(a: &AttachmentRecord) -> Self {
        Attachment {
            download: format!(
                "{}/entries/{}/attachments/{}",
                super::BASE,
                a.entry_id,
                a.id
            ),
            id: a.id.clone(),
            name: a.file_name.clone(),
            kind: a.kind.code().to_owned(),
            size: a.size,
            sha256: a.sha256.clone(),
            uploaded_at: Millis(a.uploaded_at).rfc3339_utc(),
        }
    }
}

/// A file as listed by a receipt.
#[derive(Debug, Object)]
pub struct ReceiptFile {
    pub name: String,
    pub size: i64,
    pub sha256: String,
}

/// The proof of a submit.
#[derive(Debug, Object)]
pub struct ReceiptBody {
    pub entry_id: String,
    pub team_id: String,
    pub team_name: String,
    pub problem_code: String,
    pub title: String,
    /// 1 for the first submit, then 2, 3…
    pub version: i64,
    /// The server's time of the submit, RFC 3339 UTC.
    pub submitted_at: String,
    /// The same instant in Vietnam.
    pub submitted_at_local: String,
    pub submitted_by: String,
    /// Submitted in the grace period after the deadline.
    pub late: bool,
    /// SHA-256 over the canonical content and the attachments' hashes (see the docs of
    /// `domain::submission`).
    pub content_sha256: String,
    pub attachments: Vec<ReceiptFile>,
    /// This answers a retried request with the same Idempotency-Key; nothing new was made.
    pub replayed: bool,
}

impl From<Receipt> for ReceiptBody {
    fn from(r: Receipt) -> Self {
        ReceiptBody {
            entry_id: r.entry_id,
            team_id: r.team_id,
            team_name: r.team_name,
            problem_code: r.problem_code,
            title: r.title,
            version: r.version,
            submitted_at: Millis(r.submitted_at).rfc3339_utc(),
            submitted_at_local: Millis(r.submitted_at).display_ict(),
            submitted_by: r.submitted_by,
            late: r.late,
            content_sha256: r.content_sha256,
            attachments: r
                .attachments
                .into_iter()
                .map(|a| ReceiptFile {
                    name: a.name,
                    size: a.size,
                    sha256: a.sha256,
                })
                .collect(),
            replayed: r.replayed,
        }
    }
}

/// A submitted version.
#[derive(Debug, Object)]
pub struct Version {
    pub version: i64,
    pub submitted_at: String,
    pub submitted_by: String,
    pub late: bool,
    pub content_sha256: String,
}

/// A status change.
#[derive(Debug, Object)]
pub struct StatusEvent {
    pub at: String,
    pub from: StatusCode,
    pub to: StatusCode,
    #[oai(skip_serializing_if_is_none)]
    pub reason: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub prize: Option<String>,
}

/// The team's clock for this entry.
#[derive(Debug, Object)]
pub struct Clock {
    /// The team's deadline (the contest's, or its extension), RFC 3339 UTC.
    pub deadline: String,
    /// The last instant anything is accepted (deadline plus grace), RFC 3339 UTC.
    pub closes_at: String,
    pub server_time: String,
    /// `not_open`, `open`, `grace` or `closed`.
    pub submissions: String,
    /// Milliseconds until the deadline (negative after it).
    pub remaining_ms: i64,
}

impl From<&TeamClock> for Clock {
    fn from(c: &TeamClock) -> Self {
        Clock {
            deadline: Millis(c.deadline()).rfc3339_utc(),
            closes_at: Millis(c.closes_at()).rfc3339_utc(),
            server_time: Millis(c.now).rfc3339_utc(),
            submissions: serde_json::to_value(c.window())
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            remaining_ms: c.deadline() - c.now,
        }
    }
}

/// An entry in a list.
#[derive(Debug, Object)]
pub struct EntrySummary {
    pub id: String,
    pub team_id: String,
    pub team_name: String,
    pub problem_code: String,
    pub field: String,
    pub status: StatusCode,
    /// The status's name in the caller's language.
    pub status_name: String,
    pub title: String,
    /// The last submitted version; 0 when never submitted.
    pub version: i64,
    pub late: bool,
    /// The draft has changes that are not submitted yet.
    pub changed_since_submit: bool,
    #[oai(skip_serializing_if_is_none)]
    pub submitted_at: Option<String>,
    pub updated_at: String,
    #[oai(skip_serializing_if_is_none)]
    pub prize: Option<String>,
}

impl EntrySummary {
    fn new(e: &EntryRecord, lang: Lang) -> EntrySummary {
        EntrySummary {
            id: e.id.clone(),
            team_id: e.team_id.clone(),
            team_name: e.team_name.clone(),
            problem_code: e.problem_code.clone(),
            field: e.problem_field.clone(),
            status: e.status.into(),
            status_name: lang.pick(e.status.name_vi(), e.status.name_en()).to_owned(),
            title: e.text.title.clone(),
            version: e.version,
            late: e.late,
            changed_since_submit: e.changed_since_submit,
            submitted_at: e.submitted_at.map(|m| Millis(m).rfc3339_utc()),
            updated_at: Millis(e.updated_at).rfc3339_utc(),
            prize: e.prize.clone(),
        }
    }
}

/// An entry in full.
#[derive(Debug, Object)]
pub struct Entry {
    #[oai(flatten)]
    pub summary: EntrySummary,
    pub fields: EntryOut,
    #[oai(skip_serializing_if_is_none)]
    pub status_reason: Option<String>,
    pub attachments: Vec<Attachment>,
    /// Newest first.
    pub versions: Vec<Version>,
    /// Oldest first.
    pub history: Vec<StatusEvent>,
    pub clock: Clock,
    /// What the caller may do now (always false for organizers, who use `/status`).
    pub may_edit: bool,
    pub may_submit: bool,
    pub may_withdraw: bool,
    pub may_delete: bool,
}

/// The entry's text as stored.
#[derive(Debug, Object)]
pub struct EntryOut {
    pub title: String,
    pub summary: String,
    pub description: String,
    #[oai(skip_serializing_if_is_none)]
    pub maturity: Option<String>,
    pub deployed_where: String,
    pub technologies: String,
    pub experience: String,
    pub demo_url: String,
    pub video_url: String,
}

impl Entry {
    fn new(v: EntryView, lang: Lang) -> Entry {
        let t = &v.entry.text;
        Entry {
            summary: EntrySummary::new(&v.entry, lang),
            fields: EntryOut {
                title: t.title.clone(),
                summary: t.summary.clone(),
                description: t.description.clone(),
                maturity: t.maturity.map(|m: Maturity| m.code().to_owned()),
                deployed_where: t.deployed_where.clone(),
                technologies: t.technologies.clone(),
                experience: t.experience.clone(),
                demo_url: t.demo_url.clone(),
                video_url: t.video_url.clone(),
            },
            status_reason: v.entry.status_reason.clone(),
            attachments: v.attachments.iter().map(Attachment::from).collect(),
            versions: v
                .versions
                .iter()
                .map(|x| Version {
                    version: x.version,
                    submitted_at: Millis(x.submitted_at).rfc3339_utc(),
                    submitted_by: x.submitted_by.clone(),
                    late: x.late,
                    content_sha256: x.content_sha256.clone(),
                })
                .collect(),
            history: v
                .events
                .iter()
                .map(|e| StatusEvent {
                    at: Millis(e.at).rfc3339_utc(),
                    from: e.from_status.into(),
                    to: e.to_status.into(),
                    reason: e.reason.clone(),
                    prize: e.prize.clone(),
                })
                .collect(),
            clock: Clock::from(&v.clock),
            may_edit: v.may_edit,
            may_submit: v.may_submit,
            may_withdraw: v.may_withdraw,
            may_delete: v.may_delete,
        }
    }
}

/// The caller's team's entries.
#[derive(Debug, Object)]
pub struct MyEntries {
    pub items: Vec<EntrySummary>,
    pub clock: Clock,
    /// How many problems a team may enter.
    pub max_entries: u32,
}

/// Entries per problem.
#[derive(Debug, Object)]
pub struct ProblemCount {
    pub problem_code: String,
    pub entries: i64,
}

/// One page of entries for organizers.
#[derive(Debug, Object)]
pub struct EntryPage {
    pub items: Vec<EntrySummary>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
    /// Matching entries per problem (all pages).
    pub per_problem: Vec<ProblemCount>,
}

#[derive(Debug, Object)]
pub struct StatusChangeRequest {
    pub to: StatusCode,
    /// Required to disqualify; kept and mailed to the team.
    pub reason: Option<String>,
    /// Required to award.
    pub prize: Option<String>,
}

#[derive(Debug, Object)]
pub struct BulkChange {
    pub entry_id: String,
    pub to: StatusCode,
    pub reason: Option<String>,
    pub prize: Option<String>,
}

#[derive(Debug, Object)]
pub struct BulkRequest {
    /// Up to 1,000 changes, each entry at most once. All are applied or none.
    pub changes: Vec<BulkChange>,
}

#[derive(Debug, Object)]
pub struct BulkResult {
    pub changed: u32,
}

#[derive(ApiResponse)]
#[allow(clippy::large_enum_variant)]
pub enum CreatedEntry {
    /// The draft is created.
    #[oai(status = 201)]
    Created(Json<Entry>),
}

#[derive(ApiResponse)]
pub enum Uploaded {
    /// The file is stored.
    #[oai(status = 201)]
    Created(Json<Attachment>),
}

#[derive(ApiResponse)]
pub enum Submitted {
    /// A new version is frozen; the receipt is mailed to every member.
    #[oai(status = 201)]
    Created(Json<ReceiptBody>),
    /// A retry with an Idempotency-Key already used: the first receipt, nothing new.
    #[oai(status = 200)]
    Replayed(Json<ReceiptBody>),
}

#[derive(ApiResponse)]
pub enum Deleted {
    #[oai(status = 204)]
    Done,
}

#[derive(ApiResponse)]
pub enum Download {
    /// The file, streamed.
    #[oai(status = 200)]
    File(
        Binary<poem::Body>,
        #[oai(header = "Content-Type")] String,
        #[oai(header = "Content-Disposition")] String,
        #[oai(header = "X-Content-Type-Options")] String,
        #[oai(header = "Digest")] String,
    ),
}

#[derive(ApiResponse)]
pub enum Csv {
    /// UTF-8 CSV with a byte-order mark.
    #[oai(status = 200)]
    File(
        PlainText<String>,
        #[oai(header = "Content-Type")] String,
        #[oai(header = "Content-Disposition")] String,
    ),
}

type R<T> = Result<T, ApiError>;

fn fail(lang: Lang) -> impl Fn(ServiceError) -> ApiError {
    move |e| ApiError::from_service(e, lang)
}

fn filter(
    problem: Option<String>,
    field: Option<FieldCode>,
    status: Option<StatusCode>,
    late: Option<bool>,
    drafts: Option<bool>,
) -> EntryFilter {
    EntryFilter {
        problem: problem
            .map(|p| p.trim().to_uppercase())
            .filter(|p| !p.is_empty()),
        field: field.and_then(|f| {
            serde_json::to_value(f)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
        }),
        status: status.map(Into::into),
        late,
        submitted_only: !drafts.unwrap_or(false),
    }
}

pub struct EntriesApi;

#[OpenApi(tag = "ApiTags::Entries")]
impl EntriesApi {
    /// My team's entries
    ///
    /// With the team's deadline and the server's time.
    #[oai(path = "/entries/mine", method = "get", operation_id = "myEntries")]
    async fn mine(&self, req: &Request, ctx: Data<&Ctx>, auth: SessionAuth) -> R<Json<MyEntries>> {
        let lang = Lang::detect(req);
        let (list, clock) = entries::my_entries(&ctx, &auth.0)
            .await
            .map_err(fail(lang))?
            .ok_or_else(|| {
                ApiError::from_service(
                    ServiceError::Conflict {
                        code: "no_team",
                        field: None,
                    },
                    lang,
                )
            })?;
        Ok(Json(MyEntries {
            items: list.iter().map(|e| EntrySummary::new(e, lang)).collect(),
            clock: Clock::from(&clock),
            max_entries: ctx.config.entries.max_problems_per_team,
        }))
    }

    /// Enter a problem
    ///
    /// Creates the team's draft entry for a problem: one per problem, at most
    /// `entries.max_problems_per_team` per team.
    #[oai(path = "/entries", method = "post", operation_id = "createEntry")]
    async fn create(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        body: Json<CreateEntryRequest>,
    ) -> R<CreatedEntry> {
        let lang = Lang::detect(req);
        let b = body.0;
        let v = entries::create(&ctx, &auth.0, &b.problem_code, &b.fields.into())
            .await
            .map_err(fail(lang))?;
        Ok(CreatedEntry::Created(Json(Entry::new(v, lang))))
    }

    /// List entries
    ///
    /// Organizers: filter by problem, field, status and lateness, with counts per problem.
    /// Drafts never submitted are left out unless `drafts=true`.
    #[oai(path = "/entries", method = "get", operation_id = "listEntries")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        /// A problem code, e.g. BT-01.
        problem: Query<Option<String>>,
        field: Query<Option<FieldCode>>,
        status: Query<Option<StatusCode>>,
        /// Only late (true) or on-time (false) entries.
        late: Query<Option<bool>>,
        /// Include drafts never submitted.
        drafts: Query<Option<bool>>,
        /// From 1 (default 1).
        page: Query<Option<u32>>,
        /// 1–200 (default 50).
        per_page: Query<Option<u32>>,
    ) -> R<Json<EntryPage>> {
        let lang = Lang::detect(req);
        let f = filter(problem.0, field.0, status.0, late.0, drafts.0);
        let page = page.0.unwrap_or(1);
        let per_page = per_page.0.unwrap_or(50);
        let l = entries::list(&ctx, &auth.0, &f, page, per_page)
            .await
            .map_err(fail(lang))?;
        Ok(Json(EntryPage {
            items: l
                .entries
                .iter()
                .map(|e| EntrySummary::new(e, lang))
                .collect(),
            total: l.total,
            page,
            per_page,
            per_problem: l
                .per_problem
                .into_iter()
                .map(|(problem_code, entries)| ProblemCount {
                    problem_code,
                    entries,
                })
                .collect(),
        }))
    }

    /// Export entries as CSV
    ///
    /// Organizers; the same filters as the list.
    #[oai(
        path = "/entries/export.csv",
        method = "get",
        operation_id = "exportEntries"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn export(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        problem: Query<Option<String>>,
        field: Query<Option<FieldCode>>,
        status: Query<Option<StatusCode>>,
        late: Query<Option<bool>>,
        drafts: Query<Option<bool>>,
    ) -> R<Csv> {
        let lang = Lang::detect(req);
        let f = filter(problem.0, field.0, status.0, late.0, drafts.0);
        let csv = entries::export_csv(&ctx, &auth.0, &f)
            .await
            .map_err(fail(lang))?;
        Ok(Csv::File(
            PlainText(csv),
            "text/csv; charset=utf-8".to_owned(),
            "attachment; filename=\"entries.csv\"".to_owned(),
        ))
    }

    /// Change many statuses
    ///
    /// Organizers; one transaction. A refused change names its entry and nothing is changed.
    /// Every member of each team is mailed.
    #[oai(
        path = "/entries/status-changes",
        method = "post",
        operation_id = "changeStatuses"
    )]
    async fn bulk(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        body: Json<BulkRequest>,
    ) -> R<Json<BulkResult>> {
        let lang = Lang::detect(req);
        let changes: Vec<StatusChange> = body
            .0
            .changes
            .into_iter()
            .map(|c| StatusChange {
                entry_id: c.entry_id,
                to: c.to.into(),
                reason: c.reason,
                prize: c.prize,
            })
            .collect();
        let n = entries::change_statuses(&ctx, &auth.0, &changes)
            .await
            .map_err(fail(lang))?;
        Ok(Json(BulkResult {
            changed: u32::try_from(n).unwrap_or(u32::MAX),
        }))
    }

    /// An entry
    ///
    /// For its team's members and organizers; 404 for anyone else.
    #[oai(path = "/entries/:id", method = "get", operation_id = "getEntry")]
    async fn get(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        id: Path<String>,
    ) -> R<Json<Entry>> {
        let lang = Lang::detect(req);
        let v = entries::entry(&ctx, &auth.0, &id)
            .await
            .map_err(fail(lang))?;
        Ok(Json(Entry::new(v, lang)))
    }

    /// Save the draft
    ///
    /// Replaces the entry's text. Allowed until the team's window closes; a submitted entry
    /// keeps its submitted version until the next submit.
    #[oai(path = "/entries/:id", method = "put", operation_id = "saveEntry")]
    async fn save(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        id: Path<String>,
        body: Json<EntryFields>,
    ) -> R<Json<Entry>> {
        let lang = Lang::detect(req);
        let v = entries::save(&ctx, &auth.0, &id, &body.0.into())
            .await
            .map_err(fail(lang))?;
        Ok(Json(Entry::new(v, lang)))
    }

    /// Delete a draft
    ///
    /// Only a draft never submitted; frees the problem slot.
    #[oai(path = "/entries/:id", method = "delete", operation_id = "deleteEntry")]
    async fn delete(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        id: Path<String>,
    ) -> R<Deleted> {
        let lang = Lang::detect(req);
        entries::delete_draft(&ctx, &auth.0, &id)
            .await
            .map_err(fail(lang))?;
        Ok(Deleted::Done)
    }

    /// Upload an attachment
    ///
    /// The raw file is the body (sent as `application/octet-stream`; any other label is treated
    /// as such); its name is the `name` parameter. Allowed:
    /// PDF, DOCX, PPTX, XLSX, ZIP, MP4, PNG, JPG, checked by content. Limits per file and per
    /// entry come from the configuration (`entries.max_file_mb`, `entries.max_entry_mb`).
    #[oai(
        path = "/entries/:id/attachments",
        method = "post",
        operation_id = "uploadAttachment"
    )]
    async fn upload(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        id: Path<String>,
        /// The file name, with its extension (required).
        name: Query<Option<String>>,
        body: Binary<poem::Body>,
    ) -> R<Uploaded> {
        let lang = Lang::detect(req);
        let declared = req
            .header(poem::http::header::CONTENT_LENGTH)
            .and_then(|v| v.parse::<u64>().ok());
        let mut stream: crate::files::ByteStream<'static> =
            Box::pin(body.0.into_bytes_stream().map_err(std::io::Error::other));
        let result = if declared.is_some_and(|n| n > ctx.config.entries.max_file_bytes()) {
            Err(Invalid {
                field: "file",
                problem: Problem::TooLargeMb(ctx.config.entries.max_file_mb),
            }
            .into())
        } else {
            entries::upload(
                &ctx,
                &auth.0,
                &id,
                name.0.as_deref().unwrap_or(""),
                Box::pin(&mut stream),
            )
            .await
        };
        let a = match result {
            Ok(a) => a,
            Err(e) => {
                crate::files::discard_rest(&mut stream).await;
                return Err(ApiError::from_service(e, lang));
            }
        };
        Ok(Uploaded::Created(Json(Attachment::from(&a))))
    }

    /// Download an attachment
    ///
    /// For the team's members and organizers. Served as a download, never inline.
    #[oai(
        path = "/entries/:id/attachments/:attachment_id",
        method = "get",
        operation_id = "downloadAttachment"
    )]
    async fn download(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        id: Path<String>,
        attachment_id: Path<String>,
    ) -> R<Download> {
        let lang = Lang::detect(req);
        let (a, file) = entries::open_attachment(&ctx, &auth.0, &id, &attachment_id)
            .await
            .map_err(fail(lang))?;
        let digest = hex::decode(&a.sha256)
            .map(|b| {
                use base64::Engine;
                format!(
                    "sha-256={}",
                    base64::engine::general_purpose::STANDARD.encode(b)
                )
            })
            .unwrap_or_default();
        Ok(Download::File(
            Binary(poem::Body::from_async_read(file)),
            a.kind.mime().to_owned(),
            content_disposition(&a.file_name),
            "nosniff".to_owned(),
            digest,
        ))
    }

    /// Remove an attachment
    ///
    /// Takes the file off the draft. A file listed by a submitted version stays with that
    /// version.
    #[oai(
        path = "/entries/:id/attachments/:attachment_id",
        method = "delete",
        operation_id = "removeAttachment"
    )]
    async fn remove(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        id: Path<String>,
        attachment_id: Path<String>,
    ) -> R<Deleted> {
        let lang = Lang::detect(req);
        entries::remove_attachment(&ctx, &auth.0, &id, &attachment_id)
            .await
            .map_err(fail(lang))?;
        Ok(Deleted::Done)
    }

    /// Submit
    ///
    /// Freezes the current draft as a new version and returns its receipt, which is also mailed
    /// to every member. Send an `Idempotency-Key` to make retries safe: a retry with the same
    /// key returns the same receipt (200) and creates no second version.
    #[oai(
        path = "/entries/:id/submit",
        method = "post",
        operation_id = "submitEntry"
    )]
    async fn submit(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        id: Path<String>,
        /// Any unique string per intended submit (1–200 visible ASCII characters).
        #[oai(name = "Idempotency-Key")]
        key: Header<Option<String>>,
    ) -> R<Submitted> {
        let lang = Lang::detect(req);
        let r = entries::submit(&ctx, &auth.0, &id, key.0.as_deref())
            .await
            .map_err(fail(lang))?;
        Ok(if r.replayed {
            Submitted::Replayed(Json(r.into()))
        } else {
            Submitted::Created(Json(r.into()))
        })
    }

    /// Withdraw
    ///
    /// The team takes its submitted entry back, before its deadline. It may submit again while
    /// submits are accepted.
    #[oai(
        path = "/entries/:id/withdraw",
        method = "post",
        operation_id = "withdrawEntry"
    )]
    async fn withdraw(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        id: Path<String>,
    ) -> R<Json<Entry>> {
        let lang = Lang::detect(req);
        let v = entries::withdraw(&ctx, &auth.0, &id)
            .await
            .map_err(fail(lang))?;
        Ok(Json(Entry::new(v, lang)))
    }

    /// A receipt
    #[oai(
        path = "/entries/:id/receipts/:version",
        method = "get",
        operation_id = "getReceipt"
    )]
    async fn receipt(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        id: Path<String>,
        /// 1, 2, 3…
        version: Path<String>,
    ) -> R<Json<ReceiptBody>> {
        let lang = Lang::detect(req);
        let version = version.0.parse::<i64>().map_err(|_| {
            ApiError::from_service(
                Invalid {
                    field: "version",
                    problem: Problem::Range(1, i64::MAX),
                }
                .into(),
                lang,
            )
        })?;
        let r = entries::receipt(&ctx, &auth.0, &id, version)
            .await
            .map_err(fail(lang))?;
        Ok(Json(r.into()))
    }

    /// Change a status
    ///
    /// Organizers, by the status table; disqualifying needs a reason, awarding a prize. Every
    /// member of the team is mailed in their language.
    #[oai(
        path = "/entries/:id/status",
        method = "post",
        operation_id = "changeStatus"
    )]
    async fn status(
        &self,
        req: &Request,
        ctx: Data<&Ctx>,
        auth: SessionAuth,
        id: Path<String>,
        body: Json<StatusChangeRequest>,
    ) -> R<Json<Entry>> {
        let lang = Lang::detect(req);
        let b = body.0;
        let change = StatusChange {
            entry_id: id.0,
            to: b.to.into(),
            reason: b.reason,
            prize: b.prize,
        };
        let v = entries::change_status(&ctx, &auth.0, &change)
            .await
            .map_err(fail(lang))?;
        debug_assert_eq!(v.access, Access::Organizer);
        Ok(Json(Entry::new(v, lang)))
    }
}
