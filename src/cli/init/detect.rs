//! What `keel init` finds in a repository: its languages (by their manifest files), its
//! GitHub Actions workflows, the reports those already write, and its default branch.

use crate::cli::inputs::git;
use crate::reports::files::read_limited;
use std::path::Path;

/// A language Keel knows how to measure coverage for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// `pyproject.toml`, `setup.py`, `setup.cfg` or `requirements.txt`: coverage.py.
    Python,
    /// `Cargo.toml`: cargo-llvm-cov.
    Rust,
    /// `package.json`: nyc (Istanbul).
    JavaScript,
}

impl Language {
    /// How people call it.
    pub fn name(self) -> &'static str {
        match self {
            Language::Python => "Python",
            Language::Rust => "Rust",
            Language::JavaScript => "JavaScript",
        }
    }

    /// The coverage tool, and where it writes its report in the repository's root.
    pub fn coverage(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Language::Python => ("coverage.py (Cobertura XML)", &["coverage.xml"]),
            Language::Rust => ("cargo-llvm-cov (LCOV)", &["lcov.info"]),
            // nyc writes coverage/lcov.info; the artifact holds it as lcov.info.
            Language::JavaScript => ("nyc (LCOV)", &["coverage/lcov.info", "lcov.info"]),
        }
    }
}

/// A report an existing workflow already writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    /// The workflow file (`ci.yml`).
    pub workflow: String,
    /// What it writes (`coverage.xml`, `SARIF`).
    pub what: String,
}

/// Everything `keel init` found.
#[derive(Debug, Clone, Default)]
pub struct Detected {
    /// Languages, in a fixed order.
    pub languages: Vec<Language>,
    /// Workflow files under `.github/workflows`.
    pub workflows: Vec<String>,
    /// Reports the workflows already write.
    pub existing: Vec<Existing>,
    /// The default branch (`main` when git does not say).
    pub default_branch: String,
    /// How the Python project's dependencies install, when it is one.
    pub python_install: PythonInstall,
}

/// What a Python project declares, and so how its workflow installs it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PythonInstall {
    /// A `pyproject.toml`, `setup.py` or `setup.cfg`: `pip install -e .` works.
    pub package: bool,
    /// A `requirements.txt`: `pip install -r requirements.txt`.
    pub requirements: bool,
}

impl PythonInstall {
    /// The `pip install` arguments that install the project and pytest with pytest-cov.
    pub fn pip_args(self) -> String {
        let mut args = Vec::new();
        if self.requirements {
            args.push("-r requirements.txt");
        }
        if self.package {
            args.push("-e .");
        }
        args.push("pytest pytest-cov");
        args.join(" ")
    }
}

/// Most bytes read of one workflow or manifest file.
const MAX_FILE: u64 = 1 << 20;

/// Looks at the repository at `root`.
pub fn detect(root: &Path) -> Detected {
    let has = |name: &str| root.join(name).is_file();
    let mut languages = Vec::new();
    let python_install = PythonInstall {
        package: ["pyproject.toml", "setup.py", "setup.cfg"]
            .iter()
            .any(|f| has(f)),
        requirements: has("requirements.txt"),
    };
    if python_install.package || python_install.requirements {
        languages.push(Language::Python);
    }
    if has("Cargo.toml") {
        languages.push(Language::Rust);
    }
    if has("package.json") {
        languages.push(Language::JavaScript);
    }
    let mut workflows = Vec::new();
    let mut existing = Vec::new();
    if let Ok(entries) = std::fs::read_dir(root.join(".github/workflows")) {
        let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for path in files {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !(name.ends_with(".yml") || name.ends_with(".yaml")) || name == "keel.yml" {
                continue;
            }
            workflows.push(name.to_owned());
            // A workflow over the limit is not read: it names nothing Keel could use.
            let text = read_limited(&path, MAX_FILE)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_default();
            for what in reports_written(&text) {
                existing.push(Existing {
                    workflow: name.to_owned(),
                    what,
                });
            }
        }
    }
    Detected {
        languages,
        workflows,
        existing,
        default_branch: default_branch(root),
        python_install,
    }
}

/// The reports a workflow's text shows it writes.
fn reports_written(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    if text.contains("--cov-report=xml") || text.contains("coverage xml") {
        found.push("coverage.xml (coverage.py)".to_owned());
    }
    if text.contains("llvm-cov") && text.contains("--lcov") {
        found.push("LCOV (cargo-llvm-cov)".to_owned());
    }
    if text.contains("nyc") || text.contains("--coverage") {
        found.push("LCOV (nyc/jest)".to_owned());
    }
    if text.contains(".sarif") || text.contains("--sarif") {
        found.push("SARIF".to_owned());
    }
    if text.contains("codeql-action/analyze") {
        found.push("CodeQL (code scanning)".to_owned());
    }
    found
}

/// `origin`'s default branch, else `main` or `master` where one exists (locally or at
/// `origin`), else the branch checked out, else `main`: run on a feature branch of a clone
/// without `origin/HEAD`, the baseline runs still go to the default branch.
fn default_branch(root: &Path) -> String {
    let git = |args: &[&str]| {
        git(root, args)
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let exists = |branch: &str| {
        [
            format!("refs/heads/{branch}"),
            format!("refs/remotes/origin/{branch}"),
        ]
        .iter()
        .any(|r| git(&["rev-parse", "--verify", "--quiet", r.as_str()]).is_some())
    };
    git(&["symbolic-ref", "--short", "refs/remotes/origin/HEAD"])
        .map(|b| b.trim_start_matches("origin/").to_owned())
        .or_else(|| {
            ["main", "master"]
                .into_iter()
                .find(|b| exists(b))
                .map(str::to_owned)
        })
        .or_else(|| git(&["symbolic-ref", "--short", "HEAD"]))
        .unwrap_or_else(|| "main".to_owned())
}
