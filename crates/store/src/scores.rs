//! Stored scores, the queue of creators due for rescoring, and creator search.
//!
//! Every write that changes a creator's data marks the creator in `score_queue` in the same
//! transaction, so a change is never committed without its rescoring being due. A rescorer
//! claims the oldest marks, scores, saves the scores and clears the marks it read; a mark that
//! was bumped meanwhile (a newer change) stays for the next round.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use resonance_core::{FollowerProfile, Handle, MetricSnapshot, Platform, Post, Profile, Tier};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, Order, QueryFilter, QueryOrder, QuerySelect, Statement, Value,
};

use crate::StoreError;
use crate::audiences::follower_from_row;
use crate::creators::{
    ROWS_PER_STATEMENT, parse_key, post_from_row, profile_from_row, snapshot_from_row, to_i64,
};
use crate::entity::{
    creator, creator_score, follower_sample, metric_snapshot, post, score_detail, score_queue,
};

/// One creator's score as stored: the columns search uses, and the whole score encoded by the
/// scoring service (`detail`), which the store does not interpret.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRecord {
    pub creator_id: i64,
    pub platform: Platform,
    pub followers: u64,
    pub tier: Tier,
    pub country: Option<String>,
    pub language: Option<String>,
    /// The primary niche's id ("general" when none).
    pub primary_niche: String,
    /// Every niche found, with its confidence.
    pub niches: Vec<(String, f64)>,
    pub definition_id: String,
    pub median_rate: f64,
    /// 0-100; 0 when engagement could not be ranked.
    pub percentile: f64,
    pub authenticity: f64,
    pub fake_share: Option<f64>,
    pub post_price: f64,
    /// Expected authentic engagements per unit of currency spent on a post.
    pub value: f64,
    pub expected_engagements: f64,
    pub detail: Vec<u8>,
    pub model_version: String,
    pub computed_at: DateTime<Utc>,
}

/// A creator due for rescoring, as read from the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueEntry {
    pub creator_id: i64,
    pub version: i64,
}

/// How far rescoring is behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLag {
    pub pending: u64,
    /// When the oldest pending change was marked.
    pub oldest: Option<DateTime<Utc>>,
}

/// Everything stored about one creator that a score reads.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoringInput {
    pub creator_id: i64,
    pub platform: Platform,
    pub handle: Handle,
    /// `None` while only posts or snapshots named the account.
    pub profile: Option<Profile>,
    /// Newest first.
    pub posts: Vec<Post>,
    /// Oldest first.
    pub snapshots: Vec<MetricSnapshot>,
    pub follower_sample: Vec<FollowerProfile>,
}

/// One member of the scored population, for peer ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationMember {
    pub platform: Platform,
    pub followers: u64,
    pub primary_niche: String,
    pub median_rate: f64,
}

/// The orders search can return creators in; all best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchSort {
    #[default]
    Value,
    Engagement,
    Authenticity,
    Followers,
}

/// Filters and paging of a creator search. Empty lists and `None` do not filter.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchQuery {
    pub platforms: Vec<Platform>,
    pub niches: Vec<String>,
    pub tiers: Vec<Tier>,
    pub min_followers: Option<u64>,
    pub max_followers: Option<u64>,
    pub min_percentile: Option<f64>,
    pub min_authenticity: Option<f64>,
    pub countries: Vec<String>,
    pub languages: Vec<String>,
    pub max_post_price: Option<f64>,
    pub sort: SearchSort,
    /// Resume after this (sort key, creator id), from the last row of the previous page.
    pub after: Option<(f64, i64)>,
    pub limit: u64,
}

/// A search hit: the stored score and the creator it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub score: ScoreRecord,
    pub handle: Handle,
    pub profile: Option<Profile>,
    pub stored_posts: u64,
    pub updated_at: DateTime<Utc>,
}

impl SearchHit {
    /// The value this hit was sorted by.
    pub fn sort_key(&self, sort: SearchSort) -> f64 {
        match sort {
            SearchSort::Value => self.score.value,
            SearchSort::Engagement => self.score.percentile,
            SearchSort::Authenticity => self.score.authenticity,
            SearchSort::Followers => self.score.followers as f64,
        }
    }
}

