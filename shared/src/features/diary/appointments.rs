//! Staff's diary: appointments per day, provider and location, marked with how they were
//! booked; staff book, move, edit and cancel with the same claims as patients.

use crate::features::catalog::names::{CatalogNames, Named};
use crate::http::request::check_if_match;
use crate::http::response::json_versioned;
use http::StatusCode;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use super::booking::{self, BookingError, StoredAppointment};
use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::appointment::{Appointment, AppointmentId, AppointmentStatus, Channel};
use crate::domain::availability::OfferedSlot;
use crate::domain::booking_type::{BookingType, BookingTypeId};
use crate::domain::clinic::{Clinic, ClinicId};
use crate::domain::diary::{UNIT_MINUTES, date};
use crate::domain::location::LocationId;
use crate::domain::patient::{PatientDetails, PatientInput, PatientReference};
use crate::domain::provider::{Provider, ProviderId};
use crate::domain::validation::{Checker, FieldError, required_text};
use crate::http::Problem;
use crate::http::auth::authorize;
use crate::http::request::clinic_id;
use crate::http::request::{json_body, path_param, query_param};
use crate::http::response::json;
use crate::store::{Item, Query, keys, query_all};

/// An appointment as staff see it (no `Debug`: it holds patient data).
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AppointmentView {
    /// Identifier.
    pub id: String,
    /// Booking type id.
    pub booking_type_id: String,
    /// The booking type, with its name.
    pub booking_type: Named,
    /// Provider id.
    pub provider_id: String,
    /// The provider, with their name.
    pub provider: Named,
    /// Location id.
    pub location_id: String,
    /// The location, with its name.
    pub location: Named,
    /// Start (UTC).
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    /// Start in the clinic's time zone, `YYYY-MM-DDTHH:MM`.
    pub local_start: String,
    /// Length in minutes.
    pub duration_minutes: u32,
    /// How it was booked.
    pub channel: Channel,
    /// The partner it was booked for (partner bookings).
    pub partner_id: Option<String>,
    /// The patient record it belongs to, when known.
    pub patient_reference: Option<String>,
    /// Booked with provisional details: attach it to the right patient record.
    pub provisional: bool,
    /// Booked or cancelled.
    pub status: AppointmentStatus,
    /// Patient's name.
    pub patient_name: String,
    /// Patient's birth date.
    pub patient_date_of_birth: String,
    /// Patient's mobile, if given.
    pub patient_mobile: Option<String>,
    /// Patient's email, if given.
    pub patient_email: Option<String>,
    /// Staff notes.
    pub notes: Option<String>,
    /// Whether the patient is told of this appointment.
    pub notify: bool,
    /// Who cancelled it, when it is cancelled.
    pub cancelled_by: Option<String>,
    /// When it was cancelled.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub cancelled_at: Option<Timestamp>,
    /// The next reminder's time, if one is waiting.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_reminder_at: Option<Timestamp>,
    /// The referral the patient attached, if any (stored under `referrals/{clinic}/{id}`).
    pub referral: Option<crate::domain::referral::Referral>,
    /// Version, for the record.
    pub version: u64,
}

/// A day of the diary.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct DiaryDay {
    /// The local day.
    pub date: String,
    /// The clinic's time zone.
    pub time_zone: String,
    /// Appointments that start that day, earliest first.
    pub items: Vec<AppointmentView>,
}

