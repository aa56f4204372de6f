//! The patient portal's pages (`/portal/{clinicId}`): identify, see the services the rules
//! admit, pick a time, book. Server-rendered, working without JavaScript; the visitor's details
//! travel in the forms' hidden fields (POST only, never in a URL), and every page is `no-store`.
//! English only for now.

use http::StatusCode;
use jiff::Timestamp;
use lambda_http::{Body, Request, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;

use super::portal::{PortalRequest, Visitor, book_for, services_for, slots_for};
use crate::app::AppState;
use crate::domain::clinic::ClinicId;
use crate::domain::location::Location;
use crate::domain::patient::PatientInput;
use crate::domain::patient::Sex;
use crate::domain::validation::FieldError;
use crate::features::booking_links::pages::read_form;
use crate::features::diary::private_offer::records;
use crate::features::rate_limit::check_public;
use crate::http::Problem;
use crate::http::html::{Lang, STYLE, html_response, long_time};
use crate::http::request::path_param;

#[derive(Default, Deserialize)]
struct PortalForm {
    #[serde(default)]
    action: String,
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
    sex: String,
    #[serde(default)]
    postcode: String,
    #[serde(default)]
    service_id: String,
    #[serde(default)]
    booking_type_id: String,
    #[serde(default)]
    time: String,
}

impl PortalForm {
    fn visitor(&self) -> Visitor {
        Visitor {
            patient: PatientInput {
                first_name: self.first_name.clone(),
                last_name: self.last_name.clone(),
                date_of_birth: self.date_of_birth.clone(),
                mobile: self.mobile.clone(),
                email: self.email.clone(),
            },
            sex: match self.sex.as_str() {
                "female" => Some(Sex::Female),
                "male" => Some(Sex::Male),
                "other" => Some(Sex::Other),
                _ => None,
            },
            postcode: Some(self.postcode.clone()).filter(|p| !p.trim().is_empty()),
        }
    }

    fn hidden(&self) -> Markup {
        html! {
            @for (name, value) in [("first_name", &self.first_name), ("last_name", &self.last_name), ("date_of_birth", &self.date_of_birth),
                ("mobile", &self.mobile), ("email", &self.email), ("sex", &self.sex), ("postcode", &self.postcode)] {
                input type="hidden" name=(name) value=(value);
            }
        }
    }
}

fn page(status: StatusCode, title: &str, body: Markup) -> Result<Response<Body>, Problem> {
    html_response(
        status,
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) }
                    style { (PreEscaped(STYLE)) }
                }
                body { main { (body) } }
            }
        },
    )
}

fn identify_form(path: &str, form: &PortalForm, errors: &[FieldError]) -> Markup {
    let error_for = |field: &str| {
        errors
            .iter()
            .find(|e| e.field == format!("visitor.patient.{field}") || e.field == format!("visitor.{field}"))
            .map(|e| e.message.clone())
    };
    let field = |name: &'static str,
                 label: &'static str,
                 kind: &'static str,
                 value: &str,
                 autocomplete: &'static str| {
        let error = error_for(name);
        html! {
            label for=(name) { (label) }
            @if let Some(error) = &error { span.error id={ (name) "-error" } { (error) } }
            input type=(kind) id=(name) name=(name) value=(value) autocomplete=(autocomplete)
                required[!matches!(name, "mobile" | "email")]
                aria-invalid=[error.as_ref().map(|_| "true")] aria-describedby=[error.as_ref().map(|_| format!("{name}-error"))];
        }
    };
    html! {
        h1 { "Book an appointment online" }
        p { "Tell us who you are: we show the services you can book." }
        @if !errors.is_empty() { div.errors role="alert" { p { "Please correct the fields marked below." } } }
        form method="post" action=(path) {
            input type="hidden" name="action" value="identify";
            (field("first_name", "First name", "text", &form.first_name, "given-name"))
            (field("last_name", "Last name", "text", &form.last_name, "family-name"))
            (field("date_of_birth", "Date of birth", "date", &form.date_of_birth, "bday"))
            p.hint { "Give a mobile number, an email address, or both." }
            (field("mobile", "Mobile number, e.g. +447700900123", "tel", &form.mobile, "tel"))
            (field("email", "Email address", "email", &form.email, "email"))
            label for="sex" { "Sex (optional)" }
            select id="sex" name="sex" {
                option value="" { "Prefer not to say" }
                option value="female" selected[form.sex == "female"] { "Female" }
                option value="male" selected[form.sex == "male"] { "Male" }
                option value="other" selected[form.sex == "other"] { "Other" }
            }
            label for="postcode" { "Postcode (optional)" }
            input type="text" id="postcode" name="postcode" value=(form.postcode) autocomplete="postal-code";
            button.primary type="submit" { "Show services" }
        }
    }
}

