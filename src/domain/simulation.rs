//! A synthetic contest that measures how fair the judging pipeline is.
//!
//! [`generate`] builds a seeded contest: problems grouped into fields; entries
//! with a hidden true quality, teams and members from organizations (names
//! typed in varying case, spacing and accents; emails on the organization's
//! domain or on webmail); judges with expertise, organizations, maximum loads
//! and a hidden *leniency* (an additive offset in marks), *spread* (a
//! multiplicative factor on everything they perceive) and *noise*; and some
//! declared conflicts. [`run_seed`] assigns judges ([`crate::domain::assignment`]),
//! simulates each judge marking the six rubric criteria on 0–10 (integers),
//! scores the marks with the default rubric, aggregates with a plain mean and
//! with per-judge normalization, ranks, and compares each ranking with the
//! true one by Kendall's tau. It also counts conflicts violated against the
//! generator's own ground truth (organization ids and declared pairs), not
//! against the checker under test.
//!
//! Mark model, per judge `j`, entry `e`, criterion `c`:
//! `mark = round(clamp(center + leniency_j + spread_j · (quality_scale · q_e + η_je + ε_jec), 0, 10))`
//! with `q_e ~ N(0,1)`, `η_je ~ N(0, noise_j · f)` (review-level noise; `f` is
//! 0.8 for an expert, 1.0 knowledgeable, 1.25 outside the field) and
//! `ε_jec ~ N(0, criterion_noise_sd)`.

use crate::domain::aggregate::{
    AggregateError, AggregationConfig, AggregationMethod, Normalization, Review, aggregate,
};
use crate::domain::assignment::conflict::{ConflictIndex, normalize_organization};
use crate::domain::assignment::{
    AssignmentError, AssignmentInput, AssignmentMode, AssignmentPlan, ConflictTarget, CostModel,
    DeclaredConflict, Entry, Expertise, ExpertiseLevel, Judge, MatchLevel, TeamMember, assign,
};
use crate::domain::ids::{EntryId, FieldId, JudgeId, ProblemId, TeamId};
use crate::domain::ranking::{RankingError, rank_aggregates};
use crate::domain::rubric::{Rubric, Score, ScoreError};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use thiserror::Error;

/// Parameters of a synthetic contest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationConfig {
    /// Number of problems.
    pub problems: u32,
    /// Number of fields (problems are spread evenly over them).
    pub fields: u32,
    /// Number of entries.
    pub entries: u32,
    /// Number of judges.
    pub judges: u32,
    /// Judges per entry.
    pub k: u32,
    /// Organizations that teams (and half of the judges) come from.
    pub organizations: u32,
    /// Organizations that only judges come from.
    pub judge_only_organizations: u32,
    /// Mark at true quality 0 for a neutral judge.
    pub center: f64,
    /// Marks per standard deviation of true quality.
    pub quality_scale: f64,
    /// Standard deviation of judges' leniency offsets, in marks.
    pub leniency_sd: f64,
    /// Standard deviation of the log of judges' spread factors.
    pub spread_log_sd: f64,
    /// Range of judges' review-level noise (standard deviation, in marks).
    pub noise_min: f64,
    /// Upper end of that range.
    pub noise_max: f64,
    /// Standard deviation of per-criterion noise, in marks.
    pub criterion_noise_sd: f64,
    /// Share of team members and judges using webmail.
    pub webmail_share: f64,
    /// Share of part-time judges (maximum load 10–20 instead of 30–45).
    pub part_time_share: f64,
    /// Declared judge–team conflicts.
    pub declared_team_conflicts: u32,
    /// Declared judge–organization conflicts.
    pub declared_org_conflicts: u32,
    /// Minimum reviews for a judge to be normalized.
    pub min_reviews: u32,
}

impl SimulationConfig {
    /// The contest: 72 problems, 1,500 entries, 150 judges, k = 3.
    pub fn national() -> Self {
        Self {
            problems: 72,
            fields: 12,
            entries: 1_500,
            judges: 150,
            k: 3,
            organizations: 120,
            judge_only_organizations: 40,
            center: 5.5,
            quality_scale: 1.5,
            leniency_sd: 1.0,
            spread_log_sd: 0.3,
            noise_min: 0.5,
            noise_max: 1.0,
            criterion_noise_sd: 0.5,
            webmail_share: 0.35,
            part_time_share: 0.1,
            declared_team_conflicts: 40,
            declared_org_conflicts: 10,
            min_reviews: 5,
        }
    }

    /// The national contest scaled to other sizes (organizations scale with entries).
    pub fn scaled(entries: u32, judges: u32) -> Self {
        let base = Self::national();
        Self {
            entries,
            judges,
            organizations: (entries / 12).max(10),
            judge_only_organizations: (judges / 4).max(5),
            declared_team_conflicts: judges * 4 / 15,
            declared_org_conflicts: judges / 15,
            ..base
        }
    }

