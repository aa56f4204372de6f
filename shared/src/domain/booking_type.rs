//! Booking types: what a patient can book (a consultation, a vaccination), how long it takes,
//! and whether it is offered online.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::ids::uuid_id;
use super::validation::{Checker, FieldError, required_text};

/// Shortest and longest booking type, in minutes.
/// At most 240 minutes: an appointment claims one item per five minutes, and moving it releases
/// and claims in one transaction of at most 100 writes.
pub const DURATION_RANGE: std::ops::RangeInclusive<u32> = 5..=240;

uuid_id!(
    /// A booking type's identifier, generated at creation.
    BookingTypeId,
    "booking type"
);

/// A booking type as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BookingType {
    /// Identifier.
    #[schema(value_type = String)]
    pub id: BookingTypeId,
    /// Short name staff see in the diary.
    pub short_name: String,
    /// Long name patients see when booking online.
    pub long_name: String,
    /// The long name in French, for patients reading French.
    #[serde(default)]
    pub long_name_fr: Option<String>,
    /// Length of the appointment in minutes (5 to 240, a multiple of 5).
    pub duration_minutes: u32,
    /// Whether patients may book it online.
    pub enabled_online: bool,
    /// When it was created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When it last changed.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// When staff archived it: nothing new may use it (no online booking, no new templates,
    /// bookings, rules or services), while what already does keeps its name. Absent while current.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub archived_at: Option<Timestamp>,
}

/// What patients see of an enabled booking type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublishedBookingType {
    /// Identifier.
    #[schema(value_type = String)]
    pub id: BookingTypeId,
    /// The long name.
    pub name: String,
    /// The long name in French, when the clinic gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_fr: Option<String>,
    /// Length in minutes.
    pub duration_minutes: u32,
}

impl PublishedBookingType {
    /// The name in the patient's language (English when no French name was given).
    pub fn name_in(&self, french: bool) -> &str {
        french.then_some(self.name_fr.as_deref()).flatten().unwrap_or(&self.name)
    }
}

/// A new booking type as an admin sends it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBookingTypeInput {
    /// 1 to 24 characters.
    pub short_name: String,
    /// 1 to 120 characters.
    pub long_name: String,
    /// The long name in French (1 to 120 characters).
    #[serde(default)]
    pub long_name_fr: Option<String>,
    /// 5 to 240, a multiple of 5.
    #[schema(minimum = 5, maximum = 240, multiple_of = 5)]
    pub duration_minutes: u32,
    /// Defaults to false: a new type is offered online only when asked.
    #[serde(default)]
    pub enabled_online: bool,
}

/// A change to a booking type: only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingTypeChange {
    /// New short name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
    /// New long name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_name: Option<String>,
    /// New French long name; empty removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_name_fr: Option<String>,
    /// New duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_minutes: Option<u32>,
    /// Offer online, or stop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_online: Option<bool>,
}

fn duration(field: &str, minutes: u32) -> Result<u32, FieldError> {
    if DURATION_RANGE.contains(&minutes) && minutes.is_multiple_of(5) {
        Ok(minutes)
    } else {
        Err(FieldError::new(field, "must be 5 to 240 minutes, in steps of 5"))
    }
}

impl BookingType {
    /// Validates a new booking type.
    pub fn create(id: BookingTypeId, input: &NewBookingTypeInput, now: Timestamp) -> Result<Self, Vec<FieldError>> {
        let mut checker = Checker::default();
        let short_name = checker.check(required_text("short_name", &input.short_name, 24));
        let long_name = checker.check(required_text("long_name", &input.long_name, 120));
        let duration_minutes = checker.check(duration("duration_minutes", input.duration_minutes));
        let long_name_fr = input
            .long_name_fr
            .as_deref()
            .filter(|name| !name.trim().is_empty())
            .and_then(|name| checker.check(required_text("long_name_fr", name, 120)));
        checker.finish()?;
        let (Some(short_name), Some(long_name), Some(duration_minutes)) = (short_name, long_name, duration_minutes)
        else {
            unreachable!("checker.finish() fails when a check failed")
        };
        Ok(Self {
            id,
            short_name,
            long_name,
            long_name_fr,
            duration_minutes,
            enabled_online: input.enabled_online,
            created_at: now,
            updated_at: now,
            archived_at: None,
        })
    }

    /// Archived at `now`: off online booking for good, or `None` when it already is.
    pub fn archive(&self, now: Timestamp) -> Option<Self> {
        self.archived_at.is_none().then(|| Self {
            enabled_online: false,
            archived_at: Some(now),
            updated_at: now,
            ..self.clone()
        })
    }

    /// Checks a change without applying it, so a scheduled change is refused when it is made.
    pub fn validate_change(change: &BookingTypeChange) -> Result<BookingTypeChange, Vec<FieldError>> {
        let mut checker = Checker::default();
        let short_name = change.short_name.as_deref().and_then(|v| checker.check(required_text("short_name", v, 24)));
        let long_name = change.long_name.as_deref().and_then(|v| checker.check(required_text("long_name", v, 120)));
        let duration_minutes = change.duration_minutes.and_then(|v| checker.check(duration("duration_minutes", v)));
        let long_name_fr = change.long_name_fr.as_deref().map(|v| {
            if v.trim().is_empty() {
                String::new()
            } else {
                checker.check(required_text("long_name_fr", v, 120)).unwrap_or_default()
            }
        });
        if *change == BookingTypeChange::default() {
            checker.check::<()>(Err(FieldError::new("body", "must change at least one field")));
        }
        checker.finish()?;
        Ok(BookingTypeChange {
            short_name,
            long_name,
            long_name_fr,
            duration_minutes,
            enabled_online: change.enabled_online,
        })
    }

