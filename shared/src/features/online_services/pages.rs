//! The patient portal's pages (`/portal/{clinicId}`): identify, see the services the rules
//! admit, pick a time, book. Server-rendered, working without JavaScript; the visitor's details
//! travel in the forms' hidden fields (POST only, never in a URL), and every page is `no-store`.
//! In English and French, under the clinic's name and colours, with its phone at every refusal.

use http::StatusCode;
use jiff::Timestamp;
use lambda_http::{Body, Request, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::portal::{PortalRequest, Visitor, book_for, services_for, slots_for};
use crate::app::AppState;
use crate::domain::clinic::Clinic;
use crate::domain::clinic::ClinicId;
use crate::domain::location::Location;
use crate::domain::patient::PatientInput;
use crate::domain::patient::Sex;
use crate::domain::provider::Provider;
use crate::domain::validation::FieldError;
use crate::features::booking_links::pages::read_form;
use crate::features::diary::private_offer::records;
use crate::features::rate_limit::check_public;
use crate::features::self_booking::page_texts::{message, texts as booking_texts};
use crate::http::Problem;
use crate::http::html::{ClinicFrame, Lang, clinic_document, html_response, long_date, long_time};
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
    #[serde(default)]
    lang: Option<String>,
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
            input type="hidden" name="lang" value=(self.lang.as_deref().unwrap_or("en"));
        }
    }
}

/// The portal's own words, per language (the field labels are the booking pages').
struct Texts {
    title: &'static str,
    intro: &'static str,
    fix: &'static str,
    sex: &'static str,
    sexes: [&'static str; 4],
    postcode: &'static str,
    show: &'static str,
    services: &'static str,
    none_for_you: &'static str,
    choose_time: &'static str,
    no_times: &'static str,
    booked: &'static str,
    not_online: &'static str,
    taken: &'static str,
    taken_help: &'static str,
    free_times: &'static str,
}

const EN: Texts = Texts {
    title: "Book an appointment online",
    intro: "Tell us who you are: we show the services you can book.",
    fix: "Please correct the fields marked below.",
    sex: "Sex (optional)",
    sexes: ["Prefer not to say", "Female", "Male", "Other"],
    postcode: "Postcode (optional)",
    show: "Show services",
    services: "Services you can book",
    none_for_you: "No service can be booked online for you.",
    choose_time: "Choose a time",
    no_times: "No free times in the next two weeks.",
    booked: "Your appointment is booked",
    not_online: "This is not available online",
    taken: "That time was just taken",
    taken_help: "Please go back and choose another time.",
    free_times: "free times",
};

const FR: Texts = Texts {
    title: "Prendre rendez-vous en ligne",
    intro: "Indiquez qui vous êtes : nous affichons les services que vous pouvez réserver.",
    fix: "Veuillez corriger les champs indiqués ci-dessous.",
    sex: "Sexe (facultatif)",
    sexes: ["Je préfère ne pas répondre", "Femme", "Homme", "Autre"],
    postcode: "Code postal (facultatif)",
    show: "Voir les services",
    services: "Services que vous pouvez réserver",
    none_for_you: "Aucun service n'est réservable en ligne pour vous.",
    choose_time: "Choisissez un horaire",
    no_times: "Aucun horaire libre dans les deux prochaines semaines.",
    booked: "Votre rendez-vous est confirmé",
    not_online: "Ce service n'est pas disponible en ligne",
    taken: "Cet horaire vient d'être pris",
    taken_help: "Veuillez revenir en arrière et choisir un autre horaire.",
    free_times: "horaires libres",
};

fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &EN,
        Lang::Fr => &FR,
    }
}

/// A portal page in the clinic's frame (or a plain one when the clinic is unknown).
struct Portal {
    clinic: Option<Clinic>,
    lang: Lang,
    path: String,
}

impl Portal {
    fn page(&self, status: StatusCode, title: &str, body: Markup) -> Result<Response<Body>, Problem> {
        let switch = format!("{}?lang={}", self.path, self.lang.other().0.code());
        let markup = match &self.clinic {
            Some(clinic) => {
                let frame = ClinicFrame { name: &clinic.name, branding: &clinic.branding };
                clinic_document(self.lang, title, &switch, &frame, body)
            }
            None => crate::http::html::document(self.lang, title, &switch, body),
        };
        html_response(status, markup)
    }

    fn call_us(&self, phones: &[String]) -> Markup {
        let frame = self.clinic.as_ref().map(|clinic| ClinicFrame { name: &clinic.name, branding: &clinic.branding });
        html! {
            @if let Some(frame) = frame.filter(|frame| frame.branding.phone.is_some()) {
                p { (frame.call_us(self.lang)) }
            } @else if !phones.is_empty() {
                p { (booking_texts(self.lang).phone) ": " @for (i, phone) in phones.iter().enumerate() {
                    @if i > 0 { ", " } a href={ "tel:" (phone.replace(' ', "")) } { (phone) }
                } }
            }
        }
    }

