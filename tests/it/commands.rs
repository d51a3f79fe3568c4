//! `/keel` comment commands through the App against the FakeGitHub, on every backend:
//! reactions, permissions from the collaborator endpoint, one reply per comment, edits and
//! bots ignored, redeliveries doing nothing twice, quoted commands never run.

use crate::reports_flow::{BASE, NOW, REPO, deliver, json_of, worker};
use crate::support::db::{TestDb, backends};
use crate::support::github::FakeGitHub;
use crate::support::webhook::{TestServer, signed};
use serde_json::{Value, json};

async fn github() -> FakeGitHub {
    let fake = FakeGitHub::start().await;
    fake.put_file(
        REPO,
        BASE,
        ".github/keel.toml",
        b"[hygiene]\nmax_lines = 1000\n",
    );
    crate::evaluate_pr::readme_change(&fake);
    fake.put_pull(
        REPO,
        2,
        json_of("pull_request/opened.2.json")["pull_request"].clone(),
    );
    fake.put_permission(REPO, "maintainer", "write");
    fake.put_permission(REPO, "reader", "read");
    fake
}

/// An `issue_comment` on pull request 2.
fn comment(action: &str, id: u64, login: &str, kind: &str, body: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "action": action,
        "issue": {"number": 2, "pull_request": {"url": "https://api.github.com/repos/x/y/pulls/2"}},
        "comment": {"id": id, "body": body, "user": {"login": login, "type": kind}},
        "repository": {"full_name": REPO, "default_branch": "master"},
        "installation": {"id": 1}
    }))
    .unwrap()
}

/// Pull request evaluations (GETs of the pull request) the fake has seen.
async fn judgements(fake: &FakeGitHub) -> usize {
    fake.log()
        .await
        .iter()
        .filter(|l| *l == &format!("GET /repos/{REPO}/pulls/2"))
        .count()
}

fn replies(fake: &FakeGitHub) -> Vec<String> {
    fake.comments(REPO, 2).into_iter().map(|c| c.1).collect()
}

