//! The patient portal's JSON API: services a visitor may book, their free slots, and booking.
//! Every answer has the same shape whether or not the visitor was identified.

use http::StatusCode;
use jiff::{Timestamp, ToSpan};
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::domain::appointment::{Appointment, Channel};
use crate::domain::booking_type::{BookingType, BookingTypeId};
use crate::domain::clinic::{Clinic, ClinicId};
use crate::domain::eligibility::{Applicant, admits};
use crate::domain::location::Location;
use crate::domain::online_service::{OnlineService, ServiceId};
use crate::domain::patient::{PatientDetails, PatientInput, PatientRecord, Sex};
use crate::domain::provider::{Provider, ProviderId};
use crate::domain::validation::FieldError;
use crate::features::catalog::public::PublicSnapshot;
use crate::features::catalog::publication::online_state;
use crate::features::diary::appointments;
use crate::features::diary::booking::{self, BookingError};
use crate::features::diary::private_offer::{PrivateDiary, Rules};
use crate::features::rate_limit::check_public;
use crate::features::self_booking::api::AvailabilityView;
use crate::features::self_booking::offer::{SlotView, slot_view};
use crate::http::Problem;
use crate::http::request::{json_body, path_param};
use crate::http::response::json;
use crate::store::keys;
use crate::store::records;

/// Who is asking: the details they would book with (no `Debug`: patient data).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Visitor {
    /// Name, birth date, mobile and email, as on the booking form.
    pub patient: PatientInput,
    /// Sex, for services with a sex rule.
    #[serde(default)]
    pub sex: Option<Sex>,
    /// Postcode, for services with a postcode rule.
    #[serde(default)]
    pub postcode: Option<String>,
}

/// A visitor once their details are checked and looked up among the clinic's patients (no
/// `Debug`: patient data).
pub(crate) struct Known {
    pub(crate) clinic: Clinic,
    pub(crate) details: PatientDetails,
    pub(crate) record: Option<PatientRecord>,
    pub(crate) sex: Option<Sex>,
    pub(crate) postcode: Option<String>,
}

impl Known {
    fn applicant(&self) -> Applicant<'_> {
        Applicant {
            record: self.record.as_ref(),
            date_of_birth: self.details.date_of_birth,
            sex: self.sex,
            postcode: self.postcode.as_deref(),
        }
    }

    /// The name the visitor gave.
    pub(crate) fn name(&self) -> String {
        format!("{} {}", self.details.first_name, self.details.last_name)
    }

    fn today(&self, now: Timestamp) -> jiff::civil::Date {
        now.to_zoned(self.clinic.time_zone.zone()).date()
    }
}

/// Validates the visitor and identifies them among the clinic's patient records.
pub(crate) async fn identify(state: &AppState, clinic_id: &ClinicId, visitor: &Visitor) -> Result<Known, Problem> {
    let clinic = appointments::clinic(state, clinic_id).await.map_err(|_| not_available())?;
    if !online_state(state.store.as_ref(), clinic_id).await?.settings.online_booking_enabled {
        return Err(not_available());
    }
    let today = state.clock.now().to_zoned(clinic.time_zone.zone()).date();
    let details =
        PatientDetails::parse(&visitor.patient, today, clinic.country, "visitor.patient.").map_err(Problem::invalid)?;
    let postcode = visitor.postcode.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned);
    if postcode.as_ref().is_some_and(|p| p.chars().count() > 10) {
        return Err(Problem::invalid(vec![FieldError::new("visitor.postcode", "must be at most 10 characters")]));
    }
    let record = crate::features::patients::identify_patient(state, clinic_id, &details).await?;
    Ok(Known { clinic, details, record, sex: visitor.sex, postcode })
}

fn not_available() -> Problem {
    Problem::not_found("online booking is not available for this clinic")
}

fn no_such_service() -> Problem {
    Problem::not_found("no such service is offered to you online")
}

/// A booking type of a service.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PortalBookingType {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Length.
    pub duration_minutes: u32,
}

/// A service the visitor may book.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PortalService {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Its booking types.
    pub booking_types: Vec<PortalBookingType>,
}

/// The services a visitor may book.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PortalServices {
    /// Services by name.
    pub services: Vec<PortalService>,
}

/// The services whose rules admit the visitor.
pub(crate) async fn admitted(
    state: &AppState,
    clinic: &ClinicId,
    known: &Known,
) -> Result<Vec<OnlineService>, Problem> {
    let today = known.today(state.clock.now());
    let all: Vec<OnlineService> =
        records(state.store.as_ref(), &keys::clinic_partition(clinic), keys::ONLINE_SERVICE_PREFIX).await?;
    Ok(all.into_iter().filter(|service| admits(&service.rules, &known.applicant(), today)).collect())
}

