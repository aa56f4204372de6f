//! Appointment lifecycle simulation: thousands of appointments booked, moved and cancelled over
//! three weeks by the real booking code over the embedded store, with an injected clock and
//! three reminders a clinic might set (48 h by SMS, 24 h by email, 2 h by SMS). Every schedule
//! is delivered at its time; a sampled fifth again three hours late, a tenth twice at the same
//! moment, and a tenth of the schedules a move or cancel removed are delivered anyway (the
//! removal raced the delivery). An independent model says which messages must have gone: the
//! confirmation, each change and each cancellation once per channel, and each reminder whose time
//! fell while its version of the appointment stood. The test compares it with what was sent.
//! `LIFECYCLE_SIMULATION_APPOINTMENTS` sets the size (2,000 by default).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use clinic_shared::app::{AppState, Settings};
use clinic_shared::clock::{Clock, ManualClock};
use clinic_shared::domain::appointment::{Appointment, AppointmentStatus, Channel};
use clinic_shared::domain::appointment_message::{
    AppointmentMessage, LifecycleSettings, MessageChannel, MessageStatus, ReminderRule,
};
use clinic_shared::domain::availability::OfferedSlot;
use clinic_shared::domain::booking_type::BookingTypeId;
use clinic_shared::domain::clinic::ClinicId;
use clinic_shared::domain::contact::{EmailAddress, PhoneNumber};
use clinic_shared::domain::jobs::ScheduledJob;
use clinic_shared::domain::location::LocationId;
use clinic_shared::domain::patient::PatientDetails;
use clinic_shared::domain::provider::ProviderId;
use clinic_shared::features::diary::booking;
use clinic_shared::features::runner::run_job;
use clinic_shared::messages::{Email, Messages, SendError, Sent, Sms};
use clinic_shared::store::embedded::EmbeddedStore;
use clinic_shared::store::{Condition, Item, Store, Write, keys};
use clinic_tests::sim::SimScheduler;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// Every message the simulated providers accepted: (recipient, text).
#[derive(Default)]
struct SimMessages {
    sent: Mutex<Vec<(String, String)>>,
}

#[async_trait]
impl Messages for SimMessages {
    async fn send_sms(&self, sms: &Sms) -> Result<Sent, SendError> {
        self.sent.lock().unwrap().push((sms.to.as_str().to_owned(), sms.body.clone()));
        Ok(Sent { message_id: uuid::Uuid::new_v4().to_string() })
    }

    async fn send_email(&self, email: &Email) -> Result<Sent, SendError> {
        self.sent.lock().unwrap().push((email.to.as_str().to_owned(), email.text.clone()));
        Ok(Sent { message_id: uuid::Uuid::new_v4().to_string() })
    }

    fn sender(&self) -> &str {
        "bookings@example.com"
    }
}

/// A small deterministic generator (SplitMix64), so a failure replays.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One appointment's life in the model.
struct Plan {
    booked_at: Timestamp,
    starts: Vec<Timestamp>,
    moved_at: Option<Timestamp>,
    cancelled_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Book(usize),
    Move(usize),
    Cancel(usize),
    Deliver(usize, bool),
}

/// The application over the embedded store in memory, with the demo clinic seeded.
async fn demo_state(
    store: &Arc<EmbeddedStore>,
    clock: &Arc<ManualClock>,
    messages: Arc<dyn Messages>,
    scheduler: Arc<SimScheduler>,
    dir: &std::path::Path,
) -> Arc<AppState> {
    let state = Arc::new(AppState {
        store: store.clone(),
        messages,
        scheduler,
        events: Arc::new(clinic_shared::events::in_process::InProcessEvents::new()),
        clock: clock.clone(),
        files: Arc::new(
            clinic_shared::files::embedded::EmbeddedReferralFiles::open(dir, "http://127.0.0.1:1").unwrap(),
        ),
        letters: Arc::new(clinic_shared::files::letters::DirectoryLetterFiles::open(dir).unwrap()),
        epost: Arc::new(clinic_shared::messages::epost::EpostQueue::new(store.clone(), clock.clone())),
        settings: Settings { public_base_url: "http://127.0.0.1:1".into(), public_rate_limit: None },
    });
    clinic_shared::local::seed::seed_demo_clinic(&state).await.unwrap();
    state
}

