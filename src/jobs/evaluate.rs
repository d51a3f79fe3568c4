//! The pull request flow: the definition of done read from the **base** commit (a pull request
//! cannot weaken its own gate), one check run on the head commit, the changed files, the
//! baseline of the base commit from the store, the reports from the workflow run's artifact;
//! then the evaluation, published as the check run, the sticky comment and Keel's labels.
//!
//! Criteria that need reports wait for them: the check run stays `in_progress` with the other
//! criteria's results until the workflow run that should upload them finishes, and becomes an
//! explicit `no report` when it finished without. A pull request that edits the config gets the
//! new file checked at its head, with errors annotated on their line.

use super::reports::{self, ReportState, deadline, provenance};
use super::{
    CONFIG_PATH, Context, JobError, checks, code_scanning, config_change, head_check, onboarding,
    org, org_change, publish,
};
use crate::github::api::{GitHubApi, Repo};
use crate::github::event::PullRequestInfo;
use crate::github::{CommitSha, PrNumber};
use crate::store::{Freshness, HeadVerdict, VerdictState, Watch};
use keel_core::config::CapacityUnit;
use keel_core::evaluation::Conclusion;
use keel_core::facts::CapacityCounts;
use keel_core::facts::{Facts, Metrics, PullRequest};
use keel_core::policy::scope::reports_needed;
use keel_core::render::comment::{self, Footer};
use keel_core::render::dod::Links;
use keel_core::render::{escape, markdown};
use keel_core::week::{Week, Zone};
use keel_core::{Config, evaluate};

/// Judges a pull request at the head its event names, unless Keel already acted on a newer
/// state of it (a retried or replayed delivery: state never moves backwards). A delivery from
/// the same second as the state Keel knows is not trusted for its order: the pull request is
/// read as it is now.
pub async fn pull_request<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    pr: &PullRequestInfo,
) -> Result<(), JobError> {
    let at = pr.updated_at.as_deref().and_then(super::millis);
    match ctx
        .store
        .pull_request_freshness(&repo.name.0, pr.number.0, at, &pr.state_digest())
        .await?
    {
        Freshness::Stale => {
            tracing::info!(repo = %repo.name, pr = %pr.number, head = %pr.head_sha, "a newer state of the pull request was already acted on: this delivery is stale");
            Ok(())
        }
        Freshness::Tie => pull_request_again(ctx, repo, &pr.number, &pr.head_sha).await,
        Freshness::Newer => judge_current(ctx, repo, pr).await,
    }
}

/// Judges a pull request again (its reports arrived, a re-run was asked for), reading it
/// fresh from GitHub. A head that has moved on is left alone: the newer head has its own run.
pub async fn pull_request_again<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    number: &PrNumber,
    head_sha: &CommitSha,
) -> Result<(), JobError> {
    let pr = ctx.github.pull_request(repo, number).await?;
    if pr.head_sha != *head_sha {
        tracing::info!(repo = %repo.name, pr = %number, old = %head_sha, new = %pr.head_sha, "the pull request has moved on; nothing to judge");
        return Ok(());
    }
    judge_current(ctx, repo, &pr).await
}

/// Tracks `pr` as the state Keel acts on and judges it; a closed pull request is marked
/// closed instead (its verdicts stop counting for its head).
async fn judge_current<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    pr: &PullRequestInfo,
) -> Result<(), JobError> {
    let at = pr.updated_at.as_deref().and_then(super::millis);
    if pr.is_closed() {
        ctx.store
            .close_pull_request(&repo.name.0, pr.number.0, at)
            .await?;
        return Ok(());
    }
    let fresh = ctx
        .store
        .track_fresh_pull_request(
            &repo.name.0,
            pr.number.0,
            &pr.head_sha.0,
            repo.installation.0,
            at,
            &pr.state_digest(),
            ctx.now,
        )
        .await?;
    if !fresh {
        return Ok(());
    }
    // First, from the store alone: no request to GitHub stands between a change and the
    // withdrawal of a green check it makes stale.
    head_check::hold(ctx, repo, &pr.head_sha).await?;
    judge(ctx, repo, &pr.head_sha, &pr.base_sha, Some(pr)).await
}

