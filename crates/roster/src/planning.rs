//! PlanCampaign and GetCampaignPlan: candidates from the request, a roster or search filters,
//! planned by `resonance_core::planner` off the async runtime within the call's deadline; plans
//! saved on their campaign.

use std::time::{Duration, Instant};

use chrono::Utc;
use resonance_core::ValidationError;
use resonance_core::campaign::{CampaignGoal, CampaignStatus, CreatorKey};
use resonance_core::error::WithinField;
use resonance_core::planner::{
    self, Audience, Candidate, Constraints, Goal, Outcome, PlanError, Problem, Quota, QuotaKey,
};
use resonance_core::value::Deliverable;
use resonance_core::{AudienceSketch, Tier};
use resonance_proto::campaign::{self as pb, plan_campaign_request::Candidates, plan_candidate};
use resonance_proto::convert;
use resonance_proto::prost::Message as _;
use resonance_proto::tonic::Request;
use resonance_store::{BrandId, NO_LIMIT, ScoreRecord, SearchQuery, SearchSort};

use crate::campaigns::{CampaignApi, goal_of, goal_to_proto};
use crate::common::{ApiError, brand_of, change_failed, parse_name};
use crate::rosters::creator_ref;

/// Candidates a search filter gives by default, and at most.
const DEFAULT_FILTER_CANDIDATES: u64 = 1_000;
const MAX_FILTER_CANDIDATES: u64 = 20_000;

/// Candidates with what the response names them by.
#[derive(Debug, Default)]
struct Pool {
    candidates: Vec<Candidate>,
    creators: Vec<Option<resonance_proto::common::CreatorRef>>,
    skipped: usize,
    notes: Vec<String>,
}

/// The call's deadline, which the server set from the caller's `grpc-timeout` and its own
/// request timeout (`resonance_store::deadline`), capped at `limit`; `limit` from now when the
/// handler runs outside a server (tests calling it directly).
fn deadline_of_call(limit: Duration) -> Instant {
    let capped = Instant::now() + limit;
    resonance_store::deadline::current().map_or(capped, |deadline| deadline.into_std().min(capped))
}

fn constraints(value: Option<&pb::PlanConstraints>) -> Result<Constraints, ValidationError> {
    let Some(value) = value else {
        return Ok(Constraints::default());
    };
    let count = |raw: i32, field: &str| {
        usize::try_from(raw).map_err(|_| {
            ValidationError::new(
                format!("constraints.{field}"),
                format!("must not be negative (got {raw})"),
            )
        })
    };
    let upper = |raw: i32, field: &str| count(raw, field).map(|n| (n > 0).then_some(n));
    let mut quotas = Vec::with_capacity(value.quotas.len());
    for (i, quota) in value.quotas.iter().enumerate() {
        let at = format!("quotas[{i}]");
        let key = match &quota.key {
            Some(pb::quota::Key::Niche(niche)) if !niche.trim().is_empty() => {
                QuotaKey::Niche(niche.trim().to_lowercase())
            }
            Some(pb::quota::Key::Platform(raw)) => QuotaKey::Platform(
                convert::platform(*raw).within(&format!("constraints.{at}.platform"))?,
            ),
            _ => {
                return Err(ValidationError::new(
                    format!("constraints.{at}"),
                    "names a niche or a platform",
                ));
            }
        };
        quotas.push(Quota {
            key,
            min: count(quota.min_creators, &format!("{at}.min_creators"))?,
            max: upper(quota.max_creators, &format!("{at}.max_creators"))?,
        });
    }
    let share = value.max_budget_share_per_creator;
    Ok(Constraints {
        min_creators: count(value.min_creators, "min_creators")?,
        max_creators: upper(value.max_creators, "max_creators")?,
        max_budget_share: (share != 0.0).then_some(share),
        max_celebrities: value
            .max_celebrities
            .map(|raw| count(raw, "max_celebrities"))
            .transpose()?,
        quotas,
        required: value.required.clone(),
        excluded: value.excluded.clone(),
    })
}

