//! The search: eligibility, lazy greedy with partial enumeration, local search, branch and bound,
//! the upper bound and the baselines.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::time::Instant;

use crate::error::ValidationError;

use super::objective::{Objective, State};
use super::{
    Algorithm, Goal, Guarantee, Outcome, PlanError, PlanResult, PlannerConfig, Problem, Selection,
    Work, validate,
};

/// Relative improvement below which two values count as equal.
const EPSILON: f64 = 1e-9;

fn better(candidate: f64, incumbent: f64) -> bool {
    if !incumbent.is_finite() {
        // No incumbent yet (negative infinity): anything real beats it.
        return candidate > incumbent;
    }
    candidate > incumbent + EPSILON * incumbent.abs().max(1.0)
}

/// The problem over its pool: non-excluded candidates the budget affords. Baselines choose from
/// the whole pool; plans only from `allowed` ones (within the share limit, celebrities allowed).
#[derive(Debug)]
struct Prepared<'p> {
    problem: &'p Problem,
    /// Pool index -> candidate index.
    pool: Vec<usize>,
    allowed: Vec<bool>,
    /// Allowed pool indices, in pool order.
    choosable: Vec<usize>,
    costs: Vec<i64>,
    celebrity: Vec<bool>,
    /// Per pool index, the quotas it counts towards.
    quota_hits: Vec<Vec<usize>>,
    quota_min: Vec<usize>,
    quota_max: Vec<usize>,
    /// Choosable pool indices by cost, cheapest first, overall and per quota with a minimum.
    by_cost: Vec<usize>,
    by_cost_per_quota: Vec<Vec<usize>>,
    required: Vec<usize>,
    is_required: Vec<bool>,
    min_creators: usize,
    max_creators: usize,
    max_celebrities: usize,
    budget: i64,
}

/// Cost and counts of a chosen set, for the constraints.
#[derive(Debug, Clone)]
struct Tally {
    /// Wide enough that no sum of costs overflows.
    cost: i128,
    count: usize,
    celebrities: usize,
    quotas: Vec<usize>,
}

impl<'p> Prepared<'p> {
    fn new(problem: &'p Problem) -> Result<Self, ValidationError> {
        let ids = validate(problem)?;
        let constraints = &problem.constraints;
        let budget = problem.budget_micros;
        let excluded: std::collections::HashSet<usize> = constraints
            .excluded
            .iter()
            .filter_map(|id| ids.get(id.as_str()).copied())
            .collect();
        // The share limit in micros, rounded down after a thousandth of a micro of tolerance, so
        // that a creator may cost exactly the share however the product rounds (100 x 0.29).
        let share_limit = constraints.max_budget_share.map_or(budget, |share| {
            (budget as f64 * share + 1e-3).floor() as i64
        });
        let celebrities_allowed = constraints.max_celebrities != Some(0);
        let mut pool = Vec::new();
        let mut allowed = Vec::new();
        for (i, candidate) in problem.candidates.iter().enumerate() {
            if excluded.contains(&i) || candidate.cost_micros > budget {
                continue;
            }
            pool.push(i);
            allowed.push(
                candidate.cost_micros <= share_limit
                    && (celebrities_allowed || !candidate.celebrity),
            );
        }
        let position: std::collections::HashMap<usize, usize> =
            pool.iter().enumerate().map(|(k, &i)| (i, k)).collect();
        let mut required = Vec::new();
        let mut is_required = vec![false; pool.len()];
        for (r, id) in constraints.required.iter().enumerate() {
            let i = ids[id.as_str()];
            let field = format!("constraints.required[{r}]");
            let candidate = &problem.candidates[i];
            let Some(&k) = position.get(&i) else {
                return Err(ValidationError::new(
                    field,
                    format!("\"{id}\" costs more than the whole budget"),
                ));
            };
            if !allowed[k] {
                let why = if candidate.cost_micros > share_limit {
                    "costs more than max_budget_share_per_creator allows"
                } else {
                    "is a celebrity and max_celebrities is 0"
                };
                return Err(ValidationError::new(field, format!("\"{id}\" {why}")));
            }
            if !is_required[k] {
                is_required[k] = true;
                required.push(k);
            }
        }
        let costs: Vec<i64> = pool
            .iter()
            .map(|&i| problem.candidates[i].cost_micros)
            .collect();
        let celebrity: Vec<bool> = pool
            .iter()
            .map(|&i| problem.candidates[i].celebrity)
            .collect();
        let quota_hits: Vec<Vec<usize>> = pool
            .iter()
            .map(|&i| {
                constraints
                    .quotas
                    .iter()
                    .enumerate()
                    .filter(|(_, q)| q.matches(&problem.candidates[i]))
                    .map(|(q, _)| q)
                    .collect()
            })
            .collect();
        let choosable: Vec<usize> = (0..pool.len()).filter(|&k| allowed[k]).collect();
        let mut by_cost = choosable.clone();
        by_cost.sort_by_key(|&k| (costs[k], k));
        let by_cost_per_quota = constraints
            .quotas
            .iter()
            .enumerate()
            .map(|(q, quota)| {
                if quota.min == 0 {
                    return Vec::new();
                }
                by_cost
                    .iter()
                    .copied()
                    .filter(|&k| quota_hits[k].contains(&q))
                    .collect()
            })
            .collect();
        let prepared = Self {
            problem,
            pool,
            allowed,
            choosable,
            costs,
            celebrity,
            quota_hits,
            quota_min: constraints.quotas.iter().map(|q| q.min).collect(),
            quota_max: constraints
                .quotas
                .iter()
                .map(|q| q.max.unwrap_or(usize::MAX))
                .collect(),
            by_cost,
            by_cost_per_quota,
            required,
            is_required,
            min_creators: constraints.min_creators,
            max_creators: constraints.max_creators.unwrap_or(usize::MAX),
            max_celebrities: constraints.max_celebrities.unwrap_or(usize::MAX),
            budget,
        };
        prepared.check_required()?;
        Ok(prepared)
    }

