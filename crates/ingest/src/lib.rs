//! Ingestion: the IngestService push API, JSONL file imports and the NATS JetStream worker. Every record has a natural
//! key and is upserted, so repeating an input changes nothing; bad records are dead-lettered
//! with their position and the rest proceed.

#![cfg_attr(
    test,
    allow(
        unused_crate_dependencies,
        reason = "dev-dependencies serve the integration tests"
    )
)]

pub mod import;
pub mod jsonl;
mod metrics;
pub mod pipeline;
pub mod record;
mod service;
pub mod tabular;
pub mod worker;

pub use import::{FileFormat, ImportSummary, Progress, import_file, import_file_for, import_jsonl};
pub use pipeline::{Outcome, Pipeline};
pub use service::IngestApi;
pub use tabular::{CsvMapping, MappingError, RowKind};
pub use worker::{Worker, WorkerConfig};

use resonance_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {0}: {1}")]
    Io(String, std::io::Error),
    #[error("cannot read {0} as CSV: {1}")]
    Csv(String, String),
    #[error(transparent)]
    Mapping(#[from] tabular::MappingError),
    #[error(transparent)]
    Store(#[from] StoreError),
}
