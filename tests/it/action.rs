//! `keel action` as a workflow runs it: environment, event file, summary and output files,
//! against the FakeGitHub — with a token that may post, and with a read-only one.

use crate::support::fixture;
use crate::support::github::FakeGitHub;
use std::path::Path;

const REPO: &str = "Codertocat/Hello-World";
const BASE: &str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";

pub(crate) async fn fake() -> FakeGitHub {
    let fake = FakeGitHub::start().await;
    fake.put_file(
        REPO,
        BASE,
        ".github/keel.toml",
        b"[coverage]\npaths = [\"lcov.info\"]\nmin_total = 40\nmin_patch = 80\n",
    );
    fake.put_pr_files(
        REPO,
        2,
        &[(
            "hello.rb",
            "modified",
            Some("@@ -1 +1,2 @@\n-Hello\n+Hello World\n+More"),
        )],
    );
    fake.add_token("ghs_workflow_rw", false);
    fake.add_token("ghs_workflow_ro", true);
    fake
}

pub(crate) struct Step {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) summary: String,
    pub(crate) outputs: String,
}

const LCOV: &str = "SF:hello.rb\nDA:1,1\nDA:2,0\nend_of_record\n";

async fn run_action(fake: &FakeGitHub, token: &str, extra: &[(&str, &str)]) -> Step {
    run_with(fake, token, extra, LCOV).await
}

async fn run_with(fake: &FakeGitHub, token: &str, extra: &[(&str, &str)], lcov: &str) -> Step {
    let event = fixture("webhooks/pull_request/opened.2.json");
    run_in(
        fake,
        token,
        extra,
        &[("lcov.info", lcov)],
        "pull_request",
        &event,
    )
    .await
}

/// Runs the action for `event` (a payload) named `event_name`, with `files` in the workspace
/// next to the usual `lcov.info`.
pub(crate) async fn run_event(
    fake: &FakeGitHub,
    token: &str,
    event_name: &str,
    event: &serde_json::Value,
    files: &[(&str, &str)],
) -> Step {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("event.json");
    std::fs::write(&path, serde_json::to_vec(event).unwrap()).unwrap();
    let mut all = vec![("lcov.info", LCOV)];
    all.extend_from_slice(files);
    run_in(fake, token, &[], &all, event_name, &path).await
}

