//! The `scheduled-runner` Lambda: EventBridge Scheduler delivers each job's JSON payload here.

use clinic_shared::app::AppState;
use clinic_shared::lambda::{Error, run_scheduled_runner};

#[tokio::main]
async fn main() -> Result<(), Error> {
    clinic_shared::telemetry::init_lambda();
    let state = AppState::from_aws_env().await?;
    run_scheduled_runner(&state).await
}
