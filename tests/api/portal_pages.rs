//! The portal's pages as a browser without script walks them: identification answers with a
//! cookie (never a token in a URL), then the public booking pages' steps over the services the
//! visitor's record admits, and a booking that a double (or fiftyfold) submission makes once.

use clinic_tests::TestApp;

use crate::online_services::setup;

/// What a page answered, without following redirects.
struct Reply {
    status: u16,
    location: Option<String>,
    set_cookie: Option<String>,
    body: String,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn reply(response: reqwest::Response) -> Reply {
    let header = |name: &str| response.headers().get(name).map(|value| value.to_str().unwrap().to_owned());
    let (location, set_cookie) = (header("location"), header("set-cookie"));
    Reply { status: response.status().as_u16(), location, set_cookie, body: response.text().await.unwrap() }
}

async fn get(app: &TestApp, path: &str, cookie: Option<&str>) -> Reply {
    let mut request = client().get(app.url(path));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    reply(request.send().await.unwrap()).await
}

async fn post(app: &TestApp, form: &[(&str, &str)], cookie: Option<&str>) -> Reply {
    let body = serde_urlencoded::to_string(form).unwrap();
    let mut request =
        client().post(app.url("/portal/demo")).header("content-type", "application/x-www-form-urlencoded").body(body);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    reply(request.send().await.unwrap()).await
}

/// Identifies as Zoë (a patient of the demo clinic) and returns the `Cookie` header to send.
async fn identify_zoe(app: &TestApp) -> String {
    let form = [
        ("action", "identify"),
        ("first_name", "Zoë"),
        ("last_name", "O'Brien"),
        ("date_of_birth", "1970-03-04"),
        ("mobile", "07700 900170"),
        ("email", "zoe@example.com"),
        ("lang", "en"),
    ];
    let answer = post(app, &form, None).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.location.as_deref(), Some("/portal/demo?lang=en"));
    let set_cookie = answer.set_cookie.expect("identification sets the visit cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/portal/demo", "Max-Age=1800"] {
        assert!(set_cookie.contains(attribute), "{attribute} missing from {set_cookie}");
    }
    set_cookie.split(';').next().unwrap().to_owned()
}

/// Every `href` of elements with `class` in the page, unescaped.
fn hrefs(page: &str, class: &str) -> Vec<String> {
    let marker = format!("class=\"{class}\" href=\"");
    page.match_indices(&marker)
        .map(|(at, _)| {
            let rest = &page[at + marker.len()..];
            rest[..rest.find('"').unwrap()].replace("&amp;", "&")
        })
        .collect()
}

/// The value of a hidden field of the page's form.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = page.find(&marker).unwrap_or_else(|| panic!("no {name} in {page}")) + marker.len();
    page[at..at + page[at..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn an_identified_visitor_walks_the_booking_steps_and_books_once() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let setup = setup(&app, &admin).await;

    let anonymous = get(&app, "/portal/demo", None).await;
    assert!(anonymous.status == 200 && anonymous.body.contains("Show services"), "{}", anonymous.body);
    let cookie = identify_zoe(&app).await;
    // The token is in the cookie only: no page links or forms carry it.
    let token = cookie.trim_start_matches("portal_visit=");

    let services = get(&app, "/portal/demo?lang=en", Some(&cookie)).await;
    assert_eq!(services.status, 200);
    assert!(!services.body.contains(token));
    assert!(services.body.contains("Booking for") && services.body.contains("Zoë O'Brien"), "{}", services.body);
    for name in ["Open to all", "Registered patients", "Women over 50 in SW1"] {
        assert!(services.body.contains(name), "{name} not offered to Zoë");
    }
    assert!(!services.body.contains("New patients"), "a patient is offered the new patients' service");
    assert!(services.body.contains("Next free"), "types show their next free time");

    // The steps are the booking pages': type of the chosen service, clinician, site, a week.
    let open_type = hrefs(&services.body, "choice")
        .into_iter()
        .find(|href| href.contains(&format!("service={}", setup.open)))
        .expect("a link to book the open service");
    let clinicians = get(&app, &open_type, Some(&cookie)).await;
    assert!(clinicians.body.contains("Who would you like to see?"), "{}", clinicians.body);
    let any = hrefs(&clinicians.body, "choice").into_iter().find(|href| href.contains("provider=any")).unwrap();
    let sites = get(&app, &any, Some(&cookie)).await;
    let site = hrefs(&sites.body, "choice").into_iter().next().expect("a site to choose");
    let week = get(&app, &site, Some(&cookie)).await;
    assert!(week.body.contains("Choose a time"), "{}", week.body);
    let slot = hrefs(&week.body, "slot").into_iter().next().expect("a free time");
    let review = get(&app, &slot, Some(&cookie)).await;
    assert_eq!(review.status, 200);
    assert!(review.body.contains("Open to all") && review.body.contains("With"), "{}", review.body);
    assert!(!review.body.contains("first_name"), "the portal asks no details again");

    let fields = ["service", "type", "provider", "location", "time", "with", "at"];
    let mut form: Vec<(&str, String)> = fields.iter().map(|name| (*name, hidden(&review.body, name))).collect();
    form.push(("action", "book".into()));
    form.push(("lang", "en".into()));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(name, value)| (*name, value.as_str())).collect();
    // Fifty submissions of the same confirmation at once book one appointment.
    let submissions = (0..50).map(|_| post(&app, &pairs, Some(&cookie)));
    let answers = futures_util::future::join_all(submissions).await;
    for answer in &answers {
        assert_eq!(answer.status, 201, "{}", answer.body);
        assert!(answer.body.contains("Your appointment is booked"));
    }
    let booked = app.get("/admin/clinics/demo/patients/MRN-A1/appointments", Some(&admin)).await;
    assert_eq!(booked.status, 200, "{:?}", booked.body);
    let items = booked.body["items"].as_array().or(booked.body.as_array()).cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "{:?}", booked.body);
    assert_eq!(items[0]["provider_id"].as_str(), Some(hidden(&review.body, "with").as_str()));
    assert_eq!(items[0]["starts_at"].as_str(), Some(hidden(&review.body, "time").as_str()));

    // "Not you?" ends the visit: the cookie is cleared and the old one opens nothing.
    let forgot = post(&app, &[("action", "forget"), ("lang", "en")], Some(&cookie)).await;
    assert_eq!(forgot.status, 303);
    assert!(forgot.set_cookie.unwrap().contains("Max-Age=0"));
    let after = get(&app, "/portal/demo", Some(&cookie)).await;
    assert!(after.body.contains("Show services") && !after.body.contains("Zoë"), "{}", after.body);
    let stale = post(&app, &pairs, Some(&cookie)).await;
    assert_eq!(stale.status, 200);
    assert!(stale.body.contains("your earlier answers have expired"), "{}", stale.body);
}

