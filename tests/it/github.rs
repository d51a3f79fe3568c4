//! Keel's GitHub client against the FakeGitHub: App JWT, token caching and renewal, files at a
//! commit, check runs with annotations in batches of 50, and error classification.

use crate::support::github::{APP_ID, FakeGitHub, app_key};
use keel::github::client::{ApiError, CheckRunOutput, GitHub, GitHubApi, Repo};
use keel::github::{CommitSha, InstallationId, RepoName};
use keel_core::evaluation::{Annotation, AnnotationLevel, Conclusion};
use secrecy::SecretString;
use wiremock::ResponseTemplate;

const REPO: &str = "octo/app";
const BASE: &str = "1111111111111111111111111111111111111111";

fn client(fake: &FakeGitHub) -> GitHub {
    GitHub::new(APP_ID, &SecretString::from(app_key()), &fake.uri()).unwrap()
}

fn ids() -> (Repo, CommitSha) {
    (
        Repo {
            installation: InstallationId(7),
            name: RepoName(REPO.into()),
        },
        CommitSha(BASE.into()),
    )
}

#[tokio::test]
async fn one_installation_token_is_minted_with_a_valid_app_jwt_and_reused() {
    let fake = FakeGitHub::start().await;
    fake.put_file(
        REPO,
        BASE,
        ".github/keel.toml",
        b"[coverage]\nmin_total = 80\n",
    );
    let gh = client(&fake);
    let (repo, sha) = ids();
    let first = gh.file_at(&repo, ".github/keel.toml", &sha).await.unwrap();
    assert_eq!(first.as_deref(), Some(&b"[coverage]\nmin_total = 80\n"[..]));
    let absent = gh
        .file_at(&repo, ".github/roadmap.toml", &sha)
        .await
        .unwrap();
    assert_eq!(absent, None, "404 is `no such file`, not an error");
    assert_eq!(
        fake.tokens_minted(),
        1,
        "the fake checked iss, iat 60 s back and exp ≤ 10 min"
    );
    assert_eq!(
        fake.log().await,
        [
            "POST /app/installations/7/access_tokens",
            "GET /repos/octo/app/contents/.github/keel.toml",
            "GET /repos/octo/app/contents/.github/roadmap.toml",
        ]
    );
}

#[tokio::test]
async fn an_expired_token_is_replaced_and_the_call_still_succeeds() {
    let fake = FakeGitHub::start().await;
    fake.put_file(REPO, BASE, "a.txt", b"a");
    let gh = client(&fake);
    let (repo, sha) = ids();
    gh.file_at(&repo, "a.txt", &sha).await.unwrap();
    fake.expire_tokens();
    assert_eq!(
        gh.file_at(&repo, "a.txt", &sha).await.unwrap().as_deref(),
        Some(&b"a"[..])
    );
    assert_eq!(fake.tokens_minted(), 2);
}

fn annotations(n: u32) -> Vec<Annotation> {
    (1..=n)
        .map(|i| Annotation {
            path: "src/lib.rs".into(),
            start_line: i,
            end_line: i,
            level: AnnotationLevel::Warning,
            title: "Uncovered line".into(),
            message: format!("Added line {i} is not covered by tests"),
        })
        .collect()
}

#[tokio::test]
async fn a_check_run_is_started_then_completed_with_annotations_in_batches_of_50() {
    let fake = FakeGitHub::start().await;
    let gh = client(&fake);
    let (repo, sha) = ids();
    let id = gh
        .start_check_run(&repo, "Keel · Definition of done", &sha, None)
        .await
        .unwrap();
    assert_eq!(fake.check_runs()[0].status, "in_progress");
    let all = annotations(120);
    let output = CheckRunOutput {
        conclusion: Conclusion::Failure,
        title: "not met",
        summary: "### ❌",
        annotations: &all,
    };
    gh.complete_check_run(&repo, id, &output).await.unwrap();
    let run = &fake.check_runs()[0];
    assert_eq!(
        (run.status.as_str(), run.conclusion.as_deref()),
        ("completed", Some("failure"))
    );
    assert_eq!(run.annotations.len(), 120);
    assert_eq!(run.annotations[119]["start_line"], 120);
    let patches = fake
        .log()
        .await
        .iter()
        .filter(|l| l.starts_with("PATCH"))
        .count();
    assert_eq!(patches, 3, "50 + 50 + 20");
}

