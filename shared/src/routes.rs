//! The route table: one source of truth for which function serves which method and path. The
//! SAM template, the local server and the OpenAPI document are checked against it by tests.

use lambda_http::{Body, Request, Response};
use tracing::Instrument;

use crate::app::AppState;
use crate::features::{activity, booking_types, clinics, meta};
use crate::http::Problem;
use crate::http::request::{request_id, route_key};
use crate::http::response::respond;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (patients, health checks).
    Public,
    /// Staff with a JWT (validated by the API's JWT authorizer).
    Admin,
}

/// Every endpoint the product serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// Liveness.
    Health,
    /// The OpenAPI document.
    OpenApi,
    /// Create or update a clinic's profile.
    PutClinic,
    /// Create a booking type.
    CreateBookingType,
    /// List a clinic's booking types.
    ListBookingTypes,
    /// Change a booking type, now or at a set time.
    UpdateBookingType,
    /// A booking type's audit history.
    BookingTypeHistory,
    /// A clinic's daily activity counters.
    ClinicActivity,
    /// The public catalogue of bookable types.
    PublicCatalog,
}

/// One route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path template in API Gateway syntax.
    pub path: &'static str,
    /// The Lambda function (folder under `functions/`) that serves it.
    pub function: &'static str,
    /// Who may call it.
    pub access: Access,
    /// What it does.
    pub endpoint: Endpoint,
}

impl Route {
    /// The API Gateway route key, e.g. `GET /health`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

const fn route(
    method: &'static str,
    path: &'static str,
    function: &'static str,
    access: Access,
    endpoint: Endpoint,
) -> Route {
    Route { method, path, function, access, endpoint }
}

/// Every route.
pub const ROUTES: &[Route] = &[
    route("GET", "/health", "meta", Access::Public, Endpoint::Health),
    route("GET", "/openapi.json", "meta", Access::Public, Endpoint::OpenApi),
    route("PUT", "/admin/clinics/{clinicId}", "catalog-admin", Access::Admin, Endpoint::PutClinic),
    route(
        "POST",
        "/admin/clinics/{clinicId}/booking-types",
        "catalog-admin",
        Access::Admin,
        Endpoint::CreateBookingType,
    ),
    route("GET", "/admin/clinics/{clinicId}/booking-types", "catalog-admin", Access::Admin, Endpoint::ListBookingTypes),
    route(
        "PATCH",
        "/admin/clinics/{clinicId}/booking-types/{bookingTypeId}",
        "catalog-admin",
        Access::Admin,
        Endpoint::UpdateBookingType,
    ),
    route(
        "GET",
        "/admin/clinics/{clinicId}/booking-types/{bookingTypeId}/history",
        "catalog-admin",
        Access::Admin,
        Endpoint::BookingTypeHistory,
    ),
    route("GET", "/admin/clinics/{clinicId}/activity", "catalog-admin", Access::Admin, Endpoint::ClinicActivity),
    route("GET", "/public/clinics/{clinicId}/booking-types", "catalog-public", Access::Public, Endpoint::PublicCatalog),
];

/// Runs the endpoint's handler.
pub async fn dispatch(state: &AppState, endpoint: Endpoint, request: Request) -> Response<Body> {
    respond(match endpoint {
        Endpoint::Health => meta::health(state, &request).await,
        Endpoint::OpenApi => meta::openapi(state, &request).await,
        Endpoint::PutClinic => clinics::put_clinic(state, &request).await,
        Endpoint::CreateBookingType => booking_types::admin::create(state, &request).await,
        Endpoint::ListBookingTypes => booking_types::admin::list(state, &request).await,
        Endpoint::UpdateBookingType => booking_types::admin::update(state, &request).await,
        Endpoint::BookingTypeHistory => booking_types::admin::history(state, &request).await,
        Endpoint::ClinicActivity => activity::list(state, &request).await,
        Endpoint::PublicCatalog => booking_types::public::catalog(state, &request).await,
    })
}

/// Serves one request for `function`: finds the route by the route key API Gateway (or the
/// local server) set, and answers 404 for a route this function does not own.
pub async fn handle(state: &AppState, function: &str, request: Request) -> Response<Body> {
    let key = route_key(&request).unwrap_or("").to_owned();
    let span = tracing::info_span!("request", request_id = %request_id(&request), route = %key, function);
    async move {
        let found = ROUTES.iter().find(|route| route.function == function && route.key() == key);
        let response = match found {
            Some(route) => dispatch(state, route.endpoint, request).await,
            None => Problem::not_found(format!("no route {key:?} in this function")).into_response(),
        };
        tracing::info!(status = response.status().as_u16(), "answered");
        response
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys_are_unique_and_admin_routes_live_under_admin() {
        let mut keys: Vec<String> = ROUTES.iter().map(Route::key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), ROUTES.len());
        for route in ROUTES {
            assert_eq!(route.access == Access::Admin, route.path.starts_with("/admin/"), "{}", route.key());
        }
    }
}
