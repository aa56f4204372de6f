//! Building successful responses.

use http::StatusCode;
use lambda_http::{Body, Response};
use serde::Serialize;

use super::problem::Problem;

/// A JSON response with `status`.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Response<Body>, Problem> {
    let body = serde_json::to_string(value).map_err(|error| {
        tracing::error!(%error, "response did not serialise");
        Problem::internal()
    })?;
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::CACHE_CONTROL, "no-store")
        .body(Body::Text(body))
        .map_err(|_| Problem::internal())
}

/// A CSV download named `filename`.
pub fn csv(filename: &str, body: String) -> Result<Response<Body>, Problem> {
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "text/csv; charset=utf-8")
        .header(http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\""))
        .header(http::header::CACHE_CONTROL, "no-store")
        .body(Body::Text(body))
        .map_err(|_| Problem::internal())
}

/// A PDF named `filename`, shown inline (for printing).
pub fn pdf(filename: &str, bytes: Vec<u8>) -> Result<Response<Body>, Problem> {
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "application/pdf")
        .header(http::header::CONTENT_DISPOSITION, format!("inline; filename=\"{filename}\""))
        .header(http::header::CACHE_CONTROL, "no-store")
        .body(Body::Binary(bytes))
        .map_err(|_| Problem::internal())
}

/// A JSON response carrying the record's `ETag` (its version), for `If-Match` on the next write.
pub fn json_versioned<T: Serialize>(status: StatusCode, value: &T, version: u64) -> Result<Response<Body>, Problem> {
    let mut response = json(status, value)?;
    if let Ok(etag) = format!("\"{version}\"").parse() {
        response.headers_mut().insert(http::header::ETAG, etag);
    }
    Ok(response)
}

/// Turns a handler's outcome into the response sent.
pub fn respond(outcome: Result<Response<Body>, Problem>) -> Response<Body> {
    outcome.unwrap_or_else(Problem::into_response)
}
