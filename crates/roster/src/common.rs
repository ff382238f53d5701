//! What every brand-owned RPC shares: the calling brand, resource names, etags, update masks,
//! request ids, page tokens, money, and the mapping of failures to statuses.

use prost_types::FieldMask;
use resonance_core::ValidationError;
use resonance_core::campaign::IllegalTransition;
use resonance_proto::status::{
    cap_message, deadline_exceeded, invalid_argument, page_size, storage_failure,
};
use resonance_proto::tonic::{Request, Status};
use resonance_store::{BrandId, ChangeError, StoreError};

/// Page size when a list request gives none.
pub(crate) const DEFAULT_PAGE_SIZE: u64 = 50;
/// Larger page sizes are capped to this.
pub(crate) const MAX_PAGE_SIZE: u64 = 500;
/// The longest request id kept.
const MAX_REQUEST_ID: usize = 200;

/// Why a call failed, before it becomes a status.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    /// The caller's etag is not the stored one.
    #[error(
        "etag: {what} changed since it was read (its etag is now {current}); read it again and retry"
    )]
    Stale { what: String, current: String },
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error("{0}")]
    Precondition(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    DeadlineExceeded(String),
    /// A failure of our own; its detail is logged, never sent.
    #[error("{0}")]
    Internal(String),
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Self {
        match &error {
            ApiError::Invalid(invalid) => invalid_argument(invalid),
            ApiError::Unauthenticated(_) => {
                Status::unauthenticated(cap_message(&error.to_string()))
            }
            ApiError::NotFound(_) => Status::not_found(cap_message(&error.to_string())),
            ApiError::AlreadyExists(_) => Status::already_exists(cap_message(&error.to_string())),
            ApiError::Stale { .. } => Status::aborted(cap_message(&error.to_string())),
            ApiError::Illegal(_) | ApiError::Precondition(_) => {
                Status::failed_precondition(cap_message(&error.to_string()))
            }
            ApiError::Store(StoreError::DeadlineExceeded) => deadline_exceeded(),
            ApiError::Store(store) => storage_failure(store.is_unavailable(), store),
            ApiError::DeadlineExceeded(message) => Status::deadline_exceeded(cap_message(message)),
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal failure");
                Status::internal("internal error")
            }
        }
    }
}

/// Maps a failed change of `name`: the rejection's own error, NOT_FOUND or ABORTED.
pub(crate) fn change_failed<E: Into<ApiError>>(error: ChangeError<E>, name: &str) -> ApiError {
    match error {
        ChangeError::NotFound => ApiError::NotFound(name.to_owned()),
        ChangeError::Stale { current } => ApiError::Stale {
            what: name.to_owned(),
            current: etag(current),
        },
        ChangeError::Rejected(error) => error.into(),
        ChangeError::Closed(reason) => ApiError::Precondition(format!("{name}: {reason}")),
        ChangeError::Store(error) => ApiError::Store(error),
    }
}

impl From<std::convert::Infallible> for ApiError {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

/// The brand the request's API key belongs to, put there by the authentication layer. A
/// request without one never reaches a handler; this refuses it anyway rather than assume.
pub(crate) fn brand_of<T>(request: &Request<T>) -> Result<BrandId, ApiError> {
    request
        .extensions()
        .get::<BrandId>()
        .copied()
        .ok_or_else(|| ApiError::Unauthenticated("an API key is required".to_owned()))
}

/// Parses a resource name made of `collections`: `["rosters", "entries"]` reads
/// "rosters/{id}/entries/{id}". Each id is a positive integer.
pub(crate) fn parse_name<const N: usize>(
    name: &str,
    field: &str,
    collections: [&str; N],
) -> Result<[i64; N], ValidationError> {
    let pattern = collections
        .iter()
        .map(|c| format!("{c}/{{id}}"))
        .collect::<Vec<_>>()
        .join("/");
    let invalid = || {
        ValidationError::new(
            field,
            format!(
                "{:?} is not a resource name of the form {pattern}",
                cap_message(name)
            ),
        )
    };
    let parts: Vec<&str> = name.trim().split('/').collect();
    if parts.len() != 2 * N {
        return Err(invalid());
    }
    let mut ids = [0_i64; N];
    for (index, collection) in collections.iter().enumerate() {
        if parts[2 * index] != *collection {
            return Err(invalid());
        }
        ids[index] = parts[2 * index + 1]
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(invalid)?;
    }
    Ok(ids)
}

/// The etag of a stored version.
pub(crate) fn etag(version: i64) -> String {
    format!("v{version}")
}

/// The version an etag names; `None` when the caller sent none (no check wanted).
pub(crate) fn parse_etag(raw: &str, field: &str) -> Result<Option<i64>, ValidationError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.strip_prefix('v')
        .and_then(|v| v.parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| ValidationError::new(field, "is not an etag this service returned"))
}

/// An optional request id (AIP-155).
pub(crate) fn request_id(raw: &str) -> Result<Option<&str>, ValidationError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    if raw.len() > MAX_REQUEST_ID {
        return Err(ValidationError::new(
            "request_id",
            format!("must be at most {MAX_REQUEST_ID} bytes"),
        ));
    }
    Ok(Some(raw))
}

