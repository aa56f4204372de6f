//! The booking pages escape every value an admin or a patient can set, and refuse what they
//! cannot read; the full flow in a browser is in tests/browser.

use clinic_tests::TestApp;
use serde_json::json;

const SCRIPT: &str = "<script>alert('x')</script>";
const IMAGE: &str = "\"><img src=x onerror=alert(1)>";

async fn html(app: &TestApp, path: &str) -> (u16, String) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(content_type, "text/html; charset=utf-8");
    (status, response.text().await.unwrap())
}

fn assert_escaped(page: &str, context: &str) {
    assert!(!page.contains("<script>alert"), "{context}: raw script in page");
    assert!(!page.contains("<img src=x"), "{context}: raw image tag in page");
}

#[tokio::test]
async fn values_set_by_admins_and_patients_are_escaped_on_every_page() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    app.json(
        "PUT",
        "/admin/clinics/demo",
        Some(&token),
        json!({"name": format!("Clinic {SCRIPT}"), "time_zone": "Europe/London"}),
    )
    .await;
    let settings = app
        .json(
            "PUT",
            "/admin/clinics/demo/online-settings",
            Some(&token),
            json!({"advisory": format!("Read {SCRIPT}"), "outcome_message": format!("Done {IMAGE}")}),
        )
        .await;
    assert_eq!(settings.status, 200, "{:?}", settings.body);
    let created = app
        .json("POST", "/admin/clinics/demo/booking-types", Some(&token), json!({"short_name": "XSS", "long_name": format!("Type {IMAGE}"), "duration_minutes": 15, "enabled_online": true}))
        .await;
    let booking_type = created.body["id"].as_str().unwrap().to_owned();
    let providers = app.get("/admin/clinics/demo/providers", Some(&token)).await.body;
    let provider = providers["items"][0]["id"].as_str().unwrap().to_owned();
    app.json(
        "PATCH",
        &format!("/admin/clinics/demo/providers/{provider}"),
        Some(&token),
        json!({"name": format!("Dr {SCRIPT}")}),
    )
    .await;
    let locations = app.get("/admin/clinics/demo/locations", Some(&token)).await.body;
    let location = locations["items"][0]["id"].as_str().unwrap().to_owned();
    app.json(
        "PATCH",
        &format!("/admin/clinics/demo/locations/{location}"),
        Some(&token),
        json!({"primary_address": format!("1 Road {IMAGE}")}),
    )
    .await;

    let (status, page) = html(&app, "/book/demo").await;
    assert_eq!(status, 200);
    assert_escaped(&page, "booking types");
    assert!(page.contains("&lt;script&gt;"), "the clinic name is not shown escaped");
    assert!(page.contains("Type &quot;&gt;&lt;img"), "the booking type is not shown escaped");
    let (_, page) = html(&app, &format!("/book/demo?type={booking_type}")).await;
    assert_escaped(&page, "providers");
    let (_, page) = html(&app, &format!("/book/demo?type={booking_type}&provider=any")).await;
    assert_escaped(&page, "locations");
    // A hostile value in the query string comes back escaped, never as markup.
    let (_, page) = html(
        &app,
        &format!(
            "/book/demo?type={booking_type}&provider=any&location=any&day=%22%3E%3Cscript%3Ealert('x')%3C%2Fscript%3E"
        ),
    )
    .await;
    assert_escaped(&page, "times with a hostile day");

    // Patient input echoed back on the details form after an error.
    let form = format!(
        "type={booking_type}&provider=any&location=any&time=2030-01-07T09%3A00%3A00Z&first_name=%3Cscript%3Ealert('x')%3C%2Fscript%3E&last_name=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&date_of_birth=1980-05-17&mobile=bad&email=bad&lang=en"
    );
    let response = app
        .client
        .post(app.url("/book/demo"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert_escaped(&page, "details with errors");
    assert!(
        page.contains("Mobile number: must be a phone number") && !page.contains("patient.mobile:"),
        "the field error is not shown in the page's words"
    );
}

#[tokio::test]
async fn pages_carry_a_strict_content_security_policy_and_a_language() {
    let app = TestApp::spawn().await;
    let response =
        app.client.get(app.url("/book/demo")).header("accept-language", "fr-CA,fr;q=0.8").send().await.unwrap();
    let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"), "{csp}");
    let page = response.text().await.unwrap();
    assert!(page.contains("<html lang=\"fr\">"));
    assert!(page.contains("Prendre rendez-vous"));
    let garbage = app
        .client
        .post(app.url("/book/demo"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![0xff, 0xfe, b'=', 0x00])
        .send()
        .await
        .unwrap();
    assert!(garbage.status().is_client_error(), "{}", garbage.status());
}

#[tokio::test]
async fn the_booking_form_carries_a_referral_file_and_refuses_other_files() {
    let app = TestApp::spawn().await;
    let demo = super::self_booking::demo(&app).await;
    let slots = super::self_booking::slots(&app, &format!("booking_type_id={}", demo.gp15)).await;
    let form = |time: &str, file_type: &str, file: &[u8], key: &str| {
        let mut body = Vec::new();
        let boundary = "XBOUNDARYX";
        for (name, value) in [
            ("type", demo.gp15.as_str()),
            ("provider", "any"),
            ("location", "any"),
            ("time", time),
            ("first_name", "Pat"),
            ("last_name", "Example"),
            ("date_of_birth", "1980-05-17"),
            ("mobile", "+447700900123"),
            ("email", "pat@example.com"),
            ("advisory", "yes"),
            ("idempotency_key", key),
            ("lang", "en"),
        ] {
            body.extend(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .into_bytes(),
            );
        }
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"referral\"; filename=\"letter\"\r\nContent-Type: {file_type}\r\n\r\n").into_bytes());
        body.extend_from_slice(file);
        body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
        body
    };
    let post = |body: Vec<u8>| {
        app.client
            .post(app.url("/book/demo"))
            .header("content-type", "multipart/form-data; boundary=XBOUNDARYX")
            .body(body)
            .send()
    };
    let refused = post(form(slots[0]["starts_at"].as_str().unwrap(), "text/html", b"<script>", "k1")).await.unwrap();
    assert_eq!(refused.status().as_u16(), 422);
    assert!(refused.text().await.unwrap().contains("referral-error"));
    let png = b"\x89PNG\r\n\x1a\nreferral";
    let booked = post(form(slots[0]["starts_at"].as_str().unwrap(), "image/png", png, "k2")).await.unwrap();
    assert_eq!(booked.status().as_u16(), 201);
    let day = &slots[0]["local_start"].as_str().unwrap()[..10];
    let diary = app.get(&format!("/admin/clinics/demo/appointments?date={day}"), Some(&app.demo_admin())).await;
    let referral = &diary.body["items"][0]["referral"];
    assert_eq!(
        (referral["content_type"].as_str(), referral["size_bytes"].as_u64()),
        (Some("image/png"), Some(png.len() as u64))
    );
}
