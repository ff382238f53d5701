use sea_orm::entity::prelude::*;

/// A creator's audience as a HyperLogLog sketch (resonance_core::audience).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audience_sketches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub creator_id: i64,
    pub registers: Vec<u8>,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
