//! The booking pages as a patient meets them: every step leads to a booking, "any" shows who and
//! where before confirming and books exactly that, national phone numbers, French throughout,
//! and the clinic's phone at every dead end.

use clinic_tests::TestApp;
use serde_json::Value;

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The `href`s of links with `class` on a page, unescaped.
fn links(page: &str, class: &str) -> Vec<String> {
    let marker = format!("class=\"{class}\"");
    page.match_indices(&marker)
        .filter_map(|(at, _)| {
            let rest = &page[at..];
            let start = rest.find("href=\"")? + 6;
            let end = rest[start..].find('"')? + start;
            Some(rest[start..end].replace("&amp;", "&"))
        })
        .collect()
}

fn query_value(href: &str, name: &str) -> Option<String> {
    let query = href.split_once('?')?.1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

async fn post_form(app: &TestApp, fields: &[(&str, &str)]) -> (u16, String) {
    let response = app
        .client
        .post(app.url("/book/demo"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(fields).unwrap())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn named(list: &[Value], name: &str) -> String {
    list.iter().find(|item| item["name"] == name).unwrap()["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn each_step_offers_only_clinicians_and_sites_that_lead_to_a_booking() {
    let app = TestApp::spawn().await;
    let demo = super::self_booking::demo(&app).await;
    let (status, landing) = page(&app, "/book/demo").await;
    assert_eq!(status, 200);
    let advisory = landing.find("call 999").expect("the advice is on the first page");
    let first_choice = landing.find("class=\"choice\"").unwrap();
    assert!(advisory < first_choice, "the advice comes before the first choice");
    assert!(!landing.contains("(15 minutes) (15"), "a duration is named twice");
    assert!(landing.contains("Next free:"), "no next free time on the booking types");

    // The nurse type: only the nurse, only where the nurse works.
    let (_, providers) = page(&app, &format!("/book/demo?type={}", demo.nurse20)).await;
    assert!(providers.contains("Sam Patel"), "the nurse is missing");
    assert!(
        !providers.contains("Dr Amara Okafor") && !providers.contains("Dr Tom Lindqvist"),
        "GPs offered a nurse slot"
    );
    let nurse = named(&demo.providers, "Sam Patel");
    let (_, locations) = page(&app, &format!("/book/demo?type={}&provider={nurse}", demo.nurse20)).await;
    assert!(
        locations.contains("Riverside Surgery") && !locations.contains("Hillview Health Centre"),
        "a dead-end site"
    );
    let choices = links(&locations, "choice");
    assert_eq!(choices.len(), 1, "one site, so no 'any site' choice: {choices:?}");
    let (status, times) = page(&app, &choices[0]).await;
    assert_eq!(status, 200);
    assert!(!links(&times, "slot").is_empty(), "the only site has no time");
}

#[tokio::test]
async fn any_clinician_shows_who_and_where_before_confirming_and_books_exactly_that() {
    let app = TestApp::spawn().await;
    let demo = super::self_booking::demo(&app).await;
    let token = app.demo_admin();
    let (_, times) = page(&app, &format!("/book/demo?type={}&provider=any&location=any", demo.gp15)).await;
    assert!(times.contains("Riverside Surgery") && times.contains("Hillview Health Centre"), "sites not named");
    let slots = links(&times, "slot");
    // A time at Hillview (Dr Lindqvist's site), so the allocation is not simply the first slot.
    let hillview = named(&demo.locations, "Hillview Health Centre");
    let chosen = slots.iter().find(|href| query_value(href, "at").as_deref() == Some(hillview.as_str())).unwrap();
    let (status, review) = page(&app, chosen).await;
    assert_eq!(status, 200);
    assert!(review.contains("Dr Tom Lindqvist") && review.contains("22 Hill Street"), "the review hides who or where");
    assert!(review.contains("tel:+442079460001") && review.contains("openstreetmap.org"), "no booking phone or map");
    let time = query_value(chosen, "time").unwrap();
    let with = query_value(chosen, "with").unwrap();
    let fields = [
        ("type", demo.gp15.as_str()),
        ("provider", "any"),
        ("location", "any"),
        ("time", time.as_str()),
        ("with", with.as_str()),
        ("at", hillview.as_str()),
        ("first_name", "Pat"),
        ("last_name", "Example"),
        ("date_of_birth", "1980-05-17"),
        ("mobile", "07700 900456"),
        ("email", ""),
        ("advisory", "yes"),
        ("lang", "en"),
        ("idempotency_key", "any-allocation-1"),
    ];
    let (status, confirmed) = post_form(&app, &fields).await;
    assert_eq!(status, 201, "{confirmed}");
    assert!(
        confirmed.contains("Dr Tom Lindqvist") && confirmed.contains("22 Hill Street"),
        "confirmation lacks who/where"
    );
    assert!(confirmed.contains("020 7946 0000"), "the confirmation does not say whom to call");
    let day = &time[..10];
    let diary = app.get(&format!("/admin/clinics/demo/appointments?date={day}"), Some(&token)).await.body;
    let booked = diary["items"].as_array().unwrap().iter().find(|item| item["starts_at"] == time.as_str()).unwrap();
    assert_eq!(booked["provider_id"], with.as_str(), "booked with someone else than shown");
    assert_eq!(booked["location_id"], hillview.as_str(), "booked somewhere else than shown");
    assert_eq!(booked["patient_mobile"], "+447700900456", "the national number is not stored in E.164");

    // The same time and clinician again: taken, and the page says so with the clinic's phone.
    let again = fields.map(|(name, value)| match name {
        "idempotency_key" => (name, "any-allocation-2"),
        "mobile" => (name, "07700 900457"),
        _ => (name, value),
    });
    let (status, refused) = post_form(&app, &again).await;
    assert_eq!(status, 409);
    assert!(refused.contains("just taken") && refused.contains("tel:02079460000"), "no phone on the refusal");
}

#[tokio::test]
async fn french_patients_read_french_names_advice_and_errors_in_the_pages_words() {
    let app = TestApp::spawn().await;
    let demo = super::self_booking::demo(&app).await;
    let (_, landing) = page(&app, "/book/demo?lang=fr").await;
    assert!(
        landing.contains("Consultation de médecine générale") && landing.contains("Prise de sang"),
        "English names"
    );
    assert!(landing.contains("appelez le 999"), "the advice is not in French");
    assert!(landing.contains("Du lundi au vendredi"), "opening hours not in French");
    let (_, times) = page(&app, &format!("/book/demo?type={}&provider=any&location=any&lang=fr", demo.gp15)).await;
    let slot = links(&times, "slot").into_iter().next().unwrap();
    let fields = [
        ("type", demo.gp15.as_str()),
        ("provider", "any"),
        ("location", "any"),
        ("time", &query_value(&slot, "time").unwrap()),
        ("with", &query_value(&slot, "with").unwrap()),
        ("at", &query_value(&slot, "at").unwrap()),
        ("first_name", ""),
        ("last_name", "Example"),
        ("date_of_birth", "2090-01-01"),
        ("mobile", "0770090"),
        ("email", ""),
        ("lang", "fr"),
        ("idempotency_key", "french-errors"),
    ]
    .map(|(name, value)| (name, value.to_owned()));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let (status, errors) = post_form(&app, &fields).await;
    assert_eq!(status, 422);
    for expected in [
        "Prénom : est obligatoire",
        "Date de naissance : ne peut pas être dans le futur",
        "Numéro de mobile : doit être",
    ] {
        assert!(errors.replace("</li>", "").contains(&expected.replace(" : ", ": ")), "missing {expected:?}");
    }
    assert!(!errors.contains("patient.") && !errors.contains("must "), "internal names or English in a French page");
}

#[tokio::test]
async fn dead_ends_give_the_clinics_phone() {
    let app = TestApp::spawn().await;
    let (status, page_) =
        page(&app, "/book/demo?type=00000000-0000-4000-8000-000000000000&provider=any&location=any").await;
    assert_eq!(status, 422);
    assert!(page_.contains("tel:02079460000"), "a dead end without the clinic's phone");
    let (status, _) = page(&app, "/book/nowhere").await;
    assert_eq!(status, 404);
}

/// A `width` × `height` PNG of one colour, written by hand (no image crate in the tests).
pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(data);
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(&crc_input);
        out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
        out
    }
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for byte in bytes {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let row: Vec<u8> = std::iter::once(0).chain([11, 92, 173].repeat(width as usize)).collect();
    let raw = row.repeat(height as usize);
    // Stored (uncompressed) deflate blocks inside a zlib stream.
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (index, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(index + 1 == blocks.len()));
        zlib.extend_from_slice(&(block.len() as u16).to_le_bytes());
        zlib.extend_from_slice(&(!(block.len() as u16)).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in &raw {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut header = width.to_be_bytes().to_vec();
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &header));
    png.extend(chunk(b"IDAT", &zlib));
    png.extend(chunk(b"IEND", &[]));
    png
}

pub(crate) async fn upload_logo(app: &TestApp, token: &str, content_type: &str, bytes: Vec<u8>) -> (u16, Value) {
    let response = app
        .client
        .put(app.url("/admin/clinics/demo/logo"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_uploaded_logo_is_checked_and_shown_on_the_pages_from_this_origin() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let (status, problem) = upload_logo(&app, &admin, "image/gif", png(4, 4)).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("Content-Type")), "{problem}");
    let (status, problem) = upload_logo(&app, &admin, "image/png", b"not an image".to_vec()).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("body")), "{problem}");
    let (status, _) = upload_logo(&app, &admin, "image/png", vec![0; 300 * 1024]).await;
    assert_eq!(status, 413);
    let nurse = app.token("nurse", &["demo"], &[clinic_shared::domain::access::Permission::CatalogRead]);
    assert_eq!(upload_logo(&app, &nurse, "image/png", png(4, 4)).await.0, 403);
    let (_, before) = page(&app, "/book/demo").await;
    assert!(!before.contains("class=\"logo\""), "a logo before any was uploaded");

    let logo = png(120, 40);
    let (status, view) = upload_logo(&app, &admin, "image/png", logo.clone()).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!((view["width"].as_u64(), view["height"].as_u64()), (Some(120), Some(40)));
    let served = app.client.get(app.url("/book/demo/logo")).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    assert_eq!(served.bytes().await.unwrap().to_vec(), logo);
    let response = app.client.get(app.url("/book/demo")).send().await.unwrap();
    let policy = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("img-src 'self'"), "{policy}");
    let html = response.text().await.unwrap();
    assert!(html.contains("<img class=\"logo\" src=\"/book/demo/logo\""), "{html}");
    // Saving the profile again keeps the uploaded logo.
    let profile =
        serde_json::json!({"name": "Riverside Family Practice", "time_zone": "Europe/London", "language": "en"});
    let saved = app.json("PUT", "/admin/clinics/demo", Some(&admin), profile).await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    assert_eq!(saved.body["branding"]["logo_path"], "/book/demo/logo");
    assert_eq!(saved.body["language"], "en");
}
