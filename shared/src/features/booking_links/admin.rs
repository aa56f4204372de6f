//! Staff side of booking links: broadcast rules, sending a link by SMS, expiring or deleting
//! it, a patient's link history (with the appointment each link booked and that appointment's
//! own history), and a provider's staff inbox.

use crate::http::request::{bool_param, check_if_match};
use crate::http::response::json_versioned;
use http::StatusCode;
use jiff::Timestamp;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use super::offer::InboxMessage;
use super::tokens::{self, TokenRecord, link_item, load_link};
use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::audit::AuditRecord;
use crate::domain::booking_link::{
    BookingLink, BookingLinkId, BroadcastRule, BroadcastRuleId, BroadcastRuleInput, LinkEvent, LinkRefusal, LinkStatus,
    LinkToken, SmsValues, TokenPurpose,
};
use crate::domain::booking_type::BookingType;
use crate::domain::clinic::{Clinic, ClinicId};
use crate::domain::contact::PhoneNumber;
use crate::domain::location::Location;
use crate::domain::patient::{PatientDetails, PatientInput, PatientReference};
use crate::domain::provider::{Provider, ProviderId};
use crate::domain::validation::FieldError;
use crate::features::audit_trail::{self, Change};
use crate::features::diary::booking;
use crate::http::Problem;
use crate::http::auth::authorize;
use crate::http::request::clinic_id;
use crate::http::request::{json_body, path_param, query_param};
use crate::http::response::json;
use crate::messages::Sms;
use crate::store::{Condition, Item, Query, Store, StoreError, Write, keys, query_all};

/// Broadcast rules of a clinic.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BroadcastRuleList {
    /// Rules by title (only those matching `search`, when given).
    pub items: Vec<BroadcastRuleView>,
}

/// A rule with its version.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BroadcastRuleView {
    /// The rule.
    #[serde(flatten)]
    pub rule: BroadcastRule,
    /// Version, bumped by each change.
    pub version: u64,
}

async fn clinic(store: &dyn Store, clinic: &ClinicId) -> Result<Clinic, Problem> {
    Ok(store.get(&keys::clinic_profile(clinic)).await?.ok_or_else(|| Problem::not_found("no such clinic"))?.record()?)
}

/// The writes that check, in the rule's transaction, that everything it names exists; with the
/// field each one answers for.
fn reference_checks(clinic: &ClinicId, rule: &BroadcastRule) -> Vec<(Write, String)> {
    let exists = Write::check_current;
    let mut checks = vec![(
        exists(keys::entry(clinic, keys::BOOKING_TYPE_PREFIX, rule.booking_type_id.as_str())),
        "booking_type_id".to_owned(),
    )];
    for (index, id) in rule.provider_ids.iter().enumerate() {
        checks
            .push((exists(keys::entry(clinic, keys::PROVIDER_PREFIX, id.as_str())), format!("provider_ids[{index}]")));
    }
    for (index, id) in rule.location_ids.iter().enumerate() {
        checks
            .push((exists(keys::entry(clinic, keys::LOCATION_PREFIX, id.as_str())), format!("location_ids[{index}]")));
    }
    checks
}