const RULES: [(u32, &str); 3] = [(48, "sms"), (24, "email"), (2, "sms")];

fn recipient(n: usize, channel: &str) -> String {
    if channel == "sms" { format!("+447700900{:03}", n % 1000) } else { format!("p{n}@example.com") }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_confirmation_change_cancellation_and_due_reminder_goes_exactly_once() {
    let total: usize =
        std::env::var("LIFECYCLE_SIMULATION_APPOINTMENTS").ok().and_then(|n| n.parse().ok()).unwrap_or(2_000);
    let start: Timestamp = "2027-01-04T08:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::fixed(start));
    let store: Arc<EmbeddedStore> = Arc::new(EmbeddedStore::in_memory(clock.clone()).unwrap());
    let messages = Arc::new(SimMessages::default());
    let scheduler = Arc::new(SimScheduler::default());
    let dir = tempfile::tempdir().unwrap();
    let state = demo_state(&store, &clock, messages.clone(), scheduler.clone(), dir.path()).await;
    let clinic = ClinicId::parse("demo").unwrap();
    let settings = LifecycleSettings {
        reminders: RULES
            .iter()
            .map(|(hours_before, channel)| ReminderRule {
                hours_before: *hours_before,
                channel: if *channel == "sms" { MessageChannel::Sms } else { MessageChannel::Email },
                template_id: None,
            })
            .collect(),
        ..LifecycleSettings::default()
    };
    let item = Item::from_record(keys::lifecycle_settings(&clinic), &settings).unwrap().with_version(1);
    store.write(Write::put(item, Condition::NotExists)).await.unwrap();

    // The plan: booking times over ten days, starts 1 hour to 14 days later on the five-minute
    // grid (distinct per SMS number, so each text names one appointment), a fifth moved, an
    // eighth cancelled (some after a move).
    let mut random = Random(20_270_104);
    let grid = |at: Timestamp| Timestamp::from_second(at.as_second() - at.as_second().rem_euclid(300)).unwrap();
    let mut used: HashSet<(usize, i64)> = HashSet::new();
    let mut draw_start = |random: &mut Random, n: usize, after: Timestamp| loop {
        let offset = SignedDuration::from_secs(3600 + random.below(14 * 24 * 3600) as i64);
        let at = grid(after + offset) + SignedDuration::from_mins(5);
        if used.insert((n % 1000, at.as_second())) {
            return at;
        }
    };
    let mut plans = Vec::with_capacity(total);
    let mut events: BinaryHeap<Reverse<(Timestamp, Event)>> = BinaryHeap::new();
    for n in 0..total {
        // Odd seconds: no booking, move or cancel falls on a reminder's exact time.
        let booked_at = start + SignedDuration::from_secs(random.below(10 * 24 * 3600) as i64 * 2 + 1);
        let first = draw_start(&mut random, n, booked_at);
        let mut plan = Plan { booked_at, starts: vec![first], moved_at: None, cancelled_at: None };
        events.push(Reverse((booked_at, Event::Book(n))));
        let window = |from: Timestamp, to: Timestamp, random: &mut Random| {
            let span = to.as_second() - from.as_second();
            (span > 7200)
                .then(|| from + SignedDuration::from_secs((random.below((span as u64 - 3600) / 2) * 2 + 1) as i64))
        };
        if random.below(5) == 0
            && let Some(at) = window(booked_at, first, &mut random)
        {
            plan.moved_at = Some(at);
            plan.starts.push(draw_start(&mut random, n, at));
            events.push(Reverse((at, Event::Move(n))));
        }
        if random.below(8) == 0 {
            let from = plan.moved_at.unwrap_or(booked_at);
            if let Some(at) = window(from, *plan.starts.last().unwrap(), &mut random) {
                plan.cancelled_at = Some(at);
                events.push(Reverse((at, Event::Cancel(n))));
            }
        }
        plans.push(plan);
    }

    // Run: each event at its time; schedules made are delivered at theirs (some again, some
    // anyway after their removal).
    let booking_type = BookingTypeId::generated(uuid::Uuid::new_v4().to_string());
    let location = LocationId::generated(uuid::Uuid::new_v4().to_string());
    let mut ids = HashMap::new();
    let mut jobs: Vec<ScheduledJob> = Vec::new();
    let mut seen = 0;
    let mut deliveries = 0usize;
    while let Some(Reverse((at, event))) = events.pop() {
        clock.set(at);
        match event {
            Event::Book(n) => {
                let patient = PatientDetails {
                    first_name: format!("P{n}"),
                    last_name: "Example".into(),
                    date_of_birth: "1980-05-17".parse().unwrap(),
                    mobile: Some(PhoneNumber::parse("mobile", &recipient(n, "sms")).unwrap()),
                    email: Some(EmailAddress::parse("email", &recipient(n, "email")).unwrap()),
                };
                let slot = OfferedSlot {
                    starts_at: plans[n].starts[0],
                    provider_id: ProviderId::generated(uuid::Uuid::new_v4().to_string()),
                    location_id: location.clone(),
                };
                let appointment = Appointment::booked(booking_type.clone(), 15, slot, patient, Channel::Staff, at);
                booking::book(&state, &clinic, &appointment, "staff", None).await.unwrap();
                ids.insert(n, appointment.id);
            }
            Event::Move(n) | Event::Cancel(n) => {
                let current = booking::load(store.as_ref(), &clinic, &ids[&n]).await.unwrap().unwrap();
                let mut next = current.appointment.clone();
                let action = if matches!(event, Event::Move(_)) {
                    next.starts_at = plans[n].starts[1];
                    "appointment.moved"
                } else {
                    next.status = AppointmentStatus::Cancelled;
                    "appointment.cancelled"
                };
                next.updated_at = at;
                booking::rewrite(&state, &clinic, &current, &next, "staff", action).await.unwrap();
            }
            Event::Deliver(index, concurrently) => {
                let job = &jobs[index];
                // A removed schedule is not delivered, unless the removal raced it (a tenth).
                if scheduler.cancelled.lock().unwrap().contains(&job.job_id) && index % 10 != 7 {
                    continue;
                }
                deliveries += 1;
                let outcomes = if concurrently {
                    deliveries += 1;
                    let (a, b) = tokio::join!(run_job(&state, job), run_job(&state, job));
                    vec![a, b]
                } else {
                    vec![run_job(&state, job).await]
                };
                // A retryable answer is delivered again a minute later, as the scheduler would.
                for outcome in outcomes {
                    if let Err(error) = outcome {
                        assert!(matches!(error, clinic_shared::scheduler::JobError::Retryable(_)), "{error}");
                        events.push(Reverse((at + SignedDuration::from_mins(1), Event::Deliver(index, false))));
                    }
                }
            }
        }
        let made: Vec<(Timestamp, ScheduledJob)> = scheduler.made.lock().unwrap()[seen..].to_vec();
        seen += made.len();
        for (due, job) in made {
            let index = jobs.len();
            let sample = index % 10;
            jobs.push(job);
            events.push(Reverse((due.max(at), Event::Deliver(index, sample == 3))));
            if sample < 2 {
                events.push(Reverse((due.max(at) + SignedDuration::from_hours(3), Event::Deliver(index, false))));
            }
        }
    }

    // The model: what must have gone, per (recipient, opening words, appointment time).
    let zone = TimeZone::get("Europe/London").unwrap();
    let when = |at: Timestamp| at.to_zoned(zone.clone()).strftime("on %A %-d %B %Y at %H:%M").to_string();
    let mut expected: BTreeMap<(String, &str, String), usize> = BTreeMap::new();
    let mut expect = |to: String, kind: &'static str, at: Timestamp| {
        *expected.entry((to, kind, when(at))).or_default() += 1;
    };
    for (n, plan) in plans.iter().enumerate() {
        for channel in ["sms", "email"] {
            expect(recipient(n, channel), "Your appointment is booked", plan.starts[0]);
            if plan.moved_at.is_some() {
                expect(recipient(n, channel), "Your appointment has moved", plan.starts[1]);
            }
            if plan.cancelled_at.is_some() {
                expect(recipient(n, channel), "Your appointment is cancelled", *plan.starts.last().unwrap());
            }
        }
        for (version, starts_at) in plan.starts.iter().enumerate() {
            let from = if version == 0 { plan.booked_at } else { plan.moved_at.unwrap() };
            let until = if version == 0 { plan.moved_at.or(plan.cancelled_at) } else { plan.cancelled_at };
            for (hours, channel) in RULES {
                let due = *starts_at - SignedDuration::from_hours(i64::from(hours));
                if due > from && until.is_none_or(|until| due < until) {
                    expect(recipient(n, channel), "Reminder of your appointment", *starts_at);
                }
            }
        }
    }
    let mut actual: BTreeMap<(String, &str, String), usize> = BTreeMap::new();
    for (to, text) in messages.sent.lock().unwrap().iter() {
        let kind = [
            "Your appointment is booked",
            "Your appointment has moved",
            "Your appointment is cancelled",
            "Reminder of your appointment",
        ]
        .into_iter()
        .find(|kind| text.starts_with(kind))
        .unwrap_or_else(|| panic!("an unexpected message: {text}"));
        let at = text
            .split(", on ")
            .nth(1)
            .and_then(|rest| rest.split('.').next())
            .map(|when| format!("on {when}"))
            .unwrap_or_default();
        *actual.entry((to.clone(), kind, at)).or_default() += 1;
    }
    let missing: Vec<_> = expected.iter().filter(|(key, _)| !actual.contains_key(*key)).take(5).collect();
    let unexpected: Vec<_> = actual.iter().filter(|(key, _)| !expected.contains_key(*key)).take(5).collect();
    // (The 48-hour and 2-hour reminders are both SMS: a key counts two of them.)
    let doubled: Vec<_> =
        actual.iter().filter(|(key, count)| expected.get(*key).is_some_and(|wanted| *count > wanted)).take(5).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty() && doubled.is_empty(),
        "missing {missing:?}\nunexpected {unexpected:?}\nsent twice {doubled:?}"
    );
    assert_eq!(actual, expected);
    let reminders: usize =
        expected.iter().filter(|((_, kind, _), _)| kind.starts_with("Reminder")).map(|(_, count)| count).sum();
    assert!(reminders > total, "the simulation exercises reminders ({reminders})");
    let messages: usize = expected.values().sum();
    println!("{total} appointments, {messages} messages ({reminders} reminders), {deliveries} deliveries");
}

