use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::*;

/// SplitMix64: deterministic instances without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn candidate(id: usize, cost: i64, engagements: f64, members: Vec<u64>) -> Candidate {
    Candidate {
        id: format!("c{id}"),
        cost_micros: cost,
        engagements,
        followers: members.len() as u64 * 10,
        celebrity: false,
        platform: Some(Platform::Instagram),
        niches: Vec::new(),
        audience: Audience::Members(members),
        audience_size: 0.0,
    }
}

/// `n` creators with overlapping audiences drawn from a universe of `universe` members, each
/// audience a run around a centre (so that neighbours overlap) plus scattered members.
fn instance(seed: u64, n: usize, goal: Goal) -> Problem {
    let mut rng = Rng(seed);
    let universe = 400;
    let candidates: Vec<Candidate> = (0..n)
        .map(|i| {
            let size = 10 + rng.below(60);
            let centre = rng.below(universe);
            let mut members: Vec<u64> = (0..size)
                .map(|j| {
                    if j % 3 == 0 {
                        rng.below(universe)
                    } else {
                        (centre + j) % universe
                    }
                })
                .collect();
            members.sort_unstable();
            members.dedup();
            let cost = 1_000_000 * (5 + rng.below(40) as i64);
            let engagements = (members.len() as f64) * (0.5 + rng.below(100) as f64 / 100.0);
            let mut c = candidate(i, cost, engagements, members);
            c.celebrity = i % 7 == 0;
            c.followers = 1_000 + rng.below(1_000_000);
            c.niches = vec![["food", "travel", "fitness"][i % 3].to_owned()];
            c
        })
        .collect();
    let total: i64 = candidates.iter().map(|c| c.cost_micros).sum();
    Problem {
        goal,
        budget_micros: total / 3,
        candidates,
        constraints: Constraints::default(),
    }
}

fn value_of(problem: &Problem, chosen: &[usize]) -> f64 {
    match problem.goal {
        Goal::Engagement => chosen
            .iter()
            .map(|&i| problem.candidates[i].engagements)
            .sum(),
        Goal::Reach => {
            let mut members = HashSet::new();
            let mut unknown = 0.0;
            for &i in chosen {
                match &problem.candidates[i].audience {
                    Audience::Members(ids) => members.extend(ids.iter().copied()),
                    _ => unknown += problem.candidates[i].audience_size,
                }
            }
            members.len() as f64 + unknown
        }
    }
}

fn feasible(problem: &Problem, chosen: &[usize]) -> bool {
    let c = &problem.constraints;
    let cost: i64 = chosen
        .iter()
        .map(|&i| problem.candidates[i].cost_micros)
        .sum();
    let share = c.max_budget_share.map_or(i64::MAX, |s| {
        (problem.budget_micros as f64 * s).floor() as i64
    });
    let celebrities = chosen
        .iter()
        .filter(|&&i| problem.candidates[i].celebrity)
        .count();
    cost <= problem.budget_micros
        && chosen.len() >= c.min_creators
        && c.max_creators.is_none_or(|m| chosen.len() <= m)
        && c.max_celebrities.is_none_or(|m| celebrities <= m)
        && chosen
            .iter()
            .all(|&i| problem.candidates[i].cost_micros <= share)
        && c.required
            .iter()
            .all(|r| chosen.iter().any(|&i| &problem.candidates[i].id == r))
        && c.excluded
            .iter()
            .all(|r| chosen.iter().all(|&i| &problem.candidates[i].id != r))
        && c.quotas.iter().all(|q| {
            let n = chosen
                .iter()
                .filter(|&&i| q.matches(&problem.candidates[i]))
                .count();
            n >= q.min && q.max.is_none_or(|m| n <= m)
        })
}

/// The optimum by trying every subset.
fn brute_force(problem: &Problem) -> Option<f64> {
    let n = problem.candidates.len();
    assert!(n <= 16);
    (0..1_u32 << n)
        .filter_map(|mask| {
            let chosen: Vec<usize> = (0..n).filter(|i| mask & (1 << i) != 0).collect();
            feasible(problem, &chosen).then(|| value_of(problem, &chosen))
        })
        .max_by(f64::total_cmp)
}

fn indices(result: &PlanResult) -> Vec<usize> {
    result.plan.selections.iter().map(|s| s.index).collect()
}

fn heuristic_only() -> PlannerConfig {
    PlannerConfig {
        exact_max_candidates: 0,
        ..PlannerConfig::default()
    }
}

fn constrained(mut problem: Problem, variant: u64) -> Problem {
    let c = &mut problem.constraints;
    match variant % 4 {
        0 => {}
        1 => {
            c.min_creators = 2;
            c.max_creators = Some(4);
            c.max_celebrities = Some(1);
        }
        2 => {
            c.quotas = vec![Quota {
                key: QuotaKey::Niche("travel".into()),
                min: 2,
                max: Some(3),
            }];
            c.max_budget_share = Some(0.5);
        }
        _ => {
            c.required = vec!["c1".into()];
            c.excluded = vec!["c2".into()];
            c.max_celebrities = Some(0);
        }
    }
    problem
}

