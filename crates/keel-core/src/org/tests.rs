//! The organisation merge, table-driven: every key's direction, defaults against floors and
//! locks, scopes, exceptions and their end.

use super::*;
use crate::config::Level;

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
}

fn effective(org: &str, repo: &str, name: &str, props: &[(&str, &str)]) -> Effective {
    let policy = OrgPolicy::parse("keel-org.toml", org).unwrap();
    let config = with_defaults(&policy, ".github/keel.toml", repo).unwrap();
    let props = props
        .iter()
        .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
        .collect();
    apply(&policy, name, &props, today(), config)
}

fn applied<'e>(e: &'e Effective, key: &str) -> &'e Applied {
    e.applied
        .iter()
        .find(|a| a.key == key)
        .unwrap_or_else(|| panic!("{key} not applied: {:#?}", e.applied))
}

#[test]
fn every_floor_key_keeps_the_stricter_value_in_its_own_direction() {
    // (floor, repository, key, effective value, loosened)
    let table = [
        (
            "[floor.coverage]\nmin_total = 80",
            "[coverage]\nmin_total = 60",
            "coverage.min_total",
            "80%",
            true,
        ),
        (
            "[floor.coverage]\nmin_total = 80",
            "[coverage]\nmin_total = 90",
            "coverage.min_total",
            "90%",
            false,
        ),
        (
            "[floor.coverage]\nmin_total = 80",
            "",
            "coverage.min_total",
            "80%",
            false,
        ),
        (
            "[floor.coverage]\nmin_patch = 70",
            "[coverage]\nmin_patch = { threshold = 95, level = \"advisory\" }",
            "coverage.min_patch",
            "95%",
            true,
        ),
        (
            "[floor.coverage]\nmax_drop = 1",
            "[coverage]\nmax_drop = 5",
            "coverage.max_drop",
            "1%",
            true,
        ),
        (
            "[floor.coverage]\nmax_drop = 1",
            "[coverage]\nmax_drop = 0.5",
            "coverage.max_drop",
            "0.5%",
            false,
        ),
        (
            "[floor.security]\nfail_on = \"high\"",
            "[security]\nfail_on = \"critical\"",
            "security.fail_on",
            "high",
            true,
        ),
        (
            "[floor.security]\nfail_on = \"high\"",
            "[security]\nfail_on = \"medium\"",
            "security.fail_on",
            "medium",
            false,
        ),
        (
            "[floor.hygiene]\nmax_changed_lines = 400",
            "[hygiene]\nmax_changed_lines = 2000",
            "hygiene.max_changed_lines",
            "400 lines",
            true,
        ),
        (
            "[floor.hygiene]\nmax_changed_lines = 400",
            "[hygiene]\nmax_changed_lines = 100",
            "hygiene.max_changed_lines",
            "100 lines",
            false,
        ),
        (
            "[floor.hygiene]\nrequire_linked_issue = true",
            "[hygiene]\nrequire_linked_issue = false",
            "hygiene.require_linked_issue",
            "true",
            true,
        ),
        (
            "[floor.checks]\nrequired = [\"build\"]",
            "[checks]\nrequired = [\"lint\"]",
            "checks.required",
            "build",
            true,
        ),
        (
            "[floor.checks]\nrequired = [\"build\"]",
            "[checks]\nrequired = [\"lint\", \"build\"]",
            "checks.required",
            "build",
            false,
        ),
        (
            "[floor.coverage]\nignore = [\"gen/**\"]",
            "[coverage]\nignore = [\"gen/**\", \"src/**\"]",
            "coverage.ignore",
            "[gen/**]",
            true,
        ),
        (
            "[floor.coverage]\nignore = [\"gen/**\"]",
            "[coverage]\nignore = [\"gen/**\"]",
            "coverage.ignore",
            "[gen/**]",
            false,
        ),
        (
            "[locked]\nwaivers = false",
            "[commands]\nwaivers = true",
            "locked.waivers",
            "false",
            true,
        ),
        (
            "[locked]\non_skip = \"fail\"",
            "on_skip = \"pass\"",
            "locked.on_skip",
            "fail",
            true,
        ),
    ];
    for (org, repo, key, value, loosened) in table {
        let e = effective(org, repo, "shop", &[]);
        let a = applied(&e, key);
        assert_eq!(
            (a.value.as_str(), a.loosened),
            (value, loosened),
            "{org} / {repo}"
        );
    }
}

