//! Booking links end to end on the local server: staff send a link, the patient books on its
//! pages, the confirmation SMS carries a manage link, the patient verifies and reschedules, and
//! staff read the history. Plus single use under 100 concurrent confirms, expiry, deletion,
//! lockout, isolation between patients, escaping, and a scan proving no raw token is stored.

use clinic_shared::domain::access::Permission;
use clinic_tests::TestApp;
use serde_json::{Value, json};

const SCRIPT: &str = "<script>alert('x')</script>";
const IMAGE: &str = "\"><img src=x onerror=alert(1)>";

fn rule_body(booking_type: &str, providers: &[&str], locations: &[&str], allow_reschedule: bool) -> Value {
    json!({
        "title": "GP follow-up",
        "booking_type_id": booking_type,
        "provider_ids": providers,
        "location_ids": locations,
        "link_lifetime_hours": 48,
        "allow_reschedule": allow_reschedule,
        "sms_template": "Hi {first_name}, {clinic} invites you to book: {link}",
        "welcome": {
            "logo_url": "https://www.example.com/logo.png",
            "body": "<p>Welcome. Read <a href=\"https://www.example.com/prepare\">how to prepare</a>.</p>",
            "body_fr": "<p>Bienvenue. Lisez <a href=\"https://www.example.com/preparer\">comment vous préparer</a>.<script>x()</script></p>"
        },
        "confirmation": {
            "phone": "+441632960123",
            "cancellation_policy_url": "https://www.example.com/cancellations",
            "website_url": "https://www.example.com",
            "text": "Bring your medication list.",
            "text_fr": "Apportez la liste de vos médicaments."
        }
    })
}

async fn create_rule(app: &TestApp, token: &str, body: Value) -> String {
    let created = app.json("POST", "/admin/clinics/demo/broadcast-rules", Some(token), body).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    created.body["id"].as_str().unwrap().to_owned()
}

async fn replace_rule(app: &TestApp, token: &str, rule: &str, body: Value) -> u16 {
    app.json("PUT", &format!("/admin/clinics/demo/broadcast-rules/{rule}"), Some(token), body).await.status
}

fn patient(mobile: &str, date_of_birth: &str) -> Value {
    json!({"first_name": "Pat", "last_name": "Example", "date_of_birth": date_of_birth, "mobile": mobile, "email": "pat@example.com"})
}

/// Sends a link; returns the answer and the token from its URL.
async fn send(app: &TestApp, token: &str, rule: &str, reference: &str, patient: Value) -> (Value, String) {
    let sent = app
        .json(
            "POST",
            "/admin/clinics/demo/booking-links",
            Some(token),
            json!({"rule_id": rule, "patient_reference": reference, "patient": patient}),
        )
        .await;
    assert_eq!(sent.status, 201, "{:?}", sent.body);
    let url = sent.body["url"].as_str().unwrap().to_owned();
    let link_token = url.rsplit('/').next().unwrap().to_owned();
    (sent.body, link_token)
}

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
    (status, response.text().await.unwrap())
}

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let response = app
        .client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded_pairs(form))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

fn serde_urlencoded_pairs(form: &[(&str, &str)]) -> String {
    form.iter()
        .map(|(name, value)| format!("{name}={}", value.replace('%', "%25").replace('+', "%2B").replace(':', "%3A")))
        .collect::<Vec<_>>()
        .join("&")
}

/// Every value of `name="{field}" value="…"` in a page.
fn values(page: &str, field: &str) -> Vec<String> {
    let marker = format!("name=\"{field}\" value=\"");
    page.split(&marker).skip(1).map(|rest| rest.split('"').next().unwrap().to_owned()).collect()
}

async fn outbox(app: &TestApp) -> Vec<Value> {
    app.settle().await;
    let answer = app.get("/_local/outbox", None).await;
    answer.body["messages"].as_array().unwrap().clone()
}

async fn history(app: &TestApp, token: &str, reference: &str) -> Vec<Value> {
    let answer = app.get(&format!("/admin/clinics/demo/patients/{reference}/booking-links"), Some(token)).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["items"].as_array().unwrap().clone()
}

fn statuses(link: &Value) -> Vec<String> {
    link["events"].as_array().unwrap().iter().map(|event| event["status"].as_str().unwrap().to_owned()).collect()
}

/// Opens the link, takes the first free time and confirms it; returns the confirm answer.
async fn book_first_time(app: &TestApp, link_token: &str) -> (u16, String, String) {
    let (status, times) = page(app, &format!("/links/{link_token}?step=times")).await;
    assert_eq!(status, 200, "{times}");
    let time = values(&times, "time").first().cloned().expect("the rule offers free times");
    let (status, review) = page(app, &format!("/links/{link_token}?step=review&time={time}")).await;
    assert_eq!(status, 200);
    assert!(review.contains("Confirm appointment"), "{review}");
    let (status, body) = post_form(app, &format!("/links/{link_token}"), &[("time", &time), ("lang", "en")]).await;
    (status, body, time)
}