#[test]
fn exact_search_finds_the_optimum_of_small_instances() {
    for seed in 0..40 {
        let goal = if seed % 2 == 0 {
            Goal::Reach
        } else {
            Goal::Engagement
        };
        let problem = constrained(instance(seed, 12, goal), seed / 2);
        let optimum = brute_force(&problem);
        let result = plan(&problem, &PlannerConfig::default(), None).expect("plans");
        assert_eq!(result.algorithm, Algorithm::Exact, "seed {seed}");
        match optimum {
            Some(optimum) => {
                assert!(
                    (result.plan.value - optimum).abs() < 1e-6,
                    "seed {seed}: {} vs optimum {optimum}",
                    result.plan.value
                );
                assert!(feasible(&problem, &indices(&result)), "seed {seed}");
                assert!((result.upper_bound - optimum).abs() < 1e-6);
                assert_eq!(result.gap, 0.0);
            }
            None => {
                assert!(result.plan.selections.is_empty(), "seed {seed}");
                assert!(result.note.is_some());
            }
        }
    }
}

#[test]
fn heuristic_plans_are_feasible_near_optimal_and_never_above_their_bound() {
    let mut ratios = Vec::new();
    for seed in 100..180 {
        let goal = if seed % 2 == 0 {
            Goal::Reach
        } else {
            Goal::Engagement
        };
        let problem = constrained(instance(seed, 14, goal), seed / 2);
        let Some(optimum) = brute_force(&problem) else {
            continue;
        };
        let result = plan(&problem, &heuristic_only(), None).expect("plans");
        assert_eq!(result.algorithm, Algorithm::GreedyLocalSearch);
        let chosen = indices(&result);
        if chosen.is_empty() {
            // Minimums the heuristic could not meet are reported, never violated.
            assert!(result.note.is_some(), "seed {seed}");
            continue;
        }
        assert!(feasible(&problem, &chosen), "seed {seed}: {chosen:?}");
        assert!(
            (result.plan.value - value_of(&problem, &chosen)).abs() < 1e-6,
            "the reported value is the plan's"
        );
        assert!(
            result.upper_bound >= optimum - 1e-6,
            "seed {seed}: bound {} below the optimum {optimum}",
            result.upper_bound
        );
        assert!(result.plan.value >= result.guarantee.ratio * optimum - 1e-6);
        ratios.push(result.plan.value / optimum);
    }
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    assert!(ratios.len() > 50, "{} instances", ratios.len());
    assert!(mean > 0.97, "mean ratio to the optimum {mean}");
}

#[test]
fn plans_are_deterministic() {
    let problem = instance(7, 60, Goal::Reach);
    let first = plan(&problem, &PlannerConfig::default(), None).expect("plans");
    let second = plan(&problem, &PlannerConfig::default(), None).expect("plans");
    assert_eq!(first, second);
    assert!(first.gap >= 0.0 && first.upper_bound >= first.plan.value);
}

#[test]
fn overlap_makes_reach_prefer_different_audiences() {
    // Two creators share one audience; a third, dearer per member, reaches other people.
    let shared: Vec<u64> = (0..100).collect();
    let problem = Problem {
        goal: Goal::Reach,
        budget_micros: 20_000_000,
        candidates: vec![
            candidate(0, 10_000_000, 10.0, shared.clone()),
            candidate(1, 10_000_000, 10.0, shared),
            candidate(2, 10_000_000, 10.0, (1_000..1_080).collect()),
        ],
        constraints: Constraints::default(),
    };
    let result = plan(&problem, &PlannerConfig::default(), None).expect("plans");
    assert_eq!(indices(&result), vec![0, 2]);
    assert_eq!(result.plan.value, 180.0);
    assert_eq!(result.plan.selections[1].marginal, 80.0);
    // By follower count (1,000 each for 0 and 1), the baseline hires the overlapping pair.
    assert_eq!(result.top_by_followers.value, 100.0);
}

