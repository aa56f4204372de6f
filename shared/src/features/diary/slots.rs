//! The diary's slots for a day, marked as staff see them: published online, not yet published
//! (with when it will be), or not offered online; and, when taken, by which appointment and how
//! it was booked.

use http::StatusCode;
use jiff::Timestamp;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use super::appointments::clinic;
use super::booking;
use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::appointment::{AppointmentStatus, Channel};
use crate::domain::availability::Window;
use crate::domain::booking_type::{BookingType, BookingTypeId};
use crate::domain::diary::{DiaryTemplate, date};
use crate::domain::location::{Location, LocationId};
use crate::domain::provider::{Provider, ProviderId};
use crate::features::catalog::publication::online_state;
use crate::http::Problem;
use crate::http::auth::authorize;
use crate::http::request::clinic_id;
use crate::http::request::query_param;
use crate::http::response::json;
use crate::store::keys;
use crate::store::records;

/// A slot's online state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnlineMark {
    /// Patients can see it online now.
    Published,
    /// It will be published at `opens_at`.
    NotYetPublished,
    /// Online booking is switched off for the clinic.
    NotOffered,
}

/// The appointment in a slot.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SlotAppointment {
    /// Appointment id.
    pub id: String,
    /// How it was booked.
    pub channel: Channel,
    /// Whether the patient booked it online (portal, public pages or a booking link).
    pub booked_online: bool,
}

/// One slot of a template on the day.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DiarySlot {
    /// Start, UTC.
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    /// Start in the clinic's zone, `YYYY-MM-DDTHH:MM`.
    pub local_start: String,
    /// Provider.
    pub provider_id: String,
    /// Location.
    pub location_id: String,
    /// The template it comes from.
    pub template_id: String,
    /// Online state.
    pub online: OnlineMark,
    /// When a not-yet-published slot opens.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub opens_at: Option<Timestamp>,
    /// The appointment starting in it, if any.
    pub appointment: Option<SlotAppointment>,
}

/// A day's slots.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DiarySlots {
    /// The local day.
    pub date: String,
    /// Slots, earliest first.
    pub items: Vec<DiarySlot>,
}

/// `GET /admin/clinics/{clinicId}/diary-slots?date=YYYY-MM-DD[&provider_id=]`
#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    authorize(request, &clinic_id, Permission::DiaryRead)?;
    let clinic = clinic(state, &clinic_id).await?;
    let zone = clinic.time_zone.zone();
    let now = state.clock.now();
    let day = match query_param(request, "date") {
        Some(raw) => date("date", raw).map_err(|error| Problem::malformed(error.field, error.message))?,
        None => now.to_zoned(zone.clone()).date(),
    };
    let provider = query_param(request, "provider_id")
        .map(|raw| {
            ProviderId::parse("provider_id", raw).map_err(|error| Problem::malformed(error.field, error.message))
        })
        .transpose()?;
    let settings = online_state(state.store.as_ref(), &clinic_id).await?.settings;
    let partition = keys::clinic_partition(&clinic_id);
    let templates: Vec<DiaryTemplate> = records(state.store.as_ref(), &partition, keys::TEMPLATE_PREFIX).await?;
    // A slot is offered online only when the clinic is online and the template's provider, its
    // location and one of its booking types are, and the time lies in the online window.
    let online_providers: Vec<ProviderId> =
        records::<Provider>(state.store.as_ref(), &partition, keys::PROVIDER_PREFIX)
            .await?
            .into_iter()
            .filter(|provider| provider.enabled_online)
            .map(|provider| provider.id)
            .collect();
    let online_locations: Vec<LocationId> =
        records::<Location>(state.store.as_ref(), &partition, keys::LOCATION_PREFIX)
            .await?
            .into_iter()
            .filter(|location| location.enabled_online)
            .map(|location| location.id)
            .collect();
    let online_types: Vec<BookingTypeId> =
        records::<BookingType>(state.store.as_ref(), &partition, keys::BOOKING_TYPE_PREFIX)
            .await?
            .into_iter()
            .filter(|booking_type| booking_type.enabled_online)
            .map(|booking_type| booking_type.id)
            .collect();
    let window = Window::at(now, settings.minimum_notice_minutes, settings.horizon_days);
    let offered_online = |template: &DiaryTemplate| {
        settings.online_booking_enabled
            && online_providers.contains(&template.provider_id)
            && online_locations.contains(&template.location_id)
            && template.booking_type_ids.iter().any(|id| online_types.contains(id))
    };
    let (from, to) = {
        let start = day.to_zoned(zone.clone()).map_err(|_| Problem::malformed("date", "is out of range"))?;
        let end = day
            .tomorrow()
            .and_then(|next| next.to_zoned(zone.clone()))
            .map_err(|_| Problem::malformed("date", "is out of range"))?;
        (start.timestamp(), end.timestamp())
    };
    let mut items = Vec::new();
    for template in templates.iter().filter(|t| provider.as_ref().is_none_or(|p| *p == t.provider_id)) {
        let appointments = booking::diary(state.store.as_ref(), &clinic_id, &template.provider_id, from, to).await?;
        for start in template.slot_starts(day, template.slot_minutes, &zone) {
            let opens_at = template.publication.opens_at(start, &zone);
            let mark = if !offered_online(template) || start < window.earliest || start > window.latest {
                OnlineMark::NotOffered
            } else if template.publication.is_published(start, &zone, now) {
                OnlineMark::Published
            } else {
                OnlineMark::NotYetPublished
            };
            let appointment = appointments
                .iter()
                .find(|stored| {
                    stored.appointment.starts_at == start && stored.appointment.status == AppointmentStatus::Booked
                })
                .map(|stored| SlotAppointment {
                    id: stored.appointment.id.to_string(),
                    channel: stored.appointment.channel,
                    booked_online: matches!(stored.appointment.channel, Channel::Online | Channel::BookingLink),
                });
            items.push(DiarySlot {
                starts_at: start,
                local_start: start.to_zoned(zone.clone()).strftime("%Y-%m-%dT%H:%M").to_string(),
                provider_id: template.provider_id.to_string(),
                location_id: template.location_id.to_string(),
                template_id: template.id.to_string(),
                online: mark,
                opens_at: opens_at.filter(|_| mark == OnlineMark::NotYetPublished),
                appointment,
            });
        }
    }
    items.sort_by(|a, b| (a.starts_at, &a.provider_id).cmp(&(b.starts_at, &b.provider_id)));
    json(StatusCode::OK, &DiarySlots { date: day.to_string(), items })
}
