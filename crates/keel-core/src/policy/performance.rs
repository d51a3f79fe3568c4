//! Performance budgets: absolute limits, and regressions against the base commit.
//!
//! A regression beyond `max_regression` fails only when it clears the noise: when both the
//! head and the base measurement carry a 95% interval, the intervals must not overlap in the
//! worse direction; otherwise it is a warning that says it is within noise. Measurements with
//! no interval are judged on their point values, and the row says so.

use super::{Outcome, Row, SkipReason, Specific, code};
use crate::config::{Budget, Direction, PerformanceConfig};
use crate::evaluation::MAX_SPECIFICS;
use crate::evaluation::{BenchOutcome, Status};
use crate::facts::Facts;
use crate::report::bench::Measurement;

pub(super) fn evaluate(
    config: Option<&PerformanceConfig>,
    not_affected: Option<String>,
    facts: &Facts,
    out: &mut Outcome,
) {
    if let Some(b) = &facts.benchmarks {
        out.metrics.benchmarks = b.clone();
    }
    let Some(config) = config else { return };
    for budget in &config.budget {
        let row = Row::new(
            format!("performance.{}", budget.benchmark),
            format!("Budget {}", code(&budget.benchmark)),
            budget.level,
            budget.why.as_ref(),
        )
        .threshold(describe(budget));
        if let Some(why) = &not_affected {
            out.push(row.unjudged(SkipReason::NotAffected, why.clone()));
            continue;
        }
        let Some(all) = &facts.benchmarks else {
            out.push(row.no_report("benchmark result", &config.paths));
            continue;
        };
        let matched: Vec<&Measurement> = all
            .iter()
            .filter(|m| budget.matcher.is_match(&m.name))
            .collect();
        if matched.is_empty() {
            out.push(row.no_report(
                &format!("benchmark named {}", code(&budget.benchmark)),
                &config.paths,
            ));
            continue;
        }
        let measured = matched.len();
        let mut failures = Vec::new();
        let mut noisy = Vec::new();
        let mut specifics = Vec::new();
        let mut no_baseline = 0;
        let mut worst: Option<(f64, &Measurement)> = None;
        for m in matched {
            let outcome = judge(budget, m, facts);
            if outcome.baseline.is_none() && budget.max_regression.is_some() {
                no_baseline += 1;
            }
            if let Some(w) = outcome.worse_by_percent
                && worst.is_none_or(|(x, _)| w > x)
            {
                worst = Some((w, m));
            }
            if outcome.baseline.is_some() {
                out.metrics_compared = true;
            }
            match &outcome.verdict {
                Verdict::Fails(why) => failures.push(format!("{} {why}", code(&m.name))),
                Verdict::WithinNoise(why) => noisy.push(format!("{} {why}", code(&m.name))),
                Verdict::Passes => {}
            }
            if !matches!(outcome.verdict, Verdict::Passes) && specifics.len() < MAX_SPECIFICS {
                specifics.push(Specific {
                    path: None,
                    lines: Vec::new(),
                    text: bench_specific(m, &outcome),
                    note: None,
                });
            }
            out.performance.push(BenchOutcome {
                name: m.name.clone(),
                value: m.quantity().to_string(),
                baseline: outcome.baseline.map(|b| b.quantity().to_string()),
                worse_by_percent: outcome.worse_by_percent,
                beyond_noise: outcome.beyond_noise,
                status: match (&outcome.verdict, budget.level) {
                    (Verdict::Passes, _) => Status::Pass,
                    (Verdict::WithinNoise(_), _) => Status::Warn,
                    (Verdict::Fails(_), level) => Status::judge(false, level),
                },
            });
        }
        let row = match worst {
            Some((w, m)) => {
                let mut r = row.actual(m.quantity().to_string());
                r.delta = Some(format!("{w:+.1}%"));
                r
            }
            None => row.actual(format!("{measured} measured")),
        };
        let explanation = if !failures.is_empty() {
            failures.join("; ")
        } else if !noisy.is_empty() {
            noisy.join("; ")
        } else if no_baseline > 0 {
            "within the absolute limits; no baseline to measure a regression against".to_owned()
        } else {
            "within budget".to_owned()
        };
        let unmeasured = failures.is_empty() && noisy.is_empty() && no_baseline == measured;
        let mut row = if unmeasured && budget.max.is_none() && budget.min.is_none() {
            // Only a regression limit, and nothing to measure it against: not judged.
            row.unjudged(
                SkipReason::NoBaseline,
                "no baseline: the base commit has no recorded measurement to compare with",
            )
        } else {
            row.judged(failures.is_empty(), explanation)
        };
        if failures.is_empty() && !noisy.is_empty() {
            row.status = Status::Warn;
        }
        row.specifics = specifics;
        out.push(row);
    }
}

