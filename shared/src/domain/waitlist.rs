//! The waitlist: patients for whom no time suited say what would, and are offered the first
//! matching time that frees, in the order they joined. Pure: what matches, who is offered what.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::availability::OfferedSlot;
use super::booking_type::BookingTypeId;
use super::diary::DayOfWeek;
use super::ids::uuid_id;
use super::location::LocationId;
use super::patient::PatientDetails;
use super::provider::ProviderId;
use super::validation::{Checker, FieldError};

uuid_id!(
    /// A waitlist entry's identifier.
    WaitlistEntryId,
    "waitlist entry"
);
uuid_id!(
    /// An offer's identifier.
    WaitlistOfferId,
    "waitlist offer"
);

/// Longest date range one entry may wait for.
pub const MAX_RANGE_DAYS: i32 = 366;

/// When in the day a patient can come (by the slot's local start).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeOfDay {
    /// Any time.
    #[default]
    Any,
    /// Starting before 12:00.
    Morning,
    /// Starting from 12:00 to before 17:00.
    Afternoon,
    /// Starting from 17:00.
    Evening,
}

impl TimeOfDay {
    /// Whether a slot starting at `hour` (local) is in this part of the day.
    pub fn admits(self, hour: i8) -> bool {
        match self {
            Self::Any => true,
            Self::Morning => hour < 12,
            Self::Afternoon => (12..17).contains(&hour),
            Self::Evening => hour >= 17,
        }
    }
}

/// What would suit the patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WaitlistPreferences {
    /// The booking type.
    #[schema(value_type = String)]
    pub booking_type_id: BookingTypeId,
    /// A clinician, or any.
    #[schema(value_type = Option<String>)]
    pub provider_id: Option<ProviderId>,
    /// A site, or any.
    #[schema(value_type = Option<String>)]
    pub location_id: Option<LocationId>,
    /// First day that suits.
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    /// Last day that suits; the entry expires after it.
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    /// Weekdays that suit (none: every day).
    #[serde(default)]
    pub weekdays: Vec<DayOfWeek>,
    /// Part of the day that suits.
    #[serde(default)]
    pub time_of_day: TimeOfDay,
}

impl WaitlistPreferences {
    /// Checks a range and choices as sent (`today` in the clinic's zone).
    pub fn check(&self, today: Date) -> Result<(), Vec<FieldError>> {
        let mut checker = Checker::default();
        if self.to < self.from {
            checker.check::<()>(Err(FieldError::new("to", "must not be before from")));
        }
        if self.to < today {
            checker.check::<()>(Err(FieldError::new("to", "must not be in the past")));
        }
        if (self.to - self.from).get_days() > MAX_RANGE_DAYS {
            checker.check::<()>(Err(FieldError::new("to", "must be within a year of from")));
        }
        checker.finish()
    }

    /// Whether a free slot of `booking_type` suits.
    pub fn admits(&self, booking_type: &BookingTypeId, slot: &OfferedSlot, zone: &TimeZone) -> bool {
        let local = slot.starts_at.to_zoned(zone.clone());
        let day = local.date();
        *booking_type == self.booking_type_id
            && self.provider_id.as_ref().is_none_or(|provider| *provider == slot.provider_id)
            && self.location_id.as_ref().is_none_or(|location| *location == slot.location_id)
            && day >= self.from
            && day <= self.to
            && (self.weekdays.is_empty() || self.weekdays.contains(&DayOfWeek::from(day.weekday())))
            && self.time_of_day.admits(local.hour())
    }
}

/// Where an entry stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum EntryStatus {
    /// Waiting for a matching time (possibly with an offer out).
    Waiting,
    /// Booked from an offer.
    Booked {
        /// The appointment.
        appointment_id: String,
    },
    /// Its range ended without a booking.
    Expired,
    /// Removed by staff or the patient.
    Removed,
}

/// Who added the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntrySource {
    /// The patient, from the booking pages.
    Patient,
    /// Staff, through the admin API.
    Staff,
}

/// A slot someone was offered, remembered so the same person is not offered it twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferedTime {
    /// Start.
    pub starts_at: Timestamp,
    /// Clinician.
    pub provider_id: ProviderId,
}

