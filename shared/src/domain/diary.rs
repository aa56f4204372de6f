//! The diary: weekly template sessions per provider and location, one-off blocks, and the
//! five-minute units every appointment claims so that no provider is ever double-booked.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::booking_type::BookingTypeId;
use super::ids::uuid_id;
use super::location::LocationId;
use super::provider::ProviderId;
use super::validation::{Checker, FieldError, required_text};

/// The diary's grid: every time and duration is a whole number of units.
pub const UNIT_MINUTES: i64 = 5;
const UNIT_SECONDS: i64 = UNIT_MINUTES * 60;

uuid_id!(
    /// A diary template's identifier.
    TemplateId,
    "diary template"
);
uuid_id!(
    /// A diary block's identifier.
    BlockId,
    "diary block"
);

/// A weekly session: a provider at a location on some weekdays, cut into slots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DiaryTemplate {
    /// Identifier.
    #[schema(value_type = String)]
    pub id: TemplateId,
    /// Who.
    #[schema(value_type = String)]
    pub provider_id: ProviderId,
    /// Where.
    #[schema(value_type = String)]
    pub location_id: LocationId,
    /// Which weekdays.
    pub weekdays: Vec<DayOfWeek>,
    /// Local start time.
    #[schema(value_type = String)]
    pub start_time: Time,
    /// Local end time (the last slot ends by then).
    #[schema(value_type = String)]
    pub end_time: Time,
    /// Length of one slot in minutes.
    pub slot_minutes: u32,
    /// Booking types that may be booked in it.
    #[schema(value_type = Vec<String>)]
    pub booking_type_ids: Vec<BookingTypeId>,
    /// First day it applies.
    #[schema(value_type = String)]
    pub valid_from: Date,
    /// Last day it applies (none: open-ended).
    #[schema(value_type = Option<String>)]
    pub valid_to: Option<Date>,
    /// When its slots are published online (default: at once).
    #[serde(default)]
    pub publication: super::publication::PublicationRule,
}

/// A diary template as an admin sends it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    /// Provider id.
    pub provider_id: String,
    /// Location id.
    pub location_id: String,
    /// Weekday names, e.g. `["monday", "thursday"]`.
    pub weekdays: Vec<String>,
    /// `HH:MM`, on the five-minute grid.
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub start_time: String,
    /// `HH:MM`, after the start, on the five-minute grid.
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub end_time: String,
    /// 5 to 240, a multiple of 5.
    #[schema(minimum = 5, maximum = 240, multiple_of = 5)]
    pub slot_minutes: u32,
    /// Booking type ids (at least one).
    pub booking_type_ids: Vec<String>,
    /// `YYYY-MM-DD`.
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", format = Date)]
    pub valid_from: String,
    /// `YYYY-MM-DD`, on or after `valid_from`.
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", format = Date)]
    pub valid_to: Option<String>,
    /// When its slots are published online: `{"kind": "now"}` (default), `{"kind": "from",
    /// "at": "…Z"}` or `{"kind": "rolling", "days_ahead": 14, "at_local": "08:00"}`.
    #[serde(default)]
    pub publication: Option<super::publication::PublicationRule>,
}

/// A day of the week, as it appears in templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DayOfWeek {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl From<Weekday> for DayOfWeek {
    fn from(day: Weekday) -> Self {
        match day {
            Weekday::Monday => Self::Monday,
            Weekday::Tuesday => Self::Tuesday,
            Weekday::Wednesday => Self::Wednesday,
            Weekday::Thursday => Self::Thursday,
            Weekday::Friday => Self::Friday,
            Weekday::Saturday => Self::Saturday,
            Weekday::Sunday => Self::Sunday,
        }
    }
}

fn weekday(field: &str, name: &str) -> Result<DayOfWeek, FieldError> {
    serde_json::from_value(serde_json::Value::String(name.to_ascii_lowercase()))
        .map_err(|_| FieldError::new(field, "must be weekday names such as monday"))
}

fn grid_time(field: &str, value: &str) -> Result<Time, FieldError> {
    let time: Time = value.parse().map_err(|_| FieldError::new(field, "must be a time, HH:MM"))?;
    if time.second() != 0 || time.subsec_nanosecond() != 0 || i64::from(time.minute()) % UNIT_MINUTES != 0 {
        return Err(FieldError::new(field, "must be on the five-minute grid, e.g. 09:05"));
    }
    Ok(time)
}

