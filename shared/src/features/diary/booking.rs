//! Writing appointments: every booking, move and cancellation is one transaction with the claims
//! of the five-minute units the appointment covers, so no provider is ever double-booked,
//! whoever books and however many book at once.

use std::collections::{BTreeSet, HashMap, HashSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::domain::appointment::{Appointment, AppointmentId, AppointmentStatus};
use crate::domain::clinic::ClinicId;
use crate::domain::events::Fact;
use crate::domain::provider::ProviderId;
use crate::domain::statistics::{Counted, Dimensions};
use crate::features::audit_trail::{self, Change};
use crate::features::{announce, appointment_lifecycle};
use crate::store::keys::sortable_time;
use crate::store::{Condition, Item, Query, SortKeyRange, Store, StoreError, Write, keys, query_all};

/// Why a booking was not written.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    /// Some of the time is already taken.
    #[error("the time is taken")]
    Taken,
    /// The idempotency key was used before; the earlier booking stands.
    #[error("already booked with this idempotency key")]
    Replayed(IdempotencyRecord),
    /// The appointment changed meanwhile.
    #[error("the appointment changed meanwhile")]
    Conflict,
    /// The patient already has an appointment at that time (with any provider).
    #[error("the patient already has an appointment at that time")]
    PatientBusy,
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for BookingError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Contention => Self::Conflict,
            other => Self::Store(other),
        }
    }
}

/// What an idempotency key remembers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// The appointment the first request booked.
    pub appointment_id: AppointmentId,
    /// A hash of the first request, so a different request under the same key is refused.
    pub fingerprint: String,
}

/// How long an idempotency key is remembered.
pub const IDEMPOTENCY_SECONDS: i64 = 24 * 3600;

#[derive(Debug, Serialize, Deserialize)]
struct Claim {
    appointment_id: AppointmentId,
}

/// An appointment's stored item, indexed in its provider's diary.
pub fn appointment_item(clinic: &ClinicId, appointment: &Appointment, version: u64) -> Result<Item, StoreError> {
    let index =
        keys::diary_entry(clinic, appointment.provider_id.as_str(), appointment.starts_at, appointment.id.as_str());
    Ok(Item::from_record(keys::appointment(clinic, appointment.id.as_str()), appointment)?
        .with_gsi1(index)
        .with_version(version))
}

/// The claims of `units` for `appointment`: `NotExists` for free units, `Exists` to take over
/// the units a live hold claimed.
fn claims(
    clinic: &ClinicId,
    appointment: &Appointment,
    units: impl Iterator<Item = i64>,
    condition: Condition,
) -> Result<Vec<Write>, StoreError> {
    units
        .map(|unit| {
            let claim = Claim { appointment_id: appointment.id.clone() };
            Ok(Write::put(
                Item::from_record(keys::claim(clinic, appointment.provider_id.as_str(), unit), &claim)?,
                condition,
            ))
        })
        .collect()
}

/// The claim items a hold writes: like an appointment's, but lapsing at `until`.
pub fn hold_claims(
    clinic: &ClinicId,
    provider: &ProviderId,
    units: impl Iterator<Item = i64>,
    hold_id: &str,
    until: Timestamp,
) -> Result<Vec<Write>, StoreError> {
    units
        .map(|unit| {
            let item = Item::from_record(
                keys::claim(clinic, provider.as_str(), unit),
                &serde_json::json!({"hold_id": hold_id}),
            )?
            .with_expiry(until.as_second());
            Ok(Write::put(item, Condition::NotExists))
        })
        .collect()
}

/// The write that counts a change in the clinic's statistics, in the change's own transaction.
fn statistics_write(clinic: &ClinicId, appointment: &Appointment, counted: Counted, now: Timestamp) -> Write {
    let day = now.to_zoned(jiff::tz::TimeZone::UTC).date().to_string();
    Write::Add {
        key: keys::statistics(clinic, &Dimensions::of(appointment).sort_key(&day)),
        counters: vec![(counted.counter().to_owned(), 1)],
    }
}

fn releases(clinic: &ClinicId, provider: &ProviderId, units: impl Iterator<Item = i64>) -> Vec<Write> {
    units
        .map(|unit| Write::Delete { key: keys::claim(clinic, provider.as_str(), unit), condition: Condition::Always })
        .collect()
}

/// Books `appointment`: the appointment, its claims, the audit record and (when given) the
/// idempotency record, all or nothing.
pub async fn book(
    state: &AppState,
    clinic: &ClinicId,
    appointment: &Appointment,
    actor: &str,
    idempotency: Option<(&str, &str)>,
) -> Result<(), BookingError> {
    book_guarded(state, clinic, appointment, actor, idempotency, Vec::new()).await
}

/// Books `appointment` together with `guards`: more writes of the same transaction (such as a
/// booking link's version-checked update). A failed guard answers [`BookingError::Conflict`].
pub async fn book_guarded(
    state: &AppState,
    clinic: &ClinicId,
    appointment: &Appointment,
    actor: &str,
    idempotency: Option<(&str, &str)>,
    guards: Vec<Write>,
) -> Result<(), BookingError> {
    commit_booking(state, clinic, appointment, actor, idempotency, guards, Condition::NotExists).await
}

