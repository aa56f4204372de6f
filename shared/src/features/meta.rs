//! Health and the API description.

use http::StatusCode;
use lambda_http::{Body, Request, Response};

use crate::app::AppState;
use crate::http::Problem;
use crate::http::response::json;

/// `GET /health`: the function is up (no dependency is called, so it stays cheap).
pub async fn health(_state: &AppState, _request: &Request) -> Result<Response<Body>, Problem> {
    json(StatusCode::OK, &serde_json::json!({"status": "ok"}))
}

/// `GET /openapi.json`: the OpenAPI 3.1 document of every route.
pub async fn openapi(_state: &AppState, _request: &Request) -> Result<Response<Body>, Problem> {
    json(StatusCode::OK, &crate::openapi::document())
}
