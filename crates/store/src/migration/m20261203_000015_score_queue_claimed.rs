//! The rescoring queue records whether a rescorer has read an entry.
//!
//! A change marks its creator in `score_queue`; a mark made while the creator is still waiting
//! used to add one to the entry's version, so that a rescorer that had read the entry before
//! the change would not clear it. That write was needed only if a rescorer had read the entry:
//! an import marks the same creators batch after batch (1,000,000 posts of 20,000 creators:
//! 980,000 repeats), and on PostgreSQL those updates were the largest cost after the posts.
//! Now `ScoreRepo::claim` sets `claimed`, and a repeat mark writes only to a claimed entry
//! (adding one to its version and clearing `claimed`); an unclaimed entry is left as it is,
//! since whoever reads it later reads the change too.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum ScoreQueue {
    Table,
    Claimed,
}

#[expect(
    elided_lifetimes_in_paths,
    reason = "async_trait rewrites lifetimes; an explicit '_ no longer matches the trait"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ScoreQueue::Table)
                    .add_column(
                        ColumnDef::new(ScoreQueue::Claimed)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        // Entries waiting now may have been read by a rescorer that is still at work.
        manager
            .get_connection()
            .execute_unprepared("UPDATE score_queue SET claimed = TRUE")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ScoreQueue::Table)
                    .drop_column(ScoreQueue::Claimed)
                    .to_owned(),
            )
            .await
    }
}
