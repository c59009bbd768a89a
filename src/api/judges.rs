//! `/judges` endpoints.

use poem_openapi::OpenApi;

use super::ApiTags;

pub struct JudgesApi;

#[OpenApi(tag = "ApiTags::Organizers")]
impl JudgesApi {}
