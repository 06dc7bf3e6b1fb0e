//! The settings every service reads the same way: HTTP, Postgres, Redis and
//! users' JWTs.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::{CaCert, ConfigError, Vars, deploy_env, metrics_token, refuse_other_env};

/// Where an HTTP service listens and how long it drains on SIGTERM.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub host: IpAddr,
    pub port: u16,
    pub shutdown_grace: Duration,
    /// `METRICS_TOKEN` ([`metrics_token`]).
    pub metrics_token: Option<SecretString>,
    /// The longest wait for the next piece of a request body
    /// (`BODY_IDLE_TIMEOUT_SECONDS`, default 30); also the grace before
    /// `BODY_MIN_BYTES_PER_SECOND` applies.
    pub body_idle_timeout: Duration,
    /// The least average rate of a request body after that grace
    /// (`BODY_MIN_BYTES_PER_SECOND`, default 8192: 64 kbit/s, a poor mobile line).
    pub body_min_bytes_per_second: u64,
}

impl HttpConfig {
    pub fn from_vars(vars: &Vars, default_port: u16) -> Result<Self, ConfigError> {
        Ok(Self {
            host: vars.parse_or("HOST", IpAddr::from([0, 0, 0, 0]))?,
            port: vars.parse_or("PORT", default_port)?,
            shutdown_grace: vars.seconds_or("SHUTDOWN_GRACE_SECONDS", 25, 1..=3600)?,
            metrics_token: metrics_token(vars)?,
            body_idle_timeout: vars.seconds_or("BODY_IDLE_TIMEOUT_SECONDS", 30, 1..=3600)?,
            body_min_bytes_per_second: {
                let rate: u64 = vars.parse_or("BODY_MIN_BYTES_PER_SECOND", 8192)?;
                if rate > 100 * 1024 * 1024 {
                    return Err(ConfigError::new(
                        "BODY_MIN_BYTES_PER_SECOND",
                        "must be at most 104857600 (100 MiB/s); 0 turns the minimum off",
                    ));
                }
                rate
            },
        })
    }
}

/// Postgres connection settings.
#[derive(Clone)]
pub struct DatabaseConfig {
    pub url: SecretString,
    pub max_connections: usize,
    /// `sslmode` and the root certificate, as libpq reads them (see [`crate::db::tls`]).
    pub tls: crate::db::tls::PostgresTls,
    pub connect_timeout: Duration,
    /// Longest any one statement of a pooled connection may run
    /// (`DATABASE_STATEMENT_TIMEOUT_SECONDS`, default 60; 0: no limit).
    pub statement_timeout: Option<Duration>,
    /// Longest a statement waits for a row or table lock
    /// (`DATABASE_LOCK_TIMEOUT_SECONDS`, default 10; 0: no limit).
    pub lock_timeout: Option<Duration>,
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &"[REDACTED]")
            .field("max_connections", &self.max_connections)
            .field("tls", &self.tls)
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("lock_timeout", &self.lock_timeout)
            .finish()
    }
}

impl DatabaseConfig {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let raw = vars.secret("DATABASE_URL")?;
        let (url, tls) = crate::db::tls::PostgresTls::from_vars(vars, raw.expose_secret())?;
        // The parser's message never contains the URL, so it is safe to show.
        tokio_postgres::Config::from_str(&url).map_err(|e| {
            ConfigError::new("DATABASE_URL", format!("is not a valid Postgres URL ({e})"))
        })?;
        let url = SecretString::from(url);
        let max_connections: usize = vars.parse_or("DATABASE_MAX_CONNECTIONS", 10)?;
        if max_connections == 0 {
            return Err(ConfigError::new(
                "DATABASE_MAX_CONNECTIONS",
                "must be at least 1",
            ));
        }
        Ok(Self {
            url,
            max_connections,
            tls,
            connect_timeout: vars.seconds_or("DATABASE_CONNECT_TIMEOUT_SECONDS", 5, 1..=120)?,
            statement_timeout: Some(vars.seconds_or(
                "DATABASE_STATEMENT_TIMEOUT_SECONDS",
                60,
                0..=86_400,
            )?)
            .filter(|d| !d.is_zero()),
            lock_timeout: Some(vars.seconds_or("DATABASE_LOCK_TIMEOUT_SECONDS", 10, 0..=86_400)?)
                .filter(|d| !d.is_zero()),
        })
    }
}

