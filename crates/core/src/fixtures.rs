//! Test fixtures shared by the model's unit tests.

use chrono::{DateTime, TimeZone, Utc};

use crate::account::{ContentFormat, Handle, Platform, Post, Profile};

/// Midnight UTC of a day in March 2026.
pub(crate) fn march(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, 0, 0, 0)
        .single()
        .expect("valid date")
}

/// An Instagram profile with a picture and nothing else notable, observed on 1 March 2026.
pub(crate) fn profile(handle: &str, followers: u64, following: u64) -> Profile {
    Profile {
        platform: Platform::Instagram,
        handle: Handle::parse(handle).expect("valid handle"),
        external_id: None,
        display_name: String::new(),
        bio: String::new(),
        followers,
        following,
        media_count: 100,
        verified: false,
        is_private: false,
        has_profile_picture: true,
        country: None,
        language: None,
        categories: vec![],
        observed_at: march(1),
    }
}

/// A post with this caption (hashtags parsed from it) and no counts.
pub(crate) fn post(external_id: &str, posted_at: DateTime<Utc>, caption: &str) -> Post {
    Post {
        external_id: external_id.to_owned(),
        posted_at,
        format: ContentFormat::Post,
        likes: None,
        comments: None,
        shares: None,
        saves: None,
        views: None,
        caption: caption.to_owned(),
        hashtags: vec![],
        mentions: vec![],
        paid_partnership: false,
        url: None,
    }
    .with_tags_from_caption()
}