/// The services `visitor` may book.
pub(crate) async fn services_for(
    state: &AppState,
    clinic: &ClinicId,
    visitor: &Visitor,
) -> Result<PortalServices, Problem> {
    let known = identify(state, clinic, visitor).await?;
    let booking_types: Vec<BookingType> =
        records(state.store.as_ref(), &keys::clinic_partition(clinic), keys::BOOKING_TYPE_PREFIX).await?;
    let mut services: Vec<PortalService> = admitted(state, clinic, &known)
        .await?
        .into_iter()
        .map(|service| PortalService {
            id: service.id.to_string(),
            name: service.name,
            booking_types: booking_types
                .iter()
                .filter(|bt| service.booking_type_ids.contains(&bt.id))
                .map(|bt| PortalBookingType {
                    id: bt.id.to_string(),
                    name: bt.long_name.clone(),
                    duration_minutes: bt.duration_minutes,
                })
                .collect(),
        })
        .collect();
    services.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(PortalServices { services })
}

/// `POST /public/clinics/{clinicId}/portal/services`
#[tracing::instrument(skip_all)]
pub async fn services(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = path_param(request, "clinicId", ClinicId::parse)?;
    check_public(state, request).await?;
    let input: Visitor = json_body(request)?;
    json(StatusCode::OK, &services_for(state, &clinic, &input).await?)
}

/// What a visitor asks of one service.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalRequest {
    /// The visitor.
    pub visitor: Visitor,
    /// The service.
    pub service_id: String,
    /// One of its booking types.
    pub booking_type_id: String,
    /// For a booking: the chosen start, as offered.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<Timestamp>,
}

struct Chosen {
    known: Known,
    diary: PrivateDiary,
}

async fn chosen(state: &AppState, clinic: &ClinicId, input: &PortalRequest) -> Result<Chosen, Problem> {
    let known = identify(state, clinic, &input.visitor).await?;
    let service_id =
        ServiceId::parse("service_id", &input.service_id).map_err(|error| Problem::invalid(vec![error]))?;
    let booking_type = BookingTypeId::parse("booking_type_id", &input.booking_type_id)
        .map_err(|error| Problem::invalid(vec![error]))?;
    let service = admitted(state, clinic, &known)
        .await?
        .into_iter()
        .find(|service| service.id == service_id)
        .ok_or_else(no_such_service)?;
    if !service.booking_type_ids.contains(&booking_type) {
        return Err(Problem::invalid(vec![FieldError::new(
            "booking_type_id",
            "is not a booking type of this service",
        )]));
    }
    let providers: Vec<ProviderId> =
        records::<Provider>(state.store.as_ref(), &keys::clinic_partition(clinic), keys::PROVIDER_PREFIX)
            .await?
            .into_iter()
            .map(|provider| provider.id)
            .filter(|provider| service.offers_provider(provider))
            .collect();
    let diary = PrivateDiary::load(state, &known.clinic, &booking_type, Some(&providers), None, Rules::Online)
        .await?
        .ok_or_else(no_such_service)?;
    Ok(Chosen { known, diary })
}

/// The next 14 days of free slots of the chosen service.
pub(crate) async fn slots_for(
    state: &AppState,
    clinic: &ClinicId,
    input: &PortalRequest,
) -> Result<AvailabilityView, Problem> {
    let Chosen { known, diary } = chosen(state, clinic, input).await?;
    let (first, last) = diary.days();
    let to = first.checked_add(13.days()).unwrap_or(first).min(last);
    let slots = diary.free_slots(state, clinic, first, to, 500).await?;
    Ok(AvailabilityView {
        time_zone: known.clinic.time_zone.as_str().to_owned(),
        slots: slots.iter().map(|slot| slot_view(slot, &diary.zone)).collect::<Vec<SlotView>>(),
    })
}

/// `POST /public/clinics/{clinicId}/portal/availability`: the next 14 days of free slots.
#[tracing::instrument(skip_all)]
pub async fn availability(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = path_param(request, "clinicId", ClinicId::parse)?;
    check_public(state, request).await?;
    let input: PortalRequest = json_body(request)?;
    json(StatusCode::OK, &slots_for(state, &clinic, &input).await?)
}

/// A portal booking's confirmation (the same whether the visitor was identified or not).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PortalBooked {
    /// Appointment id.
    pub appointment_id: String,
    /// Start, UTC.
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    /// Provider id.
    pub provider_id: String,
    /// Location id.
    pub location_id: String,
}

