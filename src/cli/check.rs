//! `keel check`: read the inputs from disk (size-limited), evaluate, print, exit with the verdict.

use super::inputs;
use super::{EXIT_ERROR, EXIT_FAILED, EXIT_OK};
use crate::reports::files;
use anyhow::Context;
use clap::ValueEnum;
use keel_core::config::ProblemKind;
use keel_core::evaluation::Conclusion;
use keel_core::render;
use keel_core::{Config, Facts, Limits};
use std::path::PathBuf;
use std::process::ExitCode;

/// Output formats of `keel check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text for a terminal.
    Text,
    /// GitHub markdown (the check run summary).
    Markdown,
    /// The JSON contract described in the README.
    Json,
}

/// `keel check` arguments.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The definition of done.
    #[arg(long, env = "KEEL_CONFIG", default_value = ".github/keel.toml")]
    pub config: PathBuf,
    /// Where report globs from the config are resolved, and where git runs.
    #[arg(long, env = "KEEL_ROOT", default_value = ".")]
    pub root: PathBuf,
    /// A unified diff of the change (`-` for standard input).
    #[arg(long, env = "KEEL_DIFF", conflicts_with = "base")]
    pub diff: Option<PathBuf>,
    /// Diff against this ref: runs `git diff REF...HEAD`.
    #[arg(long, env = "KEEL_BASE")]
    pub base: Option<String>,
    /// Coverage reports (LCOV or Cobertura), in addition to the config's paths.
    #[arg(long = "coverage", env = "KEEL_COVERAGE", value_delimiter = ',')]
    pub coverage: Vec<PathBuf>,
    /// SARIF logs, in addition to the config's paths.
    #[arg(long = "sarif", env = "KEEL_SARIF", value_delimiter = ',')]
    pub sarif: Vec<PathBuf>,
    /// Benchmark results (files, or criterion's target directory), in addition to the config's paths.
    #[arg(long = "bench", env = "KEEL_BENCH", value_delimiter = ',')]
    pub bench: Vec<PathBuf>,
    /// The base commit's metrics, as written by `--save-baseline`.
    #[arg(long, env = "KEEL_BASELINE")]
    pub baseline: Option<PathBuf>,
    /// Write this commit's metrics here, to serve as a later baseline.
    #[arg(long, env = "KEEL_SAVE_BASELINE")]
    pub save_baseline: Option<PathBuf>,
    /// Output format.
    #[arg(long, env = "KEEL_FORMAT", value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Pull request title.
    #[arg(long, env = "KEEL_PR_TITLE")]
    pub title: Option<String>,
    /// Pull request description.
    #[arg(long, env = "KEEL_PR_BODY")]
    pub body: Option<String>,
    /// Pull request head branch.
    #[arg(long, env = "KEEL_PR_BRANCH")]
    pub branch: Option<String>,
    /// Pull request author's login (`dependabot[bot]`), for `[exempt] authors`.
    #[arg(long, env = "KEEL_PR_AUTHOR")]
    pub author: Option<String>,
    /// A GitHub `pull_request` event payload to read title, body, branch and labels from.
    #[arg(long, env = "GITHUB_EVENT_PATH")]
    pub event: Option<PathBuf>,
}

/// Runs `keel check`.
pub fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let limits = Limits::DEFAULT;
    if !args.config.exists() {
        eprintln!("{}", inputs::no_config(&args.config));
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    let (label, text) = inputs::read_config(&args.config)?;
    let config =
        match Config::parse(&label, &text).and_then(|c| inputs::with_item_files(c, &args.config)) {
            Ok(c) => c,
            Err(e) => {
                // Every problem at once, as `keel config validate` gives them.
                let problems = Config::validate(&label, &text);
                if problems.iter().any(|p| p.severity == ProblemKind::Error) {
                    super::config::print_problems(&label, &problems);
                } else {
                    eprintln!("{e}");
                }
                return Ok(ExitCode::from(EXIT_ERROR));
            }
        };
    if args.diff.is_none() && args.base.is_none() {
        eprintln!(
            "no change given: pass `--base BRANCH` (git diffs HEAD with it) or `--diff FILE` to \
             judge the change itself; rows about it are not judged"
        );
    }
    let facts = gather(args, &config, &limits)?;
    let evaluation = keel_core::evaluate(&config, &facts);
    let out = match args.format {
        Format::Text => render::text::text(&evaluation),
        Format::Markdown => render::markdown::summary(&evaluation, &render::dod::Links::default()),
        Format::Json => format!("{:#}\n", render::json::json(&evaluation)),
    };
    print!("{out}");
    if let Some(path) = &args.save_baseline {
        // The commit's own numbers, whatever the change touched, as the App keeps them: on
        // the default branch the diff is empty and every criterion "not affected".
        let metrics = crate::reports::Reports {
            coverage: facts.coverage.clone(),
            findings: facts.findings.clone(),
            benchmarks: facts.benchmarks.clone(),
            ..Default::default()
        }
        .metrics(&config);
        if metrics.coverage.is_none() && metrics.findings.is_none() && metrics.benchmarks.is_empty()
        {
            eprintln!(
                "warning: the baseline holds no metrics: no coverage report, SARIF log or benchmark was read"
            );
        }
        let json = serde_json::to_vec_pretty(&metrics).context("serialise metrics")?;
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
    let coverage_files = files::resolve(
        &args.root,
        &args.coverage,
        coverage_cfg.map(|c| c.paths.as_slice()),
    )?;
    let sarif_files = files::resolve(
        &args.root,
        &args.sarif,
        config.security.as_ref().map(|c| c.paths.as_slice()),
    )?;
    let bench_files = files::resolve_bench(
        &args.root,
        &args.bench,
        config.performance.as_ref().map(|c| c.paths.as_slice()),
    )?;
    let reports = files::read_reports(
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
        suppressed: reports.suppressed,
        benchmarks: reports.benchmarks,
        pull_request,
        baseline,
        today: Some(crate::clock::today(crate::clock::now_ms())),
        ..Facts::default()
    })
}
