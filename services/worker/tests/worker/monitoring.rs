//! `deploy/monitoring/`: the alert rules pass their `promtool` unit tests, and a
//! real Prometheus scraping the three real binaries (with `METRICS_TOKEN`) loads
//! the rules, evaluates them cleanly, and finds every metric the rules and the
//! Grafana dashboard use.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};
use test_support::{ServiceProcess, TestEnv, eventually, free_port};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{ADMIN_TOKEN, BIN, HOUSEHOLD, JWT_SECRET, SERVICE_TOKEN, corpus};

const METRICS_TOKEN: &str = "test-metrics-token-0123456789abcdef";

fn monitoring_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/monitoring")
}

/// A program from Debian's `prometheus` package.
fn prometheus_tool(name: &str) -> PathBuf {
    let path = PathBuf::from("/usr/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: install Debian's `prometheus` package (apt-get install prometheus; scripts/test does)",
        path.display()
    );
    path
}

#[test]
fn the_alert_rules_pass_their_promtool_unit_tests() {
    let out = Command::new(prometheus_tool("promtool"))
        .args(["test", "rules", "alerts.test.yml"])
        .current_dir(monitoring_dir())
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Metric names in a PromQL expression: identifiers that are not functions,
/// keywords or label names (label matchers and `by (…)` lists are dropped first).
fn metric_names(expr: &str) -> BTreeSet<String> {
    const NOT_METRICS: &[&str] = &[
        "sum",
        "max",
        "min",
        "avg",
        "count",
        "rate",
        "increase",
        "delta",
        "absent",
        "vector",
        "histogram_quantile",
        "by",
        "on",
        "and",
        "or",
        "unless",
        "without",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "offset",
    ];
    let mut cleaned = String::new();
    let mut depth = 0;
    for c in expr.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ if depth > 0 => {}
            _ => cleaned.push(c),
        }
    }
    // `by (job, le)` and `on()` name labels, not metrics.
    let mut names = BTreeSet::new();
    let tokens: Vec<&str> = cleaned
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .collect();
    let mut skip_group = false;
    let mut rest = cleaned.as_str();
    for token in tokens {
        let Some(at) = rest.find(token) else { continue };
        let after = rest[at + token.len()..].trim_start();
        rest = &rest[at + token.len()..];
        if token.is_empty() || token.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            continue;
        }
        if skip_group {
            if after.starts_with(')') {
                skip_group = false;
            }
            continue;
        }
        if matches!(token, "by" | "on" | "without" | "ignoring") {
            skip_group = !after.starts_with("()");
            continue;
        }
        if NOT_METRICS.contains(&token) || after.starts_with('(') {
            continue;
        }
        names.insert(token.to_owned());
    }
    names
}

#[test]
fn metric_names_are_read_from_expressions() {
    let names = metric_names(
        "sum by (job, le) (rate(http_requests_total{status=~\"5..\"}[5m])) / on() max(queue_backlog) > 0.01 and absent(up)",
    );
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["http_requests_total", "queue_backlog", "up"]
    );
}

/// How many alerts `alerts.yml` defines.
fn alert_count() -> usize {
    std::fs::read_to_string(monitoring_dir().join("alerts.yml"))
        .expect("alerts.yml")
        .lines()
        .filter(|l| l.trim_start().starts_with("- alert:"))
        .count()
}

fn dashboard_expressions() -> Vec<String> {
    let text = std::fs::read_to_string(monitoring_dir().join("grafana-dashboard.json"))
        .expect("grafana-dashboard.json");
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().expect("expr").to_owned())
        .collect()
}

