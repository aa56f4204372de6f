//! The partner booking staff page: a static page and its script, served without a token (they
//! hold no data). The script calls the admin JSON API with the token the user types in, so
//! every check stays in the API. The page's policy allows only its own script and API.

use http::StatusCode;
use lambda_http::{Body, Request, Response};

use crate::app::AppState;
use crate::http::Problem;

const PAGE: &str = include_str!("staff_page/page.html");
const SCRIPT: &str = include_str!("staff_page/page.js");

fn asset(content_type: &str, body: &'static str) -> Result<Response<Body>, Problem> {
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, content_type)
        .header(http::header::CACHE_CONTROL, "no-cache")
        .header(
            "content-security-policy",
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; \
             form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        )
        .header("referrer-policy", "no-referrer")
        .header("x-content-type-options", "nosniff")
        .body(Body::Text(body.to_owned()))
        .map_err(|_| Problem::internal())
}

/// `GET /staff/partner-booking`
pub async fn page(_state: &AppState, _request: &Request) -> Result<Response<Body>, Problem> {
    asset("text/html; charset=utf-8", PAGE)
}

/// `GET /staff/partner-booking.js`
pub async fn script(_state: &AppState, _request: &Request) -> Result<Response<Body>, Problem> {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_its_own_script_and_never_writes_html_from_data() {
        assert!(PAGE.contains(r#"<script src="/staff/partner-booking.js" defer></script>"#));
        assert!(!SCRIPT.contains("innerHTML") && !SCRIPT.contains("insertAdjacentHTML") && !SCRIPT.contains("eval("));
    }
}
