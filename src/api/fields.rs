//! `/fields`: the fixed list of fields, with how many problems each has.

use std::sync::Arc;

use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::ApiTags;
use super::types::FieldCode;
use crate::service::catalog::Catalog;

/// A field and its number of published problems.
#[derive(Debug, Object)]
pub struct FieldCount {
    pub code: FieldCode,
    pub name_vi: String,
    pub name_en: String,
    /// Number of published problems in this field.
    pub count: u64,
}

pub struct FieldsApi {
    pub catalog: Arc<Catalog>,
}

#[OpenApi(tag = "ApiTags::Problems")]
impl FieldsApi {
    /// List fields
    ///
    /// Every field of the contest, in a fixed order, with its number of problems.
    #[oai(path = "/fields", method = "get", operation_id = "listFields")]
    async fn list(&self) -> Json<Vec<FieldCount>> {
        let snapshot = self.catalog.snapshot();
        Json(
            snapshot
                .field_counts()
                .into_iter()
                .map(|(f, n)| FieldCount {
                    code: f.into(),
                    name_vi: f.name_vi().into(),
                    name_en: f.name_en().into(),
                    count: n as u64,
                })
                .collect(),
        )
    }
}
