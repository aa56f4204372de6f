//! A clinic's online booking settings, and the switch that turns online booking on or off.

use serde::{Deserialize, Serialize};

use super::validation::{Checker, FieldError, required_text};

/// The settings as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OnlineSettings {
    /// Online booking for the whole clinic: off removes every public datum at once.
    pub online_booking_enabled: bool,
    /// Hide "any provider".
    pub disable_any_provider: bool,
    /// Hide "any location".
    pub disable_any_location: bool,
    /// Hide the referral upload.
    pub disable_referrals: bool,
    /// Offer "as soon as possible".
    pub enable_asap: bool,
    /// Text patients read before they give any detail; none: no advisory.
    pub advisory: Option<String>,
    /// The advisory in French (patients reading French see it; English otherwise).
    #[serde(default)]
    pub advisory_fr: Option<String>,
    /// Message shown after booking.
    pub outcome_message: String,
    /// The outcome message in French.
    #[serde(default)]
    pub outcome_message_fr: Option<String>,
    /// Where "Done" on the outcome page goes.
    pub redirect_url: Option<String>,
    /// Least time between now and a bookable slot, in minutes.
    pub minimum_notice_minutes: u32,
    /// How many days ahead patients may book.
    pub horizon_days: u32,
}

impl Default for OnlineSettings {
    fn default() -> Self {
        Self {
            online_booking_enabled: false,
            disable_any_provider: false,
            disable_any_location: false,
            // Seed 000: referrals are accepted unless disabled; ASAP is off unless enabled.
            disable_referrals: false,
            enable_asap: false,
            advisory: None,
            advisory_fr: None,
            outcome_message: "Thank you. Your appointment is booked.".into(),
            outcome_message_fr: None,
            redirect_url: None,
            minimum_notice_minutes: 60,
            horizon_days: 60,
        }
    }
}

/// A change to the settings: only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OnlineSettingsInput {
    /// Turn online booking on or off.
    pub online_booking_enabled: Option<bool>,
    /// Hide "any provider".
    pub disable_any_provider: Option<bool>,
    /// Hide "any location".
    pub disable_any_location: Option<bool>,
    /// Hide the referral upload.
    pub disable_referrals: Option<bool>,
    /// Offer ASAP.
    pub enable_asap: Option<bool>,
    /// Advisory text (1 to 2,000 characters), or empty to turn the advisory off.
    pub advisory: Option<String>,
    /// The advisory in French (1 to 2,000 characters), or empty for none.
    pub advisory_fr: Option<String>,
    /// 1 to 500 characters.
    pub outcome_message: Option<String>,
    /// The outcome message in French (1 to 500 characters), or empty for none.
    pub outcome_message_fr: Option<String>,
    /// An `https://` (or `http://`) URL, or empty for none.
    pub redirect_url: Option<String>,
    /// 0 to 10,080 (a week).
    #[schema(minimum = 0, maximum = 10080)]
    pub minimum_notice_minutes: Option<u32>,
    /// 1 to 365.
    #[schema(minimum = 1, maximum = 365)]
    pub horizon_days: Option<u32>,
}

/// Checks a URL we send patients to: absolute http(s), no spaces or quotes, at most 500 chars.
pub fn web_url(field: &str, value: &str) -> Result<Option<String>, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let rest = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://"));
    let host_ok = rest.is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
    });
    let chars_ok =
        value.chars().all(|c| !c.is_whitespace() && !c.is_control() && !matches!(c, '"' | '<' | '>' | '\\' | '`'));
    if host_ok && chars_ok && value.len() <= 500 {
        Ok(Some(value.to_owned()))
    } else {
        Err(FieldError::new(field, "must be a web address starting with https://"))
    }
}

impl OnlineSettings {
    /// The advisory in a language (`fr` falls back to English when the clinic gave none).
    pub fn advisory_in(&self, french: bool) -> Option<&str> {
        french.then_some(self.advisory_fr.as_deref()).flatten().or(self.advisory.as_deref())
    }

    /// The outcome message in a language.
    pub fn outcome_message_in(&self, french: bool) -> &str {
        french.then_some(self.outcome_message_fr.as_deref()).flatten().unwrap_or(&self.outcome_message)
    }

