//! The single-table design: every key this product reads or writes is built here, and every
//! access goes through one of the patterns below.
//!
//! | access pattern | op | pk | sk | gsi1pk / gsi1sk | condition |
//! |---|---|---|---|---|---|
//! | clinic profile by id | Get, Put | `CLINIC#{clinic}` | `PROFILE` | | create: not exists; update: version |
//! | online settings | Get, Put | `CLINIC#{clinic}` | `SETTINGS` | | version |
//! | catalogue entry (booking type, location, provider) | Get, Put | `CLINIC#{clinic}` | `{KIND}#{id}` | | create: not exists; update: version |
//! | a clinic's entries of one kind | Query prefix | `CLINIC#{clinic}` | `{KIND}#` | | |
//! | diary template, block | Put, Delete, Query prefix | `CLINIC#{clinic}` | `TEMPLATE#{id}`, `BLOCK#{id}` | | create: not exists |
//! | appointment | Get, Put | `APPOINTMENT#{clinic}#{id}` | `APPOINTMENT` | `DIARY#{clinic}#{provider}` / `{start}#{id}` | create: not exists; change: version |
//! | a provider's diary for a range | Query on gsi1 between | | | `DIARY#{clinic}#{provider}` | |
//! | claimed five-minute unit | Put, Delete, Query between | `CLAIM#{clinic}#{provider}` | `{unit start}` | | claim: not exists, same transaction as the appointment |
//! | idempotency record | Put, Get | `IDEMPOTENCY#{clinic}#{key}` | `BOOKING` | | not exists; expires after 24 h |
//! | rate-limit bucket | Get, Put | `RATE#{scope}#{client}` | `BUCKET` | | create: not exists; refill: version; expires after 1 h |
//! | booking type by id | Get, Put | `CLINIC#{clinic}` | `BOOKING_TYPE#{id}` | | create: not exists; update: version |
//! | a clinic's booking types | Query prefix | `CLINIC#{clinic}` | `BOOKING_TYPE#` | | |
//! | published entry, template, block | Put, Delete | `PUBLIC#{clinic}` | `{KIND}#{id}` | | same transaction as the change, only while the clinic is online |
//! | public clinic profile | Put | `PUBLIC#{clinic}` | `CLINIC` | | same transaction as the profile |
//! | clinic logo (PNG or JPEG, at most 200 KiB) | Get, Put | `CLINIC#{clinic}` | `LOGO` | | same transaction as the profile's `logo_path` |
//! | public catalogue | Query | `PUBLIC#{clinic}` | (all) | | one query serves the whole public page |
//! | audit record | Put | `AUDIT#{clinic}` | `{at}#{id}` | `HISTORY#{clinic}#{entity}` / `{at}#{id}` | not exists; same transaction as the change |
//! | an entity's history | Query on gsi1 | | | `HISTORY#{clinic}#{entity}` | |
//! | scheduled job | Get, Put | `CLINIC#{clinic}` | `JOB#{job}` | | runner: version (pending -> done once) |
//! | processed event marker | Put | `EVENT#{event}` | `EVENT` | | not exists; expires after 7 days |
//! | daily activity counters | Add, Query range | `ACTIVITY#{clinic}` | `{YYYY-MM-DD}` | | same transaction as the event marker |
//! | broadcast rule | Get, Put | `CLINIC#{clinic}` | `BROADCAST_RULE#{id}` | | create: not exists; replace: version |
//! | a clinic's broadcast rules | Query prefix | `CLINIC#{clinic}` | `BROADCAST_RULE#` | | |
//! | booking link | Get, Put | `BOOKING_LINK#{clinic}#{id}` | `LINK` | `PATIENT_LINKS#{clinic}#{patient ref}` / `{sent at}#{id}` | create: not exists; every change: version |
//! | a patient's links, newest first | Query on gsi1 | | | `PATIENT_LINKS#{clinic}#{patient ref}` | |
//! | link token (hash only, never the token) | Get, Put | `LINK_TOKEN#{sha256}` | `TOKEN` | | not exists; same transaction as the link (booking) or the booking (manage) |
//! | manage-page grant after verification (hash only) | Get, Put | `LINK_GRANT#{sha256}` | `GRANT` | | not exists; expires after 15 minutes |
//! | portal visit after identification (hash only) | Get, Put, Delete | `PORTAL_VISIT#{sha256}` | `VISIT` | | not exists; expires after 30 minutes |
//! | provider's staff inbox | Put, Query | `INBOX#{clinic}#{provider}` | `{at}#{id}` | | same transaction as the reschedule |
//! | booking statistics | Add, Query between days | `STATS#{clinic}` | `{day}#{channel}#{partner}#{booking type}#{provider}` | | same transaction as the booking, cancellation or no-show |
//! | partner | Get, Put, Query prefix | `CLINIC#{clinic}` | `PARTNER#{code}` | | create: not exists; replace: version |
//! | partner hold | Get, Put, Delete | `HOLD#{clinic}#{id}` | `HOLD` | | not exists; lapses after 5 minutes with its claims; confirm: exists |
//! | patient record | Get, Put, Query prefix | `CLINIC#{clinic}` | `PATIENT#{reference}` | | create: not exists |
//! | patients by folded name and birth date (identification, duplicates) | Put, Query | `PATIENT_NAME#{clinic}#{sha256(folded first, last, birth date)}` | `{reference}` | | same transaction as the record |
//! | patients by the beginning of a name word (staff search) | Put, Delete, Query | `PATIENT_TERM#{clinic}#{sha256(term)}` | `{reference}` | | same transaction as the record |
//! | online service | Put, Query prefix | `CLINIC#{clinic}` | `ONLINE_SERVICE#{id}` | | create: not exists |
//! | Patient Connect template, program | Get, Put, Query prefix | `CLINIC#{clinic}` | `CONNECT_TEMPLATE#{id}`, `CONNECT_PROGRAM#{id}` | | create: not exists; replace: version |
//! | enrollment | Get, Put | `ENROLLMENT#{clinic}#{id}` | `ENROLLMENT` | `PATIENT_ENROLLMENTS#{clinic}#{patient ref}` / `{created}#{id}` | create: not exists; every move: version |
//! | an enrollment's action outcomes and SMS replies | Put, Query | `ENROLLMENT#{clinic}#{id}` | `OUTCOME#{cycle}#{action}`, `REPLY#{at}#{id}` | | outcome: not exists, same transaction as the move |
//! | a program's enrollments | Put, Query | `PROGRAM_ENROLLMENTS#{clinic}#{program}` | `{created}#{id}` | | same transaction as the enrollment |
//! | patients flagged for follow-up | Put, Delete, Query | `FOLLOW_UP#{clinic}` | `{enrollment}` | | same transaction as the pause / the advance |
//! | letter (distribution list) | Get, Put, Query | `LETTERS#{clinic}` | `{letter id}` | | same transaction as the outcome; posted: version |
//! | letters waiting to be posted, oldest first | Query on gsi1 | | | `LETTERS_TO_POST#{clinic}` / `{created}#{id}` | dropped when posted, in the same write |
//! | SMS reply route (hash of the mobile) | Put, Get | `SMS_REPLY_ROUTE#{sha256}` | `ROUTE` | | same transaction as the outcome of an SMS that saves replies |
//! | a patient's referrals | Put, Query | `PATIENT_REFERRALS#{clinic}#{patient ref}` | `{id}` | | not exists |
//! | ePost queue | Put, Query | `EPOST_QUEUE` | `{letter id}` | | not exists |
//! | appointment settings (reminders, online changes) | Get, Put | `CLINIC#{clinic}` | `LIFECYCLE_SETTINGS` | | version |
//! | message about an appointment | Put, Get, Query prefix | `APPOINTMENT#{clinic}#{id}` | `MESSAGE#{message id (UUIDv7, time-ordered)}` | | queued: not exists, same transaction as its cause; claim, outcome: version |
//! | manage-link state of an appointment (wrong answers) | Get, Put | `APPOINTMENT#{clinic}#{id}` | `ACCESS` | | version |
//! | manage token (hash only, never the token) | Get, Put | `MANAGE_TOKEN#{sha256}` | `TOKEN` | | not exists; same transaction as the claim of the message that carries it |
//! | queued message awaiting its runner (sweeper) | Put, Delete, Query range | `MESSAGE_QUEUE#{shard 0-15}` | `{due}#{message id}` | | same transaction as the message's queueing and its claim |
//! | messages flagged for staff | Put, Query | `MESSAGE_FLAGS#{clinic}` | `{at}#{message id}` | | same transaction as the failure |
//! | a patient's live claim on a five-minute unit | Put, Delete | `PATIENT_CLAIM#{clinic}#{patient ref}` | `{unit start}` | | not exists; same transaction as the appointment |
//! | a patient's appointments | Put, Query | `PATIENT_APPOINTMENTS#{clinic}#{patient ref}` | `{appointment id}` | | same transaction as the booking or the attachment |
//! | outbox message (embedded) | Put, Query | `OUTBOX` | `{at}#{id}` | | |
//! | due schedule (embedded) | Put, Query range, Delete | `SCHEDULE` | `{due}#{name}` | | |
//! | schedule by name (embedded) | Put, Get, Delete | `SCHEDULE_NAME#{name}` | `NAME` | | create: not exists |
//!
//! Timestamps inside sort keys are RFC 3339 UTC with fixed-width fractional seconds, so text
//! order is time order.

