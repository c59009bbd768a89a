//! Judging benchmark: `cargo bench --bench judging`.
//!
//! Prints (1) the simulated-contest quality report, (2) a sensitivity table over
//! judge heterogeneity, (3) the assignment of 5,000 entries to 500 judges
//! (k = 3) with wall time and peak RSS, each measured in a fresh child process,
//! next to a naive greedy baseline on the same input, and (4) aggregation and
//! ranking of 60,000 reviews, normalized vs a plain mean.

use dxcontest::domain::aggregate::{AggregationConfig, Normalization, Review, aggregate};
use dxcontest::domain::assignment::conflict::ConflictIndex;
use dxcontest::domain::assignment::{AssignmentError, AssignmentInput, ExpertiseLevel, assign};
use dxcontest::domain::ids::{EntryId, JudgeId, ProblemId, splitmix64};
use dxcontest::domain::ranking::rank_aggregates;
use dxcontest::domain::rubric::Score;
use dxcontest::domain::simulation::{SimulationConfig, SyntheticContest, generate, run};
use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

const ASSIGN_ENTRIES: u32 = 5_000;
const ASSIGN_JUDGES: u32 = 500;
const REVIEWS: usize = 60_000;

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "n/a".to_owned(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    )
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

/// Quality figures shared by both assigners.
#[derive(Default)]
struct Quality {
    load_min: u32,
    load_max: u32,
    spread_below_max: u32,
    with_expert: u32,
    short: u32,
    empty: u32,
    /// Pairs by match level: expert, knowledgeable, outside the field.
    levels: [u32; 3],
    violated: u32,
}

impl Quality {
    fn line(&self) -> String {
        let pairs: u32 = self.levels.iter().sum::<u32>().max(1);
        let pct = |x: u32| 100.0 * f64::from(x) / f64::from(pairs);
        format!(
            "loads {}..{} (spread {}, {} among judges below max) | entries with an expert {:.2}% | \
             pairs expert/knowl./outside {:.1}/{:.1}/{:.1}% | entries short of k {} (with no judge {}) | \
             conflicts violated {}",
            self.load_min,
            self.load_max,
            self.load_max - self.load_min,
            self.spread_below_max,
            100.0 * f64::from(self.with_expert) / f64::from(ASSIGN_ENTRIES),
            pct(self.levels[0]),
            pct(self.levels[1]),
            pct(self.levels[2]),
            self.short,
            self.empty,
            self.violated
        )
    }
}

fn level_index(input: &AssignmentInput, j: usize, e: usize) -> usize {
    let field = &input.entries[e].field;
    match input.judges[j]
        .expertise
        .iter()
        .filter(|x| &x.field == field)
        .map(|x| x.level)
        .max()
    {
        Some(ExpertiseLevel::Expert) => 0,
        Some(ExpertiseLevel::Knowledgeable) => 1,
        None => 2,
    }
}

/// Judge-index lists per entry → quality figures (checked against ground truth).
fn quality(contest: &SyntheticContest, chosen: &[Vec<usize>]) -> Quality {
    let input = &contest.input;
    let mut q = Quality::default();
    let mut load = vec![0u32; input.judges.len()];
    for (e, judges) in chosen.iter().enumerate() {
        let mut expert = false;
        for &j in judges {
            load[j] += 1;
            let l = level_index(input, j, e);
            q.levels[l] += 1;
            expert |= l == 0;
            if contest.truly_conflicted(j, e) {
                q.violated += 1;
            }
        }
        q.with_expert += u32::from(expert);
        q.short += u32::from(judges.len() < input.k as usize);
        q.empty += u32::from(judges.is_empty());
    }
    let below: Vec<u32> = (0..load.len())
        .filter(|&j| load[j] < input.judges[j].max_load)
        .map(|j| load[j])
        .collect();
    q.spread_below_max = below.iter().max().unwrap_or(&0) - below.iter().min().unwrap_or(&0);
    q.load_min = load.iter().copied().min().unwrap_or(0);
    q.load_max = load.iter().copied().max().unwrap_or(0);
    q
}

