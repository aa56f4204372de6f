//! What the simulations share: EventBridge Scheduler as a simulation sees it.

use std::collections::HashSet;
use std::sync::Mutex;

use async_trait::async_trait;
use clinic_shared::domain::jobs::ScheduledJob;
use clinic_shared::scheduler::{ScheduleError, Scheduler};
use jiff::Timestamp;

/// Every schedule made (once per name, as EventBridge Scheduler refuses a second), in order, and
/// every name removed; the simulation delivers them itself.
#[derive(Default)]
pub struct SimScheduler {
    /// Schedules made, oldest first.
    pub made: Mutex<Vec<(Timestamp, ScheduledJob)>>,
    /// Names made.
    pub names: Mutex<HashSet<String>>,
    /// Names removed.
    pub cancelled: Mutex<HashSet<String>>,
}

#[async_trait]
impl Scheduler for SimScheduler {
    async fn schedule_once(&self, at: Timestamp, job: &ScheduledJob) -> Result<(), ScheduleError> {
        if self.names.lock().unwrap().insert(job.job_id.clone()) {
            self.made.lock().unwrap().push((at, job.clone()));
        }
        Ok(())
    }

    async fn cancel(&self, name: &str) -> Result<(), ScheduleError> {
        self.cancelled.lock().unwrap().insert(name.to_owned());
        Ok(())
    }
}
