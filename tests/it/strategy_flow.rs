//! Every change linked to why, through the App: roadmap links, the debt verdict and its
//! labels, the sticky comment, merges recorded for the debt capacity share.

use crate::support::db::backends;
use crate::support::github::{APP_ID, FakeGitHub, app_key};
use crate::support::webhook::{TestServer, payload, signed};
use keel::github::client::GitHub;
use keel::jobs::worker::Worker;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::sync::Arc;

const REPO: &str = "Codertocat/Hello-World";
const BASE: &str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";
const NOW: i64 = 10_000;

const CONFIG: &[u8] = br#"
[roadmap]
require_link = true

[[roadmap.items]]
id = "R-12"
title = "One-page checkout"
hypothesis = "We believe a one-page checkout will reduce cart abandonment by 15%"

[[roadmap.items]]
id = "R-3"
title = "Faster search"
hypothesis = "We believe faster search will raise conversion by 2%"
issues = [7]

[debt]
capacity_target = 0.2

[[debt.items]]
id = "DEBT-7"
title = "Legacy readme tooling"
slows_delivery_days = 2
paths = ["hello.rb"]
"#;

/// The fixture pull request on branch `feat/R-12-checkout`, fixing #7, at `head`, with the
/// labels the FakeGitHub has on it now (as GitHub's payloads carry them).
fn pull_request(fake: &FakeGitHub, action: &str, head: &str) -> Vec<u8> {
    let mut p: Value = serde_json::from_slice(&payload("pull_request/opened.2.json")).unwrap();
    p["action"] = json!(action);
    let pr = &mut p["pull_request"];
    pr["head"]["ref"] = json!("feat/R-12-checkout");
    pr["head"]["sha"] = json!(head);
    // GitHub dates each push: the head's first digit stands for the second.
    pr["updated_at"] = json!(format!("2026-01-01T00:00:0{}Z", &head[..1]));
    pr["body"] = json!("Adds the checkout page.\n\nFixes #7");
    pr["labels"] = fake
        .labels(REPO, 2)
        .iter()
        .map(|l| json!({"name": l}))
        .collect();
    serde_json::to_vec(&p).unwrap()
}

