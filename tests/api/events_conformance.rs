//! The events port: PutEvents on a bus in moto, and in-process delivery to the activity consumer,
//! where a repeated delivery counts once.

use std::sync::Arc;

use clinic_shared::domain::clinic::ClinicId;
use clinic_shared::domain::events::{DomainEvent, EntryKind, Fact};
use clinic_shared::events::aws::EventBridgePublisher;
use clinic_shared::events::in_process::InProcessEvents;
use clinic_shared::events::{EventConsumer, EventPublisher};
use clinic_shared::features::activity::ActivityConsumer;
use clinic_shared::store::keys;
use clinic_tests::moto;

fn event(id: &str) -> DomainEvent {
    DomainEvent {
        id: id.to_owned(),
        clinic_id: ClinicId::parse("demo").unwrap(),
        occurred_at: "2026-11-22T10:00:00Z".parse().unwrap(),
        fact: Fact::CatalogEntryCreated { kind: EntryKind::BookingType, entry_id: "bt".into(), enabled_online: true },
    }
}

#[tokio::test]
async fn eventbridge_accepts_events_on_the_bus_and_refuses_an_unknown_bus() {
    let config = moto::sdk_config().await;
    let client = aws_sdk_eventbridge::Client::new(&config);
    let bus = moto::unique("bus");
    client.create_event_bus().name(&bus).send().await.unwrap();
    let events: Vec<DomainEvent> = (0..12).map(|n| event(&format!("e{n}"))).collect();
    EventBridgePublisher::new(client.clone(), &bus).publish(&events).await.expect("12 events in two batches");
    let missing = EventBridgePublisher::new(client, moto::unique("no-such-bus")).publish(&events[..1]).await;
    assert!(missing.is_err(), "publishing to a bus that does not exist must fail");
}

#[tokio::test]
async fn in_process_delivery_counts_each_event_once_however_often_it_arrives() {
    let subject = super::store_conformance::embedded();
    let bus = InProcessEvents::new();
    let consumer = Arc::new(ActivityConsumer::new(subject.store.clone()));
    bus.attach(consumer.clone());
    bus.publish(&[event("once"), event("twice")]).await.unwrap();
    bus.publish(&[event("twice")]).await.unwrap();
    consumer.consume(&event("twice")).await.unwrap();
    let day = subject
        .store
        .get(&keys::daily_activity(&ClinicId::parse("demo").unwrap(), "2026-11-22".parse().unwrap()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(day.data["booking_types_created"].as_i64(), Some(2));
    assert_eq!(day.data["booking_types_put_online"].as_i64(), Some(2));
}
