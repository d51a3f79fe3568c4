//! Gathering CI reports from wherever they are — files on disk ([`files`], for `keel check`
//! and the Action) or the entries of a workflow run's artifact ([`artifact`], for the App) —
//! into the facts the core evaluates. Every reader is
//! bounded by the parsers' [`Limits`]; every error names the report.

pub mod artifact;
pub mod files;

use anyhow::Context;
use keel_core::Limits;
use keel_core::report::bench::{Measurement, parse_bench};
use keel_core::report::cobertura::parse_cobertura;
use keel_core::report::coverage::{CoverageFormat, CoverageReport};
use keel_core::report::lcov::parse_lcov;
use keel_core::report::sarif::{Finding, Suppressed, parse_sarif};
use keel_core::units::Dimension;
use std::io::{BufRead, BufReader, Read};

/// Reports read so far. A kind stays `None` until a report of it is read, so a criterion with
/// no report is judged `no report`, not `0%`.
#[derive(Debug, Default, Clone)]
pub struct Reports {
    /// Coverage, merged over every coverage report.
    pub coverage: Option<CoverageReport>,
    /// Findings of every SARIF log.
    pub findings: Option<Vec<Finding>>,
    /// Results the logs themselves suppress (never counted; shown when on the change), at
    /// most the findings limit over all logs.
    pub suppressed: Vec<Suppressed>,
    /// Measurements of every benchmark file.
    pub benchmarks: Option<Vec<Measurement>>,
    /// Results the parsers skipped, with why (shown to the user, not fatal).
    pub warnings: Vec<String>,
    /// The report files read, by name.
    pub files: Vec<String>,
    /// Kinds of report a source was searched for and did not hold, with what it held: a
    /// warning only if no other source (another artifact of a matrix) brings that kind.
    pub unmatched: Vec<(ReportKind, String)>,
}

/// A kind of report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// LCOV or Cobertura.
    Coverage,
    /// SARIF.
    Sarif,
    /// Benchmark results.
    Bench,
}

impl Reports {
    /// Merges the reports of another source (another artifact or run) into these: coverage
    /// exactly, findings together under the total budget, benchmarks by name (a name measured
    /// twice keeps the worse time or size, with a warning).
    pub fn absorb(&mut self, other: Reports, limits: &Limits) -> anyhow::Result<()> {
        if let Some(coverage) = other.coverage {
            match &mut self.coverage {
                None => self.coverage = Some(coverage),
                Some(merged) => merged.merge(coverage).context("merge coverage reports")?,
            }
        }
        if let Some(findings) = other.findings {
            keel_core::report::sarif::merge_findings(
                self.findings.get_or_insert_with(Vec::new),
                findings,
                limits,
            )?;
        }
        let room = limits.max_findings.saturating_sub(self.suppressed.len());
        self.suppressed
            .extend(other.suppressed.into_iter().take(room));
        if let Some(measured) = other.benchmarks {
            let mine = self.benchmarks.get_or_insert_with(Vec::new);
            for m in measured {
                match mine.iter_mut().find(|kept| kept.name == m.name) {
                    None => mine.push(m),
                    Some(kept) => {
                        // Time and size: the larger is the worse, and the worse is kept (a
                        // second report cannot make a regression disappear).
                        let worse = matches!(m.dimension, Dimension::Time | Dimension::Bytes)
                            && m.dimension == kept.dimension
                            && m.value > kept.value;
                        self.warnings.push(format!(
                            "benchmark `{}` is measured by more than one report; the {} value is used",
                            m.name,
                            if matches!(m.dimension, Dimension::Time | Dimension::Bytes) {
                                "worse"
                            } else {
                                "first"
                            }
                        ));
                        if worse {
                            *kept = m;
                        }
                    }
                }
            }
        }
        self.warnings.extend(other.warnings);
        self.files.extend(other.files);
        self.unmatched.extend(other.unmatched);
        Ok(())
    }

    /// The metrics these reports give under `config`: what a baseline keeps.
    pub fn metrics(self, config: &keel_core::Config) -> keel_core::facts::Metrics {
        let facts = keel_core::Facts {
            coverage: self.coverage,
            findings: self.findings,
            benchmarks: self.benchmarks,
            ..keel_core::Facts::default()
        };
        keel_core::evaluate(config, &facts).metrics
    }

