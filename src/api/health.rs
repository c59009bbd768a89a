//! `/health` (the process is alive) and `/ready` (the database answers).

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};
use serde_json::json;

use super::payload::JSON_UTF8;
use crate::store::Store;

/// Fixed bytes, so that the benchmark's `/health` case measures the middleware alone.
#[handler]
pub fn health() -> Response {
    Response::builder()
        .content_type(JSON_UTF8)
        .body(r#"{"status":"ok"}"#)
}

#[handler]
pub async fn ready(store: Data<&Store>) -> impl IntoResponse {
    match store.ping().await {
        Ok(()) => Json(json!({ "status": "ready", "database": "ok" })).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": "unreachable" })),
            )
                .into_response()
        }
    }
}
