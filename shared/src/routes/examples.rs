//! The document's examples: one request body per operation that takes one, and an example for
//! every path parameter. The ids are the local demo clinic's (it is seeded with them), so an
//! example copied from `/openapi.json` works against `bash scripts/run.sh` as it stands.
//! Reserved test data only: phones in +447700900xxx, emails at example.com.

use serde_json::{Value, json};

/// The demo clinic's code.
pub const CLINIC: &str = "demo";
/// The demo's "GP consultation" (15 minutes).
pub const GP15: &str = "0b000000-0000-4000-8000-000000000001";
/// The demo's "Practice nurse appointment" (20 minutes).
pub const NURSE20: &str = "0b000000-0000-4000-8000-000000000002";
/// The demo's "Blood test" (10 minutes).
pub const BLOODS: &str = "0b000000-0000-4000-8000-000000000003";
/// The demo's "Travel vaccination consultation" (not offered online).
pub const TRAVEL: &str = "0b000000-0000-4000-8000-000000000004";
/// The demo's Riverside Surgery.
pub const RIVERSIDE: &str = "0c000000-0000-4000-8000-000000000001";
/// The demo's Hillview Health Centre.
pub const HILLVIEW: &str = "0c000000-0000-4000-8000-000000000002";
/// The demo's Dr Amara Okafor.
pub const AMARA: &str = "0d000000-0000-4000-8000-000000000001";
/// The demo's Dr Tom Lindqvist.
pub const TOM: &str = "0d000000-0000-4000-8000-000000000002";
/// The demo's Sam Patel (nurse).
pub const SAM: &str = "0d000000-0000-4000-8000-000000000003";
/// The demo's diary templates, in the order the seed creates them.
pub const DIARY_TEMPLATES: [&str; 3] = [
    "0e000000-0000-4000-8000-000000000001",
    "0e000000-0000-4000-8000-000000000002",
    "0e000000-0000-4000-8000-000000000003",
];
/// Any other id in an example: the API gave it when the thing was created.
pub const SOME_ID: &str = "3f2b8c1e-5d4a-4b6c-9e7f-1a2b3c4d5e6f";
/// A patient record's reference.
pub const PATIENT_REFERENCE: &str = "MRN-1001";
/// A partner's code.
pub const PARTNER: &str = "acme-health";

/// The example value of a path parameter, by its name.
pub fn path_parameter(name: &str) -> &'static str {
    match name {
        "clinicId" => CLINIC,
        "bookingTypeId" => GP15,
        "locationId" => RIVERSIDE,
        "providerId" => AMARA,
        "patientReference" => PATIENT_REFERENCE,
        "partnerId" => PARTNER,
        "letterId" => "3f2b8c1e5d4a4b6c9e7f1a2b3c4d5e6f-0-1",
        "token" => "k7Qm2xV9pL4sT8wZ1bN6cR3fH5jD0aGe",
        "templateId" | "programId" | "enrollmentId" => "3f2b8c1e5d4a4b6c9e7f1a2b3c4d5e6f",
        _ => SOME_ID,
    }
}

fn patient() -> Value {
    json!({"first_name": "Ada", "last_name": "Example", "date_of_birth": "1985-12-10", "mobile": "+447700900123", "email": "ada@example.com"})
}

/// `PUT /admin/clinics/{clinicId}`
pub fn clinic_profile() -> Value {
    json!({
        "name": "Riverside Family Practice", "time_zone": "Europe/London", "country": "GB",
        "accent_colour": "#0b5cad", "address": "1 River Road\nLondon SE1 9AA", "phone": "020 7946 0000",
        "opening_hours": "Monday to Friday, 08:00 to 18:30", "language": "en"
    })
}

/// `POST …/booking-types`
pub fn new_booking_type() -> Value {
    json!({"short_name": "FLU", "long_name": "Flu vaccination", "long_name_fr": "Vaccination contre la grippe", "duration_minutes": 10, "enabled_online": true})
}

/// `PATCH …/booking-types/{bookingTypeId}`
pub fn booking_type_change() -> Value {
    json!({"long_name": "GP consultation (15 minutes)", "duration_minutes": 15})
}

/// `POST …/locations` and `PATCH …/locations/{locationId}`
pub fn location() -> Value {
    json!({"full_name": "Eastside Clinic", "primary_address": "4 East Street, London SE1 2AB", "booking_phone": "020 7946 0001", "enabled_online": true})
}

/// `POST …/providers` and `PATCH …/providers/{providerId}`
pub fn provider() -> Value {
    json!({
        "name": "Dr Lena Example", "professional_title": "General practitioner", "enabled_online": true,
        "qualifications": ["MBBS", "MRCGP"], "bio": "Special interest in family health.", "languages": ["en", "fr"]
    })
}

