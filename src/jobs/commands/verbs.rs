//! What each `/keel` verb does, once its commenter may use it: the pull request and its base
//! branch's config are read at most once per comment.

use super::super::evaluate::{short, with_item_files};
use super::super::{CONFIG_PATH, Context, JobError, head_check, org};
use super::Run;
use crate::github::CommitSha;
use crate::github::api::GitHubApi;
use crate::github::event::{Event, PullRequestInfo, Target};
use crate::store::NewDecision;
use keel_core::commands::{DebtCall, Parsed, Verb};
use keel_core::config::{CommandsConfig, Config, Permission, RoadmapItem};
use keel_core::policy::waivers::NEVER_WAIVED;
use keel_core::render::escape;

/// The pull request and its base branch's config, read when a verb first needs them.
#[derive(Default)]
pub(super) struct Pull {
    /// The pull request as it is now.
    pub pr: Option<PullRequestInfo>,
    /// The base branch's config, or why there is none.
    config: Option<Result<Config, String>>,
}

impl Pull {
    async fn load<G: GitHubApi>(
        &mut self,
        ctx: &Context<'_, G>,
        run: &Run<'_>,
    ) -> Result<(&PullRequestInfo, Result<&Config, &str>), JobError> {
        if self.pr.is_none() {
            self.pr = Some(ctx.github.pull_request(run.repo, run.number).await?);
        }
        let pr = self.pr.as_ref().expect("read above");
        if self.config.is_none() {
            // The config the pull request is judged by: the base branch's, under the
            // organisation's policy (its floors on commands included).
            let invalid = |e: String| format!("the base branch's `{CONFIG_PATH}` is invalid: {e}");
            let config = match ctx
                .github
                .file_at(run.repo, CONFIG_PATH, &pr.base_sha)
                .await?
            {
                None => Err(format!("there is no `{CONFIG_PATH}` on the base branch")),
                Some(bytes) => {
                    let state = org::state(ctx, run.repo).await?;
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    match org::parse_config(&state, bytes) {
                        Ok(config) => with_item_files(ctx, run.repo, &pr.base_sha, config)
                            .await?
                            .map(|c| org::under(ctx.now, run.repo, &state, &text, c).config)
                            .map_err(invalid),
                        Err(e) => Err(invalid(e)),
                    }
                }
            };
            self.config = Some(config);
        }
        let config = match self.config.as_ref().expect("read above") {
            Ok(c) => Ok(c),
            Err(e) => Err(e.as_str()),
        };
        Ok((pr, config))
    }
}

