//! Patient Connect letters: rendered to PDF (see `letter_pdf`), then saved as a file or put on
//! the distribution list that staff post from (by hand, or through the ePost provider).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::patient_connect::PrintOption;

/// Who a letter is to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// The patient.
    Patient,
    /// The patient's GP.
    Gp,
}

/// Where a letter stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LetterStatus {
    /// Saved as a file (Save File): nothing to post.
    Saved,
    /// On the distribution list, to be printed and posted.
    ToPost,
    /// Handed to the ePost provider, with its reference.
    SentToEpost {
        /// The provider's reference.
        reference: String,
    },
    /// Posted by staff.
    Posted {
        /// Who marked it.
        by: String,
        /// When.
        #[schema(value_type = String)]
        at: Timestamp,
    },
}

/// One letter (no `Debug`: the address is patient data).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Letter {
    /// Id (time-ordered).
    pub id: String,
    /// The enrollment that made it.
    pub enrollment_id: String,
    /// The patient's record, when there is one.
    pub patient_reference: Option<String>,
    /// The patient or the GP.
    pub recipient: Recipient,
    /// Mail, ePost or Save File.
    pub print: PrintOption,
    /// Where the PDF is kept (a key in the letters bucket or directory).
    pub file_key: String,
    /// Where it stands.
    pub status: LetterStatus,
    /// When it was made.
    #[schema(value_type = String)]
    pub created_at: Timestamp,
}
