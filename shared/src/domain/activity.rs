//! Daily activity counters per clinic, maintained from domain events as they happen rather than
//! by scanning history at request time.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::events::{DomainEvent, Fact};

/// The counters one event adds to, with the amount.
pub fn counters_for(event: &DomainEvent) -> Vec<(&'static str, i64)> {
    match &event.fact {
        Fact::BookingTypeCreated { enabled_online, .. } => {
            let mut counters = vec![("booking_types_created", 1)];
            if *enabled_online {
                counters.push(("booking_types_put_online", 1));
            }
            counters
        }
        Fact::BookingTypeChanged { was_online, is_online, .. } => {
            let mut counters = vec![("booking_types_changed", 1)];
            match (was_online, is_online) {
                (false, true) => counters.push(("booking_types_put_online", 1)),
                (true, false) => counters.push(("booking_types_taken_offline", 1)),
                _ => {}
            }
            counters
        }
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
    #[serde(default)]
    pub day: String,
    /// Booking types created.
    #[serde(default)]
    pub booking_types_created: i64,
    /// Booking types changed.
    #[serde(default)]
    pub booking_types_changed: i64,
    /// Booking types that went online (created online, or enabled).
    #[serde(default)]
    pub booking_types_put_online: i64,
    /// Booking types taken offline.
    #[serde(default)]
    pub booking_types_taken_offline: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::booking_type::BookingTypeId;
    use crate::domain::clinic::ClinicId;

    fn event(fact: Fact, at: &str) -> DomainEvent {
        DomainEvent {
            id: "e".into(),
            clinic_id: ClinicId::parse("demo").unwrap(),
            occurred_at: at.parse().unwrap(),
            fact,
        }
    }

    #[test]
    fn enabling_and_disabling_count_separately_from_plain_edits() {
        let id = BookingTypeId::generated("x".into());
        let enable = event(
            Fact::BookingTypeChanged { booking_type_id: id.clone(), was_online: false, is_online: true },
            "2026-11-22T10:00:00Z",
        );
        let rename = event(
            Fact::BookingTypeChanged { booking_type_id: id.clone(), was_online: true, is_online: true },
            "2026-11-22T10:00:00Z",
        );
        let disable = event(
            Fact::BookingTypeChanged { booking_type_id: id, was_online: true, is_online: false },
            "2026-11-22T10:00:00Z",
        );
        assert_eq!(counters_for(&enable), [("booking_types_changed", 1), ("booking_types_put_online", 1)]);
        assert_eq!(counters_for(&rename), [("booking_types_changed", 1)]);
        assert_eq!(counters_for(&disable), [("booking_types_changed", 1), ("booking_types_taken_offline", 1)]);
    }

    #[test]
    fn events_count_on_their_utc_day() {
        let late = event(
            Fact::BookingTypeCreated { booking_type_id: BookingTypeId::generated("x".into()), enabled_online: false },
            "2026-11-22T23:59:59Z",
        );
        assert_eq!(day_of(&late).to_string(), "2026-11-22");
    }
}
