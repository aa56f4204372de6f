//! The public side reads only the clinic's public partition, in one query, and only while its
//! gate item is there.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use super::publication::PublicClinic;
use super::publication::PublishedBlock;
use crate::app::AppState;
use crate::domain::booking_type::PublishedBookingType;
use crate::domain::clinic::ClinicId;
use crate::domain::diary::{DiaryBlock, DiaryTemplate};
use crate::domain::location::PublishedLocation;
use crate::domain::provider::PublishedProvider;
use crate::http::Problem;
use crate::http::request::path_param;
use crate::http::response::json;
use crate::store::{Query, Store, StoreError, keys, query_all};

/// Everything published for one clinic.
#[derive(Debug, Clone)]
pub struct PublicSnapshot {
    /// The clinic and its settings.
    pub clinic: PublicClinic,
    /// Booking types offered online, by name.
    pub booking_types: Vec<PublishedBookingType>,
    /// Locations offered online, by name.
    pub locations: Vec<PublishedLocation>,
    /// Providers offered online, by name.
    pub providers: Vec<PublishedProvider>,
    /// Diary templates.
    pub templates: Vec<DiaryTemplate>,
    /// Diary blocks (times only).
    pub blocks: Vec<DiaryBlock>,
}

/// Why the public side answers nothing.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Online booking is off (or the clinic does not exist): nothing is public.
    #[error("online booking is not available for this clinic")]
    NotAvailable,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SnapshotError> for Problem {
    fn from(error: SnapshotError) -> Self {
        match error {
            SnapshotError::NotAvailable => Problem::not_found("online booking is not available for this clinic"),
            SnapshotError::Store(error) => error.into(),
        }
    }
}

/// Reads the clinic's public partition in one query.
pub async fn snapshot(store: &dyn Store, clinic: &ClinicId) -> Result<PublicSnapshot, SnapshotError> {
    let items = query_all(store, Query::prefix(keys::public_partition(clinic), "").limit(1000)).await?;
    let mut gate = None;
    let (mut booking_types, mut locations, mut providers, mut templates, mut blocks) =
        (vec![], vec![], vec![], vec![], vec![]);
    for item in &items {
        let sk = item.key.sk.as_str();
        if sk == keys::PUBLIC_CLINIC_SK {
            gate = Some(item.record::<PublicClinic>()?);
        } else if sk.starts_with(keys::BOOKING_TYPE_PREFIX) {
            booking_types.push(item.record::<PublishedBookingType>()?);
        } else if sk.starts_with(keys::LOCATION_PREFIX) {
            locations.push(item.record::<PublishedLocation>()?);
        } else if sk.starts_with(keys::PROVIDER_PREFIX) {
            providers.push(item.record::<PublishedProvider>()?);
        } else if sk.starts_with(keys::TEMPLATE_PREFIX) {
            templates.push(item.record::<DiaryTemplate>()?);
        } else if sk.starts_with(keys::BLOCK_PREFIX) {
            let block = item.record::<PublishedBlock>()?;
            let id = crate::domain::diary::BlockId::generated(sk.trim_start_matches(keys::BLOCK_PREFIX).to_owned());
            blocks.push(DiaryBlock {
                id,
                provider_id: block.provider_id,
                starts_at: block.starts_at,
                ends_at: block.ends_at,
                reason: String::new(),
            });
        }
    }
    let clinic = gate.ok_or(SnapshotError::NotAvailable)?;
    booking_types.sort_by(|a, b| a.name.cmp(&b.name));
    locations.sort_by(|a, b| a.name.cmp(&b.name));
    providers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(PublicSnapshot { clinic, booking_types, locations, providers, templates, blocks })
}

/// The public catalogue of one clinic.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublicCatalog {
    /// The clinic and its online settings.
    pub clinic: PublicClinic,
    /// Booking types offered online.
    pub booking_types: Vec<PublishedBookingType>,
    /// Locations offered online.
    pub locations: Vec<PublishedLocation>,
    /// Providers offered online.
    pub providers: Vec<PublishedProvider>,
}

/// `GET /public/clinics/{clinicId}/catalog`: one query of the public partition.
#[tracing::instrument(skip_all)]
pub async fn catalog(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = path_param(request, "clinicId", ClinicId::parse)?;
    crate::features::rate_limit::check_public(state, request).await?;
    let snapshot = snapshot(state.store.as_ref(), &clinic_id).await?;
    json(
        StatusCode::OK,
        &PublicCatalog {
            clinic: snapshot.clinic,
            booking_types: snapshot.booking_types,
            locations: snapshot.locations,
            providers: snapshot.providers,
        },
    )
}
