//! One lifecycle for every appointment: the confirmation by SMS and email with a calendar invite
//! (parsed by an independent parser), the manage link that cancels and frees the slot at once,
//! staff cancellations told the same way, reminders that follow moves and stop at a cancel, each
//! message sent once however often its schedule is delivered, and no patient booked twice at once.

use std::time::Duration;

use clinic_shared::clock::Clock;
use clinic_shared::domain::access::Permission;
use clinic_shared::domain::clinic::ClinicId;
use clinic_shared::domain::jobs::{JobTask, ScheduledJob};
use clinic_shared::features::runner::run_job;
use clinic_tests::TestApp;
use serde_json::{Value, json};

use super::self_booking::{book, booking, demo, slots};

async fn outbox(app: &TestApp) -> Vec<Value> {
    let answer = app.get("/_local/outbox", None).await;
    answer.body["messages"].as_array().cloned().unwrap_or_default()
}

/// Waits (at most 10 s) until the outbox holds a message matching `wanted`.
async fn eventually(app: &TestApp, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        if let Some(found) = outbox(app).await.into_iter().find(|message| wanted(message)) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {what} in the outbox: {:#?}", outbox(app).await);
}

fn body(message: &Value) -> &str {
    message["body"].as_str().unwrap_or_default()
}

fn manage_token(text: &str) -> String {
    let url = text.split_whitespace().find(|word| word.contains("/manage/")).expect("a manage link");
    url.rsplit('/').next().unwrap().to_owned()
}

fn grant_in(html: &str) -> String {
    let start = html.find("name=\"grant\" value=\"").expect("a grant in the page") + 20;
    html[start..].split('"').next().unwrap().to_owned()
}

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let encoded: String = form
        .iter()
        .map(|(name, value)| format!("{name}={}", value.replace('%', "%25").replace('+', "%2B").replace(':', "%3A")))
        .collect::<Vec<_>>()
        .join("&");
    let response = app
        .client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encoded)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Parses a raw MIME message with Python's own `email` package and the `icalendar` package (not
