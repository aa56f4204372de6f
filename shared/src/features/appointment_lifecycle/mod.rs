//! One lifecycle for every appointment, whatever channel booked it (online, portal, booking
//! link, partner, staff): a confirmation by SMS and email (with a calendar invite), a manage
//! link to reschedule or cancel, reminders before the appointment, the patient's record, and no
//! patient booked twice at once.
//!
//! - `mod.rs`: what a booking, move or cancellation adds to its own transaction ([`Plan`]): the
//!   queued messages, the one live reminder, the patient's claims; and what happens after the
//!   commit ([`dispatch`]): the schedules that deliver them.
//! - `delivery`: the runner's side: claim, send, record (at most once per message, retried with
//!   backoff, failures flagged for staff), the next reminder, and the sweeper for messages whose
//!   schedule was lost.
//! - `manage_access`: manage tokens (hash only) and the date-of-birth check with its lock.
//! - `manage_pages`: `/manage/{token}`: see, reschedule, cancel.
//! - `admin`: the settings, an appointment's messages and the flagged ones, a patient's
//!   appointments.

pub mod admin;
pub mod delivery;
pub mod manage_access;
pub mod manage_pages;

use std::collections::BTreeSet;

use jiff::Timestamp;

use crate::app::AppState;
use crate::domain::appointment::{Appointment, AppointmentStatus, NextReminder};
use crate::domain::appointment_message::MessageStatus;
use crate::domain::appointment_message::{AppointmentMessage, LifecycleSettings, MessageChannel, MessageKind};
use crate::domain::clinic::ClinicId;
use crate::domain::jobs::{JobTask, ScheduledJob};
use crate::store::{Condition, Item, Key, Store, StoreError, Write, keys};

/// Reads a clinic's lifecycle settings (the defaults until an admin saves some) and their
/// version (0 before the first save).
pub async fn load_settings(store: &dyn Store, clinic: &ClinicId) -> Result<(LifecycleSettings, u64), StoreError> {
    match store.get(&keys::lifecycle_settings(clinic)).await? {
        Some(item) => Ok((item.record()?, item.version)),
        None => Ok((LifecycleSettings::default(), 0)),
    }
}

/// What a change to an appointment adds to its own transaction, and what follows the commit.
#[derive(Debug, Default)]
pub struct Plan {
    /// Writes for the same transaction as the appointment.
    pub writes: Vec<Write>,
    /// Indexes into `writes` whose condition failing means the patient is already booked then.
    pub patient_claims: std::ops::Range<usize>,
    /// Jobs to schedule after the commit.
    pub schedule: Vec<(Timestamp, ScheduledJob)>,
    /// Schedules to remove after the commit (a reminder the change made obsolete).
    pub cancel: Vec<String>,
    /// Messages to record as skipped after the commit (that reminder), unless already claimed.
    pub skip: Vec<Key>,
}

/// The schedule name of one delivery of a message: attempt 0 is the first.
pub fn message_job(clinic: &ClinicId, message: &AppointmentMessage, attempt: u32) -> ScheduledJob {
    let job_id = if attempt == 0 { format!("msg-{}", message.id) } else { format!("msg-{}-{attempt}", message.id) };
    ScheduledJob {
        job_id,
        clinic_id: clinic.clone(),
        task: JobTask::SendAppointmentMessage {
            appointment_id: message.appointment_id.as_str().to_owned(),
            message_id: message.id.clone(),
        },
    }
}

/// The writes that queue `message`: its record, and its place in the queue the sweeper reads.
pub fn queue_writes(clinic: &ClinicId, message: &AppointmentMessage) -> Result<Vec<Write>, StoreError> {
    let key = keys::appointment_message(clinic, message.appointment_id.as_str(), &message.id);
    let entry = QueueEntry {
        clinic_id: clinic.clone(),
        appointment_id: message.appointment_id.as_str().to_owned(),
        message_id: message.id.clone(),
    };
    Ok(vec![
        Write::put(Item::from_record(key, message)?.with_version(1), Condition::NotExists),
        Write::put(Item::from_record(keys::message_queue(message.due_at, &message.id), &entry)?, Condition::Always),
    ])
}

/// A queued message's entry in the sweeper's queue.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct QueueEntry {
    /// The clinic.
    pub clinic_id: ClinicId,
    /// The appointment.
    pub appointment_id: String,
    /// The message.
    pub message_id: String,
}

impl Plan {
    fn queue(&mut self, clinic: &ClinicId, message: AppointmentMessage) -> Result<(), StoreError> {
        self.writes.extend(queue_writes(clinic, &message)?);
        self.schedule.push((message.due_at, message_job(clinic, &message, 0)));
        Ok(())
    }