    fn identify_form(&self, form: &PortalForm, errors: &[FieldError]) -> Markup {
        let t = texts(self.lang);
        let words = booking_texts(self.lang);
        let lang = self.lang;
        let error_for = |field: &str| {
            errors
                .iter()
                .find(|e| e.field == format!("visitor.patient.{field}") || e.field == format!("visitor.{field}"))
                .map(|e| message(e, lang))
        };
        let field = |name: &'static str,
                     label: &'static str,
                     kind: &'static str,
                     value: &str,
                     autocomplete: &'static str| {
            let error = error_for(name);
            html! {
                label for=(name) { (label) }
                @if name == "mobile" { span.hint id="mobile-hint" { (words.mobile_hint) } }
                @if let Some(error) = &error { span.error id={ (name) "-error" } { (error) } }
                input type=(kind) id=(name) name=(name) value=(value) autocomplete=(autocomplete)
                    required[!matches!(name, "mobile" | "email")]
                    aria-invalid=[error.as_ref().map(|_| "true")] aria-describedby=[error.as_ref().map(|_| format!("{name}-error"))];
            }
        };
        html! {
            h1 { (t.title) }
            p { (t.intro) }
            @if !errors.is_empty() { div.errors role="alert" { p { (t.fix) } } }
            form method="post" action=(self.path) {
                input type="hidden" name="action" value="identify";
                input type="hidden" name="lang" value=(lang.code());
                (field("first_name", words.first_name, "text", &form.first_name, "given-name"))
                (field("last_name", words.last_name, "text", &form.last_name, "family-name"))
                (field("date_of_birth", words.date_of_birth, "date", &form.date_of_birth, "bday"))
                p.hint { (words.contact_hint) }
                (field("mobile", words.mobile, "tel", &form.mobile, "tel"))
                (field("email", words.email, "email", &form.email, "email"))
                label for="sex" { (t.sex) }
                select id="sex" name="sex" {
                    option value="" { (t.sexes[0]) }
                    option value="female" selected[form.sex == "female"] { (t.sexes[1]) }
                    option value="male" selected[form.sex == "male"] { (t.sexes[2]) }
                    option value="other" selected[form.sex == "other"] { (t.sexes[3]) }
                }
                label for="postcode" { (t.postcode) }
                input type="text" id="postcode" name="postcode" value=(form.postcode) autocomplete="postal-code";
                button.primary type="submit" { (t.show) }
            }
        }
    }

    fn refused(&self, problem: Problem, form: &PortalForm, phones: &[String]) -> Result<Response<Body>, Problem> {
        let t = texts(self.lang);
        match problem.status {
            422 => self.page(StatusCode::UNPROCESSABLE_ENTITY, t.title, self.identify_form(form, &problem.errors)),
            404 => {
                self.page(StatusCode::NOT_FOUND, t.not_online, html! { h1 { (t.not_online) } (self.call_us(phones)) })
            }
            409 => self.page(
                StatusCode::CONFLICT,
                t.taken,
                html! { h1 { (t.taken) } p { (t.taken_help) } (self.call_us(phones)) },
            ),
            _ => Err(problem),
        }
    }
}

async fn portal(state: &AppState, clinic: &ClinicId, lang: Lang) -> Result<Portal, Problem> {
    let profile = match state.store.get(&crate::store::keys::clinic_profile(clinic)).await? {
        Some(item) => Some(item.record::<Clinic>()?),
        None => None,
    };
    Ok(Portal { clinic: profile, lang, path: format!("/portal/{clinic}") })
}

