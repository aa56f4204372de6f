//! Patient Connect (seed 004): programs of SMS, email, letter and pause actions, timed from a
//! reference date, over one or more cycles, and the enrollment of a patient in one. Pure: the
//! program says when each action is due; the enrollment says, for any event (an action done,
//! failed or delivered again, a qualifying booking, staff advancing a pause), what happens next.
//! Storage, the scheduler and the messages ports are the runner's business.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde::{Deserialize, Serialize};

use super::booking_type::BookingTypeId;
use super::validation::{Checker, FieldError, required_text};

/// A program's type: chosen at creation, never changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProgramType {
    /// Reference date: the date added to the program. Several cycles.
    General,
    /// Reference date: the proposed future booking date. Several cycles.
    Recall,
    /// Reference date: the program's start date. Several cycles.
    Program,
    /// Reference date: the booking date. One cycle.
    Booking,
    /// Reference date: the date the referral was added. One cycle.
    Referral,
}

impl ProgramType {
    /// Whether the type runs more than one cycle.
    pub fn multi_cycle(self) -> bool {
        matches!(self, Self::General | Self::Recall | Self::Program)
    }
}

/// A unit of a frequency or an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PeriodUnit {
    /// Days.
    Days,
    /// Weeks.
    Weeks,
    /// Months (calendar months: 31 January plus one month is 28 or 29 February).
    Months,
}

/// An amount of days, weeks or months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// 0 to 365 for an offset, 1 to 365 for a frequency.
    #[schema(minimum = 0, maximum = 365)]
    pub amount: u16,
    /// The unit.
    pub unit: PeriodUnit,
}

impl Period {
    fn span(self) -> Span {
        let amount = i64::from(self.amount);
        match self.unit {
            PeriodUnit::Days => Span::new().days(amount),
            PeriodUnit::Weeks => Span::new().weeks(amount),
            PeriodUnit::Months => Span::new().months(amount),
        }
    }
}

/// Where a letter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrintOption {
    /// On the distribution list, posted by hand.
    Mail,
    /// On the distribution list and sent through the ePost provider.
    Epost,
    /// Saved as a PDF.
    SaveFile,
}

/// What an action does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActionKind {
    /// An SMS from a template.
    Sms {
        /// The SMS template.
        template_id: String,
        /// Keep the patient's replies against the enrollment.
        save_reply_content: bool,
    },
    /// An email from a template.
    Email {
        /// The email template.
        template_id: String,
    },
    /// A letter to the patient.
    LetterToPatient {
        /// The letter template.
        template_id: String,
        /// Where it goes.
        print: PrintOption,
    },
    /// A letter to the patient's GP.
    LetterToGp {
        /// The letter template.
        template_id: String,
        /// Where it goes.
        print: PrintOption,
    },
    /// The program waits here until staff advance it.
    Pause,
}

impl ActionKind {
    /// The kind's name, as in outcomes and views: `sms`, `email`, `letter_to_patient`,
    /// `letter_to_gp`, `pause`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sms { .. } => "sms",
            Self::Email { .. } => "email",
            Self::LetterToPatient { .. } => "letter_to_patient",
            Self::LetterToGp { .. } => "letter_to_gp",
            Self::Pause => "pause",
        }
    }

    /// The template it sends, if it sends one.
    pub fn template_id(&self) -> Option<&str> {
        match self {
            Self::Sms { template_id, .. }
            | Self::Email { template_id }
            | Self::LetterToPatient { template_id, .. }
            | Self::LetterToGp { template_id, .. } => Some(template_id),
            Self::Pause => None,
        }
    }
}

/// Before or after the reference date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Before.
    Before,
    /// After.
    After,
}

/// When an action is due relative to the cycle's reference date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// Before or after.
    pub direction: Direction,
    /// How far.
    pub offset: Period,
    /// At what time of day, clinic time.
    #[schema(value_type = String, pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")]
    pub time_of_day: Time,
}

