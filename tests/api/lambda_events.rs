//! The sample events in `events/` are real API Gateway v2, EventBridge Scheduler and EventBridge
//! payloads; the handlers run on them exactly as the Lambdas would.

use std::collections::BTreeSet;
use std::sync::Arc;

use clinic_shared::app::{AppState, EmbeddedApp, Settings};
use clinic_shared::domain::appointment::{Appointment, AppointmentId, AppointmentStatus, Channel};
use clinic_shared::domain::booking_link::{
    BookingLink, BookingLinkId, BroadcastRule, BroadcastRuleId, BroadcastRuleInput, LinkToken, TokenPurpose,
};
use clinic_shared::domain::booking_type::{BookingType, BookingTypeId};
use clinic_shared::domain::clinic::ClinicId;
use clinic_shared::domain::contact::Region;
use clinic_shared::domain::diary::{BlockId, BlockInput, DiaryBlock, DiaryTemplate, TemplateId, TemplateInput};
use clinic_shared::domain::enrollment::{Enrollment, InFlight, NextRun};
use clinic_shared::domain::jobs::{JobRecord, JobStatus, ScheduledJob};
use clinic_shared::domain::letter::{Letter, LetterStatus, Recipient};
use clinic_shared::domain::location::{Location, LocationId, LocationInput};
use clinic_shared::domain::online_service::{OnlineService, OnlineServiceInput, ServiceId};
use clinic_shared::domain::partner::{HoldId, Partner, PartnerHold, PartnerInput};
use clinic_shared::domain::patient::{PatientDetails, PatientInput, PatientRecord, PatientReference};
use clinic_shared::domain::patient_connect::{ConnectProgram, Position, PrintOption};
use clinic_shared::domain::provider::{Provider, ProviderId, ProviderInput};
use clinic_shared::features::activity::ActivityConsumer;
use clinic_shared::features::appointment_lifecycle::manage_access::token_write;
use clinic_shared::features::booking_links::tokens::{TokenRecord, link_item, record_write};
use clinic_shared::features::catalog::publication::publish_dataset;
use clinic_shared::features::diary::booking::hold_claims;
use clinic_shared::features::patient_connect::{StoredProgram, load_enrollment};
use clinic_shared::files::letters::letter_key;
use clinic_shared::lambda::{handle_domain_event, handle_inbound_sms, handle_scheduled_payload};
use clinic_shared::local::seed::seed_demo_clinic;
use clinic_shared::router::handle;
use clinic_shared::routes::ROUTES;
use clinic_shared::store::{Condition, Item, Write, keys};
use clinic_tests::repo_root;
use jiff::Timestamp;
use lambda_http::aws_lambda_events::eventbridge::EventBridgeEvent;

const BOOKING_TYPE: &str = "0b7e6f8e-7a53-4d64-9a1b-5c4c8e0f4c11";
const LOCATION: &str = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
const PROVIDER: &str = "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a";
const TEMPLATE: &str = "3e4f5a6b-7c8d-4e9f-0a1b-2c3d4e5f6a7b";
const BLOCK: &str = "4f5a6b7c-8d9e-4f0a-1b2c-3d4e5f6a7b8c";
const APPOINTMENT: &str = "5a6b7c8d-9e0f-4a1b-2c3d-4e5f6a7b8c9d";
const RULE: &str = "6b7c8d9e-0f1a-4b2c-3d4e-5f6a7b8c9d0e";
const SERVICE: &str = "0f1a2b3c-4d5e-4f6a-7b8c-9d0e1f2a3b4c";
const PROVISIONAL: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const HOLD_TO_CONFIRM: &str = "8d9e0f1a-2b3c-4d4e-5f6a-7b8c9d0e1f2a";
const HOLD_TO_RELEASE: &str = "9e0f1a2b-3c4d-4e5f-6a7b-8c9d0e1f2a3b";
const LINK_TO_EXPIRE: &str = "7c8d9e0f-1a2b-4c3d-4e5f-6a7b8c9d0e1f";
/// The token of the fixtures' unused link (`/links/{token}`).
const BOOK_TOKEN: [u8; 32] = [0xa1; 32];
/// The manage token of the fixtures' booked link (`/manage/{token}`).
const MANAGE_TOKEN: [u8; 32] = [0xb2; 32];

fn fixture(path: &str) -> String {
    std::fs::read_to_string(repo_root().join("events").join(path)).unwrap()
}

async fn put<T: serde::Serialize>(state: &AppState, key: clinic_shared::store::Key, record: &T) {
    state.store.write(Write::put(Item::from_record(key, record).unwrap(), Condition::NotExists)).await.unwrap();
}

fn settings() -> Settings {
    Settings { public_base_url: "http://127.0.0.1".into(), public_rate_limit: None }
}

/// The demo clinic plus the records the sample events name, published.
async fn app() -> (EmbeddedApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let app = EmbeddedApp::open(dir.path(), clinic_tests::frozen_clock(), settings()).unwrap();
    clinic_shared::features::attach_event_consumers(&app);
    fixtures(&app.state).await;
    (app, dir)
}

