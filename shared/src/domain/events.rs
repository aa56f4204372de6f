//! Domain events: facts other parts of the system react to, carried by EventBridge on AWS and
//! delivered in-process locally. They carry ids only, never patient data.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::appointment::{AppointmentId, Channel};
use super::clinic::ClinicId;

/// The `source` every event of this product carries on the bus.
pub const EVENT_SOURCE: &str = "clinic-booking";

/// One domain event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainEvent {
    /// Unique id, used to drop duplicate deliveries.
    pub id: String,
    /// The clinic it happened in.
    pub clinic_id: ClinicId,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// What happened.
    pub fact: Fact,
}

/// The kinds of catalogue entry a clinic publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A booking type.
    BookingType,
    /// A location.
    Location,
    /// A provider.
    Provider,
}

impl EntryKind {
    /// The kind's name, as in audit entities and counters.
    pub fn name(self) -> &'static str {
        match self {
            Self::BookingType => "booking_type",
            Self::Location => "location",
            Self::Provider => "provider",
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Fact {
    /// A catalogue entry was created.
    CatalogEntryCreated {
        /// Its kind.
        kind: EntryKind,
        /// Its id.
        entry_id: String,
        /// Whether it is offered online from the start.
        enabled_online: bool,
    },
    /// A catalogue entry was changed.
    CatalogEntryChanged {
        /// Its kind.
        kind: EntryKind,
        /// Its id.
        entry_id: String,
        /// Online before the change.
        was_online: bool,
        /// Online after the change.
        is_online: bool,
    },
    /// Online booking was switched on or off for the whole clinic.
    OnlineBookingSwitched {
        /// On or off.
        enabled: bool,
    },
    /// An appointment was booked.
    AppointmentBooked {
        /// Its id.
        appointment_id: AppointmentId,
        /// How.
        channel: Channel,
    },
    /// An appointment was moved to another time, provider or location.
    AppointmentMoved {
        /// Its id.
        appointment_id: AppointmentId,
    },
    /// An appointment was cancelled.
    AppointmentCancelled {
        /// Its id.
        appointment_id: AppointmentId,
        /// How it had been booked.
        channel: Channel,
    },
    /// A booked appointment was attached to a patient record (a provisional booking, by staff):
    /// for that patient it counts as a booking from now on.
    AppointmentAttached {
        /// Its id.
        appointment_id: AppointmentId,
    },
}

impl DomainEvent {
    /// A new event with a fresh id.
    pub fn new(clinic_id: &ClinicId, occurred_at: Timestamp, fact: Fact) -> Self {
        Self { id: uuid::Uuid::new_v4().to_string(), clinic_id: clinic_id.clone(), occurred_at, fact }
    }

    /// The EventBridge `detail-type` of this event.
    pub fn detail_type(&self) -> &'static str {
        match self.fact {
            Fact::CatalogEntryCreated { .. } => "CatalogEntryCreated",
            Fact::CatalogEntryChanged { .. } => "CatalogEntryChanged",
            Fact::OnlineBookingSwitched { .. } => "OnlineBookingSwitched",
            Fact::AppointmentBooked { .. } => "AppointmentBooked",
            Fact::AppointmentMoved { .. } => "AppointmentMoved",
            Fact::AppointmentCancelled { .. } => "AppointmentCancelled",
            Fact::AppointmentAttached { .. } => "AppointmentAttached",
        }
    }
}
