//! Staff's side of the lifecycle: the clinic's settings (reminders, online changes), every
//! message about one appointment with its status, the messages flagged for staff, and a
//! patient's appointments (any channel, past and future).

use crate::features::catalog::names::CatalogNames;
use crate::http::request::check_if_match;
use crate::http::response::json_versioned;
use http::StatusCode;
use jiff::Timestamp;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use super::{PatientAppointmentEntry, QueueEntry, load_settings};
use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::appointment::AppointmentId;
use crate::domain::appointment_message::{
    AppointmentMessage, LifecycleSettings, LifecycleSettingsInput, MessageChannel, MessageKind, MessageStatus,
};
use crate::domain::clinic::ClinicId;
use crate::domain::message_template::{MessageTemplate, TemplateKind};
use crate::domain::patient::PatientReference;
use crate::domain::validation::FieldError;
use crate::features::audit_trail::{self, Change};
use crate::features::diary::appointments::{AppointmentView, clinic, view};
use crate::features::diary::booking;
use crate::http::Problem;
use crate::http::auth::authorize;
use crate::http::request::clinic_id;
use crate::http::request::{json_body, path_param};
use crate::http::response::json;
use crate::store::{Condition, Item, Query, StoreError, Write, keys, query_all};

/// The lifecycle settings as the admin API returns them.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LifecycleSettingsView {
    /// The settings.
    #[serde(flatten)]
    pub settings: LifecycleSettings,
    /// Version, bumped by each change (0: the defaults, never saved).
    pub version: u64,
}

/// `GET /admin/clinics/{clinicId}/appointment-settings`
#[tracing::instrument(skip_all)]
pub async fn get_settings(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    authorize(request, &clinic_id, Permission::CatalogRead)?;
    clinic(state, &clinic_id).await?;
    let (settings, version) = load_settings(state.store.as_ref(), &clinic_id).await?;
    json(StatusCode::OK, &LifecycleSettingsView { settings, version })
}

/// `PUT /admin/clinics/{clinicId}/appointment-settings`: absent fields stay as they are.
#[tracing::instrument(skip_all)]
pub async fn put_settings(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let actor = authorize(request, &clinic_id, Permission::ClinicWrite)?;
    let input: LifecycleSettingsInput = json_body(request)?;
    clinic(state, &clinic_id).await?;
    let (current, version) = load_settings(state.store.as_ref(), &clinic_id).await?;
    check_if_match(request, version)?;
    let next = current.apply(&input).map_err(Problem::invalid)?;
    check_templates(state, &clinic_id, &next).await?;
    let condition = if version == 0 { Condition::NotExists } else { Condition::VersionIs(version) };
    let now = state.clock.now();
    let writes = vec![
        Write::put(
            Item::from_record(keys::lifecycle_settings(&clinic_id), &next)?.with_version(version + 1),
            condition,
        ),
        audit_trail::record(
            &clinic_id,
            Change {
                actor: &actor.subject,
                action: "appointment_settings.saved",
                entity: format!("clinic/{clinic_id}/appointment-settings"),
                before_version: (version > 0).then_some(version),
                after_version: Some(version + 1),
            },
            now,
        )?,
    ];
    match state.store.transact(writes).await {
        Err(StoreError::ConditionFailed { index: 0 }) => {
            return Err(Problem::conflict("the settings changed while this request ran; try again"));
        }
        other => other?,
    }
    json_versioned(StatusCode::OK, &LifecycleSettingsView { settings: next, version: version + 1 }, version + 1)
}

/// Every reminder's template must exist in the clinic and be of the reminder's channel.
async fn check_templates(state: &AppState, clinic: &ClinicId, settings: &LifecycleSettings) -> Result<(), Problem> {
    let mut errors = Vec::new();
    for (index, rule) in settings.reminders.iter().enumerate() {
        let Some(id) = &rule.template_id else { continue };
        let field = format!("reminders[{index}].template_id");
        let template: Option<MessageTemplate> =
            state.store.get(&keys::connect_template(clinic, id)).await?.map(|item| item.record()).transpose()?;
        let wanted = match rule.channel {
            MessageChannel::Sms => TemplateKind::Sms,
            MessageChannel::Email => TemplateKind::Email,
        };
        match template {
            None => errors.push(FieldError::new(field, "names no template of this clinic")),
            Some(template) if template.archived_at.is_some() => {
                errors.push(FieldError::new(field, "names an archived template"));
            }
            Some(template) if template.kind != wanted => {
                errors.push(FieldError::new(field, "names a template of another kind than the reminder's channel"));
            }
            Some(_) => {}
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(Problem::invalid(errors)) }
}

/// One message about an appointment, as staff see it (no text: it held patient data when sent).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageView {
    /// Identifier.
    pub id: String,
    /// The appointment.
    pub appointment_id: String,
    /// Confirmation, rescheduled, cancelled or reminder.
    pub kind: MessageKind,
    /// SMS or email.
    pub channel: MessageChannel,
    /// The template that rendered it, e.g. `confirmation.sms`.
    pub template: String,
    /// Queued, sending, sent (with the provider's id), failed (with why), unknown or skipped.
    pub status: MessageStatus,
    /// Sends that failed for a passing reason.
    pub attempts: u32,
    /// When it is (or was) due.
    #[schema(value_type = String, format = DateTime)]
    pub due_at: Timestamp,
    /// When it was recorded.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When its status last changed.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<AppointmentMessage> for MessageView {
    fn from(message: AppointmentMessage) -> Self {
        Self {
            template: message.template(),
            id: message.id,
            appointment_id: message.appointment_id.as_str().to_owned(),
            kind: message.kind,
            channel: message.channel,
            status: message.status,
            attempts: message.attempts,
            due_at: message.due_at,
            created_at: message.created_at,
            updated_at: message.updated_at,
        }
    }
}