    /// Queues `kind` on every channel the patient can be reached by.
    fn tell(
        &mut self,
        clinic: &ClinicId,
        appointment: &Appointment,
        kind: MessageKind,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if !appointment.lifecycle.notify {
            return Ok(());
        }
        for channel in reachable(appointment) {
            let message = AppointmentMessage::queued(
                appointment.id.clone(),
                kind,
                channel,
                appointment.lifecycle.sequence,
                now,
                now,
            );
            self.queue(clinic, message)?;
        }
        Ok(())
    }

    /// Queues the first reminder still ahead and records it on `appointment`.
    fn remind(
        &mut self,
        clinic: &ClinicId,
        appointment: &mut Appointment,
        settings: &LifecycleSettings,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        appointment.lifecycle.next_reminder = None;
        if !appointment.lifecycle.notify || appointment.status != AppointmentStatus::Booked {
            return Ok(());
        }
        if let Some(message) = reminder(appointment, settings, now, 0) {
            self.queue(clinic, message.clone())?;
            appointment.lifecycle.next_reminder = Some(NextReminder {
                message_id: message.id,
                index: message.reminder_index.unwrap_or_default(),
                due_at: message.due_at,
            });
        }
        Ok(())
    }

    /// Drops the reminder `appointment` waited for: its schedule goes after the commit and its
    /// queue entry now; a delivery that still arrives finds it no longer awaited and skips it.
    fn forget_reminder(&mut self, clinic: &ClinicId, appointment: &Appointment) {
        if let Some(reminder) = &appointment.lifecycle.next_reminder {
            self.skip.push(keys::appointment_message(clinic, appointment.id.as_str(), &reminder.message_id));
            self.writes.push(Write::Delete {
                key: keys::message_queue(reminder.due_at, &reminder.message_id),
                condition: Condition::Always,
            });
            self.cancel.push(format!("msg-{}", reminder.message_id));
        }
    }
}

/// The channels the patient can be reached by.
fn reachable(appointment: &Appointment) -> Vec<MessageChannel> {
    let patient = &appointment.patient;
    let mut channels = Vec::new();
    if patient.mobile.is_some() {
        channels.push(MessageChannel::Sms);
    }
    if patient.email.is_some() {
        channels.push(MessageChannel::Email);
    }
    channels
}

/// The reminder of rule `from` or later still ahead of `appointment`, queued on the rule's
/// channel, or on the other when the patient gave only that one.
pub fn reminder(
    appointment: &Appointment,
    settings: &LifecycleSettings,
    now: Timestamp,
    from: usize,
) -> Option<AppointmentMessage> {
    let (index, due_at) = settings.next_reminder(appointment.starts_at, now, from)?;
    let rule = &settings.reminders[usize::from(index)];
    let channels = reachable(appointment);
    let channel = if channels.contains(&rule.channel) { rule.channel } else { *channels.first()? };
    let mut message = AppointmentMessage::queued(
        appointment.id.clone(),
        MessageKind::Reminder,
        channel,
        appointment.lifecycle.sequence,
        due_at,
        now,
    );
    message.reminder_index = Some(index);
    Some(message)
}

/// The patient claims of a live appointment: one per five-minute unit, under its patient record.
fn patient_units(appointment: &Appointment) -> Option<(&str, BTreeSet<i64>)> {
    let reference = appointment.patient_reference.as_ref()?;
    let units =
        if appointment.status == AppointmentStatus::Booked { appointment.units().collect() } else { BTreeSet::new() };
    Some((reference.as_str(), units))
}

#[derive(serde::Serialize)]
struct PatientClaim<'a> {
    appointment_id: &'a str,
}

#[derive(serde::Serialize, serde::Deserialize)]
/// A patient's appointment, as their record lists it.
pub struct PatientAppointmentEntry {
    /// The appointment.
    pub appointment_id: String,
}

fn claim_patient_units(
    plan: &mut Plan,
    clinic: &ClinicId,
    appointment: &Appointment,
    release: Option<(&str, BTreeSet<i64>)>,
) -> Result<(), StoreError> {
    let wanted = patient_units(appointment);
    type Units = Vec<(String, i64)>;
    let (release_units, claim_units): (Units, Units) = match (&release, &wanted) {
        (Some((old, held)), Some((new, want))) if old == new => (
            held.difference(want).map(|unit| ((*old).to_owned(), *unit)).collect(),
            want.difference(held).map(|unit| ((*new).to_owned(), *unit)).collect(),
        ),
        _ => (
            release.iter().flat_map(|(old, held)| held.iter().map(|unit| ((*old).to_owned(), *unit))).collect(),
            wanted.iter().flat_map(|(new, want)| want.iter().map(|unit| ((*new).to_owned(), *unit))).collect(),
        ),
    };
    for (reference, unit) in release_units {
        plan.writes
            .push(Write::Delete { key: keys::patient_claim(clinic, &reference, unit), condition: Condition::Always });
    }
    let start = plan.writes.len();
    for (reference, unit) in claim_units {
        let claim = PatientClaim { appointment_id: appointment.id.as_str() };
        plan.writes.push(Write::put(
            Item::from_record(keys::patient_claim(clinic, &reference, unit), &claim)?,
            Condition::NotExists,
        ));
    }
    plan.patient_claims = start..plan.writes.len();
    if let Some((reference, _)) = &wanted {
        let entry = PatientAppointmentEntry { appointment_id: appointment.id.as_str().to_owned() };
        plan.writes.push(Write::put(
            Item::from_record(keys::patient_appointment(clinic, reference, appointment.id.as_str()), &entry)?,
            Condition::Always,
        ));
    }
    Ok(())
}

