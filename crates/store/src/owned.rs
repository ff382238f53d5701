//! What brand-owned rows share: the envelope (id, brand, times, version), the outcome of an
//! update checked against a version, and idempotent creation by request id.

use std::collections::HashMap;
use std::future::Future;

use chrono::{DateTime, Utc};
use resonance_core::campaign::CreatorKey;
use resonance_core::{Handle, Platform};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::StoreError;
use crate::brands::BrandId;
use crate::entity::creator;

/// A brand-owned value as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Owned<T> {
    pub id: i64,
    pub brand: BrandId,
    pub value: T,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Counts updates from 1: the etag.
    pub version: i64,
}

/// Why an update or delete did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError<E> {
    /// No such row for this brand (including another brand's rows).
    #[error("not found")]
    NotFound,
    /// The caller's version is not the stored one.
    #[error("the stored version is {current}")]
    Stale { current: i64 },
    /// The change itself was refused (invalid, or a move a workflow does not allow).
    #[error("refused")]
    Rejected(E),
    /// What the row belongs to no longer takes this change (a closed campaign).
    #[error("{0}")]
    Closed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<E> From<sea_orm::DbErr> for ChangeError<E> {
    fn from(error: sea_orm::DbErr) -> Self {
        ChangeError::Store(error.into())
    }
}

/// Why a delete removed nothing: the row is gone (or never was the brand's), or it is still
/// there at another version than the caller's.
pub(crate) fn not_deleted<T>(current: Option<Owned<T>>) -> ChangeError<std::convert::Infallible> {
    match current {
        Some(current) => ChangeError::Stale {
            current: current.version,
        },
        None => ChangeError::NotFound,
    }
}

/// How many times an update without an expected version is retried when another writer
/// changed the row between its read and its write.
pub(crate) const UPDATE_ATTEMPTS: usize = 5;

/// Creates a row idempotently. With a request id, an earlier row made with it is returned as
/// is; concurrent creates with one request id race on the unique `(brand_id, request_id)` index
/// and the losers return the winner's row. `Ok(None)` from `create`'s refusal means the refusal
/// had another cause, which is returned.
pub(crate) async fn create_once<T, Find, FindFut, Create, CreateFut>(
    request_id: Option<&str>,
    find: Find,
    create: Create,
) -> Result<T, StoreError>
where
    Find: Fn(String) -> FindFut,
    FindFut: Future<Output = Result<Option<T>, StoreError>>,
    Create: FnOnce() -> CreateFut,
    CreateFut: Future<Output = Result<T, StoreError>>,
{
    if let Some(request_id) = request_id
        && let Some(found) = find(request_id.to_owned()).await?
    {
        return Ok(found);
    }
    match create().await {
        Err(StoreError::Refused(error)) => match request_id {
            Some(request_id) => match find(request_id.to_owned()).await? {
                Some(found) => Ok(found),
                None => Err(StoreError::Refused(error)),
            },
            None => Err(StoreError::Refused(error)),
        },
        other => other,
    }
}

/// The stored creator ids of creators named by platform and handle (those not stored yet are
/// absent).
pub(crate) async fn creator_ids<C: ConnectionTrait>(
    db: &C,
    keys: &[CreatorKey],
) -> Result<HashMap<CreatorKey, i64>, StoreError> {
    let mut found = HashMap::new();
    let mut by_platform: HashMap<Platform, Vec<&str>> = HashMap::new();
    for key in keys {
        by_platform
            .entry(key.platform)
            .or_default()
            .push(key.handle.as_str());
    }
    for (platform, handles) in by_platform {
        for chunk in handles.chunks(500) {
            let rows: Vec<(i64, String)> = creator::Entity::find()
                .select_only()
                .column(creator::Column::Id)
                .column(creator::Column::Handle)
                .filter(creator::Column::Platform.eq(platform.as_str()))
                .filter(creator::Column::Handle.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(db)
                .await?;
            for (id, handle) in rows {
                if let Ok(handle) = Handle::parse(&handle) {
                    found.insert(CreatorKey { platform, handle }, id);
                }
            }
        }
    }
    Ok(found)
}

pub(crate) fn creator_key(
    platform: &str,
    handle: &str,
    table: &str,
) -> Result<CreatorKey, StoreError> {
    Ok(CreatorKey {
        platform: platform
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("{table}.platform: {e}")))?,
        handle: Handle::parse(handle)
            .map_err(|e| StoreError::Corrupt(format!("{table}.handle: {e}")))?,
    })
}

/// Parses a stored status name.
pub(crate) fn parse_named<T: std::str::FromStr<Err = resonance_core::ValidationError>>(
    raw: &str,
    column: &str,
) -> Result<T, StoreError> {
    raw.parse()
        .map_err(|e: resonance_core::ValidationError| StoreError::Corrupt(format!("{column}: {e}")))
}

pub(crate) fn json_list(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) fn parse_json_list(raw: &str, column: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// Read, change and write one row (unless the change leaves it as it is), checking that
/// nobody wrote it in between: `save` writes the
/// new value only where the row still has the version read (and returns whether it did). With
/// an expected version the caller's view must be current; without one, a lost race is retried.
pub(crate) async fn update_versioned<T, E, Load, LoadFut, Apply, Save, SaveFut>(
    expected: Option<i64>,
    now: DateTime<Utc>,
    load: Load,
    mut apply: Apply,
    save: Save,
) -> Result<Owned<T>, ChangeError<E>>
where
    T: Clone + PartialEq,
    Load: Fn() -> LoadFut,
    LoadFut: Future<Output = Result<Option<Owned<T>>, StoreError>>,
    Apply: FnMut(&Owned<T>) -> Result<T, E>,
    Save: Fn(i64, Owned<T>) -> SaveFut,
    SaveFut: Future<Output = Result<bool, ChangeError<E>>>,
{
    for _ in 0..UPDATE_ATTEMPTS {
        let current = load().await?.ok_or(ChangeError::NotFound)?;
        if let Some(version) = expected
            && version != current.version
        {
            return Err(ChangeError::Stale {
                current: current.version,
            });
        }
        let value = apply(&current).map_err(ChangeError::Rejected)?;
        // A change that changes nothing (a retry) writes nothing and keeps the etag.
        if value == current.value {
            return Ok(current);
        }
        let next = Owned {
            value,
            updated_at: now.max(current.updated_at),
            version: current.version + 1,
            ..current.clone()
        };
        if save(current.version, next.clone()).await? {
            return Ok(next);
        }
        if expected.is_some() {
            let current = load().await?.ok_or(ChangeError::NotFound)?;
            return Err(ChangeError::Stale {
                current: current.version,
            });
        }
    }
    Err(ChangeError::Store(StoreError::Unavailable(
        sea_orm::DbErr::Custom("the row kept changing under concurrent updates".to_owned()),
    )))
}