use jiff::Timestamp;

use super::Key;
use crate::domain::booking_type::BookingTypeId;
use crate::domain::clinic::ClinicId;

/// Formats a timestamp so that sorting the text sorts by time.
pub fn sortable_time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The clinic's profile.
pub fn clinic_profile(clinic: &ClinicId) -> Key {
    Key::new(format!("CLINIC#{clinic}"), "PROFILE")
}

/// The partition holding the references of a clinic's patients one of whose name words begins
/// with a search term (hashed, so no name is readable in a key or a log line; a short prefix's
/// hash can be guessed by anyone with the table, who could read the records anyway).
pub fn patients_by_term(clinic: &ClinicId, term_hash: &str) -> String {
    format!("PATIENT_TERM#{clinic}#{term_hash}")
}

/// The partition holding the references of a clinic's patients who share a folded name and a
/// birth date (hashed: no patient data in a key).
pub fn patients_by_name(clinic: &ClinicId, name_and_birth_hash: &str) -> String {
    format!("PATIENT_NAME#{clinic}#{name_and_birth_hash}")
}

/// The clinic's uploaded logo.
pub fn clinic_logo(clinic: &ClinicId) -> Key {
    Key::new(format!("CLINIC#{clinic}"), "LOGO")
}

/// One booking type.
pub fn booking_type(clinic: &ClinicId, id: &BookingTypeId) -> Key {
    Key::new(format!("CLINIC#{clinic}"), format!("{BOOKING_TYPE_PREFIX}{}", id.as_str()))
}

