//! The thin feature through every layer, on the local server: an admin creates, lists, changes
//! and disables booking types; the public catalogue shows only enabled ones, at once.

use clinic_tests::TestApp;
use serde_json::json;

fn names(catalog: &serde_json::Value) -> Vec<String> {
    catalog["booking_types"].as_array().unwrap().iter().map(|bt| bt["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn health_answers_and_the_demo_clinic_is_seeded() {
    let app = TestApp::spawn().await;
    let health = app.get("/health", None).await;
    assert_eq!((health.status, health.body["status"].as_str()), (200, Some("ok")));
    let catalog = app.get("/public/clinics/demo/catalog", None).await;
    assert_eq!(catalog.status, 200);
    assert_eq!(catalog.body["clinic"]["name"], "Riverside Family Practice");
    assert_eq!(names(&catalog.body), ["Blood test", "GP consultation", "Practice nurse appointment"]);
}

#[tokio::test]
async fn an_admin_creates_lists_disables_and_re_enables_a_booking_type() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    let created = app
        .json("POST", "/admin/clinics/demo/booking-types", Some(&token), json!({"short_name": "FLU", "long_name": "Flu vaccination", "duration_minutes": 10, "enabled_online": true}))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert!(names(&app.get("/public/clinics/demo/catalog", None).await.body).contains(&"Flu vaccination".to_owned()));

    let listed = app.get("/admin/clinics/demo/booking-types?limit=2", Some(&token)).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);
    let cursor = listed.body["next_cursor"].as_str().expect("a second page").to_owned();
    let rest = app.get(&format!("/admin/clinics/demo/booking-types?limit=100&cursor={cursor}"), Some(&token)).await;
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 3, "5 booking types in all");

    let path = format!("/admin/clinics/demo/booking-types/{id}");
    let disabled = app.json("PATCH", &path, Some(&token), json!({"enabled_online": false})).await;
    assert_eq!((disabled.status, disabled.body["enabled_online"].as_bool()), (200, Some(false)));
    assert!(!names(&app.get("/public/clinics/demo/catalog", None).await.body).contains(&"Flu vaccination".to_owned()));

    let renamed = app
        .json("PATCH", &path, Some(&token), json!({"long_name": "Seasonal flu vaccination", "enabled_online": true}))
        .await;
    assert_eq!(renamed.status, 200);
    assert!(
        names(&app.get("/public/clinics/demo/catalog", None).await.body)
            .contains(&"Seasonal flu vaccination".to_owned())
    );

    let history = app.get(&format!("{path}/history"), Some(&token)).await;
    let actions: Vec<&str> =
        history.body["items"].as_array().unwrap().iter().map(|record| record["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["booking_type.created", "booking_type.changed", "booking_type.changed"]);
    let versions: Vec<_> = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| (record["before_version"].clone(), record["after_version"].clone()))
        .collect();
    assert_eq!(versions, [(json!(null), json!(1)), (json!(1), json!(2)), (json!(2), json!(3))]);
    assert!(history.body["items"].as_array().unwrap().iter().all(|record| record["actor"] == "staff-demo"));

    let activity = app.get("/admin/clinics/demo/activity", Some(&token)).await;
    let today = &activity.body["days"].as_array().unwrap()[0]["counters"];
    assert_eq!(today["booking_types_created"], 5, "4 seeded + 1");
    assert_eq!(today["booking_types_taken_offline"], 1);
    assert_eq!(today["locations_created"], 2);
}

#[tokio::test]
async fn a_clinic_profile_is_created_then_updated_and_published() {
    let app = TestApp::spawn().await;
    let token = app.token("staff-north", &["north"], &clinic_shared::domain::access::Permission::ALL);
    assert_eq!(app.get("/public/clinics/north/catalog", None).await.status, 404);
    let created = app
        .json(
            "PUT",
            "/admin/clinics/north",
            Some(&token),
            json!({"name": "North Clinic", "time_zone": "America/Toronto"}),
        )
        .await;
    assert_eq!((created.status, created.body["version"].as_u64()), (201, Some(1)));
    let updated = app
        .json(
            "PUT",
            "/admin/clinics/north",
            Some(&token),
            json!({"name": "North Street Clinic", "time_zone": "America/Toronto"}),
        )
        .await;
    assert_eq!((updated.status, updated.body["version"].as_u64()), (200, Some(2)));
    assert_eq!(
        app.get("/public/clinics/north/catalog", None).await.status,
        404,
        "a new clinic is offline until switched on"
    );
    let on = app
        .json("PUT", "/admin/clinics/north/online-settings", Some(&token), json!({"online_booking_enabled": true}))
        .await;
    assert_eq!((on.status, on.body["website_url"].as_str()), (200, Some(format!("{}/book/north", app.base).as_str())));
    let catalog = app.get("/public/clinics/north/catalog", None).await;
    assert_eq!(
        (catalog.body["clinic"]["name"].as_str(), catalog.body["booking_types"].as_array().map(Vec::len)),
        (Some("North Street Clinic"), Some(0))
    );
}

