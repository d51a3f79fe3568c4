use super::*;
use keel_core::Config;
use std::io::{Cursor, Write};
use zip::write::SimpleFileOptions;

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        zip.start_file(*name, SimpleFileOptions::default()).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn config(text: &str) -> Config {
    Config::parse("keel.toml", text).unwrap()
}

const ALL: &str = "[coverage]\nmin_total = 1\n[security]\nfail_on = \"high\"\n[performance]\n";
const LCOV: &[u8] = include_bytes!("../../../tests/fixtures/lcov/gcc-classic.info");
const SARIF: &[u8] = include_bytes!("../../../tests/fixtures/sarif/ruff.sarif");
const HYPERFINE: &[u8] = include_bytes!("../../../tests/fixtures/bench/hyperfine.json");

fn read(archive: &[u8], config: &Config) -> Result<Reports, ArtifactError> {
    read_reports(
        Cursor::new(archive),
        config,
        &Limits::DEFAULT,
        &ArtifactLimits::DEFAULT,
    )
}

#[test]
fn reports_are_found_at_their_default_paths() {
    let archive = zip_of(&[
        ("coverage/lcov.info", LCOV),
        ("ruff.sarif", SARIF),
        ("hyperfine.json", HYPERFINE),
        ("README.md", b"not a report"),
    ]);
    let reports = read(&archive, &config(ALL)).unwrap();
    let lines = reports.coverage.unwrap().totals().lines;
    // lcov --summary on the same file: 9 of 11 lines.
    assert_eq!((lines.covered, lines.coverable), (9, 11));
    assert_eq!(reports.findings.unwrap().len(), 9, "ruff's nine results");
    assert!(!reports.benchmarks.unwrap().is_empty());
}

#[test]
fn a_missing_report_is_said_only_for_what_a_criterion_that_is_on_judges() {
    let archive = zip_of(&[("lcov.info", LCOV)]);
    let kinds = |text: &str| -> Vec<ReportKind> {
        read(&archive, &config(text))
            .unwrap()
            .unmatched
            .into_iter()
            .map(|(kind, _)| kind)
            .collect()
    };
    // What `keel init` writes without a scanner: no "no SARIF log matched" note.
    let off = "[coverage]\nmin_total = 1\n[security]\nfail_on = { threshold = \"high\", level = \"off\" }\n";
    assert_eq!(kinds(off), []);
    let on = "[coverage]\nmin_total = 1\n[security]\nfail_on = \"high\"\n";
    assert_eq!(kinds(on), [ReportKind::Sarif]);
}

#[test]
fn configured_paths_win_and_unconfigured_kinds_are_not_read() {
    let archive = zip_of(&[("out/c.info", LCOV), ("ruff.sarif", SARIF)]);
    let reports = read(&archive, &config("[coverage]\npaths = [\"out/*.info\"]\n")).unwrap();
    assert!(reports.coverage.is_some());
    assert!(reports.findings.is_none(), "no [security]: SARIF not read");
    let none = read(&archive, &config("[coverage]\nmin_total = 1\n")).unwrap();
    assert!(none.coverage.is_none(), "out/c.info is not a default path");
}

#[test]
fn an_entry_that_climbs_out_refuses_the_archive() {
    for name in [
        "../../etc/cron.d/x",
        "/abs/lcov.info",
        "a/../../lcov.info",
        "C:/x",
    ] {
        let archive = zip_of(&[("lcov.info", LCOV), (name, b"x")]);
        let err = read(&archive, &config(ALL)).unwrap_err();
        assert!(
            matches!(err, ArtifactError::UnsafePath(ref n) if n == name),
            "{name}: {err}"
        );
    }
}

#[test]
fn a_zip_bomb_stops_at_the_decompression_budget() {
    // 21 MB of valid LCOV lines deflates to ~21 KB; the budget is 1 MiB.
    let mut zeros = b"SF:a.c\n".to_vec();
    zeros.extend(b"DA:1,1\n".repeat(3_000_000));
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let deflated =
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("lcov.info", deflated).unwrap();
    zip.write_all(&zeros).unwrap();
    let archive = zip.finish().unwrap().into_inner();
    assert!(archive.len() < 1 << 20, "{}", archive.len());
    let limits = ArtifactLimits {
        total_bytes: 1 << 20,
        ..ArtifactLimits::DEFAULT
    };
    let err = read_reports(
        Cursor::new(&archive),
        &config(ALL),
        &Limits::DEFAULT,
        &limits,
    )
    .unwrap_err();
    assert!(
        matches!(err, ArtifactError::Bomb { limit } if limit == 1 << 20),
        "{err}"
    );
}

