//! The OpenAPI 3.1 document, generated from the route table and the request and response types,
//! so it cannot drift from what the code serves. `infra/openapi.json` is a copy checked by a test.

use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::domain::appointment_message::LifecycleSettingsInput;
use crate::domain::booking_link::BroadcastRuleInput;
use crate::domain::booking_type::{BookingType, BookingTypeChange, NewBookingTypeInput};
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
use crate::features::catalog::admin::{HistoryPage, ScheduledChange, UpdateBookingTypeInput};
use crate::features::catalog::public::PublicCatalog;
use crate::features::catalog::settings::OnlineSettingsView;
use crate::features::clinics::ClinicView;
use crate::features::diary::appointments::AttachPatientInput;
use crate::features::diary::appointments::{AppointmentChange, AppointmentView, DiaryDay, StaffBookingInput};
use crate::features::diary::schedule::{BlockList, TemplateList};
use crate::features::online_services::admin::OnlineServiceList;
use crate::features::online_services::portal::{PortalBooked, PortalRequest, PortalServices, Visitor};
use crate::features::partners::admin::{PartnerList, PartnerView};
use crate::features::partners::booking::{ConfirmHoldInput, HoldInput, PartnerOffer, PartnerSlots};
use crate::features::patients::{NewPatientInput, PatientList, PatientView};
use crate::features::self_booking::api::{AvailabilityView, BookingConfirmation, BookingInput, ReferralUploadView};
use crate::features::statistics::StatisticsReport;
use crate::http::Problem;
use crate::routes::{Access, Endpoint, ROUTES};

fn add<T: ToSchema>(schemas: &mut Map<String, Value>) {
    let mut nested = Vec::new();
    T::schemas(&mut nested);
    for (name, schema) in nested {
        schemas.insert(name, serde_json::to_value(schema).unwrap_or(Value::Null));
    }
    schemas.insert(T::name().into_owned(), serde_json::to_value(T::schema()).unwrap_or(Value::Null));
}

fn page_of(item: &str) -> Value {
    json!({
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {"type": "array", "items": schema_ref(item)},
            "next_cursor": {"type": ["string", "null"], "description": "Pass as `cursor` to read the next page"}
        }
    })
}

