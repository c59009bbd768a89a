//! The team's entry pages: its entries with the team's deadline and a form to enter a problem;
//! one entry (its text, attachments with an upload that shows its progress, versions, status
//! history) with the edit, submit, withdraw and delete actions; the receipt of a submitted
//! version; and attachment downloads (for the team and for organizers).
//!
//! Every rule is the services' (`service::entries`): these handlers read forms, call the same use
//! cases as the API and render what they answer.
//!
//! **Upload.** The page's script sends the file as the raw body of
//! `POST /entries/{id}/attachments?name=…` with `XMLHttpRequest` (so `upload.onprogress` drives a
//! progress bar) and the CSRF token in the `X-CSRF-Token` header; the route streams the body to
//! storage like the API does and answers JSON. Without JavaScript there is no upload from the
//! page (the server has no multipart parser); the page says so.

use std::sync::Arc;

use askama::Template;
use futures_util::TryStreamExt;
use poem::http::{StatusCode, header};
use poem::web::{Data, Json, Path, Query};
use poem::{Body, IntoResponse, Request, Response, handler};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::forms::FormErrors;
use super::pages::{Chrome, ContestNames, urlencode};
use super::session::{NoFields, Posted, csrf_header_matches, current_actor};
use super::teams::Choice;
use super::view::{Page, PageError, render, see_other, service_status};
use crate::domain::account::{Problem, Role};
use crate::domain::attachment::{FileKind, content_disposition};
use crate::domain::authz::Action;
use crate::domain::entry::EntryStatus;
use crate::domain::markdown;
use crate::domain::submission::{EntryInput, EntryText, Maturity};
use crate::domain::time::Millis;
use crate::domain::timeline::SubmitWindow;
use crate::i18n::Lang;
use crate::service::catalog::Catalog;
use crate::service::entries::{self, EntryView};
use crate::service::timeline::TeamClock;
use crate::service::{Actor, Ctx, ServiceError, new_token, teams};
use crate::store::entries::{AttachmentRecord, EntryRecord};

type PageResult = Result<Response, PageError>;

// --- What the entry pages show (shared with the organizers' pages) ----------------------------

/// `còn 3 ngày 4 giờ` / `3 days 4 hours left`: the two largest units of what is left. The page's
/// script counts down with the same wording (`templates/entry_clock.html`).
pub fn remaining_text(ms: i64, lang: Lang) -> String {
    if ms <= 0 {
        return lang
            .pick("đã qua hạn nộp", "the deadline has passed")
            .to_owned();
    }
    let minutes = ms / 60_000;
    let (d, h, m) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    match lang {
        Lang::Vi => {
            let body = if d > 0 {
                format!("{d} ngày {h} giờ")
            } else if h > 0 {
                format!("{h} giờ {m} phút")
            } else if m > 0 {
                format!("{m} phút")
            } else {
                "dưới 1 phút".to_owned()
            };
            format!("còn {body}")
        }
        Lang::En => {
            let unit = |n: i64, w: &str| {
                if n == 1 {
                    format!("1 {w}")
                } else {
                    format!("{n} {w}s")
                }
            };
            let body = if d > 0 {
                format!("{} {}", unit(d, "day"), unit(h, "hour"))
            } else if h > 0 {
                format!("{} {}", unit(h, "hour"), unit(m, "minute"))
            } else if m > 0 {
                unit(m, "minute")
            } else {
                "less than a minute".to_owned()
            };
            format!("{body} left")
        }
    }
}

/// `1,5 MB` (Vietnamese decimal comma) or `1.5 MB`.
pub fn human_size(bytes: i64, lang: Lang) -> String {
    const KB: f64 = 1024.0;
    let b = bytes.max(0) as f64;
    let (value, unit) = if b >= KB * KB {
        (b / (KB * KB), "MB")
    } else if b >= KB {
        (b / KB, "KB")
    } else {
        return format!("{} B", bytes.max(0));
    };
    let s = format!("{value:.1}");
    let s = if lang == Lang::Vi {
        s.replace('.', ",")
    } else {
        s
    };
    format!("{s} {unit}")
}

pub fn status_name(s: EntryStatus, lang: Lang) -> &'static str {
    lang.pick(s.name_vi(), s.name_en())
}

