//! Retries for clients of the Resonance services.
//!
//! The servers answer UNAVAILABLE when the database is unreachable or busy (and when a server
//! is stopping), and RESOURCE_EXHAUSTED when they are at their concurrency limit; both are
//! answered before any of the call's work was kept, and both say "retry with backoff".
//! [`Retry::call`] does that: exponential backoff with jitter between attempts, a cap on the
//! attempts of one call, and a retry budget shared by every call made through one [`Retry`],
//! so that when the service is down for everyone, clients do not multiply its load by their
//! attempt count: past the budget a failure is returned at once.
//!
//! Creates are safe to retry: give each create a `request_id` and send the same one on every
//! attempt; the service returns the resource the first attempt made instead of a second one.
//!
//! ```no_run
//! # async fn example(channel: tonic::transport::Channel) -> Result<(), tonic::Status> {
//! use resonance_proto::retry::Retry;
//! use resonance_proto::roster::CreateRosterRequest;
//! use resonance_proto::roster::roster_service_client::RosterServiceClient;
//!
//! let retry = Retry::default();
//! let client = RosterServiceClient::new(channel);
//! let request = CreateRosterRequest {
//!     request_id: "0b9d7c1e-roster-spring".to_owned(),
//!     ..Default::default()
//! };
//! let roster = retry
//!     .call(|| {
//!         let mut client = client.clone();
//!         let request = request.clone();
//!         async move { client.create_roster(request).await }
//!     })
//!     .await?;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tonic::{Code, Status};
use tower::retry::backoff::{Backoff as _, ExponentialBackoffMaker, MakeBackoff as _};
use tower::retry::budget::{Budget as _, TpsBudget};
use tower::util::rng::HasherRng;

/// How a [`Retry`] behaves.
#[derive(Debug, Clone)]
pub struct RetryConfig {
    /// Attempts per call, the first included (1 turns retries off).
    pub max_attempts: u32,
    /// The first backoff; each next one doubles, up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Retries allowed beyond `min_retries_per_second`, as a share of the calls made in the
    /// last 10 seconds (0.2: one retry per five calls).
    pub retry_ratio: f32,
    /// Retries always allowed per second, so that a client making few calls can still retry.
    pub min_retries_per_second: u32,
    /// The codes worth retrying.
    pub retry_on: Vec<Code>,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(2),
            retry_ratio: 0.2,
            min_retries_per_second: 10,
            retry_on: vec![Code::Unavailable, Code::ResourceExhausted],
        }
    }
}

/// Retries calls; clone it to share its budget between tasks.
#[derive(Debug, Clone)]
pub struct Retry {
    config: RetryConfig,
    backoff: ExponentialBackoffMaker,
    budget: Arc<TpsBudget>,
}

/// A [`RetryConfig`] that cannot work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRetryConfig(pub String);

impl std::fmt::Display for InvalidRetryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidRetryConfig {}

impl Default for Retry {
    fn default() -> Self {
        Self::new(RetryConfig::default()).expect("the default retry configuration is valid")
    }
}

impl Retry {
    pub fn new(config: RetryConfig) -> Result<Self, InvalidRetryConfig> {
        if config.max_attempts == 0 {
            return Err(InvalidRetryConfig(
                "max_attempts: must be at least 1".to_owned(),
            ));
        }
        if !(0.0..=1000.0).contains(&config.retry_ratio) {
            return Err(InvalidRetryConfig(format!(
                "retry_ratio: must be between 0 and 1000 (got {})",
                config.retry_ratio
            )));
        }
        // Full jitter: each wait is anywhere from nothing to twice the nominal backoff, so
        // that clients failed together do not come back together.
        let backoff = ExponentialBackoffMaker::new(
            config.initial_backoff,
            config.max_backoff,
            1.0,
            HasherRng::default(),
        )
        .map_err(|e| InvalidRetryConfig(format!("backoff: {e}")))?;
        let budget = Arc::new(TpsBudget::new(
            Duration::from_secs(10),
            config.min_retries_per_second,
            config.retry_ratio,
        ));
        Ok(Self {
            config,
            backoff,
            budget,
        })
    }