/// Books `appointment` on the units a live hold claimed: the hold is deleted (it must still be
/// there: a lapsed hold answers [`BookingError::Conflict`]) and its claims become the
/// appointment's, in one transaction.
pub async fn book_held(
    state: &AppState,
    clinic: &ClinicId,
    appointment: &Appointment,
    actor: &str,
    hold: crate::store::Key,
) -> Result<(), BookingError> {
    let guard = vec![Write::Delete { key: hold, condition: Condition::Exists }];
    commit_booking(state, clinic, appointment, actor, None, guard, Condition::Exists).await
}

async fn commit_booking(
    state: &AppState,
    clinic: &ClinicId,
    appointment: &Appointment,
    actor: &str,
    idempotency: Option<(&str, &str)>,
    guards: Vec<Write>,
    claim_condition: Condition,
) -> Result<(), BookingError> {
    let now = state.clock.now();
    let (settings, _) = appointment_lifecycle::load_settings(state.store.as_ref(), clinic).await?;
    let mut appointment = appointment.clone();
    let mut plan = appointment_lifecycle::on_booked(clinic, &mut appointment, &settings, now)?;
    let appointment = &appointment;
    let mut writes = Vec::new();
    if let Some((key, fingerprint)) = idempotency {
        let record = IdempotencyRecord { appointment_id: appointment.id.clone(), fingerprint: fingerprint.to_owned() };
        let item = Item::from_record(keys::idempotency(clinic, key), &record)?
            .with_expiry(now.as_second() + IDEMPOTENCY_SECONDS);
        writes.push(Write::put(item, Condition::NotExists));
    }
    let guarded = writes.len()..writes.len() + guards.len();
    writes.extend(guards);
    writes.push(Write::put(appointment_item(clinic, appointment, 1)?, Condition::NotExists));
    writes.extend(claims(clinic, appointment, appointment.units(), claim_condition)?);
    writes.push(statistics_write(clinic, appointment, Counted::Booked, now));
    let patient_claims = writes.len() + plan.patient_claims.start..writes.len() + plan.patient_claims.end;
    writes.append(&mut plan.writes);
    writes.push(audit_trail::record(
        clinic,
        Change {
            actor,
            action: "appointment.booked",
            entity: format!("appointment/{}", appointment.id),
            before_version: None,
            after_version: Some(1),
        },
        now,
    )?);
    match state.store.transact(writes).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { index: 0 }) if idempotency.is_some() => {
            let (key, _) = idempotency.unwrap_or_default();
            let stored = state.store.get(&keys::idempotency(clinic, key)).await?.ok_or(BookingError::Conflict)?;
            return Err(BookingError::Replayed(stored.record()?));
        }
        Err(StoreError::ConditionFailed { index }) if guarded.contains(&index) => return Err(BookingError::Conflict),
        Err(StoreError::ConditionFailed { index }) if patient_claims.contains(&index) => {
            return Err(BookingError::PatientBusy);
        }
        Err(StoreError::ConditionFailed { .. }) => return Err(BookingError::Taken),
        Err(error) => return Err(error.into()),
    }
    tracing::info!(appointment_id = %appointment.id, channel = ?appointment.channel, "appointment booked");
    appointment_lifecycle::dispatch(state, plan).await;
    announce(
        state,
        clinic,
        Fact::AppointmentBooked { appointment_id: appointment.id.clone(), channel: appointment.channel },
        now,
    )
    .await;
    Ok(())
}

/// An appointment with its stored version.
#[derive(Debug, Clone)]
pub struct StoredAppointment {
    /// The appointment.
    pub appointment: Appointment,
    /// Its version.
    pub version: u64,
}

/// Reads one appointment.
pub async fn load(
    store: &dyn Store,
    clinic: &ClinicId,
    id: &AppointmentId,
) -> Result<Option<StoredAppointment>, StoreError> {
    let Some(item) = store.get(&keys::appointment(clinic, id.as_str())).await? else { return Ok(None) };
    Ok(Some(StoredAppointment { appointment: item.record()?, version: item.version }))
}

/// Rewrites an appointment (moved, edited or cancelled) in one transaction that releases the
/// units it no longer covers and claims the ones it newly covers.
pub async fn rewrite(
    state: &AppState,
    clinic: &ClinicId,
    current: &StoredAppointment,
    next: &Appointment,
    actor: &str,
    action: &str,
) -> Result<(), BookingError> {
    rewrite_guarded(state, clinic, current, next, actor, action, Vec::new()).await
}

