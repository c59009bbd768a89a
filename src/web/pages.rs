//! The public catalog pages: the home page (catalog with filters and search) and a problem page.

use std::sync::Arc;

use askama::Template;
use poem::http::StatusCode;
use poem::web::{Data, Html, Path, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use crate::domain::problem::{Field, Group, Problem};
use crate::domain::time::Millis;
use crate::i18n::Lang;
use crate::service::catalog::{Catalog, ProblemQuery};
use crate::service::{Ctx, now_ms};
use crate::web::view::Page;

/// What every page's layout needs.
pub struct Chrome {
    pub lang: Lang,
    pub contest_name: String,
    pub path: String,
    /// The current query string without `lang`, ending in `&` when not empty.
    pub query_without_lang: String,
    pub server_time: String,
    /// Who is logged in, for the header.
    pub user: Option<ChromeUser>,
    /// The CSRF token for the page's forms (and the header's logout button); empty when the
    /// page has none.
    pub csrf: String,
}

/// The logged-in person, as the header shows them.
pub struct ChromeUser {
    pub name: String,
    pub participant: bool,
    pub organizer: bool,
}

/// The contest's names, shared with the pages.
#[derive(Clone)]
pub struct ContestNames {
    pub vi: String,
    pub en: String,
}

impl Chrome {
    pub fn new(req: &Request, lang: Lang, names: &ContestNames) -> Chrome {
        Chrome::for_path(
            req.uri().path(),
            req.uri().query().unwrap_or(""),
            lang,
            names,
        )
    }

    fn for_path(path: &str, query: &str, lang: Lang, names: &ContestNames) -> Chrome {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|kv| !kv.is_empty() && !kv.starts_with("lang="))
            .collect();
        let mut query_without_lang = kept.join("&");
        if !query_without_lang.is_empty() {
            query_without_lang.push('&');
        }
        Chrome {
            lang,
            contest_name: lang.pick(&names.vi, &names.en).to_owned(),
            path: path.to_owned(),
            query_without_lang,
            server_time: Millis(now_ms()).display_ict(),
            user: None,
            csrf: String::new(),
        }
    }
}

pub(crate) fn render(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).with_status(status).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    heading: &'a str,
    message: &'a str,
}

pub fn render_error(
    status: StatusCode,
    heading: &str,
    message: &str,
    path: &str,
    lang: Lang,
    names: &ContestNames,
) -> Response {
    let chrome = Chrome::for_path(path, "", lang, names);
    render(
        status,
        &ErrorPage {
            chrome,
            heading,
            message,
        },
    )
}

pub struct Choice {
    pub code: &'static str,
    pub name: &'static str,
    pub count: usize,
    pub selected: bool,
}

pub struct Card {
    pub code: String,
    pub title: String,
    pub agency: String,
    pub field_name: &'static str,
    pub market: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    q: String,
    fields: Vec<Choice>,
    groups: Vec<Choice>,
    items: Vec<Card>,
    total: usize,
    page: u32,
    pages: u32,
    filter_query: String,
}

#[derive(Deserialize, Default)]
pub struct HomeParams {
    q: Option<String>,
    field: Option<String>,
    group: Option<String>,
    page: Option<String>,
}

fn market_line(p: &Problem) -> String {
    format!(
        "{} {} · {}",
        group_digits(p.market.count),
        p.market.unit,
        p.market.users
    )
}