async fn save_rule(
    state: &AppState,
    clinic: &ClinicId,
    rule: &BroadcastRule,
    actor: &str,
    previous: Option<(&BroadcastRule, u64)>,
) -> Result<u64, Problem> {
    let previous_version = previous.map(|(_, version)| version);
    // Archiving names nothing new: a rule whose booking type was archived first can still be.
    let (mut checks, fields): (Vec<Write>, Vec<String>) = if rule.archived_at.is_none() {
        reference_checks(clinic, rule).into_iter().unzip()
    } else {
        Default::default()
    };
    // What the rule already named may have been archived since; only new names must be current.
    if let Some((before, _)) = previous {
        let before: Vec<Write> = reference_checks(clinic, before).into_iter().map(|(check, _)| check).collect();
        crate::store::keep_references(&mut checks, &before);
    }
    let version = previous_version.map_or(1, |version| version + 1);
    let condition = previous_version.map_or(Condition::NotExists, Condition::VersionIs);
    let mut writes = checks;
    writes.push(Write::put(
        Item::from_record(keys::broadcast_rule(clinic, rule.id.as_str()), rule)?.with_version(version),
        condition,
    ));
    writes.push(audit_trail::record(
        clinic,
        Change {
            actor,
            action: match (previous_version, rule.archived_at) {
                (None, _) => "broadcast_rule.created",
                // An archived rule takes no change, so saving one is archiving it.
                (Some(_), Some(_)) => "broadcast_rule.archived",
                (Some(_), None) => "broadcast_rule.changed",
            },
            entity: format!("broadcast_rule/{}", rule.id),
            before_version: previous_version,
            after_version: Some(version),
        },
        state.clock.now(),
    )?);
    match state.store.transact(writes).await {
        Err(StoreError::ConditionFailed { index }) if index < fields.len() => {
            Err(Problem::invalid(vec![FieldError::new(
                fields[index].clone(),
                "names nothing current in this clinic (missing or archived)",
            )]))
        }
        Err(StoreError::ConditionFailed { .. }) => {
            Err(Problem::conflict("the rule changed while this request ran; reload and try again"))
        }
        other => {
            other?;
            Ok(version)
        }
    }
}

/// `POST /admin/clinics/{clinicId}/broadcast-rules`
#[tracing::instrument(skip_all)]
pub async fn create_rule(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let actor = authorize(request, &clinic_id, Permission::CatalogWrite)?;
    let input: BroadcastRuleInput = json_body(request)?;
    let rule = BroadcastRule::parse(BroadcastRuleId::random(), &input).map_err(Problem::invalid)?;
    clinic(state.store.as_ref(), &clinic_id).await?;
    let version = save_rule(state, &clinic_id, &rule, &actor.subject, None).await?;
    tracing::info!(rule_id = %rule.id, "broadcast rule created");
    json(StatusCode::CREATED, &BroadcastRuleView { rule, version })
}

/// `PUT /admin/clinics/{clinicId}/broadcast-rules/{ruleId}`: replaces a rule. Links already
/// sent follow the rule as it is when they are opened.
#[tracing::instrument(skip_all)]
pub async fn replace_rule(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let id = path_param(request, "ruleId", |raw| BroadcastRuleId::parse("ruleId", raw))?;
    let actor = authorize(request, &clinic_id, Permission::CatalogWrite)?;
    let input: BroadcastRuleInput = json_body(request)?;
    let rule = BroadcastRule::parse(id, &input).map_err(Problem::invalid)?;
    let current = state
        .store
        .get(&keys::broadcast_rule(&clinic_id, rule.id.as_str()))
        .await?
        .ok_or_else(|| Problem::not_found("no such broadcast rule in this clinic"))?;
    check_if_match(request, current.version)?;
    let before: BroadcastRule = current.record()?;
    if before.archived_at.is_some() {
        return Err(Problem::conflict("the rule is archived; create a new rule instead"));
    }
    let version = save_rule(state, &clinic_id, &rule, &actor.subject, Some((&before, current.version))).await?;
    json_versioned(StatusCode::OK, &BroadcastRuleView { rule, version }, version)
}

/// `DELETE /admin/clinics/{clinicId}/broadcast-rules/{ruleId}`: archives the rule. Links already
/// sent under it keep working and their history keeps naming it, so it is never erased; it leaves
/// the list (`?archived=true` shows it) and no new link can be sent under it.
#[tracing::instrument(skip_all)]
pub async fn archive_rule(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let id = path_param(request, "ruleId", |raw| BroadcastRuleId::parse("ruleId", raw))?;
    let actor = authorize(request, &clinic_id, Permission::CatalogWrite)?;
    let current = state
        .store
        .get(&keys::broadcast_rule(&clinic_id, id.as_str()))
        .await?
        .ok_or_else(|| Problem::not_found("no such broadcast rule in this clinic"))?;
    check_if_match(request, current.version)?;
    let mut rule: BroadcastRule = current.record()?;
    if rule.archived_at.is_some() {
        return Err(Problem::conflict("the rule is already archived"));
    }
    let before = rule.clone();
    rule.archived_at = Some(state.clock.now());
    let version = save_rule(state, &clinic_id, &rule, &actor.subject, Some((&before, current.version))).await?;
    tracing::info!(rule_id = %rule.id, "broadcast rule archived");
    json_versioned(StatusCode::OK, &BroadcastRuleView { rule, version }, version)
}

