//! Scoring messages.

use chrono::{DateTime, TimeDelta, Utc};
use resonance_core::account::{check_not_future, parse_count};
use resonance_core::error::WithinField;
use resonance_core::{
    AccountData, CreatorScore, Deliverable, EngagementBasis, EngagementDefinition,
    EngagementSummary, Handle, MetricSnapshot, Post, PostWindow, Profile, ReportedAverages,
    ValidationError,
};

use super::{content_format, duration, money, non_empty, platform, tier_to_proto, time, timestamp};
use crate::scoring as pb;

/// The most posts, snapshots or follower profiles one account may carry in a request.
pub const MAX_ITEMS_PER_ACCOUNT: usize = 10_000;

fn count(raw: i64, field: &str) -> Result<u64, ValidationError> {
    parse_count(raw).within(field)
}

fn optional_count(raw: Option<i64>, field: &str) -> Result<Option<u64>, ValidationError> {
    raw.map(|value| count(value, field)).transpose()
}

/// A BCP 47 language tag ("en", "pt-BR"): letters, digits and hyphens, at most 35 characters.
fn language_tag(tag: &str) -> Result<String, ValidationError> {
    let valid = tag.len() <= 35 && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(tag.to_owned())
    } else {
        Err(ValidationError::new(
            "",
            format!("{tag:?} is not a BCP 47 language tag (for example \"en\" or \"pt-BR\")"),
        ))
    }
}

/// An observation time: given (and not in the future) or, when absent, `now`.
pub fn observed(
    ts: Option<&prost_types::Timestamp>,
    field: &str,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, ValidationError> {
    let at = match ts {
        Some(ts) => time(ts).within(field)?,
        None => now,
    };
    check_not_future(at, now).within(field)
}

pub fn profile(value: &pb::Profile, now: DateTime<Utc>) -> Result<Profile, ValidationError> {
    Ok(Profile {
        platform: platform(value.platform).within("platform")?,
        handle: Handle::parse(&value.handle).within("handle")?,
        external_id: non_empty(&value.external_id),
        display_name: value.display_name.trim().to_owned(),
        bio: value.bio.clone(),
        followers: count(value.followers, "followers")?,
        following: count(value.following, "following")?,
        media_count: count(value.media_count, "media_count")?,
        verified: value.verified,
        is_private: value.is_private,
        has_profile_picture: value.has_profile_picture,
        country: non_empty(&value.country)
            .map(|c| resonance_core::account::country_code(&c))
            .transpose()
            .within("country")?,
        language: non_empty(&value.language)
            .map(|tag| language_tag(&tag))
            .transpose()
            .within("language")?,
        categories: value
            .categories
            .iter()
            .filter_map(|c| non_empty(c))
            .collect(),
        observed_at: observed(value.observed_time.as_ref(), "observed_time", now)?,
    })
}

pub fn snapshot(
    value: &pb::MetricSnapshot,
    now: DateTime<Utc>,
) -> Result<MetricSnapshot, ValidationError> {
    let observed_time = value
        .observed_time
        .as_ref()
        .ok_or_else(|| ValidationError::new("observed_time", "is required"))?;
    Ok(MetricSnapshot {
        observed_at: observed(Some(observed_time), "observed_time", now)?,
        followers: count(value.followers, "followers")?,
        following: count(value.following, "following")?,
        media_count: count(value.media_count, "media_count")?,
        reported: ReportedAverages {
            likes: optional_count(value.avg_likes, "avg_likes")?,
            comments: optional_count(value.avg_comments, "avg_comments")?,
            views: optional_count(value.avg_views, "avg_views")?,
            engagements: optional_count(value.avg_engagements, "avg_engagements")?,
            authentic_engagements: optional_count(
                value.authentic_engagements,
                "authentic_engagements",
            )?,
        },
    })
}

/// The longest external id (of a post, of a follower) the store keeps.
pub const MAX_EXTERNAL_ID_CHARS: usize = 200;

fn bounded_id(id: &str, field: &str) -> Result<(), ValidationError> {
    if id.chars().count() > MAX_EXTERNAL_ID_CHARS {
        return Err(ValidationError::new(
            field,
            format!("must be at most {MAX_EXTERNAL_ID_CHARS} characters"),
        ));
    }
    Ok(())
}

pub fn post(value: &pb::Post, now: DateTime<Utc>) -> Result<Post, ValidationError> {
    let external_id = non_empty(&value.external_id)
        .ok_or_else(|| ValidationError::new("external_id", "is required"))?;
    bounded_id(&external_id, "external_id")?;
    let posted_time = value
        .posted_time
        .as_ref()
        .ok_or_else(|| ValidationError::new("posted_time", "is required"))?;
    let post = Post {
        external_id,
        posted_at: observed(Some(posted_time), "posted_time", now)?,
        format: content_format(value.format).within("format")?,
        likes: optional_count(value.likes, "likes")?,
        comments: optional_count(value.comments, "comments")?,
        shares: optional_count(value.shares, "shares")?,
        saves: optional_count(value.saves, "saves")?,
        views: optional_count(value.views, "views")?,
        caption: value.caption.clone(),
        hashtags: value
            .hashtags
            .iter()
            .map(|t| resonance_core::text::normalize_tag(t, '#'))
            .filter(|t| !t.is_empty())
            .collect(),
        mentions: value
            .mentions
            .iter()
            .map(|t| resonance_core::text::normalize_tag(t, '@'))
            .filter(|t| !t.is_empty())
            .collect(),
        paid_partnership: value.paid_partnership,
        url: non_empty(&value.url),
    };
    Ok(post.with_tags_from_caption())
}

fn bounded<'a, T>(items: &'a [T], field: &str) -> Result<&'a [T], ValidationError> {
    if items.len() > MAX_ITEMS_PER_ACCOUNT {
        return Err(ValidationError::new(
            field,
            format!(
                "at most {MAX_ITEMS_PER_ACCOUNT} items (got {})",
                items.len()
            ),
        ));
    }
    Ok(items)
}