    fn validate(&self) -> Result<(), SimulationError> {
        let finite_non_negative = [
            self.center,
            self.quality_scale,
            self.leniency_sd,
            self.spread_log_sd,
            self.noise_min,
            self.noise_max,
            self.criterion_noise_sd,
        ]
        .iter()
        .all(|x| x.is_finite() && *x >= 0.0);
        if !finite_non_negative || self.noise_min > self.noise_max {
            return Err(SimulationError::BadConfig("noise and scale parameters"));
        }
        if !(0.0..=1.0).contains(&self.webmail_share)
            || !(0.0..=1.0).contains(&self.part_time_share)
        {
            return Err(SimulationError::BadConfig("shares must be within 0..=1"));
        }
        if self.problems == 0
            || self.fields == 0
            || self.organizations == 0
            || self.judge_only_organizations == 0
        {
            return Err(SimulationError::BadConfig(
                "problems, fields and organizations must be positive",
            ));
        }
        if self.k == 0 || self.judges < self.k {
            return Err(SimulationError::BadConfig(
                "need k >= 1 and at least k judges",
            ));
        }
        Ok(())
    }
}

/// Errors of a simulation run.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SimulationError {
    /// Unusable parameters.
    #[error("bad simulation config: {0}")]
    BadConfig(&'static str),
    /// Assignment failed (including infeasible).
    #[error("assignment: {0}")]
    Assignment(#[from] AssignmentError),
    /// A simulated review was refused by the rubric.
    #[error("scoring: {0}")]
    Score(#[from] ScoreError),
    /// Aggregation failed.
    #[error("aggregation: {0}")]
    Aggregate(#[from] AggregateError),
    /// Ranking failed.
    #[error("ranking: {0}")]
    Ranking(#[from] RankingError),
}

/// A judge's hidden behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct JudgeProfile {
    /// Additive offset in marks.
    pub leniency: f64,
    /// Multiplicative spread factor.
    pub spread: f64,
    /// Review-level noise (standard deviation, in marks).
    pub noise: f64,
}

/// A generated contest and its hidden truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntheticContest {
    /// The assignment input (full mode, seeded).
    pub input: AssignmentInput,
    /// True quality of each entry (same order as `input.entries`).
    pub true_quality: Vec<f64>,
    /// Hidden behaviour of each judge (same order as `input.judges`).
    pub profiles: Vec<JudgeProfile>,
    /// Ground truth: organization ids of each entry's members.
    pub entry_orgs: Vec<Vec<u32>>,
    /// Ground truth: organization id of each judge (`None` for independents).
    pub judge_org: Vec<Option<u32>>,
    /// Ground truth: declared conflicting (judge, entry) index pairs.
    pub declared_pairs: HashSet<(u32, u32)>,
}

impl SyntheticContest {
    /// Whether (judge, entry) is a conflict by the generator's ground truth.
    pub fn truly_conflicted(&self, judge: usize, entry: usize) -> bool {
        let same_org = self
            .judge_org
            .get(judge)
            .copied()
            .flatten()
            .is_some_and(|o| self.entry_orgs.get(entry).is_some_and(|os| os.contains(&o)));
        same_org || self.declared_pairs.contains(&(judge as u32, entry as u32))
    }
}

const UNIVERSITY_PIECES: &[&str] = &[
    "Bách khoa",
    "Công nghệ",
    "Kinh tế Quốc dân",
    "Khoa học Tự nhiên",
    "Sư phạm",
    "Nông Lâm",
    "Y Dược",
    "Giao thông Vận tải",
    "Thủy lợi",
    "Mỏ - Địa chất",
    "Xây dựng",
    "Ngoại thương",
    "Cần Thơ",
    "Đà Nẵng",
    "Huế",
    "Vinh",
    "Thái Nguyên",
    "Quy Nhơn",
    "Tây Nguyên",
    "Đồng Tháp",
];
const COMPANY_PIECES: &[&str] = &[
    "Giải pháp Số",
    "Công nghệ Xanh",
    "Dữ liệu Việt",
    "Phần mềm Sông Hồng",
    "Viễn thông Miền Trung",
    "Nông nghiệp Thông minh",
    "Y tế Số",
    "Đô thị Thông minh",
    "Tài chính Số",
    "Logistics Mê Kông",
];
const PROVINCES: &[&str] = &[
    "Hà Nội",
    "Hải Phòng",
    "Quảng Ninh",
    "Thanh Hóa",
    "Nghệ An",
    "Thừa Thiên Huế",
    "Đà Nẵng",
    "Quảng Nam",
    "Khánh Hòa",
    "Đắk Lắk",
    "Lâm Đồng",
    "Bình Dương",
    "Đồng Nai",
    "TP. Hồ Chí Minh",
    "Cần Thơ",
    "An Giang",
    "Kiên Giang",
    "Cà Mau",
    "Bắc Ninh",
    "Lào Cai",
];
const SIM_WEBMAIL: &[&str] = &[
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hn.vnn.vn",
    "yahoo.com.vn",
];

struct Org {
    name: String,
    domain: String,
}

fn make_org(i: u32) -> Org {
    let kind = i % 3;
    let n = i / 3;
    let (name, suffix) = match kind {
        0 => {
            let p = UNIVERSITY_PIECES[n as usize % UNIVERSITY_PIECES.len()];
            let round = n as usize / UNIVERSITY_PIECES.len();
            (
                format!("Trường Đại học {p}"),
                if round > 0 {
                    format!(" cơ sở {}", round + 1)
                } else {
                    String::new()
                },
            )
        }
        1 => {
            let p = COMPANY_PIECES[n as usize % COMPANY_PIECES.len()];
            let round = n as usize / COMPANY_PIECES.len();
            (
                format!("Công ty Cổ phần {p}"),
                if round > 0 {
                    format!(" {}", round + 1)
                } else {
                    String::new()
                },
            )
        }
        _ => {
            let p = PROVINCES[n as usize % PROVINCES.len()];
            let round = n as usize / PROVINCES.len();
            let dept = [
                "Sở Thông tin và Truyền thông",
                "Sở Y tế",
                "Sở Nông nghiệp",
                "Sở Giáo dục",
            ][round % 4];
            (
                format!("{dept} {p}"),
                if round >= 4 {
                    format!(" {}", round / 4 + 1)
                } else {
                    String::new()
                },
            )
        }
    };
    let domain = match kind {
        0 => format!("u{i}.edu.vn"),
        1 => format!("c{i}.com.vn"),
        _ => format!("a{i}.gov.vn"),
    };
    Org {
        name: format!("{name}{suffix}"),
        domain,
    }
}

/// How a person might type an organization's name.
fn name_variant(name: &str, rng: &mut impl Rng) -> String {
    match rng.random_range(0..4u8) {
        0 => name.to_owned(),
        1 => name.to_uppercase(),
        2 => format!("  {}", name.to_lowercase().replace(' ', "  ")),
        _ => normalize_organization(name).unwrap_or_default(),
    }
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn pick<'a, T>(items: &'a [T], rng: &mut impl Rng) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Generates a contest from a seed.
pub fn generate(config: &SimulationConfig, seed: u64) -> Result<SyntheticContest, SimulationError> {
    config.validate()?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let shared_orgs: Vec<Org> = (0..config.organizations).map(make_org).collect();
    let judge_orgs: Vec<Org> = (0..config.judge_only_organizations)
        .map(|i| make_org(config.organizations + i))
        .collect();
    let field_of = |p: u32| FieldId(format!("field-{:02}", p % config.fields));

    // Problems have uneven popularity.
    let weights: Vec<f64> = (0..config.problems)
        .map(|_| 0.5 + 1.5 * rng.random::<f64>())
        .collect();
    let total_w: f64 = weights.iter().sum();

    let mut entries = Vec::with_capacity(config.entries as usize);
    let mut entry_orgs: Vec<Vec<u32>> = Vec::with_capacity(config.entries as usize);
    let mut true_quality = Vec::with_capacity(config.entries as usize);
    for i in 0..config.entries {
        let mut x = rng.random::<f64>() * total_w;
        let mut problem = config.problems - 1;
        for (p, w) in weights.iter().enumerate() {
            if x < *w {
                problem = p as u32;
                break;
            }
            x -= w;
        }
        // About one team in ten submits a second entry.
        let reuse = i > 0 && rng.random_bool(0.1);
        let (team, members, orgs) = if let (true, Some(prev)) = (reuse, entries.last()) {
            let prev: &Entry = prev;
            (
                prev.team.clone(),
                prev.members.clone(),
                entry_orgs.last().cloned().unwrap_or_default(),
            )
        } else {
            let home = rng.random_range(0..config.organizations);
            let size = rng.random_range(2..=5u32);
            let mut members = Vec::new();
            let mut orgs = Vec::new();
            for _ in 0..size {
                let o = if rng.random_bool(0.75) {
                    home
                } else {
                    rng.random_range(0..config.organizations)
                };
                let org = &shared_orgs[o as usize];
                let email = if rng.random_bool(config.webmail_share) {
                    (*pick(SIM_WEBMAIL, &mut rng)).to_owned()
                } else if rng.random_bool(0.1) {
                    format!("mail.{}", org.domain)
                } else {
                    org.domain.clone()
                };
                members.push(TeamMember {
                    organization: Some(name_variant(&org.name, &mut rng)),
                    email_domain: Some(email),
                });
                orgs.push(o);
            }
            orgs.sort_unstable();
            orgs.dedup();
            (TeamId(format!("team-{i:05}")), members, orgs)
        };
        entries.push(Entry {
            id: EntryId(format!("entry-{i:05}")),
            problem: ProblemId(format!("problem-{problem:02}")),
            field: field_of(problem),
            team,
            members,
        });
        entry_orgs.push(orgs);
        true_quality.push(normal(&mut rng));
    }

    let mut judges = Vec::with_capacity(config.judges as usize);
    let mut judge_org = Vec::with_capacity(config.judges as usize);
    let mut profiles = Vec::with_capacity(config.judges as usize);
    for i in 0..config.judges {
        let (org_id, org): (Option<u32>, Option<&Org>) = match rng.random_range(0..20u8) {
            0 => (None, None), // independent expert
            1..=10 => {
                let o = rng.random_range(0..config.organizations);
                (Some(o), Some(&shared_orgs[o as usize]))
            }
            _ => (None, Some(pick(&judge_orgs, &mut rng))),
        };
        let email = match org {
            Some(org) if !rng.random_bool(config.webmail_share) => org.domain.clone(),
            _ => (*pick(SIM_WEBMAIL, &mut rng)).to_owned(),
        };
        let expert_field = rng.random_range(0..config.fields);
        let mut expertise = vec![Expertise {
            field: FieldId(format!("field-{expert_field:02}")),
            level: ExpertiseLevel::Expert,
        }];
        for _ in 0..rng.random_range(1..=2u32) {
            let f = rng.random_range(0..config.fields);
            if f != expert_field {
                expertise.push(Expertise {
                    field: FieldId(format!("field-{f:02}")),
                    level: ExpertiseLevel::Knowledgeable,
                });
            }
        }
        let max_load = if rng.random_bool(config.part_time_share) {
            rng.random_range(10..=20)
        } else {
            rng.random_range(30..=45)
        };
        judges.push(Judge {
            id: JudgeId(format!("judge-{i:04}")),
            expertise,
            organization: org.map(|o| o.name.clone()),
            email_domain: Some(email),
            max_load,
        });
        judge_org.push(org_id);
        profiles.push(JudgeProfile {
            leniency: config.leniency_sd * normal(&mut rng),
            spread: (config.spread_log_sd * normal(&mut rng)).exp(),
            noise: config.noise_min + (config.noise_max - config.noise_min) * rng.random::<f64>(),
        });
    }

    let mut declared = Vec::new();
    let mut declared_pairs = HashSet::new();
    if !entries.is_empty() {
        for _ in 0..config.declared_team_conflicts {
            let j = rng.random_range(0..config.judges) as usize;
            let e = rng.random_range(0..config.entries) as usize;
            let team = entries[e].team.clone();
            for (x, other) in entries.iter().enumerate() {
                if other.team == team {
                    declared_pairs.insert((j as u32, x as u32));
                }
            }
            declared.push(DeclaredConflict {
                judge: judges[j].id.clone(),
                with: ConflictTarget::Team(team),
            });
        }
    }
    for _ in 0..config.declared_org_conflicts {
        let j = rng.random_range(0..config.judges) as usize;
        let o = rng.random_range(0..config.organizations);
        for (x, orgs) in entry_orgs.iter().enumerate() {
            if orgs.contains(&o) {
                declared_pairs.insert((j as u32, x as u32));
            }
        }
        declared.push(DeclaredConflict {
            judge: judges[j].id.clone(),
            with: ConflictTarget::Organization(name_variant(
                &shared_orgs[o as usize].name,
                &mut rng,
            )),
        });
    }

    Ok(SyntheticContest {
        input: AssignmentInput {
            entries,
            judges,
            declared_conflicts: declared,
            existing: vec![],
            k: config.k,
            mode: AssignmentMode::Full,
            seed,
            costs: CostModel::default(),
        },
        true_quality,
        profiles,
        entry_orgs,
        judge_org,
        declared_pairs,
    })
}

/// Simulates every assigned judge marking the rubric for their entry.
pub fn simulate_reviews(
    contest: &SyntheticContest,
    plan: &AssignmentPlan,
    rubric: &Rubric,
    config: &SimulationConfig,
    seed: u64,
) -> Result<Vec<Review>, SimulationError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x05ee_d0f5_c0e5);
    let entry_index: HashMap<&EntryId, usize> = contest
        .input
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| (&e.id, i))
        .collect();
    let judge_index: HashMap<&JudgeId, usize> = contest
        .input
        .judges
        .iter()
        .enumerate()
        .map(|(i, j)| (&j.id, i))
        .collect();
    let mut reviews = Vec::with_capacity(plan.assignments.len());
    for pair in &plan.assignments {
        let (Some(&e), Some(&j)) = (entry_index.get(&pair.entry), judge_index.get(&pair.judge))
        else {
            continue;
        };
        let profile = contest.profiles[j];
        let factor = match pair.level {
            MatchLevel::Expert => 0.8,
            MatchLevel::Knowledgeable => 1.0,
            MatchLevel::Outside => 1.25,
        };
        let eta = profile.noise * factor * normal(&mut rng);
        let signal = config.quality_scale * contest.true_quality[e];
        let mut marks = BTreeMap::new();
        for c in rubric.criteria() {
            let eps = config.criterion_noise_sd * normal(&mut rng);
            let perceived =
                config.center + profile.leniency + profile.spread * (signal + eta + eps);
            let mark = perceived
                .clamp(c.scale.min, c.scale.max)
                .round()
                .clamp(c.scale.min, c.scale.max);
            marks.insert(c.key.clone(), mark);
        }
        let total: Score = rubric.score(&marks)?.total;
        reviews.push(Review {
            judge: pair.judge.clone(),
            entry: pair.entry.clone(),
            score: total,
        });
    }
    Ok(reviews)
}