/// "`parse` 12.1 ms → 14.0 ms (+15.7%, beyond noise)", or the limit it broke.
fn bench_specific(m: &Measurement, j: &Judged<'_>) -> String {
    let name = code(&m.name);
    match (j.baseline, j.worse_by_percent) {
        (Some(base), Some(worse)) => {
            let noise = match j.beyond_noise {
                Some(true) => "beyond noise",
                Some(false) => "within noise",
                None => "noise unknown: no intervals",
            };
            format!(
                "{name} {} → {} ({worse:+.1}%, {noise})",
                base.quantity(),
                m.quantity()
            )
        }
        _ => match &j.verdict {
            Verdict::Fails(why) | Verdict::WithinNoise(why) => format!("{name} {why}"),
            Verdict::Passes => format!("{name} {}", m.quantity()),
        },
    }
}

fn describe(b: &Budget) -> String {
    let mut parts = Vec::new();
    if let Some(max) = b.max {
        parts.push(format!("≤ {max}"));
    }
    if let Some(min) = b.min {
        parts.push(format!("≥ {min}"));
    }
    if let Some(r) = b.max_regression {
        parts.push(format!("≤ {r} worse than base"));
    }
    parts.join(", ")
}

enum Verdict {
    Passes,
    Fails(String),
    WithinNoise(String),
}

struct Judged<'a> {
    verdict: Verdict,
    baseline: Option<&'a Measurement>,
    worse_by_percent: Option<f64>,
    beyond_noise: Option<bool>,
}

fn judge<'a>(budget: &Budget, m: &Measurement, facts: &'a Facts) -> Judged<'a> {
    let q = m.quantity();
    if let Some(max) = budget
        .max
        .filter(|max| max.dimension == m.dimension && m.value > max.value)
    {
        return fails(format!("is {q}, over the limit of {max}"));
    }
    if let Some(min) = budget
        .min
        .filter(|min| min.dimension == m.dimension && m.value < min.value)
    {
        return fails(format!("is {q}, under the minimum of {min}"));
    }
    let baseline = facts.baseline.as_ref().and_then(|b| {
        b.benchmarks
            .iter()
            .find(|x| x.name == m.name && x.dimension == m.dimension)
    });
    let Some(base) = baseline.filter(|b| b.value > 0.0) else {
        return Judged {
            verdict: Verdict::Passes,
            baseline,
            worse_by_percent: None,
            beyond_noise: None,
        };
    };
    let worse = match budget.direction {
        Direction::Smaller => (m.value - base.value) / base.value * 100.0,
        Direction::Bigger => (base.value - m.value) / base.value * 100.0,
    };
    let beyond_noise = match (m.interval, base.interval) {
        (Some(h), Some(b)) => Some(match budget.direction {
            Direction::Smaller => h.lower > b.upper,
            Direction::Bigger => h.upper < b.lower,
        }),
        _ => None,
    };
    let verdict = match budget.max_regression {
        Some(limit) if worse > limit.0 => match beyond_noise {
            Some(false) => Verdict::WithinNoise(format!(
                "is {worse:.1}% worse than base ({}), but the 95% intervals overlap: within noise",
                base.quantity()
            )),
            Some(true) => Verdict::Fails(format!(
                "is {worse:.1}% worse than base ({}), beyond noise",
                base.quantity()
            )),
            None => Verdict::Fails(format!(
                "is {worse:.1}% worse than base ({}); no interval to judge noise",
                base.quantity()
            )),
        },
        _ => Verdict::Passes,
    };
    Judged {
        verdict,
        baseline: Some(base),
        worse_by_percent: Some(worse),
        beyond_noise,
    }
}

fn fails<'a>(why: String) -> Judged<'a> {
    Judged {
        verdict: Verdict::Fails(why),
        baseline: None,
        worse_by_percent: None,
        beyond_noise: None,
    }
}
