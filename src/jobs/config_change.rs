//! A pull request that edits the definition of done — `.github/keel.toml`, or the roadmap and
//! debt item files it names — gets the new files checked at its head: a change that would
//! leave an unreadable definition of done behind fails its own "Change to keel.toml" row, with
//! an annotation on the line, before it can break every later pull request.

use super::evaluate::{item_files, with_item_files};
use super::{CONFIG_PATH, Context, JobError};
use crate::github::CommitSha;
use crate::github::api::{GitHubApi, Repo};
use keel_core::Config;
use keel_core::diagnostic::Diagnostic;
use keel_core::diff::{FileDiff, FileStatus};
use keel_core::facts::ConfigChange;
use keel_core::org::OrgPolicy;

/// When the pull request edits the definition of done, the new file checked at the head
/// commit (the change itself is still judged by the base commit's file). `base_items` are the
/// items files the base commit's config names: changing, deleting or moving one away is a
/// change to the definition of done wherever it lives.
pub(super) async fn config_change<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    files: &[FileDiff],
    base_items: &[String],
    org: Option<&OrgPolicy>,
) -> Result<Option<ConfigChange>, JobError> {
    // Any change to the path, or away from it (a deletion, a rename's old name).
    let touched = |path: &str| {
        files
            .iter()
            .any(|f| f.path == path || f.old_path.as_deref() == Some(path))
    };
    // The config, the items files the base names, or a TOML file beside the config that it
    // may now name as its roadmap or debt items.
    let may_matter = touched(CONFIG_PATH)
        || base_items.iter().any(|p| touched(p))
        || files.iter().any(|f| {
            f.status != FileStatus::Deleted
                && f.path.starts_with(".github/")
                && f.path.ends_with(".toml")
        });
    if !may_matter {
        return Ok(None);
    }
    let Some(bytes) = ctx.github.file_at(repo, CONFIG_PATH, head_sha).await? else {
        // The base has a config (this change is judged by it): deleting or moving it turns
        // the gate off for every later change.
        return Ok(touched(CONFIG_PATH).then_some(ConfigChange::Removed));
    };
    let config = match String::from_utf8(bytes) {
        Err(_) => {
            return Ok(Some(ConfigChange::Invalid(Diagnostic::at_line(
                CONFIG_PATH,
                1,
                "the file is not UTF-8 text",
            ))));
        }
        Ok(text) => match Config::parse(CONFIG_PATH, &text) {
            Ok(config) => {
                if touched(CONFIG_PATH)
                    && let Some(policy) = org
                    && let Some(loose) = loosens_hard(ctx.now, repo, policy, &text)
                {
                    return Ok(Some(ConfigChange::Invalid(loose)));
                }
                config
            }
            Err(e) => return Ok(Some(ConfigChange::Invalid(e.0))),
        },
    };
    let item_files = item_files(&config);
    if !touched(CONFIG_PATH) && !item_files.iter().chain(base_items).any(|p| touched(p)) {
        return Ok(None);
    }
    // The items files the new config names must be readable at the head too: once merged,
    // a broken one would stop every later change from being judged.
    Ok(Some(
        match with_item_files(ctx, repo, head_sha, config).await? {
            Ok(_) => ConfigChange::Valid,
            Err(error) => ConfigChange::Invalid(diagnostic_of(&error)),
        },
    ))
}

/// A rendered `path:line:column: message` error back as a diagnostic (line 1 of the config
/// when it names no place).
/// The first key the new file sets looser than an organisation hard rule, as an error at its
/// line: such a change fails its own check (the looser value would never apply).
fn loosens_hard(now: i64, repo: &Repo, policy: &OrgPolicy, text: &str) -> Option<Diagnostic> {
    // The file must read as the base branch will read it: over the organisation's defaults.
    let config = match keel_core::org::with_defaults(policy, CONFIG_PATH, text) {
        Ok(config) => config,
        Err(e) => return Some(e.0),
    };
    if policy.enforcement == keel_core::org::Mode::Evaluate {
        return None;
    }
    let name = repo.name.0.split('/').nth(1).unwrap_or_default();
    let today = crate::clock::today(now);
    let effective = keel_core::org::apply(policy, name, &Default::default(), today, config);
    let loose = effective.loosened_hard().next()?;
    Some(Diagnostic::at_line(
        CONFIG_PATH,
        u64::from(keel_core::org::key_line(text, loose.key)),
        format!(
            "`{}`: {} is looser than the organisation's hard rule ({}), which always applies; tighten or remove it",
            loose.key,
            loose.asked.as_deref().unwrap_or("this value"),
            loose.value
        ),
    ))
}

fn diagnostic_of(error: &str) -> Diagnostic {
    let first = error.lines().next().unwrap_or(error);
    let mut parts = first.splitn(4, ':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(path), Some(line), Some(column), Some(message))
            if line.parse::<u32>().is_ok() && column.parse::<u32>().is_ok() =>
        {
            Diagnostic::at(
                path,
                line.parse().unwrap_or(1),
                column.parse().unwrap_or(1),
                message.trim(),
            )
        }
        _ => Diagnostic::at_line(CONFIG_PATH, 1, first),
    }
}