#[tokio::test]
async fn concurrent_edits_of_one_booking_type_never_lose_a_version() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    let created = app
        .json(
            "POST",
            "/admin/clinics/demo/booking-types",
            Some(&token),
            json!({"short_name": "X", "long_name": "X", "duration_minutes": 10}),
        )
        .await;
    let path = format!("/admin/clinics/demo/booking-types/{}", created.body["id"].as_str().unwrap());
    let mut tasks = Vec::new();
    for n in 0..20 {
        let (client, url, token) = (app.client.clone(), app.url(&path), token.clone());
        tasks.push(tokio::spawn(async move {
            client
                .patch(url)
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(json!({"long_name": format!("name {n}")}).to_string())
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert!(statuses.iter().all(|status| *status == 200 || *status == 409), "{statuses:?}");
    let successes = statuses.iter().filter(|status| **status == 200).count();
    let history = app.get(&format!("{path}/history?limit=100"), Some(&token)).await;
    assert_eq!(
        history.body["items"].as_array().unwrap().len(),
        1 + successes,
        "one audit record per successful change"
    );
}

#[tokio::test]
async fn an_archived_provider_leaves_the_lists_and_the_pages_takes_no_new_use_and_keeps_its_name_on_old_bookings() {
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
    let (first, second) = (slots.body["slots"][0].clone(), slots.body["slots"][1].clone());
    let booking = |slot: &serde_json::Value| {
        json!({
            "booking_type_id": demo.gp15, "provider_id": demo.amara, "location_id": slot["location_id"],
            "starts_at": slot["starts_at"],
            "patient": {"first_name": "Ada", "last_name": "Example", "date_of_birth": "1985-12-10", "mobile": "+447700900124"}
        })
    };
    let before = app.json("POST", "/admin/clinics/demo/appointments", Some(&admin), booking(&first)).await;
    assert_eq!(before.status, 201, "{:?}", before.body);

    let path = format!("/admin/clinics/demo/providers/{}", demo.amara);
    let stale = app.call_if_match("DELETE", &path, Some(&admin), None, Some("\"99\"")).await;
    assert_eq!(stale.status, 412, "a stale If-Match archives nothing");
    let archived = app.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!(archived.status, 200, "{:?}", archived.body);
    assert!(archived.body["archived_at"].is_string());
    assert_eq!(archived.body["enabled_online"], false);
    let again = app.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!(
        (again.status, &again.body["version"]),
        (200, &archived.body["version"]),
        "archiving twice changes nothing"
    );

    let ids = |answer: &clinic_tests::Answer| -> Vec<String> {
        answer.body["items"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap().to_owned()).collect()
    };
    let current = app.get("/admin/clinics/demo/providers?limit=100", Some(&admin)).await;
    assert!(!ids(&current).contains(&demo.amara), "the list hides it");
    let only_archived = app.get("/admin/clinics/demo/providers?archived=true", Some(&admin)).await;
    assert_eq!(ids(&only_archived), vec![demo.amara.as_str()]);
    let catalog = app.get("/public/clinics/demo/catalog", None).await;
    assert!(!catalog.body.to_string().contains(&demo.amara), "patients no longer see it");

    let after = app.json("POST", "/admin/clinics/demo/appointments", Some(&admin), booking(&second)).await;
    assert_eq!((after.status, after.problem_fields()), (422, vec!["provider_id".to_owned()]));
    let template = app
        .json(
            "POST",
            "/admin/clinics/demo/diary-templates",
            Some(&admin),
            json!({
                "provider_id": demo.amara, "location_id": demo.hillview, "weekdays": ["saturday"],
                "start_time": "10:00", "end_time": "11:00", "slot_minutes": 10, "booking_type_ids": [demo.gp15],
                "valid_from": "2026-01-01"
            }),
        )
        .await;
    assert_eq!((template.status, template.problem_fields()), (422, vec!["provider_id".to_owned()]));
    let changed = app.json("PATCH", &path, Some(&admin), json!({"enabled_online": true})).await;
    assert_eq!(changed.status, 409, "an archived provider takes no change");

    let day = before.body["local_start"].as_str().unwrap()[..10].to_owned();
    let diary = app.get(&format!("/admin/clinics/demo/appointments?date={day}"), Some(&admin)).await;
    let entry =
        diary.body["items"].as_array().unwrap().iter().find(|item| item["id"] == before.body["id"]).unwrap().clone();
    assert_eq!(entry["provider"]["name"], "Dr Amara Okafor", "the old booking keeps its clinician's name");
    let activity = app.get("/admin/clinics/demo/activity", Some(&admin)).await;
    assert_eq!(activity.body["days"][0]["counters"]["providers_taken_offline"], 1, "{:?}", activity.body);
}
