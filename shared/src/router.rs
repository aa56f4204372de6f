//! Serves one request: finds its row in the route table by the route key API Gateway (or the
//! local server) set, runs the row's handler, and logs the outcome.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::Instrument;

use crate::app::AppState;
use crate::http::Problem;
use crate::http::request::{request_id, route_key};
use crate::http::response::{json, respond};
use crate::routes::{ROUTES, Route, Serve};

/// Runs `route`'s handler.
pub async fn dispatch(state: &AppState, route: &Route, request: Request) -> Response<Body> {
    respond(match route.serve {
        Serve::Handler(handler) => handler(state, &request).await,
        Serve::Document => json(StatusCode::OK, &crate::openapi::document()),
    })
}

/// Serves one request for `function`, answering 404 for a route this function does not own.
pub async fn handle(state: &AppState, function: &str, request: Request) -> Response<Body> {
    let key = route_key(&request).unwrap_or("").to_owned();
    let span = tracing::info_span!("request", request_id = %request_id(&request), route = %key, function);
    async move {
        let found = ROUTES.iter().find(|route| route.function == function && route.key() == key);
        let response = match found {
            Some(route) => dispatch(state, route, request).await,
            None => Problem::not_found(format!("no route {key:?} in this function")).into_response(),
        };
        tracing::info!(status = response.status().as_u16(), "answered");
        response
    }
    .instrument(span)
    .await
}