    /// The settings after a change.
    pub fn apply(&self, input: &OnlineSettingsInput) -> Result<Self, Vec<FieldError>> {
        if *input == OnlineSettingsInput::default() {
            return Err(vec![FieldError::new("body", "must change at least one field")]);
        }
        let mut checker = Checker::default();
        let mut next = self.clone();
        let flags = [
            (input.online_booking_enabled, &mut next.online_booking_enabled),
            (input.disable_any_provider, &mut next.disable_any_provider),
            (input.disable_any_location, &mut next.disable_any_location),
            (input.disable_referrals, &mut next.disable_referrals),
            (input.enable_asap, &mut next.enable_asap),
        ];
        for (value, target) in flags {
            if let Some(value) = value {
                *target = value;
            }
        }
        if let Some(advisory) = &input.advisory {
            next.advisory = if advisory.trim().is_empty() {
                None
            } else {
                checker.check(required_text("advisory", advisory, 2000))
            };
        }
        if let Some(advisory) = &input.advisory_fr {
            next.advisory_fr = if advisory.trim().is_empty() {
                None
            } else {
                checker.check(required_text("advisory_fr", advisory, 2000))
            };
        }
        if let Some(message) = &input.outcome_message_fr {
            next.outcome_message_fr = if message.trim().is_empty() {
                None
            } else {
                checker.check(required_text("outcome_message_fr", message, 500))
            };
        }
        if let Some(message) = &input.outcome_message {
            next.outcome_message = checker.check(required_text("outcome_message", message, 500)).unwrap_or_default();
        }
        if let Some(url) = &input.redirect_url {
            next.redirect_url = checker.check(web_url("redirect_url", url)).flatten();
        }
        if let Some(minutes) = input.minimum_notice_minutes {
            if minutes > 10_080 {
                checker.check::<()>(Err(FieldError::new("minimum_notice_minutes", "must be 0 to 10080 (a week)")));
            }
            next.minimum_notice_minutes = minutes;
        }
        if let Some(days) = input.horizon_days {
            if !(1..=365).contains(&days) {
                checker.check::<()>(Err(FieldError::new("horizon_days", "must be 1 to 365")));
            }
            next.horizon_days = days;
        }
        let each_valid = next.minimum_notice_minutes <= 10_080 && (1..=365).contains(&next.horizon_days);
        if each_valid && i64::from(next.minimum_notice_minutes) >= i64::from(next.horizon_days) * 24 * 60 {
            checker.check::<()>(Err(FieldError::new(
                "minimum_notice_minutes",
                "must be shorter than the booking horizon",
            )));
        }
        checker.finish()?;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_absolute_web_addresses() {
        assert_eq!(
            web_url("u", "https://clinic.example.com/thanks").unwrap().as_deref(),
            Some("https://clinic.example.com/thanks")
        );
        assert_eq!(web_url("u", "").unwrap(), None);
        for bad in [
            "javascript:alert(1)",
            "clinic.example.com",
            "https://",
            "https://a b",
            "https://x\"onmouseover=1",
            "data:text/html,hi",
        ] {
            assert!(web_url("u", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_change_field_by_field_and_name_bad_ones() {
        let settings = OnlineSettings::default();
        let input = OnlineSettingsInput {
            enable_asap: Some(true),
            advisory: Some("Bring your letter.".into()),
            ..Default::default()
        };
        let changed = settings.apply(&input).unwrap();
        assert!(changed.enable_asap);
        assert_eq!(changed.advisory.as_deref(), Some("Bring your letter."));
        assert_eq!(
            changed.apply(&OnlineSettingsInput { advisory: Some(" ".into()), ..Default::default() }).unwrap().advisory,
            None
        );
        let bad =
            OnlineSettingsInput { horizon_days: Some(0), minimum_notice_minutes: Some(99_999), ..Default::default() };
        let fields: Vec<String> = settings.apply(&bad).unwrap_err().into_iter().map(|error| error.field).collect();
        assert_eq!(fields, ["minimum_notice_minutes", "horizon_days"]);
        let notice_past_horizon = OnlineSettingsInput {
            horizon_days: Some(2),
            minimum_notice_minutes: Some(2 * 24 * 60),
            ..Default::default()
        };
        assert_eq!(settings.apply(&notice_past_horizon).unwrap_err()[0].field, "minimum_notice_minutes");
    }
}