/// Kendall's tau-b between two paired samples (handles ties). `None` when the
/// lengths differ, there are fewer than two pairs, or one side is constant.
/// O(n²), which is fine for a few thousand items.
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 2 {
        return None;
    }
    let (mut concordant, mut discordant, mut ties_x, mut ties_y) = (0i64, 0i64, 0i64, 0i64);
    for i in 0..x.len() {
        for j in i + 1..x.len() {
            let dx = x[i].total_cmp(&x[j]) as i8;
            let dy = y[i].total_cmp(&y[j]) as i8;
            match (dx, dy) {
                (0, 0) => {}
                (0, _) => ties_x += 1,
                (_, 0) => ties_y += 1,
                _ if dx == dy => concordant += 1,
                _ => discordant += 1,
            }
        }
    }
    let n1 = (concordant + discordant + ties_x) as f64;
    let n2 = (concordant + discordant + ties_y) as f64;
    if n1 == 0.0 || n2 == 0.0 {
        return None;
    }
    Some((concordant - discordant) as f64 / (n1 * n2).sqrt())
}

/// Results of one seeded run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedReport {
    /// The seed.
    pub seed: u64,
    /// Kendall's tau of the overall ranking vs the truth: plain mean.
    pub tau_mean: f64,
    /// … median.
    pub tau_median: f64,
    /// … normalized mean.
    pub tau_normalized: f64,
    /// … normalized median.
    pub tau_normalized_median: f64,
    /// Mean over problems of the per-problem tau: plain mean.
    pub tau_mean_per_problem: f64,
    /// … normalized mean.
    pub tau_normalized_per_problem: f64,
    /// Smallest judge load.
    pub load_min: u32,
    /// Largest judge load.
    pub load_max: u32,
    /// Load spread among judges below their maximum load.
    pub load_spread_below_max: u32,
    /// Share of entries with at least one expert.
    pub expert_share: f64,
    /// Share of entries for which a conflict-free expert exists.
    pub expert_available_share: f64,
    /// Assigned pairs that are conflicts by the generator's ground truth (must be 0).
    pub conflicts_violated: u32,
    /// Conflicted (judge, entry) pairs in the pool by ground truth.
    pub conflicted_pairs_in_pool: u32,
    /// Ground-truth conflicts the checker did not detect (must be 0).
    pub conflicts_missed_by_checker: u32,
    /// Judges above their maximum load (must be 0).
    pub over_max_load: u32,
    /// Entries with fewer than k judges (must be 0).
    pub entries_short: u32,
    /// Share of entries flagged for disagreement, plain mean.
    pub flagged_share_mean: f64,
    /// Share flagged, normalized.
    pub flagged_share_normalized: f64,
    /// Min-cost-flow phases.
    pub solver_phases: u32,
}