/// Runs one parsed `/keel` line.
pub(super) async fn one<G: GitHubApi>(
    ctx: &Context<'_, G>,
    run: &mut Run<'_>,
    pull: &mut Pull,
    parsed: Parsed,
) -> Result<(), JobError> {
    let verb = match parsed {
        Parsed::Command(verb) => verb,
        Parsed::Unknown(word) => {
            let said = if word.is_empty() {
                "`/keel` needs a command.".to_owned()
            } else {
                format!(
                    "{} is not a Keel command.",
                    escape::code(&bounded(&format!("/keel {word}")))
                )
            };
            return refuse(run, format!("{said}\n\n{}", help()));
        }
        Parsed::Invalid { verb, why } => {
            return refuse(
                run,
                format!("`/keel {verb}`: {}.", escape::text(&bounded(&why))),
            );
        }
    };
    if verb == Verb::Help {
        run.reply.push(help());
        return Ok(());
    }
    let (pr, config) = pull.load(ctx, run).await?;
    let defaults = CommandsConfig::default();
    let commands = config
        .ok()
        .and_then(|c| c.commands.as_ref())
        .unwrap_or(&defaults);
    let needs = commands.needs(verb.name());
    if needs > Permission::Read && run.permission < needs {
        tracing::info!(repo = %run.repo.name, pr = %run.number, author = run.author, verb = verb.name(), "command refused: permission");
        return refuse(
            run,
            format!(
                "`/keel {}` needs {} access to this repository.",
                verb.name(),
                needs.as_str()
            ),
        );
    }
    let after_merge = matches!(verb, Verb::Recheck | Verb::Outcome { .. });
    if verb.changes_state() && pr.is_closed() && !after_merge {
        return refuse(
            run,
            format!("`/keel {}`: the pull request is closed.", verb.name()),
        );
    }
    let pr = pr.clone();
    let config = match (config, &verb) {
        (_, Verb::Recheck) => None,
        (Ok(c), _) => Some(c.clone()),
        (Err(e), _) => {
            return refuse(run, format!("`/keel {}`: {e}.", verb.name()));
        }
    };
    let unlink = matches!(verb, Verb::Unlink(_));
    let decision = |topic, subject: String, verb, reason: String, until| NewDecision {
        number: run.number.0,
        comment_id: run.comment_id,
        topic,
        subject,
        verb,
        reason,
        until,
        by: run.author.to_owned(),
        head_sha: pr.head_sha.0.clone(),
        base_ref: pr.base_ref.clone(),
        permission: run.permission.as_str().to_owned(),
        at: ctx.now,
    };
    match (verb, config) {
        (Verb::Recheck, _) => run.rejudge = true,
        (Verb::Explain(criterion), _) => {
            let (_, failing) = ctx
                .store
                .failed_criteria(&run.repo.name.0, run.number.0)
                .await?;
            run.reply.push(explain(&criterion, &failing));
        }
        (Verb::Link(target), Some(config)) | (Verb::Unlink(target), Some(config)) => {
            let Some(item) = roadmap_item(&config, &target) else {
                let known = config.roadmap.as_ref().map_or(0, |r| r.items.len());
                return refuse(
                    run,
                    format!(
                        "{} is not a roadmap item of this repository ({known} known; an id like `R-12`, or `#12` for one of an item's issues).",
                        escape::code(&bounded(&target))
                    ),
                );
            };
            let verb = if unlink { "unlink" } else { "link" };
            let d = decision("link", item.id.0.clone(), verb, String::new(), None);
            decide(ctx, run, &pr.head_sha, &d).await?;
        }
        (Verb::Debt(call), Some(config)) => {
            if config.debt.is_none() {
                return refuse(
                    run,
                    "`/keel debt`: this repository has no `[debt]` in its `.github/keel.toml`."
                        .to_owned(),
                );
            }
            let word = match call {
                DebtCall::Reduced => "reduced",
                DebtCall::Added => "added",
                DebtCall::None => "none",
            };
            let d = decision("debt", String::new(), "debt", word.to_owned(), None);
            decide(ctx, run, &pr.head_sha, &d).await?;
        }
        (
            Verb::Waive {
                criterion,
                reason,
                until,
            },
            Some(config),
        ) => {
            let commands = config.commands.clone().unwrap_or_default();
            if !commands.waivers {
                return refuse(
                    run,
                    "`/keel waive`: waivers are turned off for this repository (`[commands] waivers = false`).".to_owned(),
                );
            }
            if pr
                .author
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(run.author))
            {
                tracing::info!(repo = %run.repo.name, pr = %run.number, author = run.author, "waiver refused: the pull request's author");
                return refuse(
                    run,
                    "`/keel waive`: the pull request's author cannot waive its own criteria; ask a maintainer.".to_owned(),
                );
            }
            // Whoever pushed to the change is one of its authors, whatever its commits say
            // (git's author and committer fields can name anyone).
            let pushers = crate::jobs::pushers::of_pull_request(ctx, run.repo, &pr).await?;
            if pushers.iter().any(|p| p.eq_ignore_ascii_case(run.author)) {
                tracing::info!(repo = %run.repo.name, pr = %run.number, author = run.author, "waiver refused: they pushed to the pull request");
                return refuse(
                    run,
                    "`/keel waive`: you pushed to this pull request, so you cannot waive its criteria; ask a maintainer who did not.".to_owned(),
                );
            }
            // Whoever wrote or committed part of the change is one of its authors too.
            let people = ctx.github.pull_request_people(run.repo, run.number).await?;
            if people.iter().any(|p| p.eq_ignore_ascii_case(run.author)) {
                tracing::info!(repo = %run.repo.name, pr = %run.number, author = run.author, "waiver refused: a commit of the pull request is theirs");
                return refuse(
                    run,
                    "`/keel waive`: you wrote or committed part of this pull request, so you cannot waive its criteria; ask a maintainer who did not.".to_owned(),
                );
            }
            let (judged, failing) = ctx
                .store
                .failed_criteria(&run.repo.name.0, run.number.0)
                .await?;
            // The waiver is for what its giver saw: the head commit last judged, there before
            // the comment was written (a push the same second counts as after).
            let since = ctx
                .store
                .head_since(&run.repo.name.0, run.number.0)
                .await?
                .filter(|(head, _)| *head == pr.head_sha.0)
                .and_then(|(_, since)| since);
            if matches!((run.written_at, since), (Some(w), Some(s)) if w <= s) {
                tracing::info!(repo = %run.repo.name, pr = %run.number, by = run.author, "waiver refused: written before the head it would cover");
                return refuse(
                    run,
                    format!(
                        "`/keel waive`: the pull request got a new commit (`{}`) after this comment was written; look at the check on it, then waive again.",
                        short(&pr.head_sha)
                    ),
                );
            }
            if judged.as_deref() != Some(pr.head_sha.0.as_str()) {
                return refuse(
                    run,
                    "`/keel waive`: the pull request changed since it was last judged; wait for the check on the new commit, then waive again.".to_owned(),
                );
            }
            let named: Vec<&(String, String)> = failing
                .iter()
                .filter(|(id, title)| {
                    criterion.eq_ignore_ascii_case(id) || criterion.eq_ignore_ascii_case(title)
                })
                .collect();
            let id = match named.as_slice() {
                [(id, _)] => id.clone(),
                [] => {
                    return refuse(
                        run,
                        format!("`/keel waive`: {}", explain(&criterion, &failing)),
                    );
                }
                _ => {
                    return refuse(
                        run,
                        format!(
                            "`/keel waive`: {} names more than one failing criterion; use its id.",
                            escape::code(&bounded(&criterion))
                        ),
                    );
                }
            };
            if NEVER_WAIVED.contains(&id.as_str()) {
                return refuse(
                    run,
                    format!("`/keel waive`: {} is never waived.", escape::code(&id)),
                );
            }
            use super::super::org::{WaiverRule, waiver_rule};
            let mut team_stamp: Option<String> = None;
            match waiver_rule(ctx, run.repo, &config, &id).await? {
                WaiverRule::Repository => {}
                WaiverRule::Hard => {
                    return refuse(
                        run,
                        format!(
                            "`/keel waive`: an organisation hard rule governs {}: it is never waived.",
                            escape::code(&id)
                        ),
                    );
                }
                WaiverRule::Team(team) => {
                    let owner = run.repo.name.0.split('/').next().unwrap_or_default();
                    let member = match &team {
                        Some(t) => {
                            ctx.github
                                .team_member(run.repo, owner, t, run.author)
                                .await?
                        }
                        None => false,
                    };
                    if member {
                        team_stamp = team.map(|t| format!(" team:{t}"));
                    } else {
                        return refuse(
                            run,
                            format!(
                                "`/keel waive`: an organisation rule governs {}: only members of the organisation's waive team{} may waive it.",
                                escape::code(&id),
                                team.map(|t| format!(" ({})", escape::code(&t)))
                                    .unwrap_or_default()
                            ),
                        );
                    }
                }
            }
            let today = crate::clock::today(ctx.now);
            let longest = today
                .checked_add_days(chrono::Days::new(u64::from(commands.waiver_days.min(3650))))
                .unwrap_or(today);
            let until = match until {
                Some(day) if day.0 < today => {
                    return refuse(run, format!("`/keel waive`: `until={day}` has passed."));
                }
                Some(day) if day.0 > longest => {
                    return refuse(
                        run,
                        format!(
                            "`/keel waive`: a waiver holds at most {} days here, until {}.",
                            commands.waiver_days,
                            longest.format("%Y-%m-%d")
                        ),
                    );
                }
                Some(day) => day.0,
                None => longest,
            };
            let reason: String = reason.chars().take(MAX_REASON_CHARS).collect();
            let mut d = decision(
                "waiver",
                id.clone(),
                "waive",
                reason,
                Some(until.format("%Y-%m-%d").to_string()),
            );
            // A waiver of a soft organisation rule carries the team that allowed it.
            d.permission
                .push_str(team_stamp.as_deref().unwrap_or_default());
            decide(ctx, run, &pr.head_sha, &d).await?;
            judge_when_it_ends(ctx, run, &pr, until).await?;
            tracing::info!(repo = %run.repo.name, pr = %run.number, by = run.author, criterion = %id, "waiver recorded");
        }
        (Verb::Unwaive(criterion), Some(_)) => {
            let live = ctx
                .store
                .live_decisions(&run.repo.name.0, run.number.0)
                .await?;
            let Some(w) = live
                .iter()
                .find(|d| d.topic == "waiver" && d.subject.eq_ignore_ascii_case(&criterion))
            else {
                return refuse(
                    run,
                    format!(
                        "`/keel unwaive`: {} has no waiver on this pull request.",
                        escape::code(&bounded(&criterion))
                    ),
                );
            };
            ctx.store
                .end_decision(
                    &run.repo.name.0,
                    run.number.0,
                    "waiver",
                    &w.subject,
                    run.author,
                    ctx.now,
                )
                .await?;
            // Before any other request to GitHub: the check no longer shows the waiver.
            decided(ctx, run, &pr.head_sha).await?;
        }
        (Verb::Outcome { item, value }, Some(config)) => {
            let Some(found) = roadmap_item(&config, &item) else {
                return refuse(
                    run,
                    format!(
                        "`/keel outcome`: {} is not a roadmap item of this repository.",
                        escape::code(&bounded(&item))
                    ),
                );
            };
            let number = value.trim().trim_end_matches('%').trim().replace(',', "");
            let Some(measured) = number.parse::<f64>().ok().filter(|v| v.is_finite()) else {
                return refuse(
                    run,
                    format!(
                        "`/keel outcome`: {} is not a number (write it like `2.9` or `2.9%`).",
                        escape::code(&bounded(&value))
                    ),
                );
            };
            ctx.store
                .record_outcome(&run.repo.name.0, &found.id.0, measured, ctx.now)
                .await?;
        }
        (Verb::Help, _) | (_, None) => {}
    }
    Ok(())
}

