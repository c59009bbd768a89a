//! Combining the reviews of each entry.
//!
//! * **Methods:** mean (default), median, trimmed mean.
//! * **Per-judge normalization (optional):** each judge's review totals in the
//!   round are turned into z-scores over that judge's own reviews and rescaled
//!   to the pool's mean and standard deviation: `μ + σ·(x − m_j)/s_j`. This
//!   removes a judge's leniency (`m_j`) and spread (`s_j`). A judge with fewer
//!   reviews than [`Normalization::min_reviews`] is left uncorrected, and the
//!   result says so ([`CalibrationStatus::TooFewReviews`] and
//!   [`EntryAggregate::uncorrected_reviews`]). A judge whose scores are all
//!   equal (zero spread) carries no ranking information; their reviews are set
//!   to the pool mean instead of dividing by zero
//!   ([`CalibrationStatus::ZeroSpread`]). The map is increasing for each judge,
//!   so it never changes the order of one judge's own reviews. Normalized
//!   scores are not clamped and may leave 0–100 slightly; they are for ranking.
//! * **Disagreement:** the standard deviation (population) or the range of an
//!   entry's (normalized, if enabled) scores, flagged above a threshold so the
//!   judging flow can call in an extra judge.

use crate::domain::ids::{EntryId, JudgeId};
use crate::domain::rubric::Score;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::Hash;
use thiserror::Error;

/// One judge's total for one entry (0–100, from [`crate::domain::rubric::Rubric::score`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// The judge.
    pub judge: JudgeId,
    /// The entry.
    pub entry: EntryId,
    /// The review's total.
    pub score: Score,
}

/// How an entry's scores are combined.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggregationMethod {
    /// Arithmetic mean.
    #[default]
    Mean,
    /// Median (mean of the two middle scores for an even count).
    Median,
    /// Drops `⌊n·trim⌋` scores at each end, then takes the mean; `0 ≤ trim < 0.5`.
    /// With three reviews, `trim` ≥ 1/3 drops the highest and the lowest.
    TrimmedMean {
        /// Fraction trimmed at each end.
        trim: f64,
    },
}

/// Per-judge normalization settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Normalization {
    /// Judges with fewer reviews in the round are not corrected.
    pub min_reviews: u32,
}

impl Default for Normalization {
    fn default() -> Self {
        Self { min_reviews: 5 }
    }
}

/// Spread measure for disagreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisagreementMeasure {
    /// Population standard deviation of the entry's scores.
    #[default]
    StdDev,
    /// Highest minus lowest score.
    Range,
}

/// When to flag an entry for an extra judge.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DisagreementRule {
    /// The measure.
    pub measure: DisagreementMeasure,
    /// Flag when the measure is strictly above this (in score points).
    pub threshold: f64,
}

impl Default for DisagreementRule {
    fn default() -> Self {
        Self {
            measure: DisagreementMeasure::StdDev,
            threshold: 15.0,
        }
    }
}

/// Aggregation settings.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct AggregationConfig {
    /// Combination method.
    #[serde(default)]
    pub method: AggregationMethod,
    /// Per-judge normalization, off when `None`.
    #[serde(default)]
    pub normalization: Option<Normalization>,
    /// Disagreement flag.
    #[serde(default)]
    pub disagreement: DisagreementRule,
}

impl AggregationConfig {
    /// Checks the trim fraction and the threshold.
    pub fn validate(&self) -> Result<(), AggregateError> {
        if let AggregationMethod::TrimmedMean { trim } = self.method
            && !(trim.is_finite() && (0.0..0.5).contains(&trim))
        {
            return Err(AggregateError::BadTrim(trim));
        }
        if !self.disagreement.threshold.is_finite() || self.disagreement.threshold < 0.0 {
            return Err(AggregateError::BadThreshold(self.disagreement.threshold));
        }
        Ok(())
    }
}

/// Errors from aggregation.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AggregateError {
    /// A judge reviewed the same entry twice.
    #[error("judge {judge} reviewed entry {entry} twice")]
    DuplicateReview {
        /// The judge.
        judge: JudgeId,
        /// The entry.
        entry: EntryId,
    },
    /// Trim fraction outside `0 ≤ trim < 0.5`.
    #[error("trim fraction {0} must be at least 0 and below 0.5")]
    BadTrim(f64),
    /// Threshold negative or not finite.
    #[error("disagreement threshold {0} must be finite and at least 0")]
    BadThreshold(f64),
}

