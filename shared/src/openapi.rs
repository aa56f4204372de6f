//! The OpenAPI 3.1 document, generated from the route table (each row's request, answers and
//! problems) and the types it names, so it cannot drift from what the code serves.
//! `infra/openapi.json` is a copy checked by a test.

use serde_json::{Map, Value, json};

use crate::http::Problem;
use crate::routes::{Access, Content, ROUTES, Route, Schema};

/// The route families, as tags: the Lambda function's name and what it serves.
const TAGS: &[(&str, &str)] = &[
    ("meta", "Health and this document"),
    (
        "catalog-admin",
        "The clinic: profile, logo, booking types, locations, providers, online settings, online services, appointment settings",
    ),
    ("catalog-public", "What a clinic offers online"),
    ("diary-admin", "The diary: templates, blocks, appointments, patients, waitlist, statistics"),
    (
        "booking-public",
        "Patients book: availability, bookings, referral uploads, the booking pages, the portal, the waitlist form",
    ),
    ("booking-links-admin", "Broadcast rules and the booking links staff text to patients"),
    ("booking-links-public", "The pages behind booking links, manage links and waitlist offers"),
    ("partner-booking-admin", "Partners, and staff booking on a partner's behalf"),
    ("patient-connect-admin", "Patient Connect: templates, programs, enrollments, letters, referrals"),
];

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The media types of a body, registering JSON schemas in `schemas`.
fn media(content: Content, schemas: &mut Map<String, Value>) -> Option<Map<String, Value>> {
    let binary = || json!({"schema": {"type": "string", "format": "binary"}});
    let text = || json!({"schema": {"type": "string"}});
    let pairs: Vec<(&str, Value)> = match content {
        Content::None => return None,
        Content::Json(schema) => vec![("application/json", json!({"schema": schema_ref(&(schema.0)(schemas))}))],
        Content::AnyJson => vec![("application/json", json!({}))],
        Content::Csv => vec![("text/csv", text())],
        Content::Html => vec![("text/html", text())],
        Content::Form(schema) => {
            vec![("application/x-www-form-urlencoded", json!({"schema": schema_ref(&(schema.0)(schemas))}))]
        }
        Content::Script => vec![("text/javascript", text())],
        Content::Pdf => vec![("application/pdf", binary())],
        Content::Image => vec![("image/png", binary()), ("image/jpeg", binary())],
    };
    Some(pairs.into_iter().map(|(kind, value)| (kind.to_owned(), value)).collect())
}

/// A UUID, hyphenated or not (Patient Connect's ids are written without hyphens).
const UUID: &str = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$";
/// A clinic's or partner's code.
const CODE: &str = "^[a-z0-9-]{1,64}$";

/// The schema of a query parameter: a name means the same thing on every route (`from` is always
/// a day, `limit` always a page size), and "`any`" in its description means the parameter also
/// takes `any`. Pages read the same shapes; a value of the right shape that leads nowhere shows
/// the page's own message.
fn query_schema(name: &str, description: &str) -> Value {
    const GROUP: &str = "(channel|partner_id|booking_type_id|provider_id)";
    let takes_any = description.contains("`any`") || description.contains("or any");
    let id_or_any = || json!({"anyOf": [{"type": "string", "pattern": UUID}, {"const": "any"}]});
    let date = || json!({"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"});
    match name {
        "limit" => json!({"type": "integer", "minimum": 1, "maximum": 100}),
        "cursor" => json!({"type": "string", "pattern": "^[A-Za-z0-9_-]{0,1024}$"}),
        "search" => json!({"type": "string", "maxLength": 120}),
        "from" | "to" | "date" | "date_of_birth" | "day" => date(),
        "booking_type_id" | "provider_id" | "location_id" | "provider" | "location" if takes_any => id_or_any(),
        "booking_type_id" | "provider_id" | "location_id" | "type" | "service" | "with" | "at" => {
            json!({"type": "string", "pattern": UUID})
        }
        "time" => json!({"anyOf": [{"type": "string", "format": "date-time"}, {"const": "asap"}]}),
        "lang" => json!({"type": "string", "enum": ["en", "fr"]}),
        "partner_id" => json!({"type": "string", "pattern": CODE}),
        "asap" | "archived" => json!({"type": "boolean"}),
        "format" => json!({"type": "string", "enum": ["json", "csv"]}),
        "status" => json!({"type": "string", "enum": ["to_post", "all"]}),
        "group_by" => json!({"type": "string", "pattern": format!("^({GROUP}(,{GROUP})*)?$")}),
        _ => json!({"type": "string"}),
    }
}

