//! Records as the domain sees them, parsed from the wire with field paths.

use chrono::{DateTime, Utc};
use resonance_core::account::check_not_future;
use resonance_core::campaign::report::Conversion;
use resonance_core::campaign::{promo_code, tracking_url};
use resonance_core::error::WithinField;
use resonance_core::{
    AudienceSketch, FollowerProfile, Handle, MetricSnapshot, Platform, Post, Profile,
    ValidationError,
};
use resonance_proto::convert;
use resonance_proto::ingest::{self as pb, record::Kind};

/// One valid unit of creator data.
#[derive(Debug, Clone, PartialEq)]
pub enum IngestRecord {
    Profile(Profile),
    Snapshot(Platform, Handle, MetricSnapshot),
    /// A post, with when its counts were read.
    Post(Platform, Handle, Post, DateTime<Utc>),
    /// Sampled followers of an account, for the authenticity model.
    FollowerSample(Platform, Handle, Vec<FollowerProfile>),
    /// Audience members of an account, already folded into a sketch.
    Audience(Platform, Handle, AudienceSketch),
    /// An order of the brand the records are ingested for.
    Conversion(Conversion),
}

/// The most followers one follower-sample record may carry.
pub const MAX_FOLLOWERS_PER_RECORD: usize = 10_000;
/// The most member ids one audience record may carry (send large audiences in several).
pub const MAX_MEMBERS_PER_RECORD: usize = 100_000;

fn account(
    reference: Option<&resonance_proto::common::CreatorRef>,
) -> Result<(Platform, Handle), ValidationError> {
    let reference = reference.ok_or_else(|| ValidationError::new("account", "is required"))?;
    convert::creator_ref(reference).within("account")
}

/// Parses a wire record. Field paths start at the record's kind ("post.post.likes").
pub fn parse(record: &pb::Record, now: DateTime<Utc>) -> Result<IngestRecord, ValidationError> {
    match &record.kind {
        None => Err(ValidationError::new(
            "kind",
            "a record needs one of profile, snapshot, post, follower_sample, audience, conversion",
        )),
        Some(Kind::Profile(profile)) => {
            let inner = profile
                .profile
                .as_ref()
                .ok_or_else(|| ValidationError::new("profile.profile", "is required"))?;
            Ok(IngestRecord::Profile(
                convert::profile(inner, now).within("profile.profile")?,
            ))
        }
        Some(Kind::Snapshot(snapshot)) => {
            let (platform, handle) = account(snapshot.account.as_ref()).within("snapshot")?;
            let inner = snapshot
                .snapshot
                .as_ref()
                .ok_or_else(|| ValidationError::new("snapshot.snapshot", "is required"))?;
            Ok(IngestRecord::Snapshot(
                platform,
                handle,
                convert::snapshot(inner, now).within("snapshot.snapshot")?,
            ))
        }
        Some(Kind::Post(post)) => {
            let (platform, handle) = account(post.account.as_ref()).within("post")?;
            let inner = post
                .post
                .as_ref()
                .ok_or_else(|| ValidationError::new("post.post", "is required"))?;
            Ok(IngestRecord::Post(
                platform,
                handle,
                convert::post(inner, now).within("post.post")?,
                convert::observed(post.observed_time.as_ref(), "post.observed_time", now)?,
            ))
        }
        Some(Kind::FollowerSample(sample)) => {
            let (platform, handle) = account(sample.account.as_ref()).within("follower_sample")?;
            let followers = &sample.followers;
            if followers.is_empty() || followers.len() > MAX_FOLLOWERS_PER_RECORD {
                return Err(ValidationError::new(
                    "follower_sample.followers",
                    format!(
                        "must hold 1 to {MAX_FOLLOWERS_PER_RECORD} followers (got {})",
                        followers.len()
                    ),
                ));
            }
            let followers = followers
                .iter()
                .enumerate()
                .map(|(index, follower)| {
                    convert::follower_profile(follower, true)
                        .within(&format!("follower_sample.followers[{index}]"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(IngestRecord::FollowerSample(platform, handle, followers))
        }
        Some(Kind::Audience(audience)) => {
            let (platform, handle) = account(audience.account.as_ref()).within("audience")?;
            let members = &audience.member_ids;
            if members.is_empty() || members.len() > MAX_MEMBERS_PER_RECORD {
                return Err(ValidationError::new(
                    "audience.member_ids",
                    format!(
                        "must hold 1 to {MAX_MEMBERS_PER_RECORD} member ids (got {})",
                        members.len()
                    ),
                ));
            }
            let mut sketch = AudienceSketch::new();
            for (index, member) in members.iter().enumerate() {
                let member = member.trim();
                if member.is_empty() {
                    return Err(ValidationError::new(
                        format!("audience.member_ids[{index}]"),
                        "must not be blank",
                    ));
                }
                sketch.insert(member);
            }
            Ok(IngestRecord::Audience(platform, handle, sketch))
        }
        Some(Kind::Conversion(conversion)) => {
            conversion_record(conversion, now).map(IngestRecord::Conversion)
        }
    }
}

/// The longest order id kept.
pub const MAX_ORDER_ID: usize = 200;

fn conversion_record(
    value: &pb::ConversionRecord,
    now: DateTime<Utc>,
) -> Result<Conversion, ValidationError> {
    let order_id = value.order_id.trim();
    if order_id.is_empty() || order_id.len() > MAX_ORDER_ID {
        return Err(ValidationError::new(
            "conversion.order_id",
            format!("must hold 1 to {MAX_ORDER_ID} bytes"),
        ));
    }
    let promo_code = promo_code(&value.promo_code).within("conversion.promo_code")?;
    let tracking_url = tracking_url(&value.tracking_url).within("conversion.tracking_url")?;
    if promo_code.is_none() && tracking_url.is_none() {
        return Err(ValidationError::new(
            "conversion.promo_code",
            "a conversion needs a promo code or a tracking URL to be attributed",
        ));
    }
    let occurred_at =
        convert::required_time(value.occurred_time.as_ref(), "conversion.occurred_time")?;
    check_not_future(occurred_at, now).within("conversion.occurred_time")?;
    let revenue = value
        .revenue
        .as_ref()
        .ok_or_else(|| ValidationError::new("conversion.revenue", "is required"))?;
    Ok(Conversion {
        order_id: order_id.to_owned(),
        promo_code,
        tracking_url,
        occurred_at,
        revenue: convert::money_micros(revenue).within("conversion.revenue")?,
    })
}
