//! SARIF 2.1.0 logs → [`Finding`]s, from any tool (several runs and tools per log).
//!
//! Reads the dozen fields a gate needs with lenient structs; a result that cannot be read is
//! skipped with a diagnostic, so one odd result does not lose the rest. Severity follows the
//! numeric `security-severity` property when present (≥ 9.0 critical, ≥ 7.0 high, ≥ 4.0
//! medium, else low), otherwise the level: the result's, then its rule's
//! `defaultConfiguration.level`, then `warning`; `error` → high, `warning` → medium,
//! `note` → low, `none` → not a finding. Results whose `kind` is not `fail`, suppressed
//! results, and results whose `baselineState` is `absent` (gone since the tool's baseline) are
//! not findings.
//!
//! Each finding has one identity, to match it against a baseline: its `fingerprints` entry
//! (the lexicographically last name when there are several), else all its
//! `partialFingerprints` together with its path, else its rule, path and normalised snippet or
//! message. Never a lone component: CodeQL's column fingerprint alone is shared by unrelated
//! results. No identity holds a line number, so moved code keeps its identity.
//!
//! [`Limits::max_findings`] caps one log; [`merge_findings`] caps all the logs of one
//! evaluation together at [`Limits::max_findings_total`].

use super::{ReportError, read_all, strip_bom};
use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::BTreeMap;

const FORMAT: &str = "SARIF";

/// How serious a finding is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// `security-severity` below 4.0, or level `note`.
    Low,
    /// `security-severity` 4.0–6.9, or level `warning`.
    Medium,
    /// `security-severity` 7.0–8.9, or level `error`.
    High,
    /// `security-severity` 9.0 and above.
    Critical,
}

impl Severity {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// From a CVSS-like `security-severity` score.
    pub fn from_score(score: f64) -> Severity {
        match score {
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            _ => Severity::Low,
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity `{other}`; expected critical, high, medium or low"
            )),
        }
    }
}

/// One finding from a SARIF result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The tool (`runs[].tool.driver.name`).
    pub tool: String,
    /// The rule id, or `""` when the result names none.
    pub rule_id: String,
    /// Severity after the rules above.
    pub severity: Severity,
    /// The effective SARIF level (`error`, `warning` or `note`).
    pub level: String,
    /// The result's message.
    pub message: String,
    /// The file, as the log names it (normalised: no `file://`, `/` separators).
    pub path: Option<String>,
    /// First line of the primary location.
    pub start_line: Option<u32>,
    /// Last line of the primary location.
    pub end_line: Option<u32>,
    /// The identity for matching against a baseline (see the module docs); two findings with
    /// the same identity are two occurrences of it.
    pub identity: String,
    /// `baselineState` when the tool compared against a baseline itself.
    pub baseline_state: Option<String>,
}

/// The findings of one SARIF log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SarifLog {
    /// Findings, in log order.
    pub findings: Vec<Finding>,
    /// Results that were skipped, and why.
    pub diagnostics: Vec<Diagnostic>,
    /// Results that were suppressed in the log, or not failures (`kind`), or level `none`.
    pub not_findings: u64,
    /// The suppressed results among them (never counted; shown so a dismissal is seen), at
    /// most [`Limits::max_findings`].
    pub suppressed: Vec<Suppressed>,
}

/// A result the log marks as suppressed (an in-source `nosemgrep` or `keel-ignore` comment,
/// an external dismissal) with an `accepted` (or no) status.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppressed {
    /// The result as a finding.
    pub finding: Finding,
    /// The suppression's `justification`, when it gives one.
    pub justification: Option<String>,
}

/// Whether `suppressions` suppress their result: one of them is `accepted` or has no status
/// (a `rejected` or `underReview` suppression does not). The justification, if any.
fn suppression(suppressions: &[serde_json::Value]) -> Option<Option<String>> {
    let accepted = suppressions.iter().find(|s| {
        s.get("status")
            .and_then(|v| v.as_str())
            .is_none_or(|v| v == "accepted")
    })?;
    Some(
        accepted
            .get("justification")
            .and_then(|v| v.as_str())
            .map(|j| j.chars().take(500).collect()),
    )
}

