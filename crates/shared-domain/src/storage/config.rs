//! `STORAGE_URL` and its companion variables, parsed and checked at start.

use std::fmt;
use std::path::PathBuf;

use secrecy::SecretString;

use crate::config::{ConfigError, Vars};

/// Where objects live, parsed from `STORAGE_URL` and its companion variables.
#[derive(Clone)]
pub enum StorageConfig {
    File {
        root: PathBuf,
    },
    S3(S3Config),
    Gcs {
        bucket: String,
        prefix: String,
        service_account_path: Option<String>,
        service_account_key: Option<SecretString>,
        /// `STORAGE_EMULATOR_HOST`: an emulator's base URL, used without credentials.
        emulator_host: Option<String>,
    },
}

#[derive(Clone)]
pub struct S3Config {
    pub bucket: String,
    pub prefix: String,
    pub endpoint: Option<String>,
    pub region: String,
    pub force_path_style: bool,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
    pub session_token: Option<SecretString>,
}

impl fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File { root } => f.debug_struct("File").field("root", root).finish(),
            Self::S3(s3) => f
                .debug_struct("S3")
                .field("bucket", &s3.bucket)
                .field("prefix", &s3.prefix)
                .field("endpoint", &s3.endpoint)
                .field("region", &s3.region)
                .field("force_path_style", &s3.force_path_style)
                .field("access_key_id", &s3.access_key_id)
                .field(
                    "secret_access_key",
                    &s3.secret_access_key.as_ref().map(|_| "[REDACTED]"),
                )
                .finish_non_exhaustive(),
            Self::Gcs {
                bucket,
                prefix,
                service_account_path,
                emulator_host,
                ..
            } => f
                .debug_struct("Gcs")
                .field("bucket", bucket)
                .field("prefix", prefix)
                .field("service_account_path", service_account_path)
                .field("emulator_host", emulator_host)
                .finish_non_exhaustive(),
        }
    }
}

impl StorageConfig {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let config = Self::parse(vars)?;
        let name = match &config {
            Self::File { root } => root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            Self::S3(s3) => s3.bucket.clone(),
            Self::Gcs { bucket, .. } => bucket.clone(),
        };
        crate::config::refuse_other_env(
            "STORAGE_URL",
            &name,
            crate::config::deploy_env(vars)?.as_deref(),
        )?;
        Ok(config)
    }

    fn parse(vars: &Vars) -> Result<Self, ConfigError> {
        const VAR: &str = "STORAGE_URL";
        let raw = vars.required(VAR)?;
        let url = url::Url::parse(raw).map_err(|e| {
            ConfigError::new(
                VAR,
                format!(
                    "is not a URL ({e}); use file:///path, s3://bucket/prefix or gs://bucket/prefix"
                ),
            )
        })?;
        let bucket_and_prefix = || -> Result<(String, String), ConfigError> {
            let bucket = url
                .host_str()
                .filter(|b| !b.is_empty())
                .ok_or_else(|| ConfigError::new(VAR, "names no bucket"))?;
            Ok((bucket.to_owned(), url.path().trim_matches('/').to_owned()))
        };
        match url.scheme() {
            "file" => {
                let root = url.to_file_path().map_err(|()| {
                    ConfigError::new(
                        VAR,
                        "file:// URL must hold an absolute path, e.g. file:///var/lib/readme",
                    )
                })?;
                Ok(Self::File { root })
            }
            "s3" => {
                let (bucket, prefix) = bucket_and_prefix()?;
                let access_key_id = vars.get("AWS_ACCESS_KEY_ID").map(str::to_owned);
                let secret_access_key = vars.optional_secret("AWS_SECRET_ACCESS_KEY");
                if access_key_id.is_some() != secret_access_key.is_some() {
                    let missing = if access_key_id.is_some() {
                        "AWS_SECRET_ACCESS_KEY"
                    } else {
                        "AWS_ACCESS_KEY_ID"
                    };
                    return Err(ConfigError::new(
                        missing,
                        "must be set together with its pair for s3:// storage",
                    ));
                }
                let endpoint = vars.get("AWS_ENDPOINT_URL").map(str::to_owned);
                if let Some(ep) = &endpoint {
                    url::Url::parse(ep).map_err(|e| {
                        ConfigError::new("AWS_ENDPOINT_URL", format!("is not a URL ({e})"))
                    })?;
                }
                Ok(Self::S3(S3Config {
                    bucket,
                    prefix,
                    endpoint,
                    region: vars.get("AWS_REGION").unwrap_or("us-east-1").to_owned(),
                    force_path_style: vars.flag_or("S3_FORCE_PATH_STYLE", false)?,
                    access_key_id,
                    secret_access_key,
                    session_token: vars.optional_secret("AWS_SESSION_TOKEN"),
                }))
            }
            "gs" => {
                let (bucket, prefix) = bucket_and_prefix()?;
                let emulator_host = vars
                    .get("STORAGE_EMULATOR_HOST")
                    .map(|raw| {
                        let url = url::Url::parse(raw).map_err(|e| {
                            ConfigError::new(
                                "STORAGE_EMULATOR_HOST",
                                format!("is not a URL ({e}); e.g. http://localhost:9023"),
                            )
                        })?;
                        if !matches!(url.scheme(), "http" | "https") {
                            return Err(ConfigError::new(
                                "STORAGE_EMULATOR_HOST",
                                "must be an http:// or https:// URL",
                            ));
                        }
                        Ok(raw.trim_end_matches('/').to_owned())
                    })
                    .transpose()?;
                Ok(Self::Gcs {
                    bucket,
                    prefix,
                    service_account_path: vars
                        .get("GOOGLE_SERVICE_ACCOUNT_PATH")
                        .map(str::to_owned),
                    service_account_key: vars.optional_secret("GOOGLE_SERVICE_ACCOUNT_KEY"),
                    emulator_host,
                })
            }
            other => Err(ConfigError::new(
                VAR,
                format!("unsupported scheme {other:?}; use file://, s3:// or gs://"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_of_the_other_deployment_is_refused() {
        let config = |url: &str, env: &str| {
            StorageConfig::from_vars(&Vars::from_pairs([("STORAGE_URL", url), ("APP_ENV", env)]))
        };
        assert!(config("s3://readme_prod/books", "prod").is_ok());
        assert!(config("s3://readme/books", "prod").is_ok());
        let crossed = config("s3://readme_dev/books", "production").unwrap_err();
        assert_eq!(crossed.var, "STORAGE_URL");
        assert!(crossed.problem.contains("belongs to dev"), "{crossed}");
        assert!(config("gs://readme-prod", "dev").is_err());
        assert!(config("file:///data/objects/readme_prod", "dev").is_err());
        assert!(config("file:///data/objects/readme_dev", "dev").is_ok());
    }

    #[test]
    fn an_emulator_host_must_be_an_http_url_and_is_named_when_not() {
        let gcs = |host: &str| {
            StorageConfig::from_vars(&Vars::from_pairs([
                ("STORAGE_URL", "gs://readme/books"),
                ("STORAGE_EMULATOR_HOST", host),
            ]))
        };
        let Ok(StorageConfig::Gcs { emulator_host, .. }) = gcs("http://127.0.0.1:9023/") else {
            panic!("a gs:// config")
        };
        assert_eq!(emulator_host.as_deref(), Some("http://127.0.0.1:9023"));
        for bad in ["localhost:9023", "ftp://host"] {
            let err = gcs(bad).unwrap_err();
            assert_eq!(err.var, "STORAGE_EMULATOR_HOST", "{bad}: {err}");
        }
    }
}
