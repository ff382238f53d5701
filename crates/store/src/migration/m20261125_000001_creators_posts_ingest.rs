use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Creators {
    Table,
    Id,
    Platform,
    Handle,
    ExternalId,
    DisplayName,
    Bio,
    Followers,
    Following,
    MediaCount,
    Verified,
    IsPrivate,
    HasProfilePicture,
    Country,
    Language,
    Categories,
    ObservedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MetricSnapshots {
    Table,
    Id,
    CreatorId,
    ObservedAt,
    Followers,
    Following,
    MediaCount,
}

#[derive(DeriveIden)]
enum Posts {
    Table,
    Id,
    CreatorId,
    ExternalId,
    PostedAt,
    Format,
    Likes,
    Comments,
    Shares,
    Saves,
    Views,
    Caption,
    Hashtags,
    Mentions,
    PaidPartnership,
    Url,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IngestJobs {
    Table,
    Id,
    RequestId,
    Source,
    State,
    Created,
    Updated,
    Unchanged,
    Rejected,
    Failure,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum DeadLetters {
    Table,
    Id,
    JobId,
    Source,
    Position,
    Field,
    Reason,
    Payload,
    CreatedAt,
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
                    .table(Creators::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Creators::Id))
                    .col(string_len(Creators::Platform, 16))
                    .col(string_len(Creators::Handle, 100))
                    .col(string_null(Creators::ExternalId))
                    .col(text(Creators::DisplayName))
                    .col(text(Creators::Bio))
                    .col(big_integer_null(Creators::Followers))
                    .col(big_integer_null(Creators::Following))
                    .col(big_integer_null(Creators::MediaCount))
                    .col(boolean(Creators::Verified))
                    .col(boolean(Creators::IsPrivate))
                    .col(boolean(Creators::HasProfilePicture))
                    .col(string_len_null(Creators::Country, 8))
                    .col(string_len_null(Creators::Language, 35))
                    .col(text(Creators::Categories))
                    .col(timestamp_with_time_zone_null(Creators::ObservedAt))
                    .col(timestamp_with_time_zone(Creators::CreatedAt))
                    .col(timestamp_with_time_zone(Creators::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ux_creators_platform_handle")
                    .table(Creators::Table)
                    .col(Creators::Platform)
                    .col(Creators::Handle)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MetricSnapshots::Table)
                    .if_not_exists()
                    .col(big_pk_auto(MetricSnapshots::Id))
                    .col(big_integer(MetricSnapshots::CreatorId))
                    .col(timestamp_with_time_zone(MetricSnapshots::ObservedAt))
                    .col(big_integer(MetricSnapshots::Followers))
                    .col(big_integer(MetricSnapshots::Following))
                    .col(big_integer(MetricSnapshots::MediaCount))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_metric_snapshots_creator")
                            .from(MetricSnapshots::Table, MetricSnapshots::CreatorId)
                            .to(Creators::Table, Creators::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ux_metric_snapshots_creator_observed")
                    .table(MetricSnapshots::Table)
                    .col(MetricSnapshots::CreatorId)
                    .col(MetricSnapshots::ObservedAt)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Posts::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Posts::Id))
                    .col(big_integer(Posts::CreatorId))
                    .col(string_len(Posts::ExternalId, 200))
                    .col(timestamp_with_time_zone(Posts::PostedAt))
                    .col(string_len(Posts::Format, 16))
                    .col(big_integer_null(Posts::Likes))
                    .col(big_integer_null(Posts::Comments))
                    .col(big_integer_null(Posts::Shares))
                    .col(big_integer_null(Posts::Saves))
                    .col(big_integer_null(Posts::Views))
                    .col(text(Posts::Caption))
                    .col(text(Posts::Hashtags))
                    .col(text(Posts::Mentions))
                    .col(boolean(Posts::PaidPartnership))
                    .col(text_null(Posts::Url))
                    .col(timestamp_with_time_zone(Posts::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_posts_creator")
                            .from(Posts::Table, Posts::CreatorId)
                            .to(Creators::Table, Creators::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ux_posts_creator_external")
                    .table(Posts::Table)
                    .col(Posts::CreatorId)
                    .col(Posts::ExternalId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_posts_creator_posted")
                    .table(Posts::Table)
                    .col(Posts::CreatorId)
                    .col(Posts::PostedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IngestJobs::Table)
                    .if_not_exists()
                    .col(string_len(IngestJobs::Id, 36).primary_key())
                    .col(string_len_null(IngestJobs::RequestId, 200).unique_key())
                    .col(text(IngestJobs::Source))
                    .col(string_len(IngestJobs::State, 16))
                    .col(big_integer(IngestJobs::Created))
                    .col(big_integer(IngestJobs::Updated))
                    .col(big_integer(IngestJobs::Unchanged))
                    .col(big_integer(IngestJobs::Rejected))
                    .col(text_null(IngestJobs::Failure))
                    .col(timestamp_with_time_zone(IngestJobs::StartedAt))
                    .col(timestamp_with_time_zone_null(IngestJobs::FinishedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DeadLetters::Table)
                    .if_not_exists()
                    .col(big_pk_auto(DeadLetters::Id))
                    .col(string_len_null(DeadLetters::JobId, 36))
                    .col(text(DeadLetters::Source))
                    .col(string_len(DeadLetters::Position, 64))
                    .col(text(DeadLetters::Field))
                    .col(text(DeadLetters::Reason))
                    .col(text(DeadLetters::Payload))
                    .col(timestamp_with_time_zone(DeadLetters::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_dead_letters_job")
                            .from(DeadLetters::Table, DeadLetters::JobId)
                            .to(IngestJobs::Table, IngestJobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_dead_letters_job")
                    .table(DeadLetters::Table)
                    .col(DeadLetters::JobId)
                    .col(DeadLetters::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            DeadLetters::Table.into_iden(),
            IngestJobs::Table.into_iden(),
            Posts::Table.into_iden(),
            MetricSnapshots::Table.into_iden(),
            Creators::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
