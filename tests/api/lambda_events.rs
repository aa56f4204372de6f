//! The sample events in `events/` are real API Gateway v2, EventBridge Scheduler and EventBridge
//! payloads; the handlers run on them exactly as the Lambdas would.

use std::collections::BTreeSet;
use std::sync::Arc;

use aws_lambda_events_shim::EventBridgeEvent;
use clinic_shared::app::{EmbeddedApp, Settings};
use clinic_shared::domain::booking_type::{BookingType, BookingTypeId};
use clinic_shared::domain::clinic::ClinicId;
use clinic_shared::domain::jobs::{JobRecord, JobStatus, ScheduledJob};
use clinic_shared::features::activity::ActivityConsumer;
use clinic_shared::lambda::{handle_domain_event, handle_scheduled_payload};
use clinic_shared::local::seed::seed_demo_clinic;
use clinic_shared::routes::{ROUTES, handle};
use clinic_shared::store::{Condition, Item, Write, keys};
use clinic_tests::repo_root;

mod aws_lambda_events_shim {
    pub use lambda_http::aws_lambda_events::eventbridge::EventBridgeEvent;
}

const BOOKING_TYPE: &str = "0b7e6f8e-7a53-4d64-9a1b-5c4c8e0f4c11";

fn fixture(path: &str) -> String {
    std::fs::read_to_string(repo_root().join("events").join(path)).unwrap()
}

async fn app() -> (EmbeddedApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let app = EmbeddedApp::open(
        dir.path(),
        clinic_tests::frozen_clock(),
        Settings { public_base_url: "http://127.0.0.1".into() },
    )
    .unwrap();
    seed_demo_clinic(&app.state).await.unwrap();
    let clinic = ClinicId::parse("demo").unwrap();
    let id = BookingTypeId::generated(BOOKING_TYPE.into());
    let booking_type = BookingType {
        id: id.clone(),
        short_name: "FIX".into(),
        long_name: "Fixture booking type".into(),
        duration_minutes: 15,
        enabled_online: true,
        created_at: clinic_tests::TEST_START.parse().unwrap(),
        updated_at: clinic_tests::TEST_START.parse().unwrap(),
    };
    let item = Item::from_record(keys::booking_type(&clinic, &id), &booking_type).unwrap();
    app.state.store.write(Write::put(item, Condition::NotExists)).await.unwrap();
    (app, dir)
}

#[tokio::test]
async fn every_http_event_runs_through_its_function() {
    let (app, _dir) = app().await;
    let cases = [
        ("meta/health.json", "meta", 200),
        ("meta/openapi.json", "meta", 200),
        ("catalog-admin/put-clinic.json", "catalog-admin", 200),
        ("catalog-admin/create-booking-type.json", "catalog-admin", 201),
        ("catalog-admin/list-booking-types.json", "catalog-admin", 200),
        ("catalog-admin/update-booking-type.json", "catalog-admin", 200),
        ("catalog-admin/booking-type-history.json", "catalog-admin", 200),
        ("catalog-admin/clinic-activity.json", "catalog-admin", 200),
        ("catalog-public/public-catalog.json", "catalog-public", 200),
    ];
    let mut covered = BTreeSet::new();
    for (file, function, status) in cases {
        let request = lambda_http::request::from_str(&fixture(file)).unwrap();
        covered.insert(clinic_shared::http::request::route_key(&request).unwrap().to_owned());
        let response = handle(&app.state, function, request).await;
        assert_eq!(response.status().as_u16(), status, "{file}: {:?}", response.body());
        // The same event sent to another function is not served by it.
        let request = lambda_http::request::from_str(&fixture(file)).unwrap();
        let other = if function == "meta" { "catalog-public" } else { "meta" };
        assert_eq!(handle(&app.state, other, request).await.status().as_u16(), 404, "{file} served by {other}");
    }
    let all: BTreeSet<String> = ROUTES.iter().map(|route| route.key()).collect();
    assert_eq!(covered, all, "every route has a sample event");
}

#[tokio::test]
async fn the_scheduler_payload_runs_once_and_is_ignored_when_unknown() {
    let (app, _dir) = app().await;
    let payload: serde_json::Value =
        serde_json::from_str(&fixture("scheduled-runner/apply-booking-type-change.json")).unwrap();
    let outcome = handle_scheduled_payload(&app.state, payload.clone()).await.unwrap();
    assert_eq!(outcome["outcome"], "unknown_job");
    let job: ScheduledJob = serde_json::from_value(payload.clone()).unwrap();
    let record =
        JobRecord { job: job.clone(), due_at: clinic_tests::TEST_START.parse().unwrap(), status: JobStatus::Pending };
    app.state
        .store
        .write(Write::put(
            Item::from_record(keys::job(&job.clinic_id, &job.job_id), &record).unwrap(),
            Condition::NotExists,
        ))
        .await
        .unwrap();
    assert_eq!(handle_scheduled_payload(&app.state, payload.clone()).await.unwrap()["outcome"], "ran");
    assert_eq!(handle_scheduled_payload(&app.state, payload).await.unwrap()["outcome"], "already_done");
    assert!(
        handle_scheduled_payload(&app.state, serde_json::json!({"job_id": 1})).await.is_err(),
        "a malformed payload must fail so it is dead-lettered"
    );
}

#[tokio::test]
async fn the_eventbridge_event_counts_once() {
    let (app, _dir) = app().await;
    let consumer = ActivityConsumer::new(Arc::clone(&app.state.store));
    let event: EventBridgeEvent<clinic_shared::domain::events::DomainEvent> =
        serde_json::from_str(&fixture("event-consumer/booking-type-created.json")).unwrap();
    handle_domain_event(&consumer, event.clone()).await.unwrap();
    handle_domain_event(&consumer, event).await.unwrap();
    let clinic = ClinicId::parse("demo").unwrap();
    let day =
        app.state.store.get(&keys::daily_activity(&clinic, "2026-11-22".parse().unwrap())).await.unwrap().unwrap();
    // The seed's four creations happened on the frozen clock's day too.
    assert_eq!(day.data["booking_types_created"].as_i64(), Some(5));
}
