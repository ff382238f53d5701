//! Ingestion jobs and the dead-letter store.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, ExprTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::StoreError;
use crate::brands::BrandId;
use crate::entity::{dead_letter, ingest_job};

/// The longest payload kept for a dead letter; longer ones are cut (the position still says
/// where the record was).
pub const MAX_DEAD_LETTER_PAYLOAD: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Running,
    Succeeded,
    Failed,
}

impl JobState {
    fn as_str(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
        }
    }

    fn parse(raw: &str) -> Result<Self, StoreError> {
        match raw {
            "running" => Ok(JobState::Running),
            "succeeded" => Ok(JobState::Succeeded),
            "failed" => Ok(JobState::Failed),
            other => Err(StoreError::Corrupt(format!("ingest_jobs.state: {other:?}"))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
}

impl JobCounts {
    pub fn total(&self) -> u64 {
        self.created + self.updated + self.unchanged + self.rejected
    }
}

impl std::ops::AddAssign for JobCounts {
    fn add_assign(&mut self, other: Self) {
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.rejected += other.rejected;
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredJob {
    pub id: String,
    pub request_id: Option<String>,
    pub source: String,
    pub state: JobState,
    pub counts: JobCounts,
    pub failure: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A rejected record to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterInput {
    pub source: String,
    pub position: String,
    pub field: String,
    pub reason: String,
    pub payload: String,
    /// For sources that may deliver the same record again: a letter whose key is already
    /// stored is skipped.
    pub dedupe_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDeadLetter {
    pub id: i64,
    pub job_id: Option<String>,
    pub source: String,
    pub position: String,
    pub field: String,
    pub reason: String,
    pub payload: String,
    pub created_at: DateTime<Utc>,
}

fn count(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn job_from_row(row: ingest_job::Model) -> Result<StoredJob, StoreError> {
    let counts = JobCounts {
        created: u64::try_from(row.created).unwrap_or_default(),
        updated: u64::try_from(row.updated).unwrap_or_default(),
        unchanged: u64::try_from(row.unchanged).unwrap_or_default(),
        rejected: u64::try_from(row.rejected).unwrap_or_default(),
    };
    // A brand's request id is kept as "{brand}:{request_id}".
    let request_id = match (row.brand_id, row.request_id) {
        (Some(brand), Some(rid)) => Some(
            rid.strip_prefix(&format!("{brand}:"))
                .map(str::to_owned)
                .unwrap_or(rid),
        ),
        (_, rid) => rid,
    };
    Ok(StoredJob {
        state: JobState::parse(&row.state)?,
        id: row.id,
        request_id,
        source: row.source,
        counts,
        failure: row.failure,
        started_at: row.started_at,
        finished_at: row.finished_at,
    })
}

/// PostgreSQL text cannot hold NUL; a dead letter must be storable whatever it carries.
fn storable(text: &str) -> String {
    text.replace('\0', "\u{fffd}")
}

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[derive(Debug)]
pub struct IngestRepo<'a> {
    db: &'a DatabaseConnection,
}

impl<'a> IngestRepo<'a> {
    pub(crate) fn new(db: &'a DatabaseConnection) -> Self {
        Self { db }
    }

    /// Starts a job. With a `request_id` already used, returns that job instead (AIP-155), and
    /// `false` as the second value.
    /// A brand's request ids are its own: they are kept as "{brand}:{request_id}".
    pub async fn start_job(
        &self,
        id: &str,
        request_id: Option<&str>,
        brand: Option<BrandId>,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<(StoredJob, bool), StoreError> {
        let request_id = request_id.map(|rid| match brand {
            Some(brand) => format!("{}:{rid}", brand.0),
            None => rid.to_owned(),
        });
        let request_id = request_id.as_deref();
        let model = ingest_job::ActiveModel {
            id: Set(id.to_owned()),
            brand_id: Set(brand.map(|b| b.0)),
            request_id: Set(request_id.map(str::to_owned)),
            source: Set(source.to_owned()),
            state: Set(JobState::Running.as_str().to_owned()),
            created: Set(0),
            updated: Set(0),
            unchanged: Set(0),
            rejected: Set(0),
            failure: Set(None),
            started_at: Set(now),
            finished_at: Set(None),
        };
        let inserted = ingest_job::Entity::insert(model)
            .on_conflict(
                OnConflict::column(ingest_job::Column::RequestId)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(self.db)
            .await?;
        let row = match request_id {
            Some(request_id) if inserted == 0 => {
                ingest_job::Entity::find()
                    .filter(ingest_job::Column::RequestId.eq(request_id))
                    .one(self.db)
                    .await?
            }
            _ => {
                ingest_job::Entity::find_by_id(id.to_owned())
                    .one(self.db)
                    .await?
            }
        };
        let row = row
            .ok_or_else(|| StoreError::Corrupt(format!("ingest job {id} vanished after insert")))?;
        Ok((job_from_row(row)?, inserted == 1))
    }

    /// Adds counts to a running job.
    pub async fn add_counts(&self, id: &str, counts: JobCounts) -> Result<(), StoreError> {
        use sea_orm::sea_query::Expr;
        ingest_job::Entity::update_many()
            .col_expr(
                ingest_job::Column::Created,
                Expr::col(ingest_job::Column::Created).add(count(counts.created)),
            )
            .col_expr(
                ingest_job::Column::Updated,
                Expr::col(ingest_job::Column::Updated).add(count(counts.updated)),
            )
            .col_expr(
                ingest_job::Column::Unchanged,
                Expr::col(ingest_job::Column::Unchanged).add(count(counts.unchanged)),
            )
            .col_expr(
                ingest_job::Column::Rejected,
                Expr::col(ingest_job::Column::Rejected).add(count(counts.rejected)),
            )
            .filter(ingest_job::Column::Id.eq(id))
            .exec(self.db)
            .await?;
        Ok(())
    }

    pub async fn finish_job(
        &self,
        id: &str,
        state: JobState,
        failure: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredJob>, StoreError> {
        use sea_orm::sea_query::Expr;
        ingest_job::Entity::update_many()
            .col_expr(ingest_job::Column::State, Expr::value(state.as_str()))
            .col_expr(
                ingest_job::Column::Failure,
                Expr::value(failure.map(str::to_owned)),
            )
            .col_expr(ingest_job::Column::FinishedAt, Expr::value(now))
            .filter(ingest_job::Column::Id.eq(id))
            .exec(self.db)
            .await?;
        self.get_job(id, None).await
    }

    /// A job; with a brand, only that brand's.
    pub async fn get_job(
        &self,
        id: &str,
        brand: Option<BrandId>,
    ) -> Result<Option<StoredJob>, StoreError> {
        let mut query = ingest_job::Entity::find_by_id(id.to_owned());
        if let Some(brand) = brand {
            query = query.filter(ingest_job::Column::BrandId.eq(brand.0));
        }
        query.one(self.db).await?.map(job_from_row).transpose()
    }

    /// Jobs newest first (with a brand, only that brand's); `after` is the id of the last job
    /// of the previous page.
    pub async fn list_jobs(
        &self,
        brand: Option<BrandId>,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<StoredJob>, StoreError> {
        let mut query = ingest_job::Entity::find()
            .order_by_desc(ingest_job::Column::Id)
            .limit(limit);
        if let Some(brand) = brand {
            query = query.filter(ingest_job::Column::BrandId.eq(brand.0));
        }
        if let Some(after) = after {
            query = query.filter(ingest_job::Column::Id.lt(after));
        }
        query
            .all(self.db)
            .await?
            .into_iter()
            .map(job_from_row)
            .collect()
    }

    pub async fn add_dead_letters(
        &self,
        job_id: Option<&str>,
        brand: Option<BrandId>,
        letters: Vec<DeadLetterInput>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if letters.is_empty() {
            return Ok(());
        }
        for chunk in letters.chunks(500) {
            let models = chunk.iter().map(|letter| dead_letter::ActiveModel {
                job_id: Set(job_id.map(str::to_owned)),
                brand_id: Set(brand.map(|b| b.0)),
                source: Set(storable(&letter.source)),
                position: Set(truncate(storable(&letter.position), 64)),
                field: Set(storable(&letter.field)),
                reason: Set(storable(&letter.reason)),
                payload: Set(truncate(storable(&letter.payload), MAX_DEAD_LETTER_PAYLOAD)),
                created_at: Set(now),
                dedupe_key: Set(letter.dedupe_key.as_ref().map(|k| truncate(k.clone(), 200))),
                ..Default::default()
            });
            dead_letter::Entity::insert_many(models)
                .on_conflict(
                    OnConflict::column(dead_letter::Column::DedupeKey)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(self.db)
                .await?;
        }
        Ok(())
    }

    /// Dead letters oldest first, of one job or of all (with a brand, only that brand's);
    /// `after` is the last id of the previous page.
    pub async fn list_dead_letters(
        &self,
        brand: Option<BrandId>,
        job_id: Option<&str>,
        after: Option<i64>,
        limit: u64,
    ) -> Result<Vec<StoredDeadLetter>, StoreError> {
        let mut query = dead_letter::Entity::find()
            .order_by_asc(dead_letter::Column::Id)
            .limit(limit);
        if let Some(job_id) = job_id {
            query = query.filter(dead_letter::Column::JobId.eq(job_id));
        }
        if let Some(brand) = brand {
            query = query.filter(dead_letter::Column::BrandId.eq(brand.0));
        }
        if let Some(after) = after {
            query = query.filter(dead_letter::Column::Id.gt(after));
        }
        Ok(query
            .all(self.db)
            .await?
            .into_iter()
            .map(|row| StoredDeadLetter {
                id: row.id,
                job_id: row.job_id,
                source: row.source,
                position: row.position,
                field: row.field,
                reason: row.reason,
                payload: row.payload,
                created_at: row.created_at,
            })
            .collect())
    }
}

impl IngestRepo<'_> {
    /// How many dead letters are stored, for metrics.
    pub async fn count_dead_letters(&self) -> Result<u64, StoreError> {
        use sea_orm::PaginatorTrait as _;
        Ok(crate::entity::dead_letter::Entity::find()
            .count(self.db)
            .await?)
    }
}
