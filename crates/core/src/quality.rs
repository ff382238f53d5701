//! Authenticity 0-100: how far a creator's audience and engagement can be trusted.
//!
//! The score starts at 100 and each signal that fires removes points; every signal has a stable
//! reason code, its penalty and a message. The components follow HypeAuditor's Audience
//! Quality Score (shared/REFERENCE.md, "Audience quality"):
//!
//! | code                          | fires when                                                  | penalty (default) |
//! |-------------------------------|-------------------------------------------------------------|-------------------|
//! | `FAKE_FOLLOWERS` / `_HIGH`    | a follower sample of at least `min_follower_sample` was classified; `_HIGH` above 25% fake | `fake_share_weight` x share (60 x share) |
//! | `INAUTHENTIC_ENGAGEMENT`      | the source reported authentic engagement below its total      | `inauthentic_engagement_weight` x inauthentic share (40 x) |
//! | `FOLLOWER_SPIKE`              | followers jumped by over `spike_min_growth` (15%) between two snapshots at most `spike_window_days` (30) apart, and by over `spike_factor` (5) times the account's typical daily growth | `spike_penalty` (15) each, at most `max_spike_penalty` (30) |
//! | `FOLLOWER_DROP`               | followers fell by over `drop_min` (10%) between two snapshots (a purge of bought followers) | `drop_penalty` (10) |
//! | `ENGAGEMENT_BELOW_PEERS`      | engagement below the `low_percentile` (5th) of peers: an audience that does not engage | `low_engagement_penalty` (15) |
//! | `ENGAGEMENT_ABOVE_PEERS`      | engagement above the `high_percentile` (99.5th) of peers: possible pods or bought likes | `high_engagement_penalty` (10) |
//! | `FOLLOWING_RATIO_HIGH`        | following / followers above `following_ratio_warn` (0.5); doubled above 1 (follow-for-follow) | `following_ratio_penalty` (7.5, 15 above 1) |
//! | `COMMENT_LIKE_RATIO_LOW` / `_HIGH` | comments per like outside [`min_comment_like`, `max_comment_like`] (0.2%, 15%) over at least `min_likes_for_ratio` likes | `comment_like_penalty` (10) |
//! | `SPONSORED_UNDERPERFORMS`     | sponsored posts engage at under `min_sponsored_to_organic` (0.5) of organic ones | `sponsored_penalty` (5) |
//! | `FOLLOWER_SAMPLE_SMALL`       | a follower sample too small to estimate from              | 0 (information)   |

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::account::{MetricSnapshot, Profile};
use crate::authenticity::Classifier;
use crate::engagement::EngagementSummary;
use crate::error::{ValidationError, non_negative};
use crate::follower::FollowerProfile;

/// Thresholds and penalties of the authenticity score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthenticityConfig {
    pub min_follower_sample: usize,
    pub fake_share_weight: f64,
    /// REFERENCE.md: mass followers plus suspicious above about 25% is a warning sign.
    pub fake_share_warning: f64,
    pub inauthentic_engagement_weight: f64,
    pub spike_min_growth: f64,
    /// A jump counts as a spike only within this many days.
    pub spike_window_days: u32,
    pub spike_factor: f64,
    pub spike_penalty: f64,
    pub max_spike_penalty: f64,
    pub drop_min: f64,
    pub drop_penalty: f64,
    pub low_percentile: f64,
    pub low_engagement_penalty: f64,
    pub high_percentile: f64,
    pub high_engagement_penalty: f64,
    pub following_ratio_warn: f64,
    pub following_ratio_penalty: f64,
    pub min_comment_like: f64,
    pub max_comment_like: f64,
    pub min_likes_for_ratio: u64,
    pub comment_like_penalty: f64,
    pub min_sponsored_to_organic: f64,
    pub sponsored_penalty: f64,
}

