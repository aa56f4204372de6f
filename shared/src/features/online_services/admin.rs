//! Admin routes for online services.

use crate::http::request::check_if_match;
use crate::http::response::json_versioned;
use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::clinic::ClinicId;
use crate::domain::eligibility::AccessRule;
use crate::domain::online_service::{OnlineService, OnlineServiceInput, ServiceId};
use crate::domain::validation::FieldError;
use crate::features::audit_trail::{self, Change};
use crate::http::Problem;
use crate::http::auth::authorize;
use crate::http::request::clinic_id;
use crate::http::request::{json_body, path_param};
use crate::http::response::json;
use crate::store::records;
use crate::store::{Condition, Item, StoreError, Write, keys};

/// The online services of a clinic.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OnlineServiceList {
    /// Services by name.
    pub items: Vec<OnlineService>,
}

/// `POST /admin/clinics/{clinicId}/online-services`: the service's slots are bookable at once.
#[tracing::instrument(skip_all)]
pub async fn create(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let actor = authorize(request, &clinic, Permission::CatalogWrite)?;
    let input: OnlineServiceInput = json_body(request)?;
    let service = OnlineService::parse(ServiceId::random(), &input).map_err(Problem::invalid)?;
    let (mut writes, fields) = reference_checks(&clinic, &service);
    writes.push(Write::put(
        Item::from_record(keys::online_service(&clinic, service.id.as_str()), &service)?,
        Condition::NotExists,
    ));
    writes.push(audit(&clinic, &actor.subject, "online_service.created", &service.id, None, Some(1), state)?);
    commit(state, writes, &fields).await?;
    tracing::info!(service_id = %service.id, "online service created");
    json(StatusCode::CREATED, &service)
}

/// Checks, in the write's transaction, that every booking type and provider the service names
/// exists; with the field each check stands for.
fn reference_checks(clinic: &ClinicId, service: &OnlineService) -> (Vec<Write>, Vec<String>) {
    let exists = Write::check_current;
    let mut checks: Vec<(Write, String)> = service
        .booking_type_ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            (exists(keys::entry(clinic, keys::BOOKING_TYPE_PREFIX, id.as_str())), format!("booking_type_ids[{i}]"))
        })
        .collect();
    for (field, list) in [
        ("include_provider_ids", &service.include_provider_ids),
        ("exclude_provider_ids", &service.exclude_provider_ids),
    ] {
        checks.extend(
            list.iter().enumerate().map(|(i, id)| {
                (exists(keys::entry(clinic, keys::PROVIDER_PREFIX, id.as_str())), format!("{field}[{i}]"))
            }),
        );
    }
    for (index, rule) in service.rules.iter().enumerate() {
        if let AccessRule::RegisteredWith { provider_ids } = rule {
            checks.extend(provider_ids.iter().map(|id| {
                (
                    exists(keys::entry(clinic, keys::PROVIDER_PREFIX, id.as_str())),
                    format!("rules[{index}].provider_ids"),
                )
            }));
        }
    }
    checks.into_iter().unzip()
}

fn audit(
    clinic: &ClinicId,
    actor: &str,
    action: &str,
    id: &ServiceId,
    before: Option<u64>,
    after: Option<u64>,
    state: &AppState,
) -> Result<Write, StoreError> {
    audit_trail::record(
        clinic,
        Change { actor, action, entity: format!("online_service/{id}"), before_version: before, after_version: after },
        state.clock.now(),
    )
}

/// Writes a service's transaction: a failed reference check names its field (422); a failed
/// version check means another change came first (409).
async fn commit(state: &AppState, writes: Vec<Write>, fields: &[String]) -> Result<(), Problem> {
    match state.store.transact(writes).await {
        Err(StoreError::ConditionFailed { index }) if index < fields.len() => {
            Err(Problem::invalid(vec![FieldError::new(
                fields[index].clone(),
                "names nothing current in this clinic (missing or archived)",
            )]))
        }
        Err(StoreError::ConditionFailed { .. }) => {
            Err(Problem::conflict("the service changed while this request ran; read it again and retry"))
        }
        other => Ok(other?),
    }
}

fn service_id(request: &Request) -> Result<ServiceId, Problem> {
    path_param(request, "serviceId", |raw| ServiceId::parse("serviceId", raw))
}

/// `PUT /admin/clinics/{clinicId}/online-services/{serviceId}`: replaces the service (name,
/// booking types, providers, rules); visitors see the change at once.
#[tracing::instrument(skip_all)]
pub async fn replace(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let id = service_id(request)?;
    let actor = authorize(request, &clinic, Permission::CatalogWrite)?;
    let input: OnlineServiceInput = json_body(request)?;
    let service = OnlineService::parse(id.clone(), &input).map_err(Problem::invalid)?;
    let key = keys::online_service(&clinic, id.as_str());
    let Some(current) = state.store.get(&key).await? else { return Err(Problem::not_found("no such online service")) };
    let version = current.version;
    check_if_match(request, version)?;
    let (mut writes, fields) = reference_checks(&clinic, &service);
    crate::store::keep_references(&mut writes, &reference_checks(&clinic, &current.record::<OnlineService>()?).0);
    writes.push(Write::put(Item::from_record(key, &service)?.with_version(version + 1), Condition::VersionIs(version)));
    writes.push(audit(
        &clinic,
        &actor.subject,
        "online_service.updated",
        &id,
        Some(version),
        Some(version + 1),
        state,
    )?);
    commit(state, writes, &fields).await?;
    tracing::info!(service_id = %id, "online service replaced");
    json_versioned(StatusCode::OK, &service, version + 1)
}

/// `DELETE /admin/clinics/{clinicId}/online-services/{serviceId}`: the portal stops offering it
/// (appointments already booked through it stay as they are).
#[tracing::instrument(skip_all)]
pub async fn delete(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let id = service_id(request)?;
    let actor = authorize(request, &clinic, Permission::CatalogWrite)?;
    let key = keys::online_service(&clinic, id.as_str());
    let Some(current) = state.store.get(&key).await? else { return Err(Problem::not_found("no such online service")) };
    let writes = vec![
        Write::Delete { key, condition: Condition::VersionIs(current.version) },
        audit(&clinic, &actor.subject, "online_service.deleted", &id, Some(current.version), None, state)?,
    ];
    commit(state, writes, &[]).await?;
    tracing::info!(service_id = %id, "online service deleted");
    Response::builder().status(StatusCode::NO_CONTENT).body(Body::Empty).map_err(|_| Problem::internal())
}

/// `GET /admin/clinics/{clinicId}/online-services`
#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    authorize(request, &clinic, Permission::CatalogRead)?;
    let mut items: Vec<OnlineService> =
        records(state.store.as_ref(), &keys::clinic_partition(&clinic), keys::ONLINE_SERVICE_PREFIX).await?;
    items.sort_by_key(|service| service.name.to_lowercase());
    json(StatusCode::OK, &OnlineServiceList { items })
}
