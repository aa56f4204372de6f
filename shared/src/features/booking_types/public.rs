//! The public catalogue: what patients may book, read only from the clinic's public partition.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::domain::booking_type::PublishedBookingType;
use crate::domain::clinic::ClinicId;
use crate::features::clinics::PublicClinic;
use crate::http::Problem;
use crate::http::request::path_param;
use crate::http::response::json;
use crate::store::{Query, keys, query_all};

/// The public catalogue of one clinic.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublicCatalog {
    /// The clinic as patients see it.
    pub clinic: PublicClinic,
    /// Booking types offered online.
    pub booking_types: Vec<PublishedBookingType>,
}

/// `GET /public/clinics/{clinicId}/booking-types`: one query of the public partition.
#[tracing::instrument(skip_all)]
pub async fn catalog(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = path_param(request, "clinicId", ClinicId::parse)?;
    let items =
        query_all(state.store.as_ref(), Query::prefix(keys::public_partition(&clinic_id), "").limit(1000)).await?;
    let mut clinic = None;
    let mut booking_types = Vec::new();
    for item in &items {
        if item.key.sk == keys::PUBLIC_CLINIC_SK {
            clinic = Some(item.record::<PublicClinic>()?);
        } else if item.key.sk.starts_with(keys::BOOKING_TYPE_PREFIX) {
            booking_types.push(item.record::<PublishedBookingType>()?);
        }
    }
    let clinic = clinic.ok_or_else(|| Problem::not_found("online booking is not available for this clinic"))?;
    booking_types.sort_by(|a, b| a.name.cmp(&b.name));
    json(StatusCode::OK, &PublicCatalog { clinic, booking_types })
}
