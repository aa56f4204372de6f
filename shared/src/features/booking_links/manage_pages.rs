//! `/manage/{token}`: the manage link from the confirmation SMS. The patient verifies with their
//! date of birth (five wrong answers lock the link); the answer is a short-lived grant carried
//! in the forms (never in a URL) that lets them see the appointment and, when the rule allows,
//! move it to another free slot in one transaction.

use http::StatusCode;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use lambda_http::{Body, Request, Response};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use super::offer::{self, Rescheduling};
use super::pages::{
    self, describe, details, fill, information, invalid_link, page, page_days, refusal, slot_buttons, texts,
};
use super::tokens::{self, OpenedLink, link_item};
use crate::app::AppState;
use crate::domain::appointment::AppointmentStatus;
use crate::domain::booking_link::{BookingLinkId, LinkToken, TokenPurpose, Verification};
use crate::domain::clinic::ClinicId;
use crate::domain::validation::FieldError;
use crate::features::diary::booking::{self, BookingError, StoredAppointment};
use crate::features::diary::private_offer::PrivateDiary;
use crate::features::rate_limit::check_public;
use crate::http::Problem;
use crate::http::html::{Lang, long_time};
use crate::http::request::path_param;
use crate::messages::Sms;
use crate::store::{Condition, Item, StoreError, Write, keys};

/// How long a verification lasts.
const GRANT_MINUTES: i64 = 15;

