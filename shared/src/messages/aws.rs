//! SMS through SNS Publish, email through SES v2 SendEmail.

use async_trait::async_trait;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sns::error::ProvideErrorMetadata;

use super::{Email, Messages, SendError, Sent, Sms};

/// The AWS messages adapter.
pub struct AwsMessages {
    sns: aws_sdk_sns::Client,
    ses: aws_sdk_sesv2::Client,
    from_address: String,
    sender_id: Option<String>,
}

impl AwsMessages {
    /// Builds the adapter from clients made at init; `from_address` must be an SES identity.
    pub fn new(
        sns: aws_sdk_sns::Client,
        ses: aws_sdk_sesv2::Client,
        from_address: impl Into<String>,
        sender_id: Option<String>,
    ) -> Self {
        Self { sns, ses, from_address: from_address.into(), sender_id }
    }
}

fn content(text: &str) -> Result<Content, SendError> {
    Content::builder().data(text).charset("UTF-8").build().map_err(|error| SendError::Rejected(error.to_string()))
}

#[async_trait]
impl Messages for AwsMessages {
    async fn send_sms(&self, sms: &Sms) -> Result<Sent, SendError> {
        let mut request = self.sns.publish().phone_number(sms.to.as_str()).message(&sms.body).message_attributes(
            "AWS.SNS.SMS.SMSType",
            aws_sdk_sns::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value("Transactional")
                .build()
                .map_err(|error| SendError::Rejected(error.to_string()))?,
        );
        if let Some(sender_id) = &self.sender_id {
            request = request.message_attributes(
                "AWS.SNS.SMS.SenderID",
                aws_sdk_sns::types::MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(sender_id)
                    .build()
                    .map_err(|error| SendError::Rejected(error.to_string()))?,
            );
        }
        match request.send().await {
            Ok(output) => Ok(Sent { message_id: output.message_id.unwrap_or_default() }),
            Err(error) => {
                let service = error.into_service_error();
                let detail = aws_sdk_sns::error::DisplayErrorContext(&service).to_string();
                Err(if service.is_invalid_parameter_exception() || service.is_invalid_parameter_value_exception() {
                    SendError::InvalidRecipient(detail)
                } else if matches!(service.code(), Some("Throttling" | "ThrottlingException" | "ThrottledException")) {
                    SendError::Throttled
                } else if matches!(service.code(), Some("OptedOut" | "OptedOutException"))
                    || service.is_authorization_error_exception()
                {
                    SendError::Rejected(detail)
                } else {
                    SendError::Unavailable(detail)
                })
            }
        }
    }

    fn sender(&self) -> &str {
        &self.from_address
    }

    async fn send_email(&self, email: &Email) -> Result<Sent, SendError> {
        let content = if email.invite.is_some() {
            let raw = super::mime::raw_message(&self.from_address, email)?;
            let raw = aws_sdk_sesv2::types::RawMessage::builder()
                .data(aws_sdk_sesv2::primitives::Blob::new(raw))
                .build()
                .map_err(|error| SendError::Rejected(error.to_string()))?;
            EmailContent::builder().raw(raw).build()
        } else {
            EmailContent::builder().simple(simple(email)?).build()
        };
        let result = self
            .ses
            .send_email()
            .from_email_address(&self.from_address)
            .destination(Destination::builder().to_addresses(email.to.as_str()).build())
            .content(content)
            .send()
            .await;
        ses_outcome(result)
    }
}

fn simple(email: &Email) -> Result<Message, SendError> {
    let mut body = Body::builder().text(content(&email.text)?);
    if let Some(html) = &email.html {
        body = body.html(content(html)?);
    }
    Ok(Message::builder().subject(content(&email.subject)?).body(body.build()).build())
}

fn ses_outcome(
    result: Result<
        aws_sdk_sesv2::operation::send_email::SendEmailOutput,
        aws_sdk_sesv2::error::SdkError<aws_sdk_sesv2::operation::send_email::SendEmailError>,
    >,
) -> Result<Sent, SendError> {
    match result {
        Ok(output) => Ok(Sent { message_id: output.message_id.unwrap_or_default() }),
        Err(error) => {
            let service = error.into_service_error();
            let detail = aws_sdk_sesv2::error::DisplayErrorContext(&service).to_string();
            Err(if service.is_too_many_requests_exception() || service.is_limit_exceeded_exception() {
                SendError::Throttled
            } else if service.is_message_rejected()
                || service.is_account_suspended_exception()
                || service.is_sending_paused_exception()
            {
                SendError::Rejected(detail)
            } else if service.is_bad_request_exception()
                || service.is_mail_from_domain_not_verified_exception()
                || service.is_not_found_exception()
            {
                SendError::InvalidRecipient(detail)
            } else {
                SendError::Unavailable(detail)
            })
        }
    }
}
