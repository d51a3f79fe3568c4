//! A pull request to the organisation's `.github` repository that changes
//! `.github/keel-org.toml`: the new policy validated (an invalid one fails, annotated on its
//! line), and its blast radius — which repositories' default branches would start failing
//! under it, from their recorded metrics — shown before it is merged.

use super::{CONFIG_PATH, Context, JobError, head_check};
use crate::github::api::{GitHubApi, Repo};
use crate::github::event::PullRequestInfo;
use crate::github::{CommitSha, RepoName};
use crate::store::{HeadVerdict, VerdictState, Watch};
use keel_core::config::Level;
use keel_core::diagnostic::Diagnostic;
use keel_core::evaluation::{Annotation, AnnotationLevel};
use keel_core::facts::Metrics;
use keel_core::org::{self, ORG_PATH, ORG_REPO, OrgPolicy};
use keel_core::render::escape;

/// Most repositories whose default branch is looked at.
const MAX_REPOS: usize = 50;

/// What a change to the organisation policy comes to.
pub(super) struct OrgChange {
    /// The section for the check run.
    pub summary: String,
    /// Why the new file cannot be used, at its line.
    pub invalid: Option<Diagnostic>,
    /// The pull request changes the policy file and nothing else: its check may stand alone.
    pub alone: bool,
}

/// The review of the change to `.github/keel-org.toml` between `base_sha` and `head_sha`,
/// when `repo` is an organisation's `.github` repository and the file changed.
pub(super) async fn review<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    pr: &PullRequestInfo,
    base_sha: &CommitSha,
) -> Result<Option<OrgChange>, JobError> {
    let Some((owner, ORG_REPO)) = repo.name.0.split_once('/') else {
        return Ok(None);
    };
    let head_sha = &pr.head_sha;
    let new = ctx.github.file_at(repo, ORG_PATH, head_sha).await?;
    let old = ctx.github.file_at(repo, ORG_PATH, base_sha).await?;
    if new == old {
        return Ok(None);
    }
    let files = ctx
        .github
        .pull_request_files(repo, &pr.number, pr.changed_files)
        .await?;
    let alone = files.incomplete.is_none() && files.files.iter().all(|f| f.path == ORG_PATH);
    let Some(bytes) = new else {
        return Ok(Some(OrgChange {
            summary: format!(
                "\n#### Organisation policy\n\nThis pull request removes `{ORG_PATH}`: once merged, no repository of `{}` has organisation floors or locks.\n",
                escape::text(owner)
            ),
            invalid: None,
            alone,
        }));
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let policy = match OrgPolicy::parse(ORG_PATH, &text) {
        Ok(policy) => policy,
        Err(d) => {
            return Ok(Some(OrgChange {
                summary: format!(
                    "\n#### Organisation policy\n\nThe new `{ORG_PATH}` cannot be used: line {}, column {}: {}. Every repository would keep the last good version for an hour, then fail closed.\n",
                    d.line,
                    d.column,
                    escape::text(&d.message)
                ),
                invalid: Some(d),
                alone,
            }));
        }
    };
    // From a fork, no blast radius: each costs a read per repository.
    let radius = if pr.head_repo.as_ref().is_some_and(|h| *h != repo.name) {
        "Shown for pull requests from branches of this repository, not from forks.\n".to_owned()
    } else {
        blast_radius(ctx, repo, owner, &policy).await?
    };
    Ok(Some(OrgChange {
        summary: format!("\n#### Organisation policy: blast radius\n\n{radius}"),
        invalid: None,
        alone,
    }))
}

/// The check run of a `.github` repository without a `keel.toml` of its own: the review alone
/// (failing only when the new policy is invalid).
pub(super) async fn publish_alone<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    change: OrgChange,
    verdict: &HeadVerdict,
) -> Result<(), JobError> {
    head_check::check_run(ctx, repo, head_sha).await?;
    let invalid = change.invalid.is_some();
    let verdict = HeadVerdict {
        state: if invalid {
            VerdictState::Failure
        } else {
            VerdictState::Success
        },
        title: if invalid {
            "The new organisation policy is invalid".to_owned()
        } else {
            "Organisation policy change reviewed".to_owned()
        },
        summary: change.summary.trim_start().to_owned(),
        checks: Vec::new(),
        watch: Watch::Nothing,
        ..verdict.clone()
    };
    let annotations: Vec<Annotation> = change
        .invalid
        .iter()
        .map(|d| Annotation {
            path: ORG_PATH.to_owned(),
            start_line: d.line.max(1),
            end_line: d.line.max(1),
            level: AnnotationLevel::Failure,
            title: "Invalid keel-org.toml".to_owned(),
            message: d.message.clone(),
        })
        .collect();
    head_check::conclude_head(ctx, repo, head_sha, &verdict, &annotations).await
}