/// `GET /admin/clinics/{clinicId}/broadcast-rules[?search=][&archived=true]`: rules by title.
#[tracing::instrument(skip_all)]
pub async fn list_rules(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    authorize(request, &clinic_id, Permission::CatalogRead)?;
    let search = query_param(request, "search").unwrap_or("");
    if search.chars().count() > 120 {
        return Err(Problem::malformed("search", "must be at most 120 characters"));
    }
    let query = Query::prefix(keys::clinic_partition(&clinic_id), keys::BROADCAST_RULE_PREFIX);
    let mut items = query_all(state.store.as_ref(), query)
        .await?
        .iter()
        .map(|item| Ok(BroadcastRuleView { rule: item.record()?, version: item.version }))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let archived = bool_param(request, "archived")?;
    items.retain(|view| view.rule.matches(search) && view.rule.archived_at.is_some() == archived);
    items.sort_by_key(|view| view.rule.title.to_lowercase());
    json(StatusCode::OK, &BroadcastRuleList { items })
}

/// Staff send a link.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendLinkInput {
    /// The broadcast rule.
    pub rule_id: String,
    /// The clinic's reference of the patient's record (1 to 40 letters, digits or dashes).
    pub patient_reference: String,
    /// The patient; the SMS goes to their mobile.
    pub patient: PatientInput,
}

/// A link as staff see it (no patient details).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LinkView {
    /// Identifier.
    pub id: String,
    /// The rule it was sent under.
    pub rule_id: String,
    /// The patient's record reference.
    pub patient_reference: String,
    /// Status now (an unused link past its lifetime reads `expired`).
    pub status: LinkStatus,
    /// When it was sent.
    #[schema(value_type = String, format = DateTime)]
    pub sent_at: Timestamp,
    /// When an unused link stops working.
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    /// Every status change: who and when.
    pub events: Vec<LinkEvent>,
    /// The appointment it booked.
    pub appointment_id: Option<String>,
    /// The SMS provider's message id, when the SMS was accepted.
    pub sms_message_id: Option<String>,
    /// The link this one was resent in place of.
    pub replaces: Option<String>,
    /// The link staff resent in place of this one.
    pub replaced_by: Option<String>,
    /// Version, bumped by each change.
    pub version: u64,
}

fn link_view(link: &BookingLink, version: u64, now: Timestamp) -> LinkView {
    LinkView {
        id: link.id.to_string(),
        rule_id: link.rule_id.to_string(),
        patient_reference: link.patient_reference.as_str().to_owned(),
        status: link.status_at(now),
        sent_at: link.events.first().map_or(link.usable_until, |event| event.at),
        expires_at: link.usable_until,
        events: link.events.clone(),
        appointment_id: link.appointment_id.as_ref().map(ToString::to_string),
        sms_message_id: link.sms_message_id.clone(),
        replaces: link.replaces.as_ref().map(ToString::to_string),
        replaced_by: link.replaced_by.as_ref().map(ToString::to_string),
        version,
    }
}

/// What the link lets the patient book, for staff to read back.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LinkOffer {
    /// The rule's title.
    pub rule_title: String,
    /// The booking type.
    pub booking_type: String,
    /// Its length.
    pub duration_minutes: u32,
    /// The providers it may book.
    pub providers: Vec<String>,
    /// The locations.
    pub locations: Vec<String>,
}

