//! `keel config reference`: the configuration reference in markdown, generated from the
//! config model's JSON Schema (its doc comments, types and defaults), so the documentation
//! cannot drift from the code. `docs/configuration.md` is this output (a test checks it).

use serde_json::Value;
use std::fmt::Write;

/// The order a person reads the sections in: the criteria, then where reports come from and
/// what Keel writes, then the strategy, then the weekly summary.
const SECTION_ORDER: &[&str] = &[
    "coverage",
    "security",
    "performance",
    "hygiene",
    "checks",
    "exempt",
    "reports",
    "labels",
    "comment",
    "commands",
    "roadmap",
    "debt",
    "summary",
];

/// Renders the reference.
pub fn reference() -> String {
    let schema = keel_core::Config::json_schema();
    let defs = &schema["definitions"];
    let mut s = String::from(
        "# Configuration reference (`.github/keel.toml`)\n\n\
         Generated from the config model by `keel config reference`; do not edit by hand.\n\
         Every criterion is either a bare threshold (required) or a table\n\
         `{ threshold = …, level = \"required\" | \"advisory\" | \"off\", why = \"…\" }`.\n\
         Within each section the keys come in the order you decide them: which files, then the\n\
         thresholds, then the rest.\n\
         \n\
         ## `extends`\n\
         \n\
         A preset the file starts from: `\"keel:recommended\"` or `\"keel:strict\"`. The preset is\n\
         read first; each key the file sets replaces the preset's value.\n\
         \n\
         ```toml\nextends = \"keel:recommended\"\n```\n\
         \n\
         ## `on_skip`\n\
         \n\
         How a required criterion that could not be judged counts: `\"fail\"` or `\"pass\"`.\n\
         Unset, it fails where the fact should have been there (a report that lists nothing\n\
         coverable, no diff) and passes, listed as not judged, where it cannot be there yet (no\n\
         baseline recorded for the base commit, not a pull request). Exempt and not-affected\n\
         criteria always pass.\n\
         \n\
         ```toml\non_skip = \"fail\"\n```\n",
    );
    let Some(sections) = schema["properties"].as_object() else {
        return s;
    };
    let mut names: Vec<&String> = sections.keys().collect();
    names.sort_by_key(|n| {
        SECTION_ORDER
            .iter()
            .position(|o| o == n)
            .unwrap_or(SECTION_ORDER.len())
    });
    for name in names {
        let prop = &sections[name];
        let Some(def) = definition(prop, defs) else {
            continue;
        };
        let _ = writeln!(s, "\n## `[{name}]`\n");
        if let Some(d) = prop["description"].as_str() {
            let _ = writeln!(s, "{d}\n");
        }
        table(&mut s, name, def, defs);
    }
    s
}

/// Where a key comes in its table: the files it reads first, the thresholds next, the rest
/// last.
fn reading_rank(key: &str) -> u8 {
    match key {
        "paths" | "id" | "title" | "benchmark" => 0,
        "format" | "file" | "artifact" | "artifacts" | "workflow" | "workflows" | "src"
        | "tests" => 1,
        "fail_on" | "required" | "blocking" | "capacity_target" | "threshold" | "direction"
        | "max" | "min" | "level" | "why" => 2,
        k if k.starts_with("min_") || k.starts_with("max_") || k.starts_with("require") => 2,
        _ => 3,
    }
}