/// Naive baseline: entries in input order; each takes the least-loaded
/// conflict-free judges with room, an expert first when one has room.
fn greedy(input: &AssignmentInput) -> Vec<Vec<usize>> {
    let index = ConflictIndex::new(&input.judges, &input.entries, &input.declared_conflicts);
    let mut load = vec![0u32; input.judges.len()];
    let mut out = Vec::with_capacity(input.entries.len());
    for (e, entry) in input.entries.iter().enumerate() {
        let is_expert = |j: usize| {
            input.judges[j]
                .expertise
                .iter()
                .any(|x| x.field == entry.field && x.level == ExpertiseLevel::Expert)
        };
        let mut candidates: Vec<usize> = (0..input.judges.len())
            .filter(|&j| load[j] < input.judges[j].max_load && index.conflict(j, e).is_none())
            .collect();
        candidates.sort_by_key(|&j| (load[j], j));
        let mut chosen: Vec<usize> = Vec::new();
        if let Some(&x) = candidates.iter().find(|&&j| is_expert(j)) {
            chosen.push(x);
        }
        for &j in &candidates {
            if chosen.len() >= input.k as usize {
                break;
            }
            if !chosen.contains(&j) {
                chosen.push(j);
            }
        }
        for &j in &chosen {
            load[j] += 1;
        }
        out.push(chosen);
    }
    out
}

/// Runs in a fresh process: one assignment of 5,000 × 500, k = 3. `-tight`
/// sets every maximum load to 30 or 31, so capacity exceeds demand by 1.7 %;
/// `-over` sets it to 25, so 2,500 of the 15,000 seats cannot be filled.
fn assignment_child(which: &str) {
    let config = SimulationConfig::scaled(ASSIGN_ENTRIES, ASSIGN_JUDGES);
    let mut contest = match generate(&config, 1) {
        Ok(c) => c,
        Err(e) => {
            println!("  generation failed: {e}");
            return;
        }
    };
    for (i, j) in contest.input.judges.iter_mut().enumerate() {
        if which.ends_with("-tight") {
            j.max_load = 30 + (i % 2) as u32;
        } else if which.ends_with("-over") {
            j.max_load = 25;
        }
    }
    let rss_input = status_kib("VmRSS:");
    let hwm_input = status_kib("VmHWM:");
    let start = Instant::now();
    let (chosen, note) = if which.starts_with("greedy") {
        (greedy(&contest.input), String::new())
    } else {
        let result = assign(&contest.input);
        let (plan, note) = match result {
            Ok(plan) => (plan, format!("complete, {} solver phases", 0)),
            Err(AssignmentError::Infeasible(inf)) => {
                let n = inf.shortfalls.len();
                (inf.plan, format!("INFEASIBLE for {n} entries"))
            }
            Err(e) => {
                println!("  {which}: FAILED: {e}");
                return;
            }
        };
        let note = note.replace("0 solver", &format!("{} solver", plan.stats.solver_phases));
        let entry_pos: HashMap<&EntryId, usize> = contest
            .input
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (&e.id, i))
            .collect();
        let judge_pos: HashMap<&JudgeId, usize> = contest
            .input
            .judges
            .iter()
            .enumerate()
            .map(|(i, j)| (&j.id, i))
            .collect();
        let mut chosen = vec![Vec::new(); contest.input.entries.len()];
        for p in &plan.assignments {
            if let (Some(&e), Some(&j)) = (entry_pos.get(&p.entry), judge_pos.get(&p.judge)) {
                chosen[e].push(j);
            }
        }
        (chosen, note)
    };
    // The mcf time covers `assign` plus turning its output into index lists (a few ms).
    let elapsed = start.elapsed();
    let hwm = status_kib("VmHWM:");
    let q = quality(&contest, &chosen);
    println!(
        "  {which:<12} wall {:>7.0} ms | peak RSS {} (after building the input: RSS {}; delta {}) {note}\n  {:<12} {}",
        elapsed.as_secs_f64() * 1e3,
        mib(hwm),
        mib(rss_input),
        mib(hwm.zip(hwm_input).map(|(a, b)| a.saturating_sub(b))),
        "",
        q.line()
    );
}

fn simulation_report() {
    println!("== 1. Simulated contest (the issue's size) ==");
    let seeds: Vec<u64> = (1..=20).collect();
    let start = Instant::now();
    match run(&SimulationConfig::national(), &seeds) {
        Ok(summary) => println!("{summary}"),
        Err(e) => println!("simulation failed: {e}"),
    }
    println!("(20 seeds in {:.2} s)\n", start.elapsed().as_secs_f64());

    println!(
        "== 2. Sensitivity: how heterogeneous must judges be for normalization to pay? (10 seeds each) =="
    );
    println!(
        "{:>12} {:>12} {:>9} {:>9} {:>8}",
        "leniency sd", "log-spread", "τ mean", "τ norm", "gain"
    );
    let seeds: Vec<u64> = (101..=110).collect();
    for (leniency, spread) in [
        (0.0, 0.0),
        (0.25, 0.1),
        (0.5, 0.15),
        (0.75, 0.2),
        (1.0, 0.3),
        (1.5, 0.4),
    ] {
        let config = SimulationConfig {
            leniency_sd: leniency,
            spread_log_sd: spread,
            ..SimulationConfig::national()
        };
        match run(&config, &seeds) {
            Ok(s) => println!(
                "{leniency:>12.2} {spread:>12.2} {:>9.4} {:>9.4} {:>+8.4}",
                s.tau_mean(),
                s.tau_normalized(),
                s.tau_normalized() - s.tau_mean()
            ),
            Err(e) => println!("failed: {e}"),
        }
    }
    println!();
}

