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
pub const STYLE: &str = ":root{--accent:#0b5394}body{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;background:#fff;line-height:1.5}\
main{max-width:40rem;margin:0 auto;padding:1rem}h1{font-size:1.4rem}h2{font-size:1.15rem}\
a,button{font-size:1rem}.choice{display:block;padding:.75rem 1rem;margin:.5rem 0;border:2px solid var(--accent);border-radius:.4rem;color:var(--accent);text-decoration:none;background:#fff;text-align:left;width:100%;box-sizing:border-box;cursor:pointer}\
.choice:hover,.choice:focus{background:#e8f0fb}.slots{display:grid;grid-template-columns:repeat(auto-fill,minmax(8.5rem,1fr));gap:.5rem;padding:0;list-style:none}\
.slots button{padding:.5rem .9rem;border:2px solid var(--accent);border-radius:.4rem;background:#fff;color:var(--accent);cursor:pointer}\
.slots button:focus,.choice:focus,a:focus,input:focus,button:focus{outline:3px solid #f1c232;outline-offset:2px}\
label{display:block;font-weight:600;margin-top:1rem}input[type=text],input[type=tel],input[type=email],input[type=date]{width:100%;padding:.6rem;font-size:1rem;border:1px solid #555;border-radius:.3rem;box-sizing:border-box}\
.primary{display:inline-block;margin-top:1.5rem;padding:.8rem 1.2rem;background:var(--accent);color:#fff;border:0;border-radius:.4rem;cursor:pointer;text-decoration:none}\
.secondary{display:inline-block;margin-top:1rem;padding:.7rem 1.1rem;background:#fff;color:var(--accent);border:2px solid var(--accent);border-radius:.4rem;cursor:pointer}\
.errors{border:3px solid #b00020;padding:.5rem 1rem;margin:1rem 0}.error{color:#b00020;font-weight:600}\
.advisory{border-left:4px solid var(--accent);padding:.5rem 1rem;background:#f3f6fa}.hint{display:block;color:#444;font-size:.9rem}\
.logo{max-width:12rem;max-height:6rem}\
nav.lang{text-align:right;padding:.5rem 1rem}dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}dt{font-weight:600}\
header.clinic{display:flex;align-items:center;gap:1rem;max-width:40rem;margin:0 auto;padding:.5rem 1rem;border-bottom:3px solid var(--accent)}\
header.clinic .name{font-weight:700;font-size:1.1rem;color:var(--accent)}header.clinic a{color:inherit}\
footer.clinic{max-width:40rem;margin:2rem auto 0;padding:1rem;border-top:1px solid #ccc;color:#333;font-size:.9rem}\
footer.clinic p{margin:.25rem 0;white-space:pre-line}.meta{display:block;color:#444;font-size:.9rem}\
.choice .meta{color:#333}.week details{border-bottom:1px solid #ccc;padding:.5rem 0}.week summary{cursor:pointer;padding:.4rem 0}\
.week summary:focus{outline:3px solid #f1c232}.slots a.slot{min-width:5.5rem;box-sizing:border-box}\
.slots a.slot{display:inline-block;padding:.5rem .9rem;border:2px solid var(--accent);border-radius:.4rem;color:var(--accent);text-decoration:none}\
.slots a.slot:hover,.slots a.slot:focus{background:#e8f0fb}.slots a.slot .meta{font-size:.8rem}\
.filters{display:flex;flex-wrap:wrap;gap:.5rem;padding:0;list-style:none}.filters a{padding:.3rem .7rem;border:1px solid var(--accent);border-radius:1rem;color:var(--accent)}\
.filters a[aria-current]{background:var(--accent);color:#fff}.pager{display:flex;justify-content:space-between;gap:1rem;flex-wrap:wrap}\
.none{color:#444;font-style:italic}fieldset{border:1px solid #ccc;border-radius:.4rem;margin-top:1rem}legend{font-weight:600}label.inline{display:inline-block;font-weight:400;margin:.25rem 1rem .25rem 0}.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}.notice{border:2px solid var(--accent);padding:.5rem 1rem;margin:1rem 0}\
form.visitor{margin:.5rem 0;padding:.5rem 0;border-bottom:1px solid #ccc}button.link{background:none;border:0;padding:0;color:var(--accent);text-decoration:underline;cursor:pointer}\
section.service{margin-top:1.5rem}section.service h3{margin-bottom:.25rem}";

