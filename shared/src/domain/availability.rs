//! Free slots: template sessions minus blocks and booked units, inside the booking window, for a
//! booking type, a provider (or any) and a location (or any). Pure: everything is passed in.

use std::collections::{BTreeSet, HashMap, HashSet};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::booking_type::BookingTypeId;
use super::diary::{DiaryBlock, DiaryTemplate, units_covered};
use super::location::LocationId;
use super::provider::ProviderId;

/// A patient's choice of provider or location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice<T> {
    /// Any that is free.
    Any,
    /// This one.
    Only(T),
}

impl<T: PartialEq> Choice<T> {
    /// Whether `value` is allowed by this choice (any allows every value).
    pub fn admits(&self, value: &T) -> bool {
        match self {
            Self::Any => true,
            Self::Only(only) => only == value,
        }
    }
}

/// One bookable slot.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct OfferedSlot {
    /// When it starts.
    pub starts_at: Timestamp,
    /// With whom.
    pub provider_id: ProviderId,
    /// Where.
    pub location_id: LocationId,
}

/// What is known of the diary for the providers concerned.
pub struct Diary<'a> {
    /// The clinic's zone; template times are local to it.
    pub zone: &'a TimeZone,
    /// Templates.
    pub templates: &'a [DiaryTemplate],
    /// Blocks.
    pub blocks: &'a [DiaryBlock],
    /// Units already claimed, per provider.
    pub busy: &'a HashMap<ProviderId, HashSet<i64>>,
    /// Providers patients may book online.
    pub providers: &'a BTreeSet<ProviderId>,
    /// Locations patients may book online.
    pub locations: &'a BTreeSet<LocationId>,
}

/// What a patient asks for.
#[derive(Debug, Clone)]
pub struct SlotQuery {
    /// The booking type.
    pub booking_type: BookingTypeId,
    /// Its duration.
    pub duration_minutes: u32,
    /// Provider or any.
    pub provider: Choice<ProviderId>,
    /// Location or any.
    pub location: Choice<LocationId>,
    /// First local day.
    pub from: Date,
    /// Last local day.
    pub to: Date,
}

/// The bookable window: from now plus the minimum notice, to the end of the horizon's last day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Earliest start.
    pub earliest: Timestamp,
    /// Latest start.
    pub latest: Timestamp,
    /// The time the window was taken at: slots not yet published then are not offered.
    pub now: Timestamp,
    /// Whether templates' online publication timetables apply (online channels only).
    pub timetable: bool,
}

impl Window {
    /// The online window at `now`: the clinic's minimum notice and horizon, and templates'
    /// publication timetables.
    pub fn at(now: Timestamp, minimum_notice_minutes: u32, horizon_days: u32) -> Self {
        Self {
            earliest: now + SignedDuration::from_mins(i64::from(minimum_notice_minutes)),
            latest: now + SignedDuration::from_hours(24 * i64::from(horizon_days)),
            now,
            timetable: true,
        }
    }

    /// The window of staff, partner, link and waitlist bookings at `now`: every free slot from
    /// now to `horizon_days` ahead, whatever the online rules say.
    pub fn staff(now: Timestamp, horizon_days: u32) -> Self {
        Self {
            earliest: now,
            latest: now + SignedDuration::from_hours(24 * i64::from(horizon_days)),
            now,
            timetable: false,
        }
    }

    /// Whether a slot starting at `start` may be booked.
    pub fn admits(&self, start: Timestamp) -> bool {
        start >= self.earliest && start <= self.latest
    }

    /// The local days the window touches.
    pub fn days(&self, zone: &TimeZone) -> (Date, Date) {
        (self.earliest.to_zoned(zone.clone()).date(), self.latest.to_zoned(zone.clone()).date())
    }
}

