//! Messages about one appointment, whatever channel booked it: the confirmation, a change, a
//! cancellation and reminders; the clinic's settings for them; when the next reminder is due;
//! and the texts and calendar invite each message carries. Pure: time is passed in.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, EventLike, EventStatus, Property};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::appointment::AppointmentId;
use super::validation::FieldError;

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// The booking is confirmed.
    Confirmation,
    /// The appointment moved (time, clinician or site).
    Rescheduled,
    /// The appointment was cancelled.
    Cancelled,
    /// A reminder before the appointment.
    Reminder,
}

impl MessageKind {
    /// The kind's name, as in template names.
    pub fn name(self) -> &'static str {
        match self {
            Self::Confirmation => "confirmation",
            Self::Rescheduled => "rescheduled",
            Self::Cancelled => "cancelled",
            Self::Reminder => "reminder",
        }
    }

    /// Whether the message carries a manage link (a cancellation has nothing left to manage).
    pub fn has_manage_link(self) -> bool {
        !matches!(self, Self::Cancelled)
    }
}

/// How a message reaches the patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageChannel {
    /// A text message to the patient's mobile.
    Sms,
    /// An email (with a calendar invite, except for reminders).
    Email,
}

/// Where one message stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum MessageStatus {
    /// Recorded with its cause; waiting for the runner.
    Queued,
    /// Claimed by a runner that is sending it now.
    Sending {
        /// When the claim was taken.
        #[schema(value_type = String, format = DateTime)]
        since: Timestamp,
    },
    /// The provider accepted it.
    Sent {
        /// The provider's message id (SNS or SES, or the local outbox id).
        provider_message_id: String,
    },
    /// It could not be sent; staff are told.
    Failed {
        /// Why.
        reason: String,
    },
    /// A runner was lost while sending: it may or may not have gone; staff are told, and it is
    /// not sent again (a duplicate is worse than a gap a phone call fills).
    Unknown,
    /// Not sent, on purpose.
    Skipped {
        /// Why (cancelled, moved, no contact detail, past its time).
        reason: String,
    },
}

impl MessageStatus {
    /// Whether the message still waits for the runner.
    pub fn is_queued(&self) -> bool {
        matches!(self, Self::Queued)
    }

    /// Whether staff should look at it.
    pub fn needs_staff(&self) -> bool {
        matches!(self, Self::Failed { .. } | Self::Unknown)
    }
}

/// One message about an appointment, as recorded (no patient data: the text is rendered when
/// it is sent, from the appointment as it stands then).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppointmentMessage {
    /// Identifier (a UUIDv7, so ids sort by creation).
    pub id: String,
    /// The appointment.
    pub appointment_id: AppointmentId,
    /// What it is about.
    pub kind: MessageKind,
    /// SMS or email.
    pub channel: MessageChannel,
    /// The appointment's sequence when the message was queued: a reminder of an older sequence
    /// (the appointment moved meanwhile) is skipped; an invite carries it as its SEQUENCE.
    pub sequence: u32,
    /// For reminders: which of the clinic's reminder rules.
    #[serde(default)]
    pub reminder_index: Option<u16>,
    /// When it is due.
    pub due_at: Timestamp,
    /// Where it stands.
    pub status: MessageStatus,
    /// Deliveries that failed for a passing reason.
    #[serde(default)]
    pub attempts: u32,
    /// When it was recorded.
    pub created_at: Timestamp,
    /// When its status last changed.
    pub updated_at: Timestamp,
}

impl AppointmentMessage {
    /// A queued message.
    pub fn queued(
        appointment_id: AppointmentId,
        kind: MessageKind,
        channel: MessageChannel,
        sequence: u32,
        due_at: Timestamp,
        now: Timestamp,
    ) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            appointment_id,
            kind,
            channel,
            sequence,
            reminder_index: None,
            due_at,
            status: MessageStatus::Queued,
            attempts: 0,
            created_at: now,
            updated_at: now,
        }
    }

    /// The template that renders it, e.g. `confirmation.sms`.
    pub fn template(&self) -> String {
        let channel = match self.channel {
            MessageChannel::Sms => "sms",
            MessageChannel::Email => "email",
        };
        format!("{}.{channel}", self.kind.name())
    }
}

/// Sends that fail for a passing reason before a message is marked failed.
pub const MAX_SEND_ATTEMPTS: u32 = 5;

