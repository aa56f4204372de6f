//! The referral-files port: the patient's browser uploads a referral straight to storage with a
//! short-lived signed URL (S3 presigned PUT on AWS, a signed local URL into the data directory
//! locally); the booking then checks what was stored.

pub mod embedded;
pub mod letters;
pub mod s3;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Where and how the browser uploads one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UploadTarget {
    /// The signed URL.
    pub url: String,
    /// Always `PUT`.
    pub method: String,
    /// Headers the upload must send as signed.
    pub headers: std::collections::BTreeMap<String, String>,
    /// When the URL stops working.
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

/// What storage holds under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// Size in bytes.
    pub size_bytes: u64,
    /// Content type as stored.
    pub content_type: String,
}

/// Why storage failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("file storage unavailable: {0}")]
pub struct FilesError(pub String);

/// The port.
#[async_trait]
pub trait ReferralFiles: Send + Sync {
    /// A signed upload of exactly `size_bytes` of `content_type` to `key`, valid until `expires_at`.
    async fn upload_target(
        &self,
        key: &str,
        content_type: &str,
        size_bytes: u64,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<UploadTarget, FilesError>;
    /// What is stored under `key`, if anything.
    async fn describe(&self, key: &str) -> Result<Option<StoredFile>, FilesError>;
    /// Stores a file the server received itself (the booking pages' form upload).
    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), FilesError>;
}

/// The storage key of a clinic's referral upload: the clinic is part of it, so one clinic's
/// booking cannot attach another clinic's file.
pub fn referral_key(clinic: &crate::domain::clinic::ClinicId, upload: &crate::domain::referral::ReferralId) -> String {
    format!("referrals/{clinic}/{upload}")
}
