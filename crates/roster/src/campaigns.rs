//! CampaignService: campaigns, their deliverables and workflows, and reports.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use resonance_core::ValidationError;
use resonance_core::campaign::report::{self, DeliverableFacts, ReportConfig, Terms};
use resonance_core::campaign::{
    CampaignGoal, CampaignStatus, CreatorKey, DeliverableKind, PaymentStatus, ReviewStatus,
    ShipmentStatus, Window, Workflow, normalize_tags,
};
use resonance_core::error::WithinField;
use resonance_core::planner::PlannerConfig;
use resonance_core::{Platform, ScoringModel};
use resonance_proto::campaign::campaign_service_server::CampaignService;
use resonance_proto::campaign::{self as pb, deliverable::Kind};
use resonance_proto::convert;
use resonance_proto::paging::{fingerprint, page_of};
use resonance_proto::tonic::{Request, Response, Status};
use resonance_store::{BrandId, Campaign, Deliverable, DeliverableCreateError, Owned, Store};

use crate::common::{
    ApiError, brand_of, change_failed, display_name, etag, from_wire, page, parse_etag, parse_name,
    request_id, to_wire, update_paths,
};
use crate::rosters::{creator_key, creator_ref};

/// CampaignService over the store, with the scoring model whose definitions the report uses.
#[derive(Debug, Clone)]
pub struct CampaignApi {
    pub(crate) store: Store,
    model: Arc<ScoringModel>,
    report: ReportConfig,
    pub(crate) planner: PlannerConfig,
    /// Longest a plan may run when the caller's deadline is later or unset.
    pub(crate) plan_time_limit: Duration,
}

impl CampaignApi {
    pub fn new(store: Store, model: Arc<ScoringModel>, report: ReportConfig) -> Self {
        Self {
            store,
            model,
            report,
            planner: PlannerConfig::default(),
            plan_time_limit: Duration::from_secs(30),
        }
    }

    /// The planner's work limits, and the longest a plan may run (the servers' call timeout).
    #[must_use]
    pub fn with_planner(mut self, planner: PlannerConfig, time_limit: Duration) -> Self {
        self.planner = planner;
        self.plan_time_limit = time_limit;
        self
    }
}

macro_rules! wire_enum {
    ($from:ident, $to:ident, $pb:ty, $core:ty, $prefix:literal) => {
        pub(crate) fn $from(raw: i32, field: &str) -> Result<Option<$core>, ValidationError> {
            from_wire(
                raw,
                |v| <$pb>::try_from(v).ok().map(|s| s.as_str_name()),
                $prefix,
                field,
            )
        }

        pub(crate) fn $to(value: $core) -> i32 {
            to_wire(value.as_str(), $prefix, |name| {
                <$pb>::from_str_name(name).map(|s| s as i32)
            })
        }
    };
}

wire_enum!(
    goal_of,
    goal_to_proto,
    pb::CampaignGoal,
    CampaignGoal,
    "CAMPAIGN_GOAL_"
);
wire_enum!(
    campaign_status_of,
    campaign_status_to_proto,
    pb::CampaignStatus,
    CampaignStatus,
    "CAMPAIGN_STATUS_"
);
wire_enum!(
    payment_of,
    payment_to_proto,
    pb::PaymentStatus,
    PaymentStatus,
    "PAYMENT_STATUS_"
);
wire_enum!(
    shipment_of,
    shipment_to_proto,
    pb::ShipmentStatus,
    ShipmentStatus,
    "SHIPMENT_STATUS_"
);
wire_enum!(
    review_of,
    review_to_proto,
    pb::ReviewStatus,
    ReviewStatus,
    "REVIEW_STATUS_"
);

fn required<T>(value: Option<T>, field: &str) -> Result<T, ValidationError> {
    value.ok_or_else(|| ValidationError::new(field, "is required"))
}

fn window(
    value: Option<&resonance_proto::common::TimeWindow>,
    field: &str,
) -> Result<Window, ValidationError> {
    let value = required(value, field)?;
    let start = convert::required_time(value.start_time.as_ref(), "start_time").within(field)?;
    let end = convert::required_time(value.end_time.as_ref(), "end_time").within(field)?;
    Window::new(start, end).within(field)
}

/// A campaign's budget: required and above zero.
fn budget(
    value: Option<&resonance_proto::common::Money>,
) -> Result<resonance_core::campaign::Money, ValidationError> {
    let budget =
        convert::money_micros(required(value, "campaign.budget")?).within("campaign.budget")?;
    if budget.micros == 0 {
        return Err(ValidationError::new(
            "campaign.budget",
            "must be above zero",
        ));
    }
    Ok(budget)
}

fn window_to_proto(window: &Window) -> resonance_proto::common::TimeWindow {
    resonance_proto::common::TimeWindow {
        start_time: Some(convert::timestamp(window.start)),
        end_time: Some(convert::timestamp(window.end)),
    }
}

/// A campaign's terms as sent, checked; `roster` is resolved by the caller.
struct SentTerms {
    display_name: String,
    goal: CampaignGoal,
    budget: resonance_core::campaign::Money,
    window: Window,
    niches: Vec<String>,
    platforms: Vec<Platform>,
    hashtags: Vec<String>,
    mentions: Vec<String>,
    promo_codes: Vec<String>,
}

