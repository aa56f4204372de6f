//! Patient contact details, validated once and never printed: their `Debug` output is redacted
//! so a stray `{:?}` cannot put them in a log.

use serde::{Deserialize, Serialize};

use super::validation::FieldError;

/// A phone number in E.164 form (`+` then up to 15 digits), checked against the numbering plan.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

/// The country whose national numbering a clinic's patients write in (ISO 3166 alpha-2, `GB`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "GB")]
pub struct Region(phonenumber::country::Id);

impl Region {
    /// Great Britain: the default for clinics that never said.
    pub const GB: Self = Self(phonenumber::country::Id::GB);

    /// Parses an ISO 3166 alpha-2 code the numbering plan knows.
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        value
            .trim()
            .to_ascii_uppercase()
            .parse::<phonenumber::country::Id>()
            .map(Self)
            .map_err(|_| FieldError::new(field, "must be a two-letter country code such as GB or FR"))
    }
}

impl Default for Region {
    fn default() -> Self {
        Self::GB
    }
}

impl TryFrom<String> for Region {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse("country", &value).map_err(|error| error.message)
    }
}

impl From<Region> for String {
    fn from(region: Region) -> Self {
        region.0.as_ref().to_owned()
    }
}

impl PhoneNumber {
    /// Parses a number in international form (`+44 7700 900123`).
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        Self::parse_in(field, value, None)
    }

    /// Parses a number as a patient types it: international form, or the national form of
    /// `region` (`07700 900123` in GB); spaces, dots, dashes and brackets allowed. The stored
    /// value is E.164.
    pub fn parse_in(field: &str, value: &str, region: Option<Region>) -> Result<Self, FieldError> {
        let value = value.trim();
        let invalid = || {
            FieldError::new(
                field,
                if region.is_some() {
                    "must be a phone number, e.g. 07700 900123 or +44 7700 900123"
                } else {
                    "must be a phone number in international form, e.g. +447700900123"
                },
            )
        };
        if value.is_empty() || value.len() > 32 || value.chars().any(|c| c.is_alphabetic() || c.is_control()) {
            return Err(invalid());
        }
        let country = if value.starts_with('+') { None } else { region.map(|region| region.0) };
        if country.is_none() && !value.starts_with('+') {
            return Err(invalid());
        }
        let number = phonenumber::parse(country, value).map_err(|_| invalid())?;
        // A possible number (the length its country's plan allows), not a "valid" one: the
        // numbering plan marks the ranges reserved for tests and drama (07700 900xxx) invalid.
        let length = number.national().value().to_string().len() as u16;
        let possible = phonenumber::metadata::DATABASE.by_code(&number.code().value()).is_some_and(|plans| {
            use phonenumber::Type;
            let kinds = [Type::FixedLine, Type::Mobile, Type::TollFree, Type::Voip, Type::PersonalNumber, Type::Uan];
            plans.iter().any(|plan| {
                kinds
                    .iter()
                    .filter_map(|kind| plan.descriptors().get(*kind))
                    .any(|descriptor| descriptor.possible_length().contains(&length))
            })
        });
        if !possible {
            return Err(invalid());
        }
        let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
        Self::stored(&e164).ok_or_else(invalid)
    }

    /// A number read back from storage: E.164-shaped, not checked against today's plan.
    fn stored(value: &str) -> Option<Self> {
        let digits = value.strip_prefix('+')?;
        let valid = (8..=15).contains(&digits.len())
            && digits.bytes().all(|byte| byte.is_ascii_digit())
            && !digits.starts_with('0');
        valid.then(|| Self(value.to_owned()))
    }

    /// The number as written inside its own country (`07700 900123`), for pages.
    pub fn national(&self) -> String {
        phonenumber::parse(None, &self.0)
            .map(|number| number.format().mode(phonenumber::Mode::National).to_string())
            .unwrap_or_else(|_| self.0.clone())
    }

    /// The E.164 text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PhoneNumber(<redacted>)")
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::stored(&value).ok_or_else(|| "must be a phone number in E.164 form".to_owned())
    }
}

impl From<PhoneNumber> for String {
    fn from(phone: PhoneNumber) -> Self {
        phone.0
    }
}

