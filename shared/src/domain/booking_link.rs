//! Booking links: broadcast rules (what a link may book and what its pages say), the links staff
//! send, their secret tokens and their status history. Pure: tokens are built from bytes the
//! caller draws, and every rule takes the time it is given.

use std::collections::{BTreeSet, HashSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::appointment::AppointmentId;
use super::booking_type::BookingTypeId;
use super::contact::PhoneNumber;
use super::ids::uuid_id;
use super::location::LocationId;
use super::message_template::{Piece, pieces};
use super::patient::{PatientDetails, PatientReference};
use super::provider::ProviderId;
use super::validation::{Checker, FieldError, required_text};

uuid_id!(
    /// A broadcast rule's identifier.
    BroadcastRuleId,
    "broadcast rule"
);

uuid_id!(
    /// A booking link's identifier (not its secret).
    BookingLinkId,
    "booking link"
);

/// Bytes of randomness in a link token: 256 bits.
pub const TOKEN_BYTES: usize = 32;

/// A link's secret, shown once (in the SMS and to the staff member who sent it). Only its
/// [`TokenHash`] is stored. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkToken(String);

impl LinkToken {
    /// A token from freshly drawn random bytes (the caller draws them from the OS generator).
    pub fn from_random_bytes(bytes: [u8; TOKEN_BYTES]) -> Self {
        Self(hex::encode(bytes))
    }

    /// Reads a token from a URL: exactly 64 lowercase hex characters, or nothing.
    pub fn parse(value: &str) -> Option<Self> {
        let well_formed =
            value.len() == TOKEN_BYTES * 2 && value.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        well_formed.then(|| Self(value.to_owned()))
    }

    /// The token as it appears in the URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the store keeps instead of the token.
    pub fn hash(&self) -> TokenHash {
        TokenHash(hex::encode(Sha256::digest(self.0.as_bytes())))
    }
}

impl std::fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkToken(<secret>)")
    }
}

/// The SHA-256 of a token: how the store finds a link without holding its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenHash(String);

impl TokenHash {
    /// The hash as hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a token opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenPurpose {
    /// The single-use booking link.
    Book,
    /// The manage link sent with the confirmation.
    Manage,
}

/// The placeholders an SMS template may use.
pub const SMS_PLACEHOLDERS: [&str; 3] = ["first_name", "clinic", "link"];

/// Longest SMS template, in characters (the rendered text stays well under 1,600).
const MAX_SMS_TEMPLATE_CHARS: usize = 480;

/// The text of the SMS that carries a link, with `{first_name}`, `{clinic}` and `{link}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SmsTemplate(String);

/// Values for an SMS template's placeholders.
pub struct SmsValues<'a> {
    /// The patient's first name.
    pub first_name: &'a str,
    /// The clinic's name.
    pub clinic: &'a str,
    /// The link.
    pub link: &'a str,
}

