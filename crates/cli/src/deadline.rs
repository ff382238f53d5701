//! Call deadlines. A call's deadline is the one its caller sent in `grpc-timeout`, capped at
//! `server.request_timeout` (which alone applies when the caller sent none). At the deadline
//! the call is answered DEADLINE_EXCEEDED. Its work is abandoned by the database rather than
//! cut off mid-statement: the deadline is carried there through [`resonance_store::deadline`],
//! which bounds PostgreSQL statements by the time left and commits nothing past the deadline,
//! so no write lands after the caller was told the call failed. The work runs as a task of
//! its own and ends on its own, shortly after the deadline at the latest: dropping a query in
//! flight can leave a pooled connection waiting for an answer that never comes (sqlx says as
//! much), which once held up a pool's shutdown for good in the fault tests. A handler that
//! panics is answered INTERNAL.
//!
//! tonic's own timeout is not used: it answers CANCELLED, which tells a client nothing about
//! why. A call is answered [`AHEAD_OF_CALLER`] before the caller's deadline: tonic reads
//! `grpc-timeout` on the server too, and clients (tonic's included) give up locally at their
//! deadline with a bare CANCELLED or DEADLINE_EXCEEDED of their own; answering a little early
//! lets the server's answer, which says what happened to the work, arrive first.

use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt as _};
use resonance_proto::tonic::Status;
use resonance_proto::tonic::codegen::http;
use tokio::time::Instant;
use tower::{Layer, Service};

/// How much earlier than the caller's deadline a call is answered (see the module docs).
const AHEAD_OF_CALLER: Duration = Duration::from_millis(10);

/// The deadline of every call behind one server.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeadlineLayer {
    limit: Duration,
}

impl DeadlineLayer {
    /// `limit` is the longest any call may run (`server.request_timeout`).
    pub(crate) fn new(limit: Duration) -> Self {
        Self { limit }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Deadline {
            inner,
            limit: self.limit,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Deadline<S> {
    inner: S,
    limit: Duration,
}

impl<S, B, R> Service<http::Request<B>> for Deadline<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Default + Send + 'static,
    S::Response: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let budget = request
            .headers()
            .get("grpc-timeout")
            .and_then(|value| parse_grpc_timeout(value.as_bytes()))
            .map_or(self.limit, |asked| asked.min(self.limit));
        let deadline = Instant::now() + budget.saturating_sub(AHEAD_OF_CALLER);
        let mut work = tokio::spawn(resonance_store::deadline::scope(
            deadline,
            self.inner.call(request),
        ));
        async move {
            match tokio::time::timeout_at(deadline, &mut work).await {
                Ok(Ok(response)) => response,
                Ok(Err(failed)) => {
                    tracing::error!(error = %failed, "a call's handler failed");
                    Ok(Status::internal("internal error").into_http())
                }
                Err(_) => {
                    tracing::info!(?budget, "deadline passed: the call's work was abandoned");
                    Ok(Status::deadline_exceeded(format!(
                        "the deadline ({budget:?}) passed before the call finished; its work \
                         was abandoned and nothing of it was written"
                    ))
                    .into_http())
                }
            }
        }
        .boxed()
    }
}

/// A `grpc-timeout` value: at most 8 digits and a unit (H, M, S, m, u, n), per the gRPC
/// over HTTP/2 protocol. Anything else is ignored, as gRPC servers do.
fn parse_grpc_timeout(value: &[u8]) -> Option<Duration> {
    let (&unit, digits) = value.split_last()?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let amount: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(match unit {
        b'H' => Duration::from_secs(amount * 3600),
        b'M' => Duration::from_secs(amount * 60),
        b'S' => Duration::from_secs(amount),
        b'm' => Duration::from_millis(amount),
        b'u' => Duration::from_micros(amount),
        b'n' => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse_by_unit_and_bad_ones_are_ignored() {
        assert_eq!(parse_grpc_timeout(b"2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout(b"3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse_grpc_timeout(b"10S"), Some(Duration::from_secs(10)));
        assert_eq!(
            parse_grpc_timeout(b"250m"),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            parse_grpc_timeout(b"99999999u"),
            Some(Duration::from_micros(99_999_999))
        );
        assert_eq!(parse_grpc_timeout(b"5n"), Some(Duration::from_nanos(5)));
        for bad in [
            &b""[..],
            b"m",
            b"123456789m",
            b"-1S",
            b"1.5S",
            b"10x",
            b"S10",
        ] {
            assert_eq!(
                parse_grpc_timeout(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
