//! Stored scores (one per creator, with the columns search filters and sorts on), the niches
//! each score found, and the queue of creators whose data changed since they were scored.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum CreatorScores {
    Table,
    CreatorId,
    Platform,
    Followers,
    Tier,
    Country,
    Language,
    PrimaryNiche,
    DefinitionId,
    MedianRate,
    Percentile,
    Authenticity,
    FakeShare,
    PostPrice,
    Value,
    ExpectedEngagements,
    Detail,
    ModelVersion,
    ComputedAt,
}

#[derive(DeriveIden)]
enum CreatorNiches {
    Table,
    CreatorId,
    Niche,
    Confidence,
}

#[derive(DeriveIden)]
enum ScoreQueue {
    Table,
    CreatorId,
    Version,
    EnqueuedAt,
}

#[derive(DeriveIden)]
enum Creators {
    Table,
    Id,
}

fn creator_fk<T: IntoIden + 'static>(name: &str, table: T, column: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Creators::Table, Creators::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[expect(
    elided_lifetimes_in_paths,
    reason = "async_trait rewrites lifetimes; an explicit '_ no longer matches the trait"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CreatorScores::Table)
                    .if_not_exists()
                    .col(big_integer(CreatorScores::CreatorId).primary_key())
                    .col(string_len(CreatorScores::Platform, 16))
                    .col(big_integer(CreatorScores::Followers))
                    .col(string_len(CreatorScores::Tier, 8))
                    .col(string_len_null(CreatorScores::Country, 2))
                    .col(string_len_null(CreatorScores::Language, 35))
                    .col(string_len(CreatorScores::PrimaryNiche, 64))
                    .col(string_len(CreatorScores::DefinitionId, 100))
                    .col(double(CreatorScores::MedianRate))
                    .col(double(CreatorScores::Percentile))
                    .col(double(CreatorScores::Authenticity))
                    .col(double_null(CreatorScores::FakeShare))
                    .col(double(CreatorScores::PostPrice))
                    .col(double(CreatorScores::Value))
                    .col(double(CreatorScores::ExpectedEngagements))
                    .col(blob(CreatorScores::Detail))
                    .col(string_len(CreatorScores::ModelVersion, 64))
                    .col(timestamp_with_time_zone(CreatorScores::ComputedAt))
                    .foreign_key(&mut creator_fk(
                        "fk_creator_scores_creator",
                        CreatorScores::Table,
                        CreatorScores::CreatorId,
                    ))
                    .to_owned(),
            )
            .await?;
        // One index per sort order, ending in the id so that a page resumes with a seek.
        for (name, column) in [
            ("ix_creator_scores_value", CreatorScores::Value),
            ("ix_creator_scores_percentile", CreatorScores::Percentile),
            (
                "ix_creator_scores_authenticity",
                CreatorScores::Authenticity,
            ),
            ("ix_creator_scores_followers", CreatorScores::Followers),
        ] {
            manager
                .create_index(
                    Index::create()
                        .if_not_exists()
                        .name(name)
                        .table(CreatorScores::Table)
                        .col(column)
                        .col(CreatorScores::CreatorId)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(CreatorNiches::Table)
                    .if_not_exists()
                    .col(big_integer(CreatorNiches::CreatorId))
                    .col(string_len(CreatorNiches::Niche, 64))
                    .col(double(CreatorNiches::Confidence))
                    .primary_key(
                        Index::create()
                            .col(CreatorNiches::CreatorId)
                            .col(CreatorNiches::Niche),
                    )
                    .foreign_key(&mut creator_fk(
                        "fk_creator_niches_creator",
                        CreatorNiches::Table,
                        CreatorNiches::CreatorId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_creator_niches_niche")
                    .table(CreatorNiches::Table)
                    .col(CreatorNiches::Niche)
                    .col(CreatorNiches::CreatorId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScoreQueue::Table)
                    .if_not_exists()
                    .col(big_integer(ScoreQueue::CreatorId).primary_key())
                    .col(big_integer(ScoreQueue::Version))
                    .col(timestamp_with_time_zone(ScoreQueue::EnqueuedAt))
                    .foreign_key(&mut creator_fk(
                        "fk_score_queue_creator",
                        ScoreQueue::Table,
                        ScoreQueue::CreatorId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_score_queue_enqueued")
                    .table(ScoreQueue::Table)
                    .col(ScoreQueue::EnqueuedAt)
                    .to_owned(),
            )
            .await?;
        // Everything stored before scores were kept is due for a score (the queue is new, so
        // nothing can conflict).
        let backfill = match manager.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                "INSERT INTO score_queue (creator_id, version, enqueued_at) \
                 SELECT id, 1, CURRENT_TIMESTAMP FROM creators"
            }
            _ => {
                "INSERT INTO score_queue (creator_id, version, enqueued_at) \
                 SELECT id, 1, strftime('%Y-%m-%d %H:%M:%f+00:00', 'now') FROM creators"
            }
        };
        manager
            .get_connection()
            .execute_unprepared(backfill)
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ScoreQueue::Table.into_iden(),
            CreatorNiches::Table.into_iden(),
            CreatorScores::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
