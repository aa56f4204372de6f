//! Enrollments: staff assign a patient to a program with its reference date, see every
//! enrollment per patient and per program (each action's outcome and what is due next), work
//! the follow-up list, and advance an enrollment waiting at a pause.

use std::collections::HashMap;

use http::StatusCode;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use super::programs::parse_id;
use super::replies::SmsReply;
use super::runner::FollowUp;
use super::{
    Move, MoveError, Scope, StoredProgram, job_for, load_enrollment, load_program, move_enrollment, outcome_write,
    patient_index,
};
use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::appointment::AppointmentId;
use crate::domain::clinic::ClinicId;
use crate::domain::enrollment::{ActionOutcome, ActionResult, Enrollment, plan};
use crate::domain::patient::PatientReference;
use crate::domain::patient_connect::{Position, next_step};
use crate::domain::validation::FieldError;
use crate::features::audit_trail::{self, Change};
use crate::features::diary::appointments;
use crate::http::Problem;
use crate::http::auth::authorize;
use crate::http::request::{clinic_id, page_query};
use crate::http::request::{json_body, path_param};
use crate::http::response::json;
use crate::store::{Condition, Item, Query, StoreError, Write, keys, query_all};

/// Most enrollments one list shows (newest first).
const MAX_LISTED: usize = 200;
/// How far from today a reference date may be.
const MAX_REFERENCE_YEARS: i16 = 2;

/// Who enters which program, from when.
pub struct Entry<'a> {
    /// The program.
    pub program: &'a StoredProgram,
    /// The new enrollment's id (random, or derived from what made it, so a repeat makes none).
    pub id: String,
    /// The patient's record, when there is one.
    pub patient_reference: Option<PatientReference>,
    /// The booking that entered the patient (Booking programs).
    pub appointment_id: Option<AppointmentId>,
    /// The first cycle's reference date.
    pub first_reference_date: Date,
    /// A staff subject, or `booking`.
    pub enrolled_by: &'a str,
}

/// Makes a new enrollment at the first action, planned and scheduled, in one write with its
/// place in the program's list and its audit record. An existing enrollment with this id is
/// [`MoveError::Conflict`].
pub async fn new_enrollment(
    state: &AppState,
    clinic: &ClinicId,
    zone: &TimeZone,
    entry: Entry<'_>,
    now: Timestamp,
) -> Result<Enrollment, MoveError> {
    let Entry { program, id, patient_reference, appointment_id, first_reference_date, enrolled_by } = entry;
    let start =
        if program.program.actions.is_empty() { Position::Finished } else { Position::Due { cycle: 0, action: 0 } };
    let planned = plan(&program.program, &id, first_reference_date, start, zone, now);
    let enrollment = Enrollment {
        id,
        program_id: program.id.clone(),
        patient_reference,
        appointment_id,
        first_reference_date,
        position: planned.position,
        in_flight: None,
        next: planned.next.clone(),
        completed_by: Vec::new(),
        enrolled_by: enrolled_by.to_owned(),
        created_at: now,
        updated_at: now,
    };
    if let Some(next) = &planned.next {
        state.scheduler.schedule_once(next.due_at, &job_for(clinic, &enrollment.id, next)).await?;
    }
    let item = Item::from_record(keys::enrollment(clinic, &enrollment.id), &enrollment)?
        .with_gsi1(keys::patient_enrollment(clinic, &patient_index(&enrollment), now, &enrollment.id));
    let member = Item::from_record(
        keys::program_enrollment(clinic, &program.id, now, &enrollment.id),
        &serde_json::json!({"enrollment_id": enrollment.id}),
    )?;
    let audit = audit_trail::record(
        clinic,
        Change {
            actor: enrolled_by,
            action: "connect_enrollment.created",
            entity: format!("connect_enrollment/{}", enrollment.id),
            before_version: None,
            after_version: Some(1),
        },
        now,
    )?;
    let mut writes = vec![Write::put(item, Condition::NotExists), Write::put(member, Condition::Always), audit];
    for (cycle, action, due) in &planned.skipped {
        let result = ActionResult::Skipped { reason: format!("overdue: it was due at {due}") };
        writes.push(outcome_write(clinic, &enrollment.id, &program.program, *cycle, *action, result, now)?);
    }
    match state.store.transact(writes).await {
        Ok(()) => Ok(enrollment),
        Err(StoreError::ConditionFailed { .. }) => Err(MoveError::Conflict),
        Err(error) => Err(error.into()),
    }
}

