//! Raw MIME for emails that carry a calendar invite: the plain and HTML parts as alternatives
//! and the invite as a `text/calendar` part with its method, built by `mail-builder`.

use mail_builder::MessageBuilder;
use mail_builder::headers::content_type::ContentType;

use super::{Email, SendError};

/// The whole message, headers included, as SES v2 takes it for a raw send.
pub fn raw_message(from: &str, email: &Email) -> Result<Vec<u8>, SendError> {
    let mut builder = MessageBuilder::new()
        .from(from)
        .to(email.to.as_str())
        .subject(email.subject.as_str())
        .message_id(format!("{}@clinic-booking", uuid::Uuid::new_v4()))
        .text_body(email.text.as_str());
    if let Some(html) = &email.html {
        builder = builder.html_body(html.as_str());
    }
    if let Some(invite) = &email.invite {
        let content_type =
            ContentType::new("text/calendar").attribute("method", invite.method.as_str()).attribute("charset", "utf-8");
        builder = builder.attachment(content_type, "invite.ics", invite.ics.as_bytes().to_vec());
    }
    builder.write_to_vec().map_err(|error| SendError::Rejected(format!("the message could not be built: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::contact::EmailAddress;
    use crate::messages::Invite;

    #[test]
    fn the_invite_travels_as_a_calendar_part_with_its_method() {
        let email = Email {
            to: EmailAddress::parse("to", "pat@example.com").unwrap(),
            subject: "Your appointment is booked".into(),
            text: "Plain".into(),
            html: Some("<p>Plain</p>".into()),
            invite: Some(Invite { method: "REQUEST".into(), ics: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".into() }),
        };
        let raw = String::from_utf8(raw_message("bookings@example.com", &email).unwrap()).unwrap();
        assert!(raw.contains("From: <bookings@example.com>") || raw.contains("From: bookings@example.com"), "{raw}");
        assert!(
            raw.contains("text/calendar; method=\"REQUEST\"") || raw.contains("text/calendar; method=REQUEST"),
            "{raw}"
        );
        assert!(raw.contains("text/plain") && raw.contains("text/html"));
    }
}
