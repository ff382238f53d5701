//! Size tiers by follower count.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    Nano,
    Micro,
    Macro,
    Mega,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Nano => "nano",
            Tier::Micro => "micro",
            Tier::Macro => "macro",
            Tier::Mega => "mega",
        }
    }
}

impl std::str::FromStr for Tier {
    type Err = ValidationError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw {
            "nano" => Ok(Tier::Nano),
            "micro" => Ok(Tier::Micro),
            "macro" => Ok(Tier::Macro),
            "mega" => Ok(Tier::Mega),
            other => Err(ValidationError::new(
                "",
                format!("unknown tier {other:?} (expected nano, micro, macro or mega)"),
            )),
        }
    }
}

/// The lowest follower count of each tier above nano. Defaults are the product brief's
/// (nano < 10k <= micro < 500k <= macro < 1M <= mega); vendors disagree (HypeAuditor puts micro
/// at 10k-50k, Later x Fohr at 10k-100k), hence configurable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TierBounds {
    pub micro_min: u64,
    pub macro_min: u64,
    pub mega_min: u64,
}

impl Default for TierBounds {
    fn default() -> Self {
        Self {
            micro_min: 10_000,
            macro_min: 500_000,
            mega_min: 1_000_000,
        }
    }
}

impl TierBounds {
    /// Checks that the bounds increase strictly.
    pub fn validate(self) -> Result<Self, ValidationError> {
        if self.micro_min == 0
            || self.micro_min >= self.macro_min
            || self.macro_min >= self.mega_min
        {
            return Err(ValidationError::new(
                "tiers",
                format!(
                    "bounds must increase strictly from above 0 (micro_min {} < macro_min {} < mega_min {})",
                    self.micro_min, self.macro_min, self.mega_min
                ),
            ));
        }
        Ok(self)
    }

    pub fn tier_of(self, followers: u64) -> Tier {
        if followers >= self.mega_min {
            Tier::Mega
        } else if followers >= self.macro_min {
            Tier::Macro
        } else if followers >= self.micro_min {
            Tier::Micro
        } else {
            Tier::Nano
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_bounds_follow_the_brief() {
        let bounds = TierBounds::default();
        assert_eq!(bounds.tier_of(9_999), Tier::Nano);
        assert_eq!(bounds.tier_of(10_000), Tier::Micro);
        assert_eq!(bounds.tier_of(499_999), Tier::Micro);
        assert_eq!(bounds.tier_of(500_000), Tier::Macro);
        assert_eq!(bounds.tier_of(1_000_000), Tier::Mega);
    }

    #[test]
    fn bounds_must_increase() {
        let bounds = TierBounds {
            micro_min: 10,
            macro_min: 10,
            mega_min: 20,
        };
        assert!(bounds.validate().is_err());
        assert!(TierBounds::default().validate().is_ok());
    }
}
