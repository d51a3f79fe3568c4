//! The decisions taken with `/keel` commands on a pull request, as the evaluation's facts.

use super::super::{Context, JobError};
use crate::github::CommitSha;
use crate::github::api::{GitHubApi, Repo};
use crate::github::event::PullRequestInfo;
use crate::store::StoredDecision;
use keel_core::Config;
use keel_core::commands::DebtCall;
use keel_core::config::Day;
use keel_core::config::Permission;
use keel_core::facts::{Decision, DecisionKind};

/// The live decisions on pull request `pr`, each marked current when it was given on `head`
/// (the commit judged now). A waiver counts only under the config it was given under: against
/// the same base branch, while that branch's `[commands]` allow waivers and its giver's
/// permission then meets what `waive` needs now; a row a soft organisation rule governs counts
/// only a waiver the organisation's waive team gave. A waiver kept across pushes
/// (`survive_pushes`) ends when its giver has since pushed to the change, or authored or
/// committed part of it: no one waives their own work. Why a waiver stopped counting goes to `notes`.
pub(crate) async fn facts<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    pr: &PullRequestInfo,
    head: &CommitSha,
    config: &Config,
    soft: &[String],
    notes: &mut Vec<String>,
) -> Result<Vec<Decision>, JobError> {
    let commands = config.commands.clone().unwrap_or_default();
    let mut live = ctx.store.live_decisions(&repo.name.0, pr.number.0).await?;
    let kept_across_pushes =
        |d: &StoredDecision| d.topic == "waiver" && d.head_sha != head.0 && commands.survive_pushes;
    if live.iter().any(|d| d.topic == "waiver") {
        // Every waiver: a push delivered late may name its giver after it was given.
        let pushers = crate::jobs::pushers::of_pull_request(ctx, repo, pr).await?;
        let people = if live.iter().any(kept_across_pushes) {
            ctx.github.pull_request_people(repo, &pr.number).await?
        } else {
            Vec::new()
        };
        live.retain(|d| {
            let is_giver = |p: &String| p.eq_ignore_ascii_case(&d.by);
            let how = if d.topic != "waiver" {
                None
            } else if pushers.iter().any(is_giver) {
                Some("pushed")
            } else if kept_across_pushes(d) && people.iter().any(is_giver) {
                Some("committed")
            } else {
                None
            };
            if let Some(how) = how {
                notes.push(format!(
                    "The waiver of {} by @{} no longer counts: @{} has since {how} to it.",
                    keel_core::render::escape::code(&d.subject),
                    d.by,
                    d.by
                ));
            }
            how.is_none()
        });
    }
    Ok(live
        .into_iter()
        .filter(|d| {
            let mut stamp = d.permission.split(' ');
            let role = Permission::from_github(stamp.next().unwrap_or_default());
            let by_team = stamp.any(|s| s.starts_with("team:"));
            d.topic != "waiver"
                || (commands.waivers
                    && d.base_ref == pr.base_ref
                    && role >= commands.needs("waive")
                    // A soft organisation rule: only a waiver its waive team gave.
                    && (by_team || !soft.contains(&d.subject)))
        })
        .filter_map(|d| decision(d, head))
        .collect())
}

fn decision(d: StoredDecision, head: &CommitSha) -> Option<Decision> {
    let kind = match (d.topic.as_str(), d.verb.as_str()) {
        ("waiver", _) => DecisionKind::Waive {
            criterion: d.subject,
            reason: d.reason,
            until: d.until.and_then(|u| Day::try_from(u).ok()),
        },
        ("link", "unlink") => DecisionKind::Unlink(d.subject),
        ("link", _) => DecisionKind::Link(d.subject),
        ("debt", _) => DecisionKind::Debt(match d.reason.as_str() {
            "reduced" => DebtCall::Reduced,
            "added" => DebtCall::Added,
            _ => DebtCall::None,
        }),
        _ => return None,
    };
    Some(Decision {
        kind,
        current: d.head_sha == head.0,
        by: d.by,
        commit: d.head_sha,
    })
}
