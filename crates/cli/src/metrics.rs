//! Every call's trace id, and Prometheus metrics.
//!
//! Each call runs in a tracing span carrying its W3C trace id (from the caller's `traceparent`
//! header, or a new one), so every log line of the call names it; the id is sent back in the
//! `x-trace-id` response header.
//!
//! Prometheus metrics, served on a port of their own (`telemetry.metrics_listen`) at `/metrics`:
//! gRPC calls by server, method and code with latency histograms (a tower layer outside every
//! other, so refused and unauthenticated calls count too), ingestion counters (kept by
//! `resonance_ingest`), and gauges read from the database at each scrape: the rescoring queue
//! and its lag, stored dead letters, and the connection pool.

use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::{BoxFuture, FutureExt as _};
use opentelemetry::trace::TraceContextExt as _;
use prometheus::{
    Encoder as _, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder, exponential_buckets,
};
use resonance_proto::tonic::Code;
use resonance_proto::tonic::codegen::http;
use resonance_store::Store;
use tower::{Layer, Service};
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::telemetry::HeaderExtractor;

/// This process's metrics (one set per [`crate::app::Application`], so that applications in one
/// test process do not count each other's calls); ingestion counters live in the default
/// registry and are served beside them.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    rescore_pending: IntGauge,
    rescore_lag: Gauge,
    dead_letters_stored: IntGauge,
    db_pool: IntGaugeVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "resonance_grpc_requests_total",
                "gRPC calls answered, by server, method and status code",
            ),
            &["server", "method", "code"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "resonance_grpc_request_duration_seconds",
                "Time to a call's response headers (the whole call for unary methods), by server, method and status code",
            )
            // 50 us (a refusal) to about 26 s (a long plan).
            .buckets(exponential_buckets(0.000_05, 2.0, 20).expect("valid buckets")),
            &["server", "method", "code"],
        )
        .expect("valid metric");
        let rescore_pending = IntGauge::new(
            "resonance_rescore_pending",
            "Creators whose data changed and who wait to be rescored",
        )
        .expect("valid metric");
        let rescore_lag = Gauge::new(
            "resonance_rescore_lag_seconds",
            "Age of the oldest change waiting to be rescored (0 when none waits)",
        )
        .expect("valid metric");
        let dead_letters_stored = IntGauge::new(
            "resonance_dead_letters_stored",
            "Dead letters in the store, waiting for someone to look at them",
        )
        .expect("valid metric");
        let db_pool = IntGaugeVec::new(
            Opts::new(
                "resonance_db_pool_connections",
                "Database connections of this process: open, idle, in_use, and the configured max",
            ),
            &["state"],
        )
        .expect("valid metric");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(rescore_pending.clone()),
            Box::new(rescore_lag.clone()),
            Box::new(dead_letters_stored.clone()),
            Box::new(db_pool.clone()),
        ] {
            registry
                .register(collector)
                .expect("each metric registered once");
        }
        Self {
            registry,
            requests,
            latency,
            rescore_pending,
            rescore_lag,
            dead_letters_stored,
            db_pool,
        }
    }
}

/// The method label: the gRPC path without its leading '/', or "unknown" for paths no service
/// answers (so that callers cannot grow the label set).
fn method_label(path: &str, code: Code) -> String {
    if code == Code::Unimplemented {
        "unknown".to_owned()
    } else {
        path.trim_start_matches('/').to_owned()
    }
}

/// The W3C trace id of a call: the caller's, from a valid `traceparent` header
/// (`00-<32 hex>-<16 hex>-<2 hex>`, not all zeros), else a new random one.
fn trace_id(headers: &http::HeaderMap) -> String {
    headers
        .get("traceparent")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let mut parts = value.split('-');
            let (version, trace, parent, flags) =
                (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            let hex =
                |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
            (hex(version, 2)
                && hex(trace, 32)
                && hex(parent, 16)
                && hex(flags, 2)
                && trace.bytes().any(|b| b != b'0'))
            .then(|| trace.to_ascii_lowercase())
        })
        .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string())
}

/// Counts and times every call of one server, in a span with its trace id.
#[derive(Debug, Clone)]
pub(crate) struct MetricsLayer {
    server: &'static str,
    metrics: Metrics,
}

