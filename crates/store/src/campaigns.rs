//! Campaigns, their deliverables, and a brand's conversions; and the posts a report reads.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use resonance_core::campaign::report::{AccountPosts, Conversion};
use resonance_core::campaign::{
    CampaignGoal, CampaignStatus, CreatorKey, DeliverableKind, Money, PaymentStatus, Window,
};
use resonance_core::{ContentFormat, Platform};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::StoreError;
use crate::brands::BrandId;
use crate::creators::{WriteOutcome, post_from_row};
use crate::entity::{campaign, campaign_plan, conversion, creator, deliverable, post};
use crate::owned::{
    ChangeError, Owned, create_once, creator_ids, creator_key, json_list, not_deleted,
    parse_json_list, parse_named, update_versioned,
};

pub use crate::attribution::MatchedBy;

/// A post attributed to a campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributedPost {
    pub post_id: i64,
    pub creator: CreatorKey,
    pub post: resonance_core::Post,
    pub matched_by: MatchedBy,
    pub attributed_at: DateTime<Utc>,
    /// Whether the creator has a deliverable on the campaign.
    pub on_campaign: bool,
}

/// A campaign's terms and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub display_name: String,
    pub goal: CampaignGoal,
    pub status: CampaignStatus,
    pub budget: Money,
    pub window: Window,
    pub niches: Vec<String>,
    pub platforms: Vec<Platform>,
    /// Lowercase, without '#'.
    pub hashtags: Vec<String>,
    /// Lowercase, without '@'.
    pub mentions: Vec<String>,
    /// Lowercase.
    pub promo_codes: Vec<String>,
    pub roster: Option<i64>,
}

/// What one creator owes a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deliverable {
    pub campaign: i64,
    pub creator: CreatorKey,
    pub kind: DeliverableKind,
    /// In millionths of the campaign's currency (a campaign has one currency).
    pub fee_micros: i64,
    pub payment: PaymentStatus,
    /// Lowercase.
    pub promo_code: Option<String>,
    pub tracking_url: Option<String>,
}

/// Why a deliverable could not be created.
#[derive(Debug, thiserror::Error)]
pub enum DeliverableCreateError {
    #[error("no such campaign")]
    CampaignNotFound,
    #[error("the campaign is {0}")]
    CampaignClosed(CampaignStatus),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn campaign_from_row(row: campaign::Model) -> Result<Owned<Campaign>, StoreError> {
    let corrupt =
        |e: resonance_core::ValidationError| StoreError::Corrupt(format!("campaigns: {e}"));
    let platforms = parse_json_list(&row.platforms, "campaigns.platforms")?
        .iter()
        .map(|p| p.parse::<Platform>().map_err(corrupt))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Owned {
        id: row.id,
        brand: BrandId(row.brand_id),
        value: Campaign {
            display_name: row.display_name,
            goal: parse_named(&row.goal, "campaigns.goal")?,
            status: parse_named(&row.status, "campaigns.status")?,
            budget: Money::new(&row.currency, row.budget_micros).map_err(corrupt)?,
            window: Window::new(row.start_at, row.end_at).map_err(corrupt)?,
            niches: parse_json_list(&row.niches, "campaigns.niches")?,
            platforms,
            hashtags: parse_json_list(&row.hashtags, "campaigns.hashtags")?,
            mentions: parse_json_list(&row.mentions, "campaigns.mentions")?,
            promo_codes: parse_json_list(&row.promo_codes, "campaigns.promo_codes")?,
            roster: row.roster_id,
        },
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: row.version,
    })
}

fn campaign_columns(value: &Campaign) -> campaign::ActiveModel {
    let platforms: Vec<String> = value
        .platforms
        .iter()
        .map(|p| p.as_str().to_owned())
        .collect();
    campaign::ActiveModel {
        display_name: Set(value.display_name.clone()),
        goal: Set(value.goal.as_str().to_owned()),
        status: Set(value.status.as_str().to_owned()),
        currency: Set(value.budget.currency.clone()),
        budget_micros: Set(value.budget.micros),
        start_at: Set(value.window.start),
        end_at: Set(value.window.end),
        niches: Set(json_list(&value.niches)),
        platforms: Set(json_list(&platforms)),
        hashtags: Set(json_list(&value.hashtags)),
        mentions: Set(json_list(&value.mentions)),
        promo_codes: Set(json_list(&value.promo_codes)),
        roster_id: Set(value.roster),
        ..Default::default()
    }
}