/// The tag colour of a status.
pub fn status_class(s: EntryStatus) -> &'static str {
    match s {
        EntryStatus::Draft | EntryStatus::UnderReview => "queued",
        EntryStatus::Submitted
        | EntryStatus::Shortlisted
        | EntryStatus::Finalist
        | EntryStatus::Awarded => "ok",
        EntryStatus::NotAdvanced | EntryStatus::NotAwarded | EntryStatus::Disqualified => "bad",
        EntryStatus::Withdrawn => "",
    }
}

/// A problem's title in `lang`, from the catalog ("" when it is no longer published).
pub fn problem_title(catalog: &Catalog, code: &str, lang: Lang) -> String {
    catalog
        .snapshot()
        .get(code)
        .map(|e| {
            lang.pick(&e.problem.title_vi, &e.problem.title_en)
                .to_owned()
        })
        .unwrap_or_default()
}

/// The team's deadline and where it stands, as the pages show it.
pub struct ClockBox {
    pub deadline: String,
    pub deadline_utc: String,
    /// The end of the grace period, when there is one.
    pub closes_at: String,
    pub has_grace: bool,
    /// The team has an extension.
    pub extended: bool,
    pub server_time: String,
    pub remaining: String,
    pub remaining_ms: i64,
    /// What the team may do now, in words.
    pub window: String,
    pub window_class: &'static str,
}

pub fn clock_box(c: &TeamClock, lang: Lang) -> ClockBox {
    let closes = Millis(c.closes_at()).display_ict();
    let (window, window_class) = match c.window() {
        SubmitWindow::NotOpen if !c.drafts_open() => (
            lang.pick(
                "Cuộc thi chưa mở: chưa soạn được bài dự thi.",
                "The contest has not opened: entries cannot be written yet.",
            )
            .to_owned(),
            "queued",
        ),
        SubmitWindow::NotOpen => {
            let opens = Millis(c.timeline.submission_opens()).display_ict();
            (
                match lang {
                    Lang::Vi => format!("Đội có thể soạn bản nháp; nộp bài từ {opens}."),
                    Lang::En => format!("You can write drafts; submissions open on {opens}."),
                },
                "queued",
            )
        }
        SubmitWindow::Open => (
            lang.pick("Đang nhận bài.", "Submissions are open.")
                .to_owned(),
            "ok",
        ),
        SubmitWindow::Grace => (
            match lang {
                Lang::Vi => format!(
                    "Đã qua hạn nộp: không chỉnh sửa được nữa. Nộp nội dung đã lưu trước {closes} vẫn được nhận nhưng bị đánh dấu nộp muộn."
                ),
                Lang::En => format!(
                    "The deadline has passed: entries can no longer be edited. Submitting what is saved until {closes} is still accepted but marked late."
                ),
            },
            "queued",
        ),
        SubmitWindow::Closed => (
            lang.pick(
                "Đã hết hạn nộp bài; bài dự thi không thể thay đổi nữa.",
                "Submissions are closed; entries can no longer be changed.",
            )
            .to_owned(),
            "bad",
        ),
    };
    let remaining_ms = c.deadline() - c.now;
    ClockBox {
        deadline: Millis(c.deadline()).display_ict(),
        deadline_utc: Millis(c.deadline()).rfc3339_utc(),
        closes_at: closes,
        has_grace: c.closes_at() > c.deadline(),
        extended: c
            .extension
            .is_some_and(|x| x > c.timeline.submission_deadline()),
        server_time: Millis(c.now).display_ict(),
        remaining: remaining_text(remaining_ms, lang),
        remaining_ms,
        window,
        window_class,
    }
}

pub struct AttachmentRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub size: String,
    pub sha256: String,
    pub uploaded: String,
    pub href: String,
    /// Part of a submitted version.
    pub frozen: bool,
}

pub fn attachment_row(a: &AttachmentRecord, lang: Lang) -> AttachmentRow {
    AttachmentRow {
        href: format!(
            "/entries/{}/attachments/{}",
            urlencode(&a.entry_id),
            urlencode(&a.id)
        ),
        id: a.id.clone(),
        name: a.file_name.clone(),
        kind: a.kind.code().to_ascii_uppercase(),
        size: human_size(a.size, lang),
        sha256: a.sha256.clone(),
        uploaded: Millis(a.uploaded_at).display_ict(),
        frozen: a.frozen,
    }
}

pub struct VersionRow {
    pub version: i64,
    pub at: String,
    pub late: bool,
    pub sha256: String,
    pub href: String,
}

pub struct EventRow {
    pub at: String,
    pub from: &'static str,
    pub to: &'static str,
    pub to_class: &'static str,
    pub reason: String,
    pub prize: String,
}