/// What staff send to enroll a patient.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollInput {
    /// The program.
    pub program_id: String,
    /// The patient's record.
    pub patient_reference: String,
    /// The first cycle's reference date, `YYYY-MM-DD` (the proposed booking date for a
    /// recall, the start date for a program); today when absent.
    #[serde(default)]
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", format = Date)]
    pub reference_date: Option<String>,
}

/// What is due next.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DueNext {
    /// Cycle.
    pub cycle: u16,
    /// Action.
    pub action: u16,
    /// What it does.
    pub kind: String,
    /// When.
    #[schema(value_type = String)]
    pub due_at: Timestamp,
}

/// An enrollment as staff see it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EnrollmentView {
    /// The enrollment.
    pub enrollment: Enrollment,
    /// Each action's outcome so far, in order.
    pub outcomes: Vec<ActionOutcome>,
    /// SMS replies kept against it.
    pub replies: Vec<SmsReply>,
    /// What runs next, if anything.
    pub due_next: Option<DueNext>,
}

/// A list of enrollments.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EnrollmentList {
    /// Newest first (at most 200, or one page of a program's).
    pub items: Vec<EnrollmentView>,
    /// Pass as `cursor` for the next page (a program's enrollments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The follow-up list.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FollowUpList {
    /// Enrollments paused by an error, by enrollment.
    pub items: Vec<FollowUp>,
    /// Pass as `cursor` for the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// An enrollment with its outcomes and replies (one query of its partition) and what is due
/// next (named from `program`, which the caller has already read).
async fn view(
    state: &AppState,
    clinic: &ClinicId,
    enrollment: Enrollment,
    program: Option<&StoredProgram>,
) -> Result<EnrollmentView, Problem> {
    let items =
        query_all(state.store.as_ref(), Query::prefix(keys::enrollment_partition(clinic, &enrollment.id), "")).await?;
    let mut outcomes = Vec::new();
    let mut replies = Vec::new();
    for item in &items {
        if item.key.sk.starts_with(keys::OUTCOME_PREFIX) {
            outcomes.push(item.record::<ActionOutcome>()?);
        } else if item.key.sk.starts_with(keys::REPLY_PREFIX) {
            replies.push(item.record::<SmsReply>()?);
        }
    }
    let due_next = enrollment.next.as_ref().map(|next| DueNext {
        cycle: next.cycle,
        action: next.action,
        kind: program
            .and_then(|program| program.program.actions.get(usize::from(next.action)))
            .map_or("unknown", |action| action.kind.name())
            .to_owned(),
        due_at: next.due_at,
    });
    Ok(EnrollmentView { enrollment, outcomes, replies, due_next })
}

/// Views of up to [`MAX_LISTED`] enrollments, reading each program they name once.
async fn views(
    state: &AppState,
    clinic: &ClinicId,
    enrollments: Vec<Enrollment>,
) -> Result<Vec<EnrollmentView>, Problem> {
    let mut programs: HashMap<String, Option<StoredProgram>> = HashMap::new();
    let mut views = Vec::new();
    for enrollment in enrollments.into_iter().take(MAX_LISTED) {
        if !programs.contains_key(&enrollment.program_id) {
            let program = load_program(state, clinic, &enrollment.program_id).await?;
            programs.insert(enrollment.program_id.clone(), program);
        }
        let program = programs.get(&enrollment.program_id).and_then(Option::as_ref);
        views.push(view(state, clinic, enrollment, program).await?);
    }
    Ok(views)
}

/// A patient's enrollments (newest first).
async fn patient_enrollments(
    state: &AppState,
    clinic: &ClinicId,
    patient: &str,
) -> Result<Vec<Enrollment>, StoreError> {
    let query = Query::prefix(keys::patient_enrollments_partition(clinic, patient), "").on_gsi1().descending();
    query_all(state.store.as_ref(), query).await?.iter().map(|item| item.record()).collect()
}

