//! When a diary session's slots are published online (seed 001): at once, from a set instant,
//! or on a rolling window (each day's slots open a number of days ahead at a local time). Pure:
//! the moment a slot opens is computed from the slot and the zone, and the offer compares it
//! with the time it is given, so publication happens on time with no sweep and no job.

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde::{Deserialize, Serialize};

use super::validation::FieldError;

/// How a session's slots are published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PublicationRule {
    /// Published now.
    #[default]
    Now,
    /// Published from this instant.
    From {
        /// The instant, UTC.
        #[schema(value_type = String, format = DateTime)]
        at: Timestamp,
    },
    /// Each day's slots open `days_ahead` days before that day, at `at_local` clinic time.
    Rolling {
        /// 1 to 365.
        #[schema(minimum = 1, maximum = 365)]
        days_ahead: u16,
        /// `HH:MM`, clinic time.
        #[schema(value_type = String, pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")]
        at_local: Time,
    },
}

impl PublicationRule {
    /// Checks the rule's values.
    pub fn check(&self, field: &str) -> Result<(), FieldError> {
        match self {
            Self::Rolling { days_ahead, .. } if !(1..=365).contains(days_ahead) => {
                Err(FieldError::new(field, "days_ahead must be 1 to 365"))
            }
            _ => Ok(()),
        }
    }

    /// When a slot starting at `start` is published (`None`: from the beginning).
    pub fn opens_at(&self, start: Timestamp, zone: &TimeZone) -> Option<Timestamp> {
        match self {
            Self::Now => None,
            Self::From { at } => Some(*at),
            Self::Rolling { days_ahead, at_local } => {
                let day = start.to_zoned(zone.clone()).date();
                let opening_day = day.checked_sub(Span::new().days(i64::from(*days_ahead))).ok()?;
                // A local time that does not exist (a DST gap) opens at the first instant after it.
                let opening = zone.to_ambiguous_zoned(opening_day.to_datetime(*at_local)).later().ok()?;
                Some(opening.timestamp())
            }
        }
    }

    /// Whether a slot starting at `start` is published at `now`.
    pub fn is_published(&self, start: Timestamp, zone: &TimeZone, now: Timestamp) -> bool {
        self.opens_at(start, zone).is_none_or(|opens| now >= opens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_rolling_window_opens_each_day_at_the_local_time_across_dst() {
        let london = TimeZone::get("Europe/London").unwrap();
        let rule = PublicationRule::Rolling { days_ahead: 14, at_local: "08:00".parse().unwrap() };
        // A slot on Monday 7 December 2026 opens on Monday 23 November at 08:00 GMT.
        assert_eq!(rule.opens_at(at("2026-12-07T09:30:00Z"), &london), Some(at("2026-11-23T08:00:00Z")));
        // A slot on 9 April 2027 (BST) opens on 26 March (still GMT) at 08:00 local: 08:00 UTC.
        assert_eq!(rule.opens_at(at("2027-04-09T08:30:00Z"), &london), Some(at("2027-03-26T08:00:00Z")));
        // A slot on 12 April 2027 opens on 29 March (BST): 07:00 UTC.
        assert_eq!(rule.opens_at(at("2027-04-12T08:30:00Z"), &london), Some(at("2027-03-29T07:00:00Z")));
        assert!(!rule.is_published(at("2026-12-07T09:30:00Z"), &london, at("2026-11-23T07:59:59Z")));
        assert!(rule.is_published(at("2026-12-07T09:30:00Z"), &london, at("2026-11-23T08:00:00Z")));
        // Opening at 01:30 on the spring-forward day (a time that does not exist) is 02:30 BST.
        let night = PublicationRule::Rolling { days_ahead: 1, at_local: "01:30".parse().unwrap() };
        assert_eq!(night.opens_at(at("2027-03-29T10:00:00Z"), &london), Some(at("2027-03-28T01:30:00Z")));
    }

    #[test]
    fn now_and_from_rules() {
        let utc = TimeZone::UTC;
        assert!(PublicationRule::Now.is_published(at("2030-01-01T00:00:00Z"), &utc, at("2020-01-01T00:00:00Z")));
        let from = PublicationRule::From { at: at("2026-12-01T08:00:00Z") };
        assert!(!from.is_published(at("2026-12-10T09:00:00Z"), &utc, at("2026-12-01T07:59:00Z")));
        assert!(from.is_published(at("2026-12-10T09:00:00Z"), &utc, at("2026-12-01T08:00:00Z")));
        assert!(PublicationRule::Rolling { days_ahead: 0, at_local: Time::midnight() }.check("p").is_err());
    }

    proptest! {
        #[test]
        fn a_rolling_slot_opens_before_it_starts_and_publication_never_reverses(
            minutes in 0i64..(60 * 24 * 400), days_ahead in 1u16..60, hour in 0i8..24, later in 0i64..100_000,
        ) {
            for zone in ["Europe/London", "Pacific/Auckland", "America/Toronto"] {
                let zone = TimeZone::get(zone).unwrap();
                let start = at("2026-01-01T00:00:00Z") + jiff::SignedDuration::from_mins(minutes);
                let rule = PublicationRule::Rolling { days_ahead, at_local: Time::new(hour, 0, 0, 0).unwrap() };
                let opens = rule.opens_at(start, &zone).unwrap();
                prop_assert!(opens < start);
                prop_assert!(rule.is_published(start, &zone, opens));
                prop_assert!(rule.is_published(start, &zone, opens + jiff::SignedDuration::from_mins(later)));
                prop_assert!(!rule.is_published(start, &zone, opens - jiff::SignedDuration::from_secs(1)));
            }
        }
    }
}
