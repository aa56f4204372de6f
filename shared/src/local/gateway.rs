//! The local API Gateway: each HTTP request becomes an API Gateway HTTP API (v2) event, with the
//! route key, path parameters and (for admin routes) the verified JWT claims in the request
//! context, and is handled by the same function code the Lambdas run.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};

use super::jwt::SigningKey;
use crate::app::EmbeddedApp;
use crate::clock::{Clock, ManualClock};
use crate::http::Problem;
use crate::messages::outbox::list_outbox;
use crate::router::handle;
use crate::routes::{Access, ROUTES, Route};

/// Most bytes of a request body the local gateway takes (API Gateway's payload limit is larger;
/// JSON routes refuse more than 64 KiB themselves, the booking form more than its referral limit).
const MAX_REQUEST_BYTES: usize = 8 * 1024 * 1024;

/// What the gateway needs.
#[derive(Clone)]
pub struct Gateway {
    /// The application.
    pub app: Arc<EmbeddedApp>,
    /// The clock the demo fast-forward moves.
    pub clock: Arc<ManualClock>,
    /// Verifies admin tokens.
    pub signing_key: Arc<SigningKey>,
    /// The data directory (the clock's offset is kept there).
    pub data_dir: std::path::PathBuf,
}

/// The axum router: local developer routes under `/_local/`, everything else through the route table.
pub fn router(gateway: Gateway) -> axum::Router {
    axum::Router::new()
        .route("/_local/outbox", axum::routing::get(outbox))
        .route("/_local/clock", axum::routing::get(read_clock).post(advance_clock))
        .route("/_local/referral-uploads/{*key}", axum::routing::put(referral_upload))
        .fallback(serve)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(gateway)
}

/// How many segments of a route template are literal (not `{parameters}`).
fn literal_segments(template: &str) -> usize {
    template.split('/').filter(|segment| !segment.starts_with('{')).count()
}

/// Matches a path against a route template, returning the path parameters.
pub fn match_path(template: &str, path: &str) -> Option<HashMap<String, String>> {
    let mut parameters = HashMap::new();
    let mut template_parts = template.trim_start_matches('/').split('/');
    let mut path_parts = path.trim_start_matches('/').split('/');
    loop {
        match (template_parts.next(), path_parts.next()) {
            (None, None) => return Some(parameters),
            (Some(expected), Some(actual)) => {
                if let Some(name) = expected.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')) {
                    if actual.is_empty() {
                        return None;
                    }
                    let decoded = percent_decode(actual)?;
                    parameters.insert(name.to_owned(), decoded);
                } else if expected != actual {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = segment.get(index + 1..index + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn query_map(raw: &str) -> Value {
    let mut map = serde_json::Map::new();
    for pair in raw.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |text: &str| percent_decode(&text.replace('+', " ")).unwrap_or_default();
        let (name, value) = (decode(name), decode(value));
        // API Gateway v2 joins repeated parameters with commas.
        match map.get_mut(&name) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                map.insert(name, Value::String(value));
            }
        }
    }
    Value::Object(map)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(http::header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// Builds the API Gateway v2 event for a request.
#[allow(clippy::too_many_arguments)]
pub fn gateway_event(
    route: &Route,
    method: &Method,
    path: &str,
    raw_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    path_parameters: HashMap<String, String>,
    claims: Option<HashMap<String, String>>,
    source_ip: &str,
    now: jiff::Timestamp,
) -> Value {
    let mut header_map = serde_json::Map::new();
    let mut cookies = Vec::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == http::header::COOKIE {
            cookies.extend(value.split(';').map(|cookie| Value::String(cookie.trim().to_owned())));
            continue;
        }
        match header_map.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                header_map.insert(name.as_str().to_owned(), Value::String(value));
            }
        }
    }
    let (body, is_base64) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (Value::Null, false),
        Ok(text) => (Value::String(text.to_owned()), false),
        Err(_) => (Value::String(STANDARD.encode(body)), true),
    };
    let user_agent = headers.get(http::header::USER_AGENT).and_then(|value| value.to_str().ok()).unwrap_or("");
    let mut context = json!({
        "accountId": "000000000000",
        "apiId": "local",
        "domainName": "127.0.0.1",
        "domainPrefix": "local",
        "http": {"method": method.as_str(), "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip, "userAgent": user_agent},
        "requestId": uuid::Uuid::new_v4().to_string(),
        "routeKey": route.key(),
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000").to_string(),
        "timeEpoch": now.as_millisecond(),
    });
    if let Some(claims) = claims {
        context["authorizer"] = json!({"jwt": {"claims": claims, "scopes": null}});
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": route.key(),
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": header_map,
        "requestContext": context,
        "isBase64Encoded": is_base64,
    });
    if !cookies.is_empty() {
        event["cookies"] = Value::Array(cookies);
    }
    if !raw_query.is_empty() {
        event["queryStringParameters"] = query_map(raw_query);
    }
    if !path_parameters.is_empty() {
        event["pathParameters"] = json!(path_parameters);
    }
    if !body.is_null() {
        event["body"] = body;
    }
    event
}