/// `POST /admin/clinics/{clinicId}/connect-enrollments`
#[tracing::instrument(skip_all)]
pub async fn enroll(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let actor = authorize(request, &clinic_id, Permission::DiaryWrite)?;
    let input: EnrollInput = json_body(request)?;
    let clinic = appointments::clinic(state, &clinic_id).await?;
    let zone = clinic.time_zone.zone();
    let now = state.clock.now();
    let today = now.to_zoned(zone.clone()).date();
    let mut errors = Vec::new();
    let program_id = parse_id("program_id", &input.program_id).map_err(|error| errors.push(error)).ok();
    let reference =
        PatientReference::parse("patient_reference", &input.patient_reference).map_err(|error| errors.push(error)).ok();
    let reference_date = match input.reference_date.as_deref() {
        None => Some(today),
        Some(raw) => match raw.parse::<Date>() {
            Ok(date) if (date.year() - today.year()).abs() <= MAX_REFERENCE_YEARS => Some(date),
            Ok(_) => {
                errors.push(FieldError::new("reference_date", "must be within two years of today"));
                None
            }
            Err(_) => {
                errors.push(FieldError::new("reference_date", "must be a date, YYYY-MM-DD"));
                None
            }
        },
    };
    let (Some(program_id), Some(reference), Some(reference_date)) = (program_id, reference, reference_date) else {
        return Err(Problem::invalid(errors));
    };
    let program = load_program(state, &clinic_id, &program_id)
        .await?
        .ok_or_else(|| Problem::invalid(vec![FieldError::new("program_id", "names no program of this clinic")]))?;
    if !program.program.enabled {
        return Err(Problem::invalid(vec![FieldError::new("program_id", "the program is not enabled")]));
    }
    if state.store.get(&keys::patient(&clinic_id, reference.as_str())).await?.is_none() {
        return Err(Problem::invalid(vec![FieldError::new("patient_reference", "names no patient of this clinic")]));
    }
    let active = patient_enrollments(state, &clinic_id, reference.as_str())
        .await?
        .into_iter()
        .any(|existing| existing.program_id == program.id && existing.position != Position::Finished);
    if active {
        return Err(Problem::conflict("the patient is already enrolled in this program and it has not finished"));
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let enrollment = new_enrollment(
        state,
        &clinic_id,
        &zone,
        Entry {
            program: &program,
            id,
            patient_reference: Some(reference),
            appointment_id: None,
            first_reference_date: reference_date,
            enrolled_by: &actor.subject,
        },
        now,
    )
    .await
    .map_err(problem)?;
    tracing::info!(enrollment_id = %enrollment.id, program_id = %program.id, "patient enrolled");
    json(StatusCode::CREATED, &view(state, &clinic_id, enrollment, Some(&program)).await?)
}

fn problem(error: MoveError) -> Problem {
    match error {
        MoveError::Conflict => Problem::conflict("the enrollment changed while this request ran; reload and try again"),
        MoveError::Store(error) => error.into(),
        MoveError::Schedule(error) => {
            tracing::error!(%error, "scheduler unavailable");
            Problem::unavailable()
        }
    }
}

fn enrollment_id(request: &Request) -> Result<String, Problem> {
    path_param(request, "enrollmentId", |raw| parse_id("enrollmentId", raw))
}

/// `GET /admin/clinics/{clinicId}/connect-enrollments/{enrollmentId}`
#[tracing::instrument(skip_all)]
pub async fn show(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let id = enrollment_id(request)?;
    authorize(request, &clinic, Permission::DiaryRead)?;
    let (enrollment, _) =
        load_enrollment(state, &clinic, &id).await?.ok_or_else(|| Problem::not_found("no such enrollment"))?;
    let program = load_program(state, &clinic, &enrollment.program_id).await?;
    json(StatusCode::OK, &view(state, &clinic, enrollment, program.as_ref()).await?)
}

/// `GET /admin/clinics/{clinicId}/patients/{patientReference}/connect-enrollments`
#[tracing::instrument(skip_all)]
pub async fn for_patient(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let reference = path_param(request, "patientReference", |raw| PatientReference::parse("patientReference", raw))?;
    authorize(request, &clinic, Permission::DiaryRead)?;
    let enrollments = patient_enrollments(state, &clinic, reference.as_str()).await?;
    json(StatusCode::OK, &EnrollmentList { items: views(state, &clinic, enrollments).await?, next_cursor: None })
}

/// `GET /admin/clinics/{clinicId}/connect-programs/{programId}/enrollments`
#[tracing::instrument(skip_all)]
pub async fn for_program(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let program = path_param(request, "programId", |raw| parse_id("programId", raw))?;
    authorize(request, &clinic, Permission::DiaryRead)?;
    if load_program(state, &clinic, &program).await?.is_none() {
        return Err(Problem::not_found("no such program in this clinic"));
    }
    // One page of the program's index, newest first: the cost follows the page, not the program.
    let query =
        page_query(request, Query::prefix(keys::program_enrollments_partition(&clinic, &program), "").descending())?;
    let page = state.store.query(&query).await?;
    let ids: Vec<String> = page
        .items
        .iter()
        .filter_map(|item| item.data.get("enrollment_id").and_then(|id| id.as_str()).map(str::to_owned))
        .collect();
    let mut enrollments = Vec::new();
    for id in ids {
        enrollments.extend(load_enrollment(state, &clinic, &id).await?.map(|(enrollment, _)| enrollment));
    }
    let next_cursor = page.next.map(|cursor| cursor.as_str().to_owned());
    json(StatusCode::OK, &EnrollmentList { items: views(state, &clinic, enrollments).await?, next_cursor })
}

/// `GET /admin/clinics/{clinicId}/connect-follow-ups[?limit=&cursor=]`: one page of the
/// working list (an enrollment leaves it when staff advance it or a booking completes it).
#[tracing::instrument(skip_all)]
pub async fn follow_ups(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    authorize(request, &clinic, Permission::DiaryRead)?;
    let query = page_query(request, Query::prefix(keys::follow_up_partition(&clinic), ""))?;
    let page = state.store.query(&query).await?;
    let items = page.items.iter().map(Item::record).collect::<Result<Vec<FollowUp>, StoreError>>()?;
    let next_cursor = page.next.map(|cursor| cursor.as_str().to_owned());
    json(StatusCode::OK, &FollowUpList { items, next_cursor })
}

/// `POST /admin/clinics/{clinicId}/connect-enrollments/{enrollmentId}/advance`: moves an
/// enrollment waiting at a pause (or paused by an error) on to its next action.
#[tracing::instrument(skip_all)]
pub async fn advance(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let id = enrollment_id(request)?;
    let actor = authorize(request, &clinic_id, Permission::DiaryWrite)?;
    let clinic = appointments::clinic(state, &clinic_id).await?;
    let zone = clinic.time_zone.zone();
    let (enrollment, version) =
        load_enrollment(state, &clinic_id, &id).await?.ok_or_else(|| Problem::not_found("no such enrollment"))?;
    if !matches!(enrollment.position, Position::Paused { .. }) {
        return Err(Problem::conflict("the enrollment is not paused; only a paused enrollment can be advanced"));
    }
    let program = load_program(state, &clinic_id, &enrollment.program_id)
        .await?
        .ok_or_else(|| Problem::not_found("the enrollment's program is gone"))?;
    let moved = advance_paused(
        &Scope { state, clinic: &clinic_id, zone: &zone, program: &program },
        &enrollment,
        version,
        &actor.subject,
        state.clock.now(),
    )
    .await
    .map_err(problem)?;
    tracing::info!(enrollment_id = %moved.id, "enrollment advanced");
    json(StatusCode::OK, &view(state, &clinic_id, moved, Some(&program)).await?)
}

/// Moves a paused enrollment on to its next action (staff advancing it), taking it off the
/// follow-up list if an error paused it; audited in the same write.
pub async fn advance_paused(
    scope: &Scope<'_>,
    enrollment: &Enrollment,
    version: u64,
    actor: &str,
    now: Timestamp,
) -> Result<Enrollment, MoveError> {
    let Position::Paused { cycle, action, flagged } = enrollment.position else { return Err(MoveError::Conflict) };
    let mut writes = vec![audit_trail::record(
        scope.clinic,
        Change {
            actor,
            action: "connect_enrollment.advanced",
            entity: format!("connect_enrollment/{}", enrollment.id),
            before_version: Some(version),
            after_version: Some(version + 1),
        },
        now,
    )?];
    if flagged {
        writes.push(Write::Delete { key: keys::follow_up(scope.clinic, &enrollment.id), condition: Condition::Always });
    }
    let position = next_step(&scope.program.program, cycle, action);
    let change = Move { position, retry: None, clear_in_flight: false, writes };
    move_enrollment(scope, enrollment, version, change, now).await
}

/// A referral staff record for a patient.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralInput {
    /// When the referral was received, `YYYY-MM-DD` (today when absent): the reference date of
    /// the Referral programs it enters.
    #[serde(default)]
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", format = Date)]
    pub received_on: Option<String>,
    /// Who referred, up to 120 characters (e.g. a GP practice).
    #[serde(default)]
    pub source: Option<String>,
}

