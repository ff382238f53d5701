//! The campaign planner: which creators to hire so that the campaign's goal is as large as
//! possible within its budget and constraints, with a bound on how good any plan could be.
//!
//! Two goals:
//! - [`Goal::Engagement`]: the sum of the chosen creators' expected authentic engagements. With
//!   only the budget this is a 0-1 knapsack.
//! - [`Goal::Reach`]: the number of distinct audience members the chosen creators reach, where
//!   audiences overlap: a budgeted maximum coverage problem, monotone submodular under a
//!   knapsack constraint. Audiences are exact member ids (overlap computed exactly), HyperLogLog
//!   sketches (overlap estimated; every figure is then an estimate), or unknown (the audience
//!   size counts as disjoint from everyone else's).
//!
//! Side constraints: minimum and maximum number of creators, a maximum share of the budget for
//! one creator, minimum and maximum counts per niche or platform, at most K celebrities (mega
//! tier), creators required or excluded.
//!
//! The search ([`plan`]) is exact by branch and bound when few candidates are eligible and the
//! search closes within a node limit; otherwise it is lazy greedy on marginal gain per cost,
//! started from the best single creators in turn (partial enumeration) and improved by local
//! search. The upper bound is the smaller of two relaxations that no plan can beat: the
//! fractional knapsack over marginal gains from the required creators, and the same from the plan
//! found (`f(OPT) <= f(S) + sum of OPT's gains over S`, true of any monotone submodular `f`).
//! `docs/planner.md` states the guarantees and limits.
//!
//! Plans are deterministic: ties break by candidate order and every work limit counts
//! evaluations, not time. A deadline only ever stops the search with an error.

mod objective;
mod search;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use crate::account::Platform;
use crate::audience::AudienceSketch;
use crate::error::ValidationError;

pub use search::{plain_greedy, plan};

/// What a plan maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// Expected authentic engagements, summed.
    Engagement,
    /// Distinct audience members reached.
    Reach,
}

/// Who a candidate's audience is.
#[derive(Debug, Clone, PartialEq)]
pub enum Audience {
    /// Unknown: counted as `audience_size` members shared with nobody else.
    Unknown,
    /// Member ids, exactly.
    Members(Vec<u64>),
    /// A HyperLogLog sketch of the members.
    Sketch(AudienceSketch),
}

/// A creator the planner may hire, with the price of the deliverable it would be hired for.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: String,
    /// In millionths of the budget's currency.
    pub cost_micros: i64,
    pub engagements: f64,
    pub followers: u64,
    /// Mega tier: counted against `max_celebrities`, and the best-single-celebrity baseline.
    pub celebrity: bool,
    pub platform: Option<Platform>,
    pub niches: Vec<String>,
    pub audience: Audience,
    /// The reach of a candidate whose audience is [`Audience::Unknown`].
    pub audience_size: f64,
}

/// What a quota counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum QuotaKey {
    Niche(String),
    Platform(Platform),
}

/// Bounds on how many chosen creators match a niche or platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    pub key: QuotaKey,
    pub min: usize,
    pub max: Option<usize>,
}

impl Quota {
    fn matches(&self, candidate: &Candidate) -> bool {
        match &self.key {
            QuotaKey::Niche(niche) => candidate.niches.iter().any(|n| n == niche),
            QuotaKey::Platform(platform) => candidate.platform == Some(*platform),
        }
    }
}

/// Constraints every plan must meet. `None` means no bound.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Constraints {
    pub min_creators: usize,
    pub max_creators: Option<usize>,
    /// Largest share of the budget one creator may cost, in (0, 1].
    pub max_budget_share: Option<f64>,
    pub max_celebrities: Option<usize>,
    pub quotas: Vec<Quota>,
    /// Candidate ids that must be chosen.
    pub required: Vec<String>,
    /// Candidate ids that must not be chosen.
    pub excluded: Vec<String>,
}

