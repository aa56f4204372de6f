//! Clinics: the tenant every record belongs to.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::contact::Region;
use super::location::display_phone;
use super::online_settings::web_url;
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
    /// Whose national phone numbers patients type (default GB).
    #[serde(default)]
    pub country: Region,
    /// What patients' pages and letters show of the clinic.
    #[serde(default)]
    pub branding: ClinicBranding,
    /// The language the clinic writes its letters in (`en` or `fr`; unset: French in France,
    /// Belgium, Luxembourg and Monaco, English elsewhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
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
    /// ISO 3166 country code whose national phone numbers patients may type (default `GB`).
    #[serde(default)]
    #[schema(example = "GB")]
    pub country: Option<String>,
    /// Logo shown on patients' pages and letters: an `https://` URL of an image.
    #[serde(default)]
    pub logo_url: Option<String>,
    /// Accent colour of buttons and links, `#RRGGBB`, with a contrast of at least 4.5:1 against
    /// white (WCAG AA).
    #[serde(default)]
    #[schema(example = "#0b5cad")]
    pub accent_colour: Option<String>,
    /// Postal address (up to 300 characters; new lines kept).
    #[serde(default)]
    pub address: Option<String>,
    /// Phone number patients call, e.g. `020 7946 0000`.
    #[serde(default)]
    pub phone: Option<String>,
    /// Opening hours as shown to patients (up to 500 characters; new lines kept).
    #[serde(default)]
    pub opening_hours: Option<String>,
    /// The opening hours in French.
    #[serde(default)]
    pub opening_hours_fr: Option<String>,
    /// The language of the clinic's letters, `en` or `fr` (default: French in FR, BE, LU and MC,
    /// English elsewhere).
    #[serde(default)]
    #[schema(example = "en")]
    pub language: Option<String>,
}

/// What patients see of the clinic besides its name: on every page, message and letter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClinicBranding {
    /// Logo URL (`https://`).
    pub logo_url: Option<String>,
    /// Where the pages find the logo uploaded with `PUT /admin/clinics/{clinicId}/logo` (also
    /// drawn on letters); `logo_url` wins on pages when both are set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_path: Option<String>,
    /// Accent colour, `#RRGGBB`, contrast-checked against white.
    pub accent_colour: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// Phone number patients call.
    pub phone: Option<String>,
    /// Opening hours.
    pub opening_hours: Option<String>,
    /// Opening hours in French.
    pub opening_hours_fr: Option<String>,
}

