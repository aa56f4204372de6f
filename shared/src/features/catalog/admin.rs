//! Admin routes for booking types, locations and providers.

use http::StatusCode;
use jiff::Timestamp;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use super::CatalogEntry;
use super::entries::{self, Applied, Versioned};
use super::error::CatalogError;
use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::audit::AuditRecord;
use crate::domain::booking_type::{BookingType, BookingTypeChange, BookingTypeId};
use crate::domain::clinic::ClinicId;
use crate::domain::jobs::{JobRecord, JobStatus, JobTask, ScheduledJob, check_run_time};
use crate::features::audit_trail::{self, Change};
use crate::http::Problem;
use crate::http::auth::authorize;
use crate::http::request::{bool_param, clinic_id, if_match, json_body, page_query, path_param};
use crate::http::response::{json, json_versioned};
use crate::store::{Condition, Item, Query, Write, keys};

/// A page of entries.
#[derive(Debug, Serialize, Deserialize)]
pub struct EntryPage<T> {
    /// The entries.
    pub items: Vec<T>,
    /// Pass as `cursor` to read the next page.
    pub next_cursor: Option<String>,
}

/// A page of audit records.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HistoryPage {
    /// Records, oldest first.
    pub items: Vec<AuditRecord>,
    /// Pass as `cursor` to read the next page.
    pub next_cursor: Option<String>,
}

/// A change to a booking type, applied now or at `effective_at`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBookingTypeInput {
    /// New short name.
    pub short_name: Option<String>,
    /// New long name.
    pub long_name: Option<String>,
    /// New French long name; empty removes it.
    pub long_name_fr: Option<String>,
    /// New duration.
    #[schema(minimum = 5, maximum = 240, multiple_of = 5)]
    pub duration_minutes: Option<u32>,
    /// Offer online, or stop.
    pub enabled_online: Option<bool>,
    /// When to apply the change (RFC 3339); omitted means now.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub effective_at: Option<Timestamp>,
}

/// A change scheduled for later.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScheduledChange {
    /// The job that will apply it.
    pub job_id: String,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub effective_at: Timestamp,
    /// `pending` until the runner applies it.
    pub status: JobStatus,
}

fn entry_id<T: CatalogEntry>(request: &Request) -> Result<String, Problem> {
    path_param(request, T::PATH_PARAMETER, |raw| T::parse_id(T::PATH_PARAMETER, raw))
}

/// `POST /admin/clinics/{clinicId}/{kind}`
#[tracing::instrument(skip_all, fields(kind = T::KIND.name()))]
pub async fn create<T: CatalogEntry>(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let actor = authorize(request, &clinic, Permission::CatalogWrite)?;
    let input: T::Input = json_body(request)?;
    let created = entries::create::<T>(state, &clinic, &actor.subject, &input).await?;
    json(StatusCode::CREATED, &created)
}

/// `GET /admin/clinics/{clinicId}/{kind}[?archived=true]`: current entries, or with
/// `archived=true` the archived ones instead.
#[tracing::instrument(skip_all, fields(kind = T::KIND.name()))]
pub async fn list<T: CatalogEntry>(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    authorize(request, &clinic, Permission::CatalogRead)?;
    let archived = bool_param(request, "archived")?;
    let query = page_query(request, Query::prefix(keys::clinic_partition(&clinic), T::PREFIX))?;
    let page = state.store.query(&query).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for item in &page.items {
        let entry = item.record::<T>()?;
        if entry.is_archived() == archived {
            items.push(Versioned { entry, version: item.version });
        }
    }
    json(StatusCode::OK, &EntryPage { items, next_cursor: page.next.map(|cursor| cursor.as_str().to_owned()) })
}

/// `PATCH /admin/clinics/{clinicId}/{kind}/{id}` (locations and providers)
#[tracing::instrument(skip_all, fields(kind = T::KIND.name()))]
pub async fn update<T: CatalogEntry>(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let id = entry_id::<T>(request)?;
    let actor = authorize(request, &clinic, Permission::CatalogWrite)?;
    let change: T::Change = json_body(request)?;
    let expected = if_match(request)?;
    match entries::apply::<T>(state, &clinic, &id, &change, &actor.subject, Vec::new(), expected).await? {
        Applied::Changed(entry, version) | Applied::Unchanged(entry, version) => {
            json_versioned(StatusCode::OK, &Versioned { entry, version }, version)
        }
    }
}

/// `DELETE /admin/clinics/{clinicId}/{kind}/{id}`: archives the entry (`If-Match` optional).
/// What already refers to it keeps its name; nothing new may.
#[tracing::instrument(skip_all, fields(kind = T::KIND.name()))]
pub async fn archive<T: CatalogEntry>(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let id = entry_id::<T>(request)?;
    let actor = authorize(request, &clinic, Permission::CatalogWrite)?;
    let expected = if_match(request)?;
    match entries::archive::<T>(state, &clinic, &id, &actor.subject, expected).await? {
        Applied::Changed(entry, version) | Applied::Unchanged(entry, version) => {
            json_versioned(StatusCode::OK, &Versioned { entry, version }, version)
        }
    }
}

