//! `/problems`: the public catalog of problem statements.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::error::ParseParamError;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::types::ParseFromParameter;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Serialize;

use super::ApiTags;
use super::error::ApiError;
use super::etag;
use super::payload::{JSON_UTF8, PreEncodedJson};
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

/// The catalog's JSON, encoded once per snapshot, in the snapshot's entry order.
struct Encoded {
    snapshot: Arc<Snapshot>,
    summaries: Vec<Box<str>>,
    /// Each problem's full statement and its ETag.
    details: Vec<(Bytes, HeaderValue)>,
    /// Listing pages already assembled, by canonical query, up to [`PAGE_CACHE_BYTES`].
    pages: RwLock<PageCache>,
}

/// How many bytes of assembled listing pages each snapshot keeps; queries past that are
/// assembled on every request. The default first page is about 21 kB.
const PAGE_CACHE_BYTES: usize = 4 << 20;

#[derive(Default)]
struct PageCache {
    bytes: usize,
    by_query: HashMap<String, (Bytes, HeaderValue)>,
}

impl Encoded {
    fn build(snapshot: Arc<Snapshot>) -> Encoded {
        let mut summaries = Vec::with_capacity(snapshot.entries.len());
        let mut details = Vec::with_capacity(snapshot.entries.len());
        for e in &snapshot.entries {
            // Serializing plain structs of strings and numbers cannot fail.
            summaries.push(
                serde_json::to_string(&summary(&e.problem))
                    .unwrap_or_default()
                    .into_boxed_str(),
            );
            let body = Bytes::from(serde_json::to_vec(&detail(e)).unwrap_or_default());
            let tag = etag::header(etag::make(&[
                e.problem.code.as_str(),
                &e.updated_at.to_string(),
                &snapshot.version,
            ]));
            details.push((body, tag));
        }
        Encoded {
            snapshot,
            summaries,
            details,
            pages: RwLock::default(),
        }
    }

    fn cached_page(&self, key: &str) -> Option<(Bytes, HeaderValue)> {
        let pages = match self.pages.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        pages.by_query.get(key).cloned()
    }

    fn remember_page(&self, key: String, body: &Bytes, tag: &HeaderValue) {
        let mut pages = match self.pages.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let size = key.len() + body.len() + tag.len();
        if pages.bytes + size <= PAGE_CACHE_BYTES && !pages.by_query.contains_key(&key) {
            pages.bytes += size;
            pages.by_query.insert(key, (body.clone(), tag.clone()));
        }
    }

    /// The position of `entry`, which must be one of this snapshot's entries.
    fn index(&self, entry: &CatalogEntry) -> Option<usize> {
        let entries = &self.snapshot.entries;
        let offset =
            (entry as *const CatalogEntry as usize).checked_sub(entries.as_ptr() as usize)?;
        let i = offset / std::mem::size_of::<CatalogEntry>().max(1);
        entries
            .get(i)
            .is_some_and(|e| std::ptr::eq(e, entry))
            .then_some(i)
    }
}

/// The two catalog reads, shared by the OpenAPI operations (which document them) and the plain
/// endpoints that serve them on the hot path ([`ListProblems`], [`GetProblem`]).
pub struct CatalogReads {
    catalog: Arc<Catalog>,
    /// Built on first use, so that a copy that never serves costs nothing.
    encoded: RwLock<Option<Arc<Encoded>>>,
}

