//! What a floor governs besides its own key: the permissions of `/keel` commands, and the
//! keys that would let a repository step around a floor (its exemptions, where a family
//! looks, what it ignores, how an unjudged row counts).

use super::super::{Applied, CommandsFloor, Enforcement, OrgPolicy, Origin, Scope};
use super::Run;
use crate::config::{Config, ExemptConfig, OnSkip};
use crate::glob::PathGlobs;

/// `[floor.commands]` (global, then each scope's): a verb's permission is the highest asked.
pub(super) fn commands_floor(
    global: &CommandsFloor,
    scopes: &[&Scope],
    config: &mut Config,
    run: &mut Run<'_>,
) {
    let floors = std::iter::once(global).chain(scopes.iter().map(|s| &s.floor.commands));
    let commands = config.commands.get_or_insert_with(Default::default);
    for floor in floors {
        let pairs = [
            ("commands.recheck", floor.recheck, &mut commands.recheck),
            ("commands.link", floor.link, &mut commands.link),
            ("commands.debt", floor.debt, &mut commands.debt),
            ("commands.waive", floor.waive, &mut commands.waive),
            ("commands.outcome", floor.outcome, &mut commands.outcome),
        ];
        for (key, org, slot) in pairs {
            let Some(org) = org else { continue };
            let loosened = slot.is_none_or(|p| p < org);
            let asked = slot.map(|p| p.as_str().to_owned()).filter(|_| loosened);
            if loosened {
                *slot = Some(org);
            }
            run.record(Applied {
                key,
                criterion: None,
                value: slot.map_or("", |p| p.as_str()).to_owned(),
                loosened: asked.is_some(),
                asked,
                origin: if loosened {
                    Origin::Organisation
                } else {
                    Origin::Repository
                },
                enforcement: Enforcement::Hard,
            });
        }
    }
}

