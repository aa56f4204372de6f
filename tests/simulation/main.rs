//! Patient Connect simulation: 10,000 enrollments across the five program types run by the
//! real runner over the embedded store, with an injected clock. Every scheduled payload is
//! delivered once, a sampled fifth twice (half at the same moment, half hours later, after the
//! enrollment moved on); SNS and SES fail for some patients (for good, for a while, once);
//! some patients book, which completes their cycle. An independent model of the rules says what
//! must have happened; the test compares it with the messages sent and the outcomes recorded.
//! A test binary of its own: it keeps both cores busy for minutes and would starve the timing
//! of the API tests. `CONNECT_SIMULATION_ENROLLMENTS` runs a smaller one while developing.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use clinic_shared::app::{AppState, Settings};
use clinic_shared::clock::{Clock, ManualClock};
use clinic_shared::domain::appointment::{Appointment, AppointmentId, AppointmentStatus, Channel};
use clinic_shared::domain::booking_type::BookingTypeId;
use clinic_shared::domain::clinic::ClinicId;
use clinic_shared::domain::enrollment::{ActionOutcome, ActionResult, Enrollment};
use clinic_shared::domain::events::{DomainEvent, Fact};
use clinic_shared::domain::jobs::{JobTask, ScheduledJob};
use clinic_shared::domain::location::LocationId;
use clinic_shared::domain::message_template::{MessageTemplate, MessageTemplateInput, TemplateKind};
use clinic_shared::domain::patient::{PatientDetails, PatientInput, PatientRecord, PatientReference};
use clinic_shared::domain::patient_connect::{
    Action, ActionKind, CompletingBookings, ConnectProgram, Direction, Period, PeriodUnit, Position, PrintOption,
    ProgramType, Timing,
};
use clinic_shared::domain::provider::ProviderId;
use clinic_shared::features::patient_connect::bookings::apply_booking;
use clinic_shared::features::patient_connect::enrollments::{Entry, advance_paused, new_enrollment};
use clinic_shared::features::patient_connect::{Scope, StoredProgram, load_enrollment};
use clinic_shared::features::runner::run_job;
use clinic_shared::files::FilesError;
use clinic_shared::files::letters::LetterFiles;
use clinic_shared::messages::{Email, Messages, SendError, Sent, Sms};
use clinic_shared::scheduler::JobError;
use clinic_shared::store::embedded::EmbeddedStore;
use clinic_shared::store::{Condition, Item, Query, Store, Write, keys, query_all};
use clinic_tests::sim::SimScheduler;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// Patients whose SMS the provider refuses (invalid number).
fn sms_refused(n: usize) -> bool {
    n % 20 == 3
}
/// Patients whose email is refused (suppressed address).
fn email_refused(n: usize) -> bool {
    n % 20 == 7
}
/// Patients for whom both providers are down for longer than the runner retries.
fn always_unavailable(n: usize) -> bool {
    n % 50 == 9
}
/// Patients whose first attempt of each message is throttled.
fn throttled_once(n: usize) -> bool {
    n % 10 == 5
}
/// Patients who book during the simulation (chosen among those no failure touches).
fn books(n: usize) -> bool {
    n.is_multiple_of(7) && !sms_refused(n) && !email_refused(n) && !always_unavailable(n)
}

/// The number in a message body (`a{action} P{n} ...`).
fn patient_of(body: &str) -> usize {
    body.split_whitespace().nth(1).and_then(|token| token.strip_prefix('P')).and_then(|n| n.parse().ok()).unwrap()
}

/// SNS and SES as the simulation sees them: failures by patient, every success logged.
#[derive(Default)]
struct SimMessages {
    sent: Mutex<Vec<String>>,
    throttled: Mutex<HashSet<String>>,
}

impl SimMessages {
    fn outcome(&self, channel: &str, body: &str, refused: bool) -> Result<Sent, SendError> {
        let n = patient_of(body);
        let body = format!("{channel} {body}");
        let body = body.as_str();
        if always_unavailable(n) {
            return Err(SendError::Unavailable("provider down".into()));
        }
        if refused {
            return Err(SendError::InvalidRecipient("refused".into()));
        }
        if throttled_once(n) && self.throttled.lock().unwrap().insert(body.to_owned()) {
            return Err(SendError::Throttled);
        }
        self.sent.lock().unwrap().push(body.to_owned());
        Ok(Sent { message_id: uuid::Uuid::new_v4().to_string() })
    }
}