/// A provider that fails as told: passing failures for the first `throttled` sends to a number,
/// and refuses `refused` numbers for good.
struct FlakyMessages {
    throttled: Mutex<HashMap<String, u32>>,
    refused: HashSet<String>,
    sent: Mutex<Vec<String>>,
}

#[async_trait]
impl Messages for FlakyMessages {
    async fn send_sms(&self, sms: &Sms) -> Result<Sent, SendError> {
        let to = sms.to.as_str().to_owned();
        if self.refused.contains(&to) {
            return Err(SendError::InvalidRecipient("not a mobile".into()));
        }
        if let Some(left) = self.throttled.lock().unwrap().get_mut(&to)
            && *left > 0
        {
            *left -= 1;
            return Err(SendError::Throttled);
        }
        self.sent.lock().unwrap().push(to);
        Ok(Sent { message_id: "sns-1".into() })
    }

    async fn send_email(&self, email: &Email) -> Result<Sent, SendError> {
        self.sent.lock().unwrap().push(email.to.as_str().to_owned());
        Ok(Sent { message_id: "ses-1".into() })
    }

    fn sender(&self) -> &str {
        "bookings@example.com"
    }
}

/// Delivers every schedule `wanted` picks at its time, moving the clock forward, until none is
/// left; answers how far ahead (minutes) each later delivery was.
async fn deliver_in_time(
    state: &AppState,
    scheduler: &SimScheduler,
    clock: &ManualClock,
    wanted: impl Fn(&ScheduledJob) -> bool,
) -> Vec<i64> {
    let mut delivered = 0;
    let mut waits = Vec::new();
    loop {
        let made: Vec<(Timestamp, ScheduledJob)> = scheduler.made.lock().unwrap()[delivered..].to_vec();
        if made.is_empty() {
            return waits;
        }
        delivered += made.len();
        for (at, job) in made.into_iter().filter(|(_, job)| wanted(job)) {
            if at > clock.now() {
                waits.push(at.duration_since(clock.now()).as_mins());
                clock.set(at);
            }
            run_job(state, &job).await.unwrap();
        }
    }
}

