//! Assignment of judges to entries.
//!
//! [`assign`] gives every entry `k` judges, never a conflicted judge
//! ([`conflict`]), never more entries to a judge than their maximum load, loads
//! as even as possible, at least one expert in the entry's field wherever an
//! expert can still take it, and otherwise the best expertise match. It
//! supports a full assignment, a top-up of entries below `k`, and a rebalance
//! that may drop unstarted assignments but never started ones. When some entry
//! cannot get `k` judges it returns [`AssignmentError::Infeasible`], which
//! carries the partial plan together with the list of short entries and why.
//!
//! # Cost model
//!
//! The assignment is a min-cost max-flow ([`mcf`]) in the spirit of HotCRP's
//! auto-assigner: *source → judge → entry → sink*. The entry → sink arcs
//! carry `k` minus the judges the entry already has, so the maximum flow fills as
//! many seats as the constraints allow, and among those fillings the solver
//! picks the cheapest. A judge → entry arc exists only where the pair is
//! allowed (no conflict, not already assigned) and costs `0` for an expert in
//! the entry's field, [`CostModel::knowledgeable_cost`] for a knowledgeable
//! judge and [`CostModel::no_match_cost`] otherwise; in rebalance mode every
//! pair that is not an existing unstarted assignment also pays
//! [`CostModel::churn_cost`]. The source → judge arcs form a *ladder*: a judge's
//! n-th entry is free up to the even share `T = ⌊total seats / judges⌋` and
//! costs `load_step × (n − T)` above it, so marginal cost rises with load and
//! the cheapest flow spreads load evenly (spread ≤ 1 when nothing else
//! interferes, because the match costs are kept below `load_step`). The first
//! expert on an entry is rewarded through an extra *hub* node per entry:
//! experts reach the entry through the hub, whose first unit is free, while
//! every other seat (non-expert or second expert) pays a penalty `P` larger
//! than any ladder step plus churn. All costs stay non-negative, and an entry
//! lacks an expert only if every conflict-free expert in its field is at their
//! maximum load. When capacity runs out, entry → sink is itself a ladder
//! (the n-th seat of an entry costs more than any other trade-off), so the
//! shortage is spread over entries rather than leaving some with no judge.
//! Priorities are therefore, in order: fill seats, cover each
//! entry with one expert, even loads, expertise match, then (rebalance only)
//! keep existing unstarted assignments. Determinism: entries and judges are
//! processed in the order of a seeded stable hash of their ids, so input order
//! never matters and `seed` chooses among equally good assignments.

pub mod conflict;
pub mod mcf;

use crate::domain::ids::{EntryId, FieldId, JudgeId, ProblemId, TeamId, stable_hash};
use conflict::{ConflictIndex, ConflictReason};
use mcf::{FlowNetwork, McfError};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use thiserror::Error;

/// One member of the team behind an entry.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TeamMember {
    /// Organization as typed by the member (normalized before comparison).
    #[serde(default)]
    pub organization: Option<String>,
    /// Email address or domain.
    #[serde(default)]
    pub email_domain: Option<String>,
}

/// An entry to be judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Entry id.
    pub id: EntryId,
    /// The problem the entry answers.
    pub problem: ProblemId,
    /// The field of the entry (matched against judges' expertise).
    pub field: FieldId,
    /// The team that submitted it.
    pub team: TeamId,
    /// Team members (used for automatic conflicts).
    #[serde(default)]
    pub members: Vec<TeamMember>,
}

/// How well a judge knows a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpertiseLevel {
    /// Knows the field well enough to judge it.
    Knowledgeable,
    /// An expert of the field.
    Expert,
}

/// One field of a judge's expertise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expertise {
    /// The field.
    pub field: FieldId,
    /// The level.
    pub level: ExpertiseLevel,
}

/// A judge in the pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judge {
    /// Judge id.
    pub id: JudgeId,
    /// Fields of expertise (the highest level counts if a field repeats).
    #[serde(default)]
    pub expertise: Vec<Expertise>,
    /// Organization (normalized before comparison).
    #[serde(default)]
    pub organization: Option<String>,
    /// Email address or domain.
    #[serde(default)]
    pub email_domain: Option<String>,
    /// Maximum number of entries, existing assignments included.
    pub max_load: u32,
}

