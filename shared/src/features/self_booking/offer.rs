//! What the public side offers, computed from the public snapshot and the claimed units: shared
//! by the JSON API and the HTML pages.

use std::collections::{BTreeSet, HashMap, HashSet};

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::domain::appointment::{Appointment, AppointmentId, Channel};
use crate::domain::availability::{Choice, Diary, OfferedSlot, SlotQuery, Window};
use crate::domain::booking_type::{BookingTypeId, PublishedBookingType};
use crate::domain::clinic::ClinicId;
use crate::domain::diary::DiaryTemplate;
use crate::domain::location::{LocationId, PublishedLocation};
use crate::domain::patient::PatientDetails;
use crate::domain::provider::{ProviderId, PublishedProvider};
use crate::domain::validation::{Checker, FieldError};
use crate::features::catalog::public::PublicSnapshot;
use crate::features::diary::booking::{self, BookingError};
use crate::store::StoreError;

/// The word patients send for "any provider" or "any location".
pub const ANY: &str = "any";

/// A patient's validated choice of booking type, provider and location.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The booking type.
    pub booking_type: PublishedBookingType,
    /// Provider or any.
    pub provider: Choice<ProviderId>,
    /// Location or any.
    pub location: Choice<LocationId>,
}

/// Validates a selection against what is published and what the clinic allows.
pub fn select(
    snapshot: &PublicSnapshot,
    booking_type: &str,
    provider: &str,
    location: &str,
) -> Result<Selection, Vec<FieldError>> {
    let settings = &snapshot.clinic.settings;
    let mut checker = Checker::default();
    let booking_type = BookingTypeId::parse("booking_type_id", booking_type)
        .ok()
        .and_then(|id| snapshot.booking_types.iter().find(|published| published.id == id).cloned());
    let booking_type = checker
        .check(booking_type.ok_or_else(|| FieldError::new("booking_type_id", "is not a booking type offered online")));
    let provider = if provider == ANY {
        checker.check(if settings.disable_any_provider {
            Err(FieldError::new("provider_id", "\"any\" is not offered by this clinic: choose a provider"))
        } else {
            Ok(Choice::Any)
        })
    } else {
        let found = ProviderId::parse("provider_id", provider)
            .ok()
            .filter(|id| snapshot.providers.iter().any(|published| published.id == *id));
        checker.check(
            found.map(Choice::Only).ok_or_else(|| FieldError::new("provider_id", "is not a provider offered online")),
        )
    };
    let location = if location == ANY {
        checker.check(if settings.disable_any_location {
            Err(FieldError::new("location_id", "\"any\" is not offered by this clinic: choose a location"))
        } else {
            Ok(Choice::Any)
        })
    } else {
        let found = LocationId::parse("location_id", location)
            .ok()
            .filter(|id| snapshot.locations.iter().any(|published| published.id == *id));
        checker.check(
            found.map(Choice::Only).ok_or_else(|| FieldError::new("location_id", "is not a location offered online")),
        )
    };
    checker.finish()?;
    let (Some(booking_type), Some(provider), Some(location)) = (booking_type, provider, location) else {
        unreachable!("checker.finish() fails when a check failed")
    };
    Ok(Selection { booking_type, provider, location })
}

/// The clinic's zone, published with its profile.
pub fn zone(snapshot: &PublicSnapshot) -> TimeZone {
    TimeZone::get(&snapshot.clinic.time_zone).unwrap_or(TimeZone::UTC)
}

/// The bookable window now.
pub fn window(snapshot: &PublicSnapshot, now: Timestamp) -> Window {
    let settings = &snapshot.clinic.settings;
    Window::at(now, settings.minimum_notice_minutes, settings.horizon_days)
}

fn query(selection: &Selection, from: Date, to: Date) -> SlotQuery {
    SlotQuery {
        booking_type: selection.booking_type.id.clone(),
        duration_minutes: selection.booking_type.duration_minutes,
        provider: selection.provider.clone(),
        location: selection.location.clone(),
        from,
        to,
    }
}

/// Providers the selection may book.
fn providers(snapshot: &PublicSnapshot, selection: &Selection) -> BTreeSet<ProviderId> {
    snapshot
        .providers
        .iter()
        .map(|provider| provider.id.clone())
        .filter(|id| match &selection.provider {
            Choice::Any => true,
            Choice::Only(only) => only == id,
        })
        .collect()
}

/// What is free for the whole public diary, read once per page: the claims of every published
/// provider over the bookable window. Every step's "next free time" is computed from it.
pub struct Availability<'a> {
    snapshot: &'a PublicSnapshot,
    zone: TimeZone,
    window: Window,
    busy: HashMap<ProviderId, HashSet<i64>>,
    providers: BTreeSet<ProviderId>,
    locations: BTreeSet<LocationId>,
}

