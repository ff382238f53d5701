//! What a creator is worth to a brand: price per deliverable, expected authentic engagements
//! and reach, cost per engagement and earned media value, every formula declared here and every
//! constant a configuration field (shared/REFERENCE.md, "Value", says where defaults come from).
//!
//! - Price of a post: a known rate card, else the prior `followers x per_follower` (about $100
//!   per 10k followers, REFERENCE.md) clamped to the tier's market range, times the platform's
//!   multiplier. Other deliverables are the post price times their multiplier.
//! - Expected authentic engagements per post: the creator's mean interactions per post times
//!   the estimated real share of the audience (or the source's own authentic-engagement figure).
//! - Expected authentic reach per post: followers x reach fraction x real share. The reach
//!   fraction is Stellar's prior: 30% of followers on X, Facebook and YouTube; on Instagram it
//!   grows with engagement rate, anchored on Stellar's 48% at a 10% rate as
//!   `0.48 x sqrt(ER / 0.10)`, clamped to [`ValueConfig::min_reach_fraction`,
//!   `max_reach_fraction`].
//! - Cost per engagement: post price / expected authentic engagements (REFERENCE.md: CPE).
//! - Earned media value: MightyScout's variant (REFERENCE.md, EMV): for video, views x CPM /
//!   1000; for static posts, engagements x 8.7 x CPM / 1000.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::account::Platform;
use crate::error::{ValidationError, non_negative};
use crate::tier::Tier;

/// What a creator can be paid to deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deliverable {
    Post,
    Video,
    Story,
    Reel,
    BlogPost,
    TakeoverDay,
    ProductSeeding,
}

impl Deliverable {
    pub const ALL: [Deliverable; 7] = [
        Deliverable::Post,
        Deliverable::Video,
        Deliverable::Story,
        Deliverable::Reel,
        Deliverable::BlogPost,
        Deliverable::TakeoverDay,
        Deliverable::ProductSeeding,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Deliverable::Post => "post",
            Deliverable::Video => "video",
            Deliverable::Story => "story",
            Deliverable::Reel => "reel",
            Deliverable::BlogPost => "blog_post",
            Deliverable::TakeoverDay => "takeover_day",
            Deliverable::ProductSeeding => "product_seeding",
        }
    }
}

impl std::str::FromStr for Deliverable {
    type Err = ValidationError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Deliverable::ALL
            .iter()
            .copied()
            .find(|d| d.as_str() == raw)
            .ok_or_else(|| {
                ValidationError::new(
                    "",
                    format!(
                        "unknown deliverable {raw:?} (expected one of post, video, story, reel, blog_post, takeover_day, product_seeding)"
                    ),
                )
            })
    }
}

/// A market price range for one tier's post, in the configured currency.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceRange {
    pub min: f64,
    /// `None`: no ceiling.
    pub max: Option<f64>,
}

/// Prices, reach and EMV constants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ValueConfig {
    /// ISO 4217 code of every price and value.
    pub currency: String,
    /// Price of a post per follower: 0.01 is REFERENCE.md's "about $100 per 10k followers".
    pub per_follower: f64,
    /// Post price ranges per tier (REFERENCE.md, USD: nano 10-100, micro 100-500 and mid
    /// 500-5,000, which this product's micro tier spans, macro 5,000-10,000, mega 10,000+).
    pub nano: PriceRange,
    pub micro: PriceRange,
    pub r#macro: PriceRange,
    pub mega: PriceRange,
    /// Price multiplier per platform (lowercase name); 1 when absent. REFERENCE.md cites no
    /// platform differences, so none are assumed by default.
    pub platform_multipliers: BTreeMap<String, f64>,
    /// Price of each deliverable relative to a post. Video and reel: +45% (HypeAuditor,
    /// +40-50%). Story 0.5, blog post 1, takeover day 3 and product seeding 0.25 (the creator's
    /// time for a gifted product; the product itself is the brand's cost) are assumptions with
    /// no public source: set them from your own rate cards.
    pub deliverable_multipliers: BTreeMap<Deliverable, f64>,
    /// Stellar's reach prior for platforms other than Instagram: 30% of followers.
    pub default_reach_fraction: f64,
    /// Instagram: reach fraction at `instagram_reference_rate` (Stellar: 48% at 10% ER).
    pub instagram_reference_reach: f64,
    pub instagram_reference_rate: f64,
    pub min_reach_fraction: f64,
    pub max_reach_fraction: f64,
    /// CPM used by the EMV formula, in `currency`. REFERENCE.md gives the formula, not a CPM;
    /// 10 is an assumption to be set per market.
    pub emv_cpm: f64,
    /// MightyScout's engagement multiplier for static posts.
    pub emv_engagement_multiplier: f64,
}