/// `PUT …/online-settings`
pub fn online_settings() -> Value {
    json!({
        "online_booking_enabled": true, "horizon_days": 60, "minimum_notice_minutes": 120, "enable_asap": true,
        "advisory": "If you have chest pain or difficulty breathing, call 999 now.",
        "outcome_message": "Thank you: your appointment is booked."
    })
}

/// `POST …/diary-templates`
pub fn diary_template() -> Value {
    json!({
        "provider_id": SAM, "location_id": HILLVIEW, "weekdays": ["saturday"], "start_time": "09:00",
        "end_time": "12:00", "slot_minutes": 10, "booking_type_ids": [BLOODS], "valid_from": "2027-01-02",
        "publication": {"kind": "rolling", "days_ahead": 14, "at_local": "08:00"}
    })
}

/// `POST …/diary-blocks`
pub fn diary_block() -> Value {
    json!({"provider_id": AMARA, "starts_at": "2027-01-11T12:00", "ends_at": "2027-01-11T13:00", "reason": "Practice meeting"})
}

/// `POST …/appointments`
pub fn staff_booking() -> Value {
    json!({
        "booking_type_id": GP15, "provider_id": AMARA, "location_id": RIVERSIDE,
        "starts_at": "2027-01-11T09:00:00Z", "patient": patient(), "notes": "Booked by phone", "notify": true
    })
}

/// `PATCH …/appointments/{appointmentId}`
pub fn appointment_change() -> Value {
    json!({"starts_at": "2027-01-11T09:30:00Z", "notes": "Moved at the patient's request"})
}

/// `POST …/waitlist`
pub fn waitlist_entry() -> Value {
    json!({"preferences": waitlist_preferences(), "patient": patient(), "lang": "en"})
}

/// `PUT …/waitlist/{entryId}/preferences`
pub fn waitlist_preferences() -> Value {
    json!({
        "booking_type_id": GP15, "provider_id": null, "location_id": RIVERSIDE, "from": "2027-01-04",
        "to": "2027-01-29", "weekdays": ["monday", "tuesday"], "time_of_day": "morning"
    })
}

/// `PUT …/appointment-settings`
pub fn appointment_settings() -> Value {
    json!({
        "reminders_enabled": true, "reminders": [{"channel": "sms", "hours_before": 24}],
        "online_change_cutoff_hours": 24, "online_reschedule": true, "phone": "020 7946 0000",
        "waitlist": {"offer_minutes": 120, "simultaneous_offers": 1}
    })
}

/// `POST /public/clinics/{clinicId}/bookings`
pub fn public_booking() -> Value {
    json!({
        "booking_type_id": GP15, "provider_id": "any", "location_id": "any", "starts_at": "2027-01-11T09:00:00Z",
        "patient": patient(), "advisory_accepted": true
    })
}

/// `POST /public/clinics/{clinicId}/referral-uploads`
pub fn referral_upload() -> Value {
    json!({"content_type": "application/pdf", "size_bytes": 48213})
}

/// `POST /book/{clinicId}` (the details form)
pub fn booking_form() -> Value {
    json!({
        "type": GP15, "provider": "any", "location": "any", "time": "2027-01-11T09:00:00Z", "with": AMARA,
        "at": RIVERSIDE, "first_name": "Ada", "last_name": "Example", "date_of_birth": "1985-12-10",
        "mobile": "07700 900123", "email": "ada@example.com", "lang": "en"
    })
}

/// `POST /book/{clinicId}/waitlist` (the join form)
pub fn waitlist_form() -> Value {
    json!({
        "type": GP15, "provider": "any", "location": "any", "from": "2027-01-04", "to": "2027-01-29",
        "part": "morning", "first_name": "Ada", "last_name": "Example", "date_of_birth": "1985-12-10",
        "mobile": "07700 900123", "email": "ada@example.com", "lang": "en"
    })
}

/// `POST …/broadcast-rules` and `PUT …/broadcast-rules/{ruleId}`
pub fn broadcast_rule() -> Value {
    json!({
        "title": "Annual review", "booking_type_id": GP15, "provider_ids": [AMARA, TOM], "location_ids": [RIVERSIDE],
        "link_lifetime_hours": 72, "allow_reschedule": true,
        "sms_template": "Hi {first_name}, {clinic} invites you to book your annual review: {link}",
        "welcome": {"body": "<p>Please book a time that suits you.</p>", "body_fr": "<p>Choisissez l'heure qui vous convient.</p>"},
        "confirmation": {"phone": "+442079460000", "text": "Bring your medication list."}
    })
}

/// `POST …/booking-links`
pub fn send_link() -> Value {
    json!({"rule_id": SOME_ID, "patient_reference": PATIENT_REFERENCE, "patient": patient()})
}