#[async_trait]
impl Messages for SimMessages {
    async fn send_sms(&self, sms: &Sms) -> Result<Sent, SendError> {
        self.outcome("sms", &sms.body, sms_refused(patient_of(&sms.body)))
    }

    async fn send_email(&self, email: &Email) -> Result<Sent, SendError> {
        self.outcome("email", &email.text, email_refused(patient_of(&email.text)))
    }

    fn sender(&self) -> &str {
        "bookings@example.com"
    }
}

#[derive(Default)]
struct MemoryLetters(Mutex<HashMap<String, usize>>);

#[async_trait]
impl LetterFiles for MemoryLetters {
    async fn save(&self, key: &str, pdf: Vec<u8>) -> Result<(), FilesError> {
        self.0.lock().unwrap().insert(key.to_owned(), pdf.len());
        Ok(())
    }

    async fn read(&self, _key: &str) -> Result<Option<Vec<u8>>, FilesError> {
        Ok(None)
    }
}

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

fn sms(index: usize) -> ActionKind {
    ActionKind::Sms { template_id: format!("t-sms-{index}"), save_reply_content: false }
}

fn email(index: usize) -> ActionKind {
    ActionKind::Email { template_id: format!("t-email-{index}") }
}

/// The five programs: (id, program).
fn programs(recall_type: &BookingTypeId, booking_type: &BookingTypeId) -> Vec<(String, ConnectProgram)> {
    use Direction::{After, Before};
    let program = |program_type, cycles, frequency: Option<Period>, actions, completing_bookings| ConnectProgram {
        program_type,
        name: format!("{program_type:?}"),
        cycles,
        frequency,
        actions,
        completing_bookings,
        entry_booking_type_ids: Vec::new(),
        enabled: true,
    };
    let letter = ActionKind::LetterToPatient { template_id: "t-letter-2".into(), print: PrintOption::SaveFile };
    let mut booking = program(
        ProgramType::Booking,
        1,
        None,
        vec![action(sms(0), Before, 10, false), action(email(1), Before, 2, false), action(sms(2), After, 1, false)],
        CompletingBookings::Ignore,
    );
    booking.entry_booking_type_ids = vec![booking_type.clone()];
    vec![
        (
            "general".into(),
            program(
                ProgramType::General,
                3,
                Some(Period { amount: 1, unit: PeriodUnit::Months }),
                vec![
                    action(sms(0), After, 0, true),
                    action(email(1), After, 3, false),
                    action(letter, After, 6, false),
                    action(ActionKind::Pause, After, 9, false),
                ],
                CompletingBookings::Any,
            ),
        ),
        (
            "recall".into(),
            program(
                ProgramType::Recall,
                2,
                Some(Period { amount: 6, unit: PeriodUnit::Months }),
                vec![
                    action(sms(0), Before, 14, true),
                    action(email(1), Before, 7, true),
                    action(sms(2), Before, 3, false),
                ],
                CompletingBookings::Selected { booking_type_ids: vec![recall_type.clone()] },
            ),
        ),
        (
            "program".into(),
            program(
                ProgramType::Program,
                3,
                Some(Period { amount: 2, unit: PeriodUnit::Weeks }),
                vec![
                    action(email(0), After, 0, false),
                    action(sms(1), After, 4, false),
                    action(ActionKind::Pause, After, 8, false),
                ],
                CompletingBookings::Ignore,
            ),
        ),
        ("booking".into(), booking),
        (
            "referral".into(),
            program(
                ProgramType::Referral,
                1,
                None,
                vec![
                    action(email(0), After, 0, false),
                    action(sms(1), After, 5, true),
                    action(sms(2), After, 10, false),
                ],
                CompletingBookings::Any,
            ),
        ),
    ]
}

/// What the rules say happens to action `cycle`/`action` of patient `n`'s enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Sent,
    Failed,
    Paused,
    FlaggedPause,
    Letter,
    CompletedByBooking,
}

