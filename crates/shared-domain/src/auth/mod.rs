//! Authentication primitives shared by the API and the bot gateway: static bearer
//! tokens compared in constant time, and the verifier of users' Supabase JWTs
//! (the legacy HS256 secret, the project's published signing keys, or both).

use std::fmt;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::JwtConfig;

mod jwks;

use crate::domain::HouseholdId;
use jwks::ASYMMETRIC;
pub use jwks::SigningKeys;

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

/// Verifies users' JWTs (Supabase access tokens): the signature, `exp` (required),
/// `nbf` when present, `aud` when configured; the user is `sub`, the household the
/// configured claim, which may be a dotted path such as `app_metadata.household_id`.
///
/// An HS256 token is checked with the project's legacy secret; an ES256/RS256/EdDSA
/// token with the signing key its header names (`kid`), from the project's JWKS.
/// The key decides the algorithm, never the token: a token whose `alg` is not its
/// key's is refused. Either kind is refused when its key source is not configured.
#[derive(Clone)]
pub struct JwtVerifier {
    secret: Option<DecodingKey>,
    signing_keys: Option<Arc<SigningKeys>>,
    hs256: Validation,
    /// One per algorithm: jsonwebtoken refuses a validation that lists algorithms
    /// of another family than the key's.
    asymmetric: Vec<(Algorithm, Validation)>,
    household_claim: String,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("household_claim", &self.household_claim)
            .field(
                "signing_keys",
                &self.signing_keys.as_ref().map(|k| k.url.as_str()),
            )
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// With a JWKS URL configured, the signing keys are fetched in the background
    /// from now on (so call this inside a Tokio runtime); until they arrive, tokens
    /// signed with them are refused.
    pub fn new(config: &JwtConfig) -> Self {
        let signing_keys = config.jwks_url.clone().map(SigningKeys::fetching);
        Self::with_signing_keys(config, signing_keys)
    }

    /// As [`JwtVerifier::new`], with a key set of the caller's.
    fn with_signing_keys(config: &JwtConfig, signing_keys: Option<Arc<SigningKeys>>) -> Self {
        let validation = |algorithm: Algorithm| {
            let mut v = Validation::new(algorithm);
            v.leeway = 30;
            v.validate_nbf = true;
            v.set_required_spec_claims(&["exp", "sub"]);
            match config.audience.as_deref() {
                Some(aud) => v.set_audience(&[aud]),
                None => v.validate_aud = false,
            }
            v
        };
        Self {
            secret: config
                .secret
                .as_ref()
                .map(|s| DecodingKey::from_secret(s.expose_secret().as_bytes())),
            signing_keys,
            hs256: validation(Algorithm::HS256),
            asymmetric: ASYMMETRIC.iter().map(|&a| (a, validation(a))).collect(),
            household_claim: config.household_claim.clone(),
        }
    }

    /// Whether the signing keys are in hand: `None` when none are configured,
    /// `Some(false)` until a fetch has brought at least one usable key.
    pub fn signing_keys_loaded(&self) -> Option<bool> {
        self.signing_keys
            .as_ref()
            .map(|keys| !keys.current().is_empty())
    }