pub fn account_data(
    value: &pb::AccountData,
    now: DateTime<Utc>,
) -> Result<AccountData, ValidationError> {
    let profile_msg = value
        .profile
        .as_ref()
        .ok_or_else(|| ValidationError::new("profile", "is required"))?;
    let snapshots = bounded(&value.snapshots, "snapshots")?
        .iter()
        .enumerate()
        .map(|(i, s)| snapshot(s, now).within(&format!("snapshots[{i}]")))
        .collect::<Result<_, _>>()?;
    let posts = bounded(&value.posts, "posts")?
        .iter()
        .enumerate()
        .map(|(i, p)| post(p, now).within(&format!("posts[{i}]")))
        .collect::<Result<_, _>>()?;
    let follower_sample = bounded(&value.follower_sample, "follower_sample")?
        .iter()
        .enumerate()
        .map(|(i, f)| follower_profile(f, false).within(&format!("follower_sample[{i}]")))
        .collect::<Result<_, _>>()?;
    Ok(AccountData {
        profile: profile(profile_msg, now).within("profile")?,
        snapshots,
        posts,
        follower_sample,
    })
}

/// The definition a request asks for; `None` (absent message) means the server default.
pub fn engagement_definition(
    value: Option<&pb::EngagementDefinition>,
) -> Result<Option<EngagementDefinition>, ValidationError> {
    let Some(value) = value else { return Ok(None) };
    let basis = match pb::engagement_definition::Basis::try_from(value.basis) {
        Ok(
            pb::engagement_definition::Basis::Unspecified
            | pb::engagement_definition::Basis::Followers,
        ) => EngagementBasis::Followers,
        Ok(pb::engagement_definition::Basis::Views) => EngagementBasis::Views,
        Err(_) => {
            return Err(ValidationError::new(
                "basis",
                format!("unknown value {}", value.basis),
            ));
        }
    };
    let window = match (&value.time_window, value.post_window) {
        (Some(span), _) => {
            if span.seconds <= 0 || span.nanos < 0 {
                return Err(ValidationError::new("time_window", "must be positive"));
            }
            PostWindow::Within(
                TimeDelta::try_seconds(span.seconds)
                    .ok_or_else(|| ValidationError::new("time_window", "too long"))?,
            )
        }
        (None, 0) => EngagementDefinition::default().window,
        (None, n) => PostWindow::Latest(
            u32::try_from(n)
                .map_err(|_| ValidationError::new("post_window", "must be positive"))?,
        ),
    };
    let definition = EngagementDefinition {
        basis,
        include_shares: value.include_shares,
        include_saves: value.include_saves,
        window,
    };
    definition.validate().map(Some)
}

