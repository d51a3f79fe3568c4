//! `keel config validate | schema | reference`: check a config file (errors with file, line
//! and column), print its JSON Schema, or the configuration reference generated from it.

mod org_reference;
mod reference;

use super::{EXIT_ERROR, EXIT_OK};
use anyhow::Context;
use keel_core::Config;
use keel_core::config::{Problem, ProblemKind};
use std::path::PathBuf;
use std::process::ExitCode;

pub use org_reference::org_reference;
pub use reference::reference;

/// `keel config` arguments.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// What to do with the config.
    #[command(subcommand)]
    pub command: ConfigCommand,
}

/// `keel config …`
#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Check a config file; errors show file, line and column.
    Validate {
        /// The config file.
        #[arg(default_value = ".github/keel.toml")]
        path: PathBuf,
        /// `text` for people; `json` for CI annotation tools (every problem with its line,
        /// column, severity and message).
        #[arg(long, value_enum, default_value = "text")]
        format: ValidateFormat,
    },
    /// Print the JSON Schema (draft-07) of the config, for editor completion.
    Schema,
    /// Print the configuration reference (markdown), generated from the config model.
    Reference,
    /// Print the organisation policy reference (markdown), generated from its model.
    OrgReference,
}

/// Runs a `keel config` command.
pub fn run(command: ConfigCommand) -> anyhow::Result<ExitCode> {
    match command {
        ConfigCommand::Validate { path, format } => validate(&path, format),
        ConfigCommand::Reference => {
            print!("{}", reference());
            Ok(ExitCode::from(EXIT_OK))
        }
        ConfigCommand::OrgReference => {
            print!("{}", org_reference());
            Ok(ExitCode::from(EXIT_OK))
        }
        ConfigCommand::Schema => {
            let schema = serde_json::to_string_pretty(&keel_core::Config::json_schema())
                .context("render the schema")?;
            println!("{schema}");
            Ok(ExitCode::from(EXIT_OK))
        }
    }
}

/// `keel config validate --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ValidateFormat {
    /// Each problem with file, line, column and the line itself, then a count.
    Text,
    /// `{"path", "valid", "problems": [{"severity", "path", "line", "column", "message"}]}`.
    Json,
}

/// Validates a config: every problem at once, in line order; exit 2 when any is an error.
/// The roadmap and debt item files it names are read and checked too.
fn validate(path: &std::path::Path, format: ValidateFormat) -> anyhow::Result<ExitCode> {
    if !path.exists() {
        eprintln!("{}", super::inputs::no_config(path));
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    let (label, text) = super::inputs::read_config(path)?;
    let mut problems = Config::validate(&label, &text);
    if problems.iter().all(|p| p.severity == ProblemKind::Warning)
        && let Ok(config) = Config::parse(&label, &text)
        && let Err(e) = super::inputs::with_item_files(config, path)
    {
        problems.push(Problem {
            severity: ProblemKind::Error,
            diagnostic: e.0,
        });
    }
    let errors = problems
        .iter()
        .filter(|p| p.severity == ProblemKind::Error)
        .count();
    match format {
        ValidateFormat::Json => {
            let out = serde_json::json!({
                "path": label,
                "valid": errors == 0,
                "problems": problems,
            });
            println!("{out:#}");
        }
        ValidateFormat::Text => print_problems(&label, &problems),
    }
    Ok(ExitCode::from(if errors == 0 {
        EXIT_OK
    } else {
        EXIT_ERROR
    }))
}

/// Each problem with its place and line, then the count (standard error; "valid" on standard
/// output when there is no error).
pub(super) fn print_problems(label: &str, problems: &[Problem]) {
    for p in problems {
        let word = match p.severity {
            ProblemKind::Error => "error",
            ProblemKind::Warning => "warning",
        };
        eprintln!("{word}: {}\n", p.diagnostic);
    }
    let errors = problems
        .iter()
        .filter(|p| p.severity == ProblemKind::Error)
        .count();
    let warnings = problems.len() - errors;
    if errors == 0 {
        println!("{label}: valid{}", count_words(0, warnings));
    } else {
        eprintln!(
            "{label}: invalid: {}",
            count_words(errors, warnings).trim_start_matches(", ")
        );
    }
}

/// `, 2 errors and 1 warning` (empty when there is nothing to count).
fn count_words(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, 0) => String::new(),
        (0, w) => format!(", {}", plural(w, "warning")),
        (e, 0) => format!(", {}", plural(e, "error")),
        (e, w) => format!(", {} and {}", plural(e, "error"), plural(w, "warning")),
    }
}
