//! Online services with access rules and patient identification, through the portal API:
//! eligible and ineligible visitors see different services, the rules are checked again at
//! booking, identified visitors' bookings attach to their record, the others carry provisional
//! details until staff attach them, and nothing tells a visitor whether someone else is a
//! patient.

use clinic_shared::features::audit_trail;
use clinic_shared::store::Query;
use clinic_tests::{Answer, TestApp};
use serde_json::{Value, json};

pub(crate) struct Setup {
    pub(crate) open: String,
    pub(crate) registered: String,
    pub(crate) women_over_50: String,
    pub(crate) new_patients: String,
    pub(crate) gp15: String,
}

pub(crate) async fn setup(app: &TestApp, admin: &str) -> Setup {
    let gp15 = app.demo_ids(admin).await.gp15;
    let service = |name: &str, rules: Value| {
        let body = json!({"name": name, "booking_type_ids": [gp15], "rules": rules});
        async move {
            let created = app.json("POST", "/admin/clinics/demo/online-services", Some(admin), body).await;
            assert_eq!(created.status, 201, "{:?}", created.body);
            created.body["id"].as_str().unwrap().to_owned()
        }
    };
    let setup = Setup {
        open: service("Open to all", json!([])).await,
        registered: service("Registered patients", json!([{"kind": "existing_patients_only"}])).await,
        women_over_50: service(
            "Women over 50 in SW1",
            json!([{"kind": "sex", "allowed": ["female"]}, {"kind": "age_range", "min_years": 50, "max_years": null}, {"kind": "postcode_prefix", "prefixes": ["SW1"]}]),
        )
        .await,
        new_patients: service("New patients", json!([{"kind": "new_patients_only"}])).await,
        gp15: gp15.clone(),
    };
    let added = app
        .json("POST", "/admin/clinics/demo/patients", Some(admin), json!({
            "reference": "MRN-A1",
            "patient": {"first_name": "Zoë", "last_name": "O'Brien", "date_of_birth": "1970-03-04", "mobile": "+447700900170", "email": "zoe@example.com"},
            "profile": {"sex": "female", "postcode": "SW1A 1AA"}
        }))
        .await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    setup
}

fn visitor(first: &str, last: &str, born: &str, mobile: &str, email: &str) -> Value {
    json!({"patient": {"first_name": first, "last_name": last, "date_of_birth": born, "mobile": mobile, "email": email}})
}

fn zoe() -> Value {
    // Case, accents and apostrophe differ from the record; still her.
    visitor("ZOE", "o’brien", "1970-03-04", "+447700900170", "other@example.com")
}

fn stranger() -> Value {
    visitor("Alex", "Example", "1985-06-07", "+447700900171", "alex@example.com")
}

async fn services(app: &TestApp, visitor: &Value) -> Answer {
    app.json("POST", "/public/clinics/demo/portal/services", None, visitor.clone()).await
}

fn names(answer: &Answer) -> Vec<String> {
    answer.body["services"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_owned()).collect()
}

async fn availability(app: &TestApp, visitor: &Value, service: &str, booking_type: &str) -> Answer {
    app.json(
        "POST",
        "/public/clinics/demo/portal/availability",
        None,
        json!({"visitor": visitor, "service_id": service, "booking_type_id": booking_type}),
    )
    .await
}

async fn book(app: &TestApp, visitor: &Value, service: &str, booking_type: &str, starts_at: &Value) -> Answer {
    app.json(
        "POST",
        "/public/clinics/demo/portal/bookings",
        None,
        json!({"visitor": visitor, "service_id": service, "booking_type_id": booking_type, "starts_at": starts_at}),
    )
    .await
}

async fn in_diary(app: &TestApp, admin: &str, booked: &Answer) -> Value {
    let day = &booked.body["starts_at"].as_str().unwrap()[..10];
    let diary = app.get(&format!("/admin/clinics/demo/appointments?date={day}"), Some(admin)).await;
    diary.body["items"].as_array().unwrap().iter().find(|a| a["id"] == booked.body["appointment_id"]).unwrap().clone()
}

