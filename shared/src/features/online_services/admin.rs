//! Admin routes for online services.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::eligibility::AccessRule;
use crate::domain::online_service::{OnlineService, OnlineServiceInput, ServiceId};
use crate::domain::validation::FieldError;
use crate::features::audit_trail::{self, Change};
use crate::features::catalog::admin::clinic_id;
use crate::features::diary::private_offer::records;
use crate::http::Problem;
use crate::http::auth::authorize;
use crate::http::request::json_body;
use crate::http::response::json;
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
    let exists = |key| Write::Check { key, condition: Condition::Exists };
    let mut checks: Vec<(Write, String)> = service
        .booking_type_ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            (exists(keys::entry(&clinic, keys::BOOKING_TYPE_PREFIX, id.as_str())), format!("booking_type_ids[{i}]"))
        })
        .collect();
    for (field, list) in [
        ("include_provider_ids", &service.include_provider_ids),
        ("exclude_provider_ids", &service.exclude_provider_ids),
    ] {
        checks.extend(list.iter().enumerate().map(|(i, id)| {
            (exists(keys::entry(&clinic, keys::PROVIDER_PREFIX, id.as_str())), format!("{field}[{i}]"))
        }));
    }
    for (index, rule) in service.rules.iter().enumerate() {
        if let AccessRule::RegisteredWith { provider_ids } = rule {
            checks.extend(provider_ids.iter().map(|id| {
                (
                    exists(keys::entry(&clinic, keys::PROVIDER_PREFIX, id.as_str())),
                    format!("rules[{index}].provider_ids"),
                )
            }));
        }
    }
    let (mut writes, fields): (Vec<Write>, Vec<String>) = checks.into_iter().unzip();
    writes.push(Write::put(
        Item::from_record(keys::online_service(&clinic, service.id.as_str()), &service)?,
        Condition::NotExists,
    ));
    writes.push(audit_trail::record(
        &clinic,
        Change {
            actor: &actor.subject,
            action: "online_service.created",
            entity: format!("online_service/{}", service.id),
            before_version: None,
            after_version: Some(1),
        },
        state.clock.now(),
    )?);
    match state.store.transact(writes).await {
        Err(StoreError::ConditionFailed { index }) if index < fields.len() => {
            return Err(Problem::invalid(vec![FieldError::new(fields[index].clone(), "names nothing in this clinic")]));
        }
        other => other?,
    }
    tracing::info!(service_id = %service.id, "online service created");
    json(StatusCode::CREATED, &service)
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
