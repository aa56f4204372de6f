//! The route table: one source of truth for which function serves which method and path. The
//! SAM template, the local server and the OpenAPI document are checked against it by tests.

use lambda_http::{Body, Request, Response};
use tracing::Instrument;

use crate::app::AppState;
use crate::features::{
    activity, appointment_lifecycle, booking_links, catalog, clinic_logo, clinics, diary, meta, online_services,
    partners, patient_connect, patients, self_booking, statistics,
};
use crate::http::Problem;
use crate::http::request::{request_id, route_key};
use crate::http::response::respond;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (patients, health checks).
    Public,
    /// Staff with a JWT (validated by the API's JWT authorizer).
    Admin,
}

/// Every endpoint the product serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// Liveness.
    Health,
    /// The OpenAPI document.
    OpenApi,
    /// Create or update a clinic's profile.
    PutClinic,
    /// Read a clinic's profile.
    GetClinic,
    /// Upload the clinic's logo (pages and letters).
    PutClinicLogo,
    /// The clinic's uploaded logo, for patients' pages.
    ClinicLogo,
    /// Create a booking type.
    CreateBookingType,
    /// List a clinic's booking types.
    ListBookingTypes,
    /// Change a booking type, now or at a set time.
    UpdateBookingType,
    /// A booking type's audit history.
    BookingTypeHistory,
    /// Create a location.
    CreateLocation,
    /// List locations.
    ListLocations,
    /// Change a location.
    UpdateLocation,
    /// Create a provider.
    CreateProvider,
    /// List providers.
    ListProviders,
    /// Change a provider.
    UpdateProvider,
    /// Read the online settings and the public booking URL.
    GetOnlineSettings,
    /// Change the online settings; switch online booking on or off.
    PutOnlineSettings,
    /// A clinic's daily activity counters.
    ClinicActivity,
    /// Create a diary template.
    CreateDiaryTemplate,
    /// List diary templates.
    ListDiaryTemplates,
    /// Delete a diary template.
    DeleteDiaryTemplate,
    /// Create a diary block.
    CreateDiaryBlock,
    /// List diary blocks.
    ListDiaryBlocks,
    /// Delete a diary block.
    DeleteDiaryBlock,
    /// The diary: appointments of a day.
    ListAppointments,
    /// Staff book an appointment.
    CreateAppointment,
    /// Staff move, edit or cancel an appointment.
    UpdateAppointment,
    /// Every message about one appointment, with its status.
    AppointmentMessages,
    /// Messages that failed or whose fate is unknown, for staff to follow up.
    FlaggedMessages,
    /// `GET /admin/clinics/{clinicId}/waitlist`
    ListWaitlist,
    /// `POST /admin/clinics/{clinicId}/waitlist`
    CreateWaitlistEntry,
    /// `PUT /admin/clinics/{clinicId}/waitlist/{entryId}/preferences`
    ChangeWaitlistEntry,
    /// `DELETE /admin/clinics/{clinicId}/waitlist/{entryId}`
    RemoveWaitlistEntry,
    /// `GET /book/{clinicId}/waitlist`
    WaitlistJoinPage,
    /// `POST /book/{clinicId}/waitlist`
    SubmitWaitlistJoin,
    /// `GET /waitlist/{token}`
    WaitlistOfferPage,
    /// `POST /waitlist/{token}`
    SubmitWaitlistOffer,
    /// A patient's appointments, any channel.
    PatientAppointments,
    /// Read the clinic's appointment settings (reminders, online changes).
    GetAppointmentSettings,
    /// Change the clinic's appointment settings.
    PutAppointmentSettings,
    /// The public catalogue.
    PublicCatalog,
    /// Free slots.
    Availability,
    /// A patient books.
    CreateBooking,
    /// A signed URL to upload a referral.
    CreateReferralUpload,
    /// The patient's booking pages.
    BookingPage,
    /// The booking pages' confirm form.
    SubmitBookingPage,
    /// Create a broadcast rule (a kind of booking link).
    CreateBroadcastRule,
    /// List (search) broadcast rules.
    ListBroadcastRules,
    /// Replace a broadcast rule.
    ReplaceBroadcastRule,
    /// Send a booking link by SMS.
    SendBookingLink,
    /// Expire an unused booking link.
    ExpireBookingLink,
    /// Delete an unused booking link.
    DeleteBookingLink,
    /// A patient's booking-link history.
    PatientBookingLinks,
    /// A provider's staff inbox.
    ProviderMessages,
    /// A booking link's pages.
    BookingLinkPage,
    /// A booking link's confirm form.
    ConfirmBookingLink,
    /// The manage link's pages.
    ManagePage,
    /// The manage link's forms (verify, reschedule).
    SubmitManagePage,
    /// Create a partner.
    CreatePartner,
    /// List partners.
    ListPartners,
    /// Replace a partner (name, contact, activated services).
    ReplacePartner,
    /// What may be booked for a partner.
    PartnerOffer,
    /// Free slots for a partner.
    PartnerSlots,
    /// Hold a slot for a partner booking.
    CreatePartnerHold,
    /// Confirm a held slot for a patient.
    ConfirmPartnerHold,
    /// Release a hold.
    ReleasePartnerHold,
    /// Find patient records.
    SearchPatients,
    /// One patient record with its profile.
    ShowPatient,
    /// Add a patient record.
    CreatePatient,
    /// Booking statistics.
    Statistics,
    /// The partner booking staff page.
    PartnerBookingPage,
    /// Its script.
    PartnerBookingScript,
    /// Create an online service.
    CreateOnlineService,
    /// List online services.
    ListOnlineServices,
    /// Replace an online service.
    ReplaceOnlineService,
    /// Delete an online service.
    DeleteOnlineService,
    /// Attach a provisional booking to a patient record.
    AttachPatient,
    /// The portal: services a visitor may book.
    PortalServices,
    /// The portal: free slots of a service.
    PortalAvailability,
    /// The portal: book a service.
    PortalBooking,
    /// A day's diary slots, marked published, not yet published or booked online.
    ListDiarySlots,
    /// The portal's identification page.
    PortalPage,
    /// The portal's forms.
    SubmitPortalPage,
    /// Create a Patient Connect template.
    CreateConnectTemplate,
    /// List Patient Connect templates.
    ListConnectTemplates,
    /// Replace a Patient Connect template.
    ReplaceConnectTemplate,
    /// Create a Patient Connect program.
    CreateConnectProgram,
    /// List Patient Connect programs.
    ListConnectPrograms,
    /// Replace a Patient Connect program (its type stays).
    ReplaceConnectProgram,
    /// A program's enrollments.
    ProgramEnrollments,
    /// Enroll a patient in a program.
    CreateEnrollment,
    /// One enrollment with its outcomes.
    ShowEnrollment,
    /// Advance a paused enrollment.
    AdvanceEnrollment,
    /// A patient's enrollments.
    PatientEnrollments,
    /// Enrollments paused by errors.
    ConnectFollowUps,
    /// Letters to post.
    DistributionList,
    /// Mark a letter posted.
    MarkLetterPosted,
    /// A letter's PDF.
    LetterPdf,
    /// Record a referral (enters the Referral programs).
    AddReferral,
}

