//! PostgreSQL: posts no longer carry a foreign key to creators.
//!
//! Posts are the bulk of every import, and PostgreSQL checks a foreign key with a trigger per
//! inserted row that locks the referenced creator (`SELECT ... FOR KEY SHARE`): about half the
//! server's time in a batch of new posts (`bench/ingest.sh`, 100,000 posts: 18.9k rows/s with
//! the key, 36.9k without). The one code path that writes posts (`crate::posts`) inserts or
//! finds every post's creator in the same transaction, before the posts, and creators are never
//! deleted, so the key only ever checked what that path already guarantees; the store's tests
//! check it on both backends. SQLite keeps its key: there the check is a lookup in the
//! creators table's own B-tree, and dropping it would mean rebuilding the posts table.

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
        super::on_postgres(
            manager,
            "ALTER TABLE posts DROP CONSTRAINT IF EXISTS fk_posts_creator",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::on_postgres(
            manager,
            "ALTER TABLE posts ADD CONSTRAINT fk_posts_creator FOREIGN KEY (creator_id) \
             REFERENCES creators (id) ON DELETE CASCADE",
        )
        .await
    }
}