impl CampaignApi {
    fn niches(&self, values: &[String], field: &str) -> Result<Vec<String>, ValidationError> {
        let known: Vec<&str> = self.model.niches().ids().collect();
        let mut niches = Vec::with_capacity(values.len());
        for (index, value) in values.iter().enumerate() {
            let niche = value.trim().to_ascii_lowercase();
            if !known.contains(&niche.as_str()) {
                return Err(ValidationError::new(
                    format!("{field}[{index}]"),
                    format!("unknown niche {value:?} (known: {})", known.join(", ")),
                ));
            }
            if !niches.contains(&niche) {
                niches.push(niche);
            }
        }
        Ok(niches)
    }

    fn platforms(values: &[i32], field: &str) -> Result<Vec<Platform>, ValidationError> {
        let mut platforms = Vec::with_capacity(values.len());
        for (index, raw) in values.iter().enumerate() {
            let platform = convert::platform(*raw).within(&format!("{field}[{index}]"))?;
            if !platforms.contains(&platform) {
                platforms.push(platform);
            }
        }
        Ok(platforms)
    }

    fn terms(&self, campaign: &pb::Campaign) -> Result<SentTerms, ValidationError> {
        Ok(SentTerms {
            display_name: display_name(&campaign.display_name, "campaign.display_name")?,
            goal: required(goal_of(campaign.goal, "campaign.goal")?, "campaign.goal")?,
            budget: budget(campaign.budget.as_ref())?,
            window: window(campaign.window.as_ref(), "campaign.window")?,
            niches: self.niches(&campaign.niches, "campaign.niches")?,
            platforms: Self::platforms(&campaign.platforms, "campaign.platforms")?,
            hashtags: normalize_tags(&campaign.hashtags, Some('#'), "campaign.hashtags")?,
            mentions: normalize_tags(&campaign.mentions, Some('@'), "campaign.mentions")?,
            promo_codes: normalize_tags(&campaign.promo_codes, None, "campaign.promo_codes")?,
        })
    }

    async fn roster_ref(&self, brand: BrandId, name: &str) -> Result<Option<i64>, ApiError> {
        if name.trim().is_empty() {
            return Ok(None);
        }
        let [id] = parse_name(name, "campaign.roster", ["rosters"])?;
        match self.store.rosters().exists(brand, id).await? {
            true => Ok(Some(id)),
            false => Err(ApiError::NotFound(format!("campaign.roster {name}"))),
        }
    }
}

fn campaign_to_proto(campaign: &Owned<Campaign>) -> pb::Campaign {
    let value = &campaign.value;
    pb::Campaign {
        name: format!("campaigns/{}", campaign.id),
        display_name: value.display_name.clone(),
        goal: goal_to_proto(value.goal),
        status: campaign_status_to_proto(value.status),
        budget: Some(convert::money_from_micros(
            &value.budget.currency,
            value.budget.micros,
        )),
        window: Some(window_to_proto(&value.window)),
        niches: value.niches.clone(),
        platforms: value
            .platforms
            .iter()
            .map(|p| convert::platform_to_proto(*p) as i32)
            .collect(),
        hashtags: value.hashtags.clone(),
        mentions: value.mentions.clone(),
        promo_codes: value.promo_codes.clone(),
        roster: value
            .roster
            .map(|id| format!("rosters/{id}"))
            .unwrap_or_default(),
        create_time: Some(convert::timestamp(campaign.created_at)),
        update_time: Some(convert::timestamp(campaign.updated_at)),
        etag: etag(campaign.version),
    }
}

fn deliverable_to_proto(
    deliverable: &Owned<Deliverable>,
    currency: &str,
    posted: bool,
) -> pb::Deliverable {
    let value = &deliverable.value;
    let kind = match &value.kind {
        DeliverableKind::Takeover { account, window } => Kind::Takeover(pb::Takeover {
            account: Some(creator_ref(account)),
            window: Some(window_to_proto(window)),
        }),
        DeliverableKind::ProductSeeding {
            product,
            quantity,
            shipment,
        } => Kind::ProductSeeding(pb::ProductSeeding {
            product: product.clone(),
            quantity: i32::try_from(*quantity).unwrap_or(i32::MAX),
            shipment_status: shipment_to_proto(*shipment),
            posted,
        }),
        DeliverableKind::SponsoredContent {
            format,
            due,
            review,
            content_url,
        } => Kind::SponsoredContent(pb::SponsoredContent {
            format: convert::content_format_to_proto(*format) as i32,
            due_time: due.map(convert::timestamp),
            review_status: review_to_proto(*review),
            content_url: content_url.clone().unwrap_or_default(),
        }),
    };
    pb::Deliverable {
        name: format!(
            "campaigns/{}/deliverables/{}",
            value.campaign, deliverable.id
        ),
        creator: Some(creator_ref(&value.creator)),
        kind: Some(kind),
        fee: Some(convert::money_from_micros(currency, value.fee_micros)),
        payment_status: payment_to_proto(value.payment),
        promo_code: value.promo_code.clone().unwrap_or_default(),
        tracking_url: value.tracking_url.clone().unwrap_or_default(),
        create_time: Some(convert::timestamp(deliverable.created_at)),
        update_time: Some(convert::timestamp(deliverable.updated_at)),
        etag: etag(deliverable.version),
    }
}

/// The kinds' fields callers may update one by one.
const KIND_PATHS: &[&str] = &[
    "takeover",
    "takeover.account",
    "takeover.window",
    "product_seeding",
    "product_seeding.product",
    "product_seeding.quantity",
    "product_seeding.shipment_status",
    "sponsored_content",
    "sponsored_content.format",
    "sponsored_content.due_time",
    "sponsored_content.review_status",
    "sponsored_content.content_url",
];