impl Default for AuthenticityConfig {
    fn default() -> Self {
        Self {
            min_follower_sample: 30,
            fake_share_weight: 60.0,
            fake_share_warning: 0.25,
            inauthentic_engagement_weight: 40.0,
            spike_min_growth: 0.15,
            spike_window_days: 30,
            spike_factor: 5.0,
            spike_penalty: 15.0,
            max_spike_penalty: 30.0,
            drop_min: 0.10,
            drop_penalty: 10.0,
            low_percentile: 5.0,
            low_engagement_penalty: 15.0,
            high_percentile: 99.5,
            high_engagement_penalty: 10.0,
            following_ratio_warn: 0.5,
            following_ratio_penalty: 7.5,
            min_comment_like: 0.002,
            max_comment_like: 0.15,
            min_likes_for_ratio: 100,
            comment_like_penalty: 10.0,
            min_sponsored_to_organic: 0.5,
            sponsored_penalty: 5.0,
        }
    }
}

impl AuthenticityConfig {
    pub fn validate(&self) -> Result<(), ValidationError> {
        let fields = [
            ("fake_share_weight", self.fake_share_weight),
            ("fake_share_warning", self.fake_share_warning),
            (
                "inauthentic_engagement_weight",
                self.inauthentic_engagement_weight,
            ),
            ("spike_min_growth", self.spike_min_growth),
            ("spike_factor", self.spike_factor),
            ("spike_penalty", self.spike_penalty),
            ("max_spike_penalty", self.max_spike_penalty),
            ("drop_min", self.drop_min),
            ("drop_penalty", self.drop_penalty),
            ("low_percentile", self.low_percentile),
            ("low_engagement_penalty", self.low_engagement_penalty),
            ("high_percentile", self.high_percentile),
            ("high_engagement_penalty", self.high_engagement_penalty),
            ("following_ratio_warn", self.following_ratio_warn),
            ("following_ratio_penalty", self.following_ratio_penalty),
            ("min_comment_like", self.min_comment_like),
            ("max_comment_like", self.max_comment_like),
            ("comment_like_penalty", self.comment_like_penalty),
            ("min_sponsored_to_organic", self.min_sponsored_to_organic),
            ("sponsored_penalty", self.sponsored_penalty),
        ];
        for (name, value) in fields {
            non_negative(value, &format!("authenticity.{name}"))?;
        }
        if self.low_percentile > 100.0 || self.high_percentile > 100.0 {
            return Err(ValidationError::new(
                "authenticity.high_percentile",
                "percentiles lie between 0 and 100",
            ));
        }
        if self.min_comment_like > self.max_comment_like {
            return Err(ValidationError::new(
                "authenticity.max_comment_like",
                "must not be below min_comment_like",
            ));
        }
        Ok(())
    }
}

/// One signal that lowered (or, with penalty 0, informs) the authenticity score.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    pub code: &'static str,
    pub penalty: f64,
    pub message: String,
}

/// The authenticity score with its signals.
#[derive(Debug, Clone, PartialEq)]
pub struct Authenticity {
    /// 0-100; 100 is fully authentic.
    pub score: f64,
    /// Estimated share of fake followers, when a sample allowed an estimate.
    pub fake_follower_share: Option<f64>,
    /// Follower profiles classified.
    pub sample_followers: u32,
    pub signals: Vec<Signal>,
}

/// What the authenticity score is computed from.
#[derive(Debug, Clone, Copy)]
pub struct AuthenticityInputs<'a> {
    pub profile: &'a Profile,
    /// Oldest first or in any order.
    pub snapshots: &'a [MetricSnapshot],
    pub engagement: &'a EngagementSummary,
    /// The engagement percentile among peers, 0-100, when ranked.
    pub percentile: Option<f64>,
    pub follower_sample: &'a [FollowerProfile],
    /// Interactions per post the source reported in total and from real accounts.
    pub reported: Option<(f64, f64)>,
}

fn percent(value: f64) -> String {
    format!("{:.1}%", value * 100.0)
}

