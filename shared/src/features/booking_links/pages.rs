//! What the link pages and the manage pages share: their texts in English and French, the
//! appointment's details, the rule's information, the slot list and the refusal pages.

use std::collections::BTreeMap;

use http::StatusCode;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use lambda_http::{Body, Response};
use maud::{Markup, PreEscaped, html};

use super::tokens::OpenedLink;
use crate::domain::appointment::Appointment;
use crate::domain::availability::OfferedSlot;
use crate::domain::booking_link::BroadcastRule;
use crate::domain::booking_type::BookingType;
use crate::domain::clinic::{Clinic, ClinicId};
use crate::domain::location::Location;
use crate::domain::provider::Provider;
use crate::http::Problem;
use crate::http::html::{
    ClinicFrame, Lang, clinic_document, document, html_response, html_response_with_images, long_date, long_time,
};
use crate::store::{Store, StoreError, keys};

/// Every text of the link and manage pages, per language.
pub(crate) struct Texts {
    pub continue_to_book: &'static str,
    pub choose_time: &'static str,
    pub no_slots: &'static str,
    pub later: &'static str,
    pub earlier: &'static str,
    pub review: &'static str,
    pub confirm: &'static str,
    pub change_time: &'static str,
    pub booked_title: &'static str,
    pub what: &'static str,
    pub with_whom: &'static str,
    pub where_: &'static str,
    pub when: &'static str,
    pub phone_us: &'static str,
    pub cancellation_policy: &'static str,
    pub website: &'static str,
    pub expired_title: &'static str,
    pub deleted_title: &'static str,
    pub phone_to_book: &'static str,
    pub invalid_title: &'static str,
    pub invalid_help: &'static str,
    pub taken: &'static str,
    pub unavailable: &'static str,
    pub manage_title: &'static str,
    pub verify_intro: &'static str,
    pub date_of_birth: &'static str,
    pub date_hint: &'static str,
    pub continue_: &'static str,
    pub wrong_answer: &'static str,
    pub locked: &'static str,
    pub verify_again: &'static str,
    pub reschedule: &'static str,
    pub confirm_reschedule: &'static str,
    pub rescheduled_title: &'static str,
    pub cancelled: &'static str,
    pub bad_date: &'static str,
    pub cancel: &'static str,
    pub cancel_question: &'static str,
    pub confirm_cancel: &'static str,
    pub keep: &'static str,
    pub cancelled_title: &'static str,
    pub too_late: &'static str,
    pub patient_busy: &'static str,
}

const EN: Texts = Texts {
    continue_to_book: "Continue to book appointment",
    choose_time: "Choose a time",
    no_slots: "No free times in these days.",
    later: "Later times",
    earlier: "Earlier times",
    review: "Check your appointment",
    confirm: "Confirm appointment",
    change_time: "Choose another time",
    booked_title: "Your appointment is booked",
    what: "Appointment",
    with_whom: "With",
    where_: "Where",
    when: "When",
    phone_us: "Phone us",
    cancellation_policy: "Cancellation policy",
    website: "Our website",
    expired_title: "This link has expired",
    deleted_title: "This link is no longer valid",
    phone_to_book: "Please phone the clinic to book.",
    invalid_title: "This link is not valid",
    invalid_help: "Check that you opened the whole link from your message, or phone the clinic.",
    taken: "That time was just taken. Please choose another time.",
    unavailable: "This appointment can no longer be booked online. Please phone the clinic.",
    manage_title: "Your appointment",
    verify_intro: "To see your appointment, please enter your date of birth.",
    date_of_birth: "Date of birth",
    date_hint: "For example 1980-05-17",
    continue_: "Continue",
    wrong_answer: "That does not match our records. Attempts left:",
    locked: "Too many attempts. Please phone the clinic.",
    verify_again: "For your security, please enter your date of birth again.",
    reschedule: "Choose a new time",
    confirm_reschedule: "Confirm new time",
    rescheduled_title: "Your appointment has been moved",
    cancelled: "This appointment was cancelled.",
    bad_date: "Enter a date, for example 1980-05-17",
    cancel: "Cancel this appointment",
    cancel_question: "Do you want to cancel this appointment? The time will be offered to other patients.",
    confirm_cancel: "Yes, cancel it",
    keep: "No, keep it",
    cancelled_title: "Your appointment is cancelled",
    too_late: "This appointment can no longer be changed online. Please phone the clinic.",
    patient_busy: "You already have an appointment at that time. Please choose another time.",
};