/// the crates that built it), and returns what the invite says.
pub fn parse_invite(raw: &str) -> Value {
    let python = std::env::var("MOTO_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = r#"
import sys, json, email
from email import policy
import icalendar
message = email.message_from_string(sys.stdin.read(), policy=policy.default)
parts = {part.get_content_type(): part for part in message.walk()}
calendar_part = parts["text/calendar"]
calendar = icalendar.Calendar.from_ical(calendar_part.get_content())
event = [c for c in calendar.walk() if c.name == "VEVENT"][0]
print(json.dumps({
    "types": sorted(parts),
    "mime_method": calendar_part.get_content_type() and calendar_part.get_param("method"),
    "method": str(calendar.get("METHOD")),
    "uid": str(event.get("UID")),
    "sequence": int(event.get("SEQUENCE")),
    "dtstart": event.decoded("DTSTART").isoformat(),
    "status": str(event.get("STATUS")),
}))
"#;
    let mut child = std::process::Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(raw.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the invite parses: {}", String::from_utf8_lossy(&output.stdout));
    serde_json::from_slice(&output.stdout).unwrap()
}

async fn messages(app: &TestApp, token: &str, appointment: &str) -> Vec<Value> {
    let answer = app.get(&format!("/admin/clinics/demo/appointments/{appointment}/messages"), Some(token)).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_online_booking_is_confirmed_with_an_invite_and_its_manage_link_cancels_and_frees_the_slot() {
    let app = TestApp::spawn().await;
    let demo = demo(&app).await;
    let query = format!("booking_type_id={}&asap=true", demo.gp15);
    let slot = slots(&app, &query).await[0].clone();
    let starts_at = slot["starts_at"].as_str().unwrap().to_owned();
    let booked = book(&app, &booking(&demo.gp15, "any", "any", &starts_at), None).await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    let appointment = booked.body["appointment_id"].as_str().unwrap().to_owned();

    let sms = eventually(&app, "confirmation SMS", |m| m["channel"] == "sms" && body(m).contains("is booked")).await;
    assert_eq!(sms["to"], "+447700900123");
    assert!(body(&sms).contains("GP consultation"), "{}", body(&sms));
    let email = eventually(&app, "confirmation email", |m| m["channel"] == "email" && m["invite"].is_object()).await;
    assert_eq!(email["to"], "pat@example.com");
    assert_eq!(email["invite"]["method"], "REQUEST");
    let invite = parse_invite(email["raw"].as_str().unwrap());
    assert_eq!(invite["method"], "REQUEST");
    assert_eq!(invite["mime_method"], "REQUEST");
    assert_eq!(invite["uid"], format!("{appointment}@clinic-booking"));
    assert_eq!(invite["sequence"], 0);
    let start: jiff::Timestamp = starts_at.parse().unwrap();
    let parsed: jiff::Timestamp = invite["dtstart"].as_str().unwrap().parse().unwrap();
    assert_eq!(parsed, start);
    for part in ["text/plain", "text/html", "text/calendar"] {
        assert!(invite["types"].as_array().unwrap().iter().any(|t| t == part), "{part} in {:?}", invite["types"]);
    }

    // Staff see both messages as sent, with the provider's (the outbox's) id.
    let token = app.demo_admin();
    let listed = messages(&app, &token, &appointment).await;
    let confirmations: Vec<&Value> = listed.iter().filter(|m| m["kind"] == "confirmation").collect();
    assert_eq!(confirmations.len(), 2, "{listed:#?}");
    for message in &confirmations {
        assert_eq!(message["status"]["state"], "sent", "{message:?}");
        assert!(message["status"]["provider_message_id"].as_str().is_some_and(|id| !id.is_empty()));
    }
    assert!(listed.iter().any(|m| m["template"] == "confirmation.email"));

    // The manage link: opening it changes nothing; a wrong birth date is refused; the right one
    // shows the appointment; cancelling asks first, then cancels.
    let manage = format!("/manage/{}", manage_token(body(&sms)));
    let (status, page) = (app.client.get(app.url(&manage)).send().await.unwrap().status().as_u16(), ());
    assert_eq!((status, page), (200, ()));
    let (status, _) = post_form(&app, &manage, &[("action", "verify"), ("date_of_birth", "1980-05-18")]).await;
    assert_eq!(status, 422);
    let (status, overview) = post_form(&app, &manage, &[("action", "verify"), ("date_of_birth", "1980-05-17")]).await;
    assert_eq!(status, 200, "{overview}");
    assert!(overview.contains("Cancel this appointment"), "{overview}");
    let grant = grant_in(&overview);
    let (status, question) = post_form(&app, &manage, &[("action", "cancel"), ("grant", &grant)]).await;
    assert_eq!(status, 200);
    assert!(question.contains("Yes, cancel it"));
    let (status, done) = post_form(&app, &manage, &[("action", "confirm_cancel"), ("grant", &grant)]).await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("Your appointment is cancelled"), "{done}");

    // The slot is free again at once and offered online.
    let again = slots(&app, &query).await;
    assert_eq!(again[0]["starts_at"], slot["starts_at"], "the cancelled time is offered again");
    // The diary says who cancelled and when.
    let day = booked.body["local_start"].as_str().unwrap()[..10].to_owned();
    let diary = app.get(&format!("/admin/clinics/demo/appointments?date={day}"), Some(&token)).await;
    let entry = diary.body["items"].as_array().unwrap().iter().find(|item| item["id"] == appointment).unwrap().clone();
    assert_eq!((entry["status"].as_str(), entry["cancelled_by"].as_str()), (Some("cancelled"), Some("patient")));

    // The cancellation goes by SMS and by email with a METHOD:CANCEL invite of a later sequence.
    let cancel_sms =
        eventually(&app, "cancellation SMS", |m| m["channel"] == "sms" && body(m).contains("is cancelled")).await;
    assert!(!body(&cancel_sms).contains("/manage/"));
    let cancel_email =
        eventually(&app, "cancellation email", |m| m["channel"] == "email" && m["invite"]["method"] == "CANCEL").await;
    let invite = parse_invite(cancel_email["raw"].as_str().unwrap());
    assert_eq!((invite["method"].as_str(), invite["sequence"].as_i64()), (Some("CANCEL"), Some(1)));
    assert_eq!(invite["uid"], format!("{appointment}@clinic-booking"), "the same UID");
    assert_eq!(invite["status"], "CANCELLED");

    // Cancelling twice changes nothing more.
    let (status, _) = post_form(&app, &manage, &[("action", "confirm_cancel"), ("grant", &grant)]).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cancellations = outbox(&app).await.iter().filter(|m| body(m).contains("is cancelled")).count();
    assert_eq!(cancellations, 2, "one SMS and one email");
}

async fn staff_booking(app: &TestApp, token: &str, body: Value) -> clinic_tests::Answer {
    app.json("POST", "/admin/clinics/demo/appointments", Some(token), body).await
}

fn patient() -> Value {
    json!({"first_name": "Ada", "last_name": "Example", "date_of_birth": "1985-12-10", "mobile": "+447700900124", "email": "ada@example.com"})
}

#[tokio::test]
async fn a_patient_is_never_booked_twice_at_once_whatever_the_provider() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    let ids = app.demo_ids(&token).await;
    let created = app
        .json(
            "POST",
            "/admin/clinics/demo/patients",
            Some(&token),
            json!({"reference": "MRN-77", "patient": patient()}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let demo = demo(&app).await;
    let (shared, amara, tom) = a_time_both_gps_offer(&app, &demo.gp15, &ids).await;
    let location = |provider: &str| {
        let list = if provider == ids.amara { &amara } else { &tom };
        list.iter().find(|slot| slot["starts_at"] == shared.as_str()).unwrap()["location_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let attempts = (0..10).map(|n| {
        let provider = if n % 2 == 0 { ids.amara.clone() } else { ids.tom.clone() };
        let body = json!({
            "booking_type_id": ids.gp15, "provider_id": provider, "location_id": location(&provider),
            "starts_at": shared, "patient": patient(), "patient_reference": "MRN-77",
        });
        let (app, token) = (&app, &token);
        async move { staff_booking(app, token, body).await }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let statuses: Vec<u16> = answers.iter().map(|answer| answer.status).collect();
    assert_eq!(statuses.iter().filter(|status| **status == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|status| [201, 409].contains(status)), "{statuses:?}");
    let refusal = answers
        .iter()
        .find(|answer| answer.status == 409 && answer.body["detail"].as_str().is_some_and(|d| d.contains("patient")));
    assert!(refusal.is_some(), "at least one refusal names the patient's other appointment");
    // The patient's record lists the one appointment.
    let record = app.get("/admin/clinics/demo/patients/MRN-77/appointments", Some(&token)).await;
    assert_eq!(record.status, 200, "{:?}", record.body);
    assert_eq!(record.body["items"].as_array().unwrap().len(), 1);
    // Cancelled, the time is the patient's again.
    let booked = answers.iter().find(|answer| answer.status == 201).unwrap();
    let id = booked.body["id"].as_str().unwrap();
    let cancel = app
        .json("PATCH", &format!("/admin/clinics/demo/appointments/{id}"), Some(&token), json!({"status": "cancelled"}))
        .await;
    assert_eq!(cancel.status, 200, "{:?}", cancel.body);
    let provider = ids.tom.clone();
    let rebook = staff_booking(
        &app,
        &token,
        json!({"booking_type_id": ids.gp15, "provider_id": provider, "location_id": location(&provider),
               "starts_at": shared, "patient": patient(), "patient_reference": "MRN-77", "notify": false}),
    )
    .await;
    assert_eq!(rebook.status, 201, "{:?}", rebook.body);
}

#[tokio::test]
async fn reminders_follow_moves_stop_at_a_cancel_and_each_goes_once_however_often_delivered() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    let ids = app.demo_ids(&token).await;
    let saved = app
        .json(
            "PUT",
            "/admin/clinics/demo/appointment-settings",
            Some(&token),
            json!({"reminders": [{"hours_before": 2, "channel": "sms"}, {"hours_before": 48, "channel": "email"}], "phone": "020 7946 0000"}),
        )
        .await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    assert_eq!(saved.body["reminders"][0]["hours_before"], 48, "earliest first");
    let bad = app
        .json(
            "PUT",
            "/admin/clinics/demo/appointment-settings",
            Some(&token),
            json!({"reminders": [{"hours_before": 0, "channel": "sms"}]}),
        )
        .await;
    assert_eq!((bad.status, bad.problem_fields()), (422, vec!["reminders[0].hours_before".to_owned()]));

    // A staff booking about five days ahead.
    let demo = demo(&app).await;
    let now = app.server.clock.now();
    let free = slots(&app, &format!("booking_type_id={}&provider_id={}&location_id=any", demo.gp15, ids.amara)).await;
    let slot = free
        .iter()
        .find(|slot| {
            let at: jiff::Timestamp = slot["starts_at"].as_str().unwrap().parse().unwrap();
            at.duration_since(now).as_hours() > 100
        })
        .expect("a slot more than 100 hours ahead")
        .clone();
    let starts_at: jiff::Timestamp = slot["starts_at"].as_str().unwrap().parse().unwrap();
    let booked = staff_booking(
        &app,
        &token,
        json!({"booking_type_id": ids.gp15, "provider_id": ids.amara, "location_id": slot["location_id"],
               "starts_at": slot["starts_at"], "patient": patient()}),
    )
    .await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    let id = booked.body["id"].as_str().unwrap().to_owned();
    let first_due = starts_at - jiff::SignedDuration::from_hours(48);
    assert_eq!(
        booked.body["next_reminder_at"].as_str().map(|t| t.parse::<jiff::Timestamp>().unwrap()),
        Some(first_due)
    );

    // Moved a week later: the reminder moves with it (one live reminder, the old one skipped).
    let later = starts_at + jiff::SignedDuration::from_hours(24 * 7);
    let moved = app
        .json(
            "PATCH",
            &format!("/admin/clinics/demo/appointments/{id}"),
            Some(&token),
            json!({"starts_at": later.to_string()}),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    let due = later - jiff::SignedDuration::from_hours(48);
    assert_eq!(moved.body["next_reminder_at"].as_str().map(|t| t.parse::<jiff::Timestamp>().unwrap()), Some(due));
    eventually(&app, "change SMS", |m| m["channel"] == "sms" && body(m).contains("has moved")).await;
    let moved_email =
        eventually(&app, "change email", |m| m["channel"] == "email" && body(m).contains("has moved")).await;
    let invite = parse_invite(moved_email["raw"].as_str().unwrap());
    assert_eq!(
        (invite["method"].as_str(), invite["sequence"].as_i64()),
        (Some("REQUEST"), Some(1)),
        "an updated invite"
    );
    let listed = messages(&app, &token, &id).await;
    let reminders: Vec<&Value> = listed.iter().filter(|m| m["kind"] == "reminder").collect();
    assert_eq!(reminders.len(), 2, "{listed:#?}");
    assert_eq!(reminders[0]["status"]["state"], "skipped", "the first reminder is replaced");
    assert_eq!(reminders[1]["status"]["state"], "queued");
    let live = reminders[1]["id"].as_str().unwrap().to_owned();
    // The embedded scheduler holds the new reminder's schedule, not the replaced one's.
    let store = &app.server.app.state.store;
    let scheduled = |message: &str| {
        let key = clinic_shared::store::keys::schedule_name(&format!("msg-{message}"));
        async move { store.get(&key).await.unwrap().is_some() }
    };
    assert!(!scheduled(reminders[0]["id"].as_str().unwrap()).await, "the replaced reminder's schedule is removed");
    assert!(scheduled(&live).await, "the live reminder is scheduled");

    // Past the first reminder's time: the 48-hour email goes once, even when its schedule is
    // delivered again, at once and concurrently.
    let hours = due.duration_since(app.server.clock.now()).as_hours() + 1;
    let advanced =
        app.client.post(app.url("/_local/clock")).json(&json!({"advance_hours": hours})).send().await.unwrap();
    assert_eq!(advanced.status().as_u16(), 200);
    let reminder = eventually(&app, "48-hour reminder email", |m| {
        m["channel"] == "email" && m["subject"].as_str().unwrap().starts_with("Reminder")
    })
    .await;
    assert!(reminder["invite"].is_null(), "a reminder carries no new invite");
    let state = app.server.app.state.clone();
    let job = ScheduledJob {
        job_id: format!("msg-{live}"),
        clinic_id: ClinicId::parse("demo").unwrap(),
        task: JobTask::SendAppointmentMessage { appointment_id: id.clone(), message_id: live.clone() },
    };
    let repeats = (0..5).map(|_| run_job(&state, &job));
    // A repeat that meets the send in progress is told to come back (the scheduler retries).
    for outcome in futures_util::future::join_all(repeats).await {
        let retry_later = matches!(outcome, Err(clinic_shared::scheduler::JobError::Retryable(_)));
        assert!(outcome.is_ok() || retry_later, "{outcome:?}");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(run_job(&state, &job).await.is_ok(), "a later repeat finds it sent");
    let reminder_emails =
        outbox(&app).await.iter().filter(|m| m["subject"].as_str().is_some_and(|s| s.starts_with("Reminder"))).count();
    assert_eq!(reminder_emails, 1, "sent once");

    // Then the 2-hour SMS is the one live reminder; a cancel drops it, and nothing more is sent.
    let view = app
        .get(
            &format!("/admin/clinics/demo/appointments?date={}", &moved.body["local_start"].as_str().unwrap()[..10]),
            Some(&token),
        )
        .await;
    let entry = view.body["items"].as_array().unwrap().iter().find(|item| item["id"] == id.as_str()).unwrap().clone();
    let second_due = later - jiff::SignedDuration::from_hours(2);
    assert_eq!(
        entry["next_reminder_at"].as_str().map(|t| t.parse::<jiff::Timestamp>().unwrap()),
        Some(second_due),
        "{:#?}",
        messages(&app, &token, &id).await
    );
    let cancel = app
        .json("PATCH", &format!("/admin/clinics/demo/appointments/{id}"), Some(&token), json!({"status": "cancelled"}))
        .await;
    assert_eq!(cancel.status, 200, "{:?}", cancel.body);
    assert!(cancel.body["next_reminder_at"].is_null());
    eventually(&app, "staff cancellation SMS", |m| m["channel"] == "sms" && body(m).contains("is cancelled")).await;
    let advanced =
        app.client.post(app.url("/_local/clock")).json(&json!({"advance_hours": 24 * 8})).send().await.unwrap();
    assert_eq!(advanced.status().as_u16(), 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = outbox(&app).await;
    let reminder_sms = sent.iter().filter(|m| m["channel"] == "sms" && body(m).starts_with("Reminder")).count();
    assert_eq!(reminder_sms, 0, "no 2-hour reminder after the cancel");
    let listed = messages(&app, &token, &id).await;
    assert!(
        listed.iter().all(|m| !m["status"]["state"].as_str().is_some_and(|s| s == "queued" || s == "sending")),
        "{listed:#?}"
    );
}

#[tokio::test]
async fn a_recall_patient_who_books_through_a_link_is_attached_completes_the_cycle_and_gets_no_more_recalls() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    let ids = app.demo_ids(&token).await;
    let connect = "/admin/clinics/demo";
    let recall_patient = json!({"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1985-12-10", "mobile": "+447700900171", "email": "ada@example.com"});
    let created = app
        .json(
            "POST",
            &format!("{connect}/patients"),
            Some(&token),
            json!({"reference": "MRN-9", "patient": recall_patient}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let template = app
        .json(
            "POST",
            &format!("{connect}/connect-templates"),
            Some(&token),
            json!({"kind": "sms", "name": "Recall", "body": "Recall: please book your {program.name}."}),
        )
        .await;
    assert_eq!(template.status, 201, "{:?}", template.body);
    let template = template.body["template"]["id"].as_str().unwrap().to_owned();
    let timing =
        |days: u32| json!({"direction": "before", "offset": {"amount": days, "unit": "days"}, "time_of_day": "09:00"});
    let program = app
        .json(
            "POST",
            &format!("{connect}/connect-programs"),
            Some(&token),
            json!({"program_type": "recall", "name": "Annual review", "cycles": 1, "frequency": {"amount": 12, "unit": "months"},
                   "completing_bookings": {"kind": "any"}, "enabled": true,
                   "actions": [
                     {"kind": {"kind": "sms", "template_id": template, "save_reply_content": false}, "timing": timing(14), "pause_on_error": false},
                     {"kind": {"kind": "sms", "template_id": template, "save_reply_content": false}, "timing": timing(7), "pause_on_error": false}]}),
        )
        .await;
    assert_eq!(program.status, 201, "{:?}", program.body);
    let program = program.body["program"]["id"].as_str().unwrap().to_owned();
    let today = app.server.clock.now().to_zoned(jiff::tz::TimeZone::get("Europe/London").unwrap()).date();
    let reference = today + jiff::SignedDuration::from_hours(24 * 30);
    let enrolled = app
        .json(
            "POST",
            &format!("{connect}/connect-enrollments"),
            Some(&token),
            json!({"program_id": program, "patient_reference": "MRN-9", "reference_date": reference.to_string()}),
        )
        .await;
    assert_eq!(enrolled.status, 201, "{:?}", enrolled.body);
    let enrollment = enrolled.body["enrollment"]["id"].as_str().unwrap().to_owned();

    // Staff text a booking link for MRN-9; the patient books through it.
    let rule = app
        .json(
            "POST",
            &format!("{connect}/broadcast-rules"),
            Some(&token),
            json!({"title": "Annual review", "booking_type_id": ids.gp15, "provider_ids": [ids.amara], "location_ids": [ids.riverside],
                   "link_lifetime_hours": 72, "allow_reschedule": true, "sms_template": "Hi {first_name}, book with {clinic}: {link}"}),
        )
        .await;
    assert_eq!(rule.status, 201, "{:?}", rule.body);
    let sent = app
        .json(
            "POST",
            &format!("{connect}/booking-links"),
            Some(&token),
            json!({"rule_id": rule.body["id"], "patient_reference": "MRN-9", "patient": recall_patient}),
        )
        .await;
    assert_eq!(sent.status, 201, "{:?}", sent.body);
    let link = sent.body["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let times =
        app.client.get(app.url(&format!("/links/{link}?step=times"))).send().await.unwrap().text().await.unwrap();
    let time = times.split("name=\"time\" value=\"").nth(1).expect("a free time").split('"').next().unwrap().to_owned();
    let (status, _) = post_form(&app, &format!("/links/{link}"), &[("time", &time), ("lang", "en")]).await;
    assert_eq!(status, 201);

    // The appointment is in the patient's record, and the recall cycle is complete.
    let record = app.get(&format!("{connect}/patients/MRN-9/appointments"), Some(&token)).await;
    let items = record.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{:?}", record.body);
    assert_eq!(
        (items[0]["channel"].as_str(), items[0]["patient_reference"].as_str()),
        (Some("booking_link"), Some("MRN-9"))
    );
    let mut finished = Value::Null;
    for _ in 0..100 {
        finished = app.get(&format!("{connect}/connect-enrollments/{enrollment}"), Some(&token)).await.body;
        if finished["enrollment"]["position"]["state"] == "finished" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(finished["enrollment"]["position"], json!({"state": "finished"}), "{finished:#?}");
    let advanced =
        app.client.post(app.url("/_local/clock")).json(&json!({"advance_hours": 24 * 40})).send().await.unwrap();
    assert_eq!(advanced.status().as_u16(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.settle().await;
    let recalls = outbox(&app).await.iter().filter(|m| body(m).starts_with("Recall:")).count();
    assert_eq!(recalls, 0, "no recall message after the booking");
}

#[tokio::test]
async fn a_patient_with_only_an_email_address_is_confirmed_and_reminded_by_email() {
    let app = TestApp::spawn().await;
    let demo = demo(&app).await;
    let query = format!("booking_type_id={}&asap=true", demo.gp15);
    let slot = slots(&app, &query).await[0].clone();
    let mut body = booking(&demo.gp15, "any", "any", slot["starts_at"].as_str().unwrap());
    body["patient"]["mobile"] = json!("");
    body["patient"]["email"] = json!("only-email@example.com");
    let booked = book(&app, &body, None).await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    let email =
        eventually(&app, "confirmation email", |m| m["to"] == "only-email@example.com" && m["invite"].is_object())
            .await;
    assert!(body_of(&email).contains("/manage/"));
    let token = app.demo_admin();
    let listed = messages(&app, &token, booked.body["appointment_id"].as_str().unwrap()).await;
    assert!(
        listed.iter().all(|m| m["channel"] == "email"),
        "nothing queued for a mobile the patient did not give: {listed:#?}"
    );
    // Neither contact detail: the form names the mobile field.
    body["patient"]["email"] = json!("");
    let refused = book(&app, &body, None).await;
    assert_eq!((refused.status, refused.problem_fields()), (422, vec!["patient.mobile".to_owned()]));
}

fn body_of(message: &Value) -> &str {
    body(message)
}

#[tokio::test]
async fn a_self_booking_is_attached_to_the_record_it_identifies_and_that_patient_cannot_double_book() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    let ids = app.demo_ids(&token).await;
    let known = json!({"first_name": "Pat", "last_name": "Example", "date_of_birth": "1980-05-17", "mobile": "+447700900123", "email": "pat@example.com"});
    let created = app
        .json("POST", "/admin/clinics/demo/patients", Some(&token), json!({"reference": "MRN-1", "patient": known}))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let demo = demo(&app).await;
    let (shared, _, _) = a_time_both_gps_offer(&app, &demo.gp15, &ids).await;
    // Booked online with the record's details (name folded, same birth date and mobile).
    let mut body = booking(&demo.gp15, &ids.amara, "any", &shared);
    body["patient"]["first_name"] = json!("PAT");
    let first = book(&app, &body, None).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let record = app.get("/admin/clinics/demo/patients/MRN-1/appointments", Some(&token)).await;
    let items = record.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{:?}", record.body);
    assert_eq!((items[0]["channel"].as_str(), items[0]["provisional"].as_bool()), (Some("online"), Some(false)));
    // The same patient cannot take the same time with the other GP.
    let second = book(&app, &booking(&demo.gp15, &ids.tom, "any", &shared), None).await;
    assert_eq!(second.status, 409, "{:?}", second.body);
    assert!(second.body["detail"].as_str().unwrap().contains("already have an appointment"), "{:?}", second.body);
    // Someone the clinic does not know books provisionally, for staff to attach.
    let mut stranger = booking(&demo.gp15, &ids.tom, "any", &shared);
    stranger["patient"] = json!({"first_name": "Robin", "last_name": "Stranger", "date_of_birth": "1990-01-01", "email": "robin@example.com"});
    let third = book(&app, &stranger, None).await;
    assert_eq!(third.status, 201, "{:?}", third.body);
    let day = &shared[..10];
    let diary = app.get(&format!("/admin/clinics/demo/appointments?date={day}"), Some(&token)).await;
    let entry = diary.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == third.body["appointment_id"])
        .unwrap()
        .clone();
    assert_eq!((entry["provisional"].as_bool(), entry["patient_reference"].as_str()), (Some(true), None));
}

/// A time both GPs offer online, with each one's free slots.
async fn a_time_both_gps_offer(
    app: &TestApp,
    gp15: &str,
    ids: &clinic_tests::DemoIds,
) -> (String, Vec<Value>, Vec<Value>) {
    let amara = slots(app, &format!("booking_type_id={gp15}&provider_id={}&location_id=any", ids.amara)).await;
    let tom = slots(app, &format!("booking_type_id={gp15}&provider_id={}&location_id=any", ids.tom)).await;
    let shared = amara
        .iter()
        .find(|slot| tom.iter().any(|other| other["starts_at"] == slot["starts_at"]))
        .expect("a time both GPs offer")["starts_at"]
        .as_str()
        .unwrap()
        .to_owned();
    (shared, amara, tom)
}

#[tokio::test]
async fn within_the_clinics_cutoff_the_manage_link_shows_the_phone_instead_of_changing_anything() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    let demo = demo(&app).await;
    let slot = slots(&app, &format!("booking_type_id={}&asap=true", demo.gp15)).await[0].clone();
    let booked = book(&app, &booking(&demo.gp15, "any", "any", slot["starts_at"].as_str().unwrap()), None).await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    let sms = eventually(&app, "confirmation SMS", |m| m["channel"] == "sms" && body(m).contains("/manage/")).await;
    let manage = format!("/manage/{}", manage_token(body(&sms)));
    let (status, overview) = post_form(&app, &manage, &[("action", "verify"), ("date_of_birth", "1980-05-17")]).await;
    assert_eq!(status, 200);
    assert!(overview.contains("name=\"grant\""), "{overview}");
    let grant = grant_in(&overview);
    // The clinic now stops online changes two weeks ahead: the same grant changes nothing.
    let saved = app
        .json(
            "PUT",
            "/admin/clinics/demo/appointment-settings",
            Some(&token),
            json!({"online_change_cutoff_hours": 336, "phone": "020 7946 0999"}),
        )
        .await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    let (status, overview) = post_form(&app, &manage, &[("action", "times"), ("grant", &grant)]).await;
    assert_eq!(status, 200);
    assert!(overview.contains("can no longer be changed online"), "{overview}");
    assert!(!overview.contains("Cancel this appointment") && !overview.contains("Choose a new time"), "{overview}");
    // Forcing the forms anyway changes nothing.
    let (status, page) = post_form(&app, &manage, &[("action", "confirm_cancel"), ("grant", &grant)]).await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("tel:"), "the page gives a number to phone: {page}");
    let day = booked.body["local_start"].as_str().unwrap()[..10].to_owned();
    let diary = app.get(&format!("/admin/clinics/demo/appointments?date={day}"), Some(&token)).await;
    let entry = diary.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == booked.body["appointment_id"])
        .unwrap()
        .clone();
    assert_eq!(entry["status"], "booked");
    // A grant from another appointment's page does not open this one.
    let (status, _) =
        post_form(&app, &manage, &[("action", "confirm_cancel"), ("grant", "f".repeat(64).as_str())]).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_reminder_can_use_the_clinics_own_template_with_merge_fields() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    let ids = app.demo_ids(&token).await;
    let template = |body: Value| {
        let (app, token) = (&app, &token);
        async move {
            let created = app.json("POST", "/admin/clinics/demo/connect-templates", Some(token), body).await;
            assert_eq!(created.status, 201, "{:?}", created.body);
            created.body["template"]["id"].as_str().unwrap().to_owned()
        }
    };
    let sms = template(json!({"kind": "sms", "name": "Reminder", "body": "Hi {patient.first_name}, see {provider.name} at {clinic.name} on {booking.date} at {booking.time}."})).await;
    let email = template(json!({"kind": "email", "name": "Reminder email", "subject": "Soon", "body": "Hi"})).await;
    let settings =
        |template_id: &str| json!({"reminders": [{"hours_before": 48, "channel": "sms", "template_id": template_id}]});
    for (wrong, why) in [(email.as_str(), "another kind"), ("no-such-template", "no template")] {
        let refused = app.json("PUT", "/admin/clinics/demo/appointment-settings", Some(&token), settings(wrong)).await;
        assert_eq!(
            (refused.status, refused.problem_fields()),
            (422, vec!["reminders[0].template_id".to_owned()]),
            "{why}"
        );
    }
    let saved = app.json("PUT", "/admin/clinics/demo/appointment-settings", Some(&token), settings(&sms)).await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    let demo = demo(&app).await;
    let now = app.server.clock.now();
    let free = slots(&app, &format!("booking_type_id={}&provider_id={}&location_id=any", demo.gp15, ids.amara)).await;
    let slot = free
        .iter()
        .find(|slot| {
            slot["starts_at"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap().duration_since(now).as_hours() > 72
        })
        .expect("a slot three days ahead")
        .clone();
    let booked = staff_booking(
        &app,
        &token,
        json!({"booking_type_id": ids.gp15, "provider_id": ids.amara, "location_id": slot["location_id"], "starts_at": slot["starts_at"], "patient": patient()}),
    )
    .await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    let due: jiff::Timestamp = booked.body["next_reminder_at"].as_str().unwrap().parse().unwrap();
    let hours = due.duration_since(app.server.clock.now()).as_hours() + 1;
    let advanced =
        app.client.post(app.url("/_local/clock")).json(&json!({"advance_hours": hours})).send().await.unwrap();
    assert_eq!(advanced.status().as_u16(), 200);
    let reminder =
        eventually(&app, "templated reminder", |m| m["channel"] == "sms" && body(m).starts_with("Hi Ada")).await;
    let text = body(&reminder);
    assert!(text.contains("see Dr Amara Okafor, General Practitioner at Riverside Family Practice on "), "{text}");
    assert!(text.contains("/manage/"), "the manage link follows the clinic's text: {text}");
}

#[tokio::test]
async fn the_lifecycle_routes_keep_to_their_clinic_and_name_bad_fields() {
    let app = TestApp::spawn().await;
    let north = app.token("staff-north", &["north"], &Permission::ALL);
    let token = app.demo_admin();
    let reader = app.token("reader", &["demo"], &[Permission::CatalogRead, Permission::DiaryRead]);
    let demo = demo(&app).await;
    let slot = slots(&app, &format!("booking_type_id={}&asap=true", demo.gp15)).await[0].clone();
    let booked = book(&app, &booking(&demo.gp15, "any", "any", slot["starts_at"].as_str().unwrap()), None).await;
    let id = booked.body["appointment_id"].as_str().unwrap().to_owned();
    for path in [
        format!("/admin/clinics/demo/appointments/{id}/messages"),
        "/admin/clinics/demo/message-flags".to_owned(),
        "/admin/clinics/demo/patients/MRN-1/appointments".to_owned(),
        "/admin/clinics/demo/appointment-settings".to_owned(),
    ] {
        assert_eq!(app.get(&path, Some(&north)).await.status, 403, "{path}");
        assert_eq!(app.get(&path, None).await.status, 401, "{path}");
    }
    let put = |token: String, body: Value| {
        let app = &app;
        async move { app.json("PUT", "/admin/clinics/demo/appointment-settings", Some(&token), body).await }
    };
    assert_eq!(put(north.clone(), json!({"reminders_enabled": false})).await.status, 403);
    assert_eq!(put(reader.clone(), json!({"reminders_enabled": false})).await.status, 403, "reading is not changing");
    let unknown = put(token.clone(), json!({"reminders_enabled": false, "sms_everyone": true})).await;
    assert!(unknown.status == 400 || unknown.status == 422, "{unknown:?}");
    assert_eq!(unknown.content_type, "application/problem+json");
    let wrong = put(token.clone(), json!({"reminders": [{"hours_before": "soon", "channel": "fax"}]})).await;
    assert!(wrong.status == 400 || wrong.status == 422, "{wrong:?}");
    let cutoff = put(token.clone(), json!({"online_change_cutoff_hours": 10000})).await;
    assert_eq!((cutoff.status, cutoff.problem_fields()), (422, vec!["online_change_cutoff_hours".to_owned()]));
    let unchanged = app.get("/admin/clinics/demo/appointment-settings", Some(&token)).await;
    assert_eq!(
        (unchanged.body["version"].as_u64(), unchanged.body["reminders_enabled"].as_bool()),
        (Some(0), Some(true))
    );
    let bad_id = app.get("/admin/clinics/demo/appointments/not-an-id/messages", Some(&token)).await;
    assert_eq!(bad_id.status, 400, "{bad_id:?}");
    let unknown_id =
        app.get(&format!("/admin/clinics/demo/appointments/{}/messages", uuid::Uuid::new_v4()), Some(&token)).await;
    assert_eq!(unknown_id.status, 404);
    let no_patient = app.get("/admin/clinics/demo/patients/MRN-404/appointments", Some(&token)).await;
    assert_eq!(no_patient.status, 404);
    // A manage token that is not one opens nothing and names no clinic.
    let (status, page) = post_form(
        &app,
        &format!("/manage/{}", "a".repeat(64)),
        &[("action", "verify"), ("date_of_birth", "1980-05-17")],
    )
    .await;
    assert_eq!(status, 404);
    assert!(!page.contains("Riverside"), "an unknown token names no clinic");
}

#[tokio::test]
async fn twenty_concurrent_cancels_through_one_manage_link_cancel_once_and_tell_once() {
    let app = TestApp::spawn().await;
    let demo = demo(&app).await;
    let slot = slots(&app, &format!("booking_type_id={}&asap=true", demo.gp15)).await[0].clone();
    let booked = book(&app, &booking(&demo.gp15, "any", "any", slot["starts_at"].as_str().unwrap()), None).await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    let sms = eventually(&app, "confirmation SMS", |m| m["channel"] == "sms" && body(m).contains("/manage/")).await;
    let manage = format!("/manage/{}", manage_token(body(&sms)));
    let (_, overview) = post_form(&app, &manage, &[("action", "verify"), ("date_of_birth", "1980-05-17")]).await;
    let grant = grant_in(&overview);
    let cancels = (0..20).map(|_| {
        let (app, manage, grant) = (&app, &manage, &grant);
        async move { post_form(app, manage, &[("action", "confirm_cancel"), ("grant", grant)]).await }
    });
    for (status, page) in futures_util::future::join_all(cancels).await {
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("Your appointment is cancelled"));
    }
    app.settle().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let cancellations =
        outbox(&app).await.iter().filter(|m| body(m).starts_with("Your appointment is cancelled")).count();
    assert_eq!(cancellations, 2, "one SMS and one email, however many cancels");
    let token = app.demo_admin();
    let listed = messages(&app, &token, booked.body["appointment_id"].as_str().unwrap()).await;
    assert_eq!(listed.iter().filter(|m| m["kind"] == "cancelled").count(), 2, "{listed:#?}");
}
