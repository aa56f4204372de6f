//! What every patient page shares: the language, dates written out in it, the page frame with
//! its language switch, the style sheet, and the HTML response with its security headers.

use http::StatusCode;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use lambda_http::{Body, Request, Response};
use maud::{DOCTYPE, Markup, html};

use super::Problem;
use super::request::query_param;

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// French.
    Fr,
}

impl Lang {
    /// The language tag.
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fr => "fr",
        }
    }

    /// The other language and its name in itself, for the language switch.
    pub fn other(self) -> (Self, &'static str) {
        match self {
            Self::En => (Self::Fr, "Français"),
            Self::Fr => (Self::En, "English"),
        }
    }

    /// `?lang=` (or the form's `lang`) first, then the browser's `Accept-Language`, then English.
    pub fn of(request: &Request, form_lang: Option<&str>) -> Self {
        let explicit = form_lang.or_else(|| query_param(request, "lang"));
        match explicit {
            Some("fr") => return Self::Fr,
            Some("en") => return Self::En,
            _ => {}
        }
        let accept =
            request.headers().get(http::header::ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok()).unwrap_or("");
        for part in accept.split(',') {
            let tag = part.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if tag.starts_with("fr") {
                return Self::Fr;
            }
            if tag.starts_with("en") {
                return Self::En;
            }
        }
        Self::En
    }

    fn calendar(self) -> &'static Calendar {
        match self {
            Self::En => &EN_CALENDAR,
            Self::Fr => &FR_CALENDAR,
        }
    }

    /// "Language" in this language (the switch's label).
    pub fn language_label(self) -> &'static str {
        match self {
            Self::En => "Language",
            Self::Fr => "Langue",
        }
    }
}

struct Calendar {
    at: &'static str,
}

const EN_CALENDAR: Calendar = Calendar { at: "at" };

const FR_CALENDAR: Calendar = Calendar { at: "à" };

/// A day written out, e.g. "Monday 23 November 2026" or "lundi 23 novembre 2026".
pub fn long_date(date: Date, lang: Lang) -> String {
    crate::domain::appointment_message::long_date(date, lang.code())
}

/// An instant written out in the clinic's zone, e.g. "Monday 23 November 2026 at 09:15".
pub fn long_time(at: Timestamp, zone: &TimeZone, lang: Lang) -> String {
    let local = at.to_zoned(zone.clone());
    format!("{} {} {}", long_date(local.date(), lang), lang.calendar().at, local.strftime("%H:%M"))
}

/// The style sheet of every patient page (inline: the CSP allows no other source).
pub const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;background:#fff;line-height:1.5}\
main{max-width:40rem;margin:0 auto;padding:1rem}h1{font-size:1.4rem}h2{font-size:1.15rem}\
a,button{font-size:1rem}.choice{display:block;padding:.75rem 1rem;margin:.5rem 0;border:2px solid #0b5394;border-radius:.4rem;color:#0b5394;text-decoration:none;background:#fff;text-align:left;width:100%;box-sizing:border-box;cursor:pointer}\
.choice:hover,.choice:focus{background:#e8f0fb}.slots{display:flex;flex-wrap:wrap;gap:.5rem;padding:0;list-style:none}\
.slots button{padding:.5rem .9rem;border:2px solid #0b5394;border-radius:.4rem;background:#fff;color:#0b5394;cursor:pointer}\
.slots button:focus,.choice:focus,a:focus,input:focus,button:focus{outline:3px solid #f1c232;outline-offset:2px}\
label{display:block;font-weight:600;margin-top:1rem}input[type=text],input[type=tel],input[type=email],input[type=date]{width:100%;padding:.6rem;font-size:1rem;border:1px solid #555;border-radius:.3rem;box-sizing:border-box}\
.primary{display:inline-block;margin-top:1.5rem;padding:.8rem 1.2rem;background:#0b5394;color:#fff;border:0;border-radius:.4rem;cursor:pointer;text-decoration:none}\
.secondary{display:inline-block;margin-top:1rem;padding:.7rem 1.1rem;background:#fff;color:#0b5394;border:2px solid #0b5394;border-radius:.4rem;cursor:pointer}\
.errors{border:3px solid #b00020;padding:.5rem 1rem;margin:1rem 0}.error{color:#b00020;font-weight:600}\
.advisory{border-left:4px solid #0b5394;padding:.5rem 1rem;background:#f3f6fa}.hint{color:#444;font-size:.9rem}\
.logo{max-width:12rem;max-height:6rem}\
nav.lang{text-align:right;padding:.5rem 1rem}dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}dt{font-weight:600}";

/// A whole page: head, the language switch (to `switch_href`) and `body` in `main`.
pub fn document(lang: Lang, title: &str, switch_href: &str, body: Markup) -> Markup {
    let (other, other_name) = lang.other();
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                nav.lang aria-label=(lang.language_label()) {
                    a href=(switch_href) lang=(other.code()) hreflang=(other.code()) { (other_name) }
                }
                main { (body) }
            }
        }
    }
}

/// The content security policy of patient pages: inline styles only, no script, forms to the
/// same origin. `images` also allows https images (a clinic's logo).
fn content_security_policy(images: bool) -> &'static str {
    if images {
        "default-src 'none'; img-src https:; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    } else {
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    }
}

fn respond(status: StatusCode, markup: Markup, images: bool) -> Result<Response<Body>, Problem> {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(http::header::CACHE_CONTROL, "no-store")
        .header("content-security-policy", content_security_policy(images))
        .header("referrer-policy", "no-referrer")
        .header("x-content-type-options", "nosniff")
        .body(Body::Text(markup.into_string()))
        .map_err(|_| Problem::internal())
}

/// An HTML page with the strict policy.
pub fn html_response(status: StatusCode, markup: Markup) -> Result<Response<Body>, Problem> {
    respond(status, markup, false)
}

/// An HTML page that may show https images (a clinic's logo).
pub fn html_response_with_images(status: StatusCode, markup: Markup) -> Result<Response<Body>, Problem> {
    respond(status, markup, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_naturally_in_both_languages() {
        let day: Date = "2026-11-23".parse().unwrap();
        assert_eq!(long_date(day, Lang::En), "Monday 23 November 2026");
        assert_eq!(long_date(day, Lang::Fr), "lundi 23 novembre 2026");
        let at: Timestamp = "2026-11-23T09:15:00Z".parse().unwrap();
        let london = TimeZone::get("Europe/London").unwrap();
        assert_eq!(long_time(at, &london, Lang::Fr), "lundi 23 novembre 2026 à 09:15");
    }

    #[test]
    fn the_language_comes_from_the_query_then_the_browser() {
        let mut request = Request::new(Body::Empty);
        request.headers_mut().insert(http::header::ACCEPT_LANGUAGE, "fr-CA,fr;q=0.9,en;q=0.8".parse().unwrap());
        assert_eq!(Lang::of(&request, None), Lang::Fr);
        assert_eq!(Lang::of(&request, Some("en")), Lang::En);
        assert_eq!(Lang::of(&Request::new(Body::Empty), None), Lang::En);
    }

    #[test]
    fn pages_forbid_scripts_and_only_logo_pages_allow_images() {
        let page = html_response(StatusCode::OK, html! { p { "x" } }).unwrap();
        let policy = page.headers()["content-security-policy"].to_str().unwrap();
        assert!(policy.starts_with("default-src 'none'") && !policy.contains("img-src") && !policy.contains("script"));
        let page = html_response_with_images(StatusCode::OK, html! { p { "x" } }).unwrap();
        assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("img-src https:"));
    }
}
