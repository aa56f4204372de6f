//! Patient Connect through the local server: an admin builds a Recall program with SMS, email,
//! letter and pause actions, enables it and enrolls a patient; the in-process scheduler fires
//! the actions in order as the clock moves; staff advance the pause; a qualifying booking
//! completes the cycle. Also: templates and programs refuse what a clinic would regret, an
//! error with "pause on error" flags the patient, and a runner lost mid-send is not repeated.

use clinic_shared::clock::Clock;
use clinic_tests::{Answer, TestApp};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

const CONNECT: &str = "/admin/clinics/demo";

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Answer {
    app.json("POST", &format!("{CONNECT}{path}"), Some(token), body).await
}

fn timing(direction: &str, days: u16) -> Value {
    json!({"direction": direction, "offset": {"amount": days, "unit": "days"}, "time_of_day": "09:00"})
}

async fn template(app: &TestApp, token: &str, body: Value) -> String {
    let answer = post(app, token, "/connect-templates", body).await;
    assert_eq!(answer.status, 201, "{answer:?}");
    answer.body["template"]["id"].as_str().unwrap().to_owned()
}

async fn patient(app: &TestApp, token: &str, reference: &str, first: &str, mobile: &str, address: Option<&str>) {
    let body = json!({
        "reference": reference,
        "patient": {"first_name": first, "last_name": "Lovelace", "date_of_birth": "1985-12-10", "mobile": mobile, "email": format!("{}@example.com", first.to_lowercase())},
        "profile": {"postal_address": address},
    });
    let answer = post(app, token, "/patients", body).await;
    assert_eq!(answer.status, 201, "{answer:?}");
}

/// Messages in the local outbox to `to`, oldest first: (channel, subject, body).
async fn outbox_to(app: &TestApp, to: &str) -> Vec<(String, String, String)> {
    let answer = app.get("/_local/outbox", None).await;
    answer.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|message| message["to"] == to)
        .map(|message| {
            let text = |field: &str| message[field].as_str().unwrap_or_default().to_owned();
            (text("channel"), text("subject"), text("body"))
        })
        .collect()
}

