//! The runner's side of appointment messages. Each delivery of a message's schedule:
//! 1. reads the message; only a queued one goes on (a repeat finds it claimed or done);
//! 2. skips it when the appointment no longer wants it (cancelled, moved, reminder replaced);
//! 3. claims it with a write conditional on its version, together with the manage token the
//!    message carries (only the token's hash is stored) and its removal from the queue;
//! 4. sends it, and records the outcome: sent with the provider's id; a passing failure queued
//!    again with backoff; a final failure flagged for staff;
//! 5. for a reminder, queues the next reminder on the appointment, conditional on its version.
//!
//! A claim older than [`CLAIM_LEASE`] found by a later delivery means a runner was lost
//! mid-send: the message is recorded as unknown and flagged, never sent twice.

use jiff::Timestamp;

use super::{QueueEntry, load_settings, message_job, queue_writes, reminder};
use crate::app::AppState;
use crate::domain::appointment::{Appointment, AppointmentStatus, NextReminder};
use crate::domain::appointment_message::{
    AppointmentMessage, CLAIM_LEASE, InviteMethod, InviteParts, MAX_SEND_ATTEMPTS, MessageChannel, MessageContext,
    MessageKind, MessageStatus, escape_html, invite, render, retry_delay,
};
use crate::domain::booking_link::LinkToken;
use crate::domain::booking_type::BookingType;
use crate::domain::clinic::{Clinic, ClinicId};
use crate::domain::location::Location;
use crate::domain::message_template::{MergeValues, MessageTemplate, TemplateKind};
use crate::domain::provider::Provider;
use crate::features::booking_links::tokens;
use crate::messages::{Email, Invite, SendError, Sms};
use crate::scheduler::{JobError, JobOutcome};
use crate::store::{Condition, Item, Key, Query, SortKeyRange, StoreError, Write, keys};

fn retryable(error: impl std::fmt::Display) -> JobError {
    JobError::retryable(error)
}

struct Loaded {
    message: AppointmentMessage,
    version: u64,
    key: Key,
}

async fn load_message(
    state: &AppState,
    clinic: &ClinicId,
    appointment_id: &str,
    message_id: &str,
) -> Result<Option<Loaded>, JobError> {
    let key = keys::appointment_message(clinic, appointment_id, message_id);
    let Some(item) = state.store.get(&key).await.map_err(retryable)? else { return Ok(None) };
    Ok(Some(Loaded { message: item.record().map_err(retryable)?, version: item.version, key }))
}

fn status_write(loaded: &Loaded, status: MessageStatus, now: Timestamp, bump: u64) -> Result<Write, StoreError> {
    let message = AppointmentMessage { status, updated_at: now, ..loaded.message.clone() };
    Ok(Write::put(
        Item::from_record(loaded.key.clone(), &message)?.with_version(loaded.version + bump),
        Condition::VersionIs(loaded.version + bump - 1),
    ))
}

fn flag_write(clinic: &ClinicId, message: &AppointmentMessage, now: Timestamp) -> Result<Write, StoreError> {
    let flag = QueueEntry {
        clinic_id: clinic.clone(),
        appointment_id: message.appointment_id.as_str().to_owned(),
        message_id: message.id.clone(),
    };
    Ok(Write::put(Item::from_record(keys::message_flag(clinic, now, &message.id), &flag)?, Condition::Always))
}

fn unqueue(message: &AppointmentMessage) -> Write {
    Write::Delete { key: keys::message_queue(message.due_at, &message.id), condition: Condition::Always }
}

/// Why a queued message is no longer wanted, if it is not.
fn obsolete(message: &AppointmentMessage, appointment: &Appointment) -> Option<&'static str> {
    if !appointment.lifecycle.notify {
        return Some("the patient is not to be told");
    }
    match message.kind {
        MessageKind::Reminder => {
            let awaited =
                appointment.lifecycle.next_reminder.as_ref().is_some_and(|next| next.message_id == message.id);
            if appointment.status != AppointmentStatus::Booked {
                Some("the appointment was cancelled")
            } else if !awaited || appointment.lifecycle.sequence != message.sequence {
                Some("the appointment changed; a new reminder replaces this one")
            } else {
                None
            }
        }
        MessageKind::Confirmation | MessageKind::Rescheduled if appointment.status != AppointmentStatus::Booked => {
            Some("the appointment was cancelled before this went")
        }
        _ => None,
    }
}

