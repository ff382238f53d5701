use sea_orm::entity::prelude::*;

/// Account counters at one time. Natural key: (creator_id, observed_at).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "metric_snapshots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub creator_id: i64,
    pub observed_at: ChronoDateTimeUtc,
    pub followers: i64,
    pub following: i64,
    pub media_count: i64,
    /// Per-post averages a source reported at this time; NULL when unknown.
    pub avg_likes: Option<i64>,
    pub avg_comments: Option<i64>,
    pub avg_views: Option<i64>,
    pub avg_engagements: Option<i64>,
    pub authentic_engagements: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
