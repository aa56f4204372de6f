//! The clinic's patient records: staff (and partner users) find a patient by name or reference,
//! or add one; adding a likely duplicate (same folded name and birth date) is refused with the
//! existing references unless confirmed. A partner's own user finds only by exact reference,
//! or by full name with the date of birth, so it cannot browse the clinic's patients.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::domain::access::{Actor, Permission};
use crate::domain::clinic::ClinicId;
use crate::domain::patient::{
    PatientDetails, PatientInput, PatientProfile, PatientProfileInput, PatientRecord, PatientReference, fold,
};
use crate::domain::validation::FieldError;
use crate::features::audit_trail::{self, Change};
use crate::features::diary::appointments;
use crate::http::Problem;
use crate::http::auth::authorize;
use crate::http::request::{clinic_id, page_query};
use crate::http::request::{json_body, query_param};
use crate::http::response::json;
use crate::store::{Condition, Item, Key, Query, StoreError, Write, keys, query_all};
use sha2::Digest;

pub mod search_index;

/// Most records one search returns.
const MAX_RESULTS: usize = 50;

/// A patient record as staff see it (no `Debug`: it holds patient data).
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct PatientView {
    /// The clinic's reference.
    pub reference: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Birth date.
    pub date_of_birth: String,
    /// Mobile, if given.
    pub mobile: Option<String>,
    /// Email, if given.
    pub email: Option<String>,
}

fn view(record: &PatientRecord) -> PatientView {
    PatientView {
        reference: record.reference.as_str().to_owned(),
        first_name: record.details.first_name.clone(),
        last_name: record.details.last_name.clone(),
        date_of_birth: record.details.date_of_birth.to_string(),
        mobile: record.details.mobile.as_ref().map(|mobile| mobile.as_str().to_owned()),
        email: record.details.email.as_ref().map(|email| email.as_str().to_owned()),
    }
}

/// Search results, or (without a search) one page of every record by reference.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct PatientList {
    /// Matching records (at most 50) by name, or a page of records by reference.
    pub items: Vec<PatientView>,
    /// Pass as `cursor` for the next page (listing without a search only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// One record with its profile, as staff see it (no `Debug`: patient data).
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct PatientRecordView {
    /// Name, birth date and contact.
    #[serde(flatten)]
    pub patient: PatientView,
    /// Sex, postcode, registered provider, flags, postal address and GP.
    pub profile: PatientProfile,
    /// The record's version (send as `If-Match` to change it).
    pub version: u64,
}

fn either(request: &Request, clinic: &ClinicId, staff: Permission) -> Result<Actor, Problem> {
    authorize(request, clinic, staff).or_else(|_| authorize(request, clinic, Permission::PartnerBook))
}

/// The index partition of everyone with this folded name and birth date.
fn name_partition(clinic: &ClinicId, details: &PatientDetails) -> String {
    let folded =
        format!("{}\u{1f}{}\u{1f}{}", fold(&details.first_name), fold(&details.last_name), details.date_of_birth);
    keys::patients_by_name(clinic, &hex::encode(sha2::Sha256::digest(folded.as_bytes())))
}

/// The records with the same folded name and birth date as `details`: one query of the name
/// index and a read per match (never the clinic's whole list of patients).
async fn namesakes(
    state: &AppState,
    clinic: &ClinicId,
    details: &PatientDetails,
) -> Result<Vec<PatientRecord>, StoreError> {
    let partition = name_partition(clinic, details);
    let listed = query_all(state.store.as_ref(), Query::prefix(partition, "").limit(100)).await?;
    let mut found = Vec::new();
    for item in listed {
        if let Some(record) = state.store.get(&keys::patient(clinic, &item.key.sk)).await? {
            found.push(record.record::<PatientRecord>()?);
        }
    }
    Ok(found)
}

