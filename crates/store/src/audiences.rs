//! Audience sketches and follower-profile samples, both reached through their creator.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use resonance_core::{AudienceSketch, FollowerProfile, Handle, Platform};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Value,
};

use crate::creators::{CreatorRepo, Key, ROWS_PER_STATEMENT, rows_by_pairs, to_i64};
use crate::entity::{audience_sketch, follower_sample};
use crate::{StoreError, WriteOutcome};

fn to_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

pub(crate) fn follower_from_row(
    row: &follower_sample::Model,
) -> Result<FollowerProfile, StoreError> {
    let unsigned = |value: i64, column: &str| {
        u64::try_from(value)
            .map_err(|_| StoreError::Corrupt(format!("follower_samples.{column} is negative")))
    };
    let small = |value: i32, column: &str| {
        u32::try_from(value)
            .map_err(|_| StoreError::Corrupt(format!("follower_samples.{column} is negative")))
    };
    Ok(FollowerProfile {
        id: row.follower_id.clone(),
        followers: unsigned(row.followers, "followers")?,
        following: unsigned(row.following, "following")?,
        media_count: unsigned(row.media_count, "media_count")?,
        has_profile_picture: row.has_profile_picture,
        is_private: row.is_private,
        bio_length: small(row.bio_length, "bio_length")?,
        username_length: small(row.username_length, "username_length")?,
        username_digit_count: small(row.username_digit_count, "username_digit_count")?,
        full_name_word_count: small(row.full_name_word_count, "full_name_word_count")?,
        has_external_url: row.has_external_url,
    })
}

