//! The patient's booking pages: server-rendered HTML that works without JavaScript, in English
//! and French, under the clinic's name and colours. One GET route walks the steps from its query
//! string: the up-front advice and the booking type, the clinician, the site, a week of times,
//! then the review with the details form, which POSTs to the same path. Every step offers only
//! what leads to a booking, with its next free time; every dead end gives the clinic's phone.

use std::collections::BTreeMap;

use http::StatusCode;
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use lambda_http::{Body, Request, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::api::{self, BookingInput, idempotency_key};
use super::offer::{self, ANY, Availability, Booked, Selection};
use super::page_texts::{Texts, message, texts};
use crate::app::AppState;
use crate::domain::appointment::Appointment;
use crate::domain::availability::{Choice, OfferedSlot};
use crate::domain::clinic::ClinicId;
use crate::domain::location::{LocationId, PublishedLocation};
use crate::domain::patient::PatientInput;
use crate::domain::provider::{ProviderId, PublishedProvider};
use crate::domain::referral::{Referral, ReferralId, ReferralUpload, ReferralUploadInput};
use crate::domain::validation::FieldError;
use crate::features::catalog::public::{PublicSnapshot, SnapshotError, snapshot};
use crate::features::diary::booking::{self, BookingError};
use crate::features::rate_limit::check_public;
use crate::files::referral_key;
use crate::http::Problem;
use crate::http::html::{
    ClinicFrame, Lang, clinic_document, document, html_response, html_response_with_images, long_date, long_time,
};
use crate::http::request::{path_param, query_param};

/// Days of times one page shows.
const DAYS_SHOWN: i32 = 7;

/// The patient's choices so far, carried in the query string (and as hidden fields).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Steps {
    /// The portal's online service (the public pages have none).
    pub(crate) service: Option<String>,
    pub(crate) booking_type: Option<String>,
    pub(crate) provider: Option<String>,
    pub(crate) location: Option<String>,
    pub(crate) day: Option<String>,
    pub(crate) time: Option<String>,
    /// The clinician the page showed for the time when "any" was chosen.
    pub(crate) with: Option<String>,
    /// The site the page showed for the time when "any" was chosen.
    pub(crate) at: Option<String>,
}

impl Steps {
    pub(crate) fn from_request(request: &Request) -> Self {
        let get = |name: &str| query_param(request, name).filter(|value| !value.is_empty()).map(str::to_owned);
        Self {
            service: get("service"),
            booking_type: get("type"),
            provider: get("provider"),
            location: get("location"),
            day: get("day"),
            time: get("time"),
            with: get("with"),
            at: get("at"),
        }
    }

    /// The choices as a query string, with `extra` pairs (and the language) added.
    fn query(&self, lang: Lang, extra: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        let chosen = [
            ("service", &self.service),
            ("type", &self.booking_type),
            ("provider", &self.provider),
            ("location", &self.location),
        ];
        for (name, value) in chosen {
            if let Some(value) = value {
                pairs.push((name, value));
            }
        }
        pairs.extend_from_slice(extra);
        pairs.push(("lang", lang.code()));
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }

    /// The same choices with one step changed (and the later steps forgotten).
    pub(crate) fn with_type(&self, id: &str) -> Self {
        Self { service: self.service.clone(), booking_type: Some(id.to_owned()), ..Self::default() }
    }

    fn with_provider(&self, id: &str) -> Self {
        Self {
            service: self.service.clone(),
            booking_type: self.booking_type.clone(),
            provider: Some(id.to_owned()),
            ..Self::default()
        }
    }

    fn with_location(&self, id: &str) -> Self {
        Self { location: Some(id.to_owned()), day: None, time: None, with: None, at: None, ..self.clone() }
    }

    fn every_extra(&self) -> Vec<(&'static str, String)> {
        [("day", &self.day), ("time", &self.time), ("with", &self.with), ("at", &self.at)]
            .into_iter()
            .filter_map(|(name, value)| value.clone().map(|value| (name, value)))
            .collect()
    }
}

/// One request's view of the clinic: what every step renders with. The public pages walk the
/// published catalogue at `/book/{clinic}`; the portal walks one online service's part of the
/// diary at `/portal/{clinic}`, for a visitor it identified.
pub(crate) struct Pages<'a> {
    pub(crate) snapshot: &'a PublicSnapshot,
    pub(crate) lang: Lang,
    pub(crate) path: String,
    pub(crate) t: &'static Texts,
    /// Above every step: who the portal is booking for, with a way out.
    pub(crate) banner: Option<Markup>,
    /// Where "no time suits? join the waitlist" leads, if anywhere.
    pub(crate) waitlist: Option<String>,
}

impl<'a> Pages<'a> {
    pub(crate) fn new(snapshot: &'a PublicSnapshot, path: String, lang: Lang) -> Self {
        let waitlist = Some(format!("{path}/waitlist"));
        Self { snapshot, lang, path, t: texts(lang), banner: None, waitlist }
    }

    pub(crate) fn french(&self) -> bool {
        self.lang == Lang::Fr
    }

