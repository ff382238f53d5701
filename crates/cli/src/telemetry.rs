//! Logging and optional trace export, set up once by the binary. RUST_LOG overrides the
//! configured filter.
//!
//! With `telemetry.otlp_endpoint` set, spans (each call's among them) are exported over
//! OTLP/gRPC in batches, and a caller's W3C `traceparent` makes its trace the call's parent; the
//! trace-context propagator is installed for outgoing calls too. Off by default.

use opentelemetry::propagation::Extractor;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use resonance_proto::tonic::codegen::http;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::{LogFormat, TelemetrySettings};

/// Keeps the trace exporter; [`Telemetry::shutdown`] sends what is still buffered.
#[derive(Debug, Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Flushes and stops trace export (blocks until the exporter is done or gives up).
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(error) = provider.shutdown()
        {
            eprintln!("resonance: flushing traces failed: {error}");
        }
    }
}

fn exporter(settings: &TelemetrySettings, endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(settings.service_name.clone())
                .build(),
        )
        .build())
}

/// Sets up logging and, when configured, trace export. Call it inside the Tokio runtime: the
/// OTLP exporter's connection lives there.
pub fn init(settings: &TelemetrySettings) -> Telemetry {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let provider = settings
        .otlp_endpoint
        .as_deref()
        .and_then(|endpoint| match exporter(settings, endpoint) {
            Ok(provider) => Some(provider),
            Err(error) => {
                eprintln!(
                    "resonance: telemetry.otlp_endpoint {endpoint}: {error:#}; traces are not exported"
                );
                None
            }
        });
    let traces = provider
        .as_ref()
        .map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer("resonance")));
    let human = (settings.format == LogFormat::Human)
        .then(|| tracing_subscriber::fmt::layer().with_writer(std::io::stderr));
    let json = (settings.format == LogFormat::Json).then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            // The call's span: its trace id, method and server on every line.
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
    });
    // Fails only when a subscriber is already set, which leaves logging working.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(human)
        .with(json)
        .with(traces)
        .try_init();
    Telemetry { provider }
}

/// Reads trace context from a request's headers.
pub(crate) struct HeaderExtractor<'a>(pub(crate) &'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}
