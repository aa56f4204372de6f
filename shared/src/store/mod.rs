//! The store port: DynamoDB's semantics, the subset the domain needs.
//!
//! Items live in one table under a partition key and a sort key, with one optional secondary
//! index (`gsi1`), an optional expiry (`expires_at`, epoch seconds, honoured on every read and by
//! every condition) and a version the callers use for optimistic concurrency. The key layout is
//! written down once, as a table of access patterns, in [`keys`].

pub mod dynamodb;
pub mod embedded;
pub mod keys;

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Attribute names the store itself owns; record fields must not use them.
pub const RESERVED_ATTRIBUTES: [&str; 6] = ["pk", "sk", "gsi1pk", "gsi1sk", "expires_at", "version"];

/// Most writes one transaction may hold (DynamoDB's limit).
pub const MAX_TRANSACTION_WRITES: usize = 100;

/// A primary key, or a key in the secondary index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Key {
    /// Partition key.
    pub pk: String,
    /// Sort key.
    pub sk: String,
}

impl Key {
    /// Builds a key from its two parts.
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { pk: pk.into(), sk: sk.into() }
    }
}

/// One stored item: its keys, expiry, version and the record's own fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Primary key.
    pub key: Key,
    /// Key in the secondary index, if the item is indexed.
    pub gsi1: Option<Key>,
    /// Epoch seconds after which the item counts as gone.
    pub expires_at: Option<i64>,
    /// Version for optimistic concurrency; callers bump it on every change.
    pub version: u64,
    /// The record's fields.
    pub data: Map<String, Value>,
}

impl Item {
    /// Serialises a record into an item with version 1 and no index or expiry.
    pub fn from_record<T: Serialize>(key: Key, record: &T) -> Result<Self, StoreError> {
        let data = match serde_json::to_value(record) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err(StoreError::Corrupt("a record must serialise to an object".into())),
            Err(error) => return Err(StoreError::Corrupt(error.to_string())),
        };
        if let Some(name) = RESERVED_ATTRIBUTES.iter().find(|name| data.contains_key(**name)) {
            return Err(StoreError::Corrupt(format!("record field `{name}` is reserved by the store")));
        }
        Ok(Self { key, gsi1: None, expires_at: None, version: 1, data })
    }

    /// Sets the secondary-index key.
    pub fn with_gsi1(mut self, key: Key) -> Self {
        self.gsi1 = Some(key);
        self
    }

    /// Sets the expiry, in epoch seconds.
    pub fn with_expiry(mut self, expires_at: i64) -> Self {
        self.expires_at = Some(expires_at);
        self
    }

    /// Sets the version.
    pub fn with_version(mut self, version: u64) -> Self {
        self.version = version;
        self
    }

    /// Parses the record's fields back into a typed record.
    pub fn record<T: DeserializeOwned>(&self) -> Result<T, StoreError> {
        serde_json::from_value(Value::Object(self.data.clone()))
            .map_err(|error| StoreError::Corrupt(format!("{} / {}: {error}", self.key.pk, self.key.sk)))
    }

    /// Whether the item has expired at `now_epoch_seconds`.
    pub fn is_expired(&self, now_epoch_seconds: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now_epoch_seconds)
    }
}

/// What must hold of the stored item for a write to go ahead. An expired item counts as absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// No condition.
    Always,
    /// No live item has this key.
    NotExists,
    /// A live item has this key.
    Exists,
    /// A live item has this key at exactly this version.
    VersionIs(u64),
    /// A live item has this key and no field of this name (an archived record carries
    /// [`ARCHIVED_FIELD`], so `ExistsWithout(ARCHIVED_FIELD)` is "exists and is current").
    ExistsWithout(&'static str),
}

/// The field an archived record carries; nothing new may refer to it.
pub const ARCHIVED_FIELD: &str = "archived_at";

impl Item {
    /// Whether the record is current (not archived).
    pub fn is_current(&self) -> bool {
        self.data.get(ARCHIVED_FIELD).is_none_or(Value::is_null)
    }
}