/// How the SMS went.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SmsOutcome {
    /// `sent` or `failed`.
    pub status: String,
    /// The provider's message id when sent.
    pub message_id: Option<String>,
    /// Why it failed; the link still works and can be copied and sent by hand.
    pub error: Option<String>,
}

/// The answer to a send: the link (shown once: only its hash is kept), what it books, the SMS.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LinkSent {
    /// The link.
    pub link: LinkView,
    /// The URL the patient got; copy it to resend by hand. It cannot be shown again.
    pub url: String,
    /// What it lets the patient book.
    pub offer: LinkOffer,
    /// The SMS.
    pub sms: SmsOutcome,
}

async fn offer_of(store: &dyn Store, clinic: &ClinicId, rule: &BroadcastRule) -> Result<LinkOffer, StoreError> {
    let booking_type: Option<BookingType> = store
        .get(&keys::entry(clinic, keys::BOOKING_TYPE_PREFIX, rule.booking_type_id.as_str()))
        .await?
        .map(|item| item.record())
        .transpose()?;
    let mut providers = Vec::new();
    for id in &rule.provider_ids {
        if let Some(item) = store.get(&keys::entry(clinic, keys::PROVIDER_PREFIX, id.as_str())).await? {
            let provider: Provider = item.record()?;
            providers.push(format!("{}, {}", provider.name, provider.professional_title));
        }
    }
    let mut locations = Vec::new();
    for id in &rule.location_ids {
        if let Some(item) = store.get(&keys::entry(clinic, keys::LOCATION_PREFIX, id.as_str())).await? {
            let location: Location = item.record()?;
            locations.push(location.full_name);
        }
    }
    Ok(LinkOffer {
        rule_title: rule.title.clone(),
        booking_type: booking_type.as_ref().map(|bt| bt.long_name.clone()).unwrap_or_default(),
        duration_minutes: booking_type.as_ref().map_or(0, |bt| bt.duration_minutes),
        providers,
        locations,
    })
}

/// The patient's URL for a token.
pub fn link_url(state: &AppState, token: &str) -> String {
    format!("{}/links/{token}", state.settings.public_base_url.trim_end_matches('/'))
}

/// The manage page's URL for a token.
pub fn manage_url(state: &AppState, token: &str) -> String {
    format!("{}/manage/{token}", state.settings.public_base_url.trim_end_matches('/'))
}

/// `POST /admin/clinics/{clinicId}/booking-links`: creates a link and texts it to the patient.
#[tracing::instrument(skip_all)]
pub async fn send(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let actor = authorize(request, &clinic_id, Permission::DiaryWrite)?;
    let input: SendLinkInput = json_body(request)?;
    let clinic = clinic(state.store.as_ref(), &clinic_id).await?;
    let now = state.clock.now();
    let today = now.to_zoned(clinic.time_zone.zone()).date();
    let mut errors = Vec::new();
    let rule_id = BroadcastRuleId::parse("rule_id", &input.rule_id).map_err(|error| errors.push(error)).ok();
    let reference =
        PatientReference::parse("patient_reference", &input.patient_reference).map_err(|error| errors.push(error)).ok();
    let patient = PatientDetails::parse(&input.patient, today, clinic.country, "patient.")
        .map_err(|found| errors.extend(found))
        .ok();
    let mobile = patient.as_ref().and_then(|patient| patient.mobile.clone());
    if patient.is_some() && mobile.is_none() {
        errors.push(FieldError::new("patient.mobile", "a booking link is sent by SMS: give the patient's mobile"));
    }
    let (Some(rule_id), Some(reference), Some(patient), Some(mobile)) = (rule_id, reference, patient, mobile) else {
        return Err(Problem::invalid(errors));
    };
    let rule: BroadcastRule = state
        .store
        .get(&keys::broadcast_rule(&clinic_id, rule_id.as_str()))
        .await?
        .ok_or_else(|| Problem::invalid(vec![FieldError::new("rule_id", "names no broadcast rule of this clinic")]))?
        .record()?;
    if rule.archived_at.is_some() {
        return Err(Problem::invalid(vec![FieldError::new("rule_id", "names an archived broadcast rule")]));
    }
    let token = draw_token()?;
    let link = BookingLink::sent(BookingLinkId::random(), &rule, reference, patient, token.hash(), &actor.subject, now);
    issue(state, &clinic, &actor.subject, &rule, (link, token), mobile, Vec::new(), "booking_link.sent").await
}