fn explicit(list: &pb::CandidateList, currency: &str) -> Result<Pool, ValidationError> {
    let mut pool = Pool::default();
    for (i, wire) in list.candidates.iter().enumerate() {
        let at = format!("explicit.candidates[{i}]");
        let creator = wire
            .creator
            .as_ref()
            .map(|creator| convert::creator_ref(creator).within(&format!("{at}.creator")))
            .transpose()?;
        let cost = wire
            .cost
            .as_ref()
            .ok_or_else(|| ValidationError::new(format!("{at}.cost"), "is required"))?;
        let cost = convert::money_micros(cost).within(&format!("{at}.cost"))?;
        if cost.currency != currency {
            return Err(ValidationError::new(
                format!("{at}.cost.currency_code"),
                format!("must be the budget's currency, {currency}"),
            ));
        }
        let followers = u64::try_from(wire.followers)
            .map_err(|_| ValidationError::new(format!("{at}.followers"), "must not be negative"))?;
        let tier = if wire.tier == 0 {
            None
        } else {
            Some(convert::tier(wire.tier).within(&format!("{at}.tier"))?)
        };
        let audience = match &wire.audience {
            None => Audience::Unknown,
            Some(plan_candidate::Audience::Members(members)) => {
                let mut ids = members.member_ids.clone();
                ids.sort_unstable();
                ids.dedup();
                Audience::Members(ids)
            }
            Some(plan_candidate::Audience::Sketch(bytes)) => {
                Audience::Sketch(AudienceSketch::from_bytes(bytes).within(&format!("{at}.sketch"))?)
            }
        };
        pool.candidates.push(Candidate {
            id: wire.id.clone(),
            cost_micros: cost.micros,
            engagements: wire.expected_engagements,
            followers,
            celebrity: tier == Some(Tier::Mega),
            platform: creator.as_ref().map(|(platform, _)| *platform),
            niches: wire
                .niches
                .iter()
                .map(|n| n.trim().to_lowercase())
                .collect(),
            audience,
            audience_size: followers as f64,
        });
        pool.creators.push(wire.creator.clone());
    }
    Ok(pool)
}

/// A stored creator as a candidate: priced by the negotiated rate, else the score's estimate,
/// in the budget's currency; `None` when neither is in that currency.
fn stored(
    record: &ScoreRecord,
    key: &CreatorKey,
    rate: Option<i64>,
    deliverable: Deliverable,
    currency: &str,
    sketch: Option<AudienceSketch>,
) -> Option<(Candidate, resonance_proto::common::CreatorRef)> {
    let cost = rate.or_else(|| {
        let score =
            resonance_proto::scoring::CreatorScore::decode(record.detail.as_slice()).ok()?;
        let wanted = convert::deliverable_to_proto(deliverable) as i32;
        let price = score
            .value?
            .prices
            .into_iter()
            .find(|p| p.kind == wanted)?
            .price?;
        let price = convert::money_micros(&price).ok()?;
        (price.currency == currency).then_some(price.micros)
    })?;
    let authentic = record.followers as f64 * (1.0 - record.fake_share.unwrap_or(0.0));
    let candidate = Candidate {
        id: format!("creators/{}", record.creator_id),
        cost_micros: cost,
        engagements: record.expected_engagements,
        followers: record.followers,
        celebrity: record.tier == Tier::Mega,
        platform: Some(record.platform),
        niches: record.niches.iter().map(|(id, _)| id.clone()).collect(),
        audience: sketch.map_or(Audience::Unknown, Audience::Sketch),
        audience_size: authentic.max(0.0),
    };
    Some((candidate, creator_ref(key)))
}

fn outcome_to_proto(
    outcome: &Outcome,
    pool: &Pool,
    currency: &str,
    deliverable: Deliverable,
) -> pb::PlanOutcome {
    pb::PlanOutcome {
        selections: outcome
            .selections
            .iter()
            .map(|s| {
                let candidate = &pool.candidates[s.index];
                pb::PlanSelection {
                    candidate_id: candidate.id.clone(),
                    creator: pool.creators[s.index].clone(),
                    cost: Some(convert::money_from_micros(currency, candidate.cost_micros)),
                    expected_engagements: candidate.engagements,
                    marginal_reach: s.marginal,
                    deliverable: deliverable.as_str().to_owned(),
                }
            })
            .collect(),
        cost: Some(convert::money_from_micros(currency, outcome.cost_micros)),
        goal_value: outcome.value,
    }
}