impl AuthenticityConfig {
    /// Scores an account's authenticity.
    pub fn assess(&self, inputs: &AuthenticityInputs<'_>, classifier: &Classifier) -> Authenticity {
        let mut signals = Vec::new();
        let fake_follower_share =
            self.fake_followers(inputs.follower_sample, classifier, &mut signals);
        if let Some((total, authentic)) = inputs.reported
            && total > 0.0
            && authentic < total
        {
            let inauthentic = ((total - authentic) / total).clamp(0.0, 1.0);
            signals.push(Signal {
                code: "INAUTHENTIC_ENGAGEMENT",
                penalty: self.inauthentic_engagement_weight * inauthentic,
                message: format!(
                    "the source counts {} of engagement as not from real accounts",
                    percent(inauthentic)
                ),
            });
        }
        self.growth(inputs.profile, inputs.snapshots, &mut signals);
        if let Some(percentile) = inputs.percentile
            && inputs.engagement.posts_considered > 0
        {
            if percentile < self.low_percentile {
                signals.push(Signal {
                    code: "ENGAGEMENT_BELOW_PEERS",
                    penalty: self.low_engagement_penalty,
                    message: format!(
                        "engagement at the {percentile:.1}th percentile of peers: much of the audience does not engage"
                    ),
                });
            } else if percentile > self.high_percentile {
                signals.push(Signal {
                    code: "ENGAGEMENT_ABOVE_PEERS",
                    penalty: self.high_engagement_penalty,
                    message: format!(
                        "engagement at the {percentile:.1}th percentile of peers: check for engagement pods or bought likes"
                    ),
                });
            }
        }
        let profile = inputs.profile;
        if profile.followers > 0 {
            let ratio = profile.following as f64 / profile.followers as f64;
            if ratio > self.following_ratio_warn {
                let doubled = ratio > 1.0;
                signals.push(Signal {
                    code: "FOLLOWING_RATIO_HIGH",
                    penalty: if doubled {
                        2.0 * self.following_ratio_penalty
                    } else {
                        self.following_ratio_penalty
                    },
                    message: format!(
                        "follows {} accounts for {} followers (ratio {ratio:.2}){}",
                        profile.following,
                        profile.followers,
                        if doubled {
                            ": follow-for-follow growth"
                        } else {
                            ""
                        }
                    ),
                });
            }
        }
        let engagement = inputs.engagement;
        let likes = engagement.mean_likes * f64::from(engagement.posts_considered);
        if likes >= self.min_likes_for_ratio as f64 && engagement.mean_likes > 0.0 {
            let ratio = engagement.mean_comments / engagement.mean_likes;
            let (code, bound) = if ratio < self.min_comment_like {
                ("COMMENT_LIKE_RATIO_LOW", "below")
            } else if ratio > self.max_comment_like {
                ("COMMENT_LIKE_RATIO_HIGH", "above")
            } else {
                ("", "")
            };
            if !code.is_empty() {
                signals.push(Signal {
                    code,
                    penalty: self.comment_like_penalty,
                    message: format!(
                        "{} comments per like, {bound} the expected {} to {}",
                        percent(ratio),
                        percent(self.min_comment_like),
                        percent(self.max_comment_like)
                    ),
                });
            }
        }
        if let Some(ratio) = engagement.sponsored_to_organic()
            && ratio < self.min_sponsored_to_organic
        {
            signals.push(Signal {
                code: "SPONSORED_UNDERPERFORMS",
                penalty: self.sponsored_penalty,
                message: format!(
                    "sponsored posts engage at {ratio:.2}x organic ones (paid post performance)"
                ),
            });
        }
        let penalty: f64 = signals.iter().map(|s| s.penalty).sum();
        Authenticity {
            score: (100.0 - penalty).clamp(0.0, 100.0),
            fake_follower_share,
            sample_followers: u32::try_from(inputs.follower_sample.len()).unwrap_or(u32::MAX),
            signals,
        }
    }

