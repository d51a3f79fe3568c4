//! Organisation policy through the App against the FakeGitHub, on every backend: a floor a
//! repository tries to loosen holds, with an annotation on its line and the provenance in the
//! check run; a hard rule is never waived; the policy unreachable → the last good version for
//! an hour, then hard rules fail closed; a pull request loosening a hard key fails its own
//! check; a push to the `.github` repository invalidates the cache.

use crate::reports_flow::{BASE, NOW, REPO, deliver, json_of, worker};
use crate::support::db::{TestDb, backends};
use crate::support::github::{CheckRun, FakeGitHub};
use crate::support::webhook::TestServer;
use keel::github::client::GitHub;
use keel::jobs::worker::Worker;
use serde_json::json;

const ORG_REPO: &str = "Codertocat/.github";
const ORG_FILE: &str = ".github/keel-org.toml";
const MINUTE: i64 = 60_000;

/// Pull request 2 (3 changed lines) under `repo_config`, with `org` as the policy.
async fn github(repo_config: &str, org: Option<&str>) -> FakeGitHub {
    let fake = FakeGitHub::start().await;
    fake.put_file(REPO, BASE, ".github/keel.toml", repo_config.as_bytes());
    if let Some(org) = org {
        fake.put_file(ORG_REPO, "", ORG_FILE, org.as_bytes());
    }
    crate::evaluate_pr::readme_change(&fake);
    fake.put_pull(
        REPO,
        2,
        json_of("pull_request/opened.2.json")["pull_request"].clone(),
    );
    fake.put_permission(REPO, "maintainer", "write");
    fake
}

fn comment(id: u64, body: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "action": "created",
        "issue": {"number": 2, "pull_request": {"url": "x"}},
        "comment": {"id": id, "body": body, "user": {"login": "maintainer", "type": "User"}},
        "repository": {"full_name": REPO, "default_branch": "master"},
        "installation": {"id": 1}
    }))
    .unwrap()
}

async fn opened(db: &TestDb, fake: &FakeGitHub) -> (TestServer, Worker<GitHub>) {
    let server = TestServer::new(&db.store);
    let worker = worker(db, fake);
    deliver(
        &server,
        "pull_request",
        "opened",
        serde_json::to_vec(&json_of("pull_request/opened.2.json")).unwrap(),
    )
    .await;
    worker.run_until_idle(NOW).await.unwrap();
    (server, worker)
}

fn last(fake: &FakeGitHub) -> CheckRun {
    fake.check_runs().last().cloned().expect("a check run")
}

fn summary(run: &CheckRun) -> String {
    run.summary
        .clone()
        .unwrap_or_default()
        .replace('\u{200b}', "")
}

