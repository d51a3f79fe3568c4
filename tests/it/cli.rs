//! `keel check` and `keel config` as a user runs them.

use crate::support::{fixture, git, keel, root};
use std::fs;

const DEMO: &[&str] = &[
    "check",
    "--root",
    "examples",
    "--config",
    "examples/.github/keel.toml",
    "--diff",
    "examples/pr.diff",
    "--baseline",
    "examples/baseline.json",
    "--event",
    "examples/event.json",
];

#[test]
fn the_readme_demo_passes_with_warnings_and_exit_0() {
    let run = keel(&root(), DEMO);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .starts_with("Keel · Definition of done met, with 2 warnings"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("within noise"));
    assert!(
        run.stdout
            .contains("pkg/gate.py:22: warning: Added line 22 is not covered by tests")
    );
}

#[test]
fn a_failing_required_criterion_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("keel.toml");
    fs::write(&config, "[coverage]\nmin_patch = 90\n").unwrap();
    let run = keel(
        &root(),
        &[
            "check",
            "--config",
            config.to_str().unwrap(),
            "--coverage",
            "examples/coverage.xml",
            "--diff",
            "examples/pr.diff",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("FAIL  Patch coverage"));
}

#[test]
fn a_broken_config_exits_2_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("keel.toml");
    fs::write(&config, "[coverage]\nmin_total = 80\nmin_pach = 90\n").unwrap();
    let run = keel(dir.path(), &["check", "--config", "keel.toml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("keel.toml:3:1: unknown field `min_pach`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("did you mean `min_patch`?"));
    assert!(
        run.stderr.contains("3 | min_pach = 90\n  | ^"),
        "{}",
        run.stderr
    );
    let validate = keel(dir.path(), &["config", "validate", "keel.toml"]);
    assert_eq!((validate.code, validate.stderr), (2, run.stderr));
}

#[test]
fn usage_and_input_errors_exit_2() {
    let cfg = ["check", "--config", "examples/.github/keel.toml"];
    let cases: [(&[&str], &str); 4] = [
        (
            &["check", "--no-such-flag"],
            "unexpected argument '--no-such-flag'",
        ),
        (
            &[&cfg[..], &["--coverage", "nope.lcov"]].concat(),
            "open nope.lcov",
        ),
        (&["check", "--config", "absent.toml"], "open absent.toml"),
        (
            &[&cfg[..], &["--coverage", "examples/event.json"]].concat(),
            "not a coverage report",
        ),
    ];
    for (args, message) in cases {
        let run = keel(&root(), args);
        assert_eq!(run.code, 2, "{args:?}");
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn json_output_follows_the_documented_contract() {
    let mut args = DEMO.to_vec();
    args.extend([
        "--format",
        "json",
        "--sarif",
        "tests/fixtures/sarif/ruff.sarif",
    ]);
    let run = keel(&root(), &args);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(
        (run.code, v["conclusion"].as_str()),
        (1, Some("failure")),
        "ruff's high findings are new"
    );
    let first = &v["criteria"][0];
    for key in [
        "id",
        "level",
        "status",
        "actual",
        "threshold",
        "explanation",
    ] {
        assert!(
            first.get(key).is_some(),
            "criteria[0].{key} missing: {first}"
        );
    }
    assert_eq!(
        v["coverage"]["total"],
        serde_json::json!({"covered": 27, "coverable": 32, "percent": 84.375})
    );
    assert_eq!(v["coverage"]["patch"]["covered"], 16);
    assert_eq!(v["coverage"]["patch"]["coverable"], 19);
    assert_eq!(v["security"]["findings"], 17, "8 bandit + 9 ruff");
    assert_eq!(
        v["security"]["new"], 9,
        "ruff's findings are not in the baseline"
    );
    assert_eq!(v["performance"].as_array().unwrap().len(), 2);
    let a = &v["annotations"][0];
    assert_eq!(
        (
            a["path"].as_str(),
            a["start_line"].as_u64(),
            a["level"].as_str()
        ),
        (Some("pkg/gate.py"), Some(22), Some("warning"))
    );
    assert!(
        v.get("metrics").is_none(),
        "metrics go to --save-baseline, not stdout"
    );
}

#[test]
fn a_saved_baseline_is_read_back_and_shows_no_drop() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    let config = dir.path().join("keel.toml");
    fs::write(&config, "[coverage]\nmax_drop = 0\n").unwrap();
    let cfg = config.to_str().unwrap();
    let cov = fixture("covdemo/coverage.lcov");
    let cov = cov.to_str().unwrap();
    let first = keel(
        &root(),
        &[
            "check",
            "--config",
            cfg,
            "--coverage",
            cov,
            "--save-baseline",
            base.to_str().unwrap(),
        ],
    );
    assert_eq!(first.code, 0);
    assert!(
        first.stdout.contains("skip  Coverage drop"),
        "{}",
        first.stdout
    );
    let second = keel(
        &root(),
        &[
            "check",
            "--config",
            cfg,
            "--coverage",
            cov,
            "--baseline",
            base.to_str().unwrap(),
        ],
    );
    assert_eq!(second.code, 0, "{}", second.stdout);
    assert!(
        second.stdout.contains("pass  Coverage drop"),
        "{}",
        second.stdout
    );
    assert!(second.stdout.contains("0.00 points"));
}

#[test]
fn markdown_output_is_the_check_run_summary() {
    let mut args = DEMO.to_vec();
    args.extend(["--format", "markdown"]);
    let run = keel(&root(), &args);
    assert!(
        run.stdout
            .starts_with("### ✅ Definition of done met, with 2 warnings\n\n| | Criterion |"),
        "{}",
        run.stdout
    );
}

#[test]
fn base_ref_diffs_against_git_and_reports_resolve_from_config_globs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    fs::create_dir_all(d.join("src")).unwrap();
    fs::write(d.join("src/lib.rs"), "fn a() {}\n").unwrap();
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "base"]);
    git(d, &["checkout", "-qb", "feature"]);
    fs::write(d.join("src/lib.rs"), "fn a() {}\nfn b() {}\nfn c() {}\n").unwrap();
    git(d, &["commit", "-qam", "feature"]);
    fs::create_dir_all(d.join("out/cov")).unwrap();
    // Absolute CI path, as a runner writes it: mapped to src/lib.rs by suffix.
    fs::write(
        d.join("out/cov/lcov.info"),
        "SF:/home/runner/work/x/x/src/lib.rs\nDA:1,1\nDA:2,1\nDA:3,0\nend_of_record\n",
    )
    .unwrap();
    fs::write(
        d.join("keel.toml"),
        "[coverage]\npaths = [\"out/**/*.info\"]\nmin_patch = 50\n",
    )
    .unwrap();
    let run = keel(
        d,
        &[
            "check",
            "--config",
            "keel.toml",
            "--base",
            "main",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v["coverage"]["patch"],
        serde_json::json!({"covered": 1, "coverable": 2, "percent": 50.0})
    );
    assert_eq!(v["annotations"][0]["path"], "src/lib.rs");
    let bad = keel(
        d,
        &["check", "--config", "keel.toml", "--base", "no-such-ref"],
    );
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("git diff no-such-ref...HEAD failed"),
        "{}",
        bad.stderr
    );
}