    /// Turns the notes about kinds no source held into warnings, once every source is merged.
    pub fn settle(&mut self) {
        for (kind, note) in std::mem::take(&mut self.unmatched) {
            let read = match kind {
                ReportKind::Coverage => self.coverage.is_some(),
                ReportKind::Sarif => self.findings.is_some(),
                ReportKind::Bench => self.benchmarks.is_some(),
            };
            if !read && !self.warnings.contains(&note) {
                self.warnings.push(note);
            }
        }
    }

    /// Reads coverage report `name` (LCOV or Cobertura; detected unless `format` says) and
    /// merges it into what was read before.
    pub fn add_coverage(
        &mut self,
        name: &str,
        reader: impl Read,
        format: Option<CoverageFormat>,
        limits: &Limits,
    ) -> anyhow::Result<()> {
        let mut reader = BufReader::with_capacity(1 << 16, reader);
        let format = match format {
            Some(f) => f,
            None => {
                let head = reader.fill_buf().with_context(|| format!("read {name}"))?;
                CoverageFormat::detect(head).with_context(|| {
                    format!("{name}: not a coverage report (expected LCOV or Cobertura XML)")
                })?
            }
        };
        let report = match format {
            CoverageFormat::Lcov => parse_lcov(name, reader, limits),
            CoverageFormat::Cobertura => parse_cobertura(name, reader, limits),
        }
        .with_context(|| format!("read coverage report {name}"))?;
        self.files.push(name.to_owned());
        match &mut self.coverage {
            None => self.coverage = Some(report),
            Some(merged) => merged
                .merge(report)
                .with_context(|| format!("merge coverage report {name}"))?,
        }
        Ok(())
    }

    /// Reads SARIF log `name`; results it had to skip become warnings.
    pub fn add_sarif(
        &mut self,
        name: &str,
        reader: impl Read,
        limits: &Limits,
    ) -> anyhow::Result<()> {
        let log =
            parse_sarif(name, reader, limits).with_context(|| format!("read SARIF log {name}"))?;
        self.files.push(name.to_owned());
        self.warnings
            .extend(log.diagnostics.iter().map(ToString::to_string));
        // The findings budget holds over every log of one evaluation, not per log.
        keel_core::report::sarif::merge_findings(
            self.findings.get_or_insert_with(Vec::new),
            log.findings,
            limits,
        )
        .with_context(|| format!("read SARIF log {name}"))?;
        let room = limits.max_findings.saturating_sub(self.suppressed.len());
        self.suppressed
            .extend(log.suppressed.into_iter().take(room));
        Ok(())
    }

    /// Reads benchmark file `name`; `criterion_id` names a criterion `estimates.json`.
    pub fn add_bench(
        &mut self,
        name: &str,
        criterion_id: &str,
        reader: impl Read,
        limits: &Limits,
    ) -> anyhow::Result<()> {
        let results = parse_bench(criterion_id, reader, limits)
            .with_context(|| format!("read benchmark results {name}"))?;
        self.files.push(name.to_owned());
        self.warnings
            .extend(results.notes.iter().map(|n| format!("{name}: {n}")));
        self.benchmarks
            .get_or_insert_with(Vec::new)
            .extend(results.measurements);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Reports;
    use keel_core::Limits;

    fn bench(ms: u32) -> Reports {
        let mut r = Reports::default();
        let json = format!(r#"[{{"name": "parse", "value": {ms}, "unit": "ms"}}]"#);
        r.add_bench("bench.json", "", json.as_bytes(), &Limits::DEFAULT)
            .unwrap();
        r
    }

    #[test]
    fn a_benchmark_measured_twice_keeps_the_worse_time() {
        for (first, second) in [(10, 20), (20, 10)] {
            let mut merged = bench(first);
            merged.absorb(bench(second), &Limits::DEFAULT).unwrap();
            let kept = merged.benchmarks.unwrap();
            assert_eq!(kept.len(), 1);
            assert_eq!(kept[0].value, 20e6, "{first} then {second}: the slower one");
            assert!(merged.warnings[0].contains("the worse value is used"));
        }
    }
}