/// Moves the clock to just after `at` and waits until the enrollment has recorded `outcomes`.
async fn run_until(app: &TestApp, token: &str, enrollment: &str, at: Timestamp, outcomes: usize) -> Value {
    let now = app.server.clock.now();
    if at > now {
        app.server.clock.advance(at.duration_since(now) + SignedDuration::from_secs(1));
    }
    for _ in 0..200 {
        let view = app.get(&format!("{CONNECT}/connect-enrollments/{enrollment}"), Some(token)).await.body;
        if view["outcomes"].as_array().map_or(0, Vec::len) >= outcomes && view["enrollment"]["in_flight"].is_null() {
            return view;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the enrollment did not reach {outcomes} outcomes");
}

fn due_at(view: &Value) -> Timestamp {
    view["due_next"]["due_at"].as_str().expect("something is due").parse().unwrap()
}

#[tokio::test]
async fn a_recall_program_runs_in_order_pauses_for_staff_and_a_booking_completes_the_cycle() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    let ids = app.demo_ids(&token).await;
    patient(&app, &token, "MRN-7001", "Ada", "+447700900123", Some("1 Example Street\nLondon\nSW1A 1AA")).await;

    // An unknown merge field is refused when the template is saved.
    let bad =
        post(&app, &token, "/connect-templates", json!({"kind": "sms", "name": "x", "body": "Hi {patient.firstname}"}))
            .await;
    assert_eq!((bad.status, bad.problem_fields()), (422, vec!["body".to_owned()]));
    let sms = template(&app, &token, json!({"kind": "sms", "name": "Recall SMS", "body": "Hi {patient.first_name}, your {program.name} at {clinic.name} is due on {booking.date}."})).await;
    let email = template(&app, &token, json!({"kind": "email", "name": "Recall email", "subject": "{program.name}", "body": "Dear {patient.first_name}, please book before {booking.date}."})).await;
    let letter = template(&app, &token, json!({"kind": "letter", "name": "Recall letter", "subject": "Your {program.name}", "body": "Dear {patient.first_name} {patient.last_name},\nyour review is due on {booking.date}."})).await;

    let today = app.server.clock.now().to_zoned(jiff::tz::TimeZone::get("Europe/London").unwrap()).date();
    let reference = today + SignedDuration::from_hours(24 * 30);
    let mut program = json!({
        "program_type": "recall",
        "name": "Annual review",
        "cycles": 2,
        "frequency": {"amount": 12, "unit": "months"},
        "actions": [
            {"kind": {"kind": "sms", "template_id": sms, "save_reply_content": false}, "timing": timing("before", 14), "pause_on_error": true},
            {"kind": {"kind": "email", "template_id": email}, "timing": timing("before", 7), "pause_on_error": false},
            {"kind": {"kind": "letter_to_patient", "template_id": letter, "print": "mail"}, "timing": timing("before", 3), "pause_on_error": false},
            {"kind": {"kind": "pause"}, "timing": timing("after", 1), "pause_on_error": false},
        ],
        "completing_bookings": {"kind": "selected", "booking_type_ids": [ids.gp15]},
        "enabled": true,
    });
    // The program's actions must name templates of their kind; an enabled program needs actions.
    let mut wrong = program.clone();
    wrong["actions"][0]["kind"]["template_id"] = json!(email);
    let answer = post(&app, &token, "/connect-programs", wrong).await;
    assert_eq!((answer.status, answer.problem_fields()), (422, vec!["actions[0].template_id".to_owned()]));
    let mut empty = program.clone();
    empty["actions"] = json!([]);
    let answer = post(&app, &token, "/connect-programs", empty).await;
    assert_eq!((answer.status, answer.problem_fields()), (422, vec!["enabled".to_owned()]));
    let created = post(&app, &token, "/connect-programs", program.clone()).await;
    assert_eq!(created.status, 201, "{created:?}");
    let program_id = created.body["program"]["id"].as_str().unwrap().to_owned();
    // The type is chosen once.
    program["program_type"] = json!("general");
    let answer = app.json("PUT", &format!("{CONNECT}/connect-programs/{program_id}"), Some(&token), program).await;
    assert_eq!((answer.status, answer.problem_fields()), (422, vec!["program_type".to_owned()]));

    // The clinic's logo goes on its letters.
    let (status, _) =
        crate::patient_pages::upload_logo(&app, &token, "image/png", crate::patient_pages::png(120, 40)).await;
    assert_eq!(status, 200);
    let enroll =
        json!({"program_id": program_id, "patient_reference": "MRN-7001", "reference_date": reference.to_string()});
    let enrolled = post(&app, &token, "/connect-enrollments", enroll.clone()).await;
    assert_eq!(enrolled.status, 201, "{enrolled:?}");
    assert_eq!(post(&app, &token, "/connect-enrollments", enroll).await.status, 409, "one live enrollment per program");
    let id = enrolled.body["enrollment"]["id"].as_str().unwrap().to_owned();
    assert_eq!(enrolled.body["due_next"]["kind"], "sms");
    let london = jiff::tz::TimeZone::get("Europe/London").unwrap();
    let first_due = due_at(&enrolled.body).to_zoned(london);
    assert_eq!((first_due.date(), first_due.hour()), (reference - SignedDuration::from_hours(24 * 14), 9));

    // The SMS, then the email, then the letter, each at its time.
    let view = run_until(&app, &token, &id, due_at(&enrolled.body), 1).await;
    assert_eq!(view["outcomes"][0]["result"]["result"], "sent");
    assert!(view["outcomes"][0]["result"]["message_id"].as_str().is_some_and(|id| !id.is_empty()));
    let sent = outbox_to(&app, "+447700900123").await;
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].2.starts_with("Hi Ada, your Annual review at Riverside Family Practice is due on "),
        "{}",
        sent[0].2
    );
    assert_eq!(view["due_next"]["kind"], "email");
    let view = run_until(&app, &token, &id, due_at(&view), 2).await;
    let emails = outbox_to(&app, "ada@example.com").await;
    assert_eq!((emails.len(), emails[0].1.as_str()), (1, "Annual review"));
    assert_eq!(view["due_next"]["kind"], "letter_to_patient");
    let view = run_until(&app, &token, &id, due_at(&view), 3).await;
    assert_eq!(view["outcomes"][2]["result"]["result"], "letter");

    // The letter is on the distribution list, as a PDF; staff mark it posted.
    let list = app.get(&format!("{CONNECT}/distribution-list"), Some(&token)).await;
    let letters = list.body["items"].as_array().unwrap();
    assert_eq!(letters.len(), 1);
    let pdf =
        app.client.get(app.url(letters[0]["pdf_path"].as_str().unwrap())).bearer_auth(&token).send().await.unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let bytes = pdf.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let text = clinic_tests::pdf_text(&bytes);
    for expected in
        ["Riverside Family Practice", "020 7946 0000", "Your Annual review", "Yours sincerely,", "Page 1 of 1"]
    {
        assert!(text.contains(expected), "the letter lacks {expected:?}: {text}");
    }
    assert_eq!(clinic_tests::pdf_images(&bytes), vec![vec![(120, 40, false)]], "the logo is drawn on the letter");
    let letter_id = letters[0]["letter"]["id"].as_str().unwrap();
    assert_eq!(post(&app, &token, &format!("/distribution-list/{letter_id}/posted"), json!({})).await.status, 200);
    assert_eq!(app.get(&format!("{CONNECT}/distribution-list"), Some(&token)).await.body["items"], json!([]));
    let every = app.get(&format!("{CONNECT}/distribution-list?status=all&limit=1"), Some(&token)).await;
    assert_eq!(every.body["items"][0]["letter"]["status"]["status"], "posted", "{:?}", every.body);
    assert!(every.body["next_cursor"].is_null(), "one letter, one page");

    // The pause waits for staff; advancing it schedules the next cycle's SMS a year on.
    let view = run_until(&app, &token, &id, due_at(&view), 4).await;
    assert_eq!(view["enrollment"]["position"], json!({"state": "paused", "cycle": 0, "action": 3, "flagged": false}));
    assert!(view["due_next"].is_null());
    let advanced = post(&app, &token, &format!("/connect-enrollments/{id}/advance"), json!({})).await;
    assert_eq!(advanced.status, 200, "{advanced:?}");
    assert_eq!(
        (advanced.body["due_next"]["cycle"].as_u64(), advanced.body["due_next"]["kind"].as_str()),
        (Some(1), Some("sms"))
    );
    assert_eq!(post(&app, &token, &format!("/connect-enrollments/{id}/advance"), json!({})).await.status, 409);

    // A GP15 booking for the patient completes cycle 1: nothing more is sent, ever.
    let starts_at = (app.server.clock.now() + SignedDuration::from_hours(24 * 3))
        .round(jiff::TimestampRound::new().smallest(jiff::Unit::Hour))
        .unwrap();
    let booking = json!({
        "booking_type_id": ids.gp15, "provider_id": ids.amara, "location_id": ids.riverside, "starts_at": starts_at.to_string(),
        "patient": {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1985-12-10", "mobile": "+447700900123", "email": "ada@example.com"},
        "patient_reference": "MRN-7001", "notify": false,
    });
    let booked = post(&app, &token, "/appointments", booking).await;
    assert_eq!(booked.status, 201, "{booked:?}");
    let view = app.get(&format!("{CONNECT}/connect-enrollments/{id}"), Some(&token)).await.body;
    assert_eq!(view["enrollment"]["position"], json!({"state": "finished"}));
    assert_eq!(view["outcomes"][4]["result"]["result"], "completed_by_booking");
    app.server.clock.advance(SignedDuration::from_hours(24 * 400));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(outbox_to(&app, "+447700900123").await.len(), 1, "no SMS after the cycle was completed");
    let listed = app.get(&format!("{CONNECT}/patients/MRN-7001/connect-enrollments"), Some(&token)).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
    let by_program = app.get(&format!("{CONNECT}/connect-programs/{program_id}/enrollments"), Some(&token)).await;
    assert_eq!(by_program.body["items"][0]["enrollment"]["id"], json!(id));

    // A program's enrollments come a page at a time, newest first, each once.
    for (reference, first, mobile) in [("MRN-7011", "Bea", "+447700900131"), ("MRN-7012", "Cyd", "+447700900132")] {
        patient(&app, &token, reference, first, mobile, None).await;
        app.server.clock.advance(SignedDuration::from_secs(1));
        let enroll = json!({"program_id": program_id, "patient_reference": reference, "reference_date": reference_date_later(&app)});
        assert_eq!(post(&app, &token, "/connect-enrollments", enroll).await.status, 201);
    }
    let mut seen = Vec::new();
    let mut path = format!("{CONNECT}/connect-programs/{program_id}/enrollments?limit=2");
    loop {
        let page = app.get(&path, Some(&token)).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|item| item["enrollment"]["patient_reference"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("{CONNECT}/connect-programs/{program_id}/enrollments?limit=2&cursor={cursor}")
            }
            None => break,
        }
    }
    assert_eq!(seen, ["MRN-7012", "MRN-7011", "MRN-7001"]);
}

