//! The scoring model: from an account's data to a score with its explanation.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::account::{AccountData, Post};
use crate::authenticity::Classifier;
use crate::engagement::{
    EngagementBasis, EngagementDefinition, EngagementSummary, PostWindow, summarize,
};
use crate::error::{ValidationError, WithinField};
use crate::niche::{NicheClassifier, NicheConfig, NicheMatch};
use crate::peers::{PeerConfig, PeerGroup, PeerIndex, rank};
use crate::quality::{Authenticity, AuthenticityConfig, AuthenticityInputs};
use crate::text::normalize_tag;
use crate::tier::{Tier, TierBounds};
use crate::value::{RateCard, Value, ValueConfig, ValueInputs};

/// The declared default engagement definition, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngagementConfig {
    pub basis: EngagementBasis,
    pub include_shares: bool,
    pub include_saves: bool,
    /// The latest N posts ...
    pub post_window: u32,
    /// ... or, when set, the posts within this many days of the newest.
    pub time_window_days: Option<u32>,
}

impl Default for EngagementConfig {
    fn default() -> Self {
        let default = EngagementDefinition::default();
        let post_window = match default.window {
            PostWindow::Latest(n) => n,
            PostWindow::Within(_) => 12,
        };
        Self {
            basis: default.basis,
            include_shares: default.include_shares,
            include_saves: default.include_saves,
            post_window,
            time_window_days: None,
        }
    }
}

impl EngagementConfig {
    pub fn definition(&self) -> Result<EngagementDefinition, ValidationError> {
        let window = match self.time_window_days {
            Some(days) => PostWindow::Within(TimeDelta::days(i64::from(days))),
            None => PostWindow::Latest(self.post_window),
        };
        EngagementDefinition {
            basis: self.basis,
            include_shares: self.include_shares,
            include_saves: self.include_saves,
            window,
        }
        .validate()
    }
}

/// Configuration of the scoring model. Every constant of the model lives here, with its default
/// and where the default comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoringConfig {
    pub engagement: EngagementConfig,
    pub tiers: TierBounds,
    /// Hashtags that disclose a sponsored post (shared/REFERENCE.md: #ad, #sponsored, #partner
    /// and local variants).
    pub disclosure_hashtags: Vec<String>,
    pub peers: PeerConfig,
    pub authenticity: AuthenticityConfig,
    pub niches: NicheConfig,
    pub value: ValueConfig,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        Self {
            engagement: EngagementConfig::default(),
            tiers: TierBounds::default(),
            disclosure_hashtags: [
                "ad",
                "ads",
                "sponsored",
                "partner",
                "paidpartnership",
                "werbung",
                "anzeige",
                "publicidad",
                "publi",
                "sponsorisé",
                "pub",
                "reklama",
                "annonce",
            ]
            .map(String::from)
            .to_vec(),
            peers: PeerConfig::default(),
            authenticity: AuthenticityConfig::default(),
            niches: NicheConfig::default(),
            value: ValueConfig::default(),
        }
    }
}

/// One factor behind a score.
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    pub name: String,
    pub value: f64,
    /// Signed contribution to the score it explains.
    pub contribution: f64,
    pub description: String,
}

/// Where an account's engagement ranks among its peers.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerPercentile {
    /// 0-100.
    pub percentile: f64,
    /// A readable name of the group, for example "instagram/micro/17.8k-31.6k/food".
    pub group_name: String,
    pub peer_count: u64,
    /// Whether the benchmark prior took part (fewer stored peers than the configured minimum).
    pub from_prior: bool,
}