/// An appointment as staff see it.
pub(crate) fn view(appointment: &Appointment, version: u64, clinic: &Clinic, names: &CatalogNames) -> AppointmentView {
    let zone = clinic.time_zone.zone();
    AppointmentView {
        id: appointment.id.to_string(),
        booking_type_id: appointment.booking_type_id.to_string(),
        booking_type: names.booking_type(appointment.booking_type_id.as_str()),
        provider_id: appointment.provider_id.to_string(),
        provider: names.provider(appointment.provider_id.as_str()),
        location_id: appointment.location_id.to_string(),
        location: names.location(appointment.location_id.as_str()),
        starts_at: appointment.starts_at,
        local_start: appointment.starts_at.to_zoned(zone).strftime("%Y-%m-%dT%H:%M").to_string(),
        duration_minutes: appointment.duration_minutes,
        channel: appointment.channel,
        partner_id: appointment.partner_id.as_ref().map(|id| id.as_str().to_owned()),
        patient_reference: appointment.patient_reference.as_ref().map(|r| r.as_str().to_owned()),
        provisional: appointment.provisional,
        status: appointment.status,
        patient_name: format!("{} {}", appointment.patient.first_name, appointment.patient.last_name),
        patient_date_of_birth: appointment.patient.date_of_birth.to_string(),
        patient_mobile: appointment.patient.mobile.as_ref().map(|mobile| mobile.as_str().to_owned()),
        patient_email: appointment.patient.email.as_ref().map(|email| email.as_str().to_owned()),
        notes: appointment.notes.clone(),
        notify: appointment.lifecycle.notify,
        cancelled_by: appointment.lifecycle.cancelled_by.clone(),
        cancelled_at: appointment.lifecycle.cancelled_at,
        next_reminder_at: appointment.lifecycle.next_reminder.as_ref().map(|next| next.due_at),
        referral: appointment.referral.clone(),
        version,
    }
}

/// The appointment as stored (with what the lifecycle added: its reminder, who cancelled).
pub(crate) async fn stored_view(
    state: &AppState,
    clinic: &Clinic,
    id: &AppointmentId,
    status: StatusCode,
) -> Result<Response<Body>, Problem> {
    let stored = booking::load(state.store.as_ref(), &clinic.id, id).await?.ok_or_else(Problem::internal)?;
    let names = CatalogNames::load_or_none(state.store.as_ref(), &clinic.id).await;
    json(status, &view(&stored.appointment, stored.version, clinic, &names))
}

/// The clinic's profile; 404 when there is none.
pub(crate) async fn clinic(state: &AppState, clinic_id: &ClinicId) -> Result<Clinic, Problem> {
    Ok(state
        .store
        .get(&keys::clinic_profile(clinic_id))
        .await?
        .ok_or_else(|| Problem::not_found("no such clinic"))?
        .record()?)
}

fn day_bounds(day: Date, clinic: &Clinic) -> Result<(Timestamp, Timestamp), Problem> {
    let zone = clinic.time_zone.zone();
    let start = day.to_zoned(zone.clone()).map_err(|_| Problem::malformed("date", "is out of range"))?;
    let end = day
        .tomorrow()
        .and_then(|next| next.to_zoned(zone))
        .map_err(|_| Problem::malformed("date", "is out of range"))?;
    Ok((start.timestamp(), end.timestamp() - SignedDuration::from_secs(1)))
}

/// `GET /admin/clinics/{clinicId}/appointments?date=YYYY-MM-DD[&provider_id=][&location_id=]`
#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    authorize(request, &clinic_id, Permission::DiaryRead)?;
    let clinic = clinic(state, &clinic_id).await?;
    let day = match query_param(request, "date") {
        Some(raw) => date("date", raw).map_err(|error| Problem::malformed(error.field, error.message))?,
        None => state.clock.now().to_zoned(clinic.time_zone.zone()).date(),
    };
    let provider = query_param(request, "provider_id")
        .map(|raw| {
            ProviderId::parse("provider_id", raw).map_err(|error| Problem::malformed(error.field, error.message))
        })
        .transpose()?;
    let location = query_param(request, "location_id")
        .map(|raw| {
            LocationId::parse("location_id", raw).map_err(|error| Problem::malformed(error.field, error.message))
        })
        .transpose()?;
    let providers: Vec<ProviderId> = match provider {
        Some(provider) => vec![provider],
        None => {
            query_all(state.store.as_ref(), Query::prefix(keys::clinic_partition(&clinic_id), keys::PROVIDER_PREFIX))
                .await?
                .iter()
                .map(|item| item.record::<Provider>().map(|provider| provider.id))
                .collect::<Result<_, _>>()?
        }
    };
    let (from, to) = day_bounds(day, &clinic)?;
    let mut items = Vec::new();
    for provider in &providers {
        for stored in booking::diary(state.store.as_ref(), &clinic_id, provider, from, to).await? {
            if location.as_ref().is_none_or(|location| *location == stored.appointment.location_id) {
                items.push(stored);
            }
        }
    }
    items.sort_by_key(|stored| stored.appointment.starts_at);
    let names = CatalogNames::load(state.store.as_ref(), &clinic.id).await?;
    let views = items.iter().map(|stored| view(&stored.appointment, stored.version, &clinic, &names)).collect();
    json(
        StatusCode::OK,
        &DiaryDay { date: day.to_string(), time_zone: clinic.time_zone.as_str().to_owned(), items: views },
    )
}

