//! The worker's configuration, from environment variables only.

use std::net::IpAddr;
use std::time::Duration;

use shared_domain::{
    ConfigError, DatabaseConfig, RedisConfig, StorageConfig, TelemetryConfig, Vars,
};

#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseConfig,
    pub redis: RedisConfig,
    pub storage: StorageConfig,
    pub telemetry: TelemetryConfig,
    /// Serve `GET /health` here when set (`HEALTH_PORT`; 0 picks a free port).
    pub health_port: Option<u16>,
    pub health_host: IpAddr,
    /// Jobs in flight in this process.
    pub concurrency: usize,
    /// How long in-flight jobs may run on after SIGTERM before they are handed back.
    pub shutdown_grace: Duration,
    pub migrate_on_start: bool,
}

impl Config {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let default_concurrency =
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let concurrency: usize = vars.parse_or("WORKER_CONCURRENCY", default_concurrency)?;
        if !(1..=256).contains(&concurrency) {
            return Err(ConfigError::new(
                "WORKER_CONCURRENCY",
                "must be between 1 and 256",
            ));
        }
        Ok(Self {
            database: DatabaseConfig::from_vars(vars)?,
            redis: RedisConfig::from_vars(vars)?,
            storage: StorageConfig::from_vars(vars)?,
            telemetry: TelemetryConfig::from_vars(vars)?,
            health_port: vars.parse_optional("HEALTH_PORT")?,
            health_host: vars.parse_or("HOST", IpAddr::from([0, 0, 0, 0]))?,
            concurrency,
            shutdown_grace: vars.seconds_or("SHUTDOWN_GRACE_SECONDS", 25, 1..=3600)?,
            migrate_on_start: vars.flag_or("MIGRATE_ON_START", true)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("DATABASE_URL", "postgres://readme:pw@127.0.0.1:5432/readme"),
            ("REDIS_URL", "rediss://default:pw@example.upstash.io:6379"),
            ("STORAGE_URL", "s3://bucket/prefix"),
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
            ("HEALTH_PORT", "http"),
            ("WORKER_CONCURRENCY", "0"),
            ("STORAGE_URL", "s3:///nobucket"),
            ("AWS_ACCESS_KEY_ID", "AKIA"),
        ] {
            let vars = Vars::from_pairs(
                base()
                    .into_iter()
                    .filter(|(k, _)| *k != name)
                    .chain([(name, value)]),
            );
            assert_eq!(
                Config::from_vars(&vars).unwrap_err().var,
                if name == "AWS_ACCESS_KEY_ID" {
                    "AWS_SECRET_ACCESS_KEY"
                } else {
                    name
                },
                "{value}"
            );
        }
    }

    #[test]
    fn health_is_off_unless_asked_for() {
        let c = Config::from_vars(&Vars::from_pairs(base())).unwrap();
        assert_eq!(c.health_port, None);
        assert!(c.concurrency >= 1);
        assert!(!format!("{c:?}").contains("pw@"));
    }
}