/// Which repositories' default branches would start failing under `policy`: those whose
/// last recorded total coverage is below the minimum the policy gives them, or whose file
/// no longer reads under its defaults.
async fn blast_radius<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    owner: &str,
    policy: &OrgPolicy,
) -> Result<String, JobError> {
    let repos = ctx.store.installation_repos(repo.installation.0).await?;
    // Repository names stay out of the check run of a public `.github` repository.
    let named = ctx.github.repo_private(repo).await? == Some(true);
    let prefix = format!("{owner}/");
    let today = crate::clock::today(ctx.now);
    let (mut failing, mut fine, mut unknown) = (Vec::new(), Vec::new(), Vec::new());
    let candidates = repos
        .iter()
        .filter(|r| r.starts_with(&prefix) && **r != repo.name.0)
        .take(MAX_REPOS);
    for name in candidates {
        let other = Repo {
            installation: repo.installation.clone(),
            name: RepoName(name.clone()),
        };
        let Some(bytes) = ctx
            .github
            .file_at(&other, CONFIG_PATH, &CommitSha(String::new()))
            .await?
        else {
            continue;
        };
        let shown = escape::code(name);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let config = match org::with_defaults(policy, CONFIG_PATH, &text) {
            Ok(config) => config,
            Err(e) => {
                failing.push(format!(
                    "{shown}: its `keel.toml` would not read under the new defaults ({})",
                    escape::text(&e.0.message)
                ));
                continue;
            }
        };
        let short = name.split('/').nth(1).unwrap_or_default();
        let effective = org::apply(policy, short, &Default::default(), today, config);
        let floor = effective
            .config
            .coverage
            .as_ref()
            .and_then(|c| c.min_total.as_ref())
            .filter(|c| c.level == Level::Required)
            .map(|c| c.threshold.0);
        let Some(floor) = floor else {
            fine.push(shown);
            continue;
        };
        let total = ctx
            .store
            .latest_baseline(name)
            .await?
            .and_then(|m| serde_json::from_slice::<Metrics>(&m).ok())
            .and_then(|m| m.coverage)
            .and_then(|c| c.lines.percent());
        match total {
            Some(total) if total < floor => failing.push(format!(
                "{shown}: total coverage {total:.2}% is below {floor}% (`coverage.min_total`)"
            )),
            Some(_) => fine.push(shown),
            None => unknown.push(shown),
        }
    }
    if !named {
        return Ok(format!(
            "{} of {} repositories' default branches would start failing under the new policy ({} still passing, {} without recorded coverage). Names are shown only when this repository is private.\n",
            failing.len(),
            failing.len() + fine.len() + unknown.len(),
            fine.len(),
            unknown.len()
        ));
    }
    let mut s = if failing.is_empty() {
        "No repository's default branch would start failing under the new policy.\n".to_owned()
    } else {
        let mut s = format!(
            "{} {} default {} would start failing under the new policy:\n\n",
            failing.len(),
            if failing.len() == 1 {
                "repository's"
            } else {
                "repositories'"
            },
            if failing.len() == 1 {
                "branch"
            } else {
                "branches"
            }
        );
        for f in &failing {
            s.push_str(&format!("- {f}\n"));
        }
        s
    };
    if !fine.is_empty() {
        s.push_str(&format!("\nStill passing: {}.\n", fine.join(", ")));
    }
    if !unknown.is_empty() {
        s.push_str(&format!(
            "\nNo recorded coverage to tell: {}.\n",
            unknown.join(", ")
        ));
    }
    if repos.len() > MAX_REPOS {
        s.push_str(&format!(
            "\nThe first {MAX_REPOS} repositories were looked at.\n"
        ));
    }
    Ok(s)
}