impl CampaignApi {
    /// Stored creators as candidates: scores, sketches and negotiated rates for `keys`.
    async fn stored_pool(
        &self,
        creators: Vec<(i64, CreatorKey, Option<i64>)>,
        deliverable: Deliverable,
        currency: &str,
    ) -> Result<Pool, ApiError> {
        let ids: Vec<i64> = creators.iter().map(|(id, _, _)| *id).collect();
        let records = self.store.scores().records_of(&ids).await?;
        let mut sketches = self.store.creators().audiences_of(&ids).await?;
        let mut pool = Pool::default();
        for (id, key, rate) in creators {
            let Some(record) = records.get(&id) else {
                pool.skipped += 1;
                continue;
            };
            match stored(
                record,
                &key,
                rate,
                deliverable,
                currency,
                sketches.remove(&id),
            ) {
                Some((candidate, creator)) => {
                    pool.candidates.push(candidate);
                    pool.creators.push(Some(creator));
                }
                None => pool.skipped += 1,
            }
        }
        if pool.skipped > 0 {
            pool.notes.push(format!(
                "{} creators left out: not scored yet, or priced only in another currency than {currency}",
                pool.skipped
            ));
        }
        Ok(pool)
    }

    async fn roster_pool(
        &self,
        brand: BrandId,
        roster: &str,
        field: &str,
        deliverable: Deliverable,
        currency: &str,
    ) -> Result<Pool, ApiError> {
        let [roster_id] = parse_name(roster, field, ["rosters"])?;
        let entries = self
            .store
            .rosters()
            .list_entries(brand, roster_id, &[], None, NO_LIMIT)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("rosters/{roster_id}")))?;
        let mut unknown = 0;
        let mut creators = Vec::with_capacity(entries.len());
        for view in entries {
            let Some(id) = view.creator_id else {
                unknown += 1;
                continue;
            };
            let entry = view.entry.value;
            let rate = entry
                .rates
                .iter()
                .find(|r| r.deliverable == deliverable && r.price.currency == currency)
                .map(|r| r.price.micros);
            creators.push((id, entry.creator, rate));
        }
        let mut pool = self.stored_pool(creators, deliverable, currency).await?;
        if unknown > 0 {
            pool.skipped += unknown;
            pool.notes.push(format!(
                "{unknown} roster entries name creators the platform does not know yet"
            ));
        }
        Ok(pool)
    }

    async fn filter_pool(
        &self,
        filter: &pb::CandidateFilter,
        deliverable: Deliverable,
        currency: &str,
    ) -> Result<Pool, ApiError> {
        let platforms = filter
            .platforms
            .iter()
            .enumerate()
            .map(|(i, raw)| convert::platform(*raw).within(&format!("filter.platforms[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let tiers = filter
            .tiers
            .iter()
            .enumerate()
            .map(|(i, raw)| convert::tier(*raw).within(&format!("filter.tiers[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        if !(0.0..=100.0).contains(&filter.min_authenticity) {
            return Err(ValidationError::new(
                "filter.min_authenticity",
                format!("must be within 0-100 (got {})", filter.min_authenticity),
            )
            .into());
        }
        let limit = match filter.max_candidates {
            0 => DEFAULT_FILTER_CANDIDATES,
            n if n < 0 || n as u64 > MAX_FILTER_CANDIDATES => {
                return Err(ValidationError::new(
                    "filter.max_candidates",
                    format!("must be within 1-{MAX_FILTER_CANDIDATES} (got {n})"),
                )
                .into());
            }
            n => n as u64,
        };
        let hits = self
            .store
            .scores()
            .search(&SearchQuery {
                platforms,
                niches: filter
                    .niches
                    .iter()
                    .map(|n| n.trim().to_lowercase())
                    .collect(),
                tiers,
                min_authenticity: (filter.min_authenticity > 0.0)
                    .then_some(filter.min_authenticity),
                sort: SearchSort::Value,
                limit,
                ..SearchQuery::default()
            })
            .await?;
        let creators = hits
            .into_iter()
            .map(|hit| {
                let key = CreatorKey {
                    platform: hit.score.platform,
                    handle: hit.handle,
                };
                (hit.score.creator_id, key, None)
            })
            .collect();
        self.stored_pool(creators, deliverable, currency).await
    }

    pub(crate) async fn plan_inner(
        &self,
        request: Request<pb::PlanCampaignRequest>,
    ) -> Result<pb::PlanCampaignResponse, ApiError> {
        let brand = brand_of(&request)?;
        let deadline = deadline_of_call(self.plan_time_limit);
        let request = request.into_inner();
        let [id] = parse_name(&request.campaign, "campaign", ["campaigns"])?;
        let campaign = self.campaign(brand, id).await?;
        let goal = goal_of(request.goal, "goal")?.unwrap_or(campaign.value.goal);
        let budget = match &request.budget {
            Some(budget) => convert::money_micros(budget).within("budget")?,
            None => campaign.value.budget.clone(),
        };
        let currency = budget.currency.clone();
        let deliverable = if request.deliverable.is_empty() {
            Deliverable::Post
        } else {
            request.deliverable.parse().within("deliverable")?
        };
        let constraints = constraints(request.constraints.as_ref())?;
        let mut pool = match &request.candidates {
            Some(Candidates::Explicit(list)) => explicit(list, &currency)?,
            Some(Candidates::Roster(roster)) => {
                self.roster_pool(brand, roster, "roster", deliverable, &currency)
                    .await?
            }
            Some(Candidates::Filter(filter)) => {
                self.filter_pool(filter, deliverable, &currency).await?
            }
            None => match campaign.value.roster {
                Some(roster) => {
                    let name = format!("rosters/{roster}");
                    self.roster_pool(brand, &name, "campaign.roster", deliverable, &currency)
                        .await?
                }
                None => {
                    return Err(ValidationError::new(
                        "candidates",
                        "the campaign has no roster: give a roster, a filter or explicit candidates",
                    )
                    .into());
                }
            },
        };
        if goal == CampaignGoal::Conversions {
            pool.notes.push(
                "conversions are planned by expected authentic engagements, their best predictor \
                 the platform has"
                    .to_owned(),
            );
        }
        let problem = Problem {
            goal: match goal {
                CampaignGoal::Awareness => Goal::Reach,
                CampaignGoal::Engagement | CampaignGoal::Conversions => Goal::Engagement,
            },
            budget_micros: budget.micros,
            candidates: std::mem::take(&mut pool.candidates),
            constraints,
        };
        let config = self.planner.clone();
        // Planning is CPU work: off the async workers, and bounded by the deadline either way.
        let (problem, result) = tokio::task::spawn_blocking(move || {
            let result = planner::plan(&problem, &config, Some(deadline));
            (problem, result)
        })
        .await
        .map_err(|e| ApiError::Internal(format!("the planner stopped: {e}")))?;
        let explicit_source = matches!(request.candidates, Some(Candidates::Explicit(_)));
        let result = result.map_err(|error| match error {
            PlanError::Invalid(invalid) if invalid.field.starts_with("candidates[") => {
                if explicit_source {
                    // Candidate paths are the request's: `candidates[3]` is under its source.
                    ApiError::Invalid(invalid.within("explicit"))
                } else {
                    // Stored data the caller did not send and cannot fix.
                    ApiError::Internal(format!("a stored candidate is invalid: {invalid}"))
                }
            }
            PlanError::Invalid(mut invalid) => {
                if !explicit_source && invalid.message.starts_with("no candidate has the id") {
                    invalid.message.push_str(
                        " (stored creators not scored yet, or priced only in another currency, \
                         are not candidates; see candidates_skipped)",
                    );
                }
                ApiError::Invalid(invalid)
            }
            PlanError::DeadlineExceeded => ApiError::DeadlineExceeded(
                "the planner did not finish before the deadline; narrow the candidates or allow more time"
                    .to_owned(),
            ),
        })?;
        pool.candidates = problem.candidates;
        let mut notes = pool.notes.clone();
        if let Some(note) = &result.note {
            notes.insert(0, note.clone());
        }
        let response = pb::PlanCampaignResponse {
            plan: Some(outcome_to_proto(
                &result.plan,
                &pool,
                &currency,
                deliverable,
            )),
            upper_bound: result.upper_bound,
            gap: result.gap,
            algorithm: result.algorithm.as_str().to_owned(),
            guarantee: result.guarantee.statement.clone(),
            best_single_celebrity: result
                .best_single_celebrity
                .as_ref()
                .map(|o| outcome_to_proto(o, &pool, &currency, deliverable)),
            top_by_followers: Some(outcome_to_proto(
                &result.top_by_followers,
                &pool,
                &currency,
                deliverable,
            )),
            note: notes.join("; "),
            marginal_gain_evaluations: i64::try_from(result.evaluations).unwrap_or(i64::MAX),
            estimated: result.estimated,
            guarantee_ratio: result.guarantee.ratio,
            goal: goal_to_proto(goal),
            candidates_considered: i32::try_from(pool.candidates.len()).unwrap_or(i32::MAX),
            candidates_skipped: i32::try_from(pool.skipped).unwrap_or(i32::MAX),
        };
        if request.save {
            let now = Utc::now();
            if !self
                .store
                .campaigns()
                .save_plan(brand, id, response.encode_to_vec(), now)
                .await?
            {
                return Err(ApiError::NotFound(request.campaign));
            }
            // A draft with a plan that chose someone is planned; an empty plan is saved (with
            // its note) but moves nothing.
            let chose = response
                .plan
                .as_ref()
                .is_some_and(|plan| !plan.selections.is_empty());
            if chose && campaign.value.status == CampaignStatus::Draft {
                self.store
                    .campaigns()
                    .update(brand, id, None, now, |current| {
                        let mut next = current.value.clone();
                        if next.status == CampaignStatus::Draft {
                            next.status = CampaignStatus::Planned;
                        }
                        Ok::<_, ApiError>(next)
                    })
                    .await
                    .map_err(|e| change_failed(e, &request.campaign))?;
            }
        }
        Ok(response)
    }

    pub(crate) async fn get_plan_inner(
        &self,
        request: Request<pb::GetCampaignPlanRequest>,
    ) -> Result<pb::GetCampaignPlanResponse, ApiError> {
        let brand = brand_of(&request)?;
        let request = request.into_inner();
        let [id] = parse_name(&request.campaign, "campaign", ["campaigns"])?;
        self.campaign(brand, id).await?;
        let (bytes, saved_at) = self
            .store
            .campaigns()
            .plan(brand, id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("{}/plan", request.campaign)))?;
        let plan = pb::PlanCampaignResponse::decode(bytes.as_slice()).map_err(|e| {
            ApiError::Store(resonance_store::StoreError::Corrupt(format!(
                "campaign_plans.plan: {e}"
            )))
        })?;
        Ok(pb::GetCampaignPlanResponse {
            plan: Some(plan),
            save_time: Some(convert::timestamp(saved_at)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn plans_stop_at_the_calls_deadline_capped_at_the_limit() {
        const LIMIT: Duration = Duration::from_secs(30);
        let before = Instant::now();
        let unscoped = deadline_of_call(LIMIT);
        assert!(unscoped >= before + LIMIT && unscoped <= Instant::now() + LIMIT);
        let soon = tokio::time::Instant::now() + Duration::from_millis(250);
        let scoped =
            resonance_store::deadline::scope(soon, async { deadline_of_call(LIMIT) }).await;
        assert_eq!(scoped, soon.into_std());
        let late = tokio::time::Instant::now() + Duration::from_secs(3_600);
        let capped =
            resonance_store::deadline::scope(late, async { deadline_of_call(LIMIT) }).await;
        assert!(capped <= Instant::now() + LIMIT);
    }

    #[test]
    fn constraints_name_their_fields() {
        let wire = pb::PlanConstraints {
            min_creators: -1,
            ..Default::default()
        };
        assert_eq!(
            constraints(Some(&wire)).expect_err("invalid").field,
            "constraints.min_creators"
        );
        let wire = pb::PlanConstraints {
            quotas: vec![pb::Quota::default()],
            ..Default::default()
        };
        assert_eq!(
            constraints(Some(&wire)).expect_err("invalid").field,
            "constraints.quotas[0]"
        );
        let wire = pb::PlanConstraints {
            max_celebrities: Some(0),
            max_creators: 0,
            ..Default::default()
        };
        let parsed = constraints(Some(&wire)).expect("valid");
        assert_eq!(parsed.max_celebrities, Some(0));
        assert_eq!(parsed.max_creators, None);
    }
}
