//! Postgres TLS with libpq's meaning of `sslmode`, so a connection string works as
//! a provider pastes it (Supabase's among them, whose server certificate comes from
//! a private CA).
//!
//! | `sslmode`            | TLS                         | verifies                                   |
//! |----------------------|-----------------------------|--------------------------------------------|
//! | `disable`            | never                       | —                                          |
//! | `allow`, `prefer` (default) | when the server offers it | nothing, unless a root certificate is given (then the chain) |
//! | `require`            | always                      | nothing, unless a root certificate is given (then the chain) |
//! | `verify-ca`          | always                      | the chain                                  |
//! | `verify-full`        | always                      | the chain and the host name                |
//!
//! The root certificate comes from one of: `sslrootcert=<file>` in the URL,
//! `DATABASE_CA_CERT` (PEM text, for platforms without files), or
//! `DATABASE_CA_CERT_PATH` (a PEM file). `verify-ca`/`verify-full` without one
//! verify against the public web roots, as `sslrootcert=system` does (libpq would
//! refuse instead). `allow` is taken as `prefer`: tokio-postgres cannot try plain
//! text first, and TLS when the server offers it is the safer of the two.
//!
//! tokio-postgres knows only `disable`, `prefer` and `require` and no
//! `sslrootcert`, so those two parameters are taken out of the URL here and the
//! rest is left for it to parse.

use std::fmt;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::CertificateDer;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::{CaCert, ConfigError, Vars};

mod verifier;

use verifier::Verifier;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "disable" => Self::Disable,
            "allow" => Self::Allow,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            _ => return None,
        })
    }

    /// What tokio-postgres is told: whether TLS is tried and whether it is required.
    pub(crate) fn transport(self) -> tokio_postgres::config::SslMode {
        use tokio_postgres::config::SslMode as T;
        match self {
            Self::Disable => T::Disable,
            Self::Allow | Self::Prefer => T::Prefer,
            Self::Require | Self::VerifyCa | Self::VerifyFull => T::Require,
        }
    }
}

/// Where the trusted root certificates came from (named in errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootSource {
    /// None given: the public web roots, used only by `verify-ca`/`verify-full`.
    PublicWebRoots,
    /// `sslrootcert=system` in `DATABASE_URL`.
    System,
    /// `sslrootcert=<file>` in `DATABASE_URL`.
    UrlFile,
    /// `DATABASE_CA_CERT`.
    Inline,
    /// `DATABASE_CA_CERT_PATH`.
    File,
}

/// How connections to Postgres are secured; parsed once from the environment.
#[derive(Clone)]
pub struct PostgresTls {
    pub mode: SslMode,
    pub roots_from: RootSource,
    roots: Vec<CertificateDer<'static>>,
}

impl fmt::Debug for PostgresTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresTls")
            .field("mode", &self.mode)
            .field("roots_from", &self.roots_from)
            .field("roots", &self.roots.len())
            .finish()
    }
}

/// How much of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Nothing,
    Chain,
    ChainAndName,
}

impl PostgresTls {
    /// Split `DATABASE_URL` into what tokio-postgres parses and the TLS settings
    /// handled here; the root certificate is read now, so a bad one stops the start.
    pub(crate) fn from_vars(vars: &Vars, url: &str) -> Result<(String, Self), ConfigError> {
        let bad_url = |problem: String| ConfigError::new("DATABASE_URL", problem);
        let (rest, params) = take_tls_params(url).map_err(bad_url)?;
        let mut mode = SslMode::Prefer;
        let mut url_root = None;
        for (key, value) in params {
            match key {
                TlsParam::SslMode => {
                    mode = SslMode::parse(&value).ok_or_else(|| {
                        bad_url(format!(
                            "sslmode={value:?} is not one of disable, allow, prefer, require, verify-ca, verify-full"
                        ))
                    })?;
                }
                TlsParam::SslRootCert => url_root = Some(value),
            }
        }

        let ca = CaCert::from_vars(vars, "DATABASE_CA_CERT", "DATABASE_CA_CERT_PATH")?;
        let (roots_from, roots) = match (url_root.as_deref(), ca) {
            (Some(_), Some(ca)) => {
                return Err(ConfigError::new(
                    ca.var,
                    "is set together with sslrootcert in DATABASE_URL: keep one",
                ));
            }
            (Some("system"), None) => {
                if mode != SslMode::VerifyFull {
                    return Err(bad_url(
                        "sslrootcert=system needs sslmode=verify-full (as libpq requires)".into(),
                    ));
                }
                (RootSource::System, Vec::new())
            }
            (Some(file), None) => {
                let pem = std::fs::read(file)
                    .map_err(|e| bad_url(format!("sslrootcert {file:?} cannot be read ({e})")))?;
                let certs = CaCert::certificates(&pem)
                    .map_err(|p| bad_url(format!("sslrootcert {file:?} {p}")))?;
                (RootSource::UrlFile, certs)
            }
            (None, Some(ca)) => {
                let from = if ca.var == "DATABASE_CA_CERT" {
                    RootSource::Inline
                } else {
                    RootSource::File
                };
                let certs =
                    CaCert::certificates(&ca.pem).map_err(|p| ConfigError::new(ca.var, p))?;
                (from, certs)
            }
            (None, None) => (RootSource::PublicWebRoots, Vec::new()),
        };
        Ok((
            rest,
            Self {
                mode,
                roots_from,
                roots,
            },
        ))
    }

