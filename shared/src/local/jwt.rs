//! The local stand-in for API Gateway's JWT authorizer: tokens signed with a key kept in the
//! data directory, verified before an admin route is called.

use std::collections::HashMap;
use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::access::Permission;

/// Issuer of local tokens.
pub const ISSUER: &str = "clinic-booking-local";
/// Audience of admin tokens.
pub const AUDIENCE: &str = "clinic-booking-admin";

/// The claims of a local admin token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminClaims {
    /// Subject: an opaque staff id.
    pub sub: String,
    /// Clinics granted.
    pub clinics: Vec<String>,
    /// Permissions granted.
    pub permissions: Vec<String>,
    /// The partner a partner's own user acts for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Expiry, epoch seconds.
    pub exp: i64,
    /// Issued at, epoch seconds.
    pub iat: i64,
}

/// The HMAC key tokens are signed with.
pub struct SigningKey {
    secret: Vec<u8>,
}

impl SigningKey {
    /// Reads the key from `data_dir`, creating a random one on first use.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, String> {
        let path = data_dir.join("local-jwt.key");
        if let Ok(existing) = std::fs::read(&path)
            && existing.len() >= 32
        {
            return Ok(Self { secret: existing });
        }
        let mut secret = vec![0u8; 32];
        getrandom::fill(&mut secret).map_err(|error| error.to_string())?;
        std::fs::write(&path, &secret).map_err(|error| error.to_string())?;
        Ok(Self { secret })
    }

    /// Reads the key a local server created in `data_dir`, failing clearly when none did.
    pub fn load(data_dir: &Path) -> Result<Self, String> {
        match std::fs::read(data_dir.join("local-jwt.key")) {
            Ok(secret) if secret.len() >= 32 => Ok(Self { secret }),
            _ => Err(format!(
                "no local server has used {} yet (it holds no local-jwt.key): start it first with \
                 `bash scripts/run.sh`, or set DATA_DIR to the folder it uses",
                data_dir.display()
            )),
        }
    }

    /// A key from known bytes (tests).
    pub fn from_secret(secret: &[u8]) -> Self {
        Self { secret: secret.to_vec() }
    }

    /// Mints an admin token valid for `hours`.
    pub fn mint(
        &self,
        subject: &str,
        clinics: &[&str],
        permissions: &[Permission],
        now: i64,
        hours: i64,
    ) -> Result<String, String> {
        self.sign(subject, clinics, permissions, None, now, hours)
    }

    /// Mints a token for a partner's own user: it acts for `partner` only.
    pub fn mint_for_partner(
        &self,
        subject: &str,
        clinics: &[&str],
        permissions: &[Permission],
        partner: &str,
        now: i64,
        hours: i64,
    ) -> Result<String, String> {
        self.sign(subject, clinics, permissions, Some(partner), now, hours)
    }

    fn sign(
        &self,
        subject: &str,
        clinics: &[&str],
        permissions: &[Permission],
        partner: Option<&str>,
        now: i64,
        hours: i64,
    ) -> Result<String, String> {
        let claims = AdminClaims {
            partner: partner.map(str::to_owned),
            sub: subject.to_owned(),
            clinics: clinics.iter().map(|clinic| (*clinic).to_owned()).collect(),
            permissions: permissions.iter().map(|permission| permission.as_claim().to_owned()).collect(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            exp: now + hours * 3600,
            iat: now,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&self.secret))
            .map_err(|error| error.to_string())
    }

    /// Verifies a token and returns its claims as API Gateway passes them on: every value a
    /// string, arrays as `[a b]`.
    pub fn verify(&self, token: &str) -> Result<HashMap<String, String>, String> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            token,
            &DecodingKey::from_secret(&self.secret),
            &validation,
        )
        .map_err(|error| error.to_string())?;
        Ok(data.claims.into_iter().map(|(name, value)| (name, gateway_claim(&value))).collect())
    }
}

/// How API Gateway's JWT authorizer renders a claim value.
fn gateway_claim(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(gateway_claim).collect();
            format!("[{}]", parts.join(" "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_token_verifies_into_gateway_shaped_claims() {
        let key = SigningKey::from_secret(b"0123456789abcdef0123456789abcdef");
        let now = jiff::Timestamp::now().as_second();
        let token = key.mint("staff-1", &["demo", "north"], &[Permission::CatalogRead], now, 1).unwrap();
        let claims = key.verify(&token).unwrap();
        assert_eq!(claims["sub"], "staff-1");
        assert_eq!(claims["clinics"], "[demo north]");
        assert_eq!(claims["permissions"], "[catalog:read]");
    }

    #[test]
    fn tokens_signed_with_another_key_or_expired_are_refused() {
        let key = SigningKey::from_secret(b"0123456789abcdef0123456789abcdef");
        let other = SigningKey::from_secret(b"fedcba9876543210fedcba9876543210");
        let now = jiff::Timestamp::now().as_second();
        let foreign = other.mint("staff-1", &["demo"], &[], now, 1).unwrap();
        assert!(key.verify(&foreign).is_err());
        let expired = key.mint("staff-1", &["demo"], &[], now - 7200, 1).unwrap();
        assert!(key.verify(&expired).is_err());
        assert!(key.verify("not.a.token").is_err());
    }
}
