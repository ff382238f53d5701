use sea_orm::entity::prelude::*;

/// A creator on a roster, by platform and handle.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "roster_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub brand_id: i64,
    pub roster_id: i64,
    pub platform: String,
    pub handle: String,
    pub status: String,
    pub notes: String,
    /// JSON: [{"deliverable": "post", "currency": "USD", "micros": 250000000}].
    pub rates: String,
    pub request_id: Option<String>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