#[derive(Debug, Serialize, Deserialize)]
struct ManageGrant {
    clinic_id: ClinicId,
    link_id: BookingLinkId,
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

fn verify_form(token: &str, lang: Lang, opened: &OpenedLink, error: Option<String>, notice: Option<&str>) -> Markup {
    let t = texts(lang);
    html! {
        p { (opened.clinic.name) }
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

/// `GET /manage/{token}`: asks for the date of birth.
#[tracing::instrument(skip_all)]
pub async fn show(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    check_public(state, request).await?;
    let token = token(request)?;
    let lang = Lang::of(request, None);
    let Some(opened) = tokens::open(state.store.as_ref(), &token, TokenPurpose::Manage).await? else {
        return invalid_link(lang, &switch_href(&token, lang));
    };
    let t = texts(lang);
    if opened.link.verification_failures >= crate::domain::booking_link::MAX_VERIFICATION_FAILURES {
        return refusal(&opened, lang, StatusCode::FORBIDDEN, t.manage_title, t.locked, &switch_href(&token, lang));
    }
    page(
        lang,
        StatusCode::OK,
        t.manage_title,
        &switch_href(&token, lang),
        verify_form(&token, lang, &opened, None, None),
    )
}

#[derive(Default, Deserialize)]
struct ManageForm {
    #[serde(default)]
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

async fn issue_grant(state: &AppState, opened: &OpenedLink) -> Result<LinkToken, Problem> {
    let grant = tokens::draw().map_err(|error| {
        tracing::error!(%error, "no grant token");
        Problem::unavailable()
    })?;
    let record = ManageGrant { clinic_id: opened.clinic.id.clone(), link_id: opened.link.id.clone() };
    let expires = state.clock.now() + SignedDuration::from_mins(GRANT_MINUTES);
    let item = Item::from_record(keys::manage_grant(grant.hash().as_str()), &record)?.with_expiry(expires.as_second());
    state.store.write(Write::put(item, Condition::NotExists)).await?;
    Ok(grant)
}

async fn grant_holds(state: &AppState, opened: &OpenedLink, raw: &str) -> Result<bool, StoreError> {
    let Some(grant) = LinkToken::parse(raw) else { return Ok(false) };
    let Some(item) = state.store.get(&keys::manage_grant(grant.hash().as_str())).await? else { return Ok(false) };
    let record: ManageGrant = item.record()?;
    Ok(record.clinic_id == opened.clinic.id && record.link_id == opened.link.id)
}

/// Records one verification attempt; retried on a concurrent change so no attempt goes uncounted.
async fn verify(
    state: &AppState,
    token: &str,
    date_of_birth: Date,
) -> Result<Option<(OpenedLink, Verification)>, Problem> {
    for _ in 0..5 {
        let Some(mut opened) = tokens::open(state.store.as_ref(), token, TokenPurpose::Manage).await? else {
            return Ok(None);
        };
        let before = opened.link.verification_failures;
        let outcome = opened.link.verify(date_of_birth);
        if opened.link.verification_failures == before {
            return Ok(Some((opened, outcome)));
        }
        let write = Write::put(
            link_item(&opened.clinic.id, &opened.link, opened.version + 1)?,
            Condition::VersionIs(opened.version),
        );
        match state.store.write(write).await {
            Ok(()) => {
                opened.version += 1;
                return Ok(Some((opened, outcome)));
            }
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(Problem::conflict("please try again"))
}

struct Managed<'a> {
    state: &'a AppState,
    opened: &'a OpenedLink,
    token: &'a str,
    lang: Lang,
    grant: &'a str,
}

impl Managed<'_> {
    async fn appointment(&self) -> Result<StoredAppointment, Problem> {
        let id = self.opened.link.appointment_id.as_ref().ok_or_else(Problem::internal)?;
        booking::load(self.state.store.as_ref(), &self.opened.clinic.id, id).await?.ok_or_else(Problem::internal)
    }

    fn grant_fields(&self) -> Markup {
        html! {
            input type="hidden" name="grant" value=(self.grant);
            input type="hidden" name="lang" value=(self.lang.code());
        }
    }

    fn can_reschedule(&self, current: &StoredAppointment, now: Timestamp) -> bool {
        self.opened.rule.allow_reschedule
            && current.appointment.status == AppointmentStatus::Booked
            && current.appointment.starts_at > now
    }

    /// The appointment, the rule's information and (when allowed) the free slots to move to.
    async fn overview(
        &self,
        day: Option<Date>,
        notice: Option<&str>,
        status: StatusCode,
    ) -> Result<Response<Body>, Problem> {
        let t = texts(self.lang);
        let current = self.appointment().await?;
        let clinic = &self.opened.clinic;
        let described = describe(self.state.store.as_ref(), &clinic.id, &current.appointment).await?;
        let zone = clinic.time_zone.zone();
        let path = manage_path(self.token);
        let diary = if self.can_reschedule(&current, self.state.clock.now()) {
            offer::rule_diary(self.state, self.opened).await?
        } else {
            None
        };
        let slots = match &diary {
            Some(diary) => {
                let (first, last) = diary.days();
                let (from, to, previous, next) = page_days(day, first, last);
                Some((diary, diary.free_slots(self.state, &clinic.id, from, to, 2000).await?, previous, next))
            }
            None => None,
        };
        let body = html! {
            p { (clinic.name) }
            h1 { (t.manage_title) }
            @if let Some(notice) = notice { p.error role="alert" { (notice) } }
            @if current.appointment.status == AppointmentStatus::Cancelled { p role="status" { (t.cancelled) } }
            (details(&described, current.appointment.starts_at, &zone, self.lang))
            (information(&self.opened.rule, self.lang))
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
        };
        page(self.lang, status, t.manage_title, &switch_href(self.token, self.lang), body)
    }

    async fn review(&self, diary: &PrivateDiary, at: Timestamp) -> Result<Response<Body>, Problem> {
        let t = texts(self.lang);
        let path = manage_path(self.token);
        let body = html! {
            p { (self.opened.clinic.name) }
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
        page(self.lang, StatusCode::OK, t.review, &switch_href(self.token, self.lang), body)
    }

    async fn reschedule(&self, diary: &PrivateDiary, at: Timestamp) -> Result<Response<Body>, Problem> {
        let t = texts(self.lang);
        let current = self.appointment().await?;
        if !self.can_reschedule(&current, self.state.clock.now()) {
            return self.overview(None, Some(t.unavailable), StatusCode::CONFLICT).await;
        }
        match offer::reschedule(self.state, self.opened, diary, &current, at).await {
            Ok(Rescheduling::Moved(moved)) => {
                let clinic = &self.opened.clinic;
                let zone = clinic.time_zone.zone();
                let when = long_time(moved.starts_at, &zone, self.lang);
                let body = fill(t.sms_moved, &[("clinic", &clinic.name), ("when", &when)]);
                if let Err(error) = self.state.messages.send_sms(&Sms { to: moved.patient.mobile.clone(), body }).await
                {
                    tracing::error!(%error, appointment_id = %moved.id, "reschedule SMS not sent");
                }
                let described = describe(self.state.store.as_ref(), &clinic.id, &moved).await?;
                let body = html! {
                    p { (clinic.name) }
                    h1 { (t.rescheduled_title) }
                    (details(&described, moved.starts_at, &zone, self.lang))
                    (information(&self.opened.rule, self.lang))
                };
                page(self.lang, StatusCode::OK, t.rescheduled_title, &switch_href(self.token, self.lang), body)
            }
            Ok(Rescheduling::Changed | Rescheduling::Taken | Rescheduling::NotOffered) => {
                let day = at.to_zoned(diary.zone.clone()).date();
                self.overview(Some(day), Some(t.taken), StatusCode::CONFLICT).await
            }
            Err(BookingError::Store(error)) => Err(error.into()),
            Err(_) => Err(Problem::conflict("please try again")),
        }
    }
}

/// `POST /manage/{token}`: `action` is `verify` (with `date_of_birth`), or, with the grant,
/// `times` (`day`), `review` (`time`) or `reschedule` (`time`).
#[tracing::instrument(skip_all)]
pub async fn submit(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    check_public(state, request).await?;
    let token = token(request)?;
    let form: ManageForm = pages::read_form(request)?;
    let lang = Lang::of(request, form.lang.as_deref());
    let t = texts(lang);
    let Some(opened) = tokens::open(state.store.as_ref(), &token, TokenPurpose::Manage).await? else {
        return invalid_link(lang, &switch_href(&token, lang));
    };
    let locked = || refusal(&opened, lang, StatusCode::FORBIDDEN, t.manage_title, t.locked, &switch_href(&token, lang));
    if opened.link.verification_failures >= crate::domain::booking_link::MAX_VERIFICATION_FAILURES {
        return locked();
    }
    if form.action == "verify" {
        let Ok(date_of_birth) = form.date_of_birth.trim().parse::<Date>() else {
            let body = verify_form(&token, lang, &opened, Some(t.bad_date.to_owned()), None);
            return page(lang, StatusCode::UNPROCESSABLE_ENTITY, t.manage_title, &switch_href(&token, lang), body);
        };
        let Some((opened, outcome)) = verify(state, &token, date_of_birth).await? else {
            return invalid_link(lang, &switch_href(&token, lang));
        };
        return match outcome {
            Verification::Verified => {
                let grant = issue_grant(state, &opened).await?;
                let managed = Managed { state, opened: &opened, token: &token, lang, grant: grant.as_str() };
                managed.overview(None, None, StatusCode::OK).await
            }
            Verification::Wrong { remaining } => {
                let error = format!("{} {remaining}", t.wrong_answer);
                let body = verify_form(&token, lang, &opened, Some(error), None);
                page(lang, StatusCode::UNPROCESSABLE_ENTITY, t.manage_title, &switch_href(&token, lang), body)
            }
            Verification::Locked => {
                tracing::warn!(link_id = %opened.link.id, "manage link locked after repeated wrong answers");
                refusal(&opened, lang, StatusCode::FORBIDDEN, t.manage_title, t.locked, &switch_href(&token, lang))
            }
        };
    }
    if !grant_holds(state, &opened, &form.grant).await? {
        let body = verify_form(&token, lang, &opened, None, Some(t.verify_again));
        return page(lang, StatusCode::UNAUTHORIZED, t.manage_title, &switch_href(&token, lang), body);
    }
    let managed = Managed { state, opened: &opened, token: &token, lang, grant: &form.grant };
    let at = form.time.parse::<Timestamp>().ok();
    match (form.action.as_str(), at) {
        ("review" | "reschedule", Some(at)) => {
            let Some(diary) = offer::rule_diary(state, &opened).await? else {
                return managed.overview(None, Some(t.unavailable), StatusCode::CONFLICT).await;
            };
            if form.action == "review" {
                managed.review(&diary, at).await
            } else {
                managed.reschedule(&diary, at).await
            }
        }
        _ => managed.overview(form.day.parse::<Date>().ok(), None, StatusCode::OK).await,
    }
}