async fn serve(
    State(gateway): State<Gateway>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    // As API Gateway does: of the templates a path matches, the most specific one (the most
    // literal segments: `/patients/search-index` over `/patients/{patientReference}`) is the
    // resource; a method it lacks is a 405 naming the methods it has.
    let resource: Vec<_> = {
        let matching: Vec<_> = ROUTES.iter().filter_map(|route| Some((route, match_path(route.path, path)?))).collect();
        let best = matching.iter().map(|(route, _)| literal_segments(route.path)).max();
        matching.into_iter().filter(|(route, _)| Some(literal_segments(route.path)) == best).collect()
    };
    let matched = resource.iter().find(|(route, _)| route.method == method.as_str()).cloned();
    let Some((route, parameters)) = matched else {
        let allowed: Vec<&str> = resource.iter().map(|(route, _)| route.method).collect();
        if allowed.is_empty() {
            return to_axum(Problem::not_found(format!("no route for {method} {path}")).into_response());
        }
        let mut response =
            to_axum(Problem::method_not_allowed(format!("{path} answers {}", allowed.join(", "))).into_response());
        if let Ok(value) = allowed.join(", ").parse() {
            response.headers_mut().insert(http::header::ALLOW, value);
        }
        return response;
    };
    let claims = match route.access {
        Access::Public => None,
        Access::Admin => match bearer(&headers).map(|token| gateway.signing_key.verify(token)) {
            Some(Ok(claims)) => Some(claims),
            Some(Err(_)) => {
                return to_axum(Problem::unauthorized("the admin token is invalid or expired").into_response());
            }
            None => {
                return to_axum(
                    Problem::unauthorized("send an admin token as `Authorization: Bearer …`").into_response(),
                );
            }
        },
    };
    let event = gateway_event(
        route,
        &method,
        path,
        uri.query().unwrap_or(""),
        &headers,
        &body,
        parameters,
        claims,
        &peer.ip().to_string(),
        gateway.clock.now(),
    );
    let request = match lambda_http::request::from_str(&event.to_string()) {
        Ok(request) => request,
        Err(error) => {
            tracing::error!(%error, "local gateway built an event lambda_http cannot read");
            return to_axum(Problem::internal().into_response());
        }
    };
    to_axum(handle(&gateway.app.state, route.function, request).await)
}

fn to_axum(response: lambda_http::Response<lambda_http::Body>) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        lambda_http::Body::Empty => Vec::new(),
        lambda_http::Body::Text(text) => text.into_bytes(),
        lambda_http::Body::Binary(bytes) => bytes,
        _ => Vec::new(),
    };
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

async fn outbox(State(gateway): State<Gateway>) -> Response {
    match list_outbox(gateway.app.state.store.as_ref()).await {
        Ok(messages) => axum::Json(json!({"messages": messages})).into_response(),
        Err(error) => to_axum(Problem::from(error).into_response()),
    }
}