/// The query parameters of `listProblems`, parsed.
#[derive(Default)]
pub struct ListParams {
    pub field: Option<FieldCode>,
    pub group: Option<GroupCode>,
    pub agency: Option<String>,
    pub q: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

impl ListParams {
    /// Parses the query string as poem-openapi does for `listProblems`: the same decoding (a
    /// malformed query string counts as empty), the first value of a repeated parameter, the
    /// parameters in declaration order, and the same `ParseParamError` for a bad value, which
    /// `api::error::to_problem_response` turns into problem details.
    fn from_request(req: &Request) -> poem::Result<ListParams> {
        if req.uri().query().is_none_or(str::is_empty) {
            return Ok(ListParams::default());
        }
        let pairs: Vec<(String, String)> = req.params().unwrap_or_default();
        fn param<T: ParseFromParameter>(
            pairs: &[(String, String)],
            name: &'static str,
        ) -> poem::Result<T> {
            T::parse_from_parameters(
                pairs
                    .iter()
                    .filter(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str()),
            )
            .map_err(|e| {
                ParseParamError {
                    name,
                    reason: e.into_message(),
                }
                .into()
            })
        }
        Ok(ListParams {
            field: param(&pairs, "field")?,
            group: param(&pairs, "group")?,
            agency: param(&pairs, "agency")?,
            q: param(&pairs, "q")?,
            page: param(&pairs, "page")?,
            per_page: param(&pairs, "per_page")?,
        })
    }
}

/// A successful catalog read.
enum Read {
    Ok { body: Bytes, tag: HeaderValue },
    NotModified(HeaderValue),
}

impl Read {
    fn into_response(self) -> Response {
        match self {
            Read::Ok { body, tag } => {
                let mut resp = Response::builder().body(body);
                let headers = resp.headers_mut();
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
                headers.insert(header::ETAG, tag);
                headers.insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static(CACHE_CONTROL),
                );
                resp
            }
            Read::NotModified(tag) => {
                let mut resp = Response::builder()
                    .status(StatusCode::NOT_MODIFIED)
                    .finish();
                resp.headers_mut().insert(header::ETAG, tag);
                resp
            }
        }
    }

    fn etag_string(tag: &HeaderValue) -> String {
        tag.to_str().unwrap_or_default().to_owned()
    }
}

/// Why a catalog read was refused; the message needs the request's language.
enum Refusal {
    Query(QueryError),
    NoSuchProblem(String),
    Stale,
}

impl Refusal {
    fn into_api_error(self, lang: Lang) -> ApiError {
        match self {
            Refusal::Query(e) => {
                ApiError::invalid_parameter(lang, e.parameter(), query_error_message(&e, lang))
            }
            Refusal::NoSuchProblem(code) => {
                let msg = match lang {
                    Lang::Vi => format!("Không có bài toán mã `{code}`."),
                    Lang::En => format!("There is no problem with code `{code}`."),
                };
                ApiError::not_found(lang, msg)
            }
            Refusal::Stale => ApiError::internal(lang, &"catalog encoding out of date"),
        }
    }

    /// The error an OpenAPI operation returning this `ApiError` would give.
    fn into_error(self, req: &Request) -> poem::Error {
        poem::Error::from_response(self.into_api_error(Lang::detect(req)).into_response())
    }
}

/// The first `If-None-Match` that is visible ASCII, as `Header<Option<String>>` reads it.
fn if_none_match(req: &Request) -> Option<&str> {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .find_map(|v| v.to_str().ok())
}

impl CatalogReads {
    pub fn new(catalog: Arc<Catalog>) -> CatalogReads {
        CatalogReads {
            catalog,
            encoded: RwLock::new(None),
        }
    }

    /// The encoded JSON of the current snapshot, rebuilt when the catalog changed.
    fn encoded(&self) -> Arc<Encoded> {
        let snapshot = self.catalog.snapshot();
        let current = match self.encoded.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        if let Some(current) = current
            && Arc::ptr_eq(&current.snapshot, &snapshot)
        {
            return current;
        }
        let fresh = Arc::new(Encoded::build(snapshot));
        match self.encoded.write() {
            Ok(mut g) => *g = Some(Arc::clone(&fresh)),
            Err(p) => *p.into_inner() = Some(Arc::clone(&fresh)),
        }
        fresh
    }

