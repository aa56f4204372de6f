//! Audit records, built as one more write of the transaction that makes the change.

use jiff::Timestamp;

use crate::domain::audit::AuditRecord;
use crate::domain::clinic::ClinicId;
use crate::store::{Condition, Item, Query, Store, StoreError, Write, keys};

/// What changed, for the audit record.
pub struct Change<'a> {
    /// Who: a token subject, `scheduler` or `system`.
    pub actor: &'a str,
    /// What, e.g. `booking_type.created`.
    pub action: &'a str,
    /// Which entity, e.g. `booking_type/<id>`.
    pub entity: String,
    /// Version before (none when created).
    pub before_version: Option<u64>,
    /// Version after (none when deleted).
    pub after_version: Option<u64>,
}

/// The write that records `change` in `clinic`'s audit trail and in the entity's history.
pub fn record(clinic: &ClinicId, change: Change<'_>, at: Timestamp) -> Result<Write, StoreError> {
    let id = uuid::Uuid::new_v4().to_string();
    let record = AuditRecord {
        id: id.clone(),
        clinic_id: clinic.clone(),
        at,
        actor: change.actor.to_owned(),
        action: change.action.to_owned(),
        entity: change.entity.clone(),
        before_version: change.before_version,
        after_version: change.after_version,
    };
    let item = Item::from_record(keys::audit(clinic, at, &id), &record)?.with_gsi1(keys::entity_history(
        clinic,
        &change.entity,
        at,
        &id,
    ));
    Ok(Write::put(item, Condition::NotExists))
}

/// The audit write for a versioned save of `kind`/`id` (`{kind}.created` when there was no
/// previous version, `{kind}.changed` otherwise).
pub fn saved(
    clinic: &ClinicId,
    actor: &str,
    kind: &str,
    id: &str,
    previous: Option<u64>,
    version: u64,
    at: Timestamp,
) -> Result<Write, StoreError> {
    let action = format!("{kind}.{}", if previous.is_some() { "changed" } else { "created" });
    let change = Change {
        actor,
        action: &action,
        entity: format!("{kind}/{id}"),
        before_version: previous,
        after_version: Some(version),
    };
    record(clinic, change, at)
}

/// One page of an entity's history, oldest first.
pub async fn history(
    store: &dyn Store,
    clinic: &ClinicId,
    entity: &str,
    query: Query,
) -> Result<(Vec<AuditRecord>, Option<crate::store::Cursor>), StoreError> {
    let query = Query { index: crate::store::Index::Gsi1, pk: keys::entity_history_partition(clinic, entity), ..query };
    let page = store.query(&query).await?;
    let records = page.items.iter().map(Item::record).collect::<Result<Vec<AuditRecord>, _>>()?;
    Ok((records, page.next))
}
