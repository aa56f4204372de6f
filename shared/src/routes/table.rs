//! Every route, one row each: method, path, function, access, operation id, handler, and what
//! it takes and answers.

use super::{Access, Content, Route, Serve, examples, form, json, page, route, versioned};
use crate::domain::appointment_message::LifecycleSettingsInput;
use crate::domain::booking_link::BroadcastRuleInput;
use crate::domain::booking_type::{BookingType, NewBookingTypeInput};
use crate::domain::clinic::ClinicProfileInput;
use crate::domain::diary::{BlockInput, DiaryBlock, DiaryTemplate, TemplateInput};
use crate::domain::location::{Location, LocationInput};
use crate::domain::online_service::{OnlineService, OnlineServiceInput};
use crate::domain::online_settings::OnlineSettingsInput;
use crate::domain::partner::{PartnerHold, PartnerInput};
use crate::domain::provider::{Provider, ProviderInput};
use crate::domain::referral::ReferralUploadInput;
use crate::features::activity::ActivityReport;
use crate::features::appointment_lifecycle::admin::{LifecycleSettingsView, MessageList, PatientAppointments};
use crate::features::booking_links::admin::{
    BroadcastRuleList, BroadcastRuleView, InboxList, LinkHistory, LinkSent, LinkView, SendLinkInput,
};
use crate::features::catalog::admin::{self, HistoryPage, ScheduledChange, UpdateBookingTypeInput};
use crate::features::catalog::public::PublicCatalog;
use crate::features::catalog::settings::OnlineSettingsView;
use crate::features::clinics::ClinicView;
use crate::features::diary::appointments::{
    AppointmentChange, AppointmentView, AttachPatientInput, DiaryDay, StaffBookingInput,
};
use crate::features::diary::schedule::{BlockList, TemplateList};
use crate::features::online_services::admin::OnlineServiceList;
use crate::features::online_services::portal::{PortalBooked, PortalRequest, PortalServices, Visitor};
use crate::features::partners::admin::{PartnerList, PartnerView};
use crate::features::partners::booking::{ConfirmHoldInput, HoldInput, PartnerOffer, PartnerSlots};
use crate::features::patients::{NewPatientInput, PatientChangeInput, PatientList, PatientRecordView, PatientView};
use crate::features::self_booking::api::{AvailabilityView, BookingConfirmation, BookingInput, ReferralUploadView};
use crate::features::statistics::StatisticsReport;
use crate::features::{
    activity, appointment_lifecycle, booking_links, catalog, clinic_logo, clinics, diary, meta, online_services,
    partners, patient_connect, patients, self_booking, statistics, waitlist,
};

/// A feature's handler as a row's `Serve`.
macro_rules! handler {
    ($handler:expr) => {
        Serve::Handler(|state, request| Box::pin($handler(state, request)))
    };
}

const CATALOG_ADMIN: &str = "catalog-admin";
const DIARY_ADMIN: &str = "diary-admin";
const BOOKING_PUBLIC: &str = "booking-public";
const LINKS_ADMIN: &str = "booking-links-admin";
const LINKS_PUBLIC: &str = "booking-links-public";
const PARTNER_ADMIN: &str = "partner-booking-admin";
const CONNECT_ADMIN: &str = "patient-connect-admin";

const PAGING: &[(&str, &str)] =
    &[("limit", "Page size, 1 to 100 (default 50)"), ("cursor", "`next_cursor` of the previous page")];

/// A catalogue list: paged, current entries unless `archived=true`.
const CATALOG_LIST: &[(&str, &str)] = &[
    ("limit", "Page size, 1 to 100 (default 50)"),
    ("cursor", "`next_cursor` of the previous page"),
    ("archived", "`true` for the archived entries instead (default `false`)"),
];

