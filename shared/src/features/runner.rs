//! The scheduled runner: what a one-time schedule's payload does when it fires. Deliveries may
//! repeat or come late; the job record moves from pending to done exactly once, in the same
//! transaction as the job's effect, so a repeat does nothing.

use std::sync::Arc;

use async_trait::async_trait;

use crate::app::AppState;
use crate::domain::booking_type::BookingType;
use crate::domain::jobs::{JobRecord, JobStatus, JobTask, ScheduledJob};
use crate::features::catalog::entries;
use crate::features::catalog::error::CatalogError;
use crate::scheduler::{JobError, JobRunner};
use crate::store::{Condition, Item, StoreError, Write, keys};

/// The actor recorded in the audit trail for scheduled changes.
pub const SCHEDULER_ACTOR: &str = "scheduler";

/// What one delivery did (defined with the scheduler port, which both runners answer to).
pub use crate::scheduler::JobOutcome as Outcome;

/// Runs one delivery of `job`.
#[tracing::instrument(skip_all, fields(job_id = %job.job_id, clinic_id = %job.clinic_id))]
pub async fn run_job(state: &AppState, job: &ScheduledJob) -> Result<Outcome, JobError> {
    match &job.task {
        JobTask::RunConnectAction { enrollment_id, cycle, action, attempt } => {
            crate::features::patient_connect::runner::run_action(
                state,
                &job.clinic_id,
                enrollment_id,
                (*cycle, *action, *attempt),
            )
            .await
        }
        JobTask::SendAppointmentMessage { appointment_id, message_id } => {
            crate::features::appointment_lifecycle::delivery::deliver(state, &job.clinic_id, appointment_id, message_id)
                .await
        }
        JobTask::SweepMessages => {
            crate::features::appointment_lifecycle::delivery::sweep(state).await?;
            crate::features::waitlist::sweep(state).await.map(|_| Outcome::Ran)
        }
        JobTask::ScanWaitlist => crate::features::waitlist::scan(state, &job.clinic_id).await.map(|_| Outcome::Ran),
        JobTask::SendWaitlistOffer { offer_id } => {
            crate::features::waitlist::deliver(state, &job.clinic_id, offer_id).await
        }
        JobTask::ExpireWaitlistOffer { offer_id } => {
            crate::features::waitlist::expire(state, &job.clinic_id, offer_id).await
        }
        JobTask::ApplyBookingTypeChange { .. } => run_recorded_job(state, job).await,
    }
}

/// Runs a job that has its own record (pending until done).
async fn run_recorded_job(state: &AppState, job: &ScheduledJob) -> Result<Outcome, JobError> {
    let key = keys::job(&job.clinic_id, &job.job_id);
    let Some(item) = state.store.get(&key).await.map_err(JobError::retryable)? else {
        tracing::warn!("no record of this job; ignored");
        return Ok(Outcome::Unknown);
    };
    let record: JobRecord = item.record().map_err(|error| JobError::Permanent(error.to_string()))?;
    if record.status != JobStatus::Pending {
        tracing::info!(status = ?record.status, "job already finished; repeated delivery ignored");
        return Ok(Outcome::AlreadyDone);
    }
    let done_write = |status: JobStatus| -> Result<Write, JobError> {
        let done = JobRecord { status, ..record.clone() };
        let next = Item::from_record(key.clone(), &done).map_err(JobError::retryable)?.with_version(item.version + 1);
        Ok(Write::put(next, Condition::VersionIs(item.version)))
    };
    match &job.task {
        JobTask::ApplyBookingTypeChange { booking_type_id, change } => {
            let done = vec![done_write(JobStatus::Done)?];
            let result = entries::apply::<BookingType>(
                state,
                &job.clinic_id,
                booking_type_id.as_str(),
                change,
                SCHEDULER_ACTOR,
                done,
                None,
            )
            .await;
            match result {
                Ok(_) => Ok(Outcome::Ran),
                // Gone, or archived since the change was scheduled: it takes no change.
                Err(CatalogError::EntryNotFound(_) | CatalogError::Archived(_)) => {
                    state
                        .store
                        .write(done_write(JobStatus::Abandoned)?)
                        .await
                        .or_else(ignore_lost_race)
                        .map_err(JobError::retryable)?;
                    tracing::warn!("booking type gone or archived; job abandoned");
                    Ok(Outcome::Abandoned)
                }
                // Another delivery finished the job (or changed the booking type) first: read
                // again on the next delivery; if the job is done, that delivery is a no-op.
                Err(CatalogError::Conflict) => match state.store.get(&key).await.map_err(JobError::retryable)? {
                    Some(item)
                        if item.record::<JobRecord>().is_ok_and(|record| record.status != JobStatus::Pending) =>
                    {
                        Ok(Outcome::AlreadyDone)
                    }
                    _ => Err(JobError::Retryable("concurrent change; will re-check".into())),
                },
                Err(CatalogError::Store(error)) => Err(JobError::retryable(error)),
                Err(other) => Err(JobError::Permanent(other.to_string())),
            }
        }
        JobTask::RunConnectAction { .. }
        | JobTask::SendAppointmentMessage { .. }
        | JobTask::SweepMessages
        | JobTask::ScanWaitlist
        | JobTask::SendWaitlistOffer { .. }
        | JobTask::ExpireWaitlistOffer { .. } => Err(JobError::Permanent("not a recorded job".into())),
    }
}

fn ignore_lost_race(error: StoreError) -> Result<(), StoreError> {
    match error {
        StoreError::ConditionFailed { .. } => Ok(()),
        other => Err(other),
    }
}

/// Hands scheduled jobs to [`run_job`] with the application state: the embedded scheduler's
/// target, the same code the runner Lambda calls.
pub struct AppRunner(pub Arc<AppState>);

#[async_trait]
impl JobRunner for AppRunner {
    async fn run(&self, job: ScheduledJob) -> Result<(), JobError> {
        run_job(&self.0, &job).await.map(|_| ())
    }
}