/// `GET /admin/clinics/{clinicId}/patients?search=[&date_of_birth=]`
#[tracing::instrument(skip_all)]
pub async fn search(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let actor = either(request, &clinic, Permission::DiaryRead)?;
    let born = query_param(request, "date_of_birth")
        .map(|raw| {
            raw.parse::<jiff::civil::Date>()
                .map_err(|_| Problem::malformed("date_of_birth", "must be a date, YYYY-MM-DD"))
        })
        .transpose()?;
    let listing = page_query(request, Query::prefix(keys::clinic_partition(&clinic), keys::PATIENT_PREFIX))?;
    // A search with nothing to search by (empty, or only punctuation) is no search.
    let search = query_param(request, "search").filter(|text| !fold(text).is_empty());
    let Some(search) = search else {
        // Staff may page through every record by reference; a partner's user may not browse.
        if actor.partner.is_some() {
            return Err(Problem::malformed("search", "is required: a reference, or a full name with date_of_birth"));
        }
        let page = state.store.query(&listing).await?;
        let records = page.items.iter().map(Item::record).collect::<Result<Vec<PatientRecord>, _>>()?;
        let next_cursor = page.next.map(|cursor| cursor.as_str().to_owned());
        return json(StatusCode::OK, &PatientList { items: records.iter().map(view).collect(), next_cursor });
    };
    if search.chars().count() > 120 {
        return Err(Problem::malformed("search", "must hold at most 120 characters"));
    }
    let mut found: Vec<PatientRecord> = if actor.partner.is_some() {
        // A partner's user finds by exact reference, or by full name with the birth date: one
        // read, or one query of the name index; never the clinic's whole list.
        let mut found = Vec::new();
        if let Ok(reference) = PatientReference::parse("search", search.trim())
            && let Some(item) = state.store.get(&keys::patient(&clinic, reference.as_str())).await?
        {
            found.push(item.record::<PatientRecord>()?);
        }
        if let Some(born) = born {
            // "Mary Ann Smith" may be Mary Ann + Smith or Mary + Ann Smith: one index query per
            // way of splitting the full name (at most five words, so at most four queries).
            let words: Vec<&str> = search.split_whitespace().collect();
            if (2..=5).contains(&words.len()) {
                for split in 1..words.len() {
                    let details = PatientDetails {
                        first_name: words[..split].join(" "),
                        last_name: words[split..].join(" "),
                        date_of_birth: born,
                        mobile: None,
                        email: None,
                    };
                    for record in namesakes(state, &clinic, &details).await? {
                        if record.same_person(&details)
                            && !found.iter().any(|known| known.reference == record.reference)
                        {
                            found.push(record);
                        }
                    }
                }
            }
        }
        found
    } else {
        // Staff find by reference, as typed or in capitals (a read or two), or by the
        // beginnings of name words (one query of the search index and a read per candidate).
        let mut found: Vec<PatientRecord> = Vec::new();
        let mut forms = vec![search.trim().to_owned(), search.trim().to_uppercase()];
        forms.dedup();
        for typed in forms {
            if let Ok(reference) = PatientReference::parse("search", &typed)
                && let Some(item) = state.store.get(&keys::patient(&clinic, reference.as_str())).await?
            {
                found.push(item.record::<PatientRecord>()?);
            }
        }
        found.retain(|record| born.is_none_or(|born| record.details.date_of_birth == born));
        let born_on = |record: &PatientRecord| born.is_none_or(|born| record.details.date_of_birth == born);
        for record in search_index::find(state.store.as_ref(), &clinic, search, MAX_RESULTS, born_on).await? {
            if !found.iter().any(|known| known.reference == record.reference) {
                found.push(record);
            }
        }
        found
    };
    found.sort_by_key(|record| fold(&format!("{} {}", record.details.last_name, record.details.first_name)));
    found.truncate(MAX_RESULTS);
    json(StatusCode::OK, &PatientList { items: found.iter().map(view).collect(), next_cursor: None })
}

/// `GET /admin/clinics/{clinicId}/patients/{patientReference}`: one record with its profile.
#[tracing::instrument(skip_all)]
pub async fn show(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    authorize(request, &clinic, Permission::DiaryRead)?;
    let reference = crate::http::request::path_param(request, "patientReference", |raw| {
        PatientReference::parse("patientReference", raw)
    })?;
    let Some(item) = state.store.get(&keys::patient(&clinic, reference.as_str())).await? else {
        return Err(Problem::not_found("no such patient record"));
    };
    let record: PatientRecord = item.record()?;
    let view = PatientRecordView { patient: view(&record), profile: record.profile.clone(), version: item.version };
    crate::http::response::json_versioned(StatusCode::OK, &view, item.version)
}

