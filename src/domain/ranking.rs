//! Ranking entries overall and per problem.
//!
//! Order (every step is a tie-break for the one before; the last one never ties):
//!
//! 1. higher aggregated score;
//! 2. higher plain mean of the raw totals;
//! 3. more reviews (a score backed by more judges first);
//! 4. lower disagreement (more consensus first);
//! 5. entry id, ascending (arbitrary but stable).
//!
//! Ranks are positions 1, 2, 3… with no shared ranks; an entry whose score
//! equals the previous entry's carries [`RankedEntry::tied_on_score`] so pages
//! can show that a tie-break decided.

use crate::domain::aggregate::EntryAggregate;
use crate::domain::ids::{EntryId, ProblemId};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use thiserror::Error;

/// What the ranking needs to know about one entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankItem {
    /// The entry.
    pub entry: EntryId,
    /// Its problem.
    pub problem: ProblemId,
    /// Aggregated score.
    pub score: f64,
    /// Plain mean of raw totals.
    pub raw_mean: f64,
    /// Number of reviews.
    pub reviews: u32,
    /// Disagreement measure.
    pub disagreement: f64,
}

impl RankItem {
    /// From an aggregate and the entry's problem.
    pub fn from_aggregate(aggregate: &EntryAggregate, problem: ProblemId) -> Self {
        Self {
            entry: aggregate.entry.clone(),
            problem,
            score: aggregate.score,
            raw_mean: aggregate.raw_mean,
            reviews: aggregate.reviews,
            disagreement: aggregate.disagreement,
        }
    }
}

/// One line of a ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedEntry {
    /// 1-based position.
    pub rank: u32,
    /// The entry.
    pub entry: EntryId,
    /// Its problem.
    pub problem: ProblemId,
    /// Aggregated score.
    pub score: f64,
    /// The score equals the previous line's; a tie-break decided the order.
    pub tied_on_score: bool,
}

/// Overall and per-problem rankings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    /// Every entry.
    pub overall: Vec<RankedEntry>,
    /// Per problem, problems in id order.
    pub by_problem: BTreeMap<ProblemId, Vec<RankedEntry>>,
}

/// Errors from ranking.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RankingError {
    /// An entry appears twice.
    #[error("entry {0} appears twice")]
    DuplicateEntry(EntryId),
    /// A score, mean or disagreement is NaN or infinite.
    #[error("entry {0} has a non-finite score, mean or disagreement")]
    NotFinite(EntryId),
    /// No problem is known for an aggregated entry.
    #[error("no problem is known for entry {0}")]
    UnknownProblem(EntryId),
}

/// The documented order (see the module documentation).
pub fn compare(a: &RankItem, b: &RankItem) -> Ordering {
    b.score
        .total_cmp(&a.score)
        .then_with(|| b.raw_mean.total_cmp(&a.raw_mean))
        .then_with(|| b.reviews.cmp(&a.reviews))
        .then_with(|| a.disagreement.total_cmp(&b.disagreement))
        .then_with(|| a.entry.cmp(&b.entry))
}

fn lines<'a>(sorted: impl Iterator<Item = &'a RankItem>) -> Vec<RankedEntry> {
    let mut out: Vec<RankedEntry> = Vec::new();
    for (i, item) in sorted.enumerate() {
        let tied = out.last().is_some_and(|prev| prev.score == item.score);
        out.push(RankedEntry {
            rank: i as u32 + 1,
            entry: item.entry.clone(),
            problem: item.problem.clone(),
            score: item.score,
            tied_on_score: tied,
        });
    }
    out
}

/// Ranks entries overall and per problem.
pub fn rank(items: &[RankItem]) -> Result<Ranking, RankingError> {
    let mut seen = HashSet::with_capacity(items.len());
    for it in items {
        if !seen.insert(&it.entry) {
            return Err(RankingError::DuplicateEntry(it.entry.clone()));
        }
        if !(it.score.is_finite() && it.raw_mean.is_finite() && it.disagreement.is_finite()) {
            return Err(RankingError::NotFinite(it.entry.clone()));
        }
    }
    let mut sorted: Vec<&RankItem> = items.iter().collect();
    sorted.sort_by(|a, b| compare(a, b));
    let overall = lines(sorted.iter().copied());
    let mut groups: BTreeMap<&ProblemId, Vec<&RankItem>> = BTreeMap::new();
    for it in &sorted {
        groups.entry(&it.problem).or_default().push(it);
    }
    let by_problem = groups
        .into_iter()
        .map(|(p, v)| (p.clone(), lines(v.into_iter())))
        .collect();
    Ok(Ranking {
        overall,
        by_problem,
    })
}

