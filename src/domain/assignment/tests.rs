//! Unit and property tests of the assigner.

use super::conflict::find_conflict;
use super::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------
// Builders

fn entry(id: &str, field: &str, orgs: &[&str]) -> Entry {
    Entry {
        id: EntryId::from(id),
        problem: ProblemId::from("p1"),
        field: FieldId::from(field),
        team: TeamId::from(format!("team-{id}")),
        members: orgs
            .iter()
            .map(|o| TeamMember {
                organization: Some((*o).to_owned()),
                email_domain: Some("gmail.com".to_owned()),
            })
            .collect(),
    }
}

fn judge(id: &str, org: &str, max_load: u32, expertise: &[(&str, ExpertiseLevel)]) -> Judge {
    Judge {
        id: JudgeId::from(id),
        expertise: expertise
            .iter()
            .map(|(f, l)| Expertise {
                field: FieldId::from(*f),
                level: *l,
            })
            .collect(),
        organization: Some(org.to_owned()),
        email_domain: None,
        max_load,
    }
}

fn input(entries: Vec<Entry>, judges: Vec<Judge>, k: u32) -> AssignmentInput {
    AssignmentInput {
        entries,
        judges,
        declared_conflicts: vec![],
        existing: vec![],
        k,
        mode: AssignmentMode::Full,
        seed: 7,
        costs: CostModel::default(),
    }
}

fn pairs(plan: &AssignmentPlan) -> BTreeSet<(String, String)> {
    plan.assignments
        .iter()
        .map(|p| (p.entry.0.clone(), p.judge.0.clone()))
        .collect()
}

fn load_of(plan: &AssignmentPlan, judge: &str) -> u32 {
    plan.loads
        .iter()
        .find(|l| l.judge.as_str() == judge)
        .map_or(0, |l| l.load)
}

fn existing(judge: &str, entry: &str, started: bool) -> ExistingAssignment {
    ExistingAssignment {
        judge: JudgeId::from(judge),
        entry: EntryId::from(entry),
        started,
    }
}

use ExpertiseLevel::{Expert, Knowledgeable};

// ---------------------------------------------------------------------------
// Unit tests

#[test]
fn full_assignment_fills_every_entry_and_balances_loads() {
    let entries = (0..4)
        .map(|i| entry(&format!("e{i}"), "f", &["Team Org"]))
        .collect();
    let judges = (0..3)
        .map(|i| judge(&format!("j{i}"), "Judge Org", 10, &[]))
        .collect();
    let plan = assign(&input(entries, judges, 2)).unwrap();
    assert_eq!(plan.assignments.len(), 8);
    assert_eq!(plan.stats.entries_complete, 4);
    assert!(plan.load_spread() <= 1);
    assert_eq!(plan.stats.new_pairs, 8);
    for e in 0..4 {
        let id = EntryId::from(format!("e{e}"));
        assert_eq!(plan.judges_of(&id).count(), 2);
    }
}

#[test]
fn never_assigns_a_conflicted_judge() {
    let entries = vec![entry("e1", "f", &["Đại học Bách khoa Hà Nội"])];
    let judges = vec![
        judge("j1", "DAI HOC BACH KHOA  HA NOI", 5, &[("f", Expert)]),
        judge("j2", "Other", 5, &[]),
        judge("j3", "Another", 5, &[]),
    ];
    let plan = assign(&input(entries, judges, 2)).unwrap();
    assert_eq!(
        pairs(&plan),
        BTreeSet::from([("e1".into(), "j2".into()), ("e1".into(), "j3".into())])
    );
    // The expert exists but is conflicted, so this is not an expert gap.
    assert_eq!(plan.stats.entries_with_expert_available, 0);
    assert!(plan.stats.expert_gaps.is_empty());
}

#[test]
fn reports_too_few_judges_without_conflict() {
    let entries = vec![entry("e1", "f", &["A"]), entry("e2", "f", &["B"])];
    let judges = vec![judge("j1", "A", 5, &[]), judge("j2", "C", 5, &[])];
    let err = assign(&input(entries, judges, 2)).unwrap_err();
    let AssignmentError::Infeasible(inf) = err else {
        panic!("expected infeasible")
    };
    assert_eq!(inf.shortfalls.len(), 1);
    let s = &inf.shortfalls[0];
    assert_eq!(s.entry.as_str(), "e1");
    assert_eq!(s.assigned, 1);
    assert_eq!(s.eligible_judges, 1);
    assert_eq!(s.reason, ShortfallReason::TooFewJudgesWithoutConflict);
    // The partial plan is still valid and complete elsewhere.
    assert_eq!(inf.plan.stats.entries_complete, 1);
    assert_eq!(inf.plan.assignments.len(), 3);
}

