//! Inbound SMS replies: two-way SMS publishes each reply to an SNS topic; a reply from a mobile
//! that was last sent an SMS whose action saves reply content is kept against that enrollment.
//! Replies from anyone else are dropped (counted, never logged with their text or number).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::runner::{ReplyRoute, phone_hash};
use crate::app::AppState;
use crate::store::{Condition, Item, StoreError, Write, keys};

/// Longest reply kept, in characters.
const MAX_REPLY_CHARS: usize = 1600;

/// What two-way SMS publishes for one inbound message (no `Debug`: it holds the number and
/// the text).
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundSms {
    /// The patient's number.
    pub origination_number: String,
    /// The text.
    pub message_body: String,
    /// The provider's id of this message (replies are kept once per id).
    pub inbound_message_id: String,
}

/// A reply kept against an enrollment.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SmsReply {
    /// The provider's id.
    pub inbound_message_id: String,
    /// The cycle of the SMS it answers.
    pub cycle: u16,
    /// The action of the SMS it answers.
    pub action: u16,
    /// The text (at most 1,600 characters).
    pub body: String,
    /// When it arrived.
    #[schema(value_type = String)]
    pub received_at: Timestamp,
}

/// What became of one inbound SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyOutcome {
    /// Kept against an enrollment.
    Kept,
    /// Already kept (a repeated delivery).
    Duplicate,
    /// No enrollment asked for replies from this number.
    Unrouted,
}

/// Keeps one inbound SMS.
#[tracing::instrument(skip_all)]
pub async fn keep_reply(state: &AppState, inbound: &InboundSms) -> Result<ReplyOutcome, StoreError> {
    let Some(item) = state.store.get(&keys::sms_reply_route(&phone_hash(inbound.origination_number.trim()))).await?
    else {
        tracing::info!("inbound SMS from a number no enrollment expects replies from; dropped");
        return Ok(ReplyOutcome::Unrouted);
    };
    let route: ReplyRoute = item.record()?;
    let now = state.clock.now();
    let reply = SmsReply {
        inbound_message_id: inbound.inbound_message_id.clone(),
        cycle: route.cycle,
        action: route.action,
        body: inbound.message_body.chars().take(MAX_REPLY_CHARS).collect(),
        received_at: now,
    };
    let id: String =
        inbound.inbound_message_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(80).collect();
    // Keyed by the provider's id (not the time), so a repeated delivery is the same item.
    let key = keys::sms_reply(&route.clinic_id, &route.enrollment_id, route.sent_at, &id);
    match state.store.write(Write::put(Item::from_record(key, &reply)?, Condition::NotExists)).await {
        Ok(()) => {
            tracing::info!(enrollment_id = %route.enrollment_id, "SMS reply kept");
            Ok(ReplyOutcome::Kept)
        }
        Err(StoreError::ConditionFailed { .. }) => Ok(ReplyOutcome::Duplicate),
        Err(error) => Err(error),
    }
}
