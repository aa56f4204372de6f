//! One scheduled delivery of a Patient Connect action. Delivery is at least once; sending is at
//! most once: the runner first claims the action with a conditional write on the enrollment's
//! version, then sends, then records the outcome (once per cycle and action) and moves on. A
//! repeat, late or superseded payload finds the claim or the move and does nothing; a runner
//! lost between claim and record leaves a claim that the next delivery, after a lease, records
//! as "unknown" and flags for staff rather than risk sending twice.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Move, MoveError, Scope, load_enrollment, load_program, move_enrollment, outcome_write};
use crate::app::AppState;
use crate::domain::appointment::Appointment;
use crate::domain::clinic::{Clinic, ClinicId};
use crate::domain::contact::{EmailAddress, PhoneNumber};
use crate::domain::enrollment::{
    ActionResult, Delivery, Enrollment, InFlight, MAX_SEND_ATTEMPTS, NextRun, delivery, retry_at,
};
use crate::domain::letter::{Letter, LetterStatus, Recipient};
use crate::domain::letter_pdf::{LetterText, Letterhead, render_pdf};
use crate::domain::message_template::{MergeValues, MessageTemplate, TemplateKind};
use crate::domain::patient::PatientRecord;
use crate::domain::patient_connect::{
    ActionKind, Outcome as StepOutcome, Position, PrintOption, ProgramType, after_action,
};
use crate::domain::provider::Provider;
use crate::files::letters::letter_key;
use crate::messages::epost::EpostLetter;
use crate::messages::{Email, SendError, Sms};
use crate::scheduler::{JobError, JobOutcome as Outcome};
use crate::store::{Condition, Item, StoreError, Write, keys};

/// How often a delivery re-reads an enrollment that changed under it before giving up for now.
const ATTEMPTS: usize = 5;

/// What carrying out an action came to.
enum Carried {
    /// Done, with writes that go with its outcome (a letter, a reply route).
    Done(ActionResult, Vec<Write>),
    /// Failed for good.
    Failed(String),
    /// Failed for now (throttled, provider or storage unavailable).
    Transient(String),
}

/// A patient on the follow-up list.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FollowUp {
    /// The enrollment.
    pub enrollment_id: String,
    /// Its program.
    pub program_id: String,
    /// The patient's record, when there is one.
    pub patient_reference: Option<String>,
    /// The cycle.
    pub cycle: u16,
    /// The action that failed.
    pub action: u16,
    /// Why.
    pub reason: String,
    /// When.
    #[schema(value_type = String)]
    pub at: Timestamp,
}

/// Where replies from a mobile go.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplyRoute {
    /// The clinic.
    pub clinic_id: ClinicId,
    /// The enrollment whose SMS asked for replies.
    pub enrollment_id: String,
    /// Its cycle.
    pub cycle: u16,
    /// Its action.
    pub action: u16,
    /// When the SMS went.
    pub sent_at: Timestamp,
}

/// The hash a mobile's reply route is kept under (the number itself is not a key).
pub fn phone_hash(phone: &str) -> String {
    hex::encode(Sha256::digest(phone.as_bytes()))
}

fn follow_up_write(
    enrollment: &Enrollment,
    cycle: u16,
    action: u16,
    reason: &str,
    at: Timestamp,
    clinic: &ClinicId,
) -> Result<Write, StoreError> {
    let record = FollowUp {
        enrollment_id: enrollment.id.clone(),
        program_id: enrollment.program_id.clone(),
        patient_reference: enrollment.patient_reference.as_ref().map(|r| r.as_str().to_owned()),
        cycle,
        action,
        reason: reason.to_owned(),
        at,
    };
    Ok(Write::put(Item::from_record(keys::follow_up(clinic, &enrollment.id), &record)?, Condition::Always))
}

fn move_error(error: MoveError) -> JobError {
    match error {
        MoveError::Conflict => JobError::Retryable("the enrollment changed; will re-check".into()),
        MoveError::Store(error) => JobError::retryable(error),
        MoveError::Schedule(error) => JobError::retryable(error),
    }
}

