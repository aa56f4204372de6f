//! A patient's details as given when booking. Debug output is redacted; none of it is logged.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::contact::{EmailAddress, PhoneNumber, Region};
use super::provider::ProviderId;
use super::validation::{Checker, FieldError, required_text};

/// The clinic's own reference for a patient record (a record number, not personal data):
/// 1 to 40 characters of letters, digits and `-`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PatientReference(String);

impl PatientReference {
    /// Parses a reference sent by staff.
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let valid = (1..=40).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(FieldError::new(field, "must be 1 to 40 letters, digits or dashes"))
        }
    }

    /// The reference as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A patient record of the clinic: its reference and the patient's details.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientRecord {
    /// The clinic's reference.
    pub reference: PatientReference,
    /// The patient.
    pub details: PatientDetails,
    /// Sex, postcode, registered provider and flags, for access rules.
    #[serde(default)]
    pub profile: PatientProfile,
}

impl std::fmt::Debug for PatientRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatientRecord").field("reference", &self.reference).finish_non_exhaustive()
    }
}

/// Text folded for matching: accents removed (Unicode NFKD without combining marks), lower
/// case, runs of spaces, dashes and apostrophes made one space, trimmed.
pub fn fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    let folded: String = text.nfkd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase).collect();
    folded
        .split(|c: char| c.is_whitespace() || c == '-' || c == '\'' || c == '\u{2019}')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The longest search-index term: longer typed words are looked up by their first letters (and
/// the candidates filtered by the whole word).
pub const MAX_SEARCH_TERM_CHARS: usize = 8;
/// The shortest search-index term: a single letter would list half the clinic.
pub const MIN_SEARCH_TERM_CHARS: usize = 2;
/// How many words of each of the first and the last name are indexed: the first three of each
/// (so a record has at most 42 terms, and a rename's index moves fit in one transaction with
/// the record).
const MAX_INDEXED_WORDS: usize = 3;

/// The words a record is indexed by: the first three of its first name and of its last name.
fn indexed_words(details: &PatientDetails) -> Vec<String> {
    let mut words = Vec::new();
    for name in [&details.first_name, &details.last_name] {
        words.extend(fold(name).split(' ').filter(|word| !word.is_empty()).take(MAX_INDEXED_WORDS).map(str::to_owned));
    }
    words
}

/// The terms a record is found by: every beginning (2 to 8 letters) of each indexed word of its
/// first and last names. "Ann-Marie Smith" is found by "an", "ann", "ma", "mar", …, "smith".
pub fn search_terms(details: &PatientDetails) -> std::collections::BTreeSet<String> {
    let mut terms = std::collections::BTreeSet::new();
    for word in indexed_words(details) {
        let letters: Vec<char> = word.chars().collect();
        for length in MIN_SEARCH_TERM_CHARS..=letters.len().min(MAX_SEARCH_TERM_CHARS) {
            terms.insert(letters[..length].iter().collect());
        }
    }
    terms
}

/// The one term a search is looked up by: its longest folded word, cut to the longest term
/// indexed; `None` when no word has two letters.
pub fn lookup_term(search: &str) -> Option<String> {
    let folded = fold(search);
    let longest = folded.split(' ').max_by_key(|word| word.chars().count())?;
    (longest.chars().count() >= MIN_SEARCH_TERM_CHARS).then(|| longest.chars().take(MAX_SEARCH_TERM_CHARS).collect())
}

impl PatientRecord {
    /// Whether every word of the search begins a word of the name (any order, accents and case
    /// folded): "smi ann" finds Ann-Marie Smith.
    pub fn matches_words(&self, search: &str) -> bool {
        let name = fold(&format!("{} {}", self.details.first_name, self.details.last_name));
        let words: Vec<&str> = name.split(' ').collect();
        let search = fold(search);
        !search.is_empty() && search.split(' ').all(|typed| words.iter().any(|word| word.starts_with(typed)))
    }

    /// Whether this record is likely the same person: the same folded full name and birth date.
    pub fn same_person(&self, other: &PatientDetails) -> bool {
        self.details.date_of_birth == other.date_of_birth
            && fold(&self.details.first_name) == fold(&other.first_name)
            && fold(&self.details.last_name) == fold(&other.last_name)
    }
}

/// Sex, as recorded and as a rule may require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Another sex, or not said.
    Other,
}

