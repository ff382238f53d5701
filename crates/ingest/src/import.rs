//! Importing a JSONL file in the canonical format.

use std::path::Path;

use chrono::Utc;
use resonance_store::{JobCounts, JobState, Store, StoredJob};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use crate::pipeline::{Item, Pipeline, Rejection};
use crate::{IngestError, jsonl, record};

/// Lines per batch: large enough to amortise a transaction, small enough to bound memory.
pub const LINES_PER_BATCH: usize = 1_000;

/// The longest line accepted; longer ones are rejected without being held in memory whole.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub job: StoredJob,
    pub counts: JobCounts,
    /// The rejected lines (also in the dead-letter store), in file order.
    pub rejections: Vec<Rejection>,
}

/// Imports a JSONL file: every valid line is stored, every invalid one is dead-lettered with
/// its line number, and the whole run is recorded as an ingestion job. `progress` is called
/// after each batch with the bytes read so far.
pub async fn import_jsonl(
    store: &Store,
    path: &Path,
    mut progress: impl FnMut(u64, &JobCounts),
) -> Result<ImportSummary, IngestError> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| IngestError::Io(path.display().to_string(), e))?;
    let source = path.display().to_string();
    let job_id = uuid::Uuid::now_v7().to_string();
    let (job, _) = store
        .ingest()
        .start_job(&job_id, None, &source, Utc::now())
        .await?;
    match run(store, &job, file, &source, &mut progress).await {
        Ok((counts, rejections)) => {
            let job = store
                .ingest()
                .finish_job(&job.id, JobState::Succeeded, None, Utc::now())
                .await?
                .unwrap_or(job);
            Ok(ImportSummary {
                job,
                counts,
                rejections,
            })
        }
        Err(error) => {
            // Best effort: the job row says why the run stopped; what was committed stays.
            let reason = error.to_string();
            if let Err(store_error) = store
                .ingest()
                .finish_job(&job.id, JobState::Failed, Some(&reason), Utc::now())
                .await
            {
                tracing::warn!(job_id = %job.id, %store_error, "could not mark the job failed");
            }
            Err(error)
        }
    }
}

async fn run(
    store: &Store,
    job: &StoredJob,
    file: tokio::fs::File,
    source: &str,
    progress: &mut impl FnMut(u64, &JobCounts),
) -> Result<(JobCounts, Vec<Rejection>), IngestError> {
    let source = source.to_owned();
    let pipeline = Pipeline::new(store.clone());

    let mut reader = BufReader::new(file);
    let mut buffer = Vec::new();
    let mut line_number = 0_u64;
    let mut bytes_read = 0_u64;
    let mut batch = Vec::with_capacity(LINES_PER_BATCH);
    let mut counts = JobCounts::default();
    let mut rejections = Vec::new();
    loop {
        buffer.clear();
        let read = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut buffer)
            .await
            .map_err(|e| IngestError::Io(source.clone(), e))?;
        if read == 0 {
            break;
        }
        bytes_read += read as u64;
        line_number += 1;
        let too_long = buffer.len() > MAX_LINE_BYTES && !buffer.ends_with(b"\n");
        if too_long {
            // Skip the rest of the overlong line.
            let mut rest = Vec::new();
            bytes_read += reader
                .read_until(b'\n', &mut rest)
                .await
                .map_err(|e| IngestError::Io(source.clone(), e))? as u64;
        }
        let Some(item) = line_item(&buffer, format!("line {line_number}"), too_long) else {
            continue;
        };
        batch.push(item);
        if batch.len() == LINES_PER_BATCH {
            apply(
                &pipeline,
                &job.id,
                &source,
                &mut batch,
                &mut counts,
                &mut rejections,
            )
            .await?;
            progress(bytes_read, &counts);
        }
    }
    apply(
        &pipeline,
        &job.id,
        &source,
        &mut batch,
        &mut counts,
        &mut rejections,
    )
    .await?;
    progress(bytes_read, &counts);
    Ok((counts, rejections))
}

/// Turns one raw line into a batch item at `position`; blank lines are skipped.
pub(crate) fn line_item(raw: &[u8], position: String, too_long: bool) -> Option<Item> {
    let rejected = |field: &str, message: String, payload: String| Item {
        position: position.clone(),
        parsed: Err(resonance_core::ValidationError::new(field, message)),
        payload,
    };
    if too_long {
        return Some(rejected(
            "",
            format!("line is longer than {MAX_LINE_BYTES} bytes"),
            String::new(),
        ));
    }
    let text = match std::str::from_utf8(raw) {
        Ok(text) => text.trim(),
        Err(error) => {
            return Some(rejected(
                "",
                format!("not UTF-8: {error}"),
                String::from_utf8_lossy(raw).into_owned(),
            ));
        }
    };
    if text.is_empty() {
        return None;
    }
    let parsed = jsonl::parse_line(text).and_then(|wire| {
        record::parse(&wire, Utc::now()).map_err(|mut error| {
            error.field = jsonl::line_field(&error.field);
            error
        })
    });
    Some(Item {
        position,
        parsed,
        payload: text.to_owned(),
    })
}

async fn apply(
    pipeline: &Pipeline,
    job_id: &str,
    source: &str,
    batch: &mut Vec<Item>,
    counts: &mut JobCounts,
    rejections: &mut Vec<Rejection>,
) -> Result<(), IngestError> {
    if batch.is_empty() {
        return Ok(());
    }
    let result = pipeline
        .apply(Some(job_id), source, std::mem::take(batch), Utc::now())
        .await?;
    *counts += result.counts;
    rejections.extend(result.rejections);
    Ok(())
}
