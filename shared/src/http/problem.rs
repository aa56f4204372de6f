//! RFC 9457 problem details: the one shape every error answer takes.

use http::StatusCode;
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::domain::validation::FieldError;

/// Most bytes of a request body any route accepts.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An `application/problem+json` body.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong this time.
    pub detail: String,
    /// Every rejected field, when the input was at fault.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Seconds to wait before retrying (also sent as `Retry-After`).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("tag:clinic-booking,2026:problem:{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// Malformed input: not JSON, wrong types, missing fields; names the field.
    pub fn malformed(field: impl Into<String>, message: impl Into<String>) -> Self {
        let error = FieldError::new(field, message);
        let mut problem = Self::new(
            StatusCode::BAD_REQUEST,
            "malformed-request",
            "Malformed request",
            format!("`{}` {}", error.field, error.message),
        );
        problem.errors.push(error);
        problem
    }

    /// Well-formed input that breaks a rule; names every bad field.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
        let mut problem = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "Invalid input",
            format!("invalid field(s): {}", fields.join(", ")),
        );
        problem.errors = errors;
        problem
    }

    /// No credentials, or credentials that could not be read.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "Authentication required", detail)
    }

    /// Authenticated but not allowed.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed", detail)
    }

    /// The thing asked for does not exist (or is not visible to the caller).
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// The write named (`If-Match`) another version than the record has now.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, "stale-version", "The record changed since it was read", detail)
    }

    /// The path exists but not with this method.
    pub fn method_not_allowed(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed", detail)
    }

    /// The request conflicts with the current state (a concurrent change, a taken slot).
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
    }

    /// 410: what was asked for lapsed (a hold, a link).
    pub fn gone(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::GONE, "gone", "No longer available", detail)
    }

    /// The client sent too many requests; `Retry-After` says when to come back.
    pub fn too_many_requests() -> Self {
        let mut problem =
            Self::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", "Too many requests", "slow down and retry later");
        problem.retry_after = Some(1);
        problem
    }

    /// The body is larger than any route accepts.
    pub fn too_large() -> Self {
        let mut problem = Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Request too large",
            format!("the body may hold at most {MAX_BODY_BYTES} bytes"),
        );
        problem.errors.push(FieldError::new("body", format!("must be at most {MAX_BODY_BYTES} bytes")));
        problem
    }

    /// The body is not JSON.
    pub fn unsupported_media_type() -> Self {
        let mut problem = Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "send `Content-Type: application/json`",
        );
        problem.errors.push(FieldError::new("content-type", "must be application/json"));
        problem
    }

    /// A backend we depend on failed; the client may retry.
    pub fn unavailable() -> Self {
        let mut problem = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Temporarily unavailable",
            "please try again shortly",
        );
        problem.retry_after = Some(2);
        problem
    }

    /// A fault of ours; the cause is logged, never sent.
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error", "the error was logged")
    }

    /// The HTTP response carrying this problem.
    pub fn into_response(self) -> Response<Body> {
        let body = serde_json::to_string(&self).unwrap_or_else(|_| String::from("{}"));
        let mut builder = Response::builder()
            .status(self.status)
            .header(http::header::CONTENT_TYPE, "application/problem+json")
            .header(http::header::CACHE_CONTROL, "no-store");
        if let Some(seconds) = self.retry_after {
            builder = builder.header(http::header::RETRY_AFTER, seconds.to_string());
        }
        builder.body(Body::Text(body)).unwrap_or_else(|_| Response::new(Body::Empty))
    }
}

impl From<crate::store::StoreError> for Problem {
    fn from(error: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match error {
            StoreError::ConditionFailed { .. } | StoreError::Contention => {
                Problem::conflict("the record changed while this request ran; reload and try again")
            }
            StoreError::BadCursor => Problem::invalid(vec![crate::domain::validation::FieldError::new(
                "cursor",
                "is not a cursor this API issued for this list",
            )]),
            StoreError::Unavailable(cause) => {
                tracing::error!(%cause, "store unavailable");
                Problem::unavailable()
            }
            StoreError::InvalidTransaction(cause) | StoreError::Corrupt(cause) => {
                tracing::error!(%cause, "store fault");
                Problem::internal()
            }
        }
    }
}