/// What a patient record holds besides contact details, for access rules.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PatientProfile {
    /// Sex.
    pub sex: Option<Sex>,
    /// Postcode.
    pub postcode: Option<String>,
    /// The provider the patient is registered with.
    #[schema(value_type = Option<String>)]
    pub registered_provider_id: Option<ProviderId>,
    /// Named flags, e.g. `diabetic-review`.
    #[serde(default)]
    pub flags: Vec<String>,
    /// Postal address for letters, one line per line break.
    #[serde(default)]
    pub postal_address: Option<String>,
    /// The patient's GP, name and address, for letters to the GP.
    #[serde(default)]
    pub gp: Option<String>,
}

/// A profile as staff send it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientProfileInput {
    /// Sex.
    pub sex: Option<Sex>,
    /// Postcode, up to 10 characters.
    pub postcode: Option<String>,
    /// The provider the patient is registered with.
    pub registered_provider_id: Option<String>,
    /// Named flags: at most 10, each 1 to 60 characters.
    #[serde(default)]
    pub flags: Vec<String>,
    /// Postal address for letters: at most 6 lines, 300 characters.
    #[serde(default)]
    pub postal_address: Option<String>,
    /// The patient's GP, name and address: at most 6 lines, 300 characters.
    #[serde(default)]
    pub gp: Option<String>,
}

/// A multi-line postal address: trimmed lines, at most 6 and 300 characters, or none.
fn address(field: String, value: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    let lines: Vec<&str> = value?.lines().map(str::trim).filter(|line| !line.is_empty()).collect();
    let text = lines.join("\n");
    if text.is_empty() {
        return None;
    }
    if lines.len() > 6 || text.chars().count() > 300 || text.chars().any(|c| c.is_control() && c != '\n') {
        errors.push(FieldError::new(field, "must be at most 6 lines and 300 characters"));
        return None;
    }
    Some(text)
}

impl PatientProfile {
    /// Validates a profile, naming fields under `prefix`.
    pub fn parse(input: &PatientProfileInput, prefix: &str) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let postcode = input.postcode.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned);
        if postcode
            .as_ref()
            .is_some_and(|p| p.chars().count() > 10 || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == ' '))
        {
            errors.push(FieldError::new(format!("{prefix}postcode"), "must be up to 10 letters, digits and spaces"));
        }
        let registered = match input.registered_provider_id.as_deref().filter(|id| !id.is_empty()) {
            Some(raw) => {
                ProviderId::parse(&format!("{prefix}registered_provider_id"), raw).map_err(|e| errors.push(e)).ok()
            }
            None => None,
        };
        if input.flags.len() > 10 || input.flags.iter().any(|flag| flag.trim().is_empty() || flag.chars().count() > 60)
        {
            errors.push(FieldError::new(format!("{prefix}flags"), "must be at most 10 flags of 1 to 60 characters"));
        }
        let postal_address = address(format!("{prefix}postal_address"), input.postal_address.as_deref(), &mut errors);
        let gp = address(format!("{prefix}gp"), input.gp.as_deref(), &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            postal_address,
            gp,
            sex: input.sex,
            postcode,
            registered_provider_id: registered,
            flags: input.flags.iter().map(|flag| flag.trim().to_owned()).collect(),
        })
    }
}

/// Oldest age we accept as a plausible birth date.
pub const MAX_AGE_YEARS: i16 = 120;

/// Validated patient details.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientDetails {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Birth date.
    pub date_of_birth: Date,
    /// Mobile, E.164 (a patient gives a mobile, an email address, or both).
    #[serde(default)]
    pub mobile: Option<PhoneNumber>,
    /// Email.
    #[serde(default)]
    pub email: Option<EmailAddress>,
}

impl std::fmt::Debug for PatientDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PatientDetails(<redacted>)")
    }
}

/// Patient details as sent by the booking page or API (its `Debug` output is redacted).
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientInput {
    /// 1 to 80 characters.
    pub first_name: String,
    /// 1 to 80 characters.
    pub last_name: String,
    /// `YYYY-MM-DD`, in the past, at most 120 years ago.
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", format = Date)]
    pub date_of_birth: String,
    /// Mobile in international form, e.g. +447700900123 (a mobile, an email address, or both).
    #[serde(default)]
    pub mobile: String,
    /// Email address.
    #[serde(default)]
    pub email: String,
}

impl std::fmt::Debug for PatientInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PatientInput(<redacted>)")
    }
}

