//! Turning Keel on without locking anyone out.
//!
//! - The pull request that adds the first `.github/keel.toml` (the base branch has none) and
//!   changes nothing outside `.github/` gets a check that never blocks: the new file validated
//!   — every problem at once, annotated on its line — and, when it is valid, a preview of what
//!   it would say about this very pull request ("with this config, this change would: ✅
//!   pass"). One that also changes anything else is not previewed (it stays exempt, as every
//!   pull request into a base without a config): a success on it could let code through a
//!   required check on a branch Keel never judged.
//! - When the base branch's config cannot be read, a pull request that brings a valid one and
//!   changes nothing but it and the items files it names under `.github/` (`.toml` files, never
//!   a workflow: the config's own rules) is judged by its own and says so;
//!   every other pull request fails with the reason, so a broken base cannot be used to pick
//!   a laxer judge for code or workflows.

use super::evaluate::{
    item_files, parse_config, pull_request_facts, with_item_files, without_reports,
};
use super::{CONFIG_PATH, Context, JobError, head_check};
use crate::github::CommitSha;
use crate::github::api::{GitHubApi, Repo};
use crate::github::event::PullRequestInfo;
use crate::store::{HeadVerdict, VerdictState, Watch};
use keel_core::config::ProblemKind;
use keel_core::diff::Diff;
use keel_core::evaluation::{Annotation, AnnotationLevel, Conclusion};
use keel_core::facts::Facts;
use keel_core::render::{escape, markdown};
use keel_core::{Config, evaluate};

/// Where a change that only sets Keel up lives.
const SETUP_DIR: &str = ".github/";

/// Whether every file the change touches (and every old name of a renamed one) is under
/// `.github/`: the config, its item files, workflows.
fn only_setup(diff: &Diff) -> bool {
    diff.incomplete.is_none()
        && !diff.files.is_empty()
        && diff.files.iter().all(|f| {
            f.path.starts_with(SETUP_DIR)
                && f.old_path.as_ref().is_none_or(|p| p.starts_with(SETUP_DIR))
        })
}