    fn check(&self) -> Check {
        match self.mode {
            SslMode::Disable => Check::Nothing,
            SslMode::VerifyFull => Check::ChainAndName,
            SslMode::VerifyCa => Check::Chain,
            SslMode::Allow | SslMode::Prefer | SslMode::Require => {
                if self.roots_from == RootSource::PublicWebRoots {
                    Check::Nothing
                } else {
                    Check::Chain
                }
            }
        }
    }

    /// The TLS connector for tokio-postgres.
    pub(crate) fn connector(&self) -> Result<MakeRustlsConnect, rustls::Error> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut store = rustls::RootCertStore::empty();
        if self.roots.is_empty() {
            store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        } else {
            for cert in &self.roots {
                store.add(cert.clone())?;
            }
        }
        let webpki =
            WebPkiServerVerifier::builder_with_provider(Arc::new(store), Arc::clone(&provider))
                .build()
                .map_err(|e| rustls::Error::General(e.to_string()))?;
        let verifier = Arc::new(Verifier {
            check: self.check(),
            mode: self.mode,
            roots_from: self.roots_from,
            webpki,
            provider: Arc::clone(&provider),
        });
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(client))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsParam {
    SslMode,
    SslRootCert,
}

impl TlsParam {
    fn from_key(key: &str) -> Option<Self> {
        match key {
            "sslmode" => Some(Self::SslMode),
            "sslrootcert" => Some(Self::SslRootCert),
            _ => None,
        }
    }
}

/// Take `sslmode` and `sslrootcert` out of a URL (`postgres://…?sslmode=…`) or a
/// key/value string (`host=… sslmode=…`); the rest is returned unchanged.
fn take_tls_params(conn: &str) -> Result<(String, Vec<(TlsParam, String)>), String> {
    if conn.starts_with("postgres://") || conn.starts_with("postgresql://") {
        let Some((base, query)) = conn.split_once('?') else {
            return Ok((conn.to_owned(), Vec::new()));
        };
        let mut kept = Vec::new();
        let mut taken = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match TlsParam::from_key(&percent_decode(key)?) {
                Some(param) => taken.push((param, percent_decode(value)?)),
                None => kept.push(pair),
            }
        }
        let rest = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        Ok((rest, taken))
    } else {
        let mut rest = String::with_capacity(conn.len());
        let mut taken = Vec::new();
        for (key, value, span) in key_values(conn)? {
            match TlsParam::from_key(&key) {
                Some(param) => taken.push((param, value)),
                None => {
                    rest.push_str(&conn[span]);
                    rest.push(' ');
                }
            }
        }
        Ok((rest.trim_end().to_owned(), taken))
    }
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("has a malformed %-escape in its query string")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "has a %-escape that is not UTF-8".to_owned())
}

/// libpq's `key = value` pairs: values bare or single-quoted, `\` escaping.
fn key_values(s: &str) -> Result<Vec<(String, String, std::ops::Range<usize>)>, String> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(start, _)) = chars.peek() else {
            return Ok(out);
        };
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        if chars.next().is_none_or(|(_, c)| c != '=') {
            return Err(format!("expected `=` after {key:?}"));
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        let mut end = s.len();
        if chars.next_if(|(_, c)| *c == '\'').is_some() {
            let mut closed = false;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next().map(|(_, c)| c)),
                    '\'' => {
                        end = i + 1;
                        closed = true;
                        break;
                    }
                    c => value.push(c),
                }
            }
            if !closed {
                return Err(format!("the value of {key:?} has no closing quote"));
            }
        } else {
            while let Some((i, c)) = chars.next() {
                if c.is_whitespace() {
                    end = i;
                    break;
                }
                if c == '\\' {
                    value.extend(chars.next().map(|(_, c)| c));
                } else {
                    value.push(c);
                }
            }
        }
        out.push((key, value, start..end));
    }
}

#[cfg(test)]
mod tests;