/// A list of messages.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageList {
    /// Oldest first.
    pub items: Vec<MessageView>,
}

/// `GET /admin/clinics/{clinicId}/appointments/{appointmentId}/messages`
#[tracing::instrument(skip_all)]
pub async fn appointment_messages(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let id = path_param(request, "appointmentId", |raw| AppointmentId::parse("appointmentId", raw))?;
    authorize(request, &clinic_id, Permission::DiaryRead)?;
    if booking::load(state.store.as_ref(), &clinic_id, &id).await?.is_none() {
        return Err(Problem::not_found("no such appointment in this clinic"));
    }
    json(StatusCode::OK, &MessageList { items: messages_of(state, &clinic_id, &id).await? })
}

/// `GET /admin/clinics/{clinicId}/message-flags`: messages that failed or whose fate is unknown,
/// newest first (at most 200).
#[tracing::instrument(skip_all)]
pub async fn flagged_messages(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    authorize(request, &clinic_id, Permission::DiaryRead)?;
    clinic(state, &clinic_id).await?;
    let flags = state
        .store
        .query(&Query::prefix(keys::message_flags_partition(&clinic_id), "").descending().limit(200))
        .await?;
    let mut items = Vec::new();
    for flag in flags.items {
        let entry: QueueEntry = flag.record()?;
        let key = keys::appointment_message(&clinic_id, &entry.appointment_id, &entry.message_id);
        if let Some(item) = state.store.get(&key).await? {
            items.push(MessageView::from(item.record::<AppointmentMessage>()?));
        }
    }
    json(StatusCode::OK, &MessageList { items })
}

/// One of a patient's appointments, with every message about it.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct PatientAppointment {
    /// The appointment.
    #[serde(flatten)]
    pub appointment: AppointmentView,
    /// Its messages, oldest first.
    pub messages: Vec<MessageView>,
}

/// A patient's appointments.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct PatientAppointments {
    /// Earliest first, any channel, past and future, cancelled included.
    pub items: Vec<PatientAppointment>,
}

async fn messages_of(state: &AppState, clinic: &ClinicId, id: &AppointmentId) -> Result<Vec<MessageView>, StoreError> {
    let query = Query::prefix(keys::appointment_partition(clinic, id.as_str()), keys::MESSAGE_PREFIX);
    query_all(state.store.as_ref(), query)
        .await?
        .iter()
        .map(|item| item.record::<AppointmentMessage>().map(MessageView::from))
        .collect()
}

/// `GET /admin/clinics/{clinicId}/patients/{patientReference}/appointments`
#[tracing::instrument(skip_all)]
pub async fn patient_appointments(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let reference = path_param(request, "patientReference", |raw| PatientReference::parse("patientReference", raw))?;
    authorize(request, &clinic_id, Permission::DiaryRead)?;
    let clinic = clinic(state, &clinic_id).await?;
    if state.store.get(&keys::patient(&clinic_id, reference.as_str())).await?.is_none() {
        return Err(Problem::not_found("no such patient in this clinic"));
    }
    let query = Query::prefix(keys::patient_appointments_partition(&clinic_id, reference.as_str()), "");
    let names = CatalogNames::load(state.store.as_ref(), &clinic_id).await?;
    let mut items = Vec::new();
    for entry in query_all(state.store.as_ref(), query).await? {
        let entry: PatientAppointmentEntry = entry.record()?;
        let id = AppointmentId::generated(entry.appointment_id);
        if let Some(stored) = booking::load(state.store.as_ref(), &clinic_id, &id).await?
            && stored.appointment.patient_reference.as_ref() == Some(&reference)
        {
            let messages = messages_of(state, &clinic_id, &id).await?;
            items.push(PatientAppointment {
                appointment: view(&stored.appointment, stored.version, &clinic, &names),
                messages,
            });
        }
    }
    items.sort_by_key(|item| item.appointment.starts_at);
    json(StatusCode::OK, &PatientAppointments { items })
}