    /// Whether a failure with this status is worth another attempt.
    pub fn retries(&self, status: &Status) -> bool {
        self.config.retry_on.contains(&status.code())
    }

    /// Runs `attempt` until it succeeds, fails with a status not worth retrying, runs out of
    /// attempts, or the shared budget has no retry left; returns the last outcome.
    pub async fn call<T, F, Fut>(&self, mut attempt: F) -> Result<T, Status>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Status>>,
    {
        self.budget.deposit();
        let mut backoff = self.backoff.clone().make_backoff();
        let mut attempts = 1;
        loop {
            match attempt().await {
                Err(status)
                    if self.retries(&status)
                        && attempts < self.config.max_attempts
                        && self.budget.withdraw() =>
                {
                    tracing::debug!(code = ?status.code(), attempts, "retrying after backoff");
                    backoff.next_backoff().await;
                    attempts += 1;
                }
                outcome => return outcome,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn quick(max_attempts: u32) -> Retry {
        Retry::new(RetryConfig {
            max_attempts,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            ..RetryConfig::default()
        })
        .expect("valid")
    }

    /// An attempt that fails with `code` `failures` times, then succeeds.
    async fn flaky(calls: &AtomicU32, failures: u32, code: Code) -> Result<u32, Status> {
        let call = calls.fetch_add(1, Ordering::SeqCst) + 1;
        if call <= failures {
            Err(Status::new(code, "not yet"))
        } else {
            Ok(call)
        }
    }

    #[tokio::test]
    async fn unavailable_is_retried_until_it_succeeds() {
        let calls = AtomicU32::new(0);
        let answer = quick(5)
            .call(|| flaky(&calls, 3, Code::Unavailable))
            .await
            .expect("succeeds on the fourth attempt");
        assert_eq!(answer, 4);
    }

    #[tokio::test]
    async fn attempts_are_capped_and_the_last_failure_returned() {
        let calls = AtomicU32::new(0);
        let failed = quick(3)
            .call(|| flaky(&calls, 10, Code::ResourceExhausted))
            .await
            .expect_err("three attempts are not enough");
        assert_eq!(failed.code(), Code::ResourceExhausted);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn failures_a_retry_cannot_mend_are_returned_at_once() {
        for code in [
            Code::InvalidArgument,
            Code::NotFound,
            Code::DeadlineExceeded,
            Code::Internal,
        ] {
            let calls = AtomicU32::new(0);
            let failed = quick(5)
                .call(|| flaky(&calls, 1, code))
                .await
                .expect_err("not retried");
            assert_eq!(failed.code(), code);
            assert_eq!(calls.load(Ordering::SeqCst), 1, "{code:?}");
        }
    }

    #[tokio::test]
    async fn an_outage_spends_the_budget_and_then_calls_fail_fast() {
        // No retries beyond 10% of calls and none for free: during an outage most calls are
        // tried once, not max_attempts times.
        let retry = Retry::new(RetryConfig {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(1),
            retry_ratio: 0.1,
            min_retries_per_second: 0,
            ..RetryConfig::default()
        })
        .expect("valid");
        let calls = AtomicU32::new(0);
        for _ in 0..100 {
            let _ = retry
                .call(|| flaky(&calls, u32::MAX, Code::Unavailable))
                .await;
        }
        let attempts = calls.load(Ordering::SeqCst);
        assert!(
            (100..=115).contains(&attempts),
            "100 calls made {attempts} attempts in all"
        );
    }

    #[test]
    fn invalid_configurations_are_refused() {
        let zero = RetryConfig {
            max_attempts: 0,
            ..RetryConfig::default()
        };
        assert!(
            Retry::new(zero)
                .expect_err("refused")
                .0
                .contains("max_attempts")
        );
        let backwards = RetryConfig {
            initial_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(1),
            ..RetryConfig::default()
        };
        assert!(
            Retry::new(backwards)
                .expect_err("refused")
                .0
                .contains("backoff")
        );
    }
}
