//! The online settings and the clinic-wide online-booking switch.

use crate::http::request::if_match;
use crate::http::response::json_versioned;
use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use super::publication::{clear_dataset, gate, online_state, publish_dataset};
use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::clinic::{Clinic, ClinicId};
use crate::domain::events::Fact;
use crate::domain::online_settings::{OnlineSettings, OnlineSettingsInput};
use crate::features::announce;
use crate::features::audit_trail::{self, Change};
use crate::http::Problem;
use crate::http::auth::authorize;
use crate::http::request::clinic_id;
use crate::http::request::json_body;
use crate::http::response::json;
use crate::store::{Condition, Item, StoreError, Write, keys};

/// The settings as the admin API shows them.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OnlineSettingsView {
    /// The settings.
    #[serde(flatten)]
    pub settings: OnlineSettings,
    /// "Your Website URL": the public booking page to copy into a website, letter or reminder.
    pub website_url: String,
    /// Version, bumped by each change.
    pub version: u64,
}

/// The public booking page of a clinic.
pub fn website_url(state: &AppState, clinic: &ClinicId) -> String {
    format!("{}/book/{clinic}", state.settings.public_base_url.trim_end_matches('/'))
}

/// `GET /admin/clinics/{clinicId}/online-settings`
#[tracing::instrument(skip_all)]
pub async fn get(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    authorize(request, &clinic, Permission::CatalogRead)?;
    if state.store.get(&keys::clinic_profile(&clinic)).await?.is_none() {
        return Err(Problem::not_found("no such clinic"));
    }
    let online = online_state(state.store.as_ref(), &clinic).await?;
    json(
        StatusCode::OK,
        &OnlineSettingsView {
            settings: online.settings,
            website_url: website_url(state, &clinic),
            version: online.version,
        },
    )
}

/// Changes the settings; switching online booking on publishes the full dataset before the
/// gate, switching it off removes the gate in the same transaction as the setting.
pub async fn change_settings(
    state: &AppState,
    clinic_id: &ClinicId,
    input: &OnlineSettingsInput,
    actor: &str,
    expected_version: Option<u64>,
) -> Result<OnlineSettingsView, Problem> {
    let profile =
        state.store.get(&keys::clinic_profile(clinic_id)).await?.ok_or_else(|| Problem::not_found("no such clinic"))?;
    let clinic: Clinic = profile.record()?;
    let current = online_state(state.store.as_ref(), clinic_id).await?;
    if let Some(expected) = expected_version
        && expected != current.version
    {
        return Err(Problem::precondition_failed(format!(
            "the settings are at version {}, not {expected}: read them again, then change them",
            current.version
        )));
    }
    let next = current.settings.apply(input).map_err(Problem::invalid)?;
    let (was, is) = (current.online(), next.online_booking_enabled);
    if is && !was {
        publish_dataset(state, clinic_id).await?;
    }
    let now = state.clock.now();
    let version = current.version + 1;
    let condition = if current.version == 0 { Condition::NotExists } else { Condition::VersionIs(current.version) };
    let mut writes = vec![
        Write::put(Item::from_record(keys::online_settings(clinic_id), &next)?.with_version(version), condition),
        Write::Check { key: keys::clinic_profile(clinic_id), condition: Condition::VersionIs(profile.version) },
        audit_trail::record(
            clinic_id,
            Change {
                actor,
                action: "online_settings.changed",
                entity: format!("online_settings/{clinic_id}"),
                before_version: (current.version > 0).then_some(current.version),
                after_version: Some(version),
            },
            now,
        )?,
    ];
    if is {
        writes.push(Write::put(gate(&clinic, &next)?, Condition::Always));
    } else if was {
        writes.push(Write::Delete { key: keys::public_clinic(clinic_id), condition: Condition::Always });
    }
    match state.store.transact(writes).await {
        Err(StoreError::ConditionFailed { .. } | StoreError::Contention) => {
            return Err(Problem::conflict("the settings or the clinic changed while this request ran; try again"));
        }
        other => other?,
    }
    if was && !is {
        // Nothing is served from here on (the gate is gone); the rest is housekeeping.
        if let Err(error) = clear_dataset(state, clinic_id, version).await {
            tracing::error!(%error, "public items left behind after online booking was switched off");
        }
    }
    if was != is {
        tracing::info!(clinic_id = %clinic_id, enabled = is, "online booking switched");
        announce(state, clinic_id, Fact::OnlineBookingSwitched { enabled: is }, now).await;
    }
    Ok(OnlineSettingsView { settings: next, website_url: website_url(state, clinic_id), version })
}

/// `PUT /admin/clinics/{clinicId}/online-settings`
#[tracing::instrument(skip_all)]
pub async fn put(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let actor = authorize(request, &clinic, Permission::ClinicWrite)?;
    let input: OnlineSettingsInput = json_body(request)?;
    let view = change_settings(state, &clinic, &input, &actor.subject, if_match(request)?).await?;
    let version = view.version;
    json_versioned(StatusCode::OK, &view, version)
}
