//! Staff's waitlist: see every entry with its offers, add a patient, change what suits, remove.

use crate::features::catalog::names::{CatalogNames, Named};
use http::StatusCode;
use jiff::Timestamp;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use super::{StoredOffer, close, entries, entry_write, load_entry, offers, scan_job};
use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::patient::{PatientDetails, PatientInput};
use crate::domain::waitlist::{
    EntrySource, EntryStatus, OfferDelivery, OfferStatus, WaitlistEntry, WaitlistEntryId, WaitlistPreferences,
};
use crate::features::diary::appointments;
use crate::http::Problem;
use crate::http::auth::authorize;
use crate::http::request::clinic_id;
use crate::http::request::{check_if_match, json_body, path_param};
use crate::http::response::{json, json_versioned};
use crate::store::keys;

/// An offer as staff see it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OfferView {
    /// Identifier.
    pub id: String,
    /// The time offered.
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    /// Clinician.
    pub provider_id: String,
    /// The clinician, with their name.
    pub provider: Named,
    /// Site.
    pub location_id: String,
    /// The site, with its name.
    pub location: Named,
    /// Until when it may be taken.
    #[schema(value_type = String, format = DateTime)]
    pub open_until: Timestamp,
    /// Where it stands.
    pub status: OfferStatus,
    /// How its message went.
    pub delivery: OfferDelivery,
}

/// An entry as staff see it (no `Debug`: patient data).
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct EntryView {
    /// Identifier.
    pub id: String,
    /// What suits.
    pub preferences: WaitlistPreferences,
    /// The booking type wanted, with its name.
    pub booking_type: Named,
    /// The clinician wanted, with their name (`null`: any).
    pub provider: Option<Named>,
    /// The site wanted, with its name (`null`: any).
    pub location: Option<Named>,
    /// Patient's name.
    pub patient_name: String,
    /// Patient's birth date.
    pub patient_date_of_birth: String,
    /// Patient's mobile, if given.
    pub patient_mobile: Option<String>,
    /// Patient's email, if given.
    pub patient_email: Option<String>,
    /// Who added it.
    pub source: EntrySource,
    /// When it joined (offers follow this order).
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: Timestamp,
    /// Where it stands.
    pub status: EntryStatus,
    /// The appointment a taken offer moves (the patient asked for an earlier time), if any.
    pub moves_appointment_id: Option<String>,
    /// Offers made to it, newest first.
    pub offers: Vec<OfferView>,
    /// Version, bumped by each change (`If-Match` on the next change of its preferences).
    pub version: u64,
}

/// The waitlist.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct WaitlistView {
    /// Entries in joining order.
    pub items: Vec<EntryView>,
}

fn view(entry: &WaitlistEntry, version: u64, all: &[StoredOffer], names: &CatalogNames) -> EntryView {
    let mut offers: Vec<OfferView> = all
        .iter()
        .filter(|stored| stored.offer.entry_id == entry.id)
        .map(|stored| OfferView {
            id: stored.offer.id.to_string(),
            starts_at: stored.offer.starts_at,
            provider_id: stored.offer.provider_id.to_string(),
            provider: names.provider(stored.offer.provider_id.as_str()),
            location_id: stored.offer.location_id.to_string(),
            location: names.location(stored.offer.location_id.as_str()),
            open_until: stored.offer.open_until,
            status: stored.offer.status.clone(),
            delivery: stored.offer.delivery.clone(),
        })
        .collect();
    offers.sort_by_key(|offer| std::cmp::Reverse(offer.open_until));
    EntryView {
        id: entry.id.to_string(),
        preferences: entry.preferences.clone(),
        booking_type: names.booking_type(entry.preferences.booking_type_id.as_str()),
        provider: entry.preferences.provider_id.as_ref().map(|id| names.provider(id.as_str())),
        location: entry.preferences.location_id.as_ref().map(|id| names.location(id.as_str())),
        patient_name: format!("{} {}", entry.patient.first_name, entry.patient.last_name),
        patient_date_of_birth: entry.patient.date_of_birth.to_string(),
        patient_mobile: entry.patient.mobile.as_ref().map(|mobile| mobile.as_str().to_owned()),
        patient_email: entry.patient.email.as_ref().map(|email| email.as_str().to_owned()),
        source: entry.source,
        joined_at: entry.joined_at,
        status: entry.status.clone(),
        moves_appointment_id: entry.moves.clone(),
        offers,
        version,
    }
}

/// `GET /admin/clinics/{clinicId}/waitlist`
#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    authorize(request, &clinic, Permission::DiaryRead)?;
    let all_offers = offers(state, &clinic).await?;
    let names = CatalogNames::load(state.store.as_ref(), &clinic).await?;
    let items = entries(state, &clinic)
        .await?
        .iter()
        .map(|stored| view(&stored.entry, stored.version, &all_offers, &names))
        .collect();
    json(StatusCode::OK, &WaitlistView { items })
}

/// A patient staff add to the waitlist (no `Debug`: patient data).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEntryInput {
    /// What suits.
    pub preferences: WaitlistPreferences,
    /// The patient, as on the booking form.
    pub patient: PatientInput,
    /// `en` or `fr`, for the offer messages.
    #[serde(default)]
    pub lang: Option<String>,
}

