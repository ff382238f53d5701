//! Records as the domain sees them, parsed from the wire with field paths.

use chrono::{DateTime, Utc};
use resonance_core::error::WithinField;
use resonance_core::{Handle, MetricSnapshot, Platform, Post, Profile, ValidationError};
use resonance_proto::convert;
use resonance_proto::ingest::{self as pb, record::Kind};

/// One valid unit of creator data.
#[derive(Debug, Clone, PartialEq)]
pub enum IngestRecord {
    Profile(Profile),
    Snapshot(Platform, Handle, MetricSnapshot),
    /// A post, with when its counts were read.
    Post(Platform, Handle, Post, DateTime<Utc>),
}

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
        Some(Kind::FollowerSample(_)) => Err(not_stored_yet("follower_sample")),
        Some(Kind::Audience(_)) => Err(not_stored_yet("audience")),
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
