use sea_orm::entity::prelude::*;

/// A creator account on a platform. Natural key: (platform, handle). A row created only because
/// a post or snapshot named the account has no profile yet (`observed_at` is NULL).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "creators")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub platform: String,
    pub handle: String,
    pub external_id: Option<String>,
    pub display_name: String,
    pub bio: String,
    pub followers: Option<i64>,
    pub following: Option<i64>,
    pub media_count: Option<i64>,
    pub verified: bool,
    pub is_private: bool,
    pub has_profile_picture: bool,
    pub country: Option<String>,
    pub language: Option<String>,
    /// JSON array of strings.
    pub categories: String,
    pub observed_at: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