#[tokio::test]
async fn a_repository_loosening_a_floor_gets_the_org_value_the_annotation_and_no_waiver() {
    for db in backends().await {
        let fake = github(
            "[hygiene]\nmax_changed_lines = 1000\n",
            Some("[floor.hygiene]\nmax_changed_lines = 1\n"),
        )
        .await;
        let (server, worker) = opened(&db, &fake).await;
        let run = last(&fake);
        assert_eq!(run.conclusion.as_deref(), Some("failure"), "{}", db.backend);
        let text = summary(&run);
        assert!(text.contains("(needs ≤ 1 line)"), "the org value: {text}");
        assert!(
            text.contains("#### Organisation policy")
                && text.contains("| `hygiene.max_changed_lines` | 1 line | organisation (hard); this file asks 1000 lines \\(required\\), which is looser |"),
            "{text}"
        );
        assert!(
            text.contains("| `hygiene.max_changed_lines` | `{ level = \"required\", threshold = 1 }` | organisation floor or lock |")
                && text.contains("| `hygiene.ignore` | `[]` | built-in |"),
            "the effective configuration with origins: {text}"
        );
        let note = run
            .annotations
            .iter()
            .find(|a| a["path"] == ".github/keel.toml")
            .expect("an annotation on keel.toml");
        assert_eq!(note["start_line"], 2, "{note}");
        assert_eq!(note["annotation_level"], "warning");
        // A hard rule is never waived, even by a maintainer.
        deliver(
            &server,
            "issue_comment",
            "waive",
            comment(90, "/keel waive hygiene.size reason=\"launch\""),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        let run = last(&fake);
        assert_eq!(run.conclusion.as_deref(), Some("failure"));
        let said: Vec<String> = fake.comments(REPO, 2).into_iter().map(|c| c.1).collect();
        assert!(
            said.iter()
                .any(|c| c.contains("an organisation hard rule governs `hygiene.size`")),
            "{said:?}"
        );
        assert_eq!(fake.reactions(90), ["eyes", "confused"]);
        db.finish().await;
    }
}

#[tokio::test]
async fn the_policy_unreadable_uses_the_last_good_for_an_hour_then_fails_closed() {
    for db in backends().await {
        let fake = github(
            "[hygiene]\nmax_changed_lines = 1000\n",
            Some("[floor.hygiene]\nmax_changed_lines = 500\n"),
        )
        .await;
        let (server, worker) = opened(&db, &fake).await;
        assert_eq!(last(&fake).conclusion.as_deref(), Some("success"));
        // The file breaks (an invalid edit on the default branch).
        fake.put_file(ORG_REPO, "", ORG_FILE, b"[floor\n");
        let recheck = |id: u64| comment(id, "/keel recheck");
        deliver(&server, "issue_comment", "r1", recheck(91)).await;
        worker.run_until_idle(NOW + 30 * MINUTE).await.unwrap();
        let run = last(&fake);
        assert_eq!(run.conclusion.as_deref(), Some("success"), "{}", db.backend);
        assert!(
            summary(&run).contains("the last good version, read 30 minutes ago"),
            "{}",
            summary(&run)
        );
        deliver(&server, "issue_comment", "r2", recheck(92)).await;
        worker.run_until_idle(NOW + 61 * MINUTE).await.unwrap();
        let run = last(&fake);
        assert_eq!(run.conclusion.as_deref(), Some("failure"), "{}", db.backend);
        assert!(
            summary(&run).contains("organisation policy unavailable"),
            "{}",
            summary(&run)
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_pull_request_loosening_a_hard_key_fails_its_own_check() {
    for db in backends().await {
        let fake = github(
            "[hygiene]\nmax_changed_lines = 1000\n",
            Some("[floor.hygiene]\nmax_changed_lines = 1000\n"),
        )
        .await;
        let head = json_of("pull_request/opened.2.json")["pull_request"]["head"]["sha"]
            .as_str()
            .unwrap()
            .to_owned();
        fake.put_file(
            REPO,
            &head,
            ".github/keel.toml",
            b"[hygiene]\nmax_changed_lines = 5000\n",
        );
        fake.put_pr_files(
            REPO,
            2,
            &[(
                ".github/keel.toml",
                "modified",
                Some("@@ -1,2 +1,2 @@\n [hygiene]\n-max_changed_lines = 1000\n+max_changed_lines = 5000"),
            )],
        );
        opened(&db, &fake).await;
        let run = last(&fake);
        assert_eq!(run.conclusion.as_deref(), Some("failure"), "{}", db.backend);
        assert!(
            summary(&run).contains("looser than the organisation's hard rule"),
            "{}",
            summary(&run)
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_push_to_the_org_repository_reads_the_policy_again() {
    for db in backends().await {
        let fake = github("[hygiene]\nmax_changed_lines = 1000\n", Some("")).await;
        let (server, worker) = opened(&db, &fake).await;
        assert_eq!(last(&fake).conclusion.as_deref(), Some("success"));
        fake.put_file(
            ORG_REPO,
            "",
            ORG_FILE,
            b"[floor.hygiene]\nmax_changed_lines = 1\n",
        );
        // Within the cache's ten minutes, only a push to `.github` makes Keel read it again.
        let push = json!({
            "ref": "refs/heads/main", "before": "1".repeat(40), "after": "2".repeat(40),
            "repository": {"full_name": ORG_REPO, "default_branch": "main"},
            "installation": {"id": 1}
        });
        deliver(
            &server,
            "push",
            "org-push",
            serde_json::to_vec(&push).unwrap(),
        )
        .await;
        deliver(&server, "issue_comment", "r", comment(93, "/keel recheck")).await;
        worker.run_until_idle(NOW + MINUTE).await.unwrap();
        assert_eq!(
            last(&fake).conclusion.as_deref(),
            Some("failure"),
            "{}",
            db.backend
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_soft_rule_is_waived_only_by_the_waive_team() {
    for db in backends().await {
        let fake = github(
            "[hygiene]\nmax_changed_lines = 1000\n",
            Some("waive_team = \"leads\"\n[floor.hygiene]\nmax_changed_lines = { value = 1, enforcement = \"soft\" }\n"),
        )
        .await;
        fake.put_permission(REPO, "lead", "write");
        fake.put_team_member("Codertocat", "leads", "lead");
        let (server, worker) = opened(&db, &fake).await;
        assert_eq!(last(&fake).conclusion.as_deref(), Some("failure"));
        let waive = "/keel waive hygiene.size reason=\"launch week\"";
        deliver(&server, "issue_comment", "w1", comment(94, waive)).await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(fake.reactions(94), ["eyes", "confused"], "{}", db.backend);
        let said: Vec<String> = fake.comments(REPO, 2).into_iter().map(|c| c.1).collect();
        assert!(
            said.iter()
                .any(|c| c.contains("only members of the organisation's waive team")),
            "{said:?}"
        );
        assert_eq!(last(&fake).conclusion.as_deref(), Some("failure"));
        let mut by_lead: serde_json::Value = serde_json::from_slice(&comment(95, waive)).unwrap();
        by_lead["comment"]["user"]["login"] = json!("lead");
        deliver(
            &server,
            "issue_comment",
            "w2",
            serde_json::to_vec(&by_lead).unwrap(),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(fake.reactions(95), ["eyes", "rocket"], "{}", db.backend);
        assert_eq!(last(&fake).conclusion.as_deref(), Some("success"));
        db.finish().await;
    }
}

#[tokio::test]
async fn evaluate_mode_reports_what_would_fail_without_failing() {
    for db in backends().await {
        let fake = github(
            "[hygiene]\nmax_changed_lines = 1000\n",
            Some("enforcement = \"evaluate\"\n[floor.hygiene]\nmax_changed_lines = 1\n"),
        )
        .await;
        opened(&db, &fake).await;
        let run = last(&fake);
        assert_eq!(run.conclusion.as_deref(), Some("success"), "{}", db.backend);
        let text = summary(&run);
        assert!(
            text.contains("once enforced, this change would fail Change size")
                && text.contains("evaluate mode"),
            "{text}"
        );
        db.finish().await;
    }
}

/// A pull request (number 7) to `Codertocat/.github` from `base` to `head`.
fn org_pull_request(base: &str, head: &str) -> serde_json::Value {
    let mut p = json_of("pull_request/opened.2.json");
    p["pull_request"]["number"] = json!(7);
    p["number"] = json!(7);
    p["pull_request"]["base"]["sha"] = json!(base);
    p["pull_request"]["head"]["sha"] = json!(head);
    p["pull_request"]["base"]["repo"]["full_name"] = json!(ORG_REPO);
    p["pull_request"]["head"]["repo"]["full_name"] = json!(ORG_REPO);
    p["repository"]["full_name"] = json!(ORG_REPO);
    p
}

#[tokio::test]
async fn a_pull_request_to_the_org_repository_shows_its_blast_radius_and_fails_when_invalid() {
    for db in backends().await {
        let fake = github("[hygiene]\nmax_changed_lines = 1000\n", Some("")).await;
        let (base, head, broken) = ("b".repeat(40), "c".repeat(40), "d".repeat(40));
        fake.put_file(ORG_REPO, &base, ORG_FILE, b"");
        fake.put_file(
            ORG_REPO,
            &head,
            ORG_FILE,
            b"[floor.coverage]\nmin_total = 80\n",
        );
        fake.put_file(
            ORG_REPO,
            &broken,
            ORG_FILE,
            b"[floor.coverage]\nmin_totl = 80\n",
        );
        // Two repositories use Keel: one at 62.5% total coverage, one at 90%.
        let other = "Codertocat/api";
        for (name, covered) in [(REPO, 5u64), (other, 9)] {
            fake.put_file(
                name,
                "",
                ".github/keel.toml",
                b"[coverage]\nmin_total = 50\n",
            );
            let coverable = if name == REPO { 8 } else { 10 };
            let metrics = json!({"version": 1, "coverage": {"lines": {"covered": covered, "coverable": coverable}}});
            db.store
                .record_baseline(
                    name,
                    &"e".repeat(40),
                    &serde_json::to_vec(&metrics).unwrap(),
                    NOW,
                )
                .await
                .unwrap();
        }
        db.store
            .add_installation_repos(1, &[REPO.into(), other.into(), ORG_REPO.into()], NOW)
            .await
            .unwrap();
        for (n, sha) in [(7u64, &head), (8, &broken)] {
            let mut pr = org_pull_request(&base, sha);
            pr["pull_request"]["number"] = json!(n);
            pr["number"] = json!(n);
            fake.put_pr_files(
                ORG_REPO,
                n,
                &[(ORG_FILE, "modified", Some("@@ -0,0 +1 @@\n+x"))],
            );
            fake.put_pull(ORG_REPO, n, pr["pull_request"].clone());
        }
        fake.put_private(ORG_REPO);
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        deliver(
            &server,
            "pull_request",
            "org-pr",
            serde_json::to_vec(&org_pull_request(&base, &head)).unwrap(),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        let run = fake
            .check_runs()
            .into_iter()
            .find(|r| r.head_sha == head)
            .expect("a check on the .github pull request");
        assert_eq!(run.conclusion.as_deref(), Some("success"), "{}", db.backend);
        let text = summary(&run);
        assert!(
            text.contains("1 repository's default branch would start failing")
                && text.contains("`Codertocat/Hello-World`: total coverage 62.50% is below 80%")
                && text.contains("Still passing: `Codertocat/api`"),
            "{text}"
        );
        // An invalid policy fails its own pull request, on its line.
        let mut invalid = org_pull_request(&base, &broken);
        invalid["pull_request"]["number"] = json!(8);
        invalid["number"] = json!(8);
        deliver(
            &server,
            "pull_request",
            "org-pr-2",
            serde_json::to_vec(&invalid).unwrap(),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        let run = fake
            .check_runs()
            .into_iter()
            .find(|r| r.head_sha == broken)
            .expect("a check on the invalid policy");
        assert_eq!(run.conclusion.as_deref(), Some("failure"));
        assert_eq!(run.annotations[0]["path"], ORG_FILE);
        assert_eq!(run.annotations[0]["start_line"], 2);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_scope_selects_by_custom_property_and_floors_commands_and_pushes() {
    for db in backends().await {
        let fake = github(
            "[hygiene]\nmax_changed_lines = 1000\n",
            Some("[[scope]]\nproperties = { tier = \"critical\" }\n[scope.floor.hygiene]\nmax_changed_lines = 1\n\
                  [floor.commands]\nwaive = \"admin\"\n[locked]\nsurvive_pushes = false\n"),
        )
        .await;
        fake.put_properties(REPO, &[("tier", "critical")]);
        let (server, worker) = opened(&db, &fake).await;
        let run = last(&fake);
        assert_eq!(run.conclusion.as_deref(), Some("failure"), "{}", db.backend);
        let text = summary(&run);
        assert!(text.contains("(needs ≤ 1 line)"), "{text}");
        assert!(text.contains("| `commands.waive` | admin |"), "{text}");
        // The organisation's floor on `/keel waive` holds over the repository's default.
        deliver(
            &server,
            "issue_comment",
            "waive",
            comment(96, "/keel waive hygiene.size reason=\"x\""),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(fake.reactions(96), ["eyes", "confused"]);
        let said: Vec<String> = fake.comments(REPO, 2).into_iter().map(|c| c.1).collect();
        assert!(
            said.iter().any(|c| c.contains("needs admin access")),
            "{said:?}"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_scope_selects_a_repository_whose_multi_select_property_holds_its_value() {
    for db in backends().await {
        let fake = github(
            "[hygiene]\nmax_changed_lines = 1000\n",
            Some("[[scope]]\nproperties = { tier = \"critical\" }\n[scope.floor.hygiene]\nmax_changed_lines = 1\n"),
        )
        .await;
        // A repository admin adds a second value to the property: the scope still selects it.
        fake.put_multi_select_property(REPO, "tier", &["critical", "pci"]);
        opened(&db, &fake).await;
        let run = last(&fake);
        assert_eq!(run.conclusion.as_deref(), Some("failure"), "{}", db.backend);
        assert!(
            summary(&run).contains("(needs ≤ 1 line)"),
            "{}",
            summary(&run)
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_public_org_repository_names_no_repository_and_a_mixed_change_stays_exempt() {
    for db in backends().await {
        let fake = github("[hygiene]\nmax_changed_lines = 1000\n", Some("")).await;
        let (base, head) = ("b".repeat(40), "c".repeat(40));
        fake.put_file(ORG_REPO, &base, ORG_FILE, b"");
        fake.put_file(
            ORG_REPO,
            &head,
            ORG_FILE,
            b"[floor.coverage]\nmin_total = 80\n",
        );
        fake.put_file(
            REPO,
            "",
            ".github/keel.toml",
            b"[coverage]\nmin_total = 50\n",
        );
        let metrics = json!({"version": 1, "coverage": {"lines": {"covered": 1, "coverable": 8}}});
        db.store
            .record_baseline(
                REPO,
                &"e".repeat(40),
                &serde_json::to_vec(&metrics).unwrap(),
                NOW,
            )
            .await
            .unwrap();
        db.store
            .add_installation_repos(1, &[REPO.into(), ORG_REPO.into()], NOW)
            .await
            .unwrap();
        let pr = org_pull_request(&base, &head);
        fake.put_pull(ORG_REPO, 7, pr["pull_request"].clone());
        fake.put_pr_files(
            ORG_REPO,
            7,
            &[(ORG_FILE, "modified", Some("@@ -0,0 +1 @@\n+x"))],
        );
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        deliver(
            &server,
            "pull_request",
            "public",
            serde_json::to_vec(&pr).unwrap(),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        let run = fake
            .check_runs()
            .into_iter()
            .find(|r| r.head_sha == head)
            .unwrap();
        let text = summary(&run);
        assert!(
            text.contains("1 of 1 repositories' default branches would start failing")
                && !text.contains("Hello-World"),
            "{}: {text}",
            db.backend
        );
        // The same change with another file in it gets no check of its own.
        let other_head = "f".repeat(40);
        fake.put_file(
            ORG_REPO,
            &other_head,
            ORG_FILE,
            b"[floor.coverage]\nmin_total = 80\n",
        );
        let mut mixed = org_pull_request(&base, &other_head);
        mixed["pull_request"]["number"] = json!(9);
        mixed["number"] = json!(9);
        fake.put_pull(ORG_REPO, 9, mixed["pull_request"].clone());
        fake.put_pr_files(
            ORG_REPO,
            9,
            &[
                (ORG_FILE, "modified", Some("@@ -0,0 +1 @@\n+x")),
                (
                    ".github/workflows/ci.yml",
                    "modified",
                    Some("@@ -0,0 +1 @@\n+y"),
                ),
            ],
        );
        deliver(
            &server,
            "pull_request",
            "mixed",
            serde_json::to_vec(&mixed).unwrap(),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert!(
            fake.check_runs()
                .iter()
                .all(|r| r.head_sha != other_head || r.conclusion.as_deref() != Some("success")),
            "{:?}",
            fake.check_runs()
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_deleted_policy_drops_the_layer_but_an_unreadable_one_does_not() {
    for db in backends().await {
        let fake = github(
            "[hygiene]\nmax_changed_lines = 1000\n",
            Some("[floor.hygiene]\nmax_changed_lines = 1\n"),
        )
        .await;
        let (server, worker) = opened(&db, &fake).await;
        assert_eq!(last(&fake).conclusion.as_deref(), Some("failure"));
        // Deleted on purpose: the repository still reads; no organisation layer any more.
        fake.remove_file(ORG_REPO, "", ORG_FILE);
        deliver(&server, "issue_comment", "r1", comment(97, "/keel recheck")).await;
        worker.run_until_idle(NOW + 11 * MINUTE).await.unwrap();
        let run = last(&fake);
        assert_eq!(run.conclusion.as_deref(), Some("success"), "{}", db.backend);
        assert!(
            summary(&run).contains("No organisation policy"),
            "{}",
            summary(&run)
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_waiver_given_before_a_soft_rule_does_not_count_under_it() {
    for db in backends().await {
        let fake = github("[hygiene]\nmax_changed_lines = 1\n", Some("")).await;
        let (server, worker) = opened(&db, &fake).await;
        deliver(
            &server,
            "issue_comment",
            "w",
            comment(98, "/keel waive hygiene.size reason=\"before the policy\""),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(last(&fake).conclusion.as_deref(), Some("success"));
        // The organisation makes the size a soft rule: only its waive team's waivers count.
        fake.put_file(
            ORG_REPO,
            "",
            ORG_FILE,
            b"waive_team = \"leads\"\n[floor.hygiene]\nmax_changed_lines = { value = 1, enforcement = \"soft\" }\n",
        );
        deliver(&server, "issue_comment", "r", comment(99, "/keel recheck")).await;
        worker.run_until_idle(NOW + 11 * MINUTE).await.unwrap();
        assert_eq!(
            last(&fake).conclusion.as_deref(),
            Some("failure"),
            "{}",
            db.backend
        );
        db.finish().await;
    }
}
