//! Applying batches of records to the store: valid records are upserted (profiles first, so
//! a batch's order does not matter), invalid ones are dead-lettered with their position.

use chrono::{DateTime, Utc};
use resonance_core::ValidationError;
use resonance_store::{DeadLetterInput, JobCounts, Store, StoreError, WriteOutcome};

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

/// Applies batches for one job.
#[derive(Debug, Clone)]
pub struct Pipeline {
    store: Store,
    keyed_dead_letters: bool,
}

impl Pipeline {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            keyed_dead_letters: false,
        }
    }

    /// For sources that redeliver (a message queue): each dead letter is keyed by its source
    /// and position, which must then be unique, so a redelivered rejection is kept once.
    pub fn with_keyed_dead_letters(mut self) -> Self {
        self.keyed_dead_letters = true;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub async fn apply(
        &self,
        job_id: Option<&str>,
        source: &str,
        items: Vec<Item>,
        now: DateTime<Utc>,
    ) -> Result<BatchResult, StoreError> {
        let mut outcomes = vec![Outcome::Rejected; items.len()];
        let (mut profiles, mut profile_at) = (Vec::new(), Vec::new());
        let (mut snapshots, mut snapshot_at) = (Vec::new(), Vec::new());
        let (mut posts, mut post_at) = (Vec::new(), Vec::new());
        let mut rejections = Vec::new();
        let mut letters = Vec::new();
        for (index, item) in items.into_iter().enumerate() {
            match item.parsed {
                Ok(IngestRecord::Profile(profile)) => {
                    profiles.push(profile);
                    profile_at.push(index);
                }
                Ok(IngestRecord::Snapshot(platform, handle, snapshot)) => {
                    snapshots.push((platform, handle, snapshot));
                    snapshot_at.push(index);
                }
                Ok(IngestRecord::Post(platform, handle, post, observed_at)) => {
                    posts.push((platform, handle, post, observed_at));
                    post_at.push(index);
                }
                Err(error) => {
                    letters.push(DeadLetterInput {
                        dedupe_key: self
                            .keyed_dead_letters
                            .then(|| format!("{source}#{}", item.position)),
                        source: source.to_owned(),
                        position: item.position.clone(),
                        field: error.field.clone(),
                        reason: error.message.clone(),
                        payload: item.payload,
                    });
                    rejections.push(Rejection {
                        index,
                        position: item.position,
                        field: error.field,
                        message: error.message,
                    });
                }
            }
        }

        let creators = self.store.creators();
        if !profiles.is_empty() {
            for (index, outcome) in profile_at
                .into_iter()
                .zip(creators.upsert_profiles(&profiles, now).await?)
            {
                outcomes[index] = outcome.into();
            }
        }
        if !snapshots.is_empty() {
            for (index, outcome) in snapshot_at
                .into_iter()
                .zip(creators.upsert_snapshots(&snapshots, now).await?)
            {
                outcomes[index] = outcome.into();
            }
        }
        if !posts.is_empty() {
            for (index, outcome) in post_at
                .into_iter()
                .zip(creators.upsert_posts(&posts, now).await?)
            {
                outcomes[index] = outcome.into();
            }
        }
        self.store
            .ingest()
            .add_dead_letters(job_id, letters, now)
            .await?;

        let mut counts = JobCounts::default();
        for outcome in &outcomes {
            match outcome {
                Outcome::Created => counts.created += 1,
                Outcome::Updated => counts.updated += 1,
                Outcome::Unchanged => counts.unchanged += 1,
                Outcome::Rejected => counts.rejected += 1,
            }
        }
        if let Some(job_id) = job_id {
            self.store.ingest().add_counts(job_id, counts).await?;
        }
        Ok(BatchResult {
            outcomes,
            rejections,
            counts,
        })
    }
}