/// One step of a program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// What it does.
    pub kind: ActionKind,
    /// When.
    pub timing: Timing,
    /// A permanent failure pauses the enrollment (and flags the patient) instead of skipping.
    pub pause_on_error: bool,
}

/// Which bookings complete a cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CompletingBookings {
    /// None: the whole sequence always runs.
    Ignore,
    /// Any booking.
    Any,
    /// Bookings of these types.
    Selected {
        /// The booking types.
        #[schema(value_type = Vec<String>)]
        booking_type_ids: Vec<BookingTypeId>,
    },
}

impl CompletingBookings {
    /// Whether a booking of `booking_type` completes the current cycle.
    pub fn completes(&self, booking_type: &BookingTypeId) -> bool {
        match self {
            Self::Ignore => false,
            Self::Any => true,
            Self::Selected { booking_type_ids } => booking_type_ids.contains(booking_type),
        }
    }
}

/// A program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectProgram {
    /// Its type.
    pub program_type: ProgramType,
    /// Its name (it may appear in messages).
    pub name: String,
    /// How many cycles run per patient (1 for Booking and Referral).
    #[schema(minimum = 1, maximum = 100)]
    pub cycles: u16,
    /// The time between cycles' reference dates (multi-cycle types only).
    pub frequency: Option<Period>,
    /// The actions, in order.
    pub actions: Vec<Action>,
    /// Which bookings complete a cycle.
    pub completing_bookings: CompletingBookings,
    /// Booking programs only: a booking of one of these types enters the patient, with the
    /// booking's date as the reference date.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub entry_booking_type_ids: Vec<BookingTypeId>,
    /// Only enabled programs take patients.
    pub enabled: bool,
}

impl ConnectProgram {
    /// Checks a program as an admin defines it, naming every bad field.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut checker = Checker::default();
        checker.check(required_text("name", &self.name, 120));
        if self.program_type.multi_cycle() {
            if !(1..=100).contains(&self.cycles) {
                checker.check::<()>(Err(FieldError::new("cycles", "must be 1 to 100")));
            }
            match self.frequency {
                Some(frequency) if (1..=365).contains(&frequency.amount) => {}
                Some(_) => {
                    checker.check::<()>(Err(FieldError::new("frequency", "must be 1 to 365 days, weeks or months")));
                }
                // One cycle has no next cycle to time (seed 004: a one-off General program).
                None if self.cycles == 1 => {}
                None => {
                    checker.check::<()>(Err(FieldError::new(
                        "frequency",
                        "is required when a program runs more than one cycle",
                    )));
                }
            }
        } else {
            if self.cycles != 1 {
                checker.check::<()>(Err(FieldError::new("cycles", "must be 1: this program type runs one cycle")));
            }
            if self.frequency.is_some() {
                checker.check::<()>(Err(FieldError::new("frequency", "does not apply to this program type")));
            }
        }
        if !self.entry_booking_type_ids.is_empty() && self.program_type != ProgramType::Booking {
            checker.check::<()>(Err(FieldError::new(
                "entry_booking_type_ids",
                "only a Booking program is entered by bookings",
            )));
        }
        if self.actions.len() > 50 {
            checker.check::<()>(Err(FieldError::new("actions", "may hold at most 50 actions")));
        }
        for (index, action) in self.actions.iter().enumerate() {
            if action.timing.offset.amount > 365 {
                checker.check::<()>(Err(FieldError::new(
                    format!("actions[{index}].timing.offset"),
                    "must be at most 365",
                )));
            }
        }
        if self.enabled && self.actions.is_empty() {
            checker.check::<()>(Err(FieldError::new("enabled", "a program needs at least one action to be enabled")));
        }
        checker.finish()
    }

    /// The reference date of cycle `cycle` (0-based) for an enrollment whose first reference
    /// date is `first`: each cycle adds the frequency to the first (not to the previous one, so
    /// month ends do not drift).
    pub fn reference_date(&self, first: Date, cycle: u16) -> Option<Date> {
        match (cycle, self.frequency) {
            (0, _) => Some(first),
            (_, Some(frequency)) => {
                let span = frequency.span();
                let total = Span::new()
                    .days(span.get_days() as i64 * i64::from(cycle))
                    .weeks(span.get_weeks() as i64 * i64::from(cycle))
                    .months(span.get_months() as i64 * i64::from(cycle));
                first.checked_add(total).ok()
            }
            (_, None) => None,
        }
    }

    /// When action `index` of a cycle with `reference` falls due, in the clinic's zone. A time
    /// of day that does not exist that day (a DST gap) is taken as the first instant after it.
    pub fn due_at(&self, index: usize, reference: Date, zone: &TimeZone) -> Option<Timestamp> {
        let timing = self.actions.get(index)?.timing;
        let offset = timing.offset.span();
        let day = match timing.direction {
            Direction::Before => reference.checked_sub(offset).ok()?,
            Direction::After => reference.checked_add(offset).ok()?,
        };
        Some(zone.to_ambiguous_zoned(day.to_datetime(timing.time_of_day)).later().ok()?.timestamp())
    }
}

