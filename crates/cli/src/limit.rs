//! The per-server concurrency limit. Calls beyond it are refused at once with
//! RESOURCE_EXHAUSTED rather than queued, so an overloaded server sheds load instead of
//! building latency. Health checks are exempt: a probe must be answered under overload, or an
//! orchestrator would restart a server that is merely busy.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::{BoxFuture, FutureExt as _};
use resonance_proto::tonic::Status;
use resonance_proto::tonic::codegen::http;
use tokio::sync::Semaphore;
use tower::{Layer, Service};

/// The path prefix of the gRPC health service (`grpc.health.v1.Health`).
const HEALTH_PREFIX: &str = "/grpc.health.v1.Health/";

/// Allows at most `max` calls at once across every service behind one server.
#[derive(Debug, Clone)]
pub(crate) struct ConcurrencyLimitLayer {
    permits: Arc<Semaphore>,
    max: usize,
}

impl ConcurrencyLimitLayer {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max)),
            max,
        }
    }
}

impl<S> Layer<S> for ConcurrencyLimitLayer {
    type Service = ConcurrencyLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ConcurrencyLimit {
            inner,
            permits: Arc::clone(&self.permits),
            max: self.max,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ConcurrencyLimit<S> {
    inner: S,
    permits: Arc<Semaphore>,
    max: usize,
}

impl<S, B, R> Service<http::Request<B>> for ConcurrencyLimit<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path().starts_with(HEALTH_PREFIX) {
            return self.inner.call(request).boxed();
        }
        match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => {
                let call = self.inner.call(request);
                async move {
                    let response = call.await;
                    // The permit is held until the response head is ready, as tower's
                    // ConcurrencyLimit does; streaming bodies are bounded by
                    // max_concurrent_streams instead.
                    drop(permit);
                    response
                }
                .boxed()
            }
            Err(_) => {
                let status = Status::resource_exhausted(format!(
                    "the server is at its limit of {} concurrent calls; retry with backoff",
                    self.max
                ));
                futures::future::ready(Ok(status.into_http())).boxed()
            }
        }
    }
}
