//! The ingestion worker: consumes a NATS JetStream stream through a durable pull consumer.
//!
//! Every worker bound to the same durable consumer shares its messages, so workers scale out
//! as a queue group. A message body holds one or more records in the canonical JSONL format
//! (one per line). Messages are applied in batches and acknowledged only after the batch is
//! committed; upserts on natural keys make a redelivery change nothing (at-least-once delivery,
//! exactly-once effect).
//!
//! Failures:
//! - an invalid record is dead-lettered (keyed by stream sequence and line, so a redelivery
//!   does not keep it twice) and the message is acknowledged;
//! - while the database is unavailable the batch is held (the server is told work is in
//!   progress) and retried, so an outage does not use up deliveries;
//! - any other database error is retried message by message; a message still failing at its
//!   `max_deliver`th delivery is dead-lettered whole and terminated.

use std::future::Future;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use chrono::Utc;
use futures::StreamExt as _;
use resonance_store::{DeadLetterInput, JobCounts, Store, StoreError};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use crate::import::{MAX_LINE_BYTES, line_item};
use crate::pipeline::{Item, Pipeline};

/// The `[ingest.worker]` configuration section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerConfig {
    /// Run the worker in processes that run the ingest service.
    pub enabled: bool,
    /// The NATS server, `nats://[user:password@]host:port`.
    pub url: SecretString,
    /// The JetStream stream consumed; created with `subjects` if it does not exist.
    pub stream: String,
    pub subjects: Vec<String>,
    /// The durable consumer shared by all workers.
    pub consumer: String,
    /// Deliveries after which a message that still fails is dead-lettered.
    pub max_deliver: i64,
    /// How long the server waits for an acknowledgement before redelivering.
    #[serde(with = "humantime_serde")]
    pub ack_wait: Duration,
    /// Most messages applied in one batch.
    pub batch_size: usize,
    /// Pause before reconnecting, retrying an unavailable database, or redelivering a failure.
    #[serde(with = "humantime_serde")]
    pub retry_delay: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            url: SecretString::from("nats://127.0.0.1:4222"),
            stream: "RESONANCE_INGEST".to_owned(),
            subjects: vec!["resonance.ingest.>".to_owned()],
            consumer: "resonance-ingest".to_owned(),
            max_deliver: 5,
            ack_wait: Duration::from_secs(60),
            batch_size: 500,
            retry_delay: Duration::from_secs(2),
        }
    }
}