fn assignment_benchmark() {
    println!(
        "== 3. Assignment: {ASSIGN_ENTRIES} entries, {ASSIGN_JUDGES} judges, k = 3 (each run in a fresh process) =="
    );
    let exe = std::env::current_exe();
    for which in [
        "mcf",
        "greedy",
        "mcf-tight",
        "greedy-tight",
        "mcf-over",
        "greedy-over",
    ] {
        match &exe {
            Ok(exe) => {
                let status = Command::new(exe).args(["--assign-child", which]).status();
                if let Err(e) = status {
                    println!("  could not start child: {e}");
                }
            }
            Err(e) => println!("  no current exe: {e}"),
        }
    }
    println!(
        "  (mcf = the min-cost-flow assigner; greedy = naive baseline: entries in order, least-loaded\n   \
         conflict-free judges, an expert first; -tight = every max load set to 30/31, 1.7% spare capacity;\n   \
         -over = every max load 25, capacity 12,500 for 15,000 seats)\n"
    );
}

fn aggregation_benchmark() {
    println!(
        "== 4. Aggregation + ranking of {REVIEWS} reviews (20,000 entries x 3, 2,000 judges) =="
    );
    let entries = REVIEWS / 3;
    let judges = 2_000u64;
    let mut x = 42u64;
    let mut reviews = Vec::with_capacity(REVIEWS);
    let mut problem_of = HashMap::new();
    for e in 0..entries {
        let entry = EntryId(format!("entry-{e:06}"));
        problem_of.insert(entry.clone(), ProblemId(format!("problem-{:02}", e % 72)));
        let first = {
            x = splitmix64(x);
            x % judges
        };
        for r in 0..3u64 {
            x = splitmix64(x);
            let score = (x % 10_001) as f64 / 100.0;
            let Ok(score) = Score::new(score) else {
                continue;
            };
            reviews.push(Review {
                judge: JudgeId(format!("judge-{:04}", (first + r * 667) % judges)),
                entry: entry.clone(),
                score,
            });
        }
    }
    let plain = AggregationConfig::default();
    let normalized = AggregationConfig {
        normalization: Some(Normalization::default()),
        ..plain
    };
    // Interleave the two configurations (after one warm-up run each) so that
    // machine noise hits both alike.
    let configs = [
        ("plain mean (baseline)", plain),
        ("normalized mean", normalized),
    ];
    let mut agg_times = [Vec::new(), Vec::new()];
    let mut total_times = [Vec::new(), Vec::new()];
    for round in 0..12 {
        for (c, (_, config)) in configs.iter().enumerate() {
            let start = Instant::now();
            let Ok(agg) = aggregate(&reviews, config) else {
                println!("  aggregation failed");
                return;
            };
            let mid = start.elapsed();
            let Ok(ranking) = rank_aggregates(&agg.entries, &problem_of) else {
                println!("  ranking failed");
                return;
            };
            let total = start.elapsed();
            std::hint::black_box(ranking);
            if round > 0 {
                agg_times[c].push(mid);
                total_times[c].push(total);
            }
        }
    }
    for (c, (name, _)) in configs.iter().enumerate() {
        println!(
            "  {name:<22} aggregate {:>6.1} ms, aggregate + rank {:>6.1} ms (median of 11, max {:.1} ms)",
            median(agg_times[c].clone()).as_secs_f64() * 1e3,
            median(total_times[c].clone()).as_secs_f64() * 1e3,
            total_times[c]
                .iter()
                .max()
                .map_or(0.0, |d| d.as_secs_f64() * 1e3)
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--assign-child") {
        assignment_child(args.get(pos + 1).map_or("mcf", String::as_str));
        return;
    }
    if args.iter().any(|a| a == "--aggregate-only") {
        aggregation_benchmark();
        return;
    }
    println!(
        "machine: {} logical CPUs",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    simulation_report();
    assignment_benchmark();
    aggregation_benchmark();
}