/// Runs one delivery of action `cycle`/`action`/`attempt` of an enrollment.
#[tracing::instrument(skip(state), fields(enrollment_id = %enrollment_id))]
pub async fn run_action(
    state: &AppState,
    clinic_id: &ClinicId,
    enrollment_id: &str,
    (cycle, action, attempt): (u16, u16, u16),
) -> Result<Outcome, JobError> {
    let now = state.clock.now();
    for _ in 0..ATTEMPTS {
        let Some((enrollment, version)) =
            load_enrollment(state, clinic_id, enrollment_id).await.map_err(JobError::retryable)?
        else {
            tracing::warn!("no such enrollment; delivery ignored");
            return Ok(Outcome::Unknown);
        };
        let decision = delivery(&enrollment, cycle, action, attempt, now);
        if decision == Delivery::Stale {
            tracing::info!(cycle, action, attempt, "enrollment has moved on; repeated or superseded delivery ignored");
            return Ok(Outcome::AlreadyDone);
        }
        if decision == Delivery::Busy {
            return Err(JobError::Retryable("another delivery is carrying this action out".into()));
        }
        let Some(program) =
            load_program(state, clinic_id, &enrollment.program_id).await.map_err(JobError::retryable)?
        else {
            return Err(JobError::Permanent("the enrollment's program is gone".into()));
        };
        let clinic: Clinic = state
            .store
            .get(&keys::clinic_profile(clinic_id))
            .await
            .map_err(JobError::retryable)?
            .ok_or_else(|| JobError::Permanent("the clinic is gone".into()))?
            .record()
            .map_err(JobError::retryable)?;
        let zone = clinic.time_zone.zone();
        let scope = Scope { state, clinic: clinic_id, zone: &zone, program: &program };
        if decision == Delivery::Lost {
            let reason =
                "the sender stopped mid-send; it is not known whether the message went, so it was not sent again";
            tracing::error!(cycle, action, "in-flight action lost; flagged for follow-up");
            let writes = vec![
                outcome_write(
                    clinic_id,
                    &enrollment.id,
                    &program.program,
                    cycle,
                    action,
                    ActionResult::Unknown { reason: reason.into() },
                    now,
                )
                .map_err(JobError::retryable)?,
                follow_up_write(&enrollment, cycle, action, reason, now, clinic_id).map_err(JobError::retryable)?,
            ];
            let change = Move {
                position: Position::Paused { cycle, action, flagged: true },
                retry: None,
                clear_in_flight: true,
                writes,
            };
            match move_enrollment(&scope, &enrollment, version, change, now).await {
                Ok(_) => return Ok(Outcome::Ran),
                Err(MoveError::Conflict) => continue,
                Err(error) => return Err(move_error(error)),
            }
        }
        let claimed = Enrollment {
            in_flight: Some(InFlight { cycle, action, attempt, claimed_at: now }),
            updated_at: now,
            ..enrollment.clone()
        };
        let item = Item::from_record(keys::enrollment(clinic_id, &enrollment.id), &claimed)
            .map_err(JobError::retryable)?
            .with_gsi1(keys::patient_enrollment(
                clinic_id,
                &super::patient_index(&claimed),
                claimed.created_at,
                &claimed.id,
            ))
            .with_version(version + 1);
        match state.store.write(Write::put(item, Condition::VersionIs(version))).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(error) => return Err(JobError::retryable(error)),
        }
        let carried = carry_out(&scope, &clinic, &claimed, (cycle, action), now).await;
        return record(&scope, &claimed.id, (cycle, action, attempt), carried, now).await;
    }
    Err(JobError::Retryable("the enrollment kept changing; will re-check".into()))
}

