//! What patients may see lives in the clinic's public partition, and only while online booking
//! is on. The public clinic item is the gate: every public read needs it, it is removed in the
//! same transaction that switches online booking off (so nothing is served from that instant),
//! and it is written last when online booking is switched on (after the full dataset).

use serde::{Deserialize, Serialize};

use super::CatalogEntry;
use crate::app::AppState;
use crate::domain::booking_type::BookingType;
use crate::domain::clinic::{Clinic, ClinicId};
use crate::domain::diary::{DiaryBlock, DiaryTemplate};
use crate::domain::location::Location;
use crate::domain::online_settings::OnlineSettings;
use crate::domain::provider::Provider;
use crate::store::{Condition, Item, Key, Query, Store, StoreError, Write, keys, query_all};

/// The clinic's online settings, with the version every publishing write is conditional on.
#[derive(Debug, Clone)]
pub struct OnlineState {
    /// The settings (defaults when never saved).
    pub settings: OnlineSettings,
    /// The stored version (0: never saved).
    pub version: u64,
}

impl OnlineState {
    /// Whether the public partition is live.
    pub fn online(&self) -> bool {
        self.settings.online_booking_enabled
    }

    /// A check that the settings did not change since they were read, so a publishing write
    /// cannot race a switch of online booking.
    pub fn unchanged(&self, clinic: &ClinicId) -> Write {
        let condition = if self.version == 0 { Condition::NotExists } else { Condition::VersionIs(self.version) };
        Write::Check { key: keys::online_settings(clinic), condition }
    }

    /// The write that keeps a published copy in step: present while online and published,
    /// absent otherwise.
    pub fn publication<T: Serialize>(&self, key: Key, published: Option<T>) -> Result<Write, StoreError> {
        Ok(match published.filter(|_| self.online()) {
            Some(published) => Write::put(Item::from_record(key, &published)?, Condition::Always),
            None => Write::Delete { key, condition: Condition::Always },
        })
    }
}

/// Reads the clinic's online state.
pub async fn online_state(store: &dyn Store, clinic: &ClinicId) -> Result<OnlineState, StoreError> {
    match store.get(&keys::online_settings(clinic)).await? {
        Some(item) => Ok(OnlineState { settings: item.record()?, version: item.version }),
        None => Ok(OnlineState { settings: OnlineSettings::default(), version: 0 }),
    }
}

/// What patients see of a clinic: its name, zone and online settings. Stored as the gate item
/// of the public partition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublicClinic {
    /// Identifier.
    pub id: String,
    /// Name.
    pub name: String,
    /// IANA time zone of every time shown.
    pub time_zone: String,
    /// Whose national phone numbers patients may type.
    #[serde(default)]
    pub country: crate::domain::contact::Region,
    /// Logo, accent colour, address, phone and opening hours.
    #[serde(default)]
    pub branding: crate::domain::clinic::ClinicBranding,
    /// The online settings patients' pages follow.
    pub settings: OnlineSettings,
}

impl PublicClinic {
    /// The public view of a clinic with its settings.
    pub fn new(clinic: &Clinic, settings: &OnlineSettings) -> Self {
        Self {
            id: clinic.id.as_str().to_owned(),
            name: clinic.name.clone(),
            time_zone: clinic.time_zone.as_str().to_owned(),
            country: clinic.country,
            branding: clinic.branding.clone(),
            settings: settings.clone(),
        }
    }
}

/// What patients see of a diary block: when, never why.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct PublishedBlock {
    /// Who.
    pub provider_id: crate::domain::provider::ProviderId,
    /// From.
    pub starts_at: jiff::Timestamp,
    /// Until.
    pub ends_at: jiff::Timestamp,
}

impl From<&DiaryBlock> for PublishedBlock {
    fn from(block: &DiaryBlock) -> Self {
        Self { provider_id: block.provider_id.clone(), starts_at: block.starts_at, ends_at: block.ends_at }
    }
}

/// The public gate item for a clinic.
pub fn gate(clinic: &Clinic, settings: &OnlineSettings) -> Result<Item, StoreError> {
    Item::from_record(keys::public_clinic(&clinic.id), &PublicClinic::new(clinic, settings))
}

fn copy<T: Serialize>(clinic: &ClinicId, prefix: &str, id: &str, record: &T) -> Result<Option<Item>, StoreError> {
    Item::from_record(keys::published_entry(clinic, prefix, id), record).map(Some)
}

fn published_entry<T: CatalogEntry>(clinic: &ClinicId, item: &Item) -> Result<Option<Item>, StoreError> {
    let entry: T = item.record()?;
    match entry.published() {
        Some(published) => copy(clinic, T::PREFIX, entry.entry_id(), &published),
        None => Ok(None),
    }
}

/// The public copy of one private item of the clinic partition, if it has one.
fn public_copy(clinic: &ClinicId, item: &Item) -> Result<Option<Item>, StoreError> {
    let sk = item.key.sk.as_str();
    if sk.starts_with(keys::BOOKING_TYPE_PREFIX) {
        published_entry::<BookingType>(clinic, item)
    } else if sk.starts_with(keys::LOCATION_PREFIX) {
        published_entry::<Location>(clinic, item)
    } else if sk.starts_with(keys::PROVIDER_PREFIX) {
        published_entry::<Provider>(clinic, item)
    } else if sk.starts_with(keys::TEMPLATE_PREFIX) {
        let template: DiaryTemplate = item.record()?;
        copy(clinic, keys::TEMPLATE_PREFIX, template.id.as_str(), &template)
    } else if sk.starts_with(keys::BLOCK_PREFIX) {
        let block: DiaryBlock = item.record()?;
        copy(clinic, keys::BLOCK_PREFIX, block.id.as_str(), &PublishedBlock::from(&block))
    } else {
        Ok(None)
    }
}

/// Writes the public copy of every published entry, template and block (not the gate).
pub async fn publish_dataset(state: &AppState, clinic: &ClinicId) -> Result<usize, StoreError> {
    let items = query_all(state.store.as_ref(), Query::prefix(keys::clinic_partition(clinic), "").limit(1000)).await?;
    let mut writes = Vec::new();
    for item in &items {
        if let Some(copy) = public_copy(clinic, item)? {
            writes.push(Write::put(copy, Condition::Always));
        }
    }
    let count = writes.len();
    for chunk in writes.chunks(crate::store::MAX_TRANSACTION_WRITES) {
        state.store.transact(chunk.to_vec()).await?;
    }
    Ok(count)
}

/// Removes every public item but the gate (which the switch-off transaction already removed),
/// each chunk conditional on the settings still being at `off_version`, so a late clean-up
/// cannot remove what a quick switch back on has just published.
pub async fn clear_dataset(state: &AppState, clinic: &ClinicId, off_version: u64) -> Result<usize, StoreError> {
    let items = query_all(state.store.as_ref(), Query::prefix(keys::public_partition(clinic), "").limit(1000)).await?;
    let writes: Vec<Write> = items
        .into_iter()
        .filter(|item| item.key.sk != keys::PUBLIC_CLINIC_SK)
        .map(|item| Write::Delete { key: item.key, condition: Condition::Always })
        .collect();
    let count = writes.len();
    for chunk in writes.chunks(crate::store::MAX_TRANSACTION_WRITES - 1) {
        let mut chunk = chunk.to_vec();
        chunk.push(Write::Check { key: keys::online_settings(clinic), condition: Condition::VersionIs(off_version) });
        state.store.transact(chunk).await?;
    }
    Ok(count)
}
