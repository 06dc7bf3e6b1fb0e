//! Authentication primitives shared by the API and the bot gateway: static bearer
//! tokens compared in constant time, and the verifier of users' Supabase JWTs.

use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::HouseholdId;

/// A static bearer token (admin, service). Held as its SHA-256 so comparison takes
/// the same time whatever the candidate's length or content.
#[derive(Clone)]
pub struct StaticToken([u8; 32]);

impl StaticToken {
    pub fn new(secret: &SecretString) -> Self {
        Self(Sha256::digest(secret.expose_secret().as_bytes()).into())
    }

    pub fn matches(&self, candidate: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(candidate.as_bytes()).into();
        self.0.ct_eq(&digest).into()
    }
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticToken([REDACTED])")
    }
}

/// The bearer token of an `Authorization` header value, if it is one.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// A signed-in user, from a verified JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The `sub` claim.
    pub id: String,
    pub household: HouseholdId,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the token has expired")]
    Expired,
    #[error("the token is invalid")]
    Invalid,
    #[error("the token names no household (claim {0:?})")]
    NoHousehold(String),
}

/// Verifies HS256 user JWTs (Supabase access tokens): signature, `exp` (required),
/// `nbf` when present, `aud` when configured; the user is `sub`, the household the
/// configured claim, which may be a dotted path such as `app_metadata.household_id`.
#[derive(Clone)]
pub struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
    household_claim: String,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("household_claim", &self.household_claim)
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    pub fn new(secret: &SecretString, household_claim: &str, audience: Option<&str>) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 30;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        match audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        Self {
            key: DecodingKey::from_secret(secret.expose_secret().as_bytes()),
            validation,
            household_claim: household_claim.to_owned(),
        }
    }

    pub fn verify(&self, token: &str) -> Result<User, AuthError> {
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &self.key, &self.validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid,
            })?;
        let claims = data.claims;
        let id = claims
            .get("sub")
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or(AuthError::Invalid)?
            .to_owned();
        let household = self
            .household_claim
            .split('.')
            .try_fold(&claims, |value, key| value.get(key))
            .and_then(serde_json::Value::as_str)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| AuthError::NoHousehold(self.household_claim.clone()))?;
        Ok(User { id, household })
    }
}

/// Sign a user token (HS256). For tests, `scripts/dev` and tools; services only verify.
pub fn sign_user_token(
    secret: &SecretString,
    claims: &serde_json::Value,
) -> Result<String, jsonwebtoken::errors::Error> {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.expose_secret().as_bytes()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret() -> SecretString {
        SecretString::from("a-test-secret-that-is-long-enough".to_owned())
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    const HOUSEHOLD: &str = "11111111-1111-1111-1111-111111111111";

    #[test]
    fn a_valid_token_yields_the_user_and_household() {
        let token = sign_user_token(
            &secret(),
            &json!({"sub": "u1", "exp": now() + 60, "household_id": HOUSEHOLD}),
        )
        .unwrap();
        let user = JwtVerifier::new(&secret(), "household_id", None)
            .verify(&token)
            .unwrap();
        assert_eq!(user.id, "u1");
        assert_eq!(user.household.to_string(), HOUSEHOLD);
    }

    #[test]
    fn the_household_claim_may_be_nested() {
        let token = sign_user_token(
            &secret(),
            &json!({"sub": "u1", "exp": now() + 60, "app_metadata": {"household_id": HOUSEHOLD}}),
        )
        .unwrap();
        let user = JwtVerifier::new(&secret(), "app_metadata.household_id", None)
            .verify(&token)
            .unwrap();
        assert_eq!(user.household.to_string(), HOUSEHOLD);
    }

    #[test]
    fn expired_forged_and_incomplete_tokens_are_refused() {
        let v = JwtVerifier::new(&secret(), "household_id", Some("authenticated"));
        let good = json!({"sub": "u1", "exp": now() + 60, "household_id": HOUSEHOLD, "aud": "authenticated"});
        let expired = json!({"sub": "u1", "exp": now() - 3600, "household_id": HOUSEHOLD, "aud": "authenticated"});
        assert_eq!(
            v.verify(&sign_user_token(&secret(), &expired).unwrap()),
            Err(AuthError::Expired)
        );
        let forged = sign_user_token(
            &SecretString::from("another-secret-entirely-000000".to_owned()),
            &good,
        )
        .unwrap();
        assert_eq!(v.verify(&forged), Err(AuthError::Invalid));
        let wrong_aud =
            json!({"sub": "u1", "exp": now() + 60, "household_id": HOUSEHOLD, "aud": "anon"});
        assert_eq!(
            v.verify(&sign_user_token(&secret(), &wrong_aud).unwrap()),
            Err(AuthError::Invalid)
        );
        let no_household = json!({"sub": "u1", "exp": now() + 60, "aud": "authenticated"});
        assert!(matches!(
            v.verify(&sign_user_token(&secret(), &no_household).unwrap()),
            Err(AuthError::NoHousehold(_))
        ));
        let no_exp = json!({"sub": "u1", "household_id": HOUSEHOLD, "aud": "authenticated"});
        assert_eq!(
            v.verify(&sign_user_token(&secret(), &no_exp).unwrap()),
            Err(AuthError::Invalid)
        );
        assert_eq!(v.verify("not.a.jwt"), Err(AuthError::Invalid));
        assert!(
            v.verify(&sign_user_token(&secret(), &good).unwrap())
                .is_ok()
        );
    }

    #[test]
    fn an_alg_none_token_is_refused() {
        // header {"alg":"none","typ":"JWT"}, payload with a household, no signature
        let token = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1MSIsImV4cCI6OTk5OTk5OTk5OSwiaG91c2Vob2xkX2lkIjoiMTExMTExMTEtMTExMS0xMTExLTExMTEtMTExMTExMTExMTExIn0.";
        assert_eq!(
            JwtVerifier::new(&secret(), "household_id", None).verify(token),
            Err(AuthError::Invalid)
        );
    }

    #[test]
    fn static_tokens_compare_exactly() {
        let t = StaticToken::new(&secret());
        assert!(t.matches("a-test-secret-that-is-long-enough"));
        assert!(!t.matches("a-test-secret-that-is-long-enougH"));
        assert!(!t.matches(""));
        assert!(!format!("{t:?}").contains("secret"));
    }

    #[test]
    fn bearer_parses_the_header() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
    }
}