fn reference_date_later(app: &TestApp) -> String {
    use clinic_shared::clock::Clock;
    (app.server.clock.now() + SignedDuration::from_hours(24 * 60)).to_zoned(jiff::tz::TimeZone::UTC).date().to_string()
}

#[tokio::test]
async fn a_failure_with_pause_on_error_flags_the_patient_until_staff_advance() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    patient(&app, &token, "MRN-7002", "Grace", "+447700900124", None).await;
    let letter = template(
        &app,
        &token,
        json!({"kind": "letter", "name": "Welcome", "subject": "Welcome", "body": "Dear {patient.first_name}"}),
    )
    .await;
    let sms =
        template(&app, &token, json!({"kind": "sms", "name": "Welcome SMS", "body": "Welcome {patient.first_name}"}))
            .await;
    let program = json!({
        "program_type": "general", "name": "Welcome", "cycles": 1, "frequency": {"amount": 1, "unit": "months"},
        "actions": [
            {"kind": {"kind": "letter_to_patient", "template_id": letter, "print": "mail"}, "timing": timing("after", 1), "pause_on_error": true},
            {"kind": {"kind": "sms", "template_id": sms, "save_reply_content": false}, "timing": timing("after", 2), "pause_on_error": false},
        ],
        "completing_bookings": {"kind": "ignore"}, "enabled": true,
    });
    let created = post(&app, &token, "/connect-programs", program).await;
    let program_id = created.body["program"]["id"].as_str().unwrap();
    let enrolled =
        post(&app, &token, "/connect-enrollments", json!({"program_id": program_id, "patient_reference": "MRN-7002"}))
            .await;
    assert_eq!(enrolled.status, 201, "{enrolled:?}");
    let id = enrolled.body["enrollment"]["id"].as_str().unwrap().to_owned();
    // No postal address: the letter fails for good, and "pause on error" pauses and flags.
    let view = run_until(&app, &token, &id, due_at(&enrolled.body), 1).await;
    assert_eq!(
        view["outcomes"][0]["result"],
        json!({"result": "failed", "reason": "the patient's record has no postal address"})
    );
    assert_eq!(view["enrollment"]["position"], json!({"state": "paused", "cycle": 0, "action": 0, "flagged": true}));
    let flagged = app.get(&format!("{CONNECT}/connect-follow-ups"), Some(&token)).await;
    assert_eq!(flagged.body["items"][0]["enrollment_id"], json!(id));
    assert_eq!(flagged.body["items"][0]["patient_reference"], "MRN-7002");
    // Staff follow up and advance: off the list, and the SMS follows.
    let advanced = post(&app, &token, &format!("/connect-enrollments/{id}/advance"), json!({})).await;
    assert_eq!(advanced.status, 200);
    assert_eq!(app.get(&format!("{CONNECT}/connect-follow-ups"), Some(&token)).await.body["items"], json!([]));
    let view = run_until(&app, &token, &id, due_at(&advanced.body), 2).await;
    assert_eq!(view["outcomes"][1]["result"]["result"], "sent");
    assert_eq!(view["enrollment"]["position"], json!({"state": "finished"}));
    assert_eq!(outbox_to(&app, "+447700900124").await.len(), 1);
}

