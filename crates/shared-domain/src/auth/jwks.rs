//! A project's JWT signing keys: its JWKS, fetched and kept fresh.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::Notify;

/// The asymmetric algorithms a signing key may have.
pub(super) const ASYMMETRIC: &[Algorithm] = &[
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::EdDSA,
];

/// One verification key from a JWKS.
pub(super) struct SigningKey {
    pub(super) algorithm: Algorithm,
    pub(super) key: DecodingKey,
}

pub(super) type KeySet = HashMap<String, SigningKey>;

/// A project's signing keys, by key id, kept fresh from its JWKS URL: fetched at
/// start, every [`SigningKeys::REFRESH`] (every [`SigningKeys::RETRY`] while
/// fetches fail), and soon after a token names a key not yet known (a rotation),
/// at most once per [`SigningKeys::MIN_GAP`] however many such tokens arrive.
pub struct SigningKeys {
    pub(super) url: url::Url,
    keys: RwLock<Arc<KeySet>>,
    wake: Notify,
}

impl SigningKeys {
    pub const REFRESH: Duration = Duration::from_secs(600);
    pub const RETRY: Duration = Duration::from_secs(30);
    pub const MIN_GAP: Duration = Duration::from_secs(5);
    const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

    /// Start fetching `url` in the background (inside a Tokio runtime).
    pub fn fetching(url: url::Url) -> Arc<Self> {
        let keys = Arc::new(Self {
            url,
            keys: RwLock::new(Arc::default()),
            wake: Notify::new(),
        });
        tokio::spawn(keys.clone().keep_fresh());
        keys
    }

    /// A fixed key set from a JWKS document.
    #[cfg(test)]
    pub(super) fn from_jwks(url: url::Url, jwks: &[u8]) -> Result<Arc<Self>, serde_json::Error> {
        Ok(Arc::new(Self {
            url,
            keys: RwLock::new(Arc::new(parse_jwks(jwks)?)),
            wake: Notify::new(),
        }))
    }

    pub(super) fn current(&self) -> Arc<KeySet> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(super) fn refresh_soon(&self) {
        self.wake.notify_one();
    }

    async fn keep_fresh(self: Arc<Self>) {
        let client = match reqwest::Client::builder()
            .timeout(Self::FETCH_TIMEOUT)
            .build()
        {
            Ok(client) => client,
            Err(e) => {
                tracing::error!(error = %e, "could not build the HTTP client for the JWT signing keys");
                return;
            }
        };
        loop {
            let fetched = Instant::now();
            let wait = match self.fetch(&client).await {
                Ok(Fetched { count: 0, .. }) => {
                    tracing::warn!(url = %self.url, "the JWKS lists no usable signing key; tokens signed with keys are refused");
                    Self::REFRESH
                }
                Ok(Fetched { count, changed }) => {
                    if changed {
                        tracing::info!(url = %self.url, count, "JWT signing keys loaded");
                    }
                    Self::REFRESH
                }
                Err(e) => {
                    tracing::warn!(url = %self.url, error = %e, "could not fetch the JWT signing keys; tokens signed with unknown keys are refused until they are fetched");
                    Self::RETRY
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.wake.notified() => {
                    tokio::time::sleep_until((fetched + Self::MIN_GAP).into()).await;
                }
            }
        }
    }

    async fn fetch(&self, client: &reqwest::Client) -> Result<Fetched, anyhow::Error> {
        let body = client
            .get(self.url.clone())
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        let keys = parse_jwks(&body)?;
        let count = keys.len();
        let mut current = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        let changed = current.len() != count || keys.keys().any(|kid| !current.contains_key(kid));
        *current = Arc::new(keys);
        Ok(Fetched { count, changed })
    }
}

struct Fetched {
    count: usize,
    /// The key ids differ from the previous set.
    changed: bool,
}

/// The verification keys of a JWKS document, by `kid`. Keys without an id, for
/// encryption, symmetric (a secret has no business in a published set) or of a
/// kind we cannot use are left out; one bad key does not spoil the others.
pub(super) fn parse_jwks(body: &[u8]) -> Result<KeySet, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let document: Document = serde_json::from_slice(body)?;
    Ok(document
        .keys
        .into_iter()
        .filter_map(|raw| {
            let jwk: Jwk = serde_json::from_value(raw).ok()?;
            if jwk.common.public_key_use == Some(PublicKeyUse::Encryption) {
                return None;
            }
            let algorithm = match (&jwk.common.key_algorithm, &jwk.algorithm) {
                (_, AlgorithmParameters::OctetKey(_)) => return None,
                (Some(alg), _) => Algorithm::try_from(*alg).ok()?,
                (None, AlgorithmParameters::EllipticCurve(ec)) => match ec.curve {
                    EllipticCurve::P256 => Algorithm::ES256,
                    EllipticCurve::P384 => Algorithm::ES384,
                    _ => return None,
                },
                (None, AlgorithmParameters::RSA(_)) => Algorithm::RS256,
                (None, AlgorithmParameters::OctetKeyPair(_)) => Algorithm::EdDSA,
                (None, _) => return None,
            };
            if !ASYMMETRIC.contains(&algorithm) {
                return None;
            }
            let kid = jwk.common.key_id.clone()?;
            let key = DecodingKey::from_jwk(&jwk).ok()?;
            Some((kid, SigningKey { algorithm, key }))
        })
        .collect())
}
