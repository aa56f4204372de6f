//! The patient's booking pages: server-rendered HTML that works without JavaScript, in English
//! and French. One GET route walks the steps (booking type, provider, location, time, details)
//! from its query string; the details form POSTs to the same path to confirm.

use std::collections::BTreeMap;

use http::StatusCode;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use lambda_http::{Body, Request, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::api::{self, BookingInput, confirmation, idempotency_key};
use super::offer::{self, ANY, Booked, Selection};
use crate::app::AppState;
use crate::domain::availability::OfferedSlot;
use crate::domain::clinic::ClinicId;
use crate::domain::patient::PatientInput;
use crate::domain::referral::{Referral, ReferralId, ReferralUpload, ReferralUploadInput};
use crate::domain::validation::FieldError;
use crate::features::catalog::public::{PublicSnapshot, SnapshotError, snapshot};
use crate::features::diary::booking::{self, BookingError};
use crate::features::rate_limit::check_public;
use crate::files::referral_key;
use crate::http::Problem;
use crate::http::html::{Lang, document, html_response, long_date, long_time};
use crate::http::request::{path_param, query_param};

/// Days of slots one time page shows.
const DAYS_SHOWN: i32 = 7;

/// Every text the pages show, per language.
struct Texts {
    book_at: &'static str,
    step_type: &'static str,
    step_provider: &'static str,
    step_location: &'static str,
    step_time: &'static str,
    step_details: &'static str,
    any_provider: &'static str,
    any_location: &'static str,
    asap: &'static str,
    minutes: &'static str,
    no_slots: &'static str,
    next_week: &'static str,
    previous_week: &'static str,
    first_name: &'static str,
    last_name: &'static str,
    date_of_birth: &'static str,
    mobile: &'static str,
    mobile_hint: &'static str,
    email: &'static str,
    advisory_tick: &'static str,
    referral: &'static str,
    referral_rules: &'static str,
    confirm: &'static str,
    summary: &'static str,
    what: &'static str,
    with_whom: &'static str,
    where_: &'static str,
    when: &'static str,
    errors_title: &'static str,
    taken: &'static str,
    patient_busy: &'static str,
    how_to_change: &'static str,
    contact_hint: &'static str,
    booked_title: &'static str,
    done: &'static str,
    not_available: &'static str,
    start_again: &'static str,
    change: &'static str,
}

const EN: Texts = Texts {
    book_at: "Book an appointment at",
    step_type: "What would you like to book?",
    step_provider: "Who would you like to see?",
    step_location: "Where?",
    step_time: "Choose a time",
    step_details: "Your details",
    any_provider: "Any available clinician",
    any_location: "Any location",
    asap: "As soon as possible",
    minutes: "minutes",
    no_slots: "No free times in these days.",
    next_week: "Later times",
    previous_week: "Earlier times",
    first_name: "First name",
    last_name: "Last name",
    date_of_birth: "Date of birth",
    mobile: "Mobile number",
    mobile_hint: "In international form, for example +447700900123",
    email: "Email address",
    advisory_tick: "I have read the information above",
    referral: "Referral letter (optional)",
    referral_rules: "A PDF, JPEG or PNG file of at most 5 MB",
    confirm: "Confirm booking",
    summary: "Your choice",
    what: "Appointment",
    with_whom: "With",
    where_: "Where",
    when: "When",
    errors_title: "Please correct the following",
    taken: "That time was just taken. Please choose another time.",
    patient_busy: "You already have an appointment at that time. Please choose another time.",
    how_to_change: "We have sent you a confirmation with a link to change or cancel this appointment.",
    contact_hint: "Give a mobile number, an email address, or both: your confirmation and reminders go there.",
    booked_title: "Your appointment is booked",
    done: "Done",
    not_available: "Online booking is not available for this clinic.",
    start_again: "Start again",
    change: "Change",
};

const FR: Texts = Texts {
    book_at: "Prendre rendez-vous à",
    step_type: "Quel rendez-vous souhaitez-vous ?",
    step_provider: "Avec qui ?",
    step_location: "Où ?",
    step_time: "Choisissez un horaire",
    step_details: "Vos coordonnées",
    any_provider: "Tout praticien disponible",
    any_location: "Tout lieu",
    asap: "Dès que possible",
    minutes: "minutes",
    no_slots: "Aucun horaire libre sur ces jours.",
    next_week: "Horaires suivants",
    previous_week: "Horaires précédents",
    first_name: "Prénom",
    last_name: "Nom",
    date_of_birth: "Date de naissance",
    mobile: "Numéro de mobile",
    mobile_hint: "Au format international, par exemple +447700900123",
    email: "Adresse e-mail",
    advisory_tick: "J'ai lu les informations ci-dessus",
    referral: "Lettre d'orientation (facultatif)",
    referral_rules: "Un fichier PDF, JPEG ou PNG de 5 Mo au plus",
    confirm: "Confirmer le rendez-vous",
    summary: "Votre choix",
    what: "Rendez-vous",
    with_whom: "Avec",
    where_: "Lieu",
    when: "Date",
    errors_title: "Veuillez corriger les points suivants",
    taken: "Cet horaire vient d'être pris. Veuillez en choisir un autre.",
    patient_busy: "Vous avez déjà un rendez-vous à cet horaire. Veuillez en choisir un autre.",
    how_to_change: "Nous vous avons envoyé une confirmation avec un lien pour modifier ou annuler ce rendez-vous.",
    contact_hint: "Indiquez un numéro de mobile, une adresse e-mail, ou les deux : la confirmation et les rappels y seront envoyés.",
    booked_title: "Votre rendez-vous est confirmé",
    done: "Terminé",
    not_available: "La prise de rendez-vous en ligne n'est pas disponible pour ce cabinet.",
    start_again: "Recommencer",
    change: "Modifier",
};

fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &EN,
        Lang::Fr => &FR,
    }
}

