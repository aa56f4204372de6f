//! Admin routes for diary templates and blocks. Each write checks, in the same transaction, that
//! the provider, location and booking types it names exist, and publishes its copy while the
//! clinic is online.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::clinic::Clinic;
use crate::domain::diary::{BlockId, BlockInput, DiaryBlock, DiaryTemplate, TemplateId, TemplateInput};
use crate::domain::validation::FieldError;
use crate::features::audit_trail::{self, Change};
use crate::features::catalog::publication::{PublishedBlock, online_state};
use crate::http::Problem;
use crate::http::auth::authorize;
use crate::http::request::clinic_id;
use crate::http::request::{json_body, path_param};
use crate::http::response::json;
use crate::store::{Condition, Item, Query, StoreError, Write, keys, query_all};

/// Diary templates of a clinic.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TemplateList {
    /// Every template.
    pub items: Vec<DiaryTemplate>,
}

/// Diary blocks of a clinic.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BlockList {
    /// Every block.
    pub items: Vec<DiaryBlock>,
}

fn missing(field: &str, what: &str) -> Problem {
    Problem::invalid(vec![FieldError::new(
        field,
        format!("names no current {what} of this clinic (missing or archived)"),
    )])
}

/// `POST /admin/clinics/{clinicId}/diary-templates`
#[tracing::instrument(skip_all)]
pub async fn create_template(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let actor = authorize(request, &clinic, Permission::DiaryWrite)?;
    let input: TemplateInput = json_body(request)?;
    let template = DiaryTemplate::create(TemplateId::random(), &input).map_err(Problem::invalid)?;
    let existing =
        query_all(state.store.as_ref(), Query::prefix(keys::clinic_partition(&clinic), keys::TEMPLATE_PREFIX)).await?;
    for item in &existing {
        let other: DiaryTemplate = item.record()?;
        if template.overlaps(&other) {
            return Err(Problem::invalid(vec![FieldError::new(
                "start_time",
                format!("overlaps template {} of the same provider", other.id),
            )]));
        }
    }
    let online = online_state(state.store.as_ref(), &clinic).await?;
    let now = state.clock.now();
    let exists = Write::check_current;
    let mut writes = vec![
        exists(keys::entry(&clinic, keys::PROVIDER_PREFIX, template.provider_id.as_str())),
        exists(keys::entry(&clinic, keys::LOCATION_PREFIX, template.location_id.as_str())),
    ];
    writes.extend(
        template.booking_type_ids.iter().map(|id| exists(keys::entry(&clinic, keys::BOOKING_TYPE_PREFIX, id.as_str()))),
    );
    let references = writes.len();
    writes.extend([
        Write::put(
            Item::from_record(keys::entry(&clinic, keys::TEMPLATE_PREFIX, template.id.as_str()), &template)?,
            Condition::NotExists,
        ),
        online.unchanged(&clinic),
        online.publication(
            keys::published_entry(&clinic, keys::TEMPLATE_PREFIX, template.id.as_str()),
            Some(&template),
        )?,
        audit_trail::record(
            &clinic,
            Change {
                actor: &actor.subject,
                action: "diary_template.created",
                entity: format!("diary_template/{}", template.id),
                before_version: None,
                after_version: Some(1),
            },
            now,
        )?,
    ]);
    match state.store.transact(writes).await {
        Err(StoreError::ConditionFailed { index: 0 }) => return Err(missing("provider_id", "provider")),
        Err(StoreError::ConditionFailed { index: 1 }) => return Err(missing("location_id", "location")),
        Err(StoreError::ConditionFailed { index }) if index < references => {
            return Err(missing("booking_type_ids", "booking type"));
        }
        other => other?,
    }
    tracing::info!(template_id = %template.id, "diary template created");
    json(StatusCode::CREATED, &template)
}

/// `GET /admin/clinics/{clinicId}/diary-templates`
#[tracing::instrument(skip_all)]
pub async fn list_templates(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    authorize(request, &clinic, Permission::DiaryRead)?;
    let items =
        query_all(state.store.as_ref(), Query::prefix(keys::clinic_partition(&clinic), keys::TEMPLATE_PREFIX)).await?;
    let items = items.iter().map(Item::record).collect::<Result<Vec<DiaryTemplate>, _>>()?;
    json(StatusCode::OK, &TemplateList { items })
}