/// Runs one delivery of a message's schedule.
#[tracing::instrument(skip_all, fields(clinic_id = %clinic, appointment_id, message_id))]
pub async fn deliver(
    state: &AppState,
    clinic: &ClinicId,
    appointment_id: &str,
    message_id: &str,
) -> Result<JobOutcome, JobError> {
    let now = state.clock.now();
    let Some(loaded) = load_message(state, clinic, appointment_id, message_id).await? else {
        tracing::warn!("no record of this message; ignored");
        return Ok(JobOutcome::Unknown);
    };
    match &loaded.message.status {
        MessageStatus::Queued => {}
        MessageStatus::Sending { since } if now.duration_since(*since) >= CLAIM_LEASE => {
            tracing::error!("a runner was lost while sending this message; recorded as unknown, not sent again");
            let writes = vec![
                status_write(&loaded, MessageStatus::Unknown, now, 1).map_err(retryable)?,
                flag_write(clinic, &loaded.message, now).map_err(retryable)?,
                unqueue(&loaded.message),
            ];
            return match state.store.transact(writes).await {
                Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(JobOutcome::AlreadyDone),
                Err(error) => Err(retryable(error)),
            };
        }
        MessageStatus::Sending { .. } => {
            return Err(JobError::Retryable("another delivery is sending this message".into()));
        }
        _ => {
            tracing::info!("message already handled; repeated delivery ignored");
            return Ok(JobOutcome::AlreadyDone);
        }
    }
    if loaded.message.due_at > now {
        tracing::info!("delivered before its time; its own schedule will send it");
        return Ok(JobOutcome::AlreadyDone);
    }
    let Some(item) = state.store.get(&keys::appointment(clinic, appointment_id)).await.map_err(retryable)? else {
        return finish(
            state,
            clinic,
            &loaded,
            MessageStatus::Skipped { reason: "the appointment is gone".into() },
            now,
            1,
        )
        .await;
    };
    let appointment: Appointment = item.record().map_err(retryable)?;
    if let Some(reason) = obsolete(&loaded.message, &appointment) {
        return finish(state, clinic, &loaded, MessageStatus::Skipped { reason: reason.into() }, now, 1).await;
    }
    let recipient = match loaded.message.channel {
        MessageChannel::Sms => appointment.patient.mobile.as_ref().map(|mobile| mobile.as_str().to_owned()),
        MessageChannel::Email => appointment.patient.email.as_ref().map(|email| email.as_str().to_owned()),
    };
    if recipient.is_none() {
        let skipped = MessageStatus::Skipped { reason: "no contact detail for this channel".into() };
        return finish(state, clinic, &loaded, skipped, now, 1).await;
    }
    // The claim, with the manage token this message carries.
    let manage = if loaded.message.kind.has_manage_link() { Some(tokens::draw().map_err(retryable)?) } else { None };
    // The queue entry stays until the outcome is recorded, so a runner lost mid-send is found.
    let mut claim = vec![status_write(&loaded, MessageStatus::Sending { since: now }, now, 1).map_err(retryable)?];
    if let Some(token) = &manage {
        claim.push(super::manage_access::token_write(clinic, &appointment.id, token).map_err(retryable)?);
    }
    match state.store.transact(claim).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { .. }) => return Ok(JobOutcome::AlreadyDone),
        Err(error) => return Err(retryable(error)),
    }
    let claimed = Loaded { version: loaded.version + 1, ..loaded };
    let sent = send(state, clinic, &claimed.message, &appointment, manage.as_ref()).await;
    let status = match sent {
        Ok(sent) => MessageStatus::Sent { provider_message_id: sent.message_id },
        Err(error) if error.is_transient() && claimed.message.attempts + 1 < MAX_SEND_ATTEMPTS => {
            return retry_later(state, clinic, &claimed, &error, now).await;
        }
        Err(error) => {
            tracing::error!(%error, "message not sent; flagged for staff");
            MessageStatus::Failed { reason: error.to_string() }
        }
    };
    finish(state, clinic, &claimed, status, now, 1).await
}

