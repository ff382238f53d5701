//! The scoring model: from an account's data to a score with its explanation.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::account::{AccountData, Post};
use crate::engagement::{
    EngagementBasis, EngagementDefinition, EngagementSummary, PostWindow, summarize,
};
use crate::error::{ValidationError, WithinField};
use crate::text::normalize_tag;
use crate::tier::{Tier, TierBounds};

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

/// A creator's score with what it rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatorScore {
    pub tier: Tier,
    pub followers: u64,
    pub engagement: EngagementSummary,
    pub explanation: Vec<Factor>,
    /// Age of the newest data used, at `computed_at`.
    pub data_age: TimeDelta,
    pub sample_posts: u32,
    pub computed_at: DateTime<Utc>,
    pub model_version: String,
}

/// The scoring model, built once from validated configuration.
#[derive(Debug, Clone)]
pub struct ScoringModel {
    default_definition: EngagementDefinition,
    tiers: TierBounds,
    disclosure_hashtags: Vec<String>,
}

impl ScoringModel {
    /// Version of the model's formulas; part of every score.
    pub const VERSION: &'static str = "resonance-score/1";

    pub fn new(config: &ScoringConfig) -> Result<Self, ValidationError> {
        let default_definition = config.engagement.definition().within("engagement")?;
        let tiers = config.tiers.validate()?;
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
        })
    }

    pub fn default_definition(&self) -> EngagementDefinition {
        self.default_definition
    }

    pub fn tiers(&self) -> TierBounds {
        self.tiers
    }

    /// A post is sponsored when it carries the paid-partnership label or a disclosure hashtag.
    pub fn is_sponsored(&self, post: &Post) -> bool {
        post.paid_partnership
            || post
                .hashtags
                .iter()
                .any(|tag| self.disclosure_hashtags.binary_search(tag).is_ok())
    }

    /// Scores an account. `definition` overrides the configured engagement definition.
    pub fn score(
        &self,
        account: &AccountData,
        definition: Option<EngagementDefinition>,
        now: DateTime<Utc>,
    ) -> Result<CreatorScore, ValidationError> {
        let definition = definition
            .unwrap_or(self.default_definition)
            .validate()
            .within("engagement_definition")?;
        let followers = account.profile.followers;
        if followers == 0 && definition.basis == EngagementBasis::Followers {
            return Err(ValidationError::new(
                "account.profile.followers",
                "must be greater than 0 to compute engagement over followers",
            ));
        }
        let engagement = summarize(&definition, followers, &account.posts, |post| {
            self.is_sponsored(post)
        });
        let tier = self.tiers.tier_of(followers);
        let newest = engagement
            .newest_post_at
            .into_iter()
            .chain(std::iter::once(account.profile.observed_at))
            .chain(account.snapshots.iter().map(|s| s.observed_at))
            .max()
            .unwrap_or(account.profile.observed_at);
        let explanation = vec![
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
            Factor {
                name: "followers".to_owned(),
                value: followers as f64,
                contribution: 0.0,
                description: format!("{followers} followers: {} tier", tier.as_str()),
            },
        ];
        Ok(CreatorScore {
            tier,
            followers,
            sample_posts: engagement.posts_considered,
            engagement,
            explanation,
            data_age: (now - newest).max(TimeDelta::zero()),
            computed_at: now,
            model_version: Self::VERSION.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::account::{ContentFormat, Handle, Platform, Profile};

    fn account(followers: u64) -> AccountData {
        let observed_at = Utc
            .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
            .single()
            .expect("valid date");
        AccountData {
            profile: Profile {
                platform: Platform::Instagram,
                handle: Handle::parse("chef.anna").expect("valid handle"),
                external_id: None,
                display_name: "Anna".to_owned(),
                bio: String::new(),
                followers,
                following: 300,
                media_count: 40,
                verified: false,
                is_private: false,
                has_profile_picture: true,
                country: None,
                language: None,
                categories: vec![],
                observed_at,
            },
            snapshots: vec![],
            posts: (1..=3)
                .map(|day| {
                    Post {
                        external_id: format!("p{day}"),
                        posted_at: Utc
                            .with_ymd_and_hms(2026, 2, day, 0, 0, 0)
                            .single()
                            .expect("valid date"),
                        format: ContentFormat::Post,
                        likes: Some(400),
                        comments: Some(100),
                        shares: None,
                        saves: None,
                        views: None,
                        caption: if day == 1 {
                            "new recipe #Ad".to_owned()
                        } else {
                            String::new()
                        },
                        hashtags: vec![],
                        mentions: vec![],
                        paid_partnership: false,
                        url: None,
                    }
                    .with_tags_from_caption()
                })
                .collect(),
        }
    }

    #[test]
    fn scores_tier_engagement_and_sponsorship() {
        let model = ScoringModel::new(&ScoringConfig::default()).expect("default config is valid");
        let now = Utc
            .with_ymd_and_hms(2026, 3, 2, 0, 0, 0)
            .single()
            .expect("valid date");
        let score = model
            .score(&account(25_000), None, now)
            .expect("valid account");
        assert_eq!(score.tier, Tier::Micro);
        assert!((score.engagement.median_rate - 0.02).abs() < 1e-12);
        assert_eq!(score.engagement.sponsored_posts, 1);
        assert_eq!(score.data_age, TimeDelta::days(1));
        assert_eq!(score.sample_posts, 3);
    }

    #[test]
    fn zero_followers_is_refused_with_the_field() {
        let model = ScoringModel::new(&ScoringConfig::default()).expect("default config is valid");
        let error = model
            .score(&account(0), None, Utc::now())
            .expect_err("zero followers");
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