#[test]
fn reports_loads_too_low() {
    let entries = (0..3)
        .map(|i| entry(&format!("e{i}"), "f", &["T"]))
        .collect();
    let judges = vec![judge("j1", "A", 2, &[]), judge("j2", "B", 2, &[])];
    let err = assign(&input(entries, judges, 2)).unwrap_err();
    let AssignmentError::Infeasible(inf) = err else {
        panic!("expected infeasible")
    };
    // 6 seats, 4 units of capacity: 2 seats are missing, and the shortage is
    // spread (seat ladder) instead of leaving one entry without any judge.
    let missing: u32 = inf.shortfalls.iter().map(|s| s.wanted - s.assigned).sum();
    assert_eq!(missing, 2);
    assert_eq!(inf.shortfalls.len(), 2);
    assert!(inf.shortfalls.iter().all(|s| s.assigned == 1));
    assert!(
        inf.shortfalls
            .iter()
            .all(|s| s.reason == ShortfallReason::JudgeLoadsTooLow)
    );
    assert!(err_message_mentions_count(&AssignmentError::Infeasible(
        inf.clone()
    )));
}

fn err_message_mentions_count(e: &AssignmentError) -> bool {
    e.to_string().contains("cannot get k judges")
}

#[test]
fn gives_each_entry_an_expert_even_above_the_even_share() {
    // Four entries in field "ai", one expert; k = 1. Evenness alone would give
    // the expert one entry; expert coverage gives them all four.
    let entries = (0..4)
        .map(|i| entry(&format!("e{i}"), "ai", &["T"]))
        .collect();
    let judges = vec![
        judge("expert", "A", 10, &[("ai", Expert)]),
        judge("j2", "B", 10, &[]),
        judge("j3", "C", 10, &[]),
        judge("j4", "D", 10, &[]),
    ];
    let plan = assign(&input(entries, judges, 1)).unwrap();
    assert_eq!(load_of(&plan, "expert"), 4);
    assert_eq!(plan.stats.entries_with_expert, 4);
    // ... but only up to the expert's maximum load.
    let entries = (0..4)
        .map(|i| entry(&format!("e{i}"), "ai", &["T"]))
        .collect();
    let judges = vec![
        judge("expert", "A", 2, &[("ai", Expert)]),
        judge("j2", "B", 10, &[]),
    ];
    let plan = assign(&input(entries, judges, 1)).unwrap();
    assert_eq!(plan.stats.entries_with_expert, 2);
    assert_eq!(plan.stats.expert_gaps.len(), 2);
}

#[test]
fn prefers_better_match_at_equal_load() {
    let entries = vec![entry("e1", "health", &["T"]), entry("e2", "farm", &["T"])];
    let judges = vec![
        judge("a", "A", 5, &[("farm", Knowledgeable)]),
        judge("b", "B", 5, &[("health", Knowledgeable)]),
    ];
    let plan = assign(&input(entries, judges, 1)).unwrap();
    assert_eq!(
        pairs(&plan),
        BTreeSet::from([("e1".into(), "b".into()), ("e2".into(), "a".into())])
    );
    assert!(
        plan.assignments
            .iter()
            .all(|p| p.level == MatchLevel::Knowledgeable)
    );
}

