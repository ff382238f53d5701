//! What a campaign returned, from tracked posts and conversions.
//!
//! Attribution (docs/campaigns.md has the same rules with examples):
//! - A post on an account taken over, inside the takeover's window, belongs to that takeover.
//! - Otherwise a post is *tracked* when it was published inside the campaign window and carries
//!   one of the campaign's branded hashtags or mentions. A tracked post belongs to one of its
//!   creator's deliverables: the sponsored content whose published URL is the post's URL, else
//!   the creator's first sponsored content, else the creator's first product seeding. A post by
//!   a creator with no such deliverable is not the campaign's.
//! - Each post counts once, so per-deliverable figures add up to the total.
//! - A conversion belongs to the deliverable whose promo code (case-insensitive) or tracking URL
//!   it carries, else to the campaign as a whole when it carries one of the campaign's promo
//!   codes. Only conversions from the campaign start to `conversion_window` after its end count.
//!
//! Figures: engagements by the model's declared engagement definition; a post's estimated
//! reach is its views when reported (above zero), else followers x the model's reach fraction
//! at the post's own engagement rate; earned media value by the declared MightyScout formula
//! (video posts with views: views x CPM / 1000, where video means a video, reel or live format,
//! or any post on a video-first platform; other posts: engagements x multiplier x CPM / 1000).
//! The seeding post rate counts creators, not seedings: a seeded creator (a product shipped)
//! posted when they published a tracked post of their own (not one made in a takeover).

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::{CreatorKey, DeliverableKind, Money, ReviewStatus, ShipmentStatus, Window};
use crate::account::{ContentFormat, Post};
use crate::error::ValidationError;
use crate::score::ScoringModel;

/// What a campaign report counts (`[roster.report]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportConfig {
    /// Days after a campaign's end during which conversions still count (an assumption: 30
    /// days is a common affiliate cookie window; set your own).
    pub conversion_window_days: u32,
}

impl Default for ReportConfig {
    fn default() -> Self {
        Self {
            conversion_window_days: 30,
        }
    }
}

impl ReportConfig {
    /// When conversions stop counting for a campaign ending at `end`.
    pub fn conversions_until(&self, end: DateTime<Utc>) -> DateTime<Utc> {
        end.checked_add_signed(TimeDelta::days(i64::from(self.conversion_window_days)))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.conversion_window_days > 3_650 {
            return Err(ValidationError::new(
                "conversion_window_days",
                "must be at most 3650",
            ));
        }
        Ok(())
    }
}

/// What attributes posts and conversions to a campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct Terms {
    /// The currency of fees and budget.
    pub currency: String,
    pub window: Window,
    /// Lowercase, without '#'.
    pub hashtags: Vec<String>,
    /// Lowercase, without '@'.
    pub mentions: Vec<String>,
    /// Lowercase.
    pub promo_codes: Vec<String>,
}

impl Terms {
    /// Whether a post is the campaign's by window and branded hashtag or mention.
    pub fn tracks(&self, post: &Post) -> bool {
        self.window.contains(post.posted_at)
            && (post.hashtags.iter().any(|tag| self.hashtags.contains(tag))
                || post.mentions.iter().any(|m| self.mentions.contains(m)))
    }
}

/// A deliverable as the report needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliverableFacts {
    pub id: i64,
    pub creator: CreatorKey,
    pub kind: DeliverableKind,
    /// In the campaign currency.
    pub fee: f64,
    /// Lowercase.
    pub promo_code: Option<String>,
    pub tracking_url: Option<String>,
}

/// The stored posts of one account around the campaign, with its follower count.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountPosts {
    pub account: CreatorKey,
    pub followers: Option<u64>,
    pub posts: Vec<Post>,
}

/// An order tied to a promo code or tracked link.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    pub order_id: String,
    /// Lowercase.
    pub promo_code: Option<String>,
    pub tracking_url: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub revenue: Money,
}

