//! Campaign planner benchmarks (`bench/planner.sh` runs all three and the MILP comparison):
//!
//! - `quality --out DIR [--instances N]`: N generated instances of 20 to 200 candidates with
//!   overlapping audiences (exact member ids), planned; writes `DIR/instances.jsonl` and
//!   `DIR/plans.jsonl` for `bench/planner_milp.py`, which solves each exactly and compares.
//! - `scale [--candidates N] [--creators K] [--plain]`: N candidates with HyperLogLog audience
//!   sketches and a budget that buys about K of them; prints time and marginal-gain evaluations,
//!   beside plain greedy's (run with `--plain`, or counted by that rule's formula otherwise).
//! - `nethept --data FILE [--out DIR]`: the NetHEPT co-authorship network, each node a creator
//!   whose audience is its neighbours; the planner beside plain greedy and the follower baseline.
//!
//! Deterministic: every instance comes from a fixed seed.

#![allow(
    unused_crate_dependencies,
    reason = "a bench binary links every dependency of the crate"
)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use resonance_core::AudienceSketch;
use resonance_core::planner::{
    self, Audience, Candidate, Constraints, Goal, PlannerConfig, Problem, Quota, QuotaKey,
};
use serde_json::json;

/// SplitMix64.
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
        self.next() % n.max(1)
    }

    /// Uniform in [low, high).
    fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }
}

const NICHES: [&str; 5] = ["food", "fitness", "beauty", "travel", "business"];

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    // `cargo bench` appends `--bench`.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("quality") => quality(&args),
        Some("scale") => scale(&args),
        Some("nethept") => nethept(&args),
        _ => {
            eprintln!(
                "usage: planner quality --out DIR [--instances N] | scale [--candidates N] \
                 [--creators K] [--plain] | nethept --data FILE [--out DIR]"
            );
            std::process::exit(2);
        }
    }
}

/// One quality instance: communities of members, each creator mostly reaching its own.
fn quality_instance(index: usize) -> (String, Problem) {
    let sizes = [20, 50, 100, 150, 200];
    let n = sizes[index % sizes.len()];
    let mut rng = Rng(0x5EED_0000 + index as u64);
    let communities = (n / 10).max(2) as u64;
    let block = 60_u64;
    let universe = communities * block;
    let mut candidates = Vec::with_capacity(n);
    for i in 0..n {
        let home = rng.below(communities);
        let neighbour = (home + 1) % communities;
        let celebrity = rng.below(100) < 3;
        let size = if celebrity {
            80 + rng.below(120)
        } else {
            8 + rng.below(40)
        };
        let members: BTreeSet<u64> = (0..size)
            .map(|_| match rng.below(10) {
                0..7 => home * block + rng.below(block),
                7..9 => neighbour * block + rng.below(block),
                _ => rng.below(universe),
            })
            .collect();
        let reach = members.len() as f64;
        let dollars = 50.0 + reach * 10.0 * rng.uniform(0.6, 1.6);
        candidates.push(Candidate {
            id: format!("c{i}"),
            cost_micros: (dollars * 1e6).round() as i64,
            engagements: (reach * rng.uniform(0.01, 0.08) * 100.0).round() / 10.0,
            followers: members.len() as u64 * 100,
            celebrity,
            platform: None,
            niches: vec![NICHES[home as usize % NICHES.len()].to_owned()],
            audience: Audience::Members(members.into_iter().collect()),
            audience_size: 0.0,
        });
    }
    let total: i64 = candidates.iter().map(|c| c.cost_micros).sum();
    let budget = (total as f64 * rng.uniform(0.08, 0.2)) as i64;
    let goal = if index % 3 == 2 {
        Goal::Engagement
    } else {
        Goal::Reach
    };
    let constraints = match index % 5 {
        3 => Constraints {
            max_creators: Some(8 + rng.below(8) as usize),
            max_celebrities: Some(1),
            ..Constraints::default()
        },
        4 => Constraints {
            quotas: vec![Quota {
                key: QuotaKey::Niche(NICHES[index % NICHES.len()].to_owned()),
                min: 2,
                max: Some(6),
            }],
            max_budget_share: Some(0.15),
            ..Constraints::default()
        },
        _ => Constraints::default(),
    };
    let problem = Problem {
        goal,
        budget_micros: budget,
        candidates,
        constraints,
    };
    (format!("q{index:03}"), problem)
}