/// Records what the claimed action came to, and moves the enrollment on.
async fn record(
    scope: &Scope<'_>,
    enrollment_id: &str,
    (cycle, action, attempt): (u16, u16, u16),
    carried: Carried,
    now: Timestamp,
) -> Result<Outcome, JobError> {
    let Scope { state, clinic: clinic_id, program, .. } = *scope;
    let carried = match carried {
        Carried::Transient(reason) if attempt + 1 >= MAX_SEND_ATTEMPTS => {
            Carried::Failed(format!("gave up after {MAX_SEND_ATTEMPTS} attempts: {reason}"))
        }
        other => other,
    };
    for _ in 0..ATTEMPTS {
        let Some((fresh, version)) =
            load_enrollment(state, clinic_id, enrollment_id).await.map_err(JobError::retryable)?
        else {
            return Ok(Outcome::Unknown);
        };
        let ours = fresh
            .in_flight
            .is_some_and(|flight| (flight.cycle, flight.action, flight.attempt) == (cycle, action, attempt));
        if !ours {
            tracing::warn!(cycle, action, "the claim was taken over before the outcome was recorded");
            return Ok(Outcome::AlreadyDone);
        }
        let still_due = fresh.position == (Position::Due { cycle, action });
        let mut writes = Vec::new();
        let (position, retry) = match &carried {
            Carried::Transient(reason) => {
                tracing::warn!(cycle, action, attempt, %reason, "transient failure; retrying with backoff");
                if still_due {
                    (fresh.position, Some(NextRun::new(&fresh.id, cycle, action, attempt + 1, retry_at(attempt, now))))
                } else {
                    (fresh.position, fresh.next.clone())
                }
            }
            Carried::Done(result, extra) => {
                writes.push(
                    outcome_write(clinic_id, &fresh.id, &program.program, cycle, action, result.clone(), now)
                        .map_err(JobError::retryable)?,
                );
                writes.extend(extra.iter().cloned());
                if still_due {
                    (after_action(&program.program, cycle, action, &StepOutcome::Done), None)
                } else {
                    (fresh.position, fresh.next.clone())
                }
            }
            Carried::Failed(reason) => {
                tracing::warn!(cycle, action, %reason, "action failed for good");
                writes.push(
                    outcome_write(
                        clinic_id,
                        &fresh.id,
                        &program.program,
                        cycle,
                        action,
                        ActionResult::Failed { reason: reason.clone() },
                        now,
                    )
                    .map_err(JobError::retryable)?,
                );
                if still_due {
                    let next = after_action(&program.program, cycle, action, &StepOutcome::Failed);
                    if matches!(next, Position::Paused { flagged: true, .. }) {
                        writes.push(
                            follow_up_write(&fresh, cycle, action, reason, now, clinic_id)
                                .map_err(JobError::retryable)?,
                        );
                    }
                    (next, None)
                } else {
                    (fresh.position, fresh.next.clone())
                }
            }
        };
        // A kept schedule (`retry` equal to the current one) is not made again.
        let change = Move { position, retry, clear_in_flight: true, writes };
        match move_enrollment(scope, &fresh, version, change, now).await {
            Ok(moved) => {
                tracing::info!(cycle, action, attempt, position = ?moved.position, "action recorded");
                return Ok(Outcome::Ran);
            }
            Err(MoveError::Conflict) => continue,
            // The message went: keep trying to record it rather than leave the claim to lapse
            // into "unknown" (which would pause the patient for staff).
            Err(error @ (MoveError::Schedule(_) | MoveError::Store(_))) => {
                tracing::warn!(%error, "could not record the outcome yet; trying again");
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                continue;
            }
        }
    }
    Err(JobError::Retryable("the outcome could not be recorded yet; will re-check".into()))
}

/// Who the action is about: contact details and merge values.
struct Subject {
    first_name: String,
    last_name: String,
    mobile: Option<PhoneNumber>,
    email: Option<EmailAddress>,
    postal_address: Option<String>,
    gp: Option<String>,
    provider_id: Option<String>,
    booking: Option<Timestamp>,
}

async fn subject(state: &AppState, clinic: &ClinicId, enrollment: &Enrollment) -> Result<Option<Subject>, StoreError> {
    let record: Option<PatientRecord> = match &enrollment.patient_reference {
        Some(reference) => {
            state.store.get(&keys::patient(clinic, reference.as_str())).await?.map(|item| item.record()).transpose()?
        }
        None => None,
    };
    let appointment: Option<Appointment> = match &enrollment.appointment_id {
        Some(id) => {
            state.store.get(&keys::appointment(clinic, id.as_str())).await?.map(|item| item.record()).transpose()?
        }
        None => None,
    };
    let (postal_address, gp) =
        record.as_ref().map(|r| (r.profile.postal_address.clone(), r.profile.gp.clone())).unwrap_or_default();
    Ok(match (appointment, record) {
        (Some(appointment), _) => Some(Subject {
            first_name: appointment.patient.first_name.clone(),
            last_name: appointment.patient.last_name.clone(),
            mobile: appointment.patient.mobile.clone(),
            email: appointment.patient.email.clone(),
            postal_address,
            gp,
            provider_id: Some(appointment.provider_id.as_str().to_owned()),
            booking: Some(appointment.starts_at),
        }),
        (None, Some(record)) => Some(Subject {
            first_name: record.details.first_name.clone(),
            last_name: record.details.last_name.clone(),
            mobile: record.details.mobile.clone(),
            email: record.details.email.clone(),
            postal_address,
            gp,
            provider_id: record.profile.registered_provider_id.as_ref().map(|id| id.as_str().to_owned()),
            booking: None,
        }),
        (None, None) => None,
    })
}

