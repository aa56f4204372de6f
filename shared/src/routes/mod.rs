//! The route table: one row per route, holding everything about it — method, path, the Lambda
//! function that serves it, who may call it, its handler, and what it takes and answers. The
//! router dispatches from these rows, the OpenAPI document is generated from them, and tests
//! check the SAM template and every answer the API gives against them.

pub mod examples;
mod table;

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::Problem;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (patients, health checks).
    Public,
    /// Staff with a JWT (validated by the API's JWT authorizer).
    Admin,
}

/// What a handler returns.
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<Response<Body>, Problem>> + Send + 'a>>;

/// A route's handler.
pub type Handler = for<'a> fn(&'a AppState, &'a Request) -> HandlerFuture<'a>;

/// How a route is served.
#[derive(Clone, Copy)]
pub enum Serve {
    /// By a feature's handler.
    Handler(Handler),
    /// By the router, with the OpenAPI document generated from this table.
    Document,
}

/// A JSON body's schema: adds the type's schemas to the document's components and returns the
/// name it is registered under. Built from a type (`json::<T>()`), never from a string.
#[derive(Clone, Copy)]
pub struct Schema(pub fn(&mut Map<String, Value>) -> String);

/// How a request or response body is described.
#[derive(Clone, Copy)]
pub enum Content {
    /// No body.
    None,
    /// JSON of a type.
    Json(Schema),
    /// JSON of any shape.
    AnyJson,
    /// CSV text.
    Csv,
    /// An HTML page.
    Html,
    /// A form (`application/x-www-form-urlencoded`) of type `T`.
    Form(Schema),
    /// A script.
    Script,
    /// A PDF document.
    Pdf,
    /// A PNG or JPEG image.
    Image,
}

/// Adds `schema` under `name`; two different types under one name would make the document lie
/// about one of them, so that fails the tests (they run with debug assertions).
fn insert_schema(schemas: &mut Map<String, Value>, name: String, schema: Value) {
    if let Some(existing) = schemas.get(&name) {
        debug_assert!(existing == &schema, "two different types are both named {name} in the OpenAPI document");
    }
    schemas.insert(name, schema);
}

fn register<T: ToSchema>(schemas: &mut Map<String, Value>) -> String {
    let mut nested = Vec::new();
    T::schemas(&mut nested);
    for (name, schema) in nested {
        insert_schema(schemas, name, serde_json::to_value(schema).unwrap_or(Value::Null));
    }
    let name = T::name().into_owned();
    insert_schema(schemas, name.clone(), serde_json::to_value(T::schema()).unwrap_or(Value::Null));
    name
}

fn register_versioned<T: ToSchema>(schemas: &mut Map<String, Value>) -> String {
    let entry = register::<T>(schemas);
    let name = format!("Versioned{entry}");
    let versioned = serde_json::json!({
        "allOf": [
            {"$ref": format!("#/components/schemas/{entry}")},
            {
                "type": "object",
                "required": ["version"],
                "properties": {"version": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "Send as `If-Match: \"<version>\"` to change it only if nobody else has (412 otherwise); also sent as `ETag`"
                }}
            }
        ]
    });
    insert_schema(schemas, name.clone(), versioned);
    name
}

fn register_page<T: ToSchema>(schemas: &mut Map<String, Value>) -> String {
    let item = register_versioned::<T>(schemas);
    let name = format!("{}Page", item.trim_start_matches("Versioned"));
    let page = serde_json::json!({
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": format!("#/components/schemas/{item}")}},
            "next_cursor": {"type": ["string", "null"], "description": "Pass as `cursor` to read the next page"}
        }
    });
    insert_schema(schemas, name.clone(), page);
    name
}

impl Schema {
    /// The schema of `T`.
    pub fn of<T: ToSchema>() -> Self {
        Schema(register::<T>)
    }
}

/// A JSON body of type `T`.
pub fn json<T: ToSchema>() -> Content {
    Content::Json(Schema::of::<T>())
}

/// A posted HTML form of type `T`.
pub fn form<T: ToSchema>() -> Content {
    Content::Form(Schema::of::<T>())
}

/// A `T` with its `version`.
pub fn versioned<T: ToSchema>() -> Content {
    Content::Json(Schema(register_versioned::<T>))
}

/// A page of versioned `T`s: `{items, next_cursor}`.
pub fn page<T: ToSchema>() -> Content {
    Content::Json(Schema(register_page::<T>))
}