/// What a new booking adds to its transaction: the patient's claims and record entry, the
/// confirmation on each channel, and the first reminder (recorded on `appointment`).
pub fn on_booked(
    clinic: &ClinicId,
    appointment: &mut Appointment,
    settings: &LifecycleSettings,
    now: Timestamp,
) -> Result<Plan, StoreError> {
    let mut plan = Plan::default();
    claim_patient_units(&mut plan, clinic, appointment, None)?;
    plan.tell(clinic, appointment, MessageKind::Confirmation, now)?;
    plan.remind(clinic, appointment, settings, now)?;
    Ok(plan)
}

/// What a change of `current` into `next` adds to its transaction: the patient's claims moved
/// or released, the sequence grown, the cancellation or change told, and the reminder replaced.
pub fn on_rewritten(
    clinic: &ClinicId,
    current: &Appointment,
    next: &mut Appointment,
    actor: &str,
    settings: &LifecycleSettings,
    now: Timestamp,
) -> Result<Plan, StoreError> {
    let mut plan = Plan::default();
    claim_patient_units(&mut plan, clinic, next, patient_units(current))?;
    let was_live = current.status == AppointmentStatus::Booked;
    let cancelled = was_live && next.status == AppointmentStatus::Cancelled;
    let ended = was_live && next.status != AppointmentStatus::Booked;
    let moved = next.status == AppointmentStatus::Booked
        && (next.starts_at != current.starts_at
            || next.provider_id != current.provider_id
            || next.location_id != current.location_id);
    if ended || moved {
        next.lifecycle.sequence = current.lifecycle.sequence + 1;
        plan.forget_reminder(clinic, current);
        next.lifecycle.next_reminder = None;
    }
    if cancelled || moved {
        // The old time is free again: the waitlist may want it.
        plan.schedule.push((now, ScheduledJob::waitlist_scan(clinic, now)));
    }
    if cancelled {
        next.lifecycle.cancelled_by = Some(actor.to_owned());
        next.lifecycle.cancelled_at = Some(now);
        plan.tell(clinic, next, MessageKind::Cancelled, now)?;
    }
    if moved {
        plan.tell(clinic, next, MessageKind::Rescheduled, now)?;
        plan.remind(clinic, next, settings, now)?;
    }
    Ok(plan)
}

/// After the commit: removes the schedules the change made obsolete and schedules the queued
/// messages. A failure here loses nothing: the queued message waits in the queue, and the
/// sweeper schedules it again; a delivery of an obsolete schedule sends nothing.
pub async fn dispatch(state: &AppState, plan: Plan) {
    for name in &plan.cancel {
        if let Err(error) = state.scheduler.cancel(name).await {
            tracing::warn!(%error, schedule = %name, "obsolete reminder schedule not removed; its delivery will skip");
        }
    }
    for key in &plan.skip {
        if let Err(error) = skip_queued(state, key).await {
            tracing::warn!(%error, "obsolete reminder not marked skipped; its delivery will skip it");
        }
    }
    for (at, job) in &plan.schedule {
        if let Err(error) = state.scheduler.schedule_once(*at, job).await {
            tracing::error!(%error, job_id = %job.job_id, "message schedule not made; the sweeper will make it");
        }
    }
}

/// Records a still-queued message as skipped (a claimed one is left to its runner, which finds
/// the appointment no longer wants it).
async fn skip_queued(state: &AppState, key: &Key) -> Result<(), StoreError> {
    let Some(item) = state.store.get(key).await? else { return Ok(()) };
    let message: AppointmentMessage = item.record()?;
    if !message.status.is_queued() {
        return Ok(());
    }
    let reason = "the appointment was moved or cancelled".to_owned();
    let skipped =
        AppointmentMessage { status: MessageStatus::Skipped { reason }, updated_at: state.clock.now(), ..message };
    let write = Write::put(
        Item::from_record(key.clone(), &skipped)?.with_version(item.version + 1),
        Condition::VersionIs(item.version),
    );
    match state.store.write(write).await {
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(error) => Err(error),
    }
}
