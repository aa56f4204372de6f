//! 200 concurrent booking attempts on overlapping slots, with "any provider" among them, on
//! the embedded store and on DynamoDB (moto): no provider is ever double-booked, and every
//! loser gets a 409 with fresh alternatives.

use std::collections::HashMap;

use clinic_tests::TestApp;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::self_booking::{book, booking, demo, slots};

const ATTEMPTS: usize = 200;

async fn contest(app: TestApp) {
    let demo = demo(&app).await;
    let nurse = demo.providers.iter().find(|p| p["name"] == "Sam Patel").unwrap()["id"].as_str().unwrap().to_owned();
    // The nurse's 20-minute appointments on a 10-minute grid overlap their neighbours.
    let nurse_slots = slots(&app, &format!("booking_type_id={}&provider_id={nurse}", demo.nurse20)).await;
    let gp_slots = slots(&app, &format!("booking_type_id={}", demo.gp15)).await;
    let mut targets: Vec<Value> = nurse_slots
        .iter()
        .take(4)
        .map(|slot| booking(&demo.nurse20, &nurse, "any", slot["starts_at"].as_str().unwrap()))
        .collect();
    targets.extend(
        gp_slots.iter().take(3).map(|slot| booking(&demo.gp15, "any", "any", slot["starts_at"].as_str().unwrap())),
    );
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for attempt in 0..ATTEMPTS {
        let (app, body) = (app.clone(), targets[attempt % targets.len()].clone());
        tasks.push(tokio::spawn(async move { book(&app, &body, None).await }));
    }
    let mut statuses: HashMap<u16, usize> = HashMap::new();
    for task in tasks {
        let answer = task.await.unwrap();
        *statuses.entry(answer.status).or_default() += 1;
        match answer.status {
            201 => {}
            409 => assert!(!answer.body["alternatives"].as_array().unwrap().is_empty(), "a loser got no alternatives"),
            other => panic!("unexpected status {other}: {:?}", answer.body),
        }
    }
    let winners = statuses.get(&201).copied().unwrap_or(0);
    assert_eq!(winners + statuses.get(&409).copied().unwrap_or(0), ATTEMPTS);
    // Every appointment of the day, per provider: none overlaps another.
    let token = app.demo_admin();
    // Every day the contested slots fall on (the first few slots can run past a day's end).
    let days: std::collections::BTreeSet<String> = nurse_slots
        .iter()
        .take(4)
        .chain(gp_slots.iter().take(3))
        .map(|slot| slot["local_start"].as_str().unwrap()[..10].to_owned())
        .collect();
    let mut appointments = Vec::new();
    for date in days {
        let diary = app.get(&format!("/admin/clinics/demo/appointments?date={date}"), Some(&token)).await;
        appointments.extend(diary.body["items"].as_array().unwrap().clone());
    }
    appointments.sort_by_key(|a| a["id"].as_str().unwrap().to_owned());
    appointments.dedup_by_key(|a| a["id"].as_str().unwrap().to_owned());
    assert_eq!(appointments.len(), winners, "winners and diary disagree");
    let span = |a: &Value| {
        let start: Timestamp = a["starts_at"].as_str().unwrap().parse().unwrap();
        (start, start + SignedDuration::from_mins(a["duration_minutes"].as_i64().unwrap()))
    };
    for (i, a) in appointments.iter().enumerate() {
        for b in &appointments[i + 1..] {
            if a["provider_id"] == b["provider_id"] {
                let ((a_start, a_end), (b_start, b_end)) = (span(a), span(b));
                assert!(a_end <= b_start || b_end <= a_start, "overlap: {a} and {b}");
            }
        }
    }
    // The three GP slots, booked "any provider", can take one appointment per GP each; the
    // nurse's four overlapping starts can take at most two.
    assert!(winners >= 3 + 2, "too few winners: {statuses:?}");
    assert!(winners <= 3 * 2 + 2, "too many winners: {statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_contested_bookings_on_the_embedded_store() {
    contest(TestApp::spawn().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_contested_bookings_on_dynamodb() {
    contest(TestApp::spawn_on_moto().await).await;
}