/// One route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path template in API Gateway syntax.
    pub path: &'static str,
    /// The Lambda function (folder under `functions/`) that serves it.
    pub function: &'static str,
    /// Who may call it.
    pub access: Access,
    /// What it does.
    pub endpoint: Endpoint,
}

impl Route {
    /// The API Gateway route key, e.g. `GET /health`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

const fn route(
    method: &'static str,
    path: &'static str,
    function: &'static str,
    access: Access,
    endpoint: Endpoint,
) -> Route {
    Route { method, path, function, access, endpoint }
}

/// Every route.
pub const ROUTES: &[Route] = &[
    route("GET", "/health", "meta", Access::Public, Endpoint::Health),
    route("GET", "/openapi.json", "meta", Access::Public, Endpoint::OpenApi),
    route("PUT", "/admin/clinics/{clinicId}", CATALOG_ADMIN, Access::Admin, Endpoint::PutClinic),
    route("GET", "/admin/clinics/{clinicId}", CATALOG_ADMIN, Access::Admin, Endpoint::GetClinic),
    route("PUT", "/admin/clinics/{clinicId}/logo", CATALOG_ADMIN, Access::Admin, Endpoint::PutClinicLogo),
    route("POST", "/admin/clinics/{clinicId}/booking-types", CATALOG_ADMIN, Access::Admin, Endpoint::CreateBookingType),
    route("GET", "/admin/clinics/{clinicId}/booking-types", CATALOG_ADMIN, Access::Admin, Endpoint::ListBookingTypes),
    route(
        "PATCH",
        "/admin/clinics/{clinicId}/booking-types/{bookingTypeId}",
        CATALOG_ADMIN,
        Access::Admin,
        Endpoint::UpdateBookingType,
    ),
    route(
        "GET",
        "/admin/clinics/{clinicId}/booking-types/{bookingTypeId}/history",
        CATALOG_ADMIN,
        Access::Admin,
        Endpoint::BookingTypeHistory,
    ),
    route("POST", "/admin/clinics/{clinicId}/locations", CATALOG_ADMIN, Access::Admin, Endpoint::CreateLocation),
    route("GET", "/admin/clinics/{clinicId}/locations", CATALOG_ADMIN, Access::Admin, Endpoint::ListLocations),
    route(
        "PATCH",
        "/admin/clinics/{clinicId}/locations/{locationId}",
        CATALOG_ADMIN,
        Access::Admin,
        Endpoint::UpdateLocation,
    ),
    route("POST", "/admin/clinics/{clinicId}/providers", CATALOG_ADMIN, Access::Admin, Endpoint::CreateProvider),
    route("GET", "/admin/clinics/{clinicId}/providers", CATALOG_ADMIN, Access::Admin, Endpoint::ListProviders),
    route(
        "PATCH",
        "/admin/clinics/{clinicId}/providers/{providerId}",
        CATALOG_ADMIN,
        Access::Admin,
        Endpoint::UpdateProvider,
    ),
    route(
        "GET",
        "/admin/clinics/{clinicId}/online-settings",
        CATALOG_ADMIN,
        Access::Admin,
        Endpoint::GetOnlineSettings,
    ),
    route(
        "PUT",
        "/admin/clinics/{clinicId}/online-settings",
        CATALOG_ADMIN,
        Access::Admin,
        Endpoint::PutOnlineSettings,
    ),
    route("GET", "/admin/clinics/{clinicId}/activity", CATALOG_ADMIN, Access::Admin, Endpoint::ClinicActivity),
    route(
        "POST",
        "/admin/clinics/{clinicId}/diary-templates",
        DIARY_ADMIN,
        Access::Admin,
        Endpoint::CreateDiaryTemplate,
    ),
    route("GET", "/admin/clinics/{clinicId}/diary-templates", DIARY_ADMIN, Access::Admin, Endpoint::ListDiaryTemplates),
    route(
        "DELETE",
        "/admin/clinics/{clinicId}/diary-templates/{templateId}",
        DIARY_ADMIN,
        Access::Admin,
        Endpoint::DeleteDiaryTemplate,
    ),
    route("POST", "/admin/clinics/{clinicId}/diary-blocks", DIARY_ADMIN, Access::Admin, Endpoint::CreateDiaryBlock),
    route("GET", "/admin/clinics/{clinicId}/diary-blocks", DIARY_ADMIN, Access::Admin, Endpoint::ListDiaryBlocks),
    route(
        "DELETE",
        "/admin/clinics/{clinicId}/diary-blocks/{blockId}",
        DIARY_ADMIN,
        Access::Admin,
        Endpoint::DeleteDiaryBlock,
    ),
    route("GET", "/admin/clinics/{clinicId}/appointments", DIARY_ADMIN, Access::Admin, Endpoint::ListAppointments),
    route("POST", "/admin/clinics/{clinicId}/appointments", DIARY_ADMIN, Access::Admin, Endpoint::CreateAppointment),
    route(
        "PATCH",
        "/admin/clinics/{clinicId}/appointments/{appointmentId}",
        DIARY_ADMIN,
        Access::Admin,
        Endpoint::UpdateAppointment,
    ),
    route(
        "GET",
        "/admin/clinics/{clinicId}/appointments/{appointmentId}/messages",
        DIARY_ADMIN,
        Access::Admin,
        Endpoint::AppointmentMessages,
    ),
    route("GET", "/admin/clinics/{clinicId}/message-flags", DIARY_ADMIN, Access::Admin, Endpoint::FlaggedMessages),
    route("GET", "/admin/clinics/{clinicId}/waitlist", DIARY_ADMIN, Access::Admin, Endpoint::ListWaitlist),
    route("POST", "/admin/clinics/{clinicId}/waitlist", DIARY_ADMIN, Access::Admin, Endpoint::CreateWaitlistEntry),
    route(
        "PUT",
        "/admin/clinics/{clinicId}/waitlist/{entryId}/preferences",
        DIARY_ADMIN,
        Access::Admin,
        Endpoint::ChangeWaitlistEntry,
    ),
    route(
        "DELETE",
        "/admin/clinics/{clinicId}/waitlist/{entryId}",
        DIARY_ADMIN,
        Access::Admin,
        Endpoint::RemoveWaitlistEntry,
    ),
    route(
        "GET",
        "/admin/clinics/{clinicId}/patients/{patientReference}/appointments",
        DIARY_ADMIN,
        Access::Admin,
        Endpoint::PatientAppointments,
    ),
    route(
        "GET",
        "/admin/clinics/{clinicId}/appointment-settings",
        CATALOG_ADMIN,
        Access::Admin,
        Endpoint::GetAppointmentSettings,
    ),
    route(
        "PUT",
        "/admin/clinics/{clinicId}/appointment-settings",
        CATALOG_ADMIN,
        Access::Admin,
        Endpoint::PutAppointmentSettings,
    ),
    route("GET", "/public/clinics/{clinicId}/catalog", "catalog-public", Access::Public, Endpoint::PublicCatalog),
    route("GET", "/public/clinics/{clinicId}/availability", BOOKING_PUBLIC, Access::Public, Endpoint::Availability),
    route("POST", "/public/clinics/{clinicId}/bookings", BOOKING_PUBLIC, Access::Public, Endpoint::CreateBooking),
    route(
        "POST",
        "/public/clinics/{clinicId}/referral-uploads",
        BOOKING_PUBLIC,
        Access::Public,
        Endpoint::CreateReferralUpload,
    ),
    route("GET", "/book/{clinicId}", BOOKING_PUBLIC, Access::Public, Endpoint::BookingPage),
    route("POST", "/book/{clinicId}", BOOKING_PUBLIC, Access::Public, Endpoint::SubmitBookingPage),
    route("GET", "/book/{clinicId}/waitlist", BOOKING_PUBLIC, Access::Public, Endpoint::WaitlistJoinPage),
    route("GET", "/book/{clinicId}/logo", BOOKING_PUBLIC, Access::Public, Endpoint::ClinicLogo),
    route("POST", "/book/{clinicId}/waitlist", BOOKING_PUBLIC, Access::Public, Endpoint::SubmitWaitlistJoin),
    route(
        "POST",
        "/admin/clinics/{clinicId}/broadcast-rules",
        LINKS_ADMIN,
        Access::Admin,
        Endpoint::CreateBroadcastRule,
    ),
    route("GET", "/admin/clinics/{clinicId}/broadcast-rules", LINKS_ADMIN, Access::Admin, Endpoint::ListBroadcastRules),
    route(
        "PUT",
        "/admin/clinics/{clinicId}/broadcast-rules/{ruleId}",
        LINKS_ADMIN,
        Access::Admin,
        Endpoint::ReplaceBroadcastRule,
    ),
    route("POST", "/admin/clinics/{clinicId}/booking-links", LINKS_ADMIN, Access::Admin, Endpoint::SendBookingLink),
    route(
        "POST",
        "/admin/clinics/{clinicId}/booking-links/{linkId}/expire",
        LINKS_ADMIN,
        Access::Admin,
        Endpoint::ExpireBookingLink,
    ),
    route(
        "DELETE",
        "/admin/clinics/{clinicId}/booking-links/{linkId}",
        LINKS_ADMIN,
        Access::Admin,
        Endpoint::DeleteBookingLink,
    ),
    route(
        "GET",
        "/admin/clinics/{clinicId}/patients/{patientReference}/booking-links",
        LINKS_ADMIN,
        Access::Admin,
        Endpoint::PatientBookingLinks,
    ),
    route(
        "GET",
        "/admin/clinics/{clinicId}/providers/{providerId}/messages",
        LINKS_ADMIN,
        Access::Admin,
        Endpoint::ProviderMessages,
    ),
    route("GET", "/links/{token}", LINKS_PUBLIC, Access::Public, Endpoint::BookingLinkPage),
    route("POST", "/links/{token}", LINKS_PUBLIC, Access::Public, Endpoint::ConfirmBookingLink),
    route("GET", "/manage/{token}", LINKS_PUBLIC, Access::Public, Endpoint::ManagePage),
    route("POST", "/manage/{token}", LINKS_PUBLIC, Access::Public, Endpoint::SubmitManagePage),
    route("GET", "/waitlist/{token}", LINKS_PUBLIC, Access::Public, Endpoint::WaitlistOfferPage),
    route("POST", "/waitlist/{token}", LINKS_PUBLIC, Access::Public, Endpoint::SubmitWaitlistOffer),
    route("POST", "/admin/clinics/{clinicId}/partners", PARTNER_ADMIN, Access::Admin, Endpoint::CreatePartner),
    route("GET", "/admin/clinics/{clinicId}/partners", PARTNER_ADMIN, Access::Admin, Endpoint::ListPartners),
    route(
        "PUT",
        "/admin/clinics/{clinicId}/partners/{partnerId}",
        PARTNER_ADMIN,
        Access::Admin,
        Endpoint::ReplacePartner,
    ),
    route("GET", "/admin/clinics/{clinicId}/partner-booking", PARTNER_ADMIN, Access::Admin, Endpoint::PartnerOffer),
    route(
        "GET",
        "/admin/clinics/{clinicId}/partner-booking/slots",
        PARTNER_ADMIN,
        Access::Admin,
        Endpoint::PartnerSlots,
    ),
    route("POST", "/admin/clinics/{clinicId}/partner-holds", PARTNER_ADMIN, Access::Admin, Endpoint::CreatePartnerHold),
    route(
        "POST",
        "/admin/clinics/{clinicId}/partner-holds/{holdId}/confirm",
        PARTNER_ADMIN,
        Access::Admin,
        Endpoint::ConfirmPartnerHold,
    ),
    route(
        "DELETE",
        "/admin/clinics/{clinicId}/partner-holds/{holdId}",
        PARTNER_ADMIN,
        Access::Admin,
        Endpoint::ReleasePartnerHold,
    ),
    route("GET", "/admin/clinics/{clinicId}/patients", DIARY_ADMIN, Access::Admin, Endpoint::SearchPatients),
    route(
        "GET",
        "/admin/clinics/{clinicId}/patients/{patientReference}",
        DIARY_ADMIN,
        Access::Admin,
        Endpoint::ShowPatient,
    ),
    route("POST", "/admin/clinics/{clinicId}/patients", DIARY_ADMIN, Access::Admin, Endpoint::CreatePatient),
    route("GET", "/admin/clinics/{clinicId}/statistics", DIARY_ADMIN, Access::Admin, Endpoint::Statistics),
    route("GET", "/staff/partner-booking", PARTNER_ADMIN, Access::Public, Endpoint::PartnerBookingPage),
    route("GET", "/staff/partner-booking.js", PARTNER_ADMIN, Access::Public, Endpoint::PartnerBookingScript),
    route(
        "POST",
        "/admin/clinics/{clinicId}/online-services",
        CATALOG_ADMIN,
        Access::Admin,
        Endpoint::CreateOnlineService,
    ),
    route(
        "GET",
        "/admin/clinics/{clinicId}/online-services",
        CATALOG_ADMIN,
        Access::Admin,
        Endpoint::ListOnlineServices,
    ),
    route(
        "PUT",
        "/admin/clinics/{clinicId}/online-services/{serviceId}",
        CATALOG_ADMIN,
        Access::Admin,
        Endpoint::ReplaceOnlineService,
    ),
    route(
        "DELETE",
        "/admin/clinics/{clinicId}/online-services/{serviceId}",
        CATALOG_ADMIN,
        Access::Admin,
        Endpoint::DeleteOnlineService,
    ),
    route(
        "POST",
        "/admin/clinics/{clinicId}/appointments/{appointmentId}/attach-patient",
        DIARY_ADMIN,
        Access::Admin,
        Endpoint::AttachPatient,
    ),
    route(
        "POST",
        "/public/clinics/{clinicId}/portal/services",
        BOOKING_PUBLIC,
        Access::Public,
        Endpoint::PortalServices,
    ),
    route(
        "POST",
        "/public/clinics/{clinicId}/portal/availability",
        BOOKING_PUBLIC,
        Access::Public,
        Endpoint::PortalAvailability,
    ),
    route(
        "POST",
        "/public/clinics/{clinicId}/portal/bookings",
        BOOKING_PUBLIC,
        Access::Public,
        Endpoint::PortalBooking,
    ),
    route("GET", "/admin/clinics/{clinicId}/diary-slots", DIARY_ADMIN, Access::Admin, Endpoint::ListDiarySlots),
    route("GET", "/portal/{clinicId}", BOOKING_PUBLIC, Access::Public, Endpoint::PortalPage),
    route("POST", "/portal/{clinicId}", BOOKING_PUBLIC, Access::Public, Endpoint::SubmitPortalPage),
    route(
        "POST",
        "/admin/clinics/{clinicId}/connect-templates",
        CONNECT_ADMIN,
        Access::Admin,
        Endpoint::CreateConnectTemplate,
    ),
    route(
        "GET",
        "/admin/clinics/{clinicId}/connect-templates",
        CONNECT_ADMIN,
        Access::Admin,
        Endpoint::ListConnectTemplates,
    ),
    route(
        "PUT",
        "/admin/clinics/{clinicId}/connect-templates/{templateId}",
        CONNECT_ADMIN,
        Access::Admin,
        Endpoint::ReplaceConnectTemplate,
    ),
    route(
        "POST",
        "/admin/clinics/{clinicId}/connect-programs",
        CONNECT_ADMIN,
        Access::Admin,
        Endpoint::CreateConnectProgram,
    ),
    route(
        "GET",
        "/admin/clinics/{clinicId}/connect-programs",
        CONNECT_ADMIN,
        Access::Admin,
        Endpoint::ListConnectPrograms,
    ),
    route(
        "PUT",
        "/admin/clinics/{clinicId}/connect-programs/{programId}",
        CONNECT_ADMIN,
        Access::Admin,
        Endpoint::ReplaceConnectProgram,
    ),
    route(
        "GET",
        "/admin/clinics/{clinicId}/connect-programs/{programId}/enrollments",
        CONNECT_ADMIN,
        Access::Admin,
        Endpoint::ProgramEnrollments,
    ),
    route(
        "POST",
        "/admin/clinics/{clinicId}/connect-enrollments",
        CONNECT_ADMIN,
        Access::Admin,
        Endpoint::CreateEnrollment,
    ),
    route(
        "GET",
        "/admin/clinics/{clinicId}/connect-enrollments/{enrollmentId}",
        CONNECT_ADMIN,
        Access::Admin,
        Endpoint::ShowEnrollment,
    ),
    route(
        "POST",
        "/admin/clinics/{clinicId}/connect-enrollments/{enrollmentId}/advance",
        CONNECT_ADMIN,
        Access::Admin,
        Endpoint::AdvanceEnrollment,
    ),
    route(
        "GET",
        "/admin/clinics/{clinicId}/patients/{patientReference}/connect-enrollments",
        CONNECT_ADMIN,
        Access::Admin,
        Endpoint::PatientEnrollments,
    ),
    route(
        "GET",
        "/admin/clinics/{clinicId}/connect-follow-ups",
        CONNECT_ADMIN,
        Access::Admin,
        Endpoint::ConnectFollowUps,
    ),
    route(
        "GET",
        "/admin/clinics/{clinicId}/distribution-list",
        CONNECT_ADMIN,
        Access::Admin,
        Endpoint::DistributionList,
    ),
    route(
        "POST",
        "/admin/clinics/{clinicId}/distribution-list/{letterId}/posted",
        CONNECT_ADMIN,
        Access::Admin,
        Endpoint::MarkLetterPosted,
    ),
    route("GET", "/admin/clinics/{clinicId}/letters/{letterId}", CONNECT_ADMIN, Access::Admin, Endpoint::LetterPdf),
    route(
        "POST",
        "/admin/clinics/{clinicId}/patients/{patientReference}/referrals",
        CONNECT_ADMIN,
        Access::Admin,
        Endpoint::AddReferral,
    ),
];

const CATALOG_ADMIN: &str = "catalog-admin";
const DIARY_ADMIN: &str = "diary-admin";
const BOOKING_PUBLIC: &str = "booking-public";
const LINKS_ADMIN: &str = "booking-links-admin";
const LINKS_PUBLIC: &str = "booking-links-public";
const PARTNER_ADMIN: &str = "partner-booking-admin";
const CONNECT_ADMIN: &str = "patient-connect-admin";

/// Runs the endpoint's handler.
pub async fn dispatch(state: &AppState, endpoint: Endpoint, request: Request) -> Response<Body> {
    use crate::domain::booking_type::BookingType;
    use crate::domain::location::Location;
    use crate::domain::provider::Provider;
    use catalog::admin;
    let request = &request;
    respond(match endpoint {
        Endpoint::Health => meta::health(state, request).await,
        Endpoint::OpenApi => meta::openapi(state, request).await,
        Endpoint::PutClinic => clinics::put_clinic(state, request).await,
        Endpoint::GetClinic => clinics::get_clinic(state, request).await,
        Endpoint::PutClinicLogo => clinic_logo::put_logo(state, request).await,
        Endpoint::ClinicLogo => clinic_logo::get_logo(state, request).await,
        Endpoint::CreateBookingType => admin::create::<BookingType>(state, request).await,
        Endpoint::ListBookingTypes => admin::list::<BookingType>(state, request).await,
        Endpoint::UpdateBookingType => admin::update_booking_type(state, request).await,
        Endpoint::BookingTypeHistory => admin::booking_type_history(state, request).await,
        Endpoint::CreateLocation => admin::create::<Location>(state, request).await,
        Endpoint::ListLocations => admin::list::<Location>(state, request).await,
        Endpoint::UpdateLocation => admin::update::<Location>(state, request).await,
        Endpoint::CreateProvider => admin::create::<Provider>(state, request).await,
        Endpoint::ListProviders => admin::list::<Provider>(state, request).await,
        Endpoint::UpdateProvider => admin::update::<Provider>(state, request).await,
        Endpoint::GetOnlineSettings => catalog::settings::get(state, request).await,
        Endpoint::PutOnlineSettings => catalog::settings::put(state, request).await,
        Endpoint::ClinicActivity => activity::list(state, request).await,
        Endpoint::CreateDiaryTemplate => diary::schedule::create_template(state, request).await,
        Endpoint::ListDiaryTemplates => diary::schedule::list_templates(state, request).await,
        Endpoint::DeleteDiaryTemplate => diary::schedule::delete_template(state, request).await,
        Endpoint::CreateDiaryBlock => diary::schedule::create_block(state, request).await,
        Endpoint::ListDiaryBlocks => diary::schedule::list_blocks(state, request).await,
        Endpoint::DeleteDiaryBlock => diary::schedule::delete_block(state, request).await,
        Endpoint::ListAppointments => diary::appointments::list(state, request).await,
        Endpoint::CreateAppointment => diary::appointments::create(state, request).await,
        Endpoint::UpdateAppointment => diary::appointments::update(state, request).await,
        Endpoint::PublicCatalog => catalog::public::catalog(state, request).await,
        Endpoint::Availability => self_booking::api::availability(state, request).await,
        Endpoint::CreateBooking => self_booking::api::create(state, request).await,
        Endpoint::CreateReferralUpload => self_booking::api::create_referral_upload(state, request).await,
        Endpoint::BookingPage => self_booking::pages::page(state, request).await,
        Endpoint::SubmitBookingPage => self_booking::pages::submit(state, request).await,
        Endpoint::CreateBroadcastRule => booking_links::admin::create_rule(state, request).await,
        Endpoint::ListBroadcastRules => booking_links::admin::list_rules(state, request).await,
        Endpoint::ReplaceBroadcastRule => booking_links::admin::replace_rule(state, request).await,
        Endpoint::SendBookingLink => booking_links::admin::send(state, request).await,
        Endpoint::ExpireBookingLink => booking_links::admin::expire(state, request).await,
        Endpoint::DeleteBookingLink => booking_links::admin::delete(state, request).await,
        Endpoint::PatientBookingLinks => booking_links::admin::history(state, request).await,
        Endpoint::ProviderMessages => booking_links::admin::inbox(state, request).await,
        Endpoint::BookingLinkPage => booking_links::link_pages::show(state, request).await,
        Endpoint::ConfirmBookingLink => booking_links::link_pages::confirm(state, request).await,
        Endpoint::ManagePage => appointment_lifecycle::manage_pages::show(state, request).await,
        Endpoint::SubmitManagePage => appointment_lifecycle::manage_pages::submit(state, request).await,
        Endpoint::AppointmentMessages => appointment_lifecycle::admin::appointment_messages(state, request).await,
        Endpoint::FlaggedMessages => appointment_lifecycle::admin::flagged_messages(state, request).await,
        Endpoint::ListWaitlist => crate::features::waitlist::admin::list(state, request).await,
        Endpoint::CreateWaitlistEntry => crate::features::waitlist::admin::create(state, request).await,
        Endpoint::ChangeWaitlistEntry => crate::features::waitlist::admin::change(state, request).await,
        Endpoint::RemoveWaitlistEntry => crate::features::waitlist::admin::remove(state, request).await,
        Endpoint::WaitlistJoinPage | Endpoint::SubmitWaitlistJoin => {
            crate::features::waitlist::pages::join(state, request).await
        }
        Endpoint::WaitlistOfferPage => crate::features::waitlist::pages::show(state, request).await,
        Endpoint::SubmitWaitlistOffer => crate::features::waitlist::pages::submit(state, request).await,
        Endpoint::PatientAppointments => appointment_lifecycle::admin::patient_appointments(state, request).await,
        Endpoint::GetAppointmentSettings => appointment_lifecycle::admin::get_settings(state, request).await,
        Endpoint::PutAppointmentSettings => appointment_lifecycle::admin::put_settings(state, request).await,
        Endpoint::CreatePartner => partners::admin::create(state, request).await,
        Endpoint::ListPartners => partners::admin::list(state, request).await,
        Endpoint::ReplacePartner => partners::admin::replace(state, request).await,
        Endpoint::PartnerOffer => partners::booking::offer(state, request).await,
        Endpoint::PartnerSlots => partners::booking::slots(state, request).await,
        Endpoint::CreatePartnerHold => partners::booking::hold(state, request).await,
        Endpoint::ConfirmPartnerHold => partners::booking::confirm(state, request).await,
        Endpoint::ReleasePartnerHold => partners::booking::release(state, request).await,
        Endpoint::SearchPatients => patients::search(state, request).await,
        Endpoint::ShowPatient => patients::show(state, request).await,
        Endpoint::CreatePatient => patients::create(state, request).await,
        Endpoint::Statistics => statistics::report(state, request).await,
        Endpoint::PartnerBookingPage => partners::staff_page::page(state, request).await,
        Endpoint::PartnerBookingScript => partners::staff_page::script(state, request).await,
        Endpoint::CreateOnlineService => online_services::admin::create(state, request).await,
        Endpoint::ListOnlineServices => online_services::admin::list(state, request).await,
        Endpoint::ReplaceOnlineService => online_services::admin::replace(state, request).await,
        Endpoint::DeleteOnlineService => online_services::admin::delete(state, request).await,
        Endpoint::AttachPatient => diary::appointments::attach_patient(state, request).await,
        Endpoint::PortalServices => online_services::portal::services(state, request).await,
        Endpoint::PortalAvailability => online_services::portal::availability(state, request).await,
        Endpoint::PortalBooking => online_services::portal::book(state, request).await,
        Endpoint::ListDiarySlots => diary::slots::list(state, request).await,
        Endpoint::PortalPage => online_services::pages::show(state, request).await,
        Endpoint::SubmitPortalPage => online_services::pages::submit(state, request).await,
        Endpoint::CreateConnectTemplate => patient_connect::programs::create_template(state, request).await,
        Endpoint::ListConnectTemplates => patient_connect::programs::list_templates(state, request).await,
        Endpoint::ReplaceConnectTemplate => patient_connect::programs::replace_template(state, request).await,
        Endpoint::CreateConnectProgram => patient_connect::programs::create_program(state, request).await,
        Endpoint::ListConnectPrograms => patient_connect::programs::list_programs(state, request).await,
        Endpoint::ReplaceConnectProgram => patient_connect::programs::replace_program(state, request).await,
        Endpoint::ProgramEnrollments => patient_connect::enrollments::for_program(state, request).await,
        Endpoint::CreateEnrollment => patient_connect::enrollments::enroll(state, request).await,
        Endpoint::ShowEnrollment => patient_connect::enrollments::show(state, request).await,
        Endpoint::AdvanceEnrollment => patient_connect::enrollments::advance(state, request).await,
        Endpoint::PatientEnrollments => patient_connect::enrollments::for_patient(state, request).await,
        Endpoint::ConnectFollowUps => patient_connect::enrollments::follow_ups(state, request).await,
        Endpoint::DistributionList => patient_connect::letters::list(state, request).await,
        Endpoint::MarkLetterPosted => patient_connect::letters::mark_posted(state, request).await,
        Endpoint::LetterPdf => patient_connect::letters::download(state, request).await,
        Endpoint::AddReferral => patient_connect::enrollments::add_referral(state, request).await,
    })
}

/// Serves one request for `function`: finds the route by the route key API Gateway (or the
/// local server) set, and answers 404 for a route this function does not own.
pub async fn handle(state: &AppState, function: &str, request: Request) -> Response<Body> {
    let key = route_key(&request).unwrap_or("").to_owned();
    let span = tracing::info_span!("request", request_id = %request_id(&request), route = %key, function);
    async move {
        let found = ROUTES.iter().find(|route| route.function == function && route.key() == key);
        let response = match found {
            Some(route) => dispatch(state, route.endpoint, request).await,
            None => Problem::not_found(format!("no route {key:?} in this function")).into_response(),
        };
        tracing::info!(status = response.status().as_u16(), "answered");
        response
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys_are_unique_and_admin_routes_live_under_admin() {
        let mut keys: Vec<String> = ROUTES.iter().map(Route::key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), ROUTES.len());
        for route in ROUTES {
            assert_eq!(route.access == Access::Admin, route.path.starts_with("/admin/"), "{}", route.key());
        }
        assert!(
            ROUTES
                .iter()
                .filter(|route| route.path.starts_with("/admin/"))
                .all(|route| route.function.ends_with("-admin"))
        );
    }
}
