//! Lambda entry points: each function's `main` builds the state once and runs one of these.

use serde_json::Value;

use crate::app::AppState;
use crate::domain::events::DomainEvent;
use crate::events::EventConsumer;
use crate::features::runner::{Outcome, run_job};

/// Any error a Lambda entry point returns.
pub type Error = lambda_runtime::Error;

/// Serves the HTTP routes of `function` (a folder under `functions/`).
pub async fn run_http(state: &AppState, function: &'static str) -> Result<(), Error> {
    lambda_http::run(lambda_http::service_fn(move |request| async move {
        Ok::<_, std::convert::Infallible>(crate::router::handle(state, function, request).await)
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
    consumer: &dyn EventConsumer,
    event: aws_lambda_events::eventbridge::EventBridgeEvent<DomainEvent>,
) -> Result<(), Error> {
    consumer.consume(&event.detail).await.map_err(Error::from)
}

/// Serves EventBridge deliveries of domain events.
pub async fn run_event_consumer(consumer: &dyn EventConsumer) -> Result<(), Error> {
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<aws_lambda_events::eventbridge::EventBridgeEvent<DomainEvent>>| {
            handle_domain_event(consumer, event.payload)
        },
    ))
    .await
}

/// Handles one SNS delivery of inbound SMS (two-way SMS). A record that is not an inbound SMS
/// is dropped with its error kind only (its text may hold patient data); a store failure is an
/// error, so SNS delivers again (replies are kept once per inbound message id).
pub async fn handle_inbound_sms(state: &AppState, event: aws_lambda_events::sns::SnsEvent) -> Result<(), Error> {
    use crate::features::patient_connect::replies::{InboundSms, keep_reply};
    for record in event.records {
        match serde_json::from_str::<InboundSms>(&record.sns.message) {
            Ok(inbound) => {
                keep_reply(state, &inbound).await.map_err(|error| Error::from(error.to_string()))?;
            }
            Err(error) => {
                tracing::error!(kind = ?error.classify(), line = error.line(), "SNS record is not an inbound SMS; dropped");
            }
        }
    }
    Ok(())
}

/// Serves SNS deliveries of inbound SMS.
pub async fn run_sms_replies(state: &AppState) -> Result<(), Error> {
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<aws_lambda_events::sns::SnsEvent>| {
            handle_inbound_sms(state, event.payload)
        },
    ))
    .await
}