    pub(crate) fn frame(&self) -> ClinicFrame<'a> {
        ClinicFrame { name: &self.snapshot.clinic.name, branding: &self.snapshot.clinic.branding }
    }

    pub(crate) fn href(&self, steps: &Steps, extra: &[(&str, &str)]) -> String {
        format!("{}?{}", self.path, steps.query(self.lang, extra))
    }

    /// The page in the clinic's frame, with the language switch keeping every choice.
    pub(crate) fn respond(
        &self,
        status: StatusCode,
        title: &str,
        steps: &Steps,
        body: Markup,
    ) -> Result<Response<Body>, Problem> {
        let body = html! { @if let Some(banner) = &self.banner { (banner) } (body) };
        let extra = steps.every_extra();
        let extra: Vec<(&str, &str)> = extra.iter().map(|(name, value)| (*name, value.as_str())).collect();
        let switch = format!("{}?{}", self.path, steps.query(self.lang.other().0, &extra));
        let markup = clinic_document(self.lang, title, &switch, &self.frame(), body);
        if self.snapshot.clinic.branding.logo_src().is_some() {
            html_response_with_images(status, markup)
        } else {
            html_response(status, markup)
        }
    }

    pub(crate) fn type_name(&self, booking_type: &crate::domain::booking_type::PublishedBookingType) -> String {
        format!("{} ({} {})", booking_type.name_in(self.french()), booking_type.duration_minutes, self.t.minutes_short)
    }

    fn provider(&self, id: &ProviderId) -> Option<&'a PublishedProvider> {
        self.snapshot.providers.iter().find(|provider| provider.id == *id)
    }

    fn location(&self, id: &LocationId) -> Option<&'a PublishedLocation> {
        self.snapshot.locations.iter().find(|location| location.id == *id)
    }

    fn when(&self, at: Timestamp) -> String {
        long_time(at, &offer::zone(self.snapshot), self.lang)
    }

    /// "Next free: Monday 7 December 2026 at 08:30", or nothing.
    pub(crate) fn next_free(&self, slot: Option<&OfferedSlot>) -> Markup {
        html! { @if let Some(slot) = slot { span.meta { (self.t.next_free) ": " (self.when(slot.starts_at)) } } }
    }

    /// The up-front advice, before any choice or detail.
    pub(crate) fn advisory(&self) -> Markup {
        match self.snapshot.clinic.settings.advisory_in(self.french()) {
            Some(advisory) => html! {
                section.advisory role="note" aria-labelledby="advisory-title" {
                    h2 id="advisory-title" { (self.t.before_you_book) }
                    p id="advisory-text" { (advisory) }
                }
            },
            None => html! {},
        }
    }

    /// A dead end: what is not possible, and whom to call.
    pub(crate) fn dead_end(&self, text: &str) -> Markup {
        html! { p.notice role="status" { (text) " " (self.frame().call_us(self.lang)) } }
    }

    fn person(&self, provider: &PublishedProvider) -> Markup {
        html! {
            (provider.name) span.meta { (provider.title) }
            @if let Some(bio) = provider.bio_in(self.french()) { span.meta { (bio) } }
            @if !provider.languages.is_empty() { span.meta { (self.t.speaks) ": " (provider.languages.join(", ")) } }
        }
    }

    fn place(&self, location: &PublishedLocation) -> Markup {
        html! {
            (location.name) span.meta { (location.address) }
            @if let Some(phone) = &location.phone { span.meta { (self.t.phone) ": " (phone) } }
        }
    }

    /// Who, where and when, with the address, the booking phone and a map link.
    pub(crate) fn review(&self, selection: &Selection, slot: Option<&OfferedSlot>) -> Markup {
        let t = self.t;
        let provider = slot.map(|slot| &slot.provider_id).or(match &selection.provider {
            Choice::Only(id) => Some(id),
            Choice::Any => None,
        });
        let location = slot.map(|slot| &slot.location_id).or(match &selection.location {
            Choice::Only(id) => Some(id),
            Choice::Any => None,
        });
        let provider = provider.and_then(|id| self.provider(id));
        let location = location.and_then(|id| self.location(id));
        html! {
            dl.review {
                dt { (t.what) } dd { (self.type_name(&selection.booking_type)) }
                dt { (t.with_whom) } dd {
                    @match provider { Some(p) => { (p.name) ", " (p.title) }, None => (t.any_provider) }
                }
                dt { (t.where_) } dd {
                    @match location {
                        Some(l) => {
                            (l.name) br; (l.address)
                            @if let Some(phone) = &l.phone {
                                br; (t.phone) ": " a href={ "tel:" (phone.replace(' ', "")) } { (phone) }
                            }
                            br; a href={ "https://www.openstreetmap.org/search?query=" (url_component(&l.address)) } rel="noreferrer" { (t.map) }
                        },
                        None => (t.any_location),
                    }
                }
                @if let Some(slot) = slot { dt { (t.when) } dd { (self.when(slot.starts_at)) } }
            }
        }
    }
}

/// Percent-encodes text for a URL's query.
fn url_component(text: &str) -> String {
    serde_urlencoded::to_string([("q", text)]).unwrap_or_default().trim_start_matches("q=").to_owned()
}