/// One route.
#[derive(Clone)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path template in API Gateway syntax.
    pub path: &'static str,
    /// The Lambda function (folder under `functions/`) that serves it.
    pub function: &'static str,
    /// Who may call it.
    pub access: Access,
    /// The OpenAPI operation id (stable: generated clients name their methods after it).
    pub operation_id: &'static str,
    /// What it does, in a line.
    pub summary: &'static str,
    /// Its handler.
    pub serve: Serve,
    /// The request body.
    pub request: Content,
    /// Every answer other than a problem: status and body (a status may appear twice, with
    /// different bodies).
    pub answers: Vec<(u16, Content)>,
    /// Problem statuses this route gives beyond those every route of its kind can give (see
    /// `problems`).
    pub errors: Vec<u16>,
    /// Query parameters and what they mean.
    pub query: &'static [(&'static str, &'static str)],
    /// Whether a write takes `If-Match` (the `version` or `ETag` read) and answers 412 when the
    /// record has changed since.
    pub if_match: bool,
    /// An example request body (the demo clinic's ids: it works against the local server).
    pub example: Option<serde_json::Value>,
}

impl Route {
    /// The API Gateway route key, e.g. `GET /health`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    fn summary(mut self, summary: &'static str) -> Self {
        self.summary = summary;
        self
    }

    fn takes(mut self, request: Content) -> Self {
        self.request = request;
        self
    }

    fn answers<const N: usize>(mut self, answers: [(u16, Content); N]) -> Self {
        self.answers = answers.into();
        self
    }

    fn errors<const N: usize>(mut self, errors: [u16; N]) -> Self {
        self.errors = errors.into();
        self
    }

    fn query(mut self, query: &'static [(&'static str, &'static str)]) -> Self {
        self.query = query;
        self
    }

    fn example(mut self, body: serde_json::Value) -> Self {
        self.example = Some(body);
        self
    }

    fn conditional(mut self) -> Self {
        self.if_match = true;
        self
    }

    /// Whether the route serves a fixed document (no clinic data, no rate limit).
    pub fn is_static(&self) -> bool {
        self.path == "/health" || self.path == "/openapi.json" || self.path.starts_with("/staff/")
    }

    /// Whether its pages are HTML (problems are then shown as HTML pages too).
    pub fn is_page(&self) -> bool {
        self.answers.iter().any(|(_, content)| matches!(content, Content::Html))
    }

    /// Every problem status the route may answer with, and why: those of its kind, then its own.
    pub fn problems(&self) -> Vec<(u16, &'static str)> {
        let mut problems = vec![(400, "Malformed request"), (404, "Not found"), (503, "Temporarily unavailable")];
        if self.access == Access::Admin {
            problems.extend([(401, "No valid admin token"), (403, "Token lacks this clinic or permission")]);
        }
        if self.access == Access::Public && !self.is_static() {
            problems.push((429, "Too many requests from this address (see `Retry-After`)"));
        }
        if matches!(self.request, Content::Json(_) | Content::Image) {
            problems.extend([
                (413, "Body too large"),
                (415, "Not the body's media type"),
                (422, "Invalid field values"),
            ]);
        } else if !self.query.is_empty() {
            problems.push((422, "Invalid query values (each named)"));
        }
        if self.access == Access::Admin && self.method != "GET" {
            problems.push((409, "Conflict with the current state, or a concurrent change (read again and retry)"));
        }
        if self.if_match {
            problems.push((412, "The record changed since it was read (`If-Match`): read it again"));
        }
        for status in &self.errors {
            if !problems.iter().any(|(known, _)| known == status) {
                problems.push((*status, error_reason(*status)));
            }
        }
        problems
    }
}

fn error_reason(status: u16) -> &'static str {
    match status {
        403 => "Not allowed",
        409 => "Conflict with the current state",
        410 => "No longer available",
        412 => "The entity changed since it was read (`If-Match`)",
        422 => "Invalid field values",
        _ => "Refused",
    }
}

fn route(
    method: &'static str,
    path: &'static str,
    function: &'static str,
    access: Access,
    operation_id: &'static str,
    serve: Serve,
) -> Route {
    Route {
        method,
        path,
        function,
        access,
        operation_id,
        summary: "",
        serve,
        request: Content::None,
        answers: Vec::new(),
        errors: Vec::new(),
        query: &[],
        if_match: false,
        example: None,
    }
}

/// Every route.
pub static ROUTES: LazyLock<Vec<Route>> = LazyLock::new(table::routes);

/// The route with this operation id.
pub fn by_operation(operation_id: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|route| route.operation_id == operation_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys_and_operation_ids_are_unique_and_admin_routes_live_under_admin() {
        let mut keys: Vec<String> = ROUTES.iter().map(Route::key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), ROUTES.len());
        let mut ids: Vec<&str> = ROUTES.iter().map(|route| route.operation_id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ROUTES.len());
        for route in ROUTES.iter() {
            assert_eq!(route.access == Access::Admin, route.path.starts_with("/admin/"), "{}", route.key());
            assert!(!route.summary.is_empty(), "{} has no summary", route.key());
            assert!(!route.answers.is_empty(), "{} documents no answer", route.key());
        }
        assert!(
            ROUTES
                .iter()
                .filter(|route| route.path.starts_with("/admin/"))
                .all(|route| route.function.ends_with("-admin"))
        );
    }
}
