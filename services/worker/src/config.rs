//! The worker's configuration, from environment variables only.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::resources::Resources;
use shared_domain::{
    ConfigError, DatabaseConfig, RedisConfig, StorageConfig, TelemetryConfig, Vars,
};

#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseConfig,
    pub redis: RedisConfig,
    pub storage: StorageConfig,
    pub telemetry: TelemetryConfig,
    /// Serve `GET /health` and `/metrics` here: `HEALTH_PORT`, else `PORT` (which
    /// Railway sets); 0 picks a free port; neither set, no endpoint.
    pub health_port: Option<u16>,
    /// `METRICS_TOKEN`: `/metrics` answers only its bearer when set.
    pub metrics_token: Option<secrecy::SecretString>,
    pub health_host: IpAddr,
    /// Jobs in flight in this process.
    pub concurrency: usize,
    /// How long in-flight jobs may run on after SIGTERM before they are handed back.
    pub shutdown_grace: Duration,
    pub migrate_on_start: bool,
    pub queue: QueueConfig,
    pub pipeline: PipelineConfig,
    pub sweeper: SweeperConfig,
}

/// How jobs are delivered, leased and retried.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// A job whose worker is silent this long is taken over (`VISIBILITY_TIMEOUT_SECONDS`);
    /// live workers heartbeat at a third of it.
    pub visibility_timeout: Duration,
    /// First retry delay after a transient failure; doubles per attempt (`RETRY_BASE_SECONDS`).
    pub retry_base: Duration,
    /// Longest retry delay (`RETRY_MAX_SECONDS`).
    pub retry_max: Duration,
    /// How long one blocking read waits for an entry (`QUEUE_BLOCK_MS`): an idle
    /// worker costs Redis one command per stream per this long.
    pub block: Duration,
}

/// Extraction limits and chunk sizes.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    pub use_pdf_extract: bool,
    /// `pdftotext` (poppler) when it is among `TEXT_ENGINES`.
    pub pdftotext: Option<PathBuf>,
    /// Extraction child processes per book and per worker (`EXTRACT_PARALLELISM`).
    pub parallelism: u32,
    pub memory_mb: u64,
    pub timeout: Duration,
    pub max_pages: u32,
    /// `CHUNK_TARGET_CHARS`, `CHUNK_MAX_CHARS`, `SENTENCE_MAX_CHARS`, `LINKS_SPOKEN`
    /// and `NOTES_SPOKEN`.
    pub text: crate::text::TextOptions,
    /// Where PDFs are downloaded while they are processed (`WORK_DIR`).
    pub work_dir: PathBuf,
    /// OCR of scanned pages (`OCR_ENABLED`, `TESSERACT_PATH`, `PDFTOPPM_PATH`,
    /// `OCR_LANGUAGES`, `OCR_DPI`, `OCR_TIMEOUT_SECONDS`); `None` when off.
    pub ocr: Option<crate::extract::ocr::OcrConfig>,
}

/// The leader's periodic duties.
#[derive(Debug, Clone)]
pub struct SweeperConfig {
    pub interval: Duration,
    /// How long leadership lasts unless renewed (`SWEEPER_LEASE_SECONDS`): a
    /// leader that stops making progress is replaced this long after its last
    /// renewal.
    pub lease: Duration,
    /// Queued jobs published this long ago but never claimed are published again
    /// (a lost message, e.g. Redis restored from an old snapshot).
    pub republish_after: Duration,
    pub retention_interval: Duration,
    pub dead_letter_retention_days: u32,
    pub object_retention_days: u32,
    pub retention_dry_run: bool,
}