    fn list(&self, params: ListParams, if_none_match: Option<&str>) -> Result<Read, Refusal> {
        let query = ProblemQuery::new(
            params.field.map(Into::into),
            params.group.map(Into::into),
            params.agency,
            params.q,
            params.page,
            params.per_page,
        )
        .map_err(Refusal::Query)?;
        let encoded = self.encoded();
        let snapshot = &encoded.snapshot;
        let key = query.canonical();
        if let Some((body, tag)) = encoded.cached_page(&key) {
            if etag::matches(if_none_match, tag.to_str().unwrap_or_default()) {
                return Ok(Read::NotModified(tag));
            }
            return Ok(Read::Ok { body, tag });
        }
        let tag = etag::make(&[&snapshot.version, &key]);
        if etag::matches(if_none_match, &tag) {
            return Ok(Read::NotModified(etag::header(tag)));
        }
        let page = snapshot.query(&query);
        // The page is the pre-encoded summaries joined into a ProblemPage object.
        let items = || {
            page.items
                .iter()
                .filter_map(|e| encoded.index(e).and_then(|i| encoded.summaries.get(i)))
                .map(|json| json.as_bytes())
        };
        let mut body = Vec::with_capacity(80 + items().map(|s| s.len() + 1).sum::<usize>());
        body.extend_from_slice(b"{\"items\":[");
        for (i, json) in items().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(json);
        }
        // Writing to a Vec cannot fail.
        let _ = write!(
            body,
            "],\"total\":{},\"page\":{},\"per_page\":{}}}",
            page.total, query.page, query.per_page
        );
        let (body, tag) = (Bytes::from(body), etag::header(tag));
        encoded.remember_page(key, &body, &tag);
        Ok(Read::Ok { body, tag })
    }

    fn get(&self, code: &str, if_none_match: Option<&str>) -> Result<Read, Refusal> {
        let encoded = self.encoded();
        let code = code.trim();
        let upper;
        let code = if code.bytes().any(|b| b.is_ascii_lowercase()) {
            upper = code.to_ascii_uppercase();
            upper.as_str()
        } else {
            code
        };
        let Some(entry) = encoded.snapshot.get(code) else {
            return Err(Refusal::NoSuchProblem(code.to_owned()));
        };
        let Some((body, tag)) = encoded.index(entry).and_then(|i| encoded.details.get(i)) else {
            return Err(Refusal::Stale);
        };
        if etag::matches(if_none_match, tag.to_str().unwrap_or_default()) {
            return Ok(Read::NotModified(tag.clone()));
        }
        Ok(Read::Ok {
            body: body.clone(),
            tag: tag.clone(),
        })
    }
}

/// `GET /api/v1/problems` as a plain poem endpoint, mounted in front of the OpenAPI service,
/// which still documents it (`listProblems`). Same parameters, answers and errors; it skips the
/// OpenAPI layer's per-request work (nested route, query map, extractors).
pub struct ListProblems(pub Arc<CatalogReads>);

impl Endpoint for ListProblems {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let params = ListParams::from_request(&req)?;
        match self.0.list(params, if_none_match(&req)) {
            Ok(read) => Ok(read.into_response()),
            Err(refusal) => Err(refusal.into_error(&req)),
        }
    }
}

/// `GET /api/v1/problems/:code` as a plain poem endpoint, in front of `getProblem`.
pub struct GetProblem(pub Arc<CatalogReads>);

impl Endpoint for GetProblem {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let code = req.raw_path_param("code").unwrap_or_default();
        match self.0.get(code, if_none_match(&req)) {
            Ok(read) => Ok(read.into_response()),
            Err(refusal) => Err(refusal.into_error(&req)),
        }
    }
}

/// The OpenAPI operations of the catalog. They describe the API in the spec and answer when the
/// service is mounted alone; the server routes these two paths to [`ListProblems`] and
/// [`GetProblem`], which run the same code.
pub struct ProblemsApi {
    reads: CatalogReads,
}