/// Judges a merge queue's merge group commit against its base (no comment, no labels).
pub async fn merge_group<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    base_sha: &CommitSha,
) -> Result<(), JobError> {
    judge(ctx, repo, head_sha, base_sha, None).await
}

async fn judge<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    base_sha: &CommitSha,
    pr: Option<&PullRequestInfo>,
) -> Result<(), JobError> {
    // Before the decisions are read (below): a `/keel` decision recorded after this read
    // makes the verdict stale rather than leave it counting without that decision.
    let decided = match pr {
        Some(pr) => ctx.store.decided(&repo.name.0, pr.number.0).await?,
        None => 0,
    };
    let mut verdict = HeadVerdict {
        number: pr.map_or(0, |p| p.number.0),
        base_ref: pr.map_or_else(
            || format!("merge queue ({})", short(base_sha)),
            |p| p.base_ref.clone(),
        ),
        state: VerdictState::Exempt,
        title: String::new(),
        summary: String::new(),
        checks: Vec::new(),
        watch: Watch::Nothing,
        state_digest: pr.map(PullRequestInfo::state_digest),
        decided,
    };
    let org_change = match pr {
        Some(pr) => org_change::review(ctx, repo, pr, base_sha).await?,
        None => None,
    };
    let Some(bytes) = ctx.github.file_at(repo, CONFIG_PATH, base_sha).await? else {
        // Alone only for a change to the policy file (or an invalid one, which fails): any
        // other change to a repository without a config stays exempt.
        if let Some(change) = org_change.filter(|c| c.alone || c.invalid.is_some()) {
            return org_change::publish_alone(ctx, repo, head_sha, change, &verdict).await;
        }
        // The pull request that adds the first config gets a preview that never blocks.
        if let Some(pr) = pr
            && let Some(head_bytes) = ctx.github.file_at(repo, CONFIG_PATH, head_sha).await?
            && onboarding::preview(ctx, repo, head_sha, pr, head_bytes, &verdict).await?
        {
            return Ok(());
        }
        tracing::info!(repo = %repo.name, head = %head_sha, "no .github/keel.toml on the base commit: nothing to do");
        // This pull request does not count for the head's verdict; the others still do.
        return head_check::exempt(ctx, repo, head_sha, &verdict).await;
    };
    head_check::check_run(ctx, repo, head_sha).await?;
    let org_state = org::state(ctx, repo).await?;
    let base_text = String::from_utf8_lossy(&bytes).into_owned();
    let parsed = match org::parse_config(&org_state, bytes) {
        Ok(config) => with_item_files(ctx, repo, base_sha, config).await?,
        Err(error) => Err(error),
    };
    let mut notes = Vec::new();
    let mut config_sha = base_sha;
    let mut own_config = None;
    let config = match parsed {
        Ok(config) => config,
        Err(error) => {
            if let Some((config, note)) =
                onboarding::fixing_config(ctx, repo, head_sha, pr, &error).await?
            {
                own_config = Some(note);
                config_sha = head_sha;
                config
            } else {
                return invalid_base_config(ctx, repo, head_sha, &mut verdict, &error).await;
            }
        }
    };
    let under = org::under(ctx.now, repo, &org_state, &base_text, config);
    let config = under.config;
    verdict.checks = config
        .checks
        .as_ref()
        .map(|c| c.required.clone())
        .unwrap_or_default();
    let diff = match pr {
        Some(pr) => {
            ctx.github
                .pull_request_files(repo, &pr.number, pr.changed_files)
                .await?
        }
        None => ctx.github.compare_files(repo, base_sha, head_sha).await?,
    };
    // Criteria the change does not affect (a docs-only change) need no reports: a
    // path-filtered workflow that never runs must not leave the check waiting.
    let needs_reports = reports_needed(&config, Some(&diff));
    // A re-run of a configured workflow brings new reports; without one, the reports are
    // read once per commit.
    let reports_workflows = config
        .reports
        .as_ref()
        .map(|r| r.workflow_files())
        .filter(|files| needs_reports && !files.is_empty());
    verdict.watch = match &reports_workflows {
        None => Watch::Nothing,
        Some(files) => Watch::Workflow(files.join(",")),
    };
    let config_change = match pr {
        Some(_) => {
            let policy = match &org_state {
                org::OrgState::Policy { policy, .. } => Some(policy.as_ref()),
                _ => None,
            };
            let base_items = item_files(&config);
            config_change::config_change(ctx, repo, head_sha, &diff.files, &base_items, policy)
                .await?
        }
        None => None,
    };
    let stored = ctx.store.baseline(&repo.name.0, &base_sha.0).await?;
    let baseline = stored
        .as_ref()
        .and_then(|b| serde_json::from_slice::<Metrics>(&b.metrics).ok());
    let mut facts = Facts {
        diff: Some(diff),
        pull_request: pr.map(pull_request_facts),
        config_change,
        baseline_commit: stored
            .filter(|_| baseline.is_some())
            .map(|b| (b.sha, b.steps)),
        baseline,
        today: Some(crate::clock::today(ctx.now)),
        unwaivable: under.unwaivable,
        org_unavailable: under.unavailable,
        ..Facts::default()
    };
    let org_summary = org_change.map(|c| {
        facts.org_change_invalid = c
            .invalid
            .map(|d| format!("line {}, column {}: {}", d.line, d.column, d.message));
        c.summary
    });
    if let Some(pr) = pr {
        facts.decisions = super::commands::decisions::facts(
            ctx,
            repo,
            pr,
            head_sha,
            &config,
            &under.soft,
            &mut notes,
        )
        .await?;
    }
    if let (Some(debt), Some(pr)) = (&config.debt, pr) {
        facts.debt_issues = debt_issues(ctx, repo, pr, &debt.issue_label).await?;
        facts.capacity = Some(capacity(ctx, repo, debt.capacity_unit).await?);
    }
    let mut waiting_for = Vec::new();
    if !verdict.checks.is_empty() {
        match checks::read(ctx, repo, head_sha, &verdict.checks).await? {
            checks::Required::Known(runs, cut) => {
                facts.check_runs = Some(runs);
                facts.check_runs_cut = cut;
            }
            checks::Required::Waiting(names) => waiting_for.push(names),
        }
    }
    if needs_reports {
        match reports::find(ctx, repo, &config, head_sha).await? {
            ReportState::Ready {
                reports,
                sources,
                not_run,
            } => {
                notes.extend(reports.warnings.iter().map(|w| format!("report: {w}")));
                notes.extend(provenance(&sources, &not_run, pr.and(facts.diff.as_ref())));
                facts.coverage = reports.coverage;
                facts.findings = reports.findings;
                facts.suppressed = reports.suppressed;
                facts.benchmarks = reports.benchmarks;
            }
            ReportState::Waiting { what, until } => {
                waiting_for.push(what);
                if let Some(until) = until {
                    deadline(ctx, repo, head_sha, base_sha, pr, until).await?;
                }
            }
            ReportState::Missing(why) => {
                // Without a named workflow, a re-run (or a chained run) may still bring them.
                if reports_workflows.is_none() {
                    verdict.watch = Watch::AnyRun;
                }
                notes.push(format!("No reports: {why}."));
            }
            ReportState::Broken(why) => {
                if reports_workflows.is_none() {
                    verdict.watch = Watch::AnyRun;
                }
                verdict.state = VerdictState::Failure;
                verdict.title = "The reports cannot be read".to_owned();
                verdict.summary = format!(
                    "### ❌ The reports cannot be read\n\n{}\n\nThe definition of done cannot be judged without them. Fix the workflow that uploads them and push again (or re-run it).",
                    escape::fenced(&why)
                );
                return head_check::conclude_head(ctx, repo, head_sha, &verdict, &[]).await;
            }
        }
    } else if config
        .security
        .as_ref()
        .is_some_and(|s| s.fail_on.is_some() && s.affects.is_empty())
    {
        // Not waited for, but a scan that is in is read: a finding in a documentation-only
        // change (a secret in a README) still counts. One that comes later judges again.
        match reports::find(ctx, repo, &config, head_sha).await? {
            ReportState::Ready {
                reports, sources, ..
            } => {
                notes.extend(sources.iter().map(|s| s.describe()));
                facts.findings = reports.findings;
                facts.suppressed = reports.suppressed;
            }
            _ => verdict.watch = Watch::AnyRun,
        }
    }
    if !waiting_for.is_empty() {
        let checks_settled = verdict.checks.is_empty() || facts.check_runs.is_some();
        verdict.watch = match (&reports_workflows, checks_settled) {
            (Some(files), true) => Watch::Workflow(files.join(",")),
            // A required check that never ran fails once every workflow has finished.
            _ => Watch::AnyRun,
        };
        verdict.state = VerdictState::Waiting;
        verdict.title = match (
            facts.check_runs.is_none() && !verdict.checks.is_empty(),
            waiting_for.len(),
        ) {
            (true, 1) => "Waiting for checks",
            (_, 1) => "Waiting for reports",
            _ => "Waiting for reports and checks",
        }
        .to_owned();
        verdict.summary = waiting_summary(&config, &facts, &waiting_for);
        return head_check::conclude_head(ctx, repo, head_sha, &verdict, &[]).await;
    }
    if code_scanning::wanted(&config) && needs_reports {
        code_scanning::apply(ctx, repo, &config, pr, &mut facts, &mut notes).await?;
    }
    let mut evaluation = evaluate(&config, &facts);
    evaluation.notes.extend(notes);
    if let Some(shadow) = &under.shadow {
        let would = org::would_fail(&evaluation, &evaluate(shadow, &facts));
        evaluation.notes.extend(would);
    }
    evaluation.annotations.extend(under.annotations);
    verdict.state = match evaluation.conclusion {
        Conclusion::Success => VerdictState::Success,
        Conclusion::Failure => VerdictState::Failure,
    };
    verdict.title = markdown::title(&evaluation);
    let web = ctx.github.web_url();
    let files = Links {
        blob: web
            .as_ref()
            .map(|w| format!("{w}/{}/blob/{head_sha}", repo.name)),
    };
    verdict.summary = markdown::summary(&evaluation, &files);
    let org_text = [under.provenance, org_summary];
    verdict
        .summary
        .extend(org_text.iter().flatten().map(String::as_str));
    if let Some(note) = &own_config {
        verdict.summary = format!("> {note}\n\n{}", verdict.summary);
    }
    head_check::conclude_head(ctx, repo, head_sha, &verdict, &evaluation.annotations).await?;
    if let Some(pr) = pr {
        // The run that counts now (a new one when the verdict changed after it completed).
        let check_run = head_check::check_run(ctx, repo, head_sha).await?;
        let footer = Footer {
            check_run_url: web
                .as_ref()
                .map(|w| format!("{w}/{}/runs/{check_run}", repo.name)),
            config_url: web
                .as_ref()
                .map(|w| format!("{w}/{}/blob/{config_sha}/{CONFIG_PATH}", repo.name)),
            files,
        };
        let settings = config.comment.clone().unwrap_or_default();
        let comment = comment::comment(&evaluation, &footer, &settings.layout);
        publish::sticky_comment(
            ctx,
            repo,
            &pr.number,
            &settings,
            evaluation.conclusion,
            &comment,
        )
        .await?;
        let labels =
            publish::verdict_labels(ctx, repo, &pr.number, &pr.labels, &config, &evaluation)
                .await?;
        // Keel's own labels change nothing Keel judges: the state its verdict was made for
        // now has them, so the next judgement of this state does not count as a change.
        if labels != pr.labels
            && let Some(judged) = &verdict.state_digest
        {
            let labelled = PullRequestInfo {
                labels,
                ..pr.clone()
            };
            let to = labelled.state_digest();
            ctx.store
                .relabel(&repo.name.0, pr.number.0, &head_sha.0, judged, &to)
                .await?;
        }
        ctx.store
            .record_evaluation(&repo.name.0, pr.number.0, &record(pr, &facts, &evaluation))
            .await?;
    }
    Ok(())
}