impl Config {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        Self::from_vars_within(vars, Resources::detect())
    }

    /// As [`Config::from_vars`], with defaults derived from `resources` (the
    /// container's limits) instead of detected ones.
    pub fn from_vars_within(vars: &Vars, resources: Resources) -> Result<Self, ConfigError> {
        let default_concurrency = resources.cpus;
        let concurrency: usize = vars.parse_or("WORKER_CONCURRENCY", default_concurrency)?;
        if !(1..=256).contains(&concurrency) {
            return Err(ConfigError::new(
                "WORKER_CONCURRENCY",
                "must be between 1 and 256",
            ));
        }
        let sweep_interval = vars.seconds_or("SWEEP_INTERVAL_SECONDS", 5, 1..=3600)?;
        let sweeper_lease = vars.seconds_or("SWEEPER_LEASE_SECONDS", 30, 2..=7200)?;
        if sweeper_lease < sweep_interval * 2 {
            return Err(ConfigError::new(
                "SWEEPER_LEASE_SECONDS",
                format!(
                    "must be at least twice SWEEP_INTERVAL_SECONDS ({} s): the leader renews it once a round",
                    sweep_interval.as_secs()
                ),
            ));
        }
        Ok(Self {
            database: DatabaseConfig::from_vars(vars)?,
            redis: RedisConfig::from_vars(vars)?,
            storage: StorageConfig::from_vars(vars)?,
            telemetry: TelemetryConfig::from_vars(vars)?,
            health_port: match vars.parse_optional("HEALTH_PORT")? {
                Some(port) => Some(port),
                None => vars.parse_optional("PORT")?,
            },
            health_host: vars.parse_or("HOST", IpAddr::from([0, 0, 0, 0]))?,
            metrics_token: shared_domain::config::metrics_token(vars)?,
            concurrency,
            shutdown_grace: vars.seconds_or("SHUTDOWN_GRACE_SECONDS", 25, 1..=3600)?,
            migrate_on_start: vars.flag_or("MIGRATE_ON_START", true)?,
            queue: QueueConfig {
                visibility_timeout: vars.seconds_or("VISIBILITY_TIMEOUT_SECONDS", 60, 3..=3600)?,
                retry_base: vars.seconds_or("RETRY_BASE_SECONDS", 5, 1..=3600)?,
                retry_max: vars.seconds_or("RETRY_MAX_SECONDS", 900, 1..=86_400)?,
                block: Duration::from_millis(bounded(
                    vars,
                    "QUEUE_BLOCK_MS",
                    300_000,
                    10..=3_600_000,
                )?),
            },
            pipeline: PipelineConfig::from_vars(vars, resources)?,
            sweeper: SweeperConfig {
                interval: sweep_interval,
                lease: sweeper_lease,
                republish_after: vars.seconds_or("REPUBLISH_AFTER_SECONDS", 900, 10..=86_400)?,
                retention_interval: vars.seconds_or(
                    "RETENTION_INTERVAL_SECONDS",
                    3600,
                    1..=604_800,
                )?,
                dead_letter_retention_days: u32::try_from(bounded(
                    vars,
                    "DEAD_LETTER_RETENTION_DAYS",
                    30,
                    0..=3650,
                )?)
                .unwrap_or(30),
                object_retention_days: u32::try_from(bounded(
                    vars,
                    "OBJECT_RETENTION_DAYS",
                    30,
                    0..=3650,
                )?)
                .unwrap_or(30),
                retention_dry_run: vars.flag_or("RETENTION_DRY_RUN", false)?,
            },
        })
    }
}

fn bounded(
    vars: &Vars,
    name: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let v: u64 = vars.parse_or(name, default)?;
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(ConfigError::new(
            name,
            format!(
                "must be between {} and {}, got {v}",
                range.start(),
                range.end()
            ),
        ))
    }
}

impl PipelineConfig {
    pub fn from_vars(vars: &Vars, resources: Resources) -> Result<Self, ConfigError> {
        let engines = match vars.list("TEXT_ENGINES") {
            l if l.is_empty() => vec!["pdf-extract".to_owned(), "pdftotext".to_owned()],
            l => l,
        };
        if let Some(bad) = engines
            .iter()
            .find(|e| !matches!(e.as_str(), "pdf-extract" | "pdftotext"))
        {
            return Err(ConfigError::new(
                "TEXT_ENGINES",
                format!("unknown engine {bad:?}; use pdf-extract and/or pdftotext"),
            ));
        }
        let pdftotext = if engines.iter().any(|e| e == "pdftotext") {
            let name = vars.get("PDFTOTEXT_PATH").unwrap_or("pdftotext");
            Some(find_program(name).ok_or_else(|| {
                ConfigError::new("PDFTOTEXT_PATH", format!("{name:?} not found (install poppler-utils, or leave pdftotext out of TEXT_ENGINES)"))
            })?)
        } else {
            None
        };
        let chunk_max =
            usize::try_from(bounded(vars, "CHUNK_MAX_CHARS", 1500, 100..=100_000)?).unwrap_or(1500);
        let chunk_target =
            usize::try_from(bounded(vars, "CHUNK_TARGET_CHARS", 800, 50..=100_000)?).unwrap_or(800);
        if chunk_target > chunk_max {
            return Err(ConfigError::new(
                "CHUNK_TARGET_CHARS",
                format!("must not exceed CHUNK_MAX_CHARS ({chunk_max})"),
            ));
        }
        let sentence_max =
            usize::try_from(bounded(vars, "SENTENCE_MAX_CHARS", 250, 40..=100_000)?).unwrap_or(250);
        if sentence_max > chunk_max {
            return Err(ConfigError::new(
                "SENTENCE_MAX_CHARS",
                format!("must not exceed CHUNK_MAX_CHARS ({chunk_max})"),
            ));
        }
        let links = match vars.get("LINKS_SPOKEN") {
            None => crate::text::LinkSpeech::default(),
            Some(value) => value
                .parse()
                .map_err(|e: String| ConfigError::new("LINKS_SPOKEN", e))?,
        };
        let notes = match vars.get("NOTES_SPOKEN") {
            None => crate::text::NoteSpeech::default(),
            Some(value) => value
                .parse()
                .map_err(|e: String| ConfigError::new("NOTES_SPOKEN", e))?,
        };
        let parallelism = bounded(
            vars,
            "EXTRACT_PARALLELISM",
            resources.default_extract_parallelism(),
            1..=64,
        )?;
        let memory_mb = bounded(
            vars,
            "EXTRACT_MEMORY_MB",
            resources.default_extract_memory_mb(parallelism),
            64..=65_536,
        )?;
        Ok(Self {
            use_pdf_extract: engines.iter().any(|e| e == "pdf-extract"),
            pdftotext,
            parallelism: u32::try_from(parallelism).unwrap_or(1),
            memory_mb,
            timeout: vars.seconds_or("EXTRACT_TIMEOUT_SECONDS", 600, 1..=86_400)?,
            max_pages: u32::try_from(bounded(vars, "MAX_PAGES", 5000, 1..=1_000_000)?)
                .unwrap_or(5000),
            text: crate::text::TextOptions {
                sizes: crate::text::ChunkSizes {
                    target: chunk_target,
                    max: chunk_max,
                    sentence: sentence_max,
                },
                links,
                notes,
            },
            work_dir: vars
                .get("WORK_DIR")
                .map_or_else(std::env::temp_dir, PathBuf::from),
            ocr: ocr_config(vars)?,
        })
    }
}

