//! Online services (seed 001): what the patient portal offers. A service links booking types
//! to the portal, for the providers it includes (default: every provider whose diary offers
//! them) minus those it excludes, to the patients its access rules admit.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::booking_type::BookingTypeId;
use super::eligibility::AccessRule;
use super::ids::uuid_id;
use super::provider::ProviderId;
use super::validation::{Checker, FieldError, optional_prose, required_text};

uuid_id!(
    /// An online service's identifier.
    ServiceId,
    "online service"
);

/// An online service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OnlineService {
    /// Identifier.
    #[schema(value_type = String)]
    pub id: ServiceId,
    /// The name patients see.
    pub name: String,
    /// The name in French (patients reading French; English when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_fr: Option<String>,
    /// What the service is and whom it is for, shown with it in the portal (plain text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The description in French.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_fr: Option<String>,
    /// The booking types it offers.
    #[schema(value_type = Vec<String>)]
    pub booking_type_ids: Vec<BookingTypeId>,
    /// Only these providers (empty: every provider whose diary offers the booking types).
    #[schema(value_type = Vec<String>)]
    pub include_provider_ids: Vec<ProviderId>,
    /// Never these providers.
    #[schema(value_type = Vec<String>)]
    pub exclude_provider_ids: Vec<ProviderId>,
    /// Access rules, combined with AND (none: anyone).
    pub rules: Vec<AccessRule>,
}

/// A service as an admin sends it.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OnlineServiceInput {
    /// 1 to 120 characters.
    pub name: String,
    /// The name in French, up to 120 characters.
    #[serde(default)]
    pub name_fr: Option<String>,
    /// What the service is and whom it is for, up to 500 characters of plain text.
    #[serde(default)]
    pub description: Option<String>,
    /// The description in French, up to 500 characters.
    #[serde(default)]
    pub description_fr: Option<String>,
    /// 1 to 20 booking types.
    pub booking_type_ids: Vec<String>,
    /// Only these providers.
    #[serde(default)]
    pub include_provider_ids: Vec<String>,
    /// Never these providers.
    #[serde(default)]
    pub exclude_provider_ids: Vec<String>,
    /// Access rules (at most 10).
    #[serde(default)]
    pub rules: Vec<AccessRule>,
}

fn ids<T: Ord + Clone>(
    field: &str,
    raw: &[String],
    parse: impl Fn(&str, &str) -> Result<T, FieldError>,
    checker: &mut Checker,
) -> Vec<T> {
    let mut seen = BTreeSet::new();
    raw.iter()
        .enumerate()
        .filter_map(|(index, value)| checker.check(parse(&format!("{field}[{index}]"), value)))
        .filter(|id| seen.insert(id.clone()))
        .collect()
}

impl OnlineService {
    /// Validates a service, naming every bad field.
    pub fn parse(id: ServiceId, input: &OnlineServiceInput) -> Result<Self, Vec<FieldError>> {
        let mut checker = Checker::default();
        let name = checker.check(required_text("name", &input.name, 120));
        let name_fr = checker.check(optional_prose("name_fr", input.name_fr.as_deref(), 120)).flatten();
        let description = checker.check(optional_prose("description", input.description.as_deref(), 500)).flatten();
        let description_fr =
            checker.check(optional_prose("description_fr", input.description_fr.as_deref(), 500)).flatten();
        if input.booking_type_ids.is_empty() || input.booking_type_ids.len() > 20 {
            checker.check::<()>(Err(FieldError::new("booking_type_ids", "must name 1 to 20 booking types")));
        }
        let booking_type_ids = ids("booking_type_ids", &input.booking_type_ids, BookingTypeId::parse, &mut checker);
        let include = ids("include_provider_ids", &input.include_provider_ids, ProviderId::parse, &mut checker);
        let exclude = ids("exclude_provider_ids", &input.exclude_provider_ids, ProviderId::parse, &mut checker);
        if input.rules.len() > 10 {
            checker.check::<()>(Err(FieldError::new("rules", "must hold at most 10 rules")));
        }
        for (index, rule) in input.rules.iter().enumerate() {
            checker.check(rule.check(&format!("rules[{index}]")));
        }
        let contradictory = input.rules.contains(&AccessRule::ExistingPatientsOnly)
            && input.rules.contains(&AccessRule::NewPatientsOnly);
        if contradictory {
            checker.check::<()>(Err(FieldError::new("rules", "cannot be for existing and new patients only at once")));
        }
        checker.finish()?;
        Ok(Self {
            id,
            name: name.unwrap_or_default(),
            name_fr,
            description,
            description_fr,
            booking_type_ids,
            include_provider_ids: include,
            exclude_provider_ids: exclude,
            rules: input.rules.clone(),
        })
    }

    /// The name in the patient's language.
    pub fn name_in(&self, french: bool) -> &str {
        french.then_some(self.name_fr.as_deref()).flatten().unwrap_or(&self.name)
    }

    /// The description in the patient's language, if any.
    pub fn description_in(&self, french: bool) -> Option<&str> {
        french.then_some(self.description_fr.as_deref()).flatten().or(self.description.as_deref())
    }

    /// Whether the service offers `provider`.
    pub fn offers_provider(&self, provider: &ProviderId) -> bool {
        (self.include_provider_ids.is_empty() || self.include_provider_ids.contains(provider))
            && !self.exclude_provider_ids.contains(provider)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_names_bad_fields_and_includes_minus_excludes() {
        let bad = OnlineServiceInput {
            name: String::new(),
            booking_type_ids: vec![],
            include_provider_ids: vec!["x".into()],
            rules: vec![
                AccessRule::ExistingPatientsOnly,
                AccessRule::NewPatientsOnly,
                AccessRule::Sex { allowed: vec![] },
            ],
            ..OnlineServiceInput::default()
        };
        let fields: Vec<String> =
            OnlineService::parse(ServiceId::random(), &bad).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "booking_type_ids", "include_provider_ids[0]", "rules[2]", "rules"]);
        let (a, b) = (ProviderId::random(), ProviderId::random());
        let everyone = OnlineServiceInput {
            name: "Flu jab".into(),
            booking_type_ids: vec![BookingTypeId::random().to_string()],
            exclude_provider_ids: vec![b.to_string()],
            ..OnlineServiceInput::default()
        };
        let service = OnlineService::parse(ServiceId::random(), &everyone).unwrap();
        assert!(service.offers_provider(&a) && !service.offers_provider(&b));
        let only_b =
            OnlineServiceInput { include_provider_ids: vec![b.to_string()], exclude_provider_ids: vec![], ..everyone };
        let service = OnlineService::parse(ServiceId::random(), &only_b).unwrap();
        assert!(!service.offers_provider(&a) && service.offers_provider(&b));
    }
}