    /// The required creators alone must fit every upper limit.
    fn check_required(&self) -> Result<(), ValidationError> {
        let tally = self.tally(&self.required);
        let field = "constraints.required";
        if tally.cost > i128::from(self.budget) {
            return Err(ValidationError::new(
                field,
                "the required creators cost more than the budget",
            ));
        }
        if tally.count > self.max_creators {
            return Err(ValidationError::new(
                field,
                "more creators are required than max_creators allows",
            ));
        }
        if tally.celebrities > self.max_celebrities {
            return Err(ValidationError::new(
                field,
                "more celebrities are required than max_celebrities allows",
            ));
        }
        for (q, &count) in tally.quotas.iter().enumerate() {
            if count > self.quota_max[q] {
                return Err(ValidationError::new(
                    field,
                    format!("the required creators exceed constraints.quotas[{q}].max_creators"),
                ));
            }
        }
        Ok(())
    }

    fn empty_tally(&self) -> Tally {
        Tally {
            cost: 0,
            count: 0,
            celebrities: 0,
            quotas: vec![0; self.quota_min.len()],
        }
    }

    fn tally(&self, chosen: &[usize]) -> Tally {
        let mut tally = self.empty_tally();
        for &k in chosen {
            self.count_in(&mut tally, k);
        }
        tally
    }

    fn count_in(&self, tally: &mut Tally, k: usize) {
        tally.cost += i128::from(self.costs[k]);
        tally.count += 1;
        tally.celebrities += usize::from(self.celebrity[k]);
        for &q in &self.quota_hits[k] {
            tally.quotas[q] += 1;
        }
    }

    fn count_out(&self, tally: &mut Tally, k: usize) {
        tally.cost -= i128::from(self.costs[k]);
        tally.count -= 1;
        tally.celebrities -= usize::from(self.celebrity[k]);
        for &q in &self.quota_hits[k] {
            tally.quotas[q] -= 1;
        }
    }

    /// Whether adding `k` keeps every upper limit.
    fn fits(&self, tally: &Tally, k: usize) -> bool {
        self.allowed[k]
            && tally.cost + i128::from(self.costs[k]) <= i128::from(self.budget)
            && tally.count < self.max_creators
            && (!self.celebrity[k] || tally.celebrities < self.max_celebrities)
            && self.quota_hits[k]
                .iter()
                .all(|&q| tally.quotas[q] < self.quota_max[q])
    }

    fn has_minimums(&self) -> bool {
        self.min_creators > 0 || self.quota_min.iter().any(|&m| m > 0)
    }

    fn meets_minimums(&self, tally: &Tally) -> bool {
        tally.count >= self.min_creators
            && tally
                .quotas
                .iter()
                .zip(&self.quota_min)
                .all(|(count, min)| count >= min)
    }

