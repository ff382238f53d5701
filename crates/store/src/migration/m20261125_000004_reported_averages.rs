//! Per-post averages reported by a source (analytics exports carry these instead of posts),
//! kept with the metric snapshot of the time they were reported.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum MetricSnapshots {
    Table,
    AvgLikes,
    AvgComments,
    AvgViews,
    AvgEngagements,
    AuthenticEngagements,
}

const COLUMNS: [MetricSnapshots; 5] = [
    MetricSnapshots::AvgLikes,
    MetricSnapshots::AvgComments,
    MetricSnapshots::AvgViews,
    MetricSnapshots::AvgEngagements,
    MetricSnapshots::AuthenticEngagements,
];

#[expect(
    elided_lifetimes_in_paths,
    reason = "async_trait rewrites lifetimes; an explicit '_ no longer matches the trait"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for column in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(MetricSnapshots::Table)
                        .add_column(big_integer_null(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(MetricSnapshots::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