/// Queues a message again after a passing failure, with backoff.
async fn retry_later(
    state: &AppState,
    clinic: &ClinicId,
    claimed: &Loaded,
    error: &SendError,
    now: Timestamp,
) -> Result<JobOutcome, JobError> {
    let attempts = claimed.message.attempts + 1;
    let due_at = now.saturating_add(retry_delay(attempts)).unwrap_or(now);
    tracing::warn!(%error, attempts, "message not sent; retrying later");
    let again = AppointmentMessage {
        status: MessageStatus::Queued,
        attempts,
        due_at,
        updated_at: now,
        ..claimed.message.clone()
    };
    let mut writes = vec![
        Write::put(
            Item::from_record(claimed.key.clone(), &again).map_err(retryable)?.with_version(claimed.version + 1),
            Condition::VersionIs(claimed.version),
        ),
        unqueue(&claimed.message),
    ];
    // The queue entry only (the record is replaced above).
    writes.extend(queue_writes(clinic, &again).map_err(retryable)?.into_iter().skip(1));
    state.store.transact(writes).await.map_err(retryable)?;
    if let Err(error) = state.scheduler.schedule_once(due_at, &message_job(clinic, &again, attempts)).await {
        tracing::error!(%error, "retry schedule not made; the sweeper will make it");
    }
    Ok(JobOutcome::Ran)
}

/// Records a final status (flagged when staff should look), and for a reminder queues the next.
/// Retried when the appointment changes meanwhile, so a sent message is never left claimed.
async fn finish(
    state: &AppState,
    clinic: &ClinicId,
    loaded: &Loaded,
    status: MessageStatus,
    now: Timestamp,
    bump: u64,
) -> Result<JobOutcome, JobError> {
    for _ in 0..8 {
        let mut writes =
            vec![status_write(loaded, status.clone(), now, bump).map_err(retryable)?, unqueue(&loaded.message)];
        if status.needs_staff() {
            writes.push(flag_write(clinic, &loaded.message, now).map_err(retryable)?);
        }
        // The next reminder follows whatever became of this one, if the appointment awaited it.
        let mut follow_up = None;
        if loaded.message.kind == MessageKind::Reminder {
            follow_up = next_reminder_writes(state, clinic, &loaded.message, now).await?;
            if let Some((more, _)) = &mut follow_up {
                writes.append(more);
            }
        }
        match state.store.transact(writes).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed { index: 0 }) => {
                tracing::info!("another delivery recorded this message first");
                return Ok(JobOutcome::AlreadyDone);
            }
            // The appointment changed between its read and this write: read it again.
            Err(StoreError::ConditionFailed { .. } | StoreError::Contention) => continue,
            Err(error) => return Err(retryable(error)),
        }
        if let Some((_, Some((at, job)))) = follow_up
            && let Err(error) = state.scheduler.schedule_once(at, &job).await
        {
            tracing::error!(%error, "next reminder schedule not made; the sweeper will make it");
        }
        tracing::info!(status = status_name(&status), kind = loaded.message.kind.name(), "appointment message handled");
        return Ok(JobOutcome::Ran);
    }
    Err(JobError::Retryable("the appointment kept changing while recording; will re-check".into()))
}

type FollowUp = (Vec<Write>, Option<(Timestamp, crate::domain::jobs::ScheduledJob)>);

/// The writes that make the next reminder the appointment's one live reminder (or none).
async fn next_reminder_writes(
    state: &AppState,
    clinic: &ClinicId,
    message: &AppointmentMessage,
    now: Timestamp,
) -> Result<Option<FollowUp>, JobError> {
    let Some(item) =
        state.store.get(&keys::appointment(clinic, message.appointment_id.as_str())).await.map_err(retryable)?
    else {
        return Ok(None);
    };
    let mut appointment: Appointment = item.record().map_err(retryable)?;
    let awaited = appointment.lifecycle.next_reminder.as_ref().is_some_and(|next| next.message_id == message.id);
    if !awaited {
        return Ok(None);
    }
    let (settings, _) = load_settings(state.store.as_ref(), clinic).await.map_err(retryable)?;
    let from = usize::from(message.reminder_index.unwrap_or_default()) + 1;
    let next = reminder(&appointment, &settings, now, from);
    appointment.lifecycle.next_reminder = next.as_ref().map(|next| NextReminder {
        message_id: next.id.clone(),
        index: next.reminder_index.unwrap_or_default(),
        due_at: next.due_at,
    });
    let mut writes = vec![Write::put(
        crate::features::diary::booking::appointment_item(clinic, &appointment, item.version + 1).map_err(retryable)?,
        Condition::VersionIs(item.version),
    )];
    let mut job = None;
    if let Some(next) = next {
        writes.extend(queue_writes(clinic, &next).map_err(retryable)?);
        job = Some((next.due_at, message_job(clinic, &next, 0)));
    }
    Ok(Some((writes, job)))
}