    /// A lower bound on what meeting the minimums still costs, given `state` and `taking`
    /// (about to be chosen): the cheapest other creators for the creator count, and for each
    /// quota. Also how many creators it looked at, as work.
    fn reserve(&self, tally: &Tally, state: &State<'_, '_>, taking: usize) -> (i128, u64) {
        if !self.has_minimums() {
            return (0, 0);
        }
        let mut scanned = 0_u64;
        let mut cheapest = |list: &[usize], need: usize| -> i128 {
            let mut sum = 0_i128;
            let mut found = 0;
            for &k in list {
                if found == need {
                    break;
                }
                scanned += 1;
                if k != taking && !state.contains(k) {
                    sum += i128::from(self.costs[k]);
                    found += 1;
                }
            }
            sum
        };
        let mut reserve = cheapest(&self.by_cost, self.min_creators.saturating_sub(tally.count));
        for (q, list) in self.by_cost_per_quota.iter().enumerate() {
            let need = self.quota_min[q].saturating_sub(tally.quotas[q]);
            if need > 0 {
                reserve = reserve.max(cheapest(list, need));
            }
        }
        (reserve, scanned)
    }

    /// Whether adding `k` keeps the limits and leaves enough budget for the minimums, and the
    /// work that took.
    fn can_take(&self, tally: &Tally, state: &State<'_, '_>, k: usize) -> (bool, u64) {
        if !self.fits(tally, k) {
            return (false, 1);
        }
        if !self.has_minimums() {
            return (true, 1);
        }
        let mut after = tally.clone();
        self.count_in(&mut after, k);
        let (reserve, scanned) = self.reserve(&after, state, k);
        (
            after.cost + reserve <= i128::from(self.budget),
            1 + scanned + self.quota_min.len() as u64,
        )
    }

    /// Whether any limit beyond the budget binds, so that no a-priori ratio is known.
    fn has_side_constraints(&self) -> bool {
        let celebrities = self
            .choosable
            .iter()
            .filter(|&&k| self.celebrity[k])
            .count();
        self.has_minimums()
            || self.max_creators != usize::MAX
            || !self.quota_min.is_empty()
            || celebrities > self.max_celebrities
    }
}

/// The budget left after `spent` (never more than the budget, never negative).
fn remaining(budget: i64, spent: i128) -> i64 {
    i64::try_from((i128::from(budget) - spent).max(0)).unwrap_or(budget)
}

/// Gain per unit of cost; a creator that costs nothing and adds something comes first.
fn ratio(gain: f64, cost: i64) -> f64 {
    if cost > 0 {
        gain / cost as f64
    } else if gain > 0.0 {
        f64::INFINITY
    } else {
        0.0
    }
}

/// `Entry::round` of an entry whose gain is only a bound.
const STALE: usize = usize::MAX;
/// `Entry::round` of an exact entry in a lazy order.
const FRESH: usize = 0;

/// A heap entry: a gain per cost that is an upper bound on the current one unless `fresh`.
#[derive(Debug)]
struct Entry {
    ratio: f64,
    gain: f64,
    index: usize,
    round: usize,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        // Best ratio first; among equals, the earlier candidate.
        self.ratio
            .total_cmp(&other.ratio)
            .then_with(|| other.index.cmp(&self.index))
    }
}

/// The search, with its objective and work counter.
struct Search<'p, 'o> {
    p: &'o Prepared<'p>,
    objective: &'o Objective<'p>,
    config: &'o PlannerConfig,
    work: Work,
}

impl<'p, 'o> Search<'p, 'o> {
    fn gain(&mut self, state: &State<'_, '_>, k: usize) -> Result<f64, PlanError> {
        self.work.tick(1)?;
        self.work.units(state.gain_work(k))?;
        Ok(state.gain(k))
    }

    /// [`Prepared::can_take`], with its work counted towards the deadline.
    fn can_take(
        &mut self,
        tally: &Tally,
        state: &State<'_, '_>,
        k: usize,
    ) -> Result<bool, PlanError> {
        let (ok, work) = self.p.can_take(tally, state, k);
        self.work.units(work)?;
        Ok(ok)
    }

