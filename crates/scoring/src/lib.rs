//! ScoringService: scores creators sent in the request or stored by ingestion.

#![cfg_attr(
    test,
    allow(
        unused_crate_dependencies,
        reason = "dev-dependencies serve the integration tests"
    )
)]

use std::pin::Pin;
use std::sync::Arc;

use chrono::Utc;
use futures::{Stream, StreamExt};
use resonance_core::authenticity::{AudienceType, Classifier};
use resonance_core::error::WithinField;
use resonance_core::{AccountData, ScoringModel, ValidationError};
use resonance_proto::convert;
use resonance_proto::scoring::scoring_service_server::{ScoringService, ScoringServiceServer};
use resonance_proto::scoring::{
    AudienceType as PbAudienceType, ClassifyFollowersRequest, ClassifyFollowersResponse, Creator,
    FollowerClassification, GetCreatorRequest, GetCreatorResponse, ItemError, ScoreAccountRequest,
    ScoreAccountResponse, StreamScoreAccountsRequest, StreamScoreAccountsResponse,
    get_creator_request, stream_score_accounts_response,
};
use resonance_proto::status::{cap_message, invalid_argument};
use resonance_proto::tonic::{self, Request, Response, Status, Streaming};
use resonance_store::{Store, StoreError, StoredCreator};
use tokio_stream::wrappers::ReceiverStream;

/// Errors of the scoring service.
#[derive(Debug, thiserror::Error)]
pub enum ScoringError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("{0} not found")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ScoringError> for Status {
    fn from(error: ScoringError) -> Self {
        match error {
            ScoringError::Invalid(error) => invalid_argument(&error),
            ScoringError::NotFound(what) => {
                Status::not_found(cap_message(&format!("{what} not found")))
            }
            ScoringError::Store(StoreError::Unavailable(error)) => {
                tracing::warn!(%error, "database unavailable");
                Status::unavailable("the database is unavailable; retry with backoff")
            }
            ScoringError::Store(
                error @ (StoreError::Database(_)
                | StoreError::Refused(_)
                | StoreError::Corrupt(_)
                | StoreError::Config(_)),
            ) => {
                tracing::error!(%error, "storage failure");
                Status::internal("internal error")
            }
        }
    }
}

/// How many results a stream may have computed ahead of a slow reader; past that the server
/// stops reading requests, so a client cannot make it buffer without bound.
pub const STREAM_BUFFER: usize = 64;

/// The ScoringService implementation.
#[derive(Debug, Clone)]
pub struct ScoringApi {
    store: Store,
    model: Arc<ScoringModel>,
    classifier: Arc<Classifier>,
}

/// The most profiles one ClassifyFollowers call may carry.
pub const MAX_PROFILES_PER_CALL: usize = 10_000;

fn audience_type_to_proto(value: AudienceType) -> PbAudienceType {
    match value {
        AudienceType::Real => PbAudienceType::Real,
        AudienceType::Suspicious => PbAudienceType::Suspicious,
        AudienceType::MassFollower => PbAudienceType::MassFollower,
        AudienceType::Influencer => PbAudienceType::Influencer,
    }
}

impl ScoringApi {
    pub fn new(store: Store, model: Arc<ScoringModel>, classifier: Arc<Classifier>) -> Self {
        Self {
            store,
            model,
            classifier,
        }
    }

    /// The gRPC service, with its decoding limit.
    pub fn into_server(self, max_message_bytes: usize) -> ScoringServiceServer<Self> {
        ScoringServiceServer::new(self).max_decoding_message_size(max_message_bytes)
    }

    fn score_request(
        &self,
        account: Option<&resonance_proto::scoring::AccountData>,
        definition: Option<&resonance_proto::scoring::EngagementDefinition>,
    ) -> Result<resonance_proto::scoring::CreatorScore, ValidationError> {
        let now = Utc::now();
        let account = account.ok_or_else(|| ValidationError::new("account", "is required"))?;
        let account = convert::account_data(account, now).map_err(|e| e.within("account"))?;
        let definition = convert::engagement_definition(definition)
            .map_err(|e| e.within("engagement_definition"))?;
        let score = self.model.score(&account, definition, now)?;
        Ok(convert::creator_score(&score))
    }

    async fn load(&self, request: &GetCreatorRequest) -> Result<StoredCreator, ScoringError> {
        let creators = self.store.creators();
        match &request.creator {
            Some(get_creator_request::Creator::Name(name)) => {
                let id = name
                    .strip_prefix("creators/")
                    .and_then(|id| id.parse::<i64>().ok())
                    .ok_or_else(|| {
                        ValidationError::new("name", "must look like \"creators/{id}\"")
                    })?;
                creators
                    .get(id)
                    .await?
                    .ok_or_else(|| ScoringError::NotFound(name.clone()))
            }
            Some(get_creator_request::Creator::Ref(reference)) => {
                let (platform, handle) =
                    convert::creator_ref(reference).map_err(|e| e.within("ref"))?;
                creators
                    .find(platform, &handle)
                    .await?
                    .ok_or_else(|| ScoringError::NotFound(format!("creator {platform}/{handle}")))
            }
            None => Err(ValidationError::new("creator", "name or ref is required").into()),
        }
    }

