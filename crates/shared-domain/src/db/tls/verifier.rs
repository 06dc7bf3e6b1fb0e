//! The certificate check of a Postgres TLS connection, as its `sslmode` asks, and
//! the error that says what to set when it fails.

use std::fmt;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use super::{Check, RootSource, SslMode};

/// Checks the server's certificate as the mode asks, and turns a failure into an
/// error that says what to set.
#[derive(Debug)]
pub(super) struct Verifier {
    pub(super) check: Check,
    pub(super) mode: SslMode,
    pub(super) roots_from: RootSource,
    pub(super) webpki: Arc<WebPkiServerVerifier>,
    pub(super) provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.check == Check::Nothing {
            return Ok(ServerCertVerified::assertion());
        }
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(verified) => Ok(verified),
            // The chain is checked before the name, so a name error means the chain
            // is good: all that verify-ca asks.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if self.check == Check::Chain => Ok(ServerCertVerified::assertion()),
            Err(e) => Err(rustls::Error::Other(rustls::OtherError(Arc::new(
                VerifyFailed {
                    cause: e,
                    mode: self.mode,
                    roots_from: self.roots_from,
                    host: server_name.to_str().into_owned(),
                },
            )))),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A certificate the mode refused, with what to do about it.
#[derive(Debug)]
struct VerifyFailed {
    cause: rustls::Error,
    mode: SslMode,
    roots_from: RootSource,
    host: String,
}

impl fmt::Display for VerifyFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the Postgres server's certificate was refused ({})",
            self.cause
        )?;
        let name_error = matches!(
            self.cause,
            rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
            )
        );
        if name_error {
            return write!(
                f,
                "; sslmode=verify-full checks that it names {:?}: connect by a name on the \
                 certificate, or use sslmode=verify-ca to check the chain only",
                self.host
            );
        }
        let roots = match self.roots_from {
            RootSource::PublicWebRoots | RootSource::System => {
                "the public web roots, and the server's CA is not among them (Supabase's is not)"
            }
            RootSource::UrlFile => "the CA in the URL's sslrootcert file",
            RootSource::Inline => "the CA in DATABASE_CA_CERT",
            RootSource::File => "the CA in DATABASE_CA_CERT_PATH",
        };
        write!(
            f,
            "; with sslmode={} it must chain to {roots}. Set DATABASE_CA_CERT to the provider's \
             CA certificate (PEM text; Supabase: Database Settings → SSL Configuration → \
             Download certificate) or DATABASE_CA_CERT_PATH to its file, or use \
             sslmode=require without a root certificate to encrypt without verifying",
            mode_name(self.mode)
        )
    }
}

impl std::error::Error for VerifyFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

pub(super) fn mode_name(mode: SslMode) -> &'static str {
    match mode {
        SslMode::Disable => "disable",
        SslMode::Allow => "allow",
        SslMode::Prefer => "prefer",
        SslMode::Require => "require",
        SslMode::VerifyCa => "verify-ca",
        SslMode::VerifyFull => "verify-full",
    }
}