/// One planning problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub goal: Goal,
    pub budget_micros: i64,
    pub candidates: Vec<Candidate>,
    pub constraints: Constraints,
}

/// Work limits (`[roster.planner]`). Every limit counts work, not time, so the same problem
/// always gets the same plan.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlannerConfig {
    /// Branch and bound is tried when at most this many candidates are eligible.
    pub exact_max_candidates: usize,
    /// Branch and bound gives up (and the heuristic plan stands) after this many nodes.
    pub exact_max_nodes: u64,
    /// Greedy is restarted from each of this many best single creators (partial enumeration).
    pub enumeration_seeds: usize,
    /// Partial enumeration runs only while at most this many candidates are eligible.
    pub enumeration_max_candidates: usize,
    /// Local search stops after this many marginal-gain evaluations.
    pub local_search_max_evaluations: u64,
    /// Local search considers this many unchosen candidates (the best by gain per cost).
    pub local_search_pool: usize,
}

impl Default for PlannerConfig {
    fn default() -> Self {
        Self {
            exact_max_candidates: 30,
            exact_max_nodes: 200_000,
            enumeration_seeds: 24,
            enumeration_max_candidates: 2_000,
            local_search_max_evaluations: 100_000,
            local_search_pool: 1_000,
        }
    }
}

impl PlannerConfig {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.local_search_pool == 0 {
            return Err(ValidationError::new(
                "local_search_pool",
                "must be at least 1",
            ));
        }
        if self.enumeration_seeds == 0 {
            return Err(ValidationError::new(
                "enumeration_seeds",
                "must be at least 1 (the best single creator)",
            ));
        }
        Ok(())
    }
}

/// A chosen candidate and what it added when it was added.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Index into [`Problem::candidates`].
    pub index: usize,
    /// Goal value this candidate added over those listed before it.
    pub marginal: f64,
}

/// A set of chosen candidates, in the order their marginal values were counted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    pub selections: Vec<Selection>,
    pub cost_micros: i64,
    pub value: f64,
}

/// How the plan was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// Branch and bound proved the plan optimal.
    Exact,
    /// Lazy greedy with partial enumeration, then local search.
    GreedyLocalSearch,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Exact => "exact",
            Algorithm::GreedyLocalSearch => "greedy+local_search",
        }
    }
}

/// The approximation guarantee that holds for this plan, before looking at the bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Guarantee {
    /// The plan's value is at least this fraction of the optimum (0 when none is known a priori).
    pub ratio: f64,
    pub statement: String,
}

/// A plan with its bound, guarantee and baselines.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanResult {
    pub plan: Outcome,
    /// No plan meeting the constraints has a value above this.
    pub upper_bound: f64,
    /// `(upper_bound - value) / upper_bound`, 0 when the bound is 0.
    pub gap: f64,
    pub algorithm: Algorithm,
    pub guarantee: Guarantee,
    /// The one mega-tier candidate the budget affords that serves the goal best, if any.
    pub best_single_celebrity: Option<Outcome>,
    /// Candidates by follower count, largest first, each while the budget lasts.
    pub top_by_followers: Outcome,
    /// Why the plan is empty or what it could not meet.
    pub note: Option<String>,
    pub evaluations: u64,
    /// Audiences were sketched, so values and the bound are estimates.
    pub estimated: bool,
}

/// Why no plan was made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("the planner did not finish before the deadline")]
    DeadlineExceeded,
}

/// Counts evaluations (reported) and work (for the deadline), and enforces the deadline.
#[derive(Debug)]
pub(crate) struct Work {
    evaluations: u64,
    /// Work in units of about 64 elementary steps: an evaluation of a sketched gain is 64.
    units: u64,
    deadline: Option<Instant>,
}

impl Work {
    pub(crate) fn new(deadline: Option<Instant>) -> Self {
        Self {
            evaluations: 0,
            units: 0,
            deadline,
        }
    }

