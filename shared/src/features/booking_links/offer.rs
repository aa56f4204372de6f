//! What a broadcast rule offers, and booking or rescheduling through a link. The rule limits the
//! booking type, providers and locations; the clinic's private diary (not its public one) is
//! read, so links work whether or not public online booking is switched on.
//!
//! Booking through a link is one transaction: the appointment, its claims, the link's update
//! (conditional on the version read) and the manage token. Of any number of confirms of one
//! link, exactly one commits.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::tokens::{self, OpenedLink, TokenRecord, link_item};
use crate::app::AppState;
use crate::domain::appointment::{Appointment, Channel};
use crate::domain::booking_link::{LinkRefusal, LinkToken, TokenPurpose};
use crate::features::diary::booking::{self, BookingError, StoredAppointment};
use crate::features::diary::private_offer::PrivateDiary;
use crate::store::{Condition, Item, StoreError, Write, keys};

/// Loads what the rule may book: `None` when its booking type no longer exists.
pub async fn rule_diary(state: &AppState, opened: &OpenedLink) -> Result<Option<PrivateDiary>, StoreError> {
    let rule = &opened.rule;
    PrivateDiary::load(state, &opened.clinic, &rule.booking_type_id, Some(&rule.provider_ids), Some(&rule.location_ids))
        .await
}

/// How a link booking ended.
pub enum LinkBooking {
    /// Booked; the manage token goes in the confirmation SMS.
    Booked {
        /// The appointment.
        appointment: Box<Appointment>,
        /// The manage link's secret.
        manage_token: LinkToken,
    },
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
        let appointment = Appointment::booked(
            diary.booking_type.id.clone(),
            diary.booking_type.duration_minutes,
            candidate,
            opened.link.patient.clone(),
            Channel::BookingLink,
            now,
        );
        let manage_token = tokens::draw().map_err(|error| {
            tracing::error!(%error, "no manage token");
            BookingError::Store(StoreError::Unavailable(error.to_string()))
        })?;
        let mut link = opened.link.clone();
        if let Err(refusal) = link.mark_booked(appointment.id.clone(), manage_token.hash(), now) {
            return Ok(LinkBooking::Refused(refusal));
        }
        let record = TokenRecord { clinic_id: clinic.clone(), link_id: link.id.clone(), purpose: TokenPurpose::Manage };
        let guards = vec![
            Write::put(link_item(clinic, &link, opened.version + 1)?, Condition::VersionIs(opened.version)),
            tokens::record_write(&manage_token.hash(), &record)?,
        ];
        match booking::book_guarded(state, clinic, &appointment, "patient", None, guards).await {
            Ok(()) => {
                tracing::info!(link_id = %link.id, appointment_id = %appointment.id, "booked through a link");
                return Ok(LinkBooking::Booked { appointment: Box::new(appointment), manage_token });
            }
            Err(BookingError::Taken) => continue,
            Err(BookingError::Conflict) => return Ok(LinkBooking::Changed),
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

/// How a reschedule ended.
pub enum Rescheduling {
    /// Moved.
    Moved(Box<Appointment>),
    /// The link or the appointment changed meanwhile: reload.
    Changed,
    /// Every candidate was taken.
    Taken,
    /// Not a time the rule offers.
    NotOffered,
}

/// Moves the link's appointment to `at` in one transaction: the old units are released, the new
/// ones claimed, the link marked rescheduled, and a new provider told through their inbox.
pub async fn reschedule(
    state: &AppState,
    opened: &OpenedLink,
    diary: &PrivateDiary,
    current: &StoredAppointment,
    at: Timestamp,
) -> Result<Rescheduling, BookingError> {
    const ATTEMPTS: usize = 5;
    let now = state.clock.now();
    let clinic = &opened.clinic.id;
    let candidates = diary.candidates_at(at);
    if candidates.is_empty() {
        return Ok(Rescheduling::NotOffered);
    }
    for candidate in candidates.into_iter().take(ATTEMPTS) {
        let mut next = current.appointment.clone();
        next.starts_at = candidate.starts_at;
        next.provider_id = candidate.provider_id;
        next.location_id = candidate.location_id;
        next.updated_at = now;
        if next == current.appointment {
            return Ok(Rescheduling::NotOffered);
        }
        let mut link = opened.link.clone();
        if link.mark_rescheduled(now).is_err() {
            return Ok(Rescheduling::Changed);
        }
        let mut guards =
            vec![Write::put(link_item(clinic, &link, opened.version + 1)?, Condition::VersionIs(opened.version))];
        if next.provider_id != current.appointment.provider_id {
            let local = next.starts_at.to_zoned(diary.zone.clone()).strftime("%Y-%m-%d %H:%M").to_string();
            let message = InboxMessage {
                id: uuid::Uuid::new_v4().to_string(),
                provider_id: next.provider_id.to_string(),
                at: now,
                appointment_id: next.id.to_string(),
                text: format!(
                    "A patient rescheduled a {} appointment to you on {local} (moved from another clinician).",
                    diary.booking_type.short_name
                ),
            };
            let key = keys::inbox_message(clinic, next.provider_id.as_str(), now, &message.id);
            guards.push(Write::put(Item::from_record(key, &message)?, Condition::NotExists));
        }
        match booking::rewrite_guarded(state, clinic, current, &next, "patient", "appointment.rescheduled", guards)
            .await
        {
            Ok(()) => {
                tracing::info!(link_id = %link.id, appointment_id = %next.id, "rescheduled through a link");
                return Ok(Rescheduling::Moved(Box::new(next)));
            }
            Err(BookingError::Taken) => continue,
            Err(BookingError::Conflict) => return Ok(Rescheduling::Changed),
            Err(other) => return Err(other),
        }
    }
    Ok(Rescheduling::Taken)
}
