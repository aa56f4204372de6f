//! Benchmark figures, printed (not asserted): store round trips and wall time per operation,
//! counted by the store adapter, over the embedded store. Run with `scripts/bench.sh`, which also
//! prints each function's release binary size for arm64.
//!
//! Both store adapters make exactly one backend call per `get`, `write`, `transact` and `query`
//! page, so the round-trip counts hold for DynamoDB too (retries after a transaction conflict
//! add to them there).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use clinic_shared::app::{AppState, EmbeddedApp, Settings};
use clinic_shared::clock::{Clock, ManualClock};
use clinic_shared::domain::booking_type::{BookingType, BookingTypeChange, BookingTypeId, NewBookingTypeInput};
use clinic_shared::domain::clinic::ClinicId;
use clinic_shared::domain::jobs::{JobRecord, JobTask, ScheduledJob};
use clinic_shared::features::catalog::entries;
use clinic_shared::features::runner::run_job;
use clinic_shared::local::seed::seed_demo_clinic;
use clinic_shared::store::{Condition, Item, Query, Write, keys, query_all};

const ROUNDS: u32 = 200;

struct Figure {
    operation: &'static str,
    round_trips: f64,
    micros: f64,
}

async fn measure<F, Fut>(state: &AppState, operation: &'static str, mut run: F) -> Figure
where
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let before = state.store.round_trips();
    let started = Instant::now();
    for round in 0..ROUNDS {
        run(round).await;
    }
    let elapsed = started.elapsed();
    Figure {
        operation,
        round_trips: (state.store.round_trips() - before) as f64 / f64::from(ROUNDS),
        micros: elapsed.as_secs_f64() * 1e6 / f64::from(ROUNDS),
    }
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let clock = Arc::new(ManualClock::following_system_time());
    let app = EmbeddedApp::open(
        dir.path(),
        clock.clone(),
        Settings { public_base_url: "http://127.0.0.1".into(), public_rate_limit: None },
    )
    .expect("embedded store");
    clinic_shared::features::attach_event_consumers(&app);
    let state = app.state.clone();
    seed_demo_clinic(&state).await.expect("seed");
    let clinic = ClinicId::parse("demo").expect("clinic");
    let input = NewBookingTypeInput {
        short_name: "BENCH".into(),
        long_name: "Benchmark consultation".into(),
        long_name_fr: None,
        duration_minutes: 15,
        enabled_online: true,
    };
    let mut ids: Vec<BookingTypeId> = Vec::new();
    let mut figures = Vec::new();

    let created = std::cell::RefCell::new(Vec::new());
    figures.push(
        measure(&state, "create booking type (transaction: check clinic, type, publication, audit)", |_| async {
            let booking_type = entries::create::<BookingType>(&state, &clinic, "bench", &input).await.expect("create");
            created.borrow_mut().push(booking_type.id);
        })
        .await,
    );
    ids.extend(created.into_inner());
    figures.push(
        measure(&state, "change booking type now (read + transaction)", |round| {
            let (state, clinic, id) = (&state, &clinic, ids[round as usize].clone());
            async move {
                let change = BookingTypeChange { enabled_online: Some(false), ..Default::default() };
                entries::apply::<BookingType>(state, clinic, id.as_str(), &change, "bench", Vec::new(), None)
                    .await
                    .expect("apply");
            }
        })
        .await,
    );
    figures.push(
        measure(&state, "public catalogue (one query of the public partition)", |_| async {
            let items = query_all(state.store.as_ref(), Query::prefix(keys::public_partition(&clinic), "").limit(1000))
                .await
                .expect("catalogue");
            assert!(!items.is_empty());
        })
        .await,
    );
    figures.push(
        measure(&state, "list booking types, one page of 50", |_| async {
            let query = Query::prefix(keys::clinic_partition(&clinic), keys::BOOKING_TYPE_PREFIX).limit(50);
            state.store.query(&query).await.expect("list");
        })
        .await,
    );
    let jobs: Vec<ScheduledJob> = (0..ROUNDS)
        .map(|round| ScheduledJob {
            job_id: format!("bench-{round}"),
            clinic_id: clinic.clone(),
            task: JobTask::ApplyBookingTypeChange {
                booking_type_id: ids[round as usize].clone(),
                change: BookingTypeChange { enabled_online: Some(true), ..Default::default() },
            },
        })
        .collect();
    for job in &jobs {
        let record = JobRecord {
            job: job.clone(),
            due_at: clock.now(),
            status: clinic_shared::domain::jobs::JobStatus::Pending,
        };
        let item = Item::from_record(keys::job(&clinic, &job.job_id), &record).expect("job");
        state.store.write(Write::put(item, Condition::NotExists)).await.expect("job record");
    }
    figures.push(
        measure(&state, "scheduled runner: first delivery of a job", |round| {
            let (state, job) = (&state, &jobs[round as usize]);
            async move {
                run_job(state, job).await.expect("run");
            }
        })
        .await,
    );
    figures.push(
        measure(&state, "scheduled runner: repeated delivery (no-op)", |round| {
            let (state, job) = (&state, &jobs[round as usize]);
            async move {
                run_job(state, job).await.expect("run");
            }
        })
        .await,
    );

    figures.extend(public_booking_figures(&state).await);

    println!("{:<78} {:>12} {:>12}", "operation (embedded store, in-process events)", "round trips", "µs / op");
    for figure in &figures {
        println!("{:<78} {:>12.2} {:>12.0}", figure.operation, figure.round_trips, figure.micros);
    }
    println!("\nIn-process event delivery adds the consumer's one transaction to each create and change.");
}

