//! Locations: where appointments happen. Patients see the full name and primary address.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::ids::uuid_id;
use super::validation::{Checker, FieldError, required_text};

uuid_id!(
    /// A location's identifier.
    LocationId,
    "location"
);

/// A location as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Location {
    /// Identifier.
    #[schema(value_type = String)]
    pub id: LocationId,
    /// Full name shown to patients.
    pub full_name: String,
    /// Primary address shown to patients.
    pub primary_address: String,
    /// Phone number patients may call about bookings here.
    pub booking_phone: Option<String>,
    /// Whether patients may book here online.
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

/// What patients see of an enabled location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublishedLocation {
    /// Identifier.
    #[schema(value_type = String)]
    pub id: LocationId,
    /// Full name.
    pub name: String,
    /// Primary address.
    pub address: String,
    /// Booking phone number.
    pub phone: Option<String>,
}

/// A location as an admin sends it (create: every field; change: only those present).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    /// 1 to 120 characters.
    pub full_name: Option<String>,
    /// 1 to 300 characters.
    pub primary_address: Option<String>,
    /// A phone number (digits, spaces, `+`, `-`, brackets), or empty to remove it.
    pub booking_phone: Option<String>,
    /// Offer online.
    pub enabled_online: Option<bool>,
}

/// Checks a phone number shown to patients: 6 to 30 characters of digits and separators.
pub fn display_phone(field: &str, value: &str) -> Result<Option<String>, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'));
    if allowed && (6..=20).contains(&digits) && value.len() <= 30 {
        Ok(Some(value.to_owned()))
    } else {
        Err(FieldError::new(field, "must be a phone number such as +44 20 7946 0000"))
    }
}

impl Location {
    /// Validates a new location.
    pub fn create(id: LocationId, input: &LocationInput, now: Timestamp) -> Result<Self, Vec<FieldError>> {
        let mut checker = Checker::default();
        let full_name = checker.check(required_text("full_name", input.full_name.as_deref().unwrap_or(""), 120));
        let primary_address =
            checker.check(required_text("primary_address", input.primary_address.as_deref().unwrap_or(""), 300));
        let booking_phone = match input.booking_phone.as_deref() {
            Some(phone) => checker.check(display_phone("booking_phone", phone)).flatten(),
            None => None,
        };
        checker.finish()?;
        Ok(Self {
            id,
            full_name: full_name.unwrap_or_default(),
            primary_address: primary_address.unwrap_or_default(),
            booking_phone,
            enabled_online: input.enabled_online.unwrap_or(false),
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

    /// The location after a change, or `None` when nothing changes.
    pub fn change(&self, input: &LocationInput, now: Timestamp) -> Result<Option<Self>, Vec<FieldError>> {
        if *input == LocationInput::default() {
            return Err(vec![FieldError::new("body", "must change at least one field")]);
        }
        let mut checker = Checker::default();
        let mut next = self.clone();
        if let Some(name) = &input.full_name {
            next.full_name = checker.check(required_text("full_name", name, 120)).unwrap_or_default();
        }
        if let Some(address) = &input.primary_address {
            next.primary_address = checker.check(required_text("primary_address", address, 300)).unwrap_or_default();
        }
        if let Some(phone) = &input.booking_phone {
            next.booking_phone = checker.check(display_phone("booking_phone", phone)).flatten();
        }
        if let Some(enabled) = input.enabled_online {
            next.enabled_online = enabled;
        }
        checker.finish()?;
        if next == *self {
            return Ok(None);
        }
        next.updated_at = now;
        Ok(Some(next))
    }

    /// What patients may see, when offered online.
    pub fn published(&self) -> Option<PublishedLocation> {
        self.enabled_online.then(|| self.public_view())
    }

    /// What patients see of it, whether or not it is offered on the public booking pages (the
    /// portal offers what an online service links, seed 001).
    pub fn public_view(&self) -> PublishedLocation {
        PublishedLocation {
            id: self.id.clone(),
            name: self.full_name.clone(),
            address: self.primary_address.clone(),
            phone: self.booking_phone.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> LocationInput {
        LocationInput {
            full_name: Some("Riverside Surgery".into()),
            primary_address: Some("1 River Road, London".into()),
            booking_phone: Some("+44 20 7946 0000".into()),
            enabled_online: Some(true),
        }
    }

    #[test]
    fn a_location_needs_a_name_and_an_address() {
        let errors =
            Location::create(LocationId::random(), &LocationInput::default(), Timestamp::UNIX_EPOCH).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, ["full_name", "primary_address"]);
    }

    #[test]
    fn phone_numbers_are_checked_and_may_be_removed() {
        assert!(display_phone("p", "call us").is_err());
        assert!(display_phone("p", "12").is_err());
        assert_eq!(display_phone("p", " ").unwrap(), None);
        let location = Location::create(LocationId::random(), &input(), Timestamp::UNIX_EPOCH).unwrap();
        let removed = location
            .change(&LocationInput { booking_phone: Some(String::new()), ..Default::default() }, Timestamp::UNIX_EPOCH)
            .unwrap()
            .unwrap();
        assert_eq!(removed.booking_phone, None);
    }

    #[test]
    fn disabled_locations_are_not_published() {
        let mut location = Location::create(LocationId::random(), &input(), Timestamp::UNIX_EPOCH).unwrap();
        assert!(location.published().is_some());
        location.enabled_online = false;
        assert!(location.published().is_none());
    }
}