/// The manage token of the confirmation SMS sent to `mobile`.
async fn manage_token(app: &TestApp, mobile: &str) -> String {
    let messages = outbox(app).await;
    let confirmation = messages
        .iter()
        .find(|m| m["to"] == mobile && m["channel"] == "sms" && m["body"].as_str().unwrap().contains("/manage/"))
        .expect("a confirmation SMS with a manage link");
    manage_token_in(confirmation["body"].as_str().unwrap())
}

fn manage_token_in(sms: &str) -> String {
    let url = sms.split_whitespace().find(|word| word.contains("/manage/")).expect("a manage link in the SMS");
    url.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn staff_send_a_link_the_patient_books_then_reschedules_to_another_doctor_and_staff_see_it_all() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    let rule = create_rule(&app, &admin, rule_body(&demo.gp15, &[&demo.amara], &[&demo.riverside], true)).await;

    let (sent, link_token) = send(&app, &admin, &rule, "MRN-1001", patient("+447700900123", "1980-05-17")).await;
    assert_eq!(sent["sms"]["status"], "sent");
    assert_eq!(sent["link"]["status"], "sent");
    assert_eq!(sent["offer"]["booking_type"], "GP consultation");
    assert_eq!(sent["offer"]["providers"], json!(["Dr Amara Okafor, General Practitioner"]));
    assert_eq!(link_token.len(), 64);
    let sms = outbox(&app).await.into_iter().find(|m| m["to"] == "+447700900123").expect("the link SMS");
    assert_eq!(
        sms["body"],
        format!("Hi Pat, Riverside Family Practice invites you to book: {}", sent["url"].as_str().unwrap())
    );

    let (status, welcome) = page(&app, &format!("/links/{link_token}")).await;
    assert_eq!(status, 200);
    assert!(welcome.contains("Continue to book appointment") && welcome.contains("how to prepare"), "{welcome}");
    assert!(welcome.contains(r#"src="https://www.example.com/logo.png""#));
    // A French reader gets the rule's French text (sanitised like the English).
    let (status, bienvenue) = page(&app, &format!("/links/{link_token}?lang=fr")).await;
    assert_eq!(status, 200);
    assert!(bienvenue.contains("comment vous préparer") && !bienvenue.contains("how to prepare"), "{bienvenue}");
    assert!(!bienvenue.contains("<script>"), "{bienvenue}");
    assert_eq!(statuses(&history(&app, &admin, "MRN-1001").await[0]), ["sent", "accessed"]);

    let (status, confirmed, time) = book_first_time(&app, &link_token).await;
    assert_eq!(status, 201, "{confirmed}");
    assert!(confirmed.contains("Your appointment is booked") && confirmed.contains("Dr Amara Okafor"), "{confirmed}");
    assert!(confirmed.contains("tel:+441632960123") && confirmed.contains("https://www.example.com/cancellations"));
    assert!(confirmed.contains("Bring your medication list.") && !confirmed.contains("Apportez"), "{confirmed}");
    let (_, confirmed_fr) = page(&app, &format!("/links/{link_token}?lang=fr")).await;
    assert!(confirmed_fr.contains("Apportez la liste de vos médicaments."), "{confirmed_fr}");

    // Used: the link shows the confirmation, never the booking screens, and cannot book again.
    for path in [format!("/links/{link_token}"), format!("/links/{link_token}?step=times")] {
        let (status, again) = page(&app, &path).await;
        assert_eq!(status, 200);
        assert!(again.contains("Your appointment is booked") && !again.contains("name=\"time\""), "{again}");
    }
    let (status, _) = post_form(&app, &format!("/links/{link_token}"), &[("time", &time)]).await;
    assert_eq!(status, 200);
    let links = history(&app, &admin, "MRN-1001").await;
    assert_eq!(statuses(&links[0]), ["sent", "accessed", "booked"]);
    let appointment = links[0]["appointment"].clone();
    assert_eq!(appointment["starts_at"], time);
    assert_eq!(appointment["provider_id"], demo.amara);

    // The diary shows it like any other appointment, marked as booked by link, and staff can edit it.
    let day = &time[..10];
    let diary =
        app.get(&format!("/admin/clinics/demo/appointments?date={day}&provider_id={}", demo.amara), Some(&admin)).await;
    let listed = diary.body["items"].as_array().unwrap().iter().find(|a| a["id"] == appointment["id"]).unwrap().clone();
    assert_eq!(listed["channel"], "booking_link");
    let edited = app
        .json(
            "PATCH",
            &format!("/admin/clinics/demo/appointments/{}", appointment["id"].as_str().unwrap()),
            Some(&admin),
            json!({"notes": "Prefers mornings"}),
        )
        .await;
    assert_eq!(edited.status, 200, "{:?}", edited.body);

    // The confirmation SMS carries the date and time and a manage link.
    let messages = outbox(&app).await;
    let confirmation = messages
        .iter()
        .find(|m| m["channel"] == "sms" && m["body"].as_str().unwrap().contains("/manage/"))
        .expect("confirmation SMS");
    let text = confirmation["body"].as_str().unwrap();
    assert!(text.contains("is booked") && text.contains("GP consultation"), "{text}");
    let manage = manage_token_in(text);
    assert_ne!(manage, link_token);
    let (status, _) = page(&app, &format!("/links/{manage}")).await;
    assert_eq!(status, 404, "a manage token does not open the booking pages");

    // The clinic now only offers Dr Tom at Hillview: a reschedule moves the appointment to him.
    let replaced = app
        .json(
            "PUT",
            &format!("/admin/clinics/demo/broadcast-rules/{rule}"),
            Some(&admin),
            rule_body(&demo.gp15, &[&demo.tom], &[&demo.hillview], true),
        )
        .await;
    assert_eq!(replaced.status, 200, "{:?}", replaced.body);
    let manage_path = format!("/manage/{manage}");
    let (status, form) = page(&app, &manage_path).await;
    assert_eq!(status, 200);
    assert!(form.contains("date of birth"), "{form}");
    let (status, wrong) = post_form(&app, &manage_path, &[("action", "verify"), ("date_of_birth", "1980-05-18")]).await;
    assert_eq!(status, 422);
    assert!(wrong.contains("Attempts left: 4"), "{wrong}");
    let (status, overview) =
        post_form(&app, &manage_path, &[("action", "verify"), ("date_of_birth", "1980-05-17")]).await;
    assert_eq!(status, 200, "{overview}");
    assert!(overview.contains("Dr Amara Okafor") && overview.contains("Bring your medication list."), "{overview}");
    let grant = values(&overview, "grant").first().cloned().expect("a grant in the forms");
    let new_time = values(&overview, "time").into_iter().find(|t| *t != time).expect("free times to move to");
    let (status, review) =
        post_form(&app, &manage_path, &[("action", "review"), ("grant", &grant), ("time", &new_time)]).await;
    assert_eq!(status, 200);
    assert!(review.contains("Confirm new time"), "{review}");
    let (status, _) = post_form(
        &app,
        &manage_path,
        &[("action", "reschedule"), ("grant", "0".repeat(64).as_str()), ("time", &new_time)],
    )
    .await;
    assert_eq!(status, 401, "a made-up grant asks for verification again");
    let (status, moved) =
        post_form(&app, &manage_path, &[("action", "reschedule"), ("grant", &grant), ("time", &new_time)]).await;
    assert_eq!(status, 200, "{moved}");
    assert!(moved.contains("Your appointment has been moved") && moved.contains("Dr Tom Lindqvist"), "{moved}");

    let links = history(&app, &admin, "MRN-1001").await;
    assert_eq!(statuses(&links[0]), ["sent", "accessed", "booked", "rescheduled"]);
    let appointment = &links[0]["appointment"];
    assert_eq!(appointment["starts_at"], new_time);
    assert_eq!(appointment["provider_id"], demo.tom);
    let actions: Vec<&str> =
        appointment["history"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["appointment.booked", "appointment.edited", "appointment.rescheduled"]);

    // The old slot is free again, and Dr Tom has a message in his inbox (Dr Amara has none).
    let (_, times) = page(
        &app,
        &format!(
            "/links/{}?step=times",
            send(
                &app,
                &admin,
                &create_rule(&app, &admin, rule_body(&demo.gp15, &[&demo.amara], &[&demo.riverside], true)).await,
                "MRN-1002",
                patient("+447700900124", "1970-01-01")
            )
            .await
            .1
        ),
    )
    .await;
    assert!(values(&times, "time").contains(&time), "the old slot is offered again");
    let inbox = app.get(&format!("/admin/clinics/demo/providers/{}/messages", demo.tom), Some(&admin)).await;
    let messages = inbox.body["items"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{:?}", inbox.body);
    assert_eq!(messages[0]["appointment_id"], appointment["id"]);
    let amara = app.get(&format!("/admin/clinics/demo/providers/{}/messages", demo.amara), Some(&admin)).await;
    assert_eq!(amara.body["items"], json!([]));
    assert!(outbox(&app).await.iter().any(|m| m["body"].as_str().unwrap().contains("has moved")));
}

#[tokio::test]
async fn a_hundred_concurrent_confirms_of_one_link_make_exactly_one_appointment() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    let rule = create_rule(
        &app,
        &admin,
        rule_body(&demo.gp15, &[&demo.amara, &demo.tom], &[&demo.riverside, &demo.hillview], false),
    )
    .await;
    let (_, link_token) = send(&app, &admin, &rule, "MRN-2001", patient("+447700900125", "1985-03-04")).await;
    let (_, times) = page(&app, &format!("/links/{link_token}?step=times")).await;
    let offered = values(&times, "time");
    assert!(offered.len() >= 10);
    let mut attempts = Vec::new();
    for attempt in 0..100 {
        let time = offered[attempt % 10].clone();
        let client = app.client.clone();
        let url = app.url(&format!("/links/{link_token}"));
        attempts.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("time={}", time.replace(':', "%3A")))
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        }));
    }
    let mut created = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            201 => created += 1,
            200 => {}
            other => panic!("a confirm answered {other}"),
        }
    }
    assert_eq!(created, 1, "exactly one confirm books");
    let links = history(&app, &admin, "MRN-2001").await;
    assert_eq!(statuses(&links[0]).iter().filter(|s| *s == "booked").count(), 1);
    let booked_id = links[0]["appointment"]["id"].clone();
    // Every appointment of those days booked by link is that one.
    let mut by_link = 0;
    for day in offered.iter().take(10).map(|t| t[..10].to_owned()).collect::<std::collections::BTreeSet<_>>() {
        let diary = app.get(&format!("/admin/clinics/demo/appointments?date={day}"), Some(&admin)).await;
        for item in diary.body["items"].as_array().unwrap() {
            if item["channel"] == "booking_link" {
                by_link += 1;
                assert_eq!(item["id"], booked_id);
            }
        }
    }
    assert_eq!(by_link, 1);
    let confirmations = outbox(&app)
        .await
        .into_iter()
        .filter(|m| m["channel"] == "sms" && m["body"].as_str().unwrap().contains("/manage/"))
        .count();
    assert_eq!(confirmations, 1, "one confirmation SMS");
}