/// `GET /portal/{clinicId}`
#[tracing::instrument(skip_all)]
pub async fn show(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = path_param(request, "clinicId", ClinicId::parse)?;
    check_public(state, request).await?;
    page(
        StatusCode::OK,
        "Book an appointment online",
        identify_form(&format!("/portal/{clinic}"), &PortalForm::default(), &[]),
    )
}

/// The clinic's booking phone numbers (from its locations), for visitors the portal turns away.
async fn phones(state: &AppState, clinic: &ClinicId) -> Result<Vec<String>, Problem> {
    let partition = crate::store::keys::clinic_partition(clinic);
    let locations: Vec<Location> =
        records(state.store.as_ref(), &partition, crate::store::keys::LOCATION_PREFIX).await?;
    let mut phones: Vec<String> = locations.into_iter().filter_map(|location| location.booking_phone).collect();
    phones.dedup();
    Ok(phones)
}

fn phone_us(phones: &[String]) -> Markup {
    html! {
        @if !phones.is_empty() {
            p { "Please phone the clinic: " @for (i, phone) in phones.iter().enumerate() {
                @if i > 0 { ", " } a href={ "tel:" (phone.replace(' ', "")) } { (phone) }
            } }
        }
    }
}

fn refused(problem: Problem, path: &str, form: &PortalForm, phones: &[String]) -> Result<Response<Body>, Problem> {
    match problem.status {
        422 => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Book an appointment online",
            identify_form(path, form, &problem.errors),
        ),
        404 => page(
            StatusCode::NOT_FOUND,
            "Not available",
            html! { h1 { "This is not available online" } p { (problem.detail) } (phone_us(phones)) },
        ),
        409 => page(
            StatusCode::CONFLICT,
            "Taken",
            html! { h1 { "That time was just taken" } p { "Please go back and choose another time." } },
        ),
        _ => Err(problem),
    }
}

/// `POST /portal/{clinicId}`: `action` is `identify`, `times` (with `service_id` and
/// `booking_type_id`) or `book` (with `time` too).
#[tracing::instrument(skip_all)]
pub async fn submit(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = path_param(request, "clinicId", ClinicId::parse)?;
    check_public(state, request).await?;
    let form: PortalForm = read_form(request)?;
    let path = format!("/portal/{clinic}");
    let phones = phones(state, &clinic).await?;
    let visitor = form.visitor();
    let choice = || PortalRequest {
        visitor: form.visitor(),
        service_id: form.service_id.clone(),
        booking_type_id: form.booking_type_id.clone(),
        starts_at: form.time.parse::<Timestamp>().ok(),
    };
    match form.action.as_str() {
        "times" => {
            let slots = match slots_for(state, &clinic, &choice()).await {
                Ok(slots) => slots,
                Err(problem) => return refused(problem, &path, &form, &phones),
            };
            let zone = jiff::tz::TimeZone::get(&slots.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
            let body = html! {
                h1 { "Choose a time" }
                @if slots.slots.is_empty() { p { "No free times in the next two weeks." } }
                form method="post" action=(path) {
                    input type="hidden" name="action" value="book";
                    input type="hidden" name="service_id" value=(form.service_id);
                    input type="hidden" name="booking_type_id" value=(form.booking_type_id);
                    (form.hidden())
                    ul.slots aria-label="Free times" {
                        @for slot in &slots.slots {
                            li { button type="submit" name="time" value=(slot.starts_at.to_string()) { (long_time(slot.starts_at, &zone, Lang::En)) } }
                        }
                    }
                }
            };
            page(StatusCode::OK, "Choose a time", body)
        }
        "book" => match book_for(state, &clinic, &choice()).await {
            Ok(booked) => {
                let zone = crate::features::diary::appointments::clinic(state, &clinic).await?.time_zone.zone();
                let body = html! {
                    h1 { "Your appointment is booked" }
                    p role="status" { (long_time(booked.starts_at, &zone, Lang::En)) }
                };
                page(StatusCode::CREATED, "Your appointment is booked", body)
            }
            Err(problem) => refused(problem, &path, &form, &phones),
        },
        _ => {
            let services = match services_for(state, &clinic, &visitor).await {
                Ok(services) => services,
                Err(problem) => return refused(problem, &path, &form, &phones),
            };
            let body = html! {
                h1 { "Services you can book" }
                @if services.services.is_empty() { p { "No service can be booked online for you." } (phone_us(&phones)) }
                @for service in &services.services {
                    h2 { (service.name) }
                    @for booking_type in &service.booking_types {
                        form method="post" action=(path) {
                            input type="hidden" name="action" value="times";
                            input type="hidden" name="service_id" value=(service.id);
                            input type="hidden" name="booking_type_id" value=(booking_type.id);
                            (form.hidden())
                            button.choice type="submit" { (booking_type.name) " (" (booking_type.duration_minutes) " minutes)" }
                        }
                    }
                }
            };
            page(StatusCode::OK, "Services you can book", body)
        }
    }
}