pub(super) fn routes() -> Vec<Route> {
    vec![
        route("GET", "/health", "meta", Access::Public, "Health", handler!(meta::health))
            .summary("Liveness check")
            .answers([(200, Content::AnyJson)]),
        route("GET", "/openapi.json", "meta", Access::Public, "OpenApi", Serve::Document)
            .summary("This OpenAPI document")
            .answers([(200, Content::AnyJson)]),
        route("PUT", "/admin/clinics/{clinicId}", CATALOG_ADMIN, Access::Admin, "PutClinic", handler!(clinics::put_clinic))
            .summary("Create or update the clinic's profile")
            .takes(json::<ClinicProfileInput>())
            .example(examples::clinic_profile())
            .answers([(200, json::<ClinicView>()), (201, json::<ClinicView>())])
            .conditional(),
        route("GET", "/admin/clinics/{clinicId}", CATALOG_ADMIN, Access::Admin, "GetClinic", handler!(clinics::get_clinic))
            .summary("The clinic's profile, with its version")
            .answers([(200, json::<ClinicView>())]),
        route("PUT", "/admin/clinics/{clinicId}/logo", CATALOG_ADMIN, Access::Admin, "PutClinicLogo", handler!(clinic_logo::put_logo))
            .summary("Upload the clinic's logo (the image as the body, PNG or JPEG, at most 200 KiB and 2000 pixels a side): shown on patients' pages and drawn on letters")
            .takes(Content::Image)
            .answers([(200, json::<clinic_logo::LogoView>())]),
        route("POST", "/admin/clinics/{clinicId}/booking-types", CATALOG_ADMIN, Access::Admin, "CreateBookingType", handler!(admin::create::<BookingType>))
            .summary("Create a booking type")
            .takes(json::<NewBookingTypeInput>())
            .example(examples::new_booking_type())
            .answers([(201, json::<BookingType>())]),
        route("GET", "/admin/clinics/{clinicId}/booking-types", CATALOG_ADMIN, Access::Admin, "ListBookingTypes", handler!(admin::list::<BookingType>))
            .summary("List the clinic's booking types")
            .answers([(200, page::<BookingType>())])
            .query(CATALOG_LIST),
        route("PATCH", "/admin/clinics/{clinicId}/booking-types/{bookingTypeId}", CATALOG_ADMIN, Access::Admin, "UpdateBookingType", handler!(admin::update_booking_type))
            .summary("Change a booking type now, or at `effective_at`")
            .takes(json::<UpdateBookingTypeInput>())
            .example(examples::booking_type_change())
            .answers([(200, versioned::<BookingType>()), (202, json::<ScheduledChange>())])
            .conditional(),
        route("DELETE", "/admin/clinics/{clinicId}/booking-types/{bookingTypeId}", CATALOG_ADMIN, Access::Admin, "ArchiveBookingType", handler!(admin::archive::<BookingType>))
            .summary("Archive a booking type: off online booking, and nothing new may use it; appointments, templates and statistics that already do keep its name")
            .answers([(200, versioned::<BookingType>())])
            .conditional(),
        route("GET", "/admin/clinics/{clinicId}/booking-types/{bookingTypeId}/history", CATALOG_ADMIN, Access::Admin, "BookingTypeHistory", handler!(admin::booking_type_history))
            .summary("A booking type's audit history")
            .answers([(200, json::<HistoryPage>())])
            .query(PAGING),
        route("POST", "/admin/clinics/{clinicId}/locations", CATALOG_ADMIN, Access::Admin, "CreateLocation", handler!(admin::create::<Location>))
            .summary("Create a location")
            .takes(json::<LocationInput>())
            .example(examples::location())
            .answers([(201, json::<Location>())]),
        route("GET", "/admin/clinics/{clinicId}/locations", CATALOG_ADMIN, Access::Admin, "ListLocations", handler!(admin::list::<Location>))
            .summary("List locations")
            .answers([(200, page::<Location>())])
            .query(CATALOG_LIST),
        route("PATCH", "/admin/clinics/{clinicId}/locations/{locationId}", CATALOG_ADMIN, Access::Admin, "UpdateLocation", handler!(admin::update::<Location>))
            .summary("Change a location (enabling or disabling re-publishes at once)")
            .takes(json::<LocationInput>())
            .example(examples::location())
            .answers([(200, versioned::<Location>())])
            .conditional(),
        route("DELETE", "/admin/clinics/{clinicId}/locations/{locationId}", CATALOG_ADMIN, Access::Admin, "ArchiveLocation", handler!(admin::archive::<Location>))
            .summary("Archive a location: off online booking, and nothing new may use it; appointments, templates and statistics that already do keep its name")
            .answers([(200, versioned::<Location>())])
            .conditional(),
        route("POST", "/admin/clinics/{clinicId}/providers", CATALOG_ADMIN, Access::Admin, "CreateProvider", handler!(admin::create::<Provider>))
            .summary("Create a provider")
            .takes(json::<ProviderInput>())
            .example(examples::provider())
            .answers([(201, json::<Provider>())]),
        route("GET", "/admin/clinics/{clinicId}/providers", CATALOG_ADMIN, Access::Admin, "ListProviders", handler!(admin::list::<Provider>))
            .summary("List providers")
            .answers([(200, page::<Provider>())])
            .query(CATALOG_LIST),
        route("PATCH", "/admin/clinics/{clinicId}/providers/{providerId}", CATALOG_ADMIN, Access::Admin, "UpdateProvider", handler!(admin::update::<Provider>))
            .summary("Change a provider (enabling or disabling re-publishes at once)")
            .takes(json::<ProviderInput>())
            .example(examples::provider())
            .answers([(200, versioned::<Provider>())])
            .conditional(),
        route("DELETE", "/admin/clinics/{clinicId}/providers/{providerId}", CATALOG_ADMIN, Access::Admin, "ArchiveProvider", handler!(admin::archive::<Provider>))
            .summary("Archive a provider: off online booking, and nothing new may use it; appointments, templates and statistics that already do keep its name")
            .answers([(200, versioned::<Provider>())])
            .conditional(),
        route("GET", "/admin/clinics/{clinicId}/online-settings", CATALOG_ADMIN, Access::Admin, "GetOnlineSettings", handler!(catalog::settings::get))
            .summary("Online settings and the public booking URL")
            .answers([(200, json::<OnlineSettingsView>())]),
        route("PUT", "/admin/clinics/{clinicId}/online-settings", CATALOG_ADMIN, Access::Admin, "PutOnlineSettings", handler!(catalog::settings::put))
            .summary("Change online settings; switching online booking off removes every public datum at once")
            .takes(json::<OnlineSettingsInput>())
            .example(examples::online_settings())
            .answers([(200, json::<OnlineSettingsView>())])
            .conditional(),
        route("GET", "/admin/clinics/{clinicId}/activity", CATALOG_ADMIN, Access::Admin, "ClinicActivity", handler!(activity::list))
            .summary("Daily activity counters")
            .answers([(200, json::<ActivityReport>())])
            .query(&[
                    ("from", "First day, YYYY-MM-DD (default: 29 days before `to`)"),
                    ("to", "Last day, YYYY-MM-DD (default: today, UTC)"),
                ]),
        route("POST", "/admin/clinics/{clinicId}/diary-templates", DIARY_ADMIN, Access::Admin, "CreateDiaryTemplate", handler!(diary::schedule::create_template))
            .summary("Create a weekly diary template")
            .takes(json::<TemplateInput>())
            .example(examples::diary_template())
            .answers([(201, json::<DiaryTemplate>())]),
        route("GET", "/admin/clinics/{clinicId}/diary-templates", DIARY_ADMIN, Access::Admin, "ListDiaryTemplates", handler!(diary::schedule::list_templates))
            .summary("List diary templates")
            .answers([(200, json::<TemplateList>())]),
        route("DELETE", "/admin/clinics/{clinicId}/diary-templates/{templateId}", DIARY_ADMIN, Access::Admin, "DeleteDiaryTemplate", handler!(diary::schedule::delete_template))
            .summary("Delete a diary template (booked appointments stay)")
            .answers([(204, Content::None)]),
        route("POST", "/admin/clinics/{clinicId}/diary-blocks", DIARY_ADMIN, Access::Admin, "CreateDiaryBlock", handler!(diary::schedule::create_block))
            .summary("Block a provider's time (leave, meetings)")
            .takes(json::<BlockInput>())
            .example(examples::diary_block())
            .answers([(201, json::<DiaryBlock>())]),
        route("GET", "/admin/clinics/{clinicId}/diary-blocks", DIARY_ADMIN, Access::Admin, "ListDiaryBlocks", handler!(diary::schedule::list_blocks))
            .summary("List diary blocks")
            .answers([(200, json::<BlockList>())]),
        route("DELETE", "/admin/clinics/{clinicId}/diary-blocks/{blockId}", DIARY_ADMIN, Access::Admin, "DeleteDiaryBlock", handler!(diary::schedule::delete_block))
            .summary("Delete a diary block")
            .answers([(204, Content::None)]),
        route("GET", "/admin/clinics/{clinicId}/appointments", DIARY_ADMIN, Access::Admin, "ListAppointments", handler!(diary::appointments::list))
            .summary("The diary: a day's appointments, marked with how they were booked")
            .answers([(200, json::<DiaryDay>())])
            .query(&[
                    ("date", "Local day, YYYY-MM-DD (default: today)"),
                    ("provider_id", "Only this provider"),
                    ("location_id", "Only this location"),
                ]),
        route("POST", "/admin/clinics/{clinicId}/appointments", DIARY_ADMIN, Access::Admin, "CreateAppointment", handler!(diary::appointments::create))
            .summary("Book an appointment as staff")
            .takes(json::<StaffBookingInput>())
            .example(examples::staff_booking())
            .answers([(201, json::<AppointmentView>())])
            .errors([409]),
        route("PATCH", "/admin/clinics/{clinicId}/appointments/{appointmentId}", DIARY_ADMIN, Access::Admin, "UpdateAppointment", handler!(diary::appointments::update))
            .summary("Move, edit or cancel an appointment")
            .takes(json::<AppointmentChange>())
            .example(examples::appointment_change())
            .answers([(200, json::<AppointmentView>())])
            .errors([409])
            .conditional(),
        route("GET", "/admin/clinics/{clinicId}/appointments/{appointmentId}/messages", DIARY_ADMIN, Access::Admin, "AppointmentMessages", handler!(appointment_lifecycle::admin::appointment_messages))
            .summary("Every message about one appointment (confirmation, changes, reminders): channel, template, status and when")
            .answers([(200, json::<MessageList>())]),
        route("GET", "/admin/clinics/{clinicId}/message-flags", DIARY_ADMIN, Access::Admin, "FlaggedMessages", handler!(appointment_lifecycle::admin::flagged_messages))
            .summary("Messages that failed for good or whose fate is unknown, newest first, for staff to follow up")
            .answers([(200, json::<MessageList>())]),
        route("GET", "/admin/clinics/{clinicId}/waitlist", DIARY_ADMIN, Access::Admin, "ListWaitlist", handler!(waitlist::admin::list))
            .summary("The waitlist in joining order: what suits each patient, where each stands, and the offers made")
            .answers([(200, json::<waitlist::admin::WaitlistView>())]),
        route("POST", "/admin/clinics/{clinicId}/waitlist", DIARY_ADMIN, Access::Admin, "CreateWaitlistEntry", handler!(waitlist::admin::create))
            .summary("Add a patient to the waitlist; matching freed times are offered in joining order")
            .takes(json::<waitlist::admin::NewEntryInput>())
            .example(examples::waitlist_entry())
            .answers([(201, json::<waitlist::admin::EntryView>())]),
        route("PUT", "/admin/clinics/{clinicId}/waitlist/{entryId}/preferences", DIARY_ADMIN, Access::Admin, "ChangeWaitlistEntry", handler!(waitlist::admin::change))
            .summary("Replace what suits a waiting patient")
            .takes(json::<crate::domain::waitlist::WaitlistPreferences>())
            .example(examples::waitlist_preferences())
            .answers([(200, json::<waitlist::admin::EntryView>())])
            .conditional(),
        route("DELETE", "/admin/clinics/{clinicId}/waitlist/{entryId}", DIARY_ADMIN, Access::Admin, "RemoveWaitlistEntry", handler!(waitlist::admin::remove))
            .summary("Take a patient off the waitlist (an open offer is withdrawn)")
            .answers([(204, Content::None)]),
        route("GET", "/admin/clinics/{clinicId}/patients/{patientReference}/appointments", DIARY_ADMIN, Access::Admin, "PatientAppointments", handler!(appointment_lifecycle::admin::patient_appointments))
            .summary("A patient's appointments, any channel, past and future")
            .answers([(200, json::<PatientAppointments>())]),
        route("GET", "/admin/clinics/{clinicId}/appointment-settings", CATALOG_ADMIN, Access::Admin, "GetAppointmentSettings", handler!(appointment_lifecycle::admin::get_settings))
            .summary("The clinic's appointment settings: reminders, online change cutoff, rescheduling, phone")
            .answers([(200, json::<LifecycleSettingsView>())]),
        route("PUT", "/admin/clinics/{clinicId}/appointment-settings", CATALOG_ADMIN, Access::Admin, "PutAppointmentSettings", handler!(appointment_lifecycle::admin::put_settings))
            .summary("Change the appointment settings (absent fields stay as they are)")
            .takes(json::<LifecycleSettingsInput>())
            .example(examples::appointment_settings())
            .answers([(200, json::<LifecycleSettingsView>())])
            .conditional(),
        route("GET", "/public/clinics/{clinicId}/catalog", "catalog-public", Access::Public, "PublicCatalog", handler!(catalog::public::catalog))
            .summary("What a clinic offers online")
            .answers([(200, json::<PublicCatalog>())]),
        route("GET", "/public/clinics/{clinicId}/availability", BOOKING_PUBLIC, Access::Public, "Availability", handler!(self_booking::api::availability))
            .summary("Free slots")
            .answers([(200, json::<AvailabilityView>())])
            .query(&[
                    ("booking_type_id", "The booking type"),
                    ("provider_id", "A provider id, or `any` (default)"),
                    ("location_id", "A location id, or `any` (default)"),
                    ("from", "First local day, YYYY-MM-DD"),
                    ("to", "Last local day, YYYY-MM-DD (at most 62 days after `from`)"),
                    ("asap", "`true` for the single next free slot"),
                ])
            .errors([422]),
        route("POST", "/public/clinics/{clinicId}/bookings", BOOKING_PUBLIC, Access::Public, "CreateBooking", handler!(self_booking::api::create))
            .summary("Book an appointment (send `Idempotency-Key` to make retries safe)")
            .takes(json::<BookingInput>())
            .example(examples::public_booking())
            .answers([(200, json::<BookingConfirmation>()), (201, json::<BookingConfirmation>())])
            .errors([409]),
        route("POST", "/public/clinics/{clinicId}/referral-uploads", BOOKING_PUBLIC, Access::Public, "CreateReferralUpload", handler!(self_booking::api::create_referral_upload))
            .summary("A signed URL to upload one referral (PDF or image, at most 5 MiB), valid for 15 minutes")
            .takes(json::<ReferralUploadInput>())
            .example(examples::referral_upload())
            .answers([(201, json::<ReferralUploadView>())]),
        route("GET", "/book/{clinicId}", BOOKING_PUBLIC, Access::Public, "BookingPage", handler!(self_booking::pages::page))
            .summary("The patient's booking pages (HTML)")
            .answers([(200, Content::Html)])
            .query(&[
                    ("type", "Chosen booking type"),
                    ("provider", "Chosen provider or `any`"),
                    ("location", "Chosen location or `any`"),
                    ("day", "First day shown"),
                    ("time", "Chosen time, or `asap`"),
                    ("lang", "`en` or `fr`"),
                ]),
        route("POST", "/book/{clinicId}", BOOKING_PUBLIC, Access::Public, "SubmitBookingPage", handler!(self_booking::pages::submit))
            .summary("Confirm a booking from the details form (HTML)")
            .takes(form::<self_booking::pages::BookingForm>())
            .example(examples::booking_form())
            .answers([(201, Content::Html), (409, Content::Html), (422, Content::Html)]),
        route("GET", "/book/{clinicId}/waitlist", BOOKING_PUBLIC, Access::Public, "WaitlistJoinPage", handler!(waitlist::pages::join))
            .summary("The waitlist form (HTML): dates, days and time of day that suit, and contact details")
            .answers([(200, Content::Html)])
            .query(&[("type", "Booking type id"), ("provider", "Provider id or any"), ("location", "Location id or any")]),
        route("GET", "/book/{clinicId}/logo", BOOKING_PUBLIC, Access::Public, "ClinicLogo", handler!(clinic_logo::get_logo))
            .summary("The clinic's uploaded logo")
            .answers([(200, Content::Image)]),
        route("POST", "/book/{clinicId}/waitlist", BOOKING_PUBLIC, Access::Public, "SubmitWaitlistJoin", handler!(waitlist::pages::join))
            .summary("Join the waitlist (HTML form)")
            .takes(form::<waitlist::pages::JoinForm>())
            .example(examples::waitlist_form())
            .answers([(201, Content::Html), (404, Content::Html), (422, Content::Html)]),
        route("POST", "/admin/clinics/{clinicId}/broadcast-rules", LINKS_ADMIN, Access::Admin, "CreateBroadcastRule", handler!(booking_links::admin::create_rule))
            .summary("Create a broadcast rule: what a booking link books and what its pages and SMS say")
            .takes(json::<BroadcastRuleInput>())
            .example(examples::broadcast_rule())
            .answers([(201, json::<BroadcastRuleView>())]),
        route("GET", "/admin/clinics/{clinicId}/broadcast-rules", LINKS_ADMIN, Access::Admin, "ListBroadcastRules", handler!(booking_links::admin::list_rules))
            .summary("List broadcast rules by title")
            .answers([(200, json::<BroadcastRuleList>())])
            .query(&[
                ("search", "Only rules whose title contains this text (any case)"),
                ("archived", "`true` for the archived rules instead (default `false`)"),
            ]),
        route("PUT", "/admin/clinics/{clinicId}/broadcast-rules/{ruleId}", LINKS_ADMIN, Access::Admin, "ReplaceBroadcastRule", handler!(booking_links::admin::replace_rule))
            .summary("Replace a broadcast rule")
            .takes(json::<BroadcastRuleInput>())
            .example(examples::broadcast_rule())
            .answers([(200, json::<BroadcastRuleView>())])
            .conditional(),
        route("DELETE", "/admin/clinics/{clinicId}/broadcast-rules/{ruleId}", LINKS_ADMIN, Access::Admin, "ArchiveBroadcastRule", handler!(booking_links::admin::archive_rule))
            .summary("Archive a broadcast rule: no new link is sent under it; links already sent still work and their history still names it")
            .answers([(200, json::<BroadcastRuleView>())])
            .conditional(),
        route("POST", "/admin/clinics/{clinicId}/booking-links", LINKS_ADMIN, Access::Admin, "SendBookingLink", handler!(booking_links::admin::send))
            .summary("Create a single-use booking link and text it to the patient; the answer shows the URL once")
            .takes(json::<SendLinkInput>())
            .example(examples::send_link())
            .answers([(201, json::<LinkSent>())]),
        route("POST", "/admin/clinics/{clinicId}/booking-links/{linkId}/expire", LINKS_ADMIN, Access::Admin, "ExpireBookingLink", handler!(booking_links::admin::expire))
            .summary("Expire an unused booking link (the patient phoned instead)")
            .answers([(200, json::<LinkView>())])
            .errors([409]),
        route("POST", "/admin/clinics/{clinicId}/booking-links/{linkId}/resend", LINKS_ADMIN, Access::Admin, "ResendBookingLink", handler!(booking_links::admin::resend))
            .summary("Resend a link that has not booked: the old link stops working and a new one, for the same patient under the same rule, is texted; the answer shows the new URL once")
            .answers([(201, json::<LinkSent>())])
            .errors([409]),
        route("DELETE", "/admin/clinics/{clinicId}/booking-links/{linkId}", LINKS_ADMIN, Access::Admin, "DeleteBookingLink", handler!(booking_links::admin::delete))
            .summary("Delete an unused booking link")
            .answers([(200, json::<LinkView>())]),
        route("GET", "/admin/clinics/{clinicId}/patients/{patientReference}/booking-links", LINKS_ADMIN, Access::Admin, "PatientBookingLinks", handler!(booking_links::admin::history))
            .summary("A patient's booking links with their status history and the appointments they booked")
            .answers([(200, json::<LinkHistory>())]),
        route("GET", "/admin/clinics/{clinicId}/providers/{providerId}/messages", LINKS_ADMIN, Access::Admin, "ProviderMessages", handler!(booking_links::admin::inbox))
            .summary("A provider's staff inbox (reschedules moved to them)")
            .answers([(200, json::<InboxList>())]),
        route("GET", "/links/{token}", LINKS_PUBLIC, Access::Public, "BookingLinkPage", handler!(booking_links::link_pages::show))
            .summary("A booking link's pages (HTML): welcome, times, review; a used link shows its confirmation")
            .answers([(200, Content::Html), (410, Content::Html)])
            .query(&[
                    ("step", "`times` or `review`"),
                    ("day", "First day shown"),
                    ("time", "Chosen time"),
                    ("lang", "`en` or `fr`"),
                ]),
        route("POST", "/links/{token}", LINKS_PUBLIC, Access::Public, "ConfirmBookingLink", handler!(booking_links::link_pages::confirm))
            .summary("Book with a booking link (HTML); the link is used up in the same transaction")
            .takes(form::<booking_links::link_pages::ConfirmForm>())
            .example(examples::link_form())
            .answers([(200, Content::Html), (201, Content::Html), (409, Content::Html), (410, Content::Html)]),
        route("GET", "/manage/{token}", LINKS_PUBLIC, Access::Public, "ManagePage", handler!(appointment_lifecycle::manage_pages::show))
            .summary("The manage link's verification page (HTML)")
            .answers([(200, Content::Html), (403, Content::Html)]),
        route("POST", "/manage/{token}", LINKS_PUBLIC, Access::Public, "SubmitManagePage", handler!(appointment_lifecycle::manage_pages::submit))
            .summary("Verify (date of birth), then see, reschedule or cancel the appointment (HTML)")
            .takes(form::<appointment_lifecycle::manage_pages::ManageForm>())
            .example(examples::manage_form())
            .answers([(200, Content::Html), (401, Content::Html), (403, Content::Html), (409, Content::Html), (422, Content::Html)]),
        route("GET", "/waitlist/{token}", LINKS_PUBLIC, Access::Public, "WaitlistOfferPage", handler!(waitlist::pages::show))
            .summary("A waitlist offer (HTML): the time, and whether it can still be taken")
            .answers([(200, Content::Html), (404, Content::Html)]),
        route("POST", "/waitlist/{token}", LINKS_PUBLIC, Access::Public, "SubmitWaitlistOffer", handler!(waitlist::pages::submit))
            .summary("Take a waitlist offer (the first to confirm gets the time) or say no (HTML form)")
            .takes(form::<waitlist::pages::OfferForm>())
            .example(examples::offer_form())
            .answers([(200, Content::Html), (404, Content::Html), (409, Content::Html)]),
        route("POST", "/admin/clinics/{clinicId}/partners", PARTNER_ADMIN, Access::Admin, "CreatePartner", handler!(partners::admin::create))
            .summary("Create a partner with the services activated for it")
            .takes(json::<PartnerInput>())
            .example(examples::partner())
            .answers([(201, json::<PartnerView>())]),
        route("GET", "/admin/clinics/{clinicId}/partners", PARTNER_ADMIN, Access::Admin, "ListPartners", handler!(partners::admin::list))
            .summary("List partners (a partner's user sees its own)")
            .answers([(200, json::<PartnerList>())])
            .query(&[("archived", "`true` for the archived partners instead (default `false`)")]),
        route("PUT", "/admin/clinics/{clinicId}/partners/{partnerId}", PARTNER_ADMIN, Access::Admin, "ReplacePartner", handler!(partners::admin::replace))
            .summary("Replace a partner's name, contact and activated services")
            .takes(json::<PartnerInput>())
            .example(examples::partner())
            .answers([(200, json::<PartnerView>())])
            .conditional(),
        route("DELETE", "/admin/clinics/{clinicId}/partners/{partnerId}", PARTNER_ADMIN, Access::Admin, "ArchivePartner", handler!(partners::admin::archive))
            .summary("Archive a partner: nothing more is booked for it; its bookings and statistics keep naming it")
            .answers([(200, json::<PartnerView>())])
            .conditional(),
        route("GET", "/admin/clinics/{clinicId}/partner-booking", PARTNER_ADMIN, Access::Admin, "PartnerOffer", handler!(partners::booking::offer))
            .summary("Qualifications, providers and activated services that may be booked for a partner")
            .answers([(200, json::<PartnerOffer>())])
            .query(&[("partner_id", "The partner's code"), ("qualification", "Only providers holding it")]),
        route("GET", "/admin/clinics/{clinicId}/partner-booking/slots", PARTNER_ADMIN, Access::Admin, "PartnerSlots", handler!(partners::booking::slots))
            .summary("Free slots of an activated service for a partner (held slots are not offered)")
            .answers([(200, json::<PartnerSlots>())])
            .query(&[
                    ("partner_id", "The partner's code"),
                    ("booking_type_id", "An activated service"),
                    ("provider_id", "One provider, or `any` (default)"),
                    ("qualification", "Only providers holding it"),
                    ("from", "First local day, YYYY-MM-DD"),
                    ("to", "Last local day (at most 31 days after `from`)"),
                ])
            .errors([422]),
        route("POST", "/admin/clinics/{clinicId}/partner-holds", PARTNER_ADMIN, Access::Admin, "CreatePartnerHold", handler!(partners::booking::hold))
            .summary("Start a reservation: hold a free slot for 5 minutes")
            .takes(json::<HoldInput>())
            .example(examples::partner_hold())
            .answers([(201, json::<PartnerHold>())]),
        route("POST", "/admin/clinics/{clinicId}/partner-holds/{holdId}/confirm", PARTNER_ADMIN, Access::Admin, "ConfirmPartnerHold", handler!(partners::booking::confirm))
            .summary("Book the held slot for a patient record (410 once the hold has lapsed)")
            .takes(json::<ConfirmHoldInput>())
            .example(examples::confirm_hold())
            .answers([(201, json::<AppointmentView>())])
            .errors([409, 410]),
        route("DELETE", "/admin/clinics/{clinicId}/partner-holds/{holdId}", PARTNER_ADMIN, Access::Admin, "ReleasePartnerHold", handler!(partners::booking::release))
            .summary("Release a hold at once")
            .answers([(204, Content::None)])
            .errors([410]),
        route("GET", "/admin/clinics/{clinicId}/patients", DIARY_ADMIN, Access::Admin, "SearchPatients", handler!(patients::search))
            .summary("Find patient records by name or reference, or (staff, without `search`) page through every record by reference")
            .answers([(200, json::<PatientList>())])
            .query(&[
                    ("search", "Name or reference (required for a partner's user)"),
                    ("date_of_birth", "YYYY-MM-DD, required with a name for a partner's user"),
                    ("limit", "Page size without a search, 1 to 100 (default 50)"),
                    ("cursor", "`next_cursor` of the previous page"),
                ]),
        route("GET", "/admin/clinics/{clinicId}/patients/{patientReference}", DIARY_ADMIN, Access::Admin, "ShowPatient", handler!(patients::show))
            .summary("One patient record with its profile")
            .answers([(200, json::<PatientRecordView>())]),
        route("PUT", "/admin/clinics/{clinicId}/patients/{patientReference}", DIARY_ADMIN, Access::Admin, "ReplacePatient", handler!(patients::replace))
            .summary("Correct a patient record (name, birth date, contact, profile); its reference stays, booked appointments keep their details")
            .takes(json::<PatientChangeInput>())
            .example(examples::patient_change())
            .answers([(200, json::<PatientRecordView>())])
            .conditional(),
        route("POST", "/admin/clinics/{clinicId}/patients", DIARY_ADMIN, Access::Admin, "CreatePatient", handler!(patients::create))
            .summary("Add a patient record (409 for a likely duplicate unless `confirm_duplicate`)")
            .takes(json::<NewPatientInput>())
            .example(examples::new_patient())
            .answers([(201, json::<PatientView>())])
            .errors([409]),
        route("POST", "/admin/clinics/{clinicId}/patients/search-index", DIARY_ADMIN, Access::Admin, "RebuildPatientSearchIndex", handler!(patients::rebuild_search_index))
            .summary("Index one page of patient records for the staff search (records written before the index existed); call again with `next_cursor` until it is absent")
            .answers([(200, json::<patients::IndexedPage>())])
            .query(PAGING),
        route("GET", "/admin/clinics/{clinicId}/statistics", DIARY_ADMIN, Access::Admin, "Statistics", handler!(statistics::report))
            .summary("Bookings, cancellations and no-shows per channel, partner, service and provider (JSON or CSV)")
            .answers([(200, json::<StatisticsReport>()), (200, Content::Csv)])
            .query(&[
                    ("from", "First UTC day, YYYY-MM-DD (default: 29 days before `to`)"),
                    ("to", "Last UTC day (default: today)"),
                    ("group_by", "Comma-separated: channel, partner_id, booking_type_id, provider_id (default: all)"),
                    ("format", "`json` (default) or `csv`"),
                ])
            .errors([422]),
        route("GET", "/staff/partner-booking", PARTNER_ADMIN, Access::Public, "PartnerBookingPage", handler!(partners::staff_page::page))
            .summary("The partner booking staff page (HTML; it calls the admin API with a token)")
            .answers([(200, Content::Html)]),
        route("GET", "/staff/partner-booking.js", PARTNER_ADMIN, Access::Public, "PartnerBookingScript", handler!(partners::staff_page::script))
            .summary("The staff page's script")
            .answers([(200, Content::Script)]),
        route("POST", "/admin/clinics/{clinicId}/online-services", CATALOG_ADMIN, Access::Admin, "CreateOnlineService", handler!(online_services::admin::create))
            .summary("Create an online service: booking types, providers and access rules")
            .takes(json::<OnlineServiceInput>())
            .example(examples::online_service())
            .answers([(201, json::<OnlineService>())]),
        route("GET", "/admin/clinics/{clinicId}/online-services", CATALOG_ADMIN, Access::Admin, "ListOnlineServices", handler!(online_services::admin::list))
            .summary("List online services")
            .answers([(200, json::<OnlineServiceList>())]),
        route("PUT", "/admin/clinics/{clinicId}/online-services/{serviceId}", CATALOG_ADMIN, Access::Admin, "ReplaceOnlineService", handler!(online_services::admin::replace))
            .summary("Replace an online service (name, booking types, providers, rules): visitors see the change at once")
            .takes(json::<OnlineServiceInput>())
            .example(examples::online_service())
            .answers([(200, json::<OnlineService>())])
            .conditional(),
        route("DELETE", "/admin/clinics/{clinicId}/online-services/{serviceId}", CATALOG_ADMIN, Access::Admin, "DeleteOnlineService", handler!(online_services::admin::delete))
            .summary("Delete an online service: the portal stops offering it")
            .answers([(204, Content::None)]),
        route("POST", "/admin/clinics/{clinicId}/appointments/{appointmentId}/attach-patient", DIARY_ADMIN, Access::Admin, "AttachPatient", handler!(diary::appointments::attach_patient))
            .summary("Attach a provisional portal booking to a patient record (audited)")
            .takes(json::<AttachPatientInput>())
            .example(examples::attach_patient())
            .answers([(200, json::<AppointmentView>())])
            .errors([409]),
        route("POST", "/public/clinics/{clinicId}/portal/services", BOOKING_PUBLIC, Access::Public, "PortalServices", handler!(online_services::portal::services))
            .summary("The services a visitor may book (identified by name, birth date and contact)")
            .takes(json::<Visitor>())
            .example(examples::portal_visitor())
            .answers([(200, json::<PortalServices>())]),
        route("POST", "/public/clinics/{clinicId}/portal/availability", BOOKING_PUBLIC, Access::Public, "PortalAvailability", handler!(online_services::portal::availability))
            .summary("Free slots of a service the visitor may book (next 14 days)")
            .takes(json::<PortalRequest>())
            .example(examples::portal_request())
            .answers([(200, json::<AvailabilityView>())]),
        route("POST", "/public/clinics/{clinicId}/portal/bookings", BOOKING_PUBLIC, Access::Public, "PortalBooking", handler!(online_services::portal::book))
            .summary("Book a service; the rules are checked again, and an unidentified visitor's booking carries provisional details")
            .takes(json::<PortalRequest>())
            .example(examples::portal_request())
            .answers([(201, json::<PortalBooked>())])
            .errors([409]),
        route("GET", "/admin/clinics/{clinicId}/diary-slots", DIARY_ADMIN, Access::Admin, "ListDiarySlots", handler!(diary::slots::list))
            .summary("A day's template slots: published online, not yet published (and when), booked online")
            .answers([(200, json::<diary::slots::DiarySlots>())])
            .query(&[("date", "Local day, YYYY-MM-DD (default: today)"), ("provider_id", "Only this provider")]),
        route("GET", "/portal/{clinicId}", BOOKING_PUBLIC, Access::Public, "PortalPage", handler!(online_services::pages::show))
            .summary("The patient portal (HTML): identification, then (with the visit cookie) the booking pages' steps over the services the visitor may book")
            .answers([(200, Content::Html), (400, Content::Html), (404, Content::Html), (409, Content::Html)])
            .query(&[
                    ("service", "Chosen online service"),
                    ("type", "Chosen booking type of that service"),
                    ("provider", "Chosen provider or `any`"),
                    ("location", "Chosen location or `any`"),
                    ("day", "First day shown"),
                    ("time", "Chosen time, or `asap`"),
                    ("with", "The provider shown for the chosen time"),
                    ("at", "The location shown for the chosen time"),
                    ("lang", "`en` or `fr`"),
                ]),
        route("POST", "/portal/{clinicId}", BOOKING_PUBLIC, Access::Public, "SubmitPortalPage", handler!(online_services::pages::submit))
            .summary("The portal's forms (HTML): `identify` (answers 303 with the visit cookie), `book`, `forget` (303, cookie cleared)")
            .takes(form::<online_services::pages::PortalForm>())
            .example(examples::portal_form())
            .answers([(200, Content::Html), (201, Content::Html), (303, Content::None), (400, Content::Html), (404, Content::Html), (409, Content::Html), (422, Content::Html)]),
        route("POST", "/admin/clinics/{clinicId}/connect-templates", CONNECT_ADMIN, Access::Admin, "CreateConnectTemplate", handler!(patient_connect::programs::create_template))
            .summary("Create a Patient Connect template (SMS, email or letter); unknown merge fields are refused here")
            .takes(json::<crate::domain::message_template::MessageTemplateInput>())
            .example(examples::connect_template())
            .answers([(201, json::<patient_connect::programs::MessageTemplateView>())]),
        route("GET", "/admin/clinics/{clinicId}/connect-templates", CONNECT_ADMIN, Access::Admin, "ListConnectTemplates", handler!(patient_connect::programs::list_templates))
            .summary("List Patient Connect templates")
            .answers([(200, json::<patient_connect::programs::MessageTemplateList>())])
            .query(&[("archived", "`true` for the archived ones instead (default `false`)")]),
        route("PUT", "/admin/clinics/{clinicId}/connect-templates/{templateId}", CONNECT_ADMIN, Access::Admin, "ReplaceConnectTemplate", handler!(patient_connect::programs::replace_template))
            .summary("Replace a template (its kind stays as created)")
            .takes(json::<crate::domain::message_template::MessageTemplateInput>())
            .example(examples::connect_template())
            .answers([(200, json::<patient_connect::programs::MessageTemplateView>())])
            .conditional(),
        route("DELETE", "/admin/clinics/{clinicId}/connect-templates/{templateId}", CONNECT_ADMIN, Access::Admin, "ArchiveConnectTemplate", handler!(patient_connect::programs::archive_template))
            .summary("Archive a template: no new program action or reminder may name it; programs that already do still send it")
            .answers([(200, json::<patient_connect::programs::MessageTemplateView>())])
            .conditional(),
        route("POST", "/admin/clinics/{clinicId}/connect-programs", CONNECT_ADMIN, Access::Admin, "CreateConnectProgram", handler!(patient_connect::programs::create_program))
            .summary("Create a Patient Connect program (its type is fixed from now on)")
            .takes(json::<crate::domain::patient_connect::ConnectProgram>())
            .example(examples::connect_program())
            .answers([(201, json::<patient_connect::programs::ProgramView>())]),
        route("GET", "/admin/clinics/{clinicId}/connect-programs", CONNECT_ADMIN, Access::Admin, "ListConnectPrograms", handler!(patient_connect::programs::list_programs))
            .summary("List Patient Connect programs")
            .answers([(200, json::<patient_connect::programs::ProgramList>())])
            .query(&[("archived", "`true` for the archived ones instead (default `false`)")]),
        route("PUT", "/admin/clinics/{clinicId}/connect-programs/{programId}", CONNECT_ADMIN, Access::Admin, "ReplaceConnectProgram", handler!(patient_connect::programs::replace_program))
            .summary("Replace a program: name, cycles, frequency, actions, completing bookings, enabled (not its type)")
            .takes(json::<crate::domain::patient_connect::ConnectProgram>())
            .example(examples::connect_program())
            .answers([(200, json::<patient_connect::programs::ProgramView>())])
            .conditional(),
        route("DELETE", "/admin/clinics/{clinicId}/connect-programs/{programId}", CONNECT_ADMIN, Access::Admin, "ArchiveConnectProgram", handler!(patient_connect::programs::archive_program))
            .summary("Archive a program (it is disabled for good): nobody new enters it; its enrollments and history keep naming it")
            .answers([(200, json::<patient_connect::programs::ProgramView>())])
            .conditional(),
        route("GET", "/admin/clinics/{clinicId}/connect-programs/{programId}/enrollments", CONNECT_ADMIN, Access::Admin, "ProgramEnrollments", handler!(patient_connect::enrollments::for_program))
            .summary("A program's enrollments, newest first, with each action's outcome and what is due next")
            .answers([(200, json::<patient_connect::enrollments::EnrollmentList>())])
            .query(PAGING),
        route("POST", "/admin/clinics/{clinicId}/connect-enrollments", CONNECT_ADMIN, Access::Admin, "CreateEnrollment", handler!(patient_connect::enrollments::enroll))
            .summary("Enroll a patient in an enabled program with its reference date; the first action is scheduled")
            .takes(json::<patient_connect::enrollments::EnrollInput>())
            .example(examples::enrollment())
            .answers([(201, json::<patient_connect::enrollments::EnrollmentView>())])
            .errors([409]),
        route("GET", "/admin/clinics/{clinicId}/connect-enrollments/{enrollmentId}", CONNECT_ADMIN, Access::Admin, "ShowEnrollment", handler!(patient_connect::enrollments::show))
            .summary("One enrollment: outcomes (sent with message id, failed with why, skipped, paused), replies, due next")
            .answers([(200, json::<patient_connect::enrollments::EnrollmentView>())]),
        route("POST", "/admin/clinics/{clinicId}/connect-enrollments/{enrollmentId}/advance", CONNECT_ADMIN, Access::Admin, "AdvanceEnrollment", handler!(patient_connect::enrollments::advance))
            .summary("Advance an enrollment waiting at a pause (or paused by an error) to its next action")
            .answers([(200, json::<patient_connect::enrollments::EnrollmentView>())]),
        route("GET", "/admin/clinics/{clinicId}/patients/{patientReference}/connect-enrollments", CONNECT_ADMIN, Access::Admin, "PatientEnrollments", handler!(patient_connect::enrollments::for_patient))
            .summary("A patient's enrollments, newest first")
            .answers([(200, json::<patient_connect::enrollments::EnrollmentList>())]),
        route("GET", "/admin/clinics/{clinicId}/connect-follow-ups", CONNECT_ADMIN, Access::Admin, "ConnectFollowUps", handler!(patient_connect::enrollments::follow_ups))
            .summary("Patients flagged for follow-up: enrollments paused by a failed action")
            .answers([(200, json::<patient_connect::enrollments::FollowUpList>())])
            .query(PAGING),
        route("GET", "/admin/clinics/{clinicId}/distribution-list", CONNECT_ADMIN, Access::Admin, "DistributionList", handler!(patient_connect::letters::list))
            .summary("Letters to post (Mail), or every letter")
            .answers([(200, json::<patient_connect::letters::DistributionList>())])
            .query(&[
                ("status", "`to_post` (default: oldest first) or `all` (by id)"),
                ("limit", "Page size, 1 to 100 (default 50)"),
                ("cursor", "`next_cursor` of the previous page"),
            ]),
        route("POST", "/admin/clinics/{clinicId}/distribution-list/index", CONNECT_ADMIN, Access::Admin, "RebuildDistributionListIndex", handler!(patient_connect::letters::rebuild_index))
            .summary("Put one page of letters to post written before the distribution list had its own index onto it; call again with `next_cursor` until it is absent")
            .answers([(200, json::<patients::IndexedPage>())])
            .query(PAGING),
        route("POST", "/admin/clinics/{clinicId}/distribution-list/{letterId}/posted", CONNECT_ADMIN, Access::Admin, "MarkLetterPosted", handler!(patient_connect::letters::mark_posted))
            .summary("Mark a letter posted")
            .answers([(200, json::<patient_connect::letters::LetterView>())]),
        route("GET", "/admin/clinics/{clinicId}/letters/{letterId}", CONNECT_ADMIN, Access::Admin, "LetterPdf", handler!(patient_connect::letters::download))
            .summary("A letter's PDF")
            .answers([(200, Content::Pdf)]),
        route("POST", "/admin/clinics/{clinicId}/patients/{patientReference}/referrals", CONNECT_ADMIN, Access::Admin, "AddReferral", handler!(patient_connect::enrollments::add_referral))
            .summary("Record a referral: the patient enters every enabled Referral program until they book")
            .takes(json::<patient_connect::enrollments::ReferralInput>())
            .example(examples::referral())
            .answers([(201, json::<patient_connect::enrollments::ReferralAdded>())]),

    ]
}
