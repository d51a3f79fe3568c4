//! The layout's rules, read off the source as rust-analyzer's `tidy` tests do: they hold
//! whatever a change does to the code, so a newcomer can trust `ARCHITECTURE.md`'s map.
//!
//! - The shell's rooms are layered ([`ROOMS`]); a module imports only from its own room or
//!   from a lower layer, so nothing below `cli/` imports from it and `server/`, `jobs/`,
//!   `reports/`, `github/` and `store/` never reach up.
//! - `keel-core`'s top-level modules import each other without circles.
//! - `keel-core` stays pure: every dependency is on a list of crates that do no I/O, and its
//!   source names no file system, network, process, environment or clock.
//! - No source file grows past [`MAX_LINES`] lines of production code (test modules apart).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The most lines of production code a source file may hold.
const MAX_LINES: usize = 600;

/// The shell's rooms and their layers: a room may use rooms of a lower layer only. A new
/// top-level module must be placed here (the test says so).
const ROOMS: &[(&str, u8)] = &[
    ("cli", 4),
    ("fuzz_targets", 3),
    ("server", 3),
    ("web", 3),
    ("jobs", 2),
    ("reports", 1),
    ("github", 1),
    ("store", 1),
    ("metrics", 0),
    ("clock", 0),
];

/// `keel-core`'s dependencies, each known to do no I/O (parsing, data, pure algorithms).
const PURE_DEPENDENCIES: &[&str] = &[
    "chrono",
    "chrono-tz",
    "croner",
    "globset",
    "memchr",
    "pulldown-cmark",
    "quick-xml",
    "regex",
    "schemars",
    "serde",
    "serde_json",
    "thiserror",
    "toml",
];

/// What pure code never names: the file system, sockets, processes, the environment, threads,
/// the terminal and every way of reading the clock.
const IMPURE_PATHS: &[&str] = &[
    "std::fs",
    "std::net",
    "std::process",
    "std::env",
    "std::thread",
    "std::io::stdin",
    "std::io::stdout",
    "std::io::stderr",
    "print!(",
    "println!(",
    "dbg!(",
    "SystemTime",
    "Instant::now",
    "Utc::now",
    "Local::now",
    "chrono::Local",
    "File::open",
];

