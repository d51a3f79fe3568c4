//! Webhook intake on every backend: signatures, limits, headers, payloads, redeliveries.

use crate::support::db::backends;
use crate::support::webhook::{TestServer, payload, signed};
use axum::body::Body;
use axum::http::StatusCode;
use keel::github::event::{Event, Parsed, parse_event};
use keel::server::MAX_WEBHOOK_BYTES;
use keel::store::JobState;

async fn assert_nothing_stored(db: &crate::support::db::TestDb) {
    let jobs = db.store.list_jobs(None, 10).await.unwrap();
    assert!(jobs.is_empty(), "{}: stored {jobs:?}", db.backend);
}

#[tokio::test]
async fn a_signed_pull_request_is_stored_before_202_and_a_redelivery_is_a_no_op() {
    for db in backends().await {
        let server = TestServer::new(&db.store);
        let body = payload("pull_request/opened.2.json");
        let (status, text) = server
            .send(signed("pull_request", "d-1", body.clone()))
            .await;
        assert_eq!(
            (status, text.as_str()),
            (StatusCode::ACCEPTED, "accepted"),
            "{}",
            db.backend
        );
        let (status, text) = server
            .send(signed("pull_request", "d-1", body.clone()))
            .await;
        assert_eq!(
            (status, text.as_str()),
            (StatusCode::OK, "already received")
        );
        let jobs = db.store.list_jobs(None, 10).await.unwrap();
        assert_eq!(
            jobs.len(),
            1,
            "{}: one job for two deliveries of d-1",
            db.backend
        );
        assert_eq!(
            jobs[0].serial_key.as_deref(),
            Some("Codertocat/Hello-World#2")
        );
        assert_eq!(jobs[0].state, JobState::Queued);
        let claimed = db.store.claim(2_000, 1_000).await.unwrap().unwrap();
        let Parsed::Event(expected) = parse_event("pull_request", &body).unwrap() else {
            panic!("not an event")
        };
        let stored: Event = serde_json::from_slice(&claimed.payload).unwrap();
        assert_eq!(
            (claimed.kind.as_str(), &stored),
            ("event", &*expected),
            "the parsed event is stored"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn bad_or_missing_signatures_are_401_and_store_nothing() {
    for db in backends().await {
        let server = TestServer::new(&db.store);
        let body = payload("pull_request/opened.2.json");
        let mut tampered = signed("pull_request", "d-1", body.clone());
        *tampered.body_mut() = Body::from([body.as_slice(), b" "].concat());
        let mut unsigned = signed("pull_request", "d-2", body.clone());
        unsigned.headers_mut().remove("x-hub-signature-256");
        let mut sha1 = signed("pull_request", "d-3", body.clone());
        sha1.headers_mut().insert(
            "x-hub-signature-256",
            "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"
                .parse()
                .unwrap(),
        );
        for request in [tampered, unsigned, sha1] {
            let (status, text) = server.send(request).await;
            assert_eq!(
                (status, text.as_str()),
                (
                    StatusCode::UNAUTHORIZED,
                    "missing or invalid X-Hub-Signature-256"
                )
            );
        }
        assert_nothing_stored(&db).await;
        db.finish().await;
    }
}

#[tokio::test]
async fn oversized_bodies_are_413_and_store_nothing() {
    for db in backends().await {
        let server = TestServer::new(&db.store);
        let big = vec![b' '; MAX_WEBHOOK_BYTES + 1];
        let (status, _) = server.send(signed("pull_request", "big", big)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        let mut lying = signed("pull_request", "lie", b"{}".to_vec());
        lying
            .headers_mut()
            .insert("content-length", (MAX_WEBHOOK_BYTES as u64 * 4).into());
        assert_eq!(server.send(lying).await.0, StatusCode::PAYLOAD_TOO_LARGE);
        assert_nothing_stored(&db).await;
        db.finish().await;
    }
}

#[tokio::test]
async fn missing_headers_and_malformed_payloads_are_400_with_a_reason() {
    for db in backends().await {
        let server = TestServer::new(&db.store);
        let mut no_event = signed("pull_request", "d-1", payload("pull_request/opened.2.json"));
        no_event.headers_mut().remove("x-github-event");
        let (status, text) = server.send(no_event).await;
        assert_eq!(
            (status, text.as_str()),
            (
                StatusCode::BAD_REQUEST,
                "X-GitHub-Event and X-GitHub-Delivery are required"
            )
        );
        let (status, text) = server
            .send(signed(
                "pull_request",
                "d-2",
                b"{\"action\": \"opened\"".to_vec(),
            ))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            text.starts_with("malformed `pull_request` payload: EOF while parsing"),
            "{text}"
        );
        let (status, text) = server
            .send(signed(
                "pull_request",
                "d-3",
                b"{\"action\": \"opened\"}".to_vec(),
            ))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(text.contains("missing field `pull_request`"), "{text}");
        assert_nothing_stored(&db).await;
        db.finish().await;
    }
}

#[tokio::test]
async fn events_and_actions_keel_does_not_use_are_200_and_not_stored() {
    for db in backends().await {
        let server = TestServer::new(&db.store);
        let (status, text) = server
            .send(signed(
                "pull_request",
                "d-1",
                String::from_utf8(payload("pull_request/labeled.1.json"))
                    .unwrap()
                    .replacen("\"action\":\"labeled\"", "\"action\":\"assigned\"", 1)
                    .into_bytes(),
            ))
            .await;
        assert_eq!(
            (status, text.as_str()),
            (
                StatusCode::OK,
                "ignored: `pull_request` action `assigned` is not used"
            )
        );
        let (status, text) = server
            .send(signed("star", "d-2", b"{\"action\":\"created\"}".to_vec()))
            .await;
        assert_eq!(
            (status, text.as_str()),
            (StatusCode::OK, "ignored: event `star` is not used")
        );
        let (status, _) = server
            .send(signed("ping", "d-3", payload("ping/none.1.json")))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_nothing_stored(&db).await;
        db.finish().await;
    }
}

#[tokio::test]
async fn concurrent_deliveries_share_commits_and_are_all_stored() {
    for db in backends().await {
        let server = std::sync::Arc::new(TestServer::new(&db.store));
        let body = payload("pull_request/synchronize.1.json");
        let mut tasks = Vec::new();
        for i in 0..200 {
            let (server, body) = (server.clone(), body.clone());
            tasks.push(tokio::spawn(async move {
                server
                    .send(signed("pull_request", &format!("d-{i}"), body))
                    .await
                    .0
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), StatusCode::ACCEPTED);
        }
        assert_eq!(
            db.store.job_counts().await.unwrap().queued,
            200,
            "{}",
            db.backend
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn health_readiness_and_metrics_endpoints() {
    for db in backends().await {
        let server = TestServer::new(&db.store);
        assert_eq!(server.get("/healthz").await, (StatusCode::OK, "ok".into()));
        assert_eq!(
            server.get("/readyz").await,
            (StatusCode::OK, "ready".into())
        );
        server
            .send(signed(
                "pull_request",
                "d-1",
                payload("pull_request/opened.2.json"),
            ))
            .await;
        server
            .send(signed(
                "pull_request",
                "d-1",
                payload("pull_request/opened.2.json"),
            ))
            .await;
        let mut bad = signed("pull_request", "d-2", b"{}".to_vec());
        bad.headers_mut()
            .insert("x-hub-signature-256", "sha256=00".parse().unwrap());
        server.send(bad).await;
        let (status, text) = server.get("/metrics").await;
        assert_eq!(status, StatusCode::OK);
        for line in [
            "keel_webhook_deliveries_total{event=\"pull_request\",outcome=\"accepted\"} 1",
            "keel_webhook_deliveries_total{event=\"pull_request\",outcome=\"duplicate\"} 1",
            "keel_webhook_deliveries_total{event=\"pull_request\",outcome=\"bad_signature\"} 1",
            "keel_jobs_running 0",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{}: no `{line}` in\n{text}",
                db.backend
            );
        }
        db.store.close().await;
        assert_eq!(
            server.get("/readyz").await.0,
            StatusCode::SERVICE_UNAVAILABLE,
            "closed database: not ready"
        );
        let (status, after) = server.get("/metrics").await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{}: a scrape reads memory, not the database",
            db.backend
        );
        assert!(after.contains("outcome=\"bad_signature\"} 1"), "{after}");
        db.finish().await;
    }
}

#[test]
fn every_webhook_fixture_parses_to_the_expected_event() {
    let cases = [
        (
            "pull_request",
            "pull_request/opened.2.json",
            Some("Codertocat/Hello-World#2"),
        ),
        (
            "pull_request",
            "pull_request/synchronize.1.json",
            Some("Codertocat/Hello-World#2"),
        ),
        (
            "pull_request",
            "pull_request/labeled.1.json",
            Some("Codertocat/Hello-World#2"),
        ),
        (
            "check_suite",
            "check_suite/rerequested.1.json",
            Some("Codertocat/Hello-World@ec26c3e57ca3a959ca5aad62de7213c562f8c821"),
        ),
        (
            "check_run",
            "check_run/rerequested.1.json",
            Some("github/hello-world@d6fde92930d4715a2b49857d24b940956b26d2d3"),
        ),
        (
            "merge_group",
            "merge_group/checks_requested.1.json",
            Some("octo-org/octo-repo@2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d"),
        ),
        (
            "workflow_run",
            "workflow_run/completed.1.json",
            Some("Codertocat/Hello-World@5779607b49aab1200488439f02372c57b4f75444"),
        ),
        (
            "push",
            "push/none.1.json",
            Some("Codertocat/Hello-World:refs/tags/simple-tag"),
        ),
        (
            "installation",
            "installation/created.1.json",
            Some("installation:957387"),
        ),
        (
            "installation_repositories",
            "installation_repositories/added.1.json",
            Some("installation:957387"),
        ),
        ("ping", "ping/none.1.json", None),
    ];
    for (event, file, serial) in cases {
        let parsed = parse_event(event, &payload(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        match (parsed, serial) {
            (Parsed::Event(e), Some(expected)) => {
                assert_eq!(e.serial_key(), expected, "{file}");
                if let Event::PullRequest { pr, .. } = *e {
                    assert_eq!(
                        (pr.head_ref.as_str(), pr.base_ref.as_str()),
                        ("changes", "master"),
                        "{file}"
                    );
                }
            }
            (Parsed::Ignored(_), None) => {}
            (other, _) => panic!("{file}: unexpected {other:?}"),
        }
    }
}

/// Serves `server`'s router on a loopback socket; returns its address.
async fn on_a_socket(server: &TestServer) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = server.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// Opens a connection that declares a `length`-byte webhook body and sends `sent` of it.
async fn stalled_upload(
    addr: std::net::SocketAddr,
    length: usize,
    sent: usize,
) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: keel\r\nContent-Type: application/json\r\nContent-Length: {length}\r\nX-GitHub-Event: pull_request\r\nX-GitHub-Delivery: slow\r\nX-Hub-Signature-256: sha256=00\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&vec![b' '; sent]).await.unwrap();
    stream
}

/// A server on a socket whose intake guard holds `full` bytes, waits `wait_ms` for room and
/// `body_ms` for a body.
async fn guarded(
    db: &crate::support::db::TestDb,
    full: u64,
    wait_ms: u64,
    body_ms: u64,
) -> (
    std::sync::Arc<keel::server::guard::IntakeGuard>,
    TestServer,
    std::net::SocketAddr,
) {
    let guard = std::sync::Arc::new(keel::server::guard::IntakeGuard::new(
        full,
        std::time::Duration::from_millis(wait_ms),
        std::time::Duration::from_millis(body_ms),
    ));
    let server = TestServer::with_guard(&db.store, std::sync::Arc::clone(&guard));
    let addr = on_a_socket(&server).await;
    (guard, server, addr)
}

/// Waits (10 s at most) until the guard holds at least `bytes` for bodies in flight.
async fn until_held(guard: &keel::server::guard::IntakeGuard, full: u64, bytes: u64) {
    let wait = async {
        while full - guard.available_bytes() < bytes {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), wait)
        .await
        .unwrap_or_else(|_| panic!("the guard never held {bytes} bytes"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_trickles_in_gets_408_and_frees_its_room() {
    use tokio::io::AsyncReadExt;
    let db = crate::support::db::sqlite().await;
    let full = 1024 * 1024;
    let (guard, _server, addr) = guarded(&db, full, 100, 300).await;
    // A slow client: 40 KB declared, 100 bytes sent, then nothing.
    let mut stream = stalled_upload(addr, 40_000, 100).await;
    let mut answer = vec![0u8; 256];
    let n = tokio::time::timeout(std::time::Duration::from_secs(20), stream.read(&mut answer))
        .await
        .expect("answered at the body deadline")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(guard.available_bytes(), full, "its room is free again");
    assert_nothing_stored(&db).await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unauthenticated_bodies_cannot_hold_more_than_the_in_flight_budget() {
    let db = crate::support::db::sqlite().await;
    let full = 64 * 1024;
    let (guard, server, addr) = guarded(&db, full, 200, 30_000).await;
    // An unauthenticated client holds 60 KB of the 64 KiB budget (bytes it sent) and sends
    // nothing more.
    let stalled = stalled_upload(addr, 63_000, 60_000).await;
    until_held(&guard, full, 58 * 1024).await;
    let delivery = || {
        signed(
            "pull_request",
            "real",
            payload("pull_request/opened.2.json"),
        )
    };
    let (status, text) = server.send(delivery()).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "no room for a 24 KB delivery: {text}"
    );
    // The stalled client goes away: its room comes back and deliveries are stored again.
    drop(stalled);
    until_held(&guard, full, 0).await;
    let freed = async {
        while guard.available_bytes() < full {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), freed)
        .await
        .expect("the stalled body's room is freed when its client goes");
    let (status, text) = server.send(delivery()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_length_only_declared_holds_no_room() {
    let db = crate::support::db::sqlite().await;
    let full = 64 * 1024;
    let (guard, server, addr) = guarded(&db, full, 200, 30_000).await;
    // Unauthenticated clients declare bodies that would fill the budget twice over, and send
    // next to nothing: a real delivery is still taken.
    let mut stalled = Vec::new();
    for _ in 0..2 {
        stalled.push(stalled_upload(addr, 60_000, 10).await);
    }
    until_held(&guard, full, 2 * 1024).await;
    let (status, text) = server
        .send(signed(
            "pull_request",
            "real",
            payload("pull_request/opened.2.json"),
        ))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    assert!(
        full - guard.available_bytes() <= 2 * 1024,
        "the stalled clients hold only the bytes they sent"
    );
    drop(stalled);
    db.finish().await;
}

/// Coalescing (issue 13): an `edited` delivery costs an evaluation only when the title, the
/// description or the base changed; the other edits GitHub reports are acknowledged, not stored.
#[tokio::test]
async fn an_edit_that_changes_nothing_keel_reads_is_not_stored() {
    for db in backends().await {
        let server = TestServer::new(&db.store);
        let edited = |changes: serde_json::Value| {
            let mut p: serde_json::Value =
                serde_json::from_slice(&payload("pull_request/opened.2.json")).unwrap();
            p["action"] = serde_json::json!("edited");
            p["changes"] = changes;
            serde_json::to_vec(&p).unwrap()
        };
        let (status, text) = server
            .send(signed(
                "pull_request",
                "e-1",
                edited(serde_json::json!({"maintainer_can_modify": {"from": false}})),
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {text}", db.backend);
        assert!(text.starts_with("ignored"), "{text}");
        assert_nothing_stored(&db).await;
        for (n, changes) in [
            serde_json::json!({"title": {"from": "Old"}}),
            serde_json::json!({"body": {"from": ""}}),
            serde_json::json!({"base": {"ref": {"from": "dev"}, "sha": {"from": "abc"}}}),
        ]
        .into_iter()
        .enumerate()
        {
            let (status, _) = server
                .send(signed(
                    "pull_request",
                    &format!("e-{}", n + 2),
                    edited(changes),
                ))
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{}", db.backend);
        }
        db.finish().await;
    }
}
