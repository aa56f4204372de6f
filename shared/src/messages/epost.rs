//! The ePost port: letters whose print option is ePost are handed to a postal provider that
//! prints and posts them. A real provider plugs in behind [`Epost`]; until one is contracted, the
//! [`EpostQueue`] keeps each handed-over letter in the store, where the provider's collector (or
//! staff, from the distribution list) picks it up.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::SendError;
use crate::clock::Clock;
use crate::store::{Condition, Item, Key, Store, Write};

/// One letter for the provider (no `Debug`: it holds an address).
#[derive(Clone, Serialize, Deserialize)]
pub struct EpostLetter {
    /// Our letter id (the provider's idempotency key).
    pub letter_id: String,
    /// The clinic.
    pub clinic_id: String,
    /// Where the PDF is kept.
    pub file_key: String,
    /// The address block.
    pub address: Vec<String>,
}

/// The ePost port.
#[async_trait]
pub trait Epost: Send + Sync {
    /// Hands a letter over; returns the provider's reference. Handing the same letter twice
    /// returns the same reference and posts it once.
    async fn submit(&self, letter: &EpostLetter) -> Result<String, SendError>;
}

/// Partition of the ePost queue.
pub const EPOST_QUEUE_PARTITION: &str = "EPOST_QUEUE";

/// The store-kept ePost queue.
pub struct EpostQueue {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl EpostQueue {
    /// A queue in `store`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }
}

/// A queued letter as kept.
#[derive(Clone, Serialize, Deserialize)]
pub struct QueuedLetter {
    /// The letter.
    pub letter: EpostLetter,
    /// When it was handed over.
    pub queued_at: jiff::Timestamp,
}

#[async_trait]
impl Epost for EpostQueue {
    async fn submit(&self, letter: &EpostLetter) -> Result<String, SendError> {
        let reference = format!("epost-{}", letter.letter_id);
        let queued = QueuedLetter { letter: letter.clone(), queued_at: self.clock.now() };
        let item = Item::from_record(Key::new(EPOST_QUEUE_PARTITION, &letter.letter_id), &queued)
            .map_err(|error| SendError::Unavailable(error.to_string()))?;
        match self.store.write(Write::put(item, Condition::NotExists)).await {
            Ok(()) | Err(crate::store::StoreError::ConditionFailed { .. }) => Ok(reference),
            Err(error) => Err(SendError::Unavailable(error.to_string())),
        }
    }
}
