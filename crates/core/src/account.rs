//! Creators' accounts and what they publish.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::error::ValidationError;
use crate::text::extract_tags;

/// A social platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    Instagram,
    TikTok,
    YouTube,
    X,
    Facebook,
    Twitch,
    Blog,
}

impl Platform {
    pub const ALL: [Platform; 7] = [
        Platform::Instagram,
        Platform::TikTok,
        Platform::YouTube,
        Platform::X,
        Platform::Facebook,
        Platform::Twitch,
        Platform::Blog,
    ];

    /// The stable lowercase name used in storage, files and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Instagram => "instagram",
            Platform::TikTok => "tiktok",
            Platform::YouTube => "youtube",
            Platform::X => "x",
            Platform::Facebook => "facebook",
            Platform::Twitch => "twitch",
            Platform::Blog => "blog",
        }
    }

    /// Platforms whose content is mostly video, where engagement over views is the usual measure.
    pub fn is_video_first(self) -> bool {
        matches!(
            self,
            Platform::TikTok | Platform::YouTube | Platform::Twitch
        )
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Platform {
    type Err = ValidationError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let lowered = raw.trim().to_ascii_lowercase();
        let platform = match lowered.as_str() {
            "instagram" | "ig" => Platform::Instagram,
            "tiktok" => Platform::TikTok,
            "youtube" | "yt" => Platform::YouTube,
            "x" | "twitter" => Platform::X,
            "facebook" | "fb" => Platform::Facebook,
            "twitch" => Platform::Twitch,
            "blog" => Platform::Blog,
            _ => {
                return Err(ValidationError::new(
                    "",
                    format!(
                        "unknown platform {raw:?} (expected one of instagram, tiktok, youtube, x, facebook, twitch, blog)"
                    ),
                ));
            }
        };
        Ok(platform)
    }
}

/// An account's handle on its platform: lowercase, without a leading '@', 1 to 100 characters
/// of letters, digits, '.', '_' and '-'.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(String);

impl Handle {
    pub const MAX_LEN: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let trimmed = raw.trim();
        let trimmed = trimmed.strip_prefix('@').unwrap_or(trimmed);
        if trimmed.is_empty() {
            return Err(ValidationError::new("", "must not be empty"));
        }
        if trimmed.chars().count() > Self::MAX_LEN {
            return Err(ValidationError::new(
                "",
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        if let Some(bad) = trimmed
            .chars()
            .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(ValidationError::new(
                "",
                format!("must not contain {bad:?}"),
            ));
        }
        Ok(Handle(trimmed.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The format of a piece of content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ContentFormat {
    #[default]
    Post,
    Carousel,
    Video,
    Reel,
    Story,
    BlogPost,
    Live,
}

impl ContentFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentFormat::Post => "post",
            ContentFormat::Carousel => "carousel",
            ContentFormat::Video => "video",
            ContentFormat::Reel => "reel",
            ContentFormat::Story => "story",
            ContentFormat::BlogPost => "blog_post",
            ContentFormat::Live => "live",
        }
    }
}

impl FromStr for ContentFormat {
    type Err = ValidationError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let format = match raw.trim().to_ascii_lowercase().as_str() {
            "" | "post" | "image" | "photo" => ContentFormat::Post,
            "carousel" | "album" => ContentFormat::Carousel,
            "video" => ContentFormat::Video,
            "reel" | "short" => ContentFormat::Reel,
            "story" => ContentFormat::Story,
            "blog_post" | "blog" | "article" => ContentFormat::BlogPost,
            "live" | "stream" => ContentFormat::Live,
            _ => {
                return Err(ValidationError::new(
                    "",
                    format!(
                        "unknown format {raw:?} (expected post, carousel, video, reel, story, blog_post or live)"
                    ),
                ));
            }
        };
        Ok(format)
    }
}

/// A creator's public profile as observed at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub platform: Platform,
    pub handle: Handle,
    /// The platform's own id, when known.
    pub external_id: Option<String>,
    pub display_name: String,
    pub bio: String,
    pub followers: u64,
    pub following: u64,
    pub media_count: u64,
    pub verified: bool,
    pub is_private: bool,
    pub has_profile_picture: bool,
    pub country: Option<String>,
    pub language: Option<String>,
    pub categories: Vec<String>,
    pub observed_at: DateTime<Utc>,
}

/// Account counters at one time, with the per-post averages a source reported then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricSnapshot {
    pub observed_at: DateTime<Utc>,
    pub followers: u64,
    pub following: u64,
    pub media_count: u64,
    pub reported: ReportedAverages,
}

/// Per-post averages as a source (an analytics export) reported them; `None` is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportedAverages {
    pub likes: Option<u64>,
    pub comments: Option<u64>,
    pub views: Option<u64>,
    /// Interactions per post, as the source counts them.
    pub engagements: Option<u64>,
    /// Interactions per post from real accounts, as the source estimates them.
    pub authentic_engagements: Option<u64>,
}