/// Writes what the sample events name into `state`'s store.
async fn fixtures(state: &AppState) {
    seed_demo_clinic(state).await.unwrap();
    let clinic = ClinicId::parse("demo").unwrap();
    let now: Timestamp = clinic_tests::TEST_START.parse().unwrap();
    let booking_type = BookingType {
        id: BookingTypeId::generated(BOOKING_TYPE.into()),
        short_name: "FIX".into(),
        long_name: "Fixture booking type".into(),
        long_name_fr: None,
        duration_minutes: 15,
        enabled_online: true,
        created_at: now,
        updated_at: now,
        archived_at: None,
    };
    put(state, keys::entry(&clinic, keys::BOOKING_TYPE_PREFIX, BOOKING_TYPE), &booking_type).await;
    let location_input = LocationInput {
        full_name: Some("Fixture Surgery".into()),
        primary_address: Some("1 Test Street".into()),
        booking_phone: None,
        enabled_online: Some(true),
    };
    let location = Location::create(LocationId::generated(LOCATION.into()), &location_input, now).unwrap();
    put(state, keys::entry(&clinic, keys::LOCATION_PREFIX, LOCATION), &location).await;
    let provider_input = ProviderInput {
        name: Some("Dr Fixture".into()),
        professional_title: Some("GP".into()),
        enabled_online: Some(true),
        qualifications: Some(vec!["General practice".into()]),
        ..ProviderInput::default()
    };
    let provider = Provider::create(ProviderId::generated(PROVIDER.into()), &provider_input, now).unwrap();
    put(state, keys::entry(&clinic, keys::PROVIDER_PREFIX, PROVIDER), &provider).await;
    let template_input = TemplateInput {
        provider_id: PROVIDER.into(),
        location_id: LOCATION.into(),
        weekdays: vec!["saturday".into()],
        start_time: "09:00".into(),
        end_time: "11:00".into(),
        slot_minutes: 15,
        booking_type_ids: vec![BOOKING_TYPE.into()],
        valid_from: "2026-11-01".into(),
        valid_to: None,
        publication: None,
    };
    let template = DiaryTemplate::create(TemplateId::generated(TEMPLATE.into()), &template_input).unwrap();
    put(state, keys::entry(&clinic, keys::TEMPLATE_PREFIX, TEMPLATE), &template).await;
    let block_input = BlockInput {
        provider_id: PROVIDER.into(),
        starts_at: "2026-12-01T09:00".into(),
        ends_at: "2026-12-01T10:00".into(),
        reason: "Training".into(),
    };
    let block = DiaryBlock::create(
        BlockId::generated(BLOCK.into()),
        &block_input,
        &jiff::tz::TimeZone::get("Europe/London").unwrap(),
    )
    .unwrap();
    put(state, keys::entry(&clinic, keys::BLOCK_PREFIX, BLOCK), &block).await;
    let patient = PatientInput {
        first_name: "Robin".into(),
        last_name: "Example".into(),
        date_of_birth: "1990-01-02".into(),
        mobile: "+447700900789".into(),
        email: "robin@example.com".into(),
    };
    let appointment = Appointment {
        id: AppointmentId::generated(APPOINTMENT.into()),
        booking_type_id: booking_type.id.clone(),
        provider_id: provider.id.clone(),
        location_id: location.id.clone(),
        starts_at: "2026-11-28T10:00:00Z".parse().unwrap(),
        duration_minutes: 15,
        patient: PatientDetails::parse(&patient, "2026-11-22".parse().unwrap(), Region::GB, "").unwrap(),
        channel: Channel::Online,
        status: AppointmentStatus::Booked,
        notes: None,
        patient_reference: None,
        provisional: false,
        partner_id: None,
        referral: None,
        lifecycle: Default::default(),
        created_at: now,
        updated_at: now,
    };
    clinic_shared::features::diary::booking::book(state, &clinic, &appointment, "test", None).await.unwrap();
    publish_dataset(state, &clinic).await.unwrap();
    seed_links(state, &clinic, &appointment, now).await;
    seed_partner(state, &clinic, &appointment, now).await;
    seed_portal(state, &clinic, &appointment, now).await;
    seed_connect(state, &clinic, &appointment, now).await;
}

/// Patient Connect: the templates and the Recall program the sample events name, a second
/// patient with an enrollment waiting at its pause and one whose first SMS is due, and a letter
/// on the distribution list.
async fn seed_connect(state: &AppState, clinic: &ClinicId, appointment: &Appointment, now: Timestamp) {
    for (id, kind, subject) in [
        ("fixture-sms", "sms", None),
        ("fixture-email", "email", Some("Your review")),
        ("fixture-letter", "letter", Some("Your review")),
    ] {
        let template = serde_json::json!({"id": id, "kind": kind, "name": id, "subject": subject, "body": "Dear {patient.first_name}, see {clinic.name} on {booking.date}."});
        put(state, keys::connect_template(clinic, id), &template).await;
    }
    let event: serde_json::Value =
        serde_json::from_str(&fixture("patient-connect-admin/create-connect-program.json")).unwrap();
    let program: ConnectProgram = serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
    let stored =
        StoredProgram { id: "fixture-recall".into(), program, created_at: now, updated_at: now, archived_at: None };
    put(state, keys::connect_program(clinic, "fixture-recall"), &stored).await;
    let record = PatientRecord {
        reference: PatientReference::parse("r", "MRN-1002").unwrap(),
        details: appointment.patient.clone(),
        profile: Default::default(),
    };
    put(state, keys::patient(clinic, "MRN-1002"), &record).await;
    let due_at: Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
    for (id, position, next) in [
        ("fixture-enrollment", Position::Paused { cycle: 0, action: 3, flagged: false }, None),
        ("fixture-due", Position::Due { cycle: 0, action: 0 }, Some(NextRun::new("fixture-due", 0, 0, 0, due_at))),
    ] {
        let enrollment = Enrollment {
            id: id.into(),
            program_id: "fixture-recall".into(),
            patient_reference: Some(record.reference.clone()),
            appointment_id: None,
            first_reference_date: "2026-12-06".parse().unwrap(),
            position,
            in_flight: None,
            next,
            completed_by: Vec::new(),
            enrolled_by: "staff".into(),
            created_at: now,
            updated_at: now,
        };
        let item = Item::from_record(keys::enrollment(clinic, id), &enrollment)
            .unwrap()
            .with_gsi1(keys::patient_enrollment(clinic, "MRN-1002", now, id));
        state.store.write(Write::put(item, Condition::NotExists)).await.unwrap();
    }
    let file_key = letter_key(clinic, "fixture-letter-1");
    state.letters.save(&file_key, b"%PDF-1.7 fixture".to_vec()).await.unwrap();
    let letter = Letter {
        id: "fixture-letter-1".into(),
        enrollment_id: "fixture-enrollment".into(),
        patient_reference: Some("MRN-1002".into()),
        recipient: Recipient::Patient,
        print: PrintOption::Mail,
        file_key,
        status: LetterStatus::ToPost,
        created_at: now,
    };
    put(state, keys::letter(clinic, "fixture-letter-1"), &letter).await;
}

