//! `keel check` and `keel config` as a user runs them.

use crate::support::{fixture, git, keel, root};
use serde_json::json;
use std::fs;
use std::path::Path;

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
            .starts_with("error: keel.toml:3:1: unknown field `min_pach`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("did you mean `min_patch`?"));
    assert!(
        run.stderr.contains("3 | min_pach = 90\n  | ^"),
        "{}",
        run.stderr
    );
    // `keel config validate` says exactly the same, marked as an error, and counts.
    let validate = keel(dir.path(), &["config", "validate", "keel.toml"]);
    assert_eq!(validate.code, 2);
    assert_eq!(validate.stderr, run.stderr);
    assert!(run.stderr.ends_with("\nkeel.toml: invalid: 1 error\n"));
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
        (
            &["check", "--config", "absent.toml"],
            "no definition of done at absent.toml",
        ),
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
    // Saved on the default branch with the same command as pull requests use: the diff is
    // empty, and the baseline still keeps the commit's numbers.
    let empty = dir.path().join("empty.diff");
    fs::write(&empty, "").unwrap();
    let first = keel(
        &root(),
        &[
            "check",
            "--config",
            cfg,
            "--coverage",
            cov,
            "--diff",
            empty.to_str().unwrap(),
            "--save-baseline",
            base.to_str().unwrap(),
        ],
    );
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    let saved: serde_json::Value = serde_json::from_slice(&fs::read(&base).unwrap()).unwrap();
    assert!(saved["coverage"].is_object(), "{saved}");
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
            .starts_with("### ✅ Definition of done met, with 2 warnings\n\n**Coverage drop**: 3\\.12 points (needs ≤ 0.5 points; base 87\\.50%, \\-3\\.12 points)"),
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
        bad.stderr
            .contains("there is no `no-such-ref` in this clone"),
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
        "[[items]]\nid = \"R-9\"\ntitle = \"Search\"\nstatus = \"someday\"\n",
    )
    .unwrap();
    let run = keel(dir.path(), &["config", "validate", ".github/keel.toml"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(".github/roadmap.toml:4:10: "),
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
                failed_ids: vec![],
                head_sha: "abc".into(),
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
            "-22",
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
            .starts_with("# Keel weekly summary · acme/checkout · 23–29 Nov 2026 (2026-W48)\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("| **R\\-4** Review feedback on every line | active | — |"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "defects found after release −22% so far, target −30%: not yet (measured 26 Nov 2026)"
        ),
        "the outcome in plain words, with its date: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains("| Deployment frequency | 1 |"),
        "merges stand in for deployments: {}",
        run.stdout
    );
    let json = keel(&root(), &[&args[..], &["--format", "json"]].concat());
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["source"], "merges");
    assert_eq!(v["weeks"].as_array().unwrap().len(), 8);
    assert_eq!(v["outcomes"]["R-4"]["value"], -22.0);
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
fn the_organisation_policy_reference_is_generated_from_its_model() {
    let run = keel(&root(), &["config", "org-reference"]);
    assert_eq!(run.code, 0);
    let committed = fs::read_to_string(root().join("docs/organisation.md")).unwrap();
    assert_eq!(
        run.stdout, committed,
        "regenerate: keel config org-reference > docs/organisation.md"
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
    // In the order a person reads it: the criteria first, within a section the files first,
    // then the thresholds; plain type names; an example on every key.
    let at = |heading: &str| run.stdout.find(heading).unwrap();
    assert!(at("## `[coverage]`") < at("## `[security]`"));
    assert!(
        at("## `[hygiene]`") < at("## `[reports]`") && at("## `[reports]`") < at("## `[summary]`")
    );
    let coverage = &run.stdout[at("## `[coverage]`")..at("## `[security]`")];
    let keys: Vec<&str> = coverage
        .lines()
        .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
        .collect();
    assert_eq!(keys[0], "paths", "{keys:?}");
    let first_threshold = keys
        .iter()
        .position(|k| k.starts_with("min_") || k.starts_with("max_"));
    let partial = keys.iter().position(|k| *k == "partial_lines");
    assert!(first_threshold < partial, "{keys:?}");
    for row in run.stdout.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let (ty, example) = (cells[1], cells[cells.len() - 1]);
        for library in [
            "string",
            "integer",
            "boolean",
            "pathglobs",
            "itemid",
            "uint",
        ] {
            assert!(!ty.contains(library), "{row}");
        }
        let key = cells[0].trim_start_matches("| ");
        let key = key.trim_matches('`');
        assert!(
            example.starts_with(&format!("`{key} = "))
                || example.ends_with(&format!(".{key}]` (below) |"))
                || example.ends_with(&format!(".{key}]]` (below) |")),
            "{row}"
        );
    }
}

