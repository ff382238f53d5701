//! The scoring engine: the model, the fake-follower classifier and the peer index of the stored
//! population, shared by the RPCs and the rescorer.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use prost::Message;
use resonance_core::authenticity::Classifier;
use resonance_core::peers::PeerGroup;
use resonance_core::score::REPORTED_DEFINITION_ID;
use resonance_core::{
    AccountData, CreatorScore, Deliverable, EngagementDefinition, PeerIndex, ScoreContext,
    ScoringModel, ValidationError,
};
use resonance_proto::convert;
use resonance_store::{ScoreRecord, ScoringInput, Store, StoreError};

/// The definition id stored for a score without measured engagement (no posts with counts, no
/// reported averages): such scores are left out of the peer population.
pub const UNMEASURED: &str = "unmeasured";

/// The model with what it scores against.
#[derive(Debug)]
pub struct Engine {
    model: Arc<ScoringModel>,
    classifier: Classifier,
    /// Replaced whole when rebuilt; readers keep the one they started with.
    peers: RwLock<Arc<PeerIndex>>,
}

impl Engine {
    /// An engine over `model` (a model, or one shared with other services of the process).
    pub fn new(model: impl Into<Arc<ScoringModel>>, classifier: Classifier) -> Self {
        let model = model.into();
        let peers = PeerIndex::new(model.population_definition_id(), []);
        Self {
            model,
            classifier,
            peers: RwLock::new(Arc::new(peers)),
        }
    }

    pub fn model(&self) -> &ScoringModel {
        &self.model
    }

    /// The model, to share with other services of the process.
    pub fn shared_model(&self) -> Arc<ScoringModel> {
        Arc::clone(&self.model)
    }

    pub fn classifier(&self) -> &Classifier {
        &self.classifier
    }

    /// The current peer index.
    pub fn peers(&self) -> Arc<PeerIndex> {
        match self.peers.read() {
            Ok(guard) => Arc::clone(&guard),
            // A writer panicked mid-swap; the Arc inside is still whole.
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Rebuilds the peer index from the stored scores; returns the population size.
    pub async fn refresh_peers(&self, store: &Store) -> Result<usize, StoreError> {
        let definition = self.model.population_definition_id();
        let members = store
            .scores()
            .population(&[definition.clone(), REPORTED_DEFINITION_ID.to_owned()])
            .await?;
        let config = self.model.peer_config();
        let index = PeerIndex::new(
            definition,
            members.into_iter().map(|m| {
                (
                    PeerGroup {
                        platform: m.platform,
                        band: config.band(m.followers),
                        niche: m.primary_niche,
                    },
                    m.median_rate,
                )
            }),
        );
        let size = index.len();
        let index = Arc::new(index);
        match self.peers.write() {
            Ok(mut guard) => *guard = index,
            Err(poisoned) => *poisoned.into_inner() = index,
        }
        Ok(size)
    }

    /// Scores an account against the current peers.
    pub fn score(
        &self,
        account: &AccountData,
        definition: Option<EngagementDefinition>,
        now: DateTime<Utc>,
    ) -> Result<CreatorScore, ValidationError> {
        let peers = self.peers();
        let context = ScoreContext {
            classifier: &self.classifier,
            peers: &peers,
            rate_card: None,
        };
        self.model.score(account, definition, &context, now)
    }

    /// Scores a stored creator; `None` when it has no profile yet or its data cannot be scored
    /// (zero followers, say), which is not a caller's error.
    pub fn score_stored(&self, input: ScoringInput, now: DateTime<Utc>) -> Option<CreatorScore> {
        let profile = input.profile?;
        let account = AccountData {
            profile,
            snapshots: input.snapshots,
            posts: input.posts,
            follower_sample: input.follower_sample,
        };
        match self.score(&account, None, now) {
            Ok(score) => Some(score),
            Err(error) => {
                tracing::debug!(creator_id = input.creator_id, %error, "stored creator cannot be scored");
                None
            }
        }
    }

    /// The stored form of a score.
    pub fn record(
        &self,
        creator_id: i64,
        country: Option<String>,
        language: Option<String>,
        score: &CreatorScore,
    ) -> ScoreRecord {
        ScoreRecord {
            creator_id,
            platform: score.peer_group.platform,
            followers: score.followers,
            tier: score.tier,
            country,
            // BCP 47 tags compare without case; search lowercases its filter too.
            language: language.map(|tag| tag.to_ascii_lowercase()),
            primary_niche: score.peer_group.niche.clone(),
            niches: score
                .niches
                .iter()
                .map(|n| (n.id.clone(), n.confidence))
                .collect(),
            // An account with no measured engagement must not join the peer population.
            definition_id: if score.peer.is_some() {
                score.engagement.definition_id.clone()
            } else {
                UNMEASURED.to_owned()
            },
            median_rate: score.engagement.median_rate,
            percentile: score.peer.as_ref().map_or(0.0, |p| p.percentile),
            authenticity: score.authenticity.score,
            fake_share: score.authenticity.fake_follower_share,
            post_price: score.value.price(Deliverable::Post).unwrap_or(0.0),
            value: score.value.engagements_per_currency(),
            expected_engagements: score.value.expected_engagements,
            detail: convert::creator_score(score).encode_to_vec(),
            model_version: score.model_version.clone(),
            computed_at: score.computed_at,
        }
    }
}