#[tokio::test]
async fn recheck_by_a_maintainer_runs_with_reactions_and_no_reply() {
    for db in backends().await {
        let fake = github().await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        deliver(
            &server,
            "issue_comment",
            "c1",
            comment(
                "created",
                71,
                "maintainer",
                "User",
                "Looks right.\n\n/keel recheck",
            ),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(fake.reactions(71), ["eyes", "rocket"], "{}", db.backend);
        assert!(
            judgements(&fake).await >= 2,
            "the pull request was read and judged again"
        );
        assert_eq!(fake.check_runs().len(), 1, "the check run shows the result");
        // The sticky comment is the only comment: no reply for a command that ran.
        assert!(replies(&fake).iter().all(|b| !b.contains("@maintainer")));
        // A redelivery of the same delivery does nothing again.
        let (status, _) = server
            .send(signed(
                "issue_comment",
                "c1",
                comment("created", 71, "maintainer", "User", "/keel recheck"),
            ))
            .await;
        assert_eq!(status, 200, "already received");
        db.finish().await;
    }
}

/// A new comment `body` by `login` (comment `id`) on pull request 2, delivered and run to the
/// end; the FakeGitHub afterwards.
async fn commented(db: &TestDb, id: u64, login: &str, body: &str) -> FakeGitHub {
    let fake = github().await;
    let server = TestServer::new(&db.store);
    let worker = worker(db, &fake);
    deliver(
        &server,
        "issue_comment",
        &format!("c{id}"),
        comment("created", id, login, "User", body),
    )
    .await;
    worker.run_until_idle(NOW).await.unwrap();
    fake
}

#[tokio::test]
async fn a_reader_is_refused_once_and_nothing_runs() {
    for db in backends().await {
        let fake = commented(&db, 72, "reader", "/keel recheck\n/keel recheck").await;
        assert_eq!(fake.reactions(72), ["eyes", "confused"], "{}", db.backend);
        let replies = replies(&fake);
        assert_eq!(replies.len(), 1, "exactly one reply: {replies:?}");
        assert!(replies[0].contains("needs write access"), "{}", replies[0]);
        assert!(fake.check_runs().is_empty(), "nothing was judged");
        db.finish().await;
    }
}

#[tokio::test]
async fn an_unknown_verb_gets_one_reply_with_help() {
    for db in backends().await {
        let fake = commented(&db, 73, "maintainer", "/keel merge @everyone").await;
        assert_eq!(fake.reactions(73), ["eyes", "confused"], "{}", db.backend);
        let replies = replies(&fake);
        assert_eq!(replies.len(), 1, "{replies:?}");
        assert!(
            replies[0].contains("`/keel merge` is not a Keel command")
                && replies[0].contains("/keel recheck")
                && !replies[0].contains("@everyone"),
            "{}",
            replies[0]
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn edits_bots_quotes_and_plain_comments_run_nothing() {
    for db in backends().await {
        let fake = github().await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        let cases: [(&str, Vec<u8>); 5] = [
            (
                "edited",
                comment("edited", 74, "maintainer", "User", "/keel recheck"),
            ),
            (
                "bot",
                comment("created", 75, "keel[bot]", "Bot", "/keel recheck"),
            ),
            (
                "quote",
                comment(
                    "created",
                    76,
                    "maintainer",
                    "User",
                    "> /keel recheck\n\nas you said",
                ),
            ),
            (
                "code",
                comment(
                    "created",
                    77,
                    "maintainer",
                    "User",
                    "```\n/keel recheck\n```",
                ),
            ),
            (
                "plain",
                comment("created", 78, "maintainer", "User", "Looks good"),
            ),
        ];
        for (name, body) in cases {
            let (status, text) = server.send(signed("issue_comment", name, body)).await;
            assert_eq!(status, 200, "{name}: {text}");
            assert!(text.starts_with("ignored"), "{name}: {text}");
        }
        worker.run_until_idle(NOW).await.unwrap();
        for id in 74..=78 {
            assert!(
                fake.reactions(id).is_empty(),
                "comment {id}: {}",
                db.backend
            );
        }
        assert!(replies(&fake).is_empty());
        // A comment on an issue (not a pull request) runs nothing either.
        let mut on_issue: Value = serde_json::from_slice(&comment(
            "created",
            79,
            "maintainer",
            "User",
            "/keel recheck",
        ))
        .unwrap();
        on_issue["issue"]
            .as_object_mut()
            .unwrap()
            .remove("pull_request");
        let (status, _) = server
            .send(signed(
                "issue_comment",
                "c-issue",
                serde_json::to_vec(&on_issue).unwrap(),
            ))
            .await;
        assert_eq!(status, 200);
        db.finish().await;
    }
}

/// Pull request 2 under a base config whose size criterion it fails (3 changed lines, at most
/// 1), with `[debt]` so a waiver counts as debt added.
async fn failing_pr(
    db: &TestDb,
) -> (
    FakeGitHub,
    TestServer,
    keel::jobs::worker::Worker<keel::github::client::GitHub>,
) {
    opened_under(
        db,
        b"[hygiene]\nmax_changed_lines = 1\n[debt]\n",
        "Codertocat",
        &[],
    )
    .await
}

/// Pull request 2 opened and judged under `config` at its base, with `admin` an admin of the
/// repository and its commits made out to `people` (author, committer).
async fn opened_under(
    db: &TestDb,
    config: &[u8],
    admin: &str,
    people: &[(&str, &str)],
) -> (
    FakeGitHub,
    TestServer,
    keel::jobs::worker::Worker<keel::github::client::GitHub>,
) {
    let fake = github().await;
    fake.put_file(REPO, BASE, ".github/keel.toml", config);
    fake.put_permission(REPO, admin, "admin");
    if !people.is_empty() {
        fake.put_pr_commit_people(REPO, 2, people);
    }
    let server = TestServer::new(&db.store);
    let worker = worker(db, &fake);
    deliver(
        &server,
        "pull_request",
        "opened",
        serde_json::to_vec(&json_of("pull_request/opened.2.json")).unwrap(),
    )
    .await;
    worker.run_until_idle(NOW).await.unwrap();
    (fake, server, worker)
}

fn last_check(fake: &FakeGitHub) -> crate::support::github::CheckRun {
    fake.check_runs().last().cloned().expect("a check run")
}

#[tokio::test]
async fn a_waiver_is_refused_to_the_author_and_recorded_shown_counted_and_cleared_by_a_push() {
    for db in backends().await {
        let (fake, server, worker) = failing_pr(&db).await;
        let first = last_check(&fake);
        assert_eq!(
            first.conclusion.as_deref(),
            Some("failure"),
            "{}",
            db.backend
        );
        // The author (an admin, even) cannot waive their own change.
        let waive =
            "/keel waive hygiene.size reason=\"launch hotfix, split next sprint\" until=1970-01-05";
        deliver(
            &server,
            "issue_comment",
            "by-author",
            comment("created", 81, "Codertocat", "User", waive),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(fake.reactions(81), ["eyes", "confused"]);
        let said = replies(&fake);
        assert!(
            said.iter()
                .any(|r| r.contains("@Codertocat") && r.contains("cannot waive its own")),
            "{said:?}"
        );
        assert_eq!(last_check(&fake).conclusion.as_deref(), Some("failure"));
        // A maintainer can: recorded, judged again, shown, counted as debt added.
        deliver(
            &server,
            "issue_comment",
            "by-maintainer",
            comment("created", 82, "maintainer", "User", waive),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(fake.reactions(82), ["eyes", "rocket"], "{}", db.backend);
        let check = last_check(&fake);
        assert_eq!(check.conclusion.as_deref(), Some("success"), "{check:?}");
        assert_eq!(
            check.title.as_deref(),
            Some("Definition of done met with 1 waiver")
        );
        let summary = check.summary.unwrap_or_default().replace('\u{200b}', "");
        assert!(
            summary.contains("waived by @maintainer for `ec26c3e` until 1970-01-05")
                && summary.contains("launch hotfix, split next sprint"),
            "{summary}"
        );
        let shown = sticky(&fake);
        assert!(shown.contains("waived by @maintainer"), "{shown}");
        let given = db.store.waivers_given(REPO, 0, i64::MAX).await.unwrap();
        assert_eq!(given.len(), 1);
        assert_eq!(
            (given[0].subject.as_str(), given[0].by.as_str()),
            ("hygiene.size", "maintainer")
        );
        db.store.record_merge(REPO, 2, NOW).await.unwrap();
        let merged = db.store.merged_pull_requests(REPO).await.unwrap();
        assert_eq!(merged[0].debt.as_deref(), Some("added"), "counted as debt");
        // A redelivery of the maintainer's comment (a new delivery id) does nothing twice.
        deliver(
            &server,
            "issue_comment",
            "by-maintainer-again",
            comment("created", 82, "maintainer", "User", waive),
        )
        .await;
        let checks_before = fake.check_runs().len();
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(fake.reactions(82), ["eyes", "rocket"]);
        assert_eq!(
            db.store
                .waivers_given(REPO, 0, i64::MAX)
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(fake.check_runs().len(), checks_before);
        // A push: the waiver was given for an earlier commit, and the check fails again.
        let new_head = "ab".repeat(20);
        let mut pr = json_of("pull_request/opened.2.json");
        pr["pull_request"]["head"]["sha"] = json!(new_head);
        pr["pull_request"]["updated_at"] = json!("2030-01-01T00:00:00Z");
        fake.put_pull(REPO, 2, pr["pull_request"].clone());
        pr["action"] = json!("synchronize");
        deliver(
            &server,
            "pull_request",
            "push",
            serde_json::to_vec(&pr).unwrap(),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        let check = last_check(&fake);
        assert_eq!(check.head_sha, new_head);
        assert_eq!(check.conclusion.as_deref(), Some("failure"), "{check:?}");
        assert!(
            check
                .summary
                .unwrap_or_default()
                .contains("given for an earlier commit `ec26c3e`"),
            "the push cleared the waiver"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_waiver_is_refused_to_anyone_who_wrote_or_committed_part_of_the_change() {
    for db in backends().await {
        let (fake, server, worker) = failing_pr(&db).await;
        // The maintainer pushed a commit onto Codertocat's pull request; a bot committed
        // another on the boss's behalf.
        fake.put_pr_commit_people(
            REPO,
            2,
            &[
                ("Codertocat", "web-flow"),
                ("Maintainer", "github-actions[bot]"),
            ],
        );
        fake.put_permission(REPO, "boss", "admin");
        let waive = "/keel waive hygiene.size reason=\"hotfix\" until=1970-01-05";
        deliver(
            &server,
            "issue_comment",
            "by-committer",
            comment("created", 86, "maintainer", "User", waive),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(fake.reactions(86), ["eyes", "confused"], "{}", db.backend);
        assert!(
            replies(&fake)
                .iter()
                .any(|r| r.contains("@maintainer") && r.contains("you wrote or committed part")),
            "{:?}",
            replies(&fake)
        );
        assert_eq!(last_check(&fake).conclusion.as_deref(), Some("failure"));
        assert!(db.store.live_decisions(REPO, 2).await.unwrap().is_empty());
        // Someone who wrote none of it can.
        deliver(
            &server,
            "issue_comment",
            "by-reviewer",
            comment("created", 87, "boss", "User", waive),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(fake.reactions(87), ["eyes", "rocket"]);
        assert_eq!(last_check(&fake).conclusion.as_deref(), Some("success"));
        db.finish().await;
    }
}

/// A `synchronize` of pull request 2 to `head` (GitHub dated `at`) pushed by `sender`; the
/// FakeGitHub's pull request moves to `head` too.
fn pushed(fake: &FakeGitHub, head: &str, at: &str, sender: &str) -> Vec<u8> {
    let mut pr = json_of("pull_request/opened.2.json");
    pr["pull_request"]["head"]["sha"] = json!(head);
    pr["pull_request"]["updated_at"] = json!(at);
    fake.put_pull(REPO, 2, pr["pull_request"].clone());
    pr["action"] = json!("synchronize");
    pr["sender"]["login"] = json!(sender);
    serde_json::to_vec(&pr).unwrap()
}

#[tokio::test]
async fn a_waiver_is_refused_to_whoever_pushed_to_the_change_whatever_its_commits_say() {
    for db in backends().await {
        let (fake, server, worker) = failing_pr(&db).await;
        // The maintainer pushes a commit onto Codertocat's pull request, made out (with git's
        // author and committer fields, which anyone can set) to Codertocat.
        fake.put_pr_commit_people(REPO, 2, &[("Codertocat", "Codertocat")]);
        deliver(
            &server,
            "pull_request",
            "pushed-by-maintainer",
            pushed(
                &fake,
                &"ab".repeat(20),
                "2030-01-01T00:00:00Z",
                "Maintainer",
            ),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(last_check(&fake).conclusion.as_deref(), Some("failure"));
        let waive = "/keel waive hygiene.size reason=\"hotfix\" until=1970-01-05";
        deliver(
            &server,
            "issue_comment",
            "by-pusher",
            comment("created", 89, "maintainer", "User", waive),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(fake.reactions(89), ["eyes", "confused"], "{}", db.backend);
        assert!(
            replies(&fake)
                .iter()
                .any(|r| r.contains("@maintainer") && r.contains("you pushed to this pull request")),
            "{:?}",
            replies(&fake)
        );
        assert_eq!(last_check(&fake).conclusion.as_deref(), Some("failure"));
        assert!(db.store.live_decisions(REPO, 2).await.unwrap().is_empty());
        db.finish().await;
    }
}

/// A `push` of branch `changes` (pull request 2's head) by `sender`.
fn branch_pushed(sender: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "ref": "refs/heads/changes",
        "before": "0".repeat(40),
        "after": "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
        "repository": {"full_name": REPO, "default_branch": "master"},
        "installation": {"id": 1},
        "sender": {"login": sender, "type": "User"}
    }))
    .unwrap()
}

/// `login` asks to waive the failing size row in comment `id`; the reactions it got.
async fn waive_as(
    fake: &FakeGitHub,
    server: &TestServer,
    worker: &keel::jobs::worker::Worker<keel::github::client::GitHub>,
    id: u64,
    login: &str,
) -> Vec<String> {
    let waive = "/keel waive hygiene.size reason=\"hotfix\" until=1970-01-05";
    deliver(
        server,
        "issue_comment",
        &format!("waive-{id}"),
        comment("created", id, login, "User", waive),
    )
    .await;
    worker.run_until_idle(NOW).await.unwrap();
    fake.reactions(id)
}

#[tokio::test]
async fn a_waiver_is_refused_to_whoever_pushed_the_branch_before_the_pull_request_was_opened() {
    for db in backends().await {
        let fake = github().await;
        fake.put_file(
            REPO,
            BASE,
            ".github/keel.toml",
            b"[hygiene]\nmax_changed_lines = 1\n",
        );
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        // The maintainer pushes `changes` (its commits made out to Codertocat); Codertocat
        // then opens the pull request from it, so GitHub sends no `synchronize`.
        deliver(&server, "push", "branch-push", branch_pushed("maintainer")).await;
        deliver(
            &server,
            "pull_request",
            "opened",
            serde_json::to_vec(&json_of("pull_request/opened.2.json")).unwrap(),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(
            waive_as(&fake, &server, &worker, 91, "maintainer").await,
            ["eyes", "confused"],
            "{}",
            db.backend
        );
        assert!(
            replies(&fake)
                .iter()
                .any(|r| r.contains("you pushed to this pull request")),
            "{:?}",
            replies(&fake)
        );
        assert_eq!(last_check(&fake).conclusion.as_deref(), Some("failure"));
        db.finish().await;
    }
}

#[tokio::test]
async fn a_waiver_is_refused_to_the_owner_of_the_fork_the_change_comes_from() {
    for db in backends().await {
        let fake = github().await;
        fake.put_file(
            REPO,
            BASE,
            ".github/keel.toml",
            b"[hygiene]\nmax_changed_lines = 1\n",
        );
        // Codertocat opens the pull request from a branch of the maintainer's fork.
        let mut opened = json_of("pull_request/opened.2.json");
        opened["pull_request"]["head"]["repo"]["full_name"] = json!("Maintainer/Hello-World");
        fake.put_pull(REPO, 2, opened["pull_request"].clone());
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        deliver(
            &server,
            "pull_request",
            "opened",
            serde_json::to_vec(&opened).unwrap(),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(
            waive_as(&fake, &server, &worker, 92, "maintainer").await,
            ["eyes", "confused"],
            "{}",
            db.backend
        );
        assert_eq!(last_check(&fake).conclusion.as_deref(), Some("failure"));
        db.finish().await;
    }
}

#[tokio::test]
async fn a_push_delivered_after_its_pushers_waiver_ends_the_waiver_at_once() {
    for db in backends().await {
        let (fake, server, worker) = failing_pr(&db).await;
        fake.put_permission(REPO, "boss", "admin");
        assert_eq!(
            waive_as(&fake, &server, &worker, 93, "boss").await,
            ["eyes", "rocket"],
            "{}",
            db.backend
        );
        assert_eq!(last_check(&fake).conclusion.as_deref(), Some("success"));
        // The boss's push to this head was delivered late (a redelivery): its own judgement
        // is stale, but the waiver its pusher gave no longer counts.
        let mut late = json_of("pull_request/opened.2.json");
        late["action"] = json!("synchronize");
        late["pull_request"]["updated_at"] = json!("2000-01-01T00:00:00Z");
        late["sender"]["login"] = json!("boss");
        deliver(
            &server,
            "pull_request",
            "late-push",
            serde_json::to_vec(&late).unwrap(),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        let check = last_check(&fake);
        assert_eq!(check.conclusion.as_deref(), Some("failure"), "{check:?}");
        assert!(
            check
                .summary
                .unwrap_or_default()
                .contains("has since pushed to it"),
            "the late push ended the waiver"
        );
        db.finish().await;
    }
}

/// Pull request 2 failing its size row under `survive_pushes = true`, waived by the admin
/// `boss` (so green); its commits made out to Codertocat.
async fn waived_across_pushes(
    db: &TestDb,
) -> (
    FakeGitHub,
    TestServer,
    keel::jobs::worker::Worker<keel::github::client::GitHub>,
) {
    let (fake, server, worker) = opened_under(
        db,
        b"[hygiene]\nmax_changed_lines = 1\n[commands]\nsurvive_pushes = true\n",
        "boss",
        &[("Codertocat", "web-flow")],
    )
    .await;
    assert_eq!(
        waive_as(&fake, &server, &worker, 88, "boss").await,
        ["eyes", "rocket"]
    );
    assert_eq!(
        last_check(&fake).conclusion.as_deref(),
        Some("success"),
        "{}",
        db.backend
    );
    (fake, server, worker)
}

#[tokio::test]
async fn a_surviving_waiver_ends_when_its_giver_pushes_commits_made_out_to_others() {
    for db in backends().await {
        let (fake, server, worker) = waived_across_pushes(&db).await;
        // The giver pushes; the commits still say Codertocat made them.
        deliver(
            &server,
            "pull_request",
            "push-by-boss",
            pushed(&fake, &"cd".repeat(20), "2030-01-02T00:00:00Z", "boss"),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        let check = last_check(&fake);
        assert_eq!(check.head_sha, "cd".repeat(20));
        assert_eq!(
            check.conclusion.as_deref(),
            Some("failure"),
            "{}: {check:?}",
            db.backend
        );
        assert!(
            check
                .summary
                .unwrap_or_default()
                .contains("has since pushed to it"),
            "the giver's push ended the waiver"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_surviving_waiver_ends_when_its_giver_commits_to_the_change() {
    for db in backends().await {
        let (fake, server, worker) = waived_across_pushes(&db).await;
        // A push by the author: the waiver survives, as configured.
        deliver(
            &server,
            "pull_request",
            "push-1",
            pushed(
                &fake,
                &"ab".repeat(20),
                "2030-01-01T00:00:00Z",
                "Codertocat",
            ),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(last_check(&fake).conclusion.as_deref(), Some("success"));
        // A push of the waiver's giver's own commit: their waiver no longer covers the change.
        fake.put_pr_commit_people(REPO, 2, &[("Codertocat", "web-flow"), ("boss", "web-flow")]);
        deliver(
            &server,
            "pull_request",
            "push-2",
            pushed(
                &fake,
                &"cd".repeat(20),
                "2030-01-02T00:00:00Z",
                "Codertocat",
            ),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        let check = last_check(&fake);
        assert_eq!(check.head_sha, "cd".repeat(20));
        assert_eq!(check.conclusion.as_deref(), Some("failure"), "{check:?}");
        assert!(
            check
                .summary
                .unwrap_or_default()
                .contains("has since committed to it"),
            "the giver's commit ended the waiver"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_waiver_written_before_the_head_arrived_is_refused() {
    for db in backends().await {
        // Pull request 2 got its head ec26c3e at 15:20:33 (the fixture's `updated_at`).
        let (fake, server, worker) = failing_pr(&db).await;
        let waive = "/keel waive hygiene.size reason=\"hotfix\" until=1970-01-05";
        let written = |id: u64, at: &str| {
            let mut c: Value =
                serde_json::from_slice(&comment("created", id, "maintainer", "User", waive))
                    .unwrap();
            c["comment"]["created_at"] = json!(at);
            serde_json::to_vec(&c).unwrap()
        };
        // Written while the maintainer looked at an earlier commit; the job runs after the
        // push was judged.
        deliver(
            &server,
            "issue_comment",
            "before",
            written(88, "2019-05-15T15:20:00Z"),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(fake.reactions(88), ["eyes", "confused"], "{}", db.backend);
        assert!(
            replies(&fake)
                .iter()
                .any(|r| r.contains("got a new commit (`ec26c3e`) after this comment")),
            "{:?}",
            replies(&fake)
        );
        assert!(db.store.live_decisions(REPO, 2).await.unwrap().is_empty());
        assert_eq!(last_check(&fake).conclusion.as_deref(), Some("failure"));
        // Written after: recorded.
        deliver(
            &server,
            "issue_comment",
            "after",
            written(89, "2019-05-15T15:25:00Z"),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(fake.reactions(89), ["eyes", "rocket"]);
        assert_eq!(last_check(&fake).conclusion.as_deref(), Some("success"));
        db.finish().await;
    }
}

#[tokio::test]
async fn unwaive_withdraws_the_green_check_before_anything_else_then_fails_it() {
    for db in backends().await {
        let (fake, server, worker) = failing_pr(&db).await;
        let waive = "/keel waive hygiene.size reason=\"hotfix\" until=1970-01-05";
        deliver(
            &server,
            "issue_comment",
            "waive",
            comment("created", 83, "maintainer", "User", waive),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(
            last_check(&fake).conclusion.as_deref(),
            Some("success"),
            "{}",
            db.backend
        );
        deliver(
            &server,
            "issue_comment",
            "unwaive",
            comment(
                "created",
                84,
                "maintainer",
                "User",
                "/keel unwaive hygiene.size",
            ),
        )
        .await;
        // The command's job alone, as when the judgement it asks for waits behind a slow
        // GitHub: the head no longer shows the waiver's green.
        let ran = worker.run_one(NOW).await.unwrap();
        assert!(matches!(ran, keel::jobs::worker::Ran::Done(_)), "{ran:?}");
        let held = last_check(&fake);
        assert_eq!(
            (held.status.as_str(), held.conclusion.as_deref()),
            ("in_progress", None),
            "{}: {held:?}",
            db.backend
        );
        assert_eq!(fake.reactions(84), ["eyes", "rocket"]);
        // Judged again: it fails, and the waiver is on the record as ended.
        worker.run_until_idle(NOW).await.unwrap();
        let check = last_check(&fake);
        assert_eq!(check.conclusion.as_deref(), Some("failure"), "{check:?}");
        assert!(fake.stray_check_runs().is_empty());
        let live = db.store.live_decisions(REPO, 2).await.unwrap();
        assert!(live.iter().all(|d| d.topic != "waiver"), "{live:?}");
        // A waiver again, then an unwaive whose comment's next line fails for good (GitHub
        // refuses the commits listing a waiver needs): the job gives up, and the judgement
        // the unwaive asked for still runs.
        deliver(
            &server,
            "issue_comment",
            "waive-again",
            comment("created", 90, "maintainer", "User", waive),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(last_check(&fake).conclusion.as_deref(), Some("success"));
        fake.fail_next(
            "GET",
            "pulls/2/commits",
            wiremock::ResponseTemplate::new(422).set_body_json(json!({"message": "Unprocessable"})),
        );
        deliver(
            &server,
            "issue_comment",
            "unwaive-then-fail",
            comment(
                "created",
                91,
                "maintainer",
                "User",
                &format!("/keel unwaive hygiene.size\n{waive}"),
            ),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        let check = last_check(&fake);
        assert_eq!(
            (check.status.as_str(), check.conclusion.as_deref()),
            ("completed", Some("failure")),
            "{check:?}"
        );
        // Unwaiving what has no waiver is refused with one reply.
        deliver(
            &server,
            "issue_comment",
            "unwaive-again",
            comment(
                "created",
                85,
                "maintainer",
                "User",
                "/keel unwaive hygiene.size",
            ),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(fake.reactions(85), ["eyes", "confused"]);
        assert!(
            replies(&fake)
                .iter()
                .any(|r| r.contains("`hygiene.size` has no waiver on this pull request")),
            "{:?}",
            replies(&fake)
        );
        db.finish().await;
    }
}

/// A submitted review of pull request 2 whose body is `body`.
fn review(id: u64, login: &str, body: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "action": "submitted",
        "review": {"id": id, "body": body, "user": {"login": login, "type": "User"},
                   "submitted_at": "1970-01-01T00:00:05Z"},
        "pull_request": {"number": 2},
        "repository": {"full_name": REPO, "default_branch": "master"},
        "installation": {"id": 1}
    }))
    .unwrap()
}

fn sticky(fake: &FakeGitHub) -> String {
    fake.comments(REPO, 2)
        .into_iter()
        .map(|c| c.1)
        .find(|b| b.contains("keel:"))
        .unwrap_or_default()
        .replace('\u{200b}', "")
}

#[tokio::test]
async fn link_explain_outcome_and_debt_run_with_per_verb_permissions_and_from_review_bodies() {
    for db in backends().await {
        let (fake, server, worker) = failing_pr(&db).await;
        fake.put_file(
            REPO,
            BASE,
            ".github/keel.toml",
            b"[hygiene]\nmax_changed_lines = 1\n[debt]\n[commands]\ndebt = \"maintain\"\n\n\
              [roadmap]\n[[roadmap.items]]\nid = \"R-12\"\ntitle = \"One-page checkout\"\nissues = [42]\n",
        );
        fake.put_permission(REPO, "boss", "admin");
        let body = "/keel link #42\n/keel explain hygiene.size\n/keel outcome R-12 2.9%\n/keel debt reduced";
        deliver(
            &server,
            "issue_comment",
            "verbs",
            comment("created", 91, "maintainer", "User", body),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(fake.reactions(91), ["eyes", "confused"], "{}", db.backend);
        let said = replies(&fake);
        let reply: Vec<&String> = said.iter().filter(|r| r.contains("@maintainer")).collect();
        assert_eq!(reply.len(), 1, "one reply for the comment: {said:?}");
        assert!(
            reply[0].contains("**Change size** (`hygiene.size`) failed at the last evaluation")
                && reply[0].contains("`/keel debt` needs maintain access"),
            "{}",
            reply[0]
        );
        let outcomes = db.store.latest_outcomes(REPO, i64::MAX).await.unwrap();
        assert_eq!(outcomes.get("R-12").map(|o| o.0), Some(2.9), "{outcomes:?}");
        let linked = sticky(&fake);
        assert!(linked.contains("`/keel link` by @maintainer"), "{linked}");
        assert!(!linked.contains("called it"), "debt call refused: {linked}");
        // A review body: no reactions (GitHub has none for reviews), no reply when all ran.
        deliver(
            &server,
            "pull_request_review",
            "review",
            review(
                900,
                "boss",
                "Fine for now.\n\n/keel unlink R-12\n/keel debt added",
            ),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert!(fake.reactions(900).is_empty());
        assert_eq!(
            replies(&fake)
                .iter()
                .filter(|r| r.contains("@boss"))
                .count(),
            0
        );
        let after = sticky(&fake);
        assert!(!after.contains("`/keel link` by"), "unlinked: {after}");
        assert!(
            after.contains("@boss called it with `/keel debt added`"),
            "{after}"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_waiver_for_a_head_its_giver_never_saw_is_refused() {
    for db in backends().await {
        let (fake, server, worker) = failing_pr(&db).await;
        // The author pushes after the maintainer read the check, before the command runs.
        deliver(
            &server,
            "issue_comment",
            "late",
            comment(
                "created",
                83,
                "maintainer",
                "User",
                "/keel waive hygiene.size reason=\"fine\"",
            ),
        )
        .await;
        let mut pr = json_of("pull_request/opened.2.json");
        pr["pull_request"]["head"]["sha"] = json!("cd".repeat(20));
        fake.put_pull(REPO, 2, pr["pull_request"].clone());
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(fake.reactions(83), ["eyes", "confused"], "{}", db.backend);
        assert!(
            replies(&fake)
                .iter()
                .any(|r| r.contains("changed since it was last judged")),
            "{:?}",
            replies(&fake)
        );
        assert!(
            db.store
                .waivers_given(REPO, 0, i64::MAX)
                .await
                .unwrap()
                .is_empty()
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_waiver_stops_counting_when_the_base_config_asks_more_than_its_giver_had() {
    for db in backends().await {
        let (fake, server, worker) = failing_pr(&db).await;
        deliver(
            &server,
            "issue_comment",
            "waive",
            comment(
                "created",
                84,
                "maintainer",
                "User",
                "/keel waive hygiene.size reason=\"fine\"",
            ),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(last_check(&fake).conclusion.as_deref(), Some("success"));
        // The base branch now asks `maintain` for waivers: a writer's waiver no longer holds.
        fake.put_file(
            REPO,
            BASE,
            ".github/keel.toml",
            b"[hygiene]\nmax_changed_lines = 1\n[debt]\n[commands]\nwaive = \"maintain\"\n",
        );
        deliver(
            &server,
            "issue_comment",
            "recheck",
            comment("created", 85, "maintainer", "User", "/keel recheck"),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(
            last_check(&fake).conclusion.as_deref(),
            Some("failure"),
            "{}",
            db.backend
        );
        db.finish().await;
    }
}
