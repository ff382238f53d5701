//! Engagement rate by declared definitions.
//!
//! A rate is only meaningful with its definition: which interactions count, over which posts, and
//! over what denominator. Every summary carries the id and formula of the definition it used.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::account::Post;
use crate::error::ValidationError;

/// The denominator of a per-post rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EngagementBasis {
    /// Interactions over followers at scoring time (HypeAuditor, GRIN).
    #[default]
    Followers,
    /// Interactions over the post's views (common for TikTok and YouTube).
    Views,
}

/// Which posts a rate is computed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostWindow {
    /// The latest N posts.
    Latest(u32),
    /// Posts within this long before the newest post.
    Within(TimeDelta),
}

/// A declared engagement definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngagementDefinition {
    pub basis: EngagementBasis,
    pub include_shares: bool,
    pub include_saves: bool,
    pub window: PostWindow,
}

impl Default for EngagementDefinition {
    /// (likes + comments) / followers over the latest 12 posts: HypeAuditor's and GRIN's
    /// definition (shared/REFERENCE.md, "Engagement rate").
    fn default() -> Self {
        Self {
            basis: EngagementBasis::Followers,
            include_shares: false,
            include_saves: false,
            window: PostWindow::Latest(12),
        }
    }
}

impl EngagementDefinition {
    /// The most posts a window may name; bounds the work of one score.
    pub const MAX_POST_WINDOW: u32 = 500;

    pub fn validate(self) -> Result<Self, ValidationError> {
        match self.window {
            PostWindow::Latest(0) => Err(ValidationError::new("post_window", "must be at least 1")),
            PostWindow::Latest(n) if n > Self::MAX_POST_WINDOW => Err(ValidationError::new(
                "post_window",
                format!("must be at most {}", Self::MAX_POST_WINDOW),
            )),
            PostWindow::Within(span) if span <= TimeDelta::zero() => {
                Err(ValidationError::new("time_window", "must be positive"))
            }
            _ => Ok(self),
        }
    }

    /// A stable identifier, for example `interactions_per_follower.latest_12` or
    /// `likes_comments_shares_per_view.within_60d`.
    pub fn id(&self) -> String {
        let interactions = match (self.include_shares, self.include_saves) {
            (false, false) => "interactions",
            (true, false) => "interactions_shares",
            (false, true) => "interactions_saves",
            (true, true) => "interactions_shares_saves",
        };
        let basis = match self.basis {
            EngagementBasis::Followers => "per_follower",
            EngagementBasis::Views => "per_view",
        };
        let window = match self.window {
            PostWindow::Latest(n) => format!("latest_{n}"),
            PostWindow::Within(span) => format!("within_{}d", span.num_days().max(1)),
        };
        format!("{interactions}_{basis}.{window}")
    }

    /// The formula in words.
    pub fn describe(&self) -> String {
        let mut counted = String::from("likes + comments");
        if self.include_shares {
            counted.push_str(" + shares");
        }
        if self.include_saves {
            counted.push_str(" + saves");
        }
        let denominator = match self.basis {
            EngagementBasis::Followers => "followers at scoring time",
            EngagementBasis::Views => "the post's views",
        };
        let window = match self.window {
            PostWindow::Latest(n) => format!("the latest {n} posts"),
            PostWindow::Within(span) => {
                format!("posts within {} days of the newest", span.num_days().max(1))
            }
        };
        format!("({counted}) / {denominator}, per post, over {window}; mean and median")
    }

    /// Interactions of one post under this definition; `None` when the post reports neither
    /// likes nor comments (hidden counts), so it cannot be measured.
    pub fn interactions(&self, post: &Post) -> Option<u64> {
        if post.likes.is_none() && post.comments.is_none() {
            return None;
        }
        let mut total = post
            .likes
            .unwrap_or(0)
            .saturating_add(post.comments.unwrap_or(0));
        if self.include_shares {
            total = total.saturating_add(post.shares.unwrap_or(0));
        }
        if self.include_saves {
            total = total.saturating_add(post.saves.unwrap_or(0));
        }
        Some(total)
    }

    /// The posts in this definition's window, newest first.
    pub fn select<'a>(&self, posts: &'a [Post]) -> Vec<&'a Post> {
        let mut newest_first: Vec<&Post> = posts.iter().collect();
        newest_first.sort_by(|a, b| {
            b.posted_at
                .cmp(&a.posted_at)
                .then_with(|| a.external_id.cmp(&b.external_id))
        });
        match self.window {
            PostWindow::Latest(n) => newest_first.truncate(n as usize),
            PostWindow::Within(span) => {
                if let Some(newest) = newest_first.first().map(|p| p.posted_at) {
                    newest_first.retain(|p| newest - p.posted_at <= span);
                }
            }
        }
        newest_first
    }
}

