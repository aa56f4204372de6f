//! The waitlist: entries (patients who join from the booking pages, or staff add), a scan that
//! offers freed times to matching entries in joining order, the offer messages (sent once, by
//! the scheduler port, with a single-use link), and expiry that hands a time to the next entry.

pub mod admin;
pub mod earlier;
pub mod offer_text;
pub mod pages;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::domain::appointment_message::{CLAIM_LEASE, MAX_SEND_ATTEMPTS, retry_delay};
use crate::domain::booking_link::{LinkToken, TokenHash};
use crate::domain::booking_type::BookingTypeId;
use crate::domain::clinic::{Clinic, ClinicId};
use crate::domain::jobs::{JobTask, ScheduledJob};
use crate::domain::waitlist::{
    EntryStatus, OfferDelivery, OfferStatus, OfferedTime, WaitlistEntry, WaitlistEntryId, WaitlistOffer,
    WaitlistOfferId, plan_offers,
};
use crate::features::appointment_lifecycle::load_settings;
use crate::features::booking_links::tokens;
use crate::features::diary::private_offer::{PrivateDiary, Rules};
use crate::messages::{Email, SendError, Sms};
use crate::scheduler::{JobError, JobOutcome};
use crate::store::{Condition, Item, Key, Query, StoreError, Write, keys, query_all};

/// Most free slots one scan considers per booking type.
const SLOTS_PER_TYPE: usize = 2_000;

fn retryable(error: impl std::fmt::Display) -> JobError {
    JobError::Retryable(error.to_string())
}

/// What a waitlist token's hash opens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OfferTokenRecord {
    /// The clinic.
    pub clinic_id: ClinicId,
    /// The offer.
    pub offer_id: WaitlistOfferId,
}

/// An entry with its stored version.
#[derive(Clone)]
pub struct StoredEntry {
    /// The entry.
    pub entry: WaitlistEntry,
    /// Its version.
    pub version: u64,
}

/// An offer with its stored version.
#[derive(Debug, Clone)]
pub struct StoredOffer {
    /// The offer.
    pub offer: WaitlistOffer,
    /// Its version.
    pub version: u64,
}

/// The write that stores an entry at `version` (conditional on the one read, or new).
pub fn entry_write(clinic: &ClinicId, entry: &WaitlistEntry, read: Option<u64>) -> Result<Write, StoreError> {
    let (version, condition) = match read {
        Some(version) => (version + 1, Condition::VersionIs(version)),
        None => (1, Condition::NotExists),
    };
    let item = Item::from_record(keys::waitlist_entry(clinic, entry.id.as_str()), entry)?.with_version(version);
    Ok(Write::put(item, condition))
}

/// The write that stores an offer (conditional on the version read, or new).
pub fn offer_write(clinic: &ClinicId, offer: &WaitlistOffer, read: Option<u64>) -> Result<Write, StoreError> {
    let (version, condition) = match read {
        Some(version) => (version + 1, Condition::VersionIs(version)),
        None => (1, Condition::NotExists),
    };
    let item = Item::from_record(keys::waitlist_offer(clinic, offer.id.as_str()), offer)?.with_version(version);
    Ok(Write::put(item, condition))
}

/// Reads one entry.
pub async fn load_entry(
    state: &AppState,
    clinic: &ClinicId,
    id: &WaitlistEntryId,
) -> Result<Option<StoredEntry>, StoreError> {
    let Some(item) = state.store.get(&keys::waitlist_entry(clinic, id.as_str())).await? else { return Ok(None) };
    Ok(Some(StoredEntry { entry: item.record()?, version: item.version }))
}

/// Reads one offer.
pub async fn load_offer(
    state: &AppState,
    clinic: &ClinicId,
    id: &WaitlistOfferId,
) -> Result<Option<StoredOffer>, StoreError> {
    let Some(item) = state.store.get(&keys::waitlist_offer(clinic, id.as_str())).await? else { return Ok(None) };
    Ok(Some(StoredOffer { offer: item.record()?, version: item.version }))
}

/// Every entry of the clinic, in joining order.
pub async fn entries(state: &AppState, clinic: &ClinicId) -> Result<Vec<StoredEntry>, StoreError> {
    let items = query_all(
        state.store.as_ref(),
        Query::prefix(keys::waitlist_partition(clinic), keys::WAITLIST_ENTRY_PREFIX).limit(1000),
    )
    .await?;
    let mut entries = items
        .into_iter()
        .map(|item| Ok(StoredEntry { entry: item.record()?, version: item.version }))
        .collect::<Result<Vec<_>, StoreError>>()?;
    entries.sort_by(|a, b| a.entry.joined_at.cmp(&b.entry.joined_at).then_with(|| a.entry.id.cmp(&b.entry.id)));
    Ok(entries)
}

