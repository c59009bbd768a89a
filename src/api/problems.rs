//! `/problems`: the public catalog of problem statements.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use poem::Request;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Serialize;

use super::ApiTags;
use super::error::ApiError;
use super::etag;
use super::payload::PreEncodedJson;
use super::types::{FieldCode, GroupCode};
use crate::domain::problem::Problem;
use crate::domain::time::Millis;
use crate::i18n::Lang;
use crate::service::catalog::{Catalog, CatalogEntry, ProblemQuery, QueryError, Snapshot};

/// Who would use a solution, and how many of them there are.
#[derive(Debug, Object, Serialize)]
pub struct MarketView {
    /// Who would use it (Vietnamese).
    pub users: String,
    /// How many units or people.
    pub count: u64,
    /// The unit of `count` (Vietnamese).
    pub unit: String,
}

/// A problem in a listing.
#[derive(Debug, Object, Serialize)]
pub struct ProblemSummary {
    /// Stable code, e.g. `BT-01`.
    pub code: String,
    pub title_vi: String,
    pub title_en: String,
    /// Proposing agency (Vietnamese name).
    pub agency: String,
    pub agency_en: String,
    pub field: FieldCode,
    pub group: GroupCode,
    /// Whether national policy documents already call for a solution.
    pub policy_mandated: bool,
    pub market: MarketView,
    /// Short English summary.
    pub summary_en: String,
}

/// A problem's full statement.
#[derive(Debug, Object, Serialize)]
pub struct ProblemDetail {
    #[oai(flatten)]
    #[serde(flatten)]
    pub summary: ProblemSummary,
    pub pain_point: String,
    pub expected_outcome: String,
    pub data_available: String,
    pub constraints: String,
    pub policy_basis: String,
    /// The statement body, Markdown (Vietnamese).
    pub body_markdown: String,
    /// The statement body rendered to sanitized HTML.
    pub body_html: String,
    /// Last change, RFC 3339 UTC.
    pub updated_at: String,
}

/// One page of problems.
#[derive(Debug, Object, Serialize)]
pub struct ProblemPage {
    pub items: Vec<ProblemSummary>,
    /// Number of problems matching the filters, over all pages.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(ApiResponse)]
pub enum ListResponse {
    /// A page of problems.
    #[oai(status = 200)]
    Ok(
        PreEncodedJson<ProblemPage>,
        #[oai(header = "ETag")] String,
        #[oai(header = "Cache-Control")] String,
    ),
    /// Unchanged since the ETag given in If-None-Match.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum GetResponse {
    /// The full statement.
    #[oai(status = 200)]
    Ok(
        PreEncodedJson<ProblemDetail>,
        #[oai(header = "ETag")] String,
        #[oai(header = "Cache-Control")] String,
    ),
    /// Unchanged since the ETag given in If-None-Match.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

pub fn summary(p: &Problem) -> ProblemSummary {
    ProblemSummary {
        code: p.code.to_string(),
        title_vi: p.title_vi.clone(),
        title_en: p.title_en.clone(),
        agency: p.agency.clone(),
        agency_en: p.agency_en.clone(),
        field: p.field.into(),
        group: p.group.into(),
        policy_mandated: p.policy_mandated,
        market: MarketView {
            users: p.market.users.clone(),
            count: p.market.count,
            unit: p.market.unit.clone(),
        },
        summary_en: p.summary_en.clone(),
    }
}

fn detail(e: &CatalogEntry) -> ProblemDetail {
    let p = &e.problem;
    ProblemDetail {
        summary: summary(p),
        pain_point: p.pain_point.clone(),
        expected_outcome: p.expected_outcome.clone(),
        data_available: p.data_available.clone(),
        constraints: p.constraints.clone(),
        policy_basis: p.policy_basis.clone(),
        body_markdown: p.body.clone(),
        body_html: e.body_html.clone(),
        updated_at: Millis(e.updated_at).rfc3339_utc(),
    }
}

/// Localized message for a refused listing query.
pub fn query_error_message(err: &QueryError, lang: Lang) -> String {
    use crate::service::catalog::{MAX_PER_PAGE, MAX_QUERY_CHARS};
    match (err, lang) {
        (QueryError::Page, Lang::Vi) => "Tham số `page` phải từ 1 trở lên.".into(),
        (QueryError::Page, Lang::En) => "Parameter `page` must be 1 or more.".into(),
        (QueryError::PerPage, Lang::Vi) => {
            format!("Tham số `per_page` phải từ 1 đến {MAX_PER_PAGE}.")
        }
        (QueryError::PerPage, Lang::En) => {
            format!("Parameter `per_page` must be between 1 and {MAX_PER_PAGE}.")
        }
        (QueryError::TooLong(p), Lang::Vi) => {
            format!("Tham số `{p}` dài quá {MAX_QUERY_CHARS} ký tự.")
        }
        (QueryError::TooLong(p), Lang::En) => {
            format!("Parameter `{p}` is longer than {MAX_QUERY_CHARS} characters.")
        }
    }
}

const CACHE_CONTROL: &str = "public, no-cache";

/// The catalog's JSON, encoded once per snapshot version.
struct Encoded {
    version: String,
    summaries: HashMap<String, String>,
    details: HashMap<String, Bytes>,
}

impl Encoded {
    fn build(snapshot: &Snapshot) -> Encoded {
        let mut summaries = HashMap::with_capacity(snapshot.entries.len());
        let mut details = HashMap::with_capacity(snapshot.entries.len());
        for e in &snapshot.entries {
            let code = e.problem.code.to_string();
            // Serializing plain structs of strings and numbers cannot fail.
            summaries.insert(
                code.clone(),
                serde_json::to_string(&summary(&e.problem)).unwrap_or_default(),
            );
            details.insert(
                code,
                Bytes::from(serde_json::to_vec(&detail(e)).unwrap_or_default()),
            );
        }
        Encoded {
            version: snapshot.version.clone(),
            summaries,
            details,
        }
    }
}

pub struct ProblemsApi {
    catalog: Arc<Catalog>,
    encoded: RwLock<Arc<Encoded>>,
}

impl ProblemsApi {
    pub fn new(catalog: Arc<Catalog>) -> ProblemsApi {
        let encoded = Encoded::build(&catalog.snapshot());
        ProblemsApi {
            catalog,
            encoded: RwLock::new(Arc::new(encoded)),
        }
    }