/// Engagement of one account under one definition.
#[derive(Debug, Clone, PartialEq)]
pub struct EngagementSummary {
    pub definition_id: String,
    pub definition: String,
    /// Fractions: 0.035 is 3.5%.
    pub mean_rate: f64,
    pub median_rate: f64,
    pub view_rate: Option<f64>,
    pub sponsored_rate: Option<f64>,
    pub organic_rate: Option<f64>,
    pub posts_considered: u32,
    pub sponsored_posts: u32,
    pub posts_per_week: f64,
    /// Coefficient of variation of the per-post rates.
    pub rate_variation: f64,
    pub mean_likes: f64,
    pub mean_comments: f64,
    /// Mean interactions per measured post, under the definition.
    pub mean_interactions: f64,
    /// Mean views of the measured posts that report views.
    pub mean_views: Option<f64>,
    pub newest_post_at: Option<DateTime<Utc>>,
}

impl EngagementSummary {
    /// sponsored rate / organic rate, when both exist and the organic rate is not zero.
    pub fn sponsored_to_organic(&self) -> Option<f64> {
        match (self.sponsored_rate, self.organic_rate) {
            (Some(sponsored), Some(organic)) if organic > 0.0 => Some(sponsored / organic),
            _ => None,
        }
    }
}

/// Computes engagement for an account with `followers` followers from its posts.
/// `is_sponsored` decides which posts are sponsored (paid-partnership label or disclosure tags).
pub fn summarize(
    definition: &EngagementDefinition,
    followers: u64,
    posts: &[Post],
    is_sponsored: impl Fn(&Post) -> bool,
) -> EngagementSummary {
    let window = definition.select(posts);
    let mut rates = Vec::with_capacity(window.len());
    let mut sponsored_rates = Vec::new();
    let mut organic_rates = Vec::new();
    let mut view_rates = Vec::new();
    let (mut likes, mut comments, mut interactions_total) = (0_u64, 0_u64, 0_u64);
    let mut views = Vec::new();
    let mut measured_times = Vec::with_capacity(window.len());

    for post in &window {
        let Some(interactions) = definition.interactions(post) else {
            continue;
        };
        let denominator = match definition.basis {
            EngagementBasis::Followers => Some(followers),
            EngagementBasis::Views => post.views,
        };
        if let Some(views) = post.views.filter(|&v| v > 0) {
            view_rates.push(interactions as f64 / views as f64);
        }
        let Some(denominator) = denominator.filter(|&d| d > 0) else {
            continue;
        };
        let rate = interactions as f64 / denominator as f64;
        rates.push(rate);
        if is_sponsored(post) {
            sponsored_rates.push(rate);
        } else {
            organic_rates.push(rate);
        }
        likes = likes.saturating_add(post.likes.unwrap_or(0));
        interactions_total = interactions_total.saturating_add(interactions);
        if let Some(v) = post.views {
            views.push(v as f64);
        }
        comments = comments.saturating_add(post.comments.unwrap_or(0));
        measured_times.push(post.posted_at);
    }

    let count = rates.len();
    let mean_rate = mean(&rates).unwrap_or(0.0);
    let rate_variation = if count > 1 && mean_rate > 0.0 {
        std_dev(&rates, mean_rate) / mean_rate
    } else {
        0.0
    };
    EngagementSummary {
        definition_id: definition.id(),
        definition: definition.describe(),
        mean_rate,
        median_rate: median(&mut rates).unwrap_or(0.0),
        view_rate: mean(&view_rates),
        sponsored_rate: mean(&sponsored_rates),
        organic_rate: mean(&organic_rates),
        posts_considered: u32::try_from(count).unwrap_or(u32::MAX),
        sponsored_posts: u32::try_from(sponsored_rates.len()).unwrap_or(u32::MAX),
        posts_per_week: posts_per_week(&measured_times),
        rate_variation,
        mean_likes: if count == 0 {
            0.0
        } else {
            likes as f64 / count as f64
        },
        mean_comments: if count == 0 {
            0.0
        } else {
            comments as f64 / count as f64
        },
        mean_interactions: if count == 0 {
            0.0
        } else {
            interactions_total as f64 / count as f64
        },
        mean_views: mean(&views),
        newest_post_at: window.first().map(|p| p.posted_at),
    }
}

fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(values.iter().sum::<f64>() / values.len() as f64)
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    })
}

fn std_dev(values: &[f64], mean: f64) -> f64 {
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
    variance.sqrt()
}

/// Posting cadence: posts per week over the span from the oldest to the newest post.
fn posts_per_week(times: &[DateTime<Utc>]) -> f64 {
    let (Some(oldest), Some(newest)) = (times.iter().min(), times.iter().max()) else {
        return 0.0;
    };
    let span_weeks =
        (*newest - *oldest).num_seconds() as f64 / TimeDelta::weeks(1).num_seconds() as f64;
    if span_weeks <= 0.0 {
        return 0.0;
    }
    (times.len() - 1) as f64 / span_weeks
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::account::ContentFormat;

    fn post(day: u32, likes: Option<u64>, comments: Option<u64>, sponsored: bool) -> Post {
        Post {
            external_id: format!("p{day}"),
            posted_at: Utc
                .with_ymd_and_hms(2026, 1, day, 12, 0, 0)
                .single()
                .expect("valid date"),
            format: ContentFormat::Post,
            likes,
            comments,
            shares: Some(5),
            saves: None,
            views: Some(1_000),
            caption: String::new(),
            hashtags: vec![],
            mentions: vec![],
            paid_partnership: sponsored,
            url: None,
        }
    }

    #[test]
    fn mean_and_median_over_followers() {
        let posts = vec![
            post(1, Some(90), Some(10), false),   // 100 / 1000 = 0.10
            post(8, Some(180), Some(20), true),   // 0.20
            post(15, Some(590), Some(10), false), // 0.60
        ];
        let summary = summarize(&EngagementDefinition::default(), 1_000, &posts, |p| {
            p.paid_partnership
        });
        assert_eq!(summary.posts_considered, 3);
        assert!((summary.mean_rate - 0.30).abs() < 1e-12);
        assert!((summary.median_rate - 0.20).abs() < 1e-12);
        assert_eq!(summary.sponsored_posts, 1);
        assert!((summary.sponsored_rate.unwrap_or_default() - 0.20).abs() < 1e-12);
        assert!((summary.organic_rate.unwrap_or_default() - 0.35).abs() < 1e-12);
        assert!((summary.posts_per_week - 1.0).abs() < 1e-9);
        assert_eq!(summary.definition_id, "interactions_per_follower.latest_12");
    }

    #[test]
    fn window_takes_the_latest_posts_and_skips_hidden_counts() {
        let posts = vec![
            post(1, Some(1_000), Some(0), false),
            post(2, None, None, false),
            post(3, Some(10), Some(0), false),
        ];
        let definition = EngagementDefinition {
            window: PostWindow::Latest(2),
            ..EngagementDefinition::default()
        };
        let summary = summarize(&definition, 1_000, &posts, |_| false);
        // Latest two are day 3 and day 2; day 2 hides its counts.
        assert_eq!(summary.posts_considered, 1);
        assert!((summary.mean_rate - 0.01).abs() < 1e-12);
    }

    #[test]
    fn shares_count_only_when_declared() {
        let posts = vec![post(1, Some(10), Some(0), false)];
        let with_shares = EngagementDefinition {
            include_shares: true,
            ..EngagementDefinition::default()
        };
        assert!((summarize(&with_shares, 100, &posts, |_| false).mean_rate - 0.15).abs() < 1e-12);
        assert!(
            (summarize(&EngagementDefinition::default(), 100, &posts, |_| false).mean_rate - 0.10)
                .abs()
                < 1e-12
        );
    }

    #[test]
    fn over_views() {
        let posts = vec![post(1, Some(50), Some(50), false)];
        let definition = EngagementDefinition {
            basis: EngagementBasis::Views,
            ..EngagementDefinition::default()
        };
        let summary = summarize(&definition, 1_000_000, &posts, |_| false);
        assert!((summary.mean_rate - 0.10).abs() < 1e-12);
        assert_eq!(summary.view_rate, Some(0.10));
    }

    #[test]
    fn no_posts_gives_zero_not_nan() {
        let summary = summarize(&EngagementDefinition::default(), 1_000, &[], |_| false);
        assert_eq!(summary.posts_considered, 0);
        assert_eq!(summary.mean_rate, 0.0);
        assert_eq!(summary.posts_per_week, 0.0);
    }
}