#[test]
fn sketched_audiences_estimate_overlap() {
    let sketch = |range: std::ops::Range<u64>| {
        let mut s = crate::audience::AudienceSketch::new();
        for id in range {
            s.insert_number(id);
        }
        Audience::Sketch(s)
    };
    let mut candidates = vec![
        candidate(0, 10_000_000, 0.0, Vec::new()),
        candidate(1, 10_000_000, 0.0, Vec::new()),
        candidate(2, 10_000_000, 0.0, (20_000..30_000).collect()),
    ];
    candidates[0].audience = sketch(0..20_000);
    candidates[1].audience = sketch(5_000..25_000);
    let problem = Problem {
        goal: Goal::Reach,
        budget_micros: 20_000_000,
        candidates,
        constraints: Constraints::default(),
    };
    let result = plan(&problem, &PlannerConfig::default(), None).expect("plans");
    assert!(result.estimated);
    // 0 and 1 reach 25,000 together; 0 and 2 reach 30,000 (the exact members were sketched).
    assert_eq!(indices(&result), vec![0, 2]);
    assert!(
        (result.plan.value - 30_000.0).abs() < 1_500.0,
        "{}",
        result.plan.value
    );
    assert!(result.upper_bound >= result.plan.value);
}

#[test]
fn unknown_audiences_count_as_disjoint() {
    let mut a = candidate(0, 1_000_000, 0.0, Vec::new());
    a.audience = Audience::Unknown;
    a.audience_size = 500.0;
    let b = candidate(1, 1_000_000, 0.0, (0..300).collect());
    let problem = Problem {
        goal: Goal::Reach,
        budget_micros: 2_000_000,
        candidates: vec![a, b],
        constraints: Constraints::default(),
    };
    let result = plan(&problem, &PlannerConfig::default(), None).expect("plans");
    assert_eq!(result.plan.value, 800.0);
}

#[test]
fn bad_input_is_refused_with_the_field() {
    let base = instance(1, 5, Goal::Engagement);
    let field = |problem: Problem| match plan(&problem, &PlannerConfig::default(), None) {
        Err(PlanError::Invalid(error)) => error.field,
        other => panic!("expected a validation error, got {other:?}"),
    };
    let mut p = base.clone();
    p.candidates[3].id = "c1".into();
    assert_eq!(field(p), "candidates[3].id");
    let mut p = base.clone();
    p.candidates[2].cost_micros = -1;
    assert_eq!(field(p), "candidates[2].cost");
    let mut p = base.clone();
    p.candidates[0].engagements = f64::NAN;
    assert_eq!(field(p), "candidates[0].expected_engagements");
    let mut p = base.clone();
    p.budget_micros = 0;
    assert_eq!(field(p), "budget");
    let mut p = base.clone();
    p.constraints.min_creators = 3;
    p.constraints.max_creators = Some(2);
    assert_eq!(field(p), "constraints.max_creators");
    let mut p = base.clone();
    p.constraints.required = vec!["c1".into()];
    p.constraints.excluded = vec!["c0".into(), "c1".into()];
    assert_eq!(field(p), "constraints.excluded[1]");
    let mut p = base.clone();
    p.constraints.required = vec!["nobody".into()];
    assert_eq!(field(p), "constraints.required[0]");
    let mut p = base.clone();
    p.constraints.max_budget_share = Some(1.5);
    assert_eq!(field(p), "constraints.max_budget_share_per_creator");
    let mut p = base.clone();
    p.constraints.required = vec!["c0".into(), "c1".into(), "c2".into(), "c3".into()];
    p.budget_micros = p.candidates[..4].iter().map(|c| c.cost_micros).sum::<i64>() - 1;
    assert_eq!(field(p), "constraints.required");
    let mut p = base;
    p.constraints.quotas = vec![Quota {
        key: QuotaKey::Niche("food".into()),
        min: 3,
        max: Some(1),
    }];
    assert_eq!(field(p), "constraints.quotas[0].max_creators");
}

#[test]
fn a_budget_that_affords_nobody_gives_an_empty_plan_with_the_reason() {
    let mut problem = instance(3, 10, Goal::Reach);
    problem.budget_micros = 1;
    let result = plan(&problem, &PlannerConfig::default(), None).expect("plans");
    assert!(result.plan.selections.is_empty());
    assert_eq!(result.plan.value, 0.0);
    assert_eq!(
        result.note.as_deref(),
        Some("the budget affords no eligible candidate")
    );
    assert_eq!(result.gap, 0.0);
}

#[test]
fn celebrities_are_limited_and_baselined() {
    let mut problem = instance(11, 40, Goal::Engagement);
    problem.constraints.max_celebrities = Some(1);
    let result = plan(&problem, &PlannerConfig::default(), None).expect("plans");
    let celebrities = indices(&result)
        .iter()
        .filter(|&&i| problem.candidates[i].celebrity)
        .count();
    assert!(celebrities <= 1);
    let single = result
        .best_single_celebrity
        .expect("celebrities are affordable");
    assert_eq!(single.selections.len(), 1);
    let best = problem
        .candidates
        .iter()
        .filter(|c| c.celebrity && c.cost_micros <= problem.budget_micros)
        .map(|c| c.engagements)
        .fold(0.0, f64::max);
    assert_eq!(single.value, best);
    assert!(result.plan.value >= single.value);
    // The follower baseline spends within the budget, largest accounts first.
    assert!(result.top_by_followers.cost_micros <= problem.budget_micros);
}