const FR: Texts = Texts {
    continue_to_book: "Continuer vers la prise de rendez-vous",
    choose_time: "Choisissez un horaire",
    no_slots: "Aucun horaire libre sur ces jours.",
    later: "Horaires suivants",
    earlier: "Horaires précédents",
    review: "Vérifiez votre rendez-vous",
    confirm: "Confirmer le rendez-vous",
    change_time: "Choisir un autre horaire",
    booked_title: "Votre rendez-vous est confirmé",
    what: "Rendez-vous",
    with_whom: "Avec",
    where_: "Lieu",
    when: "Date",
    phone_us: "Appelez-nous",
    cancellation_policy: "Conditions d'annulation",
    website: "Notre site",
    expired_title: "Ce lien a expiré",
    deleted_title: "Ce lien n'est plus valide",
    phone_to_book: "Veuillez appeler le cabinet pour prendre rendez-vous.",
    invalid_title: "Ce lien n'est pas valide",
    invalid_help: "Vérifiez que vous avez ouvert le lien complet de votre message, ou appelez le cabinet.",
    taken: "Cet horaire vient d'être pris. Veuillez en choisir un autre.",
    unavailable: "Ce rendez-vous ne peut plus être pris en ligne. Veuillez appeler le cabinet.",
    manage_title: "Votre rendez-vous",
    verify_intro: "Pour voir votre rendez-vous, indiquez votre date de naissance.",
    date_of_birth: "Date de naissance",
    date_hint: "Par exemple 1980-05-17",
    continue_: "Continuer",
    wrong_answer: "Cela ne correspond pas à nos informations. Essais restants :",
    locked: "Trop d'essais. Veuillez appeler le cabinet.",
    verify_again: "Pour votre sécurité, indiquez à nouveau votre date de naissance.",
    reschedule: "Choisissez un nouvel horaire",
    confirm_reschedule: "Confirmer le nouvel horaire",
    rescheduled_title: "Votre rendez-vous a été déplacé",
    cancelled: "Ce rendez-vous a été annulé.",
    bad_date: "Indiquez une date, par exemple 1980-05-17",
    cancel: "Annuler ce rendez-vous",
    cancel_question: "Voulez-vous annuler ce rendez-vous ? L'horaire sera proposé à d'autres patients.",
    confirm_cancel: "Oui, l'annuler",
    keep: "Non, le garder",
    cancelled_title: "Votre rendez-vous est annulé",
    too_late: "Ce rendez-vous ne peut plus être modifié en ligne. Veuillez appeler le cabinet.",
    patient_busy: "Vous avez déjà un rendez-vous à cet horaire. Veuillez en choisir un autre.",
};

/// The texts of `lang`.
pub(crate) fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &EN,
        Lang::Fr => &FR,
    }
}

/// Fills `{name}` holes of a fixed text.
pub fn fill(text: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(text.to_owned(), |text, (name, value)| text.replace(&format!("{{{name}}}"), value))
}

/// Days of slots one page shows.
pub const DAYS_SHOWN: i64 = 7;

