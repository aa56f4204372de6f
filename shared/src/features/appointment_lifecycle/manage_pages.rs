//! `/manage/{token}`: the manage link every appointment's messages carry. The patient verifies
//! with their date of birth (five wrong answers lock the appointment's links); the answer is a
//! short-lived grant carried in the forms (never in a URL) that lets them see the appointment,
//! move it to another free slot, or cancel it, each in one transaction, unless the clinic's
//! cutoff has passed (the page then gives the phone number). Opening the link (GET) changes
//! nothing, so a link scanner cannot cancel anything.

use http::StatusCode;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use lambda_http::{Body, Request, Response};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use super::load_settings;
use super::manage_access::{self, OpenedAppointment};
use crate::app::AppState;
use crate::domain::appointment::{Appointment, AppointmentStatus};
use crate::domain::appointment_message::LifecycleSettings;
use crate::domain::booking_link::{BookingLink, BroadcastRule, LinkToken};
use crate::domain::clinic::ClinicId;
use crate::domain::location::Location;
use crate::domain::manage_access::Verification;
use crate::domain::validation::FieldError;
use crate::features::booking_links::pages::{
    describe, details, information, invalid_link, page, page_days, slot_buttons, texts,
};
use crate::features::booking_links::tokens::{self, link_item};
use crate::features::diary::booking::{self, BookingError, StoredAppointment};
use crate::features::diary::private_offer::{PrivateDiary, Rules};
use crate::features::rate_limit::check_public;
use crate::features::waitlist::earlier::{self, EarlierForm};
use crate::http::Problem;
use crate::http::html::{Lang, long_time};
use crate::http::request::path_param;
use crate::store::{Condition, Item, StoreError, Write, keys};

/// How long a verification lasts.
const GRANT_MINUTES: i64 = 15;

#[derive(Debug, Serialize, Deserialize)]
struct ManageGrant {
    clinic_id: ClinicId,
    appointment_id: String,
}

fn token(request: &Request) -> Result<String, Problem> {
    path_param(request, "token", |raw| Ok::<_, FieldError>(raw.to_owned()))
}

fn manage_path(token: &str) -> String {
    format!("/manage/{token}")
}

fn switch_href(token: &str, lang: Lang) -> String {
    format!("{}?lang={}", manage_path(token), lang.other().0.code())
}

/// The clinic's number for patients: a booking link's own, else the site's booking phone, else
/// the clinic's.
async fn phone(
    state: &AppState,
    opened: &OpenedAppointment,
    settings: &LifecycleSettings,
    link: Option<&LinkContext>,
) -> Option<String> {
    if let Some(phone) = link.and_then(|link| link.rule.confirmation.phone.as_ref()) {
        return Some(phone.as_str().to_owned());
    }
    let appointment = &opened.stored.appointment;
    let location: Option<Location> = state
        .store
        .get(&keys::entry(&opened.clinic.id, keys::LOCATION_PREFIX, appointment.location_id.as_str()))
        .await
        .ok()
        .flatten()
        .and_then(|item| item.record().ok());
    location
        .and_then(|location| location.booking_phone)
        .or_else(|| settings.phone.clone())
        .or_else(|| opened.clinic.branding.phone.clone())
}

fn phone_line(phone: Option<&str>, lang: Lang) -> Markup {
    let t = texts(lang);
    html! {
        @if let Some(phone) = phone {
            p { (t.phone_us) ": " a href={ "tel:" (phone) } { (phone) } }
        }
    }
}

/// The verification page in the clinic's frame, with an error or a notice.
fn verify_page(
    opened: &OpenedAppointment,
    token: &str,
    lang: Lang,
    status: StatusCode,
    error: Option<String>,
    notice: Option<&str>,
) -> Result<Response<Body>, Problem> {
    let body = verify_form(token, lang, error, notice);
    page(lang, Some(&opened.clinic), status, texts(lang).manage_title, &switch_href(token, lang), body)
}

