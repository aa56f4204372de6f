//! Publication on a timetable, with the local server's injected clock: a session published
//! from a set instant, and one on a rolling window, open exactly on time, online and in the
//! staff diary's marks, with nothing run in between.

use clinic_shared::clock::Clock;
use clinic_tests::TestApp;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde_json::{Value, json};

/// A weekend session for Sam at Hillview (the seed has none there), with a publication rule.
async fn weekend_session(app: &TestApp, admin: &str, publication: Value) -> (String, String) {
    let ids = app.demo_ids(admin).await;
    let (bloods, sam, hillview) = (ids.bloods, ids.sam, ids.hillview);
    let created = app
        .json(
            "POST",
            "/admin/clinics/demo/diary-templates",
            Some(admin),
            json!({
                "provider_id": sam, "location_id": hillview, "weekdays": ["saturday", "sunday"],
                "start_time": "10:00", "end_time": "11:00", "slot_minutes": 10, "booking_type_ids": [bloods],
                "valid_from": "2026-01-01", "publication": publication
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    (bloods, sam)
}

async fn weekend_slots(app: &TestApp, bloods: &str, sam: &str) -> Vec<String> {
    let answer =
        app.get(&format!("/public/clinics/demo/availability?booking_type_id={bloods}&provider_id={sam}"), None).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|slot| slot["starts_at"].as_str().unwrap().to_owned())
        .filter(|start| {
            let day = start
                .parse::<Timestamp>()
                .unwrap()
                .to_zoned(jiff::tz::TimeZone::get("Europe/London").unwrap())
                .weekday();
            matches!(day, jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday)
        })
        .collect()
}

#[tokio::test]
async fn a_session_published_from_an_instant_opens_exactly_then() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let opens = app.server.clock.now() + SignedDuration::from_hours(3);
    let (bloods, sam) = weekend_session(&app, &admin, json!({"kind": "from", "at": opens.to_string()})).await;
    assert!(weekend_slots(&app, &bloods, &sam).await.is_empty(), "nothing before the instant");
    let day = app.server.clock.now().to_zoned(jiff::tz::TimeZone::get("Europe/London").unwrap()).date();
    // The coming Saturday, never today: today's slots may already be past (not offered).
    let saturday = (1..8).map(|n| day + n.days()).find(|d| d.weekday() == jiff::civil::Weekday::Saturday).unwrap();
    let marks =
        app.get(&format!("/admin/clinics/demo/diary-slots?date={saturday}&provider_id={sam}"), Some(&admin)).await;
    let first = &marks.body["items"][0];
    assert_eq!(first["online"], "not_yet_published", "{:?}", marks.body);
    assert_eq!(first["opens_at"].as_str().unwrap().parse::<Timestamp>().unwrap(), opens);

    app.server.clock.advance(SignedDuration::from_hours(3) - SignedDuration::from_secs(1));
    assert!(weekend_slots(&app, &bloods, &sam).await.is_empty(), "not a second early");
    app.server.clock.advance(SignedDuration::from_secs(1));
    assert!(!weekend_slots(&app, &bloods, &sam).await.is_empty(), "open on the instant");
    let marks =
        app.get(&format!("/admin/clinics/demo/diary-slots?date={saturday}&provider_id={sam}"), Some(&admin)).await;
    assert!(
        marks.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|slot| slot["online"] == "published" && slot["opens_at"].is_null())
    );
    // Published means bookable online: with the provider taken off online booking, nothing is.
    let off = app
        .json("PATCH", &format!("/admin/clinics/demo/providers/{sam}"), Some(&admin), json!({"enabled_online": false}))
        .await;
    assert_eq!(off.status, 200, "{:?}", off.body);
    let marks =
        app.get(&format!("/admin/clinics/demo/diary-slots?date={saturday}&provider_id={sam}"), Some(&admin)).await;
    assert!(
        marks.body["items"].as_array().unwrap().iter().all(|slot| slot["online"] == "not_offered"),
        "{:?}",
        marks.body
    );
    // And a day already past is not offered either.
    let yesterday =
        app.server.clock.now().to_zoned(jiff::tz::TimeZone::get("Europe/London").unwrap()).date() - 1.days();
    let past = app.get(&format!("/admin/clinics/demo/diary-slots?date={yesterday}"), Some(&admin)).await;
    assert!(
        past.body["items"].as_array().unwrap().iter().all(|slot| slot["online"] == "not_offered"),
        "{:?}",
        past.body
    );
}