#[test]
fn the_effective_config_carries_the_winning_values_and_the_hard_rows() {
    let e = effective(
        "[floor.coverage]\nmin_total = 80\nmin_patch = { value = 70, enforcement = \"soft\" }\n\
         [floor.checks]\nrequired = [\"build\"]\n[locked]\nwaivers = false\n",
        "[coverage]\nmin_total = { threshold = 60, level = \"off\" }\n[checks]\nrequired = [\"lint\"]\nlevel = \"advisory\"\n",
        "shop",
        &[],
    );
    let c = e.config.coverage.as_ref().unwrap();
    let total = c.min_total.as_ref().unwrap();
    assert_eq!((total.threshold.0, total.level), (80.0, Level::Required));
    assert_eq!(c.min_patch.as_ref().unwrap().threshold.0, 70.0);
    let checks = e.config.checks.as_ref().unwrap();
    assert_eq!(checks.required, ["lint", "build"]);
    assert_eq!(checks.level, Level::Required);
    assert!(!e.config.commands.as_ref().unwrap().waivers);
    assert_eq!(e.hard, ["coverage.total", "checks.build"]);
    assert_eq!(e.soft, ["coverage.patch"]);
}

#[test]
fn defaults_apply_where_the_repository_says_nothing_and_floors_over_both() {
    let org =
        "[defaults.coverage]\nmin_total = 85\nmin_patch = 90\n[floor.coverage]\nmin_total = 70\n";
    // Nothing said: the defaults.
    let e = effective(org, "", "shop", &[]);
    let c = e.config.coverage.unwrap();
    assert_eq!(c.min_patch.unwrap().threshold.0, 90.0);
    assert_eq!(c.min_total.unwrap().threshold.0, 85.0);
    // A default may be changed (down to the floor, not below).
    let e = effective(
        org,
        "[coverage]\nmin_patch = 50\nmin_total = 60\n",
        "shop",
        &[],
    );
    let c = e.config.coverage.unwrap();
    assert_eq!(c.min_patch.unwrap().threshold.0, 50.0, "a default, changed");
    assert_eq!(c.min_total.unwrap().threshold.0, 70.0, "the floor holds");
    // The repository's own errors come first, at its own line.
    let policy = OrgPolicy::parse("o", org).unwrap();
    let err =
        with_defaults(&policy, ".github/keel.toml", "[coverage]\nmin_totl = 1\n").unwrap_err();
    assert_eq!(err.0.line, 2);
}

#[test]
fn scopes_add_floors_by_name_or_property_and_exceptions_end_by_themselves() {
    let org = "[floor.coverage]\nmin_total = 70\n\
               [[scope]]\nrepos = [\"payments-*\"]\n[scope.floor.coverage]\nmin_total = 90\n\
               [[scope]]\nproperties = { tier = \"critical\" }\n[scope.locked]\nwaivers = false\n\
               [[exception]]\nrepos = [\"legacy\"]\nkeys = [\"coverage.min_total\"]\nowner = \"@cto\"\nreason = \"rewrite in Q1\"\nuntil = \"2026-12-31\"\n\
               [[exception]]\nrepos = [\"old\"]\nkeys = [\"coverage.min_total\"]\nowner = \"@cto\"\nreason = \"gone\"\nuntil = \"2026-12-01\"\n";
    let repo = "[coverage]\nmin_total = 50\n";
    let total = |e: &Effective| {
        e.config
            .coverage
            .as_ref()
            .unwrap()
            .min_total
            .as_ref()
            .unwrap()
            .threshold
            .0
    };
    assert_eq!(total(&effective(org, repo, "shop", &[])), 70.0);
    assert_eq!(total(&effective(org, repo, "payments-api", &[])), 90.0);
    let critical = effective(org, repo, "shop", &[("tier", "critical")]);
    assert!(!critical.config.commands.unwrap().waivers);
    let legacy = effective(org, repo, "legacy", &[]);
    assert_eq!(total(&legacy), 50.0, "the exception holds until its day");
    assert!(matches!(
        applied(&legacy, "coverage.min_total").origin,
        Origin::Exception { .. }
    ));
    assert!(legacy.hard.is_empty());
    assert_eq!(
        total(&effective(org, repo, "old", &[])),
        70.0,
        "an ended exception lifts nothing"
    );
}

