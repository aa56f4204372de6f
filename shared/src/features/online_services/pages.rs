//! The patient portal's pages (`/portal/{clinicId}`): the visitor says who they are; then they
//! walk the same steps as the public booking pages (`self_booking::pages`): a service and its
//! booking type, the clinician, the site, a week of times, the review, and book. The steps offer
//! only what the services their record admits offer, each with its next free time. What the
//! identification found is kept server-side for 30 minutes under a cookie (`visits`), so the
//! steps are plain links and no patient detail travels in a URL or a form. English and French,
//! under the clinic's name and colours, with its phone at every refusal and dead end.

use http::StatusCode;
use jiff::Timestamp;
use lambda_http::{Body, Request, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::portal::{Known, Visitor, admitted, catalogue, identify, service_snapshot};
use super::visits::{self, Visit};
use crate::app::AppState;
use crate::domain::availability::{Choice, OfferedSlot};
use crate::domain::clinic::{Clinic, ClinicId};
use crate::domain::online_service::OnlineService;
use crate::domain::patient::{PatientInput, Sex};
use crate::domain::validation::FieldError;
use crate::features::catalog::public::PublicSnapshot;
use crate::features::rate_limit::check_public;
use crate::features::self_booking::offer::{self, Availability, BookingRequest, Selection};
use crate::features::self_booking::page_texts::{message, texts as booking_texts};
use crate::features::self_booking::pages::{Pages, Steps, Walked, booked_page, public_snapshot, start_again, walk};
use crate::http::Problem;
use crate::http::html::{ClinicFrame, Lang, clinic_page, html_response};
use crate::http::request::path_param;
use crate::http::request::read_form;

/// What the portal's forms post: the identification, or the choice to book, or "not me".
#[derive(Default, Deserialize, utoipa::ToSchema)]
pub(crate) struct PortalForm {
    /// `identify` (the details), `book` (a chosen time) or `forget` ("not me").
    #[serde(default)]
    #[schema(required = true, pattern = "^(identify|book|forget)$")]
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
    service: String,
    #[serde(rename = "type", default)]
    booking_type: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    time: String,
    #[serde(default)]
    with: String,
    #[serde(default)]
    at: String,
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

    fn steps(&self) -> Steps {
        let some = |value: &str| Some(value.to_owned()).filter(|value| !value.is_empty());
        Steps {
            service: some(&self.service),
            booking_type: some(&self.booking_type),
            provider: some(&self.provider),
            location: some(&self.location),
            ..Steps::default()
        }
    }
}

/// The portal's own words, per language (the steps' words are the booking pages').
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
    not_online: &'static str,
    booking_for: &'static str,
    not_you: &'static str,
    visit_ended: &'static str,
    no_times_yet: &'static str,
}

const EN: Texts = Texts {
    title: "Book an appointment online",
    intro: "Tell us who you are: we show the services you can book.",
    fix: "Please correct the fields marked below.",
    sex: "Sex (optional)",
    sexes: ["Prefer not to say", "Female", "Male", "Other"],
    postcode: "Postcode (optional)",
    show: "Show services",
    services: "What would you like to book?",
    none_for_you: "No service can be booked online for you.",
    not_online: "This is not available online",
    booking_for: "Booking for",
    not_you: "Not you? Start again",
    visit_ended: "For your security we asked again who you are: your earlier answers have expired.",
    no_times_yet: "No free time online at the moment",
};

const FR: Texts = Texts {
    title: "Prendre rendez-vous en ligne",
    intro: "Indiquez qui vous êtes : nous affichons les services que vous pouvez réserver.",
    fix: "Veuillez corriger les champs indiqués ci-dessous.",
    sex: "Sexe (facultatif)",
    sexes: ["Je préfère ne pas répondre", "Femme", "Homme", "Autre"],
    postcode: "Code postal (facultatif)",
    show: "Voir les services",
    services: "Que souhaitez-vous réserver ?",
    none_for_you: "Aucun service n'est réservable en ligne pour vous.",
    not_online: "Ce service n'est pas disponible en ligne",
    booking_for: "Rendez-vous pour",
    not_you: "Ce n'est pas vous ? Recommencer",
    visit_ended: "Pour votre sécurité, nous vous demandons à nouveau qui vous êtes : vos réponses ont expiré.",
    no_times_yet: "Aucun horaire libre en ligne pour le moment",
};

fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &EN,
        Lang::Fr => &FR,
    }
}

/// The identification page and the refusals, in the clinic's frame (or a plain one when the
/// clinic is unknown).
struct Portal {
    clinic: Option<Clinic>,
    lang: Lang,
    path: String,
}

impl Portal {
    fn page(&self, status: StatusCode, title: &str, body: Markup) -> Result<Response<Body>, Problem> {
        let switch = format!("{}?lang={}", self.path, self.lang.other().0.code());
        match &self.clinic {
            Some(clinic) => {
                let frame = ClinicFrame { name: &clinic.name, branding: &clinic.branding };
                clinic_page(self.lang, &frame, status, title, &switch, body)
            }
            None => html_response(status, crate::http::html::document(self.lang, title, &switch, body)),
        }
    }

    fn call_us(&self) -> Markup {
        match &self.clinic {
            Some(clinic) => {
                html! { p { (ClinicFrame { name: &clinic.name, branding: &clinic.branding }.call_us(self.lang)) } }
            }
            None => html! {},
        }
    }

    fn identify_form(&self, form: &PortalForm, errors: &[FieldError], notice: Option<&str>) -> Markup {
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
            @if let Some(notice) = notice { p.notice role="status" { (notice) } }
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

    fn refused(&self, problem: Problem, form: &PortalForm) -> Result<Response<Body>, Problem> {
        let t = texts(self.lang);
        match problem.status {
            422 => {
                self.page(StatusCode::UNPROCESSABLE_ENTITY, t.title, self.identify_form(form, &problem.errors, None))
            }
            404 => self.page(StatusCode::NOT_FOUND, t.not_online, html! { h1 { (t.not_online) } (self.call_us()) }),
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

/// Who the steps book for, and the way out ("not you?").
fn banner(path: &str, lang: Lang, known: &Known) -> Markup {
    let t = texts(lang);
    html! {
        form.visitor method="post" action=(path) {
            input type="hidden" name="action" value="forget";
            input type="hidden" name="lang" value=(lang.code());
            (t.booking_for) " " strong { (known.name()) } " · "
            button.link type="submit" { (t.not_you) }
        }
    }
}

/// What an open visit may book: the services its record admits, each with its part of the diary.
struct Offer {
    services: Vec<(OnlineService, PublicSnapshot)>,
}

impl Offer {
    async fn load(
        state: &AppState,
        clinic: &ClinicId,
        public: &PublicSnapshot,
        visit: &Visit,
    ) -> Result<Self, Problem> {
        let mut admitted = admitted(state, clinic, &visit.known).await?;
        admitted.sort_by(|a, b| a.name.cmp(&b.name));
        let (types, providers, locations) = catalogue(state, clinic).await?;
        let services = admitted
            .into_iter()
            .map(|service| {
                let snapshot = service_snapshot(public, &service, &types, &providers, &locations);
                (service, snapshot)
            })
            .collect();
        Ok(Self { services })
    }

    fn service(&self, id: Option<&str>) -> Option<&(OnlineService, PublicSnapshot)> {
        let id = id?;
        self.services.iter().find(|(service, _)| service.id.as_str() == id)
    }
}

fn pages<'a>(snapshot: &'a PublicSnapshot, clinic: &ClinicId, lang: Lang, known: &Known) -> Pages<'a> {
    let path = format!("/portal/{clinic}");
    let banner = banner(&path, lang, known);
    Pages { banner: Some(banner), waitlist: None, ..Pages::new(snapshot, path, lang) }
}

/// `GET /portal/{clinicId}`: the identification form, or (once identified) the step the query
/// string has reached.
#[tracing::instrument(skip_all)]
pub async fn show(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = path_param(request, "clinicId", ClinicId::parse)?;
    check_public(state, request).await?;
    let lang = Lang::of(request, None);
    let portal = portal(state, &clinic, lang).await?;
    let form = PortalForm { lang: Some(lang.code().to_owned()), ..PortalForm::default() };
    let Some(public) = public_snapshot(state, &clinic).await? else {
        return portal.refused(Problem::not_found("online booking is not available"), &form);
    };
    let visit = match &portal.clinic {
        Some(profile) => visits::open(state, profile, request).await?,
        None => None,
    };
    let Some(visit) = visit else {
        return portal.page(StatusCode::OK, texts(lang).title, portal.identify_form(&form, &[], None));
    };
    let offer = Offer::load(state, &clinic, &public, &visit).await?;
    let steps = Steps::from_request(request);
    let chosen = offer.service(steps.service.as_deref());
    let (Some((service, snapshot)), Some(booking_type)) = (chosen, steps.booking_type.clone()) else {
        return service_step(state, &clinic, &public, &offer, &visit, lang).await;
    };
    let pages = pages(snapshot, &clinic, lang, &visit.known);
    let availability = Availability::load(state, &clinic, snapshot).await?;
    match walk(&pages, &availability, &steps, &booking_type)? {
        Walked::Page(response) => Ok(response),
        Walked::Review(selection, slot) => review_page(&pages, service, &selection, &slot, &steps),
    }
}

/// The first step: every admitted service with its booking types that have a free time, each
/// with its next one; the up-front advice first.
async fn service_step(
    state: &AppState,
    clinic: &ClinicId,
    public: &PublicSnapshot,
    offer: &Offer,
    visit: &Visit,
    lang: Lang,
) -> Result<Response<Body>, Problem> {
    let t = texts(lang);
    let pages = pages(public, clinic, lang, &visit.known);
    let mut open = Vec::new();
    for (service, snapshot) in &offer.services {
        let availability = Availability::load(state, clinic, snapshot).await?;
        let types: Vec<_> = snapshot
            .booking_types
            .iter()
            .filter_map(|booking_type| {
                availability.first(booking_type, &Choice::Any, &Choice::Any).map(|slot| (booking_type, slot))
            })
            .collect();
        open.push((service, types));
    }
    let bookable = open.iter().any(|(_, types)| !types.is_empty());
    let french = pages.french();
    let body = html! {
        h1 { (t.title) }
        (pages.advisory())
        h2 { (t.services) }
        @if offer.services.is_empty() { (pages.dead_end(t.none_for_you)) }
        @else if !bookable { (pages.dead_end(t.no_times_yet)) }
        @for (service, types) in &open {
            section.service {
                h3 { (service.name_in(french)) }
                @if let Some(description) = service.description_in(french) { p.hint { (description) } }
                @if types.is_empty() { p.none { (t.no_times_yet) } }
                @for (booking_type, slot) in types {
                    @let steps = Steps { service: Some(service.id.to_string()), ..Steps::default() };
                    a.choice href=(pages.href(&steps.with_type(booking_type.id.as_str()), &[])) {
                        (pages.type_name(booking_type)) (pages.next_free(Some(slot)))
                    }
                }
            }
        }
    };
    pages.respond(StatusCode::OK, t.title, &Steps::default(), body)
}

/// Who, where and when, and the button that books it (the visitor's details are known).
fn review_page(
    pages: &Pages<'_>,
    service: &OnlineService,
    selection: &Selection,
    slot: &OfferedSlot,
    steps: &Steps,
) -> Result<Response<Body>, Problem> {
    let t = pages.t;
    let day = slot.starts_at.to_zoned(offer::zone(pages.snapshot)).date().to_string();
    let back = pages.href(steps, &[("day", &day)]);
    let body = html! {
        h1 { (t.review) }
        p.meta { (service.name_in(pages.french())) }
        (pages.review(selection, Some(slot)))
        p { a href=(back) { (t.change) } }
        form method="post" action=(pages.path) {
            input type="hidden" name="action" value="book";
            input type="hidden" name="lang" value=(pages.lang.code());
            input type="hidden" name="service" value=(service.id.as_str());
            input type="hidden" name="type" value=(selection.booking_type.id.as_str());
            input type="hidden" name="provider" value=(steps.provider.as_deref().unwrap_or_default());
            input type="hidden" name="location" value=(steps.location.as_deref().unwrap_or_default());
            input type="hidden" name="time" value=(slot.starts_at.to_string());
            input type="hidden" name="with" value=(slot.provider_id.as_str());
            input type="hidden" name="at" value=(slot.location_id.as_str());
            button.primary type="submit" { (t.confirm) }
        }
    };
    pages.respond(StatusCode::OK, t.review, steps, body)
}

/// `POST /portal/{clinicId}`: `action` is `identify` (the details; answers with the services),
/// `book` (the reviewed choice) or `forget` (ends the visit).
#[tracing::instrument(skip_all)]
pub async fn submit(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = path_param(request, "clinicId", ClinicId::parse)?;
    check_public(state, request).await?;
    // No other site may post here: identification would set a visit cookie in the patient's
    // browser under someone else's name (browsers say where a form came from).
    let cross_site = request.headers().get("sec-fetch-site").is_some_and(|value| value.as_bytes() == b"cross-site");
    if cross_site {
        return Err(Problem::forbidden("the portal's forms are only accepted from its own pages"));
    }
    let form: PortalForm = read_form(request)?;
    let lang = Lang::of(request, form.lang.as_deref());
    let portal = portal(state, &clinic, lang).await?;
    let home = format!("{}?lang={}", portal.path, lang.code());
    match form.action.as_str() {
        "forget" => {
            visits::end(state, request).await?;
            visits::redirect(&clinic, None, request, &home)
        }
        "book" => {
            let Some(public) = public_snapshot(state, &clinic).await? else {
                return portal.refused(Problem::not_found("online booking is not available"), &form);
            };
            let visit = match &portal.clinic {
                Some(profile) => visits::open(state, profile, request).await?,
                None => None,
            };
            match visit {
                Some(visit) => book(state, &clinic, &public, &visit, &form, lang).await,
                None => {
                    let notice = texts(lang).visit_ended;
                    let blank = PortalForm { lang: form.lang.clone(), ..PortalForm::default() };
                    portal.page(StatusCode::OK, texts(lang).title, portal.identify_form(&blank, &[], Some(notice)))
                }
            }
        }
        "identify" => match identify(state, &clinic, &form.visitor()).await {
            Ok(known) => {
                let token = visits::start(state, &known).await?;
                tracing::info!(identified = known.record.is_some(), "portal visit started");
                visits::redirect(&clinic, Some(&token), request, &home)
            }
            Err(problem) => portal.refused(problem, &form),
        },
        _ => Err(Problem::malformed("action", "must be identify, book or forget")),
    }
}

/// Books the reviewed choice: the rules are checked again from the stored services, and the
/// booking is made for exactly the clinician and site the review showed. The same form posted
/// twice books once (its idempotency key is the visit and the choice).
async fn book(
    state: &AppState,
    clinic: &ClinicId,
    public: &PublicSnapshot,
    visit: &Visit,
    form: &PortalForm,
    lang: Lang,
) -> Result<Response<Body>, Problem> {
    let offer = Offer::load(state, clinic, public, visit).await?;
    let steps = form.steps();
    let Some((_, snapshot)) = offer.service(steps.service.as_deref()) else {
        let pages = pages(public, clinic, lang, &visit.known);
        return start_again(&pages);
    };
    let pages = pages(snapshot, clinic, lang, &visit.known);
    let Ok(selection) = offer::select(snapshot, &form.booking_type, &form.provider, &form.location) else {
        return start_again(&pages);
    };
    let (Ok(starts_at), Ok(provider), Ok(location)) = (
        form.time.parse::<Timestamp>(),
        crate::domain::provider::ProviderId::parse("with", &form.with),
        crate::domain::location::LocationId::parse("at", &form.at),
    ) else {
        return start_again(&pages);
    };
    let known = &visit.known;
    let (patient, reference) = match &known.record {
        Some(record) => (record.details.clone(), Some(record.reference.clone())),
        None => (known.details.clone(), None),
    };
    let choice = [&form.service, &form.booking_type, &form.provider, &form.location, &form.time, &form.with, &form.at];
    let fingerprint = offer::fingerprint(choice.map(String::as_str).join("\u{1f}").as_bytes());
    let key = format!("portal-{}", offer::fingerprint(format!("{}\u{1f}{fingerprint}", visit.hash).as_bytes()));
    let request = BookingRequest {
        selection: selection.clone(),
        starts_at,
        patient,
        idempotency: Some((key, fingerprint)),
        referral: None,
        patient_reference: reference,
        lang: Some(lang.code().to_owned()),
        allocation: Some((provider, location)),
    };
    let outcome = offer::book(state, clinic, snapshot, request).await;
    booked_page(state, clinic, &pages, &selection, &steps, outcome).await
}
