//! Patient Connect templates (seed 004): SMS, email and letter texts with merge fields such as
//! `{patient.first_name}` or `{booking.date}`. A template is checked when it is saved, so an
//! unknown field fails there, in the admin's face, and never when a message is being sent.

use serde::{Deserialize, Serialize};

use super::validation::{Checker, FieldError, required_text};

/// One piece of a template's text: literal text or a merge field's name.
pub(crate) enum Piece<'a> {
    Text(&'a str),
    Field(&'a str),
}

/// Splits a template into text and `{field}` pieces; a brace without its partner is an error.
pub(crate) fn pieces(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        match (rest.find('{'), rest.find('}')) {
            (Some(open), Some(close)) if open < close => {
                pieces.push(Piece::Text(&rest[..open]));
                pieces.push(Piece::Field(&rest[open + 1..close]));
                rest = &rest[close + 1..];
            }
            (None, None) => {
                pieces.push(Piece::Text(rest));
                rest = "";
            }
            (Some(_), None) => return Err("has a { without a closing }".into()),
            (_, Some(_)) => return Err("has a } without an opening {".into()),
        }
    }
    Ok(pieces)
}

/// Every merge field a Patient Connect template may use.
pub const MERGE_FIELDS: [&str; 8] = [
    "patient.first_name",
    "patient.last_name",
    "clinic.name",
    "provider.name",
    "booking.date",
    "booking.time",
    "program.name",
    "reference.date",
];

/// What a template is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TemplateKind {
    /// An SMS.
    Sms,
    /// An email.
    Email,
    /// A letter.
    Letter,
}

/// A template as an admin writes it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageTemplateInput {
    /// SMS, email or letter.
    pub kind: TemplateKind,
    /// Name staff pick it by.
    pub name: String,
    /// Email subject or letter heading (required for email, refused for SMS).
    #[serde(default)]
    pub subject: Option<String>,
    /// The text, with merge fields in braces.
    pub body: String,
}

/// A checked template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageTemplate {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: TemplateKind,
    /// Name.
    pub name: String,
    /// Email subject or letter heading.
    pub subject: Option<String>,
    /// Text with merge fields.
    pub body: String,
    /// When staff archived it: no new program action or reminder may name it; programs that
    /// already do still send it. Absent while current.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub archived_at: Option<jiff::Timestamp>,
}

/// The values merge fields take for one patient and one action. Missing values (no provider,
/// no booking yet) render as empty text.
#[derive(Default, Clone)]
pub struct MergeValues {
    /// `patient.first_name`.
    pub patient_first_name: String,
    /// `patient.last_name`.
    pub patient_last_name: String,
    /// `clinic.name`.
    pub clinic_name: String,
    /// `provider.name`.
    pub provider_name: String,
    /// `booking.date`, e.g. `Tuesday 14 March 2028`.
    pub booking_date: String,
    /// `booking.time`, e.g. `09:30`.
    pub booking_time: String,
    /// `program.name`.
    pub program_name: String,
    /// `reference.date`: the cycle's reference date.
    pub reference_date: String,
}

impl MergeValues {
    fn get(&self, field: &str) -> &str {
        match field {
            "patient.first_name" => &self.patient_first_name,
            "patient.last_name" => &self.patient_last_name,
            "clinic.name" => &self.clinic_name,
            "provider.name" => &self.provider_name,
            "booking.date" => &self.booking_date,
            "booking.time" => &self.booking_time,
            "program.name" => &self.program_name,
            "reference.date" => &self.reference_date,
            _ => "",
        }
    }
}

/// A rendered message: subject (or heading) and text.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Subject or heading; empty for SMS.
    pub subject: String,
    /// Text.
    pub body: String,
}

const MAX_BODY_CHARS: [usize; 3] = [1000, 20_000, 20_000];

fn check_text(field: &str, text: &str, max_chars: usize) -> Result<(), FieldError> {
    if text.trim().is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if text.chars().count() > max_chars {
        return Err(FieldError::new(field, format!("must be at most {max_chars} characters")));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(FieldError::new(field, "must not contain control characters other than line breaks"));
    }
    let pieces = pieces(text).map_err(|message| FieldError::new(field, message))?;
    for piece in pieces {
        if let Piece::Field(name) = piece
            && !MERGE_FIELDS.contains(&name)
        {
            return Err(FieldError::new(
                field,
                format!("has an unknown merge field {{{name}}}; known fields: {}", known_fields()),
            ));
        }
    }
    Ok(())
}

fn known_fields() -> String {
    MERGE_FIELDS.iter().map(|name| format!("{{{name}}}")).collect::<Vec<_>>().join(", ")
}

