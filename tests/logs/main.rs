//! A full flow with patient data in every place it can travel, with the logs captured: no
//! patient name, phone number, email or birth date appears in any log line. A test binary of its
//! own, so the capture can be the process-wide subscriber and no log line escapes it.

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use clinic_shared::domain::contact::{EmailAddress, PhoneNumber};
use clinic_shared::messages::aws::AwsMessages;
use clinic_shared::messages::{Email, Messages, Sms};
use clinic_tests::{TestApp, moto};
use serde_json::json;

const NAME: &str = "Zebedee Quarrington";
const PHONE: &str = "+447700900123";
const NATIONAL_PHONE: &str = "7700900123";
const EMAIL: &str = "zebedee.quarrington@example.com";
const BIRTH_DATE: &str = "1984-02-29";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn no_patient_data_reaches_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .with_env_filter("info,clinic_shared=trace")
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this process");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let link_secrets = runtime.block_on(async {
        let app = TestApp::spawn().await;
        let token = app.demo_admin();
        let patient_note = format!("{NAME} born {BIRTH_DATE}, mobile {PHONE}, email {EMAIL}");
        // Patient data in bodies that are refused and in ones that are accepted.
        app.json(
            "POST",
            "/admin/clinics/demo/booking-types",
            Some(&token),
            json!({"short_name": NAME, "long_name": patient_note, "duration_minutes": 10}),
        )
        .await;
        app.json(
            "POST",
            "/admin/clinics/demo/booking-types",
            Some(&token),
            json!({"short_name": "NOTE", "long_name": patient_note, "duration_minutes": 7, "email": EMAIL}),
        )
        .await;
        app.json("PUT", "/admin/clinics/demo", Some(&token), json!({"name": NAME, "time_zone": EMAIL})).await;
        app.call(
            "POST",
            "/admin/clinics/demo/booking-types",
            Some(&token),
            Some(format!("{{\"short_name\": \"{PHONE}\", {BIRTH_DATE}").into_bytes()),
        )
        .await;
        app.get(&format!("/admin/clinics/demo/booking-types?cursor={EMAIL}"), Some(&token)).await;
        app.get(&format!("/public/clinics/demo/catalog?name={NAME}&dob={BIRTH_DATE}"), None).await;
        // Messages to the patient, through the outbox and through SNS/SES on moto.
        let sms = Sms { to: PhoneNumber::parse("to", PHONE).unwrap(), body: patient_note.clone() };
        let email = Email {
            to: EmailAddress::parse("to", EMAIL).unwrap(),
            subject: NAME.into(),
            text: patient_note.clone(),
            html: None,
            // The invite path (raw MIME) with patient data in the calendar text too.
            invite: Some(clinic_shared::messages::Invite {
                method: "REQUEST".into(),
                ics: format!("BEGIN:VCALENDAR\r\nX-NOTE:{NAME} {EMAIL}\r\nEND:VCALENDAR\r\n"),
            }),
        };
        app.server.app.state.messages.send_sms(&sms).await.unwrap();
        app.server.app.state.messages.send_email(&email).await.unwrap();
        let config = moto::sdk_config().await;
        let ses = aws_sdk_sesv2::Client::new(&config);
        ses.create_email_identity().email_identity("example.com").send().await.ok();
        let aws = AwsMessages::new(aws_sdk_sns::Client::new(&config), ses, "bookings@example.com", None);
        aws.send_sms(&sms).await.unwrap();
        aws.send_email(&email).await.unwrap();
        tracing::info!(?sms, ?email, "a careless debug print of the messages");
        // A booking through the public API and the booking pages, and one by staff.
        let catalog = app.get("/public/clinics/demo/catalog", None).await.body;
        let gp15 = catalog["booking_types"].as_array().unwrap().iter().find(|bt| bt["duration_minutes"] == 15).unwrap()["id"].as_str().unwrap().to_owned();
        let slots = app.get(&format!("/public/clinics/demo/availability?booking_type_id={gp15}"), None).await.body["slots"].as_array().unwrap().clone();
        let patient = json!({"first_name": "Zebedee", "last_name": "Quarrington", "date_of_birth": BIRTH_DATE, "mobile": PHONE, "email": EMAIL});
        let booked = app
            .json("POST", "/public/clinics/demo/bookings", None, json!({"booking_type_id": gp15, "provider_id": "any", "location_id": "any", "starts_at": slots[0]["starts_at"], "patient": patient, "advisory_accepted": true}))
            .await;
        assert_eq!(booked.status, 201, "{:?}", booked.body);
        let bad = app
            .json("POST", "/public/clinics/demo/bookings", None, json!({"booking_type_id": gp15, "provider_id": "any", "location_id": "any", "starts_at": slots[1]["starts_at"], "patient": {"first_name": NAME, "last_name": "", "date_of_birth": "1984-02-30", "mobile": NATIONAL_PHONE, "email": EMAIL}}))
            .await;
        assert_eq!(bad.status, 422);
        let form = format!(
            "type={gp15}&provider=any&location=any&time={}&first_name=Zebedee&last_name=Quarrington&date_of_birth={BIRTH_DATE}&mobile=%2B447700900123&email=zebedee.quarrington%40example.com&advisory=yes&idempotency_key=form-1&lang=en",
            slots[2]["starts_at"].as_str().unwrap().replace(':', "%3A")
        );
        let page = app.client.post(app.url("/book/demo")).header("content-type", "application/x-www-form-urlencoded").body(form).send().await.unwrap();
        assert_eq!(page.status().as_u16(), 201);
        let staff = app
            .json("POST", "/admin/clinics/demo/appointments", Some(&token), json!({"booking_type_id": gp15, "provider_id": slots[3]["provider_id"], "location_id": slots[3]["location_id"], "starts_at": slots[3]["starts_at"], "patient": patient, "notes": patient_note}))
            .await;
        assert_eq!(staff.status, 201, "{:?}", staff.body);
        let day = &slots[0]["local_start"].as_str().unwrap()[..10];
        assert_eq!(app.get(&format!("/admin/clinics/demo/appointments?date={day}"), Some(&token)).await.status, 200);
        let secrets = link_flow(&app, &token, &gp15, &patient).await;
        partner_flow(&app, &token, &gp15, &patient).await;
        portal_flow(&app, &token, &gp15).await;
        connect_flow(&app, &token).await;
        secrets
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.lines().count() > 5, "the logs were not captured: {logs}");
    assert!(logs.contains("\"answered\""), "request logs missing: {logs}");
    assert!(logs.contains("request_id"), "request ids missing: {logs}");
    assert!(
        logs.contains("booked through a link") && logs.contains("rescheduled through the manage link"),
        "link flow logs missing"
    );
    assert!(logs.contains("appointment message handled"), "lifecycle (confirmation, invite) logs missing");
    for expected in
        ["patient enrolled", "action recorded", "action failed for good", "SMS reply kept", "not an inbound SMS"]
    {
        let connect: Vec<&str> = logs.lines().filter(|line| line.contains("patient_connect")).collect();
        assert!(logs.contains(expected), "Patient Connect log {expected:?} missing: {connect:#?}");
    }
    let mut secrets = vec![NAME, "Quarrington", PHONE, NATIONAL_PHONE, EMAIL, "zebedee", BIRTH_DATE];
    secrets.extend(link_secrets.iter().map(String::as_str));
    for secret in secrets {
        let line = logs.lines().find(|line| line.to_lowercase().contains(&secret.to_lowercase()));
        assert!(line.is_none(), "{secret} appears in a log line: {}", line.unwrap_or(""));
    }
    let _ = std::io::stdout().flush();
}