/// Where an enrollment is: the next step to run, or why nothing runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Position {
    /// Action `action` of cycle `cycle` runs next.
    Due {
        /// 0-based cycle.
        cycle: u16,
        /// 0-based action.
        action: u16,
    },
    /// Waiting for staff: a Pause action, or a failure with "pause on error".
    Paused {
        /// The cycle.
        cycle: u16,
        /// The action it stopped at.
        action: u16,
        /// Why: a pause action, or an error to follow up.
        flagged: bool,
    },
    /// Every cycle has run (or been completed by bookings).
    Finished,
}

/// What happened to the action that was due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done (sent, put on the distribution list, saved).
    Done,
    /// Failed for good (no mobile, invalid number, rejected).
    Failed,
}

/// The position after the action at `cycle`/`action` ends with `outcome`. A Pause action or a
/// failure with "pause on error" pauses there; otherwise the next action, the next cycle, or the
/// end follows.
pub fn after_action(program: &ConnectProgram, cycle: u16, action: u16, outcome: &Outcome) -> Position {
    let Some(step) = program.actions.get(usize::from(action)) else { return Position::Finished };
    match (&step.kind, outcome) {
        (ActionKind::Pause, _) => Position::Paused { cycle, action, flagged: false },
        (_, Outcome::Failed) if step.pause_on_error => Position::Paused { cycle, action, flagged: true },
        _ => next_step(program, cycle, action),
    }
}

/// The step after `cycle`/`action`, without running anything (staff advancing a pause).
pub fn next_step(program: &ConnectProgram, cycle: u16, action: u16) -> Position {
    if usize::from(action) + 1 < program.actions.len() {
        Position::Due { cycle, action: action + 1 }
    } else {
        next_cycle(program, cycle)
    }
}

/// The first step of the cycle after `cycle`, or the end.
pub fn next_cycle(program: &ConnectProgram, cycle: u16) -> Position {
    if cycle + 1 < program.cycles && !program.actions.is_empty() {
        Position::Due { cycle: cycle + 1, action: 0 }
    } else {
        Position::Finished
    }
}