impl SmsTemplate {
    /// Checks the template: 1 to 480 characters, known placeholders only, `{link}` present.
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let text = value.trim();
        if text.is_empty() {
            return Err(FieldError::new(field, "must not be empty"));
        }
        if text.chars().count() > MAX_SMS_TEMPLATE_CHARS {
            return Err(FieldError::new(field, format!("must be at most {MAX_SMS_TEMPLATE_CHARS} characters")));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(FieldError::new(field, "must not contain control characters other than line breaks"));
        }
        let pieces = pieces(text).map_err(|message| FieldError::new(field, message))?;
        let mut has_link = false;
        for piece in &pieces {
            if let Piece::Field(name) = piece {
                if !SMS_PLACEHOLDERS.contains(name) {
                    return Err(FieldError::new(
                        field,
                        format!("has an unknown placeholder {{{name}}}: use {{first_name}}, {{clinic}} or {{link}}"),
                    ));
                }
                has_link |= *name == "link";
            }
        }
        if !has_link {
            return Err(FieldError::new(field, "must contain {link}, or the patient cannot book"));
        }
        Ok(Self(text.to_owned()))
    }

    /// The SMS text for one patient.
    pub fn render(&self, values: &SmsValues<'_>) -> String {
        let Ok(pieces) = pieces(&self.0) else { return self.0.clone() };
        pieces
            .iter()
            .map(|piece| match piece {
                Piece::Text(text) => *text,
                Piece::Field("first_name") => values.first_name,
                Piece::Field("clinic") => values.clinic,
                Piece::Field("link") => values.link,
                Piece::Field(_) => "",
            })
            .collect()
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Longest rich text an admin may write, in characters.
const MAX_RICH_TEXT_CHARS: usize = 5000;

/// Admin-written rich text, sanitised once when saved: paragraphs, emphasis, lists, headings and
/// links (https, mailto, tel) only. What is stored is safe to put in a page as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RichText(String);

impl RichText {
    /// Sanitises `value`; refuses text over 5,000 characters.
    pub fn sanitise(field: &str, value: &str) -> Result<Self, FieldError> {
        if value.chars().count() > MAX_RICH_TEXT_CHARS {
            return Err(FieldError::new(field, format!("must be at most {MAX_RICH_TEXT_CHARS} characters")));
        }
        let clean = ammonia::Builder::empty()
            .add_tags(["p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "a", "h2", "h3"])
            .add_tag_attributes("a", ["href"])
            .url_schemes(HashSet::from(["https", "mailto", "tel"]))
            .url_relative(ammonia::UrlRelative::Deny)
            .link_rel(Some("noopener noreferrer"))
            .clean(value.trim())
            .to_string();
        Ok(Self(clean))
    }

    /// The sanitised HTML.
    pub fn as_html(&self) -> &str {
        &self.0
    }
}

/// Checks an absolute `https://` URL of at most 500 characters.
pub fn https_url(field: &str, value: &str) -> Result<String, FieldError> {
    let value = value.trim();
    let refuse = || FieldError::new(field, "must be an https:// address");
    if value.chars().count() > 500 || value.chars().any(|c| c.is_whitespace() || c.is_control() || "\"'<>`".contains(c))
    {
        return Err(refuse());
    }
    let uri: http::Uri = value.parse().map_err(|_| refuse())?;
    let has_host = uri.host().is_some_and(|host| !host.is_empty());
    if uri.scheme_str() != Some("https") || !has_host {
        return Err(refuse());
    }
    Ok(value.to_owned())
}

/// The welcome page a link opens on.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WelcomePage {
    /// The service's logo (https).
    pub logo_url: Option<String>,
    /// Sanitised rich text.
    #[schema(value_type = String)]
    pub body_html: RichText,
    /// The text in French, sanitised the same way (empty: the English text is shown).
    #[serde(default)]
    #[schema(value_type = String)]
    pub body_html_fr: RichText,
}

/// What the confirmation and manage pages add to the appointment's details.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConfirmationInfo {
    /// The clinic's phone number, E.164.
    #[schema(value_type = Option<String>)]
    pub phone: Option<PhoneNumber>,
    /// The cancellation policy (https).
    pub cancellation_policy_url: Option<String>,
    /// The service's website (https).
    pub website_url: Option<String>,
    /// Plain text shown under the details.
    pub text: Option<String>,
    /// The text in French.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_fr: Option<String>,
}

/// One kind of link a clinic sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BroadcastRule {
    /// Identifier.
    #[schema(value_type = String)]
    pub id: BroadcastRuleId,
    /// The title staff search for.
    pub title: String,
    /// What the link books.
    #[schema(value_type = String)]
    pub booking_type_id: BookingTypeId,
    /// Whom it may book with.
    #[schema(value_type = Vec<String>)]
    pub provider_ids: Vec<ProviderId>,
    /// Where.
    #[schema(value_type = Vec<String>)]
    pub location_ids: Vec<LocationId>,
    /// How long an unused link stays valid.
    pub link_lifetime_hours: u32,
    /// Whether the manage link may reschedule.
    pub allow_reschedule: bool,
    /// The SMS text.
    #[schema(value_type = String)]
    pub sms_template: SmsTemplate,
    /// The welcome page.
    pub welcome: WelcomePage,
    /// The confirmation page's extra information.
    pub confirmation: ConfirmationInfo,
    /// When staff archived it: no new link is sent under it; links already sent still work and
    /// their history still names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub archived_at: Option<Timestamp>,
}

