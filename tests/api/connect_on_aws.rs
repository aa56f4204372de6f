//! Patient Connect on the AWS adapters, against moto: DynamoDB holds the enrollment, EventBridge
//! Scheduler holds its one live schedule (time, target, payload, delete after completion), the
//! runner's SMS and email reach SNS and SES, and letters land in S3.

use std::sync::Arc;

use clinic_shared::clock::{Clock, ManualClock};
use clinic_shared::domain::clinic::ClinicId;
use clinic_shared::domain::jobs::ScheduledJob;
use clinic_shared::domain::message_template::{MessageTemplate, MessageTemplateInput, TemplateKind};
use clinic_shared::domain::patient::{PatientDetails, PatientInput, PatientRecord, PatientReference};
use clinic_shared::domain::patient_connect::ConnectProgram;
use clinic_shared::features::patient_connect::enrollments::{Entry, new_enrollment};
use clinic_shared::features::patient_connect::{StoredProgram, job_for, load_enrollment};
use clinic_shared::features::runner::{Outcome, run_job};
use clinic_shared::files::letters::{LetterFiles, S3LetterFiles};
use clinic_shared::scheduler::aws::at_expression;
use clinic_shared::store::{Condition, Item, Write, keys};
use clinic_tests::moto;
use jiff::SignedDuration;
use serde_json::json;

fn program() -> ConnectProgram {
    serde_json::from_value(json!({
        "program_type": "recall", "name": "Annual review", "cycles": 1, "frequency": {"amount": 12, "unit": "months"},
        "actions": [
            {"kind": {"kind": "sms", "template_id": "aws-sms", "save_reply_content": false}, "timing": {"direction": "before", "offset": {"amount": 7, "unit": "days"}, "time_of_day": "09:00"}, "pause_on_error": false},
            {"kind": {"kind": "email", "template_id": "aws-email"}, "timing": {"direction": "before", "offset": {"amount": 3, "unit": "days"}, "time_of_day": "09:00"}, "pause_on_error": false},
        ],
        "completing_bookings": {"kind": "any"}, "enabled": true,
    }))
    .unwrap()
}

/// What moto recorded under `service`/`kind` that mentions `marker`.
async fn recorded_with(service: &str, kind: &str, marker: &str) -> Vec<serde_json::Value> {
    let recorded = moto::recorded().await;
    let all = recorded[service][kind].as_array().cloned().unwrap_or_default();
    all.into_iter().filter(|entry| entry.to_string().contains(marker)).collect()
}

