//! The messages port against the outbox and against SNS/SES on moto: what a sent SMS and email
//! look like where they land.

use clinic_shared::clock::Clock;
use clinic_shared::domain::contact::{EmailAddress, PhoneNumber};
use clinic_shared::messages::aws::AwsMessages;
use clinic_shared::messages::outbox::{Outbox, list_outbox};
use clinic_shared::messages::{Email, Messages, Sms};
use clinic_tests::moto;

fn sms(text: &str) -> Sms {
    Sms { to: PhoneNumber::parse("to", "+447700900123").unwrap(), body: text.to_owned() }
}

fn email(subject: &str) -> Email {
    Email {
        to: EmailAddress::parse("to", "patient@example.com").unwrap(),
        subject: subject.to_owned(),
        text: "Your appointment is on Monday 23 November at 09:15.".into(),
        html: Some("<p>Your appointment is on <b>Monday 23 November</b> at 09:15.</p>".into()),
        invite: None,
    }
}

#[tokio::test]
async fn the_outbox_keeps_each_message_as_sent() {
    let subject = super::store_conformance::embedded();
    let outbox = Outbox::new(subject.store.clone(), subject.clock.clone());
    let sent_sms = outbox.send_sms(&sms("Reminder: GP appointment tomorrow 09:15")).await.unwrap();
    let sent_email = outbox.send_email(&email("Your appointment")).await.unwrap();
    let messages = list_outbox(subject.store.as_ref()).await.unwrap();
    assert_eq!(messages.len(), 2);
    let (first, second) = (&messages[0], &messages[1]);
    assert_eq!(
        (first.id.as_str(), first.channel.as_str(), first.to.as_str()),
        (sent_sms.message_id.as_str(), "sms", "+447700900123")
    );
    assert_eq!(first.body, "Reminder: GP appointment tomorrow 09:15");
    assert_eq!(first.sent_at, subject.clock.now());
    assert_eq!(
        (second.id.as_str(), second.channel.as_str(), second.to.as_str()),
        (sent_email.message_id.as_str(), "email", "patient@example.com")
    );
    assert_eq!(second.subject, "Your appointment");
    assert!(second.html.as_deref().unwrap().contains("<b>Monday 23 November</b>"));
}

#[tokio::test]
async fn the_outbox_refuses_an_empty_or_overlong_sms() {
    let subject = super::store_conformance::embedded();
    let outbox = Outbox::new(subject.store.clone(), subject.clock.clone());
    assert!(!outbox.send_sms(&sms("")).await.unwrap_err().is_transient());
    assert!(outbox.send_sms(&sms(&"x".repeat(1601))).await.is_err());
    assert!(list_outbox(subject.store.as_ref()).await.unwrap().is_empty());
}

async fn aws_messages() -> AwsMessages {
    let config = moto::sdk_config().await;
    let ses = aws_sdk_sesv2::Client::new(&config);
    ses.create_email_identity().email_identity("example.com").send().await.ok();
    AwsMessages::new(aws_sdk_sns::Client::new(&config), ses, "bookings@example.com", None)
}

#[tokio::test]
async fn an_sms_reaches_sns_with_the_number_and_text() {
    let messages = aws_messages().await;
    let text = format!("Reminder {}", moto::unique("sms"));
    let sent = messages.send_sms(&sms(&text)).await.unwrap();
    assert!(!sent.message_id.is_empty());
    let recorded = moto::recorded().await;
    let all = recorded["sns"]["SMS"].as_array().cloned().unwrap_or_default();
    let found = all
        .iter()
        .find(|entry| entry.to_string().contains(&text))
        .unwrap_or_else(|| panic!("SMS not in moto's record: {all:?}"));
    let wire = found.to_string();
    assert!(wire.contains("+447700900123"), "{wire}");
}

#[tokio::test]
async fn an_email_reaches_ses_from_our_address_to_the_patient() {
    let messages = aws_messages().await;
    let subject = format!("Appointment {}", moto::unique("email"));
    let sent = messages.send_email(&email(&subject)).await.unwrap();
    assert!(!sent.message_id.is_empty());
    let recorded = moto::recorded().await;
    let all = recorded["ses"]["Message"].as_array().cloned().unwrap_or_default();
    let found = all
        .iter()
        .find(|entry| entry.to_string().contains(&subject))
        .unwrap_or_else(|| panic!("email not in moto's record: {all:?}"));
    let wire = found.to_string();
    assert!(wire.contains("bookings@example.com") && wire.contains("patient@example.com"), "{wire}");
    assert!(wire.contains("Monday 23 November"), "{wire}");
}
