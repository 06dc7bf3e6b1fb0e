use super::*;

fn split(conn: &str) -> (String, Vec<(TlsParam, String)>) {
    take_tls_params(conn).unwrap()
}

#[test]
fn tls_parameters_leave_the_url_and_the_rest_stays() {
    assert_eq!(
        split(
            "postgres://u:p@h:5432/db?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca.pem"
        ),
        (
            "postgres://u:p@h:5432/db?application_name=x".to_owned(),
            vec![
                (TlsParam::SslMode, "verify-full".to_owned()),
                (TlsParam::SslRootCert, "/etc/ca.pem".to_owned())
            ]
        )
    );
    assert_eq!(
        split("postgresql://u@h/db?sslmode=require"),
        (
            "postgresql://u@h/db".to_owned(),
            vec![(TlsParam::SslMode, "require".to_owned())]
        )
    );
    assert_eq!(split("postgres://u@h/db").0, "postgres://u@h/db");
}

#[test]
fn key_value_strings_are_split_the_same_way() {
    assert_eq!(
        split("host=h  user = u password='it\\'s x' sslmode = verify-ca dbname=db"),
        (
            "host=h user = u password='it\\'s x' dbname=db".to_owned(),
            vec![(TlsParam::SslMode, "verify-ca".to_owned())]
        )
    );
    assert!(take_tls_params("host=h sslmode").is_err());
    assert!(take_tls_params("host=h password='open").is_err());
}

fn tls(url: &str, vars: &[(&str, &str)]) -> Result<PostgresTls, ConfigError> {
    PostgresTls::from_vars(&Vars::from_pairs(vars.iter().copied()), url).map(|(_, t)| t)
}

#[test]
fn modes_verify_as_libpq_does() {
    let check = |url: &str| tls(url, &[]).unwrap().check();
    assert_eq!(check("postgres://h/db"), Check::Nothing);
    assert_eq!(check("postgres://h/db?sslmode=require"), Check::Nothing);
    assert_eq!(check("postgres://h/db?sslmode=verify-ca"), Check::Chain);
    assert_eq!(
        check("postgres://h/db?sslmode=verify-full"),
        Check::ChainAndName
    );
    assert_eq!(
        tls("postgres://h/db?sslmode=allow", &[])
            .unwrap()
            .mode
            .transport(),
        tokio_postgres::config::SslMode::Prefer
    );
    let bad = tls("postgres://h/db?sslmode=verify", &[]).unwrap_err();
    assert_eq!(bad.var, "DATABASE_URL");
    assert!(tls("postgres://h/db?sslmode=require&sslrootcert=system", &[]).is_err());
}

#[test]
fn a_root_certificate_is_read_at_start_and_named_when_bad() {
    let err = tls("postgres://h/db", &[("DATABASE_CA_CERT", "not a pem")]).unwrap_err();
    assert_eq!(err.var, "DATABASE_CA_CERT");
    let err = tls(
        "postgres://h/db",
        &[("DATABASE_CA_CERT_PATH", "/nonexistent/ca.pem")],
    )
    .unwrap_err();
    assert_eq!(err.var, "DATABASE_CA_CERT_PATH");
    let err = tls("postgres://h/db?sslrootcert=/nonexistent/ca.pem", &[]).unwrap_err();
    assert_eq!(err.var, "DATABASE_URL");
    let pem = test_pem();
    let pem_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(pem_file.path(), &pem).unwrap();
    let path = pem_file.path().to_str().unwrap();
    let twice = tls(
        "postgres://h/db?sslrootcert=/a.pem",
        &[("DATABASE_CA_CERT_PATH", path)],
    )
    .unwrap_err();
    assert!(twice.problem.contains("keep one"), "{twice}");
    // One line with \n escapes, as some dashboards store it.
    let one_line = pem.replace('\n', "\\n");
    let inline = tls(
        "postgres://h/db?sslmode=require",
        &[("DATABASE_CA_CERT", &one_line)],
    )
    .unwrap();
    assert_eq!(
        (inline.roots_from, inline.check()),
        (RootSource::Inline, Check::Chain)
    );
    let file = tls("postgres://h/db", &[("DATABASE_CA_CERT_PATH", path)]).unwrap();
    assert_eq!(
        (file.roots_from, file.check()),
        (RootSource::File, Check::Chain)
    );
}

/// A certificate (of a throwaway CA whose key was never kept).
fn test_pem() -> String {
    "-----BEGIN CERTIFICATE-----\nMIIBlDCCATmgAwIBAgIUAcxKIfG7a+mnUX3lM6EachBYZNAwCgYIKoZIzj0EAwIw\nHjEcMBoGA1UEAwwTcmVhZG1lIHVuaXQtdGVzdCBDQTAgFw0yNjEyMDIxNzQzNTla\nGA8yMTI2MTEwODE3NDM1OVowHjEcMBoGA1UEAwwTcmVhZG1lIHVuaXQtdGVzdCBD\nQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABMMvozAjdQl6mcfBcYAC4qgl2/0s\neZFe4dY1MpMmbNss2sK5IA8EUVeGKvKjU1YRLFFIfAMJiScowbEvbEGzLOCjUzBR\nMB0GA1UdDgQWBBQJ7BS0VrHC/VujbyBPKkB7QURQMzAfBgNVHSMEGDAWgBQJ7BS0\nVrHC/VujbyBPKkB7QURQMzAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kA\nMEYCIQC2OBbE0LllWkW+lflcTJfY8bDMfQKYRFasxv5gi8L19wIhAJQZIn1EU+HM\n6r7M11QdWkIg6zfBYFZ/bA72Y/+EhQXP\n-----END CERTIFICATE-----\n".to_owned()
}
