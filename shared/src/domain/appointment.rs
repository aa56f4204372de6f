//! Appointments: what lands in the diary, with how it was booked.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::booking_type::BookingTypeId;
use super::diary::units_covered;
use super::ids::uuid_id;
use super::location::LocationId;
use super::patient::PatientDetails;
use super::provider::ProviderId;

uuid_id!(
    /// An appointment's identifier.
    AppointmentId,
    "appointment"
);

/// How an appointment was booked (kept for the diary and for statistics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The patient booked on the public pages or API.
    Online,
    /// Staff booked it.
    Staff,
    /// The patient booked through a booking link staff sent.
    BookingLink,
    /// Booked on behalf of an external partner (the appointment names which).
    Partner,
}

/// Where an appointment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    /// In the diary.
    Booked,
    /// Cancelled; its time is free again.
    Cancelled,
    /// The patient did not come; its time is free again.
    NoShow,
}

/// An appointment as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Appointment {
    /// Identifier.
    pub id: AppointmentId,
    /// What.
    pub booking_type_id: BookingTypeId,
    /// With whom.
    pub provider_id: ProviderId,
    /// Where.
    pub location_id: LocationId,
    /// When.
    pub starts_at: Timestamp,
    /// How long.
    pub duration_minutes: u32,
    /// Who.
    pub patient: PatientDetails,
    /// How it was booked.
    pub channel: Channel,
    /// Booked or cancelled.
    pub status: AppointmentStatus,
    /// Staff notes.
    pub notes: Option<String>,
    /// The patient record it belongs to, when known.
    #[serde(default)]
    pub patient_reference: Option<super::patient::PatientReference>,
    /// Booked with provisional details (the portal could not identify the patient): staff
    /// attach it to the right record.
    #[serde(default)]
    pub provisional: bool,
    /// The partner it was booked for (partner bookings only).
    #[serde(default)]
    pub partner_id: Option<super::partner::PartnerId>,
    /// A referral the patient attached.
    #[serde(default)]
    pub referral: Option<super::referral::Referral>,
    /// Messages, reminders and cancellation: what the lifecycle keeps.
    #[serde(default)]
    pub lifecycle: Lifecycle,
    /// When it was booked.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// What the appointment's lifecycle keeps besides the diary entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lifecycle {
    /// Grows with every move or cancellation (the calendar invite's SEQUENCE).
    #[serde(default)]
    pub sequence: u32,
    /// Whether the patient is told of this appointment (staff may untick it).
    #[serde(default = "notify_by_default")]
    pub notify: bool,
    /// The one reminder waiting to be sent, if any.
    #[serde(default)]
    pub next_reminder: Option<NextReminder>,
    /// Who cancelled it (`patient`, or the staff member), when it is cancelled.
    #[serde(default)]
    pub cancelled_by: Option<String>,
    /// When it was cancelled.
    #[serde(default)]
    pub cancelled_at: Option<Timestamp>,
    /// The booking link that booked it.
    #[serde(default)]
    pub booking_link_id: Option<String>,
    /// The language the patient booked in (`en` or `fr`), for their messages.
    #[serde(default)]
    pub lang: Option<String>,
}

fn notify_by_default() -> bool {
    true
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            sequence: 0,
            notify: true,
            next_reminder: None,
            cancelled_by: None,
            cancelled_at: None,
            booking_link_id: None,
            lang: None,
        }
    }
}

/// The reminder an appointment waits to send: one live schedule at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextReminder {
    /// The queued message.
    pub message_id: String,
    /// Which of the clinic's reminder rules.
    pub index: u16,
    /// When it is due.
    pub due_at: Timestamp,
}

impl Appointment {
    /// A new booked appointment of `booking_type_id` in `slot`, for `patient`, booked through
    /// `channel` at `now`; no notes, referral, partner or patient record yet.
    pub fn booked(
        booking_type_id: BookingTypeId,
        duration_minutes: u32,
        slot: super::availability::OfferedSlot,
        patient: PatientDetails,
        channel: Channel,
        now: Timestamp,
    ) -> Self {
        Self {
            id: AppointmentId::random(),
            booking_type_id,
            provider_id: slot.provider_id,
            location_id: slot.location_id,
            starts_at: slot.starts_at,
            duration_minutes,
            patient,
            channel,
            status: AppointmentStatus::Booked,
            notes: None,
            patient_reference: None,
            provisional: false,
            partner_id: None,
            referral: None,
            lifecycle: Lifecycle::default(),
            created_at: now,
            updated_at: now,
        }
    }

    /// When it ends.
    pub fn ends_at(&self) -> Timestamp {
        self.starts_at + jiff::SignedDuration::from_mins(i64::from(self.duration_minutes))
    }

    /// The diary units it holds.
    pub fn units(&self) -> std::ops::Range<i64> {
        units_covered(self.starts_at, self.duration_minutes)
    }
}
