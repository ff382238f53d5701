//! The plan last saved on a campaign (PlanCampaign with `save`): the encoded response, owned by
//! the campaign's brand, removed with the campaign.

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
enum CampaignPlans {
    Table,
    CampaignId,
    BrandId,
    Plan,
    SavedAt,
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
                    .table(CampaignPlans::Table)
                    .if_not_exists()
                    .col(big_integer(CampaignPlans::CampaignId).primary_key())
                    .col(big_integer(CampaignPlans::BrandId))
                    .col(blob(CampaignPlans::Plan))
                    .col(timestamp_with_time_zone(CampaignPlans::SavedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_campaign_plans_campaign")
                            .from(CampaignPlans::Table, CampaignPlans::CampaignId)
                            .to(Campaigns::Table, Campaigns::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CampaignPlans::Table).to_owned())
            .await
    }
}