fn status_name(status: &MessageStatus) -> &'static str {
    match status {
        MessageStatus::Queued => "queued",
        MessageStatus::Sending { .. } => "sending",
        MessageStatus::Sent { .. } => "sent",
        MessageStatus::Failed { .. } => "failed",
        MessageStatus::Unknown => "unknown",
        MessageStatus::Skipped { .. } => "skipped",
    }
}

async fn entry<T: serde::de::DeserializeOwned>(state: &AppState, key: Key) -> Result<Option<T>, JobError> {
    match state.store.get(&key).await.map_err(retryable)? {
        Some(item) => Ok(Some(item.record().map_err(retryable)?)),
        None => Ok(None),
    }
}

/// Renders and sends one message.
async fn send(
    state: &AppState,
    clinic_id: &ClinicId,
    message: &AppointmentMessage,
    appointment: &Appointment,
    manage: Option<&LinkToken>,
) -> Result<crate::messages::Sent, SendError> {
    let unavailable = |error: JobError| SendError::Unavailable(error.to_string());
    let clinic: Clinic = entry(state, keys::clinic_profile(clinic_id))
        .await
        .map_err(unavailable)?
        .ok_or_else(|| SendError::Rejected("the clinic is gone".into()))?;
    let booking_type: Option<BookingType> =
        entry(state, keys::entry(clinic_id, keys::BOOKING_TYPE_PREFIX, appointment.booking_type_id.as_str()))
            .await
            .map_err(unavailable)?;
    let provider: Option<Provider> =
        entry(state, keys::entry(clinic_id, keys::PROVIDER_PREFIX, appointment.provider_id.as_str()))
            .await
            .map_err(unavailable)?;
    let location: Option<Location> =
        entry(state, keys::entry(clinic_id, keys::LOCATION_PREFIX, appointment.location_id.as_str()))
            .await
            .map_err(unavailable)?;
    let (settings, _) = load_settings(state.store.as_ref(), clinic_id)
        .await
        .map_err(|error| SendError::Unavailable(error.to_string()))?;
    let zone = clinic.time_zone.zone();
    let manage_url = manage.map(|token| format!("{}/manage/{}", state.settings.public_base_url, token.as_str()));
    let what = booking_type.map(|booking_type| booking_type.long_name).unwrap_or_default();
    let with_whom =
        provider.map(|provider| format!("{}, {}", provider.name, provider.professional_title)).unwrap_or_default();
    let (site, address, site_phone) = location
        .map(|location| (location.full_name, location.primary_address, location.booking_phone))
        .unwrap_or_default();
    let context = MessageContext {
        clinic: &clinic.name,
        clinic_phone: settings.phone.as_deref(),
        what: &what,
        with_whom: &with_whom,
        site: &site,
        address: &address,
        site_phone: site_phone.as_deref(),
        first_name: &appointment.patient.first_name,
        starts_at: appointment.starts_at,
        duration_minutes: appointment.duration_minutes,
        zone: &zone,
        lang: appointment.lifecycle.lang.as_deref().unwrap_or("en"),
        manage_url: manage_url.as_deref(),
    };
    let mut rendered = render(message.kind, &context);
    if let Some(template) = reminder_template(state, clinic_id, message, &settings).await {
        let local = appointment.starts_at.to_zoned(zone.clone());
        let values = MergeValues {
            patient_first_name: appointment.patient.first_name.clone(),
            patient_last_name: appointment.patient.last_name.clone(),
            clinic_name: clinic.name.clone(),
            provider_name: with_whom.clone(),
            booking_date: crate::domain::appointment_message::long_date(local.date(), context.lang),
            booking_time: local.strftime("%H:%M").to_string(),
            ..MergeValues::default()
        };
        let custom = template.render(&values);
        let manage_line = manage_url.as_deref().map(|url| format!("\n{url}")).unwrap_or_default();
        rendered.text = format!("{}{manage_line}", custom.body);
        rendered.html = format!("<p>{}</p>", escape_html(&rendered.text).replace('\n', "<br>"));
        if !custom.subject.is_empty() {
            rendered.subject = custom.subject;
        }
    }
    match message.channel {
        MessageChannel::Sms => {
            let to =
                appointment.patient.mobile.clone().ok_or_else(|| SendError::InvalidRecipient("no mobile".into()))?;
            state.messages.send_sms(&Sms { to, body: rendered.text }).await
        }
        MessageChannel::Email => {
            let method = match message.kind {
                MessageKind::Cancelled => Some(InviteMethod::Cancel),
                MessageKind::Confirmation | MessageKind::Rescheduled => Some(InviteMethod::Request),
                MessageKind::Reminder => None,
            };
            let invite = method.map(|method| Invite {
                method: method.name().to_owned(),
                ics: invite(
                    InviteParts {
                        appointment_id: &appointment.id,
                        sequence: appointment.lifecycle.sequence,
                        method,
                        organizer: state.messages.sender(),
                        stamp: state.clock.now(),
                    },
                    &context,
                ),
            });
            let to = appointment.patient.email.clone().ok_or_else(|| SendError::InvalidRecipient("no email".into()))?;
            let email = Email { to, subject: rendered.subject, text: rendered.text, html: Some(rendered.html), invite };
            state.messages.send_email(&email).await
        }
    }
}

