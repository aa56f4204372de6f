//! The public JSON API: availability and bookings.

use http::StatusCode;
use jiff::Timestamp;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use super::offer::{self, ANY, Booked, BookingRequest, SlotView, slot_view};
use crate::app::AppState;
use crate::domain::appointment::Appointment;
use crate::domain::clinic::ClinicId;
use crate::domain::diary::date;
use crate::domain::patient::{PatientDetails, PatientInput};
use crate::domain::referral::{Referral, ReferralId, ReferralUpload, ReferralUploadInput, accept_stored};
use crate::domain::validation::{Checker, FieldError};
use crate::features::catalog::public::{PublicSnapshot, snapshot};
use crate::features::diary::booking::{self, BookingError};
use crate::features::rate_limit::check_public;
use crate::files::{UploadTarget, referral_key};
use crate::http::Problem;
use crate::http::request::{json_body, path_param, query_param};
use crate::http::response::json;
use crate::store::keys;

/// Most days one availability request may span.
const MAX_DAYS: i64 = 62;

/// Free slots.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AvailabilityView {
    /// The clinic's time zone.
    pub time_zone: String,
    /// Slots, earliest first.
    pub slots: Vec<SlotView>,
}

/// `GET /public/clinics/{clinicId}/availability?booking_type_id=&provider_id=any&location_id=any&from=&to=&asap=true`
#[tracing::instrument(skip_all)]
pub async fn availability(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = path_param(request, "clinicId", ClinicId::parse)?;
    check_public(state, request).await?;
    let snapshot = snapshot(state.store.as_ref(), &clinic).await?;
    let param = |name: &str| query_param(request, name).unwrap_or(ANY).to_owned();
    let selection = offer::select(
        &snapshot,
        query_param(request, "booking_type_id").unwrap_or(""),
        &param("provider_id"),
        &param("location_id"),
    )
    .map_err(Problem::invalid)?;
    let zone = offer::zone(&snapshot);
    let (first, last) = offer::window(&snapshot, state.clock.now()).days(&zone);
    let asap = query_param(request, "asap") == Some("true");
    if asap && !snapshot.clinic.settings.enable_asap {
        return Err(Problem::invalid(vec![FieldError::new("asap", "is not offered by this clinic")]));
    }
    let mut checker = Checker::default();
    let from = query_param(request, "from").map(|raw| checker.check(date("from", raw))).unwrap_or(Some(first));
    let to = query_param(request, "to").map(|raw| checker.check(date("to", raw))).unwrap_or(Some(last));
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            checker.check::<()>(Err(FieldError::new("to", "must not be before `from`")));
        } else if (to - from).get_days() as i64 > MAX_DAYS {
            checker.check::<()>(Err(FieldError::new("to", format!("the range may span at most {MAX_DAYS} days"))));
        }
    }
    checker.finish().map_err(Problem::invalid)?;
    let (Some(from), Some(to)) = (from, to) else { unreachable!("checker.finish() fails when a check failed") };
    let (from, to, limit) = if asap { (first, last, 1) } else { (from, to, 2000) };
    let slots = offer::free_slots(state, &clinic, &snapshot, &selection, from, to, limit).await?;
    json(
        StatusCode::OK,
        &AvailabilityView {
            time_zone: snapshot.clinic.time_zone.clone(),
            slots: slots.iter().map(|slot| slot_view(slot, &zone)).collect(),
        },
    )
}

/// A patient's booking request.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingInput {
    /// Booking type id.
    pub booking_type_id: String,
    /// Provider id, or `any`.
    pub provider_id: String,
    /// Location id, or `any`.
    pub location_id: String,
    /// The chosen start, as offered by the availability route.
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    /// The patient.
    pub patient: PatientInput,
    /// The patient ticked the up-front advisory (required when the clinic has one).
    #[serde(default)]
    pub advisory_accepted: bool,
    /// A referral uploaded through `referral-uploads` (when the clinic accepts referrals).
    #[serde(default)]
    pub referral_upload_id: Option<String>,
}

/// What a patient sees after booking.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BookingConfirmation {
    /// Appointment id.
    pub appointment_id: String,
    /// Start, UTC.
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    /// Start in the clinic's zone, `YYYY-MM-DDTHH:MM`.
    pub local_start: String,
    /// The clinic's time zone.
    pub time_zone: String,
    /// What.
    pub booking_type: String,
    /// With whom.
    pub provider: String,
    /// Where.
    pub location: String,
    /// The clinic's booking outcome message.
    pub outcome_message: String,
    /// Where "Done" goes.
    pub redirect_url: Option<String>,
}

/// A booking refused because the time was taken, with fresh alternatives.
#[derive(Debug, Serialize, Deserialize)]
struct TakenProblem {
    #[serde(flatten)]
    problem: serde_json::Value,
    alternatives: Vec<SlotView>,
}