/// Ids in request bodies mean what they mean in paths: a property named `…_id` or `…_ids` holds ids the
/// API gave (UUIDs; "or `any`" in its description also takes `any`), `partner_id` a partner's
/// code. Ids other systems give (message ids) keep their own form.
fn constrain_ids(schema: &mut Value) {
    const FOREIGN: &[&str] =
        &["clinic_id", "job_id", "inbound_message_id", "message_id", "provider_message_id", "sms_message_id"];
    match schema {
        Value::Object(object) => {
            if let Some(Value::Object(properties)) = object.get_mut("properties") {
                for (name, property) in properties.iter_mut() {
                    let takes_any = property
                        .get("description")
                        .and_then(Value::as_str)
                        .is_some_and(|text| text.contains("or `any`") || text.contains("or any"));
                    let target = if name.ends_with("_ids") { property.get_mut("items") } else { Some(&mut *property) };
                    let Some(Value::Object(target)) = target else { continue };
                    let kind = target.get("type");
                    let is_string = kind == Some(&json!("string")) || kind == Some(&json!(["string", "null"]));
                    if !is_string || target.contains_key("pattern") || FOREIGN.contains(&name.as_str()) {
                        continue;
                    }
                    let pattern = match name.as_str() {
                        "partner_id" => CODE.to_owned(),
                        _ if !(name.ends_with("_id") || name.ends_with("_ids")) => continue,
                        _ if takes_any => format!("{}|^any$", UUID),
                        // An optional id may be sent empty: the same as none.
                        _ if kind == Some(&json!(["string", "null"])) => format!("{}|^$", UUID),
                        _ => UUID.to_owned(),
                    };
                    target.insert("pattern".into(), Value::String(pattern));
                }
            }
            object.values_mut().for_each(constrain_ids);
        }
        Value::Array(items) => items.iter_mut().for_each(constrain_ids),
        _ => {}
    }
}

/// The names of the schemas a request body uses, directly or through others.
fn request_schemas(paths: &Map<String, Value>, schemas: &Map<String, Value>) -> std::collections::BTreeSet<String> {
    fn references(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(object) => {
                if let Some(Value::String(target)) = object.get("$ref") {
                    found.extend(target.strip_prefix("#/components/schemas/").map(str::to_owned));
                }
                object.values().for_each(|value| references(value, found));
            }
            Value::Array(items) => items.iter().for_each(|value| references(value, found)),
            _ => {}
        }
    }
    let mut pending = Vec::new();
    for operation in paths.values().filter_map(Value::as_object).flat_map(|item| item.values()) {
        if let Some(body) = operation.get("requestBody") {
            references(body, &mut pending);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = pending.pop() {
        if seen.insert(name.clone())
            && let Some(schema) = schemas.get(&name)
        {
            references(schema, &mut pending);
        }
    }
    seen
}

/// The schema of a path parameter, by its name.
fn path_parameter(name: &str) -> Value {
    let (schema, description) = match name {
        "clinicId" => (json!({"type": "string", "pattern": CODE}), "The clinic's code"),
        "partnerId" => (json!({"type": "string", "pattern": CODE}), "The partner's code"),
        "patientReference" => {
            (json!({"type": "string", "pattern": "^[A-Za-z0-9-]{1,40}$"}), "The patient record's reference")
        }
        "token" => (json!({"type": "string"}), "The secret token from the link the patient was sent"),
        "letterId" => (
            json!({"type": "string", "pattern": "^[A-Za-z0-9-]{1,64}$"}),
            "A letter's id, as the distribution list gives it",
        ),
        _ => (json!({"type": "string", "pattern": UUID}), "An id the API gave"),
    };
    let example = crate::routes::examples::path_parameter(name);
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": schema, "example": example})
}

fn status_description(status: u16) -> &'static str {
    match status {
        200 => "Done",
        201 => "Created",
        202 => "Accepted, to be applied later",
        204 => "Done, nothing to show",
        303 => "See the next page",
        _ => "The page again, with the problem shown",
    }
}