#[tokio::test]
async fn connect_routes_refuse_bad_input_naming_the_field() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    let cases: Vec<(&str, &str, Value, u16, &str)> = vec![
        ("POST", "/connect-templates", json!({"kind": "fax", "name": "x", "body": "y"}), 400, "kind"),
        ("POST", "/connect-templates", json!({"kind": "sms", "name": "", "body": "y"}), 422, "name"),
        ("POST", "/connect-templates", json!({"kind": "email", "name": "x", "body": "y"}), 422, "subject"),
        ("POST", "/connect-templates", json!({"kind": "sms", "name": "x", "body": "y", "extra": 1}), 400, "extra"),
        (
            "POST",
            "/connect-programs",
            json!({"program_type": "booking", "name": "x", "cycles": 3, "actions": [], "completing_bookings": {"kind": "any"}, "enabled": false}),
            422,
            "cycles",
        ),
        (
            "POST",
            "/connect-programs",
            json!({"program_type": "recall", "name": "x", "cycles": 2, "actions": [], "completing_bookings": {"kind": "any"}, "enabled": false}),
            422,
            "frequency",
        ),
        (
            "POST",
            "/connect-programs",
            json!({"program_type": "general", "name": "x", "cycles": 1, "frequency": {"amount": 1, "unit": "days"}, "actions": [], "completing_bookings": {"kind": "selected", "booking_type_ids": ["3f9d8a6e-1b2c-4d5e-8f90-a1b2c3d4e5f6"]}, "enabled": false}),
            422,
            "completing_bookings.booking_type_ids",
        ),
        (
            "POST",
            "/connect-enrollments",
            json!({"program_id": "nope", "patient_reference": "MRN-1"}),
            422,
            "program_id",
        ),
        (
            "POST",
            "/connect-enrollments",
            json!({"program_id": "a", "patient_reference": "MRN-1", "reference_date": "2026-02-30"}),
            422,
            "reference_date",
        ),
        (
            "POST",
            "/connect-enrollments",
            json!({"program_id": "../x", "patient_reference": "MRN-1"}),
            422,
            "program_id",
        ),
    ];
    for (method, path, body, status, field) in cases {
        let answer = app.json(method, &format!("{CONNECT}{path}"), Some(&token), body.clone()).await;
        assert_eq!(answer.status, status, "{path} {body}: {answer:?}");
        assert!(answer.problem_fields().iter().any(|f| f == field), "{path} {body}: {answer:?}");
    }
    // Malformed JSON on every route that takes a body.
    for (method, path) in [
        ("POST", "/connect-templates"),
        ("PUT", "/connect-templates/t1"),
        ("POST", "/connect-programs"),
        ("PUT", "/connect-programs/p1"),
        ("POST", "/connect-enrollments"),
        ("POST", "/patients/MRN-1/referrals"),
    ] {
        let answer = app.call(method, &format!("{CONNECT}{path}"), Some(&token), Some(b"{".to_vec())).await;
        assert_eq!((answer.status, answer.problem_fields()), (400, vec!["body".to_owned()]), "{method} {path}");
    }
    // Nothing was written by any of it.
    for path in ["/connect-templates", "/connect-programs", "/connect-follow-ups", "/distribution-list?status=all"] {
        assert_eq!(app.get(&format!("{CONNECT}{path}"), Some(&token)).await.body["items"], json!([]), "{path}");
    }
    // A template's kind stays as created.
    let sms = template(&app, &token, json!({"kind": "sms", "name": "x", "body": "Hi"})).await;
    let answer = app
        .json(
            "PUT",
            &format!("{CONNECT}/connect-templates/{sms}"),
            Some(&token),
            json!({"kind": "letter", "name": "x", "body": "Hi"}),
        )
        .await;
    assert_eq!((answer.status, answer.problem_fields()), (422, vec!["kind".to_owned()]));
    let answer = app.get(&format!("{CONNECT}/distribution-list?status=lost"), Some(&token)).await;
    assert_eq!((answer.status, answer.problem_fields()), (400, vec!["status".to_owned()]));
    for path in ["/connect-enrollments/missing", "/letters/missing"] {
        assert_eq!(app.get(&format!("{CONNECT}{path}"), Some(&token)).await.status, 404, "{path}");
    }
    assert_eq!(post(&app, &token, "/connect-enrollments/missing/advance", json!({})).await.status, 404);
    assert_eq!(post(&app, &token, "/distribution-list/missing/posted", json!({})).await.status, 404);
    // Another clinic's token sees nothing here.
    let stranger = app.token("staff-other", &["other"], &clinic_shared::domain::access::Permission::ALL);
    assert_eq!(app.get(&format!("{CONNECT}/connect-programs"), Some(&stranger)).await.status, 403);
}

