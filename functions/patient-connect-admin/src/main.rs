//! The `patient-connect-admin` Lambda: serves the routes `clinic_shared::routes::ROUTES` assigns to `patient-connect-admin`.

use clinic_shared::app::AppState;
use clinic_shared::lambda::{Error, run_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    clinic_shared::telemetry::init_lambda();
    let state = AppState::from_aws_env().await?;
    run_http(&state, "patient-connect-admin").await
}