/// A brand's campaign's status, read with its row locked for the rest of the transaction
/// (PostgreSQL; SQLite lets one writer at a time in).
async fn open_status<C: ConnectionTrait>(
    db: &C,
    brand: BrandId,
    campaign_id: i64,
) -> Result<Option<CampaignStatus>, StoreError> {
    let status: Option<String> = campaign::Entity::find_by_id(campaign_id)
        .select_only()
        .column(campaign::Column::Status)
        .filter(campaign::Column::BrandId.eq(brand.0))
        .lock_exclusive()
        .into_tuple()
        .one(db)
        .await?;
    status
        .map(|raw| parse_named(&raw, "campaigns.status"))
        .transpose()
}

fn required<T>(value: Option<T>, column: &str) -> Result<T, StoreError> {
    value.ok_or_else(|| StoreError::Corrupt(format!("deliverables.{column} is NULL")))
}

fn deliverable_from_row(row: deliverable::Model) -> Result<Owned<Deliverable>, StoreError> {
    let corrupt =
        |e: resonance_core::ValidationError| StoreError::Corrupt(format!("deliverables: {e}"));
    let kind = match row.kind.as_str() {
        "takeover" => DeliverableKind::Takeover {
            account: creator_key(
                &required(row.takeover_platform, "takeover_platform")?,
                &required(row.takeover_handle, "takeover_handle")?,
                "deliverables.takeover",
            )?,
            window: Window::new(
                required(row.window_start, "window_start")?,
                required(row.window_end, "window_end")?,
            )
            .map_err(corrupt)?,
        },
        "product_seeding" => DeliverableKind::ProductSeeding {
            product: required(row.product, "product")?,
            quantity: u32::try_from(required(row.quantity, "quantity")?)
                .map_err(|_| StoreError::Corrupt("deliverables.quantity is negative".into()))?,
            shipment: parse_named(
                &required(row.shipment_status, "shipment_status")?,
                "deliverables.shipment_status",
            )?,
        },
        "sponsored_content" => DeliverableKind::SponsoredContent {
            format: required(row.format, "format")?
                .parse::<ContentFormat>()
                .map_err(corrupt)?,
            due: row.due_at,
            review: parse_named(
                &required(row.review_status, "review_status")?,
                "deliverables.review_status",
            )?,
            content_url: row.content_url,
        },
        other => {
            return Err(StoreError::Corrupt(format!(
                "deliverables.kind: unknown kind {other:?}"
            )));
        }
    };
    Ok(Owned {
        id: row.id,
        brand: BrandId(row.brand_id),
        value: Deliverable {
            campaign: row.campaign_id,
            creator: creator_key(&row.platform, &row.handle, "deliverables")?,
            kind,
            fee_micros: row.fee_micros,
            payment: parse_named(&row.payment_status, "deliverables.payment_status")?,
            promo_code: row.promo_code,
            tracking_url: row.tracking_url,
        },
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: row.version,
    })
}

fn deliverable_columns(value: &Deliverable) -> deliverable::ActiveModel {
    let mut model = deliverable::ActiveModel {
        kind: Set(value.kind.name().to_owned()),
        takeover_platform: Set(None),
        takeover_handle: Set(None),
        window_start: Set(None),
        window_end: Set(None),
        product: Set(None),
        quantity: Set(None),
        shipment_status: Set(None),
        format: Set(None),
        due_at: Set(None),
        review_status: Set(None),
        content_url: Set(None),
        fee_micros: Set(value.fee_micros),
        payment_status: Set(value.payment.as_str().to_owned()),
        promo_code: Set(value.promo_code.clone()),
        tracking_url: Set(value.tracking_url.clone()),
        ..Default::default()
    };
    match &value.kind {
        DeliverableKind::Takeover { account, window } => {
            model.takeover_platform = Set(Some(account.platform.as_str().to_owned()));
            model.takeover_handle = Set(Some(account.handle.as_str().to_owned()));
            model.window_start = Set(Some(window.start));
            model.window_end = Set(Some(window.end));
        }
        DeliverableKind::ProductSeeding {
            product,
            quantity,
            shipment,
        } => {
            model.product = Set(Some(product.clone()));
            model.quantity = Set(Some(i32::try_from(*quantity).unwrap_or(i32::MAX)));
            model.shipment_status = Set(Some(shipment.as_str().to_owned()));
        }
        DeliverableKind::SponsoredContent {
            format,
            due,
            review,
            content_url,
        } => {
            model.format = Set(Some(format.as_str().to_owned()));
            model.due_at = Set(*due);
            model.review_status = Set(Some(review.as_str().to_owned()));
            model.content_url = Set(content_url.clone());
        }
    }
    model
}