/// A creator's score with what it rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatorScore {
    pub tier: Tier,
    pub followers: u64,
    pub engagement: EngagementSummary,
    /// The group the account is ranked in (and, when stored, adds to).
    pub peer_group: PeerGroup,
    /// `None` when the engagement definition differs from the one the population is stored
    /// under, or no engagement could be measured.
    pub peer: Option<PeerPercentile>,
    pub authenticity: Authenticity,
    pub niches: Vec<NicheMatch>,
    pub value: Value,
    pub explanation: Vec<Factor>,
    /// Age of the newest data used, at `computed_at`.
    pub data_age: TimeDelta,
    pub sample_posts: u32,
    pub sample_followers: u32,
    pub computed_at: DateTime<Utc>,
    pub model_version: String,
}

/// What a score is computed against besides the account's own data.
#[derive(Debug, Clone, Copy)]
pub struct ScoreContext<'a> {
    pub classifier: &'a Classifier,
    pub peers: &'a PeerIndex,
    /// The creator's known prices, if a brand negotiated them.
    pub rate_card: Option<&'a RateCard>,
}

/// The scoring model, built once from validated configuration.
#[derive(Debug, Clone)]
pub struct ScoringModel {
    default_definition: EngagementDefinition,
    tiers: TierBounds,
    disclosure_hashtags: Vec<String>,
    peers: PeerConfig,
    authenticity: AuthenticityConfig,
    niches: NicheClassifier,
    value: ValueConfig,
}

/// The id of the engagement measured from a source's reported per-post averages, used when an
/// account comes without posts (analytics exports). It is the default definition's formula
/// computed by the source, so it ranks in the same population.
pub const REPORTED_DEFINITION_ID: &str = "reported_interactions_per_follower";

impl ScoringModel {
    /// Version of the model's formulas; part of every score.
    pub const VERSION: &'static str = "resonance-score/2";

    pub fn new(config: &ScoringConfig) -> Result<Self, ValidationError> {
        let default_definition = config.engagement.definition().within("engagement")?;
        let tiers = config.tiers.validate()?;
        config.peers.validate()?;
        config.authenticity.validate()?;
        config.value.validate()?;
        let niches = NicheClassifier::new(&config.niches)?;
        let mut disclosure_hashtags: Vec<String> = config
            .disclosure_hashtags
            .iter()
            .map(|tag| normalize_tag(tag, '#'))
            .filter(|t| !t.is_empty())
            .collect();
        disclosure_hashtags.sort();
        disclosure_hashtags.dedup();
        Ok(Self {
            default_definition,
            tiers,
            disclosure_hashtags,
            peers: config.peers.clone(),
            authenticity: config.authenticity.clone(),
            niches,
            value: config.value.clone(),
        })
    }

    pub fn default_definition(&self) -> EngagementDefinition {
        self.default_definition
    }

    pub fn tiers(&self) -> TierBounds {
        self.tiers
    }

    pub fn peer_config(&self) -> &PeerConfig {
        &self.peers
    }

    pub fn niches(&self) -> &NicheClassifier {
        &self.niches
    }

    pub fn value_config(&self) -> &ValueConfig {
        &self.value
    }

    /// The id of the definition stored scores use: a peer index is built under it.
    pub fn population_definition_id(&self) -> String {
        self.default_definition.id()
    }

    /// A post is sponsored when it carries the paid-partnership label or a disclosure hashtag.
    pub fn is_sponsored(&self, post: &Post) -> bool {
        post.paid_partnership
            || post
                .hashtags
                .iter()
                .any(|tag| self.disclosure_hashtags.binary_search(tag).is_ok())
    }