/// Parses a SARIF 2.1.0 log. `name` labels diagnostics.
pub fn parse_sarif(
    name: &str,
    reader: impl std::io::Read,
    limits: &Limits,
) -> Result<SarifLog, ReportError> {
    let bytes = read_all(reader, "SARIF log", limits.sarif_bytes)?;
    let log: Log = serde_json::from_slice(strip_bom(&bytes))
        .map_err(|e| ReportError::invalid(FORMAT, e.to_string()))?;
    let Some(runs) = log.runs else {
        return Err(ReportError::invalid(FORMAT, "no `runs` array"));
    };
    let mut out = SarifLog::default();
    for (run_index, run) in runs.iter().enumerate() {
        let rules = RuleIndex::new(&run.tool);
        for (result_index, raw) in run.results.iter().enumerate() {
            if out.findings.len() >= limits.max_findings {
                return Err(ReportError::invalid(
                    FORMAT,
                    format!(
                        "more than {} results; raise the limit or filter the scan",
                        limits.max_findings
                    ),
                ));
            }
            let place = || format!("runs[{run_index}].results[{result_index}]");
            match serde_json::from_str::<SarifResult>(raw.get()) {
                Ok(mut result) => {
                    let suppressed = result.suppressions.take().and_then(|s| suppression(&s));
                    match (finding(&run.tool.driver.name, &rules, result), suppressed) {
                        (Some(f), None) => out.findings.push(f),
                        (Some(finding), Some(justification)) => {
                            out.not_findings += 1;
                            if out.suppressed.len() < limits.max_findings {
                                out.suppressed.push(Suppressed {
                                    finding,
                                    justification,
                                });
                            }
                        }
                        (None, _) => out.not_findings += 1,
                    }
                }
                Err(e) if out.diagnostics.len() < limits.max_diagnostics => {
                    out.diagnostics.push(Diagnostic::at_line(
                        name,
                        0,
                        format!("{} skipped: {e}", place()),
                    ));
                }
                Err(_) => {}
            }
        }
    }
    Ok(out)
}

/// Adds one log's `findings` to `all`, the findings of the logs of the same evaluation read
/// before, keeping at most [`Limits::max_findings_total`] over all of them. Over the limit,
/// `all` is left as it was.
pub fn merge_findings(
    all: &mut Vec<Finding>,
    findings: Vec<Finding>,
    limits: &Limits,
) -> Result<(), FindingsExceeded> {
    if all.len().saturating_add(findings.len()) > limits.max_findings_total {
        return Err(FindingsExceeded {
            limit: limits.max_findings_total,
        });
    }
    all.extend(findings);
    Ok(())
}

/// The SARIF logs of one evaluation hold more findings together than
/// [`Limits::max_findings_total`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the SARIF logs hold more than {limit} findings together; raise the limit or filter the scans"
)]
pub struct FindingsExceeded {
    /// The limit.
    pub limit: usize,
}

fn finding(tool: &str, rules: &RuleIndex<'_>, r: SarifResult) -> Option<Finding> {
    if r.kind.as_deref().is_some_and(|k| k != "fail")
        || r.baseline_state.as_deref() == Some("absent")
    {
        return None;
    }
    let rule_id = r
        .rule_id
        .clone()
        .or_else(|| r.rule.as_ref().and_then(|x| x.id.clone()));
    let rule_index = r
        .rule_index
        .or_else(|| r.rule.as_ref().and_then(|x| x.index));
    let rule = rules.find(rule_index, rule_id.as_deref());
    let rule_id = rule_id
        .or_else(|| rule.map(|x| x.id.clone()))
        .unwrap_or_default();
    let level = r
        .level
        .clone()
        .or_else(|| rule.and_then(|x| x.default_configuration.as_ref()?.level.clone()))
        .unwrap_or_else(|| "warning".to_owned());
    let score = security_severity(r.properties.as_ref())
        .or_else(|| rule.and_then(|x| security_severity(x.properties.as_ref())));
    let severity = match (score, level.as_str()) {
        (_, "none") => return None,
        (Some(s), _) => Severity::from_score(s),
        (None, "error") => Severity::High,
        (None, "note") => Severity::Low,
        (None, _) => Severity::Medium,
    };
    let location = r
        .locations
        .iter()
        .find_map(|l| l.physical_location.as_ref());
    let path = location
        .and_then(|p| p.artifact_location.as_ref()?.uri.as_deref())
        .map(normalise_uri);
    let region = location.and_then(|p| p.region.as_ref());
    let start_line = region
        .and_then(|g| g.start_line)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|&n| n > 0);
    let end_line = region
        .and_then(|g| g.end_line)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|&n| n > 0)
        .or(start_line);
    let message = r
        .message
        .as_ref()
        .and_then(|m| m.text.clone().or_else(|| m.markdown.clone()))
        .or_else(|| rule.and_then(|x| x.short_description.as_ref()?.text.clone()))
        .unwrap_or_default();
    let snippet = region.and_then(|g| g.snippet.as_ref()?.text.clone());
    let identity = identity(
        &rule_id,
        &r,
        path.as_deref(),
        snippet.as_deref().unwrap_or(&message),
    );
    Some(Finding {
        tool: tool.to_owned(),
        rule_id,
        severity,
        level,
        message,
        path,
        start_line,
        end_line,
        identity,
        baseline_state: r.baseline_state,
    })
}