#[tokio::test]
async fn eligible_and_ineligible_visitors_see_different_services_and_rules_are_checked_again_at_booking() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let setup = setup(&app, &admin).await;
    assert_eq!(names(&services(&app, &zoe()).await), ["Open to all", "Registered patients", "Women over 50 in SW1"]);
    assert_eq!(names(&services(&app, &stranger()).await), ["New patients", "Open to all"]);

    // A stranger who knows a service id still cannot see its slots or book it.
    let refused = availability(&app, &stranger(), &setup.registered, &setup.gp15).await;
    assert_eq!(refused.status, 404);
    let slots = availability(&app, &zoe(), &setup.registered, &setup.gp15).await;
    assert_eq!(slots.status, 200, "{:?}", slots.body);
    let slot = slots.body["slots"][0]["starts_at"].clone();
    let refused = book(&app, &stranger(), &setup.registered, &setup.gp15, &slot).await;
    assert_eq!(refused.status, 404, "the booking write checks the rules again");
    // Claiming a sex and postcode does not make a 41-year-old over 50.
    let mut claims = stranger();
    claims["sex"] = json!("female");
    claims["postcode"] = json!("SW1A 2AA");
    assert_eq!(book(&app, &claims, &setup.women_over_50, &setup.gp15, &slot).await.status, 404);
    assert_eq!(book(&app, &zoe(), &setup.new_patients, &setup.gp15, &slot).await.status, 404);

    let booked = book(&app, &zoe(), &setup.women_over_50, &setup.gp15, &slot).await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    let appointment = in_diary(&app, &admin, &booked).await;
    assert_eq!(appointment["patient_reference"], "MRN-A1");
    // The portal booking is confirmed like every other: SMS and email with a manage link.
    app.settle().await;
    let outbox = app.get("/_local/outbox", None).await.body["messages"].as_array().unwrap().clone();
    for channel in ["sms", "email"] {
        let to = &appointment[if channel == "sms" { "patient_mobile" } else { "patient_email" }];
        assert!(
            outbox
                .iter()
                .any(|m| m["channel"] == channel && m["to"] == *to && m["body"].as_str().unwrap().contains("/manage/")),
            "no {channel} confirmation for the portal booking"
        );
    }
    assert_eq!(appointment["provisional"], false);
    assert_eq!(appointment["patient_name"], "Zoë O'Brien", "the record's details, not what was typed");
    assert_eq!(appointment["channel"], "online");
}

#[tokio::test]
async fn a_new_service_opens_already_scheduled_slots_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let setup = setup(&app, &admin).await;
    let nurse = app.get("/admin/clinics/demo/booking-types?limit=100", Some(&admin)).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["short_name"] == "NURSE20")
        .unwrap()["id"]
        .clone();
    assert!(!services(&app, &stranger()).await.body.to_string().contains("Nurse clinic"));
    let created = app
        .json(
            "POST",
            "/admin/clinics/demo/online-services",
            Some(&admin),
            json!({"name": "Nurse clinic", "booking_type_ids": [nurse]}),
        )
        .await;
    let service = created.body["id"].as_str().unwrap();
    let slots = availability(&app, &stranger(), service, nurse.as_str().unwrap()).await;
    assert_eq!(slots.status, 200);
    assert!(!slots.body["slots"].as_array().unwrap().is_empty(), "the templates' slots are bookable at once");
    assert_eq!(
        availability(&app, &stranger(), &setup.open, nurse.as_str().unwrap()).await.problem_fields(),
        ["booking_type_id"]
    );
}