    /// Adds creators while any fits: first towards unmet quota minimums (best gain per cost
    /// among those that count), then lazy greedy on gain per cost over `pool`, then the
    /// cheapest towards an unmet creator minimum. `bounds` are gains over a subset of `state`
    /// (upper bounds on the current ones), which spares evaluating everyone afresh.
    fn fill(
        &mut self,
        state: &mut State<'o, 'p>,
        tally: &mut Tally,
        pool: &[usize],
        banned: Option<usize>,
        bounds: Option<&[f64]>,
    ) -> Result<(), PlanError> {
        let p = self.p;
        let open = |state: &State<'_, '_>, k: usize| !state.contains(k) && Some(k) != banned;
        // Quota minimums first.
        while let Some(q) = (0..p.quota_min.len()).find(|&q| tally.quotas[q] < p.quota_min[q]) {
            let mut best: Option<(f64, usize)> = None;
            for &k in pool {
                if !open(state, k)
                    || !p.quota_hits[k].contains(&q)
                    || !self.can_take(tally, state, k)?
                {
                    continue;
                }
                let r = ratio(self.gain(state, k)?, p.costs[k]);
                if best.is_none_or(|(b, _)| r > b) {
                    best = Some((r, k));
                }
            }
            let Some((_, k)) = best else { break };
            state.add(k);
            p.count_in(tally, k);
        }
        // Lazy greedy: a stale entry's ratio bounds its fresh one from above (submodularity).
        let mut heap = BinaryHeap::with_capacity(pool.len());
        let mut round = 0_usize;
        for &k in pool {
            if !open(state, k) {
                continue;
            }
            let (gain, fresh) = match bounds {
                Some(bounds) => (bounds[k], usize::MAX),
                None => (self.gain(state, k)?, round),
            };
            if gain > 0.0 {
                heap.push(Entry {
                    ratio: ratio(gain, p.costs[k]),
                    gain,
                    index: k,
                    round: fresh,
                });
            }
        }
        while let Some(entry) = heap.pop() {
            let k = entry.index;
            if state.contains(k) {
                continue;
            }
            if entry.round != round {
                let gain = self.gain(state, k)?;
                if gain > 0.0 {
                    heap.push(Entry {
                        ratio: ratio(gain, p.costs[k]),
                        gain,
                        index: k,
                        round,
                    });
                }
                continue;
            }
            // Limits only tighten as the set grows: a candidate that does not fit now never will.
            if entry.gain > 0.0 && self.can_take(tally, state, k)? {
                state.add(k);
                p.count_in(tally, k);
                round += 1;
            }
        }
        // The creator minimum, cheapest first.
        while tally.count < p.min_creators {
            let mut next = None;
            for &k in &p.by_cost {
                if open(state, k) && self.can_take(tally, state, k)? {
                    next = Some(k);
                    break;
                }
            }
            let Some(k) = next else { break };
            state.add(k);
            p.count_in(tally, k);
        }
        Ok(())
    }

    /// Greedy from the required creators, then from each of the best single creators as a
    /// forced first choice; the best result.
    fn greedy(
        &mut self,
        base: &State<'o, 'p>,
        base_gains: &[f64],
    ) -> Result<(State<'o, 'p>, Tally), PlanError> {
        let p = self.p;
        let base_tally = p.tally(base.chosen());
        let seeds = if p.choosable.len() <= self.config.enumeration_max_candidates {
            self.config.enumeration_seeds
        } else {
            1
        };
        let mut by_value: Vec<usize> = p
            .choosable
            .iter()
            .copied()
            .filter(|&k| !base.contains(k) && p.fits(&base_tally, k))
            .collect();
        by_value.sort_by(|&a, &b| base_gains[b].total_cmp(&base_gains[a]).then(a.cmp(&b)));
        let mut best: Option<(State<'o, 'p>, Tally)> = None;
        let starts = std::iter::once(None).chain(by_value.iter().take(seeds).copied().map(Some));
        for seed in starts {
            let mut state = base.clone();
            let mut tally = base_tally.clone();
            if let Some(k) = seed {
                // Upper limits were checked; the seed must still leave room for the minimums.
                if !self.can_take(&tally, &state, k)? {
                    continue;
                }
                state.add(k);
                p.count_in(&mut tally, k);
            }
            let choosable = &p.choosable;
            self.fill(&mut state, &mut tally, choosable, None, Some(base_gains))?;
            let replace = match &best {
                None => true,
                Some((incumbent, incumbent_tally)) => {
                    let (feasible, was) =
                        (p.meets_minimums(&tally), p.meets_minimums(incumbent_tally));
                    (feasible && !was)
                        || (feasible == was && better(state.value(), incumbent.value()))
                }
            };
            if replace {
                best = Some((state, tally));
            }
        }
        Ok(best.unwrap_or_else(|| (base.clone(), base_tally)))
    }

