//! The waitlist's patient pages: joining from the booking pages (`/book/{clinicId}/waitlist`),
//! and an offer's page (`/waitlist/{token}`), where the first to confirm gets the time.

use http::StatusCode;
use jiff::ToSpan;
use lambda_http::{Body, Request, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::offer_text::{Described, describe};
use super::{StoredOffer, clinic_index_write, close, entry_write, load_entry, load_offer, open_offer, scan_job};
use crate::app::AppState;
use crate::domain::appointment::{Appointment, AppointmentId, AppointmentStatus, Channel};
use crate::domain::availability::OfferedSlot;
use crate::domain::clinic::{Clinic, ClinicId};
use crate::domain::diary::DayOfWeek;
use crate::domain::patient::{PatientDetails, PatientInput};
use crate::domain::validation::FieldError;
use crate::domain::waitlist::{
    EntrySource, EntryStatus, OfferStatus, TimeOfDay, WaitlistEntry, WaitlistEntryId, WaitlistOffer,
    WaitlistPreferences,
};
use crate::features::catalog::public::{SnapshotError, snapshot};
use crate::features::diary::booking::{self, BookingError};
use crate::features::rate_limit::check_public;
use crate::http::Problem;
use crate::http::html::{ClinicFrame, Lang, clinic_page, html_response, long_time};
use crate::http::request::path_param;
use crate::http::request::read_form;
use crate::store::keys;

struct Texts {
    offer_title: &'static str,
    book_it: &'static str,
    no_thanks: &'static str,
    open_until: &'static str,
    first_wins: &'static str,
    booked: &'static str,
    taken: &'static str,
    expired: &'static str,
    declined: &'static str,
    no_longer: &'static str,
    unknown: &'static str,
    what: &'static str,
    with: &'static str,
    where_: &'static str,
    when: &'static str,
    join_title: &'static str,
    join_intro: &'static str,
    from: &'static str,
    to: &'static str,
    days: &'static str,
    any_day: &'static str,
    part: &'static str,
    parts: [&'static str; 4],
    first_name: &'static str,
    last_name: &'static str,
    date_of_birth: &'static str,
    mobile: &'static str,
    email: &'static str,
    join: &'static str,
    joined_title: &'static str,
    joined: &'static str,
    errors_title: &'static str,
    weekday_names: [&'static str; 7],
}

const EN: Texts = Texts {
    offer_title: "A time is free for you",
    book_it: "Book this time",
    no_thanks: "No thanks",
    open_until: "This offer is open until",
    first_wins: "Other patients waiting may have been offered this time too: the first to confirm gets it.",
    booked: "Your appointment is booked. We have sent you a confirmation with a link to change or cancel it.",
    taken: "This time was just taken by another patient. You stay on the waitlist.",
    expired: "This offer has ended. You stay on the waitlist until your dates pass.",
    declined: "Thank you. You stay on the waitlist for another time.",
    no_longer: "This offer no longer applies: your appointment has changed since you asked for an earlier time, or it is too close to change online. You keep the appointment you have.",
    unknown: "This link is not valid.",
    what: "Appointment",
    with: "With",
    where_: "Where",
    when: "When",
    join_title: "Join the waitlist",
    join_intro: "Tell us when you could come. When a matching time frees, we text or email you a link; the first to confirm gets it.",
    from: "From",
    to: "Until",
    days: "Days that suit",
    any_day: "Leave all unticked for any day.",
    part: "Time of day",
    parts: ["Any time", "Morning (before 12:00)", "Afternoon (12:00 to 17:00)", "Evening (from 17:00)"],
    first_name: "First name",
    last_name: "Last name",
    date_of_birth: "Date of birth",
    mobile: "Mobile number",
    email: "Email address",
    join: "Join the waitlist",
    joined_title: "You are on the waitlist",
    joined: "We will text or email you as soon as a matching time frees.",
    errors_title: "Please correct the following",
    weekday_names: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
};

const FR: Texts = Texts {
    offer_title: "Un horaire s'est libéré pour vous",
    book_it: "Réserver cet horaire",
    no_thanks: "Non merci",
    open_until: "Offre valable jusqu'au",
    first_wins: "D'autres patients en attente ont pu recevoir cette offre : le premier qui confirme obtient l'horaire.",
    booked: "Votre rendez-vous est confirmé. Nous vous avons envoyé une confirmation avec un lien pour le modifier ou l'annuler.",
    taken: "Cet horaire vient d'être pris par un autre patient. Vous restez sur la liste d'attente.",
    expired: "Cette offre a expiré. Vous restez sur la liste d'attente jusqu'à la fin de vos dates.",
    declined: "Merci. Vous restez sur la liste d'attente pour un autre horaire.",
    no_longer: "Cette offre ne s'applique plus : votre rendez-vous a changé depuis votre demande, ou il est trop proche pour être modifié en ligne. Vous gardez le rendez-vous que vous avez.",
    unknown: "Ce lien n'est pas valide.",
    what: "Rendez-vous",
    with: "Avec",
    where_: "Lieu",
    when: "Date",
    join_title: "S'inscrire sur la liste d'attente",
    join_intro: "Indiquez quand vous pourriez venir. Dès qu'un horaire correspondant se libère, nous vous envoyons un lien par SMS ou e-mail ; le premier qui confirme l'obtient.",
    from: "Du",
    to: "Au",
    days: "Jours possibles",
    any_day: "Ne cochez rien pour tous les jours.",
    part: "Moment de la journée",
    parts: ["Indifférent", "Matin (avant 12 h)", "Après-midi (12 h à 17 h)", "Soir (à partir de 17 h)"],
    first_name: "Prénom",
    last_name: "Nom",
    date_of_birth: "Date de naissance",
    mobile: "Numéro de mobile",
    email: "Adresse e-mail",
    join: "S'inscrire",
    joined_title: "Vous êtes sur la liste d'attente",
    joined: "Nous vous préviendrons par SMS ou e-mail dès qu'un horaire correspondant se libère.",
    errors_title: "Veuillez corriger les points suivants",
    weekday_names: ["Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche"],
};

fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &EN,
        Lang::Fr => &FR,
    }
}

fn page(
    lang: Lang,
    clinic: &Clinic,
    title: &str,
    switch: &str,
    status: StatusCode,
    body: Markup,
) -> Result<Response<Body>, Problem> {
    let frame = ClinicFrame { name: &clinic.name, branding: &clinic.branding };
    clinic_page(lang, &frame, status, title, switch, body)
}

fn unknown_link(lang: Lang) -> Result<Response<Body>, Problem> {
    let t = texts(lang);
    let body = html! { h1 { (t.unknown) } };
    html_response(StatusCode::NOT_FOUND, crate::http::html::document(lang, t.unknown, "?", body))
}

fn review(t: &Texts, lang: Lang, described: &Described, offer: &WaitlistOffer) -> Markup {
    let zone = described.clinic.time_zone.zone();
    let what = described.booking_type.as_ref().map(|bt| bt.name_in(lang == Lang::Fr).to_owned());
    html! {
        dl.review {
            dt { (t.what) } dd { (what.unwrap_or_default()) }
            dt { (t.with) } dd { @if let Some(p) = &described.provider { (p.name) ", " (p.professional_title) } }
            dt { (t.where_) } dd { @if let Some(l) = &described.location {
                (l.full_name) br; (l.primary_address)
                @if let Some(phone) = &l.booking_phone { br; a href={ "tel:" (phone.replace(' ', "")) } { (phone) } }
            } }
            dt { (t.when) } dd { (long_time(offer.starts_at, &zone, lang)) }
        }
    }
}

/// `GET /waitlist/{token}`: the offer, with "Book this time" and "No thanks". Changes nothing.
#[tracing::instrument(skip_all)]
pub async fn show(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    check_public(state, request).await?;
    let token = path_param(request, "token", |value| Ok::<_, FieldError>(value.to_owned()))?;
    let Some((clinic_id, stored)) = open_offer(state, &token).await? else {
        return unknown_link(Lang::of(request, None));
    };
    let Some(entry) = load_entry(state, &clinic_id, &stored.offer.entry_id).await? else {
        return unknown_link(Lang::En);
    };
    let lang = Lang::of(
        request,
        entry.entry.lang.as_deref().filter(|_| crate::http::request::query_param(request, "lang").is_none()),
    );
    let Some(described) = describe(state, &clinic_id, &stored.offer).await? else { return unknown_link(lang) };
    outcome_or_offer(state, lang, &token, &described, &stored, None)
}

fn outcome_or_offer(
    state: &AppState,
    lang: Lang,
    token: &str,
    described: &Described,
    stored: &StoredOffer,
    forced: Option<&'static str>,
) -> Result<Response<Body>, Problem> {
    let t = texts(lang);
    let now = state.clock.now();
    let frame = ClinicFrame { name: &described.clinic.name, branding: &described.clinic.branding };
    let switch = format!("/waitlist/{token}?lang={}", lang.other().0.code());
    let zone = described.clinic.time_zone.zone();
    let closed = match (&stored.offer.status, forced) {
        (_, Some(text)) => Some(text),
        (OfferStatus::Accepted { .. }, _) => Some(t.booked),
        (OfferStatus::Taken, _) => Some(t.taken),
        (OfferStatus::Declined, _) => Some(t.declined),
        (OfferStatus::Expired, _) => Some(t.expired),
        (OfferStatus::Open, _) if now >= stored.offer.open_until => Some(t.expired),
        (OfferStatus::Open, _) => None,
    };
    let body = html! {
        h1 { (t.offer_title) }
        (review(t, lang, described, &stored.offer))
        @match closed {
            Some(text) => { p.notice role="status" { (text) " " (frame.call_us(lang)) } },
            None => {
                p { (t.open_until) " " (long_time(stored.offer.open_until, &zone, lang)) "." }
                p.hint { (t.first_wins) }
                form method="post" action={ "/waitlist/" (token) } {
                    input type="hidden" name="lang" value=(lang.code());
                    button.primary type="submit" name="action" value="accept" { (t.book_it) }
                    " "
                    button.secondary type="submit" name="action" value="decline" { (t.no_thanks) }
                }
            },
        }
    };
    let status = if forced == Some(t.taken) { StatusCode::CONFLICT } else { StatusCode::OK };
    page(lang, &described.clinic, t.offer_title, &switch, status, body)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct OfferForm {
    /// `accept` or `decline`.
    #[serde(default)]
    #[schema(required = true, pattern = "^(accept|decline)$")]
    action: String,
    #[serde(default)]
    lang: Option<String>,
}

/// `POST /waitlist/{token}`: take the offer (the first to confirm wins, in the booking's own
/// transaction with the offer's version) or say no (the time goes to the next entry).
#[tracing::instrument(skip_all)]
pub async fn submit(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    check_public(state, request).await?;
    let token = path_param(request, "token", |value| Ok::<_, FieldError>(value.to_owned()))?;
    let form: OfferForm = read_form(request)?;
    let lang = Lang::of(request, form.lang.as_deref());
    let Some((clinic_id, stored)) = open_offer(state, &token).await? else { return unknown_link(lang) };
    let Some(described) = describe(state, &clinic_id, &stored.offer).await? else { return unknown_link(lang) };
    if !stored.offer.takeable(state.clock.now()) {
        return outcome_or_offer(state, lang, &token, &described, &stored, None);
    }
    let Some(entry) = load_entry(state, &clinic_id, &stored.offer.entry_id).await? else { return unknown_link(lang) };
    match form.action.as_str() {
        "decline" => {
            close(state, &clinic_id, &stored, OfferStatus::Declined).await?;
            if let Err(error) =
                state.scheduler.schedule_once(state.clock.now(), &scan_job(&clinic_id, state.clock.now())).await
            {
                tracing::error!(%error, "waitlist scan not scheduled; the sweeper will scan");
            }
            let reread = load_offer(state, &clinic_id, &stored.offer.id).await?.unwrap_or(stored);
            outcome_or_offer(state, lang, &token, &described, &reread, None)
        }
        "accept" => accept(state, lang, &token, &clinic_id, &described, &stored, entry).await,
        _ => Err(Problem::malformed("action", "must be accept or decline")),
    }
}

async fn accept(
    state: &AppState,
    lang: Lang,
    token: &str,
    clinic_id: &ClinicId,
    described: &Described,
    stored: &StoredOffer,
    entry: super::StoredEntry,
) -> Result<Response<Body>, Problem> {
    let t = texts(lang);
    let now = state.clock.now();
    let Some(booking_type) = &described.booking_type else {
        return outcome_or_offer(state, lang, token, described, stored, Some(t.taken));
    };
    let slot = OfferedSlot {
        starts_at: stored.offer.starts_at,
        provider_id: stored.offer.provider_id.clone(),
        location_id: stored.offer.location_id.clone(),
    };
    let moving = match moved_appointment(state, clinic_id, &entry.entry, &slot, now).await? {
        Move::Book => None,
        Move::Appointment(current) => Some(*current),
        Move::Lapsed => {
            withdraw(state, clinic_id, stored, &entry, now).await?;
            tracing::info!(offer_id = %stored.offer.id, "earlier-time offer no longer applies; entry withdrawn");
            return outcome_or_offer(state, lang, token, described, stored, Some(t.no_longer));
        }
    };
    if let Some(moving) = moving {
        let mut next = moving.appointment.clone();
        next.starts_at = slot.starts_at;
        next.provider_id = slot.provider_id.clone();
        next.location_id = slot.location_id.clone();
        next.updated_at = now;
        let mut guards = taken_writes(clinic_id, stored, &entry, &next.id.to_string(), now)?;
        if next.provider_id != moving.appointment.provider_id {
            let zone = described.clinic.time_zone.zone();
            guards.push(crate::features::booking_links::offer::inbox_write(
                clinic_id,
                &next,
                &booking_type.short_name,
                &zone,
                now,
            )?);
        }
        let outcome =
            booking::rewrite_guarded(state, clinic_id, &moving, &next, "patient", "appointment.rescheduled", guards)
                .await;
        return taken_outcome(state, lang, token, clinic_id, described, stored, &next.id.to_string(), outcome).await;
    }
    let mut appointment = Appointment {
        patient_reference: None,
        provisional: true,
        ..Appointment::booked(
            booking_type.id.clone(),
            booking_type.duration_minutes,
            slot,
            entry.entry.patient.clone(),
            Channel::Online,
            now,
        )
    };
    appointment.patient_reference = crate::features::patients::identify_patient(state, clinic_id, &entry.entry.patient)
        .await?
        .map(|record| record.reference);
    appointment.provisional = appointment.patient_reference.is_none();
    appointment.lifecycle.lang = entry.entry.lang.clone();
    let guards = taken_writes(clinic_id, stored, &entry, &appointment.id.to_string(), now)?;
    let outcome = booking::book_guarded(state, clinic_id, &appointment, "patient", None, guards).await;
    taken_outcome(state, lang, token, clinic_id, described, stored, &appointment.id.to_string(), outcome).await
}

/// What taking an offer does for its entry.
enum Move {
    /// An ordinary entry: book a new appointment.
    Book,
    /// An earlier-time entry whose appointment may still move there.
    Appointment(Box<booking::StoredAppointment>),
    /// An earlier-time entry whose appointment can no longer move there: cancelled, already at
    /// or before the offered time, or inside the clinic's no-change cutoff.
    Lapsed,
}

/// Whether the entry's appointment (joined from its manage page) may move to `slot` now; the
/// manage page's rules are checked again, as things may have changed since the patient joined.
async fn moved_appointment(
    state: &AppState,
    clinic_id: &ClinicId,
    entry: &WaitlistEntry,
    slot: &OfferedSlot,
    now: jiff::Timestamp,
) -> Result<Move, Problem> {
    let Some(raw) = entry.moves.as_deref() else { return Ok(Move::Book) };
    let Ok(id) = AppointmentId::parse("moves", raw) else { return Ok(Move::Lapsed) };
    let Some(current) = booking::load(state.store.as_ref(), clinic_id, &id).await? else { return Ok(Move::Lapsed) };
    let (settings, _) = crate::features::appointment_lifecycle::load_settings(state.store.as_ref(), clinic_id).await?;
    let appointment = &current.appointment;
    let movable = appointment.status == AppointmentStatus::Booked
        && slot.starts_at < appointment.starts_at
        && settings.changes_allowed(appointment.starts_at, now)
        && (settings.online_reschedule || appointment.lifecycle.booking_link_id.is_some());
    Ok(if movable { Move::Appointment(Box::new(current)) } else { Move::Lapsed })
}

/// Closes the offer and takes its entry off the list, in one transaction.
async fn withdraw(
    state: &AppState,
    clinic_id: &ClinicId,
    stored: &StoredOffer,
    entry: &super::StoredEntry,
    now: jiff::Timestamp,
) -> Result<(), Problem> {
    let offer = WaitlistOffer { status: OfferStatus::Declined, ..stored.offer.clone() };
    let removed =
        WaitlistEntry { status: EntryStatus::Removed, open_offer: None, updated_at: now, ..entry.entry.clone() };
    let writes = vec![
        super::offer_write(clinic_id, &offer, Some(stored.version))?,
        entry_write(clinic_id, &removed, Some(entry.version))?,
    ];
    match state.store.transact(writes).await {
        Ok(()) | Err(crate::store::StoreError::ConditionFailed { .. }) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// The offer accepted and the entry booked, version-checked in the booking's own transaction:
/// the first confirm wins, every other finds a changed version.
fn taken_writes(
    clinic_id: &ClinicId,
    stored: &StoredOffer,
    entry: &super::StoredEntry,
    appointment_id: &str,
    now: jiff::Timestamp,
) -> Result<Vec<crate::store::Write>, Problem> {
    let accepted = WaitlistOffer {
        status: OfferStatus::Accepted { appointment_id: appointment_id.to_owned() },
        ..stored.offer.clone()
    };
    let booked_entry = WaitlistEntry {
        status: EntryStatus::Booked { appointment_id: appointment_id.to_owned() },
        open_offer: None,
        updated_at: now,
        ..entry.entry.clone()
    };
    Ok(vec![
        super::offer_write(clinic_id, &accepted, Some(stored.version))?,
        entry_write(clinic_id, &booked_entry, Some(entry.version))?,
    ])
}

/// The page after a confirm, by how the booking (or the move) went.
#[allow(clippy::too_many_arguments)]
async fn taken_outcome(
    state: &AppState,
    lang: Lang,
    token: &str,
    clinic_id: &ClinicId,
    described: &Described,
    stored: &StoredOffer,
    appointment_id: &str,
    outcome: Result<(), BookingError>,
) -> Result<Response<Body>, Problem> {
    let t = texts(lang);
    match outcome {
        Ok(()) => {
            tracing::info!(offer_id = %stored.offer.id, appointment_id, "waitlist offer taken");
            let reread = load_offer(state, clinic_id, &stored.offer.id).await?.unwrap_or_else(|| stored.clone());
            outcome_or_offer(state, lang, token, described, &reread, None)
        }
        Err(BookingError::Taken | BookingError::PatientBusy) => {
            close(state, clinic_id, stored, OfferStatus::Taken).await?;
            outcome_or_offer(state, lang, token, described, stored, Some(t.taken))
        }
        // The offer or the entry changed first (another confirm of this offer, a decline, expiry).
        Err(BookingError::Conflict) => {
            let reread = load_offer(state, clinic_id, &stored.offer.id).await?.unwrap_or_else(|| stored.clone());
            outcome_or_offer(state, lang, token, described, &reread, None)
        }
        Err(BookingError::Store(error)) => Err(error.into()),
        Err(_) => outcome_or_offer(state, lang, token, described, stored, Some(t.taken)),
    }
}

/// The join form as posted (no `Debug`: it holds patient data).
#[derive(Default, Deserialize, utoipa::ToSchema)]
pub(crate) struct JoinForm {
    #[serde(rename = "type", default)]
    booking_type: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    part: String,
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
    lang: Option<String>,
    /// The days and parts of the day that suit (`day_monday=on`, …).
    #[serde(flatten)]
    #[schema(ignore)]
    rest: std::collections::HashMap<String, String>,
}

const DAYS: [DayOfWeek; 7] = [
    DayOfWeek::Monday,
    DayOfWeek::Tuesday,
    DayOfWeek::Wednesday,
    DayOfWeek::Thursday,
    DayOfWeek::Friday,
    DayOfWeek::Saturday,
    DayOfWeek::Sunday,
];
const DAY_KEYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const PARTS: [(&str, TimeOfDay); 4] = [
    ("any", TimeOfDay::Any),
    ("morning", TimeOfDay::Morning),
    ("afternoon", TimeOfDay::Afternoon),
    ("evening", TimeOfDay::Evening),
];

/// Parses the choices and range of a join form against the clinic's published catalogue.
fn preferences(
    snapshot: &crate::features::catalog::public::PublicSnapshot,
    form: &JoinForm,
    today: jiff::civil::Date,
) -> Result<WaitlistPreferences, Vec<FieldError>> {
    let mut errors = Vec::new();
    let booking_type =
        snapshot.booking_types.iter().find(|bt| bt.id.as_str() == form.booking_type).map(|bt| bt.id.clone());
    if booking_type.is_none() {
        errors.push(FieldError::new("type", "is not offered online"));
    }
    let provider_id = match form.provider.as_str() {
        "" | "any" => None,
        id => match snapshot.providers.iter().find(|p| p.id.as_str() == id) {
            Some(provider) => Some(provider.id.clone()),
            None => {
                errors.push(FieldError::new("provider", "is not offered online"));
                None
            }
        },
    };
    let location_id = match form.location.as_str() {
        "" | "any" => None,
        id => match snapshot.locations.iter().find(|l| l.id.as_str() == id) {
            Some(location) => Some(location.id.clone()),
            None => {
                errors.push(FieldError::new("location", "is not offered online"));
                None
            }
        },
    };
    let Some(booking_type_id) = booking_type else { return Err(errors) };
    let when = When::of(&form.from, &form.to, &form.part, &form.rest);
    match when.preferences(booking_type_id, provider_id, location_id, today) {
        Ok(preferences) if errors.is_empty() => Ok(preferences),
        Ok(_) => Err(errors),
        Err(found) => {
            errors.extend(found);
            Err(errors)
        }
    }
}

/// The "when would suit" part of a waitlist form as posted: dates, ticked weekdays, part of day
/// (the join page's and the manage page's earlier-time form share it).
pub(super) struct When<'a> {
    from: &'a str,
    to: &'a str,
    part: &'a str,
    ticked: &'a std::collections::HashMap<String, String>,
}

impl<'a> When<'a> {
    pub(super) fn of(
        from: &'a str,
        to: &'a str,
        part: &'a str,
        ticked: &'a std::collections::HashMap<String, String>,
    ) -> Self {
        Self { from, to, part, ticked }
    }

    /// The preferences these choices make for a booking type, clinician and site.
    pub(super) fn preferences(
        &self,
        booking_type_id: crate::domain::booking_type::BookingTypeId,
        provider_id: Option<crate::domain::provider::ProviderId>,
        location_id: Option<crate::domain::location::LocationId>,
        today: jiff::civil::Date,
    ) -> Result<WaitlistPreferences, Vec<FieldError>> {
        let mut errors = Vec::new();
        let from = crate::domain::diary::date("from", self.from).map_err(|error| errors.push(error)).ok();
        let to = crate::domain::diary::date("to", self.to).map_err(|error| errors.push(error)).ok();
        let weekdays =
            DAYS.iter().zip(DAY_KEYS).filter(|(_, key)| self.ticked.contains_key(*key)).map(|(day, _)| *day).collect();
        let time_of_day = PARTS.iter().find(|(key, _)| *key == self.part).map_or(TimeOfDay::Any, |(_, part)| *part);
        let (Some(from), Some(to)) = (from, to) else { return Err(errors) };
        let preferences =
            WaitlistPreferences { booking_type_id, provider_id, location_id, from, to, weekdays, time_of_day };
        if let Err(found) = preferences.check(today) {
            errors.extend(found);
        }
        if from < today {
            errors.push(FieldError::new("from", "must not be in the past"));
        }
        if errors.is_empty() { Ok(preferences) } else { Err(errors) }
    }

    /// The fields, with `from` and `to` shown as given (or the defaults when blank).
    pub(super) fn fields(&self, lang: Lang, default_from: &str, default_to: &str, errors: &[FieldError]) -> Markup {
        let t = texts(lang);
        let value = |raw: &str, default: &str| if raw.is_empty() { default.to_owned() } else { raw.to_owned() };
        let error_for = |field: &str| {
            errors
                .iter()
                .find(|error| error.field == field)
                .map(|error| crate::features::self_booking::page_texts::message(error, lang))
        };
        html! {
            label for="from" { (t.from) }
            @if let Some(error) = error_for("from") { span.error id="from-error" { (error) } }
            input type="date" id="from" name="from" value=(value(self.from, default_from)) required;
            label for="to" { (t.to) }
            @if let Some(error) = error_for("to") { span.error id="to-error" { (error) } }
            input type="date" id="to" name="to" value=(value(self.to, default_to)) required;
            fieldset {
                legend { (t.days) }
                span.hint { (t.any_day) }
                @for (index, key) in DAY_KEYS.iter().enumerate() {
                    label.inline { input type="checkbox" name=(key) value="yes" checked[self.ticked.contains_key(*key)]; " " (t.weekday_names[index]) }
                }
            }
            fieldset {
                legend { (t.part) }
                @for (index, (key, _)) in PARTS.iter().enumerate() {
                    label.inline { input type="radio" name="part" value=(key) checked[self.part == *key || (self.part.is_empty() && index == 0)]; " " (t.parts[index]) }
                }
            }
        }
    }

    /// The label of a field of these choices, else `None`.
    pub(super) fn label(lang: Lang, field: &str) -> Option<&'static str> {
        let t = texts(lang);
        match field {
            "from" => Some(t.from),
            "to" => Some(t.to),
            _ => None,
        }
    }
}

/// `GET /book/{clinicId}/waitlist` and `POST` (join): the form, then "you are on the waitlist".
#[tracing::instrument(skip_all)]
pub async fn join(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = path_param(request, "clinicId", ClinicId::parse)?;
    check_public(state, request).await?;
    let posted = request.method() == http::Method::POST;
    let form: JoinForm = if posted {
        read_form(request)?
    } else {
        let query = request.uri().query().unwrap_or("");
        serde_urlencoded::from_str(query).unwrap_or_default()
    };
    let lang = Lang::of(request, form.lang.as_deref());
    let t = texts(lang);
    let snapshot = match snapshot(state.store.as_ref(), &clinic_id).await {
        Ok(snapshot) => snapshot,
        Err(SnapshotError::NotAvailable) => return unknown_link(lang),
        Err(SnapshotError::Store(error)) => return Err(error.into()),
    };
    let Some(clinic_item) = state.store.get(&keys::clinic_profile(&clinic_id)).await? else {
        return unknown_link(lang);
    };
    let clinic: Clinic = clinic_item.record()?;
    let now = state.clock.now();
    let today = now.to_zoned(clinic.time_zone.zone()).date();
    let mut errors = Vec::new();
    if posted {
        let preferences = preferences(&snapshot, &form, today).map_err(|found| errors.extend(found)).ok();
        let input = PatientInput {
            first_name: form.first_name.clone(),
            last_name: form.last_name.clone(),
            date_of_birth: form.date_of_birth.clone(),
            mobile: form.mobile.clone(),
            email: form.email.clone(),
        };
        let patient =
            PatientDetails::parse(&input, today, clinic.country, "patient.").map_err(|found| errors.extend(found)).ok();
        if let (Some(preferences), Some(patient), true) = (preferences, patient, errors.is_empty()) {
            add(state, &clinic_id, preferences, patient, Some(lang.code().to_owned()), EntrySource::Patient, None)
                .await?;
            let body = html! {
                h1 { (t.joined_title) }
                p role="status" { (t.joined) }
            };
            let switch = format!("/book/{clinic_id}?lang={}", lang.other().0.code());
            return page(lang, &clinic, t.joined_title, &switch, StatusCode::CREATED, body);
        }
    }
    let default_to = today.checked_add(30.days()).unwrap_or(today).to_string();
    let when = When::of(&form.from, &form.to, &form.part, &form.rest);
    let page_texts = crate::features::self_booking::page_texts::texts(lang);
    let error_for = |field: &str| {
        errors
            .iter()
            .find(|error| error.field == field)
            .map(|error| crate::features::self_booking::page_texts::message(error, lang))
    };
    let booking_type = snapshot.booking_types.iter().find(|bt| bt.id.as_str() == form.booking_type);
    let provider = snapshot.providers.iter().find(|p| p.id.as_str() == form.provider);
    let location = snapshot.locations.iter().find(|l| l.id.as_str() == form.location);
    let action = format!("/book/{clinic_id}/waitlist");
    let text_field = |name: &'static str, label: &'static str, kind: &'static str, value: &str, required: bool| {
        let error = error_for(&format!("patient.{name}"));
        html! {
            label for=(name) { (label) }
            @if let Some(error) = &error { span.error id={ (name) "-error" } { (error) } }
            input type=(kind) id=(name) name=(name) value=(value) required[required]
                aria-invalid=[error.as_ref().map(|_| "true")] aria-describedby=[error.as_ref().map(|_| format!("{name}-error"))];
        }
    };
    let body = html! {
        h1 { (t.join_title) }
        p { (t.join_intro) }
        dl.review {
            dt { (t.what) } dd { (booking_type.map(|bt| bt.name_in(lang == Lang::Fr).to_owned()).unwrap_or_default()) }
            dt { (t.with) } dd { (provider.map(|p| p.name.clone()).unwrap_or_else(|| page_texts.any_provider.to_owned())) }
            dt { (t.where_) } dd { (location.map(|l| l.name.clone()).unwrap_or_else(|| page_texts.any_location.to_owned())) }
        }
        @if !errors.is_empty() {
            div.errors role="alert" {
                h2 { (t.errors_title) }
                ul { @for error in &errors {
                    @let label = When::label(lang, &error.field).unwrap_or_else(|| page_texts.label(&error.field));
                    li { (label) ": " (crate::features::self_booking::page_texts::message(error, lang)) }
                } }
            }
        }
        form method="post" action=(action) {
            input type="hidden" name="type" value=(form.booking_type);
            input type="hidden" name="provider" value=(form.provider);
            input type="hidden" name="location" value=(form.location);
            input type="hidden" name="lang" value=(lang.code());
            (when.fields(lang, &today.to_string(), &default_to, &errors))
            (text_field("first_name", t.first_name, "text", &form.first_name, true))
            (text_field("last_name", t.last_name, "text", &form.last_name, true))
            (text_field("date_of_birth", t.date_of_birth, "date", &form.date_of_birth, true))
            (text_field("mobile", t.mobile, "tel", &form.mobile, false))
            (text_field("email", t.email, "email", &form.email, false))
            button.primary type="submit" { (t.join) }
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let switch = format!(
        "{action}?{}",
        serde_urlencoded::to_string([
            ("type", form.booking_type.as_str()),
            ("provider", form.provider.as_str()),
            ("location", form.location.as_str()),
            ("lang", lang.other().0.code())
        ])
        .unwrap_or_default()
    );
    page(lang, &clinic, t.join_title, &switch, status, body)
}

/// Adds an entry (and lists the clinic for the sweeper) and asks for a scan now.
pub async fn add(
    state: &AppState,
    clinic_id: &ClinicId,
    preferences: WaitlistPreferences,
    patient: PatientDetails,
    lang: Option<String>,
    source: EntrySource,
    moves: Option<String>,
) -> Result<WaitlistEntry, Problem> {
    let now = state.clock.now();
    let entry = WaitlistEntry {
        id: WaitlistEntryId::random(),
        preferences,
        patient,
        lang,
        source,
        joined_at: now,
        status: EntryStatus::Waiting,
        open_offer: None,
        offered: Vec::new(),
        moves,
        updated_at: now,
    };
    state.store.transact(vec![entry_write(clinic_id, &entry, None)?, clinic_index_write(clinic_id)?]).await?;
    tracing::info!(entry_id = %entry.id, "waitlist entry added");
    if let Err(error) = state.scheduler.schedule_once(now, &scan_job(clinic_id, now)).await {
        tracing::error!(%error, "waitlist scan not scheduled; the sweeper will scan");
    }
    Ok(entry)
}