/// Figures for one deliverable, or for the whole campaign.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Line {
    /// The deliverable's id; `None` for the total.
    pub deliverable: Option<i64>,
    pub creator: Option<CreatorKey>,
    pub fulfilled: bool,
    pub posts: u64,
    pub engagements: u64,
    pub estimated_reach: f64,
    pub cost: f64,
    pub cost_per_engagement: Option<f64>,
    /// Cost per thousand estimated reach.
    pub cpm: Option<f64>,
    /// In the model's value currency.
    pub earned_media_value: f64,
    pub conversions: u64,
    /// Revenue in the campaign currency.
    pub revenue: f64,
    /// Revenue / cost.
    pub return_on_spend: Option<f64>,
    /// Posts without the paid-partnership label or a disclosure hashtag.
    pub undisclosed_posts: u64,
}

impl Line {
    fn add_post(&mut self, engagements: u64, reach: f64, emv: f64, disclosed: bool) {
        self.posts += 1;
        self.engagements += engagements;
        self.estimated_reach += reach;
        self.earned_media_value += emv;
        if !disclosed {
            self.undisclosed_posts += 1;
        }
    }

    fn finish(&mut self) {
        self.cost_per_engagement =
            (self.engagements > 0).then(|| self.cost / self.engagements as f64);
        self.cpm = (self.estimated_reach > 0.0).then(|| self.cost / self.estimated_reach * 1_000.0);
        self.return_on_spend = (self.cost > 0.0).then(|| self.revenue / self.cost);
    }
}

/// A campaign's report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// One line per deliverable, in the order given.
    pub deliverables: Vec<Line>,
    pub total: Line,
    /// Share of seeded creators (shipment shipped or delivered) who published a tracked post;
    /// `None` with no seeding shipped.
    pub seeding_post_rate: Option<f64>,
    pub emv_formula: String,
    /// The model's value currency, which earned media value is in.
    pub emv_currency: String,
    /// What the figures leave out, in words (conversions in another currency, posts of
    /// accounts whose follower count is unknown).
    pub notes: Vec<String>,
}