    /// Swaps: drop one chosen creator, take the unchosen creator that adds most in its place,
    /// refill greedily; keep the first change that improves the plan and start over, until none
    /// does or the evaluation limit is reached.
    fn local_search(
        &mut self,
        state: &mut State<'o, 'p>,
        tally: &mut Tally,
        base_gains: &[f64],
    ) -> Result<(), PlanError> {
        let p = self.p;
        let mut pool: Vec<usize> = p.choosable.clone();
        pool.sort_by(|&a, &b| {
            ratio(base_gains[b], p.costs[b])
                .total_cmp(&ratio(base_gains[a], p.costs[a]))
                .then(a.cmp(&b))
        });
        pool.truncate(self.config.local_search_pool);
        // Replacements are tried by their gain over the required creators, largest first: an
        // upper bound on their gain now, so the scan stops once no bound beats the best found.
        let mut by_gain = pool.clone();
        by_gain.sort_by(|&a, &b| base_gains[b].total_cmp(&base_gains[a]).then(a.cmp(&b)));
        // Keep the pool in candidate order, so that ties resolve as everywhere else.
        pool.sort_unstable();
        let limit = self.work.evaluations() + self.config.local_search_max_evaluations;
        'search: loop {
            let current = state.value();
            let chosen: Vec<usize> = state
                .chosen()
                .iter()
                .copied()
                .filter(|&k| !p.is_required[k])
                .collect();
            for j in chosen {
                if self.work.evaluations() >= limit {
                    break 'search;
                }
                let mut trial = state.clone();
                self.work.units(trial.clone_work())?;
                let mut trial_tally = tally.clone();
                let readded = trial.remove(j);
                self.work.tick(readded)?;
                p.count_out(&mut trial_tally, j);
                let mut best: Option<(f64, usize)> = None;
                for &k in &by_gain {
                    if best.is_some_and(|(b, _)| base_gains[k] <= b) {
                        break;
                    }
                    if k == j || trial.contains(k) || !self.can_take(&trial_tally, &trial, k)? {
                        continue;
                    }
                    let gain = self.gain(&trial, k)?;
                    if best.is_none_or(|(b, _)| gain > b) {
                        best = Some((gain, k));
                    }
                }
                if let Some((_, k)) = best {
                    trial.add(k);
                    p.count_in(&mut trial_tally, k);
                }
                self.fill(
                    &mut trial,
                    &mut trial_tally,
                    &pool,
                    Some(j),
                    Some(base_gains),
                )?;
                if p.meets_minimums(&trial_tally) && better(trial.value(), current) {
                    *state = trial;
                    *tally = trial_tally;
                    continue 'search;
                }
            }
            break;
        }
        Ok(())
    }

    /// Branch and bound over the choosable creators, best gain per cost first. Returns the best
    /// plan that beats `incumbent`, if any, and whether the search closed within the node limit.
    fn branch_and_bound(
        &mut self,
        base: &State<'o, 'p>,
        base_gains: &[f64],
        incumbent: f64,
    ) -> Result<(Option<Vec<usize>>, bool), PlanError> {
        let p = self.p;
        let mut order: Vec<usize> = p
            .choosable
            .iter()
            .copied()
            // A creator that adds nothing may still be needed to meet a minimum.
            .filter(|&k| !base.contains(k) && (base_gains[k] > 0.0 || p.has_minimums()))
            .collect();
        order.sort_by(|&a, &b| {
            ratio(base_gains[b], p.costs[b])
                .total_cmp(&ratio(base_gains[a], p.costs[a]))
                .then(a.cmp(&b))
        });
        let mut node = Node {
            state: base.clone(),
            tally: p.tally(base.chosen()),
            best: incumbent,
            best_set: None,
            nodes: 0,
            closed: true,
        };
        self.descend(&order, 0, &mut node)?;
        Ok((node.best_set, node.closed))
    }

    fn descend(
        &mut self,
        order: &[usize],
        at: usize,
        node: &mut Node<'o, 'p>,
    ) -> Result<(), PlanError> {
        let p = self.p;
        node.nodes += 1;
        if node.nodes > self.config.exact_max_nodes {
            node.closed = false;
            return Ok(());
        }
        let value = node.state.value();
        if p.meets_minimums(&node.tally) && better(value, node.best) {
            node.best = value;
            node.best_set = Some(node.state.chosen().to_vec());
        }
        if at == order.len() {
            return Ok(());
        }
        let capacity = remaining(p.budget, node.tally.cost);
        let mut items = Vec::with_capacity(order.len() - at);
        for &k in &order[at..] {
            if p.costs[k] <= capacity {
                items.push((self.gain(&node.state, k)?, p.costs[k]));
            }
        }
        let room = p.max_creators.saturating_sub(node.tally.count);
        if !better(
            value + knapsack_bound(&mut items, capacity, room),
            node.best,
        ) {
            return Ok(());
        }
        let k = order[at];
        if p.fits(&node.tally, k) {
            node.state.add(k);
            p.count_in(&mut node.tally, k);
            self.descend(order, at + 1, node)?;
            node.state.pop();
            p.count_out(&mut node.tally, k);
            if !node.closed {
                return Ok(());
            }
        }
        self.descend(order, at + 1, node)
    }

    /// `f(S)` plus the best fractional use of `capacity` on gains over `S` by creators not in
    /// `S` (and no more than the `room` largest gains): no plan can do better (submodularity).
    /// `bounds` are gains over a subset of `S`, upper bounds on the gains over `S`, so gains are
    /// evaluated lazily, best bound first, and only while a bound can still change the result.
    fn bound_from(
        &mut self,
        state: &State<'_, '_>,
        bounds: &[f64],
        capacity: i64,
        room: usize,
    ) -> Result<f64, PlanError> {
        let p = self.p;
        let open: Vec<usize> = p
            .choosable
            .iter()
            .copied()
            .filter(|&k| !state.contains(k) && p.costs[k] <= capacity && bounds[k] > 0.0)
            .collect();
        // Taken in order of exact gain per cost: the knapsack's linear relaxation.
        let mut left = capacity as f64;
        let mut fractional = 0.0;
        self.lazily(
            state,
            bounds,
            &open,
            |gain, k| ratio(gain, p.costs[k]),
            |gain, k| {
                let cost = p.costs[k] as f64;
                if cost <= left {
                    fractional += gain;
                    left -= cost;
                    true
                } else {
                    fractional += gain * left / cost;
                    false
                }
            },
        )?;
        let mut bound = fractional;
        if room < open.len() {
            let (mut largest, mut taken) = (0.0, 0);
            self.lazily(
                state,
                bounds,
                &open,
                |gain, _| gain,
                |gain, _| {
                    largest += gain;
                    taken += 1;
                    taken < room
                },
            )?;
            bound = bound.min(largest);
        }
        Ok(state.value() + bound)
    }

    /// Hands `consume` the exact gains over `state` of `open` creators in descending order of
    /// `key` (which must grow with the gain), while it returns true and gains are positive.
    /// Gains are evaluated lazily from the upper bounds `bounds`: a creator is evaluated only
    /// when its bound reaches the top.
    fn lazily(
        &mut self,
        state: &State<'_, '_>,
        bounds: &[f64],
        open: &[usize],
        key: impl Fn(f64, usize) -> f64,
        mut consume: impl FnMut(f64, usize) -> bool,
    ) -> Result<(), PlanError> {
        let mut heap: BinaryHeap<Entry> = open
            .iter()
            .map(|&k| Entry {
                ratio: key(bounds[k], k),
                gain: bounds[k],
                index: k,
                round: STALE,
            })
            .collect();
        while let Some(entry) = heap.pop() {
            if entry.round == STALE {
                let gain = self.gain(state, entry.index)?;
                if gain > 0.0 {
                    heap.push(Entry {
                        ratio: key(gain, entry.index),
                        gain,
                        index: entry.index,
                        round: FRESH,
                    });
                }
            } else if !consume(entry.gain, entry.index) {
                break;
            }
        }
        Ok(())
    }

    /// An outcome with marginal values counted in the order `chosen` lists them.
    fn outcome(&mut self, chosen: &[usize]) -> Result<Outcome, PlanError> {
        let mut state = self.objective.empty();
        let mut selections = Vec::with_capacity(chosen.len());
        let mut cost = 0_i64;
        for &k in chosen {
            let marginal = self.gain(&state, k)?;
            state.add(k);
            cost = cost.saturating_add(self.p.costs[k]);
            selections.push(Selection {
                index: self.p.pool[k],
                marginal,
            });
        }
        Ok(Outcome {
            selections,
            cost_micros: cost,
            value: state.value(),
        })
    }

    /// The mega-tier creator the budget affords that serves the goal best.
    fn best_single_celebrity(&mut self) -> Result<Option<Outcome>, PlanError> {
        let empty = self.objective.empty();
        let mut best: Option<(f64, usize)> = None;
        for k in 0..self.p.pool.len() {
            if self.p.celebrity[k] {
                let gain = self.gain(&empty, k)?;
                if best.is_none_or(|(b, _)| gain > b) {
                    best = Some((gain, k));
                }
            }
        }
        best.map(|(_, k)| self.outcome(&[k])).transpose()
    }

    /// Creators by follower count, largest first, each taken while the budget lasts.
    fn top_by_followers(&mut self) -> Result<Outcome, PlanError> {
        let candidates = &self.p.problem.candidates;
        let mut order: Vec<usize> = (0..self.p.pool.len()).collect();
        order.sort_by_key(|&k| (std::cmp::Reverse(candidates[self.p.pool[k]].followers), k));
        let mut left = self.p.budget;
        let chosen: Vec<usize> = order
            .into_iter()
            .filter(|&k| {
                let fits = self.p.costs[k] <= left;
                if fits {
                    left -= self.p.costs[k];
                }
                fits
            })
            .collect();
        self.outcome(&chosen)
    }
}

