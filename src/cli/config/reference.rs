//! `keel config reference`: the configuration reference in markdown, generated from the
//! config model's JSON Schema (its doc comments, types and defaults), so the documentation
//! cannot drift from the code. `docs/configuration.md` is this output (a test checks it).

use serde_json::Value;
use std::fmt::Write;

/// Renders the reference.
pub fn reference() -> String {
    let schema = keel_core::Config::json_schema();
    let defs = &schema["definitions"];
    let mut s = String::from(
        "# Configuration reference (`.github/keel.toml`)\n\n\
         Generated from the config model by `keel config reference`; do not edit by hand.\n\
         Every criterion is either a bare threshold (required) or a table\n\
         `{ threshold = …, level = \"required\" | \"advisory\" | \"off\", why = \"…\" }`.\n",
    );
    let Some(sections) = schema["properties"].as_object() else {
        return s;
    };
    for (name, prop) in sections {
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

fn table(s: &mut String, path: &str, def: &Value, defs: &Value) {
    let Some(props) = def["properties"].as_object() else {
        return;
    };
    let required: Vec<&str> = def["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    s.push_str("| key | type | default | meaning |\n|---|---|---|---|\n");
    let mut nested = Vec::new();
    for (key, prop) in props {
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
            "| `{key}` | {} | {default} | {description} |",
            type_of(prop, defs)
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
        Some(t) => t.to_owned(),
        None => match prop["type"].as_array() {
            Some(types) => types
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect::<Vec<_>>()
                .join(" or "),
            None => "value".to_owned(),
        },
    }
}

fn describe_ref(reference: &str, defs: &Value) -> String {
    let name = reference.rsplit('/').next().unwrap_or(reference);
    let def = &defs[name];
    if name.starts_with("Criterion_") {
        return format!(
            "criterion ({})",
            name.trim_start_matches("Criterion_").to_lowercase()
        );
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
    name.trim_end_matches("Schema").to_lowercase()
}