async fn delete_entry(
    state: &AppState,
    request: &Request,
    prefix: &str,
    parameter: &str,
    kind: &str,
) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let actor = authorize(request, &clinic, Permission::DiaryWrite)?;
    let id = path_param(request, parameter, |raw| TemplateId::parse(parameter, raw).map(|id| id.to_string()))?;
    let writes = vec![
        Write::Delete { key: keys::entry(&clinic, prefix, &id), condition: Condition::Exists },
        Write::Delete { key: keys::published_entry(&clinic, prefix, &id), condition: Condition::Always },
        audit_trail::record(
            &clinic,
            Change {
                actor: &actor.subject,
                action: &format!("{kind}.deleted"),
                entity: format!("{kind}/{id}"),
                before_version: Some(1),
                after_version: None,
            },
            state.clock.now(),
        )?,
    ];
    match state.store.transact(writes).await {
        Err(StoreError::ConditionFailed { index: 0 }) => {
            Err(Problem::not_found(format!("no such {} in this clinic", kind.replace('_', " "))))
        }
        Err(error) => Err(error.into()),
        Ok(()) => {
            Ok(Response::builder().status(StatusCode::NO_CONTENT).body(Body::Empty).map_err(|_| Problem::internal())?)
        }
    }
}

/// `DELETE /admin/clinics/{clinicId}/diary-templates/{templateId}`: booked appointments stay.
#[tracing::instrument(skip_all)]
pub async fn delete_template(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    delete_entry(state, request, keys::TEMPLATE_PREFIX, "templateId", "diary_template").await
}

/// `POST /admin/clinics/{clinicId}/diary-blocks`
#[tracing::instrument(skip_all)]
pub async fn create_block(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let actor = authorize(request, &clinic_id, Permission::DiaryWrite)?;
    let input: BlockInput = json_body(request)?;
    let clinic: Clinic = state
        .store
        .get(&keys::clinic_profile(&clinic_id))
        .await?
        .ok_or_else(|| Problem::not_found("no such clinic"))?
        .record()?;
    let block = DiaryBlock::create(BlockId::random(), &input, &clinic.time_zone.zone()).map_err(Problem::invalid)?;
    let online = online_state(state.store.as_ref(), &clinic_id).await?;
    let writes = vec![
        Write::check_current(keys::entry(&clinic_id, keys::PROVIDER_PREFIX, block.provider_id.as_str())),
        Write::put(
            Item::from_record(keys::entry(&clinic_id, keys::BLOCK_PREFIX, block.id.as_str()), &block)?,
            Condition::NotExists,
        ),
        online.unchanged(&clinic_id),
        online.publication(
            keys::published_entry(&clinic_id, keys::BLOCK_PREFIX, block.id.as_str()),
            Some(PublishedBlock::from(&block)),
        )?,
        audit_trail::record(
            &clinic_id,
            Change {
                actor: &actor.subject,
                action: "diary_block.created",
                entity: format!("diary_block/{}", block.id),
                before_version: None,
                after_version: Some(1),
            },
            state.clock.now(),
        )?,
    ];
    match state.store.transact(writes).await {
        Err(StoreError::ConditionFailed { index: 0 }) => return Err(missing("provider_id", "provider")),
        other => other?,
    }
    json(StatusCode::CREATED, &block)
}

/// `GET /admin/clinics/{clinicId}/diary-blocks`
#[tracing::instrument(skip_all)]
pub async fn list_blocks(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    authorize(request, &clinic, Permission::DiaryRead)?;
    let items =
        query_all(state.store.as_ref(), Query::prefix(keys::clinic_partition(&clinic), keys::BLOCK_PREFIX)).await?;
    let items = items.iter().map(Item::record).collect::<Result<Vec<DiaryBlock>, _>>()?;
    json(StatusCode::OK, &BlockList { items })
}

/// `DELETE /admin/clinics/{clinicId}/diary-blocks/{blockId}`
#[tracing::instrument(skip_all)]
pub async fn delete_block(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    delete_entry(state, request, keys::BLOCK_PREFIX, "blockId", "diary_block").await
}