/// Ranks aggregates, looking up each entry's problem.
pub fn rank_aggregates(
    aggregates: &[EntryAggregate],
    problem_of: &HashMap<EntryId, ProblemId>,
) -> Result<Ranking, RankingError> {
    let items = aggregates
        .iter()
        .map(|a| {
            problem_of
                .get(&a.entry)
                .map(|p| RankItem::from_aggregate(a, p.clone()))
                .ok_or_else(|| RankingError::UnknownProblem(a.entry.clone()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    rank(&items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn item(e: &str, p: &str, score: f64, raw: f64, reviews: u32, d: f64) -> RankItem {
        RankItem {
            entry: EntryId::from(e),
            problem: ProblemId::from(p),
            score,
            raw_mean: raw,
            reviews,
            disagreement: d,
        }
    }

    fn order(r: &[RankedEntry]) -> Vec<&str> {
        r.iter().map(|x| x.entry.as_str()).collect()
    }

    #[test]
    fn tie_breaks_in_documented_order() {
        let items = vec![
            item("e", "p", 70.0, 60.0, 3, 5.0),
            item("d", "p", 70.0, 60.0, 3, 5.0), // ties e everywhere but the id
            item("c", "p", 70.0, 60.0, 3, 1.0), // less disagreement
            item("b", "p", 70.0, 60.0, 4, 9.0), // more reviews
            item("a", "q", 70.0, 65.0, 2, 9.0), // higher raw mean
            item("z", "q", 80.0, 10.0, 1, 50.0), // highest score
        ];
        let r = rank(&items).unwrap();
        assert_eq!(order(&r.overall), ["z", "a", "b", "c", "d", "e"]);
        assert_eq!(
            r.overall.iter().map(|x| x.rank).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6]
        );
        assert_eq!(
            r.overall
                .iter()
                .map(|x| x.tied_on_score)
                .collect::<Vec<_>>(),
            [false, false, true, true, true, true]
        );
        assert_eq!(
            order(&r.by_problem[&ProblemId::from("p")]),
            ["b", "c", "d", "e"]
        );
        assert_eq!(order(&r.by_problem[&ProblemId::from("q")]), ["z", "a"]);
        assert_eq!(r.by_problem[&ProblemId::from("q")][1].rank, 2);
    }

    #[test]
    fn errors() {
        let items = vec![
            item("a", "p", 1.0, 1.0, 1, 0.0),
            item("a", "p", 2.0, 1.0, 1, 0.0),
        ];
        assert!(matches!(rank(&items), Err(RankingError::DuplicateEntry(_))));
        let items = vec![item("a", "p", f64::NAN, 1.0, 1, 0.0)];
        assert!(matches!(rank(&items), Err(RankingError::NotFinite(_))));
        let agg = EntryAggregate {
            entry: EntryId::from("x"),
            score: 1.0,
            raw_mean: 1.0,
            reviews: 1,
            disagreement: 0.0,
            flagged: false,
            uncorrected_reviews: 0,
        };
        assert!(matches!(
            rank_aggregates(std::slice::from_ref(&agg), &HashMap::new()),
            Err(RankingError::UnknownProblem(_))
        ));
        let map = HashMap::from([(EntryId::from("x"), ProblemId::from("p"))]);
        assert_eq!(rank_aggregates(&[agg], &map).unwrap().overall.len(), 1);
    }

    fn arb_items() -> impl Strategy<Value = Vec<RankItem>> {
        prop::collection::btree_map(0u16..200, (0u8..4, 0u8..5, 0u8..5, 1u32..4, 0u8..3), 0..40)
            .prop_map(|m| {
                m.into_iter()
                    .map(|(e, (p, s, raw, n, d))| {
                        item(
                            &format!("e{e}"),
                            &format!("p{p}"),
                            f64::from(s) * 10.0,
                            f64::from(raw),
                            n,
                            f64::from(d),
                        )
                    })
                    .collect()
            })
    }

    proptest! {
        #[test]
        fn ranks_are_a_permutation_sorted_by_score(items in arb_items()) {
            let r = rank(&items).unwrap();
            prop_assert_eq!(r.overall.len(), items.len());
            for (i, line) in r.overall.iter().enumerate() {
                prop_assert_eq!(line.rank as usize, i + 1);
            }
            for w in r.overall.windows(2) {
                prop_assert!(w[0].score >= w[1].score);
                prop_assert_eq!(w[1].tied_on_score, w[0].score == w[1].score);
            }
            let per: usize = r.by_problem.values().map(Vec::len).sum();
            prop_assert_eq!(per, items.len());
            for (p, lines) in &r.by_problem {
                prop_assert!(lines.iter().all(|l| &l.problem == p));
                // Per-problem order is the overall order restricted to the problem.
                let restricted: Vec<&EntryId> = r.overall.iter().filter(|l| &l.problem == p).map(|l| &l.entry).collect();
                let mine: Vec<&EntryId> = lines.iter().map(|l| &l.entry).collect();
                prop_assert_eq!(restricted, mine);
            }
        }

        #[test]
        fn ranking_does_not_depend_on_input_order(items in arb_items()) {
            let mut rev = items.clone();
            rev.reverse();
            prop_assert_eq!(rank(&items).unwrap(), rank(&rev).unwrap());
        }
    }
}
