//! Referral uploads: a signed, short-lived upload URL (S3 presigned PUT on AWS, the data directory
//! locally), then a booking that attaches what was stored.

use clinic_shared::clock::Clock;
use clinic_shared::files::ReferralFiles;
use clinic_shared::files::s3::S3ReferralFiles;
use clinic_tests::{TestApp, moto};
use serde_json::{Value, json};

use super::self_booking::{book, booking, demo, slots};

async fn upload(app: &TestApp, content_type: &str, body: &[u8]) -> (Value, u16) {
    let created = app
        .json(
            "POST",
            "/public/clinics/demo/referral-uploads",
            None,
            json!({"content_type": content_type, "size_bytes": body.len()}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let target = &created.body["upload"];
    assert_eq!(target["method"], "PUT");
    let response = app
        .client
        .put(target["url"].as_str().unwrap())
        .header("content-type", target["headers"]["content-type"].as_str().unwrap())
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    (created.body, response.status().as_u16())
}

#[tokio::test]
async fn a_patient_uploads_a_referral_and_attaches_it_to_the_booking() {
    let app = TestApp::spawn().await;
    let demo = demo(&app).await;
    let pdf = b"%PDF-1.4 referral letter";
    let (created, status) = upload(&app, "application/pdf", pdf).await;
    assert_eq!(status, 200);
    let slot = slots(&app, &format!("booking_type_id={}", demo.gp15)).await[0].clone();
    let mut body = booking(&demo.gp15, "any", "any", slot["starts_at"].as_str().unwrap());
    body["referral_upload_id"] = created["upload_id"].clone();
    let booked = book(&app, &body, None).await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    let day = &booked.body["local_start"].as_str().unwrap()[..10];
    let diary = app.get(&format!("/admin/clinics/demo/appointments?date={day}"), Some(&app.demo_admin())).await;
    let referral = &diary.body["items"][0]["referral"];
    assert_eq!(
        (referral["content_type"].as_str(), referral["size_bytes"].as_u64()),
        (Some("application/pdf"), Some(pdf.len() as u64))
    );
}

#[tokio::test]
async fn uploads_that_break_the_rules_are_refused() {
    let app = TestApp::spawn().await;
    let demo = demo(&app).await;
    let bad = app
        .json(
            "POST",
            "/public/clinics/demo/referral-uploads",
            None,
            json!({"content_type": "text/html", "size_bytes": 6_000_000}),
        )
        .await;
    assert_eq!(bad.problem_fields(), ["content_type", "size_bytes"]);
    // The stored file must be exactly what was signed.
    let created = app
        .json(
            "POST",
            "/public/clinics/demo/referral-uploads",
            None,
            json!({"content_type": "image/png", "size_bytes": 10}),
        )
        .await;
    let url = created.body["upload"]["url"].as_str().unwrap();
    let wrong_size = app.client.put(url).header("content-type", "image/png").body(vec![0u8; 11]).send().await.unwrap();
    assert_eq!(wrong_size.status().as_u16(), 400);
    let wrong_type = app.client.put(url).header("content-type", "text/html").body(vec![0u8; 10]).send().await.unwrap();
    assert_eq!(wrong_type.status().as_u16(), 400);
    let forged = app
        .client
        .put(url.replace("token=", "token=x"))
        .header("content-type", "image/png")
        .body(vec![0u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    // Booking with an id nothing was uploaded for is refused, and nothing is booked.
    let slot = slots(&app, &format!("booking_type_id={}", demo.gp15)).await[0].clone();
    let mut body = booking(&demo.gp15, "any", "any", slot["starts_at"].as_str().unwrap());
    body["referral_upload_id"] = created.body["upload_id"].clone();
    assert_eq!(book(&app, &body, None).await.problem_fields(), ["referral_upload_id"]);
    // A clinic that does not accept referrals refuses both.
    let token = app.demo_admin();
    assert_eq!(
        app.json("PUT", "/admin/clinics/demo/online-settings", Some(&token), json!({"disable_referrals": true}))
            .await
            .status,
        200
    );
    let refused = app
        .json(
            "POST",
            "/public/clinics/demo/referral-uploads",
            None,
            json!({"content_type": "image/png", "size_bytes": 10}),
        )
        .await;
    assert_eq!(refused.status, 404);
    assert_eq!(book(&app, &body, None).await.problem_fields(), ["referral_upload_id"]);
}

#[tokio::test]
async fn an_s3_presigned_upload_lands_in_the_bucket_with_its_size_and_type() {
    let (s3, bucket) = moto::bucket("referrals").await;
    let files = S3ReferralFiles::new(s3, &bucket);
    let key = "referrals/demo/0b7e6f8e-7a53-4d64-9a1b-5c4c8e0f4c11";
    let now = clinic_shared::clock::SystemClock.now();
    let target =
        files.upload_target(key, "image/jpeg", 5, now, now + jiff::SignedDuration::from_mins(15)).await.unwrap();
    assert!(target.url.contains("X-Amz-Signature") && target.url.contains("X-Amz-Expires=900"), "{}", target.url);
    assert_eq!(files.describe(key).await.unwrap(), None);
    let put = reqwest::Client::new()
        .put(&target.url)
        .header("content-type", "image/jpeg")
        .body(vec![0xff, 0xd8, 0xff, 0xe0, 0x00])
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{}", put.status());
    let stored = files.describe(key).await.unwrap().unwrap();
    assert_eq!((stored.size_bytes, stored.content_type.as_str()), (5, "image/jpeg"));
}
