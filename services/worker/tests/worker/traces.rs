//! One trace per book: the api's upload span, every worker job span that book
//! gets and each job's pipeline stage spans share one trace id and nest, however
//! the job reaches the stream. Both services run as their real binaries,
//! exporting OTLP/HTTP to a collector here that decodes the protobuf requests.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use prost::Message;
use serde_json::Value;
use test_support::{ServiceProcess, TcpProxy, TestEnv, eventually, free_port};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{ADMIN_TOKEN, BIN, JWT_SECRET, SERVICE_TOKEN, corpus};

/// One exported span, as the collector decoded it.
#[derive(Debug, Clone)]
struct Span {
    service: String,
    name: String,
    trace_id: Vec<u8>,
    span_id: Vec<u8>,
    parent_span_id: Vec<u8>,
}

/// An OTLP/HTTP trace receiver (`POST /v1/traces`, protobuf).
struct Collector {
    server: MockServer,
}

impl Collector {
    async fn start() -> Self {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/traces"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
        Self { server }
    }

    fn endpoint(&self) -> String {
        self.server.uri()
    }

    async fn spans(&self) -> Vec<Span> {
        let mut spans = Vec::new();
        for request in self.server.received_requests().await.unwrap_or_default() {
            assert_eq!(
                request
                    .headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok()),
                Some("application/x-protobuf"),
                "OTLP/HTTP with protobuf bodies"
            );
            let export = ExportTraceServiceRequest::decode(request.body.as_slice())
                .expect("an OTLP trace export");
            for resource in export.resource_spans {
                let service = resource
                    .resource
                    .iter()
                    .flat_map(|r| r.attributes.iter())
                    .find(|a| a.key == "service.name")
                    .and_then(|a| a.value.as_ref()?.value.as_ref())
                    .map(|v| match v {
                        AnyValue::StringValue(s) => s.clone(),
                        other => format!("{other:?}"),
                    })
                    .unwrap_or_default();
                for scope in resource.scope_spans {
                    for span in scope.spans {
                        spans.push(Span {
                            service: service.clone(),
                            name: span.name,
                            trace_id: span.trace_id,
                            span_id: span.span_id,
                            parent_span_id: span.parent_span_id,
                        });
                    }
                }
            }
        }
        spans
    }
}