fn operation(route: &Route, schemas: &mut Map<String, Value>) -> Value {
    let mut parameters: Vec<Value> = route
        .path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(path_parameter)
        .collect();
    parameters.extend(route.query.iter().map(|(name, description)| {
        let schema = query_schema(name, description);
        json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
    }));
    if route.if_match {
        parameters.push(json!({
            "name": "If-Match",
            "in": "header",
            "required": false,
            "description": "The record's `version` (or the `ETag` of the answer that read it), as `\"3\"`: the change is made only if nobody has changed the record since (412 otherwise). Empty or `*`: no condition",
            "schema": {"type": "string", "pattern": "^(|\\*|(W/)?\"[0-9]{1,18}\")$"}
        }));
    }
    let mut responses = Map::new();
    for (status, content) in &route.answers {
        let response =
            responses.entry(status.to_string()).or_insert_with(|| json!({"description": status_description(*status)}));
        if let Some(media) = media(*content, schemas)
            && let Some(response) = response.as_object_mut()
            && let Some(content) = response.entry("content").or_insert_with(|| json!({})).as_object_mut()
        {
            content.extend(media);
        }
    }
    // Pages show their problems as pages; a request that never reached the page (a malformed
    // form, too many requests) gets the problem document.
    let problem_media = if route.is_page() {
        json!({
            "text/html": {"schema": {"type": "string"}},
            "application/problem+json": {"schema": schema_ref("Problem")}
        })
    } else {
        json!({"application/problem+json": {"schema": schema_ref("Problem")}})
    };
    for (status, description) in route.problems() {
        let response =
            responses.entry(status.to_string()).or_insert_with(|| json!({"description": description, "content": {}}));
        if let (Some(content), Some(media)) = (response["content"].as_object_mut(), problem_media.as_object()) {
            for (kind, schema) in media {
                content.entry(kind.clone()).or_insert_with(|| schema.clone());
            }
        }
    }
    let mut operation = json!({
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": [route.function],
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(mut media) = media(route.request, schemas) {
        if let Some(example) = &route.example {
            media.values_mut().for_each(|kind| kind["example"] = example.clone());
        }
        operation["requestBody"] = json!({"required": true, "content": media});
    }
    if route.access == Access::Admin {
        operation["security"] = json!([{"adminJwt": []}]);
    }
    operation
}

/// The whole document.
pub fn document() -> Value {
    let mut schemas = Map::new();
    (Schema::of::<Problem>().0)(&mut schemas);
    let mut paths = Map::new();
    for route in ROUTES.iter() {
        let item = operation(route, &mut schemas);
        let entry = paths.entry(route.path.to_owned()).or_insert_with(|| json!({}));
        entry[route.method.to_ascii_lowercase()] = item;
    }
    for name in request_schemas(&paths, &schemas) {
        if let Some(schema) = schemas.get_mut(&name) {
            constrain_ids(schema);
        }
    }
    let tags: Vec<Value> =
        TAGS.iter().map(|(name, description)| json!({"name": name, "description": description})).collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Clinic online booking",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Admin routes need a JWT whose `clinics` claim names the clinic and whose `permissions` claim holds the permission. Errors are RFC 9457 problem documents."
        },
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"adminJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_referenced_schema_is_defined_and_every_tag_is_declared() {
        let document = document();
        let text = document.to_string();
        let schemas = document["components"]["schemas"].as_object().unwrap();
        for reference in text.split("#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "{name} is referenced but not defined");
        }
        for route in ROUTES.iter() {
            assert!(TAGS.iter().any(|(tag, _)| *tag == route.function), "{} has no tag", route.function);
        }
    }

    #[test]
    fn every_path_parameter_has_a_pattern_or_is_a_token() {
        for route in ROUTES.iter() {
            for parameter in route.path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            {
                let described = path_parameter(parameter);
                assert!(
                    parameter == "token" || described["schema"]["pattern"].is_string(),
                    "{parameter} in {} has no pattern",
                    route.key()
                );
            }
        }
    }
}