/// Whether `label` is one Keel puts on pull requests under the base commit's config: a bot's
/// change of it is Keel's own doing (its label sync), which judges nothing again. One read of
/// the config instead of a whole judgement; an unreadable config owns nothing.
pub(super) async fn owns_label<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    pr: &PullRequestInfo,
    label: &str,
) -> Result<bool, JobError> {
    let Some(bytes) = ctx.github.file_at(repo, CONFIG_PATH, &pr.base_sha).await? else {
        return Ok(false);
    };
    Ok(parse_config(bytes).is_ok_and(|config| {
        keel_core::policy::scope::owned_labels(&config)
            .iter()
            .any(|o| o.eq_ignore_ascii_case(label))
    }))
}

/// What the core reads of a pull request.
pub(super) fn pull_request_facts(pr: &PullRequestInfo) -> PullRequest {
    PullRequest {
        title: pr.title.clone(),
        body: pr.body.clone(),
        branch: pr.head_ref.clone(),
        labels: pr.labels.clone(),
        milestone: pr.milestone.clone(),
        author: pr.author.clone(),
    }
}

/// The base branch's config cannot be read: the head fails with the reason, since no change
/// can be judged against it.
async fn invalid_base_config<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    verdict: &mut HeadVerdict,
    error: &str,
) -> Result<(), JobError> {
    verdict.state = VerdictState::Failure;
    verdict.title = "Invalid definition of done on the base branch".to_owned();
    verdict.summary = format!(
        "### ❌ The base branch's `{CONFIG_PATH}` cannot be read\n\n{}\n\nFix it on the base branch (a pull request that brings a valid file is judged by it); until then no change can be judged against it.",
        escape::fenced(error)
    );
    head_check::conclude_head(ctx, repo, head_sha, verdict, &[]).await
}