#[test]
fn a_policy_file_with_errors_is_refused_where_they_are() {
    for (text, line) in [
        ("[floor.coverage]\nmin_totl = 80\n", 2),
        (
            "enforcement = \"enforce\"\n[floor.security]\nfail_on = \"severe\"\n",
            3,
        ),
        ("[defaults.coverage]\nmin_total = \"lots\"\n", 1),
    ] {
        let err = OrgPolicy::parse("keel-org.toml", text).unwrap_err();
        assert_eq!(err.line, line, "{text}: {err:?}");
    }
}

#[test]
fn a_key_is_found_on_its_own_line_in_its_section() {
    let text = "on_skip = \"pass\"\n[hygiene]\nmin_total = 1\n[coverage]\npaths = []\nmin_total = 60\n[commands]\nwaivers = true\n";
    assert_eq!(key_line(text, "coverage.min_total"), 6);
    assert_eq!(key_line(text, "locked.waivers"), 8);
    assert_eq!(key_line(text, "locked.on_skip"), 1);
    assert_eq!(
        key_line(text, "coverage.max_drop"),
        4,
        "the section's header"
    );
    assert_eq!(key_line(text, "security.fail_on"), 1);
}

#[test]
fn a_floored_repository_cannot_step_around_its_floor() {
    let org = "[floor.coverage]\nmin_total = 80\n[floor.hygiene]\nmax_changed_lines = 400\n[floor.security]\nfail_on = \"high\"\n";
    let repo = "on_skip = \"pass\"\n[exempt]\npaths = [\"**\", \"**/*.md\"]\nauthors = [\"me\"]\n\
                [coverage]\naffects = [\"nothing/**\"]\n[hygiene]\nignore = [\"**\"]\n\
                [security]\nignore_rules = [\"sql-injection\"]\n";
    let e = effective(org, repo, "shop", &[]);
    let c = &e.config;
    assert_eq!(c.exempt().paths.patterns(), ["**/*.md"]);
    assert!(c.exempt().authors.is_empty());
    assert!(c.coverage.as_ref().unwrap().affects.is_empty());
    assert!(c.hygiene.as_ref().unwrap().ignore.is_empty());
    assert!(c.security.as_ref().unwrap().ignore_rules.is_empty());
    assert_eq!(c.on_skip, None);
    for key in [
        "exempt.paths",
        "exempt.authors",
        "coverage.affects",
        "hygiene.ignore",
        "security.ignore_rules",
        "on_skip",
    ] {
        assert!(applied(&e, key).loosened, "{key}");
    }
    // What the organisation's defaults allow stays.
    let allowing = format!("{org}[defaults.hygiene]\nignore = [\"*.lock\"]\n");
    let e = effective(&allowing, "[hygiene]\nignore = [\"*.lock\"]\n", "shop", &[]);
    assert_eq!(e.config.hygiene.unwrap().ignore.patterns(), ["*.lock"]);
}

