//! Online self-booking through the public JSON API, with the staff diary on the other side.

use clinic_tests::{Answer, TestApp};
use serde_json::{Value, json};

pub struct Demo {
    pub gp15: String,
    pub nurse20: String,
    pub providers: Vec<Value>,
    pub locations: Vec<Value>,
}

pub async fn demo(app: &TestApp) -> Demo {
    let catalog = app.get("/public/clinics/demo/catalog", None).await.body;
    let type_named = |name: &str| {
        catalog["booking_types"].as_array().unwrap().iter().find(|bt| bt["name"] == name).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    Demo {
        gp15: type_named("GP consultation"),
        nurse20: type_named("Practice nurse appointment"),
        providers: catalog["providers"].as_array().unwrap().clone(),
        locations: catalog["locations"].as_array().unwrap().clone(),
    }
}

pub fn patient() -> Value {
    json!({"first_name": "Pat", "last_name": "Example", "date_of_birth": "1980-05-17", "mobile": "+447700900123", "email": "pat@example.com"})
}

pub fn booking(booking_type: &str, provider: &str, location: &str, starts_at: &str) -> Value {
    json!({
        "booking_type_id": booking_type,
        "provider_id": provider,
        "location_id": location,
        "starts_at": starts_at,
        "patient": patient(),
        "advisory_accepted": true,
    })
}

pub async fn book(app: &TestApp, body: &Value, key: Option<&str>) -> Answer {
    let mut request = app
        .client
        .post(app.url("/public/clinics/demo/bookings"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let body = response.json().await.unwrap_or(Value::Null);
    Answer { status, content_type, body, retry_after: None, etag: None }
}

pub async fn slots(app: &TestApp, query: &str) -> Vec<Value> {
    let answer = app.get(&format!("/public/clinics/demo/availability?{query}"), None).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["slots"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_patient_books_asap_and_the_booking_lands_in_the_diary_marked_online() {
    let app = TestApp::spawn().await;
    let demo = demo(&app).await;
    let asap = slots(&app, &format!("booking_type_id={}&asap=true", demo.gp15)).await;
    assert_eq!(asap.len(), 1);
    let slot = &asap[0];
    let body = booking(&demo.gp15, "any", "any", slot["starts_at"].as_str().unwrap());
    let first = book(&app, &body, Some("retry-key-1")).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(
        first.body["outcome_message"],
        "Thank you. We have booked your appointment and look forward to seeing you."
    );
    assert_eq!(first.body["redirect_url"], "https://clinic.example.com/");
    // A retry with the same key answers the same booking, never a second one.
    let retry = book(&app, &body, Some("retry-key-1")).await;
    assert_eq!((retry.status, &retry.body["appointment_id"]), (200, &first.body["appointment_id"]));
    let mut different = body.clone();
    different["patient"]["first_name"] = json!("Another");
    let reused = book(&app, &different, Some("retry-key-1")).await;
    assert_eq!((reused.status, reused.problem_fields()), (422, vec!["Idempotency-Key".to_owned()]));

    let token = app.demo_admin();
    let day = first.body["local_start"].as_str().unwrap()[..10].to_owned();
    let diary = app.get(&format!("/admin/clinics/demo/appointments?date={day}"), Some(&token)).await;
    let items = diary.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "exactly one appointment after a retried booking");
    assert_eq!((items[0]["channel"].as_str(), items[0]["status"].as_str()), (Some("online"), Some("booked")));
    assert_eq!(items[0]["id"], first.body["appointment_id"]);
    assert_eq!(items[0]["patient_email"], "pat@example.com");
}

#[tokio::test]
async fn a_taken_time_is_refused_with_fresh_alternatives_and_freed_by_a_cancellation() {
    let app = TestApp::spawn().await;
    let demo = demo(&app).await;
    let provider =
        demo.providers.iter().find(|p| p["name"] == "Dr Amara Okafor").unwrap()["id"].as_str().unwrap().to_owned();
    let query = format!("booking_type_id={}&provider_id={provider}", demo.gp15);
    let before = slots(&app, &query).await;
    let first = before[0].clone();
    let body = booking(&demo.gp15, &provider, "any", first["starts_at"].as_str().unwrap());
    let booked = book(&app, &body, None).await;
    assert_eq!(booked.status, 201);
    let again = book(&app, &body, None).await;
    assert_eq!((again.status, again.content_type.as_str()), (409, "application/problem+json"));
    let alternatives = again.body["alternatives"].as_array().unwrap();
    assert!(!alternatives.is_empty());
    assert!(alternatives.iter().all(|slot| slot["starts_at"] != first["starts_at"]), "a taken time offered again");
    let after = slots(&app, &query).await;
    assert_eq!(after.len(), before.len() - 1);
    assert!(!after.iter().any(|slot| slot["starts_at"] == first["starts_at"]));

    // Staff cannot move another appointment onto it either; a cancellation frees it.
    let token = app.demo_admin();
    let staff = app
        .json(
            "POST",
            "/admin/clinics/demo/appointments",
            Some(&token),
            json!({"booking_type_id": demo.gp15, "provider_id": provider, "location_id": first["location_id"], "starts_at": before[2]["starts_at"], "patient": {"first_name": "Sam", "last_name": "Example", "date_of_birth": "1970-01-01", "mobile": "+447700900222", "email": "sam@example.com"}}),
        )
        .await;
    assert_eq!(staff.status, 201, "{:?}", staff.body);
    let overlapping_move = app
        .json(
            "PATCH",
            &format!("/admin/clinics/demo/appointments/{}", staff.body["id"].as_str().unwrap()),
            Some(&token),
            json!({"starts_at": first["starts_at"]}),
        )
        .await;
    assert_eq!(overlapping_move.status, 409);
    let cancel = app
        .json(
            "PATCH",
            &format!("/admin/clinics/demo/appointments/{}", booked.body["appointment_id"].as_str().unwrap()),
            Some(&token),
            json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!((cancel.status, cancel.body["status"].as_str()), (200, Some("cancelled")));
    let moved = app
        .json(
            "PATCH",
            &format!("/admin/clinics/demo/appointments/{}", staff.body["id"].as_str().unwrap()),
            Some(&token),
            json!({"starts_at": first["starts_at"]}),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    let freed = slots(&app, &query).await;
    assert!(
        freed.iter().any(|slot| slot["starts_at"] == before[2]["starts_at"]),
        "the old time of the moved appointment is free again"
    );
}

#[tokio::test]
async fn clinic_settings_are_enforced_and_bad_bookings_name_their_fields() {
    let app = TestApp::spawn().await;
    let demo = demo(&app).await;
    let token = app.demo_admin();
    let slot = slots(&app, &format!("booking_type_id={}", demo.gp15)).await[0].clone();
    let starts_at = slot["starts_at"].as_str().unwrap();

    let mut no_advisory = booking(&demo.gp15, "any", "any", starts_at);
    no_advisory["advisory_accepted"] = json!(false);
    assert_eq!(book(&app, &no_advisory, None).await.problem_fields(), ["advisory_accepted"]);

    let mut bad_patient = booking(&demo.gp15, "any", "any", starts_at);
    bad_patient["patient"] = json!({"first_name": "", "last_name": "Example", "date_of_birth": "2090-01-01", "mobile": "0770090", "email": "pat"});
    let refused = book(&app, &bad_patient, None).await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.problem_fields(),
        ["patient.first_name", "patient.date_of_birth", "patient.mobile", "patient.email"]
    );

    let too_soon = booking(&demo.gp15, "any", "any", &jiff::Timestamp::now().to_string());
    assert_eq!(book(&app, &too_soon, None).await.problem_fields(), ["starts_at"]);
    let off_grid = booking(
        &demo.gp15,
        "any",
        "any",
        &(slot["starts_at"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap() + jiff::SignedDuration::from_mins(3))
            .to_string(),
    );
    assert_eq!(book(&app, &off_grid, None).await.problem_fields(), ["starts_at"]);
    let unknown_type = booking("0b7e6f8e-7a53-4d64-9a1b-5c4c8e0f4c11", "any", "any", starts_at);
    assert_eq!(book(&app, &unknown_type, None).await.problem_fields(), ["booking_type_id"]);

    let changed = app
        .json(
            "PUT",
            "/admin/clinics/demo/online-settings",
            Some(&token),
            json!({"disable_any_provider": true, "disable_any_location": true, "enable_asap": false}),
        )
        .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    let any = app
        .get(&format!("/public/clinics/demo/availability?booking_type_id={}&provider_id=any", demo.gp15), None)
        .await;
    assert_eq!((any.status, any.problem_fields()), (422, vec!["provider_id".to_owned(), "location_id".to_owned()]));
    let asap = app
        .get(
            &format!(
                "/public/clinics/demo/availability?booking_type_id={}&provider_id={}&location_id={}&asap=true",
                demo.gp15,
                slot["provider_id"].as_str().unwrap(),
                slot["location_id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(asap.problem_fields(), ["asap"]);
    assert_eq!(
        book(&app, &booking(&demo.gp15, "any", "any", starts_at), None).await.problem_fields(),
        ["provider_id", "location_id"]
    );
}