/// Checks a birth date is a real date, not in the future and at most 120 years ago.
pub fn birth_date(field: &str, value: &str, today: Date) -> Result<Date, FieldError> {
    let date: Date = value.trim().parse().map_err(|_| FieldError::new(field, "must be a date, YYYY-MM-DD"))?;
    if date > today {
        return Err(FieldError::new(field, "must not be in the future"));
    }
    let oldest = today.checked_sub(jiff::Span::new().years(MAX_AGE_YEARS)).unwrap_or(today);
    if date < oldest {
        return Err(FieldError::new(field, "must be within the last 120 years"));
    }
    Ok(date)
}

impl PatientDetails {
    /// Validates every field, naming each bad one (under `prefix`, e.g. `patient.`).
    /// Mobiles may be typed in the national form of `region`; they are stored in E.164.
    pub fn parse(input: &PatientInput, today: Date, region: Region, prefix: &str) -> Result<Self, Vec<FieldError>> {
        let field = |name: &str| format!("{prefix}{name}");
        let mut checker = Checker::default();
        let first_name = checker.check(required_text(&field("first_name"), &input.first_name, 80));
        let last_name = checker.check(required_text(&field("last_name"), &input.last_name, 80));
        let date_of_birth = checker.check(birth_date(&field("date_of_birth"), &input.date_of_birth, today));
        let (given_mobile, given_email) = (input.mobile.trim(), input.email.trim());
        if given_mobile.is_empty() && given_email.is_empty() {
            checker.check::<()>(Err(FieldError::new(field("mobile"), "give a mobile number or an email address")));
        }
        let mobile = (!given_mobile.is_empty())
            .then(|| checker.check(PhoneNumber::parse_in(&field("mobile"), given_mobile, Some(region))));
        let email = (!given_email.is_empty()).then(|| checker.check(EmailAddress::parse(&field("email"), given_email)));
        checker.finish()?;
        let (Some(first_name), Some(last_name), Some(date_of_birth)) = (first_name, last_name, date_of_birth) else {
            unreachable!("checker.finish() fails when a check failed")
        };
        Ok(Self { first_name, last_name, date_of_birth, mobile: mobile.flatten(), email: email.flatten() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_mobiles_are_stored_in_e164() {
        let today = "2026-11-22".parse().unwrap();
        let national = PatientInput { mobile: "07700 900456".into(), ..input() };
        let details = PatientDetails::parse(&national, today, Region::GB, "patient.").unwrap();
        assert_eq!(details.mobile.unwrap().as_str(), "+447700900456");
        let short = PatientInput { mobile: "07700 9004".into(), ..input() };
        let errors = PatientDetails::parse(&short, today, Region::GB, "patient.").unwrap_err();
        assert_eq!(errors[0].field, "patient.mobile");
    }

    fn input() -> PatientInput {
        PatientInput {
            first_name: "Pat".into(),
            last_name: "Example".into(),
            date_of_birth: "1980-05-17".into(),
            mobile: "+447700900123".into(),
            email: "pat@example.com".into(),
        }
    }

    #[test]
    fn good_details_parse_and_never_print() {
        let today: Date = "2026-11-22".parse().unwrap();
        let details = PatientDetails::parse(&input(), today, Region::GB, "patient.").unwrap();
        assert_eq!(format!("{details:?}"), "PatientDetails(<redacted>)");
    }

    fn record(first: &str, last: &str, born: &str) -> PatientRecord {
        let details = PatientDetails::parse(
            &PatientInput { first_name: first.into(), last_name: last.into(), date_of_birth: born.into(), ..input() },
            "2026-11-22".parse().unwrap(),
            Region::GB,
            "",
        )
        .unwrap();
        PatientRecord {
            reference: PatientReference::parse("r", "MRN-9").unwrap(),
            details,
            profile: Default::default(),
        }
    }

    #[test]
    fn names_fold_case_accents_and_spacing() {
        assert_eq!(fold("  Zoë   O’Brien-Élan "), "zoe o brien elan");
        assert_eq!(fold("ÅSA"), "asa");
        let zoe = record("Zoë", "O'Brien", "1980-05-17");
        assert!(zoe.same_person(&record("zoe", "o brien", "1980-05-17").details));
        assert!(!zoe.same_person(&record("Zoe", "O'Brien", "1980-05-18").details), "another birth date");
        assert!(!zoe.same_person(&record("Zoey", "O'Brien", "1980-05-17").details), "another name");
        assert!(zoe.matches_words("o'brien") && zoe.matches_words("ZOE") && zoe.matches_words("bri zo"));
        assert!(!zoe.matches_words("obrien"), "a missing space is a near miss, not a match");
        assert!(!zoe.matches_words("  "));
    }

    #[test]
    fn implausible_birth_dates_are_refused() {
        let today: Date = "2026-11-22".parse().unwrap();
        for bad in ["2026-11-23", "1900-01-01", "1980-02-30", "yesterday"] {
            assert!(birth_date("dob", bad, today).is_err(), "{bad}");
        }
        assert!(birth_date("dob", "2026-11-22", today).is_ok());
    }

    #[test]
    fn every_bad_field_is_named_with_its_prefix() {
        let today: Date = "2026-11-22".parse().unwrap();
        let errors = PatientDetails::parse(&PatientInput::default(), today, Region::GB, "patient.").unwrap_err();
        let fields: Vec<String> = errors.into_iter().map(|error| error.field).collect();
        // With neither contact detail, the mobile is asked for (either will do).
        assert_eq!(fields, ["patient.first_name", "patient.last_name", "patient.date_of_birth", "patient.mobile"]);
        let bad = PatientInput { mobile: "0770".into(), email: "not-an-address".into(), ..input() };
        let fields: Vec<String> = PatientDetails::parse(&bad, today, Region::GB, "patient.")
            .unwrap_err()
            .into_iter()
            .map(|error| error.field)
            .collect();
        assert_eq!(fields, ["patient.mobile", "patient.email"]);
    }

    #[test]
    fn one_contact_detail_is_enough() {
        let today: Date = "2026-11-22".parse().unwrap();
        let email_only = PatientInput { mobile: " ".into(), ..input() };
        let details = PatientDetails::parse(&email_only, today, Region::GB, "").unwrap();
        assert!(details.mobile.is_none() && details.email.is_some());
        let mobile_only = PatientInput { email: String::new(), ..input() };
        let details = PatientDetails::parse(&mobile_only, today, Region::GB, "").unwrap();
        assert!(details.mobile.is_some() && details.email.is_none());
    }

    fn ann_marie() -> PatientRecord {
        PatientRecord {
            reference: PatientReference::parse("reference", "MRN-1").unwrap(),
            details: PatientDetails {
                first_name: "Ann-Marie".into(),
                last_name: "Smíth".into(),
                date_of_birth: "1980-01-02".parse().unwrap(),
                mobile: None,
                email: None,
            },
            profile: PatientProfile::default(),
        }
    }

    #[test]
    fn a_record_is_indexed_by_the_beginnings_of_its_name_words_and_found_by_any_of_them() {
        let record = ann_marie();
        let terms = search_terms(&record.details);
        for term in ["an", "ann", "ma", "mari", "marie", "sm", "smith"] {
            assert!(terms.contains(term), "{term}");
        }
        assert!(!terms.contains("a") && !terms.contains("mith"), "{terms:?}");
        for search in ["smith", "SMI ann", "Marie", "ann-marie smith", "smi"] {
            assert!(record.matches_words(search), "{search}");
            let term = lookup_term(search).unwrap();
            assert!(terms.contains(&term), "{search} is looked up by {term}, which the record is indexed by");
        }
        for search in ["mith", "anna", "smith jones"] {
            assert!(!record.matches_words(search), "{search}");
        }
        assert_eq!(lookup_term("a b"), None);
        assert_eq!(lookup_term("Fitzgerald-Bartholomew").as_deref(), Some("bartholo"), "the longest word, cut");
        assert_eq!(lookup_term("Wolfeschlegelsteinhausen").as_deref(), Some("wolfesch"));
    }

    proptest::proptest! {
        #[test]
        fn whatever_a_search_matches_its_lookup_term_finds(
            first in "[A-Za-zÀ-ÿ' -]{1,30}", last in "[A-Za-zÀ-ÿ' -]{1,30}", cut in 1usize..20, pick in 0usize..6,
        ) {
            let record = PatientRecord {
                details: PatientDetails { first_name: first, last_name: last, ..ann_marie().details },
                ..ann_marie()
            };
            // Any of the first three words of either name, cut anywhere.
            let words = indexed_words(&record.details);
            proptest::prop_assume!(pick < words.len());
            let typed: String = words[pick].chars().take(cut).collect();
            proptest::prop_assert!(record.matches_words(&typed));
            if let Some(term) = lookup_term(&typed) {
                proptest::prop_assert!(search_terms(&record.details).contains(&term), "{} not indexed", term);
            }
            let terms = search_terms(&record.details).len();
            proptest::prop_assert!(terms <= 42, "{} terms: a rename would not fit one transaction", terms);
        }
    }
}
