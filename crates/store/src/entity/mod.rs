//! Table mappings. Each table's schema is owned by the migrations; these mirror it.

pub mod api_key;
pub mod audience_sketch;
pub mod brand;
pub mod campaign;
pub mod campaign_plan;
pub mod campaign_post;
pub mod conversion;
pub mod creator;
pub mod creator_score;
pub mod dead_letter;
pub mod deliverable;
pub mod follower_sample;
pub mod ingest_job;
pub mod metric_snapshot;
pub mod post;
pub mod roster;
pub mod roster_entry;
pub mod score_detail;
pub mod score_queue;
