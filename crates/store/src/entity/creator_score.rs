use sea_orm::entity::prelude::*;

/// The current score of a creator: the columns search filters and sorts on (the encoded score
/// is in `score_details`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "creator_scores")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub creator_id: i64,
    pub platform: String,
    pub followers: i64,
    pub tier: String,
    pub country: Option<String>,
    pub language: Option<String>,
    pub primary_niche: String,
    /// "|food:0.81|travel:0.2|".
    pub niche_tags: String,
    pub definition_id: String,
    pub median_rate: f64,
    /// 0 when engagement could not be ranked.
    pub percentile: f64,
    pub authenticity: f64,
    pub fake_share: Option<f64>,
    pub post_price: f64,
    pub value: f64,
    pub expected_engagements: f64,
    pub model_version: String,
    pub computed_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
