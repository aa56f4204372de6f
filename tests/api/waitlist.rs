//! The waitlist end to end: patients join from the booking pages (or staff add them), a
//! cancelled time is offered to the first matching entry by SMS with a single-use link, the
//! first confirm wins (50 at once make one appointment), an offer never reaches an entry the time
//! does not suit, and an expired offer moves to the next entry.

use std::time::Duration;

use clinic_tests::TestApp;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

async fn outbox(app: &TestApp) -> Vec<Value> {
    app.get("/_local/outbox", None).await.body["messages"].as_array().cloned().unwrap_or_default()
}

async fn offer_sms_to(app: &TestApp, mobile: &str) -> Option<String> {
    outbox(app).await.into_iter().find_map(|message| {
        let body = message["body"].as_str().unwrap_or_default();
        (message["to"] == mobile && body.contains("/waitlist/")).then(|| {
            let url = body.split_whitespace().find(|word| word.contains("/waitlist/")).unwrap();
            url.rsplit('/').next().unwrap().to_owned()
        })
    })
}

async fn eventually_offer(app: &TestApp, mobile: &str) -> String {
    for _ in 0..200 {
        app.settle().await;
        if let Some(token) = offer_sms_to(app, mobile).await {
            return token;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no waitlist offer to {mobile}: {:#?}", outbox(app).await);
}

/// A clinic set-up with exactly one Saturday 09:00 slot of a new type, booked by staff.
struct OneSlot {
    admin: String,
    booking_type: String,
    appointment: String,
    day: String,
    starts_at: String,
}

async fn one_booked_slot(app: &TestApp) -> OneSlot {
    let admin = app.demo_admin();
    let ids = app.demo_ids(&admin).await;
    let created = app
        .json(
            "POST",
            "/admin/clinics/demo/booking-types",
            Some(&admin),
            json!({"short_name": "PHYSIO", "long_name": "Physiotherapy", "long_name_fr": "Kinésithérapie", "duration_minutes": 20, "enabled_online": true}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let booking_type = created.body["id"].as_str().unwrap().to_owned();
    let zone = TimeZone::get("Europe/London").unwrap();
    let mut day = jiff::Timestamp::now().to_zoned(zone.clone()).date().checked_add(jiff::Span::new().days(3)).unwrap();
    while day.weekday() != Weekday::Saturday {
        day = day.tomorrow().unwrap();
    }
    let template = app
        .json(
            "POST",
            "/admin/clinics/demo/diary-templates",
            Some(&admin),
            json!({
                "provider_id": ids.amara, "location_id": ids.riverside, "weekdays": ["saturday"], "start_time": "09:00",
                "end_time": "09:20", "slot_minutes": 20, "booking_type_ids": [booking_type], "valid_from": "2026-01-01"
            }),
        )
        .await;
    assert_eq!(template.status, 201, "{:?}", template.body);
    let starts_at = day.at(9, 0, 0, 0).to_zoned(zone).unwrap().timestamp().to_string();
    let booked = app
        .json(
            "POST",
            "/admin/clinics/demo/appointments",
            Some(&admin),
            json!({
                "booking_type_id": booking_type, "provider_id": ids.amara, "location_id": ids.riverside, "starts_at": starts_at,
                "patient": {"first_name": "Bea", "last_name": "Example", "date_of_birth": "1970-01-01", "mobile": "+447700900300", "email": ""}
            }),
        )
        .await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    OneSlot {
        admin,
        booking_type,
        appointment: booked.body["id"].as_str().unwrap().to_owned(),
        day: day.to_string(),
        starts_at,
    }
}

async fn join(app: &TestApp, slot: &OneSlot, mobile: &str, extra: &[(&str, &str)]) {
    let mut fields = vec![
        ("type", slot.booking_type.as_str()),
        ("provider", "any"),
        ("location", "any"),
        ("from", slot.day.as_str()),
        ("to", slot.day.as_str()),
        ("part", "any"),
        ("first_name", "Wai"),
        ("last_name", "Example"),
        ("date_of_birth", "1990-03-04"),
        ("mobile", mobile),
        ("email", ""),
        ("lang", "en"),
    ];
    fields.extend_from_slice(extra);
    let response = app
        .client
        .post(app.url("/book/demo/waitlist"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&fields).unwrap())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let page = response.text().await.unwrap();
    assert_eq!(status, 201, "{page}");
    assert!(page.contains("You are on the waitlist"), "{page}");
}

async fn cancel(app: &TestApp, slot: &OneSlot) {
    let cancelled = app
        .json(
            "PATCH",
            &format!("/admin/clinics/demo/appointments/{}", slot.appointment),
            Some(&slot.admin),
            json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
}

async fn booked_at(app: &TestApp, slot: &OneSlot) -> Vec<Value> {
    let diary = app.get(&format!("/admin/clinics/demo/appointments?date={}", slot.day), Some(&slot.admin)).await.body;
    diary["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["starts_at"] == slot.starts_at.as_str() && item["status"] == "booked")
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_cancelled_time_goes_to_the_first_matching_entry_and_fifty_confirms_make_one_appointment() {
    let app = TestApp::spawn().await;
    let slot = one_booked_slot(&app).await;
    // First to join, but only on Mondays: the Saturday time never suits it.
    join(&app, &slot, "07700 900301", &[("monday", "yes")]).await;
    join(&app, &slot, "07700 900302", &[]).await;
    // Staff add a third, later.
    let added = app
        .json(
            "POST",
            "/admin/clinics/demo/waitlist",
            Some(&slot.admin),
            json!({
                "preferences": {"booking_type_id": slot.booking_type, "from": slot.day, "to": slot.day},
                "patient": {"first_name": "Tre", "last_name": "Example", "date_of_birth": "1991-03-04", "mobile": "+447700900303", "email": ""}
            }),
        )
        .await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    app.settle().await;
    assert!(offer_sms_to(&app, "+447700900302").await.is_none(), "an offer while the time was booked");

    cancel(&app, &slot).await;
    let token = eventually_offer(&app, "+447700900302").await;
    app.settle().await;
    assert!(offer_sms_to(&app, "+447700900301").await.is_none(), "an offer to an entry the time does not suit");
    assert!(offer_sms_to(&app, "+447700900303").await.is_none(), "a second offer though the clinic allows one at once");

    let page = app.client.get(app.url(&format!("/waitlist/{token}"))).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("Physiotherapy") && page.contains("Dr Amara Okafor") && page.contains("Book this time"),
        "{page}"
    );

    // Fifty confirms at once: one appointment.
    let confirms = (0..50).map(|_| {
        let client = app.client.clone();
        let url = app.url(&format!("/waitlist/{token}"));
        async move {
            let response = client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("action=accept&lang=en")
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    });
    let answers = futures_util::future::join_all(confirms).await;
    assert!(answers.iter().all(|(status, _)| *status < 500), "a confirm failed");
    assert!(answers.iter().any(|(_, page)| page.contains("Your appointment is booked")), "no confirm booked");
    let booked = booked_at(&app, &slot).await;
    assert_eq!(booked.len(), 1, "{booked:#?}");
    assert_eq!(booked[0]["patient_mobile"], "+447700900302");

    let list = app.get("/admin/clinics/demo/waitlist", Some(&slot.admin)).await.body;
    let states: Vec<&str> =
        list["items"].as_array().unwrap().iter().map(|item| item["status"]["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["waiting", "booked", "waiting"], "{list:#?}");
    // The link is spent: it shows the outcome, offers nothing.
    let again = app.client.get(app.url(&format!("/waitlist/{token}"))).send().await.unwrap().text().await.unwrap();
    assert!(!again.contains("Book this time"), "a used offer still offers");
}

#[tokio::test]
async fn an_offer_that_runs_out_moves_to_the_next_entry_and_a_time_taken_first_leaves_the_other_waiting() {
    let app = TestApp::spawn().await;
    let slot = one_booked_slot(&app).await;
    let settings = app
        .json(
            "PUT",
            "/admin/clinics/demo/appointment-settings",
            Some(&slot.admin),
            json!({"waitlist": {"offer_minutes": 15, "simultaneous_offers": 1}}),
        )
        .await;
    assert_eq!(settings.status, 200, "{:?}", settings.body);
    join(&app, &slot, "07700 900311", &[]).await;
    join(&app, &slot, "07700 900312", &[]).await;
    cancel(&app, &slot).await;
    let first = eventually_offer(&app, "+447700900311").await;
    assert!(offer_sms_to(&app, "+447700900312").await.is_none(), "two offers at once");

    app.server.clock.advance(jiff::SignedDuration::from_mins(16));
    let second = eventually_offer(&app, "+447700900312").await;
    let ended = app.client.get(app.url(&format!("/waitlist/{first}"))).send().await.unwrap().text().await.unwrap();
    assert!(ended.contains("This offer has ended") && ended.contains("tel:02079460000"), "{ended}");

    // Someone else books the time before the second patient confirms.
    let ids = app.demo_ids(&slot.admin).await;
    let taken = app
        .json(
            "POST",
            "/admin/clinics/demo/appointments",
            Some(&slot.admin),
            json!({
                "booking_type_id": slot.booking_type, "provider_id": ids.amara, "location_id": ids.riverside, "starts_at": slot.starts_at,
                "patient": {"first_name": "Cal", "last_name": "Example", "date_of_birth": "1960-01-01", "mobile": "+447700900319", "email": ""},
                "notify": false
            }),
        )
        .await;
    assert_eq!(taken.status, 201, "{:?}", taken.body);
    let response = app
        .client
        .post(app.url(&format!("/waitlist/{second}")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("action=accept&lang=en")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 409);
    assert!(response.text().await.unwrap().contains("just taken"), "the patient is not told");
    let list = app.get("/admin/clinics/demo/waitlist", Some(&slot.admin)).await.body;
    let items = list["items"].as_array().unwrap();
    assert!(items.iter().all(|item| item["status"]["state"] == "waiting"), "{list:#?}");
    assert_eq!(items[0]["offers"][0]["status"]["state"], "expired");
    assert_eq!(items[1]["offers"][0]["status"]["state"], "taken");

    // Staff remove an entry.
    let id = items[1]["id"].as_str().unwrap();
    let removed = app.call("DELETE", &format!("/admin/clinics/demo/waitlist/{id}"), Some(&slot.admin), None).await;
    assert_eq!(removed.status, 204);
    let list = app.get("/admin/clinics/demo/waitlist", Some(&slot.admin)).await.body;
    assert_eq!(list["items"][1]["status"]["state"], "removed");
}

#[tokio::test]
async fn a_bad_join_form_is_answered_in_the_patients_language_and_words() {
    let app = TestApp::spawn().await;
    let demo = super::self_booking::demo(&app).await;
    let fields = [
        ("type", demo.gp15.as_str()),
        ("provider", "any"),
        ("location", "any"),
        ("from", "2030-02-10"),
        ("to", "2030-02-01"),
        ("part", "any"),
        ("first_name", ""),
        ("last_name", "Example"),
        ("date_of_birth", "1990-03-04"),
        ("mobile", "12"),
        ("email", ""),
        ("lang", "fr"),
    ];
    let response = app
        .client
        .post(app.url("/book/demo/waitlist"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(fields).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    for expected in
        ["Au: ne peut pas précéder la date de début", "Prénom: est obligatoire", "Numéro de mobile: doit être"]
    {
        assert!(page.contains(expected), "missing {expected:?}: {page}");
    }
    assert!(!page.contains("must ") && !page.contains("patient."), "English or internal names: {page}");
    let list = app.get("/admin/clinics/demo/waitlist", Some(&app.demo_admin())).await.body;
    assert_eq!(list["items"], serde_json::json!([]), "a refused form wrote an entry");
}

async fn post_page(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let response = app
        .client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(fields).unwrap())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn grant_in(page: &str) -> String {
    let start = page.find("name=\"grant\" value=\"").expect("a grant in the page") + 20;
    page[start..start + page[start..].find('"').unwrap()].to_owned()
}

/// Cy holds the one PHYSIO time a week after Bea's (booked by staff) and, from their manage
/// page, joins the waitlist for an earlier time: (the set-up, Cy's appointment id).
async fn cy_waits_for_an_earlier_time(app: &TestApp) -> (OneSlot, String) {
    let slot = one_booked_slot(app).await;
    let ids = app.demo_ids(&slot.admin).await;
    // Cy holds the same time a week later, booked by staff; their confirmation carries the manage link.
    let later_day: jiff::civil::Date =
        slot.day.parse::<jiff::civil::Date>().unwrap().checked_add(jiff::Span::new().days(7)).unwrap();
    let zone = TimeZone::get("Europe/London").unwrap();
    let later = later_day.at(9, 0, 0, 0).to_zoned(zone).unwrap().timestamp().to_string();
    let booked = app
        .json(
            "POST",
            "/admin/clinics/demo/appointments",
            Some(&slot.admin),
            json!({
                "booking_type_id": slot.booking_type, "provider_id": ids.amara, "location_id": ids.riverside, "starts_at": later,
                "patient": {"first_name": "Cy", "last_name": "Example", "date_of_birth": "1980-05-06", "mobile": "+447700900310", "email": ""}
            }),
        )
        .await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    let cy = booked.body["id"].as_str().unwrap().to_owned();
    let mut manage = None;
    for _ in 0..200 {
        app.settle().await;
        manage = outbox(app).await.into_iter().find_map(|message| {
            let body = message["body"].as_str().unwrap_or_default();
            (message["to"] == "+447700900310" && body.contains("/manage/")).then(|| {
                let url = body.split_whitespace().find(|word| word.contains("/manage/")).unwrap();
                format!("/manage/{}", url.rsplit('/').next().unwrap())
            })
        });
        if manage.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let manage = manage.expect("Cy's confirmation with a manage link");

    let (status, overview) = post_page(app, &manage, &[("action", "verify"), ("date_of_birth", "1980-05-06")]).await;
    assert_eq!(status, 200, "{overview}");
    assert!(overview.contains("Tell me if an earlier time frees up"), "{overview}");
    let grant = grant_in(&overview);
    let (status, form) = post_page(app, &manage, &[("action", "waitlist"), ("grant", &grant)]).await;
    assert_eq!(status, 200, "{form}");
    let day_before = later_day.yesterday().unwrap().to_string();
    assert!(form.contains(&format!("name=\"to\" value=\"{day_before}\"")), "the range ends the day before: {form}");
    // A range reaching the appointment's own day is refused, naming the field.
    let fields = |to: &str| {
        vec![
            ("action", "join_waitlist".to_owned()),
            ("grant", grant.clone()),
            ("from", slot.day.clone()),
            ("to", to.to_owned()),
            ("part", "any".to_owned()),
            ("with", "any".to_owned()),
        ]
    };
    let too_late = fields(&later_day.to_string());
    let too_late: Vec<(&str, &str)> = too_late.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let (status, refused) = post_page(app, &manage, &too_late).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.contains("must be before your appointment"), "{refused}");
    let good = fields(&day_before);
    let good: Vec<(&str, &str)> = good.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let (status, joined) = post_page(app, &manage, &good).await;
    assert_eq!(status, 201, "{joined}");
    assert!(joined.contains("You keep your appointment"), "{joined}");
    let list = app.get("/admin/clinics/demo/waitlist", Some(&slot.admin)).await.body;
    assert_eq!(list["items"][0]["moves_appointment_id"], cy.as_str(), "{list:#?}");
    assert_eq!(list["items"][0]["patient_name"], "Cy Example");
    // Joining again (a double submit) keeps the one entry.
    let (status, _) = post_page(app, &manage, &good).await;
    assert_eq!(status, 201);
    let list = app.get("/admin/clinics/demo/waitlist", Some(&slot.admin)).await.body;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list:#?}");
    (slot, cy)
}

#[tokio::test]
async fn a_patient_asks_from_the_manage_page_for_an_earlier_time_and_taking_it_moves_their_appointment() {
    let app = TestApp::spawn().await;
    let (slot, cy) = cy_waits_for_an_earlier_time(&app).await;
    let later_day = slot.day.parse::<jiff::civil::Date>().unwrap().checked_add(jiff::Span::new().days(7)).unwrap();
    // Bea's earlier time is cancelled: Cy is offered it and takes it; their appointment moves.
    cancel(&app, &slot).await;
    let token = eventually_offer(&app, "+447700900310").await;
    let (status, taken) = post_page(&app, &format!("/waitlist/{token}"), &[("action", "accept"), ("lang", "en")]).await;
    assert_eq!(status, 200, "{taken}");
    let moved = booked_at(&app, &slot).await;
    assert_eq!(moved.len(), 1, "{moved:#?}");
    assert_eq!(moved[0]["id"], cy.as_str(), "the offer booked a second appointment instead of moving Cy's");
    let later_diary =
        app.get(&format!("/admin/clinics/demo/appointments?date={later_day}"), Some(&slot.admin)).await.body;
    let still_later = later_diary["items"].as_array().unwrap().iter().filter(|item| item["status"] == "booked").count();
    assert_eq!(still_later, 0, "Cy's later time is still taken: {later_diary:#?}");
}

#[tokio::test]
async fn an_earlier_time_offer_for_a_cancelled_appointment_no_longer_applies_and_books_nothing() {
    let app = TestApp::spawn().await;
    let (slot, cy) = cy_waits_for_an_earlier_time(&app).await;
    // Cy cancels (through staff here); then Bea's time frees and the offer still reaches Cy.
    let cancelled = app
        .json(
            "PATCH",
            &format!("/admin/clinics/demo/appointments/{cy}"),
            Some(&slot.admin),
            json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    cancel(&app, &slot).await;
    let token = eventually_offer(&app, "+447700900310").await;
    let (status, page) = post_page(&app, &format!("/waitlist/{token}"), &[("action", "accept"), ("lang", "en")]).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("This offer no longer applies"), "{page}");
    assert!(booked_at(&app, &slot).await.is_empty(), "a cancelled appointment's waitlist entry booked a new one");
    let list = app.get("/admin/clinics/demo/waitlist", Some(&slot.admin)).await.body;
    assert_eq!(list["items"][0]["status"]["state"], "removed", "{list:#?}");
}

#[tokio::test]
async fn staff_change_what_suits_a_waiting_patient_only_from_the_version_they_read() {
    let app = TestApp::spawn().await;
    let slot = one_booked_slot(&app).await;
    let added = app
        .json(
            "POST",
            "/admin/clinics/demo/waitlist",
            Some(&slot.admin),
            json!({
                "preferences": {"booking_type_id": slot.booking_type, "from": slot.day, "to": slot.day},
                "patient": {"first_name": "Vi", "last_name": "Example", "date_of_birth": "1991-03-04", "mobile": "+447700900304", "email": ""}
            }),
        )
        .await;
    assert_eq!((added.status, &added.body["version"]), (201, &json!(1)), "{:?}", added.body);
    let path = format!("/admin/clinics/demo/waitlist/{}/preferences", added.body["id"].as_str().unwrap());
    let wider =
        json!({"booking_type_id": slot.booking_type, "from": slot.day, "to": slot.day, "time_of_day": "morning"});
    let body = serde_json::to_vec(&wider).unwrap();
    let stale = app.call_if_match("PUT", &path, Some(&slot.admin), Some(body.clone()), Some("\"5\"")).await;
    assert_eq!(stale.status, 412, "{:?}", stale.body);
    let changed = app.call_if_match("PUT", &path, Some(&slot.admin), Some(body.clone()), Some("\"1\"")).await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!((changed.body["version"].as_u64(), changed.etag.as_deref()), (Some(2), Some("\"2\"")));
    assert_eq!(changed.body["preferences"]["time_of_day"], "morning");
    let again = app.call_if_match("PUT", &path, Some(&slot.admin), Some(body), Some("\"1\"")).await;
    assert_eq!(again.status, 412, "a second change from the same read is refused");
}
