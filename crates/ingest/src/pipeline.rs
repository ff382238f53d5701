//! Applying batches of records to the store: valid records are upserted (profiles first, so
//! a batch's order does not matter), invalid ones are dead-lettered with their position.

use chrono::{DateTime, Utc};
use resonance_core::campaign::report::Conversion;
use resonance_core::{
    AudienceSketch, FollowerProfile, Handle, MetricSnapshot, Platform, Profile, ValidationError,
};
use resonance_store::{
    BrandId, DeadLetterInput, GroupCommit, JobCounts, PreparedPosts, Store, StoreError,
    WriteOutcome,
};

use crate::record::IngestRecord;

/// What happened to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    Rejected,
}

impl From<WriteOutcome> for Outcome {
    fn from(outcome: WriteOutcome) -> Self {
        match outcome {
            WriteOutcome::Created => Outcome::Created,
            WriteOutcome::Updated => Outcome::Updated,
            WriteOutcome::Unchanged => Outcome::Unchanged,
        }
    }
}

/// One record of a batch, parsed or not.
#[derive(Debug)]
pub struct Item {
    /// Where it came from: "line 12", "record 3".
    pub position: String,
    pub parsed: Result<IngestRecord, ValidationError>,
    /// The record as received, kept with a dead letter.
    pub payload: String,
}

/// A rejected record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub index: usize,
    pub position: String,
    pub field: String,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct BatchResult {
    pub outcomes: Vec<Outcome>,
    pub rejections: Vec<Rejection>,
    pub counts: JobCounts,
}

/// A record that will not be stored: invalid, or refused by the database.
#[derive(Debug)]
struct Refusal {
    index: usize,
    field: String,
    /// Kept with the dead letter.
    reason: String,
    /// Told to the caller.
    message: String,
}

/// A batch sorted by kind of record, ready to be written: the first step of applying it,
/// plain work on the records in memory. A bulk import sorts each batch on its reader
/// thread, while the batch before is being written, rather than between two writes.
#[derive(Debug)]
pub struct Sorted {
    len: usize,
    /// Where each source position's records start: a CSV row may carry a profile and its
    /// snapshot, and is one thing to the user (counts are per position).
    unit_starts: Vec<usize>,
    profiles: Vec<Profile>,
    profile_at: Vec<usize>,
    snapshots: Vec<(Platform, Handle, MetricSnapshot)>,
    snapshot_at: Vec<usize>,
    /// Converted for the writers here, beside the write of the batch before.
    posts: PreparedPosts,
    post_at: Vec<usize>,
    samples: Vec<(Platform, Handle, Vec<FollowerProfile>)>,
    sample_at: Vec<usize>,
    audiences: Vec<(Platform, Handle, AudienceSketch)>,
    audience_at: Vec<usize>,
    conversions: Vec<Conversion>,
    conversion_at: Vec<usize>,
    /// Where each record came from, kept for the dead letter should it be rejected.
    origins: Vec<(String, String)>,
    /// The invalid records.
    refusals: Vec<Refusal>,
}