/// The first 7 characters of a commit id.
pub(super) fn short(sha: &CommitSha) -> &str {
    sha.0.get(..7).unwrap_or(&sha.0)
}

mod items;
mod record;
pub(super) use items::{item_files, with_item_files};
use record::record;

/// Most linked issues whose labels are looked up per evaluation.
const MAX_LINKED_ISSUES: usize = 10;

/// The issues the pull request closes that carry the debt label.
async fn debt_issues<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    pr: &PullRequestInfo,
    label: &str,
) -> Result<Vec<u64>, JobError> {
    let mut found = Vec::new();
    let text = format!("{}\n{}", pr.title, pr.body);
    for number in keel_core::strategy::roadmap::closing_issues(&text)
        .into_iter()
        .take(MAX_LINKED_ISSUES)
    {
        if let Some(labels) = ctx.github.issue_labels(repo, number).await?
            && labels.iter().any(|l| l == label)
        {
            found.push(number);
        }
    }
    Ok(found)
}

/// Merged work in the current ISO week (UTC), in the configured unit.
async fn capacity<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    unit: CapacityUnit,
) -> Result<CapacityCounts, JobError> {
    let week = Week::containing(ctx.now, Zone::UTC);
    let work = ctx
        .store
        .merged_work(&repo.name.0, week.start, week.end)
        .await?;
    let (merged, debt) = match unit {
        CapacityUnit::Prs => (work.prs, work.debt_prs),
        CapacityUnit::Lines => (work.lines, work.debt_lines),
    };
    Ok(CapacityCounts {
        week: week.name,
        merged,
        debt,
    })
}

/// `config` without the criteria that need CI: reports (coverage, security, performance) and
/// other check runs.
pub(super) fn without_reports(config: &Config) -> Config {
    Config {
        coverage: None,
        security: None,
        performance: None,
        checks: None,
        ..config.clone()
    }
}

/// What the check run shows while it waits: what it waits for, and the criteria that need
/// none of it, judged so far.
fn waiting_summary(config: &Config, facts: &Facts, waiting_for: &[String]) -> String {
    markdown::waiting(&evaluate(&without_reports(config), facts), waiting_for)
}

pub(super) fn parse_config(bytes: Vec<u8>) -> Result<Config, String> {
    String::from_utf8(bytes)
        .map_err(|_| "the file is not UTF-8 text".to_owned())
        .and_then(|text| Config::parse(CONFIG_PATH, &text).map_err(|e| e.to_string()))
}
