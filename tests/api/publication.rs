//! What is published, and when: enabling or disabling an entry re-syncs at once; switching
//! online booking off removes every public datum at once, and on again publishes it all.

use clinic_shared::domain::clinic::ClinicId;
use clinic_shared::store::{Query, keys, query_all};
use clinic_tests::TestApp;
use serde_json::json;

use super::self_booking::demo;

#[tokio::test]
async fn disabling_a_provider_location_or_booking_type_unpublishes_it_at_once() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    let demo = demo(&app).await;
    let provider = demo.providers[0]["id"].as_str().unwrap().to_owned();
    let location = demo.locations[0]["id"].as_str().unwrap().to_owned();

    let off = app
        .json(
            "PATCH",
            &format!("/admin/clinics/demo/providers/{provider}"),
            Some(&token),
            json!({"enabled_online": false}),
        )
        .await;
    assert_eq!(off.status, 200);
    let catalog = app.get("/public/clinics/demo/catalog", None).await.body;
    assert!(!catalog["providers"].to_string().contains(&provider));
    let with_provider = app
        .get(&format!("/public/clinics/demo/availability?booking_type_id={}&provider_id={provider}", demo.gp15), None)
        .await;
    assert_eq!(with_provider.problem_fields(), ["provider_id"]);
    let any = app.get(&format!("/public/clinics/demo/availability?booking_type_id={}", demo.gp15), None).await.body;
    assert!(!any.to_string().contains(&provider), "a disabled provider's slots are still offered");

    app.json(
        "PATCH",
        &format!("/admin/clinics/demo/locations/{location}"),
        Some(&token),
        json!({"enabled_online": false}),
    )
    .await;
    app.json(
        "PATCH",
        &format!("/admin/clinics/demo/booking-types/{}", demo.nurse20),
        Some(&token),
        json!({"enabled_online": false}),
    )
    .await;
    let catalog = app.get("/public/clinics/demo/catalog", None).await.body;
    assert!(!catalog["locations"].to_string().contains(&location));
    assert!(!catalog["booking_types"].to_string().contains(&demo.nurse20));

    app.json(
        "PATCH",
        &format!("/admin/clinics/demo/providers/{provider}"),
        Some(&token),
        json!({"enabled_online": true}),
    )
    .await;
    let catalog = app.get("/public/clinics/demo/catalog", None).await.body;
    assert!(catalog["providers"].to_string().contains(&provider));
}

#[tokio::test]
async fn switching_online_booking_off_removes_everything_public_and_on_again_restores_it() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    let demo = demo(&app).await;
    let before = app.get("/public/clinics/demo/catalog", None).await.body;

    let off = app
        .json("PUT", "/admin/clinics/demo/online-settings", Some(&token), json!({"online_booking_enabled": false}))
        .await;
    assert_eq!((off.status, off.body["online_booking_enabled"].as_bool()), (200, Some(false)));
    assert_eq!(app.get("/public/clinics/demo/catalog", None).await.status, 404);
    assert_eq!(
        app.get(&format!("/public/clinics/demo/availability?booking_type_id={}", demo.gp15), None).await.status,
        404
    );
    let page = app.client.get(app.url("/book/demo")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 404);
    assert!(page.text().await.unwrap().contains("Online booking is not available"));
    let booking = super::self_booking::book(
        &app,
        &super::self_booking::booking(&demo.gp15, "any", "any", "2030-01-07T09:00:00Z"),
        None,
    )
    .await;
    assert_eq!(booking.status, 404);
    let clinic = ClinicId::parse("demo").unwrap();
    let public = query_all(app.server.app.state.store.as_ref(), Query::prefix(keys::public_partition(&clinic), ""))
        .await
        .unwrap();
    assert!(public.is_empty(), "public items left: {:?}", public.iter().map(|item| &item.key.sk).collect::<Vec<_>>());
    // Changes made while offline are not published either.
    let created = app.json("POST", "/admin/clinics/demo/booking-types", Some(&token), json!({"short_name": "NEW", "long_name": "Added while offline", "duration_minutes": 10, "enabled_online": true})).await;
    assert_eq!(created.status, 201);
    let public = query_all(app.server.app.state.store.as_ref(), Query::prefix(keys::public_partition(&clinic), ""))
        .await
        .unwrap();
    assert!(public.is_empty());

    let on = app
        .json("PUT", "/admin/clinics/demo/online-settings", Some(&token), json!({"online_booking_enabled": true}))
        .await;
    assert_eq!(on.status, 200);
    let after = app.get("/public/clinics/demo/catalog", None).await.body;
    assert_eq!(after["providers"], before["providers"]);
    assert_eq!(after["locations"], before["locations"]);
    assert!(after["booking_types"].to_string().contains("Added while offline"));
    assert!(!super::self_booking::slots(&app, &format!("booking_type_id={}", demo.gp15)).await.is_empty());
}