async fn check_catalogue(
    state: &AppState,
    clinic: &crate::domain::clinic::ClinicId,
    preferences: &WaitlistPreferences,
) -> Result<(), Problem> {
    use crate::domain::validation::FieldError;
    let mut errors = Vec::new();
    let current = async |prefix: &'static str, id: String| -> Result<bool, Problem> {
        Ok(state.store.get(&keys::entry(clinic, prefix, &id)).await?.is_some_and(|item| item.is_current()))
    };
    if !current(keys::BOOKING_TYPE_PREFIX, preferences.booking_type_id.to_string()).await? {
        errors.push(FieldError::new("preferences.booking_type_id", "is not a current booking type of this clinic"));
    }
    if let Some(provider) = &preferences.provider_id
        && !current(keys::PROVIDER_PREFIX, provider.to_string()).await?
    {
        errors.push(FieldError::new("preferences.provider_id", "is not a current provider of this clinic"));
    }
    if let Some(location) = &preferences.location_id
        && !current(keys::LOCATION_PREFIX, location.to_string()).await?
    {
        errors.push(FieldError::new("preferences.location_id", "is not a current location of this clinic"));
    }
    if errors.is_empty() { Ok(()) } else { Err(Problem::invalid(errors)) }
}

/// `POST /admin/clinics/{clinicId}/waitlist`
#[tracing::instrument(skip_all)]
pub async fn create(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    authorize(request, &clinic_id, Permission::DiaryWrite)?;
    let input: NewEntryInput = json_body(request)?;
    let clinic = appointments::clinic(state, &clinic_id).await?;
    let today = state.clock.now().to_zoned(clinic.time_zone.zone()).date();
    let mut errors = Vec::new();
    if let Err(found) = input.preferences.check(today) {
        errors.extend(found.into_iter().map(|mut error| {
            error.field = format!("preferences.{}", error.field);
            error
        }));
    }
    let patient = PatientDetails::parse(&input.patient, today, clinic.country, "patient.")
        .map_err(|found| errors.extend(found))
        .ok();
    let lang = match input.lang.as_deref() {
        None | Some("en") => Some("en".to_owned()),
        Some("fr") => Some("fr".to_owned()),
        Some(_) => {
            errors.push(crate::domain::validation::FieldError::new("lang", "must be en or fr"));
            None
        }
    };
    let (Some(patient), true) = (patient, errors.is_empty()) else { return Err(Problem::invalid(errors)) };
    check_catalogue(state, &clinic_id, &input.preferences).await?;
    let entry =
        super::pages::add(state, &clinic_id, input.preferences, patient, lang, EntrySource::Staff, None).await?;
    let names = CatalogNames::load_or_none(state.store.as_ref(), &clinic_id).await;
    json(StatusCode::CREATED, &view(&entry, 1, &[], &names))
}

fn entry_id(request: &Request) -> Result<WaitlistEntryId, Problem> {
    path_param(request, "entryId", |value| WaitlistEntryId::parse("entryId", value))
}

/// `PUT /admin/clinics/{clinicId}/waitlist/{entryId}/preferences`: what suits, replaced.
#[tracing::instrument(skip_all)]
pub async fn change(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    authorize(request, &clinic_id, Permission::DiaryWrite)?;
    let id = entry_id(request)?;
    let preferences: WaitlistPreferences = json_body(request)?;
    let clinic = appointments::clinic(state, &clinic_id).await?;
    let today = state.clock.now().to_zoned(clinic.time_zone.zone()).date();
    preferences.check(today).map_err(Problem::invalid)?;
    check_catalogue(state, &clinic_id, &preferences).await?;
    let stored =
        load_entry(state, &clinic_id, &id).await?.ok_or_else(|| Problem::not_found("no such waitlist entry"))?;
    check_if_match(request, stored.version)?;
    if stored.entry.status != EntryStatus::Waiting {
        return Err(Problem::conflict("this entry is no longer waiting"));
    }
    let entry = WaitlistEntry { preferences, updated_at: state.clock.now(), ..stored.entry.clone() };
    match state.store.write(entry_write(&clinic_id, &entry, Some(stored.version))?).await {
        Err(crate::store::StoreError::ConditionFailed { .. }) => {
            return Err(Problem::conflict("the entry changed while this request ran; try again"));
        }
        other => other?,
    }
    let now = state.clock.now();
    if let Err(error) = state.scheduler.schedule_once(now, &scan_job(&clinic_id, now)).await {
        tracing::error!(%error, "waitlist scan not scheduled; the sweeper will scan");
    }
    let names = CatalogNames::load_or_none(state.store.as_ref(), &clinic_id).await;
    let version = stored.version + 1;
    json_versioned(StatusCode::OK, &view(&entry, version, &offers(state, &clinic_id).await?, &names), version)
}

/// `DELETE /admin/clinics/{clinicId}/waitlist/{entryId}`: off the list (an open offer is
/// withdrawn with it).
#[tracing::instrument(skip_all)]
pub async fn remove(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    authorize(request, &clinic_id, Permission::DiaryWrite)?;
    let id = entry_id(request)?;
    let stored =
        load_entry(state, &clinic_id, &id).await?.ok_or_else(|| Problem::not_found("no such waitlist entry"))?;
    if let Some(offer_id) = &stored.entry.open_offer
        && let Some(offer) = super::load_offer(state, &clinic_id, offer_id).await?
        && offer.offer.status == OfferStatus::Open
    {
        close(state, &clinic_id, &offer, OfferStatus::Declined).await?;
    }
    let stored =
        load_entry(state, &clinic_id, &id).await?.ok_or_else(|| Problem::not_found("no such waitlist entry"))?;
    let entry = WaitlistEntry {
        status: EntryStatus::Removed,
        open_offer: None,
        updated_at: state.clock.now(),
        ..stored.entry.clone()
    };
    match state.store.write(entry_write(&clinic_id, &entry, Some(stored.version))?).await {
        Err(crate::store::StoreError::ConditionFailed { .. }) => {
            return Err(Problem::conflict("the entry changed while this request ran; try again"));
        }
        other => other?,
    }
    Response::builder().status(StatusCode::NO_CONTENT).body(Body::Empty).map_err(|_| Problem::internal())
}