    /// The encoded JSON of `snapshot`, rebuilt when the catalog changed.
    fn encoded(&self, snapshot: &Snapshot) -> Arc<Encoded> {
        let current = match self.encoded.read() {
            Ok(g) => Arc::clone(&g),
            Err(p) => Arc::clone(&p.into_inner()),
        };
        if current.version == snapshot.version {
            return current;
        }
        let fresh = Arc::new(Encoded::build(snapshot));
        match self.encoded.write() {
            Ok(mut g) => *g = Arc::clone(&fresh),
            Err(p) => *p.into_inner() = Arc::clone(&fresh),
        }
        fresh
    }
}

#[OpenApi(tag = "ApiTags::Problems")]
impl ProblemsApi {
    /// List problems
    ///
    /// Paginated and ordered by code. `q` searches titles and statements in both languages,
    /// ignoring case and Vietnamese accents (`chuyen doi so` finds `chuyển đổi số`); every word
    /// must match. Send the ETag back in `If-None-Match` to get 304 when nothing changed.
    #[oai(path = "/problems", method = "get", operation_id = "listProblems")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        req: &Request,
        /// Only problems of this field.
        field: Query<Option<FieldCode>>,
        /// Only problems of this group.
        group: Query<Option<GroupCode>>,
        /// Only problems whose proposing agency contains this text (accent-insensitive).
        agency: Query<Option<String>>,
        /// Search words.
        q: Query<Option<String>>,
        /// Page number, from 1.
        page: Query<Option<u32>>,
        /// Problems per page, 1 to 100 (default 20).
        per_page: Query<Option<u32>>,
        #[oai(name = "If-None-Match")] if_none_match: Header<Option<String>>,
    ) -> Result<ListResponse, ApiError> {
        let lang = Lang::detect(req);
        let query = ProblemQuery::new(
            field.0.map(Into::into),
            group.0.map(Into::into),
            agency.0,
            q.0,
            page.0,
            per_page.0,
        )
        .map_err(|e| {
            ApiError::invalid_parameter(lang, e.parameter(), query_error_message(&e, lang))
        })?;
        let snapshot = self.catalog.snapshot();
        let tag = etag::make(&[&snapshot.version, &query.canonical()]);
        if etag::matches(if_none_match.0.as_deref(), &tag) {
            return Ok(ListResponse::NotModified(tag));
        }
        let page = snapshot.query(&query);
        let encoded = self.encoded(&snapshot);
        // The page is the pre-encoded summaries joined into a ProblemPage object.
        let mut body = String::with_capacity(64 + page.items.len() * 1100);
        body.push_str("{\"items\":[");
        for (i, e) in page.items.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            if let Some(json) = encoded.summaries.get(e.problem.code.as_str()) {
                body.push_str(json);
            }
        }
        body.push_str(&format!(
            "],\"total\":{},\"page\":{},\"per_page\":{}}}",
            page.total, query.page, query.per_page
        ));
        Ok(ListResponse::Ok(
            PreEncodedJson::new(body),
            tag,
            CACHE_CONTROL.into(),
        ))
    }

    /// Get a problem
    ///
    /// The full statement of one problem, by code.
    #[oai(path = "/problems/:code", method = "get", operation_id = "getProblem")]
    async fn get(
        &self,
        req: &Request,
        /// Problem code, e.g. `BT-01`.
        code: Path<String>,
        #[oai(name = "If-None-Match")] if_none_match: Header<Option<String>>,
    ) -> Result<GetResponse, ApiError> {
        let lang = Lang::detect(req);
        let snapshot = self.catalog.snapshot();
        let code = code.0.trim().to_ascii_uppercase();
        let Some(entry) = snapshot.get(&code) else {
            let msg = match lang {
                Lang::Vi => format!("Không có bài toán mã `{code}`."),
                Lang::En => format!("There is no problem with code `{code}`."),
            };
            return Err(ApiError::not_found(lang, msg));
        };
        let tag = etag::make(&[
            entry.problem.code.as_str(),
            &entry.updated_at.to_string(),
            &snapshot.version,
        ]);
        if etag::matches(if_none_match.0.as_deref(), &tag) {
            return Ok(GetResponse::NotModified(tag));
        }
        let encoded = self.encoded(&snapshot);
        let Some(body) = encoded.details.get(entry.problem.code.as_str()).cloned() else {
            return Err(ApiError::internal(lang, &"catalog encoding out of date"));
        };
        Ok(GetResponse::Ok(
            PreEncodedJson::new(body),
            tag,
            CACHE_CONTROL.into(),
        ))
    }
}