#[tokio::test]
async fn a_rolling_window_opens_one_more_day_each_morning_and_booked_slots_are_marked() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let (bloods, sam) =
        weekend_session(&app, &admin, json!({"kind": "rolling", "days_ahead": 3, "at_local": "08:00"})).await;
    let london = jiff::tz::TimeZone::get("Europe/London").unwrap();
    // Move to the coming Wednesday 07:59 London time: Saturday opens on Wednesday at 08:00.
    let now = app.server.clock.now().to_zoned(london.clone());
    let wednesday =
        (1..8).map(|n| now.date() + n.days()).find(|d| d.weekday() == jiff::civil::Weekday::Wednesday).unwrap();
    let target = wednesday.at(7, 59, 0, 0).to_zoned(london.clone()).unwrap().timestamp();
    app.server.clock.advance(target.duration_since(app.server.clock.now()));
    let saturday = wednesday + 3.days();
    let on = |slots: &[String], day: jiff::civil::Date| {
        slots.iter().filter(|s| s.parse::<Timestamp>().unwrap().to_zoned(london.clone()).date() == day).count()
    };
    assert_eq!(on(&weekend_slots(&app, &bloods, &sam).await, saturday), 0);
    app.server.clock.advance(SignedDuration::from_mins(1));
    let open = weekend_slots(&app, &bloods, &sam).await;
    assert_eq!(on(&open, saturday), 6, "Saturday's six slots opened at 08:00");
    assert_eq!(on(&open, saturday + 1.days()), 0, "Sunday waits for Thursday");
    app.server.clock.advance(SignedDuration::from_hours(24));
    assert_eq!(on(&weekend_slots(&app, &bloods, &sam).await, saturday + 1.days()), 6);

    // A patient books one; the diary marks it booked online.
    let body = crate::self_booking::booking(&bloods, &sam, "any", &open[0]);
    assert_eq!(crate::self_booking::book(&app, &body, None).await.status, 201);
    let marks =
        app.get(&format!("/admin/clinics/demo/diary-slots?date={saturday}&provider_id={sam}"), Some(&admin)).await;
    let booked: Vec<&Value> =
        marks.body["items"].as_array().unwrap().iter().filter(|slot| !slot["appointment"].is_null()).collect();
    assert_eq!(booked.len(), 1);
    assert_eq!(booked[0]["appointment"]["booked_online"], true);
    assert_eq!(booked[0]["starts_at"], open[0].as_str());
}

#[tokio::test]
async fn a_bad_publication_rule_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let ids = app.demo_ids(&admin).await;
    let (bloods, sam, hillview) = (ids.bloods, ids.sam, ids.hillview);
    let answer = app
        .json("POST", "/admin/clinics/demo/diary-templates", Some(&admin), json!({
            "provider_id": sam, "location_id": hillview, "weekdays": ["saturday"], "start_time": "10:00", "end_time": "11:00",
            "slot_minutes": 10, "booking_type_ids": [bloods], "valid_from": "2026-01-01",
            "publication": {"kind": "rolling", "days_ahead": 0, "at_local": "08:00"}
        }))
        .await;
    assert_eq!(answer.problem_fields(), ["publication"]);
}

#[tokio::test]
async fn the_timetable_and_the_minimum_notice_govern_online_booking_only() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let opens = app.server.clock.now() + SignedDuration::from_hours(24 * 30);
    let (bloods, sam) = weekend_session(&app, &admin, json!({"kind": "from", "at": opens.to_string()})).await;
    assert!(weekend_slots(&app, &bloods, &sam).await.is_empty(), "online before the publication instant");
    // A partner (a staff-side channel) sees the same session's free slots now.
    let created = app
        .json(
            "POST",
            "/admin/clinics/demo/partners",
            Some(&admin),
            json!({"id": "acme", "name": "Acme", "contact": {"email": "desk@example.com"}, "activated_booking_type_ids": [bloods]}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let answer = app
        .get(
            &format!(
                "/admin/clinics/demo/partner-booking/slots?partner_id=acme&booking_type_id={bloods}&provider_id={sam}"
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let london = jiff::tz::TimeZone::get("Europe/London").unwrap();
    let weekend = answer.body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|slot| {
            let day =
                slot["starts_at"].as_str().unwrap().parse::<Timestamp>().unwrap().to_zoned(london.clone()).weekday();
            matches!(day, jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday)
        })
        .count();
    assert!(weekend > 0, "the partner channel follows the online timetable: {:?}", answer.body);
}
