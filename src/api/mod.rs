//! The JSON API (poem-openapi), one file per resource. The spec is served at `/api/openapi.json`
//! and the interactive docs at `/api/docs`; `dxcontest openapi` prints the spec.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod entries;
pub mod error;
pub mod etag;
pub mod fields;
pub mod health;
pub mod judges;
pub mod outbox;
pub mod payload;
pub mod problems;
pub mod teams;
pub mod timeline;
pub mod types;
pub mod users;

use std::sync::Arc;

use poem_openapi::{OpenApiService, Tags};

use crate::service::catalog::Catalog;

#[derive(Tags)]
pub enum ApiTags {
    /// The published problem statements and their fields.
    Problems,
    /// Registration, sessions and one's own account.
    Accounts,
    /// Teams, members and invitations.
    Teams,
    /// The timeline, entries, attachments, submits and receipts; organizers' entry tools.
    Entries,
    /// Organizer tools: judges, users, outbox, audit log.
    Organizers,
}

pub type Apis = (
    problems::ProblemsApi,
    fields::FieldsApi,
    accounts::AccountsApi,
    teams::TeamsApi,
    timeline::TimelineApi,
    entries::EntriesApi,
    judges::JudgesApi,
    users::UsersApi,
    outbox::OutboxApi,
    audit::AuditApi,
);

/// Where the versioned API is mounted.
pub const BASE: &str = "/api/v1";

pub fn service(catalog: Arc<Catalog>) -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            problems::ProblemsApi::new(Arc::clone(&catalog)),
            fields::FieldsApi { catalog },
            accounts::AccountsApi,
            teams::TeamsApi,
            timeline::TimelineApi,
            entries::EntriesApi,
            judges::JudgesApi,
            users::UsersApi,
            outbox::OutboxApi,
            audit::AuditApi,
        ),
        "dxcontest API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "API of dxcontest, which runs national solution contests. Errors use RFC 9457 problem \
         details (`application/problem+json`) with a machine-readable `code`; messages follow \
         `Accept-Language` or `?lang=vi|en` (Vietnamese by default).",
    )
    .server(BASE)
}

/// The spec as JSON, as served at `/api/openapi.json`.
pub fn spec_json() -> String {
    // The spec does not depend on state; an empty catalog stands in.
    service(Arc::new(Catalog::empty())).spec()
}
