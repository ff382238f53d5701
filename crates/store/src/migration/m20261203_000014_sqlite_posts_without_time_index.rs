//! SQLite: posts lose their (creator, posted time) index.
//!
//! Each post inserted is an entry in every index of the posts table, and on SQLite every
//! commit writes each index page it changed to the write-ahead log, whole. Posts of many
//! accounts arriving interleaved touch most of an index's pages per commit, so each index
//! costs the bulk import about as much as the table itself: `bench/ingest.sh` at 1,000,000
//! posts in transactions of 100,000, ran at 116k posts/s with the index and 206k without.
//!
//! No query needs it: every read of posts by time is per creator and reads all of that
//! creator's posts anyway (the latest posts for scoring are numbered over each creator's
//! posts; a campaign report filters a creator's posts by a window), and those rows are found
//! through the unique (creator, external id) index, then sorted. PostgreSQL keeps the index:
//! its log records the entry, not the page, and it hands the scoring query its rows in order.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[expect(
    elided_lifetimes_in_paths,
    reason = "async_trait rewrites lifetimes; an explicit '_ no longer matches the trait"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::on_sqlite(manager, "DROP INDEX IF EXISTS ix_posts_creator_posted").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::on_sqlite(
            manager,
            "CREATE INDEX IF NOT EXISTS ix_posts_creator_posted ON posts (creator_id, posted_at)",
        )
        .await
    }
}
