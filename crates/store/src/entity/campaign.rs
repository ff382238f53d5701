use sea_orm::entity::prelude::*;

/// A brand's campaign. List columns are JSON arrays of strings.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub brand_id: i64,
    pub display_name: String,
    pub goal: String,
    pub status: String,
    pub currency: String,
    pub budget_micros: i64,
    pub start_at: ChronoDateTimeUtc,
    pub end_at: ChronoDateTimeUtc,
    pub niches: String,
    pub platforms: String,
    pub hashtags: String,
    pub mentions: String,
    pub promo_codes: String,
    pub roster_id: Option<i64>,
    pub request_id: Option<String>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
