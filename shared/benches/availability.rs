//! Availability computation, pure: 50 providers with weekday templates over 60 days, 30% of
//! their time booked. Prints the time per computation (the median of repeated runs).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Instant;

use clinic_shared::domain::availability::{Choice, Diary, SlotQuery, Window};
use clinic_shared::domain::booking_type::BookingTypeId;
use clinic_shared::domain::diary::{DiaryTemplate, TemplateId, TemplateInput, units_covered};
use clinic_shared::domain::location::LocationId;
use clinic_shared::domain::provider::ProviderId;
use jiff::Timestamp;
use jiff::tz::TimeZone;

const PROVIDERS: usize = 50;
const DAYS: u32 = 60;
const RUNS: usize = 15;

fn main() {
    let zone = TimeZone::get("Europe/London").expect("zone");
    let booking_type = BookingTypeId::random();
    let location = LocationId::random();
    let now: Timestamp = "2026-11-22T07:00:00Z".parse().expect("now");
    let mut templates = Vec::new();
    let mut providers = BTreeSet::new();
    let mut busy: HashMap<ProviderId, HashSet<i64>> = HashMap::new();
    // A fixed pseudo-random sequence, so every run measures the same diary.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..PROVIDERS {
        let provider = ProviderId::random();
        providers.insert(provider.clone());
        let template = DiaryTemplate::create(
            TemplateId::random(),
            &TemplateInput {
                provider_id: provider.to_string(),
                location_id: location.to_string(),
                weekdays: ["monday", "tuesday", "wednesday", "thursday", "friday"].map(String::from).to_vec(),
                start_time: "08:00".into(),
                end_time: "18:00".into(),
                slot_minutes: 15,
                booking_type_ids: vec![booking_type.to_string()],
                valid_from: "2026-01-01".into(),
                valid_to: None,
                publication: None,
            },
        )
        .expect("template");
        // Book 30% of the provider's slots.
        let mut units = HashSet::new();
        let mut day = now.to_zoned(zone.clone()).date();
        for _ in 0..DAYS {
            for start in template.slot_starts(day, 15, &zone) {
                if next() % 10 < 3 {
                    units.extend(units_covered(start, 15));
                }
            }
            day = day.tomorrow().expect("day");
        }
        busy.insert(provider, units);
        templates.push(template);
    }
    let locations = BTreeSet::from([location]);
    let diary = Diary {
        zone: &zone,
        templates: &templates,
        blocks: &[],
        busy: &busy,
        providers: &providers,
        locations: &locations,
    };
    let window = Window::at(now, 0, DAYS);
    let (from, to) = window.days(&zone);
    let query =
        SlotQuery { booking_type, duration_minutes: 15, provider: Choice::Any, location: Choice::Any, from, to };
    let mut timings = Vec::new();
    let mut count = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        count = diary.free_slots(&query, &window, usize::MAX).len();
        timings.push(started.elapsed());
    }
    timings.sort();
    println!(
        "availability, {PROVIDERS} providers x {DAYS} days of weekday templates, 30% booked, any provider: {count} free slots in {:.1} ms (median of {RUNS})",
        timings[RUNS / 2].as_secs_f64() * 1000.0
    );
}