/// Records decision `d` on the pull request at `head` and judges it again; first, before any
/// other request to GitHub, a green check the verdicts judged without `d` showed is withdrawn
/// (they no longer count).
async fn decide<G: GitHubApi>(
    ctx: &Context<'_, G>,
    run: &mut Run<'_>,
    head: &CommitSha,
    d: &NewDecision,
) -> Result<(), JobError> {
    ctx.store.record_decision(&run.repo.name.0, d).await?;
    decided(ctx, run, head).await
}

/// After a decision was recorded: the green it may make stale is withdrawn, and the
/// judgement that shows the new verdict is queued at once, so a later line of the comment
/// failing cannot leave the check withdrawn with nothing to judge it again.
async fn decided<G: GitHubApi>(
    ctx: &Context<'_, G>,
    run: &mut Run<'_>,
    head: &CommitSha,
) -> Result<(), JobError> {
    head_check::hold(ctx, run.repo, head).await?;
    super::judge_again(ctx, run.repo, run.number, head).await?;
    run.rejudge = true;
    Ok(())
}

/// Longest waiver reason kept, in characters.
const MAX_REASON_CHARS: usize = 300;

/// Judges the pull request again the day after a waiver's last day, so an ended waiver fails
/// the check without waiting for a push.
async fn judge_when_it_ends<G: GitHubApi>(
    ctx: &Context<'_, G>,
    run: &Run<'_>,
    pr: &PullRequestInfo,
    until: chrono::NaiveDate,
) -> Result<(), JobError> {
    let Some(next_day) = until
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
    else {
        return Ok(());
    };
    let event = Event::EvaluateLater {
        installation: run.repo.installation.clone(),
        repo: run.repo.name.clone(),
        head_sha: pr.head_sha.clone(),
        target: Target::PullRequest(run.number.clone()),
    };
    let key = format!(
        "waiver-end/{}/{}/{}/{until}",
        run.repo.name, run.number, pr.head_sha
    );
    let job = super::super::event_job(&event, None, Some(key), next_day)
        .map_err(|e| JobError::Permanent(format!("serialise a follow-up job: {e}")))?;
    ctx.store.enqueue(&job, ctx.now).await?;
    Ok(())
}

