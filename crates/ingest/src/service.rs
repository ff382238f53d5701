//! IngestService over gRPC.

use chrono::Utc;
use futures::StreamExt;
use resonance_core::ValidationError;
use resonance_proto::convert::timestamp;
use resonance_proto::ingest::ingest_service_server::{IngestService, IngestServiceServer};
use resonance_proto::ingest::{
    DeadLetter, GetIngestJobRequest, GetIngestJobResponse, IngestJob, IngestRecordsRequest,
    IngestRecordsResponse, JobState as PbJobState, ListDeadLettersRequest, ListDeadLettersResponse,
    ListIngestJobsRequest, ListIngestJobsResponse, RecordError, RecordOutcome,
};
use resonance_proto::status::{self, cap_message, invalid_argument, storage_failure};
use resonance_proto::tonic::{self, Request, Response, Status, Streaming};
use resonance_store::{BrandId, JobState, Store, StoreError, StoredJob};

use crate::pipeline::{Item, Outcome, Pipeline};

/// The longest request id kept for idempotency (AIP-155 suggests a UUID).
const MAX_REQUEST_ID_CHARS: usize = 200;
use crate::record;

/// Records applied per store transaction while a stream is read.
const RECORDS_PER_BATCH: usize = 1_000;
/// Default and largest page sizes of the list calls.
const DEFAULT_PAGE_SIZE: u64 = 50;
const MAX_PAGE_SIZE: u64 = 1_000;

fn store_status(error: StoreError) -> Status {
    match error {
        StoreError::DeadlineExceeded => status::deadline_exceeded(),
        error => storage_failure(error.is_unavailable(), &error),
    }
}

fn page_size(requested: i32) -> Result<u64, Status> {
    status::page_size(requested, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE).map_err(|e| invalid_argument(&e))
}

fn job_message(job: &StoredJob) -> IngestJob {
    let count = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
    IngestJob {
        name: format!("ingestJobs/{}", job.id),
        source: job.source.clone(),
        state: match job.state {
            JobState::Running => PbJobState::Running,
            JobState::Succeeded => PbJobState::Succeeded,
            JobState::Failed => PbJobState::Failed,
        } as i32,
        created: count(job.counts.created),
        updated: count(job.counts.updated),
        unchanged: count(job.counts.unchanged),
        rejected: count(job.counts.rejected),
        start_time: Some(timestamp(job.started_at)),
        end_time: job.finished_at.map(timestamp),
        failure: job.failure.clone().unwrap_or_default(),
    }
}

fn job_id(name: &str, field: &str) -> Result<String, Status> {
    name.strip_prefix("ingestJobs/")
        .filter(|id| !id.is_empty() && id.len() <= 36)
        .map(str::to_owned)
        .ok_or_else(|| {
            invalid_argument(&ValidationError::new(
                field,
                "must look like \"ingestJobs/{id}\"",
            ))
        })
}

/// The IngestService implementation.
#[derive(Debug, Clone)]
pub struct IngestApi {
    pipeline: Pipeline,
}

impl IngestApi {
    pub fn new(store: Store) -> Self {
        Self {
            pipeline: Pipeline::new(store),
        }
    }

    pub fn into_server(self, max_message_bytes: usize) -> IngestServiceServer<Self> {
        IngestServiceServer::new(self).max_decoding_message_size(max_message_bytes)
    }

    fn store(&self) -> &Store {
        self.pipeline.store()
    }
}

/// The calling brand: jobs and dead letters are listed and read per brand. The
/// authentication layer puts it on every request that reaches a handler.
fn caller<T>(request: &Request<T>) -> Result<BrandId, Status> {
    request
        .extensions()
        .get::<BrandId>()
        .copied()
        .ok_or_else(|| Status::unauthenticated("an API key is required"))
}

#[tonic::async_trait]
impl IngestService for IngestApi {
    async fn ingest_records(
        &self,
        request: Request<Streaming<IngestRecordsRequest>>,
    ) -> Result<Response<IngestRecordsResponse>, Status> {
        // Jobs, dead letters and conversions belong to the brand whose key made the call.
        let brand = request.extensions().get::<BrandId>().copied();
        let pipeline = self.pipeline.clone().for_brand(brand);
        let mut stream = request.into_inner();
        let Some(first) = stream.next().await.transpose()? else {
            return Err(invalid_argument(&ValidationError::new(
                "",
                "the stream carried no message",
            )));
        };
        let request_id = Some(first.request_id.trim()).filter(|id| !id.is_empty());
        if request_id.is_some_and(|id| id.chars().count() > MAX_REQUEST_ID_CHARS) {
            return Err(invalid_argument(&ValidationError::new(
                "request_id",
                format!("must be at most {MAX_REQUEST_ID_CHARS} characters"),
            )));
        }
        let source = if first.source.trim().is_empty() {
            "push".to_owned()
        } else {
            first.source.trim().to_owned()
        };
        let id = uuid::Uuid::now_v7().to_string();
        let (job, fresh) = self
            .store()
            .ingest()
            .start_job(&id, request_id, brand, &source, Utc::now())
            .await
            .map_err(store_status)?;
        // A retried stream (same request_id) is applied again, which changes nothing the first
        // run stored, and is counted on the first run's job only once.
        let job_for_counts = fresh.then_some(job.id.as_str());

        let mut outcomes = Vec::new();
        let mut errors = Vec::new();
        let mut batch: Vec<Item> = Vec::with_capacity(RECORDS_PER_BATCH);
        let mut next = Some(first);
        let mut index = 0_usize;
        loop {
            let message = match next.take() {
                Some(message) => Some(message),
                None => stream.next().await.transpose()?,
            };
            let Some(message) = message else { break };
            for wire in message.records {
                let now = Utc::now();
                batch.push(Item {
                    position: format!("record {index}"),
                    parsed: record::parse(&wire, now),
                    payload: cap_message(&format!("{wire:?}")),
                });
                index += 1;
                if batch.len() == RECORDS_PER_BATCH {
                    Self::flush(
                        &pipeline,
                        job_for_counts,
                        &source,
                        &mut batch,
                        &mut outcomes,
                        &mut errors,
                    )
                    .await?;
                }
            }
        }
        Self::flush(
            &pipeline,
            job_for_counts,
            &source,
            &mut batch,
            &mut outcomes,
            &mut errors,
        )
        .await?;
        let job = if fresh {
            self.store()
                .ingest()
                .finish_job(&job.id, JobState::Succeeded, None, Utc::now())
                .await
                .map_err(store_status)?
                .unwrap_or(job)
        } else {
            job
        };
        Ok(Response::new(IngestRecordsResponse {
            job: Some(job_message(&job)),
            outcomes,
            errors,
        }))
    }