fn components() -> Map<String, Value> {
    let mut schemas = Map::new();
    add::<Problem>(&mut schemas);
    add::<ClinicProfileInput>(&mut schemas);
    add::<ClinicView>(&mut schemas);
    add::<NewBookingTypeInput>(&mut schemas);
    add::<BookingTypeChange>(&mut schemas);
    add::<UpdateBookingTypeInput>(&mut schemas);
    add::<BookingType>(&mut schemas);
    add::<ScheduledChange>(&mut schemas);
    add::<HistoryPage>(&mut schemas);
    add::<LocationInput>(&mut schemas);
    add::<Location>(&mut schemas);
    add::<ProviderInput>(&mut schemas);
    add::<Provider>(&mut schemas);
    add::<OnlineSettingsInput>(&mut schemas);
    add::<OnlineSettingsView>(&mut schemas);
    add::<ActivityReport>(&mut schemas);
    add::<TemplateInput>(&mut schemas);
    add::<DiaryTemplate>(&mut schemas);
    add::<TemplateList>(&mut schemas);
    add::<BlockInput>(&mut schemas);
    add::<DiaryBlock>(&mut schemas);
    add::<BlockList>(&mut schemas);
    add::<StaffBookingInput>(&mut schemas);
    add::<AppointmentChange>(&mut schemas);
    add::<AppointmentView>(&mut schemas);
    add::<DiaryDay>(&mut schemas);
    add::<PublicCatalog>(&mut schemas);
    add::<AvailabilityView>(&mut schemas);
    add::<BookingInput>(&mut schemas);
    add::<BookingConfirmation>(&mut schemas);
    add::<ReferralUploadInput>(&mut schemas);
    add::<ReferralUploadView>(&mut schemas);
    add::<BroadcastRuleInput>(&mut schemas);
    add::<BroadcastRuleView>(&mut schemas);
    add::<BroadcastRuleList>(&mut schemas);
    add::<SendLinkInput>(&mut schemas);
    add::<LinkSent>(&mut schemas);
    add::<LinkView>(&mut schemas);
    add::<LinkHistory>(&mut schemas);
    add::<InboxList>(&mut schemas);
    add::<PartnerInput>(&mut schemas);
    add::<PartnerView>(&mut schemas);
    add::<PartnerList>(&mut schemas);
    add::<PartnerOffer>(&mut schemas);
    add::<PartnerSlots>(&mut schemas);
    add::<HoldInput>(&mut schemas);
    add::<PartnerHold>(&mut schemas);
    add::<ConfirmHoldInput>(&mut schemas);
    add::<PatientList>(&mut schemas);
    add::<PatientView>(&mut schemas);
    add::<NewPatientInput>(&mut schemas);
    add::<StatisticsReport>(&mut schemas);
    add::<OnlineServiceInput>(&mut schemas);
    add::<OnlineService>(&mut schemas);
    add::<OnlineServiceList>(&mut schemas);
    add::<AttachPatientInput>(&mut schemas);
    add::<MessageList>(&mut schemas);
    add::<crate::features::waitlist::admin::WaitlistView>(&mut schemas);
    add::<crate::features::waitlist::admin::EntryView>(&mut schemas);
    add::<crate::features::waitlist::admin::NewEntryInput>(&mut schemas);
    add::<crate::domain::waitlist::WaitlistPreferences>(&mut schemas);
    add::<PatientAppointments>(&mut schemas);
    add::<LifecycleSettingsView>(&mut schemas);
    add::<LifecycleSettingsInput>(&mut schemas);
    add::<Visitor>(&mut schemas);
    add::<PortalServices>(&mut schemas);
    add::<PortalRequest>(&mut schemas);
    add::<PortalBooked>(&mut schemas);
    add::<crate::features::clinic_logo::LogoView>(&mut schemas);
    add::<crate::features::patients::PatientRecordView>(&mut schemas);
    add::<crate::features::diary::slots::DiarySlots>(&mut schemas);
    add::<crate::domain::message_template::MessageTemplateInput>(&mut schemas);
    add::<crate::features::patient_connect::programs::MessageTemplateView>(&mut schemas);
    add::<crate::features::patient_connect::programs::MessageTemplateList>(&mut schemas);
    add::<crate::domain::patient_connect::ConnectProgram>(&mut schemas);
    add::<crate::features::patient_connect::programs::ProgramView>(&mut schemas);
    add::<crate::features::patient_connect::programs::ProgramList>(&mut schemas);
    add::<crate::features::patient_connect::enrollments::EnrollInput>(&mut schemas);
    add::<crate::features::patient_connect::enrollments::EnrollmentView>(&mut schemas);
    add::<crate::features::patient_connect::enrollments::EnrollmentList>(&mut schemas);
    add::<crate::features::patient_connect::enrollments::FollowUpList>(&mut schemas);
    add::<crate::features::patient_connect::letters::DistributionList>(&mut schemas);
    add::<crate::features::patient_connect::letters::LetterView>(&mut schemas);
    add::<crate::features::patient_connect::enrollments::ReferralInput>(&mut schemas);
    add::<crate::features::patient_connect::enrollments::ReferralAdded>(&mut schemas);
    for (page, item) in [("BookingTypePage", "BookingType"), ("LocationPage", "Location"), ("ProviderPage", "Provider")]
    {
        schemas.insert(page.into(), page_of(item));
    }
    schemas
}