/// A line of TOML that sets `key`: a known example, else one made from the default or the
/// type, so every key shows how it is written.
fn example(path: &str, key: &str, prop: &Value, defs: &Value) -> String {
    let known = match (path, key) {
        ("coverage", "paths") => Some(r#"["coverage/lcov.info", "coverage.xml"]"#),
        ("security", "paths") => Some(r#"["reports/*.sarif"]"#),
        ("performance", "paths") => Some(r#"["target/criterion", "bench/*.json"]"#),
        (_, "strip_prefix") => Some(r#"["/home/runner/work/app/app/"]"#),
        ("checks", "required") => Some(r#"["build", "lint"]"#),
        (_, "title_pattern") => Some(r#"'^(feat|fix|docs)(\(.+\))?: '"#),
        (_, "branch_pattern") => Some(r#"{ threshold = '^(feat|fix)/', level = "advisory" }"#),
        (_, "hypothesis") => {
            Some(r#""We believe a one-page checkout will reduce cart abandonment by 15%""#)
        }
        (_, "timezone") => Some(r#""Europe/Berlin""#),
        (_, "schedule") => Some(r#""0 9 * * MON""#),
        (_, "workflow") => Some(r#""ci.yml""#),
        ("reports", "artifact") => Some(r#""keel-reports""#),
        ("reports", "artifacts") => Some(r#"["keel-reports-*", "codeql-sarif"]"#),
        ("reports", "workflows") => Some(r#"["ci.yml", "codeql.yml"]"#),
        ("reports", "wait_for") => Some(r#"["ci.yml"]"#),
        ("reports", "timeout") => Some(r#""2h""#),
        ("security", "source") => Some(r#""code-scanning""#),
        (_, "benchmark") => Some(r#""parse/*""#),
        (_, "max") => Some(r#""250ms""#),
        (_, "min") => Some("1000"),
        (_, "max_regression") => Some(r#""5%""#),
        (_, "max_drop") => Some(r#"{ threshold = 0.5, level = "advisory" }"#),
        (_, "ignore_rules") => Some(r#"["S101"]"#),
        (_, "affects") => Some(r#"["src/**", "Cargo.lock"]"#),
        ("exempt", "authors") => Some(r#"["dependabot[bot]", "renovate[bot]", "acme-bot[bot]"]"#),
        ("exempt", "upkeep_types") => Some(r#"["docs", "refactor", "test", "ci", "chore"]"#),
        ("exempt", "upkeep_labels") => Some(r#"["dependencies", "documentation"]"#),
        ("exempt", "paths") => Some(r#"["**/*.md", "docs/**/*.png"]"#),
        ("comment", "when") => Some(r#""on_failure""#),
        ("comment", "layout") => Some(r#"["criteria", "why"]"#),
        ("comment", "off") => Some("true"),
        ("commands", "waive") => Some(r#""maintain""#),
        ("commands", "waivers") => Some("false"),
        ("commands", "survive_pushes") => Some("true"),
        ("commands", "waiver_days") => Some("30"),
        ("commands", _) => Some(r#""maintain""#),
        ("security.ignore", "rule") => Some(r#""js/xss""#),
        ("security.ignore", "paths") => Some(r#"["src/legacy/**"]"#),
        ("security.ignore", "reason") => {
            Some(r#""False positive: the input is a constant (reviewed by @alice)""#)
        }
        ("security.ignore", "until") => Some(r#""2027-03-31""#),
        ("debt", "suppressions") => Some(r##"["#[allow(", "eslint-disable", "# type: ignore"]"##),
        (_, "issues") => Some("[34, 35]"),
        ("roadmap.items", "labels") => Some(r#"["checkout"]"#),
        (_, "title") => Some(r#""One-page checkout""#),
        (_, "metric") => Some(r#""cart abandonment""#),
        (_, "owner") => Some(r#""@payments-team""#),
        (_, "target") => Some(r#""-15%""#),
        (_, "milestone") => Some(r#""Q1 checkout""#),
        ("roadmap", "file") => Some(r#"".github/roadmap.toml""#),
        ("debt", "file") => Some(r#"".github/debt.toml""#),
        ("labels", "done") => Some(r#""keel: done""#),
        ("labels", "not_done") => Some(r#""keel: not done""#),
        (_, "why") => Some(r#""Untested changes caused 3 of our last 5 incidents""#),
        (_, "outcomes_file") => Some(r#"".github/outcomes.toml""#),
        ("debt", "currency") => Some(r#""EUR""#),
        ("summary", "team") => Some(r#""payments""#),
        (_, "cost_per_month") => Some("1200"),
        (_, "outage_risk_pct") => Some("5"),
        (_, "slows_delivery_days") => Some("2"),
        (_, "impact") => Some(r#""Blocks the EU launch""#),
        (_, "id") if path.contains("debt") => Some(r#""DEBT-7""#),
        (_, "id") => Some(r#""R-12""#),
        (_, "fail_on") => {
            Some(r#"{ threshold = "high", why = "SOC 2 compliance to close enterprise deals" }"#)
        }
        (_, "min_patch") => {
            Some(r#"{ threshold = 90, why = "Untested changes caused 3 of our last 5 incidents" }"#)
        }
        (_, "ignore") | (_, "source") | (_, "paths") | (_, "src") | (_, "tests") => {
            Some(r#"["src/**", "!src/generated/**"]"#)
        }
        _ => None,
    };
    // A table, or a list of tables, is written as its own section below.
    if definition(prop, defs).is_some() {
        let brackets = if prop["type"] == "array" {
            ("[[", "]]")
        } else {
            ("[", "]")
        };
        return format!("`{}{path}.{key}{}` (below)", brackets.0, brackets.1);
    }
    let value = match known {
        Some(v) => v.to_owned(),
        None => match &prop["default"] {
            Value::Null => from_type(&type_of(prop, defs)),
            v => toml_value(v),
        },
    };
    format!("`{key} = {}`", value.replace('|', "\\|"))
}

/// An example value for a type as [`type_of`] names it.
fn from_type(ty: &str) -> String {
    let first_variant = ty.split(", ").next().unwrap_or("").trim_matches('`');
    match ty {
        t if t.starts_with("criterion (percent)") => "80".to_owned(),
        t if t.starts_with("criterion (whole number)") => "400".to_owned(),
        t if t.starts_with("criterion (true or false)") => "true".to_owned(),
        t if t.starts_with("criterion") => "\"…\"".to_owned(),
        "whole number" => "10".to_owned(),
        "number" => "0.2".to_owned(),
        "true or false" => "true".to_owned(),
        "text" | "item id" => "\"…\"".to_owned(),
        t if t.starts_with("list of") => "[\"…\"]".to_owned(),
        t if t.contains('`') => format!("{first_variant:?}"),
        _ => "{ … }".to_owned(),
    }
}

/// A JSON default as TOML.
fn toml_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(toml_value).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{ {} }}",
            map.iter()
                .map(|(k, v)| format!("{k} = {}", toml_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// The definition a property refers to (directly, or as an optional value, or as the items
/// of an array of tables).
fn definition<'a>(prop: &'a Value, defs: &'a Value) -> Option<&'a Value> {
    let reference = prop["$ref"]
        .as_str()
        .or_else(|| prop["allOf"][0]["$ref"].as_str())
        .or_else(|| {
            prop["anyOf"]
                .as_array()?
                .iter()
                .find_map(|v| v["$ref"].as_str())
        })
        .or_else(|| prop["items"]["$ref"].as_str())?;
    let def = &defs[reference.rsplit('/').next()?];
    def["properties"].is_object().then_some(def)
}

pub(super) fn table(s: &mut String, path: &str, def: &Value, defs: &Value) {
    let Some(props) = def["properties"].as_object() else {
        return;
    };
    let required: Vec<&str> = def["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    s.push_str("| key | type | default | meaning | example |\n|---|---|---|---|---|\n");
    let mut nested = Vec::new();
    let mut keys: Vec<(&String, &Value)> = props.iter().collect();
    keys.sort_by_key(|(key, _)| reading_rank(key));
    for (key, prop) in keys {
        let default = if required.contains(&key.as_str()) {
            "required".to_owned()
        } else {
            match &prop["default"] {
                Value::Null => "—".to_owned(),
                v => format!("`{v}`"),
            }
        };
        let description = prop["description"]
            .as_str()
            .unwrap_or("")
            .replace('\n', " ")
            .replace('|', "\\|");
        let _ = writeln!(
            s,
            "| `{key}` | {} | {default} | {description} | {} |",
            type_of(prop, defs),
            example(path, key, prop, defs)
        );
        if let Some(inner) = definition(prop, defs) {
            let array = prop["type"] == "array";
            let title = if array {
                format!("[[{path}.{key}]]")
            } else {
                format!("[{path}.{key}]")
            };
            nested.push((title, format!("{path}.{key}"), inner));
        }
    }
    for (title, inner_path, inner) in nested {
        let _ = writeln!(s, "\n### `{title}`\n");
        table(s, &inner_path, inner, defs);
    }
}

fn type_of(prop: &Value, defs: &Value) -> String {
    if let Some(r) = prop["$ref"]
        .as_str()
        .or_else(|| prop["allOf"][0]["$ref"].as_str())
    {
        return describe_ref(r, defs);
    }
    if let Some(any) = prop["anyOf"].as_array() {
        let parts: Vec<String> = any
            .iter()
            .filter(|v| v["type"] != "null")
            .map(|v| type_of(v, defs))
            .collect();
        return parts.join(" or ");
    }
    if let Some(values) = prop["enum"].as_array() {
        return values
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", ");
    }
    match prop["type"].as_str() {
        Some("array") => format!("list of {}", type_of(&prop["items"], defs)),
        Some(t) => plain(t).to_owned(),
        None => match prop["type"].as_array() {
            Some(types) => types
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .map(plain)
                .collect::<Vec<_>>()
                .join(" or "),
            None => "value".to_owned(),
        },
    }
}

/// A JSON Schema type in the words of someone writing TOML.
fn plain(json_type: &str) -> &str {
    match json_type {
        "string" => "text",
        "boolean" => "true or false",
        "integer" => "whole number",
        "object" => "table",
        other => other,
    }
}

fn describe_ref(reference: &str, defs: &Value) -> String {
    let name = reference.rsplit('/').next().unwrap_or(reference);
    let def = &defs[name];
    if let Some(inner) = name.strip_prefix("Criterion_") {
        let inner = match inner.to_lowercase().as_str() {
            "uint64" | "uint" | "uint32" | "u64" => "whole number".to_owned(),
            "boolean" | "bool" => "true or false".to_owned(),
            "string" => "text".to_owned(),
            other => other.to_owned(),
        };
        return format!("criterion ({inner})");
    }
    if def["properties"].is_object() {
        return "table".to_owned();
    }
    if def.get("oneOf").is_some() || def.get("enum").is_some() {
        let variants: Vec<String> = def["oneOf"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["const"].as_str().or_else(|| v["enum"][0].as_str()))
            .chain(
                def["enum"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str),
            )
            .map(|v| format!("`{v}`"))
            .collect();
        if !variants.is_empty() {
            return variants.join(", ");
        }
    }
    match name.trim_end_matches("Schema").to_lowercase().as_str() {
        "pathglobs" => "path globs (one or a list)".to_owned(),
        "itemid" => "item id".to_owned(),
        "pattern" => "regular expression".to_owned(),
        "string" => "text".to_owned(),
        other => other.to_owned(),
    }
}
