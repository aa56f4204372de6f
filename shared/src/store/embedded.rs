//! The embedded store: durable on disk in the data directory, built on redb.
//!
//! redb was chosen because it is a pure-Rust, ACID, crash-safe key-value store with ordered
//! range scans and serialised write transactions: every condition is evaluated inside the one
//! write transaction that applies the writes, which gives the same all-or-nothing and
//! single-winner guarantees as DynamoDB's conditional writes under concurrent callers.

use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::{
    Condition, Cursor, Index, Item, Key, Page, Query, RoundTrips, SortKeyRange, Store, StoreError, Write,
    validate_transaction,
};
use crate::clock::Clock;

const ITEMS: TableDefinition<&str, &[u8]> = TableDefinition::new("items");
const GSI1: TableDefinition<&str, &str> = TableDefinition::new("gsi1");
const SEPARATOR: char = '\0';
const HIGHEST: char = '\u{10FFFF}';

/// The redb-backed store.
pub struct EmbeddedStore {
    db: Arc<Database>,
    clock: Arc<dyn Clock>,
    trips: RoundTrips,
    /// Commit each transaction to disk before answering (off only for the in-memory store).
    durable: bool,
}

impl EmbeddedStore {
    /// Opens (or creates) the database file at `path`.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let db = Database::create(path).map_err(unavailable)?;
        let txn = db.begin_write().map_err(unavailable)?;
        txn.open_table(ITEMS).map_err(unavailable)?;
        txn.open_table(GSI1).map_err(unavailable)?;
        txn.commit().map_err(unavailable)?;
        Ok(Self { db: Arc::new(db), clock, trips: RoundTrips::default(), durable: true })
    }

    /// A store held in memory only (simulations and benchmarks): the same code over redb's
    /// in-memory backend, gone when dropped.
    pub fn in_memory(clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let db =
            Database::builder().create_with_backend(redb::backends::InMemoryBackend::new()).map_err(unavailable)?;
        let txn = db.begin_write().map_err(unavailable)?;
        txn.open_table(ITEMS).map_err(unavailable)?;
        txn.open_table(GSI1).map_err(unavailable)?;
        txn.commit().map_err(unavailable)?;
        Ok(Self { db: Arc::new(db), clock, trips: RoundTrips::default(), durable: false })
    }

    /// Every stored item, expired or not, in key order: for exports, inspection and the tests
    /// that check what is (and is not) kept.
    pub async fn all_items(&self) -> Result<Vec<Item>, StoreError> {
        self.blocking(|db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let table = txn.open_table(ITEMS).map_err(unavailable)?;
            let mut items = Vec::new();
            for entry in table.iter().map_err(unavailable)? {
                let (_, bytes) = entry.map_err(unavailable)?;
                items.push(decode(bytes.value())?);
            }
            Ok(items)
        })
        .await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.trips.add();
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || work(&db))
            .await
            .map_err(|error| StoreError::Unavailable(format!("store task failed: {error}")))?
    }
}

fn unavailable(error: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

fn check_part(part: &str) -> Result<(), StoreError> {
    if part.contains(SEPARATOR) || part.contains(HIGHEST) {
        return Err(StoreError::InvalidTransaction("a key part holds a reserved character".into()));
    }
    Ok(())
}

fn primary(key: &Key) -> Result<String, StoreError> {
    check_part(&key.pk)?;
    check_part(&key.sk)?;
    Ok(format!("{}{SEPARATOR}{}", key.pk, key.sk))
}

fn index_entry(gsi1: &Key, key: &Key) -> Result<String, StoreError> {
    check_part(&gsi1.pk)?;
    check_part(&gsi1.sk)?;
    Ok(format!("{}{SEPARATOR}{}{SEPARATOR}{}", gsi1.pk, gsi1.sk, primary(key)?))
}

fn decode(bytes: &[u8]) -> Result<Item, StoreError> {
    serde_json::from_slice(bytes).map_err(|error| StoreError::Corrupt(error.to_string()))
}

fn encode(item: &Item) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(item).map_err(|error| StoreError::Corrupt(error.to_string()))
}