/// `1400000` → `1.400.000` (Vietnamese digit grouping).
fn group_digits(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

const PAGE_SIZE: u32 = 24;

#[handler]
pub async fn home(
    req: &Request,
    Query(params): Query<HomeParams>,
    catalog: Data<&Arc<Catalog>>,
    names: Data<&ContestNames>,
    ctx: Data<&Ctx>,
) -> poem::Result<Response> {
    let view = Page::load_public(req, &ctx, &names).await?;
    let lang = view.lang;
    let field = params.field.as_deref().and_then(Field::from_code);
    let group = params.group.as_deref().and_then(Group::from_code);
    let page = params
        .page
        .as_deref()
        .and_then(|p| p.parse::<u32>().ok())
        .filter(|p| *p > 0);
    let q = params.q.clone().unwrap_or_default();
    // A search longer than the limit is cut rather than refused: the box caps it anyway.
    let q_capped: String = q
        .chars()
        .take(crate::service::catalog::MAX_QUERY_CHARS)
        .collect();
    let query = ProblemQuery::new(
        field,
        group,
        None,
        Some(q_capped.clone()),
        page,
        Some(PAGE_SIZE),
    )
    .unwrap_or_default();
    let snapshot = catalog.snapshot();
    let result = snapshot.query(&query);
    let items = result
        .items
        .iter()
        .map(|e| {
            let p = &e.problem;
            Card {
                code: p.code.to_string(),
                title: lang.pick(&p.title_vi, &p.title_en).to_owned(),
                agency: lang.pick(&p.agency, &p.agency_en).to_owned(),
                field_name: lang.pick(p.field.name_vi(), p.field.name_en()),
                market: market_line(p),
            }
        })
        .collect();
    let fields = snapshot
        .field_counts()
        .into_iter()
        .map(|(f, count)| Choice {
            code: f.code(),
            name: lang.pick(f.name_vi(), f.name_en()),
            count,
            selected: field == Some(f),
        })
        .collect();
    let groups = snapshot
        .group_counts()
        .into_iter()
        .map(|(g, count)| Choice {
            code: g.code(),
            name: lang.pick(g.name_vi(), g.name_en()),
            count,
            selected: group == Some(g),
        })
        .collect();
    let mut filter_query = String::new();
    for (k, v) in [
        ("q", q_capped.as_str()),
        ("field", field.map_or("", Field::code)),
        ("group", group.map_or("", Group::code)),
    ] {
        if !v.is_empty() {
            filter_query.push_str(&format!("{k}={}&", urlencode(v)));
        }
    }
    let pages = (result.total as u32).div_ceil(PAGE_SIZE);
    Ok(render(
        StatusCode::OK,
        &HomePage {
            chrome: view.chrome,
            q: q_capped,
            fields,
            groups,
            items,
            total: result.total,
            page: query.page.max(1),
            pages,
            filter_query,
        },
    ))
}

pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[derive(Template)]
#[template(path = "problem.html")]
struct ProblemPage<'a> {
    chrome: Chrome,
    code: &'a str,
    title: &'a str,
    alt_title: &'a str,
    alt_lang: &'a str,
    field_name: &'a str,
    group_name: &'a str,
    agency: &'a str,
    market: String,
    policy_mandated: bool,
    updated: String,
    summary_en: &'a str,
    pain_point: &'a str,
    expected_outcome: &'a str,
    data_available: &'a str,
    constraints: &'a str,
    policy_basis: &'a str,
    body_html: &'a str,
}

#[handler]
pub async fn problem(
    req: &Request,
    Path(code): Path<String>,
    catalog: Data<&Arc<Catalog>>,
    names: Data<&ContestNames>,
    ctx: Data<&Ctx>,
) -> poem::Result<Response> {
    let snapshot = catalog.snapshot();
    let entry = snapshot
        .get(&code.to_ascii_uppercase())
        .ok_or_else(|| poem::Error::from_status(StatusCode::NOT_FOUND))?;
    let p = &entry.problem;
    let page = Page::load_public(req, &ctx, &names).await?;
    let lang = page.lang;
    let (title, alt_title, alt_lang) = match lang {
        Lang::Vi => (p.title_vi.as_str(), p.title_en.as_str(), "en"),
        Lang::En => (p.title_en.as_str(), p.title_vi.as_str(), "vi"),
    };
    Ok(render(
        StatusCode::OK,
        &ProblemPage {
            chrome: page.chrome,
            code: p.code.as_str(),
            title,
            alt_title,
            alt_lang,
            field_name: lang.pick(p.field.name_vi(), p.field.name_en()),
            group_name: lang.pick(p.group.name_vi(), p.group.name_en()),
            agency: lang.pick(&p.agency, &p.agency_en),
            market: market_line(p),
            policy_mandated: p.policy_mandated,
            updated: Millis(entry.updated_at).display_ict(),
            summary_en: &p.summary_en,
            pain_point: &p.pain_point,
            expected_outcome: &p.expected_outcome,
            data_available: &p.data_available,
            constraints: &p.constraints,
            policy_basis: &p.policy_basis,
            body_html: &entry.body_html,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_grouped_the_vietnamese_way() {
        assert_eq!(group_digits(32), "32");
        assert_eq!(group_digits(1_400_000), "1.400.000");
        assert_eq!(group_digits(10_600), "10.600");
    }

    #[test]
    fn urlencodes_vietnamese() {
        assert_eq!(urlencode("y tế"), "y+t%E1%BA%BF");
    }
}