/// The page when online booking is off (or the clinic unknown): nothing of the clinic is public.
fn not_available(lang: Lang, path: &str) -> Result<Response<Body>, Problem> {
    let t = texts(lang);
    let switch = format!("{path}?lang={}", lang.other().0.code());
    let markup = document(lang, t.not_available, &switch, html! { h1 { (t.not_available) } });
    html_response(StatusCode::NOT_FOUND, markup)
}

pub(crate) async fn public_snapshot(state: &AppState, clinic: &ClinicId) -> Result<Option<PublicSnapshot>, Problem> {
    match snapshot(state.store.as_ref(), clinic).await {
        Ok(snapshot) => Ok(Some(snapshot)),
        Err(SnapshotError::NotAvailable) => Ok(None),
        Err(SnapshotError::Store(error)) => Err(error.into()),
    }
}

/// `GET /book/{clinicId}`: the step the query string has reached.
#[tracing::instrument(skip_all)]
pub async fn page(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = path_param(request, "clinicId", ClinicId::parse)?;
    check_public(state, request).await?;
    let lang = Lang::of(request, None);
    let Some(snapshot) = public_snapshot(state, &clinic).await? else {
        return not_available(lang, &format!("/book/{clinic}"));
    };
    let pages = Pages::new(&snapshot, format!("/book/{clinic}"), lang);
    let availability = Availability::load(state, &clinic, &snapshot).await?;
    let steps = Steps::from_request(request);
    let Some(booking_type) = steps.booking_type.clone() else {
        return type_step(&pages, &availability, &steps);
    };
    match walk(&pages, &availability, &steps, &booking_type)? {
        Walked::Page(response) => Ok(response),
        Walked::Review(selection, slot) => {
            let form = BookingForm {
                booking_type,
                provider: steps.provider.clone().unwrap_or_default(),
                location: steps.location.clone().unwrap_or_default(),
                time: slot.starts_at.to_string(),
                with: slot.provider_id.to_string(),
                at: slot.location_id.to_string(),
                lang: Some(lang.code().into()),
                ..BookingForm::default()
            };
            details_page(&pages, &selection, &slot, &steps, &form, &[], StatusCode::OK)
        }
    }
}

/// Where the steps after the booking type led.
pub(crate) enum Walked {
    /// A step to show (clinician, site, times, or a dead end).
    Page(Response<Body>),
    /// A free time was chosen: the review comes next (the details form, or the portal's confirm).
    Review(Selection, OfferedSlot),
}

/// The steps after the booking type: clinician, site, then a week of times, until a free time
/// is chosen (or ASAP finds one).
pub(crate) fn walk(
    pages: &Pages<'_>,
    availability: &Availability<'_>,
    steps: &Steps,
    booking_type: &str,
) -> Result<Walked, Problem> {
    let t = pages.t;
    let settings = &pages.snapshot.clinic.settings;
    let Some(provider) = steps.provider.clone() else {
        return provider_step(pages, availability, steps, booking_type).map(Walked::Page);
    };
    let Some(location) = steps.location.clone() else {
        return location_step(pages, availability, steps, booking_type, &provider).map(Walked::Page);
    };
    let Ok(selection) = offer::select(pages.snapshot, booking_type, &provider, &location) else {
        return start_again(pages).map(Walked::Page);
    };
    let chosen = match steps.time.as_deref() {
        Some("asap") if settings.enable_asap => {
            match availability.first(&selection.booking_type, &selection.provider, &selection.location) {
                Some(slot) => Some(slot),
                None => return time_page(pages, availability, &selection, steps, Some(t.asap_none)).map(Walked::Page),
            }
        }
        Some(raw) => raw.parse::<Timestamp>().ok().and_then(|at| allocation(availability, &selection, steps, at)),
        None => None,
    };
    match chosen {
        None if steps.time.is_some() => {
            time_page(pages, availability, &selection, steps, Some(t.taken)).map(Walked::Page)
        }
        None => time_page(pages, availability, &selection, steps, None).map(Walked::Page),
        Some(slot) => Ok(Walked::Review(selection, slot)),
    }
}

/// The slot the page showed at `at` (for the clinician and site it named), if still free.
pub(crate) fn allocation(
    availability: &Availability<'_>,
    selection: &Selection,
    steps: &Steps,
    at: Timestamp,
) -> Option<OfferedSlot> {
    let day = at.to_zoned(availability.zone().clone()).date();
    let slots =
        availability.slots(&selection.booking_type, &selection.provider, &selection.location, day, day, usize::MAX);
    let named = |slot: &&OfferedSlot| {
        steps.with.as_deref().is_none_or(|with| slot.provider_id.as_str() == with)
            && steps.at.as_deref().is_none_or(|site| slot.location_id.as_str() == site)
    };
    slots.iter().filter(|slot| slot.starts_at == at).find(named).cloned()
}

