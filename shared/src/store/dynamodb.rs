//! The DynamoDB store: the single table described in [`super::keys`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, Put, ScalarAttributeType, TransactWriteItem, Update,
};
use serde_dynamo::aws_sdk_dynamodb_1::{from_attribute_value, to_attribute_value};

use super::{
    Condition, Cursor, Index, Item, Key, Page, Query, RESERVED_ATTRIBUTES, RoundTrips, SortKeyRange, Store, StoreError,
    Write, validate_transaction,
};
use crate::clock::Clock;

/// Name of the secondary index.
pub const GSI1_NAME: &str = "gsi1";
/// How often a transaction that conflicted with concurrent transactions is tried again.
const CONFLICT_RETRIES: u32 = 6;

/// The DynamoDB-backed store.
pub struct DynamoStore {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
    trips: RoundTrips,
}

impl DynamoStore {
    /// A store over `table`, using a client built at init.
    pub fn new(client: Client, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self { client, table: table.into(), clock, trips: RoundTrips::default() }
    }
}

/// Creates the table as the SAM template declares it (for tests and local tooling against an
/// emulator; on AWS the template owns the table).
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(unavailable)
    };
    let key = |name: &str, key_type: KeyType| {
        KeySchemaElement::builder().attribute_name(name).key_type(key_type).build().map_err(unavailable)
    };
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk")?)
        .attribute_definitions(attribute("sk")?)
        .attribute_definitions(attribute("gsi1pk")?)
        .attribute_definitions(attribute("gsi1sk")?)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(GSI1_NAME)
                .key_schema(key("gsi1pk", KeyType::Hash)?)
                .key_schema(key("gsi1sk", KeyType::Range)?)
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .map_err(unavailable)?,
        )
        .send()
        .await
        .map_err(|error| unavailable(error.into_service_error()))?;
    Ok(())
}

fn unavailable(error: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

fn sdk_unavailable<E: std::error::Error + 'static, R: std::fmt::Debug>(error: SdkError<E, R>) -> StoreError {
    StoreError::Unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(&error).to_string())
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn key_attributes(key: &Key) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_owned(), s(&key.pk)), ("sk".to_owned(), s(&key.sk))])
}

fn to_attributes(item: &Item) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let mut attributes = key_attributes(&item.key);
    if let Some(gsi1) = &item.gsi1 {
        attributes.insert("gsi1pk".into(), s(&gsi1.pk));
        attributes.insert("gsi1sk".into(), s(&gsi1.sk));
    }
    if let Some(expires_at) = item.expires_at {
        attributes.insert("expires_at".into(), n(expires_at));
    }
    attributes.insert("version".into(), n(item.version));
    for (name, value) in &item.data {
        if RESERVED_ATTRIBUTES.contains(&name.as_str()) {
            return Err(StoreError::Corrupt(format!("record field `{name}` is reserved by the store")));
        }
        let value = to_attribute_value(value).map_err(|error| StoreError::Corrupt(error.to_string()))?;
        attributes.insert(name.clone(), value);
    }
    Ok(attributes)
}

fn from_attributes(mut attributes: HashMap<String, AttributeValue>) -> Result<Item, StoreError> {
    let text = |attributes: &mut HashMap<String, AttributeValue>, name: &str| -> Option<String> {
        match attributes.remove(name) {
            Some(AttributeValue::S(value)) => Some(value),
            _ => None,
        }
    };
    let number = |attributes: &mut HashMap<String, AttributeValue>, name: &str| -> Option<i64> {
        match attributes.remove(name) {
            Some(AttributeValue::N(value)) => value.parse().ok(),
            _ => None,
        }
    };
    let corrupt = || StoreError::Corrupt("an item lacks its keys".into());
    let key =
        Key::new(text(&mut attributes, "pk").ok_or_else(corrupt)?, text(&mut attributes, "sk").ok_or_else(corrupt)?);
    let gsi1 = match (text(&mut attributes, "gsi1pk"), text(&mut attributes, "gsi1sk")) {
        (Some(pk), Some(sk)) => Some(Key::new(pk, sk)),
        _ => None,
    };
    let expires_at = number(&mut attributes, "expires_at");
    let version = number(&mut attributes, "version").unwrap_or(0).max(0) as u64;
    let mut data = serde_json::Map::new();
    for (name, value) in attributes {
        let value: serde_json::Value =
            from_attribute_value(value).map_err(|error| StoreError::Corrupt(error.to_string()))?;
        data.insert(name, value);
    }
    Ok(Item { key, gsi1, expires_at, version, data })
}

