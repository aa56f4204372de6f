//! Bookings and Patient Connect: a booking of a qualifying type completes the current cycle of
//! each of the patient's enrollments (its remaining actions do not run), and a booking of a type
//! a Booking program lists enters the patient in that program, with the booking's date as the
//! reference date. Each event is applied once: a marker is written with the first change.

use std::sync::{Arc, Weak};

use async_trait::async_trait;

use super::enrollments::{Entry, new_enrollment};
use super::programs::all_programs;
use super::{Move, MoveError, Scope, load_enrollment, load_program, move_enrollment, outcome_write};
use crate::app::AppState;
use crate::domain::appointment::{Appointment, AppointmentStatus};
use crate::domain::clinic::{Clinic, ClinicId};
use crate::domain::enrollment::{ActionResult, Enrollment};
use crate::domain::events::{DomainEvent, Fact};
use crate::domain::patient_connect::{Position, ProgramType, after_booking};
use crate::events::{ConsumeError, EventConsumer};
use crate::store::{Condition, Item, Query, StoreError, Write, keys, query_all};

/// How long the marker that an event was applied is kept.
const MARKER_DAYS: i64 = 7;

/// The event consumer that applies bookings to enrollments.
pub struct ConnectBookingConsumer {
    state: Weak<AppState>,
}

impl ConnectBookingConsumer {
    /// A consumer over the application (held weakly: the state owns the event bus).
    pub fn new(state: &Arc<AppState>) -> Self {
        Self { state: Arc::downgrade(state) }
    }
}

fn retryable(error: impl std::fmt::Display) -> ConsumeError {
    ConsumeError::Retryable(error.to_string())
}

#[async_trait]
impl EventConsumer for ConnectBookingConsumer {
    async fn consume(&self, event: &DomainEvent) -> Result<(), ConsumeError> {
        let (Fact::AppointmentBooked { appointment_id, .. } | Fact::AppointmentAttached { appointment_id }) =
            &event.fact
        else {
            return Ok(());
        };
        let Some(state) = self.state.upgrade() else { return Err(retryable("the application is shutting down")) };
        apply_booking(&state, event, appointment_id.as_str()).await
    }
}

/// Applies one booking event (at most once per event id).
#[tracing::instrument(skip_all, fields(event_id = %event.id, appointment_id = %appointment_id))]
pub async fn apply_booking(state: &AppState, event: &DomainEvent, appointment_id: &str) -> Result<(), ConsumeError> {
    let clinic_id = &event.clinic_id;
    let marker_key = keys::processed_event(&format!("{}#connect", event.id));
    if state.store.get(&marker_key).await.map_err(retryable)?.is_some() {
        tracing::info!("booking already applied to enrollments");
        return Ok(());
    }
    let Some(item) = state.store.get(&keys::appointment(clinic_id, appointment_id)).await.map_err(retryable)? else {
        return Ok(());
    };
    let appointment: Appointment = item.record().map_err(retryable)?;
    if appointment.status != AppointmentStatus::Booked {
        return Ok(());
    }
    let clinic: Clinic = match state.store.get(&keys::clinic_profile(clinic_id)).await.map_err(retryable)? {
        Some(item) => item.record().map_err(retryable)?,
        None => return Ok(()),
    };
    let zone = clinic.time_zone.zone();
    let now = state.clock.now();
    if let Some(reference) = &appointment.patient_reference {
        let query = Query::prefix(keys::patient_enrollments_partition(clinic_id, reference.as_str()), "").on_gsi1();
        for item in query_all(state.store.as_ref(), query).await.map_err(retryable)? {
            let listed: Enrollment = item.record().map_err(retryable)?;
            complete_cycle(state, clinic_id, &zone, &appointment, &listed.id, now).await?;
        }
    }
    // Booking programs this booking type enters.
    for program in all_programs(state, clinic_id).await.map_err(retryable)? {
        let enters = program.program.enabled
            && program.program.program_type == ProgramType::Booking
            && program.program.entry_booking_type_ids.contains(&appointment.booking_type_id);
        if !enters {
            continue;
        }
        let reference_date = appointment.starts_at.to_zoned(zone.clone()).date();
        let id = deterministic_id(&event.id, &program.id);
        match new_enrollment(
            state,
            clinic_id,
            &zone,
            Entry {
                program: &program,
                id,
                patient_reference: appointment.patient_reference.clone(),
                appointment_id: Some(appointment.id.clone()),
                first_reference_date: reference_date,
                enrolled_by: "booking",
            },
            now,
        )
        .await
        {
            Ok(_) | Err(MoveError::Conflict) => {}
            Err(error) => return Err(retryable(error)),
        }
    }
    let expires = now.as_second() + MARKER_DAYS * 86_400;
    let marker =
        Item::from_record(marker_key, &serde_json::json!({"kind": "connect"})).map_err(retryable)?.with_expiry(expires);
    match state.store.write(Write::put(marker, Condition::NotExists)).await {
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(error) => Err(retryable(error)),
    }
}

