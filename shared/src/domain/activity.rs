//! Daily activity counters per clinic, maintained from domain events as they happen rather than
//! by scanning history at request time.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::events::{DomainEvent, Fact};
use super::statistics::channel_name;

/// The counters one event adds to, with the amount.
pub fn counters_for(event: &DomainEvent) -> Vec<(String, i64)> {
    match &event.fact {
        Fact::CatalogEntryCreated { kind, enabled_online, .. } => {
            let mut counters = vec![(format!("{}s_created", kind.name()), 1)];
            if *enabled_online {
                counters.push((format!("{}s_put_online", kind.name()), 1));
            }
            counters
        }
        Fact::CatalogEntryChanged { kind, was_online, is_online, .. } => {
            let mut counters = vec![(format!("{}s_changed", kind.name()), 1)];
            match (was_online, is_online) {
                (false, true) => counters.push((format!("{}s_put_online", kind.name()), 1)),
                (true, false) => counters.push((format!("{}s_taken_offline", kind.name()), 1)),
                _ => {}
            }
            counters
        }
        Fact::OnlineBookingSwitched { enabled } => {
            vec![(if *enabled { "online_booking_switched_on" } else { "online_booking_switched_off" }.to_owned(), 1)]
        }
        Fact::AppointmentBooked { channel, .. } => {
            vec![("appointments_booked".to_owned(), 1), (format!("appointments_booked_{}", channel_name(*channel)), 1)]
        }
        Fact::AppointmentMoved { .. } => vec![("appointments_moved".to_owned(), 1)],
        Fact::AppointmentCancelled { channel, .. } => vec![
            ("appointments_cancelled".to_owned(), 1),
            (format!("appointments_cancelled_{}", channel_name(*channel)), 1),
        ],
        Fact::AppointmentAttached { .. } => vec![("appointments_attached".to_owned(), 1)],
    }
}

/// The UTC day an event counts towards.
pub fn day_of(event: &DomainEvent) -> Date {
    event.occurred_at.to_zoned(TimeZone::UTC).date()
}

/// One day's counters as the admin API shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DailyActivity {
    /// The UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// Counter name to count, e.g. `booking_types_created`, `appointments_booked_online`.
    pub counters: BTreeMap<String, i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::appointment::AppointmentId;
    use crate::domain::appointment::Channel;
    use crate::domain::clinic::ClinicId;
    use crate::domain::events::EntryKind;

    fn event(fact: Fact, at: &str) -> DomainEvent {
        DomainEvent::new(&ClinicId::parse("demo").unwrap(), at.parse().unwrap(), fact)
    }

    fn changed(was_online: bool, is_online: bool) -> DomainEvent {
        let fact = Fact::CatalogEntryChanged { kind: EntryKind::Location, entry_id: "x".into(), was_online, is_online };
        event(fact, "2026-11-22T10:00:00Z")
    }

    #[test]
    fn enabling_and_disabling_count_separately_from_plain_edits() {
        let names = |event: &DomainEvent| counters_for(event).into_iter().map(|(name, _)| name).collect::<Vec<_>>();
        assert_eq!(names(&changed(false, true)), ["locations_changed", "locations_put_online"]);
        assert_eq!(names(&changed(true, true)), ["locations_changed"]);
        assert_eq!(names(&changed(true, false)), ["locations_changed", "locations_taken_offline"]);
    }

    #[test]
    fn bookings_count_per_channel() {
        let booked = event(
            Fact::AppointmentBooked { appointment_id: AppointmentId::random(), channel: Channel::Online },
            "2026-11-22T10:00:00Z",
        );
        assert_eq!(
            counters_for(&booked),
            [("appointments_booked".to_owned(), 1), ("appointments_booked_online".to_owned(), 1)]
        );
    }

    #[test]
    fn events_count_on_their_utc_day() {
        let late = event(Fact::OnlineBookingSwitched { enabled: true }, "2026-11-22T23:59:59Z");
        assert_eq!(day_of(&late).to_string(), "2026-11-22");
    }
}
