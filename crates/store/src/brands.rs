//! Brands and their API keys.
//!
//! A key is `rsn_` and 64 hex digits (256 random bits from the operating system). It is shown
//! once, when created; the store keeps its SHA-256 (a key has full entropy, so a fast hash is
//! enough: nothing is left to guess) and its first characters, to tell keys apart in listings.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use sha2::{Digest, Sha256};

use crate::StoreError;
use crate::entity::{api_key, brand};
use crate::owned::create_once;

/// The id of a brand: every brand-owned row is reached through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BrandId(pub i64);

/// A brand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    pub id: BrandId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// What is known of a key after it was shown: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyInfo {
    pub id: i64,
    pub brand: BrandId,
    /// "rsn_1a2b3c4d...".
    pub prefix: String,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key as created: `secret` is shown once and not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub info: ApiKeyInfo,
    pub secret: String,
}

const KEY_PREFIX: &str = "rsn_";
/// Characters of a key kept for listings: the marker and 8 hex digits.
const SHOWN_CHARS: usize = 12;
/// The longest brand name.
pub const MAX_BRAND_NAME: usize = 200;

fn hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

fn generate() -> Result<String, StoreError> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::Config(format!("no randomness from the operating system: {e}")))?;
    let mut key = String::from(KEY_PREFIX);
    for byte in bytes {
        let _ = write!(key, "{byte:02x}");
    }
    Ok(key)
}

fn info(row: api_key::Model) -> ApiKeyInfo {
    ApiKeyInfo {
        id: row.id,
        brand: BrandId(row.brand_id),
        prefix: format!("{}...", row.prefix),
        display_name: row.display_name,
        created_at: row.created_at,
        revoked_at: row.revoked_at,
    }
}

fn brand_from_row(row: brand::Model) -> Brand {
    Brand {
        id: BrandId(row.id),
        name: row.name,
        created_at: row.created_at,
    }
}

async fn insert_key<C: ConnectionTrait>(
    db: &C,
    brand: BrandId,
    display_name: &str,
    request_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<NewApiKey, StoreError> {
    let secret = generate()?;
    let row = api_key::ActiveModel {
        brand_id: Set(brand.0),
        prefix: Set(secret.chars().take(SHOWN_CHARS).collect()),
        hash: Set(hash(&secret)),
        created_at: Set(now),
        revoked_at: Set(None),
        display_name: Set(display_name.to_owned()),
        request_id: Set(request_id.map(str::to_owned)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(NewApiKey {
        info: info(row),
        secret,
    })
}

/// Brands and API keys.
#[derive(Debug)]
pub struct BrandRepo<'a> {
    pub(crate) db: &'a DatabaseConnection,
}

impl BrandRepo<'_> {
    /// Creates a brand with its first key.
    pub async fn create(
        &self,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<(Brand, NewApiKey), StoreError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_BRAND_NAME {
            return Err(StoreError::Config(format!(
                "a brand name has 1 to {MAX_BRAND_NAME} characters"
            )));
        }
        // A brand is never left without its first key.
        let txn = crate::begin(self.db).await?;
        let row = brand::ActiveModel {
            name: Set(name.to_owned()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let brand = brand_from_row(row);
        let key = insert_key(&txn, brand.id, "first key", None, now).await?;
        crate::commit(txn).await?;
        Ok((brand, key))
    }

    pub async fn get(&self, id: BrandId) -> Result<Option<Brand>, StoreError> {
        Ok(brand::Entity::find_by_id(id.0)
            .one(self.db)
            .await?
            .map(brand_from_row))
    }

    pub async fn list(&self) -> Result<Vec<Brand>, StoreError> {
        Ok(brand::Entity::find()
            .order_by_asc(brand::Column::Id)
            .all(self.db)
            .await?
            .into_iter()
            .map(brand_from_row)
            .collect())
    }

    /// A new key for a brand. With a request id, a retry returns the key made first, without
    /// its secret (which is shown once).
    pub async fn create_key(
        &self,
        brand: BrandId,
        display_name: &str,
        request_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(ApiKeyInfo, Option<String>), StoreError> {
        let find = |request_id: String| async move {
            Ok(api_key::Entity::find()
                .filter(api_key::Column::BrandId.eq(brand.0))
                .filter(api_key::Column::RequestId.eq(request_id))
                .one(self.db)
                .await?
                .map(|row| (info(row), None)))
        };
        create_once(request_id, find, || async {
            let key = crate::bounded(self.db, async |txn| {
                insert_key(txn, brand, display_name, request_id, now).await
            })
            .await?;
            Ok((key.info, Some(key.secret)))
        })
        .await
    }

    /// A brand's keys in creation order, after the key `after`.
    pub async fn keys(
        &self,
        brand: BrandId,
        after: Option<i64>,
        limit: u64,
    ) -> Result<Vec<ApiKeyInfo>, StoreError> {
        Ok(api_key::Entity::find()
            .filter(api_key::Column::BrandId.eq(brand.0))
            .filter(api_key::Column::Id.gt(after.unwrap_or(0)))
            .order_by_asc(api_key::Column::Id)
            .limit(limit)
            .all(self.db)
            .await?
            .into_iter()
            .map(info)
            .collect())
    }

    /// Revokes a brand's key (revoking twice keeps the first time); `None` if the brand has no
    /// such key.
    pub async fn revoke(
        &self,
        brand: BrandId,
        key_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiKeyInfo>, StoreError> {
        crate::bounded(self.db, async |txn| {
            Ok(api_key::Entity::update_many()
                .col_expr(
                    api_key::Column::RevokedAt,
                    sea_orm::sea_query::Expr::value(now),
                )
                .filter(api_key::Column::Id.eq(key_id))
                .filter(api_key::Column::BrandId.eq(brand.0))
                .filter(api_key::Column::RevokedAt.is_null())
                .exec(txn)
                .await?)
        })
        .await?;
        Ok(api_key::Entity::find_by_id(key_id)
            .filter(api_key::Column::BrandId.eq(brand.0))
            .one(self.db)
            .await?
            .map(info))
    }

    /// Revokes a key of any brand, for operators; `false` if there is no such key or it was
    /// revoked already.
    pub async fn revoke_any(&self, key_id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let result = api_key::Entity::update_many()
            .col_expr(
                api_key::Column::RevokedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(api_key::Column::Id.eq(key_id))
            .filter(api_key::Column::RevokedAt.is_null())
            .exec(self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// The brand a key belongs to, if the key is valid and not revoked.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<BrandId>, StoreError> {
        if !secret.starts_with(KEY_PREFIX) || secret.len() > 200 {
            return Ok(None);
        }
        Ok(api_key::Entity::find()
            .filter(api_key::Column::Hash.eq(hash(secret)))
            .filter(api_key::Column::RevokedAt.is_null())
            .one(self.db)
            .await?
            .map(|row| BrandId(row.brand_id)))
    }
}
