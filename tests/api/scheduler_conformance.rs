//! The scheduler port: EventBridge Scheduler on moto (what the schedule holds) and the embedded
//! timer (when and how often it delivers).

use std::sync::Arc;
use std::sync::Mutex;

use async_trait::async_trait;
use clinic_shared::clock::Clock;
use clinic_shared::domain::booking_type::{BookingTypeChange, BookingTypeId};
use clinic_shared::domain::clinic::ClinicId;
use clinic_shared::domain::jobs::{JobTask, ScheduledJob};
use clinic_shared::scheduler::aws::{AwsScheduler, SchedulerTargets};
use clinic_shared::scheduler::embedded::{DEAD_LETTER_PARTITION, EmbeddedScheduler};
use clinic_shared::scheduler::{JobError, JobRunner, Scheduler};
use clinic_shared::store::{Query, query_all};
use clinic_tests::moto;
use jiff::{SignedDuration, Timestamp};

fn job(id: &str) -> ScheduledJob {
    ScheduledJob {
        job_id: id.to_owned(),
        clinic_id: ClinicId::parse("demo").unwrap(),
        task: JobTask::ApplyBookingTypeChange {
            booking_type_id: BookingTypeId::generated("0b7e6f8e-7a53-4d64-9a1b-5c4c8e0f4c11".into()),
            change: BookingTypeChange { enabled_online: Some(true), ..Default::default() },
        },
    }
}

#[tokio::test]
async fn an_eventbridge_schedule_holds_the_time_target_payload_and_delete_after_completion() {
    let config = moto::sdk_config().await;
    let client = aws_sdk_scheduler::Client::new(&config);
    let group = moto::unique("group");
    client.create_schedule_group().name(&group).send().await.unwrap();
    let targets = SchedulerTargets {
        group: group.clone(),
        runner_arn: "arn:aws:lambda:eu-west-2:123456789012:function:scheduled-runner".into(),
        role_arn: "arn:aws:iam::123456789012:role/scheduler-invoke".into(),
        dead_letter_arn: "arn:aws:sqs:eu-west-2:123456789012:scheduler-dlq".into(),
    };
    let scheduler = AwsScheduler::new(client.clone(), targets.clone(), clinic_tests::frozen_clock());
    let name = moto::unique("job");
    let at: Timestamp = "2030-01-01T09:00:00Z".parse().unwrap();
    scheduler.schedule_once(at, &job(&name)).await.unwrap();
    scheduler.schedule_once(at, &job(&name)).await.expect("scheduling the same job twice is not an error");
    let schedule = client.get_schedule().group_name(&group).name(&name).send().await.unwrap();
    assert_eq!(schedule.schedule_expression(), Some("at(2030-01-01T09:00:00)"));
    assert_eq!(schedule.schedule_expression_timezone(), Some("UTC"));
    assert_eq!(schedule.action_after_completion().map(|action| action.as_str()), Some("DELETE"));
    let target = schedule.target().unwrap();
    assert_eq!(target.arn(), targets.runner_arn);
    assert_eq!(target.role_arn(), targets.role_arn);
    assert_eq!(target.dead_letter_config().and_then(|dlq| dlq.arn()), Some(targets.dead_letter_arn.as_str()));
    let payload: ScheduledJob = serde_json::from_str(target.input().unwrap()).unwrap();
    assert_eq!(payload, job(&name));
    let listed = client.list_schedules().group_name(&group).send().await.unwrap();
    assert_eq!(listed.schedules().len(), 1);
    scheduler.cancel(&name).await.unwrap();
    scheduler.cancel(&name).await.expect("cancelling a gone schedule is not an error");
    assert!(client.get_schedule().group_name(&group).name(&name).send().await.is_err());
}

/// Records deliveries; fails the first `failures` of them.
#[derive(Default)]
struct RecordingRunner {
    delivered: Mutex<Vec<String>>,
    failures: Mutex<u32>,
    permanent: bool,
}

