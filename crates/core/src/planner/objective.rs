//! The goal as a set function over eligible candidates, and a running set that answers marginal
//! gains: `f(S) = (distinct members of S's audiences) + (sum of S's weights)`.
//!
//! For the engagement goal there are no audiences and the weights are expected engagements (a
//! modular function). For the reach goal, weights are the sizes of unknown audiences, and the
//! covered members are counted exactly (member ids mapped to dense indices, a count per member,
//! so that a creator can be removed again) or estimated (a running HyperLogLog union with its
//! harmonic sum, so that a marginal gain reads the candidate's registers once).

use crate::audience::{AudienceSketch, REGISTERS, estimate_from, register_weight};

use super::{Audience, Candidate, Goal};

/// Registers compared at once when looking for a rise.
const CHUNK: usize = 64;
/// Independent partial sums of a gain.
const LANES: usize = 8;

/// 2^-register in units of 2^-53.
fn fixed_weight(register: u8) -> u128 {
    1_u128 << (53 - u32::from(register).min(53))
}

fn to_float(fixed: u128) -> f64 {
    fixed as f64 / (1_u64 << 53) as f64
}

/// The estimate of a running union, 0 while it is empty.
fn union_estimate(sum: u128, zeros: usize) -> f64 {
    if zeros == REGISTERS {
        0.0
    } else {
        estimate_from(to_float(sum), zeros)
    }
}

/// A candidate's sketch registers: the problem's own, or made here from exact members.
#[derive(Debug)]
pub(crate) enum Registers<'a> {
    Borrowed(&'a [u8; REGISTERS]),
    Owned(Box<[u8; REGISTERS]>),
}

impl Registers<'_> {
    fn get(&self) -> &[u8; REGISTERS] {
        match self {
            Registers::Borrowed(registers) => registers,
            Registers::Owned(registers) => registers,
        }
    }
}

/// Who each eligible candidate reaches.
#[derive(Debug)]
pub(crate) enum Sets<'a> {
    /// Nobody is counted twice: the goal is modular.
    None,
    /// Dense member indices per candidate, sorted, and how many members there are.
    Exact {
        members: Vec<Vec<u32>>,
        universe: usize,
    },
    /// Registers per candidate (`None` for an unknown audience), borrowed from the problem
    /// unless made here from exact members.
    Sketch {
        registers: Vec<Option<Registers<'a>>>,
    },
}

/// The goal over the eligible candidates `0..len`.
#[derive(Debug)]
pub(crate) struct Objective<'a> {
    weights: Vec<f64>,
    sets: Sets<'a>,
}

impl<'a> Objective<'a> {
    /// The objective over `eligible` (indices into `candidates`), in that order.
    pub(crate) fn new(goal: Goal, candidates: &'a [Candidate], eligible: &[usize]) -> Self {
        let chosen = || eligible.iter().map(|&i| &candidates[i]);
        if goal == Goal::Engagement {
            return Self {
                weights: chosen().map(|c| c.engagements).collect(),
                sets: Sets::None,
            };
        }
        let weights = chosen()
            .map(|c| match c.audience {
                Audience::Unknown => c.audience_size,
                _ => 0.0,
            })
            .collect();
        let any_sketch = chosen().any(|c| matches!(c.audience, Audience::Sketch(_)));
        let any_members = chosen().any(|c| matches!(c.audience, Audience::Members(_)));
        let sets = if any_sketch {
            // One sketched audience makes every overlap an estimate: exact members are sketched
            // too, as ingestion would have sketched them.
            Sets::Sketch {
                registers: chosen()
                    .map(|c| match &c.audience {
                        Audience::Unknown => None,
                        Audience::Sketch(sketch) => Some(Registers::Borrowed(sketch.registers())),
                        Audience::Members(ids) => {
                            let mut sketch = AudienceSketch::new();
                            for &id in ids {
                                sketch.insert_number(id);
                            }
                            Some(Registers::Owned(Box::new(*sketch.registers())))
                        }
                    })
                    .collect(),
            }
        } else if any_members {
            let mut all: Vec<u64> = chosen()
                .flat_map(|c| match &c.audience {
                    Audience::Members(ids) => ids.as_slice(),
                    _ => &[],
                })
                .copied()
                .collect();
            all.sort_unstable();
            all.dedup();
            let members = chosen()
                .map(|c| match &c.audience {
                    Audience::Members(ids) => {
                        let mut dense: Vec<u32> = ids
                            .iter()
                            .filter_map(|id| all.binary_search(id).ok())
                            .map(|i| i as u32)
                            .collect();
                        dense.sort_unstable();
                        dense.dedup();
                        dense
                    }
                    _ => Vec::new(),
                })
                .collect();
            Sets::Exact {
                members,
                universe: all.len(),
            }
        } else {
            Sets::None
        };
        Self { weights, sets }
    }