/// A broadcast rule as an admin sends it.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BroadcastRuleInput {
    /// 1 to 120 characters.
    pub title: String,
    /// A booking type of the clinic.
    pub booking_type_id: String,
    /// 1 to 50 providers of the clinic.
    pub provider_ids: Vec<String>,
    /// 1 to 20 locations of the clinic.
    pub location_ids: Vec<String>,
    /// 1 to 2,160 (90 days).
    #[schema(minimum = 1, maximum = 2160)]
    pub link_lifetime_hours: u32,
    /// Whether the manage link may reschedule.
    #[serde(default)]
    pub allow_reschedule: bool,
    /// 1 to 480 characters; placeholders `{first_name}`, `{clinic}`, `{link}` (required).
    pub sms_template: String,
    /// The welcome page.
    #[serde(default)]
    pub welcome: WelcomeInput,
    /// The confirmation page's extra information.
    #[serde(default)]
    pub confirmation: ConfirmationInput,
}

/// The welcome page as an admin sends it.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WelcomeInput {
    /// An https address of the logo.
    pub logo_url: Option<String>,
    /// Rich text (HTML): paragraphs, emphasis, lists, headings and https, mailto or tel links are
    /// kept; everything else is removed.
    #[serde(default)]
    pub body: String,
    /// The same in French, for patients reading French.
    #[serde(default)]
    pub body_fr: String,
}

/// The confirmation information as an admin sends it.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmationInput {
    /// The clinic's phone number in international form.
    pub phone: Option<String>,
    /// https address of the cancellation policy.
    pub cancellation_policy_url: Option<String>,
    /// https address of the service's website.
    pub website_url: Option<String>,
    /// Up to 1,000 characters of plain text.
    pub text: Option<String>,
    /// The same in French.
    #[serde(default)]
    pub text_fr: Option<String>,
}

/// Longest link lifetime: 90 days.
pub const MAX_LINK_LIFETIME_HOURS: u32 = 90 * 24;

fn ids<T: Ord + Clone>(
    field: &str,
    raw: &[String],
    max: usize,
    parse: impl Fn(&str, &str) -> Result<T, FieldError>,
    checker: &mut Checker,
) -> Vec<T> {
    if raw.is_empty() || raw.len() > max {
        checker.check::<()>(Err(FieldError::new(field, format!("must name 1 to {max} entries"))));
        return Vec::new();
    }
    let mut seen = BTreeSet::new();
    let mut parsed = Vec::new();
    for (index, value) in raw.iter().enumerate() {
        if let Some(id) = checker.check(parse(&format!("{field}[{index}]"), value)) {
            if seen.insert(id.clone()) {
                parsed.push(id);
            } else {
                checker.check::<()>(Err(FieldError::new(format!("{field}[{index}]"), "is listed twice")));
            }
        }
    }
    parsed
}

fn optional<T>(
    value: Option<&str>,
    check: impl FnOnce(&str) -> Result<T, FieldError>,
    checker: &mut Checker,
) -> Option<T> {
    value.filter(|text| !text.trim().is_empty()).and_then(|text| checker.check(check(text)))
}

impl BroadcastRule {
    /// Validates an admin's rule, naming every bad field.
    pub fn parse(id: BroadcastRuleId, input: &BroadcastRuleInput) -> Result<Self, Vec<FieldError>> {
        let mut checker = Checker::default();
        let title = checker.check(required_text("title", &input.title, 120));
        let booking_type_id = checker.check(BookingTypeId::parse("booking_type_id", &input.booking_type_id));
        let provider_ids = ids("provider_ids", &input.provider_ids, 50, ProviderId::parse, &mut checker);
        let location_ids = ids("location_ids", &input.location_ids, 20, LocationId::parse, &mut checker);
        if !(1..=MAX_LINK_LIFETIME_HOURS).contains(&input.link_lifetime_hours) {
            checker.check::<()>(Err(FieldError::new(
                "link_lifetime_hours",
                format!("must be 1 to {MAX_LINK_LIFETIME_HOURS} hours"),
            )));
        }
        let sms_template = checker.check(SmsTemplate::parse("sms_template", &input.sms_template));
        let logo_url =
            optional(input.welcome.logo_url.as_deref(), |url| https_url("welcome.logo_url", url), &mut checker);
        let body_html = checker.check(RichText::sanitise("welcome.body", &input.welcome.body));
        let body_html_fr = checker.check(RichText::sanitise("welcome.body_fr", &input.welcome.body_fr));
        let confirmation_input = &input.confirmation;
        let phone = optional(
            confirmation_input.phone.as_deref(),
            |phone| PhoneNumber::parse("confirmation.phone", phone),
            &mut checker,
        );
        let cancellation_policy_url = optional(
            confirmation_input.cancellation_policy_url.as_deref(),
            |url| https_url("confirmation.cancellation_policy_url", url),
            &mut checker,
        );
        let website_url = optional(
            confirmation_input.website_url.as_deref(),
            |url| https_url("confirmation.website_url", url),
            &mut checker,
        );
        let text = optional(
            confirmation_input.text.as_deref(),
            |text| required_text("confirmation.text", text, 1000),
            &mut checker,
        );
        let text_fr = optional(
            confirmation_input.text_fr.as_deref(),
            |text| required_text("confirmation.text_fr", text, 1000),
            &mut checker,
        );
        checker.finish()?;
        let (Some(title), Some(booking_type_id), Some(sms_template), Some(body_html), Some(body_html_fr)) =
            (title, booking_type_id, sms_template, body_html, body_html_fr)
        else {
            unreachable!("checker.finish() fails when a check failed")
        };
        Ok(Self {
            id,
            title,
            booking_type_id,
            provider_ids,
            location_ids,
            link_lifetime_hours: input.link_lifetime_hours,
            allow_reschedule: input.allow_reschedule,
            sms_template,
            welcome: WelcomePage { logo_url, body_html, body_html_fr },
            confirmation: ConfirmationInfo { phone, cancellation_policy_url, website_url, text, text_fr },
            archived_at: None,
        })
    }

