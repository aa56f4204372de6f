//! Booking on a partner's behalf: the offer (qualifications, providers and the services
//! activated for the partner), free slots, a hold that keeps the slot for a few minutes (its
//! claims lapse with it, and a held slot is offered to no one else), and the confirmation for a
//! patient record, which turns the hold's claims into the appointment's in one transaction.

use crate::features::catalog::names::CatalogNames;
use std::collections::BTreeSet;

use http::StatusCode;
use jiff::Timestamp;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use super::partner_for;
use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::appointment::{Appointment, Channel};
use crate::domain::availability::OfferedSlot;
use crate::domain::booking_type::{BookingType, BookingTypeId};
use crate::domain::diary::{DiaryTemplate, date};
use crate::domain::location::LocationId;
use crate::domain::partner::{HoldId, Partner, PartnerHold};
use crate::domain::patient::{PatientRecord, PatientReference};
use crate::domain::provider::{Provider, ProviderId};
use crate::domain::validation::{Checker, FieldError};
use crate::features::audit_trail::{self, Change};
use crate::features::diary::appointments::{self, AppointmentView};
use crate::features::diary::booking::{self, BookingError, hold_claims};
use crate::features::diary::private_offer::{PrivateDiary, Rules};
use crate::features::self_booking::offer::{SlotView, slot_view};
use crate::http::Problem;
use crate::http::auth::{authorize, forbidden};
use crate::http::request::clinic_id;
use crate::http::request::{json_body, path_param, query_param};
use crate::http::response::json;
use crate::store::records;
use crate::store::{Condition, Item, StoreError, Write, keys};

/// Most days one slots request may span.
const MAX_DAYS: i32 = 31;

/// A service (booking type) as the partner flow shows it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServiceView {
    /// Booking type id.
    pub booking_type_id: String,
    /// Its name.
    pub name: String,
    /// Its length.
    pub duration_minutes: u32,
}

/// A provider as the partner flow shows it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartnerProviderView {
    /// Provider id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Professional title.
    pub professional_title: String,
    /// Qualifications.
    pub qualifications: Vec<String>,
    /// The activated services their diary offers.
    pub booking_type_ids: Vec<String>,
}

/// What may be booked for a partner.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartnerOffer {
    /// The partner's code.
    pub partner_id: String,
    /// Its name.
    pub partner_name: String,
    /// The services activated for it.
    pub services: Vec<ServiceView>,
    /// The qualifications of the providers offering them.
    pub qualifications: Vec<String>,
    /// The providers offering them (with `qualification`, only those who hold it).
    pub providers: Vec<PartnerProviderView>,
}

fn has_qualification(provider: &Provider, wanted: Option<&str>) -> bool {
    wanted.is_none_or(|wanted| provider.qualifications.iter().any(|held| held.eq_ignore_ascii_case(wanted.trim())))
}

/// `GET /admin/clinics/{clinicId}/partner-booking?partner_id=[&qualification=]`
#[tracing::instrument(skip_all)]
pub async fn offer(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let actor = authorize(request, &clinic, Permission::PartnerBook)?;
    let partner =
        partner_for(state, &clinic, &actor, query_param(request, "partner_id").unwrap_or(""), "partner_id").await?;
    let qualification = query_param(request, "qualification").filter(|value| !value.trim().is_empty());
    let store = state.store.as_ref();
    let partition = keys::clinic_partition(&clinic);
    let services: Vec<BookingType> = records::<BookingType>(store, &partition, keys::BOOKING_TYPE_PREFIX)
        .await?
        .into_iter()
        .filter(|booking_type| partner.activates(&booking_type.id))
        .collect();
    let templates: Vec<DiaryTemplate> = records(store, &partition, keys::TEMPLATE_PREFIX).await?;
    let offered_by = |provider: &ProviderId| -> Vec<String> {
        services
            .iter()
            .filter(|service| {
                templates.iter().any(|t| t.provider_id == *provider && t.booking_type_ids.contains(&service.id))
            })
            .map(|service| service.id.to_string())
            .collect()
    };
    let offering: Vec<(Provider, Vec<String>)> = records::<Provider>(store, &partition, keys::PROVIDER_PREFIX)
        .await?
        .into_iter()
        .map(|provider| {
            let offered = offered_by(&provider.id);
            (provider, offered)
        })
        .filter(|(_, offered)| !offered.is_empty())
        .collect();
    let qualifications: BTreeSet<String> =
        offering.iter().flat_map(|(provider, _)| provider.qualifications.iter().cloned()).collect();
    let mut providers: Vec<PartnerProviderView> = offering
        .into_iter()
        .filter(|(provider, _)| has_qualification(provider, qualification))
        .map(|(provider, offered)| PartnerProviderView {
            id: provider.id.to_string(),
            name: provider.name,
            professional_title: provider.professional_title,
            qualifications: provider.qualifications,
            booking_type_ids: offered,
        })
        .collect();
    providers.sort_by(|a, b| a.name.cmp(&b.name));
    let mut services: Vec<ServiceView> = services
        .into_iter()
        .map(|service| ServiceView {
            booking_type_id: service.id.to_string(),
            name: service.long_name,
            duration_minutes: service.duration_minutes,
        })
        .collect();
    services.sort_by(|a, b| a.name.cmp(&b.name));
    json(
        StatusCode::OK,
        &PartnerOffer {
            partner_id: partner.id.to_string(),
            partner_name: partner.name,
            services,
            qualifications: qualifications.into_iter().collect(),
            providers,
        },
    )
}