impl Default for ValueConfig {
    fn default() -> Self {
        Self {
            currency: "USD".to_owned(),
            per_follower: 0.01,
            nano: PriceRange {
                min: 10.0,
                max: Some(100.0),
            },
            micro: PriceRange {
                min: 100.0,
                max: Some(5_000.0),
            },
            r#macro: PriceRange {
                min: 5_000.0,
                max: Some(10_000.0),
            },
            mega: PriceRange {
                min: 10_000.0,
                max: None,
            },
            platform_multipliers: BTreeMap::new(),
            deliverable_multipliers: BTreeMap::from([
                (Deliverable::Post, 1.0),
                (Deliverable::Video, 1.45),
                (Deliverable::Reel, 1.45),
                (Deliverable::Story, 0.5),
                (Deliverable::BlogPost, 1.0),
                (Deliverable::TakeoverDay, 3.0),
                (Deliverable::ProductSeeding, 0.25),
            ]),
            default_reach_fraction: 0.30,
            instagram_reference_reach: 0.48,
            instagram_reference_rate: 0.10,
            min_reach_fraction: 0.05,
            max_reach_fraction: 0.90,
            emv_cpm: 10.0,
            emv_engagement_multiplier: 8.7,
        }
    }
}

/// A creator's known prices, which win over the priors.
pub type RateCard = BTreeMap<Deliverable, f64>;

/// The price of one deliverable and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceEstimate {
    pub deliverable: Deliverable,
    pub amount: f64,
    /// "rate_card" or the prior, for example "prior:instagram/micro".
    pub source: String,
}

/// A creator's value per post.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub currency: String,
    pub prices: Vec<PriceEstimate>,
    pub expected_engagements: f64,
    pub expected_reach: f64,
    /// `None` when no engagement is expected (a price per nothing).
    pub cost_per_engagement: Option<f64>,
    pub earned_media_value: f64,
    pub emv_formula: String,
}

impl Value {
    pub fn price(&self, deliverable: Deliverable) -> Option<f64> {
        self.prices
            .iter()
            .find(|p| p.deliverable == deliverable)
            .map(|p| p.amount)
    }

    /// Expected authentic engagements per unit of currency spent on a post: the "value" that
    /// search sorts by.
    pub fn engagements_per_currency(&self) -> f64 {
        match self.price(Deliverable::Post) {
            Some(price) if price > 0.0 => self.expected_engagements / price,
            _ => 0.0,
        }
    }
}

/// What the value of a post is computed from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValueInputs {
    pub platform: Platform,
    pub tier: Tier,
    pub followers: u64,
    /// Mean interactions per post (under the engagement definition in use).
    pub interactions_per_post: f64,
    /// Interactions per post from real accounts as the source reported them, if it did.
    pub reported_authentic: Option<f64>,
    /// Mean views per post, where posts report views.
    pub views_per_post: Option<f64>,
    /// Engagement rate over followers, for the reach prior.
    pub rate: f64,
    /// Estimated share of fake followers (0 when unknown).
    pub fake_share: f64,
}

