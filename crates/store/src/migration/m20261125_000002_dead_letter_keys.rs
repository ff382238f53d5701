//! Dead letters from a redelivering source (a NATS JetStream message delivered again after a
//! crash between commit and acknowledgement) carry a key, so the same rejection is kept once.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum DeadLetters {
    Table,
    DedupeKey,
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
                    .table(DeadLetters::Table)
                    .add_column(string_len_null(DeadLetters::DedupeKey, 200))
                    .to_owned(),
            )
            .await?;
        // NULL keys (file imports, push requests) never collide.
        manager
            .create_index(
                Index::create()
                    .name("ux_dead_letters_dedupe_key")
                    .table(DeadLetters::Table)
                    .col(DeadLetters::DedupeKey)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ux_dead_letters_dedupe_key")
                    .table(DeadLetters::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DeadLetters::Table)
                    .drop_column(DeadLetters::DedupeKey)
                    .to_owned(),
            )
            .await
    }
}