/// A refusal or an error: one line of the reply, and 😕.
fn refuse(run: &mut Run<'_>, line: String) -> Result<(), JobError> {
    run.ok = false;
    run.reply.push(line);
    Ok(())
}

/// The roadmap item `target` names: its id, or `#N` for one of its issues.
fn roadmap_item<'c>(config: &'c Config, target: &str) -> Option<&'c RoadmapItem> {
    let items = &config.roadmap.as_ref()?.items;
    match target.strip_prefix('#').and_then(|n| n.parse::<u64>().ok()) {
        Some(n) => items.iter().find(|i| i.issues.contains(&n)),
        None => items.iter().find(|i| i.id.0 == target),
    }
}

/// `/keel explain`: what a failing criterion is and what to do about it.
fn explain(criterion: &str, failing: &[(String, String)]) -> String {
    let found = failing.iter().find(|(id, title)| {
        criterion.eq_ignore_ascii_case(id) || criterion.eq_ignore_ascii_case(title)
    });
    match found {
        Some((id, title)) => {
            let mut s = format!(
                "**{}** ({}) failed at the last evaluation.",
                escape::text(title),
                escape::code(id)
            );
            if let Some(step) = keel_core::render::dod::next_step(id) {
                s.push_str(&format!(" Next: {step}."));
            }
            s.push_str(" The check run lists what failed, where, and why it matters.");
            s
        }
        None if failing.is_empty() => format!(
            "{} is not failing: no criterion failed at the last evaluation.",
            escape::code(&bounded(criterion))
        ),
        None => format!(
            "{} is not failing. Failing now: {}.",
            escape::code(&bounded(criterion)),
            failing
                .iter()
                .map(|(id, _)| escape::code(id))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// What the commands are.
fn help() -> String {
    "Commands, one per line at the start of a line:\n\
     - `/keel help`, `/keel explain <criterion>` — anyone who can read the repository\n\
     - `/keel recheck` — judge this pull request again\n\
     - `/keel link <item or #issue>`, `/keel unlink <item or #issue>` — the roadmap item this change serves\n\
     - `/keel debt reduced|added|none` — your call on technical debt, over Keel's signals\n\
     - `/keel waive <criterion> reason=\"…\" [until=YYYY-MM-DD]`, `/keel unwaive <criterion>` — ship below the bar on the record, as debt taken on purpose (not by the pull request's author)\n\
     - `/keel outcome <item> <value>` — the measured result of a roadmap item's hypothesis\n\n\
     Changes need write access unless `[commands]` in `.github/keel.toml` asks for more; a waiver, link or debt call holds for the commit it was given on."
        .to_owned()
}

/// Untrusted text for a reply: one line of at most 100 characters (escaped where it is used).
fn bounded(text: &str) -> String {
    text.chars().take(100).filter(|c| !c.is_control()).collect()
}
