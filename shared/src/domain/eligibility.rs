//! Who may book an online service (seed 001): access rules combined with AND, and how a visitor
//! is identified as one of the clinic's patients. Pure.
//!
//! Identification rule: a patient record matches when the folded first name, the folded last
//! name (case, accents, spaces, dashes and apostrophes ignored) and the date of birth are the
//! same, and at least one contact is the same (the mobile in E.164, or the email ignoring
//! case). Exactly one matching record identifies the visitor; none, or more than one, does not.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::contact::{EmailAddress, PhoneNumber};
use super::patient::{PatientRecord, Sex, fold};
use super::provider::ProviderId;
use super::validation::FieldError;

/// Upper case without spaces, so `sw1a 1aa` and `SW1A1AA` compare equal.
pub fn normalise_postcode(value: &str) -> String {
    value.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_uppercase).collect()
}

/// One access rule of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AccessRule {
    /// Only identified patients of the clinic.
    ExistingPatientsOnly,
    /// Only visitors who are not identified as patients.
    NewPatientsOnly,
    /// Age in whole years on the day of asking, inclusive.
    AgeRange {
        /// Youngest, if any.
        #[schema(minimum = 0, maximum = 120)]
        min_years: Option<u8>,
        /// Oldest, if any.
        #[schema(minimum = 0, maximum = 120)]
        max_years: Option<u8>,
    },
    /// One of these sexes.
    Sex {
        /// Allowed.
        allowed: Vec<Sex>,
    },
    /// Registered with one of these providers (identified patients only).
    RegisteredWith {
        /// Providers.
        #[schema(value_type = Vec<String>)]
        provider_ids: Vec<ProviderId>,
    },
    /// A postcode starting with one of these prefixes.
    PostcodePrefix {
        /// Prefixes, compared without spaces or case.
        prefixes: Vec<String>,
    },
    /// A named flag on the patient record (identified patients only).
    Flag {
        /// The flag.
        name: String,
    },
}

impl AccessRule {
    /// Checks a rule's own values, naming the field under `field`.
    pub fn check(&self, field: &str) -> Result<(), FieldError> {
        let refuse = |message: &str| Err(FieldError::new(field, message));
        match self {
            Self::AgeRange { min_years: None, max_years: None } => refuse("an age range needs a minimum or a maximum"),
            Self::AgeRange { min_years: Some(min), max_years: Some(max) } if min > max => {
                refuse("the minimum age is above the maximum")
            }
            Self::AgeRange { min_years, max_years } if (*min_years).max(*max_years) > Some(120) => {
                refuse("ages are 0 to 120 years")
            }
            Self::Sex { allowed } if allowed.is_empty() => refuse("must allow at least one sex"),
            Self::RegisteredWith { provider_ids } if provider_ids.is_empty() || provider_ids.len() > 50 => {
                refuse("must name 1 to 50 providers")
            }
            Self::PostcodePrefix { prefixes }
                if prefixes.is_empty()
                    || prefixes.iter().any(|p| normalise_postcode(p).is_empty() || p.chars().count() > 10) =>
            {
                refuse("must name 1 or more prefixes of 1 to 10 characters")
            }
            Self::Flag { name } if name.trim().is_empty() || name.chars().count() > 60 => {
                refuse("must name a flag of 1 to 60 characters")
            }
            _ => Ok(()),
        }
    }

    /// Whether the rule can only be passed by an identified patient.
    pub fn needs_known_patient(&self) -> bool {
        matches!(self, Self::ExistingPatientsOnly | Self::RegisteredWith { .. } | Self::Flag { .. })
    }
}

/// Whether any rule can only be passed by an identified patient.
pub fn requires_known_patient(rules: &[AccessRule]) -> bool {
    rules.iter().any(AccessRule::needs_known_patient)
}

/// Who is asking: the identified record, if any, and what the visitor said.
#[derive(Debug, Clone, Copy)]
pub struct Applicant<'a> {
    /// The patient record the visitor was identified as.
    pub record: Option<&'a PatientRecord>,
    /// The birth date given.
    pub date_of_birth: Date,
    /// The sex given (the record's, when identified and recorded, wins).
    pub sex: Option<Sex>,
    /// The postcode given (the record's, when identified and recorded, wins).
    pub postcode: Option<&'a str>,
}

fn age_on(born: Date, today: Date) -> i16 {
    let mut years = today.year() - born.year();
    if (today.month(), today.day()) < (born.month(), born.day()) {
        years -= 1;
    }
    years
}

