//! `keel config validate`: every problem of a config at once, in line order, in plain words.
//!
//! toml and serde stop at the first error. To find the next one, the entry the error points at
//! is blanked — its lines replaced by spaces, so every later offset, line and column stays
//! where it was — and the text is read again. A table whose header is wrong is blanked with
//! its keys, and a "missing" key that blanking caused is not reported, so one mistake is one
//! problem. Library wording (`expected u64`, `invalid type: sequence`) is put into plain words.

use super::{Config, ConfigError};
use crate::diagnostic::Diagnostic;
use crate::limits::Limits;

/// Most problems reported for one file.
pub const MAX_PROBLEMS: usize = 100;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProblemKind {
    /// The config cannot be used.
    Error,
    /// The config can be used, but probably not as meant.
    Warning,
}

/// One problem of a config, where it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: ProblemKind,
    /// Where, and what.
    #[serde(flatten)]
    pub diagnostic: Diagnostic,
}

impl Config {
    /// Every problem of the config at `path` (its `text`), errors and warnings, in line order.
    /// Empty when the config is valid and checks something.
    pub fn validate(path: &str, text: &str) -> Vec<Problem> {
        let error = |diagnostic| Problem {
            severity: ProblemKind::Error,
            diagnostic,
        };
        let limit = Limits::DEFAULT.config_bytes;
        if text.len() as u64 > limit {
            let message = format!("{path} is {} bytes, over the limit of {limit}", text.len());
            return vec![error(Diagnostic::at_line(path, 1, message))];
        }
        let mut problems = Vec::new();
        let mut current = text.to_owned();
        let mut blanked_keys: Vec<String> = Vec::new();
        // Every round blanks something, so the loop ends; rounds that report nothing (a key
        // missing because its line was blanked) count too, so it ends soon.
        let mut rounds = 0;
        let parsed = loop {
            rounds += 1;
            if problems.len() >= MAX_PROBLEMS || rounds > 2 * MAX_PROBLEMS {
                break None;
            }
            let e = match toml::from_str::<Config>(&current) {
                Ok(config) => break Some(config),
                Err(e) => e,
            };
            let span = e.span().unwrap_or(0..0);
            let message = plain(&super::with_suggestion(e.message().trim_end_matches('\n')));
            let caused_by_blanking = message
                .strip_prefix("missing key `")
                .and_then(|m| m.split('`').next())
                .is_some_and(|key| blanked_keys.iter().any(|k| k == key));
            if !caused_by_blanking {
                problems.push(error(Diagnostic::at_offset(
                    path, text, span.start, message,
                )));
            }
            let (next, keys) = blank_entry(&current, span);
            if next == current {
                break None;
            }
            blanked_keys.extend(keys);
            current = next;
        };
        if let Some(config) = &parsed {
            problems.extend(hypothesis_warnings(path, text, config));
        }
        if parsed.is_some() {
            // What the typed reading cannot see: duplicate ids, shares out of range; and the
            // config as judged, over its preset.
            match Config::parse(path, &current) {
                Err(ConfigError(d)) => problems.push(error(Diagnostic {
                    source_line: source_line(text, d.line),
                    message: plain(&d.message),
                    ..d
                })),
                Ok(config)
                    if checks_nothing(&config)
                        && problems.iter().all(|p| p.severity == ProblemKind::Warning) =>
                {
                    problems.push(Problem {
                        severity: ProblemKind::Warning,
                        diagnostic: Diagnostic::at_line(
                            path,
                            1,
                            "nothing is checked: the config has no [coverage], [security], \
                         [performance], [hygiene] or [checks] criteria, nor a roadmap link or \
                         debt rule that blocks",
                        ),
                    })
                }
                Ok(_) => {}
            }
        }
        problems.sort_by_key(|p| (p.diagnostic.line, p.diagnostic.column));
        problems.dedup();
        problems
    }
}

/// A warning for each roadmap item whose hypothesis is not measurable, on its line: the item
/// still links changes, so this never fails a pull request.
fn hypothesis_warnings(path: &str, text: &str, config: &Config) -> Vec<Problem> {
    let items = config.roadmap.iter().flat_map(|r| &r.items);
    items
        .filter_map(|item| {
            let h = item.hypothesis.as_ref()?;
            let problem = h.problem.as_ref()?;
            let offset = text
                .find(&h.text)
                .or_else(|| text.find(&format!("\"{}\"", item.id.0)))
                .unwrap_or(0);
            Some(Problem {
                severity: ProblemKind::Warning,
                diagnostic: Diagnostic::at_offset(
                    path,
                    text,
                    offset,
                    format!("roadmap item {}: {problem}", item.id.0),
                ),
            })
        })
        .collect()
}

