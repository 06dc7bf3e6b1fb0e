//! Asymmetric JWT signing keys for tests, made fresh each run: an ES256 (P-256)
//! key pair, its public half as a JWK, and tokens signed with it, as Supabase's
//! signing keys issue them; and a project's JWKS endpoint that publishes them.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub struct TestSigningKey {
    pub kid: String,
    key: EncodingKey,
    /// The public key as a JWK, as a JWKS lists it.
    pub jwk: Value,
}

impl TestSigningKey {
    pub fn generate() -> Self {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .expect("generate a P-256 key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .expect("read the generated key");
        // Uncompressed point: 0x04 || x (32 bytes) || y (32 bytes).
        let point = pair.public_key().as_ref();
        let kid = uuid::Uuid::new_v4().to_string();
        let jwk = json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
            "kid": kid,
            "alg": "ES256",
            "use": "sig",
            "key_ops": ["verify"],
        });
        Self {
            kid,
            key: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk,
        }
    }

    /// A token with `claims`, signed ES256 and naming this key.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as(Algorithm::ES256, claims)
    }

    /// The same, with the header claiming another algorithm (which cannot verify).
    pub fn sign_as(&self, alg: Algorithm, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        let token = jsonwebtoken::encode(&header, claims, &self.key).expect("sign a test token");
        if alg == Algorithm::ES256 {
            return token;
        }
        header.alg = alg;
        let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("a header"));
        let (_, rest) = token.split_once('.').expect("a JWT");
        format!("{header}.{rest}")
    }

    /// A JWKS document listing `keys`.
    pub fn jwks(keys: &[&TestSigningKey]) -> Value {
        json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()})
    }
}

/// Where Supabase publishes a project's signing keys.
const JWKS_PATH: &str = "/auth/v1/.well-known/jwks.json";

/// A project's JWKS endpoint: serves the keys last published.
pub struct JwksServer {
    server: MockServer,
}

impl JwksServer {
    pub async fn publishing(keys: &[&TestSigningKey]) -> Self {
        let jwks = Self {
            server: MockServer::start().await,
        };
        jwks.publish(keys).await;
        jwks
    }

    /// Publish `keys` instead of what was published before (a rotation).
    pub async fn publish(&self, keys: &[&TestSigningKey]) {
        self.server.reset().await;
        Mock::given(method("GET"))
            .and(path(JWKS_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(TestSigningKey::jwks(keys)))
            .mount(&self.server)
            .await;
    }

    /// The value for `SUPABASE_JWKS_URL`.
    pub fn url(&self) -> String {
        format!("{}{JWKS_PATH}", self.server.uri())
    }

    /// A JWKS URL on which nothing listens: the keys never arrive.
    pub fn unreachable_url() -> String {
        format!("http://127.0.0.1:{}{JWKS_PATH}", crate::free_port())
    }
}
