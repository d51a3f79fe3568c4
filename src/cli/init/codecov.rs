//! `keel init --from-codecov`: a `codecov.yml` translated into Keel's coverage criteria, as far
//! as they map, and a list of what could not be translated.
//!
//! Codecov's files use a small part of YAML: nested mappings, block lists, scalars, `[a, b]`
//! lists and comments. [`read_yaml`] reads that part (bounded in size and depth) and says so
//! when a file uses more.

use std::fmt::Write;

/// Most bytes of a `codecov.yml` read.
pub const MAX_BYTES: usize = 1 << 20;
/// Deepest nesting read.
const MAX_DEPTH: usize = 32;

/// Where Codecov looks for its file, in its order.
pub const CANDIDATES: &[&str] = &[
    "codecov.yml",
    ".codecov.yml",
    "codecov.yaml",
    ".codecov.yaml",
    ".github/codecov.yml",
    ".github/.codecov.yml",
    "dev/codecov.yml",
];

/// The part of YAML a `codecov.yml` uses.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    /// `key: value` lines, in order.
    Map(Vec<(String, Yaml)>),
    /// `- item` lines or `[a, b]`.
    List(Vec<Yaml>),
    /// Anything else, unquoted.
    Scalar(String),
}

impl Yaml {
    /// The value at `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        match self {
            Yaml::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn scalar(&self) -> Option<&str> {
        match self {
            Yaml::Scalar(s) => Some(s),
            _ => None,
        }
    }
}

/// What the translation gives the config, and what it could not translate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Translation {
    /// `min_total`, from a project status with a fixed target (minus its threshold).
    pub min_total: Option<f64>,
    /// `max_drop`, from a project status with `target: auto` (its threshold).
    pub max_drop: Option<f64>,
    /// `min_patch`, from the patch status's target (minus its threshold).
    pub min_patch: Option<f64>,
    /// The patch status is `off`.
    pub patch_off: bool,
    /// Codecov's `ignore`, as Keel globs.
    pub ignore: Vec<String>,
    /// Where each value came from, one line each.
    pub sources: Vec<String>,
    /// What was not translated, and why.
    pub untranslated: Vec<String>,
}

/// Reads the YAML subset; the error names the line.
pub fn read_yaml(text: &str) -> Result<Yaml, String> {
    if text.len() > MAX_BYTES {
        return Err(format!("larger than {MAX_BYTES} bytes"));
    }
    let lines: Vec<(usize, usize, String)> = text
        .lines()
        .enumerate()
        .filter_map(|(n, raw)| {
            let line = strip_comment(raw);
            let trimmed = line.trim_end();
            if trimmed.trim().is_empty() || trimmed.trim() == "---" {
                return None;
            }
            let indent = trimmed.len() - trimmed.trim_start().len();
            Some((n + 1, indent, trimmed.trim_start().to_owned()))
        })
        .collect();
    let mut at = 0;
    let indent = lines.first().map_or(0, |l| l.1);
    let value = block(&lines, &mut at, indent, 0)?;
    match lines.get(at) {
        None => Ok(value),
        Some((n, ..)) => Err(format!("line {n}: indentation Keel cannot follow")),
    }
}

fn block(
    lines: &[(usize, usize, String)],
    at: &mut usize,
    indent: usize,
    depth: usize,
) -> Result<Yaml, String> {
    if depth > MAX_DEPTH {
        return Err(format!("nested deeper than {MAX_DEPTH} levels"));
    }
    let Some((_, _, first)) = lines.get(*at) else {
        return Ok(Yaml::Map(Vec::new()));
    };
    if first.starts_with("- ") || first == "-" {
        let mut items = Vec::new();
        while let Some((n, ind, text)) = lines.get(*at) {
            if *ind != indent || !(text.starts_with("- ") || text == "-") {
                break;
            }
            let rest = text.trim_start_matches('-').trim();
            *at += 1;
            if rest.is_empty() {
                let inner = lines.get(*at).map_or(indent + 2, |l| l.1);
                items.push(block(lines, at, inner, depth + 1)?);
            } else if rest.contains(": ") || rest.ends_with(':') {
                return Err(format!(
                    "line {n}: a list of mappings, which codecov.yml does not use"
                ));
            } else {
                items.push(scalar(rest));
            }
        }
        return Ok(Yaml::List(items));
    }
    let mut entries = Vec::new();
    while let Some((n, ind, text)) = lines.get(*at) {
        if *ind < indent {
            break;
        }
        if *ind > indent {
            return Err(format!("line {n}: indentation Keel cannot follow"));
        }
        let Some((key, value)) = text.split_once(':') else {
            return Err(format!("line {n}: expected `key: value`"));
        };
        let key = unquote(key.trim()).to_owned();
        let value = value.trim();
        *at += 1;
        if value.is_empty() {
            match lines.get(*at) {
                Some((_, inner, _)) if *inner > indent => {
                    let inner = *inner;
                    entries.push((key, block(lines, at, inner, depth + 1)?));
                }
                // A list may sit at the key's own indentation.
                Some((_, inner, t)) if *inner == indent && t.starts_with('-') => {
                    entries.push((key, block(lines, at, indent, depth + 1)?));
                }
                _ => entries.push((key, Yaml::Scalar(String::new()))),
            }
        } else {
            entries.push((key, scalar(value)));
        }
    }
    Ok(Yaml::Map(entries))
}

