//! Audit records: who changed what, when, written in the same atomic write as the change.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::clinic::ClinicId;

/// One state change, as staff and auditors read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditRecord {
    /// Identifier of this record.
    pub id: String,
    /// The clinic the change belongs to.
    #[schema(value_type = String)]
    pub clinic_id: ClinicId,
    /// When the change happened.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// Who made it: a token subject, or `scheduler` / `system`.
    pub actor: String,
    /// What happened, e.g. `booking_type.created`.
    pub action: String,
    /// The entity changed, e.g. `booking_type/<id>`.
    pub entity: String,
    /// The entity's version before the change (none when created).
    pub before_version: Option<u64>,
    /// The entity's version after the change (none when deleted).
    pub after_version: Option<u64>,
}
