//! The admin's identity, read from the JWT claims the authorizer put in the request context
//! (API Gateway's JWT authorizer on AWS; the local server plays it locally).

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use super::problem::Problem;
use crate::domain::access::{AccessDenied, Actor, Permission};
use crate::domain::clinic::ClinicId;

/// Claim naming the clinics a token grants (also read as Cognito's `custom:clinics`).
pub const CLINICS_CLAIM: &str = "clinics";
/// Claim naming the permissions a token grants (also read as `custom:permissions`).
pub const PERMISSIONS_CLAIM: &str = "permissions";

/// Claim naming the partner a partner's own user acts for (also read as `custom:partner`).
pub const PARTNER_CLAIM: &str = "partner";

/// The actor behind an admin request; 401 when the authorizer passed no claims.
pub fn actor(request: &Request) -> Result<Actor, Problem> {
    let claims = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => {
            context.authorizer.as_ref().and_then(|authorizer| authorizer.jwt.as_ref()).map(|jwt| &jwt.claims)
        }
        _ => None,
    }
    .ok_or_else(|| Problem::unauthorized("an admin token is required"))?;
    let subject = claims
        .get("sub")
        .filter(|sub| !sub.is_empty())
        .ok_or_else(|| Problem::unauthorized("the token has no subject"))?;
    let read = |name: &str| {
        claims.get(name).or_else(|| claims.get(&format!("custom:{name}"))).map(String::as_str).unwrap_or("")
    };
    let partner = Some(read(PARTNER_CLAIM)).filter(|value| !value.is_empty());
    Ok(Actor::from_claims(subject, read(CLINICS_CLAIM), read(PERMISSIONS_CLAIM)).for_partner(partner))
}

/// A refusal as a 403 problem.
pub fn forbidden(denied: AccessDenied) -> Problem {
    Problem::forbidden(denied.to_string())
}

/// The actor, checked for `permission` on `clinic`; 401 or 403 otherwise.
pub fn authorize(request: &Request, clinic: &ClinicId, permission: Permission) -> Result<Actor, Problem> {
    let actor = actor(request)?;
    actor.authorize(clinic, permission).map_err(forbidden)?;
    Ok(actor)
}
