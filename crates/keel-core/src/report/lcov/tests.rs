use super::*;
use crate::report::coverage::{LineStatus, Ratio};
use proptest::prelude::*;
use std::io::Read;

fn parse(text: &str) -> CoverageReport {
    parse_lcov("t.info", text.as_bytes(), &Limits::DEFAULT).unwrap()
}

/// A reader that hands out one byte at a time, to cross every chunk boundary.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.0.split_first() {
            Some((b, rest)) if !buf.is_empty() => {
                buf[0] = *b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn gcc_classic_records_match_lcov_summary() {
    // `lcov --summary gcc-classic.info --rc lcov_branch_coverage=1` (gcc-classic.summary.txt):
    // lines 9 of 11, functions 2 of 3, branches 6 of 8.
    let r = parse(include_str!(
        "../../../../../tests/fixtures/lcov/gcc-classic.info"
    ));
    let t = r.totals();
    assert_eq!(t.lines, Ratio::new(9, 11));
    assert_eq!(t.functions, Some(Ratio::new(2, 3)));
    assert_eq!(t.branches, Some(Ratio::new(6, 8)));
    let summary = include_str!("../../../../../tests/fixtures/lcov/gcc-classic.summary.txt");
    assert!(summary.contains("(9 of 11 lines)") && summary.contains("(6 of 8 branches)"));
    let f = r.file("/tmp/gcov/gate.c").unwrap();
    assert_eq!(f.line(5), LineStatus::Missed);
    assert_eq!(f.line(4), LineStatus::Partial);
    assert_eq!(f.line(2), LineStatus::Covered);
    assert_eq!(f.line(6), LineStatus::NotCoverable);
}

#[test]
fn coverage_py_lcov2_records_match_its_own_totals() {
    // coverage.py's LF/LH/BRF/BRH: 32/27 lines and 18/12 branches; FN:start,end,name → 5 functions.
    let r = parse(include_str!(
        "../../../../../tests/fixtures/covdemo/coverage.lcov"
    ));
    let t = r.totals();
    assert_eq!(t.lines, Ratio::new(27, 32));
    assert_eq!(t.branches, Some(Ratio::new(12, 18)));
    assert_eq!(t.functions.map(|f| f.coverable), Some(5));
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
}

#[test]
fn istanbul_nyc_records_match_its_text_summary() {
    // nyc 17 text-summary: Lines 5/8, Branches 4/12, Functions 2/3.
    let r = parse(include_str!("../../../../../tests/fixtures/nyc/lcov.info"));
    let t = r.totals();
    assert_eq!(
        (t.lines, t.branches, t.functions),
        (
            Ratio::new(5, 8),
            Some(Ratio::new(4, 12)),
            Some(Ratio::new(2, 3))
        )
    );
}

#[test]
fn reading_a_byte_at_a_time_gives_the_same_report() {
    let text = include_str!("../../../../../tests/fixtures/covdemo/coverage.lcov");
    let reader = std::io::BufReader::with_capacity(1, Trickle(text.as_bytes()));
    let slow = parse_lcov("t", reader, &Limits::DEFAULT).unwrap();
    assert_eq!(slow.totals(), parse(text).totals());
}

#[test]
fn several_records_for_one_file_merge_line_by_line() {
    let r = parse(
        "SF:a.rs\nDA:1,0\nDA:2,1\nBRDA:2,0,0,1\nBRDA:2,0,1,0\nend_of_record\n\
         SF:a.rs\nDA:1,3\nDA:3,0\nBRDA:2,0,0,0\nBRDA:2,0,1,-\nend_of_record\n\
         SF:a.rs\nBRDA:2,0,0,0\nBRDA:2,0,1,2\nend_of_record\n",
    );
    let t = r.totals();
    assert_eq!(
        t.lines,
        Ratio::new(2, 3),
        "line 1 covered by the second record, 3 never"
    );
    assert_eq!(
        t.branches,
        Some(Ratio::new(2, 2)),
        "each branch taken by some record, counted once"
    );
}

#[test]
fn bad_lines_are_noted_and_the_rest_is_kept() {
    let r = parse(
        "SF:a.rs\nDA:x,1\nDA:2\nDA:3,1\nBRDA:3,0,0,abc\nDA:0,1\nLF:9\nLH:1\nend_of_record\nDA:5,1\n",
    );
    assert_eq!(r.totals().lines, Ratio::new(1, 1));
    let lines: Vec<u32> = r.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![2, 3, 5, 6, 1, 10]);
    assert!(r.diagnostics[4].message.contains("LF:9 LH:1"));
}

#[test]
fn negative_float_and_huge_counts_are_read() {
    let r = parse(
        "SF:a\nDA:1,-1\nDA:2,2.0\nDA:3,99999999999999999999999\nDA:4,5,abc123checksum\nend_of_record\n",
    );
    assert_eq!(r.totals().lines, Ratio::new(3, 4));
}

#[test]
fn a_file_without_records_is_an_error() {
    let err = parse_lcov("x", &b"{\"json\": true}\n"[..], &Limits::DEFAULT).unwrap_err();
    assert!(err.to_string().contains("no SF: record"), "{err}");
    assert!(
        parse_lcov("x", &b""[..], &Limits::DEFAULT)
            .unwrap_err()
            .to_string()
            .contains("empty")
    );
}