/// WCAG relative luminance of an sRGB colour.
fn luminance([red, green, blue]: [u8; 3]) -> f64 {
    let linear = |channel: u8| {
        let c = f64::from(channel) / 255.0;
        if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
}

/// The WCAG contrast ratio of two colours (1 to 21).
pub fn contrast_ratio(first: [u8; 3], second: [u8; 3]) -> f64 {
    let (a, b) = (luminance(first), luminance(second));
    let (light, dark) = if a > b { (a, b) } else { (b, a) };
    (light + 0.05) / (dark + 0.05)
}

/// Least contrast of the accent against white: white text on buttons, accent links on white.
pub const MIN_ACCENT_CONTRAST: f64 = 4.5;

/// Checks an accent colour: `#RRGGBB` readable against white.
pub fn accent_colour(field: &str, value: &str) -> Result<String, FieldError> {
    let value = value.trim();
    let hex = value.strip_prefix('#').filter(|hex| hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    let Some(hex) = hex else {
        return Err(FieldError::new(field, "must be a colour written #RRGGBB, e.g. #0b5cad"));
    };
    let channel = |at: usize| u8::from_str_radix(&hex[at..at + 2], 16).unwrap_or(0);
    let ratio = contrast_ratio([channel(0), channel(2), channel(4)], [255, 255, 255]);
    if ratio < MIN_ACCENT_CONTRAST {
        return Err(FieldError::new(
            field,
            format!("is too light to read against white ({ratio:.1}:1; at least {MIN_ACCENT_CONTRAST}:1 is needed)"),
        ));
    }
    Ok(format!("#{}", hex.to_ascii_lowercase()))
}

/// Optional multi-line text: trimmed, at most `max_chars`, no control characters but new lines.
fn optional_lines(field: &str, value: Option<&str>, max_chars: usize) -> Result<Option<String>, FieldError> {
    let Some(value) = value.map(str::trim).filter(|value| !value.is_empty()) else {
        return Ok(None);
    };
    let value = value.replace("\r\n", "\n");
    if value.chars().count() > max_chars {
        return Err(FieldError::new(field, format!("must be at most {max_chars} characters")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(FieldError::new(field, "must not contain control characters"));
    }
    Ok(Some(value))
}

impl ClinicBranding {
    /// The logo's address for pages: the admin's URL, else the uploaded logo's path.
    pub fn logo_src(&self) -> Option<&str> {
        self.logo_url.as_deref().or(self.logo_path.as_deref())
    }

    fn from_input(input: &ClinicProfileInput, checker: &mut Checker) -> Self {
        let logo_url = input.logo_url.as_deref().and_then(|url| {
            checker
                .check(web_url("logo_url", url).and_then(|url| match url {
                    Some(url) if !url.starts_with("https://") => {
                        Err(FieldError::new("logo_url", "must be a web address starting with https://"))
                    }
                    other => Ok(other),
                }))
                .flatten()
        });
        let accent = input.accent_colour.as_deref().filter(|value| !value.trim().is_empty());
        let accent_colour = accent.and_then(|value| checker.check(accent_colour("accent_colour", value)));
        let phone = input.phone.as_deref().and_then(|value| checker.check(display_phone("phone", value)).flatten());
        Self {
            logo_url,
            logo_path: None,
            accent_colour,
            address: checker.check(optional_lines("address", input.address.as_deref(), 300)).flatten(),
            phone,
            opening_hours: checker
                .check(optional_lines("opening_hours", input.opening_hours.as_deref(), 500))
                .flatten(),
            opening_hours_fr: checker
                .check(optional_lines("opening_hours_fr", input.opening_hours_fr.as_deref(), 500))
                .flatten(),
        }
    }
}

impl Clinic {
    /// The language of the clinic's letters: its own setting, else French for clinics in
    /// French-speaking countries, English otherwise.
    pub fn letter_language(&self) -> &'static str {
        match (self.language.as_deref(), String::from(self.country).as_str()) {
            (Some("fr"), _) => "fr",
            (Some(_), _) => "en",
            (None, "FR" | "BE" | "LU" | "MC") => "fr",
            (None, _) => "en",
        }
    }

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
        let country = match input.country.as_deref().filter(|value| !value.trim().is_empty()) {
            Some(value) => checker.check(Region::parse("country", value)),
            None => Some(Region::GB),
        };
        let mut branding = ClinicBranding::from_input(input, &mut checker);
        branding.logo_path = existing.and_then(|clinic| clinic.branding.logo_path.clone());
        let language = match input.language.as_deref().map(str::trim).filter(|value| !value.is_empty()) {
            None => None,
            Some(code @ ("en" | "fr")) => Some(code.to_owned()),
            Some(_) => {
                checker.check::<()>(Err(FieldError::new("language", "must be en or fr")));
                None
            }
        };
        checker.finish()?;
        let (Some(name), Some(time_zone), Some(country)) = (name, time_zone, country) else {
            unreachable!("checker.finish() fails when a check failed")
        };
        Ok(Self {
            id,
            name,
            time_zone,
            country,
            branding,
            language,
            created_at: existing.map_or(now, |clinic| clinic.created_at),
            updated_at: now,
        })
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
        let input = ClinicProfileInput {
            name: " ".into(),
            time_zone: "Nowhere/City".into(),
            country: Some("Narnia".into()),
            logo_url: Some("http://www.example.com/logo.png".into()),
            accent_colour: Some("#ffff00".into()),
            phone: Some("call us".into()),
            ..input()
        };
        let errors =
            Clinic::from_input(ClinicId::parse("demo").unwrap(), &input, None, Timestamp::UNIX_EPOCH).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, ["name", "time_zone", "country", "logo_url", "accent_colour", "phone"]);
    }

    fn input() -> ClinicProfileInput {
        ClinicProfileInput {
            name: "Demo".into(),
            time_zone: "Europe/London".into(),
            country: None,
            logo_url: None,
            accent_colour: None,
            address: None,
            phone: None,
            opening_hours: None,
            opening_hours_fr: None,
            language: None,
        }
    }

    #[test]
    fn the_letter_language_is_the_clinics_own_else_its_countrys() {
        let id = ClinicId::parse("demo").unwrap();
        let make = |country: Option<&str>, language: Option<&str>| {
            let input = ClinicProfileInput {
                country: country.map(str::to_owned),
                language: language.map(str::to_owned),
                ..input()
            };
            Clinic::from_input(id.clone(), &input, None, Timestamp::UNIX_EPOCH)
        };
        assert_eq!(make(None, None).unwrap().letter_language(), "en");
        assert_eq!(make(Some("BE"), None).unwrap().letter_language(), "fr");
        assert_eq!(make(Some("FR"), Some("en")).unwrap().letter_language(), "en");
        assert_eq!(make(Some("CA"), Some("fr")).unwrap().letter_language(), "fr");
        let errors = make(None, Some("de")).unwrap_err();
        assert_eq!((errors[0].field.as_str(), errors[0].message.as_str()), ("language", "must be en or fr"));
    }

    #[test]
    fn branding_is_checked_and_kept() {
        let input = ClinicProfileInput {
            country: Some("fr".into()),
            logo_url: Some("https://www.example.com/logo.png".into()),
            accent_colour: Some("#0B5CAD".into()),
            address: Some("1 Rue Example\r\n75001 Paris".into()),
            phone: Some("01 23 45 67 89".into()),
            opening_hours: Some("Mon–Fri 08:00–18:00".into()),
            ..input()
        };
        let clinic = Clinic::from_input(ClinicId::parse("demo").unwrap(), &input, None, Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(String::from(clinic.country), "FR");
        assert_eq!(clinic.branding.accent_colour.as_deref(), Some("#0b5cad"));
        assert_eq!(clinic.branding.address.as_deref(), Some("1 Rue Example\n75001 Paris"));
        assert_eq!(clinic.branding.opening_hours_fr, None);
    }

    #[test]
    fn contrast_follows_wcag() {
        assert!((contrast_ratio([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 0.01);
        assert!((contrast_ratio([255, 255, 255], [255, 255, 255]) - 1.0).abs() < 0.01);
        // #767676 is the classic lightest grey that passes AA on white.
        assert!(accent_colour("c", "#767676").is_ok());
        assert!(accent_colour("c", "#777777").is_err());
        assert!(accent_colour("c", "0b5cad").is_err() && accent_colour("c", "#0b5ca").is_err());
    }

    proptest::proptest! {
        #[test]
        fn accepted_accents_are_readable_on_white(red in 0u8..=255, green in 0u8..=255, blue in 0u8..=255) {
            let text = format!("#{red:02X}{green:02X}{blue:02X}");
            let ratio = contrast_ratio([red, green, blue], [255, 255, 255]);
            proptest::prop_assert_eq!(accent_colour("c", &text).is_ok(), ratio >= MIN_ACCENT_CONTRAST);
            proptest::prop_assert!((1.0..=21.0).contains(&ratio));
        }
    }

    #[test]
    fn an_update_keeps_the_creation_time() {
        let id = ClinicId::parse("demo").unwrap();
        let input = input();
        let first = Clinic::from_input(id.clone(), &input, None, Timestamp::UNIX_EPOCH).unwrap();
        let later = Timestamp::from_second(1_000).unwrap();
        let second = Clinic::from_input(id, &input, Some(&first), later).unwrap();
        assert_eq!(second.created_at, Timestamp::UNIX_EPOCH);
        assert_eq!(second.updated_at, later);
    }
}