fn activated(partner: &Partner, raw: &str, field: &str) -> Result<BookingTypeId, Problem> {
    let id = BookingTypeId::parse(field, raw).map_err(|error| Problem::invalid(vec![error]))?;
    if partner.activates(&id) {
        Ok(id)
    } else {
        Err(Problem::invalid(vec![FieldError::new(field, "is not activated for this partner")]))
    }
}

/// Free slots for a partner.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartnerSlots {
    /// The clinic's time zone.
    pub time_zone: String,
    /// Free slots, earliest first, with provider and location.
    pub slots: Vec<SlotView>,
}

/// `GET /admin/clinics/{clinicId}/partner-booking/slots?partner_id=&booking_type_id=[&provider_id=][&qualification=][&from=&to=]`
#[tracing::instrument(skip_all)]
pub async fn slots(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let actor = authorize(request, &clinic_id, Permission::PartnerBook)?;
    let partner =
        partner_for(state, &clinic_id, &actor, query_param(request, "partner_id").unwrap_or(""), "partner_id").await?;
    let booking_type = activated(&partner, query_param(request, "booking_type_id").unwrap_or(""), "booking_type_id")?;
    let mut checker = Checker::default();
    let provider = query_param(request, "provider_id")
        .filter(|raw| !raw.is_empty() && *raw != "any")
        .and_then(|raw| checker.check(ProviderId::parse("provider_id", raw)));
    let from = query_param(request, "from").and_then(|raw| checker.check(date("from", raw)));
    let to = query_param(request, "to").and_then(|raw| checker.check(date("to", raw)));
    checker.finish().map_err(Problem::invalid)?;
    let clinic = appointments::clinic(state, &clinic_id).await?;
    let qualification = query_param(request, "qualification").filter(|value| !value.trim().is_empty());
    let providers: Option<Vec<ProviderId>> = match (&provider, qualification) {
        (Some(provider), _) => Some(vec![provider.clone()]),
        (None, Some(_)) => Some(
            records::<Provider>(state.store.as_ref(), &keys::clinic_partition(&clinic_id), keys::PROVIDER_PREFIX)
                .await?
                .into_iter()
                .filter(|provider| has_qualification(provider, qualification))
                .map(|provider| provider.id)
                .collect(),
        ),
        (None, None) => None,
    };
    let diary =
        PrivateDiary::load(state, &clinic, &booking_type, providers.as_deref(), None, Rules::Staff).await?.ok_or_else(
            || Problem::invalid(vec![FieldError::new("booking_type_id", "names no booking type of this clinic")]),
        )?;
    let (first, last) = diary.days();
    let from = from.unwrap_or(first).max(first);
    let to = to.unwrap_or_else(|| from.checked_add(jiff::Span::new().days(13)).unwrap_or(from)).min(last);
    if to >= from && (to - from).get_days() > MAX_DAYS {
        return Err(Problem::invalid(vec![FieldError::new(
            "to",
            format!("the range may span at most {MAX_DAYS} days"),
        )]));
    }
    let slots = if to < from { Vec::new() } else { diary.free_slots(state, &clinic_id, from, to, 2000).await? };
    json(
        StatusCode::OK,
        &PartnerSlots {
            time_zone: clinic.time_zone.as_str().to_owned(),
            slots: slots.iter().map(|slot| slot_view(slot, &diary.zone)).collect(),
        },
    )
}

/// Starting a reservation.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldInput {
    /// The partner's code.
    pub partner_id: String,
    /// A service activated for the partner.
    pub booking_type_id: String,
    /// The provider of the chosen slot.
    pub provider_id: String,
    /// The location of the chosen slot.
    pub location_id: String,
    /// The chosen slot's start.
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
}

