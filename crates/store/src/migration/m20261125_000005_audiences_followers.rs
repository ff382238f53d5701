//! Audience sketches (one per creator, merged as members arrive) and follower-profile samples
//! (keyed by creator and follower id) for the authenticity model.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum AudienceSketches {
    Table,
    CreatorId,
    Registers,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FollowerSamples {
    Table,
    Id,
    CreatorId,
    FollowerId,
    Followers,
    Following,
    MediaCount,
    HasProfilePicture,
    IsPrivate,
    BioLength,
    UsernameLength,
    UsernameDigitCount,
    FullNameWordCount,
    HasExternalUrl,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Creators {
    Table,
    Id,
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
                    .table(AudienceSketches::Table)
                    .if_not_exists()
                    .col(big_integer(AudienceSketches::CreatorId).primary_key())
                    .col(blob(AudienceSketches::Registers))
                    .col(timestamp_with_time_zone(AudienceSketches::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_audience_sketches_creator")
                            .from(AudienceSketches::Table, AudienceSketches::CreatorId)
                            .to(Creators::Table, Creators::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FollowerSamples::Table)
                    .if_not_exists()
                    .col(big_pk_auto(FollowerSamples::Id))
                    .col(big_integer(FollowerSamples::CreatorId))
                    .col(string_len(FollowerSamples::FollowerId, 200))
                    .col(big_integer(FollowerSamples::Followers))
                    .col(big_integer(FollowerSamples::Following))
                    .col(big_integer(FollowerSamples::MediaCount))
                    .col(boolean(FollowerSamples::HasProfilePicture))
                    .col(boolean(FollowerSamples::IsPrivate))
                    .col(integer(FollowerSamples::BioLength))
                    .col(integer(FollowerSamples::UsernameLength))
                    .col(integer(FollowerSamples::UsernameDigitCount))
                    .col(integer(FollowerSamples::FullNameWordCount))
                    .col(boolean(FollowerSamples::HasExternalUrl))
                    .col(timestamp_with_time_zone(FollowerSamples::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_follower_samples_creator")
                            .from(FollowerSamples::Table, FollowerSamples::CreatorId)
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
                    .name("ux_follower_samples_key")
                    .table(FollowerSamples::Table)
                    .col(FollowerSamples::CreatorId)
                    .col(FollowerSamples::FollowerId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            FollowerSamples::Table.into_iden(),
            AudienceSketches::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
