//! Referral files in S3: presigned PUT URLs that fix the content type and length.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use jiff::Timestamp;

use super::{FilesError, ReferralFiles, StoredFile, UploadTarget};

/// The S3 adapter.
pub struct S3ReferralFiles {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3ReferralFiles {
    /// Files in `bucket`, with a client made at init.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }
}

fn unavailable(error: impl std::fmt::Display) -> FilesError {
    FilesError(error.to_string())
}

#[async_trait]
impl ReferralFiles for S3ReferralFiles {
    async fn upload_target(
        &self,
        key: &str,
        content_type: &str,
        size_bytes: u64,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<UploadTarget, FilesError> {
        let seconds = expires_at.duration_since(now).as_secs().max(1) as u64;
        let config = PresigningConfig::expires_in(Duration::from_secs(seconds)).map_err(unavailable)?;
        let length = i64::try_from(size_bytes).map_err(unavailable)?;
        let presigned = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .presigned(config)
            .await
            .map_err(|error| unavailable(aws_sdk_s3::error::DisplayErrorContext(error)))?;
        let mut headers: std::collections::BTreeMap<String, String> =
            presigned.headers().map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned())).collect();
        headers.insert("content-type".into(), content_type.to_owned());
        Ok(UploadTarget { url: presigned.uri().to_owned(), method: "PUT".into(), headers, expires_at })
    }

    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), FilesError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(bytes.into())
            .send()
            .await
            .map(|_| ())
            .map_err(|error| unavailable(aws_sdk_s3::error::DisplayErrorContext(error)))
    }

    async fn describe(&self, key: &str) -> Result<Option<StoredFile>, FilesError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(head) => Ok(Some(StoredFile {
                size_bytes: head.content_length.unwrap_or(0).max(0) as u64,
                content_type: head.content_type.unwrap_or_default(),
            })),
            Err(error) => {
                let service = error.into_service_error();
                if service.is_not_found() {
                    Ok(None)
                } else {
                    Err(unavailable(aws_sdk_s3::error::DisplayErrorContext(service)))
                }
            }
        }
    }
}
