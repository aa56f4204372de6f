//! EventBridge Scheduler: one `at(...)` schedule per job in the product's schedule group,
//! targeting the runner Lambda, deleted after completion, failures to a dead-letter queue.

use async_trait::async_trait;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, Target,
};
use jiff::Timestamp;

use super::{ScheduleError, Scheduler, check_schedule_name};
use crate::domain::jobs::ScheduledJob;

/// Where schedules go and what they invoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerTargets {
    /// The schedule group.
    pub group: String,
    /// ARN of the runner Lambda.
    pub runner_arn: String,
    /// ARN of the role EventBridge Scheduler assumes to invoke it.
    pub role_arn: String,
    /// ARN of the SQS dead-letter queue.
    pub dead_letter_arn: String,
}

/// The AWS scheduler adapter.
pub struct AwsScheduler {
    client: aws_sdk_scheduler::Client,
    targets: SchedulerTargets,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
}

impl AwsScheduler {
    /// Builds the adapter from a client made at init, with the clock jobs are timed by.
    pub fn new(
        client: aws_sdk_scheduler::Client,
        targets: SchedulerTargets,
        clock: std::sync::Arc<dyn crate::clock::Clock>,
    ) -> Self {
        Self { client, targets, clock }
    }
}

/// How far ahead a job due now is set: EventBridge Scheduler fires one-time schedules with a
/// minute's precision and does not document accepting a time already past, so "now" (a
/// confirmation, a retry, a sweep) is asked for a minute ahead rather than risk a refusal.
pub const EARLIEST_AHEAD: jiff::SignedDuration = jiff::SignedDuration::from_mins(1);

/// The time to ask for: `at`, or a minute after `now` when `at` is sooner.
pub fn schedule_time(at: Timestamp, now: Timestamp) -> Timestamp {
    at.max(now.saturating_add(EARLIEST_AHEAD).unwrap_or(now))
}

/// The `at(...)` expression for a time, rounded up to the whole second so a job never fires early.
pub fn at_expression(at: Timestamp) -> String {
    let whole = if at.subsec_nanosecond() > 0 { Timestamp::from_second(at.as_second() + 1).unwrap_or(at) } else { at };
    format!("at({})", whole.strftime("%Y-%m-%dT%H:%M:%S"))
}

fn invalid(error: impl std::fmt::Display) -> ScheduleError {
    ScheduleError::Invalid(error.to_string())
}

#[async_trait]
impl Scheduler for AwsScheduler {
    async fn schedule_once(&self, at: Timestamp, job: &ScheduledJob) -> Result<(), ScheduleError> {
        check_schedule_name(&job.job_id)?;
        let payload = serde_json::to_string(job).map_err(invalid)?;
        let target = Target::builder()
            .arn(&self.targets.runner_arn)
            .role_arn(&self.targets.role_arn)
            .input(payload)
            .dead_letter_config(DeadLetterConfig::builder().arn(&self.targets.dead_letter_arn).build())
            .retry_policy(
                RetryPolicy::builder().maximum_retry_attempts(20).maximum_event_age_in_seconds(86_400).build(),
            )
            .build()
            .map_err(invalid)?;
        let window = FlexibleTimeWindow::builder().mode(FlexibleTimeWindowMode::Off).build().map_err(invalid)?;
        let result = self
            .client
            .create_schedule()
            .name(&job.job_id)
            .group_name(&self.targets.group)
            .schedule_expression(at_expression(schedule_time(at, self.clock.now())))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(window)
            .target(target)
            .action_after_completion(ActionAfterCompletion::Delete)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => {
                let service = error.into_service_error();
                if service.is_conflict_exception() {
                    return Ok(());
                }
                let detail = aws_sdk_scheduler::error::DisplayErrorContext(&service).to_string();
                Err(if service.is_validation_exception() {
                    ScheduleError::Invalid(detail)
                } else {
                    ScheduleError::Unavailable(detail)
                })
            }
        }
    }

    async fn cancel(&self, name: &str) -> Result<(), ScheduleError> {
        check_schedule_name(name)?;
        match self.client.delete_schedule().name(name).group_name(&self.targets.group).send().await {
            Ok(_) => Ok(()),
            Err(error) => {
                let service = error.into_service_error();
                if service.is_resource_not_found_exception() {
                    return Ok(());
                }
                Err(ScheduleError::Unavailable(aws_sdk_scheduler::error::DisplayErrorContext(&service).to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_due_now_are_asked_for_a_minute_ahead_and_later_ones_as_they_are() {
        let now: Timestamp = "2030-01-01T09:00:00Z".parse().unwrap();
        assert_eq!(schedule_time(now, now), "2030-01-01T09:01:00Z".parse().unwrap());
        let past: Timestamp = "2029-12-31T09:00:00Z".parse().unwrap();
        assert_eq!(schedule_time(past, now), "2030-01-01T09:01:00Z".parse().unwrap());
        let later: Timestamp = "2030-01-02T09:00:00Z".parse().unwrap();
        assert_eq!(schedule_time(later, now), later);
    }

    #[test]
    fn at_expressions_are_utc_and_never_early() {
        assert_eq!(at_expression("2030-01-01T09:00:00Z".parse().unwrap()), "at(2030-01-01T09:00:00)");
        assert_eq!(at_expression("2030-01-01T09:00:00.2Z".parse().unwrap()), "at(2030-01-01T09:00:01)");
    }
}