#[test]
fn config_schema_prints_json_schema_and_validate_accepts_the_example() {
    let schema = keel(&root(), &["config", "schema"]);
    let v: serde_json::Value = serde_json::from_str(&schema.stdout).unwrap();
    assert_eq!(v["title"], "Keel configuration (.github/keel.toml)");
    let ok = keel(&root(), &["config", "validate", "keel.example.toml"]);
    assert_eq!((ok.code, ok.stdout.trim()), (0, "keel.example.toml: valid"));
}

#[test]
fn every_flag_is_also_an_environment_variable() {
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_keel"))
        .current_dir(root())
        .args(["check"])
        .env("KEEL_CONFIG", "examples/.github/keel.toml")
        .env("KEEL_ROOT", "examples")
        .env("KEEL_DIFF", "examples/pr.diff")
        .env("KEEL_FORMAT", "json")
        .env_remove("GITHUB_EVENT_PATH")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(v["coverage"]["patch"]["coverable"], 19);
}

#[test]
fn a_criterion_directory_yields_every_benchmark_named_by_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("keel.toml");
    fs::write(
        &config,
        "[[performance.budget]]\nbenchmark = \"evaluate/*\"\nmax = \"10ms\"\n[[performance.budget]]\nbenchmark = \"parse/sarif_49MB\"\nmax = \"1s\"\n",
    )
    .unwrap();
    let crit = fixture("bench/criterion");
    let run = keel(
        &root(),
        &[
            "check",
            "--config",
            config.to_str().unwrap(),
            "--bench",
            crit.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let names: Vec<&str> = v["performance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    // The first from benchmark.json's full_id, the second (no benchmark.json) from its directories.
    assert_eq!(
        names,
        [
            "evaluate/coverage/8000-files+50k-added-lines",
            "parse/sarif_49MB"
        ]
    );
    assert_eq!(
        run.code, 1,
        "the 39.5 ms evaluation is over its 10 ms budget"
    );
    assert_eq!(v["criteria"][1]["status"], "pass");
}

#[test]
fn check_shows_roadmap_links_and_the_debt_verdict_in_text_and_json() {
    let run = keel(&root(), DEMO);
    assert!(
        run.stdout.contains(
            "Roadmap:\n  R-4 Review feedback on every line (active): fixes #5, one of its issues\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "Technical debt: added\n  + coverage of the changed files falls from 91.3% to 84.4%"
        ),
        "{}",
        run.stdout
    );
    let json = keel(&root(), &[DEMO, &["--format", "json"]].concat());
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["roadmap"]["links"][0]["item"]["id"], "R-4");
    assert_eq!(
        v["roadmap"]["links"][0]["reasons"][0],
        serde_json::json!({"by": "issue", "number": 5})
    );
    assert_eq!(v["debt"]["direction"], "added");
    assert_eq!(v["debt"]["items"][0]["id"], "DEBT-2");
}

#[test]
fn a_separate_roadmap_file_is_read_and_its_errors_show_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join(".github")).unwrap();
    let config = dir.path().join(".github/keel.toml");
    fs::write(&config, "[roadmap]\nfile = \".github/roadmap.toml\"\n").unwrap();
    fs::write(
        dir.path().join(".github/roadmap.toml"),
        "[[items]]\nid = \"R-9\"\ntitle = \"Search\"\nhypothesis = \"We believe search will be better\"\n",
    )
    .unwrap();
    let run = keel(dir.path(), &["config", "validate", ".github/keel.toml"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.starts_with(".github/roadmap.toml:4:14: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("the target is missing"),
        "{}",
        run.stderr
    );
    fs::write(
        dir.path().join(".github/roadmap.toml"),
        "[[items]]\nid = \"R-9\"\ntitle = \"Search\"\n",
    )
    .unwrap();
    let run = keel(
        dir.path(),
        &[
            "check",
            "--config",
            ".github/keel.toml",
            "--title",
            "Faster R-9 search",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("  R-9 Search (active): named in the title"),
        "{}",
        run.stdout
    );
}

#[test]
fn keel_roadmap_lists_items_with_their_merged_pull_requests() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("keel.db").display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = keel::store::Store::connect(&db).await.unwrap();
        for (number, items, debt) in [
            (7, vec!["R-4".to_owned()], "neutral"),
            (8, vec![], "reduced"),
        ] {
            store
                .track_pull_request("acme/checkout", number, "abc", 1, 0)
                .await
                .unwrap();
            let record = keel::store::EvaluationRecord {
                title: format!("change {number}"),
                author: Some("maria".into()),
                changed_lines: 10,
                roadmap_items: items,
                debt: Some(debt.into()),
                dod: "success".into(),
                failed_criteria: vec![],
            };
            store
                .record_evaluation("acme/checkout", number, &record)
                .await
                .unwrap();
            store
                .record_merge("acme/checkout", number, 1_764_000_000_000)
                .await
                .unwrap();
        }
        store.close().await;
    });
    let run = keel(
        &root(),
        &[
            "roadmap",
            "--config",
            "examples/.github/keel.toml",
            "--repo",
            "acme/checkout",
            "--database-url",
            &db,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "R-4  Review feedback on every line  (active, owner @maria)\n    We believe annotating every finding in review will cut escaped defects by 30%\n    metric: defects found after release · target: -30%\n    merged #7 change 7 (2025-11-24, debt: neutral)\n\n1 of 2 merged pull requests are linked to no roadmap item.\n"
    );
}

