//! Manage tokens of appointments. Each message that carries a manage link draws a fresh token
//! (256 bits from the operating system) when it is claimed; only the token's hash is stored,
//! with the appointment it opens. Wrong dates of birth are counted per appointment, whichever
//! of its tokens they came through, and five lock it until staff help.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::domain::appointment::AppointmentId;
use crate::domain::booking_link::{LinkToken, TokenPurpose};
use crate::domain::clinic::{Clinic, ClinicId};
use crate::domain::manage_access::{MAX_VERIFICATION_FAILURES, ManageAccess, Verification, check};
use crate::features::diary::booking::{self, StoredAppointment};
use crate::store::{Condition, Item, Store, StoreError, Write, keys};

/// What a manage token's hash opens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManageTokenRecord {
    /// The clinic.
    pub clinic_id: ClinicId,
    /// The appointment.
    pub appointment_id: AppointmentId,
}

/// The write that records `token`'s hash (never the token) for `appointment`.
pub fn token_write(clinic: &ClinicId, appointment: &AppointmentId, token: &LinkToken) -> Result<Write, StoreError> {
    let record = ManageTokenRecord { clinic_id: clinic.clone(), appointment_id: appointment.clone() };
    Ok(Write::put(Item::from_record(keys::manage_token(token.hash().as_str()), &record)?, Condition::NotExists))
}

/// An appointment opened by its manage token.
#[derive(Clone)]
pub struct OpenedAppointment {
    /// The clinic.
    pub clinic: Clinic,
    /// The appointment.
    pub stored: StoredAppointment,
    /// Its manage state.
    pub access: ManageAccess,
    /// The state's version (0 before the first wrong answer).
    pub access_version: u64,
}

impl OpenedAppointment {
    /// Whether too many wrong answers locked it.
    pub fn locked(&self) -> bool {
        self.access.failures >= MAX_VERIFICATION_FAILURES
    }
}

/// Finds the appointment a token from a URL opens: `None` for a malformed or unknown token.
pub async fn open(store: &dyn Store, token: &str) -> Result<Option<OpenedAppointment>, StoreError> {
    let Some(parsed) = LinkToken::parse(token) else { return Ok(None) };
    let record: ManageTokenRecord = match store.get(&keys::manage_token(parsed.hash().as_str())).await? {
        Some(item) => item.record()?,
        // A manage link sent by a booking link before every appointment had its own tokens.
        None => match crate::features::booking_links::tokens::open(store, token, TokenPurpose::Manage).await? {
            Some(opened) => match opened.link.appointment_id {
                Some(appointment_id) => ManageTokenRecord { clinic_id: opened.clinic.id, appointment_id },
                None => return Ok(None),
            },
            None => return Ok(None),
        },
    };
    let Some(stored) = booking::load(store, &record.clinic_id, &record.appointment_id).await? else { return Ok(None) };
    let Some(clinic) = store.get(&keys::clinic_profile(&record.clinic_id)).await? else { return Ok(None) };
    let (access, access_version) =
        match store.get(&keys::manage_access(&record.clinic_id, record.appointment_id.as_str())).await? {
            Some(item) => (item.record()?, item.version),
            None => (ManageAccess::default(), 0),
        };
    Ok(Some(OpenedAppointment { clinic: clinic.record()?, stored, access, access_version }))
}

/// Records one answer; retried on a concurrent answer so none goes uncounted.
pub async fn verify(
    store: &dyn Store,
    token: &str,
    answer: Date,
) -> Result<Option<(OpenedAppointment, Verification)>, StoreError> {
    for _ in 0..8 {
        let Some(mut opened) = open(store, token).await? else { return Ok(None) };
        let before = opened.access.failures;
        let outcome = check(&mut opened.access, opened.stored.appointment.patient.date_of_birth, answer);
        if opened.access.failures == before {
            return Ok(Some((opened, outcome)));
        }
        let appointment = opened.stored.appointment.id.as_str();
        let key = keys::manage_access(&opened.clinic.id, appointment);
        let condition =
            if opened.access_version == 0 { Condition::NotExists } else { Condition::VersionIs(opened.access_version) };
        let item = Item::from_record(key, &opened.access)?.with_version(opened.access_version + 1);
        match store.write(Write::put(item, condition)).await {
            Ok(()) => {
                opened.access_version += 1;
                return Ok(Some((opened, outcome)));
            }
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(error) => return Err(error),
        }
    }
    Err(StoreError::Contention)
}