    pub(crate) fn len(&self) -> usize {
        self.weights.len()
    }

    pub(crate) fn is_estimated(&self) -> bool {
        matches!(self.sets, Sets::Sketch { .. })
    }

    /// An empty running set.
    pub(crate) fn empty(&self) -> State<'_, 'a> {
        let cover = match &self.sets {
            Sets::None => Cover::None,
            Sets::Exact { universe, .. } => Cover::Exact {
                counts: vec![0; *universe],
                covered: 0,
            },
            Sets::Sketch { .. } => Cover::Sketch {
                union: Box::new([0; REGISTERS]),
                sum: REGISTERS as u128 * fixed_weight(0),
                zeros: REGISTERS,
                undo: Vec::new(),
            },
        };
        State {
            objective: self,
            chosen: Vec::new(),
            member: vec![false; self.len()],
            weight: 0.0,
            cover,
        }
    }
}

#[derive(Debug, Clone)]
enum Cover {
    None,
    Exact {
        counts: Vec<u32>,
        covered: usize,
    },
    Sketch {
        union: Box<[u8; REGISTERS]>,
        /// The harmonic sum in units of 2^-53 (registers never exceed 53): exact, so that
        /// adds and removes update it without drift.
        sum: u128,
        zeros: usize,
        /// Per chosen candidate (in `chosen` order), the registers it raised and their old values.
        undo: Vec<Vec<(u16, u8)>>,
    },
}

/// A set of chosen candidates and its value.
#[derive(Debug, Clone)]
pub(crate) struct State<'o, 'a> {
    objective: &'o Objective<'a>,
    chosen: Vec<usize>,
    member: Vec<bool>,
    weight: f64,
    cover: Cover,
}

impl State<'_, '_> {
    pub(crate) fn chosen(&self) -> &[usize] {
        &self.chosen
    }

    pub(crate) fn contains(&self, i: usize) -> bool {
        self.member[i]
    }

    pub(crate) fn value(&self) -> f64 {
        self.weight
            + match &self.cover {
                Cover::None => 0.0,
                Cover::Exact { covered, .. } => *covered as f64,
                Cover::Sketch { sum, zeros, .. } => union_estimate(*sum, *zeros),
            }
    }

    /// The work of one [`State::gain`] of `i`, in units of about 64 steps.
    pub(crate) fn gain_work(&self, i: usize) -> u64 {
        match &self.objective.sets {
            Sets::None => 0,
            Sets::Exact { members, .. } => members[i].len() as u64 / 64,
            Sets::Sketch { .. } => (REGISTERS / 64) as u64,
        }
    }

    /// The work of cloning this state, in the same units.
    pub(crate) fn clone_work(&self) -> u64 {
        let cover = match &self.cover {
            Cover::None => 0,
            Cover::Exact { counts, .. } => counts.len(),
            Cover::Sketch { undo, .. } => REGISTERS + undo.iter().map(Vec::len).sum::<usize>(),
        };
        ((self.member.len() + cover) / 64) as u64
    }

