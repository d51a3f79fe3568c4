//! The `keel` binary: parses the command line, runs the command, maps errors to exit codes.

use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = <keel::cli::Cli as clap::Parser>::parse();
    match keel::cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(keel::cli::EXIT_ERROR)
        }
    }
}