struct Node<'o, 'p> {
    state: State<'o, 'p>,
    tally: Tally,
    best: f64,
    best_set: Option<Vec<usize>>,
    nodes: u64,
    closed: bool,
}

/// The best value of items `(gain, cost)` within `capacity` when items may be taken in part
/// (the knapsack's linear relaxation), and no more than the `room` largest gains: both relax
/// the real choice, so the smaller bounds it.
fn knapsack_bound(items: &mut [(f64, i64)], capacity: i64, room: usize) -> f64 {
    items.sort_by(|a, b| ratio(b.0, b.1).total_cmp(&ratio(a.0, a.1)));
    let mut left = capacity as f64;
    let mut fractional = 0.0;
    for &(gain, cost) in items.iter() {
        if gain <= 0.0 {
            continue;
        }
        let cost = cost as f64;
        if cost <= left {
            fractional += gain;
            left -= cost;
        } else {
            fractional += gain * left / cost;
            break;
        }
    }
    if room >= items.len() {
        return fractional;
    }
    items.sort_by(|a, b| b.0.total_cmp(&a.0));
    let largest: f64 = items.iter().take(room).map(|i| i.0.max(0.0)).sum();
    fractional.min(largest)
}

/// Plans `problem`: see the module documentation. A passed `deadline` stops the search with
/// [`PlanError::DeadlineExceeded`].
pub fn plan(
    problem: &Problem,
    config: &PlannerConfig,
    deadline: Option<Instant>,
) -> Result<PlanResult, PlanError> {
    let prepared = Prepared::new(problem)?;
    let p = &prepared;
    let objective = Objective::new(problem.goal, &problem.candidates, &p.pool);
    let mut search = Search {
        p,
        objective: &objective,
        config,
        work: Work::new(deadline),
    };

    let mut base = objective.empty();
    for &k in &p.required {
        base.add(k);
    }
    let base_tally = p.tally(base.chosen());
    let mut base_gains = vec![0.0; p.pool.len()];
    for &k in &p.choosable {
        base_gains[k] = search.gain(&base, k)?;
    }
    let room = p.max_creators.saturating_sub(base_tally.count);
    let capacity = remaining(p.budget, base_tally.cost);
    let mut items: Vec<(f64, i64)> = p
        .choosable
        .iter()
        .filter(|&&k| !base.contains(k) && p.costs[k] <= capacity)
        .map(|&k| (base_gains[k], p.costs[k]))
        .collect();
    let mut upper_bound = base.value() + knapsack_bound(&mut items, capacity, room);

    let (mut state, mut tally) = search.greedy(&base, &base_gains)?;
    search.local_search(&mut state, &mut tally, &base_gains)?;
    let mut feasible = p.meets_minimums(&tally);
    let mut chosen = state.chosen().to_vec();
    upper_bound =
        upper_bound.min(search.bound_from(&state, &base_gains, p.budget, p.max_creators)?);

    let mut algorithm = Algorithm::GreedyLocalSearch;
    if !objective.is_estimated() && p.choosable.len() <= config.exact_max_candidates {
        let incumbent = if feasible {
            state.value()
        } else {
            f64::NEG_INFINITY
        };
        let (found, closed) = search.branch_and_bound(&base, &base_gains, incumbent)?;
        if let Some(set) = found {
            chosen = set;
            feasible = true;
        }
        if closed {
            algorithm = Algorithm::Exact;
        }
    }
    drop(state);

    let mut note = None;
    let plan = if feasible {
        search.outcome(&chosen)?
    } else {
        note = Some(if algorithm == Algorithm::Exact {
            "no plan within the budget meets the minimum counts (min_creators or a quota's \
             min_creators): proven by exhaustive search"
                .to_owned()
        } else {
            "found no plan within the budget that meets the minimum counts (min_creators or a \
             quota's min_creators)"
                .to_owned()
        });
        Outcome::default()
    };
    if plan.selections.is_empty() && note.is_none() {
        note = Some(if p.choosable.is_empty() {
            "the budget affords no eligible candidate".to_owned()
        } else {
            "no eligible candidate adds to the goal".to_owned()
        });
    }
    if algorithm == Algorithm::Exact {
        upper_bound = if feasible { plan.value } else { 0.0 };
    }
    // The plan's own value bounds the optimum from below; rounding must not put the bound under it.
    let mut upper_bound = upper_bound.max(plan.value);
    if objective.is_estimated() {
        // Estimates err both ways, and a search that maximises them favours those that err
        // high: the bound carries a margin of three standard errors.
        upper_bound *= 1.0 + 3.0 * crate::audience::STANDARD_ERROR;
    }
    let gap = if upper_bound > 0.0 {
        (upper_bound - plan.value) / upper_bound
    } else {
        0.0
    };
    let guarantee = guarantee(problem.goal, algorithm, p, objective.is_estimated());
    let best_single_celebrity = search.best_single_celebrity()?;
    let top_by_followers = search.top_by_followers()?;
    Ok(PlanResult {
        plan,
        upper_bound,
        gap,
        algorithm,
        guarantee,
        best_single_celebrity,
        top_by_followers,
        note,
        evaluations: search.work.evaluations(),
        estimated: objective.is_estimated(),
    })
}

