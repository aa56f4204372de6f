//! The clinic's catalogue: booking types, locations and providers (admin routes, the public
//! catalogue), the online settings and the publication of everything patients may see.

pub mod admin;
pub mod entries;
pub mod error;
pub mod names;
pub mod public;
pub mod publication;
pub mod settings;

use jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::booking_type::{BookingType, BookingTypeChange, BookingTypeId, NewBookingTypeInput};
use crate::domain::events::EntryKind;
use crate::domain::location::{Location, LocationId, LocationInput};
use crate::domain::provider::{Provider, ProviderId, ProviderInput};
use crate::domain::validation::FieldError;
use crate::store::keys;

/// What booking types, locations and providers have in common: created from an input, changed
/// by a partial input, and published while enabled for online booking.
pub trait CatalogEntry: Serialize + DeserializeOwned + Clone + PartialEq + Send + Sync + 'static {
    /// The kind.
    const KIND: EntryKind;
    /// Sort-key prefix in the clinic's and the public partition.
    const PREFIX: &'static str;
    /// Path parameter naming one entry.
    const PATH_PARAMETER: &'static str;
    /// What an admin sends to create one.
    type Input: DeserializeOwned + Send + Sync;
    /// What an admin sends to change one.
    type Change: DeserializeOwned + Send + Sync;
    /// What patients see.
    type Published: Serialize;

    /// The id as text.
    fn entry_id(&self) -> &str;
    /// The name staff know it by.
    fn display_name(&self) -> &str;
    /// Checks an id from a path.
    fn parse_id(field: &str, raw: &str) -> Result<String, FieldError>;
    /// Validates a new entry.
    fn create(id: String, input: &Self::Input, now: Timestamp) -> Result<Self, Vec<FieldError>>;
    /// The entry after a change, or `None` when nothing changes.
    fn change(&self, change: &Self::Change, now: Timestamp) -> Result<Option<Self>, Vec<FieldError>>;
    /// What patients may see, while enabled.
    fn published(&self) -> Option<Self::Published>;
    /// Whether enabled for online booking.
    fn online(&self) -> bool;
    /// Whether staff archived it.
    fn is_archived(&self) -> bool;
    /// The entry archived at `now`, or `None` when it already is.
    fn archive(&self, now: Timestamp) -> Option<Self>;
    /// The audit entity name.
    fn entity(id: &str) -> String {
        format!("{}/{id}", Self::KIND.name())
    }
}

impl CatalogEntry for BookingType {
    const KIND: EntryKind = EntryKind::BookingType;
    const PREFIX: &'static str = keys::BOOKING_TYPE_PREFIX;
    const PATH_PARAMETER: &'static str = "bookingTypeId";
    type Input = NewBookingTypeInput;
    type Change = BookingTypeChange;
    type Published = crate::domain::booking_type::PublishedBookingType;

    fn entry_id(&self) -> &str {
        self.id.as_str()
    }
    fn display_name(&self) -> &str {
        &self.long_name
    }
    fn parse_id(field: &str, raw: &str) -> Result<String, FieldError> {
        BookingTypeId::parse(field, raw).map(|id| id.as_str().to_owned())
    }
    fn create(id: String, input: &Self::Input, now: Timestamp) -> Result<Self, Vec<FieldError>> {
        BookingType::create(BookingTypeId::generated(id), input, now)
    }
    fn change(&self, change: &Self::Change, now: Timestamp) -> Result<Option<Self>, Vec<FieldError>> {
        let change = BookingType::validate_change(change)?;
        Ok(self.apply(&change, now))
    }
    fn published(&self) -> Option<Self::Published> {
        BookingType::published(self)
    }
    fn online(&self) -> bool {
        self.enabled_online
    }
    fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
    fn archive(&self, now: Timestamp) -> Option<Self> {
        BookingType::archive(self, now)
    }
}

impl CatalogEntry for Location {
    const KIND: EntryKind = EntryKind::Location;
    const PREFIX: &'static str = keys::LOCATION_PREFIX;
    const PATH_PARAMETER: &'static str = "locationId";
    type Input = LocationInput;
    type Change = LocationInput;
    type Published = crate::domain::location::PublishedLocation;

    fn entry_id(&self) -> &str {
        self.id.as_str()
    }
    fn display_name(&self) -> &str {
        &self.full_name
    }
    fn parse_id(field: &str, raw: &str) -> Result<String, FieldError> {
        LocationId::parse(field, raw).map(|id| id.as_str().to_owned())
    }
    fn create(id: String, input: &Self::Input, now: Timestamp) -> Result<Self, Vec<FieldError>> {
        Location::create(LocationId::generated(id), input, now)
    }
    fn change(&self, change: &Self::Change, now: Timestamp) -> Result<Option<Self>, Vec<FieldError>> {
        Location::change(self, change, now)
    }
    fn published(&self) -> Option<Self::Published> {
        Location::published(self)
    }
    fn online(&self) -> bool {
        self.enabled_online
    }
    fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
    fn archive(&self, now: Timestamp) -> Option<Self> {
        Location::archive(self, now)
    }
}

impl CatalogEntry for Provider {
    const KIND: EntryKind = EntryKind::Provider;
    const PREFIX: &'static str = keys::PROVIDER_PREFIX;
    const PATH_PARAMETER: &'static str = "providerId";
    type Input = ProviderInput;
    type Change = ProviderInput;
    type Published = crate::domain::provider::PublishedProvider;

    fn entry_id(&self) -> &str {
        self.id.as_str()
    }
    fn display_name(&self) -> &str {
        &self.name
    }
    fn parse_id(field: &str, raw: &str) -> Result<String, FieldError> {
        ProviderId::parse(field, raw).map(|id| id.as_str().to_owned())
    }
    fn create(id: String, input: &Self::Input, now: Timestamp) -> Result<Self, Vec<FieldError>> {
        Provider::create(ProviderId::generated(id), input, now)
    }
    fn change(&self, change: &Self::Change, now: Timestamp) -> Result<Option<Self>, Vec<FieldError>> {
        Provider::change(self, change, now)
    }
    fn published(&self) -> Option<Self::Published> {
        Provider::published(self)
    }
    fn online(&self) -> bool {
        self.enabled_online
    }
    fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
    fn archive(&self, now: Timestamp) -> Option<Self> {
        Provider::archive(self, now)
    }
}