/// Every offer of the clinic.
pub async fn offers(state: &AppState, clinic: &ClinicId) -> Result<Vec<StoredOffer>, StoreError> {
    let items = query_all(
        state.store.as_ref(),
        Query::prefix(keys::waitlist_partition(clinic), keys::WAITLIST_OFFER_PREFIX).limit(1000),
    )
    .await?;
    items.into_iter().map(|item| Ok(StoredOffer { offer: item.record()?, version: item.version })).collect()
}

/// The job that scans a clinic's waitlist now.
pub fn scan_job(clinic: &ClinicId, now: Timestamp) -> ScheduledJob {
    ScheduledJob::waitlist_scan(clinic, now)
}

/// The job sending an offer's message; a retry after `attempts` failed sends has its own name.
fn send_job(clinic: &ClinicId, offer: &WaitlistOfferId, attempts: u32) -> ScheduledJob {
    let job_id = match attempts {
        0 => format!("waitlist-offer-{offer}"),
        n => format!("waitlist-offer-{offer}-retry-{n}"),
    };
    ScheduledJob {
        job_id,
        clinic_id: clinic.clone(),
        task: JobTask::SendWaitlistOffer { offer_id: offer.as_str().to_owned() },
    }
}

fn expiry_job(clinic: &ClinicId, offer: &WaitlistOfferId) -> ScheduledJob {
    ScheduledJob {
        job_id: format!("waitlist-expiry-{offer}"),
        clinic_id: clinic.clone(),
        task: JobTask::ExpireWaitlistOffer { offer_id: offer.as_str().to_owned() },
    }
}

/// A clinic's line in the list of clinics with a waitlist.
#[derive(Debug, Serialize, Deserialize)]
struct ListedClinic {
    clinic_id: ClinicId,
}

/// The write that lists a clinic among those with a waitlist (the sweeper scans them).
pub fn clinic_index_write(clinic: &ClinicId) -> Result<Write, StoreError> {
    let listed = ListedClinic { clinic_id: clinic.clone() };
    Ok(Write::put(Item::from_record(keys::waitlist_clinic(clinic), &listed)?, Condition::Always))
}

