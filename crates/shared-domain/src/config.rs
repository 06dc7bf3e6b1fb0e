//! Configuration from environment variables, read once at start-up.
//!
//! Every service builds its typed config from a [`Vars`] snapshot: production reads the
//! process environment, tests hand in a map. A missing or malformed variable is a
//! [`ConfigError`] that names the variable and never echoes a secret's value.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// A configuration problem, naming the variable at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: String,
    pub problem: String,
}

impl ConfigError {
    pub fn new(var: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            var: var.into(),
            problem: problem.into(),
        }
    }
}

/// A snapshot of environment variables. Empty values count as unset, as most
/// platforms (Railway included) cannot distinguish the two in their UI.
#[derive(Clone, Default)]
pub struct Vars(HashMap<String, String>);

impl fmt::Debug for Vars {
    // Values may be secrets: show names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.0.keys().collect();
        names.sort();
        f.debug_tuple("Vars").field(&names).finish()
    }
}

impl Vars {
    /// The process environment. Variables that are not valid Unicode are skipped; a
    /// required one then reports as unset.
    pub fn from_env() -> Self {
        Self(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        )
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// The raw value, `None` when unset or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str, ConfigError> {
        self.get(name)
            .ok_or_else(|| ConfigError::new(name, "is required but not set"))
    }

    /// A required secret; its value never appears in an error.
    pub fn secret(&self, name: &str) -> Result<SecretString, ConfigError> {
        self.required(name)
            .map(|v| SecretString::from(v.to_owned()))
    }

    pub fn optional_secret(&self, name: &str) -> Option<SecretString> {
        self.get(name).map(|v| SecretString::from(v.to_owned()))
    }

    /// Parse a required variable.
    pub fn parse<T: FromStr>(&self, name: &str) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        let raw = self.required(name)?;
        parse_value(name, raw)
    }

    /// Parse an optional variable, falling back to `default` when unset.
    pub fn parse_or<T: FromStr>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        self.get(name)
            .map_or(Ok(default), |raw| parse_value(name, raw))
    }

    pub fn parse_optional<T: FromStr>(&self, name: &str) -> Result<Option<T>, ConfigError>
    where
        T::Err: fmt::Display,
    {
        self.get(name).map(|raw| parse_value(name, raw)).transpose()
    }

    /// `true/false/1/0/yes/no/on/off`, case-insensitive.
    pub fn flag_or(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some(other) => Err(ConfigError::new(
                name,
                format!("expected true or false, got {other:?}"),
            )),
        }
    }

    /// Whole seconds, bounded.
    pub fn seconds_or(
        &self,
        name: &str,
        default: u64,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<Duration, ConfigError> {
        let secs: u64 = self.parse_or(name, default)?;
        if !range.contains(&secs) {
            return Err(ConfigError::new(
                name,
                format!(
                    "must be between {} and {} seconds, got {secs}",
                    range.start(),
                    range.end()
                ),
            ));
        }
        Ok(Duration::from_secs(secs))
    }

    /// A comma-separated list; empty items are dropped.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn parse_value<T: FromStr>(name: &str, raw: &str) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    raw.parse()
        .map_err(|e: T::Err| ConfigError::new(name, format!("invalid value {raw:?}: {e}")))
}

/// Which deployment this process belongs to, so dev and prod stay apart by default:
/// `APP_ENV`, else the `RAILWAY_ENVIRONMENT_NAME` Railway sets; `production` and
/// `development` are read as `prod` and `dev`. `None` when neither is set (local).
pub fn deploy_env(vars: &Vars) -> Result<Option<String>, ConfigError> {
    let (var, raw) = match (vars.get("APP_ENV"), vars.get("RAILWAY_ENVIRONMENT_NAME")) {
        (Some(v), _) => ("APP_ENV", v),
        (None, Some(v)) => ("RAILWAY_ENVIRONMENT_NAME", v),
        (None, None) => return Ok(None),
    };
    let name = normalize_env(&raw.to_ascii_lowercase());
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ConfigError::new(
            var,
            "may contain only letters, digits, '-' and '_'",
        ));
    }
    Ok(Some(name))
}

