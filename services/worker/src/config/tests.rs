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
        ("VISIBILITY_TIMEOUT_SECONDS", "1"),
        ("TEXT_ENGINES", "ocr"),
        ("PDFTOTEXT_PATH", "/nonexistent/pdftotext"),
        ("CHUNK_TARGET_CHARS", "2000"),
        ("SENTENCE_MAX_CHARS", "5000"),
        ("LINKS_SPOKEN", "spell"),
        ("NOTES_SPOKEN", "footer"),
        ("EXTRACT_MEMORY_MB", "lots"),
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
fn health_is_served_on_health_port_else_on_the_platforms_port() {
    let c = Config::from_vars(&Vars::from_pairs(base())).unwrap();
    assert_eq!(c.health_port, None);
    assert!(c.concurrency >= 1);
    assert!(!format!("{c:?}").contains("pw@"));
    let port = |extra: &[(&'static str, &'static str)]| {
        Config::from_vars(&Vars::from_pairs(
            base().into_iter().chain(extra.iter().copied()),
        ))
        .unwrap()
        .health_port
    };
    assert_eq!(port(&[("PORT", "8080")]), Some(8080));
    assert_eq!(
        port(&[("PORT", "8080"), ("HEALTH_PORT", "9000")]),
        Some(9000)
    );
}

#[test]
fn defaults_fit_the_container_not_the_host() {
    let small = Resources {
        cpus: 1,
        memory_bytes: Some(1024 * 1024 * 1024),
    };
    let c = Config::from_vars_within(&Vars::from_pairs(base()), small).unwrap();
    assert_eq!(c.concurrency, 1);
    assert_eq!(c.pipeline.parallelism, 1);
    assert!(c.pipeline.memory_mb < 1024, "{}", c.pipeline.memory_mb);
    // Explicit settings still win.
    let vars = Vars::from_pairs(
        base()
            .into_iter()
            .chain([("EXTRACT_PARALLELISM", "3"), ("EXTRACT_MEMORY_MB", "4096")]),
    );
    let c = Config::from_vars_within(&vars, small).unwrap();
    assert_eq!((c.pipeline.parallelism, c.pipeline.memory_mb), (3, 4096));
}
