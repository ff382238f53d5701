//! Creators and what they publish: public data, shared by all brands.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use resonance_core::{
    ContentFormat, Handle, MetricSnapshot, Platform, Post, Profile, ReportedAverages,
};
use sea_orm::sea_query::{Alias, Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement, Value,
};

use crate::StoreError;
use crate::entity::{creator, metric_snapshot, post};
use crate::scores::mark_dirty;

/// What a write did to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Created,
    Updated,
    Unchanged,
}

/// Rows per INSERT statement; keeps every statement well under SQLite's 32,766 bind variables.
pub(crate) const ROWS_PER_STATEMENT: usize = 500;

pub(crate) type Key = (Platform, Handle);

/// A stored creator. `profile` is `None` while only posts or snapshots named the account.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCreator {
    pub id: i64,
    pub platform: Platform,
    pub handle: Handle,
    pub profile: Option<Profile>,
    pub stored_posts: u64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug)]
pub struct CreatorRepo<'a> {
    pub(crate) db: &'a DatabaseConnection,
    /// SQLite's bulk writer (see `Store`).
    bulk_writer: Option<&'a sea_orm::sqlx::SqlitePool>,
}

pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn to_u64(value: Option<i64>, field: &str) -> Result<u64, StoreError> {
    let value = value.ok_or_else(|| StoreError::Corrupt(format!("{field} is NULL")))?;
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{field} is negative")))
}

fn optional_u64(value: Option<i64>) -> Option<u64> {
    value.and_then(|v| u64::try_from(v).ok())
}

fn split_tags(joined: &str) -> Vec<String> {
    joined.split_whitespace().map(str::to_owned).collect()
}

pub(crate) fn parse_key(row: &creator::Model) -> Result<Key, StoreError> {
    let platform = row
        .platform
        .parse::<Platform>()
        .map_err(|e| StoreError::Corrupt(format!("creators.platform: {e}")))?;
    let handle = Handle::parse(&row.handle)
        .map_err(|e| StoreError::Corrupt(format!("creators.handle: {e}")))?;
    Ok((platform, handle))
}

pub(crate) fn profile_from_row(
    row: &creator::Model,
    platform: Platform,
    handle: Handle,
) -> Result<Option<Profile>, StoreError> {
    let Some(observed_at) = row.observed_at else {
        return Ok(None);
    };
    let categories: Vec<String> = serde_json::from_str(&row.categories)
        .map_err(|e| StoreError::Corrupt(format!("creators.categories: {e}")))?;
    Ok(Some(Profile {
        platform,
        handle,
        external_id: row.external_id.clone(),
        display_name: row.display_name.clone(),
        bio: row.bio.clone(),
        followers: to_u64(row.followers, "creators.followers")?,
        following: to_u64(row.following, "creators.following")?,
        media_count: to_u64(row.media_count, "creators.media_count")?,
        verified: row.verified,
        is_private: row.is_private,
        has_profile_picture: row.has_profile_picture,
        country: row.country.clone(),
        language: row.language.clone(),
        categories,
        observed_at,
    }))
}

/// Whether two observations of a profile say the same thing (ignoring when they were made).
fn same_content(a: &Profile, b: &Profile) -> bool {
    a.external_id == b.external_id
        && a.display_name == b.display_name
        && a.bio == b.bio
        && a.followers == b.followers
        && a.following == b.following
        && a.media_count == b.media_count
        && a.verified == b.verified
        && a.is_private == b.is_private
        && a.has_profile_picture == b.has_profile_picture
        && a.country == b.country
        && a.language == b.language
        && a.categories == b.categories
}