fn instance_json(name: &str, problem: &Problem) -> serde_json::Value {
    let c = &problem.constraints;
    json!({
        "name": name,
        "goal": match problem.goal { Goal::Reach => "reach", Goal::Engagement => "engagement" },
        "budget": problem.budget_micros,
        "min_creators": c.min_creators,
        "max_creators": c.max_creators.unwrap_or(0),
        "max_share": c.max_budget_share.unwrap_or(0.0),
        "max_celebrities": c.max_celebrities,
        "quotas": c.quotas.iter().map(|q| match &q.key {
            QuotaKey::Niche(niche) => json!({"niche": niche, "min": q.min, "max": q.max.unwrap_or(0)}),
            QuotaKey::Platform(_) => unreachable!("the generator makes niche quotas"),
        }).collect::<Vec<_>>(),
        "required": c.required,
        "excluded": c.excluded,
        "candidates": problem.candidates.iter().map(|cand| json!({
            "id": cand.id,
            "cost": cand.cost_micros,
            "engagements": cand.engagements,
            "celebrity": cand.celebrity,
            "niches": cand.niches,
            "followers": cand.followers,
            "members": match &cand.audience { Audience::Members(m) => m.clone(), _ => Vec::new() },
            "weight": cand.audience_size,
        })).collect::<Vec<_>>(),
    })
}

/// A plan as `bench/planner_milp.py` reads it.
fn plan_json(
    name: &str,
    problem: &Problem,
    result: &planner::PlanResult,
    seconds: f64,
) -> serde_json::Value {
    json!({
        "name": name,
        "value": result.plan.value,
        "upper_bound": result.upper_bound,
        "guarantee": result.guarantee.ratio,
        "algorithm": result.algorithm.as_str(),
        "seconds": seconds,
        "candidates": problem.candidates.len(),
        "chosen": result.plan.selections.len(),
        "evaluations": result.evaluations,
    })
}

