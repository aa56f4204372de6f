//! What staff read from an API client: the clinic's profile, every patient record page by page
//! (a partner's user still cannot browse), and one record with its profile.

use clinic_shared::domain::access::Permission;
use clinic_tests::TestApp;
use serde_json::json;

#[tokio::test]
async fn staff_read_the_clinic_profile_and_page_through_patient_records() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let profile = app.get("/admin/clinics/demo", Some(&admin)).await;
    assert_eq!(profile.status, 200, "{:?}", profile.body);
    assert_eq!(profile.body["name"], "Riverside Family Practice");
    assert!(profile.body["version"].as_u64().unwrap() >= 1);
    let other = app.token("other", &["elsewhere"], &Permission::ALL);
    assert_eq!(app.get("/admin/clinics/demo", Some(&other)).await.status, 403);
    // An empty cursor (a client that always sends the parameter) reads the first page; a cursor
    // the API did not issue is refused naming the field.
    let first = app.get("/admin/clinics/demo/booking-types?cursor=&limit=2", Some(&admin)).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["items"].as_array().map(Vec::len), Some(2));
    let forged = app.get("/admin/clinics/demo/booking-types?cursor=not-ours", Some(&admin)).await;
    assert_eq!(forged.problem_fields(), ["cursor"]);

    for (reference, first, mobile) in
        [("MRN-P1", "Ada", "+447700900401"), ("MRN-P2", "Bea", "+447700900402"), ("MRN-P3", "Cy", "+447700900403")]
    {
        let body = json!({
            "reference": reference,
            "patient": {"first_name": first, "last_name": "Example", "date_of_birth": "1980-01-02", "mobile": mobile, "email": ""},
            "profile": {"postcode": "SW1A 1AA", "flags": ["diabetic-review"]}
        });
        assert_eq!(app.json("POST", "/admin/clinics/demo/patients", Some(&admin), body).await.status, 201);
    }
    let first = app.get("/admin/clinics/demo/patients?limit=2", Some(&admin)).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let cursor = first.body["next_cursor"].as_str().expect("a second page").to_owned();
    let second = app.get(&format!("/admin/clinics/demo/patients?limit=2&cursor={cursor}"), Some(&admin)).await;
    let references: Vec<&str> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second.body["items"].as_array().unwrap())
        .map(|item| item["reference"].as_str().unwrap())
        .collect();
    assert_eq!(references, ["MRN-P1", "MRN-P2", "MRN-P3"], "every record once, by reference");
    assert!(second.body["next_cursor"].is_null());
    let bad = app.get("/admin/clinics/demo/patients?cursor=garbage", Some(&admin)).await;
    assert_eq!((bad.status, bad.problem_fields()), (400, vec!["cursor".to_owned()]));

    let partner_user = app.partner_user_token("acme-user", "acme");
    let browse = app.get("/admin/clinics/demo/patients", Some(&partner_user)).await;
    assert_eq!((browse.status, browse.problem_fields()), (400, vec!["search".to_owned()]));

    let record = app.get("/admin/clinics/demo/patients/MRN-P2", Some(&admin)).await;
    assert_eq!(record.status, 200, "{:?}", record.body);
    assert_eq!(record.body["first_name"], "Bea");
    assert_eq!(record.body["profile"]["flags"], json!(["diabetic-review"]));
    assert_eq!(app.get("/admin/clinics/demo/patients/MRN-NONE", Some(&admin)).await.status, 404);
    assert_eq!(app.get("/admin/clinics/demo/patients/MRN-P2", Some(&partner_user)).await.status, 403);
}

#[tokio::test]
async fn the_diary_and_the_waitlist_name_the_booking_type_clinician_and_site_beside_their_ids() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    let tomorrow = clinic_shared::clock::Clock::now(app.server.clock.as_ref())
        .to_zoned(jiff::tz::TimeZone::get("Europe/London").unwrap())
        .date()
        .tomorrow()
        .unwrap();
    let slots = app
        .get(
            &format!(
                "/public/clinics/demo/availability?booking_type_id={}&provider_id={}&location_id=any&from={tomorrow}&to={}",
                demo.gp15,
                demo.amara,
                tomorrow.checked_add(jiff::ToSpan::days(13)).unwrap()
            ),
            None,
        )
        .await;
    let slot = slots.body["slots"][0].clone();
    let booked = app
        .json(
            "POST",
            "/admin/clinics/demo/appointments",
            Some(&admin),
            json!({
                "booking_type_id": demo.gp15, "provider_id": demo.amara, "location_id": slot["location_id"],
                "starts_at": slot["starts_at"],
                "patient": {"first_name": "Ada", "last_name": "Example", "date_of_birth": "1985-12-10", "mobile": "+447700900124"}
            }),
        )
        .await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    assert_eq!(booked.body["provider"], json!({"id": demo.amara, "name": "Dr Amara Okafor"}));
    assert_eq!(booked.body["booking_type"]["name"], "GP consultation");
    assert_eq!(booked.body["location"], json!({"id": demo.riverside, "name": "Riverside Surgery"}));
    let day = booked.body["local_start"].as_str().unwrap()[..10].to_owned();
    let diary = app.get(&format!("/admin/clinics/demo/appointments?date={day}"), Some(&admin)).await;
    let entry =
        diary.body["items"].as_array().unwrap().iter().find(|item| item["id"] == booked.body["id"]).unwrap().clone();
    assert_eq!(entry["provider"]["name"], "Dr Amara Okafor");

    let joined = app
        .json(
            "POST",
            "/admin/clinics/demo/waitlist",
            Some(&admin),
            json!({
                "preferences": {"booking_type_id": demo.nurse20, "provider_id": demo.sam, "location_id": null,
                    "from": tomorrow.to_string(), "to": tomorrow.checked_add(jiff::ToSpan::days(6)).unwrap().to_string(),
                    "weekdays": [], "time_of_day": "any"},
                "patient": {"first_name": "Bea", "last_name": "Example", "date_of_birth": "1990-01-01", "mobile": "+447700900125"}
            }),
        )
        .await;
    assert_eq!(joined.status, 201, "{:?}", joined.body);
    assert_eq!(joined.body["booking_type"]["name"], "Practice nurse appointment");
    assert_eq!(joined.body["provider"]["name"], "Sam Patel");
    assert!(joined.body["location"].is_null(), "any site");
}
