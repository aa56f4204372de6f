//! The `event-consumer` Lambda: the event bus delivers domain events here; it keeps each
//! clinic's daily activity counters and applies bookings to Patient Connect enrollments.

use std::sync::Arc;

use clinic_shared::app::AppState;
use clinic_shared::features::event_consumers;
use clinic_shared::lambda::{Error, run_event_consumer};

#[tokio::main]
async fn main() -> Result<(), Error> {
    clinic_shared::telemetry::init_lambda();
    let state = Arc::new(AppState::from_aws_env().await?);
    run_event_consumer(&event_consumers(&state)).await
}