fn hold_item(clinic: &crate::domain::clinic::ClinicId, hold: &PartnerHold) -> Result<Item, StoreError> {
    Ok(Item::from_record(keys::hold(clinic, hold.id.as_str()), hold)?.with_expiry(hold.held_until.as_second()))
}

/// `POST /admin/clinics/{clinicId}/partner-holds`: holds a free slot for a few minutes.
#[tracing::instrument(skip_all)]
pub async fn hold(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let actor = authorize(request, &clinic_id, Permission::PartnerBook)?;
    let input: HoldInput = json_body(request)?;
    let partner = partner_for(state, &clinic_id, &actor, &input.partner_id, "partner_id").await?;
    let booking_type = activated(&partner, &input.booking_type_id, "booking_type_id")?;
    let mut checker = Checker::default();
    let provider = checker.check(ProviderId::parse("provider_id", &input.provider_id));
    let location = checker.check(LocationId::parse("location_id", &input.location_id));
    checker.finish().map_err(Problem::invalid)?;
    let (Some(provider), Some(location)) = (provider, location) else {
        unreachable!("checker.finish() fails when a check failed")
    };
    let clinic = appointments::clinic(state, &clinic_id).await?;
    let diary = PrivateDiary::load(
        state,
        &clinic,
        &booking_type,
        Some(std::slice::from_ref(&provider)),
        Some(std::slice::from_ref(&location)),
        Rules::Staff,
    )
    .await?
    .ok_or_else(|| {
        Problem::invalid(vec![FieldError::new("booking_type_id", "names no booking type of this clinic")])
    })?;
    if diary.candidates_at(input.starts_at).is_empty() {
        return Err(Problem::invalid(vec![FieldError::new(
            "starts_at",
            "is not a slot of this provider's diary for this service at this location",
        )]));
    }
    let now = state.clock.now();
    let hold = PartnerHold {
        id: HoldId::random(),
        partner_id: partner.id.clone(),
        booking_type_id: booking_type,
        provider_id: provider,
        location_id: location,
        starts_at: input.starts_at,
        duration_minutes: diary.booking_type.duration_minutes,
        held_by: actor.subject.clone(),
        held_until: PartnerHold::lapse_at(now),
    };
    let mut writes = vec![Write::put(hold_item(&clinic_id, &hold)?, Condition::NotExists)];
    writes.extend(hold_claims(&clinic_id, &hold.provider_id, hold.units(), hold.id.as_str(), hold.held_until)?);
    match state.store.transact(writes).await {
        Err(StoreError::ConditionFailed { .. }) => {
            return Err(Problem::conflict("the slot was just taken or held; choose another"));
        }
        other => other?,
    }
    tracing::info!(hold_id = %hold.id, partner_id = %hold.partner_id, "slot held for a partner");
    json(StatusCode::CREATED, &hold)
}

/// The clinic, the hold's id and the staff member a hold request is from.
fn hold_request(
    request: &Request,
) -> Result<(crate::domain::clinic::ClinicId, HoldId, crate::domain::access::Actor), Problem> {
    let clinic = clinic_id(request)?;
    let id = path_param(request, "holdId", |raw| HoldId::parse("holdId", raw))?;
    let actor = authorize(request, &clinic, Permission::PartnerBook)?;
    Ok((clinic, id, actor))
}

/// The hold, while it lasts, if the staff member may act for its partner.
async fn held(
    state: &AppState,
    clinic: &crate::domain::clinic::ClinicId,
    id: &HoldId,
    actor: &crate::domain::access::Actor,
) -> Result<PartnerHold, Problem> {
    let hold: PartnerHold = state
        .store
        .get(&keys::hold(clinic, id.as_str()))
        .await?
        .ok_or_else(|| Problem::gone("the hold has lapsed or was released; start the reservation again"))?
        .record()?;
    actor.may_act_for(hold.partner_id.as_str()).map_err(forbidden)?;
    Ok(hold)
}

/// Confirming a held slot for a patient record.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmHoldInput {
    /// The patient record (found by search, or just added).
    pub patient_reference: String,
    /// Staff notes, up to 1,000 characters.
    #[serde(default)]
    pub notes: Option<String>,
    /// Whether the patient is told (confirmation, changes, reminders); default true.
    #[serde(default)]
    pub notify: Option<bool>,
}