/// A staff booking.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffBookingInput {
    /// Booking type id.
    pub booking_type_id: String,
    /// Provider id.
    pub provider_id: String,
    /// Location id.
    pub location_id: String,
    /// Start, RFC 3339, on the five-minute grid.
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    /// The patient.
    pub patient: PatientInput,
    /// Staff notes, up to 1,000 characters.
    pub notes: Option<String>,
    /// The patient's record, when the patient has one: the booking then counts for the
    /// patient's Patient Connect programs (it may complete a cycle).
    #[serde(default)]
    pub patient_reference: Option<String>,
    /// Whether the patient is told (confirmation, changes, reminders); default true.
    #[serde(default)]
    pub notify: Option<bool>,
}

fn on_grid(field: &str, at: Timestamp, now: Timestamp) -> Result<Timestamp, FieldError> {
    let year = SignedDuration::from_hours(24 * 366);
    if at < now - year || at > now + year * 3 {
        return Err(FieldError::new(field, "must be within a year before and three years after today"));
    }
    if at.as_second().rem_euclid(UNIT_MINUTES * 60) == 0 && at.subsec_nanosecond() == 0 {
        Ok(at)
    } else {
        Err(FieldError::new(field, "must be on the five-minute grid"))
    }
}

fn notes(raw: Option<&str>, checker: &mut Checker) -> Option<String> {
    raw.filter(|text| !text.trim().is_empty()).and_then(|text| checker.check(required_text("notes", text, 1000)))
}

fn booking_problem(error: BookingError) -> Problem {
    match error {
        BookingError::Taken => Problem::conflict("the provider is already booked for part of that time"),
        BookingError::Conflict => {
            Problem::conflict("the appointment changed while this request ran; reload and try again")
        }
        BookingError::Replayed(_) => Problem::conflict("already booked"),
        BookingError::PatientBusy => Problem::conflict("the patient already has an appointment at that time"),
        BookingError::Store(error) => error.into(),
    }
}

