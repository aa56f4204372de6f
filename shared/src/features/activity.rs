//! Daily activity counters: maintained by the event consumer as events arrive, read by admins.

use std::sync::Arc;

use async_trait::async_trait;
use http::StatusCode;
use jiff::civil::Date;
use jiff::{SignedDuration, ToSpan};
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::activity::{DailyActivity, counters_for, day_of};
use crate::domain::clinic::ClinicId;
use crate::domain::events::DomainEvent;
use crate::events::{ConsumeError, EventConsumer};
use crate::http::Problem;
use crate::http::auth::authorize;
use crate::http::request::{path_param, query_param};
use crate::http::response::json;
use crate::store::{Condition, Item, Query, SortKeyRange, Store, StoreError, Write, keys, query_all};

/// How long a processed-event marker is kept to drop duplicate deliveries.
const DEDUPLICATION_WINDOW: SignedDuration = SignedDuration::from_hours(24 * 7);
/// Longest range one activity request may ask for.
const MAX_DAYS: i64 = 366;

/// Adds each event to its clinic's daily counters exactly once: the counter update and the
/// processed-event marker are one transaction, so a repeated delivery changes nothing.
pub struct ActivityConsumer {
    store: Arc<dyn Store>,
}

impl ActivityConsumer {
    /// A consumer over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl EventConsumer for ActivityConsumer {
    async fn consume(&self, event: &DomainEvent) -> Result<(), ConsumeError> {
        let expires = event.occurred_at.saturating_add(DEDUPLICATION_WINDOW).unwrap_or(event.occurred_at).as_second();
        let marker =
            Item::from_record(keys::processed_event(&event.id), &serde_json::json!({"kind": event.detail_type()}))
                .map_err(|error| ConsumeError::Permanent(error.to_string()))?
                .with_expiry(expires);
        let counters = counters_for(event);
        let writes = vec![
            Write::put(marker, Condition::NotExists),
            Write::Add { key: keys::daily_activity(&event.clinic_id, day_of(event)), counters },
        ];
        match self.store.transact(writes).await {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { index: 0 }) => {
                tracing::info!(event_id = %event.id, "duplicate event delivery ignored");
                Ok(())
            }
            Err(error @ (StoreError::Unavailable(_) | StoreError::Contention)) => {
                Err(ConsumeError::Retryable(error.to_string()))
            }
            Err(error) => Err(ConsumeError::Permanent(error.to_string())),
        }
    }
}

/// Counters for a range of days.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActivityReport {
    /// One entry per day that had activity, oldest first.
    pub days: Vec<DailyActivity>,
}

fn date_param(request: &Request, name: &str, default: Date) -> Result<Date, Problem> {
    match query_param(request, name) {
        Some(raw) => raw.parse::<Date>().map_err(|_| Problem::malformed(name, "must be a date, YYYY-MM-DD")),
        None => Ok(default),
    }
}

/// `GET /admin/clinics/{clinicId}/activity?from=YYYY-MM-DD&to=YYYY-MM-DD` (default: the last 30 days).
#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = path_param(request, "clinicId", ClinicId::parse)?;
    authorize(request, &clinic, Permission::CatalogRead)?;
    let today = state.clock.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let to = date_param(request, "to", today)?;
    let from = date_param(request, "from", to.checked_sub(29.days()).unwrap_or(to))?;
    if from > to {
        return Err(Problem::invalid(vec![crate::domain::validation::FieldError::new(
            "from",
            "must not be after `to`",
        )]));
    }
    if (to - from).get_days() >= MAX_DAYS as i32 {
        return Err(Problem::invalid(vec![crate::domain::validation::FieldError::new(
            "from",
            format!("the range may span at most {MAX_DAYS} days"),
        )]));
    }
    let query = Query {
        range: SortKeyRange::Between(from.to_string(), to.to_string()),
        ..Query::prefix(keys::activity_partition(&clinic), "").limit(400)
    };
    let items = query_all(state.store.as_ref(), query).await?;
    let days = items
        .iter()
        .map(|item| DailyActivity {
            day: item.key.sk.clone(),
            counters: item
                .data
                .iter()
                .filter_map(|(name, value)| value.as_i64().map(|count| (name.clone(), count)))
                .collect(),
        })
        .collect();
    json(StatusCode::OK, &ActivityReport { days })
}