/// The page size and the id to resume after, from a list request.
pub(crate) fn page(
    requested_size: i32,
    token: &str,
    fingerprint: u64,
) -> Result<(u64, Option<i64>), ValidationError> {
    let size = page_size(requested_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let after = resonance_proto::paging::parse_id_token(token, fingerprint)?;
    Ok((size, after))
}

/// The paths an update changes. `mutable` lists the paths callers may name, each with whether
/// the request sets it (used when the mask is empty: AIP-134's "every populated field").
/// `output_only` lists fields callers may read but never write.
pub(crate) fn update_paths(
    mask: Option<&FieldMask>,
    mutable: &[(&'static str, bool)],
    output_only: &[&str],
) -> Result<Vec<&'static str>, ValidationError> {
    let requested: Vec<&str> = match mask {
        Some(mask) if !mask.paths.is_empty() => mask.paths.iter().map(|p| p.trim()).collect(),
        _ => {
            let populated: Vec<&'static str> = mutable
                .iter()
                .filter(|(_, set)| *set)
                .map(|(path, _)| *path)
                .collect();
            if populated.is_empty() {
                return Err(ValidationError::new(
                    "update_mask",
                    "names no field, and the request sets none",
                ));
            }
            return Ok(populated);
        }
    };
    let mut paths = Vec::with_capacity(requested.len());
    for (index, path) in requested.iter().enumerate() {
        let field = format!("update_mask.paths[{index}]");
        if let Some((known, _)) = mutable.iter().find(|(known, _)| known == path) {
            if !paths.contains(known) {
                paths.push(*known);
            }
        } else if output_only.contains(path) {
            return Err(ValidationError::new(
                field,
                format!("{path} is output only"),
            ));
        } else {
            let names: Vec<&str> = mutable.iter().map(|(name, _)| *name).collect();
            return Err(ValidationError::new(
                field,
                format!(
                    "unknown field {:?} (updatable: {})",
                    cap_message(path),
                    names.join(", ")
                ),
            ));
        }
    }
    Ok(paths)
}

/// Checks a display name: required, at most 200 characters.
pub(crate) fn display_name(value: &str, field: &str) -> Result<String, ValidationError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ValidationError::new(field, "is required"));
    }
    if value.chars().count() > 200 {
        return Err(ValidationError::new(
            field,
            "must be at most 200 characters",
        ));
    }
    Ok(value.to_owned())
}

/// A wire enum value as a domain status: `None` for the UNSPECIFIED value 0. `name_of` is the
/// generated enum's `as_str_name` ("PIPELINE_STATUS_PROSPECT"), whose `prefix` is stripped.
pub(crate) fn from_wire<T: std::str::FromStr<Err = ValidationError>>(
    raw: i32,
    name_of: impl Fn(i32) -> Option<&'static str>,
    prefix: &str,
    field: &str,
) -> Result<Option<T>, ValidationError> {
    if raw == 0 {
        return Ok(None);
    }
    let name = name_of(raw)
        .and_then(|name| name.strip_prefix(prefix))
        .ok_or_else(|| ValidationError::new(field, format!("unknown value {raw}")))?;
    name.to_ascii_lowercase()
        .parse()
        .map(Some)
        .map_err(|e: ValidationError| e.within(field))
}

/// A domain status as its wire enum value, by name (`value_of` is the generated enum's
/// `from_str_name`).
pub(crate) fn to_wire(name: &str, prefix: &str, value_of: impl Fn(&str) -> Option<i32>) -> i32 {
    value_of(&format!("{prefix}{}", name.to_ascii_uppercase())).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_only_in_their_own_shape() {
        assert_eq!(
            parse_name("rosters/4/entries/9", "name", ["rosters", "entries"]),
            Ok([4, 9])
        );
        for bad in [
            "rosters/4",
            "campaigns/4/entries/9",
            "rosters/x/entries/9",
            "rosters/0/entries/1",
            "",
        ] {
            let error = parse_name(bad, "name", ["rosters", "entries"]).expect_err(bad);
            assert_eq!(error.field, "name");
        }
    }

    #[test]
    fn etags_round_trip_and_strangers_are_refused() {
        assert_eq!(parse_etag(&etag(7), "etag"), Ok(Some(7)));
        assert_eq!(parse_etag("", "etag"), Ok(None));
        assert!(parse_etag("W/\"7\"", "roster.etag").is_err());
    }

    #[test]
    fn masks_name_known_fields_and_default_to_the_populated_ones() {
        let mutable = [("display_name", true), ("description", false)];
        assert_eq!(
            update_paths(None, &mutable, &["name"]),
            Ok(vec!["display_name"])
        );
        let mask = FieldMask {
            paths: vec!["description".into(), "name".into()],
        };
        let error = update_paths(Some(&mask), &mutable, &["name"]).expect_err("output only");
        assert_eq!(error.field, "update_mask.paths[1]");
        let mask = FieldMask {
            paths: vec!["colour".into()],
        };
        assert!(update_paths(Some(&mask), &mutable, &[]).is_err());
    }
}
