//! End-to-end proof on a simulated national contest (72 problems, 1,500
//! entries, 150 judges, k = 3): assignment, rubric scoring, aggregation and
//! ranking. The benchmark (`cargo bench --bench judging`) runs 20 seeds and a
//! sensitivity table; this test runs 5 seeds to stay fast in a debug build.

use dxcontest::domain::simulation::{SimulationConfig, run};

const SEEDS: [u64; 5] = [1, 2, 3, 4, 5];

#[test]
fn simulated_contest_meets_the_quality_claims() {
    let config = SimulationConfig::national();
    assert_eq!(
        (config.problems, config.entries, config.judges, config.k),
        (72, 1_500, 150, 3)
    );
    let summary = run(&config, &SEEDS).expect("simulation runs");
    println!("{summary}");

    for s in &summary.seeds {
        // Hard constraints, checked against the generator's ground truth.
        assert_eq!(s.conflicts_violated, 0, "seed {}", s.seed);
        assert!(
            s.conflicted_pairs_in_pool > 500,
            "the instance must contain conflicts to avoid"
        );
        assert_eq!(s.conflicts_missed_by_checker, 0, "seed {}", s.seed);
        assert_eq!(s.over_max_load, 0, "seed {}", s.seed);
        assert_eq!(s.entries_short, 0, "seed {}", s.seed);
        // Loads as even as the judges' own maxima allow.
        assert!(
            s.load_spread_below_max <= 1,
            "seed {}: spread {}",
            s.seed,
            s.load_spread_below_max
        );
        // Experts wherever the pool has one (allowing a rare gap when every
        // eligible expert of a small field is at their maximum load).
        assert!(s.expert_available_share > 0.99);
        assert!(
            s.expert_share >= s.expert_available_share - 0.01,
            "seed {}",
            s.seed
        );
        // Normalization beats the plain mean on every seed...
        assert!(
            s.tau_normalized > s.tau_mean + 0.03,
            "seed {}: normalized {:.4} vs mean {:.4}",
            s.seed,
            s.tau_normalized,
            s.tau_mean
        );
        assert!(
            s.tau_mean > 0.5 && s.tau_normalized < 0.95,
            "implausible taus"
        );
    }
    // ... and by a clear margin on average.
    let gain = summary.tau_normalized() - summary.tau_mean();
    assert!(gain >= 0.05, "average gain {gain:.4}");
    assert_eq!(summary.conflicts_violated(), 0);
}

#[test]
fn normalization_does_not_help_homogeneous_judges() {
    // The honest flip side: when judges do not differ, estimating and removing
    // a per-judge offset only adds noise. (The benchmark prints the full curve.)
    let config = SimulationConfig {
        leniency_sd: 0.0,
        spread_log_sd: 0.0,
        ..SimulationConfig::national()
    };
    let summary = run(&config, &[7, 8]).expect("simulation runs");
    let gain = summary.tau_normalized() - summary.tau_mean();
    assert!(gain < 0.0, "gain {gain:.4}");
    assert!(gain > -0.08, "normalization should cost little: {gain:.4}");
}