#[tokio::test]
async fn an_unidentified_visitor_books_with_provisional_details_and_staff_attach_the_record() {
    let (app, store) = TestApp::spawn_with_store().await;
    let admin = app.demo_admin();
    let setup = setup(&app, &admin).await;
    // Zoë's name and birth date with another contact is not Zoë: she is a stranger here, and
    // the answers are exactly a stranger's.
    let impostor = visitor("Zoë", "O'Brien", "1970-03-04", "+447700900199", "not-zoe@example.com");
    assert_eq!(services(&app, &impostor).await.body, services(&app, &stranger()).await.body);
    let slots = availability(&app, &impostor, &setup.open, &setup.gp15).await;
    let booked = book(&app, &impostor, &setup.open, &setup.gp15, &slots.body["slots"][0]["starts_at"]).await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    // Another time (two clinicians can be free at the same time; Zoë cannot be in both).
    let other = slots.body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|slot| slot["starts_at"] != slots.body["slots"][0]["starts_at"])
        .unwrap()["starts_at"]
        .clone();
    let identified = book(&app, &zoe(), &setup.open, &setup.gp15, &other).await;
    let keys = |answer: &Answer| answer.body.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&booked), keys(&identified), "the confirmation does not say who was recognised");

    let appointment = in_diary(&app, &admin, &booked).await;
    assert_eq!(appointment["provisional"], true, "flagged for staff");
    assert!(appointment["patient_reference"].is_null());
    assert_eq!(appointment["patient_mobile"], "+447700900199", "the provisional details are kept");
    let id = appointment["id"].as_str().unwrap();
    let path = format!("/admin/clinics/demo/appointments/{id}/attach-patient");
    assert_eq!(
        app.json("POST", &path, Some(&admin), json!({"patient_reference": "MRN-NOPE"})).await.problem_fields(),
        ["patient_reference"]
    );
    let attached = app.json("POST", &path, Some(&admin), json!({"patient_reference": "MRN-A1"})).await;
    assert_eq!(attached.status, 200, "{:?}", attached.body);
    assert_eq!(attached.body["provisional"], false);
    assert_eq!(attached.body["patient_reference"], "MRN-A1");
    assert_eq!(attached.body["patient_mobile"], "+447700900170");
    assert_eq!(
        app.json("POST", &path, Some(&admin), json!({"patient_reference": "MRN-A1"})).await.status,
        409,
        "already attached"
    );
    let clinic = clinic_shared::domain::clinic::ClinicId::parse("demo").unwrap();
    let (history, _) =
        audit_trail::history(store.as_ref(), &clinic, &format!("appointment/{id}"), Query::prefix("", "").limit(10))
            .await
            .unwrap();
    let actions: Vec<&str> = history.iter().map(|record| record.action.as_str()).collect();
    assert_eq!(actions, ["appointment.booked", "appointment.patient_attached"]);
    assert_eq!(history[1].actor, "staff-demo");
}

#[tokio::test]
async fn bad_portal_input_names_the_field_and_a_closed_portal_offers_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let setup = setup(&app, &admin).await;
    let bad = visitor("", "Example", "2999-01-01", "07700", "nope");
    assert_eq!(
        services(&app, &bad).await.problem_fields(),
        [
            "visitor.patient.first_name",
            "visitor.patient.date_of_birth",
            "visitor.patient.mobile",
            "visitor.patient.email"
        ]
    );
    assert_eq!(availability(&app, &stranger(), "not-an-id", &setup.gp15).await.problem_fields(), ["service_id"]);
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(availability(&app, &stranger(), &unknown, &setup.gp15).await.status, 404);
    let answer = app
        .json(
            "POST",
            "/public/clinics/demo/portal/bookings",
            None,
            json!({"visitor": stranger(), "service_id": setup.open, "booking_type_id": setup.gp15}),
        )
        .await;
    assert_eq!(answer.problem_fields(), ["starts_at"]);
    let answer = book(&app, &stranger(), &setup.open, &setup.gp15, &json!("2026-11-22T03:00:00Z")).await;
    assert_eq!(answer.problem_fields(), ["starts_at"]);
    let answer = app
        .json(
            "POST",
            "/admin/clinics/demo/online-services",
            Some(&admin),
            json!({"name": "X", "booking_type_ids": [unknown], "rules": [{"kind": "sex", "allowed": []}]}),
        )
        .await;
    assert_eq!(answer.problem_fields(), ["rules[0]"]);
    let answer = app
        .json(
            "POST",
            "/admin/clinics/demo/online-services",
            Some(&admin),
            json!({"name": "X", "booking_type_ids": [unknown]}),
        )
        .await;
    assert_eq!(answer.problem_fields(), ["booking_type_ids[0]"]);
    let off = app
        .json("PUT", "/admin/clinics/demo/online-settings", Some(&admin), json!({"online_booking_enabled": false}))
        .await;
    assert_eq!(off.status, 200);
    assert_eq!(services(&app, &zoe()).await.status, 404);
}