/// "|food:0.81|travel:0.2|" from niches and confidences.
fn niche_tags(niches: &[(String, f64)]) -> String {
    let mut tags = String::from("|");
    for (niche, confidence) in niches {
        let _ = write!(tags, "{niche}:{confidence}|");
    }
    tags
}

fn parse_niche_tags(tags: &str) -> Result<Vec<(String, f64)>, StoreError> {
    tags.split('|')
        .filter(|t| !t.is_empty())
        .map(|tag| {
            let corrupt = || StoreError::Corrupt(format!("creator_scores.niche_tags: {tag:?}"));
            let (niche, confidence) = tag.split_once(':').ok_or_else(corrupt)?;
            let confidence = confidence.parse::<f64>().map_err(|_| corrupt())?;
            Ok((niche.to_owned(), confidence))
        })
        .collect()
}

fn record_from_row(row: creator_score::Model, detail: Vec<u8>) -> Result<ScoreRecord, StoreError> {
    let niches = parse_niche_tags(&row.niche_tags)?;
    Ok(ScoreRecord {
        creator_id: row.creator_id,
        platform: row
            .platform
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("creator_scores.platform: {e}")))?,
        followers: u64::try_from(row.followers)
            .map_err(|_| StoreError::Corrupt("creator_scores.followers is negative".into()))?,
        tier: row
            .tier
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("creator_scores.tier: {e}")))?,
        country: row.country,
        language: row.language,
        primary_niche: row.primary_niche,
        niches,
        definition_id: row.definition_id,
        median_rate: row.median_rate,
        percentile: row.percentile,
        authenticity: row.authenticity,
        fake_share: row.fake_share,
        post_price: row.post_price,
        value: row.value,
        expected_engagements: row.expected_engagements,
        detail,
        model_version: row.model_version,
        computed_at: row.computed_at,
    })
}

/// A time as the databases keep it (PostgreSQL: microseconds), so that what is written compares
/// equal to what is read back.
fn stored_time(at: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound as _;
    at.trunc_subsecs(6)
}

/// Marks creators as due for rescoring, inside the caller's transaction.
/// What marking a creator already queued does, for the bulk post writers' own statements: only
/// an entry a rescorer has read (claimed) is bumped, as in `mark_dirty`.
macro_rules! mark_again {
    () => {
        "ON CONFLICT (creator_id) DO UPDATE SET version = score_queue.version + 1, \
         claimed = FALSE WHERE score_queue.claimed"
    };
}
pub(crate) use mark_again;