#[tokio::test]
async fn expired_deleted_and_timed_out_links_cannot_book_and_say_whom_to_phone() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    let rule = create_rule(&app, &admin, rule_body(&demo.gp15, &[&demo.amara], &[&demo.riverside], true)).await;
    let (expired, expired_token) = send(&app, &admin, &rule, "MRN-3001", patient("+447700900126", "1990-01-01")).await;
    let (deleted, deleted_token) = send(&app, &admin, &rule, "MRN-3001", patient("+447700900126", "1990-01-01")).await;
    let (_, timed_out_token) = send(&app, &admin, &rule, "MRN-3001", patient("+447700900126", "1990-01-01")).await;
    let (_, times) = page(&app, &format!("/links/{expired_token}?step=times")).await;
    let time = values(&times, "time")[0].clone();

    let expire = |id: &str| format!("/admin/clinics/demo/booking-links/{id}/expire");
    let answer = app.call("POST", &expire(expired["link"]["id"].as_str().unwrap()), Some(&admin), None).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["status"], "expired");
    let answer = app
        .call(
            "DELETE",
            &format!("/admin/clinics/demo/booking-links/{}", deleted["link"]["id"].as_str().unwrap()),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(answer.body["status"], "deleted");
    app.server.clock.advance(jiff::SignedDuration::from_hours(49));

    for (token, title) in [
        (&expired_token, "This link has expired"),
        (&deleted_token, "This link is no longer valid"),
        (&timed_out_token, "This link has expired"),
    ] {
        let (status, body) = page(&app, &format!("/links/{token}?step=times")).await;
        assert_eq!(status, 410);
        assert!(body.contains(title) && body.contains("+441632960123") && !body.contains("name=\"time\""), "{body}");
        let (status, _) = post_form(&app, &format!("/links/{token}"), &[("time", &time)]).await;
        assert_eq!(status, 410);
    }
    let links = history(&app, &admin, "MRN-3001").await;
    let mut current: Vec<&str> = links.iter().map(|link| link["status"].as_str().unwrap()).collect();
    current.sort_unstable();
    assert_eq!(current, ["deleted", "expired", "expired"]);
    assert!(links.iter().all(|link| link["appointment"].is_null()));
    // Staff cannot expire what is already expired; unknown and malformed tokens name nothing.
    let again = app.call("POST", &expire(expired["link"]["id"].as_str().unwrap()), Some(&admin), None).await;
    assert_eq!(again.status, 409);
    for token in ["0".repeat(64), "not-a-token".to_owned()] {
        let (status, body) = page(&app, &format!("/links/{token}")).await;
        assert_eq!(status, 404);
        assert!(body.contains("This link is not valid") && !body.contains("Riverside"), "{body}");
    }
}

