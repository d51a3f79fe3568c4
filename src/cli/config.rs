//! `keel config validate | schema | reference`: check a config file (errors with file, line
//! and column), print its JSON Schema, or the configuration reference generated from it.

mod reference;

use super::{ConfigCommand, EXIT_ERROR, EXIT_OK};
use anyhow::Context;
use std::process::ExitCode;

pub use reference::reference;

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