fn guarantee(goal: Goal, algorithm: Algorithm, p: &Prepared<'_>, estimated: bool) -> Guarantee {
    let on = if estimated {
        " (on the sketched audiences' estimates)"
    } else {
        ""
    };
    if algorithm == Algorithm::Exact {
        return Guarantee {
            ratio: 1.0,
            statement: "optimal: branch and bound closed, every other plan is provably no better"
                .to_owned(),
        };
    }
    if p.has_side_constraints() {
        return Guarantee {
            ratio: 0.0,
            statement: format!(
                "no a-priori ratio holds under count, quota or celebrity limits; the plan is \
                 within `gap` of the upper bound{on}"
            ),
        };
    }
    match goal {
        Goal::Engagement => Guarantee {
            ratio: 0.5,
            statement: format!(
                "at least 1/2 of the optimum: greedy by value per cost, compared with the best \
                 single creator (knapsack); the plan is within `gap` of the upper bound{on}"
            ),
        },
        Goal::Reach => Guarantee {
            ratio: 1.0 - (-0.5_f64).exp(),
            statement: format!(
                "at least 1 - 1/sqrt(e) = 0.393 of the optimum: greedy by marginal reach per \
                 cost, compared with the best single creator (Khuller, Moss & Naor 1999, \
                 budgeted maximum coverage); the plan is within `gap` of the upper bound{on}"
            ),
        },
    }
}

