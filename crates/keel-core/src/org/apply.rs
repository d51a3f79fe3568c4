//! A repository's config under its organisation's policy: defaults under it, floors and locks
//! over it, each key by its own strict direction.

use super::{Applied, Effective, Enforcement, Floor, Locked, OrgPolicy, Origin, Rule, Scope};
use crate::config::{
    ChecksConfig, Config, ConfigError, CoverageConfig, Criterion, HygieneConfig, Level, OnSkip,
    SecurityConfig,
};
use crate::glob::PathGlobs;
use crate::units::Percent;

/// The repository's file with the organisation's `[defaults]` under it: every key the file
/// sets wins (section by section, key by key). Errors are the repository file's own first.
pub fn with_defaults(policy: &OrgPolicy, path: &str, text: &str) -> Result<Config, ConfigError> {
    let own = Config::parse(path, text)?;
    if policy.defaults.is_empty() {
        return Ok(own);
    }
    let theirs: toml::Table = toml::from_str(text).unwrap_or_default();
    let mut merged = policy.defaults.clone();
    for (section, value) in theirs {
        match (merged.get_mut(&section), value) {
            (Some(toml::Value::Table(mine)), toml::Value::Table(theirs)) => {
                for (key, value) in theirs {
                    mine.insert(key, value);
                }
            }
            (_, value) => {
                merged.insert(section, value);
            }
        }
    }
    let text = toml::to_string(&merged).unwrap_or_default();
    Config::parse(&format!("{path} over the organisation's [defaults]"), &text)
}

/// Whether a glob of `patterns` matches repository `name` (without the owner), ignoring
/// case as GitHub does for repository names.
fn names(patterns: &[String], name: &str) -> bool {
    let lower: Vec<String> = patterns.iter().map(|p| p.to_ascii_lowercase()).collect();
    PathGlobs::new(lower).is_ok_and(|g| !g.is_empty() && g.is_match(&name.to_ascii_lowercase()))
}

/// The scopes that select a repository.
fn scopes<'p>(policy: &'p OrgPolicy, name: &str, properties: &super::Properties) -> Vec<&'p Scope> {
    policy
        .scope
        .iter()
        .filter(|s| {
            let by_name = s.repos.is_empty() || names(&s.repos, name);
            let by_property = s
                .properties
                .iter()
                .all(|(k, v)| properties.get(k).is_some_and(|have| have.contains(v)));
            by_name && by_property && !(s.repos.is_empty() && s.properties.is_empty())
        })
        .collect()
}

/// The stricter of two rules by `stricter(a, b)` (true: `a` is stricter); the harder
/// enforcement of the two holds.
fn strictest<T: Clone>(
    a: &Option<Rule<T>>,
    b: &Option<Rule<T>>,
    stricter: impl Fn(&T, &T) -> bool,
) -> Option<Rule<T>> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let mut won = if stricter(&b.value, &a.value) {
                b.clone()
            } else {
                a.clone()
            };
            won.enforcement = harder(a.enforcement, b.enforcement);
            Some(won)
        }
        (Some(r), None) | (None, Some(r)) => Some(r.clone()),
        (None, None) => None,
    }
}

/// How much a level counts: off, advisory, required.
fn rank(level: Level) -> u8 {
    match level {
        Level::Off => 0,
        Level::Advisory => 1,
        Level::Required => 2,
    }
}

/// Hard when either is.
fn harder(a: Enforcement, b: Enforcement) -> Enforcement {
    if a == Enforcement::Hard || b == Enforcement::Hard {
        Enforcement::Hard
    } else {
        Enforcement::Soft
    }
}

/// Two list rules made one by `join`, the harder enforcement holding.
fn combine(
    a: &Option<Rule<Vec<String>>>,
    b: &Option<Rule<Vec<String>>>,
    join: impl Fn(&[String], &[String]) -> Vec<String>,
) -> Option<Rule<Vec<String>>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Rule {
            value: join(&a.value, &b.value),
            enforcement: harder(a.enforcement, b.enforcement),
        }),
        (a, b) => a.clone().or_else(|| b.clone()),
    }
}

fn higher(a: &Percent, b: &Percent) -> bool {
    a.0 > b.0
}
fn lower(a: &Percent, b: &Percent) -> bool {
    a.0 < b.0
}

