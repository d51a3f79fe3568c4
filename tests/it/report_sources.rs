//! Reports from wherever CI makes them (issue 17), through the App against the FakeGitHub on
//! every backend: a test matrix's artifacts merged, SARIF from a second workflow, a workflow
//! that never runs, no run at all (the deadline), and `keel upload`.

use crate::reports_flow::{BASE, HEAD, NOW, REPO, deliver, json_of, worker, zip_of};
use crate::support::db::backends;
use crate::support::github::FakeGitHub;
use crate::support::webhook::{TestServer, payload};
use keel::store::UploadScope;
use serde_json::json;

/// hello.rb's lines 1 and 2 are added by the pull request.
const PATCH: &str = "@@ -1 +1,2 @@\n-Hello\n+Hello World\n+More";

async fn github(config: &str) -> FakeGitHub {
    let fake = FakeGitHub::start().await;
    fake.put_file(REPO, BASE, ".github/keel.toml", config.as_bytes());
    fake.put_pr_files(REPO, 2, &[("hello.rb", "modified", Some(PATCH))]);
    fake.put_pull(
        REPO,
        2,
        json_of("pull_request/opened.2.json")["pull_request"].clone(),
    );
    fake
}

async fn open(server: &TestServer) {
    deliver(
        server,
        "pull_request",
        "pr",
        payload("pull_request/opened.2.json"),
    )
    .await;
}

/// A `workflow_run` `completed` of `file` (`.github/workflows/{file}`) on the head.
fn finished(run_id: u64, file: &str) -> Vec<u8> {
    let mut p: serde_json::Value = serde_json::from_slice(&crate::reports_flow::workflow_run(
        run_id,
        "CI",
        "pull_request",
        HEAD,
        "changes",
        &[2],
        REPO,
    ))
    .unwrap();
    p["workflow_run"]["path"] = json!(format!(".github/workflows/{file}"));
    p["workflow_run"]["name"] = json!(file.trim_end_matches(".yml"));
    serde_json::to_vec(&p).unwrap()
}

/// Keel's one check run: (status, conclusion, summary).
fn keel_check(fake: &FakeGitHub) -> (String, Option<String>, String) {
    let runs = fake.check_runs();
    assert_eq!(runs.len(), 1, "one check run on the head");
    let run = &runs[0];
    (
        run.status.clone(),
        run.conclusion.clone(),
        run.summary.clone().unwrap_or_default(),
    )
}

/// One matrix job's coverage: (file, (line, hits)) records.
type Job<'a> = &'a [(&'a str, &'a [(u32, u32)])];

/// An LCOV record of `file` with `lines` (line, hits).
fn lcov(file: &str, lines: &[(u32, u32)]) -> Vec<u8> {
    let mut text = format!("SF:{file}\n");
    for (line, hits) in lines {
        text.push_str(&format!("DA:{line},{hits}\n"));
    }
    text.push_str("end_of_record\n");
    text.into_bytes()
}

