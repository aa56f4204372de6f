//! What a broadcast rule offers, and booking or rescheduling through a link. The rule limits the
//! booking type, providers and locations; the clinic's private diary (not its public one) is
//! read, so links work whether or not public online booking is switched on.
//!
//! Booking through a link is one transaction: the appointment, its claims, the link's update
//! (conditional on the version read) and the manage token. Of any number of confirms of one
//! link, exactly one commits.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::tokens::{OpenedLink, link_item};
use crate::app::AppState;
use crate::domain::appointment::{Appointment, Channel};
use crate::domain::booking_link::LinkRefusal;
use crate::features::diary::booking::{self, BookingError};
use crate::features::diary::private_offer::{PrivateDiary, Rules};
use crate::store::{Condition, Item, StoreError, Write, keys};

/// Loads what the rule may book: `None` when its booking type no longer exists.
pub async fn rule_diary(state: &AppState, opened: &OpenedLink) -> Result<Option<PrivateDiary>, StoreError> {
    let rule = &opened.rule;
    PrivateDiary::load(
        state,
        &opened.clinic,
        &rule.booking_type_id,
        Some(&rule.provider_ids),
        Some(&rule.location_ids),
        Rules::Staff,
    )
    .await
}

/// How a link booking ended.
pub enum LinkBooking {
    /// Booked; the confirmation (with its manage link) follows through the lifecycle.
    Booked {
        /// The appointment.
        appointment: Box<Appointment>,
    },
    /// The patient already has an appointment at that time.
    PatientBusy,
    /// The link cannot book (used meanwhile, expired or deleted).
    Refused(LinkRefusal),
    /// The link changed while this request ran (another confirm won): reload it.
    Changed,
    /// Every candidate at that time was taken.
    Taken,
    /// The time is not one the rule offers.
    NotOffered,
}

/// Books the slot at `at` through the link.
pub async fn book(
    state: &AppState,
    opened: &OpenedLink,
    diary: &PrivateDiary,
    at: Timestamp,
    lang: &str,
) -> Result<LinkBooking, BookingError> {
    const ATTEMPTS: usize = 5;
    let now = state.clock.now();
    if let Err(refusal) = opened.link.bookable(now) {
        return Ok(LinkBooking::Refused(refusal));
    }
    let candidates = diary.candidates_at(at);
    if candidates.is_empty() {
        return Ok(LinkBooking::NotOffered);
    }
    let clinic = &opened.clinic.id;
    for candidate in candidates.into_iter().take(ATTEMPTS) {
        let mut appointment = Appointment {
            patient_reference: Some(opened.link.patient_reference.clone()),
            ..Appointment::booked(
                diary.booking_type.id.clone(),
                diary.booking_type.duration_minutes,
                candidate,
                opened.link.patient.clone(),
                Channel::BookingLink,
                now,
            )
        };
        appointment.lifecycle.booking_link_id = Some(opened.link.id.as_str().to_owned());
        appointment.lifecycle.lang = Some(lang.to_owned());
        let mut link = opened.link.clone();
        if let Err(refusal) = link.mark_booked(appointment.id.clone(), now) {
            return Ok(LinkBooking::Refused(refusal));
        }
        let guards =
            vec![Write::put(link_item(clinic, &link, opened.version + 1)?, Condition::VersionIs(opened.version))];
        match booking::book_guarded(state, clinic, &appointment, "patient", None, guards).await {
            Ok(()) => {
                tracing::info!(link_id = %link.id, appointment_id = %appointment.id, "booked through a link");
                return Ok(LinkBooking::Booked { appointment: Box::new(appointment) });
            }
            Err(BookingError::Taken) => continue,
            Err(BookingError::Conflict) => return Ok(LinkBooking::Changed),
            Err(BookingError::PatientBusy) => return Ok(LinkBooking::PatientBusy),
            Err(other) => return Err(other),
        }
    }
    Ok(LinkBooking::Taken)
}

/// A message in a provider's staff inbox.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InboxMessage {
    /// Identifier.
    pub id: String,
    /// The provider it is for.
    pub provider_id: String,
    /// When it was written.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// The appointment it is about.
    pub appointment_id: String,
    /// The text (no patient details: staff open the appointment for those).
    pub text: String,
}

/// The message that tells a provider a patient moved an appointment to them (in the move's
/// own transaction).
pub fn inbox_write(
    clinic: &crate::domain::clinic::ClinicId,
    next: &Appointment,
    booking_type_short_name: &str,
    zone: &jiff::tz::TimeZone,
    now: Timestamp,
) -> Result<Write, StoreError> {
    let local = next.starts_at.to_zoned(zone.clone()).strftime("%Y-%m-%d %H:%M").to_string();
    let message = InboxMessage {
        id: uuid::Uuid::new_v4().to_string(),
        provider_id: next.provider_id.to_string(),
        at: now,
        appointment_id: next.id.to_string(),
        text: format!(
            "A patient rescheduled a {booking_type_short_name} appointment to you on {local} (moved from another clinician)."
        ),
    };
    let key = keys::inbox_message(clinic, next.provider_id.as_str(), now, &message.id);
    Ok(Write::put(Item::from_record(key, &message)?, Condition::NotExists))
}