impl Write {
    /// Checks, in a transaction, that a record exists and is not archived.
    pub fn check_current(key: Key) -> Self {
        Write::Check { key, condition: Condition::ExistsWithout(ARCHIVED_FIELD) }
    }
}

/// Lets a replaced record keep what it already referred to: of `checks`, those of a key that
/// `before` (the previous version's checks) also checked ask only that it exists, archived since
/// or not; a new reference must still be current.
pub fn keep_references(checks: &mut [Write], before: &[Write]) {
    let kept: std::collections::HashSet<&Key> = before
        .iter()
        .filter_map(|write| match write {
            Write::Check { key, .. } => Some(key),
            _ => None,
        })
        .collect();
    for check in checks {
        if let Write::Check { key, condition } = check
            && kept.contains(key)
        {
            *condition = Condition::Exists;
        }
    }
}

/// One write, alone or as part of a transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Creates or replaces an item.
    Put { item: Item, condition: Condition },
    /// Deletes an item (deleting an absent item succeeds when the condition allows it).
    Delete { key: Key, condition: Condition },
    /// Adds to numeric fields, creating the item or the fields at zero first.
    Add { key: Key, counters: Vec<(String, i64)> },
    /// Checks a condition without writing.
    Check { key: Key, condition: Condition },
}

impl Write {
    /// A put under a condition.
    pub fn put(item: Item, condition: Condition) -> Self {
        Self::Put { item, condition }
    }

    /// The key this write touches.
    pub fn key(&self) -> &Key {
        match self {
            Self::Put { item, .. } => &item.key,
            Self::Delete { key, .. } | Self::Add { key, .. } | Self::Check { key, .. } => key,
        }
    }

    /// The condition of this write.
    pub fn condition(&self) -> Condition {
        match self {
            Self::Put { condition, .. } | Self::Delete { condition, .. } | Self::Check { condition, .. } => *condition,
            Self::Add { .. } => Condition::Always,
        }
    }
}

/// Which key a query walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// The table's own key.
    Table,
    /// The `gsi1` secondary index (eventually consistent on AWS).
    Gsi1,
}

/// Which sort keys a query returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKeyRange {
    /// Every item of the partition.
    All,
    /// Sort keys starting with this prefix.
    Prefix(String),
    /// Sort keys between the two bounds, both included.
    Between(String, String),
}

/// A query of one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Table or index.
    pub index: Index,
    /// Partition key value (of the index when querying it).
    pub pk: String,
    /// Sort-key range.
    pub range: SortKeyRange,
    /// Most items one page holds (1 to 1000).
    pub limit: u32,
    /// Newest first when true.
    pub descending: bool,
    /// Where the previous page stopped.
    pub cursor: Option<Cursor>,
}

impl Query {
    /// Every item of a table partition whose sort key starts with `prefix`, in ascending order.
    pub fn prefix(pk: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self {
            index: Index::Table,
            pk: pk.into(),
            range: SortKeyRange::Prefix(prefix.into()),
            limit: 100,
            descending: false,
            cursor: None,
        }
    }

    /// The same query on the secondary index.
    pub fn on_gsi1(mut self) -> Self {
        self.index = Index::Gsi1;
        self
    }

    /// Sets the page size.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit.clamp(1, 1000);
        self
    }

    /// Sets the sort order to descending.
    pub fn descending(mut self) -> Self {
        self.descending = true;
        self
    }

    /// Continues after a previous page.
    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }
}

/// An opaque position between two pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

impl Cursor {
    /// Encodes adapter-specific position data.
    pub(crate) fn encode(raw: &[u8]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(raw))
    }

    /// Decodes what [`Cursor::encode`] made.
    pub(crate) fn decode(&self) -> Result<Vec<u8>, StoreError> {
        URL_SAFE_NO_PAD.decode(&self.0).map_err(|_| StoreError::BadCursor)
    }

    /// The cursor as text, for an API answer.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A cursor a client sent back.
    pub fn from_client(text: &str) -> Self {
        Self(text.to_owned())
    }
}

