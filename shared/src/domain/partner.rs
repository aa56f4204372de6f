//! Partners (seed 002): external organisations that send patients. For each partner the clinic
//! activates the services (booking types) that may be booked on its behalf; a partner booking
//! first holds its slot for a few minutes, then is confirmed for a patient.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::booking_type::BookingTypeId;
use super::contact::{EmailAddress, PhoneNumber};
use super::ids::uuid_id;
use super::location::LocationId;
use super::provider::ProviderId;
use super::validation::{Checker, FieldError, required_text, slug};

/// A partner's identifier: its own short code (`a-z`, `0-9`, `-`), the same in every clinic
/// it works with, and the value of a partner user's `partner` claim.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PartnerId(String);

impl PartnerId {
    /// Parses a partner code.
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        slug(field, value).map(Self)
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PartnerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whom to contact at a partner.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartnerContact {
    /// A person or desk.
    pub name: Option<String>,
    /// Phone, E.164.
    #[schema(value_type = Option<String>)]
    pub phone: Option<PhoneNumber>,
    /// Email.
    #[schema(value_type = Option<String>)]
    pub email: Option<EmailAddress>,
}

/// A partner, with its traffic channel in this clinic: the services activated for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Partner {
    /// The partner's code.
    #[schema(value_type = String)]
    pub id: PartnerId,
    /// Its name.
    pub name: String,
    /// Whom to contact.
    pub contact: PartnerContact,
    /// The booking types that may be booked on its behalf in this clinic.
    #[schema(value_type = Vec<String>)]
    pub activated_booking_type_ids: Vec<BookingTypeId>,
    /// When staff archived it: nothing more is booked for it; its bookings and statistics keep
    /// naming it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub archived_at: Option<jiff::Timestamp>,
}

/// A partner as an admin sends it.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerInput {
    /// Its code: 1 to 64 of `a-z`, `0-9`, `-` (ignored on replace: the path names it).
    #[serde(default)]
    pub id: String,
    /// 1 to 120 characters.
    pub name: String,
    /// Whom to contact.
    #[serde(default)]
    pub contact: PartnerContactInput,
    /// Booking types activated for it (at most 50).
    #[serde(default)]
    pub activated_booking_type_ids: Vec<String>,
}

/// A contact as an admin sends it.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerContactInput {
    /// 1 to 120 characters.
    pub name: Option<String>,
    /// International form.
    pub phone: Option<String>,
    /// Email address.
    pub email: Option<String>,
}

impl Partner {
    /// Validates a partner, naming every bad field.
    pub fn parse(id: &str, input: &PartnerInput) -> Result<Self, Vec<FieldError>> {
        let mut checker = Checker::default();
        let id = checker.check(PartnerId::parse("id", id));
        let name = checker.check(required_text("name", &input.name, 120));
        let nonempty =
            |value: &Option<String>| value.as_deref().filter(|text| !text.trim().is_empty()).map(str::to_owned);
        let contact_name =
            nonempty(&input.contact.name).and_then(|text| checker.check(required_text("contact.name", &text, 120)));
        let phone =
            nonempty(&input.contact.phone).and_then(|text| checker.check(PhoneNumber::parse("contact.phone", &text)));
        let email =
            nonempty(&input.contact.email).and_then(|text| checker.check(EmailAddress::parse("contact.email", &text)));
        if input.activated_booking_type_ids.len() > 50 {
            checker.check::<()>(Err(FieldError::new("activated_booking_type_ids", "must name at most 50")));
        }
        let mut seen = BTreeSet::new();
        let mut activated = Vec::new();
        for (index, raw) in input.activated_booking_type_ids.iter().enumerate() {
            let field = format!("activated_booking_type_ids[{index}]");
            if let Some(id) = checker.check(BookingTypeId::parse(&field, raw))
                && seen.insert(id.clone())
            {
                activated.push(id);
            }
        }
        checker.finish()?;
        let (Some(id), Some(name)) = (id, name) else { unreachable!("checker.finish() fails when a check failed") };
        Ok(Self {
            id,
            name,
            contact: PartnerContact { name: contact_name, phone, email },
            activated_booking_type_ids: activated,
            archived_at: None,
        })
    }

    /// Whether `booking_type` may be booked for this partner.
    pub fn activates(&self, booking_type: &BookingTypeId) -> bool {
        self.activated_booking_type_ids.contains(booking_type)
    }
}

uuid_id!(
    /// A hold's identifier.
    HoldId,
    "hold"
);

/// How long a hold keeps its slot.
pub const HOLD_MINUTES: i64 = 5;

/// A slot held for a partner booking while the patient is found or added. It and its claims
/// expire together, so an abandoned hold frees the slot by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartnerHold {
    /// Identifier.
    #[schema(value_type = String)]
    pub id: HoldId,
    /// For whom.
    #[schema(value_type = String)]
    pub partner_id: PartnerId,
    /// What.
    #[schema(value_type = String)]
    pub booking_type_id: BookingTypeId,
    /// With whom.
    #[schema(value_type = String)]
    pub provider_id: ProviderId,
    /// Where.
    #[schema(value_type = String)]
    pub location_id: LocationId,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    /// How long.
    pub duration_minutes: u32,
    /// The staff member (token subject) who started it.
    pub held_by: String,
    /// When it lapses and the slot is free again.
    #[schema(value_type = String, format = DateTime)]
    pub held_until: Timestamp,
}

impl PartnerHold {
    /// The time a hold started at `now` lapses.
    pub fn lapse_at(now: Timestamp) -> Timestamp {
        now + SignedDuration::from_mins(HOLD_MINUTES)
    }

    /// The diary units it holds.
    pub fn units(&self) -> std::ops::Range<i64> {
        super::diary::units_covered(self.starts_at, self.duration_minutes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partner_names_every_bad_field_and_drops_repeated_services() {
        let input = PartnerInput {
            id: String::new(),
            name: "Acme Insurance".into(),
            contact: PartnerContactInput { phone: Some("123".into()), email: Some("nope".into()), name: None },
            activated_booking_type_ids: vec!["x".into()],
        };
        let fields: Vec<String> = Partner::parse("Acme!", &input).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["id", "contact.phone", "contact.email", "activated_booking_type_ids[0]"]);
        let service = uuid::Uuid::new_v4().to_string();
        let good = PartnerInput {
            activated_booking_type_ids: vec![service.clone(), service.clone()],
            ..PartnerInput::default()
        };
        let good = PartnerInput { name: "Acme".into(), ..good };
        let partner = Partner::parse("acme", &good).unwrap();
        assert_eq!(partner.activated_booking_type_ids.len(), 1);
        assert!(partner.activates(&BookingTypeId::parse("b", &service).unwrap()));
        assert!(!partner.activates(&BookingTypeId::random()));
    }

    #[test]
    fn a_hold_lapses_after_five_minutes() {
        let now: Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
        assert_eq!(PartnerHold::lapse_at(now), "2026-11-22T10:05:00Z".parse().unwrap());
    }
}
