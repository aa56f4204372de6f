//! One module per route family; each handler parses its input once, calls the domain, and
//! writes through the ports.

pub mod activity;
pub mod appointment_lifecycle;
pub mod audit_trail;
pub mod booking_links;
pub mod catalog;
pub mod clinic_logo;
pub mod clinics;
pub mod diary;
pub mod meta;
pub mod online_services;
pub mod partners;
pub mod patient_connect;
pub mod patients;
pub mod rate_limit;
pub mod runner;
pub mod self_booking;
pub mod statistics;
pub mod waitlist;

use jiff::Timestamp;

use std::sync::Arc;

use crate::app::AppState;
use crate::domain::clinic::ClinicId;
use crate::domain::events::{DomainEvent, Fact};
use crate::events::Consumers;

/// Attaches [`event_consumers`] to the embedded app's in-process event bus.
pub fn attach_event_consumers(app: &crate::app::EmbeddedApp) {
    app.events.attach(Arc::new(event_consumers(&app.state)));
}

/// Every consumer of domain events: the daily activity counters, then Patient Connect's
/// bookings (cycles completed, Booking programs entered).
pub fn event_consumers(state: &Arc<AppState>) -> Consumers {
    Consumers(vec![
        Arc::new(activity::ActivityConsumer::new(Arc::clone(&state.store))),
        Arc::new(patient_connect::bookings::ConnectBookingConsumer::new(state)),
    ])
}

/// Publishes one domain event after the commit that made it true; a failure is logged, not
/// returned, because the change itself stands.
pub(crate) async fn announce(state: &AppState, clinic: &ClinicId, fact: Fact, at: Timestamp) {
    let event = DomainEvent::new(clinic, at, fact);
    if let Err(error) = state.events.publish(&[event]).await {
        tracing::error!(%error, "domain event not published after commit");
    }
}