/// How long to wait before the next attempt after `attempts` failed ones: 1, 2, 4, 8 minutes.
pub fn retry_delay(attempts: u32) -> SignedDuration {
    SignedDuration::from_mins(1 << attempts.saturating_sub(1).min(10))
}

/// How long a claim protects a send in progress before a later delivery calls it lost.
pub const CLAIM_LEASE: SignedDuration = SignedDuration::from_mins(2);

/// One reminder the clinic sends before every appointment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReminderRule {
    /// Hours before the appointment (1 to 336).
    #[schema(minimum = 1, maximum = 336)]
    pub hours_before: u32,
    /// SMS or email.
    pub channel: MessageChannel,
    /// A Patient Connect template of that kind, with its merge fields (`{patient.first_name}`,
    /// `{clinic.name}`, `{provider.name}`, `{booking.date}`, `{booking.time}`, …); the manage link
    /// follows its text. None: the standard text.
    #[serde(default)]
    pub template_id: Option<String>,
}

/// A clinic's settings for the appointment lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LifecycleSettings {
    /// Whether reminders are sent.
    pub reminders_enabled: bool,
    /// The reminders, earliest first (most hours before).
    pub reminders: Vec<ReminderRule>,
    /// No changes online (reschedule or cancel through the manage link) within this many hours
    /// of the appointment: the page shows the clinic's phone number instead.
    pub online_change_cutoff_hours: u32,
    /// Whether patients may reschedule through the manage link (a booking link's rule may
    /// still forbid it for its own bookings).
    pub online_reschedule: bool,
    /// The number patients phone when they cannot change online (shown on the manage page).
    #[serde(default)]
    pub phone: Option<String>,
    /// How waitlist offers go out.
    #[serde(default)]
    pub waitlist: crate::domain::waitlist::WaitlistSettings,
}

impl Default for LifecycleSettings {
    fn default() -> Self {
        Self {
            reminders_enabled: true,
            reminders: vec![ReminderRule { hours_before: 24, channel: MessageChannel::Sms, template_id: None }],
            online_change_cutoff_hours: 0,
            online_reschedule: true,
            phone: None,
            waitlist: crate::domain::waitlist::WaitlistSettings::default(),
        }
    }
}

/// Lifecycle settings as an admin sends them (absent fields stay as they are).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleSettingsInput {
    /// Whether reminders are sent.
    pub reminders_enabled: Option<bool>,
    /// The reminders (at most 5, each 1 to 336 hours before, no two at the same time).
    pub reminders: Option<Vec<ReminderRule>>,
    /// No changes online within this many hours of the appointment (0 to 336).
    #[schema(minimum = 0, maximum = 336)]
    pub online_change_cutoff_hours: Option<u32>,
    /// Whether patients may reschedule through the manage link.
    pub online_reschedule: Option<bool>,
    /// The clinic's phone number for patients (up to 30 characters; empty removes it).
    pub phone: Option<String>,
    /// How long a waitlist offer may be taken and how many patients are offered a time at once.
    pub waitlist: Option<crate::domain::waitlist::WaitlistSettings>,
}

impl LifecycleSettings {
    /// These settings with `input` applied, or every bad field.
    pub fn apply(&self, input: &LifecycleSettingsInput) -> Result<Self, Vec<FieldError>> {
        let mut next = self.clone();
        let mut errors = Vec::new();
        if let Some(enabled) = input.reminders_enabled {
            next.reminders_enabled = enabled;
        }
        if let Some(waitlist) = input.waitlist {
            match waitlist.check() {
                Ok(()) => next.waitlist = waitlist,
                Err(found) => errors.extend(found),
            }
        }
        if let Some(rules) = &input.reminders {
            if rules.len() > 5 {
                errors.push(FieldError::new("reminders", "must hold at most 5 reminders"));
            }
            for (index, rule) in rules.iter().enumerate() {
                if !(1..=336).contains(&rule.hours_before) {
                    errors.push(FieldError::new(format!("reminders[{index}].hours_before"), "must be 1 to 336 hours"));
                }
                if rules[..index].iter().any(|earlier| earlier == rule) {
                    errors.push(FieldError::new(format!("reminders[{index}]"), "repeats an earlier reminder"));
                }
            }
            let mut sorted = rules.clone();
            sorted.sort_by_key(|rule| std::cmp::Reverse(rule.hours_before));
            next.reminders = sorted;
        }
        if let Some(hours) = input.online_change_cutoff_hours {
            if hours > 336 {
                errors.push(FieldError::new("online_change_cutoff_hours", "must be 0 to 336 hours"));
            }
            next.online_change_cutoff_hours = hours;
        }
        if let Some(allowed) = input.online_reschedule {
            next.online_reschedule = allowed;
        }
        if let Some(phone) = &input.phone {
            let phone = phone.trim();
            if phone.chars().count() > 30 || phone.chars().any(char::is_control) {
                errors.push(FieldError::new("phone", "must be at most 30 characters"));
            }
            next.phone = (!phone.is_empty()).then(|| phone.to_owned());
        }
        if errors.is_empty() { Ok(next) } else { Err(errors) }
    }

