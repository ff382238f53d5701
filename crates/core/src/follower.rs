//! Follower profiles: the features of one follower's account that the fake-follower
//! classifier reads, as sampled from a creator's audience.

/// One follower's public profile, reduced to the classifier's features.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FollowerProfile {
    /// The platform's id (or handle) of the follower; with the creator, the natural key.
    pub id: String,
    pub followers: u64,
    pub following: u64,
    pub media_count: u64,
    pub has_profile_picture: bool,
    pub is_private: bool,
    pub bio_length: u32,
    pub username_length: u32,
    pub username_digit_count: u32,
    pub full_name_word_count: u32,
    pub has_external_url: bool,
}
