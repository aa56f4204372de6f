//! One route table: the SAM template, the local server and the OpenAPI document must serve the
//! same set of routes, by the same functions.

use std::collections::BTreeSet;

use clinic_shared::routes::{Access, ROUTES};
use clinic_tests::{TestApp, repo_root};
use serde_norway::Value;

type RouteSet = BTreeSet<(String, String, String, bool)>;

fn from_route_table() -> RouteSet {
    ROUTES
        .iter()
        .map(|route| {
            (route.method.to_owned(), route.path.to_owned(), route.function.to_owned(), route.access == Access::Public)
        })
        .collect()
}

fn template() -> Value {
    let text = std::fs::read_to_string(repo_root().join("infra/template.yaml")).unwrap();
    serde_norway::from_str(&text).unwrap()
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => panic!("expected a string, found {other:?}"),
    }
}

#[test]
fn the_sam_template_declares_exactly_the_route_table() {
    let template = template();
    let mut routes = RouteSet::new();
    let mut functions = BTreeSet::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"] != Value::String("AWS::Serverless::Function".into()) {
            continue;
        }
        let binary = text(&resource["Metadata"]["BuildProperties"]["Binary"]);
        assert_eq!(text(&resource["Metadata"]["BuildMethod"]), "rust-cargolambda");
        functions.insert(binary.clone());
        let Some(events) = resource["Properties"]["Events"].as_mapping() else { continue };
        for (_, event) in events {
            if event["Type"] != Value::String("HttpApi".into()) {
                continue;
            }
            let properties = &event["Properties"];
            let public = properties["Auth"]["Authorizer"] == Value::String("NONE".into());
            routes.insert((text(&properties["Method"]), text(&properties["Path"]), binary.clone(), public));
        }
    }
    assert_eq!(routes, from_route_table());
    let crates: BTreeSet<String> = std::fs::read_dir(repo_root().join("functions"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(functions, crates, "every function crate is deployed, and nothing else");
}

#[test]
fn every_function_runs_arm64_al2023_in_128_mb_with_json_logs() {
    let template = template();
    let globals = &template["Globals"]["Function"];
    assert_eq!(text(&globals["Runtime"]), "provided.al2023");
    assert_eq!(globals["Architectures"][0], Value::String("arm64".into()));
    assert_eq!(globals["MemorySize"], Value::Number(128.into()));
    assert_eq!(text(&globals["LoggingConfig"]["LogFormat"]), "JSON");
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"] == Value::String("AWS::Serverless::Function".into()) {
            assert!(resource["Properties"]["MemorySize"].is_null(), "a function overrides the 128 MB memory size");
        }
    }
}

#[test]
fn the_kept_openapi_document_is_the_served_one_and_lists_every_route() {
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("infra/openapi.json")).unwrap()).unwrap();
    assert_eq!(
        kept,
        clinic_shared::openapi::document(),
        "infra/openapi.json is stale: regenerate it with `cargo run -p clinic-shared --bin clinic-local -- openapi > infra/openapi.json`"
    );
    assert_eq!(kept["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in kept["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            documented.insert((method.to_ascii_uppercase(), path.clone(), operation.get("security").is_none()));
        }
    }
    let table: BTreeSet<_> = ROUTES
        .iter()
        .map(|route| (route.method.to_owned(), route.path.to_owned(), route.access == Access::Public))
        .collect();
    assert_eq!(documented, table);
}

#[tokio::test]
async fn the_local_server_serves_every_route_in_the_table() {
    let app = TestApp::spawn().await;
    let token = app.demo_admin();
    for route in ROUTES.iter() {
        let path =
            route.path.replace("{clinicId}", "demo").replace("{bookingTypeId}", "0b7e6f8e-7a53-4d64-9a1b-5c4c8e0f4c11");
        let answer = app.call(route.method, &path, Some(&token), (route.method != "GET").then(|| b"{}".to_vec())).await;
        let detail = answer.body["detail"].as_str().unwrap_or("");
        assert!(!detail.starts_with("no route"), "{} is not served locally: {detail}", route.key());
        assert!(answer.status < 500, "{} answered {}", route.key(), answer.status);
    }
    let served: serde_json::Value = app.get("/openapi.json", None).await.body;
    assert_eq!(served, clinic_shared::openapi::document());
}

/// The contract check every API test's answers pass through can fail: an undocumented status, an
/// undocumented media type and a body that breaks its schema are each caught.
#[test]
fn the_contract_check_refuses_what_the_document_does_not_say() {
    use clinic_tests::contract::check;
    let refused = |method: &'static str, path: &'static str, status: u16, kind: &'static str, body: &'static str| {
        std::panic::catch_unwind(|| check(method, path, status, kind, body.as_bytes())).is_err()
    };
    let profile = r#"{"id":"demo","name":"Riverside","version":1}"#;
    assert!(refused("GET", "/health", 418, "application/json", "{}"), "an undocumented status");
    assert!(refused("GET", "/health", 200, "text/plain", "ok"), "an undocumented media type");
    assert!(refused("GET", "/admin/clinics/demo", 200, "application/json", profile), "a body missing fields");
    assert!(
        refused("GET", "/admin/clinics/demo", 404, "application/problem+json", r#"{"status":"x"}"#),
        "a bad problem"
    );
    assert!(!refused("GET", "/health", 200, "application/json", r#"{"status":"ok"}"#));
    assert!(!refused(
        "GET",
        "/admin/clinics/demo",
        404,
        "application/problem+json",
        r#"{"type":"about:blank","title":"Not found","status":404,"detail":"no such clinic"}"#
    ));
}

#[tokio::test]
async fn a_known_path_asked_with_another_method_is_a_405_naming_the_methods() {
    let app = TestApp::spawn().await;
    for (method, path, allowed) in [
        ("TRACE", "/health", "GET"),
        ("DELETE", "/admin/clinics/demo/booking-types", "POST, GET"),
        ("PUT", "/book/demo", "GET, POST"),
        // The literal resource, not the patient record whose reference would have that shape.
        ("OPTIONS", "/admin/clinics/demo/patients/search-index", "POST"),
        ("DELETE", "/admin/clinics/demo/patients/MRN-1", "GET, PUT"),
    ] {
        let response = app
            .client
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(response.headers()["allow"], allowed, "{method} {path}");
        assert_eq!(response.headers()["content-type"], "application/problem+json");
    }
    let unknown = app.client.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
}
