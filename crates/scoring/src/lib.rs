//! ScoringService: scores creators sent in the request or stored by ingestion.

#![cfg_attr(
    test,
    allow(
        unused_crate_dependencies,
        reason = "dev-dependencies serve the integration tests"
    )
)]

pub mod engine;
pub mod rescore;
pub mod search;

use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use prost::Message;
use resonance_core::authenticity::AudienceType;
use resonance_core::error::WithinField;
use resonance_core::{Handle, Platform, Profile, ValidationError};
use resonance_proto::convert;
use resonance_proto::scoring::scoring_service_server::{ScoringService, ScoringServiceServer};
use resonance_proto::scoring::{
    AudienceType as PbAudienceType, ClassifyFollowersRequest, ClassifyFollowersResponse, Creator,
    CreatorScore as PbCreatorScore, FollowerClassification, GetCreatorRequest, GetCreatorResponse,
    ItemError, ScoreAccountRequest, ScoreAccountResponse, SearchCreatorsRequest,
    SearchCreatorsResponse, StreamScoreAccountsRequest, StreamScoreAccountsResponse,
    get_creator_request, stream_score_accounts_response,
};
use resonance_proto::status::{cap_message, deadline_exceeded, invalid_argument, storage_failure};
use resonance_proto::tonic::{self, Request, Response, Status, Streaming};
use resonance_store::{Store, StoreError, StoredCreator};
use tokio_stream::wrappers::ReceiverStream;

pub use engine::Engine;
pub use rescore::{RescoreConfig, Rescorer};

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
            ScoringError::Store(StoreError::DeadlineExceeded) => deadline_exceeded(),
            ScoringError::Store(error) => storage_failure(error.is_unavailable(), &error),
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
    engine: Arc<Engine>,
    /// Scores a stored creator the rescorer has not reached yet, the way it would.
    rescorer: Rescorer,
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
    /// The service over what `rescorer` reads and scores with.
    pub fn new(rescorer: Rescorer) -> Self {
        Self {
            store: rescorer.store().clone(),
            engine: Arc::clone(rescorer.engine()),
            rescorer,
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
    ) -> Result<PbCreatorScore, ValidationError> {
        let now = Utc::now();
        let account = account.ok_or_else(|| ValidationError::new("account", "is required"))?;
        let account = convert::account_data(account, now).map_err(|e| e.within("account"))?;
        let definition = convert::engagement_definition(definition)
            .map_err(|e| e.within("engagement_definition"))?;
        let score = self.engine.score(&account, definition, now)?;
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

    /// The stored score of a creator or, while the rescorer has not got to it yet, one computed
    /// now from what is stored; `None` while no profile is stored.
    async fn score_of(
        &self,
        creator: &StoredCreator,
    ) -> Result<Option<PbCreatorScore>, ScoringError> {
        // A creator whose data changed since its stored score (a rescoring batch has not
        // reached it yet, or ran between two writes of one import) is scored from what is
        // stored now: a read after a write sees the write. The background rescorer still
        // stores it.
        let scores = self.store.scores();
        if !scores.is_queued(creator.id).await?
            && let Some(detail) = scores.detail(creator.id).await?
        {
            return decode_score(creator.id, &detail).map(Some);
        }
        Ok(self
            .rescorer
            .score_now(creator.id)
            .await?
            .map(|score| convert::creator_score(&score)))
    }

    async fn search(
        &self,
        request: &SearchCreatorsRequest,
    ) -> Result<SearchCreatorsResponse, ScoringError> {
        let model = self.engine.model();
        let mut query = search::query(
            request,
            |id| model.niches().ids().any(|known| known == id),
            &model.value_config().currency,
        )?;
        let page = query.limit;
        // One more than the page tells whether another page follows.
        query.limit = page + 1;
        let mut hits = self.store.scores().search(&query).await?;
        let more = hits.len() as u64 > page;
        hits.truncate(usize::try_from(page).unwrap_or(usize::MAX));
        let next_page_token = match hits.last() {
            Some(last) if more => search::page_token(
                request,
                query.sort,
                last.sort_key(query.sort),
                last.score.creator_id,
            ),
            _ => String::new(),
        };
        let creators = hits
            .iter()
            .map(|hit| {
                let score = decode_score(hit.score.creator_id, &hit.score.detail)?;
                Ok(creator_message(
                    &CreatorView {
                        id: hit.score.creator_id,
                        platform: hit.score.platform,
                        handle: &hit.handle,
                        profile: hit.profile.as_ref(),
                        stored_posts: hit.stored_posts,
                        updated_at: hit.updated_at,
                    },
                    Some(score),
                ))
            })
            .collect::<Result<Vec<_>, ScoringError>>()?;
        Ok(SearchCreatorsResponse {
            creators,
            next_page_token,
        })
    }
}

fn decode_score(creator_id: i64, detail: &[u8]) -> Result<PbCreatorScore, ScoringError> {
    PbCreatorScore::decode(detail).map_err(|e| {
        ScoringError::Store(StoreError::Corrupt(format!(
            "stored score of creator {creator_id}: {e}"
        )))
    })
}

/// What a Creator message is made from, whether it came from a lookup or a search.
struct CreatorView<'a> {
    id: i64,
    platform: Platform,
    handle: &'a Handle,
    profile: Option<&'a Profile>,
    stored_posts: u64,
    updated_at: DateTime<Utc>,
}

impl<'a> From<&'a StoredCreator> for CreatorView<'a> {
    fn from(creator: &'a StoredCreator) -> Self {
        Self {
            id: creator.id,
            platform: creator.platform,
            handle: &creator.handle,
            profile: creator.profile.as_ref(),
            stored_posts: creator.stored_posts,
            updated_at: creator.updated_at,
        }
    }
}

fn creator_message(creator: &CreatorView<'_>, score: Option<PbCreatorScore>) -> Creator {
    let profile = creator.profile;
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
            let result = self.engine.classifier().classify(&follower);
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
            classifier: self.engine.classifier().describe(),
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
        let score = self.score_of(&creator).await?;
        Ok(Response::new(GetCreatorResponse {
            creator: Some(creator_message(&CreatorView::from(&creator), score)),
        }))
    }

    async fn search_creators(
        &self,
        request: Request<SearchCreatorsRequest>,
    ) -> Result<Response<SearchCreatorsResponse>, Status> {
        Ok(Response::new(self.search(request.get_ref()).await?))
    }
}
