//! Benchmark results → [`Measurement`]s: criterion, hyperfine, Google Benchmark and Keel JSON.
//!
//! Times normalise to nanoseconds. Where the tool gives a confidence interval (criterion) or
//! samples (hyperfine's `times`, Google Benchmark repetitions), the measurement carries a 95%
//! interval, so a budget can tell a regression from noise. Entries that carry no time
//! (Google Benchmark's complexity results `_BigO` and `_RMS`, aggregates without a name) are
//! skipped with a note, never silently and never failing the file.

use super::{ReportError, read_all, strip_bom};
use crate::limits::Limits;
use crate::units::{Dimension, Quantity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const FORMAT: &str = "benchmark";
/// Two-sided 95% quantile of the normal distribution.
const Z95: f64 = 1.96;

/// A 95% confidence interval, in the measurement's base unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
}

/// One benchmark's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Benchmark name (criterion id, hyperfine command, Google Benchmark name).
    pub name: String,
    /// The value, normalised: nanoseconds for times, bytes for sizes.
    pub value: f64,
    /// What it measures.
    pub dimension: Dimension,
    /// A 95% interval when the tool gives one or enough samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Interval>,
}

impl Measurement {
    /// The value as a printable quantity.
    pub fn quantity(&self) -> Quantity {
        Quantity {
            value: self.value,
            dimension: self.dimension,
        }
    }
}

/// What one benchmark file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchResults {
    /// The format it was read as.
    pub format: BenchFormat,
    /// The measurements, in file order.
    pub measurements: Vec<Measurement>,
    /// Entries skipped, and why (for the user; not fatal).
    pub notes: Vec<String>,
}

/// The benchmark file formats Keel reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BenchFormat {
    /// criterion's `estimates.json` (one benchmark per file).
    Criterion,
    /// `hyperfine --export-json`.
    Hyperfine,
    /// Google Benchmark `--benchmark_out_format=json`.
    Google,
    /// `[{"name", "value", "unit", "lower"?, "upper"?}]`.
    Keel,
}

/// A criterion benchmark's id for the `estimates.json` at `path` (`/`-separated): `full_id`
/// from its sibling `benchmark.json` when given, else the directories between `criterion/` and
/// `/new/estimates.json`, else the path itself.
pub fn criterion_id(path: &str, benchmark_json: Option<&[u8]>) -> String {
    if let Some(id) = benchmark_json
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .and_then(|v| v["full_id"].as_str().map(str::to_owned))
    {
        return id;
    }
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let start = parts
        .iter()
        .rposition(|p| *p == "criterion")
        .map_or(0, |i| i + 1);
    let end = parts.len().saturating_sub(2);
    if start < end {
        parts[start..end].join("/")
    } else {
        path.to_owned()
    }
}

/// Parses a benchmark file, detecting its format. `criterion_name` names the benchmark of a
/// criterion `estimates.json` (the file itself does not); other formats carry their names.
pub fn parse_bench(
    criterion_name: &str,
    reader: impl std::io::Read,
    limits: &Limits,
) -> Result<BenchResults, ReportError> {
    let bytes = read_all(reader, "benchmark file", limits.bench_bytes)?;
    let value: serde_json::Value = serde_json::from_slice(strip_bom(&bytes))
        .map_err(|e| ReportError::invalid(FORMAT, e.to_string()))?;
    let invalid = |e: serde_json::Error| ReportError::invalid(FORMAT, e.to_string());
    let plain = |format, measurements| BenchResults {
        format,
        measurements,
        notes: Vec::new(),
    };
    match &value {
        serde_json::Value::Array(_) => {
            let rows: Vec<KeelRow> = serde_json::from_value(value).map_err(invalid)?;
            Ok(plain(BenchFormat::Keel, keel_rows(rows)?))
        }
        serde_json::Value::Object(o) if o.contains_key("results") => {
            let hf: Hyperfine = serde_json::from_value(value).map_err(invalid)?;
            Ok(plain(BenchFormat::Hyperfine, hyperfine(hf)))
        }
        serde_json::Value::Object(o) if o.contains_key("benchmarks") => {
            let gb: Google = serde_json::from_value(value).map_err(invalid)?;
            google(gb, limits.max_diagnostics)
        }
        serde_json::Value::Object(o) if o.contains_key("mean") => {
            let c: Criterion = serde_json::from_value(value).map_err(invalid)?;
            Ok(plain(
                BenchFormat::Criterion,
                vec![criterion(criterion_name, c)],
            ))
        }
        _ => Err(ReportError::invalid(
            FORMAT,
            "unrecognised format: expected criterion estimates.json, hyperfine or Google Benchmark JSON, or a Keel array",
        )),
    }
}

#[derive(Deserialize)]
struct KeelRow {
    name: String,
    value: f64,
    #[serde(default)]
    unit: String,
    lower: Option<f64>,
    upper: Option<f64>,
}

fn keel_rows(rows: Vec<KeelRow>) -> Result<Vec<Measurement>, ReportError> {
    rows.into_iter()
        .map(|r| {
            let (factor, dimension) = crate::units::unit(r.unit.trim()).ok_or_else(|| {
                ReportError::invalid(
                    FORMAT,
                    format!("unknown unit `{}` for `{}`", r.unit, r.name),
                )
            })?;
            let interval = match (r.lower, r.upper) {
                (Some(l), Some(u)) => Some(Interval {
                    lower: l * factor,
                    upper: u * factor,
                }),
                _ => None,
            };
            Ok(Measurement {
                name: r.name,
                value: r.value * factor,
                dimension,
                interval,
            })
        })
        .collect()
}