/// Parses a calendar date.
pub fn date(field: &str, value: &str) -> Result<Date, FieldError> {
    value.parse().map_err(|_| FieldError::new(field, "must be a date, YYYY-MM-DD"))
}

fn minutes_of(time: Time) -> i64 {
    i64::from(time.hour()) * 60 + i64::from(time.minute())
}

impl DiaryTemplate {
    /// Validates a template's own shape (references to other records are checked by the caller).
    pub fn create(id: TemplateId, input: &TemplateInput) -> Result<Self, Vec<FieldError>> {
        let mut checker = Checker::default();
        let provider_id = checker.check(ProviderId::parse("provider_id", &input.provider_id));
        let location_id = checker.check(LocationId::parse("location_id", &input.location_id));
        let mut weekdays = Vec::new();
        for name in &input.weekdays {
            if let Some(day) = checker.check(weekday("weekdays", name))
                && !weekdays.contains(&day)
            {
                weekdays.push(day);
            }
        }
        if input.weekdays.is_empty() {
            checker.check::<()>(Err(FieldError::new("weekdays", "must name at least one weekday")));
        }
        let start_time = checker.check(grid_time("start_time", &input.start_time));
        let end_time = checker.check(grid_time("end_time", &input.end_time));
        if let (Some(start), Some(end)) = (start_time, end_time)
            && end <= start
        {
            checker.check::<()>(Err(FieldError::new("end_time", "must be after start_time")));
        }
        let slot_minutes = input.slot_minutes;
        if !(5..=240).contains(&slot_minutes) || i64::from(slot_minutes) % UNIT_MINUTES != 0 {
            checker.check::<()>(Err(FieldError::new("slot_minutes", "must be 5 to 240 minutes, in steps of 5")));
        }
        let mut booking_type_ids = Vec::new();
        for raw in &input.booking_type_ids {
            if let Some(id) = checker.check(BookingTypeId::parse("booking_type_ids", raw))
                && !booking_type_ids.contains(&id)
            {
                booking_type_ids.push(id);
            }
        }
        if input.booking_type_ids.len() > 50 {
            checker.check::<()>(Err(FieldError::new("booking_type_ids", "may name at most 50 booking types")));
        }
        if input.booking_type_ids.is_empty() {
            checker.check::<()>(Err(FieldError::new("booking_type_ids", "must name at least one booking type")));
        }
        let valid_from = checker.check(date("valid_from", &input.valid_from));
        let valid_to = input.valid_to.as_deref().and_then(|raw| checker.check(date("valid_to", raw)));
        if let (Some(from), Some(to)) = (valid_from, valid_to)
            && to < from
        {
            checker.check::<()>(Err(FieldError::new("valid_to", "must be on or after valid_from")));
        }
        let publication = input.publication.unwrap_or_default();
        checker.check(publication.check("publication"));
        checker.finish()?;
        let (Some(provider_id), Some(location_id), Some(start_time), Some(end_time), Some(valid_from)) =
            (provider_id, location_id, start_time, end_time, valid_from)
        else {
            unreachable!("checker.finish() fails when a check failed")
        };
        Ok(Self {
            id,
            provider_id,
            location_id,
            weekdays,
            start_time,
            end_time,
            slot_minutes,
            booking_type_ids,
            valid_from,
            valid_to,
            publication,
        })
    }

    /// Whether the template applies on `day`.
    pub fn applies_on(&self, day: Date) -> bool {
        day >= self.valid_from
            && self.valid_to.is_none_or(|to| day <= to)
            && self.weekdays.contains(&DayOfWeek::from(day.weekday()))
    }

    /// Whether two templates of one provider could put them in two places at once.
    pub fn overlaps(&self, other: &DiaryTemplate) -> bool {
        let days_shared = self.weekdays.iter().any(|day| other.weekdays.contains(day));
        let periods_meet = self.valid_to.is_none_or(|to| to >= other.valid_from)
            && other.valid_to.is_none_or(|to| to >= self.valid_from);
        let hours_meet = self.start_time < other.end_time && other.start_time < self.end_time;
        self.provider_id == other.provider_id && days_shared && periods_meet && hours_meet
    }