/// The local stand-in for an S3 presigned PUT of a referral.
async fn referral_upload(
    State(gateway): State<Gateway>,
    axum::extract::Path(key): axum::extract::Path<String>,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use crate::files::embedded::UploadRefused;
    let content_type = headers.get(http::header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let token = query.get("token").map(String::as_str).unwrap_or("");
    match gateway.app.files.accept_upload(&key, token, content_type, &body, gateway.clock.now()) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(UploadRefused::BadToken) => {
            to_axum(Problem::forbidden("the upload link is invalid or expired").into_response())
        }
        Err(UploadRefused::Mismatch(field)) => {
            to_axum(Problem::malformed(field, "does not match the signed upload").into_response())
        }
        Err(UploadRefused::Storage(cause)) => {
            tracing::error!(%cause, "referral not stored");
            to_axum(Problem::unavailable().into_response())
        }
    }
}

/// `GET /_local/clock`: the server's time and how far `POST` has moved it.
async fn read_clock(State(gateway): State<Gateway>) -> Response {
    let offset_hours = gateway.clock.offset().map(|offset| offset.as_secs() / 3600);
    axum::Json(json!({"now": gateway.clock.now().to_string(), "advanced_hours": offset_hours})).into_response()
}

async fn advance_clock(State(gateway): State<Gateway>, body: Bytes) -> Response {
    let hours = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|value| value.get("advance_hours").and_then(Value::as_i64));
    match hours {
        Some(hours) if (1..=24 * 400).contains(&hours) => {
            gateway.clock.advance(jiff::SignedDuration::from_hours(hours));
            if let Some(offset) = gateway.clock.offset()
                && let Err(error) = super::save_clock_offset(&gateway.data_dir, offset)
            {
                tracing::error!(%error, "the clock's offset was not saved; a restart forgets it");
            }
            axum::Json(json!({"now": gateway.clock.now().to_string()})).into_response()
        }
        _ => {
            let problem = Problem::malformed("advance_hours", "send {\"advance_hours\": n} with n from 1 to 9600");
            (StatusCode::BAD_REQUEST, to_axum(problem.into_response())).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_only_their_own_shape() {
        let parameters =
            match_path("/admin/clinics/{clinicId}/booking-types", "/admin/clinics/demo/booking-types").unwrap();
        assert_eq!(parameters["clinicId"], "demo");
        assert!(match_path("/admin/clinics/{clinicId}/booking-types", "/admin/clinics/demo").is_none());
        assert!(match_path("/admin/clinics/{clinicId}", "/admin/clinics//").is_none());
        assert!(match_path("/health", "/health/x").is_none());
        assert_eq!(match_path("/a/{b}", "/a/x%20y").unwrap()["b"], "x y");
    }

    #[test]
    fn a_built_event_reads_back_as_the_same_request() {
        use lambda_http::RequestExt;
        let route = ROUTES.iter().find(|route| route.key() == "GET /admin/clinics/{clinicId}/booking-types").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-test", "1".parse().unwrap());
        let event = gateway_event(
            route,
            &Method::GET,
            "/admin/clinics/demo/booking-types",
            "limit=5&cursor=a%2Bb",
            &headers,
            b"",
            HashMap::from([("clinicId".to_owned(), "demo".to_owned())]),
            Some(HashMap::from([("sub".to_owned(), "staff-1".to_owned())])),
            "127.0.0.1",
            jiff::Timestamp::UNIX_EPOCH,
        );
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        assert_eq!(crate::http::request::route_key(&request), Some("GET /admin/clinics/{clinicId}/booking-types"));
        assert_eq!(request.path_parameters().first("clinicId"), Some("demo"));
        assert_eq!(request.query_string_parameters().first("cursor"), Some("a+b"));
        assert_eq!(crate::http::auth::actor(&request).unwrap().subject, "staff-1");
    }
}
