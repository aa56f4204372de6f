//! The clinic's uploaded logo: staff upload a PNG or JPEG (`PUT /admin/clinics/{clinicId}/logo`,
//! the image as the body); the patient pages show it from `GET /book/{clinicId}/logo` (same
//! origin, no third-party request from a patient's browser) and Patient Connect draws it on
//! letters. Stored beside the profile, whose `branding.logo_path` is set in the same transaction.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::clinic::{Clinic, ClinicId};
use crate::domain::logo::{ClinicLogo, LogoFormat, MAX_LOGO_BYTES};
use crate::features::audit_trail::{self, Change};
use crate::features::catalog::publication::{gate, online_state};
use crate::http::Problem;
use crate::http::auth::authorize;
use crate::http::request::path_param;
use crate::http::response::json;
use crate::store::{Condition, Item, Store, StoreError, Write, keys};

/// The logo as stored (the bytes in base64: the store keeps JSON records).
#[derive(Serialize, Deserialize)]
struct StoredLogo {
    format: LogoFormat,
    width: u32,
    height: u32,
    data: String,
}

/// What an upload answers.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogoView {
    /// `png` or `jpeg`.
    pub format: LogoFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Where patients' pages load it from.
    pub path: String,
}

/// The public path of a clinic's uploaded logo.
pub fn logo_path(clinic: &ClinicId) -> String {
    format!("/book/{clinic}/logo")
}

/// The clinic's uploaded logo, if any (and still readable).
pub async fn load_logo(store: &dyn Store, clinic: &ClinicId) -> Result<Option<ClinicLogo>, StoreError> {
    let Some(item) = store.get(&keys::clinic_logo(clinic)).await? else { return Ok(None) };
    let stored: StoredLogo = item.record()?;
    let Ok(bytes) = STANDARD.decode(stored.data) else { return Ok(None) };
    Ok(Some(ClinicLogo { format: stored.format, width: stored.width, height: stored.height, bytes }))
}

/// `PUT /admin/clinics/{clinicId}/logo`: the body is the image (`image/png` or `image/jpeg`, at
/// most 200 KiB and 2000 pixels a side). The clinic's profile must exist.
#[tracing::instrument(skip_all)]
pub async fn put_logo(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = path_param(request, "clinicId", ClinicId::parse)?;
    let actor = authorize(request, &clinic_id, Permission::ClinicWrite)?;
    let bytes = match request.body() {
        Body::Binary(bytes) => bytes.clone(),
        Body::Text(text) => text.as_bytes().to_vec(),
        _ => Vec::new(),
    };
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(Problem::too_large());
    }
    let content_type =
        request.headers().get(http::header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let logo = ClinicLogo::parse(content_type, bytes).map_err(|error| Problem::invalid(vec![error]))?;
    let profile_key = keys::clinic_profile(&clinic_id);
    let Some(item) = state.store.get(&profile_key).await? else {
        return Err(Problem::not_found("create the clinic's profile first (PUT /admin/clinics/{clinicId})"));
    };
    let version = item.version;
    let mut clinic: Clinic = item.record()?;
    let now = state.clock.now();
    clinic.branding.logo_path = Some(logo_path(&clinic_id));
    clinic.updated_at = now;
    let online = online_state(state.store.as_ref(), &clinic_id).await?;
    let stored =
        StoredLogo { format: logo.format, width: logo.width, height: logo.height, data: STANDARD.encode(&logo.bytes) };
    let mut writes = vec![
        Write::put(Item::from_record(profile_key, &clinic)?.with_version(version + 1), Condition::VersionIs(version)),
        Write::put(Item::from_record(keys::clinic_logo(&clinic_id), &stored)?, Condition::Always),
        audit_trail::record(
            &clinic_id,
            Change {
                actor: &actor.subject,
                action: "clinic.logo_uploaded",
                entity: format!("clinic/{clinic_id}"),
                before_version: Some(version),
                after_version: Some(version + 1),
            },
            now,
        )?,
    ];
    if online.online() {
        writes.push(online.unchanged(&clinic_id));
        writes.push(Write::put(gate(&clinic, &online.settings)?, Condition::Always));
    }
    match state.store.transact(writes).await {
        Err(StoreError::ConditionFailed { .. }) => {
            return Err(Problem::conflict("the clinic changed while this request ran; try again"));
        }
        other => other?,
    }
    tracing::info!(width = logo.width, height = logo.height, "clinic logo uploaded");
    let view = LogoView { format: logo.format, width: logo.width, height: logo.height, path: logo_path(&clinic_id) };
    json(StatusCode::OK, &view)
}

/// `GET /book/{clinicId}/logo`: the uploaded logo, cacheable for an hour. Not counted against
/// the visitor's public rate limit: every page view loads it.
#[tracing::instrument(skip_all)]
pub async fn get_logo(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = path_param(request, "clinicId", ClinicId::parse)?;
    let Some(logo) = load_logo(state.store.as_ref(), &clinic_id).await? else {
        return Err(Problem::not_found("this clinic has no uploaded logo"));
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, logo.format.content_type())
        .header(http::header::CACHE_CONTROL, "public, max-age=3600")
        .header("x-content-type-options", "nosniff")
        .header("content-security-policy", "default-src 'none'")
        .body(Body::Binary(logo.bytes))
        .map_err(|_| Problem::internal())
}
