//! `keel check`: read the inputs from disk (size-limited), evaluate, print, exit with the verdict.

use crate::cli::{CheckArgs, EXIT_ERROR, EXIT_FAILED, EXIT_OK, Format};
use crate::inputs;
use anyhow::Context;
use keel_core::evaluation::Conclusion;
use keel_core::render;
use keel_core::{Config, Facts, Limits};
use std::process::ExitCode;

/// Runs `keel check`.
pub fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let limits = Limits::DEFAULT;
    let (label, text) = inputs::read_config(&args.config)?;
    let config =
        match Config::parse(&label, &text).and_then(|c| inputs::with_item_files(c, &args.config)) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{e}");
                return Ok(ExitCode::from(EXIT_ERROR));
            }
        };
    let facts = gather(args, &config, &limits)?;
    let evaluation = keel_core::evaluate(&config, &facts);
    let out = match args.format {
        Format::Text => render::text::text(&evaluation),
        Format::Markdown => render::markdown::summary(&evaluation),
        Format::Json => format!("{:#}\n", render::json::json(&evaluation)),
    };
    print!("{out}");
    if let Some(path) = &args.save_baseline {
        let json = serde_json::to_vec_pretty(&evaluation.metrics).context("serialise metrics")?;
        std::fs::write(path, json).with_context(|| format!("write baseline {}", path.display()))?;
    }
    Ok(ExitCode::from(match evaluation.conclusion {
        Conclusion::Success => EXIT_OK,
        Conclusion::Failure => EXIT_FAILED,
    }))
}

fn gather(args: &CheckArgs, config: &Config, limits: &Limits) -> anyhow::Result<Facts> {
    let diff = match (&args.diff, &args.base) {
        (Some(path), _) => Some(inputs::read_diff_file(path, limits)?),
        (None, Some(base)) => Some(inputs::git_diff(&args.root, base, limits)?),
        (None, None) => None,
    };
    let coverage_cfg = config.coverage.as_ref();
    let coverage_files = inputs::resolve(
        &args.root,
        &args.coverage,
        coverage_cfg.map(|c| c.paths.as_slice()),
    )?;
    let sarif_files = inputs::resolve(
        &args.root,
        &args.sarif,
        config.security.as_ref().map(|c| c.paths.as_slice()),
    )?;
    let bench_files = inputs::resolve_bench(
        &args.root,
        &args.bench,
        config.performance.as_ref().map(|c| c.paths.as_slice()),
    )?;
    let reports = inputs::read_reports(
        &coverage_files,
        coverage_cfg.and_then(|c| c.format),
        &sarif_files,
        &bench_files,
        limits,
    )?;
    for warning in &reports.warnings {
        eprintln!("warning: {warning}");
    }
    let baseline = args
        .baseline
        .as_deref()
        .map(inputs::read_baseline)
        .transpose()?;
    let pull_request = inputs::pull_request(args)?;
    Ok(Facts {
        diff,
        coverage: reports.coverage,
        findings: reports.findings,
        benchmarks: reports.benchmarks,
        pull_request,
        baseline,
        check_runs: None,
        config_change: None,
        debt_issues: Vec::new(),
        capacity: None,
    })
}
