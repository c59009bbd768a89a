//! The problem catalog, cached in memory: it changes rarely and everyone reads it. It is rebuilt
//! after an import and when another instance changed the database (a cheap fingerprint check).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};

use crate::domain::markdown;
use crate::domain::problem::{Field, Group, Problem};
use crate::domain::text;
use crate::store::problems::StoredProblem;
use crate::store::{Store, StoreResult};

/// Largest page size for listings.
pub const MAX_PER_PAGE: u32 = 100;
/// Default page size for listings.
pub const DEFAULT_PER_PAGE: u32 = 20;
/// Longest accepted search or agency filter, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// One problem with what the catalog precomputes for it.
#[derive(Debug)]
pub struct CatalogEntry {
    pub id: String,
    pub problem: Problem,
    pub updated_at: i64,
    pub body_html: String,
    search: String,
    agency_folded: String,
}

/// An immutable view of the catalog; requests hold an `Arc` to it.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub entries: Vec<CatalogEntry>,
    /// Changes whenever any statement changes; part of every ETag.
    pub version: String,
    by_code: HashMap<String, usize>,
}

/// A validated listing query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProblemQuery {
    pub field: Option<Field>,
    pub group: Option<Group>,
    pub agency: Option<String>,
    pub q: Option<String>,
    pub page: u32,
    pub per_page: u32,
}

/// Why a listing query was refused, naming the parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("page must be 1 or more")]
    Page,
    #[error("per_page must be between 1 and {MAX_PER_PAGE}")]
    PerPage,
    #[error("{0} is longer than {MAX_QUERY_CHARS} characters")]
    TooLong(&'static str),
}

impl QueryError {
    pub fn parameter(&self) -> &'static str {
        match self {
            QueryError::Page => "page",
            QueryError::PerPage => "per_page",
            QueryError::TooLong(p) => p,
        }
    }
}

impl ProblemQuery {
    pub fn new(
        field: Option<Field>,
        group: Option<Group>,
        agency: Option<String>,
        q: Option<String>,
        page: Option<u32>,
        per_page: Option<u32>,
    ) -> Result<Self, QueryError> {
        let page = page.unwrap_or(1);
        if page == 0 {
            return Err(QueryError::Page);
        }
        let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
        if per_page == 0 || per_page > MAX_PER_PAGE {
            return Err(QueryError::PerPage);
        }
        let tidy = |v: Option<String>, name: &'static str| -> Result<Option<String>, QueryError> {
            match v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
                Some(s) if s.chars().count() > MAX_QUERY_CHARS => Err(QueryError::TooLong(name)),
                other => Ok(other),
            }
        };
        Ok(ProblemQuery {
            field,
            group,
            agency: tidy(agency, "agency")?,
            q: tidy(q, "q")?,
            page,
            per_page,
        })
    }

    /// A canonical string of the query, for ETags.
    pub fn canonical(&self) -> String {
        format!(
            "f={}&g={}&a={}&q={}&p={}&n={}",
            self.field.map_or("", Field::code),
            self.group.map_or("", Group::code),
            self.agency.as_deref().map(text::fold).unwrap_or_default(),
            self.q.as_deref().map(text::fold).unwrap_or_default(),
            self.page,
            self.per_page
        )
    }
}

/// A page of matching problems.
pub struct Page<'a> {
    pub items: Vec<&'a CatalogEntry>,
    pub total: usize,
}

