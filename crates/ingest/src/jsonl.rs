//! The canonical JSONL record format: one JSON object per line, with a `type` of `profile`,
//! `snapshot`, `post`, `follower_sample`, `audience` or `conversion` (a brand's order, with
//! `order_id`, `promo_code` and/or `tracking_url`, `occurred_time`, `revenue` and `currency`),
//! the account as top-level `platform` and
//! `handle`, and otherwise the field names of the protobuf messages
//! (resonance.scoring.v1.Profile, MetricSnapshot, Post, FollowerProfile; `member_ids` of
//! resonance.ingest.v1.AudienceRecord). Times are RFC 3339 strings.
//!
//! ```json
//! {"type":"profile","platform":"instagram","handle":"chef.anna","followers":25000,"following":310,"media_count":120,"observed_time":"2026-11-01T00:00:00Z"}
//! {"type":"post","platform":"instagram","handle":"chef.anna","external_id":"p1","posted_time":"2026-10-30T12:00:00Z","likes":900,"comments":40,"caption":"Lunch #ad"}
//! {"type":"snapshot","platform":"instagram","handle":"chef.anna","observed_time":"2026-10-01T00:00:00Z","followers":24000,"following":300,"media_count":110}
//! {"type":"follower_sample","platform":"instagram","handle":"chef.anna","followers":[{"id":"u1","followers":12,"following":4100,"media_count":0}]}
//! {"type":"audience","platform":"instagram","handle":"chef.anna","member_ids":["u1","u2","u3"]}
//! {"type":"conversion","order_id":"o-1001","promo_code":"ANNA10","occurred_time":"2026-11-02T09:30:00Z","revenue":42.5,"currency":"USD"}
//! ```

use chrono::{DateTime, Utc};
use resonance_core::{Platform, ValidationError};
use resonance_proto::common::CreatorRef;
use resonance_proto::ingest::{
    AudienceRecord, ConversionRecord, FollowerSampleRecord, PostRecord, ProfileRecord, Record,
    SnapshotRecord, record::Kind,
};
use resonance_proto::{convert, scoring as pb};
use serde::Deserialize;

