//! The two files `keel init` writes, every line explained: `.github/keel.toml` (advisory at
//! first) and `.github/workflows/keel.yml` (the tests with coverage, the reports uploaded as
//! the artifact the App reads).

use super::codecov::{self, Translation};
use super::detect::{Detected, Language};
use keel_core::config::SCHEMA_URL;

/// The workflow file `keel init` writes, under `.github/workflows/`.
pub const WORKFLOW_FILE: &str = "keel.yml";
/// The artifact the workflow uploads and the App reads (the config's default).
pub const ARTIFACT: &str = "keel-reports";

/// The report paths for `languages`, as the config names them (the workflow writes them in
/// the repository's root; in the artifact they sit at its root too).
pub fn coverage_paths(languages: &[Language]) -> Vec<&'static str> {
    let mut paths: Vec<&str> = languages
        .iter()
        .flat_map(|l| l.coverage().1)
        .copied()
        .collect();
    paths.dedup();
    paths
}

/// `.github/keel.toml`, with the coverage thresholds of a translated `codecov.yml` when given.
pub fn config(found: &Detected, from_codecov: Option<&Translation>) -> String {
    let mut s = format!(
        "#:schema {SCHEMA_URL}\n\
         # Keel's definition of done for this repository, written by `keel init`.\n\
         # Keel reads it from each pull request's BASE branch, so a pull request cannot weaken it.\n\
         # Advisory at first: every criterion warns and none blocks, so the team sees what Keel\n\
         # says before it counts. To enforce one, delete its `level = \"advisory\"`.\n\
         \n\
         # Start from Keel's recommended definition of done: nothing gets worse against the base\n\
         # branch (coverage does not drop, no new high-severity finding); new code is measured.\n\
         extends = \"keel:recommended\"\n\
         \n\
         [reports]\n"
    );
    if workflow(found).is_some() {
        s.push_str(&format!(
            "# The App reads the reports from the `{ARTIFACT}` artifact of this workflow's run\n\
             # (.github/workflows/{WORKFLOW_FILE}), for the pull request's head commit.\n\
             workflow = \"{WORKFLOW_FILE}\"\n"
        ));
    } else {
        // No workflow written: naming one would leave Keel waiting for runs that never come.
        s.push_str(&format!(
            "# No workflow was written: the App reads the `{ARTIFACT}` artifact of every run of\n\
             # the pull request's head commit. Name the workflow that uploads it here once there\n\
             # is one (`workflow = \"ci.yml\"`): Keel then waits for that one.\n"
        ));
    }
    s.push_str("\n[coverage]\n");
    if found.languages.is_empty() {
        s.push_str(
            "# No Python, Rust or JavaScript project found: coverage is off until a report is\n\
             # uploaded. Set `paths` and remove `level = \"off\"` then.\n\
             max_drop = { threshold = 0.5, level = \"off\" }\n\
             min_patch = { threshold = 80, level = \"off\" }\n",
        );
    } else {
        let tools: Vec<&str> = found.languages.iter().map(|l| l.coverage().0).collect();
        let paths: Vec<String> = coverage_paths(&found.languages)
            .iter()
            .map(|p| format!("\"{p}\""))
            .collect();
        s.push_str(&format!(
            "# Coverage reports: {}.\npaths = [{}]\n",
            tools.join(", "),
            paths.join(", ")
        ));
        s.push_str(&codecov::coverage_lines(
            from_codecov.unwrap_or(&Translation::default()),
        ));
    }
    s.push_str("\n[security]\n");
    if found.existing.iter().any(|e| e.what == "SARIF") {
        s.push_str(
            "# SARIF from the scanners CI already runs: no new finding at or above high severity.\n\
             paths = [\"**/*.sarif\"]\n\
             fail_on = { threshold = \"high\", level = \"advisory\" }\n",
        );
    } else {
        s.push_str(
            "# No scanner writes SARIF yet: off until one does (CodeQL, Semgrep, Trivy, ruff, …);\n\
             # then add its `*.sarif` to the artifact and remove `level = \"off\"`.\n\
             fail_on = { threshold = \"high\", level = \"off\" }\n",
        );
    }
    s.push_str(
        "\n[hygiene]\n\
         # Changes over 800 lines warn (lockfiles do not count): small changes are reviewed properly.\n\
         max_changed_lines = { threshold = 800, level = \"advisory\" }\n",
    );
    s
}

/// `.github/workflows/keel.yml`, or `None` when no language was found (nothing to measure).
pub fn workflow(found: &Detected) -> Option<String> {
    if found.languages.is_empty() {
        return None;
    }
    let mut s = format!(
        "# Written by `keel init`: runs the tests with coverage and uploads the reports as the\n\
         # artifact `{ARTIFACT}`, which the Keel App reads for each pull request. The runs on\n\
         # pushes to {branch} are the baselines later pull requests are compared against.\n\
         name: keel\n\
         on:\n\
         \x20 pull_request:\n\
         \x20 push:\n\
         \x20   branches: [\"{branch}\"]\n\
         permissions:\n\
         \x20 contents: read\n\
         jobs:\n\
         \x20 reports:\n\
         \x20   runs-on: ubuntu-latest\n\
         \x20   steps:\n\
         \x20     - uses: actions/checkout@v6\n",
        branch = found
            .default_branch
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
    );
    let python = format!(
        "      # Python: install the project with pytest and pytest-cov, then write coverage.xml.\n\
         \x20     - uses: actions/setup-python@v6\n\
         \x20       with:\n\
         \x20         python-version: \"3.12\"\n\
         \x20     - run: python -m pip install {}\n\
         \x20     - run: python -m pytest --cov --cov-report=xml\n",
        found.python_install.pip_args()
    );
    for language in &found.languages {
        s.push_str(match language {
            Language::Python => python.as_str(),
            Language::Rust => {
                "      # Rust: cargo-llvm-cov runs the tests and writes lcov.info.\n\
                 \x20     - uses: dtolnay/rust-toolchain@stable\n\
                 \x20       with:\n\
                 \x20         components: llvm-tools-preview\n\
                 \x20     - uses: taiki-e/install-action@cargo-llvm-cov\n\
                 \x20     - run: cargo llvm-cov --workspace --lcov --output-path lcov.info\n"
            }
            Language::JavaScript => {
                "      # JavaScript: nyc runs `npm test` and writes coverage/lcov.info.\n\
                 \x20     - uses: actions/setup-node@v6\n\
                 \x20       with:\n\
                 \x20         node-version: 20\n\
                 \x20     - run: npm ci\n\
                 \x20     - run: npx nyc --reporter=lcov npm test\n"
            }
        });
    }
    s.push_str(&format!(
        "      # The reports, as the artifact Keel reads (also when a test failed: Keel says which).\n\
         \x20     - uses: actions/upload-artifact@v6\n\
         \x20       if: always()\n\
         \x20       with:\n\
         \x20         name: {ARTIFACT}\n\
         \x20         path: |\n"
    ));
    // Where each tool writes (with one file, upload-artifact keeps only its name).
    for language in &found.languages {
        s.push_str(&format!("            {}\n", language.coverage().1[0]));
    }
    s.push_str("          if-no-files-found: warn\n");
    Some(s)
}