impl Snapshot {
    pub fn build(stored: Vec<StoredProblem>) -> Snapshot {
        let mut hasher = Sha256::new();
        let mut entries: Vec<CatalogEntry> = stored
            .into_iter()
            .map(|s| {
                hasher.update(s.problem.code.as_str().as_bytes());
                hasher.update(s.content_hash.as_bytes());
                CatalogEntry {
                    search: s.problem.search_text(),
                    agency_folded: text::fold(&format!(
                        "{}\n{}",
                        s.problem.agency, s.problem.agency_en
                    )),
                    body_html: markdown::to_safe_html(&s.problem.body),
                    id: s.id,
                    updated_at: s.updated_at,
                    problem: s.problem,
                }
            })
            .collect();
        entries.sort_by(|a, b| a.problem.code.cmp(&b.problem.code));
        let by_code = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.problem.code.as_str().to_owned(), i))
            .collect();
        let version = hex::encode(&hasher.finalize()[..12]);
        Snapshot {
            entries,
            version,
            by_code,
        }
    }

    pub fn get(&self, code: &str) -> Option<&CatalogEntry> {
        self.by_code.get(code).map(|&i| &self.entries[i])
    }

    /// Filters, searches (accent- and case-insensitive, every term must match) and pages.
    pub fn query(&self, q: &ProblemQuery) -> Page<'_> {
        let terms = q.q.as_deref().map(text::terms).unwrap_or_default();
        let agency = q.agency.as_deref().map(text::fold);
        let matching: Vec<&CatalogEntry> = self
            .entries
            .iter()
            .filter(|e| q.field.is_none_or(|f| e.problem.field == f))
            .filter(|e| q.group.is_none_or(|g| e.problem.group == g))
            .filter(|e| {
                agency
                    .as_deref()
                    .is_none_or(|a| e.agency_folded.contains(a))
            })
            .filter(|e| text::matches_all(&e.search, &terms))
            .collect();
        let total = matching.len();
        let start = (q.page as usize - 1).saturating_mul(q.per_page as usize);
        let items = matching
            .into_iter()
            .skip(start)
            .take(q.per_page as usize)
            .collect();
        Page { items, total }
    }

    /// Every field with its number of problems, in the fixed field order.
    pub fn field_counts(&self) -> Vec<(Field, usize)> {
        Field::ALL
            .iter()
            .map(|f| {
                (
                    *f,
                    self.entries
                        .iter()
                        .filter(|e| e.problem.field == *f)
                        .count(),
                )
            })
            .collect()
    }

    /// Every group with its number of problems.
    pub fn group_counts(&self) -> Vec<(Group, usize)> {
        Group::ALL
            .iter()
            .map(|g| {
                (
                    *g,
                    self.entries
                        .iter()
                        .filter(|e| e.problem.group == *g)
                        .count(),
                )
            })
            .collect()
    }
}

/// The shared, refreshable catalog.
pub struct Catalog {
    current: RwLock<Arc<Snapshot>>,
    fingerprint: RwLock<(i64, i64)>,
}

impl Catalog {
    /// A catalog with no problems, until the first refresh.
    pub fn empty() -> Catalog {
        Catalog {
            current: RwLock::new(Arc::new(Snapshot::default())),
            fingerprint: RwLock::new((-1, -1)),
        }
    }

    pub async fn load(store: &Store) -> StoreResult<Catalog> {
        let catalog = Catalog::empty();
        catalog.refresh(store).await?;
        Ok(catalog)
    }

    /// The current snapshot; cheap.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.current.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Reloads from the database.
    pub async fn refresh(&self, store: &Store) -> StoreResult<()> {
        let fingerprint = store.problems_fingerprint().await?;
        let snapshot = Arc::new(Snapshot::build(store.active_problems().await?));
        match self.current.write() {
            Ok(mut guard) => *guard = snapshot,
            Err(poisoned) => *poisoned.into_inner() = snapshot,
        }
        match self.fingerprint.write() {
            Ok(mut guard) => *guard = fingerprint,
            Err(poisoned) => *poisoned.into_inner() = fingerprint,
        }
        Ok(())
    }

    /// Reloads only when the database changed since the last load. Returns whether it did.
    pub async fn refresh_if_changed(&self, store: &Store) -> StoreResult<bool> {
        let now = store.problems_fingerprint().await?;
        let known = match self.fingerprint.read() {
            Ok(g) => *g,
            Err(p) => *p.into_inner(),
        };
        if now == known {
            return Ok(false);
        }
        self.refresh(store).await?;
        Ok(true)
    }
}