/// An online service open to anyone, and a provisional portal booking to attach.
async fn seed_portal(state: &AppState, clinic: &ClinicId, appointment: &Appointment, now: Timestamp) {
    let input = OnlineServiceInput {
        name: "Fixture service".into(),
        booking_type_ids: vec![BOOKING_TYPE.into()],
        ..OnlineServiceInput::default()
    };
    let service = OnlineService::parse(ServiceId::generated(SERVICE.into()), &input).unwrap();
    put(state, keys::online_service(clinic, SERVICE), &service).await;
    let provisional = Appointment {
        id: AppointmentId::generated(PROVISIONAL.into()),
        starts_at: "2026-11-27T15:00:00Z".parse().unwrap(),
        provisional: true,
        patient_reference: None,
        created_at: now,
        updated_at: now,
        ..appointment.clone()
    };
    clinic_shared::features::diary::booking::book(state, clinic, &provisional, "patient", None).await.unwrap();
}

/// A partner with the fixture booking type activated, a patient record, and two live holds on
/// Saturday's slots (one to confirm, one to release).
async fn seed_partner(state: &AppState, clinic: &ClinicId, appointment: &Appointment, now: Timestamp) {
    let input = PartnerInput {
        name: "Acme Insurance".into(),
        activated_booking_type_ids: vec![BOOKING_TYPE.into()],
        ..PartnerInput::default()
    };
    let partner = Partner::parse("acme", &input).unwrap();
    let item = Item::from_record(keys::partner(clinic, "acme"), &partner).unwrap().with_version(1);
    state.store.write(Write::put(item, Condition::NotExists)).await.unwrap();
    let record = PatientRecord {
        reference: PatientReference::parse("r", "MRN-1001").unwrap(),
        details: appointment.patient.clone(),
        profile: Default::default(),
    };
    put(state, keys::patient(clinic, "MRN-1001"), &record).await;
    for (id, starts_at) in [(HOLD_TO_CONFIRM, "2026-11-28T10:15:00Z"), (HOLD_TO_RELEASE, "2026-11-28T09:45:00Z")] {
        let hold = PartnerHold {
            id: HoldId::generated(id.into()),
            partner_id: partner.id.clone(),
            booking_type_id: BookingTypeId::generated(BOOKING_TYPE.into()),
            provider_id: ProviderId::generated(PROVIDER.into()),
            location_id: LocationId::generated(LOCATION.into()),
            starts_at: starts_at.parse().unwrap(),
            duration_minutes: 15,
            held_by: "staff".into(),
            held_until: PartnerHold::lapse_at(now),
        };
        let mut writes = vec![Write::put(
            Item::from_record(keys::hold(clinic, id), &hold).unwrap().with_expiry(hold.held_until.as_second()),
            Condition::NotExists,
        )];
        writes.extend(hold_claims(clinic, &hold.provider_id, hold.units(), id, hold.held_until).unwrap());
        state.store.transact(writes).await.unwrap();
    }
}

