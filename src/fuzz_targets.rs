//! The fuzz targets' bodies: every parser fed arbitrary bytes must return (an error at worst),
//! never panic, never exceed its limits. `fuzz/` drives these with libFuzzer; the seed corpora
//! run through them as ordinary tests (`tests/it/fuzz_seeds.rs`), so CI replays every seed and
//! every crash kept as a regression.

use keel_core::Limits;

/// Small limits, so the fuzzer explores the over-the-limit paths too.
fn limits() -> Limits {
    Limits {
        coverage_bytes: 1 << 20,
        sarif_bytes: 1 << 20,
        bench_bytes: 1 << 20,
        diff_bytes: 1 << 20,
        max_line_number: 1 << 16,
        max_coverage_lines: 1 << 16,
        max_findings: 10_000,
        ..Limits::DEFAULT
    }
}

/// LCOV.
pub fn lcov(data: &[u8]) {
    let _ = keel_core::report::lcov::parse_lcov("fuzz.info", data, &limits());
}

/// Cobertura XML.
pub fn cobertura(data: &[u8]) {
    let _ = keel_core::report::cobertura::parse_cobertura("fuzz.xml", data, &limits());
}

/// SARIF.
pub fn sarif(data: &[u8]) {
    let _ = keel_core::report::sarif::parse_sarif("fuzz.sarif", data, &limits());
}

/// Every benchmark format.
pub fn bench(data: &[u8]) {
    let _ = keel_core::report::bench::parse_bench("fuzz/bench", data, &limits());
}

/// Unified diffs, and one file's GitHub patch.
pub fn diff(data: &[u8]) {
    let _ = keel_core::diff::parse_diff("fuzz.diff", data, &limits());
    let _ = keel_core::diff::parse_file_patch(
        "a.rs",
        keel_core::diff::FileStatus::Modified,
        Some(data),
        &limits(),
    );
}

/// `keel.toml`, then an evaluation with no facts (the config must be usable once parsed).
pub fn config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(config) = keel_core::Config::parse("fuzz.toml", text)
    {
        let _ = keel_core::evaluate(&config, &keel_core::Facts::default());
    }
}

/// A webhook body as each event Keel reads.
pub fn webhook(data: &[u8]) {
    for event in crate::github::manifest::EVENTS.iter().copied().chain([
        "installation",
        "installation_repositories",
        "ping",
    ]) {
        let _ = crate::github::event::parse_event(event, data);
    }
}

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// Every target by name, for the seed-corpus test.
pub const TARGETS: &[(&str, Target)] = &[
    ("lcov", lcov),
    ("cobertura", cobertura),
    ("sarif", sarif),
    ("bench", bench),
    ("diff", diff),
    ("config", config),
    ("webhook", webhook),
];
