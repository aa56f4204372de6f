//! A patient's enrollment in a Patient Connect program: where it stands, the one schedule that
//! will run its next action, and the record of each action's outcome. Pure: the runner passes
//! the time in and stores what these functions decide.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::appointment::AppointmentId;
use super::patient::PatientReference;
use super::patient_connect::{ActionKind, ConnectProgram, Position, next_step};

/// An action due more than this long ago when it becomes next (a patient enrolled late, a pause
/// advanced late) is skipped: a reminder "in 14 days" sent 2 days before would mislead.
pub const OVERDUE_GRACE: SignedDuration = SignedDuration::from_hours(24);
/// Deliveries of one action that may fail transiently before the failure counts as permanent.
pub const MAX_SEND_ATTEMPTS: u16 = 5;
/// How long a claimed action may stay in flight before a delivery treats the sender as lost.
pub const IN_FLIGHT_LEASE: SignedDuration = SignedDuration::from_mins(2);

/// An action claimed by a runner that has not yet recorded its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InFlight {
    /// Cycle.
    pub cycle: u16,
    /// Action.
    pub action: u16,
    /// Which attempt.
    pub attempt: u16,
    /// When the runner claimed it.
    #[schema(value_type = String)]
    pub claimed_at: Timestamp,
}

/// The enrollment's one live schedule: what runs next and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NextRun {
    /// The schedule's name (EventBridge Scheduler name, or the embedded scheduler's).
    pub schedule_name: String,
    /// Cycle.
    pub cycle: u16,
    /// Action.
    pub action: u16,
    /// Attempt (0 first; retries after transient failures count up).
    pub attempt: u16,
    /// When it fires.
    #[schema(value_type = String)]
    pub due_at: Timestamp,
}

impl NextRun {
    /// The schedule for `cycle`/`action`/`attempt` of enrollment `id`, at `due_at`.
    pub fn new(enrollment_id: &str, cycle: u16, action: u16, attempt: u16, due_at: Timestamp) -> Self {
        Self { schedule_name: format!("pc-{enrollment_id}-{cycle}-{action}-{attempt}"), cycle, action, attempt, due_at }
    }
}

/// One enrollment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Enrollment {
    /// Id (32 hex characters).
    pub id: String,
    /// The program.
    pub program_id: String,
    /// The patient's record, when the patient has one.
    #[schema(value_type = Option<String>)]
    pub patient_reference: Option<PatientReference>,
    /// The booking that entered the patient (Booking programs): its date, time and provider
    /// fill the merge fields, and its patient details are the contact.
    #[schema(value_type = Option<String>)]
    pub appointment_id: Option<AppointmentId>,
    /// The first cycle's reference date.
    #[schema(value_type = String)]
    pub first_reference_date: Date,
    /// Where it stands.
    pub position: Position,
    /// The action being carried out right now, if any.
    pub in_flight: Option<InFlight>,
    /// The one live schedule, if anything is due.
    pub next: Option<NextRun>,
    /// Bookings that completed a cycle (each completes at most one).
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub completed_by: Vec<AppointmentId>,
    /// Who enrolled the patient (a staff subject, or `booking`).
    pub enrolled_by: String,
    /// When.
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    /// Last change.
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
}

/// What became of one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ActionResult {
    /// Sent: the provider's message id.
    Sent {
        /// SNS or SES message id (the outbox id locally).
        message_id: String,
    },
    /// A letter was made: saved, or put on the distribution list.
    Letter {
        /// The letter's id.
        letter_id: String,
    },
    /// The action failed for good.
    Failed {
        /// Why.
        reason: String,
    },
    /// The action did not run.
    Skipped {
        /// Why.
        reason: String,
    },
    /// A pause action: waiting for staff.
    Paused,
    /// The cycle was completed by a booking before this action ran.
    CompletedByBooking {
        /// The booking.
        #[schema(value_type = String)]
        appointment_id: AppointmentId,
    },
    /// The sender was lost mid-send: whether the message went is unknown, so it is not sent
    /// again and the patient is flagged for staff to check.
    Unknown {
        /// What is known.
        reason: String,
    },
}

/// One action's outcome, kept once per cycle and action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActionOutcome {
    /// Cycle.
    pub cycle: u16,
    /// Action.
    pub action: u16,
    /// `sms`, `email`, `letter_to_patient`, `letter_to_gp`, `pause`.
    pub kind: String,
    /// Result.
    pub result: ActionResult,
    /// When it was recorded.
    #[schema(value_type = String)]
    pub at: Timestamp,
}

/// Where an enrollment goes from `position`: the schedule of its next action, and the sending
/// actions skipped on the way because they were overdue by more than [`OVERDUE_GRACE`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The position after skipping.
    pub position: Position,
    /// The next schedule (none when paused or finished).
    pub next: Option<NextRun>,
    /// Skipped actions with their due times.
    pub skipped: Vec<(u16, u16, Timestamp)>,
}