/// A booking link sent to the patient, booked, verified (wrongly, then rightly) and
/// rescheduled; returns the link's and the manage link's tokens, which must not be logged either.
async fn link_flow(app: &TestApp, token: &str, gp15: &str, patient: &serde_json::Value) -> Vec<String> {
    let providers = app.get("/admin/clinics/demo/providers", Some(token)).await.body;
    let locations = app.get("/admin/clinics/demo/locations", Some(token)).await.body;
    let ids = |list: &serde_json::Value| -> Vec<String> {
        list["items"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap().to_owned()).collect()
    };
    let rule = app
        .json("POST", "/admin/clinics/demo/broadcast-rules", Some(token), json!({
            "title": "Review", "booking_type_id": gp15, "provider_ids": ids(&providers)[..2], "location_ids": ids(&locations),
            "link_lifetime_hours": 24, "allow_reschedule": true, "sms_template": "Hi {first_name}: {link}"
        }))
        .await;
    assert_eq!(rule.status, 201, "{:?}", rule.body);
    let sent = app
        .json(
            "POST",
            "/admin/clinics/demo/booking-links",
            Some(token),
            json!({"rule_id": rule.body["id"], "patient_reference": "MRN-LOG", "patient": patient}),
        )
        .await;
    assert_eq!(sent.status, 201, "{:?}", sent.body);
    let url = sent.body["url"].as_str().unwrap();
    let link = url.rsplit('/').next().unwrap().to_owned();
    let html = |path: String| async move { app.client.get(app.url(&path)).send().await.unwrap().text().await.unwrap() };
    let post = |path: String, body: String| async move {
        let response = app
            .client
            .post(app.url(&path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    };
    html(format!("/links/{link}")).await;
    let times = html(format!("/links/{link}?step=times")).await;
    let time = times.split("name=\"time\" value=\"").nth(1).unwrap().split('"').next().unwrap().replace(':', "%3A");
    assert_eq!(post(format!("/links/{link}"), format!("time={time}")).await.0, 201);
    app.settle().await;
    let outbox = app.get("/_local/outbox", None).await.body;
    let confirmation = outbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["body"].as_str().unwrap().contains("/manage/"))
        .unwrap();
    let manage_url =
        confirmation["body"].as_str().unwrap().split_whitespace().find(|w| w.contains("/manage/")).unwrap();
    let manage = manage_url.rsplit('/').next().unwrap().to_owned();
    assert_eq!(post(format!("/manage/{manage}"), "action=verify&date_of_birth=1984-03-01".into()).await.0, 422);
    let (status, overview) =
        post(format!("/manage/{manage}"), format!("action=verify&date_of_birth={BIRTH_DATE}")).await;
    assert_eq!(status, 200);
    let grant = overview.split("name=\"grant\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let other = overview.split("name=\"time\" value=\"").nth(2).unwrap().split('"').next().unwrap().replace(':', "%3A");
    let (status, _) = post(format!("/manage/{manage}"), format!("action=reschedule&grant={grant}&time={other}")).await;
    assert_eq!(status, 200);
    let history = app.get("/admin/clinics/demo/patients/MRN-LOG/booking-links", Some(token)).await;
    assert_eq!(history.status, 200);
    vec![link, manage, grant]
}

/// A partner booking for the patient: the record added (and a duplicate refused), found by
/// name, a slot held and confirmed, statistics read.
async fn partner_flow(app: &TestApp, token: &str, gp15: &str, patient: &serde_json::Value) {
    let partner = app
        .json(
            "POST",
            "/admin/clinics/demo/partners",
            Some(token),
            json!({"id": "acme", "name": "Acme", "activated_booking_type_ids": [gp15]}),
        )
        .await;
    assert_eq!(partner.status, 201, "{:?}", partner.body);
    let added = app
        .json(
            "POST",
            "/admin/clinics/demo/patients",
            Some(token),
            json!({"reference": "MRN-PARTNER", "patient": patient}),
        )
        .await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    let duplicate = app.json("POST", "/admin/clinics/demo/patients", Some(token), json!({"patient": patient})).await;
    assert_eq!(duplicate.status, 409);
    let found = app.get("/admin/clinics/demo/patients?search=Zebedee%20Quarrington", Some(token)).await;
    assert_eq!(found.body["items"][0]["reference"], "MRN-PARTNER");
    let slots = app
        .get(&format!("/admin/clinics/demo/partner-booking/slots?partner_id=acme&booking_type_id={gp15}"), Some(token))
        .await;
    let slot = &slots.body["slots"][0];
    let held = app
        .json("POST", "/admin/clinics/demo/partner-holds", Some(token), json!({"partner_id": "acme", "booking_type_id": gp15, "provider_id": slot["provider_id"], "location_id": slot["location_id"], "starts_at": slot["starts_at"]}))
        .await;
    assert_eq!(held.status, 201, "{:?}", held.body);
    let confirmed = app
        .json(
            "POST",
            &format!("/admin/clinics/demo/partner-holds/{}/confirm", held.body["id"].as_str().unwrap()),
            Some(token),
            json!({"patient_reference": "MRN-PARTNER"}),
        )
        .await;
    assert_eq!(confirmed.status, 201, "{:?}", confirmed.body);
    assert_eq!(app.get("/admin/clinics/demo/statistics?format=csv", Some(token)).await.status, 200);
}

/// The patient portal: identification as a known patient and as a stranger (provisional
/// details), bookings, and staff attaching the provisional one.
async fn portal_flow(app: &TestApp, token: &str, gp15: &str) {
    let service = app
        .json(
            "POST",
            "/admin/clinics/demo/online-services",
            Some(token),
            json!({"name": "GP", "booking_type_ids": [gp15]}),
        )
        .await;
    assert_eq!(service.status, 201, "{:?}", service.body);
    let visitor = json!({"patient": {"first_name": "Zebedee", "last_name": "Quarrington", "date_of_birth": BIRTH_DATE, "mobile": PHONE, "email": "someone.else@example.com"}, "postcode": "SW1A 1AA", "sex": "male"});
    let request = json!({"visitor": visitor, "service_id": service.body["id"], "booking_type_id": gp15});
    let slots = app.json("POST", "/public/clinics/demo/portal/availability", None, request.clone()).await;
    assert_eq!(slots.status, 200, "{:?}", slots.body);
    let mut booking = request;
    booking["starts_at"] = slots.body["slots"][0]["starts_at"].clone();
    let booked = app.json("POST", "/public/clinics/demo/portal/bookings", None, booking).await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    let form = format!(
        "action=identify&first_name=Zebedee&last_name=Quarrington&date_of_birth={BIRTH_DATE}&mobile=%2B447700900123&email={}",
        EMAIL.replace('@', "%40")
    );
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let identified = client
        .post(app.url("/portal/demo"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(identified.status().as_u16(), 303);
    let cookie = identified.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let page = client.get(app.url("/portal/demo")).header("cookie", cookie).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("Zebedee"), "the portal shows whom it books for");
}

/// Patient Connect: a record with an address, templates that merge the patient's name, an SMS
/// that saves replies, an email, a letter saved as a file, a letter to a GP the record does not
/// name (a failure with its reason), and the patient's reply through SNS.
async fn connect_flow(app: &TestApp, token: &str) {
    let base = "/admin/clinics/demo";
    let patient = json!({"reference": "MRN-LOG-1", "patient": {"first_name": "Zebedee", "last_name": "Quarrington", "date_of_birth": BIRTH_DATE, "mobile": PHONE, "email": EMAIL}, "profile": {"postal_address": format!("{NAME}\n1 Example Street")}, "confirm_duplicate": true});
    assert_eq!(app.json("POST", &format!("{base}/patients"), Some(token), patient).await.status, 201);
    let mut ids = Vec::new();
    for (kind, subject) in [
        ("sms", None),
        ("email", Some("For {patient.first_name} {patient.last_name}")),
        ("letter", Some("Dear {patient.first_name}")),
    ] {
        let body = json!({"kind": kind, "name": kind, "subject": subject, "body": "Hello {patient.first_name} {patient.last_name}, {booking.date}"});
        let answer = app.json("POST", &format!("{base}/connect-templates"), Some(token), body).await;
        assert_eq!(answer.status, 201, "{answer:?}");
        ids.push(answer.body["template"]["id"].as_str().unwrap().to_owned());
    }
    let timing =
        |days: u16| json!({"direction": "after", "offset": {"amount": days, "unit": "days"}, "time_of_day": "09:00"});
    let program = json!({
        "program_type": "general", "name": "Log check", "cycles": 1, "frequency": {"amount": 1, "unit": "months"},
        "actions": [
            {"kind": {"kind": "sms", "template_id": ids[0], "save_reply_content": true}, "timing": timing(1), "pause_on_error": false},
            {"kind": {"kind": "email", "template_id": ids[1]}, "timing": timing(2), "pause_on_error": false},
            {"kind": {"kind": "letter_to_patient", "template_id": ids[2], "print": "save_file"}, "timing": timing(3), "pause_on_error": false},
            {"kind": {"kind": "letter_to_gp", "template_id": ids[2], "print": "mail"}, "timing": timing(4), "pause_on_error": false},
        ],
        "completing_bookings": {"kind": "ignore"}, "enabled": true,
    });
    let created = app.json("POST", &format!("{base}/connect-programs"), Some(token), program).await;
    let program_id = created.body["program"]["id"].as_str().unwrap();
    let enrolled = app
        .json(
            "POST",
            &format!("{base}/connect-enrollments"),
            Some(token),
            json!({"program_id": program_id, "patient_reference": "MRN-LOG-1"}),
        )
        .await;
    assert_eq!(enrolled.status, 201, "{enrolled:?}");
    let id = enrolled.body["enrollment"]["id"].as_str().unwrap().to_owned();
    // A day at a time, so each action runs on its day.
    for day in 1..=5 {
        app.server.clock.advance(jiff::SignedDuration::from_hours(24));
        for _ in 0..200 {
            let view = app.get(&format!("{base}/connect-enrollments/{id}"), Some(token)).await.body;
            if view["outcomes"].as_array().map_or(0, Vec::len) >= day.min(4) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }
    let view = app.get(&format!("{base}/connect-enrollments/{id}"), Some(token)).await.body;
    assert_eq!(view["enrollment"]["position"]["state"], "finished", "{view}");
    let inbound = json!({"originationNumber": PHONE, "messageBody": format!("This is {NAME}, born {BIRTH_DATE}"), "inboundMessageId": "log-check-1"});
    let sns: aws_lambda_events::sns::SnsEvent = serde_json::from_value(json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": "arn:aws:sns:eu-west-2:123456789012:t:1", "Sns": {"Type": "Notification", "MessageId": "m1", "TopicArn": "arn:aws:sns:eu-west-2:123456789012:t", "Message": inbound.to_string(), "Timestamp": "2026-11-22T09:30:00.000Z", "SignatureVersion": "1", "Signature": "x", "SigningCertUrl": "https://example.com", "UnsubscribeUrl": "https://example.com", "MessageAttributes": {}}}]})).unwrap();
    clinic_shared::lambda::handle_inbound_sms(&app.server.app.state, sns).await.unwrap();
    // A record that is not an inbound SMS at all, holding patient data, is dropped unlogged.
    let junk: aws_lambda_events::sns::SnsEvent = serde_json::from_value(json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": "arn:aws:sns:eu-west-2:123456789012:t:1", "Sns": {"Type": "Notification", "MessageId": "m2", "TopicArn": "arn:aws:sns:eu-west-2:123456789012:t", "Message": format!("{{\"originationNumber\": 7, \"messageBody\": \"{NAME}\"}}"), "Timestamp": "2026-11-22T09:30:00.000Z", "SignatureVersion": "1", "Signature": "x", "SigningCertUrl": "https://example.com", "UnsubscribeUrl": "https://example.com", "MessageAttributes": {}}}]})).unwrap();
    clinic_shared::lambda::handle_inbound_sms(&app.server.app.state, junk).await.unwrap();
    let view = app.get(&format!("{base}/connect-enrollments/{id}"), Some(token)).await.body;
    assert_eq!(view["replies"].as_array().map(Vec::len), Some(1), "{view}");
}
