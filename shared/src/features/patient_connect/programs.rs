//! Patient Connect set-up: templates (with merge fields checked when saved) and programs (type
//! fixed at creation, actions checked against the templates they name).

use crate::http::request::check_if_match;
use crate::http::response::json_versioned;
use std::collections::HashMap;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use super::StoredProgram;
use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::clinic::ClinicId;
use crate::domain::message_template::{MessageTemplate, MessageTemplateInput, TemplateKind};
use crate::domain::patient_connect::{ActionKind, CompletingBookings, ConnectProgram};
use crate::domain::validation::FieldError;
use crate::features::audit_trail;
use crate::http::Problem;
use crate::http::auth::authorize;
use crate::http::request::{bool_param, clinic_id};
use crate::http::request::{json_body, path_param};
use crate::http::response::json;
use crate::store::{Condition, Item, Query, StoreError, Write, keys, query_all};

/// A template with its version.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageTemplateView {
    /// The template.
    pub template: MessageTemplate,
    /// Version, bumped by each change.
    pub version: u64,
}

/// A clinic's templates.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageTemplateList {
    /// By name.
    pub items: Vec<MessageTemplateView>,
}

/// A program with its version.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProgramView {
    /// The program.
    pub program: StoredProgram,
    /// Version, bumped by each change.
    pub version: u64,
}

/// A clinic's programs.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProgramList {
    /// By name.
    pub items: Vec<ProgramView>,
}

async fn templates(state: &AppState, clinic: &ClinicId) -> Result<Vec<(MessageTemplate, u64)>, StoreError> {
    let query = Query::prefix(keys::clinic_partition(clinic), keys::CONNECT_TEMPLATE_PREFIX);
    query_all(state.store.as_ref(), query).await?.iter().map(|item| Ok((item.record()?, item.version))).collect()
}

/// Every program of a clinic.
pub async fn all_programs(state: &AppState, clinic: &ClinicId) -> Result<Vec<StoredProgram>, StoreError> {
    let query = Query::prefix(keys::clinic_partition(clinic), keys::CONNECT_PROGRAM_PREFIX);
    query_all(state.store.as_ref(), query).await?.iter().map(|item| item.record()).collect()
}

async fn save_template(
    state: &AppState,
    clinic: &ClinicId,
    template: &MessageTemplate,
    previous: Option<u64>,
    actor: &str,
) -> Result<u64, Problem> {
    let version = previous.map_or(1, |version| version + 1);
    let writes = vec![
        Write::put(
            Item::from_record(keys::connect_template(clinic, &template.id), template)?.with_version(version),
            previous.map_or(Condition::NotExists, Condition::VersionIs),
        ),
        audit_trail::saved(clinic, actor, "connect_template", &template.id, previous, version, state.clock.now())?,
    ];
    // A failed condition (a concurrent change) becomes 409 through `From<StoreError>`.
    state.store.transact(writes).await?;
    Ok(version)
}

/// `POST /admin/clinics/{clinicId}/connect-templates`
#[tracing::instrument(skip_all)]
pub async fn create_template(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let actor = authorize(request, &clinic, Permission::CatalogWrite)?;
    let input: MessageTemplateInput = json_body(request)?;
    let template =
        MessageTemplate::parse(uuid::Uuid::new_v4().simple().to_string(), &input).map_err(Problem::invalid)?;
    let version = save_template(state, &clinic, &template, None, &actor.subject).await?;
    tracing::info!(template_id = %template.id, "connect template created");
    json(StatusCode::CREATED, &MessageTemplateView { template, version })
}

/// `PUT /admin/clinics/{clinicId}/connect-templates/{templateId}`: the kind stays as created.
#[tracing::instrument(skip_all)]
pub async fn replace_template(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let id = path_param(request, "templateId", |raw| parse_id("templateId", raw))?;
    let actor = authorize(request, &clinic, Permission::CatalogWrite)?;
    let input: MessageTemplateInput = json_body(request)?;
    let template = MessageTemplate::parse(id.clone(), &input).map_err(Problem::invalid)?;
    let current = stored(state, keys::connect_template(&clinic, &id), "template").await?;
    check_if_match(request, current.version)?;
    let existing: MessageTemplate = current.record()?;
    if existing.archived_at.is_some() {
        return Err(Problem::conflict("this template is archived: it takes no change"));
    }
    if existing.kind != template.kind {
        return Err(Problem::invalid(vec![FieldError::new(
            "kind",
            "cannot change: programs send this template as it was created",
        )]));
    }
    let version = save_template(state, &clinic, &template, Some(current.version), &actor.subject).await?;
    json_versioned(StatusCode::OK, &MessageTemplateView { template, version }, version)
}

/// `GET /admin/clinics/{clinicId}/connect-templates[?archived=true]`
#[tracing::instrument(skip_all)]
pub async fn list_templates(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    authorize(request, &clinic, Permission::CatalogRead)?;
    let archived = bool_param(request, "archived")?;
    let mut items: Vec<MessageTemplateView> = templates(state, &clinic)
        .await?
        .into_iter()
        .filter(|(template, _)| template.archived_at.is_some() == archived)
        .map(|(template, version)| MessageTemplateView { template, version })
        .collect();
    items.sort_by_key(|view| view.template.name.to_lowercase());
    json(StatusCode::OK, &MessageTemplateList { items })
}

