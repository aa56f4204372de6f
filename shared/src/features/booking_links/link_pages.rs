//! `/links/{token}`: the patient's booking link. Welcome page → times → review → confirm (POST)
//! → confirmation. Opening the link (GET) never books; it records the first access only. A
//! used link shows its appointment's confirmation; an expired or deleted one says so, with the
//! clinic's phone number.

use http::StatusCode;
use jiff::Timestamp;
use jiff::civil::Date;
use lambda_http::{Body, Request, Response};
use maud::html;
use serde::Deserialize;

use super::offer::{self, LinkBooking};
use super::pages::{
    describe, details, information, invalid_link, page, page_days, refusal, slot_buttons, texts, welcome,
};
use super::tokens::{self, OpenedLink, link_item};
use crate::app::AppState;
use crate::domain::booking_link::{LinkStatus, TokenPurpose};
use crate::domain::validation::FieldError;
use crate::features::diary::booking::{self, BookingError};
use crate::features::diary::private_offer::PrivateDiary;
use crate::features::rate_limit::check_public;
use crate::http::Problem;
use crate::http::html::{Lang, long_time};
use crate::http::request::{path_param, query_param};
use crate::store::{Condition, StoreError, Write};

fn token(request: &Request) -> Result<String, Problem> {
    path_param(request, "token", |raw| Ok::<_, FieldError>(raw.to_owned()))
}

fn link_path(token: &str) -> String {
    format!("/links/{token}")
}

fn switch_href(token: &str, lang: Lang, pairs: &[(&str, &str)]) -> String {
    let mut pairs = pairs.to_vec();
    pairs.push(("lang", lang.other().0.code()));
    format!("{}?{}", link_path(token), serde_urlencoded::to_string(pairs).unwrap_or_default())
}

/// The confirmation of the appointment a link booked (also what a used link shows).
async fn confirmation(
    state: &AppState,
    opened: &OpenedLink,
    lang: Lang,
    status: StatusCode,
    token: &str,
) -> Result<Response<Body>, Problem> {
    let t = texts(lang);
    let clinic = &opened.clinic;
    let Some(id) = &opened.link.appointment_id else { return Err(Problem::internal()) };
    let stored = booking::load(state.store.as_ref(), &clinic.id, id).await?.ok_or_else(Problem::internal)?;
    let described = describe(state.store.as_ref(), &clinic.id, &stored.appointment).await?;
    let zone = clinic.time_zone.zone();
    let body = html! {
        p { (clinic.name) }
        h1 { (t.booked_title) }
        (details(&described, stored.appointment.starts_at, &zone, lang))
        (information(&opened.rule, &opened.clinic, lang))
    };
    page(lang, Some(&opened.clinic), status, t.booked_title, &switch_href(token, lang, &[]), body)
}

/// What a link shows once it can no longer book: the confirmation of what it booked, or that it
/// expired or was deleted. `None` while it can still book.
async fn no_longer_bookable(
    state: &AppState,
    opened: &OpenedLink,
    lang: Lang,
    token: &str,
) -> Option<Result<Response<Body>, Problem>> {
    let t = texts(lang);
    let title = match opened.link.status_at(state.clock.now()) {
        LinkStatus::Booked | LinkStatus::Rescheduled => {
            return Some(confirmation(state, opened, lang, StatusCode::OK, token).await);
        }
        LinkStatus::Deleted => t.deleted_title,
        LinkStatus::Expired => t.expired_title,
        LinkStatus::Sent | LinkStatus::Accessed => return None,
    };
    Some(refusal(opened, lang, StatusCode::GONE, title, t.phone_to_book, &switch_href(token, lang, &[])))
}

/// The rule's booking type is gone: the link cannot book online any more.
fn unavailable(opened: &OpenedLink, lang: Lang, token: &str) -> Result<Response<Body>, Problem> {
    let t = texts(lang);
    refusal(opened, lang, StatusCode::GONE, t.unavailable, t.phone_to_book, &switch_href(token, lang, &[]))
}

async fn times(
    state: &AppState,
    opened: &OpenedLink,
    diary: &PrivateDiary,
    lang: Lang,
    token: &str,
    day: Option<Date>,
    notice: Option<&str>,
) -> Result<Response<Body>, Problem> {
    let t = texts(lang);
    let (first, last) = diary.days();
    let (from, to, previous, next) = page_days(day, first, last);
    let slots = diary.free_slots(state, &opened.clinic.id, from, to, 2000).await?;
    let path = link_path(token);
    let nav = |day: Date| {
        format!(
            "{path}?{}",
            serde_urlencoded::to_string([("step", "times"), ("day", &day.to_string()), ("lang", lang.code())])
                .unwrap_or_default()
        )
    };
    let body = html! {
        h1 { (t.choose_time) }
        p { (diary.booking_type.long_name) }
        @if let Some(notice) = notice { p.error role="alert" { (notice) } }
        form method="get" action=(path) {
            input type="hidden" name="step" value="review";
            input type="hidden" name="lang" value=(lang.code());
            (slot_buttons(&slots, &diary.zone, lang))
        }
        p {
            @if let Some(previous) = previous { a href=(nav(previous)) { (t.earlier) } " " }
            @if let Some(next) = next { a href=(nav(next)) { (t.later) } }
        }
    };
    let status = if notice.is_some() { StatusCode::CONFLICT } else { StatusCode::OK };
    let day = from.to_string();
    page(
        lang,
        Some(&opened.clinic),
        status,
        t.choose_time,
        &switch_href(token, lang, &[("step", "times"), ("day", &day)]),
        body,
    )
}