/// `POST /links/{token}` (confirm the chosen time)
pub fn link_form() -> Value {
    json!({"time": "2027-01-11T09:00:00Z", "lang": "en"})
}

/// `POST /manage/{token}` (verify the birth date first)
pub fn manage_form() -> Value {
    json!({"action": "verify", "date_of_birth": "1985-12-10", "lang": "en"})
}

/// `POST /waitlist/{token}` (take the offered time)
pub fn offer_form() -> Value {
    json!({"action": "accept", "lang": "en"})
}

/// `POST …/partners` and `PUT …/partners/{partnerId}`
pub fn partner() -> Value {
    json!({
        "id": PARTNER, "name": "Acme Health Insurance", "activated_booking_type_ids": [GP15, BLOODS],
        "contact": {"name": "Jo Example", "email": "bookings@example.com", "phone": "+447700900456"}
    })
}

/// `POST …/partner-holds`
pub fn partner_hold() -> Value {
    json!({"partner_id": PARTNER, "booking_type_id": GP15, "provider_id": AMARA, "location_id": RIVERSIDE, "starts_at": "2027-01-11T09:00:00Z"})
}

/// `POST …/partner-holds/{holdId}/confirm`
pub fn confirm_hold() -> Value {
    json!({"patient_reference": PATIENT_REFERENCE, "notes": "Referred by Acme", "notify": true})
}

/// `PUT …/patients/{patientReference}`
pub fn patient_change() -> Value {
    json!({"patient": patient(), "profile": patient_profile()})
}

fn patient_profile() -> Value {
    json!({"postal_address": "1 Example Street\nLondon", "postcode": "SW1A 1AA", "sex": "female", "registered_provider_id": AMARA, "flags": ["diabetic-review"]})
}

/// `POST …/patients`
pub fn new_patient() -> Value {
    json!({"reference": PATIENT_REFERENCE, "patient": patient(), "profile": patient_profile()})
}

/// `POST …/online-services` and `PUT …/online-services/{serviceId}`
pub fn online_service() -> Value {
    json!({
        "name": "Diabetes review", "description": "For registered patients with diabetes.",
        "booking_type_ids": [NURSE20], "include_provider_ids": [SAM], "exclude_provider_ids": [],
        "rules": [{"kind": "existing_patients_only"}, {"kind": "flag", "name": "diabetic-review"}, {"kind": "age_range", "min_years": 18}]
    })
}

/// `POST …/appointments/{appointmentId}/attach-patient`
pub fn attach_patient() -> Value {
    json!({"patient_reference": PATIENT_REFERENCE})
}

fn visitor() -> Value {
    json!({"patient": patient(), "sex": "female", "postcode": "SW1A 1AA"})
}

/// `POST /public/clinics/{clinicId}/portal/services`
pub fn portal_visitor() -> Value {
    visitor()
}

/// `POST /public/clinics/{clinicId}/portal/availability` and `…/portal/bookings`
pub fn portal_request() -> Value {
    json!({"service_id": SOME_ID, "booking_type_id": NURSE20, "starts_at": "2027-01-11T09:00:00Z", "visitor": visitor()})
}

/// `POST /portal/{clinicId}` (identify)
pub fn portal_form() -> Value {
    json!({
        "action": "identify", "first_name": "Ada", "last_name": "Example", "date_of_birth": "1985-12-10",
        "mobile": "07700 900123", "email": "ada@example.com", "lang": "en"
    })
}

/// `POST …/connect-templates` and `PUT …/connect-templates/{templateId}`
pub fn connect_template() -> Value {
    json!({"kind": "sms", "name": "Recall SMS", "body": "Hi {patient.first_name}, your {program.name} at {clinic.name} is due on {booking.date}."})
}

/// `POST …/connect-programs` and `PUT …/connect-programs/{programId}`
pub fn connect_program() -> Value {
    json!({
        "program_type": "general", "name": "Flu season", "cycles": 1, "enabled": false,
        "actions": [{"kind": {"kind": "pause"}, "timing": {"direction": "after", "offset": {"amount": 0, "unit": "days"}, "time_of_day": "09:00"}, "pause_on_error": false}],
        "completing_bookings": {"kind": "selected", "booking_type_ids": [GP15]}, "entry_booking_type_ids": []
    })
}

/// `POST …/connect-enrollments`
pub fn enrollment() -> Value {
    json!({"program_id": "3f2b8c1e5d4a4b6c9e7f1a2b3c4d5e6f", "patient_reference": PATIENT_REFERENCE, "reference_date": "2027-02-01"})
}

/// `POST …/patients/{patientReference}/referrals`
pub fn referral() -> Value {
    json!({"received_on": "2026-12-01", "source": "Example GP Practice"})
}
