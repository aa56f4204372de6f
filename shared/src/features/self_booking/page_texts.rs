//! Every text the booking pages show, in English and French, and the translation of the
//! validation messages patients can meet, so no page shows an internal field name or English
//! to a patient reading French.

use crate::domain::validation::FieldError;
use crate::http::html::Lang;

/// The booking pages' texts in one language.
pub struct Texts {
    pub book_title: &'static str,
    pub before_you_book: &'static str,
    pub step_type: &'static str,
    pub step_provider: &'static str,
    pub step_location: &'static str,
    pub step_time: &'static str,
    pub step_details: &'static str,
    pub any_provider: &'static str,
    pub any_location: &'static str,
    pub all_sites: &'static str,
    pub site_filter: &'static str,
    pub asap: &'static str,
    pub minutes_short: &'static str,
    pub next_free: &'static str,
    pub no_times_day: &'static str,
    pub times_count: &'static str,
    pub no_times_week: &'static str,
    pub later: &'static str,
    pub earlier: &'static str,
    pub jump_to_next: &'static str,
    pub nothing_online: &'static str,
    pub not_online_types: &'static str,
    pub speaks: &'static str,
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub date_of_birth: &'static str,
    pub mobile: &'static str,
    pub mobile_hint: &'static str,
    pub email: &'static str,
    pub advisory_tick: &'static str,
    pub referral: &'static str,
    pub referral_rules: &'static str,
    pub confirm: &'static str,
    pub review: &'static str,
    pub what: &'static str,
    pub with_whom: &'static str,
    pub where_: &'static str,
    pub when: &'static str,
    pub phone: &'static str,
    pub map: &'static str,
    pub errors_title: &'static str,
    pub taken: &'static str,
    pub patient_busy: &'static str,
    pub how_to_change: &'static str,
    pub contact_hint: &'static str,
    pub booked_title: &'static str,
    pub done: &'static str,
    pub not_available: &'static str,
    pub start_again: &'static str,
    pub change: &'static str,
    pub choose_again: &'static str,
    pub asap_none: &'static str,
    pub form_reused: &'static str,
    pub try_again: &'static str,
    pub no_time_suits: &'static str,
    pub join_waitlist: &'static str,
}

const EN: Texts = Texts {
    book_title: "Book an appointment",
    before_you_book: "Before you book",
    step_type: "What would you like to book?",
    step_provider: "Who would you like to see?",
    step_location: "Where?",
    step_time: "Choose a time",
    step_details: "Your details",
    any_provider: "Any available clinician",
    any_location: "Any site",
    all_sites: "All sites",
    site_filter: "Site",
    asap: "First available time",
    minutes_short: "min",
    next_free: "Next free",
    no_times_day: "No free times",
    times_count: "free times",
    no_times_week: "No free times this week.",
    later: "Later times",
    earlier: "Earlier times",
    jump_to_next: "Go to the next free time:",
    nothing_online: "There are no times to book online at the moment.",
    not_online_types: "No free times online in the coming weeks for:",
    speaks: "Speaks",
    first_name: "First name",
    last_name: "Last name",
    date_of_birth: "Date of birth",
    mobile: "Mobile number",
    mobile_hint: "For example 07700 900123",
    email: "Email address",
    advisory_tick: "I have read the advice above",
    referral: "Referral letter (optional)",
    referral_rules: "A PDF, JPEG or PNG file of at most 5 MB",
    confirm: "Confirm booking",
    review: "Your appointment",
    what: "Appointment",
    with_whom: "With",
    where_: "Where",
    when: "When",
    phone: "Phone",
    map: "Map",
    errors_title: "Please correct the following",
    taken: "That time was just taken. Please choose another time.",
    patient_busy: "You already have an appointment at that time. Please choose another time.",
    how_to_change: "We have sent you a confirmation with a link to change or cancel this appointment.",
    contact_hint: "Give a mobile number, an email address, or both: your confirmation and reminders go there.",
    booked_title: "Your appointment is booked",
    done: "Done",
    not_available: "Online booking is not available for this clinic.",
    start_again: "Start again",
    change: "Change",
    choose_again: "These choices are no longer offered online. Please choose again.",
    asap_none: "There is no free time online for this choice.",
    form_reused: "This form was already used for another booking. Please start again.",
    try_again: "Something went wrong while booking. Please try again.",
    no_time_suits: "No time suits you?",
    join_waitlist: "Join the waitlist: we tell you when a matching time frees",
};