/// A condition as DynamoDB expression text with its names and values.
#[derive(Default)]
struct Expression {
    text: Option<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

fn condition_expression(condition: Condition, now: i64) -> Expression {
    let live = "(attribute_not_exists(#exp) OR #exp > :now)";
    let (text, version) = match condition {
        Condition::Always => return Expression::default(),
        Condition::NotExists => ("attribute_not_exists(#pk) OR #exp <= :now".to_owned(), None),
        Condition::Exists => (format!("attribute_exists(#pk) AND {live}"), None),
        Condition::VersionIs(version) => (format!("#ver = :ver AND {live}"), Some(version)),
        Condition::ExistsWithout(_) => (
            format!(
                "attribute_exists(#pk) AND (attribute_not_exists(#without) OR attribute_type(#without, :null)) AND {live}"
            ),
            None,
        ),
    };
    let mut names = HashMap::from([("#exp".to_owned(), "expires_at".to_owned())]);
    let mut values = HashMap::from([(":now".to_owned(), n(now))]);
    if let Condition::ExistsWithout(field) = condition {
        names.insert("#without".to_owned(), field.to_owned());
        values.insert(":null".to_owned(), s("NULL"));
    }
    match version {
        Some(version) => {
            names.insert("#ver".into(), "version".into());
            values.insert(":ver".into(), n(version));
        }
        None => {
            names.insert("#pk".into(), "pk".into());
        }
    }
    Expression { text: Some(text), names, values }
}

fn add_expression(counters: &[(String, i64)]) -> Expression {
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let mut parts = Vec::new();
    for (position, (field, by)) in counters.iter().enumerate() {
        names.insert(format!("#c{position}"), field.clone());
        values.insert(format!(":c{position}"), n(by));
        parts.push(format!("#c{position} :c{position}"));
    }
    Expression { text: Some(format!("ADD {}", parts.join(", "))), names, values }
}

fn some_map<V>(map: HashMap<String, V>) -> Option<HashMap<String, V>> {
    (!map.is_empty()).then_some(map)
}

fn transact_item(write: &Write, now: i64) -> Result<TransactWriteItem, StoreError> {
    let built = match write {
        Write::Put { item, condition } => {
            let condition = condition_expression(*condition, now);
            TransactWriteItem::builder().put(
                Put::builder()
                    .set_item(Some(to_attributes(item)?))
                    .set_condition_expression(condition.text)
                    .set_expression_attribute_names(some_map(condition.names))
                    .set_expression_attribute_values(some_map(condition.values))
                    .table_name("-")
                    .build()
                    .map_err(unavailable)?,
            )
        }
        Write::Delete { key, condition } => {
            let condition = condition_expression(*condition, now);
            TransactWriteItem::builder().delete(
                Delete::builder()
                    .set_key(Some(key_attributes(key)))
                    .set_condition_expression(condition.text)
                    .set_expression_attribute_names(some_map(condition.names))
                    .set_expression_attribute_values(some_map(condition.values))
                    .table_name("-")
                    .build()
                    .map_err(unavailable)?,
            )
        }
        Write::Add { key, counters } => {
            let update = add_expression(counters);
            TransactWriteItem::builder().update(
                Update::builder()
                    .set_key(Some(key_attributes(key)))
                    .update_expression(update.text.unwrap_or_default())
                    .set_expression_attribute_names(some_map(update.names))
                    .set_expression_attribute_values(some_map(update.values))
                    .table_name("-")
                    .build()
                    .map_err(unavailable)?,
            )
        }
        Write::Check { key, condition } => {
            let condition = condition_expression(*condition, now);
            TransactWriteItem::builder().condition_check(
                ConditionCheck::builder()
                    .set_key(Some(key_attributes(key)))
                    .condition_expression(
                        condition.text.unwrap_or_else(|| "attribute_exists(#pk) OR attribute_not_exists(#pk)".into()),
                    )
                    .set_expression_attribute_names(some_map(if condition.names.is_empty() {
                        HashMap::from([("#pk".to_owned(), "pk".to_owned())])
                    } else {
                        condition.names
                    }))
                    .set_expression_attribute_values(some_map(condition.values))
                    .table_name("-")
                    .build()
                    .map_err(unavailable)?,
            )
        }
    };
    Ok(built.build())
}

/// The table name is set after building, because the builders require one up front.
fn with_table(mut item: TransactWriteItem, table: &str) -> TransactWriteItem {
    if let Some(put) = item.put.as_mut() {
        put.table_name = table.to_owned();
    }
    if let Some(delete) = item.delete.as_mut() {
        delete.table_name = table.to_owned();
    }
    if let Some(update) = item.update.as_mut() {
        update.table_name = table.to_owned();
    }
    if let Some(check) = item.condition_check.as_mut() {
        check.table_name = table.to_owned();
    }
    item
}

fn jitter(attempt: u32) -> Duration {
    let random = (uuid::Uuid::new_v4().as_u128() % 20) as u64;
    Duration::from_millis(10 * u64::from(attempt + 1) + random)
}

impl DynamoStore {
    async fn put(&self, item: &Item, condition: Condition, now: i64) -> Result<(), StoreError> {
        let condition = condition_expression(condition, now);
        self.trips.add();
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attributes(item)?))
            .set_condition_expression(condition.text)
            .set_expression_attribute_names(some_map(condition.names))
            .set_expression_attribute_values(some_map(condition.values))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| match error.into_service_error() {
                service if service.is_conditional_check_failed_exception() => StoreError::ConditionFailed { index: 0 },
                service => unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(service)),
            })
    }

    async fn delete(&self, key: &Key, condition: Condition, now: i64) -> Result<(), StoreError> {
        let condition = condition_expression(condition, now);
        self.trips.add();
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .set_condition_expression(condition.text)
            .set_expression_attribute_names(some_map(condition.names))
            .set_expression_attribute_values(some_map(condition.values))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| match error.into_service_error() {
                service if service.is_conditional_check_failed_exception() => StoreError::ConditionFailed { index: 0 },
                service => unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(service)),
            })
    }

    async fn add(&self, key: &Key, counters: &[(String, i64)]) -> Result<(), StoreError> {
        let update = add_expression(counters);
        self.trips.add();
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .set_update_expression(update.text)
            .set_expression_attribute_names(some_map(update.names))
            .set_expression_attribute_values(some_map(update.values))
            .send()
            .await
            .map(|_| ())
            .map_err(sdk_unavailable)
    }

    async fn transact_once(&self, writes: &[Write], now: i64) -> Result<(), StoreError> {
        let items = writes
            .iter()
            .map(|write| transact_item(write, now).map(|item| with_table(item, &self.table)))
            .collect::<Result<Vec<_>, _>>()?;
        self.trips.add();
        // A token makes the SDK's own retry of a committed-but-unanswered call a no-op, instead of
        // a failed condition that would look like a lost race.
        let token = uuid::Uuid::new_v4().to_string();
        let result =
            self.client.transact_write_items().set_transact_items(Some(items)).client_request_token(token).send().await;
        let Err(error) = result else { return Ok(()) };
        let service = error.into_service_error();
        if let aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(
            cancelled,
        ) = &service
        {
            let reasons = cancelled.cancellation_reasons();
            if let Some(index) =
                reasons.iter().position(|reason| reason.code() == Some("ConditionalCheckFailed"))
            {
                return Err(StoreError::ConditionFailed { index });
            }
            if reasons.iter().any(|reason| reason.code() == Some("TransactionConflict")) {
                return Err(StoreError::Contention);
            }
        }
        if matches!(service.code(), Some("TransactionConflictException" | "TransactionInProgressException")) {
            return Err(StoreError::Contention);
        }
        Err(unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(service)))
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.trips.add();
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_unavailable)?;
        let now = self.clock.now().as_second();
        match output.item {
            Some(attributes) => {
                let item = from_attributes(attributes)?;
                Ok((!item.is_expired(now)).then_some(item))
            }
            None => Ok(None),
        }
    }

    async fn write(&self, write: Write) -> Result<(), StoreError> {
        let now = self.clock.now().as_second();
        match &write {
            Write::Put { item, condition } => self.put(item, *condition, now).await,
            Write::Delete { key, condition } => self.delete(key, *condition, now).await,
            Write::Add { key, counters } => self.add(key, counters).await,
            Write::Check { .. } => self.transact(vec![write]).await,
        }
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        validate_transaction(&writes)?;
        let mut attempt = 0;
        loop {
            let now = self.clock.now().as_second();
            match self.transact_once(&writes, now).await {
                Err(StoreError::Contention) if attempt < CONFLICT_RETRIES => {
                    tokio::time::sleep(jitter(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let (pk_name, sk_name, index_name) = match query.index {
            Index::Table => ("pk", "sk", None),
            Index::Gsi1 => ("gsi1pk", "gsi1sk", Some(GSI1_NAME)),
        };
        let now = self.clock.now().as_second();
        let mut names =
            HashMap::from([("#pk".to_owned(), pk_name.to_owned()), ("#exp".to_owned(), "expires_at".to_owned())]);
        let mut values = HashMap::from([(":pk".to_owned(), s(&query.pk)), (":now".to_owned(), n(now))]);
        // DynamoDB refuses empty strings in key conditions: an empty prefix means the whole
        // partition, and an empty lower bound means "up to".
        let key_condition = match &query.range {
            SortKeyRange::All => "#pk = :pk".to_owned(),
            SortKeyRange::Prefix(prefix) if prefix.is_empty() => "#pk = :pk".to_owned(),
            SortKeyRange::Between(from, to) if from.is_empty() => {
                names.insert("#sk".into(), sk_name.into());
                values.insert(":to".into(), s(to));
                "#pk = :pk AND #sk <= :to".to_owned()
            }
            SortKeyRange::Prefix(prefix) => {
                names.insert("#sk".into(), sk_name.into());
                values.insert(":prefix".into(), s(prefix));
                "#pk = :pk AND begins_with(#sk, :prefix)".to_owned()
            }
            SortKeyRange::Between(from, to) => {
                names.insert("#sk".into(), sk_name.into());
                values.insert(":from".into(), s(from));
                values.insert(":to".into(), s(to));
                "#pk = :pk AND #sk BETWEEN :from AND :to".to_owned()
            }
        };
        let start = match &query.cursor {
            Some(cursor) => {
                let raw: HashMap<String, String> =
                    serde_json::from_slice(&cursor.decode()?).map_err(|_| StoreError::BadCursor)?;
                // A cursor only continues the query it came from: never a way into another partition.
                let mut expected = vec!["pk", "sk"];
                if index_name.is_some() {
                    expected.extend(["gsi1pk", "gsi1sk"]);
                }
                let own_partition = raw.get(pk_name).is_some_and(|value| *value == query.pk);
                if raw.len() != expected.len() || !expected.iter().all(|name| raw.contains_key(*name)) || !own_partition
                {
                    return Err(StoreError::BadCursor);
                }
                Some(raw.into_iter().map(|(name, value)| (name, AttributeValue::S(value))).collect())
            }
            None => None,
        };
        self.trips.add();
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(index_name.map(str::to_owned))
            .key_condition_expression(key_condition)
            .filter_expression("attribute_not_exists(#exp) OR #exp > :now")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .limit(query.limit.clamp(1, 1000) as i32)
            .scan_index_forward(!query.descending)
            .set_exclusive_start_key(start)
            .set_consistent_read(index_name.is_none().then_some(true))
            .send()
            .await
            .map_err(sdk_unavailable)?;
        let items = output.items.unwrap_or_default().into_iter().map(from_attributes).collect::<Result<Vec<_>, _>>()?;
        let next = match output.last_evaluated_key {
            Some(last) => {
                let raw: HashMap<String, String> = last
                    .into_iter()
                    .filter_map(|(name, value)| match value {
                        AttributeValue::S(text) => Some((name, text)),
                        _ => None,
                    })
                    .collect();
                let bytes = serde_json::to_vec(&raw).map_err(|error| StoreError::Corrupt(error.to_string()))?;
                Some(Cursor::encode(&bytes))
            }
            None => None,
        };
        Ok(Page { items, next })
    }

    fn round_trips(&self) -> u64 {
        self.trips.get()
    }
}
