//! API-key authentication of every call, before any handler runs.
//!
//! A call carries its brand's key as `authorization: Bearer <key>` (or `x-api-key: <key>`).
//! Health and reflection are exempt: orchestrators probe health without credentials, and
//! reflection only describes the contracts, which are public. A valid key puts the brand's
//! [`BrandId`] in the request's extensions for the handlers. Verified keys are remembered for
//! `auth.cache_ttl`, so a revoked key stops working within that time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use resonance_proto::status::{deadline_exceeded, storage_failure};
use resonance_proto::tonic::Status;
use resonance_proto::tonic::codegen::http;
use resonance_store::{BrandId, Store, StoreError};
use tower::{Layer, Service};

/// Paths that need no key.
const EXEMPT_PREFIXES: [&str; 2] = ["/grpc.health.v1.Health/", "/grpc.reflection."];

/// The most verified keys remembered at once; past it the cache starts afresh.
const MAX_CACHED_KEYS: usize = 10_000;

#[derive(Debug)]
struct Cache {
    ttl: Duration,
    verified: Mutex<HashMap<String, (BrandId, Instant)>>,
}

impl Cache {
    fn get(&self, key: &str) -> Option<BrandId> {
        let verified = self.verified.lock().ok()?;
        verified
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(brand, _)| *brand)
    }

    fn put(&self, key: &str, brand: BrandId) {
        if let Ok(mut verified) = self.verified.lock() {
            if verified.len() >= MAX_CACHED_KEYS {
                verified.clear();
            }
            verified.insert(key.to_owned(), (brand, Instant::now()));
        }
    }
}

/// Checks the API key of every call against the store.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    store: Store,
    cache: Arc<Cache>,
}

impl AuthLayer {
    pub fn new(store: Store, ttl: Duration) -> Self {
        Self {
            store,
            cache: Arc::new(Cache {
                ttl,
                verified: Mutex::new(HashMap::new()),
            }),
        }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Authenticate<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Authenticate {
            inner,
            auth: self.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Authenticate<S> {
    inner: S,
    auth: AuthLayer,
}

/// The key a call carries, if any.
fn presented_key<B>(request: &http::Request<B>) -> Option<String> {
    let headers = request.headers();
    if let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        let value = value.trim();
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or(value);
        return Some(token.trim().to_owned());
    }
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
}

fn refuse<R: Default>(status: Status) -> http::Response<R> {
    status.into_http()
}

impl<S, B, R> Service<http::Request<B>> for Authenticate<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
    R: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The ready inner service serves this call; a fresh clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let path = request.uri().path();
        if EXEMPT_PREFIXES
            .iter()
            .any(|prefix| path.starts_with(prefix))
        {
            return Box::pin(inner.call(request));
        }
        let auth = self.auth.clone();
        Box::pin(async move {
            let Some(key) = presented_key(&request).filter(|k| !k.is_empty()) else {
                return Ok(refuse(Status::unauthenticated(
                    "an API key is required: send \"authorization: Bearer <key>\" (keys come from `resonance brand create NAME`)",
                )));
            };
            let brand = match auth.cache.get(&key) {
                Some(brand) => brand,
                None => match auth.store.brands().authenticate(&key).await {
                    Ok(Some(brand)) => {
                        auth.cache.put(&key, brand);
                        brand
                    }
                    Ok(None) => {
                        return Ok(refuse(Status::unauthenticated(
                            "the API key is not valid (unknown or revoked)",
                        )));
                    }
                    Err(StoreError::DeadlineExceeded) => return Ok(refuse(deadline_exceeded())),
                    Err(error) => {
                        return Ok(refuse(storage_failure(error.is_unavailable(), &error)));
                    }
                },
            };
            request.extensions_mut().insert(brand);
            inner.call(request).await
        })
    }
}
