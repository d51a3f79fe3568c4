//! `keel serve` as a process: settings validation, a delivery over a real socket, SIGTERM.

use crate::support::github::app_key;
use crate::support::webhook::{SECRET, payload};
use keel::server::signature;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

/// Looks like a PEM key but is not an RSA key.
const NOT_RSA: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n";

fn serve(envs: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keel"));
    cmd.arg("serve");
    for (k, _) in std::env::vars() {
        if k.starts_with("KEEL_") || k == "DATABASE_URL" {
            cmd.env_remove(k);
        }
    }
    cmd.envs(envs.iter().copied());
    cmd
}

#[test]
fn a_missing_or_malformed_setting_stops_start_up_with_one_line_naming_it() {
    let key = app_key();
    let cases: [(&[(&str, &str)], &str); 8] = [
        (&[], "error: KEEL_APP_ID (--app-id) is missing\n"),
        (
            &[("KEEL_APP_ID", "abc")],
            "error: KEEL_APP_ID (--app-id) must be the App's numeric id\n",
        ),
        (
            &[
                ("KEEL_APP_ID", "1"),
                ("KEEL_PRIVATE_KEY", "hunter2-not-a-key"),
                ("KEEL_WEBHOOK_SECRET", "s3cr3t-value"),
            ],
            "error: KEEL_PRIVATE_KEY is not a PEM private key (-----BEGIN … PRIVATE KEY-----)\n",
        ),
        (
            &[("KEEL_APP_ID", "1"), ("KEEL_PRIVATE_KEY", NOT_RSA)],
            "error: KEEL_PRIVATE_KEY is not an RSA private key (GitHub Apps use RSA)\n",
        ),
        (
            &[
                ("KEEL_APP_ID", "1"),
                ("KEEL_PRIVATE_KEY", &key),
                ("KEEL_WEBHOOK_SECRET", "s3cr3t-value"),
                ("KEEL_WORKERS", "many"),
            ],
            "error: KEEL_WORKERS (--workers) must be a number from 0 to 64\n",
        ),
        (
            &[
                ("KEEL_APP_ID", "1"),
                ("KEEL_PRIVATE_KEY", &key),
                ("KEEL_WEBHOOK_SECRET", "s3cr3t-value"),
                ("KEEL_LISTEN", "nowhere"),
            ],
            "error: KEEL_LISTEN (nowhere) must be an address like 127.0.0.1:3000\n",
        ),
        (
            &[
                ("KEEL_APP_ID", "1"),
                ("KEEL_PRIVATE_KEY", &key),
                ("KEEL_WEBHOOK_SECRET", "s3cr3t-value"),
                ("KEEL_PUBLIC_URL", "https://keel.example.com"),
                ("KEEL_APP_CLIENT_SECRET", "hunter2"),
            ],
            "error: the dashboard needs KEEL_PUBLIC_URL, KEEL_APP_CLIENT_ID and KEEL_APP_CLIENT_SECRET together (set all three, or none)\n",
        ),
        (
            &[
                ("KEEL_APP_ID", "1"),
                ("KEEL_PRIVATE_KEY", &key),
                ("KEEL_WEBHOOK_SECRET", "s3cr3t-value"),
                ("KEEL_PUBLIC_URL", "http://keel.example.com"),
                ("KEEL_APP_CLIENT_ID", "Iv23abc"),
                ("KEEL_APP_CLIENT_SECRET", "hunter2"),
            ],
            "error: KEEL_PUBLIC_URL (http://keel.example.com) must be https://host[:port] with no path (plain http only for this machine)\n",
        ),
    ];
    for (envs, expected) in cases {
        let out = serve(envs).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr, expected);
        assert!(
            !stderr.contains("s3cr3t-value") && !stderr.contains("hunter2"),
            "secrets never printed"
        );
    }
    let help = Command::new(env!("CARGO_BIN_EXE_keel"))
        .args(["serve", "--help"])
        .env("KEEL_WEBHOOK_SECRET", "s3cr3t-value")
        .env("KEEL_APP_CLIENT_SECRET", "hunter2")
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&help.stdout).contains("s3cr3t-value")
            && !String::from_utf8_lossy(&help.stdout).contains("hunter2"),
        "--help hides secret values"
    );
}

