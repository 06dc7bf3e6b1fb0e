//! Logs and traces.
//!
//! Logs are JSON lines on stdout (`LOG_FORMAT=pretty` for humans), filtered by
//! `RUST_LOG` (default `info`, with `pdf_extract` held to errors: it logs every
//! unknown glyph). When `OTEL_EXPORTER_OTLP_ENDPOINT` is set, spans are also exported
//! over OTLP/HTTP and W3C trace context is used for propagation, so one trace can
//! follow a book from upload to worker.

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{ConfigError, Vars};

const DEFAULT_FILTER: &str = "info,pdf_extract=error,lopdf=error";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    pub format: LogFormat,
    pub filter: String,
    pub otlp_endpoint: Option<String>,
}

impl TelemetryConfig {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let format = match vars
            .get("LOG_FORMAT")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("json") => LogFormat::Json,
            Some("pretty" | "text") => LogFormat::Pretty,
            Some(other) => {
                return Err(ConfigError::new(
                    "LOG_FORMAT",
                    format!("expected json or pretty, got {other:?}"),
                ));
            }
        };
        let filter = vars.get("RUST_LOG").unwrap_or(DEFAULT_FILTER).to_owned();
        EnvFilter::try_new(&filter)
            .map_err(|e| ConfigError::new("RUST_LOG", format!("is not a valid filter ({e})")))?;
        let otlp_endpoint = vars
            .get("OTEL_EXPORTER_OTLP_ENDPOINT")
            .map(|e| e.trim_end_matches('/').to_owned());
        if let Some(ep) = &otlp_endpoint {
            url::Url::parse(ep).map_err(|e| {
                ConfigError::new("OTEL_EXPORTER_OTLP_ENDPOINT", format!("is not a URL ({e})"))
            })?;
        }
        Ok(Self {
            format,
            filter,
            otlp_endpoint,
        })
    }
}

/// Flushes and shuts down the trace exporter when dropped. Keep it alive in `main`.
#[must_use = "dropping the guard stops trace export"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown_with_timeout(Duration::from_secs(5))
        {
            eprintln!("trace exporter did not shut down cleanly: {e}");
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("could not build the OTLP exporter")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    #[error("a global tracing subscriber is already installed")]
    AlreadyInstalled(#[from] tracing_subscriber::util::TryInitError),
}

/// Install the global subscriber. Call once, before starting the async runtime: the
/// OTLP exporter's blocking HTTP client must not be built on a runtime thread.
pub fn init(
    service: &'static str,
    config: &TelemetryConfig,
) -> Result<TelemetryGuard, TelemetryError> {
    // The filter was validated in `from_vars`; fall back rather than fail here.
    let filter =
        EnvFilter::try_new(&config.filter).unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let fmt_layer = match config.format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_target(true)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .compact()
            .with_target(false)
            .boxed(),
    }
    .with_filter(ClientNoise);

    let (otel_layer, provider) = match &config.otlp_endpoint {
        Some(endpoint) => {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_endpoint(format!("{endpoint}/v1/traces"))
                .with_timeout(Duration::from_secs(10))
                .build()?;
            let provider = SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(Resource::builder().with_service_name(service).build())
                .build();
            opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
            opentelemetry::global::set_tracer_provider(provider.clone());
            let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer(service));
            (Some(layer), Some(provider))
        }
        None => (None, None),
    };

    tracing_subscriber::registry()
        .with(filter)
        .with(fmt_layer)
        .with(otel_layer)
        .try_init()?;
    Ok(TelemetryGuard { provider })
}

/// Keeps client-caused protocol errors out of the logs. actix-http logs at ERROR
/// whatever ends a connection badly, and most of that is the client's doing: a
/// request it cannot parse, a header too large, a reset, a body cut short. An
/// alert on ERROR lines must mean something on our side, so those events are
/// counted (`http_protocol_errors_total`) instead of logged. Server-side ones
/// (a response body stream failing, an upgrade handler) are still logged.
struct ClientNoise;

impl ClientNoise {
    const TARGET: &'static str = "actix_http::h1::dispatcher";
    /// The dispatcher's messages for errors a client causes.
    const CLIENT_CAUSED: &'static [&'static str] = &[
        "stream error",
        "Internal server error: unexpected payload",
        "Internal server error: unexpected eof",
        "write zero",
    ];
}

impl<S: tracing::Subscriber> tracing_subscriber::layer::Filter<S> for ClientNoise {
    fn enabled(
        &self,
        _meta: &tracing::Metadata<'_>,
        _cx: &tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        true
    }

    fn event_enabled(
        &self,
        event: &tracing::Event<'_>,
        _cx: &tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        let meta = event.metadata();
        if meta.target() != Self::TARGET || *meta.level() != tracing::Level::ERROR {
            return true;
        }
        let mut message = MessageOf(String::new());
        event.record(&mut message);
        let client_caused = Self::CLIENT_CAUSED.iter().any(|m| message.0.starts_with(m));
        if client_caused {
            metrics::counter!("http_protocol_errors_total").increment(1);
        }
        !client_caused
    }
}

/// The `message` field of an event.
struct MessageOf(String);

impl tracing::field::Visit for MessageOf {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_owned();
        }
    }
}

/// The current span's W3C `traceparent`, when tracing is exported.
pub fn current_traceparent() -> Option<String> {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let context = tracing::Span::current().context();
    let mut carrier = std::collections::HashMap::new();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&context, &mut carrier));
    carrier.remove("traceparent")
}

/// Make `span` a child of the remote `traceparent` (from a stream message).
pub fn set_remote_parent(span: &tracing::Span, traceparent: &str) {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let carrier =
        std::collections::HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let context = opentelemetry::global::get_text_map_propagator(|p| p.extract(&carrier));
    let _ = span.set_parent(context);
}
