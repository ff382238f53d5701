use sea_orm::entity::prelude::*;

/// An order of a brand tied to a promo code or tracked link. Natural key: (brand_id, order_id).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub brand_id: i64,
    pub order_id: String,
    pub promo_code: Option<String>,
    pub tracking_url: Option<String>,
    pub occurred_at: ChronoDateTimeUtc,
    pub currency: String,
    pub revenue_micros: i64,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