/// The global floor with every selected scope's added, key by key, the strictest winning.
fn combined_floor(policy: &OrgPolicy, scopes: &[&Scope]) -> Floor {
    let mut f = policy.floor.clone();
    for s in scopes {
        let c = &s.floor;
        f.coverage.min_total = strictest(&f.coverage.min_total, &c.coverage.min_total, higher);
        f.coverage.min_patch = strictest(&f.coverage.min_patch, &c.coverage.min_patch, higher);
        f.coverage.max_drop = strictest(&f.coverage.max_drop, &c.coverage.max_drop, lower);
        // Both lists allow: the globs they share.
        f.coverage.ignore = combine(&f.coverage.ignore, &c.coverage.ignore, subset);
        f.security.fail_on = strictest(&f.security.fail_on, &c.security.fail_on, |a, b| a < b);
        f.performance.max_regression = strictest(
            &f.performance.max_regression,
            &c.performance.max_regression,
            lower,
        );
        f.hygiene.max_changed_lines = strictest(
            &f.hygiene.max_changed_lines,
            &c.hygiene.max_changed_lines,
            |a, b| a < b,
        );
        f.hygiene.require_linked_issue = strictest(
            &f.hygiene.require_linked_issue,
            &c.hygiene.require_linked_issue,
            |a, b| *a && !*b,
        );
        // Both lists require: every check either names.
        f.checks.required = combine(&f.checks.required, &c.checks.required, |a, b| {
            let mut value = a.to_vec();
            value.extend(b.iter().filter(|n| !a.contains(n)).cloned());
            value
        });
    }
    f
}

fn combined_locks(policy: &OrgPolicy, scopes: &[&Scope]) -> Locked {
    let mut l = policy.locked.clone();
    for s in scopes {
        // A scope adds to the global locks: the stricter value and the harder enforcement.
        let t = &s.locked;
        l.level = strictest(&l.level, &t.level, |a, b| {
            *a == Level::Required && *b != Level::Required
        });
        l.waivers = strictest(&l.waivers, &t.waivers, |a, b| !*a && *b);
        l.on_skip = strictest(&l.on_skip, &t.on_skip, |a, b| {
            *a == OnSkip::Fail && *b != OnSkip::Fail
        });
        l.survive_pushes = strictest(&l.survive_pushes, &t.survive_pushes, |a, b| !*a && *b);
    }
    l
}

/// What applying one key needs: the policy's exceptions for this repository, and the output.
struct Run<'a> {
    name: &'a str,
    today: chrono::NaiveDate,
    policy: &'a OrgPolicy,
    out: Effective,
}

impl Run<'_> {
    /// The live exception lifting `key`, if any.
    fn exception(&self, key: &str) -> Option<Origin> {
        self.policy
            .exception
            .iter()
            .find(|e| {
                e.until.0 >= self.today
                    && e.keys.iter().any(|k| k == key)
                    && names(&e.repos, self.name)
            })
            .map(|e| Origin::Exception {
                owner: e.owner.clone(),
                until: e.until.to_string(),
            })
    }

    fn record(&mut self, applied: Applied) {
        if let Some(id) = &applied.criterion
            && !matches!(applied.origin, Origin::Exception { .. })
        {
            match applied.enforcement {
                Enforcement::Hard => self.out.hard.push(id.clone()),
                Enforcement::Soft => self.out.soft.push(id.clone()),
            }
        }
        self.out.applied.push(applied);
    }

    /// A threshold floor on an optional criterion: the repository's value where it is at
    /// least as strict, else the floor's (a looser value is overridden and said so).
    fn threshold<T: Clone + PartialEq>(
        &mut self,
        key: Key<'_, T>,
        slot: &mut Option<Criterion<T>>,
        stricter_or_same: impl Fn(&T, &T) -> bool,
        show: impl Fn(&T) -> String,
    ) {
        let Key {
            key,
            criterion,
            rule,
            level_lock,
        } = key;
        let Some(rule) = rule else { return };
        if let Some(origin) = self.exception(key) {
            self.record(Applied {
                key,
                criterion: Some(criterion.to_owned()),
                value: slot
                    .as_ref()
                    .map_or_else(|| "—".to_owned(), |c| show(&c.threshold)),
                asked: None,
                loosened: false,
                origin,
                enforcement: rule.enforcement,
            });
            return;
        }
        let level = level_lock.unwrap_or(Level::Required);
        let (value, asked, loosened, origin) = match slot.as_mut() {
            Some(c)
                if stricter_or_same(&c.threshold, &rule.value) && rank(c.level) >= rank(level) =>
            {
                (c.threshold.clone(), None, false, Origin::Repository)
            }
            Some(c) => {
                let asked = format!("{} ({})", show(&c.threshold), c.level.as_str());
                let threshold = if stricter_or_same(&c.threshold, &rule.value) {
                    c.threshold.clone()
                } else {
                    rule.value.clone()
                };
                c.threshold = threshold.clone();
                if rank(c.level) < rank(level) {
                    c.level = level;
                }
                (threshold, Some(asked), true, Origin::Organisation)
            }
            None => {
                *slot = Some(Criterion {
                    threshold: rule.value.clone(),
                    level,
                    why: None,
                });
                (rule.value.clone(), None, false, Origin::Organisation)
            }
        };
        self.record(Applied {
            key,
            criterion: Some(criterion.to_owned()),
            value: show(&value),
            asked,
            loosened,
            origin,
            enforcement: rule.enforcement,
        });
    }
}