fn verify_form(token: &str, lang: Lang, error: Option<String>, notice: Option<&str>) -> Markup {
    let t = texts(lang);
    html! {
        h1 { (t.manage_title) }
        @if let Some(notice) = notice { p role="status" { (notice) } }
        p { (t.verify_intro) }
        form method="post" action=(manage_path(token)) {
            input type="hidden" name="action" value="verify";
            input type="hidden" name="lang" value=(lang.code());
            label for="date_of_birth" { (t.date_of_birth) }
            span.hint id="date_of_birth-hint" { (t.date_hint) }
            @if let Some(error) = &error { span.error id="date_of_birth-error" role="alert" { (error) } }
            input type="date" id="date_of_birth" name="date_of_birth" autocomplete="bday" required
                aria-invalid=[error.as_ref().map(|_| "true")]
                aria-describedby=(if error.is_some() { "date_of_birth-hint date_of_birth-error" } else { "date_of_birth-hint" });
            button.primary type="submit" { (t.continue_) }
        }
    }
}

async fn locked_page(
    state: &AppState,
    opened: &OpenedAppointment,
    token: &str,
    lang: Lang,
) -> Result<Response<Body>, Problem> {
    let t = texts(lang);
    let (settings, _) = load_settings(state.store.as_ref(), &opened.clinic.id).await?;
    let link = link_context(state, opened).await?;
    let phone = phone(state, opened, &settings, link.as_ref()).await;
    let body = html! {
        h1 { (t.manage_title) }
        p { (t.locked) }
        (phone_line(phone.as_deref(), lang))
    };
    page(lang, Some(&opened.clinic), StatusCode::FORBIDDEN, t.manage_title, &switch_href(token, lang), body)
}

/// `GET /manage/{token}`: asks for the date of birth.
#[tracing::instrument(skip_all)]
pub async fn show(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    check_public(state, request).await?;
    let token = token(request)?;
    let lang = Lang::of(request, None);
    let Some(opened) = manage_access::open(state.store.as_ref(), &token).await? else {
        return invalid_link(lang, &switch_href(&token, lang));
    };
    if opened.locked() {
        return locked_page(state, &opened, &token, lang).await;
    }
    verify_page(&opened, &token, lang, StatusCode::OK, None, None)
}

#[derive(Default, Deserialize, utoipa::ToSchema)]
pub(crate) struct ManageForm {
    /// `verify` (the birth date), `review` or `reschedule` (a new time), or `cancel`.
    #[serde(default)]
    #[schema(required = true, pattern = "^(verify|review|reschedule|cancel)$")]
    action: String,
    #[serde(default)]
    date_of_birth: String,
    #[serde(default)]
    grant: String,
    #[serde(default)]
    time: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    lang: Option<String>,
}

async fn issue_grant(state: &AppState, opened: &OpenedAppointment) -> Result<LinkToken, Problem> {
    let grant = tokens::draw().map_err(|error| {
        tracing::error!(%error, "no grant token");
        Problem::unavailable()
    })?;
    let record = ManageGrant {
        clinic_id: opened.clinic.id.clone(),
        appointment_id: opened.stored.appointment.id.as_str().to_owned(),
    };
    let expires = state.clock.now() + SignedDuration::from_mins(GRANT_MINUTES);
    let item = Item::from_record(keys::manage_grant(grant.hash().as_str()), &record)?.with_expiry(expires.as_second());
    state.store.write(Write::put(item, Condition::NotExists)).await?;
    Ok(grant)
}

async fn grant_holds(state: &AppState, opened: &OpenedAppointment, raw: &str) -> Result<bool, StoreError> {
    let Some(grant) = LinkToken::parse(raw) else { return Ok(false) };
    let Some(item) = state.store.get(&keys::manage_grant(grant.hash().as_str())).await? else { return Ok(false) };
    let record: ManageGrant = item.record()?;
    Ok(record.clinic_id == opened.clinic.id && record.appointment_id == opened.stored.appointment.id.as_str())
}

/// The booking link an appointment was booked through, with its rule.
struct LinkContext {
    link: BookingLink,
    version: u64,
    rule: BroadcastRule,
}

async fn link_context(state: &AppState, opened: &OpenedAppointment) -> Result<Option<LinkContext>, StoreError> {
    let Some(link_id) = &opened.stored.appointment.lifecycle.booking_link_id else { return Ok(None) };
    let clinic = &opened.clinic.id;
    let Some(item) = state.store.get(&keys::booking_link(clinic, link_id)).await? else { return Ok(None) };
    let link: BookingLink = item.record()?;
    let Some(rule) = state.store.get(&keys::broadcast_rule(clinic, link.rule_id.as_str())).await? else {
        return Ok(None);
    };
    Ok(Some(LinkContext { link, version: item.version, rule: rule.record()? }))
}

