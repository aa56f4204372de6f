//! The embedded messages adapter: every message is kept in the store's outbox, where a developer
//! can list it (`GET /_local/outbox` on the local server).

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Email, Messages, SendError, Sent, Sms};
use crate::clock::Clock;
use crate::store::{Condition, Item, Query, Store, Write, keys, query_all};

/// One message as kept in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// The outbox id (returned as the message id).
    pub id: String,
    /// When it was sent.
    pub sent_at: Timestamp,
    /// `sms` or `email`.
    pub channel: String,
    /// The phone number or email address.
    pub to: String,
    /// Email subject; empty for SMS.
    pub subject: String,
    /// The text.
    pub body: String,
    /// The HTML part of an email.
    pub html: Option<String>,
    /// An email's calendar invite, and the whole MIME message as it would go to SES.
    #[serde(default)]
    pub invite: Option<super::Invite>,
    /// The raw MIME message of an email with an invite.
    #[serde(default)]
    pub raw: Option<String>,
}

/// The sender address of emails kept in the outbox.
pub const OUTBOX_SENDER: &str = "bookings@example.com";

/// The outbox adapter.
pub struct Outbox {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Outbox {
    /// An outbox kept in `store`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    async fn keep(
        &self,
        channel: &str,
        to: &str,
        subject: &str,
        body: &str,
        html: Option<&str>,
        invite: Option<(&super::Invite, String)>,
    ) -> Result<Sent, SendError> {
        // A v7 id sorts by creation, so messages sent within one clock tick keep their order.
        let id = uuid::Uuid::now_v7().to_string();
        let sent_at = self.clock.now();
        let message = OutboxMessage {
            id: id.clone(),
            sent_at,
            channel: channel.into(),
            to: to.into(),
            subject: subject.into(),
            body: body.into(),
            html: html.map(str::to_owned),
            invite: invite.as_ref().map(|(invite, _)| (*invite).clone()),
            raw: invite.map(|(_, raw)| raw),
        };
        let item = Item::from_record(keys::outbox_message(sent_at, &id), &message)
            .map_err(|error| SendError::Unavailable(error.to_string()))?;
        self.store
            .write(Write::put(item, Condition::NotExists))
            .await
            .map_err(|error| SendError::Unavailable(error.to_string()))?;
        Ok(Sent { message_id: id })
    }
}

/// Every message in the outbox, oldest first.
pub async fn list_outbox(store: &dyn Store) -> Result<Vec<OutboxMessage>, crate::store::StoreError> {
    let items = query_all(store, Query::prefix(keys::OUTBOX_PARTITION, "")).await?;
    items.iter().map(Item::record).collect()
}

#[async_trait]
impl Messages for Outbox {
    async fn send_sms(&self, sms: &Sms) -> Result<Sent, SendError> {
        if sms.body.is_empty() || sms.body.chars().count() > 1600 {
            return Err(SendError::Rejected("an SMS holds 1 to 1,600 characters".into()));
        }
        self.keep("sms", sms.to.as_str(), "", &sms.body, None, None).await
    }

    fn sender(&self) -> &str {
        OUTBOX_SENDER
    }

    async fn send_email(&self, email: &Email) -> Result<Sent, SendError> {
        let invite = match &email.invite {
            Some(invite) => {
                let raw = super::mime::raw_message(OUTBOX_SENDER, email)?;
                Some((invite, String::from_utf8_lossy(&raw).into_owned()))
            }
            None => None,
        };
        self.keep("email", email.to.as_str(), &email.subject, &email.text, email.html.as_deref(), invite).await
    }
}