impl Sorted {
    pub fn new(items: Vec<Item>) -> Self {
        let len = items.len();
        let mut unit_starts = Vec::with_capacity(len);
        // Posts are counted first: a batch of a bulk import is mostly posts, and growing their
        // vector would copy them again.
        let mut post_count = 0;
        for (index, item) in items.iter().enumerate() {
            if index == 0 || items[index - 1].position != item.position {
                unit_starts.push(index);
            }
            post_count += usize::from(matches!(item.parsed, Ok(IngestRecord::Post(..))));
        }
        let mut posts = Vec::with_capacity(post_count);
        let mut sorted = Sorted {
            len,
            unit_starts,
            profiles: Vec::new(),
            profile_at: Vec::new(),
            snapshots: Vec::new(),
            snapshot_at: Vec::new(),
            posts: PreparedPosts::default(),
            post_at: Vec::with_capacity(post_count),
            samples: Vec::new(),
            sample_at: Vec::new(),
            audiences: Vec::new(),
            audience_at: Vec::new(),
            conversions: Vec::new(),
            conversion_at: Vec::new(),
            origins: Vec::with_capacity(len),
            refusals: Vec::new(),
        };
        for (index, item) in items.into_iter().enumerate() {
            sorted.origins.push((item.position, item.payload));
            match item.parsed {
                Ok(IngestRecord::Profile(profile)) => {
                    sorted.profiles.push(profile);
                    sorted.profile_at.push(index);
                }
                Ok(IngestRecord::Snapshot(platform, handle, snapshot)) => {
                    sorted.snapshots.push((platform, handle, snapshot));
                    sorted.snapshot_at.push(index);
                }
                Ok(IngestRecord::Post(platform, handle, post, observed_at)) => {
                    posts.push((platform, handle, post, observed_at));
                    sorted.post_at.push(index);
                }
                Ok(IngestRecord::FollowerSample(platform, handle, followers)) => {
                    sorted.samples.push((platform, handle, followers));
                    sorted.sample_at.push(index);
                }
                Ok(IngestRecord::Audience(platform, handle, sketch)) => {
                    sorted.audiences.push((platform, handle, sketch));
                    sorted.audience_at.push(index);
                }
                Ok(IngestRecord::Conversion(conversion)) => {
                    sorted.conversions.push(conversion);
                    sorted.conversion_at.push(index);
                }
                Err(error) => sorted.refusals.push(Refusal {
                    index,
                    field: error.field,
                    reason: error.message.clone(),
                    message: error.message,
                }),
            }
        }
        sorted.posts = PreparedPosts::new(posts);
        sorted
    }
}

/// Applies batches for one job.
#[derive(Debug, Clone)]
pub struct Pipeline {
    store: Store,
    /// The brand conversions are stored for; without one they are refused.
    brand: Option<BrandId>,
    /// For redelivering sources: what makes a position unique, beyond the source's name.
    dead_letter_generation: Option<String>,
}