impl ValueConfig {
    pub fn validate(&self) -> Result<(), ValidationError> {
        let non_negative = |value: f64, field: &str| non_negative(value, &format!("value.{field}"));
        if self.currency.len() != 3 || !self.currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(ValidationError::new(
                "value.currency",
                format!("{:?} is not an ISO 4217 code", self.currency),
            ));
        }
        non_negative(self.per_follower, "per_follower")?;
        for (name, range) in [
            ("nano", self.nano),
            ("micro", self.micro),
            ("macro", self.r#macro),
            ("mega", self.mega),
        ] {
            non_negative(range.min, &format!("{name}.min"))?;
            if let Some(max) = range.max {
                non_negative(max, &format!("{name}.max"))?;
                if max < range.min {
                    return Err(ValidationError::new(
                        format!("value.{name}.max"),
                        "must not be below min",
                    ));
                }
            }
        }
        for (platform, multiplier) in &self.platform_multipliers {
            platform.parse::<Platform>().map_err(|e| {
                ValidationError::new(format!("value.platform_multipliers.{platform}"), e.message)
            })?;
            non_negative(*multiplier, &format!("platform_multipliers.{platform}"))?;
        }
        for (deliverable, multiplier) in &self.deliverable_multipliers {
            non_negative(
                *multiplier,
                &format!("deliverable_multipliers.{}", deliverable.as_str()),
            )?;
        }
        non_negative(self.default_reach_fraction, "default_reach_fraction")?;
        non_negative(self.instagram_reference_reach, "instagram_reference_reach")?;
        non_negative(self.min_reach_fraction, "min_reach_fraction")?;
        non_negative(self.emv_cpm, "emv_cpm")?;
        non_negative(self.emv_engagement_multiplier, "emv_engagement_multiplier")?;
        if !(self.instagram_reference_rate.is_finite() && self.instagram_reference_rate > 0.0) {
            return Err(ValidationError::new(
                "value.instagram_reference_rate",
                "must be greater than 0",
            ));
        }
        if !(self.max_reach_fraction.is_finite()
            && self.max_reach_fraction >= self.min_reach_fraction
            && self.max_reach_fraction <= 1.0)
        {
            return Err(ValidationError::new(
                "value.max_reach_fraction",
                "must lie between min_reach_fraction and 1",
            ));
        }
        Ok(())
    }

    fn range(&self, tier: Tier) -> PriceRange {
        match tier {
            Tier::Nano => self.nano,
            Tier::Micro => self.micro,
            Tier::Macro => self.r#macro,
            Tier::Mega => self.mega,
        }
    }

    /// The prior price of a post.
    pub fn prior_post_price(&self, platform: Platform, tier: Tier, followers: u64) -> f64 {
        let range = self.range(tier);
        let mut price = (followers as f64 * self.per_follower).max(range.min);
        if let Some(max) = range.max {
            price = price.min(max);
        }
        price
            * self
                .platform_multipliers
                .get(platform.as_str())
                .copied()
                .unwrap_or(1.0)
    }

    /// The share of followers one post reaches.
    pub fn reach_fraction(&self, platform: Platform, rate: f64) -> f64 {
        let fraction = match platform {
            Platform::Instagram => {
                self.instagram_reference_reach
                    * (rate.max(0.0) / self.instagram_reference_rate).sqrt()
            }
            _ => self.default_reach_fraction,
        };
        fraction.clamp(self.min_reach_fraction, self.max_reach_fraction)
    }

    /// The declared EMV formula with its constants.
    pub fn emv_formula(&self) -> String {
        format!(
            "MightyScout: video: views x CPM / 1000; static: authentic engagements x {} x CPM / 1000; CPM = {} {}",
            self.emv_engagement_multiplier, self.emv_cpm, self.currency
        )
    }

    /// Earned media value of one post by the MightyScout formula: `video_views` (when the post
    /// is a video and its views are known) x CPM / 1000, else engagements x the engagement
    /// multiplier x CPM / 1000.
    pub fn emv(&self, video_views: Option<f64>, engagements: f64) -> f64 {
        match video_views {
            Some(views) => views * self.emv_cpm / 1000.0,
            None => engagements * self.emv_engagement_multiplier * self.emv_cpm / 1000.0,
        }
    }

