//! What staff read from an API client: the clinic's profile, every patient record page by page
//! (a partner's user still cannot browse), and one record with its profile.

use clinic_shared::domain::access::Permission;
use clinic_tests::TestApp;
use serde_json::json;

#[tokio::test]
async fn staff_read_the_clinic_profile_and_page_through_patient_records() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let profile = app.get("/admin/clinics/demo", Some(&admin)).await;
    assert_eq!(profile.status, 200, "{:?}", profile.body);
    assert_eq!(profile.body["name"], "Riverside Family Practice");
    assert!(profile.body["version"].as_u64().unwrap() >= 1);
    let other = app.token("other", &["elsewhere"], &Permission::ALL);
    assert_eq!(app.get("/admin/clinics/demo", Some(&other)).await.status, 403);
    // An empty cursor (a client that always sends the parameter) reads the first page; a cursor
    // the API did not issue is refused naming the field.
    let first = app.get("/admin/clinics/demo/booking-types?cursor=&limit=2", Some(&admin)).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["items"].as_array().map(Vec::len), Some(2));
    let forged = app.get("/admin/clinics/demo/booking-types?cursor=not-ours", Some(&admin)).await;
    assert_eq!(forged.problem_fields(), ["cursor"]);

    for (reference, first, mobile) in
        [("MRN-P1", "Ada", "+447700900401"), ("MRN-P2", "Bea", "+447700900402"), ("MRN-P3", "Cy", "+447700900403")]
    {
        let body = json!({
            "reference": reference,
            "patient": {"first_name": first, "last_name": "Example", "date_of_birth": "1980-01-02", "mobile": mobile, "email": ""},
            "profile": {"postcode": "SW1A 1AA", "flags": ["diabetic-review"]}
        });
        assert_eq!(app.json("POST", "/admin/clinics/demo/patients", Some(&admin), body).await.status, 201);
    }
    let first = app.get("/admin/clinics/demo/patients?limit=2", Some(&admin)).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let cursor = first.body["next_cursor"].as_str().expect("a second page").to_owned();
    let second = app.get(&format!("/admin/clinics/demo/patients?limit=2&cursor={cursor}"), Some(&admin)).await;
    let references: Vec<&str> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second.body["items"].as_array().unwrap())
        .map(|item| item["reference"].as_str().unwrap())
        .collect();
    assert_eq!(references, ["MRN-P1", "MRN-P2", "MRN-P3"], "every record once, by reference");
    assert!(second.body["next_cursor"].is_null());
    let unknown = app.get("/admin/clinics/demo/patients?cursor=garbage", Some(&admin)).await;
    assert_eq!((unknown.status, unknown.problem_fields()), (422, vec!["cursor".to_owned()]));
    let malformed = app.get("/admin/clinics/demo/patients?cursor=a%2Fb&search=Example", Some(&admin)).await;
    assert_eq!((malformed.status, malformed.problem_fields()), (400, vec!["cursor".to_owned()]));

    let partner_user = app.partner_user_token("acme-user", "acme");
    let browse = app.get("/admin/clinics/demo/patients", Some(&partner_user)).await;
    assert_eq!((browse.status, browse.problem_fields()), (400, vec!["search".to_owned()]));

    let record = app.get("/admin/clinics/demo/patients/MRN-P2", Some(&admin)).await;
    assert_eq!(record.status, 200, "{:?}", record.body);
    assert_eq!(record.body["first_name"], "Bea");
    assert_eq!(record.body["profile"]["flags"], json!(["diabetic-review"]));
    assert_eq!(app.get("/admin/clinics/demo/patients/MRN-NONE", Some(&admin)).await.status, 404);
    assert_eq!(app.get("/admin/clinics/demo/patients/MRN-P2", Some(&partner_user)).await.status, 403);
}