fn holds(condition: Condition, live: Option<&Item>) -> bool {
    match condition {
        Condition::Always => true,
        Condition::NotExists => live.is_none(),
        Condition::Exists => live.is_some(),
        Condition::VersionIs(version) => live.is_some_and(|item| item.version == version),
        Condition::ExistsWithout(field) => live.is_some_and(|item| item.data.get(field).is_none_or(|v| v.is_null())),
    }
}

/// Lower and upper bounds of a partition's sort-key range, as composite keys.
fn bounds(partition: &str, range: &SortKeyRange) -> Result<(String, String), StoreError> {
    check_part(partition)?;
    let base = format!("{partition}{SEPARATOR}");
    Ok(match range {
        SortKeyRange::All => (base.clone(), format!("{base}{HIGHEST}")),
        SortKeyRange::Prefix(prefix) => (format!("{base}{prefix}"), format!("{base}{prefix}{HIGHEST}")),
        // An index entry continues after its sort key with the separator, so the inclusive upper
        // bound also takes every entry whose sort key equals `to`.
        SortKeyRange::Between(from, to) => (format!("{base}{from}"), format!("{base}{to}{SEPARATOR}{HIGHEST}")),
    })
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let composite = primary(key)?;
        let now = self.clock.now().as_second();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let table = txn.open_table(ITEMS).map_err(unavailable)?;
            let found = table.get(composite.as_str()).map_err(unavailable)?;
            match found {
                Some(bytes) => {
                    let item = decode(bytes.value())?;
                    Ok((!item.is_expired(now)).then_some(item))
                }
                None => Ok(None),
            }
        })
        .await
    }

    async fn write(&self, write: Write) -> Result<(), StoreError> {
        self.transact(vec![write]).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        validate_transaction(&writes)?;
        let now = self.clock.now().as_second();
        let durable = self.durable;
        self.blocking(move |db| {
            let mut txn = db.begin_write().map_err(unavailable)?;
            if !durable {
                // Nothing to persist: skip the commit protocol that only protects a disk.
                txn.set_durability(redb::Durability::None).map_err(unavailable)?;
            }
            {
                let mut items = txn.open_table(ITEMS).map_err(unavailable)?;
                let mut index = txn.open_table(GSI1).map_err(unavailable)?;
                let mut stored: Vec<Option<Item>> = Vec::with_capacity(writes.len());
                for (position, write) in writes.iter().enumerate() {
                    let composite = primary(write.key())?;
                    let current = match items.get(composite.as_str()).map_err(unavailable)? {
                        Some(bytes) => Some(decode(bytes.value())?),
                        None => None,
                    };
                    let live = current.as_ref().filter(|item| !item.is_expired(now));
                    if !holds(write.condition(), live) {
                        // Dropping the transaction uncommitted aborts it: nothing is written.
                        return Err(StoreError::ConditionFailed { index: position });
                    }
                    stored.push(current);
                }
                for (write, current) in writes.into_iter().zip(stored) {
                    let key = write.key().clone();
                    let composite = primary(&key)?;
                    let next = match write {
                        Write::Check { .. } => continue,
                        Write::Delete { .. } => None,
                        Write::Put { item, .. } => Some(item),
                        Write::Add { counters, .. } => {
                            let mut item =
                                current.clone().filter(|item| !item.is_expired(now)).unwrap_or_else(|| Item {
                                    key: key.clone(),
                                    gsi1: None,
                                    expires_at: None,
                                    version: 0,
                                    data: serde_json::Map::new(),
                                });
                            for (field, by) in counters {
                                let before = item.data.get(&field).and_then(serde_json::Value::as_i64).unwrap_or(0);
                                item.data.insert(field, serde_json::Value::from(before + by));
                            }
                            Some(item)
                        }
                    };
                    if let Some(old_index) = current.as_ref().and_then(|item| item.gsi1.as_ref()) {
                        index.remove(index_entry(old_index, &key)?.as_str()).map_err(unavailable)?;
                    }
                    match next {
                        Some(item) => {
                            if let Some(gsi1) = &item.gsi1 {
                                index
                                    .insert(index_entry(gsi1, &key)?.as_str(), composite.as_str())
                                    .map_err(unavailable)?;
                            }
                            items.insert(composite.as_str(), encode(&item)?.as_slice()).map_err(unavailable)?;
                        }
                        None => {
                            items.remove(composite.as_str()).map_err(unavailable)?;
                        }
                    }
                }
            }
            txn.commit().map_err(unavailable)
        })
        .await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let (mut lower, mut upper) = {
            let (low, high) = bounds(&query.pk, &query.range)?;
            (Bound::Included(low), Bound::Included(high))
        };
        if let Some(cursor) = &query.cursor {
            let position = String::from_utf8(cursor.decode()?).map_err(|_| StoreError::BadCursor)?;
            // A cursor only continues the query it came from: never a way into another partition.
            let (low, high) = bounds(&query.pk, &query.range)?;
            if position.as_str() < low.as_str() || position.as_str() > high.as_str() {
                return Err(StoreError::BadCursor);
            }
            if query.descending {
                upper = Bound::Excluded(position);
            } else {
                lower = Bound::Excluded(position);
            }
        }
        let now = self.clock.now().as_second();
        let limit = query.limit.clamp(1, 1000) as usize;
        let descending = query.descending;
        let index = query.index;
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let items = txn.open_table(ITEMS).map_err(unavailable)?;
            let bounds = (bound_ref(&lower), bound_ref(&upper));
            let mut page = Vec::new();
            let mut last_position = None;
            let mut more = false;
            let mut visit = |position: String, item: Item| -> bool {
                if page.len() == limit {
                    more = true;
                    return false;
                }
                last_position = Some(position);
                if !item.is_expired(now) {
                    page.push(item);
                }
                true
            };
            match index {
                Index::Table => {
                    let range = items.range::<&str>(bounds).map_err(unavailable)?;
                    let entries: Box<dyn Iterator<Item = _>> =
                        if descending { Box::new(range.rev()) } else { Box::new(range) };
                    for entry in entries {
                        let (key, value) = entry.map_err(unavailable)?;
                        if !visit(key.value().to_owned(), decode(value.value())?) {
                            break;
                        }
                    }
                }
                Index::Gsi1 => {
                    let gsi = txn.open_table(GSI1).map_err(unavailable)?;
                    let range = gsi.range::<&str>(bounds).map_err(unavailable)?;
                    let entries: Box<dyn Iterator<Item = _>> =
                        if descending { Box::new(range.rev()) } else { Box::new(range) };
                    for entry in entries {
                        let (position, target) = entry.map_err(unavailable)?;
                        let Some(bytes) = items.get(target.value()).map_err(unavailable)? else {
                            return Err(StoreError::Corrupt("an index entry points at no item".into()));
                        };
                        if !visit(position.value().to_owned(), decode(bytes.value())?) {
                            break;
                        }
                    }
                }
            }
            let next = if more { last_position.map(|position| Cursor::encode(position.as_bytes())) } else { None };
            Ok(Page { items: page, next })
        })
        .await
    }

    fn round_trips(&self) -> u64 {
        self.trips.get()
    }
}

fn bound_ref(bound: &Bound<String>) -> Bound<&str> {
    match bound {
        Bound::Included(value) => Bound::Included(value.as_str()),
        Bound::Excluded(value) => Bound::Excluded(value.as_str()),
        Bound::Unbounded => Bound::Unbounded,
    }
}
