//! A full flow with patient data in every place it can travel, with the logs captured: no
//! patient name, phone number, email or birth date appears in any log line.

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
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
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
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.lines().count() > 5, "the logs were not captured: {logs}");
    assert!(logs.contains("\"answered\""), "request logs missing: {logs}");
    assert!(logs.contains("request_id"), "request ids missing: {logs}");
    for secret in [NAME, "Quarrington", PHONE, NATIONAL_PHONE, EMAIL, "zebedee", BIRTH_DATE] {
        let line = logs.lines().find(|line| line.to_lowercase().contains(&secret.to_lowercase()));
        assert!(line.is_none(), "{secret} appears in a log line: {}", line.unwrap_or(""));
    }
    let _ = std::io::stdout().flush();
}