#[tokio::test]
async fn a_three_job_matrix_is_merged_into_one_coverage_total() {
    for db in backends().await {
        let fake = github(
            "[coverage]\nmin_total = 60\n\n[reports]\nartifacts = [\"keel-reports-*\"]\nworkflow = \"ci.yml\"\n",
        )
        .await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        open(&server).await;
        // Three jobs, three artifacts (upload-artifact v4 needs a name per job), each seeing
        // part of the lines; and one artifact no pattern names, with a perfect report.
        let jobs: [Job; 3] = [
            &[("hello.rb", &[(1, 1), (2, 0), (3, 0), (4, 0)])],
            &[("hello.rb", &[(1, 0), (2, 3), (3, 0), (4, 0)])],
            &[("lib.rb", &[(1, 0), (2, 1)])],
        ];
        for (i, files) in jobs.iter().enumerate() {
            let lcov: Vec<u8> = files.iter().flat_map(|(f, l)| lcov(f, l)).collect();
            fake.put_artifact(
                REPO,
                77,
                &format!("keel-reports-{}", i + 1),
                zip_of(&[("lcov.info", &lcov)]),
            );
        }
        fake.put_artifact(
            REPO,
            77,
            "other",
            zip_of(&[("lcov.info", &lcov("hello.rb", &[(3, 1), (4, 1)]))]),
        );
        deliver(&server, "workflow_run", "wr-77", finished(77, "ci.yml")).await;
        worker.run_until_idle(NOW).await.unwrap();
        let (status, conclusion, summary) = keel_check(&fake);
        // Merged exactly: hello.rb lines 1 and 2 covered of 4, lib.rb line 2 of 2: LH/LF = 3/6
        // (the unread artifact would have covered hello.rb's lines 3 and 4).
        let merged_lh: u32 = 3;
        let merged_lf: u32 = 6;
        let percent = format!("{:.2}", f64::from(merged_lh) * 100.0 / f64::from(merged_lf));
        assert_eq!(
            (status.as_str(), conclusion.as_deref()),
            ("completed", Some("failure")),
            "{}: {summary}",
            db.backend
        );
        assert!(
            summary.contains(&format!(
                "**Total coverage**: {}% (needs ≥ 60%) — {merged_lh} of {merged_lf} lines covered",
                percent.replace('.', "\\.")
            )),
            "{summary}"
        );
        for i in 1..=3 {
            assert!(
                summary.contains(&format!(
                    "artifact \\`keel\\-reports\\-{i}\\` of workflow run 77"
                )),
                "artifact {i} is listed: {summary}"
            );
        }
        assert!(!summary.contains("other"), "{summary}");
        // One listing for the run (globs list every artifact), one download per matching
        // artifact, none for the artifact no pattern names.
        let log = fake.log().await;
        let count = |what: &str| log.iter().filter(|l| l.contains(what)).count();
        assert_eq!(count("/actions/runs/77/artifacts"), 1, "{log:?}");
        assert_eq!(count("/zip"), 3, "{log:?}");
        db.finish().await;
    }
}

/// A SARIF log with one `error` result of `rule` at hello.rb line 2 (added by the change).
fn sarif(rule: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "CodeQL"}}, "results": [{
            "ruleId": rule, "level": "error",
            "message": {"text": "This query depends on a user-provided value."},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": "hello.rb"},
                "region": {"startLine": 2}}}]
        }]}]
    }))
    .unwrap()
}

const TWO_WORKFLOWS: &str = "[coverage]\nmin_total = 50\n\n[security]\nfail_on = \"high\"\n\n[reports]\nartifacts = [\"keel-reports\", \"codeql-sarif\"]\nworkflows = [\"ci.yml\", \"codeql.yml\"]\n";

#[tokio::test]
async fn sarif_from_a_second_workflow_is_waited_for_and_merged() {
    for db in backends().await {
        let fake = github(TWO_WORKFLOWS).await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        open(&server).await;
        // CI finishes first while CodeQL is still running: the check keeps waiting.
        fake.put_workflow_runs_of(
            REPO,
            HEAD,
            &[
                (77, "completed", ".github/workflows/ci.yml"),
                (78, "in_progress", ".github/workflows/codeql.yml"),
            ],
        );
        fake.put_artifact(
            REPO,
            77,
            "keel-reports",
            zip_of(&[("lcov.info", &lcov("hello.rb", &[(1, 1), (2, 1)]))]),
        );
        deliver(&server, "workflow_run", "wr-77", finished(77, "ci.yml")).await;
        worker.run_until_idle(NOW).await.unwrap();
        let (status, _, summary) = keel_check(&fake);
        assert_eq!(status, "in_progress", "{}: {summary}", db.backend);
        assert!(summary.contains("1 run under way"), "{summary}");

        // CodeQL finishes with a high finding on an added line: both parts are judged.
        fake.put_workflow_runs_of(
            REPO,
            HEAD,
            &[
                (77, "completed", ".github/workflows/ci.yml"),
                (78, "completed", ".github/workflows/codeql.yml"),
            ],
        );
        fake.put_artifact(
            REPO,
            78,
            "codeql-sarif",
            zip_of(&[("results.sarif", &sarif("rb/sql-injection"))]),
        );
        deliver(&server, "workflow_run", "wr-78", finished(78, "codeql.yml")).await;
        worker.run_until_idle(NOW + 1).await.unwrap();
        let (status, conclusion, summary) = keel_check(&fake);
        assert_eq!(
            (status.as_str(), conclusion.as_deref()),
            ("completed", Some("failure")),
            "{summary}"
        );
        assert!(summary.contains("`rb/sql-injection` (high)"), "{summary}");
        assert!(
            summary.contains("**Total coverage**: 100\\.00%")
                || summary.contains("| Total coverage | 100\\.00%"),
            "{summary}"
        );
        for (artifact, run) in [("keel\\-reports", 77), ("codeql\\-sarif", 78)] {
            assert!(
                summary.contains(&format!("artifact \\`{artifact}\\` of workflow run {run}")),
                "{artifact}: {summary}"
            );
        }
        db.finish().await;
    }
}

