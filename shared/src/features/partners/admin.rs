//! Partners and their traffic channel: which services may be booked on each one's behalf.

use crate::http::request::{bool_param, check_if_match};
use crate::http::response::json_versioned;
use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::clinic::ClinicId;
use crate::domain::partner::{Partner, PartnerId, PartnerInput};
use crate::domain::validation::FieldError;
use crate::features::audit_trail;
use crate::http::Problem;
use crate::http::auth::authorize;
use crate::http::request::clinic_id;
use crate::http::request::{json_body, path_param};
use crate::http::response::json;
use crate::store::{Condition, Item, Query, StoreError, Write, keys, query_all};

/// A partner with its version.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartnerView {
    /// The partner.
    #[serde(flatten)]
    pub partner: Partner,
    /// Version, bumped by each change.
    pub version: u64,
}

/// The partners of a clinic.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartnerList {
    /// Partners by name.
    pub items: Vec<PartnerView>,
}

async fn save(
    state: &AppState,
    request: &Request,
    partner: &Partner,
    previous: Option<(&Partner, u64)>,
    actor: &str,
) -> Result<u64, Problem> {
    let clinic = clinic_id(request)?;
    let (before, previous) = (previous.map(|(before, _)| before), previous.map(|(_, version)| version));
    // Archiving names nothing new: a partner whose service was archived first can still be.
    let checks = |partner: &Partner| -> Vec<Write> {
        let ids = &partner.activated_booking_type_ids;
        ids.iter()
            .map(|id| Write::check_current(keys::entry(&clinic, keys::BOOKING_TYPE_PREFIX, id.as_str())))
            .collect()
    };
    let mut writes = if partner.archived_at.is_none() { checks(partner) } else { Vec::new() };
    // A service activated before may have been archived since; only new activations must be current.
    if let Some(before) = before {
        crate::store::keep_references(&mut writes, &checks(before));
    }
    let references = writes.len();
    let version = previous.map_or(1, |version| version + 1);
    writes.push(Write::put(
        Item::from_record(keys::partner(&clinic, partner.id.as_str()), partner)?.with_version(version),
        previous.map_or(Condition::NotExists, Condition::VersionIs),
    ));
    writes.push(audit_trail::saved(
        &clinic,
        actor,
        "partner",
        partner.id.as_str(),
        previous,
        version,
        state.clock.now(),
    )?);
    match state.store.transact(writes).await {
        Err(StoreError::ConditionFailed { index }) if index < references => {
            Err(Problem::invalid(vec![FieldError::new(
                format!("activated_booking_type_ids[{index}]"),
                "names no booking type of this clinic",
            )]))
        }
        Err(StoreError::ConditionFailed { .. }) if previous.is_none() => {
            Err(Problem::conflict(format!("this clinic already has a partner {}", partner.id)))
        }
        Err(StoreError::ConditionFailed { .. }) => {
            Err(Problem::conflict("the partner changed while this request ran; reload and try again"))
        }
        other => {
            other?;
            Ok(version)
        }
    }
}

/// `DELETE /admin/clinics/{clinicId}/partners/{partnerId}`: archives the partner. Bookings made
/// for it and the statistics keep naming it; nothing more can be booked for it, and it leaves the
/// list (`?archived=true` shows it).
#[tracing::instrument(skip_all)]
pub async fn archive(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let id = path_param(request, "partnerId", |raw| PartnerId::parse("partnerId", raw))?;
    let actor = authorize(request, &clinic, Permission::CatalogWrite)?;
    let current = stored_partner(state, &clinic, &id).await?;
    check_if_match(request, current.version)?;
    let mut partner: Partner = current.record()?;
    if partner.archived_at.is_some() {
        return Err(Problem::conflict("the partner is already archived"));
    }
    let before = partner.clone();
    partner.archived_at = Some(state.clock.now());
    let version = save(state, request, &partner, Some((&before, current.version)), &actor.subject).await?;
    tracing::info!(partner_id = %partner.id, "partner archived");
    json_versioned(StatusCode::OK, &PartnerView { partner, version }, version)
}

/// The stored partner item (with its version); 404 when the clinic has none by that code.
async fn stored_partner(state: &AppState, clinic: &ClinicId, id: &PartnerId) -> Result<Item, Problem> {
    state
        .store
        .get(&keys::partner(clinic, id.as_str()))
        .await?
        .ok_or_else(|| Problem::not_found("no such partner in this clinic"))
}

/// `POST /admin/clinics/{clinicId}/partners`
#[tracing::instrument(skip_all)]
pub async fn create(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let actor = authorize(request, &clinic, Permission::CatalogWrite)?;
    let input: PartnerInput = json_body(request)?;
    let partner = Partner::parse(&input.id, &input).map_err(Problem::invalid)?;
    let version = save(state, request, &partner, None, &actor.subject).await?;
    tracing::info!(partner_id = %partner.id, "partner created");
    json(StatusCode::CREATED, &PartnerView { partner, version })
}

/// `PUT /admin/clinics/{clinicId}/partners/{partnerId}`: name, contact and activated services.
#[tracing::instrument(skip_all)]
pub async fn replace(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let id = path_param(request, "partnerId", |raw| PartnerId::parse("partnerId", raw))?;
    let actor = authorize(request, &clinic, Permission::CatalogWrite)?;
    let input: PartnerInput = json_body(request)?;
    let partner = Partner::parse(id.as_str(), &input).map_err(Problem::invalid)?;
    let current = stored_partner(state, &clinic, &id).await?;
    check_if_match(request, current.version)?;
    let before: Partner = current.record()?;
    if before.archived_at.is_some() {
        return Err(Problem::conflict("the partner is archived; create a new partner instead"));
    }
    let version = save(state, request, &partner, Some((&before, current.version)), &actor.subject).await?;
    json_versioned(StatusCode::OK, &PartnerView { partner, version }, version)
}

/// `GET /admin/clinics/{clinicId}/partners`: staff with catalog access see every partner; a
/// partner's own user with `partner:book` sees its own.
#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let actor = authorize(request, &clinic, Permission::CatalogRead)
        .or_else(|_| authorize(request, &clinic, Permission::PartnerBook))?;
    let query = Query::prefix(keys::clinic_partition(&clinic), keys::PARTNER_PREFIX);
    let mut items = query_all(state.store.as_ref(), query)
        .await?
        .iter()
        .map(|item| Ok(PartnerView { partner: item.record()?, version: item.version }))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let archived = bool_param(request, "archived")?;
    items.retain(|view| {
        actor.may_act_for(view.partner.id.as_str()).is_ok() && view.partner.archived_at.is_some() == archived
    });
    items.sort_by_key(|view| view.partner.name.to_lowercase());
    json(StatusCode::OK, &PartnerList { items })
}