/// Campaigns and deliverables of brands. Every call takes the brand: another brand's ids are
/// absent.
#[derive(Debug)]
pub struct CampaignRepo<'a> {
    pub(crate) db: &'a DatabaseConnection,
}

impl CampaignRepo<'_> {
    pub async fn create(
        &self,
        brand: BrandId,
        value: &Campaign,
        request_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Owned<Campaign>, StoreError> {
        create_once(
            request_id,
            |request_id| async move {
                campaign::Entity::find()
                    .filter(campaign::Column::BrandId.eq(brand.0))
                    .filter(campaign::Column::RequestId.eq(request_id))
                    .one(self.db)
                    .await?
                    .map(campaign_from_row)
                    .transpose()
            },
            || async {
                let row = campaign::ActiveModel {
                    brand_id: Set(brand.0),
                    request_id: Set(request_id.map(str::to_owned)),
                    created_at: Set(now),
                    updated_at: Set(now),
                    version: Set(1),
                    ..campaign_columns(value)
                };
                let row = crate::bounded(self.db, async |txn| Ok(row.insert(txn).await?)).await?;
                campaign_from_row(row)
            },
        )
        .await
    }

    pub async fn get(
        &self,
        brand: BrandId,
        id: i64,
    ) -> Result<Option<Owned<Campaign>>, StoreError> {
        campaign::Entity::find_by_id(id)
            .filter(campaign::Column::BrandId.eq(brand.0))
            .one(self.db)
            .await?
            .map(campaign_from_row)
            .transpose()
    }

    /// The brand's campaigns in creation order after `after`, only in `statuses` if any.
    pub async fn list(
        &self,
        brand: BrandId,
        statuses: &[CampaignStatus],
        after: Option<i64>,
        limit: u64,
    ) -> Result<Vec<Owned<Campaign>>, StoreError> {
        let mut query = campaign::Entity::find()
            .filter(campaign::Column::BrandId.eq(brand.0))
            .filter(campaign::Column::Id.gt(after.unwrap_or(0)));
        if !statuses.is_empty() {
            query =
                query.filter(campaign::Column::Status.is_in(statuses.iter().map(|s| s.as_str())));
        }
        query
            .order_by_asc(campaign::Column::Id)
            .limit(limit)
            .all(self.db)
            .await?
            .into_iter()
            .map(campaign_from_row)
            .collect()
    }

    /// Changes a campaign (terms or status) by `apply`, against `expected` when given.
    /// Changes a campaign (terms or status) by `apply`, against `expected` when given. A
    /// campaign that becomes active, or whose window, hashtags or mentions change while
    /// active, has its posts attributed afresh.
    pub async fn update<E>(
        &self,
        brand: BrandId,
        id: i64,
        expected: Option<i64>,
        now: DateTime<Utc>,
        mut apply: impl FnMut(&Owned<Campaign>) -> Result<Campaign, E>,
    ) -> Result<Owned<Campaign>, ChangeError<E>> {
        let mut previous: Option<Campaign> = None;
        let updated = update_versioned(
            expected,
            now,
            || self.get(brand, id),
            |current: &Owned<Campaign>| {
                previous = Some(current.value.clone());
                apply(current)
            },
            |version, next: Owned<Campaign>| async move {
                let update = campaign::Entity::update_many()
                    .set(campaign::ActiveModel {
                        updated_at: Set(next.updated_at),
                        version: Set(next.version),
                        ..campaign_columns(&next.value)
                    })
                    .filter(campaign::Column::Id.eq(id))
                    .filter(campaign::Column::BrandId.eq(brand.0))
                    .filter(campaign::Column::Version.eq(version));
                let result =
                    crate::bounded(self.db, async |txn| Ok(update.exec(txn).await?)).await?;
                Ok(result.rows_affected == 1)
            },
        )
        .await?;
        let tracking = |c: &Campaign| {
            (
                c.status == CampaignStatus::Active,
                c.window,
                c.hashtags.clone(),
                c.mentions.clone(),
            )
        };
        if updated.value.status == CampaignStatus::Active
            && previous.as_ref().map(tracking) != Some(tracking(&updated.value))
        {
            crate::attribution::reattribute(self.db, id, now).await?;
        }
        Ok(updated)
    }

    /// The posts attributed to a brand's campaign, by post id after `after`.
    pub async fn attributed_posts(
        &self,
        brand: BrandId,
        campaign_id: i64,
        after: Option<i64>,
        limit: u64,
    ) -> Result<Vec<AttributedPost>, StoreError> {
        use crate::entity::campaign_post;
        if self.get(brand, campaign_id).await?.is_none() {
            return Ok(Vec::new());
        }
        let rows = campaign_post::Entity::find()
            .filter(campaign_post::Column::CampaignId.eq(campaign_id))
            .filter(campaign_post::Column::PostId.gt(after.unwrap_or(0)))
            .order_by_asc(campaign_post::Column::PostId)
            .limit(limit)
            .all(self.db)
            .await?;
        let post_ids: Vec<i64> = rows.iter().map(|r| r.post_id).collect();
        let mut creator_ids: Vec<i64> = rows.iter().map(|r| r.creator_id).collect();
        creator_ids.sort_unstable();
        creator_ids.dedup();
        let posts: HashMap<i64, post::Model> = post::Entity::find()
            .filter(post::Column::Id.is_in(post_ids))
            .all(self.db)
            .await?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
        let creators: HashMap<i64, CreatorKey> = creator::Entity::find()
            .filter(creator::Column::Id.is_in(creator_ids))
            .all(self.db)
            .await?
            .iter()
            .map(|row| Ok((row.id, creator_key(&row.platform, &row.handle, "creators")?)))
            .collect::<Result<_, StoreError>>()?;
        let on_campaign: Vec<CreatorKey> = self
            .list_deliverables(brand, campaign_id, None, crate::NO_LIMIT)
            .await?
            .into_iter()
            .map(|d| d.value.creator)
            .collect();
        rows.into_iter()
            .filter_map(|row| {
                let post = posts.get(&row.post_id)?;
                let creator = creators.get(&row.creator_id)?;
                Some((row, post, creator))
            })
            .map(|(row, post, creator)| {
                Ok(AttributedPost {
                    post_id: row.post_id,
                    on_campaign: on_campaign.contains(creator),
                    creator: creator.clone(),
                    post: post_from_row(post)?,
                    matched_by: MatchedBy::parse(&row.matched_by)?,
                    attributed_at: row.attributed_at,
                })
            })
            .collect()
    }

    async fn find_deliverable(
        &self,
        brand: BrandId,
        campaign_id: i64,
        id: i64,
    ) -> Result<Option<Owned<Deliverable>>, StoreError> {
        deliverable::Entity::find_by_id(id)
            .filter(deliverable::Column::BrandId.eq(brand.0))
            .filter(deliverable::Column::CampaignId.eq(campaign_id))
            .one(self.db)
            .await?
            .map(deliverable_from_row)
            .transpose()
    }

    /// Adds a deliverable to an open campaign.
    pub async fn create_deliverable(
        &self,
        brand: BrandId,
        value: &Deliverable,
        request_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Owned<Deliverable>, DeliverableCreateError> {
        let find = |request_id: String| async move {
            deliverable::Entity::find()
                .filter(deliverable::Column::BrandId.eq(brand.0))
                .filter(deliverable::Column::RequestId.eq(request_id))
                .one(self.db)
                .await?
                .map(deliverable_from_row)
                .transpose()
        };
        let find = &find;
        create_once(
            request_id,
            |request_id| async move { Ok(find(request_id).await?.map(Ok)) },
            || async {
                // The campaign row is locked (PostgreSQL; SQLite serializes writers) so that it
                // cannot close between the check and the insert.
                let txn = crate::begin(self.db).await?;
                let Some(status) = open_status(&txn, brand, value.campaign).await? else {
                    return Ok(Err(DeliverableCreateError::CampaignNotFound));
                };
                if status.is_closed() {
                    return Ok(Err(DeliverableCreateError::CampaignClosed(status)));
                }
                let row = deliverable::ActiveModel {
                    brand_id: Set(brand.0),
                    campaign_id: Set(value.campaign),
                    platform: Set(value.creator.platform.as_str().to_owned()),
                    handle: Set(value.creator.handle.as_str().to_owned()),
                    request_id: Set(request_id.map(str::to_owned)),
                    created_at: Set(now),
                    updated_at: Set(now),
                    version: Set(1),
                    ..deliverable_columns(value)
                }
                .insert(&txn)
                .await?;
                crate::commit(txn).await?;
                let created = deliverable_from_row(row)?;
                if matches!(created.value.kind, DeliverableKind::Takeover { .. }) {
                    crate::attribution::reattribute(self.db, value.campaign, now).await?;
                }
                Ok(Ok(created))
            },
        )
        .await?
    }

    pub async fn get_deliverable(
        &self,
        brand: BrandId,
        campaign_id: i64,
        id: i64,
    ) -> Result<Option<Owned<Deliverable>>, StoreError> {
        self.find_deliverable(brand, campaign_id, id).await
    }

    /// The deliverables of a brand's campaign in creation order after `after` (none for
    /// another brand's campaign; callers that must tell a missing campaign apart read it).
    pub async fn list_deliverables(
        &self,
        brand: BrandId,
        campaign_id: i64,
        after: Option<i64>,
        limit: u64,
    ) -> Result<Vec<Owned<Deliverable>>, StoreError> {
        let rows = deliverable::Entity::find()
            .filter(deliverable::Column::BrandId.eq(brand.0))
            .filter(deliverable::Column::CampaignId.eq(campaign_id))
            .filter(deliverable::Column::Id.gt(after.unwrap_or(0)))
            .order_by_asc(deliverable::Column::Id)
            .limit(limit)
            .all(self.db)
            .await?
            .into_iter()
            .map(deliverable_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Changes a deliverable; with `require_open`, only while its campaign is not closed
    /// (checked with the campaign row locked, so that it cannot close meanwhile).
    #[expect(
        clippy::too_many_arguments,
        reason = "the brand, the ids, the version, the rule and the change"
    )]
    pub async fn update_deliverable<E>(
        &self,
        brand: BrandId,
        campaign_id: i64,
        id: i64,
        expected: Option<i64>,
        require_open: bool,
        now: DateTime<Utc>,
        apply: impl FnMut(&Owned<Deliverable>) -> Result<Deliverable, E>,
    ) -> Result<Owned<Deliverable>, ChangeError<E>> {
        let updated = update_versioned(
            expected,
            now,
            || self.find_deliverable(brand, campaign_id, id),
            apply,
            |version, next: Owned<Deliverable>| async move {
                let txn = crate::begin(self.db).await?;
                let status = open_status(&txn, brand, campaign_id)
                    .await?
                    .ok_or(ChangeError::NotFound)?;
                if require_open && status.is_closed() {
                    return Err(ChangeError::Closed(format!("the campaign is {status}")));
                }
                let result = deliverable::Entity::update_many()
                    .set(deliverable::ActiveModel {
                        updated_at: Set(next.updated_at),
                        version: Set(next.version),
                        ..deliverable_columns(&next.value)
                    })
                    .filter(deliverable::Column::Id.eq(id))
                    .filter(deliverable::Column::BrandId.eq(brand.0))
                    .filter(deliverable::Column::Version.eq(version))
                    .exec(&txn)
                    .await?;
                crate::commit(txn).await?;
                Ok(result.rows_affected == 1)
            },
        )
        .await?;
        // A takeover's account or window decides which posts are the campaign's.
        if matches!(updated.value.kind, DeliverableKind::Takeover { .. }) {
            crate::attribution::reattribute(self.db, campaign_id, now).await?;
        }
        Ok(updated)
    }

    pub async fn delete_deliverable(
        &self,
        brand: BrandId,
        campaign_id: i64,
        id: i64,
        expected: Option<i64>,
    ) -> Result<(), ChangeError<std::convert::Infallible>> {
        let txn = crate::begin(self.db).await?;
        if let Some(status) = open_status(&txn, brand, campaign_id).await?
            && status.is_closed()
            && self
                .find_deliverable(brand, campaign_id, id)
                .await?
                .is_some()
        {
            return Err(ChangeError::Closed(format!(
                "the campaign is {status}: its deliverables are kept"
            )));
        }
        let mut delete = deliverable::Entity::delete_many()
            .filter(deliverable::Column::Id.eq(id))
            .filter(deliverable::Column::CampaignId.eq(campaign_id))
            .filter(deliverable::Column::BrandId.eq(brand.0));
        if let Some(version) = expected {
            delete = delete.filter(deliverable::Column::Version.eq(version));
        }
        let deleted = delete.exec(&txn).await?.rows_affected == 1;
        crate::commit(txn).await?;
        if deleted {
            // It may have been a takeover (reattribution is a no-op unless active).
            crate::attribution::reattribute(self.db, campaign_id, Utc::now()).await?;
            return Ok(());
        }
        Err(not_deleted(
            self.find_deliverable(brand, campaign_id, id).await?,
        ))
    }

    /// Stores conversions by their natural key (brand, order id): a repeated order is
    /// unchanged, a corrected one updated.
    pub async fn upsert_conversions(
        &self,
        brand: BrandId,
        conversions: &[Conversion],
        now: DateTime<Utc>,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        let txn = crate::begin(self.db).await?;
        let mut outcomes = Vec::with_capacity(conversions.len());
        for chunk in conversions.chunks(500) {
            let order_ids: Vec<&str> = chunk.iter().map(|c| c.order_id.as_str()).collect();
            let mut stored: HashMap<String, conversion::Model> = conversion::Entity::find()
                .filter(conversion::Column::BrandId.eq(brand.0))
                .filter(conversion::Column::OrderId.is_in(order_ids))
                .all(&txn)
                .await?
                .into_iter()
                .map(|row| (row.order_id.clone(), row))
                .collect();
            for item in chunk {
                let columns = conversion::ActiveModel {
                    promo_code: Set(item.promo_code.clone()),
                    tracking_url: Set(item.tracking_url.clone()),
                    occurred_at: Set(item.occurred_at),
                    currency: Set(item.revenue.currency.clone()),
                    revenue_micros: Set(item.revenue.micros),
                    updated_at: Set(now),
                    ..Default::default()
                };
                let outcome = match stored.get(&item.order_id) {
                    Some(row)
                        if row.promo_code == item.promo_code
                            && row.tracking_url == item.tracking_url
                            && row.occurred_at == item.occurred_at
                            && row.currency == item.revenue.currency
                            && row.revenue_micros == item.revenue.micros =>
                    {
                        WriteOutcome::Unchanged
                    }
                    Some(row) => {
                        conversion::Entity::update_many()
                            .set(columns)
                            .filter(conversion::Column::Id.eq(row.id))
                            .exec(&txn)
                            .await?;
                        WriteOutcome::Updated
                    }
                    None => {
                        let row = conversion::ActiveModel {
                            brand_id: Set(brand.0),
                            order_id: Set(item.order_id.clone()),
                            ..columns
                        }
                        .insert(&txn)
                        .await?;
                        stored.insert(row.order_id.clone(), row);
                        WriteOutcome::Created
                    }
                };
                outcomes.push(outcome);
            }
        }
        crate::commit(txn).await?;
        Ok(outcomes)
    }

    /// The brand's conversions carrying one of `codes` or `urls`, from `from` until `until`.
    pub async fn conversions(
        &self,
        brand: BrandId,
        codes: &[String],
        urls: &[String],
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<Conversion>, StoreError> {
        if codes.is_empty() && urls.is_empty() {
            return Ok(Vec::new());
        }
        let rows = conversion::Entity::find()
            .filter(conversion::Column::BrandId.eq(brand.0))
            .filter(
                Condition::any()
                    .add(conversion::Column::PromoCode.is_in(codes.iter().map(String::as_str)))
                    .add(conversion::Column::TrackingUrl.is_in(urls.iter().map(String::as_str))),
            )
            .filter(conversion::Column::OccurredAt.gte(from))
            .filter(conversion::Column::OccurredAt.lt(until))
            .order_by_asc(conversion::Column::Id)
            .all(self.db)
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok(Conversion {
                    revenue: Money::new(&row.currency, row.revenue_micros)
                        .map_err(|e| StoreError::Corrupt(format!("conversions.currency: {e}")))?,
                    order_id: row.order_id,
                    promo_code: row.promo_code,
                    tracking_url: row.tracking_url,
                    occurred_at: row.occurred_at,
                })
            })
            .collect()
    }

    /// Saves `plan` (encoded by the campaign service) as the campaign's plan, replacing any
    /// earlier one. False when the brand has no such campaign.
    pub async fn save_plan(
        &self,
        brand: BrandId,
        id: i64,
        plan: Vec<u8>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if self.get(brand, id).await?.is_none() {
            return Ok(false);
        }
        let save = campaign_plan::Entity::insert(campaign_plan::ActiveModel {
            campaign_id: Set(id),
            brand_id: Set(brand.0),
            plan: Set(plan),
            saved_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(campaign_plan::Column::CampaignId)
                .update_columns([campaign_plan::Column::Plan, campaign_plan::Column::SavedAt])
                .to_owned(),
        );
        crate::bounded(self.db, async |txn| {
            Ok(save.exec_without_returning(txn).await?)
        })
        .await?;
        Ok(true)
    }

    /// The plan last saved on the campaign, and when.
    pub async fn plan(
        &self,
        brand: BrandId,
        id: i64,
    ) -> Result<Option<(Vec<u8>, DateTime<Utc>)>, StoreError> {
        Ok(campaign_plan::Entity::find_by_id(id)
            .filter(campaign_plan::Column::BrandId.eq(brand.0))
            .one(self.db)
            .await?
            .map(|row| (row.plan, row.saved_at)))
    }

    /// The stored posts of these accounts published in `[from, until)`, with each account's
    /// follower count (a query per platform, then two per 500 accounts). Accounts the platform
    /// does not know yet are left out.
    pub async fn posts_of(
        &self,
        accounts: &[CreatorKey],
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<AccountPosts>, StoreError> {
        let ids = creator_ids(self.db, accounts).await?;
        let by_id: HashMap<i64, &CreatorKey> = ids.iter().map(|(key, id)| (*id, key)).collect();
        let id_list: Vec<i64> = by_id.keys().copied().collect();
        let mut followers: HashMap<i64, Option<u64>> = HashMap::new();
        let mut posts: HashMap<i64, Vec<resonance_core::Post>> = HashMap::new();
        for chunk in id_list.chunks(500) {
            let rows: Vec<(i64, Option<i64>)> = creator::Entity::find()
                .select_only()
                .column(creator::Column::Id)
                .column(creator::Column::Followers)
                .filter(creator::Column::Id.is_in(chunk.to_vec()))
                .into_tuple()
                .all(self.db)
                .await?;
            followers.extend(
                rows.into_iter()
                    .map(|(id, count)| (id, count.and_then(|f| u64::try_from(f).ok()))),
            );
            let rows = post::Entity::find()
                .filter(post::Column::CreatorId.is_in(chunk.to_vec()))
                .filter(post::Column::PostedAt.gte(from))
                .filter(post::Column::PostedAt.lt(until))
                .order_by_asc(post::Column::PostedAt)
                .order_by_asc(post::Column::ExternalId)
                .all(self.db)
                .await?;
            for row in &rows {
                posts
                    .entry(row.creator_id)
                    .or_default()
                    .push(post_from_row(row)?);
            }
        }
        let mut result: Vec<AccountPosts> = by_id
            .into_iter()
            .map(|(id, key)| AccountPosts {
                account: key.clone(),
                followers: followers.get(&id).copied().flatten(),
                posts: posts.remove(&id).unwrap_or_default(),
            })
            .collect();
        result.sort_by(|a, b| a.account.cmp(&b.account));
        Ok(result)
    }
}
