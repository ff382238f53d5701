use sea_orm::entity::prelude::*;

/// One sampled follower of a creator. Natural key: (creator_id, follower_id).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "follower_samples")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub creator_id: i64,
    pub follower_id: String,
    pub followers: i64,
    pub following: i64,
    pub media_count: i64,
    pub has_profile_picture: bool,
    pub is_private: bool,
    pub bio_length: i32,
    pub username_length: i32,
    pub username_digit_count: i32,
    pub full_name_word_count: i32,
    pub has_external_url: bool,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
