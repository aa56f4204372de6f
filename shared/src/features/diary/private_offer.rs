//! Free slots from the clinic's private diary (not its public copy), for one booking type and,
//! when given, only some providers and locations: what staff-initiated channels offer (booking
//! links, partner bookings), whether or not public online booking is switched on.

use std::collections::{BTreeSet, HashMap, HashSet};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::booking;
use crate::app::AppState;
use crate::domain::availability::{Choice, Diary, OfferedSlot, SlotQuery, Window};
use crate::domain::booking_type::{BookingType, BookingTypeId};
use crate::domain::clinic::{Clinic, ClinicId};
use crate::domain::diary::{DiaryBlock, DiaryTemplate};
use crate::domain::location::{Location, LocationId};
use crate::domain::provider::{Provider, ProviderId};
use crate::features::catalog::publication::online_state;
use crate::store::{StoreError, keys, records};

/// The part of the clinic's diary one booking type may be booked in.
pub struct PrivateDiary {
    /// The clinic's zone.
    pub zone: TimeZone,
    /// The booking type.
    pub booking_type: BookingType,
    /// The providers it may be booked with, by id.
    pub providers: HashMap<ProviderId, Provider>,
    /// The locations, by id.
    pub locations: HashMap<LocationId, Location>,
    templates: Vec<DiaryTemplate>,
    blocks: Vec<DiaryBlock>,
    window: Window,
}

/// Which channel's rules a diary answers under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rules {
    /// A patient on their own (portal, manage link of an online booking): the clinic's minimum
    /// notice, horizon and templates' publication timetables.
    Online,
    /// Staff, partners, booking links and waitlist offers: every free slot of the diary from
    /// now, up to a year ahead.
    Staff,
}

/// How far ahead staff-side channels see.
pub const STAFF_HORIZON_DAYS: u32 = 366;

impl PrivateDiary {
    /// Loads the diary for `booking_type`, limited to `providers` and `locations` when given
    /// (those that no longer exist are dropped): `None` when the booking type does not exist.
    /// The window is the clinic's minimum notice and horizon.
    pub async fn load(
        state: &AppState,
        clinic: &Clinic,
        booking_type: &BookingTypeId,
        providers: Option<&[ProviderId]>,
        locations: Option<&[LocationId]>,
        rules: Rules,
    ) -> Result<Option<Self>, StoreError> {
        let store = state.store.as_ref();
        // What staff archived takes no new booking through any channel (links, partners, the
        // portal, the waitlist), though the private diary ignores the online flag.
        let Some(booking_type) = store
            .get(&keys::entry(&clinic.id, keys::BOOKING_TYPE_PREFIX, booking_type.as_str()))
            .await?
            .filter(crate::store::Item::is_current)
        else {
            return Ok(None);
        };
        let partition = keys::clinic_partition(&clinic.id);
        let providers = records::<Provider>(store, &partition, keys::PROVIDER_PREFIX)
            .await?
            .into_iter()
            .filter(|provider| {
                provider.archived_at.is_none() && providers.is_none_or(|only| only.contains(&provider.id))
            })
            .map(|provider| (provider.id.clone(), provider))
            .collect();
        let locations = records::<Location>(store, &partition, keys::LOCATION_PREFIX)
            .await?
            .into_iter()
            .filter(|location| {
                location.archived_at.is_none() && locations.is_none_or(|only| only.contains(&location.id))
            })
            .map(|location| (location.id.clone(), location))
            .collect();
        let templates = records(store, &partition, keys::TEMPLATE_PREFIX).await?;
        let blocks = records(store, &partition, keys::BLOCK_PREFIX).await?;
        let window = match rules {
            Rules::Online => {
                let settings = online_state(store, &clinic.id).await?.settings;
                Window::at(state.clock.now(), settings.minimum_notice_minutes, settings.horizon_days)
            }
            Rules::Staff => Window::staff(state.clock.now(), STAFF_HORIZON_DAYS),
        };
        Ok(Some(Self {
            zone: clinic.time_zone.zone(),
            booking_type: booking_type.record()?,
            providers,
            locations,
            templates,
            blocks,
            window,
        }))
    }

    /// The first and last local day a slot may be on.
    pub fn days(&self) -> (Date, Date) {
        self.window.days(&self.zone)
    }

    fn query(&self, from: Date, to: Date) -> SlotQuery {
        SlotQuery {
            booking_type: self.booking_type.id.clone(),
            duration_minutes: self.booking_type.duration_minutes,
            provider: Choice::Any,
            location: Choice::Any,
            from,
            to,
        }
    }

    fn diary<'a>(
        &'a self,
        busy: &'a HashMap<ProviderId, HashSet<i64>>,
        providers: &'a BTreeSet<ProviderId>,
        locations: &'a BTreeSet<LocationId>,
    ) -> Diary<'a> {
        Diary { zone: &self.zone, templates: &self.templates, blocks: &self.blocks, busy, providers, locations }
    }

    fn provider_ids(&self) -> BTreeSet<ProviderId> {
        self.providers.keys().cloned().collect()
    }

    fn location_ids(&self) -> BTreeSet<LocationId> {
        self.locations.keys().cloned().collect()
    }

    /// Free slots between two local days, at most `limit`: one query per provider for its
    /// claimed units (live holds included).
    pub async fn free_slots(
        &self,
        state: &AppState,
        clinic: &ClinicId,
        from: Date,
        to: Date,
        limit: usize,
    ) -> Result<Vec<OfferedSlot>, StoreError> {
        let providers = self.provider_ids();
        let locations = self.location_ids();
        // Only the claims of the days asked for (a day either side for zone offsets).
        let start_of = |day: Date| day.to_zoned(self.zone.clone()).map(|zoned| zoned.timestamp());
        let since =
            start_of(from.yesterday().unwrap_or(from)).map_or(self.window.earliest, |at| at.max(self.window.earliest));
        let until = start_of(to.checked_add(jiff::Span::new().days(2)).unwrap_or(to))
            .map_or(self.window.latest, |at| at.min(self.window.latest))
            + SignedDuration::from_hours(24);
        let busy = booking::busy_units(state.store.as_ref(), clinic, providers.iter(), since, until).await?;
        Ok(self.diary(&busy, &providers, &locations).free_slots(&self.query(from, to), &self.window, limit))
    }

    /// The diary's candidates (provider and location) at `at`, ignoring claims: the claims'
    /// conditions decide.
    pub fn candidates_at(&self, at: Timestamp) -> Vec<OfferedSlot> {
        let providers = self.provider_ids();
        let locations = self.location_ids();
        let none = HashMap::new();
        let day = at.to_zoned(self.zone.clone()).date();
        self.diary(&none, &providers, &locations).candidates_at(&self.query(day, day), &self.window, at)
    }
}