#[tokio::test]
async fn a_waited_for_workflow_that_never_runs_does_not_keep_the_check_waiting() {
    for db in backends().await {
        let fake = github(TWO_WORKFLOWS).await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        open(&server).await;
        // CodeQL's path filter skips this change: only CI runs.
        fake.put_workflow_runs_of(REPO, HEAD, &[(77, "completed", ".github/workflows/ci.yml")]);
        fake.put_artifact(
            REPO,
            77,
            "keel-reports",
            zip_of(&[("lcov.info", &lcov("hello.rb", &[(1, 1), (2, 1)]))]),
        );
        deliver(&server, "workflow_run", "wr-77", finished(77, "ci.yml")).await;
        worker.run_until_idle(NOW).await.unwrap();
        let (status, conclusion, summary) = keel_check(&fake);
        assert_eq!(
            (status.as_str(), conclusion.as_deref()),
            ("completed", Some("failure")),
            "{}: {summary}",
            db.backend
        );
        assert!(
            summary.contains("\\`codeql\\.yml\\` did not run for this commit"),
            "{summary}"
        );
        assert!(summary.contains("no report"), "{summary}");
        db.finish().await;
    }
}

#[tokio::test]
async fn with_no_run_at_all_the_check_ends_no_report_after_the_timeout() {
    for db in backends().await {
        let fake = github("[coverage]\nmin_total = 50\n\n[reports]\ntimeout = \"20m\"\n").await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        // A path-filtered CI starts no run for this change; nothing ever comes.
        open(&server).await;
        worker.run_until_idle(NOW).await.unwrap();
        let (status, _, summary) = keel_check(&fake);
        assert_eq!(status, "in_progress", "{}: {summary}", db.backend);
        assert!(summary.contains("no run has started yet"), "{summary}");
        // A minute before the timeout: still waiting; judging again does not move the
        // deadline.
        worker.run_until_idle(NOW + 19 * 60_000).await.unwrap();
        assert_eq!(keel_check(&fake).0, "in_progress");
        worker.run_until_idle(NOW + 20 * 60_000).await.unwrap();
        let (status, conclusion, summary) = keel_check(&fake);
        assert_eq!(
            (status.as_str(), conclusion.as_deref()),
            ("completed", Some("failure")),
            "{summary}"
        );
        assert!(
            summary.contains("within 20 minutes") && summary.contains("no report"),
            "{summary}"
        );
        db.finish().await;
    }
}

/// `POST /reports/{REPO}/{HEAD}` with `token` (or none) and `archive`.
fn upload_request(
    token: Option<&str>,
    name: &str,
    archive: Vec<u8>,
) -> axum::http::Request<axum::body::Body> {
    let mut request = axum::http::Request::post(format!("/reports/{REPO}/{HEAD}?name={name}"))
        .header("content-type", "application/zip");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.body(axum::body::Body::from(archive)).unwrap()
}

