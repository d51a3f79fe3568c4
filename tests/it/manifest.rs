//! The App manifest against what the code handles.

use crate::support::{keel, root};
use keel::github::event::{Parsed, parse_event};
use keel::github::manifest::{EVENTS, PERMISSIONS};
use serde_json::json;

/// A payload of `event` that Keel acts on: a real example where we have one.
fn example(event: &str) -> Vec<u8> {
    let fixture = |p: &str| crate::support::webhook::payload(p);
    let repo = json!({"full_name": "o/r", "default_branch": "main"});
    match event {
        "check_run" => fixture("check_run/rerequested.1.json"),
        "check_suite" => fixture("check_suite/rerequested.1.json"),
        "merge_group" => fixture("merge_group/checks_requested.1.json"),
        "pull_request" => fixture("pull_request/opened.2.json"),
        "push" => fixture("push/none.1.json"),
        "workflow_run" => {
            let mut p: serde_json::Value =
                serde_json::from_slice(&fixture("workflow_run/completed.1.json")).unwrap();
            p["action"] = json!("completed");
            serde_json::to_vec(&p).unwrap()
        }
        "deployment_status" => serde_json::to_vec(&json!({
            "deployment": {"id": 1, "sha": "abc", "environment": "production"},
            "deployment_status": {"state": "success", "created_at": "2026-11-24T10:00:00Z"},
            "repository": repo
        }))
        .unwrap(),
        "issues" => serde_json::to_vec(&json!({
            "action": "opened",
            "issue": {"number": 1, "labels": [], "created_at": "2026-11-24T10:00:00Z"},
            "repository": repo
        }))
        .unwrap(),
        "pull_request_review" => serde_json::to_vec(&json!({
            "action": "submitted",
            "review": {"submitted_at": "2026-11-24T10:00:00Z"},
            "pull_request": {"number": 1},
            "repository": repo
        }))
        .unwrap(),
        "issue_comment" => serde_json::to_vec(&json!({
            "action": "created",
            "issue": {"number": 1, "pull_request": {"url": "x"}},
            "comment": {"id": 9, "body": "/keel recheck", "user": {"login": "octocat", "type": "User"}},
            "repository": repo, "installation": {"id": 1}
        }))
        .unwrap(),
        "pull_request_review_comment" => serde_json::to_vec(&json!({
            "action": "created",
            "pull_request": {"number": 1},
            "comment": {"id": 9, "body": "/keel help", "user": {"login": "octocat", "type": "User"}},
            "repository": repo, "installation": {"id": 1}
        }))
        .unwrap(),
        "release" => serde_json::to_vec(&json!({
            "action": "published",
            "release": {"id": 1, "published_at": "2026-11-24T10:00:00Z"},
            "repository": repo
        }))
        .unwrap(),
        "repository" => serde_json::to_vec(&json!({
            "action": "deleted",
            "repository": {"full_name": "o/r", "name": "r"},
            "installation": {"id": 1}
        }))
        .unwrap(),
        other => {
            panic!("no example for `{other}`: the manifest subscribes to an event with no test")
        }
    }
}

#[test]
fn every_subscribed_event_is_one_keel_acts_on() {
    for event in EVENTS {
        match parse_event(event, &example(event)) {
            Ok(Parsed::Event(_)) => {}
            other => panic!("`{event}` is subscribed but gives {other:?}"),
        }
    }
    // And nothing Keel acts on is left out (installation events come without subscribing).
    for event in ["deployment", "star", "fork", "status", "discussion_comment"] {
        assert!(
            matches!(parse_event(event, b"{}"), Ok(Parsed::Ignored(_))),
            "`{event}` is handled but not subscribed"
        );
    }
}

#[test]
fn the_manifest_asks_for_the_least_permissions_and_app_yml_is_current() {
    let perms: Vec<(&str, &str)> = PERMISSIONS.iter().map(|(n, a, _)| (*n, *a)).collect();
    assert_eq!(
        perms,
        [
            ("actions", "read"),
            ("checks", "write"),
            ("contents", "read"),
            ("deployments", "read"),
            ("issues", "write"),
            ("merge_queues", "read"),
            ("metadata", "read"),
            ("members", "read"),
            ("pull_requests", "write"),
            ("security_events", "read"),
        ]
    );
    let run = keel(&root(), &["manifest"]);
    assert_eq!(run.code, 0);
    let committed = std::fs::read_to_string(root().join("app.yml")).unwrap();
    assert_eq!(
        run.stdout, committed,
        "regenerate app.yml with `keel manifest > app.yml`"
    );
    let json: serde_json::Value = serde_json::from_str(&run.stdout)
        .expect("standard output is the manifest's JSON and nothing else");
    assert_eq!(
        json["hook_attributes"]["url"],
        "https://keel.example.com/webhook"
    );
    let custom = keel(&root(), &["manifest", "--url", "https://keel.acme.dev/"]);
    assert!(
        custom
            .stdout
            .contains("\"url\": \"https://keel.acme.dev/webhook\"")
    );
}

#[test]
fn keel_manifest_prints_json_github_accepts_and_the_steps_on_standard_error() {
    let run = keel(&root(), &["manifest", "--url", "https://keel.acme.dev"]);
    assert_eq!(run.code, 0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    for key in &keys {
        assert!(
            keel::github::manifest::MANIFEST_KEYS.contains(&key.as_str()),
            "GitHub's manifest flow refuses `{key}`"
        );
    }
    // GitHub requires `url`; the webhook must be active and point at the server.
    assert_eq!(json["url"], "https://github.com/keel-dev/keel");
    assert_eq!(json["hook_attributes"]["active"], true);
    assert_eq!(json["redirect_url"], "https://keel.acme.dev");
    assert!(!run.stdout.contains("github.com/settings/apps/new"));
    assert!(run.stderr.contains("https://github.com/settings/apps/new"));
    assert!(run.stderr.contains("KEEL_APP_ID"));
    assert!(run.stderr.contains("https://keel.acme.dev"));
}