/// `PATCH /admin/clinics/{clinicId}/booking-types/{bookingTypeId}`: now, or at `effective_at`.
#[tracing::instrument(skip_all)]
pub async fn update_booking_type(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let id = entry_id::<BookingType>(request)?;
    let actor = authorize(request, &clinic, Permission::CatalogWrite)?;
    let input: UpdateBookingTypeInput = json_body(request)?;
    let change = BookingType::validate_change(&BookingTypeChange {
        short_name: input.short_name,
        long_name: input.long_name,
        long_name_fr: input.long_name_fr,
        duration_minutes: input.duration_minutes,
        enabled_online: input.enabled_online,
    })
    .map_err(CatalogError::Invalid)?;
    match input.effective_at {
        None => {
            let expected = if_match(request)?;
            match entries::apply::<BookingType>(state, &clinic, &id, &change, &actor.subject, Vec::new(), expected)
                .await?
            {
                Applied::Changed(entry, version) | Applied::Unchanged(entry, version) => {
                    json_versioned(StatusCode::OK, &Versioned { entry, version }, version)
                }
            }
        }
        Some(at) => {
            // A change scheduled for later is checked against the version read now, too.
            if let Some(expected) = if_match(request)? {
                let current = entries::load::<BookingType>(state.store.as_ref(), &clinic, &id)
                    .await?
                    .ok_or(CatalogError::EntryNotFound(BookingType::KIND))?;
                if current.version != expected {
                    return Err(CatalogError::Stale { current: current.version, expected }.into());
                }
            }
            let id = BookingTypeId::generated(id);
            let scheduled = schedule_change(state, &clinic, &id, change, at, &actor.subject).await?;
            json(StatusCode::ACCEPTED, &scheduled)
        }
    }
}

/// Records a pending job with its audit entry, then creates its one-time schedule. If the
/// schedule cannot be made the job record is removed again, so nothing waits for a schedule
/// that does not exist.
async fn schedule_change(
    state: &AppState,
    clinic: &ClinicId,
    id: &BookingTypeId,
    change: BookingTypeChange,
    at: Timestamp,
    actor: &str,
) -> Result<ScheduledChange, CatalogError> {
    let now = state.clock.now();
    let at = check_run_time("effective_at", at, now).map_err(|error| CatalogError::Invalid(vec![error]))?;
    let job = ScheduledJob {
        job_id: uuid::Uuid::new_v4().to_string(),
        clinic_id: clinic.clone(),
        task: JobTask::ApplyBookingTypeChange { booking_type_id: id.clone(), change },
    };
    let record = JobRecord { job: job.clone(), due_at: at, status: JobStatus::Pending };
    let job_key = keys::job(clinic, &job.job_id);
    let writes = vec![
        Write::check_current(keys::entry(clinic, keys::BOOKING_TYPE_PREFIX, id.as_str())),
        Write::put(Item::from_record(job_key.clone(), &record)?, Condition::NotExists),
        audit_trail::record(
            clinic,
            Change {
                actor,
                action: "booking_type.change_scheduled",
                entity: BookingType::entity(id.as_str()),
                before_version: None,
                after_version: None,
            },
            now,
        )?,
    ];
    match state.store.transact(writes).await {
        Err(crate::store::StoreError::ConditionFailed { index: 0 }) => {
            return Err(CatalogError::EntryNotFound(BookingType::KIND));
        }
        other => other?,
    }
    if let Err(error) = state.scheduler.schedule_once(at, &job).await {
        let undo = Write::Delete { key: job_key, condition: Condition::Always };
        if let Err(undo_error) = state.store.write(undo).await {
            tracing::error!(job_id = %job.job_id, %undo_error, "pending job left without a schedule");
        }
        return Err(error.into());
    }
    tracing::info!(job_id = %job.job_id, "booking type change scheduled");
    Ok(ScheduledChange { job_id: job.job_id, effective_at: at, status: JobStatus::Pending })
}

/// `GET /admin/clinics/{clinicId}/booking-types/{bookingTypeId}/history`
#[tracing::instrument(skip_all)]
pub async fn booking_type_history(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let id = entry_id::<BookingType>(request)?;
    authorize(request, &clinic, Permission::CatalogRead)?;
    let query = page_query(request, Query::prefix("", ""))?;
    let (items, next) = audit_trail::history(state.store.as_ref(), &clinic, &BookingType::entity(&id), query).await?;
    if items.is_empty() && entries::load::<BookingType>(state.store.as_ref(), &clinic, &id).await?.is_none() {
        return Err(CatalogError::EntryNotFound(BookingType::KIND).into());
    }
    json(StatusCode::OK, &HistoryPage { items, next_cursor: next.map(|cursor| cursor.as_str().to_owned()) })
}
