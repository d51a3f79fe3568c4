//! `keel action`: Keel inside a GitHub Actions workflow, with the same core and the same
//! publishing code as the App. It reads the workflow's environment (`GITHUB_EVENT_PATH`,
//! `GITHUB_REPOSITORY`, `GITHUB_TOKEN`, …) and the action's inputs (`INPUT_*`), reads the
//! definition of done from the base commit through the API, the changed files from the API,
//! the reports from the workspace; then writes the job summary, workflow annotations and
//! outputs, and — when the token may — the check run and the sticky comment. With a read-only
//! token (a fork's pull request) it says so and keeps to summary, annotations and exit code.

use crate::cli::{EXIT_FAILED, EXIT_OK};
use crate::github::api::{ApiError, GitHubApi, Repo};
use crate::github::client::GitHub;
use crate::github::{InstallationId, RepoName};
use crate::jobs::{CONFIG_PATH, Context as JobContext, JobError, publish};
use crate::store::Store;
use anyhow::{Context, bail};
use keel_core::evaluation::{AnnotationLevel, Conclusion, Evaluation};
use keel_core::facts::{Facts, PullRequest};
use keel_core::render::comment::{Footer, comment};
use keel_core::render::dod::Links;
use keel_core::render::markdown;
use keel_core::{Config, Limits};
use secrecy::SecretString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod baseline;
mod check_run;
mod workflow_run;

/// GitHub shows at most this many error and this many warning annotations per step.
pub const ANNOTATIONS_PER_LEVEL: usize = 10;
/// GitHub's limit for a step's job summary.
pub const STEP_SUMMARY_LIMIT: usize = 1 << 20;

/// What the workflow gives the action.
#[derive(Debug, Clone)]
pub struct ActionEnv {
    /// `GITHUB_EVENT_PATH`.
    pub event_path: PathBuf,
    /// `GITHUB_EVENT_NAME`.
    pub event_name: String,
    /// `GITHUB_REPOSITORY`.
    pub repository: String,
    /// `GITHUB_SHA`.
    pub sha: String,
    /// `GITHUB_TOKEN` (or the `token` input).
    pub token: Option<SecretString>,
    /// `GITHUB_API_URL`.
    pub api_url: String,
    /// `GITHUB_STEP_SUMMARY`.
    pub step_summary: Option<PathBuf>,
    /// `GITHUB_OUTPUT`.
    pub output: Option<PathBuf>,
    /// `GITHUB_WORKSPACE`.
    pub workspace: PathBuf,
    /// Input `config`.
    pub config: String,
    /// Inputs `coverage`, `sarif`, `bench`: extra report globs.
    pub coverage: Vec<String>,
    /// SARIF globs.
    pub sarif: Vec<String>,
    /// Benchmark globs.
    pub bench: Vec<String>,
    /// Input `comment`.
    pub comment: bool,
    /// Input `check-run`.
    pub check_run: bool,
    /// Input `fail-on`: `required` fails the step on a failed definition of done.
    pub fail_on_required: bool,
}

