//! Turning domain errors into gRPC statuses, in one place.

use resonance_core::ValidationError;
use tonic::Status;

/// The longest message a status carries; longer ones are cut, so that echoing user input can
/// never blow up a response.
pub const MAX_STATUS_MESSAGE: usize = 1_024;

/// Cuts a message to [`MAX_STATUS_MESSAGE`] bytes at a character boundary.
pub fn cap_message(message: &str) -> String {
    if message.len() <= MAX_STATUS_MESSAGE {
        return message.to_owned();
    }
    let mut end = MAX_STATUS_MESSAGE;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &message[..end])
}

/// INVALID_ARGUMENT naming the field: "account.posts[2].likes: must not be negative (got -1)".
pub fn invalid_argument(error: &ValidationError) -> Status {
    Status::invalid_argument(cap_message(&error.to_string()))
}

/// The status of a storage failure: UNAVAILABLE (retry with backoff) when the database is
/// unreachable or busy, INTERNAL otherwise. The error is logged here and never reaches the
/// caller, so no SQL or path leaks.
pub fn storage_failure(unavailable: bool, error: &dyn std::fmt::Display) -> Status {
    if unavailable {
        tracing::warn!(%error, "database unavailable");
        Status::unavailable("the database is unavailable; retry with backoff")
    } else {
        tracing::error!(%error, "storage failure");
        Status::internal("internal error")
    }
}

/// DEADLINE_EXCEEDED for a call whose storage work was abandoned at its deadline (the
/// transaction rolled back: nothing of it was written).
pub fn deadline_exceeded() -> Status {
    Status::deadline_exceeded(
        "the deadline passed before the call finished; nothing was written, retry with more time",
    )
}

/// A page size from a List or Search request: 0 means `default`, larger values are capped at
/// `max` (AIP-158), negative ones are refused.
pub fn page_size(requested: i32, default: u64, max: u64) -> Result<u64, ValidationError> {
    match u64::try_from(requested) {
        Ok(0) => Ok(default),
        Ok(size) => Ok(size.min(max)),
        Err(_) => Err(ValidationError::new(
            "page_size",
            format!("must not be negative (got {requested})"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_capped_at_a_char_boundary() {
        let long = "é".repeat(MAX_STATUS_MESSAGE);
        let capped = cap_message(&long);
        assert!(capped.len() <= MAX_STATUS_MESSAGE + 3);
        assert!(capped.ends_with("..."));
    }

    #[test]
    fn invalid_argument_names_the_field() {
        let status = invalid_argument(&ValidationError::new(
            "account.profile.followers",
            "must not be negative",
        ));
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(
            status.message(),
            "account.profile.followers: must not be negative"
        );
    }
}