struct Managed<'a> {
    state: &'a AppState,
    opened: &'a OpenedAppointment,
    token: &'a str,
    lang: Lang,
    grant: &'a str,
    settings: LifecycleSettings,
    link: Option<LinkContext>,
    phone: Option<String>,
}

impl Managed<'_> {
    async fn current(&self) -> Result<StoredAppointment, Problem> {
        let appointment = &self.opened.stored.appointment;
        booking::load(self.state.store.as_ref(), &self.opened.clinic.id, &appointment.id)
            .await?
            .ok_or_else(Problem::internal)
    }

    fn grant_fields(&self) -> Markup {
        html! {
            input type="hidden" name="grant" value=(self.grant);
            input type="hidden" name="lang" value=(self.lang.code());
        }
    }

    /// Whether the patient may still change this appointment online (booked, ahead of the cutoff).
    fn can_change(&self, current: &Appointment, now: Timestamp) -> bool {
        current.status == AppointmentStatus::Booked && self.settings.changes_allowed(current.starts_at, now)
    }

    fn can_reschedule(&self, current: &Appointment, now: Timestamp) -> bool {
        let allowed = match &self.link {
            Some(link) => link.rule.allow_reschedule,
            None => self.settings.online_reschedule,
        };
        allowed && self.can_change(current, now)
    }

    /// Where a move may go: the link's rule, or the same booking type anywhere it is offered.
    async fn diary(&self, current: &Appointment) -> Result<Option<PrivateDiary>, StoreError> {
        let clinic = &self.opened.clinic;
        match &self.link {
            Some(link) => {
                let rule = &link.rule;
                PrivateDiary::load(
                    self.state,
                    clinic,
                    &rule.booking_type_id,
                    Some(&rule.provider_ids),
                    Some(&rule.location_ids),
                    Rules::Staff,
                )
                .await
            }
            None => PrivateDiary::load(self.state, clinic, &current.booking_type_id, None, None, Rules::Online).await,
        }
    }

    fn extra(&self) -> Markup {
        html! {
            @if let Some(link) = &self.link { (information(&link.rule, &self.opened.clinic, self.lang)) }
            @else { (phone_line(self.phone.as_deref(), self.lang)) }
        }
    }

    /// The appointment, what may be done with it, and (when allowed) the free slots to move to.
    async fn overview(
        &self,
        day: Option<Date>,
        notice: Option<&str>,
        status: StatusCode,
    ) -> Result<Response<Body>, Problem> {
        let t = texts(self.lang);
        let current = self.current().await?;
        let appointment = &current.appointment;
        let clinic = &self.opened.clinic;
        let now = self.state.clock.now();
        let described = describe(self.state.store.as_ref(), &clinic.id, appointment).await?;
        let zone = clinic.time_zone.zone();
        let path = manage_path(self.token);
        let diary = if self.can_reschedule(appointment, now) { self.diary(appointment).await? } else { None };
        let slots = match &diary {
            Some(diary) => {
                let (first, last) = diary.days();
                let (from, to, previous, next) = page_days(day, first, last);
                Some((diary, diary.free_slots(self.state, &clinic.id, from, to, 2000).await?, previous, next))
            }
            None => None,
        };
        let too_late = appointment.status == AppointmentStatus::Booked && !self.can_change(appointment, now);
        let body = html! {
            h1 { (t.manage_title) }
            @if let Some(notice) = notice { p.error role="alert" { (notice) } }
            @if appointment.status == AppointmentStatus::Cancelled { p role="status" { (t.cancelled) } }
            (details(&described, appointment.starts_at, &zone, self.lang))
            (self.extra())
            @if too_late {
                p role="status" { (t.too_late) }
                (phone_line(self.phone.as_deref(), self.lang))
            }
            @if self.can_change(appointment, now) {
                form method="post" action=(path) {
                    input type="hidden" name="action" value="cancel";
                    (self.grant_fields())
                    button.secondary type="submit" { (t.cancel) }
                }
            }
            @if let Some((diary, slots, previous, next)) = &slots {
                h2 { (t.reschedule) }
                form method="post" action=(path) {
                    input type="hidden" name="action" value="review";
                    (self.grant_fields())
                    (slot_buttons(slots, &diary.zone, self.lang))
                }
                @for (day, label) in [(previous, t.earlier), (next, t.later)] {
                    @if let Some(day) = day {
                        form method="post" action=(path) {
                            input type="hidden" name="action" value="times";
                            input type="hidden" name="day" value=(day.to_string());
                            (self.grant_fields())
                            button type="submit" { (label) }
                        }
                    }
                }
            }
            // Nothing here suits: wait for an earlier time instead.
            @if self.earlier_until(appointment, now).is_some() {
                (earlier::invitation(self.lang, &path, self.grant_fields()))
            }
        };
        page(self.lang, Some(&self.opened.clinic), status, t.manage_title, &switch_href(self.token, self.lang), body)
    }

    /// The last day an earlier time may be waited for, when the patient may move this
    /// appointment and a day before it is still ahead.
    fn earlier_until(&self, current: &Appointment, now: Timestamp) -> Option<Date> {
        if !self.can_reschedule(current, now) {
            return None;
        }
        let today = now.to_zoned(self.opened.clinic.time_zone.zone()).date();
        earlier::last_day(&self.opened.clinic, current, today)
    }

    /// "Tell me if an earlier time frees up": the form, or (posted) the entry and its outcome.
    async fn earlier(&self, posted: Option<&EarlierForm>) -> Result<Response<Body>, Problem> {
        let t = texts(self.lang);
        let current = self.current().await?;
        let now = self.state.clock.now();
        let Some(last) = self.earlier_until(&current.appointment, now) else {
            return self.overview(None, Some(t.too_late), StatusCode::CONFLICT).await;
        };
        let clinic = &self.opened.clinic;
        let path = manage_path(self.token);
        let switch = switch_href(self.token, self.lang);
        let mut errors = Vec::new();
        if let Some(posted) = posted {
            match earlier::join(self.state, clinic, &current.appointment, posted, self.lang).await? {
                Ok(entry) => {
                    tracing::info!(entry_id = %entry.id, appointment_id = %current.appointment.id, "waitlist for an earlier time");
                    let body = html! { (earlier::joined(self.lang)) (self.extra()) };
                    return page(self.lang, Some(clinic), StatusCode::CREATED, t.manage_title, &switch, body);
                }
                Err(found) => errors = found,
            }
        }
        let described = describe(self.state.store.as_ref(), &clinic.id, &current.appointment).await?;
        let today = now.to_zoned(clinic.time_zone.zone()).date();
        let blank = EarlierForm::default();
        let body = html! {
            (details(&described, current.appointment.starts_at, &clinic.time_zone.zone(), self.lang))
            (earlier::form(self.lang, &path, self.grant_fields(), &described.with_whom,
                self.link.is_none(), today, last, posted.unwrap_or(&blank), &errors))
        };
        let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
        page(self.lang, Some(clinic), status, t.manage_title, &switch, body)
    }

    fn review(&self, diary: &PrivateDiary, at: Timestamp) -> Result<Response<Body>, Problem> {
        let t = texts(self.lang);
        let path = manage_path(self.token);
        let body = html! {
            h1 { (t.review) }
            dl {
                dt { (t.what) } dd { (diary.booking_type.long_name) }
                dt { (t.when) } dd { (long_time(at, &diary.zone, self.lang)) }
            }
            form method="post" action=(path) {
                input type="hidden" name="action" value="reschedule";
                input type="hidden" name="time" value=(at.to_string());
                (self.grant_fields())
                button.primary type="submit" { (t.confirm_reschedule) }
            }
            form method="post" action=(path) {
                input type="hidden" name="action" value="times";
                (self.grant_fields())
                button type="submit" { (t.change_time) }
            }
        };
        page(self.lang, Some(&self.opened.clinic), StatusCode::OK, t.review, &switch_href(self.token, self.lang), body)
    }

    async fn reschedule(&self, diary: &PrivateDiary, at: Timestamp) -> Result<Response<Body>, Problem> {
        let t = texts(self.lang);
        let current = self.current().await?;
        let now = self.state.clock.now();
        if !self.can_reschedule(&current.appointment, now) {
            return self.overview(None, Some(t.too_late), StatusCode::CONFLICT).await;
        }
        let clinic = &self.opened.clinic;
        let candidates = diary.candidates_at(at);
        for candidate in candidates.into_iter().take(5) {
            let mut next = current.appointment.clone();
            next.starts_at = candidate.starts_at;
            next.provider_id = candidate.provider_id;
            next.location_id = candidate.location_id;
            next.updated_at = now;
            if next.starts_at == current.appointment.starts_at
                && next.provider_id == current.appointment.provider_id
                && next.location_id == current.appointment.location_id
            {
                continue;
            }
            let mut guards = Vec::new();
            if let Some(link) = &self.link {
                let mut updated = link.link.clone();
                if updated.mark_rescheduled(now).is_ok() {
                    guards.push(Write::put(
                        link_item(&clinic.id, &updated, link.version + 1)?,
                        Condition::VersionIs(link.version),
                    ));
                }
            }
            if next.provider_id != current.appointment.provider_id {
                guards.push(crate::features::booking_links::offer::inbox_write(
                    &clinic.id,
                    &next,
                    &diary.booking_type.short_name,
                    &diary.zone,
                    now,
                )?);
            }
            match booking::rewrite_guarded(
                self.state,
                &clinic.id,
                &current,
                &next,
                "patient",
                "appointment.rescheduled",
                guards,
            )
            .await
            {
                Ok(()) => {
                    tracing::info!(appointment_id = %next.id, "rescheduled through the manage link");
                    let zone = clinic.time_zone.zone();
                    let described = describe(self.state.store.as_ref(), &clinic.id, &next).await?;
                    let body = html! {
                        h1 { (t.rescheduled_title) }
                        (details(&described, next.starts_at, &zone, self.lang))
                        (self.extra())
                    };
                    return page(
                        self.lang,
                        Some(&self.opened.clinic),
                        StatusCode::OK,
                        t.rescheduled_title,
                        &switch_href(self.token, self.lang),
                        body,
                    );
                }
                Err(BookingError::Taken) => continue,
                Err(BookingError::Store(error)) => return Err(error.into()),
                Err(_) => break,
            }
        }
        let day = at.to_zoned(diary.zone.clone()).date();
        self.overview(Some(day), Some(t.taken), StatusCode::CONFLICT).await
    }

    fn confirm_cancel(&self) -> Result<Response<Body>, Problem> {
        let t = texts(self.lang);
        let path = manage_path(self.token);
        let body = html! {
            h1 { (t.cancel) }
            p { (t.cancel_question) }
            form method="post" action=(path) {
                input type="hidden" name="action" value="confirm_cancel";
                (self.grant_fields())
                button.primary type="submit" { (t.confirm_cancel) }
            }
            form method="post" action=(path) {
                input type="hidden" name="action" value="times";
                (self.grant_fields())
                button.secondary type="submit" { (t.keep) }
            }
        };
        page(self.lang, Some(&self.opened.clinic), StatusCode::OK, t.cancel, &switch_href(self.token, self.lang), body)
    }

    async fn cancel(&self) -> Result<Response<Body>, Problem> {
        let t = texts(self.lang);
        let clinic = &self.opened.clinic;
        for _ in 0..5 {
            let current = self.current().await?;
            let now = self.state.clock.now();
            if current.appointment.status == AppointmentStatus::Cancelled {
                break;
            }
            if !self.can_change(&current.appointment, now) {
                return self.overview(None, Some(t.too_late), StatusCode::CONFLICT).await;
            }
            let next =
                Appointment { status: AppointmentStatus::Cancelled, updated_at: now, ..current.appointment.clone() };
            match booking::rewrite(self.state, &clinic.id, &current, &next, "patient", "appointment.cancelled").await {
                Ok(()) => {
                    tracing::info!(appointment_id = %next.id, "cancelled through the manage link");
                    break;
                }
                Err(BookingError::Conflict) => continue,
                Err(BookingError::Store(error)) => return Err(error.into()),
                Err(_) => return Err(Problem::conflict("please try again")),
            }
        }
        let current = self.current().await?;
        let zone = clinic.time_zone.zone();
        let described = describe(self.state.store.as_ref(), &clinic.id, &current.appointment).await?;
        let body = html! {
            h1 { (t.cancelled_title) }
            p role="status" { (t.cancelled) }
            (details(&described, current.appointment.starts_at, &zone, self.lang))
            (phone_line(self.phone.as_deref(), self.lang))
        };
        page(
            self.lang,
            Some(&self.opened.clinic),
            StatusCode::OK,
            t.cancelled_title,
            &switch_href(self.token, self.lang),
            body,
        )
    }
}

