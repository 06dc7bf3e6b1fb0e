//! The TLS and pooler servers `scripts/test` starts beside the plain ones: the test
//! Postgres and Redis also serve TLS with a certificate for `localhost` only,
//! signed by a private CA made for the run; PgBouncer stands in front of Postgres
//! in session and in transaction mode.

use std::path::PathBuf;

use crate::required_env;

#[derive(Debug, Clone)]
pub struct TlsServers {
    /// The private CA's certificate (PEM file).
    pub ca_cert: PathBuf,
    /// The same, as text.
    pub ca_pem: String,
    /// The test Postgres, which also accepts TLS (at `localhost`).
    pub postgres_port: u16,
    /// Redis's TLS port (at `localhost`).
    pub redis_tls_port: u16,
    pub pgbouncer_session_port: u16,
    pub pgbouncer_transaction_port: u16,
}

impl TlsServers {
    pub fn from_env() -> Self {
        let port = |name: &str| -> u16 {
            required_env(name)
                .parse()
                .unwrap_or_else(|_| panic!("{name} is not a port"))
        };
        let ca_cert = PathBuf::from(required_env("TEST_TLS_CA_CERT"));
        let ca_pem = std::fs::read_to_string(&ca_cert)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", ca_cert.display()));
        Self {
            ca_cert,
            ca_pem,
            postgres_port: port("TEST_POSTGRES_TLS_PORT"),
            redis_tls_port: port("TEST_REDIS_TLS_PORT"),
            pgbouncer_session_port: port("TEST_PGBOUNCER_SESSION_PORT"),
            pgbouncer_transaction_port: port("TEST_PGBOUNCER_TRANSACTION_PORT"),
        }
    }
}