/// Sort-key prefix of booking types, in the clinic's partition and in its public partition.
pub const BOOKING_TYPE_PREFIX: &str = "BOOKING_TYPE#";

/// The clinic's private partition.
pub fn clinic_partition(clinic: &ClinicId) -> String {
    format!("CLINIC#{clinic}")
}

/// The clinic's public partition: only what patients may see.
pub fn public_partition(clinic: &ClinicId) -> String {
    format!("PUBLIC#{clinic}")
}

/// Sort key of the clinic's public profile in its public partition.
pub const PUBLIC_CLINIC_SK: &str = "CLINIC";

/// The clinic's public profile.
pub fn public_clinic(clinic: &ClinicId) -> Key {
    Key::new(public_partition(clinic), PUBLIC_CLINIC_SK)
}

/// One audit record.
pub fn audit(clinic: &ClinicId, at: Timestamp, id: &str) -> Key {
    Key::new(format!("AUDIT#{clinic}"), format!("{}#{id}", sortable_time(at)))
}

/// The index key that lists one entity's history in time order.
pub fn entity_history(clinic: &ClinicId, entity: &str, at: Timestamp, id: &str) -> Key {
    Key::new(entity_history_partition(clinic, entity), format!("{}#{id}", sortable_time(at)))
}

/// The index partition of one entity's history.
pub fn entity_history_partition(clinic: &ClinicId, entity: &str) -> String {
    format!("HISTORY#{clinic}#{entity}")
}

/// One scheduled job's record.
pub fn job(clinic: &ClinicId, job_id: &str) -> Key {
    Key::new(format!("CLINIC#{clinic}"), format!("JOB#{job_id}"))
}

/// The marker that an event was processed.
pub fn processed_event(event_id: &str) -> Key {
    Key::new(format!("EVENT#{event_id}"), "EVENT")
}