    /// Engagement from the newest reported averages, when the account has no measurable posts.
    fn reported_engagement(
        &self,
        account: &AccountData,
        followers: u64,
    ) -> Option<(EngagementSummary, Option<(f64, f64)>)> {
        let snapshot = account
            .snapshots
            .iter()
            .filter(|s| !s.reported.is_empty())
            .max_by_key(|s| s.observed_at)?;
        let reported = snapshot.reported;
        let likes = reported.likes.map(|v| v as f64);
        let comments = reported.comments.map(|v| v as f64);
        let interactions = match (reported.engagements, likes, comments) {
            (Some(total), _, _) => total as f64,
            (None, None, None) => return None,
            (None, l, c) => l.unwrap_or(0.0) + c.unwrap_or(0.0),
        };
        if followers == 0 {
            return None;
        }
        let rate = interactions / followers as f64;
        let summary = EngagementSummary {
            definition_id: REPORTED_DEFINITION_ID.to_owned(),
            definition: format!(
                "average interactions per post as the source reported them on {}, over followers at scoring time",
                snapshot.observed_at.format("%Y-%m-%d")
            ),
            mean_rate: rate,
            median_rate: rate,
            view_rate: reported
                .views
                .filter(|v| *v > 0)
                .map(|v| interactions / v as f64),
            sponsored_rate: None,
            organic_rate: None,
            posts_considered: 0,
            sponsored_posts: 0,
            posts_per_week: 0.0,
            rate_variation: 0.0,
            mean_likes: likes.unwrap_or(0.0),
            mean_comments: comments.unwrap_or(0.0),
            mean_interactions: interactions,
            mean_views: reported.views.map(|v| v as f64),
            newest_post_at: None,
        };
        let authentic = reported
            .authentic_engagements
            .map(|a| (interactions, a as f64));
        Some((summary, authentic))
    }

    /// Scores an account. `definition` overrides the configured engagement definition.
    pub fn score(
        &self,
        account: &AccountData,
        definition: Option<EngagementDefinition>,
        context: &ScoreContext<'_>,
        now: DateTime<Utc>,
    ) -> Result<CreatorScore, ValidationError> {
        let definition = definition
            .unwrap_or(self.default_definition)
            .validate()
            .within("engagement_definition")?;
        let profile = &account.profile;
        let followers = profile.followers;
        if followers == 0 && definition.basis == EngagementBasis::Followers {
            return Err(ValidationError::new(
                "account.profile.followers",
                "must be greater than 0 to compute engagement over followers",
            ));
        }
        let mut engagement = summarize(&definition, followers, &account.posts, |post| {
            self.is_sponsored(post)
        });
        let mut reported = None;
        if engagement.posts_considered == 0
            && definition.basis == EngagementBasis::Followers
            && let Some((summary, authentic)) = self.reported_engagement(account, followers)
        {
            engagement = summary;
            reported = authentic;
        }
        let measured =
            engagement.posts_considered > 0 || engagement.definition_id == REPORTED_DEFINITION_ID;
        let tier = self.tiers.tier_of(followers);
        let niches = self.niches.classify(profile, &account.posts);
        let peer_group = PeerGroup {
            platform: profile.platform,
            band: self.peers.band(followers),
            niche: niches
                .first()
                .map_or_else(|| PeerGroup::GENERAL.to_owned(), |n| n.id.clone()),
        };
        let comparable = definition == self.default_definition;
        let peer = (measured && comparable).then(|| {
            let ranked = rank(
                engagement.median_rate,
                context.peers.peers(&peer_group),
                self.peers.prior(tier),
                self.peers.min_peers,
            );
            PeerPercentile {
                percentile: ranked.percentile,
                group_name: self.peers.describe(&peer_group, tier),
                peer_count: ranked.peers as u64,
                from_prior: ranked.prior_weight > 0.0,
            }
        });
        let authenticity = self.authenticity.assess(
            &AuthenticityInputs {
                profile,
                snapshots: &account.snapshots,
                engagement: &engagement,
                percentile: peer.as_ref().map(|p| p.percentile),
                follower_sample: &account.follower_sample,
                reported,
            },
            context.classifier,
        );
        let interactions_per_post = if engagement.posts_considered > 0 {
            engagement.mean_interactions
        } else {
            engagement.mean_rate * followers as f64
        };
        let value = self.value.value(
            &ValueInputs {
                platform: profile.platform,
                tier,
                followers,
                interactions_per_post,
                reported_authentic: reported.map(|(_, authentic)| authentic),
                views_per_post: engagement.mean_views,
                rate: if definition.basis == EngagementBasis::Followers {
                    engagement.mean_rate
                } else {
                    interactions_per_post / followers.max(1) as f64
                },
                fake_share: authenticity.fake_follower_share.unwrap_or(0.0),
            },
            context.rate_card,
        );
        let newest = engagement
            .newest_post_at
            .into_iter()
            .chain(std::iter::once(profile.observed_at))
            .chain(account.snapshots.iter().map(|s| s.observed_at))
            .max()
            .unwrap_or(profile.observed_at);
        let explanation = explain(
            &engagement,
            tier,
            followers,
            peer.as_ref(),
            &authenticity,
            &niches,
            &value,
        );
        Ok(CreatorScore {
            tier,
            followers,
            sample_posts: engagement.posts_considered,
            sample_followers: authenticity.sample_followers,
            engagement,
            peer_group,
            peer,
            authenticity,
            niches,
            value,
            explanation,
            data_age: (now - newest).max(TimeDelta::zero()),
            computed_at: now,
            model_version: Self::VERSION.to_owned(),
        })
    }
}