/// The check of a pull request that adds the first `.github/keel.toml` (`bytes`, read at its
/// head). When the pull request changes nothing outside `.github/`, its verdict is a success
/// whatever the preview says: nothing is enforced until the file is on the base branch.
/// Otherwise it stays exempt (returns `false`) and the caller treats it as any pull request
/// into a base without a config.
pub(super) async fn preview<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    pr: &PullRequestInfo,
    bytes: Vec<u8>,
    verdict: &HeadVerdict,
) -> Result<bool, JobError> {
    let diff = ctx
        .github
        .pull_request_files(repo, &pr.number, pr.changed_files)
        .await?;
    if !only_setup(&diff) {
        return Ok(false);
    }
    head_check::check_run(ctx, repo, head_sha).await?;
    let mut verdict = HeadVerdict {
        state: VerdictState::Success,
        checks: Vec::new(),
        watch: Watch::Nothing,
        ..verdict.clone()
    };
    let intro = format!(
        "### 👋 Keel preview — not enforced yet\n\nThis pull request adds `{CONFIG_PATH}`. \
         Once it is on the base branch, Keel judges every pull request by it; until then this \
         check never blocks."
    );
    let text = String::from_utf8_lossy(&bytes).into_owned();
    // Validation parses the file again after each problem: off the async workers.
    let problems = tokio::task::spawn_blocking(move || Config::validate(CONFIG_PATH, &text))
        .await
        .map_err(|e| JobError::Permanent(format!("validate the new config: {e}")))?;
    let errors = problems
        .iter()
        .filter(|p| p.severity == ProblemKind::Error)
        .count();
    let annotations: Vec<Annotation> = problems
        .iter()
        .map(|p| {
            Annotation {
                path: CONFIG_PATH.to_owned(),
                start_line: p.diagnostic.line,
                end_line: p.diagnostic.line,
                level: AnnotationLevel::Warning,
                title: "keel.toml".to_owned(),
                message: p.diagnostic.message.clone(),
            }
            .within_github_limits()
        })
        .collect();
    let listed = problems
        .iter()
        .map(|p| p.diagnostic.to_string())
        .collect::<Vec<_>>()
        .join("\n\n");
    let parsed = match parse_config(bytes) {
        Ok(config) if errors == 0 => with_item_files(ctx, repo, head_sha, config).await?,
        Ok(_) => Err(listed.clone()),
        Err(error) => Err(error),
    };
    let config = match parsed {
        Ok(config) => config,
        Err(error) => {
            let shown = if listed.is_empty() { error } else { listed };
            verdict.title = format!(
                "Preview: the new keel.toml cannot be used yet ({} {})",
                errors.max(1),
                if errors > 1 { "problems" } else { "problem" }
            );
            verdict.summary = format!(
                "{intro}\n\nAs written it cannot be used:\n\n{}\n\nFix it in this pull request; `keel config validate` shows the same.",
                escape::fenced(&shown)
            );
            head_check::conclude_head(ctx, repo, head_sha, &verdict, &annotations).await?;
            return Ok(true);
        }
    };
    let facts = Facts {
        diff: Some(diff),
        pull_request: Some(pull_request_facts(pr)),
        ..Facts::default()
    };
    // Reports and other checks come from CI once the file is on the base branch; the preview
    // judges what needs none of them, and names the rest.
    let evaluation = evaluate(&without_reports(&config), &facts);
    let later: Vec<&str> = [
        ("coverage", config.coverage.is_some()),
        ("security findings", config.security.is_some()),
        ("performance budgets", config.performance.is_some()),
        ("required checks", config.checks.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect();
    let (would, mark) = match evaluation.conclusion {
        Conclusion::Success => ("pass", "✅"),
        Conclusion::Failure => ("fail", "❌"),
    };
    verdict.title =
        format!("Preview: with this config, this change would {would} (not enforced yet)");
    let mut summary = format!(
        "{intro}\n\n**With this config, this change would: {mark} {would}**\n\n{}",
        markdown::table(&evaluation.criteria)
    );
    if !later.is_empty() {
        summary.push_str(&format!(
            "\n\nJudged from CI once the file is on the base branch: {}.",
            later.join(", ")
        ));
    }
    if !listed.is_empty() {
        summary.push_str(&format!("\n\nWarnings:\n\n{}", escape::fenced(&listed)));
    }
    verdict.summary = summary;
    head_check::conclude_head(ctx, repo, head_sha, &verdict, &annotations).await?;
    Ok(true)
}

/// When the base branch's config cannot be read (`base_error`), the config of a pull request
/// that brings a valid one, with the note that says so; `None` for every other pull request.
pub(super) async fn fixing_config<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    pr: Option<&PullRequestInfo>,
    base_error: &str,
) -> Result<Option<(Config, String)>, JobError> {
    let Some(pr) = pr else {
        return Ok(None);
    };
    let diff = ctx
        .github
        .pull_request_files(repo, &pr.number, pr.changed_files)
        .await?;
    if !only_setup(&diff) {
        return Ok(None);
    }
    let Some(bytes) = ctx.github.file_at(repo, CONFIG_PATH, head_sha).await? else {
        return Ok(None);
    };
    let Ok(config) = parse_config(bytes) else {
        return Ok(None);
    };
    // Only the definition of done itself: judged by its own file, anything else it brought
    // (a workflow, an action) would skip the base's rules.
    let own = item_files(&config);
    let definition_only = diff.files.iter().all(|f| {
        [Some(f.path.as_str()), f.old_path.as_deref()]
            .into_iter()
            .flatten()
            .all(|p| p == CONFIG_PATH || own.iter().any(|o| o == p))
    });
    if !definition_only {
        return Ok(None);
    }
    let Ok(config) = with_item_files(ctx, repo, head_sha, config).await? else {
        return Ok(None);
    };
    let first = base_error.lines().next().unwrap_or(base_error);
    let note = format!(
        "⚠️ Judged by this pull request's own `{CONFIG_PATH}`: the base branch's cannot be read ({}). Once this is merged, the base branch's file judges again.",
        escape::text(first)
    );
    Ok(Some((config, note)))
}