    /// The next reminder at or after rule `from` of an appointment starting at `starts_at`:
    /// its rule index and when it is due. A reminder whose time has passed is never due (a
    /// booking made an hour ahead gets no 24-hour reminder).
    pub fn next_reminder(&self, starts_at: Timestamp, now: Timestamp, from: usize) -> Option<(u16, Timestamp)> {
        if !self.reminders_enabled {
            return None;
        }
        self.reminders.iter().enumerate().skip(from).find_map(|(index, rule)| {
            let at = starts_at.checked_sub(SignedDuration::from_hours(i64::from(rule.hours_before))).ok()?;
            (at > now).then_some((u16::try_from(index).ok()?, at))
        })
    }

    /// Whether the patient may still change an appointment starting at `starts_at` online.
    pub fn changes_allowed(&self, starts_at: Timestamp, now: Timestamp) -> bool {
        let cutoff = SignedDuration::from_hours(i64::from(self.online_change_cutoff_hours));
        starts_at.checked_sub(cutoff).is_ok_and(|latest| now < latest)
    }
}

/// What a message says about its appointment, gathered when it is sent.
#[derive(Debug, Clone)]
pub struct MessageContext<'a> {
    /// The clinic's name.
    pub clinic: &'a str,
    /// The clinic's phone number, if any.
    pub clinic_phone: Option<&'a str>,
    /// What (the booking type's patient-facing name).
    pub what: &'a str,
    /// With whom.
    pub with_whom: &'a str,
    /// Where: the site's name.
    pub site: &'a str,
    /// The site's address.
    pub address: &'a str,
    /// The site's booking phone.
    pub site_phone: Option<&'a str>,
    /// The patient's first name.
    pub first_name: &'a str,
    /// When, in the clinic's zone.
    pub starts_at: Timestamp,
    /// How long.
    pub duration_minutes: u32,
    /// The clinic's zone.
    pub zone: &'a TimeZone,
    /// `en` or `fr`.
    pub lang: &'a str,
    /// The manage link, when the message carries one.
    pub manage_url: Option<&'a str>,
}

/// The texts of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMessage {
    /// Subject (email only).
    pub subject: String,
    /// Plain text (the SMS, or the email's text part).
    pub text: String,
    /// The email's HTML part (escaped).
    pub html: String,
}

struct Words {
    confirmation: &'static str,
    rescheduled: &'static str,
    cancelled: &'static str,
    reminder: &'static str,
    with: &'static str,
    at: &'static str,
    on: &'static str,
    manage: &'static str,
    phone: &'static str,
    rebook: &'static str,
    hello: &'static str,
    colon: &'static str,
}

const EN: Words = Words {
    confirmation: "Your appointment is booked",
    rescheduled: "Your appointment has moved",
    cancelled: "Your appointment is cancelled",
    reminder: "Reminder of your appointment",
    with: "with",
    at: "at",
    on: "on",
    manage: "View, change or cancel",
    phone: "Phone",
    rebook: "To book again, use the clinic's booking page or phone",
    hello: "Hello",
    colon: ":",
};

const FR: Words = Words {
    confirmation: "Votre rendez-vous est réservé",
    rescheduled: "Votre rendez-vous a été déplacé",
    cancelled: "Votre rendez-vous est annulé",
    reminder: "Rappel de votre rendez-vous",
    with: "avec",
    at: "à",
    on: "le",
    manage: "Voir, modifier ou annuler",
    phone: "Téléphone",
    rebook: "Pour reprendre rendez-vous, utilisez la page de réservation ou appelez",
    hello: "Bonjour",
    colon: "\u{a0}:",
};

