//! The fake-follower classifier: logistic regression over features of a follower's profile
//! that do not depend on one data set's quirks (log-scaled counts, the following/followers
//! ratio, an empty profile, digits in the username, mass following).
//!
//! Training is Newton's method (iteratively reweighted least squares) with an L2 penalty on
//! standardised features: deterministic, a dozen iterations, no tuning. The trained model is a
//! small JSON document. Without a model, [`rule_based`] applies documented rules.

use serde::{Deserialize, Serialize};

use crate::follower::FollowerProfile;

/// The features, in model order.
pub const FEATURES: [&str; 12] = [
    "ln(1 + followers)",
    "ln(1 + following)",
    "ln(1 + media_count)",
    "ln((1 + following) / (1 + followers))",
    "has_profile_picture",
    "is_private",
    "has_bio",
    "ln(1 + bio_length)",
    "username digit share",
    "username_length",
    "no posts",
    "follows more than 1,500 accounts",
];

const N: usize = FEATURES.len();

/// Mass followers follow more than this many accounts (the rule-based fallback's threshold).
pub const MASS_FOLLOWING: u64 = 1_500;

/// A follower's features, in [`FEATURES`] order.
pub fn features(follower: &FollowerProfile) -> [f64; N] {
    let ln = |v: u64| (v as f64).ln_1p();
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    [
        ln(follower.followers),
        ln(follower.following),
        ln(follower.media_count),
        ((1.0 + follower.following as f64) / (1.0 + follower.followers as f64)).ln(),
        flag(follower.has_profile_picture),
        flag(follower.is_private),
        flag(follower.bio_length > 0),
        f64::from(follower.bio_length).ln_1p(),
        f64::from(follower.username_digit_count) / f64::from(follower.username_length.max(1)),
        f64::from(follower.username_length),
        flag(follower.media_count == 0),
        flag(follower.following > MASS_FOLLOWING),
    ]
}

/// A trained classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FakeFollowerModel {
    /// "logistic-regression/1".
    pub kind: String,
    pub features: Vec<String>,
    pub means: Vec<f64>,
    pub scales: Vec<f64>,
    pub weights: Vec<f64>,
    pub bias: f64,
    /// A follower is called fake at or above this probability.
    pub threshold: f64,
    /// Where the training data came from and under which license.
    pub trained_on: String,
}

/// How a model was judged by cross-validation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Evaluation {
    pub folds: usize,
    pub samples: usize,
    pub accuracy: f64,
    /// Of the followers called fake, the share that are.
    pub precision: f64,
    /// Of the fake followers, the share called fake.
    pub recall: f64,
    pub balanced_accuracy: f64,
}