    /// Counts `n` marginal-gain evaluations (one unit of work each, at least).
    pub(crate) fn tick(&mut self, n: u64) -> Result<(), PlanError> {
        self.evaluations += n;
        self.units(n)
    }

    /// Counts work; reads the clock every 4,096 units (well under a millisecond).
    pub(crate) fn units(&mut self, n: u64) -> Result<(), PlanError> {
        let before = self.units;
        self.units = self.units.saturating_add(n);
        if before >> 12 != self.units >> 12
            && let Some(deadline) = self.deadline
            && Instant::now() >= deadline
        {
            return Err(PlanError::DeadlineExceeded);
        }
        Ok(())
    }

    pub(crate) fn evaluations(&self) -> u64 {
        self.evaluations
    }
}

/// Candidate indices by id, refusing duplicates; checks every number.
fn validate(problem: &Problem) -> Result<HashMap<&str, usize>, ValidationError> {
    if problem.budget_micros <= 0 {
        return Err(ValidationError::new("budget", "must be positive"));
    }
    let mut ids = HashMap::with_capacity(problem.candidates.len());
    for (i, candidate) in problem.candidates.iter().enumerate() {
        let field = format!("candidates[{i}]");
        if candidate.id.is_empty() {
            return Err(ValidationError::new(
                format!("{field}.id"),
                "must not be empty",
            ));
        }
        if let Some(first) = ids.insert(candidate.id.as_str(), i) {
            return Err(ValidationError::new(
                format!("{field}.id"),
                format!(
                    "duplicate of candidates[{first}] (\"{}\"); ids must be unique",
                    candidate.id
                ),
            ));
        }
        if candidate.cost_micros < 0 {
            return Err(ValidationError::new(
                format!("{field}.cost"),
                "must not be negative",
            ));
        }
        for (value, name) in [
            (candidate.engagements, "expected_engagements"),
            (candidate.audience_size, "audience_size"),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(ValidationError::new(
                    format!("{field}.{name}"),
                    format!("must be a finite number >= 0 (got {value})"),
                ));
            }
        }
    }
    let constraints = &problem.constraints;
    if let Some(max) = constraints.max_creators
        && max < constraints.min_creators
    {
        return Err(ValidationError::new(
            "constraints.max_creators",
            format!(
                "is below min_creators ({max} < {})",
                constraints.min_creators
            ),
        ));
    }
    if let Some(share) = constraints.max_budget_share
        && !(share > 0.0 && share <= 1.0)
    {
        return Err(ValidationError::new(
            "constraints.max_budget_share_per_creator",
            format!("must be in (0, 1] (got {share})"),
        ));
    }
    for (i, quota) in constraints.quotas.iter().enumerate() {
        if let Some(max) = quota.max
            && max < quota.min
        {
            return Err(ValidationError::new(
                format!("constraints.quotas[{i}].max_creators"),
                format!("is below min_creators ({max} < {})", quota.min),
            ));
        }
        if let Some(max) = constraints.max_creators
            && quota.min > max
        {
            return Err(ValidationError::new(
                format!("constraints.quotas[{i}].min_creators"),
                format!("exceeds the plan's max_creators ({} > {max})", quota.min),
            ));
        }
    }
    let mut required = HashSet::new();
    for (list, name) in [
        (&constraints.required, "required"),
        (&constraints.excluded, "excluded"),
    ] {
        for (i, id) in list.iter().enumerate() {
            if !ids.contains_key(id.as_str()) {
                return Err(ValidationError::new(
                    format!("constraints.{name}[{i}]"),
                    format!("no candidate has the id \"{id}\""),
                ));
            }
            if name == "required" {
                required.insert(id.as_str());
            } else if required.contains(id.as_str()) {
                return Err(ValidationError::new(
                    format!("constraints.{name}[{i}]"),
                    format!("\"{id}\" is both required and excluded"),
                ));
            }
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests;