fn normalize_env(name: &str) -> String {
    match name {
        "production" => "prod".to_owned(),
        "development" => "dev".to_owned(),
        other => other.to_owned(),
    }
}

/// Refuse a name that says it belongs to another deployment: a bucket or namespace
/// ending in `_dev`/`-prod` (or `_development`, `_production`, `_staging`) when this
/// is not that deployment.
pub(crate) fn refuse_other_env(
    var: &str,
    name: &str,
    env: Option<&str>,
) -> Result<(), ConfigError> {
    let Some(env) = env else { return Ok(()) };
    let Some(suffix) = name
        .rsplit(['_', '-'])
        .next()
        .filter(|_| name.contains(['_', '-']))
    else {
        return Ok(());
    };
    let owner = normalize_env(&suffix.to_ascii_lowercase());
    if matches!(owner.as_str(), "dev" | "prod" | "staging") && owner != env {
        return Err(ConfigError::new(
            var,
            format!(
                "{name:?} belongs to {owner}, but this is {env} (APP_ENV or RAILWAY_ENVIRONMENT_NAME); \
                 dev and prod never share storage or Redis keys"
            ),
        ));
    }
    Ok(())
}

/// A CA certificate for a server whose certificate no public root signs.
#[derive(Clone)]
pub struct CaCert {
    /// PEM text holding at least one certificate.
    pub pem: Vec<u8>,
    /// The variable it came from, for error messages.
    pub var: &'static str,
}

impl fmt::Debug for CaCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaCert(from {})", self.var)
    }
}

impl CaCert {
    /// From PEM text in `inline` (for platforms without files; `\n` escapes are
    /// accepted, as some dashboards keep values on one line) or a PEM file at
    /// `path`; setting both is an error. Read and checked now, so a bad one stops
    /// the start naming its variable.
    pub fn from_vars(
        vars: &Vars,
        inline: &'static str,
        path: &'static str,
    ) -> Result<Option<Self>, ConfigError> {
        let (pem, var) = match (vars.get(inline), vars.get(path)) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::new(
                    inline,
                    format!("is set together with {path}: keep one"),
                ));
            }
            (Some(text), None) => (text.replace("\\n", "\n").into_bytes(), inline),
            (None, Some(file)) => (
                std::fs::read(file).map_err(|e| {
                    ConfigError::new(path, format!("{file:?} cannot be read ({e})"))
                })?,
                path,
            ),
            (None, None) => return Ok(None),
        };
        Self::certificates(&pem).map_err(|p| ConfigError::new(var, p))?;
        Ok(Some(Self { pem, var }))
    }

    /// The certificates in PEM text; an error when there are none.
    pub fn certificates(
        pem: &[u8],
    ) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
        let certs = rustls_pemfile::certs(&mut &*pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("is not PEM ({e})"))?;
        if certs.is_empty() {
            return Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
        }
        Ok(certs)
    }
}

/// `METRICS_TOKEN`: when set (24 characters or more), `GET /metrics` answers only
/// `Authorization: Bearer <token>`, so a service on a public domain does not
/// publish its internals. Unset, `/metrics` is open (a private network, a
/// separate health port, local runs); each service warns at start.
pub fn metrics_token(vars: &Vars) -> Result<Option<SecretString>, ConfigError> {
    let Some(token) = vars.optional_secret("METRICS_TOKEN") else {
        return Ok(None);
    };
    if token.expose_secret().len() < 24 {
        return Err(ConfigError::new(
            "METRICS_TOKEN",
            "must be at least 24 characters",
        ));
    }
    Ok(Some(token))
}

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

#[cfg(test)]
mod tests;