/// Training settings.
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    /// L2 penalty on the weights (not the bias), on standardised features.
    pub l2: f64,
    pub threshold: f64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            l2: 1.0,
            threshold: 0.5,
        }
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl FakeFollowerModel {
    pub const KIND: &'static str = "logistic-regression/1";

    /// The probability that `follower` is fake.
    pub fn probability(&self, follower: &FollowerProfile) -> f64 {
        let x = features(follower);
        let z = self.bias
            + x.iter()
                .zip(&self.means)
                .zip(&self.scales)
                .zip(&self.weights)
                .map(|(((x, mean), scale), weight)| weight * (x - mean) / scale)
                .sum::<f64>();
        sigmoid(z)
    }

    pub fn is_fake(&self, follower: &FollowerProfile) -> bool {
        self.probability(follower) >= self.threshold
    }

    /// Checks a loaded model's shape.
    pub fn validate(&self) -> Result<(), String> {
        if self.kind != Self::KIND {
            return Err(format!(
                "model kind {:?}, expected {:?}",
                self.kind,
                Self::KIND
            ));
        }
        let all = [&self.means, &self.scales, &self.weights];
        if self.features.len() != N || all.iter().any(|v| v.len() != N) {
            return Err(format!("the model must have {N} features"));
        }
        if self.scales.iter().any(|s| !(s.is_finite() && *s > 0.0))
            || !self.bias.is_finite()
            || self
                .weights
                .iter()
                .chain(&self.means)
                .any(|v| !v.is_finite())
        {
            return Err("the model has non-finite or zero-scale parameters".to_owned());
        }
        Ok(())
    }

    /// Trains on labelled followers (`true` = fake). Needs both classes.
    pub fn train(
        samples: &[(FollowerProfile, bool)],
        options: TrainOptions,
        trained_on: &str,
    ) -> Result<Self, String> {
        let fakes = samples.iter().filter(|(_, fake)| *fake).count();
        if fakes == 0 || fakes == samples.len() {
            return Err("training needs both fake and real followers".to_owned());
        }
        let rows: Vec<[f64; N]> = samples.iter().map(|(f, _)| features(f)).collect();
        let labels: Vec<f64> = samples
            .iter()
            .map(|(_, fake)| if *fake { 1.0 } else { 0.0 })
            .collect();
        let count = rows.len() as f64;
        let mut means = [0.0; N];
        let mut scales = [0.0; N];
        for j in 0..N {
            means[j] = rows.iter().map(|r| r[j]).sum::<f64>() / count;
            let variance = rows.iter().map(|r| (r[j] - means[j]).powi(2)).sum::<f64>() / count;
            scales[j] = if variance > 1e-12 {
                variance.sqrt()
            } else {
                1.0
            };
        }
        let standard: Vec<[f64; N]> = rows
            .iter()
            .map(|r| std::array::from_fn(|j| (r[j] - means[j]) / scales[j]))
            .collect();

        // Parameters: weights 0..N, bias N. Newton steps on the penalised log-likelihood.
        let mut theta = [0.0; N + 1];
        for _ in 0..50 {
            let mut gradient = [0.0; N + 1];
            let mut hessian = [[0.0; N + 1]; N + 1];
            for (x, y) in standard.iter().zip(&labels) {
                let z = theta[N] + (0..N).map(|j| theta[j] * x[j]).sum::<f64>();
                let p = sigmoid(z);
                let w = (p * (1.0 - p)).max(1e-12);
                let xa: [f64; N + 1] = std::array::from_fn(|j| if j < N { x[j] } else { 1.0 });
                for a in 0..=N {
                    gradient[a] += (p - y) * xa[a];
                    for b in 0..=N {
                        hessian[a][b] += w * xa[a] * xa[b];
                    }
                }
            }
            for j in 0..N {
                gradient[j] += options.l2 * theta[j];
                hessian[j][j] += options.l2;
            }
            let step = solve(hessian, gradient).ok_or("training did not converge")?;
            let mut largest: f64 = 0.0;
            for j in 0..=N {
                theta[j] -= step[j];
                largest = largest.max(step[j].abs());
            }
            if largest < 1e-9 {
                break;
            }
        }
        let model = Self {
            kind: Self::KIND.to_owned(),
            features: FEATURES.iter().map(|f| (*f).to_owned()).collect(),
            means: means.to_vec(),
            scales: scales.to_vec(),
            weights: theta[..N].to_vec(),
            bias: theta[N],
            threshold: options.threshold,
            trained_on: trained_on.to_owned(),
        };
        model.validate()?;
        Ok(model)
    }
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting.
fn solve<const M: usize>(mut a: [[f64; M]; M], mut b: [f64; M]) -> Option<[f64; M]> {
    for col in 0..M {
        let pivot = (col..M).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = a[col];
        for row in col + 1..M {
            let factor = a[row][col] / pivot_row[col];
            for (cell, above) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *cell -= factor * above;
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = [0.0; M];
    for row in (0..M).rev() {
        let rest: f64 = (row + 1..M).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - rest) / a[row][row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// The rule-based fallback when no model is loaded: a follower is called fake when it follows
/// more than [`MASS_FOLLOWING`] accounts while followed back by under a tenth as many, or has
/// no posts, no profile picture and follows ten times more accounts than follow it. Returns
/// the reason.
pub fn rule_based(follower: &FollowerProfile) -> Option<&'static str> {
    let ratio = (1.0 + follower.following as f64) / (1.0 + follower.followers as f64);
    if follower.following > MASS_FOLLOWING && ratio > 10.0 {
        return Some("mass follower: follows over 1,500 accounts, followed back by under a tenth");
    }
    if follower.media_count == 0 && !follower.has_profile_picture && ratio > 10.0 {
        return Some("empty profile following far more accounts than follow it");
    }
    None
}

/// What kind of account a follower is, by the rules in order (REFERENCE.md, audience quality):
/// a mass follower follows over 1,500 accounts; an influencer has over 5,000 followers; a
/// suspicious account is one the classifier calls fake; the rest are real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AudienceType {
    Real,
    Suspicious,
    MassFollower,
    Influencer,
}

/// Followers above this are influencers in their own right.
pub const INFLUENCER_FOLLOWERS: u64 = 5_000;

/// One follower's classification.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub fake: bool,
    /// The model's probability; with the rules, 1 or 0 (not calibrated).
    pub fake_probability: f64,
    pub audience_type: AudienceType,
    pub reasons: Vec<String>,
}

/// The classifier in use: a trained model, or the documented rules.
#[derive(Debug, Clone, PartialEq)]
pub enum Classifier {
    Model(FakeFollowerModel),
    Rules,
}

impl Classifier {
    /// "model:<kind> (<training data>)" or "rules".
    pub fn describe(&self) -> String {
        match self {
            Classifier::Model(model) => format!("model:{} ({})", model.kind, model.trained_on),
            Classifier::Rules => "rules".to_owned(),
        }
    }

    /// Whether the follower is fake: what `classify` decides, without its explanation (the
    /// authenticity model asks this of thousands of followers per creator).
    pub fn is_fake(&self, follower: &FollowerProfile) -> bool {
        match self {
            Classifier::Model(model) => model.is_fake(follower),
            Classifier::Rules => rule_based(follower).is_some(),
        }
    }

    pub fn classify(&self, follower: &FollowerProfile) -> Classification {
        let mut reasons = Vec::new();
        let (fake, fake_probability) = match self {
            Classifier::Model(model) => {
                let probability = model.probability(follower);
                let fake = probability >= model.threshold;
                if fake {
                    reasons.push(format!(
                        "the model gives a {:.0}% probability of a fake account",
                        probability * 100.0
                    ));
                }
                (fake, probability)
            }
            Classifier::Rules => match rule_based(follower) {
                Some(reason) => {
                    reasons.push(reason.to_owned());
                    (true, 1.0)
                }
                None => (false, 0.0),
            },
        };
        let audience_type = if follower.following > MASS_FOLLOWING {
            reasons.push(format!(
                "follows {} accounts (over 1,500)",
                follower.following
            ));
            AudienceType::MassFollower
        } else if follower.followers > INFLUENCER_FOLLOWERS {
            AudienceType::Influencer
        } else if fake {
            AudienceType::Suspicious
        } else {
            AudienceType::Real
        };
        Classification {
            fake,
            fake_probability,
            audience_type,
            reasons,
        }
    }
}

/// Stratified k-fold cross-validation with a fixed shuffle: every fold holds the same share of
/// fakes; the model is trained on the other folds and judged on this one.
pub fn cross_validate(
    samples: &[(FollowerProfile, bool)],
    folds: usize,
    seed: u64,
    options: TrainOptions,
) -> Result<Evaluation, String> {
    if folds < 2 || samples.len() < folds {
        return Err(format!("{folds} folds need at least {folds} samples"));
    }
    let mut state = seed.max(1);
    let mut next = move || {
        // xorshift64*: deterministic, good enough to shuffle.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut fold_of = vec![0usize; samples.len()];
    for class in [true, false] {
        let mut members: Vec<usize> = (0..samples.len())
            .filter(|&i| samples[i].1 == class)
            .collect();
        for i in (1..members.len()).rev() {
            let j = (next() % (i as u64 + 1)) as usize;
            members.swap(i, j);
        }
        for (rank, index) in members.into_iter().enumerate() {
            fold_of[index] = rank % folds;
        }
    }
    let (mut tp, mut fp, mut tn, mut fn_) = (0usize, 0usize, 0usize, 0usize);
    for fold in 0..folds {
        let train: Vec<(FollowerProfile, bool)> = samples
            .iter()
            .zip(&fold_of)
            .filter(|(_, f)| **f != fold)
            .map(|(s, _)| s.clone())
            .collect();
        let model = FakeFollowerModel::train(&train, options, "cross-validation")?;
        for ((follower, fake), _) in samples.iter().zip(&fold_of).filter(|(_, f)| **f == fold) {
            match (model.is_fake(follower), *fake) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, false) => tn += 1,
                (false, true) => fn_ += 1,
            }
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let recall = ratio(tp, tp + fn_);
    Ok(Evaluation {
        folds,
        samples: samples.len(),
        accuracy: ratio(tp + tn, samples.len()),
        precision: ratio(tp, tp + fp),
        recall,
        balanced_accuracy: (recall + ratio(tn, tn + fp)) / 2.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn follower(followers: u64, following: u64, media: u64, picture: bool) -> FollowerProfile {
        FollowerProfile {
            id: String::new(),
            followers,
            following,
            media_count: media,
            has_profile_picture: picture,
            username_length: 10,
            ..FollowerProfile::default()
        }
    }

    /// A small separable set: fakes follow thousands and post nothing.
    fn toy() -> Vec<(FollowerProfile, bool)> {
        let mut samples = Vec::new();
        for i in 0..40 {
            samples.push((follower(10 + i, 3_000 + 50 * i, 0, i % 2 == 0), true));
            samples.push((follower(300 + 10 * i, 250 + 5 * i, 40 + i, true), false));
        }
        samples
    }

    #[test]
    fn a_trained_model_separates_what_is_separable_and_round_trips_as_json() {
        let model =
            FakeFollowerModel::train(&toy(), TrainOptions::default(), "toy").expect("trains");
        assert!(model.is_fake(&follower(20, 4_000, 0, false)));
        assert!(!model.is_fake(&follower(500, 300, 80, true)));
        let json = serde_json::to_string(&model).expect("serialise");
        let back: FakeFollowerModel = serde_json::from_str(&json).expect("parse");
        back.validate().expect("valid");
        for (sample, _) in toy() {
            let (a, b) = (model.probability(&sample), back.probability(&sample));
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
        let evaluation = cross_validate(&toy(), 5, 7, TrainOptions::default()).expect("cv");
        assert!(evaluation.accuracy > 0.95, "{evaluation:?}");
    }

    #[test]
    fn audience_types_follow_the_rule_order() {
        let classifier = Classifier::Rules;
        let mass = classifier.classify(&follower(20, 4_000, 0, false));
        assert!(mass.fake);
        assert_eq!(mass.audience_type, AudienceType::MassFollower);
        let star = classifier.classify(&follower(90_000, 800, 500, true));
        assert_eq!(star.audience_type, AudienceType::Influencer);
        let empty = classifier.classify(&follower(0, 300, 0, false));
        assert_eq!(empty.audience_type, AudienceType::Suspicious);
        let real = classifier.classify(&follower(500, 300, 80, true));
        assert_eq!((real.fake, real.audience_type), (false, AudienceType::Real));
    }

    #[test]
    fn training_needs_both_classes_and_rules_name_their_reason() {
        let only_real: Vec<_> = toy().into_iter().filter(|(_, fake)| !fake).collect();
        assert!(FakeFollowerModel::train(&only_real, TrainOptions::default(), "x").is_err());
        assert!(rule_based(&follower(20, 4_000, 5, true)).is_some());
        assert!(rule_based(&follower(0, 300, 0, false)).is_some());
        assert!(rule_based(&follower(500, 300, 80, true)).is_none());
    }
}