    /// The slot start times of `day` for an appointment of `duration_minutes`, in local time:
    /// every slot boundary from which the appointment still ends by the session's end, in
    /// elapsed time (across a DST change the wall clock and the real length differ). Local times
    /// that do not exist on that day (a DST gap) are skipped; a repeated local time (a DST fold)
    /// gives one slot, at its first occurrence.
    pub fn slot_starts(&self, day: Date, duration_minutes: u32, zone: &TimeZone) -> Vec<Timestamp> {
        if !self.applies_on(day) {
            return Vec::new();
        }
        let (start, end) = (minutes_of(self.start_time), minutes_of(self.end_time));
        let Ok(session_end) = zone.to_ambiguous_zoned(day.to_datetime(self.end_time)).compatible() else {
            return Vec::new();
        };
        let session_end = session_end.timestamp();
        // A session starting in a spring-forward gap starts where the clock resumes (`compatible`),
        // so no slot may begin before that instant, as none may end after the session's end.
        let Ok(session_start) = zone.to_ambiguous_zoned(day.to_datetime(self.start_time)).compatible() else {
            return Vec::new();
        };
        let session_start = session_start.timestamp();
        let length = SignedDuration::from_mins(i64::from(duration_minutes));
        let step = i64::from(self.slot_minutes);
        let mut starts = Vec::new();
        let mut local = start;
        while local < end {
            let civil = day.to_datetime(Time::midnight()) + SignedDuration::from_mins(local);
            let ambiguous = zone.to_ambiguous_zoned(civil);
            if !matches!(ambiguous.offset(), jiff::tz::AmbiguousOffset::Gap { .. })
                && let Ok(zoned) = ambiguous.compatible()
                && zoned.timestamp() >= session_start
                && zoned.timestamp() + length <= session_end
            {
                starts.push(zoned.timestamp());
            }
            local += step;
        }
        starts
    }
}

/// A one-off block: the provider is unavailable (leave, a meeting) between two instants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DiaryBlock {
    /// Identifier.
    #[schema(value_type = String)]
    pub id: BlockId,
    /// Who.
    #[schema(value_type = String)]
    pub provider_id: ProviderId,
    /// From.
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    /// Until.
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Timestamp,
    /// Why (staff only; never published).
    pub reason: String,
}

/// A block as an admin sends it: local times in the clinic's time zone.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockInput {
    /// Provider id.
    pub provider_id: String,
    /// Local start, `YYYY-MM-DDTHH:MM`.
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub starts_at: String,
    /// Local end, `YYYY-MM-DDTHH:MM`, after the start.
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub ends_at: String,
    /// 1 to 200 characters.
    pub reason: String,
}

fn local_instant(field: &str, value: &str, zone: &TimeZone) -> Result<Timestamp, FieldError> {
    let civil: jiff::civil::DateTime =
        value.parse().map_err(|_| FieldError::new(field, "must be a local date and time, YYYY-MM-DDTHH:MM"))?;
    zone.to_ambiguous_zoned(civil)
        .compatible()
        .map(|zoned| zoned.timestamp())
        .map_err(|_| FieldError::new(field, "is not a time that exists in the clinic's time zone"))
}

impl DiaryBlock {
    /// Validates a block, reading its local times in the clinic's zone.
    pub fn create(id: BlockId, input: &BlockInput, zone: &TimeZone) -> Result<Self, Vec<FieldError>> {
        let mut checker = Checker::default();
        let provider_id = checker.check(ProviderId::parse("provider_id", &input.provider_id));
        let starts_at = checker.check(local_instant("starts_at", &input.starts_at, zone));
        let ends_at = checker.check(local_instant("ends_at", &input.ends_at, zone));
        if let (Some(start), Some(end)) = (starts_at, ends_at)
            && end <= start
        {
            checker.check::<()>(Err(FieldError::new("ends_at", "must be after starts_at")));
        }
        let reason = checker.check(required_text("reason", &input.reason, 200));
        checker.finish()?;
        let (Some(provider_id), Some(starts_at), Some(ends_at), Some(reason)) =
            (provider_id, starts_at, ends_at, reason)
        else {
            unreachable!("checker.finish() fails when a check failed")
        };
        Ok(Self { id, provider_id, starts_at, ends_at, reason })
    }

    /// Whether the block covers any part of `[start, end)`.
    pub fn overlaps(&self, start: Timestamp, end: Timestamp) -> bool {
        self.starts_at < end && start < self.ends_at
    }
}

/// The five-minute units `[start, start + minutes)` covers, as unit numbers since the epoch.
/// Two appointments of one provider overlap exactly when they share a unit.
pub fn units_covered(start: Timestamp, minutes: u32) -> std::ops::Range<i64> {
    let first = start.as_second().div_euclid(UNIT_SECONDS);
    let end = start.as_second() + i64::from(minutes) * 60;
    let last = end.div_euclid(UNIT_SECONDS) + i64::from(end.rem_euclid(UNIT_SECONDS) != 0);
    first..last
}