/// Whether `applicant` passes every rule on `today`. No rule: anyone.
///
/// A visitor who is not identified as a patient may continue only with services that set no
/// rule (seed 001), apart from "new patients only", which is meant for them.
pub fn admits(rules: &[AccessRule], applicant: &Applicant<'_>, today: Date) -> bool {
    if applicant.record.is_none() && rules.iter().any(|rule| *rule != AccessRule::NewPatientsOnly) {
        return false;
    }
    let profile = applicant.record.map(|record| &record.profile);
    let sex = profile.and_then(|p| p.sex).or(applicant.sex);
    let postcode = profile.and_then(|p| p.postcode.as_deref()).or(applicant.postcode);
    let born = applicant.record.map_or(applicant.date_of_birth, |record| record.details.date_of_birth);
    rules.iter().all(|rule| match rule {
        AccessRule::ExistingPatientsOnly => applicant.record.is_some(),
        AccessRule::NewPatientsOnly => applicant.record.is_none(),
        AccessRule::AgeRange { min_years, max_years } => {
            let age = age_on(born, today);
            min_years.is_none_or(|min| age >= i16::from(min)) && max_years.is_none_or(|max| age <= i16::from(max))
        }
        AccessRule::Sex { allowed } => sex.is_some_and(|sex| allowed.contains(&sex)),
        AccessRule::RegisteredWith { provider_ids } => profile
            .and_then(|p| p.registered_provider_id.as_ref())
            .is_some_and(|provider| provider_ids.contains(provider)),
        AccessRule::PostcodePrefix { prefixes } => postcode.is_some_and(|postcode| {
            let postcode = normalise_postcode(postcode);
            prefixes.iter().any(|prefix| postcode.starts_with(&normalise_postcode(prefix)))
        }),
        AccessRule::Flag { name } => profile.is_some_and(|p| p.flags.iter().any(|flag| fold(flag) == fold(name))),
    })
}

/// What a visitor gives to be identified.
#[derive(Clone)]
pub struct Identification {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Birth date.
    pub date_of_birth: Date,
    /// Mobile, if given.
    pub mobile: Option<PhoneNumber>,
    /// Email, if given.
    pub email: Option<EmailAddress>,
}

impl std::fmt::Debug for Identification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Identification(<redacted>)")
    }
}

fn same_person(record: &PatientRecord, who: &Identification) -> bool {
    let details = &record.details;
    let contact = who.mobile.as_ref().is_some_and(|mobile| details.mobile.as_ref() == Some(mobile))
        || who.email.as_ref().is_some_and(|email| {
            details.email.as_ref().is_some_and(|known| email.as_str().eq_ignore_ascii_case(known.as_str()))
        });
    details.date_of_birth == who.date_of_birth
        && fold(&details.first_name) == fold(&who.first_name)
        && fold(&details.last_name) == fold(&who.last_name)
        && contact
}

