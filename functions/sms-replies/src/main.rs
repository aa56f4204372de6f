//! The `sms-replies` Lambda: two-way SMS publishes inbound messages to an SNS topic that
//! delivers here; replies to Patient Connect SMS that save reply content are kept.

use clinic_shared::app::AppState;
use clinic_shared::lambda::{Error, run_sms_replies};

#[tokio::main]
async fn main() -> Result<(), Error> {
    clinic_shared::telemetry::init_lambda();
    let state = AppState::from_aws_env().await?;
    run_sms_replies(&state).await
}