fn scalar(text: &str) -> Yaml {
    let t = text.trim();
    if let Some(inner) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return Yaml::List(
            inner
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Yaml::Scalar(unquote(s).to_owned()))
                .collect(),
        );
    }
    Yaml::Scalar(unquote(t).to_owned())
}

fn unquote(text: &str) -> &str {
    let t = text.trim();
    for q in ['"', '\''] {
        if let Some(inner) = t.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    t
}

/// The line without a `#` comment (a `#` inside quotes stays).
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if i == 0 || line[..i].ends_with(char::is_whitespace) => {
                return &line[..i];
            }
            _ => {}
        }
    }
    line
}

/// `80%`, `80`, `"80.5%"` → 80.0 (`None` for `auto`, anything outside 0 to 100 and anything
/// else).
fn percent(value: &Yaml) -> Option<f64> {
    let v: f64 = value.scalar()?.trim().trim_end_matches('%').parse().ok()?;
    (v.is_finite() && (0.0..=100.0).contains(&v)).then_some(v)
}

/// `text` as a TOML basic string: `\` and `"` escaped, control characters as `\uXXXX`.
fn toml_string(text: &str) -> String {
    let mut s = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            c if c.is_control() => s.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// A status that is `off`, `false` or `no`.
fn is_off(value: &Yaml) -> bool {
    matches!(value.scalar(), Some("off" | "false" | "no"))
}

/// One status of `coverage.status.project|patch`: `default` if there is one, else the first
/// named; the others are listed as untranslated.
fn chosen_status<'a>(kind: &str, statuses: &'a Yaml, out: &mut Translation) -> Option<&'a Yaml> {
    let Yaml::Map(named) = statuses else {
        return None;
    };
    let usable: Vec<&(String, Yaml)> = named.iter().filter(|(_, v)| !is_off(v)).collect();
    let chosen = usable
        .iter()
        .find(|(k, _)| k == "default")
        .or_else(|| usable.first())?;
    for (name, _) in usable.iter().filter(|(k, _)| k != &chosen.0) {
        out.untranslated.push(format!(
            "coverage.status.{kind}.{name}: Keel judges one {kind} criterion over the merged reports; only `{}` was translated",
            chosen.0
        ));
    }
    for key in [
        "paths",
        "flags",
        "branches",
        "base",
        "if_ci_failed",
        "if_not_found",
    ] {
        if chosen.1.get(key).is_some() {
            out.untranslated.push(format!(
                "coverage.status.{kind}.{}.{key}: no Keel equivalent (Keel reads the base branch's config and the merged reports)",
                chosen.0
            ));
        }
    }
    Some(&chosen.1)
}

/// Translates a parsed `codecov.yml`.
pub fn translate(yaml: &Yaml) -> Translation {
    let mut out = Translation::default();
    let coverage = yaml.get("coverage");
    let status = coverage.and_then(|c| c.get("status"));
    if let Some(project) = status.and_then(|s| s.get("project"))
        && let Some(s) = chosen_status("project", project, &mut out)
    {
        let threshold = s.get("threshold").and_then(percent).unwrap_or(0.0);
        match s.get("target").and_then(Yaml::scalar) {
            Some("auto") | None => {
                out.max_drop = Some(threshold);
                out.sources.push(format!(
                        "max_drop = {threshold}: the project status compared with the base (target auto, threshold {threshold}%)"
                    ));
            }
            Some(_) => {
                if let Some(target) = s.get("target").and_then(percent) {
                    let min = (target - threshold).max(0.0);
                    out.min_total = Some(min);
                    out.sources.push(format!(
                            "min_total = {min}: the project target {target}% less its threshold {threshold}%"
                        ));
                }
            }
        }
        if s.get("informational").and_then(Yaml::scalar) == Some("true") {
            out.sources
                .push("the project status was informational in Codecov".to_owned());
        }
    }
    match status.and_then(|s| s.get("patch")) {
        Some(v) if is_off(v) => {
            out.patch_off = true;
            out.sources
                .push("min_patch off: the patch status is off in Codecov".to_owned());
        }
        Some(patch) => {
            if let Some(s) = chosen_status("patch", patch, &mut out) {
                let threshold = s.get("threshold").and_then(percent).unwrap_or(0.0);
                match s.get("target").and_then(percent) {
                    Some(target) => {
                        let min = (target - threshold).max(0.0);
                        out.min_patch = Some(min);
                        out.sources.push(format!(
                            "min_patch = {min}: the patch target {target}% less its threshold {threshold}%"
                        ));
                    }
                    None => out.untranslated.push(
                        "coverage.status.patch target auto (the base's coverage as the patch target): Keel's min_patch is a fixed percentage; the default 80 is kept".to_owned(),
                    ),
                }
            }
        }
        None => {}
    }
    if let Some(Yaml::List(items)) = yaml.get("ignore") {
        for item in items.iter().filter_map(Yaml::scalar) {
            let glob = item.trim_start_matches("./");
            out.ignore.push(if glob.ends_with('/') {
                format!("{glob}**")
            } else if glob.contains(['*', '?', '[']) || glob.contains('.') {
                glob.to_owned()
            } else {
                format!("{glob}/**")
            });
        }
    }
    for key in ["range", "precision", "round"] {
        if coverage.and_then(|c| c.get(key)).is_some() {
            out.untranslated.push(format!(
                "coverage.{key}: how Codecov displays numbers; Keel shows two decimals"
            ));
        }
    }
    if let Some(Yaml::Map(flags)) = yaml.get("flags") {
        let names: Vec<&str> = flags.iter().map(|(k, _)| k.as_str()).collect();
        out.untranslated.push(format!(
            "flags ({}): Keel merges every coverage report of the run into one; the flags' paths are not translated",
            names.join(", ")
        ));
    }
    for key in [
        "comment",
        "github_checks",
        "codecov",
        "parsers",
        "component_management",
        "flag_management",
        "fixes",
    ] {
        if yaml.get(key).is_some() {
            out.untranslated.push(format!(
                "{key}: Codecov's own settings; Keel's comment and check run have theirs ([comment], [labels])"
            ));
        }
    }
    out
}

