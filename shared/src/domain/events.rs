//! Domain events: facts other parts of the system react to, carried by EventBridge on AWS and
//! delivered in-process locally. They carry ids only, never patient data.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::booking_type::BookingTypeId;
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

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Fact {
    /// A booking type was created.
    BookingTypeCreated {
        /// Its id.
        booking_type_id: BookingTypeId,
        /// Whether it is offered online from the start.
        enabled_online: bool,
    },
    /// A booking type was changed.
    BookingTypeChanged {
        /// Its id.
        booking_type_id: BookingTypeId,
        /// Online before the change.
        was_online: bool,
        /// Online after the change.
        is_online: bool,
    },
}

impl DomainEvent {
    /// The EventBridge `detail-type` of this event.
    pub fn detail_type(&self) -> &'static str {
        match self.fact {
            Fact::BookingTypeCreated { .. } => "BookingTypeCreated",
            Fact::BookingTypeChanged { .. } => "BookingTypeChanged",
        }
    }
}
