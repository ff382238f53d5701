//! Schema migrations. Each is self-contained: it names its own tables and columns and never
//! imports today's entities, so that it still means the same thing after the entities change.

use sea_orm_migration::prelude::*;

mod m20261125_000001_creators_posts_ingest;
mod m20261125_000002_dead_letter_keys;
mod m20261125_000003_post_observations;
mod m20261125_000004_reported_averages;
mod m20261125_000005_audiences_followers;
mod m20261125_000006_scores;
mod m20261125_000007_brands;
mod m20261126_000008_rosters_campaigns;
mod m20261126_000009_ingest_brands;
mod m20261203_000010_campaign_plans;
mod m20261203_000011_campaign_posts;
mod m20261203_000012_posts_without_creator_fk;
mod m20261203_000013_score_queue_fillfactor;
mod m20261203_000014_sqlite_posts_without_time_index;
mod m20261203_000015_score_queue_claimed;
mod m20261203_000016_sqlite_posts_rowid;

#[derive(Debug)]
pub struct Migrator;

/// Runs `sql` on PostgreSQL only: for storage settings SQLite does not have.
async fn on_postgres(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    on_backend(manager, sea_orm::DbBackend::Postgres, sql).await
}

/// Runs `sql` on SQLite only: for choices that only SQLite's storage calls for.
async fn on_sqlite(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    on_backend(manager, sea_orm::DbBackend::Sqlite, sql).await
}

async fn on_backend(
    manager: &SchemaManager<'_>,
    backend: sea_orm::DbBackend,
    sql: &str,
) -> Result<(), DbErr> {
    if manager.get_database_backend() == backend {
        manager.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_creators_posts_ingest::Migration),
            Box::new(m20261125_000002_dead_letter_keys::Migration),
            Box::new(m20261125_000003_post_observations::Migration),
            Box::new(m20261125_000004_reported_averages::Migration),
            Box::new(m20261125_000005_audiences_followers::Migration),
            Box::new(m20261125_000006_scores::Migration),
            Box::new(m20261125_000007_brands::Migration),
            Box::new(m20261126_000008_rosters_campaigns::Migration),
            Box::new(m20261126_000009_ingest_brands::Migration),
            Box::new(m20261203_000010_campaign_plans::Migration),
            Box::new(m20261203_000011_campaign_posts::Migration),
            Box::new(m20261203_000012_posts_without_creator_fk::Migration),
            Box::new(m20261203_000013_score_queue_fillfactor::Migration),
            Box::new(m20261203_000014_sqlite_posts_without_time_index::Migration),
            Box::new(m20261203_000015_score_queue_claimed::Migration),
            Box::new(m20261203_000016_sqlite_posts_rowid::Migration),
        ]
    }
}
