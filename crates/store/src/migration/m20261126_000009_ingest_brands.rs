//! Ingestion jobs and dead letters made through the API belong to the calling brand (a dead
//! letter of a conversion carries the brand's order): both get a nullable `brand_id`, NULL for
//! operators' imports and the queue worker.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum IngestJobs {
    Table,
    BrandId,
}

#[derive(DeriveIden)]
enum DeadLetters {
    Table,
    BrandId,
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
                    .table(IngestJobs::Table)
                    .add_column(big_integer_null(IngestJobs::BrandId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DeadLetters::Table)
                    .add_column(big_integer_null(DeadLetters::BrandId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_ingest_jobs_brand")
                    .table(IngestJobs::Table)
                    .col(IngestJobs::BrandId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_dead_letters_brand")
                    .table(DeadLetters::Table)
                    .col(DeadLetters::BrandId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (index, table) in [
            ("ix_ingest_jobs_brand", IngestJobs::Table.into_iden()),
            ("ix_dead_letters_brand", DeadLetters::Table.into_iden()),
        ] {
            manager
                .drop_index(Index::drop().name(index).table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(IngestJobs::Table)
                    .drop_column(IngestJobs::BrandId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DeadLetters::Table)
                    .drop_column(DeadLetters::BrandId)
                    .to_owned(),
            )
            .await
    }
}
