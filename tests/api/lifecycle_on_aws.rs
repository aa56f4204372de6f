//! The appointment lifecycle on the AWS adapters, against moto: the booking's confirmations and
//! its one reminder are EventBridge Scheduler schedules; delivered, the SMS reaches SNS and the
//! email reaches SES as a raw MIME message with its calendar invite; a move replaces the
//! reminder's schedule and a cancel deletes it.

use std::sync::Arc;

use clinic_shared::clock::ManualClock;
use clinic_shared::domain::appointment::{Appointment, AppointmentStatus, Channel};
use clinic_shared::domain::availability::OfferedSlot;
use clinic_shared::domain::booking_type::BookingType;
use clinic_shared::domain::clinic::ClinicId;
use clinic_shared::domain::contact::{EmailAddress, PhoneNumber};
use clinic_shared::domain::jobs::ScheduledJob;
use clinic_shared::domain::location::Location;
use clinic_shared::domain::patient::PatientDetails;
use clinic_shared::domain::provider::Provider;
use clinic_shared::features::diary::booking;
use clinic_shared::features::runner::run_job;
use clinic_shared::scheduler::aws::at_expression;
use clinic_tests::moto;
use jiff::{SignedDuration, Timestamp};

async fn schedules(client: &aws_sdk_scheduler::Client, group: &str) -> Vec<(String, String, ScheduledJob)> {
    let listed = client.list_schedules().group_name(group).send().await.unwrap();
    let mut found = Vec::new();
    for summary in listed.schedules() {
        let name = summary.name().unwrap().to_owned();
        let schedule = client.get_schedule().group_name(group).name(&name).send().await.unwrap();
        let job: ScheduledJob = serde_json::from_str(schedule.target().unwrap().input().unwrap()).unwrap();
        found.push((name, schedule.schedule_expression().unwrap().to_owned(), job));
    }
    found
}

#[tokio::test]
async fn on_moto_confirmations_and_reminders_are_schedules_and_reach_sns_and_ses_with_the_invite() {
    let now: Timestamp = clinic_tests::TEST_START.parse().unwrap();
    let clock = Arc::new(ManualClock::fixed(now));
    let moto::AwsApp { state, scheduler, targets, data_dir: _dir } = moto::aws_app("lifecycle", clock.clone()).await;
    let group = targets.group.clone();
    let clinic = ClinicId::parse("demo").unwrap();
    let partition = clinic_shared::store::keys::clinic_partition(&clinic);
    let prefix = clinic_shared::store::keys::BOOKING_TYPE_PREFIX;
    let store = state.store.as_ref();
    let booking_type = &clinic_shared::store::records::<BookingType>(store, &partition, prefix).await.unwrap()[0];
    let providers = clinic_shared::store::keys::PROVIDER_PREFIX;
    let provider = &clinic_shared::store::records::<Provider>(store, &partition, providers).await.unwrap()[0];
    let locations = clinic_shared::store::keys::LOCATION_PREFIX;
    let location = &clinic_shared::store::records::<Location>(store, &partition, locations).await.unwrap()[0];
    let marker = moto::unique("lifecycle");
    let email = format!("{marker}@example.com");
    let patient = PatientDetails {
        first_name: "Pat".into(),
        last_name: "Example".into(),
        date_of_birth: "1980-05-17".parse().unwrap(),
        mobile: Some(PhoneNumber::parse("mobile", "+447700900161").unwrap()),
        email: Some(EmailAddress::parse("email", &email).unwrap()),
    };
    let starts_at = now + SignedDuration::from_hours(24 * 5);
    let slot = OfferedSlot { starts_at, provider_id: provider.id.clone(), location_id: location.id.clone() };
    let appointment = Appointment::booked(booking_type.id.clone(), 15, slot, patient, Channel::Staff, now);
    booking::book(&state, &clinic, &appointment, "staff", None).await.unwrap();

    // Two confirmations due now and one reminder, 24 hours ahead of the appointment.
    let made = schedules(&scheduler, &group).await;
    assert_eq!(made.len(), 3, "{made:?}");
    let reminder_at = at_expression(starts_at - SignedDuration::from_hours(24));
    let reminders: Vec<_> = made.iter().filter(|(_, at, _)| *at == reminder_at).collect();
    assert_eq!(reminders.len(), 1, "{made:?}");
    let first_reminder = reminders[0].0.clone();

    // Delivered (twice each), the confirmations reach SNS and SES once each.
    for (_, at, job) in &made {
        if *at != reminder_at {
            run_job(&state, job).await.unwrap();
            run_job(&state, job).await.unwrap();
        }
    }
    let recorded = moto::recorded().await;
    let sms: Vec<String> = recorded["sns"]["SMS"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|entry| entry.to_string())
        .filter(|entry| entry.contains("+447700900161") && entry.contains("https://book.example.com/manage/"))
        .collect();
    assert_eq!(sms.len(), 1, "{sms:?}");
    let mails: Vec<serde_json::Value> = recorded["ses"]
        .as_object()
        .map(|kinds| kinds.values().flat_map(|list| list.as_array().cloned().unwrap_or_default()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|entry| entry.to_string().contains(&email))
        .collect();
    assert_eq!(mails.len(), 1, "one email: {mails:?}");
    // SES got the raw MIME message; an independent parser finds the invite in it.
    let invite = super::appointment_lifecycle::parse_invite(mails[0]["raw_data"].as_str().expect("a raw message"));
    assert_eq!((invite["method"].as_str(), invite["mime_method"].as_str()), (Some("REQUEST"), Some("REQUEST")));
    assert_eq!(invite["uid"], format!("{}@clinic-booking", appointment.id));
    assert_eq!(invite["sequence"], 0);

    // A move replaces the reminder's schedule; a cancel deletes it.
    let current = booking::load(state.store.as_ref(), &clinic, &appointment.id).await.unwrap().unwrap();
    let later = starts_at + SignedDuration::from_hours(24);
    let moved = Appointment { starts_at: later, updated_at: now, ..current.appointment.clone() };
    booking::rewrite(&state, &clinic, &current, &moved, "staff", "appointment.moved").await.unwrap();
    let made = schedules(&scheduler, &group).await;
    assert!(!made.iter().any(|(name, _, _)| *name == first_reminder), "the old reminder's schedule is gone");
    let moved_reminder = at_expression(later - SignedDuration::from_hours(24));
    let live: Vec<_> = made.iter().filter(|(_, at, _)| *at == moved_reminder).collect();
    assert_eq!(live.len(), 1, "one live reminder at the new time: {made:?}");
    let second_reminder = live[0].0.clone();

    let current = booking::load(state.store.as_ref(), &clinic, &appointment.id).await.unwrap().unwrap();
    let cancelled = Appointment { status: AppointmentStatus::Cancelled, ..current.appointment.clone() };
    booking::rewrite(&state, &clinic, &current, &cancelled, "staff", "appointment.cancelled").await.unwrap();
    let made = schedules(&scheduler, &group).await;
    assert!(!made.iter().any(|(name, _, _)| *name == second_reminder), "a cancel deletes the reminder's schedule");
    // The late delivery of the deleted reminder sends nothing.
    let stale = live[0].2.clone();
    clock.set(later - SignedDuration::from_hours(24));
    run_job(&state, &stale).await.unwrap();
    let after = moto::recorded().await.to_string();
    assert!(!after.contains("Reminder of your appointment"), "no reminder after the cancel");
}