/// The enrollment id a booking event makes in a program: the same on a repeated delivery, so
/// the enrollment is made once.
fn deterministic_id(event_id: &str, program_id: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(format!("{event_id}#{program_id}").as_bytes())[..16])
}

/// Completes the current cycle of one enrollment if the booking qualifies. Idempotent: the
/// outcome of the action the booking stopped is kept once, so a repeat cannot complete the
/// next cycle too.
async fn complete_cycle(
    state: &AppState,
    clinic: &ClinicId,
    zone: &jiff::tz::TimeZone,
    appointment: &Appointment,
    enrollment_id: &str,
    now: jiff::Timestamp,
) -> Result<(), ConsumeError> {
    for _ in 0..5 {
        let Some((enrollment, version)) = load_enrollment(state, clinic, enrollment_id).await.map_err(retryable)?
        else {
            return Ok(());
        };
        if enrollment.appointment_id.as_ref() == Some(&appointment.id)
            || enrollment.completed_by.contains(&appointment.id)
        {
            // The booking that entered the patient does not complete its own cycle, and a
            // booking completes at most one cycle however often it is delivered.
            return Ok(());
        }
        let Some(program) = load_program(state, clinic, &enrollment.program_id).await.map_err(retryable)? else {
            return Ok(());
        };
        let position = after_booking(&program.program, enrollment.position, &appointment.booking_type_id);
        if position == enrollment.position {
            return Ok(());
        }
        let mut writes = Vec::new();
        let stopped = match enrollment.position {
            Position::Due { cycle, action } | Position::Paused { cycle, action, .. } => Some((cycle, action)),
            Position::Finished => None,
        };
        let in_flight_here = enrollment.in_flight.is_some_and(|flight| Some((flight.cycle, flight.action)) == stopped);
        if let (Some((cycle, action)), false) = (stopped, in_flight_here) {
            let paused = matches!(enrollment.position, Position::Paused { .. });
            if !paused {
                writes.push(
                    outcome_write(
                        clinic,
                        &enrollment.id,
                        &program.program,
                        cycle,
                        action,
                        ActionResult::CompletedByBooking { appointment_id: appointment.id.clone() },
                        now,
                    )
                    .map_err(retryable)?,
                );
            }
            if matches!(enrollment.position, Position::Paused { flagged: true, .. }) {
                writes
                    .push(Write::Delete { key: keys::follow_up(clinic, &enrollment.id), condition: Condition::Always });
            }
        }
        let mut enrollment = enrollment;
        enrollment.completed_by.push(appointment.id.clone());
        let change = Move { position, retry: None, clear_in_flight: false, writes };
        let scope = Scope { state, clinic, zone, program: &program };
        match move_enrollment(&scope, &enrollment, version, change, now).await {
            Ok(_) => {
                tracing::info!(enrollment_id = %enrollment.id, "booking completed the cycle");
                return Ok(());
            }
            Err(MoveError::Conflict) => continue,
            Err(error) => return Err(retryable(error)),
        }
    }
    Err(retryable("the enrollment kept changing"))
}
