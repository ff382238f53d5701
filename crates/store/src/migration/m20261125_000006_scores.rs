//! Stored scores (one per creator, with the columns search filters and sorts on, and the encoded
//! score beside them), and the queue of creators whose data changed since they were scored.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum CreatorScores {
    Table,
    CreatorId,
    Platform,
    Followers,
    Tier,
    Country,
    Language,
    PrimaryNiche,
    /// Every niche found with its confidence: "|food:0.81|travel:0.2|". Search tests a niche
    /// with `instr(niche_tags, '|food:')` on each row it walks in sort order, which stops as
    /// soon as a page is full (a join table made SQLite materialise every member of a common
    /// niche first).
    NicheTags,
    DefinitionId,
    MedianRate,
    Percentile,
    Authenticity,
    FakeShare,
    PostPrice,
    Value,
    ExpectedEngagements,
    ModelVersion,
    ComputedAt,
}

/// The whole encoded score, apart from the columns search reads, so that those rows stay
/// narrow: a search that sorts thousands of candidates does not drag their blobs along.
#[derive(DeriveIden)]
enum ScoreDetails {
    Table,
    CreatorId,
    Detail,
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
                    .col(string_len(CreatorScores::NicheTags, 1000))
                    .col(string_len(CreatorScores::DefinitionId, 100))
                    .col(double(CreatorScores::MedianRate))
                    .col(double(CreatorScores::Percentile))
                    .col(double(CreatorScores::Authenticity))
                    .col(double_null(CreatorScores::FakeShare))
                    .col(double(CreatorScores::PostPrice))
                    .col(double(CreatorScores::Value))
                    .col(double(CreatorScores::ExpectedEngagements))
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
        manager
            .create_table(
                Table::create()
                    .table(ScoreDetails::Table)
                    .if_not_exists()
                    .col(big_integer(ScoreDetails::CreatorId).primary_key())
                    .col(blob(ScoreDetails::Detail))
                    .foreign_key(&mut creator_fk(
                        "fk_score_details_creator",
                        ScoreDetails::Table,
                        ScoreDetails::CreatorId,
                    ))
                    .to_owned(),
            )
            .await?;
        // One index per sort order: the sort key and the id (a page resumes with a seek),
        // then every column search filters on, so that walking the index in sort order tests
        // the filters without visiting the table; only rows that pass are read. Without them a
        // filter that matches few rows near the top of the order cost a table seek per row
        // passed over (240 ms over 100k creators on SQLite).
        let filters = [
            CreatorScores::Platform,
            CreatorScores::Tier,
            CreatorScores::Followers,
            CreatorScores::Percentile,
            CreatorScores::Authenticity,
            CreatorScores::PostPrice,
            CreatorScores::Country,
            CreatorScores::Language,
            CreatorScores::NicheTags,
        ];
        for (name, sort) in [
            ("ix_creator_scores_value", CreatorScores::Value),
            ("ix_creator_scores_percentile", CreatorScores::Percentile),
            (
                "ix_creator_scores_authenticity",
                CreatorScores::Authenticity,
            ),
            ("ix_creator_scores_followers", CreatorScores::Followers),
        ] {
            let mut index = Index::create()
                .if_not_exists()
                .name(name)
                .table(CreatorScores::Table)
                .col(sort)
                .col(CreatorScores::CreatorId)
                .to_owned();
            for column in filters {
                if column.to_string() != sort.to_string() {
                    index.col(column);
                }
            }
            manager.create_index(index).await?;
        }
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
            ScoreDetails::Table.into_iden(),
            CreatorScores::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