/// A clinic's counters for one day.
pub fn daily_activity(clinic: &ClinicId, day: jiff::civil::Date) -> Key {
    Key::new(activity_partition(clinic), day.to_string())
}

/// The partition of a clinic's daily counters.
pub fn activity_partition(clinic: &ClinicId) -> String {
    format!("ACTIVITY#{clinic}")
}

/// Partition of the embedded outbox.
pub const OUTBOX_PARTITION: &str = "OUTBOX";

/// One outbox message.
pub fn outbox_message(at: Timestamp, id: &str) -> Key {
    Key::new(OUTBOX_PARTITION, format!("{}#{id}", sortable_time(at)))
}

/// Partition of the embedded scheduler's due list.
pub const SCHEDULE_PARTITION: &str = "SCHEDULE";

/// A due schedule in the embedded scheduler.
pub fn due_schedule(due: Timestamp, name: &str) -> Key {
    Key::new(SCHEDULE_PARTITION, format!("{}#{name}", sortable_time(due)))
}

/// The embedded scheduler's record of a schedule by name.
pub fn schedule_name(name: &str) -> Key {
    Key::new(format!("SCHEDULE_NAME#{name}"), "NAME")
}

/// The clinic's online settings.
pub fn online_settings(clinic: &ClinicId) -> Key {
    Key::new(clinic_partition(clinic), "SETTINGS")
}

/// A catalogue entry (`kind_prefix` such as `LOCATION#`) in the clinic's partition.
pub fn entry(clinic: &ClinicId, kind_prefix: &str, id: &str) -> Key {
    Key::new(clinic_partition(clinic), format!("{kind_prefix}{id}"))
}

/// The published copy of a catalogue entry, template or block.
pub fn published_entry(clinic: &ClinicId, kind_prefix: &str, id: &str) -> Key {
    Key::new(public_partition(clinic), format!("{kind_prefix}{id}"))
}

/// Sort-key prefix of locations.
pub const LOCATION_PREFIX: &str = "LOCATION#";
/// Sort-key prefix of providers.
pub const PROVIDER_PREFIX: &str = "PROVIDER#";
/// Sort-key prefix of diary templates.
pub const TEMPLATE_PREFIX: &str = "TEMPLATE#";
/// Sort-key prefix of diary blocks.
pub const BLOCK_PREFIX: &str = "BLOCK#";

/// One appointment (each in its own partition, so a busy clinic's writes spread out).
pub fn appointment(clinic: &ClinicId, id: &str) -> Key {
    Key::new(format!("APPOINTMENT#{clinic}#{id}"), "APPOINTMENT")
}

/// The index partition of a provider's diary.
pub fn diary_partition(clinic: &ClinicId, provider: &str) -> String {
    format!("DIARY#{clinic}#{provider}")
}

/// An appointment's place in its provider's diary.
pub fn diary_entry(clinic: &ClinicId, provider: &str, starts_at: Timestamp, id: &str) -> Key {
    Key::new(diary_partition(clinic, provider), format!("{}#{id}", sortable_time(starts_at)))
}

/// The partition of a provider's claimed units.
pub fn claim_partition(clinic: &ClinicId, provider: &str) -> String {
    format!("CLAIM#{clinic}#{provider}")
}

/// One claimed five-minute unit.
pub fn claim(clinic: &ClinicId, provider: &str, unit: i64) -> Key {
    Key::new(claim_partition(clinic, provider), sortable_time(crate::domain::diary::unit_start(unit)))
}

/// A booking's idempotency record.
pub fn idempotency(clinic: &ClinicId, key: &str) -> Key {
    Key::new(format!("IDEMPOTENCY#{clinic}#{key}"), "BOOKING")
}

/// A client's rate-limit bucket.
pub fn rate_bucket(scope: &str, client: &str) -> Key {
    Key::new(format!("RATE#{scope}#{client}"), "BUCKET")
}

/// Sort-key prefix of broadcast rules.
pub const BROADCAST_RULE_PREFIX: &str = "BROADCAST_RULE#";

/// One broadcast rule.
pub fn broadcast_rule(clinic: &ClinicId, id: &str) -> Key {
    Key::new(clinic_partition(clinic), format!("{BROADCAST_RULE_PREFIX}{id}"))
}

/// One booking link (each in its own partition).
pub fn booking_link(clinic: &ClinicId, id: &str) -> Key {
    Key::new(format!("BOOKING_LINK#{clinic}#{id}"), "LINK")
}