    /// The booking type after a validated change, or `None` when the change alters nothing.
    pub fn apply(&self, change: &BookingTypeChange, now: Timestamp) -> Option<Self> {
        let mut next = self.clone();
        if let Some(short_name) = &change.short_name {
            next.short_name.clone_from(short_name);
        }
        if let Some(long_name) = &change.long_name {
            next.long_name.clone_from(long_name);
        }
        if let Some(long_name_fr) = &change.long_name_fr {
            next.long_name_fr = (!long_name_fr.is_empty()).then(|| long_name_fr.clone());
        }
        if let Some(duration_minutes) = change.duration_minutes {
            next.duration_minutes = duration_minutes;
        }
        if let Some(enabled_online) = change.enabled_online {
            next.enabled_online = enabled_online;
        }
        if next == *self {
            return None;
        }
        next.updated_at = now;
        Some(next)
    }

    /// The long name in the patient's language (English when no French name was given).
    pub fn name_in(&self, french: bool) -> &str {
        french.then_some(self.long_name_fr.as_deref()).flatten().unwrap_or(&self.long_name)
    }

    /// What the public side may show, when the type is offered online.
    pub fn published(&self) -> Option<PublishedBookingType> {
        self.enabled_online.then(|| self.public_view())
    }

    /// What patients see of it, whether or not it is offered on the public booking pages (the
    /// portal offers what an online service links, seed 001).
    pub fn public_view(&self) -> PublishedBookingType {
        PublishedBookingType {
            id: self.id.clone(),
            name: self.long_name.clone(),
            name_fr: self.long_name_fr.clone(),
            duration_minutes: self.duration_minutes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id() -> BookingTypeId {
        BookingTypeId::generated("0b7e6f8e-7a53-4d64-9a1b-5c4c8e0f4c11".into())
    }

    fn input() -> NewBookingTypeInput {
        NewBookingTypeInput {
            short_name: "GP15".into(),
            long_name: "GP consultation (15 minutes)".into(),
            long_name_fr: None,
            duration_minutes: 15,
            enabled_online: true,
        }
    }

    #[test]
    fn a_valid_booking_type_is_created_with_trimmed_names() {
        let mut raw = input();
        raw.short_name = "  GP15 ".into();
        let created = BookingType::create(id(), &raw, Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(created.short_name, "GP15");
        assert_eq!(created.published().unwrap().name, "GP consultation (15 minutes)");
    }

    #[test]
    fn durations_outside_the_range_or_off_the_five_minute_grid_are_refused() {
        for minutes in [0, 3, 7, 245, 10_000] {
            let mut raw = input();
            raw.duration_minutes = minutes;
            let errors = BookingType::create(id(), &raw, Timestamp::UNIX_EPOCH).unwrap_err();
            assert_eq!(errors[0].field, "duration_minutes", "{minutes}");
        }
    }

    #[test]
    fn a_disabled_type_is_not_published() {
        let mut raw = input();
        raw.enabled_online = false;
        assert_eq!(BookingType::create(id(), &raw, Timestamp::UNIX_EPOCH).unwrap().published(), None);
    }

    #[test]
    fn an_empty_change_is_refused_and_a_no_op_change_changes_nothing() {
        assert_eq!(BookingType::validate_change(&BookingTypeChange::default()).unwrap_err()[0].field, "body");
        let created = BookingType::create(id(), &input(), Timestamp::UNIX_EPOCH).unwrap();
        let same = BookingTypeChange { enabled_online: Some(true), ..Default::default() };
        assert_eq!(created.apply(&same, Timestamp::from_second(60).unwrap()), None);
    }

    #[test]
    fn a_change_updates_only_named_fields_and_the_time() {
        let created = BookingType::create(id(), &input(), Timestamp::UNIX_EPOCH).unwrap();
        let later = Timestamp::from_second(60).unwrap();
        let change = BookingTypeChange { enabled_online: Some(false), ..Default::default() };
        let changed = created.apply(&change, later).unwrap();
        assert!(!changed.enabled_online);
        assert_eq!(changed.long_name, created.long_name);
        assert_eq!(changed.updated_at, later);
    }

    #[test]
    fn ids_from_paths_must_look_like_generated_ids() {
        assert!(BookingTypeId::parse("bookingTypeId", "not-an-id").is_err());
        assert!(BookingTypeId::parse("bookingTypeId", id().as_str()).is_ok());
    }

    proptest! {
        #[test]
        fn accepted_durations_are_on_the_grid(minutes in 0u32..1_000) {
            let mut raw = input();
            raw.duration_minutes = minutes;
            let accepted = BookingType::create(id(), &raw, Timestamp::UNIX_EPOCH).is_ok();
            prop_assert_eq!(accepted, (5..=240).contains(&minutes) && minutes % 5 == 0);
        }
    }
}