async fn run_in(
    fake: &FakeGitHub,
    token: &str,
    extra: &[(&str, &str)],
    files: &[(&str, &str)],
    event_name: &str,
    event_path: &Path,
) -> Step {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().to_path_buf();
    for (name, text) in files {
        let path = ws.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_keel"));
    cmd.arg("action");
    for (k, _) in std::env::vars() {
        if k.starts_with("GITHUB_") || k.starts_with("INPUT_") || k.starts_with("KEEL_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("GITHUB_EVENT_PATH", event_path)
        .env("GITHUB_EVENT_NAME", event_name)
        .env("GITHUB_REPOSITORY", REPO)
        .env("GITHUB_SHA", "ec26c3e57ca3a959ca5aad62de7213c562f8c821")
        .env("GITHUB_TOKEN", token)
        .env("GITHUB_API_URL", fake.uri())
        .env("GITHUB_STEP_SUMMARY", ws.join("summary.md"))
        .env("GITHUB_OUTPUT", ws.join("output"))
        .env("GITHUB_WORKSPACE", &ws);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    Step {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr),
        summary: read(&ws.join("summary.md")),
        outputs: read(&ws.join("output")),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_action_writes_summary_outputs_annotations_check_run_and_comment() {
    let fake = fake().await;
    let step = run_action(&fake, "ghs_workflow_rw", &[]).await;
    assert_eq!(
        step.code,
        Some(1),
        "a required criterion failed: {}",
        step.stdout
    );
    assert!(
        step.summary
            .contains("**Patch coverage**: 50\\.00% (needs ≥ 80%)"),
        "{}",
        step.summary
    );
    assert_eq!(
        step.outputs,
        "conclusion=failure\ncoverage-total=50.00\ncoverage-patch=50.00\nnew-findings=\n"
    );
    assert!(
        step.stdout.contains("::warning file=hello.rb,line=2,endLine=2,title=Uncovered line::Added line 2 is not covered by tests"),
        "{}",
        step.stdout
    );
    let runs = fake.check_runs();
    assert_eq!(runs.len(), 1, "{}", step.stdout);
    assert_eq!(
        (runs[0].status.as_str(), runs[0].conclusion.as_deref()),
        ("completed", Some("failure"))
    );
    assert_eq!(runs[0].annotations.len(), 1);
    let comments = fake.comments(REPO, 2);
    assert_eq!(comments.len(), 1);
    assert!(comments[0].1.contains("Patch coverage"));
    let log = fake.log().await;
    assert!(
        log.contains(&format!("GET /repos/{REPO}/contents/.github/keel.toml")),
        "the config came from the base commit: {log:?}"
    );
    // Advisory: the same verdict does not fail the step.
    let step = run_action(
        &fake,
        "ghs_workflow_rw",
        &[("INPUT_FAIL-ON", "advisory"), ("INPUT_COMMENT", "false")],
    )
    .await;
    assert_eq!(step.code, Some(0), "{}", step.stdout);
    assert_eq!(fake.comments(REPO, 2).len(), 1, "comment off: nothing new");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rerun_that_changes_the_verdict_is_shown_on_a_new_check_run() {
    // GitHub never changes a completed run's conclusion: a re-run of the workflow at the same
    // commit whose verdict differs must show it on a new run, the one GitHub then counts.
    let fake = fake().await;
    let step = run_action(&fake, "ghs_workflow_rw", &[]).await;
    assert_eq!(step.code, Some(1), "{}", step.stdout);
    let covered = "SF:hello.rb\nDA:1,1\nDA:2,1\nend_of_record\n";
    let step = run_with(&fake, "ghs_workflow_rw", &[], covered).await;
    assert_eq!(step.code, Some(0), "{}", step.stdout);
    let runs = fake.check_runs();
    assert_eq!(runs.len(), 1, "one run shown: {runs:?}");
    assert_eq!(
        (runs[0].status.as_str(), runs[0].conclusion.as_deref()),
        ("completed", Some("success"))
    );
    assert_eq!(
        fake.all_check_runs().len(),
        2,
        "the failed run stays as it was"
    );
    // The same verdict again is written on the run already shown.
    run_with(&fake, "ghs_workflow_rw", &[], covered).await;
    assert_eq!(fake.all_check_runs().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn another_pull_requests_success_does_not_replace_a_failed_run_at_the_same_commit() {
    // The Action cannot see the other pull requests at its commit: the failed run made for #2
    // stands against #3's success into a laxer base; #2's own re-run may replace it.
    let fake = fake().await;
    let lax_base = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";
    fake.put_file(
        REPO,
        lax_base,
        ".github/keel.toml",
        b"[coverage]\npaths = [\"lcov.info\"]\nmin_total = 10\n",
    );
    fake.put_pr_files(
        REPO,
        3,
        &[(
            "hello.rb",
            "modified",
            Some("@@ -1 +1,2 @@\n-Hello\n+Hello World\n+More"),
        )],
    );
    let step = run_action(&fake, "ghs_workflow_rw", &[]).await;
    assert_eq!(step.code, Some(1), "{}", step.stdout);

    let mut lax: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixture("webhooks/pull_request/opened.2.json")).unwrap(),
    )
    .unwrap();
    lax["number"] = serde_json::json!(3);
    lax["pull_request"]["number"] = serde_json::json!(3);
    lax["pull_request"]["base"]["ref"] = serde_json::json!("lax");
    lax["pull_request"]["base"]["sha"] = serde_json::json!(lax_base);
    let step = run_event(&fake, "ghs_workflow_rw", "pull_request", &lax, &[]).await;
    assert_eq!(step.code, Some(0), "#3 meets its own: {}", step.stdout);
    assert!(step.stdout.contains("left failed"), "{}", step.stdout);
    let runs = fake.check_runs();
    assert_eq!(
        (runs.len(), runs[0].conclusion.as_deref()),
        (1, Some("failure")),
        "{runs:?}"
    );

    let covered = "SF:hello.rb\nDA:1,1\nDA:2,1\nend_of_record\n";
    run_with(&fake, "ghs_workflow_rw", &[], covered).await;
    assert_eq!(fake.check_runs()[0].conclusion.as_deref(), Some("success"));
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_read_only_token_the_action_degrades_to_summary_annotations_and_exit_code() {
    let fake = fake().await;
    let step = run_action(&fake, "ghs_workflow_ro", &[]).await;
    assert_eq!(step.code, Some(1), "{}", step.stdout);
    assert!(
        step.stdout
            .contains("::notice title=Keel::The token cannot write check runs or comments"),
        "{}",
        step.stdout
    );
    assert!(
        step.stdout.contains("::warning file=hello.rb,line=2"),
        "{}",
        step.stdout
    );
    assert!(step.summary.contains("Patch coverage"));
    assert!(step.outputs.starts_with("conclusion=failure\n"));
    assert!(fake.check_runs().is_empty());
    assert!(fake.comments(REPO, 2).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn more_than_ten_warnings_are_counted_not_dropped_silently() {
    let fake = FakeGitHub::start().await;
    fake.put_file(
        REPO,
        BASE,
        ".github/keel.toml",
        b"[coverage]\npaths = [\"lcov.info\"]\nmin_patch = 1\n",
    );
    // 28 added lines, every odd one uncovered: 14 separate annotations.
    let patch: String = std::iter::once("@@ -0,0 +1,28 @@".to_owned())
        .chain((1..=28).map(|i| format!("+line {i}")))
        .collect::<Vec<_>>()
        .join("\n");
    fake.put_pr_files(REPO, 2, &[("hello.rb", "modified", Some(&patch))]);
    fake.add_token("ghs_workflow_rw", false);
    let lcov: String = std::iter::once("SF:hello.rb".to_owned())
        .chain((1..=28).map(|i| format!("DA:{i},{}", i % 2 == 0)))
        .chain(std::iter::once("end_of_record\n".to_owned()))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("true", "1")
        .replace("false", "0");
    let off = [("INPUT_CHECK-RUN", "false"), ("INPUT_COMMENT", "false")];
    let step = run_with(&fake, "ghs_workflow_rw", &off, &lcov).await;
    assert_eq!(
        step.stdout.matches("::warning ").count(),
        10,
        "{}",
        step.stdout
    );
    assert!(
        step.stdout.contains("::notice title=Keel::4 more warning annotations are in the check run and the job summary"),
        "{}",
        step.stdout
    );
    assert!(step.summary.contains("14 annotations"), "{}", step.summary);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_action_sets_keels_labels_like_the_app_when_the_token_may() {
    let fake = fake().await;
    fake.put_file(
        REPO,
        BASE,
        ".github/keel.toml",
        b"[coverage]\npaths = [\"lcov.info\"]\nmin_patch = 80\n\n[labels]\ndone = \"dod: met\"\nnot_done = \"dod: not met\"\n",
    );
    let step = run_action(&fake, "ghs_workflow_rw", &[]).await;
    assert_eq!(step.code, Some(1), "{}", step.stdout);
    assert!(step.stdout.contains("labels synced"), "{}", step.stdout);
    assert_eq!(fake.labels(REPO, 2), ["dod: not met"]);
    // A read-only token: no labels, and the step still reports through its summary.
    let fake = crate::action::fake().await;
    let step = run_action(&fake, "ghs_workflow_ro", &[]).await;
    assert_eq!(step.code, Some(1), "{}", step.stdout);
    assert!(fake.labels(REPO, 2).is_empty());
}
