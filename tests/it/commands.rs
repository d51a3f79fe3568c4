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
    fake.put_pr_files(
        REPO,
        2,
        &[(
            "hello.rb",
            "modified",
            Some("@@ -1 +1,2 @@\n-Hello\n+Hello World\n+More"),
        )],
    );
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
