//! `/audit` endpoints.

use poem_openapi::OpenApi;

use super::ApiTags;

pub struct AuditApi;

#[OpenApi(tag = "ApiTags::Organizers")]
impl AuditApi {}
