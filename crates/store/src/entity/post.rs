use sea_orm::entity::prelude::*;

/// A post. Natural key: (creator_id, external_id). Counts the platform does not report are NULL.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "posts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub creator_id: i64,
    pub external_id: String,
    pub posted_at: ChronoDateTimeUtc,
    pub format: String,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub shares: Option<i64>,
    pub saves: Option<i64>,
    pub views: Option<i64>,
    pub caption: String,
    /// Space-separated, lowercase, without '#'.
    pub hashtags: String,
    /// Space-separated, lowercase, without '@'.
    pub mentions: String,
    pub paid_partnership: bool,
    pub url: Option<String>,
    pub updated_at: ChronoDateTimeUtc,
    /// When the counts were read; the newest observation wins. NULL before it was recorded.
    pub observed_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
