//! The organisation's policy for a repository: `.github/keel-org.toml` on the default branch
//! of the organisation's `.github` repository, cached (a push there makes it stale), its last
//! good version used for at most an hour when it cannot be read or is invalid, then failing
//! closed. Never a silent run without the organisation layer once there is one.

use super::{CONFIG_PATH, Context, JobError};
use crate::github::api::{GitHubApi, Repo};
use crate::github::{CommitSha, RepoName};
use keel_core::Config;
use keel_core::evaluation::{Annotation, AnnotationLevel, Evaluation, Status};
use keel_core::org::{self, Effective, Enforcement, Mode, ORG_PATH, ORG_REPO, OrgPolicy, Origin};
use keel_core::render::escape;
use sha2::{Digest, Sha256};

/// The organisation repository's name, for matching pushes to it.
pub(super) const ORG_REPO_NAME: &str = ORG_REPO;

/// A cached policy younger than this is used without asking GitHub (a push invalidates it).
const FRESH_MS: i64 = 10 * 60_000;
/// The longest a last good policy stands in for one that cannot be used.
pub const LAST_GOOD_MS: i64 = 60 * 60_000;

/// The organisation's policy as this evaluation finds it.
pub(super) enum OrgState {
    /// No policy: the file is absent, or Keel cannot read the `.github` repository and never
    /// could (the note says so).
    None(String),
    /// A policy, its version, and a note when it is the last good one standing in.
    Policy {
        /// The policy.
        policy: Box<OrgPolicy>,
        /// Its version (a digest of the file).
        version: String,
        /// Why the last good version is used, if it is.
        note: Option<String>,
        /// The repository's custom properties, when a scope selects by them.
        properties: keel_core::org::Properties,
    },
    /// Declared but unusable for over an hour: hard rules fail closed, with why.
    FailClosed(String),
}

fn owner(repo: &Repo) -> &str {
    repo.name.0.split('/').next().unwrap_or_default()
}

/// The policy for `repo`'s organisation, with the repository's custom properties when a
/// scope selects by them.
pub(super) async fn state<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
) -> Result<OrgState, JobError> {
    let mut found = read_state(ctx, repo).await?;
    if let OrgState::Policy {
        policy, properties, ..
    } = &mut found
        && policy.uses_properties()
    {
        *properties = ctx.github.custom_properties(repo).await?;
    }
    Ok(found)
}

/// The policy for `repo`'s organisation (no properties read).
async fn read_state<G: GitHubApi>(ctx: &Context<'_, G>, repo: &Repo) -> Result<OrgState, JobError> {
    let owner = owner(repo);
    let none = || {
        OrgState::None(format!(
            "No organisation policy: `{ORG_PATH}` in `{owner}/{ORG_REPO}` is absent, or Keel is not installed on `{owner}/{ORG_REPO}`."
        ))
    };
    let cached = ctx.store.org_policy(owner).await?;
    if let Some(c) = &cached
        && !c.stale
        && ctx.now - c.fetched_at < FRESH_MS
    {
        // An empty cached text is a policy found absent.
        if c.text.is_empty() {
            return Ok(none());
        }
        if let Ok(policy) = OrgPolicy::parse(ORG_PATH, &c.text) {
            return Ok(OrgState::Policy {
                policy: Box::new(policy),
                version: c.version.clone(),
                note: None,
                properties: Default::default(),
            });
        }
    }
    // Never a policy seen: nothing stands in when it cannot be read.
    let cached = cached.filter(|c| !c.text.is_empty());
    let org_repo = Repo {
        installation: repo.installation.clone(),
        name: RepoName(format!("{owner}/{ORG_REPO}")),
    };
    let at = format!("`{ORG_PATH}` in `{owner}/{ORG_REPO}`");
    let why = match ctx
        .github
        .file_at(&org_repo, ORG_PATH, &CommitSha(String::new()))
        .await
    {
        Ok(Some(bytes)) => {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            match OrgPolicy::parse(ORG_PATH, &text) {
                Ok(policy) => {
                    let version = hex::encode(&Sha256::digest(text.as_bytes())[..4]);
                    ctx.store
                        .keep_org_policy(owner, &text, &version, ctx.now)
                        .await?;
                    return Ok(OrgState::Policy {
                        policy: Box::new(policy),
                        version,
                        note: None,
                        properties: Default::default(),
                    });
                }
                Err(d) => format!("{at} is invalid: line {}: {}", d.line, d.message),
            }
        }
        Ok(None) if cached.is_none() => {
            ctx.store.keep_org_policy(owner, "", "", ctx.now).await?;
            return Ok(none());
        }
        Ok(None) => {
            // Removed on purpose (the repository reads, the file is not there), or out of
            // Keel's reach (uninstalled there): only the first drops the organisation layer.
            if ctx.github.repo_private(&org_repo).await?.is_some() {
                ctx.store.keep_org_policy(owner, "", "", ctx.now).await?;
                return Ok(none());
            }
            format!("Keel can no longer read `{owner}/{ORG_REPO}` (is it still installed there?)")
        }
        // With no policy ever seen, a failed read is retried like any other call.
        Err(e) if cached.is_none() => return Err(e.into()),
        Err(e) => format!("reading {at} failed: {e}"),
    };
    tracing::warn!(repo = %repo.name, why = %why, "organisation policy unavailable");
    match cached {
        Some(c) if ctx.now - c.fetched_at <= LAST_GOOD_MS => {
            let policy = OrgPolicy::parse(ORG_PATH, &c.text)
                .map_err(|e| JobError::Permanent(format!("the cached policy: {e:?}")))?;
            let minutes = (ctx.now - c.fetched_at) / 60_000;
            Ok(OrgState::Policy {
                policy: Box::new(policy),
                version: c.version,
                note: Some(format!(
                    "Organisation policy unavailable ({why}); the last good version, read {minutes} minutes ago, applies for at most an hour."
                )),
                properties: Default::default(),
            })
        }
        _ => Ok(OrgState::FailClosed(why)),
    }
}