/// Keys that would let a repository step around its floors: what it exempts, where its
/// criteria look, what it ignores, and how an unjudged row counts. Under a floor, each may
/// only name what Keel's built-in defaults or the organisation's `[defaults]` name.
pub(super) fn govern_escapes(policy: &OrgPolicy, config: &mut Config, run: &mut Run<'_>) {
    let defaults = toml::to_string(&policy.defaults).unwrap_or_default();
    let allowed = Config::parse("[defaults]", &defaults).unwrap_or_default();
    let floored = |id: &str| {
        run.out
            .applied
            .iter()
            .any(|a| a.criterion.as_deref().is_some_and(|c| c.starts_with(id)))
    };
    let (coverage, security, size, paperwork) = (
        floored("coverage."),
        floored("security."),
        floored("hygiene.size"),
        floored("hygiene.") || floored("checks."),
    );
    let mut changes: Vec<(&'static str, Vec<String>, Vec<String>)> = Vec::new();
    let allowed_exempt = allowed.exempt().clone();
    if coverage || security || paperwork || size {
        let e = config.exempt.get_or_insert_with(ExemptConfig::default);
        let kept = subset(e.paths.patterns(), allowed_exempt.paths.patterns());
        if kept.len() < e.paths.patterns().len() {
            changes.push(("exempt.paths", e.paths.patterns().to_vec(), kept.clone()));
            e.paths = PathGlobs::new(kept).unwrap_or_default();
        }
        for (key, list, allowed) in [
            ("exempt.authors", &mut e.authors, &allowed_exempt.authors),
            (
                "exempt.upkeep_types",
                &mut e.upkeep_types,
                &allowed_exempt.upkeep_types,
            ),
            (
                "exempt.upkeep_labels",
                &mut e.upkeep_labels,
                &allowed_exempt.upkeep_labels,
            ),
        ] {
            let kept = subset(list, allowed);
            if kept.len() < list.len() {
                changes.push((key, list.clone(), kept.clone()));
                *list = kept;
            }
        }
    }
    if coverage && let Some(c) = config.coverage.as_mut() {
        let org = allowed.coverage.as_ref();
        let allowed_affects = org.map(|c| c.affects.patterns().to_vec());
        govern_affects(
            "coverage.affects",
            &mut c.affects,
            allowed_affects,
            &mut changes,
        );
        // Which changed files are source, and which are left out: either could hide
        // untested code from the floor. An organisation exception lifts either; an explicit
        // `[floor.coverage.ignore]` (applied before) is the allowance for `ignore`.
        if run.exception("coverage.source").is_none() {
            let allowed_source = org.map(|c| c.source.patterns().to_vec());
            govern_affects(
                "coverage.source",
                &mut c.source,
                allowed_source,
                &mut changes,
            );
        }
        let ignore_floored = run.out.applied.iter().any(|a| a.key == "coverage.ignore");
        if !ignore_floored && run.exception("coverage.ignore").is_none() {
            let allowed_ignore = org
                .map(|c| c.ignore.patterns().to_vec())
                .unwrap_or_default();
            let kept = subset(c.ignore.patterns(), &allowed_ignore);
            if kept.len() < c.ignore.patterns().len() {
                changes.push((
                    "coverage.ignore",
                    c.ignore.patterns().to_vec(),
                    kept.clone(),
                ));
                c.ignore = PathGlobs::new(kept).unwrap_or_default();
            }
        }
    }
    if security && let Some(s) = config.security.as_mut() {
        let org = allowed.security.as_ref();
        let allowed_affects = org.map(|s| s.affects.patterns().to_vec());
        govern_affects(
            "security.affects",
            &mut s.affects,
            allowed_affects,
            &mut changes,
        );
        let allowed_rules = org.map(|s| s.ignore_rules.clone()).unwrap_or_default();
        let kept = subset(&s.ignore_rules, &allowed_rules);
        if kept.len() < s.ignore_rules.len() {
            changes.push((
                "security.ignore_rules",
                s.ignore_rules.clone(),
                kept.clone(),
            ));
            s.ignore_rules = kept;
        }
    }
    if size && let Some(h) = config.hygiene.as_mut() {
        let allowed_ignore = allowed
            .hygiene
            .as_ref()
            .map(|h| h.ignore.patterns().to_vec())
            .unwrap_or_default();
        let kept = subset(h.ignore.patterns(), &allowed_ignore);
        if kept.len() < h.ignore.patterns().len() {
            changes.push(("hygiene.ignore", h.ignore.patterns().to_vec(), kept.clone()));
            h.ignore = PathGlobs::new(kept).unwrap_or_default();
        }
    }
    if config.on_skip == Some(OnSkip::Pass) && allowed.on_skip != Some(OnSkip::Pass) {
        changes.push(("on_skip", vec!["pass".into()], vec!["unset".into()]));
        config.on_skip = None;
    }
    for (key, asked, kept) in changes {
        run.record(Applied {
            key,
            criterion: None,
            value: format!("[{}]", kept.join(", ")),
            asked: Some(format!("[{}]", asked.join(", "))),
            loosened: true,
            origin: Origin::Organisation,
            enforcement: Enforcement::Hard,
        });
    }
}

/// The entries of `asked` that `allowed` names too.
pub(super) fn subset(asked: &[String], allowed: &[String]) -> Vec<String> {
    asked
        .iter()
        .filter(|a| allowed.contains(a))
        .cloned()
        .collect()
}

/// Where a floored family looks (or what it takes for source): every path (the built-in
/// rule), or exactly what the organisation's defaults name.
fn govern_affects(
    key: &'static str,
    affects: &mut PathGlobs,
    allowed: Option<Vec<String>>,
    changes: &mut Vec<(&'static str, Vec<String>, Vec<String>)>,
) {
    let allowed = allowed.unwrap_or_default();
    if !affects.is_empty() && affects.patterns() != allowed.as_slice() {
        changes.push((key, affects.patterns().to_vec(), allowed.clone()));
        *affects = PathGlobs::new(allowed).unwrap_or_default();
    }
}