/// Applies `paths` of the wire kind onto `current` (a whole-kind path applies every field the
/// wire kind sets). Paths of another kind than the current one are refused.
fn merge_kind(
    current: &DeliverableKind,
    wire: Option<&Kind>,
    paths: &[&str],
) -> Result<DeliverableKind, ValidationError> {
    let mut next = current.clone();
    for path in paths {
        let (kind, field) = path.split_once('.').unwrap_or((path, ""));
        if kind != current.name() {
            return Err(ValidationError::new(
                "update_mask",
                format!("{path} does not apply to a {} deliverable", current.name()),
            ));
        }
        let at = format!("deliverable.{path}");
        match (&mut next, wire) {
            (DeliverableKind::Takeover { account, window: w }, Some(Kind::Takeover(t))) => {
                if (field.is_empty() && t.account.is_some()) || field == "account" {
                    *account = creator_key(t.account.as_ref(), "deliverable.takeover.account")?;
                }
                if (field.is_empty() && t.window.is_some()) || field == "window" {
                    *w = window(t.window.as_ref(), "deliverable.takeover.window")?;
                }
            }
            (
                DeliverableKind::ProductSeeding {
                    product,
                    quantity,
                    shipment,
                },
                Some(Kind::ProductSeeding(s)),
            ) => {
                if (field.is_empty() && !s.product.is_empty()) || field == "product" {
                    product.clone_from(&s.product.trim().to_owned());
                }
                if (field.is_empty() && s.quantity != 0) || field == "quantity" {
                    *quantity = quantity_of(s.quantity)?;
                }
                if (field.is_empty() && s.shipment_status != 0) || field == "shipment_status" {
                    *shipment = required(
                        shipment_of(s.shipment_status, &at)?,
                        "deliverable.product_seeding.shipment_status",
                    )?;
                }
            }
            (
                DeliverableKind::SponsoredContent {
                    format,
                    due,
                    review,
                    content_url,
                },
                Some(Kind::SponsoredContent(c)),
            ) => {
                if (field.is_empty() && c.format != 0) || field == "format" {
                    *format = convert::content_format(c.format)
                        .within("deliverable.sponsored_content.format")?;
                }
                if (field.is_empty() && c.due_time.is_some()) || field == "due_time" {
                    *due = c
                        .due_time
                        .as_ref()
                        .map(convert::time)
                        .transpose()
                        .within("deliverable.sponsored_content.due_time")?;
                }
                if (field.is_empty() && c.review_status != 0) || field == "review_status" {
                    *review = required(
                        review_of(
                            c.review_status,
                            "deliverable.sponsored_content.review_status",
                        )?,
                        "deliverable.sponsored_content.review_status",
                    )?;
                }
                if (field.is_empty() && !c.content_url.is_empty()) || field == "content_url" {
                    let url = c.content_url.trim();
                    *content_url = (!url.is_empty()).then(|| url.to_owned());
                }
            }
            _ => {
                return Err(ValidationError::new(
                    format!("deliverable.{kind}"),
                    "is named in update_mask but not set",
                ));
            }
        }
    }
    next.validate().within("deliverable")?;
    Ok(next)
}

fn quantity_of(raw: i32) -> Result<u32, ValidationError> {
    u32::try_from(raw).ok().filter(|q| *q > 0).ok_or_else(|| {
        ValidationError::new("deliverable.product_seeding.quantity", "must be at least 1")
    })
}

/// A deliverable's kind as created: unset workflow states start at their first state.
fn new_kind(wire: Option<&Kind>) -> Result<DeliverableKind, ValidationError> {
    let kind = match wire {
        None => {
            return Err(ValidationError::new(
                "deliverable.kind",
                "one of takeover, product_seeding, sponsored_content is required",
            ));
        }
        Some(Kind::Takeover(t)) => DeliverableKind::Takeover {
            account: creator_key(t.account.as_ref(), "deliverable.takeover.account")?,
            window: window(t.window.as_ref(), "deliverable.takeover.window")?,
        },
        Some(Kind::ProductSeeding(s)) => DeliverableKind::ProductSeeding {
            product: s.product.trim().to_owned(),
            quantity: quantity_of(s.quantity)?,
            shipment: shipment_of(
                s.shipment_status,
                "deliverable.product_seeding.shipment_status",
            )?
            .unwrap_or(ShipmentStatus::Pending),
        },
        Some(Kind::SponsoredContent(c)) => DeliverableKind::SponsoredContent {
            format: if c.format == 0 {
                return Err(ValidationError::new(
                    "deliverable.sponsored_content.format",
                    "is required",
                ));
            } else {
                convert::content_format(c.format).within("deliverable.sponsored_content.format")?
            },
            due: c
                .due_time
                .as_ref()
                .map(convert::time)
                .transpose()
                .within("deliverable.sponsored_content.due_time")?,
            review: review_of(
                c.review_status,
                "deliverable.sponsored_content.review_status",
            )?
            .unwrap_or(ReviewStatus::Draft),
            content_url: Some(c.content_url.trim().to_owned()).filter(|u| !u.is_empty()),
        },
    };
    kind.validate().within("deliverable")?;
    Ok(kind)
}

fn promo_code(raw: &str) -> Result<Option<String>, ValidationError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    Ok(
        normalize_tags(&[raw.to_owned()], None, "deliverable.promo_code")
            .map_err(|e| ValidationError::new("deliverable.promo_code", e.message))?
            .pop(),
    )
}

fn tracking_url(raw: &str) -> Result<Option<String>, ValidationError> {
    resonance_core::campaign::tracking_url(raw).within("deliverable.tracking_url")
}

