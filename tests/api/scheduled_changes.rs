//! A booking type change scheduled for later: the in-process scheduler delivers it to the same
//! runner code the Lambda runs, and a repeated delivery changes nothing twice.

use clinic_shared::clock::Clock;
use clinic_shared::domain::clinic::ClinicId;
use clinic_shared::domain::jobs::{JobRecord, JobStatus};
use clinic_shared::features::runner::{AppRunner, Outcome, run_job};
use clinic_shared::lambda::handle_scheduled_payload;
use clinic_shared::store::{Query, keys, query_all};
use clinic_tests::TestApp;
use jiff::SignedDuration;
use serde_json::json;

#[tokio::test]
async fn a_scheduled_change_applies_once_at_its_time_whatever_the_deliveries() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    let travel = app.get("/admin/clinics/demo/booking-types?limit=100", Some(&token)).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|bt| bt["short_name"] == "TRAVEL")
        .cloned()
        .unwrap();
    let path = format!("/admin/clinics/demo/booking-types/{}", travel["id"].as_str().unwrap());
    let at = app.server.clock.now() + SignedDuration::from_hours(48);
    let accepted =
        app.json("PATCH", &path, Some(&token), json!({"enabled_online": true, "effective_at": at.to_string()})).await;
    assert_eq!((accepted.status, accepted.body["status"].as_str()), (202, Some("pending")), "{:?}", accepted.body);
    let job_id = accepted.body["job_id"].as_str().unwrap().to_owned();

    // Before its time: nothing changes, however often the timer ticks.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let public = app.get("/public/clinics/demo/catalog", None).await;
    assert!(!public.body.to_string().contains("Travel vaccination"));

    // At its time, the timer delivers it to the runner.
    app.server.clock.advance(SignedDuration::from_hours(48));
    let mut published = false;
    for _ in 0..100 {
        if app.get("/public/clinics/demo/catalog", None).await.body.to_string().contains("Travel vaccination") {
            published = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(published, "the scheduled change did not apply");

    // The same payload delivered again, directly and through the Lambda entry point: no effect.
    let state = &app.server.app.state;
    let clinic = ClinicId::parse("demo").unwrap();
    let record: JobRecord = state.store.get(&keys::job(&clinic, &job_id)).await.unwrap().unwrap().record().unwrap();
    assert_eq!(record.status, JobStatus::Done);
    assert_eq!(run_job(state, &record.job).await.unwrap(), Outcome::AlreadyDone);
    let answer = handle_scheduled_payload(state, serde_json::to_value(&record.job).unwrap()).await.unwrap();
    assert_eq!(answer["outcome"], "already_done");
    let runner = AppRunner(state.clone());
    clinic_shared::scheduler::JobRunner::run(&runner, record.job.clone()).await.unwrap();

    let history = app.get(&format!("{path}/history"), Some(&token)).await;
    let actions: Vec<(String, String)> = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| (record["action"].as_str().unwrap().to_owned(), record["actor"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        actions,
        [
            ("booking_type.created".to_owned(), "system".to_owned()),
            ("booking_type.change_scheduled".to_owned(), "staff-demo".to_owned()),
            ("booking_type.changed".to_owned(), "scheduler".to_owned()),
        ]
    );
    // The timer removes the schedule just after the runner returns.
    let mut pending = usize::MAX;
    for _ in 0..100 {
        pending = query_all(state.store.as_ref(), Query::prefix(keys::SCHEDULE_PARTITION, "")).await.unwrap().len();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(pending, 0, "the delivered schedule was not removed");
}

#[tokio::test]
async fn concurrent_deliveries_of_one_job_apply_it_once() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    let first = app.get("/admin/clinics/demo/booking-types", Some(&token)).await.body["items"][0].clone();
    let path = format!("/admin/clinics/demo/booking-types/{}", first["id"].as_str().unwrap());
    let at = app.server.clock.now() + SignedDuration::from_hours(1);
    let accepted = app
        .json("PATCH", &path, Some(&token), json!({"long_name": "Renamed later", "effective_at": at.to_string()}))
        .await;
    let job_id = accepted.body["job_id"].as_str().unwrap().to_owned();
    let state = app.server.app.state.clone();
    let record: JobRecord = state
        .store
        .get(&keys::job(&ClinicId::parse("demo").unwrap(), &job_id))
        .await
        .unwrap()
        .unwrap()
        .record()
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (state, job) = (state.clone(), record.job.clone());
        tasks.push(tokio::spawn(async move { run_job(&state, &job).await }));
    }
    let mut ran = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(Outcome::Ran) => ran += 1,
            Ok(Outcome::AlreadyDone) | Err(clinic_shared::scheduler::JobError::Retryable(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(ran, 1);
    let history = app.get(&format!("{path}/history"), Some(&token)).await;
    let changes = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|record| record["action"] == "booking_type.changed")
        .count();
    assert_eq!(changes, 1);
}