/// A page of the link or manage flow: in the clinic's frame (name, logo, colours, phone,
/// address, hours) when the clinic is known, else plain (an unknown token names no clinic).
pub fn page(
    lang: Lang,
    clinic: Option<&Clinic>,
    status: StatusCode,
    title: &str,
    switch_href: &str,
    body: Markup,
) -> Result<Response<Body>, Problem> {
    match clinic {
        // A rule's welcome page may show its own https logo: images are always allowed here.
        Some(clinic) => {
            let frame = ClinicFrame { name: &clinic.name, branding: &clinic.branding };
            html_response_with_images(status, clinic_document(lang, title, switch_href, &frame, body))
        }
        None => html_response(status, document(lang, title, switch_href, body)),
    }
}

/// The page for an unknown or malformed token: it names no clinic, so it gives nothing away.
pub fn invalid_link(lang: Lang, switch_href: &str) -> Result<Response<Body>, Problem> {
    let t = texts(lang);
    page(
        lang,
        None,
        StatusCode::NOT_FOUND,
        t.invalid_title,
        switch_href,
        html! { h1 { (t.invalid_title) } p { (t.invalid_help) } },
    )
}

/// The clinic's phone number as a link: the rule's own, else the clinic profile's.
pub fn phone_line(rule: &BroadcastRule, clinic: &Clinic, lang: Lang) -> Markup {
    let t = texts(lang);
    let phone = rule
        .confirmation
        .phone
        .as_ref()
        .map(|phone| phone.as_str().to_owned())
        .or_else(|| clinic.branding.phone.clone());
    html! {
        @if let Some(phone) = phone {
            p { (t.phone_us) ": " a href={ "tel:" (phone.replace(' ', "")) } { (phone) } }
        }
    }
}

/// A refusal page (expired, deleted, locked, unavailable) with the clinic's phone number.
pub fn refusal(
    opened: &OpenedLink,
    lang: Lang,
    status: StatusCode,
    title: &str,
    help: &str,
    switch_href: &str,
) -> Result<Response<Body>, Problem> {
    let body = html! {
        h1 { (title) }
        p { (help) }
        (phone_line(&opened.rule, &opened.clinic, lang))
    };
    page(lang, Some(&opened.clinic), status, title, switch_href, body)
}

/// Names of what an appointment is, with whom and where.
pub struct Described {
    /// Booking type.
    pub what: String,
    /// Provider.
    pub with_whom: String,
    /// Location and address.
    pub where_: String,
}

/// Reads the names of an appointment's booking type, provider and location.
pub async fn describe(
    store: &dyn Store,
    clinic: &ClinicId,
    appointment: &Appointment,
) -> Result<Described, StoreError> {
    let booking_type: Option<BookingType> = store
        .get(&keys::entry(clinic, keys::BOOKING_TYPE_PREFIX, appointment.booking_type_id.as_str()))
        .await?
        .map(|item| item.record())
        .transpose()?;
    let provider: Option<Provider> = store
        .get(&keys::entry(clinic, keys::PROVIDER_PREFIX, appointment.provider_id.as_str()))
        .await?
        .map(|item| item.record())
        .transpose()?;
    let location: Option<Location> = store
        .get(&keys::entry(clinic, keys::LOCATION_PREFIX, appointment.location_id.as_str()))
        .await?
        .map(|item| item.record())
        .transpose()?;
    Ok(Described {
        what: booking_type.map(|bt| bt.long_name).unwrap_or_default(),
        with_whom: provider.map(|p| format!("{}, {}", p.name, p.professional_title)).unwrap_or_default(),
        where_: location.map(|l| format!("{}, {}", l.full_name, l.primary_address)).unwrap_or_default(),
    })
}

/// The appointment's details.
pub fn details(described: &Described, starts_at: Timestamp, zone: &TimeZone, lang: Lang) -> Markup {
    let t = texts(lang);
    html! {
        dl {
            dt { (t.what) } dd { (described.what) }
            dt { (t.with_whom) } dd { (described.with_whom) }
            dt { (t.where_) } dd { (described.where_) }
            dt { (t.when) } dd { (long_time(starts_at, zone, lang)) }
        }
    }
}

