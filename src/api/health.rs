//! `/health` (the process is alive) and `/ready` (the database answers).

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, handler};
use serde_json::json;

use crate::store::Store;

#[handler]
pub fn health() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
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