#[tokio::test]
async fn keel_upload_is_accepted_with_the_right_token_and_refused_with_a_wrong_one() {
    for db in backends().await {
        let fake = github("[coverage]\nmin_total = 50\n\n[reports]\ntimeout = \"2h\"\n").await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        let token = db
            .store
            .issue_upload_token(REPO, UploadScope::PullRequests, NOW)
            .await
            .unwrap();
        let other = db
            .store
            .issue_upload_token("Codertocat/Other", UploadScope::PullRequests, NOW)
            .await
            .unwrap();
        open(&server).await;
        worker.run_until_idle(NOW).await.unwrap();
        // CI outside Actions has not sent its reports yet: the check waits for them.
        assert_eq!(keel_check(&fake).0, "in_progress", "{}", db.backend);

        let reports = zip_of(&[("coverage/lcov.info", &lcov("hello.rb", &[(1, 1), (2, 1)]))]);
        let forged = zip_of(&[("lcov.info", &lcov("hello.rb", &[(1, 1), (2, 1)]))]);
        for (token, why) in [
            (None, "no token"),
            (Some("keel_0000"), "a wrong token"),
            (Some(other.as_str()), "another repository's token"),
            (Some(&token[..token.len() - 1]), "a prefix of the token"),
        ] {
            let (status, text) = server
                .send(upload_request(token, "forged", forged.clone()))
                .await;
            assert_eq!(status, 401, "{why}: {text}");
            assert!(!text.contains("Codertocat"), "{why}: says nothing: {text}");
        }
        assert!(
            db.store.uploads(REPO, HEAD).await.unwrap().is_empty(),
            "nothing stored"
        );
        // Not a zip archive: refused with the reason, nothing stored.
        let (status, text) = server
            .send(upload_request(Some(&token), "junk", b"not a zip".to_vec()))
            .await;
        assert_eq!(status, 400, "{text}");
        assert!(db.store.uploads(REPO, HEAD).await.unwrap().is_empty());

        let (status, text) = server
            .send(upload_request(Some(&token), "coverage", reports))
            .await;
        assert_eq!(status, 202, "{text}");
        worker.run_until_idle(NOW + 1).await.unwrap();
        let (status, conclusion, summary) = keel_check(&fake);
        assert_eq!(
            (status.as_str(), conclusion.as_deref()),
            ("completed", Some("success")),
            "{summary}"
        );
        assert!(
            summary.contains("sent with \\`keel upload\\`")
                && summary.contains("coverage/lcov\\.info"),
            "{summary}"
        );
        db.finish().await;
    }
}

/// A repository whose `[reports] workflow` pins `ci.yml`, with the pull request upload token
/// issued (for another pipeline, or leaked to a build): `ci.yml` leaves hello.rb's line 2
/// untested.
const PINNED: &str = "[coverage]\nmin_patch = 100\n\n[reports]\nworkflow = \"ci.yml\"\n";