/// How a request or response body is described.
#[derive(Clone, Copy)]
enum Content {
    /// No body.
    None,
    /// JSON of a component schema.
    Json(&'static str),
    /// JSON of any shape.
    AnyJson,
    /// An HTML page.
    Html,
    /// A form.
    Form,
    /// A script.
    Script,
    /// A PDF document.
    Pdf,
    /// A PNG or JPEG image.
    Image,
}

/// Summary, request body, success responses and query parameters of an endpoint.
struct Operation {
    summary: &'static str,
    request: Content,
    success: &'static [(u16, Content)],
    query: &'static [(&'static str, &'static str)],
}

const PAGING: &[(&str, &str)] =
    &[("limit", "Page size, 1 to 100 (default 50)"), ("cursor", "`next_cursor` of the previous page")];

fn operation(endpoint: Endpoint) -> Operation {
    use Content::{AnyJson, Form, Html, Image, Json, None, Pdf, Script};
    let op = |summary, request, success, query| Operation { summary, request, success, query };
    match endpoint {
        Endpoint::Health => op("Liveness check", None, &[(200, AnyJson)], &[]),
        Endpoint::OpenApi => op("This OpenAPI document", None, &[(200, AnyJson)], &[]),
        Endpoint::PutClinic => op(
            "Create or update the clinic's profile",
            Json("ClinicProfileInput"),
            &[(200, Json("ClinicView")), (201, Json("ClinicView"))],
            &[],
        ),
        Endpoint::GetClinic => op("The clinic's profile, with its version", None, &[(200, Json("ClinicView"))], &[]),
        Endpoint::PutClinicLogo => op(
            "Upload the clinic's logo (the image as the body, PNG or JPEG, at most 200 KiB and 2000 pixels a side): shown on patients' pages and drawn on letters",
            Image,
            &[(200, Json("LogoView"))],
            &[],
        ),
        Endpoint::ClinicLogo => op("The clinic's uploaded logo", None, &[(200, Image)], &[]),
        Endpoint::CreateBookingType => {
            op("Create a booking type", Json("NewBookingTypeInput"), &[(201, Json("BookingType"))], &[])
        }
        Endpoint::ListBookingTypes => {
            op("List the clinic's booking types", None, &[(200, Json("BookingTypePage"))], PAGING)
        }
        Endpoint::UpdateBookingType => op(
            "Change a booking type now, or at `effective_at`",
            Json("UpdateBookingTypeInput"),
            &[(200, Json("BookingType")), (202, Json("ScheduledChange"))],
            &[],
        ),
        Endpoint::BookingTypeHistory => {
            op("A booking type's audit history", None, &[(200, Json("HistoryPage"))], PAGING)
        }
        Endpoint::CreateLocation => op("Create a location", Json("LocationInput"), &[(201, Json("Location"))], &[]),
        Endpoint::ListLocations => op("List locations", None, &[(200, Json("LocationPage"))], PAGING),
        Endpoint::UpdateLocation => op(
            "Change a location (enabling or disabling re-publishes at once)",
            Json("LocationInput"),
            &[(200, Json("Location"))],
            &[],
        ),
        Endpoint::CreateProvider => op("Create a provider", Json("ProviderInput"), &[(201, Json("Provider"))], &[]),
        Endpoint::ListProviders => op("List providers", None, &[(200, Json("ProviderPage"))], PAGING),
        Endpoint::UpdateProvider => op(
            "Change a provider (enabling or disabling re-publishes at once)",
            Json("ProviderInput"),
            &[(200, Json("Provider"))],
            &[],
        ),
        Endpoint::GetOnlineSettings => {
            op("Online settings and the public booking URL", None, &[(200, Json("OnlineSettingsView"))], &[])
        }
        Endpoint::PutOnlineSettings => op(
            "Change online settings; switching online booking off removes every public datum at once",
            Json("OnlineSettingsInput"),
            &[(200, Json("OnlineSettingsView"))],
            &[],
        ),
        Endpoint::ClinicActivity => op(
            "Daily activity counters",
            None,
            &[(200, Json("ActivityReport"))],
            &[
                ("from", "First day, YYYY-MM-DD (default: 29 days before `to`)"),
                ("to", "Last day, YYYY-MM-DD (default: today, UTC)"),
            ],
        ),
        Endpoint::CreateDiaryTemplate => {
            op("Create a weekly diary template", Json("TemplateInput"), &[(201, Json("DiaryTemplate"))], &[])
        }
        Endpoint::ListDiaryTemplates => op("List diary templates", None, &[(200, Json("TemplateList"))], &[]),
        Endpoint::DeleteDiaryTemplate => {
            op("Delete a diary template (booked appointments stay)", None, &[(204, None)], &[])
        }
        Endpoint::CreateDiaryBlock => {
            op("Block a provider's time (leave, meetings)", Json("BlockInput"), &[(201, Json("DiaryBlock"))], &[])
        }
        Endpoint::ListDiaryBlocks => op("List diary blocks", None, &[(200, Json("BlockList"))], &[]),
        Endpoint::DeleteDiaryBlock => op("Delete a diary block", None, &[(204, None)], &[]),
        Endpoint::ListAppointments => op(
            "The diary: a day's appointments, marked with how they were booked",
            None,
            &[(200, Json("DiaryDay"))],
            &[
                ("date", "Local day, YYYY-MM-DD (default: today)"),
                ("provider_id", "Only this provider"),
                ("location_id", "Only this location"),
            ],
        ),
        Endpoint::CreateAppointment => {
            op("Book an appointment as staff", Json("StaffBookingInput"), &[(201, Json("AppointmentView"))], &[])
        }
        Endpoint::UpdateAppointment => {
            op("Move, edit or cancel an appointment", Json("AppointmentChange"), &[(200, Json("AppointmentView"))], &[])
        }
        Endpoint::PublicCatalog => op("What a clinic offers online", None, &[(200, Json("PublicCatalog"))], &[]),
        Endpoint::Availability => op(
            "Free slots",
            None,
            &[(200, Json("AvailabilityView"))],
            &[
                ("booking_type_id", "The booking type"),
                ("provider_id", "A provider id, or `any` (default)"),
                ("location_id", "A location id, or `any` (default)"),
                ("from", "First local day, YYYY-MM-DD"),
                ("to", "Last local day, YYYY-MM-DD (at most 62 days after `from`)"),
                ("asap", "`true` for the single next free slot"),
            ],
        ),
        Endpoint::CreateBooking => op(
            "Book an appointment (send `Idempotency-Key` to make retries safe)",
            Json("BookingInput"),
            &[(200, Json("BookingConfirmation")), (201, Json("BookingConfirmation"))],
            &[],
        ),
        Endpoint::CreateReferralUpload => op(
            "A signed URL to upload one referral (PDF or image, at most 5 MiB), valid for 15 minutes",
            Json("ReferralUploadInput"),
            &[(201, Json("ReferralUploadView"))],
            &[],
        ),
        Endpoint::BookingPage => op(
            "The patient's booking pages (HTML)",
            None,
            &[(200, Html)],
            &[
                ("type", "Chosen booking type"),
                ("provider", "Chosen provider or `any`"),
                ("location", "Chosen location or `any`"),
                ("day", "First day shown"),
                ("time", "Chosen time, or `asap`"),
                ("lang", "`en` or `fr`"),
            ],
        ),
        Endpoint::SubmitBookingPage => {
            op("Confirm a booking from the details form (HTML)", Form, &[(201, Html), (409, Html), (422, Html)], &[])
        }
        Endpoint::CreateBroadcastRule => op(
            "Create a broadcast rule: what a booking link books and what its pages and SMS say",
            Json("BroadcastRuleInput"),
            &[(201, Json("BroadcastRuleView"))],
            &[],
        ),
        Endpoint::ListBroadcastRules => op(
            "List broadcast rules by title",
            None,
            &[(200, Json("BroadcastRuleList"))],
            &[("search", "Only rules whose title contains this text (any case)")],
        ),
        Endpoint::ReplaceBroadcastRule => {
            op("Replace a broadcast rule", Json("BroadcastRuleInput"), &[(200, Json("BroadcastRuleView"))], &[])
        }
        Endpoint::SendBookingLink => op(
            "Create a single-use booking link and text it to the patient; the answer shows the URL once",
            Json("SendLinkInput"),
            &[(201, Json("LinkSent"))],
            &[],
        ),
        Endpoint::ExpireBookingLink => {
            op("Expire an unused booking link (the patient phoned instead)", None, &[(200, Json("LinkView"))], &[])
        }
        Endpoint::DeleteBookingLink => op("Delete an unused booking link", None, &[(200, Json("LinkView"))], &[]),
        Endpoint::PatientBookingLinks => op(
            "A patient's booking links with their status history and the appointments they booked",
            None,
            &[(200, Json("LinkHistory"))],
            &[],
        ),
        Endpoint::ProviderMessages => {
            op("A provider's staff inbox (reschedules moved to them)", None, &[(200, Json("InboxList"))], &[])
        }
        Endpoint::BookingLinkPage => op(
            "A booking link's pages (HTML): welcome, times, review; a used link shows its confirmation",
            None,
            &[(200, Html), (410, Html)],
            &[
                ("step", "`times` or `review`"),
                ("day", "First day shown"),
                ("time", "Chosen time"),
                ("lang", "`en` or `fr`"),
            ],
        ),
        Endpoint::ConfirmBookingLink => op(
            "Book with a booking link (HTML); the link is used up in the same transaction",
            Form,
            &[(200, Html), (201, Html), (409, Html), (410, Html)],
            &[],
        ),
        Endpoint::CreatePartner => op(
            "Create a partner with the services activated for it",
            Json("PartnerInput"),
            &[(201, Json("PartnerView"))],
            &[],
        ),
        Endpoint::ListPartners => {
            op("List partners (a partner's user sees its own)", None, &[(200, Json("PartnerList"))], &[])
        }
        Endpoint::ReplacePartner => op(
            "Replace a partner's name, contact and activated services",
            Json("PartnerInput"),
            &[(200, Json("PartnerView"))],
            &[],
        ),
        Endpoint::PartnerOffer => op(
            "Qualifications, providers and activated services that may be booked for a partner",
            None,
            &[(200, Json("PartnerOffer"))],
            &[("partner_id", "The partner's code"), ("qualification", "Only providers holding it")],
        ),
        Endpoint::PartnerSlots => op(
            "Free slots of an activated service for a partner (held slots are not offered)",
            None,
            &[(200, Json("PartnerSlots"))],
            &[
                ("partner_id", "The partner's code"),
                ("booking_type_id", "An activated service"),
                ("provider_id", "One provider, or `any` (default)"),
                ("qualification", "Only providers holding it"),
                ("from", "First local day, YYYY-MM-DD"),
                ("to", "Last local day (at most 31 days after `from`)"),
            ],
        ),
        Endpoint::CreatePartnerHold => op(
            "Start a reservation: hold a free slot for 5 minutes",
            Json("HoldInput"),
            &[(201, Json("PartnerHold"))],
            &[],
        ),
        Endpoint::ConfirmPartnerHold => op(
            "Book the held slot for a patient record (410 once the hold has lapsed)",
            Json("ConfirmHoldInput"),
            &[(201, Json("AppointmentView"))],
            &[],
        ),
        Endpoint::ReleasePartnerHold => op("Release a hold at once", None, &[(204, None)], &[]),
        Endpoint::SearchPatients => op(
            "Find patient records by name or reference, or (staff, without `search`) page through every record by reference",
            None,
            &[(200, Json("PatientList"))],
            &[
                ("search", "Name or reference (required for a partner's user)"),
                ("date_of_birth", "YYYY-MM-DD, required with a name for a partner's user"),
                ("limit", "Page size without a search, 1 to 100 (default 50)"),
                ("cursor", "`next_cursor` of the previous page"),
            ],
        ),
        Endpoint::ShowPatient => {
            op("One patient record with its profile", None, &[(200, Json("PatientRecordView"))], &[])
        }
        Endpoint::CreatePatient => op(
            "Add a patient record (409 for a likely duplicate unless `confirm_duplicate`)",
            Json("NewPatientInput"),
            &[(201, Json("PatientView"))],
            &[],
        ),
        Endpoint::Statistics => op(
            "Bookings, cancellations and no-shows per channel, partner, service and provider (JSON or CSV)",
            None,
            &[(200, Json("StatisticsReport"))],
            &[
                ("from", "First UTC day, YYYY-MM-DD (default: 29 days before `to`)"),
                ("to", "Last UTC day (default: today)"),
                ("group_by", "Comma-separated: channel, partner_id, booking_type_id, provider_id (default: all)"),
                ("format", "`json` (default) or `csv`"),
            ],
        ),
        Endpoint::PartnerBookingPage => {
            op("The partner booking staff page (HTML; it calls the admin API with a token)", None, &[(200, Html)], &[])
        }
        Endpoint::PartnerBookingScript => op("The staff page's script", None, &[(200, Script)], &[]),
        Endpoint::CreateOnlineService => op(
            "Create an online service: booking types, providers and access rules",
            Json("OnlineServiceInput"),
            &[(201, Json("OnlineService"))],
            &[],
        ),
        Endpoint::ListOnlineServices => op("List online services", None, &[(200, Json("OnlineServiceList"))], &[]),
        Endpoint::ReplaceOnlineService => op(
            "Replace an online service (name, booking types, providers, rules): visitors see the change at once",
            Json("OnlineServiceInput"),
            &[(200, Json("OnlineService"))],
            &[],
        ),
        Endpoint::DeleteOnlineService => {
            op("Delete an online service: the portal stops offering it", None, &[(204, None)], &[])
        }
        Endpoint::AttachPatient => op(
            "Attach a provisional portal booking to a patient record (audited)",
            Json("AttachPatientInput"),
            &[(200, Json("AppointmentView"))],
            &[],
        ),
        Endpoint::PortalServices => op(
            "The services a visitor may book (identified by name, birth date and contact)",
            Json("Visitor"),
            &[(200, Json("PortalServices"))],
            &[],
        ),
        Endpoint::PortalAvailability => op(
            "Free slots of a service the visitor may book (next 14 days)",
            Json("PortalRequest"),
            &[(200, Json("AvailabilityView"))],
            &[],
        ),
        Endpoint::PortalBooking => op(
            "Book a service; the rules are checked again, and an unidentified visitor's booking carries provisional details",
            Json("PortalRequest"),
            &[(201, Json("PortalBooked"))],
            &[],
        ),
        Endpoint::ListDiarySlots => op(
            "A day's template slots: published online, not yet published (and when), booked online",
            None,
            &[(200, Json("DiarySlots"))],
            &[("date", "Local day, YYYY-MM-DD (default: today)"), ("provider_id", "Only this provider")],
        ),
        Endpoint::PortalPage => op(
            "The patient portal (HTML): identification, then (with the visit cookie) the booking pages' steps over the services the visitor may book",
            None,
            &[(200, Html), (400, Html), (404, Html), (409, Html)],
            &[
                ("service", "Chosen online service"),
                ("type", "Chosen booking type of that service"),
                ("provider", "Chosen provider or `any`"),
                ("location", "Chosen location or `any`"),
                ("day", "First day shown"),
                ("time", "Chosen time, or `asap`"),
                ("with", "The provider shown for the chosen time"),
                ("at", "The location shown for the chosen time"),
                ("lang", "`en` or `fr`"),
            ],
        ),
        Endpoint::SubmitPortalPage => op(
            "The portal's forms (HTML): `identify` (answers 303 with the visit cookie), `book`, `forget` (303, cookie cleared)",
            Form,
            &[(200, Html), (201, Html), (303, None), (400, Html), (404, Html), (409, Html), (422, Html)],
            &[],
        ),
        Endpoint::ManagePage => {
            op("The manage link's verification page (HTML)", None, &[(200, Html), (403, Html)], &[])
        }
        Endpoint::AppointmentMessages => op(
            "Every message about one appointment (confirmation, changes, reminders): channel, template, status and when",
            None,
            &[(200, Json("MessageList"))],
            &[],
        ),
        Endpoint::ListWaitlist => op(
            "The waitlist in joining order: what suits each patient, where each stands, and the offers made",
            None,
            &[(200, Json("WaitlistView"))],
            &[],
        ),
        Endpoint::CreateWaitlistEntry => op(
            "Add a patient to the waitlist; matching freed times are offered in joining order",
            Json("NewEntryInput"),
            &[(201, Json("EntryView"))],
            &[],
        ),
        Endpoint::ChangeWaitlistEntry => {
            op("Replace what suits a waiting patient", Json("WaitlistPreferences"), &[(200, Json("EntryView"))], &[])
        }
        Endpoint::RemoveWaitlistEntry => {
            op("Take a patient off the waitlist (an open offer is withdrawn)", None, &[(204, None)], &[])
        }
        Endpoint::WaitlistJoinPage => op(
            "The waitlist form (HTML): dates, days and time of day that suit, and contact details",
            None,
            &[(200, Html)],
            &[("type", "Booking type id"), ("provider", "Provider id or any"), ("location", "Location id or any")],
        ),
        Endpoint::SubmitWaitlistJoin => {
            op("Join the waitlist (HTML form)", Form, &[(201, Html), (404, Html), (422, Html)], &[])
        }
        Endpoint::WaitlistOfferPage => op(
            "A waitlist offer (HTML): the time, and whether it can still be taken",
            None,
            &[(200, Html), (404, Html)],
            &[],
        ),
        Endpoint::SubmitWaitlistOffer => op(
            "Take a waitlist offer (the first to confirm gets the time) or say no (HTML form)",
            Form,
            &[(200, Html), (404, Html), (409, Html)],
            &[],
        ),
        Endpoint::FlaggedMessages => op(
            "Messages that failed for good or whose fate is unknown, newest first, for staff to follow up",
            None,
            &[(200, Json("MessageList"))],
            &[],
        ),
        Endpoint::PatientAppointments => op(
            "A patient's appointments, any channel, past and future",
            None,
            &[(200, Json("PatientAppointments"))],
            &[],
        ),
        Endpoint::GetAppointmentSettings => op(
            "The clinic's appointment settings: reminders, online change cutoff, rescheduling, phone",
            None,
            &[(200, Json("LifecycleSettingsView"))],
            &[],
        ),
        Endpoint::PutAppointmentSettings => op(
            "Change the appointment settings (absent fields stay as they are)",
            Json("LifecycleSettingsInput"),
            &[(200, Json("LifecycleSettingsView"))],
            &[],
        ),
        Endpoint::SubmitManagePage => op(
            "Verify (date of birth), then see, reschedule or cancel the appointment (HTML)",
            Form,
            &[(200, Html), (401, Html), (403, Html), (409, Html), (422, Html)],
            &[],
        ),
        Endpoint::CreateConnectTemplate => op(
            "Create a Patient Connect template (SMS, email or letter); unknown merge fields are refused here",
            Json("MessageTemplateInput"),
            &[(201, Json("MessageTemplateView"))],
            &[],
        ),
        Endpoint::ListConnectTemplates => {
            op("List Patient Connect templates", None, &[(200, Json("MessageTemplateList"))], &[])
        }
        Endpoint::ReplaceConnectTemplate => op(
            "Replace a template (its kind stays as created)",
            Json("MessageTemplateInput"),
            &[(200, Json("MessageTemplateView"))],
            &[],
        ),
        Endpoint::CreateConnectProgram => op(
            "Create a Patient Connect program (its type is fixed from now on)",
            Json("ConnectProgram"),
            &[(201, Json("ProgramView"))],
            &[],
        ),
        Endpoint::ListConnectPrograms => op("List Patient Connect programs", None, &[(200, Json("ProgramList"))], &[]),
        Endpoint::ReplaceConnectProgram => op(
            "Replace a program: name, cycles, frequency, actions, completing bookings, enabled (not its type)",
            Json("ConnectProgram"),
            &[(200, Json("ProgramView"))],
            &[],
        ),
        Endpoint::ProgramEnrollments => op(
            "A program's enrollments, newest first, with each action's outcome and what is due next",
            None,
            &[(200, Json("EnrollmentList"))],
            &[],
        ),
        Endpoint::CreateEnrollment => op(
            "Enroll a patient in an enabled program with its reference date; the first action is scheduled",
            Json("EnrollInput"),
            &[(201, Json("EnrollmentView"))],
            &[],
        ),
        Endpoint::ShowEnrollment => op(
            "One enrollment: outcomes (sent with message id, failed with why, skipped, paused), replies, due next",
            None,
            &[(200, Json("EnrollmentView"))],
            &[],
        ),
        Endpoint::AdvanceEnrollment => op(
            "Advance an enrollment waiting at a pause (or paused by an error) to its next action",
            None,
            &[(200, Json("EnrollmentView"))],
            &[],
        ),
        Endpoint::PatientEnrollments => {
            op("A patient's enrollments, newest first", None, &[(200, Json("EnrollmentList"))], &[])
        }
        Endpoint::ConnectFollowUps => op(
            "Patients flagged for follow-up: enrollments paused by a failed action",
            None,
            &[(200, Json("FollowUpList"))],
            &[],
        ),
        Endpoint::DistributionList => op(
            "Letters to post (Mail), or every letter",
            None,
            &[(200, Json("DistributionList"))],
            &[("status", "`to_post` (default) or `all`")],
        ),
        Endpoint::MarkLetterPosted => op("Mark a letter posted", None, &[(200, Json("LetterView"))], &[]),
        Endpoint::LetterPdf => op("A letter's PDF", None, &[(200, Pdf)], &[]),
        Endpoint::AddReferral => op(
            "Record a referral: the patient enters every enabled Referral program until they book",
            Json("ReferralInput"),
            &[(201, Json("ReferralAdded"))],
            &[],
        ),
    }
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn content_of(content: Content) -> Option<Value> {
    match content {
        Content::None => None,
        Content::Json(name) => Some(json!({"application/json": {"schema": schema_ref(name)}})),
        Content::AnyJson => Some(json!({"application/json": {}})),
        Content::Html => Some(json!({"text/html": {"schema": {"type": "string"}}})),
        Content::Form => Some(json!({"application/x-www-form-urlencoded": {"schema": {"type": "object"}}})),
        Content::Script => Some(json!({"text/javascript": {"schema": {"type": "string"}}})),
        Content::Pdf => Some(json!({"application/pdf": {"schema": {"type": "string", "format": "binary"}}})),
        Content::Image => Some(json!({
            "image/png": {"schema": {"type": "string", "format": "binary"}},
            "image/jpeg": {"schema": {"type": "string", "format": "binary"}}
        })),
    }
}

fn path_item_operation(route: &crate::routes::Route) -> Value {
    let spec = operation(route.endpoint);
    let mut parameters: Vec<Value> = route
        .path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    parameters.extend(
        spec.query.iter().map(|(name, description)| json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}})),
    );
    let mut responses = Map::new();
    for (status, content) in spec.success {
        let description = if *status < 300 { "Success" } else { "The form again, with the problem shown" };
        let mut response = json!({ "description": description });
        if let Some(content) = content_of(*content) {
            response["content"] = content;
        }
        responses.insert(status.to_string(), response);
    }
    let problem = json!({"application/problem+json": {"schema": schema_ref("Problem")}});
    let mut errors: Vec<(u16, &str)> =
        vec![(400, "Malformed request"), (404, "Not found"), (503, "Temporarily unavailable")];
    if route.access == Access::Admin {
        errors.extend([(401, "No valid admin token"), (403, "Token lacks this clinic or permission")]);
    }
    let static_route = route.path == "/health" || route.path == "/openapi.json" || route.path.starts_with("/staff/");
    if route.access == Access::Public && !static_route {
        errors.push((429, "Too many requests from this address (see `Retry-After`)"));
    }
    if matches!(spec.request, Content::Json(_)) {
        errors.extend([
            (409, "Conflict with the current state"),
            (413, "Body too large"),
            (415, "Not JSON"),
            (422, "Invalid field values"),
        ]);
    }
    for (status, description) in errors {
        responses.entry(status.to_string()).or_insert_with(|| json!({"description": description, "content": problem}));
    }
    let mut operation = json!({
        "operationId": format!("{:?}", route.endpoint),
        "summary": spec.summary,
        "tags": [route.function],
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(content) = content_of(spec.request) {
        operation["requestBody"] = json!({"required": true, "content": content});
    }
    if route.access == Access::Admin {
        operation["security"] = json!([{"adminJwt": []}]);
    }
    operation
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let entry = paths.entry(route.path.to_owned()).or_insert_with(|| json!({}));
        entry[route.method.to_ascii_lowercase()] = path_item_operation(route);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Clinic online booking",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Admin routes need a JWT whose `clinics` claim names the clinic and whose `permissions` claim holds the permission. Errors are RFC 9457 problem documents."
        },
        "paths": paths,
        "components": {
            "schemas": components(),
            "securitySchemes": {"adminJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_referenced_schema_is_defined() {
        let document = document();
        let text = document.to_string();
        let schemas = document["components"]["schemas"].as_object().unwrap();
        for reference in text.split("#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "{name} is referenced but not defined");
        }
    }
}