/// Whether a config judges nothing: no criteria section and no blocking roadmap or debt rule.
fn checks_nothing(config: &Config) -> bool {
    config.coverage.is_none()
        && config.security.is_none()
        && config.performance.is_none()
        && config.hygiene.is_none()
        && config.checks.is_none()
        && config
            .roadmap
            .as_ref()
            .is_none_or(|r| r.require_link.is_none())
        && config.debt.as_ref().is_none_or(|d| !d.blocking)
}

/// The original text of 1-based `line`.
fn source_line(text: &str, line: u32) -> Option<String> {
    let index = usize::try_from(line).ok()?.checked_sub(1)?;
    text.lines()
        .nth(index)
        .map(|l| l.trim_end_matches('\r').to_owned())
}

/// `text` with the entry at `span` blanked: the lines it spans, or — when the first is a table
/// header — the table with all its keys. Returns the new text and the keys blanked.
fn blank_entry(text: &str, span: std::ops::Range<usize>) -> (String, Vec<String>) {
    let start = span.start.min(text.len());
    let end = span.end.clamp(start, text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let mut line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    let first = text[line_start..line_end]
        .lines()
        .next()
        .unwrap_or("")
        .trim();
    if first.starts_with('[') {
        // The table ends where the next header starts.
        let mut at = line_end;
        while at < text.len() {
            let next_end = text[at + 1..].find('\n').map_or(text.len(), |i| at + 1 + i);
            if text[(at + 1).min(next_end)..next_end]
                .trim_start()
                .starts_with('[')
            {
                break;
            }
            at = next_end;
        }
        line_end = at;
    }
    let keys = text[line_start..line_end]
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        .map(|k| {
            let k = k.trim().trim_matches('"');
            k.rsplit('.').next().unwrap_or(k).trim().to_owned()
        })
        .collect();
    let mut bytes = text.as_bytes().to_vec();
    for b in &mut bytes[line_start..line_end] {
        if *b != b'\n' && *b != b'\r' {
            *b = b' ';
        }
    }
    let blanked = String::from_utf8(bytes).unwrap_or_else(|_| text.to_owned());
    (blanked, keys)
}

/// serde's and toml's wording in plain words: types by what a person writes ("a whole
/// number", "a list", "text"), `field` as `key`, and a hint for the escape rules of TOML's
/// basic strings, which regular expressions trip over.
pub(super) fn plain(message: &str) -> String {
    let mut out = message.to_owned();
    if let Some(rest) = out.strip_prefix("invalid type: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        out = format!("expected {}, found {}", words(expected), found_words(found));
    } else if let Some(rest) = out.strip_prefix("invalid value: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        out = format!("expected {}, found {}", words(expected), found_words(found));
    }
    out = out.replace("missing field `", "missing key `");
    if out.contains("escape") {
        out.push_str(
            "; in a regular expression or a Windows path, write the value as a TOML literal \
             string in single quotes ('^feat\\(.+\\): '), where a backslash is just a backslash",
        );
    }
    out
}

/// What serde's `expected …` names, in plain words.
fn words(expected: &str) -> String {
    let e = expected.trim();
    match e {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64" | "i128"
        | "isize" => "a whole number".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a boolean" | "bool" => "true or false".to_owned(),
        "a string" | "string" | "a borrowed string" => "text in quotes".to_owned(),
        "a sequence" | "sequence" => "a list in brackets, like [\"a\", \"b\"]".to_owned(),
        "a map" | "map" | "struct" => "a table".to_owned(),
        "a string or a list of strings" => "a path or a list of paths".to_owned(),
        _ if e.starts_with("struct ") => "a table".to_owned(),
        _ => e.to_owned(),
    }
}

/// What serde's `invalid type: …` found, in plain words.
fn found_words(found: &str) -> String {
    let f = found.trim();
    let quoted = |prefix: &str| f.strip_prefix(prefix).map(str::to_owned);
    if let Some(v) = quoted("integer ") {
        format!("the whole number {}", v.trim_matches('`'))
    } else if let Some(v) = quoted("floating point ") {
        format!("the number {}", v.trim_matches('`'))
    } else if let Some(v) = quoted("string ") {
        format!("the text {v}")
    } else if let Some(v) = quoted("boolean ") {
        v.trim_matches('`').to_owned()
    } else {
        match f {
            "sequence" => "a list".to_owned(),
            "map" => "a table".to_owned(),
            _ => f.to_owned(),
        }
    }
}
