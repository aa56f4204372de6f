//! The OpenAPI 3.1 document, generated from the route table and the request and response types,
//! so it cannot drift from what the code serves. `infra/openapi.json` is a copy checked by a test.

use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::domain::booking_type::{BookingType, NewBookingTypeInput};
use crate::domain::clinic::ClinicProfileInput;
use crate::features::activity::ActivityReport;
use crate::features::booking_types::admin::{BookingTypePage, HistoryPage, ScheduledChange, UpdateBookingTypeInput};
use crate::features::booking_types::public::PublicCatalog;
use crate::features::clinics::ClinicView;
use crate::http::Problem;
use crate::routes::{Access, Endpoint, ROUTES};

fn add<T: ToSchema>(schemas: &mut Map<String, Value>) {
    let mut nested = Vec::new();
    T::schemas(&mut nested);
    for (name, schema) in nested {
        schemas.insert(name, serde_json::to_value(schema).unwrap_or(Value::Null));
    }
    schemas.insert(T::name().into_owned(), serde_json::to_value(T::schema()).unwrap_or(Value::Null));
}

fn components() -> Map<String, Value> {
    let mut schemas = Map::new();
    add::<Problem>(&mut schemas);
    add::<ClinicProfileInput>(&mut schemas);
    add::<ClinicView>(&mut schemas);
    add::<NewBookingTypeInput>(&mut schemas);
    add::<UpdateBookingTypeInput>(&mut schemas);
    add::<BookingType>(&mut schemas);
    add::<BookingTypePage>(&mut schemas);
    add::<ScheduledChange>(&mut schemas);
    add::<HistoryPage>(&mut schemas);
    add::<ActivityReport>(&mut schemas);
    add::<PublicCatalog>(&mut schemas);
    schemas
}

/// Summary, request schema, success responses and query parameters of an endpoint.
struct Operation {
    summary: &'static str,
    request: Option<&'static str>,
    success: &'static [(u16, &'static str)],
    query: &'static [(&'static str, &'static str)],
}

const PAGING: &[(&str, &str)] =
    &[("limit", "Page size, 1 to 100 (default 50)"), ("cursor", "`next_cursor` of the previous page")];

fn operation(endpoint: Endpoint) -> Operation {
    let op = |summary, request, success, query| Operation { summary, request, success, query };
    match endpoint {
        Endpoint::Health => op("Liveness check", None, &[(200, "")], &[]),
        Endpoint::OpenApi => op("This OpenAPI document", None, &[(200, "")], &[]),
        Endpoint::PutClinic => op(
            "Create or update the clinic's profile",
            Some("ClinicProfileInput"),
            &[(200, "ClinicView"), (201, "ClinicView")],
            &[],
        ),
        Endpoint::CreateBookingType => {
            op("Create a booking type", Some("NewBookingTypeInput"), &[(201, "BookingType")], &[])
        }
        Endpoint::ListBookingTypes => op("List the clinic's booking types", None, &[(200, "BookingTypePage")], PAGING),
        Endpoint::UpdateBookingType => op(
            "Change a booking type now, or at `effective_at`",
            Some("UpdateBookingTypeInput"),
            &[(200, "BookingType"), (202, "ScheduledChange")],
            &[],
        ),
        Endpoint::BookingTypeHistory => op("A booking type's audit history", None, &[(200, "HistoryPage")], PAGING),
        Endpoint::ClinicActivity => op(
            "Daily activity counters",
            None,
            &[(200, "ActivityReport")],
            &[
                ("from", "First day, YYYY-MM-DD (default: 29 days before `to`)"),
                ("to", "Last day, YYYY-MM-DD (default: today, UTC)"),
            ],
        ),
        Endpoint::PublicCatalog => op("The booking types a clinic offers online", None, &[(200, "PublicCatalog")], &[]),
    }
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn path_item_operation(route: &crate::routes::Route) -> Value {
    let spec = operation(route.endpoint);
    let mut parameters: Vec<Value> = route
        .path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    parameters.extend(
        spec.query.iter().map(|(name, description)| json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}})),
    );
    let mut responses = Map::new();
    for (status, schema) in spec.success {
        let content = if schema.is_empty() {
            json!({"application/json": {}})
        } else {
            json!({"application/json": {"schema": schema_ref(schema)}})
        };
        responses.insert(status.to_string(), json!({"description": "Success", "content": content}));
    }
    let problem = json!({"application/problem+json": {"schema": schema_ref("Problem")}});
    let mut errors: Vec<(u16, &str)> =
        vec![(400, "Malformed request"), (404, "Not found"), (503, "Temporarily unavailable")];
    if route.access == Access::Admin {
        errors.extend([(401, "No valid admin token"), (403, "Token lacks this clinic or permission")]);
    }
    if spec.request.is_some() {
        errors.extend([
            (409, "Concurrent change"),
            (413, "Body too large"),
            (415, "Not JSON"),
            (422, "Invalid field values"),
        ]);
    }
    for (status, description) in errors {
        responses.insert(status.to_string(), json!({"description": description, "content": problem}));
    }
    let mut operation = json!({
        "operationId": format!("{:?}", route.endpoint),
        "summary": spec.summary,
        "tags": [route.function],
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(request) = spec.request {
        operation["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": schema_ref(request)}}});
    }
    if route.access == Access::Admin {
        operation["security"] = json!([{"adminJwt": []}]);
    }
    operation
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let entry = paths.entry(route.path.to_owned()).or_insert_with(|| json!({}));
        entry[route.method.to_ascii_lowercase()] = path_item_operation(route);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Clinic online booking",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Admin routes need a JWT whose `clinics` claim names the clinic and whose `permissions` claim holds the permission. Errors are RFC 9457 problem documents."
        },
        "paths": paths,
        "components": {
            "schemas": components(),
            "securitySchemes": {"adminJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_referenced_schema_is_defined() {
        let document = document();
        let text = document.to_string();
        let schemas = document["components"]["schemas"].as_object().unwrap();
        for reference in text.split("#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "{name} is referenced but not defined");
        }
    }
}