/// The index partition of a patient's links.
pub fn patient_links_partition(clinic: &ClinicId, patient_reference: &str) -> String {
    format!("PATIENT_LINKS#{clinic}#{patient_reference}")
}

/// A link's place among its patient's links.
pub fn patient_link(clinic: &ClinicId, patient_reference: &str, sent_at: Timestamp, id: &str) -> Key {
    Key::new(patient_links_partition(clinic, patient_reference), format!("{}#{id}", sortable_time(sent_at)))
}

/// A link token's record, found by the token's hash.
pub fn link_token(token_hash: &str) -> Key {
    Key::new(format!("LINK_TOKEN#{token_hash}"), "TOKEN")
}

/// A portal visit, found by the hash of the token in the visitor's cookie.
pub fn portal_visit(token_hash: &str) -> Key {
    Key::new(format!("PORTAL_VISIT#{token_hash}"), "VISIT")
}

/// A manage-page grant, found by the grant's hash.
pub fn manage_grant(grant_hash: &str) -> Key {
    Key::new(format!("LINK_GRANT#{grant_hash}"), "GRANT")
}

/// The partition of a provider's staff inbox.
pub fn inbox_partition(clinic: &ClinicId, provider: &str) -> String {
    format!("INBOX#{clinic}#{provider}")
}

/// One message in a provider's staff inbox.
pub fn inbox_message(clinic: &ClinicId, provider: &str, at: Timestamp, id: &str) -> Key {
    Key::new(inbox_partition(clinic, provider), format!("{}#{id}", sortable_time(at)))
}

/// The partition of a clinic's statistics.
pub fn statistics_partition(clinic: &ClinicId) -> String {
    format!("STATS#{clinic}")
}

/// One statistics counter item.
pub fn statistics(clinic: &ClinicId, sort_key: &str) -> Key {
    Key::new(statistics_partition(clinic), sort_key)
}

/// Sort-key prefix of partners.
pub const PARTNER_PREFIX: &str = "PARTNER#";

/// One partner of a clinic.
pub fn partner(clinic: &ClinicId, code: &str) -> Key {
    Key::new(clinic_partition(clinic), format!("{PARTNER_PREFIX}{code}"))
}

/// One partner hold.
pub fn hold(clinic: &ClinicId, id: &str) -> Key {
    Key::new(format!("HOLD#{clinic}#{id}"), "HOLD")
}

/// Sort-key prefix of patient records.
pub const PATIENT_PREFIX: &str = "PATIENT#";

/// One patient record.
pub fn patient(clinic: &ClinicId, reference: &str) -> Key {
    Key::new(clinic_partition(clinic), format!("{PATIENT_PREFIX}{reference}"))
}

/// Sort-key prefix of online services.
pub const ONLINE_SERVICE_PREFIX: &str = "ONLINE_SERVICE#";

/// One online service.
pub fn online_service(clinic: &ClinicId, id: &str) -> Key {
    Key::new(clinic_partition(clinic), format!("{ONLINE_SERVICE_PREFIX}{id}"))
}

/// Sort-key prefix of Patient Connect templates.
pub const CONNECT_TEMPLATE_PREFIX: &str = "CONNECT_TEMPLATE#";
/// Sort-key prefix of Patient Connect programs.
pub const CONNECT_PROGRAM_PREFIX: &str = "CONNECT_PROGRAM#";

/// One Patient Connect template.
pub fn connect_template(clinic: &ClinicId, id: &str) -> Key {
    Key::new(clinic_partition(clinic), format!("{CONNECT_TEMPLATE_PREFIX}{id}"))
}

/// One Patient Connect program.
pub fn connect_program(clinic: &ClinicId, id: &str) -> Key {
    Key::new(clinic_partition(clinic), format!("{CONNECT_PROGRAM_PREFIX}{id}"))
}

/// The partition of one enrollment: the enrollment, its outcomes and its replies.
pub fn enrollment_partition(clinic: &ClinicId, id: &str) -> String {
    format!("ENROLLMENT#{clinic}#{id}")
}

/// One enrollment.
pub fn enrollment(clinic: &ClinicId, id: &str) -> Key {
    Key::new(enrollment_partition(clinic, id), "ENROLLMENT")
}