#[test]
fn an_sf_line_without_a_path_is_named_by_its_line() {
    let err = parse_lcov(
        "x",
        &b"TN:\nSF:\nDA:1,1\nend_of_record\n"[..],
        &Limits::DEFAULT,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("`SF:` with no path on line 2"), "{err}");
    let r = parse("SF:  \nDA:1,1\nend_of_record\nSF:a.rs\nDA:1,1\nend_of_record\n");
    assert_eq!(r.totals().lines, Ratio::new(1, 1));
    assert_eq!(
        r.diagnostics[0].message,
        "`SF:` with no path on line 1; its record is skipped"
    );
}

#[test]
fn a_byte_order_mark_is_ignored() {
    let text = "SF:a.rs\nDA:1,1\nDA:2,0\nend_of_record\n";
    let with_bom = format!("\u{feff}{text}");
    let r = parse(&with_bom);
    assert_eq!(r, parse(text));
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
}

#[test]
fn reports_over_the_size_limit_are_refused() {
    let limits = Limits {
        coverage_bytes: 16,
        ..Limits::DEFAULT
    };
    let err = parse_lcov("x", &b"SF:a\nDA:1,1\nDA:2,1\nend_of_record\n"[..], &limits).unwrap_err();
    assert!(
        matches!(err, ReportError::TooLarge { limit: 16, .. }),
        "{err}"
    );
}

#[test]
fn a_high_line_number_costs_memory_for_one_line_not_for_every_line_below_it() {
    // Security review H5: 512 records naming line 4,194,303 (18 KB) once took 512 MiB.
    let text: String = (0..512)
        .map(|i| format!("SF:f{i}\nDA:4194303,0\nend_of_record\n"))
        .collect();
    assert!(text.len() < 18_000);
    let r = parse(&text);
    assert_eq!(r.totals().lines, Ratio::new(0, 512));
    assert_eq!(r.files()[511].line(4_194_303), LineStatus::Missed);
    let bytes = r.heap_bytes();
    assert!(bytes < 1 << 20, "{bytes} bytes held for 512 listed lines");
}

#[test]
fn more_listed_lines_than_the_limit_are_refused_and_repeats_count_once() {
    let limits = Limits {
        max_coverage_lines: 3,
        ..Limits::DEFAULT
    };
    let repeated = "SF:a\nDA:3,1\nDA:2,1\nDA:1000000,0\nend_of_record\n".repeat(50);
    let r = parse_lcov("x", repeated.as_bytes(), &limits).unwrap();
    assert_eq!(r.totals().lines, Ratio::new(2, 3));
    let err = parse_lcov(
        "x",
        &b"SF:a\nDA:1,1\nDA:2,1\nSF:b\nDA:1,1\nDA:2,1\n"[..],
        &limits,
    )
    .unwrap_err();
    assert!(err.to_string().contains("more than 3 lines"), "{err}");
    let functions = "SF:a\nDA:1,1\nFN:1,f\nFN:2,g\nFN:3,h\nFNDA:1,f\nend_of_record\n";
    let err = parse_lcov("x", functions.as_bytes(), &limits).unwrap_err();
    assert!(
        err.to_string().contains("more than 3 lines"),
        "functions count too: {err}"
    );
}

#[test]
fn an_over_long_line_is_skipped_with_a_note() {
    let long = "X".repeat(3 << 20);
    let text = format!("SF:a\nDA:1,1\nTN:{long}\nDA:2,0\nend_of_record\n");
    let r = parse(&text);
    assert_eq!(r.totals().lines, Ratio::new(1, 2));
    assert!(
        r.diagnostics
            .iter()
            .any(|d| d.message.contains("longer than"))
    );
}

proptest! {
    #[test]
    fn any_buffer_size_gives_the_same_report(cap in 1usize..64) {
        let text = include_str!("../../../../../tests/fixtures/lcov/gcc-classic.info");
        let reader = std::io::BufReader::with_capacity(cap, text.as_bytes());
        let r = parse_lcov("t", reader, &Limits::DEFAULT).unwrap();
        prop_assert_eq!(r.totals(), parse(text).totals());
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = parse_lcov("fuzz", &bytes[..], &Limits::DEFAULT);
    }

    #[test]
    fn totals_equal_an_independent_count(records in proptest::collection::vec(
        (0u8..4, proptest::collection::btree_map(1u32..300, 0u64..3, 0..40)), 1..6)) {
        let mut text = String::new();
        let mut truth: std::collections::BTreeMap<(u8, u32), bool> = Default::default();
        for (file, lines) in &records {
            text.push_str(&format!("SF:f{file}\n"));
            for (line, hits) in lines {
                text.push_str(&format!("DA:{line},{hits}\n"));
                let e = truth.entry((*file, *line)).or_insert(false);
                *e |= *hits > 0;
            }
            text.push_str("end_of_record\n");
        }
        let r = parse(&text);
        let covered = truth.values().filter(|&&c| c).count() as u64;
        prop_assert_eq!(r.totals().lines, Ratio::new(covered, truth.len() as u64));
    }
}
