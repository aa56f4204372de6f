//! Booking statistics: bookings, cancellations and no-shows per channel, partner, service and
//! provider over a date range (UTC days of the changes), as JSON or CSV. The counters are
//! written in the same transaction as each booking, cancellation and no-show
//! (`diary::booking`), so a request reads only the days asked for, never the appointments.

use http::StatusCode;
use jiff::ToSpan;
use jiff::civil::Date;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::statistics::{Counts, Dimensions, GroupBy, csv, sum};
use crate::domain::validation::FieldError;
use crate::features::catalog::names::{CatalogNames, Named};
use crate::http::Problem;
use crate::http::auth::authorize;
use crate::http::request::clinic_id;
use crate::http::request::query_param;
use crate::http::response::{self, json};
use crate::store::{Query, SortKeyRange, keys, query_all};

/// Longest range one request may cover.
const MAX_DAYS: i32 = 366;

/// One row of statistics; only the grouped dimensions are present.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatisticsRow {
    /// Channel: `online`, `staff`, `booking_link` or `partner`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Partner code (empty for bookings not made for a partner).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<String>,
    /// The partner with its name (absent for bookings not made for a partner).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<Named>,
    /// Booking type id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking_type_id: Option<String>,
    /// The booking type with its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking_type: Option<Named>,
    /// Provider id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    /// The provider with their name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<Named>,
    /// The counts.
    #[serde(flatten)]
    pub counts: Counts,
}

/// Statistics for a range of days.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatisticsReport {
    /// First day (UTC), inclusive.
    pub from: String,
    /// Last day (UTC), inclusive.
    pub to: String,
    /// The groupings, in column order.
    pub group_by: Vec<String>,
    /// One row per group that had any change.
    pub rows: Vec<StatisticsRow>,
}

fn day(request: &Request, name: &str, default: Date) -> Result<Date, FieldError> {
    match query_param(request, name) {
        Some(raw) => raw.parse().map_err(|_| FieldError::new(name, "must be a date, YYYY-MM-DD")),
        None => Ok(default),
    }
}

/// `GET /admin/clinics/{clinicId}/statistics?from=&to=[&group_by=channel,partner_id,booking_type_id,provider_id][&format=csv]`
/// Staff with `diary:read` see every row; a partner's own user (`partner:book` with a
/// `partner` claim) sees only its partner's.
#[tracing::instrument(skip_all)]
pub async fn report(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let actor = authorize(request, &clinic, Permission::DiaryRead).or_else(|refused| {
        let actor = authorize(request, &clinic, Permission::PartnerBook)?;
        if actor.partner.is_some() { Ok(actor) } else { Err(refused) }
    })?;
    let today = state.clock.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut errors = Vec::new();
    let to = day(request, "to", today).map_err(|error| errors.push(error)).ok();
    let from = to.and_then(|to| {
        day(request, "from", to.checked_sub(29.days()).unwrap_or(to)).map_err(|error| errors.push(error)).ok()
    });
    let groups = GroupBy::parse_list(query_param(request, "group_by").unwrap_or(""))
        .map_err(|message| errors.push(FieldError::new("group_by", message)))
        .ok();
    let format = query_param(request, "format").unwrap_or("json");
    if format != "json" && format != "csv" {
        errors.push(FieldError::new("format", "must be json or csv"));
    }
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            errors.push(FieldError::new("from", "must not be after `to`"));
        } else if (to - from).get_days() >= MAX_DAYS {
            errors.push(FieldError::new("from", format!("the range may span at most {MAX_DAYS} days")));
        }
    }
    let (Some(from), Some(to), Some(groups), true) = (from, to, groups, errors.is_empty()) else {
        return Err(Problem::invalid(errors));
    };
    let query = Query {
        range: SortKeyRange::Between(from.to_string(), format!("{to}~")),
        ..Query::prefix(keys::statistics_partition(&clinic), "").limit(1000)
    };
    let items = query_all(state.store.as_ref(), query).await?;
    let counted = items.iter().filter_map(|item| {
        let (_, dimensions) = Dimensions::from_sort_key(&item.key.sk)?;
        if actor.partner.as_deref().is_some_and(|own| own != dimensions.partner_id) {
            return None;
        }
        let count = |name: &str| item.data.get(name).and_then(serde_json::Value::as_i64).unwrap_or(0);
        Some((
            dimensions,
            Counts { booked: count("booked"), cancelled: count("cancelled"), no_shows: count("no_shows") },
        ))
    });
    let rows = sum(counted, &groups);
    let names = CatalogNames::load(state.store.as_ref(), &clinic).await?;
    let named = |group: GroupBy, id: &str| match group {
        GroupBy::Channel => Named { id: id.to_owned(), name: None },
        GroupBy::Partner => names.partner(id),
        GroupBy::BookingType => names.booking_type(id),
        GroupBy::Provider => names.provider(id),
    };
    if format == "csv" {
        let name = |group: GroupBy, id: &str| named(group, id).name;
        return response::csv(&format!("statistics-{clinic}-{from}-{to}.csv"), csv(&rows, &groups, &name));
    }
    let grouped = |group: GroupBy, value: &str| groups.contains(&group).then(|| value.to_owned());
    let with_name =
        |group: GroupBy, value: &str| (groups.contains(&group) && !value.is_empty()).then(|| named(group, value));
    let rows = rows
        .into_iter()
        .map(|(dimensions, counts)| StatisticsRow {
            channel: grouped(GroupBy::Channel, &dimensions.channel),
            partner_id: grouped(GroupBy::Partner, &dimensions.partner_id),
            partner: with_name(GroupBy::Partner, &dimensions.partner_id),
            booking_type_id: grouped(GroupBy::BookingType, &dimensions.booking_type_id),
            booking_type: with_name(GroupBy::BookingType, &dimensions.booking_type_id),
            provider_id: grouped(GroupBy::Provider, &dimensions.provider_id),
            provider: with_name(GroupBy::Provider, &dimensions.provider_id),
            counts,
        })
        .collect();
    json(
        StatusCode::OK,
        &StatisticsReport {
            from: from.to_string(),
            to: to.to_string(),
            group_by: groups.iter().map(|group| group.name().to_owned()).collect(),
            rows,
        },
    )
}
