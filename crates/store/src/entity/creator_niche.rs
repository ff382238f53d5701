use sea_orm::entity::prelude::*;

/// A niche a creator's current score found.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "creator_niches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub creator_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub niche: String,
    pub confidence: f64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