/// The patient's choices so far, carried in the query string (and as hidden fields).
#[derive(Debug, Clone, Default, Deserialize)]
struct Steps {
    #[serde(rename = "type")]
    booking_type: Option<String>,
    provider: Option<String>,
    location: Option<String>,
    day: Option<String>,
    time: Option<String>,
}

impl Steps {
    fn from_request(request: &Request) -> Self {
        let get = |name: &str| query_param(request, name).filter(|value| !value.is_empty()).map(str::to_owned);
        Self {
            booking_type: get("type"),
            provider: get("provider"),
            location: get("location"),
            day: get("day"),
            time: get("time"),
        }
    }

    fn query(&self, lang: Lang, extra: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for (name, value) in [("type", &self.booking_type), ("provider", &self.provider), ("location", &self.location)]
        {
            if let Some(value) = value {
                pairs.push((name, value));
            }
        }
        pairs.extend_from_slice(extra);
        pairs.push(("lang", lang.code()));
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

fn page_shell(lang: Lang, title: &str, clinic_path: &str, steps: &Steps, body: Markup) -> Markup {
    let mut extra = Vec::new();
    if let Some(day) = &steps.day {
        extra.push(("day", day.as_str()));
    }
    if let Some(time) = &steps.time {
        extra.push(("time", time.as_str()));
    }
    let switch = format!("{clinic_path}?{}", steps.query(lang.other().0, &extra));
    document(lang, title, &switch, body)
}

fn not_available(lang: Lang, clinic_path: &str) -> Result<Response<Body>, Problem> {
    let t = texts(lang);
    let markup = page_shell(lang, t.not_available, clinic_path, &Steps::default(), html! { h1 { (t.not_available) } });
    html_response(StatusCode::NOT_FOUND, markup)
}

fn clinic_path(clinic: &ClinicId) -> String {
    format!("/book/{clinic}")
}

fn chosen_summary(snapshot: &PublicSnapshot, selection: &Selection, lang: Lang, when: Option<String>) -> Markup {
    let t = texts(lang);
    let provider = match &selection.provider {
        crate::domain::availability::Choice::Only(id) => snapshot
            .providers
            .iter()
            .find(|p| p.id == *id)
            .map(|p| format!("{}, {}", p.name, p.title))
            .unwrap_or_default(),
        crate::domain::availability::Choice::Any => t.any_provider.to_owned(),
    };
    let location = match &selection.location {
        crate::domain::availability::Choice::Only(id) => snapshot
            .locations
            .iter()
            .find(|l| l.id == *id)
            .map(|l| format!("{}, {}", l.name, l.address))
            .unwrap_or_default(),
        crate::domain::availability::Choice::Any => t.any_location.to_owned(),
    };
    html! {
        h2 { (t.summary) }
        dl {
            dt { (t.what) } dd { (selection.booking_type.name) }
            dt { (t.with_whom) } dd { (provider) }
            dt { (t.where_) } dd { (location) }
            @if let Some(when) = when { dt { (t.when) } dd { (when) } }
        }
    }
}

/// `GET /book/{clinicId}`: the step the query string has reached.
#[tracing::instrument(skip_all)]
pub async fn page(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = path_param(request, "clinicId", ClinicId::parse)?;
    check_public(state, request).await?;
    let lang = Lang::of(request, None);
    let path = clinic_path(&clinic);
    let snapshot = match snapshot(state.store.as_ref(), &clinic).await {
        Ok(snapshot) => snapshot,
        Err(SnapshotError::NotAvailable) => return not_available(lang, &path),
        Err(SnapshotError::Store(error)) => return Err(error.into()),
    };
    let steps = Steps::from_request(request);
    let t = texts(lang);
    let title = format!("{} {}", t.book_at, snapshot.clinic.name);
    let settings = &snapshot.clinic.settings;
    let choices = |heading: &str, options: Vec<(Steps, String)>| {
        let body = html! {
            h1 { (title) }
            h2 { (heading) }
            @for (next, label) in &options {
                a.choice href={ (path) "?" (next.query(lang, &[])) } { (label) }
            }
        };
        html_response(StatusCode::OK, page_shell(lang, &title, &path, &steps, body))
    };
    let Some(booking_type) = steps.booking_type.clone() else {
        let options = snapshot
            .booking_types
            .iter()
            .map(|bt| {
                let next = Steps { booking_type: Some(bt.id.to_string()), ..Steps::default() };
                (next, format!("{} ({} {})", bt.name, bt.duration_minutes, t.minutes))
            })
            .collect();
        return choices(t.step_type, options);
    };
    let Some(provider) = steps.provider.clone() else {
        let with = |id: String| Steps { provider: Some(id), ..steps.clone() };
        let any = (!settings.disable_any_provider).then(|| (with(ANY.into()), t.any_provider.to_owned()));
        let named = snapshot.providers.iter().map(|p| (with(p.id.to_string()), format!("{}, {}", p.name, p.title)));
        return choices(t.step_provider, any.into_iter().chain(named).collect());
    };
    let Some(location) = steps.location.clone() else {
        let with = |id: String| Steps { location: Some(id), ..steps.clone() };
        let any = (!settings.disable_any_location).then(|| (with(ANY.into()), t.any_location.to_owned()));
        let named = snapshot.locations.iter().map(|l| (with(l.id.to_string()), format!("{} — {}", l.name, l.address)));
        return choices(t.step_location, any.into_iter().chain(named).collect());
    };
    let selection = match offer::select(&snapshot, &booking_type, &provider, &location) {
        Ok(selection) => selection,
        Err(_) => {
            let body = html! { h1 { (title) } p { a href={ (path) "?lang=" (lang.code()) } { (t.start_again) } } };
            return html_response(StatusCode::BAD_REQUEST, page_shell(lang, &title, &path, &Steps::default(), body));
        }
    };
    let zone = offer::zone(&snapshot);
    let time = match steps.time.as_deref() {
        Some("asap") if settings.enable_asap => {
            let (first, last) = offer::window(&snapshot, state.clock.now()).days(&zone);
            offer::free_slots(state, &clinic, &snapshot, &selection, first, last, 1)
                .await?
                .first()
                .map(|slot| slot.starts_at)
        }
        Some(raw) => raw.parse::<Timestamp>().ok(),
        None => None,
    };
    match time {
        None => time_page(state, &clinic, &snapshot, &selection, &steps, lang, None).await,
        Some(at) => {
            let form = BookingForm {
                booking_type,
                provider,
                location,
                time: at.to_string(),
                lang: Some(lang.code().into()),
                ..BookingForm::default()
            };
            details_page(&snapshot, &selection, &steps, &form, lang, &[], StatusCode::OK, &zone, &path)
        }
    }
}

async fn time_page(
    state: &AppState,
    clinic: &ClinicId,
    snapshot: &PublicSnapshot,
    selection: &Selection,
    steps: &Steps,
    lang: Lang,
    notice: Option<&str>,
) -> Result<Response<Body>, Problem> {
    let t = texts(lang);
    let path = clinic_path(clinic);
    let zone = offer::zone(snapshot);
    let (first, last) = offer::window(snapshot, state.clock.now()).days(&zone);
    let from = steps.day.as_deref().and_then(|raw| raw.parse::<Date>().ok()).unwrap_or(first).min(last).max(first);
    let to = from.checked_add((DAYS_SHOWN - 1).days()).unwrap_or(from).min(last);
    let slots = offer::free_slots(state, clinic, snapshot, selection, from, to, 5000).await?;
    let mut by_day: BTreeMap<Date, Vec<Timestamp>> = BTreeMap::new();
    for OfferedSlot { starts_at, .. } in &slots {
        let day = by_day.entry(starts_at.to_zoned(zone.clone()).date()).or_default();
        if !day.contains(starts_at) {
            day.push(*starts_at);
        }
    }
    let next = to.tomorrow().ok().filter(|next| *next <= last);
    let previous = (from > first).then(|| from.checked_sub(DAYS_SHOWN.days()).unwrap_or(first).max(first));
    let title = format!("{} {}", t.book_at, snapshot.clinic.name);
    let body = html! {
        h1 { (title) }
        (chosen_summary(snapshot, selection, lang, None))
        h2 { (t.step_time) }
        @if let Some(notice) = notice { p.error role="alert" { (notice) } }
        form method="get" action=(path) {
            input type="hidden" name="type" value=(selection.booking_type.id.to_string());
            input type="hidden" name="provider" value=(steps.provider.clone().unwrap_or_default());
            input type="hidden" name="location" value=(steps.location.clone().unwrap_or_default());
            input type="hidden" name="lang" value=(lang.code());
            @if snapshot.clinic.settings.enable_asap {
                button.choice type="submit" name="time" value="asap" { (t.asap) }
            }
            @if by_day.is_empty() { p { (t.no_slots) } }
            @for (day, times) in &by_day {
                h3 id={ "day-" (day) } { (long_date(*day, lang)) }
                ul.slots aria-labelledby={ "day-" (day) } {
                    @for at in times {
                        li { button type="submit" name="time" value=(at.to_string()) aria-label=(long_time(*at, &zone, lang)) {
                            (at.to_zoned(zone.clone()).strftime("%H:%M"))
                        } }
                    }
                }
            }
        }
        p {
            @if let Some(previous) = previous {
                a href={ (path) "?" (steps.query(lang, &[("day", &previous.to_string())])) } { (t.previous_week) } " "
            }
            @if let Some(next) = next {
                a href={ (path) "?" (steps.query(lang, &[("day", &next.to_string())])) } { (t.next_week) }
            }
        }
    };
    let status = if notice.is_some() { StatusCode::CONFLICT } else { StatusCode::OK };
    html_response(status, page_shell(lang, &title, &path, steps, body))
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
#[derive(Clone, Default, Deserialize)]
struct BookingForm {
    #[serde(rename = "type", default)]
    booking_type: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    time: String,
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

#[allow(clippy::too_many_arguments)]
fn details_page(
    snapshot: &PublicSnapshot,
    selection: &Selection,
    steps: &Steps,
    form: &BookingForm,
    lang: Lang,
    errors: &[FieldError],
    status: StatusCode,
    zone: &TimeZone,
    path: &str,
) -> Result<Response<Body>, Problem> {
    let t = texts(lang);
    let when = form.time.parse::<Timestamp>().ok().map(|at| long_time(at, zone, lang));
    let error_for = |field: &str| errors.iter().find(|error| error.field == field).map(|error| error.message.clone());
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
    let title = format!("{} {}", t.book_at, snapshot.clinic.name);
    let body = html! {
        h1 { (title) }
        (chosen_summary(snapshot, selection, lang, when))
        p { a href={ (path) "?" (steps.query(lang, &[])) } { (t.change) } }
        @if !errors.is_empty() {
            div.errors role="alert" {
                h2 { (t.errors_title) }
                ul { @for error in errors { li { (error.field) ": " (error.message) } } }
            }
        }
        form method="post" action=(path) enctype=[(!snapshot.clinic.settings.disable_referrals).then_some("multipart/form-data")] {
            h2 { (t.step_details) }
            input type="hidden" name="type" value=(form.booking_type);
            input type="hidden" name="provider" value=(form.provider);
            input type="hidden" name="location" value=(form.location);
            input type="hidden" name="time" value=(form.time);
            input type="hidden" name="lang" value=(lang.code());
            input type="hidden" name="idempotency_key" value=(key);
            (field("first_name", t.first_name, "text", &form.first_name, "given-name", None))
            (field("last_name", t.last_name, "text", &form.last_name, "family-name", None))
            (field("date_of_birth", t.date_of_birth, "date", &form.date_of_birth, "bday", None))
            p.hint { (t.contact_hint) }
            (field("mobile", t.mobile, "tel", &form.mobile, "tel", Some(t.mobile_hint)))
            (field("email", t.email, "email", &form.email, "email", None))
            @if let Some(advisory) = &snapshot.clinic.settings.advisory {
                div.advisory id="advisory-text" { p { (advisory) } }
                @if let Some(error) = error_for("advisory_accepted") { p.error id="advisory-error" { (error) } }
                label for="advisory" {
                    input type="checkbox" id="advisory" name="advisory" value="yes" required aria-describedby="advisory-text"
                        checked[form.advisory.is_some()];
                    " " (t.advisory_tick)
                }
            }
            @if !snapshot.clinic.settings.disable_referrals {
                label for="referral" { (t.referral) }
                span.hint id="referral-hint" { (t.referral_rules) }
                @if let Some(error) = error_for("referral") { span.error id="referral-error" { (error) } }
                input type="file" id="referral" name="referral" accept="application/pdf,image/jpeg,image/png" aria-describedby="referral-hint";
            }
            button.primary type="submit" { (t.confirm) }
        }
    };
    html_response(status, page_shell(lang, &title, path, steps, body))
}

/// `POST /book/{clinicId}`: confirms the booking from the details form.
#[tracing::instrument(skip_all)]
pub async fn submit(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = path_param(request, "clinicId", ClinicId::parse)?;
    check_public(state, request).await?;
    let (form, attachment) = read_form(request).await?;
    let lang = Lang::of(request, form.lang.as_deref());
    let path = clinic_path(&clinic);
    let snapshot = match snapshot(state.store.as_ref(), &clinic).await {
        Ok(snapshot) => snapshot,
        Err(SnapshotError::NotAvailable) => return not_available(lang, &path),
        Err(SnapshotError::Store(error)) => return Err(error.into()),
    };
    let zone = offer::zone(&snapshot);
    let steps = Steps {
        booking_type: Some(form.booking_type.clone()),
        provider: Some(form.provider.clone()),
        location: Some(form.location.clone()),
        day: None,
        time: None,
    };
    let Ok(selection) = offer::select(&snapshot, &form.booking_type, &form.provider, &form.location) else {
        return Err(Problem::malformed("type", "the booking form's choices are not offered; start again"));
    };
    let mut errors = Vec::new();
    let starts_at = match form.time.parse::<Timestamp>() {
        Ok(at) => Some(at),
        Err(_) => {
            errors.push(FieldError::new("time", "is not a time"));
            None
        }
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
                    errors.push(FieldError::new("referral", texts(lang).referral_rules));
                    None
                }
            }
        }
        _ => None,
    };
    let mut request_to_book = match validated {
        Ok(valid) if errors.is_empty() => valid,
        other => {
            if let Err(found) = other {
                errors.extend(found);
            }
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return details_page(&snapshot, &selection, &steps, &form, lang, &errors, status, &zone, &path);
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
    let appointment = match offer::book(state, &clinic, &snapshot, request_to_book).await {
        Ok(Booked::New(appointment)) => *appointment,
        Ok(Booked::Replayed(id)) => {
            booking::load(state.store.as_ref(), &clinic, &id).await?.ok_or_else(Problem::internal)?.appointment
        }
        Ok(Booked::Taken(_) | Booked::NotOffered) => {
            return time_page(state, &clinic, &snapshot, &selection, &steps, lang, Some(texts(lang).taken)).await;
        }
        Ok(Booked::KeyReused) => {
            return Err(Problem::conflict("this form was already used for another booking; start again"));
        }
        Err(BookingError::PatientBusy) => {
            return time_page(state, &clinic, &snapshot, &selection, &steps, lang, Some(texts(lang).patient_busy))
                .await;
        }
        Err(BookingError::Store(error)) => return Err(error.into()),
        Err(_) => return Err(Problem::conflict("please try again")),
    };
    let t = texts(lang);
    let confirmed = confirmation(&snapshot, &appointment);
    let done = confirmed.redirect_url.clone().unwrap_or_else(|| format!("{path}?lang={}", lang.code()));
    let title = t.booked_title;
    let body = html! {
        h1 { (title) }
        p role="status" { (confirmed.outcome_message) }
        dl {
            dt { (t.what) } dd { (confirmed.booking_type) }
            dt { (t.with_whom) } dd { (confirmed.provider) }
            dt { (t.where_) } dd { (confirmed.location) }
            dt { (t.when) } dd { (long_time(appointment.starts_at, &zone, lang)) }
        }
        p { (t.how_to_change) }
        a.primary href=(done) { (t.done) }
    };
    html_response(StatusCode::CREATED, page_shell(lang, title, &path, &Steps::default(), body))
}