const DAYS_EN: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS_FR: [&str; 7] = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];
const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// A day as patients read it, on pages and in messages: `Friday 4 December 2026`,
/// `vendredi 4 décembre 2026`.
pub fn long_date(date: jiff::civil::Date, lang: &str) -> String {
    let (days, months) = if lang == "fr" { (&DAYS_FR, &MONTHS_FR) } else { (&DAYS_EN, &MONTHS_EN) };
    let weekday = days[usize::from(date.weekday().to_monday_zero_offset().unsigned_abs())];
    let month = months[usize::from(date.month().unsigned_abs()) - 1];
    format!("{weekday} {} {month} {}", date.day(), date.year())
}

/// Text made safe inside HTML.
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Renders one message of `kind` from `context`.
pub fn render(kind: MessageKind, context: &MessageContext<'_>) -> RenderedMessage {
    let words = if context.lang == "fr" { &FR } else { &EN };
    let headline = match kind {
        MessageKind::Confirmation => words.confirmation,
        MessageKind::Rescheduled => words.rescheduled,
        MessageKind::Cancelled => words.cancelled,
        MessageKind::Reminder => words.reminder,
    };
    let local = context.starts_at.to_zoned(context.zone.clone());
    let day = long_date(local.date(), context.lang);
    let when = format!("{} {day} {} {}", words.on, words.at, local.strftime("%H:%M"));
    let phone = context.site_phone.or(context.clinic_phone);
    let mut lines = vec![
        format!(
            "{headline} ({}){} {} {} {}, {when}.",
            context.clinic, words.colon, context.what, words.with, context.with_whom
        ),
        format!("{}, {}.", context.site, context.address),
    ];
    if let Some(phone) = phone {
        lines.push(format!("{}{} {phone}", words.phone, words.colon));
    }
    match (kind, context.manage_url) {
        (MessageKind::Cancelled, _) => lines.push(format!("{}.", words.rebook)),
        (_, Some(url)) => lines.push(format!("{}{} {url}", words.manage, words.colon)),
        (_, None) => {}
    }
    let text = lines.join("\n");
    let subject = format!("{headline}{} {} – {day} {}", words.colon, context.what, local.strftime("%H:%M"));
    let mut html = format!("<p>{} {},</p>", words.hello, escape_html(context.first_name));
    for line in &lines {
        match (context.manage_url, kind.has_manage_link()) {
            (Some(url), true) if line.ends_with(url) => {
                html.push_str(&format!("<p><a href=\"{}\">{}</a></p>", escape_html(url), escape_html(words.manage)));
            }
            _ => html.push_str(&format!("<p>{}</p>", escape_html(line))),
        }
    }
    RenderedMessage { subject, text, html }
}

/// The iCalendar method of an invite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteMethod {
    /// A new or changed appointment.
    Request,
    /// A cancelled one.
    Cancel,
}

impl InviteMethod {
    /// The method's name, as in `METHOD:` and the MIME parameter.
    pub fn name(self) -> &'static str {
        match self {
            Self::Request => "REQUEST",
            Self::Cancel => "CANCEL",
        }
    }
}

fn chrono_utc(at: Timestamp) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(at.as_second(), 0).unwrap_or_default()
}

/// What an invite needs besides the message context.
#[derive(Debug, Clone, Copy)]
pub struct InviteParts<'a> {
    /// The appointment (its id makes the stable UID).
    pub appointment_id: &'a AppointmentId,
    /// Grows with every change.
    pub sequence: u32,
    /// Request or cancel.
    pub method: InviteMethod,
    /// The sender's address, the invite's organizer.
    pub organizer: &'a str,
    /// When the invite is made (DTSTAMP).
    pub stamp: Timestamp,
}