fn long_date(date: jiff::civil::Date) -> String {
    date.strftime("%A %-d %B %Y").to_string()
}

fn transient_or_failed(error: SendError) -> Carried {
    if error.is_transient() { Carried::Transient(error.to_string()) } else { Carried::Failed(error.to_string()) }
}

/// Carries out one action: renders its template for the patient and sends, files or posts it.
async fn carry_out(
    scope: &Scope<'_>,
    clinic: &Clinic,
    enrollment: &Enrollment,
    (cycle, action): (u16, u16),
    now: Timestamp,
) -> Carried {
    let Scope { state, clinic: clinic_id, zone, program } = *scope;
    let Some(step) = program.program.actions.get(usize::from(action)) else {
        return Carried::Failed("the program no longer has this action".into());
    };
    let template_id = match &step.kind {
        ActionKind::Pause => return Carried::Done(ActionResult::Paused, Vec::new()),
        ActionKind::Sms { template_id, .. }
        | ActionKind::Email { template_id }
        | ActionKind::LetterToPatient { template_id, .. }
        | ActionKind::LetterToGp { template_id, .. } => template_id,
    };
    let template: MessageTemplate = match state.store.get(&keys::connect_template(clinic_id, template_id)).await {
        Ok(Some(item)) => match item.record() {
            Ok(template) => template,
            Err(error) => return Carried::Failed(error.to_string()),
        },
        Ok(None) => return Carried::Failed(format!("template {template_id} no longer exists")),
        Err(error) => return Carried::Transient(error.to_string()),
    };
    let subject = match subject(state, clinic_id, enrollment).await {
        Ok(Some(subject)) => subject,
        Ok(None) => return Carried::Failed("the patient's record or booking no longer exists".into()),
        Err(error) => return Carried::Transient(error.to_string()),
    };
    let provider_name = match &subject.provider_id {
        Some(id) => match state.store.get(&keys::entry(clinic_id, keys::PROVIDER_PREFIX, id)).await {
            Ok(item) => item.and_then(|item| item.record::<Provider>().ok()).map(|p| p.name).unwrap_or_default(),
            Err(error) => return Carried::Transient(error.to_string()),
        },
        None => String::new(),
    };
    let reference = program.program.reference_date(enrollment.first_reference_date, cycle);
    let booking_local = subject.booking.map(|at| at.to_zoned(zone.clone()));
    let values = MergeValues {
        patient_first_name: subject.first_name.clone(),
        patient_last_name: subject.last_name.clone(),
        clinic_name: clinic.name.clone(),
        provider_name,
        booking_date: match (&booking_local, program.program.program_type, reference) {
            (Some(local), _, _) => long_date(local.date()),
            (None, ProgramType::Recall, Some(reference)) => long_date(reference),
            _ => String::new(),
        },
        booking_time: booking_local.map(|local| local.strftime("%H:%M").to_string()).unwrap_or_default(),
        program_name: program.program.name.clone(),
        reference_date: reference.map(long_date).unwrap_or_default(),
    };
    let rendered = template.render(&values);
    match (&step.kind, template.kind) {
        (ActionKind::Sms { save_reply_content, .. }, TemplateKind::Sms) => {
            let Some(mobile) = subject.mobile.clone() else {
                return Carried::Failed("the patient has no mobile number".into());
            };
            match state.messages.send_sms(&Sms { to: mobile.clone(), body: rendered.body }).await {
                Ok(sent) => {
                    let mut extra = Vec::new();
                    if *save_reply_content {
                        let route = ReplyRoute {
                            clinic_id: clinic_id.clone(),
                            enrollment_id: enrollment.id.clone(),
                            cycle,
                            action,
                            sent_at: now,
                        };
                        match Item::from_record(keys::sms_reply_route(&phone_hash(mobile.as_str())), &route) {
                            Ok(item) => extra.push(Write::put(item, Condition::Always)),
                            Err(error) => tracing::error!(%error, "reply route not kept"),
                        }
                    }
                    Carried::Done(ActionResult::Sent { message_id: sent.message_id }, extra)
                }
                Err(error) => transient_or_failed(error),
            }
        }
        (ActionKind::Email { .. }, TemplateKind::Email) => {
            let Some(to) = subject.email.clone() else {
                return Carried::Failed("the patient has no email address".into());
            };
            let email = Email { to, subject: rendered.subject, text: rendered.body, html: None, invite: None };
            match state.messages.send_email(&email).await {
                Ok(sent) => Carried::Done(ActionResult::Sent { message_id: sent.message_id }, Vec::new()),
                Err(error) => transient_or_failed(error),
            }
        }
        (ActionKind::LetterToPatient { print, .. } | ActionKind::LetterToGp { print, .. }, TemplateKind::Letter) => {
            let recipient =
                if matches!(step.kind, ActionKind::LetterToGp { .. }) { Recipient::Gp } else { Recipient::Patient };
            let address_text = match recipient {
                Recipient::Patient => subject
                    .postal_address
                    .as_ref()
                    .map(|address| format!("{} {}\n{address}", subject.first_name, subject.last_name)),
                Recipient::Gp => subject.gp.clone(),
            };
            if address_text.is_none() && *print != PrintOption::SaveFile {
                return Carried::Failed(match recipient {
                    Recipient::Patient => "the patient's record has no postal address".into(),
                    Recipient::Gp => "the patient's record names no GP".into(),
                });
            }
            let address: Vec<String> = address_text.unwrap_or_default().lines().map(str::to_owned).collect();
            let lang = clinic.letter_language();
            let date = crate::domain::appointment_message::long_date(now.to_zoned(zone.clone()).date(), lang);
            let clinic_address: Vec<String> =
                clinic.branding.address.as_deref().unwrap_or_default().lines().map(str::to_owned).collect();
            let french = lang == "fr";
            let logo = match crate::features::clinic_logo::load_logo(state.store.as_ref(), clinic_id).await {
                Ok(logo) => logo.and_then(|logo| logo.pdf_image()),
                Err(error) => return Carried::Transient(error.to_string()),
            };
            let pdf = render_pdf(&LetterText {
                letterhead: Letterhead {
                    name: &clinic.name,
                    address: &clinic_address,
                    phone: clinic.branding.phone.as_deref(),
                    logo: logo.as_ref(),
                },
                address: &address,
                date: &date,
                heading: &rendered.subject,
                body: &rendered.body,
                closing: if french { "Veuillez agréer nos salutations distinguées." } else { "Yours sincerely," },
                page_label: if french { "Page {n} sur {total}" } else { "Page {n} of {total}" },
                phone_label: if french { "Téléphone" } else { "Phone" },
            });
            let letter_id = format!("{}-{cycle}-{action}", enrollment.id);
            let file_key = letter_key(clinic_id, &letter_id);
            if let Err(error) = state.letters.save(&file_key, pdf).await {
                return Carried::Transient(error.to_string());
            }
            let status = match print {
                PrintOption::SaveFile => LetterStatus::Saved,
                PrintOption::Mail => LetterStatus::ToPost,
                PrintOption::Epost => {
                    let handed = EpostLetter {
                        letter_id: letter_id.clone(),
                        clinic_id: clinic_id.to_string(),
                        file_key: file_key.clone(),
                        address,
                    };
                    match state.epost.submit(&handed).await {
                        Ok(reference) => LetterStatus::SentToEpost { reference },
                        Err(error) => return transient_or_failed(error),
                    }
                }
            };
            let letter = Letter {
                id: letter_id.clone(),
                enrollment_id: enrollment.id.clone(),
                patient_reference: enrollment.patient_reference.as_ref().map(|r| r.as_str().to_owned()),
                recipient,
                print: *print,
                file_key,
                status,
                created_at: now,
            };
            let stored = Item::from_record(keys::letter(clinic_id, &letter_id), &letter).map(|item| {
                if letter.status == LetterStatus::ToPost {
                    item.with_gsi1(keys::letter_to_post(clinic_id, now, &letter_id))
                } else {
                    item
                }
            });
            match stored {
                Ok(item) => {
                    Carried::Done(ActionResult::Letter { letter_id }, vec![Write::put(item, Condition::Always)])
                }
                Err(error) => Carried::Failed(error.to_string()),
            }
        }
        _ => Carried::Failed(format!("template {template_id} is not of the kind this action sends")),
    }
}
