//! Providers: the clinicians patients book with. Patients see the name and professional title.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::ids::uuid_id;
use super::validation::{Checker, FieldError, required_text};

uuid_id!(
    /// A provider's identifier.
    ProviderId,
    "provider"
);

/// A provider as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Provider {
    /// Identifier.
    #[schema(value_type = String)]
    pub id: ProviderId,
    /// Name shown to patients.
    pub name: String,
    /// Professional title shown to patients, e.g. "General Practitioner".
    pub professional_title: String,
    /// Whether patients may book with this provider online.
    pub enabled_online: bool,
    /// Qualifications (specialties) staff filter by, e.g. "Cardiology".
    #[serde(default)]
    pub qualifications: Vec<String>,
    /// A short introduction patients read (plain text, up to 500 characters).
    #[serde(default)]
    pub bio: Option<String>,
    /// The introduction in French.
    #[serde(default)]
    pub bio_fr: Option<String>,
    /// Languages the clinician speaks with patients, e.g. "English", "Français".
    #[serde(default)]
    pub languages: Vec<String>,
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

/// What patients see of an enabled provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublishedProvider {
    /// Identifier.
    #[schema(value_type = String)]
    pub id: ProviderId,
    /// Name.
    pub name: String,
    /// Professional title.
    pub title: String,
    /// Short introduction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
    /// Short introduction in French.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio_fr: Option<String>,
    /// Languages spoken.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
}

impl PublishedProvider {
    /// The introduction in the patient's language (English when no French one was given).
    pub fn bio_in(&self, french: bool) -> Option<&str> {
        french.then_some(self.bio_fr.as_deref()).flatten().or(self.bio.as_deref())
    }
}

/// A provider as an admin sends it (create: name and title; change: only those present).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderInput {
    /// 1 to 120 characters.
    pub name: Option<String>,
    /// 1 to 80 characters.
    pub professional_title: Option<String>,
    /// Offer online.
    pub enabled_online: Option<bool>,
    /// Qualifications: at most 10, each 1 to 60 characters (replaces the list).
    #[serde(default)]
    pub qualifications: Option<Vec<String>>,
    /// Short introduction (plain text, up to 500 characters); empty removes it.
    #[serde(default)]
    pub bio: Option<String>,
    /// The introduction in French; empty removes it.
    #[serde(default)]
    pub bio_fr: Option<String>,
    /// Languages spoken: at most 10, each 1 to 40 characters (replaces the list).
    #[serde(default)]
    pub languages: Option<Vec<String>>,
}

/// Checks a short plain-text introduction: trimmed, at most 500 characters, no control
/// characters but new lines; empty is none.
fn bio(field: &str, value: &str, checker: &mut Checker) -> Option<String> {
    checker.check(super::validation::optional_prose(field, Some(value), 500)).flatten()
}

/// Checks the languages a clinician speaks: at most 10, each 1 to 40 characters, repeats dropped.
fn languages(values: &[String], checker: &mut Checker) -> Vec<String> {
    if values.len() > 10 {
        checker.check::<()>(Err(FieldError::new("languages", "must list at most 10 languages")));
        return Vec::new();
    }
    let mut kept: Vec<String> = Vec::new();
    for (index, value) in values.iter().enumerate() {
        if let Some(language) = checker.check(required_text(&format!("languages[{index}]"), value, 40))
            && !kept.iter().any(|known| known.eq_ignore_ascii_case(&language))
        {
            kept.push(language);
        }
    }
    kept
}

/// Checks a list of qualifications: at most 10, each 1 to 60 characters, repeats dropped.
fn qualifications(values: &[String], checker: &mut Checker) -> Vec<String> {
    if values.len() > 10 {
        checker.check::<()>(Err(FieldError::new("qualifications", "must name at most 10")));
        return Vec::new();
    }
    let mut kept: Vec<String> = Vec::new();
    for (index, value) in values.iter().enumerate() {
        if let Some(value) = checker.check(required_text(&format!("qualifications[{index}]"), value, 60))
            && !kept.iter().any(|known| known.eq_ignore_ascii_case(&value))
        {
            kept.push(value);
        }
    }
    kept
}