/// `POST /manage/{token}`: `action` is `verify` (with `date_of_birth`), or, with the grant,
/// `times` (`day`), `review` (`time`), `reschedule` (`time`), `cancel` (asks to confirm),
/// `confirm_cancel`, `waitlist` (the earlier-time form) or `join_waitlist` (its fields).
#[tracing::instrument(skip_all)]
pub async fn submit(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    check_public(state, request).await?;
    let token = token(request)?;
    let form: ManageForm = crate::http::request::read_form(request)?;
    let lang = Lang::of(request, form.lang.as_deref());
    let t = texts(lang);
    let Some(opened) = manage_access::open(state.store.as_ref(), &token).await? else {
        return invalid_link(lang, &switch_href(&token, lang));
    };
    if opened.locked() {
        return locked_page(state, &opened, &token, lang).await;
    }
    let opened = if form.action == "verify" {
        let Ok(date_of_birth) = form.date_of_birth.trim().parse::<Date>() else {
            return verify_page(
                &opened,
                &token,
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(t.bad_date.to_owned()),
                None,
            );
        };
        let Some((opened, outcome)) = manage_access::verify(state.store.as_ref(), &token, date_of_birth).await? else {
            return invalid_link(lang, &switch_href(&token, lang));
        };
        match outcome {
            Verification::Verified => opened,
            Verification::Wrong { remaining } => {
                let error = format!("{} {remaining}", t.wrong_answer);
                return verify_page(&opened, &token, lang, StatusCode::UNPROCESSABLE_ENTITY, Some(error), None);
            }
            Verification::Locked => {
                tracing::warn!(appointment_id = %opened.stored.appointment.id, "manage link locked after repeated wrong answers");
                return locked_page(state, &opened, &token, lang).await;
            }
        }
    } else {
        if !grant_holds(state, &opened, &form.grant).await? {
            return verify_page(&opened, &token, lang, StatusCode::UNAUTHORIZED, None, Some(t.verify_again));
        }
        opened
    };
    let grant = if form.action == "verify" {
        issue_grant(state, &opened).await?.as_str().to_owned()
    } else {
        form.grant.clone()
    };
    let (settings, _) = load_settings(state.store.as_ref(), &opened.clinic.id).await?;
    let link = link_context(state, &opened).await?;
    let phone = phone(state, &opened, &settings, link.as_ref()).await;
    let managed = Managed { state, opened: &opened, token: &token, lang, grant: &grant, settings, link, phone };
    let at = form.time.parse::<Timestamp>().ok();
    match (form.action.as_str(), at) {
        ("review" | "reschedule", Some(at)) => {
            let current = managed.current().await?;
            let Some(diary) = managed.diary(&current.appointment).await? else {
                return managed.overview(None, Some(t.unavailable), StatusCode::CONFLICT).await;
            };
            if form.action == "review" { managed.review(&diary, at) } else { managed.reschedule(&diary, at).await }
        }
        ("cancel", _) => {
            let current = managed.current().await?;
            if managed.can_change(&current.appointment, state.clock.now()) {
                managed.confirm_cancel()
            } else {
                managed.overview(None, Some(t.too_late), StatusCode::CONFLICT).await
            }
        }
        ("confirm_cancel", _) => managed.cancel().await,
        ("waitlist", _) => managed.earlier(None).await,
        ("join_waitlist", _) => {
            let posted: EarlierForm = crate::http::request::read_form(request)?;
            managed.earlier(Some(&posted)).await
        }
        _ => managed.overview(form.day.parse::<Date>().ok(), None, StatusCode::OK).await,
    }
}