/// One patient waiting (no `Debug`: it holds patient data).
#[derive(Clone, Serialize, Deserialize)]
pub struct WaitlistEntry {
    /// Identifier.
    pub id: WaitlistEntryId,
    /// What would suit.
    pub preferences: WaitlistPreferences,
    /// The patient's name, birth date and contact details.
    pub patient: PatientDetails,
    /// The patient's language for messages and pages.
    pub lang: Option<String>,
    /// Who added it.
    pub source: EntrySource,
    /// When it joined: the order offers follow.
    pub joined_at: Timestamp,
    /// Where it stands.
    pub status: EntryStatus,
    /// The offer out now, if any (an entry holds at most one at a time).
    pub open_offer: Option<WaitlistOfferId>,
    /// Times already offered to it.
    #[serde(default)]
    pub offered: Vec<OfferedTime>,
    /// The appointment it would move (joined from that appointment's manage page for an
    /// earlier time): taking an offer moves this appointment instead of booking another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moves: Option<String>,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl WaitlistEntry {
    /// Whether it may be offered a time now.
    pub fn available(&self) -> bool {
        self.status == EntryStatus::Waiting && self.open_offer.is_none()
    }

    /// Whether its range is over on `today`.
    pub fn lapsed(&self, today: Date) -> bool {
        self.status == EntryStatus::Waiting && self.preferences.to < today
    }

    fn was_offered(&self, slot: &OfferedSlot) -> bool {
        self.offered.iter().any(|time| time.starts_at == slot.starts_at && time.provider_id == slot.provider_id)
    }
}

/// Where an offer stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum OfferStatus {
    /// Sent (or being sent); the patient may take it until it expires.
    Open,
    /// Taken by this patient.
    Accepted {
        /// The appointment.
        appointment_id: String,
    },
    /// Someone else took the time first.
    Taken,
    /// Its window passed.
    Expired,
    /// The patient said no.
    Declined,
}

/// How an offer's message went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum OfferDelivery {
    /// Waiting to be sent.
    Queued,
    /// A runner claimed it at `since`.
    Sending {
        /// When.
        #[schema(value_type = String, format = DateTime)]
        since: Timestamp,
    },
    /// Sent: the providers' message ids.
    Sent {
        /// Ids.
        message_ids: Vec<String>,
    },
    /// Not sent, for good.
    Failed {
        /// Why.
        reason: String,
    },
    /// A runner was lost mid-send: not sent again.
    Unknown,
}

/// A time offered to one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistOffer {
    /// Identifier.
    pub id: WaitlistOfferId,
    /// The entry.
    pub entry_id: WaitlistEntryId,
    /// The booking type.
    pub booking_type_id: BookingTypeId,
    /// The time, clinician and site.
    pub starts_at: Timestamp,
    /// Clinician.
    pub provider_id: ProviderId,
    /// Site.
    pub location_id: LocationId,
    /// Until when it may be taken.
    pub open_until: Timestamp,
    /// Where it stands.
    pub status: OfferStatus,
    /// How its message went.
    pub delivery: OfferDelivery,
    /// When it was made.
    pub created_at: Timestamp,
    /// Send attempts that failed for a transient reason (throttled, provider down).
    #[serde(default)]
    pub attempts: u32,
    /// When the next attempt is due after a transient failure (the sweeper waits for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<Timestamp>,
}

impl WaitlistOffer {
    /// The slot it offers.
    pub fn slot(&self) -> OfferedSlot {
        OfferedSlot {
            starts_at: self.starts_at,
            provider_id: self.provider_id.clone(),
            location_id: self.location_id.clone(),
        }
    }

    /// Whether the patient may still take it at `now`.
    pub fn takeable(&self, now: Timestamp) -> bool {
        self.status == OfferStatus::Open && now < self.open_until
    }
}

/// A clinic's waitlist rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WaitlistSettings {
    /// How long an offer may be taken, in minutes (15 to 2,880).
    #[schema(minimum = 15, maximum = 2880)]
    pub offer_minutes: u32,
    /// How many patients are offered the same time at once (1 to 5): the first to confirm wins.
    #[schema(minimum = 1, maximum = 5)]
    pub simultaneous_offers: u8,
}

impl Default for WaitlistSettings {
    fn default() -> Self {
        Self { offer_minutes: 120, simultaneous_offers: 1 }
    }
}

impl WaitlistSettings {
    /// Checks the settings as sent.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut checker = Checker::default();
        if !(15..=2_880).contains(&self.offer_minutes) {
            checker.check::<()>(Err(FieldError::new("waitlist.offer_minutes", "must be 15 to 2880 (two days)")));
        }
        if !(1..=5).contains(&self.simultaneous_offers) {
            checker.check::<()>(Err(FieldError::new("waitlist.simultaneous_offers", "must be 1 to 5")));
        }
        checker.finish()
    }
}

/// One offer to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedOffer {
    /// To whom.
    pub entry_id: WaitlistEntryId,
    /// What.
    pub slot: OfferedSlot,
}