/// Computes a campaign's report. `accounts` holds the posts of the deliverables' creators and
/// taken-over accounts (more posts than needed are fine: the rules pick).
pub fn report(
    model: &ScoringModel,
    config: &ReportConfig,
    terms: &Terms,
    deliverables: &[DeliverableFacts],
    accounts: &[AccountPosts],
    conversions: &[Conversion],
) -> Report {
    let value = model.value_config();
    let definition = model.default_definition();
    let mut lines: Vec<Line> = deliverables
        .iter()
        .map(|d| Line {
            deliverable: Some(d.id),
            creator: Some(d.creator.clone()),
            cost: d.fee,
            ..Line::default()
        })
        .collect();
    let mut total = Line {
        cost: deliverables.iter().map(|d| d.fee).sum(),
        ..Line::default()
    };
    let mut notes = Vec::new();
    let mut posted_creators: Vec<&CreatorKey> = Vec::new();
    let mut unknown_followers = 0_u64;

    for account in accounts {
        for post in &account.posts {
            let Some(index) = attribute(terms, deliverables, &account.account, post) else {
                continue;
            };
            // A creator "posted" by their own tracked post, not by a takeover of their account.
            let by_takeover = matches!(deliverables[index].kind, DeliverableKind::Takeover { .. });
            if !by_takeover && terms.tracks(post) {
                posted_creators.push(&account.account);
            }
            let engagements = definition.interactions(post).unwrap_or(0);
            let reach = match (post.views.filter(|&v| v > 0), account.followers) {
                (Some(views), _) => views as f64,
                (None, Some(followers)) if followers > 0 => {
                    let rate = engagements as f64 / followers as f64;
                    followers as f64 * value.reach_fraction(account.account.platform, rate)
                }
                _ => {
                    unknown_followers += 1;
                    0.0
                }
            };
            let is_video = matches!(
                post.format,
                ContentFormat::Video | ContentFormat::Reel | ContentFormat::Live
            ) || account.account.platform.is_video_first();
            let video_views = post.views.filter(|&v| v > 0 && is_video).map(|v| v as f64);
            let emv = value.emv(video_views, engagements as f64);
            let disclosed = model.is_sponsored(post);
            lines[index].add_post(engagements, reach, emv, disclosed);
            total.add_post(engagements, reach, emv, disclosed);
        }
    }
    if unknown_followers > 0 {
        notes.push(format!(
            "{unknown_followers} attributed posts have neither views nor a known follower count; they add no estimated reach"
        ));
    }

    let conversion_end = config.conversions_until(terms.window.end);
    let mut other_currency = 0_u64;
    for conversion in conversions {
        if conversion.occurred_at < terms.window.start || conversion.occurred_at >= conversion_end {
            continue;
        }
        let owner = deliverables.iter().position(|d| {
            (d.promo_code.is_some() && d.promo_code == conversion.promo_code)
                || (d.tracking_url.is_some() && d.tracking_url == conversion.tracking_url)
        });
        let campaign_code = conversion
            .promo_code
            .as_ref()
            .is_some_and(|code| terms.promo_codes.contains(code));
        if owner.is_none() && !campaign_code {
            continue;
        }
        let revenue = if conversion.revenue.currency == terms.currency {
            conversion.revenue.amount()
        } else {
            other_currency += 1;
            0.0
        };
        if let Some(index) = owner {
            lines[index].conversions += 1;
            lines[index].revenue += revenue;
        }
        total.conversions += 1;
        total.revenue += revenue;
    }
    if other_currency > 0 {
        notes.push(format!(
            "{other_currency} conversions are in another currency than {}; they are counted, but their revenue is not",
            terms.currency
        ));
    }

    // Seeded creators (a product shipped to them), each counted once however many seedings.
    let mut seeded: BTreeMap<&CreatorKey, bool> = BTreeMap::new();
    for (deliverable, line) in deliverables.iter().zip(&mut lines) {
        line.fulfilled = match &deliverable.kind {
            DeliverableKind::Takeover { .. } => line.posts > 0,
            DeliverableKind::ProductSeeding { shipment, .. } => {
                let posted = posted_creators.contains(&&deliverable.creator);
                if *shipment != ShipmentStatus::Pending {
                    seeded.insert(&deliverable.creator, posted);
                }
                posted
            }
            DeliverableKind::SponsoredContent { review, .. } => {
                *review == ReviewStatus::Published && line.posts > 0
            }
        };
        line.finish();
    }
    total.fulfilled = !lines.is_empty() && lines.iter().all(|line| line.fulfilled);
    total.finish();

    Report {
        deliverables: lines,
        total,
        seeding_post_rate: (!seeded.is_empty()).then(|| {
            seeded.values().filter(|posted| **posted).count() as f64 / seeded.len() as f64
        }),
        emv_formula: format!(
            "MightyScout: video posts with views: views x CPM / 1000; other posts: engagements x {} x CPM / 1000; CPM = {} {}",
            value.emv_engagement_multiplier, value.emv_cpm, value.currency
        ),
        emv_currency: value.currency.clone(),
        notes,
    }
}

/// The deliverable a post of `account` belongs to, by the rules in the module docs.
pub fn attribute(
    terms: &Terms,
    deliverables: &[DeliverableFacts],
    account: &CreatorKey,
    post: &Post,
) -> Option<usize> {
    let takeover = deliverables.iter().position(|d| {
        matches!(&d.kind, DeliverableKind::Takeover { account: taken, window }
            if taken == account && window.contains(post.posted_at))
    });
    if takeover.is_some() {
        return takeover;
    }
    if !terms.tracks(post) {
        return None;
    }
    let own = |d: &&DeliverableFacts| &d.creator == account;
    let mut by_url = None;
    let mut first_sponsored = None;
    let mut first_seeding = None;
    for (index, deliverable) in deliverables.iter().enumerate().filter(|(_, d)| own(d)) {
        match &deliverable.kind {
            DeliverableKind::SponsoredContent { content_url, .. } => {
                if content_url.is_some() && content_url == &post.url {
                    by_url = by_url.or(Some(index));
                }
                first_sponsored = first_sponsored.or(Some(index));
            }
            DeliverableKind::ProductSeeding { .. } => {
                first_seeding = first_seeding.or(Some(index));
            }
            DeliverableKind::Takeover { .. } => {}
        }
    }
    by_url.or(first_sponsored).or(first_seeding)
}

