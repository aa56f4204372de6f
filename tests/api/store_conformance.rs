//! The store port's conformance suite, run against the embedded store and against DynamoDB on
//! moto: the same assertions, so the two adapters keep the same semantics.

use std::sync::Arc;

use clinic_shared::clock::{Clock, ManualClock};
use clinic_shared::store::dynamodb::{DynamoStore, create_table};
use clinic_shared::store::embedded::EmbeddedStore;
use clinic_shared::store::{Condition, Item, Key, Query, SortKeyRange, Store, StoreError, Write, query_all};
use clinic_tests::{frozen_clock, moto};
use serde_json::json;

/// A store under test with its clock; the guard keeps the embedded data directory alive.
pub struct Subject {
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    _guard: Option<tempfile::TempDir>,
}

pub fn embedded() -> Subject {
    let dir = tempfile::tempdir().unwrap();
    let clock = frozen_clock();
    let store = EmbeddedStore::open(&dir.path().join("test.redb"), clock.clone()).unwrap();
    Subject { store: Arc::new(store), clock, _guard: Some(dir) }
}

pub async fn dynamodb() -> Subject {
    let config = moto::sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = moto::unique("table");
    create_table(&client, &table).await.unwrap();
    let clock = frozen_clock();
    Subject { store: Arc::new(DynamoStore::new(client, table, clock.clone())), clock, _guard: None }
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod on_embedded {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() { super::$case(super::embedded()).await; })*
        }
        mod on_dynamodb_moto {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() { super::$case(super::dynamodb().await).await; })*
        }
    };
}

conformance!(
    put_get_round_trip,
    conditional_put_conflicts,
    cancelled_transaction_writes_nothing_and_names_the_failed_condition,
    fifty_concurrent_claims_have_exactly_one_winner,
    fifty_concurrent_transactional_claims_have_exactly_one_winner,
    pagination_walks_every_page_in_order,
    secondary_index_lists_by_its_own_key,
    expired_items_are_gone_on_read_and_for_conditions,
    counters_add_up,
    deletes_honour_their_condition,
    a_check_for_a_current_record_fails_on_an_archived_or_missing_one,
);

fn item(pk: &str, sk: &str, data: serde_json::Value) -> Item {
    Item::from_record(Key::new(pk, sk), &data).unwrap()
}

async fn put_get_round_trip(subject: Subject) {
    let store = subject.store;
    let original = item(
        "P",
        "S",
        json!({"name": "Flu jab", "minutes": 15, "tags": ["a", "b"], "nested": {"ok": true}, "empty": ""}),
    )
    .with_gsi1(Key::new("G", "1"))
    .with_version(7);
    store.write(Write::put(original.clone(), Condition::Always)).await.unwrap();
    assert_eq!(store.get(&Key::new("P", "S")).await.unwrap(), Some(original));
    assert_eq!(store.get(&Key::new("P", "missing")).await.unwrap(), None);
}

async fn conditional_put_conflicts(subject: Subject) {
    let store = subject.store;
    let first = item("P", "S", json!({"n": 1}));
    store.write(Write::put(first.clone(), Condition::NotExists)).await.unwrap();
    let again = store.write(Write::put(item("P", "S", json!({"n": 2})), Condition::NotExists)).await;
    assert_eq!(again, Err(StoreError::ConditionFailed { index: 0 }));
    let stale = store.write(Write::put(item("P", "S", json!({"n": 3})).with_version(3), Condition::VersionIs(2))).await;
    assert_eq!(stale, Err(StoreError::ConditionFailed { index: 0 }));
    store.write(Write::put(item("P", "S", json!({"n": 4})).with_version(2), Condition::VersionIs(1))).await.unwrap();
    let stored = store.get(&Key::new("P", "S")).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.data["n"].clone()), (2, json!(4)));
    let missing = store.write(Write::put(item("P", "other", json!({})), Condition::Exists)).await;
    assert_eq!(missing, Err(StoreError::ConditionFailed { index: 0 }));
}

async fn cancelled_transaction_writes_nothing_and_names_the_failed_condition(subject: Subject) {
    let store = subject.store;
    store.write(Write::put(item("P", "existing", json!({"n": 1})), Condition::Always)).await.unwrap();
    let writes = vec![
        Write::put(item("P", "a", json!({"n": 1})), Condition::NotExists),
        Write::put(item("P", "b", json!({"n": 1})), Condition::NotExists),
        Write::Add { key: Key::new("P", "counter"), counters: vec![("n".into(), 1)] },
        Write::Delete { key: Key::new("P", "existing"), condition: Condition::Always },
        Write::Check { key: Key::new("P", "absent"), condition: Condition::Exists },
    ];
    assert_eq!(store.transact(writes).await, Err(StoreError::ConditionFailed { index: 4 }));
    for sk in ["a", "b", "counter"] {
        assert_eq!(store.get(&Key::new("P", sk)).await.unwrap(), None, "{sk} was written");
    }
    assert!(store.get(&Key::new("P", "existing")).await.unwrap().is_some(), "the delete was applied");
    let first_fails = vec![
        Write::Check { key: Key::new("P", "absent"), condition: Condition::Exists },
        Write::put(item("P", "a", json!({})), Condition::NotExists),
    ];
    assert_eq!(store.transact(first_fails).await, Err(StoreError::ConditionFailed { index: 0 }));
}

