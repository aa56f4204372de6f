//! Reading requests: the route key, the clinic and other path and query parameters, paging, and
//! JSON and form bodies parsed into typed inputs with the failing field named.

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::problem::{MAX_BODY_BYTES, Problem};
use crate::domain::clinic::ClinicId;
use crate::domain::validation::FieldError;
use crate::store::{Cursor, Query};

/// The API Gateway route key (`GET /health`), as API Gateway and the local server set it.
pub fn route_key(request: &Request) -> Option<&str> {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.route_key.as_deref(),
        _ => None,
    }
}

/// The API Gateway request id, for logs.
pub fn request_id(request: &Request) -> &str {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.request_id.as_deref().unwrap_or("-"),
        _ => "-",
    }
}

/// The caller's address as API Gateway saw it.
pub fn source_ip(request: &Request) -> Option<&str> {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.as_deref(),
        _ => None,
    }
}

/// A path parameter, parsed by `parse`; a missing one is a malformed request.
pub fn path_param<T>(
    request: &Request,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, FieldError>,
) -> Result<T, Problem> {
    let raw = request
        .path_parameters_ref()
        .and_then(|parameters| parameters.first(name))
        .ok_or_else(|| Problem::malformed(name, "is missing from the path"))?;
    parse(raw).map_err(|error| Problem::malformed(error.field, error.message))
}

/// An optional query-string parameter.
pub fn query_param<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.query_string_parameters_ref().and_then(|parameters| parameters.first(name))
}

