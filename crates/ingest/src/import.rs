//! Importing files: JSONL in the canonical format, or CSV through a column mapping.
//!
//! A reader thread parses the file into batches while the previous batch is written, through
//! a channel of two batches, so memory stays flat however large the file is. The reader also
//! sorts each batch by kind of record and converts its posts for the writers ([`Sorted`]), so
//! that the task between two writes only hands the batch over.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use resonance_store::{BrandId, JobCounts, JobState, Store, StoredJob};
use tokio::sync::mpsc;

use crate::pipeline::{Item, Pipeline, Rejection, Sorted};
use crate::tabular::{CsvMapping, decode_cell};
use crate::{IngestError, jsonl, record};

/// Records per batch (one transaction each): large enough to amortise a commit and its
/// index page writes (on SQLite a 1,000-record batch ran at half the rate of 10,000), small
/// enough to bound memory (a few batches are in flight).
pub const LINES_PER_BATCH: usize = 10_000;

/// The longest line accepted; longer ones are rejected without being held in memory whole.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// Rejections kept in the summary; all of them are in the dead-letter store.
pub const MAX_REPORTED_REJECTIONS: usize = 1_000;

/// How a file is read.
#[derive(Debug, Clone)]
pub enum FileFormat {
    /// One JSON record per line (see [`crate::jsonl`]).
    Jsonl,
    /// A CSV export, with the mapping that says what its columns are.
    Csv(CsvMapping),
}

/// Where an import has got to, reported after each batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub bytes_read: u64,
    pub total_bytes: u64,
    pub counts: JobCounts,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub job: StoredJob,
    pub counts: JobCounts,
    /// The first [`MAX_REPORTED_REJECTIONS`] rejected records (all are in the dead-letter
    /// store), in file order.
    pub rejections: Vec<Rejection>,
}

/// Imports a file: every valid record is stored, every invalid one is dead-lettered with its
/// line number, and the whole run is recorded as an ingestion job. `progress` is called after
/// each batch.
pub async fn import_file(
    store: &Store,
    path: &Path,
    format: FileFormat,
    progress: impl FnMut(&Progress),
) -> Result<ImportSummary, IngestError> {
    import_file_for(store, path, format, None, progress).await
}