/// An email address: one `@`, a non-empty local part, a dotted domain, at most 254 characters.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses an address; the domain is lower-cased.
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        let invalid = || FieldError::new(field, "must be an email address such as name@example.com");
        let (local, domain) = value.split_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'.' || byte == b'-');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local.chars().all(|c| !c.is_whitespace() && !c.is_control() && !matches!(c, '@' | '<' | '>' | '"'));
        if value.len() <= 254 && domain_ok && local_ok {
            Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
        } else {
            Err(invalid())
        }
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmailAddress(<redacted>)")
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse("email", &value).map_err(|error| error.message)
    }
}

impl From<EmailAddress> for String {
    fn from(email: EmailAddress) -> Self {
        email.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn uk_and_north_american_mobiles_in_international_form_pass() {
        assert_eq!(PhoneNumber::parse("phone", "+44 7700 900123").unwrap().as_str(), "+447700900123");
        assert!(PhoneNumber::parse("phone", "+1 (416) 555-0123").is_ok());
    }

    #[test]
    fn national_or_malformed_numbers_are_refused_without_a_region() {
        for bad in ["07700900123", "+0447700900123", "+44", "+44770090012345678", "+44 7700 9001x3", ""] {
            assert_eq!(PhoneNumber::parse("mobile", bad).unwrap_err().field, "mobile", "{bad}");
        }
    }

    #[test]
    fn national_numbers_are_read_in_the_clinics_region_and_stored_in_e164() {
        let gb = Some(Region::GB);
        for typed in ["07700 900456", "07700-900456", "(07700) 900 456", "+44 7700 900456", "0044 7700 900456"] {
            assert_eq!(PhoneNumber::parse_in("mobile", typed, gb).unwrap().as_str(), "+447700900456", "{typed}");
        }
        let fr = Some(Region::parse("country", "fr").unwrap());
        assert_eq!(PhoneNumber::parse_in("mobile", "06 12 34 56 78", fr).unwrap().as_str(), "+33612345678");
        assert_eq!(PhoneNumber::parse_in("mobile", "+44 7700 900456", fr).unwrap().as_str(), "+447700900456");
        for bad in ["0770090", "07700 900456 1234", "12", "phone me", "0800"] {
            assert!(PhoneNumber::parse_in("mobile", bad, gb).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_are_shown_in_their_national_form() {
        assert_eq!(PhoneNumber::parse("m", "+447700900123").unwrap().national(), "07700 900123");
        assert_eq!(PhoneNumber::parse("m", "+33612345678").unwrap().national(), "06 12 34 56 78");
    }

    #[test]
    fn regions_are_two_letter_codes() {
        assert_eq!(String::from(Region::parse("c", " fr ").unwrap()), "FR");
        assert!(Region::parse("c", "XX").is_err() && Region::parse("c", "France").is_err());
    }

    #[test]
    fn emails_are_checked_and_their_domain_lower_cased() {
        assert_eq!(EmailAddress::parse("email", "Pat.Smith@Example.COM").unwrap().as_str(), "Pat.Smith@example.com");
        for bad in
            ["", "pat", "pat@", "@example.com", "pat@example", "pat smith@example.com", "pat@exa mple.com", "a@b..com"]
        {
            assert!(EmailAddress::parse("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_output_never_shows_the_value() {
        let phone = PhoneNumber::parse("phone", "+447700900123").unwrap();
        let email = EmailAddress::parse("email", "pat@example.com").unwrap();
        let printed = format!("{phone:?} {email:?}");
        assert!(!printed.contains("900123") && !printed.contains("pat@"), "{printed}");
    }

    proptest! {
        #[test]
        fn national_and_international_forms_of_a_uk_mobile_agree(rest in 0u32..1_000) {
            // Ofcom's range for drama and tests: 07700 900000 to 07700 900999.
            let national = format!("07700 900{rest:03}");
            let international = format!("+44 7700 900{rest:03}");
            let from_national = PhoneNumber::parse_in("m", &national, Some(Region::GB)).unwrap();
            let from_international = PhoneNumber::parse("m", &international).unwrap();
            prop_assert_eq!(from_national.as_str(), from_international.as_str());
            let stored: PhoneNumber = serde_json::from_value(serde_json::json!(from_national.as_str())).unwrap();
            prop_assert_eq!(stored, from_national);
        }

        #[test]
        fn parsing_never_panics_and_accepted_numbers_are_e164(value in ".{0,30}") {
            if let Ok(phone) = PhoneNumber::parse_in("phone", &value, Some(Region::GB)) {
                prop_assert!(phone.as_str().starts_with('+'));
                prop_assert!(phone.as_str()[1..].bytes().all(|b| b.is_ascii_digit()));
            }
        }
    }
}