impl Pipeline {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            brand: None,
            dead_letter_generation: None,
        }
    }

    /// Stores conversions for `brand` (a brand's data; other records are shared).
    pub fn for_brand(mut self, brand: Option<BrandId>) -> Self {
        self.brand = brand;
        self
    }

    /// For sources that redeliver (a message queue): each dead letter is keyed by its source,
    /// `generation` (what tells apart two lives of the source, such as a stream's creation
    /// time) and position, so a redelivered rejection is kept once.
    pub fn with_keyed_dead_letters(mut self, generation: impl Into<String>) -> Self {
        self.dead_letter_generation = Some(generation.into());
        self
    }

    /// The dead-letter key of a position, for redelivering sources.
    pub fn dead_letter_key(&self, source: &str, position: &str) -> Option<String> {
        self.dead_letter_generation
            .as_ref()
            .map(|generation| format!("{source}@{generation}#{position}"))
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Applies a batch and commits it.
    pub async fn apply(
        &self,
        job_id: Option<&str>,
        source: &str,
        items: Vec<Item>,
        now: DateTime<Utc>,
    ) -> Result<BatchResult, StoreError> {
        self.apply_in(None, job_id, source, Sorted::new(items), now)
            .await
    }

    /// Applies a batch of a bulk import, already sorted (see [`Sorted`]): its posts and
    /// counts join `group`'s transaction and hold once the group commits (see
    /// [`GroupCommit`]); anything else the batch holds commits the group first and is written
    /// at once.
    pub async fn apply_grouped(
        &self,
        group: &mut GroupCommit,
        job_id: Option<&str>,
        source: &str,
        batch: Sorted,
        now: DateTime<Utc>,
    ) -> Result<BatchResult, StoreError> {
        self.apply_in(Some(group), job_id, source, batch, now).await
    }

    async fn apply_in(
        &self,
        mut group: Option<&mut GroupCommit>,
        job_id: Option<&str>,
        source: &str,
        batch: Sorted,
        now: DateTime<Utc>,
    ) -> Result<BatchResult, StoreError> {
        let Sorted {
            len,
            unit_starts,
            profiles,
            profile_at,
            snapshots,
            snapshot_at,
            posts,
            post_at,
            samples,
            sample_at,
            audiences,
            audience_at,
            mut conversions,
            mut conversion_at,
            mut origins,
            mut refusals,
        } = batch;
        // None until the record is written or rejected; one left None is a bug, reported as
        // an error rather than a silently lost record.
        let mut outcomes: Vec<Option<Outcome>> = vec![None; len];
        if self.brand.is_none() {
            refusals.extend(conversion_at.drain(..).map(|index| Refusal {
                index,
                field: "conversion".to_owned(),
                reason: NO_BRAND.to_owned(),
                message: NO_BRAND.to_owned(),
            }));
            conversions.clear();
        }

        // A record the database refuses (a constraint the validation did not foresee) is
        // dead-lettered like an invalid one; the rest of the batch is still stored.
        let creators = self.store.creators();
        let mut refused = Vec::new();
        // Written through the pool: the group's open transaction would keep them waiting.
        let others = !(profiles.is_empty()
            && snapshots.is_empty()
            && samples.is_empty()
            && audiences.is_empty()
            && conversions.is_empty());
        if let Some(group) = group.as_deref_mut()
            && others
        {
            group.commit().await?;
        }
        write_each!(
            creators.upsert_profiles(profiles, profile_at, now),
            outcomes,
            refused
        );
        write_each!(
            creators.upsert_snapshots(snapshots, snapshot_at, now),
            outcomes,
            refused
        );
        match group.as_deref_mut() {
            Some(group) => write_each!(
                group.upsert_prepared(posts, post_at, now),
                outcomes,
                refused
            ),
            None => write_each!(
                creators.upsert_prepared(posts, post_at, now),
                outcomes,
                refused
            ),
        }
        write_each!(
            creators.upsert_follower_samples(samples, sample_at, now),
            outcomes,
            refused
        );
        write_each!(
            creators.merge_audiences(audiences, audience_at, now),
            outcomes,
            refused
        );
        if let Some(brand) = self.brand {
            let brand_conversions = BrandConversions {
                store: &self.store,
                brand,
            };
            write_each!(
                brand_conversions.upsert(conversions, conversion_at, now),
                outcomes,
                refused
            );
        }
        refusals.extend(refused.into_iter().map(|(index, error)| {
            tracing::warn!(position = %origins[index].0, %error, "the database refused a record; dead-lettered");
            Refusal {
                index,
                field: String::new(),
                reason: format!("the database refused it: {error}"),
                message: "could not be stored: the database refused it (see the dead letter)"
                    .to_owned(),
            }
        }));
        refusals.sort_by_key(|r| r.index);
        let mut rejections = Vec::with_capacity(refusals.len());
        let mut letters = Vec::with_capacity(refusals.len());
        for refusal in refusals {
            outcomes[refusal.index] = Some(Outcome::Rejected);
            let (position, payload) = std::mem::take(&mut origins[refusal.index]);
            letters.push(DeadLetterInput {
                dedupe_key: self.dead_letter_key(source, &position),
                source: source.to_owned(),
                position: position.clone(),
                field: refusal.field.clone(),
                reason: refusal.reason,
                payload,
            });
            rejections.push(Rejection {
                index: refusal.index,
                position,
                field: refusal.field,
                message: refusal.message,
            });
        }
        if let Some(group) = group.as_deref_mut()
            && !letters.is_empty()
        {
            group.commit().await?;
        }
        self.store
            .ingest()
            .add_dead_letters(job_id, self.brand, letters, now)
            .await?;

        let outcomes: Vec<Outcome> = outcomes
            .into_iter()
            .enumerate()
            .map(|(index, outcome)| {
                outcome.ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "record {index} of the batch was neither written nor rejected"
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        let mut counts = JobCounts::default();
        let unit_ends = unit_starts.iter().skip(1).copied().chain([outcomes.len()]);
        for (start, end) in unit_starts.iter().copied().zip(unit_ends) {
            match unit_outcome(&outcomes[start..end]) {
                Outcome::Created => counts.created += 1,
                Outcome::Updated => counts.updated += 1,
                Outcome::Unchanged => counts.unchanged += 1,
                Outcome::Rejected => counts.rejected += 1,
            }
        }
        if let Some(job_id) = job_id {
            match group {
                Some(group) => group.add_counts(job_id, counts).await?,
                None => self.store.ingest().add_counts(job_id, counts).await?,
            }
        }
        crate::metrics::batch(&counts, rejections.len());
        Ok(BatchResult {
            outcomes,
            rejections,
            counts,
        })
    }
}

/// Why a conversion without a brand is refused.
const NO_BRAND: &str = "conversions belong to a brand: push them with the brand's API key, or import them with --brand";

/// A brand's conversions, written the way `write_each!` writes the shared records.
struct BrandConversions<'a> {
    store: &'a Store,
    brand: BrandId,
}

impl BrandConversions<'_> {
    async fn upsert(
        &self,
        conversions: &[Conversion],
        now: DateTime<Utc>,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        self.store
            .campaigns()
            .upsert_conversions(self.brand, conversions, now)
            .await
    }
}

