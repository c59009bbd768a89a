//! `/users` endpoints.

use poem_openapi::OpenApi;

use super::ApiTags;

pub struct UsersApi;

#[OpenApi(tag = "ApiTags::Organizers")]
impl UsersApi {}
