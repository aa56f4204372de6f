//! What an offer says and is about: the clinic, booking type, clinician and site it names, and
//! its SMS and email in the patient's language.

use crate::app::AppState;
use crate::domain::booking_type::BookingType;
use crate::domain::clinic::{Clinic, ClinicId};
use crate::domain::location::Location;
use crate::domain::provider::Provider;
use crate::domain::waitlist::{WaitlistEntry, WaitlistOffer};
use crate::http::html::{Lang, long_time};
use crate::store::{StoreError, keys};

/// The texts of an offer message.
pub struct OfferText {
    /// The SMS.
    pub sms: String,
    /// The email subject.
    pub subject: String,
    /// The email body.
    pub email: String,
}

async fn record<T: serde::de::DeserializeOwned>(
    state: &AppState,
    key: crate::store::Key,
) -> Result<Option<T>, StoreError> {
    match state.store.get(&key).await? {
        Some(item) => Ok(Some(item.record()?)),
        None => Ok(None),
    }
}

/// What an offer is: type, clinician, site, clinic.
pub struct Described {
    /// The clinic.
    pub clinic: Clinic,
    /// The booking type.
    pub booking_type: Option<BookingType>,
    /// The clinician.
    pub provider: Option<Provider>,
    /// The site.
    pub location: Option<Location>,
}

pub async fn describe(
    state: &AppState,
    clinic_id: &ClinicId,
    offer: &WaitlistOffer,
) -> Result<Option<Described>, StoreError> {
    let Some(clinic) = record::<Clinic>(state, keys::clinic_profile(clinic_id)).await? else { return Ok(None) };
    let booking_type =
        record(state, keys::entry(clinic_id, keys::BOOKING_TYPE_PREFIX, offer.booking_type_id.as_str())).await?;
    let provider = record(state, keys::entry(clinic_id, keys::PROVIDER_PREFIX, offer.provider_id.as_str())).await?;
    let location = record(state, keys::entry(clinic_id, keys::LOCATION_PREFIX, offer.location_id.as_str())).await?;
    Ok(Some(Described { clinic, booking_type, provider, location }))
}

pub fn lang_of(entry: &WaitlistEntry) -> Lang {
    if entry.lang.as_deref() == Some("fr") { Lang::Fr } else { Lang::En }
}

/// The offer's SMS and email in the patient's language.
pub async fn offer_text(
    state: &AppState,
    clinic_id: &ClinicId,
    offer: &WaitlistOffer,
    entry: &WaitlistEntry,
    url: &str,
) -> Result<OfferText, StoreError> {
    let described = describe(state, clinic_id, offer).await?.ok_or(StoreError::Unavailable("clinic gone".into()))?;
    let lang = lang_of(entry);
    let zone = described.clinic.time_zone.zone();
    let when = long_time(offer.starts_at, &zone, lang);
    let until = long_time(offer.open_until, &zone, lang);
    let what = described.booking_type.as_ref().map(|bt| bt.name_in(lang == Lang::Fr).to_owned()).unwrap_or_default();
    let who = described.provider.as_ref().map(|p| p.name.clone()).unwrap_or_default();
    let site = described.location.as_ref().map(|l| l.full_name.clone()).unwrap_or_default();
    let clinic = &described.clinic.name;
    Ok(match lang {
        Lang::En => OfferText {
            sms: format!(
                "{clinic}: a time is free: {what} with {who} at {site}, {when}. First to confirm gets it; open until {until}: {url}"
            ),
            subject: format!("{clinic}: a time is free for you"),
            email: format!(
                "A time you were waiting for is free:\n\n{what} with {who}\n{site}\n{when}\n\nThe first patient to confirm gets it. This offer is open until {until}.\n\nBook it or say no: {url}\n\nIf you do nothing, you stay on the waitlist.\n"
            ),
        },
        Lang::Fr => OfferText {
            sms: format!(
                "{clinic} : un horaire s'est libéré : {what} avec {who} à {site}, {when}. Premier qui confirme ; offre valable jusqu'au {until} : {url}"
            ),
            subject: format!("{clinic} : un horaire s'est libéré pour vous"),
            email: format!(
                "Un horaire que vous attendiez s'est libéré :\n\n{what} avec {who}\n{site}\n{when}\n\nLe premier patient qui confirme l'obtient. Offre valable jusqu'au {until}.\n\nRéservez ou refusez : {url}\n\nSans réponse, vous restez sur la liste d'attente.\n"
            ),
        },
    })
}