/// A recorded referral and the enrollments it made.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReferralAdded {
    /// The referral's id.
    pub referral_id: String,
    /// When it was received.
    #[schema(value_type = String)]
    pub received_on: Date,
    /// Who referred.
    pub source: Option<String>,
    /// The enrollments in the clinic's enabled Referral programs.
    pub enrollments: Vec<EnrollmentView>,
}

/// `POST /admin/clinics/{clinicId}/patients/{patientReference}/referrals`: records a referral
/// and enters the patient in every enabled Referral program, with the date it was received as
/// the reference date; the patient's next booking completes those programs.
#[tracing::instrument(skip_all)]
pub async fn add_referral(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let reference = path_param(request, "patientReference", |raw| PatientReference::parse("patientReference", raw))?;
    let actor = authorize(request, &clinic_id, Permission::DiaryWrite)?;
    let input: ReferralInput = json_body(request)?;
    let clinic = appointments::clinic(state, &clinic_id).await?;
    let zone = clinic.time_zone.zone();
    let now = state.clock.now();
    let today = now.to_zoned(zone.clone()).date();
    let received_on = match input.received_on.as_deref() {
        None => today,
        Some(raw) => match raw.parse::<Date>() {
            Ok(date) if date <= today && (today.year() - date.year()) <= MAX_REFERENCE_YEARS => date,
            Ok(_) => {
                return Err(Problem::invalid(vec![FieldError::new(
                    "received_on",
                    "must be today or in the last two years",
                )]));
            }
            Err(_) => return Err(Problem::invalid(vec![FieldError::new("received_on", "must be a date, YYYY-MM-DD")])),
        },
    };
    let source = match input.source.as_deref().map(str::trim).filter(|text| !text.is_empty()) {
        Some(text) => Some(
            crate::domain::validation::required_text("source", text, 120)
                .map_err(|error| Problem::invalid(vec![error]))?,
        ),
        None => None,
    };
    if state.store.get(&keys::patient(&clinic_id, reference.as_str())).await?.is_none() {
        return Err(Problem::not_found("no such patient in this clinic"));
    }
    let referral_id = uuid::Uuid::new_v4().simple().to_string();
    let record = serde_json::json!({
        "referral_id": referral_id, "received_on": received_on, "source": source, "recorded_by": actor.subject, "at": now,
    });
    let writes = vec![
        Write::put(
            Item::from_record(keys::patient_referral(&clinic_id, reference.as_str(), &referral_id), &record)?,
            Condition::NotExists,
        ),
        audit_trail::record(
            &clinic_id,
            Change {
                actor: &actor.subject,
                action: "patient.referral_added",
                entity: format!("patient/{}", reference.as_str()),
                before_version: None,
                after_version: None,
            },
            now,
        )?,
    ];
    state.store.transact(writes).await?;
    let mut enrollments = Vec::new();
    for program in super::programs::all_programs(state, &clinic_id).await? {
        if !program.program.enabled
            || program.program.program_type != crate::domain::patient_connect::ProgramType::Referral
        {
            continue;
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let enrollment = new_enrollment(
            state,
            &clinic_id,
            &zone,
            Entry {
                program: &program,
                id,
                patient_reference: Some(reference.clone()),
                appointment_id: None,
                first_reference_date: received_on,
                enrolled_by: &actor.subject,
            },
            now,
        )
        .await
        .map_err(problem)?;
        enrollments.push(view(state, &clinic_id, enrollment, Some(&program)).await?);
    }
    tracing::info!(referral_id = %referral_id, enrollments = enrollments.len(), "referral added");
    json(StatusCode::CREATED, &ReferralAdded { referral_id, received_on, source, enrollments })
}