/// The clinic's own template for a reminder, when its rule names one that still fits.
async fn reminder_template(
    state: &AppState,
    clinic: &ClinicId,
    message: &AppointmentMessage,
    settings: &crate::domain::appointment_message::LifecycleSettings,
) -> Option<MessageTemplate> {
    let index = usize::from(message.reminder_index?);
    let id = settings.reminders.get(index)?.template_id.as_ref()?;
    let template: MessageTemplate = state.store.get(&keys::connect_template(clinic, id)).await.ok()??.record().ok()?;
    let fits = matches!(
        (template.kind, message.channel),
        (TemplateKind::Sms, MessageChannel::Sms) | (TemplateKind::Email, MessageChannel::Email)
    );
    fits.then_some(template)
}

/// How long a queued message may wait past its time before the sweeper schedules it again.
pub const SWEEP_GRACE: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

/// Schedules again every queued message more than [`SWEEP_GRACE`] past its time (its schedule
/// was lost: the scheduler was down after the commit). Returns how many it found.
pub async fn sweep(state: &AppState) -> Result<usize, JobError> {
    let now = state.clock.now();
    let before = now.checked_sub(SWEEP_GRACE).unwrap_or(now);
    let mut found = 0;
    for shard in 0..keys::MESSAGE_QUEUE_SHARDS {
        let query = Query {
            range: SortKeyRange::Between(String::new(), keys::sortable_time(before)),
            ..Query::prefix(keys::message_queue_partition(shard), "").limit(100)
        };
        let page = state.store.query(&query).await.map_err(retryable)?;
        for item in page.items {
            let entry: QueueEntry = item.record().map_err(retryable)?;
            found += 1;
            let job = crate::domain::jobs::ScheduledJob {
                job_id: format!("msg-{}-s{}", entry.message_id, now.as_second() / 60),
                clinic_id: entry.clinic_id.clone(),
                task: crate::domain::jobs::JobTask::SendAppointmentMessage {
                    appointment_id: entry.appointment_id.clone(),
                    message_id: entry.message_id.clone(),
                },
            };
            state.scheduler.schedule_once(now, &job).await.map_err(retryable)?;
        }
    }
    if found > 0 {
        tracing::warn!(found, "queued messages past their time were scheduled again");
    }
    Ok(found)
}