#[tokio::test]
async fn five_wrong_birth_dates_lock_the_manage_link_and_one_patients_link_cannot_reach_another() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    let rule = create_rule(
        &app,
        &admin,
        rule_body(&demo.gp15, &[&demo.amara, &demo.tom], &[&demo.riverside, &demo.hillview], true),
    )
    .await;
    let (_, first) = send(&app, &admin, &rule, "MRN-4001", patient("+447700900127", "1975-06-07")).await;
    let (_, second) = send(&app, &admin, &rule, "MRN-4002", patient("+447700900128", "1992-08-09")).await;
    for token in [&first, &second] {
        assert_eq!(book_first_time(&app, token).await.0, 201);
    }
    let (first_manage, second_manage) =
        (manage_token(&app, "+447700900127").await, manage_token(&app, "+447700900128").await);

    // The second patient's birth date does not open the first patient's appointment.
    let path = format!("/manage/{first_manage}");
    let (status, _) = post_form(&app, &path, &[("action", "verify"), ("date_of_birth", "1992-08-09")]).await;
    assert_eq!(status, 422);
    // Nor does the second patient's grant.
    let (_, overview) =
        post_form(&app, &format!("/manage/{second_manage}"), &[("action", "verify"), ("date_of_birth", "1992-08-09")])
            .await;
    let second_grant = values(&overview, "grant")[0].clone();
    let (status, body) = post_form(&app, &path, &[("action", "times"), ("grant", &second_grant)]).await;
    assert_eq!(status, 401);
    assert!(!body.contains("Dr "), "no appointment details without the right grant: {body}");

    for remaining in (1..=3).rev() {
        let (status, body) = post_form(&app, &path, &[("action", "verify"), ("date_of_birth", "2000-01-01")]).await;
        assert_eq!(status, 422);
        assert!(body.contains(&format!("Attempts left: {remaining}")), "{body}");
    }
    let (status, body) = post_form(&app, &path, &[("action", "verify"), ("date_of_birth", "2000-01-01")]).await;
    assert_eq!(status, 403);
    assert!(body.contains("Too many attempts") && body.contains("+441632960123"), "{body}");
    let (status, _) = post_form(&app, &path, &[("action", "verify"), ("date_of_birth", "1975-06-07")]).await;
    assert_eq!(status, 403, "locked even for the right answer");
    assert_eq!(page(&app, &path).await.0, 403);
    // The other patient's link is unaffected.
    let (status, _) =
        post_form(&app, &format!("/manage/{second_manage}"), &[("action", "verify"), ("date_of_birth", "1992-08-09")])
            .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_rule_without_rescheduling_shows_the_appointment_but_cannot_move_it() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    let rule = create_rule(&app, &admin, rule_body(&demo.gp15, &[&demo.amara], &[&demo.riverside], false)).await;
    let (_, link_token) = send(&app, &admin, &rule, "MRN-5001", patient("+447700900129", "1966-02-03")).await;
    let (_, _, time) = book_first_time(&app, &link_token).await;
    let manage = manage_token(&app, "+447700900129").await;
    let path = format!("/manage/{manage}");
    let (status, overview) = post_form(&app, &path, &[("action", "verify"), ("date_of_birth", "1966-02-03")]).await;
    assert_eq!(status, 200);
    assert!(overview.contains("Dr Amara Okafor") && !overview.contains("name=\"time\""), "{overview}");
    assert!(!overview.contains("Choose a new time"), "no times to move to when moving is not allowed");
    assert!(overview.contains("Cancel this appointment"), "cancelling stays possible");
    // A grant taken while the rule allowed moving does not move it once the rule forbids it.
    assert_eq!(
        replace_rule(&app, &admin, &rule, rule_body(&demo.gp15, &[&demo.amara], &[&demo.riverside], true)).await,
        200
    );
    let (_, overview) = post_form(&app, &path, &[("action", "verify"), ("date_of_birth", "1966-02-03")]).await;
    let grant = values(&overview, "grant")[0].clone();
    let later = values(&overview, "time").into_iter().find(|t| *t != time).unwrap();
    assert_eq!(
        replace_rule(&app, &admin, &rule, rule_body(&demo.gp15, &[&demo.amara], &[&demo.riverside], false)).await,
        200
    );
    let (status, _) = post_form(&app, &path, &[("action", "reschedule"), ("grant", &grant), ("time", &later)]).await;
    assert_eq!(status, 409);
    let links = history(&app, &admin, "MRN-5001").await;
    assert_eq!(links[0]["appointment"]["starts_at"], time, "the appointment did not move");
}

