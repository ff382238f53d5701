//! The deadline of the call a database operation serves, carried to the database.
//!
//! A server runs each call inside [`scope`] with the call's deadline. Within it:
//! - every transaction the store begins on PostgreSQL sets `statement_timeout` to the time left,
//!   so the database itself gives up a statement the caller has stopped waiting for (a lock
//!   wait included), instead of finishing it for nobody;
//! - no transaction commits once less than [`COMMIT_MARGIN`] is left: it rolls back and the
//!   operation fails with [`StoreError::DeadlineExceeded`]. The server answers
//!   DEADLINE_EXCEEDED at the deadline and drops the call's work; a transaction dropped
//!   unfinished rolls back. So no write lands after the caller was told the call failed,
//!   except a commit that started in time and took longer than the margin to finish.
//!
//! Outside a scope (background work: the NATS worker, rescoring) nothing changes.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::StoreError;

tokio::task_local! {
    static DEADLINE: Instant;
}

/// A commit is not started with less than this left before the deadline.
pub const COMMIT_MARGIN: Duration = Duration::from_millis(10);

/// Runs `work` with `deadline` as the deadline of every store operation in it.
pub async fn scope<F: Future>(deadline: Instant, work: F) -> F::Output {
    DEADLINE.scope(deadline, work).await
}

/// The deadline of the current call, if it runs inside [`scope`].
pub fn current() -> Option<Instant> {
    DEADLINE.try_with(|deadline| *deadline).ok()
}

/// Whether the current call has a deadline and it has passed.
pub(crate) fn passed() -> bool {
    current().is_some_and(|deadline| Instant::now() >= deadline)
}

/// Whether a commit may start: refused once less than [`COMMIT_MARGIN`] is left.
pub(crate) fn check_commit(deadline: Option<Instant>) -> Result<(), StoreError> {
    match deadline {
        Some(deadline) if deadline.saturating_duration_since(Instant::now()) < COMMIT_MARGIN => {
            Err(StoreError::DeadlineExceeded)
        }
        _ => Ok(()),
    }
}

/// The statement that bounds a PostgreSQL transaction's statements by the time left, if the
/// current call has a deadline; `Err` if it has passed already.
pub(crate) fn statement_timeout() -> Result<Option<String>, StoreError> {
    let Some(deadline) = current() else {
        return Ok(None);
    };
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(StoreError::DeadlineExceeded);
    }
    // Whole milliseconds, rounded up: a statement cancelled by the database then fails after
    // the deadline, never before it, and is reported as the deadline (never 0: no limit).
    let millis = left.as_micros().div_ceil(1_000).max(1);
    Ok(Some(format!("SET LOCAL statement_timeout = {millis}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn outside_a_scope_nothing_is_bounded() {
        assert!(current().is_none());
        assert!(statement_timeout().expect("no deadline").is_none());
        assert!(check_commit(current()).is_ok());
    }

    #[tokio::test]
    async fn inside_a_scope_statements_get_the_time_left_and_late_commits_are_refused() {
        let deadline = Instant::now() + Duration::from_secs(5);
        scope(deadline, async {
            let set = statement_timeout().expect("time left").expect("a deadline");
            let millis: u128 = set
                .trim_start_matches("SET LOCAL statement_timeout = ")
                .parse()
                .expect("milliseconds");
            assert!((4_900..=5_000).contains(&millis), "{set}");
            assert!(check_commit(current()).is_ok());
        })
        .await;

        let nearly = Instant::now() + COMMIT_MARGIN / 2;
        scope(nearly, async {
            assert!(matches!(
                check_commit(current()),
                Err(StoreError::DeadlineExceeded)
            ));
        })
        .await;

        let passed = Instant::now() - Duration::from_millis(1);
        scope(passed, async {
            assert!(matches!(
                statement_timeout(),
                Err(StoreError::DeadlineExceeded)
            ));
        })
        .await;
    }
}