fn ranking_taus(
    contest: &SyntheticContest,
    reviews: &[Review],
    config: &AggregationConfig,
) -> Result<(f64, f64, f64), SimulationError> {
    let agg = aggregate(reviews, config)?;
    let problem_of: HashMap<EntryId, ProblemId> = contest
        .input
        .entries
        .iter()
        .map(|e| (e.id.clone(), e.problem.clone()))
        .collect();
    let ranking = rank_aggregates(&agg.entries, &problem_of)?;
    let quality: HashMap<&EntryId, f64> = contest
        .input
        .entries
        .iter()
        .zip(&contest.true_quality)
        .map(|(e, q)| (&e.id, *q))
        .collect();
    let tau_of = |lines: &[crate::domain::ranking::RankedEntry]| -> Option<f64> {
        let pos: Vec<f64> = lines.iter().map(|l| -f64::from(l.rank)).collect();
        let truth: Vec<f64> = lines
            .iter()
            .map(|l| quality.get(&l.entry).copied().unwrap_or(0.0))
            .collect();
        kendall_tau_b(&pos, &truth)
    };
    let overall = tau_of(&ranking.overall).unwrap_or(0.0);
    let per: Vec<f64> = ranking
        .by_problem
        .values()
        .filter_map(|l| tau_of(l))
        .collect();
    let per_mean = if per.is_empty() {
        0.0
    } else {
        per.iter().sum::<f64>() / per.len() as f64
    };
    let flagged =
        agg.entries.iter().filter(|e| e.flagged).count() as f64 / agg.entries.len().max(1) as f64;
    Ok((overall, per_mean, flagged))
}