/// `POST /admin/clinics/{clinicId}/partner-holds/{holdId}/confirm`: books the held slot.
#[tracing::instrument(skip_all)]
pub async fn confirm(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let (clinic_id, hold_id, actor) = hold_request(request)?;
    let input: ConfirmHoldInput = json_body(request)?;
    let hold = held(state, &clinic_id, &hold_id, &actor).await?;
    // A hold made before the partner was archived books nothing for it now.
    super::partner_for(state, &clinic_id, &actor, hold.partner_id.as_str(), "partner_id").await?;
    let reference = PatientReference::parse("patient_reference", &input.patient_reference)
        .map_err(|error| Problem::invalid(vec![error]))?;
    let notes = match input.notes.as_deref().filter(|text| !text.trim().is_empty()) {
        Some(text) => Some(
            crate::domain::validation::required_text("notes", text, 1000)
                .map_err(|error| Problem::invalid(vec![error]))?,
        ),
        None => None,
    };
    let record: PatientRecord = state
        .store
        .get(&keys::patient(&clinic_id, reference.as_str()))
        .await?
        .ok_or_else(|| Problem::invalid(vec![FieldError::new("patient_reference", "names no patient of this clinic")]))?
        .record()?;
    let clinic = appointments::clinic(state, &clinic_id).await?;
    let now = state.clock.now();
    let slot = OfferedSlot {
        starts_at: hold.starts_at,
        provider_id: hold.provider_id.clone(),
        location_id: hold.location_id.clone(),
    };
    let appointment = Appointment {
        notes,
        patient_reference: Some(record.reference.clone()),
        partner_id: Some(hold.partner_id.clone()),
        ..Appointment::booked(
            hold.booking_type_id.clone(),
            hold.duration_minutes,
            slot,
            record.details.clone(),
            Channel::Partner,
            now,
        )
    };
    let mut appointment = appointment;
    appointment.lifecycle.notify = input.notify.unwrap_or(true);
    match booking::book_held(state, &clinic_id, &appointment, &actor.subject, keys::hold(&clinic_id, hold.id.as_str()))
        .await
    {
        Ok(()) => {}
        Err(BookingError::Conflict | BookingError::Taken) => {
            return Err(Problem::gone("the hold lapsed before the booking was confirmed; start the reservation again"));
        }
        Err(BookingError::Store(error)) => return Err(error.into()),
        Err(BookingError::Replayed(_)) => return Err(Problem::conflict("already booked")),
        Err(BookingError::PatientBusy) => {
            return Err(Problem::conflict("the patient already has an appointment at that time"));
        }
    }
    tracing::info!(appointment_id = %appointment.id, partner_id = %hold.partner_id, "partner booking confirmed");
    let names = CatalogNames::load_or_none(state.store.as_ref(), &clinic_id).await;
    let view: AppointmentView = appointments::view(&appointment, 1, &clinic, &names);
    json(StatusCode::CREATED, &view)
}

/// `DELETE /admin/clinics/{clinicId}/partner-holds/{holdId}`: gives the slot back at once.
#[tracing::instrument(skip_all)]
pub async fn release(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let (clinic_id, hold_id, actor) = hold_request(request)?;
    let hold = held(state, &clinic_id, &hold_id, &actor).await?;
    let mut writes =
        vec![Write::Delete { key: keys::hold(&clinic_id, hold.id.as_str()), condition: Condition::Exists }];
    writes.extend(hold.units().map(|unit| Write::Delete {
        key: keys::claim(&clinic_id, hold.provider_id.as_str(), unit),
        condition: Condition::Exists,
    }));
    writes.push(audit_trail::record(
        &clinic_id,
        Change {
            actor: &actor.subject,
            action: "partner_hold.released",
            entity: format!("partner_hold/{}", hold.id),
            before_version: None,
            after_version: None,
        },
        state.clock.now(),
    )?);
    match state.store.transact(writes).await {
        Err(StoreError::ConditionFailed { .. }) => return Err(Problem::gone("the hold has already lapsed")),
        other => other?,
    }
    Response::builder().status(StatusCode::NO_CONTENT).body(Body::Empty).map_err(|_| Problem::internal())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualifications_match_without_regard_to_case() {
        let input = crate::domain::provider::ProviderInput {
            name: Some("Dr A".into()),
            professional_title: Some("Consultant".into()),
            qualifications: Some(vec!["Cardiology".into()]),
            ..Default::default()
        };
        let provider = Provider::create(ProviderId::random(), &input, Timestamp::UNIX_EPOCH).unwrap();
        assert!(has_qualification(&provider, None));
        assert!(has_qualification(&provider, Some(" cardiology")));
        assert!(!has_qualification(&provider, Some("Dermatology")));
    }
}