#[tokio::test]
async fn passing_failures_are_retried_with_backoff_and_final_ones_are_flagged_for_staff() {
    let start: Timestamp = "2027-01-04T08:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::fixed(start));
    let store: Arc<EmbeddedStore> = Arc::new(EmbeddedStore::in_memory(clock.clone()).unwrap());
    let (flaky, refused) = ("+447700900201", "+447700900202");
    let messages = Arc::new(FlakyMessages {
        throttled: Mutex::new(HashMap::from([(flaky.to_owned(), 2)])),
        refused: HashSet::from([refused.to_owned()]),
        sent: Mutex::default(),
    });
    let scheduler = Arc::new(SimScheduler::default());
    let dir = tempfile::tempdir().unwrap();
    let state = demo_state(&store, &clock, messages.clone(), scheduler.clone(), dir.path()).await;
    let clinic = ClinicId::parse("demo").unwrap();
    let mut ids = Vec::new();
    for (n, mobile) in [flaky, refused].into_iter().enumerate() {
        let patient = PatientDetails {
            first_name: "Pat".into(),
            last_name: "Example".into(),
            date_of_birth: "1980-05-17".parse().unwrap(),
            mobile: Some(PhoneNumber::parse("mobile", mobile).unwrap()),
            email: None,
        };
        let slot = OfferedSlot {
            starts_at: start + SignedDuration::from_hours(2 + n as i64),
            provider_id: ProviderId::generated(uuid::Uuid::new_v4().to_string()),
            location_id: LocationId::generated(uuid::Uuid::new_v4().to_string()),
        };
        let booking_type = BookingTypeId::generated(uuid::Uuid::new_v4().to_string());
        let appointment = Appointment::booked(booking_type, 15, slot, patient, Channel::Staff, start);
        booking::book(&state, &clinic, &appointment, "staff", None).await.unwrap();
        ids.push(appointment.id);
    }
    let retry_times = deliver_in_time(&state, &scheduler, &clock, |_| true).await;
    assert_eq!(retry_times, [1, 2], "retried after 1 then 2 minutes");
    assert_eq!(messages.sent.lock().unwrap().as_slice(), [flaky.to_owned()], "sent once, after two throttles");
    let message = |id: &clinic_shared::domain::appointment::AppointmentId| {
        let store = store.clone();
        let clinic = clinic.clone();
        let id = id.clone();
        async move {
            let query = clinic_shared::store::Query::prefix(
                keys::appointment_partition(&clinic, id.as_str()),
                keys::MESSAGE_PREFIX,
            );
            let items = clinic_shared::store::query_all(store.as_ref(), query).await.unwrap();
            items.iter().map(|item| item.record::<AppointmentMessage>().unwrap()).collect::<Vec<_>>()
        }
    };
    let sent = message(&ids[0]).await;
    assert_eq!(sent.len(), 1, "an SMS only: the patient gave no email");
    assert_eq!(sent[0].status, MessageStatus::Sent { provider_message_id: "sns-1".into() });
    assert_eq!(sent[0].attempts, 2);
    let failed = message(&ids[1]).await;
    assert!(matches!(&failed[0].status, MessageStatus::Failed { reason } if reason.contains("refused")), "{failed:?}");
    let flags = clinic_shared::store::query_all(
        store.as_ref(),
        clinic_shared::store::Query::prefix(keys::message_flags_partition(&clinic), ""),
    )
    .await
    .unwrap();
    assert_eq!(flags.len(), 1, "the final failure is flagged for staff, nothing else");
}

