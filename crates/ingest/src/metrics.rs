//! Ingestion counters, in the process's default Prometheus registry (served by the binary on
//! its metrics port).

use std::sync::LazyLock;

use prometheus::{IntCounter, IntCounterVec, register_int_counter, register_int_counter_vec};
use resonance_store::JobCounts;

/// Records applied, by outcome: created, updated, unchanged, rejected.
static RECORDS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "resonance_ingest_records_total",
        "Records ingested (files, the push API and the NATS worker), by outcome",
        &["outcome"]
    )
    .expect("the ingestion record counter is registered once")
});

/// Records sent to the dead-letter store.
static DEAD_LETTERS: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!(
        "resonance_ingest_dead_letters_total",
        "Records dead-lettered: invalid, refused by the database, or failing every delivery"
    )
    .expect("the dead-letter counter is registered once")
});

/// Counts one committed batch.
pub(crate) fn batch(counts: &JobCounts, dead_letters: usize) {
    for (outcome, n) in [
        ("created", counts.created),
        ("updated", counts.updated),
        ("unchanged", counts.unchanged),
        ("rejected", counts.rejected),
    ] {
        RECORDS.with_label_values(&[outcome]).inc_by(n);
    }
    dead_letter(dead_letters);
}

/// Counts dead letters written outside a batch (a message that failed every delivery).
pub(crate) fn dead_letter(n: usize) {
    DEAD_LETTERS.inc_by(u64::try_from(n).unwrap_or(u64::MAX));
}