/// Sort-key prefix of an enrollment's outcomes.
pub const OUTCOME_PREFIX: &str = "OUTCOME#";
/// Sort-key prefix of an enrollment's SMS replies.
pub const REPLY_PREFIX: &str = "REPLY#";

/// The outcome of one action of one cycle.
pub fn action_outcome(clinic: &ClinicId, enrollment_id: &str, cycle: u16, action: u16) -> Key {
    Key::new(enrollment_partition(clinic, enrollment_id), format!("{OUTCOME_PREFIX}{cycle:04}#{action:03}"))
}

/// One SMS reply kept against an enrollment.
pub fn sms_reply(clinic: &ClinicId, enrollment_id: &str, at: Timestamp, id: &str) -> Key {
    Key::new(enrollment_partition(clinic, enrollment_id), format!("{REPLY_PREFIX}{}#{id}", sortable_time(at)))
}

/// The index partition of a patient's enrollments (by record reference, or `appointment:{id}`
/// for a booking's enrollment without a record).
pub fn patient_enrollments_partition(clinic: &ClinicId, patient: &str) -> String {
    format!("PATIENT_ENROLLMENTS#{clinic}#{patient}")
}

/// An enrollment's place among its patient's.
pub fn patient_enrollment(clinic: &ClinicId, patient: &str, created: Timestamp, id: &str) -> Key {
    Key::new(patient_enrollments_partition(clinic, patient), format!("{}#{id}", sortable_time(created)))
}

/// The partition of a program's enrollments.
pub fn program_enrollments_partition(clinic: &ClinicId, program: &str) -> String {
    format!("PROGRAM_ENROLLMENTS#{clinic}#{program}")
}

/// An enrollment's place among its program's.
pub fn program_enrollment(clinic: &ClinicId, program: &str, created: Timestamp, id: &str) -> Key {
    Key::new(program_enrollments_partition(clinic, program), format!("{}#{id}", sortable_time(created)))
}

/// The partition of a clinic's follow-up list.
pub fn follow_up_partition(clinic: &ClinicId) -> String {
    format!("FOLLOW_UP#{clinic}")
}

/// One enrollment on the follow-up list.
pub fn follow_up(clinic: &ClinicId, enrollment_id: &str) -> Key {
    Key::new(follow_up_partition(clinic), enrollment_id)
}

/// The partition of a clinic's letters.
pub fn letters_partition(clinic: &ClinicId) -> String {
    format!("LETTERS#{clinic}")
}

/// One letter.
pub fn letter(clinic: &ClinicId, id: &str) -> Key {
    Key::new(letters_partition(clinic), id)
}

/// A letter's place on the distribution list while it waits to be posted (its `gsi1`; posting
/// it drops the index key in the same write): oldest first.
pub fn letter_to_post(clinic: &ClinicId, created_at: Timestamp, id: &str) -> Key {
    Key::new(letters_to_post(clinic), format!("{}#{id}", sortable_time(created_at)))
}

/// The index partition of a clinic's letters waiting to be posted.
pub fn letters_to_post(clinic: &ClinicId) -> String {
    format!("LETTERS_TO_POST#{clinic}")
}

/// A referral recorded for a patient (it enters the clinic's Referral programs).
pub fn patient_referral(clinic: &ClinicId, patient: &str, id: &str) -> Key {
    Key::new(format!("PATIENT_REFERRALS#{clinic}#{patient}"), id)
}

/// Where replies from a mobile go, found by the number's hash.
pub fn sms_reply_route(phone_hash: &str) -> Key {
    Key::new(format!("SMS_REPLY_ROUTE#{phone_hash}"), "ROUTE")
}

/// A clinic's appointment settings (reminders, online changes).
pub fn lifecycle_settings(clinic: &ClinicId) -> Key {
    Key::new(clinic_partition(clinic), "LIFECYCLE_SETTINGS")
}

/// Sort-key prefix of an appointment's messages, in the appointment's partition.
pub const MESSAGE_PREFIX: &str = "MESSAGE#";

/// The partition of one appointment (its item, messages and manage state).
pub fn appointment_partition(clinic: &ClinicId, id: &str) -> String {
    format!("APPOINTMENT#{clinic}#{id}")
}

