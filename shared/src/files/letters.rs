//! The letter-files port: Patient Connect's PDF letters, kept in S3 on AWS and in the data
//! directory locally, read back when staff print from the distribution list.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::FilesError;

/// Where letters are kept.
#[async_trait]
pub trait LetterFiles: Send + Sync {
    /// Stores a PDF under `key` (a later save of the same key replaces it).
    async fn save(&self, key: &str, pdf: Vec<u8>) -> Result<(), FilesError>;
    /// Reads a PDF back, if it exists.
    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>, FilesError>;
}

/// The storage key of a letter: the clinic is part of it.
pub fn letter_key(clinic: &crate::domain::clinic::ClinicId, letter_id: &str) -> String {
    format!("letters/{clinic}/{letter_id}.pdf")
}

/// Letters in an S3 bucket.
pub struct S3LetterFiles {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3LetterFiles {
    /// Letters in `bucket`, with a client made at init.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }
}

fn unavailable(error: impl std::fmt::Display) -> FilesError {
    FilesError(error.to_string())
}

#[async_trait]
impl LetterFiles for S3LetterFiles {
    async fn save(&self, key: &str, pdf: Vec<u8>) -> Result<(), FilesError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/pdf")
            .body(pdf.into())
            .send()
            .await
            .map_err(|error| unavailable(aws_sdk_s3::error::DisplayErrorContext(error)))?;
        Ok(())
    }

    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>, FilesError> {
        match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(output) => Ok(Some(output.body.collect().await.map_err(unavailable)?.into_bytes().to_vec())),
            Err(error) => {
                let service = error.into_service_error();
                if service.is_no_such_key() {
                    Ok(None)
                } else {
                    Err(unavailable(aws_sdk_s3::error::DisplayErrorContext(service)))
                }
            }
        }
    }
}

/// Letters in a directory (the local data directory's `letters/`).
pub struct DirectoryLetterFiles {
    root: PathBuf,
}

impl DirectoryLetterFiles {
    /// Letters under `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, FilesError> {
        let root = data_dir.join("letters");
        std::fs::create_dir_all(&root).map_err(unavailable)?;
        Ok(Self { root })
    }

    fn path(&self, key: &str) -> Result<PathBuf, FilesError> {
        let safe = key.split('/').all(|part| {
            !part.is_empty() && part != ".." && part.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        });
        if !safe {
            return Err(FilesError(format!("unusable letter key {key:?}")));
        }
        Ok(self.root.join(key.replace('/', "__")))
    }
}

#[async_trait]
impl LetterFiles for DirectoryLetterFiles {
    async fn save(&self, key: &str, pdf: Vec<u8>) -> Result<(), FilesError> {
        let path = self.path(key)?;
        let temporary = path.with_extension("part");
        tokio::fs::write(&temporary, pdf).await.map_err(unavailable)?;
        tokio::fs::rename(&temporary, &path).await.map_err(unavailable)
    }

    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>, FilesError> {
        match tokio::fs::read(self.path(key)?).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(unavailable(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_saved_letter_reads_back_and_unsafe_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let files = DirectoryLetterFiles::open(dir.path()).unwrap();
        files.save("letters/demo/l1.pdf", b"%PDF-1.7".to_vec()).await.unwrap();
        assert_eq!(files.read("letters/demo/l1.pdf").await.unwrap().unwrap(), b"%PDF-1.7");
        assert_eq!(files.read("letters/demo/none.pdf").await.unwrap(), None);
        assert!(files.save("letters/../escape.pdf", Vec::new()).await.is_err());
    }
}