impl ReportedAverages {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// These averages, with any that are unknown here taken from `older`.
    pub fn or(self, older: Self) -> Self {
        Self {
            likes: self.likes.or(older.likes),
            comments: self.comments.or(older.comments),
            views: self.views.or(older.views),
            engagements: self.engagements.or(older.engagements),
            authentic_engagements: self.authentic_engagements.or(older.authentic_engagements),
        }
    }
}

/// One published piece of content. Counts a platform does not report are `None`, not zero.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    pub external_id: String,
    pub posted_at: DateTime<Utc>,
    pub format: ContentFormat,
    pub likes: Option<u64>,
    pub comments: Option<u64>,
    pub shares: Option<u64>,
    pub saves: Option<u64>,
    pub views: Option<u64>,
    pub caption: String,
    /// Lowercase, without '#'.
    pub hashtags: Vec<String>,
    /// Lowercase, without '@'.
    pub mentions: Vec<String>,
    pub paid_partnership: bool,
    pub url: Option<String>,
}

impl Post {
    /// Fills hashtags and mentions from the caption when the source gave none.
    pub fn with_tags_from_caption(mut self) -> Self {
        if self.hashtags.is_empty() {
            self.hashtags = extract_tags(&self.caption, '#');
        }
        if self.mentions.is_empty() {
            self.mentions = extract_tags(&self.caption, '@');
        }
        self
    }
}

/// Everything known about an account at scoring time.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountData {
    pub profile: Profile,
    pub snapshots: Vec<MetricSnapshot>,
    pub posts: Vec<Post>,
    /// A sample of the account's followers, for the fake-follower estimate.
    pub follower_sample: Vec<crate::follower::FollowerProfile>,
}

/// The longest a timestamp may lie in the future before it is refused: allows for clock skew
/// between the source and this service.
pub const MAX_CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// Refuses a timestamp later than `now` plus the allowed clock skew.
pub fn check_not_future(
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, ValidationError> {
    if at > now + MAX_CLOCK_SKEW {
        return Err(ValidationError::new(
            "",
            format!("{} is in the future", at.to_rfc3339()),
        ));
    }
    Ok(at)
}

/// A country as its ISO 3166-1 alpha-2 code, from a code ("us", "USA", "840") or an English
/// name ("United States", "South Korea"), as exports write them.
pub fn country_code(raw: &str) -> Result<String, ValidationError> {
    let key: String = raw
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    let country = key
        .parse::<celes::Country>()
        .or_else(|_| celes::Country::from_alias(&key))
        .map_err(|_| {
            ValidationError::new(
                "",
                format!("{raw:?} is not a country (an ISO 3166-1 code or English name)"),
            )
        })?;
    Ok(country.alpha2.to_owned())
}

/// Parses a count that must not be negative.
/// The largest count accepted: far above any real account or post (the most-viewed videos
/// have some 10^10 views), small enough that every count is exact as a float.
pub const MAX_COUNT: u64 = 1_000_000_000_000;

/// A count from the wire: not negative, not absurd.
pub fn parse_count(raw: i64) -> Result<u64, ValidationError> {
    let count = u64::try_from(raw)
        .map_err(|_| ValidationError::new("", format!("must not be negative (got {raw})")))?;
    if count > MAX_COUNT {
        return Err(ValidationError::new(
            "",
            format!("{count} is not a plausible count (at most {MAX_COUNT})"),
        ));
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_normalized() {
        assert_eq!(
            Handle::parse(" @Chef.Anna ").map(|h| h.to_string()),
            Ok("chef.anna".to_owned())
        );
        assert!(Handle::parse("@").is_err());
        assert!(Handle::parse("two words").is_err());
    }

    #[test]
    fn platforms_parse_and_print() {
        for platform in Platform::ALL {
            assert_eq!(platform.as_str().parse::<Platform>(), Ok(platform));
        }
        assert_eq!("Twitter".parse::<Platform>(), Ok(Platform::X));
        assert!("myspace".parse::<Platform>().is_err());
    }

    #[test]
    fn countries_are_iso_codes() {
        let code = |raw: &str| country_code(raw).expect(raw);
        assert_eq!(code("us"), "US");
        assert_eq!(code("United States"), "US");
        assert_eq!(code("South Korea"), "KR");
        assert_eq!(code("Russia"), "RU");
        assert_eq!(code("United Arab Emirates"), "AE");
        assert_eq!(code("ARGENTINA"), "AR");
        assert!(country_code("Atlantis").is_err());
    }

    #[test]
    fn negative_counts_are_refused() {
        assert_eq!(parse_count(3), Ok(3));
        assert!(parse_count(-1).is_err());
    }
}