#[tokio::test]
async fn a_referral_enters_the_referral_programs_until_the_patient_books() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    let ids = app.demo_ids(&token).await;
    patient(&app, &token, "MRN-7003", "Mary", "+447700900126", None).await;
    let sms = template(&app, &token, json!({"kind": "sms", "name": "Referral", "body": "{patient.first_name}, we received your referral: please book."})).await;
    let program = json!({
        "program_type": "referral", "name": "Referral follow-up", "cycles": 1,
        "actions": [
            {"kind": {"kind": "sms", "template_id": sms, "save_reply_content": false}, "timing": timing("after", 1), "pause_on_error": false},
            {"kind": {"kind": "sms", "template_id": sms, "save_reply_content": false}, "timing": timing("after", 7), "pause_on_error": false},
        ],
        "completing_bookings": {"kind": "ignore"}, "enabled": true,
    });
    assert_eq!(post(&app, &token, "/connect-programs", program).await.status, 201);
    let bad = post(&app, &token, "/patients/MRN-7003/referrals", json!({"received_on": "2999-01-01"})).await;
    assert_eq!((bad.status, bad.problem_fields()), (422, vec!["received_on".to_owned()]));
    assert_eq!(post(&app, &token, "/patients/MRN-404/referrals", json!({})).await.status, 404);
    // A body that is not an object (serde would read a struct from an array by position) is refused.
    let positional = post(&app, &token, "/patients/MRN-7003/referrals", json!([null, null])).await;
    assert_eq!((positional.status, positional.problem_fields()), (400, vec!["body".to_owned()]));
    let added = post(&app, &token, "/patients/MRN-7003/referrals", json!({"source": "Hillview GP practice"})).await;
    assert_eq!(added.status, 201, "{added:?}");
    let enrollments = added.body["enrollments"].as_array().unwrap();
    assert_eq!(enrollments.len(), 1);
    let id = enrollments[0]["enrollment"]["id"].as_str().unwrap().to_owned();
    let view = run_until(&app, &token, &id, due_at(&enrollments[0]), 1).await;
    assert_eq!(view["outcomes"][0]["result"]["result"], "sent");
    // The patient books (any booking type): the program ends before its reminder.
    let starts_at = (app.server.clock.now() + SignedDuration::from_hours(48))
        .round(jiff::TimestampRound::new().smallest(jiff::Unit::Hour))
        .unwrap();
    let booking = json!({
        "booking_type_id": ids.nurse20, "provider_id": ids.sam, "location_id": ids.riverside, "starts_at": starts_at.to_string(),
        "patient": {"first_name": "Mary", "last_name": "Lovelace", "date_of_birth": "1985-12-10", "mobile": "+447700900126", "email": "mary@example.com"},
        "patient_reference": "MRN-7003", "notify": false,
    });
    assert_eq!(post(&app, &token, "/appointments", booking).await.status, 201);
    let view = app.get(&format!("{CONNECT}/connect-enrollments/{id}"), Some(&token)).await.body;
    assert_eq!(view["enrollment"]["position"], json!({"state": "finished"}));
    app.server.clock.advance(SignedDuration::from_hours(24 * 10));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(outbox_to(&app, "+447700900126").await.len(), 1, "no reminder after the booking");
}