#[tokio::test]
async fn the_store_never_holds_a_raw_token() {
    let (app, store) = TestApp::spawn_with_store().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    let rule = create_rule(&app, &admin, rule_body(&demo.gp15, &[&demo.amara], &[&demo.riverside], true)).await;
    let (_, link_token) = send(&app, &admin, &rule, "MRN-6001", patient("+447700900130", "1988-09-10")).await;
    assert_eq!(book_first_time(&app, &link_token).await.0, 201);
    let manage = manage_token(&app, "+447700900130").await;
    let (_, overview) =
        post_form(&app, &format!("/manage/{manage}"), &[("action", "verify"), ("date_of_birth", "1988-09-10")]).await;
    let grant = values(&overview, "grant")[0].clone();
    let items = store.all_items().await.unwrap();
    let mut hashes_found = 0;
    for item in &items {
        if item.key.pk == "OUTBOX" {
            continue; // The local stand-in for the SMS provider: what was sent to the phone.
        }
        let text = serde_json::to_string(item).unwrap();
        for secret in [&link_token, &manage, &grant] {
            assert!(!text.contains(secret.as_str()), "a raw token is stored in {}", item.key.pk);
        }
        if item.key.pk.starts_with("LINK_TOKEN#")
            || item.key.pk.starts_with("LINK_GRANT#")
            || item.key.pk.starts_with("MANAGE_TOKEN#")
        {
            hashes_found += 1;
        }
    }
    // The link token, the grant, and one manage token per message that carries a manage link
    // (the confirmation SMS and email).
    assert_eq!(hashes_found, 4, "the tokens and the grant are kept as hashes");
}