struct Prometheus {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    fn start(targets: &[(&str, u16)]) -> Self {
        let dir = tempfile::tempdir().expect("prometheus dir");
        std::fs::copy(
            monitoring_dir().join("alerts.yml"),
            dir.path().join("alerts.yml"),
        )
        .expect("copy the rules");
        let token = dir.path().join("token");
        std::fs::write(&token, METRICS_TOKEN).expect("token file");
        let mut config = String::from(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - alerts.yml\nscrape_configs:\n",
        );
        for (job, port) in targets {
            config.push_str(&format!(
                "  - job_name: {job}\n    authorization:\n      credentials_file: {}\n    static_configs:\n      - targets: [\"127.0.0.1:{port}\"]\n",
                token.display()
            ));
        }
        std::fs::write(dir.path().join("prometheus.yml"), config).expect("prometheus.yml");
        let port = free_port();
        let child = Command::new(prometheus_tool("prometheus"))
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus");
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    async fn get(&self, path: &str) -> Option<Value> {
        let res = reqwest::get(format!("{}{path}", self.url)).await.ok()?;
        let body: Value = res.json().await.ok()?;
        (body["status"] == "success").then(|| body["data"].clone())
    }
}

#[tokio::test]
async fn a_real_prometheus_scrapes_every_service_and_finds_every_metric_the_rules_and_dashboard_use()
 {
    let env = TestEnv::new().await;
    let mut base = env.vars();
    for (k, v) in [
        ("METRICS_TOKEN", METRICS_TOKEN),
        ("ADMIN_API_TOKEN", ADMIN_TOKEN),
        ("SERVICE_API_TOKEN", SERVICE_TOKEN),
        ("SUPABASE_JWT_SECRET", JWT_SECRET),
        ("SWEEP_INTERVAL_SECONDS", "1"),
    ] {
        test_support::set_var(&mut base, k, v);
    }
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/public/reader/start"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "dailyRoom": "https://readme.daily.co/room1",
            "dailyToken": "secret-daily-token",
            "sessionId": "monitoring-1",
        })))
        .mount(&upstream)
        .await;
    let spawn = |bin: PathBuf, extra: &[(&str, String)]| {
        let port = free_port();
        let mut vars = base.clone();
        test_support::set_var(&mut vars, "PORT", port.to_string());
        for (k, v) in extra {
            test_support::set_var(&mut vars, k, v.clone());
        }
        (ServiceProcess::spawn(&bin, &vars, port), port)
    };
    let (mut api, api_port) = spawn(crate::helpers::sibling_binary("api"), &[]);
    api.wait_healthy().await;
    let (mut gateway, gateway_port) = spawn(
        crate::helpers::sibling_binary("bot-gateway"),
        &[(
            "BOT_START_URL",
            format!("{}/v1/public/reader/start", upstream.uri()),
        )],
    );
    let (mut worker, worker_port) = spawn(PathBuf::from(BIN), &[]);
    gateway.wait_healthy().await;
    worker.wait_healthy().await;

    // /metrics answers only the token.
    let anonymous = reqwest::get(format!("http://127.0.0.1:{worker_port}/metrics"))
        .await
        .expect("metrics");
    assert_eq!(anonymous.status(), 401);

    // Traffic, so that what is recorded per event exists: a book read, a bot
    // started, a position reported and stored.
    let client = reqwest::Client::new();
    let api_url = format!("http://127.0.0.1:{api_port}");
    let upload = crate::helpers::upload_to(&client, &api_url, &corpus("debhist_en.pdf")).await;
    let book = upload["book_id"].as_str().expect("book_id").to_owned();
    eventually("the book is ready", Duration::from_secs(120), || async {
        let status: Value = client
            .get(format!("{api_url}/books/{book}/status"))
            .bearer_auth(SERVICE_TOKEN)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (status["status"] == "ready").then_some(())
    })
    .await;
    let user = shared_domain::auth::sign_user_token(
        &SecretString::from(JWT_SECRET.to_owned()),
        &json!({"sub": "reader-1", "exp": chrono::Utc::now().timestamp() + 600, "household_id": HOUSEHOLD}),
    )
    .expect("sign");
    let gateway_url = format!("http://127.0.0.1:{gateway_port}");
    let started = client
        .post(format!("{gateway_url}/api/start"))
        .bearer_auth(user)
        .send()
        .await
        .expect("start");
    assert_eq!(started.status(), 200);
    let reported = client
        .post(format!(
            "{gateway_url}/internal/sessions/monitoring-1/events"
        ))
        .bearer_auth(SERVICE_TOKEN)
        .json(&json!({"type": "position", "book_id": book, "ordinal": 1, "offset": 0, "seq": 1}))
        .send()
        .await
        .expect("report");
    assert_eq!(reported.status(), 202);

    let prometheus = Prometheus::start(&[
        ("api", api_port),
        ("bot-gateway", gateway_port),
        ("worker", worker_port),
    ]);
    eventually(
        "Prometheus scrapes all three services",
        Duration::from_secs(60),
        || async {
            let targets = prometheus.get("/api/v1/targets").await?;
            let active = targets["activeTargets"].as_array()?;
            (active.len() == 3 && active.iter().all(|t| t["health"] == "up")).then_some(())
        },
    )
    .await;
    // The rules evaluate without error, and in a healthy stack none fires.
    let groups = eventually("every rule evaluated", Duration::from_secs(30), || async {
        let rules = prometheus.get("/api/v1/rules").await?;
        let groups = rules["groups"].as_array()?.clone();
        let all_evaluated = groups.iter().all(|g| {
            g["rules"].as_array().is_some_and(|r| {
                r.iter().all(|r| {
                    r["lastEvaluation"]
                        .as_str()
                        .is_some_and(|t| !t.starts_with("0001"))
                })
            })
        });
        all_evaluated.then_some(groups)
    })
    .await;
    for group in &groups {
        for rule in group["rules"].as_array().expect("rules") {
            assert_eq!(rule["health"], "ok", "{rule}");
            assert_ne!(rule["state"], "firing", "{rule}");
        }
    }
    // The expressions as Prometheus parsed them.
    let rule_expressions: Vec<String> = groups
        .iter()
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| r["query"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(rule_expressions.len(), alert_count());

    // Every metric the rules and the dashboard read is one the services export.
    // Three only appear on events this test does not cause (an OCR'd page, a
    // duplicate delivery, a position that cannot be stored): those must at least
    // be recorded somewhere in the services' code.
    const ON_RARE_EVENTS: &[&str] = &[
        "pipeline_ocr_pages_total",
        "queue_duplicates_total",
        "positions_dropped_total",
    ];
    let wanted: BTreeSet<String> = rule_expressions
        .iter()
        .chain(dashboard_expressions().iter())
        .flat_map(|e| metric_names(e))
        .collect();
    let present = eventually(
        "the worker's leader gauges are scraped",
        Duration::from_secs(30),
        || async {
            let names = prometheus.get("/api/v1/label/__name__/values").await?;
            let names: BTreeSet<String> = names
                .as_array()?
                .iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect();
            names.contains("queue_backlog").then_some(names)
        },
    )
    .await;
    let sources = [
        "services/api/src",
        "services/bot-gateway/src",
        "services/worker/src",
        "crates/shared-domain/src",
        "crates/http-support/src",
    ]
    .iter()
    .flat_map(|d| {
        test_support::files_under(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(d))
    })
    .filter(|p| p.extension().is_some_and(|e| e == "rs"))
    .map(|f| std::fs::read_to_string(f).unwrap_or_default())
    .collect::<String>();
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|name| {
            let exported = present.contains(*name);
            let recorded_on_rare_events =
                ON_RARE_EVENTS.contains(&name.as_str()) && sources.contains(&format!("\"{name}\""));
            !(exported || recorded_on_rare_events)
        })
        .collect();
    assert!(
        missing.is_empty(),
        "metrics the rules or dashboard use but no service exports: {missing:?}"
    );
    // Each service's own families are there, scraped from that service.
    for (job, name) in [
        ("api", "http_requests_total"),
        ("bot-gateway", "bot_starts_total"),
        ("worker", "jobs_total"),
        ("worker", "sweeper_leader"),
        ("api", "db_pool_connections"),
        ("worker", "db_pool_waiting"),
        ("bot-gateway", "redis_errors_total"),
        ("api", "process_resident_memory_bytes"),
        ("worker", "process_open_fds"),
    ] {
        let query = format!("/api/v1/query?query=count({name}{{job=\"{job}\"}})");
        let result = prometheus.get(&query).await.expect("query");
        assert!(
            result["result"].as_array().is_some_and(|r| !r.is_empty()),
            "{job} exports no {name}"
        );
    }
    drop(prometheus);
    for process in [api, gateway, worker] {
        assert!(process.terminate().await.success());
    }
}
