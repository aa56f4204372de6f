//! Patient Connect (seed 004): automated SMS, email and letter programs.
//!
//! - [`programs`]: admins build templates and programs.
//! - [`enrollments`]: staff enroll patients, see every enrollment and advance pauses.
//! - [`runner`]: a scheduled delivery carries out one action, exactly once.
//! - [`bookings`]: a qualifying booking completes a cycle; a Booking program's booking enters it.
//! - [`letters`]: the distribution list and the letters' PDFs.
//! - [`replies`]: inbound SMS kept against the enrollment that asked for them.
//!
//! Every change of an enrollment goes through [`move_enrollment`]: one conditional write of the
//! enrollment (on its version) with the outcomes, flags and letters it implies, and exactly one
//! live schedule for whatever is due next.

pub mod bookings;
pub mod enrollments;
pub mod letters;
pub mod programs;
pub mod replies;
pub mod runner;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::domain::clinic::ClinicId;
use crate::domain::enrollment::{ActionOutcome, ActionResult, Enrollment, NextRun, plan};
use crate::domain::jobs::{JobTask, ScheduledJob};
use crate::domain::patient_connect::{ConnectProgram, Position};
use crate::scheduler::ScheduleError;
use crate::store::{Condition, Item, StoreError, Write, keys};

/// A program as stored, with its id.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredProgram {
    /// Id.
    pub id: String,
    /// The program.
    pub program: ConnectProgram,
    /// When it was created.
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    /// Last change.
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
    /// When staff archived it (and so disabled it for good): nobody new enters it; its
    /// enrollments and history keep naming it. Absent while current.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub archived_at: Option<Timestamp>,
}

/// Why moving an enrollment failed.
#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    /// The enrollment changed since it was read; read again.
    #[error("the enrollment changed concurrently")]
    Conflict,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The scheduler failed.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
}

/// Reads a program.
pub async fn load_program(state: &AppState, clinic: &ClinicId, id: &str) -> Result<Option<StoredProgram>, StoreError> {
    state.store.get(&keys::connect_program(clinic, id)).await?.map(|item| item.record()).transpose()
}

/// Reads an enrollment with its version.
pub async fn load_enrollment(
    state: &AppState,
    clinic: &ClinicId,
    id: &str,
) -> Result<Option<(Enrollment, u64)>, StoreError> {
    match state.store.get(&keys::enrollment(clinic, id)).await? {
        Some(item) => Ok(Some((item.record()?, item.version))),
        None => Ok(None),
    }
}

/// The key an enrollment's patient is indexed by.
pub fn patient_index(enrollment: &Enrollment) -> String {
    match (&enrollment.patient_reference, &enrollment.appointment_id) {
        (Some(reference), _) => reference.as_str().to_owned(),
        (None, Some(appointment)) => format!("appointment:{appointment}"),
        (None, None) => "unknown".to_owned(),
    }
}

/// The scheduler payload for a planned run.
pub fn job_for(clinic: &ClinicId, enrollment_id: &str, next: &NextRun) -> ScheduledJob {
    ScheduledJob {
        job_id: next.schedule_name.clone(),
        clinic_id: clinic.clone(),
        task: JobTask::RunConnectAction {
            enrollment_id: enrollment_id.to_owned(),
            cycle: next.cycle,
            action: next.action,
            attempt: next.attempt,
        },
    }
}

/// An outcome's write: once per cycle and action.
pub fn outcome_write(
    clinic: &ClinicId,
    enrollment_id: &str,
    program: &ConnectProgram,
    cycle: u16,
    action: u16,
    result: ActionResult,
    at: Timestamp,
) -> Result<Write, StoreError> {
    let kind = program.actions.get(usize::from(action)).map_or("unknown", |step| step.kind.name());
    let outcome = ActionOutcome { cycle, action, kind: kind.to_owned(), result, at };
    Ok(Write::put(
        Item::from_record(keys::action_outcome(clinic, enrollment_id, cycle, action), &outcome)?,
        Condition::NotExists,
    ))
}

/// What every step of an enrollment works within: the application, the clinic, its time zone
/// and the enrollment's program.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    /// The application.
    pub state: &'a AppState,
    /// The clinic.
    pub clinic: &'a ClinicId,
    /// The clinic's time zone.
    pub zone: &'a TimeZone,
    /// The enrollment's program.
    pub program: &'a StoredProgram,
}

/// Where an enrollment should go, and what comes with the move.
pub struct Move {
    /// The position to plan from (overdue actions are skipped on the way).
    pub position: Position,
    /// A retry of the current action instead of a plan (transient failures).
    pub retry: Option<NextRun>,
    /// Clear the in-flight claim.
    pub clear_in_flight: bool,
    /// Writes that go in the same transaction (outcomes, letters, flags).
    pub writes: Vec<Write>,
}

/// Moves `enrollment` (read at `version`) to `change.position`: plans the next action (skipping
/// stale ones, each recorded), schedules it before the write (a schedule without its write is
/// ignored when it fires), writes everything in one transaction on the version, and finally
/// cancels the previous schedule if it is no longer the live one. Returns the new enrollment.
pub async fn move_enrollment(
    scope: &Scope<'_>,
    enrollment: &Enrollment,
    version: u64,
    change: Move,
    now: Timestamp,
) -> Result<Enrollment, MoveError> {
    let Scope { state, clinic, zone, program } = *scope;
    let program = &program.program;
    let mut writes = change.writes;
    let (position, next) = match change.retry {
        Some(retry) => (enrollment.position, Some(retry)),
        None => {
            let planned = plan(program, &enrollment.id, enrollment.first_reference_date, change.position, zone, now);
            for (cycle, action, due) in &planned.skipped {
                let reason = format!("overdue: it was due at {due}");
                writes.push(outcome_write(
                    clinic,
                    &enrollment.id,
                    program,
                    *cycle,
                    *action,
                    ActionResult::Skipped { reason },
                    now,
                )?);
            }
            (planned.position, planned.next)
        }
    };
    let moved = Enrollment {
        position,
        next: next.clone(),
        in_flight: if change.clear_in_flight { None } else { enrollment.in_flight },
        updated_at: now,
        ..enrollment.clone()
    };
    if let Some(next) = &next
        && enrollment.next.as_ref() != Some(next)
    {
        state.scheduler.schedule_once(next.due_at, &job_for(clinic, &enrollment.id, next)).await?;
    }
    let item = Item::from_record(keys::enrollment(clinic, &enrollment.id), &moved)?
        .with_gsi1(keys::patient_enrollment(clinic, &patient_index(&moved), moved.created_at, &moved.id))
        .with_version(version + 1);
    writes.insert(0, Write::put(item, Condition::VersionIs(version)));
    match state.store.transact(writes).await {
        Ok(()) => {}
        // The enrollment changed, or an outcome was already recorded (another delivery finished
        // this step first).
        Err(StoreError::ConditionFailed { .. }) => return Err(MoveError::Conflict),
        Err(error) => return Err(error.into()),
    }
    if let Some(previous) = &enrollment.next
        && next.as_ref().map(|next| &next.schedule_name) != Some(&previous.schedule_name)
        && !change.clear_in_flight
        && let Err(error) = state.scheduler.cancel(&previous.schedule_name).await
    {
        // Harmless: a stale schedule that fires finds the enrollment moved on and does nothing.
        tracing::warn!(%error, "could not cancel the previous schedule");
    }
    Ok(moved)
}
