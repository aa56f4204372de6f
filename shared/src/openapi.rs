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
        Content::Form => vec![("application/x-www-form-urlencoded", json!({"schema": {"type": "object"}}))],
        Content::Script => vec![("text/javascript", text())],
        Content::Pdf => vec![("application/pdf", binary())],
        Content::Image => vec![("image/png", binary()), ("image/jpeg", binary())],
    };
    Some(pairs.into_iter().map(|(kind, value)| (kind.to_owned(), value)).collect())
}

const UUID: &str = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// The schema of a JSON route's query parameter: a name means the same thing on every route
/// (`from` is always a day, `limit` always a page size), and "`any`" in its description means
/// the parameter also takes `any`. Pages take their parameters as plain text: a bad value shows
/// the page's own message, never an error.
fn query_schema(route: &Route, name: &str, description: &str) -> Value {
    if route.is_page() {
        return json!({"type": "string"});
    }
    const GROUP: &str = "(channel|partner_id|booking_type_id|provider_id)";
    match name {
        "limit" => json!({"type": "integer", "minimum": 1, "maximum": 100}),
        "from" | "to" | "date" | "date_of_birth" => {
            json!({"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"})
        }
        "booking_type_id" | "provider_id" | "location_id" if description.contains("`any`") => {
            json!({"anyOf": [{"type": "string", "pattern": UUID}, {"const": "any"}]})
        }
        "booking_type_id" | "provider_id" | "location_id" => {
            json!({"type": "string", "format": "uuid", "pattern": UUID})
        }
        "partner_id" => json!({"type": "string", "pattern": "^[a-z0-9-]{1,64}$"}),
        "asap" | "archived" => json!({"type": "boolean"}),
        "format" => json!({"type": "string", "enum": ["json", "csv"]}),
        "status" => json!({"type": "string", "enum": ["to_post", "all"]}),
        "group_by" => json!({"type": "string", "pattern": format!("^{GROUP}(,{GROUP})*$")}),
        _ => json!({"type": "string"}),
    }
}

/// The schema of a path parameter, by its name.
fn path_parameter(name: &str) -> Value {
    let (schema, description) = match name {
        "clinicId" => (json!({"type": "string", "pattern": "^[a-z0-9-]{1,64}$"}), "The clinic's code"),
        "partnerId" => (json!({"type": "string", "pattern": "^[a-z0-9-]{1,64}$"}), "The partner's code"),
        "patientReference" => {
            (json!({"type": "string", "pattern": "^[A-Za-z0-9-]{1,40}$"}), "The patient record's reference")
        }
        "token" => (json!({"type": "string"}), "The secret token from the link the patient was sent"),
        _ => (json!({"type": "string", "format": "uuid", "pattern": UUID}), "An id the API gave"),
    };
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": schema})
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
        let schema = query_schema(route, name, description);
        json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
    }));
    if route.if_match {
        parameters.push(json!({
            "name": "If-Match",
            "in": "header",
            "required": false,
            "description": "The record's `version` (or the `ETag` of the answer that read it), as `\"3\"`: the change is made only if nobody has changed the record since (412 otherwise)",
            "schema": {"type": "string", "pattern": "^(\\*|(W/)?\"[0-9]+\")$"}
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
    if let Some(media) = media(route.request, schemas) {
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