/// The head every page shares: charset, viewport, title and the style sheet (with the clinic's
/// accent colour, already checked, when it has one).
fn head(title: &str, accent: Option<&str>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) }
            style { (maud::PreEscaped(STYLE)) }
            @if let Some(accent) = accent { style { ":root{--accent:" (accent) "}" } }
        }
    }
}

/// A whole page: head, the language switch (to `switch_href`) and `body` in `main`.
pub fn document(lang: Lang, title: &str, switch_href: &str, body: Markup) -> Markup {
    let (other, other_name) = lang.other();
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(title, None))
            body {
                nav.lang aria-label=(lang.language_label()) {
                    a href=(switch_href) lang=(other.code()) hreflang=(other.code()) { (other_name) }
                }
                main { (body) }
            }
        }
    }
}

/// What a clinic's patient pages show of it: name and logo on top, how to reach it below.
pub struct ClinicFrame<'a> {
    /// The clinic's name.
    pub name: &'a str,
    /// Logo, accent colour, address, phone and opening hours.
    pub branding: &'a crate::domain::clinic::ClinicBranding,
}

impl ClinicFrame<'_> {
    /// The clinic's phone, as a `tel:` link, or nothing.
    pub fn phone_link(&self) -> Markup {
        match &self.branding.phone {
            Some(phone) => html! { a href={ "tel:" (phone.replace(' ', "")) } { (phone) } },
            None => html! {},
        }
    }

    /// "Please call the clinic on …" (or without a number when the clinic gave none).
    pub fn call_us(&self, lang: Lang) -> Markup {
        let call = match lang {
            Lang::En => "Please call the clinic",
            Lang::Fr => "Veuillez appeler le cabinet",
        };
        let on = match lang {
            Lang::En => " on ",
            Lang::Fr => " au ",
        };
        html! {
            @if self.branding.phone.is_some() { (call) (on) (self.phone_link()) "." } @else { (call) "." }
        }
    }
}

/// A clinic's page: its header (logo, name, phone), the language switch, `body`, and a footer
/// with its address, phone and opening hours. The accent colour, already checked for contrast,
/// colours buttons and links.
pub fn clinic_document(lang: Lang, title: &str, switch_href: &str, frame: &ClinicFrame<'_>, body: Markup) -> Markup {
    let (other, other_name) = lang.other();
    let accent = frame.branding.accent_colour.as_deref().filter(|colour| {
        colour.len() == 7 && colour.starts_with('#') && colour[1..].bytes().all(|b| b.is_ascii_hexdigit())
    });
    let hours = match lang {
        Lang::Fr => frame.branding.opening_hours_fr.as_ref().or(frame.branding.opening_hours.as_ref()),
        Lang::En => frame.branding.opening_hours.as_ref(),
    };
    let (phone_label, hours_label, address_label) = match lang {
        Lang::En => ("Phone", "Opening hours", "Address"),
        Lang::Fr => ("Téléphone", "Horaires d'ouverture", "Adresse"),
    };
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(&format!("{title} · {}", frame.name), accent))
            body {
                nav.lang aria-label=(lang.language_label()) {
                    a href=(switch_href) lang=(other.code()) hreflang=(other.code()) { (other_name) }
                }
                header.clinic {
                    @if let Some(logo) = frame.branding.logo_src() { img.logo src=(logo) alt=""; }
                    div {
                        span.name { (frame.name) }
                        @if frame.branding.phone.is_some() { span.meta { (phone_label) " " (frame.phone_link()) } }
                    }
                }
                main { (body) }
                footer.clinic {
                    p { strong { (frame.name) } }
                    @if let Some(address) = &frame.branding.address { p aria-label=(address_label) { (address) } }
                    @if frame.branding.phone.is_some() { p { (phone_label) ": " (frame.phone_link()) } }
                    @if let Some(hours) = hours { p { strong { (hours_label) } "\n" (hours) } }
                }
            }
        }
    }
}

/// The content security policy of patient pages: inline styles only, no script, forms to the
/// same origin. `images` also allows images from this origin and https (a clinic's logo).
fn content_security_policy(images: bool) -> &'static str {
    if images {
        "default-src 'none'; img-src 'self' https:; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
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

/// A clinic's page in its frame (`clinic_document`), allowing https images when it shows a logo.
pub fn clinic_page(
    lang: Lang,
    frame: &ClinicFrame<'_>,
    status: StatusCode,
    title: &str,
    switch_href: &str,
    body: Markup,
) -> Result<Response<Body>, Problem> {
    let markup = clinic_document(lang, title, switch_href, frame, body);
    respond(status, markup, frame.branding.logo_src().is_some())
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
        assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("img-src 'self' https:"));
    }
}