#[tokio::test]
async fn a_waitlist_offer_whose_send_fails_for_a_while_is_retried_with_backoff_and_a_refused_one_is_not() {
    use clinic_shared::domain::booking_type::BookingType;
    use clinic_shared::domain::waitlist::{EntrySource, OfferDelivery, TimeOfDay, WaitlistPreferences};
    use clinic_shared::features::waitlist;

    let start: Timestamp = "2027-01-04T08:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::fixed(start));
    let store: Arc<EmbeddedStore> = Arc::new(EmbeddedStore::in_memory(clock.clone()).unwrap());
    let (flaky, refused) = ("+447700900211", "+447700900212");
    let messages = Arc::new(FlakyMessages {
        throttled: Mutex::new(HashMap::from([(flaky.to_owned(), 2)])),
        refused: HashSet::from([refused.to_owned()]),
        sent: Mutex::default(),
    });
    let scheduler = Arc::new(SimScheduler::default());
    let dir = tempfile::tempdir().unwrap();
    let state = demo_state(&store, &clock, messages.clone(), scheduler.clone(), dir.path()).await;
    let clinic = ClinicId::parse("demo").unwrap();
    let types: Vec<BookingType> =
        clinic_shared::store::records(store.as_ref(), &keys::clinic_partition(&clinic), keys::BOOKING_TYPE_PREFIX)
            .await
            .unwrap();
    let gp = types.iter().find(|booking_type| booking_type.short_name == "GP15").expect("the demo GP type");
    let today = start.to_zoned(TimeZone::get("Europe/London").unwrap()).date();
    for mobile in [flaky, refused] {
        let preferences = WaitlistPreferences {
            booking_type_id: gp.id.clone(),
            provider_id: None,
            location_id: None,
            from: today,
            to: today.checked_add(jiff::Span::new().days(20)).unwrap(),
            weekdays: Vec::new(),
            time_of_day: TimeOfDay::Any,
        };
        let patient = PatientDetails {
            first_name: "Wai".into(),
            last_name: "Example".into(),
            date_of_birth: "1980-05-17".parse().unwrap(),
            mobile: Some(PhoneNumber::parse("mobile", mobile).unwrap()),
            email: None,
        };
        waitlist::pages::add(&state, &clinic, preferences, patient, None, EntrySource::Staff, None).await.unwrap();
    }
    // The scans offer both entries a time; the offers' expiries are left undelivered.
    let retry_times =
        deliver_in_time(&state, &scheduler, &clock, |job| !job.job_id.starts_with("waitlist-expiry-")).await;
    assert_eq!(retry_times, [1, 2], "retried after 1 then 2 minutes");
    assert_eq!(messages.sent.lock().unwrap().as_slice(), [flaky.to_owned()], "sent once, after two throttles");
    let offers = waitlist::offers(&state, &clinic).await.unwrap();
    assert_eq!(offers.len(), 2, "one offer per entry");
    let sent: Vec<_> =
        offers.iter().filter(|stored| matches!(stored.offer.delivery, OfferDelivery::Sent { .. })).collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].offer.attempts, 2);
    let failed: Vec<_> =
        offers.iter().filter(|stored| matches!(&stored.offer.delivery, OfferDelivery::Failed { .. })).collect();
    assert_eq!(failed.len(), 1, "the refused number fails at once, for good");
    assert_eq!(failed[0].offer.attempts, 0);
    // The sweeper does not send a retry before it is due: run it now, nothing more goes out.
    waitlist::sweep(&state).await.unwrap();
    assert_eq!(messages.sent.lock().unwrap().len(), 1);
}
