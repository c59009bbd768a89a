//! Organizer pages for entries: the list with filters, counts per problem, pages, the CSV export
//! and a bulk status change; one entry with its files and a status change. Anonymous visitors are
//! sent to the login page; other accounts get a 403 page. The rules are the services'
//! (`service::entries`), as for the API.

use std::sync::Arc;

use askama::Template;
use poem::http::{StatusCode, header};
use poem::web::{Data, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::entries::{EntryBox, entry_box, status_class, status_name};
use super::forms::FormErrors;
use super::pages::{Chrome, ContestNames, urlencode};
use super::session::{Posted, safe_next};
use super::teams::Choice;
use super::view::{Page, PageError, render, see_other, service_status};
use crate::domain::authz::Action;
use crate::domain::entry::{EntryStatus, Mover, transition};
use crate::domain::problem::Field;
use crate::domain::time::Millis;
use crate::i18n::Lang;
use crate::service::catalog::Catalog;
use crate::service::entries::{self, StatusChange};
use crate::service::{Actor, Ctx, ServiceError, teams};
use crate::store::entries::EntryFilter;

type PageResult = Result<Response, PageError>;

const PER_PAGE: u32 = 50;

/// The statuses an organizer may move some entry to, by the domain's table.
fn organizer_targets() -> Vec<EntryStatus> {
    EntryStatus::ALL
        .iter()
        .copied()
        .filter(|to| {
            EntryStatus::ALL
                .iter()
                .any(|from| transition(*from, *to, Mover::Organizer, true, Some("-")).is_ok())
        })
        .collect()
}

fn status_choices(list: &[EntryStatus], selected: Option<EntryStatus>, lang: Lang) -> Vec<Choice> {
    list.iter()
        .map(|s| Choice {
            code: s.code().to_owned(),
            name: status_name(*s, lang).to_owned(),
            selected: Some(*s) == selected,
        })
        .collect()
}

// --- The list ---------------------------------------------------------------------------------

/// The list's filters as sent (query string, or hidden fields of the bulk form).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ListParams {
    problem: String,
    field: String,
    status: String,
    /// `yes`, `no` or empty.
    late: String,
    /// `1` to include drafts never submitted.
    drafts: String,
    page: String,
    m: String,
    n: String,
}

/// The filters, checked.
struct Filters {
    problem: String,
    field: Option<Field>,
    status: Option<EntryStatus>,
    late: Option<bool>,
    drafts: bool,
    page: u32,
}

impl Filters {
    fn parse(p: &ListParams) -> Filters {
        Filters {
            problem: p.problem.trim().to_uppercase(),
            field: Field::from_code(p.field.trim()),
            status: EntryStatus::from_code(p.status.trim()),
            late: match p.late.trim() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            drafts: matches!(p.drafts.trim(), "1" | "on" | "true"),
            page: p
                .page
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .unwrap_or(1),
        }
    }

    fn entry_filter(&self) -> EntryFilter {
        EntryFilter {
            problem: (!self.problem.is_empty()).then(|| self.problem.clone()),
            field: self.field.map(|f| f.code().to_owned()),
            status: self.status,
            late: self.late,
            submitted_only: !self.drafts,
        }
    }

    /// The filters as a query string ending in `&` (empty when none), without the page and
    /// optionally without the problem.
    fn query(&self, with_problem: bool) -> String {
        let late = match self.late {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        };
        let mut q = String::new();
        for (k, v) in [
            (
                "problem",
                if with_problem {
                    self.problem.as_str()
                } else {
                    ""
                },
            ),
            ("field", self.field.map_or("", Field::code)),
            ("status", self.status.map_or("", EntryStatus::code)),
            ("late", late),
            ("drafts", if self.drafts { "1" } else { "" }),
        ] {
            if !v.is_empty() {
                q.push_str(&format!("{k}={}&", urlencode(v)));
            }
        }
        q
    }
}

