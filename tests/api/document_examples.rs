//! Every request example in the OpenAPI document, sent as a client would copy it from
//! `/openapi.json` to the local server (the demo clinic has the ids the examples use): the
//! creations first, in the route table's order, then the changes. Each answer is checked against
//! the document (status, media type, body) by `TestApp`; an example is never malformed (400, 413,
//! 415) or a server error; the ones that only need the demo clinic succeed.

use clinic_shared::routes::ROUTES;
use clinic_tests::TestApp;
use serde_json::Value;

/// The operations whose example needs nothing but the demo clinic (and the operations before it).
const SUCCEED: &[&str] = &[
    "PutClinic",
    "CreateBookingType",
    "UpdateBookingType",
    "CreateLocation",
    "UpdateLocation",
    "CreateProvider",
    "UpdateProvider",
    "PutOnlineSettings",
    "CreateDiaryTemplate",
    "CreateDiaryBlock",
    "CreateWaitlistEntry",
    "PutAppointmentSettings",
    "CreateReferralUpload",
    "CreateBroadcastRule",
    "CreatePartner",
    "ReplacePartner",
    "CreatePatient",
    "ReplacePatient",
    "CreateOnlineService",
    "PortalServices",
    "CreateConnectTemplate",
    "CreateConnectProgram",
    "AddReferral",
];

#[tokio::test]
async fn every_documented_example_is_answered_as_the_document_says() {
    let app = TestApp::spawn().await;
    let admin = app.demo_admin();
    let document = app.get("/openapi.json", None).await.body;
    let mut sent = Vec::new();
    let mut routes: Vec<_> = ROUTES.iter().collect();
    routes.sort_by_key(|route| route.method != "POST");
    for route in routes {
        let operation = &document["paths"][route.path][route.method.to_ascii_lowercase()];
        let Some((media, content)) = operation["requestBody"]["content"].as_object().and_then(|c| c.iter().next())
        else {
            continue;
        };
        if media.starts_with("image/") {
            continue; // the logo: an image, not a text example
        }
        let example = content.get("example").unwrap_or_else(|| panic!("{} documents no example", route.operation_id));
        let mut path = route.path.to_owned();
        for parameter in operation["parameters"].as_array().unwrap().iter().filter(|p| p["in"] == "path") {
            let name = parameter["name"].as_str().unwrap();
            path = path.replace(&format!("{{{name}}}"), parameter["example"].as_str().expect("a path example"));
        }
        let (status, answer) = if media == "application/json" {
            let token = operation.get("security").map(|_| admin.as_str());
            let answer = app.json(route.method, &path, token, example.clone()).await;
            (answer.status, answer.body.to_string())
        } else {
            send_form(&app, &path, example).await
        };
        assert!(
            !matches!(status, 400 | 413 | 415) && status < 500,
            "{} {path}: the example was answered {status}: {answer}",
            route.operation_id
        );
        if SUCCEED.contains(&route.operation_id) {
            assert!(
                (200..300).contains(&status),
                "{} {path}: the example was answered {status}: {answer}",
                route.operation_id
            );
        }
        sent.push(route.operation_id);
    }
    assert_eq!(sent.len(), 44, "every operation with a body sent its example: {sent:?}");
    for operation in SUCCEED {
        assert!(sent.contains(operation), "{operation} has no example");
    }
}

/// Posts a form as a browser would, and checks the answer against the document.
async fn send_form(app: &TestApp, path: &str, example: &Value) -> (u16, String) {
    let fields: Vec<(String, String)> = example
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, value)| (name.clone(), value.as_str().map_or_else(|| value.to_string(), str::to_owned)))
        .collect();
    let response = app
        .client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&fields).unwrap())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
    let body = response.bytes().await.unwrap();
    clinic_tests::contract::check("POST", path, status, &content_type, &body);
    (status, String::from_utf8_lossy(&body).chars().take(300).collect())
}