/// The base branch's config text parsed under the policy's `[defaults]`.
pub(super) fn parse_config(state: &OrgState, bytes: Vec<u8>) -> Result<Config, String> {
    let text = String::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_owned())?;
    match state {
        OrgState::Policy { policy, .. } => {
            org::with_defaults(policy, CONFIG_PATH, &text).map_err(|e| e.to_string())
        }
        _ => Config::parse(CONFIG_PATH, &text).map_err(|e| e.to_string()),
    }
}

/// A config under the organisation's floors and locks, and what to show about it.
pub(super) struct Under {
    /// The config the change is judged by.
    pub config: Config,
    /// In evaluate mode: the config the policy would judge by (reported, never failing).
    pub shadow: Option<Config>,
    /// Rows no waiver turns.
    pub unwaivable: Vec<String>,
    /// Rows only the organisation's waive team may waive.
    pub soft: Vec<String>,
    /// Why hard rules fail closed.
    pub unavailable: Option<String>,
    /// The policy section of the check run.
    pub provenance: Option<String>,
    /// Annotations on the repository's `keel.toml` lines the organisation overrode.
    pub annotations: Vec<Annotation>,
}

/// Applies the policy to `config` (read from `text`).
pub(super) fn under(
    ctx_now: i64,
    repo: &Repo,
    state: &OrgState,
    text: &str,
    config: Config,
) -> Under {
    let mut under = Under {
        config,
        shadow: None,
        unwaivable: Vec::new(),
        soft: Vec::new(),
        unavailable: None,
        provenance: None,
        annotations: Vec::new(),
    };
    let (policy, version, note, properties) = match state {
        OrgState::None(note) => {
            under.provenance = Some(format!("\n{}\n", escape::sentence(note)));
            return under;
        }
        OrgState::FailClosed(why) => {
            under.unavailable = Some(why.clone());
            return under;
        }
        OrgState::Policy {
            policy,
            version,
            note,
            properties,
        } => (policy, version, note, properties),
    };
    let name = repo.name.0.split('/').nth(1).unwrap_or_default();
    let today = crate::clock::today(ctx_now);
    let effective = org::apply(policy, name, properties, today, under.config.clone());
    under.annotations = overridden(&effective, text);
    let mut shown = provenance(&effective, owner(repo), version, note.as_deref());
    shown.push_str(&every_key(&org::origins(policy, text, &effective)));
    under.provenance = Some(shown);
    match effective.mode {
        Mode::Enforce => {
            under.unwaivable = effective.hard.clone();
            under.soft = effective.soft.clone();
            under.config = effective.config;
        }
        Mode::Evaluate => under.shadow = Some(effective.config),
    }
    under
}

/// One annotation per key the repository set looser than the organisation's rule.
fn overridden(effective: &Effective, text: &str) -> Vec<Annotation> {
    effective
        .applied
        .iter()
        .filter(|a| a.loosened)
        .map(|a| {
            let line = org::key_line(text, a.key);
            Annotation {
                path: CONFIG_PATH.to_owned(),
                start_line: line,
                end_line: line,
                level: AnnotationLevel::Warning,
                title: format!("{} is set by the organisation", a.key),
                message: format!(
                    "This file asks {}; the organisation's {} rule is {}, so {} applies.",
                    a.asked.as_deref().unwrap_or("less"),
                    enforcement(a.enforcement),
                    a.value,
                    a.value
                ),
            }
        })
        .collect()
}