/// The one identity of a result (module docs); `\u{1f}` separates its parts.
fn identity(rule: &str, r: &SarifResult, path: Option<&str>, text: &str) -> String {
    let path = path.unwrap_or("");
    let full = r
        .fingerprints
        .as_ref()
        .and_then(|all| all.iter().rfind(|(_, v)| !v.is_empty()));
    if let Some((name, value)) = full {
        return format!("fingerprint\u{1f}{rule}\u{1f}{name}={value}");
    }
    let partial: Vec<String> = r
        .partial_fingerprints
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !partial.is_empty() {
        return format!(
            "partial\u{1f}{rule}\u{1f}{path}\u{1f}{}",
            partial.join("\u{1f}")
        );
    }
    let normalised: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    format!("text\u{1f}{rule}\u{1f}{path}\u{1f}{normalised}")
}

/// `file:///a/b%20c.py` → `/a/b c.py`; backslashes → `/`; a leading `./` dropped.
pub fn normalise_uri(uri: &str) -> String {
    let rest = uri
        .strip_prefix("file://")
        .map(|r| {
            if r.starts_with('/') {
                r.to_owned()
            } else {
                format!("/{r}")
            }
        })
        .unwrap_or_else(|| uri.strip_prefix("file:").unwrap_or(uri).to_owned());
    let decoded = percent_decode(&rest).replace('\\', "/");
    let decoded = decoded.strip_prefix("./").unwrap_or(&decoded);
    // Windows drive letters in file URIs: "/C:/x" → "C:/x".
    let b = decoded.as_bytes();
    if b.len() > 3 && b[0] == b'/' && b[2] == b':' && b[1].is_ascii_alphabetic() {
        return decoded[1..].to_owned();
    }
    decoded.to_owned()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn security_severity(p: Option<&Properties>) -> Option<f64> {
    match p?.security_severity.as_ref()? {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|s: &f64| s.is_finite())
}

struct RuleIndex<'a> {
    driver: &'a [Rule],
    by_id: BTreeMap<&'a str, &'a Rule>,
}

impl<'a> RuleIndex<'a> {
    fn new(tool: &'a Tool) -> Self {
        let mut by_id = BTreeMap::new();
        for rule in tool
            .extensions
            .iter()
            .flat_map(|e| &e.rules)
            .chain(&tool.driver.rules)
        {
            by_id.insert(rule.id.as_str(), rule);
        }
        RuleIndex {
            driver: &tool.driver.rules,
            by_id,
        }
    }

    fn find(&self, index: Option<i64>, id: Option<&str>) -> Option<&'a Rule> {
        let by_index = index
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.driver.get(i));
        by_index.or_else(|| self.by_id.get(id?).copied())
    }
}

#[derive(Deserialize)]
struct Log<'a> {
    #[serde(borrow)]
    runs: Option<Vec<Run<'a>>>,
}

#[derive(Deserialize)]
struct Run<'a> {
    tool: Tool,
    #[serde(default, borrow)]
    results: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct Tool {
    driver: Component,
    #[serde(default)]
    extensions: Vec<Component>,
}

#[derive(Deserialize)]
struct Component {
    #[serde(default)]
    name: String,
    #[serde(default)]
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    #[serde(default)]
    id: String,
    default_configuration: Option<RuleConfiguration>,
    short_description: Option<Message>,
    properties: Option<Properties>,
}

#[derive(Deserialize)]
struct RuleConfiguration {
    level: Option<String>,
}

#[derive(Deserialize)]
struct Properties {
    #[serde(rename = "security-severity")]
    security_severity: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: Option<String>,
    rule_index: Option<i64>,
    rule: Option<RuleReference>,
    kind: Option<String>,
    level: Option<String>,
    message: Option<Message>,
    #[serde(default)]
    locations: Vec<Location>,
    fingerprints: Option<BTreeMap<String, String>>,
    partial_fingerprints: Option<BTreeMap<String, String>>,
    baseline_state: Option<String>,
    suppressions: Option<Vec<serde_json::Value>>,
    properties: Option<Properties>,
}

#[derive(Deserialize)]
struct RuleReference {
    id: Option<String>,
    index: Option<i64>,
}

#[derive(Deserialize)]
struct Message {
    text: Option<String>,
    markdown: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: Option<PhysicalLocation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: Option<ArtifactLocation>,
    region: Option<Region>,
}

#[derive(Deserialize)]
struct ArtifactLocation {
    uri: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: Option<i64>,
    end_line: Option<i64>,
    snippet: Option<Snippet>,
}

#[derive(Deserialize)]
struct Snippet {
    text: Option<String>,
}

#[cfg(test)]
mod tests;
