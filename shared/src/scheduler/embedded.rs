//! The embedded scheduler: schedules kept durably in the store, delivered by an in-process timer
//! to the same runner code the Lambda runs. Delivery is at least once: a schedule is removed only
//! after the runner succeeded, so a crash between the two delivers it again.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{JobError, JobRunner, ScheduleError, Scheduler, check_schedule_name};
use crate::clock::Clock;
use crate::domain::jobs::ScheduledJob;
use crate::store::keys::{self, sortable_time};
use crate::store::{Condition, Item, Key, Query, SortKeyRange, Store, StoreError, Write};

/// Failed deliveries of one schedule before it goes to the dead-letter list.
pub const MAX_ATTEMPTS: u32 = 5;
/// Partition of schedules that failed every attempt.
pub const DEAD_LETTER_PARTITION: &str = "SCHEDULE_DEAD_LETTER";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct DueSchedule {
    job: ScheduledJob,
    due_at: Timestamp,
    attempts: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ScheduleName {
    due_sk: String,
}

/// The embedded scheduler adapter.
pub struct EmbeddedScheduler {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

fn unavailable(error: StoreError) -> ScheduleError {
    ScheduleError::Unavailable(error.to_string())
}

impl EmbeddedScheduler {
    /// A scheduler kept in `store`, firing by `clock`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    fn writes_for(&self, due: &DueSchedule, name_condition: Condition) -> Result<Vec<Write>, StoreError> {
        let due_key = keys::due_schedule(due.due_at, &due.job.job_id);
        let name = ScheduleName { due_sk: due_key.sk.clone() };
        Ok(vec![
            Write::put(Item::from_record(keys::schedule_name(&due.job.job_id), &name)?, name_condition),
            Write::put(Item::from_record(due_key, due)?, Condition::Always),
        ])
    }

    /// Delivers every schedule due at the clock's current time; returns how many the runner
    /// completed. Call it from a timer.
    pub async fn deliver_due(&self, runner: &dyn JobRunner) -> Result<usize, ScheduleError> {
        let now = self.clock.now();
        let upper = format!("{}#~", sortable_time(now));
        let query = Query {
            range: SortKeyRange::Between(String::new(), upper),
            ..Query::prefix(keys::SCHEDULE_PARTITION, "").limit(100)
        };
        let page = self.store.query(&query).await.map_err(unavailable)?;
        let mut completed = 0;
        for item in page.items {
            let due: DueSchedule = item.record().map_err(unavailable)?;
            let name_key = keys::schedule_name(&due.job.job_id);
            let outcome = runner.run(due.job.clone()).await;
            let mut writes = vec![
                Write::Delete { key: item.key.clone(), condition: Condition::Exists },
                Write::Delete { key: name_key, condition: Condition::Always },
            ];
            match outcome {
                Ok(()) => completed += 1,
                Err(error) if matches!(error, JobError::Retryable(_)) && due.attempts + 1 < MAX_ATTEMPTS => {
                    tracing::warn!(job_id = %due.job.job_id, attempt = due.attempts + 1, %error, "scheduled job failed; retrying later");
                    let backoff = SignedDuration::from_secs(30 * i64::from(1 << due.attempts));
                    let retry = DueSchedule {
                        due_at: now.saturating_add(backoff).unwrap_or(now),
                        attempts: due.attempts + 1,
                        ..due
                    };
                    writes.truncate(1);
                    writes.extend(self.writes_for(&retry, Condition::Always).map_err(unavailable)?);
                }
                Err(error) => {
                    tracing::error!(job_id = %due.job.job_id, %error, "scheduled job failed for good; dead-lettered");
                    let dead = Item::from_record(Key::new(DEAD_LETTER_PARTITION, item.key.sk.clone()), &due)
                        .map_err(unavailable)?;
                    writes.push(Write::put(dead, Condition::Always));
                }
            }
            match self.store.transact(writes).await {
                Ok(()) | Err(StoreError::ConditionFailed { .. }) => {}
                Err(error) => return Err(unavailable(error)),
            }
        }
        Ok(completed)
    }

    /// Runs [`EmbeddedScheduler::deliver_due`] every `tick` until the task is dropped.
    pub async fn run_timer(self: Arc<Self>, runner: Arc<dyn JobRunner>, tick: Duration) {
        loop {
            if let Err(error) = self.deliver_due(runner.as_ref()).await {
                tracing::error!(%error, "embedded scheduler tick failed");
            }
            tokio::time::sleep(tick).await;
        }
    }
}

#[async_trait]
impl Scheduler for EmbeddedScheduler {
    async fn schedule_once(&self, at: Timestamp, job: &ScheduledJob) -> Result<(), ScheduleError> {
        check_schedule_name(&job.job_id)?;
        let due = DueSchedule { job: job.clone(), due_at: at, attempts: 0 };
        let writes = self.writes_for(&due, Condition::NotExists).map_err(unavailable)?;
        match self.store.transact(writes).await {
            Ok(()) | Err(StoreError::ConditionFailed { index: 0 }) => Ok(()),
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn cancel(&self, name: &str) -> Result<(), ScheduleError> {
        check_schedule_name(name)?;
        let name_key = keys::schedule_name(name);
        let Some(item) = self.store.get(&name_key).await.map_err(unavailable)? else { return Ok(()) };
        let record: ScheduleName = item.record().map_err(unavailable)?;
        let writes = vec![
            Write::Delete { key: name_key, condition: Condition::Always },
            Write::Delete { key: Key::new(keys::SCHEDULE_PARTITION, record.due_sk), condition: Condition::Always },
        ];
        self.store.transact(writes).await.map_err(unavailable)
    }
}