impl<'a> Availability<'a> {
    /// Reads the claims of every published provider in the window (one query per provider).
    pub async fn load(state: &AppState, clinic: &ClinicId, snapshot: &'a PublicSnapshot) -> Result<Self, StoreError> {
        let zone = zone(snapshot);
        let window = window(snapshot, state.clock.now());
        let providers: BTreeSet<ProviderId> = snapshot.providers.iter().map(|provider| provider.id.clone()).collect();
        let locations: BTreeSet<LocationId> = snapshot.locations.iter().map(|location| location.id.clone()).collect();
        let busy = booking::busy_units(
            state.store.as_ref(),
            clinic,
            providers.iter(),
            window.earliest,
            window.latest + jiff::SignedDuration::from_hours(24),
        )
        .await?;
        Ok(Self { snapshot, zone, window, busy, providers, locations })
    }

    fn diary(&self) -> Diary<'_> {
        Diary {
            zone: &self.zone,
            templates: &self.snapshot.templates,
            blocks: &self.snapshot.blocks,
            busy: &self.busy,
            providers: &self.providers,
            locations: &self.locations,
        }
    }

    /// The clinic's zone.
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// The first and last local days patients may book.
    pub fn days(&self) -> (Date, Date) {
        self.window.days(&self.zone)
    }

    /// Free slots between two local days, earliest first, at most `limit`.
    pub fn slots(
        &self,
        booking_type: &PublishedBookingType,
        provider: &Choice<ProviderId>,
        location: &Choice<LocationId>,
        from: Date,
        to: Date,
        limit: usize,
    ) -> Vec<OfferedSlot> {
        let query = SlotQuery {
            booking_type: booking_type.id.clone(),
            duration_minutes: booking_type.duration_minutes,
            provider: provider.clone(),
            location: location.clone(),
            from,
            to,
        };
        self.diary().free_slots(&query, &self.window, limit)
    }

    /// The first free slot in the whole window, if any.
    pub fn first(
        &self,
        booking_type: &PublishedBookingType,
        provider: &Choice<ProviderId>,
        location: &Choice<LocationId>,
    ) -> Option<OfferedSlot> {
        let (first, last) = self.days();
        self.slots(booking_type, provider, location, first, last, 1).into_iter().next()
    }

    /// Templates offering the booking type with a published provider at a published location.
    fn offering<'t>(&'t self, booking_type: &'t PublishedBookingType) -> impl Iterator<Item = &'a DiaryTemplate> + 't {
        self.snapshot.templates.iter().filter(move |template| {
            template.booking_type_ids.contains(&booking_type.id)
                && self.providers.contains(&template.provider_id)
                && self.locations.contains(&template.location_id)
        })
    }

    /// Providers whose templates offer the booking type (at a location, or any), in the
    /// snapshot's order.
    pub fn providers_offering(
        &self,
        booking_type: &PublishedBookingType,
        location: &Choice<LocationId>,
    ) -> Vec<&'a PublishedProvider> {
        let offering: Vec<&DiaryTemplate> = self.offering(booking_type).collect();
        let offers = |provider: &&PublishedProvider| {
            offering.iter().any(|t| t.provider_id == provider.id && location.admits(&t.location_id))
        };
        self.snapshot.providers.iter().filter(offers).collect()
    }

    /// Locations whose templates offer the booking type with the provider (or any).
    pub fn locations_offering(
        &self,
        booking_type: &PublishedBookingType,
        provider: &Choice<ProviderId>,
    ) -> Vec<&'a PublishedLocation> {
        let offering: Vec<&DiaryTemplate> = self.offering(booking_type).collect();
        let offers = |location: &&PublishedLocation| {
            offering.iter().any(|t| t.location_id == location.id && provider.admits(&t.provider_id))
        };
        self.snapshot.locations.iter().filter(offers).collect()
    }
}

/// Free slots for a selection between two local days (bounded by the window), at most `limit`:
/// one query per provider for its claimed units.
pub async fn free_slots(
    state: &AppState,
    clinic: &ClinicId,
    snapshot: &PublicSnapshot,
    selection: &Selection,
    from: Date,
    to: Date,
    limit: usize,
) -> Result<Vec<OfferedSlot>, StoreError> {
    let zone = zone(snapshot);
    let window = window(snapshot, state.clock.now());
    let providers = providers(snapshot, selection);
    let locations: BTreeSet<LocationId> = snapshot.locations.iter().map(|location| location.id.clone()).collect();
    let busy = booking::busy_units(
        state.store.as_ref(),
        clinic,
        providers.iter(),
        window.earliest,
        window.latest + jiff::SignedDuration::from_hours(24),
    )
    .await?;
    let diary = Diary {
        zone: &zone,
        templates: &snapshot.templates,
        blocks: &snapshot.blocks,
        busy: &busy,
        providers: &providers,
        locations: &locations,
    };
    Ok(diary.free_slots(&query(selection, from, to), &window, limit))
}