#[test]
fn top_up_keeps_existing_and_fills_the_rest() {
    let entries = vec![entry("e1", "f", &["T"]), entry("e2", "f", &["T"])];
    let judges = (0..4)
        .map(|i| judge(&format!("j{i}"), &format!("O{i}"), 5, &[]))
        .collect();
    let mut inp = input(entries, judges, 2);
    inp.mode = AssignmentMode::TopUp;
    inp.existing = vec![
        existing("j0", "e1", false),
        existing("j1", "e1", true),
        existing("j2", "e1", false), // e1 is already above k: nothing removed
        existing("j0", "e2", false),
    ];
    let plan = assign(&inp).unwrap();
    for e in &inp.existing {
        assert!(
            plan.assignments
                .iter()
                .any(|p| p.judge == e.judge && p.entry == e.entry && p.origin == PairOrigin::Fixed)
        );
    }
    assert_eq!(plan.judges_of(&EntryId::from("e1")).count(), 3);
    assert_eq!(plan.judges_of(&EntryId::from("e2")).count(), 2);
    assert_eq!(plan.stats.new_pairs, 1);
    assert!(plan.dropped.is_empty());
    // The new judge for e2 is the least loaded one: j3 (load 0).
    assert!(pairs(&plan).contains(&("e2".into(), "j3".into())));
}

#[test]
fn rebalance_moves_unstarted_but_never_started() {
    // j0 holds all four entries (two started); j1 has none.
    let entries = (0..4)
        .map(|i| entry(&format!("e{i}"), "f", &["T"]))
        .collect();
    let judges = vec![judge("j0", "A", 10, &[]), judge("j1", "B", 10, &[])];
    let mut inp = input(entries, judges, 1);
    inp.mode = AssignmentMode::Rebalance;
    inp.existing = vec![
        existing("j0", "e0", true),
        existing("j0", "e1", true),
        existing("j0", "e2", false),
        existing("j0", "e3", false),
    ];
    let plan = assign(&inp).unwrap();
    assert_eq!(load_of(&plan, "j0"), 2);
    assert_eq!(load_of(&plan, "j1"), 2);
    assert_eq!(plan.stats.fixed_pairs, 2);
    assert_eq!(plan.dropped.len(), 2);
    assert!(plan.dropped.iter().all(|d| !d.started));
}

#[test]
fn rebalance_does_not_churn_a_balanced_plan() {
    let entries = (0..4)
        .map(|i| entry(&format!("e{i}"), "f", &["T"]))
        .collect();
    let judges = vec![judge("j0", "A", 10, &[]), judge("j1", "B", 10, &[])];
    let mut inp = input(entries, judges, 1);
    inp.mode = AssignmentMode::Rebalance;
    // Balanced but "unlucky" for the seeded order: keeping must still win.
    inp.existing = vec![
        existing("j1", "e0", false),
        existing("j0", "e1", false),
        existing("j1", "e2", false),
        existing("j0", "e3", false),
    ];
    let plan = assign(&inp).unwrap();
    assert_eq!(plan.stats.kept_pairs, 4);
    assert!(plan.dropped.is_empty());
}

#[test]
fn full_mode_refuses_started_and_drops_unstarted() {
    let entries = vec![entry("e1", "f", &["T"])];
    let judges = vec![judge("j0", "A", 10, &[]), judge("j1", "B", 10, &[])];
    let mut inp = input(entries, judges, 1);
    inp.existing = vec![existing("j0", "e1", true)];
    assert!(matches!(
        assign(&inp),
        Err(AssignmentError::StartedInFullMode { .. })
    ));
    inp.existing = vec![existing("j0", "e1", false), existing("j1", "e1", false)];
    let plan = assign(&inp).unwrap();
    assert_eq!(plan.assignments.len(), 1);
    assert_eq!(plan.assignments[0].origin, PairOrigin::Kept);
    assert_eq!(plan.dropped.len(), 1);
}