/// The instant a unit starts.
pub fn unit_start(unit: i64) -> Timestamp {
    Timestamp::from_second(unit * UNIT_SECONDS).unwrap_or(Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn template(start: &str, end: &str, slot: u32) -> DiaryTemplate {
        DiaryTemplate::create(
            TemplateId::random(),
            &TemplateInput {
                provider_id: ProviderId::random().to_string(),
                location_id: LocationId::random().to_string(),
                weekdays: ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
                    .map(String::from)
                    .to_vec(),
                start_time: start.into(),
                end_time: end.into(),
                slot_minutes: slot,
                booking_type_ids: vec![BookingTypeId::random().to_string()],
                valid_from: "2020-01-01".into(),
                valid_to: None,
                publication: None,
            },
        )
        .unwrap()
    }

    #[test]
    fn on_a_spring_forward_day_no_slot_ends_after_the_session_in_real_time() {
        // Europe/London, 29 March 2026: 01:00 GMT becomes 02:00 BST. A session 00:00-02:30 lasts
        // 1 h 30 min; a 60-minute slot at 00:45 would end at 02:45 BST, after the session.
        let zone = TimeZone::get("Europe/London").unwrap();
        let day: Date = "2026-03-29".parse().unwrap();
        let starts = template("00:00", "02:30", 15).slot_starts(day, 60, &zone);
        let end: Timestamp = "2026-03-29T01:30:00Z".parse().unwrap();
        assert!(!starts.is_empty());
        for start in &starts {
            assert!(*start + SignedDuration::from_mins(60) <= end, "{start} ends after the session");
        }
        let last = starts.last().unwrap().to_zoned(zone.clone());
        assert_eq!(last.strftime("%H:%M").to_string(), "00:30", "00:30 + 60 min = 02:30 BST, the session's end");
    }

    #[test]
    fn a_morning_session_is_cut_into_slots_that_fit() {
        let zone = TimeZone::get("Europe/London").unwrap();
        let starts = template("09:00", "10:00", 15).slot_starts("2026-11-23".parse().unwrap(), 20, &zone);
        let local: Vec<String> =
            starts.iter().map(|t| t.to_zoned(zone.clone()).strftime("%H:%M").to_string()).collect();
        assert_eq!(local, ["09:00", "09:15", "09:30"]);
    }

    #[test]
    fn bad_templates_name_their_fields() {
        let input = TemplateInput {
            provider_id: "x".into(),
            location_id: LocationId::random().to_string(),
            weekdays: vec!["funday".into()],
            start_time: "09:03".into(),
            end_time: "08:00".into(),
            slot_minutes: 7,
            booking_type_ids: vec![],
            valid_from: "2026-02-30".into(),
            valid_to: None,
            publication: None,
        };
        let errors = DiaryTemplate::create(TemplateId::random(), &input).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, ["provider_id", "weekdays", "start_time", "slot_minutes", "booking_type_ids", "valid_from"]);
    }

    #[test]
    fn a_spring_forward_gap_loses_its_slots_and_a_fall_back_fold_does_not_repeat_them() {
        let zone = TimeZone::get("Europe/London").unwrap();
        let night = template("00:00", "04:00", 30);
        // 2026-03-29: 01:00 to 02:00 does not exist in London.
        let spring: Vec<String> = night
            .slot_starts("2026-03-29".parse().unwrap(), 30, &zone)
            .iter()
            .map(|t| t.to_zoned(zone.clone()).strftime("%H:%M").to_string())
            .collect();
        assert_eq!(spring, ["00:00", "00:30", "02:00", "02:30", "03:00", "03:30"]);
        // 2026-10-25: 01:00 to 02:00 happens twice; each local slot is offered once.
        let autumn = night.slot_starts("2026-10-25".parse().unwrap(), 30, &zone);
        assert_eq!(autumn.len(), 8);
        assert!(autumn.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn templates_overlap_only_for_one_provider_on_shared_days_and_hours() {
        let a = template("09:00", "12:00", 15);
        let mut b = a.clone();
        b.start_time = "11:00".parse().unwrap();
        b.end_time = "13:00".parse().unwrap();
        assert!(a.overlaps(&b));
        b.start_time = "12:00".parse().unwrap();
        assert!(!a.overlaps(&b), "back-to-back sessions do not overlap");
        let mut other_provider = a.clone();
        other_provider.provider_id = ProviderId::random();
        assert!(!a.overlaps(&other_provider));
        let mut later = a.clone();
        later.valid_from = "2030-01-01".parse().unwrap();
        let mut earlier = a.clone();
        earlier.valid_to = Some("2029-12-31".parse().unwrap());
        assert!(!earlier.overlaps(&later));
    }

    #[test]
    fn blocks_read_local_times_and_refuse_impossible_ones() {
        let zone = TimeZone::get("Europe/London").unwrap();
        let input = BlockInput {
            provider_id: ProviderId::random().to_string(),
            starts_at: "2026-12-24T13:00".into(),
            ends_at: "2026-12-24T12:00".into(),
            reason: "Leave".into(),
        };
        assert_eq!(DiaryBlock::create(BlockId::random(), &input, &zone).unwrap_err()[0].field, "ends_at");
        let input = BlockInput { starts_at: "2026-12-32T09:00".into(), ..input };
        assert_eq!(DiaryBlock::create(BlockId::random(), &input, &zone).unwrap_err()[0].field, "starts_at");
    }

    proptest! {
        #[test]
        fn overlapping_appointments_always_share_a_unit(a in 0i64..100_000, b in 0i64..100_000, da in 1u32..=96, db in 1u32..=96) {
            let (start_a, start_b) = (Timestamp::from_second(a * 300).unwrap(), Timestamp::from_second(b * 300).unwrap());
            let (mins_a, mins_b) = (da * 5, db * 5);
            let overlap = start_a.as_second() < start_b.as_second() + i64::from(mins_b) * 60
                && start_b.as_second() < start_a.as_second() + i64::from(mins_a) * 60;
            let ua = units_covered(start_a, mins_a);
            let ub = units_covered(start_b, mins_b);
            let shared = ua.start < ub.end && ub.start < ua.end;
            prop_assert_eq!(overlap, shared);
            prop_assert_eq!(ua.end - ua.start, i64::from(da));
        }

        #[test]
        fn slot_starts_exist_locally_ascend_and_fit_the_session(
            zone_name in prop::sample::select(vec!["Pacific/Auckland", "Europe/London", "America/Toronto"]),
            day_offset in 0i64..(365 * 3),
            start_unit in 0i64..(24 * 12 - 1),
            length_units in 1i64..(8 * 12),
            slot_units in 1i64..12,
            duration_units in 1i64..12,
        ) {
            let zone = TimeZone::get(zone_name).unwrap();
            let day = Date::constant(2025, 1, 1).checked_add(jiff::Span::new().days(day_offset)).unwrap();
            let end_unit = (start_unit + length_units).min(24 * 12 - 1);
            prop_assume!(end_unit > start_unit);
            let to_time = |unit: i64| Time::midnight() + SignedDuration::from_mins(unit * 5);
            let mut session = template("09:00", "10:00", 5);
            session.start_time = to_time(start_unit);
            session.end_time = to_time(end_unit);
            session.slot_minutes = (slot_units * 5) as u32;
            let duration = (duration_units * 5) as u32;
            let starts = session.slot_starts(day, duration, &zone);
            prop_assert!(starts.windows(2).all(|pair| pair[0] < pair[1]), "not ascending");
            let instant = |unit: i64| zone.to_ambiguous_zoned(day.to_datetime(to_time(unit))).compatible().unwrap().timestamp();
            let (session_start, session_end) = (instant(start_unit), instant(end_unit));
            for start in &starts {
                let local = start.to_zoned(zone.clone());
                prop_assert_eq!(local.date(), day);
                let minutes = minutes_of(local.time());
                // Inside the session in elapsed time: across a DST change wall minutes mislead.
                prop_assert!(*start >= session_start, "{} starts before the session", local);
                prop_assert!(*start + SignedDuration::from_mins(duration_units * 5) <= session_end,
                    "{} ends after the session", local);
                prop_assert_eq!((minutes - start_unit * 5) % (slot_units * 5), 0, "off the slot grid");
            }
            // Away from transitions, the count is exactly the arithmetic one.
            let offsets: Vec<_> = [Time::midnight(), to_time(24 * 12 - 1)].iter()
                .map(|t| zone.to_ambiguous_zoned(day.to_datetime(*t)).compatible().unwrap().offset())
                .collect();
            if offsets[0] == offsets[1] {
                let span = end_unit - start_unit;
                let expected = if span >= duration_units { (span - duration_units) / slot_units + 1 } else { 0 };
                prop_assert_eq!(starts.len() as i64, expected);
            }
        }
    }
}