/// `GET /links/{token}`: welcome (`step` absent), `step=times[&day=]`, `step=review&time=`.
#[tracing::instrument(skip_all)]
pub async fn show(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    check_public(state, request).await?;
    let token = token(request)?;
    let lang = Lang::of(request, None);
    let Some(mut opened) = tokens::open(state.store.as_ref(), &token, TokenPurpose::Book).await? else {
        return invalid_link(lang, &switch_href(&token, lang, &[]));
    };
    let now = state.clock.now();
    if let Some(page) = no_longer_bookable(state, &opened, lang, &token).await {
        return page;
    }
    let mut accessed = opened.link.clone();
    if accessed.mark_accessed(now) {
        let write = Write::put(
            link_item(&opened.clinic.id, &accessed, opened.version + 1)?,
            Condition::VersionIs(opened.version),
        );
        match state.store.write(write).await {
            Ok(()) => {
                opened.link = accessed;
                opened.version += 1;
            }
            // Someone else changed the link meanwhile (another tab booked): their change stands.
            Err(StoreError::ConditionFailed { .. }) => {}
            Err(error) => return Err(error.into()),
        }
    }
    let t = texts(lang);
    let Some(diary) = offer::rule_diary(state, &opened).await? else {
        return unavailable(&opened, lang, &token);
    };
    match query_param(request, "step") {
        Some("times") => {
            let day = query_param(request, "day").and_then(|raw| raw.parse::<Date>().ok());
            times(state, &opened, &diary, lang, &token, day, None).await
        }
        Some("review") => {
            let Some(at) = query_param(request, "time").and_then(|raw| raw.parse::<Timestamp>().ok()) else {
                return times(state, &opened, &diary, lang, &token, None, None).await;
            };
            let when = long_time(at, &diary.zone, lang);
            let body = html! {
                h1 { (t.review) }
                dl {
                    dt { (t.what) } dd { (diary.booking_type.long_name) }
                    dt { (t.when) } dd { (when) }
                }
                form method="post" action=(link_path(&token)) {
                    input type="hidden" name="time" value=(at.to_string());
                    input type="hidden" name="lang" value=(lang.code());
                    button.primary type="submit" { (t.confirm) }
                }
                p { a href={ (link_path(&token)) "?step=times&lang=" (lang.code()) } { (t.change_time) } }
            };
            let at_text = at.to_string();
            page(
                lang,
                Some(&opened.clinic),
                StatusCode::OK,
                t.review,
                &switch_href(&token, lang, &[("step", "review"), ("time", &at_text)]),
                body,
            )
        }
        _ => {
            let body = html! {
                (welcome(&opened.rule, lang))
                a.primary href={ (link_path(&token)) "?step=times&lang=" (lang.code()) } { (t.continue_to_book) }
            };
            page(lang, Some(&opened.clinic), StatusCode::OK, &opened.clinic.name, &switch_href(&token, lang, &[]), body)
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ConfirmForm {
    #[serde(default)]
    time: String,
    #[serde(default)]
    lang: Option<String>,
}

/// `POST /links/{token}`: confirms the chosen time. Booking the slot and using up the link are
/// one transaction.
#[tracing::instrument(skip_all)]
pub async fn confirm(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    check_public(state, request).await?;
    let token = token(request)?;
    let form: ConfirmForm = crate::http::request::read_form(request)?;
    let lang = Lang::of(request, form.lang.as_deref());
    let Some(opened) = tokens::open(state.store.as_ref(), &token, TokenPurpose::Book).await? else {
        return invalid_link(lang, &switch_href(&token, lang, &[]));
    };
    let t = texts(lang);
    if let Some(page) = no_longer_bookable(state, &opened, lang, &token).await {
        return page;
    }
    let Some(diary) = offer::rule_diary(state, &opened).await? else {
        return unavailable(&opened, lang, &token);
    };
    let Ok(at) = form.time.parse::<Timestamp>() else {
        return times(state, &opened, &diary, lang, &token, None, Some(t.taken)).await;
    };
    match offer::book(state, &opened, &diary, at, lang.code()).await {
        Ok(LinkBooking::Booked { appointment }) => {
            let mut booked = opened.clone();
            booked.link.appointment_id = Some(appointment.id.clone());
            confirmation(state, &booked, lang, StatusCode::CREATED, &token).await
        }
        Ok(LinkBooking::Refused(_) | LinkBooking::Changed) => {
            // Another confirm of this link won, or staff expired it meanwhile: show what stands now.
            let Some(current) = tokens::open(state.store.as_ref(), &token, TokenPurpose::Book).await? else {
                return invalid_link(lang, &switch_href(&token, lang, &[]));
            };
            match no_longer_bookable(state, &current, lang, &token).await {
                Some(page) => page,
                None => times(state, &current, &diary, lang, &token, None, Some(t.taken)).await,
            }
        }
        Ok(LinkBooking::PatientBusy) => {
            let day = at.to_zoned(diary.zone.clone()).date();
            times(state, &opened, &diary, lang, &token, Some(day), Some(t.patient_busy)).await
        }
        Ok(LinkBooking::Taken | LinkBooking::NotOffered) => {
            let day = at.to_zoned(diary.zone.clone()).date();
            times(state, &opened, &diary, lang, &token, Some(day), Some(t.taken)).await
        }
        Err(BookingError::Store(error)) => Err(error.into()),
        Err(_) => Err(Problem::conflict("please try again")),
    }
}
