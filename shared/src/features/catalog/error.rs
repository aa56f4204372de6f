//! Errors of the catalogue routes, and the one place they become HTTP answers.

use crate::domain::events::EntryKind;
use crate::domain::validation::FieldError;
use crate::http::Problem;
use crate::scheduler::ScheduleError;
use crate::store::StoreError;

/// What can go wrong changing the catalogue.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The input broke a rule.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// No such clinic.
    #[error("clinic not found")]
    ClinicNotFound,
    /// No such entry in this clinic.
    #[error("{} not found", .0.name())]
    EntryNotFound(EntryKind),
    /// Staff archived it; it takes no change.
    #[error("{} archived", .0.name())]
    Archived(EntryKind),
    /// Someone else changed it first.
    #[error("concurrent change")]
    Conflict,
    /// `If-Match` named another version than the entry has.
    #[error("stale version")]
    Stale {
        /// The entry's version now.
        current: u64,
        /// The version the client read.
        expected: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
    /// The scheduler failed.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
}

impl From<StoreError> for CatalogError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::ConditionFailed { .. } | StoreError::Contention => Self::Conflict,
            other => Self::Store(other),
        }
    }
}

impl From<CatalogError> for Problem {
    fn from(error: CatalogError) -> Self {
        match error {
            CatalogError::Invalid(errors) => Problem::invalid(errors),
            CatalogError::ClinicNotFound => Problem::not_found("no such clinic"),
            CatalogError::EntryNotFound(kind) => {
                Problem::not_found(format!("no such {} in this clinic", kind.name().replace('_', " ")))
            }
            CatalogError::Archived(kind) => Problem::conflict(format!(
                "this {} is archived: it takes no change, and nothing new may use it",
                kind.name().replace('_', " ")
            )),
            CatalogError::Conflict => {
                Problem::conflict("the record changed while this request ran; reload and try again")
            }
            CatalogError::Stale { current, expected } => Problem::precondition_failed(format!(
                "the record is at version {current}, not {expected}: read it again, then change it"
            )),
            CatalogError::Store(error) => error.into(),
            CatalogError::Schedule(ScheduleError::Invalid(cause)) => {
                tracing::error!(%cause, "schedule refused");
                Problem::internal()
            }
            CatalogError::Schedule(ScheduleError::Unavailable(cause)) => {
                tracing::error!(%cause, "scheduler unavailable");
                Problem::unavailable()
            }
        }
    }
}