#[tokio::test]
async fn a_check_run_write_answers_the_run_as_github_has_it_even_when_the_answer_is_cut() {
    let fake = FakeGitHub::start().await;
    let gh = client(&fake);
    let (repo, sha) = ids();
    let id = gh.start_check_run(&repo, "Keel", &sha, None).await.unwrap();
    let output = CheckRunOutput {
        conclusion: Conclusion::Success,
        title: "met",
        summary: "### ✅",
        annotations: &[],
    };
    let done = gh.complete_check_run(&repo, id, &output).await.unwrap();
    assert_eq!(
        (done.status.as_str(), done.conclusion.as_deref()),
        ("completed", Some("success"))
    );
    // A completed run keeps its conclusion, and the answer says so.
    let failed = CheckRunOutput {
        conclusion: Conclusion::Failure,
        ..output
    };
    let kept = gh.complete_check_run(&repo, id, &failed).await.unwrap();
    assert_eq!(kept.conclusion.as_deref(), Some("success"));
    // An answer cut off on the way: the run is read rather than the write repeated.
    fake.fail_next(
        "PATCH",
        "check-runs",
        ResponseTemplate::new(200).set_body_string("{\"id\": 10"),
    );
    let read = gh.complete_check_run(&repo, id, &failed).await.unwrap();
    assert_eq!((read.id, read.conclusion.as_deref()), (id, Some("success")));
    let log = fake.log().await;
    assert_eq!(
        log.last().map(String::as_str),
        Some(format!("GET /repos/{}/check-runs/{id}", repo.name).as_str()),
        "{log:?}"
    );
}

#[tokio::test]
async fn failures_are_classified_for_the_retry_policy() {
    let fake = FakeGitHub::start().await;
    let gh = client(&fake);
    let (repo, sha) = ids();
    fake.fail_next(
        "POST",
        "check-runs",
        ResponseTemplate::new(502).set_body_json(serde_json::json!({"message": "Bad Gateway"})),
    );
    let e = gh
        .start_check_run(&repo, "Keel", &sha, None)
        .await
        .unwrap_err();
    assert!(
        matches!(e, ApiError::Transient(ref m) if m.starts_with("502")),
        "{e:?}"
    );
    fake.fail_next(
        "POST",
        "check-runs",
        ResponseTemplate::new(403)
            .insert_header("retry-after", "30")
            .set_body_json(
                serde_json::json!({"message": "You have exceeded a secondary rate limit"}),
            ),
    );
    let e = gh
        .start_check_run(&repo, "Keel", &sha, None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            ApiError::RateLimited {
                retry_after_secs: 30,
                ..
            }
        ),
        "{e:?}"
    );
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 120;
    fake.fail_next(
        "GET",
        "contents",
        ResponseTemplate::new(403)
            .insert_header("x-ratelimit-remaining", "0")
            .insert_header("x-ratelimit-reset", reset.to_string().as_str())
            .set_body_json(serde_json::json!({"message": "API rate limit exceeded"})),
    );
    let e = gh.file_at(&repo, "a.txt", &sha).await.unwrap_err();
    assert!(
        matches!(
            e,
            ApiError::RateLimited {
                retry_after_secs: 115..=120,
                ..
            }
        ),
        "{e:?}"
    );
    // The budget is spent: further calls as that installation wait for the reset without
    // asking GitHub again; another installation's go on.
    let asked = fake.log().await.len();
    let e = gh.file_at(&repo, "b.txt", &sha).await.unwrap_err();
    assert!(
        matches!(
            e,
            ApiError::RateLimited {
                retry_after_secs: 115..=120,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(fake.log().await.len(), asked, "no request was sent");
    let other = Repo {
        installation: InstallationId(repo.installation.0 + 1),
        ..repo.clone()
    };
    let e = gh
        .complete_check_run(
            &other,
            99_999,
            &CheckRunOutput {
                conclusion: Conclusion::Success,
                title: "t",
                summary: "s",
                annotations: &[],
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::Rejected { status: 404, .. }), "{e:?}");
    let posts = fake
        .log()
        .await
        .iter()
        .filter(|l| l.starts_with("POST /repos"))
        .count();
    assert_eq!(posts, 2, "no POST is retried by the client itself");
}