#[tokio::test]
async fn script_payloads_from_admins_and_patients_come_out_escaped_on_every_link_page() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    app.json(
        "PUT",
        "/admin/clinics/demo",
        Some(&admin),
        json!({"name": format!("Clinic {SCRIPT}"), "time_zone": "Europe/London"}),
    )
    .await;
    app.json(
        "PATCH",
        &format!("/admin/clinics/demo/providers/{}", demo.amara),
        Some(&admin),
        json!({"name": format!("Dr {IMAGE}")}),
    )
    .await;
    let mut body = rule_body(&demo.gp15, &[&demo.amara], &[&demo.riverside], true);
    body["welcome"]["body"] =
        json!(format!("<p onclick=\"steal()\">Hi {SCRIPT}{IMAGE}<a href=\"javascript:alert(1)\">x</a></p>"));
    body["confirmation"]["text"] = json!(format!("Note {SCRIPT}"));
    let rule = create_rule(&app, &admin, body).await;
    let listed = app.get("/admin/clinics/demo/broadcast-rules?search=gp", Some(&admin)).await;
    let stored = listed.body["items"][0]["welcome"]["body_html"].as_str().unwrap().to_owned();
    assert!(!stored.contains("<script") && !stored.contains("onclick") && !stored.contains("javascript:"), "{stored}");
    let mut evil = patient("+447700900131", "1979-11-12");
    evil["first_name"] = json!(format!("Pat{SCRIPT}"));
    evil["last_name"] = json!(IMAGE);
    let (_, link_token) = send(&app, &admin, &rule, "MRN-7001", evil).await;
    let (status, confirmed, _) = book_first_time(&app, &link_token).await;
    assert_eq!(status, 201);
    let manage = manage_token(&app, "+447700900131").await;
    let (_, overview) =
        post_form(&app, &format!("/manage/{manage}"), &[("action", "verify"), ("date_of_birth", "1979-11-12")]).await;
    let mut pages = vec![confirmed, overview];
    for path in [format!("/links/{link_token}"), format!("/manage/{manage}"), "/links/nope".into()] {
        pages.push(page(&app, &path).await.1);
    }
    for page in &pages {
        assert!(!page.contains("<script>alert") && !page.contains("<img src=x") && !page.contains("onclick"), "{page}");
    }
    assert!(pages[0].contains("Clinic &lt;script&gt;"), "the clinic name is shown, escaped");
}

#[tokio::test]
async fn bad_admin_input_names_the_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    let mut body = rule_body(&demo.gp15, &[&demo.amara], &[&demo.riverside], true);
    body["sms_template"] = json!("Hi {name}: {link}");
    body["welcome"]["logo_url"] = json!("http://www.example.com/logo.png");
    let answer = app.json("POST", "/admin/clinics/demo/broadcast-rules", Some(&admin), body).await;
    assert_eq!(answer.status, 422);
    assert_eq!(answer.problem_fields(), ["sms_template", "welcome.logo_url"]);
    let unknown = uuid::Uuid::new_v4().to_string();
    let answer = app
        .json(
            "POST",
            "/admin/clinics/demo/broadcast-rules",
            Some(&admin),
            rule_body(&demo.gp15, &[&demo.amara, &unknown], &[&demo.riverside], true),
        )
        .await;
    assert_eq!(answer.status, 422);
    assert_eq!(answer.problem_fields(), ["provider_ids[1]"]);
    let rules = app.get("/admin/clinics/demo/broadcast-rules", Some(&admin)).await;
    assert_eq!(rules.body["items"], json!([]), "nothing was written");

    let rule = create_rule(&app, &admin, rule_body(&demo.gp15, &[&demo.amara], &[&demo.riverside], true)).await;
    let send_to = |body: Value| app.json("POST", "/admin/clinics/demo/booking-links", Some(&admin), body);
    let answer =
        send_to(json!({"rule_id": rule, "patient_reference": "MRN 1", "patient": patient("07700", "1980-01-01")}))
            .await;
    assert_eq!(answer.status, 422);
    assert_eq!(answer.problem_fields(), ["patient_reference", "patient.mobile"]);
    let answer = send_to(
        json!({"rule_id": unknown, "patient_reference": "MRN-1", "patient": patient("+447700900132", "1980-01-01")}),
    )
    .await;
    assert_eq!(answer.problem_fields(), ["rule_id"]);
    let answer = send_to(json!({"rule_id": rule, "patient_reference": "MRN-1"})).await;
    assert_eq!(answer.status, 400, "{:?}", answer.body);
    assert_eq!(answer.problem_fields(), ["patient"]);
    assert!(outbox(&app).await.is_empty(), "no SMS for a refused send");
    assert!(history(&app, &admin, "MRN-1").await.is_empty());
    let answer =
        app.call("POST", &format!("/admin/clinics/demo/booking-links/{unknown}/expire"), Some(&admin), None).await;
    assert_eq!(answer.status, 404);
    let answer = app.call("POST", "/admin/clinics/demo/booking-links/nope/expire", Some(&admin), None).await;
    assert_eq!(answer.problem_fields(), ["linkId"]);

    // Permissions: a read-only token cannot send, another clinic's token sees nothing.
    let reader = app.token("reader", &["demo"], &[Permission::DiaryRead, Permission::CatalogRead]);
    let answer = send_to_with(&app, &reader, &rule).await;
    assert_eq!(answer.status, 403);
    let other = app.token("other", &["elsewhere"], &Permission::ALL);
    assert_eq!(app.get("/admin/clinics/demo/patients/MRN-1/booking-links", Some(&other)).await.status, 403);
    assert_eq!(app.get("/admin/clinics/demo/broadcast-rules", None).await.status, 401);
    // A malformed link form is a problem, not a crash.
    let response = app
        .client
        .post(app.url("/links/abc"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("time=%ZZ&&=")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error());
}