/// The entry's text as shown: the description is Markdown, rendered and sanitized.
pub struct TextView {
    pub title: String,
    pub summary: String,
    pub description_html: String,
    pub maturity: String,
    pub deployed_where: String,
    pub technologies: String,
    pub experience: String,
    pub demo_url: String,
    pub video_url: String,
}

fn text_view(t: &EntryText, lang: Lang) -> TextView {
    TextView {
        title: t.title.clone(),
        summary: t.summary.clone(),
        description_html: markdown::to_safe_html(&t.description),
        maturity: t
            .maturity
            .map(|m| lang.pick(m.name_vi(), m.name_en()).to_owned())
            .unwrap_or_default(),
        deployed_where: t.deployed_where.clone(),
        technologies: t.technologies.clone(),
        experience: t.experience.clone(),
        demo_url: t.demo_url.clone(),
        video_url: t.video_url.clone(),
    }
}

/// Everything the entry pages (the team's and the organizers') show about one entry.
pub struct EntryBox {
    pub id: String,
    pub team_id: String,
    pub team_name: String,
    pub problem_code: String,
    pub problem_title: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub status_code: &'static str,
    pub status_reason: String,
    pub prize: String,
    pub version: i64,
    pub late: bool,
    pub changed_since_submit: bool,
    pub submitted_at: String,
    pub updated_at: String,
    pub text: TextView,
    pub attachments: Vec<AttachmentRow>,
    pub attachments_total: String,
    pub versions: Vec<VersionRow>,
    pub events: Vec<EventRow>,
    pub clock: ClockBox,
    pub may_edit: bool,
    pub may_submit: bool,
    pub may_withdraw: bool,
    pub may_delete: bool,
    /// A submit now would be flagged late.
    pub submit_is_late: bool,
}

pub fn entry_box(v: &EntryView, catalog: &Catalog, lang: Lang) -> EntryBox {
    let e = &v.entry;
    let id = urlencode(&e.id);
    let mut versions: Vec<VersionRow> = v
        .versions
        .iter()
        .map(|x| VersionRow {
            version: x.version,
            at: Millis(x.submitted_at).display_ict(),
            late: x.late,
            sha256: x.content_sha256.clone(),
            href: format!("/entries/{id}/receipts/{}", x.version),
        })
        .collect();
    versions.sort_by_key(|r| std::cmp::Reverse(r.version));
    EntryBox {
        id: e.id.clone(),
        team_id: e.team_id.clone(),
        team_name: e.team_name.clone(),
        problem_code: e.problem_code.clone(),
        problem_title: problem_title(catalog, &e.problem_code, lang),
        status: status_name(e.status, lang),
        status_class: status_class(e.status),
        status_code: e.status.code(),
        status_reason: e.status_reason.clone().unwrap_or_default(),
        prize: e.prize.clone().unwrap_or_default(),
        version: e.version,
        late: e.late,
        changed_since_submit: e.changed_since_submit,
        submitted_at: e
            .submitted_at
            .map(|m| Millis(m).display_ict())
            .unwrap_or_default(),
        updated_at: Millis(e.updated_at).display_ict(),
        text: text_view(&e.text, lang),
        attachments: v
            .attachments
            .iter()
            .map(|a| attachment_row(a, lang))
            .collect(),
        attachments_total: human_size(v.attachments.iter().map(|a| a.size).sum(), lang),
        versions,
        events: v
            .events
            .iter()
            .map(|x| EventRow {
                at: Millis(x.at).display_ict(),
                from: status_name(x.from_status, lang),
                to: status_name(x.to_status, lang),
                to_class: status_class(x.to_status),
                reason: x.reason.clone().unwrap_or_default(),
                prize: x.prize.clone().unwrap_or_default(),
            })
            .collect(),
        clock: clock_box(&v.clock, lang),
        may_edit: v.may_edit,
        may_submit: v.may_submit,
        may_withdraw: v.may_withdraw,
        may_delete: v.may_delete,
        submit_is_late: v.window().is_late(),
    }
}

