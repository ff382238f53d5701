//! Peer percentiles: where a creator's engagement rate ranks among creators of the same
//! platform, follower band and niche. Published tier averages disagree 3-10x between vendors,
//! so the rank among peers, not the raw rate, drives ranking (DESIGN.md, scoring model).
//!
//! When the stored population of peers is thin, the rank is blended with a prior: a
//! log-normal distribution of engagement rates for the tier, built from the public bands in
//! REFERENCE.md (Instagram, followers denominator: nano 2-5%, micro 1-3.5%, macro and mega
//! 0.5-1.8%), each band read as the 10th to 90th percentile. With no peers the prior alone
//! decides; from `min_peers` peers on, the peers alone do.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::account::Platform;
use crate::tier::Tier;

/// A distribution of engagement rates (fractions: 0.02 is 2%) that is log-normal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prior {
    /// The 10th percentile.
    pub low: f64,
    /// The 90th percentile.
    pub high: f64,
}

impl Prior {
    /// The share of the prior's creators below `rate` (0-1).
    pub fn cdf(&self, rate: f64) -> f64 {
        if rate <= 0.0 {
            return 0.0;
        }
        let median = (self.low * self.high).sqrt();
        // 1.2816 is the standard normal's 90th percentile.
        let sigma = (self.high / self.low).ln() / (2.0 * 1.2816);
        normal_cdf((rate / median).ln() / sigma)
    }
}

/// Peer-ranking settings, with the REFERENCE.md priors as defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PeerConfig {
    /// Peers needed for the stored population alone to decide.
    pub min_peers: usize,
    /// Follower bands per factor of ten (4: 10k-17.8k, 17.8k-31.6k, ...).
    pub bands_per_decade: u32,
    pub nano: Prior,
    pub micro: Prior,
    pub r#macro: Prior,
    pub mega: Prior,
}

impl Default for PeerConfig {
    fn default() -> Self {
        Self {
            min_peers: 30,
            bands_per_decade: 4,
            nano: Prior {
                low: 0.02,
                high: 0.05,
            },
            micro: Prior {
                low: 0.01,
                high: 0.035,
            },
            r#macro: Prior {
                low: 0.005,
                high: 0.018,
            },
            mega: Prior {
                low: 0.005,
                high: 0.018,
            },
        }
    }
}

impl PeerConfig {
    pub fn validate(&self) -> Result<(), crate::error::ValidationError> {
        if self.bands_per_decade == 0 || self.bands_per_decade > 100 {
            return Err(crate::error::ValidationError::new(
                "peers.bands_per_decade",
                "must be between 1 and 100",
            ));
        }
        for (name, prior) in [
            ("nano", self.nano),
            ("micro", self.micro),
            ("macro", self.r#macro),
            ("mega", self.mega),
        ] {
            if !(prior.low.is_finite()
                && prior.low > 0.0
                && prior.high > prior.low
                && prior.high.is_finite())
            {
                return Err(crate::error::ValidationError::new(
                    format!("peers.{name}"),
                    "a prior needs 0 < low < high",
                ));
            }
        }
        Ok(())
    }

    pub fn prior(&self, tier: Tier) -> Prior {
        match tier {
            Tier::Nano => self.nano,
            Tier::Micro => self.micro,
            Tier::Macro => self.r#macro,
            Tier::Mega => self.mega,
        }
    }

    /// The follower band of an account: accounts in one band are peers.
    pub fn band(&self, followers: u64) -> i32 {
        let decades = (followers.max(1) as f64).log10();
        (decades * f64::from(self.bands_per_decade.max(1))).floor() as i32
    }

    /// The follower range `[low, high)` of a band.
    pub fn band_range(&self, band: i32) -> (u64, u64) {
        let per = f64::from(self.bands_per_decade.max(1));
        let bound = |b: i32| 10f64.powf(f64::from(b) / per).ceil() as u64;
        (bound(band), bound(band + 1))
    }
}

/// A rank among peers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeerRank {
    /// 0-100: the share of peers with a lower rate (ties count half).
    pub percentile: f64,
    /// Stored peers ranked against.
    pub peers: usize,
    /// How much of the rank came from the prior (0-1).
    pub prior_weight: f64,
}

/// Ranks `rate` among `peers` (their rates, sorted ascending), blended with `prior` while peers
/// are fewer than `min_peers`.
pub fn rank(rate: f64, peers: &[f64], prior: Prior, min_peers: usize) -> PeerRank {
    debug_assert!(peers.is_sorted_by(|a, b| a <= b), "peers must be sorted");
    let n = peers.len();
    let empirical = if n == 0 {
        0.0
    } else {
        let below = peers.partition_point(|p| *p < rate) as f64;
        let equal = peers.partition_point(|p| *p <= rate) as f64 - below;
        (below + equal / 2.0) / n as f64
    };
    let pseudo = min_peers.saturating_sub(n) as f64;
    let prior_weight = if n as f64 + pseudo == 0.0 {
        0.0
    } else {
        pseudo / (n as f64 + pseudo)
    };
    let blended = (1.0 - prior_weight) * empirical + prior_weight * prior.cdf(rate);
    PeerRank {
        percentile: 100.0 * blended,
        peers: n,
        prior_weight,
    }
}

/// Who an account is compared with: same platform, follower band and primary niche.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerGroup {
    pub platform: Platform,
    pub band: i32,
    /// The primary niche's id, or [`PeerGroup::GENERAL`] when no niche was found.
    pub niche: String,
}

