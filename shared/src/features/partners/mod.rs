//! Partner booking (seed 002): partners and the services activated for each (its traffic
//! channel), and booking on a partner's behalf: choose a qualification, provider and service,
//! see free slots, hold one for a few minutes, find or add the patient, confirm.
//!
//! - `admin`: partners and their activated services (catalog permissions).
//! - `booking`: the offer, slots, holds and confirmation (`partner:book`; a token with a
//!   `partner` claim acts for that partner only).
//! - `staff_page`: a simple page over that API for staff and partner users.

pub mod admin;
pub mod booking;
pub mod staff_page;

use crate::app::AppState;
use crate::domain::access::Actor;
use crate::domain::clinic::ClinicId;
use crate::domain::partner::{Partner, PartnerId};
use crate::domain::validation::FieldError;
use crate::http::Problem;
use crate::http::auth::forbidden;
use crate::store::keys;

/// The partner `raw` names, if this actor may act for it: 403 for another partner's user,
/// 422 naming `field` for a partner this clinic does not have.
pub async fn partner_for(
    state: &AppState,
    clinic: &ClinicId,
    actor: &Actor,
    raw: &str,
    field: &str,
) -> Result<Partner, Problem> {
    let id = PartnerId::parse(field, raw).map_err(|error| Problem::invalid(vec![error]))?;
    actor.may_act_for(id.as_str()).map_err(forbidden)?;
    Ok(state
        .store
        .get(&keys::partner(clinic, id.as_str()))
        .await?
        .ok_or_else(|| Problem::invalid(vec![FieldError::new(field, "names no partner of this clinic")]))?
        .record::<Partner>()?)
    .and_then(|partner| match partner.archived_at {
        Some(_) => Err(Problem::invalid(vec![FieldError::new(field, "names an archived partner")])),
        None => Ok(partner),
    })
}
