//! The writes behind every catalogue change. Each change is one transaction: the entry
//! (conditional on its version), its published copy (conditional on the online settings not
//! having changed), and the audit record. Events follow the commit.

use super::CatalogEntry;
use super::error::CatalogError;
use super::publication::online_state;
use crate::app::AppState;
use crate::domain::clinic::ClinicId;
use crate::domain::events::Fact;
use crate::features::announce;
use crate::features::audit_trail::{self, Change};
use crate::store::{Condition, Item, Store, StoreError, Write, keys};

/// An entry with its stored version (as staff read it: the entry's fields and `version`, which
/// `If-Match` names on the next change).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Versioned<T> {
    /// The entry.
    #[serde(flatten)]
    pub entry: T,
    /// Its version.
    pub version: u64,
}

/// Reads one entry.
pub async fn load<T: CatalogEntry>(
    store: &dyn Store,
    clinic: &ClinicId,
    id: &str,
) -> Result<Option<Versioned<T>>, StoreError> {
    let Some(item) = store.get(&keys::entry(clinic, T::PREFIX, id)).await? else { return Ok(None) };
    Ok(Some(Versioned { entry: item.record()?, version: item.version }))
}

/// Creates an entry in an existing clinic.
pub async fn create<T: CatalogEntry>(
    state: &AppState,
    clinic: &ClinicId,
    actor: &str,
    input: &T::Input,
) -> Result<T, CatalogError> {
    create_with_id(state, clinic, actor, uuid::Uuid::new_v4().to_string(), input).await
}

/// Creates an entry under a given id (the demo clinic's are the document's examples).
pub async fn create_with_id<T: CatalogEntry>(
    state: &AppState,
    clinic: &ClinicId,
    actor: &str,
    id: String,
    input: &T::Input,
) -> Result<T, CatalogError> {
    let now = state.clock.now();
    let entry = T::create(id.clone(), input, now).map_err(CatalogError::Invalid)?;
    let online = online_state(state.store.as_ref(), clinic).await?;
    let writes = vec![
        Write::Check { key: keys::clinic_profile(clinic), condition: Condition::Exists },
        Write::put(Item::from_record(keys::entry(clinic, T::PREFIX, &id), &entry)?, Condition::NotExists),
        online.unchanged(clinic),
        online.publication(keys::published_entry(clinic, T::PREFIX, &id), entry.published())?,
        audit_trail::record(
            clinic,
            Change {
                actor,
                action: &format!("{}.created", T::KIND.name()),
                entity: T::entity(&id),
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
    tracing::info!(kind = T::KIND.name(), entry_id = %id, "catalogue entry created");
    announce(
        state,
        clinic,
        Fact::CatalogEntryCreated { kind: T::KIND, entry_id: id, enabled_online: entry.online() },
        now,
    )
    .await;
    Ok(entry)
}

/// The result of applying a change.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied<T> {
    /// The entry changed; its new version.
    Changed(T, u64),
    /// The change altered nothing; nothing was written but `extra`. Its version.
    Unchanged(T, u64),
}

/// Applies a change now, in one transaction with `extra` writes (the runner's job record). An
/// archived entry takes no change.
pub async fn apply<T: CatalogEntry>(
    state: &AppState,
    clinic: &ClinicId,
    id: &str,
    change: &T::Change,
    actor: &str,
    extra: Vec<Write>,
    expected_version: Option<u64>,
) -> Result<Applied<T>, CatalogError> {
    let edit = Edit { action: "changed", actor, extra, expected_version };
    commit::<T>(state, clinic, id, edit, |current, now| {
        if current.is_archived() {
            return Err(CatalogError::Archived(T::KIND));
        }
        current.change(change, now).map_err(CatalogError::Invalid)
    })
    .await
}

/// Archives an entry: off online booking, and nothing new may refer to it (the reference checks
/// of templates, bookings, rules, services and partners refuse it in their own transactions).
/// Archiving an archived entry changes nothing.
pub async fn archive<T: CatalogEntry>(
    state: &AppState,
    clinic: &ClinicId,
    id: &str,
    actor: &str,
    expected_version: Option<u64>,
) -> Result<Applied<T>, CatalogError> {
    let edit = Edit { action: "archived", actor, extra: Vec::new(), expected_version };
    commit::<T>(state, clinic, id, edit, |current, now| Ok(current.archive(now))).await
}

/// How an entry is being changed: the audit action, by whom, with which other writes, and the
/// version the client read.
struct Edit<'a> {
    action: &'static str,
    actor: &'a str,
    extra: Vec<Write>,
    expected_version: Option<u64>,
}

/// Writes what `next` makes of the entry, conditional on the version read: the entry, its
/// published copy and the audit record in one transaction; the event after the commit.
async fn commit<T: CatalogEntry>(
    state: &AppState,
    clinic: &ClinicId,
    id: &str,
    edit: Edit<'_>,
    next: impl FnOnce(&T, jiff::Timestamp) -> Result<Option<T>, CatalogError>,
) -> Result<Applied<T>, CatalogError> {
    let Edit { action, actor, extra, expected_version } = edit;
    let current = load::<T>(state.store.as_ref(), clinic, id).await?.ok_or(CatalogError::EntryNotFound(T::KIND))?;
    if let Some(expected) = expected_version
        && expected != current.version
    {
        return Err(CatalogError::Stale { current: current.version, expected });
    }
    let now = state.clock.now();
    let Some(next) = next(&current.entry, now)? else {
        if !extra.is_empty() {
            state.store.transact(extra).await?;
        }
        return Ok(Applied::Unchanged(current.entry, current.version));
    };
    let online = online_state(state.store.as_ref(), clinic).await?;
    let version = current.version + 1;
    let mut writes = vec![
        Write::put(
            Item::from_record(keys::entry(clinic, T::PREFIX, id), &next)?.with_version(version),
            Condition::VersionIs(current.version),
        ),
        online.unchanged(clinic),
        online.publication(keys::published_entry(clinic, T::PREFIX, id), next.published())?,
        audit_trail::record(
            clinic,
            Change {
                actor,
                action: &format!("{}.{action}", T::KIND.name()),
                entity: T::entity(id),
                before_version: Some(current.version),
                after_version: Some(version),
            },
            now,
        )?,
    ];
    writes.extend(extra);
    state.store.transact(writes).await?;
    tracing::info!(kind = T::KIND.name(), entry_id = %id, version, action, "catalogue entry written");
    let fact = Fact::CatalogEntryChanged {
        kind: T::KIND,
        entry_id: id.to_owned(),
        was_online: current.entry.online(),
        is_online: next.online(),
    };
    announce(state, clinic, fact, now).await;
    Ok(Applied::Changed(next, version))
}