async fn fifty_concurrent_claims_have_exactly_one_winner(subject: Subject) {
    for round in 0..5 {
        let key = format!("slot-{round}");
        let mut tasks = Vec::new();
        for contender in 0..50 {
            let store = subject.store.clone();
            let claim = item("CLAIMS", &key, json!({"by": contender}));
            tasks.push(tokio::spawn(async move { store.write(Write::put(claim, Condition::NotExists)).await }));
        }
        let mut winners = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(()) => winners += 1,
                Err(StoreError::ConditionFailed { index: 0 }) => {}
                Err(other) => panic!("unexpected error {other:?}"),
            }
        }
        assert_eq!(winners, 1, "round {round}");
    }
}

async fn fifty_concurrent_transactional_claims_have_exactly_one_winner(subject: Subject) {
    for round in 0..5 {
        let mut tasks = Vec::new();
        for contender in 0..50 {
            let store = subject.store.clone();
            let writes = vec![
                Write::put(item("CLAIMS", &format!("tx-{round}"), json!({"by": contender})), Condition::NotExists),
                Write::put(
                    item("BOOKINGS", &format!("{round}-{contender}"), json!({"by": contender})),
                    Condition::NotExists,
                ),
            ];
            tasks.push(tokio::spawn(async move { store.transact(writes).await }));
        }
        let mut winners = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(()) => winners += 1,
                Err(StoreError::ConditionFailed { index: 0 } | StoreError::Contention) => {}
                Err(other) => panic!("unexpected error {other:?}"),
            }
        }
        assert_eq!(winners, 1, "round {round}");
        let bookings = query_all(subject.store.as_ref(), Query::prefix("BOOKINGS", format!("{round}-"))).await.unwrap();
        assert_eq!(bookings.len(), 1, "losers left bookings behind in round {round}");
    }
}