/// What a declared conflict is with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictTarget {
    /// Every entry of a team.
    Team(TeamId),
    /// Every entry with a member from this organization (normalized).
    Organization(String),
    /// One entry.
    Entry(EntryId),
}

/// A conflict declared by a judge or an organizer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredConflict {
    /// The judge.
    pub judge: JudgeId,
    /// What the judge conflicts with.
    pub with: ConflictTarget,
}

/// An assignment that already exists.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExistingAssignment {
    /// The judge.
    pub judge: JudgeId,
    /// The entry.
    pub entry: EntryId,
    /// Whether the judge has started the review (a started assignment is never dropped).
    pub started: bool,
}

/// What [`assign`] may do with existing assignments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentMode {
    /// Assign from scratch; unstarted existing assignments are discarded
    /// (listed in [`AssignmentPlan::dropped`] unless chosen again) and started
    /// ones are refused with [`AssignmentError::StartedInFullMode`].
    #[default]
    Full,
    /// Keep every existing assignment and add judges to entries below `k`.
    TopUp,
    /// Keep started assignments; unstarted ones may be dropped or moved to
    /// even out loads (keeping them is preferred, see [`CostModel::churn_cost`]).
    Rebalance,
}

/// Integer weights of the cost model (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CostModel {
    /// Cost of each entry a judge takes above the even share, per entry above it.
    pub load_step: u32,
    /// Cost of a knowledgeable (not expert) judge on an entry of that field.
    pub knowledgeable_cost: u32,
    /// Cost of a judge with no expertise in the entry's field.
    pub no_match_cost: u32,
    /// Rebalance only: cost of any pair that is not an existing unstarted assignment.
    pub churn_cost: u32,
}

impl Default for CostModel {
    fn default() -> Self {
        Self {
            load_step: 8,
            knowledgeable_cost: 2,
            no_match_cost: 6,
            churn_cost: 7,
        }
    }
}

impl CostModel {
    /// Upper bound on any single weight, which keeps all costs well inside `i32`.
    pub const MAX_WEIGHT: u32 = 10_000;

    /// Checks the weights: `load_step ≥ 1`, every weight ≤ [`Self::MAX_WEIGHT`].
    /// (Keeping match and churn costs below `load_step` is what makes loads as
    /// even as possible; larger values trade evenness for match quality.)
    pub fn validate(&self) -> Result<(), AssignmentError> {
        if self.load_step == 0 {
            return Err(AssignmentError::InvalidCostModel(
                "load_step must be at least 1",
            ));
        }
        if [
            self.load_step,
            self.knowledgeable_cost,
            self.no_match_cost,
            self.churn_cost,
        ]
        .iter()
        .any(|w| *w > Self::MAX_WEIGHT)
        {
            return Err(AssignmentError::InvalidCostModel(
                "a weight exceeds MAX_WEIGHT",
            ));
        }
        Ok(())
    }
}

/// Everything [`assign`] needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentInput {
    /// Entries to judge.
    pub entries: Vec<Entry>,
    /// The judge pool.
    pub judges: Vec<Judge>,
    /// Declared conflicts (those naming judges outside the pool are ignored).
    #[serde(default)]
    pub declared_conflicts: Vec<DeclaredConflict>,
    /// Existing assignments.
    #[serde(default)]
    pub existing: Vec<ExistingAssignment>,
    /// Judges wanted per entry.
    pub k: u32,
    /// Full, top-up or rebalance.
    #[serde(default)]
    pub mode: AssignmentMode,
    /// Seed for tie-breaks between equally good assignments.
    #[serde(default)]
    pub seed: u64,
    /// Cost weights.
    #[serde(default)]
    pub costs: CostModel,
}

/// How well an assigned judge matches the entry's field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchLevel {
    /// Expert in the entry's field.
    Expert,
    /// Knowledgeable in the entry's field.
    Knowledgeable,
    /// No declared expertise in the entry's field.
    Outside,
}

/// Where an assigned pair comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairOrigin {
    /// An existing assignment that this mode may not change (started, or any in top-up).
    Fixed,
    /// An existing unstarted assignment that the solver chose to keep.
    Kept,
    /// A new assignment.
    New,
}