impl ActionEnv {
    /// Reads the environment; a missing or malformed value is a one-line error naming it.
    pub fn from_env() -> anyhow::Result<ActionEnv> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let input = |k: &str| var(&format!("INPUT_{}", k.to_ascii_uppercase()));
        let flag = |k: &str, default: bool| -> anyhow::Result<bool> {
            match input(k).as_deref().map(str::trim) {
                None => Ok(default),
                Some("true" | "on" | "yes") => Ok(true),
                Some("false" | "off" | "no") => Ok(false),
                Some(other) => bail!("input `{k}` must be true or false, not `{other}`"),
            }
        };
        let globs = |k: &str| -> Vec<String> {
            input(k)
                .unwrap_or_default()
                .split(['\n', ','])
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let fail_on_required = match input("fail-on").as_deref().map(str::trim) {
            None | Some("required") => true,
            Some("advisory" | "never") => false,
            Some(other) => bail!("input `fail-on` must be `required` or `advisory`, not `{other}`"),
        };
        Ok(ActionEnv {
            event_path: var("GITHUB_EVENT_PATH")
                .context("GITHUB_EVENT_PATH is missing: `keel action` runs inside a workflow")?
                .into(),
            event_name: var("GITHUB_EVENT_NAME").unwrap_or_else(|| "pull_request".into()),
            repository: var("GITHUB_REPOSITORY").context("GITHUB_REPOSITORY is missing")?,
            sha: var("GITHUB_SHA").unwrap_or_default(),
            token: input("token")
                .or_else(|| var("GITHUB_TOKEN"))
                .map(SecretString::from),
            api_url: var("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
            step_summary: var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            output: var("GITHUB_OUTPUT").map(PathBuf::from),
            workspace: var("GITHUB_WORKSPACE").map_or_else(|| PathBuf::from("."), PathBuf::from),
            config: input("config").unwrap_or_else(|| CONFIG_PATH.into()),
            coverage: globs("coverage"),
            sarif: globs("sarif"),
            bench: globs("bench"),
            comment: flag("comment", true)?,
            check_run: flag("check-run", true)?,
            fail_on_required,
        })
    }
}

/// Runs `keel action` from the workflow's environment.
pub fn run() -> anyhow::Result<ExitCode> {
    let env = ActionEnv::from_env()?;
    super::runtime(true)?.block_on(act(env))
}

/// Runs the action with `env`.
pub async fn act(env: ActionEnv) -> anyhow::Result<ExitCode> {
    let limits = Limits::DEFAULT;
    let body = std::fs::read(&env.event_path)
        .with_context(|| format!("read GITHUB_EVENT_PATH {}", env.event_path.display()))?;
    let repo = Repo {
        installation: InstallationId(0),
        name: RepoName(env.repository.clone()),
    };
    let github = match &env.token {
        Some(token) => Some(GitHub::with_token(token, &env.api_url)?),
        None => None,
    };
    // The fork-safe pattern: a `workflow_run` workflow judges the pull request the run tested,
    // from the run's artifacts.
    let run = match (env.event_name.as_str(), &github) {
        ("workflow_run", Some(gh)) => match workflow_run::triggering_run(gh, &repo, &body).await? {
            Ok(run) => Some(run),
            Err(why) => {
                println!("::notice title=Keel::{}", one_line(&why));
                return Ok(ExitCode::from(EXIT_OK));
            }
        },
        ("workflow_run", None) => {
            println!(
                "::error title=Keel::On workflow_run, Keel reads the pull request and the run's artifacts with a token: set the `token` input or GITHUB_TOKEN"
            );
            return Ok(ExitCode::from(crate::cli::EXIT_ERROR));
        }
        _ => None,
    };
    // Every pull request event, whatever its action (`labeled`, `pull_request_target`, …),
    // is judged by the base commit's definition of done.
    let pr = match &run {
        Some(run) => Some(run.pr.clone()),
        None => crate::github::event::pull_request_of(&body),
    };
    // A merge queue's commit is judged by its base's definition of done too (its workspace
    // holds the queued pull requests' own edits).
    let group = crate::github::event::merge_group_of(&body);
    let base = pr
        .as_ref()
        .map(|pr| pr.base_sha.clone())
        .or_else(|| group.as_ref().map(|(_, base)| base.clone()));
    let mut notes = Vec::new();

    // The definition of done: from the base commit through the API (a pull request cannot
    // weaken its own gate); from the workspace only when that is impossible, and then said.
    let base_config = match (&github, &base) {
        (Some(gh), Some(base)) => {
            let found = gh
                .file_at(&repo, &env.config, base)
                .await
                .map_err(|e| anyhow::anyhow!("read {} at the base commit: {e}", env.config))?;
            if found.is_none() {
                // The pull request's own file (if it adds one) applies once merged.
                println!(
                    "::notice title=Keel::The base commit has no {}: there is no definition of done to judge this pull request by",
                    env.config
                );
                return Ok(ExitCode::from(EXIT_OK));
            }
            found
        }
        (None, Some(_)) => {
            println!(
                "::error title=Keel::A pull request or merge group is judged by the definition of done of its base commit, which Keel reads with a token: set the `token` input or GITHUB_TOKEN"
            );
            return Ok(ExitCode::from(crate::cli::EXIT_ERROR));
        }
        _ => None,
    };
    let (label, text) = match base_config {
        Some(bytes) => (
            format!("{} (base commit)", env.config),
            String::from_utf8(bytes).context("the config is not UTF-8 text")?,
        ),
        None => {
            notes.push(format!(
                "The definition of done was read from the workspace's `{}`, not from the base commit.",
                env.config
            ));
            super::inputs::read_config(&env.workspace.join(&env.config))?
        }
    };
    let config = match Config::parse(&label, &text) {
        Ok(c) => c,
        Err(e) => {
            println!(
                "::error title=Invalid definition of done::{}",
                one_line(&e.to_string())
            );
            eprintln!("{e}");
            return Ok(ExitCode::from(crate::cli::EXIT_ERROR));
        }
    };

    let diff = match (&github, &pr, &group) {
        (Some(gh), Some(pr), _) => Some(
            gh.pull_request_files(&repo, &pr.number, pr.changed_files)
                .await
                .map_err(|e| anyhow::anyhow!("read the pull request's files: {e}"))?,
        ),
        (Some(gh), None, Some((head, base))) => Some(
            gh.compare_files(&repo, base, head)
                .await
                .map_err(|e| anyhow::anyhow!("read the merge group's files: {e}"))?,
        ),
        _ => None,
    };
    // `[checks] required`: what the other checks of the head say now. The Action cannot
    // wait, so one still running fails its row (run Keel in a job that `needs:` them).
    let head = pr
        .as_ref()
        .map(|pr| pr.head_sha.clone())
        .or_else(|| group.as_ref().map(|(head, _)| head.clone()));
    let (check_runs, check_runs_cut) = match (&github, &head, &config.checks) {
        (Some(gh), Some(head), Some(checks)) if !checks.required.is_empty() => {
            let listed = gh
                .check_runs(&repo, head)
                .await
                .map_err(|e| anyhow::anyhow!("read the commit's check runs: {e}"))?;
            let runs = listed
                .runs
                .into_iter()
                .map(|r| keel_core::facts::CheckRunState {
                    conclusion: r.conclusion.filter(|_| r.status == "completed"),
                    name: r.name,
                    app: Some(r.app),
                })
                .collect();
            (Some(runs), listed.cut)
        }
        _ => (None, None),
    };
    let reports = match (&run, &github) {
        (Some(run), Some(gh)) => match workflow_run::reports(gh, &repo, &config, run).await? {
            Ok((reports, sources)) => {
                notes.extend(sources);
                reports
            }
            Err(why) => {
                notes.push(format!("No reports: {why}."));
                crate::reports::Reports::default()
            }
        },
        // The workspace holds the reports, except on `workflow_run`, where it is the base.
        _ => workspace_reports(&env, &config, &limits)?,
    };
    // The base commit's metrics, from the base branch's push run (no server to keep them).
    let mut baseline = None;
    if let (Some(gh), Some(pr)) = (&github, &pr)
        && baseline::wanted(&config)
    {
        match baseline::from_push_run(gh, &repo, &config, &pr.base_sha, &pr.base_ref).await? {
            Ok(found) => {
                notes.push(found.describe());
                baseline = Some(found);
            }
            Err(why) => notes.push(format!("No baseline: {why}.")),
        }
    }
    let facts = Facts {
        baseline_commit: baseline.as_ref().map(|b| (b.sha.clone(), b.steps)),
        baseline: baseline.map(|b| b.metrics),
        diff,
        coverage: reports.coverage,
        findings: reports.findings,
        suppressed: reports.suppressed,
        benchmarks: reports.benchmarks,
        pull_request: pr.as_ref().map(|pr| PullRequest {
            title: pr.title.clone(),
            body: pr.body.clone(),
            branch: pr.head_ref.clone(),
            labels: pr.labels.clone(),
            milestone: pr.milestone.clone(),
            author: pr.author.clone(),
        }),
        check_runs,
        check_runs_cut,
        today: Some(crate::clock::today(crate::clock::now_ms())),
        ..Facts::default()
    };
    let mut evaluation = keel_core::evaluate(&config, &facts);
    evaluation
        .notes
        .extend(reports.warnings.iter().map(|w| format!("report: {w}")));
    evaluation.notes.extend(notes);

    // Publish through the App's code, with the token; a read-only token degrades.
    let mut published = Vec::new();
    if let (Some(gh), Some(pr)) = (&github, &pr) {
        match publish_with_token(gh, &repo, pr, &env, &evaluation, &config).await {
            Ok(done) => published = done,
            Err(PublishError::ReadOnly(why)) => {
                println!(
                    "::notice title=Keel::The token cannot write check runs or comments ({why}) — a fork's pull request? Keel reports through the job summary, annotations and exit code only. Install the Keel App, or use the two-workflow pattern, to get the check run and the comment."
                );
            }
            Err(PublishError::Other(e)) => return Err(e),
        }
    }

    write_step_summary(&env, &evaluation)?;
    write_outputs(&env, &evaluation)?;
    print_annotations(&evaluation);
    for what in published {
        println!("Keel: {what}");
    }
    Ok(ExitCode::from(
        match (evaluation.conclusion, env.fail_on_required) {
            (Conclusion::Failure, true) => EXIT_FAILED,
            _ => EXIT_OK,
        },
    ))
}

/// The reports in the workspace: the config's globs plus the action's inputs.
fn workspace_reports(
    env: &ActionEnv,
    config: &Config,
    limits: &Limits,
) -> anyhow::Result<crate::reports::Reports> {
    let root = &env.workspace;
    let resolve =
        |extra: &[String], configured: Option<&[String]>| -> anyhow::Result<Vec<PathBuf>> {
            let mut patterns: Vec<String> = configured.unwrap_or_default().to_vec();
            patterns.extend(extra.iter().cloned());
            crate::reports::files::resolve(root, &[], Some(&patterns))
        };
    let coverage_files = resolve(
        &env.coverage,
        config.coverage.as_ref().map(|c| c.paths.as_slice()),
    )?;
    let sarif_files = resolve(
        &env.sarif,
        config.security.as_ref().map(|c| c.paths.as_slice()),
    )?;
    let bench_files = crate::reports::files::resolve_bench(
        root,
        &resolve(
            &env.bench,
            config.performance.as_ref().map(|c| c.paths.as_slice()),
        )?,
        None,
    )?;
    crate::reports::files::read_reports(
        &coverage_files,
        config.coverage.as_ref().and_then(|c| c.format),
        &sarif_files,
        &bench_files,
        limits,
    )
}

enum PublishError {
    ReadOnly(String),
    Other(anyhow::Error),
}

impl From<JobError> for PublishError {
    fn from(e: JobError) -> Self {
        let text = e.to_string();
        if text.contains(" 403 ") || text.contains("Resource not accessible") {
            PublishError::ReadOnly(text)
        } else {
            PublishError::Other(anyhow::anyhow!(text))
        }
    }
}

impl From<ApiError> for PublishError {
    fn from(e: ApiError) -> Self {
        PublishError::from(JobError::from(e))
    }
}

/// The check run and the sticky comment, through the same code as the App.
async fn publish_with_token(
    gh: &GitHub,
    repo: &Repo,
    pr: &crate::github::event::PullRequestInfo,
    env: &ActionEnv,
    evaluation: &Evaluation,
    config: &Config,
) -> Result<Vec<String>, PublishError> {
    let settings = &config.comment.clone().unwrap_or_default();
    let store = Store::in_memory().await.map_err(PublishError::Other)?;
    let ctx = JobContext {
        store: &store,
        github: gh,
        now: crate::clock::now_ms(),
        origin: "action".into(),
        job_id: None,
        reports: None,
    };
    store
        .track_pull_request(&repo.name.0, pr.number.0, &pr.head_sha.0, 0, ctx.now)
        .await
        .map_err(PublishError::Other)?;
    let mut done = Vec::new();
    let mut check_run = None;
    if env.check_run {
        let (id, what) = check_run::publish(&ctx, gh, repo, pr, evaluation).await?;
        done.push(what);
        check_run = Some(id);
    }
    if env.comment {
        let web = gh.web_url();
        let footer = Footer {
            check_run_url: web
                .as_ref()
                .zip(check_run)
                .map(|(w, id)| format!("{w}/{}/runs/{id}", repo.name)),
            config_url: web
                .as_ref()
                .map(|w| format!("{w}/{}/blob/{}/{}", repo.name, pr.base_sha, env.config)),
            files: files_links(gh, repo, pr),
        };
        let body = comment(evaluation, &footer, &settings.layout);
        let change = publish::sticky_comment(
            &ctx,
            repo,
            &pr.number,
            settings,
            evaluation.conclusion,
            &body,
        )
        .await?;
        done.push(format!("comment {change:?}").to_lowercase());
    }
    // Keel's labels, like the App's; a token that may not label leaves the rest done.
    match publish::verdict_labels(&ctx, repo, &pr.number, &pr.labels, config, evaluation)
        .await
        .map_err(PublishError::from)
    {
        Ok(_) => done.push("labels synced".to_owned()),
        Err(PublishError::ReadOnly(why)) => done.push(format!("labels not set ({why})")),
        Err(other) => return Err(other),
    }
    store.close().await;
    Ok(done)
}

/// File links into the pull request's head commit.
pub(super) fn files_links(
    gh: &GitHub,
    repo: &Repo,
    pr: &crate::github::event::PullRequestInfo,
) -> Links {
    Links {
        blob: gh
            .web_url()
            .map(|w| format!("{w}/{}/blob/{}", repo.name, pr.head_sha)),
    }
}

/// Appends the summary to the step's job summary (trimmed under GitHub's 1 MiB).
fn write_step_summary(env: &ActionEnv, evaluation: &Evaluation) -> anyhow::Result<()> {
    let Some(path) = &env.step_summary else {
        return Ok(());
    };
    let mut text = markdown::summary(evaluation, &Links::default());
    if text.len() > STEP_SUMMARY_LIMIT - 1024 {
        let mut cut = STEP_SUMMARY_LIMIT - 1024;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n\n_Trimmed to fit the job summary's 1 MiB._\n");
    }
    append(path, &text)
}

/// `conclusion`, `coverage-total`, `coverage-patch`, `new-findings` for later steps.
fn write_outputs(env: &ActionEnv, evaluation: &Evaluation) -> anyhow::Result<()> {
    let Some(path) = &env.output else {
        return Ok(());
    };
    let pct = |v: Option<f64>| v.map(|p| format!("{p:.2}")).unwrap_or_default();
    let coverage = evaluation.coverage.as_ref();
    let text = format!(
        "conclusion={}\ncoverage-total={}\ncoverage-patch={}\nnew-findings={}\n",
        evaluation.conclusion.as_str(),
        pct(coverage.and_then(|c| c.total.percent)),
        pct(coverage
            .and_then(|c| c.patch.as_ref())
            .and_then(|p| p.percent)),
        evaluation
            .security
            .as_ref()
            .map(|s| s.new.to_string())
            .unwrap_or_default()
    );
    append(path, &text)
}

fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("open {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("write {}", path.display()))
}

/// Workflow commands for the most important annotations: GitHub shows 10 errors and 10
/// warnings per step, so failures come first and the rest are counted.
fn print_annotations(evaluation: &Evaluation) {
    let (errors, rest): (Vec<_>, Vec<_>) = evaluation
        .annotations
        .iter()
        .partition(|a| a.level == AnnotationLevel::Failure);
    for (level, list) in [("error", errors), ("warning", rest)] {
        for a in list.iter().take(ANNOTATIONS_PER_LEVEL) {
            println!(
                "::{level} file={},line={},endLine={},title={}::{}",
                property(&a.path),
                a.start_line,
                a.end_line,
                property(&a.title),
                one_line(&a.message)
            );
        }
        if list.len() > ANNOTATIONS_PER_LEVEL {
            println!(
                "::notice title=Keel::{} more {level} annotations are in the check run and the job summary",
                list.len() - ANNOTATIONS_PER_LEVEL
            );
        }
    }
}

/// A workflow command's message: `%`, CR and LF escaped.
fn one_line(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: also `:` and `,` escaped.
fn property(text: &str) -> String {
    one_line(text).replace(':', "%3A").replace(',', "%2C")
}