impl Diary<'_> {
    /// Every free slot for `query` inside `window`, earliest first, at most `limit`.
    pub fn free_slots(&self, query: &SlotQuery, window: &Window, limit: usize) -> Vec<OfferedSlot> {
        let (first_day, last_day) = window.days(self.zone);
        let from = query.from.max(first_day);
        let to = query.to.min(last_day);
        let templates: Vec<&DiaryTemplate> = self
            .templates
            .iter()
            .filter(|template| {
                template.booking_type_ids.contains(&query.booking_type)
                    && query.provider.admits(&template.provider_id)
                    && query.location.admits(&template.location_id)
                    && self.providers.contains(&template.provider_id)
                    && self.locations.contains(&template.location_id)
            })
            .collect();
        let mut slots = BTreeSet::new();
        let mut day = from;
        while day <= to {
            for template in &templates {
                for start in template.slot_starts(day, query.duration_minutes, self.zone) {
                    if window.admits(start)
                        && (!window.timetable || template.publication.is_published(start, self.zone, window.now))
                        && self.is_free(&template.provider_id, start, query.duration_minutes)
                    {
                        slots.insert(OfferedSlot {
                            starts_at: start,
                            provider_id: template.provider_id.clone(),
                            location_id: template.location_id.clone(),
                        });
                    }
                }
            }
            if slots.len() >= limit {
                break;
            }
            let Some(next) = day.tomorrow().ok() else { break };
            day = next;
        }
        slots.into_iter().take(limit).collect()
    }

    /// Whether the provider is free (not blocked, no unit claimed) for `minutes` from `start`.
    pub fn is_free(&self, provider: &ProviderId, start: Timestamp, minutes: u32) -> bool {
        let end = start + SignedDuration::from_mins(i64::from(minutes));
        let blocked = self.blocks.iter().any(|block| block.provider_id == *provider && block.overlaps(start, end));
        let busy = self
            .busy
            .get(provider)
            .is_some_and(|units| units_covered(start, minutes).any(|unit| units.contains(&unit)));
        !blocked && !busy
    }

    /// The free slots that start exactly at `start` (the candidates for a booking at that time).
    pub fn candidates_at(&self, query: &SlotQuery, window: &Window, start: Timestamp) -> Vec<OfferedSlot> {
        let day = start.to_zoned(self.zone.clone()).date();
        let query = SlotQuery { from: day, to: day, ..query.clone() };
        self.free_slots(&query, window, usize::MAX).into_iter().filter(|slot| slot.starts_at == start).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::diary::{BlockId, TemplateId, TemplateInput};
    use proptest::prelude::*;

    struct Fixture {
        zone: TimeZone,
        templates: Vec<DiaryTemplate>,
        blocks: Vec<DiaryBlock>,
        busy: HashMap<ProviderId, HashSet<i64>>,
        providers: BTreeSet<ProviderId>,
        locations: BTreeSet<LocationId>,
        booking_type: BookingTypeId,
    }

    impl Fixture {
        fn new(zone: &str, providers: usize) -> Self {
            let booking_type = BookingTypeId::random();
            let location = LocationId::random();
            let mut templates = Vec::new();
            let mut ids = BTreeSet::new();
            for _ in 0..providers {
                let provider = ProviderId::random();
                ids.insert(provider.clone());
                templates.push(
                    DiaryTemplate::create(
                        TemplateId::random(),
                        &TemplateInput {
                            provider_id: provider.to_string(),
                            location_id: location.to_string(),
                            weekdays: ["monday", "tuesday", "wednesday", "thursday", "friday"]
                                .map(String::from)
                                .to_vec(),
                            start_time: "09:00".into(),
                            end_time: "12:00".into(),
                            slot_minutes: 15,
                            booking_type_ids: vec![booking_type.to_string()],
                            valid_from: "2026-01-01".into(),
                            valid_to: None,
                            publication: None,
                        },
                    )
                    .unwrap(),
                );
            }
            Self {
                zone: TimeZone::get(zone).unwrap(),
                templates,
                blocks: Vec::new(),
                busy: HashMap::new(),
                providers: ids,
                locations: BTreeSet::from([location]),
                booking_type,
            }
        }

        fn diary(&self) -> Diary<'_> {
            Diary {
                zone: &self.zone,
                templates: &self.templates,
                blocks: &self.blocks,
                busy: &self.busy,
                providers: &self.providers,
                locations: &self.locations,
            }
        }

        fn query(&self, from: &str, to: &str, minutes: u32) -> SlotQuery {
            SlotQuery {
                booking_type: self.booking_type.clone(),
                duration_minutes: minutes,
                provider: Choice::Any,
                location: Choice::Any,
                from: from.parse().unwrap(),
                to: to.parse().unwrap(),
            }
        }
    }

    fn now() -> Timestamp {
        "2026-11-22T08:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_free_morning_offers_every_slot_and_booked_units_remove_overlapping_ones() {
        let mut fixture = Fixture::new("Europe/London", 1);
        let window = Window::at(now(), 0, 60);
        let monday = fixture.diary().free_slots(&fixture.query("2026-11-23", "2026-11-23", 15), &window, 100);
        assert_eq!(monday.len(), 12);
        let provider = fixture.templates[0].provider_id.clone();
        // A 30-minute appointment at 09:10 blocks the 09:00, 09:15 and 09:30 slots of 15 minutes.
        let booked: Timestamp = "2026-11-23T09:10:00Z".parse().unwrap();
        fixture.busy.insert(provider, units_covered(booked, 30).collect());
        let monday = fixture.diary().free_slots(&fixture.query("2026-11-23", "2026-11-23", 15), &window, 100);
        let times: Vec<String> = monday.iter().take(2).map(|slot| slot.starts_at.to_string()).collect();
        assert_eq!(times, ["2026-11-23T09:45:00Z", "2026-11-23T10:00:00Z"]);
    }

    #[test]
    fn longer_types_take_consecutive_slots_and_blocks_and_disabled_providers_hide_slots() {
        let mut fixture = Fixture::new("Europe/London", 2);
        let window = Window::at(now(), 0, 60);
        let long = fixture.diary().free_slots(&fixture.query("2026-11-23", "2026-11-23", 45), &window, 100);
        assert_eq!(long.len(), 2 * 10, "09:00 to 11:15 for each provider");
        let (first, second) = (fixture.templates[0].provider_id.clone(), fixture.templates[1].provider_id.clone());
        fixture.blocks.push(DiaryBlock {
            id: BlockId::random(),
            provider_id: first.clone(),
            starts_at: "2026-11-23T00:00:00Z".parse().unwrap(),
            ends_at: "2026-11-24T00:00:00Z".parse().unwrap(),
            reason: "Leave".into(),
        });
        fixture.providers.remove(&second);
        let none = fixture.diary().free_slots(&fixture.query("2026-11-23", "2026-11-23", 15), &window, 100);
        assert!(none.is_empty());
    }

    #[test]
    fn minimum_notice_and_horizon_bound_the_offer() {
        let fixture = Fixture::new("Europe/London", 1);
        let at_nine: Timestamp = "2026-11-23T09:00:00Z".parse().unwrap();
        let window = Window::at(at_nine, 60, 1);
        let slots = fixture.diary().free_slots(&fixture.query("2026-11-01", "2027-01-01", 15), &window, 1000);
        assert_eq!(slots.first().unwrap().starts_at, "2026-11-23T10:00:00Z".parse::<Timestamp>().unwrap());
        assert!(slots.iter().all(|slot| slot.starts_at <= "2026-11-24T09:00:00Z".parse::<Timestamp>().unwrap()));
        assert_eq!(slots.len(), 8 + 1, "10:00 to 11:45 today, 09:00 tomorrow");
    }

    #[test]
    fn a_single_provider_choice_and_asap_pick_the_earliest() {
        let fixture = Fixture::new("Europe/London", 3);
        let window = Window::at(now(), 0, 60);
        let mut query = fixture.query("2026-11-22", "2027-01-20", 15);
        let asap = fixture.diary().free_slots(&query, &window, 1);
        assert_eq!(asap[0].starts_at, "2026-11-23T09:00:00Z".parse::<Timestamp>().unwrap());
        let chosen = fixture.templates[2].provider_id.clone();
        query.provider = Choice::Only(chosen.clone());
        assert!(fixture.diary().free_slots(&query, &window, 50).iter().all(|slot| slot.provider_id == chosen));
        let at_nine =
            fixture.diary().candidates_at(&fixture.query("2026-11-23", "2026-11-23", 15), &window, asap[0].starts_at);
        assert_eq!(at_nine.len(), 3);
    }

    proptest! {
        #[test]
        fn offered_slots_are_free_inside_the_window_and_local_session_hours(
            zone in prop::sample::select(vec!["Pacific/Auckland", "Europe/London", "America/Toronto"]),
            day_offset in 0i64..730,
            notice in 0u32..3000,
            horizon in 1u32..40,
            busy_units in proptest::collection::vec(0i64..(40 * 288), 0..60),
            minutes in prop::sample::select(vec![5u32, 15, 20, 45, 60]),
        ) {
            let mut fixture = Fixture::new(zone, 2);
            let start_of_range = Timestamp::from_second(1_767_225_600 + day_offset * 86_400).unwrap();
            let base = start_of_range.as_second() / 300;
            let provider = fixture.templates[0].provider_id.clone();
            fixture.busy.insert(provider.clone(), busy_units.iter().map(|unit| base + unit).collect());
            let window = Window::at(start_of_range, notice, horizon);
            let (from, to) = window.days(&fixture.zone);
            let query = fixture.query(&from.to_string(), &to.to_string(), minutes);
            let slots = fixture.diary().free_slots(&query, &window, 10_000);
            prop_assert!(slots.windows(2).all(|pair| pair[0] < pair[1]));
            for slot in &slots {
                prop_assert!(window.admits(slot.starts_at));
                let local = slot.starts_at.to_zoned(fixture.zone.clone());
                let local_minutes = i64::from(local.hour()) * 60 + i64::from(local.minute());
                prop_assert!((9 * 60..=12 * 60 - i64::from(minutes)).contains(&local_minutes), "{local}");
                if slot.provider_id == provider {
                    prop_assert!(units_covered(slot.starts_at, minutes).all(|unit| !fixture.busy[&provider].contains(&unit)));
                }
            }
        }
    }
}