/// Whether and how a judge was corrected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationStatus {
    /// Normalization was not requested.
    NotRequested,
    /// Scores were z-scored and rescaled to the pool.
    Corrected,
    /// All of the judge's scores were equal: they were set to the pool mean.
    ZeroSpread,
    /// Too few reviews to estimate the judge's leniency: left as they were.
    TooFewReviews {
        /// The configured minimum.
        min_reviews: u32,
    },
}

/// One judge's statistics in the round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeCalibration {
    /// The judge.
    pub judge: JudgeId,
    /// Reviews in the round.
    pub reviews: u32,
    /// Mean of the judge's raw totals.
    pub mean: f64,
    /// Population standard deviation of the judge's raw totals.
    pub std_dev: f64,
    /// What normalization did.
    pub status: CalibrationStatus,
}

/// Mean and spread of every review in the round.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PoolStats {
    /// Number of reviews.
    pub reviews: u32,
    /// Mean raw total.
    pub mean: f64,
    /// Population standard deviation of raw totals.
    pub std_dev: f64,
}

/// One review after normalization (same order as the input).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdjustedReview {
    /// The judge.
    pub judge: JudgeId,
    /// The entry.
    pub entry: EntryId,
    /// The raw total.
    pub raw: f64,
    /// The score used for aggregation.
    pub adjusted: f64,
    /// Whether the judge was corrected (including the zero-spread case).
    pub corrected: bool,
}

/// The combined result for one entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryAggregate {
    /// The entry.
    pub entry: EntryId,
    /// Aggregated score (method applied to adjusted scores).
    pub score: f64,
    /// Plain mean of the raw totals, for reference.
    pub raw_mean: f64,
    /// Number of reviews.
    pub reviews: u32,
    /// Disagreement measure on the adjusted scores.
    pub disagreement: f64,
    /// Whether the disagreement exceeds the threshold.
    pub flagged: bool,
    /// Reviews from judges that normalization did not correct (0 without normalization).
    pub uncorrected_reviews: u32,
}

/// Everything [`aggregate`] computes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregation {
    /// Per entry, sorted by entry id.
    pub entries: Vec<EntryAggregate>,
    /// Per judge, sorted by judge id.
    pub judges: Vec<JudgeCalibration>,
    /// Pool statistics.
    pub pool: PoolStats,
    /// Every review with its adjusted score, in input order.
    pub adjusted: Vec<AdjustedReview>,
}

/// Mean computed as `x₀ + mean(x − x₀)`: exact when all values are equal.
fn mean(values: &[f64]) -> f64 {
    let Some(&first) = values.first() else {
        return 0.0;
    };
    first + values.iter().map(|v| v - first).sum::<f64>() / values.len() as f64
}

fn std_dev(values: &[f64], m: f64) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    (values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / values.len() as f64).sqrt()
}

fn sort_scores(values: &mut [f64]) {
    values.sort_by(f64::total_cmp);
}

/// Combines already-adjusted scores of one entry.
pub fn combine(values: &[f64], method: AggregationMethod) -> f64 {
    let mut v = values.to_vec();
    match method {
        AggregationMethod::Mean => mean(&v),
        AggregationMethod::Median => {
            sort_scores(&mut v);
            let n = v.len();
            match n {
                0 => 0.0,
                _ if n % 2 == 1 => v[n / 2],
                _ => mean(&v[n / 2 - 1..=n / 2]),
            }
        }
        AggregationMethod::TrimmedMean { trim } => {
            sort_scores(&mut v);
            let n = v.len();
            let cut = ((n as f64) * trim.clamp(0.0, 0.5)).floor() as usize;
            let cut = cut.min(n.saturating_sub(1) / 2);
            mean(&v[cut..n - cut])
        }
    }
}

/// Disagreement of one entry's scores.
pub fn disagreement(values: &[f64], measure: DisagreementMeasure) -> f64 {
    match measure {
        DisagreementMeasure::StdDev => std_dev(values, mean(values)),
        DisagreementMeasure::Range => {
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if values.is_empty() { 0.0 } else { hi - lo }
        }
    }
}