/// Runs one seeded contest end to end.
pub fn run_seed(config: &SimulationConfig, seed: u64) -> Result<SeedReport, SimulationError> {
    let contest = generate(config, seed)?;
    let plan = assign(&contest.input)?;
    let input = &contest.input;

    let entry_index: HashMap<&EntryId, usize> = input
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| (&e.id, i))
        .collect();
    let judge_index: HashMap<&JudgeId, usize> = input
        .judges
        .iter()
        .enumerate()
        .map(|(i, j)| (&j.id, i))
        .collect();
    let mut conflicts_violated = 0u32;
    let mut per_entry = vec![0u32; input.entries.len()];
    let mut per_judge = vec![0u32; input.judges.len()];
    for p in &plan.assignments {
        let (Some(&e), Some(&j)) = (entry_index.get(&p.entry), judge_index.get(&p.judge)) else {
            continue;
        };
        per_entry[e] += 1;
        per_judge[j] += 1;
        if contest.truly_conflicted(j, e) {
            conflicts_violated += 1;
        }
    }
    let over_max_load = per_judge
        .iter()
        .zip(&input.judges)
        .filter(|(l, j)| **l > j.max_load)
        .count() as u32;
    let entries_short = per_entry.iter().filter(|n| **n < input.k).count() as u32;
    let index = ConflictIndex::new(&input.judges, &input.entries, &input.declared_conflicts);
    let (mut in_pool, mut missed) = (0u32, 0u32);
    for j in 0..input.judges.len() {
        for e in 0..input.entries.len() {
            if contest.truly_conflicted(j, e) {
                in_pool += 1;
                if index.conflict(j, e).is_none() {
                    missed += 1;
                }
            }
        }
    }

    let rubric = Rubric::default_contest();
    let reviews = simulate_reviews(&contest, &plan, &rubric, config, seed)?;
    let plain = AggregationConfig::default();
    let norm = AggregationConfig {
        normalization: Some(Normalization {
            min_reviews: config.min_reviews,
        }),
        ..plain
    };
    let median = AggregationConfig {
        method: AggregationMethod::Median,
        ..plain
    };
    let norm_median = AggregationConfig {
        method: AggregationMethod::Median,
        ..norm
    };
    let (tau_mean, tau_mean_pp, flagged_mean) = ranking_taus(&contest, &reviews, &plain)?;
    let (tau_norm, tau_norm_pp, flagged_norm) = ranking_taus(&contest, &reviews, &norm)?;
    let (tau_median, _, _) = ranking_taus(&contest, &reviews, &median)?;
    let (tau_norm_median, _, _) = ranking_taus(&contest, &reviews, &norm_median)?;
    let n = input.entries.len().max(1) as f64;
    Ok(SeedReport {
        seed,
        tau_mean,
        tau_median,
        tau_normalized: tau_norm,
        tau_normalized_median: tau_norm_median,
        tau_mean_per_problem: tau_mean_pp,
        tau_normalized_per_problem: tau_norm_pp,
        load_min: plan.stats.load_min,
        load_max: plan.stats.load_max,
        load_spread_below_max: plan.stats.load_spread_below_max,
        expert_share: f64::from(plan.stats.entries_with_expert) / n,
        expert_available_share: f64::from(plan.stats.entries_with_expert_available) / n,
        conflicts_violated,
        conflicted_pairs_in_pool: in_pool,
        conflicts_missed_by_checker: missed,
        over_max_load,
        entries_short,
        flagged_share_mean: flagged_mean,
        flagged_share_normalized: flagged_norm,
        solver_phases: plan.stats.solver_phases,
    })
}