/// Offers freed times to matching entries, in joining order; lapses entries whose range ended.
/// Safe to run at any time and twice: an offer is written together with its entry's version.
#[tracing::instrument(skip_all, fields(clinic_id = %clinic_id))]
pub async fn scan(state: &AppState, clinic_id: &ClinicId) -> Result<usize, JobError> {
    let now = state.clock.now();
    let Some(item) = state.store.get(&keys::clinic_profile(clinic_id)).await.map_err(retryable)? else {
        return Ok(0);
    };
    let clinic: Clinic = item.record().map_err(retryable)?;
    let zone = clinic.time_zone.zone();
    let today = now.to_zoned(zone.clone()).date();
    let stored = entries(state, clinic_id).await.map_err(retryable)?;
    // Entries whose range is over leave the list.
    for lapsed in stored.iter().filter(|stored| stored.entry.lapsed(today) && stored.entry.open_offer.is_none()) {
        let entry = WaitlistEntry { status: EntryStatus::Expired, updated_at: now, ..lapsed.entry.clone() };
        match state.store.write(entry_write(clinic_id, &entry, Some(lapsed.version)).map_err(retryable)?).await {
            Ok(()) | Err(StoreError::ConditionFailed { .. }) => {}
            Err(error) => return Err(retryable(error)),
        }
    }
    let waiting: Vec<&StoredEntry> =
        stored.iter().filter(|stored| stored.entry.available() && !stored.entry.lapsed(today)).collect();
    if waiting.is_empty() {
        return Ok(0);
    }
    let (settings, _) = load_settings(state.store.as_ref(), clinic_id).await.map_err(retryable)?;
    let open: Vec<WaitlistOffer> = offers(state, clinic_id)
        .await
        .map_err(retryable)?
        .into_iter()
        .map(|stored| stored.offer)
        .filter(|offer| offer.status == OfferStatus::Open)
        .collect();
    let mut types: Vec<BookingTypeId> =
        waiting.iter().map(|stored| stored.entry.preferences.booking_type_id.clone()).collect();
    types.sort();
    types.dedup();
    let mut free = Vec::new();
    for booking_type in types {
        let Some(diary) =
            PrivateDiary::load(state, &clinic, &booking_type, None, None, Rules::Staff).await.map_err(retryable)?
        else {
            continue;
        };
        let from = waiting.iter().map(|stored| stored.entry.preferences.from).min().unwrap_or(today).max(today);
        let to = waiting.iter().map(|stored| stored.entry.preferences.to).max().unwrap_or(today);
        let slots = diary.free_slots(state, clinic_id, from, to, SLOTS_PER_TYPE).await.map_err(retryable)?;
        free.push((booking_type, slots));
    }
    let entries: Vec<WaitlistEntry> = waiting.iter().map(|stored| stored.entry.clone()).collect();
    let planned = plan_offers(&entries, &free, &open, usize::from(settings.waitlist.simultaneous_offers), &zone);
    let mut made = 0;
    for plan in planned {
        let Some(stored) = waiting.iter().find(|stored| stored.entry.id == plan.entry_id) else { continue };
        let booking_type = stored.entry.preferences.booking_type_id.clone();
        let offer = WaitlistOffer {
            id: WaitlistOfferId::random(),
            entry_id: stored.entry.id.clone(),
            booking_type_id: booking_type,
            starts_at: plan.slot.starts_at,
            provider_id: plan.slot.provider_id.clone(),
            location_id: plan.slot.location_id.clone(),
            open_until: now + SignedDuration::from_mins(i64::from(settings.waitlist.offer_minutes)),
            status: OfferStatus::Open,
            delivery: OfferDelivery::Queued,
            created_at: now,
            attempts: 0,
            retry_at: None,
        };
        let mut entry = stored.entry.clone();
        entry.open_offer = Some(offer.id.clone());
        entry.offered.push(OfferedTime { starts_at: offer.starts_at, provider_id: offer.provider_id.clone() });
        entry.updated_at = now;
        let writes = vec![
            entry_write(clinic_id, &entry, Some(stored.version)).map_err(retryable)?,
            offer_write(clinic_id, &offer, None).map_err(retryable)?,
        ];
        match state.store.transact(writes).await {
            Ok(()) => {}
            // The entry changed meanwhile (another scan offered it something): the next scan decides.
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(error) => return Err(retryable(error)),
        }
        made += 1;
        tracing::info!(offer_id = %offer.id, entry_id = %entry.id, "waitlist offer made");
        for (at, job) in
            [(now, send_job(clinic_id, &offer.id, 0)), (offer.open_until, expiry_job(clinic_id, &offer.id))]
        {
            if let Err(error) = state.scheduler.schedule_once(at, &job).await {
                tracing::error!(%error, job_id = %job.job_id, "waitlist schedule not made; the sweeper will rescan");
            }
        }
    }
    Ok(made)
}

/// Scans every clinic that has a waitlist (the sweeper's part: times freed by a new template
/// or a removed block, and schedules lost after a commit).
pub async fn sweep(state: &AppState) -> Result<usize, JobError> {
    let clinics = query_all(state.store.as_ref(), Query::prefix(keys::WAITLIST_CLINICS, "").limit(1000))
        .await
        .map_err(retryable)?;
    let mut made = 0;
    for item in clinics {
        let Ok(listed) = item.record::<ListedClinic>() else { continue };
        let clinic = listed.clinic_id;
        made += scan(state, &clinic).await?;
        // Offers whose delivery or expiry schedule was lost.
        let now = state.clock.now();
        for stored in offers(state, &clinic).await.map_err(retryable)? {
            let offer = &stored.offer;
            if offer.status == OfferStatus::Open && now >= offer.open_until {
                expire(state, &clinic, offer.id.as_str()).await?;
            } else if offer.status == OfferStatus::Open
                && offer.delivery == OfferDelivery::Queued
                && offer.retry_at.is_none_or(|due| now >= due)
            {
                deliver(state, &clinic, offer.id.as_str()).await?;
            }
        }
    }
    Ok(made)
}

/// The link a patient opens to see and take an offer.
pub fn offer_url(state: &AppState, token: &LinkToken) -> String {
    format!("{}/waitlist/{}", state.settings.public_base_url.trim_end_matches('/'), token.as_str())
}

fn token_key(hash: &TokenHash) -> Key {
    keys::waitlist_token(hash.as_str())
}

/// Finds the offer a token from a URL opens.
pub async fn open_offer(state: &AppState, token: &str) -> Result<Option<(ClinicId, StoredOffer)>, StoreError> {
    let Some(token) = LinkToken::parse(token) else { return Ok(None) };
    let Some(item) = state.store.get(&token_key(&token.hash())).await? else { return Ok(None) };
    let record: OfferTokenRecord = item.record()?;
    let Some(offer) = load_offer(state, &record.clinic_id, &record.offer_id).await? else { return Ok(None) };
    Ok(Some((record.clinic_id, offer)))
}