/// `GET /portal/{clinicId}`
#[tracing::instrument(skip_all)]
pub async fn show(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = path_param(request, "clinicId", ClinicId::parse)?;
    check_public(state, request).await?;
    let portal = portal(state, &clinic, Lang::of(request, None)).await?;
    let form = PortalForm { lang: Some(portal.lang.code().to_owned()), ..PortalForm::default() };
    portal.page(StatusCode::OK, texts(portal.lang).title, portal.identify_form(&form, &[]))
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

/// `POST /portal/{clinicId}`: `action` is `identify`, `times` (with `service_id` and
/// `booking_type_id`) or `book` (with `time` too).
#[tracing::instrument(skip_all)]
pub async fn submit(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = path_param(request, "clinicId", ClinicId::parse)?;
    check_public(state, request).await?;
    let form: PortalForm = read_form(request)?;
    let lang = Lang::of(request, form.lang.as_deref());
    let portal = portal(state, &clinic, lang).await?;
    let t = texts(lang);
    let words = booking_texts(lang);
    let path = portal.path.clone();
    let phones = phones(state, &clinic).await?;
    let visitor = form.visitor();
    let choice = || PortalRequest {
        visitor: form.visitor(),
        service_id: form.service_id.clone(),
        booking_type_id: form.booking_type_id.clone(),
        starts_at: form.time.parse::<Timestamp>().ok(),
    };
    let partition = crate::store::keys::clinic_partition(&clinic);
    let names = || async {
        let providers: Vec<Provider> =
            records(state.store.as_ref(), &partition, crate::store::keys::PROVIDER_PREFIX).await?;
        let locations: Vec<Location> =
            records(state.store.as_ref(), &partition, crate::store::keys::LOCATION_PREFIX).await?;
        Ok::<_, Problem>((providers, locations))
    };
    match form.action.as_str() {
        "times" => {
            let slots = match slots_for(state, &clinic, &choice()).await {
                Ok(slots) => slots,
                Err(problem) => return portal.refused(problem, &form, &phones),
            };
            let zone = jiff::tz::TimeZone::get(&slots.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
            let (providers, locations) = names().await?;
            let who =
                |id: &str| providers.iter().find(|p| p.id.as_str() == id).map(|p| p.name.clone()).unwrap_or_default();
            let site = |id: &str| {
                locations.iter().find(|l| l.id.as_str() == id).map(|l| l.full_name.clone()).unwrap_or_default()
            };
            let mut days: Vec<(jiff::civil::Date, Vec<&crate::features::self_booking::offer::SlotView>)> = Vec::new();
            for slot in &slots.slots {
                let day = slot.starts_at.to_zoned(zone.clone()).date();
                match days.last_mut() {
                    Some((last, list)) if *last == day => list.push(slot),
                    _ => days.push((day, vec![slot])),
                }
            }
            let body = html! {
                h1 { (t.choose_time) }
                @if slots.slots.is_empty() { p.notice { (t.no_times) } (portal.call_us(&phones)) }
                form method="post" action=(path) {
                    input type="hidden" name="action" value="book";
                    input type="hidden" name="service_id" value=(form.service_id);
                    input type="hidden" name="booking_type_id" value=(form.booking_type_id);
                    (form.hidden())
                    div.week {
                        @for (index, (day, list)) in days.iter().enumerate() {
                            details open[index == 0] {
                                summary { strong { (long_date(*day, lang)) } " · " (list.len()) " " (t.free_times) }
                                ul.slots {
                                    @for slot in list {
                                        li { button type="submit" name="time" value=(slot.starts_at.to_string()) {
                                            span.sr { (long_date(*day, lang)) ", " }
                                            (slot.starts_at.to_zoned(zone.clone()).strftime("%H:%M"))
                                            " " span.meta { (who(&slot.provider_id)) }
                                            " " span.meta { (site(&slot.location_id)) }
                                        } }
                                    }
                                }
                            }
                        }
                    }
                }
            };
            portal.page(StatusCode::OK, t.choose_time, body)
        }
        "book" => match book_for(state, &clinic, &choice()).await {
            Ok(booked) => {
                let zone = portal.clinic.as_ref().map_or(jiff::tz::TimeZone::UTC, |clinic| clinic.time_zone.zone());
                let (providers, locations) = names().await?;
                let provider = providers.iter().find(|p| p.id.as_str() == booked.provider_id);
                let location = locations.iter().find(|l| l.id.as_str() == booked.location_id);
                let body = html! {
                    h1 { (t.booked) }
                    dl.review {
                        dt { (words.with_whom) } dd { @if let Some(p) = provider { (p.name) ", " (p.professional_title) } }
                        dt { (words.where_) } dd { @if let Some(l) = location {
                            (l.full_name) br; (l.primary_address)
                            @if let Some(phone) = &l.booking_phone { br; (words.phone) ": " a href={ "tel:" (phone.replace(' ', "")) } { (phone) } }
                        } }
                        dt { (words.when) } dd { (long_time(booked.starts_at, &zone, lang)) }
                    }
                    p { (words.how_to_change) }
                    (portal.call_us(&phones))
                };
                portal.page(StatusCode::CREATED, t.booked, body)
            }
            Err(problem) => portal.refused(problem, &form, &phones),
        },
        _ => {
            let services = match services_for(state, &clinic, &visitor).await {
                Ok(services) => services,
                Err(problem) => return portal.refused(problem, &form, &phones),
            };
            let body = html! {
                h1 { (t.services) }
                @if services.services.is_empty() { p.notice { (t.none_for_you) } (portal.call_us(&phones)) }
                @for service in &services.services {
                    h2 { (service.name) }
                    @for booking_type in &service.booking_types {
                        form method="post" action=(path) {
                            input type="hidden" name="action" value="times";
                            input type="hidden" name="service_id" value=(service.id);
                            input type="hidden" name="booking_type_id" value=(booking_type.id);
                            (form.hidden())
                            button.choice type="submit" { (booking_type.name) " (" (booking_type.duration_minutes) " " (words.minutes_short) ")" }
                        }
                    }
                }
            };
            portal.page(StatusCode::OK, t.services, body)
        }
    }
}