fn follower_active_model(
    creator_id: i64,
    follower: &FollowerProfile,
    now: DateTime<Utc>,
) -> follower_sample::ActiveModel {
    follower_sample::ActiveModel {
        creator_id: Set(creator_id),
        follower_id: Set(follower.id.clone()),
        followers: Set(to_i64(follower.followers)),
        following: Set(to_i64(follower.following)),
        media_count: Set(to_i64(follower.media_count)),
        has_profile_picture: Set(follower.has_profile_picture),
        is_private: Set(follower.is_private),
        bio_length: Set(to_i32(follower.bio_length)),
        username_length: Set(to_i32(follower.username_length)),
        username_digit_count: Set(to_i32(follower.username_digit_count)),
        full_name_word_count: Set(to_i32(follower.full_name_word_count)),
        has_external_url: Set(follower.has_external_url),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// The outcome of a record made of several rows: created if any row was new, else updated if
/// any changed, else unchanged.
fn combined(outcomes: impl IntoIterator<Item = WriteOutcome>) -> WriteOutcome {
    let mut result = WriteOutcome::Unchanged;
    for outcome in outcomes {
        match outcome {
            WriteOutcome::Created => return WriteOutcome::Created,
            WriteOutcome::Updated => result = WriteOutcome::Updated,
            WriteOutcome::Unchanged => {}
        }
    }
    result
}

impl CreatorRepo<'_> {
    /// Folds audience members into each account's stored sketch, one outcome per input.
    /// Merging is a register maximum, so repeats and order change nothing; rows are locked
    /// while merging (PostgreSQL), so concurrent workers do not lose each other's members.
    pub async fn merge_audiences(
        &self,
        audiences: &[(Platform, Handle, AudienceSketch)],
        now: DateTime<Utc>,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        let txn = crate::begin(self.db).await?;
        let keys: Vec<Key> = audiences.iter().map(|(p, h, _)| (*p, h.clone())).collect();
        let ids = Self::ensure_ids(&txn, &keys, now).await?;
        let creator_ids: Vec<i64> = {
            let mut ids: Vec<i64> = ids.values().copied().collect();
            ids.sort_unstable();
            ids
        };
        // Every creator gets a row first (empty registers mean "no members yet"), so that the
        // locking read below finds, and locks, a row even for a creator's first audience:
        // otherwise two writers could both create it and one would overwrite the other.
        for chunk in creator_ids.chunks(ROWS_PER_STATEMENT / 5) {
            audience_sketch::Entity::insert_many(chunk.iter().map(|id| {
                audience_sketch::ActiveModel {
                    creator_id: Set(*id),
                    registers: Set(AudienceSketch::new().to_bytes()),
                    updated_at: Set(now),
                }
            }))
            .on_conflict(
                OnConflict::column(audience_sketch::Column::CreatorId)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        }
        let mut stored: HashMap<i64, AudienceSketch> = HashMap::new();
        for chunk in creator_ids.chunks(ROWS_PER_STATEMENT) {
            let rows = audience_sketch::Entity::find()
                .filter(audience_sketch::Column::CreatorId.is_in(chunk.to_vec()))
                .order_by_asc(audience_sketch::Column::CreatorId)
                .lock_exclusive()
                .all(&txn)
                .await?;
            for row in rows {
                let sketch = AudienceSketch::from_bytes(&row.registers).map_err(|e| {
                    StoreError::Corrupt(format!("audience_sketches.registers: {}", e.message))
                })?;
                stored.insert(row.creator_id, sketch);
            }
        }

        let mut outcomes = Vec::with_capacity(audiences.len());
        let mut changed: HashMap<i64, bool> = HashMap::new();
        for ((_, _, sketch), key) in audiences.iter().zip(&keys) {
            let creator_id = ids
                .get(key)
                .copied()
                .ok_or_else(|| StoreError::Corrupt(format!("no id for {}/{}", key.0, key.1)))?;
            let outcome = match stored.get_mut(&creator_id) {
                Some(current) if current.is_empty() => {
                    current.merge(sketch);
                    changed.insert(creator_id, true);
                    WriteOutcome::Created
                }
                None => {
                    stored.insert(creator_id, sketch.clone());
                    changed.insert(creator_id, true);
                    WriteOutcome::Created
                }
                Some(current) => {
                    let before = current.clone();
                    current.merge(sketch);
                    if *current == before {
                        WriteOutcome::Unchanged
                    } else {
                        changed.insert(creator_id, true);
                        WriteOutcome::Updated
                    }
                }
            };
            outcomes.push(outcome);
        }

        let mut rows: Vec<(i64, Vec<u8>)> = changed
            .keys()
            .filter_map(|id| stored.get(id).map(|sketch| (*id, sketch.to_bytes())))
            .collect();
        rows.sort_by_key(|(id, _)| *id);
        for chunk in rows.chunks(ROWS_PER_STATEMENT / 5) {
            audience_sketch::Entity::insert_many(chunk.iter().map(|(id, registers)| {
                audience_sketch::ActiveModel {
                    creator_id: Set(*id),
                    registers: Set(registers.clone()),
                    updated_at: Set(now),
                }
            }))
            .on_conflict(
                OnConflict::column(audience_sketch::Column::CreatorId)
                    .update_columns([
                        audience_sketch::Column::Registers,
                        audience_sketch::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        }
        crate::commit(txn).await?;
        Ok(outcomes)
    }

    /// The account's audience sketch, if members were ever ingested.
    pub async fn audience(&self, creator_id: i64) -> Result<Option<AudienceSketch>, StoreError> {
        let sketch = audience_sketch::Entity::find_by_id(creator_id)
            .one(self.db)
            .await?
            .map(|row| {
                AudienceSketch::from_bytes(&row.registers).map_err(|e| {
                    StoreError::Corrupt(format!("audience_sketches.registers: {}", e.message))
                })
            })
            .transpose()?;
        Ok(sketch.filter(|sketch| !sketch.is_empty()))
    }

    /// The non-empty audience sketches of these creators, by creator id (a query per 500).
    pub async fn audiences_of(
        &self,
        creator_ids: &[i64],
    ) -> Result<HashMap<i64, AudienceSketch>, StoreError> {
        let mut sketches = HashMap::new();
        for chunk in creator_ids.chunks(500) {
            for row in audience_sketch::Entity::find()
                .filter(audience_sketch::Column::CreatorId.is_in(chunk.to_vec()))
                .all(self.db)
                .await?
            {
                let sketch = AudienceSketch::from_bytes(&row.registers).map_err(|e| {
                    StoreError::Corrupt(format!("audience_sketches.registers: {}", e.message))
                })?;
                if !sketch.is_empty() {
                    sketches.insert(row.creator_id, sketch);
                }
            }
        }
        Ok(sketches)
    }

    /// Stores sampled follower profiles, keyed by account and follower id; one outcome per
    /// input record (created if any follower was new).
    pub async fn upsert_follower_samples(
        &self,
        samples: &[(Platform, Handle, Vec<FollowerProfile>)],
        now: DateTime<Utc>,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        let txn = crate::begin(self.db).await?;
        let keys: Vec<Key> = samples.iter().map(|(p, h, _)| (*p, h.clone())).collect();
        let ids = Self::ensure_ids(&txn, &keys, now).await?;

        let mut pairs: Vec<(i64, String)> = Vec::new();
        for ((_, _, followers), key) in samples.iter().zip(&keys) {
            if let Some(id) = ids.get(key) {
                pairs.extend(followers.iter().map(|f| (*id, f.id.clone())));
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut stored: HashMap<(i64, String), FollowerProfile> = HashMap::new();
        for chunk in pairs.chunks(ROWS_PER_STATEMENT) {
            let rows = follower_sample::Entity::find()
                .from_raw_sql(rows_by_pairs(
                    txn.get_database_backend(),
                    "follower_samples",
                    ("creator_id", "follower_id"),
                    chunk
                        .iter()
                        .map(|(id, follower)| (Value::from(*id), Value::from(follower.clone()))),
                ))
                .all(&txn)
                .await?;
            for row in rows {
                stored.insert(
                    (row.creator_id, row.follower_id.clone()),
                    follower_from_row(&row)?,
                );
            }
        }

        let mut outcomes = Vec::with_capacity(samples.len());
        let mut changed: Vec<i64> = Vec::new();
        let mut to_write: HashMap<(i64, String), &FollowerProfile> = HashMap::new();
        for ((_, _, followers), key) in samples.iter().zip(&keys) {
            let creator_id = ids
                .get(key)
                .copied()
                .ok_or_else(|| StoreError::Corrupt(format!("no id for {}/{}", key.0, key.1)))?;
            let record = followers.iter().map(|follower| {
                let slot = (creator_id, follower.id.clone());
                let outcome = match stored.get(&slot) {
                    None => WriteOutcome::Created,
                    Some(old) if old == follower => WriteOutcome::Unchanged,
                    Some(_) => WriteOutcome::Updated,
                };
                if outcome != WriteOutcome::Unchanged {
                    stored.insert(slot.clone(), follower.clone());
                    to_write.insert(slot, follower);
                }
                outcome
            });
            let outcome = combined(record.collect::<Vec<_>>());
            if outcome != WriteOutcome::Unchanged {
                changed.push(creator_id);
            }
            outcomes.push(outcome);
        }

        let mut sorted: Vec<_> = to_write.into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let rows: Vec<(i64, &FollowerProfile)> =
            sorted.into_iter().map(|((id, _), f)| (id, f)).collect();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            follower_sample::Entity::insert_many(
                chunk
                    .iter()
                    .map(|(id, follower)| follower_active_model(*id, follower, now)),
            )
            .on_conflict(
                OnConflict::columns([
                    follower_sample::Column::CreatorId,
                    follower_sample::Column::FollowerId,
                ])
                .update_columns([
                    follower_sample::Column::Followers,
                    follower_sample::Column::Following,
                    follower_sample::Column::MediaCount,
                    follower_sample::Column::HasProfilePicture,
                    follower_sample::Column::IsPrivate,
                    follower_sample::Column::BioLength,
                    follower_sample::Column::UsernameLength,
                    follower_sample::Column::UsernameDigitCount,
                    follower_sample::Column::FullNameWordCount,
                    follower_sample::Column::HasExternalUrl,
                    follower_sample::Column::UpdatedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        }
        crate::scores::mark_dirty(&txn, changed, now).await?;
        crate::commit(txn).await?;
        Ok(outcomes)
    }

    /// The account's sampled followers, by follower id, at most `limit`.
    pub async fn follower_samples(
        &self,
        creator_id: i64,
        limit: u64,
    ) -> Result<Vec<FollowerProfile>, StoreError> {
        follower_sample::Entity::find()
            .filter(follower_sample::Column::CreatorId.eq(creator_id))
            .order_by_asc(follower_sample::Column::FollowerId)
            .limit(limit)
            .all(self.db)
            .await?
            .iter()
            .map(follower_from_row)
            .collect()
    }
}