/// A broadcast rule, an unused link (book token), a link that booked the fixture appointment
/// (manage token), and a link to expire and delete.
async fn seed_links(state: &AppState, clinic: &ClinicId, appointment: &Appointment, now: Timestamp) {
    let input = BroadcastRuleInput {
        title: "Physiotherapy follow-up".into(),
        booking_type_id: BOOKING_TYPE.into(),
        provider_ids: vec![PROVIDER.into()],
        location_ids: vec![LOCATION.into()],
        link_lifetime_hours: 72,
        allow_reschedule: true,
        sms_template: "Hi {first_name}: {link}".into(),
        ..BroadcastRuleInput::default()
    };
    let rule = BroadcastRule::parse(BroadcastRuleId::generated(RULE.into()), &input).unwrap();
    let put_versioned = |key, item: &BroadcastRule| Item::from_record(key, item).unwrap().with_version(1);
    state
        .store
        .write(Write::put(put_versioned(keys::broadcast_rule(clinic, RULE), &rule), Condition::NotExists))
        .await
        .unwrap();
    let reference = PatientReference::parse("r", "MRN-1001").unwrap();
    let links = [
        (BookingLinkId::random(), LinkToken::from_random_bytes(BOOK_TOKEN), TokenPurpose::Book, false),
        (BookingLinkId::random(), LinkToken::from_random_bytes(MANAGE_TOKEN), TokenPurpose::Manage, true),
        (
            BookingLinkId::generated(LINK_TO_EXPIRE.into()),
            LinkToken::from_random_bytes([0xc3; 32]),
            TokenPurpose::Book,
            false,
        ),
    ];
    for (id, token, purpose, booked) in links {
        let mut link =
            BookingLink::sent(id, &rule, reference.clone(), appointment.patient.clone(), token.hash(), "staff", now);
        // A booked link's manage token opens its appointment, as the confirmation's would.
        let token_write = if booked {
            link.mark_booked(appointment.id.clone(), now).unwrap();
            token_write(clinic, &appointment.id, &token).unwrap()
        } else {
            let record = TokenRecord { clinic_id: clinic.clone(), link_id: link.id.clone(), purpose };
            record_write(&token.hash(), &record).unwrap()
        };
        state
            .store
            .transact(vec![Write::put(link_item(clinic, &link, 1).unwrap(), Condition::NotExists), token_write])
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn every_http_event_runs_through_its_function() {
    let (app, _dir) = app().await;
    let cases = [
        ("meta/health.json", "meta", 200),
        ("meta/openapi.json", "meta", 200),
        ("catalog-public/public-catalog.json", "catalog-public", 200),
        ("booking-public/availability.json", "booking-public", 200),
        ("booking-public/create-booking.json", "booking-public", 201),
        ("booking-public/create-booking.json", "booking-public", 200),
        ("booking-public/create-referral-upload.json", "booking-public", 201),
        ("booking-public/booking-page.json", "booking-public", 200),
        ("booking-public/submit-booking-page.json", "booking-public", 201),
        // Before the diary fixtures delete the Saturday template the link books from.
        ("booking-links-public/booking-link-page.json", "booking-links-public", 200),
        ("booking-links-public/confirm-booking-link.json", "booking-links-public", 201),
        ("booking-links-public/confirm-booking-link.json", "booking-links-public", 200),
        ("booking-links-public/manage-page.json", "booking-links-public", 200),
        ("booking-links-public/submit-manage-page.json", "booking-links-public", 200),
        ("partner-booking-admin/create-partner.json", "partner-booking-admin", 201),
        ("partner-booking-admin/list-partners.json", "partner-booking-admin", 200),
        ("partner-booking-admin/replace-partner.json", "partner-booking-admin", 200),
        ("partner-booking-admin/partner-offer.json", "partner-booking-admin", 200),
        ("partner-booking-admin/partner-slots.json", "partner-booking-admin", 200),
        ("partner-booking-admin/create-partner-hold.json", "partner-booking-admin", 201),
        ("partner-booking-admin/create-partner-hold.json", "partner-booking-admin", 409),
        ("partner-booking-admin/confirm-partner-hold.json", "partner-booking-admin", 201),
        ("partner-booking-admin/confirm-partner-hold.json", "partner-booking-admin", 410),
        ("partner-booking-admin/release-partner-hold.json", "partner-booking-admin", 204),
        ("partner-booking-admin/archive-partner.json", "partner-booking-admin", 200),
        ("partner-booking-admin/partner-offer.json", "partner-booking-admin", 422),
        ("booking-public/portal-page.json", "booking-public", 200),
        ("booking-public/submit-portal-page.json", "booking-public", 303),
        ("booking-public/portal-services.json", "booking-public", 200),
        ("booking-public/portal-availability.json", "booking-public", 200),
        ("booking-public/portal-booking.json", "booking-public", 201),
        ("catalog-admin/create-online-service.json", "catalog-admin", 201),
        ("catalog-admin/list-online-services.json", "catalog-admin", 200),
        ("catalog-admin/replace-online-service.json", "catalog-admin", 404),
        ("catalog-admin/delete-online-service.json", "catalog-admin", 404),
        ("diary-admin/list-diary-slots.json", "diary-admin", 200),
        ("diary-admin/attach-patient.json", "diary-admin", 200),
        ("diary-admin/attach-patient.json", "diary-admin", 409),
        ("diary-admin/appointment-messages.json", "diary-admin", 200),
        ("diary-admin/flagged-messages.json", "diary-admin", 200),
        ("diary-admin/create-waitlist-entry.json", "diary-admin", 201),
        ("diary-admin/list-waitlist.json", "diary-admin", 200),
        ("diary-admin/change-waitlist-entry.json", "diary-admin", 404),
        ("diary-admin/remove-waitlist-entry.json", "diary-admin", 404),
        ("booking-public/waitlist-join-page.json", "booking-public", 200),
        ("booking-public/submit-waitlist-join.json", "booking-public", 201),
        ("booking-links-public/waitlist-offer-page.json", "booking-links-public", 404),
        ("booking-links-public/submit-waitlist-offer.json", "booking-links-public", 404),
        ("diary-admin/patient-appointments.json", "diary-admin", 200),
        ("catalog-admin/get-appointment-settings.json", "catalog-admin", 200),
        ("catalog-admin/put-appointment-settings.json", "catalog-admin", 200),
        ("diary-admin/search-patients.json", "diary-admin", 200),
        ("diary-admin/show-patient.json", "diary-admin", 200),
        ("diary-admin/replace-patient.json", "diary-admin", 200),
        ("diary-admin/create-patient.json", "diary-admin", 201),
        ("diary-admin/rebuild-patient-search-index.json", "diary-admin", 200),
        ("diary-admin/statistics.json", "diary-admin", 200),
        ("partner-booking-admin/partner-booking-page.json", "partner-booking-admin", 200),
        ("partner-booking-admin/partner-booking-script.json", "partner-booking-admin", 200),
        ("diary-admin/create-diary-template.json", "diary-admin", 201),
        ("diary-admin/list-diary-templates.json", "diary-admin", 200),
        ("diary-admin/delete-diary-template.json", "diary-admin", 204),
        ("diary-admin/create-diary-block.json", "diary-admin", 201),
        ("diary-admin/list-diary-blocks.json", "diary-admin", 200),
        ("diary-admin/delete-diary-block.json", "diary-admin", 204),
        ("diary-admin/list-appointments.json", "diary-admin", 200),
        ("diary-admin/create-appointment.json", "diary-admin", 201),
        ("diary-admin/update-appointment.json", "diary-admin", 200),
        ("catalog-admin/put-clinic.json", "catalog-admin", 200),
        ("catalog-admin/get-clinic.json", "catalog-admin", 200),
        ("booking-public/clinic-logo.json", "booking-public", 404),
        ("catalog-admin/put-clinic-logo.json", "catalog-admin", 200),
        ("booking-public/clinic-logo.json", "booking-public", 200),
        ("catalog-admin/create-booking-type.json", "catalog-admin", 201),
        ("catalog-admin/list-booking-types.json", "catalog-admin", 200),
        ("catalog-admin/update-booking-type.json", "catalog-admin", 200),
        ("catalog-admin/booking-type-history.json", "catalog-admin", 200),
        ("catalog-admin/clinic-activity.json", "catalog-admin", 200),
        ("catalog-admin/create-location.json", "catalog-admin", 201),
        ("catalog-admin/list-locations.json", "catalog-admin", 200),
        ("catalog-admin/update-location.json", "catalog-admin", 200),
        ("catalog-admin/create-provider.json", "catalog-admin", 201),
        ("catalog-admin/list-providers.json", "catalog-admin", 200),
        ("catalog-admin/update-provider.json", "catalog-admin", 200),
        ("catalog-admin/get-online-settings.json", "catalog-admin", 200),
        ("catalog-admin/put-online-settings.json", "catalog-admin", 200),
        ("booking-links-admin/create-broadcast-rule.json", "booking-links-admin", 201),
        ("booking-links-admin/list-broadcast-rules.json", "booking-links-admin", 200),
        ("booking-links-admin/replace-broadcast-rule.json", "booking-links-admin", 200),
        ("booking-links-admin/send-booking-link.json", "booking-links-admin", 201),
        ("booking-links-admin/expire-booking-link.json", "booking-links-admin", 200),
        ("booking-links-admin/resend-booking-link.json", "booking-links-admin", 201),
        ("booking-links-admin/delete-booking-link.json", "booking-links-admin", 200),
        ("booking-links-admin/provider-messages.json", "booking-links-admin", 200),
        ("booking-links-admin/patient-booking-links.json", "booking-links-admin", 200),
        ("booking-links-admin/archive-broadcast-rule.json", "booking-links-admin", 200),
        ("patient-connect-admin/create-connect-template.json", "patient-connect-admin", 201),
        ("patient-connect-admin/list-connect-templates.json", "patient-connect-admin", 200),
        ("patient-connect-admin/replace-connect-template.json", "patient-connect-admin", 200),
        ("patient-connect-admin/create-connect-program.json", "patient-connect-admin", 201),
        ("patient-connect-admin/list-connect-programs.json", "patient-connect-admin", 200),
        ("patient-connect-admin/replace-connect-program.json", "patient-connect-admin", 200),
        ("patient-connect-admin/create-enrollment.json", "patient-connect-admin", 201),
        ("patient-connect-admin/create-enrollment.json", "patient-connect-admin", 409),
        ("patient-connect-admin/program-enrollments.json", "patient-connect-admin", 200),
        ("patient-connect-admin/show-enrollment.json", "patient-connect-admin", 200),
        ("patient-connect-admin/advance-enrollment.json", "patient-connect-admin", 200),
        ("patient-connect-admin/advance-enrollment.json", "patient-connect-admin", 409),
        ("patient-connect-admin/patient-enrollments.json", "patient-connect-admin", 200),
        ("patient-connect-admin/connect-follow-ups.json", "patient-connect-admin", 200),
        ("patient-connect-admin/distribution-list.json", "patient-connect-admin", 200),
        ("patient-connect-admin/rebuild-distribution-list-index.json", "patient-connect-admin", 200),
        ("patient-connect-admin/letter-pdf.json", "patient-connect-admin", 200),
        ("patient-connect-admin/mark-letter-posted.json", "patient-connect-admin", 200),
        ("patient-connect-admin/mark-letter-posted.json", "patient-connect-admin", 409),
        ("patient-connect-admin/add-referral.json", "patient-connect-admin", 201),
        // Last: archiving the demo's entries would refuse the bookings above.
        ("catalog-admin/archive-booking-type.json", "catalog-admin", 200),
        ("catalog-admin/archive-location.json", "catalog-admin", 200),
        ("catalog-admin/archive-provider.json", "catalog-admin", 200),
        ("catalog-admin/update-provider.json", "catalog-admin", 409),
        ("patient-connect-admin/archive-connect-program.json", "patient-connect-admin", 200),
        ("patient-connect-admin/archive-connect-template.json", "patient-connect-admin", 200),
        ("patient-connect-admin/replace-connect-template.json", "patient-connect-admin", 409),
    ];
    let mut covered = BTreeSet::new();
    for (file, function, status) in cases {
        let request = lambda_http::request::from_str(&fixture(file)).unwrap();
        covered.insert(clinic_shared::http::request::route_key(&request).unwrap().to_owned());
        let response = handle(&app.state, function, request).await;
        assert_eq!(response.status().as_u16(), status, "{file}: {:?}", response.body());
        // The same event sent to another function is not served by it.
        let request = lambda_http::request::from_str(&fixture(file)).unwrap();
        let other = if function == "meta" { "catalog-public" } else { "meta" };
        assert_eq!(handle(&app.state, other, request).await.status().as_u16(), 404, "{file} served by {other}");
    }
    let all: BTreeSet<String> = ROUTES.iter().map(|route| route.key()).collect();
    assert_eq!(covered, all, "every route has a sample event");
}

#[tokio::test]
async fn the_scheduler_payload_runs_once_and_is_ignored_when_unknown() {
    let (app, _dir) = app().await;
    let payload: serde_json::Value =
        serde_json::from_str(&fixture("scheduled-runner/apply-booking-type-change.json")).unwrap();
    let outcome = handle_scheduled_payload(&app.state, payload.clone()).await.unwrap();
    assert_eq!(outcome["outcome"], "unknown_job");
    let job: ScheduledJob = serde_json::from_value(payload.clone()).unwrap();
    let record =
        JobRecord { job: job.clone(), due_at: clinic_tests::TEST_START.parse().unwrap(), status: JobStatus::Pending };
    app.state
        .store
        .write(Write::put(
            Item::from_record(keys::job(&job.clinic_id, &job.job_id), &record).unwrap(),
            Condition::NotExists,
        ))
        .await
        .unwrap();
    assert_eq!(handle_scheduled_payload(&app.state, payload.clone()).await.unwrap()["outcome"], "ran");
    assert_eq!(handle_scheduled_payload(&app.state, payload).await.unwrap()["outcome"], "already_done");
    assert!(
        handle_scheduled_payload(&app.state, serde_json::json!({"job_id": 1})).await.is_err(),
        "a malformed payload must fail so it is dead-lettered"
    );
}

#[tokio::test]
async fn the_connect_payload_sends_once_and_the_inbound_sms_is_kept_once() {
    let (app, _dir) = app().await;
    let payload: serde_json::Value =
        serde_json::from_str(&fixture("scheduled-runner/run-connect-action.json")).unwrap();
    assert_eq!(handle_scheduled_payload(&app.state, payload.clone()).await.unwrap()["outcome"], "ran");
    assert_eq!(handle_scheduled_payload(&app.state, payload).await.unwrap()["outcome"], "already_done");
    let sent = clinic_shared::messages::outbox::list_outbox(app.state.store.as_ref()).await.unwrap();
    let to_robin: Vec<_> = sent.iter().filter(|m| m.channel == "sms" && m.to == "+447700900789").collect();
    assert_eq!(to_robin.len(), 1, "one SMS for one action delivered twice");
    assert!(to_robin[0].body.starts_with("Dear Robin, see "), "{}", to_robin[0].body);
    // The SMS saves replies: the sample inbound SMS from that mobile is kept, once.
    let sns: aws_lambda_events::sns::SnsEvent = serde_json::from_str(&fixture("sms-replies/inbound-sms.json")).unwrap();
    handle_inbound_sms(&app.state, sns.clone()).await.unwrap();
    handle_inbound_sms(&app.state, sns).await.unwrap();
    let clinic = ClinicId::parse("demo").unwrap();
    let kept = clinic_shared::store::query_all(
        app.state.store.as_ref(),
        clinic_shared::store::Query::prefix(keys::enrollment_partition(&clinic, "fixture-due"), keys::REPLY_PREFIX),
    )
    .await
    .unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].data["body"], "Yes please, mornings are best");
}

