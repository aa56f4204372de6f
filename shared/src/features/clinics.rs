//! The clinic profile: created or updated by an admin of that clinic.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::clinic::{Clinic, ClinicId, ClinicProfileInput};
use crate::features::audit_trail::{self, Change};
use crate::features::catalog::publication::{gate, online_state};
use crate::http::Problem;
use crate::http::auth::authorize;
use crate::http::request::{if_match, json_body, path_param};
use crate::http::response::json_versioned;
use crate::store::{Condition, Item, StoreError, Write, keys};

/// The clinic as the admin API returns it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClinicView {
    /// Identifier.
    pub id: String,
    /// Name.
    pub name: String,
    /// IANA time zone.
    pub time_zone: String,
    /// Country whose national phone numbers patients may type.
    pub country: crate::domain::contact::Region,
    /// What patients see of the clinic.
    pub branding: crate::domain::clinic::ClinicBranding,
    /// The language of its letters, when set (`en` or `fr`).
    pub language: Option<String>,
    /// Version, bumped by each change.
    pub version: u64,
}

/// Writes a clinic profile (and its public copy, and the audit record) in one transaction.
pub async fn save_profile(
    state: &AppState,
    clinic_id: &ClinicId,
    input: &ClinicProfileInput,
    actor: &str,
    expected_version: Option<u64>,
) -> Result<(ClinicView, bool), Problem> {
    let key = keys::clinic_profile(clinic_id);
    let existing = state.store.get(&key).await?;
    let (current, version) = match &existing {
        Some(item) => (Some(item.record::<Clinic>()?), item.version),
        None => (None, 0),
    };
    if let Some(expected) = expected_version
        && expected != version
    {
        return Err(Problem::precondition_failed(format!(
            "the profile is at version {version}, not {expected}: read it again, then change it"
        )));
    }
    let now = state.clock.now();
    let clinic = Clinic::from_input(clinic_id.clone(), input, current.as_ref(), now).map_err(Problem::invalid)?;
    let condition = if existing.is_some() { Condition::VersionIs(version) } else { Condition::NotExists };
    let online = online_state(state.store.as_ref(), clinic_id).await?;
    let gate_write = if online.online() {
        Write::put(gate(&clinic, &online.settings)?, Condition::Always)
    } else {
        Write::Delete { key: keys::public_clinic(clinic_id), condition: Condition::Always }
    };
    let writes = vec![
        Write::put(Item::from_record(key, &clinic)?.with_version(version + 1), condition),
        online.unchanged(clinic_id),
        gate_write,
        audit_trail::record(
            clinic_id,
            Change {
                actor,
                action: if existing.is_some() { "clinic.updated" } else { "clinic.created" },
                entity: format!("clinic/{clinic_id}"),
                before_version: existing.as_ref().map(|_| version),
                after_version: Some(version + 1),
            },
            now,
        )?,
    ];
    match state.store.transact(writes).await {
        Err(StoreError::ConditionFailed { index: 0 | 1 }) => {
            return Err(Problem::conflict("the clinic changed while this request ran; try again"));
        }
        other => other?,
    }
    Ok((view(clinic, version + 1), existing.is_none()))
}

fn view(clinic: Clinic, version: u64) -> ClinicView {
    ClinicView {
        id: clinic.id.as_str().to_owned(),
        name: clinic.name,
        time_zone: clinic.time_zone.as_str().to_owned(),
        country: clinic.country,
        branding: clinic.branding,
        language: clinic.language,
        version,
    }
}

/// `GET /admin/clinics/{clinicId}`: the profile as it stands, with its version.
#[tracing::instrument(skip_all)]
pub async fn get_clinic(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = path_param(request, "clinicId", ClinicId::parse)?;
    authorize(request, &clinic_id, Permission::CatalogRead)?;
    let Some(item) = state.store.get(&keys::clinic_profile(&clinic_id)).await? else {
        return Err(Problem::not_found("this clinic has no profile yet: create it with PUT /admin/clinics/{clinicId}"));
    };
    json_versioned(StatusCode::OK, &view(item.record()?, item.version), item.version)
}

/// `PUT /admin/clinics/{clinicId}`
#[tracing::instrument(skip_all)]
pub async fn put_clinic(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = path_param(request, "clinicId", ClinicId::parse)?;
    let actor = authorize(request, &clinic_id, Permission::ClinicWrite)?;
    let input: ClinicProfileInput = json_body(request)?;
    let (view, created) = save_profile(state, &clinic_id, &input, &actor.subject, if_match(request)?).await?;
    let version = view.version;
    json_versioned(if created { StatusCode::CREATED } else { StatusCode::OK }, &view, version)
}