#[tokio::test]
async fn on_moto_the_schedule_is_right_and_the_sms_and_email_reach_sns_and_ses_once() {
    let clock = Arc::new(ManualClock::fixed(clinic_tests::TEST_START.parse().unwrap()));
    let moto::AwsApp { state, scheduler: scheduler_client, targets, data_dir: _dir } =
        moto::aws_app("connect", clock.clone()).await;
    let group = targets.group.clone();
    let clinic = ClinicId::parse("demo").unwrap();
    let marker = moto::unique("review");
    for (id, kind, subject) in [
        ("aws-sms", TemplateKind::Sms, None),
        ("aws-email", TemplateKind::Email, Some(format!("Your review {marker}"))),
    ] {
        let input = MessageTemplateInput {
            kind,
            name: id.into(),
            subject,
            body: format!("Hello {{patient.first_name}}, your review is due on {{booking.date}}. {marker}"),
        };
        let template = MessageTemplate::parse(id.into(), &input).unwrap();
        let item = Item::from_record(keys::connect_template(&clinic, id), &template).unwrap();
        state.store.write(Write::put(item, Condition::Always)).await.unwrap();
    }
    let now = clock.now();
    let program = StoredProgram {
        id: "aws-recall".into(),
        program: program(),
        created_at: now,
        updated_at: now,
        archived_at: None,
    };
    let item = Item::from_record(keys::connect_program(&clinic, "aws-recall"), &program).unwrap();
    state.store.write(Write::put(item, Condition::Always)).await.unwrap();
    let input = PatientInput {
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        date_of_birth: "1985-12-10".into(),
        mobile: "+447700900125".into(),
        email: "ada.aws@example.com".into(),
    };
    let reference = PatientReference::parse("r", "MRN-AWS-1").unwrap();
    let record = PatientRecord {
        reference: reference.clone(),
        details: PatientDetails::parse(
            &input,
            "2026-11-22".parse().unwrap(),
            clinic_shared::domain::contact::Region::GB,
            "",
        )
        .unwrap(),
        profile: Default::default(),
    };
    let item = Item::from_record(keys::patient(&clinic, reference.as_str()), &record).unwrap();
    state.store.write(Write::put(item, Condition::Always)).await.unwrap();

    // Enroll: one EventBridge schedule, at the SMS's time in UTC, for the runner, with the
    // payload the runner reads, deleted after it runs.
    let zone = jiff::tz::TimeZone::get("Europe/London").unwrap();
    let enrollment = new_enrollment(
        &state,
        &clinic,
        &zone,
        Entry {
            program: &program,
            id: "awsenrollment1".into(),
            patient_reference: Some(reference),
            appointment_id: None,
            first_reference_date: "2026-12-20".parse().unwrap(),
            enrolled_by: "staff",
        },
        now,
    )
    .await
    .unwrap();
    let next = enrollment.next.clone().unwrap();
    assert_eq!(next.due_at, "2026-12-13T09:00:00Z".parse().unwrap());
    let schedule = scheduler_client.get_schedule().group_name(&group).name(&next.schedule_name).send().await.unwrap();
    assert_eq!(schedule.schedule_expression(), Some(at_expression(next.due_at).as_str()));
    assert_eq!(schedule.action_after_completion().map(|action| action.as_str()), Some("DELETE"));
    let target = schedule.target().unwrap();
    assert_eq!(target.arn(), targets.runner_arn);
    let payload: ScheduledJob = serde_json::from_str(target.input().unwrap()).unwrap();
    assert_eq!(payload, job_for(&clinic, &enrollment.id, &next));
    let listed = scheduler_client.list_schedules().group_name(&group).send().await.unwrap();
    assert_eq!(listed.schedules().len(), 1, "one live schedule per enrollment");

    // Fire it (twice): one SMS in moto's SNS record; the email's schedule is made.
    clock.set(next.due_at);
    assert_eq!(run_job(&state, &payload).await.unwrap(), Outcome::Ran);
    assert_eq!(run_job(&state, &payload).await.unwrap(), Outcome::AlreadyDone);
    let sms = recorded_with("sns", "SMS", &marker).await;
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert!(sms[0].to_string().contains("+447700900125") && sms[0].to_string().contains("Hello Ada"));
    let (moved, _) = load_enrollment(&state, &clinic, &enrollment.id).await.unwrap().unwrap();
    let email_next = moved.next.clone().unwrap();
    assert_eq!(email_next.due_at, "2026-12-17T09:00:00Z".parse().unwrap());
    assert!(scheduler_client.get_schedule().group_name(&group).name(&email_next.schedule_name).send().await.is_ok());

    clock.set(email_next.due_at + SignedDuration::from_secs(5));
    let email_job = job_for(&clinic, &enrollment.id, &email_next);
    assert_eq!(run_job(&state, &email_job).await.unwrap(), Outcome::Ran);
    let emails = recorded_with("ses", "Message", &marker).await;
    assert_eq!(emails.len(), 1, "{emails:?}");
    assert!(emails[0].to_string().contains("ada.aws@example.com"));
    let (done, _) = load_enrollment(&state, &clinic, &enrollment.id).await.unwrap().unwrap();
    assert_eq!(done.position, clinic_shared::domain::patient_connect::Position::Finished);
    assert!(done.next.is_none());
}

#[tokio::test]
async fn a_letter_saved_to_s3_reads_back() {
    let (s3, bucket) = moto::bucket("letters").await;
    let letters = S3LetterFiles::new(s3.clone(), &bucket);
    use clinic_shared::domain::letter_pdf::{LetterText, Letterhead, render_pdf};
    let pdf = render_pdf(&LetterText {
        letterhead: Letterhead { name: "Riverside Family Practice", address: &[], phone: None, logo: None },
        address: &["Zoë Łukasiewicz-Ωmega Жуков".to_owned()],
        date: "22 November 2026",
        heading: "Your review",
        body: "Please book.",
        closing: "Yours sincerely,",
        page_label: "Page {n} of {total}",
        phone_label: "Phone",
    });
    // Any Unicode name prints as written (read back by pypdf, not by our crates).
    assert!(clinic_tests::pdf_text(&pdf).contains("Zoë Łukasiewicz-Ωmega Жуков"), "a name did not print");
    letters.save("letters/demo/l1.pdf", pdf.clone()).await.unwrap();
    assert_eq!(letters.read("letters/demo/l1.pdf").await.unwrap(), Some(pdf));
    assert_eq!(letters.read("letters/demo/none.pdf").await.unwrap(), None);
    let head = s3.head_object().bucket(&bucket).key("letters/demo/l1.pdf").send().await.unwrap();
    assert_eq!(head.content_type(), Some("application/pdf"));
}