/// Results over several seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationSummary {
    /// The configuration.
    pub config: SimulationConfig,
    /// One report per seed.
    pub seeds: Vec<SeedReport>,
}

impl SimulationSummary {
    fn avg(&self, f: impl Fn(&SeedReport) -> f64) -> f64 {
        if self.seeds.is_empty() {
            return 0.0;
        }
        self.seeds.iter().map(f).sum::<f64>() / self.seeds.len() as f64
    }
    /// Average tau, plain mean.
    pub fn tau_mean(&self) -> f64 {
        self.avg(|s| s.tau_mean)
    }
    /// Average tau, normalized mean.
    pub fn tau_normalized(&self) -> f64 {
        self.avg(|s| s.tau_normalized)
    }
    /// Smallest per-seed gain of normalization over the plain mean.
    pub fn min_gain(&self) -> f64 {
        self.seeds
            .iter()
            .map(|s| s.tau_normalized - s.tau_mean)
            .fold(f64::INFINITY, f64::min)
    }
    /// Sum of conflicts violated over all seeds.
    pub fn conflicts_violated(&self) -> u32 {
        self.seeds.iter().map(|s| s.conflicts_violated).sum()
    }
}

/// Runs several seeds.
pub fn run(config: &SimulationConfig, seeds: &[u64]) -> Result<SimulationSummary, SimulationError> {
    let seeds = seeds
        .iter()
        .map(|&s| run_seed(config, s))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SimulationSummary {
        config: config.clone(),
        seeds,
    })
}

