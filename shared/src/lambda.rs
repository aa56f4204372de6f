//! Lambda entry points: each function's `main` builds the state once and runs one of these.

use serde_json::Value;

use crate::app::AppState;
use crate::domain::events::DomainEvent;
use crate::events::EventConsumer;
use crate::features::activity::ActivityConsumer;
use crate::features::runner::{Outcome, run_job};

/// Any error a Lambda entry point returns.
pub type Error = lambda_runtime::Error;

/// Serves the HTTP routes of `function` (a folder under `functions/`).
pub async fn run_http(state: &AppState, function: &'static str) -> Result<(), Error> {
    lambda_http::run(lambda_http::service_fn(move |request| async move {
        Ok::<_, std::convert::Infallible>(crate::routes::handle(state, function, request).await)
    }))
    .await
}

/// Handles one scheduler delivery. A payload that is not a job, or a job that failed for good,
/// is an error, so EventBridge Scheduler retries and finally dead-letters it.
pub async fn handle_scheduled_payload(state: &AppState, payload: Value) -> Result<Value, Error> {
    let job = serde_json::from_value(payload).map_err(|error| {
        tracing::error!(%error, "scheduler payload is not a job");
        Error::from(format!("not a scheduled job: {error}"))
    })?;
    let outcome = run_job(state, &job).await?;
    let outcome = match outcome {
        Outcome::Ran => "ran",
        Outcome::AlreadyDone => "already_done",
        Outcome::Abandoned => "abandoned",
        Outcome::Unknown => "unknown_job",
    };
    Ok(serde_json::json!({"job_id": job.job_id, "outcome": outcome}))
}

/// Serves scheduler deliveries.
pub async fn run_scheduled_runner(state: &AppState) -> Result<(), Error> {
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<Value>| {
        handle_scheduled_payload(state, event.payload)
    }))
    .await
}

/// Handles one EventBridge delivery of a domain event.
pub async fn handle_domain_event(
    consumer: &ActivityConsumer,
    event: aws_lambda_events::eventbridge::EventBridgeEvent<DomainEvent>,
) -> Result<(), Error> {
    consumer.consume(&event.detail).await.map_err(Error::from)
}

/// Serves EventBridge deliveries of domain events.
pub async fn run_event_consumer(consumer: &ActivityConsumer) -> Result<(), Error> {
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<aws_lambda_events::eventbridge::EventBridgeEvent<DomainEvent>>| {
            handle_domain_event(consumer, event.payload)
        },
    ))
    .await
}