async fn send_to_with(app: &TestApp, token: &str, rule: &str) -> clinic_tests::Answer {
    app.json(
        "POST",
        "/admin/clinics/demo/booking-links",
        Some(token),
        json!({"rule_id": rule, "patient_reference": "MRN-1", "patient": patient("+447700900133", "1980-01-01")}),
    )
    .await
}

#[tokio::test]
async fn a_link_whose_rule_gives_no_phone_still_says_whom_to_phone() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    let mut body = rule_body(&demo.gp15, &[&demo.amara], &[&demo.riverside], true);
    body["confirmation"]["phone"] = Value::Null;
    let rule = create_rule(&app, &admin, body).await;
    let (_, token) = send(&app, &admin, &rule, "MRN-3101", patient("+447700900127", "1990-01-01")).await;
    app.server.clock.advance(jiff::SignedDuration::from_hours(49));
    let (status, body) = page(&app, &format!("/links/{token}")).await;
    assert_eq!(status, 410);
    assert!(body.contains("This link has expired") && body.contains("tel:02079460000"), "no clinic phone: {body}");
}

#[tokio::test]
async fn a_resent_link_replaces_the_old_one_which_stops_working_and_a_used_link_cannot_be_resent() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    let rule = create_rule(&app, &admin, rule_body(&demo.gp15, &[&demo.amara], &[&demo.riverside], true)).await;
    let (first, first_token) = send(&app, &admin, &rule, "MRN-3101", patient("+447700900131", "1985-02-03")).await;
    let first_id = first["link"]["id"].as_str().unwrap().to_owned();
    let resend = |id: &str| format!("/admin/clinics/demo/booking-links/{id}/resend");

    // Twelve staff press "resend" at once: one new link, the others are told it changed.
    let path = resend(&first_id);
    let presses = futures_util::future::join_all((0..12).map(|_| app.call("POST", &path, Some(&admin), None))).await;
    let resent: Vec<_> = presses.iter().filter(|answer| answer.status == 201).collect();
    assert_eq!(resent.len(), 1, "{:?}", presses.iter().map(|a| a.status).collect::<Vec<_>>());
    assert!(presses.iter().all(|answer| answer.status == 201 || answer.status == 409));
    let second = &resent[0].body;
    assert_eq!(second["link"]["replaces"], first_id.as_str());
    assert_eq!(second["sms"]["status"], "sent");
    let second_token = second["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    assert_ne!(second_token, first_token);

    // The old link no longer books; the new one does, once; the patient got the new URL by SMS.
    let (status, body) = page(&app, &format!("/links/{first_token}?step=times")).await;
    assert_eq!(status, 410, "{body}");
    let texts = outbox(&app).await;
    assert!(texts.iter().any(|m| m["to"] == "+447700900131" && m["body"].as_str().unwrap().contains(&second_token)));
    let (status, _, _) = book_first_time(&app, &second_token).await;
    assert_eq!(status, 201);

    // History: the old link expired by staff, the new one booked and names the one it replaced.
    let links = history(&app, &admin, "MRN-3101").await;
    let old = links.iter().find(|link| link["id"] == first_id.as_str()).unwrap();
    assert_eq!(old["status"], "expired");
    assert_eq!(statuses(old).last().map(String::as_str), Some("expired"));
    let new = links.iter().find(|link| link["replaces"] == first_id.as_str()).unwrap();
    assert_eq!(new["status"], "booked");
    assert_eq!(old["replaced_by"], new["id"]);
    assert_eq!(links.len(), 2, "one resend made one new link");
    // Resending the replaced link again is refused: the newer link is the one to resend.
    let again = app.call("POST", &resend(&first_id), Some(&admin), None).await;
    assert_eq!(again.status, 409, "{:?}", again.body);

    // A link that booked cannot be resent, nor can an unknown one; a bad id names the field.
    let new_id = new["id"].as_str().unwrap();
    let used = app.call("POST", &resend(new_id), Some(&admin), None).await;
    assert_eq!(used.status, 409, "{:?}", used.body);
    let unknown = app.call("POST", &resend(&uuid::Uuid::new_v4().to_string()), Some(&admin), None).await;
    assert_eq!(unknown.status, 404);
    let malformed = app.call("POST", &resend("not-an-id"), Some(&admin), None).await;
    assert_eq!(malformed.problem_fields(), ["linkId"]);
    // Another clinic's staff cannot resend it.
    let other = app.token("staff-other", &["north"], &[clinic_shared::domain::access::Permission::DiaryWrite]);
    let refused = app.call("POST", &resend(&first_id), Some(&other), None).await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn an_archived_rule_sends_no_new_link_but_links_already_sent_still_book() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    let rule = create_rule(&app, &admin, rule_body(&demo.gp15, &[&demo.amara], &[&demo.riverside], true)).await;
    let (_, sent_token) = send(&app, &admin, &rule, "MRN-3201", patient("+447700900141", "1982-04-05")).await;
    let path = format!("/admin/clinics/demo/broadcast-rules/{rule}");

    let stale = app.call_if_match("DELETE", &path, Some(&admin), None, Some("\"9\"")).await;
    assert_eq!(stale.status, 412);
    let archived = app.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!(archived.status, 200, "{:?}", archived.body);
    assert!(archived.body["archived_at"].is_string());
    assert_eq!(app.call("DELETE", &path, Some(&admin), None).await.status, 409, "archived once");

    // It leaves the list, shows with ?archived=true, cannot change, and sends nothing new.
    let listed = app.get("/admin/clinics/demo/broadcast-rules", Some(&admin)).await;
    assert!(listed.body["items"].as_array().unwrap().iter().all(|r| r["id"] != rule.as_str()));
    let shelved = app.get("/admin/clinics/demo/broadcast-rules?archived=true", Some(&admin)).await;
    assert!(shelved.body["items"].as_array().unwrap().iter().any(|r| r["id"] == rule.as_str()));
    let body = rule_body(&demo.gp15, &[&demo.amara], &[&demo.riverside], false);
    assert_eq!(replace_rule(&app, &admin, &rule, body).await, 409);
    let refused = app
        .json(
            "POST",
            "/admin/clinics/demo/booking-links",
            Some(&admin),
            json!({"rule_id": rule, "patient_reference": "MRN-3202", "patient": patient("+447700900142", "1983-04-05")}),
        )
        .await;
    assert_eq!(refused.problem_fields(), ["rule_id"]);
    // The link sent before still books, and its history still names the rule.
    let (status, _, _) = book_first_time(&app, &sent_token).await;
    assert_eq!(status, 201);
    let links = history(&app, &admin, "MRN-3201").await;
    assert_eq!(links[0]["rule_id"], rule.as_str());
}