/// The impure paths a piece of code names, also inside a group (`use std::{fs, env}`).
fn impure_names(code: &str) -> Vec<String> {
    let code = tight_paths(code);
    let mut found: Vec<String> = IMPURE_PATHS
        .iter()
        .filter(|word| code.contains(*word))
        .map(|word| (*word).to_owned())
        .collect();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("std::{") {
        let group = &rest[at + "std::{".len()..];
        let end = group.find('}').unwrap_or(group.len());
        for item in group[..end].split(',') {
            let path = format!("std::{}", item.trim());
            if let Some(word) = IMPURE_PATHS.iter().find(|w| path.starts_with(*w)) {
                found.push((*word).to_owned());
            }
        }
        rest = &group[end..];
    }
    found
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// A file of unit tests beside its module (`tests.rs`, or anything under a `tests/` folder).
fn is_test_file(relative: &Path) -> bool {
    relative.file_name().is_some_and(|n| n == "tests.rs")
        || relative.components().any(|c| c.as_os_str() == "tests")
}

/// The source with comments, string and character literals blanked out (each replaced by a
/// space), so that only code is searched.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && raw_prefix(&chars, i) {
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            i = j;
            out.push(' ');
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push(' ');
        } else if c == '\'' && next == Some('\\') {
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push(' ');
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            i += 3;
            out.push(' ');
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Whether the `r` at `i` opens a raw string: alone (`r"…"`) or after `b` or `c` (`br"…"`),
/// not inside an identifier.
fn raw_prefix(chars: &[char], i: usize) -> bool {
    match prev(chars, i) {
        'b' | 'c' => i < 2 || !ident_char(chars[i - 2]),
        p => !ident_char(p),
    }
}

fn prev(chars: &[char], i: usize) -> char {
    if i == 0 { ' ' } else { chars[i - 1] }
}

fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The crate's top-level modules a piece of code names: `crate::x`, every `x` in
/// `crate::{x, y::z}`, and `super::…` chains that climb out of a module `depth` levels
/// below the crate root.
fn modules_named(code: &str, depth: usize) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    let code = tight_paths(code);
    // What would hide a module's imports from this reading is refused outright.
    for hiding in ["crate::*", "crate as ", "#[path", "include!("] {
        if code.contains(hiding) {
            named.insert(HIDDEN.to_owned());
        }
    }
    let bytes: Vec<char> = code.chars().collect();
    let ident_at = |mut i: usize| {
        while bytes.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        let start = i;
        while bytes.get(i).is_some_and(|c| ident_char(*c)) {
            i += 1;
        }
        (bytes[start..i].iter().collect::<String>(), i)
    };
    let mut i = 0;
    while i < bytes.len() {
        if ident_char(prev(&bytes, i)) {
            i += 1;
            continue;
        }
        let rest: String = bytes[i..bytes.len().min(i + 7)].iter().collect();
        if rest == "crate::" {
            let after = i + 7;
            if bytes.get(after) == Some(&'{') {
                // Top-level items of the group: the first identifier after `{` or a `,` at
                // depth one.
                let mut depth = 0;
                let mut j = after;
                let mut expect = true;
                while j < bytes.len() {
                    match bytes[j] {
                        '{' => {
                            depth += 1;
                            j += 1;
                        }
                        '}' => {
                            depth -= 1;
                            j += 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        ',' if depth == 1 => {
                            expect = true;
                            j += 1;
                        }
                        c if depth == 1 && expect && ident_char(c) => {
                            let (name, end) = ident_at(j);
                            named.insert(name);
                            expect = false;
                            j = end;
                        }
                        _ => j += 1,
                    }
                }
                i = j;
            } else {
                let (name, end) = ident_at(after);
                if !name.is_empty() {
                    named.insert(name);
                }
                i = end;
            }
            continue;
        }
        if rest.starts_with("super::") {
            let mut climbs = 0;
            let mut j = i;
            while bytes[j..].iter().take(7).collect::<String>() == "super::" {
                climbs += 1;
                j += 7;
            }
            if climbs >= depth {
                let (name, _) = ident_at(j);
                if name.is_empty() {
                    // `super::…::*` at the crate root: a glob of every room.
                    named.insert(HIDDEN.to_owned());
                } else {
                    named.insert(name);
                }
            }
            i = j;
            continue;
        }
        i += 1;
    }
    named
}

/// What [`modules_named`] returns for code that hides what it imports: a glob of the crate
/// root (`crate::*`, `super::super::*` at the root), `crate as …`, `#[path]` or `include!`.
const HIDDEN: &str = "(a glob of the crate root, `crate as`, `#[path]` or `include!`)";

/// The code with whitespace around `::` removed, so `crate :: cli` reads as `crate::cli`.
fn tight_paths(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            let mut j = i;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            let after = chars.get(j) == Some(&':') && chars.get(j + 1) == Some(&':');
            if !(out.ends_with("::") || after) {
                out.push(' ');
            }
            i = j;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// `src/jobs/evaluate.rs` → ("jobs", 2); `src/jobs/mod.rs` → ("jobs", 1); `src/clock.rs` →
/// ("clock", 1).
fn room_and_depth(relative: &Path) -> (String, usize) {
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let room = parts[0].trim_end_matches(".rs").to_owned();
    let mut depth = parts.len();
    if parts.last().is_some_and(|p| p == "mod.rs") {
        depth -= 1;
    }
    (room, depth)
}

/// What the crate root re-exports, by name → the module it comes from (`pub use
/// config::Config;` → `Config` → `config`), so `crate::Config` counts as `crate::config`.
fn root_reexports(src: &Path) -> BTreeMap<String, String> {
    let mut aliases = BTreeMap::new();
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap_or_default();
    for line in code_only(&lib).lines() {
        let Some(path) = line.trim().strip_prefix("pub use ") else {
            continue;
        };
        let path = path.trim_end_matches(';');
        let Some((module, rest)) = path.split_once("::") else {
            continue;
        };
        let names = rest.trim_start_matches('{').trim_end_matches('}');
        for name in names.split(',') {
            let name = name.rsplit("::").next().unwrap_or(name).trim();
            let name = name.rsplit(" as ").next().unwrap_or(name).trim();
            if !name.is_empty() {
                aliases.insert(name.to_owned(), module.to_owned());
            }
        }
    }
    aliases
}

/// The top-level modules a crate's root declares (`mod x;`, `pub mod x;`).
fn declared_modules(src: &Path) -> BTreeSet<String> {
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    code_only(&lib)
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            l.strip_prefix("mod ")?.strip_suffix(';').map(str::to_owned)
        })
        .collect()
}