impl PeerGroup {
    /// The niche of accounts without one.
    pub const GENERAL: &'static str = "general";
}

/// The stored population's engagement rates by peer group, under one engagement definition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeerIndex {
    /// The definition every rate was computed with; others cannot be ranked here.
    pub definition_id: String,
    groups: HashMap<PeerGroup, Vec<f64>>,
    members: usize,
}

impl PeerIndex {
    /// An index of rates under `definition_id`. Non-finite rates are ignored.
    pub fn new(
        definition_id: impl Into<String>,
        rates: impl IntoIterator<Item = (PeerGroup, f64)>,
    ) -> Self {
        let mut groups: HashMap<PeerGroup, Vec<f64>> = HashMap::new();
        let mut members = 0;
        for (group, rate) in rates {
            if rate.is_finite() {
                groups.entry(group).or_default().push(rate);
                members += 1;
            }
        }
        for rates in groups.values_mut() {
            rates.sort_by(f64::total_cmp);
        }
        Self {
            definition_id: definition_id.into(),
            groups,
            members,
        }
    }

    /// Accounts in the index.
    pub fn len(&self) -> usize {
        self.members
    }

    pub fn is_empty(&self) -> bool {
        self.members == 0
    }

    /// The sorted rates of one group (empty when none are stored).
    pub fn peers(&self, group: &PeerGroup) -> &[f64] {
        self.groups.get(group).map_or(&[], Vec::as_slice)
    }
}

impl PeerConfig {
    /// A readable name of a group, for example "instagram/micro/17.8k-31.6k/food".
    pub fn describe(&self, group: &PeerGroup, tier: Tier) -> String {
        let (low, high) = self.band_range(group.band);
        format!(
            "{}/{}/{}-{}/{}",
            group.platform,
            tier.as_str(),
            human(low),
            human(high),
            group.niche
        )
    }
}

fn human(count: u64) -> String {
    let value = count as f64;
    let (scaled, suffix) = if value >= 1e9 {
        (value / 1e9, "B")
    } else if value >= 1e6 {
        (value / 1e6, "M")
    } else if value >= 1e3 {
        (value / 1e3, "k")
    } else {
        return count.to_string();
    };
    let text = format!("{scaled:.1}");
    format!("{}{suffix}", text.trim_end_matches(".0"))
}

/// The standard normal distribution function (Abramowitz & Stegun 7.1.26 for erf; absolute
/// error below 1.5e-7).
fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prior_reads_its_band_as_the_10th_to_90th_percentile() {
        let micro = PeerConfig::default().micro;
        assert!((micro.cdf(0.01) - 0.10).abs() < 0.001);
        assert!((micro.cdf(0.035) - 0.90).abs() < 0.001);
        assert!((micro.cdf((0.01_f64 * 0.035).sqrt()) - 0.5).abs() < 0.001);
        assert_eq!(micro.cdf(0.0), 0.0);
    }

    #[test]
    fn many_peers_decide_alone_and_none_leave_it_to_the_prior() {
        let peers: Vec<f64> = (1..=100).map(|i| f64::from(i) / 1000.0).collect();
        let prior = PeerConfig::default().micro;
        let ranked = rank(0.0505, &peers, prior, 30);
        assert_eq!(ranked.prior_weight, 0.0);
        assert!((ranked.percentile - 50.0).abs() < 1e-9);

        let alone = rank(0.035, &[], prior, 30);
        assert_eq!(alone.prior_weight, 1.0);
        assert!((alone.percentile - 90.0).abs() < 0.1);

        // Ten peers: two thirds prior.
        let few = rank(0.02, &peers[..10], prior, 30);
        assert!((few.prior_weight - 2.0 / 3.0).abs() < 1e-9);
        assert!(few.percentile > 60.0 && few.percentile < 75.0, "{few:?}");
    }

    #[test]
    fn follower_bands_are_a_quarter_decade_wide() {
        let config = PeerConfig::default();
        assert_eq!(config.band(10_000), config.band(17_000));
        assert_ne!(config.band(10_000), config.band(18_000));
        let (low, high) = config.band_range(config.band(25_000));
        assert!(low <= 25_000 && 25_000 < high, "{low}..{high}");
        assert_eq!(config.band(0), config.band(1));
        let group = PeerGroup {
            platform: Platform::Instagram,
            band: config.band(25_000),
            niche: "food".to_owned(),
        };
        assert_eq!(
            config.describe(&group, Tier::Micro),
            "instagram/micro/17.8k-31.6k/food"
        );
    }

    #[test]
    fn the_index_ranks_within_a_group_only() {
        let group = |niche: &str| PeerGroup {
            platform: Platform::Instagram,
            band: 17,
            niche: niche.to_owned(),
        };
        let index = PeerIndex::new(
            "d",
            (1..=40)
                .map(|i| (group("food"), f64::from(i) / 1000.0))
                .chain([(group("travel"), 0.5), (group("food"), f64::NAN)]),
        );
        assert_eq!(index.len(), 41);
        let food = index.peers(&group("food"));
        assert_eq!(food.len(), 40);
        let ranked = rank(0.0105, food, PeerConfig::default().micro, 30);
        assert!((ranked.percentile - 25.0).abs() < 1e-9, "{ranked:?}");
        assert!(index.peers(&group("fitness")).is_empty());
    }
}