/// The outcome of the records of one source position: rejected if any was; otherwise the
/// first that changed something (the profile of a row before its snapshot); otherwise
/// unchanged.
fn unit_outcome(outcomes: &[Outcome]) -> Outcome {
    if outcomes.contains(&Outcome::Rejected) {
        return Outcome::Rejected;
    }
    outcomes
        .iter()
        .copied()
        .find(|outcome| *outcome != Outcome::Unchanged)
        .unwrap_or(Outcome::Unchanged)
}

/// Writes one kind of record with `$repo.$upsert`; if the database refuses the batch, writes
/// its records one by one and collects the refused ones (by item index) in `$refused` instead
/// of failing the batch. An unavailable database still fails the batch, to be retried whole.
/// (A macro: an async closure over the repository is not `Send` for tonic's handlers.)
macro_rules! write_each {
    ($repo:ident.$upsert:ident($records:ident, $at:ident, $now:ident), $outcomes:ident, $refused:ident) => {
        if !$records.is_empty() {
            match $repo.$upsert(&$records, $now).await {
                Ok(written) => {
                    for (index, outcome) in $at.iter().zip(written) {
                        $outcomes[*index] = Some(outcome.into());
                    }
                }
                Err(StoreError::Refused(error)) => {
                    tracing::warn!(%error, records = $records.len(), "the database refused a batch; writing its records one by one");
                    for (record, index) in $records.one_by_one().zip(&$at) {
                        match $repo.$upsert(&record, $now).await {
                            Ok(written) => {
                                if let Some(outcome) = written.first() {
                                    $outcomes[*index] = Some((*outcome).into());
                                }
                            }
                            Err(StoreError::Refused(error)) => {
                                $refused.push((*index, error.to_string()))
                            }
                            Err(other) => return Err(other),
                        }
                    }
                }
                Err(other) => return Err(other),
            }
        }
    };
}
use write_each;

/// The records of a batch one by one, each as a batch of its own (see `write_each!`).
trait OneByOne<T> {
    fn one_by_one(&self) -> std::slice::Chunks<'_, T>;
}

impl<T> OneByOne<T> for Vec<T> {
    fn one_by_one(&self) -> std::slice::Chunks<'_, T> {
        self.chunks(1)
    }
}