    /// `f(S + i) - f(S)`, never negative (a sketch estimate can dip when it switches estimator).
    pub(crate) fn gain(&self, i: usize) -> f64 {
        if self.member[i] {
            return 0.0;
        }
        let weight = self.objective.weights[i];
        weight
            + match (&self.cover, &self.objective.sets) {
                (Cover::Exact { counts, .. }, Sets::Exact { members, .. }) => members[i]
                    .iter()
                    .filter(|&&m| counts[m as usize] == 0)
                    .count()
                    as f64,
                (
                    Cover::Sketch {
                        union, sum, zeros, ..
                    },
                    Sets::Sketch { registers },
                ) => {
                    let Some(theirs) = &registers[i] else {
                        return weight;
                    };
                    // The harmonic sum falls by what the rising registers lose.
                    let mut lanes = [0.0_f64; LANES];
                    let mut filled = 0_usize;
                    let theirs = theirs.get();
                    // Against a large union few registers rise: find the chunks where any does
                    // with a comparison the compiler vectorises, then sum only those, in
                    // independent lanes so that the additions vectorise too.
                    for (mine, their) in union.chunks_exact(CHUNK).zip(theirs.chunks_exact(CHUNK)) {
                        let rises = mine
                            .iter()
                            .zip(their)
                            .fold(0_u8, |any, (m, t)| any | u8::from(t > m));
                        if rises == 0 {
                            continue;
                        }
                        for (m, t) in mine.chunks_exact(LANES).zip(their.chunks_exact(LANES)) {
                            for lane in 0..LANES {
                                // Branch-free: a register that does not rise adds nothing.
                                lanes[lane] += register_weight(m[lane])
                                    - register_weight(t[lane].max(m[lane]));
                                filled += usize::from(m[lane] == 0 && t[lane] > 0);
                            }
                        }
                    }
                    let new_sum = to_float(*sum) - lanes.iter().sum::<f64>();
                    let new_zeros = *zeros - filled;
                    (estimate_from(new_sum, new_zeros) - union_estimate(*sum, *zeros)).max(0.0)
                }
                _ => 0.0,
            }
    }

    /// Adds `i` (not already chosen).
    pub(crate) fn add(&mut self, i: usize) {
        debug_assert!(!self.member[i]);
        self.member[i] = true;
        self.chosen.push(i);
        self.weight += self.objective.weights[i];
        match (&mut self.cover, &self.objective.sets) {
            (Cover::Exact { counts, covered }, Sets::Exact { members, .. }) => {
                for &m in &members[i] {
                    let count = &mut counts[m as usize];
                    *covered += usize::from(*count == 0);
                    *count += 1;
                }
            }
            (
                Cover::Sketch {
                    union,
                    sum,
                    zeros,
                    undo,
                },
                Sets::Sketch { registers },
            ) => {
                let mut raised = Vec::new();
                if let Some(theirs) = &registers[i] {
                    for (j, (mine, &their)) in union.iter_mut().zip(theirs.get()).enumerate() {
                        if their > *mine {
                            raised.push((j as u16, *mine));
                            *zeros -= usize::from(*mine == 0);
                            *sum -= fixed_weight(*mine) - fixed_weight(their);
                            *mine = their;
                        }
                    }
                }
                undo.push(raised);
            }
            _ => {}
        }
    }

    /// Removes the candidate added last.
    pub(crate) fn pop(&mut self) {
        let Some(i) = self.chosen.pop() else {
            return;
        };
        self.member[i] = false;
        self.weight -= self.objective.weights[i];
        match (&mut self.cover, &self.objective.sets) {
            (Cover::Exact { counts, covered }, Sets::Exact { members, .. }) => {
                for &m in &members[i] {
                    let count = &mut counts[m as usize];
                    *count -= 1;
                    *covered -= usize::from(*count == 0);
                }
            }
            (
                Cover::Sketch {
                    union,
                    sum,
                    zeros,
                    undo,
                },
                Sets::Sketch { .. },
            ) => {
                for (j, old) in undo.pop().unwrap_or_default() {
                    let register = &mut union[usize::from(j)];
                    *sum += fixed_weight(old) - fixed_weight(*register);
                    *zeros += usize::from(old == 0);
                    *register = old;
                }
            }
            _ => {}
        }
    }

    /// Removes `i` wherever it was added, keeping the others in order. Returns how many
    /// candidates had to be added again (work comparable to as many evaluations).
    pub(crate) fn remove(&mut self, i: usize) -> u64 {
        let Some(position) = self.chosen.iter().position(|&c| c == i) else {
            return 0;
        };
        if !matches!(self.cover, Cover::Sketch { .. }) {
            // Counts and sums undo in any order.
            let last = self.chosen.len() - 1;
            self.chosen[position..].rotate_left(1);
            debug_assert_eq!(self.chosen[last], i);
            self.pop();
            return 0;
        }
        let later: Vec<usize> = self.chosen[position + 1..].to_vec();
        for _ in 0..=later.len() {
            self.pop();
        }
        let readded = later.len() as u64;
        for j in later {
            self.add(j);
        }
        readded
    }
}
