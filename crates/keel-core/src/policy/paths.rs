//! Report paths → repository paths.
//!
//! CI tools write absolute paths (`/home/runner/work/app/app/src/x.rs`), paths relative to a
//! source root, or `file://` URIs. In order: a configured `strip_prefix` wins; a path that is
//! a changed file is kept; a path that ends with a changed file's path (at a `/`) maps to it,
//! the longest such file winning; the repository root learnt from those matches is stripped
//! from the remaining absolute paths; anything else is kept as written.

use std::collections::HashMap;

/// Maps many report paths at once, so roots learnt from one can serve the others.
pub fn map_paths<'a>(
    paths: impl IntoIterator<Item = &'a str>,
    sources: &[String],
    strip_prefix: &[String],
    changed: &[&str],
) -> HashMap<String, String> {
    let mut mapped = HashMap::new();
    let mut unmatched = Vec::new();
    let mut roots: Vec<String> = Vec::new();
    for raw in paths {
        let path = normalise(raw);
        if let Some(stripped) = strip(&path, strip_prefix) {
            mapped.insert(raw.to_owned(), stripped);
            continue;
        }
        match match_changed(&path, sources, changed) {
            Some((repo_path, root)) => {
                if let Some(root) = root.filter(|r| !roots.contains(r)) {
                    roots.push(root);
                }
                mapped.insert(raw.to_owned(), repo_path);
            }
            None => unmatched.push((raw, path)),
        }
    }
    for (raw, path) in unmatched {
        let via_root = roots
            .iter()
            .find_map(|r| path.strip_prefix(r.as_str()))
            .map(str::to_owned);
        let via_source = || {
            sources.iter().find_map(|s| {
                let joined = join(s, &path);
                roots
                    .iter()
                    .find_map(|r| joined.strip_prefix(r.as_str()).map(str::to_owned))
            })
        };
        mapped.insert(raw.to_owned(), via_root.or_else(via_source).unwrap_or(path));
    }
    mapped
}

/// `\` → `/`, no `file://`, no leading `./`.
fn normalise(raw: &str) -> String {
    let p = raw.trim().replace('\\', "/");
    let p = p.strip_prefix("file://").unwrap_or(&p);
    p.strip_prefix("./").unwrap_or(p).to_owned()
}

fn strip(path: &str, prefixes: &[String]) -> Option<String> {
    prefixes.iter().find_map(|prefix| {
        let prefix = prefix.trim_end_matches('/');
        let rest = path.strip_prefix(prefix)?;
        (rest.is_empty() || rest.starts_with('/') || prefix.is_empty())
            .then(|| rest.trim_start_matches('/').to_owned())
    })
}

/// The changed file `path` stands for, and the root it implies (`path` minus the file).
fn match_changed(
    path: &str,
    sources: &[String],
    changed: &[&str],
) -> Option<(String, Option<String>)> {
    let mut candidates = vec![path.to_owned()];
    if !path.starts_with('/') {
        candidates.extend(sources.iter().map(|s| join(s, path)));
    }
    for c in &candidates {
        if changed.contains(&c.as_str()) {
            return Some((c.clone(), None));
        }
    }
    let mut best: Option<(&str, String)> = None;
    for c in &candidates {
        for file in changed {
            let ends = c.len() > file.len()
                && c.ends_with(file)
                && c.as_bytes()[c.len() - file.len() - 1] == b'/';
            if ends && best.as_ref().is_none_or(|(b, _)| file.len() > b.len()) {
                best = Some((file, c[..c.len() - file.len()].to_owned()));
            }
        }
    }
    if let Some((file, root)) = best {
        return Some((file.to_owned(), Some(root)));
    }
    // A relative path that is the tail of exactly one changed file (a report written
    // relative to a sub-directory).
    if !path.starts_with('/') {
        let mut tails = changed.iter().filter(|f| {
            f.len() > path.len()
                && f.ends_with(path)
                && f.as_bytes()[f.len() - path.len() - 1] == b'/'
        });
        if let (Some(only), None) = (tails.next(), tails.next()) {
            return Some(((*only).to_owned(), None));
        }
    }
    None
}

fn join(root: &str, path: &str) -> String {
    let root = normalise(root);
    if root.is_empty() || root == "." {
        return path.to_owned();
    }
    format!("{}/{}", root.trim_end_matches('/'), path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(paths: &[&str], sources: &[&str], strip: &[&str], changed: &[&str]) -> Vec<String> {
        let sources: Vec<String> = sources.iter().map(|s| s.to_string()).collect();
        let strip: Vec<String> = strip.iter().map(|s| s.to_string()).collect();
        let m = map_paths(paths.iter().copied(), &sources, &strip, changed);
        paths.iter().map(|p| m[*p].clone()).collect()
    }

    #[test]
    fn absolute_ci_paths_map_to_changed_files_by_suffix() {
        let got = map(
            &["/home/runner/work/app/app/src/lib.rs"],
            &[],
            &[],
            &["src/lib.rs", "lib.rs"],
        );
        assert_eq!(got, ["src/lib.rs"]);
    }

    #[test]
    fn the_root_learnt_from_one_match_maps_unchanged_files_too() {
        let got = map(
            &[
                "/ci/app/src/a.rs",
                "/ci/app/src/untouched.rs",
                "/elsewhere/x.rs",
            ],
            &[],
            &[],
            &["src/a.rs"],
        );
        assert_eq!(got, ["src/a.rs", "src/untouched.rs", "/elsewhere/x.rs"]);
    }

    #[test]
    fn strip_prefix_wins_over_suffix_matching() {
        let got = map(&["/build/src/a.rs"], &[], &["/build/"], &["a.rs"]);
        assert_eq!(got, ["src/a.rs"]);
    }

    #[test]
    fn cobertura_paths_join_their_source_root() {
        let got = map(
            &["pkg/gate.py", "pkg/other.py"],
            &["/tmp/work/project/lib"],
            &[],
            &["lib/pkg/gate.py"],
        );
        assert_eq!(got, ["lib/pkg/gate.py", "lib/pkg/other.py"]);
    }

    #[test]
    fn windows_and_uri_paths_are_normalised() {
        let got = map(
            &["file://C:\\ci\\src\\a.rs", "./src/b.rs"],
            &[],
            &[],
            &["src/a.rs"],
        );
        assert_eq!(got, ["src/a.rs", "src/b.rs"]);
    }

    #[test]
    fn relative_paths_already_in_the_repo_stay() {
        assert_eq!(map(&["src/a.rs"], &[], &[], &[]), ["src/a.rs"]);
    }
}
