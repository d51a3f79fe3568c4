//! Path globs with the semantics people expect from CODEOWNERS and Actions: `*` stays within
//! one path segment, `**` crosses them, and a leading `!` excludes.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

/// An ordered include/exclude list of path globs.
#[derive(Debug, Clone, Default)]
pub struct PathGlobs {
    patterns: Vec<String>,
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

impl PathGlobs {
    /// Compiles `patterns`; `*` does not cross `/`.
    pub fn new(patterns: Vec<String>) -> Result<PathGlobs, String> {
        Self::build(patterns, true)
    }

    /// Compiles `patterns` for names rather than paths: `*` matches any text, `/` included.
    pub fn for_names(patterns: Vec<String>) -> Result<PathGlobs, String> {
        Self::build(patterns, false)
    }

    fn build(patterns: Vec<String>, literal_separator: bool) -> Result<PathGlobs, String> {
        let mut include = GlobSetBuilder::new();
        let mut exclude = GlobSetBuilder::new();
        let (mut n_in, mut n_ex) = (0, 0);
        for p in &patterns {
            let (negated, body) = match p.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, p.as_str()),
            };
            let glob = compile(body, literal_separator)?;
            if negated {
                exclude.add(glob);
                n_ex += 1;
            } else {
                include.add(glob);
                n_in += 1;
            }
        }
        let finish = |b: GlobSetBuilder, n: usize| -> Result<Option<GlobSet>, String> {
            if n == 0 {
                Ok(None)
            } else {
                b.build().map(Some).map_err(|e| e.to_string())
            }
        };
        Ok(PathGlobs {
            include: finish(include, n_in)?,
            exclude: finish(exclude, n_ex)?,
            patterns,
        })
    }

    /// True when `path` matches an include pattern (or there are only excludes) and no exclude.
    pub fn is_match(&self, path: &str) -> bool {
        if self.patterns.is_empty() {
            return false;
        }
        let included = self.include.as_ref().is_none_or(|s| s.is_match(path));
        included && !self.exclude.as_ref().is_some_and(|s| s.is_match(path))
    }

    /// No patterns at all.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The patterns as written.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}

fn compile(pattern: &str, literal_separator: bool) -> Result<Glob, String> {
    let pattern = pattern.strip_prefix("./").unwrap_or(pattern);
    GlobBuilder::new(pattern)
        .literal_separator(literal_separator)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("invalid glob `{pattern}`: {}", e.kind()))
}

impl PartialEq for PathGlobs {
    fn eq(&self, other: &Self) -> bool {
        self.patterns == other.patterns
    }
}

impl Serialize for PathGlobs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.patterns.serialize(s)
    }
}

impl<'de> Deserialize<'de> for PathGlobs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let patterns = one_or_many(d)?;
        PathGlobs::new(patterns).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for PathGlobs {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PathGlobs".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Path globs: `*` stays within a directory, `**` crosses directories, a leading `!` excludes",
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
        })
    }
}

/// A string or a list of strings.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged, expecting = "a string or a list of strings")]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// Report path patterns (`coverage/**/lcov.info`), each compiled as `keel check` and the App
/// will match it, while the config is read: a broken one is an error on its own line and
/// column, not a report that silently never matches.
pub(crate) fn checked_patterns<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<String>, D::Error> {
    /// One pattern, checked.
    struct Checked(String);
    impl<'de> Deserialize<'de> for Checked {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let pattern = String::deserialize(d)?;
            PathGlobs::new(vec![pattern.clone()]).map_err(serde::de::Error::custom)?;
            Ok(Checked(pattern))
        }
    }
    let patterns = Vec::<Checked>::deserialize(d)?;
    Ok(patterns.into_iter().map(|c| c.0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn globs(p: &[&str]) -> PathGlobs {
        PathGlobs::new(p.iter().map(|s| s.to_string()).collect()).unwrap()
    }

    #[test]
    fn star_stays_within_a_directory_and_double_star_crosses() {
        let g = globs(&["src/*.rs"]);
        assert!(g.is_match("src/lib.rs"));
        assert!(!g.is_match("src/deep/x.rs"));
        assert!(globs(&["src/**/*.rs"]).is_match("src/deep/x.rs"));
    }

    #[test]
    fn negation_excludes_after_includes() {
        let g = globs(&["src/**", "!src/generated/**"]);
        assert!(g.is_match("src/a.rs"));
        assert!(!g.is_match("src/generated/b.rs"));
        let only_excludes = globs(&["!vendor/**"]);
        assert!(only_excludes.is_match("src/a.rs"));
        assert!(!only_excludes.is_match("vendor/x.rs"));
    }

    #[test]
    fn an_invalid_glob_is_reported() {
        assert!(
            PathGlobs::new(vec!["src/[".into()])
                .unwrap_err()
                .contains("invalid glob `src/[`")
        );
    }
}
