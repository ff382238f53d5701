//! Records as the domain sees them, parsed from the wire with field paths.

use chrono::{DateTime, Utc};
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
        Some(Kind::Conversion(_)) => Err(not_stored_yet("conversion")),
    }
}

/// Kinds the contract defines whose storage is not built yet: refused record by record, so a
/// caller learns it instead of losing data silently.
fn not_stored_yet(kind: &str) -> ValidationError {
    ValidationError::new(
        kind,
        format!("{kind} records are not accepted by this server version yet"),
    )
}
