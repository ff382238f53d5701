//! The Resonance domain: creators, their content and metrics, and the scoring model.
//!
//! Pure: no I/O, no gRPC, no database. Values that reach these types have been parsed and are
//! valid; every constant the model uses is a field of a configuration type with a documented
//! default and source.

#![cfg_attr(
    test,
    allow(
        unused_crate_dependencies,
        reason = "dev-dependencies serve the integration tests"
    )
)]

pub mod account;
pub mod audience;
pub mod authenticity;
pub mod campaign;
pub mod engagement;
pub mod error;
#[cfg(test)]
mod fixtures;
pub mod follower;
pub mod niche;
pub mod peers;
pub mod planner;
pub mod quality;
pub mod score;
pub mod text;
pub mod tier;
pub mod value;

pub use account::{
    AccountData, ContentFormat, Handle, MetricSnapshot, Platform, Post, Profile, ReportedAverages,
};
pub use audience::AudienceSketch;
pub use engagement::{EngagementBasis, EngagementDefinition, EngagementSummary, PostWindow};
pub use error::ValidationError;
pub use follower::FollowerProfile;
pub use peers::{PeerGroup, PeerIndex};
pub use score::{CreatorScore, Factor, PeerPercentile, ScoreContext, ScoringConfig, ScoringModel};
pub use tier::{Tier, TierBounds};
pub use value::{Deliverable, RateCard};
