use sea_orm::entity::prelude::*;

/// A creator whose data changed since it was scored. `version` grows with every change made
/// after a rescorer read (claimed) the entry, so a rescoring only clears the entry it read.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "score_queue")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub creator_id: i64,
    pub version: i64,
    pub enqueued_at: ChronoDateTimeUtc,
    /// A rescorer has read the entry: a change must bump `version`. New marks are unclaimed.
    pub claimed: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