/// Imports a file as [`import_file`] does, storing its conversions for `brand` (without a
/// brand, conversion records are dead-lettered: they belong to one).
pub async fn import_file_for(
    store: &Store,
    path: &Path,
    format: FileFormat,
    brand: Option<BrandId>,
    mut progress: impl FnMut(&Progress),
) -> Result<ImportSummary, IngestError> {
    let source = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| IngestError::Io(source.clone(), e))?;
    let total_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let job_id = uuid::Uuid::now_v7().to_string();
    let (job, _) = store
        .ingest()
        .start_job(&job_id, None, brand, &source, Utc::now())
        .await?;
    let pipeline = Pipeline::new(store.clone()).for_brand(brand);
    let outcome = run(
        &pipeline,
        &job,
        file,
        format,
        &source,
        |bytes_read, counts| {
            progress(&Progress {
                bytes_read,
                total_bytes,
                counts,
            });
        },
    )
    .await;
    match outcome {
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

/// Imports a JSONL file; see [`import_file`].
pub async fn import_jsonl(
    store: &Store,
    path: &Path,
    progress: impl FnMut(&Progress),
) -> Result<ImportSummary, IngestError> {
    import_file(store, path, FileFormat::Jsonl, progress).await
}

/// A parsed batch, sorted on the reader thread (see [`Sorted`]), and how far into the file
/// it reaches.
struct Chunk {
    batch: Sorted,
    bytes_read: u64,
}

async fn run(
    pipeline: &Pipeline,
    job: &StoredJob,
    file: std::fs::File,
    format: FileFormat,
    source: &str,
    mut progress: impl FnMut(u64, JobCounts),
) -> Result<(JobCounts, Vec<Rejection>), IngestError> {
    let (sender, mut chunks) = mpsc::channel::<Chunk>(2);
    let reader_source = source.to_owned();
    let reader = tokio::task::spawn_blocking(move || match format {
        FileFormat::Jsonl => read_jsonl(file, &reader_source, &sender),
        FileFormat::Csv(mapping) => read_csv(file, &mapping, &reader_source, &sender),
    });

    let mut counts = JobCounts::default();
    let mut rejections = Vec::new();
    // Batches commit in groups (see `GroupCommit`): dropped on an error, the
    // group rolls back what it has not committed.
    let mut group = pipeline.store().group_commit();
    while let Some(chunk) = chunks.recv().await {
        let result = pipeline
            .apply_grouped(&mut group, Some(&job.id), source, chunk.batch, Utc::now())
            .await?;
        group.commit_if_due().await?;
        counts += result.counts;
        let room = MAX_REPORTED_REJECTIONS.saturating_sub(rejections.len());
        rejections.extend(result.rejections.into_iter().take(room));
        progress(chunk.bytes_read, counts);
    }
    group.commit().await?;
    reader
        .await
        .map_err(|e| IngestError::Io(source.to_owned(), std::io::Error::other(e)))??;
    Ok((counts, rejections))
}

/// Sends a full batch; `false` when the receiving side has stopped (a write failed).
fn send(sender: &mpsc::Sender<Chunk>, batch: &mut Vec<Item>, bytes_read: u64) -> bool {
    let items = std::mem::replace(batch, Vec::with_capacity(LINES_PER_BATCH));
    let batch = Sorted::new(items);
    sender.blocking_send(Chunk { batch, bytes_read }).is_ok()
}

fn read_jsonl(
    file: std::fs::File,
    source: &str,
    sender: &mpsc::Sender<Chunk>,
) -> Result<(), IngestError> {
    let io = |e| IngestError::Io(source.to_owned(), e);
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut buffer = Vec::new();
    let mut line_number = 0_u64;
    let mut bytes_read = 0_u64;
    let mut batch = Vec::with_capacity(LINES_PER_BATCH);
    let now = Utc::now();
    loop {
        buffer.clear();
        let read = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut buffer)
            .map_err(io)?;
        if read == 0 {
            break;
        }
        bytes_read += read as u64;
        line_number += 1;
        let too_long = buffer.len() > MAX_LINE_BYTES && !buffer.ends_with(b"\n");
        if too_long {
            // Skip the rest of the overlong line.
            let mut rest = Vec::new();
            bytes_read += reader.read_until(b'\n', &mut rest).map_err(io)? as u64;
        }
        let Some(item) = line_item(&buffer, format!("line {line_number}"), too_long, now) else {
            continue;
        };
        batch.push(item);
        if batch.len() >= LINES_PER_BATCH && !send(sender, &mut batch, bytes_read) {
            return Ok(());
        }
    }
    if !batch.is_empty() {
        send(sender, &mut batch, bytes_read);
    }
    Ok(())
}

fn read_csv(
    file: std::fs::File,
    mapping: &CsvMapping,
    source: &str,
    sender: &mpsc::Sender<Chunk>,
) -> Result<(), IngestError> {
    let (tracked, mut lines) = LineTracker::wrap(BufReader::with_capacity(256 * 1024, file));
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(tracked);
    let csv_error = |e: csv::Error| IngestError::Csv(source.to_owned(), e.to_string());
    let headers: Vec<String> = reader
        .byte_headers()
        .map_err(csv_error)?
        .iter()
        .map(decode_cell)
        .collect();
    let resolved = mapping.resolve(&headers)?;
    let now = Utc::now();
    let mut row = csv::ByteRecord::new();
    let mut batch = Vec::with_capacity(LINES_PER_BATCH);
    loop {
        let before = reader.position().byte();
        match reader.read_byte_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {
                let line = lines.line_at(row.position().map_or(before, csv::Position::byte));
                let cells: Vec<String> = row.iter().map(decode_cell).collect();
                let payload = cells.join(",");
                let position = format!("line {line}");
                // A row is stored whole or not at all: every record it makes must be valid.
                let parsed = resolved.records(cells, now).and_then(|records| {
                    records
                        .iter()
                        .map(|wire| parse_record(wire, now))
                        .collect::<Result<Vec<_>, _>>()
                });
                match parsed {
                    Ok(records) => batch.extend(records.into_iter().map(|record| Item {
                        position: position.clone(),
                        parsed: Ok(record),
                        payload: payload.clone(),
                    })),
                    Err(error) => batch.push(Item {
                        position,
                        parsed: Err(error),
                        payload,
                    }),
                }
            }
            Err(error) if error.is_io_error() => return Err(csv_error(error)),
            Err(error) => batch.push(Item {
                position: format!("line {}", lines.line_at(before)),
                parsed: Err(resonance_core::ValidationError::new("", error.to_string())),
                payload: String::new(),
            }),
        }
        if batch.len() >= LINES_PER_BATCH && !send(sender, &mut batch, reader.position().byte()) {
            return Ok(());
        }
    }
    if !batch.is_empty() {
        send(sender, &mut batch, reader.position().byte());
    }
    Ok(())
}