/// The independent model: each cycle's actions in order; a booking before an action's time
/// completes the cycle there; a failure pauses (and flags) or is skipped as the action says.
fn model(program: &ConnectProgram, n: usize, booked_at: Option<(u16, u16)>) -> BTreeMap<(u16, u16), Expect> {
    let mut expected = BTreeMap::new();
    for cycle in 0..program.cycles {
        for (index, step) in program.actions.iter().enumerate() {
            let at = (cycle, index as u16);
            if booked_at == Some(at) {
                expected.insert(at, Expect::CompletedByBooking);
                break;
            }
            let fails = match &step.kind {
                ActionKind::Sms { .. } => sms_refused(n) || always_unavailable(n),
                ActionKind::Email { .. } => email_refused(n) || always_unavailable(n),
                _ => false,
            };
            let outcome = match (&step.kind, fails, step.pause_on_error) {
                (ActionKind::Pause, _, _) => Expect::Paused,
                (ActionKind::LetterToPatient { .. }, _, _) => Expect::Letter,
                (_, true, true) => Expect::FlaggedPause,
                (_, true, false) => Expect::Failed,
                (_, false, _) => Expect::Sent,
            };
            let stop = outcome == Expect::FlaggedPause;
            expected.insert(at, outcome);
            if stop {
                return expected;
            }
        }
    }
    expected
}

fn seen(outcome: &ActionOutcome) -> Expect {
    match &outcome.result {
        ActionResult::Sent { .. } => Expect::Sent,
        ActionResult::Failed { .. } => Expect::Failed,
        ActionResult::Paused => Expect::Paused,
        ActionResult::Letter { .. } => Expect::Letter,
        ActionResult::CompletedByBooking { .. } => Expect::CompletedByBooking,
        other => panic!("unexpected outcome {other:?}"),
    }
}

/// What happens next in the simulation, in time order (then in the order it was planned).
#[derive(Default)]
struct Agenda {
    queue: BinaryHeap<Reverse<(Timestamp, u64)>>,
    steps: HashMap<u64, Step>,
    seq: u64,
}

impl Agenda {
    fn push(&mut self, at: Timestamp, step: Step) {
        self.seq += 1;
        self.steps.insert(self.seq, step);
        self.queue.push(Reverse((at, self.seq)));
    }

    /// Every step planned for the earliest instant.
    fn pop_batch(&mut self) -> Option<(Timestamp, Vec<Step>)> {
        let Reverse((at, _)) = *self.queue.peek()?;
        let mut batch = Vec::new();
        while let Some(Reverse((next, id))) = self.queue.peek().copied() {
            if next != at {
                break;
            }
            self.queue.pop();
            batch.extend(self.steps.remove(&id));
        }
        Some((at, batch))
    }
}