/// Page links for `forms.html`'s `pager` macro.
pub struct Pager {
    pub base: String,
    pub query: String,
    pub page: u32,
    pub pages: u32,
    pub total: i64,
}

pub struct CountLink {
    pub code: String,
    pub count: i64,
    pub href: String,
    pub selected: bool,
}

pub struct Row {
    pub id: String,
    pub href: String,
    pub problem_code: String,
    pub field: String,
    pub team: String,
    pub title: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub version: i64,
    pub late: bool,
    pub submitted: String,
    pub prize: String,
    pub checked: bool,
    /// The bulk change was refused because of this entry.
    pub refused: bool,
}

/// What the bulk form sends back when it is refused.
#[derive(Default)]
pub struct Bulk {
    pub ids: Vec<String>,
    pub to: String,
    pub reason: String,
    pub prize: String,
    pub refused: String,
}

#[derive(Template)]
#[template(path = "organizer_entries.html")]
struct ListPage {
    chrome: Chrome,
    flash: String,
    errors: FormErrors,
    problems: Vec<Choice>,
    fields: Vec<Choice>,
    statuses: Vec<Choice>,
    late: String,
    drafts: bool,
    problem: String,
    all_counts_href: String,
    counts: Vec<CountLink>,
    rows: Vec<Row>,
    pager: Pager,
    csv_href: String,
    targets: Vec<Choice>,
    bulk: Bulk,
    /// The filters, for the bulk form's hidden fields.
    f_field: String,
    f_status: String,
    f_page: u32,
    refused_title: String,
}