/// Redis connection settings and the key namespace.
#[derive(Clone)]
pub struct RedisConfig {
    pub url: SecretString,
    pub namespace: String,
    pub pool_size: usize,
    /// The only root trusted for `rediss://` when set (`REDIS_CA_CERT` or
    /// `REDIS_CA_CERT_PATH`); otherwise the public web roots (Upstash's CA is one).
    pub ca_cert: Option<CaCert>,
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &"[REDACTED]")
            .field("namespace", &self.namespace)
            .field("pool_size", &self.pool_size)
            .field("ca_cert", &self.ca_cert)
            .finish()
    }
}

impl RedisConfig {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let url = vars.secret("REDIS_URL")?;
        let parsed = redis::parse_redis_url(url.expose_secret())
            .filter(|u| matches!(u.scheme(), "redis" | "rediss" | "redis+unix" | "unix"))
            .ok_or_else(|| {
                ConfigError::new("REDIS_URL", "is not a valid redis:// or rediss:// URL")
            })?;
        let ca_cert = CaCert::from_vars(vars, "REDIS_CA_CERT", "REDIS_CA_CERT_PATH")?;
        if let Some(ca) = &ca_cert
            && parsed.scheme() != "rediss"
        {
            return Err(ConfigError::new(
                ca.var,
                "is set but REDIS_URL is not rediss:// (TLS)",
            ));
        }
        // Each deployment under its own prefix by default, should two share a Redis.
        let env = deploy_env(vars)?;
        let namespace = match (vars.get("REDIS_NAMESPACE"), &env) {
            (Some(ns), _) => ns.to_owned(),
            (None, Some(env)) => format!("readme_{env}"),
            (None, None) => "readme".to_owned(),
        };
        refuse_other_env("REDIS_NAMESPACE", &namespace, env.as_deref())?;
        if !namespace
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(ConfigError::new(
                "REDIS_NAMESPACE",
                "may contain only letters, digits, '-', '_' and '.'",
            ));
        }
        let pool_size: usize = vars.parse_or("REDIS_POOL_SIZE", 16)?;
        if pool_size == 0 {
            return Err(ConfigError::new("REDIS_POOL_SIZE", "must be at least 1"));
        }
        Ok(Self {
            url,
            namespace,
            pool_size,
            ca_cert,
        })
    }
}

/// How users' Supabase access tokens are verified (api and bot gateway): with the
/// project's legacy JWT secret (HS256), its signing keys (the JWKS it publishes,
/// ES256/RS256), or both while a project moves from one to the other.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// `SUPABASE_JWT_SECRET`.
    pub secret: Option<SecretString>,
    /// `SUPABASE_JWKS_URL`, e.g. `https://<ref>.supabase.co/auth/v1/.well-known/jwks.json`.
    pub jwks_url: Option<url::Url>,
    /// `JWT_HOUSEHOLD_CLAIM`: the claim that carries the user's household id (a
    /// dotted path is allowed).
    pub household_claim: String,
    /// `JWT_AUDIENCE`: the required `aud`, when set (Supabase uses `authenticated`).
    pub audience: Option<String>,
}

/// Shortest accepted JWT secret (Supabase's are 40 characters or more).
pub const MIN_JWT_SECRET_LEN: usize = 24;

impl JwtConfig {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let secret = vars.optional_secret("SUPABASE_JWT_SECRET");
        if secret
            .as_ref()
            .is_some_and(|s| s.expose_secret().len() < MIN_JWT_SECRET_LEN)
        {
            return Err(ConfigError::new(
                "SUPABASE_JWT_SECRET",
                format!("must be at least {MIN_JWT_SECRET_LEN} characters"),
            ));
        }
        let jwks_url = match vars.get("SUPABASE_JWKS_URL") {
            None => None,
            Some(raw) => Some(
                url::Url::parse(raw)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "https" | "http") && u.has_host())
                    .ok_or_else(|| {
                        ConfigError::new(
                            "SUPABASE_JWKS_URL",
                            "is not an http(s) URL (e.g. https://<ref>.supabase.co/auth/v1/.well-known/jwks.json)",
                        )
                    })?,
            ),
        };
        if secret.is_none() && jwks_url.is_none() {
            return Err(ConfigError::new(
                "SUPABASE_JWT_SECRET",
                "is required unless SUPABASE_JWKS_URL is set: set the project's legacy JWT secret, \
                 its signing keys' JWKS URL, or both",
            ));
        }
        Ok(Self {
            secret,
            jwks_url,
            household_claim: vars
                .get("JWT_HOUSEHOLD_CLAIM")
                .unwrap_or("household_id")
                .to_owned(),
            audience: vars.get("JWT_AUDIENCE").map(str::to_owned),
        })
    }
}