fn draw_token() -> Result<LinkToken, Problem> {
    tokens::draw().map_err(|error| {
        tracing::error!(%error, "no link token");
        Problem::unavailable()
    })
}

/// Writes the link, its token's record, its audit record and `writes` in one transaction, then
/// texts the URL; the answer shows the URL once.
#[allow(clippy::too_many_arguments)]
async fn issue(
    state: &AppState,
    clinic: &Clinic,
    actor: &str,
    rule: &BroadcastRule,
    (link, token): (BookingLink, LinkToken),
    mobile: PhoneNumber,
    writes: Vec<Write>,
    action: &str,
) -> Result<Response<Body>, Problem> {
    let clinic_id = &clinic.id;
    let now = state.clock.now();
    let record = TokenRecord { clinic_id: clinic_id.clone(), link_id: link.id.clone(), purpose: TokenPurpose::Book };
    let mut all = link_writes(clinic_id, &link, None, actor, action, now)?;
    all.push(tokens::record_write(&token.hash(), &record)?);
    all.extend(writes);
    match state.store.transact(all).await {
        Err(StoreError::ConditionFailed { .. }) => {
            return Err(Problem::conflict(
                "the link changed while this request ran (the patient may have booked); reload",
            ));
        }
        other => other?,
    }
    let url = link_url(state, token.as_str());
    let body =
        rule.sms_template.render(&SmsValues { first_name: &link.patient.first_name, clinic: &clinic.name, link: &url });
    let (sms, link, version) = match state.messages.send_sms(&Sms { to: mobile, body }).await {
        Ok(sent) => {
            let mut recorded = link.clone();
            recorded.sms_message_id = Some(sent.message_id.clone());
            let write = Write::put(link_item(clinic_id, &recorded, 2)?, Condition::VersionIs(1));
            let (link, version) = match state.store.write(write).await {
                Ok(()) => (recorded, 2),
                Err(error) => {
                    tracing::warn!(%error, link_id = %link.id, "SMS message id not recorded on the link");
                    (link, 1)
                }
            };
            (SmsOutcome { status: "sent".into(), message_id: Some(sent.message_id), error: None }, link, version)
        }
        Err(error) => {
            tracing::warn!(%error, link_id = %link.id, "booking link SMS not sent");
            (SmsOutcome { status: "failed".into(), message_id: None, error: Some(error.to_string()) }, link, 1)
        }
    };
    tracing::info!(link_id = %link.id, rule_id = %rule.id, sms = %sms.status, action, "booking link sent");
    let offer = offer_of(state.store.as_ref(), clinic_id, rule).await?;
    json(StatusCode::CREATED, &LinkSent { link: link_view(&link, version, now), url, offer, sms })
}