fn list_flash(p: &ListParams, lang: Lang) -> String {
    match p.m.as_str() {
        "changed" => {
            let n = p.n.trim().parse::<u32>().unwrap_or(0);
            match lang {
                Lang::Vi => format!(
                    "Đã chuyển trạng thái của {n} bài dự thi; các đội đã được báo qua email."
                ),
                Lang::En => format!("{n} entries changed status; their teams are told by email."),
            }
        }
        _ => String::new(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn list_page(
    ctx: &Ctx,
    catalog: &Catalog,
    page: Page,
    actor: &Actor,
    p: &ListParams,
    status: StatusCode,
    errors: FormErrors,
    bulk: Bulk,
) -> PageResult {
    let lang = page.lang;
    let f = Filters::parse(p);
    let filter = f.entry_filter();
    let list = entries::list(ctx, actor, &filter, f.page, PER_PAGE).await?;
    let query = f.query(true);
    let others = f.query(false);
    let snapshot = catalog.snapshot();
    let rows = list
        .entries
        .iter()
        .map(|e| Row {
            href: format!("/organizer/entries/{}", urlencode(&e.id)),
            problem_code: e.problem_code.clone(),
            field: Field::from_code(&e.problem_field).map_or_else(
                || e.problem_field.clone(),
                |x| lang.pick(x.name_vi(), x.name_en()).to_owned(),
            ),
            team: e.team_name.clone(),
            title: e.text.title.clone(),
            status: status_name(e.status, lang),
            status_class: status_class(e.status),
            version: e.version,
            late: e.late,
            submitted: e
                .submitted_at
                .map(|m| Millis(m).display_ict())
                .unwrap_or_default(),
            prize: e.prize.clone().unwrap_or_default(),
            checked: bulk.ids.contains(&e.id),
            refused: bulk.refused == e.id,
            id: e.id.clone(),
        })
        .collect();
    let counts = list
        .per_problem
        .iter()
        .map(|(code, count)| CountLink {
            href: format!("/organizer/entries?{others}problem={}", urlencode(code)),
            selected: *code == f.problem,
            code: code.clone(),
            count: *count,
        })
        .collect();
    let problems = snapshot
        .entries
        .iter()
        .map(|e| {
            let code = e.problem.code.as_str().to_owned();
            Choice {
                name: format!(
                    "{code} · {}",
                    lang.pick(&e.problem.title_vi, &e.problem.title_en)
                ),
                selected: code == f.problem,
                code,
            }
        })
        .collect();
    let fields = Field::ALL
        .iter()
        .map(|x| Choice {
            code: x.code().to_owned(),
            name: lang.pick(x.name_vi(), x.name_en()).to_owned(),
            selected: Some(*x) == f.field,
        })
        .collect();
    let refused_title = list
        .entries
        .iter()
        .find(|e| e.id == bulk.refused)
        .map(|e| format!("{} · {} · {}", e.problem_code, e.team_name, e.text.title))
        .unwrap_or_default();
    let pages = u32::try_from(list.total.max(0))
        .unwrap_or(u32::MAX)
        .div_ceil(PER_PAGE);
    let target = EntryStatus::from_code(&bulk.to);
    Ok(render(
        status,
        &ListPage {
            flash: list_flash(p, lang),
            errors,
            problems,
            fields,
            statuses: status_choices(EntryStatus::ALL, f.status, lang),
            late: match f.late {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            }
            .to_owned(),
            drafts: f.drafts,
            all_counts_href: format!("/organizer/entries?{others}"),
            counts,
            rows,
            pager: Pager {
                base: "/organizer/entries".to_owned(),
                query: query.clone(),
                page: f.page,
                pages,
                total: list.total,
            },
            csv_href: format!("/organizer/entries.csv?{query}"),
            targets: status_choices(&organizer_targets(), target, lang),
            bulk,
            f_field: f.field.map_or("", Field::code).to_owned(),
            f_status: f.status.map_or("", EntryStatus::code).to_owned(),
            f_page: f.page,
            problem: f.problem,
            refused_title,
            chrome: page.chrome,
        },
    ))
}

#[handler]
pub async fn entry_list(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    catalog: Data<&Arc<Catalog>>,
    Query(p): Query<ListParams>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page.allowed_to(Action::ManageEntries)?.clone();
    list_page(
        &ctx,
        &catalog,
        page,
        &actor,
        &p,
        StatusCode::OK,
        FormErrors::none(),
        Bulk::default(),
    )
    .await
}

/// `GET /organizer/entries.csv`: every entry matching the list's filters.
#[handler]
pub async fn export_csv(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Query(p): Query<ListParams>,
) -> PageResult {
    let page = Page::load_public(req, &ctx, &names).await?;
    let actor = page.allowed_to(Action::ManageEntries)?;
    let csv = entries::export_csv(&ctx, actor, &Filters::parse(&p).entry_filter()).await?;
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
        .header(
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"entries.csv\"",
        )
        .header(header::CACHE_CONTROL, "private, no-store")
        .body(csv))
}

/// `POST /organizer/entries/status`: the checked entries to one status, all or none. The form
/// repeats `entry_id`, so it is read as pairs.
#[handler]
pub async fn bulk_status(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    catalog: Data<&Arc<Catalog>>,
    Posted(pairs): Posted<Vec<(String, String)>>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page
        .allowed_back_to("/organizer/entries", Action::ManageEntries)?
        .clone();
    let lang = page.lang;
    let mut p = ListParams::default();
    let mut bulk = Bulk::default();
    for (k, v) in pairs {
        match k.as_str() {
            "entry_id" if !v.trim().is_empty() => bulk.ids.push(v.trim().to_owned()),
            "to" => bulk.to = v,
            "reason" => bulk.reason = v,
            "prize" => bulk.prize = v,
            "problem" => p.problem = v,
            "field" => p.field = v,
            "status" => p.status = v,
            "late" => p.late = v,
            "drafts" => p.drafts = v,
            "page" => p.page = v,
            _ => {}
        }
    }
    let to = EntryStatus::from_code(bulk.to.trim());
    let refused = |errors: FormErrors, status: StatusCode, bulk: Bulk| {
        list_page(&ctx, &catalog, page, &actor, &p, status, errors, bulk)
    };
    if bulk.ids.is_empty() {
        let errors = FormErrors::form(lang.pick(
            "Hãy chọn ít nhất một bài dự thi.",
            "Select at least one entry.",
        ));
        return refused(errors, StatusCode::UNPROCESSABLE_ENTITY, bulk).await;
    }
    let Some(to) = to else {
        let mut errors = FormErrors::form(lang.pick(
            "Vui lòng sửa các ô được đánh dấu bên dưới.",
            "Please correct the marked fields below.",
        ));
        errors.add(
            "to",
            lang.pick("Hãy chọn trạng thái mới.", "Choose the new status."),
        );
        return refused(errors, StatusCode::UNPROCESSABLE_ENTITY, bulk).await;
    };
    let nonempty = |s: &str| (!s.trim().is_empty()).then(|| s.to_owned());
    let changes: Vec<StatusChange> = bulk
        .ids
        .iter()
        .map(|id| StatusChange {
            entry_id: id.clone(),
            to,
            reason: nonempty(&bulk.reason),
            prize: nonempty(&bulk.prize),
        })
        .collect();
    match entries::change_statuses(&ctx, &actor, &changes).await {
        Ok(n) => {
            let f = Filters::parse(&p);
            Ok(see_other(&format!(
                "/organizer/entries?{}page={}&m=changed&n={n}",
                f.query(true),
                f.page
            )))
        }
        Err(e) => {
            let status = service_status(&e);
            if let ServiceError::InEntry { entry_id, .. } = &e {
                bulk.refused = entry_id.clone();
            }
            let errors = FormErrors::from_service(&e, lang, &[]);
            refused(errors, status, bulk).await
        }
    }
}

// --- One entry --------------------------------------------------------------------------------

pub struct MemberRow {
    pub name: String,
    pub email: String,
    pub is_leader: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StatusForm {
    to: String,
    reason: String,
    prize: String,
    back: String,
}

#[derive(Template)]
#[template(path = "organizer_entry.html")]
struct DetailPage {
    chrome: Chrome,
    flash: String,
    errors: FormErrors,
    e: EntryBox,
    members: Vec<MemberRow>,
    targets: Vec<Choice>,
    form: StatusForm,
    back: String,
}

/// The list page to go back to: the `back` the list gave, when it is the list.
fn list_back(back: &str) -> String {
    safe_next(back)
        .filter(|b| *b == "/organizer/entries" || b.starts_with("/organizer/entries?"))
        .unwrap_or("/organizer/entries")
        .to_owned()
}

#[allow(clippy::too_many_arguments)]
async fn detail_page(
    ctx: &Ctx,
    catalog: &Catalog,
    page: Page,
    actor: &Actor,
    id: &str,
    status: StatusCode,
    flash: &str,
    form: StatusForm,
    errors: FormErrors,
) -> PageResult {
    let lang = page.lang;
    let v = entries::entry(ctx, actor, id).await?;
    let from = v.entry.status;
    let targets: Vec<EntryStatus> = EntryStatus::ALL
        .iter()
        .copied()
        .filter(|to| transition(from, *to, Mover::Organizer, true, Some("-")).is_ok())
        .collect();
    let members = teams::team(ctx, actor, &v.entry.team_id)
        .await
        .map(|t| {
            t.members
                .into_iter()
                .map(|m| MemberRow {
                    name: m.full_name,
                    email: m.email.unwrap_or_default(),
                    is_leader: m.is_leader,
                })
                .collect()
        })
        .unwrap_or_default();
    let selected = EntryStatus::from_code(form.to.trim());
    let back = list_back(&form.back);
    Ok(render(
        status,
        &DetailPage {
            flash: flash.to_owned(),
            errors,
            e: entry_box(&v, catalog, lang),
            members,
            targets: status_choices(&targets, selected, lang),
            form,
            back,
            chrome: page.chrome,
        },
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DetailQuery {
    m: String,
    back: String,
}

#[handler]
pub async fn detail(
    req: &Request,
    Path(id): Path<String>,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    catalog: Data<&Arc<Catalog>>,
    Query(q): Query<DetailQuery>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page.allowed_to(Action::ManageEntries)?.clone();
    let flash = match q.m.as_str() {
        "status" => page.lang.pick(
            "Đã chuyển trạng thái; đội đã được báo qua email.",
            "The status is changed; the team is told by email.",
        ),
        _ => "",
    };
    let form = StatusForm {
        back: q.back,
        ..StatusForm::default()
    };
    detail_page(
        &ctx,
        &catalog,
        page,
        &actor,
        &id,
        StatusCode::OK,
        flash,
        form,
        FormErrors::none(),
    )
    .await
}

#[handler]
pub async fn change_status(
    req: &Request,
    Path(id): Path<String>,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    catalog: Data<&Arc<Catalog>>,
    Posted(form): Posted<StatusForm>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let here = format!("/organizer/entries/{}", urlencode(&id));
    let actor = page.allowed_back_to(&here, Action::ManageEntries)?.clone();
    let lang = page.lang;
    let Some(to) = EntryStatus::from_code(form.to.trim()) else {
        let mut errors = FormErrors::form(lang.pick(
            "Vui lòng sửa các ô được đánh dấu bên dưới.",
            "Please correct the marked fields below.",
        ));
        errors.add(
            "to",
            lang.pick("Hãy chọn trạng thái mới.", "Choose the new status."),
        );
        return detail_page(
            &ctx,
            &catalog,
            page,
            &actor,
            &id,
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
            form,
            errors,
        )
        .await;
    };
    let nonempty = |s: &str| (!s.trim().is_empty()).then(|| s.to_owned());
    let change = StatusChange {
        entry_id: id.clone(),
        to,
        reason: nonempty(&form.reason),
        prize: nonempty(&form.prize),
    };
    match entries::change_status(&ctx, &actor, &change).await {
        Ok(_) => {
            let back = list_back(&form.back);
            Ok(see_other(&format!(
                "{here}?m=status&back={}",
                urlencode(&back)
            )))
        }
        Err(e) => {
            let errors = FormErrors::from_service(&e, lang, &[]);
            detail_page(
                &ctx,
                &catalog,
                page,
                &actor,
                &id,
                service_status(&e),
                "",
                form,
                errors,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organizers_move_entries_to_review_and_beyond_only() {
        let codes: Vec<_> = organizer_targets().iter().map(|s| s.code()).collect();
        assert_eq!(
            codes,
            [
                "under_review",
                "shortlisted",
                "not_advanced",
                "finalist",
                "awarded",
                "not_awarded",
                "disqualified"
            ]
        );
    }

    #[test]
    fn filters_round_trip_through_the_query() {
        let p = ListParams {
            problem: " bt-01 ".into(),
            field: "health".into(),
            status: "submitted".into(),
            late: "yes".into(),
            drafts: "1".into(),
            page: "2".into(),
            ..ListParams::default()
        };
        let f = Filters::parse(&p);
        assert_eq!(
            f.query(true),
            "problem=BT-01&field=health&status=submitted&late=yes&drafts=1&"
        );
        assert_eq!(
            f.query(false),
            "field=health&status=submitted&late=yes&drafts=1&"
        );
        let ef = f.entry_filter();
        assert_eq!(ef.problem.as_deref(), Some("BT-01"));
        assert!(!ef.submitted_only && ef.late == Some(true));
        assert_eq!(f.page, 2);
        let none = Filters::parse(&ListParams::default());
        assert!(none.entry_filter().submitted_only);
        assert_eq!(none.query(true), "");
    }

    #[test]
    fn back_goes_only_to_the_list() {
        assert_eq!(
            list_back("/organizer/entries?status=submitted&page=2"),
            "/organizer/entries?status=submitted&page=2"
        );
        assert_eq!(list_back("//evil.example"), "/organizer/entries");
        assert_eq!(list_back("/organizer/users"), "/organizer/entries");
    }
}