fn engagement_summary(value: &EngagementSummary) -> pb::EngagementSummary {
    pb::EngagementSummary {
        definition_id: value.definition_id.clone(),
        definition: value.definition.clone(),
        mean_rate: value.mean_rate,
        median_rate: value.median_rate,
        view_rate: value.view_rate,
        sponsored_rate: value.sponsored_rate,
        organic_rate: value.organic_rate,
        sponsored_to_organic: value.sponsored_to_organic(),
        posts_considered: i32::try_from(value.posts_considered).unwrap_or(i32::MAX),
        sponsored_posts: i32::try_from(value.sponsored_posts).unwrap_or(i32::MAX),
        posts_per_week: value.posts_per_week,
        rate_variation: value.rate_variation,
        mean_likes: value.mean_likes,
        mean_comments: value.mean_comments,
    }
}

pub fn creator_score(value: &CreatorScore) -> pb::CreatorScore {
    let currency = value.value.currency.as_str();
    pb::CreatorScore {
        tier: tier_to_proto(value.tier) as i32,
        followers: i64::try_from(value.followers).unwrap_or(i64::MAX),
        engagement: Some(engagement_summary(&value.engagement)),
        peer_percentile: value.peer.as_ref().map(|peer| pb::PeerPercentile {
            percentile: peer.percentile,
            peer_group: peer.group_name.clone(),
            peer_count: i64::try_from(peer.peer_count).unwrap_or(i64::MAX),
            from_prior: peer.from_prior,
        }),
        authenticity: Some(pb::Authenticity {
            score: value.authenticity.score,
            fake_follower_share: value.authenticity.fake_follower_share,
            signals: value
                .authenticity
                .signals
                .iter()
                .map(|s| pb::AuthenticitySignal {
                    code: s.code.to_owned(),
                    penalty: s.penalty,
                    message: s.message.clone(),
                })
                .collect(),
        }),
        niches: value
            .niches
            .iter()
            .map(|n| pb::NicheMatch {
                niche: Some(crate::common::Niche {
                    id: n.id.clone(),
                    display_name: n.name.clone(),
                }),
                confidence: n.confidence,
            })
            .collect(),
        value: Some(pb::Value {
            prices: value
                .value
                .prices
                .iter()
                .map(|p| pb::PriceEstimate {
                    kind: deliverable_to_proto(p.deliverable) as i32,
                    price: Some(money(p.amount, currency)),
                    source: p.source.clone(),
                })
                .collect(),
            expected_engagements: value.value.expected_engagements,
            expected_reach: value.value.expected_reach,
            cost_per_engagement: value
                .value
                .cost_per_engagement
                .map(|cpe| money(cpe, currency)),
            earned_media_value: Some(money(value.value.earned_media_value, currency)),
            emv_formula: value.value.emv_formula.clone(),
        }),
        explanation: value
            .explanation
            .iter()
            .map(|f| pb::Factor {
                name: f.name.clone(),
                value: f.value,
                contribution: f.contribution,
                description: f.description.clone(),
            })
            .collect(),
        data_age: Some(duration(value.data_age)),
        sample_posts: i32::try_from(value.sample_posts).unwrap_or(i32::MAX),
        sample_followers: i32::try_from(value.sample_followers).unwrap_or(i32::MAX),
        compute_time: Some(timestamp(value.computed_at)),
        model_version: value.model_version.clone(),
    }
}

pub fn deliverable_to_proto(value: Deliverable) -> pb::DeliverableKind {
    match value {
        Deliverable::Post => pb::DeliverableKind::Post,
        Deliverable::Video => pb::DeliverableKind::Video,
        Deliverable::Story => pb::DeliverableKind::Story,
        Deliverable::Reel => pb::DeliverableKind::Reel,
        Deliverable::BlogPost => pb::DeliverableKind::BlogPost,
        Deliverable::TakeoverDay => pb::DeliverableKind::TakeoverDay,
        Deliverable::ProductSeeding => pb::DeliverableKind::ProductSeeding,
    }
}