#[tokio::test]
async fn the_diary_and_the_waitlist_name_the_booking_type_clinician_and_site_beside_their_ids() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    let tomorrow = clinic_shared::clock::Clock::now(app.server.clock.as_ref())
        .to_zoned(jiff::tz::TimeZone::get("Europe/London").unwrap())
        .date()
        .tomorrow()
        .unwrap();
    let slots = app
        .get(
            &format!(
                "/public/clinics/demo/availability?booking_type_id={}&provider_id={}&location_id=any&from={tomorrow}&to={}",
                demo.gp15,
                demo.amara,
                tomorrow.checked_add(jiff::ToSpan::days(13)).unwrap()
            ),
            None,
        )
        .await;
    let slot = slots.body["slots"][0].clone();
    let booked = app
        .json(
            "POST",
            "/admin/clinics/demo/appointments",
            Some(&admin),
            json!({
                "booking_type_id": demo.gp15, "provider_id": demo.amara, "location_id": slot["location_id"],
                "starts_at": slot["starts_at"],
                "patient": {"first_name": "Ada", "last_name": "Example", "date_of_birth": "1985-12-10", "mobile": "+447700900124"}
            }),
        )
        .await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    assert_eq!(booked.body["provider"], json!({"id": demo.amara, "name": "Dr Amara Okafor"}));
    assert_eq!(booked.body["booking_type"]["name"], "GP consultation");
    assert_eq!(booked.body["location"], json!({"id": demo.riverside, "name": "Riverside Surgery"}));
    let day = booked.body["local_start"].as_str().unwrap()[..10].to_owned();
    let diary = app.get(&format!("/admin/clinics/demo/appointments?date={day}"), Some(&admin)).await;
    let entry =
        diary.body["items"].as_array().unwrap().iter().find(|item| item["id"] == booked.body["id"]).unwrap().clone();
    assert_eq!(entry["provider"]["name"], "Dr Amara Okafor");

    let joined = app
        .json(
            "POST",
            "/admin/clinics/demo/waitlist",
            Some(&admin),
            json!({
                "preferences": {"booking_type_id": demo.nurse20, "provider_id": demo.sam, "location_id": null,
                    "from": tomorrow.to_string(), "to": tomorrow.checked_add(jiff::ToSpan::days(6)).unwrap().to_string(),
                    "weekdays": [], "time_of_day": "any"},
                "patient": {"first_name": "Bea", "last_name": "Example", "date_of_birth": "1990-01-01", "mobile": "+447700900125"}
            }),
        )
        .await;
    assert_eq!(joined.status, 201, "{:?}", joined.body);
    assert_eq!(joined.body["booking_type"]["name"], "Practice nurse appointment");
    assert_eq!(joined.body["provider"]["name"], "Sam Patel");
    assert!(joined.body["location"].is_null(), "any site");
}