    fn fake_followers(
        &self,
        sample: &[FollowerProfile],
        classifier: &Classifier,
        signals: &mut Vec<Signal>,
    ) -> Option<f64> {
        if sample.is_empty() {
            return None;
        }
        if sample.len() < self.min_follower_sample {
            signals.push(Signal {
                code: "FOLLOWER_SAMPLE_SMALL",
                penalty: 0.0,
                message: format!(
                    "{} follower profiles sampled; at least {} are needed to estimate the fake share",
                    sample.len(),
                    self.min_follower_sample
                ),
            });
            return None;
        }
        let fakes = sample.iter().filter(|f| classifier.is_fake(f)).count();
        let share = fakes as f64 / sample.len() as f64;
        let high = share > self.fake_share_warning;
        signals.push(Signal {
            code: if high {
                "FAKE_FOLLOWERS_HIGH"
            } else {
                "FAKE_FOLLOWERS"
            },
            penalty: self.fake_share_weight * share,
            message: format!(
                "{} of {} sampled followers look fake ({}, {})",
                fakes,
                sample.len(),
                percent(share),
                classifier.describe()
            ),
        });
        Some(share)
    }

    /// Follower spikes and drops between consecutive snapshots (the profile is the newest).
    fn growth(&self, profile: &Profile, snapshots: &[MetricSnapshot], signals: &mut Vec<Signal>) {
        let mut points: Vec<(chrono::DateTime<chrono::Utc>, u64)> = snapshots
            .iter()
            .map(|s| (s.observed_at, s.followers))
            .chain(std::iter::once((profile.observed_at, profile.followers)))
            .collect();
        points.sort();
        points.dedup_by_key(|p| p.0);
        if points.len() < 2 {
            return;
        }
        // Daily relative growth of every interval, to know what is typical for this account.
        let steps: Vec<(f64, f64, f64)> = points
            .windows(2)
            .filter(|pair| pair[0].1 > 0)
            .map(|pair| {
                let growth = (pair[1].1 as f64 - pair[0].1 as f64) / pair[0].1 as f64;
                let days = ((pair[1].0 - pair[0].0).num_seconds() as f64
                    / TimeDelta::days(1).num_seconds() as f64)
                    .max(1.0);
                (growth, growth / days, days)
            })
            .collect();
        let mut daily: Vec<f64> = steps.iter().map(|s| s.1.max(0.0)).collect();
        daily.sort_by(f64::total_cmp);
        let typical = daily.get(daily.len() / 2).copied().unwrap_or(0.0);
        let mut spike_penalty = 0.0;
        let mut dropped = false;
        for (growth, per_day, days) in &steps {
            if *growth > self.spike_min_growth
                && *days <= f64::from(self.spike_window_days)
                && (steps.len() < 3 || *per_day > self.spike_factor * typical)
            {
                let penalty = self
                    .spike_penalty
                    .min(self.max_spike_penalty - spike_penalty)
                    .max(0.0);
                spike_penalty += penalty;
                signals.push(Signal {
                    code: "FOLLOWER_SPIKE",
                    penalty,
                    message: format!(
                        "followers jumped by {} between two snapshots",
                        percent(*growth)
                    ),
                });
            } else if *growth < -self.drop_min && !dropped {
                dropped = true;
                signals.push(Signal {
                    code: "FOLLOWER_DROP",
                    penalty: self.drop_penalty,
                    message: format!(
                        "followers fell by {} between two snapshots (a purge of bought followers?)",
                        percent(-growth)
                    ),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::account::ReportedAverages;
    use crate::engagement::{EngagementDefinition, summarize};
    use crate::fixtures::march;

    fn profile(followers: u64, following: u64, day: u32) -> Profile {
        Profile {
            observed_at: march(day),
            ..crate::fixtures::profile("someone", followers, following)
        }
    }

    fn snapshot(followers: u64, day: u32) -> MetricSnapshot {
        MetricSnapshot {
            observed_at: profile(0, 0, day).observed_at,
            followers,
            following: 100,
            media_count: 100,
            reported: ReportedAverages::default(),
        }
    }

    fn assess(inputs: &AuthenticityInputs<'_>) -> Authenticity {
        AuthenticityConfig::default().assess(inputs, &Classifier::Rules)
    }

    fn codes(result: &Authenticity) -> Vec<&'static str> {
        result.signals.iter().map(|s| s.code).collect()
    }

    #[test]
    fn a_clean_account_keeps_100() {
        let engagement = summarize(&EngagementDefinition::default(), 20_000, &[], |_| false);
        let profile = profile(20_000, 300, 20);
        let snapshots = [snapshot(19_000, 1), snapshot(19_500, 10)];
        let result = assess(&AuthenticityInputs {
            profile: &profile,
            snapshots: &snapshots,
            engagement: &engagement,
            percentile: Some(50.0),
            follower_sample: &[],
            reported: None,
        });
        assert_eq!(result.score, 100.0, "{result:?}");
        assert!(result.signals.is_empty());
    }

    #[test]
    fn a_follower_spike_and_mass_following_lower_the_score() {
        let engagement = summarize(&EngagementDefinition::default(), 20_000, &[], |_| false);
        let profile = profile(30_000, 40_000, 20);
        let snapshots = [
            snapshot(10_000, 1),
            snapshot(10_100, 5),
            snapshot(10_200, 9),
            snapshot(10_300, 13),
        ];
        let result = assess(&AuthenticityInputs {
            profile: &profile,
            snapshots: &snapshots,
            engagement: &engagement,
            percentile: Some(3.0),
            follower_sample: &[],
            reported: Some((1_000.0, 600.0)),
        });
        assert_eq!(
            codes(&result),
            [
                "INAUTHENTIC_ENGAGEMENT",
                "FOLLOWER_SPIKE",
                "FOLLOWING_RATIO_HIGH",
            ],
            "no posts: the percentile says nothing about engagement"
        );
        // 40 x 0.4 + 15 + 15.
        assert!((result.score - 54.0).abs() < 1e-9, "{result:?}");
    }

    #[test]
    fn a_fake_follower_sample_is_estimated_and_flagged() {
        let engagement = summarize(&EngagementDefinition::default(), 20_000, &[], |_| false);
        let profile = profile(20_000, 300, 20);
        let real = FollowerProfile {
            followers: 300,
            following: 280,
            media_count: 40,
            has_profile_picture: true,
            ..FollowerProfile::default()
        };
        let fake = FollowerProfile {
            followers: 3,
            following: 4_000,
            ..FollowerProfile::default()
        };
        let sample: Vec<FollowerProfile> = (0..40)
            .map(|i| {
                if i % 4 == 0 {
                    fake.clone()
                } else {
                    real.clone()
                }
            })
            .chain((0..10).map(|_| fake.clone()))
            .collect();
        let result = assess(&AuthenticityInputs {
            profile: &profile,
            snapshots: &[],
            engagement: &engagement,
            percentile: None,
            follower_sample: &sample,
            reported: None,
        });
        // 20 of 50 fake: 40%, over the 25% warning.
        assert_eq!(result.fake_follower_share, Some(0.4));
        assert_eq!(codes(&result), ["FAKE_FOLLOWERS_HIGH"]);
        assert!((result.score - 76.0).abs() < 1e-9);

        let small = assess(&AuthenticityInputs {
            follower_sample: &sample[..5],
            ..AuthenticityInputs {
                profile: &profile,
                snapshots: &[],
                engagement: &engagement,
                percentile: None,
                follower_sample: &[],
                reported: None,
            }
        });
        assert_eq!(small.fake_follower_share, None);
        assert_eq!(codes(&small), ["FOLLOWER_SAMPLE_SMALL"]);
        assert_eq!(small.score, 100.0);
    }

    #[test]
    fn slow_growth_over_a_year_is_not_a_spike() {
        let engagement = summarize(&EngagementDefinition::default(), 20_000, &[], |_| false);
        let mut profile = profile(13_000, 300, 1);
        profile.observed_at = Utc
            .with_ymd_and_hms(2027, 3, 1, 0, 0, 0)
            .single()
            .expect("valid date");
        let result = assess(&AuthenticityInputs {
            profile: &profile,
            snapshots: &[snapshot(10_000, 1)],
            engagement: &engagement,
            percentile: None,
            follower_sample: &[],
            reported: None,
        });
        assert!(result.signals.is_empty(), "{result:?}");
    }
}