#[tokio::test]
async fn a_book_is_one_trace_through_a_redis_outage_a_retry_with_backoff_and_a_manual_retry() {
    let collector = Collector::start().await;
    let env = TestEnv::new().await;
    // The api reaches Redis through a proxy cut from the start: its publish fails
    // and the worker's sweeper publishes every time (the outbox).
    let redis_url = env.redis.url.clone();
    let proxy = TcpProxy::start(
        redis_url
            .trim_start_matches("redis://")
            .trim_end_matches('/')
            .to_owned(),
    )
    .await;
    proxy.cut();
    let mut vars = env.vars();
    for (k, v) in [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint()),
        ("RUST_LOG", "info".to_owned()),
        ("ADMIN_API_TOKEN", ADMIN_TOKEN.to_owned()),
        ("SERVICE_API_TOKEN", SERVICE_TOKEN.to_owned()),
        ("SUPABASE_JWT_SECRET", JWT_SECRET.to_owned()),
        ("MAX_JOB_ATTEMPTS", "2".to_owned()),
        ("VISIBILITY_TIMEOUT_SECONDS", "3".to_owned()),
        ("SWEEP_INTERVAL_SECONDS", "1".to_owned()),
        ("RETRY_BASE_SECONDS", "1".to_owned()),
        ("RETRY_MAX_SECONDS", "1".to_owned()),
    ] {
        test_support::set_var(&mut vars, k, v);
    }
    let api_port = free_port();
    let mut api_vars = vars.clone();
    test_support::set_var(&mut api_vars, "PORT", api_port.to_string());
    test_support::set_var(&mut api_vars, "REDIS_URL", proxy.url_for(&redis_url));
    let mut api =
        ServiceProcess::spawn(&crate::helpers::sibling_binary("api"), &api_vars, api_port);
    api.wait_healthy().await;
    let api_url = format!("http://127.0.0.1:{api_port}");
    let client = reqwest::Client::new();

    let upload = crate::helpers::upload_to(&client, &api_url, &corpus("debhist_en.pdf")).await;
    let book = upload["book_id"].as_str().expect("book_id").to_owned();
    let job = upload["job_id"].as_str().expect("job_id").to_owned();
    // Storage breaks (a symlink loop: an I/O error, not "missing"), so both
    // attempts fail transiently: the second is a retry after backoff, and the
    // job dies.
    let object = env
        .storage_dir
        .path()
        .join(upload["storage_path"].as_str().expect("storage_path"));
    let saved = env.storage_dir.path().join("saved.pdf");
    std::fs::rename(&object, &saved).expect("move the book aside");
    std::os::unix::fs::symlink(&object, &object).expect("symlink loop");

    let worker_port = free_port();
    let mut worker_vars = vars.clone();
    test_support::set_var(&mut worker_vars, "HEALTH_PORT", worker_port.to_string());
    let mut worker = ServiceProcess::spawn(Path::new(BIN), &worker_vars, worker_port);
    worker.wait_healthy().await;
    let status = |client: reqwest::Client, url: String| async move {
        client
            .get(url)
            .bearer_auth(SERVICE_TOKEN)
            .send()
            .await
            .ok()?
            .json::<Value>()
            .await
            .ok()
    };
    let status_url = format!("{api_url}/books/{book}/status");
    eventually(
        "the book fails after two attempts",
        Duration::from_secs(60),
        || async {
            let s = status(client.clone(), status_url.clone()).await?;
            (s["status"] == "failed").then_some(())
        },
    )
    .await;
    // Storage is mended and the admin retries the dead job.
    std::fs::remove_file(&object).expect("remove the loop");
    std::fs::rename(&saved, &object).expect("put the book back");
    let retried = client
        .post(format!("{api_url}/admin/jobs/{job}/retry"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("retry");
    assert!(retried.status().is_success(), "{}", retried.status());
    eventually("the book is ready", Duration::from_secs(60), || async {
        let s = status(client.clone(), status_url.clone()).await?;
        (s["status"] == "ready").then_some(())
    })
    .await;
    // SIGTERM flushes both services' exporters.
    assert!(worker.terminate().await.success());
    assert!(api.terminate().await.success());

    let spans = collector.spans().await;
    if std::env::var("TRACE_DEBUG").is_ok() {
        for s in &spans {
            eprintln!(
                "{} {} trace={} span={} parent={}",
                s.service,
                s.name,
                hex(&s.trace_id),
                hex(&s.span_id),
                hex(&s.parent_span_id)
            );
        }
    }
    let upload_root = spans
        .iter()
        .find(|s| {
            s.service == "api"
                && s.name.contains("/admin/books/upload")
                && s.parent_span_id.is_empty()
        })
        .unwrap_or_else(|| panic!("no root span for the upload request among {spans:#?}"));
    let in_trace: Vec<&Span> = spans
        .iter()
        .filter(|s| s.trace_id == upload_root.trace_id)
        .collect();
    let by_id: HashMap<&[u8], &Span> = in_trace
        .iter()
        .map(|s| (s.span_id.as_slice(), *s))
        .collect();
    let jobs: Vec<&&Span> = in_trace
        .iter()
        .filter(|s| s.service == "worker" && s.name == "job")
        .collect();
    // Attempt 1 (published by the outbox), attempt 2 (after backoff), attempt 3
    // (the manual retry): each a job span in the upload's trace, each a child of
    // a span of the api's upload request.
    assert_eq!(
        jobs.len(),
        3,
        "job spans in the upload's trace: {:#?}; every worker span: {:#?}",
        jobs,
        spans
            .iter()
            .filter(|s| s.service == "worker")
            .collect::<Vec<_>>()
    );
    for job in &jobs {
        let parent = by_id
            .get(job.parent_span_id.as_slice())
            .unwrap_or_else(|| panic!("the job span's parent is not in the trace: {job:?}"));
        assert_eq!(parent.service, "api", "{parent:?}");
    }
    // The ready run's stages nest in its job span.
    let stages: Vec<&&Span> = in_trace
        .iter()
        .filter(|s| s.name.starts_with("pipeline."))
        .collect();
    for stage in [
        "pipeline.fetch",
        "pipeline.extract",
        "pipeline.chunk",
        "pipeline.store",
    ] {
        let span = stages
            .iter()
            .find(|s| s.name == stage)
            .unwrap_or_else(|| panic!("no {stage} span in the trace: {stages:#?}"));
        let parent = by_id
            .get(span.parent_span_id.as_slice())
            .unwrap_or_else(|| panic!("{stage}'s parent is not in the trace"));
        assert_eq!(parent.name, "job", "{stage} nests in a job span");
    }
    // The failed attempts reached the fetch stage and no further.
    assert_eq!(
        stages.iter().filter(|s| s.name == "pipeline.fetch").count(),
        3
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