/// For each top-level module of the crate at `src`, the other top-level modules its production
/// code names (unit tests may reach further), with the file that names each first.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeMap<String, PathBuf>> {
    let aliases = root_reexports(src);
    let mut graph: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
    for path in rust_files(src) {
        let relative = path.strip_prefix(src).unwrap();
        if relative == Path::new("lib.rs") || relative == Path::new("main.rs") {
            continue;
        }
        if is_test_file(relative) {
            continue;
        }
        let (room, depth) = room_and_depth(relative);
        let source = std::fs::read_to_string(&path).unwrap();
        let production: String = source
            .lines()
            .take(production_lines(&source))
            .collect::<Vec<_>>()
            .join("\n");
        let code = code_only(&production);
        let edges = graph.entry(room.clone()).or_default();
        for target in modules_named(&code, depth) {
            let target = aliases.get(&target).cloned().unwrap_or(target);
            if target != room {
                edges
                    .entry(target)
                    .or_insert_with(|| relative.to_path_buf());
            }
        }
    }
    graph
}

fn layer(room: &str) -> Option<u8> {
    ROOMS.iter().find(|(r, _)| *r == room).map(|(_, l)| *l)
}

/// What breaks the layer rule in a module graph of the shell.
fn layer_violations(graph: &BTreeMap<String, BTreeMap<String, PathBuf>>) -> Vec<String> {
    let mut problems = Vec::new();
    for (room, edges) in graph {
        let Some(from) = layer(room) else {
            problems.push(format!(
                "src/{room} is not placed: add it to ROOMS in tests/it/architecture.rs (and \
                 to ARCHITECTURE.md's code map) at the layer it belongs to"
            ));
            continue;
        };
        for (target, file) in edges {
            match layer(target) {
                Some(to) if to < from => {}
                Some(to) => problems.push(format!(
                    "src/{} imports `crate::{target}` (layer {to}) from `{room}` (layer \
                     {from}): imports only point down",
                    file.display()
                )),
                None if target == HIDDEN => problems.push(format!(
                    "src/{} hides what it imports {HIDDEN}: name each room it uses",
                    file.display()
                )),
                None => problems.push(format!(
                    "src/{} names `crate::{target}`, which is not a placed room",
                    file.display()
                )),
            }
        }
    }
    problems
}

/// A circle in a module graph, as `a → b → a`, if there is one.
fn circle(graph: &BTreeMap<String, BTreeMap<String, PathBuf>>) -> Option<String> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeMap<String, PathBuf>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<String> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut names = path[at..].to_vec();
            names.push(node.to_owned());
            return Some(names.join(" → "));
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flat_map(|e| e.keys()) {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

/// Lines of production code: up to the first inline test module (`#[cfg(test)]` then
/// `mod … {`), which by convention closes a file. A `mod tests;` line points at a test file
/// and ends nothing.
fn production_lines(source: &str) -> usize {
    let lines: Vec<&str> = source.lines().collect();
    lines
        .iter()
        .enumerate()
        .position(|(i, line)| {
            line.trim() == "#[cfg(test)]"
                && lines.get(i + 1).is_some_and(|next| {
                    let next = next.trim();
                    next.starts_with("mod ") && next.ends_with('{')
                })
        })
        .unwrap_or(lines.len())
}

/// Files over [`MAX_LINES`] of production code under `src`.
fn oversized(src: &Path) -> Vec<String> {
    rust_files(src)
        .into_iter()
        .filter(|p| !is_test_file(p.strip_prefix(src).unwrap()))
        .filter_map(|p| {
            let n = production_lines(&std::fs::read_to_string(&p).unwrap());
            (n > MAX_LINES).then(|| {
                format!(
                    "{} has {n} lines of production code (at most {MAX_LINES}): split it by \
                     feature",
                    p.strip_prefix(workspace()).unwrap_or(&p).display()
                )
            })
        })
        .collect()
}

/// The dependencies of a `Cargo.toml` (not the dev- or build-dependencies): every table
/// that declares them.
fn dependencies(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in manifest.lines() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            let header = header.trim_end_matches(']');
            // `[dependencies]`, `[target.'cfg(…)'.dependencies]`, and the one-crate tables
            // `[dependencies.foo]` / `[target.'cfg(…)'.dependencies.foo]`.
            let table = header.rsplit_once("dependencies").filter(|(before, _)| {
                before.is_empty() || (before.starts_with("target.") && before.ends_with('.'))
            });
            inside = false;
            match table {
                Some((_, "")) => inside = true,
                Some((_, one)) if one.starts_with('.') => names.push(one[1..].to_owned()),
                _ => {}
            }
        } else if inside && let Some((name, _)) = line.split_once('=') {
            let name = name.trim();
            if !name.is_empty() && !name.starts_with('#') {
                names.push(name.to_owned());
            }
        }
    }
    names
}

