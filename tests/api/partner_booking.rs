//! Partner booking on the local server: permissions, services activated per partner, the hold
//! (one winner among concurrent holds, lapsing with the clock), patients found or added with a
//! duplicate warning, the confirmation flagged for statistics, and statistics that match a
//! generated history of 1,000 bookings exactly.

use std::collections::BTreeMap;

use clinic_shared::clock::Clock;
use clinic_shared::domain::access::Permission;
use clinic_tests::{Answer, TestApp};
use serde_json::{Value, json};

use crate::self_booking::{self, booking};

async fn create_partner(app: &TestApp, token: &str, id: &str, services: &[&str]) {
    let created = app
        .json(
            "POST",
            "/admin/clinics/demo/partners",
            Some(token),
            json!({"id": id, "name": format!("Partner {id}"), "contact": {"email": "desk@example.com"}, "activated_booking_type_ids": services}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
}

async fn slots(app: &TestApp, token: &str, query: &str) -> Answer {
    app.get(&format!("/admin/clinics/demo/partner-booking/slots?{query}"), Some(token)).await
}

async fn hold(app: &TestApp, token: &str, partner: &str, booking_type: &str, slot: &Value) -> Answer {
    app.json(
        "POST",
        "/admin/clinics/demo/partner-holds",
        Some(token),
        json!({"partner_id": partner, "booking_type_id": booking_type, "provider_id": slot["provider_id"], "location_id": slot["location_id"], "starts_at": slot["starts_at"]}),
    )
    .await
}

async fn add_patient(app: &TestApp, token: &str, reference: &str, first: &str, born: &str) -> Answer {
    app.json(
        "POST",
        "/admin/clinics/demo/patients",
        Some(token),
        json!({"reference": reference, "patient": {"first_name": first, "last_name": "Example", "date_of_birth": born, "mobile": "+447700900140", "email": "patient@example.com"}}),
    )
    .await
}

async fn confirm(app: &TestApp, token: &str, hold_id: &str, reference: &str) -> Answer {
    app.json(
        "POST",
        &format!("/admin/clinics/demo/partner-holds/{hold_id}/confirm"),
        Some(token),
        json!({"patient_reference": reference}),
    )
    .await
}

fn starts(slots: &Answer) -> Vec<String> {
    slots.body["slots"].as_array().unwrap().iter().map(|slot| slot["starts_at"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_partner_booking_goes_from_qualification_to_confirmation_and_is_flagged() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    create_partner(&app, &admin, "acme", &[&demo.gp15]).await;

    let offer = app.get("/admin/clinics/demo/partner-booking?partner_id=acme", Some(&admin)).await;
    assert_eq!(offer.status, 200, "{:?}", offer.body);
    assert_eq!(offer.body["services"].as_array().unwrap().len(), 1, "only the activated service");
    assert_eq!(offer.body["qualifications"], json!(["Cardiology", "General practice"]));
    let cardiology =
        app.get("/admin/clinics/demo/partner-booking?partner_id=acme&qualification=cardiology", Some(&admin)).await;
    let providers: Vec<&str> =
        cardiology.body["providers"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(providers, ["Dr Tom Lindqvist"]);

    let free =
        slots(&app, &admin, &format!("partner_id=acme&booking_type_id={}&qualification=Cardiology", demo.gp15)).await;
    assert_eq!(free.status, 200, "{:?}", free.body);
    let slot = free.body["slots"][0].clone();
    assert_eq!(slot["provider_id"], demo.tom);
    let held = hold(&app, &admin, "acme", &demo.gp15, &slot).await;
    assert_eq!(held.status, 201, "{:?}", held.body);
    // A held slot is offered to no one: not to partners, not to patients online.
    let again =
        slots(&app, &admin, &format!("partner_id=acme&booking_type_id={}&provider_id={}", demo.gp15, demo.tom)).await;
    assert!(!starts(&again).contains(&slot["starts_at"].as_str().unwrap().to_owned()));
    let day = &slot["starts_at"].as_str().unwrap()[..10];
    let online = self_booking::slots(
        &app,
        &format!("booking_type_id={}&provider_id={}&from={day}&to={day}", demo.gp15, demo.tom),
    )
    .await;
    assert!(online.iter().all(|s| s["starts_at"] != slot["starts_at"]), "the held slot is offered online");

    // Find or add the patient: a near duplicate is warned about, then found by name.
    assert_eq!(add_patient(&app, &admin, "MRN-P1", "Zoë", "1981-04-05").await.status, 201);
    let duplicate = add_patient(&app, &admin, "MRN-P2", "zoe", "1981-04-05").await;
    assert_eq!(duplicate.status, 409);
    assert!(duplicate.body["detail"].as_str().unwrap().contains("MRN-P1"), "{:?}", duplicate.body);
    let found = app.get("/admin/clinics/demo/patients?search=ZOE%20example", Some(&admin)).await;
    assert_eq!(found.body["items"][0]["reference"], "MRN-P1");

    let booked = confirm(&app, &admin, held.body["id"].as_str().unwrap(), "MRN-P1").await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    // A partner booking is confirmed to the patient like every other (unless `notify` is false).
    app.settle().await;
    let outbox = app.get("/_local/outbox", None).await.body["messages"].as_array().unwrap().clone();
    assert!(
        outbox.iter().any(|m| m["to"] == "+447700900140" && m["body"].as_str().unwrap().contains("is booked")),
        "no confirmation SMS for the partner booking"
    );
    assert!(outbox.iter().any(|m| m["to"] == "patient@example.com" && m["invite"]["method"] == "REQUEST"));
    assert_eq!(booked.body["channel"], "partner");
    assert_eq!(booked.body["partner_id"], "acme");
    assert_eq!(booked.body["patient_name"], "Zoë Example");
    let diary =
        app.get(&format!("/admin/clinics/demo/appointments?date={day}&provider_id={}", demo.tom), Some(&admin)).await;
    let listed = diary.body["items"].as_array().unwrap().iter().find(|a| a["id"] == booked.body["id"]).unwrap().clone();
    assert_eq!((listed["channel"].as_str(), listed["partner_id"].as_str()), (Some("partner"), Some("acme")));
    // The hold is used up; confirming it again is refused.
    assert_eq!(confirm(&app, &admin, held.body["id"].as_str().unwrap(), "MRN-P1").await.status, 410);
}

#[tokio::test]
async fn permissions_and_activation_decide_who_books_what_for_whom() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    create_partner(&app, &admin, "acme", &[&demo.gp15]).await;
    create_partner(&app, &admin, "globex", &[&demo.nurse20]).await;
    let offer = "/admin/clinics/demo/partner-booking?partner_id=acme";

    let diary_only = app.token("staff-diary", &["demo"], &[Permission::DiaryRead, Permission::DiaryWrite]);
    assert_eq!(app.get(offer, Some(&diary_only)).await.status, 403);
    assert_eq!(app.get(offer, None).await.status, 401);
    let elsewhere = app.token("staff-north", &["north"], &Permission::ALL);
    assert_eq!(app.get(offer, Some(&elsewhere)).await.status, 403);
    let booker = app.token("booker", &["demo"], &[Permission::PartnerBook]);
    assert_eq!(app.get(offer, Some(&booker)).await.status, 200);
    let answer = app.json("POST", "/admin/clinics/demo/partners", Some(&booker), json!({"id": "x", "name": "X"})).await;
    assert_eq!(answer.status, 403, "partner bookers do not set up partners");

    // A partner's own user acts for that partner only.
    let acme_user = app.partner_user_token("acme-user", "acme");
    assert_eq!(app.get(offer, Some(&acme_user)).await.status, 200);
    assert_eq!(app.get("/admin/clinics/demo/partner-booking?partner_id=globex", Some(&acme_user)).await.status, 403);
    let listed = app.get("/admin/clinics/demo/partners", Some(&acme_user)).await;
    let ids: Vec<&str> = listed.body["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["acme"]);

    // A service not activated for the partner cannot be seen or held for it.
    let refused = slots(&app, &admin, &format!("partner_id=acme&booking_type_id={}", demo.nurse20)).await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.problem_fields(), ["booking_type_id"]);
    let nurse = slots(&app, &admin, &format!("partner_id=globex&booking_type_id={}", demo.nurse20)).await;
    let slot = nurse.body["slots"][0].clone();
    assert_eq!(slot["provider_id"], demo.sam);
    let refused = hold(&app, &admin, "acme", &demo.nurse20, &slot).await;
    assert_eq!(refused.problem_fields(), ["booking_type_id"]);
    let refused = hold(&app, &acme_user, "globex", &demo.nurse20, &slot).await;
    assert_eq!(refused.status, 403);
    // A time that is not a diary slot, and an unknown partner, are named.
    let mut off_grid = slot.clone();
    off_grid["starts_at"] = json!("2026-11-22T03:00:00Z");
    assert_eq!(hold(&app, &admin, "globex", &demo.nurse20, &off_grid).await.problem_fields(), ["starts_at"]);
    assert_eq!(hold(&app, &admin, "nobody", &demo.nurse20, &slot).await.problem_fields(), ["partner_id"]);
    let held = hold(&app, &admin, "globex", &demo.nurse20, &slot).await;
    assert_eq!(held.status, 201);
    // The partner's user cannot confirm or release another partner's hold, nor browse patients.
    let id = held.body["id"].as_str().unwrap();
    assert_eq!(confirm(&app, &acme_user, id, "MRN-1").await.status, 403);
    assert_eq!(
        app.call("DELETE", &format!("/admin/clinics/demo/partner-holds/{id}"), Some(&acme_user), None).await.status,
        403
    );
    assert_eq!(add_patient(&app, &admin, "MRN-Q1", "Quinn", "1970-01-02").await.status, 201);
    let browse = app.get("/admin/clinics/demo/patients?search=quinn", Some(&acme_user)).await;
    assert_eq!(browse.body["items"], json!([]), "a partner's user cannot browse by part of a name");
    let exact =
        app.get("/admin/clinics/demo/patients?search=Quinn%20Example&date_of_birth=1970-01-02", Some(&acme_user)).await;
    assert_eq!(exact.body["items"][0]["reference"], "MRN-Q1");
    assert_eq!(
        app.call("DELETE", &format!("/admin/clinics/demo/partner-holds/{id}"), Some(&admin), None).await.status,
        204
    );
    let back =
        slots(&app, &admin, &format!("partner_id=globex&booking_type_id={}&provider_id={}", demo.nurse20, demo.sam))
            .await;
    assert!(starts(&back).contains(&slot["starts_at"].as_str().unwrap().to_owned()), "a released slot is free again");
}

#[tokio::test]
async fn of_twenty_concurrent_holds_on_one_slot_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    create_partner(&app, &admin, "acme", &[&demo.gp15]).await;
    // A slot patients could also book online (the partner channel sees inside the online notice
    // too), so the end of the test can show that the hold keeps patients out.
    let online = self_booking::slots(&app, &format!("booking_type_id={}&provider_id={}", demo.gp15, demo.amara)).await;
    let free =
        slots(&app, &admin, &format!("partner_id=acme&booking_type_id={}&provider_id={}", demo.gp15, demo.amara)).await;
    let slot = free.body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|slot| slot["starts_at"] == online[0]["starts_at"])
        .expect("the first online slot is offered to partners too")
        .clone();
    let attempts: Vec<_> = (0..20)
        .map(|_| {
            let client = app.client.clone();
            let url = app.url("/admin/clinics/demo/partner-holds");
            let token = admin.clone();
            let body = json!({"partner_id": "acme", "booking_type_id": demo.gp15, "provider_id": slot["provider_id"], "location_id": slot["location_id"], "starts_at": slot["starts_at"]});
            tokio::spawn(async move {
                client.post(url).bearer_auth(token).json(&body).send().await.unwrap().status().as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 19, "{statuses:?}");
    // A patient cannot book the held slot online either.
    let body = booking(&demo.gp15, &demo.amara, &demo.riverside, slot["starts_at"].as_str().unwrap());
    assert_eq!(self_booking::book(&app, &body, None).await.status, 409);
}

#[tokio::test]
async fn a_hold_lapses_after_five_minutes_and_can_no_longer_be_confirmed() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    create_partner(&app, &admin, "acme", &[&demo.gp15]).await;
    assert_eq!(add_patient(&app, &admin, "MRN-L1", "Lee", "1990-09-09").await.status, 201);
    let query = format!("partner_id=acme&booking_type_id={}&provider_id={}", demo.gp15, demo.amara);
    let free = slots(&app, &admin, &query).await;
    // A slot an hour or more ahead: partners see slots from now, and the clock moves 5 minutes.
    let soon = app.server.clock.now() + jiff::SignedDuration::from_hours(1);
    let slot = free.body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|slot| slot["starts_at"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap() > soon)
        .expect("a free slot an hour ahead")
        .clone();
    let held = hold(&app, &admin, "acme", &demo.gp15, &slot).await;
    assert_eq!(held.status, 201);
    let lapses: jiff::Timestamp = held.body["held_until"].as_str().unwrap().parse().unwrap();
    let started: jiff::Timestamp = app.server.clock.now();
    assert!(lapses.duration_since(started) <= jiff::SignedDuration::from_mins(5));

    app.server.clock.advance(jiff::SignedDuration::from_mins(4));
    assert!(!starts(&slots(&app, &admin, &query).await).contains(&slot["starts_at"].as_str().unwrap().to_owned()));
    app.server.clock.advance(jiff::SignedDuration::from_secs(61));
    assert!(
        starts(&slots(&app, &admin, &query).await).contains(&slot["starts_at"].as_str().unwrap().to_owned()),
        "the lapsed hold freed its slot"
    );
    let late = confirm(&app, &admin, held.body["id"].as_str().unwrap(), "MRN-L1").await;
    assert_eq!(late.status, 410, "{:?}", late.body);
    // Someone else takes the slot; the lapsed hold still cannot claim it.
    let other = hold(&app, &admin, "acme", &demo.gp15, &slot).await;
    assert_eq!(other.status, 201);
    assert_eq!(confirm(&app, &admin, held.body["id"].as_str().unwrap(), "MRN-L1").await.status, 410);
    assert_eq!(confirm(&app, &admin, other.body["id"].as_str().unwrap(), "MRN-L1").await.status, 201);
}

/// A small deterministic generator, so the generated history is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

type Key = (String, String, String, String);

#[tokio::test]
async fn statistics_match_a_generated_history_of_a_thousand_bookings() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    create_partner(&app, &admin, "acme", &[&demo.gp15]).await;
    create_partner(&app, &admin, "globex", &[&demo.gp15, &demo.nurse20]).await;
    // One patient record per partner booking: a patient cannot hold two appointments at once.
    for index in 0..80 {
        assert_eq!(
            add_patient(&app, &admin, &format!("MRN-S{index}"), "Sam", &format!("{}-01-01", 1930 + index)).await.status,
            201
        );
    }
    let mut expected: BTreeMap<Key, [i64; 3]> = BTreeMap::new();
    let mut random = Lcg(7);
    let now = app.server.clock.now();
    let providers = [(&demo.amara, &demo.gp15), (&demo.tom, &demo.gp15), (&demo.sam, &demo.nurse20)];
    let locations = app.get("/admin/clinics/demo/locations", Some(&admin)).await.body;
    let location = locations["items"][0]["id"].as_str().unwrap().to_owned();
    let mut booked = 0;

    // 880 staff bookings in the past year, some then cancelled or marked no-show.
    for index in 0..880i64 {
        let (provider, booking_type) = providers[random.next(3) as usize];
        let starts_at = now - jiff::SignedDuration::from_hours(24 * 300) + jiff::SignedDuration::from_mins(30 * index);
        let starts_at =
            jiff::Timestamp::from_second(starts_at.as_second() - starts_at.as_second().rem_euclid(300)).unwrap();
        let answer = app
            .json("POST", "/admin/clinics/demo/appointments", Some(&admin), json!({
                "booking_type_id": booking_type, "provider_id": provider, "location_id": location,
                "starts_at": starts_at.to_string(), "patient": {"first_name": "Sam", "last_name": "Example", "date_of_birth": "1980-01-01", "mobile": "+447700900141", "email": "sam@example.com"}
            }))
            .await;
        assert_eq!(answer.status, 201, "{:?}", answer.body);
        booked += 1;
        let key: Key = ("staff".into(), String::new(), booking_type.clone(), provider.clone());
        expected.entry(key.clone()).or_default()[0] += 1;
        let outcome = random.next(10);
        if outcome < 2 {
            let status = if outcome == 0 { "cancelled" } else { "no_show" };
            let changed = app
                .json(
                    "PATCH",
                    &format!("/admin/clinics/demo/appointments/{}", answer.body["id"].as_str().unwrap()),
                    Some(&admin),
                    json!({"status": status}),
                )
                .await;
            assert_eq!(changed.status, 200, "{:?}", changed.body);
            expected.entry(key).or_default()[if outcome == 0 { 1 } else { 2 }] += 1;
        }
    }
    // 80 partner bookings for two partners, some cancelled.
    for index in 0..80 {
        let (partner, (provider, booking_type)) =
            if index % 2 == 0 { ("acme", providers[index / 2 % 2]) } else { ("globex", providers[2]) };
        let free =
            slots(&app, &admin, &format!("partner_id={partner}&booking_type_id={booking_type}&provider_id={provider}"))
                .await;
        let slot = free.body["slots"][0].clone();
        let held = hold(&app, &admin, partner, booking_type, &slot).await;
        assert_eq!(held.status, 201, "{:?}", held.body);
        let done = confirm(&app, &admin, held.body["id"].as_str().unwrap(), &format!("MRN-S{index}")).await;
        assert_eq!(done.status, 201, "{:?}", done.body);
        booked += 1;
        let key: Key = ("partner".into(), partner.into(), booking_type.clone(), provider.clone());
        expected.entry(key.clone()).or_default()[0] += 1;
        if random.next(4) == 0 {
            let id = done.body["id"].as_str().unwrap();
            let cancelled = app
                .json(
                    "PATCH",
                    &format!("/admin/clinics/demo/appointments/{id}"),
                    Some(&admin),
                    json!({"status": "cancelled"}),
                )
                .await;
            assert_eq!(cancelled.status, 200);
            expected.entry(key).or_default()[1] += 1;
        }
    }
    // 40 online bookings.
    for _ in 0..40 {
        let free =
            self_booking::slots(&app, &format!("booking_type_id={}&provider_id={}&asap=true", demo.gp15, demo.amara))
                .await;
        let body = booking(&demo.gp15, &demo.amara, "any", free[0]["starts_at"].as_str().unwrap());
        let answer = self_booking::book(&app, &body, None).await;
        assert_eq!(answer.status, 201, "{:?}", answer.body);
        booked += 1;
        expected.entry(("online".into(), String::new(), demo.gp15.clone(), demo.amara.clone())).or_default()[0] += 1;
    }
    assert_eq!(booked, 1000);

    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let range = format!("from={}&to={}", today.yesterday().unwrap(), today.tomorrow().unwrap());
    let report = app.get(&format!("/admin/clinics/demo/statistics?{range}"), Some(&admin)).await;
    assert_eq!(report.status, 200, "{:?}", report.body);
    let actual: BTreeMap<Key, [i64; 3]> = report.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let text = |name: &str| row[name].as_str().unwrap().to_owned();
            let count = |name: &str| row[name].as_i64().unwrap();
            (
                (text("channel"), text("partner_id"), text("booking_type_id"), text("provider_id")),
                [count("booked"), count("cancelled"), count("no_shows")],
            )
        })
        .collect();
    assert_eq!(actual, expected);

    // Grouped by partner only, and as CSV.
    let by_partner =
        app.get(&format!("/admin/clinics/demo/statistics?{range}&group_by=partner_id"), Some(&admin)).await;
    let acme: i64 = expected.iter().filter(|(key, _)| key.1 == "acme").map(|(_, counts)| counts[0]).sum();
    let row =
        by_partner.body["rows"].as_array().unwrap().iter().find(|row| row["partner_id"] == "acme").unwrap().clone();
    assert_eq!(row["booked"].as_i64(), Some(acme));
    assert!(row.get("channel").is_none(), "ungrouped dimensions are left out");
    let response = app
        .client
        .get(app.url(&format!("/admin/clinics/demo/statistics?{range}&group_by=channel&format=csv")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = response.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("channel,booked,cancelled,no_shows"));
    let total: i64 = lines.map(|line| line.split(',').nth(1).unwrap().parse::<i64>().unwrap()).sum();
    assert_eq!(total, 1000);
    // Names stand beside ids, in JSON and in the CSV, so a manager can read them as they are.
    let by_provider = app
        .get(&format!("/admin/clinics/demo/statistics?{range}&group_by=provider_id,booking_type_id"), Some(&admin))
        .await;
    let amara = by_provider.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["provider_id"] == demo.amara.as_str())
        .unwrap();
    assert_eq!(amara["provider"], json!({"id": demo.amara, "name": "Dr Amara Okafor"}));
    assert_eq!(amara["booking_type"]["name"], "GP consultation");
    let csv = app
        .client
        .get(app.url(&format!("/admin/clinics/demo/statistics?{range}&group_by=partner_id,provider_id&format=csv")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("partner_id,partner_name,provider_id,provider_name,booked,cancelled,no_shows"));
    assert!(csv.lines().any(|line| line.starts_with("acme,Partner acme,")), "{csv}");
    assert!(csv.lines().any(|line| line.contains(&format!(",{},Dr Amara Okafor,", demo.amara))), "{csv}");
    // Bad requests name the field.
    let bad = app
        .get("/admin/clinics/demo/statistics?from=2026-12-01&to=2026-11-01&group_by=doctor&format=xml", Some(&admin))
        .await;
    assert_eq!(bad.problem_fields(), ["group_by", "format", "from"]);
}

#[tokio::test]
async fn an_archived_partner_books_nothing_more_but_keeps_its_history() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    create_partner(&app, &admin, "acme", &[&demo.gp15]).await;
    // A hold taken before the archive books nothing after it.
    let free = slots(&app, &admin, &format!("partner_id=acme&booking_type_id={}", demo.gp15)).await;
    let slot = free.body["slots"][0].clone();
    let held = hold(&app, &admin, "acme", &demo.gp15, &slot).await;
    assert_eq!(held.status, 201, "{:?}", held.body);
    let stale =
        app.call_if_match("DELETE", "/admin/clinics/demo/partners/acme", Some(&admin), None, Some("\"5\"")).await;
    assert_eq!(stale.status, 412);
    let archived = app.call("DELETE", "/admin/clinics/demo/partners/acme", Some(&admin), None).await;
    assert_eq!(archived.status, 200, "{:?}", archived.body);
    assert!(archived.body["archived_at"].is_string());
    assert_eq!(app.call("DELETE", "/admin/clinics/demo/partners/acme", Some(&admin), None).await.status, 409);

    let listed = app.get("/admin/clinics/demo/partners", Some(&admin)).await;
    assert!(listed.body["items"].as_array().unwrap().is_empty(), "{:?}", listed.body);
    let shelved = app.get("/admin/clinics/demo/partners?archived=true", Some(&admin)).await;
    assert_eq!(shelved.body["items"][0]["id"], "acme");
    let offer = app.get("/admin/clinics/demo/partner-booking?partner_id=acme", Some(&admin)).await;
    assert_eq!(offer.problem_fields(), ["partner_id"]);
    let confirm = app
        .json(
            "POST",
            &format!("/admin/clinics/demo/partner-holds/{}/confirm", held.body["id"].as_str().unwrap()),
            Some(&admin),
            json!({"patient_reference": "MRN-1"}),
        )
        .await;
    assert_eq!(confirm.problem_fields(), ["partner_id"], "{:?}", confirm.body);
    let replace =
        json!({"name": "Acme", "contact": {"email": "desk@example.com"}, "activated_booking_type_ids": [demo.gp15]});
    assert_eq!(app.json("PUT", "/admin/clinics/demo/partners/acme", Some(&admin), replace).await.status, 409);
    let other = app.token("other", &["north"], &Permission::ALL);
    assert_eq!(app.call("DELETE", "/admin/clinics/demo/partners/acme", Some(&other), None).await.status, 403);
}