#[tokio::test]
async fn the_portal_pages_escape_what_admins_and_visitors_type() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let setup = setup(&app, &admin).await;
    let script = "<script>alert('x')</script>";
    let created = app
        .json(
            "POST",
            "/admin/clinics/demo/online-services",
            Some(&admin),
            json!({"name": format!("Care {script}"), "description": format!("For {script}"), "booking_type_ids": [setup.gp15]}),
        )
        .await;
    assert_eq!(created.status, 201);
    let form = String::from(
        "action=identify&first_name=%3Cscript%3Ealert(1)%3C%2Fscript%3E&last_name=Example&date_of_birth=1985-06-07&mobile=%2B447700900171&email=alex%40example.com&postcode=%22%3E%3Cimg%3E",
    );
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let identified = client
        .post(app.url("/portal/demo"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(identified.status().as_u16(), 303);
    let cookie = identified.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let response = client.get(app.url("/portal/demo")).header("cookie", cookie).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Care &lt;script&gt;") && page.contains("For &lt;script&gt;"),
        "the service is listed, escaped"
    );
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; Example"), "the visitor's name is shown, escaped");
    assert!(!page.contains("<script>alert") && !page.contains("<img>"), "{page}");
}

#[tokio::test]
async fn a_visitor_not_identified_continues_only_with_services_that_set_no_rule() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    setup(&app, &admin).await;
    // A woman over 50 in SW1 by what she types, but not a patient of the clinic: seed 001 lets
    // her continue only where no access rule is set (or the rule is "new patients only").
    let mut typed = visitor("Ann", "Example", "1960-01-01", "+447700900172", "ann@example.com");
    typed["sex"] = json!("female");
    typed["postcode"] = json!("SW1A 2AA");
    assert_eq!(names(&services(&app, &typed).await), ["New patients", "Open to all"]);
    // Zoë, identified, is admitted by her record.
    let zoe = names(&services(&app, &zoe()).await);
    assert!(
        zoe.contains(&"Women over 50 in SW1".to_owned()) && zoe.contains(&"Registered patients".to_owned()),
        "{zoe:?}"
    );
}

#[tokio::test]
async fn staff_replace_and_delete_a_service_and_visitors_see_it_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let setup = setup(&app, &admin).await;
    let path = format!("/admin/clinics/demo/online-services/{}", setup.open);
    // Renamed, and now only for registered patients: a stranger no longer sees it.
    let body = json!({"name": "Open to patients", "name_fr": "Ouvert aux patients", "booking_type_ids": [setup.gp15], "rules": [{"kind": "existing_patients_only"}]});
    let replaced = app.json("PUT", &path, Some(&admin), body.clone()).await;
    assert_eq!(replaced.status, 200, "{:?}", replaced.body);
    assert_eq!(replaced.body["id"], setup.open.as_str());
    assert_eq!(names(&services(&app, &stranger()).await), ["New patients"]);
    assert!(names(&services(&app, &zoe()).await).contains(&"Open to patients".to_owned()));
    // A booking type that does not exist is named; nothing changes.
    let mut dangling = body.clone();
    dangling["booking_type_ids"] = json!([uuid::Uuid::new_v4().to_string()]);
    let refused = app.json("PUT", &path, Some(&admin), dangling).await;
    assert_eq!((refused.status, refused.problem_fields()), (422, vec!["booking_type_ids[0]".to_owned()]));
    let nurse = app.token("nurse", &["demo"], &[clinic_shared::domain::access::Permission::CatalogRead]);
    assert_eq!(app.json("PUT", &path, Some(&nurse), body.clone()).await.status, 403);

    let deleted = app.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!(deleted.status, 204);
    assert!(!names(&services(&app, &zoe()).await).contains(&"Open to patients".to_owned()));
    assert_eq!(app.call("DELETE", &path, Some(&admin), None).await.status, 404);
    assert_eq!(app.json("PUT", &path, Some(&admin), body).await.status, 404);
    let bad = app.call("DELETE", "/admin/clinics/demo/online-services/not-an-id", Some(&admin), None).await;
    assert_eq!((bad.status, bad.problem_fields()), (400, vec!["serviceId".to_owned()]));
}