const FR: Texts = Texts {
    book_title: "Prendre rendez-vous",
    before_you_book: "Avant de réserver",
    step_type: "Quel rendez-vous souhaitez-vous ?",
    step_provider: "Avec qui ?",
    step_location: "Où ?",
    step_time: "Choisissez un horaire",
    step_details: "Vos coordonnées",
    any_provider: "Tout praticien disponible",
    any_location: "Tout lieu",
    all_sites: "Tous les lieux",
    site_filter: "Lieu",
    asap: "Premier horaire disponible",
    minutes_short: "min",
    next_free: "Prochain horaire",
    no_times_day: "Aucun horaire libre",
    times_count: "horaires libres",
    no_times_week: "Aucun horaire libre cette semaine.",
    later: "Horaires suivants",
    earlier: "Horaires précédents",
    jump_to_next: "Aller au prochain horaire libre :",
    nothing_online: "Aucun horaire n'est disponible en ligne pour le moment.",
    not_online_types: "Aucun horaire libre en ligne dans les semaines à venir pour :",
    speaks: "Langues",
    first_name: "Prénom",
    last_name: "Nom",
    date_of_birth: "Date de naissance",
    mobile: "Numéro de mobile",
    mobile_hint: "Par exemple 07700 900123",
    email: "Adresse e-mail",
    advisory_tick: "J'ai lu les conseils ci-dessus",
    referral: "Lettre d'orientation (facultatif)",
    referral_rules: "Un fichier PDF, JPEG ou PNG de 5 Mo au plus",
    confirm: "Confirmer le rendez-vous",
    review: "Votre rendez-vous",
    what: "Rendez-vous",
    with_whom: "Avec",
    where_: "Lieu",
    when: "Date",
    phone: "Téléphone",
    map: "Plan",
    errors_title: "Veuillez corriger les points suivants",
    taken: "Cet horaire vient d'être pris. Veuillez en choisir un autre.",
    patient_busy: "Vous avez déjà un rendez-vous à cet horaire. Veuillez en choisir un autre.",
    how_to_change: "Nous vous avons envoyé une confirmation avec un lien pour modifier ou annuler ce rendez-vous.",
    contact_hint: "Indiquez un numéro de mobile, une adresse e-mail, ou les deux : la confirmation et les rappels y seront envoyés.",
    booked_title: "Votre rendez-vous est confirmé",
    done: "Terminé",
    not_available: "La prise de rendez-vous en ligne n'est pas disponible pour ce cabinet.",
    start_again: "Recommencer",
    change: "Modifier",
    choose_again: "Ces choix ne sont plus proposés en ligne. Veuillez choisir à nouveau.",
    asap_none: "Aucun horaire libre en ligne pour ce choix.",
    form_reused: "Ce formulaire a déjà servi pour un autre rendez-vous. Veuillez recommencer.",
    try_again: "Une erreur est survenue pendant la réservation. Veuillez réessayer.",
    no_time_suits: "Aucun horaire ne vous convient ?",
    join_waitlist: "Inscrivez-vous sur la liste d'attente : nous vous prévenons dès qu'un horaire se libère",
};

/// The texts of a language.
pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &EN,
        Lang::Fr => &FR,
    }
}

impl Texts {
    /// The label the page shows for a field the validation names (`patient.mobile` → "Mobile
    /// number"), so errors speak the page's words.
    pub fn label(&self, field: &str) -> &'static str {
        match field.rsplit('.').next().unwrap_or(field) {
            "first_name" => self.first_name,
            "last_name" => self.last_name,
            "date_of_birth" => self.date_of_birth,
            "mobile" => self.mobile,
            "email" => self.email,
            "advisory_accepted" | "advisory" => self.advisory_tick,
            "referral" | "referral_upload_id" => self.referral,
            "time" | "starts_at" => self.when,
            _ => self.review,
        }
    }
}

