use sea_orm::entity::prelude::*;

/// A post attributed to a campaign (see `attribution`). Key: (campaign_id, post_id).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_posts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub campaign_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub post_id: i64,
    pub creator_id: i64,
    pub posted_at: ChronoDateTimeUtc,
    /// "takeover", "hashtag" or "mention".
    pub matched_by: String,
    pub attributed_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