/// The `[coverage]` lines for `t`, advisory at first, each with where it came from.
pub fn coverage_lines(t: &Translation) -> String {
    let mut s = String::new();
    if let Some(v) = t.min_total {
        let _ = writeln!(
            s,
            "# From codecov.yml: the project target less its threshold.\nmin_total = {{ threshold = {v}, level = \"advisory\" }}"
        );
    }
    let drop = t.max_drop.unwrap_or(0.5);
    let _ = writeln!(
        s,
        "# {}\nmax_drop = {{ threshold = {drop}, level = \"advisory\" }}",
        if t.max_drop.is_some() {
            "From codecov.yml: the project status against the base, with its threshold."
        } else {
            "Total coverage may not fall by more than half a point against the base branch."
        }
    );
    if t.patch_off {
        let _ = writeln!(
            s,
            "# Off, as the patch status is in codecov.yml.\nmin_patch = {{ threshold = 80, level = \"off\" }}"
        );
    } else {
        let patch = t.min_patch.unwrap_or(80.0);
        let _ = writeln!(
            s,
            "# {}\nmin_patch = {{ threshold = {patch}, level = \"advisory\" }}",
            if t.min_patch.is_some() {
                "From codecov.yml: the patch target less its threshold."
            } else {
                "Lines the change adds should be 80% covered (diff-cover's patch coverage)."
            }
        );
    }
    if !t.ignore.is_empty() {
        let globs: Vec<String> = t.ignore.iter().map(|g| toml_string(g)).collect();
        let _ = writeln!(
            s,
            "# From codecov.yml's ignore: files left out of every coverage number.\nignore = [{}]",
            globs.join(", ")
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_yaml_codecov_files_use_is_read() {
        let y = read_yaml(
            "coverage:\n  status:\n    project:\n      default:\n        target: 80% # kept\n        threshold: '1%'\n    patch: off\nignore:\n- \"tests/\"\n- docs/*.md\nflags: [a, b]\n",
        )
        .unwrap();
        let project = y
            .get("coverage")
            .unwrap()
            .get("status")
            .unwrap()
            .get("project")
            .unwrap();
        assert_eq!(
            project.get("default").unwrap().get("target"),
            Some(&Yaml::Scalar("80%".into()))
        );
        assert_eq!(
            y.get("ignore"),
            Some(&Yaml::List(vec![
                Yaml::Scalar("tests/".into()),
                Yaml::Scalar("docs/*.md".into())
            ]))
        );
        assert_eq!(
            y.get("flags"),
            Some(&Yaml::List(vec![
                Yaml::Scalar("a".into()),
                Yaml::Scalar("b".into())
            ]))
        );
        assert!(read_yaml("a:\n  - b: c\n").unwrap_err().contains("line 2"));
        for bad in ["nan", "inf", "1e300", "-5%", "101%"] {
            assert_eq!(percent(&Yaml::Scalar(bad.into())), None, "{bad}");
        }
        assert_eq!(toml_string("a\"b\\c\u{1}"), "\"a\\\"b\\\\c\\u0001\"");
        assert_eq!(
            read_yaml("a:\n"),
            Ok(Yaml::Map(vec![("a".into(), Yaml::Scalar(String::new()))]))
        );
        let deep: String = (0..40)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i * 2)))
            .collect();
        assert!(read_yaml(&deep).unwrap_err().contains("deeper"));
    }
}
