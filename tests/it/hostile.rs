//! Hostile input: each gets a clear error within the limits, and the server stays healthy.

use crate::support::db::backends;
use crate::support::webhook::{TestServer, signed};
use crate::support::{keel, root};
use axum::http::StatusCode;
use std::fs;

#[tokio::test]
async fn hostile_webhook_bodies_are_400_store_nothing_and_leave_the_server_healthy() {
    for db in backends().await {
        let server = TestServer::new(&db.store);
        let deep = format!(
            "{{\"action\": \"opened\", \"pull_request\": {}{}}}",
            "[".repeat(200_000),
            "]".repeat(200_000)
        );
        let bodies: [(&str, Vec<u8>); 4] = [
            ("deeply nested JSON", deep.into_bytes()),
            (
                "invalid UTF-8",
                b"{\"action\": \"opened\xff\xfe\"}".to_vec(),
            ),
            (
                "a lone huge string",
                format!("\"{}\"", "x".repeat(5 << 20)).into_bytes(),
            ),
            (
                "truncated JSON",
                b"{\"action\": \"opened\", \"pull_request\": {\"number\":".to_vec(),
            ),
        ];
        for (i, (what, body)) in bodies.into_iter().enumerate() {
            let (status, text) = server
                .send(signed("pull_request", &format!("h-{i}"), body))
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {text}");
            assert!(
                text.starts_with("malformed `pull_request` payload"),
                "{what}: {text}"
            );
        }
        assert_eq!(server.get("/healthz").await.0, StatusCode::OK);
        assert_eq!(server.get("/readyz").await.0, StatusCode::OK);
        assert_eq!(
            db.store.job_counts().await.unwrap().queued,
            0,
            "{}",
            db.backend
        );
        db.finish().await;
    }
}

#[test]
fn hostile_reports_and_configs_give_clear_errors_not_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).display().to_string();
    let config = p("keel.toml");
    fs::write(
        &config,
        "[coverage]\nmin_total = 1\n[security]\nfail_on = \"high\"\n",
    )
    .unwrap();
    // A 40 MB LCOV line with no newline.
    fs::write(p("huge.info"), format!("SF:{}", "a".repeat(40 << 20))).unwrap();
    // SARIF nested far deeper than any real log.
    fs::write(p("deep.sarif"), "[".repeat(100_000)).unwrap();
    // Invalid UTF-8 in an LCOV path and a diff.
    fs::write(
        p("bad.info"),
        b"SF:src/\xff\xfe.rs\nDA:1,1\nend_of_record\n",
    )
    .unwrap();
    fs::write(
        p("bad.diff"),
        b"diff --git a/\xff b/\xff\n--- a/\xff\n+++ b/\xff\n@@ -1 +1 @@\n-a\n+\xfe\n",
    )
    .unwrap();
    let check = |extra: &[&str]| {
        keel(
            &root(),
            &[&["check", "--config", &config][..], extra].concat(),
        )
    };

    let run = check(&["--coverage", &p("huge.info")]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("huge.info"), "{}", run.stderr);

    let run = check(&["--sarif", &p("deep.sarif")]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("deep.sarif"), "{}", run.stderr);

    let run = check(&["--coverage", &p("bad.info"), "--diff", &p("bad.diff")]);
    assert!(
        run.code == 0 || run.code == 1,
        "handled, not an error: {}",
        run.stderr
    );

    // A config with thousands of roadmap items parses within its limit; one over it is refused.
    let mut many = String::from("[roadmap]\n");
    for i in 0..5_000 {
        many.push_str(&format!(
            "[[roadmap.items]]\nid = \"R-{i}\"\ntitle = \"Item {i}\"\n"
        ));
    }
    fs::write(&config, &many).unwrap();
    let run = keel(&root(), &["config", "validate", &config]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut huge = many.clone();
    while huge.len() <= 1 << 20 {
        huge.push_str(&many);
    }
    fs::write(&config, &huge).unwrap();
    let run = keel(&root(), &["config", "validate", &config]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("larger than the limit of 1048576 bytes"),
        "{}",
        run.stderr
    );
}

/// Memory follows the lines a report lists, not the highest line number it names (issue
/// 13): 512 records of `DA:4194303,0` (18 KB) once allocated 512 MiB. Measured in a child
/// process whose data segment is capped at 64 MiB (`ulimit -d`): it judges the report
/// instead of failing to allocate.
#[test]
fn a_hostile_18_kb_lcov_is_judged_under_a_64_mib_memory_ceiling() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("keel.toml"), "[coverage]\nmin_total = 1\n").unwrap();
    let lcov: String = (0..512)
        .map(|i| format!("SF:f{i}\nDA:4194303,0\nend_of_record\n"))
        .collect();
    assert!((17_000..19_000).contains(&lcov.len()), "{}", lcov.len());
    fs::write(dir.path().join("hostile.lcov"), lcov).unwrap();
    fs::write(
        dir.path().join("empty.diff"),
        "diff --git a/f1 b/f1\n--- a/f1\n+++ b/f1\n@@ -1 +1 @@\n-a\n+b\n",
    )
    .unwrap();
    let out = std::process::Command::new("sh")
        .current_dir(dir.path())
        .args([
            "-c",
            "ulimit -d 65536 && exec \"$0\" check --config keel.toml --coverage hostile.lcov --diff empty.diff",
            env!("CARGO_BIN_EXE_keel"),
        ])
        .env_remove("KEEL_CONFIG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "judged (not met), not killed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("0 of 512 lines covered"), "{stdout}");
}

/// The Kubernetes manifest gives the server what its workers can use (issue 13): the worker
/// count times one job's memory budget, plus the server's own.
#[test]
fn the_kubernetes_memory_limit_is_the_workers_times_the_job_budget() {
    use keel_core::limits::{JOB_MEMORY_BUDGET_MIB, SERVER_MEMORY_BASE_MIB};
    let manifest = fs::read_to_string(root().join("deploy/kubernetes/keel.yaml")).unwrap();
    let lines: Vec<&str> = manifest.lines().map(str::trim).collect();
    let at = lines
        .iter()
        .position(|l| *l == "- name: KEEL_WORKERS")
        .expect("KEEL_WORKERS is set");
    let workers: u64 = lines[at + 1]
        .trim_start_matches("value:")
        .trim()
        .trim_matches('"')
        .parse()
        .unwrap();
    let limit = lines
        .iter()
        .find_map(|l| l.strip_prefix("limits: {memory: "))
        .and_then(|l| l.strip_suffix("Mi}"))
        .expect("a memory limit in MiB");
    assert_eq!(
        limit.parse::<u64>().unwrap(),
        workers * JOB_MEMORY_BUDGET_MIB + SERVER_MEMORY_BASE_MIB,
        "{workers} workers"
    );
}