pub fn deliverable(raw: i32) -> Result<Deliverable, ValidationError> {
    match pb::DeliverableKind::try_from(raw) {
        Ok(pb::DeliverableKind::Post) => Ok(Deliverable::Post),
        Ok(pb::DeliverableKind::Video) => Ok(Deliverable::Video),
        Ok(pb::DeliverableKind::Story) => Ok(Deliverable::Story),
        Ok(pb::DeliverableKind::Reel) => Ok(Deliverable::Reel),
        Ok(pb::DeliverableKind::BlogPost) => Ok(Deliverable::BlogPost),
        Ok(pb::DeliverableKind::TakeoverDay) => Ok(Deliverable::TakeoverDay),
        Ok(pb::DeliverableKind::ProductSeeding) => Ok(Deliverable::ProductSeeding),
        Ok(pb::DeliverableKind::Unspecified) => {
            Err(ValidationError::new("", "a deliverable kind is required"))
        }
        Err(_) => Err(ValidationError::new(
            "",
            format!("unknown deliverable kind {raw}"),
        )),
    }
}

/// A follower profile; `require_id` when it is to be stored (the id is its natural key).
pub fn follower_profile(
    value: &pb::FollowerProfile,
    require_id: bool,
) -> Result<resonance_core::FollowerProfile, ValidationError> {
    let id = value.id.trim();
    bounded_id(id, "id")?;
    if require_id && id.is_empty() {
        return Err(ValidationError::new(
            "id",
            "is required to store a follower (it is the follower's key)",
        ));
    }
    let small = |raw: i32, field: &str| {
        u32::try_from(raw)
            .map_err(|_| ValidationError::new(field, format!("must not be negative (got {raw})")))
    };
    Ok(resonance_core::FollowerProfile {
        id: id.to_owned(),
        followers: count(value.followers, "followers")?,
        following: count(value.following, "following")?,
        media_count: count(value.media_count, "media_count")?,
        has_profile_picture: value.has_profile_picture,
        is_private: value.is_private,
        bio_length: small(value.bio_length, "bio_length")?,
        username_length: small(value.username_length, "username_length")?,
        username_digit_count: small(value.username_digit_count, "username_digit_count")?,
        full_name_word_count: small(value.full_name_word_count, "full_name_word_count")?,
        has_external_url: value.has_external_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_longer_than_the_store_keeps_are_refused() {
        let post = pb::Post {
            external_id: "x".repeat(MAX_EXTERNAL_ID_CHARS + 1),
            posted_time: Some(timestamp(Utc::now())),
            ..Default::default()
        };
        let error = super::post(&post, Utc::now()).expect_err("too long");
        assert_eq!(error.field, "external_id");
        let follower = pb::FollowerProfile {
            id: "y".repeat(MAX_EXTERNAL_ID_CHARS + 1),
            ..Default::default()
        };
        assert_eq!(
            follower_profile(&follower, true)
                .expect_err("too long")
                .field,
            "id"
        );
    }
    use crate::common::Platform as PbPlatform;

    fn valid_account(now: DateTime<Utc>) -> pb::AccountData {
        pb::AccountData {
            profile: Some(pb::Profile {
                platform: PbPlatform::Instagram as i32,
                handle: "@Chef.Anna".to_owned(),
                followers: 20_000,
                ..Default::default()
            }),
            posts: vec![pb::Post {
                external_id: "p1".to_owned(),
                posted_time: Some(timestamp(now - TimeDelta::days(1))),
                likes: Some(100),
                comments: Some(5),
                caption: "#ad for @brand".to_owned(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn parses_a_valid_account() {
        let now = Utc::now();
        let account = account_data(&valid_account(now), now).expect("valid");
        assert_eq!(account.profile.handle.as_str(), "chef.anna");
        assert_eq!(account.profile.observed_at, now);
        assert_eq!(account.posts[0].hashtags, vec!["ad"]);
        assert_eq!(account.posts[0].mentions, vec!["brand"]);
    }

    #[test]
    fn errors_name_the_field_path() {
        let now = Utc::now();
        let mut bad = valid_account(now);
        bad.posts[0].likes = Some(-3);
        assert_eq!(
            account_data(&bad, now).expect_err("negative").field,
            "posts[0].likes"
        );

        let mut future = valid_account(now);
        future.posts[0].posted_time = Some(timestamp(now + TimeDelta::days(2)));
        assert_eq!(
            account_data(&future, now).expect_err("future").field,
            "posts[0].posted_time"
        );

        let mut missing = valid_account(now);
        missing.profile = None;
        assert_eq!(
            account_data(&missing, now).expect_err("missing").field,
            "profile"
        );

        let mut no_platform = valid_account(now);
        if let Some(profile) = no_platform.profile.as_mut() {
            profile.platform = 0;
        }
        assert_eq!(
            account_data(&no_platform, now).expect_err("platform").field,
            "profile.platform"
        );
    }
}
