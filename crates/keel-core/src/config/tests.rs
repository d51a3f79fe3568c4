use super::*;
use crate::report::sarif::Severity;
use crate::units::Dimension;

fn err(text: &str) -> Diagnostic {
    Config::parse(".github/keel.toml", text).unwrap_err().0
}

/// The example with its commented-out keys and tables switched on (`# key = …`, `# [table]`).
fn example_in_full() -> String {
    let text = include_str!("../../../../keel.example.toml");
    text.lines()
        .map(|l| {
            let rest = l.strip_prefix("# ").unwrap_or(l);
            let key = rest.split(" = ").next().unwrap_or("");
            let is_key = rest.contains(" = ")
                && !key.is_empty()
                && key.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            if l.starts_with("# ") && (rest.starts_with('[') || is_key) {
                rest
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_example_starts_from_a_preset_and_everything_else_is_commented_out() {
    let text = include_str!("../../../../keel.example.toml");
    let active: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert_eq!(active, ["extends = \"keel:recommended\""]);
    let as_is = Config::parse("keel.example.toml", text).unwrap();
    assert_eq!(
        Config {
            extends: None,
            ..as_is
        },
        Config::parse("recommended", Preset::Recommended.text()).unwrap()
    );
}

#[test]
fn the_commented_example_parses_with_every_section() {
    let c = Config::parse("keel.example.toml", &example_in_full()).unwrap();
    let cov = c.coverage.as_ref().unwrap();
    assert_eq!(cov.min_total, Some(Criterion::required(Percent(80.0))));
    let patch = cov.min_patch.as_ref().unwrap();
    assert_eq!(
        (patch.threshold, patch.level),
        (Percent(90.0), Level::Required)
    );
    assert!(patch.why.as_deref().unwrap().contains("incidents"));
    assert_eq!(cov.max_drop.as_ref().unwrap().level, Level::Advisory);
    assert!(cov.ignore.is_match("src/generated/x.py"));
    let sec = c.security.as_ref().unwrap();
    assert_eq!(sec.fail_on.as_ref().unwrap().threshold, Severity::High);
    let budgets = &c.performance.as_ref().unwrap().budget;
    assert_eq!(budgets[0].max.unwrap().value, 250e6);
    assert_eq!(budgets[0].max_regression, Some(Percent(5.0)));
    assert!(budgets[0].matcher.is_match("parse/lcov/100MB"));
    assert_eq!(
        (budgets[1].direction, budgets[1].min.unwrap().dimension),
        (Direction::Bigger, Dimension::Plain)
    );
    let h = c.hygiene.as_ref().unwrap();
    assert!(
        h.title_pattern
            .as_ref()
            .unwrap()
            .threshold
            .0
            .is_match("feat(core): x")
    );
    assert!(h.tests_with_src.as_ref().unwrap().src.is_match("src/a.rs"));
    assert!(
        !h.tests_with_src
            .as_ref()
            .unwrap()
            .src
            .is_match("src/bin/a.rs")
    );
    assert_eq!(c.checks.unwrap().required, ["build", "lint"]);
    let reports = c.reports.unwrap();
    assert_eq!(
        (reports.artifact_patterns(), reports.workflow_files()),
        (vec!["keel-reports".to_owned()], vec!["ci.yml".to_owned()])
    );
    let labels = c.labels.unwrap();
    assert_eq!(
        labels.owned().collect::<Vec<_>>(),
        ["definition of done: met", "definition of done: not met"]
    );
    let roadmap = c.roadmap.unwrap();
    assert_eq!(roadmap.require_link.unwrap().level, Level::Advisory);
    let item = &roadmap.items[0];
    assert_eq!(
        (item.id.0.as_str(), item.issues.as_slice()),
        ("R-12", &[34, 35][..])
    );
    assert_eq!(item.hypothesis.as_ref().unwrap().amount, "15%");
    let debt = c.debt.unwrap();
    assert_eq!(
        (debt.capacity_target, debt.capacity_unit),
        (Some(0.2), CapacityUnit::Prs)
    );
    assert_eq!(debt.labels.added_color.0, "d93f0b");
    assert_eq!(debt.items[0].cost_per_month, Some(1200.0));
    let summary = c.summary.unwrap();
    assert_eq!(summary.timezone.0.to_string(), "Europe/Berlin");
    assert_eq!(
        (summary.fallback, summary.close_previous),
        (Fallback::Merges, true)
    );
}

#[test]
fn reports_default_to_the_keel_reports_artifact_and_reject_unknown_keys() {
    let c = Config::parse("k", "[reports]\nworkflow = \"ci.yml\"\n").unwrap();
    assert_eq!(c.reports.unwrap().artifact_patterns(), ["keel-reports"]);
    let e = err("[reports]\nartifact_name = \"x\"\n");
    assert_eq!(e.line, 2, "{e}");
    assert!(e.to_string().contains("artifact"), "{e}");
}

#[test]
fn an_empty_file_is_a_config_with_nothing_to_check() {
    assert_eq!(Config::parse("k", "").unwrap(), Config::default());
}

#[test]
fn unknown_keys_name_the_nearest_valid_key_with_line_and_column() {
    let d = err("[coverage]\nmin_totl = 80\n");
    assert_eq!((d.line, d.column), (2, 1));
    assert!(
        d.message.starts_with("unknown field `min_totl`"),
        "{}",
        d.message
    );
    assert!(
        d.message.ends_with("did you mean `min_total`?"),
        "{}",
        d.message
    );
    assert!(
        err("[coverge]\n")
            .message
            .ends_with("did you mean `coverage`?")
    );
}

#[test]
fn bad_values_point_at_the_value() {
    let d = err("[coverage]\nmin_total = \"eighty\"\n");
    assert_eq!(
        (d.path.as_str(), d.line, d.column),
        (".github/keel.toml", 2, 13)
    );
    assert!(
        d.message.contains("`eighty` is not a percentage"),
        "{}",
        d.message
    );
    let d = err("[coverage]\nmin_patch = 120\n");
    assert!(d.message.contains("between 0 and 100"), "{}", d.message);
    let d = err("[hygiene]\ntitle_pattern = \"(unclosed\"\n");
    assert_eq!(d.line, 2);
    assert!(
        d.message.contains("invalid regular expression `(unclosed`"),
        "{}",
        d.message
    );
    let d = err("[security]\nfail_on = \"severe\"\n");
    assert!(
        d.message.contains("unknown variant `severe`"),
        "{}",
        d.message
    );
    let d = err("[coverage]\nmin_total = { threshold = 80, level = \"mandatory\" }\n");
    assert!(d.message.contains("`required`"), "{}", d.message);
    let d = err("[coverage]\nignore = [\"src/[\"]\n");
    assert!(d.message.contains("invalid glob"), "{}", d.message);
}

#[test]
fn a_budget_without_a_limit_or_with_a_bad_unit_is_an_error() {
    let d = err("[performance]\n[[performance.budget]]\nbenchmark = \"x\"\n");
    assert!(d.message.contains("sets no limit"), "{}", d.message);
    assert_eq!(d.line, 2);
    let d = err("[[performance.budget]]\nbenchmark = \"x\"\nmax = \"10 parsecs\"\n");
    assert!(
        d.message.contains("unknown unit `parsecs`"),
        "{}",
        d.message
    );
    assert_eq!((d.line, d.column), (3, 7));
}

#[test]
fn the_rendered_error_shows_a_caret_under_the_column() {
    let d = err("[coverage]\nmin_total = true\n");
    let shown = d.to_string();
    assert!(shown.starts_with(".github/keel.toml:2:13: "), "{shown}");
    assert!(
        shown.ends_with("2 | min_total = true\n  |             ^"),
        "{shown}"
    );
}

#[test]
fn oversized_configs_are_refused() {
    let big = format!("# {}\n", "x".repeat(2 << 20));
    assert!(err(&big).message.contains("over the limit"));
}

#[test]
fn the_json_schema_is_draft_07_and_closed() {
    let schema = Config::json_schema();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(schema["additionalProperties"], false);
    let text = schema.to_string();
    assert!(
        text.contains("min_patch")
            && text.contains("max_regression")
            && text.contains("tests_with_src")
    );
    insta::assert_json_snapshot!("config_schema", schema);
}

const ROADMAP: &str = r#"
[roadmap]
require_link = true

[[roadmap.items]]
id = "R-12"
title = "One-page checkout"
hypothesis = "We believe a one-page checkout will reduce cart abandonment by 15%"
metric = "cart abandonment"
target = "-15%"
owner = "@alice"
status = "active"
paths = ["src/checkout/**"]
labels = ["checkout"]
issues = [34]

[debt]
capacity_target = 0.2

[[debt.items]]
id = "DEBT-7"
title = "Legacy payment adapter"
slows_delivery_days = 2
paths = ["src/payments/legacy/**"]
"#;

#[test]
fn roadmap_items_and_the_debt_register_parse_with_their_hypothesis_in_parts() {
    let c = Config::parse("keel.toml", ROADMAP).unwrap();
    let roadmap = c.roadmap.unwrap();
    let item = &roadmap.items[0];
    let h = item.hypothesis.as_ref().unwrap();
    assert_eq!(
        (h.change.as_str(), h.effect.as_str(), h.amount.as_str()),
        ("a one-page checkout", "reduce cart abandonment", "15%")
    );
    assert!(item.paths.is_match("src/checkout/cart.rs"));
    assert_eq!(item.status, ItemStatus::Active);
    let debt = c.debt.unwrap();
    assert_eq!(debt.markers, ["TODO", "FIXME", "HACK", "XXX"]);
    assert_eq!(debt.labels.reduced, "debt: reduced");
    assert_eq!(debt.items[0].slows_delivery_days, Some(2.0));
}

#[test]
fn the_measurable_forms_teams_write_are_hypotheses() {
    let cases = [
        (
            "We believe a one-page checkout will reduce cart abandonment by 15%",
            "reduce cart abandonment",
            "15%",
        ),
        (
            "We believe free shipping will raise conversion from 2.8% to 3.2%",
            "raise conversion",
            "from 2.8% to 3.2%",
        ),
        (
            "We believe free shipping will raise conversion to 3.2%.",
            "raise conversion",
            "to 3.2%",
        ),
        (
            "We believe caching will cut page load time by half",
            "cut page load time",
            "half",
        ),
        (
            "We believe SSO will unlock 3 enterprise deals",
            "unlock 3 enterprise deals",
            "3 enterprise deals",
        ),
        (
            "we believe faster CI will shorten lead time to merge by 2 days",
            "shorten lead time to merge",
            "2 days",
        ),
    ];
    for (text, effect, amount) in cases {
        let h = Hypothesis::parse(text);
        assert_eq!(h.problem, None, "{text}");
        assert_eq!(
            (h.effect.as_str(), h.amount.as_str()),
            (effect, amount),
            "{text}"
        );
    }
}

#[test]
fn a_vague_hypothesis_is_a_warning_on_its_item_that_says_what_is_missing() {
    let cases = [
        ("Checkout will be better", "must start with \"We believe\""),
        (
            "We believe checkout matters",
            "the metric it moves is missing",
        ),
        (
            "We believe a new checkout will reduce abandonment",
            "the target is missing",
        ),
        (
            "We believe a new checkout will reduce abandonment by a lot",
            "the target \"a lot\" is not measurable",
        ),
        ("We believe x will help by 5%", "does not name a metric"),
        (
            "We believe x will cut churn from a lot to a little",
            "is not measurable",
        ),
    ];
    for (hypothesis, expected) in cases {
        let text = format!(
            "[hygiene]\nmax_changed_lines = 400\n[[roadmap.items]]\nid = \"R-1\"\ntitle = \"t\"\nhypothesis = \"{hypothesis}\"\n"
        );
        let config =
            Config::parse(".github/keel.toml", &text).expect("a vague hypothesis is no error");
        let h = config.roadmap.unwrap().items[0].hypothesis.clone().unwrap();
        assert!(
            h.problem.as_deref().unwrap_or("").contains(expected),
            "{hypothesis}: {h:?}"
        );
        let found = Config::validate(".github/keel.toml", &text);
        assert_eq!(found.len(), 1, "{hypothesis}: {found:#?}");
        assert_eq!(found[0].severity, ProblemKind::Warning);
        assert_eq!(
            (found[0].diagnostic.line, found[0].diagnostic.column),
            (6, 15),
            "{hypothesis}"
        );
        assert!(
            found[0]
                .diagnostic
                .message
                .starts_with("roadmap item R-1: ")
        );
    }
}

#[test]
fn item_ids_must_be_findable_and_unique() {
    let e = err("[[debt.items]]\nid = \"legacy\"\ntitle = \"t\"\n");
    assert_eq!(e.line, 2, "{e}");
    assert!(e.message.contains("not an item id"), "{e}");
    let e = err(
        "[[roadmap.items]]\nid = \"R-1\"\ntitle = \"a\"\n[[roadmap.items]]\nid = \"R-1\"\ntitle = \"b\"\n",
    );
    assert_eq!(
        (e.line, e.message.as_str()),
        (5, "item id `R-1` is used twice"),
        "{e}"
    );
    let e = err("[debt]\ncapacity_target = 20\n");
    assert_eq!(e.line, 2, "{e}");
    assert!(e.message.contains("from 0 to 1"), "{e}");
    let e = err("[[roadmap.items]]\nid = \"R-1\"\ntitle = \"a\"\nstatus = \"done\"\n");
    assert_eq!(e.line, 4, "{e}");
    assert!(e.message.contains("shipped"), "{e}");
}

#[test]
fn a_separate_items_file_has_the_same_errors() {
    let items: Vec<RoadmapItem> = Config::parse_items(
        ".github/roadmap.toml",
        "[[items]]\nid = \"R-2\"\ntitle = \"x\"\n",
    )
    .unwrap();
    assert_eq!(items[0].id.0, "R-2");
    let e = Config::parse_items::<DebtItem>(
        ".github/debt.toml",
        "[[items]]\nid = \"D-1\"\ntitle = \"x\"\ncost = 3\n",
    )
    .unwrap_err()
    .0;
    assert_eq!((e.path.as_str(), e.line), (".github/debt.toml", 4), "{e}");
    assert!(e.message.contains("cost_per_month"), "did you mean: {e}");
}

#[test]
fn an_items_file_is_a_toml_file_named_from_the_root_and_never_a_workflow() {
    for file in [".github/roadmap.toml", "plan/debt.toml"] {
        let c = Config::parse("k", &format!("[roadmap]\nfile = \"{file}\"\n")).unwrap();
        assert_eq!(c.roadmap.unwrap().file.as_deref(), Some(file));
    }
    // Each would let a change to the file go unseen, or a change judged by its own config
    // empty a file that is not items.
    for file in [
        ".github/workflows/ci.yml",
        ".github/workflows/items.toml",
        ".github/keel-org.toml",
        "tests/test_auth.py",
        "./plan/roadmap.toml",
        "/plan/roadmap.toml",
        "plan//roadmap.toml",
        "plan/../roadmap.toml",
    ] {
        let e = Config::parse("k", &format!("[debt]\nfile = \"{file}\"\n"))
            .unwrap_err()
            .0;
        assert_eq!(e.line, 2, "{file}: {e}");
        assert!(e.message.contains("cannot hold items"), "{file}: {e}");
    }
}

#[test]
fn the_summary_schedule_and_timezone_are_checked_where_they_are_written() {
    let c = Config::parse(
        "k",
        "[summary]\nschedule = \"30 8 * * FRI\"\ntimezone = \"+01:00\"\n",
    )
    .unwrap();
    let s = c.summary.unwrap();
    assert_eq!(
        (s.schedule.0.as_str(), s.timezone.0),
        ("30 8 * * FRI", crate::week::Zone::Fixed(60))
    );
    assert_eq!(s.environments, ["production"]);
    // Fri 2026-11-27 07:30 UTC is 08:30 in +01:00: due then, and still the last due time a day later.
    let due = chrono::DateTime::parse_from_rfc3339("2026-11-27T07:30:00Z")
        .unwrap()
        .timestamp_millis();
    assert_eq!(
        s.schedule.last_due(due + 86_400_000, s.timezone.0),
        Some(due)
    );
    assert_eq!(
        s.schedule.last_due(due, s.timezone.0),
        Some(due),
        "inclusive"
    );
    assert_eq!(
        s.schedule.next_due(due, s.timezone.0),
        Some(due + 7 * 86_400_000),
        "the next firing is strictly later: a week on"
    );
    assert_eq!(s.schedule.next_due(due - 1, s.timezone.0), Some(due));
    let e = err("[summary]\nschedule = \"every monday\"\n");
    assert_eq!((e.line, e.column), (2, 12), "{e}");
    assert!(e.message.contains("5-field cron"), "{e}");
    let e = err("[summary]\nschedule = \"0 25 * * MON\"\n");
    assert!(e.message.contains("not a valid cron expression"), "{e}");
    let e = err("[summary]\ntimezone = \"Europe/Berlinn\"\n");
    assert_eq!(e.line, 2, "{e}");
    assert!(e.message.contains("is not a timezone"), "{e}");
    let named = Config::parse("k", "[summary]\ntimezone = \"Europe/Berlin\"\n").unwrap();
    assert_eq!(
        named.summary.unwrap().timezone.0.to_string(),
        "Europe/Berlin"
    );
}

fn problems(text: &str) -> Vec<(u32, ProblemKind, String)> {
    Config::validate("keel.toml", text)
        .into_iter()
        .map(|p| (p.diagnostic.line, p.severity, p.diagnostic.message))
        .collect()
}

#[test]
fn validate_reports_every_error_in_line_order() {
    let text = "[coverage]\n\
                min_total = 80\n\
                min_pach = 80\n\
                paths = [\"cov/[.info\"]\n\
                [hygiene]\n\
                max_changed_lines = \"many\"\n\
                title_pattern = \"^feat\\(x\\)\"\n\
                require_linked_issue = 1\n";
    let found = problems(text);
    let lines: Vec<u32> = found.iter().map(|p| p.0).collect();
    assert_eq!(lines, [3, 4, 6, 7, 8], "{found:#?}");
    assert!(found.iter().all(|p| p.1 == ProblemKind::Error));
    assert!(
        found[0].2.contains("did you mean `min_patch`?"),
        "{found:#?}"
    );
    assert!(found[1].2.contains("cov/[.info"), "{found:#?}");
    assert_eq!(
        found[2].2,
        "expected a whole number, found the text \"many\""
    );
    assert!(found[3].2.contains("single quotes"), "{found:#?}");
    assert_eq!(
        found[4].2,
        "expected true or false, found the whole number 1"
    );
}

#[test]
fn a_misspelt_table_is_one_problem_not_one_per_key() {
    let found = problems(
        "[covrage]\nmin_total = 80\nmin_patch = 90\n\n[hygiene]\nmax_changed_lines = 400\n",
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].2.contains("did you mean `coverage`?"));
}

#[test]
fn a_bad_key_that_leaves_its_table_incomplete_is_one_problem() {
    let found = problems(
        "[[roadmap.items]]\nid = 5\ntitle = \"Checkout\"\nhypothesis = \"We believe a one-page checkout will reduce cart abandonment by 15%\"\n",
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, 2);
}

#[test]
fn an_empty_config_is_valid_but_warned_that_nothing_is_checked() {
    for text in [
        "",
        "# nothing yet\n",
        "[labels]\n",
        "[reports]\nartifact = \"r\"\n",
    ] {
        let found = problems(text);
        assert_eq!(found.len(), 1, "{text:?}: {found:#?}");
        assert_eq!(found[0].1, ProblemKind::Warning);
        assert!(found[0].2.starts_with("nothing is checked"));
    }
    assert!(problems("[hygiene]\nmax_changed_lines = 400\n").is_empty());
}

#[test]
fn plain_words_replace_the_librarys() {
    for (library, plain) in [
        (
            "invalid type: string \"x\", expected u64",
            "expected a whole number, found the text \"x\"",
        ),
        (
            "invalid type: integer `3`, expected a boolean",
            "expected true or false, found the whole number 3",
        ),
        (
            "invalid type: sequence, expected a string",
            "expected text in quotes, found a list",
        ),
        (
            "invalid type: map, expected f64",
            "expected a number, found a table",
        ),
        (
            "invalid type: integer `1`, expected a string or a list of strings",
            "expected a path or a list of paths, found the whole number 1",
        ),
        ("missing field `id`", "missing key `id`"),
    ] {
        assert_eq!(super::validate::plain(library), plain);
    }
}

#[test]
fn a_preset_is_read_first_and_the_files_keys_win_key_by_key() {
    let c = Config::parse(
        "keel.toml",
        "extends = \"keel:recommended\"\n[coverage]\npaths = [\"lcov.info\"]\nmin_patch = 95\n[hygiene]\nmax_changed_lines = { threshold = 300, level = \"advisory\" }\n",
    )
    .unwrap();
    let cov = c.coverage.as_ref().unwrap();
    assert_eq!(cov.paths, ["lcov.info"]);
    // Replaced by the file's bare value: required, 95.
    assert_eq!(cov.min_patch, Some(Criterion::required(Percent(95.0))));
    // Kept from the preset: no drop against the base, with its reason.
    let drop = cov.max_drop.as_ref().unwrap();
    assert_eq!(
        (drop.threshold, drop.level),
        (Percent(0.5), Level::Required)
    );
    assert!(
        drop.why
            .as_deref()
            .unwrap()
            .contains("Coverage only goes up")
    );
    assert_eq!(
        c.security
            .as_ref()
            .unwrap()
            .fail_on
            .as_ref()
            .unwrap()
            .threshold,
        Severity::High
    );
    let hygiene = c.hygiene.as_ref().unwrap();
    assert_eq!(hygiene.max_changed_lines.as_ref().unwrap().threshold, 300);
    assert!(
        hygiene.ignore.is_match("Cargo.lock"),
        "the preset's ignore stays"
    );
    // Without `extends`, nothing is added.
    let plain = Config::parse("keel.toml", "[coverage]\nmin_patch = 95\n").unwrap();
    assert_eq!(plain.coverage.unwrap().max_drop, None);
    assert_eq!(plain.security, None);
}

#[test]
fn every_preset_is_a_valid_config_and_strict_is_stricter() {
    for preset in Preset::ALL {
        let c = Config::parse(preset.name(), preset.text()).unwrap();
        assert!(c.coverage.is_some() && c.security.is_some() && c.hygiene.is_some());
        let via =
            Config::parse("keel.toml", &format!("extends = \"{}\"\n", preset.name())).unwrap();
        assert_eq!(
            Config {
                extends: None,
                ..via
            },
            c,
            "{}",
            preset.name()
        );
    }
    let r = Config::parse("r", Preset::Recommended.text()).unwrap();
    let s = Config::parse("s", Preset::Strict.text()).unwrap();
    let patch = |c: &Config| c.coverage.as_ref().unwrap().min_patch.clone().unwrap();
    assert!(patch(&s).threshold > patch(&r).threshold);
    assert_eq!(
        (patch(&r).level, patch(&s).level),
        (Level::Advisory, Level::Required)
    );
    let fail_on = |c: &Config| {
        c.security
            .as_ref()
            .unwrap()
            .fail_on
            .clone()
            .unwrap()
            .threshold
    };
    assert!(
        fail_on(&s) < fail_on(&r),
        "strict fails on lower severities"
    );
    let e = err("extends = \"keel:lenient\"\n");
    assert_eq!((e.line, e.column), (1, 11));
    assert!(e.message.contains("keel:recommended"), "{e}");
    assert!(Config::validate("keel.toml", "extends = \"keel:recommended\"\n").is_empty());
}

#[test]
fn a_criterion_the_file_writes_as_a_table_does_not_inherit_the_presets_level() {
    let c = Config::parse(
        "keel.toml",
        "extends = \"keel:recommended\"\n[coverage]\nmin_patch = { threshold = 90, why = \"tested\" }\n",
    )
    .unwrap();
    let patch = c.coverage.unwrap().min_patch.unwrap();
    assert_eq!(
        (patch.threshold, patch.level),
        (Percent(90.0), Level::Required)
    );
}