fn fee(
    value: Option<&resonance_proto::common::Money>,
    currency: &str,
) -> Result<i64, ValidationError> {
    let Some(value) = value else {
        return Ok(0);
    };
    let fee = convert::money_micros(value).within("deliverable.fee")?;
    if fee.currency != currency {
        return Err(ValidationError::new(
            "deliverable.fee.currency_code",
            format!("must be the campaign's currency, {currency}"),
        ));
    }
    Ok(fee.micros)
}

fn campaign_name(id: i64) -> String {
    format!("campaigns/{id}")
}

/// A missing parent reads as the child missing: the caller asked for the child.
fn not_found_as(error: ApiError, name: &str) -> ApiError {
    match error {
        ApiError::NotFound(_) => ApiError::NotFound(name.to_owned()),
        other => other,
    }
}

impl CampaignApi {
    pub(crate) async fn campaign(
        &self,
        brand: BrandId,
        id: i64,
    ) -> Result<Owned<Campaign>, ApiError> {
        self.store
            .campaigns()
            .get(brand, id)
            .await?
            .ok_or_else(|| ApiError::NotFound(campaign_name(id)))
    }

    fn report_terms(campaign: &Campaign) -> Terms {
        Terms {
            currency: campaign.budget.currency.clone(),
            window: campaign.window,
            hashtags: campaign.hashtags.clone(),
            mentions: campaign.mentions.clone(),
            promo_codes: campaign.promo_codes.clone(),
        }
    }

    /// The creators of `deliverables` with a seeding who published a post the campaign tracks.
    async fn seeded_who_posted(
        &self,
        campaign: &Campaign,
        deliverables: &[Owned<Deliverable>],
    ) -> Result<HashSet<CreatorKey>, ApiError> {
        let seeded: Vec<CreatorKey> = deliverables
            .iter()
            .filter(|d| matches!(d.value.kind, DeliverableKind::ProductSeeding { .. }))
            .map(|d| d.value.creator.clone())
            .collect();
        if seeded.is_empty() {
            return Ok(HashSet::new());
        }
        let accounts = self
            .store
            .campaigns()
            .posts_of(&seeded, campaign.window.start, campaign.window.end)
            .await?;
        let terms = Self::report_terms(campaign);
        Ok(report::creators_who_posted(&terms, &accounts)
            .into_iter()
            .cloned()
            .collect())
    }

    async fn create_campaign_inner(
        &self,
        request: Request<pb::CreateCampaignRequest>,
    ) -> Result<pb::CreateCampaignResponse, ApiError> {
        let brand = brand_of(&request)?;
        let request = request.into_inner();
        let wire = required(request.campaign.as_ref(), "campaign")?;
        let terms = self.terms(wire)?;
        let request_id = request_id(&request.request_id)?;
        let roster = self.roster_ref(brand, &wire.roster).await?;
        let value = Campaign {
            display_name: terms.display_name,
            goal: terms.goal,
            status: CampaignStatus::Draft,
            budget: terms.budget,
            window: terms.window,
            niches: terms.niches,
            platforms: terms.platforms,
            hashtags: terms.hashtags,
            mentions: terms.mentions,
            promo_codes: terms.promo_codes,
            roster,
        };
        let campaign = self
            .store
            .campaigns()
            .create(brand, &value, request_id, Utc::now())
            .await?;
        Ok(pb::CreateCampaignResponse {
            campaign: Some(campaign_to_proto(&campaign)),
        })
    }