/// OCR's settings, checked against this machine: Tesseract and pdftoppm found,
/// and data installed for every default language.
fn ocr_config(vars: &Vars) -> Result<Option<crate::extract::ocr::OcrConfig>, ConfigError> {
    if !vars.flag_or("OCR_ENABLED", true)? {
        return Ok(None);
    }
    let program = |var: &'static str, default: &str, package: &str| {
        let name = vars.get(var).unwrap_or(default);
        find_program(name).ok_or_else(|| {
            ConfigError::new(
                var,
                format!("{name:?} not found (install {package}, or set OCR_ENABLED=false)"),
            )
        })
    };
    let tesseract = program("TESSERACT_PATH", "tesseract", "tesseract-ocr")?;
    let pdftoppm = program("PDFTOPPM_PATH", "pdftoppm", "poppler-utils")?;
    let installed = tesseract_languages(&tesseract).map_err(|e| {
        ConfigError::new(
            "TESSERACT_PATH",
            format!("{} does not list its languages: {e}", tesseract.display()),
        )
    })?;
    let mut languages = Vec::new();
    for code in vars.list("OCR_LANGUAGES") {
        let Some(tesseract_code) = shared_domain::domain::ocr_language(&code) else {
            return Err(ConfigError::new(
                "OCR_LANGUAGES",
                format!("{code:?} is not a language OCR reads (ISO 639 codes such as en, fr, de)"),
            ));
        };
        languages.push(tesseract_code.to_owned());
    }
    if languages.is_empty() {
        languages.push("eng".to_owned());
    }
    if let Some(missing) = languages.iter().find(|l| !installed.contains(l)) {
        return Err(ConfigError::new(
            "OCR_LANGUAGES",
            format!(
                "Tesseract has no data for {missing:?} here (install tesseract-ocr-{}); it has {}",
                missing.replace('_', "-"),
                installed.join(", ")
            ),
        ));
    }
    Ok(Some(crate::extract::ocr::OcrConfig {
        tesseract,
        pdftoppm,
        languages,
        installed,
        dpi: u32::try_from(bounded(vars, "OCR_DPI", 300, 70..=600)?).unwrap_or(300),
        timeout: vars.seconds_or("OCR_TIMEOUT_SECONDS", 3600, 1..=86_400)?,
    }))
}

/// The languages `tesseract --list-langs` reports (its first line is a header).
fn tesseract_languages(tesseract: &std::path::Path) -> std::io::Result<Vec<String>> {
    let out = std::process::Command::new(tesseract)
        .arg("--list-langs")
        .stdin(std::process::Stdio::null())
        .output()?;
    if !out.status.success() {
        return Err(std::io::Error::other(format!("exit status {}", out.status)));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

/// `name` as given when it has a slash, else the first match on `PATH`.
fn find_program(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return p.is_file().then_some(p);
    }
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| PathBuf::from(dir).join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests;
