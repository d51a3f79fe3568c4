use super::*;
use crate::units::Dimension;

fn err(text: &str) -> Diagnostic {
    Config::parse(".github/keel.toml", text).unwrap_err().0
}

#[test]
fn the_commented_example_parses_with_every_section() {
    let c = Config::parse(
        "keel.example.toml",
        include_str!("../../../../keel.example.toml"),
    )
    .unwrap();
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
        (reports.artifact.as_str(), reports.workflow.as_deref()),
        ("keel-reports", Some("CI"))
    );
    let labels = c.labels.unwrap();
    assert_eq!(
        labels.owned().collect::<Vec<_>>(),
        ["definition of done: met", "definition of done: not met"]
    );
}

#[test]
fn reports_default_to_the_keel_reports_artifact_and_reject_unknown_keys() {
    let c = Config::parse("k", "[reports]\nworkflow = \"CI\"\n").unwrap();
    assert_eq!(c.reports.unwrap().artifact, "keel-reports");
    let e = err("[reports]\nartifacts = \"x\"\n");
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