#[test]
fn serve_acknowledges_a_delivery_over_a_socket_stores_it_and_stops_on_sigterm() {
    let key = app_key();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("keel.db").display());
    let mut child = serve(&[
        ("KEEL_APP_ID", "1"),
        ("KEEL_PRIVATE_KEY", &key),
        // Intake only: this test checks acknowledgement and storage, not GitHub calls.
        ("KEEL_WORKERS", "0"),
        ("KEEL_WEBHOOK_SECRET", SECRET),
        ("DATABASE_URL", &db),
        ("KEEL_LISTEN", "127.0.0.1:0"),
        ("RUST_LOG", "info"),
    ])
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut logs = BufReader::new(child.stderr.take().unwrap());
    let mut child = KillOnDrop(child);
    let mut line = String::new();
    let mut addr = None;
    for _ in 0..50 {
        line.clear();
        assert!(
            logs.read_line(&mut line).unwrap() > 0,
            "keel serve exited before listening"
        );
        if let Some(rest) = line.split("addr=").nth(1) {
            addr = Some(rest.split_whitespace().next().unwrap().to_owned());
            break;
        }
    }
    let addr = addr.expect("a `listening addr=` log line");
    assert!(!line.contains(SECRET));

    let body = payload("pull_request/opened.2.json");
    let request = format!(
        "POST /webhook HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nX-GitHub-Event: pull_request\r\n\
         X-GitHub-Delivery: sock-1\r\nX-Hub-Signature-256: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        signature::sign(SECRET.as_bytes(), &body),
        body.len()
    );
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(&body).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 202"), "{response}");

    // The container health check: `keel health` against the running server, and a dead port.
    let health = |url: String| {
        Command::new(env!("CARGO_BIN_EXE_keel"))
            .args(["health", "--url", &url])
            .output()
            .unwrap()
    };
    assert_eq!(
        health(format!("http://{addr}/healthz")).status.code(),
        Some(0)
    );
    let dead = health("http://127.0.0.1:1/healthz".into());
    assert_eq!(dead.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&dead.stderr).starts_with("unhealthy: "));

    let pid = child.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.0.wait().unwrap();
    assert_eq!(status.code(), Some(0), "graceful shutdown exits 0");
    let mut rest = String::new();
    logs.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("keel serve stopped"), "{rest}");
    assert!(!rest.contains(SECRET), "no log line carries the secret");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let jobs = rt.block_on(async {
        let store = keel::store::Store::connect(&db).await.unwrap();
        store.list_jobs(None, 10).await.unwrap()
    });
    // Beside the read of missed deliveries every start enqueues.
    let jobs: Vec<_> = jobs
        .into_iter()
        .filter(|j| j.kind == "event" && j.delivery_id.is_some())
        .collect();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].delivery_id.as_deref(), Some("sock-1"));
}