#[derive(Deserialize)]
struct Hyperfine {
    results: Vec<HyperfineResult>,
}

#[derive(Deserialize)]
struct HyperfineResult {
    command: String,
    mean: f64,
    stddev: Option<f64>,
    #[serde(default)]
    times: Vec<f64>,
}

fn hyperfine(hf: Hyperfine) -> Vec<Measurement> {
    hf.results
        .into_iter()
        .map(|r| {
            let n = r.times.len() as f64;
            let interval = r.stddev.filter(|_| n >= 2.0).map(|sd| {
                let half = Z95 * sd / n.sqrt();
                Interval {
                    lower: (r.mean - half) * 1e9,
                    upper: (r.mean + half) * 1e9,
                }
            });
            Measurement {
                name: r.command,
                value: r.mean * 1e9,
                dimension: Dimension::Time,
                interval,
            }
        })
        .collect()
}

#[derive(Deserialize)]
struct Google {
    benchmarks: Vec<GoogleRow>,
}

#[derive(Deserialize)]
struct GoogleRow {
    name: String,
    run_name: Option<String>,
    run_type: Option<String>,
    aggregate_name: Option<String>,
    /// Absent from complexity results (`_BigO`, `_RMS`).
    real_time: Option<f64>,
    #[serde(default = "default_unit")]
    time_unit: String,
    repetitions: Option<u64>,
    #[serde(default)]
    error_occurred: bool,
}

fn default_unit() -> String {
    "ns".into()
}

#[derive(Default)]
struct GoogleGroup {
    samples: Vec<f64>,
    mean: Option<f64>,
    stddev: Option<f64>,
    repetitions: Option<u64>,
}

fn google(gb: Google, max_notes: usize) -> Result<BenchResults, ReportError> {
    let mut order = Vec::new();
    let mut groups: BTreeMap<String, GoogleGroup> = BTreeMap::new();
    let mut notes = Vec::new();
    for (index, row) in gb.benchmarks.into_iter().enumerate() {
        if row.error_occurred {
            continue;
        }
        let real_time = match google_time(&row) {
            Ok(t) => t,
            Err(why) => {
                if notes.len() < max_notes {
                    notes.push(format!("benchmarks[{index}] `{}` skipped: {why}", row.name));
                }
                continue;
            }
        };
        let factor = crate::units::unit(&row.time_unit)
            .filter(|u| u.1 == Dimension::Time)
            .ok_or_else(|| {
                ReportError::invalid(FORMAT, format!("unknown time_unit `{}`", row.time_unit))
            })?
            .0;
        let name = row.run_name.clone().unwrap_or_else(|| row.name.clone());
        if !groups.contains_key(&name) {
            order.push(name.clone());
        }
        let g = groups.entry(name).or_default();
        let value = real_time * factor;
        match (row.run_type.as_deref(), row.aggregate_name.as_deref()) {
            (Some("aggregate"), Some("mean")) => {
                g.mean = Some(value);
                g.repetitions = row.repetitions;
            }
            (Some("aggregate"), Some("stddev")) => g.stddev = Some(value),
            (Some("aggregate"), _) => {}
            _ => g.samples.push(value),
        }
    }
    let measurements = order
        .into_iter()
        .filter_map(|name| {
            let g = groups.remove(&name)?;
            google_measurement(name, g)
        })
        .collect();
    Ok(BenchResults {
        format: BenchFormat::Google,
        measurements,
        notes,
    })
}

/// A row's `real_time`, or why the row has none to use.
fn google_time(row: &GoogleRow) -> Result<f64, &'static str> {
    let aggregate = row.run_type.as_deref() == Some("aggregate");
    match (row.aggregate_name.as_deref(), row.real_time) {
        (Some("BigO" | "RMS"), _) => Err("a complexity result (BigO or RMS) has no time"),
        (None, _) if aggregate => Err("an aggregate without `aggregate_name`"),
        (_, None) => Err("no `real_time`"),
        (_, Some(t)) => Ok(t),
    }
}

/// One benchmark's measurement from its repetitions or aggregates.
fn google_measurement(name: String, g: GoogleGroup) -> Option<Measurement> {
    let n = g
        .repetitions
        .map(|r| r as f64)
        .unwrap_or(g.samples.len() as f64);
    let (mean, sd) = match g.mean {
        Some(m) => (m, g.stddev),
        None if !g.samples.is_empty() => mean_sd(&g.samples),
        None => return None,
    };
    let interval = sd.filter(|_| n >= 2.0).map(|sd| {
        let half = Z95 * sd / n.sqrt();
        Interval {
            lower: mean - half,
            upper: mean + half,
        }
    });
    Some(Measurement {
        name,
        value: mean,
        dimension: Dimension::Time,
        interval,
    })
}

fn mean_sd(xs: &[f64]) -> (f64, Option<f64>) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, None);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, Some(var.sqrt()))
}

#[derive(Deserialize)]
struct Criterion {
    mean: Estimate,
    slope: Option<Estimate>,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
    confidence_interval: Option<ConfidenceInterval>,
}

#[derive(Deserialize)]
struct ConfidenceInterval {
    lower_bound: f64,
    upper_bound: f64,
}

/// criterion prints the slope when it has one (linear sampling), else the mean: so do we.
fn criterion(name: &str, c: Criterion) -> Measurement {
    let e = c.slope.unwrap_or(c.mean);
    Measurement {
        name: name.to_owned(),
        value: e.point_estimate,
        dimension: Dimension::Time,
        interval: e.confidence_interval.map(|ci| Interval {
            lower: ci.lower_bound,
            upper: ci.upper_bound,
        }),
    }
}

#[cfg(test)]
mod tests;