#[tokio::test]
async fn an_archived_template_or_program_takes_no_new_use_and_leaves_the_lists() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    patient(&app, &token, "MRN-7301", "Ada", "+447700900123", None).await;
    let sms =
        template(&app, &token, json!({"kind": "sms", "name": "Recall SMS", "body": "Hi {patient.first_name}"})).await;
    let program = |template: &str| {
        json!({
            "program_type": "general", "name": "Flu jabs", "cycles": 1,
            "actions": [{"kind": {"kind": "sms", "template_id": template, "save_reply_content": false}, "timing": timing("after", 0), "pause_on_error": false}],
            "completing_bookings": {"kind": "any"}, "enabled": true,
        })
    };
    let created = post(&app, &token, "/connect-programs", program(&sms)).await;
    assert_eq!(created.status, 201, "{created:?}");
    let program_id = created.body["program"]["id"].as_str().unwrap().to_owned();

    // The template: archived (stale If-Match refused first), hidden, no new use, no change.
    let template_path = format!("{CONNECT}/connect-templates/{sms}");
    let stale = app.call_if_match("DELETE", &template_path, Some(&token), None, Some("\"7\"")).await;
    assert_eq!(stale.status, 412);
    let archived = app.call("DELETE", &template_path, Some(&token), None).await;
    assert_eq!(archived.status, 200, "{archived:?}");
    assert!(archived.body["template"]["archived_at"].is_string());
    let listed = app.get(&format!("{CONNECT}/connect-templates"), Some(&token)).await;
    assert!(!listed.body.to_string().contains(&sms), "the list hides it");
    let archived_list = app.get(&format!("{CONNECT}/connect-templates?archived=true"), Some(&token)).await;
    assert_eq!(archived_list.body["items"][0]["template"]["id"], json!(sms));
    let refused = post(&app, &token, "/connect-programs", program(&sms)).await;
    assert_eq!((refused.status, refused.problem_fields()), (422, vec!["actions[0].template_id".to_owned()]));
    let changed = app
        .json("PUT", &template_path, Some(&token), json!({"kind": "sms", "name": "Recall SMS", "body": "Hello"}))
        .await;
    assert_eq!(changed.status, 409);
    let reminders = app
        .json(
            "PUT",
            "/admin/clinics/demo/appointment-settings",
            Some(&token),
            json!({"reminders": [{"channel": "sms", "hours_before": 24, "template_id": sms}]}),
        )
        .await;
    assert_eq!((reminders.status, reminders.problem_fields()), (422, vec!["reminders[0].template_id".to_owned()]));

    // The program that already sends it stays as it was until archived itself; then nobody new
    // enters it and it takes no change.
    let program_path = format!("{CONNECT}/connect-programs/{program_id}");
    let archived = app.call("DELETE", &program_path, Some(&token), None).await;
    assert_eq!(archived.status, 200, "{archived:?}");
    assert_eq!(archived.body["program"]["program"]["enabled"], false);
    assert_eq!(app.call("DELETE", &program_path, Some(&token), None).await.body["version"], archived.body["version"]);
    let listed = app.get(&format!("{CONNECT}/connect-programs"), Some(&token)).await;
    assert!(!listed.body.to_string().contains(&program_id), "the list hides it");
    let reference = app.server.clock.now().to_zoned(jiff::tz::TimeZone::get("Europe/London").unwrap()).date();
    let enroll =
        json!({"program_id": program_id, "patient_reference": "MRN-7301", "reference_date": reference.to_string()});
    let refused = post(&app, &token, "/connect-enrollments", enroll).await;
    assert_eq!((refused.status, refused.problem_fields()), (422, vec!["program_id".to_owned()]));
    let changed = app.json("PUT", &program_path, Some(&token), program(&sms)).await;
    assert_eq!(changed.status, 409);
}