/// Builds the confirmation of an appointment from the snapshot.
pub fn confirmation(snapshot: &PublicSnapshot, appointment: &Appointment) -> BookingConfirmation {
    let zone = offer::zone(snapshot);
    let (provider, location) = offer::names(snapshot, appointment);
    let booking_type = snapshot.booking_types.iter().find(|bt| bt.id == appointment.booking_type_id);
    BookingConfirmation {
        appointment_id: appointment.id.to_string(),
        starts_at: appointment.starts_at,
        local_start: appointment.starts_at.to_zoned(zone).strftime("%Y-%m-%dT%H:%M").to_string(),
        time_zone: snapshot.clinic.time_zone.clone(),
        booking_type: booking_type.map(|bt| bt.name.clone()).unwrap_or_default(),
        provider: provider.map(|provider| format!("{}, {}", provider.name, provider.title)).unwrap_or_default(),
        location: location.map(|location| format!("{}, {}", location.name, location.address)).unwrap_or_default(),
        outcome_message: snapshot.clinic.settings.outcome_message.clone(),
        redirect_url: snapshot.clinic.settings.redirect_url.clone(),
    }
}

/// The referral as stored, checked to be an accepted type and size.
async fn stored_referral(state: &AppState, clinic: &ClinicId, id: ReferralId) -> Result<Referral, Problem> {
    let stored = state.files.describe(&referral_key(clinic, &id)).await.map_err(|error| {
        tracing::error!(%error, "referral storage unavailable");
        Problem::unavailable()
    })?;
    let stored = stored.ok_or_else(|| {
        Problem::invalid(vec![FieldError::new("referral_upload_id", "no file was uploaded for this id")])
    })?;
    accept_stored(id, &stored.content_type, stored.size_bytes).map_err(|error| Problem::invalid(vec![error]))
}

/// How long a referral upload link works.
const UPLOAD_MINUTES: i64 = 15;

/// The answer to a referral upload request.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReferralUploadView {
    /// Send this as `referral_upload_id` when booking.
    pub upload_id: String,
    /// Where and how to upload the file.
    pub upload: UploadTarget,
}

/// `POST /public/clinics/{clinicId}/referral-uploads`: a signed URL to upload one referral.
#[tracing::instrument(skip_all)]
pub async fn create_referral_upload(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = path_param(request, "clinicId", ClinicId::parse)?;
    check_public(state, request).await?;
    let input: ReferralUploadInput = json_body(request)?;
    let snapshot = snapshot(state.store.as_ref(), &clinic).await?;
    if snapshot.clinic.settings.disable_referrals {
        return Err(Problem::not_found("this clinic does not accept referrals online"));
    }
    let upload = ReferralUpload::parse(&input).map_err(Problem::invalid)?;
    let id = ReferralId::random();
    let now = state.clock.now();
    let expires_at = now + jiff::SignedDuration::from_mins(UPLOAD_MINUTES);
    let target = state
        .files
        .upload_target(&referral_key(&clinic, &id), upload.content_type, upload.size_bytes, now, expires_at)
        .await
        .map_err(|error| {
            tracing::error!(%error, "referral storage unavailable");
            Problem::unavailable()
        })?;
    json(StatusCode::CREATED, &ReferralUploadView { upload_id: id.to_string(), upload: target })
}

/// Checks an `Idempotency-Key`: 1 to 100 characters of letters, digits, `-` and `_`.
pub fn idempotency_key(raw: &str) -> Result<String, FieldError> {
    let valid = !raw.is_empty()
        && raw.len() <= 100
        && raw.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_'));
    if valid {
        Ok(raw.to_owned())
    } else {
        Err(FieldError::new("Idempotency-Key", "must be 1 to 100 letters, digits, '-' or '_'"))
    }
}