/// `POST /admin/clinics/{clinicId}/appointments`
#[tracing::instrument(skip_all)]
pub async fn create(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let actor = authorize(request, &clinic_id, Permission::DiaryWrite)?;
    let input: StaffBookingInput = json_body(request)?;
    let clinic = clinic(state, &clinic_id).await?;
    let today = state.clock.now().to_zoned(clinic.time_zone.zone()).date();
    let mut checker = Checker::default();
    let booking_type_id = checker.check(BookingTypeId::parse("booking_type_id", &input.booking_type_id));
    let provider_id = checker.check(ProviderId::parse("provider_id", &input.provider_id));
    let location_id = checker.check(LocationId::parse("location_id", &input.location_id));
    let starts_at = checker.check(on_grid("starts_at", input.starts_at, state.clock.now()));
    let patient = match PatientDetails::parse(&input.patient, today, clinic.country, "patient.") {
        Ok(patient) => Some(patient),
        Err(errors) => {
            for error in errors {
                checker.check::<()>(Err(error));
            }
            None
        }
    };
    let notes = notes(input.notes.as_deref(), &mut checker);
    let patient_reference = input
        .patient_reference
        .as_deref()
        .and_then(|raw| checker.check(PatientReference::parse("patient_reference", raw)));
    checker.finish().map_err(Problem::invalid)?;
    let (Some(booking_type_id), Some(provider_id), Some(location_id), Some(starts_at), Some(patient)) =
        (booking_type_id, provider_id, location_id, starts_at, patient)
    else {
        unreachable!("checker.finish() fails when a check failed")
    };
    let store = state.store.as_ref();
    let booking_type: BookingType = store
        .get(&keys::entry(&clinic_id, keys::BOOKING_TYPE_PREFIX, booking_type_id.as_str()))
        .await?
        .filter(Item::is_current)
        .ok_or_else(|| {
            Problem::invalid(vec![FieldError::new(
                "booking_type_id",
                "names no current booking type of this clinic (missing or archived)",
            )])
        })?
        .record()?;
    let mut references = vec![
        (keys::entry(&clinic_id, keys::PROVIDER_PREFIX, provider_id.as_str()), "provider_id"),
        (keys::entry(&clinic_id, keys::LOCATION_PREFIX, location_id.as_str()), "location_id"),
    ];
    if let Some(reference) = &patient_reference {
        references.push((keys::patient(&clinic_id, reference.as_str()), "patient_reference"));
    }
    for (key, field) in references {
        if !store.get(&key).await?.is_some_and(|item| item.is_current()) {
            return Err(Problem::invalid(vec![FieldError::new(
                field,
                "names nothing current in this clinic (missing or archived)",
            )]));
        }
    }
    let now = state.clock.now();
    let slot = OfferedSlot { starts_at, provider_id, location_id };
    let mut appointment = Appointment {
        notes,
        patient_reference,
        ..Appointment::booked(booking_type_id, booking_type.duration_minutes, slot, patient, Channel::Staff, now)
    };
    appointment.lifecycle.notify = input.notify.unwrap_or(true);
    booking::book(state, &clinic_id, &appointment, &actor.subject, None).await.map_err(booking_problem)?;
    stored_view(state, &clinic, &appointment.id, StatusCode::CREATED).await
}

/// A change to an appointment: move (time, provider, location), edit notes, or cancel.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppointmentChange {
    /// New start, RFC 3339, on the five-minute grid.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<Timestamp>,
    /// New provider id.
    pub provider_id: Option<String>,
    /// New location id.
    pub location_id: Option<String>,
    /// New notes (empty removes them).
    pub notes: Option<String>,
    /// `cancelled` to cancel; `no_show` once it has started and the patient did not come.
    pub status: Option<AppointmentStatus>,
}