    async fn update_campaign_inner(
        &self,
        request: Request<pb::UpdateCampaignRequest>,
    ) -> Result<pb::UpdateCampaignResponse, ApiError> {
        let brand = brand_of(&request)?;
        let request = request.into_inner();
        let wire = required(request.campaign.as_ref(), "campaign")?;
        let [id] = parse_name(&wire.name, "campaign.name", ["campaigns"])?;
        let expected = parse_etag(&wire.etag, "campaign.etag")?;
        let paths = update_paths(
            request.update_mask.as_ref(),
            &[
                ("display_name", !wire.display_name.is_empty()),
                ("goal", wire.goal != 0),
                ("budget", wire.budget.is_some()),
                ("window", wire.window.is_some()),
                ("niches", !wire.niches.is_empty()),
                ("platforms", !wire.platforms.is_empty()),
                ("hashtags", !wire.hashtags.is_empty()),
                ("mentions", !wire.mentions.is_empty()),
                ("promo_codes", !wire.promo_codes.is_empty()),
                ("roster", !wire.roster.is_empty()),
            ],
            &["name", "status", "create_time", "update_time", "etag"],
        )?;
        let has = |path: &str| paths.contains(&path);
        let display = has("display_name")
            .then(|| display_name(&wire.display_name, "campaign.display_name"))
            .transpose()?;
        let goal = has("goal")
            .then(|| required(goal_of(wire.goal, "campaign.goal")?, "campaign.goal"))
            .transpose()?;
        let budget = has("budget")
            .then(|| budget(wire.budget.as_ref()))
            .transpose()?;
        let new_window = has("window")
            .then(|| window(wire.window.as_ref(), "campaign.window"))
            .transpose()?;
        let niches = has("niches")
            .then(|| self.niches(&wire.niches, "campaign.niches"))
            .transpose()?;
        let platforms = has("platforms")
            .then(|| Self::platforms(&wire.platforms, "campaign.platforms"))
            .transpose()?;
        let hashtags = has("hashtags")
            .then(|| normalize_tags(&wire.hashtags, Some('#'), "campaign.hashtags"))
            .transpose()?;
        let mentions = has("mentions")
            .then(|| normalize_tags(&wire.mentions, Some('@'), "campaign.mentions"))
            .transpose()?;
        let promo_codes = has("promo_codes")
            .then(|| normalize_tags(&wire.promo_codes, None, "campaign.promo_codes"))
            .transpose()?;
        let roster = if has("roster") {
            Some(self.roster_ref(brand, &wire.roster).await?)
        } else {
            None
        };
        let campaign = self
            .store
            .campaigns()
            .update(brand, id, expected, Utc::now(), |current| {
                let mut next = current.value.clone();
                if next.status.is_closed() {
                    return Err(ApiError::Precondition(format!(
                        "{} is {}: its terms are frozen",
                        wire.name, next.status
                    )));
                }
                if let Some(budget) = &budget {
                    if budget.currency != next.budget.currency {
                        return Err(ValidationError::new(
                            "campaign.budget.currency_code",
                            format!(
                                "cannot change from {}: deliverable fees are kept in it",
                                next.budget.currency
                            ),
                        )
                        .into());
                    }
                    next.budget = budget.clone();
                }
                if let Some(value) = &display {
                    next.display_name.clone_from(value);
                }
                if let Some(goal) = goal {
                    next.goal = goal;
                }
                if let Some(window) = new_window {
                    next.window = window;
                }
                if let Some(value) = &niches {
                    next.niches.clone_from(value);
                }
                if let Some(value) = &platforms {
                    next.platforms.clone_from(value);
                }
                if let Some(value) = &hashtags {
                    next.hashtags.clone_from(value);
                }
                if let Some(value) = &mentions {
                    next.mentions.clone_from(value);
                }
                if let Some(value) = &promo_codes {
                    next.promo_codes.clone_from(value);
                }
                if let Some(value) = roster {
                    next.roster = value;
                }
                Ok(next)
            })
            .await
            .map_err(|e| change_failed(e, &wire.name))?;
        Ok(pb::UpdateCampaignResponse {
            campaign: Some(campaign_to_proto(&campaign)),
        })
    }

    async fn transition_inner(
        &self,
        request: Request<pb::TransitionCampaignRequest>,
    ) -> Result<pb::TransitionCampaignResponse, ApiError> {
        let brand = brand_of(&request)?;
        let request = request.into_inner();
        let [id] = parse_name(&request.name, "name", ["campaigns"])?;
        let expected = parse_etag(&request.etag, "etag")?;
        let status = required(campaign_status_of(request.status, "status")?, "status")?;
        let campaign = self
            .store
            .campaigns()
            .update(brand, id, expected, Utc::now(), |current| {
                let mut next = current.value.clone();
                next.status = next.status.move_to(status).map_err(ApiError::from)?;
                Ok::<_, ApiError>(next)
            })
            .await
            .map_err(|e| change_failed(e, &request.name))?;
        Ok(pb::TransitionCampaignResponse {
            campaign: Some(campaign_to_proto(&campaign)),
        })
    }

    async fn create_deliverable_inner(
        &self,
        request: Request<pb::CreateDeliverableRequest>,
    ) -> Result<pb::CreateDeliverableResponse, ApiError> {
        let brand = brand_of(&request)?;
        let request = request.into_inner();
        let [campaign_id] = parse_name(&request.parent, "parent", ["campaigns"])?;
        let wire = required(request.deliverable.as_ref(), "deliverable")?;
        let campaign = self.campaign(brand, campaign_id).await?;
        let currency = campaign.value.budget.currency.clone();
        let value = Deliverable {
            campaign: campaign_id,
            creator: creator_key(wire.creator.as_ref(), "deliverable.creator")?,
            kind: new_kind(wire.kind.as_ref())?,
            fee_micros: fee(wire.fee.as_ref(), &currency)?,
            payment: payment_of(wire.payment_status, "deliverable.payment_status")?
                .unwrap_or(PaymentStatus::Unpaid),
            promo_code: promo_code(&wire.promo_code)?,
            tracking_url: tracking_url(&wire.tracking_url)?,
        };
        let request_id = request_id(&request.request_id)?;
        let created = self
            .store
            .campaigns()
            .create_deliverable(brand, &value, request_id, Utc::now())
            .await
            .map_err(|error| match error {
                DeliverableCreateError::CampaignNotFound => {
                    ApiError::NotFound(request.parent.clone())
                }
                DeliverableCreateError::CampaignClosed(status) => ApiError::Precondition(format!(
                    "{} is {status}: it takes no new deliverables",
                    request.parent
                )),
                DeliverableCreateError::Store(error) => ApiError::Store(error),
            })?;
        let posted = self
            .seeded_who_posted(&campaign.value, std::slice::from_ref(&created))
            .await?
            .contains(&created.value.creator);
        Ok(pb::CreateDeliverableResponse {
            deliverable: Some(deliverable_to_proto(&created, &currency, posted)),
        })
    }