/// One message about an appointment.
pub fn appointment_message(clinic: &ClinicId, appointment: &str, message: &str) -> Key {
    Key::new(appointment_partition(clinic, appointment), format!("{MESSAGE_PREFIX}{message}"))
}

/// The manage-link state of an appointment.
pub fn manage_access(clinic: &ClinicId, appointment: &str) -> Key {
    Key::new(appointment_partition(clinic, appointment), "ACCESS")
}

/// A manage token's record, by the token's hash.
pub fn manage_token(token_hash: &str) -> Key {
    Key::new(format!("MANAGE_TOKEN#{token_hash}"), "TOKEN")
}

/// Shards of the queue of messages awaiting their runner.
pub const MESSAGE_QUEUE_SHARDS: u32 = 16;

/// The partition of one shard of the message queue.
pub fn message_queue_partition(shard: u32) -> String {
    format!("MESSAGE_QUEUE#{shard}")
}

/// A queued message's place in the queue, in the shard its id falls in.
pub fn message_queue(due: Timestamp, message: &str) -> Key {
    let shard = message.bytes().fold(0u32, |sum, byte| sum.wrapping_mul(31).wrapping_add(u32::from(byte)))
        % MESSAGE_QUEUE_SHARDS;
    Key::new(message_queue_partition(shard), format!("{}#{message}", sortable_time(due)))
}

/// The partition of a clinic's messages flagged for staff.
pub fn message_flags_partition(clinic: &ClinicId) -> String {
    format!("MESSAGE_FLAGS#{clinic}")
}

/// A message flagged for staff.
pub fn message_flag(clinic: &ClinicId, at: Timestamp, message: &str) -> Key {
    Key::new(message_flags_partition(clinic), format!("{}#{message}", sortable_time(at)))
}

/// A patient's claim on one five-minute unit: a patient is never booked twice at once.
pub fn patient_claim(clinic: &ClinicId, patient: &str, unit: i64) -> Key {
    Key::new(format!("PATIENT_CLAIM#{clinic}#{patient}"), sortable_time(crate::domain::diary::unit_start(unit)))
}

/// The partition listing a patient's appointments.
pub fn patient_appointments_partition(clinic: &ClinicId, patient: &str) -> String {
    format!("PATIENT_APPOINTMENTS#{clinic}#{patient}")
}

/// One entry of a patient's appointments.
pub fn patient_appointment(clinic: &ClinicId, patient: &str, appointment: &str) -> Key {
    Key::new(patient_appointments_partition(clinic, patient), appointment.to_owned())
}

/// A clinic's waitlist: its entries and the offers made to them.
pub fn waitlist_partition(clinic: &ClinicId) -> String {
    format!("WAITLIST#{clinic}")
}

/// Sort-key prefix of waitlist entries.
pub const WAITLIST_ENTRY_PREFIX: &str = "ENTRY#";

/// Sort-key prefix of waitlist offers.
pub const WAITLIST_OFFER_PREFIX: &str = "OFFER#";

/// One waitlist entry.
pub fn waitlist_entry(clinic: &ClinicId, id: &str) -> Key {
    Key::new(waitlist_partition(clinic), format!("{WAITLIST_ENTRY_PREFIX}{id}"))
}

/// One waitlist offer.
pub fn waitlist_offer(clinic: &ClinicId, id: &str) -> Key {
    Key::new(waitlist_partition(clinic), format!("{WAITLIST_OFFER_PREFIX}{id}"))
}

/// A waitlist offer's link, found by the hash of its token (never the token).
pub fn waitlist_token(token_hash: &str) -> Key {
    Key::new(format!("WAITLIST_TOKEN#{token_hash}"), "TOKEN")
}

/// The partition listing clinics that have a waitlist (the sweeper scans them).
pub const WAITLIST_CLINICS: &str = "WAITLIST_CLINICS";

/// A clinic's place in that list.
pub fn waitlist_clinic(clinic: &ClinicId) -> Key {
    Key::new(WAITLIST_CLINICS, clinic.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn sortable_times_sort_like_the_instants(a in 0i64..4_102_444_800_000_000, b in 0i64..4_102_444_800_000_000) {
            let (ta, tb) = (Timestamp::from_microsecond(a).unwrap(), Timestamp::from_microsecond(b).unwrap());
            prop_assert_eq!(sortable_time(ta).cmp(&sortable_time(tb)), ta.cmp(&tb));
        }
    }
}
