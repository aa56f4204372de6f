//! Benchmark figures, printed (not asserted): what one Patient Connect action costs the runner
//! (claim, render, send to the outbox, record, schedule the next), in store round trips, wall
//! time and process CPU time, over the durable embedded store. Run with `scripts/bench.sh`.
//!
//! Both store adapters make one backend call per `get`, `write`, `transact` and `query` page,
//! so the round-trip count holds for DynamoDB too.

use std::sync::Arc;
use std::time::Instant;

use clinic_shared::app::{EmbeddedApp, Settings};
use clinic_shared::clock::{Clock, ManualClock};
use clinic_shared::domain::clinic::ClinicId;
use clinic_shared::domain::message_template::{MessageTemplate, MessageTemplateInput, TemplateKind};
use clinic_shared::domain::patient::{PatientDetails, PatientInput, PatientRecord, PatientReference};
use clinic_shared::features::patient_connect::enrollments::{Entry, new_enrollment};
use clinic_shared::features::patient_connect::{StoredProgram, job_for};
use clinic_shared::features::runner::run_job;
use clinic_shared::local::seed::seed_demo_clinic;
use clinic_shared::store::{Condition, Item, Write, keys};

const ENROLLMENTS: usize = 300;

/// User plus system CPU time of this process, in seconds (from `/proc/self/stat`).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |index: usize| fields.get(index).and_then(|value| value.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of the file (utime, stime) are 11 and 12 after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let clock = Arc::new(ManualClock::fixed("2027-01-04T08:00:00Z".parse().expect("time")));
    let settings = Settings { public_base_url: "http://127.0.0.1".into(), public_rate_limit: None };
    let app = EmbeddedApp::open(dir.path(), clock.clone(), settings).expect("embedded store");
    let state = app.state.clone();
    seed_demo_clinic(&state).await.expect("seed");
    let clinic = ClinicId::parse("demo").expect("clinic");
    let input = MessageTemplateInput {
        kind: TemplateKind::Sms,
        name: "Reminder".into(),
        subject: None,
        body: "Hi {patient.first_name}, your {program.name} at {clinic.name} is due on {booking.date}.".into(),
    };
    let template = MessageTemplate::parse("bench-sms".into(), &input).expect("template");
    let item = Item::from_record(keys::connect_template(&clinic, "bench-sms"), &template).expect("item");
    state.store.write(Write::put(item, Condition::Always)).await.expect("write");
    let program = serde_json::from_value(serde_json::json!({
        "program_type": "general", "name": "Bench", "cycles": 1, "frequency": {"amount": 1, "unit": "months"},
        "actions": [{"kind": {"kind": "sms", "template_id": "bench-sms", "save_reply_content": false},
                     "timing": {"direction": "after", "offset": {"amount": 1, "unit": "days"}, "time_of_day": "09:00"},
                     "pause_on_error": false}],
        "completing_bookings": {"kind": "any"}, "enabled": true,
    }))
    .expect("program");
    let now = clock.now();
    let program = StoredProgram { id: "bench".into(), program, created_at: now, updated_at: now, archived_at: None };
    let item = Item::from_record(keys::connect_program(&clinic, "bench"), &program).expect("item");
    state.store.write(Write::put(item, Condition::Always)).await.expect("write");
    let zone = jiff::tz::TimeZone::get("Europe/London").expect("zone");
    let today = now.to_zoned(zone.clone()).date();
    let mut jobs = Vec::new();
    let before = state.store.round_trips();
    let started = Instant::now();
    for n in 0..ENROLLMENTS {
        let reference = PatientReference::parse("r", &format!("B-{n}")).expect("reference");
        let details = PatientInput {
            first_name: format!("Pat{n}"),
            last_name: "Bench".into(),
            date_of_birth: "1980-01-01".into(),
            mobile: format!("+447700900{:03}", n % 1000),
            email: format!("b{n}@example.com"),
        };
        let record = PatientRecord {
            reference: reference.clone(),
            details: PatientDetails::parse(&details, today, clinic_shared::domain::contact::Region::GB, "")
                .expect("details"),
            profile: Default::default(),
        };
        let item = Item::from_record(keys::patient(&clinic, reference.as_str()), &record).expect("item");
        state.store.write(Write::put(item, Condition::Always)).await.expect("write");
        let enrollment = new_enrollment(
            &state,
            &clinic,
            &zone,
            Entry {
                program: &program,
                id: format!("bench{n}"),
                patient_reference: Some(reference),
                appointment_id: None,
                first_reference_date: today,
                enrolled_by: "bench",
            },
            now,
        )
        .await
        .expect("enroll");
        let next = enrollment.next.expect("scheduled");
        jobs.push((next.due_at, job_for(&clinic, &enrollment.id, &next)));
    }
    let enroll_trips = (state.store.round_trips() - before) as f64 / ENROLLMENTS as f64;
    let enroll_micros = started.elapsed().as_secs_f64() * 1e6 / ENROLLMENTS as f64;
    clock.set(jobs[0].0);
    let before = state.store.round_trips();
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    for (_, job) in &jobs {
        run_job(&state, job).await.expect("action runs");
    }
    let run_micros = started.elapsed().as_secs_f64() * 1e6 / ENROLLMENTS as f64;
    let run_cpu_micros = (cpu_seconds() - cpu_before) * 1e6 / ENROLLMENTS as f64;
    let run_trips = (state.store.round_trips() - before) as f64 / ENROLLMENTS as f64;
    let before = state.store.round_trips();
    for (_, job) in &jobs {
        run_job(&state, job).await.expect("repeat is a no-op");
    }
    let repeat_trips = (state.store.round_trips() - before) as f64 / ENROLLMENTS as f64;
    println!("{:<46} {:>12} {:>12} {:>12}", "operation (embedded store, durable)", "round trips", "wall µs", "CPU µs");
    println!("{:<46} {:>12.1} {:>12.0} {:>12}", "enroll (plan, schedule, write)", enroll_trips, enroll_micros, "-");
    println!(
        "{:<46} {:>12.1} {:>12.0} {:>12.0}",
        "execute one SMS action (outbox)", run_trips, run_micros, run_cpu_micros
    );
    println!("{:<46} {:>12.1} {:>12} {:>12}", "repeated delivery of a done action", repeat_trips, "-", "-");
}
