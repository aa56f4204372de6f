//! The demo clinic seeded on first start, so the patient flow can be tried at once.

use crate::app::AppState;
use crate::domain::booking_type::NewBookingTypeInput;
use crate::domain::clinic::{ClinicId, ClinicProfileInput};
use crate::features::booking_types::changes;
use crate::features::clinics::save_profile;
use crate::store::{StoreError, keys};

/// The demo clinic's id.
pub const DEMO_CLINIC: &str = "demo";
const SEED_ACTOR: &str = "system";

/// Creates the demo clinic and its booking types, unless it exists already.
pub async fn seed_demo_clinic(state: &AppState) -> Result<(), StoreError> {
    let clinic = ClinicId::parse(DEMO_CLINIC).map_err(|error| StoreError::Corrupt(error.message))?;
    if state.store.get(&keys::clinic_profile(&clinic)).await?.is_some() {
        return Ok(());
    }
    let profile = ClinicProfileInput { name: "Riverside Family Practice".into(), time_zone: "Europe/London".into() };
    save_profile(state, &clinic, &profile, SEED_ACTOR)
        .await
        .map_err(|problem| StoreError::Unavailable(problem.detail))?;
    let booking_types = [
        ("GP15", "GP consultation (15 minutes)", 15, true),
        ("NURSE20", "Practice nurse appointment", 20, true),
        ("BLOODS", "Blood test", 10, true),
        ("TRAVEL", "Travel vaccination consultation", 30, false),
    ];
    for (short_name, long_name, duration_minutes, enabled_online) in booking_types {
        let input = NewBookingTypeInput {
            short_name: short_name.into(),
            long_name: long_name.into(),
            duration_minutes,
            enabled_online,
        };
        changes::create(state, &clinic, SEED_ACTOR, &input)
            .await
            .map_err(|error| StoreError::Unavailable(error.to_string()))?;
    }
    tracing::info!(clinic_id = DEMO_CLINIC, "demo clinic seeded");
    Ok(())
}