/// Line numbers for CSV records. The csv crate's own line count goes wrong on mixed line
/// endings (a CRLF header over LF rows, as in real exports), so the line breaks that pass
/// through the reader are tracked here, a read-ahead buffer's worth at a time.
struct LineTracker {
    breaks: Rc<RefCell<VecDeque<(u64, u8)>>>,
    /// Line feeds before the last position asked about.
    passed: u64,
}

struct TrackedRead<R> {
    inner: R,
    offset: u64,
    breaks: Rc<RefCell<VecDeque<(u64, u8)>>>,
}

impl<R: Read> Read for TrackedRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        let mut breaks = self.breaks.borrow_mut();
        for (index, byte) in buf[..read].iter().enumerate() {
            if matches!(byte, b'\n' | b'\r') {
                breaks.push_back((self.offset + index as u64, *byte));
            }
        }
        self.offset += read as u64;
        Ok(read)
    }
}

impl LineTracker {
    fn wrap<R: Read>(inner: R) -> (TrackedRead<R>, Self) {
        let breaks = Rc::new(RefCell::new(VecDeque::new()));
        let tracked = TrackedRead {
            inner,
            offset: 0,
            breaks: Rc::clone(&breaks),
        };
        (tracked, Self { breaks, passed: 0 })
    }

    /// The 1-based line of the record starting at byte `start` (positions only move forward).
    /// A line ends at LF, CRLF or a lone CR. Line breaks at the very start of a record (the
    /// LF of a CRLF, blank lines) are skipped.
    fn line_at(&mut self, start: u64) -> u64 {
        let mut breaks = self.breaks.borrow_mut();
        while let Some(&(at, _)) = breaks.front() {
            if at >= start {
                break;
            }
            if ends_line(&breaks, 0) {
                self.passed += 1;
            }
            breaks.pop_front();
        }
        let leading = (start..)
            .zip(0..breaks.len())
            .take_while(|&(next, index)| breaks[index].0 == next)
            .filter(|&(_, index)| ends_line(&breaks, index))
            .count() as u64;
        self.passed + leading + 1
    }
}

/// Whether the break at `index` ends a line: a LF does, and so does a CR not followed by LF.
fn ends_line(breaks: &VecDeque<(u64, u8)>, index: usize) -> bool {
    let (at, byte) = breaks[index];
    byte == b'\n'
        || breaks
            .get(index + 1)
            .is_none_or(|&(next, following)| !(next == at + 1 && following == b'\n'))
}

/// Validates a wire record, naming fields as a flat line or row does ("likes").
fn parse_record(
    wire: &resonance_proto::ingest::Record,
    now: DateTime<Utc>,
) -> Result<record::IngestRecord, resonance_core::ValidationError> {
    record::parse(wire, now).map_err(|mut error| {
        error.field = jsonl::line_field(&error.field);
        error
    })
}

/// Turns one raw line into a batch item at `position`; blank lines are skipped.
pub(crate) fn line_item(
    raw: &[u8],
    position: String,
    too_long: bool,
    now: DateTime<Utc>,
) -> Option<Item> {
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
    let parsed = jsonl::parse_line(text).and_then(|wire| parse_record(&wire, now));
    Some(Item {
        position,
        parsed,
        payload: text.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line each data record starts on, as the CSV import reports it.
    fn record_lines(data: &[u8]) -> Vec<u64> {
        let (tracked, mut lines) = LineTracker::wrap(data);
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(tracked);
        let _ = reader.byte_headers().expect("header");
        let mut row = csv::ByteRecord::new();
        let mut found = Vec::new();
        loop {
            let before = reader.position().byte();
            if !reader.read_byte_record(&mut row).expect("row") {
                break;
            }
            found.push(lines.line_at(row.position().map_or(before, csv::Position::byte)));
        }
        found
    }

    #[test]
    fn csv_lines_are_counted_for_every_line_ending() {
        assert_eq!(record_lines(b"h\nr1\nr2\n"), [2, 3]);
        assert_eq!(record_lines(b"h\r\nr1\r\nr2\r\n"), [2, 3]);
        assert_eq!(record_lines(b"h\rr1\rr2\r"), [2, 3]);
        assert_eq!(
            record_lines(b"h\r\nr1\nr2\n"),
            [2, 3],
            "CRLF header over LF rows"
        );
        assert_eq!(
            record_lines(b"h,x\n\"a\nb\",1\nr2,2\n"),
            [2, 4],
            "quoted line break"
        );
        assert_eq!(record_lines(b"h\n\nr1\n"), [3], "blank line");
    }
}