/// `POST /admin/clinics/{clinicId}/booking-links/{linkId}/resend`: the patient lost the text or
/// the link lapsed. The old link stops working and a new one, under the same rule, for the same
/// patient, is texted in its place, in one transaction (the raw token is still never stored).
#[tracing::instrument(skip_all)]
pub async fn resend(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let id = path_param(request, "linkId", |raw| BookingLinkId::parse("linkId", raw))?;
    let actor = authorize(request, &clinic_id, Permission::DiaryWrite)?;
    let clinic = clinic(state.store.as_ref(), &clinic_id).await?;
    let (mut old, version) = load_link(state.store.as_ref(), &clinic_id, &id)
        .await?
        .ok_or_else(|| Problem::not_found("no such booking link in this clinic"))?;
    let now = state.clock.now();
    let new_id = BookingLinkId::random();
    old.retire_for_resend(&actor.subject, now, new_id.clone()).map_err(refusal_problem)?;
    let mobile =
        old.patient.mobile.clone().ok_or_else(|| Problem::conflict("the link's patient has no mobile to text"))?;
    let rule: BroadcastRule = state
        .store
        .get(&keys::broadcast_rule(&clinic_id, old.rule_id.as_str()))
        .await?
        .ok_or_else(|| {
            Problem::conflict("the link's broadcast rule no longer exists; send a new link under another rule")
        })?
        .record()?;
    if rule.archived_at.is_some() {
        return Err(Problem::conflict("the link's broadcast rule is archived; send a new link under another rule"));
    }
    let token = draw_token()?;
    let mut link = BookingLink::sent(
        new_id,
        &rule,
        old.patient_reference.clone(),
        old.patient.clone(),
        token.hash(),
        &actor.subject,
        now,
    );
    link.replaces = Some(old.id.clone());
    let retire = link_writes(&clinic_id, &old, Some(version), &actor.subject, "booking_link.expired", now)?;
    issue(state, &clinic, &actor.subject, &rule, (link, token), mobile, retire, "booking_link.resent").await
}

/// A link's write with its audit record: a new link (`before` `None`) must not exist yet; a
/// changed one is conditional on the version it was read at.
fn link_writes(
    clinic_id: &ClinicId,
    link: &BookingLink,
    before: Option<u64>,
    actor: &str,
    action: &str,
    now: Timestamp,
) -> Result<Vec<Write>, Problem> {
    let after = before.map_or(1, |version| version + 1);
    Ok(vec![
        Write::put(link_item(clinic_id, link, after)?, before.map_or(Condition::NotExists, Condition::VersionIs)),
        audit_trail::record(
            clinic_id,
            Change {
                actor,
                action,
                entity: format!("booking_link/{}", link.id),
                before_version: before,
                after_version: Some(after),
            },
            now,
        )?,
    ])
}

fn refusal_problem(refusal: LinkRefusal) -> Problem {
    Problem::conflict(match refusal {
        LinkRefusal::Used => "the link has booked an appointment; change the appointment in the diary instead",
        LinkRefusal::Expired => "the link has already expired",
        LinkRefusal::Deleted => "the link was deleted",
        LinkRefusal::NotBooked => "the link has not booked an appointment",
        LinkRefusal::Replaced => "the link was already resent; resend the newer link instead",
    })
}

async fn change_link(
    state: &AppState,
    request: &Request,
    action: &str,
    change: impl Fn(&mut BookingLink, &str, Timestamp) -> Result<(), LinkRefusal>,
) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let id = path_param(request, "linkId", |raw| BookingLinkId::parse("linkId", raw))?;
    let actor = authorize(request, &clinic_id, Permission::DiaryWrite)?;
    let (mut link, version) = load_link(state.store.as_ref(), &clinic_id, &id)
        .await?
        .ok_or_else(|| Problem::not_found("no such booking link in this clinic"))?;
    let now = state.clock.now();
    change(&mut link, &actor.subject, now).map_err(refusal_problem)?;
    let writes = link_writes(&clinic_id, &link, Some(version), &actor.subject, action, now)?;
    match state.store.transact(writes).await {
        Err(StoreError::ConditionFailed { .. }) => {
            return Err(Problem::conflict(
                "the link changed while this request ran (the patient may have booked); reload",
            ));
        }
        other => other?,
    }
    tracing::info!(link_id = %link.id, action, "booking link changed");
    json(StatusCode::OK, &link_view(&link, version + 1, now))
}

/// `POST /admin/clinics/{clinicId}/booking-links/{linkId}/expire`: the patient phoned instead.
#[tracing::instrument(skip_all)]
pub async fn expire(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    change_link(state, request, "booking_link.expired", |link, by, now| link.expire(by, now)).await
}