fn type_step(pages: &Pages<'_>, availability: &Availability<'_>, steps: &Steps) -> Result<Response<Body>, Problem> {
    let t = pages.t;
    let mut open = Vec::new();
    let mut closed = Vec::new();
    for booking_type in &pages.snapshot.booking_types {
        match availability.first(booking_type, &Choice::Any, &Choice::Any) {
            Some(slot) => open.push((booking_type, slot)),
            None => closed.push(booking_type),
        }
    }
    let body = html! {
        h1 { (t.book_title) }
        (pages.advisory())
        h2 { (t.step_type) }
        @if open.is_empty() { (pages.dead_end(t.nothing_online)) }
        @for (booking_type, slot) in &open {
            a.choice href=(pages.href(&steps.with_type(booking_type.id.as_str()), &[])) {
                (pages.type_name(booking_type)) (pages.next_free(Some(slot)))
            }
        }
        @if !closed.is_empty() && !open.is_empty() {
            p.hint {
                (t.not_online_types) " "
                (closed.iter().map(|bt| bt.name_in(pages.french()).to_owned()).collect::<Vec<_>>().join(", ")) ". "
                (pages.frame().call_us(pages.lang))
            }
        }
    };
    pages.respond(StatusCode::OK, t.book_title, steps, body)
}

fn chosen_type<'a>(pages: &Pages<'a>, id: &str) -> Option<&'a crate::domain::booking_type::PublishedBookingType> {
    pages.snapshot.booking_types.iter().find(|booking_type| booking_type.id.as_str() == id)
}

pub(crate) fn start_again(pages: &Pages<'_>) -> Result<Response<Body>, Problem> {
    let t = pages.t;
    let body = html! {
        h1 { (t.book_title) }
        (pages.dead_end(t.choose_again))
        p { a href={ (pages.path) "?lang=" (pages.lang.code()) } { (t.start_again) } }
    };
    pages.respond(StatusCode::UNPROCESSABLE_ENTITY, t.book_title, &Steps::default(), body)
}

fn provider_step(
    pages: &Pages<'_>,
    availability: &Availability<'_>,
    steps: &Steps,
    booking_type: &str,
) -> Result<Response<Body>, Problem> {
    let t = pages.t;
    let Some(booking_type) = chosen_type(pages, booking_type) else { return start_again(pages) };
    let any = (!pages.snapshot.clinic.settings.disable_any_provider)
        .then(|| availability.first(booking_type, &Choice::Any, &Choice::Any))
        .flatten();
    let named: Vec<(&PublishedProvider, OfferedSlot)> = availability
        .providers_offering(booking_type, &Choice::Any)
        .into_iter()
        .filter_map(|provider| {
            availability
                .first(booking_type, &Choice::Only(provider.id.clone()), &Choice::Any)
                .map(|slot| (provider, slot))
        })
        .collect();
    let body = html! {
        h1 { (t.book_title) }
        p { (pages.type_name(booking_type)) " · " a href=(pages.href(&Steps::default(), &[])) { (t.change) } }
        h2 { (t.step_provider) }
        @if named.is_empty() { (pages.dead_end(t.asap_none)) }
        @if let Some(slot) = &any {
            a.choice href=(pages.href(&steps.with_provider(ANY), &[])) { (t.any_provider) (pages.next_free(Some(slot))) }
        }
        @for (provider, slot) in &named {
            a.choice href=(pages.href(&steps.with_provider(provider.id.as_str()), &[])) {
                (pages.person(provider)) (pages.next_free(Some(slot)))
            }
        }
    };
    pages.respond(StatusCode::OK, t.book_title, steps, body)
}

fn provider_choice(provider: &str) -> Choice<ProviderId> {
    match ProviderId::parse("provider", provider) {
        Ok(id) if provider != ANY => Choice::Only(id),
        _ => Choice::Any,
    }
}

fn location_step(
    pages: &Pages<'_>,
    availability: &Availability<'_>,
    steps: &Steps,
    booking_type: &str,
    provider: &str,
) -> Result<Response<Body>, Problem> {
    let t = pages.t;
    let Some(booking_type) = chosen_type(pages, booking_type) else { return start_again(pages) };
    let who = provider_choice(provider);
    if let Choice::Only(id) = &who
        && pages.provider(id).is_none()
    {
        return start_again(pages);
    }
    let any = (!pages.snapshot.clinic.settings.disable_any_location)
        .then(|| availability.first(booking_type, &who, &Choice::Any))
        .flatten();
    let named: Vec<(&PublishedLocation, OfferedSlot)> = availability
        .locations_offering(booking_type, &who)
        .into_iter()
        .filter_map(|location| {
            availability.first(booking_type, &who, &Choice::Only(location.id.clone())).map(|slot| (location, slot))
        })
        .collect();
    let who_text = match &who {
        Choice::Only(id) => pages.provider(id).map(|p| p.name.clone()).unwrap_or_default(),
        Choice::Any => t.any_provider.to_owned(),
    };
    let body = html! {
        h1 { (t.book_title) }
        p {
            (pages.type_name(booking_type)) " · " (who_text) " · "
            a href=(pages.href(&steps.with_type(booking_type.id.as_str()), &[])) { (t.change) }
        }
        h2 { (t.step_location) }
        @if named.is_empty() { (pages.dead_end(t.asap_none)) }
        @if let Some(slot) = &any {
            @if named.len() > 1 {
                a.choice href=(pages.href(&steps.with_location(ANY), &[])) { (t.any_location) (pages.next_free(Some(slot))) }
            }
        }
        @for (location, slot) in &named {
            a.choice href=(pages.href(&steps.with_location(location.id.as_str()), &[])) {
                (pages.place(location)) (pages.next_free(Some(slot)))
            }
        }
    };
    pages.respond(StatusCode::OK, t.book_title, steps, body)
}