    /// Whether `search` (case-insensitive) is part of the title.
    pub fn matches(&self, search: &str) -> bool {
        self.title.to_lowercase().contains(&search.trim().to_lowercase())
    }
}

/// Where a link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkStatus {
    /// Sent to the patient, not opened yet.
    Sent,
    /// The patient opened it.
    Accessed,
    /// The patient booked with it.
    Booked,
    /// The patient rescheduled the appointment it booked.
    Rescheduled,
    /// Staff expired it, or its lifetime ran out.
    Expired,
    /// Staff deleted it.
    Deleted,
}

/// One change of a link's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LinkEvent {
    /// The status it took.
    pub status: LinkStatus,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// Who: a staff token's subject, `patient`, or `system`.
    pub by: String,
}

/// Why a link cannot do what was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefusal {
    /// It has booked its appointment.
    #[error("the link has been used")]
    Used,
    /// Expired by staff or by time.
    #[error("the link has expired")]
    Expired,
    /// Deleted by staff.
    #[error("the link was deleted")]
    Deleted,
    /// It has not booked anything yet.
    #[error("the link has not booked an appointment")]
    NotBooked,
    /// Staff already resent it: the newer link is the one to resend.
    #[error("the link was already resent")]
    Replaced,
}

/// A link as stored (no `Debug`: it holds patient details).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingLink {
    /// Identifier.
    pub id: BookingLinkId,
    /// The rule it was sent under.
    pub rule_id: BroadcastRuleId,
    /// The clinic's patient record it was sent for.
    pub patient_reference: PatientReference,
    /// The patient's details, copied to the appointment it books.
    pub patient: PatientDetails,
    /// Hash of the booking token.
    pub token_hash: TokenHash,
    /// The latest recorded status (see [`BookingLink::status_at`] for expiry by time).
    pub status: LinkStatus,
    /// When an unused link stops working.
    pub usable_until: Timestamp,
    /// The appointment it booked.
    pub appointment_id: Option<AppointmentId>,
    /// Every status change, oldest first.
    pub events: Vec<LinkEvent>,
    /// The provider's id of the SMS that carried it, when the send was accepted.
    pub sms_message_id: Option<String>,
    /// The link this one was resent in place of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<BookingLinkId>,
    /// The link staff resent in place of this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<BookingLinkId>,
}

impl BookingLink {
    /// A link sent now by `by`.
    pub fn sent(
        id: BookingLinkId,
        rule: &BroadcastRule,
        patient_reference: PatientReference,
        patient: PatientDetails,
        token_hash: TokenHash,
        by: &str,
        now: Timestamp,
    ) -> Self {
        Self {
            id,
            rule_id: rule.id.clone(),
            patient_reference,
            patient,
            token_hash,
            status: LinkStatus::Sent,
            usable_until: now + jiff::SignedDuration::from_hours(i64::from(rule.link_lifetime_hours)),
            appointment_id: None,
            events: vec![LinkEvent { status: LinkStatus::Sent, at: now, by: by.to_owned() }],
            sms_message_id: None,
            replaces: None,
            replaced_by: None,
        }
    }

