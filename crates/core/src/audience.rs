//! Audiences as mergeable sketches, so that the overlap of several creators' audiences can be
//! estimated without keeping who follows whom.
//!
//! A [`AudienceSketch`] is a HyperLogLog (Flajolet et al., 2007) with 2^12 registers: 4 KiB per
//! creator and a standard error of about 1.04 / sqrt(4096) = 1.6% on the estimated size, with
//! linear counting for small audiences (Heule et al., 2013). Member ids are hashed with
//! SipHash-1-3 under fixed keys, so a sketch means the same on every machine and release.
//!
//! Merging takes the larger register everywhere: it is commutative and idempotent, so adding the
//! same members twice, or in any order, gives the same sketch. The union of sketches estimates
//! the audience reached by a group of creators; `|A| + |B| - |A u B|` estimates their overlap.

use std::hash::Hasher as _;

use siphasher::sip::SipHasher13;

use crate::error::ValidationError;

/// log2 of the number of registers.
pub const PRECISION: u32 = 12;
/// Registers per sketch (and bytes in its stored form).
pub const REGISTERS: usize = 1 << PRECISION;

/// The relative standard error of an estimate, 1.04 / sqrt(REGISTERS).
pub const STANDARD_ERROR: f64 = 1.04 / 64.0;
const _: () = assert!(
    REGISTERS == 64 * 64,
    "STANDARD_ERROR assumes 4,096 registers"
);

/// Fixed SipHash keys: changing them changes every stored sketch's meaning.
const KEY: (u64, u64) = (0x7265_736f_6e61_6e63, 0x6175_6469_656e_6365);

/// A HyperLogLog sketch of a set of audience member ids.
#[derive(Clone, PartialEq, Eq)]
pub struct AudienceSketch {
    registers: Box<[u8; REGISTERS]>,
}

impl std::fmt::Debug for AudienceSketch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudienceSketch")
            .field("estimate", &self.estimate())
            .finish()
    }
}

impl Default for AudienceSketch {
    fn default() -> Self {
        Self::new()
    }
}

impl AudienceSketch {
    pub fn new() -> Self {
        Self {
            registers: Box::new([0; REGISTERS]),
        }
    }

    /// Adds one member id.
    pub fn insert(&mut self, member_id: &str) {
        let mut hasher = SipHasher13::new_with_keys(KEY.0, KEY.1);
        hasher.write(member_id.as_bytes());
        let hash = hasher.finish();
        let index = (hash >> (64 - PRECISION)) as usize;
        // The rank of the first 1 bit in the remaining 52 bits (1-based); a guard bit keeps
        // an all-zero remainder finite.
        let rest = (hash << PRECISION) | (1 << (PRECISION - 1));
        let rank = rest.leading_zeros() as u8 + 1;
        let register = &mut self.registers[index];
        *register = (*register).max(rank);
    }

    /// Adds a numeric member id, as the same id given as decimal text would be added (the
    /// planner's exact audiences and ingested member ids name the same people).
    pub fn insert_number(&mut self, member_id: u64) {
        let mut digits = [0_u8; 20];
        let mut start = digits.len();
        let mut rest = member_id;
        loop {
            start -= 1;
            digits[start] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        // Only ASCII digits were written.
        self.insert(std::str::from_utf8(&digits[start..]).unwrap_or_default());
    }

    /// Folds `other` into this sketch (the union of the two audiences).
    pub fn merge(&mut self, other: &AudienceSketch) {
        for (mine, theirs) in self.registers.iter_mut().zip(other.registers.iter()) {
            *mine = (*mine).max(*theirs);
        }
    }

    /// The estimated number of distinct members.
    pub fn estimate(&self) -> f64 {
        let mut sum = 0.0;
        let mut zeros = 0_usize;
        for &register in self.registers.iter() {
            sum += register_weight(register);
            if register == 0 {
                zeros += 1;
            }
        }
        estimate_from(sum, zeros)
    }

    /// The registers, one byte each.
    pub fn registers(&self) -> &[u8; REGISTERS] {
        &self.registers
    }

    /// Whether nothing was ever added.
    pub fn is_empty(&self) -> bool {
        self.registers.iter().all(|r| *r == 0)
    }

    /// The stored form: one byte per register.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.registers.to_vec()
    }

