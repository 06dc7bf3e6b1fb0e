//! Configuration from environment variables, read once at start-up.
//!
//! Every service builds its typed config from a [`Vars`] snapshot: production reads the
//! process environment, tests hand in a map. A missing or malformed variable is a
//! [`ConfigError`] that names the variable and never echoes a secret's value.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

mod services;

pub use services::{DatabaseConfig, HttpConfig, JwtConfig, MIN_JWT_SECRET_LEN, RedisConfig};

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

#[cfg(test)]
mod tests;
