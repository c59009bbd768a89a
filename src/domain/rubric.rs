//! Rubric scoring: a review marks each criterion on its scale; the review's
//! total is the weighted mean of the marks, each rescaled to 0–1, times 100.
//!
//! Only criteria that *count in the total* enter the weighted mean. An
//! optional criterion left unmarked is left out of both the numerator and the
//! denominator (the total is the weighted mean of what was marked). Marks
//! outside a criterion's scale, missing required criteria, unknown criteria
//! and non-finite numbers are refused, and every error names the criterion key.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use thiserror::Error;

/// A finite number. Construction refuses NaN and infinities, so code that
/// holds a `Score` never has to check again.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Score(f64);

/// A non-finite number was given where a score was expected.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
#[error("score must be a finite number, got {0}")]
pub struct NotFinite(pub f64);

impl Score {
    /// A score, if `value` is finite.
    pub fn new(value: f64) -> Result<Self, NotFinite> {
        if value.is_finite() {
            Ok(Self(value))
        } else {
            Err(NotFinite(value))
        }
    }

    /// The number.
    pub fn value(self) -> f64 {
        self.0
    }

    /// Total order (scores are finite, so this is the numeric order).
    pub fn total_cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl TryFrom<f64> for Score {
    type Error = NotFinite;
    fn try_from(value: f64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Score> for f64 {
    fn from(s: Score) -> f64 {
        s.0
    }
}

/// A closed interval of allowed marks, `min < max`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scale {
    /// Lowest mark.
    pub min: f64,
    /// Highest mark.
    pub max: f64,
}

impl Scale {
    /// The usual 0–10 scale.
    pub const ZERO_TO_TEN: Scale = Scale {
        min: 0.0,
        max: 10.0,
    };

    fn contains(&self, v: f64) -> bool {
        v >= self.min && v <= self.max
    }

    fn unit(&self, v: f64) -> f64 {
        (v - self.min) / (self.max - self.min)
    }
}

/// One criterion of a rubric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    /// Stable key (`[a-z0-9_]+`), used in marks and errors.
    pub key: String,
    /// Name in Vietnamese.
    pub name_vi: String,
    /// Name in English.
    pub name_en: String,
    /// Relative weight (finite, ≥ 0).
    pub weight: f64,
    /// Allowed marks.
    pub scale: Scale,
    /// Whether every review must mark it.
    pub required: bool,
    /// Whether it enters the total (a criterion may be collected for feedback only).
    pub counts_in_total: bool,
}

impl Criterion {
    /// A required, counted criterion on the 0–10 scale.
    pub fn standard(key: &str, name_vi: &str, name_en: &str, weight: f64) -> Self {
        Self {
            key: key.to_owned(),
            name_vi: name_vi.to_owned(),
            name_en: name_en.to_owned(),
            weight,
            scale: Scale::ZERO_TO_TEN,
            required: true,
            counts_in_total: true,
        }
    }
}

/// Why a rubric was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RubricError {
    /// No criteria at all.
    #[error("a rubric needs at least one criterion")]
    Empty,
    /// A key is empty or uses characters other than `a-z`, `0-9`, `_`.
    #[error("criterion key {key:?} must be non-empty and use only a-z, 0-9 and _")]
    BadKey {
        /// The key.
        key: String,
    },
    /// Two criteria share a key.
    #[error("criterion key {key} appears twice")]
    DuplicateKey {
        /// The key.
        key: String,
    },
    /// A weight is negative or not finite.
    #[error("criterion {key}: weight {weight} must be finite and at least 0")]
    BadWeight {
        /// The key.
        key: String,
        /// The weight.
        weight: f64,
    },
    /// A scale is not finite or has `min >= max`.
    #[error("criterion {key}: scale {min}..{max} must be finite with min < max")]
    BadScale {
        /// The key.
        key: String,
        /// Scale minimum.
        min: f64,
        /// Scale maximum.
        max: f64,
    },
    /// No criterion counts in the total with a positive weight.
    #[error("at least one criterion must count in the total with a positive weight")]
    NothingCounts,
    /// A key to adjust does not exist.
    #[error("no criterion with key {key}")]
    UnknownCriterion {
        /// The key.
        key: String,
    },
}