/// Plain greedy, for comparison with [`plan`]: each round evaluates the marginal gain of every
/// open candidate and takes the best gain per cost that fits the budget and upper limits. Returns
/// the outcome and how many marginal gains it evaluated; lazy greedy reaches the same choices
/// with far fewer.
pub fn plain_greedy(
    problem: &Problem,
    deadline: Option<Instant>,
) -> Result<(Outcome, u64), PlanError> {
    let prepared = Prepared::new(problem)?;
    let p = &prepared;
    let objective = Objective::new(problem.goal, &problem.candidates, &p.pool);
    let config = PlannerConfig::default();
    let mut search = Search {
        p,
        objective: &objective,
        config: &config,
        work: Work::new(deadline),
    };
    let mut state = objective.empty();
    for &k in &p.required {
        state.add(k);
    }
    let mut tally = p.tally(state.chosen());
    let mut open: Vec<usize> = p
        .choosable
        .iter()
        .copied()
        .filter(|&k| !state.contains(k))
        .collect();
    loop {
        open.retain(|&k| p.fits(&tally, k));
        let mut best: Option<(f64, usize)> = None;
        for &k in &open {
            let gain = search.gain(&state, k)?;
            let r = ratio(gain, p.costs[k]);
            if gain > 0.0 && best.is_none_or(|(b, _)| r > b) {
                best = Some((r, k));
            }
        }
        let Some((_, k)) = best else { break };
        state.add(k);
        p.count_in(&mut tally, k);
        open.retain(|&other| other != k);
    }
    let evaluations = search.work.evaluations();
    Ok((search.outcome(state.chosen())?, evaluations))
}