#[test]
fn the_shells_rooms_import_only_from_lower_layers() {
    let graph = module_graph(&workspace().join("src"));
    for (room, _) in ROOMS {
        assert!(
            graph.contains_key(*room),
            "ROOMS names {room}, which src/ no longer has"
        );
    }
    assert!(graph["cli"].contains_key("jobs") && graph["server"].contains_key("jobs"));
    let problems = layer_violations(&graph);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn keel_cores_modules_import_each_other_without_circles() {
    let src = workspace().join("crates/keel-core/src");
    let graph = module_graph(&src);
    let modules = declared_modules(&src);
    for (module, edges) in &graph {
        for target in edges.keys() {
            assert!(
                modules.contains(target),
                "{module} names `crate::{target}`, which is no module of keel-core's root"
            );
        }
    }
    assert!(graph["policy"].contains_key("evaluation"), "{graph:?}");
    assert_eq!(
        circle(&graph),
        None,
        "keel-core's modules import in a circle"
    );
}

#[test]
fn keel_core_depends_only_on_crates_that_do_no_io() {
    let manifest =
        std::fs::read_to_string(workspace().join("crates/keel-core/Cargo.toml")).unwrap();
    let impure: Vec<String> = dependencies(&manifest)
        .into_iter()
        .filter(|d| !PURE_DEPENDENCIES.contains(&d.as_str()))
        .collect();
    assert!(
        impure.is_empty(),
        "keel-core gained {impure:?}: keel-core does no I/O. If the crate is pure (no file \
         system, network, clock, environment or async runtime), add it to PURE_DEPENDENCIES \
         in tests/it/architecture.rs with care; otherwise it belongs to the shell"
    );
    let mut named = Vec::new();
    let src = workspace().join("crates/keel-core/src");
    for path in rust_files(&src) {
        if is_test_file(path.strip_prefix(&src).unwrap()) {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        let production: String = source
            .lines()
            .take(production_lines(&source))
            .collect::<Vec<_>>()
            .join("\n");
        for word in impure_names(&code_only(&production)) {
            named.push(format!("{} names {word}", path.display()));
        }
    }
    assert!(
        named.is_empty(),
        "keel-core does I/O:\n{}",
        named.join("\n")
    );
}

#[test]
fn no_source_file_grows_past_the_limit() {
    let mut problems = oversized(&workspace().join("src"));
    problems.extend(oversized(&workspace().join("crates/keel-core/src")));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// The checks themselves, on made-up code: each rule catches what it is for.

fn graph_of(files: &[(&str, &str)]) -> BTreeMap<String, BTreeMap<String, PathBuf>> {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    module_graph(dir.path())
}

#[test]
fn a_room_below_cli_that_imports_from_cli_is_caught_in_every_spelling() {
    for source in [
        "use crate::cli::EXIT_OK;",
        "use crate::{store::Store, cli::check};",
        "fn f() { let _ = crate::cli::run; }",
        "use super::super::cli::EXIT_OK;",
        "use crate :: cli :: EXIT_OK;",
        "use crate::{\n    cli::{self, check},\n};",
        "const A: &[u8] = br\"\\\"; use crate::cli::EXIT_OK;",
    ] {
        let graph = graph_of(&[
            ("cli/mod.rs", "pub const EXIT_OK: u8 = 0;"),
            ("jobs/evaluate.rs", source),
        ]);
        let problems = layer_violations(&graph);
        assert_eq!(problems.len(), 1, "{source}: {problems:?}");
        assert!(problems[0].contains("jobs/evaluate.rs imports `crate::cli`"));
    }
}

#[test]
fn names_in_comments_and_strings_are_not_imports() {
    let graph = graph_of(&[(
        "jobs/mod.rs",
        "//! Unlike [`crate::cli`], …\n/* crate::cli */ const A: &str = \"crate::cli\";\n\
         const B: &str = r#\"crate::cli\"#; const C: char = '\"'; fn d<'a>(x: &'a str) {}\n\
         use crate::store::Store;",
    )]);
    assert_eq!(
        graph["jobs"].keys().collect::<Vec<_>>(),
        ["store"],
        "{graph:?}"
    );
}

#[test]
fn an_unplaced_room_and_a_circle_are_caught() {
    let graph = graph_of(&[("dashboard/mod.rs", "use crate::store::Store;")]);
    assert!(layer_violations(&graph)[0].contains("src/dashboard is not placed"));
    let graph = graph_of(&[
        ("facts.rs", "use crate::strategy::CapacityCounts;"),
        ("strategy/mod.rs", "pub mod roadmap;"),
        ("strategy/roadmap.rs", "use crate::facts::PullRequest;"),
        ("glob.rs", ""),
    ]);
    assert_eq!(circle(&graph).as_deref(), Some("facts → strategy → facts"));
}

#[test]
fn test_modules_do_not_count_towards_the_size_limit() {
    let production = "fn a() {}\n".repeat(MAX_LINES);
    let with_tests = format!(
        "{production}#[cfg(test)]\nmod tests {{\n{}}}\n",
        "\n".repeat(900)
    );
    assert_eq!(production_lines(&with_tests), MAX_LINES);
    assert_eq!(
        production_lines(&format!("{production}fn b() {{}}\n")),
        MAX_LINES + 1
    );
    assert_eq!(
        dependencies(
            "[package]\nname = \"x\"\n[dependencies]\nserde = \"1\"\ntokio = { version = \"1\" }\n[dev-dependencies]\nproptest = \"1\"\n"
        ),
        ["serde", "tokio"]
    );
}

#[test]
fn code_that_hides_its_imports_is_refused() {
    for source in [
        "use crate::*;",
        "use super::super::*;",
        "use crate as root;",
        "#[path = \"../cli/check.rs\"]\nmod check;",
        "include!(\"../cli/check.rs\");",
    ] {
        let graph = graph_of(&[("jobs/evaluate.rs", source)]);
        let problems = layer_violations(&graph);
        assert!(
            problems.len() == 1 && problems[0].contains("hides what it imports"),
            "{source}: {problems:?}"
        );
    }
}

#[test]
fn the_purity_check_catches_io_however_it_is_written() {
    for (source, word) in [
        ("use std::fs::File;", "std::fs"),
        ("use std::{collections::BTreeMap, env};", "std::env"),
        ("let t = std :: time :: SystemTime::now();", "SystemTime"),
        ("println!(\"x\");", "println!("),
        ("let now = chrono::Local::now();", "Local::now"),
    ] {
        assert!(
            impure_names(&code_only(source)).iter().any(|w| w == word),
            "{source}"
        );
    }
    assert_eq!(
        impure_names(&code_only("// std::fs\nconst A: &str = \"std::env\";")),
        Vec::<String>::new()
    );
    assert_eq!(
        dependencies(
            "[dependencies.tokio]\nversion = \"1\"\n[target.'cfg(unix)'.dependencies]\nlibc = \"0.2\"\n[build-dependencies]\ncc = \"1\"\n"
        ),
        ["tokio", "libc"]
    );
}

#[test]
fn an_oversized_file_is_caught_and_a_test_file_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let long = "fn a() {}\n".repeat(MAX_LINES + 1);
    std::fs::create_dir_all(dir.path().join("jobs")).unwrap();
    std::fs::write(dir.path().join("jobs/big.rs"), &long).unwrap();
    std::fs::write(dir.path().join("jobs/tests.rs"), &long).unwrap();
    std::fs::write(
        dir.path().join("jobs/early.rs"),
        format!("#[cfg(test)]\nmod tests;\n{long}"),
    )
    .unwrap();
    let mut found = oversized(dir.path());
    found.sort();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains("big.rs") && found[1].contains("early.rs"));
}