/// [`rewrite`] together with `guards`, more writes of the same transaction; a failed guard
/// answers [`BookingError::Conflict`].
pub async fn rewrite_guarded(
    state: &AppState,
    clinic: &ClinicId,
    current: &StoredAppointment,
    next: &Appointment,
    actor: &str,
    action: &str,
    guards: Vec<Write>,
) -> Result<(), BookingError> {
    let now = state.clock.now();
    let (settings, _) = appointment_lifecycle::load_settings(state.store.as_ref(), clinic).await?;
    let mut next = next.clone();
    let mut plan = appointment_lifecycle::on_rewritten(clinic, &current.appointment, &mut next, actor, &settings, now)?;
    let next = &next;
    let held: BTreeSet<i64> = if current.appointment.status == AppointmentStatus::Booked {
        current.appointment.units().collect()
    } else {
        BTreeSet::new()
    };
    let wanted: BTreeSet<i64> =
        if next.status == AppointmentStatus::Booked { next.units().collect() } else { BTreeSet::new() };
    let same_provider = current.appointment.provider_id == next.provider_id;
    let (release, claim): (Vec<i64>, Vec<i64>) = if same_provider {
        (held.difference(&wanted).copied().collect(), wanted.difference(&held).copied().collect())
    } else {
        (held.iter().copied().collect(), wanted.iter().copied().collect())
    };
    let version = current.version + 1;
    let mut writes = vec![Write::put(appointment_item(clinic, next, version)?, Condition::VersionIs(current.version))];
    let guarded = 1..1 + guards.len();
    writes.extend(guards);
    writes.extend(releases(clinic, &current.appointment.provider_id, release.into_iter()));
    writes.extend(claims(clinic, next, claim.into_iter(), Condition::NotExists)?);
    let patient_claims = writes.len() + plan.patient_claims.start..writes.len() + plan.patient_claims.end;
    writes.append(&mut plan.writes);
    if current.appointment.status == AppointmentStatus::Booked {
        match next.status {
            AppointmentStatus::Cancelled => writes.push(statistics_write(clinic, next, Counted::Cancelled, now)),
            AppointmentStatus::NoShow => writes.push(statistics_write(clinic, next, Counted::NoShow, now)),
            AppointmentStatus::Booked => {}
        }
    }
    writes.push(audit_trail::record(
        clinic,
        Change {
            actor,
            action,
            entity: format!("appointment/{}", next.id),
            before_version: Some(current.version),
            after_version: Some(version),
        },
        now,
    )?);
    match state.store.transact(writes).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { index }) if index == 0 || guarded.contains(&index) => {
            return Err(BookingError::Conflict);
        }
        Err(StoreError::ConditionFailed { index }) if patient_claims.contains(&index) => {
            return Err(BookingError::PatientBusy);
        }
        Err(StoreError::ConditionFailed { .. }) => return Err(BookingError::Taken),
        Err(error) => return Err(error.into()),
    }
    tracing::info!(appointment_id = %next.id, action, "appointment rewritten");
    appointment_lifecycle::dispatch(state, plan).await;
    let cancelled =
        next.status == AppointmentStatus::Cancelled && current.appointment.status == AppointmentStatus::Booked;
    let moved = next.starts_at != current.appointment.starts_at
        || next.provider_id != current.appointment.provider_id
        || next.location_id != current.appointment.location_id;
    if cancelled {
        announce(
            state,
            clinic,
            Fact::AppointmentCancelled { appointment_id: next.id.clone(), channel: next.channel },
            now,
        )
        .await;
    } else if moved {
        announce(state, clinic, Fact::AppointmentMoved { appointment_id: next.id.clone() }, now).await;
    }
    if current.appointment.patient_reference.is_none()
        && next.patient_reference.is_some()
        && next.status == AppointmentStatus::Booked
    {
        announce(state, clinic, Fact::AppointmentAttached { appointment_id: next.id.clone() }, now).await;
    }
    Ok(())
}

/// The units claimed for each provider between two instants: one query per provider.
pub async fn busy_units(
    store: &dyn Store,
    clinic: &ClinicId,
    providers: impl Iterator<Item = &ProviderId>,
    from: Timestamp,
    to: Timestamp,
) -> Result<HashMap<ProviderId, HashSet<i64>>, StoreError> {
    let mut busy = HashMap::new();
    for provider in providers {
        let query = Query {
            range: SortKeyRange::Between(sortable_time(from), sortable_time(to)),
            ..Query::prefix(keys::claim_partition(clinic, provider.as_str()), "").limit(1000)
        };
        let units = query_all(store, query)
            .await?
            .iter()
            .filter_map(|item| item.key.sk.parse::<Timestamp>().ok())
            .map(|start| start.as_second().div_euclid(crate::domain::diary::UNIT_MINUTES * 60))
            .collect();
        busy.insert(provider.clone(), units);
    }
    Ok(busy)
}

/// A provider's appointments starting between two instants, from the diary index.
pub async fn diary(
    store: &dyn Store,
    clinic: &ClinicId,
    provider: &ProviderId,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<StoredAppointment>, StoreError> {
    let query = Query {
        range: SortKeyRange::Between(sortable_time(from), format!("{}~", sortable_time(to))),
        ..Query::prefix(keys::diary_partition(clinic, provider.as_str()), "").on_gsi1().limit(500)
    };
    query_all(store, query)
        .await?
        .iter()
        .map(|item| Ok(StoredAppointment { appointment: item.record()?, version: item.version }))
        .collect()
}