/// Validates everything a booking needs, naming every bad field.
pub fn validate(
    snapshot: &PublicSnapshot,
    input: &BookingInput,
    now: Timestamp,
    idempotency: Option<(String, String)>,
) -> Result<BookingRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let selection = offer::select(snapshot, &input.booking_type_id, &input.provider_id, &input.location_id)
        .map_err(|found| errors.extend(found))
        .ok();
    let zone = offer::zone(snapshot);
    if !offer::window(snapshot, now).admits(input.starts_at) {
        errors.push(FieldError::new("starts_at", "is outside the times this clinic offers online"));
    }
    if snapshot.clinic.settings.advisory.is_some() && !input.advisory_accepted {
        errors.push(FieldError::new("advisory_accepted", "the advisory must be read and ticked"));
    }
    let referral = match input.referral_upload_id.as_deref() {
        Some(_) if snapshot.clinic.settings.disable_referrals => {
            errors.push(FieldError::new("referral_upload_id", "this clinic does not accept referrals online"));
            None
        }
        Some(raw) => ReferralId::parse("referral_upload_id", raw).map_err(|error| errors.push(error)).ok(),
        None => None,
    };
    let today = now.to_zoned(zone).date();
    let patient = PatientDetails::parse(&input.patient, today, snapshot.clinic.country, "patient.")
        .map_err(|found| errors.extend(found))
        .ok();
    match (selection, patient) {
        (Some(selection), Some(patient)) if errors.is_empty() => {
            // The referral is checked against storage by the caller; the id is carried for it.
            let referral = referral.map(|id| Referral { id, content_type: String::new(), size_bytes: 0 });
            Ok(BookingRequest {
                selection,
                starts_at: input.starts_at,
                patient,
                idempotency,
                referral,
                patient_reference: None,
                lang: None,
                allocation: None,
            })
        }
        _ => Err(errors),
    }
}

/// `POST /public/clinics/{clinicId}/bookings` (honours `Idempotency-Key`).
#[tracing::instrument(skip_all)]
pub async fn create(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = path_param(request, "clinicId", ClinicId::parse)?;
    check_public(state, request).await?;
    let idempotency = match request.headers().get("idempotency-key") {
        Some(value) => {
            let key = idempotency_key(value.to_str().unwrap_or(""))
                .map_err(|error| Problem::malformed(error.field, error.message))?;
            let body: &[u8] = match request.body() {
                Body::Text(text) => text.as_bytes(),
                Body::Binary(bytes) => bytes,
                _ => &[],
            };
            Some((key, offer::fingerprint(body)))
        }
        None => None,
    };
    let input: BookingInput = json_body(request)?;
    let snapshot = snapshot(state.store.as_ref(), &clinic).await?;
    let mut booking_request = match validate(&snapshot, &input, state.clock.now(), idempotency.clone()) {
        Ok(valid) => valid,
        Err(errors) => {
            // A retry of a booking that went through may no longer validate (the time is now
            // too close, say): the key still answers with the booking it made.
            if let Some((key, print)) = &idempotency
                && let Some(item) = state.store.get(&keys::idempotency(&clinic, key)).await?
                && let Ok(record) = item.record::<booking::IdempotencyRecord>()
                && record.fingerprint == *print
                && let Some(stored) = booking::load(state.store.as_ref(), &clinic, &record.appointment_id).await?
            {
                return json(StatusCode::OK, &confirmation(&snapshot, &stored.appointment));
            }
            return Err(Problem::invalid(errors));
        }
    };
    if let Some(claimed) = booking_request.referral.take() {
        booking_request.referral = Some(stored_referral(state, &clinic, claimed.id).await?);
    }
    booking_request.patient_reference =
        crate::features::patients::identify_patient(state, &clinic, &booking_request.patient)
            .await?
            .map(|record| record.reference);
    match offer::book(state, &clinic, &snapshot, booking_request).await {
        Ok(Booked::New(appointment)) => json(StatusCode::CREATED, &confirmation(&snapshot, &appointment)),
        Ok(Booked::Replayed(id)) => {
            let stored = booking::load(state.store.as_ref(), &clinic, &id).await?.ok_or_else(Problem::internal)?;
            json(StatusCode::OK, &confirmation(&snapshot, &stored.appointment))
        }
        Ok(Booked::KeyReused) => {
            Err(Problem::invalid(vec![FieldError::new("Idempotency-Key", "was already used for a different booking")]))
        }
        Ok(Booked::NotOffered) => Err(Problem::invalid(vec![FieldError::new(
            "starts_at",
            "is not a time this clinic offers for that choice",
        )])),
        Ok(Booked::Taken(alternatives)) => {
            let zone = offer::zone(&snapshot);
            let problem = Problem::conflict("that time was just taken; choose another");
            let body = TakenProblem {
                problem: serde_json::to_value(&problem).unwrap_or_default(),
                alternatives: alternatives.iter().map(|slot| slot_view(slot, &zone)).collect(),
            };
            let text = serde_json::to_string(&body).map_err(|_| Problem::internal())?;
            Response::builder()
                .status(StatusCode::CONFLICT)
                .header(http::header::CONTENT_TYPE, "application/problem+json")
                .body(Body::Text(text))
                .map_err(|_| Problem::internal())
        }
        Err(BookingError::Store(error)) => Err(error.into()),
        Err(BookingError::PatientBusy) => Err(Problem::conflict("you already have an appointment at that time")),
        Err(BookingError::Conflict | BookingError::Taken | BookingError::Replayed(_)) => {
            Err(Problem::conflict("please try again"))
        }
    }
}
