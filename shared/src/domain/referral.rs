//! Referral letters a patient may attach to an online booking: a PDF or an image, size-limited.

use serde::{Deserialize, Serialize};

use super::ids::uuid_id;
use super::validation::{Checker, FieldError};

/// Largest referral accepted.
pub const MAX_REFERRAL_BYTES: u64 = 5 * 1024 * 1024;
/// Content types accepted.
pub const REFERRAL_TYPES: [&str; 3] = ["application/pdf", "image/jpeg", "image/png"];

uuid_id!(
    /// A referral upload's identifier.
    ReferralId,
    "referral upload"
);

/// What a patient asks to upload.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralUploadInput {
    /// `application/pdf`, `image/jpeg` or `image/png`.
    pub content_type: String,
    /// The file's size in bytes, at most 5 MiB.
    #[schema(minimum = 1, maximum = 5242880)]
    pub size_bytes: u64,
}

/// A validated upload request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralUpload {
    /// Content type.
    pub content_type: &'static str,
    /// Exact size in bytes.
    pub size_bytes: u64,
}

impl ReferralUpload {
    /// Checks the type and size.
    pub fn parse(input: &ReferralUploadInput) -> Result<Self, Vec<FieldError>> {
        let mut checker = Checker::default();
        let content_type =
            REFERRAL_TYPES.iter().copied().find(|allowed| input.content_type.eq_ignore_ascii_case(allowed));
        let content_type =
            checker
                .check(content_type.ok_or_else(|| {
                    FieldError::new("content_type", "must be application/pdf, image/jpeg or image/png")
                }));
        if input.size_bytes == 0 || input.size_bytes > MAX_REFERRAL_BYTES {
            checker.check::<()>(Err(FieldError::new("size_bytes", "must be 1 byte to 5 MiB")));
        }
        checker.finish()?;
        Ok(Self { content_type: content_type.unwrap_or(REFERRAL_TYPES[0]), size_bytes: input.size_bytes })
    }
}

/// A referral attached to an appointment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Referral {
    /// The upload's id.
    #[schema(value_type = String)]
    pub id: ReferralId,
    /// Content type as stored.
    pub content_type: String,
    /// Size as stored.
    pub size_bytes: u64,
}

/// Checks what was actually stored matches what is accepted.
pub fn accept_stored(id: ReferralId, content_type: &str, size_bytes: u64) -> Result<Referral, FieldError> {
    let allowed = REFERRAL_TYPES.iter().any(|allowed| content_type.eq_ignore_ascii_case(allowed));
    if !allowed || size_bytes == 0 || size_bytes > MAX_REFERRAL_BYTES {
        return Err(FieldError::new("referral_upload_id", "the uploaded file is not a PDF or image of at most 5 MiB"));
    }
    Ok(Referral { id, content_type: content_type.to_ascii_lowercase(), size_bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_small_pdfs_and_images_are_accepted() {
        let ok =
            ReferralUpload::parse(&ReferralUploadInput { content_type: "Application/PDF".into(), size_bytes: 1000 })
                .unwrap();
        assert_eq!(ok.content_type, "application/pdf");
        let errors = ReferralUpload::parse(&ReferralUploadInput {
            content_type: "text/html".into(),
            size_bytes: MAX_REFERRAL_BYTES + 1,
        })
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, ["content_type", "size_bytes"]);
        assert!(accept_stored(ReferralId::random(), "image/png", 0).is_err());
        assert!(accept_stored(ReferralId::random(), "image/png", 10).is_ok());
    }
}