enum Step {
    Deliver(ScheduledJob, bool),
    Book(usize),
    Advance(String),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_enrollments_send_every_message_once_and_pause_and_complete_by_the_rules() {
    let total: usize =
        std::env::var("CONNECT_SIMULATION_ENROLLMENTS").ok().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let start: Timestamp = "2027-01-04T08:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::fixed(start));
    let store: Arc<EmbeddedStore> = Arc::new(EmbeddedStore::in_memory(clock.clone()).unwrap());
    let messages = Arc::new(SimMessages::default());
    let scheduler = Arc::new(SimScheduler::default());
    let dir = tempfile::tempdir().unwrap();
    let state = Arc::new(AppState {
        store: store.clone(),
        messages: messages.clone(),
        scheduler: scheduler.clone(),
        events: Arc::new(clinic_shared::events::in_process::InProcessEvents::new()),
        clock: clock.clone(),
        files: Arc::new(
            clinic_shared::files::embedded::EmbeddedReferralFiles::open(dir.path(), "http://127.0.0.1:1").unwrap(),
        ),
        letters: Arc::new(MemoryLetters::default()),
        epost: Arc::new(clinic_shared::messages::epost::EpostQueue::new(store.clone(), clock.clone())),
        settings: Settings { public_base_url: "http://127.0.0.1:1".into(), public_rate_limit: None },
    });
    clinic_shared::local::seed::seed_demo_clinic(&state).await.unwrap();
    let clinic = ClinicId::parse("demo").unwrap();
    let zone = TimeZone::get("Europe/London").unwrap();
    let today: Date = start.to_zoned(zone.clone()).date();

    // Templates: `a{index} P{n} {reference.date}`, so each message names its action, patient and cycle.
    for (kind, index) in [
        (TemplateKind::Sms, 0),
        (TemplateKind::Sms, 1),
        (TemplateKind::Sms, 2),
        (TemplateKind::Email, 0),
        (TemplateKind::Email, 1),
        (TemplateKind::Letter, 2),
    ] {
        let id = format!("t-{}-{index}", format!("{kind:?}").to_lowercase());
        let input = MessageTemplateInput {
            kind,
            name: id.clone(),
            subject: (kind != TemplateKind::Sms).then(|| "Reminder".to_owned()),
            body: format!("a{index} {{patient.first_name}} {{reference.date}}"),
        };
        let template = MessageTemplate::parse(id.clone(), &input).unwrap();
        store
            .write(Write::put(
                Item::from_record(keys::connect_template(&clinic, &id), &template).unwrap(),
                Condition::Always,
            ))
            .await
            .unwrap();
    }
    let recall_type = BookingTypeId::generated("bt-recall".into());
    let booking_type = BookingTypeId::generated("bt-booking".into());
    let other_type = BookingTypeId::generated("bt-other".into());
    let mut stored = HashMap::new();
    for (id, program) in programs(&recall_type, &booking_type) {
        let program =
            StoredProgram { id: id.clone(), program, created_at: start, updated_at: start, archived_at: None };
        store
            .write(Write::put(
                Item::from_record(keys::connect_program(&clinic, &id), &program).unwrap(),
                Condition::Always,
            ))
            .await
            .unwrap();
        stored.insert(id, program);
    }
    let kinds = ["general", "recall", "program", "booking", "referral"];
    let details = |n: usize| {
        let input = PatientInput {
            first_name: format!("P{n:05}"),
            last_name: "Simulation".into(),
            date_of_birth: "1980-05-05".into(),
            mobile: format!("+447700900{:03}", n % 1000),
            email: format!("p{n}@example.com"),
        };
        PatientDetails::parse(&input, today, clinic_shared::domain::contact::Region::GB, "").unwrap()
    };
    let appointment = |n: usize, booking_type: &BookingTypeId, starts_at: Timestamp| Appointment {
        id: AppointmentId::generated(format!("appt-{n}-{}", booking_type.as_str())),
        booking_type_id: booking_type.clone(),
        provider_id: ProviderId::generated("sim-provider".into()),
        location_id: LocationId::generated("sim-location".into()),
        starts_at,
        duration_minutes: 15,
        patient: details(n),
        channel: Channel::Staff,
        status: AppointmentStatus::Booked,
        notes: None,
        patient_reference: Some(PatientReference::parse("r", &format!("SIM-{n:05}")).unwrap()),
        provisional: false,
        partner_id: None,
        referral: None,
        lifecycle: Default::default(),
        created_at: start,
        updated_at: start,
    };
    let book = |n: usize, appointment: Appointment| {
        let state = state.clone();
        let clinic = clinic.clone();
        async move {
            let item = Item::from_record(keys::appointment(&clinic, appointment.id.as_str()), &appointment).unwrap();
            state.store.write(Write::put(item, Condition::Always)).await.unwrap();
            let event = DomainEvent {
                id: format!("event-{n}-{}", appointment.id),
                clinic_id: clinic.clone(),
                occurred_at: state.clock.now(),
                fact: Fact::AppointmentBooked { appointment_id: appointment.id.clone(), channel: Channel::Staff },
            };
            apply_booking(&state, &event, appointment.id.as_str()).await.unwrap();
            // A repeated event delivery changes nothing.
            apply_booking(&state, &event, appointment.id.as_str()).await.unwrap();
        }
    };

    let timer = std::time::Instant::now();
    // Enroll: patients 0..total, the type by n % 5; Booking enrollments come from bookings.
    let mut enrollment_of: HashMap<usize, String> = HashMap::new();
    let mut bookings: Vec<(Timestamp, usize)> = Vec::new();
    let mut booked_at: HashMap<usize, (u16, u16)> = HashMap::new();
    for n in 0..total {
        let reference = PatientReference::parse("r", &format!("SIM-{n:05}")).unwrap();
        let record = PatientRecord { reference: reference.clone(), details: details(n), profile: Default::default() };
        store
            .write(Write::put(
                Item::from_record(keys::patient(&clinic, reference.as_str()), &record).unwrap(),
                Condition::Always,
            ))
            .await
            .unwrap();
        let kind = kinds[n % 5];
        let program = &stored[kind];
        if kind == "booking" {
            book(n, appointment(n, &booking_type, start + SignedDuration::from_hours(24 * 20))).await;
            let listed = query_all(
                store.as_ref(),
                Query::prefix(keys::patient_enrollments_partition(&clinic, reference.as_str()), "").on_gsi1(),
            )
            .await
            .unwrap();
            assert_eq!(listed.len(), 1, "one booking, one enrollment, however often the event came");
            enrollment_of.insert(n, listed[0].record::<Enrollment>().unwrap().id);
            continue;
        }
        let first = match kind {
            "recall" => today + SignedDuration::from_hours(24 * 30),
            "program" => today + SignedDuration::from_hours(24),
            _ => today,
        };
        let id = format!("sim{n:05}");
        new_enrollment(
            &state,
            &clinic,
            &zone,
            Entry {
                program,
                id: id.clone(),
                patient_reference: Some(reference),
                appointment_id: None,
                first_reference_date: first,
                enrolled_by: "sim",
            },
            start,
        )
        .await
        .unwrap();
        enrollment_of.insert(n, id);
        if books(n) && kind != "booking" {
            // Book a day before action 1 of cycle 0 (or of cycle 1 for every other booker).
            let cycle = if n % 14 == 0 && program.program.cycles > 1 { 1 } else { 0 };
            let due = program.program.due_at(1, program.program.reference_date(first, cycle).unwrap(), &zone).unwrap();
            bookings.push((due - SignedDuration::from_hours(24), n));
            let completes = program.program.completing_bookings.completes(if kind == "recall" {
                &recall_type
            } else {
                &other_type
            });
            if completes {
                booked_at.insert(n, (cycle, 1));
            }
        }
    }

    eprintln!("enrolled in {:?}", timer.elapsed());
    // Run: every schedule made is delivered at its time (a fifth twice), bookings land at their
    // times, and staff advance pauses two hours after they are reached.
    let mut agenda = Agenda::default();
    for (at, n) in &bookings {
        agenda.push(*at, Step::Book(*n));
    }
    let mut taken = 0;
    let mut deliveries = 0usize;
    let mut duplicates = 0usize;
    loop {
        let made: Vec<(Timestamp, ScheduledJob)> = scheduler.made.lock().unwrap()[taken..].to_vec();
        taken += made.len();
        for (at, job) in made {
            let twice = job.job_id.bytes().map(u64::from).sum::<u64>() % 5 == 0;
            agenda.push(at, Step::Deliver(job.clone(), twice));
        }
        let Some((at, batch)) = agenda.pop_batch() else { break };
        if at > clock.now() {
            clock.set(at);
        }
        // Everything due at one instant: bookings and staff first, then every delivery at once
        // (on the runtime's worker threads, so duplicates really race).
        let mut tasks = tokio::task::JoinSet::new();
        for step in batch {
            match step {
                Step::Book(n) => {
                    let booking = if kinds[n % 5] == "recall" { &recall_type } else { &other_type };
                    book(n, appointment(n, booking, clock.now() + SignedDuration::from_hours(24 * 7))).await;
                }
                Step::Advance(id) => {
                    let (enrollment, version) = load_enrollment(&state, &clinic, &id).await.unwrap().unwrap();
                    if matches!(enrollment.position, Position::Paused { flagged: false, .. }) {
                        let program = &stored[&enrollment.program_id];
                        let scope = Scope { state: &state, clinic: &clinic, zone: &zone, program };
                        advance_paused(&scope, &enrollment, version, "staff", clock.now()).await.unwrap();
                    }
                }
                Step::Deliver(job, twice) => {
                    deliveries += 1;
                    let copies = if twice && deliveries.is_multiple_of(2) { 2 } else { 1 };
                    if twice {
                        duplicates += 1;
                        if copies == 1 {
                            agenda.push(at + SignedDuration::from_hours(3), Step::Deliver(job.clone(), false));
                        }
                    }
                    for _ in 0..copies {
                        let (state, job, clinic) = (state.clone(), job.clone(), clinic.clone());
                        tasks.spawn(async move {
                            let outcome = run_job(&state, &job).await;
                            let JobTask::RunConnectAction { enrollment_id, .. } = &job.task else { unreachable!() };
                            let (enrollment, _) =
                                load_enrollment(&state, &clinic, enrollment_id).await.unwrap().unwrap();
                            (job, outcome, enrollment)
                        });
                    }
                }
            }
        }
        let mut advances = HashSet::new();
        while let Some(done) = tasks.join_next().await {
            let (job, outcome, enrollment) = done.unwrap();
            match outcome {
                Ok(_) => {}
                Err(JobError::Retryable(_)) => {
                    agenda.push(clock.now() + SignedDuration::from_mins(1), Step::Deliver(job, false))
                }
                Err(error) => panic!("{error}"),
            }
            if let Position::Paused { flagged: false, .. } = enrollment.position
                && advances.insert(enrollment.id.clone())
            {
                agenda.push(clock.now() + SignedDuration::from_hours(2), Step::Advance(enrollment.id));
            }
        }
    }

    eprintln!("ran {deliveries} deliveries by {:?}", timer.elapsed());
    // Compare with the model.
    let sent = messages.sent.lock().unwrap().clone();
    let mut sent_count: HashMap<&str, usize> = HashMap::new();
    for body in &sent {
        *sent_count.entry(body.as_str()).or_default() += 1;
    }
    let duplicated: Vec<_> = sent_count.iter().filter(|(_, count)| **count > 1).collect();
    assert!(duplicated.is_empty(), "messages sent twice: {:?}", &duplicated[..duplicated.len().min(5)]);
    let follow_ups: HashSet<String> = query_all(store.as_ref(), Query::prefix(keys::follow_up_partition(&clinic), ""))
        .await
        .unwrap()
        .iter()
        .map(|item| item.key.sk.clone())
        .collect();
    let mut expected_sends = 0;
    let mut expected_flags = HashSet::new();
    for n in 0..total {
        let kind = kinds[n % 5];
        let program = &stored[kind].program;
        let id = &enrollment_of[&n];
        let expected = model(program, n, booked_at.get(&n).copied());
        let outcomes: BTreeMap<(u16, u16), Expect> =
            query_all(store.as_ref(), Query::prefix(keys::enrollment_partition(&clinic, id), keys::OUTCOME_PREFIX))
                .await
                .unwrap()
                .iter()
                .map(|item| {
                    let outcome: ActionOutcome = item.record().unwrap();
                    ((outcome.cycle, outcome.action), seen(&outcome))
                })
                .collect();
        // A failed action that pauses is recorded as failed; the position says it paused.
        let outcomes: BTreeMap<(u16, u16), Expect> = outcomes
            .into_iter()
            .map(|(at, seen)| match (seen, expected.get(&at)) {
                (Expect::Failed, Some(Expect::FlaggedPause)) => (at, Expect::FlaggedPause),
                (seen, _) => (at, seen),
            })
            .collect();
        assert_eq!(outcomes, expected, "patient {n} ({kind}, enrollment {id})");
        let (enrollment, _) = load_enrollment(&state, &clinic, id).await.unwrap().unwrap();
        match expected.values().last() {
            Some(Expect::FlaggedPause) => {
                let (cycle, action) = *expected.keys().last().unwrap();
                assert_eq!(enrollment.position, Position::Paused { cycle, action, flagged: true }, "patient {n}");
                expected_flags.insert(id.clone());
            }
            _ => assert_eq!(enrollment.position, Position::Finished, "patient {n} ({kind})"),
        }
        assert!(enrollment.in_flight.is_none() && enrollment.next.is_none(), "patient {n} left a claim or a schedule");
        for ((cycle, action), outcome) in &expected {
            if *outcome == Expect::Sent {
                expected_sends += 1;
                let reference = program.reference_date(enrollment.first_reference_date, *cycle).unwrap();
                let channel = match program.actions[usize::from(*action)].kind {
                    ActionKind::Sms { .. } => "sms",
                    _ => "email",
                };
                let body = format!("{channel} a{action} P{n:05} {}", reference.strftime("%A %-d %B %Y"));
                assert_eq!(sent_count.get(body.as_str()), Some(&1), "patient {n}: {body:?} not sent exactly once");
            }
        }
    }
    assert_eq!(sent.len(), expected_sends, "no message beyond those the rules call for");
    assert_eq!(follow_ups, expected_flags, "exactly the patients paused by errors are flagged");
    assert!(
        duplicates * 6 > deliveries,
        "about a fifth of payloads were delivered twice ({duplicates} of {deliveries})"
    );
    assert!(booked_at.len() > total / 20, "enough cycles were completed by bookings ({})", booked_at.len());
}
