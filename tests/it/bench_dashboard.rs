//! The dashboard's speed as deployed (ignored by `cargo test`; `scripts/bench-dashboard` runs
//! it in release): a viewer of many repositories, each with eight weeks of merges and
//! deployments, opens the overview cold (every config read from GitHub), then again and again
//! (warm), opens repository pages, and opens the overview while GitHub does not answer. The
//! FakeGitHub runs in this process on the same cores, so its own time is in the figures.

use crate::bench_e2e::{ms, quantile};
use crate::dashboard::{ALICE, site};
use crate::summary_flow::{REPO, at};
use crate::support::db::backends;
use keel::store::MergeDetails;
use std::time::Instant;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: scripts/bench-dashboard"]
async fn dashboard_pages_cold_warm_and_with_github_down() {
    let repos: usize = std::env::var("KEEL_BENCH_REPOS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    println!(
        "| backend | repositories | overview, cold (configs from GitHub) | overview, warm p50 / p99 (50) | repository page, warm p50 / p99 (50) | overview with GitHub down, cold | rows still being read |"
    );
    println!("|---|---|---|---|---|---|---|");
    for db in backends().await {
        let names: Vec<String> = (0..repos).map(|i| format!("acme/service-{i:03}")).collect();
        // Eight weeks of a busy team in each: 10 merges and 10 deployments a week.
        let week0 = at("2026-10-05T10:00:00Z");
        for name in &names {
            db.store
                .add_installation_repos(1, std::slice::from_ref(name), 0)
                .await
                .unwrap();
            for n in 0..80u64 {
                let merged = week0 + (n as i64) * 17 * 3_600_000;
                let sha = format!("{n:040x}");
                db.store.record_merge(name, n + 1, merged).await.unwrap();
                let details = MergeDetails {
                    opened_at: Some(merged - 20 * 3_600_000),
                    first_commit_at: Some(merged - 30 * 3_600_000),
                    merge_sha: Some(sha.clone()),
                    reverts: None,
                };
                db.store
                    .record_merge_details(name, n + 1, &details)
                    .await
                    .unwrap();
                db.store
                    .record_deployment(
                        name,
                        n + 1,
                        &sha,
                        "production",
                        "success",
                        merged + 3_600_000,
                    )
                    .await
                    .unwrap();
            }
        }
        let mut row = vec![db.backend.to_owned(), repos.to_string()];
        for down in [false, true] {
            let site = site(&db.store).await;
            let mut readable: Vec<&str> = names.iter().map(String::as_str).collect();
            readable.push(REPO);
            site.github.can_read(ALICE, &[(1, &readable)]);
            for name in &names {
                site.fake.put_file(
                    name,
                    "HEAD",
                    ".github/keel.toml",
                    b"[summary]\nschedule = \"0 9 * * MON\"\n",
                );
            }
            let (session, _) = site.sign_in("%2Fdashboard").await;
            if down {
                site.fake.set_outage(true);
            }
            let started = Instant::now();
            let cold = site.page("/dashboard", &session).await;
            let cold_time = started.elapsed();
            assert_eq!(cold.status, 200, "{}", cold.body);
            if down {
                row.push(ms(cold_time));
                row.push(cold.body.matches("Still being read").count().to_string());
                site.fake.set_outage(false);
                continue;
            }
            row.push(ms(cold_time));
            for path in ["/dashboard".to_owned(), format!("/dashboard/{}", names[0])] {
                let mut times = Vec::new();
                for _ in 0..50 {
                    let started = Instant::now();
                    let page = site.page(&path, &session).await;
                    times.push(started.elapsed());
                    assert_eq!(page.status, 200);
                }
                times.sort();
                row.push(format!(
                    "{} / {}",
                    ms(quantile(&times, 0.5)),
                    ms(quantile(&times, 0.99))
                ));
            }
        }
        println!("| {} |", row.join(" | "));
        db.finish().await;
    }
}