async fn pagination_walks_every_page_in_order(subject: Subject) {
    let store = subject.store;
    for n in 0..25 {
        store
            .write(Write::put(item("PAGES", &format!("ITEM#{n:03}"), json!({"n": n})), Condition::Always))
            .await
            .unwrap();
    }
    store.write(Write::put(item("PAGES", "OTHER#1", json!({"n": -1})), Condition::Always)).await.unwrap();
    let mut query = Query::prefix("PAGES", "ITEM#").limit(10);
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = store.query(&query).await.unwrap();
        pages += 1;
        assert!(page.items.len() <= 10);
        seen.extend(page.items.iter().map(|item| item.data["n"].as_i64().unwrap()));
        match page.next {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(seen, (0..25).collect::<Vec<_>>());
    assert!(pages >= 3);
    let newest = store.query(&Query::prefix("PAGES", "ITEM#").descending().limit(3)).await.unwrap();
    let numbers: Vec<i64> = newest.items.iter().map(|item| item.data["n"].as_i64().unwrap()).collect();
    assert_eq!(numbers, [24, 23, 22]);
    let between =
        Query { range: SortKeyRange::Between("ITEM#005".into(), "ITEM#007".into()), ..Query::prefix("PAGES", "") };
    let numbers: Vec<i64> =
        query_all(store.as_ref(), between).await.unwrap().iter().map(|item| item.data["n"].as_i64().unwrap()).collect();
    assert_eq!(numbers, [5, 6, 7]);
    let bad_cursor = store
        .query(&Query::prefix("PAGES", "").after(Some(clinic_shared::store::Cursor::from_client("!!not-ours"))))
        .await;
    assert_eq!(bad_cursor, Err(StoreError::BadCursor));
    // A cursor from one partition cannot walk another.
    store.write(Write::put(item("OTHER", "secret", json!({"n": 0})), Condition::Always)).await.unwrap();
    let first = store.query(&Query::prefix("OTHER", "").limit(1)).await.unwrap();
    assert_eq!(first.items.len(), 1);
    let foreign = store.query(&Query::prefix("PAGES", "").limit(1)).await.unwrap().next.unwrap();
    assert_eq!(store.query(&Query::prefix("OTHER", "").after(Some(foreign))).await, Err(StoreError::BadCursor));
}

async fn secondary_index_lists_by_its_own_key(subject: Subject) {
    let store = subject.store;
    for (sk, index_sk) in [("b", "2026-01-02"), ("a", "2026-01-03"), ("c", "2026-01-01")] {
        let indexed = item("MAIN", sk, json!({"name": sk})).with_gsi1(Key::new("BY_DATE", index_sk));
        store.write(Write::put(indexed, Condition::Always)).await.unwrap();
    }
    store.write(Write::put(item("MAIN", "unindexed", json!({})), Condition::Always)).await.unwrap();
    let by_date = query_all(store.as_ref(), Query::prefix("BY_DATE", "2026-").on_gsi1()).await.unwrap();
    let order: Vec<&str> = by_date.iter().map(|item| item.key.sk.as_str()).collect();
    assert_eq!(order, ["c", "b", "a"]);
    // Moving an item in the index removes its old entry.
    let moved = item("MAIN", "c", json!({"name": "c"})).with_gsi1(Key::new("BY_DATE", "2026-01-09"));
    store.write(Write::put(moved, Condition::Always)).await.unwrap();
    let by_date = query_all(store.as_ref(), Query::prefix("BY_DATE", "").on_gsi1()).await.unwrap();
    let order: Vec<&str> = by_date.iter().map(|item| item.key.sk.as_str()).collect();
    assert_eq!(order, ["b", "a", "c"]);
    let paged = store.query(&Query::prefix("BY_DATE", "").on_gsi1().limit(2)).await.unwrap();
    assert_eq!(paged.items.len(), 2);
    let rest = store.query(&Query::prefix("BY_DATE", "").on_gsi1().limit(2).after(paged.next)).await.unwrap();
    assert_eq!(rest.items.iter().map(|item| item.key.sk.as_str()).collect::<Vec<_>>(), ["c"]);
}

async fn expired_items_are_gone_on_read_and_for_conditions(subject: Subject) {
    let store = subject.store;
    let now = subject.clock.now().as_second();
    store.write(Write::put(item("TTL", "old", json!({})).with_expiry(now - 1), Condition::Always)).await.unwrap();
    store.write(Write::put(item("TTL", "live", json!({})).with_expiry(now + 60), Condition::Always)).await.unwrap();
    assert_eq!(store.get(&Key::new("TTL", "old")).await.unwrap(), None);
    assert!(store.get(&Key::new("TTL", "live")).await.unwrap().is_some());
    let listed = query_all(store.as_ref(), Query::prefix("TTL", "")).await.unwrap();
    assert_eq!(listed.iter().map(|item| item.key.sk.as_str()).collect::<Vec<_>>(), ["live"]);
    // An expired hold does not block a new claim; a live one does.
    store.write(Write::put(item("TTL", "old", json!({"again": true})), Condition::NotExists)).await.unwrap();
    assert_eq!(
        store.write(Write::put(item("TTL", "live", json!({})), Condition::NotExists)).await,
        Err(StoreError::ConditionFailed { index: 0 })
    );
    subject.clock.advance(jiff::SignedDuration::from_secs(120));
    assert_eq!(store.get(&Key::new("TTL", "live")).await.unwrap(), None);
}

async fn counters_add_up(subject: Subject) {
    let store = subject.store;
    let key = Key::new("COUNT", "day");
    store.write(Write::Add { key: key.clone(), counters: vec![("created".into(), 1)] }).await.unwrap();
    store
        .transact(vec![Write::Add { key: key.clone(), counters: vec![("created".into(), 2), ("removed".into(), 1)] }])
        .await
        .unwrap();
    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!((stored.data["created"].as_i64(), stored.data["removed"].as_i64()), (Some(3), Some(1)));
}

async fn deletes_honour_their_condition(subject: Subject) {
    let store = subject.store;
    store.write(Write::put(item("DEL", "x", json!({})).with_version(4), Condition::Always)).await.unwrap();
    let stale = store.write(Write::Delete { key: Key::new("DEL", "x"), condition: Condition::VersionIs(3) }).await;
    assert_eq!(stale, Err(StoreError::ConditionFailed { index: 0 }));
    store.write(Write::Delete { key: Key::new("DEL", "x"), condition: Condition::VersionIs(4) }).await.unwrap();
    assert_eq!(store.get(&Key::new("DEL", "x")).await.unwrap(), None);
    store.write(Write::Delete { key: Key::new("DEL", "never"), condition: Condition::Always }).await.unwrap();
}

async fn a_check_for_a_current_record_fails_on_an_archived_or_missing_one(subject: Subject) {
    let store = subject.store;
    let marker = Key::new("ARC", "marker");
    store.write(Write::put(item("ARC", "marker", json!({})), Condition::Always)).await.unwrap();
    store.write(Write::put(item("ARC", "current", json!({"name": "a"})), Condition::Always)).await.unwrap();
    store.write(Write::put(item("ARC", "nulled", json!({"archived_at": null})), Condition::Always)).await.unwrap();
    store
        .write(Write::put(item("ARC", "archived", json!({"archived_at": "2026-12-01T09:00:00Z"})), Condition::Always))
        .await
        .unwrap();
    for (sk, holds) in [("current", true), ("nulled", true), ("archived", false), ("missing", false)] {
        let writes = vec![
            Write::check_current(Key::new("ARC", sk)),
            Write::put(item("ARC", "marker", json!({"by": sk})), Condition::Exists),
        ];
        let outcome = store.transact(writes).await;
        let expected = if holds { Ok(()) } else { Err(StoreError::ConditionFailed { index: 0 }) };
        assert_eq!(outcome.map(|_| ()), expected, "{sk}");
    }
    let marker = store.get(&marker).await.unwrap().unwrap();
    assert_eq!(marker.data["by"], json!("nulled"), "only the checks that held wrote");
}