/// The one record `who` identifies, or `None` when no record, or more than one, matches.
pub fn identify<'a>(records: &'a [PatientRecord], who: &Identification) -> Option<&'a PatientRecord> {
    let mut matching = records.iter().filter(|record| same_person(record, who));
    let first = matching.next()?;
    matching.next().is_none().then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::patient::{PatientDetails, PatientProfile, PatientReference};

    fn record(reference: &str, first: &str, last: &str, born: &str, mobile: &str, email: &str) -> PatientRecord {
        PatientRecord {
            reference: PatientReference::parse("r", reference).unwrap(),
            details: PatientDetails {
                first_name: first.into(),
                last_name: last.into(),
                date_of_birth: born.parse().unwrap(),
                mobile: Some(PhoneNumber::parse("m", mobile).unwrap()),
                email: Some(EmailAddress::parse("e", email).unwrap()),
            },
            profile: PatientProfile::default(),
        }
    }

    fn who(first: &str, last: &str, born: &str, mobile: Option<&str>, email: Option<&str>) -> Identification {
        Identification {
            first_name: first.into(),
            last_name: last.into(),
            date_of_birth: born.parse().unwrap(),
            mobile: mobile.map(|m| PhoneNumber::parse("m", m).unwrap()),
            email: email.map(|e| EmailAddress::parse("e", e).unwrap()),
        }
    }

    #[test]
    fn identification_matches_exactly_one_record_and_refuses_near_misses() {
        let records = vec![
            record("MRN-1", "Zoë", "O'Brien", "1980-05-17", "+447700900123", "zoe@example.com"),
            record("MRN-2", "Sam", "Example", "1990-01-01", "+447700900200", "sam@example.com"),
            record("MRN-3", "Sam", "Example", "1990-01-01", "+447700900200", "sam.twin@example.com"),
        ];
        let cases: [(&str, Identification, Option<&str>); 10] = [
            ("exact with mobile", who("Zoë", "O'Brien", "1980-05-17", Some("+447700900123"), None), Some("MRN-1")),
            (
                "case, accents and spacing",
                who(" ZOE ", "o brien", "1980-05-17", Some("+44 7700 900123"), None),
                Some("MRN-1"),
            ),
            ("a name run together", who("Zoe", "OBrien", "1980-05-17", None, Some("zoe@example.com")), None),
            ("email matches", who("Zoe", "O-Brien", "1980-05-17", None, Some("ZOE@EXAMPLE.COM")), Some("MRN-1")),
            ("another birth date", who("Zoë", "O'Brien", "1980-05-18", Some("+447700900123"), None), None),
            ("another first name", who("Zoey", "O'Brien", "1980-05-17", Some("+447700900123"), None), None),
            ("another mobile and no email", who("Zoë", "O'Brien", "1980-05-17", Some("+447700900999"), None), None),
            ("no contact at all", who("Zoë", "O'Brien", "1980-05-17", None, None), None),
            (
                "two records share name, birth date and mobile",
                who("Sam", "Example", "1990-01-01", Some("+447700900200"), None),
                None,
            ),
            (
                "the email tells the twins apart",
                who("Sam", "Example", "1990-01-01", None, Some("sam.twin@example.com")),
                Some("MRN-3"),
            ),
        ];
        for (case, identification, expected) in cases {
            assert_eq!(identify(&records, &identification).map(|r| r.reference.as_str()), expected, "{case}");
        }
    }

    fn applicant<'a>(
        record: Option<&'a PatientRecord>,
        born: &str,
        sex: Option<Sex>,
        postcode: Option<&'a str>,
    ) -> Applicant<'a> {
        Applicant { record, date_of_birth: born.parse().unwrap(), sex, postcode }
    }

    #[test]
    fn each_access_rule_admits_and_refuses_as_written() {
        let today: Date = "2026-11-22".parse().unwrap();
        let doctor = ProviderId::random();
        let mut known = record("MRN-1", "Zoë", "O'Brien", "1980-11-22", "+447700900123", "zoe@example.com");
        known.profile = PatientProfile {
            sex: Some(Sex::Female),
            postcode: Some("sw1a 1aa".into()),
            registered_provider_id: Some(doctor.clone()),
            flags: vec!["Diabetic review".into()],
            ..PatientProfile::default()
        };
        let stranger = applicant(None, "1980-11-23", Some(Sex::Male), Some("M1 1AE"));
        let patient = applicant(Some(&known), "1999-01-01", Some(Sex::Male), Some("M1 1AE"));
        let rules: Vec<(AccessRule, bool, bool)> = vec![
            (AccessRule::ExistingPatientsOnly, false, true),
            (AccessRule::NewPatientsOnly, true, false),
            // The patient turns 46 today (the record's birth date wins). The stranger is 45, but a
            // visitor not identified as a patient continues only where no rule is set (seed 001).
            (AccessRule::AgeRange { min_years: Some(46), max_years: None }, false, true),
            (AccessRule::AgeRange { min_years: None, max_years: Some(45) }, false, false),
            (AccessRule::Sex { allowed: vec![Sex::Female] }, false, true),
            (AccessRule::RegisteredWith { provider_ids: vec![doctor.clone()] }, false, true),
            (AccessRule::RegisteredWith { provider_ids: vec![ProviderId::random()] }, false, false),
            (AccessRule::PostcodePrefix { prefixes: vec!["SW1".into()] }, false, true),
            (AccessRule::PostcodePrefix { prefixes: vec!["m1".into()] }, false, false),
            (AccessRule::Flag { name: "diabetic REVIEW".into() }, false, true),
            (AccessRule::Flag { name: "asthma".into() }, false, false),
        ];
        for (rule, stranger_passes, patient_passes) in rules {
            assert_eq!(admits(std::slice::from_ref(&rule), &stranger, today), stranger_passes, "stranger, {rule:?}");
            assert_eq!(admits(std::slice::from_ref(&rule), &patient, today), patient_passes, "patient, {rule:?}");
        }
        assert!(admits(&[], &stranger, today), "no rule admits anyone");
        let for_new = [AccessRule::NewPatientsOnly, AccessRule::AgeRange { min_years: None, max_years: Some(45) }];
        assert!(!admits(&for_new, &stranger, today), "an unidentified visitor meets only 'new patients only'");
        let both = [AccessRule::ExistingPatientsOnly, AccessRule::Sex { allowed: vec![Sex::Male] }];
        assert!(!admits(&both, &patient, today), "rules combine with AND");
        assert!(requires_known_patient(&both) && !requires_known_patient(&[AccessRule::NewPatientsOnly]));
    }

    #[test]
    fn rules_with_impossible_values_are_refused() {
        for rule in [
            AccessRule::AgeRange { min_years: None, max_years: None },
            AccessRule::AgeRange { min_years: Some(30), max_years: Some(20) },
            AccessRule::Sex { allowed: vec![] },
            AccessRule::RegisteredWith { provider_ids: vec![] },
            AccessRule::PostcodePrefix { prefixes: vec!["  ".into()] },
            AccessRule::Flag { name: String::new() },
        ] {
            assert_eq!(rule.check("rules[0]").unwrap_err().field, "rules[0]", "{rule:?}");
        }
        assert!(AccessRule::AgeRange { min_years: Some(18), max_years: None }.check("r").is_ok());
    }
}
