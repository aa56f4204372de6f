//! Local data survives a restart; the reset flag starts again from the demo clinic.

use clinic_tests::{TestApp, start_in};
use serde_json::json;

#[tokio::test]
async fn data_survives_a_restart_and_reset_clears_it() {
    let data_dir = tempfile::tempdir().unwrap();
    let path = data_dir.path().to_path_buf();
    let first = TestApp::around(start_in(&path, false).await, data_dir);
    let token = first.demo_admin();
    let created = first.json("POST", "/admin/clinics/demo/booking-types", Some(&token), json!({"short_name": "KEEP", "long_name": "Kept across restarts", "duration_minutes": 20, "enabled_online": true})).await;
    assert_eq!(created.status, 201);
    let TestApp { server, data_dir, .. } = first;
    drop(server);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let second = TestApp::around(start_in(&path, false).await, data_dir);
    let token = second.demo_admin();
    let listed = second.get("/admin/clinics/demo/booking-types?limit=100", Some(&token)).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 5, "the seed ran twice or data was lost");
    assert!(listed.body.to_string().contains("Kept across restarts"));
    let TestApp { server, data_dir, .. } = second;
    drop(server);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let third = TestApp::around(start_in(&path, true).await, data_dir);
    let token = third.demo_admin();
    let listed = third.get("/admin/clinics/demo/booking-types?limit=100", Some(&token)).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 4);
    assert!(!listed.body.to_string().contains("Kept across restarts"));
}

#[tokio::test]
async fn the_demo_clocks_move_survives_a_restart_and_reset_forgets_it() {
    let data_dir = tempfile::tempdir().unwrap();
    let path = data_dir.path().to_path_buf();
    let first = TestApp::around(start_in(&path, false).await, data_dir);
    let moved = first.json("POST", "/_local/clock", None, json!({"advance_hours": 48})).await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    let TestApp { server, data_dir, .. } = first;
    drop(server);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let second = TestApp::around(start_in(&path, false).await, data_dir);
    let ahead = clinic_shared::clock::Clock::now(second.server.clock.as_ref()).duration_since(jiff::Timestamp::now());
    assert!(ahead >= jiff::SignedDuration::from_hours(47), "the moved time was forgotten: {ahead:?} ahead");
    assert_eq!(clinic_shared::local::saved_clock_offset(&path), jiff::SignedDuration::from_hours(48));
    let read = second.get("/_local/clock", None).await;
    assert_eq!(read.body["advanced_hours"], 48, "{:?}", read.body);
    let TestApp { server, data_dir, .. } = second;
    drop(server);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let third = TestApp::around(start_in(&path, true).await, data_dir);
    let ahead = clinic_shared::clock::Clock::now(third.server.clock.as_ref()).duration_since(jiff::Timestamp::now());
    assert!(ahead < jiff::SignedDuration::from_mins(1), "reset kept the moved time: {ahead:?}");
}