fn create(path: PathBuf) -> std::io::BufWriter<std::fs::File> {
    std::io::BufWriter::new(
        std::fs::File::create(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
}

fn quality(args: &[String]) {
    let out = PathBuf::from(arg(args, "--out").expect("--out DIR"));
    std::fs::create_dir_all(&out).expect("output directory");
    let count: usize = arg(args, "--instances").map_or(125, |n| n.parse().expect("a count"));
    let mut instances = create(out.join("instances.jsonl"));
    let mut plans = create(out.join("plans.jsonl"));
    let config = PlannerConfig::default();
    let (mut exact, mut total_seconds, mut gap_sum) = (0, 0.0, 0.0);
    for index in 0..count {
        let (name, problem) = quality_instance(index);
        let started = Instant::now();
        let result = planner::plan(&problem, &config, None).expect("plans");
        let seconds = started.elapsed().as_secs_f64();
        total_seconds += seconds;
        gap_sum += result.gap;
        exact += usize::from(result.algorithm == planner::Algorithm::Exact);
        writeln!(instances, "{}", instance_json(&name, &problem)).expect("write");
        writeln!(plans, "{}", plan_json(&name, &problem, &result, seconds)).expect("write");
    }
    instances.flush().expect("write");
    plans.flush().expect("write");
    println!(
        "planned {count} instances in {:.1} ms ({exact} exact); mean gap to the planner's own \
         bound {:.2}%; files in {}",
        total_seconds * 1e3,
        100.0 * gap_sum / count as f64,
        out.display()
    );
}

/// `n` candidates whose audiences are unions of a few blocks of their community, one block of
/// another community, and a few hundred members of their own.
/// Who each scale candidate really reaches: its blocks and its own members.
struct TrueAudience {
    blocks: Vec<u64>,
    own: u64,
}

/// The exact number of people a set of scale candidates reaches.
fn true_reach(truth: &[TrueAudience], outcome: &planner::Outcome) -> u64 {
    let mut blocks = std::collections::HashSet::new();
    let mut own = 0;
    for selection in &outcome.selections {
        let audience = &truth[selection.index];
        blocks.extend(audience.blocks.iter().copied());
        own += audience.own;
    }
    blocks.len() as u64 * 2_500 + own
}

fn scale_problem(n: usize, creators: usize) -> (Problem, Vec<TrueAudience>) {
    const BLOCK: u64 = 2_500;
    const BLOCKS_PER_COMMUNITY: u64 = 8;
    let communities = (n / 50).max(4) as u64;
    let mut rng = Rng(0x5CA1E);
    let blocks: Vec<AudienceSketch> = (0..communities * BLOCKS_PER_COMMUNITY)
        .map(|b| {
            let mut sketch = AudienceSketch::new();
            for m in 0..BLOCK {
                sketch.insert_number(b * BLOCK + m);
            }
            sketch
        })
        .collect();
    let mut next_personal = communities * BLOCKS_PER_COMMUNITY * BLOCK;
    let mut candidates = Vec::with_capacity(n);
    let mut truth = Vec::with_capacity(n);
    for i in 0..n {
        let home = rng.below(communities);
        let mut sketch = AudienceSketch::new();
        let mut mine = Vec::new();
        for _ in 0..(1 + rng.below(4)) {
            let block = home * BLOCKS_PER_COMMUNITY + rng.below(BLOCKS_PER_COMMUNITY);
            sketch.merge(&blocks[block as usize]);
            mine.push(block);
        }
        let other = rng.below(blocks.len() as u64);
        sketch.merge(&blocks[other as usize]);
        mine.push(other);
        let own = 100 + rng.below(400);
        for _ in 0..own {
            sketch.insert_number(next_personal);
            next_personal += 1;
        }
        truth.push(TrueAudience { blocks: mine, own });
        let size = sketch.estimate();
        let celebrity = rng.below(1_000) == 0;
        candidates.push(Candidate {
            id: format!("c{i}"),
            cost_micros: ((40.0 + size * 0.01 * rng.uniform(0.5, 1.5)) * 1e6) as i64,
            engagements: size * rng.uniform(0.01, 0.06),
            followers: size as u64,
            celebrity,
            platform: None,
            niches: vec![NICHES[home as usize % NICHES.len()].to_owned()],
            audience: Audience::Sketch(sketch),
            audience_size: 0.0,
        });
    }
    let mean = candidates.iter().map(|c| c.cost_micros).sum::<i64>() / n as i64;
    let problem = Problem {
        goal: Goal::Reach,
        budget_micros: mean * creators as i64,
        candidates,
        constraints: Constraints::default(),
    };
    (problem, truth)
}

fn scale(args: &[String]) {
    let n: usize = arg(args, "--candidates").map_or(100_000, |v| v.parse().expect("a count"));
    let creators: usize = arg(args, "--creators").map_or(300, |v| v.parse().expect("a count"));
    let generated = Instant::now();
    let (problem, truth) = scale_problem(n, creators);
    eprintln!(
        "generated {n} sketched audiences in {:.1} s",
        generated.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let result = planner::plan(&problem, &PlannerConfig::default(), None).expect("plans");
    let seconds = started.elapsed().as_secs_f64();
    let mut table = String::new();
    let _ = writeln!(
        table,
        "{:<26} {:>7} {:>11} {:>11} {:>11} {:>7} {:>8} {:>12}",
        "scale: reach, sketches",
        "chosen",
        "estimated",
        "true reach",
        "bound",
        "gap",
        "seconds",
        "evaluations"
    );
    let gap = format!("{:.2}%", 100.0 * result.gap);
    let row = |table: &mut String, name: &str, outcome: &planner::Outcome, figures: [&str; 4]| {
        let [bound, gap, seconds, evaluations] = figures;
        let _ = writeln!(
            table,
            "{:<26} {:>7} {:>11.0} {:>11} {:>11} {:>7} {:>8} {:>12}",
            name,
            outcome.selections.len(),
            outcome.value,
            true_reach(&truth, outcome),
            bound,
            gap,
            seconds,
            evaluations
        );
    };
    row(
        &mut table,
        &format!("planner ({n} candidates)"),
        &result.plan,
        [
            &format!("{:.0}", result.upper_bound),
            &gap,
            &format!("{seconds:.3}"),
            &result.evaluations.to_string(),
        ],
    );
    if args.iter().any(|a| a == "--plain") {
        let started = Instant::now();
        let (outcome, evaluations) = planner::plain_greedy(&problem, None).expect("plans");
        let seconds = started.elapsed().as_secs_f64();
        row(
            &mut table,
            "plain greedy",
            &outcome,
            ["-", "-", &format!("{seconds:.3}"), &evaluations.to_string()],
        );
    } else {
        // Plain greedy evaluates every open candidate in every round: at least this many.
        let picks = result.plan.selections.len() as u64;
        let evaluations = (picks + 1) * n as u64 - picks * (picks + 1) / 2;
        let _ = writeln!(
            table,
            "{:<26} {:>7} {:>11} {:>11} {:>11} {:>7} {:>8} {:>12}",
            "plain greedy (counted)", "-", "-", "-", "-", "-", "-", evaluations
        );
    }
    row(
        &mut table,
        "top by followers",
        &result.top_by_followers,
        ["-", "-", "-", "-"],
    );
    print!("{table}");
}

fn nethept(args: &[String]) {
    let path = arg(args, "--data").expect("--data FILE (NetHEPT.txt)");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut lines = text.lines();
    let nodes: usize = lines
        .next()
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("a header with the node count");
    let mut neighbours: Vec<BTreeSet<u64>> = vec![BTreeSet::new(); nodes];
    for line in lines {
        let mut parts = line.split_whitespace();
        let (Some(u), Some(v)) = (parts.next(), parts.next()) else {
            continue;
        };
        let (u, v): (usize, usize) = (u.parse().expect("a node"), v.parse().expect("a node"));
        if u != v {
            neighbours[u].insert(v as u64);
            neighbours[v].insert(u as u64);
        }
    }
    let mut rng = Rng(0x4E7);
    let candidates: Vec<Candidate> = neighbours
        .into_iter()
        .enumerate()
        .map(|(i, members)| {
            let size = members.len() as f64;
            Candidate {
                id: format!("n{i}"),
                cost_micros: ((100.0 + 20.0 * size * rng.uniform(0.8, 1.2)) * 1e6) as i64,
                engagements: size,
                followers: members.len() as u64,
                celebrity: false,
                platform: None,
                niches: Vec::new(),
                audience: Audience::Members(members.into_iter().collect()),
                audience_size: 0.0,
            }
        })
        .collect();
    let mut table = String::new();
    let _ = writeln!(
        table,
        "{:<34} {:>7} {:>9} {:>9} {:>7} {:>9} {:>12}",
        "nethept: reach, exact audiences",
        "chosen",
        "value",
        "bound",
        "gap",
        "seconds",
        "evaluations"
    );
    let mut instances = arg(args, "--out").map(|dir| {
        std::fs::create_dir_all(&dir).expect("output directory");
        (
            create(PathBuf::from(&dir).join("nethept-instances.jsonl")),
            create(PathBuf::from(&dir).join("nethept-plans.jsonl")),
        )
    });
    for budget_dollars in [5_000_i64, 20_000, 80_000] {
        let problem = Problem {
            goal: Goal::Reach,
            budget_micros: budget_dollars * 1_000_000,
            candidates: candidates.clone(),
            constraints: Constraints::default(),
        };
        let started = Instant::now();
        let result = planner::plan(&problem, &PlannerConfig::default(), None).expect("plans");
        let seconds = started.elapsed().as_secs_f64();
        let _ = writeln!(
            table,
            "{:<34} {:>7} {:>9.0} {:>9.1} {:>6.2}% {:>9.3} {:>12}",
            format!("planner, budget ${budget_dollars}"),
            result.plan.selections.len(),
            result.plan.value,
            result.upper_bound,
            100.0 * result.gap,
            seconds,
            result.evaluations
        );
        let started = Instant::now();
        let (plain, evaluations) = planner::plain_greedy(&problem, None).expect("plans");
        let _ = writeln!(
            table,
            "{:<34} {:>7} {:>9.0} {:>9} {:>7} {:>9.3} {:>12}",
            "  plain greedy",
            plain.selections.len(),
            plain.value,
            "-",
            "-",
            started.elapsed().as_secs_f64(),
            evaluations
        );
        let _ = writeln!(
            table,
            "{:<34} {:>7} {:>9.0}",
            "  top by followers",
            result.top_by_followers.selections.len(),
            result.top_by_followers.value
        );
        if let Some((instances, plans)) = instances.as_mut() {
            let name = format!("nethept-{budget_dollars}");
            writeln!(instances, "{}", instance_json(&name, &problem)).expect("write");
            writeln!(plans, "{}", plan_json(&name, &problem, &result, seconds)).expect("write");
        }
    }
    print!("{table}");
}