/// Sends an offer's message once: claimed with a version-checked write (with the hash of the
/// fresh token it carries), sent, recorded. A repeat or late delivery does nothing.
#[tracing::instrument(skip_all, fields(clinic_id = %clinic_id, offer_id))]
pub async fn deliver(state: &AppState, clinic_id: &ClinicId, offer_id: &str) -> Result<JobOutcome, JobError> {
    let now = state.clock.now();
    let Ok(id) = WaitlistOfferId::parse("offer_id", offer_id) else { return Ok(JobOutcome::Unknown) };
    let Some(stored) = load_offer(state, clinic_id, &id).await.map_err(retryable)? else {
        tracing::warn!("no record of this offer; ignored");
        return Ok(JobOutcome::Unknown);
    };
    match &stored.offer.delivery {
        OfferDelivery::Queued => {}
        OfferDelivery::Sending { since } if now.duration_since(*since) >= CLAIM_LEASE => {
            tracing::error!("a runner was lost while sending this offer; recorded as unknown, not sent again");
            let offer = WaitlistOffer { delivery: OfferDelivery::Unknown, ..stored.offer.clone() };
            return match state
                .store
                .write(offer_write(clinic_id, &offer, Some(stored.version)).map_err(retryable)?)
                .await
            {
                Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(JobOutcome::AlreadyDone),
                Err(error) => Err(retryable(error)),
            };
        }
        OfferDelivery::Sending { .. } => {
            return Err(JobError::Retryable("another delivery is sending this offer".into()));
        }
        _ => return Ok(JobOutcome::AlreadyDone),
    }
    if !stored.offer.takeable(now) {
        let offer = WaitlistOffer {
            delivery: OfferDelivery::Failed { reason: "the offer closed before it was sent".into() },
            ..stored.offer.clone()
        };
        return match state.store.write(offer_write(clinic_id, &offer, Some(stored.version)).map_err(retryable)?).await {
            Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(JobOutcome::AlreadyDone),
            Err(error) => Err(retryable(error)),
        };
    }
    let Some(entry) = load_entry(state, clinic_id, &stored.offer.entry_id).await.map_err(retryable)? else {
        return Ok(JobOutcome::Unknown);
    };
    let token = tokens::draw().map_err(retryable)?;
    let claimed = WaitlistOffer { delivery: OfferDelivery::Sending { since: now }, ..stored.offer.clone() };
    let record = OfferTokenRecord { clinic_id: clinic_id.clone(), offer_id: id.clone() };
    let claim = vec![
        offer_write(clinic_id, &claimed, Some(stored.version)).map_err(retryable)?,
        Write::put(Item::from_record(token_key(&token.hash()), &record).map_err(retryable)?, Condition::NotExists),
    ];
    match state.store.transact(claim).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { .. }) => return Ok(JobOutcome::AlreadyDone),
        Err(error) => return Err(retryable(error)),
    }
    let text = offer_text::offer_text(state, clinic_id, &stored.offer, &entry.entry, &offer_url(state, &token))
        .await
        .map_err(retryable)?;
    let mut sent = Vec::new();
    let mut failures = Vec::new();
    if let Some(mobile) = &entry.entry.patient.mobile {
        match state.messages.send_sms(&Sms { to: mobile.clone(), body: text.sms.clone() }).await {
            Ok(done) => sent.push(done.message_id),
            Err(error) => failures.push(error),
        }
    }
    if let Some(email) = &entry.entry.patient.email {
        let email = Email {
            to: email.clone(),
            subject: text.subject.clone(),
            text: text.email.clone(),
            html: None,
            invite: None,
        };
        match state.messages.send_email(&email).await {
            Ok(done) => sent.push(done.message_id),
            Err(error) => failures.push(error),
        }
    }
    let transient = !failures.is_empty() && failures.iter().all(SendError::is_transient);
    if sent.is_empty() && transient && stored.offer.attempts + 1 < MAX_SEND_ATTEMPTS && stored.offer.takeable(now) {
        return retry_later(state, clinic_id, &claimed, &token, &failures, now).await;
    }
    let delivery = match (sent.is_empty(), failures.last()) {
        (false, _) => OfferDelivery::Sent { message_ids: sent },
        (true, Some(error)) => OfferDelivery::Failed { reason: error.to_string() },
        (true, None) => OfferDelivery::Failed { reason: "no contact detail".into() },
    };
    let failed = matches!(delivery, OfferDelivery::Failed { .. });
    let recorded = WaitlistOffer { delivery, ..claimed };
    // Recorded against the claim; a patient who took the offer meanwhile changed only its status.
    for _ in 0..5 {
        let Some(current) = load_offer(state, clinic_id, &id).await.map_err(retryable)? else { break };
        let next = WaitlistOffer { delivery: recorded.delivery.clone(), ..current.offer.clone() };
        match state.store.write(offer_write(clinic_id, &next, Some(current.version)).map_err(retryable)?).await {
            Ok(()) => break,
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(error) => return Err(retryable(error)),
        }
    }
    if failed {
        tracing::error!("waitlist offer not sent; the time goes to the next entry at expiry");
    } else {
        tracing::info!("waitlist offer sent");
    }
    Ok(JobOutcome::Ran)
}