pub(crate) async fn mark_dirty<C: ConnectionTrait>(
    db: &C,
    creator_ids: impl IntoIterator<Item = i64>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut ids: Vec<i64> = creator_ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        // A new mark starts at the time in microseconds and a repeat adds one: a mark made
        // after an earlier one was cleared never has that one's version, so a rescorer still
        // holding the old version cannot clear the new mark.
        let first_version = now.timestamp_micros();
        // Only an entry a rescorer has read (claimed) needs the bump; one still unread is left
        // as it is, since whoever reads it reads this change too (see `claim`).
        score_queue::Entity::insert_many(chunk.iter().map(|id| score_queue::ActiveModel {
            creator_id: Set(*id),
            version: Set(first_version),
            enqueued_at: Set(now),
            claimed: Set(false),
        }))
        .on_conflict(
            OnConflict::column(score_queue::Column::CreatorId)
                .value(
                    score_queue::Column::Version,
                    Expr::cust("score_queue.version + 1"),
                )
                .value(score_queue::Column::Claimed, false)
                .action_and_where(Expr::cust("score_queue.claimed"))
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// `SELECT * FROM (SELECT table.*, ROW_NUMBER() OVER (...) ...) WHERE rn <= limit`: at most
/// `limit` rows per creator, in `order`, for a set of creators, in one statement.
fn latest_per_creator(
    backend: sea_orm::DbBackend,
    table: &str,
    order: &str,
    ids: &[i64],
    limit: u64,
) -> Statement {
    let mut sql = format!(
        "SELECT * FROM (SELECT {table}.*, ROW_NUMBER() OVER (PARTITION BY creator_id ORDER BY {order}) AS row_rank FROM {table} WHERE creator_id IN ("
    );
    for index in 0..ids.len() {
        if index > 0 {
            sql.push_str(", ");
        }
        let _ = write!(sql, "${}", index + 1);
    }
    let _ = write!(sql, ")) AS ranked WHERE row_rank <= ${}", ids.len() + 1);
    let mut values: Vec<Value> = ids.iter().map(|id| Value::from(*id)).collect();
    values.push(Value::from(to_i64(limit)));
    Statement::from_sql_and_values(backend, sql, values)
}

#[derive(Debug, FromQueryResult)]
struct PostCount {
    creator_id: i64,
    posts: i64,
}

/// Stored scores, the rescoring queue and search.
#[derive(Debug)]
pub struct ScoreRepo<'a> {
    pub(crate) db: &'a DatabaseConnection,
}

impl ScoreRepo<'_> {
    /// Marks every stored creator as due for rescoring (after a model change); returns how many.
    pub async fn enqueue_all(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let txn = crate::begin(self.db).await?;
        let mut after = 0_i64;
        let mut total = 0_u64;
        loop {
            let ids: Vec<i64> = creator::Entity::find()
                .select_only()
                .column(creator::Column::Id)
                .filter(creator::Column::Id.gt(after))
                .order_by_asc(creator::Column::Id)
                .limit(ROWS_PER_STATEMENT as u64)
                .into_tuple()
                .all(&txn)
                .await?;
            let Some(last) = ids.last().copied() else {
                break;
            };
            total += ids.len() as u64;
            mark_dirty(&txn, ids, now).await?;
            after = last;
        }
        crate::commit(txn).await?;
        Ok(total)
    }

    /// Up to `limit` creators due for rescoring, oldest change first, marked as read: a change
    /// made from now on bumps the entry's version, so that `finish` leaves it due.
    pub async fn claim(&self, limit: u64) -> Result<Vec<QueueEntry>, StoreError> {
        // The writer of a change locks the entry until it commits, and this update waits for
        // it: the change is then stored before the rescorer reads the creator's data. On
        // PostgreSQL the entries are locked in creator order, the order writers lock them in,
        // so that a claim and a batch of changes never deadlock.
        let backend = self.db.get_database_backend();
        let sql = match backend {
            sea_orm::DbBackend::Postgres => {
                "WITH picked AS (SELECT creator_id FROM score_queue \
                 ORDER BY enqueued_at, creator_id LIMIT $1), \
                 locked AS (SELECT creator_id FROM score_queue \
                 WHERE creator_id IN (SELECT creator_id FROM picked) \
                 ORDER BY creator_id FOR UPDATE) \
                 UPDATE score_queue SET claimed = TRUE \
                 WHERE creator_id IN (SELECT creator_id FROM locked) \
                 RETURNING creator_id, version, enqueued_at"
            }
            _ => {
                "UPDATE score_queue SET claimed = TRUE WHERE creator_id IN \
                 (SELECT creator_id FROM score_queue ORDER BY enqueued_at, creator_id LIMIT $1) \
                 RETURNING creator_id, version, enqueued_at"
            }
        };
        let statement = Statement::from_sql_and_values(backend, sql, [Value::from(to_i64(limit))]);
        let mut rows: Vec<(DateTime<Utc>, QueueEntry)> = Vec::new();
        for row in self.db.query_all_raw(statement).await? {
            rows.push((
                row.try_get("", "enqueued_at")?,
                QueueEntry {
                    creator_id: row.try_get("", "creator_id")?,
                    version: row.try_get("", "version")?,
                },
            ));
        }
        rows.sort_by_key(|(at, entry)| (*at, entry.creator_id));
        Ok(rows.into_iter().map(|(_, entry)| entry).collect())
    }

    /// Clears the entries that were read, unless a newer change bumped them meanwhile.
    pub async fn finish(&self, entries: &[QueueEntry]) -> Result<(), StoreError> {
        if self.db.get_database_backend() == sea_orm::DbBackend::Postgres {
            // Locked in creator order, the order writers lock entries in (no deadlock with a
            // batch of changes); an entry bumped while this waited no longer matches.
            let ids: Vec<i64> = entries.iter().map(|entry| entry.creator_id).collect();
            let versions: Vec<i64> = entries.iter().map(|entry| entry.version).collect();
            sea_orm::sqlx::query(
                "DELETE FROM score_queue WHERE creator_id IN (SELECT q.creator_id \
                 FROM score_queue q JOIN UNNEST($1::int8[], $2::int8[]) AS r(creator_id, version) \
                 ON q.creator_id = r.creator_id AND q.version = r.version \
                 ORDER BY q.creator_id FOR UPDATE OF q)",
            )
            .bind(&ids)
            .bind(&versions)
            .execute(self.db.get_postgres_connection_pool())
            .await
            .map_err(crate::posts::sqlx_error)?;
            return Ok(());
        }
        for chunk in entries.chunks(ROWS_PER_STATEMENT) {
            let mut read = sea_orm::Condition::any();
            for entry in chunk {
                read = read.add(
                    sea_orm::Condition::all()
                        .add(score_queue::Column::CreatorId.eq(entry.creator_id))
                        .add(score_queue::Column::Version.eq(entry.version)),
                );
            }
            score_queue::Entity::delete_many()
                .filter(read)
                .exec(self.db)
                .await?;
        }
        Ok(())
    }

    pub async fn lag(&self) -> Result<QueueLag, StoreError> {
        let (pending, oldest): (i64, Option<DateTime<Utc>>) = score_queue::Entity::find()
            .select_only()
            .column_as(score_queue::Column::CreatorId.count(), "pending")
            .column_as(score_queue::Column::EnqueuedAt.min(), "oldest")
            .into_tuple()
            .one(self.db)
            .await?
            .unwrap_or((0, None));
        Ok(QueueLag {
            pending: u64::try_from(pending).unwrap_or(0),
            oldest,
        })
    }

    /// What is stored about these creators, for scoring: at most `posts` latest posts and
    /// `followers` sampled followers each. Unknown ids are skipped.
    pub async fn load_inputs(
        &self,
        creator_ids: &[i64],
        posts: u64,
        followers: u64,
    ) -> Result<Vec<ScoringInput>, StoreError> {
        let backend = self.db.get_database_backend();
        let mut inputs = Vec::with_capacity(creator_ids.len());
        for ids in creator_ids.chunks(ROWS_PER_STATEMENT) {
            let creators = creator::Entity::find()
                .filter(creator::Column::Id.is_in(ids.iter().copied()))
                .order_by_asc(creator::Column::Id)
                .all(self.db)
                .await?;
            let mut posts_by: HashMap<i64, Vec<Post>> = HashMap::new();
            for row in post::Entity::find()
                .from_raw_sql(latest_per_creator(
                    backend,
                    "posts",
                    "posted_at DESC, external_id ASC",
                    ids,
                    posts,
                ))
                .all(self.db)
                .await?
            {
                posts_by
                    .entry(row.creator_id)
                    .or_default()
                    .push(post_from_row(&row)?);
            }
            let mut snapshots_by: HashMap<i64, Vec<MetricSnapshot>> = HashMap::new();
            for row in metric_snapshot::Entity::find()
                .filter(metric_snapshot::Column::CreatorId.is_in(ids.iter().copied()))
                .order_by_asc(metric_snapshot::Column::CreatorId)
                .order_by_asc(metric_snapshot::Column::ObservedAt)
                .all(self.db)
                .await?
            {
                snapshots_by
                    .entry(row.creator_id)
                    .or_default()
                    .push(snapshot_from_row(&row)?);
            }
            let mut followers_by: HashMap<i64, Vec<FollowerProfile>> = HashMap::new();
            for row in follower_sample::Entity::find()
                .from_raw_sql(latest_per_creator(
                    backend,
                    "follower_samples",
                    "updated_at DESC, follower_id ASC",
                    ids,
                    followers,
                ))
                .all(self.db)
                .await?
            {
                followers_by
                    .entry(row.creator_id)
                    .or_default()
                    .push(follower_from_row(&row)?);
            }
            for row in creators {
                let (platform, handle) = parse_key(&row)?;
                let mut posts = posts_by.remove(&row.id).unwrap_or_default();
                posts.sort_by(|a, b| {
                    b.posted_at
                        .cmp(&a.posted_at)
                        .then_with(|| a.external_id.cmp(&b.external_id))
                });
                inputs.push(ScoringInput {
                    creator_id: row.id,
                    profile: profile_from_row(&row, platform, handle.clone())?,
                    platform,
                    handle,
                    posts,
                    snapshots: snapshots_by.remove(&row.id).unwrap_or_default(),
                    follower_sample: followers_by.remove(&row.id).unwrap_or_default(),
                });
            }
        }
        Ok(inputs)
    }

    /// Stores scores, replacing the creators' previous ones unless those were computed later
    /// (by another rescorer that read newer data), and removes the scores of `unscorable`
    /// creators (their data no longer allows a score).
    pub async fn save(
        &self,
        records: &[ScoreRecord],
        unscorable: &[i64],
    ) -> Result<(), StoreError> {
        if records.is_empty() && unscorable.is_empty() {
            return Ok(());
        }
        let mut sorted: Vec<&ScoreRecord> = records.iter().collect();
        sorted.sort_by_key(|r| r.creator_id);
        sorted.dedup_by_key(|r| r.creator_id);
        let txn = crate::begin(self.db).await?;
        // Large blobs: fewer rows per statement than the bind-variable limit alone allows.
        for chunk in sorted.chunks(100) {
            creator_score::Entity::insert_many(chunk.iter().map(|r| creator_score::ActiveModel {
                creator_id: Set(r.creator_id),
                platform: Set(r.platform.as_str().to_owned()),
                followers: Set(to_i64(r.followers)),
                tier: Set(r.tier.as_str().to_owned()),
                country: Set(r.country.clone()),
                language: Set(r.language.clone()),
                primary_niche: Set(r.primary_niche.clone()),
                niche_tags: Set(niche_tags(&r.niches)),
                definition_id: Set(r.definition_id.clone()),
                median_rate: Set(r.median_rate),
                percentile: Set(r.percentile),
                authenticity: Set(r.authenticity),
                fake_share: Set(r.fake_share),
                post_price: Set(r.post_price),
                value: Set(r.value),
                expected_engagements: Set(r.expected_engagements),
                model_version: Set(r.model_version.clone()),
                computed_at: Set(stored_time(r.computed_at)),
            }))
            .on_conflict(
                OnConflict::column(creator_score::Column::CreatorId)
                    .update_columns([
                        creator_score::Column::Platform,
                        creator_score::Column::Followers,
                        creator_score::Column::Tier,
                        creator_score::Column::Country,
                        creator_score::Column::Language,
                        creator_score::Column::PrimaryNiche,
                        creator_score::Column::NicheTags,
                        creator_score::Column::DefinitionId,
                        creator_score::Column::MedianRate,
                        creator_score::Column::Percentile,
                        creator_score::Column::Authenticity,
                        creator_score::Column::FakeShare,
                        creator_score::Column::PostPrice,
                        creator_score::Column::Value,
                        creator_score::Column::ExpectedEngagements,
                        creator_score::Column::ModelVersion,
                        creator_score::Column::ComputedAt,
                    ])
                    .action_and_where(Expr::cust(
                        "excluded.computed_at >= creator_scores.computed_at",
                    ))
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
            // The detail follows the row: written where the row now holds this computation.
            let ids: Vec<i64> = chunk.iter().map(|r| r.creator_id).collect();
            let current: Vec<(i64, DateTime<Utc>)> = creator_score::Entity::find()
                .select_only()
                .column(creator_score::Column::CreatorId)
                .column(creator_score::Column::ComputedAt)
                .filter(creator_score::Column::CreatorId.is_in(ids))
                .into_tuple()
                .all(&txn)
                .await?;
            let current: HashMap<i64, DateTime<Utc>> = current.into_iter().collect();
            let details: Vec<score_detail::ActiveModel> = chunk
                .iter()
                .filter(|r| current.get(&r.creator_id) == Some(&stored_time(r.computed_at)))
                .map(|r| score_detail::ActiveModel {
                    creator_id: Set(r.creator_id),
                    detail: Set(r.detail.clone()),
                })
                .collect();
            if !details.is_empty() {
                score_detail::Entity::insert_many(details)
                    .on_conflict(
                        OnConflict::column(score_detail::Column::CreatorId)
                            .update_column(score_detail::Column::Detail)
                            .to_owned(),
                    )
                    .exec_without_returning(&txn)
                    .await?;
            }
        }
        for chunk in unscorable.chunks(ROWS_PER_STATEMENT) {
            score_detail::Entity::delete_many()
                .filter(score_detail::Column::CreatorId.is_in(chunk.iter().copied()))
                .exec(&txn)
                .await?;
            creator_score::Entity::delete_many()
                .filter(creator_score::Column::CreatorId.is_in(chunk.iter().copied()))
                .exec(&txn)
                .await?;
        }
        crate::commit(txn).await?;
        Ok(())
    }

    async fn details_of(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<u8>>, StoreError> {
        Ok(score_detail::Entity::find()
            .filter(score_detail::Column::CreatorId.is_in(ids.iter().copied()))
            .all(self.db)
            .await?
            .into_iter()
            .map(|row| (row.creator_id, row.detail))
            .collect())
    }

    /// Whether a creator waits to be rescored (its data changed since its stored score).
    pub async fn is_queued(&self, creator_id: i64) -> Result<bool, StoreError> {
        Ok(score_queue::Entity::find_by_id(creator_id)
            .one(self.db)
            .await?
            .is_some())
    }

    /// The encoded stored score of a creator, if it has one.
    pub async fn detail(&self, creator_id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.details_of(&[creator_id]).await?.remove(&creator_id))
    }

    /// The stored scores of these creators, by creator id (two queries per 500).
    pub async fn records_of(
        &self,
        creator_ids: &[i64],
    ) -> Result<HashMap<i64, ScoreRecord>, StoreError> {
        let mut records = HashMap::with_capacity(creator_ids.len());
        for chunk in creator_ids.chunks(500) {
            let mut details = self.details_of(chunk).await?;
            for row in creator_score::Entity::find()
                .filter(creator_score::Column::CreatorId.is_in(chunk.to_vec()))
                .all(self.db)
                .await?
            {
                let id = row.creator_id;
                let detail = details.remove(&id).unwrap_or_default();
                records.insert(id, record_from_row(row, detail)?);
            }
        }
        Ok(records)
    }

    /// A creator's stored score.
    pub async fn get(&self, creator_id: i64) -> Result<Option<ScoreRecord>, StoreError> {
        let Some(row) = creator_score::Entity::find_by_id(creator_id)
            .one(self.db)
            .await?
        else {
            return Ok(None);
        };
        let detail = self
            .details_of(&[creator_id])
            .await?
            .remove(&creator_id)
            .unwrap_or_default();
        record_from_row(row, detail).map(Some)
    }

    /// The scored population under the given engagement definitions, for peer ranking.
    pub async fn population(
        &self,
        definition_ids: &[String],
    ) -> Result<Vec<PopulationMember>, StoreError> {
        let rows: Vec<(String, i64, String, f64)> = creator_score::Entity::find()
            .select_only()
            .column(creator_score::Column::Platform)
            .column(creator_score::Column::Followers)
            .column(creator_score::Column::PrimaryNiche)
            .column(creator_score::Column::MedianRate)
            .filter(creator_score::Column::DefinitionId.is_in(definition_ids.iter().cloned()))
            .into_tuple()
            .all(self.db)
            .await?;
        rows.into_iter()
            .map(|(platform, followers, primary_niche, median_rate)| {
                Ok(PopulationMember {
                    platform: platform.parse().map_err(|e| {
                        StoreError::Corrupt(format!("creator_scores.platform: {e}"))
                    })?,
                    followers: u64::try_from(followers).unwrap_or(0),
                    primary_niche,
                    median_rate,
                })
            })
            .collect()
    }

    /// Scored creators matching `query`, best first by its sort, at most `query.limit`.
    pub async fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>, StoreError> {
        use creator_score::Column as C;
        let column = match query.sort {
            SearchSort::Value => C::Value,
            SearchSort::Engagement => C::Percentile,
            SearchSort::Authenticity => C::Authenticity,
            SearchSort::Followers => C::Followers,
        };
        let mut select = creator_score::Entity::find();
        if !query.platforms.is_empty() {
            select = select.filter(C::Platform.is_in(query.platforms.iter().map(|p| p.as_str())));
        }
        if !query.tiers.is_empty() {
            select = select.filter(C::Tier.is_in(query.tiers.iter().map(|t| t.as_str())));
        }
        if let Some(min) = query.min_followers {
            select = select.filter(C::Followers.gte(to_i64(min)));
        }
        if let Some(max) = query.max_followers {
            select = select.filter(C::Followers.lte(to_i64(max)));
        }
        if let Some(min) = query.min_percentile {
            select = select.filter(C::Percentile.gte(min));
        }
        if let Some(min) = query.min_authenticity {
            select = select.filter(C::Authenticity.gte(min));
        }
        if !query.countries.is_empty() {
            select = select.filter(C::Country.is_in(query.countries.iter().cloned()));
        }
        if !query.languages.is_empty() {
            select = select.filter(C::Language.is_in(query.languages.iter().cloned()));
        }
        if let Some(max) = query.max_post_price {
            select = select.filter(C::PostPrice.lte(max));
        }
        if !query.niches.is_empty() {
            // Walked in sort order, each row is tested until the page is full (see the
            // migration on `niche_tags`).
            let contains = match self.db.get_database_backend() {
                // PostgreSQL custom expressions number their values; SQLite ones use "?".
                sea_orm::DbBackend::Postgres => "strpos(creator_scores.niche_tags, $1) > 0",
                _ => "instr(creator_scores.niche_tags, ?) > 0",
            };
            let mut any = sea_orm::Condition::any();
            for niche in &query.niches {
                any = any.add(Expr::cust_with_values(contains, [format!("|{niche}:")]));
            }
            select = select.filter(any);
        }
        if let Some((key, id)) = query.after {
            let key_value: Value = if query.sort == SearchSort::Followers {
                Value::from(key as i64)
            } else {
                Value::from(key)
            };
            select = select.filter(
                sea_orm::Condition::any()
                    .add(column.lt(key_value.clone()))
                    .add(
                        sea_orm::Condition::all()
                            .add(column.eq(key_value))
                            .add(C::CreatorId.lt(id)),
                    ),
            );
        }
        let rows = select
            .order_by(column, Order::Desc)
            .order_by(C::CreatorId, Order::Desc)
            .limit(query.limit)
            .all(self.db)
            .await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.creator_id).collect();
        let mut details = self.details_of(&ids).await?;
        let creators: HashMap<i64, creator::Model> = creator::Entity::find()
            .filter(creator::Column::Id.is_in(ids.iter().copied()))
            .all(self.db)
            .await?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
        let counts: HashMap<i64, i64> = post::Entity::find()
            .select_only()
            .column(post::Column::CreatorId)
            .column_as(post::Column::Id.count(), "posts")
            .filter(post::Column::CreatorId.is_in(ids.iter().copied()))
            .group_by(post::Column::CreatorId)
            .into_model::<PostCount>()
            .all(self.db)
            .await?
            .into_iter()
            .map(|c| (c.creator_id, c.posts))
            .collect();
        let mut hits = Vec::with_capacity(rows.len());
        for row in rows {
            let id = row.creator_id;
            let creator = creators
                .get(&id)
                .ok_or_else(|| StoreError::Corrupt(format!("score of unknown creator {id}")))?;
            let (platform, handle) = parse_key(creator)?;
            hits.push(SearchHit {
                score: record_from_row(row, details.remove(&id).unwrap_or_default())?,
                profile: profile_from_row(creator, platform, handle.clone())?,
                handle,
                stored_posts: counts
                    .get(&id)
                    .map_or(0, |c| u64::try_from(*c).unwrap_or(0)),
                updated_at: creator.updated_at,
            });
        }
        Ok(hits)
    }
}