/// Plans the schedule for an enrollment at `position`. A due time in the past but within the
/// grace runs now; a pause action is never skipped (it sends nothing).
pub fn plan(
    program: &ConnectProgram,
    enrollment_id: &str,
    first_reference: Date,
    position: Position,
    zone: &TimeZone,
    now: Timestamp,
) -> Plan {
    let mut position = position;
    let mut skipped = Vec::new();
    let limit = usize::from(program.cycles) * program.actions.len() + 1;
    for _ in 0..limit {
        let Position::Due { cycle, action } = position else { break };
        let due = program
            .reference_date(first_reference, cycle)
            .and_then(|reference| program.due_at(usize::from(action), reference, zone));
        let Some(due) = due else {
            position = Position::Finished;
            break;
        };
        let is_pause = matches!(program.actions[usize::from(action)].kind, ActionKind::Pause);
        let overdue = now.duration_since(due) > OVERDUE_GRACE;
        if overdue && !is_pause {
            skipped.push((cycle, action, due));
            position = next_step(program, cycle, action);
            continue;
        }
        let at = if due < now { now } else { due };
        return Plan { position, next: Some(NextRun::new(enrollment_id, cycle, action, 0, at)), skipped };
    }
    Plan { position, next: None, skipped }
}

/// When a transient failure of attempt `attempt` is retried: one minute, doubling.
pub fn retry_at(attempt: u16, now: Timestamp) -> Timestamp {
    let delay = SignedDuration::from_secs(60 * (1_i64 << attempt.min(10)));
    now.saturating_add(delay).unwrap_or(now)
}

/// What a delivery of the schedule for `cycle`/`action`/`attempt` should do with `enrollment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Claim the action and carry it out.
    Run,
    /// The enrollment has moved on, or this delivery is a repeat: do nothing.
    Stale,
    /// Another delivery is carrying the action out right now: try again later.
    Busy,
    /// A runner claimed the action and was lost before recording it: record it as unknown.
    Lost,
}