/// A send that failed for a transient reason on every channel goes back to the queue with its
/// attempt counted and a later due time (1, 2, 4, 8 minutes: the reminders' rule), under a new
/// job; the token it would have carried is forgotten (it reached no one), the next attempt
/// draws its own.
async fn retry_later(
    state: &AppState,
    clinic_id: &ClinicId,
    claimed: &WaitlistOffer,
    token: &LinkToken,
    failures: &[SendError],
    now: Timestamp,
) -> Result<JobOutcome, JobError> {
    let attempts = claimed.attempts + 1;
    let due = now.saturating_add(retry_delay(attempts)).unwrap_or(now);
    let reasons: Vec<String> = failures.iter().map(ToString::to_string).collect();
    tracing::warn!(reasons = ?reasons, attempts, "waitlist offer not sent; retrying later");
    for _ in 0..5 {
        let Some(current) = load_offer(state, clinic_id, &claimed.id).await.map_err(retryable)? else { break };
        // Only while this runner's claim stands: a later delivery that called it lost has
        // recorded `unknown`, and the offer must not go out again.
        if current.offer.delivery != claimed.delivery {
            tracing::warn!("the send's claim was taken over; not queued again");
            return Ok(JobOutcome::AlreadyDone);
        }
        let again =
            WaitlistOffer { delivery: OfferDelivery::Queued, attempts, retry_at: Some(due), ..current.offer.clone() };
        let writes = vec![
            offer_write(clinic_id, &again, Some(current.version)).map_err(retryable)?,
            Write::Delete { key: token_key(&token.hash()), condition: Condition::Always },
        ];
        match state.store.transact(writes).await {
            Ok(()) => break,
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(error) => return Err(retryable(error)),
        }
    }
    if let Err(error) = state.scheduler.schedule_once(due, &send_job(clinic_id, &claimed.id, attempts)).await {
        tracing::error!(%error, "waitlist retry not scheduled; the sweeper will send it");
    }
    Ok(JobOutcome::Ran)
}

/// Closes an offer whose time ran out and hands the time to the next entry.
#[tracing::instrument(skip_all, fields(clinic_id = %clinic_id, offer_id))]
pub async fn expire(state: &AppState, clinic_id: &ClinicId, offer_id: &str) -> Result<JobOutcome, JobError> {
    let now = state.clock.now();
    let Ok(id) = WaitlistOfferId::parse("offer_id", offer_id) else { return Ok(JobOutcome::Unknown) };
    let Some(stored) = load_offer(state, clinic_id, &id).await.map_err(retryable)? else {
        return Ok(JobOutcome::Unknown);
    };
    if stored.offer.status != OfferStatus::Open {
        return Ok(JobOutcome::AlreadyDone);
    }
    if now < stored.offer.open_until {
        return Err(JobError::Retryable("delivered before the offer's end".into()));
    }
    close(state, clinic_id, &stored, OfferStatus::Expired).await.map_err(retryable)?;
    scan(state, clinic_id).await?;
    Ok(JobOutcome::Ran)
}

/// Closes an open offer with `status` and frees its entry for the next time (one transaction).
pub async fn close(
    state: &AppState,
    clinic_id: &ClinicId,
    stored: &StoredOffer,
    status: OfferStatus,
) -> Result<(), StoreError> {
    let now = state.clock.now();
    let offer = WaitlistOffer { status, ..stored.offer.clone() };
    let mut writes = vec![offer_write(clinic_id, &offer, Some(stored.version))?];
    if let Some(entry) = load_entry(state, clinic_id, &stored.offer.entry_id).await?
        && entry.entry.open_offer.as_ref() == Some(&stored.offer.id)
    {
        let next = WaitlistEntry { open_offer: None, updated_at: now, ..entry.entry.clone() };
        writes.push(entry_write(clinic_id, &next, Some(entry.version))?);
    }
    match state.store.transact(writes).await {
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(error) => Err(error),
    }
}