fn enforcement(e: Enforcement) -> &'static str {
    match e {
        Enforcement::Hard => "hard",
        Enforcement::Soft => "soft",
    }
}

/// The check run's section: the policy's version and each key it governs, with its origin.
fn provenance(effective: &Effective, owner: &str, version: &str, note: Option<&str>) -> String {
    let mut s = format!(
        "\n#### Organisation policy\n\n`{ORG_PATH}` in `{}/{ORG_REPO}`, version `{version}`{}.\n",
        escape::text(owner),
        if effective.mode == Mode::Evaluate {
            " — **evaluate mode**: reported, never failing"
        } else {
            ""
        }
    );
    if let Some(note) = note {
        s.push_str(&format!("\n> {}\n", escape::sentence(note)));
    }
    if effective.applied.is_empty() {
        return s;
    }
    s.push_str("\n| Key | Effective value | Origin |\n|---|---|---|\n");
    for a in &effective.applied {
        let origin = match &a.origin {
            Origin::Organisation => format!("organisation ({})", enforcement(a.enforcement)),
            Origin::Repository => "this repository (stricter than the organisation's)".into(),
            Origin::Exception { owner, until } => format!(
                "this repository, by an organisation exception ({} until {})",
                escape::text(owner),
                escape::text(until)
            ),
        };
        let asked = a
            .asked
            .as_deref()
            .map(|x| format!("; this file asks {}, which is looser", escape::text(x)))
            .filter(|_| a.loosened)
            .unwrap_or_default();
        s.push_str(&format!(
            "| `{}` | {} | {origin}{asked} |\n",
            a.key,
            escape::text(&a.value)
        ));
    }
    s
}

/// The whole effective configuration, folded: each key, its value and where it came from.
fn every_key(origins: &[org::KeyOrigin]) -> String {
    if origins.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "\n<details><summary>Effective configuration ({} keys, with their origin)</summary>\n\n| Key | Value | Origin |\n|---|---|---|\n",
        origins.len()
    );
    for o in origins {
        s.push_str(&format!(
            "| `{}` | {} | {} |\n",
            o.key,
            escape::code(&o.value),
            o.origin
        ));
    }
    s.push_str("\n</details>\n");
    s
}

/// In evaluate mode: the rows the policy would fail that the gate did not.
pub(super) fn would_fail(gate: &Evaluation, shadow: &Evaluation) -> Option<String> {
    let failing: Vec<String> = shadow
        .criteria
        .iter()
        .filter(|c| c.status == Status::Fail)
        .filter(|c| {
            !gate
                .criteria
                .iter()
                .any(|g| g.id == c.id && g.status == Status::Fail)
        })
        .map(|c| c.title.clone())
        .collect();
    (!failing.is_empty()).then(|| {
        format!(
            "Organisation policy (evaluate mode): once enforced, this change would fail {}.",
            failing.join(", ")
        )
    })
}

/// Who may waive a row under the organisation's policy.
pub(super) enum WaiverRule {
    /// The repository decides (`[commands] waive`).
    Repository,
    /// A hard rule governs it: never waived.
    Hard,
    /// A soft rule governs it: only members of this team (none named: nobody).
    Team(Option<String>),
}

/// How `criterion` may be waived in `repo` under its organisation's policy.
pub(super) async fn waiver_rule<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    config: &Config,
    criterion: &str,
) -> Result<WaiverRule, JobError> {
    let OrgState::Policy {
        policy, properties, ..
    } = state(ctx, repo).await?
    else {
        return Ok(WaiverRule::Repository);
    };
    let name = repo.name.0.split('/').nth(1).unwrap_or_default();
    let today = crate::clock::today(ctx.now);
    let effective = org::apply(&policy, name, &properties, today, config.clone());
    if effective.mode == Mode::Evaluate {
        return Ok(WaiverRule::Repository);
    }
    Ok(if effective.hard.iter().any(|h| h == criterion) {
        WaiverRule::Hard
    } else if effective.soft.iter().any(|s| s == criterion) {
        WaiverRule::Team(policy.waive_team.clone())
    } else {
        WaiverRule::Repository
    })
}

/// A config file's bytes as the organisation's policy makes them: over its defaults, under
/// its floors and locks (what baselines are measured by, as changes are judged by it).
pub(super) async fn effective_config<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    bytes: Vec<u8>,
) -> Result<Result<Config, String>, JobError> {
    let state = state(ctx, repo).await?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Ok(parse_config(&state, bytes).map(|c| under(ctx.now, repo, &state, &text, c).config))
}