#[test]
fn a_repository_cannot_narrow_what_coverage_counts_under_a_floor() {
    let org = "[floor.coverage]\nmin_patch = 80\n";
    // Every file left out, or no changed file taken for source: untested new code unseen.
    let repo = "[coverage]\nsource = [\"nothing/**\"]\nignore = [\"src/**\"]\n";
    let e = effective(org, repo, "shop", &[]);
    let c = e.config.coverage.as_ref().unwrap();
    assert!(c.source.is_empty(), "{:?}", c.source.patterns());
    assert!(c.ignore.is_empty(), "{:?}", c.ignore.patterns());
    assert!(applied(&e, "coverage.source").loosened);
    assert!(applied(&e, "coverage.ignore").loosened);
    // Without a coverage floor, the repository's own choice stands.
    let e = effective(
        "[floor.hygiene]\nmax_changed_lines = 400\n",
        repo,
        "shop",
        &[],
    );
    assert_eq!(e.config.coverage.unwrap().source.patterns(), ["nothing/**"]);
    // What the organisation's defaults name stays.
    let allowing =
        format!("{org}[defaults.coverage]\nignore = [\"src/gen/**\"]\nsource = [\"src/**\"]\n");
    let e = effective(
        &allowing,
        "[coverage]\nignore = [\"src/gen/**\"]\nsource = [\"src/**\"]\n",
        "shop",
        &[],
    );
    let c = e.config.coverage.unwrap();
    assert_eq!(c.ignore.patterns(), ["src/gen/**"]);
    assert_eq!(c.source.patterns(), ["src/**"]);
    // An explicit `[floor.coverage.ignore]` is the allowance, and an exception lifts it.
    let floor_ignore = format!("{org}ignore = [\"vendor/**\"]\n");
    let e = effective(
        &floor_ignore,
        "[coverage]\nignore = [\"vendor/**\"]\n",
        "shop",
        &[],
    );
    assert_eq!(e.config.coverage.unwrap().ignore.patterns(), ["vendor/**"]);
    let excepted = format!(
        "{org}[[exception]]\nrepos = [\"shop\"]\nkeys = [\"coverage.ignore\", \"coverage.source\"]\n\
         owner = \"@cto\"\nreason = \"generated code\"\nuntil = \"2027-01-31\"\n"
    );
    let e = effective(&excepted, repo, "shop", &[]);
    let c = e.config.coverage.unwrap();
    assert_eq!(c.ignore.patterns(), ["src/**"]);
    assert_eq!(c.source.patterns(), ["nothing/**"]);
}

#[test]
fn scopes_match_names_ignoring_case_and_only_tighten_locks() {
    let org = "[locked]\nwaivers = false\n[[scope]]\nrepos = [\"payments-*\"]\n[scope.locked]\nwaivers = true\n[scope.floor.coverage]\nmin_total = 90\n";
    let e = effective(org, "", "Payments-API", &[]);
    assert_eq!(
        e.config.coverage.unwrap().min_total.unwrap().threshold.0,
        90.0
    );
    assert!(
        !e.config.commands.unwrap().waivers,
        "a scope cannot loosen a global lock"
    );
}

#[test]
fn a_performance_floor_caps_every_budgets_regression() {
    let org = "[floor.performance]\nmax_regression = \"5%\"\n";
    let repo = "[performance]\n[[performance.budget]]\nbenchmark = \"parse/*\"\nmax_regression = \"20%\"\n\
                [[performance.budget]]\nbenchmark = \"render\"\nmax_regression = \"2%\"\n\
                [[performance.budget]]\nbenchmark = \"load\"\nmax = \"1s\"\n";
    let e = effective(org, repo, "shop", &[]);
    let got: Vec<Option<f64>> = e
        .config
        .performance
        .as_ref()
        .unwrap()
        .budget
        .iter()
        .map(|b| b.max_regression.map(|p| p.0))
        .collect();
    assert_eq!(got, [Some(5.0), Some(2.0), Some(5.0)]);
    assert_eq!(
        e.hard,
        [
            "performance.parse/*",
            "performance.render",
            "performance.load"
        ]
    );
    assert!(e.applied.iter().filter(|a| a.loosened).count() == 1);
}