/// What a booking request carries once validated.
pub struct BookingRequest {
    /// The selection.
    pub selection: Selection,
    /// The chosen start.
    pub starts_at: Timestamp,
    /// The patient.
    pub patient: PatientDetails,
    /// Idempotency key and request fingerprint.
    pub idempotency: Option<(String, String)>,
    /// The attached referral, checked against what was stored.
    pub referral: Option<crate::domain::referral::Referral>,
    /// The patient record the details identify (none: provisional, for staff to attach).
    pub patient_reference: Option<crate::domain::patient::PatientReference>,
    /// The patient's language (`en`, `fr`), for their messages.
    pub lang: Option<String>,
    /// The clinician and site the page showed for this time when the patient chose "any":
    /// only that pair is booked, so the patient gets exactly what they confirmed.
    pub allocation: Option<(ProviderId, LocationId)>,
}

/// How a booking attempt ended.
pub enum Booked {
    /// A new appointment.
    New(Box<Appointment>),
    /// The idempotency key had booked this appointment already.
    Replayed(AppointmentId),
    /// Every candidate was taken; here are fresh alternatives.
    Taken(Vec<OfferedSlot>),
    /// The idempotency key was used for a different request.
    KeyReused,
    /// The chosen time is not one the diary offers for this selection.
    NotOffered,
}

/// The fingerprint of a request body, for idempotency.
pub fn fingerprint(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Tries the candidates at the chosen time in turn (one transaction each) until one holds.
/// Reads nothing but the snapshot it is given: the claims' conditions decide.
pub async fn book(
    state: &AppState,
    clinic: &ClinicId,
    snapshot: &PublicSnapshot,
    request: BookingRequest,
) -> Result<Booked, BookingError> {
    const ATTEMPTS: usize = 5;
    let zone = zone(snapshot);
    let window = window(snapshot, state.clock.now());
    let providers = providers(snapshot, &request.selection);
    let locations: BTreeSet<LocationId> = snapshot.locations.iter().map(|location| location.id.clone()).collect();
    let no_claims: HashMap<ProviderId, HashSet<i64>> = HashMap::new();
    let diary = Diary {
        zone: &zone,
        templates: &snapshot.templates,
        blocks: &snapshot.blocks,
        busy: &no_claims,
        providers: &providers,
        locations: &locations,
    };
    let day = request.starts_at.to_zoned(zone.clone()).date();
    let mut candidates = diary.candidates_at(&query(&request.selection, day, day), &window, request.starts_at);
    if let Some((provider, location)) = &request.allocation {
        candidates.retain(|slot| slot.provider_id == *provider && slot.location_id == *location);
    }
    if candidates.is_empty() {
        return Ok(Booked::NotOffered);
    }
    let now = state.clock.now();
    for candidate in candidates.into_iter().take(ATTEMPTS) {
        let booking_type = &request.selection.booking_type;
        let mut appointment = Appointment {
            referral: request.referral.clone(),
            patient_reference: request.patient_reference.clone(),
            provisional: request.patient_reference.is_none(),
            ..Appointment::booked(
                booking_type.id.clone(),
                booking_type.duration_minutes,
                candidate,
                request.patient.clone(),
                Channel::Online,
                now,
            )
        };
        appointment.lifecycle.lang = request.lang.clone();
        let idempotency = request.idempotency.as_ref().map(|(key, print)| (key.as_str(), print.as_str()));
        match booking::book(state, clinic, &appointment, "patient", idempotency).await {
            Ok(()) => return Ok(Booked::New(Box::new(appointment))),
            Err(BookingError::Taken) => continue,
            Err(BookingError::Replayed(record)) => {
                return Ok(match &request.idempotency {
                    Some((_, print)) if *print == record.fingerprint => Booked::Replayed(record.appointment_id),
                    _ => Booked::KeyReused,
                });
            }
            Err(other) => return Err(other),
        }
    }
    let alternatives =
        free_slots(state, clinic, snapshot, &request.selection, day, day + jiff::Span::new().days(14), 5).await?;
    Ok(Booked::Taken(alternatives))
}

/// A slot as patients see it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SlotView {
    /// Start, UTC.
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    /// Start in the clinic's zone, `YYYY-MM-DDTHH:MM`.
    pub local_start: String,
    /// Provider id.
    pub provider_id: String,
    /// Location id.
    pub location_id: String,
}

/// Shows a slot in the clinic's zone.
pub fn slot_view(slot: &OfferedSlot, zone: &TimeZone) -> SlotView {
    SlotView {
        starts_at: slot.starts_at,
        local_start: slot.starts_at.to_zoned(zone.clone()).strftime("%Y-%m-%dT%H:%M").to_string(),
        provider_id: slot.provider_id.to_string(),
        location_id: slot.location_id.to_string(),
    }
}

/// The published provider and location of an appointment, for confirmations.
pub fn names<'a>(
    snapshot: &'a PublicSnapshot,
    appointment: &Appointment,
) -> (Option<&'a PublishedProvider>, Option<&'a PublishedLocation>) {
    (
        snapshot.providers.iter().find(|provider| provider.id == appointment.provider_id),
        snapshot.locations.iter().find(|location| location.id == appointment.location_id),
    )
}
