//! The demo clinic seeded on first start, so the patient flow can be tried at once: booking
//! types, two locations, three providers, weekday templates, and online booking switched on.

use crate::app::AppState;
use crate::domain::booking_type::{BookingType, NewBookingTypeInput};
use crate::domain::clinic::{ClinicId, ClinicProfileInput};
use crate::domain::diary::{DiaryTemplate, TemplateId, TemplateInput};
use crate::domain::location::{Location, LocationInput};
use crate::domain::online_settings::OnlineSettingsInput;
use crate::domain::provider::{Provider, ProviderInput};
use crate::features::catalog::entries;
use crate::features::catalog::settings::change_settings;
use crate::features::clinics::save_profile;
use crate::routes::examples;
use crate::store::{Condition, Item, StoreError, Write, keys};

/// The demo clinic's id.
pub const DEMO_CLINIC: &str = "demo";
const SEED_ACTOR: &str = "system";

fn seed_error(error: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("seeding the demo clinic: {error}"))
}

/// Creates the demo clinic, unless it exists already.
pub async fn seed_demo_clinic(state: &AppState) -> Result<(), StoreError> {
    let clinic = ClinicId::parse(DEMO_CLINIC).map_err(|error| seed_error(error.message))?;
    if state.store.get(&keys::clinic_profile(&clinic)).await?.is_some() {
        return Ok(());
    }
    let profile = ClinicProfileInput {
        name: "Riverside Family Practice".into(),
        time_zone: "Europe/London".into(),
        country: Some("GB".into()),
        logo_url: None,
        accent_colour: Some("#0b5cad".into()),
        address: Some("1 River Road\nLondon SE1 9AA".into()),
        phone: Some("020 7946 0000".into()),
        opening_hours: Some("Monday to Friday, 08:00 to 18:30\nSaturday, 09:00 to 12:00".into()),
        opening_hours_fr: Some("Du lundi au vendredi, de 8 h à 18 h 30\nLe samedi, de 9 h à 12 h".into()),
        language: None,
    };
    save_profile(state, &clinic, &profile, SEED_ACTOR, None).await.map_err(|problem| seed_error(problem.detail))?;
    let mut booking_types = Vec::new();
    for (id, short_name, long_name, long_name_fr, duration_minutes, enabled_online) in [
        (examples::GP15, "GP15", "GP consultation", "Consultation de médecine générale", 15, true),
        (examples::NURSE20, "NURSE20", "Practice nurse appointment", "Rendez-vous avec l'infirmier", 20, true),
        (examples::BLOODS, "BLOODS", "Blood test", "Prise de sang", 10, true),
        (examples::TRAVEL, "TRAVEL", "Travel vaccination consultation", "Consultation vaccins du voyageur", 30, false),
    ] {
        let input = NewBookingTypeInput {
            short_name: short_name.into(),
            long_name: long_name.into(),
            long_name_fr: Some(long_name_fr.into()),
            duration_minutes,
            enabled_online,
        };
        let created = entries::create_with_id::<BookingType>(state, &clinic, SEED_ACTOR, id.into(), &input);
        booking_types.push(created.await.map_err(seed_error)?);
    }
    let mut locations = Vec::new();
    for (id, name, address, phone) in [
        (examples::RIVERSIDE, "Riverside Surgery", "1 River Road, London SE1 9AA", "+44 20 7946 0000"),
        (examples::HILLVIEW, "Hillview Health Centre", "22 Hill Street, London N1 2BB", "+44 20 7946 0001"),
    ] {
        let input = LocationInput {
            full_name: Some(name.into()),
            primary_address: Some(address.into()),
            booking_phone: Some(phone.into()),
            enabled_online: Some(true),
        };
        let created = entries::create_with_id::<Location>(state, &clinic, SEED_ACTOR, id.into(), &input);
        locations.push(created.await.map_err(seed_error)?);
    }
    let mut providers = Vec::new();
    for (id, name, title, qualification, bio, bio_fr, languages) in [
        (
            examples::AMARA,
            "Dr Amara Okafor",
            "General Practitioner",
            "General practice",
            "Family doctor at Riverside since 2012, with a special interest in children's health.",
            "Médecin de famille à Riverside depuis 2012, attentive à la santé des enfants.",
            &["English", "Français", "Yoruba"][..],
        ),
        (
            examples::TOM,
            "Dr Tom Lindqvist",
            "General Practitioner",
            "Cardiology",
            "GP with a background in cardiology; sees patients with heart and blood-pressure concerns.",
            "Généraliste formé en cardiologie ; suit les patients pour le cœur et la tension.",
            &["English", "Svenska"][..],
        ),
        (
            examples::SAM,
            "Sam Patel",
            "Practice Nurse",
            "Nursing",
            "Blood tests, vaccinations, dressings and long-term condition reviews.",
            "Prises de sang, vaccins, pansements et suivi des maladies chroniques.",
            &["English", "Gujarati"][..],
        ),
    ] {
        let input = ProviderInput {
            name: Some(name.into()),
            professional_title: Some(title.into()),
            enabled_online: Some(true),
            qualifications: Some(vec![qualification.into()]),
            bio: Some(bio.into()),
            bio_fr: Some(bio_fr.into()),
            languages: Some(languages.iter().map(|language| (*language).to_owned()).collect()),
        };
        let created = entries::create_with_id::<Provider>(state, &clinic, SEED_ACTOR, id.into(), &input);
        providers.push(created.await.map_err(seed_error)?);
    }
    let gp_types: Vec<String> =
        booking_types.iter().filter(|bt| bt.short_name != "NURSE20").map(|bt| bt.id.to_string()).collect();
    let nurse_types: Vec<String> = booking_types
        .iter()
        .filter(|bt| bt.short_name == "NURSE20" || bt.short_name == "BLOODS")
        .map(|bt| bt.id.to_string())
        .collect();
    let plans = [
        (&providers[0], &locations[0], "08:30", "12:30", 15, &gp_types),
        (&providers[1], &locations[1], "09:00", "13:00", 15, &gp_types),
        (&providers[2], &locations[0], "08:00", "12:00", 10, &nurse_types),
    ];
    let now = state.clock.now();
    for ((provider, location, start, end, slot, types), id) in plans.into_iter().zip(examples::DIARY_TEMPLATES) {
        let input = TemplateInput {
            provider_id: provider.id.to_string(),
            location_id: location.id.to_string(),
            weekdays: ["monday", "tuesday", "wednesday", "thursday", "friday"].map(String::from).to_vec(),
            start_time: start.into(),
            end_time: end.into(),
            slot_minutes: slot,
            booking_type_ids: types.clone(),
            valid_from: now.to_zoned(jiff::tz::TimeZone::UTC).date().to_string(),
            valid_to: None,
            publication: None,
        };
        let template = DiaryTemplate::create(TemplateId::generated(id.into()), &input)
            .map_err(|errors| seed_error(format!("{errors:?}")))?;
        let item = Item::from_record(keys::entry(&clinic, keys::TEMPLATE_PREFIX, template.id.as_str()), &template)?;
        state.store.write(Write::put(item, Condition::NotExists)).await?;
    }
    let settings = OnlineSettingsInput {
        online_booking_enabled: Some(true),
        advisory: Some("If you have chest pain or difficulty breathing, call 999 now. Do not book online.".into()),
        advisory_fr: Some(
            "En cas de douleur thoracique ou de difficulté à respirer, appelez le 999 immédiatement. Ne prenez pas rendez-vous en ligne."
                .into(),
        ),
        outcome_message: Some("Thank you. We have booked your appointment and look forward to seeing you.".into()),
        outcome_message_fr: Some("Merci. Votre rendez-vous est enregistré ; à bientôt.".into()),
        enable_asap: Some(true),
        redirect_url: Some("https://clinic.example.com/".into()),
        disable_referrals: Some(false),
        minimum_notice_minutes: Some(60),
        horizon_days: Some(60),
        ..Default::default()
    };
    change_settings(state, &clinic, &settings, SEED_ACTOR, None).await.map_err(|problem| seed_error(problem.detail))?;
    tracing::info!(clinic_id = DEMO_CLINIC, "demo clinic seeded");
    Ok(())
}
