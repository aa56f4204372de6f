//! "Tell me if an earlier time frees up", from an appointment's manage page: the patient, already
//! verified there, joins the waitlist for the same booking type before their appointment's day,
//! with the same clinician or any. Their details come from the appointment, so they type nothing
//! again; taking an offer moves this appointment (`WaitlistEntry::moves`) instead of booking a
//! second one.

use std::collections::HashMap;

use jiff::civil::Date;
use maud::{Markup, html};
use serde::Deserialize;

use super::pages::{When, add};
use crate::app::AppState;
use crate::domain::appointment::Appointment;
use crate::domain::clinic::Clinic;
use crate::domain::validation::FieldError;
use crate::domain::waitlist::{EntrySource, WaitlistEntry};
use crate::features::self_booking::page_texts::{message, texts as booking_texts};
use crate::http::Problem;
use crate::http::html::Lang;

/// The earlier-time form as posted (the manage page's grant travels beside it).
#[derive(Default, Deserialize)]
pub(crate) struct EarlierForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    part: String,
    /// `same` (this appointment's clinician) or `any`.
    #[serde(default)]
    with: String,
    #[serde(flatten)]
    rest: HashMap<String, String>,
}

struct Texts {
    offer: &'static str,
    ask: &'static str,
    title: &'static str,
    intro: &'static str,
    same: &'static str,
    any: &'static str,
    with: &'static str,
    join: &'static str,
    joined_title: &'static str,
    joined: &'static str,
}

const EN: Texts = Texts {
    offer: "Would an earlier time suit you better?",
    ask: "Tell me if an earlier time frees up",
    title: "An earlier time",
    intro: "Tell us when you could come. If a matching time frees up before your appointment we text or email you a link; taking it moves this appointment. Until then you keep it.",
    same: "Only with",
    any: "Any available clinician",
    with: "With",
    join: "Join the waitlist",
    joined_title: "You are on the waitlist for an earlier time",
    joined: "You keep your appointment. If a matching earlier time frees up we will text or email you; taking it moves your appointment.",
};

const FR: Texts = Texts {
    offer: "Un horaire plus tôt vous conviendrait-il mieux ?",
    ask: "Me prévenir si un horaire plus tôt se libère",
    title: "Un horaire plus tôt",
    intro: "Indiquez quand vous pourriez venir. Si un horaire correspondant se libère avant votre rendez-vous, nous vous envoyons un lien par SMS ou e-mail ; l'accepter déplace ce rendez-vous. D'ici là, vous le gardez.",
    same: "Uniquement avec",
    any: "N'importe quel praticien disponible",
    with: "Avec",
    join: "S'inscrire sur la liste d'attente",
    joined_title: "Vous êtes sur la liste d'attente pour un horaire plus tôt",
    joined: "Vous gardez votre rendez-vous. Si un horaire plus tôt correspondant se libère, nous vous préviendrons par SMS ou e-mail ; l'accepter déplacera votre rendez-vous.",
};

fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &EN,
        Lang::Fr => &FR,
    }
}

/// The last day an earlier time may be on: the day before the appointment (`None` when that is
/// before `today`, so there is nothing earlier to wait for).
pub(crate) fn last_day(clinic: &Clinic, appointment: &Appointment, today: Date) -> Option<Date> {
    let day = appointment.starts_at.to_zoned(clinic.time_zone.zone()).date();
    day.yesterday().ok().filter(|last| *last >= today)
}

/// The manage page's invitation: a button opening the form (`hidden` carries the grant).
pub(crate) fn invitation(lang: Lang, path: &str, hidden: Markup) -> Markup {
    let t = texts(lang);
    html! {
        h2 { (t.offer) }
        form method="post" action=(path) {
            input type="hidden" name="action" value="waitlist";
            (hidden)
            button.secondary type="submit" { (t.ask) }
        }
    }
}

/// The form: dates up to the day before the appointment, weekdays, part of day, clinician.
#[allow(clippy::too_many_arguments)]
pub(crate) fn form(
    lang: Lang,
    path: &str,
    hidden: Markup,
    provider_name: &str,
    any_allowed: bool,
    today: Date,
    last: Date,
    posted: &EarlierForm,
    errors: &[FieldError],
) -> Markup {
    let t = texts(lang);
    let words = booking_texts(lang);
    let when = When::of(&posted.from, &posted.to, &posted.part, &posted.rest);
    let same = posted.with != "any";
    html! {
        h1 { (t.title) }
        p { (t.intro) }
        @if !errors.is_empty() {
            div.errors role="alert" {
                h2 { (words.errors_title) }
                ul { @for error in errors {
                    li { (When::label(lang, &error.field).unwrap_or_else(|| words.label(&error.field))) ": " (message(error, lang)) }
                } }
            }
        }
        form method="post" action=(path) {
            input type="hidden" name="action" value="join_waitlist";
            (hidden)
            (when.fields(lang, &today.to_string(), &last.to_string(), errors))
            fieldset {
                legend { (t.with) }
                label.inline { input type="radio" name="with" value="same" checked[same]; " " (t.same) " " (provider_name) }
                @if any_allowed {
                    label.inline { input type="radio" name="with" value="any" checked[!same]; " " (t.any) }
                }
            }
            button.primary type="submit" { (t.join) }
        }
    }
}

/// Joins the waitlist for an earlier time than `appointment`: `Err` names the bad fields.
pub(crate) async fn join(
    state: &AppState,
    clinic: &Clinic,
    appointment: &Appointment,
    posted: &EarlierForm,
    lang: Lang,
) -> Result<Result<WaitlistEntry, Vec<FieldError>>, Problem> {
    let today = state.clock.now().to_zoned(clinic.time_zone.zone()).date();
    let Some(last) = last_day(clinic, appointment, today) else {
        return Ok(Err(vec![FieldError::new("to", "must be before your appointment")]));
    };
    // An appointment booked through a link stays with its clinician and site: the link's rule
    // may allow no other.
    let from_link = appointment.lifecycle.booking_link_id.is_some();
    let provider = (from_link || posted.with != "any").then(|| appointment.provider_id.clone());
    let location = from_link.then(|| appointment.location_id.clone());
    let when = When::of(&posted.from, &posted.to, &posted.part, &posted.rest);
    let preferences = match when.preferences(appointment.booking_type_id.clone(), provider, location, today) {
        Ok(preferences) => preferences,
        Err(errors) => return Ok(Err(errors)),
    };
    if preferences.to > last {
        return Ok(Err(vec![FieldError::new("to", "must be before your appointment")]));
    }
    // One waiting entry per appointment: joining again (a double submit, a second visit) keeps
    // the first.
    let moves = Some(appointment.id.to_string());
    let existing = super::entries(state, &clinic.id).await?.into_iter().find(|stored| {
        stored.entry.moves == moves && stored.entry.status == crate::domain::waitlist::EntryStatus::Waiting
    });
    if let Some(existing) = existing {
        return Ok(Ok(existing.entry));
    }
    let lang = Some(lang.code().to_owned());
    let entry =
        add(state, &clinic.id, preferences, appointment.patient.clone(), lang, EntrySource::Patient, moves).await?;
    Ok(Ok(entry))
}

/// What the patient sees once on the list.
pub(crate) fn joined(lang: Lang) -> Markup {
    let t = texts(lang);
    html! { h1 { (t.joined_title) } p role="status" { (t.joined) } }
}