#[tokio::test]
async fn a_runner_lost_mid_send_is_recorded_as_unknown_and_flagged_not_sent_again() {
    let (app, _dir) = app().await;
    let clinic = ClinicId::parse("demo").unwrap();
    let state = &app.state;
    // A runner claimed the SMS ten minutes ago and was never heard of again.
    let (enrollment, version) = load_enrollment(state, &clinic, "fixture-due").await.unwrap().unwrap();
    let claimed_at = state.clock.now() - jiff::SignedDuration::from_mins(10);
    let claimed =
        Enrollment { in_flight: Some(InFlight { cycle: 0, action: 0, attempt: 0, claimed_at }), ..enrollment };
    let item = Item::from_record(keys::enrollment(&clinic, "fixture-due"), &claimed)
        .unwrap()
        .with_gsi1(keys::patient_enrollment(&clinic, "MRN-1002", claimed.created_at, "fixture-due"))
        .with_version(version + 1);
    state.store.write(Write::put(item, Condition::VersionIs(version))).await.unwrap();
    let payload: serde_json::Value =
        serde_json::from_str(&fixture("scheduled-runner/run-connect-action.json")).unwrap();
    assert_eq!(handle_scheduled_payload(state, payload.clone()).await.unwrap()["outcome"], "ran");
    assert_eq!(handle_scheduled_payload(state, payload).await.unwrap()["outcome"], "already_done");
    let sent = clinic_shared::messages::outbox::list_outbox(state.store.as_ref()).await.unwrap();
    assert!(!sent.iter().any(|m| m.to == "+447700900789" && m.channel == "sms"), "not sent again");
    let (after, _) = load_enrollment(state, &clinic, "fixture-due").await.unwrap().unwrap();
    assert_eq!(after.position, Position::Paused { cycle: 0, action: 0, flagged: true });
    assert!(after.in_flight.is_none() && after.next.is_none());
    let outcome = state.store.get(&keys::action_outcome(&clinic, "fixture-due", 0, 0)).await.unwrap().unwrap();
    assert_eq!(outcome.data["result"]["result"], "unknown");
    assert!(state.store.get(&keys::follow_up(&clinic, "fixture-due")).await.unwrap().is_some(), "flagged for staff");
}

