//! The API's configuration, from environment variables only.

use secrecy::{ExposeSecret, SecretString};
use shared_domain::{
    ConfigError, DatabaseConfig, HttpConfig, JwtConfig, RedisConfig, StorageConfig,
    TelemetryConfig, Vars,
};

/// Shortest accepted static token: guessing must stay out of reach.
pub const MIN_TOKEN_LEN: usize = 24;

#[derive(Debug, Clone)]
pub struct Config {
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub redis: RedisConfig,
    pub storage: StorageConfig,
    pub telemetry: TelemetryConfig,
    pub auth: AuthConfig,
    pub max_upload_bytes: u64,
    /// Memory all uploads in flight may hold for their storage write buffers
    /// (`UPLOAD_BUFFER_MIB`), and how long an upload waits for its share before
    /// a 503 (`UPLOAD_BUFFER_WAIT_SECONDS`).
    pub upload_buffer_bytes: u64,
    pub upload_buffer_wait: std::time::Duration,
    /// Attempts a job gets before it is dead.
    pub max_job_attempts: i32,
    pub allowed_origins: Vec<String>,
    /// Apply migrations at start (on by default; turn off when a release step runs `api migrate`).
    pub migrate_on_start: bool,
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub admin_token: SecretString,
    pub service_token: SecretString,
    /// How users' tokens are verified.
    pub jwt: JwtConfig,
}

impl Config {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let auth = AuthConfig {
            admin_token: token(vars, "ADMIN_API_TOKEN")?,
            service_token: token(vars, "SERVICE_API_TOKEN")?,
            jwt: JwtConfig::from_vars(vars)?,
        };
        if auth.admin_token.expose_secret() == auth.service_token.expose_secret() {
            return Err(ConfigError::new(
                "SERVICE_API_TOKEN",
                "must differ from ADMIN_API_TOKEN",
            ));
        }
        let max_upload_bytes: u64 = vars.parse_or("MAX_UPLOAD_BYTES", 200 * 1024 * 1024)?;
        if max_upload_bytes < 1024 {
            return Err(ConfigError::new(
                "MAX_UPLOAD_BYTES",
                "must be at least 1024",
            ));
        }
        let upload_buffer_mib: u64 = vars.parse_or("UPLOAD_BUFFER_MIB", 256)?;
        if !(1..=1024 * 1024).contains(&upload_buffer_mib) {
            return Err(ConfigError::new(
                "UPLOAD_BUFFER_MIB",
                "must be between 1 and 1048576",
            ));
        }
        let upload_buffer_wait: u64 = vars.parse_or("UPLOAD_BUFFER_WAIT_SECONDS", 30)?;
        if upload_buffer_wait > 3600 {
            return Err(ConfigError::new(
                "UPLOAD_BUFFER_WAIT_SECONDS",
                "must be at most 3600",
            ));
        }
        Ok(Self {
            http: HttpConfig::from_vars(vars, 8080)?,
            database: DatabaseConfig::from_vars(vars)?,
            redis: RedisConfig::from_vars(vars)?,
            storage: StorageConfig::from_vars(vars)?,
            telemetry: TelemetryConfig::from_vars(vars)?,
            auth,
            max_upload_bytes,
            upload_buffer_bytes: upload_buffer_mib * 1024 * 1024,
            upload_buffer_wait: std::time::Duration::from_secs(upload_buffer_wait),
            max_job_attempts: {
                let n: i32 = vars.parse_or("MAX_JOB_ATTEMPTS", 5)?;
                if !(1..=100).contains(&n) {
                    return Err(ConfigError::new(
                        "MAX_JOB_ATTEMPTS",
                        "must be between 1 and 100",
                    ));
                }
                n
            },
            allowed_origins: vars.list("ALLOWED_ORIGINS"),
            migrate_on_start: vars.flag_or("MIGRATE_ON_START", true)?,
        })
    }
}

fn token(vars: &Vars, name: &str) -> Result<SecretString, ConfigError> {
    let secret = vars.secret(name)?;
    if secret.expose_secret().len() < MIN_TOKEN_LEN {
        return Err(ConfigError::new(
            name,
            format!("must be at least {MIN_TOKEN_LEN} characters"),
        ));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("DATABASE_URL", "postgres://readme:pw@127.0.0.1:5432/readme"),
            ("REDIS_URL", "redis://127.0.0.1:6379"),
            ("STORAGE_URL", "file:///tmp/readme-objects"),
            ("ADMIN_API_TOKEN", "admin-token-admin-token-admin-token"),
            ("SERVICE_API_TOKEN", "service-token-service-token-service"),
            (
                "SUPABASE_JWT_SECRET",
                "jwt-secret-jwt-secret-jwt-secret-jwt",
            ),
        ]
    }

    fn without(name: &str) -> Vars {
        Vars::from_pairs(base().into_iter().filter(|(k, _)| *k != name))
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
    fn a_complete_environment_parses_with_defaults() {
        let c = Config::from_vars(&Vars::from_pairs(base())).unwrap();
        assert_eq!(c.http.port, 8080);
        assert_eq!(c.max_upload_bytes, 200 * 1024 * 1024);
        assert_eq!(c.redis.namespace, "readme");
        assert_eq!(c.auth.jwt.household_claim, "household_id");
        assert!(c.migrate_on_start);
    }

    #[test]
    fn each_missing_required_variable_is_named() {
        for (name, _) in base() {
            let err = Config::from_vars(&without(name)).unwrap_err();
            assert_eq!(err.var, name);
            assert!(err.to_string().starts_with(name), "{err}");
        }
    }

    #[test]
    fn each_malformed_variable_is_named() {
        let cases = [
            ("DATABASE_URL", "mysql://nope"),
            ("REDIS_URL", "http://127.0.0.1"),
            ("STORAGE_URL", "ftp://bucket"),
            ("ADMIN_API_TOKEN", "short"),
            ("PORT", "eighty"),
            ("HOST", "not-an-ip"),
            ("MAX_UPLOAD_BYTES", "-1"),
            ("SHUTDOWN_GRACE_SECONDS", "0"),
            ("LOG_FORMAT", "xml"),
            ("RUST_LOG", "info,[bad"),
            ("REDIS_NAMESPACE", "a b"),
            ("MIGRATE_ON_START", "perhaps"),
            ("MAX_JOB_ATTEMPTS", "0"),
        ];
        for (name, value) in cases {
            let err = Config::from_vars(&with(name, value)).unwrap_err();
            assert_eq!(err.var, name, "{value:?} gave {err}");
        }
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let c = Config::from_vars(&Vars::from_pairs(base())).unwrap();
        let debug = format!("{c:?}");
        for secret in [
            "admin-token-admin",
            "service-token-service",
            "jwt-secret-jwt",
            "pw@127",
        ] {
            assert!(!debug.contains(secret), "{secret} leaked: {debug}");
        }
    }
}
