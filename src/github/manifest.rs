//! The GitHub App manifest: the events Keel handles and the least permissions its calls need.
//! `keel manifest` prints it; `app.yml` in the repository is the same document (a test keeps
//! them equal), for registering the App from a manifest.

use serde_json::{Value, json};

/// Webhook events the App subscribes to; each one parses to something Keel acts on.
/// (`installation` and `installation_repositories` are sent to every App without asking.)
pub const EVENTS: &[&str] = &[
    "check_run",
    "check_suite",
    "deployment_status",
    "issue_comment",
    "issues",
    "merge_group",
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
    "push",
    "release",
    "repository",
    "workflow_run",
];

/// Repository permissions and why each is needed.
pub const PERMISSIONS: &[(&str, &str, &str)] = &[
    (
        "actions",
        "read",
        "download the reports artifact of a workflow run",
    ),
    (
        "checks",
        "write",
        "create and complete the definition-of-done check run",
    ),
    (
        "contents",
        "read",
        "read .github/keel.toml at the base commit, compare commits",
    ),
    (
        "deployments",
        "read",
        "deployment statuses for the DORA metrics",
    ),
    (
        "issues",
        "write",
        "the weekly summary issue, labels, linked issues' labels",
    ),
    ("merge_queues", "read", "merge_group events"),
    ("metadata", "read", "required by every App"),
    (
        "members",
        "read",
        "team membership, for who may waive an organisation's soft rules",
    ),
    (
        "pull_requests",
        "write",
        "changed files, the sticky comment, reviews",
    ),
    (
        "security_events",
        "read",
        "code scanning alerts, for `[security] source = \"code-scanning\"`",
    ),
];

/// The manifest, with the server's public address when known.
pub fn manifest(url: Option<&str>) -> Value {
    let base = url
        .unwrap_or("https://keel.example.com")
        .trim_end_matches('/');
    let permissions: serde_json::Map<String, Value> = PERMISSIONS
        .iter()
        .map(|(name, access, _)| ((*name).to_owned(), json!(access)))
        .collect();
    json!({
        "name": "Keel",
        "url": "https://github.com/keel-dev/keel",
        "description": "Definition of done as a gate, technical debt as a business decision, every change linked to why.",
        "hook_attributes": {"url": format!("{base}/webhook"), "active": true},
        "redirect_url": base,
        // Where GitHub sends a dashboard viewer back after signing in.
        "callback_urls": [format!("{base}/dashboard/callback")],
        "request_oauth_on_install": false,
        "public": false,
        "default_permissions": permissions,
        "default_events": EVENTS,
    })
}

/// The manifest as JSON text, exactly what GitHub's manifest flow takes (`app.yml` holds it:
/// JSON is valid YAML).
pub fn manifest_text(url: Option<&str>) -> String {
    format!("{:#}\n", manifest(url))
}

/// The keys GitHub's manifest flow accepts ("Creating a GitHub App from a manifest"); any
/// other key is refused by GitHub, so the manifest uses only these.
pub const MANIFEST_KEYS: &[&str] = &[
    "name",
    "url",
    "hook_attributes",
    "redirect_url",
    "callback_urls",
    "setup_url",
    "description",
    "public",
    "default_events",
    "default_permissions",
    "request_oauth_on_install",
    "setup_on_update",
];

/// What a person does with the manifest, for standard error (standard output is the JSON).
pub fn registration_notes(url: Option<&str>) -> String {
    let address = url.map_or_else(
        || "https://keel.example.com (pass --url with your server's address)".to_owned(),
        |u| u.trim_end_matches('/').to_owned(),
    );
    format!(
        "The GitHub App manifest for Keel is on standard output (save it: `keel manifest > app.json`).
`keel setup --url {address}` registers it in one click. By hand, with Keel served at {address}:
  1. POST the JSON as the form field `manifest` to https://github.com/settings/apps/new
     (for an organisation: https://github.com/organizations/ORG/settings/apps/new);
     GitHub shows the App with its least permissions for you to confirm.
  2. GitHub redirects to the manifest's redirect_url with `?code=…`; within an hour, exchange it:
     curl -X POST https://api.github.com/app-manifests/CODE/conversions
  3. From the answer set KEEL_APP_ID (id), KEEL_PRIVATE_KEY (pem) and KEEL_WEBHOOK_SECRET
     (webhook_secret) for `keel serve`, then install the App on your repositories.
"
    )
}
