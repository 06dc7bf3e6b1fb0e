//! The gateway's configuration, from environment variables only.

use std::time::Duration;

use secrecy::SecretString;
use shared_domain::{ConfigError, HttpConfig, JwtConfig, RedisConfig, TelemetryConfig, Vars};

#[derive(Debug, Clone)]
pub struct Config {
    pub http: HttpConfig,
    pub redis: RedisConfig,
    pub telemetry: TelemetryConfig,
    pub upstream: UpstreamConfig,
    pub calls: CallPolicy,
    /// How users' tokens are verified.
    pub jwt: JwtConfig,
    pub service_token: SecretString,
    pub allowed_origins: Vec<String>,
    /// What the browser may send the bot (`BOT_BODY_FIELDS`).
    pub body_policy: crate::body::BodyPolicy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Daily,
    Webrtc,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Webrtc => "webrtc",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "daily" => Some(Self::Daily),
            "webrtc" => Some(Self::Webrtc),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    /// Pipecat Cloud `…/v1/public/{agent}/start` or a local runner's `/start`.
    pub start_url: url::Url,
    /// Sent as a Bearer token only when set (a local runner needs none).
    pub public_api_key: Option<SecretString>,
    /// Pipecat Cloud private key: lets `DELETE /api/sessions/{sid}` stop the bot.
    pub private_api_key: Option<SecretString>,
    pub connect_timeout: Duration,
    pub total_timeout: Duration,
    /// Used when the browser names none.
    pub default_transport: Transport,
    /// Server policy for Daily rooms (`dailyRoomProperties`), a JSON object.
    pub daily_room_properties: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Call-state lifetimes and the start rate limit.
#[derive(Debug, Clone)]
pub struct CallPolicy {
    /// TTL of `call:{sid}:state` and `:events` (30–120 min).
    pub state_ttl: Duration,
    /// TTL of the user's active-call lock once the call runs; refreshed by bot events.
    pub active_call_ttl: Duration,
    /// Starts allowed per user per window.
    pub start_limit: u32,
    pub start_window: Duration,
}

impl Config {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let start_url: url::Url = vars.parse("BOT_START_URL")?;
        if !matches!(start_url.scheme(), "http" | "https") {
            return Err(ConfigError::new("BOT_START_URL", "must be an http(s) URL"));
        }
        if !start_url.path().ends_with("/start") {
            return Err(ConfigError::new(
                "BOT_START_URL",
                "must end in /start (…/v1/public/{agent}/start or http://localhost:7860/start)",
            ));
        }
        let default_transport = match vars.get("BOT_DEFAULT_TRANSPORT") {
            None => Transport::Daily,
            Some(t) => Transport::parse(t).ok_or_else(|| {
                ConfigError::new("BOT_DEFAULT_TRANSPORT", "must be daily or webrtc")
            })?,
        };
        let daily_room_properties = match vars.get("BOT_DAILY_ROOM_PROPERTIES") {
            None => None,
            Some(raw) => match serde_json::from_str(raw) {
                Ok(serde_json::Value::Object(map)) => Some(map),
                _ => {
                    return Err(ConfigError::new(
                        "BOT_DAILY_ROOM_PROPERTIES",
                        "must be a JSON object, e.g. {\"start_video_off\":true}",
                    ));
                }
            },
        };
        let start_limit: u32 = vars.parse_or("START_RATE_LIMIT", 10)?;
        if start_limit == 0 {
            return Err(ConfigError::new("START_RATE_LIMIT", "must be at least 1"));
        }
        Ok(Self {
            http: HttpConfig::from_vars(vars, 8081)?,
            redis: RedisConfig::from_vars(vars)?,
            telemetry: TelemetryConfig::from_vars(vars)?,
            upstream: UpstreamConfig {
                start_url,
                public_api_key: vars.optional_secret("BOT_START_PUBLIC_API_KEY"),
                private_api_key: vars.optional_secret("PIPECAT_PRIVATE_API_KEY"),
                connect_timeout: vars.seconds_or("BOT_START_CONNECT_TIMEOUT_SECONDS", 5, 1..=60)?,
                total_timeout: vars.seconds_or("BOT_START_TIMEOUT_SECONDS", 60, 1..=300)?,
                default_transport,
                daily_room_properties,
            },
            calls: CallPolicy {
                state_ttl: vars.seconds_or("CALL_STATE_TTL_SECONDS", 3600, 1800..=7200)?,
                active_call_ttl: vars.seconds_or("ACTIVE_CALL_TTL_SECONDS", 600, 60..=7200)?,
                start_limit,
                start_window: vars.seconds_or("START_RATE_WINDOW_SECONDS", 60, 1..=86400)?,
            },
            jwt: JwtConfig::from_vars(vars)?,
            service_token: vars.secret("SERVICE_API_TOKEN")?,
            allowed_origins: vars.list("ALLOWED_ORIGINS"),
            body_policy: crate::body::BodyPolicy::parse(
                vars.get("BOT_BODY_FIELDS")
                    .unwrap_or(crate::body::DEFAULT_FIELDS),
            )
            .map_err(|e| ConfigError::new("BOT_BODY_FIELDS", e))?,
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

    fn with(name: &'static str, value: &'static str) -> Vars {
        Vars::from_pairs(
            base()
                .into_iter()
                .filter(|(k, _)| *k != name)
                .chain([(name, value)]),
        )
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
            ("BOT_START_URL", "http://localhost:7860/begin"),
            ("BOT_START_TIMEOUT_SECONDS", "0"),
            ("PORT", "99999"),
            ("BOT_DEFAULT_TRANSPORT", "websocket"),
            ("BOT_DAILY_ROOM_PROPERTIES", "[1,2]"),
            ("CALL_STATE_TTL_SECONDS", "60"),
            ("START_RATE_LIMIT", "0"),
        ] {
            assert_eq!(
                Config::from_vars(&with(name, value)).unwrap_err().var,
                name,
                "{value}"
            );
        }
    }

    #[test]
    fn defaults_and_redaction() {
        let c =
            Config::from_vars(&with("BOT_START_PUBLIC_API_KEY", "pk_live_secret_value")).unwrap();
        assert_eq!(c.http.port, 8081);
        assert_eq!(c.upstream.total_timeout, Duration::from_secs(60));
        assert_eq!(c.upstream.connect_timeout, Duration::from_secs(5));
        assert_eq!(c.upstream.default_transport, Transport::Daily);
        assert_eq!(c.calls.state_ttl, Duration::from_secs(3600));
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("pk_live_secret_value") && !debug.contains("jwt-secret"),
            "{debug}"
        );
    }
}
