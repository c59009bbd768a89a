//! `/outbox` endpoints.

use poem_openapi::OpenApi;

use super::ApiTags;

pub struct OutboxApi;

#[OpenApi(tag = "ApiTags::Organizers")]
impl OutboxApi {}