impl ProblemsApi {
    pub fn new(catalog: Arc<Catalog>) -> ProblemsApi {
        ProblemsApi {
            reads: CatalogReads::new(catalog),
        }
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
        let params = ListParams {
            field: field.0,
            group: group.0,
            agency: agency.0,
            q: q.0,
            page: page.0,
            per_page: per_page.0,
        };
        match self.reads.list(params, if_none_match.0.as_deref()) {
            Ok(Read::Ok { body, tag }) => Ok(ListResponse::Ok(
                PreEncodedJson::new(body),
                Read::etag_string(&tag),
                CACHE_CONTROL.into(),
            )),
            Ok(Read::NotModified(tag)) => Ok(ListResponse::NotModified(Read::etag_string(&tag))),
            Err(refusal) => Err(refusal.into_api_error(Lang::detect(req))),
        }
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
        match self.reads.get(&code.0, if_none_match.0.as_deref()) {
            Ok(Read::Ok { body, tag }) => Ok(GetResponse::Ok(
                PreEncodedJson::new(body),
                Read::etag_string(&tag),
                CACHE_CONTROL.into(),
            )),
            Ok(Read::NotModified(tag)) => Ok(GetResponse::NotModified(Read::etag_string(&tag))),
            Err(refusal) => Err(refusal.into_api_error(Lang::detect(req))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use poem::http::Method;
    use poem::middleware::CookieJarManager;
    use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get};

    use super::{CatalogReads, GetProblem, ListProblems};
    use crate::config::DatabaseConfig;
    use crate::i18n::Lang;
    use crate::service::catalog::Catalog;
    use crate::store::Store;

    async fn catalog(dir: &tempfile::TempDir) -> Arc<Catalog> {
        catalog_and_store(dir).await.0
    }

    async fn catalog_and_store(dir: &tempfile::TempDir) -> (Arc<Catalog>, Store) {
        let store = Store::connect(&DatabaseConfig {
            url: format!("sqlite://{}", dir.path().join("t.db").display()),
            max_connections: 2,
            busy_timeout_ms: 5000,
        })
        .await
        .expect("store");
        store.migrate().await.expect("migrate");
        let problems = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("problems");
        crate::service::problems::import_dir(&store, None, &problems, false)
            .await
            .expect("import");
        (
            Arc::new(Catalog::load(&store).await.expect("catalog")),
            store,
        )
    }

    /// Errors become problem details in Vietnamese, as the edge does for `/api`.
    fn finish(ep: impl Endpoint + 'static) -> impl Endpoint<Output = Response> {
        ep.around(|ep, req| async move {
            Ok(match ep.call(req).await {
                Ok(resp) => resp.into_response(),
                Err(err) => crate::api::error::to_problem_response(err, Lang::Vi),
            })
        })
        .with(CookieJarManager::new())
    }

    async fn answer(ep: &impl Endpoint<Output = Response>, req: Request) -> (String, Vec<u8>) {
        let resp = ep.call(req).await.expect("answered");
        let mut head = format!("{}", resp.status());
        for name in ["content-type", "etag", "cache-control", "set-cookie"] {
            head.push_str(&format!(" {name}={:?}", resp.headers().get(name)));
        }
        let body = resp.into_body().into_vec().await.expect("body");
        (head, body)
    }

    /// The plain endpoints the server routes to answer exactly as the documented operations.
    #[tokio::test]
    async fn plain_endpoints_answer_like_the_openapi_operations() {
        let dir = tempfile::tempdir().expect("dir");
        let catalog = catalog(&dir).await;
        let openapi =
            finish(Route::new().nest("/api/v1", crate::api::service(Arc::clone(&catalog))));
        let reads = Arc::new(CatalogReads::new(Arc::clone(&catalog)));
        let plain = finish(
            Route::new()
                .at("/api/v1/problems", get(ListProblems(Arc::clone(&reads))))
                .at("/api/v1/problems/:code", get(GetProblem(reads))),
        );
        let (_, first) = answer(
            &plain,
            Request::builder().uri_str("/api/v1/problems").finish(),
        )
        .await;
        assert!(first.starts_with(b"{\"items\":[{\"code\":\"BT-01\""));
        let list_tag = plain
            .call(
                Request::builder()
                    .uri_str("/api/v1/problems?field=energy")
                    .finish(),
            )
            .await
            .expect("answered")
            .headers()["etag"]
            .to_str()
            .expect("tag")
            .to_owned();
        let one_tag = plain
            .call(
                Request::builder()
                    .uri_str("/api/v1/problems/BT-01")
                    .finish(),
            )
            .await
            .expect("answered")
            .headers()["etag"]
            .to_str()
            .expect("tag")
            .to_owned();
        let long_q = format!("/api/v1/problems?q={}", "a".repeat(201));
        let uris = [
            "/api/v1/problems",
            "/api/v1/problems?per_page=100",
            "/api/v1/problems?page=2&per_page=30",
            "/api/v1/problems?page=4&per_page=30",
            "/api/v1/problems?field=energy",
            "/api/v1/problems?field=health&group=sector",
            "/api/v1/problems?agency=bo%20cong%20thuong&q=so",
            "/api/v1/problems?q=chuyen%20doi%20so&lang=en",
            "/api/v1/problems?field=health&field=space",
            "/api/v1/problems?page=abc",
            "/api/v1/problems?page=",
            "/api/v1/problems?page=0",
            "/api/v1/problems?per_page=101&lang=en",
            "/api/v1/problems?per_page=99999999999999",
            "/api/v1/problems?field=space",
            "/api/v1/problems?group=army&page=x",
            "/api/v1/problems?q=%ZZ",
            "/api/v1/problems?agency=",
            long_q.as_str(),
            "/api/v1/problems/BT-01",
            "/api/v1/problems/bt-01",
            "/api/v1/problems/%20Bt-02%20",
            "/api/v1/problems/BT-99",
            "/api/v1/problems/BT-99?lang=en",
        ];
        let headers: [&[(&str, &str)]; 6] = [
            &[],
            &[("if-none-match", list_tag.as_str())],
            &[("if-none-match", one_tag.as_str())],
            &[("if-none-match", "\"stale\", *")],
            &[("accept-language", "en-GB,en;q=0.8")],
            &[("cookie", "lang=en")],
        ];
        let mut seen = std::collections::BTreeSet::new();
        for uri in uris {
            for extra in headers {
                for method in [Method::GET, Method::HEAD] {
                    let req = || {
                        let mut b = Request::builder().method(method.clone()).uri_str(uri);
                        for (name, value) in extra {
                            b = b.header(*name, *value);
                        }
                        b.finish()
                    };
                    let want = answer(&openapi, req()).await;
                    let got = answer(&plain, req()).await;
                    assert_eq!(got.0, want.0, "{method} {uri} {extra:?}");
                    assert!(got.1 == want.1, "{method} {uri} {extra:?}: bodies differ");
                    seen.insert(got.0[..3].to_owned());
                }
            }
        }
        let seen: Vec<_> = seen.into_iter().collect();
        assert_eq!(seen, ["200", "304", "400", "404"]);
    }

    /// Cached pages and statements follow the catalog when it changes.
    #[tokio::test]
    async fn answers_follow_a_catalog_change() {
        let dir = tempfile::tempdir().expect("dir");
        let (catalog, store) = catalog_and_store(&dir).await;
        let reads = Arc::new(CatalogReads::new(Arc::clone(&catalog)));
        let plain = finish(
            Route::new()
                .at("/api/v1/problems", get(ListProblems(Arc::clone(&reads))))
                .at("/api/v1/problems/:code", get(GetProblem(reads))),
        );
        let list = || {
            Request::builder()
                .uri_str("/api/v1/problems?per_page=100")
                .finish()
        };
        let one = || {
            Request::builder()
                .uri_str("/api/v1/problems/BT-02")
                .finish()
        };
        let (list_head, list_before) = answer(&plain, list()).await;
        assert_eq!(
            answer(&plain, list()).await,
            (list_head.clone(), list_before)
        );
        let (one_head, _) = answer(&plain, one()).await;

        let changed = dir.path().join("problems");
        std::fs::create_dir(&changed).expect("mkdir");
        let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("problems");
        for file in std::fs::read_dir(&source).expect("read dir") {
            let file = file.expect("entry").path();
            let mut text = std::fs::read_to_string(&file).expect("read");
            if file.ends_with("BT-02.md") {
                text = text.replacen("title_en = \"", "title_en = \"Revised: ", 1);
            }
            std::fs::write(changed.join(file.file_name().expect("name")), text).expect("write");
        }
        crate::service::problems::import_dir(&store, None, &changed, false)
            .await
            .expect("import");
        catalog.refresh(&store).await.expect("refresh");

        let (list_head_after, list_after) = answer(&plain, list()).await;
        assert_ne!(list_head_after, list_head, "the listing's ETag changes");
        let list_after: serde_json::Value = serde_json::from_slice(&list_after).expect("json");
        assert!(
            list_after["items"][1]["title_en"]
                .as_str()
                .is_some_and(|t| t.starts_with("Revised: "))
        );
        let (one_head_after, one_after) = answer(&plain, one()).await;
        assert_ne!(one_head_after, one_head, "the statement's ETag changes");
        let one_after: serde_json::Value = serde_json::from_slice(&one_after).expect("json");
        assert!(
            one_after["title_en"]
                .as_str()
                .is_some_and(|t| t.starts_with("Revised: "))
        );
    }
}
