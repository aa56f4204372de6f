//! HTTP glue shared by every route: RFC 9457 problems, typed request parsing, claims, responses.

pub mod auth;
pub mod html;
pub mod problem;
pub mod request;
pub mod response;

pub use lambda_http::{Body, Request, Response};
pub use problem::Problem;