/// Kills the server if the test fails before stopping it.
pub(crate) struct KillOnDrop(pub(crate) std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `keel serve` as a real App against `github` and `database`; returns it with its
/// address and its log stream.
fn start_app(
    github: &str,
    database: &str,
) -> (KillOnDrop, String, BufReader<std::process::ChildStderr>) {
    let key = app_key();
    let mut child = serve(&[
        ("KEEL_APP_ID", "4242"),
        ("KEEL_PRIVATE_KEY", &key),
        ("KEEL_WORKERS", "1"),
        ("KEEL_JOB_LEASE_SECS", "2"),
        // The crash tests kill replicas every couple of seconds, faster than real life: an
        // innocent job can be in flight at three kills. Its burial is tested in `queue`.
        ("KEEL_MAX_CRASHES", "100"),
        ("KEEL_WEBHOOK_SECRET", SECRET),
        ("KEEL_GITHUB_API_URL", github),
        ("DATABASE_URL", database),
        ("KEEL_LISTEN", "127.0.0.1:0"),
        ("RUST_LOG", "info"),
    ])
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut logs = BufReader::new(child.stderr.take().unwrap());
    let child = KillOnDrop(child);
    let mut line = String::new();
    for _ in 0..50 {
        line.clear();
        assert!(
            logs.read_line(&mut line).unwrap() > 0,
            "keel serve exited before listening"
        );
        if let Some(rest) = line.split("addr=").nth(1) {
            let addr = rest.split_whitespace().next().unwrap().to_owned();
            return (child, addr, logs);
        }
    }
    panic!("no `listening addr=` log line");
}

/// Posts a signed delivery over a socket; returns the status line.
fn post_webhook(addr: &str, event: &str, delivery: &str, body: &[u8]) -> String {
    let request = format!(
        "POST /webhook HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nX-GitHub-Event: {event}\r\n\
         X-GitHub-Delivery: {delivery}\r\nX-Hub-Signature-256: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        signature::sign(SECRET.as_bytes(), body),
        body.len()
    );
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.lines().next().unwrap_or_default().to_owned()
}

/// Polls `done` every 50 ms for up to 30 s (the server is another process: there is no
/// event to await).
async fn eventually(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..600 {
        if done().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_killed_mid_job_loses_nothing_and_posts_exactly_once() {
    use crate::support::db::backends;
    use crate::support::github::EXAMPLE_REPO as REPO;
    use crate::support::github::FakeGitHub;
    use wiremock::ResponseTemplate;
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.put_lenient_config();
        fake.put_pr_files(
            REPO,
            2,
            &[(
                "hello.rb",
                "modified",
                Some("@@ -1 +1,2 @@\n-Hello\n+Hello World\n+More"),
            )],
        );
        // The check run's completion hangs: the job is mid-way when the server dies.
        fake.fail_next(
            "PATCH",
            "check-runs",
            ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(120)),
        );
        let (mut first, addr, _logs) = start_app(&fake.uri(), &db.url);
        let body = payload("pull_request/opened.2.json");
        assert!(post_webhook(&addr, "pull_request", "kill-1", &body).starts_with("HTTP/1.1 202"));
        eventually("the completion to be in flight", async || {
            fake.log()
                .await
                .iter()
                .any(|l| l.starts_with("PATCH") && l.contains("check-runs"))
        })
        .await;
        first.0.kill().unwrap();
        first.0.wait().unwrap();
        assert_eq!(
            fake.check_runs()[0].status,
            "in_progress",
            "{}: killed before completing",
            db.backend
        );

        // A new server takes the job over once its lease expires and finishes it.
        let (mut second, _addr, _logs) = start_app(&fake.uri(), &db.url);
        let delivered = async || {
            db.store
                .list_jobs(None, 10)
                .await
                .unwrap()
                .into_iter()
                .find(|j| j.delivery_id.as_deref() == Some("kill-1"))
                .unwrap()
        };
        eventually("the job to finish", async || {
            delivered().await.state == keel::store::JobState::Done
        })
        .await;
        let runs = fake.check_runs();
        assert_eq!(runs.len(), 1, "{}: exactly one check run", db.backend);
        assert_eq!(
            (runs[0].status.as_str(), runs[0].conclusion.as_deref()),
            ("completed", Some("success"))
        );
        assert_eq!(fake.comments(REPO, 2).len(), 1, "exactly one comment");
        let job = delivered().await;
        assert_eq!(job.attempts, 2, "claimed twice: before and after the kill");
        let creates = fake
            .log()
            .await
            .iter()
            .filter(|l| l.starts_with("POST") && l.ends_with("/check-runs"))
            .count();
        assert_eq!(
            creates, 1,
            "the second attempt found the first one's check run"
        );
        second.0.kill().unwrap();
        second.0.wait().unwrap();
        db.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_on_one_database_process_every_delivery_once_and_schedule_one_summary() {
    use crate::support::db::backends;
    use crate::support::github::FakeGitHub;
    use wiremock::ResponseTemplate;
    const REPO: &str = "Codertocat/Hello-World";
    const BASE: &str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";
    const PRS: u64 = 12;
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        let config =
            b"[hygiene]\nmax_changed_lines = 100\n\n[summary]\nschedule = \"0 9 * * MON\"\n";
        fake.put_file(REPO, BASE, ".github/keel.toml", config);
        fake.put_file(REPO, "HEAD", ".github/keel.toml", config);
        for n in 1..=PRS {
            fake.put_pr_files(
                REPO,
                n,
                &[("hello.rb", "modified", Some("@@ -1 +1,2 @@\n a\n+b"))],
            );
        }
        db.store
            .add_installation_repos(1, &[REPO.into()], 0)
            .await
            .unwrap();
        let started = keel::clock::now_ms();
        let delivery = |n: u64| {
            let mut p: serde_json::Value =
                serde_json::from_slice(&payload("pull_request/opened.2.json")).unwrap();
            p["number"] = serde_json::json!(n);
            p["pull_request"]["number"] = serde_json::json!(n);
            p["pull_request"]["head"]["sha"] = serde_json::json!(format!("{n:040x}"));
            serde_json::to_vec(&p).unwrap()
        };
        // Replica A alone takes the first delivery; its check-run completion hangs.
        fake.fail_next(
            "PATCH",
            "check-runs",
            ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(120)),
        );
        let (mut a, addr_a, _logs_a) = start_app(&fake.uri(), &db.url);
        assert!(
            post_webhook(&addr_a, "pull_request", "r-1", &delivery(1)).starts_with("HTTP/1.1 202")
        );
        eventually("replica A to be mid-job", async || {
            fake.log()
                .await
                .iter()
                .any(|l| l.starts_with("PATCH") && l.contains("check-runs"))
        })
        .await;
        // Replica B joins; the rest of the deliveries go to both, some twice (redeliveries).
        let (mut b, addr_b, _logs_b) = start_app(&fake.uri(), &db.url);
        for n in 2..=PRS {
            let addr = if n % 2 == 0 { &addr_a } else { &addr_b };
            let id = format!("r-{n}");
            assert!(
                post_webhook(addr, "pull_request", &id, &delivery(n)).starts_with("HTTP/1.1 202")
            );
            if n % 3 == 0 {
                let other = if n % 2 == 0 { &addr_b } else { &addr_a };
                assert!(
                    post_webhook(other, "pull_request", &id, &delivery(n))
                        .starts_with("HTTP/1.1 200"),
                    "a redelivery is a no-op"
                );
            }
        }
        // A dies mid-job; B finishes everything, A's job after its lease.
        a.0.kill().unwrap();
        a.0.wait().unwrap();
        // Every job but the organisation roll-up, which runs when its five-minute slot ends.
        let rollup = |j: &keel::store::JobRow| {
            j.serial_key
                .as_deref()
                .is_some_and(|k| k.ends_with(":rollup"))
        };
        eventually("every job to finish", async || {
            let jobs = db.store.list_jobs(None, 100).await.unwrap();
            jobs.iter()
                .filter(|j| !rollup(j))
                .all(|j| j.state == keel::store::JobState::Done)
        })
        .await;
        b.0.kill().unwrap();
        b.0.wait().unwrap();
        let runs = fake.check_runs();
        let mut heads: Vec<&str> = runs.iter().map(|r| r.head_sha.as_str()).collect();
        heads.sort_unstable();
        heads.dedup();
        assert_eq!(
            (runs.len(), heads.len()),
            (PRS as usize, PRS as usize),
            "{}: one check run per pull request",
            db.backend
        );
        assert!(runs.iter().all(|r| r.status == "completed"), "{runs:?}");
        for n in 1..=PRS {
            assert_eq!(
                fake.comments(REPO, n).len(),
                1,
                "pull request {n}: one comment"
            );
        }
        let jobs = db.store.list_jobs(None, 100).await.unwrap();
        assert!(
            jobs.iter()
                .all(|j| j.state == keel::store::JobState::Done || rollup(j)),
            "{jobs:?}"
        );
        assert_eq!(
            jobs.iter().filter(|j| j.delivery_id.is_some()).count(),
            PRS as usize
        );
        let first = jobs
            .iter()
            .find(|j| j.delivery_id.as_deref() == Some("r-1"))
            .unwrap();
        assert_eq!(
            first.attempts, 2,
            "A's job was taken over by B after A died"
        );
        // Both replicas schedule summary checks; one job per repository and hour exists.
        let hours = (keel::clock::now_ms() / 3_600_000) - (started / 3_600_000) + 1;
        let checks = jobs
            .iter()
            .filter(|j| j.serial_key.as_deref() == Some("Codertocat/Hello-World:summary"))
            .count() as i64;
        assert_eq!(checks, hours, "{jobs:?}");
        let issues = fake.opened_issues();
        let count = |repo: &str| issues.iter().filter(|i| i.repo == repo).count();
        assert_eq!(
            count("Codertocat/Hello-World"),
            1,
            "{}: one weekly summary across both replicas",
            db.backend
        );
        let rollups = jobs
            .iter()
            .filter(|j| j.serial_key.as_deref() == Some("codertocat/.github:rollup"))
            .count();
        assert_eq!(rollups, 1, "{}: one roll-up job for the week", db.backend);
        db.finish().await;
    }
}

/// Starts `keel serve` with `workers` workers; its logs are drained on a thread so a busy
/// server never blocks on a full pipe.
pub(crate) fn start_replica(github: &str, database: &str, workers: &str) -> (KillOnDrop, String) {
    let key = app_key();
    let mut child = serve(&[
        ("KEEL_APP_ID", "4242"),
        ("KEEL_PRIVATE_KEY", &key),
        ("KEEL_WORKERS", workers),
        ("KEEL_JOB_LEASE_SECS", "2"),
        // As in `start_app`: the crash test kills replicas faster than real life.
        ("KEEL_MAX_CRASHES", "100"),
        ("KEEL_WEBHOOK_SECRET", SECRET),
        ("KEEL_GITHUB_API_URL", github),
        ("DATABASE_URL", database),
        ("KEEL_LISTEN", "127.0.0.1:0"),
        ("RUST_LOG", "info"),
    ])
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut logs = BufReader::new(child.stderr.take().unwrap());
    let child = KillOnDrop(child);
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            logs.read_line(&mut line).unwrap() > 0,
            "keel serve exited before listening"
        );
        if let Some(rest) = line.split("addr=").nth(1) {
            let addr = rest.split_whitespace().next().unwrap().to_owned();
            std::thread::spawn(move || std::io::copy(&mut logs, &mut std::io::sink()));
            return (child, addr);
        }
    }
}