/// Who is offered what now. `entries` in joining order; `free` the free slots of each booking
/// type (earliest first); `open` the offers out now. Each available entry gets at most one
/// offer: the earliest free slot that suits it, that it was not offered before, and that has
/// fewer than `simultaneous` offers out.
pub fn plan_offers(
    entries: &[WaitlistEntry],
    free: &[(BookingTypeId, Vec<OfferedSlot>)],
    open: &[WaitlistOffer],
    simultaneous: usize,
    zone: &TimeZone,
) -> Vec<PlannedOffer> {
    let mut out_per_slot: std::collections::HashMap<(Timestamp, ProviderId), usize> = std::collections::HashMap::new();
    for offer in open.iter().filter(|offer| offer.status == OfferStatus::Open) {
        *out_per_slot.entry((offer.starts_at, offer.provider_id.clone())).or_default() += 1;
    }
    let mut planned = Vec::new();
    for entry in entries.iter().filter(|entry| entry.available()) {
        let Some((booking_type, slots)) =
            free.iter().find(|(booking_type, _)| *booking_type == entry.preferences.booking_type_id)
        else {
            continue;
        };
        let chosen = slots.iter().find(|slot| {
            entry.preferences.admits(booking_type, slot, zone)
                && !entry.was_offered(slot)
                && out_per_slot.get(&(slot.starts_at, slot.provider_id.clone())).copied().unwrap_or(0) < simultaneous
        });
        if let Some(slot) = chosen {
            *out_per_slot.entry((slot.starts_at, slot.provider_id.clone())).or_default() += 1;
            planned.push(PlannedOffer { entry_id: entry.id.clone(), slot: slot.clone() });
        }
    }
    planned
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::contact::Region;
    use crate::domain::patient::PatientInput;
    use proptest::prelude::*;

    fn london() -> TimeZone {
        TimeZone::get("Europe/London").unwrap()
    }

    fn patient() -> PatientDetails {
        let input = PatientInput {
            first_name: "Pat".into(),
            last_name: "Example".into(),
            date_of_birth: "1980-05-17".into(),
            mobile: "+447700900123".into(),
            email: String::new(),
        };
        PatientDetails::parse(&input, "2026-12-04".parse().unwrap(), Region::GB, "").unwrap()
    }

    fn entry(preferences: WaitlistPreferences, joined_second: i64) -> WaitlistEntry {
        let at = Timestamp::from_second(1_800_000_000 + joined_second).unwrap();
        WaitlistEntry {
            id: WaitlistEntryId::random(),
            preferences,
            patient: patient(),
            lang: None,
            source: EntrySource::Patient,
            joined_at: at,
            status: EntryStatus::Waiting,
            open_offer: None,
            offered: Vec::new(),
            moves: None,
            updated_at: at,
        }
    }

    fn preferences(booking_type: &BookingTypeId) -> WaitlistPreferences {
        WaitlistPreferences {
            booking_type_id: booking_type.clone(),
            provider_id: None,
            location_id: None,
            from: "2026-12-07".parse().unwrap(),
            to: "2026-12-18".parse().unwrap(),
            weekdays: Vec::new(),
            time_of_day: TimeOfDay::Any,
        }
    }

    fn slot(at: &str, provider: &ProviderId, location: &LocationId) -> OfferedSlot {
        OfferedSlot { starts_at: at.parse().unwrap(), provider_id: provider.clone(), location_id: location.clone() }
    }

    #[test]
    fn the_first_to_join_is_offered_first_and_each_time_goes_to_at_most_n() {
        let booking_type = BookingTypeId::random();
        let (provider, location) = (ProviderId::random(), LocationId::random());
        let entries: Vec<WaitlistEntry> = (0..4).map(|i| entry(preferences(&booking_type), i)).collect();
        let free = vec![(booking_type.clone(), vec![slot("2026-12-08T09:00:00Z", &provider, &location)])];
        let one = plan_offers(&entries, &free, &[], 1, &london());
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].entry_id, entries[0].id);
        let two = plan_offers(&entries, &free, &[], 2, &london());
        assert_eq!(
            two.iter().map(|offer| offer.entry_id.clone()).collect::<Vec<_>>(),
            [entries[0].id.clone(), entries[1].id.clone()]
        );
    }

    #[test]
    fn an_expired_offer_moves_to_the_next_entry_and_not_back() {
        let booking_type = BookingTypeId::random();
        let (provider, location) = (ProviderId::random(), LocationId::random());
        let time = slot("2026-12-08T09:00:00Z", &provider, &location);
        let mut first = entry(preferences(&booking_type), 0);
        first.offered.push(OfferedTime { starts_at: time.starts_at, provider_id: provider.clone() });
        let second = entry(preferences(&booking_type), 1);
        let free = vec![(booking_type, vec![time])];
        let planned = plan_offers(&[first, second.clone()], &free, &[], 1, &london());
        assert_eq!(planned.len(), 1);
        assert_eq!(planned[0].entry_id, second.id);
    }

    #[test]
    fn open_offers_count_against_the_limit_and_entries_hold_one_offer() {
        let booking_type = BookingTypeId::random();
        let (provider, location) = (ProviderId::random(), LocationId::random());
        let time = slot("2026-12-08T09:00:00Z", &provider, &location);
        let mut holder = entry(preferences(&booking_type), 0);
        let offer = WaitlistOffer {
            id: WaitlistOfferId::random(),
            entry_id: holder.id.clone(),
            booking_type_id: booking_type.clone(),
            starts_at: time.starts_at,
            provider_id: provider.clone(),
            location_id: location.clone(),
            open_until: time.starts_at,
            status: OfferStatus::Open,
            delivery: OfferDelivery::Queued,
            created_at: time.starts_at,
            attempts: 0,
            retry_at: None,
        };
        holder.open_offer = Some(offer.id.clone());
        let waiting = entry(preferences(&booking_type), 1);
        let free = vec![(booking_type, vec![time])];
        assert!(
            plan_offers(&[holder.clone(), waiting.clone()], &free, std::slice::from_ref(&offer), 1, &london())
                .is_empty()
        );
        let planned = plan_offers(&[holder, waiting.clone()], &free, &[offer], 2, &london());
        assert_eq!(planned.len(), 1);
        assert_eq!(planned[0].entry_id, waiting.id);
    }

    #[test]
    fn ranges_are_checked() {
        let mut bad = preferences(&BookingTypeId::random());
        bad.to = "2026-12-01".parse().unwrap();
        let fields: Vec<String> =
            bad.check("2026-12-04".parse().unwrap()).unwrap_err().into_iter().map(|error| error.field).collect();
        assert_eq!(fields, ["to", "to"]);
    }

    proptest! {
        /// An offer never goes to an entry whose preferences the slot does not meet.
        #[test]
        fn offers_only_go_to_entries_the_slot_suits(
            day in 0i64..20, minute in 0i64..(24 * 12), same_type in any::<bool>(), pick_provider in any::<bool>(),
            pick_location in any::<bool>(), weekday_mask in 0u8..128, part in 0usize..4, range_start in 0i64..20, range_len in 0i64..10,
        ) {
            let booking_type = BookingTypeId::random();
            let (provider, other_provider) = (ProviderId::random(), ProviderId::random());
            let (location, other_location) = (LocationId::random(), LocationId::random());
            let base: Date = "2026-12-01".parse().unwrap();
            let start = base.to_zoned(london()).unwrap().timestamp() + jiff::SignedDuration::from_mins(day * 24 * 60 + minute * 5);
            let offered = OfferedSlot { starts_at: start, provider_id: provider.clone(), location_id: location.clone() };
            let days = [DayOfWeek::Monday, DayOfWeek::Tuesday, DayOfWeek::Wednesday, DayOfWeek::Thursday, DayOfWeek::Friday, DayOfWeek::Saturday, DayOfWeek::Sunday];
            let from = base.checked_add(jiff::Span::new().days(range_start)).unwrap();
            let prefs = WaitlistPreferences {
                booking_type_id: if same_type { booking_type.clone() } else { BookingTypeId::random() },
                provider_id: pick_provider.then(|| if day % 2 == 0 { provider.clone() } else { other_provider.clone() }),
                location_id: pick_location.then(|| if minute % 2 == 0 { location.clone() } else { other_location.clone() }),
                from,
                to: from.checked_add(jiff::Span::new().days(range_len)).unwrap(),
                weekdays: days.iter().enumerate().filter(|(i, _)| weekday_mask & (1 << i) != 0).map(|(_, d)| *d).collect(),
                time_of_day: [TimeOfDay::Any, TimeOfDay::Morning, TimeOfDay::Afternoon, TimeOfDay::Evening][part],
            };
            let waiting = entry(prefs.clone(), 0);
            let planned = plan_offers(&[waiting], &[(booking_type.clone(), vec![offered.clone()])], &[], 1, &london());
            // Checked independently of `admits`, field by field.
            let local = start.to_zoned(london());
            let suits = same_type
                && (!pick_provider || day % 2 == 0)
                && (!pick_location || minute % 2 == 0)
                && local.date() >= prefs.from && local.date() <= prefs.to
                && (prefs.weekdays.is_empty() || prefs.weekdays.contains(&DayOfWeek::from(local.date().weekday())))
                && match prefs.time_of_day {
                    TimeOfDay::Any => true,
                    TimeOfDay::Morning => local.hour() < 12,
                    TimeOfDay::Afternoon => local.hour() >= 12 && local.hour() < 17,
                    TimeOfDay::Evening => local.hour() >= 17,
                };
            prop_assert_eq!(planned.len(), usize::from(suits));
        }
    }
}