#[tokio::test]
async fn an_upload_cannot_add_coverage_to_the_reports_of_a_pinned_workflow() {
    for (config, read) in [
        (PINNED.to_owned(), false),
        (format!("{PINNED}uploads = true\n"), true),
    ] {
        for db in backends().await {
            let fake = github(&config).await;
            let server = TestServer::new(&db.store);
            let worker = worker(&db, &fake);
            let token = db
                .store
                .issue_upload_token(REPO, UploadScope::PullRequests, NOW)
                .await
                .unwrap();
            open(&server).await;
            fake.put_workflow_runs_of(REPO, HEAD, &[(77, "completed", ".github/workflows/ci.yml")]);
            fake.put_artifact(
                REPO,
                77,
                "keel-reports",
                zip_of(&[("lcov.info", &lcov("hello.rb", &[(1, 1), (2, 0)]))]),
            );
            // The attacker's upload says line 2 ran too; coverage merges, so it would raise
            // the patch to 100%.
            let forged = zip_of(&[("lcov.info", &lcov("hello.rb", &[(1, 1), (2, 1)]))]);
            let (status, text) = server
                .send(upload_request(Some(&token), "coverage", forged))
                .await;
            assert_eq!(status, 202, "{text}");
            deliver(&server, "workflow_run", "wr-77", finished(77, "ci.yml")).await;
            worker.run_until_idle(NOW).await.unwrap();
            let (status, conclusion, summary) = keel_check(&fake);
            let expected = if read { "success" } else { "failure" };
            assert_eq!(
                (status.as_str(), conclusion.as_deref()),
                ("completed", Some(expected)),
                "{} uploads read: {read}: {summary}",
                db.backend
            );
            assert_eq!(
                summary.contains("Reports read from \\`coverage\\`, sent with \\`keel upload\\`"),
                read,
                "{summary}"
            );
            if !read {
                assert!(
                    summary.contains(
                        "1 archive sent with \\`keel upload\\` for this commit was not read"
                    ) && summary.contains("uploads = true"),
                    "the check run says why the upload was left out: {summary}"
                );
            }
            db.finish().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_sent_at_once_hold_no_more_than_their_room_and_take_none_from_webhooks() {
    use tokio::io::AsyncWriteExt;
    let db = crate::support::db::sqlite().await;
    let full = 64 * 1024;
    let uploads = std::sync::Arc::new(keel::server::guard::IntakeGuard::new(
        full,
        std::time::Duration::from_millis(200),
        std::time::Duration::from_secs(30),
    ));
    let server = TestServer::with_guards(
        &db.store,
        std::sync::Arc::new(keel::server::guard::IntakeGuard::default()),
        std::sync::Arc::clone(&uploads),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = server.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let token = db
        .store
        .issue_upload_token(REPO, UploadScope::PullRequests, NOW)
        .await
        .unwrap();
    // A token holder declares a 63 KB archive, sends 60 KB of it and stops.
    let mut stalled = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /reports/{REPO}/{HEAD}?name=big HTTP/1.1\r\nHost: keel\r\nAuthorization: Bearer {token}\r\nContent-Type: application/zip\r\nContent-Length: 63000\r\n\r\n"
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    stalled.write_all(&vec![0u8; 60_000]).await.unwrap();
    let held = |bytes: u64| {
        let uploads = std::sync::Arc::clone(&uploads);
        async move {
            let wait = async {
                while full - uploads.available_bytes() < bytes {
                    tokio::task::yield_now().await;
                }
            };
            tokio::time::timeout(std::time::Duration::from_secs(10), wait)
                .await
                .expect("the uploads' room reaches the bytes held");
        }
    };
    held(58 * 1024).await;
    // Bytes that do not compress: the archive stays about 20 KB.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let noise: Vec<u8> = (0..20_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect();
    let reports = zip_of(&[("lcov.info", &noise)]);
    assert!(reports.len() > 8 * 1024, "{} bytes", reports.len());
    let (status, text) = server
        .send(upload_request(Some(&token), "coverage", reports.clone()))
        .await;
    assert_eq!(status, 503, "no room for another 20 KB upload: {text}");
    assert!(text.contains("send it again"), "{text}");
    assert!(db.store.uploads(REPO, HEAD).await.unwrap().is_empty());
    // Webhook deliveries have room of their own.
    let (status, text) = server
        .send(crate::support::webhook::signed(
            "pull_request",
            "while-uploading",
            payload("pull_request/opened.2.json"),
        ))
        .await;
    assert_eq!(status, 202, "{text}");
    // The stalled upload goes away: its room comes back and the upload is taken.
    drop(stalled);
    let freed = async {
        while uploads.available_bytes() < full {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), freed)
        .await
        .expect("the stalled upload's room is freed when its client goes");
    let (status, text) = server
        .send(upload_request(Some(&token), "coverage", reports))
        .await;
    assert_eq!(status, 202, "{text}");
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn keel_upload_sends_again_when_the_server_is_busy() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // A server that is busy for the first two tries, then takes the archive.
    let tries = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&tries);
    let router = axum::Router::new().route(
        "/reports/{owner}/{repo}/{sha}",
        axum::routing::post(move |body: axum::body::Bytes| {
            let counted = std::sync::Arc::clone(&counted);
            async move {
                assert!(!body.is_empty(), "every try sends the archive");
                if counted.fetch_add(1, Ordering::SeqCst) < 2 {
                    (axum::http::StatusCode::SERVICE_UNAVAILABLE, "no room yet")
                } else {
                    (axum::http::StatusCode::ACCEPTED, "stored `coverage`")
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let ci = tempfile::tempdir().unwrap();
    std::fs::write(ci.path().join("lcov.info"), lcov("hello.rb", &[(1, 1)])).unwrap();
    let dir = ci.path().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_keel"))
            .args(["upload", "lcov.info", "--name", "coverage"])
            .args(["--server", &format!("http://{address}")])
            .args(["--repo", REPO, "--sha", HEAD])
            .env("KEEL_UPLOAD_TOKEN", "keel_token")
            .current_dir(dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(tries.load(Ordering::SeqCst), 3, "{stderr}");
    assert_eq!(
        stderr
            .matches("answered 503 (no room yet); sending again")
            .count(),
        2,
        "{stderr}"
    );
}

#[tokio::test]
async fn a_fake_ci_sends_its_reports_with_the_keel_upload_command() {
    for db in backends().await {
        let fake = github("[coverage]\nmin_total = 50\n").await;
        let server = TestServer::new(&db.store);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router = server.router();
        tokio::spawn(async move { axum::serve(listener, router).await });
        let token = db
            .store
            .issue_upload_token(REPO, UploadScope::PullRequests, NOW)
            .await
            .unwrap();
        let ci = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(ci.path().join("coverage")).unwrap();
        std::fs::write(
            ci.path().join("coverage/lcov.info"),
            lcov("hello.rb", &[(1, 1), (2, 0)]),
        )
        .unwrap();
        let upload = |token: &str| {
            let token = token.to_owned();
            let dir = ci.path().to_owned();
            async move {
                tokio::task::spawn_blocking(move || {
                    std::process::Command::new(env!("CARGO_BIN_EXE_keel"))
                        .args(["upload", "coverage/*.info", "--name", "coverage"])
                        .args(["--server", &format!("http://{address}")])
                        .args(["--repo", REPO, "--sha", HEAD])
                        .env("KEEL_UPLOAD_TOKEN", token)
                        .current_dir(dir)
                        .output()
                        .unwrap()
                })
                .await
                .unwrap()
            }
        };
        let refused = upload("keel_wrong").await;
        assert_eq!(refused.status.code(), Some(2), "{refused:?}");
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("401"),
            "{refused:?}"
        );
        assert!(db.store.uploads(REPO, HEAD).await.unwrap().is_empty());
        let sent = upload(&token).await;
        assert!(sent.status.success(), "{sent:?}");
        let stored = db.store.uploads(REPO, HEAD).await.unwrap();
        assert_eq!(
            stored.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
            ["coverage"]
        );
        // The archive holds the report under its path, and `fake` never saw a request: the
        // reports went to Keel, not to GitHub.
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(
            db.store
                .upload_archive(REPO, HEAD, &stored[0].name)
                .await
                .unwrap()
                .expect("the archive is kept"),
        ))
        .unwrap();
        assert_eq!(
            zip.by_index(0).unwrap().name().unwrap(),
            "coverage/lcov.info"
        );
        assert!(fake.log().await.is_empty());
        db.finish().await;
    }
}

#[tokio::test]
async fn keel_upload_token_shows_the_token_once_and_stores_only_its_digest() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("keel.db").display());
    let issue = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_keel"))
            .args(["upload-token", REPO, "--database-url", &url])
            .output()
            .unwrap()
    };
    let first = issue();
    assert!(first.status.success(), "{first:?}");
    let token = String::from_utf8(first.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("keel_") && token.len() > 60, "{token}");
    assert!(String::from_utf8_lossy(&first.stderr).contains("only time"));
    let store = keel::store::Store::connect(&url).await.unwrap();
    assert_eq!(
        store.upload_token_scope(REPO, &token).await.unwrap(),
        Some(UploadScope::PullRequests)
    );
    store.close().await;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "the token itself is never stored"
        );
    }
    // A new token replaces the old one.
    let second = String::from_utf8(issue().stdout).unwrap().trim().to_owned();
    let store = keel::store::Store::connect(&url).await.unwrap();
    assert_eq!(store.upload_token_scope(REPO, &token).await.unwrap(), None);
    assert_eq!(
        store.upload_token_scope(REPO, &second).await.unwrap(),
        Some(UploadScope::PullRequests)
    );
    store.close().await;
    // The baseline token is another, issued beside it.
    let baseline = std::process::Command::new(env!("CARGO_BIN_EXE_keel"))
        .args(["upload-token", REPO, "--baseline", "--database-url", &url])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&baseline.stderr).contains("the baseline token"));
    let baseline = String::from_utf8(baseline.stdout)
        .unwrap()
        .trim()
        .to_owned();
    let store = keel::store::Store::connect(&url).await.unwrap();
    assert_eq!(
        store.upload_token_scope(REPO, &baseline).await.unwrap(),
        Some(UploadScope::Baseline)
    );
    assert_eq!(
        store.upload_token_scope(REPO, &second).await.unwrap(),
        Some(UploadScope::PullRequests)
    );
    store.close().await;
}

