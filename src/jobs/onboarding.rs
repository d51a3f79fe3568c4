//! Turning Keel on without locking anyone out.
//!
//! - The pull request that adds the first `.github/keel.toml` (the base branch has none) gets
//!   a check that never blocks: the new file validated — every problem at once, annotated on
//!   its line — and, when it is valid, a preview of what it would say about this very pull
//!   request ("with this config, this change would: ✅ pass").
//! - When the base branch's config cannot be read, a pull request that brings a valid one is
//!   judged by its own and says so; every other pull request fails with the reason.

use super::evaluate::{parse_config, pull_request_facts, with_item_files};
use super::{CONFIG_PATH, Context, JobError, publish};
use crate::github::CommitSha;
use crate::github::api::{GitHubApi, Repo};
use crate::github::event::PullRequestInfo;
use crate::store::{HeadVerdict, VerdictState, Watch};
use keel_core::config::ProblemKind;
use keel_core::evaluation::{Annotation, AnnotationLevel, Conclusion};
use keel_core::facts::Facts;
use keel_core::render::{escape, markdown};
use keel_core::{Config, evaluate};

/// The check of a pull request that adds the first `.github/keel.toml` (`bytes`, read at its
/// head). Its verdict is a success whatever the preview says: nothing is enforced until the
/// file is on the base branch.
pub(super) async fn preview<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    pr: &PullRequestInfo,
    bytes: Vec<u8>,
    verdict: &HeadVerdict,
) -> Result<(), JobError> {
    let check_run = publish::check_run(ctx, repo, head_sha).await?;
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
    let problems = Config::validate(CONFIG_PATH, &text);
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
            return publish::conclude_head(ctx, repo, head_sha, check_run, &verdict, &annotations)
                .await;
        }
    };
    let diff = ctx
        .github
        .pull_request_files(repo, &pr.number, pr.changed_files)
        .await?;
    let facts = Facts {
        diff: Some(diff),
        pull_request: Some(pull_request_facts(pr)),
        ..Facts::default()
    };
    // Reports and other checks come from CI once the file is on the base branch; the preview
    // judges what needs none of them, and names the rest.
    let without_reports = Config {
        coverage: None,
        security: None,
        performance: None,
        checks: None,
        ..config.clone()
    };
    let evaluation = evaluate(&without_reports, &facts);
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
    publish::conclude_head(ctx, repo, head_sha, check_run, &verdict, &annotations).await
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
    if pr.is_none() {
        return Ok(None);
    }
    let Some(bytes) = ctx.github.file_at(repo, CONFIG_PATH, head_sha).await? else {
        return Ok(None);
    };
    let Ok(config) = parse_config(bytes) else {
        return Ok(None);
    };
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
