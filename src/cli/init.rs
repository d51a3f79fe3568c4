//! `keel init`: turns Keel on in a repository in one command. It looks at what is there
//! (languages, GitHub Actions workflows, the reports they already write) and writes a small
//! `.github/keel.toml` — advisory at first, every line explained — and the workflow that
//! uploads the reports the App reads. Nothing is overwritten without `--force`.

mod codecov;
mod detect;
mod files;

use super::{EXIT_ERROR, EXIT_OK};
use anyhow::Context;
use keel_core::Config;
use std::path::PathBuf;
use std::process::ExitCode;

/// `keel init` arguments.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The repository's root.
    #[arg(long, env = "KEEL_ROOT", default_value = ".")]
    pub root: PathBuf,
    /// Replace a `.github/keel.toml` or `.github/workflows/keel.yml` that is already there.
    #[arg(long)]
    pub force: bool,
    /// Print the files instead of writing them.
    #[arg(long)]
    pub dry_run: bool,
    /// Translate a `codecov.yml` (targets, thresholds, `ignore`) into the coverage criteria;
    /// without a path, the file is looked for where Codecov looks.
    #[arg(long, value_name = "PATH")]
    pub from_codecov: Option<Option<PathBuf>>,
}

/// Runs `keel init`: writes the files (or prints them) and says what it found and what to do
/// next.
pub fn run(args: &InitArgs) -> anyhow::Result<ExitCode> {
    let found = detect::detect(&args.root);
    let translation = match &args.from_codecov {
        None => None,
        Some(path) => match read_codecov(&args.root, path.as_deref()) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("{e}");
                return Ok(ExitCode::from(EXIT_ERROR));
            }
        },
    };
    let config = files::config(&found, translation.as_ref());
    // What Keel writes, Keel can read: a broken file here would lock the repository.
    Config::parse(".github/keel.toml", &config)
        .map_err(|e| anyhow::anyhow!("keel init wrote an invalid config (a bug): {e}"))?;
    let workflow = files::workflow(&found);
    let config_path = args.root.join(".github/keel.toml");
    let workflow_path = args
        .root
        .join(".github/workflows")
        .join(files::WORKFLOW_FILE);
    if args.dry_run {
        println!("# .github/keel.toml\n{config}");
        if let Some(w) = &workflow {
            println!("# .github/workflows/{}\n{w}", files::WORKFLOW_FILE);
        }
        return Ok(ExitCode::from(EXIT_OK));
    }
    let mut targets = vec![(&config_path, config.as_str())];
    if let Some(w) = &workflow {
        targets.push((&workflow_path, w.as_str()));
    }
    // A link is never written through: it could point anywhere outside the repository.
    if let Some((path, _)) = targets.iter().find(|(path, _)| {
        path.symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
    }) {
        eprintln!(
            "{} is a symbolic link: keel init writes only regular files inside the repository",
            path.display()
        );
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    if !args.force
        && let Some((path, _)) = targets.iter().find(|(path, _)| path.exists())
    {
        eprintln!(
            "{} is already there: keel init changes nothing (use --force to replace it, or \
             --dry-run to see what it would write)",
            path.display()
        );
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    for (path, text) in &targets {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true);
        if args.force {
            options.create(true).truncate(true);
        } else {
            options.create_new(true);
        }
        let mut file = options
            .open(path)
            .with_context(|| format!("write {}", path.display()))?;
        std::io::Write::write_all(&mut file, text.as_bytes())
            .with_context(|| format!("write {}", path.display()))?;
    }
    print!("{}", report(&found, workflow.is_some()));
    if let Some(t) = &translation {
        println!("From codecov.yml:");
        for line in &t.sources {
            println!("  translated: {line}");
        }
        for line in &t.untranslated {
            println!("  not translated: {line}");
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// The `codecov.yml` at `path` (relative to `root`), or where Codecov looks when `path` is
/// empty, translated.
fn read_codecov(
    root: &std::path::Path,
    path: Option<&std::path::Path>,
) -> anyhow::Result<codecov::Translation> {
    let file = if let Some(path) = path {
        root.join(path)
    } else {
        codecov::CANDIDATES
            .iter()
            .map(|c| root.join(c))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "--from-codecov: no codecov.yml in {} (looked for {})",
                    root.display(),
                    codecov::CANDIDATES.join(", ")
                )
            })?
    };
    let bytes = crate::reports::files::read_limited(&file, codecov::MAX_BYTES as u64)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{}: not UTF-8 text", file.display()))?;
    let yaml = codecov::read_yaml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    Ok(codecov::translate(&yaml))
}

/// What was found, what was written, and the next steps.
fn report(found: &detect::Detected, wrote_workflow: bool) -> String {
    let languages: Vec<&str> = found.languages.iter().map(|l| l.name()).collect();
    let mut s = format!(
        "Found: {}; workflows: {}; default branch: {}.\n",
        if languages.is_empty() {
            "no Python, Rust or JavaScript project".to_owned()
        } else {
            languages.join(", ")
        },
        if found.workflows.is_empty() {
            "none".to_owned()
        } else {
            found.workflows.join(", ")
        },
        found.default_branch
    );
    for e in &found.existing {
        s.push_str(&format!("  {} already writes {}\n", e.workflow, e.what));
    }
    s.push_str("Wrote .github/keel.toml (advisory: nothing blocks yet)");
    if wrote_workflow {
        s.push_str(&format!(
            " and .github/workflows/{} (tests with coverage, reports uploaded as `{}`)",
            files::WORKFLOW_FILE,
            files::ARTIFACT
        ));
    }
    s.push_str(".\n");
    if let Some(e) = found.existing.first() {
        s.push_str(&format!(
            "  {} already writes reports: instead of {}, you can add its upload step there and \
             set `[reports] workflow = \"{}\"`.\n",
            e.workflow,
            files::WORKFLOW_FILE,
            e.workflow
        ));
    }
    s.push_str(
        "Next:\n\
         \x20 1. `keel config validate` — then commit both files in one pull request: Keel's check\n\
         \x20    on it previews what this config says about that very change, and never blocks.\n\
         \x20 2. Merge it. From then on every pull request is judged by it.\n\
         \x20 3. When the team trusts what it says, make the check \"Keel · Definition of done\"\n\
         \x20    required (a branch ruleset, with the Keel App as its source), and remove\n\
         \x20    `level = \"advisory\"` from the criteria that should block.\n",
    );
    s
}