/// `DELETE /admin/clinics/{clinicId}/booking-links/{linkId}`: removes an unused link.
#[tracing::instrument(skip_all)]
pub async fn delete(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    change_link(state, request, "booking_link.deleted", |link, by, now| link.delete(by, now)).await
}

/// The appointment a link booked, as it is now, with its full history.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LinkedAppointment {
    /// Identifier.
    pub id: String,
    /// Start now (after any reschedule), UTC.
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    /// The provider now.
    pub provider_id: String,
    /// The location now.
    pub location_id: String,
    /// `booked` or `cancelled`.
    pub status: crate::domain::appointment::AppointmentStatus,
    /// Every change: booked, rescheduled, moved, edited, cancelled; oldest first.
    pub history: Vec<AuditRecord>,
}

/// One link in a patient's history.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LinkHistoryEntry {
    /// The link.
    #[serde(flatten)]
    pub link: LinkView,
    /// The rule's title.
    pub rule_title: String,
    /// The appointment it booked.
    pub appointment: Option<LinkedAppointment>,
}

/// A patient's links, newest first.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LinkHistory {
    /// Links, newest first (at most 100).
    pub items: Vec<LinkHistoryEntry>,
}

/// `GET /admin/clinics/{clinicId}/patients/{patientReference}/booking-links`
#[tracing::instrument(skip_all)]
pub async fn history(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let reference = path_param(request, "patientReference", |raw| PatientReference::parse("patientReference", raw))?;
    authorize(request, &clinic_id, Permission::DiaryRead)?;
    let store = state.store.as_ref();
    let query = Query::prefix(keys::patient_links_partition(&clinic_id, reference.as_str()), "")
        .on_gsi1()
        .descending()
        .limit(100);
    let page = store.query(&query).await?;
    let now = state.clock.now();
    let mut items = Vec::new();
    for item in &page.items {
        let link: BookingLink = item.record()?;
        let rule_title = match store.get(&keys::broadcast_rule(&clinic_id, link.rule_id.as_str())).await? {
            Some(rule) => rule.record::<BroadcastRule>()?.title,
            None => String::new(),
        };
        let appointment = match &link.appointment_id {
            Some(id) => match booking::load(store, &clinic_id, id).await? {
                Some(stored) => {
                    let entity = format!("appointment/{id}");
                    let (history, _) =
                        audit_trail::history(store, &clinic_id, &entity, Query::prefix("", "").limit(200)).await?;
                    Some(LinkedAppointment {
                        id: id.to_string(),
                        starts_at: stored.appointment.starts_at,
                        provider_id: stored.appointment.provider_id.to_string(),
                        location_id: stored.appointment.location_id.to_string(),
                        status: stored.appointment.status,
                        history,
                    })
                }
                None => None,
            },
            None => None,
        };
        items.push(LinkHistoryEntry { link: link_view(&link, item.version, now), rule_title, appointment });
    }
    json(StatusCode::OK, &LinkHistory { items })
}

/// A provider's staff inbox.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InboxList {
    /// Messages, newest first (at most 100).
    pub items: Vec<InboxMessage>,
}

/// `GET /admin/clinics/{clinicId}/providers/{providerId}/messages`
#[tracing::instrument(skip_all)]
pub async fn inbox(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic_id = clinic_id(request)?;
    let provider = path_param(request, "providerId", |raw| ProviderId::parse("providerId", raw))?;
    authorize(request, &clinic_id, Permission::DiaryRead)?;
    if state.store.get(&keys::entry(&clinic_id, keys::PROVIDER_PREFIX, provider.as_str())).await?.is_none() {
        return Err(Problem::not_found("no such provider in this clinic"));
    }
    let query = Query::prefix(keys::inbox_partition(&clinic_id, provider.as_str()), "").descending().limit(100);
    let items = state.store.query(&query).await?.items.iter().map(Item::record).collect::<Result<_, _>>()?;
    json(StatusCode::OK, &InboxList { items })
}