#[test]
fn validation_errors() {
    let e = || vec![entry("e1", "f", &["T"])];
    let j = || vec![judge("j0", "A", 1, &[])];
    assert_eq!(assign(&input(e(), j(), 0)), Err(AssignmentError::ZeroK));
    let mut dup = e();
    dup.push(entry("e1", "f", &["T"]));
    assert!(matches!(
        assign(&input(dup, j(), 1)),
        Err(AssignmentError::DuplicateEntry(_))
    ));
    let mut dupj = j();
    dupj.push(judge("j0", "B", 1, &[]));
    assert!(matches!(
        assign(&input(e(), dupj, 1)),
        Err(AssignmentError::DuplicateJudge(_))
    ));
    let mut inp = input(e(), j(), 1);
    inp.mode = AssignmentMode::TopUp;
    inp.existing = vec![existing("nobody", "e1", false)];
    assert!(matches!(
        assign(&inp),
        Err(AssignmentError::UnknownJudge(_))
    ));
    inp.existing = vec![existing("j0", "nothing", false)];
    assert!(matches!(
        assign(&inp),
        Err(AssignmentError::UnknownEntry(_))
    ));
    inp.existing = vec![existing("j0", "e1", false), existing("j0", "e1", true)];
    assert!(matches!(
        assign(&inp),
        Err(AssignmentError::DuplicateExisting { .. })
    ));
    let mut inp = input(vec![entry("e1", "f", &["A"])], j(), 1);
    inp.mode = AssignmentMode::TopUp;
    inp.existing = vec![existing("j0", "e1", false)];
    assert!(matches!(
        assign(&inp),
        Err(AssignmentError::ConflictedExisting {
            reason: ConflictReason::SameOrganization,
            ..
        })
    ));
    // Rebalance silently drops a conflicted unstarted assignment.
    inp.mode = AssignmentMode::Rebalance;
    let AssignmentError::Infeasible(inf) = assign(&inp).unwrap_err() else {
        panic!()
    };
    assert_eq!(inf.plan.dropped.len(), 1);
    let mut inp = input(
        vec![entry("e1", "f", &["T"]), entry("e2", "f", &["T"])],
        j(),
        1,
    );
    inp.mode = AssignmentMode::TopUp;
    inp.existing = vec![existing("j0", "e1", false), existing("j0", "e2", false)];
    assert!(matches!(
        assign(&inp),
        Err(AssignmentError::FixedLoadAboveMax { load: 2, .. })
    ));
    let mut inp = input(e(), j(), 1);
    inp.costs.load_step = 0;
    assert!(matches!(
        assign(&inp),
        Err(AssignmentError::InvalidCostModel(_))
    ));
}

#[test]
fn absurd_k_is_reported_not_built() {
    let entries = vec![entry("e1", "f", &["T"])];
    let judges = vec![judge("j0", "A", 5, &[]), judge("j1", "B", 5, &[])];
    let AssignmentError::Infeasible(inf) = assign(&input(entries, judges, u32::MAX)).unwrap_err()
    else {
        panic!("expected infeasible")
    };
    assert_eq!(inf.plan.assignments.len(), 2);
    assert_eq!(
        inf.shortfalls[0].reason,
        ShortfallReason::TooFewJudgesWithoutConflict
    );
}

#[test]
fn empty_inputs() {
    let plan = assign(&input(vec![], vec![], 3)).unwrap();
    assert!(plan.assignments.is_empty());
    let err = assign(&input(vec![entry("e", "f", &[])], vec![], 3)).unwrap_err();
    assert!(matches!(err, AssignmentError::Infeasible(_)));
}

#[test]
fn seed_changes_only_tie_breaks() {
    let entries: Vec<Entry> = (0..6)
        .map(|i| entry(&format!("e{i}"), "f", &["T"]))
        .collect();
    let judges: Vec<Judge> = (0..4)
        .map(|i| judge(&format!("j{i}"), &format!("O{i}"), 9, &[]))
        .collect();
    let mut a = input(entries, judges, 2);
    let p1 = assign(&a).unwrap();
    assert_eq!(p1, assign(&a).unwrap());
    a.seed = 99;
    let p2 = assign(&a).unwrap();
    assert_eq!(p1.stats.total_cost, p2.stats.total_cost);
    assert_eq!(
        p1.loads.iter().map(|l| l.load).max(),
        p2.loads.iter().map(|l| l.load).max()
    );
}

// ---------------------------------------------------------------------------
// Property tests on small random instances

const ORGS: &[&str] = &["Org A", "ORG  a", "Org B", "Sở TT&TT", "so tt tt", "Org C"];
const DOMAINS: &[&str] = &[
    "gmail.com",
    "a.gov.vn",
    "mail.a.gov.vn",
    "b.gov.vn",
    "gov.vn",
    "x.com",
];
const FIELDS: &[&str] = &["f0", "f1", "f2"];

/// A small judge: organization, email domain, maximum load, expertise (field, is expert).
type SmallJudge = (Option<usize>, Option<usize>, u32, Vec<(usize, bool)>);

