//! The scheduler port: one-time schedules that deliver a [`ScheduledJob`] to the runner.

pub mod aws;
pub mod embedded;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::domain::jobs::ScheduledJob;

/// Why a schedule could not be made or removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The request was malformed (bad name or time).
    #[error("invalid schedule: {0}")]
    Invalid(String),
    /// The backend failed; retry.
    #[error("scheduler unavailable: {0}")]
    Unavailable(String),
}

/// The scheduler port. Scheduling a name that already exists succeeds without a second
/// schedule, so callers may retry freely.
#[async_trait]
pub trait Scheduler: Send + Sync {
    /// Delivers `job` to the runner once, at or shortly after `at`.
    async fn schedule_once(&self, at: Timestamp, job: &ScheduledJob) -> Result<(), ScheduleError>;
    /// Removes a schedule that has not fired; removing an unknown name succeeds.
    async fn cancel(&self, name: &str) -> Result<(), ScheduleError>;
}

/// Why the runner failed a job.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Worth delivering again (the store or a provider was unavailable).
    #[error("retryable: {0}")]
    Retryable(String),
    /// Delivering again will not help; the job goes to the dead-letter list.
    #[error("permanent: {0}")]
    Permanent(String),
}

impl JobError {
    /// A retryable error from any failure that may pass (the store, a provider).
    pub fn retryable(error: impl std::fmt::Display) -> Self {
        Self::Retryable(error.to_string())
    }
}

/// What one delivery of a job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    /// The job ran now.
    Ran,
    /// The job had already run (a repeated or late delivery); nothing was done.
    AlreadyDone,
    /// The job's target was gone; the job is recorded as abandoned.
    Abandoned,
    /// No record of this job exists (its scheduling was undone); nothing was done.
    Unknown,
}

/// The handler scheduled jobs are delivered to: the runner Lambda on AWS, the same code locally.
#[async_trait]
pub trait JobRunner: Send + Sync {
    /// Runs one delivery of a job. Deliveries may repeat; the runner makes them idempotent.
    async fn run(&self, job: ScheduledJob) -> Result<(), JobError>;
}

/// A schedule name EventBridge Scheduler accepts: 1 to 64 of `0-9 a-z A-Z - _ .`.
pub fn check_schedule_name(name: &str) -> Result<(), ScheduleError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'));
    if valid { Ok(()) } else { Err(ScheduleError::Invalid(format!("schedule name {name:?}"))) }
}