/// The record type, read first so that the record itself can be parsed with field paths
/// (serde cannot track paths through an internally tagged enum).
#[derive(Debug, Deserialize)]
struct Tag<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileLine {
    #[serde(rename = "type")]
    _kind: serde::de::IgnoredAny,
    platform: String,
    handle: String,
    #[serde(default)]
    external_id: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    bio: String,
    followers: i64,
    #[serde(default)]
    following: i64,
    #[serde(default)]
    media_count: i64,
    #[serde(default)]
    verified: bool,
    #[serde(default)]
    is_private: bool,
    #[serde(default)]
    has_profile_picture: bool,
    #[serde(default)]
    country: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    categories: Vec<String>,
    observed_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotLine {
    #[serde(rename = "type")]
    _kind: serde::de::IgnoredAny,
    platform: String,
    handle: String,
    observed_time: DateTime<Utc>,
    followers: i64,
    #[serde(default)]
    following: i64,
    #[serde(default)]
    media_count: i64,
    avg_likes: Option<i64>,
    avg_comments: Option<i64>,
    avg_views: Option<i64>,
    avg_engagements: Option<i64>,
    authentic_engagements: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostLine {
    #[serde(rename = "type")]
    _kind: serde::de::IgnoredAny,
    platform: String,
    handle: String,
    external_id: String,
    posted_time: DateTime<Utc>,
    #[serde(default)]
    format: String,
    likes: Option<i64>,
    comments: Option<i64>,
    shares: Option<i64>,
    saves: Option<i64>,
    views: Option<i64>,
    #[serde(default)]
    caption: String,
    #[serde(default)]
    hashtags: Vec<String>,
    #[serde(default)]
    mentions: Vec<String>,
    #[serde(default)]
    paid_partnership: bool,
    #[serde(default)]
    url: String,
    observed_time: Option<DateTime<Utc>>,
}

fn platform(raw: &str) -> Result<i32, ValidationError> {
    let platform: Platform = raw
        .parse()
        .map_err(|e: ValidationError| e.within("platform"))?;
    Ok(convert::platform_to_proto(platform) as i32)
}

fn account(platform_name: &str, handle: &str) -> Result<CreatorRef, ValidationError> {
    Ok(CreatorRef {
        platform: platform(platform_name)?,
        handle: handle.to_owned(),
    })
}

fn format(raw: &str) -> Result<i32, ValidationError> {
    let format: resonance_core::ContentFormat = raw
        .parse()
        .map_err(|e: ValidationError| e.within("format"))?;
    Ok(convert::content_format_to_proto(format) as i32)
}

enum Line {
    Profile(ProfileLine),
    Snapshot(SnapshotLine),
    Post(PostLine),
    FollowerSample(FollowerSampleLine),
    Audience(AudienceLine),
    Conversion(ConversionLine),
}

/// An order of the importing brand (`resonance import --brand`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConversionLine {
    #[serde(rename = "type")]
    _kind: serde::de::IgnoredAny,
    order_id: String,
    #[serde(default)]
    promo_code: String,
    #[serde(default)]
    tracking_url: String,
    occurred_time: DateTime<Utc>,
    /// In whole units of `currency`, for example 120.5.
    revenue: f64,
    currency: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FollowerSampleLine {
    #[serde(rename = "type")]
    _kind: serde::de::IgnoredAny,
    platform: String,
    handle: String,
    followers: Vec<FollowerLine>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FollowerLine {
    id: String,
    #[serde(default)]
    followers: i64,
    #[serde(default)]
    following: i64,
    #[serde(default)]
    media_count: i64,
    #[serde(default)]
    has_profile_picture: bool,
    #[serde(default)]
    is_private: bool,
    #[serde(default)]
    bio_length: i32,
    #[serde(default)]
    username_length: i32,
    #[serde(default)]
    username_digit_count: i32,
    #[serde(default)]
    full_name_word_count: i32,
    #[serde(default)]
    has_external_url: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AudienceLine {
    #[serde(rename = "type")]
    _kind: serde::de::IgnoredAny,
    platform: String,
    handle: String,
    member_ids: Vec<String>,
}

fn fields<T: serde::de::DeserializeOwned>(line: &str) -> Result<T, ValidationError> {
    // Most lines are valid: parse them directly, and only a line that fails again with the
    // path tracked, to name the field.
    if let Ok(parsed) = serde_json::from_str(line) {
        return Ok(parsed);
    }
    let deserializer = &mut serde_json::Deserializer::from_str(line);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let field = if path == "." { String::new() } else { path };
        ValidationError::new(field, format!("invalid JSON: {}", error.into_inner()))
    })
}

/// Parses one line into a wire record. Errors name the JSON field.
pub fn parse_line(line: &str) -> Result<Record, ValidationError> {
    let tag: Tag<'_> = serde_json::from_str(line)
        .map_err(|e| ValidationError::new("", format!("invalid JSON: {e}")))?;
    let parsed = match tag.kind {
        Some("profile") => Line::Profile(fields(line)?),
        Some("snapshot") => Line::Snapshot(fields(line)?),
        Some("post") => Line::Post(fields(line)?),
        Some("follower_sample") => Line::FollowerSample(fields(line)?),
        Some("audience") => Line::Audience(fields(line)?),
        Some("conversion") => Line::Conversion(fields(line)?),
        Some(other) => {
            return Err(ValidationError::new(
                "type",
                format!(
                    "unknown record type {other:?} (expected profile, snapshot, post, follower_sample, audience or conversion)"
                ),
            ));
        }
        None => {
            return Err(ValidationError::new(
                "type",
                "is required (profile, snapshot, post, follower_sample, audience or conversion)",
            ));
        }
    };
    let kind = match parsed {
        Line::Profile(p) => Kind::Profile(ProfileRecord {
            profile: Some(pb::Profile {
                platform: platform(&p.platform)?,
                handle: p.handle,
                external_id: p.external_id,
                display_name: p.display_name,
                bio: p.bio,
                followers: p.followers,
                following: p.following,
                media_count: p.media_count,
                verified: p.verified,
                is_private: p.is_private,
                has_profile_picture: p.has_profile_picture,
                country: p.country,
                language: p.language,
                categories: p.categories,
                observed_time: p.observed_time.map(convert::timestamp),
            }),
        }),
        Line::Snapshot(s) => Kind::Snapshot(SnapshotRecord {
            account: Some(account(&s.platform, &s.handle)?),
            snapshot: Some(pb::MetricSnapshot {
                observed_time: Some(convert::timestamp(s.observed_time)),
                followers: s.followers,
                following: s.following,
                media_count: s.media_count,
                avg_likes: s.avg_likes,
                avg_comments: s.avg_comments,
                avg_views: s.avg_views,
                avg_engagements: s.avg_engagements,
                authentic_engagements: s.authentic_engagements,
            }),
        }),
        Line::Post(p) => Kind::Post(PostRecord {
            account: Some(account(&p.platform, &p.handle)?),
            post: Some(pb::Post {
                external_id: p.external_id,
                posted_time: Some(convert::timestamp(p.posted_time)),
                format: format(&p.format)?,
                likes: p.likes,
                comments: p.comments,
                shares: p.shares,
                saves: p.saves,
                views: p.views,
                caption: p.caption,
                hashtags: p.hashtags,
                mentions: p.mentions,
                paid_partnership: p.paid_partnership,
                url: p.url,
            }),
            observed_time: p.observed_time.map(convert::timestamp),
        }),
        Line::FollowerSample(f) => Kind::FollowerSample(FollowerSampleRecord {
            account: Some(account(&f.platform, &f.handle)?),
            followers: f
                .followers
                .into_iter()
                .map(|follower| pb::FollowerProfile {
                    id: follower.id,
                    followers: follower.followers,
                    following: follower.following,
                    media_count: follower.media_count,
                    has_profile_picture: follower.has_profile_picture,
                    is_private: follower.is_private,
                    bio_length: follower.bio_length,
                    username_length: follower.username_length,
                    username_digit_count: follower.username_digit_count,
                    full_name_word_count: follower.full_name_word_count,
                    has_external_url: follower.has_external_url,
                })
                .collect(),
        }),
        Line::Audience(a) => Kind::Audience(AudienceRecord {
            account: Some(account(&a.platform, &a.handle)?),
            member_ids: a.member_ids,
        }),
        Line::Conversion(c) => {
            if !c.revenue.is_finite() || c.revenue < 0.0 || c.revenue > 1e12 {
                return Err(ValidationError::new(
                    "revenue",
                    "must be a non-negative amount below 10^12",
                ));
            }
            // Kept to the millionth: round here so that 120.1 is not 120.09999999.
            let micros = (c.revenue * 1e6).round() as i64;
            Kind::Conversion(ConversionRecord {
                order_id: c.order_id,
                promo_code: c.promo_code,
                tracking_url: c.tracking_url,
                occurred_time: Some(convert::timestamp(c.occurred_time)),
                revenue: Some(convert::money_from_micros(&c.currency, micros)),
            })
        }
    };
    Ok(Record { kind: Some(kind) })
}

/// Maps a wire field path ("post.post.likes", "post.account.handle") to the JSONL field name
/// ("likes", "handle"), since a line is flat.
pub fn line_field(wire_path: &str) -> String {
    let mut segments: Vec<&str> = wire_path.split('.').collect();
    if segments.len() >= 3 && matches!(segments[1], "profile" | "snapshot" | "post" | "account") {
        segments.drain(..2);
    } else if segments.len() >= 2
        && matches!(
            segments[0],
            "profile" | "snapshot" | "post" | "follower_sample" | "audience" | "conversion"
        )
    {
        // A field of the record itself: "post.observed_time", "audience.member_ids[2]".
        segments.drain(..1);
    }
    segments.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind() {
        let profile = parse_line(
            r#"{"type":"profile","platform":"instagram","handle":"anna","followers":10}"#,
        )
        .expect("profile");
        assert!(matches!(profile.kind, Some(Kind::Profile(_))));
        let post = parse_line(
            r#"{"type":"post","platform":"tiktok","handle":"anna","external_id":"1","posted_time":"2026-01-01T00:00:00Z","likes":3,"format":"video"}"#,
        )
        .expect("post");
        assert!(matches!(post.kind, Some(Kind::Post(_))));
    }

    #[test]
    fn errors_name_the_json_field() {
        let error = parse_line(
            r#"{"type":"profile","platform":"instagram","handle":"anna","followers":"many"}"#,
        )
        .expect_err("type");
        assert_eq!(error.field, "followers");
        let error =
            parse_line(r#"{"type":"profile","platform":"myspace","handle":"anna","followers":1}"#)
                .expect_err("platform");
        assert_eq!(error.field, "platform");
        let error = parse_line(
            r#"{"type":"profile","platform":"instagram","handle":"a","followers":1,"folowers":2}"#,
        )
        .expect_err("unknown");
        assert!(error.message.contains("folowers"), "{error}");
        let error = parse_line("{not json").expect_err("syntax");
        assert!(error.message.starts_with("invalid JSON"), "{error}");
    }

    #[test]
    fn wire_paths_become_line_fields() {
        assert_eq!(line_field("post.post.likes"), "likes");
        assert_eq!(line_field("post.account.handle"), "handle");
        assert_eq!(line_field("profile.profile.observed_time"), "observed_time");
        assert_eq!(line_field("kind"), "kind");
    }
}