/// Parses a JSON body into `T`. Refuses a non-JSON content type, a body that is empty, too
/// large or not UTF-8, malformed JSON, wrong types and unknown fields, naming the field.
pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, Problem> {
    if let Some(content_type) = request.headers().get(http::header::CONTENT_TYPE) {
        let is_json = content_type
            .to_str()
            .map(|value| {
                let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
                essence == "application/json" || essence.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(Problem::unsupported_media_type());
        }
    }
    let bytes: &[u8] = match request.body() {
        Body::Empty => return Err(Problem::malformed("body", "is required: send a JSON object")),
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => return Err(Problem::malformed("body", "is not readable")),
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Problem::too_large());
    }
    if std::str::from_utf8(bytes).is_err() {
        return Err(Problem::malformed("body", "must be UTF-8 encoded JSON"));
    }
    // Every body is a JSON object: serde would otherwise read a struct from an array by position
    // (`[null, null]`).
    if bytes.iter().find(|byte| !byte.is_ascii_whitespace()).is_some_and(|first| *first != b'{') {
        return Err(Problem::malformed("body", "must be a JSON object"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let mut document = serde_json::Value::deserialize(&mut deserializer).map_err(|error| {
        let message = error.to_string();
        Problem::malformed("body", message.split(" at line ").next().unwrap_or(&message).to_owned())
    })?;
    deserializer.end().map_err(|_| Problem::malformed("body", "has trailing characters after the JSON value"))?;
    whole_numbers_as_integers(&mut document);
    serde_path_to_error::deserialize(document).map_err(|error| {
        let path = error.path().to_string();
        let message = error.inner().to_string();
        Problem::malformed(field_of(&path, &message), message)
    })
}

/// JSON has one number type: `30.0` is the integer 30 to JSON Schema (and so to the document),
/// so it is read as one. Other fractions stay as they are and are refused where an integer is due.
fn whole_numbers_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(number) if number.is_f64() => {
            if let Some(float) = number.as_f64()
                && float.fract() == 0.0
                && float.abs() < 9_007_199_254_740_992.0
            {
                // Exact below 2^53, where every whole f64 is an integer.
                *value = Value::from(float as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

/// The field a serde error is about: the path, or the field named in the message at the root.
fn field_of(path: &str, message: &str) -> String {
    if !matches!(path, "." | "?" | "") {
        return path.to_owned();
    }
    for marker in ["missing field `", "unknown field `"] {
        if let Some(name) = message.strip_prefix(marker).and_then(|rest| rest.split('`').next()) {
            return name.to_owned();
        }
    }
    "body".to_owned()
}

/// The clinic named in the path.
pub fn clinic_id(request: &Request) -> Result<ClinicId, Problem> {
    path_param(request, "clinicId", ClinicId::parse)
}

/// Reads `limit` (1 to 100, default 50) and `cursor` into a query.
pub fn page_query(request: &Request, query: Query) -> Result<Query, Problem> {
    let limit = match query_param(request, "limit") {
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|limit| (1..=100).contains(limit))
            .ok_or_else(|| Problem::malformed("limit", "must be a whole number from 1 to 100"))?,
        None => 50,
    };
    let cursor = query_param(request, "cursor").filter(|cursor| !cursor.is_empty());
    if cursor.is_some_and(|cursor| {
        cursor.len() > 1024 || !cursor.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_'))
    }) {
        return Err(Problem::malformed("cursor", "is not a cursor this API issued"));
    }
    Ok(query.limit(limit).after(cursor.map(Cursor::from_client)))
}

/// Most bytes a link or manage form may carry.
const MAX_FORM_BYTES: usize = 4 * 1024;

/// Reads a URL-encoded form; a malformed or oversized one is a 400 or 413 problem.
pub fn read_form<T: DeserializeOwned>(request: &Request) -> Result<T, Problem> {
    let bytes: &[u8] = match request.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > MAX_FORM_BYTES {
        return Err(Problem::too_large());
    }
    serde_urlencoded::from_bytes(bytes).map_err(|_| Problem::malformed("body", "is not this page's form"))
}

/// An optional `true`/`false` query parameter (absent: `false`); anything else is a 400 naming it.
pub fn bool_param(request: &Request, name: &str) -> Result<bool, Problem> {
    match query_param(request, name) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(Problem::malformed(name, "must be true or false")),
    }
}

/// The version an `If-Match` header names (`"7"` or `W/"7"`, as `ETag` sent it); `None` without
/// the header or for `*`. Anything else is a 400 naming the header.
pub fn if_match(request: &Request) -> Result<Option<u64>, Problem> {
    let Some(raw) = request.headers().get(http::header::IF_MATCH) else { return Ok(None) };
    let text =
        raw.to_str().map_err(|_| Problem::malformed("If-Match", "must be an ETag this API sent, like \"3\""))?.trim();
    if text == "*" || text.is_empty() {
        return Ok(None);
    }
    text.trim_start_matches("W/")
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .and_then(|version| version.parse::<u64>().ok())
        .map(Some)
        .ok_or_else(|| Problem::malformed("If-Match", "must be an ETag this API sent, like \"3\""))
}

/// Refuses (412) a write whose `If-Match` names another version than `current`: someone changed
/// the record since the client read it. The write itself is conditional on `current`, so a change
/// between this check and the write is a 409, never a lost update.
pub fn check_if_match(request: &Request, current: u64) -> Result<(), Problem> {
    match if_match(request)? {
        Some(expected) if expected != current => Err(Problem::precondition_failed(format!(
            "the record is at version {current}, not {expected}: read it again, then change it"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Input {
        name: String,
        minutes: u32,
    }

    fn request(body: Body) -> Request {
        let mut request = Request::new(body);
        request.headers_mut().insert(http::header::CONTENT_TYPE, "application/json".parse().unwrap());
        request
    }

    fn field(result: Result<Input, Problem>) -> (u16, String) {
        let problem = result.unwrap_err();
        (problem.status, problem.errors[0].field.clone())
    }

    #[test]
    fn if_match_reads_the_etags_this_api_sends() {
        let with = |value: &str| {
            let mut request = Request::default();
            request.headers_mut().insert(http::header::IF_MATCH, value.parse().unwrap());
            request
        };
        assert_eq!(if_match(&Request::default()).unwrap(), None);
        assert_eq!(if_match(&with("\"7\"")).unwrap(), Some(7));
        assert_eq!(if_match(&with("W/\"7\"")).unwrap(), Some(7));
        assert_eq!(if_match(&with("*")).unwrap(), None);
        for bad in ["7", "\"seven\"", "\"-1\""] {
            assert_eq!(if_match(&with(bad)).unwrap_err().errors[0].field, "If-Match", "{bad}");
        }
        assert!(check_if_match(&with("\"7\""), 7).is_ok());
        assert_eq!(check_if_match(&with("\"6\""), 7).unwrap_err().status, 412);
        assert!(check_if_match(&Request::default(), 7).is_ok());
    }

    #[test]
    fn each_kind_of_bad_body_names_its_field() {
        assert_eq!(field(json_body(&request(Body::Empty))), (400, "body".into()));
        assert_eq!(field(json_body(&request(Body::Binary(vec![0xff, 0xfe])))), (400, "body".into()));
        assert_eq!(field(json_body(&request(Body::Text(" [null, null]".into())))), (400, "body".into()));
        assert_eq!(field(json_body(&request(Body::Text("{".into())))), (400, "body".into()));
        assert_eq!(field(json_body(&request(Body::Text(r#"{"name":"a"}"#.into())))), (400, "minutes".into()));
        assert_eq!(
            field(json_body(&request(Body::Text(r#"{"name":"a","minutes":"ten"}"#.into())))),
            (400, "minutes".into())
        );
        assert_eq!(
            field(json_body(&request(Body::Text(r#"{"name":"a","minutes":-1}"#.into())))),
            (400, "minutes".into())
        );
        assert_eq!(
            field(json_body(&request(Body::Text(r#"{"name":"a","minutes":1,"x":1}"#.into())))),
            (400, "x".into())
        );
        assert_eq!(
            field(json_body(&request(Body::Text(r#"{"name":"a","minutes":1} []"#.into())))),
            (400, "body".into())
        );
        assert_eq!(
            field(json_body(&request(Body::Text(format!(
                r#"{{"name":"{}","minutes":1}}"#,
                "a".repeat(MAX_BODY_BYTES)
            ))))),
            (413, "body".into())
        );
    }

    #[test]
    fn a_non_json_content_type_is_refused() {
        let mut request = request(Body::Text("name=a".into()));
        request.headers_mut().insert(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded".parse().unwrap());
        assert_eq!(json_body::<Input>(&request).unwrap_err().status, 415);
    }

    #[test]
    fn a_good_body_parses() {
        let input: Input = json_body(&request(Body::Text(r#"{"name":"a","minutes":5}"#.into()))).unwrap();
        assert_eq!(input.minutes, 5);
    }

    #[test]
    fn a_whole_number_written_with_a_fraction_is_an_integer_and_a_fraction_is_refused() {
        let input: Input = json_body(&request(Body::Text(r#"{"name":"a","minutes":30.0}"#.into()))).unwrap();
        assert_eq!(input.minutes, 30);
        for bad in ["30.5", "-1.0", "1e40"] {
            let body = format!(r#"{{"name":"a","minutes":{bad}}}"#);
            assert_eq!(field(json_body(&request(Body::Text(body)))), (400, "minutes".into()), "{bad}");
        }
    }
}
