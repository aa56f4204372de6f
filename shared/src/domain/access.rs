//! Who is acting, on which clinics, with which permissions: read from the JWT's claims.

use std::collections::BTreeSet;

use super::clinic::ClinicId;

/// A permission an admin token can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    /// Create and edit the clinic's profile.
    ClinicWrite,
    /// Read the clinic's catalogue (booking types) and its history.
    CatalogRead,
    /// Create and change booking types, locations and providers.
    CatalogWrite,
    /// Read the diary: templates, blocks, appointments.
    DiaryRead,
    /// Change the diary: templates, blocks; book, move and cancel appointments.
    DiaryWrite,
    /// Book on behalf of external partners (a `partner` claim limits it to that partner).
    PartnerBook,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 6] = [
        Self::ClinicWrite,
        Self::CatalogRead,
        Self::CatalogWrite,
        Self::DiaryRead,
        Self::DiaryWrite,
        Self::PartnerBook,
    ];

    /// The claim value naming this permission.
    pub fn as_claim(self) -> &'static str {
        match self {
            Self::ClinicWrite => "clinic:write",
            Self::CatalogRead => "catalog:read",
            Self::CatalogWrite => "catalog:write",
            Self::DiaryRead => "diary:read",
            Self::DiaryWrite => "diary:write",
            Self::PartnerBook => "partner:book",
        }
    }

    fn from_claim(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|permission| permission.as_claim() == value)
    }
}

/// Why an actor may not do something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessDenied {
    /// The token does not name this clinic.
    #[error("this token does not grant access to clinic {0}")]
    OtherClinic(String),
    /// The token lacks a permission.
    #[error("this token lacks the permission {0}")]
    MissingPermission(&'static str),
    /// A partner's user asked to act for another partner.
    #[error("this token acts for another partner than {0}")]
    OtherPartner(String),
}

/// The authenticated staff member behind an admin request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The token's subject: an opaque user id, never a name.
    pub subject: String,
    clinics: BTreeSet<String>,
    permissions: BTreeSet<Permission>,
    /// The partner a partner's own user acts for; `None` for clinic staff.
    pub partner: Option<String>,
}

impl Actor {
    /// Builds an actor from the claim values an authorizer passed on. Unknown permissions are
    /// ignored, so a newer token works against an older function.
    pub fn from_claims(subject: &str, clinics_claim: &str, permissions_claim: &str) -> Self {
        Self {
            subject: subject.to_owned(),
            clinics: claim_list(clinics_claim).into_iter().collect(),
            permissions: claim_list(permissions_claim)
                .iter()
                .filter_map(|value| Permission::from_claim(value))
                .collect(),
            partner: None,
        }
    }

    /// The same actor limited to `partner` (from the token's `partner` claim), when given.
    pub fn for_partner(mut self, partner: Option<&str>) -> Self {
        self.partner = partner.map(str::trim).filter(|value| !value.is_empty()).map(str::to_owned);
        self
    }

    /// Checks this actor may act for `partner`: clinic staff for any, a partner's user only
    /// for its own.
    pub fn may_act_for(&self, partner: &str) -> Result<(), AccessDenied> {
        match &self.partner {
            Some(own) if own != partner => Err(AccessDenied::OtherPartner(partner.to_owned())),
            _ => Ok(()),
        }
    }

    /// Checks this actor may act on `clinic` with `permission`.
    pub fn authorize(&self, clinic: &ClinicId, permission: Permission) -> Result<(), AccessDenied> {
        if !self.clinics.contains(clinic.as_str()) {
            return Err(AccessDenied::OtherClinic(clinic.as_str().to_owned()));
        }
        if !self.permissions.contains(&permission) {
            return Err(AccessDenied::MissingPermission(permission.as_claim()));
        }
        Ok(())
    }
}

/// Splits a list claim. API Gateway's JWT authorizer hands array claims on as `[a b]`; tokens
/// may also carry space- or comma-separated strings.
pub fn claim_list(value: &str) -> Vec<String> {
    value
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|part| part.trim_matches('"'))
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clinic(id: &str) -> ClinicId {
        ClinicId::parse(id).unwrap()
    }

    #[test]
    fn list_claims_in_every_shape_api_gateway_forwards() {
        assert_eq!(claim_list("[north south]"), ["north", "south"]);
        assert_eq!(claim_list("north,south"), ["north", "south"]);
        assert_eq!(claim_list("north south"), ["north", "south"]);
        assert_eq!(claim_list(r#"["north","south"]"#), ["north", "south"]);
        assert!(claim_list("").is_empty());
    }

    #[test]
    fn an_actor_is_refused_another_clinic_and_missing_permissions() {
        let actor = Actor::from_claims("user-1", "[north]", "catalog:read");
        assert_eq!(actor.authorize(&clinic("north"), Permission::CatalogRead), Ok(()));
        assert_eq!(
            actor.authorize(&clinic("south"), Permission::CatalogRead),
            Err(AccessDenied::OtherClinic("south".into()))
        );
        assert_eq!(
            actor.authorize(&clinic("north"), Permission::CatalogWrite),
            Err(AccessDenied::MissingPermission("catalog:write"))
        );
    }

    #[test]
    fn a_partner_user_acts_only_for_its_own_partner() {
        let staff = Actor::from_claims("staff-1", "north", "partner:book");
        assert_eq!(staff.authorize(&clinic("north"), Permission::PartnerBook), Ok(()));
        assert_eq!(staff.may_act_for("acme"), Ok(()));
        let partner = staff.clone().for_partner(Some("acme"));
        assert_eq!(partner.may_act_for("acme"), Ok(()));
        assert_eq!(partner.may_act_for("other"), Err(AccessDenied::OtherPartner("other".into())));
        assert_eq!(staff.for_partner(Some(" ")).partner, None);
    }

    #[test]
    fn a_clinic_id_that_only_starts_like_a_granted_one_is_refused() {
        let actor = Actor::from_claims("user-1", "north", "catalog:read");
        assert!(actor.authorize(&clinic("north-2"), Permission::CatalogRead).is_err());
    }
}