    pub fn verify(&self, token: &str) -> Result<User, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid)?;
        let decoded = if header.alg == Algorithm::HS256 {
            let key = self.secret.as_ref().ok_or(AuthError::Invalid)?;
            jsonwebtoken::decode::<serde_json::Value>(token, key, &self.hs256)
        } else {
            let keys = self.signing_keys.as_ref().ok_or(AuthError::Invalid)?;
            let kid = header.kid.as_deref().ok_or(AuthError::Invalid)?;
            let current = keys.current();
            let Some(key) = current.get(kid) else {
                // Perhaps a key published since the last fetch: look again soon.
                keys.refresh_soon();
                return Err(AuthError::Invalid);
            };
            let validation = self
                .asymmetric
                .iter()
                .find(|(alg, _)| *alg == key.algorithm && *alg == header.alg)
                .map(|(_, v)| v)
                .ok_or(AuthError::Invalid)?;
            jsonwebtoken::decode::<serde_json::Value>(token, &key.key, validation)
        };
        let claims = decoded
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid,
            })?
            .claims;
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
    use super::jwks::parse_jwks;
    use super::*;
    use base64::Engine;
    use serde_json::json;
    use test_support::TestSigningKey;

    fn secret() -> SecretString {
        SecretString::from("a-test-secret-that-is-long-enough".to_owned())
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    fn config(secret: Option<SecretString>, claim: &str, audience: Option<&str>) -> JwtConfig {
        JwtConfig {
            secret,
            jwks_url: None,
            household_claim: claim.to_owned(),
            audience: audience.map(str::to_owned),
        }
    }

    fn hs256(claim: &str, audience: Option<&str>) -> JwtVerifier {
        JwtVerifier::new(&config(Some(secret()), claim, audience))
    }

    fn jwks_url() -> url::Url {
        url::Url::parse("https://project.supabase.co/auth/v1/.well-known/jwks.json").unwrap()
    }

    /// A verifier that knows `keys` as the project's signing keys, and the HS256
    /// secret when `with_secret`.
    fn with_keys(keys: &[&TestSigningKey], with_secret: bool) -> JwtVerifier {
        let jwks = TestSigningKey::jwks(keys).to_string();
        let set = SigningKeys::from_jwks(jwks_url(), jwks.as_bytes()).unwrap();
        JwtVerifier::with_signing_keys(
            &config(
                with_secret.then(secret),
                "household_id",
                Some("authenticated"),
            ),
            Some(set),
        )
    }

    fn claims() -> serde_json::Value {
        json!({"sub": "u1", "exp": now() + 60, "household_id": HOUSEHOLD, "aud": "authenticated"})
    }

    #[test]
    fn a_token_signed_with_a_published_signing_key_is_verified() {
        let (current, standby) = (TestSigningKey::generate(), TestSigningKey::generate());
        let v = with_keys(&[&current, &standby], false);
        for key in [&current, &standby] {
            let user = v.verify(&key.sign(&claims())).unwrap();
            assert_eq!(user.id, "u1");
            assert_eq!(user.household.to_string(), HOUSEHOLD);
        }
        let expired = json!({"sub": "u1", "exp": now() - 3600, "household_id": HOUSEHOLD, "aud": "authenticated"});
        assert_eq!(v.verify(&current.sign(&expired)), Err(AuthError::Expired));
    }

    #[test]
    fn a_token_is_refused_when_its_key_is_unknown_or_not_its_algorithm_or_not_configured() {
        let known = TestSigningKey::generate();
        let unknown = TestSigningKey::generate();
        let v = with_keys(&[&known], false);
        assert_eq!(v.verify(&unknown.sign(&claims())), Err(AuthError::Invalid));
        // The header claims another algorithm than the key's: refused before any check.
        assert_eq!(
            v.verify(&known.sign_as(Algorithm::ES384, &claims())),
            Err(AuthError::Invalid)
        );
        // Without a kid, no key can be chosen.
        let mut no_kid = known.sign(&claims());
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"alg":"ES256","typ":"JWT"}"#);
        no_kid = format!("{header}.{}", no_kid.split_once('.').unwrap().1);
        assert_eq!(v.verify(&no_kid), Err(AuthError::Invalid));
        // An HS256 token needs the secret, which this verifier does not have.
        let hs = sign_user_token(&secret(), &claims()).unwrap();
        assert_eq!(v.verify(&hs), Err(AuthError::Invalid));
        // Both at once, during a move from the legacy secret to signing keys.
        let both = with_keys(&[&known], true);
        assert!(both.verify(&hs).is_ok());
        assert!(both.verify(&known.sign(&claims())).is_ok());
        // And an asymmetric token needs signing keys.
        assert_eq!(
            hs256("household_id", Some("authenticated")).verify(&known.sign(&claims())),
            Err(AuthError::Invalid)
        );
    }

    #[test]
    fn a_jwks_keeps_only_usable_signing_keys() {
        let good = TestSigningKey::generate();
        let mut for_encryption = TestSigningKey::generate().jwk;
        for_encryption["use"] = json!("enc");
        let mut no_kid = TestSigningKey::generate().jwk;
        no_kid.as_object_mut().unwrap().remove("kid");
        let jwks = json!({"keys": [
            good.jwk,
            {"kty": "oct", "k": "c2VjcmV0", "kid": "a-secret", "alg": "HS256"},
            for_encryption,
            no_kid,
            {"kty": "something-new", "kid": "future"},
            "not even an object",
        ]});
        let keys = parse_jwks(jwks.to_string().as_bytes()).unwrap();
        assert_eq!(keys.keys().collect::<Vec<_>>(), vec![&good.kid]);
        assert_eq!(keys[&good.kid].algorithm, Algorithm::ES256);
        assert!(parse_jwks(b"<html>").is_err());
    }

    const HOUSEHOLD: &str = "11111111-1111-1111-1111-111111111111";

    #[test]
    fn a_valid_token_yields_the_user_and_household() {
        let token = sign_user_token(
            &secret(),
            &json!({"sub": "u1", "exp": now() + 60, "household_id": HOUSEHOLD}),
        )
        .unwrap();
        let user = hs256("household_id", None).verify(&token).unwrap();
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
        let user = hs256("app_metadata.household_id", None)
            .verify(&token)
            .unwrap();
        assert_eq!(user.household.to_string(), HOUSEHOLD);
    }

    #[test]
    fn expired_forged_and_incomplete_tokens_are_refused() {
        let v = hs256("household_id", Some("authenticated"));
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
            hs256("household_id", None).verify(token),
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