#[derive(Debug, Clone)]
struct Small {
    k: u32,
    mode: AssignmentMode,
    seed: u64,
    entries: Vec<(usize, Vec<(usize, usize)>)>, // field, members (org, domain)
    judges: Vec<SmallJudge>,
    declared: Vec<(usize, usize, u8)>, // judge, entry, kind
    existing: Vec<(usize, usize, bool)>,
}

fn small() -> impl Strategy<Value = Small> {
    (1usize..6, 1usize..6).prop_flat_map(|(ne, nj)| {
        let entries = prop::collection::vec(
            (
                0..FIELDS.len(),
                prop::collection::vec((0..ORGS.len(), 0..DOMAINS.len()), 0..3),
            ),
            ne,
        );
        let judges = prop::collection::vec(
            (
                prop::option::of(0..ORGS.len()),
                prop::option::of(0..DOMAINS.len()),
                0u32..5,
                prop::collection::vec((0..FIELDS.len(), any::<bool>()), 0..3),
            ),
            nj,
        );
        let declared = prop::collection::vec((0..nj, 0..ne, 0u8..3), 0..3);
        let existing = prop::collection::vec((0..nj, 0..ne, any::<bool>()), 0..4);
        let mode = prop_oneof![
            Just(AssignmentMode::Full),
            Just(AssignmentMode::TopUp),
            Just(AssignmentMode::Rebalance)
        ];
        (
            1u32..4,
            mode,
            any::<u64>(),
            entries,
            judges,
            declared,
            existing,
        )
            .prop_map(
                |(k, mode, seed, entries, judges, declared, existing)| Small {
                    k,
                    mode,
                    seed,
                    entries,
                    judges,
                    declared,
                    existing,
                },
            )
    })
}

fn build(s: &Small) -> AssignmentInput {
    let entries: Vec<Entry> = s
        .entries
        .iter()
        .enumerate()
        .map(|(i, (f, members))| Entry {
            id: EntryId::from(format!("e{i}")),
            problem: ProblemId::from("p"),
            field: FieldId::from(FIELDS[*f]),
            team: TeamId::from(format!("t{}", i % 3)),
            members: members
                .iter()
                .map(|(o, d)| TeamMember {
                    organization: Some(ORGS[*o].to_owned()),
                    email_domain: Some(DOMAINS[*d].to_owned()),
                })
                .collect(),
        })
        .collect();
    let judges: Vec<Judge> = s
        .judges
        .iter()
        .enumerate()
        .map(|(i, (o, d, max, ex))| Judge {
            id: JudgeId::from(format!("j{i}")),
            expertise: ex
                .iter()
                .map(|(f, expert)| Expertise {
                    field: FieldId::from(FIELDS[*f]),
                    level: if *expert { Expert } else { Knowledgeable },
                })
                .collect(),
            organization: o.map(|o| ORGS[o].to_owned()),
            email_domain: d.map(|d| DOMAINS[d].to_owned()),
            max_load: *max,
        })
        .collect();
    let declared: Vec<DeclaredConflict> = s
        .declared
        .iter()
        .map(|&(j, e, kind)| DeclaredConflict {
            judge: judges[j].id.clone(),
            with: match kind {
                0 => ConflictTarget::Entry(entries[e].id.clone()),
                1 => ConflictTarget::Team(entries[e].team.clone()),
                _ => ConflictTarget::Organization(
                    entries[e]
                        .members
                        .first()
                        .and_then(|m| m.organization.clone())
                        .unwrap_or_default(),
                ),
            },
        })
        .collect();
    // Keep only existing assignments that are valid for the mode: no
    // duplicates, no conflicts, and fixed loads within the maximum.
    let mut seen = BTreeSet::new();
    let mut fixed_load = vec![0u32; judges.len()];
    let mut existing_list = Vec::new();
    for &(j, e, started) in &s.existing {
        if !seen.insert((j, e)) || find_conflict(&judges[j], &entries[e], &declared).is_some() {
            continue;
        }
        let started = started && s.mode != AssignmentMode::Full;
        let fixed = s.mode == AssignmentMode::TopUp || started;
        if fixed {
            if fixed_load[j] >= judges[j].max_load {
                continue;
            }
            fixed_load[j] += 1;
        }
        existing_list.push(ExistingAssignment {
            judge: judges[j].id.clone(),
            entry: entries[e].id.clone(),
            started,
        });
    }
    AssignmentInput {
        entries,
        judges,
        declared_conflicts: declared,
        existing: existing_list,
        k: s.k,
        mode: s.mode,
        seed: s.seed,
        costs: CostModel::default(),
    }
}

