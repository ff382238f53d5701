//! Posts attributed to campaigns: filled at ingestion for active campaigns (branded hashtag or
//! mention inside the window, or a post on an account taken over inside the takeover window)
//! and when a campaign becomes active. Removed with the campaign or the post.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Posts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CampaignPosts {
    Table,
    CampaignId,
    PostId,
    CreatorId,
    PostedAt,
    MatchedBy,
    AttributedAt,
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
                    .table(CampaignPosts::Table)
                    .if_not_exists()
                    .col(big_integer(CampaignPosts::CampaignId))
                    .col(big_integer(CampaignPosts::PostId))
                    .col(big_integer(CampaignPosts::CreatorId))
                    .col(timestamp_with_time_zone(CampaignPosts::PostedAt))
                    .col(string_len(CampaignPosts::MatchedBy, 16))
                    .col(timestamp_with_time_zone(CampaignPosts::AttributedAt))
                    .primary_key(
                        Index::create()
                            .col(CampaignPosts::CampaignId)
                            .col(CampaignPosts::PostId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_campaign_posts_campaign")
                            .from(CampaignPosts::Table, CampaignPosts::CampaignId)
                            .to(Campaigns::Table, Campaigns::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_campaign_posts_post")
                            .from(CampaignPosts::Table, CampaignPosts::PostId)
                            .to(Posts::Table, Posts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Listing a campaign's posts in time order.
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_campaign_posts_campaign_posted")
                    .table(CampaignPosts::Table)
                    .col(CampaignPosts::CampaignId)
                    .col(CampaignPosts::PostedAt)
                    .col(CampaignPosts::PostId)
                    .to_owned(),
            )
            .await?;
        // Deleting a post finds its attributions.
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_campaign_posts_post")
                    .table(CampaignPosts::Table)
                    .col(CampaignPosts::PostId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CampaignPosts::Table).to_owned())
            .await
    }
}