/// Checks what a program names: each action's template exists, is of the right kind, and is
/// current, unless the program already named it (archiving a template stops new use only).
async fn check_references(
    state: &AppState,
    clinic: &ClinicId,
    program: &ConnectProgram,
    before: Option<&ConnectProgram>,
) -> Result<(), Problem> {
    let named_before =
        |id: &str| before.is_some_and(|before| before.actions.iter().any(|a| a.kind.template_id() == Some(id)));
    let known: HashMap<String, TemplateKind> = templates(state, clinic)
        .await?
        .into_iter()
        .filter(|(template, _)| template.archived_at.is_none() || named_before(&template.id))
        .map(|(template, _)| (template.id, template.kind))
        .collect();
    let mut errors = Vec::new();
    for (index, action) in program.actions.iter().enumerate() {
        let (template_id, wanted) = match &action.kind {
            ActionKind::Sms { template_id, .. } => (template_id, TemplateKind::Sms),
            ActionKind::Email { template_id } => (template_id, TemplateKind::Email),
            ActionKind::LetterToPatient { template_id, .. } | ActionKind::LetterToGp { template_id, .. } => {
                (template_id, TemplateKind::Letter)
            }
            ActionKind::Pause => continue,
        };
        let field = format!("actions[{index}].template_id");
        match known.get(template_id) {
            None => {
                errors.push(FieldError::new(field, "names no current template of this clinic (missing or archived)"))
            }
            Some(kind) if *kind != wanted => {
                errors.push(FieldError::new(field, format!("names a {kind:?} template; this action needs {wanted:?}")))
            }
            Some(_) => {}
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(Problem::invalid(errors)) }
}

async fn save_program(
    state: &AppState,
    clinic: &ClinicId,
    program: &StoredProgram,
    previous: Option<u64>,
    actor: &str,
) -> Result<u64, Problem> {
    let exists = Write::check_current;
    let mut booking_types = match &program.program.completing_bookings {
        CompletingBookings::Selected { booking_type_ids } => {
            booking_type_ids.iter().map(|id| ("completing_bookings.booking_type_ids", id)).collect::<Vec<_>>()
        }
        _ => Vec::new(),
    };
    booking_types.extend(program.program.entry_booking_type_ids.iter().map(|id| ("entry_booking_type_ids", id)));
    booking_types.sort_by_key(|(_, id)| id.as_str().to_owned());
    booking_types.dedup_by_key(|(_, id)| id.as_str().to_owned());
    let mut writes: Vec<Write> = booking_types
        .iter()
        .map(|(_, id)| exists(keys::entry(clinic, keys::BOOKING_TYPE_PREFIX, id.as_str())))
        .collect();
    let references = writes.len();
    let version = previous.map_or(1, |version| version + 1);
    writes.push(Write::put(
        Item::from_record(keys::connect_program(clinic, &program.id), program)?.with_version(version),
        previous.map_or(Condition::NotExists, Condition::VersionIs),
    ));
    writes.push(audit_trail::saved(
        clinic,
        actor,
        "connect_program",
        &program.id,
        previous,
        version,
        state.clock.now(),
    )?);
    match state.store.transact(writes).await {
        Err(StoreError::ConditionFailed { index }) if index < references => {
            Err(Problem::invalid(vec![FieldError::new(
                booking_types[index].0,
                format!("{} names no booking type of this clinic", booking_types[index].1.as_str()),
            )]))
        }
        other => {
            other?;
            Ok(version)
        }
    }
}

/// `POST /admin/clinics/{clinicId}/connect-programs`
#[tracing::instrument(skip_all)]
pub async fn create_program(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let actor = authorize(request, &clinic, Permission::CatalogWrite)?;
    let program: ConnectProgram = json_body(request)?;
    program.check().map_err(Problem::invalid)?;
    check_references(state, &clinic, &program, None).await?;
    let now = state.clock.now();
    let stored = StoredProgram {
        id: uuid::Uuid::new_v4().simple().to_string(),
        program,
        created_at: now,
        updated_at: now,
        archived_at: None,
    };
    let version = save_program(state, &clinic, &stored, None, &actor.subject).await?;
    tracing::info!(program_id = %stored.id, "connect program created");
    json(StatusCode::CREATED, &ProgramView { program: stored, version })
}

/// `PUT /admin/clinics/{clinicId}/connect-programs/{programId}`: everything but the type, which
/// is fixed at creation.
#[tracing::instrument(skip_all)]
pub async fn replace_program(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let id = path_param(request, "programId", |raw| parse_id("programId", raw))?;
    let actor = authorize(request, &clinic, Permission::CatalogWrite)?;
    let program: ConnectProgram = json_body(request)?;
    let current = stored(state, keys::connect_program(&clinic, &id), "program").await?;
    check_if_match(request, current.version)?;
    let existing: StoredProgram = current.record()?;
    if existing.archived_at.is_some() {
        return Err(Problem::conflict("this program is archived: it takes no change"));
    }
    if existing.program.program_type != program.program_type {
        return Err(Problem::invalid(vec![FieldError::new(
            "program_type",
            "cannot change: a program's type is chosen when it is created",
        )]));
    }
    program.check().map_err(Problem::invalid)?;
    check_references(state, &clinic, &program, Some(&existing.program)).await?;
    let stored = StoredProgram { program, updated_at: state.clock.now(), ..existing };
    let version = save_program(state, &clinic, &stored, Some(current.version), &actor.subject).await?;
    json_versioned(StatusCode::OK, &ProgramView { program: stored, version }, version)
}

/// `GET /admin/clinics/{clinicId}/connect-programs[?archived=true]`
#[tracing::instrument(skip_all)]
pub async fn list_programs(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    authorize(request, &clinic, Permission::CatalogRead)?;
    let archived = bool_param(request, "archived")?;
    let query = Query::prefix(keys::clinic_partition(&clinic), keys::CONNECT_PROGRAM_PREFIX);
    let mut items = query_all(state.store.as_ref(), query)
        .await?
        .iter()
        .map(|item| Ok(ProgramView { program: item.record()?, version: item.version }))
        .collect::<Result<Vec<_>, StoreError>>()?;
    items.retain(|view| view.program.archived_at.is_some() == archived);
    items.sort_by_key(|view| view.program.program.name.to_lowercase());
    json(StatusCode::OK, &ProgramList { items })
}

/// `DELETE /admin/clinics/{clinicId}/connect-templates/{templateId}`: archives the template
/// (`If-Match` optional). No new program action or reminder may name it; programs that already
/// do still send it. Archiving twice changes nothing.
#[tracing::instrument(skip_all)]
pub async fn archive_template(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let id = path_param(request, "templateId", |raw| parse_id("templateId", raw))?;
    let actor = authorize(request, &clinic, Permission::CatalogWrite)?;
    let current = stored(state, keys::connect_template(&clinic, &id), "template").await?;
    check_if_match(request, current.version)?;
    let template: MessageTemplate = current.record()?;
    if template.archived_at.is_some() {
        return json_versioned(
            StatusCode::OK,
            &MessageTemplateView { template, version: current.version },
            current.version,
        );
    }
    let template = MessageTemplate { archived_at: Some(state.clock.now()), ..template };
    let version = save_template(state, &clinic, &template, Some(current.version), &actor.subject).await?;
    tracing::info!(template_id = %id, "connect template archived");
    json_versioned(StatusCode::OK, &MessageTemplateView { template, version }, version)
}

/// `DELETE /admin/clinics/{clinicId}/connect-programs/{programId}`: archives the program and so
/// disables it for good (`If-Match` optional): nobody new enters it; running enrollments stay
/// as they are and the history keeps naming it. Archiving twice changes nothing.
#[tracing::instrument(skip_all)]
pub async fn archive_program(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let id = path_param(request, "programId", |raw| parse_id("programId", raw))?;
    let actor = authorize(request, &clinic, Permission::CatalogWrite)?;
    let current = stored(state, keys::connect_program(&clinic, &id), "program").await?;
    check_if_match(request, current.version)?;
    let stored: StoredProgram = current.record()?;
    if stored.archived_at.is_some() {
        return json_versioned(
            StatusCode::OK,
            &ProgramView { program: stored, version: current.version },
            current.version,
        );
    }
    let now = state.clock.now();
    let mut program = stored.program.clone();
    program.enabled = false;
    let stored = StoredProgram { program, updated_at: now, archived_at: Some(now), ..stored };
    // Archiving names nothing new, so unlike a replace it checks no references (a program whose
    // booking type was archived first can still be archived).
    let version = current.version + 1;
    let writes = vec![
        Write::put(
            Item::from_record(keys::connect_program(&clinic, &id), &stored)?.with_version(version),
            Condition::VersionIs(current.version),
        ),
        audit_trail::saved(&clinic, &actor.subject, "connect_program", &id, Some(current.version), version, now)?,
    ];
    state.store.transact(writes).await?;
    tracing::info!(program_id = %id, "connect program archived");
    json_versioned(StatusCode::OK, &ProgramView { program: stored, version }, version)
}

/// The stored template or program under `key`, or a 404 naming `what`.
async fn stored(state: &AppState, key: crate::store::Key, what: &str) -> Result<Item, Problem> {
    state.store.get(&key).await?.ok_or_else(|| Problem::not_found(format!("no such {what} in this clinic")))
}

/// The id rule for programs, templates, enrollments and letters: 1 to 64 letters, digits or
/// dashes.
pub(crate) fn parse_id(field: &str, raw: &str) -> Result<String, FieldError> {
    let valid = (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if valid { Ok(raw.to_owned()) } else { Err(FieldError::new(field, "must be 1 to 64 letters, digits or dashes")) }
}
