//! Clinics: the tenant every record belongs to.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::validation::{Checker, FieldError, required_text, slug};

/// A clinic's identifier, chosen at creation (a URL-safe slug).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClinicId(String);

impl ClinicId {
    /// Parses a clinic id from a path or a claim.
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        slug("clinicId", value).map(Self)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ClinicId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).map_err(|error| error.message)
    }
}

impl From<ClinicId> for String {
    fn from(id: ClinicId) -> Self {
        id.0
    }
}

impl std::fmt::Display for ClinicId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An IANA time zone name that the bundled time zone database knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZoneName(String);

impl TimeZoneName {
    /// Parses and checks a time zone name such as `Europe/London`.
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        match TimeZone::get(value) {
            Ok(_) if value.contains('/') || value == "UTC" => Ok(Self(value.to_owned())),
            _ => Err(FieldError::new(field, "must be an IANA time zone name such as Europe/London")),
        }
    }

    /// The zone itself.
    pub fn zone(&self) -> TimeZone {
        TimeZone::get(&self.0).unwrap_or(TimeZone::UTC)
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TimeZoneName {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse("time_zone", &value).map_err(|error| error.message)
    }
}

impl From<TimeZoneName> for String {
    fn from(name: TimeZoneName) -> Self {
        name.0
    }
}

/// A clinic's profile as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clinic {
    /// Identifier.
    pub id: ClinicId,
    /// Name shown to patients.
    pub name: String,
    /// The clinic's IANA time zone; every diary time is local to it.
    pub time_zone: TimeZoneName,
    /// When the profile was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// A clinic profile as an admin sends it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClinicProfileInput {
    /// Name shown to patients (1 to 120 characters).
    pub name: String,
    /// IANA time zone name, e.g. `Europe/London`.
    pub time_zone: String,
}

impl Clinic {
    /// Validates an admin's input into a new profile, or the same profile updated.
    pub fn from_input(
        id: ClinicId,
        input: &ClinicProfileInput,
        existing: Option<&Clinic>,
        now: Timestamp,
    ) -> Result<Self, Vec<FieldError>> {
        let mut checker = Checker::default();
        let name = checker.check(required_text("name", &input.name, 120));
        let time_zone = checker.check(TimeZoneName::parse("time_zone", &input.time_zone));
        checker.finish()?;
        let (Some(name), Some(time_zone)) = (name, time_zone) else {
            unreachable!("checker.finish() fails when a check failed")
        };
        Ok(Self { id, name, time_zone, created_at: existing.map_or(now, |clinic| clinic.created_at), updated_at: now })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clinic_ids_are_slugs() {
        assert!(ClinicId::parse("demo").is_ok());
        assert_eq!(ClinicId::parse("Demo Clinic").unwrap_err().field, "clinicId");
    }

    #[test]
    fn time_zones_must_be_iana_names() {
        for good in ["Europe/London", "Pacific/Auckland", "America/Toronto", "UTC"] {
            assert!(TimeZoneName::parse("time_zone", good).is_ok(), "{good}");
        }
        for bad in ["", "GMT+1", "Mars/Olympus", "BST", "europe/london "] {
            assert!(TimeZoneName::parse("time_zone", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let input = ClinicProfileInput { name: " ".into(), time_zone: "Nowhere/City".into() };
        let errors =
            Clinic::from_input(ClinicId::parse("demo").unwrap(), &input, None, Timestamp::UNIX_EPOCH).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, ["name", "time_zone"]);
    }

    #[test]
    fn an_update_keeps_the_creation_time() {
        let id = ClinicId::parse("demo").unwrap();
        let input = ClinicProfileInput { name: "Demo".into(), time_zone: "Europe/London".into() };
        let first = Clinic::from_input(id.clone(), &input, None, Timestamp::UNIX_EPOCH).unwrap();
        let later = Timestamp::from_second(1_000).unwrap();
        let second = Clinic::from_input(id, &input, Some(&first), later).unwrap();
        assert_eq!(second.created_at, Timestamp::UNIX_EPOCH);
        assert_eq!(second.updated_at, later);
    }
}