    /// Scores a stored creator from what is stored; `None` while no profile is stored.
    async fn score_stored(
        &self,
        creator: &StoredCreator,
    ) -> Result<Option<resonance_proto::scoring::CreatorScore>, ScoringError> {
        let Some(profile) = creator.profile.clone() else {
            return Ok(None);
        };
        let definition = self.model.default_definition();
        let wanted = match definition.window {
            resonance_core::PostWindow::Latest(n) => u64::from(n),
            resonance_core::PostWindow::Within(_) => {
                u64::from(resonance_core::EngagementDefinition::MAX_POST_WINDOW)
            }
        };
        let posts = self
            .store
            .creators()
            .latest_posts(creator.id, wanted)
            .await?;
        let snapshots = self.store.creators().snapshots(creator.id).await?;
        let account = AccountData {
            profile,
            snapshots,
            posts,
        };
        match self.model.score(&account, None, Utc::now()) {
            Ok(score) => Ok(Some(convert::creator_score(&score))),
            // Stored data that cannot be scored (zero followers, say) is not the caller's error.
            Err(error) => {
                tracing::debug!(creator_id = creator.id, %error, "stored creator cannot be scored");
                Ok(None)
            }
        }
    }
}

fn creator_message(
    creator: &StoredCreator,
    score: Option<resonance_proto::scoring::CreatorScore>,
) -> Creator {
    let profile = creator.profile.as_ref();
    let count = |value: Option<u64>| value.map_or(0, |v| i64::try_from(v).unwrap_or(i64::MAX));
    Creator {
        name: format!("creators/{}", creator.id),
        platform: convert::platform_to_proto(creator.platform) as i32,
        handle: creator.handle.as_str().to_owned(),
        external_id: profile
            .and_then(|p| p.external_id.clone())
            .unwrap_or_default(),
        display_name: profile.map(|p| p.display_name.clone()).unwrap_or_default(),
        bio: profile.map(|p| p.bio.clone()).unwrap_or_default(),
        followers: count(profile.map(|p| p.followers)),
        following: count(profile.map(|p| p.following)),
        media_count: count(profile.map(|p| p.media_count)),
        verified: profile.is_some_and(|p| p.verified),
        country: profile.and_then(|p| p.country.clone()).unwrap_or_default(),
        language: profile.and_then(|p| p.language.clone()).unwrap_or_default(),
        categories: profile.map(|p| p.categories.clone()).unwrap_or_default(),
        stored_posts: count(Some(creator.stored_posts)),
        update_time: Some(convert::timestamp(creator.updated_at)),
        score,
    }
}

type ScoreStream = Pin<Box<dyn Stream<Item = Result<StreamScoreAccountsResponse, Status>> + Send>>;

#[tonic::async_trait]
impl ScoringService for ScoringApi {
    async fn classify_followers(
        &self,
        request: Request<ClassifyFollowersRequest>,
    ) -> Result<Response<ClassifyFollowersResponse>, Status> {
        let profiles = request.into_inner().profiles;
        if profiles.is_empty() || profiles.len() > MAX_PROFILES_PER_CALL {
            return Err(invalid_argument(&ValidationError::new(
                "profiles",
                format!(
                    "must hold 1 to {MAX_PROFILES_PER_CALL} profiles (got {})",
                    profiles.len()
                ),
            )));
        }
        let mut classifications = Vec::with_capacity(profiles.len());
        let mut fakes = 0_usize;
        for (index, profile) in profiles.iter().enumerate() {
            let follower = convert::follower_profile(profile, false)
                .within(&format!("profiles[{index}]"))
                .map_err(|e| invalid_argument(&e))?;
            let result = self.classifier.classify(&follower);
            if result.fake {
                fakes += 1;
            }
            classifications.push(FollowerClassification {
                id: follower.id,
                fake: result.fake,
                fake_probability: result.fake_probability,
                audience_type: audience_type_to_proto(result.audience_type) as i32,
                reasons: result.reasons,
            });
        }
        Ok(Response::new(ClassifyFollowersResponse {
            fake_share: fakes as f64 / profiles.len() as f64,
            classifications,
            classifier: self.classifier.describe(),
        }))
    }

    async fn score_account(
        &self,
        request: Request<ScoreAccountRequest>,
    ) -> Result<Response<ScoreAccountResponse>, Status> {
        let request = request.into_inner();
        let score = self
            .score_request(
                request.account.as_ref(),
                request.engagement_definition.as_ref(),
            )
            .map_err(|e| invalid_argument(&e))?;
        Ok(Response::new(ScoreAccountResponse { score: Some(score) }))
    }

    async fn stream_score_accounts(
        &self,
        request: Request<Streaming<StreamScoreAccountsRequest>>,
    ) -> Result<Response<ScoreStream>, Status> {
        let mut requests = request.into_inner();
        let (sender, receiver) = tokio::sync::mpsc::channel(STREAM_BUFFER);
        let api = self.clone();
        tokio::spawn(async move {
            let mut index = 0_i64;
            while let Some(item) = requests.next().await {
                let response = match item {
                    Ok(item) => {
                        let result = match api.score_request(
                            item.account.as_ref(),
                            item.engagement_definition.as_ref(),
                        ) {
                            Ok(score) => stream_score_accounts_response::Result::Score(score),
                            Err(error) => {
                                stream_score_accounts_response::Result::Error(ItemError {
                                    field: error.field.clone(),
                                    message: cap_message(&error.message),
                                })
                            }
                        };
                        Ok(StreamScoreAccountsResponse {
                            index,
                            result: Some(result),
                        })
                    }
                    Err(status) => Err(status),
                };
                let stop = response.is_err();
                // The reader went away: nothing left to do.
                if sender.send(response).await.is_err() || stop {
                    break;
                }
                index += 1;
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver))))
    }

    async fn get_creator(
        &self,
        request: Request<GetCreatorRequest>,
    ) -> Result<Response<GetCreatorResponse>, Status> {
        let request = request.into_inner();
        let creator = self.load(&request).await?;
        let score = self.score_stored(&creator).await?;
        Ok(Response::new(GetCreatorResponse {
            creator: Some(creator_message(&creator, score)),
        }))
    }
}