    /// The status at `now`: an unused link past its lifetime reads as expired.
    pub fn status_at(&self, now: Timestamp) -> LinkStatus {
        match self.status {
            LinkStatus::Sent | LinkStatus::Accessed if now >= self.usable_until => LinkStatus::Expired,
            status => status,
        }
    }

    /// Whether the link may still book.
    pub fn bookable(&self, now: Timestamp) -> Result<(), LinkRefusal> {
        match self.status_at(now) {
            LinkStatus::Sent | LinkStatus::Accessed => Ok(()),
            LinkStatus::Booked | LinkStatus::Rescheduled => Err(LinkRefusal::Used),
            LinkStatus::Expired => Err(LinkRefusal::Expired),
            LinkStatus::Deleted => Err(LinkRefusal::Deleted),
        }
    }

    fn record(&mut self, status: LinkStatus, by: &str, now: Timestamp) {
        self.status = status;
        self.events.push(LinkEvent { status, at: now, by: by.to_owned() });
    }

    /// Records the first opening; `false` when there is nothing to record.
    pub fn mark_accessed(&mut self, now: Timestamp) -> bool {
        let first = self.status_at(now) == LinkStatus::Sent;
        if first {
            self.record(LinkStatus::Accessed, "patient", now);
        }
        first
    }

    /// Records the booking the link made.
    pub fn mark_booked(&mut self, appointment: AppointmentId, now: Timestamp) -> Result<(), LinkRefusal> {
        self.bookable(now)?;
        self.appointment_id = Some(appointment);
        self.record(LinkStatus::Booked, "patient", now);
        Ok(())
    }

    /// Records a reschedule through the manage link.
    pub fn mark_rescheduled(&mut self, now: Timestamp) -> Result<(), LinkRefusal> {
        match self.status {
            LinkStatus::Booked | LinkStatus::Rescheduled => {
                self.record(LinkStatus::Rescheduled, "patient", now);
                Ok(())
            }
            _ => Err(LinkRefusal::NotBooked),
        }
    }

    /// Staff expire an unused link (the patient phoned instead).
    pub fn expire(&mut self, by: &str, now: Timestamp) -> Result<(), LinkRefusal> {
        self.bookable(now)?;
        self.record(LinkStatus::Expired, by, now);
        Ok(())
    }

    /// Staff resend a link that has not booked anything: this one stops working now (whether it
    /// was still usable or had lapsed), and a new one is sent in its place.
    pub fn retire_for_resend(&mut self, by: &str, now: Timestamp, successor: BookingLinkId) -> Result<(), LinkRefusal> {
        match self.status {
            LinkStatus::Booked | LinkStatus::Rescheduled => Err(LinkRefusal::Used),
            LinkStatus::Deleted => Err(LinkRefusal::Deleted),
            _ if self.replaced_by.is_some() => Err(LinkRefusal::Replaced),
            _ => {
                self.replaced_by = Some(successor);
                self.usable_until = self.usable_until.min(now);
                self.record(LinkStatus::Expired, by, now);
                Ok(())
            }
        }
    }