impl MetricsLayer {
    pub(crate) fn new(server: &'static str, metrics: Metrics) -> Self {
        Self { server, metrics }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = Metered<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Metered {
            inner,
            server: self.server,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Metered<S> {
    inner: S,
    server: &'static str,
    metrics: Metrics,
}

impl<S, B, R> Service<http::Request<B>> for Metered<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path().to_owned();
        let server = self.server;
        let metrics = self.metrics.clone();
        let span = tracing::info_span!(
            "call",
            trace_id = tracing::field::Empty,
            method = %path,
            server
        );
        // With trace export on, the caller's trace is the span's parent and the span's trace id
        // is the one logged; without it, the id comes from `traceparent` or is made here.
        let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&HeaderExtractor(request.headers()))
        });
        let _ = span.set_parent(parent);
        let exported = span.context().span().span_context().trace_id();
        let trace = if exported == opentelemetry::trace::TraceId::INVALID {
            trace_id(request.headers())
        } else {
            exported.to_string()
        };
        span.record("trace_id", trace.as_str());
        let started = Instant::now();
        let answer = span.in_scope(|| self.inner.call(request));
        async move {
            let mut response = answer.await;
            if let Ok(response) = &mut response
                && let Ok(value) = http::HeaderValue::from_str(&trace)
            {
                response.headers_mut().insert("x-trace-id", value);
            }
            // An error status comes in the headers (a trailers-only answer); a call that
            // answers with a body ends OK, or with a status in its trailers that this layer
            // does not see (a stream failing midway).
            let code = match &response {
                Ok(response) => response
                    .headers()
                    .get("grpc-status")
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.parse::<i32>().ok())
                    .map_or(Code::Ok, Code::from),
                Err(_) => Code::Unavailable,
            };
            let method = method_label(&path, code);
            let labels = [server, method.as_str(), &format!("{code:?}")];
            metrics.requests.with_label_values(&labels).inc();
            metrics
                .latency
                .with_label_values(&labels)
                .observe(started.elapsed().as_secs_f64());
            response
        }
        .instrument(span)
        .boxed()
    }
}

/// Reads the gauges that live in the database.
async fn refresh(metrics: &Metrics, store: &Store) {
    let pool = store.pool_usage();
    for (state, value) in [
        ("open", pool.open),
        ("idle", pool.idle),
        ("in_use", pool.open.saturating_sub(pool.idle)),
        ("max", pool.max),
    ] {
        metrics
            .db_pool
            .with_label_values(&[state])
            .set(i64::from(value));
    }
    match store.scores().lag().await {
        Ok(lag) => {
            metrics
                .rescore_pending
                .set(i64::try_from(lag.pending).unwrap_or(i64::MAX));
            let age = lag.oldest.map_or(0.0, |oldest| {
                (chrono::Utc::now() - oldest).num_milliseconds().max(0) as f64 / 1e3
            });
            metrics.rescore_lag.set(age);
        }
        Err(error) => tracing::warn!(%error, "metrics: cannot read the rescoring queue"),
    }
    match store.ingest().count_dead_letters().await {
        Ok(count) => metrics
            .dead_letters_stored
            .set(i64::try_from(count).unwrap_or(i64::MAX)),
        Err(error) => tracing::warn!(%error, "metrics: cannot count dead letters"),
    }
}

/// The text exposition of every registered metric.
async fn render(
    axum::extract::State((metrics, store)): axum::extract::State<(Metrics, Store)>,
) -> ([(http::header::HeaderName, &'static str); 1], Vec<u8>) {
    refresh(&metrics, &store).await;
    let mut body = Vec::new();
    let encoder = TextEncoder::new();
    let mut families = metrics.registry.gather();
    families.extend(prometheus::gather());
    if let Err(error) = encoder.encode(&families, &mut body) {
        tracing::warn!(%error, "metrics: cannot encode");
    }
    (
        [(http::header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
        body,
    )
}

/// The metrics endpoint, bound.
#[derive(Debug)]
pub(crate) struct MetricsServer {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
}

impl MetricsServer {
    pub(crate) async fn bind(addr: SocketAddr) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            anyhow::anyhow!("telemetry.metrics_listen: cannot listen on {addr}: {e}")
        })?;
        let addr = listener.local_addr()?;
        Ok(Self { listener, addr })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves `/metrics` until `stop` completes.
    pub(crate) async fn serve(
        self,
        metrics: Metrics,
        store: Store,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let app = axum::Router::new()
            .route("/metrics", axum::routing::get(render))
            .with_state((metrics, store));
        tracing::info!(addr = %self.addr, "serving metrics");
        axum::serve(self.listener, app)
            .with_graceful_shutdown(stop)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids_come_from_traceparent_or_are_new() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "traceparent",
            http::HeaderValue::from_static(
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            ),
        );
        assert_eq!(trace_id(&headers), "4bf92f3577b34da6a3ce929d0e0e4736");
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f35-00f067aa0ba902b7-01",
            "junk",
        ] {
            headers.insert("traceparent", http::HeaderValue::from_static(bad));
            let id = trace_id(&headers);
            assert_eq!(id.len(), 32);
            assert_ne!(id, "00000000000000000000000000000000");
        }
    }

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(
            method_label(
                "/resonance.campaign.v1.CampaignService/PlanCampaign",
                Code::Ok
            ),
            "resonance.campaign.v1.CampaignService/PlanCampaign"
        );
        assert_eq!(
            method_label("/made.up/Path", Code::Unimplemented),
            "unknown"
        );
    }
}