/// `PATCH /admin/clinics/{clinicId}/appointments/{appointmentId}`
#[tracing::instrument(skip_all)]
pub async fn update(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let id = path_param(request, "appointmentId", |raw| AppointmentId::parse("appointmentId", raw))?;
    let actor = authorize(request, &clinic_id, Permission::DiaryWrite)?;
    let change: AppointmentChange = json_body(request)?;
    let clinic = clinic(state, &clinic_id).await?;
    let current: StoredAppointment = booking::load(state.store.as_ref(), &clinic_id, &id)
        .await?
        .ok_or_else(|| Problem::not_found("no such appointment in this clinic"))?;
    check_if_match(request, current.version)?;
    let mut checker = Checker::default();
    let mut next = current.appointment.clone();
    if let Some(at) = change.starts_at
        && let Some(at) = checker.check(on_grid("starts_at", at, state.clock.now()))
    {
        next.starts_at = at;
    }
    if let Some(raw) = &change.provider_id
        && let Some(provider) = checker.check(ProviderId::parse("provider_id", raw))
    {
        next.provider_id = provider;
    }
    if let Some(raw) = &change.location_id
        && let Some(location) = checker.check(LocationId::parse("location_id", raw))
    {
        next.location_id = location;
    }
    if change.notes.is_some() {
        next.notes = notes(change.notes.as_deref(), &mut checker);
    }
    if let Some(status) = change.status {
        let was = current.appointment.status;
        if status != was && was != AppointmentStatus::Booked {
            checker.check::<()>(Err(FieldError::new(
                "status",
                "a cancelled or no-show appointment cannot change status; book again",
            )));
        }
        if status == AppointmentStatus::NoShow
            && was == AppointmentStatus::Booked
            && current.appointment.starts_at > state.clock.now()
        {
            checker
                .check::<()>(Err(FieldError::new("status", "an appointment that has not started cannot be a no-show")));
        }
        next.status = status;
    }
    let moves = next.starts_at != current.appointment.starts_at
        || next.provider_id != current.appointment.provider_id
        || next.location_id != current.appointment.location_id;
    if moves && current.appointment.status != AppointmentStatus::Booked {
        checker.check::<()>(Err(FieldError::new("status", "a cancelled or no-show appointment cannot be moved")));
    }
    if next == current.appointment {
        checker.check::<()>(Err(FieldError::new("body", "must change at least one field")));
    }
    checker.finish().map_err(Problem::invalid)?;
    for (changed, key, field) in [
        (
            next.provider_id != current.appointment.provider_id,
            keys::entry(&clinic_id, keys::PROVIDER_PREFIX, next.provider_id.as_str()),
            "provider_id",
        ),
        (
            next.location_id != current.appointment.location_id,
            keys::entry(&clinic_id, keys::LOCATION_PREFIX, next.location_id.as_str()),
            "location_id",
        ),
    ] {
        if changed && !state.store.get(&key).await?.is_some_and(|item| item.is_current()) {
            return Err(Problem::invalid(vec![FieldError::new(
                field,
                "names nothing current in this clinic (missing or archived)",
            )]));
        }
    }
    next.updated_at = state.clock.now();
    let from_booked = current.appointment.status == AppointmentStatus::Booked;
    let action = if next.status == AppointmentStatus::Cancelled && from_booked {
        "appointment.cancelled"
    } else if next.status == AppointmentStatus::NoShow && from_booked {
        "appointment.no_show"
    } else if moves {
        "appointment.moved"
    } else {
        "appointment.edited"
    };
    booking::rewrite(state, &clinic_id, &current, &next, &actor.subject, action).await.map_err(booking_problem)?;
    stored_view(state, &clinic, &next.id, StatusCode::OK).await
}

/// Attaching a provisional booking to a patient record.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachPatientInput {
    /// The patient record the appointment belongs to.
    pub patient_reference: String,
}

/// `POST /admin/clinics/{clinicId}/appointments/{appointmentId}/attach-patient`: replaces a
/// portal booking's provisional details with the patient record's (audited).
#[tracing::instrument(skip_all)]
pub async fn attach_patient(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let id = path_param(request, "appointmentId", |raw| AppointmentId::parse("appointmentId", raw))?;
    let actor = authorize(request, &clinic_id, Permission::DiaryWrite)?;
    let input: AttachPatientInput = json_body(request)?;
    let reference = crate::domain::patient::PatientReference::parse("patient_reference", &input.patient_reference)
        .map_err(|error| Problem::invalid(vec![error]))?;
    let clinic = clinic(state, &clinic_id).await?;
    let current = booking::load(state.store.as_ref(), &clinic_id, &id)
        .await?
        .ok_or_else(|| Problem::not_found("no such appointment in this clinic"))?;
    if !current.appointment.provisional {
        return Err(Problem::conflict("the appointment is already attached to a patient record"));
    }
    let record: crate::domain::patient::PatientRecord = state
        .store
        .get(&keys::patient(&clinic_id, reference.as_str()))
        .await?
        .ok_or_else(|| Problem::invalid(vec![FieldError::new("patient_reference", "names no patient of this clinic")]))?
        .record()?;
    let mut next = current.appointment.clone();
    next.patient = record.details;
    next.patient_reference = Some(record.reference);
    next.provisional = false;
    next.updated_at = state.clock.now();
    booking::rewrite(state, &clinic_id, &current, &next, &actor.subject, "appointment.patient_attached")
        .await
        .map_err(booking_problem)?;
    let names = CatalogNames::load_or_none(state.store.as_ref(), &clinic.id).await;
    json_versioned(StatusCode::OK, &view(&next, current.version + 1, &clinic, &names), current.version + 1)
}
