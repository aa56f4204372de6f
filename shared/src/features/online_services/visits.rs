//! A portal visit: what a visitor's identification found, kept for 30 minutes under a random
//! 256-bit token that only the visitor's browser holds, in a cookie that scripts cannot read
//! (`HttpOnly`), that no other site's form sends (`SameSite=Strict`), and that only this clinic's
//! portal path receives. Only the token's SHA-256 is stored; the visit's details never travel in
//! a URL or a form, so the booking steps can be plain links like the public pages'.

use http::{HeaderValue, StatusCode};
use jiff::SignedDuration;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use super::portal::Known;
use crate::app::AppState;
use crate::domain::booking_link::LinkToken;
use crate::domain::clinic::{Clinic, ClinicId};
use crate::domain::patient::{PatientDetails, PatientRecord, Sex};
use crate::features::booking_links::tokens;
use crate::http::Problem;
use crate::store::{Condition, Item, Write, keys};

/// How long an identification lasts.
const VISIT_MINUTES: i64 = 30;

/// The cookie's name.
const COOKIE: &str = "portal_visit";

/// What the store keeps of a visit (no `Debug`: patient data).
#[derive(Serialize, Deserialize)]
struct StoredVisit {
    clinic_id: ClinicId,
    details: PatientDetails,
    record: Option<PatientRecord>,
    sex: Option<Sex>,
    postcode: Option<String>,
}

/// An open visit: who the visitor is, and the hash naming the visit.
pub(crate) struct Visit {
    /// What identification found.
    pub(crate) known: Known,
    /// The token's hash (never the token).
    pub(crate) hash: String,
}

/// Records a visit for `known` and returns its token, for the cookie.
pub(crate) async fn start(state: &AppState, known: &Known) -> Result<LinkToken, Problem> {
    let token = tokens::draw().map_err(|error| {
        tracing::error!(%error, "no visit token");
        Problem::unavailable()
    })?;
    let stored = StoredVisit {
        clinic_id: known.clinic.id.clone(),
        details: known.details.clone(),
        record: known.record.clone(),
        sex: known.sex,
        postcode: known.postcode.clone(),
    };
    let expires = state.clock.now() + SignedDuration::from_mins(VISIT_MINUTES);
    let item = Item::from_record(keys::portal_visit(token.hash().as_str()), &stored)?.with_expiry(expires.as_second());
    state.store.write(Write::put(item, Condition::NotExists)).await?;
    Ok(token)
}

/// The token in the request's cookie, if any.
fn cookie_token(request: &Request) -> Option<LinkToken> {
    request
        .headers()
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        .find_map(LinkToken::parse)
}

/// The visit the request's cookie names at this clinic, if it is still open.
pub(crate) async fn open(state: &AppState, clinic: &Clinic, request: &Request) -> Result<Option<Visit>, Problem> {
    let Some(token) = cookie_token(request) else { return Ok(None) };
    let hash = token.hash().as_str().to_owned();
    let Some(item) = state.store.get(&keys::portal_visit(&hash)).await? else { return Ok(None) };
    let stored: StoredVisit = item.record()?;
    if stored.clinic_id != clinic.id {
        return Ok(None);
    }
    let known = Known {
        clinic: clinic.clone(),
        details: stored.details,
        record: stored.record,
        sex: stored.sex,
        postcode: stored.postcode,
    };
    Ok(Some(Visit { known, hash }))
}

/// Ends the visit the request's cookie names (if any).
pub(crate) async fn end(state: &AppState, request: &Request) -> Result<(), Problem> {
    if let Some(token) = cookie_token(request) {
        state
            .store
            .write(Write::Delete { key: keys::portal_visit(token.hash().as_str()), condition: Condition::Always })
            .await?;
    }
    Ok(())
}

/// Whether the request reached us over https (API Gateway always; the local server not).
fn secure(request: &Request) -> bool {
    request.uri().scheme_str() == Some("https")
        || request.headers().get("x-forwarded-proto").is_some_and(|value| value.as_bytes() == b"https")
}

/// The `Set-Cookie` value holding `token` for this clinic's portal, or clearing it.
fn cookie(clinic: &ClinicId, token: Option<&LinkToken>, request: &Request) -> String {
    let (value, age) = match token {
        Some(token) => (token.as_str().to_owned(), VISIT_MINUTES * 60),
        None => (String::new(), 0),
    };
    let secure = if secure(request) { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/portal/{clinic}; Max-Age={age}; HttpOnly; SameSite=Strict{secure}")
}

/// A "see other" answer to `location`, setting (or clearing) the visit's cookie.
pub(crate) fn redirect(
    clinic: &ClinicId,
    token: Option<&LinkToken>,
    request: &Request,
    location: &str,
) -> Result<Response<Body>, Problem> {
    let cookie = HeaderValue::from_str(&cookie(clinic, token, request)).map_err(|_| Problem::internal())?;
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(http::header::LOCATION, location)
        .header(http::header::SET_COOKIE, cookie)
        .header(http::header::CACHE_CONTROL, "no-store")
        .body(Body::Empty)
        .map_err(|_| Problem::internal())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> Request {
        let mut builder = http::Request::builder().uri("/portal/demo");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::Empty).unwrap()
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_scoped_to_the_clinics_portal() {
        let clinic = ClinicId::parse("demo").unwrap();
        let token = tokens::draw().unwrap();
        let plain = cookie(&clinic, Some(&token), &request(&[]));
        assert!(plain.starts_with(&format!("portal_visit={}; Path=/portal/demo; Max-Age=1800;", token.as_str())));
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Strict") && !plain.contains("Secure"));
        let behind_tls = cookie(&clinic, Some(&token), &request(&[("x-forwarded-proto", "https")]));
        assert!(behind_tls.ends_with("; Secure"));
        assert!(cookie(&clinic, None, &request(&[])).starts_with("portal_visit=; Path=/portal/demo; Max-Age=0;"));
    }

    #[test]
    fn the_token_is_read_from_among_other_cookies_and_garbage_is_none() {
        let token = tokens::draw().unwrap();
        let header = format!("theme=dark; portal_visit={}; other=1", token.as_str());
        let found = cookie_token(&request(&[("cookie", &header)])).unwrap();
        assert_eq!(found.as_str(), token.as_str());
        assert!(cookie_token(&request(&[("cookie", "portal_visit=not-a-token")])).is_none());
        assert!(cookie_token(&request(&[("cookie", "xportal_visit=abc")])).is_none());
        assert!(cookie_token(&request(&[])).is_none());
    }
}