/// A week of times by day, with the clinician and site of each time when "any" was chosen, a
/// filter by site, earlier and later weeks, and a jump to the next free time.
pub(crate) fn time_page(
    pages: &Pages<'_>,
    availability: &Availability<'_>,
    selection: &Selection,
    steps: &Steps,
    notice: Option<&str>,
) -> Result<Response<Body>, Problem> {
    let t = pages.t;
    let lang = pages.lang;
    let zone = availability.zone().clone();
    let (first, last) = availability.days();
    let next = availability.first(&selection.booking_type, &selection.provider, &selection.location);
    let default_day = next.as_ref().map(|slot| slot.starts_at.to_zoned(zone.clone()).date()).unwrap_or(first);
    let from = steps.day.as_deref().and_then(|raw| raw.parse::<Date>().ok()).unwrap_or(default_day).clamp(first, last);
    let to = from.checked_add((DAYS_SHOWN - 1).days()).unwrap_or(from).min(last);
    let slots =
        availability.slots(&selection.booking_type, &selection.provider, &selection.location, from, to, usize::MAX);
    // One time per clinician-and-site pair at most once per site: the first clinician (by the
    // diary's order) free at that time and site is the one the page names and books.
    let mut by_day: BTreeMap<Date, Vec<OfferedSlot>> = BTreeMap::new();
    for slot in slots {
        let day = by_day.entry(slot.starts_at.to_zoned(zone.clone()).date()).or_default();
        if !day.iter().any(|shown| shown.starts_at == slot.starts_at && shown.location_id == slot.location_id) {
            day.push(slot);
        }
    }
    let later = to.tomorrow().ok().filter(|day| *day <= last);
    let earlier = (from > first).then(|| from.checked_sub(DAYS_SHOWN.days()).unwrap_or(first).max(first));
    let next_after = if by_day.is_empty() {
        later.and_then(|later| {
            availability
                .slots(&selection.booking_type, &selection.provider, &selection.location, later, last, 1)
                .into_iter()
                .next()
        })
    } else {
        None
    };
    let any_provider = matches!(selection.provider, Choice::Any);
    let any_location = matches!(selection.location, Choice::Any);
    let sites = availability.locations_offering(&selection.booking_type, &selection.provider);
    let day_param = from.to_string();
    let first_open = by_day.keys().next().copied();
    let days: Vec<Date> =
        std::iter::successors(Some(from), |day| day.tomorrow().ok().filter(|next| *next <= to)).collect();
    let asap_href = pages.href(steps, &[("time", "asap")]);
    let body = html! {
        h1 { (t.book_title) }
        (pages.review(selection, None))
        p { a href=(pages.href(&Steps { location: None, ..steps.with_provider(steps.provider.as_deref().unwrap_or(ANY)) }, &[])) { (t.change) } }
        h2 { (t.step_time) }
        @if let Some(notice) = notice { p.error role="alert" { (notice) " " (pages.frame().call_us(lang)) } }
        @if sites.len() > 1 {
            nav aria-label=(t.site_filter) {
                ul.filters {
                    @if !pages.snapshot.clinic.settings.disable_any_location {
                        li { a href=(pages.href(&steps.with_location(ANY), &[("day", &day_param)])) aria-current=[any_location.then_some("true")] { (t.all_sites) } }
                    }
                    @for site in &sites {
                        li { a href=(pages.href(&steps.with_location(site.id.as_str()), &[("day", &day_param)]))
                            aria-current=[(selection.location == Choice::Only(site.id.clone())).then_some("true")] { (site.name) } }
                    }
                }
            }
        }
        @if pages.snapshot.clinic.settings.enable_asap && next.is_some() {
            p { a.secondary href=(asap_href) { (t.asap) } }
        }
        @if next.is_none() { (pages.dead_end(t.asap_none)) }
        div.week {
            @for day in &days {
                @let day = *day;
                @let times = by_day.get(&day);
                // Days fold (no script needed): the first day with times is open.
                details open[Some(day) == first_open] {
                    summary {
                        strong { (long_date(day, lang)) }
                        " · "
                        @match times { Some(times) => { (times.len()) " " (t.times_count) }, None => (t.no_times_day) }
                    }
                    @if let Some(times) = times {
                        ul.slots {
                            @for slot in times {
                                @let provider = pages.provider(&slot.provider_id);
                                @let location = pages.location(&slot.location_id);
                                @let who = provider.map(|p| p.name.as_str()).unwrap_or("");
                                @let site = location.map(|l| l.name.as_str()).unwrap_or("");
                                @let time = slot.starts_at.to_string();
                                li { a.slot
                                    href=(pages.href(steps, &[("day", &day_param), ("time", &time), ("with", slot.provider_id.as_str()), ("at", slot.location_id.as_str())])) {
                                    // Screen readers hear the day with the time; sighted patients see it above.
                                    span.sr { (long_date(day, lang)) ", " }
                                    (slot.starts_at.to_zoned(zone.clone()).strftime("%H:%M"))
                                    @if any_provider { " " span.meta { (who) } }
                                    @if any_location { " " span.meta { (site) } }
                                } }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(slot) = &next_after {
            p { (t.no_times_week) " " (t.jump_to_next) " "
                a href=(pages.href(steps, &[("day", &slot.starts_at.to_zoned(zone.clone()).date().to_string())])) { (pages.when(slot.starts_at)) } }
        }
        @if let Some(waitlist) = &pages.waitlist {
            p.notice { (t.no_time_suits) " " a href={ (waitlist) "?" (steps.query(lang, &[])) } { (t.join_waitlist) } }
        }
        nav.pager aria-label=(t.step_time) {
            @if let Some(earlier) = earlier { a href=(pages.href(steps, &[("day", &earlier.to_string())])) { "← " (t.earlier) } } @else { span {} }
            @if let Some(later) = later { a href=(pages.href(steps, &[("day", &later.to_string())])) { (t.later) " →" } }
        }
    };
    let status = if notice.is_some() { StatusCode::CONFLICT } else { StatusCode::OK };
    pages.respond(status, t.book_title, steps, body)
}
/// A file posted with the booking form.
struct Attachment {
    content_type: String,
    bytes: Vec<u8>,
}

/// Most bytes a booking form may carry (a referral of 5 MiB and the fields).
const MAX_FORM_BYTES: usize = 6 * 1024 * 1024;

/// Reads the booking form: URL-encoded, or multipart when it carries a referral file.
async fn read_form(request: &Request) -> Result<(BookingForm, Option<Attachment>), Problem> {
    let bytes: Vec<u8> = match request.body() {
        Body::Text(text) => text.as_bytes().to_vec(),
        Body::Binary(bytes) => bytes.clone(),
        _ => Vec::new(),
    };
    let content_type =
        request.headers().get(http::header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let Ok(boundary) = multer::parse_boundary(content_type) else {
        if bytes.len() > crate::http::problem::MAX_BODY_BYTES {
            return Err(Problem::too_large());
        }
        let form =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| Problem::malformed("body", "is not a booking form"))?;
        return Ok((form, None));
    };
    if bytes.len() > MAX_FORM_BYTES {
        return Err(Problem::too_large());
    }
    let malformed = |_| Problem::malformed("body", "is not a booking form");
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(axum::body::Bytes::from(bytes)) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut fields = serde_json::Map::new();
    let mut attachment = None;
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "referral" {
            let content_type = field.content_type().map(|mime| mime.essence_str().to_owned()).unwrap_or_default();
            let bytes = field.bytes().await.map_err(malformed)?.to_vec();
            attachment = Some(Attachment { content_type, bytes });
        } else if !name.is_empty() {
            fields.insert(name, serde_json::Value::String(field.text().await.map_err(malformed)?));
        }
    }
    let form = serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|_| Problem::malformed("body", "is not a booking form"))?;
    Ok((form, attachment))
}

/// The details form as posted (no `Debug`: it holds patient data).
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
pub(crate) struct BookingForm {
    #[serde(rename = "type", default)]
    booking_type: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    time: String,
    /// The clinician the review named.
    #[serde(default)]
    with: String,
    /// The site the review named.
    #[serde(default)]
    at: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    date_of_birth: String,
    #[serde(default)]
    mobile: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    advisory: Option<String>,
    #[serde(default)]
    idempotency_key: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

/// The review (who, where, when) and the details form.
fn details_page(
    pages: &Pages<'_>,
    selection: &Selection,
    slot: &OfferedSlot,
    steps: &Steps,
    form: &BookingForm,
    errors: &[FieldError],
    status: StatusCode,
) -> Result<Response<Body>, Problem> {
    let t = pages.t;
    let settings = &pages.snapshot.clinic.settings;
    let error_for =
        |field: &str| errors.iter().find(|error| error.field == field).map(|error| message(error, pages.lang));
    let key = form.idempotency_key.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let field = |name: &'static str,
                 label: &'static str,
                 kind: &'static str,
                 value: &str,
                 autocomplete: &'static str,
                 hint: Option<&'static str>| {
        let error = error_for(&format!("patient.{name}"));
        let described = match (hint.is_some(), error.is_some()) {
            (true, true) => format!("{name}-hint {name}-error"),
            (true, false) => format!("{name}-hint"),
            (false, true) => format!("{name}-error"),
            (false, false) => String::new(),
        };
        html! {
            label for=(name) { (label) }
            @if let Some(hint) = hint { span.hint id={ (name) "-hint" } { (hint) } }
            @if let Some(error) = &error { span.error id={ (name) "-error" } { (error) } }
            // A mobile, an email address, or both: neither is required on its own.
            input type=(kind) id=(name) name=(name) value=(value) autocomplete=(autocomplete)
                required[!matches!(name, "mobile" | "email")]
                aria-invalid=[error.as_ref().map(|_| "true")]
                aria-describedby=[(!described.is_empty()).then_some(described.clone())];
        }
    };
    let back = pages.href(steps, &[("day", &slot.starts_at.to_zoned(offer::zone(pages.snapshot)).date().to_string())]);
    let body = html! {
        h1 { (t.review) }
        (pages.review(selection, Some(slot)))
        p { a href=(back) { (t.change) } }
        @if !errors.is_empty() {
            div.errors role="alert" tabindex="-1" {
                h2 { (t.errors_title) }
                ul { @for error in errors { li { (t.label(&error.field)) ": " (message(error, pages.lang)) } } }
            }
        }
        form method="post" action=(pages.path) enctype=[(!settings.disable_referrals).then_some("multipart/form-data")] {
            h2 { (t.step_details) }
            input type="hidden" name="type" value=(form.booking_type);
            input type="hidden" name="provider" value=(form.provider);
            input type="hidden" name="location" value=(form.location);
            input type="hidden" name="time" value=(form.time);
            input type="hidden" name="with" value=(form.with);
            input type="hidden" name="at" value=(form.at);
            input type="hidden" name="lang" value=(pages.lang.code());
            input type="hidden" name="idempotency_key" value=(key);
            (field("first_name", t.first_name, "text", &form.first_name, "given-name", None))
            (field("last_name", t.last_name, "text", &form.last_name, "family-name", None))
            (field("date_of_birth", t.date_of_birth, "date", &form.date_of_birth, "bday", None))
            p.hint { (t.contact_hint) }
            (field("mobile", t.mobile, "tel", &form.mobile, "tel", Some(t.mobile_hint)))
            (field("email", t.email, "email", &form.email, "email", None))
            @if let Some(advisory) = settings.advisory_in(pages.french()) {
                div.advisory id="advisory-text" { p { (advisory) } }
                @if let Some(error) = error_for("advisory_accepted") { p.error id="advisory-error" { (error) } }
                label for="advisory" {
                    input type="checkbox" id="advisory" name="advisory" value="yes" required aria-describedby="advisory-text"
                        checked[form.advisory.is_some()];
                    " " (t.advisory_tick)
                }
            }
            @if !settings.disable_referrals {
                label for="referral" { (t.referral) }
                span.hint id="referral-hint" { (t.referral_rules) }
                @if let Some(error) = error_for("referral") { span.error id="referral-error" { (error) } }
                input type="file" id="referral" name="referral" accept="application/pdf,image/jpeg,image/png" aria-describedby="referral-hint";
            }
            button.primary type="submit" { (t.confirm) }
        }
    };
    pages.respond(status, t.review, steps, body)
}

/// `POST /book/{clinicId}`: confirms the booking from the details form.
#[tracing::instrument(skip_all)]
pub async fn submit(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = path_param(request, "clinicId", ClinicId::parse)?;
    check_public(state, request).await?;
    let (form, attachment) = read_form(request).await?;
    let lang = Lang::of(request, form.lang.as_deref());
    let Some(snapshot) = public_snapshot(state, &clinic).await? else {
        return not_available(lang, &format!("/book/{clinic}"));
    };
    let pages = Pages::new(&snapshot, format!("/book/{clinic}"), lang);
    let steps = Steps {
        booking_type: Some(form.booking_type.clone()),
        provider: Some(form.provider.clone()),
        location: Some(form.location.clone()),
        ..Steps::default()
    };
    let Ok(selection) = offer::select(&snapshot, &form.booking_type, &form.provider, &form.location) else {
        return start_again(&pages);
    };
    let mut errors = Vec::new();
    let starts_at = match form.time.parse::<Timestamp>() {
        Ok(at) => Some(at),
        Err(_) => {
            errors.push(FieldError::new("time", "is not a time"));
            None
        }
    };
    let allocation = match (ProviderId::parse("with", &form.with), LocationId::parse("at", &form.at)) {
        (Ok(provider), Ok(location)) => Some((provider, location)),
        _ => None,
    };
    let key = match form.idempotency_key.as_deref().map(idempotency_key) {
        Some(Ok(key)) => Some(key),
        Some(Err(error)) => {
            errors.push(error);
            None
        }
        None => None,
    };
    let input = BookingInput {
        booking_type_id: form.booking_type.clone(),
        provider_id: form.provider.clone(),
        location_id: form.location.clone(),
        starts_at: starts_at.unwrap_or(Timestamp::UNIX_EPOCH),
        patient: PatientInput {
            first_name: form.first_name.clone(),
            last_name: form.last_name.clone(),
            date_of_birth: form.date_of_birth.clone(),
            mobile: form.mobile.clone(),
            email: form.email.clone(),
        },
        advisory_accepted: form.advisory.is_some(),
        referral_upload_id: None,
    };
    // Every field the patient typed or chose, so a changed form under the same key is not a replay.
    let fields = [
        form.booking_type.as_str(),
        &form.provider,
        &form.location,
        &form.time,
        &form.with,
        &form.at,
        &form.first_name,
        &form.last_name,
        &form.date_of_birth,
        &form.mobile,
        &form.email,
        form.advisory.as_deref().unwrap_or(""),
    ];
    let file_size = attachment.as_ref().map_or(0, |file| file.bytes.len()).to_string();
    let fingerprint = offer::fingerprint([fields.join("\u{1f}"), file_size].join("\u{1f}").as_bytes());
    let validated = api::validate(&snapshot, &input, state.clock.now(), key.map(|key| (key, fingerprint)));
    let attachment = attachment.filter(|file| !file.bytes.is_empty());
    let upload = match &attachment {
        Some(file) if !snapshot.clinic.settings.disable_referrals => {
            let input =
                ReferralUploadInput { content_type: file.content_type.clone(), size_bytes: file.bytes.len() as u64 };
            match ReferralUpload::parse(&input) {
                Ok(upload) => Some(upload),
                Err(_) => {
                    errors.push(FieldError::new("referral", texts(Lang::En).referral_rules));
                    None
                }
            }
        }
        _ => None,
    };
    let shown = OfferedSlot {
        starts_at: starts_at.unwrap_or(Timestamp::UNIX_EPOCH),
        provider_id: allocation.as_ref().map(|(provider, _)| provider.clone()).unwrap_or_else(ProviderId::random),
        location_id: allocation.as_ref().map(|(_, location)| location.clone()).unwrap_or_else(LocationId::random),
    };
    let mut request_to_book = match validated {
        Ok(valid) if errors.is_empty() => valid,
        other => {
            if let Err(found) = other {
                errors.extend(found);
            }
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return details_page(&pages, &selection, &shown, &steps, &form, &errors, status);
        }
    };
    if let (Some(upload), Some(file)) = (upload, attachment) {
        let id = ReferralId::random();
        state.files.put(&referral_key(&clinic, &id), upload.content_type, file.bytes).await.map_err(|error| {
            tracing::error!(%error, "referral not stored");
            Problem::unavailable()
        })?;
        request_to_book.referral =
            Some(Referral { id, content_type: upload.content_type.to_owned(), size_bytes: upload.size_bytes });
    }
    request_to_book.patient_reference =
        crate::features::patients::identify_patient(state, &clinic, &request_to_book.patient)
            .await?
            .map(|record| record.reference);
    request_to_book.lang = Some(lang.code().to_owned());
    request_to_book.allocation = allocation;
    let outcome = offer::book(state, &clinic, &snapshot, request_to_book).await;
    booked_page(state, &clinic, &pages, &selection, &steps, outcome).await
}

/// The page a booking attempt leads to: the confirmation (a replay shows the first booking's),
/// or the week of times again with why it did not book.
pub(crate) async fn booked_page(
    state: &AppState,
    clinic: &ClinicId,
    pages: &Pages<'_>,
    selection: &Selection,
    steps: &Steps,
    outcome: Result<Booked, BookingError>,
) -> Result<Response<Body>, Problem> {
    let t = pages.t;
    let notice = match outcome {
        Ok(Booked::New(appointment)) => {
            tracing::info!(appointment_id = %appointment.id, provisional = appointment.provisional, "booked online");
            return confirmation_page(pages, selection, &appointment);
        }
        Ok(Booked::Replayed(id)) => {
            let stored = booking::load(state.store.as_ref(), clinic, &id).await?.ok_or_else(Problem::internal)?;
            return confirmation_page(pages, selection, &stored.appointment);
        }
        Ok(Booked::Taken(_) | Booked::NotOffered) => t.taken,
        Ok(Booked::KeyReused) => t.form_reused,
        Err(BookingError::PatientBusy) => t.patient_busy,
        Err(BookingError::Store(error)) => return Err(error.into()),
        Err(_) => t.try_again,
    };
    let availability = Availability::load(state, clinic, pages.snapshot).await?;
    time_page(pages, &availability, selection, steps, Some(notice))
}

/// What the patient booked, with how to change or cancel it.
pub(crate) fn confirmation_page(
    pages: &Pages<'_>,
    selection: &Selection,
    appointment: &Appointment,
) -> Result<Response<Body>, Problem> {
    let t = pages.t;
    let settings = &pages.snapshot.clinic.settings;
    let done = settings.redirect_url.clone().unwrap_or_else(|| format!("{}?lang={}", pages.path, pages.lang.code()));
    let slot = OfferedSlot {
        starts_at: appointment.starts_at,
        provider_id: appointment.provider_id.clone(),
        location_id: appointment.location_id.clone(),
    };
    let body = html! {
        h1 { (t.booked_title) }
        p role="status" { (settings.outcome_message_in(pages.french())) }
        (pages.review(selection, Some(&slot)))
        p { (t.how_to_change) " " (pages.frame().call_us(pages.lang)) }
        a.primary href=(done) { (t.done) }
    };
    pages.respond(StatusCode::CREATED, t.booked_title, &Steps::default(), body)
}
