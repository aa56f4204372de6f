//! Tenancy: an admin of one clinic can neither read nor change another clinic's data, and a
//! token without the permission is refused.

use clinic_shared::domain::access::Permission;
use clinic_tests::TestApp;
use serde_json::json;

#[tokio::test]
async fn an_admin_of_one_clinic_cannot_read_or_change_another() {
    let app = TestApp::spawn().await;
    let north = app.token("staff-north", &["north"], &Permission::ALL);
    let demo = app.demo_admin();
    let demo_types = app.get("/admin/clinics/demo/booking-types", Some(&demo)).await;
    let demo_id = demo_types.body["items"][0]["id"].as_str().unwrap().to_owned();

    assert_eq!(
        app.json("PUT", "/admin/clinics/north", Some(&north), json!({"name": "North", "time_zone": "Europe/London"}))
            .await
            .status,
        201
    );
    assert_eq!(app.get("/admin/clinics/demo/booking-types", Some(&north)).await.status, 403);
    assert_eq!(
        app.get(&format!("/admin/clinics/demo/booking-types/{demo_id}/history"), Some(&north)).await.status,
        403
    );
    assert_eq!(app.get("/admin/clinics/demo/activity", Some(&north)).await.status, 403);
    let patch = app
        .json(
            "PATCH",
            &format!("/admin/clinics/demo/booking-types/{demo_id}"),
            Some(&north),
            json!({"enabled_online": false}),
        )
        .await;
    assert_eq!(patch.status, 403);
    assert!(patch.body["detail"].as_str().unwrap().contains("demo"));
    assert_eq!(
        app.json(
            "POST",
            "/admin/clinics/demo/booking-types",
            Some(&north),
            json!({"short_name": "A", "long_name": "A", "duration_minutes": 10})
        )
        .await
        .status,
        403
    );
    assert_eq!(
        app.json(
            "PUT",
            "/admin/clinics/demo",
            Some(&north),
            json!({"name": "Taken over", "time_zone": "Europe/London"})
        )
        .await
        .status,
        403
    );

    // The north admin's own writes do not leak into demo, and demo is unchanged.
    let created = app
        .json(
            "POST",
            "/admin/clinics/north/booking-types",
            Some(&north),
            json!({"short_name": "N", "long_name": "North only", "duration_minutes": 10, "enabled_online": true}),
        )
        .await;
    assert_eq!(created.status, 201);
    let after = app.get("/admin/clinics/demo/booking-types", Some(&demo)).await;
    assert_eq!(after.body, demo_types.body);
    // A booking type id of one clinic is not found under another.
    let north_id = created.body["id"].as_str().unwrap();
    assert_eq!(
        app.json(
            "PATCH",
            &format!("/admin/clinics/demo/booking-types/{north_id}"),
            Some(&demo),
            json!({"enabled_online": false})
        )
        .await
        .status,
        404
    );
    let public = app.get("/public/clinics/demo/catalog", None).await;
    assert!(!public.body.to_string().contains("North only"));
}

#[tokio::test]
async fn missing_tokens_bad_tokens_and_missing_permissions_are_refused() {
    let app = TestApp::spawn().await;
    let path = "/admin/clinics/demo/booking-types";
    let none = app.get(path, None).await;
    assert_eq!((none.status, none.content_type.as_str()), (401, "application/problem+json"));
    assert_eq!(app.get(path, Some("not-a-jwt")).await.status, 401);
    let reader = app.token("staff-reader", &["demo"], &[Permission::CatalogRead]);
    assert_eq!(app.get(path, Some(&reader)).await.status, 200);
    let write = app
        .json("POST", path, Some(&reader), json!({"short_name": "A", "long_name": "A", "duration_minutes": 10}))
        .await;
    assert_eq!(write.status, 403);
    assert!(write.body["detail"].as_str().unwrap().contains("catalog:write"));
    let writer = app.token("staff-writer", &["demo"], &[Permission::CatalogWrite]);
    assert_eq!(app.get(path, Some(&writer)).await.status, 403);
    assert_eq!(
        app.json("PUT", "/admin/clinics/demo", Some(&writer), json!({"name": "X", "time_zone": "Europe/London"}))
            .await
            .status,
        403
    );
}