#[test]
fn a_passed_deadline_stops_the_search() {
    let problem = instance(5, 200, Goal::Reach);
    let past = Instant::now() - Duration::from_secs(1);
    assert_eq!(
        plan(&problem, &PlannerConfig::default(), Some(past)),
        Err(PlanError::DeadlineExceeded)
    );
}

#[test]
fn larger_instances_stay_within_the_bound_and_limits() {
    for seed in 0..6 {
        let mut problem = instance(seed, 200, Goal::Reach);
        problem.constraints.max_creators = Some(30);
        let result = plan(&problem, &PlannerConfig::default(), None).expect("plans");
        let chosen = indices(&result);
        assert!(feasible(&problem, &chosen));
        assert!(result.upper_bound >= result.plan.value);
        assert!(result.gap < 0.2, "seed {seed}: gap {}", result.gap);
    }
}

fn plain(id: &str, cost: i64, engagements: f64, niches: &[&str]) -> Candidate {
    Candidate {
        id: id.to_owned(),
        cost_micros: cost,
        engagements,
        followers: 1_000,
        celebrity: false,
        platform: None,
        niches: niches.iter().map(|n| (*n).to_owned()).collect(),
        audience: Audience::Unknown,
        audience_size: 0.0,
    }
}

#[test]
fn exact_search_finds_plans_the_heuristic_misses_under_minimums() {
    // Greedy takes a cheap, valuable "a" first and can then no longer afford quotas B and C;
    // d + c meets all three quotas for exactly the budget.
    let mut candidates: Vec<Candidate> = (0..25)
        .map(|i| plain(&format!("a{i}"), 2, 100.0, &["a"]))
        .collect();
    candidates.push(plain("b", 3, 1.0, &["b"]));
    candidates.push(plain("c", 4, 1.0, &["c"]));
    candidates.push(plain("d", 4, 10.0, &["a", "b"]));
    let quota = |niche: &str| Quota {
        key: QuotaKey::Niche(niche.to_owned()),
        min: 1,
        max: None,
    };
    let problem = Problem {
        goal: Goal::Engagement,
        budget_micros: 8,
        candidates,
        constraints: Constraints {
            quotas: vec![quota("a"), quota("b"), quota("c")],
            ..Constraints::default()
        },
    };
    let config = PlannerConfig {
        exact_max_candidates: 40,
        ..PlannerConfig::default()
    };
    let result = plan(&problem, &config, None).expect("plans");
    assert_eq!(result.algorithm, Algorithm::Exact);
    let ids: Vec<&str> = indices(&result)
        .iter()
        .map(|&i| problem.candidates[i].id.as_str())
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&"c") && ids.contains(&"d"), "{ids:?}");
    assert_eq!(result.plan.value, 11.0);
}

#[test]
fn free_creators_count_in_full_in_the_bound() {
    // The optimum is p2 and every free creator: 15 + 5 = 20.
    let mut candidates = vec![plain("p1", 1, 2.0, &[]), plain("p2", 10, 15.0, &[])];
    candidates.extend((0..5).map(|i| plain(&format!("z{i}"), 0, 1.0, &[])));
    let problem = Problem {
        goal: Goal::Engagement,
        budget_micros: 10,
        candidates,
        constraints: Constraints::default(),
    };
    for config in [PlannerConfig::default(), heuristic_only()] {
        let result = plan(&problem, &config, None).expect("plans");
        assert!(result.upper_bound >= 20.0, "bound {}", result.upper_bound);
        assert_eq!(result.plan.value, 20.0);
    }
}

#[test]
fn huge_costs_never_overflow_the_budget() {
    let budget = 9_000_000_000_000_000_000_i64;
    let problem = Problem {
        goal: Goal::Engagement,
        budget_micros: budget,
        candidates: vec![
            plain("x", 5_000_000_000_000_000_000, 10.0, &[]),
            plain("y", 5_000_000_000_000_000_000, 10.0, &[]),
        ],
        constraints: Constraints::default(),
    };
    for config in [PlannerConfig::default(), heuristic_only()] {
        let result = plan(&problem, &config, None).expect("plans");
        assert_eq!(result.plan.selections.len(), 1);
        assert!(result.plan.cost_micros <= budget);
    }
}

#[test]
fn a_creator_may_cost_exactly_the_share() {
    let problem = Problem {
        goal: Goal::Engagement,
        budget_micros: 100_000_000,
        candidates: vec![plain("x", 29_000_000, 10.0, &[])],
        constraints: Constraints {
            max_budget_share: Some(0.29),
            required: vec!["x".to_owned()],
            ..Constraints::default()
        },
    };
    let result = plan(&problem, &PlannerConfig::default(), None).expect("a $29 creator fits 29%");
    assert_eq!(result.plan.selections.len(), 1);
}
