//! Referral files in the data directory. The upload URL points at the local server's
//! `/_local/referral-uploads/...` route and carries a signed token that fixes the key, content
//! type, size and expiry, as an S3 presigned URL does.

use std::path::PathBuf;

use async_trait::async_trait;
use jiff::Timestamp;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::{FilesError, ReferralFiles, StoredFile, UploadTarget};

const AUDIENCE: &str = "referral-upload";

#[derive(Debug, Serialize, Deserialize)]
struct UploadClaims {
    key: String,
    content_type: String,
    size: u64,
    aud: String,
    exp: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    size_bytes: u64,
    content_type: String,
}

/// Why a local upload was refused.
#[derive(Debug, thiserror::Error)]
pub enum UploadRefused {
    /// The token is missing, forged, expired or for another key.
    #[error("the upload link is invalid or expired")]
    BadToken,
    /// The body or its content type is not what was signed.
    #[error("the upload does not match what was signed: {0}")]
    Mismatch(&'static str),
    /// Writing failed.
    #[error("could not store the file: {0}")]
    Storage(String),
}

/// The embedded adapter.
pub struct EmbeddedReferralFiles {
    root: PathBuf,
    base_url: String,
    secret: Vec<u8>,
}

impl EmbeddedReferralFiles {
    /// Files under `data_dir/referrals`, uploaded through `base_url`; the signing secret lives in
    /// the data directory.
    pub fn open(data_dir: &std::path::Path, base_url: &str) -> Result<Self, FilesError> {
        let root = data_dir.join("referrals");
        std::fs::create_dir_all(&root).map_err(|error| FilesError(error.to_string()))?;
        let key_path = data_dir.join("referral-upload.key");
        let secret = match std::fs::read(&key_path) {
            Ok(secret) if secret.len() >= 32 => secret,
            _ => {
                let mut secret = vec![0u8; 32];
                getrandom::fill(&mut secret).map_err(|error| FilesError(error.to_string()))?;
                std::fs::write(&key_path, &secret).map_err(|error| FilesError(error.to_string()))?;
                secret
            }
        };
        Ok(Self { root, base_url: base_url.trim_end_matches('/').to_owned(), secret })
    }

    fn path(&self, key: &str) -> Result<PathBuf, FilesError> {
        let safe =
            key.split('/').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        if safe { Ok(self.root.join(key.replace('/', "_"))) } else { Err(FilesError(format!("unsafe key {key:?}"))) }
    }

    /// Stores an upload sent to the local URL, after checking its token, type and size.
    pub fn accept_upload(
        &self,
        key: &str,
        token: &str,
        content_type: &str,
        body: &[u8],
        now: Timestamp,
    ) -> Result<(), UploadRefused> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<UploadClaims>(token, &DecodingKey::from_secret(&self.secret), &validation)
            .map_err(|_| UploadRefused::BadToken)?
            .claims;
        if claims.key != key || claims.exp < now.as_second() {
            return Err(UploadRefused::BadToken);
        }
        if !claims.content_type.eq_ignore_ascii_case(content_type) {
            return Err(UploadRefused::Mismatch("content-type"));
        }
        if body.len() as u64 != claims.size {
            return Err(UploadRefused::Mismatch("content-length"));
        }
        self.write(key, &claims.content_type, body).map_err(|error| UploadRefused::Storage(error.0))
    }

    fn write(&self, key: &str, content_type: &str, body: &[u8]) -> Result<(), FilesError> {
        let path = self.path(key)?;
        std::fs::write(&path, body).map_err(|error| FilesError(error.to_string()))?;
        let meta = serde_json::to_vec(&Meta { size_bytes: body.len() as u64, content_type: content_type.to_owned() })
            .map_err(|error| FilesError(error.to_string()))?;
        std::fs::write(path.with_extension("meta"), meta).map_err(|error| FilesError(error.to_string()))
    }
}

#[async_trait]
impl ReferralFiles for EmbeddedReferralFiles {
    async fn upload_target(
        &self,
        key: &str,
        content_type: &str,
        size_bytes: u64,
        _now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<UploadTarget, FilesError> {
        self.path(key)?;
        let claims = UploadClaims {
            key: key.to_owned(),
            content_type: content_type.to_owned(),
            size: size_bytes,
            aud: AUDIENCE.into(),
            exp: expires_at.as_second(),
        };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&self.secret))
                .map_err(|error| FilesError(error.to_string()))?;
        let headers = std::collections::BTreeMap::from([("content-type".to_owned(), content_type.to_owned())]);
        Ok(UploadTarget {
            url: format!("{}/_local/referral-uploads/{key}?token={token}", self.base_url),
            method: "PUT".into(),
            headers,
            expires_at,
        })
    }

    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), FilesError> {
        self.write(key, content_type, &bytes)
    }

    async fn describe(&self, key: &str) -> Result<Option<StoredFile>, FilesError> {
        let path = self.path(key)?;
        match std::fs::read(path.with_extension("meta")) {
            Ok(bytes) => {
                let meta: Meta = serde_json::from_slice(&bytes).map_err(|error| FilesError(error.to_string()))?;
                Ok(Some(StoredFile { size_bytes: meta.size_bytes, content_type: meta.content_type }))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(FilesError(error.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_upload_must_match_its_signed_type_size_key_and_time() {
        let dir = tempfile::tempdir().unwrap();
        let files = EmbeddedReferralFiles::open(dir.path(), "http://127.0.0.1:1").unwrap();
        let now: Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
        let later = now + jiff::SignedDuration::from_mins(15);
        let target = files.upload_target("referrals/demo/abc-1", "application/pdf", 4, now, later).await.unwrap();
        let token = target.url.split("token=").nth(1).unwrap();
        assert!(matches!(
            files.accept_upload("referrals/demo/abc-1", token, "image/png", b"%PDF", now),
            Err(UploadRefused::Mismatch(_))
        ));
        assert!(matches!(
            files.accept_upload("referrals/demo/abc-1", token, "application/pdf", b"%PDF-1", now),
            Err(UploadRefused::Mismatch(_))
        ));
        assert!(matches!(
            files.accept_upload("referrals/other/abc-1", token, "application/pdf", b"%PDF", now),
            Err(UploadRefused::BadToken)
        ));
        let too_late = later + jiff::SignedDuration::from_secs(1);
        assert!(matches!(
            files.accept_upload("referrals/demo/abc-1", token, "application/pdf", b"%PDF", too_late),
            Err(UploadRefused::BadToken)
        ));
        assert_eq!(files.describe("referrals/demo/abc-1").await.unwrap(), None);
        files.accept_upload("referrals/demo/abc-1", token, "application/pdf", b"%PDF", now).unwrap();
        assert_eq!(
            files.describe("referrals/demo/abc-1").await.unwrap(),
            Some(StoredFile { size_bytes: 4, content_type: "application/pdf".into() })
        );
        assert!(files.upload_target("../etc/passwd", "application/pdf", 4, now, later).await.is_err());
    }
}
