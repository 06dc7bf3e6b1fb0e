//! The gateway's configuration, from environment variables only.

use std::time::Duration;

use secrecy::SecretString;
use shared_domain::{ConfigError, HttpConfig, RedisConfig, TelemetryConfig, Vars};

#[derive(Debug, Clone)]
pub struct Config {
    pub http: HttpConfig,
    pub redis: RedisConfig,
    pub telemetry: TelemetryConfig,
    pub upstream: UpstreamConfig,
    pub jwt_secret: SecretString,
    /// The JWT claim that carries the user's household id.
    pub household_claim: String,
    pub service_token: SecretString,
    pub allowed_origins: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    /// Pipecat Cloud `…/v1/public/{agent}/start` or a local runner's `/start`.
    pub start_url: url::Url,
    /// Sent as a Bearer token only when set (a local runner needs none).
    pub public_api_key: Option<SecretString>,
    pub connect_timeout: Duration,
    pub total_timeout: Duration,
}

impl Config {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let start_url: url::Url = vars.parse("BOT_START_URL")?;
        if !matches!(start_url.scheme(), "http" | "https") {
            return Err(ConfigError::new("BOT_START_URL", "must be an http(s) URL"));
        }
        Ok(Self {
            http: HttpConfig::from_vars(vars, 8081)?,
            redis: RedisConfig::from_vars(vars)?,
            telemetry: TelemetryConfig::from_vars(vars)?,
            upstream: UpstreamConfig {
                start_url,
                public_api_key: vars.optional_secret("BOT_START_PUBLIC_API_KEY"),
                connect_timeout: vars.seconds_or("BOT_START_CONNECT_TIMEOUT_SECONDS", 5, 1..=60)?,
                total_timeout: vars.seconds_or("BOT_START_TIMEOUT_SECONDS", 60, 1..=300)?,
            },
            jwt_secret: vars.secret("SUPABASE_JWT_SECRET")?,
            household_claim: vars
                .get("JWT_HOUSEHOLD_CLAIM")
                .unwrap_or("household_id")
                .to_owned(),
            service_token: vars.secret("SERVICE_API_TOKEN")?,
            allowed_origins: vars.list("ALLOWED_ORIGINS"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("REDIS_URL", "redis://127.0.0.1:6379"),
            ("BOT_START_URL", "http://localhost:7860/start"),
            (
                "SUPABASE_JWT_SECRET",
                "jwt-secret-jwt-secret-jwt-secret-jwt",
            ),
            ("SERVICE_API_TOKEN", "service-token-service-token-service"),
        ]
    }

    #[test]
    fn each_missing_required_variable_is_named() {
        for (name, _) in base() {
            let vars = Vars::from_pairs(base().into_iter().filter(|(k, _)| *k != name));
            assert_eq!(Config::from_vars(&vars).unwrap_err().var, name);
        }
    }

    #[test]
    fn malformed_variables_are_named() {
        for (name, value) in [
            ("BOT_START_URL", "localhost:7860"),
            ("BOT_START_URL", "ftp://x/start"),
            ("BOT_START_TIMEOUT_SECONDS", "0"),
            ("PORT", "99999"),
        ] {
            let vars = Vars::from_pairs(
                base()
                    .into_iter()
                    .filter(|(k, _)| *k != name)
                    .chain([(name, value)]),
            );
            assert_eq!(Config::from_vars(&vars).unwrap_err().var, name, "{value}");
        }
    }

    #[test]
    fn defaults_and_redaction() {
        let vars = Vars::from_pairs(
            base()
                .into_iter()
                .chain([("BOT_START_PUBLIC_API_KEY", "pk_live_secret_value")]),
        );
        let c = Config::from_vars(&vars).unwrap();
        assert_eq!(c.http.port, 8081);
        assert_eq!(c.upstream.total_timeout, Duration::from_secs(60));
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("pk_live_secret_value") && !debug.contains("jwt-secret"),
            "{debug}"
        );
    }
}