#[test]
fn keel_summary_renders_a_week_from_the_store_with_recorded_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("keel.db").display());
    let run = keel(
        &root(),
        &[
            "outcome",
            "R-4",
            "--value",
            "22",
            "--repo",
            "acme/checkout",
            "--at",
            "2026-11-26T12:00:00Z",
            "--database-url",
            &db,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = keel::store::Store::connect(&db).await.unwrap();
        store
            .record_merge("acme/checkout", 7, 1_795_521_600_000)
            .await
            .unwrap();
        store.close().await;
    });
    let args = [
        "summary",
        "--repo",
        "acme/checkout",
        "--week",
        "2026-W48",
        "--config",
        "examples/.github/keel.toml",
        "--database-url",
        &db,
    ];
    let run = keel(&root(), &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("# Keel weekly summary · acme/checkout · 2026-W48\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("| **R\\-4** Review feedback on every line | active | — |"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("| 22 vs \\-30% |"), "{}", run.stdout);
    assert!(
        run.stdout.contains("| Deployment frequency | 1 |"),
        "merges stand in for deployments: {}",
        run.stdout
    );
    let json = keel(&root(), &[&args[..], &["--format", "json"]].concat());
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["source"], "merges");
    assert_eq!(v["weeks"].as_array().unwrap().len(), 8);
    assert_eq!(v["outcomes"]["R-4"], 22.0);
    let bad = keel(
        &root(),
        &[
            "summary",
            "--repo",
            "a/b",
            "--week",
            "48",
            "--config",
            "examples/.github/keel.toml",
            "--database-url",
            &db,
        ],
    );
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("`48` is not an ISO week"),
        "{}",
        bad.stderr
    );
}

#[test]
fn the_configuration_reference_is_generated_from_the_config_model() {
    let run = keel(&root(), &["config", "reference"]);
    assert_eq!(run.code, 0);
    let committed = fs::read_to_string(root().join("docs/configuration.md")).unwrap();
    assert_eq!(
        run.stdout, committed,
        "regenerate: keel config reference > docs/configuration.md"
    );
    // Every section of the model is documented, with every key of an item table.
    for heading in [
        "## `[coverage]`",
        "### `[[roadmap.items]]`",
        "### `[debt.labels]`",
        "## `[summary]`",
    ] {
        assert!(run.stdout.contains(heading), "{heading}");
    }
    assert!(
        run.stdout.contains("| `hypothesis` | hypothesis | — |"),
        "{}",
        run.stdout
    );
}