fn public_request(method: &str, template: &str, path: &str, query: &str, body: &[u8]) -> lambda_http::Request {
    use clinic_shared::routes::ROUTES;
    let route = ROUTES.iter().find(|route| route.method == method && route.path == template).expect("route");
    let parameters = HashMap::from([("clinicId".to_owned(), "demo".to_owned())]);
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, "application/json".parse().expect("header"));
    let event = clinic_shared::local::gateway::gateway_event(
        route,
        &method.parse().expect("method"),
        path,
        query,
        &headers,
        body,
        parameters,
        None,
        "198.51.100.7",
        jiff::Timestamp::now(),
    );
    lambda_http::request::from_str(&event.to_string()).expect("event")
}

/// Round trips of the public availability and booking routes, through their handlers.
async fn public_booking_figures(state: &AppState) -> Vec<Figure> {
    use clinic_shared::router::dispatch;
    use clinic_shared::routes::by_operation;
    let route = |id: &str| by_operation(id).expect("route");
    let catalog = dispatch(
        state,
        route("PublicCatalog"),
        public_request("GET", "/public/clinics/{clinicId}/catalog", "/public/clinics/demo/catalog", "", b""),
    )
    .await;
    let catalog: serde_json::Value = serde_json::from_slice(catalog.body().as_ref()).expect("catalog");
    let booking_type = catalog["booking_types"]
        .as_array()
        .expect("types")
        .iter()
        .find(|bt| bt["name"] == "GP consultation (15 minutes)")
        .expect("the demo GP type")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let query = format!("booking_type_id={booking_type}&provider_id=any&location_id=any");
    let mut figures = Vec::new();
    let slots = std::cell::RefCell::new(Vec::new());
    figures.push(
        measure(state, "availability, any provider, whole window (query public + 1 per provider)", |_| async {
            let response = dispatch(
                state,
                route("Availability"),
                public_request(
                    "GET",
                    "/public/clinics/{clinicId}/availability",
                    "/public/clinics/demo/availability",
                    &query,
                    b"",
                ),
            )
            .await;
            assert_eq!(response.status(), 200);
            let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).expect("slots");
            *slots.borrow_mut() = body["slots"].as_array().expect("slots").clone();
        })
        .await,
    );
    let slots = slots.into_inner();
    figures.push(
        measure(state, "book online, a free slot (query public + 1 transaction)", |round| {
            let slot = slots[round as usize].clone();
            let booking_type = booking_type.clone();
            async move {
                let body = serde_json::json!({
                    "booking_type_id": booking_type,
                    "provider_id": slot["provider_id"],
                    "location_id": slot["location_id"],
                    "starts_at": slot["starts_at"],
                    "advisory_accepted": true,
                    "patient": {"first_name": "Pat", "last_name": "Example", "date_of_birth": "1980-05-17", "mobile": "+447700900123", "email": "pat@example.com"}
                });
                let request = public_request("POST", "/public/clinics/{clinicId}/bookings", "/public/clinics/demo/bookings", "", body.to_string().as_bytes());
                let response = dispatch(state, route("CreateBooking"), request).await;
                assert_eq!(response.status(), 201, "{:?}", response.body());
            }
        })
        .await,
    );
    figures
}