impl MessageTemplate {
    /// Checks an admin's template, naming every bad field.
    pub fn parse(id: String, input: &MessageTemplateInput) -> Result<Self, Vec<FieldError>> {
        let mut checker = Checker::default();
        let name = checker.check(required_text("name", &input.name, 120));
        let max = MAX_BODY_CHARS[input.kind as usize];
        checker.check(check_text("body", &input.body, max));
        let subject = match (input.kind, input.subject.as_deref()) {
            (TemplateKind::Sms, Some(_)) => {
                checker.check::<()>(Err(FieldError::new("subject", "an SMS has no subject")));
                None
            }
            (TemplateKind::Email, None) => {
                checker.check::<()>(Err(FieldError::new("subject", "is required for an email")));
                None
            }
            (_, Some(subject)) => {
                checker.check(check_text("subject", subject, 200));
                if subject.contains('\n') {
                    checker.check::<()>(Err(FieldError::new("subject", "must be one line")));
                }
                Some(subject.trim().to_owned())
            }
            (_, None) => None,
        };
        checker.finish()?;
        Ok(Self {
            id,
            kind: input.kind,
            name: name.unwrap_or_default(),
            subject,
            body: input.body.clone(),
            archived_at: None,
        })
    }

    /// The message for one patient.
    pub fn render(&self, values: &MergeValues) -> Rendered {
        Rendered {
            subject: self.subject.as_deref().map(|subject| fill(subject, values)).unwrap_or_default(),
            body: fill(&self.body, values),
        }
    }
}

fn fill(template: &str, values: &MergeValues) -> String {
    let Ok(pieces) = pieces(template) else { return template.to_owned() };
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Text(text) => *text,
            Piece::Field(name) => values.get(name),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn input(kind: TemplateKind, subject: Option<&str>, body: &str) -> MessageTemplateInput {
        MessageTemplateInput { kind, name: "Recall".into(), subject: subject.map(str::to_owned), body: body.into() }
    }

    #[test]
    fn an_unknown_merge_field_fails_when_saved_and_names_the_field() {
        let errors =
            MessageTemplate::parse("t".into(), &input(TemplateKind::Sms, None, "Hi {patient.firstname}")).unwrap_err();
        assert_eq!(errors[0].field, "body");
        assert!(errors[0].message.contains("{patient.firstname}"), "{}", errors[0].message);
        assert!(errors[0].message.contains("{patient.first_name}"), "the message lists the known fields");
        let errors =
            MessageTemplate::parse("t".into(), &input(TemplateKind::Email, Some("Due {bogus}"), "x")).unwrap_err();
        assert_eq!(errors[0].field, "subject");
        let errors = MessageTemplate::parse("t".into(), &input(TemplateKind::Sms, None, "Hi {patient")).unwrap_err();
        assert!(errors[0].message.contains("without a closing"));
    }

    #[test]
    fn subjects_are_required_for_email_and_refused_for_sms() {
        let fields = |kind, subject| {
            MessageTemplate::parse("t".into(), &input(kind, subject, "Hello"))
                .err()
                .map(|errors| errors.into_iter().map(|error| error.field).collect::<Vec<_>>())
        };
        assert_eq!(fields(TemplateKind::Email, None), Some(vec!["subject".to_owned()]));
        assert_eq!(fields(TemplateKind::Sms, Some("Hi")), Some(vec!["subject".to_owned()]));
        assert_eq!(fields(TemplateKind::Letter, None), None);
        assert_eq!(fields(TemplateKind::Email, Some("Your review")), None);
    }

    #[test]
    fn rendering_fills_every_field_and_leaves_missing_values_empty() {
        let template = MessageTemplate::parse(
            "t".into(),
            &input(
                TemplateKind::Email,
                Some("{program.name} at {clinic.name}"),
                "Dear {patient.first_name} {patient.last_name}, see {provider.name} on {booking.date} at {booking.time}.",
            ),
        )
        .unwrap();
        let values = MergeValues {
            patient_first_name: "Ada".into(),
            patient_last_name: "Lovelace".into(),
            clinic_name: "Demo Clinic".into(),
            program_name: "Annual review".into(),
            booking_date: "Tuesday 14 March 2028".into(),
            booking_time: "09:30".into(),
            ..MergeValues::default()
        };
        let rendered = template.render(&values);
        assert_eq!(rendered.subject, "Annual review at Demo Clinic");
        assert_eq!(rendered.body, "Dear Ada Lovelace, see  on Tuesday 14 March 2028 at 09:30.");
    }

    proptest! {
        #[test]
        fn a_saved_template_renders_without_braces(name in "[A-Za-zéè' -]{0,30}", field in 0usize..8) {
            let body = format!("Hello {{{}}} and {{patient.first_name}}", MERGE_FIELDS[field]);
            let template = MessageTemplate::parse("t".into(), &input(TemplateKind::Sms, None, &body)).unwrap();
            let values = MergeValues { patient_first_name: name.clone(), ..MergeValues::default() };
            let rendered = template.render(&values).body;
            let braces = rendered.contains('{') || rendered.contains('}');
            prop_assert!(!braces, "braces left in {:?}", rendered);
            prop_assert!(rendered.ends_with(&name));
        }
    }
}
