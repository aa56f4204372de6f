//! Patient contact details, validated once and never printed: their `Debug` output is redacted
//! so a stray `{:?}` cannot put them in a log.

use serde::{Deserialize, Serialize};

use super::validation::FieldError;

/// A mobile number in E.164 form (`+` then 8 to 15 digits, no leading zero).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses an E.164 number, allowing spaces, dashes and brackets between digits.
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let compact: String = value.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
        let digits = compact.strip_prefix('+').unwrap_or("");
        let valid = (8..=15).contains(&digits.len())
            && digits.bytes().all(|byte| byte.is_ascii_digit())
            && !digits.starts_with('0');
        if valid {
            Ok(Self(compact))
        } else {
            Err(FieldError::new(field, "must be a mobile number in international form, e.g. +447700900123"))
        }
    }

    /// The number as E.164 text.
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
        Self::parse("phone", &value).map_err(|error| error.message)
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
    fn national_or_malformed_numbers_are_refused() {
        for bad in ["07700900123", "+0447700900123", "+44", "+44770090012345678", "+44 7700 9001x3", ""] {
            assert_eq!(PhoneNumber::parse("mobile", bad).unwrap_err().field, "mobile", "{bad}");
        }
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
        fn every_e164_shaped_number_round_trips(first in 1u8..=9, rest in proptest::collection::vec(0u8..=9, 7..=14)) {
            let digits: String = std::iter::once(first).chain(rest).map(|d| char::from(b'0' + d)).collect();
            let text = format!("+{digits}");
            let phone = PhoneNumber::parse("phone", &text).unwrap();
            prop_assert_eq!(phone.as_str(), text.as_str());
        }

        #[test]
        fn parsing_never_panics_and_accepted_numbers_are_e164(value in ".{0,30}") {
            if let Ok(phone) = PhoneNumber::parse("phone", &value) {
                prop_assert!(phone.as_str().starts_with('+'));
                prop_assert!(phone.as_str()[1..].bytes().all(|b| b.is_ascii_digit()));
            }
        }
    }
}