#[tokio::test]
async fn a_visitor_cannot_step_or_book_into_a_service_their_record_does_not_admit() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let setup = setup(&app, &admin).await;
    let stranger = [
        ("action", "identify"),
        ("first_name", "Alex"),
        ("last_name", "Example"),
        ("date_of_birth", "1985-06-07"),
        ("mobile", "+447700900171"),
        ("email", "alex@example.com"),
    ];
    let answer = post(&app, &stranger, None).await;
    assert_eq!(answer.status, 303);
    let cookie = answer.set_cookie.unwrap().split(';').next().unwrap().to_owned();
    let services = get(&app, "/portal/demo", Some(&cookie)).await;
    assert!(services.body.contains("Open to all") && !services.body.contains("Registered patients"));

    // Asking for the registered patients' service by URL shows the services again.
    let path = format!("/portal/demo?service={}&type={}&provider=any&location=any", setup.registered, setup.gp15);
    let sneaked = get(&app, &path, Some(&cookie)).await;
    assert!(!sneaked.body.contains("Choose a time") && !sneaked.body.contains("Registered patients"));

    // Posting a booking for it books nothing.
    let week = get(
        &app,
        &format!("/portal/demo?service={}&type={}&provider=any&location=any", setup.open, setup.gp15),
        Some(&cookie),
    )
    .await;
    let slot = hrefs(&week.body, "slot").into_iter().next().expect("a free time");
    let review = get(&app, &slot, Some(&cookie)).await;
    let time = hidden(&review.body, "time");
    let (with, at) = (hidden(&review.body, "with"), hidden(&review.body, "at"));
    let form = [
        ("action", "book"),
        ("service", setup.registered.as_str()),
        ("type", setup.gp15.as_str()),
        ("provider", "any"),
        ("location", "any"),
        ("time", time.as_str()),
        ("with", with.as_str()),
        ("at", at.as_str()),
    ];
    let refused = post(&app, &form, Some(&cookie)).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let diary = app.get(&format!("/admin/clinics/demo/appointments?date={}", &time[..10]), Some(&admin)).await;
    assert!(!diary.body.to_string().contains("Alex"), "{:?}", diary.body);

    // Another site's form is refused, and so is an action the portal does not know.
    let response = client()
        .post(app.url("/portal/demo"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(serde_urlencoded::to_string(stranger).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(post(&app, &[("action", "whatever")], Some(&cookie)).await.status, 400);

    // A cookie of one clinic opens nothing at another.
    let elsewhere = get(&app, "/portal/other-clinic", Some(&cookie)).await;
    assert!(!elsewhere.body.contains("Alex"));
}
