//! The writes behind every booking-type change. Each change is one transaction: the booking type
//! (conditional on its version), its published copy, and the audit record. Events follow the
//! commit.

use jiff::Timestamp;

use super::error::CatalogError;
use crate::app::AppState;
use crate::domain::booking_type::{BookingType, BookingTypeChange, BookingTypeId, NewBookingTypeInput};
use crate::domain::clinic::ClinicId;
use crate::domain::events::{DomainEvent, Fact};
use crate::features::audit_trail::{self, Change};
use crate::store::{Condition, Item, Store, StoreError, Write, keys};

/// A booking type with its stored version.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned {
    /// The booking type.
    pub booking_type: BookingType,
    /// Its version.
    pub version: u64,
}

/// Reads one booking type.
pub async fn load(store: &dyn Store, clinic: &ClinicId, id: &BookingTypeId) -> Result<Option<Versioned>, StoreError> {
    let Some(item) = store.get(&keys::booking_type(clinic, id)).await? else { return Ok(None) };
    Ok(Some(Versioned { booking_type: item.record()?, version: item.version }))
}

fn entity(id: &BookingTypeId) -> String {
    format!("booking_type/{}", id.as_str())
}

/// The write that keeps the published copy in step: present when online, absent otherwise.
fn publication(clinic: &ClinicId, booking_type: &BookingType) -> Result<Write, StoreError> {
    let key = keys::published_booking_type(clinic, &booking_type.id);
    Ok(match booking_type.published() {
        Some(published) => Write::put(Item::from_record(key, &published)?, Condition::Always),
        None => Write::Delete { key, condition: Condition::Always },
    })
}

async fn announce(state: &AppState, clinic: &ClinicId, fact: Fact, at: Timestamp) {
    let event = DomainEvent { id: uuid::Uuid::new_v4().to_string(), clinic_id: clinic.clone(), occurred_at: at, fact };
    if let Err(error) = state.events.publish(&[event]).await {
        tracing::error!(%error, "domain event not published after commit");
    }
}

/// Creates a booking type in an existing clinic.
pub async fn create(
    state: &AppState,
    clinic: &ClinicId,
    actor: &str,
    input: &NewBookingTypeInput,
) -> Result<BookingType, CatalogError> {
    let now = state.clock.now();
    let id = BookingTypeId::generated(uuid::Uuid::new_v4().to_string());
    let booking_type = BookingType::create(id.clone(), input, now).map_err(CatalogError::Invalid)?;
    let writes = vec![
        Write::Check { key: keys::clinic_profile(clinic), condition: Condition::Exists },
        Write::put(Item::from_record(keys::booking_type(clinic, &id), &booking_type)?, Condition::NotExists),
        publication(clinic, &booking_type)?,
        audit_trail::record(
            clinic,
            Change {
                actor,
                action: "booking_type.created",
                entity: entity(&id),
                before_version: None,
                after_version: Some(1),
            },
            now,
        )?,
    ];
    match state.store.transact(writes).await {
        Err(StoreError::ConditionFailed { index: 0 }) => return Err(CatalogError::ClinicNotFound),
        other => other?,
    }
    tracing::info!(booking_type_id = id.as_str(), "booking type created");
    announce(
        state,
        clinic,
        Fact::BookingTypeCreated { booking_type_id: id, enabled_online: booking_type.enabled_online },
        now,
    )
    .await;
    Ok(booking_type)
}

/// The result of applying a change.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// The booking type changed.
    Changed(BookingType),
    /// The change altered nothing; nothing was written.
    Unchanged(BookingType),
}

/// Applies a validated change now, in one transaction with `extra` writes (the runner's job
/// record); a condition failure in `extra` is reported as [`CatalogError::Conflict`].
pub async fn apply(
    state: &AppState,
    clinic: &ClinicId,
    id: &BookingTypeId,
    change: &BookingTypeChange,
    actor: &str,
    extra: Vec<Write>,
) -> Result<Applied, CatalogError> {
    let current = load(state.store.as_ref(), clinic, id).await?.ok_or(CatalogError::BookingTypeNotFound)?;
    let now = state.clock.now();
    let Some(next) = current.booking_type.apply(change, now) else {
        if !extra.is_empty() {
            state.store.transact(extra).await?;
        }
        return Ok(Applied::Unchanged(current.booking_type));
    };
    let version = current.version + 1;
    let mut writes = vec![
        Write::put(
            Item::from_record(keys::booking_type(clinic, id), &next)?.with_version(version),
            Condition::VersionIs(current.version),
        ),
        publication(clinic, &next)?,
        audit_trail::record(
            clinic,
            Change {
                actor,
                action: "booking_type.changed",
                entity: entity(id),
                before_version: Some(current.version),
                after_version: Some(version),
            },
            now,
        )?,
    ];
    writes.extend(extra);
    state.store.transact(writes).await?;
    tracing::info!(booking_type_id = id.as_str(), version, "booking type changed");
    let fact = Fact::BookingTypeChanged {
        booking_type_id: id.clone(),
        was_online: current.booking_type.enabled_online,
        is_online: next.enabled_online,
    };
    announce(state, clinic, fact, now).await;
    Ok(Applied::Changed(next))
}

/// The audit entity name of a booking type.
pub fn history_entity(id: &BookingTypeId) -> String {
    entity(id)
}