    async fn get_ingest_job(
        &self,
        request: Request<GetIngestJobRequest>,
    ) -> Result<Response<GetIngestJobResponse>, Status> {
        let brand = caller(&request)?;
        let id = job_id(&request.get_ref().name, "name")?;
        let job = self
            .store()
            .ingest()
            .get_job(&id, Some(brand))
            .await
            .map_err(store_status)?;
        let job = job.ok_or_else(|| {
            Status::not_found(cap_message(&format!(
                "{} not found",
                request.get_ref().name
            )))
        })?;
        Ok(Response::new(GetIngestJobResponse {
            job: Some(job_message(&job)),
        }))
    }

    async fn list_ingest_jobs(
        &self,
        request: Request<ListIngestJobsRequest>,
    ) -> Result<Response<ListIngestJobsResponse>, Status> {
        let brand = caller(&request)?;
        let request = request.into_inner();
        let limit = page_size(request.page_size)?;
        let after = Some(request.page_token.as_str()).filter(|t| !t.is_empty());
        let jobs = self
            .store()
            .ingest()
            .list_jobs(Some(brand), after, limit)
            .await
            .map_err(store_status)?;
        let next_page_token = if jobs.len() as u64 == limit {
            jobs.last().map(|j| j.id.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(ListIngestJobsResponse {
            jobs: jobs.iter().map(job_message).collect(),
            next_page_token,
        }))
    }

    async fn list_dead_letters(
        &self,
        request: Request<ListDeadLettersRequest>,
    ) -> Result<Response<ListDeadLettersResponse>, Status> {
        let brand = caller(&request)?;
        let request = request.into_inner();
        let limit = page_size(request.page_size)?;
        let job = if request.parent.is_empty() {
            None
        } else {
            Some(job_id(&request.parent, "parent")?)
        };
        let after = if request.page_token.is_empty() {
            None
        } else {
            Some(request.page_token.parse::<i64>().map_err(|_| {
                invalid_argument(&ValidationError::new(
                    "page_token",
                    "is not a token this server issued",
                ))
            })?)
        };
        let letters = self
            .store()
            .ingest()
            .list_dead_letters(Some(brand), job.as_deref(), after, limit)
            .await
            .map_err(store_status)?;
        let next_page_token = if letters.len() as u64 == limit {
            letters.last().map(|l| l.id.to_string()).unwrap_or_default()
        } else {
            String::new()
        };
        let dead_letters = letters
            .into_iter()
            .map(|letter| DeadLetter {
                name: format!(
                    "ingestJobs/{}/deadLetters/{}",
                    letter.job_id.as_deref().unwrap_or("-"),
                    letter.id
                ),
                source: letter.source,
                position: letter.position,
                field: letter.field,
                reason: letter.reason,
                payload: letter.payload,
                create_time: Some(timestamp(letter.created_at)),
            })
            .collect();
        Ok(Response::new(ListDeadLettersResponse {
            dead_letters,
            next_page_token,
        }))
    }
}

impl IngestApi {
    async fn flush(
        pipeline: &Pipeline,
        job_id: Option<&str>,
        source: &str,
        batch: &mut Vec<Item>,
        outcomes: &mut Vec<i32>,
        errors: &mut Vec<RecordError>,
    ) -> Result<(), Status> {
        if batch.is_empty() {
            return Ok(());
        }
        let offset = outcomes.len();
        let result = pipeline
            .apply(job_id, source, std::mem::take(batch), Utc::now())
            .await
            .map_err(store_status)?;
        outcomes.extend(result.outcomes.iter().map(|outcome| {
            (match outcome {
                Outcome::Created => RecordOutcome::Created,
                Outcome::Updated => RecordOutcome::Updated,
                Outcome::Unchanged => RecordOutcome::Unchanged,
                Outcome::Rejected => RecordOutcome::Rejected,
            }) as i32
        }));
        errors.extend(result.rejections.into_iter().map(|rejection| RecordError {
            index: i64::try_from(offset + rejection.index).unwrap_or(i64::MAX),
            field: rejection.field,
            message: cap_message(&rejection.message),
        }));
        Ok(())
    }
}