#[async_trait]
impl JobRunner for RecordingRunner {
    async fn run(&self, job: ScheduledJob) -> Result<(), JobError> {
        self.delivered.lock().unwrap().push(job.job_id);
        let mut failures = self.failures.lock().unwrap();
        if *failures > 0 {
            *failures -= 1;
            return Err(if self.permanent {
                JobError::Permanent("no".into())
            } else {
                JobError::Retryable("later".into())
            });
        }
        Ok(())
    }
}

fn embedded() -> (super::store_conformance::Subject, EmbeddedScheduler) {
    let subject = super::store_conformance::embedded();
    let scheduler = EmbeddedScheduler::new(subject.store.clone(), subject.clock.clone());
    (subject, scheduler)
}

#[tokio::test]
async fn the_embedded_timer_delivers_once_when_due_and_survives_repeats() {
    let (subject, scheduler) = embedded();
    let runner = RecordingRunner::default();
    let now = subject.clock.now();
    scheduler.schedule_once(now + SignedDuration::from_mins(10), &job("later")).await.unwrap();
    scheduler.schedule_once(now + SignedDuration::from_mins(5), &job("sooner")).await.unwrap();
    scheduler.schedule_once(now + SignedDuration::from_mins(5), &job("sooner")).await.unwrap();
    assert_eq!(scheduler.deliver_due(&runner).await.unwrap(), 0);
    subject.clock.advance(SignedDuration::from_mins(5));
    assert_eq!(scheduler.deliver_due(&runner).await.unwrap(), 1);
    subject.clock.advance(SignedDuration::from_mins(60));
    assert_eq!(scheduler.deliver_due(&runner).await.unwrap(), 1);
    assert_eq!(scheduler.deliver_due(&runner).await.unwrap(), 0);
    assert_eq!(*runner.delivered.lock().unwrap(), ["sooner", "later"]);
}

#[tokio::test]
async fn a_cancelled_schedule_never_fires() {
    let (subject, scheduler) = embedded();
    let runner = RecordingRunner::default();
    scheduler.schedule_once(subject.clock.now() + SignedDuration::from_mins(1), &job("cancelled")).await.unwrap();
    scheduler.cancel("cancelled").await.unwrap();
    subject.clock.advance(SignedDuration::from_mins(2));
    assert_eq!(scheduler.deliver_due(&runner).await.unwrap(), 0);
    assert!(runner.delivered.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_failed_delivery_is_retried_with_backoff() {
    let (subject, scheduler) = embedded();
    let runner = RecordingRunner { failures: Mutex::new(1), ..Default::default() };
    scheduler.schedule_once(subject.clock.now(), &job("flaky")).await.unwrap();
    assert_eq!(scheduler.deliver_due(&runner).await.unwrap(), 0);
    assert_eq!(scheduler.deliver_due(&runner).await.unwrap(), 0, "retried before its backoff");
    subject.clock.advance(SignedDuration::from_secs(31));
    assert_eq!(scheduler.deliver_due(&runner).await.unwrap(), 1);
    assert_eq!(runner.delivered.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_permanently_failing_job_is_dead_lettered() {
    let (subject, scheduler) = embedded();
    let runner = RecordingRunner { failures: Mutex::new(1), permanent: true, ..Default::default() };
    scheduler.schedule_once(subject.clock.now(), &job("broken")).await.unwrap();
    assert_eq!(scheduler.deliver_due(&runner).await.unwrap(), 0);
    subject.clock.advance(SignedDuration::from_hours(1));
    assert_eq!(scheduler.deliver_due(&runner).await.unwrap(), 0);
    let dead = query_all(subject.store.as_ref(), Query::prefix(DEAD_LETTER_PARTITION, "")).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(runner.delivered.lock().unwrap().len(), 1);
    let _ = Arc::clone(&subject.store);
}
