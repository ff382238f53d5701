use sea_orm::entity::prelude::*;

/// What a creator owes a campaign; the columns of other kinds than `kind` are NULL.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deliverables")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub brand_id: i64,
    pub campaign_id: i64,
    pub platform: String,
    pub handle: String,
    pub kind: String,
    pub takeover_platform: Option<String>,
    pub takeover_handle: Option<String>,
    pub window_start: Option<ChronoDateTimeUtc>,
    pub window_end: Option<ChronoDateTimeUtc>,
    pub product: Option<String>,
    pub quantity: Option<i32>,
    pub shipment_status: Option<String>,
    pub format: Option<String>,
    pub due_at: Option<ChronoDateTimeUtc>,
    pub review_status: Option<String>,
    pub content_url: Option<String>,
    pub fee_micros: i64,
    pub payment_status: String,
    pub promo_code: Option<String>,
    pub tracking_url: Option<String>,
    pub request_id: Option<String>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