/// A validation message in the patient's language. Messages come from the domain in English;
/// every one a patient can meet on these pages has a French text here (a test walks them).
pub fn message(error: &FieldError, lang: Lang) -> String {
    if lang == Lang::En {
        return error.message.clone();
    }
    let text = error.message.as_str();
    if let Some(rest) = text.strip_prefix("must be at most ").and_then(|rest| rest.strip_suffix(" characters")) {
        return format!("doit comporter au plus {rest} caractères");
    }
    let french = match text {
        "must not be empty" => "est obligatoire",
        "must not contain control characters" => "ne doit pas contenir de caractères de contrôle",
        "must be a date, YYYY-MM-DD" => "doit être une date valide",
        "must not be in the future" => "ne peut pas être dans le futur",
        "must be before your appointment" => "doit précéder votre rendez-vous",
        "must be within the last 120 years" => "doit être dans les 120 dernières années",
        "give a mobile number or an email address" => "indiquez un numéro de mobile ou une adresse e-mail",
        "must be a phone number, e.g. 07700 900123 or +44 7700 900123" => {
            "doit être un numéro de téléphone, par exemple 07700 900123 ou +44 7700 900123"
        }
        "must be a phone number in international form, e.g. +447700900123" => {
            "doit être un numéro au format international, par exemple +447700900123"
        }
        "must be an email address such as name@example.com" => {
            "doit être une adresse e-mail, par exemple nom@example.com"
        }
        "the advisory must be read and ticked" => "veuillez lire les conseils et cocher la case",
        "is outside the times this clinic offers online" => "n'est pas un horaire proposé en ligne",
        "A PDF, JPEG or PNG file of at most 5 MB" => "Un fichier PDF, JPEG ou PNG de 5 Mo au plus",
        "is not a time" => "n'est pas un horaire",
        "must not be in the past" => "ne peut pas être dans le passé",
        "must not be before from" => "ne peut pas précéder la date de début",
        "must be within a year of from" => "doit être à moins d'un an de la date de début",
        "is not offered online" => "n'est pas proposé en ligne",
        "must be a UUID" | "must be 8 to 128 characters of letters, digits, '-' and '_'" => {
            "formulaire invalide : veuillez recommencer"
        }
        other => other,
    };
    french.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::contact::Region;
    use crate::domain::patient::{PatientDetails, PatientInput};

    #[test]
    fn every_message_the_details_form_can_produce_has_a_french_text() {
        let today = "2026-12-04".parse().unwrap();
        let bad_inputs = [
            PatientInput::default(),
            PatientInput {
                first_name: "x".repeat(81),
                last_name: "a\u{7}".into(),
                date_of_birth: "2030-01-01".into(),
                mobile: "12".into(),
                email: "nobody".into(),
            },
            PatientInput {
                first_name: "Pat".into(),
                last_name: "Example".into(),
                date_of_birth: "1800-01-01".into(),
                mobile: String::new(),
                email: String::new(),
            },
            PatientInput { date_of_birth: "1 May".into(), ..PatientInput::default() },
        ];
        let mut seen = 0;
        for input in bad_inputs {
            for error in PatientDetails::parse(&input, today, Region::GB, "patient.").unwrap_err() {
                seen += 1;
                let french = message(&error, Lang::Fr);
                assert_ne!(french, error.message, "no French for {:?}", error.message);
                assert_ne!(texts(Lang::Fr).label(&error.field), texts(Lang::Fr).review, "no label for {}", error.field);
            }
        }
        assert!(seen >= 10, "only {seen} messages walked");
    }

    #[test]
    fn english_messages_pass_through_and_labels_are_the_pages_words() {
        let error = FieldError::new("patient.mobile", "must not be empty");
        assert_eq!(message(&error, Lang::En), "must not be empty");
        assert_eq!(texts(Lang::En).label("patient.mobile"), "Mobile number");
        assert_eq!(texts(Lang::Fr).label("patient.mobile"), "Numéro de mobile");
    }
}