/// The rule's confirmation information: phone, policy, website, text.
pub fn information(rule: &BroadcastRule, clinic: &Clinic, lang: Lang) -> Markup {
    let t = texts(lang);
    let info = &rule.confirmation;
    html! {
        (phone_line(rule, clinic, lang))
        @if let Some(url) = &info.cancellation_policy_url { p { a href=(url) rel="noopener noreferrer" { (t.cancellation_policy) } } }
        @if let Some(url) = &info.website_url { p { a href=(url) rel="noopener noreferrer" { (t.website) } } }
        @if let Some(text) = info.text_fr.as_ref().filter(|_| lang == Lang::Fr).or(info.text.as_ref()) { p { (text) } }
    }
}

/// The rule's welcome content: logo and sanitised rich text, in French when the rule has it.
pub fn welcome(rule: &BroadcastRule, lang: Lang) -> Markup {
    let french = &rule.welcome.body_html_fr;
    let body = if lang == Lang::Fr && !french.as_html().trim().is_empty() { french } else { &rule.welcome.body_html };
    html! {
        @if let Some(logo) = &rule.welcome.logo_url { img.logo src=(logo) alt=""; }
        // Sanitised when the rule was saved (`RichText::sanitise`): only safe tags and links remain.
        div.welcome { (PreEscaped(body.as_html())) }
    }
}

/// Free slots grouped by local day, each a submit button named `time`.
pub fn slot_buttons(slots: &[OfferedSlot], zone: &TimeZone, lang: Lang) -> Markup {
    let t = texts(lang);
    let mut by_day: BTreeMap<Date, Vec<Timestamp>> = BTreeMap::new();
    for slot in slots {
        let day = by_day.entry(slot.starts_at.to_zoned(zone.clone()).date()).or_default();
        if !day.contains(&slot.starts_at) {
            day.push(slot.starts_at);
        }
    }
    html! {
        @if by_day.is_empty() { p { (t.no_slots) } }
        @for (day, times) in &by_day {
            h3 id={ "day-" (day) } { (long_date(*day, lang)) }
            ul.slots aria-labelledby={ "day-" (day) } {
                @for at in times {
                    li { button type="submit" name="time" value=(at.to_string()) aria-label=(long_time(*at, zone, lang)) {
                        (at.to_zoned(zone.clone()).strftime("%H:%M"))
                    } }
                }
            }
        }
    }
}

/// The days a slot page shows, starting at `day` (clamped to the bookable days), and the first
/// days of the previous and next pages.
pub fn page_days(day: Option<Date>, first: Date, last: Date) -> (Date, Date, Option<Date>, Option<Date>) {
    let from = day.unwrap_or(first).min(last).max(first);
    let to = from.checked_add(jiff::Span::new().days(DAYS_SHOWN - 1)).unwrap_or(from).min(last);
    let next = to.tomorrow().ok().filter(|next| *next <= last);
    let previous =
        (from > first).then(|| from.checked_sub(jiff::Span::new().days(DAYS_SHOWN)).unwrap_or(first).max(first));
    (from, to, previous, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_pages_stay_inside_the_bookable_days() {
        let day = |text: &str| text.parse::<Date>().unwrap();
        let (first, last) = (day("2026-11-22"), day("2026-12-20"));
        assert_eq!(page_days(None, first, last), (first, day("2026-11-28"), None, Some(day("2026-11-29"))));
        assert_eq!(
            page_days(Some(day("2026-12-18")), first, last),
            (day("2026-12-18"), last, Some(day("2026-12-11")), None)
        );
        assert_eq!(page_days(Some(day("2027-01-01")), first, last).0, last);
        assert_eq!(page_days(Some(day("2026-01-01")), first, last).0, first);
    }

    #[test]
    fn fixed_texts_fill_their_holes() {
        let text = fill("Your {what} appointment at {clinic}.", &[("what", "GP"), ("clinic", "Demo")]);
        assert_eq!(text, "Your GP appointment at Demo.");
    }
}