/// A refusal as a message for the whole form (with field messages when there are some).
fn action_errors(e: &ServiceError, lang: Lang) -> FormErrors {
    let errors = FormErrors::from_service(e, lang, &[]);
    if errors.form.is_empty() {
        FormErrors::form(e.message(lang))
    } else {
        errors
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FlashQuery {
    m: String,
}

fn flash(code: &str, lang: Lang) -> &'static str {
    match code {
        "created" => lang.pick(
            "Đã tạo bài dự thi (bản nháp). Hãy hoàn thiện nội dung, tải tệp đính kèm rồi nộp bài trước hạn.",
            "The entry is created as a draft. Complete it, upload its files, then submit before the deadline.",
        ),
        "saved" => lang.pick("Đã lưu.", "Saved."),
        "uploaded" => lang.pick("Đã tải tệp lên.", "The file is uploaded."),
        "removed" => lang.pick("Đã gỡ tệp.", "The file is removed."),
        "withdrawn" => lang.pick(
            "Đã rút bài dự thi. Đội có thể nộp lại trước hạn.",
            "The entry is withdrawn. Your team may submit it again before the deadline.",
        ),
        "deleted" => lang.pick("Đã xoá bản nháp.", "The draft is deleted."),
        "submitted" => lang.pick(
            "Đã nộp bài. Biên nhận này cũng đã được gửi tới email của mọi thành viên trong đội.",
            "Your entry is submitted. This receipt was also sent to every member of the team by email.",
        ),
        _ => "",
    }
}

// --- The team's entries ----------------------------------------------------------------------

pub struct EntryRow {
    pub href: String,
    pub problem_code: String,
    pub problem_title: String,
    pub title: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub version: i64,
    pub late: bool,
    pub changed_since_submit: bool,
    pub updated: String,
}

fn entry_row(e: &EntryRecord, catalog: &Catalog, lang: Lang) -> EntryRow {
    EntryRow {
        href: format!("/entries/{}", urlencode(&e.id)),
        problem_code: e.problem_code.clone(),
        problem_title: problem_title(catalog, &e.problem_code, lang),
        title: e.text.title.clone(),
        status: status_name(e.status, lang),
        status_class: status_class(e.status),
        version: e.version,
        late: e.late,
        changed_since_submit: e.changed_since_submit,
        updated: Millis(e.updated_at).display_ict(),
    }
}

/// A problem in the select of the create form.
pub struct ProblemChoice {
    pub code: String,
    pub name: String,
    pub selected: bool,
    /// The team already has an entry for it.
    pub taken: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CreateForm {
    problem_code: String,
    title: String,
}

#[derive(Template)]
#[template(path = "entries.html")]
struct EntriesPage {
    chrome: Chrome,
    flash: String,
    has_team: bool,
    rows: Vec<EntryRow>,
    clock: Option<ClockBox>,
    can_create: bool,
    max_entries: u32,
    problems: Vec<ProblemChoice>,
    create: CreateForm,
    errors: FormErrors,
}

#[allow(clippy::too_many_arguments)]
async fn entries_page(
    ctx: &Ctx,
    catalog: &Catalog,
    page: Page,
    actor: &Actor,
    status: StatusCode,
    flash_code: &str,
    create: CreateForm,
    errors: FormErrors,
) -> PageResult {
    let lang = page.lang;
    let mine = entries::my_entries(ctx, actor).await?;
    let max_entries = ctx.config.entries.max_problems_per_team;
    let (rows, clock, can_create, taken) = match &mine {
        Some((list, clock)) => (
            list.iter().map(|e| entry_row(e, catalog, lang)).collect(),
            Some(clock_box(clock, lang)),
            clock.drafts_open() && list.len() < max_entries as usize,
            list.iter()
                .map(|e| e.problem_code.clone())
                .collect::<Vec<_>>(),
        ),
        None => (Vec::new(), None, false, Vec::new()),
    };
    let chosen = create.problem_code.trim().to_uppercase();
    let problems = catalog
        .snapshot()
        .entries
        .iter()
        .map(|e| {
            let code = e.problem.code.as_str().to_owned();
            ProblemChoice {
                name: lang
                    .pick(&e.problem.title_vi, &e.problem.title_en)
                    .to_owned(),
                selected: code == chosen,
                taken: taken.contains(&code),
                code,
            }
        })
        .collect();
    Ok(render(
        status,
        &EntriesPage {
            flash: flash(flash_code, lang).to_owned(),
            has_team: mine.is_some(),
            rows,
            clock,
            can_create,
            max_entries,
            problems,
            create,
            errors,
            chrome: page.chrome,
        },
    ))
}

#[handler]
pub async fn my_entries(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    catalog: Data<&Arc<Catalog>>,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page.allowed_back_to(page.here(), Action::Entries)?.clone();
    entries_page(
        &ctx,
        &catalog,
        page,
        &actor,
        StatusCode::OK,
        &q.m,
        CreateForm::default(),
        FormErrors::none(),
    )
    .await
}

#[handler]
pub async fn create_entry(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    catalog: Data<&Arc<Catalog>>,
    Posted(form): Posted<CreateForm>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page.allowed_back_to("/entries", Action::Entries)?.clone();
    let input = EntryInput {
        title: form.title.clone(),
        ..EntryInput::default()
    };
    match entries::create(&ctx, &actor, &form.problem_code, &input).await {
        Ok(v) => Ok(see_other(&format!(
            "/entries/{}?m=created",
            urlencode(&v.entry.id)
        ))),
        Err(e) => {
            let errors = FormErrors::from_service(&e, page.lang, &[]);
            entries_page(
                &ctx,
                &catalog,
                page,
                &actor,
                service_status(&e),
                "",
                form,
                errors,
            )
            .await
        }
    }
}

// --- One entry -------------------------------------------------------------------------------

/// The edit form: every field of `EntryInput`. `save` is set by the edit form so that its
/// "save and submit" button saves the text before submitting; `key` makes a double submit of one
/// page answer with one receipt.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct EntryForm {
    title: String,
    summary: String,
    description: String,
    maturity: String,
    deployed_where: String,
    technologies: String,
    experience: String,
    demo_url: String,
    video_url: String,
    save: String,
    key: String,
}

impl EntryForm {
    fn of(t: &EntryText) -> EntryForm {
        EntryForm {
            title: t.title.clone(),
            summary: t.summary.clone(),
            description: t.description.clone(),
            maturity: t.maturity.map(Maturity::code).unwrap_or("").to_owned(),
            deployed_where: t.deployed_where.clone(),
            technologies: t.technologies.clone(),
            experience: t.experience.clone(),
            demo_url: t.demo_url.clone(),
            video_url: t.video_url.clone(),
            save: String::new(),
            key: String::new(),
        }
    }

    fn input(&self) -> EntryInput {
        EntryInput {
            title: self.title.clone(),
            summary: self.summary.clone(),
            description: self.description.clone(),
            maturity: self.maturity.clone(),
            deployed_where: self.deployed_where.clone(),
            technologies: self.technologies.clone(),
            experience: self.experience.clone(),
            demo_url: self.demo_url.clone(),
            video_url: self.video_url.clone(),
        }
    }

    fn saves(&self) -> bool {
        self.save == "1"
    }

    /// The submit's Idempotency-Key: the page's random key and a digest of the text sent with
    /// it. A double click sends both the same and gets the first receipt back; a page reopened
    /// with the browser's back button and edited sends other text, so it is a new submit.
    fn idempotency_key(&self) -> Option<String> {
        let k = self.key.trim();
        let well_formed = (16..=64).contains(&k.len())
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !well_formed {
            return None;
        }
        let mut h = Sha256::new();
        for part in [
            &self.title,
            &self.summary,
            &self.description,
            &self.maturity,
            &self.deployed_where,
            &self.technologies,
            &self.experience,
            &self.demo_url,
            &self.video_url,
        ] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        let digest = hex::encode(&h.finalize()[..8]);
        Some(format!("web:{k}:{digest}"))
    }
}

#[derive(Template)]
#[template(path = "entry.html")]
struct EntryPage {
    chrome: Chrome,
    flash: String,
    errors: FormErrors,
    e: EntryBox,
    form: EntryForm,
    maturities: Vec<Choice>,
    file_types: String,
    accept: String,
    max_file_mb: u64,
    max_entry_mb: u64,
    submit_key: String,
}

fn maturity_choices(selected: &str, lang: Lang) -> Vec<Choice> {
    Maturity::ALL
        .iter()
        .map(|m| Choice {
            code: m.code().to_owned(),
            name: lang.pick(m.name_vi(), m.name_en()).to_owned(),
            selected: m.code() == selected,
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn entry_page(
    ctx: &Ctx,
    catalog: &Catalog,
    page: Page,
    actor: &Actor,
    id: &str,
    status: StatusCode,
    flash_code: &str,
    form: Option<EntryForm>,
    errors: FormErrors,
) -> PageResult {
    let lang = page.lang;
    let v = entries::entry(ctx, actor, id).await?;
    let form = form.unwrap_or_else(|| EntryForm::of(&v.entry.text));
    let e = entry_box(&v, catalog, lang);
    Ok(render(
        status,
        &EntryPage {
            flash: flash(flash_code, lang).to_owned(),
            errors,
            maturities: maturity_choices(&form.maturity, lang),
            form,
            e,
            file_types: FileKind::allowed_list(),
            accept: FileKind::ALL
                .iter()
                .map(|k| format!(".{}", k.code()))
                .chain([".jpeg".to_owned()])
                .collect::<Vec<_>>()
                .join(","),
            max_file_mb: ctx.config.entries.max_file_mb,
            max_entry_mb: ctx.config.entries.max_entry_mb,
            submit_key: new_token().0,
            chrome: page.chrome,
        },
    ))
}

fn entry_path(id: &str) -> String {
    format!("/entries/{}", urlencode(id))
}

#[handler]
pub async fn entry(
    req: &Request,
    Path(id): Path<String>,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    catalog: Data<&Arc<Catalog>>,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page.allowed_back_to(page.here(), Action::Entries)?.clone();
    entry_page(
        &ctx,
        &catalog,
        page,
        &actor,
        &id,
        StatusCode::OK,
        &q.m,
        None,
        FormErrors::none(),
    )
    .await
}

#[handler]
pub async fn save(
    req: &Request,
    Path(id): Path<String>,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    catalog: Data<&Arc<Catalog>>,
    Posted(form): Posted<EntryForm>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page
        .allowed_back_to(&entry_path(&id), Action::Entries)?
        .clone();
    match entries::save(&ctx, &actor, &id, &form.input()).await {
        Ok(v) => Ok(see_other(&format!("{}?m=saved", entry_path(&v.entry.id)))),
        Err(e) => {
            let errors = FormErrors::from_service(&e, page.lang, &[]);
            entry_page(
                &ctx,
                &catalog,
                page,
                &actor,
                &id,
                service_status(&e),
                "",
                Some(form),
                errors,
            )
            .await
        }
    }
}

/// Submits; from the edit form ("save and submit") the text is saved first.
#[handler]
pub async fn submit(
    req: &Request,
    Path(id): Path<String>,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    catalog: Data<&Arc<Catalog>>,
    Posted(form): Posted<EntryForm>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page
        .allowed_back_to(&entry_path(&id), Action::Entries)?
        .clone();
    let kept = form.saves().then(|| form.clone());
    let text = form.saves().then(|| form.input());
    let done = entries::submit_with(
        &ctx,
        &actor,
        &id,
        form.idempotency_key().as_deref(),
        text.as_ref(),
    )
    .await;
    match done {
        Ok(r) => Ok(see_other(&format!(
            "{}/receipts/{}?m=submitted",
            entry_path(&r.entry_id),
            r.version
        ))),
        Err(e) => {
            let errors = action_errors(&e, page.lang);
            entry_page(
                &ctx,
                &catalog,
                page,
                &actor,
                &id,
                service_status(&e),
                "",
                kept,
                errors,
            )
            .await
        }
    }
}

enum Act {
    Withdraw,
    Delete,
    Remove(String),
}

async fn act(
    req: &Request,
    ctx: &Ctx,
    names: &ContestNames,
    catalog: &Catalog,
    id: &str,
    act: Act,
) -> PageResult {
    let page = Page::load(req, ctx, names).await?;
    let actor = page
        .allowed_back_to(&entry_path(id), Action::Entries)?
        .clone();
    let done = match &act {
        Act::Withdraw => entries::withdraw(ctx, &actor, id)
            .await
            .map(|_| format!("{}?m=withdrawn", entry_path(id))),
        Act::Delete => entries::delete_draft(ctx, &actor, id)
            .await
            .map(|()| "/entries?m=deleted".to_owned()),
        Act::Remove(aid) => entries::remove_attachment(ctx, &actor, id, aid)
            .await
            .map(|()| format!("{}?m=removed#attachments", entry_path(id))),
    };
    match done {
        Ok(to) => Ok(see_other(&to)),
        Err(e) => {
            let errors = action_errors(&e, page.lang);
            entry_page(
                ctx,
                catalog,
                page,
                &actor,
                id,
                service_status(&e),
                "",
                None,
                errors,
            )
            .await
        }
    }
}

#[handler]
pub async fn withdraw(
    req: &Request,
    Path(id): Path<String>,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    catalog: Data<&Arc<Catalog>>,
    Posted(_): Posted<NoFields>,
) -> PageResult {
    act(req, &ctx, &names, &catalog, &id, Act::Withdraw).await
}

#[handler]
pub async fn delete(
    req: &Request,
    Path(id): Path<String>,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    catalog: Data<&Arc<Catalog>>,
    Posted(_): Posted<NoFields>,
) -> PageResult {
    act(req, &ctx, &names, &catalog, &id, Act::Delete).await
}

#[handler]
pub async fn remove_attachment(
    req: &Request,
    Path((id, aid)): Path<(String, String)>,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    catalog: Data<&Arc<Catalog>>,
    Posted(_): Posted<NoFields>,
) -> PageResult {
    act(req, &ctx, &names, &catalog, &id, Act::Remove(aid)).await
}

// --- Upload (for the page's script) ----------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UploadQuery {
    name: String,
}

fn json_error(status: StatusCode, message: &str, field: Option<&str>) -> Response {
    Json(json!({ "error": message, "field": field }))
        .with_status(status)
        .into_response()
}

/// A refusal as the upload's JSON: the messages of the fields at fault without their names
/// (the page shows them next to the file input).
fn service_json(e: &ServiceError, lang: Lang) -> Response {
    let message = match e {
        ServiceError::Invalid(list) => list
            .iter()
            .map(|i| i.problem.message(lang == Lang::Vi))
            .collect::<Vec<_>>()
            .join(" "),
        ServiceError::Store(_) | ServiceError::Internal(_) => {
            tracing::error!(error = %e, "upload failed");
            e.message(lang)
        }
        other => other.message(lang),
    };
    json_error(service_status(e), &message, e.field())
}

/// `POST /entries/{id}/attachments?name=…`: the raw file as the body, the CSRF token in
/// `X-CSRF-Token`. Answers `{"ok": true, "attachment": {…}}` (201) or `{"error", "field"}`.
#[handler]
pub async fn upload(
    req: &Request,
    Path(id): Path<String>,
    query: poem::Result<Query<UploadQuery>>,
    ctx: Data<&Ctx>,
    body: Body,
) -> Response {
    let lang = Lang::detect(req);
    if !csrf_header_matches(req) {
        tracing::warn!(path = %req.uri().path(), "upload refused: CSRF header missing or wrong");
        return json_error(StatusCode::FORBIDDEN, &PageError::Csrf.texts(lang).1, None);
    }
    let actor = match current_actor(req, &ctx).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            return json_error(
                StatusCode::UNAUTHORIZED,
                &ServiceError::Unauthenticated.message(lang),
                None,
            );
        }
        Err(e) => return service_json(&e, lang),
    };
    let Ok(Query(q)) = query else {
        return json_error(
            StatusCode::BAD_REQUEST,
            &Problem::Required.message(lang == Lang::Vi),
            Some("name"),
        );
    };
    let max_mb = ctx.config.entries.max_file_mb;
    let declared = req
        .header(header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<u64>().ok());
    let mut stream: crate::files::ByteStream<'static> =
        Box::pin(body.into_bytes_stream().map_err(std::io::Error::other));
    if declared.is_some_and(|n| n > ctx.config.entries.max_file_bytes()) {
        crate::files::discard_rest(&mut stream).await;
        return json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &Problem::TooLargeMb(max_mb).message(lang == Lang::Vi),
            Some("file"),
        );
    }
    match entries::upload(&ctx, &actor, &id, &q.name, Box::pin(&mut stream)).await {
        Ok(a) => Json(json!({
            "ok": true,
            "attachment": {
                "id": a.id,
                "name": a.file_name,
                "size": a.size,
                "sha256": a.sha256,
            },
        }))
        .with_status(StatusCode::CREATED)
        .into_response(),
        Err(e) => {
            crate::files::discard_rest(&mut stream).await;
            service_json(&e, lang)
        }
    }
}

