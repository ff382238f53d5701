//! PostgreSQL: the rescoring queue's pages are filled to 20% at most.
//!
//! Every batch of posts marks its creators in `score_queue`, and a creator already waiting is
//! marked again by adding one to its version (see `crate::scores`): importing 1,000,000 posts
//! of 20,000 creators updates its 20,000 rows 980,000 times. On full pages those updates are
//! not HOT (heap-only) updates: each leaves a new index entry behind, and the queue took 11 s
//! of the import's 35 s on the server, growing with every batch. With room on each page, all
//! of them were HOT updates and the same import spent 7 s there. The queue is small (a row per
//! waiting creator), so the room costs little. SQLite rewrites rows in place; nothing changes
//! there.

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
        super::on_postgres(manager, "ALTER TABLE score_queue SET (fillfactor = 20)").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::on_postgres(manager, "ALTER TABLE score_queue RESET (fillfactor)").await
    }
}