/// A new patient record.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPatientInput {
    /// The clinic's reference; one is made when absent.
    #[serde(default)]
    pub reference: Option<String>,
    /// The patient.
    pub patient: PatientInput,
    /// Sex, postcode, registered provider and flags (for online services' access rules).
    #[serde(default)]
    pub profile: PatientProfileInput,
    /// Add it even though a record with the same name and birth date exists.
    #[serde(default)]
    pub confirm_duplicate: bool,
}

/// `POST /admin/clinics/{clinicId}/patients`
#[tracing::instrument(skip_all)]
pub async fn create(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let actor = either(request, &clinic_id, Permission::DiaryWrite)?;
    let input: NewPatientInput = json_body(request)?;
    let clinic = appointments::clinic(state, &clinic_id).await?;
    let today = state.clock.now().to_zoned(clinic.time_zone.zone()).date();
    let mut errors = Vec::new();
    let reference = match input.reference.as_deref() {
        Some(raw) => PatientReference::parse("reference", raw).map_err(|error| errors.push(error)).ok(),
        None => {
            PatientReference::parse("reference", &format!("P-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]))
                .ok()
        }
    };
    let details = PatientDetails::parse(&input.patient, today, clinic.country, "patient.")
        .map_err(|found| errors.extend(found))
        .ok();
    let profile = PatientProfile::parse(&input.profile, "profile.").map_err(|found| errors.extend(found)).ok();
    let (Some(reference), Some(details), Some(profile)) = (reference, details, profile) else {
        return Err(Problem::invalid(errors));
    };
    let record = PatientRecord { reference, details, profile };
    if !input.confirm_duplicate {
        let duplicates: Vec<String> = namesakes(state, &clinic_id, &record.details)
            .await?
            .iter()
            .filter(|existing| existing.same_person(&record.details))
            .map(|existing| existing.reference.as_str().to_owned())
            .collect();
        if !duplicates.is_empty() {
            let mut problem = Problem::conflict(format!(
                "a patient with the same name and date of birth exists: {}; use it, or send confirm_duplicate",
                duplicates.join(", ")
            ));
            problem.errors = vec![FieldError::new("patient", "is probably already a patient of this clinic")];
            return Err(problem);
        }
    }
    let now = state.clock.now();
    let mut writes = vec![
        Write::put(
            Item::from_record(keys::patient(&clinic_id, record.reference.as_str()), &record)?,
            Condition::NotExists,
        ),
        Write::put(Item::from_record(name_index_key(&clinic_id, &record), &serde_json::json!({}))?, Condition::Always),
        audit_trail::record(
            &clinic_id,
            Change {
                actor: &actor.subject,
                action: "patient.created",
                entity: format!("patient/{}", record.reference.as_str()),
                before_version: None,
                after_version: Some(1),
            },
            now,
        )?,
    ];
    writes.extend(search_index::index(&clinic_id, &record)?);
    match state.store.transact(writes).await {
        Err(StoreError::ConditionFailed { index: 0 }) => {
            return Err(Problem::conflict("another patient has this reference"));
        }
        other => other?,
    }
    tracing::info!(patient_reference = %record.reference.as_str(), "patient record created");
    json(StatusCode::CREATED, &view(&record))
}

fn name_index_key(clinic: &ClinicId, record: &PatientRecord) -> Key {
    Key::new(name_partition(clinic, &record.details), record.reference.as_str())
}

/// A patient's record as staff correct it (no `Debug`: patient data).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientChangeInput {
    /// The patient's name, birth date and contact, as they are now.
    pub patient: PatientInput,
    /// Sex, postcode, registered provider, flags, postal address and GP, as they are now.
    #[serde(default)]
    pub profile: PatientProfileInput,
}

/// `PUT /admin/clinics/{clinicId}/patients/{patientReference}`: staff correct a record (a new
/// mobile, a married name, a moved address). Its reference stays; the name index moves with the
/// name in the same transaction; `If-Match` guards against overwriting a colleague's change.
/// Appointments already booked keep the details they were booked with.
#[tracing::instrument(skip_all)]
pub async fn replace(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let actor = authorize(request, &clinic_id, Permission::DiaryWrite)?;
    let reference = crate::http::request::path_param(request, "patientReference", |raw| {
        PatientReference::parse("patientReference", raw)
    })?;
    let input: PatientChangeInput = json_body(request)?;
    let clinic = appointments::clinic(state, &clinic_id).await?;
    let today = state.clock.now().to_zoned(clinic.time_zone.zone()).date();
    let mut errors = Vec::new();
    let details = PatientDetails::parse(&input.patient, today, clinic.country, "patient.")
        .map_err(|found| errors.extend(found))
        .ok();
    let profile = PatientProfile::parse(&input.profile, "profile.").map_err(|found| errors.extend(found)).ok();
    let (Some(details), Some(profile)) = (details, profile) else { return Err(Problem::invalid(errors)) };
    let key = keys::patient(&clinic_id, reference.as_str());
    let Some(item) = state.store.get(&key).await? else { return Err(Problem::not_found("no such patient record")) };
    crate::http::request::check_if_match(request, item.version)?;
    let before: PatientRecord = item.record()?;
    let after = PatientRecord { reference: before.reference.clone(), details, profile };
    let version = item.version + 1;
    let mut writes =
        vec![Write::put(Item::from_record(key, &after)?.with_version(version), Condition::VersionIs(item.version))];
    let (old_index, new_index) = (name_index_key(&clinic_id, &before), name_index_key(&clinic_id, &after));
    if old_index != new_index {
        writes.push(Write::Delete { key: old_index, condition: Condition::Always });
        writes.push(Write::put(Item::from_record(new_index, &serde_json::json!({}))?, Condition::Always));
    }
    writes.extend(search_index::reindex(&clinic_id, &before, &after)?);
    writes.push(audit_trail::record(
        &clinic_id,
        Change {
            actor: &actor.subject,
            action: "patient.changed",
            entity: format!("patient/{}", reference.as_str()),
            before_version: Some(item.version),
            after_version: Some(version),
        },
        state.clock.now(),
    )?);
    match state.store.transact(writes).await {
        Err(StoreError::ConditionFailed { .. }) => {
            return Err(Problem::conflict("the record changed while this request ran; read it again"));
        }
        other => other?,
    }
    tracing::info!(patient_reference = %reference.as_str(), version, "patient record changed");
    crate::http::response::json_versioned(
        StatusCode::OK,
        &PatientRecordView { patient: view(&after), profile: after.profile.clone(), version },
        version,
    )
}

/// The clinic's patient record these details identify, by the portal's rule (seed 001): the same
/// folded name and birth date and a matching mobile or email, and exactly one such record. One
/// query of the name index: an anonymous visitor never makes the server read every record.
pub async fn identify_patient(
    state: &AppState,
    clinic: &ClinicId,
    details: &crate::domain::patient::PatientDetails,
) -> Result<Option<PatientRecord>, StoreError> {
    let all = namesakes(state, clinic, details).await?;
    let who = crate::domain::eligibility::Identification {
        first_name: details.first_name.clone(),
        last_name: details.last_name.clone(),
        date_of_birth: details.date_of_birth,
        mobile: details.mobile.clone(),
        email: details.email.clone(),
    };
    Ok(crate::domain::eligibility::identify(&all, &who).cloned())
}

/// One page of records put into the search index.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct IndexedPage {
    /// How many records this call indexed.
    pub indexed: usize,
    /// Pass as `cursor` to index the next page; absent when every record is indexed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `POST /admin/clinics/{clinicId}/patients/search-index[?cursor=&limit=]`: (re)indexes one page
/// of records by reference for the staff search, so records written before the index existed
/// are found. Idempotent; call again with `next_cursor` until it is absent.
#[tracing::instrument(skip_all)]
pub async fn rebuild_search_index(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    authorize(request, &clinic, Permission::DiaryWrite)?;
    let query = page_query(request, Query::prefix(keys::clinic_partition(&clinic), keys::PATIENT_PREFIX))?;
    let page = state.store.query(&query).await?;
    for item in &page.items {
        let record: PatientRecord = item.record()?;
        state.store.transact(search_index::index(&clinic, &record)?).await?;
    }
    tracing::info!(indexed = page.items.len(), "patient search index rebuilt for one page");
    let next_cursor = page.next.map(|cursor| cursor.as_str().to_owned());
    json(StatusCode::OK, &IndexedPage { indexed: page.items.len(), next_cursor })
}