/// Posts a signed delivery; `None` when the connection fails (the server is down).
pub(crate) fn try_post(addr: &str, event: &str, delivery: &str, body: &[u8]) -> Option<String> {
    let request = format!(
        "POST /webhook HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nX-GitHub-Event: {event}\r\n\
         X-GitHub-Delivery: {delivery}\r\nX-Hub-Signature-256: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        signature::sign(SECRET.as_bytes(), body),
        body.len()
    );
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok()?;
    stream.write_all(request.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.lines().next().map(str::to_owned)
}

/// `GET` `path` on `addr`; the status line.
fn get_status(addr: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.lines().next().unwrap_or_default().to_owned()
}

/// With `KEEL_METRICS_LISTEN`, `/metrics` is served on that internal address only, not beside
/// the public webhook.
#[test]
fn metrics_can_listen_on_their_own_address_away_from_the_webhook() {
    let key = app_key();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("keel.db").display());
    let metrics_addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().to_string()
    };
    let mut child = serve(&[
        ("KEEL_APP_ID", "1"),
        ("KEEL_PRIVATE_KEY", &key),
        ("KEEL_WORKERS", "0"),
        ("KEEL_WEBHOOK_SECRET", SECRET),
        ("DATABASE_URL", &db),
        ("KEEL_LISTEN", "127.0.0.1:0"),
        ("KEEL_METRICS_LISTEN", &metrics_addr),
        ("RUST_LOG", "info"),
    ])
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut logs = BufReader::new(child.stderr.take().unwrap());
    let _child = KillOnDrop(child);
    let mut line = String::new();
    let mut addr = None;
    // The metrics address is bound after the webhook's: wait for both.
    let mut metrics_up = false;
    while addr.is_none() || !metrics_up {
        line.clear();
        assert!(logs.read_line(&mut line).unwrap() > 0, "keel serve exited");
        if line.contains("keel serve listening")
            && let Some(rest) = line.split("addr=").nth(1)
        {
            addr = Some(rest.split_whitespace().next().unwrap().to_owned());
        }
        metrics_up |= line.contains("metrics listening");
    }
    let addr = addr.unwrap();
    assert!(get_status(&metrics_addr, "/metrics").contains("200"));
    assert!(get_status(&addr, "/metrics").contains("404"));
    assert!(get_status(&addr, "/healthz").contains("200"));
}