fn profile_active_model(profile: &Profile, now: DateTime<Utc>) -> creator::ActiveModel {
    creator::ActiveModel {
        platform: Set(profile.platform.as_str().to_owned()),
        handle: Set(profile.handle.as_str().to_owned()),
        external_id: Set(profile.external_id.clone()),
        display_name: Set(profile.display_name.clone()),
        bio: Set(profile.bio.clone()),
        followers: Set(Some(to_i64(profile.followers))),
        following: Set(Some(to_i64(profile.following))),
        media_count: Set(Some(to_i64(profile.media_count))),
        verified: Set(profile.verified),
        is_private: Set(profile.is_private),
        has_profile_picture: Set(profile.has_profile_picture),
        country: Set(profile.country.clone()),
        language: Set(profile.language.clone()),
        categories: Set(
            serde_json::to_string(&profile.categories).unwrap_or_else(|_| "[]".to_owned())
        ),
        observed_at: Set(Some(profile.observed_at)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

fn placeholder_active_model(
    platform: Platform,
    handle: &Handle,
    now: DateTime<Utc>,
) -> creator::ActiveModel {
    creator::ActiveModel {
        platform: Set(platform.as_str().to_owned()),
        handle: Set(handle.as_str().to_owned()),
        external_id: Set(None),
        display_name: Set(String::new()),
        bio: Set(String::new()),
        followers: Set(None),
        following: Set(None),
        media_count: Set(None),
        verified: Set(false),
        is_private: Set(false),
        has_profile_picture: Set(false),
        country: Set(None),
        language: Set(None),
        categories: Set("[]".to_owned()),
        observed_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

pub(crate) fn post_from_row(row: &post::Model) -> Result<Post, StoreError> {
    Ok(Post {
        external_id: row.external_id.clone(),
        posted_at: row.posted_at,
        format: row
            .format
            .parse::<ContentFormat>()
            .map_err(|e| StoreError::Corrupt(format!("posts.format: {e}")))?,
        likes: optional_u64(row.likes),
        comments: optional_u64(row.comments),
        shares: optional_u64(row.shares),
        saves: optional_u64(row.saves),
        views: optional_u64(row.views),
        caption: row.caption.clone(),
        hashtags: split_tags(&row.hashtags),
        mentions: split_tags(&row.mentions),
        paid_partnership: row.paid_partnership,
        url: row.url.clone(),
    })
}

pub(crate) fn snapshot_from_row(
    row: &metric_snapshot::Model,
) -> Result<MetricSnapshot, StoreError> {
    let optional = |value: Option<i64>, column: &str| {
        value
            .map(|v| to_u64(Some(v), &format!("metric_snapshots.{column}")))
            .transpose()
    };
    Ok(MetricSnapshot {
        observed_at: row.observed_at,
        followers: to_u64(Some(row.followers), "metric_snapshots.followers")?,
        following: to_u64(Some(row.following), "metric_snapshots.following")?,
        media_count: to_u64(Some(row.media_count), "metric_snapshots.media_count")?,
        reported: ReportedAverages {
            likes: optional(row.avg_likes, "avg_likes")?,
            comments: optional(row.avg_comments, "avg_comments")?,
            views: optional(row.avg_views, "avg_views")?,
            engagements: optional(row.avg_engagements, "avg_engagements")?,
            authentic_engagements: optional(row.authentic_engagements, "authentic_engagements")?,
        },
    })
}

/// `SELECT table.* FROM table JOIN (VALUES (a, b), ...) ON (table.first, table.second) = (a, b)`:
/// rows by a two-column natural key, an index lookup per key on both SQLite and PostgreSQL
/// (two IN lists make SQLite seek every combination; a row-value IN makes PostgreSQL scan).
pub(crate) fn rows_by_pairs(
    backend: DbBackend,
    table: &str,
    (first, second): (&str, &str),
    pairs: impl ExactSizeIterator<Item = (Value, Value)>,
) -> Statement {
    use std::fmt::Write as _;
    let mut sql = String::with_capacity(128 + pairs.len() * 16);
    let _ = write!(sql, "SELECT {table}.* FROM {table} JOIN (VALUES ");
    let mut values = Vec::with_capacity(pairs.len() * 2);
    for (index, (a, b)) in pairs.enumerate() {
        if index > 0 {
            sql.push_str(", ");
        }
        let _ = write!(sql, "(${}, ${})", 2 * index + 1, 2 * index + 2);
        values.push(a);
        values.push(b);
    }
    let _ = write!(
        sql,
        ") AS keys ON {table}.{first} = keys.column1 AND {table}.{second} = keys.column2"
    );
    Statement::from_sql_and_values(backend, sql, values)
}

/// Whether `new` replaces the stored `old` profile: a newer observation does; of two at the
/// same time (a source contradicting itself), the one with more followers does, so that the
/// order of arrival does not decide.
fn supersedes(new: &Profile, old: &Profile) -> bool {
    new.observed_at > old.observed_at
        || (new.observed_at == old.observed_at && new.followers >= old.followers)
}

impl<'a> CreatorRepo<'a> {
    pub(crate) fn new(
        db: &'a DatabaseConnection,
        bulk_writer: Option<&'a sea_orm::sqlx::SqlitePool>,
    ) -> Self {
        Self { db, bulk_writer }
    }

    /// Stored rows for these keys, by key.
    async fn rows_by_key<C: ConnectionTrait>(
        db: &C,
        keys: &[Key],
    ) -> Result<HashMap<Key, creator::Model>, StoreError> {
        let mut found = HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let rows = creator::Entity::find()
                .from_raw_sql(rows_by_pairs(
                    db.get_database_backend(),
                    "creators",
                    ("platform", "handle"),
                    chunk.iter().map(|(platform, handle)| {
                        (Value::from(platform.as_str()), Value::from(handle.as_str()))
                    }),
                ))
                .all(db)
                .await?;
            for row in rows {
                found.insert(parse_key(&row)?, row);
            }
        }
        Ok(found)
    }

    /// Makes sure a row exists for each account and returns the ids by key.
    pub(crate) async fn ensure_ids<C: ConnectionTrait>(
        db: &C,
        keys: &[Key],
        now: DateTime<Utc>,
    ) -> Result<HashMap<Key, i64>, StoreError> {
        let mut unique: Vec<Key> = keys.to_vec();
        unique.sort();
        unique.dedup();
        for chunk in unique.chunks(ROWS_PER_STATEMENT) {
            creator::Entity::insert_many(
                chunk
                    .iter()
                    .map(|(p, h)| placeholder_active_model(*p, h, now)),
            )
            .on_conflict(
                OnConflict::columns([creator::Column::Platform, creator::Column::Handle])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        }
        Ok(Self::rows_by_key(db, &unique)
            .await?
            .into_iter()
            .map(|(k, row)| (k, row.id))
            .collect())
    }

    /// Inserts or updates profiles, one outcome per input in order. An observation older than
    /// the stored one does not overwrite it (so delivery order does not matter) but still adds
    /// a metric snapshot to the account's history.
    pub async fn upsert_profiles(
        &self,
        profiles: &[Profile],
        now: DateTime<Utc>,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        let txn = crate::begin(self.db).await?;
        let keys: Vec<Key> = profiles
            .iter()
            .map(|p| (p.platform, p.handle.clone()))
            .collect();
        let stored = Self::rows_by_key(&txn, &keys).await?;
        let mut current: HashMap<Key, Option<Profile>> = HashMap::with_capacity(keys.len());
        for (key, row) in &stored {
            current.insert(key.clone(), profile_from_row(row, key.0, key.1.clone())?);
        }

        let mut outcomes = Vec::with_capacity(profiles.len());
        let mut to_write: HashMap<Key, &Profile> = HashMap::new();
        // Accounts to rescore: a new or changed profile, or an observation at another time
        // (an older one adds to the follower history that growth anomalies are read from).
        let mut changed: Vec<Key> = Vec::new();
        for (profile, key) in profiles.iter().zip(&keys) {
            let existing = current.get(key).cloned().flatten();
            let outcome = match &existing {
                None => WriteOutcome::Created,
                Some(old) if !supersedes(profile, old) => WriteOutcome::Unchanged,
                Some(old) if same_content(old, profile) => WriteOutcome::Unchanged,
                Some(_) => WriteOutcome::Updated,
            };
            if outcome != WriteOutcome::Unchanged
                || existing
                    .as_ref()
                    .is_some_and(|old| old.observed_at != profile.observed_at)
            {
                changed.push(key.clone());
            }
            if existing.as_ref().is_none_or(|old| supersedes(profile, old)) {
                current.insert(key.clone(), Some(profile.clone()));
                to_write.insert(key.clone(), profile);
            }
            outcomes.push(outcome);
        }

        let mut sorted: Vec<(Key, &Profile)> = to_write.into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let rows: Vec<&Profile> = sorted.into_iter().map(|(_, profile)| profile).collect();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            creator::Entity::insert_many(chunk.iter().map(|p| profile_active_model(p, now)))
                .on_conflict(
                    OnConflict::columns([creator::Column::Platform, creator::Column::Handle])
                        .update_columns([
                            creator::Column::ExternalId,
                            creator::Column::DisplayName,
                            creator::Column::Bio,
                            creator::Column::Followers,
                            creator::Column::Following,
                            creator::Column::MediaCount,
                            creator::Column::Verified,
                            creator::Column::IsPrivate,
                            creator::Column::HasProfilePicture,
                            creator::Column::Country,
                            creator::Column::Language,
                            creator::Column::Categories,
                            creator::Column::ObservedAt,
                            creator::Column::UpdatedAt,
                        ])
                        .action_and_where(Expr::cust(
                            "creators.observed_at IS NULL \
                             OR excluded.observed_at > creators.observed_at \
                             OR (excluded.observed_at = creators.observed_at \
                                 AND excluded.followers >= creators.followers)",
                        ))
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }

        let ids = Self::ensure_ids(&txn, &keys, now).await?;
        let snapshots: Vec<(Key, MetricSnapshot)> = profiles
            .iter()
            .zip(&keys)
            .map(|(p, key)| {
                let snapshot = MetricSnapshot {
                    observed_at: p.observed_at,
                    followers: p.followers,
                    following: p.following,
                    media_count: p.media_count,
                    reported: ReportedAverages::default(),
                };
                (key.clone(), snapshot)
            })
            .collect();
        Self::insert_snapshots(&txn, &ids, &snapshots).await?;
        mark_dirty(
            &txn,
            changed.iter().filter_map(|key| ids.get(key).copied()),
            now,
        )
        .await?;
        crate::commit(txn).await?;
        Ok(outcomes)
    }

    async fn insert_snapshots<C: ConnectionTrait>(
        db: &C,
        ids: &HashMap<Key, i64>,
        snapshots: &[(Key, MetricSnapshot)],
    ) -> Result<u64, StoreError> {
        // One row per (creator, time) per statement (PostgreSQL refuses to update a row twice
        // in one INSERT): the first counters, the averages merged.
        let mut unique: HashMap<(i64, DateTime<Utc>), MetricSnapshot> = HashMap::new();
        for (key, snapshot) in snapshots {
            let Some(creator_id) = ids.get(key).copied() else {
                continue;
            };
            unique
                .entry((creator_id, snapshot.observed_at))
                .and_modify(|kept| kept.reported = snapshot.reported.or(kept.reported))
                .or_insert(*snapshot);
        }
        let mut unique: Vec<((i64, DateTime<Utc>), MetricSnapshot)> = unique.into_iter().collect();
        unique.sort_by_key(|(key, _)| *key);
        let unique: Vec<(i64, MetricSnapshot)> =
            unique.into_iter().map(|((id, _), s)| (id, s)).collect();
        let mut inserted = 0;
        for chunk in unique.chunks(ROWS_PER_STATEMENT) {
            let models = chunk.iter().map(|(creator_id, s)| {
                let creator_id = *creator_id;
                let reported = &s.reported;
                metric_snapshot::ActiveModel {
                    creator_id: Set(creator_id),
                    observed_at: Set(s.observed_at),
                    followers: Set(to_i64(s.followers)),
                    following: Set(to_i64(s.following)),
                    media_count: Set(to_i64(s.media_count)),
                    avg_likes: Set(reported.likes.map(to_i64)),
                    avg_comments: Set(reported.comments.map(to_i64)),
                    avg_views: Set(reported.views.map(to_i64)),
                    avg_engagements: Set(reported.engagements.map(to_i64)),
                    authentic_engagements: Set(reported.authentic_engagements.map(to_i64)),
                    ..Default::default()
                }
            });
            // The first reading of the counters at a time stays; reported averages are merged
            // (a known value is never replaced by an unknown one), so the order of arrival
            // does not matter.
            let mut on_conflict = OnConflict::columns([
                metric_snapshot::Column::CreatorId,
                metric_snapshot::Column::ObservedAt,
            ]);
            for column in [
                "avg_likes",
                "avg_comments",
                "avg_views",
                "avg_engagements",
                "authentic_engagements",
            ] {
                on_conflict.value(
                    Alias::new(column),
                    Expr::cust(format!(
                        "COALESCE(excluded.{column}, metric_snapshots.{column})"
                    )),
                );
            }
            inserted += metric_snapshot::Entity::insert_many(models)
                .on_conflict(on_conflict)
                .exec_without_returning(db)
                .await?;
        }
        Ok(inserted)
    }

    /// Records metric snapshots; a snapshot already stored for the same account and time is
    /// left as it is. One outcome per input.
    pub async fn upsert_snapshots(
        &self,
        snapshots: &[(Platform, Handle, MetricSnapshot)],
        now: DateTime<Utc>,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        let txn = crate::begin(self.db).await?;
        let keyed: Vec<(Key, MetricSnapshot)> = snapshots
            .iter()
            .map(|(p, h, s)| ((*p, h.clone()), *s))
            .collect();
        let keys: Vec<Key> = keyed.iter().map(|(k, _)| k.clone()).collect();
        let ids = Self::ensure_ids(&txn, &keys, now).await?;
        // What is stored at these times: the outcome is Updated only when averages are added.
        let mut existing: HashMap<(i64, DateTime<Utc>), ReportedAverages> = HashMap::new();
        let mut pairs: Vec<(i64, DateTime<Utc>)> = keyed
            .iter()
            .filter_map(|(key, s)| ids.get(key).map(|id| (*id, s.observed_at)))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        for chunk in pairs.chunks(ROWS_PER_STATEMENT) {
            let rows = metric_snapshot::Entity::find()
                .from_raw_sql(rows_by_pairs(
                    txn.get_database_backend(),
                    "metric_snapshots",
                    ("creator_id", "observed_at"),
                    chunk
                        .iter()
                        .map(|(id, at)| (Value::from(*id), Value::from(*at))),
                ))
                .all(&txn)
                .await?;
            for row in rows {
                existing.insert(
                    (row.creator_id, row.observed_at),
                    snapshot_from_row(&row)?.reported,
                );
            }
        }
        let mut outcomes = Vec::with_capacity(keyed.len());
        let mut changed: Vec<i64> = Vec::new();
        for (key, snapshot) in &keyed {
            let id = ids.get(key).copied().unwrap_or_default();
            let slot = (id, snapshot.observed_at);
            let before = outcomes.len();
            outcomes.push(match existing.get(&slot).copied() {
                None => {
                    existing.insert(slot, snapshot.reported);
                    WriteOutcome::Created
                }
                Some(stored) => {
                    let merged = snapshot.reported.or(stored);
                    if merged == stored {
                        WriteOutcome::Unchanged
                    } else {
                        existing.insert(slot, merged);
                        WriteOutcome::Updated
                    }
                }
            });
            if outcomes[before] != WriteOutcome::Unchanged {
                changed.push(id);
            }
        }
        Self::insert_snapshots(&txn, &ids, &keyed).await?;
        mark_dirty(&txn, changed, now).await?;
        crate::commit(txn).await?;
        Ok(outcomes)
    }

    /// Inserts or updates posts, one outcome per input in order. Each post comes with when its
    /// counts were read: the newest observation is kept whatever the order of arrival (an
    /// older one is `Unchanged`; of two with the same time, the later write wins). An account
    /// not known yet gets a row without a profile, so posts may arrive before the profile.
    /// Creators whose posts changed are queued for rescoring, and posts are attributed to
    /// active campaigns, in the same transaction (see `posts` and `attribution`).
    pub async fn upsert_posts(
        &self,
        posts: &[(Platform, Handle, Post, DateTime<Utc>)],
        now: DateTime<Utc>,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        self.upsert_prepared(&crate::PreparedPosts::from(posts), now)
            .await
    }

    /// Inserts or updates posts already prepared for writing, as [`Self::upsert_posts`] does.
    pub async fn upsert_prepared(
        &self,
        posts: &crate::PreparedPosts,
        now: DateTime<Utc>,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        crate::posts::upsert(
            self.db,
            self.bulk_writer,
            posts,
            now,
            &mut std::collections::HashMap::new(),
        )
        .await
    }

    async fn stored(&self, row: creator::Model) -> Result<StoredCreator, StoreError> {
        let (platform, handle) = parse_key(&row)?;
        let stored_posts = post::Entity::find()
            .filter(post::Column::CreatorId.eq(row.id))
            .count(self.db)
            .await?;
        Ok(StoredCreator {
            id: row.id,
            platform,
            profile: profile_from_row(&row, platform, handle.clone())?,
            handle,
            stored_posts,
            updated_at: row.updated_at,
        })
    }

    pub async fn get(&self, id: i64) -> Result<Option<StoredCreator>, StoreError> {
        match creator::Entity::find_by_id(id).one(self.db).await? {
            Some(row) => Ok(Some(self.stored(row).await?)),
            None => Ok(None),
        }
    }

    pub async fn find(
        &self,
        platform: Platform,
        handle: &Handle,
    ) -> Result<Option<StoredCreator>, StoreError> {
        let row = creator::Entity::find()
            .filter(creator::Column::Platform.eq(platform.as_str()))
            .filter(creator::Column::Handle.eq(handle.as_str()))
            .one(self.db)
            .await?;
        match row {
            Some(row) => Ok(Some(self.stored(row).await?)),
            None => Ok(None),
        }
    }

    /// The creator's latest posts, newest first.
    pub async fn latest_posts(&self, creator_id: i64, limit: u64) -> Result<Vec<Post>, StoreError> {
        post::Entity::find()
            .filter(post::Column::CreatorId.eq(creator_id))
            .order_by_desc(post::Column::PostedAt)
            .order_by_asc(post::Column::ExternalId)
            .limit(limit)
            .all(self.db)
            .await?
            .iter()
            .map(post_from_row)
            .collect()
    }

    /// The creator's metric history, oldest first.
    pub async fn snapshots(&self, creator_id: i64) -> Result<Vec<MetricSnapshot>, StoreError> {
        let rows = metric_snapshot::Entity::find()
            .filter(metric_snapshot::Column::CreatorId.eq(creator_id))
            .order_by_asc(metric_snapshot::Column::ObservedAt)
            .all(self.db)
            .await?;
        rows.iter().map(snapshot_from_row).collect()
    }

    pub async fn count(&self) -> Result<u64, StoreError> {
        Ok(creator::Entity::find().count(self.db).await?)
    }

    pub async fn count_posts(&self) -> Result<u64, StoreError> {
        Ok(post::Entity::find().count(self.db).await?)
    }
}