#[tokio::test]
async fn the_eventbridge_event_counts_once() {
    let (app, _dir) = app().await;
    let consumer = ActivityConsumer::new(Arc::clone(&app.state.store));
    let event: EventBridgeEvent<clinic_shared::domain::events::DomainEvent> =
        serde_json::from_str(&fixture("event-consumer/catalog-entry-created.json")).unwrap();
    handle_domain_event(&consumer, event.clone()).await.unwrap();
    handle_domain_event(&consumer, event).await.unwrap();
    let clinic = ClinicId::parse("demo").unwrap();
    let day =
        app.state.store.get(&keys::daily_activity(&clinic, "2026-11-22".parse().unwrap())).await.unwrap().unwrap();
    // The seed's four creations happened on the frozen clock's day too.
    assert_eq!(day.data["booking_types_created"].as_i64(), Some(5));
}

/// On the AWS adapters (DynamoDB and SNS on moto): a sent link and the confirmation with its
/// manage link reach SNS and the booking lands in DynamoDB; partner holds win once, confirm,
/// release and lapse; the statistics count both.
#[tokio::test]
async fn on_dynamodb_and_sns_links_are_texted_and_booked_and_partner_holds_lapse() {
    let config = clinic_tests::moto::sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let table = clinic_tests::moto::unique("links");
    clinic_shared::store::dynamodb::create_table(&dynamodb, &table).await.unwrap();
    let clock = clinic_tests::frozen_clock();
    let store = Arc::new(clinic_shared::store::dynamodb::DynamoStore::new(dynamodb, table, clock.clone()));
    let dir = tempfile::tempdir().unwrap();
    let embedded = EmbeddedApp::over(store, dir.path(), clock.clone(), settings()).unwrap();
    clinic_shared::features::attach_event_consumers(&embedded);
    let base = &embedded.state;
    let messages = clinic_shared::messages::aws::AwsMessages::new(
        aws_sdk_sns::Client::new(&config),
        aws_sdk_sesv2::Client::new(&config),
        "bookings@example.com",
        None,
    );
    let state = AppState {
        store: base.store.clone(),
        messages: Arc::new(messages),
        scheduler: base.scheduler.clone(),
        events: base.events.clone(),
        clock: base.clock.clone(),
        files: base.files.clone(),
        letters: base.letters.clone(),
        epost: base.epost.clone(),
        settings: settings(),
    };
    fixtures(&state).await;
    let run = |file: &'static str, function: &'static str| {
        let state = &state;
        async move {
            let response = handle(state, function, lambda_http::request::from_str(&fixture(file)).unwrap()).await;
            let status = response.status().as_u16();
            let body = match response.body() {
                lambda_http::Body::Text(text) => text.clone(),
                _ => String::new(),
            };
            (status, body)
        }
    };
    let (status, sent) = run("booking-links-admin/send-booking-link.json", "booking-links-admin").await;
    assert_eq!(status, 201, "{sent}");
    let sent: serde_json::Value = serde_json::from_str(&sent).unwrap();
    assert_eq!(sent["sms"]["status"], "sent", "{sent}");
    let url = sent["url"].as_str().unwrap();
    // Twenty confirms of the one link at once: exactly one books, the rest see its confirmation.
    let state = Arc::new(state);
    let confirms: Vec<_> = (0..20)
        .map(|_| {
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                let event = fixture("booking-links-public/confirm-booking-link.json");
                handle(&state, "booking-links-public", lambda_http::request::from_str(&event).unwrap())
                    .await
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for confirm in confirms {
        statuses.push(confirm.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses.iter().filter(|status| **status == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|status| *status == 200 || *status == 201), "{statuses:?}");
    let state = &*state;
    let run = |file: &'static str, function: &'static str| async move {
        handle(state, function, lambda_http::request::from_str(&fixture(file)).unwrap()).await.status().as_u16()
    };
    // The scheduler (which moto never fires) delivers each queued message's payload to the runner.
    deliver_queued(state).await;
    let recorded = clinic_tests::moto::recorded().await;
    let texts: Vec<String> =
        recorded["sns"]["SMS"].as_array().cloned().unwrap_or_default().iter().map(|sms| sms.to_string()).collect();
    assert!(
        texts.iter().any(|sms| sms.contains(url) && sms.contains("+447700900789")),
        "link SMS not in moto: {texts:?}"
    );
    assert!(
        texts.iter().any(|sms| sms.contains("http://127.0.0.1/manage/") && sms.contains("is booked")),
        "confirmation SMS not in moto: {texts:?}"
    );
    // Every booking made so far is confirmed once: the link's (of 20 concurrent confirms) and
    // the fixtures' own.
    let confirmations: Vec<&String> =
        texts.iter().filter(|sms| sms.contains("+447700900789") && sms.contains("/manage/")).collect();
    let times: BTreeSet<&str> = confirmations
        .iter()
        .filter_map(|sms| sms.split(", on ").nth(1))
        .filter_map(|rest| rest.split('.').next())
        .collect();
    assert_eq!(confirmations.len(), times.len(), "one confirmation per booking: {texts:#?}");
    assert_eq!(run("booking-links-public/confirm-booking-link.json", "booking-links-public").await, 200);

    // Partner holds on DynamoDB: one winner, confirmation, release, and a lapsed hold's claims
    // count as free (expired items are absent to conditions).
    let partner = |file: &'static str| run(file, "partner-booking-admin");
    assert_eq!(partner("partner-booking-admin/create-partner-hold.json").await, 201);
    assert_eq!(partner("partner-booking-admin/create-partner-hold.json").await, 409);
    assert_eq!(partner("partner-booking-admin/confirm-partner-hold.json").await, 201);
    assert_eq!(partner("partner-booking-admin/confirm-partner-hold.json").await, 410);
    assert_eq!(partner("partner-booking-admin/release-partner-hold.json").await, 204);
    clock.advance(jiff::SignedDuration::from_mins(6));
    assert_eq!(partner("partner-booking-admin/create-partner-hold.json").await, 201, "the lapsed hold freed its slot");
    let response =
        handle(state, "diary-admin", lambda_http::request::from_str(&fixture("diary-admin/statistics.json")).unwrap())
            .await;
    let lambda_http::Body::Text(report) = response.body() else { panic!("a JSON body") };
    let report: serde_json::Value = serde_json::from_str(report).unwrap();
    let partner_row = report["rows"].as_array().unwrap().iter().find(|row| row["partner_id"] == "acme").unwrap();
    assert_eq!(partner_row["booked"], 1, "{report}");
    let link_row = report["rows"].as_array().unwrap().iter().find(|row| row["channel"] == "booking_link").unwrap();
    assert_eq!(link_row["booked"], 1, "{report}");
}

/// Runs every queued appointment message through the runner's Lambda entry point, as the
/// scheduler would at its time (messages not yet due are left for later).
async fn deliver_queued(state: &AppState) {
    use clinic_shared::features::appointment_lifecycle::QueueEntry;
    use clinic_shared::store::{Query, query_all};
    for shard in 0..keys::MESSAGE_QUEUE_SHARDS {
        let query = Query::prefix(keys::message_queue_partition(shard), "");
        for item in query_all(state.store.as_ref(), query).await.unwrap() {
            let entry: QueueEntry = item.record().unwrap();
            let payload = serde_json::json!({
                "job_id": format!("msg-{}", entry.message_id),
                "clinic_id": entry.clinic_id,
                "task": {"type": "send_appointment_message", "appointment_id": entry.appointment_id, "message_id": entry.message_id},
            });
            handle_scheduled_payload(state, payload).await.unwrap();
        }
    }
}

#[tokio::test]
async fn the_sweeper_payload_schedules_again_a_message_whose_schedule_was_lost() {
    use clinic_shared::clock::Clock;
    use clinic_shared::domain::availability::OfferedSlot;
    use clinic_shared::store::records;
    use clinic_shared::store::{Query, query_all};
    let dir = tempfile::tempdir().unwrap();
    let clock = clinic_tests::frozen_clock();
    let app = EmbeddedApp::open(dir.path(), clock.clone(), settings()).unwrap();
    seed_demo_clinic(&app.state).await.unwrap();
    let clinic = ClinicId::parse("demo").unwrap();
    let partition = keys::clinic_partition(&clinic);
    let store = app.state.store.as_ref();
    let booking_type = &records::<BookingType>(store, &partition, keys::BOOKING_TYPE_PREFIX).await.unwrap()[0];
    let provider = &records::<Provider>(store, &partition, keys::PROVIDER_PREFIX).await.unwrap()[0];
    let location = &records::<Location>(store, &partition, keys::LOCATION_PREFIX).await.unwrap()[0];
    let now = clock.now();
    let slot = OfferedSlot {
        starts_at: now + jiff::SignedDuration::from_hours(3),
        provider_id: provider.id.clone(),
        location_id: location.id.clone(),
    };
    let patient = PatientDetails::parse(
        &PatientInput {
            first_name: "Pat".into(),
            last_name: "Example".into(),
            date_of_birth: "1980-05-17".into(),
            mobile: "+447700900181".into(),
            email: String::new(),
        },
        "2026-11-22".parse().unwrap(),
        Region::GB,
        "",
    )
    .unwrap();
    let appointment = Appointment::booked(booking_type.id.clone(), 15, slot, patient, Channel::Staff, now);
    clinic_shared::features::diary::booking::book(&app.state, &clinic, &appointment, "staff", None).await.unwrap();
    // The confirmation's schedule is lost (the scheduler failed after the commit).
    let schedules = query_all(store, Query::prefix(keys::SCHEDULE_PARTITION, "")).await.unwrap();
    assert_eq!(schedules.len(), 1, "the SMS confirmation's schedule (no reminder three hours ahead)");
    for item in &schedules {
        let name = item.key.sk.rsplit('#').next().unwrap().to_owned();
        app.state.scheduler.cancel(&name).await.unwrap();
    }
    clock.advance(jiff::SignedDuration::from_mins(10));
    let payload: serde_json::Value = serde_json::from_str(&fixture("scheduled-runner/sweep-messages.json")).unwrap();
    assert_eq!(handle_scheduled_payload(&app.state, payload).await.unwrap()["outcome"], "ran");
    let runner = clinic_shared::features::runner::AppRunner(app.state.clone());
    assert_eq!(app.scheduler.deliver_due(&runner).await.unwrap(), 1, "the swept message is delivered");
    let outbox = clinic_shared::messages::outbox::list_outbox(store).await.unwrap();
    assert!(outbox.iter().any(|m| m.to == "+447700900181" && m.body.contains("is booked")), "confirmation sent");
}

#[tokio::test]
async fn a_manage_link_sent_before_appointments_had_their_own_tokens_still_opens_its_appointment() {
    let (app, _dir) = app().await;
    let clinic = ClinicId::parse("demo").unwrap();
    let now: Timestamp = clinic_tests::TEST_START.parse().unwrap();
    let rule = app.state.store.get(&keys::broadcast_rule(&clinic, RULE)).await.unwrap().unwrap();
    let rule: BroadcastRule = rule.record().unwrap();
    let stored = clinic_shared::features::diary::booking::load(
        app.state.store.as_ref(),
        &clinic,
        &AppointmentId::generated(APPOINTMENT.into()),
    )
    .await
    .unwrap()
    .unwrap();
    let old = LinkToken::from_random_bytes([0xd4; 32]);
    let reference = PatientReference::parse("r", "MRN-1001").unwrap();
    let mut link = BookingLink::sent(
        BookingLinkId::random(),
        &rule,
        reference,
        stored.appointment.patient.clone(),
        LinkToken::from_random_bytes([0xd5; 32]).hash(),
        "staff",
        now,
    );
    link.mark_booked(stored.appointment.id.clone(), now).unwrap();
    let record = TokenRecord { clinic_id: clinic.clone(), link_id: link.id.clone(), purpose: TokenPurpose::Manage };
    app.state
        .store
        .transact(vec![
            Write::put(link_item(&clinic, &link, 1).unwrap(), Condition::NotExists),
            record_write(&old.hash(), &record).unwrap(),
        ])
        .await
        .unwrap();
    let fixture_token = "b2".repeat(32);
    for file in ["booking-links-public/manage-page.json", "booking-links-public/submit-manage-page.json"] {
        let event = fixture(file).replace(&fixture_token, old.as_str());
        let response =
            handle(&app.state, "booking-links-public", lambda_http::request::from_str(&event).unwrap()).await;
        assert_eq!(response.status().as_u16(), 200, "{file}");
    }
}