/// One judge on one entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AssignedPair {
    /// The entry.
    pub entry: EntryId,
    /// The judge.
    pub judge: JudgeId,
    /// Fixed, kept or new.
    pub origin: PairOrigin,
    /// Expertise match.
    pub level: MatchLevel,
}

/// A judge's load in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JudgeLoad {
    /// The judge.
    pub judge: JudgeId,
    /// Entries assigned (fixed ones included).
    pub load: u32,
    /// The judge's maximum.
    pub max_load: u32,
}

/// Summary figures of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentStats {
    /// Number of entries.
    pub entries: u32,
    /// Number of judges.
    pub judges: u32,
    /// Judges wanted per entry.
    pub k: u32,
    /// Entries that have at least `k` judges.
    pub entries_complete: u32,
    /// Pairs in the plan, by origin.
    pub fixed_pairs: u32,
    /// Existing unstarted pairs kept.
    pub kept_pairs: u32,
    /// New pairs.
    pub new_pairs: u32,
    /// Existing unstarted pairs dropped.
    pub dropped_pairs: u32,
    /// Smallest load among judges with a positive maximum load.
    pub load_min: u32,
    /// Largest load.
    pub load_max: u32,
    /// Largest minus smallest load among judges below their maximum load
    /// (judges held down by their own maximum are left out).
    pub load_spread_below_max: u32,
    /// Entries with at least one expert in their field.
    pub entries_with_expert: u32,
    /// Entries for which the pool has a conflict-free expert in their field.
    pub entries_with_expert_available: u32,
    /// Entries without an expert although the pool has a conflict-free one:
    /// every such expert is then at their maximum load, or the entry already
    /// had `k` fixed judges (top-up, rebalance) so nothing could be added.
    pub expert_gaps: Vec<EntryId>,
    /// Total cost of the flow (comparable only between runs of one input).
    pub total_cost: i64,
    /// Solver phases (a measure of work).
    pub solver_phases: u32,
}

/// A complete (or, inside [`Infeasibility`], partial) assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentPlan {
    /// All pairs, sorted by entry id then judge id.
    pub assignments: Vec<AssignedPair>,
    /// Existing unstarted assignments that the plan does not contain.
    pub dropped: Vec<ExistingAssignment>,
    /// Every judge's load, sorted by judge id.
    pub loads: Vec<JudgeLoad>,
    /// Summary figures.
    pub stats: AssignmentStats,
}

impl AssignmentPlan {
    /// Judges assigned to an entry, in judge-id order.
    pub fn judges_of<'a>(&'a self, entry: &'a EntryId) -> impl Iterator<Item = &'a JudgeId> + 'a {
        self.assignments
            .iter()
            .filter(move |p| &p.entry == entry)
            .map(|p| &p.judge)
    }

    /// Largest minus smallest load among judges with a positive maximum load.
    pub fn load_spread(&self) -> u32 {
        self.stats.load_max.saturating_sub(self.stats.load_min)
    }
}

/// Why an entry is short of judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShortfallReason {
    /// Fewer than `k` judges in the pool are free of conflict with the entry
    /// (and have a positive maximum load).
    TooFewJudgesWithoutConflict,
    /// Enough conflict-free judges exist, but their maximum loads are used up.
    JudgeLoadsTooLow,
}

/// An entry that did not get `k` judges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortfall {
    /// The entry.
    pub entry: EntryId,
    /// Judges it got.
    pub assigned: u32,
    /// Judges wanted (`k`).
    pub wanted: u32,
    /// Conflict-free judges with a positive maximum load in the pool.
    pub eligible_judges: u32,
    /// Which constraint binds.
    pub reason: ShortfallReason,
}

/// A partial plan and the entries it leaves short. Never empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Infeasibility {
    /// The best plan found: every constraint holds, but some entries have fewer than `k` judges.
    pub plan: AssignmentPlan,
    /// The short entries, sorted by entry id.
    pub shortfalls: Vec<Shortfall>,
}