/// Decides a delivery, from the enrollment as stored and the time.
pub fn delivery(enrollment: &Enrollment, cycle: u16, action: u16, attempt: u16, now: Timestamp) -> Delivery {
    if let Some(flight) = enrollment.in_flight {
        if (flight.cycle, flight.action, flight.attempt) != (cycle, action, attempt) {
            return if enrollment.position == (Position::Due { cycle, action }) {
                Delivery::Busy
            } else {
                Delivery::Stale
            };
        }
        return if now.duration_since(flight.claimed_at) > IN_FLIGHT_LEASE { Delivery::Lost } else { Delivery::Busy };
    }
    let expected = enrollment.next.as_ref().map(|next| (next.cycle, next.action, next.attempt));
    if enrollment.position == (Position::Due { cycle, action }) && expected == Some((cycle, action, attempt)) {
        Delivery::Run
    } else {
        Delivery::Stale
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::patient_connect::{
        Action, CompletingBookings, Direction, Period, PeriodUnit, PrintOption, ProgramType, Timing,
    };
    use proptest::prelude::*;

    fn action(kind: ActionKind, direction: Direction, days: u16) -> Action {
        Action {
            kind,
            timing: Timing {
                direction,
                offset: Period { amount: days, unit: PeriodUnit::Days },
                time_of_day: "10:00".parse().unwrap(),
            },
            pause_on_error: false,
        }
    }

    fn recall() -> ConnectProgram {
        ConnectProgram {
            program_type: ProgramType::Recall,
            name: "Recall".into(),
            cycles: 2,
            frequency: Some(Period { amount: 6, unit: PeriodUnit::Months }),
            actions: vec![
                action(ActionKind::Sms { template_id: "s".into(), save_reply_content: false }, Direction::Before, 14),
                action(ActionKind::Email { template_id: "e".into() }, Direction::Before, 7),
                action(
                    ActionKind::LetterToPatient { template_id: "l".into(), print: PrintOption::Mail },
                    Direction::Before,
                    3,
                ),
                action(ActionKind::Pause, Direction::After, 1),
            ],
            completing_bookings: CompletingBookings::Any,
            entry_booking_type_ids: Vec::new(),
            enabled: true,
        }
    }

    fn enrollment(position: Position, next: Option<NextRun>, in_flight: Option<InFlight>) -> Enrollment {
        let at: Timestamp = "2027-01-01T00:00:00Z".parse().unwrap();
        Enrollment {
            id: "e1".into(),
            program_id: "p1".into(),
            patient_reference: None,
            appointment_id: None,
            first_reference_date: "2027-03-01".parse().unwrap(),
            position,
            in_flight,
            next,
            completed_by: Vec::new(),
            enrolled_by: "staff".into(),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_timely_enrollment_schedules_the_first_action_at_its_local_time() {
        let london = TimeZone::get("Europe/London").unwrap();
        let now = "2027-01-01T00:00:00Z".parse().unwrap();
        let plan =
            plan(&recall(), "e1", "2027-04-10".parse().unwrap(), Position::Due { cycle: 0, action: 0 }, &london, now);
        assert!(plan.skipped.is_empty());
        let next = plan.next.unwrap();
        assert_eq!(next.due_at, "2027-03-27T10:00:00Z".parse().unwrap());
        assert_eq!(next.schedule_name, "pc-e1-0-0-0");
    }

    #[test]
    fn late_enrollments_skip_stale_reminders_but_run_recent_ones_now() {
        let utc = TimeZone::UTC;
        // Reference date 5 April: the SMS (22 March) is stale, the email (29 March 10:00) is
        // 12 hours late and runs now.
        let now: Timestamp = "2027-03-29T22:00:00Z".parse().unwrap();
        let plan =
            plan(&recall(), "e1", "2027-04-05".parse().unwrap(), Position::Due { cycle: 0, action: 0 }, &utc, now);
        assert_eq!(plan.skipped, vec![(0, 0, "2027-03-22T10:00:00Z".parse().unwrap())]);
        assert_eq!(plan.position, Position::Due { cycle: 0, action: 1 });
        assert_eq!(plan.next.unwrap().due_at, now);
        // Far too late for everything but the pause, which still stops the program.
        let late: Timestamp = "2027-05-01T00:00:00Z".parse().unwrap();
        let plan = super::plan(
            &recall(),
            "e1",
            "2027-04-05".parse().unwrap(),
            Position::Due { cycle: 0, action: 0 },
            &utc,
            late,
        );
        assert_eq!(plan.skipped.len(), 3);
        assert_eq!(plan.position, Position::Due { cycle: 0, action: 3 });
    }

    #[test]
    fn deliveries_run_once_and_only_for_the_live_schedule() {
        let now: Timestamp = "2027-03-01T10:00:00Z".parse().unwrap();
        let due = Position::Due { cycle: 0, action: 1 };
        let next = NextRun::new("e1", 0, 1, 0, now);
        assert_eq!(delivery(&enrollment(due, Some(next.clone()), None), 0, 1, 0, now), Delivery::Run);
        // A payload for an earlier action, or for an earlier attempt, is stale.
        assert_eq!(delivery(&enrollment(due, Some(next.clone()), None), 0, 0, 0, now), Delivery::Stale);
        let retry = NextRun::new("e1", 0, 1, 1, now);
        assert_eq!(delivery(&enrollment(due, Some(retry), None), 0, 1, 0, now), Delivery::Stale);
        // While another delivery holds the action, wait; after the lease, it was lost.
        let flight = InFlight { cycle: 0, action: 1, attempt: 0, claimed_at: now };
        assert_eq!(delivery(&enrollment(due, Some(next.clone()), Some(flight)), 0, 1, 0, now), Delivery::Busy);
        let later = now.saturating_add(SignedDuration::from_mins(3)).unwrap();
        assert_eq!(delivery(&enrollment(due, Some(next), Some(flight)), 0, 1, 0, later), Delivery::Lost);
        // Once the enrollment has moved on, the payload does nothing.
        let moved = Position::Due { cycle: 1, action: 0 };
        assert_eq!(
            delivery(&enrollment(moved, Some(NextRun::new("e1", 1, 0, 0, now)), None), 0, 1, 0, now),
            Delivery::Stale
        );
        assert_eq!(delivery(&enrollment(Position::Finished, None, None), 0, 1, 0, now), Delivery::Stale);
    }

    proptest! {
        #[test]
        fn a_plan_never_schedules_in_the_past_nor_skips_a_pause(offset_days in 0i64..400, zone in prop::sample::select(vec!["Europe/London", "Pacific/Auckland", "America/Toronto"])) {
            let zone = TimeZone::get(zone).unwrap();
            let now = Timestamp::from_second(1_798_761_600 + offset_days * 86_400).unwrap();
            let plan = plan(&recall(), "e1", "2027-04-05".parse().unwrap(), Position::Due { cycle: 0, action: 0 }, &zone, now);
            if let Some(next) = &plan.next {
                prop_assert!(next.due_at >= now);
                prop_assert_eq!(plan.position, Position::Due { cycle: next.cycle, action: next.action });
            }
            prop_assert!(plan.skipped.iter().all(|(_, action, _)| *action != 3));
            prop_assert!(plan.skipped.iter().all(|(_, _, due)| now.duration_since(*due) > OVERDUE_GRACE));
        }

        #[test]
        fn retries_back_off_and_stay_ahead(attempt in 0u16..20) {
            let now: Timestamp = "2027-03-01T10:00:00Z".parse().unwrap();
            prop_assert!(retry_at(attempt, now) > now);
            prop_assert!(retry_at(attempt + 1, now) >= retry_at(attempt, now));
        }
    }
}
