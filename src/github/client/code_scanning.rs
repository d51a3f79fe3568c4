//! GitHub code scanning as a source of findings (`[security] source = "code-scanning"`): the
//! open alerts of a ref, as the same [`Finding`]s a SARIF log gives, each identified by its
//! alert number (stable across refs, so a base branch's alerts tell new ones from old).

use super::*;
use crate::github::api::CodeScanning;
use keel_core::report::sarif::{Finding, Severity};

/// Most alerts read per ref (ten pages).
const MAX_ALERT_PAGES: u32 = 10;

#[derive(Deserialize)]
struct Alert {
    number: u64,
    rule: Rule,
    #[serde(default)]
    tool: Option<Tool>,
    #[serde(default)]
    most_recent_instance: Option<Instance>,
}

#[derive(Deserialize)]
struct Rule {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    security_severity_level: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
struct Tool {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct Instance {
    #[serde(default)]
    location: Option<Location>,
    #[serde(default)]
    message: Option<Message>,
}

#[derive(Deserialize)]
struct Location {
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    start_line: Option<u32>,
    #[serde(default)]
    end_line: Option<u32>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    text: Option<String>,
}

/// The open alerts on `git_ref`, when its newest analysis is of `head` (or of a merge
/// commit with `head` as a parent). No analysis, or a stale one, judges nothing: that is not
/// "no findings".
pub(super) async fn findings(
    gh: &GitHub,
    repo: &Repo,
    git_ref: &str,
    head: Option<&CommitSha>,
) -> Result<CodeScanning, ApiError> {
    #[derive(Deserialize)]
    struct Analysis {
        #[serde(default)]
        commit_sha: Option<String>,
    }
    #[derive(Deserialize)]
    struct Commit {
        #[serde(default)]
        parents: Vec<Parent>,
    }
    #[derive(Deserialize)]
    struct Parent {
        sha: String,
    }
    let analyses = format!("/repos/{}/code-scanning/analyses", repo.name);
    let found: Result<Vec<Analysis>, ApiError> = gh
        .json(
            repo,
            Method::Get,
            &analyses,
            &[("ref", git_ref), ("per_page", "1")],
            None,
        )
        .await;
    let newest = match found {
        Ok(list) => match list.into_iter().next() {
            Some(a) => a,
            None => return Ok(CodeScanning::NoAnalysis),
        },
        Err(e) if e.is_not_found() => return Ok(CodeScanning::NoAnalysis),
        Err(e) => return Err(e),
    };
    if let Some(head) = head {
        let analysed = newest.commit_sha.unwrap_or_default();
        if analysed != head.0 {
            let route = format!("/repos/{}/commits/{analysed}", repo.name);
            let commit: Result<Commit, ApiError> =
                gh.json(repo, Method::Get, &route, &[], None).await;
            let of_head = match commit {
                Ok(c) => c.parents.iter().any(|p| p.sha == head.0),
                Err(e) if e.is_not_found() => false,
                Err(e) => return Err(e),
            };
            if !of_head {
                return Ok(CodeScanning::Stale(analysed));
            }
        }
    }
    let route = format!("/repos/{}/code-scanning/alerts", repo.name);
    let per_page = PER_PAGE.to_string();
    let mut out = Vec::new();
    for page in 1..=MAX_ALERT_PAGES {
        let page_text = page.to_string();
        let alerts: Vec<Alert> = gh
            .json(
                repo,
                Method::Get,
                &route,
                &[
                    ("ref", git_ref),
                    ("state", "open"),
                    ("per_page", &per_page),
                    ("page", &page_text),
                ],
                None,
            )
            .await?;
        let last = alerts.len() < PER_PAGE;
        out.extend(alerts.into_iter().map(finding));
        if last {
            return Ok(CodeScanning::Alerts(out));
        }
    }
    Ok(CodeScanning::TooMany(out.len()))
}

/// An alert as a finding: `security_severity_level` when the rule has one, else its
/// `severity` (`error` high, `warning` medium, `note` low), as for SARIF.
fn finding(alert: Alert) -> Finding {
    let level = alert.rule.severity.clone().unwrap_or_default();
    let severity = match alert.rule.security_severity_level.as_deref() {
        Some("critical") => Severity::Critical,
        Some("high") => Severity::High,
        Some("medium") => Severity::Medium,
        Some("low") => Severity::Low,
        _ => match level.as_str() {
            "error" => Severity::High,
            "warning" => Severity::Medium,
            _ => Severity::Low,
        },
    };
    let instance = alert.most_recent_instance.unwrap_or(Instance {
        location: None,
        message: None,
    });
    let location = instance.location.unwrap_or(Location {
        path: None,
        start_line: None,
        end_line: None,
    });
    Finding {
        tool: alert
            .tool
            .and_then(|t| t.name)
            .unwrap_or_else(|| "code scanning".to_owned()),
        rule_id: alert.rule.id.unwrap_or_default(),
        severity,
        level,
        message: instance
            .message
            .and_then(|m| m.text)
            .or(alert.rule.description)
            .unwrap_or_default(),
        path: location.path,
        start_line: location.start_line,
        end_line: location.end_line.or(location.start_line),
        identity: format!("code-scanning-alert:{}", alert.number),
        baseline_state: None,
    }
}