#[tokio::test]
async fn a_write_that_names_a_stale_version_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let demo = app.demo_ids(&admin).await;
    let path = format!("/admin/clinics/demo/locations/{}", demo.hillview);
    let listed = app.get("/admin/clinics/demo/locations", Some(&admin)).await;
    let hillview =
        listed.body["items"].as_array().unwrap().iter().find(|l| l["id"] == demo.hillview.as_str()).unwrap().clone();
    let version = hillview["version"].as_u64().unwrap();
    let tag = |v: u64| format!("\"{v}\"");

    // Two staff read the same version; the first change lands, the second is refused with 412.
    let first = app
        .call_if_match(
            "PATCH",
            &path,
            Some(&admin),
            Some(json!({"booking_phone": "+441632960111"}).to_string().into_bytes()),
            Some(&tag(version)),
        )
        .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["version"].as_u64(), Some(version + 1));
    assert_eq!(first.etag, Some(tag(version + 1)));
    let second = app
        .call_if_match(
            "PATCH",
            &path,
            Some(&admin),
            Some(json!({"booking_phone": "+441632960222"}).to_string().into_bytes()),
            Some(&tag(version)),
        )
        .await;
    assert_eq!(second.status, 412, "{:?}", second.body);
    assert_eq!(second.content_type, "application/problem+json");
    let now = app.get("/admin/clinics/demo/locations", Some(&admin)).await;
    let now = now.body["items"].as_array().unwrap().iter().find(|l| l["id"] == demo.hillview.as_str()).unwrap().clone();
    assert_eq!(now["booking_phone"], "+441632960111", "the refused write changed nothing");
    // With the new version it lands; without If-Match the write is unconditional; a bad tag names the header.
    let third = app
        .call_if_match(
            "PATCH",
            &path,
            Some(&admin),
            Some(json!({"booking_phone": "+441632960222"}).to_string().into_bytes()),
            Some(&tag(version + 1)),
        )
        .await;
    assert_eq!(third.status, 200, "{:?}", third.body);
    let bad = app.call_if_match("PATCH", &path, Some(&admin), Some(b"{}".to_vec()), Some("version-1")).await;
    assert_eq!(bad.problem_fields(), ["If-Match"]);

    // The clinic's settings too: a stale version changes nothing, the current one lands.
    for path in ["/admin/clinics/demo/online-settings", "/admin/clinics/demo/appointment-settings"] {
        let read = app.get(path, Some(&admin)).await;
        let version = read.body["version"].as_u64().unwrap();
        let body = if path.ends_with("online-settings") {
            json!({"enable_asap": true})
        } else {
            json!({"online_reschedule": false})
        };
        let stale = app
            .call_if_match("PUT", path, Some(&admin), Some(body.to_string().into_bytes()), Some(&tag(version + 5)))
            .await;
        assert_eq!(stale.status, 412, "{path}: {:?}", stale.body);
        assert_eq!(app.get(path, Some(&admin)).await.body["version"].as_u64(), Some(version), "{path}");
        let fresh = app
            .call_if_match("PUT", path, Some(&admin), Some(body.to_string().into_bytes()), Some(&tag(version)))
            .await;
        assert_eq!(fresh.status, 200, "{path}: {:?}", fresh.body);
        assert_eq!(fresh.etag, Some(tag(version + 1)), "{path}");
    }

    // The clinic profile and a partner follow the same rule.
    let profile = app.get("/admin/clinics/demo", Some(&admin)).await;
    let etag = profile.etag.clone().unwrap();
    assert_eq!(etag, tag(profile.body["version"].as_u64().unwrap()));
    let input = json!({"name": "Riverside Family Practice", "time_zone": "Europe/London"});
    let stale = app
        .call_if_match(
            "PUT",
            "/admin/clinics/demo",
            Some(&admin),
            Some(input.to_string().into_bytes()),
            Some("\"999\""),
        )
        .await;
    assert_eq!(stale.status, 412, "{:?}", stale.body);
    let created = app
        .json("POST", "/admin/clinics/demo/partners", Some(&admin), json!({"id": "acme", "name": "Acme", "contact": {"email": "desk@example.com"}, "activated_booking_type_ids": [demo.gp15]}))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let replace = json!({"name": "Acme Health", "contact": {"email": "desk@example.com"}, "activated_booking_type_ids": [demo.gp15]});
    let stale = app
        .call_if_match(
            "PUT",
            "/admin/clinics/demo/partners/acme",
            Some(&admin),
            Some(replace.to_string().into_bytes()),
            Some("\"7\""),
        )
        .await;
    assert_eq!(stale.status, 412, "{:?}", stale.body);
    let fresh = app
        .call_if_match(
            "PUT",
            "/admin/clinics/demo/partners/acme",
            Some(&admin),
            Some(replace.to_string().into_bytes()),
            Some("\"1\""),
        )
        .await;
    assert_eq!(fresh.status, 200, "{:?}", fresh.body);
    assert_eq!(fresh.etag.as_deref(), Some("\"2\""));
}