#[tokio::test]
async fn code_scanning_alerts_are_the_source_of_new_findings() {
    for db in backends().await {
        let fake = github(
            "[security]\nfail_on = \"high\"\nsource = \"code-scanning\"\n\n[reports]\nworkflows = [\"codeql.yml\"]\n",
        )
        .await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        open(&server).await;
        // The scanning run finished, and code scanning has no analysis of the pull request:
        // the criterion cannot be judged, which is not "no findings".
        fake.put_workflow_runs_of(
            REPO,
            HEAD,
            &[(78, "completed", ".github/workflows/codeql.yml")],
        );
        deliver(&server, "workflow_run", "wr-78", finished(78, "codeql.yml")).await;
        worker.run_until_idle(NOW).await.unwrap();
        let (_, conclusion, summary) = keel_check(&fake);
        assert_eq!(
            conclusion.as_deref(),
            Some("failure"),
            "{}: {summary}",
            db.backend
        );
        assert!(
            summary.contains("no analysis of this pull request"),
            "{summary}"
        );

        // The newest analysis is of the merge commit of an earlier head, with no alerts: it
        // says nothing about this head.
        let (old_merge, merge) = (
            "0ld0000000000000000000000000000000000000",
            "3e53000000000000000000000000000000000000",
        );
        let old_merge = old_merge.replace('l', "1");
        fake.put_parents(
            REPO,
            &old_merge,
            &[BASE, "1111111111111111111111111111111111111111"],
        );
        fake.put_parents(REPO, merge, &[BASE, HEAD]);
        fake.put_code_scanning(REPO, "refs/pull/2/merge", &old_merge, &[]);
        deliver(
            &server,
            "workflow_run",
            "wr-78s",
            finished(78, "codeql.yml"),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        let (_, conclusion, summary) = keel_check(&fake);
        assert_eq!(conclusion.as_deref(), Some("failure"), "{summary}");
        assert!(summary.contains("not of this head"), "{summary}");

        // Analysed: alert 7 is open on the base branch too (old, on an unchanged line), alert
        // 9 is new and high on an added line; alert 11 is new but low.
        fake.put_code_scanning(
            REPO,
            "refs/heads/master",
            BASE,
            &[(7, "rb/path-injection", "high", "hello.rb", 1)],
        );
        fake.put_code_scanning(
            REPO,
            "refs/pull/2/merge",
            merge,
            &[
                (7, "rb/path-injection", "high", "hello.rb", 1),
                (9, "rb/sql-injection", "high", "hello.rb", 2),
                (11, "rb/weak-hash", "low", "hello.rb", 2),
            ],
        );
        deliver(
            &server,
            "workflow_run",
            "wr-78b",
            finished(78, "codeql.yml"),
        )
        .await;
        worker.run_until_idle(NOW + 1).await.unwrap();
        let (_, conclusion, summary) = keel_check(&fake);
        assert_eq!(conclusion.as_deref(), Some("failure"), "{summary}");
        assert!(
            summary.contains("**New security findings**: 1 (needs 0 at or above high)"),
            "{summary}"
        );
        assert!(summary.contains("`rb/sql-injection` (high)"), "{summary}");
        assert!(!summary.contains("`rb/path-injection`"), "{summary}");

        // The alert is fixed: only the old one and the low one remain open.
        fake.put_code_scanning(
            REPO,
            "refs/pull/2/merge",
            merge,
            &[
                (7, "rb/path-injection", "high", "hello.rb", 1),
                (11, "rb/weak-hash", "low", "hello.rb", 2),
            ],
        );
        deliver(
            &server,
            "workflow_run",
            "wr-78c",
            finished(78, "codeql.yml"),
        )
        .await;
        worker.run_until_idle(NOW + 2).await.unwrap();
        let (_, conclusion, summary) = keel_check(&fake);
        assert_eq!(conclusion.as_deref(), Some("success"), "{summary}");
        db.finish().await;
    }
}

#[tokio::test]
async fn a_run_with_more_artifacts_than_the_budget_makes_the_reports_unreadable() {
    for db in backends().await {
        let fake = github(
            "[coverage]\nmin_total = 50\n\n[reports]\nartifacts = [\"keel-reports-*\"]\nworkflow = \"ci.yml\"\n",
        )
        .await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        open(&server).await;
        let one = zip_of(&[("lcov.info", &lcov("hello.rb", &[(1, 1), (2, 1)]))]);
        for i in 0..65 {
            fake.put_artifact(REPO, 77, &format!("keel-reports-{i:03}"), one.clone());
        }
        deliver(&server, "workflow_run", "wr-77", finished(77, "ci.yml")).await;
        worker.run_until_idle(NOW).await.unwrap();
        let (status, conclusion, summary) = keel_check(&fake);
        assert_eq!(
            (status.as_str(), conclusion.as_deref()),
            ("completed", Some("failure")),
            "{}: {summary}",
            db.backend
        );
        assert!(summary.contains("more than 64 artifacts"), "{summary}");
        db.finish().await;
    }
}

#[tokio::test]
async fn uploads_for_a_default_branch_commit_become_its_baseline_with_the_baseline_token_only() {
    for db in backends().await {
        let fake = github("[coverage]\nmax_drop = 1\n").await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        db.store
            .add_installation_repos(1, &[REPO.to_owned()], NOW)
            .await
            .unwrap();
        let pulls_token = db
            .store
            .issue_upload_token(REPO, UploadScope::PullRequests, NOW)
            .await
            .unwrap();
        let token = db
            .store
            .issue_upload_token(REPO, UploadScope::Baseline, NOW)
            .await
            .unwrap();
        // A push makes BASE the default branch's head; CI outside Actions sends its reports.
        deliver(
            &server,
            "push",
            "push-main",
            crate::reports_flow::push_to_master(BASE),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        let send = |sha: &str, token: &str, hits: u32| {
            let name = if token == pulls_token {
                "coverage"
            } else {
                "main"
            };
            axum::http::Request::post(format!("/reports/{REPO}/{sha}?name={name}"))
                .header("authorization", format!("Bearer {token}"))
                .body(axum::body::Body::from(zip_of(&[(
                    "lcov.info",
                    &lcov("hello.rb", &[(1, 1), (2, hits)]),
                )])))
                .unwrap()
        };
        // Sent with the pull request token (which every CI build holds): no baseline.
        let (status, text) = server.send(send(BASE, &pulls_token, 0)).await;
        assert_eq!(status, 202, "{text}");
        worker.run_until_idle(NOW + 1).await.unwrap();
        assert!(
            db.store.baseline(REPO, BASE).await.unwrap().is_none(),
            "{}: the pull request token makes no baseline",
            db.backend
        );
        // Nor can it fill the commit's room for uploads before the baseline pipeline sends
        // (its own names count apart).
        for n in 0..keel::store::MAX_UPLOADS_PER_COMMIT {
            let filler = axum::http::Request::post(format!("/reports/{REPO}/{BASE}?name=n{n}"))
                .header("authorization", format!("Bearer {pulls_token}"))
                .body(axum::body::Body::from(zip_of(&[("x.txt", b"x")])))
                .unwrap();
            let (status, text) = server.send(filler).await;
            assert!(status == 202 || status == 409, "{status} {text}");
        }
        let upload = |sha: &str| send(sha, &token, 1);
        let (status, text) = server.send(upload(BASE)).await;
        assert_eq!(status, 202, "{text}");
        worker.run_until_idle(NOW + 1).await.unwrap();
        let baseline = db
            .store
            .baseline(REPO, BASE)
            .await
            .unwrap()
            .expect("a baseline from the upload");
        let metrics: serde_json::Value = serde_json::from_slice(&baseline.metrics).unwrap();
        assert!(metrics["coverage"].is_object(), "{}: {metrics}", db.backend);
        // The pull request token cannot replace what the baseline token sent.
        let replace = axum::http::Request::post(format!("/reports/{REPO}/{BASE}?name=main"))
            .header("authorization", format!("Bearer {pulls_token}"))
            .body(axum::body::Body::from(zip_of(&[("x.txt", b"x")])))
            .unwrap();
        let (status, text) = server.send(replace).await;
        assert_eq!(status, 409, "{text}");
        assert!(text.contains("sent with the baseline token"), "{text}");
        let uploads = db.store.uploads(REPO, BASE).await.unwrap();
        let coverage = uploads.iter().find(|u| u.name == "main").unwrap();
        assert!(coverage.baseline, "the baseline token's archive stays");
        // A commit that is not the default branch's head gets none.
        let (status, _) = server.send(upload(HEAD)).await;
        assert_eq!(status, 202);
        worker.run_until_idle(NOW + 2).await.unwrap();
        assert!(db.store.baseline(REPO, HEAD).await.unwrap().is_none());
        db.finish().await;
    }
}