impl WorkerConfig {
    /// Checks values serde cannot; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        for (key, name) in [("stream", &self.stream), ("consumer", &self.consumer)] {
            let valid = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !valid {
                return Err(format!(
                    "ingest.worker.{key}: {name:?} is not a valid name (letters, digits, _ and -)"
                ));
            }
        }
        if self.subjects.is_empty() {
            return Err("ingest.worker.subjects: at least one subject is needed".to_owned());
        }
        if self.max_deliver < 1 {
            return Err("ingest.worker.max_deliver: must be at least 1".to_owned());
        }
        if self.batch_size == 0 || self.batch_size > 10_000 {
            return Err("ingest.worker.batch_size: must be between 1 and 10000".to_owned());
        }
        if self.ack_wait < Duration::from_secs(1) {
            return Err("ingest.worker.ack_wait: must be at least 1s".to_owned());
        }
        if self.retry_delay.is_zero() || self.retry_delay * 2 >= self.ack_wait {
            return Err(
                "ingest.worker.retry_delay: must be above zero and under half of ack_wait"
                    .to_owned(),
            );
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
enum ConsumeError {
    #[error("cannot connect to NATS: {0}")]
    Connect(#[from] async_nats::ConnectError),
    #[error("cannot create or open the stream: {0}")]
    Stream(#[from] jetstream::context::CreateStreamError),
    #[error("cannot create or open the consumer: {0}")]
    Consumer(#[from] jetstream::stream::ConsumerError),
    #[error("cannot pull messages: {0}")]
    Pull(#[from] jetstream::consumer::StreamError),
    #[error("receiving messages failed: {0}")]
    Messages(#[from] pull::MessagesError),
    #[error("the message stream ended")]
    Ended,
}

/// Consumes the configured stream into the store.
#[derive(Debug)]
pub struct Worker {
    pipeline: Pipeline,
    config: WorkerConfig,
    source: String,
    totals: JobCounts,
}

impl Worker {
    pub fn new(store: Store, config: WorkerConfig) -> Self {
        Self {
            pipeline: Pipeline::new(store),
            source: format!("nats:{}", config.stream),
            config,
            totals: JobCounts::default(),
        }
    }

    /// Consumes until `stop` resolves; the batch in hand is finished (committed and
    /// acknowledged) first. An unreachable NATS server is retried until then, so the rest of
    /// the process keeps serving.
    pub async fn run(mut self, stop: impl Future<Output = ()>) {
        let mut stop = std::pin::pin!(stop);
        loop {
            match self.consume(&mut stop).await {
                Ok(()) => break,
                Err(error) => {
                    tracing::warn!(
                        %error,
                        retry_in = ?self.config.retry_delay,
                        "ingestion worker lost NATS; reconnecting"
                    );
                }
            }
            tokio::select! {
                () = &mut stop => break,
                () = tokio::time::sleep(self.config.retry_delay) => {}
            }
        }
        let totals = self.totals;
        tracing::info!(
            created = totals.created,
            updated = totals.updated,
            unchanged = totals.unchanged,
            rejected = totals.rejected,
            "ingestion worker stopped"
        );
    }

    /// Connects and consumes until `stop` (Ok) or a NATS failure (Err). A batch in hand is
    /// finished before `stop` is honoured.
    async fn consume(
        &mut self,
        stop: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
    ) -> Result<(), ConsumeError> {
        let (messages, generation) = tokio::select! {
            () = stop.as_mut() => return Ok(()),
            subscribed = self.subscribe() => subscribed?,
        };
        // Stream sequences restart if the stream is recreated: its creation time tells the
        // two apart in dead-letter keys.
        self.pipeline =
            Pipeline::new(self.pipeline.store().clone()).with_keyed_dead_letters(generation);
        tracing::info!(
            stream = %self.config.stream,
            consumer = %self.config.consumer,
            "ingestion worker consuming"
        );
        let mut batches = messages.ready_chunks(self.config.batch_size);
        loop {
            let next = tokio::select! {
                biased;
                () = stop.as_mut() => return Ok(()),
                next = batches.next() => next,
            };
            let Some(received) = next else {
                return Err(ConsumeError::Ended);
            };
            let mut batch = Vec::with_capacity(received.len());
            let mut failure = None;
            for message in received {
                match message {
                    Ok(message) => batch.push(message),
                    Err(error) => failure = Some(error),
                }
            }
            // What arrived before an error is still applied; the rest is redelivered later.
            self.apply(batch, stop).await;
            if let Some(error) = failure {
                return Err(error.into());
            }
        }
    }

    /// Connects, creates the stream and the durable consumer if missing, and starts pulling.
    async fn subscribe(&self) -> Result<(pull::Stream, String), ConsumeError> {
        let config = &self.config;
        let client = async_nats::ConnectOptions::new()
            .name("resonance-ingest-worker")
            .connection_timeout(Duration::from_secs(5))
            .connect(config.url.expose_secret())
            .await?;
        let context = jetstream::new(client);
        let stream = context
            .get_or_create_stream(jetstream::stream::Config {
                name: config.stream.clone(),
                subjects: config.subjects.clone(),
                ..Default::default()
            })
            .await?;
        let consumer = stream
            .get_or_create_consumer(
                &config.consumer,
                pull::Config {
                    durable_name: Some(config.consumer.clone()),
                    ack_policy: jetstream::consumer::AckPolicy::Explicit,
                    ack_wait: config.ack_wait,
                    // The worker dead-letters at `max_deliver`; the server keeps redelivering
                    // so that a message is never dropped unprocessed.
                    max_deliver: -1,
                    ..Default::default()
                },
            )
            .await?;
        let generation = stream
            .cached_info()
            .created
            .unix_timestamp_nanos()
            .to_string();
        let messages = consumer
            .stream()
            .max_messages_per_batch(config.batch_size)
            .messages()
            .await?;
        Ok((messages, generation))
    }

    /// Applies a batch and acknowledges each message according to its outcome.
    async fn apply(
        &mut self,
        batch: Vec<jetstream::Message>,
        stop: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
    ) {
        if batch.is_empty() {
            return;
        }
        loop {
            match self.apply_in_progress(&batch).await {
                Ok(result) => {
                    self.count(result.counts);
                    for message in &batch {
                        acknowledge(message, AckKind::Ack).await;
                    }
                    return;
                }
                Err(StoreError::Unavailable(error)) => {
                    tracing::warn!(%error, messages = batch.len(), "database unavailable; holding the batch");
                    for message in &batch {
                        acknowledge(message, AckKind::Progress).await;
                    }
                    tokio::select! {
                        biased;
                        () = stop.as_mut() => {
                            for message in &batch {
                                acknowledge(message, AckKind::Nak(None)).await;
                            }
                            return;
                        }
                        () = tokio::time::sleep(self.config.retry_delay) => {}
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, messages = batch.len(), "batch failed; applying its messages one by one");
                    break;
                }
            }
        }
        for message in &batch {
            self.apply_one(message).await;
        }
    }

    async fn apply_one(&mut self, message: &jetstream::Message) {
        let single = std::slice::from_ref(message);
        let error = match self.apply_in_progress(single).await {
            Ok(result) => {
                self.count(result.counts);
                acknowledge(message, AckKind::Ack).await;
                return;
            }
            Err(error) => error,
        };
        let (sequence, delivered) = delivery(message);
        if delivered < self.config.max_deliver {
            tracing::warn!(%error, sequence, delivered, "message failed; it will be redelivered");
            acknowledge(message, AckKind::Nak(Some(self.config.retry_delay))).await;
            return;
        }
        let letter = DeadLetterInput {
            source: self.source.clone(),
            position: format!("message {sequence}"),
            field: String::new(),
            reason: format!("failed {delivered} deliveries; last error: {error}"),
            payload: String::from_utf8_lossy(&message.payload).into_owned(),
            dedupe_key: self
                .pipeline
                .dead_letter_key(&self.source, &format!("message {sequence}")),
        };
        match self
            .pipeline
            .store()
            .ingest()
            .add_dead_letters(None, None, vec![letter], Utc::now())
            .await
        {
            Ok(()) => {
                crate::metrics::dead_letter(1);
                tracing::error!(%error, sequence, delivered, "message dead-lettered");
                acknowledge(message, AckKind::Term).await;
            }
            Err(store_error) => {
                tracing::error!(%error, %store_error, sequence, "message failed and cannot be dead-lettered; it will be redelivered");
                acknowledge(message, AckKind::Nak(Some(self.config.retry_delay))).await;
            }
        }
    }

    /// Applies `messages`, telling the server every third of `ack_wait` that they are still in
    /// progress, so that a long batch is not redelivered to another worker meanwhile.
    async fn apply_in_progress(
        &self,
        messages: &[jetstream::Message],
    ) -> Result<crate::pipeline::BatchResult, StoreError> {
        let work = self
            .pipeline
            .apply(None, &self.source, self.items(messages), Utc::now());
        let mut work = std::pin::pin!(work);
        let period = self.config.ack_wait / 3;
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            tokio::select! {
                result = &mut work => return result,
                _ = ticker.tick() => {
                    for message in messages {
                        acknowledge(message, AckKind::Progress).await;
                    }
                }
            }
        }
    }

    /// The records of `messages`, positioned as "message SEQ line N".
    fn items(&self, messages: &[jetstream::Message]) -> Vec<Item> {
        let now = Utc::now();
        let mut items = Vec::new();
        for message in messages {
            let (sequence, _) = delivery(message);
            for (index, line) in message.payload.split(|b| *b == b'\n').enumerate() {
                let position = format!("message {sequence} line {}", index + 1);
                if let Some(item) = line_item(line, position, line.len() > MAX_LINE_BYTES, now) {
                    items.push(item);
                }
            }
        }
        items
    }

    fn count(&mut self, counts: JobCounts) {
        self.totals += counts;
        tracing::debug!(
            created = counts.created,
            updated = counts.updated,
            unchanged = counts.unchanged,
            rejected = counts.rejected,
            "batch committed"
        );
    }
}

/// The stream sequence and delivery count of a message (0, 0 if its reply subject is not a
/// JetStream one, which a stream consumer never sees).
fn delivery(message: &jetstream::Message) -> (u64, i64) {
    message
        .info()
        .map(|info| (info.stream_sequence, info.delivered))
        .unwrap_or((0, 0))
}

/// Sends an acknowledgement; a lost one only means a redelivery, which changes nothing.
async fn acknowledge(message: &jetstream::Message, kind: AckKind) {
    if let Err(error) = message.ack_with(kind).await {
        tracing::warn!(%error, "acknowledgement not sent; the message will be redelivered");
    }
}
