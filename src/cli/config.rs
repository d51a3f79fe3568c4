//! `keel config validate | schema | reference`: check a config file (errors with file, line
//! and column), print its JSON Schema, or the configuration reference generated from it.

mod reference;

use super::{EXIT_ERROR, EXIT_OK};
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

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
    },
    /// Print the JSON Schema (draft-07) of the config, for editor completion.
    Schema,
    /// Print the configuration reference (markdown), generated from the config model.
    Reference,
}

/// Runs a `keel config` command.
pub fn run(command: ConfigCommand) -> anyhow::Result<ExitCode> {
    match command {
        ConfigCommand::Validate { path } => {
            let (_, text) = super::inputs::read_config(&path)?;
            match keel_core::Config::parse(&path.display().to_string(), &text)
                .and_then(|c| super::inputs::with_item_files(c, &path))
            {
                Ok(_) => {
                    println!("{}: valid", path.display());
                    Ok(ExitCode::from(EXIT_OK))
                }
                Err(e) => {
                    eprintln!("{e}");
                    Ok(ExitCode::from(EXIT_ERROR))
                }
            }
        }
        ConfigCommand::Reference => {
            print!("{}", reference());
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