    /// Prices, expected engagements and reach, CPE and EMV of one post.
    pub fn value(&self, inputs: &ValueInputs, rate_card: Option<&RateCard>) -> Value {
        let real_share = (1.0 - inputs.fake_share).clamp(0.0, 1.0);
        let post_prior = self.prior_post_price(inputs.platform, inputs.tier, inputs.followers);
        let prior_source = format!("prior:{}/{}", inputs.platform, inputs.tier.as_str());
        let prices: Vec<PriceEstimate> = Deliverable::ALL
            .iter()
            .filter_map(|deliverable| {
                if let Some(amount) = rate_card.and_then(|card| card.get(deliverable)) {
                    return Some(PriceEstimate {
                        deliverable: *deliverable,
                        amount: *amount,
                        source: "rate_card".to_owned(),
                    });
                }
                let multiplier = self.deliverable_multipliers.get(deliverable)?;
                Some(PriceEstimate {
                    deliverable: *deliverable,
                    amount: post_prior * multiplier,
                    source: prior_source.clone(),
                })
            })
            .collect();
        let expected_engagements = inputs
            .reported_authentic
            .unwrap_or(inputs.interactions_per_post * real_share)
            .max(0.0);
        let expected_reach = inputs.followers as f64
            * self.reach_fraction(inputs.platform, inputs.rate)
            * real_share;
        let post_price = prices
            .iter()
            .find(|p| p.deliverable == Deliverable::Post)
            .map_or(post_prior, |p| p.amount);
        let cost_per_engagement =
            (expected_engagements > 0.0).then(|| post_price / expected_engagements);
        let earned_media_value = self.emv(
            inputs
                .views_per_post
                .filter(|_| inputs.platform.is_video_first())
                .map(|views| views * real_share),
            expected_engagements,
        );
        Value {
            currency: self.currency.clone(),
            prices,
            expected_engagements,
            expected_reach,
            cost_per_engagement,
            earned_media_value,
            emv_formula: self.emv_formula(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(followers: u64, interactions: f64, fake_share: f64) -> ValueInputs {
        ValueInputs {
            platform: Platform::Instagram,
            tier: crate::tier::TierBounds::default().tier_of(followers),
            followers,
            interactions_per_post: interactions,
            reported_authentic: None,
            views_per_post: None,
            rate: interactions / followers as f64,
            fake_share,
        }
    }

    #[test]
    fn prior_prices_follow_the_rule_of_thumb_within_tier_ranges() {
        let config = ValueConfig::default();
        let value = config.value(&inputs(50_000, 1_000.0, 0.0), None);
        assert_eq!(value.price(Deliverable::Post), Some(500.0));
        assert!((value.price(Deliverable::Video).unwrap_or_default() - 725.0).abs() < 1e-9);
        // A 2,000-follower account is at the nano floor, a 3M one above the mega floor.
        assert_eq!(
            config.prior_post_price(Platform::Instagram, Tier::Nano, 2_000),
            20.0
        );
        assert_eq!(
            config.prior_post_price(Platform::Instagram, Tier::Nano, 500),
            10.0
        );
        assert_eq!(
            config.prior_post_price(Platform::Instagram, Tier::Mega, 3_000_000),
            30_000.0
        );
        assert_eq!(
            config.prior_post_price(Platform::Instagram, Tier::Macro, 900_000),
            9_000.0
        );
    }

    #[test]
    fn fake_followers_lower_engagements_and_raise_cost_per_engagement() {
        let config = ValueConfig::default();
        let clean = config.value(&inputs(50_000, 1_000.0, 0.0), None);
        let half_fake = config.value(&inputs(50_000, 1_000.0, 0.5), None);
        assert_eq!(clean.expected_engagements, 1_000.0);
        assert_eq!(half_fake.expected_engagements, 500.0);
        assert_eq!(clean.cost_per_engagement, Some(0.5));
        assert_eq!(half_fake.cost_per_engagement, Some(1.0));
        // 1,000 x 8.7 x 10 / 1000.
        assert!((clean.earned_media_value - 87.0).abs() < 1e-9);
    }

    #[test]
    fn a_rate_card_wins_over_the_prior() {
        let card = RateCard::from([(Deliverable::Post, 300.0)]);
        let value = ValueConfig::default().value(&inputs(50_000, 600.0, 0.0), Some(&card));
        let post = &value.prices[0];
        assert_eq!((post.amount, post.source.as_str()), (300.0, "rate_card"));
        assert_eq!(value.cost_per_engagement, Some(0.5));
        assert!(
            value
                .prices
                .iter()
                .filter(|p| p.deliverable != Deliverable::Post)
                .all(|p| p.source == "prior:instagram/micro")
        );
    }

    #[test]
    fn instagram_reach_grows_with_engagement() {
        let config = ValueConfig::default();
        assert!((config.reach_fraction(Platform::Instagram, 0.10) - 0.48).abs() < 1e-12);
        assert!((config.reach_fraction(Platform::Instagram, 0.025) - 0.24).abs() < 1e-12);
        assert_eq!(config.reach_fraction(Platform::YouTube, 0.01), 0.30);
        assert_eq!(config.reach_fraction(Platform::Instagram, 0.0), 0.05);
    }

    #[test]
    fn invalid_constants_name_the_key() {
        let mut config = ValueConfig::default();
        config.micro.max = Some(1.0);
        assert_eq!(
            config.validate().expect_err("max below min").field,
            "value.micro.max"
        );
        let mut config = ValueConfig::default();
        config.platform_multipliers.insert("myspace".into(), 1.0);
        assert!(config.validate().is_err());
    }
}
