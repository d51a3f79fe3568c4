//! The `keel` binary: parses the command line, runs the command, maps errors to exit codes.

use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    quiet_when_stdout_closes();
    let cli = <keel::cli::Cli as clap::Parser>::parse();
    match keel::cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(keel::cli::EXIT_ERROR)
        }
    }
}

/// `keel … | head`: once the reader has gone, printing fails (Rust ignores SIGPIPE) and
/// `println!` panics. Stop as a pipe's writer does instead — quietly, with 141 (128 + SIGPIPE),
/// which shells already read as "the reader went away"; any other panic is reported as usual.
fn quiet_when_stdout_closes() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        report(info);
    }));
}