    /// Staff delete a link that has not booked anything.
    pub fn delete(&mut self, by: &str, now: Timestamp) -> Result<(), LinkRefusal> {
        match self.status {
            LinkStatus::Booked | LinkStatus::Rescheduled => Err(LinkRefusal::Used),
            LinkStatus::Deleted => Err(LinkRefusal::Deleted),
            _ => {
                self.record(LinkStatus::Deleted, by, now);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::contact::EmailAddress;
    use proptest::prelude::*;

    const NOW: &str = "2026-11-22T10:00:00Z";

    fn now() -> Timestamp {
        NOW.parse().unwrap()
    }

    fn input() -> BroadcastRuleInput {
        BroadcastRuleInput {
            title: "Physio follow-up".into(),
            booking_type_id: uuid::Uuid::new_v4().to_string(),
            provider_ids: vec![uuid::Uuid::new_v4().to_string()],
            location_ids: vec![uuid::Uuid::new_v4().to_string()],
            link_lifetime_hours: 72,
            allow_reschedule: true,
            sms_template: "Hi {first_name}, book with {clinic}: {link}".into(),
            welcome: WelcomeInput::default(),
            confirmation: ConfirmationInput::default(),
        }
    }

    fn link() -> BookingLink {
        let rule = BroadcastRule::parse(BroadcastRuleId::random(), &input()).unwrap();
        let patient = PatientDetails {
            first_name: "Pat".into(),
            last_name: "Example".into(),
            date_of_birth: "1980-05-17".parse().unwrap(),
            mobile: Some(PhoneNumber::parse("m", "+447700900123").unwrap()),
            email: Some(EmailAddress::parse("e", "pat@example.com").unwrap()),
        };
        let token = LinkToken::from_random_bytes([7; TOKEN_BYTES]);
        let reference = PatientReference::parse("r", "MRN-1").unwrap();
        BookingLink::sent(BookingLinkId::random(), &rule, reference, patient, token.hash(), "staff-1", now())
    }

    #[test]
    fn a_link_is_resent_once_whether_unused_or_lapsed_but_never_once_used_or_deleted() {
        let later = now() + jiff::SignedDuration::from_hours(1);
        for lapse in [None, Some(jiff::SignedDuration::from_hours(200))] {
            let mut unused = link();
            let at = lapse.map_or(later, |gap| now() + gap);
            let successor = BookingLinkId::random();
            unused.retire_for_resend("staff-2", at, successor.clone()).unwrap();
            assert_eq!(unused.replaced_by, Some(successor));
            assert_eq!(unused.retire_for_resend("staff-2", at, BookingLinkId::random()), Err(LinkRefusal::Replaced));
            assert_eq!(unused.status_at(at), LinkStatus::Expired);
            assert_eq!(unused.bookable(at), Err(LinkRefusal::Expired));
            assert!(unused.usable_until <= at);
            assert_eq!(unused.events.last().map(|e| e.by.as_str()), Some("staff-2"));
        }
        let mut booked = link();
        booked.mark_booked(AppointmentId::random(), later).unwrap();
        assert_eq!(booked.retire_for_resend("staff-2", later, BookingLinkId::random()), Err(LinkRefusal::Used));
        let mut deleted = link();
        deleted.delete("staff-2", later).unwrap();
        assert_eq!(deleted.retire_for_resend("staff-2", later, BookingLinkId::random()), Err(LinkRefusal::Deleted));
    }

    #[test]
    fn tokens_are_64_hex_characters_and_only_their_hash_is_kept() {
        let token = LinkToken::from_random_bytes([0xab; TOKEN_BYTES]);
        assert_eq!(token.as_str().len(), 64);
        assert_eq!(LinkToken::parse(token.as_str()), Some(token.clone()));
        assert_ne!(token.hash().as_str(), token.as_str());
        assert_eq!(format!("{token:?}"), "LinkToken(<secret>)");
        for bad in ["", "abc", &"g".repeat(64), &"A".repeat(64), &"a".repeat(63), &"a".repeat(65)] {
            assert_eq!(LinkToken::parse(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn different_tokens_have_different_hashes(a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
            let (a, b) = (LinkToken::from_random_bytes(a), LinkToken::from_random_bytes(b));
            prop_assert_eq!(a == b, a.hash() == b.hash());
        }

        #[test]
        fn rendered_sms_holds_the_link_and_no_braces(name in "[A-Za-zéè' -]{1,30}", clinic in "[A-Za-z ]{1,30}") {
            let template = SmsTemplate::parse("t", "Hi {first_name}, {clinic} invites you: {link}").unwrap();
            let text = template.render(&SmsValues { first_name: &name, clinic: &clinic, link: "https://x.example.com/l/1" });
            prop_assert!(text.contains("https://x.example.com/l/1"));
            prop_assert!(text.contains(&name));
            prop_assert!(!text.contains('{'), "braces left in {}", text);
        }
    }

    #[test]
    fn sms_templates_fail_on_save_for_unknown_or_broken_placeholders() {
        let cases = [
            ("Hi {name}: {link}", "unknown placeholder {name}"),
            ("Book here", "must contain {link}"),
            ("Book {link", "without a closing"),
            ("Book } {link}", "without an opening"),
            ("", "must not be empty"),
        ];
        for (template, expected) in cases {
            let error = SmsTemplate::parse("sms_template", template).unwrap_err();
            assert_eq!(error.field, "sms_template");
            assert!(error.message.contains(expected), "{template}: {}", error.message);
        }
        assert!(SmsTemplate::parse("t", &format!("{} {{link}}", "x".repeat(480))).is_err());
    }

    #[test]
    fn rich_text_keeps_formatting_and_links_and_drops_everything_else() {
        let text = RichText::sanitise(
            "body",
            r#"<p onclick="x()">Hello <strong>there</strong><script>alert(1)</script>
               <a href="https://example.com/info">info</a> <a href="javascript:alert(1)">bad</a>
               <img src=x onerror=alert(1)><iframe src="https://example.com"></iframe><style>p{}</style></p>"#,
        )
        .unwrap();
        let html = text.as_html();
        assert!(html.contains("<strong>there</strong>"), "{html}");
        assert!(html.contains(r#"href="https://example.com/info""#), "{html}");
        assert!(html.contains("noopener"), "{html}");
        for banned in ["<script", "onclick", "javascript:", "<img", "onerror", "<iframe", "<style"] {
            assert!(!html.contains(banned), "{banned} survived: {html}");
        }
    }

    #[test]
    fn urls_must_be_https_with_a_host() {
        assert!(https_url("u", "https://example.com/policy").is_ok());
        for bad in [
            "http://example.com",
            "javascript:alert(1)",
            "https://",
            "https://exa mple.com",
            "//example.com",
            "https://e.com/\"x",
        ] {
            assert!(https_url("u", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_rule_names_every_bad_field() {
        let bad = BroadcastRuleInput {
            title: String::new(),
            booking_type_id: "x".into(),
            provider_ids: vec![],
            location_ids: vec!["nope".into()],
            link_lifetime_hours: 0,
            sms_template: "no link".into(),
            welcome: WelcomeInput {
                logo_url: Some("http://example.com/logo.png".into()),
                body: String::new(),
                body_fr: String::new(),
            },
            confirmation: ConfirmationInput {
                phone: Some("123".into()),
                website_url: Some("ftp://example.com".into()),
                ..ConfirmationInput::default()
            },
            ..input()
        };
        let fields: Vec<String> =
            BroadcastRule::parse(BroadcastRuleId::random(), &bad).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "title",
                "booking_type_id",
                "provider_ids",
                "location_ids[0]",
                "link_lifetime_hours",
                "sms_template",
                "welcome.logo_url",
                "confirmation.phone",
                "confirmation.website_url"
            ]
        );
        let twice = BroadcastRuleInput { provider_ids: vec![input().provider_ids[0].clone(); 2], ..input() };
        assert_eq!(BroadcastRule::parse(BroadcastRuleId::random(), &twice).unwrap_err()[0].field, "provider_ids[1]");
    }

    #[test]
    fn a_link_goes_sent_accessed_booked_rescheduled_and_cannot_book_twice() {
        let mut link = link();
        assert_eq!(link.status_at(now()), LinkStatus::Sent);
        assert!(link.mark_accessed(now()));
        assert!(!link.mark_accessed(now()), "opening again records nothing");
        link.mark_booked(AppointmentId::random(), now()).unwrap();
        assert_eq!(link.mark_booked(AppointmentId::random(), now()), Err(LinkRefusal::Used));
        assert_eq!(link.expire("staff", now()), Err(LinkRefusal::Used));
        assert_eq!(link.delete("staff", now()), Err(LinkRefusal::Used));
        link.mark_rescheduled(now()).unwrap();
        let statuses: Vec<LinkStatus> = link.events.iter().map(|event| event.status).collect();
        assert_eq!(statuses, [LinkStatus::Sent, LinkStatus::Accessed, LinkStatus::Booked, LinkStatus::Rescheduled]);
    }

    #[test]
    fn lifetime_expiry_staff_expiry_and_deletion_stop_booking() {
        let mut link = link();
        let later = now() + jiff::SignedDuration::from_hours(72);
        assert_eq!(link.bookable(later - jiff::SignedDuration::from_secs(1)), Ok(()));
        assert_eq!(link.bookable(later), Err(LinkRefusal::Expired));
        assert_eq!(link.status_at(later), LinkStatus::Expired);
        assert!(!link.mark_accessed(later));
        let mut expired = self::link();
        expired.expire("staff-2", now()).unwrap();
        assert_eq!(expired.bookable(now()), Err(LinkRefusal::Expired));
        assert_eq!(expired.mark_rescheduled(now()), Err(LinkRefusal::NotBooked));
        expired.delete("staff-2", now()).unwrap();
        assert_eq!(expired.bookable(now()), Err(LinkRefusal::Deleted));
        assert_eq!(expired.delete("staff-2", now()), Err(LinkRefusal::Deleted));
        assert_eq!(expired.events.last().unwrap().by, "staff-2");
    }
}