fn explain(
    engagement: &EngagementSummary,
    tier: Tier,
    followers: u64,
    peer: Option<&PeerPercentile>,
    authenticity: &Authenticity,
    niches: &[NicheMatch],
    value: &Value,
) -> Vec<Factor> {
    let mut factors = vec![
        Factor {
            name: "followers".to_owned(),
            value: followers as f64,
            contribution: 0.0,
            description: format!("{followers} followers: {} tier", tier.as_str()),
        },
        Factor {
            name: "engagement.median_rate".to_owned(),
            value: engagement.median_rate,
            contribution: 0.0,
            description: format!(
                "median engagement rate {:.2}% over {} posts ({})",
                engagement.median_rate * 100.0,
                engagement.posts_considered,
                engagement.definition
            ),
        },
    ];
    if let Some(peer) = peer {
        factors.push(Factor {
            name: "engagement.peer_percentile".to_owned(),
            value: peer.percentile,
            contribution: peer.percentile,
            description: format!(
                "ranks at the {:.0}th percentile of {} ({} stored peers{})",
                peer.percentile,
                peer.group_name,
                peer.peer_count,
                if peer.from_prior {
                    ", blended with the benchmark prior"
                } else {
                    ""
                }
            ),
        });
    }
    for signal in &authenticity.signals {
        factors.push(Factor {
            name: format!("authenticity.{}", signal.code.to_ascii_lowercase()),
            value: signal.penalty,
            contribution: -signal.penalty,
            description: signal.message.clone(),
        });
    }
    for niche in niches {
        factors.push(Factor {
            name: format!("niche.{}", niche.id),
            value: niche.confidence,
            contribution: 0.0,
            description: format!(
                "{} (evidence {:.1} from categories, bio, hashtags and captions)",
                niche.name, niche.evidence
            ),
        });
    }
    factors.push(Factor {
        name: "value.expected_engagements".to_owned(),
        value: value.expected_engagements,
        contribution: 0.0,
        description: format!(
            "{:.0} authentic engagements expected per post",
            value.expected_engagements
        ),
    });
    if let Some(cpe) = value.cost_per_engagement {
        factors.push(Factor {
            name: "value.cost_per_engagement".to_owned(),
            value: cpe,
            contribution: 0.0,
            description: format!("{cpe:.3} {} per authentic engagement", value.currency),
        });
    }
    factors
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::account::Profile;

    fn account(followers: u64) -> AccountData {
        AccountData {
            profile: Profile {
                display_name: "Anna".to_owned(),
                media_count: 40,
                ..crate::fixtures::profile("chef.anna", followers, 300)
            },
            snapshots: vec![],
            posts: (1..=3)
                .map(|day| {
                    let posted_at = Utc
                        .with_ymd_and_hms(2026, 2, day, 0, 0, 0)
                        .single()
                        .expect("valid date");
                    let caption = if day == 1 { "new recipe #Ad" } else { "" };
                    Post {
                        likes: Some(480),
                        comments: Some(20),
                        ..crate::fixtures::post(&format!("p{day}"), posted_at, caption)
                    }
                })
                .collect(),
            follower_sample: vec![],
        }
    }

    fn score(
        model: &ScoringModel,
        account: &AccountData,
        now: DateTime<Utc>,
    ) -> Result<CreatorScore, ValidationError> {
        let peers = PeerIndex::default();
        let context = ScoreContext {
            classifier: &Classifier::Rules,
            peers: &peers,
            rate_card: None,
        };
        model.score(account, None, &context, now)
    }

    #[test]
    fn scores_tier_engagement_and_sponsorship() {
        let model = ScoringModel::new(&ScoringConfig::default()).expect("default config is valid");
        let now = Utc
            .with_ymd_and_hms(2026, 3, 2, 0, 0, 0)
            .single()
            .expect("valid date");
        let score = score(&model, &account(25_000), now).expect("valid account");
        assert_eq!(score.tier, Tier::Micro);
        assert!((score.engagement.median_rate - 0.02).abs() < 1e-12);
        assert_eq!(score.engagement.sponsored_posts, 1);
        assert_eq!(score.data_age, TimeDelta::days(1));
        assert_eq!(score.sample_posts, 3);
        // No stored peers: the micro prior alone ranks 2% (its median is 1.87%).
        let peer = score.peer.expect("ranked");
        assert!(peer.from_prior && peer.peer_count == 0);
        assert!(peer.percentile > 50.0 && peer.percentile < 60.0, "{peer:?}");
        assert_eq!(score.peer_group.niche, "food");
        // 25k followers x $0.01 = $250 a post; 500 interactions, no fake share known.
        assert_eq!(score.value.price(crate::Deliverable::Post), Some(250.0));
        assert_eq!(score.value.cost_per_engagement, Some(0.5));
        assert_eq!(score.authenticity.score, 100.0);
    }

    #[test]
    fn an_export_without_posts_is_scored_from_reported_averages() {
        let model = ScoringModel::new(&ScoringConfig::default()).expect("default config is valid");
        let mut account = account(100_000);
        account.posts.clear();
        account.snapshots.push(crate::MetricSnapshot {
            observed_at: account.profile.observed_at,
            followers: 100_000,
            following: 300,
            media_count: 40,
            reported: crate::ReportedAverages {
                engagements: Some(2_000),
                authentic_engagements: Some(1_500),
                ..Default::default()
            },
        });
        let now = account.profile.observed_at;
        let score = score(&model, &account, now).expect("valid account");
        assert_eq!(score.engagement.definition_id, REPORTED_DEFINITION_ID);
        assert!((score.engagement.median_rate - 0.02).abs() < 1e-12);
        assert_eq!(score.value.expected_engagements, 1_500.0);
        let codes: Vec<_> = score.authenticity.signals.iter().map(|s| s.code).collect();
        assert_eq!(codes, ["INAUTHENTIC_ENGAGEMENT"]);
        assert!((score.authenticity.score - 90.0).abs() < 1e-9);
        assert!(score.peer.is_some());
    }

    #[test]
    fn zero_followers_is_refused_with_the_field() {
        let model = ScoringModel::new(&ScoringConfig::default()).expect("default config is valid");
        let error = score(&model, &account(0), Utc::now()).expect_err("zero followers");
        assert_eq!(error.field, "account.profile.followers");
    }

    #[test]
    fn invalid_configuration_names_the_key() {
        let mut config = ScoringConfig::default();
        config.engagement.post_window = 0;
        let error = ScoringModel::new(&config).expect_err("zero window");
        assert_eq!(error.field, "engagement.post_window");
    }
}
