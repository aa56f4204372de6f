//! The names staff know catalogue entries by, so that admin answers can carry them beside ids
//! (`provider: {id, name}`) and a manager can read a list without cross-referencing others.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::CatalogEntry;
use crate::domain::booking_type::BookingType;
use crate::domain::clinic::ClinicId;
use crate::domain::location::Location;
use crate::domain::partner::Partner;
use crate::domain::provider::Provider;
use crate::store::{Query, Store, StoreError, keys, query_all};

/// An entry an answer refers to: its id, and its name (`null` if it no longer exists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Named {
    /// The id.
    pub id: String,
    /// Its name, or `null` when the entry no longer exists.
    pub name: Option<String>,
}

/// The clinic's booking types, providers, locations and partners by id (four queries, run
/// together, once per answer).
#[derive(Debug, Default)]
pub struct CatalogNames {
    booking_types: HashMap<String, String>,
    providers: HashMap<String, String>,
    locations: HashMap<String, String>,
    partners: HashMap<String, String>,
}

async fn names_of<T: CatalogEntry>(
    store: &dyn Store,
    clinic: &ClinicId,
) -> Result<HashMap<String, String>, StoreError> {
    let items = query_all(store, Query::prefix(keys::clinic_partition(clinic), T::PREFIX)).await?;
    items
        .iter()
        .map(|item| item.record::<T>().map(|entry| (entry.entry_id().to_owned(), entry.display_name().to_owned())))
        .collect()
}

async fn partner_names(store: &dyn Store, clinic: &ClinicId) -> Result<HashMap<String, String>, StoreError> {
    let items = query_all(store, Query::prefix(keys::clinic_partition(clinic), keys::PARTNER_PREFIX)).await?;
    items
        .iter()
        .map(|item| item.record::<Partner>().map(|partner| (partner.id.as_str().to_owned(), partner.name)))
        .collect()
}

fn named(names: &HashMap<String, String>, id: &str) -> Named {
    Named { id: id.to_owned(), name: names.get(id).cloned() }
}

impl CatalogNames {
    /// The clinic's names, or none (every `name` then reads `null`) if they cannot be read: an
    /// answer about a write that has already happened must not turn into an error over a label.
    pub async fn load_or_none(store: &dyn Store, clinic: &ClinicId) -> Self {
        Self::load(store, clinic).await.unwrap_or_else(|error| {
            tracing::warn!(%error, "catalogue names not read; answering with ids only");
            Self::default()
        })
    }

    /// Reads the clinic's names.
    pub async fn load(store: &dyn Store, clinic: &ClinicId) -> Result<Self, StoreError> {
        let (booking_types, providers, locations, partners) = futures_util::try_join!(
            names_of::<BookingType>(store, clinic),
            names_of::<Provider>(store, clinic),
            names_of::<Location>(store, clinic),
            partner_names(store, clinic),
        )?;
        Ok(Self { booking_types, providers, locations, partners })
    }

    /// A booking type by id.
    pub fn booking_type(&self, id: &str) -> Named {
        named(&self.booking_types, id)
    }

    /// A provider by id.
    pub fn provider(&self, id: &str) -> Named {
        named(&self.providers, id)
    }

    /// A location by id.
    pub fn location(&self, id: &str) -> Named {
        named(&self.locations, id)
    }

    /// A partner by code.
    pub fn partner(&self, id: &str) -> Named {
        named(&self.partners, id)
    }
}