    async fn update_deliverable_inner(
        &self,
        request: Request<pb::UpdateDeliverableRequest>,
    ) -> Result<pb::UpdateDeliverableResponse, ApiError> {
        let brand = brand_of(&request)?;
        let request = request.into_inner();
        let wire = required(request.deliverable.as_ref(), "deliverable")?;
        let [campaign_id, id] = parse_name(
            &wire.name,
            "deliverable.name",
            ["campaigns", "deliverables"],
        )?;
        let expected = parse_etag(&wire.etag, "deliverable.etag")?;
        let set_kind = wire.kind.as_ref().map(|kind| match kind {
            Kind::Takeover(_) => "takeover",
            Kind::ProductSeeding(_) => "product_seeding",
            Kind::SponsoredContent(_) => "sponsored_content",
        });
        let mut mutable: Vec<(&'static str, bool)> = KIND_PATHS
            .iter()
            .map(|path| (*path, Some(*path) == set_kind))
            .collect();
        mutable.extend([
            ("fee", wire.fee.is_some()),
            ("payment_status", wire.payment_status != 0),
            ("promo_code", !wire.promo_code.is_empty()),
            ("tracking_url", !wire.tracking_url.is_empty()),
        ]);
        let paths = update_paths(
            request.update_mask.as_ref(),
            &mutable,
            &[
                "name",
                "creator",
                "create_time",
                "update_time",
                "etag",
                "product_seeding.posted",
            ],
        )?;
        let campaign = self
            .campaign(brand, campaign_id)
            .await
            .map_err(|error| not_found_as(error, &wire.name))?;
        let currency = campaign.value.budget.currency.clone();
        let kind_paths: Vec<&str> = paths
            .iter()
            .copied()
            .filter(|p| KIND_PATHS.contains(p))
            .collect();
        let has = |path: &str| paths.contains(&path);
        let new_fee = has("fee")
            .then(|| fee(wire.fee.as_ref(), &currency))
            .transpose()?;
        let payment = has("payment_status")
            .then(|| {
                required(
                    payment_of(wire.payment_status, "deliverable.payment_status")?,
                    "deliverable.payment_status",
                )
            })
            .transpose()?;
        let new_code = has("promo_code")
            .then(|| promo_code(&wire.promo_code))
            .transpose()?;
        let new_url = has("tracking_url")
            .then(|| tracking_url(&wire.tracking_url))
            .transpose()?;
        // A closed campaign's deliverables are frozen, except for paying what is owed.
        let require_open = paths.iter().any(|p| *p != "payment_status");
        let updated = self
            .store
            .campaigns()
            .update_deliverable(
                brand,
                campaign_id,
                id,
                expected,
                require_open,
                Utc::now(),
                |current| {
                    let mut next = current.value.clone();
                    if !kind_paths.is_empty() {
                        next.kind =
                            merge_kind(&current.value.kind, wire.kind.as_ref(), &kind_paths)?;
                        next.kind
                            .check_update(&current.value.kind)
                            .map_err(|e| match e {
                                resonance_core::campaign::UpdateError::Invalid(e) => {
                                    ApiError::from(e)
                                }
                                resonance_core::campaign::UpdateError::Illegal(e) => {
                                    ApiError::from(e)
                                }
                            })?;
                    }
                    if let Some(payment) = payment {
                        next.payment = current.value.payment.move_to(payment)?;
                    }
                    if let Some(fee) = new_fee {
                        next.fee_micros = fee;
                    }
                    if let Some(code) = &new_code {
                        next.promo_code.clone_from(code);
                    }
                    if let Some(url) = &new_url {
                        next.tracking_url.clone_from(url);
                    }
                    Ok::<_, ApiError>(next)
                },
            )
            .await
            .map_err(|e| change_failed(e, &wire.name))?;
        let posted = self
            .seeded_who_posted(&campaign.value, std::slice::from_ref(&updated))
            .await?
            .contains(&updated.value.creator);
        Ok(pb::UpdateDeliverableResponse {
            deliverable: Some(deliverable_to_proto(&updated, &currency, posted)),
        })
    }

    async fn report_inner(
        &self,
        request: Request<pb::GetCampaignReportRequest>,
    ) -> Result<pb::GetCampaignReportResponse, ApiError> {
        let brand = brand_of(&request)?;
        let name = request.into_inner().campaign;
        let [id] = parse_name(&name, "campaign", ["campaigns"])?;
        let campaign = self.campaign(brand, id).await?;
        let deliverables = self
            .store
            .campaigns()
            .list_deliverables(brand, id, None, resonance_store::NO_LIMIT)
            .await?;
        let terms = Self::report_terms(&campaign.value);
        let facts: Vec<DeliverableFacts> = deliverables
            .iter()
            .map(|d| DeliverableFacts {
                id: d.id,
                creator: d.value.creator.clone(),
                kind: d.value.kind.clone(),
                fee: d.value.fee_micros as f64 / 1e6,
                promo_code: d.value.promo_code.clone(),
                tracking_url: d.value.tracking_url.clone(),
            })
            .collect();
        // Posts from the earliest to the latest window that can attribute one.
        let (mut from, mut until) = (terms.window.start, terms.window.end);
        let mut accounts: Vec<CreatorKey> = Vec::new();
        for deliverable in &deliverables {
            accounts.push(deliverable.value.creator.clone());
            if let DeliverableKind::Takeover { account, window } = &deliverable.value.kind {
                accounts.push(account.clone());
                from = from.min(window.start);
                until = until.max(window.end);
            }
        }
        accounts.sort();
        accounts.dedup();
        let posts = self
            .store
            .campaigns()
            .posts_of(&accounts, from, until)
            .await?;
        let mut codes = terms.promo_codes.clone();
        codes.extend(facts.iter().filter_map(|f| f.promo_code.clone()));
        let urls: Vec<String> = facts
            .iter()
            .filter_map(|f| f.tracking_url.clone())
            .collect();
        let conversion_end = self.report.conversions_until(terms.window.end);
        let conversions = self
            .store
            .campaigns()
            .conversions(brand, &codes, &urls, terms.window.start, conversion_end)
            .await?;
        let computed = report::report(
            &self.model,
            &self.report,
            &terms,
            &facts,
            &posts,
            &conversions,
        );

        let currency = terms.currency.as_str();
        let line_to_proto = |line: &report::Line| pb::DeliverableReport {
            deliverable: line
                .deliverable
                .map(|d| format!("campaigns/{id}/deliverables/{d}"))
                .unwrap_or_default(),
            creator: line.creator.as_ref().map(creator_ref),
            fulfilled: line.fulfilled,
            posts: i64::try_from(line.posts).unwrap_or(i64::MAX),
            engagements: i64::try_from(line.engagements).unwrap_or(i64::MAX),
            estimated_reach: line.estimated_reach,
            cost: Some(convert::money(line.cost, currency)),
            cost_per_engagement: line
                .cost_per_engagement
                .map(|v| convert::money(v, currency)),
            cpm: line.cpm.map(|v| convert::money(v, currency)),
            earned_media_value: Some(convert::money(
                line.earned_media_value,
                &computed.emv_currency,
            )),
            conversions: i64::try_from(line.conversions).unwrap_or(i64::MAX),
            revenue: Some(convert::money(line.revenue, currency)),
            return_on_spend: line.return_on_spend,
            undisclosed_posts: i64::try_from(line.undisclosed_posts).unwrap_or(i64::MAX),
        };
        Ok(pb::GetCampaignReportResponse {
            campaign: name.clone(),
            deliverables: computed.deliverables.iter().map(line_to_proto).collect(),
            total: Some(line_to_proto(&computed.total)),
            seeding_post_rate: computed.seeding_post_rate,
            emv_formula: computed.emv_formula.clone(),
            compute_time: Some(convert::timestamp(Utc::now())),
            notes: computed.notes.clone(),
        })
    }
}

type RpcResult<T> = Result<Response<T>, Status>;

fn respond<T>(result: Result<T, ApiError>) -> RpcResult<T> {
    result.map(Response::new).map_err(Status::from)
}

#[resonance_proto::tonic::async_trait]
impl CampaignService for CampaignApi {
    async fn create_campaign(
        &self,
        request: Request<pb::CreateCampaignRequest>,
    ) -> RpcResult<pb::CreateCampaignResponse> {
        respond(self.create_campaign_inner(request).await)
    }

