//! Brand-owned data: rosters and their entries, campaigns and their deliverables, conversions.
//!
//! Every table carries `brand_id`, and every query filters on it, so that another brand's id
//! behaves like an id that does not exist. Creates that take a request id are idempotent
//! through a unique `(brand_id, request_id)` (NULL request ids never collide). `version` counts
//! updates: it is the etag, and updates check it in their WHERE clause.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Brands {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    DisplayName,
    RequestId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Rosters {
    Table,
    Id,
    BrandId,
    DisplayName,
    Description,
    RequestId,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum RosterEntries {
    Table,
    Id,
    BrandId,
    RosterId,
    Platform,
    /// Lowercase, without '@', as creators.handle.
    Handle,
    Status,
    Notes,
    /// JSON: [{"deliverable": "post", "currency": "USD", "micros": 250000000}].
    Rates,
    RequestId,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum Campaigns {
    Table,
    Id,
    BrandId,
    DisplayName,
    Goal,
    Status,
    Currency,
    BudgetMicros,
    StartAt,
    EndAt,
    /// JSON arrays of strings.
    Niches,
    Platforms,
    Hashtags,
    Mentions,
    PromoCodes,
    RosterId,
    RequestId,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum Deliverables {
    Table,
    Id,
    BrandId,
    CampaignId,
    Platform,
    Handle,
    /// "takeover", "product_seeding" or "sponsored_content"; the columns of the other kinds are
    /// NULL.
    Kind,
    TakeoverPlatform,
    TakeoverHandle,
    WindowStart,
    WindowEnd,
    Product,
    Quantity,
    ShipmentStatus,
    Format,
    DueAt,
    ReviewStatus,
    ContentUrl,
    FeeMicros,
    PaymentStatus,
    /// Lowercase.
    PromoCode,
    TrackingUrl,
    RequestId,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum Conversions {
    Table,
    Id,
    BrandId,
    OrderId,
    /// Lowercase.
    PromoCode,
    TrackingUrl,
    OccurredAt,
    Currency,
    RevenueMicros,
    UpdatedAt,
}

fn brand_fk<T: IntoIden + 'static>(name: &str, table: T, column: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Brands::Table, Brands::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn unique(name: &str, table: impl IntoIden, columns: &[DynIden]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.if_not_exists().name(name).table(table).unique();
    for column in columns {
        index.col(column.clone());
    }
    index.to_owned()
}

fn index(name: &str, table: impl IntoIden, columns: &[DynIden]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.if_not_exists().name(name).table(table);
    for column in columns {
        index.col(column.clone());
    }
    index.to_owned()
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
                    .table(ApiKeys::Table)
                    .add_column(string_len(ApiKeys::DisplayName, 200).default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .add_column(string_len_null(ApiKeys::RequestId, 200))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ux_api_keys_request")
                    .table(ApiKeys::Table)
                    .col(Alias::new("brand_id"))
                    .col(ApiKeys::RequestId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Rosters::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Rosters::Id))
                    .col(big_integer(Rosters::BrandId))
                    .col(string_len(Rosters::DisplayName, 200))
                    .col(text(Rosters::Description))
                    .col(string_len_null(Rosters::RequestId, 200))
                    .col(timestamp_with_time_zone(Rosters::CreatedAt))
                    .col(timestamp_with_time_zone(Rosters::UpdatedAt))
                    .col(big_integer(Rosters::Version))
                    .foreign_key(&mut brand_fk(
                        "fk_rosters_brand",
                        Rosters::Table,
                        Rosters::BrandId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RosterEntries::Table)
                    .if_not_exists()
                    .col(big_pk_auto(RosterEntries::Id))
                    .col(big_integer(RosterEntries::BrandId))
                    .col(big_integer(RosterEntries::RosterId))
                    .col(string_len(RosterEntries::Platform, 16))
                    .col(string_len(RosterEntries::Handle, 100))
                    .col(string_len(RosterEntries::Status, 16))
                    .col(text(RosterEntries::Notes))
                    .col(text(RosterEntries::Rates))
                    .col(string_len_null(RosterEntries::RequestId, 200))
                    .col(timestamp_with_time_zone(RosterEntries::CreatedAt))
                    .col(timestamp_with_time_zone(RosterEntries::UpdatedAt))
                    .col(big_integer(RosterEntries::Version))
                    .foreign_key(&mut brand_fk(
                        "fk_roster_entries_brand",
                        RosterEntries::Table,
                        RosterEntries::BrandId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_roster_entries_roster")
                            .from(RosterEntries::Table, RosterEntries::RosterId)
                            .to(Rosters::Table, Rosters::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Campaigns::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Campaigns::Id))
                    .col(big_integer(Campaigns::BrandId))
                    .col(string_len(Campaigns::DisplayName, 200))
                    .col(string_len(Campaigns::Goal, 16))
                    .col(string_len(Campaigns::Status, 16))
                    .col(string_len(Campaigns::Currency, 3))
                    .col(big_integer(Campaigns::BudgetMicros))
                    .col(timestamp_with_time_zone(Campaigns::StartAt))
                    .col(timestamp_with_time_zone(Campaigns::EndAt))
                    .col(text(Campaigns::Niches))
                    .col(text(Campaigns::Platforms))
                    .col(text(Campaigns::Hashtags))
                    .col(text(Campaigns::Mentions))
                    .col(text(Campaigns::PromoCodes))
                    .col(big_integer_null(Campaigns::RosterId))
                    .col(string_len_null(Campaigns::RequestId, 200))
                    .col(timestamp_with_time_zone(Campaigns::CreatedAt))
                    .col(timestamp_with_time_zone(Campaigns::UpdatedAt))
                    .col(big_integer(Campaigns::Version))
                    .foreign_key(&mut brand_fk(
                        "fk_campaigns_brand",
                        Campaigns::Table,
                        Campaigns::BrandId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_campaigns_roster")
                            .from(Campaigns::Table, Campaigns::RosterId)
                            .to(Rosters::Table, Rosters::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Deliverables::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Deliverables::Id))
                    .col(big_integer(Deliverables::BrandId))
                    .col(big_integer(Deliverables::CampaignId))
                    .col(string_len(Deliverables::Platform, 16))
                    .col(string_len(Deliverables::Handle, 100))
                    .col(string_len(Deliverables::Kind, 24))
                    .col(string_len_null(Deliverables::TakeoverPlatform, 16))
                    .col(string_len_null(Deliverables::TakeoverHandle, 100))
                    .col(timestamp_with_time_zone_null(Deliverables::WindowStart))
                    .col(timestamp_with_time_zone_null(Deliverables::WindowEnd))
                    .col(text_null(Deliverables::Product))
                    .col(integer_null(Deliverables::Quantity))
                    .col(string_len_null(Deliverables::ShipmentStatus, 16))
                    .col(string_len_null(Deliverables::Format, 16))
                    .col(timestamp_with_time_zone_null(Deliverables::DueAt))
                    .col(string_len_null(Deliverables::ReviewStatus, 24))
                    .col(text_null(Deliverables::ContentUrl))
                    .col(big_integer(Deliverables::FeeMicros))
                    .col(string_len(Deliverables::PaymentStatus, 16))
                    .col(string_len_null(Deliverables::PromoCode, 100))
                    .col(text_null(Deliverables::TrackingUrl))
                    .col(string_len_null(Deliverables::RequestId, 200))
                    .col(timestamp_with_time_zone(Deliverables::CreatedAt))
                    .col(timestamp_with_time_zone(Deliverables::UpdatedAt))
                    .col(big_integer(Deliverables::Version))
                    .foreign_key(&mut brand_fk(
                        "fk_deliverables_brand",
                        Deliverables::Table,
                        Deliverables::BrandId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_deliverables_campaign")
                            .from(Deliverables::Table, Deliverables::CampaignId)
                            .to(Campaigns::Table, Campaigns::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Conversions::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Conversions::Id))
                    .col(big_integer(Conversions::BrandId))
                    .col(string_len(Conversions::OrderId, 200))
                    .col(string_len_null(Conversions::PromoCode, 100))
                    .col(text_null(Conversions::TrackingUrl))
                    .col(timestamp_with_time_zone(Conversions::OccurredAt))
                    .col(string_len(Conversions::Currency, 3))
                    .col(big_integer(Conversions::RevenueMicros))
                    .col(timestamp_with_time_zone(Conversions::UpdatedAt))
                    .foreign_key(&mut brand_fk(
                        "fk_conversions_brand",
                        Conversions::Table,
                        Conversions::BrandId,
                    ))
                    .to_owned(),
            )
            .await?;

        let statements = [
            unique(
                "ux_rosters_request",
                Rosters::Table,
                &[Rosters::BrandId.into_iden(), Rosters::RequestId.into_iden()],
            ),
            index(
                "ix_rosters_brand",
                Rosters::Table,
                &[Rosters::BrandId.into_iden(), Rosters::Id.into_iden()],
            ),
            unique(
                "ux_roster_entries_request",
                RosterEntries::Table,
                &[
                    RosterEntries::BrandId.into_iden(),
                    RosterEntries::RequestId.into_iden(),
                ],
            ),
            // One entry per creator per roster; also the listing order's index.
            unique(
                "ux_roster_entries_creator",
                RosterEntries::Table,
                &[
                    RosterEntries::RosterId.into_iden(),
                    RosterEntries::Platform.into_iden(),
                    RosterEntries::Handle.into_iden(),
                ],
            ),
            index(
                "ix_roster_entries_roster",
                RosterEntries::Table,
                &[
                    RosterEntries::RosterId.into_iden(),
                    RosterEntries::Id.into_iden(),
                ],
            ),
            unique(
                "ux_campaigns_request",
                Campaigns::Table,
                &[
                    Campaigns::BrandId.into_iden(),
                    Campaigns::RequestId.into_iden(),
                ],
            ),
            index(
                "ix_campaigns_brand",
                Campaigns::Table,
                &[Campaigns::BrandId.into_iden(), Campaigns::Id.into_iden()],
            ),
            unique(
                "ux_deliverables_request",
                Deliverables::Table,
                &[
                    Deliverables::BrandId.into_iden(),
                    Deliverables::RequestId.into_iden(),
                ],
            ),
            index(
                "ix_deliverables_campaign",
                Deliverables::Table,
                &[
                    Deliverables::CampaignId.into_iden(),
                    Deliverables::Id.into_iden(),
                ],
            ),
            unique(
                "ux_conversions_order",
                Conversions::Table,
                &[
                    Conversions::BrandId.into_iden(),
                    Conversions::OrderId.into_iden(),
                ],
            ),
            index(
                "ix_conversions_code",
                Conversions::Table,
                &[
                    Conversions::BrandId.into_iden(),
                    Conversions::PromoCode.into_iden(),
                ],
            ),
        ];
        for statement in statements {
            manager.create_index(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Conversions::Table.into_iden(),
            Deliverables::Table.into_iden(),
            Campaigns::Table.into_iden(),
            RosterEntries::Table.into_iden(),
            Rosters::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("ux_api_keys_request")
                    .table(ApiKeys::Table)
                    .to_owned(),
            )
            .await?;
        for column in [ApiKeys::RequestId, ApiKeys::DisplayName] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ApiKeys::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