/// Per-judge normalization of a round's reviews. Returns the adjusted reviews
/// (input order), the per-judge statistics (sorted by judge id) and the pool.
/// With `normalization = None` every review keeps its raw score.
pub fn normalize(
    reviews: &[Review],
    normalization: Option<Normalization>,
) -> Result<(Vec<AdjustedReview>, Vec<JudgeCalibration>, PoolStats), AggregateError> {
    normalize_ranked(reviews, normalization).map(|n| (n.adjusted, n.judges, n.pool))
}

/// Position of each item's key among the distinct keys sorted ascending.
/// Hashes each key once and sorts only the distinct keys, so grouping a
/// round's reviews needs integer sorts instead of many string comparisons.
fn dense_ranks<'a, K: Ord + Hash + 'a>(keys: impl Iterator<Item = &'a K>) -> Vec<u32> {
    let mut first_seen: HashMap<&'a K, u32> = HashMap::new();
    let mut distinct: Vec<&'a K> = Vec::new();
    let ids: Vec<u32> = keys
        .map(|k| {
            *first_seen.entry(k).or_insert_with(|| {
                distinct.push(k);
                (distinct.len() - 1) as u32
            })
        })
        .collect();
    let mut by_key: Vec<u32> = (0..distinct.len() as u32).collect();
    by_key.sort_unstable_by(|&a, &b| distinct[a as usize].cmp(distinct[b as usize]));
    let mut rank = vec![0u32; distinct.len()];
    for (r, &d) in by_key.iter().enumerate() {
        rank[d as usize] = r as u32;
    }
    ids.into_iter().map(|d| rank[d as usize]).collect()
}

struct Normalized {
    adjusted: Vec<AdjustedReview>,
    judges: Vec<JudgeCalibration>,
    pool: PoolStats,
    /// Rank of each review's entry among the distinct entry ids.
    entry_rank: Vec<u32>,
}

fn normalize_ranked(
    reviews: &[Review],
    normalization: Option<Normalization>,
) -> Result<Normalized, AggregateError> {
    let judge_rank = dense_ranks(reviews.iter().map(|r| &r.judge));
    let entry_rank = dense_ranks(reviews.iter().map(|r| &r.entry));
    // One sort by (judge, entry) groups each judge's reviews, puts duplicates
    // side by side and makes every sum independent of the input order.
    let key = |i: usize| (u64::from(judge_rank[i]) << 32) | u64::from(entry_rank[i]);
    let mut order: Vec<usize> = (0..reviews.len()).collect();
    order.sort_unstable_by_key(|&i| key(i));
    for w in order.windows(2) {
        if key(w[0]) == key(w[1]) {
            let r = &reviews[w[0]];
            return Err(AggregateError::DuplicateReview {
                judge: r.judge.clone(),
                entry: r.entry.clone(),
            });
        }
    }
    let raw: Vec<f64> = reviews.iter().map(|r| r.score.value()).collect();
    let sorted_raw: Vec<f64> = order.iter().map(|&i| raw[i]).collect();
    let pool_mean = mean(&sorted_raw);
    let pool = PoolStats {
        reviews: reviews.len() as u32,
        mean: pool_mean,
        std_dev: std_dev(&sorted_raw, pool_mean),
    };
    let mut adjusted: Vec<AdjustedReview> = reviews
        .iter()
        .map(|r| AdjustedReview {
            judge: r.judge.clone(),
            entry: r.entry.clone(),
            raw: r.score.value(),
            adjusted: r.score.value(),
            corrected: false,
        })
        .collect();
    let mut judges: Vec<JudgeCalibration> = Vec::new();
    for group in order.chunk_by(|&a, &b| judge_rank[a] == judge_rank[b]) {
        let values: Vec<f64> = group.iter().map(|&i| raw[i]).collect();
        let m = mean(&values);
        let sd = std_dev(&values, m);
        let status = match normalization {
            None => CalibrationStatus::NotRequested,
            Some(n) if (values.len() as u64) < u64::from(n.min_reviews) => {
                CalibrationStatus::TooFewReviews {
                    min_reviews: n.min_reviews,
                }
            }
            // A spread this small relative to the 0–100 scale is rounding noise.
            Some(_) if sd <= 1e-9 * (1.0 + m.abs()) => CalibrationStatus::ZeroSpread,
            Some(_) => CalibrationStatus::Corrected,
        };
        for &i in group {
            let a = &mut adjusted[i];
            match status {
                CalibrationStatus::Corrected => {
                    a.adjusted = pool.mean + pool.std_dev * ((raw[i] - m) / sd);
                    a.corrected = true;
                }
                CalibrationStatus::ZeroSpread => {
                    a.adjusted = pool.mean;
                    a.corrected = true;
                }
                _ => {}
            }
        }
        judges.push(JudgeCalibration {
            judge: reviews[group[0]].judge.clone(),
            reviews: values.len() as u32,
            mean: m,
            std_dev: sd,
            status,
        });
    }
    Ok(Normalized {
        adjusted,
        judges,
        pool,
        entry_rank,
    })
}