/// Errors from [`assign`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AssignmentError {
    /// `k` was zero.
    #[error("k (judges per entry) must be at least 1")]
    ZeroK,
    /// Two entries share an id.
    #[error("duplicate entry id {0}")]
    DuplicateEntry(EntryId),
    /// Two judges share an id.
    #[error("duplicate judge id {0}")]
    DuplicateJudge(JudgeId),
    /// An existing assignment names a judge outside the pool.
    #[error("existing assignment names unknown judge {0}")]
    UnknownJudge(JudgeId),
    /// An existing assignment names an unknown entry.
    #[error("existing assignment names unknown entry {0}")]
    UnknownEntry(EntryId),
    /// The same existing pair appears twice.
    #[error("existing assignment {judge} -> {entry} appears twice")]
    DuplicateExisting {
        /// The judge.
        judge: JudgeId,
        /// The entry.
        entry: EntryId,
    },
    /// An existing assignment that must be kept is conflicted.
    #[error("existing assignment {judge} -> {entry} must be kept but is conflicted ({reason:?})")]
    ConflictedExisting {
        /// The judge.
        judge: JudgeId,
        /// The entry.
        entry: EntryId,
        /// The conflict.
        reason: ConflictReason,
    },
    /// A judge's fixed assignments already exceed their maximum load.
    #[error(
        "judge {judge} has {load} assignments that must be kept, above the maximum load {max_load}"
    )]
    FixedLoadAboveMax {
        /// The judge.
        judge: JudgeId,
        /// Fixed assignments.
        load: u32,
        /// Maximum load.
        max_load: u32,
    },
    /// Full mode would discard a started review.
    #[error(
        "full assignment would discard the started assignment {judge} -> {entry}; use top-up or rebalance"
    )]
    StartedInFullMode {
        /// The judge.
        judge: JudgeId,
        /// The entry.
        entry: EntryId,
    },
    /// The cost weights are unusable.
    #[error("invalid cost model: {0}")]
    InvalidCostModel(&'static str),
    /// The instance does not fit the solver's index or cost range.
    #[error("instance too large: {0}")]
    TooLarge(&'static str),
    /// Internal solver error (a bug if it ever happens).
    #[error("flow solver: {0}")]
    Solver(#[from] McfError),
    /// Some entries cannot get `k` judges; the partial plan and the reasons are inside.
    #[error("{} entries cannot get k judges", .0.shortfalls.len())]
    Infeasible(Box<Infeasibility>),
}

/// Internal view of one entry.
struct EntrySlot {
    orig: usize,
    field: u32,
    need: u32,
    fixed: u32,
    has_fixed_expert: bool,
    eligible: u32,
    expert_available: bool,
    /// Judges that could still be added (conflict-free, with room, not yet on it).
    candidates: u32,
    hub: Option<usize>,
}

impl EntrySlot {
    /// Seats the flow can try to fill: never more than there are candidates,
    /// so an absurd `k` cannot blow up the network.
    fn open_seats(&self) -> u32 {
        self.need.min(self.candidates)
    }
}

/// Internal view of one judge.
struct JudgeSlot {
    orig: usize,
    fields: Vec<(u32, ExpertiseLevel)>,
    fixed: u32,
    max_load: u32,
    candidates: u32,
}

impl JudgeSlot {
    fn level(&self, field: u32) -> MatchLevel {
        match self.fields.iter().find(|(f, _)| *f == field) {
            Some((_, ExpertiseLevel::Expert)) => MatchLevel::Expert,
            Some((_, ExpertiseLevel::Knowledgeable)) => MatchLevel::Knowledgeable,
            None => MatchLevel::Outside,
        }
    }
}

fn to_u32(n: usize, what: &'static str) -> Result<u32, AssignmentError> {
    u32::try_from(n).map_err(|_| AssignmentError::TooLarge(what))
}

fn to_i32(n: i64, what: &'static str) -> Result<i32, AssignmentError> {
    i32::try_from(n).map_err(|_| AssignmentError::TooLarge(what))
}

/// Order of processing: a seeded stable hash of the id, then the id itself.
fn seeded_order<T>(items: &[T], seed: u64, id: impl Fn(&T) -> &str) -> Vec<usize> {
    let mut order: Vec<(u64, &str, usize)> = items
        .iter()
        .enumerate()
        .map(|(i, x)| (stable_hash(seed, id(x)), id(x), i))
        .collect();
    order.sort_unstable();
    order.into_iter().map(|(_, _, i)| i).collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ExistingKind {
    Fixed,
    Keepable,
    Discarded,
}

/// Computes an assignment. See the module documentation for the model.
///
/// Returns `Ok` only when every entry has at least `k` judges; otherwise
/// [`AssignmentError::Infeasible`] with the best partial plan and the list of
/// short entries. The output is sorted by id and does not depend on the order
/// of the input.
pub fn assign(input: &AssignmentInput) -> Result<AssignmentPlan, AssignmentError> {
    if input.k == 0 {
        return Err(AssignmentError::ZeroK);
    }
    input.costs.validate()?;
    let k = input.k;
    let costs = input.costs;

    // ---- ids, order, fields -------------------------------------------------
    let mut entry_pos: HashMap<&str, usize> = HashMap::with_capacity(input.entries.len());
    for (i, e) in input.entries.iter().enumerate() {
        if entry_pos.insert(e.id.as_str(), i).is_some() {
            return Err(AssignmentError::DuplicateEntry(e.id.clone()));
        }
    }
    let mut judge_pos: HashMap<&str, usize> = HashMap::with_capacity(input.judges.len());
    for (i, j) in input.judges.iter().enumerate() {
        if judge_pos.insert(j.id.as_str(), i).is_some() {
            return Err(AssignmentError::DuplicateJudge(j.id.clone()));
        }
    }
    to_u32(input.entries.len(), "too many entries")?;
    to_u32(input.judges.len(), "too many judges")?;
    let mut fields: HashMap<&str, u32> = HashMap::new();
    fn intern<'a>(fields: &mut HashMap<&'a str, u32>, f: &'a FieldId) -> u32 {
        let next = fields.len() as u32;
        *fields.entry(f.as_str()).or_insert(next)
    }

    let entry_order = seeded_order(&input.entries, input.seed, |e| e.id.as_str());
    let judge_order = seeded_order(&input.judges, input.seed, |j| j.id.as_str());
    // orig index -> dense index in processing order
    let mut entry_dense = vec![0usize; input.entries.len()];
    for (d, &o) in entry_order.iter().enumerate() {
        entry_dense[o] = d;
    }
    let mut judge_dense = vec![0usize; input.judges.len()];
    for (d, &o) in judge_order.iter().enumerate() {
        judge_dense[o] = d;
    }

    let mut entries: Vec<EntrySlot> = entry_order
        .iter()
        .map(|&o| EntrySlot {
            orig: o,
            field: intern(&mut fields, &input.entries[o].field),
            need: 0,
            fixed: 0,
            has_fixed_expert: false,
            eligible: 0,
            expert_available: false,
            candidates: 0,
            hub: None,
        })
        .collect();
    let mut judges: Vec<JudgeSlot> = judge_order
        .iter()
        .map(|&o| {
            let j = &input.judges[o];
            let mut fs: Vec<(u32, ExpertiseLevel)> = Vec::with_capacity(j.expertise.len());
            for x in &j.expertise {
                let f = intern(&mut fields, &x.field);
                match fs.iter_mut().find(|(g, _)| *g == f) {
                    Some(slot) => slot.1 = slot.1.max(x.level),
                    None => fs.push((f, x.level)),
                }
            }
            JudgeSlot {
                orig: o,
                fields: fs,
                fixed: 0,
                max_load: j.max_load,
                candidates: 0,
            }
        })
        .collect();

    let conflicts = ConflictIndex::new(&input.judges, &input.entries, &input.declared_conflicts);

    // ---- existing assignments -------------------------------------------------
    // (dense judge, dense entry) -> kind
    let mut existing: HashMap<(u32, u32), ExistingKind> =
        HashMap::with_capacity(input.existing.len());
    for a in &input.existing {
        let jo = *judge_pos
            .get(a.judge.as_str())
            .ok_or_else(|| AssignmentError::UnknownJudge(a.judge.clone()))?;
        let eo = *entry_pos
            .get(a.entry.as_str())
            .ok_or_else(|| AssignmentError::UnknownEntry(a.entry.clone()))?;
        let conflict = conflicts.conflict(jo, eo);
        let kind = match (input.mode, a.started) {
            (AssignmentMode::Full, true) => {
                return Err(AssignmentError::StartedInFullMode {
                    judge: a.judge.clone(),
                    entry: a.entry.clone(),
                });
            }
            (AssignmentMode::Full, false) => ExistingKind::Discarded,
            (AssignmentMode::TopUp, _) | (AssignmentMode::Rebalance, true) => ExistingKind::Fixed,
            (AssignmentMode::Rebalance, false) => {
                if conflict.is_some() {
                    ExistingKind::Discarded
                } else {
                    ExistingKind::Keepable
                }
            }
        };
        if kind == ExistingKind::Fixed
            && let Some(reason) = conflict
        {
            return Err(AssignmentError::ConflictedExisting {
                judge: a.judge.clone(),
                entry: a.entry.clone(),
                reason,
            });
        }
        let key = (judge_dense[jo] as u32, entry_dense[eo] as u32);
        if existing.insert(key, kind).is_some() {
            return Err(AssignmentError::DuplicateExisting {
                judge: a.judge.clone(),
                entry: a.entry.clone(),
            });
        }
        if kind == ExistingKind::Fixed {
            let (jd, ed) = (key.0 as usize, key.1 as usize);
            judges[jd].fixed += 1;
            entries[ed].fixed += 1;
            if judges[jd].level(entries[ed].field) == MatchLevel::Expert {
                entries[ed].has_fixed_expert = true;
            }
        }
    }
    for j in &judges {
        if j.fixed > j.max_load {
            return Err(AssignmentError::FixedLoadAboveMax {
                judge: input.judges[j.orig].id.clone(),
                load: j.fixed,
                max_load: j.max_load,
            });
        }
    }
    for e in &mut entries {
        e.need = k.saturating_sub(e.fixed);
    }

    // ---- candidate pairs ----------------------------------------------------------
    // Candidate (judge, entry) pairs in processing order: conflict-free, the
    // judge has room, the entry has open seats, and the pair is not fixed.
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for (jd, j) in judges.iter_mut().enumerate() {
        if j.max_load == 0 {
            continue;
        }
        let has_room = j.fixed < j.max_load;
        for (ed, e) in entries.iter_mut().enumerate() {
            if conflicts.conflict(j.orig, e.orig).is_some() {
                continue;
            }
            e.eligible += 1;
            let level = j.level(e.field);
            if level == MatchLevel::Expert {
                e.expert_available = true;
            }
            if !has_room || e.need == 0 {
                continue;
            }
            if matches!(
                existing.get(&(jd as u32, ed as u32)),
                Some(ExistingKind::Fixed)
            ) {
                continue;
            }
            pairs.push((jd as u32, ed as u32));
            j.candidates += 1;
            e.candidates += 1;
        }
    }

    // ---- network ----------------------------------------------------------------------
    let active_judges = judges.iter().filter(|j| j.max_load > 0).count() as u64;
    let total_seats: u64 = judges.iter().map(|j| u64::from(j.fixed)).sum::<u64>()
        + entries
            .iter()
            .map(|e| u64::from(e.open_seats()))
            .sum::<u64>();
    let even_share = total_seats.checked_div(active_judges).unwrap_or(0);
    let step = i64::from(costs.load_step);

    let source = 0usize;
    let sink = 1usize;
    let judge_node = |jd: usize| 2 + jd;
    let entry_node = |ed: usize| 2 + judges.len() + ed;
    let mut node_count = 2 + judges.len() + entries.len();
    // Hubs for entries that still lack an expert and can get one.
    let mut entry_has_expert_candidate = vec![false; entries.len()];
    for &(jd, ed) in &pairs {
        if judges[jd as usize].level(entries[ed as usize].field) == MatchLevel::Expert {
            entry_has_expert_candidate[ed as usize] = true;
        }
    }
    for (ed, e) in entries.iter_mut().enumerate() {
        if e.open_seats() > 0 && !e.has_fixed_expert && entry_has_expert_candidate[ed] {
            e.hub = Some(node_count);
            node_count += 1;
        }
    }

    // Ladder arcs: (judge, units, cost).
    let mut ladder: Vec<(usize, i32, i32)> = Vec::new();
    let mut max_ladder_cost = 0i64;
    for (jd, j) in judges.iter().enumerate() {
        let top = u64::from(j.max_load).min(u64::from(j.fixed) + u64::from(j.candidates));
        let fixed = u64::from(j.fixed);
        if top <= fixed {
            continue;
        }
        let flat_end = top.min(even_share.max(fixed));
        if flat_end > fixed {
            ladder.push((jd, to_i32((flat_end - fixed) as i64, "load")?, 0));
        }
        for n in (flat_end.max(fixed) + 1)..=top {
            let c = step * (n as i64 - even_share as i64);
            max_ladder_cost = max_ladder_cost.max(c);
            ladder.push((jd, 1, to_i32(c, "ladder cost")?));
        }
    }
    let churn = if input.mode == AssignmentMode::Rebalance {
        i64::from(costs.churn_cost)
    } else {
        0
    };
    let penalty =
        max_ladder_cost + churn + i64::from(costs.no_match_cost.max(costs.knowledgeable_cost)) + 1;
    let seat_step = penalty
        + max_ladder_cost
        + churn
        + i64::from(costs.no_match_cost.max(costs.knowledgeable_cost))
        + 1;
    let match_cost = |level: MatchLevel| -> i64 {
        match level {
            MatchLevel::Expert => 0,
            MatchLevel::Knowledgeable => i64::from(costs.knowledgeable_cost),
            MatchLevel::Outside => i64::from(costs.no_match_cost),
        }
    };

    let edge_estimate = ladder.len() + pairs.len() + 3 * entries.len();
    let mut net = FlowNetwork::with_capacity(node_count, edge_estimate)?;
    for &(jd, cap, cost) in &ladder {
        net.add_edge(source, judge_node(jd), cap, cost)?;
    }
    let first_pair_edge = net.edge_count();
    for &(jd, ed) in &pairs {
        let (j, e) = (&judges[jd as usize], &entries[ed as usize]);
        let level = j.level(e.field);
        let keep = matches!(existing.get(&(jd, ed)), Some(ExistingKind::Keepable));
        let mut cost = match_cost(level) + if keep { 0 } else { churn };
        let to = match (e.hub, level) {
            (Some(hub), MatchLevel::Expert) => hub,
            (Some(_), _) => {
                cost += penalty;
                entry_node(ed as usize)
            }
            (None, _) => entry_node(ed as usize),
        };
        net.add_edge(judge_node(jd as usize), to, 1, to_i32(cost, "pair cost")?)?;
    }
    for (ed, e) in entries.iter().enumerate() {
        let open = e.open_seats();
        if open == 0 {
            continue;
        }
        let need = to_i32(i64::from(open), "k")?;
        if let Some(hub) = e.hub {
            net.add_edge(hub, entry_node(ed), 1, 0)?;
            if need > 1 {
                net.add_edge(hub, entry_node(ed), need - 1, to_i32(penalty, "penalty")?)?;
            }
        }
        // Seat ladder: an entry's n-th seat costs `seat_step × n` (fixed seats
        // included). When every seat is filled the total is a constant, so this
        // only decides which entries stay short when capacity runs out: the
        // shortage is spread instead of leaving some entries with no judge.
        for seat in e.fixed..e.fixed + open {
            let cost = to_i32(seat_step * i64::from(seat), "seat cost")?;
            net.add_edge(entry_node(ed), sink, 1, cost)?;
        }
    }
    let solution = net.solve(source, sink)?;
    let flows = &solution.edge_flows()[first_pair_edge..first_pair_edge + pairs.len()];

    // ---- read the plan back ---------------------------------------------------------
    let mut chosen: HashSet<(u32, u32)> = HashSet::new();
    for (&(jd, ed), &f) in pairs.iter().zip(flows) {
        if f > 0 {
            chosen.insert((jd, ed));
        }
    }
    for (&key, &kind) in &existing {
        if kind == ExistingKind::Fixed {
            chosen.insert(key);
        }
    }
    let mut load = vec![0u32; judges.len()];
    let mut seats = vec![0u32; entries.len()];
    let mut has_expert = vec![false; entries.len()];
    let mut assignments = Vec::with_capacity(chosen.len());
    let (mut fixed_pairs, mut kept_pairs, mut new_pairs) = (0u32, 0u32, 0u32);
    for &(jd, ed) in &chosen {
        let (j, e) = (&judges[jd as usize], &entries[ed as usize]);
        load[jd as usize] += 1;
        seats[ed as usize] += 1;
        let level = j.level(e.field);
        if level == MatchLevel::Expert {
            has_expert[ed as usize] = true;
        }
        let origin = match existing.get(&(jd, ed)) {
            Some(ExistingKind::Fixed) => {
                fixed_pairs += 1;
                PairOrigin::Fixed
            }
            Some(_) => {
                kept_pairs += 1;
                PairOrigin::Kept
            }
            None => {
                new_pairs += 1;
                PairOrigin::New
            }
        };
        assignments.push(AssignedPair {
            entry: input.entries[e.orig].id.clone(),
            judge: input.judges[j.orig].id.clone(),
            origin,
            level,
        });
    }
    assignments.sort_by(|a, b| (&a.entry, &a.judge).cmp(&(&b.entry, &b.judge)));

    let mut dropped: Vec<ExistingAssignment> = input
        .existing
        .iter()
        .filter(|a| {
            !a.started
                && input.mode != AssignmentMode::TopUp
                && judge_pos
                    .get(a.judge.as_str())
                    .zip(entry_pos.get(a.entry.as_str()))
                    .is_some_and(|(&jo, &eo)| {
                        !chosen.contains(&(judge_dense[jo] as u32, entry_dense[eo] as u32))
                    })
        })
        .cloned()
        .collect();
    dropped.sort_by(|a, b| (&a.entry, &a.judge).cmp(&(&b.entry, &b.judge)));

    let mut loads: Vec<JudgeLoad> = judges
        .iter()
        .enumerate()
        .map(|(jd, j)| JudgeLoad {
            judge: input.judges[j.orig].id.clone(),
            load: load[jd],
            max_load: j.max_load,
        })
        .collect();
    loads.sort_by(|a, b| a.judge.cmp(&b.judge));

    let min_max = |keep: &dyn Fn(usize) -> bool| -> Option<(u32, u32)> {
        let mut it = (0..judges.len()).filter(|&jd| keep(jd)).map(|jd| load[jd]);
        let first = it.next()?;
        Some(it.fold((first, first), |(lo, hi), l| (lo.min(l), hi.max(l))))
    };
    let (load_min, load_max) = min_max(&|jd| judges[jd].max_load > 0).unwrap_or((0, 0));
    let load_spread_below_max =
        min_max(&|jd| load[jd] < judges[jd].max_load).map_or(0, |(lo, hi)| hi - lo);

    let mut expert_gaps: Vec<EntryId> = Vec::new();
    let mut shortfalls: Vec<Shortfall> = Vec::new();
    let (mut with_expert, mut expert_available, mut complete) = (0u32, 0u32, 0u32);
    for (ed, e) in entries.iter().enumerate() {
        let id = &input.entries[e.orig].id;
        if has_expert[ed] {
            with_expert += 1;
        }
        if e.expert_available {
            expert_available += 1;
            if !has_expert[ed] {
                expert_gaps.push(id.clone());
            }
        }
        if seats[ed] >= k {
            complete += 1;
        } else {
            shortfalls.push(Shortfall {
                entry: id.clone(),
                assigned: seats[ed],
                wanted: k,
                eligible_judges: e.eligible,
                reason: if e.eligible < k {
                    ShortfallReason::TooFewJudgesWithoutConflict
                } else {
                    ShortfallReason::JudgeLoadsTooLow
                },
            });
        }
    }
    expert_gaps.sort();
    shortfalls.sort_by(|a, b| a.entry.cmp(&b.entry));

    let plan = AssignmentPlan {
        stats: AssignmentStats {
            entries: entries.len() as u32,
            judges: judges.len() as u32,
            k,
            entries_complete: complete,
            fixed_pairs,
            kept_pairs,
            new_pairs,
            dropped_pairs: dropped.len() as u32,
            load_min,
            load_max,
            load_spread_below_max,
            entries_with_expert: with_expert,
            entries_with_expert_available: expert_available,
            expert_gaps,
            total_cost: solution.cost,
            solver_phases: solution.phases,
        },
        assignments,
        dropped,
        loads,
    };
    if shortfalls.is_empty() {
        Ok(plan)
    } else {
        Err(AssignmentError::Infeasible(Box::new(Infeasibility {
            plan,
            shortfalls,
        })))
    }
}

#[cfg(test)]
mod tests;
