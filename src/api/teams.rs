//! `/teams` endpoints.

use poem_openapi::OpenApi;

use super::ApiTags;

pub struct TeamsApi;

#[OpenApi(tag = "ApiTags::Teams")]
impl TeamsApi {}