#[tokio::test]
async fn staff_correct_a_patient_record_and_the_name_index_follows_it() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let patient = |last: &str| json!({"first_name": "Nia", "last_name": last, "date_of_birth": "1979-03-02", "mobile": "+447700900481", "email": "nia@example.com"});
    let created = app
        .json(
            "POST",
            "/admin/clinics/demo/patients",
            Some(&admin),
            json!({"reference": "MRN-E1", "patient": patient("Jones")}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let shown = app.get("/admin/clinics/demo/patients/MRN-E1", Some(&admin)).await;
    assert_eq!(shown.etag.as_deref(), Some("\"1\""));
    let path = "/admin/clinics/demo/patients/MRN-E1";
    let change = json!({"patient": patient("Jones-Price"), "profile": {"postcode": "SE1 9AA"}});
    let changed =
        app.call_if_match("PUT", path, Some(&admin), Some(change.to_string().into_bytes()), Some("\"1\"")).await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!((changed.body["last_name"].as_str(), changed.body["version"].as_u64()), (Some("Jones-Price"), Some(2)));
    assert_eq!(changed.body["profile"]["postcode"], "SE1 9AA");
    // A colleague still holding version 1 cannot overwrite it.
    let stale =
        app.call_if_match("PUT", path, Some(&admin), Some(change.to_string().into_bytes()), Some("\"1\"")).await;
    assert_eq!(stale.status, 412);

    // The duplicate check and the partner's exact search follow the new name, not the old one.
    let old_name =
        app.json("POST", "/admin/clinics/demo/patients", Some(&admin), json!({"patient": patient("Jones")})).await;
    assert_eq!(old_name.status, 201, "the old name is free again: {:?}", old_name.body);
    let new_name = app
        .json("POST", "/admin/clinics/demo/patients", Some(&admin), json!({"patient": patient("Jones-Price")}))
        .await;
    assert_eq!(new_name.status, 409, "{:?}", new_name.body);
    let partner = app.partner_user_token("desk", "acme");
    let found =
        app.get("/admin/clinics/demo/patients?search=Nia%20Jones-Price&date_of_birth=1979-03-02", Some(&partner)).await;
    assert_eq!(found.status, 200, "{:?}", found.body);
    let references: Vec<&str> =
        found.body["items"].as_array().unwrap().iter().map(|p| p["reference"].as_str().unwrap()).collect();
    assert_eq!(references, ["MRN-E1"]);
    let by_reference = app.get("/admin/clinics/demo/patients?search=MRN-E1", Some(&partner)).await;
    assert_eq!(by_reference.body["items"].as_array().unwrap().len(), 1);
    // A first name of two words is found by the full name whichever way it splits.
    let two_words = json!({"reference": "MRN-E2", "patient": {"first_name": "Mary Ann", "last_name": "Smith", "date_of_birth": "1966-07-08", "mobile": "+447700900482"}});
    assert_eq!(app.json("POST", "/admin/clinics/demo/patients", Some(&admin), two_words).await.status, 201);
    let found = app
        .get("/admin/clinics/demo/patients?search=Mary%20Ann%20Smith&date_of_birth=1966-07-08", Some(&partner))
        .await;
    assert_eq!(found.body["items"][0]["reference"], "MRN-E2", "{:?}", found.body);
    let browsing = app.get("/admin/clinics/demo/patients?search=Nia", Some(&partner)).await;
    assert!(browsing.body["items"].as_array().unwrap().is_empty(), "a partner cannot browse by part of a name");

    // Bad input names the field and changes nothing; an unknown record is a 404.
    let bad = app
        .json(
            "PUT",
            path,
            Some(&admin),
            json!({"patient": {"first_name": "", "last_name": "X", "date_of_birth": "2999-01-01"}}),
        )
        .await;
    assert!(bad.problem_fields().contains(&"patient.first_name".to_owned()), "{:?}", bad.body);
    assert_eq!(app.get(path, Some(&admin)).await.body["last_name"], "Jones-Price");
    let unknown = app.json("PUT", "/admin/clinics/demo/patients/MRN-NONE", Some(&admin), change).await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn staff_find_patients_by_the_beginnings_of_their_name_words_through_the_index_and_a_rebuild_finds_older_records()
{
    use clinic_shared::store::Store;
    let (app, store) = TestApp::spawn_with_store().await;
    let admin = app.demo_admin();
    let add = |reference: &'static str, first: &'static str, last: &'static str| {
        let body = json!({"reference": reference, "patient": {"first_name": first, "last_name": last, "date_of_birth": "1980-01-02", "mobile": "+447700900125"}});
        let app = &app;
        let admin = &admin;
        async move {
            let answer = app.json("POST", "/admin/clinics/demo/patients", Some(admin), body).await;
            assert_eq!(answer.status, 201, "{:?}", answer.body);
        }
    };
    add("MRN-S1", "Ann-Marie", "Smíth").await;
    add("MRN-S2", "Annabel", "Smythe").await;
    add("MRN-S3", "Bea", "Jones").await;
    let found = |search: &'static str| {
        let app = &app;
        let admin = &admin;
        async move {
            let answer = app.get(&format!("/admin/clinics/demo/patients?search={search}"), Some(admin)).await;
            assert_eq!(answer.status, 200, "{:?}", answer.body);
            let mut references: Vec<String> = answer.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["reference"].as_str().unwrap().to_owned())
                .collect();
            references.sort();
            references
        }
    };
    assert_eq!(found("smi").await, ["MRN-S1"], "accents folded, beginnings of words");
    assert_eq!(found("ann%20sm").await, ["MRN-S1", "MRN-S2"], "every word begins a name word");
    assert_eq!(found("MARIE").await, ["MRN-S1"]);
    assert_eq!(found("mrn-s3").await, ["MRN-S3"], "an exact reference");
    assert!(found("mith").await.is_empty(), "the middle of a word is not its beginning");

    // A new name moves the record in the index in the same write.
    let record = app.get("/admin/clinics/demo/patients/MRN-S3", Some(&admin)).await;
    let renamed = app
        .call_if_match(
            "PUT",
            "/admin/clinics/demo/patients/MRN-S3",
            Some(&admin),
            Some(serde_json::to_vec(&json!({"patient": {"first_name": "Bea", "last_name": "Smart", "date_of_birth": "1980-01-02", "mobile": "+447700900125"}})).unwrap()),
            record.etag.as_deref(),
        )
        .await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    assert!(found("jones").await.is_empty());
    assert_eq!(found("sma").await, ["MRN-S3"]);

    // A record written before the index existed is found once the index is rebuilt.
    let clinic = clinic_shared::domain::clinic::ClinicId::parse("demo").unwrap();
    let older = json!({"reference": "MRN-OLD", "details": {"first_name": "Cy", "last_name": "Oldfield", "date_of_birth": "1950-05-06"}, "profile": {}});
    let item = clinic_shared::store::Item::from_record(clinic_shared::store::keys::patient(&clinic, "MRN-OLD"), &older)
        .unwrap();
    store.write(clinic_shared::store::Write::put(item, clinic_shared::store::Condition::NotExists)).await.unwrap();
    assert!(found("oldf").await.is_empty(), "not indexed yet");
    let mut cursor = String::new();
    let mut indexed = 0;
    loop {
        let page = app
            .call(
                "POST",
                &format!("/admin/clinics/demo/patients/search-index?limit=2&cursor={cursor}"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        indexed += page.body["indexed"].as_u64().unwrap();
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(indexed, 4, "every record, page by page");
    assert_eq!(found("oldf").await, ["MRN-OLD"]);
    assert_eq!(found("smi").await, ["MRN-S1"], "rebuilding twice changes nothing");
}