impl Provider {
    /// Validates a new provider.
    pub fn create(id: ProviderId, input: &ProviderInput, now: Timestamp) -> Result<Self, Vec<FieldError>> {
        let mut checker = Checker::default();
        let name = checker.check(required_text("name", input.name.as_deref().unwrap_or(""), 120));
        let title =
            checker.check(required_text("professional_title", input.professional_title.as_deref().unwrap_or(""), 80));
        let qualifications = qualifications(input.qualifications.as_deref().unwrap_or_default(), &mut checker);
        let bio_en = input.bio.as_deref().and_then(|value| bio("bio", value, &mut checker));
        let bio_fr = input.bio_fr.as_deref().and_then(|value| bio("bio_fr", value, &mut checker));
        let languages = languages(input.languages.as_deref().unwrap_or_default(), &mut checker);
        checker.finish()?;
        Ok(Self {
            id,
            name: name.unwrap_or_default(),
            professional_title: title.unwrap_or_default(),
            enabled_online: input.enabled_online.unwrap_or(false),
            qualifications,
            bio: bio_en,
            bio_fr,
            languages,
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

    /// The provider after a change, or `None` when nothing changes.
    pub fn change(&self, input: &ProviderInput, now: Timestamp) -> Result<Option<Self>, Vec<FieldError>> {
        if *input == ProviderInput::default() {
            return Err(vec![FieldError::new("body", "must change at least one field")]);
        }
        let mut checker = Checker::default();
        let mut next = self.clone();
        if let Some(name) = &input.name {
            next.name = checker.check(required_text("name", name, 120)).unwrap_or_default();
        }
        if let Some(title) = &input.professional_title {
            next.professional_title = checker.check(required_text("professional_title", title, 80)).unwrap_or_default();
        }
        if let Some(enabled) = input.enabled_online {
            next.enabled_online = enabled;
        }
        if let Some(values) = &input.qualifications {
            next.qualifications = qualifications(values, &mut checker);
        }
        if let Some(value) = &input.bio {
            next.bio = bio("bio", value, &mut checker);
        }
        if let Some(value) = &input.bio_fr {
            next.bio_fr = bio("bio_fr", value, &mut checker);
        }
        if let Some(values) = &input.languages {
            next.languages = languages(values, &mut checker);
        }
        checker.finish()?;
        if next == *self {
            return Ok(None);
        }
        next.updated_at = now;
        Ok(Some(next))
    }

    /// What patients may see, when offered online.
    pub fn published(&self) -> Option<PublishedProvider> {
        self.enabled_online.then(|| self.public_view())
    }

    /// What patients see of it, whether or not it is offered on the public booking pages (the
    /// portal offers what an online service links, seed 001).
    pub fn public_view(&self) -> PublishedProvider {
        PublishedProvider {
            id: self.id.clone(),
            name: self.name.clone(),
            title: self.professional_title.clone(),
            bio: self.bio.clone(),
            bio_fr: self.bio_fr.clone(),
            languages: self.languages.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_needs_a_name_and_a_title() {
        let errors =
            Provider::create(ProviderId::random(), &ProviderInput::default(), Timestamp::UNIX_EPOCH).unwrap_err();
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn a_change_that_alters_nothing_is_none() {
        let input = ProviderInput {
            name: Some("Dr A".into()),
            professional_title: Some("GP".into()),
            enabled_online: Some(true),
            qualifications: Some(vec!["Cardiology".into(), "cardiology".into()]),
            ..ProviderInput::default()
        };
        let provider = Provider::create(ProviderId::random(), &input, Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(provider.qualifications, ["Cardiology"], "repeats are dropped");
        assert_eq!(provider.change(&input, Timestamp::UNIX_EPOCH).unwrap(), None);
        let too_many = ProviderInput { qualifications: Some(vec!["x".into(); 11]), ..ProviderInput::default() };
        assert_eq!(provider.change(&too_many, Timestamp::UNIX_EPOCH).unwrap_err()[0].field, "qualifications");
        assert!(provider.change(&ProviderInput::default(), Timestamp::UNIX_EPOCH).is_err());
    }

    #[test]
    fn bios_and_languages_are_plain_bounded_text() {
        let input = ProviderInput {
            name: Some("Dr A".into()),
            professional_title: Some("GP".into()),
            bio: Some("  Family medicine <b>since</b> 2010.\nMinor surgery. ".into()),
            bio_fr: Some(" ".into()),
            languages: Some(vec!["English".into(), "Français".into(), "english".into()]),
            ..ProviderInput::default()
        };
        let provider = Provider::create(ProviderId::random(), &input, Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(provider.bio.as_deref(), Some("Family medicine <b>since</b> 2010.\nMinor surgery."));
        assert_eq!(provider.bio_fr, None);
        assert_eq!(provider.languages, ["English", "Français"]);
        let published = provider.published();
        assert_eq!(published, None, "not offered online");
        let long = ProviderInput { bio: Some("x".repeat(501)), ..ProviderInput::default() };
        assert_eq!(provider.change(&long, Timestamp::UNIX_EPOCH).unwrap_err()[0].field, "bio");
        let bell = ProviderInput { bio_fr: Some("a\u{7}".into()), ..ProviderInput::default() };
        assert_eq!(provider.change(&bell, Timestamp::UNIX_EPOCH).unwrap_err()[0].field, "bio_fr");
    }
}