// --- Download and receipt (the team and organizers) -------------------------------------------

/// `GET /entries/{id}/attachments/{aid}`: the file as a download, for the team and organizers.
#[handler]
pub async fn download(
    req: &Request,
    Path((id, aid)): Path<(String, String)>,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
) -> PageResult {
    let page = Page::load_public(req, &ctx, &names).await?;
    let actor = page.actor()?;
    let (a, file) = entries::open_attachment(&ctx, actor, &id, &aid).await?;
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, a.kind.mime())
        .header(
            header::CONTENT_DISPOSITION,
            content_disposition(&a.file_name),
        )
        .header("X-Content-Type-Options", "nosniff")
        .header(header::CACHE_CONTROL, "private, no-store")
        .body(Body::from_async_read(file)))
}

pub struct ReceiptFileRow {
    pub name: String,
    pub size: String,
    pub bytes: i64,
    pub sha256: String,
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    chrome: Chrome,
    flash: String,
    entry_id: String,
    team_name: String,
    problem_code: String,
    problem_title: String,
    title: String,
    version: i64,
    at_ict: String,
    at_utc: String,
    by: String,
    late: bool,
    sha256: String,
    files: Vec<ReceiptFileRow>,
    back: String,
}

/// `GET /entries/{id}/receipts/{version}`: the printable receipt, for the team and organizers.
#[handler]
pub async fn receipt(
    req: &Request,
    Path((id, version)): Path<(String, String)>,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    catalog: Data<&Arc<Catalog>>,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    let page = Page::load_public(req, &ctx, &names).await?;
    let actor = page.actor()?.clone();
    let lang = page.lang;
    let version = version
        .parse::<i64>()
        .map_err(|_| ServiceError::NotFound("version"))?;
    let r = entries::receipt(&ctx, &actor, &id, version).await?;
    // The submitter's name, while they are in the team; else their account id.
    let by = teams::team(&ctx, &actor, &r.team_id)
        .await
        .ok()
        .and_then(|t| {
            t.members
                .into_iter()
                .find(|m| m.user_id == r.submitted_by)
                .map(|m| m.full_name)
        })
        .unwrap_or_else(|| r.submitted_by.clone());
    let back = if actor.role() == Role::Organizer {
        format!("/organizer/entries/{}", urlencode(&r.entry_id))
    } else {
        entry_path(&r.entry_id)
    };
    Ok(render(
        StatusCode::OK,
        &ReceiptPage {
            flash: flash(&q.m, lang).to_owned(),
            problem_title: problem_title(&catalog, &r.problem_code, lang),
            at_ict: Millis(r.submitted_at).display_ict(),
            at_utc: Millis(r.submitted_at).rfc3339_utc(),
            files: r
                .attachments
                .iter()
                .map(|a| ReceiptFileRow {
                    name: a.name.clone(),
                    size: human_size(a.size, lang),
                    bytes: a.size,
                    sha256: a.sha256.clone(),
                })
                .collect(),
            entry_id: r.entry_id,
            team_name: r.team_name,
            problem_code: r.problem_code,
            title: r.title,
            version: r.version,
            by,
            late: r.late,
            sha256: r.content_sha256,
            back,
            chrome: page.chrome,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn time_left_in_two_units() {
        let t = (3 * 1440 + 4 * 60 + 59) * MIN + 1;
        assert_eq!(remaining_text(t, Lang::Vi), "còn 3 ngày 4 giờ");
        assert_eq!(remaining_text(t, Lang::En), "3 days 4 hours left");
        assert_eq!(
            remaining_text((60 + 1) * MIN, Lang::En),
            "1 hour 1 minute left"
        );
        assert_eq!(remaining_text(5 * MIN, Lang::Vi), "còn 5 phút");
        assert_eq!(remaining_text(30_000, Lang::Vi), "còn dưới 1 phút");
        assert_eq!(remaining_text(0, Lang::Vi), "đã qua hạn nộp");
        assert_eq!(remaining_text(-5, Lang::En), "the deadline has passed");
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_size(900, Lang::Vi), "900 B");
        assert_eq!(human_size(1536, Lang::Vi), "1,5 KB");
        assert_eq!(human_size(3 * 1024 * 1024 / 2, Lang::En), "1.5 MB");
    }

    #[test]
    fn a_double_click_has_one_key_but_edited_text_another() {
        let form = EntryForm {
            title: "Nền tảng".into(),
            key: new_token().0,
            ..EntryForm::default()
        };
        let again = form.clone();
        assert_eq!(form.idempotency_key(), again.idempotency_key());
        let edited = EntryForm {
            summary: "Tóm tắt".into(),
            ..form.clone()
        };
        assert_ne!(form.idempotency_key(), edited.idempotency_key());
        let k = form.idempotency_key().expect("a key");
        assert!(
            k.len() <= 200 && k.bytes().all(|b| b.is_ascii_graphic()),
            "{k}"
        );
        let bad = EntryForm {
            key: "x y".into(),
            ..form
        };
        assert_eq!(bad.idempotency_key(), None);
    }
}