/// A floor key: its name, the row it governs, its rule, and the locked level.
struct Key<'r, T> {
    key: &'static str,
    criterion: String,
    rule: &'r Option<Rule<T>>,
    level_lock: Option<Level>,
}

fn percent(p: &Percent) -> String {
    format!("{}%", p.0)
}

/// Applies `policy` to repository `name` (without the owner) with custom `properties`, on
/// `today`, over its `config` (already read over the `[defaults]`). A scope selecting on a
/// property selects a repository whose property holds that value (one of a multi-select's).
pub fn apply(
    policy: &OrgPolicy,
    name: &str,
    properties: &super::Properties,
    today: chrono::NaiveDate,
    mut config: Config,
) -> Effective {
    let selected = scopes(policy, name, properties);
    let floor = combined_floor(policy, &selected);
    let locked = combined_locks(policy, &selected);
    let level_lock = locked.level.as_ref().map(|r| r.value);
    let mut run = Run {
        name,
        today,
        policy,
        out: Effective {
            config: Config::default(),
            applied: Vec::new(),
            hard: Vec::new(),
            soft: Vec::new(),
            mode: policy.enforcement,
        },
    };
    let cov = &floor.coverage;
    if cov.min_total.is_some() || cov.min_patch.is_some() || cov.max_drop.is_some() {
        let c = config.coverage.get_or_insert_with(CoverageConfig::default);
        let at_least = |a: &Percent, b: &Percent| a.0 >= b.0;
        let at_most = |a: &Percent, b: &Percent| a.0 <= b.0;
        let key = |key, criterion: &str, rule| Key {
            key,
            criterion: criterion.to_owned(),
            rule,
            level_lock,
        };
        run.threshold(
            key("coverage.min_total", "coverage.total", &cov.min_total),
            &mut c.min_total,
            at_least,
            percent,
        );
        run.threshold(
            key("coverage.min_patch", "coverage.patch", &cov.min_patch),
            &mut c.min_patch,
            at_least,
            percent,
        );
        run.threshold(
            key("coverage.max_drop", "coverage.drop", &cov.max_drop),
            &mut c.max_drop,
            at_most,
            percent,
        );
    }
    if let Some(rule) = &cov.ignore
        && run.exception("coverage.ignore").is_none()
        && let Some(c) = config.coverage.as_mut()
    {
        let asked: Vec<String> = c.ignore.patterns().to_vec();
        let kept: Vec<String> = asked
            .iter()
            .filter(|g| rule.value.contains(g))
            .cloned()
            .collect();
        let loosened = kept.len() < asked.len();
        if loosened {
            c.ignore = PathGlobs::new(kept.clone()).unwrap_or_default();
        }
        run.record(Applied {
            key: "coverage.ignore",
            criterion: None,
            value: format!("[{}]", kept.join(", ")),
            asked: loosened.then(|| format!("[{}]", asked.join(", "))),
            loosened,
            origin: if loosened {
                Origin::Organisation
            } else {
                Origin::Repository
            },
            enforcement: rule.enforcement,
        });
    }
    if let Some(rule) = &floor.security.fail_on {
        let s = config.security.get_or_insert_with(|| {
            toml::from_str::<SecurityConfig>("").expect("an empty [security] is valid")
        });
        let rule = Some(rule.clone());
        let key = Key {
            key: "security.fail_on",
            criterion: "security.new_findings".into(),
            rule: &rule,
            level_lock,
        };
        run.threshold(
            key,
            &mut s.fail_on,
            |a, b| a <= b,
            |v| v.as_str().to_owned(),
        );
    }
    if let Some(rule) = &floor.performance.max_regression
        && run.exception("performance.max_regression").is_none()
        && let Some(p) = config.performance.as_mut()
    {
        for budget in &mut p.budget {
            let mut slot = budget.max_regression.map(|threshold| Criterion {
                threshold,
                level: budget.level,
                why: None,
            });
            let key = Key {
                key: "performance.max_regression",
                criterion: format!("performance.{}", budget.benchmark),
                rule: &Some(rule.clone()),
                level_lock,
            };
            run.threshold(key, &mut slot, |a, b| a.0 <= b.0, percent);
            if let Some(c) = slot {
                budget.max_regression = Some(c.threshold);
                budget.level = c.level;
            }
        }
    }
    let hy = &floor.hygiene;
    if hy.max_changed_lines.is_some() || hy.require_linked_issue.is_some() {
        let h = config.hygiene.get_or_insert_with(HygieneConfig::default);
        let size = Key {
            key: "hygiene.max_changed_lines",
            criterion: "hygiene.size".into(),
            rule: &hy.max_changed_lines,
            level_lock,
        };
        run.threshold(
            size,
            &mut h.max_changed_lines,
            |a, b| a <= b,
            |v| format!("{v} {}", if *v == 1 { "line" } else { "lines" }),
        );
        let issue = Key {
            key: "hygiene.require_linked_issue",
            criterion: "hygiene.linked_issue".into(),
            rule: &hy.require_linked_issue,
            level_lock,
        };
        run.threshold(
            issue,
            &mut h.require_linked_issue,
            |a, b| *a || !*b,
            |v| v.to_string(),
        );
    }
    if let Some(rule) = &floor.checks.required
        && run.exception("checks.required").is_none()
    {
        let c = config.checks.get_or_insert_with(ChecksConfig::default);
        let missing: Vec<String> = rule
            .value
            .iter()
            .filter(|n| !c.required.contains(n))
            .cloned()
            .collect();
        let loosened = !missing.is_empty() || c.level != Level::Required;
        let asked = loosened.then(|| format!("[{}] ({})", c.required.join(", "), c.level.as_str()));
        c.required.extend(missing);
        c.level = level_lock.unwrap_or(Level::Required);
        for name in &rule.value {
            run.record(Applied {
                key: "checks.required",
                criterion: Some(format!("checks.{name}")),
                value: name.clone(),
                asked: asked.clone(),
                loosened,
                origin: Origin::Organisation,
                enforcement: rule.enforcement,
            });
        }
    }
    if let Some(rule) = &locked.waivers
        && run.exception("locked.waivers").is_none()
    {
        let commands = config.commands.get_or_insert_with(Default::default);
        let loosened = commands.waivers && !rule.value;
        let asked = (commands.waivers != rule.value).then(|| commands.waivers.to_string());
        commands.waivers = rule.value;
        run.record(Applied {
            key: "locked.waivers",
            criterion: None,
            value: rule.value.to_string(),
            asked,
            loosened,
            origin: Origin::Organisation,
            enforcement: rule.enforcement,
        });
    }
    if let Some(rule) = &locked.on_skip
        && run.exception("locked.on_skip").is_none()
    {
        let asked = (config.on_skip != Some(rule.value))
            .then(|| config.on_skip.map_or("unset", |o| o.as_str()).to_owned());
        config.on_skip = Some(rule.value);
        run.record(Applied {
            key: "locked.on_skip",
            criterion: None,
            value: rule.value.as_str().to_owned(),
            loosened: asked.is_some(),
            asked,
            origin: Origin::Organisation,
            enforcement: rule.enforcement,
        });
    }
    if let Some(rule) = &locked.survive_pushes
        && run.exception("locked.survive_pushes").is_none()
    {
        let commands = config.commands.get_or_insert_with(Default::default);
        let asked =
            (commands.survive_pushes != rule.value).then(|| commands.survive_pushes.to_string());
        commands.survive_pushes = rule.value;
        run.record(Applied {
            key: "locked.survive_pushes",
            criterion: None,
            value: rule.value.to_string(),
            loosened: asked.is_some() && !rule.value,
            asked,
            origin: Origin::Organisation,
            enforcement: Enforcement::Hard,
        });
    }
    commands_floor(&policy.floor.commands, &selected, &mut config, &mut run);
    if run.out.applied.iter().any(|a| a.criterion.is_some()) {
        govern_escapes(policy, &mut config, &mut run);
    }
    run.out.config = config;
    run.out
}

mod escapes;
use escapes::{commands_floor, govern_escapes, subset};