/// The position after a booking of `booking_type`: a qualifying booking completes the current
/// cycle (its remaining actions do not run); any other booking changes nothing. A Referral
/// program runs only until the patient books: any booking completes it.
pub fn after_booking(program: &ConnectProgram, position: Position, booking_type: &BookingTypeId) -> Position {
    let referral = program.program_type == ProgramType::Referral;
    if !referral && !program.completing_bookings.completes(booking_type) {
        return position;
    }
    match position {
        Position::Due { cycle, .. } | Position::Paused { cycle, .. } => next_cycle(program, cycle),
        Position::Finished => Position::Finished,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn action(kind: ActionKind, direction: Direction, days: u16, pause_on_error: bool) -> Action {
        Action {
            kind,
            timing: Timing {
                direction,
                offset: Period { amount: days, unit: PeriodUnit::Days },
                time_of_day: "09:30".parse().unwrap(),
            },
            pause_on_error,
        }
    }

    fn sms() -> ActionKind {
        ActionKind::Sms { template_id: "t1".into(), save_reply_content: false }
    }

    fn recall(cycles: u16) -> ConnectProgram {
        ConnectProgram {
            program_type: ProgramType::Recall,
            name: "Annual review".into(),
            cycles,
            frequency: Some(Period { amount: 1, unit: PeriodUnit::Months }),
            actions: vec![
                action(sms(), Direction::Before, 14, true),
                action(ActionKind::Email { template_id: "e1".into() }, Direction::Before, 7, false),
                action(
                    ActionKind::LetterToPatient { template_id: "l1".into(), print: PrintOption::Mail },
                    Direction::Before,
                    3,
                    false,
                ),
                action(ActionKind::Pause, Direction::After, 1, false),
            ],
            completing_bookings: CompletingBookings::Any,
            entry_booking_type_ids: Vec::new(),
            enabled: true,
        }
    }

    #[test]
    fn a_program_names_what_its_type_forbids_or_needs() {
        let mut booking = recall(3);
        booking.program_type = ProgramType::Booking;
        let fields: Vec<String> = booking.check().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["cycles", "frequency"]);
        let mut no_frequency = recall(2);
        no_frequency.frequency = None;
        assert_eq!(no_frequency.check().unwrap_err()[0].field, "frequency");
        let mut one_off = recall(1);
        one_off.program_type = ProgramType::General;
        one_off.frequency = None;
        assert_eq!(one_off.check(), Ok(()), "a one-cycle General program needs no frequency");
        let mut empty = recall(1);
        empty.actions.clear();
        assert_eq!(empty.check().unwrap_err()[0].field, "enabled");
        empty.enabled = false;
        assert!(empty.check().is_ok(), "a disabled program may be built up action by action");
        assert!(recall(3).check().is_ok());
    }

    #[test]
    fn actions_fall_due_at_their_local_time_before_or_after_the_reference_date() {
        let london = TimeZone::get("Europe/London").unwrap();
        let program = recall(3);
        let reference: Date = "2027-04-10".parse().unwrap();
        // 14 days before (27 March 2027, GMT) and 7 days before (3 April, BST) at 09:30 local.
        assert_eq!(program.due_at(0, reference, &london), Some("2027-03-27T09:30:00Z".parse().unwrap()));
        assert_eq!(program.due_at(1, reference, &london), Some("2027-04-03T08:30:00Z".parse().unwrap()));
        assert_eq!(program.due_at(3, reference, &london), Some("2027-04-11T08:30:00Z".parse().unwrap()));
        assert_eq!(program.due_at(4, reference, &london), None);
        // Cycles add the frequency to the first reference date: month ends do not drift.
        let first: Date = "2027-01-31".parse().unwrap();
        let dates: Vec<String> = (0..4).map(|c| program.reference_date(first, c).unwrap().to_string()).collect();
        assert_eq!(dates, ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"]);
    }

    #[test]
    fn the_state_machine_pauses_skips_and_completes_as_the_rules_say() {
        let program = recall(2);
        // A failed SMS with "pause on error" pauses and flags; a failed email is skipped.
        assert_eq!(
            after_action(&program, 0, 0, &Outcome::Failed),
            Position::Paused { cycle: 0, action: 0, flagged: true }
        );
        assert_eq!(after_action(&program, 0, 1, &Outcome::Failed), Position::Due { cycle: 0, action: 2 });
        assert_eq!(after_action(&program, 0, 0, &Outcome::Done), Position::Due { cycle: 0, action: 1 });
        // A pause action waits for staff, who advance it into the next cycle.
        assert_eq!(
            after_action(&program, 0, 3, &Outcome::Done),
            Position::Paused { cycle: 0, action: 3, flagged: false }
        );
        assert_eq!(next_step(&program, 0, 3), Position::Due { cycle: 1, action: 0 });
        assert_eq!(next_step(&program, 1, 3), Position::Finished, "two cycles only");
        // A qualifying booking completes the current cycle; with Ignore it changes nothing.
        let bt = BookingTypeId::random();
        assert_eq!(
            after_booking(&program, Position::Due { cycle: 0, action: 2 }, &bt),
            Position::Due { cycle: 1, action: 0 }
        );
        assert_eq!(after_booking(&program, Position::Due { cycle: 1, action: 1 }, &bt), Position::Finished);
        let mut ignoring = program.clone();
        ignoring.completing_bookings = CompletingBookings::Ignore;
        assert_eq!(
            after_booking(&ignoring, Position::Due { cycle: 0, action: 2 }, &bt),
            Position::Due { cycle: 0, action: 2 }
        );
        let selected = ConnectProgram {
            completing_bookings: CompletingBookings::Selected { booking_type_ids: vec![bt.clone()] },
            ..program
        };
        assert_eq!(
            after_booking(&selected, Position::Due { cycle: 0, action: 0 }, &BookingTypeId::random()),
            Position::Due { cycle: 0, action: 0 }
        );
        assert_eq!(
            after_booking(&selected, Position::Due { cycle: 0, action: 0 }, &bt),
            Position::Due { cycle: 1, action: 0 }
        );
    }

    #[test]
    fn a_referral_program_ends_at_any_booking() {
        let referral = ConnectProgram {
            program_type: ProgramType::Referral,
            cycles: 1,
            frequency: None,
            completing_bookings: CompletingBookings::Ignore,
            ..recall(1)
        };
        let position = Position::Due { cycle: 0, action: 1 };
        assert_eq!(after_booking(&referral, position, &BookingTypeId::random()), Position::Finished);
    }

    proptest! {
        #[test]
        fn running_every_action_visits_each_once_in_order_and_ends(cycles in 1u16..6, actions in 1usize..6, fail_mask in any::<u32>()) {
            let mut program = recall(cycles);
            program.actions = (0..actions)
                .map(|i| action(sms(), Direction::After, i as u16, false))
                .collect();
            let mut position = Position::Due { cycle: 0, action: 0 };
            let mut visited = Vec::new();
            let mut steps = 0;
            while let Position::Due { cycle, action } = position {
                visited.push((cycle, action));
                let outcome = if fail_mask & (1 << (steps % 32)) != 0 { Outcome::Failed } else { Outcome::Done };
                position = after_action(&program, cycle, action, &outcome);
                steps += 1;
                prop_assert!(steps <= 1000);
            }
            prop_assert_eq!(position, Position::Finished);
            let expected: Vec<(u16, u16)> = (0..cycles).flat_map(|c| (0..actions as u16).map(move |a| (c, a))).collect();
            prop_assert_eq!(visited, expected);
        }

        #[test]
        fn due_times_are_ordered_like_their_offsets(days in proptest::collection::vec(0u16..60, 2..6), month in 1i8..13) {
            let zone = TimeZone::get("Pacific/Auckland").unwrap();
            let mut program = recall(1);
            program.actions = days.iter().map(|d| action(sms(), Direction::After, *d, false)).collect();
            let reference = Date::new(2027, month, 15).unwrap();
            for pair in 0..days.len() - 1 {
                let (a, b) = (program.due_at(pair, reference, &zone).unwrap(), program.due_at(pair + 1, reference, &zone).unwrap());
                prop_assert_eq!(a.cmp(&b), days[pair].cmp(&days[pair + 1]));
            }
        }
    }
}