/// `keel serve` on a free port with a fresh SQLite database, no workers and `extra` settings:
/// the process (killed on drop), its address, what it logged until it listened, and its
/// directory.
fn serve_with(extra: &[(&str, &str)]) -> (KillOnDrop, String, String, tempfile::TempDir) {
    let key = app_key();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("keel.db").display());
    let mut envs = vec![
        ("KEEL_APP_ID", "1"),
        ("KEEL_PRIVATE_KEY", key.as_str()),
        ("KEEL_WORKERS", "0"),
        ("KEEL_WEBHOOK_SECRET", SECRET),
        ("DATABASE_URL", db.as_str()),
        ("KEEL_LISTEN", "127.0.0.1:0"),
        ("RUST_LOG", "info"),
    ];
    envs.extend_from_slice(extra);
    let mut child = serve(&envs).stderr(Stdio::piped()).spawn().unwrap();
    let mut logs = BufReader::new(child.stderr.take().unwrap());
    let child = KillOnDrop(child);
    let mut line = String::new();
    let mut seen = String::new();
    let addr = loop {
        line.clear();
        assert!(logs.read_line(&mut line).unwrap() > 0, "keel serve exited");
        seen.push_str(&line);
        if line.contains("keel serve listening")
            && let Some(rest) = line.split("addr=").nth(1)
        {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    (child, addr, seen, dir)
}

/// Without `KEEL_METRICS_LISTEN`, nothing serves `/metrics` (it names installations and their
/// remaining GitHub budget); `KEEL_METRICS_LISTEN=webhook` puts it beside the webhook.
#[test]
fn metrics_are_not_served_beside_the_webhook_unless_asked() {
    for (setting, expected) in [(None, "404"), (Some("webhook"), "200")] {
        let extra: Vec<_> = setting
            .map(|s| ("KEEL_METRICS_LISTEN", s))
            .into_iter()
            .collect();
        let (_child, addr, _, _dir) = serve_with(&extra);
        assert!(
            get_status(&addr, "/metrics").contains(expected),
            "{setting:?}"
        );
        assert!(get_status(&addr, "/healthz").contains("200"));
    }
}

/// The dashboard is served only when its sign-in is set; then a signed-out visit is sent to
/// sign in with GitHub.
#[test]
fn the_dashboard_is_served_only_with_its_sign_in() {
    let sign_in = [
        ("KEEL_PUBLIC_URL", "https://keel.example.com"),
        ("KEEL_APP_CLIENT_ID", "Iv23abc"),
        ("KEEL_APP_CLIENT_SECRET", "hunter2"),
    ];
    for (extra, expected) in [(&[][..], "404"), (&sign_in[..], "303")] {
        let (_child, addr, seen, _dir) = serve_with(extra);
        assert!(
            get_status(&addr, "/dashboard").contains(expected),
            "{extra:?}"
        );
        assert!(
            !seen.contains("hunter2"),
            "the client secret is never logged: {seen}"
        );
    }
}