/// Why a review's marks were refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ScoreError {
    /// A mark for a criterion that is not in the rubric.
    #[error("criterion {key} is not in the rubric")]
    UnknownCriterion {
        /// The key.
        key: String,
    },
    /// A required criterion without a mark.
    #[error("criterion {key} is required but has no mark")]
    MissingRequired {
        /// The key.
        key: String,
    },
    /// NaN or an infinity.
    #[error("criterion {key}: mark {value} is not a finite number")]
    NotFinite {
        /// The key.
        key: String,
        /// The mark.
        value: f64,
    },
    /// A mark outside the criterion's scale.
    #[error("criterion {key}: mark {value} is outside the scale {min}..{max}")]
    OutOfScale {
        /// The key.
        key: String,
        /// The mark.
        value: f64,
        /// Scale minimum.
        min: f64,
        /// Scale maximum.
        max: f64,
    },
    /// Every counted criterion was left unmarked (or has zero weight).
    #[error("no counted criterion with a positive weight was marked")]
    NothingToTotal,
}

/// A validated rubric. Build it with [`Rubric::new`] or
/// [`Rubric::default_contest`]; deserialization validates too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Criterion>", into = "Vec<Criterion>")]
pub struct Rubric {
    criteria: Vec<Criterion>,
}

/// A scored review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewScore {
    /// Weighted mean of the counted marks, rescaled to 0–100.
    pub total: Score,
    /// The accepted marks by criterion key (including those that do not count).
    pub marks: BTreeMap<String, f64>,
}

impl TryFrom<Vec<Criterion>> for Rubric {
    type Error = RubricError;
    fn try_from(criteria: Vec<Criterion>) -> Result<Self, Self::Error> {
        Self::new(criteria)
    }
}

impl From<Rubric> for Vec<Criterion> {
    fn from(r: Rubric) -> Self {
        r.criteria
    }
}

impl Rubric {
    /// Validates and builds a rubric.
    pub fn new(criteria: Vec<Criterion>) -> Result<Self, RubricError> {
        if criteria.is_empty() {
            return Err(RubricError::Empty);
        }
        let mut keys = HashSet::new();
        for c in &criteria {
            let key_ok = !c.key.is_empty()
                && c.key
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
            if !key_ok {
                return Err(RubricError::BadKey { key: c.key.clone() });
            }
            if !keys.insert(c.key.as_str()) {
                return Err(RubricError::DuplicateKey { key: c.key.clone() });
            }
            if !c.weight.is_finite() || c.weight < 0.0 {
                return Err(RubricError::BadWeight {
                    key: c.key.clone(),
                    weight: c.weight,
                });
            }
            if !c.scale.min.is_finite() || !c.scale.max.is_finite() || c.scale.min >= c.scale.max {
                return Err(RubricError::BadScale {
                    key: c.key.clone(),
                    min: c.scale.min,
                    max: c.scale.max,
                });
            }
        }
        if !criteria.iter().any(|c| c.counts_in_total && c.weight > 0.0) {
            return Err(RubricError::NothingCounts);
        }
        Ok(Self { criteria })
    }

    /// The contest's default rubric: six required criteria on 0–10, weights
    /// novelty 20, feasibility 20, impact 25, scalability and replicability
    /// 15, maturity 10, team capability 10 (they are relative; any positive
    /// weights work). Adjust it with [`Rubric::with_weight`] or build another
    /// with [`Rubric::new`].
    pub fn default_contest() -> Self {
        Self {
            criteria: vec![
                Criterion::standard("novelty", "Tính mới", "Novelty", 20.0),
                Criterion::standard("feasibility", "Tính khả thi", "Feasibility", 20.0),
                Criterion::standard("impact", "Tác động", "Impact", 25.0),
                Criterion::standard(
                    "scalability_replicability",
                    "Khả năng mở rộng và nhân rộng",
                    "Scalability and replicability",
                    15.0,
                ),
                Criterion::standard("maturity", "Mức độ hoàn thiện", "Maturity", 10.0),
                Criterion::standard(
                    "team_capability",
                    "Năng lực đội thi",
                    "Team capability",
                    10.0,
                ),
            ],
        }
    }

    /// The criteria, in order.
    pub fn criteria(&self) -> &[Criterion] {
        &self.criteria
    }

    /// A copy with one criterion's weight changed (validated again).
    pub fn with_weight(&self, key: &str, weight: f64) -> Result<Self, RubricError> {
        let mut criteria = self.criteria.clone();
        let c = criteria.iter_mut().find(|c| c.key == key).ok_or_else(|| {
            RubricError::UnknownCriterion {
                key: key.to_owned(),
            }
        })?;
        c.weight = weight;
        Self::new(criteria)
    }