    async fn get_campaign(
        &self,
        request: Request<pb::GetCampaignRequest>,
    ) -> RpcResult<pb::GetCampaignResponse> {
        let result = async {
            let brand = brand_of(&request)?;
            let [id] = parse_name(&request.get_ref().name, "name", ["campaigns"])?;
            let campaign = self.campaign(brand, id).await?;
            Ok(pb::GetCampaignResponse {
                campaign: Some(campaign_to_proto(&campaign)),
            })
        };
        respond(result.await)
    }

    async fn list_campaigns(
        &self,
        request: Request<pb::ListCampaignsRequest>,
    ) -> RpcResult<pb::ListCampaignsResponse> {
        let result = async {
            let brand = brand_of(&request)?;
            let request = request.get_ref();
            let statuses = request
                .statuses
                .iter()
                .enumerate()
                .map(|(index, raw)| {
                    let field = format!("statuses[{index}]");
                    campaign_status_of(*raw, &field)?
                        .ok_or_else(|| ValidationError::new(field, "must not be unspecified"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let print = fingerprint(
                "ListCampaigns",
                &pb::ListCampaignsRequest {
                    statuses: request.statuses.clone(),
                    ..Default::default()
                },
            );
            let (size, after) = page(request.page_size, &request.page_token, print)?;
            let campaigns = self
                .store
                .campaigns()
                .list(brand, &statuses, after, size + 1)
                .await?;
            let (campaigns, next_page_token) = page_of(campaigns, size, |c| c.id, print);
            Ok(pb::ListCampaignsResponse {
                next_page_token,
                campaigns: campaigns.iter().map(campaign_to_proto).collect(),
            })
        };
        respond(result.await)
    }

    async fn update_campaign(
        &self,
        request: Request<pb::UpdateCampaignRequest>,
    ) -> RpcResult<pb::UpdateCampaignResponse> {
        respond(self.update_campaign_inner(request).await)
    }

    async fn transition_campaign(
        &self,
        request: Request<pb::TransitionCampaignRequest>,
    ) -> RpcResult<pb::TransitionCampaignResponse> {
        respond(self.transition_inner(request).await)
    }

    async fn create_deliverable(
        &self,
        request: Request<pb::CreateDeliverableRequest>,
    ) -> RpcResult<pb::CreateDeliverableResponse> {
        respond(self.create_deliverable_inner(request).await)
    }

    async fn get_deliverable(
        &self,
        request: Request<pb::GetDeliverableRequest>,
    ) -> RpcResult<pb::GetDeliverableResponse> {
        let result = async {
            let brand = brand_of(&request)?;
            let name = &request.get_ref().name;
            let [campaign_id, id] = parse_name(name, "name", ["campaigns", "deliverables"])?;
            let campaign = self
                .campaign(brand, campaign_id)
                .await
                .map_err(|error| not_found_as(error, name))?;
            let deliverable = self
                .store
                .campaigns()
                .get_deliverable(brand, campaign_id, id)
                .await?
                .ok_or_else(|| ApiError::NotFound(name.clone()))?;
            let posted = self
                .seeded_who_posted(&campaign.value, std::slice::from_ref(&deliverable))
                .await?
                .contains(&deliverable.value.creator);
            Ok(pb::GetDeliverableResponse {
                deliverable: Some(deliverable_to_proto(
                    &deliverable,
                    &campaign.value.budget.currency,
                    posted,
                )),
            })
        };
        respond(result.await)
    }

    async fn list_deliverables(
        &self,
        request: Request<pb::ListDeliverablesRequest>,
    ) -> RpcResult<pb::ListDeliverablesResponse> {
        let result = async {
            let brand = brand_of(&request)?;
            let request = request.get_ref();
            let [campaign_id] = parse_name(&request.parent, "parent", ["campaigns"])?;
            let print = fingerprint(
                "ListDeliverables",
                &pb::ListDeliverablesRequest {
                    parent: request.parent.clone(),
                    ..Default::default()
                },
            );
            let (size, after) = page(request.page_size, &request.page_token, print)?;
            let campaign = self
                .campaign(brand, campaign_id)
                .await
                .map_err(|error| not_found_as(error, &request.parent))?;
            let deliverables = self
                .store
                .campaigns()
                .list_deliverables(brand, campaign_id, after, size + 1)
                .await?;
            let (deliverables, next_page_token) = page_of(deliverables, size, |d| d.id, print);
            let posted = self
                .seeded_who_posted(&campaign.value, &deliverables)
                .await?;
            Ok(pb::ListDeliverablesResponse {
                next_page_token,
                deliverables: deliverables
                    .iter()
                    .map(|d| {
                        deliverable_to_proto(
                            d,
                            &campaign.value.budget.currency,
                            posted.contains(&d.value.creator),
                        )
                    })
                    .collect(),
            })
        };
        respond(result.await)
    }

    async fn update_deliverable(
        &self,
        request: Request<pb::UpdateDeliverableRequest>,
    ) -> RpcResult<pb::UpdateDeliverableResponse> {
        respond(self.update_deliverable_inner(request).await)
    }

    async fn delete_deliverable(
        &self,
        request: Request<pb::DeleteDeliverableRequest>,
    ) -> RpcResult<pb::DeleteDeliverableResponse> {
        let result = async {
            let brand = brand_of(&request)?;
            let request = request.get_ref();
            let [campaign_id, id] =
                parse_name(&request.name, "name", ["campaigns", "deliverables"])?;
            let expected = parse_etag(&request.etag, "etag")?;
            self.store
                .campaigns()
                .delete_deliverable(brand, campaign_id, id, expected)
                .await
                .map_err(|e| change_failed(e, &request.name))?;
            Ok(pb::DeleteDeliverableResponse {})
        };
        respond(result.await)
    }

    async fn get_campaign_report(
        &self,
        request: Request<pb::GetCampaignReportRequest>,
    ) -> RpcResult<pb::GetCampaignReportResponse> {
        respond(self.report_inner(request).await)
    }

    async fn plan_campaign(
        &self,
        request: Request<pb::PlanCampaignRequest>,
    ) -> RpcResult<pb::PlanCampaignResponse> {
        respond(self.plan_inner(request).await)
    }

    async fn get_campaign_plan(
        &self,
        request: Request<pb::GetCampaignPlanRequest>,
    ) -> RpcResult<pb::GetCampaignPlanResponse> {
        respond(self.get_plan_inner(request).await)
    }

    async fn list_campaign_posts(
        &self,
        request: Request<pb::ListCampaignPostsRequest>,
    ) -> RpcResult<pb::ListCampaignPostsResponse> {
        let result = async {
            let brand = brand_of(&request)?;
            let request = request.get_ref();
            let [campaign_id] = parse_name(&request.parent, "parent", ["campaigns"])?;
            let print = fingerprint(
                "ListCampaignPosts",
                &pb::ListCampaignPostsRequest {
                    parent: request.parent.clone(),
                    ..Default::default()
                },
            );
            let (size, after) = page(request.page_size, &request.page_token, print)?;
            self.campaign(brand, campaign_id)
                .await
                .map_err(|error| not_found_as(error, &request.parent))?;
            let posts = self
                .store
                .campaigns()
                .attributed_posts(brand, campaign_id, after, size + 1)
                .await?;
            let (posts, next_page_token) = page_of(posts, size, |p| p.post_id, print);
            Ok(pb::ListCampaignPostsResponse {
                next_page_token,
                posts: posts.iter().map(campaign_post_to_proto).collect(),
            })
        };
        respond(result.await)
    }
}

fn campaign_post_to_proto(attributed: &resonance_store::AttributedPost) -> pb::CampaignPost {
    use resonance_store::MatchedBy;
    let post = &attributed.post;
    let count = |value: Option<u64>| value.map(|v| i64::try_from(v).unwrap_or(i64::MAX));
    pb::CampaignPost {
        creator: Some(creator_ref(&attributed.creator)),
        external_id: post.external_id.clone(),
        posted_time: Some(convert::timestamp(post.posted_at)),
        url: post.url.clone().unwrap_or_default(),
        matched_by: match attributed.matched_by {
            MatchedBy::Takeover => pb::AttributionMatch::Takeover,
            MatchedBy::Hashtag => pb::AttributionMatch::Hashtag,
            MatchedBy::Mention => pb::AttributionMatch::Mention,
        } as i32,
        attributed_time: Some(convert::timestamp(attributed.attributed_at)),
        on_campaign: attributed.on_campaign,
        likes: count(post.likes),
        comments: count(post.comments),
        views: count(post.views),
        paid_partnership: post.paid_partnership,
    }
}
