//! Health. (The API description is served by the router from the route table.)

use http::StatusCode;
use lambda_http::{Body, Request, Response};

use crate::app::AppState;
use crate::http::Problem;
use crate::http::response::json;

/// `GET /health`: the function is up (no dependency is called, so it stays cheap).
pub async fn health(_state: &AppState, _request: &Request) -> Result<Response<Body>, Problem> {
    json(StatusCode::OK, &serde_json::json!({"status": "ok"}))
}