#[tokio::test]
async fn a_link_sent_before_its_clinician_was_archived_offers_only_the_clinicians_still_working() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    let body = rule_body(&demo.gp15, &[&demo.amara, &demo.tom], &[&demo.riverside, &demo.hillview], true);
    let rule = create_rule(&app, &admin, body).await;
    let (_, link_token) = send(&app, &admin, &rule, "MRN-1001", patient("+447700900123", "1980-05-17")).await;
    // Dr Okafor's mornings start at 08:30, Dr Lindqvist's at 09:00.
    let first_time = async || {
        let (status, times) = page(&app, &format!("/links/{link_token}?step=times")).await;
        assert_eq!(status, 200);
        values(&times, "time").first().cloned().expect("free times")
    };
    assert!(first_time().await.ends_with("T08:30:00Z"));

    let path = format!("/admin/clinics/demo/providers/{}", demo.amara);
    assert_eq!(app.call("DELETE", &path, Some(&admin), None).await.status, 200);
    assert!(first_time().await.ends_with("T09:00:00Z"), "the archived clinician's times are gone");
    let (status, confirmed, _) = book_first_time(&app, &link_token).await;
    assert_eq!(status, 201, "{confirmed}");
    assert!(confirmed.contains("Dr Tom Lindqvist"), "{confirmed}");

    // The rule may still be edited while it names her; a new rule may not name her.
    let mut renamed = rule_body(&demo.gp15, &[&demo.amara, &demo.tom], &[&demo.riverside, &demo.hillview], true);
    renamed["title"] = json!("GP follow-up (winter)");
    assert_eq!(replace_rule(&app, &admin, &rule, renamed.clone()).await, 200);
    let another = app.json("POST", "/admin/clinics/demo/broadcast-rules", Some(&admin), renamed).await;
    assert_eq!((another.status, another.problem_fields()), (422, vec!["provider_ids[0]".to_owned()]));
}