/// The RFC 5545 calendar invite of an appointment: a stable UID, a SEQUENCE that grows with
/// every change, times in UTC, and METHOD REQUEST or CANCEL.
pub fn invite(parts: InviteParts<'_>, context: &MessageContext<'_>) -> String {
    let ends_at = context.starts_at + SignedDuration::from_mins(i64::from(context.duration_minutes));
    let mut event = icalendar::Event::new();
    event
        .uid(&format!("{}@clinic-booking", parts.appointment_id.as_str()))
        .sequence(parts.sequence)
        .timestamp(chrono_utc(parts.stamp))
        .starts(chrono_utc(context.starts_at))
        .ends(chrono_utc(ends_at))
        .summary(&format!("{} – {}", context.what, context.clinic))
        .location(&format!("{}, {}", context.site, context.address.replace('\n', ", ")))
        .description(&format!("{} ({})", context.what, context.with_whom))
        .status(match parts.method {
            InviteMethod::Request => EventStatus::Confirmed,
            InviteMethod::Cancel => EventStatus::Cancelled,
        })
        .append_property(
            Property::new("ORGANIZER", format!("mailto:{}", parts.organizer))
                .add_parameter("CN", context.clinic)
                .done(),
        );
    if let Some(url) = context.manage_url {
        event.url(url);
    }
    let mut calendar = Calendar::new();
    calendar.append_property(Property::new("METHOD", parts.method.name())).push(event.done());
    calendar.done().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn settings(rules: &[(u32, MessageChannel)]) -> LifecycleSettings {
        LifecycleSettings {
            reminders: rules
                .iter()
                .map(|&(hours_before, channel)| ReminderRule { hours_before, channel, template_id: None })
                .collect(),
            ..LifecycleSettings::default()
        }
    }

    #[test]
    fn a_reminder_is_never_due_in_the_past() {
        let rules = settings(&[(48, MessageChannel::Sms), (2, MessageChannel::Sms)]);
        let starts = at("2026-12-10T09:00:00Z");
        assert_eq!(rules.next_reminder(starts, at("2026-12-01T09:00:00Z"), 0), Some((0, at("2026-12-08T09:00:00Z"))));
        // Booked 24 hours ahead: the 48-hour reminder has passed; the 2-hour one is next.
        assert_eq!(rules.next_reminder(starts, at("2026-12-09T09:00:00Z"), 0), Some((1, at("2026-12-10T07:00:00Z"))));
        // Booked an hour ahead: nothing.
        assert_eq!(rules.next_reminder(starts, at("2026-12-10T08:00:00Z"), 0), None);
        // After the first was sent, the second follows.
        assert_eq!(rules.next_reminder(starts, at("2026-12-08T09:00:00Z"), 1), Some((1, at("2026-12-10T07:00:00Z"))));
        let off = LifecycleSettings { reminders_enabled: false, ..rules };
        assert_eq!(off.next_reminder(starts, at("2026-12-01T09:00:00Z"), 0), None);
    }

    #[test]
    fn settings_are_checked_and_sorted_earliest_first() {
        let input = LifecycleSettingsInput {
            reminders: Some(vec![
                ReminderRule { hours_before: 2, channel: MessageChannel::Sms, template_id: None },
                ReminderRule { hours_before: 48, channel: MessageChannel::Email, template_id: None },
            ]),
            online_change_cutoff_hours: Some(24),
            ..Default::default()
        };
        let next = LifecycleSettings::default().apply(&input).unwrap();
        assert_eq!(next.reminders[0].hours_before, 48);
        assert_eq!(next.online_change_cutoff_hours, 24);
        let bad = LifecycleSettingsInput {
            reminders: Some(vec![
                ReminderRule { hours_before: 0, channel: MessageChannel::Sms, template_id: None },
                ReminderRule { hours_before: 5, channel: MessageChannel::Sms, template_id: None },
                ReminderRule { hours_before: 5, channel: MessageChannel::Sms, template_id: None },
            ]),
            online_change_cutoff_hours: Some(1000),
            phone: Some("x".repeat(31)),
            ..Default::default()
        };
        let fields: Vec<String> =
            LifecycleSettings::default().apply(&bad).unwrap_err().into_iter().map(|error| error.field).collect();
        assert_eq!(fields, ["reminders[0].hours_before", "reminders[2]", "online_change_cutoff_hours", "phone"]);
    }

    #[test]
    fn changes_stop_at_the_cutoff() {
        let rules = LifecycleSettings { online_change_cutoff_hours: 24, ..LifecycleSettings::default() };
        let starts = at("2026-12-10T09:00:00Z");
        assert!(rules.changes_allowed(starts, at("2026-12-09T08:59:59Z")));
        assert!(!rules.changes_allowed(starts, at("2026-12-09T09:00:00Z")));
        let none = LifecycleSettings::default();
        assert!(none.changes_allowed(starts, at("2026-12-10T08:59:00Z")));
        assert!(!none.changes_allowed(starts, starts));
    }

    #[test]
    fn backoff_doubles_from_a_minute() {
        let delays: Vec<i64> = (1..=4).map(|attempt| retry_delay(attempt).as_mins()).collect();
        assert_eq!(delays, [1, 2, 4, 8]);
    }

    fn context<'a>(zone: &'a TimeZone, manage: Option<&'a str>) -> MessageContext<'a> {
        MessageContext {
            clinic: "Demo <Practice>",
            clinic_phone: Some("020 7946 0000"),
            what: "GP consultation",
            with_whom: "Dr Amara Okafor",
            site: "Riverside Surgery",
            address: "1 River Road\nLondon",
            site_phone: None,
            first_name: "Pat",
            starts_at: at("2026-07-01T08:00:00Z"),
            duration_minutes: 15,
            zone,
            lang: "en",
            manage_url: manage,
        }
    }

    #[test]
    fn texts_say_what_who_where_when_in_the_clinic_zone_and_how_to_manage() {
        let zone = TimeZone::get("Europe/London").unwrap();
        let message = render(MessageKind::Confirmation, &context(&zone, Some("https://x.example.com/manage/abc")));
        assert!(
            message.text.contains("GP consultation with Dr Amara Okafor, on Wednesday 1 July 2026 at 09:00"),
            "{}",
            message.text
        );
        assert!(message.text.contains("Riverside Surgery, 1 River Road"));
        assert!(message.text.contains("Phone: 020 7946 0000"));
        assert!(message.text.ends_with("View, change or cancel: https://x.example.com/manage/abc"));
        assert!(message.html.contains("Demo &lt;Practice&gt;"), "{}", message.html);
        assert!(!message.html.contains("<Practice>"));
        let cancelled = render(MessageKind::Cancelled, &context(&zone, None));
        assert!(cancelled.subject.starts_with("Your appointment is cancelled"));
        assert!(!cancelled.text.contains("/manage/"));
        let french = render(MessageKind::Reminder, &MessageContext { lang: "fr", ..context(&zone, None) });
        assert!(french.text.starts_with("Rappel de votre rendez-vous"));
        assert!(french.text.contains("le mercredi 1 juillet 2026 à 09:00"), "{}", french.text);
    }

    #[test]
    fn invites_carry_a_stable_uid_a_sequence_and_the_method() {
        let zone = TimeZone::get("Europe/London").unwrap();
        let id = AppointmentId::generated("2f1d3c4e-0000-4000-8000-000000000001".into());
        let parts = |sequence, method| InviteParts {
            appointment_id: &id,
            sequence,
            method,
            organizer: "bookings@example.com",
            stamp: at("2026-06-01T10:00:00Z"),
        };
        let request = invite(parts(0, InviteMethod::Request), &context(&zone, None));
        assert!(request.contains("METHOD:REQUEST"), "{request}");
        assert!(request.contains("UID:2f1d3c4e-0000-4000-8000-000000000001@clinic-booking"));
        assert!(request.contains("SEQUENCE:0"));
        assert!(request.contains("DTSTART:20260701T080000Z"));
        assert!(request.contains("DTEND:20260701T081500Z"));
        assert!(request.contains("\r\n"));
        let cancel = invite(parts(2, InviteMethod::Cancel), &context(&zone, None));
        assert!(
            cancel.contains("METHOD:CANCEL") && cancel.contains("SEQUENCE:2") && cancel.contains("STATUS:CANCELLED")
        );
    }

    proptest! {
        /// Whatever the rules and times, the next reminder is after `now`, before the
        /// appointment, and the earliest such one at or after `from`.
        #[test]
        fn the_next_reminder_is_the_earliest_still_ahead(
            hours in proptest::collection::btree_set(1u32..=336, 0..5),
            start_offset in 0i64..400 * 3600,
            from in 0usize..5,
        ) {
            let now = at("2026-03-29T00:30:00Z");
            let starts = now + SignedDuration::from_secs(start_offset);
            let mut rules: Vec<(u32, MessageChannel)> = hours.iter().map(|&h| (h, MessageChannel::Sms)).collect();
            rules.sort_by_key(|rule| std::cmp::Reverse(rule.0));
            let settings = settings(&rules);
            let expected = rules.iter().enumerate().skip(from).find_map(|(index, (hours, _))| {
                let due = starts - SignedDuration::from_hours(i64::from(*hours));
                (due > now).then_some((index as u16, due))
            });
            let next = settings.next_reminder(starts, now, from);
            prop_assert_eq!(next, expected);
            if let Some((_, due)) = next {
                prop_assert!(due > now && due < starts);
            }
        }
    }
}