/// The creators who published a post the campaign tracks.
pub fn creators_who_posted<'a>(terms: &Terms, accounts: &'a [AccountPosts]) -> Vec<&'a CreatorKey> {
    accounts
        .iter()
        .filter(|a| a.posts.iter().any(|p| terms.tracks(p)))
        .map(|a| &a.account)
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::account::{Handle, Platform};
    use crate::campaign::ReviewStatus;
    use crate::score::ScoringConfig;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0)
            .single()
            .expect("valid")
    }

    fn key(handle: &str) -> CreatorKey {
        CreatorKey {
            platform: Platform::Instagram,
            handle: Handle::parse(handle).expect("handle"),
        }
    }

    fn post(id: &str, day: u32, likes: u64, comments: u64, tags: &[&str]) -> Post {
        Post {
            external_id: id.into(),
            posted_at: at(day),
            format: ContentFormat::Post,
            likes: Some(likes),
            comments: Some(comments),
            shares: None,
            saves: None,
            views: None,
            caption: String::new(),
            hashtags: tags.iter().map(|t| (*t).to_owned()).collect(),
            mentions: Vec::new(),
            paid_partnership: false,
            url: Some(format!("https://instagram.com/p/{id}")),
        }
    }

    fn terms() -> Terms {
        Terms {
            currency: "USD".into(),
            window: Window::new(at(1), at(20)).expect("window"),
            hashtags: vec!["glowup".into()],
            mentions: vec!["acme".into()],
            promo_codes: vec!["spring".into()],
        }
    }

    fn usd(amount: f64) -> Money {
        Money::new("USD", (amount * 1e6) as i64).expect("money")
    }

    #[test]
    fn posts_and_conversions_are_attributed_once_and_figures_add_up() {
        let model = ScoringModel::new(&ScoringConfig::default()).expect("model");
        let deliverables = vec![
            DeliverableFacts {
                id: 1,
                creator: key("ana"),
                kind: DeliverableKind::SponsoredContent {
                    format: ContentFormat::Post,
                    due: None,
                    review: ReviewStatus::Published,
                    content_url: Some("https://instagram.com/p/a1".into()),
                },
                fee: 500.0,
                promo_code: Some("ana10".into()),
                tracking_url: None,
            },
            DeliverableFacts {
                id: 2,
                creator: key("ana"),
                kind: DeliverableKind::ProductSeeding {
                    product: "Serum".into(),
                    quantity: 1,
                    shipment: ShipmentStatus::Delivered,
                },
                fee: 0.0,
                promo_code: None,
                tracking_url: None,
            },
            DeliverableFacts {
                id: 3,
                creator: key("ben"),
                kind: DeliverableKind::ProductSeeding {
                    product: "Serum".into(),
                    quantity: 1,
                    shipment: ShipmentStatus::Shipped,
                },
                fee: 100.0,
                promo_code: None,
                tracking_url: None,
            },
        ];
        let accounts = vec![
            AccountPosts {
                account: key("ana"),
                followers: Some(10_000),
                posts: vec![
                    post("a1", 5, 900, 100, &["glowup"]),
                    // Tracked, but not the URL of the sponsored content: the first sponsored
                    // content still takes it.
                    post("a2", 6, 400, 100, &["glowup", "ad"]),
                    // Outside the window.
                    post("a3", 25, 5_000, 0, &["glowup"]),
                    // Not branded.
                    post("a4", 7, 5_000, 0, &["monday"]),
                ],
            },
            AccountPosts {
                account: key("ben"),
                followers: None,
                posts: vec![post("b1", 3, 10, 0, &["other"])],
            },
        ];
        let conversions = vec![
            Conversion {
                order_id: "1".into(),
                promo_code: Some("ana10".into()),
                tracking_url: None,
                occurred_at: at(8),
                revenue: usd(60.0),
            },
            Conversion {
                order_id: "2".into(),
                promo_code: Some("spring".into()),
                tracking_url: None,
                occurred_at: at(9),
                revenue: usd(40.0),
            },
            Conversion {
                order_id: "3".into(),
                promo_code: Some("unrelated".into()),
                tracking_url: None,
                occurred_at: at(9),
                revenue: usd(1_000.0),
            },
            Conversion {
                order_id: "4".into(),
                promo_code: Some("ana10".into()),
                tracking_url: None,
                occurred_at: at(10),
                revenue: Money::new("EUR", 5_000_000).expect("money"),
            },
        ];
        let report = report(
            &model,
            &ReportConfig::default(),
            &terms(),
            &deliverables,
            &accounts,
            &conversions,
        );
        let ana = &report.deliverables[0];
        assert_eq!((ana.posts, ana.engagements), (2, 1_500));
        assert!(ana.fulfilled);
        assert_eq!(ana.undisclosed_posts, 1, "a1 has no disclosure, a2 has #ad");
        assert_eq!(ana.cost_per_engagement, Some(500.0 / 1_500.0));
        assert_eq!((ana.conversions, ana.revenue), (2, 60.0));
        assert_eq!(ana.return_on_spend, Some(60.0 / 500.0));
        // Instagram reach at the post's own rate: 10,000 x 0.48 x sqrt(0.10 / 0.10), and
        // sqrt(0.05 / 0.10) for the second post.
        let expected_reach = 10_000.0 * 0.48 + 10_000.0 * 0.48 * 0.5_f64.sqrt();
        assert!((ana.estimated_reach - expected_reach).abs() < 1e-6);
        assert!((ana.earned_media_value - 1_500.0 * 8.7 * 10.0 / 1_000.0).abs() < 1e-9);

        let ana_seeding = &report.deliverables[1];
        assert_eq!(ana_seeding.posts, 0, "each post counts once");
        assert!(ana_seeding.fulfilled, "ana did post about the campaign");
        let ben = &report.deliverables[2];
        assert!(!ben.fulfilled);
        assert_eq!(report.seeding_post_rate, Some(0.5));

        assert_eq!((report.total.posts, report.total.engagements), (2, 1_500));
        assert_eq!(report.total.cost, 600.0);
        assert_eq!((report.total.conversions, report.total.revenue), (3, 100.0));
        assert!(!report.total.fulfilled);
        assert_eq!(report.notes.len(), 1, "{:?}", report.notes);
        assert!(report.notes[0].contains("another currency"));
    }

    #[test]
    fn a_takeover_owns_every_post_of_the_account_inside_its_window() {
        let model = ScoringModel::new(&ScoringConfig::default()).expect("model");
        let deliverables = vec![DeliverableFacts {
            id: 7,
            creator: key("cara"),
            kind: DeliverableKind::Takeover {
                account: key("acme"),
                window: Window::new(at(10), at(11)).expect("window"),
            },
            fee: 300.0,
            promo_code: None,
            tracking_url: None,
        }];
        let mut video = post("t1", 10, 200, 50, &[]);
        video.format = ContentFormat::Reel;
        video.views = Some(4_000);
        let accounts = vec![AccountPosts {
            account: key("acme"),
            followers: Some(50_000),
            posts: vec![video, post("t2", 12, 10, 0, &["glowup"])],
        }];
        let report = report(
            &model,
            &ReportConfig::default(),
            &terms(),
            &deliverables,
            &accounts,
            &[],
        );
        let line = &report.deliverables[0];
        assert!(line.fulfilled);
        assert_eq!((line.posts, line.engagements), (1, 250));
        assert_eq!(line.estimated_reach, 4_000.0);
        assert_eq!(line.cpm, Some(300.0 / 4_000.0 * 1_000.0));
        assert!((line.earned_media_value - 4_000.0 * 10.0 / 1_000.0).abs() < 1e-9);
        assert_eq!(report.seeding_post_rate, None);
    }
}