#[test]
fn size_count_and_format_limits_give_clear_errors() {
    let archive = zip_of(&[("lcov.info", LCOV)]);
    let small = ArtifactLimits {
        archive_bytes: 10,
        ..ArtifactLimits::DEFAULT
    };
    let err = read_reports(
        Cursor::new(&archive),
        &config(ALL),
        &Limits::DEFAULT,
        &small,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("over the limit of 10 bytes"),
        "{err}"
    );
    let few = ArtifactLimits {
        entries: 1,
        ..ArtifactLimits::DEFAULT
    };
    let two = zip_of(&[("a", b"1"), ("b", b"2")]);
    let err = read_reports(Cursor::new(&two), &config(ALL), &Limits::DEFAULT, &few).unwrap_err();
    assert!(
        matches!(err, ArtifactError::TooManyEntries { count: 2, limit: 1 }),
        "{err}"
    );
    let err = read(b"PK\x03\x04 truncated", &config(ALL)).unwrap_err();
    assert!(matches!(err, ArtifactError::NotZip(_)), "{err}");
}

#[test]
fn a_broken_report_names_its_entry() {
    let archive = zip_of(&[("results.sarif", b"{\"version\": \"2.1.0\", \"runs\": 7}")]);
    let err = read(&archive, &config(ALL)).unwrap_err().to_string();
    assert!(err.contains("results.sarif"), "{err}");
}

#[test]
fn criterion_results_take_their_names_from_benchmark_json() {
    let archive = zip_of(&[
        (
            "criterion/parse/lcov/new/estimates.json",
            include_bytes!(
                "../../../tests/fixtures/bench/criterion/parse/sarif_49MB/new/estimates.json"
            ),
        ),
        (
            "criterion/parse/lcov/new/benchmark.json",
            br#"{"full_id":"parse/lcov/124MiB"}"#,
        ),
    ]);
    let reports = read(&archive, &config(ALL)).unwrap();
    let names: Vec<_> = reports
        .benchmarks
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["parse/lcov/124MiB"]);
}

#[test]
fn a_configured_path_matches_what_upload_artifact_kept_of_it() {
    // `actions/upload-artifact` with `path: coverage/lcov.info` stores `lcov.info`; with
    // `path: reports/sarif/`, `ruff.sarif`.
    let archive = zip_of(&[("lcov.info", LCOV), ("ruff.sarif", SARIF)]);
    let toml = "[coverage]\npaths = [\"coverage/lcov.info\"]\nmin_total = 1\n[security]\npaths = [\"reports/sarif/*.sarif\"]\nfail_on = \"high\"\n";
    let reports = read(&archive, &config(toml)).unwrap();
    let lines = reports.coverage.unwrap().totals().lines;
    assert_eq!((lines.covered, lines.coverable), (9, 11));
    assert_eq!(reports.findings.unwrap().len(), 9);
    assert!(reports.warnings.is_empty(), "{:?}", reports.warnings);
    // A glob in a dropped directory stops the shortening: `*/x.sarif` is not `x.sarif`.
    assert_eq!(literal_tails("a/b/*.info"), ["b/*.info", "*.info"]);
    assert_eq!(literal_tails("*/x.sarif"), Vec::<String>::new());
    assert_eq!(literal_tails("!gen/a.info"), ["!a.info"]);
}

#[test]
fn an_exact_match_wins_over_a_shortened_one() {
    let archive = zip_of(&[
        ("coverage/lcov.info", LCOV),
        ("lcov.info", b"not lcov at all"),
    ]);
    let toml = "[coverage]\npaths = [\"coverage/lcov.info\"]\nmin_total = 1\n";
    let reports = read(&archive, &config(toml)).unwrap();
    assert!(reports.coverage.is_some(), "only the exact entry is read");
}

#[test]
fn nothing_matched_says_what_the_artifact_holds() {
    let archive = zip_of(&[("out/coverage.json", b"{}"), ("log.txt", b"")]);
    let toml = "[coverage]\npaths = [\"coverage/lcov.info\"]\nmin_total = 1\n";
    let mut reports = read(&archive, &config(toml)).unwrap();
    assert!(reports.coverage.is_none());
    reports.settle();
    assert_eq!(
        reports.warnings,
        [
            "no coverage report in the artifact matched `coverage/lcov.info`; it holds `log.txt`, `out/coverage.json`"
        ]
    );
}
