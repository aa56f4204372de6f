//! Link tokens: drawn from the operating system's generator, sent once, stored only as hashes.
//! A token record says which clinic's link a hash opens and for what.

use serde::{Deserialize, Serialize};

use crate::domain::booking_link::{
    BookingLink, BookingLinkId, BroadcastRule, LinkToken, TOKEN_BYTES, TokenHash, TokenPurpose,
};
use crate::domain::clinic::{Clinic, ClinicId};
use crate::store::{Condition, Item, Store, StoreError, Write, keys};

/// What a token's hash opens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRecord {
    /// The clinic.
    pub clinic_id: ClinicId,
    /// The link.
    pub link_id: BookingLinkId,
    /// Booking or managing.
    pub purpose: TokenPurpose,
}

/// The random source failed (the operating system could not give randomness).
#[derive(Debug, thiserror::Error)]
#[error("no randomness available: {0}")]
pub struct NoRandomness(String);

/// A fresh token with 256 bits from the operating system's secure generator.
pub fn draw() -> Result<LinkToken, NoRandomness> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|error| NoRandomness(error.to_string()))?;
    Ok(LinkToken::from_random_bytes(bytes))
}

/// The write that records a token's hash (never the token), failing if the hash exists.
pub fn record_write(hash: &TokenHash, record: &TokenRecord) -> Result<Write, StoreError> {
    Ok(Write::put(Item::from_record(keys::link_token(hash.as_str()), record)?, Condition::NotExists))
}

/// A link's stored item: its own partition, indexed under its patient.
pub fn link_item(clinic: &ClinicId, link: &BookingLink, version: u64) -> Result<Item, StoreError> {
    let sent_at = link.events.first().map_or(link.usable_until, |event| event.at);
    let index = keys::patient_link(clinic, link.patient_reference.as_str(), sent_at, link.id.as_str());
    Ok(Item::from_record(keys::booking_link(clinic, link.id.as_str()), link)?.with_gsi1(index).with_version(version))
}

/// A link with what its pages need.
#[derive(Clone)]
pub struct OpenedLink {
    /// The clinic.
    pub clinic: Clinic,
    /// The link.
    pub link: BookingLink,
    /// Its stored version.
    pub version: u64,
    /// The rule it was sent under.
    pub rule: BroadcastRule,
}

/// Reads one link.
pub async fn load_link(
    store: &dyn Store,
    clinic: &ClinicId,
    id: &BookingLinkId,
) -> Result<Option<(BookingLink, u64)>, StoreError> {
    let Some(item) = store.get(&keys::booking_link(clinic, id.as_str())).await? else { return Ok(None) };
    Ok(Some((item.record()?, item.version)))
}

/// Finds the link a token from a URL opens for `purpose`: `None` for a malformed or unknown
/// token, or one made for the other purpose.
pub async fn open(store: &dyn Store, token: &str, purpose: TokenPurpose) -> Result<Option<OpenedLink>, StoreError> {
    let Some(token) = LinkToken::parse(token) else { return Ok(None) };
    let Some(item) = store.get(&keys::link_token(token.hash().as_str())).await? else { return Ok(None) };
    let record: TokenRecord = item.record()?;
    if record.purpose != purpose {
        return Ok(None);
    }
    let Some((link, version)) = load_link(store, &record.clinic_id, &record.link_id).await? else { return Ok(None) };
    let Some(rule) = store.get(&keys::broadcast_rule(&record.clinic_id, link.rule_id.as_str())).await? else {
        return Ok(None);
    };
    let Some(clinic) = store.get(&keys::clinic_profile(&record.clinic_id)).await? else { return Ok(None) };
    Ok(Some(OpenedLink { clinic: clinic.record()?, link, version, rule: rule.record()? }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawn_tokens_differ_and_parse_back() {
        let tokens: std::collections::HashSet<String> =
            (0..1000).map(|_| draw().unwrap().as_str().to_owned()).collect();
        assert_eq!(tokens.len(), 1000);
        assert!(tokens.iter().all(|token| LinkToken::parse(token).is_some()));
    }
}
