//! Scheduled jobs: the JSON payload a one-time schedule delivers to the runner.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::booking_type::{BookingTypeChange, BookingTypeId};
use super::clinic::ClinicId;
use super::validation::FieldError;

/// Latest a change may be scheduled ahead.
pub const MAX_SCHEDULE_AHEAD_DAYS: i64 = 366;

/// What the scheduler delivers to the runner. The job's own record in the store decides whether
/// it still has to run, so a payload delivered twice or late does nothing twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledJob {
    /// Unique id; also the schedule's name.
    pub job_id: String,
    /// The clinic it belongs to.
    pub clinic_id: ClinicId,
    /// What to do.
    pub task: JobTask,
}

/// A task the runner knows how to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JobTask {
    /// Apply a validated change to a booking type (e.g. take it online on Monday at 08:00).
    ApplyBookingTypeChange {
        /// The booking type.
        booking_type_id: BookingTypeId,
        /// The change.
        change: BookingTypeChange,
    },
    /// Carry out one action of a Patient Connect enrollment. The enrollment's own record decides
    /// whether it is still due, so a repeat, late or superseded delivery does nothing.
    RunConnectAction {
        /// The enrollment.
        enrollment_id: String,
        /// Cycle.
        cycle: u16,
        /// Action.
        action: u16,
        /// Attempt.
        attempt: u16,
    },
    /// Send one queued message about an appointment (confirmation, change, cancellation,
    /// reminder). The message's own record decides whether it is still to send.
    SendAppointmentMessage {
        /// The appointment.
        appointment_id: String,
        /// The message.
        message_id: String,
    },
    /// Find queued messages whose schedule was lost and schedule them again (every clinic),
    /// and scan every waitlist.
    SweepMessages,
    /// Offer freed times to the clinic's waitlist (after a cancellation or a move).
    ScanWaitlist,
    /// Send one waitlist offer's message. The offer's own record decides whether it still goes.
    SendWaitlistOffer {
        /// The offer.
        offer_id: String,
    },
    /// Close a waitlist offer whose time ran out, and hand the time to the next entry.
    ExpireWaitlistOffer {
        /// The offer.
        offer_id: String,
    },
}

/// Where a job stands; the runner moves it from pending to done exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for its time.
    Pending,
    /// Carried out.
    Done,
    /// Could not be carried out (the target was gone); recorded, not retried.
    Abandoned,
}

/// A job's record in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// The payload.
    pub job: ScheduledJob,
    /// When it is due.
    pub due_at: Timestamp,
    /// Where it stands.
    pub status: JobStatus,
}

/// Checks a requested run time: strictly in the future and at most a year ahead.
pub fn check_run_time(field: &str, at: Timestamp, now: Timestamp) -> Result<Timestamp, FieldError> {
    let latest = now.saturating_add(jiff::SignedDuration::from_hours(24 * MAX_SCHEDULE_AHEAD_DAYS)).unwrap_or(now);
    if at <= now {
        return Err(FieldError::new(field, "must be in the future"));
    }
    if at > latest {
        return Err(FieldError::new(field, format!("must be at most {MAX_SCHEDULE_AHEAD_DAYS} days ahead")));
    }
    Ok(at)
}

impl ScheduledJob {
    /// The job that offers a clinic's freed times to its waitlist now (a repeat within the same
    /// second is the same job).
    pub fn waitlist_scan(clinic: &crate::domain::clinic::ClinicId, now: jiff::Timestamp) -> Self {
        Self {
            job_id: format!("waitlist-scan-{}-{}", clinic, now.as_second()),
            clinic_id: clinic.clone(),
            task: JobTask::ScanWaitlist,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_times_must_be_ahead_but_not_too_far() {
        let now: Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
        assert!(check_run_time("effective_at", now, now).is_err());
        assert!(check_run_time("effective_at", "2026-11-22T10:00:01Z".parse().unwrap(), now).is_ok());
        assert!(check_run_time("effective_at", "2028-01-01T00:00:00Z".parse().unwrap(), now).is_err());
    }

    #[test]
    fn the_payload_is_stable_json() {
        let job = ScheduledJob {
            job_id: "job-1".into(),
            clinic_id: ClinicId::parse("demo").unwrap(),
            task: JobTask::ApplyBookingTypeChange {
                booking_type_id: BookingTypeId::generated("bt-1".into()),
                change: BookingTypeChange { enabled_online: Some(true), ..Default::default() },
            },
        };
        let json = serde_json::to_value(&job).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"job_id": "job-1", "clinic_id": "demo", "task": {"type": "apply_booking_type_change", "booking_type_id": "bt-1", "change": {"enabled_online": true}}})
        );
        assert_eq!(serde_json::from_value::<ScheduledJob>(json).unwrap(), job);
    }
}