/// One page of a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Live items of this page, in order.
    pub items: Vec<Item>,
    /// Where the next page starts, when there may be one.
    pub next: Option<Cursor>,
}

/// Why a store call failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// The condition of the write at this position (0 for a single write) did not hold; nothing
    /// was written.
    #[error("the condition of write {index} did not hold")]
    ConditionFailed { index: usize },
    /// Other writers held the same items and the transaction could not run; retry later.
    #[error("the transaction conflicted with concurrent writes")]
    Contention,
    /// A transaction held more writes than allowed, or touched one key twice.
    #[error("invalid transaction: {0}")]
    InvalidTransaction(String),
    /// A cursor that this store did not make.
    #[error("invalid paging cursor")]
    BadCursor,
    /// Stored data could not be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The backend failed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// The store port.
#[async_trait]
pub trait Store: Send + Sync {
    /// Reads one live item.
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;
    /// Applies one write under its condition.
    async fn write(&self, write: Write) -> Result<(), StoreError>;
    /// Applies every write or none; reports the first failed condition's position.
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError>;
    /// Reads one page of a partition.
    async fn query(&self, query: &Query) -> Result<Page, StoreError>;
    /// How many calls this adapter has made to its backend (for the benchmarks).
    fn round_trips(&self) -> u64;
}

/// Checks what both adapters refuse before any I/O.
pub(crate) fn validate_transaction(writes: &[Write]) -> Result<(), StoreError> {
    if writes.is_empty() || writes.len() > MAX_TRANSACTION_WRITES {
        return Err(StoreError::InvalidTransaction(format!(
            "a transaction holds 1 to {MAX_TRANSACTION_WRITES} writes, not {}",
            writes.len()
        )));
    }
    if writes.iter().any(|write| matches!(write, Write::Add { counters, .. } if counters.is_empty())) {
        return Err(StoreError::InvalidTransaction("an add names no counter".into()));
    }
    let mut seen = std::collections::HashSet::new();
    for write in writes {
        if !seen.insert(write.key()) {
            return Err(StoreError::InvalidTransaction("one transaction touches a key twice".into()));
        }
    }
    Ok(())
}

/// Counts backend calls for the benchmarks.
#[derive(Debug, Default)]
pub(crate) struct RoundTrips(AtomicU64);

impl RoundTrips {
    pub(crate) fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Reads every page of a query.
pub async fn query_all(store: &dyn Store, query: Query) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    let mut query = query;
    loop {
        let page = store.query(&query).await?;
        items.extend(page.items);
        match page.next {
            Some(cursor) => query.cursor = Some(cursor),
            None => return Ok(items),
        }
    }
}

/// Every record of one kind in a partition.
pub async fn records<T: serde::de::DeserializeOwned>(
    store: &dyn Store,
    partition: &str,
    prefix: &str,
) -> Result<Vec<T>, StoreError> {
    query_all(store, Query::prefix(partition, prefix)).await?.iter().map(|item| item.record()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_may_not_use_a_reserved_attribute() {
        let error = Item::from_record(Key::new("a", "b"), &serde_json::json!({"version": 3})).unwrap_err();
        assert!(matches!(error, StoreError::Corrupt(message) if message.contains("version")));
    }

    #[test]
    fn a_transaction_may_not_touch_one_key_twice() {
        let key = Key::new("a", "b");
        let writes = vec![
            Write::Check { key: key.clone(), condition: Condition::Exists },
            Write::Delete { key, condition: Condition::Always },
        ];
        assert!(matches!(validate_transaction(&writes), Err(StoreError::InvalidTransaction(_))));
    }

    #[test]
    fn a_transaction_holds_at_most_one_hundred_writes() {
        let writes: Vec<Write> = (0..101)
            .map(|n| Write::Check { key: Key::new("a", n.to_string()), condition: Condition::Exists })
            .collect();
        assert!(validate_transaction(&writes).is_err());
        assert!(validate_transaction(&writes[..100]).is_ok());
    }
}