    /// Reads the stored form.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ValidationError> {
        let registers: [u8; REGISTERS] = bytes.try_into().map_err(|_| {
            ValidationError::new(
                "",
                format!(
                    "an audience sketch has {REGISTERS} registers (got {} bytes)",
                    bytes.len()
                ),
            )
        })?;
        if registers.iter().any(|r| u32::from(*r) > 64 - PRECISION + 1) {
            return Err(ValidationError::new(
                "",
                "an audience sketch register is out of range",
            ));
        }
        Ok(Self {
            registers: Box::new(registers),
        })
    }
}

/// A register's term in the estimator's harmonic sum, 2^-register.
pub fn register_weight(register: u8) -> f64 {
    // Registers never exceed 64 - PRECISION + 1, far inside f64's exponent range.
    f64::from_bits((1023_u64 - u64::from(register)) << 52)
}

/// The estimate from the sum of [`register_weight`] over all registers and the number of zero
/// registers, so that callers keeping a running union can estimate without rescanning it.
pub fn estimate_from(sum: f64, zeros: usize) -> f64 {
    let m = REGISTERS as f64;
    let alpha = 0.7213 / (1.0 + 1.079 / m);
    let raw = alpha * m * m / sum;
    if raw <= 2.5 * m && zeros > 0 {
        // Linear counting is more accurate for small sets.
        m * (m / zeros as f64).ln()
    } else {
        raw
    }
}

/// The estimated size of the union of several audiences (the people reached at least once).
pub fn union_estimate<'a>(sketches: impl IntoIterator<Item = &'a AudienceSketch>) -> f64 {
    let mut union = AudienceSketch::new();
    for sketch in sketches {
        union.merge(sketch);
    }
    union.estimate()
}

/// The estimated number of members two audiences share, never below zero.
pub fn overlap_estimate(a: &AudienceSketch, b: &AudienceSketch) -> f64 {
    (a.estimate() + b.estimate() - union_estimate([a, b])).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sketch(ids: impl Iterator<Item = u64>) -> AudienceSketch {
        let mut sketch = AudienceSketch::new();
        for id in ids {
            sketch.insert(&format!("user{id}"));
        }
        sketch
    }

    fn relative_error(estimate: f64, exact: f64) -> f64 {
        (estimate - exact).abs() / exact
    }

    #[test]
    fn estimates_are_within_a_few_percent_from_small_to_large() {
        for exact in [10_u64, 1_000, 20_000, 300_000] {
            let estimate = sketch(0..exact).estimate();
            // Within 3 standard errors of 1.6%.
            assert!(
                relative_error(estimate, exact as f64) < 0.05,
                "{exact}: estimated {estimate}"
            );
        }
        assert_eq!(AudienceSketch::new().estimate(), 0.0);
    }

    #[test]
    fn repeats_and_order_change_nothing() {
        let once = sketch(0..5_000);
        let mut twice = sketch((0..5_000).rev());
        twice.merge(&sketch(0..5_000));
        assert_eq!(once, twice);
    }

    #[test]
    fn overlap_of_two_audiences_is_estimated() {
        // 40,000 and 30,000 members sharing 10,000.
        let a = sketch(0..40_000);
        let b = sketch(30_000..60_000);
        let overlap = overlap_estimate(&a, &b);
        assert!(
            relative_error(overlap, 10_000.0) < 0.15,
            "overlap {overlap}"
        );
        let union = union_estimate([&a, &b]);
        assert!(relative_error(union, 60_000.0) < 0.05, "union {union}");
        // Disjoint audiences barely overlap.
        let c = sketch(100_000..130_000);
        assert!(overlap_estimate(&a, &c) < 0.05 * 30_000.0);
    }

    #[test]
    fn numeric_ids_sketch_like_their_decimal_text() {
        let mut numbers = AudienceSketch::new();
        let mut text = AudienceSketch::new();
        for id in [0_u64, 7, 10, 123_456, u64::MAX] {
            numbers.insert_number(id);
            text.insert(&id.to_string());
        }
        assert_eq!(numbers, text);
    }

    #[test]
    fn stored_form_round_trips_and_is_checked() {
        let original = sketch(0..777);
        let restored = AudienceSketch::from_bytes(&original.to_bytes()).expect("round trip");
        assert_eq!(original, restored);
        assert!(AudienceSketch::from_bytes(&[0; 10]).is_err());
        assert!(AudienceSketch::from_bytes(&[200; REGISTERS]).is_err());
    }
}