/// Aggregates a round's reviews per entry.
pub fn aggregate(
    reviews: &[Review],
    config: &AggregationConfig,
) -> Result<Aggregation, AggregateError> {
    config.validate()?;
    let Normalized {
        adjusted,
        judges,
        pool,
        entry_rank,
    } = normalize_ranked(reviews, config.normalization)?;
    // Group by entry; each entry's scores are then sorted so that the
    // rounding of the mean does not depend on the input order either.
    let mut order: Vec<usize> = (0..adjusted.len()).collect();
    order.sort_unstable_by_key(|&i| entry_rank[i]);
    let entries: Vec<EntryAggregate> = order
        .chunk_by(|&a, &b| entry_rank[a] == entry_rank[b])
        .map(|group| {
            let mut adj: Vec<f64> = group.iter().map(|&i| adjusted[i].adjusted).collect();
            adj.sort_by(f64::total_cmp);
            let mut raw: Vec<f64> = group.iter().map(|&i| adjusted[i].raw).collect();
            raw.sort_by(f64::total_cmp);
            let d = disagreement(&adj, config.disagreement.measure);
            EntryAggregate {
                entry: adjusted[group[0]].entry.clone(),
                score: combine(&adj, config.method),
                raw_mean: mean(&raw),
                reviews: group.len() as u32,
                disagreement: d,
                flagged: d > config.disagreement.threshold,
                uncorrected_reviews: if config.normalization.is_some() {
                    group.iter().filter(|&&i| !adjusted[i].corrected).count() as u32
                } else {
                    0
                },
            }
        })
        .collect();
    Ok(Aggregation {
        entries,
        judges,
        pool,
        adjusted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn review(j: &str, e: &str, s: f64) -> Review {
        Review {
            judge: JudgeId::from(j),
            entry: EntryId::from(e),
            score: Score::new(s).unwrap(),
        }
    }

    fn config(method: AggregationMethod, norm: Option<u32>) -> AggregationConfig {
        AggregationConfig {
            method,
            normalization: norm.map(|min_reviews| Normalization { min_reviews }),
            disagreement: DisagreementRule::default(),
        }
    }

    #[test]
    fn dense_ranks_follow_key_order() {
        let keys = ["b", "a", "c", "a", "b"];
        assert_eq!(dense_ranks(keys.iter()), [1, 0, 2, 0, 1]);
        assert!(dense_ranks(std::iter::empty::<&u8>()).is_empty());
        // Duplicates are found wherever they sit in the input.
        let reviews = vec![
            review("a", "e1", 1.0),
            review("b", "e1", 2.0),
            review("a", "e1", 3.0),
        ];
        assert_eq!(
            aggregate(&reviews, &AggregationConfig::default()).unwrap_err(),
            AggregateError::DuplicateReview {
                judge: JudgeId::from("a"),
                entry: EntryId::from("e1")
            }
        );
    }

    #[test]
    fn methods() {
        assert_eq!(combine(&[1.0, 2.0, 9.0], AggregationMethod::Mean), 4.0);
        assert_eq!(combine(&[9.0, 1.0, 2.0], AggregationMethod::Median), 2.0);
        assert_eq!(
            combine(&[4.0, 1.0, 2.0, 9.0], AggregationMethod::Median),
            3.0
        );
        let t = AggregationMethod::TrimmedMean { trim: 0.34 };
        assert_eq!(combine(&[1.0, 2.0, 9.0], t), 2.0);
        let t = AggregationMethod::TrimmedMean { trim: 0.2 };
        assert_eq!(combine(&[1.0, 2.0, 9.0], t), 4.0);
        assert!((combine(&[0.0, 10.0, 2.0, 4.0, 100.0], t) - 16.0 / 3.0).abs() < 1e-12);
        assert_eq!(combine(&[], AggregationMethod::Mean), 0.0);
    }

    #[test]
    fn disagreement_measures_and_flag() {
        assert_eq!(
            disagreement(&[50.0, 50.0, 80.0], DisagreementMeasure::Range),
            30.0
        );
        let sd = disagreement(&[40.0, 60.0], DisagreementMeasure::StdDev);
        assert!((sd - 10.0).abs() < 1e-12);
        assert_eq!(disagreement(&[7.0], DisagreementMeasure::StdDev), 0.0);
        assert_eq!(disagreement(&[], DisagreementMeasure::Range), 0.0);
        let reviews = vec![
            review("a", "e1", 20.0),
            review("b", "e1", 80.0),
            review("a", "e2", 50.0),
            review("b", "e2", 55.0),
        ];
        let agg = aggregate(&reviews, &config(AggregationMethod::Mean, None)).unwrap();
        assert!(agg.entries[0].flagged);
        assert!(!agg.entries[1].flagged);
    }

    #[test]
    fn normalization_removes_leniency() {
        // Judge "hard" scores 20 below judge "soft" on the same three entries.
        let mut reviews = Vec::new();
        for (e, q) in [("e1", 40.0), ("e2", 50.0), ("e3", 60.0)] {
            reviews.push(review("soft", e, q + 10.0));
            reviews.push(review("hard", e, q - 10.0));
        }
        // e4 is seen only by "hard", e5 only by "soft": equal quality 50.
        reviews.push(review("hard", "e4", 40.0));
        reviews.push(review("soft", "e5", 60.0));
        let plain = aggregate(&reviews, &config(AggregationMethod::Mean, None)).unwrap();
        let norm = aggregate(&reviews, &config(AggregationMethod::Mean, Some(2))).unwrap();
        let score = |a: &Aggregation, e: &str| {
            a.entries
                .iter()
                .find(|x| x.entry.as_str() == e)
                .unwrap()
                .score
        };
        assert!((score(&plain, "e5") - score(&plain, "e4")).abs() > 19.0);
        assert!((score(&norm, "e5") - score(&norm, "e4")).abs() < 1e-9);
        assert!(
            norm.judges
                .iter()
                .all(|j| j.status == CalibrationStatus::Corrected)
        );
        assert_eq!(norm.entries[0].uncorrected_reviews, 0);
    }

    #[test]
    fn few_reviews_are_not_corrected_and_it_is_reported() {
        let reviews = vec![
            review("a", "e1", 10.0),
            review("a", "e2", 30.0),
            review("b", "e1", 90.0),
        ];
        let agg = aggregate(&reviews, &config(AggregationMethod::Mean, Some(2))).unwrap();
        let b = agg.judges.iter().find(|j| j.judge.as_str() == "b").unwrap();
        assert_eq!(
            b.status,
            CalibrationStatus::TooFewReviews { min_reviews: 2 }
        );
        let e1 = &agg.entries[0];
        assert_eq!(e1.uncorrected_reviews, 1);
        let raw_b = agg
            .adjusted
            .iter()
            .find(|r| r.judge.as_str() == "b")
            .unwrap();
        assert_eq!(raw_b.adjusted, 90.0);
        assert!(!raw_b.corrected);
    }

    #[test]
    fn zero_spread_judge_does_not_divide_by_zero() {
        let reviews = vec![
            review("flat", "e1", 70.0),
            review("flat", "e2", 70.0),
            review("x", "e1", 20.0),
            review("x", "e2", 60.0),
        ];
        let agg = aggregate(&reviews, &config(AggregationMethod::Mean, Some(2))).unwrap();
        let flat = agg
            .judges
            .iter()
            .find(|j| j.judge.as_str() == "flat")
            .unwrap();
        assert_eq!(flat.status, CalibrationStatus::ZeroSpread);
        assert!(agg.adjusted.iter().all(|r| r.adjusted.is_finite()));
        assert!(agg.entries.iter().all(|e| e.score.is_finite()));
    }

    #[test]
    fn errors() {
        let reviews = vec![review("a", "e1", 1.0), review("a", "e1", 2.0)];
        assert!(matches!(
            aggregate(&reviews, &AggregationConfig::default()),
            Err(AggregateError::DuplicateReview { .. })
        ));
        let bad = config(AggregationMethod::TrimmedMean { trim: 0.5 }, None);
        assert_eq!(aggregate(&[], &bad), Err(AggregateError::BadTrim(0.5)));
        let mut bad = AggregationConfig::default();
        bad.disagreement.threshold = f64::NAN;
        assert!(matches!(
            aggregate(&[], &bad),
            Err(AggregateError::BadThreshold(_))
        ));
        let empty = aggregate(&[], &AggregationConfig::default()).unwrap();
        assert!(empty.entries.is_empty());
        assert_eq!(empty.pool.reviews, 0);
    }

    fn arb_method() -> impl Strategy<Value = AggregationMethod> {
        prop_oneof![
            Just(AggregationMethod::Mean),
            Just(AggregationMethod::Median),
            (0.0f64..0.49).prop_map(|trim| AggregationMethod::TrimmedMean { trim }),
        ]
    }

    fn arb_reviews() -> impl Strategy<Value = Vec<Review>> {
        prop::collection::btree_map((0u8..6, 0u8..12), 0.0f64..=100.0, 0..60).prop_map(|m| {
            m.into_iter()
                .map(|((j, e), s)| review(&format!("j{j}"), &format!("e{e}"), s))
                .collect()
        })
    }

    proptest! {
        #[test]
        fn identical_scores_aggregate_to_that_score(s in 0.0f64..=100.0, n in 1usize..8, method in arb_method(), norm in prop::option::of(0u32..4)) {
            let reviews: Vec<Review> = (0..n).map(|i| review(&format!("j{}", i % 3), &format!("e{}", i / 3), s)).collect();
            let agg = aggregate(&reviews, &config(method, norm)).unwrap();
            for e in &agg.entries {
                prop_assert_eq!(e.score, s);
                prop_assert_eq!(e.raw_mean, s);
                prop_assert_eq!(e.disagreement, 0.0);
            }
            prop_assert_eq!(combine(&vec![s; n], method), s);
        }

        #[test]
        fn normalization_keeps_each_judges_order(reviews in arb_reviews(), min in 0u32..4) {
            let (adj, _, _) = normalize(&reviews, Some(Normalization { min_reviews: min })).unwrap();
            for a in &adj {
                for b in &adj {
                    if a.judge == b.judge && a.raw < b.raw {
                        prop_assert!(a.adjusted <= b.adjusted, "{:?} {:?}", a, b);
                    }
                    if a.judge == b.judge && a.raw == b.raw {
                        prop_assert_eq!(a.adjusted, b.adjusted);
                    }
                }
            }
        }

        #[test]
        fn aggregate_lies_between_min_and_max(reviews in arb_reviews(), method in arb_method(), norm in prop::option::of(0u32..4)) {
            let agg = aggregate(&reviews, &config(method, norm)).unwrap();
            for e in &agg.entries {
                let adj: Vec<f64> = agg.adjusted.iter().filter(|r| r.entry == e.entry).map(|r| r.adjusted).collect();
                let lo = adj.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = adj.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                prop_assert!(e.score >= lo - 1e-9 && e.score <= hi + 1e-9);
                prop_assert_eq!(e.reviews as usize, adj.len());
                prop_assert!(e.score.is_finite());
            }
            let total: u32 = agg.entries.iter().map(|e| e.reviews).sum();
            prop_assert_eq!(total as usize, reviews.len());
        }

        #[test]
        fn normalized_judges_have_pool_mean(reviews in arb_reviews()) {
            let (adj, judges, pool) = normalize(&reviews, Some(Normalization { min_reviews: 1 })).unwrap();
            for j in judges.iter().filter(|j| j.status == CalibrationStatus::Corrected) {
                let mine: Vec<f64> = adj.iter().filter(|r| r.judge == j.judge).map(|r| r.adjusted).collect();
                let m = mine.iter().sum::<f64>() / mine.len() as f64;
                prop_assert!((m - pool.mean).abs() < 1e-6);
            }
        }

        #[test]
        fn result_does_not_depend_on_review_order(reviews in arb_reviews(), norm in prop::option::of(0u32..4)) {
            let mut rev = reviews.clone();
            rev.reverse();
            let a = aggregate(&reviews, &config(AggregationMethod::Mean, norm)).unwrap();
            let b = aggregate(&rev, &config(AggregationMethod::Mean, norm)).unwrap();
            prop_assert_eq!(a.entries.len(), b.entries.len());
            for (x, y) in a.entries.iter().zip(&b.entries) {
                prop_assert_eq!(&x.entry, &y.entry);
                prop_assert_eq!(x.score, y.score);
            }
            prop_assert_eq!(a.judges, b.judges);
            prop_assert_eq!(a.pool, b.pool);
        }
    }
}