/// `POST /public/clinics/{clinicId}/portal/bookings`: the visitor is identified and the rules
/// are checked again from the stored service, not from what the listing showed.
#[tracing::instrument(skip_all)]
pub async fn book(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = path_param(request, "clinicId", ClinicId::parse)?;
    check_public(state, request).await?;
    let input: PortalRequest = json_body(request)?;
    json(StatusCode::CREATED, &book_for(state, &clinic, &input).await?)
}

/// Books the chosen slot of the chosen service, checking the rules again.
pub(crate) async fn book_for(
    state: &AppState,
    clinic: &ClinicId,
    input: &PortalRequest,
) -> Result<PortalBooked, Problem> {
    let clinic = clinic.clone();
    let Some(starts_at) = input.starts_at else {
        return Err(Problem::invalid(vec![FieldError::new("starts_at", "is required to book")]));
    };
    let Chosen { known, diary } = chosen(state, &clinic, input).await?;
    let candidates = diary.candidates_at(starts_at);
    if candidates.is_empty() {
        return Err(Problem::invalid(vec![FieldError::new("starts_at", "is not a free slot of this service")]));
    }
    let now = state.clock.now();
    let (patient, reference) = match &known.record {
        Some(record) => (record.details.clone(), Some(record.reference.clone())),
        None => (known.details.clone(), None),
    };
    for candidate in candidates.into_iter().take(5) {
        let appointment = Appointment {
            patient_reference: reference.clone(),
            provisional: reference.is_none(),
            ..Appointment::booked(
                diary.booking_type.id.clone(),
                diary.booking_type.duration_minutes,
                candidate,
                patient.clone(),
                Channel::Online,
                now,
            )
        };
        match booking::book(state, &clinic, &appointment, "patient", None).await {
            Ok(()) => {
                tracing::info!(appointment_id = %appointment.id, provisional = appointment.provisional, "portal booking");
                return Ok(PortalBooked {
                    appointment_id: appointment.id.to_string(),
                    starts_at: appointment.starts_at,
                    provider_id: appointment.provider_id.to_string(),
                    location_id: appointment.location_id.to_string(),
                });
            }
            Err(BookingError::Taken) => continue,
            Err(BookingError::Store(error)) => return Err(error.into()),
            Err(BookingError::PatientBusy) => {
                return Err(Problem::conflict("you already have an appointment at that time; choose another"));
            }
            Err(_) => return Err(Problem::conflict("please try again")),
        }
    }
    Err(Problem::conflict("that time was just taken; choose another"))
}

/// The booking steps' view of one service: the clinic's public settings and diary, narrowed to
/// the service's booking types and providers (seed 001: linked activities are offered online
/// for the included providers minus the excluded, whether or not the public pages offer them;
/// never what staff archived).
pub(crate) fn service_snapshot(
    public: &PublicSnapshot,
    service: &OnlineService,
    booking_types: &[BookingType],
    providers: &[Provider],
    locations: &[Location],
) -> PublicSnapshot {
    let mut booking_types: Vec<_> = booking_types
        .iter()
        .filter(|booking_type| {
            booking_type.archived_at.is_none() && service.booking_type_ids.contains(&booking_type.id)
        })
        .map(BookingType::public_view)
        .collect();
    booking_types.sort_by(|a, b| a.name.cmp(&b.name));
    let mut providers: Vec<_> = providers
        .iter()
        .filter(|provider| provider.archived_at.is_none() && service.offers_provider(&provider.id))
        .map(Provider::public_view)
        .collect();
    providers.sort_by(|a, b| a.name.cmp(&b.name));
    let mut locations: Vec<_> =
        locations.iter().filter(|location| location.archived_at.is_none()).map(Location::public_view).collect();
    locations.sort_by(|a, b| a.name.cmp(&b.name));
    PublicSnapshot {
        clinic: public.clinic.clone(),
        booking_types,
        locations,
        providers,
        templates: public.templates.clone(),
        blocks: public.blocks.clone(),
    }
}

/// The clinic's booking types, providers and locations (private records: the portal offers
/// what services link, not only what the public pages publish).
pub(crate) async fn catalogue(
    state: &AppState,
    clinic: &ClinicId,
) -> Result<(Vec<BookingType>, Vec<Provider>, Vec<Location>), Problem> {
    let store = state.store.as_ref();
    let partition = keys::clinic_partition(clinic);
    Ok((
        records(store, &partition, keys::BOOKING_TYPE_PREFIX).await?,
        records(store, &partition, keys::PROVIDER_PREFIX).await?,
        records(store, &partition, keys::LOCATION_PREFIX).await?,
    ))
}