impl fmt::Display for SimulationSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        writeln!(
            f,
            "Simulated contest: {} problems, {} fields, {} entries, {} judges, k = {}, {} seeds",
            c.problems,
            c.fields,
            c.entries,
            c.judges,
            c.k,
            self.seeds.len()
        )?;
        writeln!(
            f,
            "Judges: leniency sd {:.2} marks, spread factor exp(N(0, {:.2})), noise {:.2}–{:.2} marks; quality scale {:.2} marks/sd",
            c.leniency_sd, c.spread_log_sd, c.noise_min, c.noise_max, c.quality_scale
        )?;
        writeln!(
            f,
            "{:>6} {:>7} {:>7} {:>7} {:>7} {:>8} {:>8} {:>5} {:>5} {:>6} {:>7} {:>7} {:>6} {:>6}",
            "seed",
            "τ mean",
            "τ med",
            "τ norm",
            "τ nmed",
            "τ/pb m",
            "τ/pb n",
            "load",
            "",
            "sprd<",
            "expert",
            "avail",
            "confl",
            "pool"
        )?;
        for s in &self.seeds {
            writeln!(
                f,
                "{:>6} {:>7.4} {:>7.4} {:>7.4} {:>7.4} {:>8.4} {:>8.4} {:>5} {:>5} {:>6} {:>6.1}% {:>6.1}% {:>6} {:>6}",
                s.seed,
                s.tau_mean,
                s.tau_median,
                s.tau_normalized,
                s.tau_normalized_median,
                s.tau_mean_per_problem,
                s.tau_normalized_per_problem,
                s.load_min,
                s.load_max,
                s.load_spread_below_max,
                100.0 * s.expert_share,
                100.0 * s.expert_available_share,
                s.conflicts_violated,
                s.conflicted_pairs_in_pool,
            )?;
        }
        writeln!(
            f,
            "Average Kendall tau (overall ranking vs truth): plain mean {:.4}, median {:.4}, normalized mean {:.4}, normalized median {:.4}",
            self.tau_mean(),
            self.avg(|s| s.tau_median),
            self.tau_normalized(),
            self.avg(|s| s.tau_normalized_median)
        )?;
        writeln!(
            f,
            "Average per-problem tau: plain mean {:.4}, normalized mean {:.4}",
            self.avg(|s| s.tau_mean_per_problem),
            self.avg(|s| s.tau_normalized_per_problem)
        )?;
        writeln!(
            f,
            "Gain of normalization: {:+.4} on average, {:+.4} at worst (per seed)",
            self.tau_normalized() - self.tau_mean(),
            self.min_gain()
        )?;
        writeln!(
            f,
            "Loads: min {:.1}, max {:.1} on average (spread {:.1}; {:.1} among judges below their max load)",
            self.avg(|s| f64::from(s.load_min)),
            self.avg(|s| f64::from(s.load_max)),
            self.avg(|s| f64::from(s.load_max - s.load_min)),
            self.avg(|s| f64::from(s.load_spread_below_max))
        )?;
        writeln!(
            f,
            "Entries with an expert: {:.2}% (an eligible expert existed for {:.2}%)",
            100.0 * self.avg(|s| s.expert_share),
            100.0 * self.avg(|s| s.expert_available_share)
        )?;
        writeln!(
            f,
            "Flagged for disagreement (sd > 15): {:.1}% plain, {:.1}% normalized",
            100.0 * self.avg(|s| s.flagged_share_mean),
            100.0 * self.avg(|s| s.flagged_share_normalized)
        )?;
        write!(
            f,
            "Conflicts violated: {} (ground-truth conflicted pairs in the pool: {:.0} per seed; missed by the checker: {}); judges over max load: {}; entries short of k: {}",
            self.conflicts_violated(),
            self.avg(|s| f64::from(s.conflicted_pairs_in_pool)),
            self.seeds
                .iter()
                .map(|s| s.conflicts_missed_by_checker)
                .sum::<u32>(),
            self.seeds.iter().map(|s| s.over_max_load).sum::<u32>(),
            self.seeds.iter().map(|s| s.entries_short).sum::<u32>(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn small_config() -> SimulationConfig {
        SimulationConfig {
            problems: 6,
            fields: 3,
            entries: 60,
            judges: 12,
            organizations: 10,
            judge_only_organizations: 5,
            declared_team_conflicts: 4,
            declared_org_conflicts: 2,
            ..SimulationConfig::national()
        }
    }

    #[test]
    fn kendall_tau_known_values() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(kendall_tau_b(&x, &x), Some(1.0));
        assert_eq!(kendall_tau_b(&x, &[4.0, 3.0, 2.0, 1.0]), Some(-1.0));
        // One swapped pair out of six: (5 - 1) / 6.
        let t = kendall_tau_b(&x, &[1.0, 3.0, 2.0, 4.0]).unwrap();
        assert!((t - 4.0 / 6.0).abs() < 1e-12);
        // tau-b with ties: x = [1,1,2], y = [1,2,3]: C=2, D=0, ties_x=1 → 2/sqrt(2*3).
        let t = kendall_tau_b(&[1.0, 1.0, 2.0], &[1.0, 2.0, 3.0]).unwrap();
        assert!((t - 2.0 / 6f64.sqrt()).abs() < 1e-12);
        assert_eq!(kendall_tau_b(&[1.0], &[1.0]), None);
        assert_eq!(kendall_tau_b(&[1.0, 1.0], &[1.0, 2.0]), None);
        assert_eq!(kendall_tau_b(&[1.0, 2.0], &[1.0]), None);
    }

    #[test]
    fn generation_is_seeded_and_well_formed() {
        let c = small_config();
        let a = generate(&c, 3).unwrap();
        let b = generate(&c, 3).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, generate(&c, 4).unwrap());
        assert_eq!(a.input.entries.len(), 60);
        assert_eq!(a.input.judges.len(), 12);
        assert_eq!(a.true_quality.len(), 60);
        assert!(a.input.entries.iter().all(|e| !e.members.is_empty()));
        let total_load: u32 = a.input.judges.iter().map(|j| j.max_load).sum();
        assert!(total_load >= 3 * 60);
    }

    #[test]
    fn small_run_is_consistent() {
        let r = run_seed(&small_config(), 1).unwrap();
        assert_eq!(r.conflicts_violated, 0);
        assert_eq!(r.conflicts_missed_by_checker, 0);
        assert_eq!(r.over_max_load, 0);
        assert_eq!(r.entries_short, 0);
        assert!(r.tau_mean > 0.3 && r.tau_normalized > 0.3);
        let summary = run(&small_config(), &[1, 2]).unwrap();
        assert_eq!(summary.seeds.len(), 2);
        assert!(summary.to_string().contains("Conflicts violated: 0"));
    }

    #[test]
    fn bad_config_is_refused() {
        let mut c = small_config();
        c.noise_min = 2.0;
        c.noise_max = 1.0;
        assert!(matches!(
            generate(&c, 1),
            Err(SimulationError::BadConfig(_))
        ));
        let mut c = small_config();
        c.judges = 2;
        assert!(matches!(
            generate(&c, 1),
            Err(SimulationError::BadConfig(_))
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn tau_is_bounded_and_symmetric(
            pairs in prop::collection::vec((0u8..10, 0u8..10), 2..30)
        ) {
            let x: Vec<f64> = pairs.iter().map(|p| f64::from(p.0)).collect();
            let y: Vec<f64> = pairs.iter().map(|p| f64::from(p.1)).collect();
            if let Some(t) = kendall_tau_b(&x, &y) {
                prop_assert!((-1.0 - 1e-12..=1.0 + 1e-12).contains(&t));
                prop_assert_eq!(Some(t), kendall_tau_b(&y, &x));
                let neg: Vec<f64> = y.iter().map(|v| -v).collect();
                let tn = kendall_tau_b(&x, &neg).unwrap();
                prop_assert!((t + tn).abs() < 1e-12);
            }
        }

        #[test]
        fn normal_draws_are_finite(seed in any::<u64>()) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            for _ in 0..100 {
                prop_assert!(normal(&mut rng).is_finite());
            }
        }
    }
}
