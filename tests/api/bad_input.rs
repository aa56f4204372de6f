//! Bad input gets a 4xx problem body naming the field, never a 500, and writes nothing.

use clinic_tests::TestApp;
use serde_json::json;

const TYPES: &str = "/admin/clinics/demo/booking-types";

#[tokio::test]
async fn every_kind_of_bad_booking_type_names_its_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    let before = app.get(&format!("{TYPES}?limit=100"), Some(&token)).await.body;
    let long = "x".repeat(121);
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"{".to_vec(), 400, "body"),
        (b"".to_vec(), 400, "body"),
        (vec![0xff, 0xfe, 0x00], 400, "body"),
        (b"[]".to_vec(), 400, "body"),
        (json!({"long_name": "A", "duration_minutes": 10}).to_string().into_bytes(), 400, "short_name"),
        (
            json!({"short_name": "A", "long_name": "A", "duration_minutes": "ten"}).to_string().into_bytes(),
            400,
            "duration_minutes",
        ),
        (
            json!({"short_name": "A", "long_name": "A", "duration_minutes": 10, "colour": "red"})
                .to_string()
                .into_bytes(),
            400,
            "colour",
        ),
        (
            json!({"short_name": "A", "long_name": long, "duration_minutes": 10}).to_string().into_bytes(),
            422,
            "long_name",
        ),
        (
            json!({"short_name": " ", "long_name": "A", "duration_minutes": 10}).to_string().into_bytes(),
            422,
            "short_name",
        ),
        (
            json!({"short_name": "A", "long_name": "A", "duration_minutes": 7}).to_string().into_bytes(),
            422,
            "duration_minutes",
        ),
        (
            json!({"short_name": "A", "long_name": "A", "duration_minutes": 4294967296u64}).to_string().into_bytes(),
            400,
            "duration_minutes",
        ),
    ];
    for (body, status, field) in cases {
        let shown = String::from_utf8_lossy(&body).chars().take(60).collect::<String>();
        let answer = app.call("POST", TYPES, Some(&token), Some(body)).await;
        assert_eq!(answer.status, status, "{shown}: {:?}", answer.body);
        assert_eq!(answer.problem_fields(), [field], "{shown}");
        assert!(answer.body["type"].as_str().unwrap().starts_with("tag:"), "{:?}", answer.body);
    }
    assert_eq!(
        app.get(&format!("{TYPES}?limit=100"), Some(&token)).await.body,
        before,
        "a refused request wrote something"
    );
}

#[tokio::test]
async fn bad_changes_dates_and_ids_are_refused_with_the_field_named() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    let id = app.get(TYPES, Some(&token)).await.body["items"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("{TYPES}/{id}");
    let cases = [
        (json!({}), 422, "body"),
        (json!({"enabled_online": "yes"}), 400, "enabled_online"),
        (json!({"enabled_online": true, "effective_at": "2026-02-30T10:00:00Z"}), 400, "effective_at"),
        (json!({"enabled_online": true, "effective_at": "tomorrow"}), 400, "effective_at"),
        (json!({"enabled_online": true, "effective_at": "2020-01-01T10:00:00Z"}), 422, "effective_at"),
        (json!({"enabled_online": true, "effective_at": "2099-01-01T10:00:00Z"}), 422, "effective_at"),
        (json!({"duration_minutes": 0, "short_name": ""}), 422, "short_name"),
    ];
    for (body, status, field) in cases {
        let answer = app.json("PATCH", &path, Some(&token), body.clone()).await;
        assert_eq!(answer.status, status, "{body}: {:?}", answer.body);
        assert!(answer.problem_fields().contains(&field.to_owned()), "{body}: {:?}", answer.body);
    }
    let unknown = app
        .json(
            "PATCH",
            &format!("{TYPES}/0b7e6f8e-7a53-4d64-9a1b-5c4c8e0f4c11"),
            Some(&token),
            json!({"enabled_online": true}),
        )
        .await;
    assert_eq!((unknown.status, unknown.content_type.as_str()), (404, "application/problem+json"));
    let malformed_id =
        app.json("PATCH", &format!("{TYPES}/not-an-id"), Some(&token), json!({"enabled_online": true})).await;
    assert_eq!(malformed_id.problem_fields(), ["bookingTypeId"]);
    let bad_clinic = app.get("/admin/clinics/Not%20A%20Slug/booking-types", Some(&token)).await;
    assert_eq!(bad_clinic.problem_fields(), ["clinicId"]);
    let bad_limit = app.get(&format!("{TYPES}?limit=5000"), Some(&token)).await;
    assert_eq!(bad_limit.problem_fields(), ["limit"]);
    let bad_cursor = app.get(&format!("{TYPES}?cursor=%21%21"), Some(&token)).await;
    assert_eq!(bad_cursor.problem_fields(), ["cursor"]);
    let bad_date = app.get("/admin/clinics/demo/activity?from=2026-13-01", Some(&token)).await;
    assert_eq!(bad_date.problem_fields(), ["from"]);
    let bad_zone = app
        .json("PUT", "/admin/clinics/demo", Some(&token), json!({"name": "Demo", "time_zone": "Mars/Olympus"}))
        .await;
    assert_eq!((bad_zone.status, bad_zone.problem_fields()), (422, vec!["time_zone".to_owned()]));
    let unknown_route = app.get("/admin/clinics/demo/nothing-here", Some(&token)).await;
    assert_eq!((unknown_route.status, unknown_route.content_type.as_str()), (404, "application/problem+json"));
}

#[tokio::test]
async fn a_body_that_is_not_json_is_refused_by_content_type() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(app.url(TYPES))
        .bearer_auth(app.demo_admin())
        .header("content-type", "text/plain")
        .body("short_name=A")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415);
}