/// A repository at `d` whose `main` and `feature` branches diverged by one commit each, with a
/// `keel.toml` on both; `subject` is the feature commit's subject.
fn diverged_repo(d: &Path, branch: &str, subject: &str) {
    git(d, &["init", "-q", "-b", "main"]);
    fs::write(
        d.join("keel.toml"),
        "[hygiene]\nbranch_pattern = \"^feat/\"\ntitle_pattern = \"^feat: \"\n",
    )
    .unwrap();
    fs::write(d.join("a.txt"), "a\n").unwrap();
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "base"]);
    git(d, &["checkout", "-qb", branch]);
    fs::write(d.join("b.txt"), "b\n").unwrap();
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", subject]);
    git(d, &["checkout", "-q", "main"]);
    fs::write(d.join("c.txt"), "c\n").unwrap();
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "main moved on"]);
    git(d, &["checkout", "-q", branch]);
}

#[test]
fn check_in_a_shallow_clone_says_to_fetch_the_history_instead_of_gits_words() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = dir.path().join("upstream");
    fs::create_dir_all(&upstream).unwrap();
    diverged_repo(&upstream, "feat/login", "feat: log in");
    let url = format!("file://{}", upstream.display());
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-single-branch",
            "--branch",
            "feat/login",
            &url,
            "clone",
        ],
    );
    let clone = dir.path().join("clone");
    let args = ["check", "--config", "keel.toml", "--base", "origin/main"];
    let run = keel(&clone, &args);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("this clone is shallow"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("`fetch-depth: 0`"), "{}", run.stderr);
    // A command git takes (it once said `origin origin/main`, which git refuses).
    assert!(
        run.stderr
            .contains("`git fetch --deepen=200 origin main:refs/remotes/origin/main`"),
        "{}",
        run.stderr
    );
    // Doing what it says makes it work.
    git(
        &clone,
        &[
            "fetch",
            "-q",
            "--deepen=200",
            "origin",
            "main:refs/remotes/origin/main",
        ],
    );
    let run = keel(&clone, &args);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn check_with_base_main_in_a_ci_clone_diffs_with_origin_main() {
    // CI clones check out the pull request's branch alone: `main` exists only as origin/main.
    let dir = tempfile::tempdir().unwrap();
    let upstream = dir.path().join("upstream");
    fs::create_dir_all(&upstream).unwrap();
    diverged_repo(&upstream, "feat/login", "feat: log in");
    let url = format!("file://{}", upstream.display());
    git(
        dir.path(),
        &["clone", "-q", "--branch", "feat/login", &url, "clone"],
    );
    let clone = dir.path().join("clone");
    let run = keel(
        &clone,
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
    let changed = v["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "hygiene.branch")
        .map(|c| c["status"].clone());
    assert_eq!(changed, Some(json!("pass")), "{}", run.stdout);
    // A base that is nowhere in the clone: say how to fetch it, in git's own terms.
    let run = keel(
        &clone,
        &["check", "--config", "keel.toml", "--base", "develop"],
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("no `develop` in this clone")
            && run
                .stderr
                .contains("`git fetch origin develop:refs/remotes/origin/develop`"),
        "{}",
        run.stderr
    );
}

#[test]
fn check_without_a_base_says_first_what_it_did_not_judge() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("keel.toml"),
        "[hygiene]\nmax_changed_lines = 10\n",
    )
    .unwrap();
    let run = keel(dir.path(), &["check", "--config", "keel.toml"]);
    assert!(
        run.stderr.contains("pass `--base BRANCH`"),
        "{}",
        run.stderr
    );
    let second = run.stdout.lines().nth(2).unwrap_or_default();
    assert!(
        second.starts_with("Not judged: Change size (no diff was given"),
        "{}",
        run.stdout
    );
}

#[test]
fn check_outside_a_git_repository_says_so_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("keel.toml"),
        "[hygiene]\nmax_changed_lines = 10\n",
    )
    .unwrap();
    let run = keel(
        dir.path(),
        &["check", "--config", "keel.toml", "--base", "main"],
    );
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("is not inside a git work tree"));
    assert!(run.stderr.contains("`--diff FILE`"));
}

