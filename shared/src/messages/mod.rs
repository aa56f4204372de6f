//! The messages port: SMS and email to patients.

pub mod aws;
pub mod epost;
pub mod mime;
pub mod outbox;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::contact::{EmailAddress, PhoneNumber};

/// An SMS to one mobile. Its `Debug` output shows only the length of the text.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Sms {
    /// Recipient.
    pub to: PhoneNumber,
    /// Text, at most 1,600 characters.
    pub body: String,
}

/// An email to one address, with a plain-text part and an optional HTML part. Its `Debug`
/// output shows only lengths.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Email {
    /// Recipient.
    pub to: EmailAddress,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body, already escaped and sanitised.
    pub html: Option<String>,
    /// A calendar invite (sent as a raw MIME message with a `text/calendar` part).
    #[serde(default)]
    pub invite: Option<Invite>,
}

/// An iCalendar invite attached to an email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    /// `REQUEST` or `CANCEL`.
    pub method: String,
    /// The RFC 5545 text.
    pub ics: String,
}

impl std::fmt::Debug for Sms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sms").field("to", &self.to).field("body_chars", &self.body.chars().count()).finish()
    }
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("to", &self.to)
            .field("subject_chars", &self.subject.chars().count())
            .field("text_chars", &self.text.chars().count())
            .field("has_html", &self.html.is_some())
            .field("has_invite", &self.invite.is_some())
            .finish()
    }
}

/// What the provider said when it accepted a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The provider's message id (SNS MessageId, SES MessageId, or the outbox id).
    pub message_id: String,
}

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The provider refused the recipient (invalid number or address); do not retry.
    #[error("the recipient was refused: {0}")]
    InvalidRecipient(String),
    /// The provider refused the message (opted out, suppressed, too long); do not retry.
    #[error("the message was refused: {0}")]
    Rejected(String),
    /// The provider asked to slow down; retry with backoff.
    #[error("the provider throttled the send")]
    Throttled,
    /// The provider could not be reached or failed; retry with backoff.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
}

impl SendError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Throttled | Self::Unavailable(_))
    }
}

/// The messages port.
#[async_trait]
pub trait Messages: Send + Sync {
    /// Sends one SMS.
    async fn send_sms(&self, sms: &Sms) -> Result<Sent, SendError>;
    /// Sends one email.
    async fn send_email(&self, email: &Email) -> Result<Sent, SendError>;
    /// The address emails come from (a calendar invite names it as its organizer).
    fn sender(&self) -> &str;
}