#[tokio::test]
async fn letters_to_post_written_before_the_list_had_its_index_are_put_on_it_by_a_rebuild() {
    use clinic_shared::store::{Condition, Item, Store, Write, keys};
    let (app, store) = TestApp::spawn_with_store().await;
    let token = app.demo_admin();
    let clinic = clinic_shared::domain::clinic::ClinicId::parse("demo").unwrap();
    for (id, status) in [("old-1", json!({"status": "to_post"})), ("old-2", json!({"status": "saved"}))] {
        let letter = json!({
            "id": id, "enrollment_id": "e1", "patient_reference": "MRN-7001", "recipient": "patient",
            "print": "mail", "file_key": format!("letters/demo/{id}.pdf"), "status": status,
            "created_at": "2026-11-01T09:00:00Z"
        });
        let item = Item::from_record(keys::letter(&clinic, id), &letter).unwrap();
        store.write(Write::put(item, Condition::NotExists)).await.unwrap();
    }
    let path = format!("{CONNECT}/distribution-list");
    let list = || app.get(&path, Some(&token));
    assert_eq!(list().await.body["items"], json!([]), "not on the index yet");
    let rebuild = app.call("POST", &format!("{CONNECT}/distribution-list/index?limit=1"), Some(&token), None).await;
    assert_eq!((rebuild.status, rebuild.body["indexed"].as_u64()), (200, Some(1)), "{:?}", rebuild.body);
    let cursor = rebuild.body["next_cursor"].as_str().unwrap().to_owned();
    let rest =
        app.call("POST", &format!("{CONNECT}/distribution-list/index?cursor={cursor}"), Some(&token), None).await;
    assert_eq!(rest.body["indexed"], 0, "a saved letter is not to post");
    let listed = list().await.body;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed:?}");
    assert_eq!(listed["items"][0]["letter"]["id"], "old-1");
    let again = app.call("POST", &format!("{CONNECT}/distribution-list/index"), Some(&token), None).await;
    assert_eq!(again.body["indexed"], 0, "rebuilding twice changes nothing");
}