#[test]
fn check_takes_the_branch_and_title_from_git_when_none_is_given() {
    let status_of = |v: &serde_json::Value, id: &str| {
        v["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .map(|c| c["status"].clone())
    };
    let args = [
        "check",
        "--config",
        "keel.toml",
        "--base",
        "main",
        "--format",
        "json",
    ];
    let dir = tempfile::tempdir().unwrap();
    diverged_repo(dir.path(), "feat/login", "feat: log in");
    let run = keel(dir.path(), &args);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(status_of(&v, "hygiene.branch"), Some(json!("pass")));
    assert_eq!(status_of(&v, "hygiene.title"), Some(json!("pass")));

    let other = tempfile::tempdir().unwrap();
    diverged_repo(other.path(), "wip", "wip");
    let run = keel(other.path(), &args);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(status_of(&v, "hygiene.branch"), Some(json!("fail")));
    assert_eq!(status_of(&v, "hygiene.title"), Some(json!("fail")));
    // A flag still wins over git.
    let mut flagged = args.to_vec();
    flagged.extend(["--title", "feat: named by hand", "--branch", "feat/by-hand"]);
    let run = keel(other.path(), &flagged);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn the_published_schema_is_current_and_named_by_its_id() {
    let run = keel(&root(), &["config", "schema"]);
    assert_eq!(run.code, 0);
    let published = fs::read_to_string(root().join("docs/keel.schema.json")).unwrap();
    assert_eq!(
        run.stdout, published,
        "regenerate with `keel config schema > docs/keel.schema.json`"
    );
    let schema: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(schema["$id"], keel_core::config::SCHEMA_URL);
    let example = fs::read_to_string(root().join("keel.example.toml")).unwrap();
    assert_eq!(
        example.lines().next(),
        Some(format!("#:schema {}", keel_core::config::SCHEMA_URL).as_str())
    );
}

#[test]
fn config_validate_reports_five_errors_in_line_order_as_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("keel.toml");
    fs::write(
        &config,
        "[coverage]\nmin_total = 80\nmin_pach = 80\npaths = [\"cov/[.info\"]\n[hygiene]\n\
         max_changed_lines = \"many\"\ntitle_pattern = \"^feat\\(x\\)\"\nrequire_linked_issue = 1\n",
    )
    .unwrap();
    let run = keel(dir.path(), &["config", "validate", "keel.toml"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let places: Vec<&str> = run
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("error: keel.toml:"))
        .collect();
    assert_eq!(places.len(), 5, "{}", run.stderr);
    let lines: Vec<u32> = places
        .iter()
        .map(|p| p.split(':').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(lines, [3, 4, 6, 7, 8]);
    assert!(
        run.stderr.contains("keel.toml: invalid: 5 errors"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("u64"), "{}", run.stderr);
    // `keel check` with that file says all five too, not the first it met.
    let check = keel(dir.path(), &["check", "--config", "keel.toml"]);
    assert_eq!(check.code, 2, "{}{}", check.stdout, check.stderr);
    assert_eq!(
        check
            .stderr
            .lines()
            .filter(|l| l.starts_with("error: keel.toml:"))
            .count(),
        5,
        "{}",
        check.stderr
    );
    // Without a file, `validate` points to `keel init` as `check` does.
    let missing = keel(dir.path(), &["config", "validate", "none.toml"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("`keel init` writes one"),
        "{}",
        missing.stderr
    );

    let run = keel(
        dir.path(),
        &["config", "validate", "keel.toml", "--format", "json"],
    );
    assert_eq!(run.code, 2);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["valid"], false);
    let problems = v["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 5);
    assert!(
        problems
            .iter()
            .all(|p| p["severity"] == "error" && p["path"] == "keel.toml")
    );
    assert_eq!(problems[2]["line"], 6);
    assert_eq!(problems[2]["column"], 21);

    fs::write(&config, "[labels]\n").unwrap();
    let run = keel(dir.path(), &["config", "validate", "keel.toml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("warning: keel.toml:1:1: nothing is checked")
    );
    assert!(run.stdout.contains("keel.toml: valid, 1 warning"));
}

#[test]
fn check_without_a_config_points_to_keel_init() {
    let dir = tempfile::tempdir().unwrap();
    let run = keel(dir.path(), &["check"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "no definition of done at .github/keel.toml: `keel init` writes one from what the \
         repository has (or pass --config FILE)\n"
    );
}

#[test]
fn output_into_a_closed_pipe_ends_quietly_not_with_a_panic() {
    // `keel config reference | head -1`: the reader has gone before Keel writes.
    for args in [
        &["config", "reference"][..],
        &["config", "schema"][..],
        &[
            "config",
            "validate",
            "--format",
            "json",
            "keel.example.toml",
        ][..],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_keel"))
            .args(args)
            .current_dir(root())
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(
            out.status.code(),
            Some(141),
            "{args:?}: as a pipe's writer ends: {stderr}"
        );
    }
}