    /// Scores one review's marks (criterion key → mark).
    pub fn score(&self, marks: &BTreeMap<String, f64>) -> Result<ReviewScore, ScoreError> {
        for key in marks.keys() {
            if !self.criteria.iter().any(|c| &c.key == key) {
                return Err(ScoreError::UnknownCriterion { key: key.clone() });
            }
        }
        let (mut num, mut den) = (0.0f64, 0.0f64);
        for c in &self.criteria {
            let Some(&value) = marks.get(&c.key) else {
                if c.required {
                    return Err(ScoreError::MissingRequired { key: c.key.clone() });
                }
                continue;
            };
            if !value.is_finite() {
                return Err(ScoreError::NotFinite {
                    key: c.key.clone(),
                    value,
                });
            }
            if !c.scale.contains(value) {
                return Err(ScoreError::OutOfScale {
                    key: c.key.clone(),
                    value,
                    min: c.scale.min,
                    max: c.scale.max,
                });
            }
            if c.counts_in_total && c.weight > 0.0 {
                num += c.weight * c.scale.unit(value);
                den += c.weight;
            }
        }
        if den <= 0.0 {
            return Err(ScoreError::NothingToTotal);
        }
        // Clamp away rounding just outside 0..=100.
        let total = (100.0 * num / den).clamp(0.0, 100.0);
        let total = Score::new(total).map_err(|_| ScoreError::NothingToTotal)?;
        Ok(ReviewScore {
            total,
            marks: marks.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn marks(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    fn all(v: f64) -> BTreeMap<String, f64> {
        Rubric::default_contest()
            .criteria()
            .iter()
            .map(|c| (c.key.clone(), v))
            .collect()
    }

    #[test]
    fn default_rubric_has_the_six_criteria() {
        let r = Rubric::default_contest();
        let keys: Vec<&str> = r.criteria().iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "novelty",
                "feasibility",
                "impact",
                "scalability_replicability",
                "maturity",
                "team_capability"
            ]
        );
        assert_eq!(r.criteria()[0].name_vi, "Tính mới");
        assert_eq!(r.criteria()[5].name_en, "Team capability");
        // The default is itself valid.
        assert_eq!(Rubric::new(r.criteria().to_vec()).unwrap(), r);
    }

    #[test]
    fn totals_are_weighted_and_rescaled() {
        let r = Rubric::default_contest();
        assert_eq!(r.score(&all(10.0)).unwrap().total.value(), 100.0);
        assert_eq!(r.score(&all(0.0)).unwrap().total.value(), 0.0);
        assert!((r.score(&all(7.0)).unwrap().total.value() - 70.0).abs() < 1e-9);
        let mut m = all(0.0);
        m.insert("impact".into(), 10.0);
        assert!((r.score(&m).unwrap().total.value() - 25.0).abs() < 1e-9);
    }

    #[test]
    fn optional_and_uncounted_criteria() {
        let mut cs = Rubric::default_contest().criteria().to_vec();
        cs[0].required = false; // novelty optional
        cs[1].counts_in_total = false; // feasibility feedback only
        let r = Rubric::new(cs).unwrap();
        let mut m = all(5.0);
        m.remove("novelty");
        m.insert("feasibility".into(), 0.0);
        assert!((r.score(&m).unwrap().total.value() - 50.0).abs() < 1e-9);
    }

    #[test]
    fn refusals_name_the_criterion() {
        let r = Rubric::default_contest();
        let mut m = all(5.0);
        m.insert("impact".into(), 11.0);
        let e = r.score(&m).unwrap_err();
        assert!(matches!(&e, ScoreError::OutOfScale { key, .. } if key == "impact"));
        assert!(e.to_string().contains("impact"));
        m.insert("impact".into(), f64::NAN);
        assert!(
            matches!(r.score(&m).unwrap_err(), ScoreError::NotFinite { key, .. } if key == "impact")
        );
        m.insert("impact".into(), f64::INFINITY);
        assert!(matches!(
            r.score(&m).unwrap_err(),
            ScoreError::NotFinite { .. }
        ));
        let mut m = all(5.0);
        m.remove("maturity");
        assert_eq!(
            r.score(&m).unwrap_err(),
            ScoreError::MissingRequired {
                key: "maturity".into()
            }
        );
        let mut m = all(5.0);
        m.insert("charisma".into(), 5.0);
        assert_eq!(
            r.score(&m).unwrap_err(),
            ScoreError::UnknownCriterion {
                key: "charisma".into()
            }
        );
        let m = marks(&[("x", 1.0)]);
        assert!(r.score(&m).is_err());
    }

    #[test]
    fn rubric_validation() {
        let c = |key: &str, w: f64| Criterion::standard(key, "v", "e", w);
        assert_eq!(Rubric::new(vec![]), Err(RubricError::Empty));
        assert!(matches!(
            Rubric::new(vec![c("Bad Key", 1.0)]),
            Err(RubricError::BadKey { .. })
        ));
        assert!(matches!(
            Rubric::new(vec![c("a", 1.0), c("a", 1.0)]),
            Err(RubricError::DuplicateKey { .. })
        ));
        assert!(matches!(
            Rubric::new(vec![c("a", -1.0)]),
            Err(RubricError::BadWeight { .. })
        ));
        assert!(matches!(
            Rubric::new(vec![c("a", f64::NAN)]),
            Err(RubricError::BadWeight { .. })
        ));
        assert_eq!(
            Rubric::new(vec![c("a", 0.0)]),
            Err(RubricError::NothingCounts)
        );
        let mut bad = c("a", 1.0);
        bad.scale = Scale { min: 5.0, max: 5.0 };
        assert!(matches!(
            Rubric::new(vec![bad]),
            Err(RubricError::BadScale { .. })
        ));
        let r = Rubric::default_contest()
            .with_weight("impact", 50.0)
            .unwrap();
        assert_eq!(r.criteria()[2].weight, 50.0);
        assert!(Rubric::default_contest().with_weight("nope", 1.0).is_err());
        assert!(
            Rubric::default_contest()
                .with_weight("impact", -2.0)
                .is_err()
        );
    }

    #[test]
    fn score_refuses_non_finite() {
        assert!(Score::new(f64::NAN).is_err());
        assert!(Score::new(f64::NEG_INFINITY).is_err());
        assert_eq!(Score::new(1.5).map(Score::value), Ok(1.5));
        assert_eq!(Score::try_from(2.0).map(f64::from), Ok(2.0));
    }

    proptest! {
        #[test]
        fn total_is_within_0_and_100(values in prop::collection::vec(0.0f64..=10.0, 6)) {
            let r = Rubric::default_contest();
            let m: BTreeMap<String, f64> = r.criteria().iter().zip(&values).map(|(c, v)| (c.key.clone(), *v)).collect();
            let t = r.score(&m).unwrap().total.value();
            prop_assert!((0.0..=100.0).contains(&t));
        }

        #[test]
        fn total_is_monotone_in_each_mark(values in prop::collection::vec(0.0f64..=10.0, 6), i in 0usize..6, bump in 0.0f64..=10.0) {
            let r = Rubric::default_contest();
            let mut m: BTreeMap<String, f64> = r.criteria().iter().zip(&values).map(|(c, v)| (c.key.clone(), *v)).collect();
            let before = r.score(&m).unwrap().total.value();
            let key = r.criteria()[i].key.clone();
            let raised = (values[i] + bump).min(10.0);
            m.insert(key, raised);
            let after = r.score(&m).unwrap().total.value();
            prop_assert!(after >= before - 1e-9);
        }

        #[test]
        fn equal_marks_give_that_fraction(v in 0.0f64..=10.0, weights in prop::collection::vec(0.1f64..100.0, 6)) {
            let mut r = Rubric::default_contest();
            for (c, w) in r.clone().criteria().iter().zip(&weights) {
                r = r.with_weight(&c.key, *w).unwrap();
            }
            let m: BTreeMap<String, f64> = r.criteria().iter().map(|c| (c.key.clone(), v)).collect();
            prop_assert!((r.score(&m).unwrap().total.value() - 10.0 * v).abs() < 1e-9);
        }

        #[test]
        fn out_of_scale_is_always_refused(v in prop_oneof![-1e9f64..-1e-9, 10.000001f64..1e9], i in 0usize..6) {
            let r = Rubric::default_contest();
            let mut m = all(5.0);
            let key = r.criteria()[i].key.clone();
            m.insert(key.clone(), v);
            let refused_key = match r.score(&m) {
                Err(ScoreError::OutOfScale { key, .. }) => Some(key),
                _ => None,
            };
            prop_assert_eq!(refused_key, Some(key));
        }
    }
}