fn plan_of(r: &Result<AssignmentPlan, AssignmentError>) -> &AssignmentPlan {
    match r {
        Ok(p) => p,
        Err(AssignmentError::Infeasible(inf)) => &inf.plan,
        Err(e) => panic!("unexpected error {e}"),
    }
}

/// Exhaustive search: can every entry reach k judges? Fixed pairs are given;
/// new pairs must be conflict-free and within the judges' maximum loads.
fn brute_force_feasible(inp: &AssignmentInput) -> bool {
    let nj = inp.judges.len();
    let ne = inp.entries.len();
    let mut fixed = vec![vec![false; nj]; ne];
    let mut cap: Vec<i64> = inp.judges.iter().map(|j| i64::from(j.max_load)).collect();
    for a in &inp.existing {
        let is_fixed = inp.mode == AssignmentMode::TopUp || a.started;
        if is_fixed {
            let j = inp.judges.iter().position(|x| x.id == a.judge).unwrap();
            let e = inp.entries.iter().position(|x| x.id == a.entry).unwrap();
            fixed[e][j] = true;
            cap[j] -= 1;
        }
    }
    let allowed: Vec<Vec<bool>> = (0..ne)
        .map(|e| {
            (0..nj)
                .map(|j| {
                    !fixed[e][j]
                        && find_conflict(&inp.judges[j], &inp.entries[e], &inp.declared_conflicts)
                            .is_none()
                })
                .collect()
        })
        .collect();
    let need: Vec<usize> = (0..ne)
        .map(|e| (inp.k as usize).saturating_sub(fixed[e].iter().filter(|x| **x).count()))
        .collect();

    fn go(
        e: usize,
        start: usize,
        left: usize,
        need: &[usize],
        allowed: &[Vec<bool>],
        cap: &mut [i64],
    ) -> bool {
        if e == need.len() {
            return true;
        }
        if left == 0 {
            let next_need = need.get(e + 1).copied().unwrap_or(0);
            return go(e + 1, 0, next_need, need, allowed, cap);
        }
        for j in start..cap.len() {
            if allowed[e][j] && cap[j] > 0 {
                cap[j] -= 1;
                if go(e, j + 1, left - 1, need, allowed, cap) {
                    cap[j] += 1;
                    return true;
                }
                cap[j] += 1;
            }
        }
        false
    }
    go(
        0,
        0,
        need.first().copied().unwrap_or(0),
        &need,
        &allowed,
        &mut cap,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn hard_constraints_hold_and_infeasibility_is_real(s in small()) {
        let inp = build(&s);
        let result = assign(&inp);
        let plan = plan_of(&result);
        // No conflicted pair, checked pair by pair with the slow explainer.
        for p in &plan.assignments {
            let j = inp.judges.iter().find(|j| j.id == p.judge).unwrap();
            let e = inp.entries.iter().find(|e| e.id == p.entry).unwrap();
            prop_assert_eq!(find_conflict(j, e, &inp.declared_conflicts), None);
        }
        // No pair twice; loads within maxima and consistent with the pairs.
        let set = pairs(plan);
        prop_assert_eq!(set.len(), plan.assignments.len());
        let mut counted: BTreeMap<&str, u32> = BTreeMap::new();
        for p in &plan.assignments {
            *counted.entry(p.judge.as_str()).or_default() += 1;
        }
        for l in &plan.loads {
            prop_assert!(l.load <= l.max_load);
            prop_assert_eq!(counted.get(l.judge.as_str()).copied().unwrap_or(0), l.load);
        }
        // Fixed assignments survive.
        for a in &inp.existing {
            if inp.mode == AssignmentMode::TopUp || a.started {
                prop_assert!(set.contains(&(a.entry.0.clone(), a.judge.0.clone())));
            }
        }
        // No entry gets more new judges than it needs.
        for e in &inp.entries {
            let fixed = plan.assignments.iter().filter(|p| p.entry == e.id && p.origin == PairOrigin::Fixed).count() as u32;
            let total = plan.judges_of(&e.id).count() as u32;
            prop_assert!(total <= inp.k.max(fixed));
        }
        // Feasibility agrees with exhaustive search.
        let feasible = brute_force_feasible(&inp);
        prop_assert_eq!(result.is_ok(), feasible, "result {:?}", result.as_ref().err());
        if let Err(AssignmentError::Infeasible(inf)) = &result {
            prop_assert!(!inf.shortfalls.is_empty());
            for sf in &inf.shortfalls {
                let e = inp.entries.iter().find(|e| e.id == sf.entry).unwrap();
                let eligible = inp.judges.iter().filter(|j| j.max_load > 0 && find_conflict(j, e, &inp.declared_conflicts).is_none()).count() as u32;
                prop_assert_eq!(sf.eligible_judges, eligible);
                prop_assert_eq!(sf.reason == ShortfallReason::TooFewJudgesWithoutConflict, eligible < inp.k);
                prop_assert!(sf.assigned < sf.wanted);
            }
        }
    }

    #[test]
    fn an_entry_lacks_an_expert_only_when_every_free_expert_is_full(s in small()) {
        let inp = build(&s);
        let result = assign(&inp);
        let plan = plan_of(&result);
        for e in &inp.entries {
            let has_expert = plan.assignments.iter().any(|p| p.entry == e.id && p.level == MatchLevel::Expert);
            if has_expert {
                continue;
            }
            let fixed_full = plan.assignments.iter().filter(|p| p.entry == e.id).count() as u32 >= inp.k
                && plan.assignments.iter().filter(|p| p.entry == e.id).all(|p| p.origin == PairOrigin::Fixed);
            if fixed_full {
                continue; // nothing could be added to this entry
            }
            for j in &inp.judges {
                let expert = j.expertise.iter().any(|x| x.field == e.field && x.level == Expert);
                if expert && find_conflict(j, e, &inp.declared_conflicts).is_none() {
                    prop_assert_eq!(load_of(plan, j.id.as_str()), j.max_load, "expert {} has room for {}", j.id, e.id);
                }
            }
        }
    }

    #[test]
    fn result_does_not_depend_on_input_order(s in small(), shuffle_seed in any::<u64>()) {
        let inp = build(&s);
        let mut shuffled = inp.clone();
        let mut x = shuffle_seed;
        let mut next = move || { x = crate::domain::ids::splitmix64(x); x };
        fn shuffle<T>(v: &mut [T], next: &mut dyn FnMut() -> u64) {
            for i in (1..v.len()).rev() {
                let j = (next() % (i as u64 + 1)) as usize;
                v.swap(i, j);
            }
        }
        shuffle(&mut shuffled.entries, &mut next);
        shuffle(&mut shuffled.judges, &mut next);
        shuffle(&mut shuffled.declared_conflicts, &mut next);
        shuffle(&mut shuffled.existing, &mut next);
        prop_assert_eq!(assign(&inp), assign(&shuffled));
    }

    #[test]
    fn without_constraints_load_spread_is_at_most_one(
        ne in 0usize..40, nj in 1usize..12, k in 1u32..4, seed in any::<u64>()
    ) {
        let k = k.min(nj as u32);
        let entries = (0..ne).map(|i| entry(&format!("e{i}"), "f", &[])).collect();
        let judges = (0..nj).map(|i| Judge {
            id: JudgeId::from(format!("j{i}")),
            expertise: vec![],
            organization: None,
            email_domain: None,
            max_load: 1_000,
        }).collect();
        let mut inp = input(entries, judges, k);
        inp.seed = seed;
        let plan = assign(&inp).unwrap();
        prop_assert!(plan.load_spread() <= 1, "loads {:?}", plan.loads);
        prop_assert_eq!(plan.assignments.len(), ne * k as usize);
    }

    #[test]
    fn top_up_after_full_changes_nothing(s in small()) {
        let mut inp = build(&s);
        inp.mode = AssignmentMode::Full;
        inp.existing.clear();
        if let Ok(plan) = assign(&inp) {
            inp.mode = AssignmentMode::TopUp;
            inp.existing = plan.assignments.iter().map(|p| ExistingAssignment { judge: p.judge.clone(), entry: p.entry.clone(), started: false }).collect();
            let again = assign(&inp).unwrap();
            prop_assert_eq!(pairs(&again), pairs(&plan));
            prop_assert_eq!(again.stats.new_pairs, 0);
        }
    }
}
