//! `keel action` as a process against the FakeGitHub, for issue 17: the baseline from the
//! base branch's push run artifact (the drop measured), none available (the reason shown),
//! and the fork-safe `workflow_run` pattern posting on the right pull request.

use crate::action::{fake, run_event};
use crate::reports_flow::zip_of;
use crate::support::fixture;
use serde_json::{Value, json};

const REPO: &str = "Codertocat/Hello-World";
const BASE: &str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";
const HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const DROP: &[u8] = b"[coverage]\npaths = [\"lcov.info\"]\nmax_drop = 1\n";

fn opened() -> Value {
    serde_json::from_slice(&std::fs::read(fixture("webhooks/pull_request/opened.2.json")).unwrap())
        .unwrap()
}

/// hello.rb lines 1 and 2 both covered: 100%.
const FULL: &[u8] = b"SF:hello.rb\nDA:1,1\nDA:2,1\nend_of_record\n";

#[tokio::test(flavor = "multi_thread")]
async fn the_action_measures_the_drop_against_the_base_commits_push_run() {
    let fake = fake().await;
    fake.put_file(REPO, BASE, ".github/keel.toml", DROP);
    fake.put_push_run(REPO, 500, BASE, ".github/workflows/ci.yml");
    fake.put_artifact(REPO, 500, "keel-reports", zip_of(&[("lcov.info", FULL)]));
    // The workspace's report: 50% against the base's 100%.
    let step = run_event(&fake, "ghs_workflow_rw", "pull_request", &opened(), &[]).await;
    assert_eq!(step.code, Some(1), "a 50-point drop fails: {}", step.stdout);
    assert!(
        step.summary.contains(
            "Compared with the base commit: metrics from the artifact of its push run 500"
        ),
        "{}",
        step.summary
    );
    assert!(step.summary.contains("drop"), "{}", step.summary);
    assert!(!step.summary.contains("No baseline"), "{}", step.summary);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_action_uses_the_nearest_ancestor_with_a_push_run() {
    let fake = fake().await;
    fake.put_file(REPO, BASE, ".github/keel.toml", DROP);
    let parent = "1111111111111111111111111111111111111111";
    fake.put_commits(REPO, &[BASE, parent]);
    fake.put_push_run(REPO, 499, parent, ".github/workflows/ci.yml");
    fake.put_artifact(REPO, 499, "keel-reports", zip_of(&[("lcov.info", FULL)]));
    let step = run_event(&fake, "ghs_workflow_rw", "pull_request", &opened(), &[]).await;
    assert_eq!(step.code, Some(1), "{}", step.stdout);
    assert!(
        step.summary
            .contains("Compared with 1111111, the commit before the base"),
        "{}",
        step.summary
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_push_run_the_action_says_why_there_is_no_baseline() {
    let fake = fake().await;
    fake.put_file(REPO, BASE, ".github/keel.toml", DROP);
    let step = run_event(&fake, "ghs_workflow_rw", "pull_request", &opened(), &[]).await;
    assert!(
        step.summary.contains(
            "No baseline: \\`master\\` has no successful push run to read the base commit's reports from"
        ),
        "{}",
        step.summary
    );
    // A push run without the artifact: said too.
    fake.put_push_run(REPO, 501, BASE, ".github/workflows/ci.yml");
    let step = run_event(&fake, "ghs_workflow_rw", "pull_request", &opened(), &[]).await;
    assert!(
        step.summary.contains("push run 501") && step.summary.contains("uploaded no artifact"),
        "{}",
        step.summary
    );
}

/// A `workflow_run` `completed` for a fork's pull request: GitHub names no pull request.
fn fork_run(run_id: u64, path: &str) -> Value {
    json!({
        "action": "completed",
        "repository": {"full_name": REPO, "default_branch": "master"},
        "workflow_run": {
            "id": run_id, "name": "CI", "event": "pull_request", "status": "completed",
            "conclusion": "success", "head_sha": HEAD, "head_branch": "changes",
            "path": path, "pull_requests": [],
            "head_repository": {"full_name": "forker/Hello-World", "owner": {"login": "forker"}}
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fork_workflow_run_pattern_posts_on_the_pull_request_the_run_tested() {
    let fake = fake().await;
    fake.put_file(
        REPO,
        BASE,
        ".github/keel.toml",
        b"[coverage]\nmin_patch = 80\n\n[reports]\nworkflow = \"ci.yml\"\n",
    );
    let mut pr = opened()["pull_request"].clone();
    pr["head"]["repo"]["owner"]["login"] = json!("forker");
    pr["head"]["repo"]["full_name"] = json!("forker/Hello-World");
    fake.put_pull(REPO, 2, pr.clone());
    // Another fork's pull request from a branch of the same name is not this run's.
    let mut other = pr.clone();
    other["number"] = json!(3);
    other["head"]["repo"]["owner"]["login"] = json!("someone-else");
    fake.put_pull(REPO, 3, other);
    fake.put_artifact(REPO, 900, "keel-reports", zip_of(&[("lcov.info", FULL)]));
    let step = run_event(
        &fake,
        "ghs_workflow_rw",
        "workflow_run",
        &fork_run(900, ".github/workflows/ci.yml"),
        &[],
    )
    .await;
    assert_eq!(step.code, Some(0), "{}", step.stdout);
    let runs = fake.check_runs();
    assert_eq!(runs.len(), 1, "{}", step.stdout);
    assert_eq!(runs[0].head_sha, HEAD);
    assert_eq!(runs[0].conclusion.as_deref(), Some("success"));
    assert!(
        runs[0]
            .summary
            .as_deref()
            .is_some_and(|s| s.contains("of workflow run 900")),
        "{:?}",
        runs[0].summary
    );
    assert_eq!(fake.comments(REPO, 2).len(), 1, "the comment is on #2");
    assert!(fake.comments(REPO, 3).is_empty());
    let log = fake.log().await;
    assert!(
        log.contains(&format!("GET /repos/{REPO}/contents/.github/keel.toml")),
        "the config came from the base: {log:?}"
    );

    // A run of a workflow the fork added (named "CI" too) is not read.
    let fake = crate::action::fake().await;
    fake.put_file(
        REPO,
        BASE,
        ".github/keel.toml",
        b"[coverage]\nmin_patch = 80\n\n[reports]\nworkflow = \"ci.yml\"\n",
    );
    fake.put_pull(REPO, 2, pr);
    fake.put_artifact(REPO, 901, "keel-reports", zip_of(&[("lcov.info", FULL)]));
    let step = run_event(
        &fake,
        "ghs_workflow_rw",
        "workflow_run",
        &fork_run(901, ".github/workflows/evil.yml"),
        &[],
    )
    .await;
    assert_eq!(step.code, Some(1), "{}", step.stdout);
    assert!(
        step.summary.contains("evil\\.yml") && step.summary.contains("not used"),
        "{}",
        step.summary
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_several_pull_requests_at_the_run_s_head_the_action_judges_none() {
    let fake = fake().await;
    fake.put_file(
        REPO,
        BASE,
        ".github/keel.toml",
        b"[coverage]\nmin_patch = 80\n\n[reports]\nworkflow = \"ci.yml\"\n",
    );
    // The fork opens a second pull request from the same branch, into a laxer base.
    let mut pr = opened()["pull_request"].clone();
    pr["head"]["repo"]["owner"]["login"] = json!("forker");
    fake.put_pull(REPO, 2, pr.clone());
    let mut lax = pr.clone();
    lax["number"] = json!(4);
    lax["base"]["ref"] = json!("lax");
    fake.put_pull(REPO, 4, lax);
    fake.put_artifact(REPO, 902, "keel-reports", zip_of(&[("lcov.info", FULL)]));
    let step = run_event(
        &fake,
        "ghs_workflow_rw",
        "workflow_run",
        &fork_run(902, ".github/workflows/ci.yml"),
        &[],
    )
    .await;
    assert!(
        step.stdout.contains("several pull requests (#2, #4)"),
        "{}",
        step.stdout
    );
    assert!(
        fake.check_runs().is_empty(),
        "no check run on the shared head"
    );
    assert!(fake.comments(REPO, 2).is_empty() && fake.comments(REPO, 4).is_empty());
}
