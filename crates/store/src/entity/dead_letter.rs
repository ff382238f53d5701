use sea_orm::entity::prelude::*;

/// A record that was rejected, with where it came from and why.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dead_letters")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub job_id: Option<String>,
    pub source: String,
    pub position: String,
    pub field: String,
    pub reason: String,
    pub payload: String,
    pub created_at: ChronoDateTimeUtc,
    /// Set by redelivering sources; a second letter with the same key is not kept.
    pub dedupe_key: Option<String>,
    /// The brand whose API call made it; NULL for operators' imports and the queue worker.
    pub brand_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