#[tokio::test]
async fn a_linked_change_gets_one_comment_with_its_items_and_debt_labels_that_follow_each_push() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.put_file(REPO, BASE, ".github/keel.toml", CONFIG);
        // The label exists already (someone made it by hand): Keel keeps its colour.
        fake.put_label(REPO, "debt: reduced", "ffffff");
        fake.put_issue(REPO, 7, &["enhancement"]);
        let fixture: Value =
            serde_json::from_slice(&payload("pull_request/opened.2.json")).unwrap();
        fake.put_pull(REPO, 2, fixture["pull_request"].clone());
        fake.put_pr_files(
            REPO,
            2,
            &[(
                "hello.rb",
                "modified",
                Some("@@ -1,2 +1,3 @@\n Hello\n TODO: old note\n+TODO: polish the copy"),
            )],
        );
        let server = TestServer::new(&db.store);
        let github = GitHub::new(APP_ID, &SecretString::from(app_key()), &fake.uri()).unwrap();
        let worker = Worker::new(db.store.clone(), Arc::new(github));

        let first = pull_request(&fake, "opened", "1111111111111111111111111111111111111111");
        assert_eq!(
            server.send(signed("pull_request", "pr-1", first)).await.0,
            202
        );
        worker.run_until_idle(NOW).await.unwrap();
        let comments = fake.comments(REPO, 2);
        let jobs = db.store.list_jobs(None, 5).await.unwrap();
        assert_eq!(comments.len(), 1, "{}: {jobs:?}", db.backend);
        let body = &comments[0].1;
        assert!(
            body.contains("**R\\-12 · One\\-page checkout** (active) — named in the branch"),
            "{body}"
        );
        assert!(
            body.contains("**R\\-3 · Faster search** (active) — fixes #7, one of its issues"),
            "{body}"
        );
        assert!(
            body.contains("> We believe faster search will raise conversion by 2%"),
            "{body}"
        );
        assert!(body.contains("#### Technical debt: ⬆️ added"), "{body}");
        assert!(
            body.contains("**DEBT\\-7** Legacy readme tooling (touched)"),
            "{body}"
        );
        assert!(
            body.contains(&format!("[Check run]({}/{REPO}/runs/1000)", fake.uri())),
            "the footer links the check run: {body}"
        );
        assert_eq!(fake.labels(REPO, 2), ["bug", "debt: added"]);
        assert_eq!(
            fake.label_color(REPO, "debt: added").as_deref(),
            Some("d93f0b"),
            "created with its colour"
        );
        assert!(
            fake.log()
                .await
                .contains(&format!("GET /repos/{REPO}/issues/7")),
            "the linked issue's labels were read"
        );

        // The follow-up push removes the base's last TODO and the added one: debt reduced.
        fake.put_pr_files(
            REPO,
            2,
            &[(
                "hello.rb",
                "modified",
                Some("@@ -1,2 +1,1 @@\n Hello\n-TODO: old note"),
            )],
        );
        let second = pull_request(
            &fake,
            "synchronize",
            "2222222222222222222222222222222222222222",
        );
        assert_eq!(
            server.send(signed("pull_request", "pr-2", second)).await.0,
            202
        );
        worker.run_until_idle(NOW + 1).await.unwrap();
        assert_eq!(
            fake.labels(REPO, 2),
            ["bug", "debt: reduced"],
            "{}: the label flipped",
            db.backend
        );
        assert_eq!(
            fake.label_color(REPO, "debt: reduced").as_deref(),
            Some("ffffff")
        );
        let comments = fake.comments(REPO, 2);
        assert_eq!(comments.len(), 1, "edited, not duplicated");
        assert!(
            comments[0].1.contains("#### Technical debt: ⬇️ reduced"),
            "{}",
            comments[0].1
        );
        assert!(
            comments[0]
                .1
                .contains("➖ removes 1 TODO/FIXME/HACK/XXX marker (net)")
        );
        assert!(
            fake.log()
                .await
                .iter()
                .any(|l| l.starts_with("PATCH") && l.contains("/issues/comments/"))
        );

        // The merge is recorded with the last verdict; the week's capacity counts it.
        let mut closed: Value = serde_json::from_slice(&pull_request(
            &fake,
            "closed",
            "2222222222222222222222222222222222222222",
        ))
        .unwrap();
        closed["pull_request"]["merged_at"] = json!("1970-01-01T00:00:05Z");
        assert_eq!(
            server
                .send(signed(
                    "pull_request",
                    "pr-3",
                    serde_json::to_vec(&closed).unwrap()
                ))
                .await
                .0,
            202
        );
        worker.run_until_idle(NOW + 2).await.unwrap();
        let merged = db.store.merged_pull_requests(REPO).await.unwrap();
        assert_eq!(merged.len(), 1);
        assert_eq!(
            (
                merged[0].number,
                merged[0].merged_at,
                merged[0].debt.as_deref()
            ),
            (2, 5_000, Some("reduced"))
        );
        assert_eq!(merged[0].roadmap_items, ["R-12", "R-3"]);
        assert_eq!(merged[0].changed_lines, Some(1));
        // The next pull request's comment counts the merged one (a merged pull request itself
        // is closed: Keel judges it no more); it adds debt, so the week's capacity concerns it.
        fake.put_pr_files(
            REPO,
            5,
            &[(
                "hello.rb",
                "modified",
                Some("@@ -1 +1 @@\n-Hello\n+Hi # TODO: say more"),
            )],
        );
        let mut next: Value = serde_json::from_slice(&pull_request(
            &fake,
            "opened",
            "3333333333333333333333333333333333333333",
        ))
        .unwrap();
        next["number"] = json!(5);
        next["pull_request"]["number"] = json!(5);
        assert_eq!(
            server
                .send(signed(
                    "pull_request",
                    "pr-5",
                    serde_json::to_vec(&next).unwrap()
                ))
                .await
                .0,
            202
        );
        worker.run_until_idle(NOW + 3).await.unwrap();
        let body = fake.comments(REPO, 5)[0].1.clone();
        assert!(body.contains("Debt capacity in 1970\\-W01: 1 of 1 merged pull requests (100%) went to debt; the target is 20%."), "{body}");
        db.finish().await;
    }
}
