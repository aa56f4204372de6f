//! Every answer the API tests receive is checked against the OpenAPI document the server serves:
//! the status must be documented for the operation, the media type documented for that status,
//! and a JSON body must validate against the documented schema. So the whole API suite doubles as
//! a contract test, and a handler cannot answer what the document does not say.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use serde_json::{Value, json};

struct Contract {
    document: Value,
    validators: Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>,
}

static CONTRACT: LazyLock<Contract> =
    LazyLock::new(|| Contract { document: clinic_shared::openapi::document(), validators: Mutex::default() });

/// The path template of the document that `path` matches, preferring literal segments.
fn template_of<'a>(paths: &'a serde_json::Map<String, Value>, path: &str) -> Option<&'a str> {
    let segments: Vec<&str> = path.split('/').collect();
    paths
        .keys()
        .filter_map(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literal = 0;
            for (part, segment) in parts.iter().zip(&segments) {
                if part.starts_with('{') {
                    if segment.is_empty() {
                        return None;
                    }
                } else if part == segment {
                    literal += 1;
                } else {
                    return None;
                }
            }
            Some((literal, template.as_str()))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, template)| template)
}

fn validator(schema: &Value) -> std::sync::Arc<jsonschema::Validator> {
    let key = schema.to_string();
    let mut validators = CONTRACT.validators.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    validators
        .entry(key)
        .or_insert_with(|| {
            let mut rooted = schema.clone();
            if let Some(object) = rooted.as_object_mut() {
                object.insert("components".into(), CONTRACT.document["components"].clone());
            } else {
                rooted = json!({"allOf": [schema], "components": CONTRACT.document["components"]});
            }
            std::sync::Arc::new(
                jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .build(&rooted)
                    .unwrap_or_else(|error| panic!("the document's schema {schema} compiles: {error}")),
            )
        })
        .clone()
}

/// Checks one answer against the document; panics naming the operation and what disagrees.
/// Paths the document does not describe (the local server's own `/_local/*`, or paths a test
/// invents to get a 404) are not checked.
pub fn check(method: &str, path_and_query: &str, status: u16, content_type: &str, body: &[u8]) {
    let path = path_and_query.split('?').next().unwrap_or(path_and_query);
    let Some(paths) = CONTRACT.document["paths"].as_object() else { return };
    let Some(template) = template_of(paths, path) else { return };
    let Some(operation) = paths[template].get(method.to_ascii_lowercase()) else { return };
    let name = format!("{method} {template} ({})", operation["operationId"].as_str().unwrap_or("?"));
    let Some(response) = operation["responses"].get(status.to_string()) else {
        panic!("{name} answered {status}, which the document does not list; body: {}", String::from_utf8_lossy(body));
    };
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        assert!(body.is_empty(), "{name} answered {status} with a {media_type} body; the document says no body");
        return;
    };
    let Some(described) = content.get(media_type) else {
        panic!(
            "{name} answered {status} as {media_type:?}; the document lists {:?}; body: {}",
            content.keys().collect::<Vec<_>>(),
            String::from_utf8_lossy(body)
        );
    };
    if media_type.ends_with("json")
        && let Some(schema) = described.get("schema")
    {
        let instance: Value = serde_json::from_slice(body)
            .unwrap_or_else(|_| panic!("{name} answered {status} with {media_type} that is not JSON"));
        let errors: Vec<String> =
            validator(schema).iter_errors(&instance).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(
            errors.is_empty(),
            "{name} answered {status} with a body the document does not allow: {errors:#?}\nbody: {instance}"
        );
    }
}
